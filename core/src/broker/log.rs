//! One partition's log: record batches with offsets, bounded in bytes.
//!
//! The log keeps whole RecordBatch v2 encodings exactly as the producer sent them, except for
//! the fields Kafka's leader rewrites on append and which the CRC does not cover: the base
//! offset and the partition leader epoch. When the stored bytes exceed the bound, the oldest
//! batches are dropped and the log start offset advances (retention), the newest batch is
//! always kept.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use alloc::collections::BTreeMap;

use crate::proto::DecodeError;
use crate::proto::record_batch::control::{EndTransactionMarker, TransactionResult};
use crate::proto::record_batch::{self, RecordBatch};

/// A batch as stored in a partition log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBatch {
    /// Offset of the batch's first record.
    pub base_offset: i64,
    /// Offset of the batch's last record (`base_offset + last_offset_delta`).
    pub last_offset: i64,
    /// The batch's max timestamp (ms) as the producer wrote it.
    pub max_timestamp: i64,
    /// The whole encoded batch, base offset and leader epoch rewritten; CRC unchanged.
    pub bytes: Vec<u8>,
}

/// A record as a `read_committed` consumer reads it: its offset and its value.
pub type CommittedRecord = (i64, Option<Vec<u8>>);

/// A partition log with a byte bound. Offsets are contiguous and never reused.
#[derive(Clone, Debug)]
pub struct PartitionLog {
    batches: VecDeque<StoredBatch>,
    log_start_offset: i64,
    log_end_offset: i64,
    size_bytes: usize,
    max_bytes: usize,
}

/// Why a read could not be served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// The offset is below the log start or above the log end.
    OffsetOutOfRange,
}

impl PartitionLog {
    /// An empty log (start = end = 0) that keeps at most `max_bytes` of batches (but always the
    /// newest batch, whatever its size).
    pub(crate) fn new(max_bytes: usize) -> Self {
        PartitionLog { batches: VecDeque::new(), log_start_offset: 0, log_end_offset: 0, size_bytes: 0, max_bytes }
    }

    /// The first offset still in the log.
    pub fn log_start_offset(&self) -> i64 {
        self.log_start_offset
    }

    /// The offset the next appended record will get (every append is committed at once, so
    /// this is also the high watermark and the last stable offset).
    pub fn log_end_offset(&self) -> i64 {
        self.log_end_offset
    }

    /// Bytes currently stored.
    pub fn size_bytes(&self) -> usize {
        self.size_bytes
    }

