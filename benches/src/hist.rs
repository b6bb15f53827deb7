//! A lock-free log-bucket latency histogram (HdrHistogram-like, 16 sub-buckets per power of
//! two, so any reported quantile is within about 6 % of the true value).

use std::sync::atomic::{AtomicU64, Ordering};

/// Sub-bucket bits: each power of two is split into `2^SUB_BITS` equal buckets.
const SUB_BITS: u32 = 4;
const SUB: u64 = 1 << SUB_BITS;
/// Buckets: values `0..SUB` exactly, then `SUB` buckets for each exponent `SUB_BITS..64`.
const BUCKETS: usize = (SUB as usize) * (64 - SUB_BITS as usize + 1);

/// A histogram of microsecond values that many threads may record into at once.
///
/// Guarantees: `record` never allocates or blocks; `quantile(q)` returns a value within one
/// bucket (<= 1/16 relative error) of the true q-quantile of the recorded values; `max` is exact.
pub struct Histogram {
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
    max: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

/// Index of the bucket holding `v`.
fn bucket_of(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros(); // >= SUB_BITS
    let shift = exp - SUB_BITS;
    let mantissa = (v >> shift) - SUB; // 0..SUB
    ((exp - SUB_BITS + 1) as usize) * SUB as usize + mantissa as usize
}

/// Lowest value that falls in bucket `i`.
fn bucket_low(i: usize) -> u64 {
    let i = i as u64;
    if i < SUB {
        return i;
    }
    let exp = i / SUB - 1 + u64::from(SUB_BITS);
    let mantissa = i % SUB;
    (SUB + mantissa) << (exp - u64::from(SUB_BITS))
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Histogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            max: AtomicU64::new(0),
        }
    }

    /// Records one value (microseconds).
    pub fn record(&self, v: u64) {
        if let Some(b) = self.buckets.get(bucket_of(v)) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.max.fetch_max(v, Ordering::Relaxed);
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Largest recorded value (0 when empty).
    pub fn max(&self) -> u64 {
        self.max.load(Ordering::Relaxed)
    }

    /// The q-quantile (`0.0..=1.0`): the midpoint of the bucket holding the rank-`ceil(q*n)`
    /// value, capped at `max`; exactly `max` for the
    /// top rank. 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        let n = self.count();
        if n == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * n as f64).ceil() as u64).max(1);
        if rank >= n {
            return self.max();
        }
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Ordering::Relaxed);
            if seen >= rank {
                let low = bucket_low(i);
                let high = bucket_low(i + 1).max(low + 1);
                return (low + (high - low - 1) / 2).min(self.max());
            }
        }
        self.max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_cover_values() {
        for v in [0u64, 1, 15, 16, 17, 31, 32, 33, 1000, 123_456, u64::MAX / 3, u64::MAX] {
            let i = bucket_of(v);
            assert!(bucket_low(i) <= v, "v={v} i={i}");
            if i + 1 < BUCKETS {
                assert!(bucket_low(i + 1) > v, "v={v} i={i}");
            }
        }
        for i in 1..BUCKETS {
            assert!(bucket_low(i) > bucket_low(i - 1));
        }
    }

    #[test]
    fn quantiles_within_one_sixteenth() {
        let h = Histogram::new();
        for v in 1..=10_000u64 {
            h.record(v);
        }
        for (q, want) in [(0.5, 5000.0), (0.99, 9900.0), (0.999, 9990.0), (0.01, 100.0)] {
            let got = h.quantile(q) as f64;
            assert!((got - want).abs() / want < 1.0 / 16.0, "q={q} got={got} want={want}");
        }
        assert_eq!(h.max(), 10_000);
        assert_eq!(h.count(), 10_000);
        assert_eq!(h.quantile(1.0), 10_000);
    }

    #[test]
    fn p999_sees_a_tail_p99_does_not() {
        let h = Histogram::new();
        for _ in 0..9_985 {
            h.record(100);
        }
        for _ in 0..15 {
            h.record(50_000);
        }
        assert!(h.quantile(0.99) < 110, "{}", h.quantile(0.99));
        let p999 = h.quantile(0.999) as f64;
        assert!((p999 - 50_000.0).abs() / 50_000.0 < 1.0 / 16.0, "{p999}");
    }

    #[test]
    fn empty_is_zero() {
        let h = Histogram::new();
        assert_eq!(h.quantile(0.5), 0);
        assert_eq!(h.max(), 0);
    }
}
