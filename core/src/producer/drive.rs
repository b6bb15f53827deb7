//! The drive loop: everything that is due at `now`, in a fixed order (timed-out requests,
//! delivery timeouts, waiting records, epoch bumps, metadata, producer id, sealing, Produce
//! requests, connections), then the timer table from what is left. Every input that changes
//! something ends here, so the outputs it queued are complete when `poll_output` drains them.

use alloc::vec::Vec;

use super::Producer;
use super::idempotence::PidState;
use super::partition::SendState;
use super::report::DeliveryError;
use super::timer::{TimerKind, Timers};
use crate::time::Instant;

impl Producer {
    /// Does everything that is due at `now`.
    pub(super) fn drive(&mut self, now: Instant) {
        self.now = self.now.max(now);
        let now = self.now;
        if self.finished {
            return;
        }
        for id in self.conns.timed_out(now) {
            self.drop_conn(id, true);
        }
        self.expire(now);
        self.route_pending(now);
        if self.finished {
            return;
        }
        let idempotent = self.config.enable_idempotence;
        if idempotent && self.topics.iter().any(|t| t.partitions.iter().any(|p| p.needs_bump)) {
            self.pid.request_bump();
        }
        if self
            .topics
            .iter()
            .enumerate()
            .any(|(t, ts)| ts.partitions.iter().any(|p| p.has_data() && self.metadata.leader(t, p.partition).is_none()))
        {
            self.metadata.request_refresh();
        }
        self.send_metadata(now);
        if idempotent && !self.topics.is_empty() {
            // Lazily, once there is something to send (as the Java client).
            self.advance_producer_id(now);
        }
        // After the producer id step: a bump just adopted frees every partition.
        self.seal_due(now);
        self.send_produce(now);
        self.connect_leaders(now);
        if self.closing && !self.has_pending() {
            self.finish();
            return;
        }
        self.recompute_timers(now);
    }

    /// Fails what `delivery.timeout.ms` has run out for: batches (closing the connection of one
    /// whose request is still unanswered) and waiting records.
    fn expire(&mut self, now: Instant) {
        let timeout = self.config.delivery_timeout;
        let idempotent = self.config.enable_idempotence;
        let retries = self.config.retries;
        let mut close = Vec::new();
        self.for_each_partition(|part, sink| {
            if let Some(c) = part.expire(now, timeout, retries, idempotent, &mut |c| sink(c)) {
                close.push(c);
            }
        });
        for c in close {
            // The timed-out batch was reported possibly persisted: its request must not resolve
            // later, so the connection goes (librdkafka does the same).
            self.drop_conn(c, true);
        }
        if let Some(cutoff) = now.as_micros().checked_sub(timeout.as_micros()) {
            self.fail_pending(DeliveryError::Timeout, Some(Instant::from_micros(cutoff)));
        }
    }

    /// Sets every timer from the state left by a pass of the drive loop, and the in-flight and
    /// buffered gauges.
    fn recompute_timers(&mut self, now: Instant) {
        let mut t = Timers::default();
        let future = |x: Instant| (x > now).then_some(x);
        let (linger, dt) = (self.config.linger, self.config.delivery_timeout);
        let window = self.config.window();
        let mut in_flight = 0u64;
        for ts in &self.topics {
            if let Some(accepted) = ts.pending.oldest_accepted() {
                t.lower(TimerKind::Delivery, accepted + dt);
            }
            for p in &ts.partitions {
                in_flight += p.in_flight as u64;
                if let Some(o) = &p.open {
                    // A lingered batch waiting for its partition is sealed by the event that
                    // frees the partition, not by a timer; if the partition was freed after
                    // `seal_due` ran (a backoff ending with nothing to resend), it is due now.
                    match future(o.created + linger) {
                        Some(at) => t.lower(TimerKind::Linger, at),
                        None if p.ready_for_new_batch(window) => t.lower(TimerKind::Linger, now),
                        None => {}
                    }
                    t.lower(TimerKind::Delivery, o.created + dt);
                }
                if let Some(b) = p.window.front() {
                    t.lower(TimerKind::Delivery, b.created + dt);
                }
                if let Some(b) = p.queue.front() {
                    t.lower(TimerKind::Delivery, b.created + dt);
                }
                if let SendState::Backoff { until } = p.state {
                    if let Some(u) = future(until) {
                        t.lower(TimerKind::Retry, u);
                    }
                }
            }
        }
        t.set(TimerKind::Request, self.conns.next_deadline());
        t.set(TimerKind::Metadata, self.metadata.next_deadline().and_then(future));
        if self.pid.state == PidState::Needed {
            t.set(TimerKind::ProducerId, self.pid.retry_at.and_then(future));
        }
        t.set(TimerKind::Reconnect, self.conns.next_reconnect(now));
        self.timers = t;
        self.metrics.in_flight = in_flight;
        self.metrics.buffered_bytes = self.acc.used() as u64;
    }
}