    /// The stored batches, oldest first, with contiguous offsets.
    pub fn batches(&self) -> impl ExactSizeIterator<Item = &StoredBatch> + '_ {
        self.batches.iter()
    }

    /// What a `read_committed` consumer reads from the whole log, as (offset, value): the
    /// records of non-transactional batches, and those of transactional batches whose
    /// producer's next marker is COMMIT; never a control record, an aborted record or one of a
    /// transaction still open. An inspection for tests and tools (it decodes every batch);
    /// an undecodable batch is an error.
    pub fn read_committed(&self) -> Result<Vec<CommittedRecord>, DecodeError> {
        let mut out = Vec::new();
        // Per producer id, the records of its open transaction.
        let mut open: BTreeMap<i64, Vec<CommittedRecord>> = BTreeMap::new();
        let mut scratch = Vec::new();
        for stored in &self.batches {
            let (batch, _) = RecordBatch::decode(&stored.bytes)?;
            let pid = batch.header.producer_id;
            if let Some(marker) = EndTransactionMarker::from_batch(&batch)? {
                let records = open.remove(&pid).unwrap_or_default();
                if marker.result == TransactionResult::Commit {
                    out.extend(records);
                }
                continue;
            }
            if batch.header.is_control() {
                continue;
            }
            let into = if batch.header.is_transactional() { open.entry(pid).or_default() } else { &mut out };
            for r in batch.decompressed_records(&mut scratch, usize::MAX)? {
                let r = r?;
                into.push((stored.base_offset + i64::from(r.offset_delta), r.value.map(<[u8]>::to_vec)));
            }
        }
        out.sort_by_key(|(offset, _)| *offset);
        Ok(out)
    }

    /// Appends an already validated batch holding `last_offset_delta + 1` offsets; rewrites its
    /// base offset and partition leader epoch in place and returns the base offset. Then drops
    /// the oldest batches while the log is over its byte bound.
    pub(crate) fn append(
        &mut self,
        mut bytes: Vec<u8>,
        last_offset_delta: i32,
        max_timestamp: i64,
        leader_epoch: i32,
    ) -> i64 {
        let base_offset = self.log_end_offset;
        // Both fields lie outside the CRC; a batch too short for them was refused before.
        record_batch::set_base_offset(&mut bytes, base_offset);
        record_batch::set_partition_leader_epoch(&mut bytes, leader_epoch);
        let last_offset = base_offset.saturating_add(i64::from(last_offset_delta.max(0)));
        self.size_bytes += bytes.len();
        self.batches.push_back(StoredBatch { base_offset, last_offset, max_timestamp, bytes });
        self.log_end_offset = last_offset.saturating_add(1);
        while self.size_bytes > self.max_bytes && self.batches.len() > 1 {
            if let Some(old) = self.batches.pop_front() {
                self.size_bytes -= old.bytes.len();
            }
            if let Some(front) = self.batches.front() {
                self.log_start_offset = front.base_offset;
            }
        }
        base_offset
    }

    /// [`read_until`](Self::read_until) the log end; only the bytes appended.
    #[cfg(test)]
    pub(crate) fn read(
        &self,
        offset: i64,
        max_bytes: usize,
        at_least_one: bool,
        out: &mut Vec<u8>,
    ) -> Result<usize, ReadError> {
        self.read_until(offset, max_bytes, at_least_one, self.log_end_offset, out).map(|(n, _)| n)
    }

    /// Appends to `out` the batches from the one holding `offset` onwards that start below
    /// `end` (a `read_committed` fetch stops at the last stable offset, which is always a
    /// batch's base offset or the log end), as long as the total stays within `max_bytes`; with
    /// `at_least_one`, the first batch goes out whatever its size (so that a consumer always
    /// progresses, KIP-74). Reading at the log end appends nothing. Returns the bytes appended
    /// and the offset after the last batch appended (`offset` if none).
    pub(crate) fn read_until(
        &self,
        offset: i64,
        max_bytes: usize,
        at_least_one: bool,
        end: i64,
        out: &mut Vec<u8>,
    ) -> Result<(usize, i64), ReadError> {
        if offset < self.log_start_offset || offset > self.log_end_offset {
            return Err(ReadError::OffsetOutOfRange);
        }
        let first = self.batches.partition_point(|b| b.last_offset < offset);
        let (mut n, mut next) = (0, offset);
        for b in self.batches.iter().skip(first) {
            if b.base_offset >= end || ((n > 0 || !at_least_one) && n + b.bytes.len() > max_bytes) {
                break;
            }
            out.extend_from_slice(&b.bytes);
            n += b.bytes.len();
            next = b.last_offset.saturating_add(1);
        }
        Ok((n, next))
    }

    /// The first batch whose max timestamp is at or after `timestamp`: its base offset and max
    /// timestamp (Kafka returns the exact record; batch granularity is what this log keeps).
    pub(crate) fn offset_for_timestamp(&self, timestamp: i64) -> Option<(i64, i64)> {
        self.batches.iter().find(|b| b.max_timestamp >= timestamp).map(|b| (b.base_offset, b.max_timestamp))
    }

    /// The batch with the largest max timestamp (first one on ties): its base offset and that
    /// timestamp.
    pub(crate) fn max_timestamp(&self) -> Option<(i64, i64)> {
        let mut best: Option<(i64, i64)> = None;
        for b in &self.batches {
            if best.is_none_or(|(_, t)| b.max_timestamp > t) {
                best = Some((b.base_offset, b.max_timestamp));
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn batch(len: usize) -> Vec<u8> {
        vec![0xAB; len.max(16)]
    }

    #[test]
    fn offsets_are_contiguous_and_rewritten() {
        let mut log = PartitionLog::new(1 << 20);
        assert_eq!(log.append(batch(100), 4, 10, 3), 0);
        assert_eq!(log.append(batch(100), 0, 20, 3), 5);
        assert_eq!(log.log_end_offset(), 6);
        let b: Vec<_> = log.batches().collect();
        assert_eq!((b[0].base_offset, b[0].last_offset, b[1].base_offset, b[1].last_offset), (0, 4, 5, 5));
        assert_eq!(&b[1].bytes[0..8], &5i64.to_be_bytes());
        assert_eq!(&b[1].bytes[12..16], &3i32.to_be_bytes());
    }

    #[test]
    fn byte_bound_drops_oldest_and_keeps_newest() {
        let mut log = PartitionLog::new(250);
        for _ in 0..5 {
            log.append(batch(100), 1, 0, 0);
        }
        assert_eq!(log.batches().len(), 2);
        assert_eq!(log.log_start_offset(), 6);
        assert_eq!(log.log_end_offset(), 10);
        assert_eq!(log.size_bytes(), 200);
        log.append(batch(1000), 0, 0, 0);
        assert_eq!(log.batches().len(), 1);
        assert_eq!(log.log_start_offset(), 10);
        assert_eq!(log.read(2, 100, true, &mut Vec::new()), Err(ReadError::OffsetOutOfRange));
    }

    #[test]
    fn read_returns_the_batch_holding_the_offset_and_at_least_one() {
        let mut log = PartitionLog::new(1 << 20);
        for _ in 0..4 {
            log.append(batch(100), 2, 0, 0);
        }
        let mut out = Vec::new();
        assert_eq!(log.read(4, 250, true, &mut out), Ok(200));
        assert_eq!(&out[0..8], &3i64.to_be_bytes());
        out.clear();
        assert_eq!(log.read(0, 10, true, &mut out), Ok(100));
        assert_eq!(log.read(0, 10, false, &mut out), Ok(0));
        assert_eq!(log.read(12, 10, true, &mut out), Ok(0));
        assert_eq!(log.read(13, 10, true, &mut out), Err(ReadError::OffsetOutOfRange));
        assert_eq!(log.read(-1, 10, true, &mut out), Err(ReadError::OffsetOutOfRange));
        // Up to a bound (the last stable offset): batches starting below it only.
        out.clear();
        assert_eq!(log.read_until(0, 1000, true, 6, &mut out), Ok((200, 6)));
        assert_eq!(log.read_until(6, 1000, true, 6, &mut out), Ok((0, 6)));
        assert_eq!(log.read_until(3, 1000, true, 3, &mut out), Ok((0, 3)));
    }

    #[test]
    fn timestamps() {
        let mut log = PartitionLog::new(1 << 20);
        log.append(batch(20), 0, 100, 0);
        log.append(batch(20), 0, 300, 0);
        log.append(batch(20), 0, 200, 0);
        assert_eq!(log.offset_for_timestamp(150), Some((1, 300)));
        assert_eq!(log.offset_for_timestamp(400), None);
        assert_eq!(log.max_timestamp(), Some((1, 300)));
    }
}
