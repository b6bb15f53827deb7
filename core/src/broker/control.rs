//! Runtime controls of the cluster (faults, broker down/up, leader moves, producer-state
//! expiry, restarts) and the periodic faults of the [`FaultSpec`].
//!
//! Every control takes `now`, acts at once, and leaves its effects (closed connections, logs)
//! in the output queue for [`Cluster::poll_output`].

use super::cluster::Cluster;
use super::faults::FaultSpec;
use super::validator::ProducerStateTable;
use crate::proto::ErrorCode;
use crate::time::{Duration, Instant};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Why a control was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlError {
    /// No broker has this id.
    UnknownBroker(i32),
    /// The topic or partition does not exist.
    UnknownPartition {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
    },
    /// The broker is down (it cannot lead or restart).
    BrokerDown(i32),
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlError::UnknownBroker(id) => write!(f, "no broker with id {id}"),
            ControlError::UnknownPartition { topic, partition } => {
                write!(f, "no partition {partition} in topic `{topic}`")
            }
            ControlError::BrokerDown(id) => write!(f, "broker {id} is down"),
        }
    }
}

impl core::error::Error for ControlError {}

/// What a restarted broker knows of the producers of the partitions it leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartMode {
    /// Every producer's whole window of the last 5 batches is restored from a snapshot
    /// (Redpanda).
    KeepWindow,
    /// Only every producer's last batch is restored: Kafka's producer-state snapshot
    /// (`ProducerStateManager`) keeps one batch per producer, so resends of older batches of
    /// the window are refused with OUT_OF_ORDER_SEQUENCE_NUMBER after the restart.
    KeepLastBatch,
    /// Producer state is lost (no snapshot): every producer is unknown afterwards.
    LoseState,
}

/// How long a restarted broker answers its groups' requests COORDINATOR_LOAD_IN_PROGRESS.
const COORDINATOR_LOADING: Duration = Duration::from_millis(100);

impl Cluster {
    /// Replaces the injected faults; periodic faults are scheduled from `now`.
    pub fn set_faults(&mut self, now: Instant, faults: FaultSpec) {
        self.now = self.now.max(now);
        let now = self.now;
        self.timers.leader_move = faults.leader_move.map(|d| now + d);
        self.timers.bounce = faults.broker_bounce.map(|b| now + b.every);
        self.timers.expire = faults.expire.map(|d| now + expire_check_interval(d));
        self.timers.restart = faults.restart.map(|d| now + d);
        self.timers.restart_lossy = faults.restart_lossy.map(|d| now + d);
        self.timers.restart_snapshot = faults.restart_snapshot.map(|d| now + d);
        self.timers.coordinator_move = faults.coordinator_move.map(|d| now + d);
        if faults != self.faults {
            self.log(format!("faults set to `{faults}`"));
        }
        self.faults = faults;
        self.flush();
    }

    /// Takes broker `id` down: its connections close, new ones are refused, and the
    /// partitions it led move to live brokers (none left: leader -1). Idempotent.
    pub fn broker_down(&mut self, now: Instant, id: i32) -> Result<(), ControlError> {
        self.advance(now);
        self.take_down(id, None)?;
        self.flush();
        Ok(())
    }

    /// Brings broker `id` back; partitions without a leader get one. Leadership elsewhere
    /// stays where it is. Idempotent.
    pub fn broker_up(&mut self, now: Instant, id: i32) -> Result<(), ControlError> {
        self.advance(now);
        self.bring_up(id)?;
        self.flush();
        Ok(())
    }

    /// Moves a partition's leadership to broker `to` (or, with `None`, to another live broker
    /// chosen by the seeded generator); returns the new leader. The leader epoch increases even
    /// if the leader stays the same (only one broker live).
    pub fn move_leader(
        &mut self,
        now: Instant,
        topic: &str,
        partition: i32,
        to: Option<i32>,
    ) -> Result<i32, ControlError> {
        self.advance(now);
        let unknown = || ControlError::UnknownPartition { topic: String::from(topic), partition };
        let current = self.leader(topic, partition).ok_or_else(unknown)?;
        let target = match to {
            Some(id) => match self.broker(id) {
                None => return Err(ControlError::UnknownBroker(id)),
                Some(b) if !b.up => return Err(ControlError::BrokerDown(id)),
                Some(_) => id,
            },
            None => {
                let others: Vec<i32> = self.live_brokers().into_iter().filter(|b| *b != current).collect();
                if others.is_empty() {
                    current
                } else {
                    let i = self.rng.below(others.len() as u64) as usize;
                    others.get(i).copied().unwrap_or(current)
                }
            }
        };
        self.set_leader(topic, partition, target);
        self.flush();
        Ok(target)
    }

    /// Forgets producer `producer_id` on every partition (its next batch is from an unknown
    /// producer); returns on how many partitions it had state.
    pub fn forget_producer(&mut self, now: Instant, producer_id: i64) -> usize {
        self.advance(now);
        let n = self
            .topics
            .values_mut()
            .flat_map(|t| t.partitions.iter_mut())
            .map(|p| usize::from(p.producers.forget(producer_id)))
            .sum::<usize>();
        self.stats.producers_expired += n as u64;
        self.flush();
        n
    }

