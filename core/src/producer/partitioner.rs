//! Partition choice: murmur2 for keyed records (identical to the Java client's
//! `Utils.murmur2` + `toPositive(hash) % partitions`), sticky for unkeyed records, explicit
//! partitions honoured.

use crate::rand::Rng;

/// Kafka's murmur2 (the Java client's `Utils.murmur2`, seed 0x9747b28c), as a signed 32-bit
/// value exactly as Java returns it.
pub(crate) fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let length = data.len() as u32;
    let mut h: u32 = SEED ^ length;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if let Some(&b) = rest.first() {
        h ^= u32::from(b);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Java's `Utils.toPositive`: clears the sign bit.
pub(crate) const fn to_positive(v: i32) -> i32 {
    v & 0x7fff_ffff
}

/// The partition the Java client's default partitioner picks for `key` among `partitions`
/// (`partitions` must be positive; 0 yields 0).
pub(crate) fn partition_for_key(key: &[u8], partitions: u32) -> i32 {
    if partitions == 0 {
        return 0;
    }
    (to_positive(murmur2(key)) as u32 % partitions) as i32
}

/// Sticky choice for unkeyed records of one topic: the same partition until its batch is sealed,
/// then a new random one (different from the last when there is more than one partition).
#[derive(Clone, Debug, Default)]
pub(crate) struct Sticky {
    current: Option<i32>,
}

impl Sticky {
    /// The current sticky partition, choosing one with `rng` when there is none (or it is out of
    /// range after a metadata change).
    pub(crate) fn partition(&mut self, partitions: u32, rng: &mut Rng) -> i32 {
        match self.current {
            Some(p) if p >= 0 && (p as u32) < partitions => p,
            _ => {
                let p = rng.below(u64::from(partitions.max(1))) as i32;
                self.current = Some(p);
                p
            }
        }
    }

    /// Called when partition `sealed`'s batch is sealed: if it is the sticky partition, move on
    /// to another one at the next unkeyed record.
    pub(crate) fn on_sealed(&mut self, sealed: i32, partitions: u32, rng: &mut Rng) {
        if self.current != Some(sealed) {
            return;
        }
        if partitions <= 1 {
            self.current = None;
            return;
        }
        // Uniform among the other partitions.
        let r = rng.below(u64::from(partitions - 1)) as i32;
        self.current = Some(if r >= sealed { r + 1 } else { r });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_java_utils_test_vectors() {
        // org.apache.kafka.common.utils.UtilsTest.testMurmur2
        let cases: &[(&[u8], i32)] = &[
            (b"21", -973932308),
            (b"foobar", -790332482),
            (b"a-little-bit-long-string", -985981536),
            (b"a-little-bit-longer-string", -1486304829),
            (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
            (b"abc", 479470107),
        ];
        for (k, v) in cases {
            assert_eq!(murmur2(k), *v, "{:?}", core::str::from_utf8(k));
        }
    }

    #[test]
    fn keyed_partition_as_java() {
        // LongSerializer(0) = 8 zero bytes: murmur2 -522759933, partition 2 of 3.
        assert_eq!(murmur2(&[0u8; 8]), -522759933);
        assert_eq!(partition_for_key(&[0u8; 8], 3), 2);
        // toPositive(-973932308) % 10
        assert_eq!(partition_for_key(b"21", 10), ((-973932308i32 & 0x7fffffff) % 10));
        assert_eq!(partition_for_key(b"x", 0), 0);
    }

    #[test]
    fn sticky_moves_on_seal_only() {
        let mut rng = Rng::new(1);
        let mut s = Sticky::default();
        let p = s.partition(4, &mut rng);
        assert_eq!(s.partition(4, &mut rng), p);
        s.on_sealed((p + 1) % 4, 4, &mut rng);
        assert_eq!(s.partition(4, &mut rng), p);
        s.on_sealed(p, 4, &mut rng);
        let q = s.partition(4, &mut rng);
        assert_ne!(p, q);
        assert!((0..4).contains(&q));
        let mut one = Sticky::default();
        assert_eq!(one.partition(1, &mut rng), 0);
        one.on_sealed(0, 1, &mut rng);
        assert_eq!(one.partition(1, &mut rng), 0);
    }
}
