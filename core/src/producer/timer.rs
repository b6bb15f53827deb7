//! A small fixed timer table: one slot per kind of deadline the producer keeps, and the earliest
//! of them as the next wake-up. Slots may hold an *early* deadline (a lower bound): waking early
//! is harmless because a spurious `Timeout` is a no-op, waking late is never allowed.

use crate::time::Instant;

/// The kinds of deadline the producer keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum TimerKind {
    /// An open batch reaches `linger.ms`.
    Linger = 0,
    /// A record reaches `delivery.timeout.ms`.
    Delivery = 1,
    /// A partition's retry backoff ends.
    Retry = 2,
    /// A request or connection setup times out.
    Request = 3,
    /// Metadata is due (age or retry backoff).
    Metadata = 4,
    /// InitProducerId retry backoff ends.
    ProducerId = 5,
    /// A reconnect backoff ends.
    Reconnect = 6,
    /// The backoff before the next request to a transaction's coordinators ends.
    Transaction = 7,
}

const SLOTS: usize = 8;

/// The kinds kept per partition (by the drive loop's agenda), first in the table.
pub(crate) const PARTITION_TIMERS: [TimerKind; 3] = [TimerKind::Linger, TimerKind::Delivery, TimerKind::Retry];

/// The table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Timers {
    slots: [Option<Instant>; SLOTS],
}

impl Timers {
    /// Sets a slot exactly (`None` clears it).
    pub(crate) fn set(&mut self, kind: TimerKind, at: Option<Instant>) {
        if let Some(slot) = self.slots.get_mut(kind as usize) {
            *slot = at;
        }
    }

    /// Lowers a slot to `at` if it is earlier (or the slot is empty).
    pub(crate) fn lower(&mut self, kind: TimerKind, at: Instant) {
        if let Some(slot) = self.slots.get_mut(kind as usize) {
            *slot = Some(slot.map_or(at, |s| s.min(at)));
        }
    }

    /// A slot's deadline.
    #[cfg(any(test, debug_assertions))]
    pub(crate) fn get(&self, kind: TimerKind) -> Option<Instant> {
        self.slots.get(kind as usize).copied().flatten()
    }

    /// The earliest deadline of all slots.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.slots.iter().flatten().min().copied()
    }

    /// Whether any deadline is at or before `now`.
    pub(crate) fn any_due(&self, now: Instant) -> bool {
        self.next().is_some_and(|t| t <= now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_wins() {
        let mut t = Timers::default();
        assert_eq!(t.next(), None);
        t.set(TimerKind::Delivery, Some(Instant::from_millis(50)));
        t.lower(TimerKind::Linger, Instant::from_millis(9));
        t.lower(TimerKind::Linger, Instant::from_millis(20));
        assert_eq!(t.get(TimerKind::Linger), Some(Instant::from_millis(9)));
        assert_eq!(t.next(), Some(Instant::from_millis(9)));
        assert!(!t.any_due(Instant::from_millis(8)));
        assert!(t.any_due(Instant::from_millis(9)));
        t.set(TimerKind::Linger, None);
        assert_eq!(t.next(), Some(Instant::from_millis(50)));
    }
}