    /// Drops producer state idle for at least `idle` (`None`: all producer state) on every
    /// partition; returns how many entries were dropped.
    pub fn expire_producers(&mut self, now: Instant, idle: Option<Duration>) -> usize {
        self.advance(now);
        let n = self.expire_idle(idle);
        self.flush();
        n
    }

    /// Restarts broker `id`: its connections close; the producer state of the partitions it
    /// leads is either saved and restored through the validator's whole-window snapshot
    /// (`keep_state`) or lost. Logs and leadership stay.
    pub fn restart_broker(&mut self, now: Instant, id: i32, keep_state: bool) -> Result<(), ControlError> {
        let mode = if keep_state { RestartMode::KeepWindow } else { RestartMode::LoseState };
        self.restart_broker_as(now, id, mode)
    }

    /// Restarts broker `id` as `mode` says: its connections close; the producer state of the
    /// partitions it leads is restored from a whole-window or last-batch snapshot, or lost.
    /// Logs and leadership stay.
    pub fn restart_broker_as(&mut self, now: Instant, id: i32, mode: RestartMode) -> Result<(), ControlError> {
        self.advance(now);
        self.restart(id, mode)?;
        self.flush();
        Ok(())
    }

    pub(crate) fn take_down(&mut self, id: i32, up_at: Option<Instant>) -> Result<(), ControlError> {
        let b = self.brokers.iter_mut().find(|b| b.addr.node_id == id).ok_or(ControlError::UnknownBroker(id))?;
        let was_up = core::mem::replace(&mut b.up, false);
        b.up_at = up_at;
        if !was_up {
            return Ok(());
        }
        self.stats.broker_downs += 1;
        self.log(format!("broker {id} down"));
        self.close_broker_connections(id);
        let live = self.live_brokers();
        self.reassign(|leader| leader == id, &live);
        // Groups follow the live brokers: parked requests elsewhere may now be coordinated by
        // another broker.
        self.groups.fail_parked(ErrorCode::NOT_COORDINATOR);
        Ok(())
    }

    fn bring_up(&mut self, id: i32) -> Result<(), ControlError> {
        let b = self.brokers.iter_mut().find(|b| b.addr.node_id == id).ok_or(ControlError::UnknownBroker(id))?;
        b.up_at = None;
        if core::mem::replace(&mut b.up, true) {
            return Ok(());
        }
        self.log(format!("broker {id} up"));
        let live = self.live_brokers();
        self.reassign(|leader| leader < 0, &live);
        self.groups.fail_parked(ErrorCode::NOT_COORDINATOR);
        Ok(())
    }

    fn close_broker_connections(&mut self, id: i32) {
        let conns: Vec<_> = self.conns.iter().filter(|(_, c)| c.broker_id == id).map(|(k, _)| *k).collect();
        for c in conns {
            self.close(c, None);
        }
    }

    /// Gives every partition whose leader matches `which` a new leader, round-robin over
    /// `live` (-1 if empty).
    fn reassign(&mut self, which: impl Fn(i32) -> bool, live: &[i32]) {
        let mut i = 0usize;
        let mut moved = 0u64;
        for t in self.topics.values_mut() {
            for p in t.partitions.iter_mut().filter(|p| which(p.leader)) {
                p.leader = super::topics::pick(live, i);
                p.leader_epoch = p.leader_epoch.saturating_add(1);
                i += 1;
                moved += 1;
            }
        }
        self.stats.leader_moves += moved;
        self.fetch_dirty = true;
    }

    fn set_leader(&mut self, topic: &str, partition: i32, to: i32) {
        if let Some(p) = self.topics.get_mut(topic).and_then(|t| t.partition_mut(partition)) {
            p.leader = to;
            p.leader_epoch = p.leader_epoch.saturating_add(1);
            self.stats.leader_moves += 1;
            self.fetch_dirty = true;
            self.log(format!("{topic}-{partition}: leader is now broker {to}"));
        }
    }

    fn expire_idle(&mut self, idle: Option<Duration>) -> usize {
        let now = self.now;
        let mut n = 0;
        for p in self.topics.values_mut().flat_map(|t| t.partitions.iter_mut()) {
            let stale: Vec<i64> = p
                .producers
                .iter()
                .filter(|(_, e)| idle.is_none_or(|d| now.saturating_duration_since(e.last_update()) >= d))
                .map(|(id, _)| id)
                .collect();
            for id in stale {
                n += usize::from(p.producers.forget(id));
            }
        }
        self.stats.producers_expired += n as u64;
        n
    }

