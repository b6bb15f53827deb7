//! The demo's workload: which records each producer thread sends, to which partition, and how a
//! record read back from a log is traced to the thread and position that sent it.
//!
//! Record `i` of thread `t` has the key `t-i`, a value that starts with a 16-byte tag
//! (`IDEM`, `t` as u32, `i` as u64, big-endian) followed by seeded filler, and an explicit
//! partition drawn from the seed. Everything is a function of `(seed, t, i)`, so the checker
//! recomputes it instead of storing it.

use idem_core::rand::Rng;

/// First bytes of every demo value.
const MAGIC: &[u8; 4] = b"IDEM";
/// Length of the tag at the front of a value.
const TAG_LEN: usize = 16;

/// The shape of a demo run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Records in total (over all threads).
    pub records: u64,
    /// Producer threads.
    pub threads: u32,
    /// Partitions of the demo topic.
    pub partitions: i32,
    /// Bytes per value (at least the 16-byte tag).
    pub value_len: usize,
    /// Seed of partition choice, filler, producer jitter and faults.
    pub seed: u64,
}

impl Plan {
    /// How many records thread `t` sends: an even share, the first threads taking the remainder.
    pub fn records_of(&self, t: u32) -> u64 {
        let threads = u64::from(self.threads.max(1));
        let base = self.records / threads;
        base + u64::from(u64::from(t) < self.records % threads)
    }

    /// The partition of record `i` of thread `t` (uniform over the topic, fixed by the seed).
    pub fn partition_of(&self, t: u32, i: u64) -> i32 {
        let mut rng = Rng::new(self.seed ^ (u64::from(t) << 48) ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.below(self.partitions.max(1) as u64) as i32
    }

    /// The key of record `i` of thread `t`.
    pub fn key(&self, t: u32, i: u64) -> Vec<u8> {
        format!("{t}-{i}").into_bytes()
    }

    /// Writes the value of record `i` of thread `t` into `out` (cleared first).
    pub fn value(&self, t: u32, i: u64, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&t.to_be_bytes());
        out.extend_from_slice(&i.to_be_bytes());
        let mut rng = Rng::new(self.seed.wrapping_add(i) ^ u64::from(t));
        while out.len() < self.value_len.max(TAG_LEN) {
            out.push(b'a' + (rng.below(26) as u8));
        }
    }
}

/// The thread and index a demo value was sent as, or `None` if it is not a demo value.
pub fn decode_value(value: &[u8]) -> Option<(u32, u64)> {
    let tag = value.get(..TAG_LEN)?;
    if tag.get(..4)? != MAGIC {
        return None;
    }
    let t = u32::from_be_bytes(tag.get(4..8)?.try_into().ok()?);
    let i = u64::from_be_bytes(tag.get(8..16)?.try_into().ok()?);
    Some((t, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan { records: 1003, threads: 4, partitions: 6, value_len: 40, seed: 7 }
    }

    #[test]
    fn shares_add_up() {
        let p = plan();
        let shares: Vec<u64> = (0..4).map(|t| p.records_of(t)).collect();
        assert_eq!(shares, [251, 251, 251, 250]);
        assert_eq!(shares.iter().sum::<u64>(), p.records);
    }

    #[test]
    fn values_round_trip_and_partitions_spread() {
        let p = plan();
        let mut v = Vec::new();
        let mut per_partition = [0u32; 6];
        for t in 0..4 {
            for i in 0..p.records_of(t) {
                p.value(t, i, &mut v);
                assert_eq!(v.len(), 40);
                assert_eq!(decode_value(&v), Some((t, i)));
                let part = p.partition_of(t, i);
                assert_eq!(part, p.partition_of(t, i));
                per_partition[part as usize] += 1;
            }
        }
        assert!(per_partition.iter().all(|&n| n > 100), "{per_partition:?}");
        assert_eq!(decode_value(b"IDEM"), None);
        assert_eq!(decode_value(b"XDEM0000000000000000"), None);
        assert_eq!(p.key(2, 9), b"2-9");
        let other = Plan { seed: 8, ..p };
        assert!((0..50).any(|i| other.partition_of(0, i) != p.partition_of(0, i)));
    }
}
