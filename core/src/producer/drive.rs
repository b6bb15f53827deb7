//! The drive loop: everything that is due at `now`, in a fixed order (timed-out requests,
//! delivery timeouts, waiting records, epoch bumps, metadata, producer id, sealing, Produce
//! requests, connections), then the timer table from what is left. Every input that changes
//! something ends here, so the outputs it queued are complete when `poll_output` drains them.
//!
//! A pass looks only at the partitions on the agenda (`agenda.rs`): those changed since the
//! last pass and those with a deadline due, or every partition after a rare event. What it
//! leaves behind (deadlines, send lists, connection wants) is registered for the partitions it
//! looked at; debug builds check after every pass that this equals what a scan of every
//! partition gives.

use alloc::vec::Vec;

use super::Producer;
use super::agenda::{Agenda, PartKey};
use super::conn::TimedOut;
use super::diagnostic::CloseReason;
use super::idempotence::PidState;
use super::outcome::Collected;
use super::partition::PartitionState;
use super::report::DeliveryError;
use super::timer::{PARTITION_TIMERS, TimerKind, Timers};
use super::topics::TopicState;
use super::transaction::Membership;
use crate::time::Instant;

impl<T> Producer<T> {
    /// Does everything that is due at `now`.
    pub(super) fn drive(&mut self, now: Instant) {
        self.now = self.now.max(now);
        let now = self.now;
        if self.finished {
            return;
        }
        for (id, what) in self.conns.timed_out(now) {
            let reason = match what {
                TimedOut::Connect => CloseReason::ConnectTimeout(self.config.connection_setup_timeout),
                TimedOut::Request(api, correlation_id) => {
                    CloseReason::RequestTimeout { api, correlation_id, timeout: self.config.request_timeout }
                }
            };
            self.drop_conn(id, reason);
        }
        self.reauthenticate_due(now);
        self.agenda.list_due(now, self.topics.as_mut_slice());
        self.expire(now);
        self.route_pending(now);
        if self.finished {
            return;
        }
        let idempotent = self.config.enable_idempotence;
        let (mut bump, mut leaderless) = (None, false);
        self.walk(|this, key| {
            let Some(part) = part_of(&mut this.topics, key) else { return };
            if part.needs_bump && bump.is_none() {
                bump = Some((key, part.bump_reason));
            }
            leaderless |= part.has_data() && this.metadata.leader(key.t(), part.partition).is_none();
        });
        if let (true, Some((key, reason))) = (idempotent, bump) {
            self.request_bump(key, reason);
        }
        if leaderless {
            self.metadata.request_refresh();
        }
        self.send_metadata(now);
        if self.txn.is_some() {
            // The coordinator gives the identity (`init_transactions`) and the bumps.
            self.advance_transaction(now);
            if self.finished {
                return;
            }
        } else if idempotent && !self.topics.is_empty() {
            // Lazily, once there is something to send (as the Java client).
            self.advance_producer_id(now);
        }
        // After the producer id step: a bump just adopted frees every partition.
        self.seal_due(now);
        self.fill_send_lists(now);
        self.send_produce(now);
        self.register_listed(now);
        self.connect_leaders(now);
        if self.closing && !self.has_pending() {
            self.finish();
            return;
        }
        self.recompute_timers(now);
        self.agenda.end_pass(self.topics.as_mut_slice());
        #[cfg(debug_assertions)]
        self.check_agenda(now);
    }

    /// Calls `f` on every partition this pass looks at, in (topic, partition) order: the listed
    /// ones, or all of them.
    pub(super) fn walk(&mut self, mut f: impl FnMut(&mut Self, PartKey)) {
        if self.agenda.all() {
            for t in 0..self.topics.len() {
                for p in 0..self.topics[t].partitions.len() {
                    f(self, PartKey::new(t, p));
                }
            }
        } else {
            let list = self.agenda.begin_walk();
            for &key in &list {
                f(self, key);
            }
            self.agenda.end_walk(list);
        }
    }

    /// Lists partition `key` for this pass (or the next, between passes).
    pub(super) fn list(&mut self, key: PartKey) {
        self.agenda.list(key, self.topics.as_mut_slice());
    }

