//! Which broker coordinates a group, and the faults the lead injects there.
//!
//! Kafka stores a group in partition `abs(groupId.hashCode()) % offsets.topic.num.partitions`
//! of `__consumer_offsets`, and that partition's leader coordinates it. Here the partition is
//! mapped onto the live brokers in broker order, shifted by the number of coordinator moves.

use crate::proto::ErrorCode;
use crate::time::Instant;
use alloc::collections::BTreeMap;

/// Kafka's default `offsets.topic.num.partitions`.
pub(crate) const OFFSETS_TOPIC_PARTITIONS: i32 = 50;

/// Java's `String.hashCode()`: `h = 31 * h + c` over the UTF-16 code units, wrapping.
pub(crate) fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The `__consumer_offsets` partition of `group_id` among `partitions` (Kafka's
/// `partitionFor`, with `Utils.abs`: `i32::MIN` counts as 0). 0 when `partitions` < 1.
pub(crate) fn offsets_partition(group_id: &str, partitions: i32) -> i32 {
    if partitions < 1 {
        return 0;
    }
    let h = java_string_hash(group_id);
    let abs = if h == i32::MIN { 0 } else { h.abs() };
    abs % partitions
}

/// Where groups are coordinated, with the coordinator faults: moves and loading windows.
#[derive(Clone, Debug)]
pub(crate) struct Placement {
    /// `offsets.topic.num.partitions`.
    partitions: i32,
    /// How many times the coordinators moved (each move shifts every group to the next broker).
    moves: u64,
    /// Brokers that answer COORDINATOR_LOAD_IN_PROGRESS until the given time.
    loading: BTreeMap<i32, Instant>,
}

impl Default for Placement {
    fn default() -> Self {
        Placement::new(OFFSETS_TOPIC_PARTITIONS)
    }
}

impl Placement {
    /// A placement over `partitions` offsets partitions (at least 1).
    pub(crate) fn new(partitions: i32) -> Self {
        Placement { partitions: partitions.max(1), moves: 0, loading: BTreeMap::new() }
    }

    /// The broker coordinating `group_id` among `live_brokers` (ids in broker order), `None`
    /// when none is up: the offsets partition, plus the moves so far, modulo their number.
    pub(crate) fn coordinator(&self, group_id: &str, live_brokers: &[i32]) -> Option<i32> {
        let n = live_brokers.len() as u64;
        if n == 0 {
            return None;
        }
        let p = offsets_partition(group_id, self.partitions) as u64;
        let i = (p % n + self.moves % n) % n;
        live_brokers.get(i as usize).copied()
    }

    /// Whether `broker_id` may serve a request of `group_id` at `now`: NOT_COORDINATOR if
    /// another broker coordinates it (COORDINATOR_NOT_AVAILABLE if none is up),
    /// COORDINATOR_LOAD_IN_PROGRESS while the broker is loading.
    pub(crate) fn check(&self, now: Instant, broker_id: i32, group_id: &str, live_brokers: &[i32]) -> ErrorCode {
        match self.coordinator(group_id, live_brokers) {
            None => ErrorCode::COORDINATOR_NOT_AVAILABLE,
            Some(b) if b != broker_id => ErrorCode::NOT_COORDINATOR,
            Some(_) if self.loading.get(&broker_id).is_some_and(|until| *until > now) => {
                ErrorCode::COORDINATOR_LOAD_IN_PROGRESS
            }
            Some(_) => ErrorCode::NONE,
        }
    }

    /// Moves every group's coordinator to the next live broker (a fault).
    pub(crate) fn move_coordinators(&mut self) {
        self.moves = self.moves.wrapping_add(1);
    }

    /// Makes `broker_id` answer COORDINATOR_LOAD_IN_PROGRESS until `until` (a fault, or what a
    /// restarted broker does while it reads `__consumer_offsets`).
    pub(crate) fn set_loading(&mut self, broker_id: i32, until: Instant) {
        self.loading.insert(broker_id, until);
    }

    /// Forgets loading windows that ended by `now` (bounded by the number of brokers anyway).
    pub(crate) fn expire(&mut self, now: Instant) {
        self.loading.retain(|_, until| *until > now);
    }

    /// The end of the earliest loading window still open.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.loading.values().min().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_hash_and_partition() {
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        // "polygenelubricants".hashCode() == Integer.MIN_VALUE: Utils.abs maps it to 0.
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        assert_eq!(offsets_partition("polygenelubricants", 50), 0);
        assert_eq!(offsets_partition("hello", 50), 99_162_322 % 50);
        // Negative hash: "Aa-negative" style strings wrap; abs is taken before the modulo.
        let h = java_string_hash("zzzzzzzzzz");
        assert!(h < 0);
        assert_eq!(offsets_partition("zzzzzzzzzz", 50), h.abs() % 50);
        // UTF-16 code units: a supplementary character counts as two.
        assert_eq!(java_string_hash("\u{1F600}"), 0xD83D * 31 + 0xDE00);
        assert_eq!(offsets_partition("x", 0), 0);
    }

    #[test]
    fn placement_moves_and_loading() {
        let mut p = Placement::new(50);
        let live = [1, 2, 3];
        let part = offsets_partition("g", 50) as usize;
        let c = p.coordinator("g", &live);
        assert_eq!(c, Some(live[part % 3]));
        assert_eq!(p.coordinator("g", &[]), None);
        let now = Instant::ZERO;
        let Some(c) = c else { return };
        assert_eq!(p.check(now, c, "g", &live), ErrorCode::NONE);
        let other = live.iter().copied().find(|b| *b != c).unwrap_or(c);
        assert_eq!(p.check(now, other, "g", &live), ErrorCode::NOT_COORDINATOR);
        assert_eq!(p.check(now, c, "g", &[]), ErrorCode::COORDINATOR_NOT_AVAILABLE);
        p.set_loading(c, Instant::from_millis(10));
        assert_eq!(p.check(now, c, "g", &live), ErrorCode::COORDINATOR_LOAD_IN_PROGRESS);
        assert_eq!(p.next_deadline(), Some(Instant::from_millis(10)));
        assert_eq!(p.check(Instant::from_millis(10), c, "g", &live), ErrorCode::NONE);
        p.expire(Instant::from_millis(10));
        assert_eq!(p.next_deadline(), None);
        p.move_coordinators();
        assert_eq!(p.coordinator("g", &live), Some(live[(part + 1) % 3]));
    }
}
