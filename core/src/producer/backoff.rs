//! Exponential backoff with jitter (KIP-580): `initial * 2^attempts`, capped at `max`, times a
//! random factor in `[0.8, 1.2)` drawn from a seeded [`Rng`], and never above `max`.
//! Pure: it computes the next instant; the caller decides when to look at the clock.

use crate::rand::Rng;
use crate::time::{Duration, Instant};

/// Backoff parameters (`retry.backoff.ms`, `retry.backoff.max.ms` or the reconnect pair).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Backoff {
    /// First delay.
    pub(crate) initial: Duration,
    /// Largest delay.
    pub(crate) max: Duration,
}

/// Relative jitter: +-20 %, as the Java client.
const JITTER_PERCENT: u64 = 20;

impl Backoff {
    /// The delay before attempt number `attempts + 1` (`attempts` = failures so far, starting at
    /// 0 for the first retry). Deterministic for a given `rng` state.
    pub(crate) fn delay(&self, attempts: u32, rng: &mut Rng) -> Duration {
        let base = self.initial.as_micros();
        let max = self.max.as_micros().max(base);
        let exp = base.saturating_mul(1u64 << attempts.min(32)).min(max);
        // exp * (1 - 0.2 + 0.4 * u), computed in integers: exp * (80 + r) / 100, r in [0, 40).
        let r = rng.below(2 * JITTER_PERCENT);
        let jittered = (u128::from(exp) * u128::from(100 - JITTER_PERCENT + r) / 100) as u64;
        Duration::from_micros(jittered.min(max))
    }

    /// The instant at which the next attempt may be made.
    pub(crate) fn next_at(&self, now: Instant, attempts: u32, rng: &mut Rng) -> Instant {
        now + self.delay(attempts, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_jitters_and_caps() {
        let b = Backoff { initial: Duration::from_millis(100), max: Duration::from_millis(1000) };
        let mut rng = Rng::new(7);
        for attempt in 0..20 {
            let d = b.delay(attempt, &mut rng).as_micros();
            let exp = (100_000u64 << attempt.min(20)).min(1_000_000);
            assert!(d >= exp * 8 / 10 && d <= exp * 12 / 10 && d <= 1_000_000, "attempt {attempt}: {d}");
        }
        // Deterministic by seed.
        let (mut a, mut c) = (Rng::new(3), Rng::new(3));
        assert_eq!(b.delay(2, &mut a), b.delay(2, &mut c));
        // Jitter actually varies.
        let mut rng = Rng::new(11);
        let v: alloc::vec::Vec<_> = (0..8).map(|_| b.delay(0, &mut rng)).collect();
        assert!(v.iter().any(|d| *d != v[0]));
    }
}