    /// Fails what `delivery.timeout.ms` has run out for: batches (closing the connection of one
    /// whose request is still unanswered) and waiting records.
    fn expire(&mut self, now: Instant) {
        let timeout = self.config.delivery_timeout;
        let idempotent = self.config.enable_idempotence;
        let retries = self.config.retries;
        let mut close = Vec::new();
        let mut done = Collected::default();
        self.walk(|this, key| {
            let Some(part) = part_of(&mut this.topics, key) else { return };
            let p = part.partition;
            if let Some(c) = part.expire(now, timeout, retries, idempotent, &mut done.sink(key, p)) {
                close.push(c);
            }
        });
        self.report(done);
        for c in close {
            // The timed-out batch was reported possibly persisted: its request must not resolve
            // later, so the connection goes (librdkafka does the same).
            self.drop_conn(c, CloseReason::DeliveryTimeout);
        }
        if let Some(cutoff) = now.as_micros().checked_sub(timeout.as_micros()) {
            self.fail_pending(DeliveryError::Timeout, Some(Instant::from_micros(cutoff)));
        }
    }

    /// Puts every partition this pass looks at that may have a batch to send on its leader's
    /// send list (Produce requests are filled from those lists).
    fn fill_send_lists(&mut self, now: Instant) {
        let window = self.config.window();
        let hold = self.hold();
        self.walk(|this, key| {
            let Some(part) = part_of(&mut this.topics, key) else { return };
            let leader = this.metadata.leader(key.t(), part.partition);
            offer_to_send_list(&mut this.agenda, key, part, leader, now, window, hold);
        });
    }

    /// Registers, for every partition this pass looked at, what the next passes need: its
    /// deadlines, its place on its leader's send list, whether it wants a connection to its
    /// leader, and its batches in flight.
    fn register_listed(&mut self, now: Instant) {
        let (linger, dt) = (self.config.linger, self.config.delivery_timeout);
        let window = self.config.window();
        let hold = self.hold();
        self.walk(|this, key| {
            let Some(part) = part_of(&mut this.topics, key) else { return };
            let agenda = &mut this.agenda;
            let deadlines = [
                (TimerKind::Linger, part.linger_deadline(now, linger, window)),
                (TimerKind::Delivery, part.oldest_created().map(|c| c + dt)),
                (TimerKind::Retry, part.retry_deadline(now)),
            ];
            for (kind, at) in deadlines {
                agenda.set_deadline(key, &mut part.marks, kind, at);
            }
            let leader = this.metadata.leader(key.t(), part.partition);
            offer_to_send_list(agenda, key, part, leader, now, window, hold);
            let wants = part.wants_to_send(now, window, false) || part.open.is_some();
            agenda.set_wants_conn(&mut part.marks, leader.filter(|_| wants));
            if part.open.is_some() && !part.marks.open {
                part.marks.open = true;
                agenda.open.push(key);
            }
            agenda.count_in_flight(&mut part.marks, part.in_flight);
        });
    }

    /// Sets every timer from the state left by a pass of the drive loop, and the in-flight and
    /// buffered gauges.
    fn recompute_timers(&mut self, now: Instant) {
        let mut t = Timers::default();
        let future = |x: Instant| (x > now).then_some(x);
        let dt = self.config.delivery_timeout;
        for ts in &self.topics {
            if let Some(accepted) = ts.pending.oldest_accepted() {
                t.lower(TimerKind::Delivery, accepted + dt);
            }
        }
        let table = self.topics.as_mut_slice();
        for kind in PARTITION_TIMERS {
            if let Some(at) = self.agenda.earliest(kind, table) {
                t.lower(kind, at);
            }
        }
        t.set(TimerKind::Request, self.conns.next_deadline());
        t.set(TimerKind::Metadata, self.metadata.next_deadline().and_then(future));
        if self.pid.state == PidState::Needed {
            t.set(TimerKind::ProducerId, self.pid.retry_at.and_then(future));
        }
        t.set(TimerKind::Reconnect, self.conns.next_reconnect(now));
        t.set(TimerKind::Transaction, self.txn.as_ref().and_then(|x| x.retry_at).and_then(future));
        self.timers = t;
        self.metrics.in_flight = self.agenda.in_flight;
        self.metrics.buffered_bytes = self.acc.used() as u64;
    }

