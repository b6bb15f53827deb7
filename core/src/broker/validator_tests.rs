//! Tests of the sequence validator, in the spirit of Kafka's `UnifiedLogTest` and
//! `ProducerStateManagerTest`, plus a proptest against a reference model.

#![allow(clippy::unwrap_used)] // tests may unwrap (HELPERS.md)

use super::*;
use crate::broker::snapshot::SnapshotError;
use alloc::vec::Vec;

const MAX: i32 = i32::MAX;
const OOO: Decision = Decision::Reject(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
const FENCED_EPOCH: Decision = Decision::Reject(ErrorCode::INVALID_PRODUCER_EPOCH);
const UNKNOWN: Decision = Decision::Reject(ErrorCode::UNKNOWN_PRODUCER_ID);
const INVALID: Decision = Decision::Reject(ErrorCode::INVALID_RECORD);

fn ms(t: u64) -> Instant {
    Instant::from_millis(t)
}

/// A partition log reduced to its end offset, driving a table the way a broker does.
struct Log {
    table: ProducerStateTable,
    next_offset: i64,
}

impl Log {
    fn new(config: ValidatorConfig) -> Self {
        Log { table: ProducerStateTable::new(config), next_offset: 0 }
    }

    fn accept_any() -> Self {
        Log::new(ValidatorConfig {
            unknown_producer: UnknownProducerPolicy::AcceptAnySequence,
            ..ValidatorConfig::default()
        })
    }

    /// Checks, and on Append "appends" (offsets from the log end, timestamp = 10 x base offset).
    fn produce(&mut self, batch: BatchInfo, now: Instant) -> Decision {
        let d = self.table.check(&batch, now);
        if d == Decision::Append {
            let count = i64::from(batch.record_count.unwrap_or(1));
            let base = self.next_offset;
            self.table.record_append(&batch, base, base + count - 1, base * 10, now);
            self.next_offset += count;
        }
        d
    }
}

fn b(pid: i64, epoch: i16, first: i32, count: i32) -> BatchInfo {
    BatchInfo::with_count(pid, epoch, first, count)
}

/// The tracked ids, ascending.
fn ids(t: &ProducerStateTable) -> Vec<i64> {
    entries(t).into_iter().map(|(id, _)| id).collect()
}

/// The tracked state, by ascending id.
fn entries(t: &ProducerStateTable) -> Vec<(i64, ProducerStateEntry)> {
    let mut v: Vec<_> = t.iter().map(|(id, e)| (id, e.clone())).collect();
    v.sort_by_key(|(id, _)| *id);
    v
}

fn dup(base: i64, last: i64) -> Decision {
    Decision::Duplicate { base_offset: base, last_offset: last, timestamp: base * 10 }
}

#[test]
fn sequence_arithmetic_wraps_at_int32_max() {
    assert_eq!(increment_sequence(0, 0), 0);
    assert_eq!(increment_sequence(5, 3), 8);
    assert_eq!(increment_sequence(MAX, 1), 0);
    assert_eq!(increment_sequence(MAX - 1, 4), 2);
    assert_eq!(increment_sequence(MAX, MAX), MAX - 1);
    assert!(in_sequence(MAX, 0));
    assert!(in_sequence(41, 42));
    assert!(!in_sequence(MAX, MAX.wrapping_add(1)));
    assert!(!in_sequence(41, 43));
    assert_eq!(b(1, 0, MAX - 1, 4).last_seq, 1);
}

#[test]
fn non_idempotent_batches_are_always_appended_and_not_tracked() {
    let mut log = Log::new(ValidatorConfig::default());
    for _ in 0..3 {
        assert_eq!(log.produce(BatchInfo::new(-1, -1, -1, -1, Some(3)), ms(0)), Decision::Append);
    }
    assert!(log.table.is_empty());
}

#[test]
fn malformed_idempotent_batches_are_invalid_records() {
    let t = ProducerStateTable::new(ValidatorConfig::default());
    assert_eq!(t.check(&BatchInfo::new(1, 0, 0, 3, Some(3)), ms(0)), INVALID, "count mismatch");
    assert_eq!(t.check(&BatchInfo::new(1, 0, 0, 0, Some(0)), ms(0)), INVALID, "empty batch");
    assert_eq!(t.check(&BatchInfo::new(1, 0, -1, 0, None), ms(0)), INVALID, "negative seq");
    assert_eq!(t.check(&BatchInfo::new(1, -1, 0, 0, None), ms(0)), INVALID, "negative epoch");
    let header = |delta, count| BatchInfo::from_header_fields(1, 0, 0, delta, count);
    let mut builder = crate::proto::record_batch::RecordBatchBuilder::new(0);
    for _ in 0..3 {
        builder.append(0, None, Some(b"v"), &[]).unwrap();
    }
    let stamp = crate::proto::record_batch::ProducerStamp { producer_id: 1, producer_epoch: 0, base_sequence: MAX - 1 };
    let sealed = builder.seal(stamp);
    let (batch, _) = crate::proto::record_batch::RecordBatch::decode(&sealed).unwrap();
    assert_eq!(BatchInfo::from_header(&batch.header), BatchInfo::new(1, 0, MAX - 1, 0, Some(3)));
    assert_eq!(t.check(&header(2, 3), ms(0)), Decision::Append);
    assert_eq!(t.check(&header(2, 4), ms(0)), INVALID, "count disagrees with last offset delta");
    assert_eq!(t.check(&header(-1, 0), ms(0)), INVALID);
    let t = Log::accept_any().table;
    assert_eq!(t.check(&BatchInfo::new(1, 0, MAX, 1, Some(3)), ms(0)), Decision::Append);
    assert_eq!(t.check(&BatchInfo::new(1, 0, 5, 2, None), ms(0)), Decision::Append);
    assert_eq!(t.check(&BatchInfo::new(1, 0, 5, 7, Some(2)), ms(0)), INVALID);
}

#[test]
fn unknown_producer_strict_requires_sequence_zero() {
    let mut log = Log::new(ValidatorConfig::default());
    assert_eq!(log.produce(b(7, 0, 5, 1), ms(0)), UNKNOWN);
    assert!(log.table.is_empty());
    assert_eq!(log.produce(b(7, 3, 0, 2), ms(0)), Decision::Append);
    assert_eq!(log.table.get(7).map(|e| e.epoch()), Some(3));
}

#[test]
fn unknown_producer_accept_any_sequence_is_kip_360() {
    let mut log = Log::accept_any();
    assert_eq!(log.produce(b(7, 0, 5, 1), ms(0)), Decision::Append);
    assert_eq!(log.produce(b(7, 0, 6, 1), ms(0)), Decision::Append);
    assert_eq!(log.produce(b(7, 0, 8, 1), ms(0)), OOO);
}

/// Six batches of 2 records: seqs 0-1, 2-3, ..., 10-11 at offsets 0-1, 2-3, ..., 10-11.
fn six_batches() -> Log {
    let mut log = Log::new(ValidatorConfig::default());
    for i in 0..6 {
        assert_eq!(log.produce(b(1, 0, 2 * i, 2), ms(u64::from(i as u32))), Decision::Append);
    }
    log
}

#[test]
fn duplicates_in_the_window_get_their_original_offsets() {
    let mut log = six_batches();
    // Unrelated writes move the log end: duplicates must still report the original offsets.
    assert_eq!(log.produce(b(2, 0, 0, 5), ms(6)), Decision::Append);
    let end = log.next_offset;
    // Last batch (10-11) and 4th-from-last (4-5).
    assert_eq!(log.produce(b(1, 0, 10, 2), ms(7)), dup(10, 11));
    assert_eq!(log.produce(b(1, 0, 4, 2), ms(7)), dup(4, 5));
    // 5th-from-last (2-3) is still in the window.
    assert_eq!(log.produce(b(1, 0, 2, 2), ms(7)), dup(2, 3));
    // 6th-from-last (0-1) fell out of the window.
    assert_eq!(log.produce(b(1, 0, 0, 2), ms(7)), OOO);
    assert_eq!(log.next_offset, end, "nothing was appended");
    assert_eq!(log.produce(b(1, 0, 12, 1), ms(8)), Decision::Append);
}

#[test]
fn partial_overlaps_and_gaps_are_out_of_order() {
    let mut log = six_batches();
    assert_eq!(log.produce(b(1, 0, 10, 3), ms(9)), OOO, "same first, longer");
    assert_eq!(log.produce(b(1, 0, 10, 1), ms(9)), OOO, "same first, shorter");
    assert_eq!(log.produce(b(1, 0, 11, 2), ms(9)), OOO, "straddles the last batch");
    assert_eq!(log.produce(b(1, 0, 3, 2), ms(9)), OOO, "straddles two cached batches");
    assert_eq!(log.produce(b(1, 0, 13, 1), ms(9)), OOO, "gap of one");
    assert_eq!(log.produce(b(1, 0, 1_000, 1), ms(9)), OOO, "far ahead");
    assert_eq!(log.produce(b(1, 0, 12, 1), ms(9)), Decision::Append, "state unchanged");
}

#[test]
fn sequences_wrap_around_int32_max() {
    let mut log = Log::accept_any();
    assert_eq!(log.produce(b(1, 0, MAX - 4, 3), ms(0)), Decision::Append); // MAX-4..=MAX-2, off 0-2
    let across = b(1, 0, MAX - 1, 4); // MAX-1, MAX, 0, 1 at offsets 3-6
    assert_eq!(across.last_seq, 1);
    assert_eq!(log.produce(across, ms(1)), Decision::Append);
    assert_eq!(log.produce(b(1, 0, 2, 2), ms(2)), Decision::Append); // 2-3 at offsets 7-8
    assert_eq!(log.produce(across, ms(3)), dup(3, 6), "duplicate across the wrap");
    assert_eq!(log.produce(b(1, 0, MAX - 4, 3), ms(3)), dup(0, 2));
    assert_eq!(log.produce(b(1, 0, 0, 2), ms(3)), OOO, "overlap inside the wrapped batch");
    assert_eq!(log.produce(b(1, 0, 4, 1), ms(3)), Decision::Append);
    // A batch ending exactly at MAX is followed by 0.
    let mut log = Log::accept_any();
    assert_eq!(log.produce(b(9, 0, MAX - 1, 2), ms(0)), Decision::Append);
    assert_eq!(log.produce(b(9, 0, MAX, 1), ms(0)), OOO);
    assert_eq!(log.produce(b(9, 0, 0, 1), ms(0)), Decision::Append);
}

#[test]
fn epoch_bump_needs_sequence_zero_and_resets_the_window() {
    let mut log = six_batches();
    assert_eq!(log.produce(b(1, 1, 12, 1), ms(10)), OOO, "new epoch must restart at 0");
    assert_eq!(log.produce(b(1, 1, 0, 2), ms(10)), Decision::Append); // offsets 12-13
    assert_eq!(log.table.get(1).map(|e| e.batches().count()), Some(1));
    assert_eq!(log.produce(b(1, 1, 0, 2), ms(11)), dup(12, 13), "retry in the new epoch");
    assert_eq!(log.produce(b(1, 0, 10, 2), ms(11)), FENCED_EPOCH, "old epoch's batch");
    assert_eq!(log.produce(b(1, 1, 2, 1), ms(11)), Decision::Append);
    assert_eq!(log.produce(b(1, 5, 0, 1), ms(12)), Decision::Append, "epochs may jump");
}

#[test]
fn older_epoch_is_rejected_even_for_cached_sequences() {
    let mut log = Log::new(ValidatorConfig::default());
    assert_eq!(log.produce(b(1, 4, 0, 1), ms(0)), Decision::Append);
    assert_eq!(log.produce(b(1, 3, 0, 1), ms(0)), FENCED_EPOCH);
    assert_eq!(log.produce(b(1, 3, 1, 1), ms(0)), FENCED_EPOCH);
    assert_eq!(log.produce(b(1, 4, 0, 1), ms(0)), dup(0, 0));
}

#[test]
fn idle_producers_expire() {
    let config = ValidatorConfig { producer_id_expiration: Duration::from_secs(10), ..Default::default() };
    let mut log = Log::new(config);
    assert_eq!(log.produce(b(1, 0, 0, 1), ms(0)), Decision::Append);
    assert_eq!(log.produce(b(2, 0, 0, 1), ms(5_000)), Decision::Append);
    assert_eq!(log.produce(b(1, 0, 1, 1), ms(9_999)), Decision::Append); // refreshes 1
    // At 19_999 ms, 1 is fresh and 2 has been idle 14.999 s: unknown before expire() runs.
    assert_eq!(log.table.check(&b(2, 0, 1, 1), ms(19_999)), UNKNOWN);
    assert_eq!(log.table.check(&b(1, 0, 2, 1), ms(19_998)), Decision::Append);
    assert_eq!(log.table.expire(ms(19_998)), 1);
    assert_eq!(log.table.len(), 1);
    assert!(log.table.get(2).is_none());
    assert_eq!(log.table.expire(ms(19_999)), 1, "idle for exactly the expiration");
    assert!(log.table.is_empty());
    // Recording over an expired (not yet removed) entry starts it afresh.
    let mut log = Log::new(config);
    assert_eq!(log.produce(b(3, 2, 0, 1), ms(0)), Decision::Append);
    assert_eq!(log.produce(b(3, 1, 0, 1), ms(10_000)), Decision::Append, "old epoch forgotten");
    assert_eq!(log.table.get(3).map(|e| (e.epoch(), e.batches().count())), Some((1, 1)));
}

#[test]
fn full_table_evicts_the_least_recently_updated_producer() {
    let mut log = Log::new(ValidatorConfig { max_producers: 3, ..Default::default() });
    for pid in 1..=3 {
        assert_eq!(log.produce(b(pid, 0, 0, 1), ms(pid as u64)), Decision::Append);
    }
    assert_eq!(log.produce(b(1, 0, 1, 1), ms(4)), Decision::Append);
    assert_eq!(log.produce(b(4, 0, 0, 1), ms(5)), Decision::Append);
    assert_eq!(log.table.len(), 3);
    assert!(log.table.get(2).is_none(), "2 was the least recently updated");
    assert_eq!(ids(&log.table), [1, 3, 4]);
    assert_eq!(log.produce(b(2, 0, 1, 1), ms(6)), UNKNOWN);
    // A cap of 0 behaves as 1.
    let mut log = Log::new(ValidatorConfig { max_producers: 0, ..Default::default() });
    assert_eq!(log.produce(b(1, 0, 0, 1), ms(0)), Decision::Append);
    assert_eq!(log.produce(b(2, 0, 0, 1), ms(0)), Decision::Append);
    assert_eq!(ids(&log.table), [2]);
}

#[test]
fn freed_slots_are_reused() {
    let mut log = Log::new(ValidatorConfig { max_producers: 4, ..Default::default() });
    for pid in 0..100 {
        assert_eq!(log.produce(b(pid, 0, 0, 1), ms(pid as u64)), Decision::Append);
        if pid % 3 == 0 {
            log.table.forget(pid);
        }
    }
    assert!(log.table.slots.len() <= 4, "{} slots", log.table.slots.len());
    assert_eq!(ids(&log.table), [95, 97, 98], "99 was evicting 94, then forgotten");
    assert_eq!(log.produce(b(98, 0, 0, 1), ms(200)), dup(log.next_offset - 2, log.next_offset - 2));
}

#[test]
fn forget_and_clear_lose_state() {
    let mut log = six_batches();
    assert_eq!(log.produce(b(2, 0, 0, 1), ms(0)), Decision::Append);
    assert!(log.table.forget(1));
    assert!(!log.table.forget(1));
    assert_eq!(log.produce(b(1, 0, 10, 2), ms(9)), UNKNOWN, "lost state is not a duplicate");
    assert_eq!(log.table.len(), 1);
    log.table.clear();
    assert!(log.table.is_empty());
}

#[test]
fn state_per_producer_fits_the_budget() {
    assert_eq!(core::mem::size_of::<BatchMetadata>(), 32);
    let entry = core::mem::size_of::<ProducerStateEntry>();
    assert!(entry <= 256, "ProducerStateEntry is {entry} bytes");
    #[cfg(target_pointer_width = "64")]
    assert_eq!(entry, 200, "update the module docs");
}

/// A table with varied state: wrapped sequences, full and partial windows, bumped epochs.
fn varied_table() -> ProducerStateTable {
    let mut log = Log::accept_any();
    for i in 0..7 {
        log.produce(b(1, 0, 3 * i, 3), ms(i as u64));
    }
    log.produce(b(2, 0, MAX - 2, 5), ms(3));
    log.produce(b(2, 0, 2, 1), ms(4));
    log.produce(b(3, 0, 0, 1), ms(5));
    log.produce(b(3, 9, 0, 2), ms(6));
    log.produce(b(i64::MAX, i16::MAX, 100, 1), ms(7));
    log.table
}

fn probes() -> Vec<BatchInfo> {
    let mut v = Vec::new();
    for pid in [1, 2, 3, 4, i64::MAX] {
        for epoch in [0, 8, 9, 10, i16::MAX] {
            for first in [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 101, MAX - 2] {
                for count in [1, 2, 3, 5] {
                    v.push(b(pid, epoch, first, count));
                }
            }
        }
    }
    v
}

#[test]
fn snapshot_round_trip_keeps_every_decision() {
    let table = varied_table();
    let bytes = table.snapshot();
    let back = ProducerStateTable::restore(&bytes, *table.config()).unwrap();
    assert_eq!(entries(&table), entries(&back), "same entries, whole windows and times");
    assert_eq!(back.get(1).map(|e| e.batches().count()), Some(5));
    for now in [ms(7), ms(86_400_005)] {
        for p in probes() {
            assert_eq!(table.check(&p, now), back.check(&p, now), "{p:?}");
        }
    }
    assert_eq!(back.snapshot(), bytes, "deterministic encoding");
    let empty = ProducerStateTable::new(ValidatorConfig::default());
    assert_eq!(ProducerStateTable::restore(&empty.snapshot(), ValidatorConfig::default()).unwrap().len(), 0);
}

#[test]
fn last_batch_snapshot_keeps_only_the_newest_batch_of_each_producer() {
    let table = varied_table();
    let back = ProducerStateTable::restore(&table.snapshot_last_batch(), *table.config()).unwrap();
    assert_eq!(ids(&back), ids(&table));
    for (id, e) in table.iter() {
        let r = back.get(id).unwrap();
        assert_eq!((r.epoch(), r.last_update()), (e.epoch(), e.last_update()));
        assert_eq!(
            r.batches().copied().collect::<Vec<_>>(),
            e.batches().last().copied().into_iter().collect::<Vec<_>>()
        );
    }
    let now = ms(7);
    // Producer 1's window was sequences 6..=20 in five batches of 3; only 18..=20 survives.
    assert!(matches!(back.check(&b(1, 0, 18, 3), now), Decision::Duplicate { .. }));
    assert!(matches!(table.check(&b(1, 0, 6, 3), now), Decision::Duplicate { .. }));
    assert_eq!(back.check(&b(1, 0, 6, 3), now), Decision::Reject(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER));
    assert_eq!(back.check(&b(1, 0, 21, 1), now), Decision::Append);
    // Everything but the dropped older batches decides as before.
    for p in probes() {
        let older = table.get(p.producer_id).is_some_and(|e| {
            let n = e.batches().count();
            e.batches().take(n - 1).any(|m| (m.first_seq, m.last_seq) == (p.first_seq, p.last_seq))
        });
        if !older || p.producer_epoch != table.get(p.producer_id).map_or(-1, |e| e.epoch()) {
            assert_eq!(table.check(&p, now), back.check(&p, now), "{p:?}");
        }
    }
}

#[test]
fn restore_into_a_smaller_cap_keeps_the_most_recent() {
    let table = varied_table();
    let small = ValidatorConfig { max_producers: 2, ..*table.config() };
    let back = ProducerStateTable::restore(&table.snapshot(), small).unwrap();
    assert_eq!(ids(&back), [3, i64::MAX]);
    // The most recent has the lowest id: it must survive a cap of 1.
    let mut log = Log::new(ValidatorConfig::default());
    log.produce(b(1, 0, 0, 1), ms(9));
    log.produce(b(2, 0, 0, 1), ms(1));
    log.produce(b(3, 0, 0, 1), ms(2));
    let one = ValidatorConfig { max_producers: 1, ..ValidatorConfig::default() };
    let back = ProducerStateTable::restore(&log.table.snapshot(), one).unwrap();
    assert_eq!(ids(&back), [1]);
    assert_eq!(back.config().max_producers, 1);
}

#[test]
fn any_damaged_snapshot_is_a_typed_error() {
    let bytes = varied_table().snapshot();
    let config = ValidatorConfig::default();
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x10, 0x80, 0xFF] {
            let mut bad = bytes.clone();
            bad[i] ^= mask;
            assert!(ProducerStateTable::restore(&bad, config).is_err(), "flip {mask:#x} at {i}");
        }
    }
    for len in 0..bytes.len() {
        assert!(ProducerStateTable::restore(&bytes[..len], config).is_err(), "truncated to {len}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(ProducerStateTable::restore(&longer, config).is_err());
    let mut bad = bytes.clone();
    bad[0] = b'X';
    assert_eq!(ProducerStateTable::restore(&bad, config).unwrap_err(), SnapshotError::BadMagic);
    bad = bytes.clone();
    bad[5] = 9;
    assert_eq!(ProducerStateTable::restore(&bad, config).unwrap_err(), SnapshotError::UnsupportedVersion(9));
    assert_eq!(ProducerStateTable::restore(b"IDPS", config).unwrap_err(), SnapshotError::Truncated);
}

/// Rewrites the trailing CRC so that only the field checks can catch the damage.
fn reseal(mut body: Vec<u8>) -> Vec<u8> {
    body.truncate(body.len() - 4);
    let crc = crate::crc32c::checksum(&body);
    body.extend_from_slice(&crc.to_be_bytes());
    body
}

#[test]
fn well_checksummed_but_invalid_snapshots_are_rejected() {
    let config = ValidatorConfig::default();
    let mut log = Log::new(config);
    log.produce(b(1, 0, 0, 1), ms(0));
    log.produce(b(2, 0, 0, 1), ms(0));
    let bytes = log.table.snapshot();
    // Layout: header 10 | entry 1 at 10: id 8, epoch 2, time 8, n 1 (at 28), batch 32 | entry 2 at 61.
    let cases: [(usize, u8, SnapshotError); 6] = [
        (28, 0, SnapshotError::InvalidField("batch count not in 1..=5")),
        (28, 6, SnapshotError::InvalidField("batch count not in 1..=5")),
        (10, 0x80, SnapshotError::InvalidField("negative producer id")),
        (18, 0x80, SnapshotError::InvalidField("negative producer epoch")),
        (29, 0x80, SnapshotError::InvalidField("negative sequence")),
        (68, 1, SnapshotError::InvalidField("producer ids not strictly ascending")),
    ];
    for (at, value, err) in cases {
        let mut bad = bytes.clone();
        bad[at] = value;
        assert_eq!(ProducerStateTable::restore(&reseal(bad), config).unwrap_err(), err, "byte {at}");
    }
    let mut count = bytes.clone();
    count[9] = 1;
    assert_eq!(ProducerStateTable::restore(&reseal(count), config).unwrap_err(), SnapshotError::TrailingBytes);
    let mut count = bytes.clone();
    count[6] = 0xFF;
    assert_eq!(ProducerStateTable::restore(&reseal(count), config).unwrap_err(), SnapshotError::Truncated);
    let e = SnapshotError::ChecksumMismatch { stored: 1, computed: 2 };
    assert!(alloc::format!("{e}").contains("checksum"));
    let _: &dyn core::error::Error = &e;
}

#[test]
fn producer_id_hash_is_seeded_and_mixes() {
    let hash = |seed: u64, id: i64| IdHashBuilder::new(seed).hash_one(id);
    assert_eq!(hash(1, 42), hash(1, 42));
    assert_ne!(hash(1, 42), hash(2, 42));
    assert_ne!(hash(1, 42), hash(1, 43));
    // Sequential ids spread over both the low (bucket) and the high (tag) bits.
    let low: alloc::collections::BTreeSet<u64> = (0..256).map(|id| hash(7, id) & 0xFF).collect();
    let high: alloc::collections::BTreeSet<u64> = (0..256).map(|id| hash(7, id) >> 57).collect();
    assert!(low.len() > 128 && high.len() > 100, "{} {}", low.len(), high.len());
    let mut h = IdHashBuilder::new(3).build_hasher();
    h.write(&5u64.to_le_bytes());
    assert_eq!(h.finish(), hash(3, 5));
    // A Kafka-like allocator hands out ids in steps of 1 from a large base.
    let tags: alloc::collections::BTreeSet<u64> = (0..256).map(|i| hash(0, (1 << 40) + i) >> 57).collect();
    assert!(tags.len() > 100, "{}", tags.len());
}

#[path = "validator_model.rs"]
mod model;