    fn restart(&mut self, id: i32, mode: RestartMode) -> Result<(), ControlError> {
        match self.broker(id) {
            None => return Err(ControlError::UnknownBroker(id)),
            Some(b) if !b.up => return Err(ControlError::BrokerDown(id)),
            Some(_) => {}
        }
        self.stats.restarts += 1;
        self.close_broker_connections(id);
        // A restarted coordinator reads `__consumer_offsets` again before it answers.
        self.groups.placement.set_loading(id, self.now + COORDINATOR_LOADING);
        let config = self.validator_config();
        let mut lost = 0;
        let mut failures = Vec::new();
        for (name, t) in self.topics.iter_mut() {
            for (i, p) in t.partitions.iter_mut().enumerate().filter(|(_, p)| p.leader == id) {
                let snapshot = match mode {
                    RestartMode::KeepWindow => p.producers.snapshot(),
                    RestartMode::KeepLastBatch => p.producers.snapshot_last_batch(),
                    RestartMode::LoseState => {
                        lost += p.producers.len();
                        p.producers = ProducerStateTable::new(config);
                        continue;
                    }
                };
                match ProducerStateTable::restore(&snapshot, config) {
                    Ok(table) => p.producers = table,
                    Err(e) => failures.push(format!("{name}-{i}: producer state snapshot did not restore: {e}")),
                }
            }
        }
        self.stats.producers_expired += lost as u64;
        let how = match mode {
            RestartMode::KeepWindow => "with producer state",
            RestartMode::KeepLastBatch => "with each producer's last batch",
            RestartMode::LoseState => "without producer state",
        };
        self.log(format!("broker {id} restarted {how}"));
        for f in failures {
            self.log(f);
        }
        Ok(())
    }

    /// Fires every periodic fault that is due at `self.now`.
    pub(crate) fn run_periodic_faults(&mut self) {
        let now = self.now;
        let due: Vec<i32> =
            self.brokers.iter().filter(|b| b.up_at.is_some_and(|t| t <= now)).map(|b| b.addr.node_id).collect();
        for id in due {
            let _ = self.bring_up(id);
        }
        let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        if let Some(every) = self.faults.coordinator_move.filter(|_| due(self.timers.coordinator_move)) {
            self.timers.coordinator_move = Some(now + every);
            self.groups.move_coordinators();
            self.stats.coordinator_moves += 1;
            self.log(format!("consumer group coordinators moved ({} groups)", self.groups.group_count()));
        }
        if let Some(every) = self.faults.leader_move.filter(|_| due(self.timers.leader_move)) {
            self.timers.leader_move = Some(now + every);
            self.random_leader_move();
        }
        if let Some(b) = self.faults.broker_bounce.filter(|_| due(self.timers.bounce)) {
            self.timers.bounce = Some(now + b.every);
            if let Some(id) = self.random_live_broker(2) {
                let _ = self.take_down(id, Some(now + b.down_for));
            }
        }
        if let Some(idle) = self.faults.expire.filter(|_| due(self.timers.expire)) {
            self.timers.expire = Some(now + expire_check_interval(idle));
            let n = self.expire_idle(Some(idle));
            if n > 0 {
                self.log(format!("expired {n} idle producer state entries"));
            }
        }
        let restarts = [
            (self.faults.restart, &mut self.timers.restart, RestartMode::KeepWindow),
            (self.faults.restart_lossy, &mut self.timers.restart_lossy, RestartMode::LoseState),
            (self.faults.restart_snapshot, &mut self.timers.restart_snapshot, RestartMode::KeepLastBatch),
        ];
        let mut due_restarts = heapless::Vec::<RestartMode, 3>::new();
        for (every, timer, mode) in restarts {
            if let Some(every) = every.filter(|_| timer.is_some_and(|t| t <= now)) {
                *timer = Some(now + every);
                let _ = due_restarts.push(mode);
            }
        }
        for mode in due_restarts {
            if let Some(id) = self.random_live_broker(1) {
                let _ = self.restart(id, mode);
            }
        }
    }

    /// A random live broker, if at least `min_live` are live.
    fn random_live_broker(&mut self, min_live: usize) -> Option<i32> {
        let live = self.live_brokers();
        if live.len() < min_live {
            return None;
        }
        let i = self.rng.below(live.len() as u64) as usize;
        live.get(i).copied()
    }

    fn random_leader_move(&mut self) {
        let all: Vec<(String, i32, i32)> = self
            .topics
            .iter()
            .flat_map(|(n, t)| t.partitions.iter().enumerate().map(move |(i, p)| (n.clone(), i as i32, p.leader)))
            .collect();
        if all.is_empty() {
            return;
        }
        let pick = self.rng.below(all.len() as u64) as usize;
        let Some((topic, partition, current)) = all.get(pick).cloned() else { return };
        let others: Vec<i32> = self.live_brokers().into_iter().filter(|b| *b != current).collect();
        if others.is_empty() {
            return;
        }
        let i = self.rng.below(others.len() as u64) as usize;
        if let Some(to) = others.get(i).copied() {
            self.set_leader(&topic, partition, to);
        }
    }
}

/// How often idle producer state is looked for: a quarter of the expiration, at least 1 ms.
fn expire_check_interval(expiration: Duration) -> Duration {
    Duration::from_micros((expiration.as_micros() / 4).max(1_000))
}