    /// Debug builds: what the agenda left equals what a scan of every partition gives (the
    /// linger, delivery and retry timers, the send lists, the connection wants, the in-flight
    /// total), and the listed marks agree with the list.
    #[cfg(debug_assertions)]
    fn check_agenda(&mut self, now: Instant) {
        let (linger, dt) = (self.config.linger, self.config.delivery_timeout);
        let window = self.config.window();
        let hold = self.hold();
        let mut t = Timers::default();
        let mut in_flight = 0u64;
        let mut wanted: Vec<(i32, usize)> = Vec::new();
        self.agenda.check_send_lists(self.topics.as_mut_slice());
        for (ti, ts) in self.topics.iter().enumerate() {
            if let Some(accepted) = ts.pending.oldest_accepted() {
                t.lower(TimerKind::Delivery, accepted + dt);
            }
            for (pi, p) in ts.partitions.iter().enumerate() {
                let key = PartKey::new(ti, pi);
                assert_eq!(p.marks.listed, self.agenda.is_listed(key), "{key:?}: listed mark and list disagree");
                in_flight += p.in_flight as u64;
                if p.open.is_some() {
                    assert!(p.marks.open && self.agenda.open.contains(&key), "{key:?} has an open batch off the list");
                }
                if let Some(at) = p.linger_deadline(now, linger, window) {
                    t.lower(TimerKind::Linger, at);
                }
                if let Some(c) = p.oldest_created() {
                    t.lower(TimerKind::Delivery, c + dt);
                }
                if let Some(u) = p.retry_deadline(now) {
                    t.lower(TimerKind::Retry, u);
                }
                let leader = self.metadata.leader(ti, p.partition);
                if let Some(node) = leader {
                    if p.may_send(now, window, hold.of(p)) {
                        assert!(self.agenda.on_send_list(node, key), "{key:?} may send but is not on {node}'s list");
                    }
                    if p.wants_to_send(now, window, false) || p.open.is_some() {
                        match wanted.iter_mut().find(|(n, _)| *n == node) {
                            Some((_, c)) => *c += 1,
                            None => wanted.push((node, 1)),
                        }
                    }
                }
            }
        }
        for kind in PARTITION_TIMERS {
            assert_eq!(self.timers.get(kind), t.get(kind), "{kind:?} timer differs from a full scan");
        }
        assert_eq!(self.agenda.in_flight, in_flight, "in-flight total differs from a full scan");
        for &(node, count) in &wanted {
            assert_eq!(self.agenda.wanted_count(node), count, "connection wants of {node} differ from a full scan");
        }
        for node in self.agenda.wanted_nodes() {
            assert!(wanted.iter().any(|(n, _)| *n == node), "{node} counted as wanted, but no partition wants it");
        }
    }
}

/// Puts partition `key` on its leader's send list if it may send now.
fn offer_to_send_list<T>(
    agenda: &mut Agenda,
    key: PartKey,
    part: &mut PartitionState<T>,
    leader: Option<i32>,
    now: Instant,
    window: usize,
    hold: Hold,
) {
    if let Some(node) = leader.filter(|_| part.may_send(now, window, hold.of(part))) {
        agenda.add_to_send_list(key, &mut part.marks, node);
    }
}

/// Which partitions may not start new batches (only resend, in order, what can still resolve
/// an unknown outcome): all of them while a new producer identity is pending or a transaction is
/// being aborted, and a transactional producer's partitions not (yet) in the transaction.
#[derive(Clone, Copy, Debug)]
pub(super) struct Hold {
    /// Every partition.
    all: bool,
    /// Partitions outside the transaction.
    outside_txn: bool,
}

impl Hold {
    /// Whether `part` is held.
    pub(super) fn of<T>(self, part: &PartitionState<T>) -> bool {
        self.all || (self.outside_txn && part.txn != Membership::In)
    }
}

impl<T> Producer<T> {
    /// What holds partitions back this pass.
    pub(super) fn hold(&self) -> Hold {
        let draining = self.config.enable_idempotence && !self.pid.is_ready();
        Hold { all: draining || self.txn.as_ref().is_some_and(|t| t.holds_all()), outside_txn: self.txn.is_some() }
    }
}

/// Partition `key` of `topics`.
pub(super) fn part_of<T>(topics: &mut [TopicState<T>], key: PartKey) -> Option<&mut PartitionState<T>> {
    topics.get_mut(key.t())?.partitions.get_mut(key.p())
}
