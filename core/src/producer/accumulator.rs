//! The record accumulator: one open batch per partition, built in place with
//! [`RecordBatchBuilder`], sealed on `batch.size` or `linger.ms`; `buffer.memory` accounting.
//!
//! Guarantees:
//! - A record whose one-record batch exceeds `message.max.bytes` is refused at `send`
//!   ([`SendError::RecordTooLarge`]); nothing is buffered for it.
//! - The bytes accounted against `buffer.memory` (record sizes plus one batch header per batch)
//!   never exceed it: a record that does not fit is refused with [`SendError::QueueFull`].
//! - Batch buffers and record-id vectors are recycled through a free list, so steady-state
//!   sending does not allocate per record.

use alloc::vec::Vec;

use super::report::{RecordId, SendError};
use crate::proto::record_batch::{ProducerStamp, RECORD_BATCH_OVERHEAD, RecordBatchBuilder};
use crate::proto::writer::{varint_len, varlong_len};
use crate::time::Instant;

/// Per-record bookkeeping kept until the record's report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordMeta {
    /// The record's id.
    pub id: RecordId,
    /// Its CreateTime timestamp (ms).
    pub timestamp_ms: i64,
}

/// A partition's batch still accepting records.
#[derive(Debug)]
pub struct OpenBatch {
    builder: RecordBatchBuilder,
    /// Records in offset-delta order.
    pub records: Vec<RecordMeta>,
    /// When the first record was appended (linger and delivery timeout start here).
    pub created: Instant,
    /// Bytes accounted against `buffer.memory` for this batch.
    pub accounted: usize,
}

impl OpenBatch {
    /// Size of the batch if sealed now.
    pub fn size(&self) -> usize {
        self.builder.size_in_bytes()
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no record was appended.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Seals the batch with `stamp`; returns the final bytes, the records, when it was created
    /// and its accounted size.
    pub fn seal(self, stamp: ProducerStamp) -> (Vec<u8>, Vec<RecordMeta>, Instant, usize) {
        (self.builder.seal(stamp), self.records, self.created, self.accounted)
    }
}

/// Where a record goes once the accumulator looked at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendOutcome {
    /// Appended; `full` when the batch reached `batch.size` and should be sealed now.
    Appended {
        /// Whether the batch should be sealed now.
        full: bool,
    },
    /// The open batch has no room: seal it, then append again.
    SealFirst,
}

/// The record as `send` received it.
#[derive(Clone, Copy, Debug)]
pub struct RecordRef<'a> {
    /// CreateTime (ms).
    pub timestamp_ms: i64,
    /// Key.
    pub key: Option<&'a [u8]>,
    /// Value.
    pub value: Option<&'a [u8]>,
    /// Headers.
    pub headers: &'a [(&'a str, Option<&'a [u8]>)],
}

fn bytes_len(b: Option<&[u8]>) -> usize {
    match b {
        None => 1,
        Some(b) => varint_len(i32::try_from(b.len()).unwrap_or(i32::MAX)).saturating_add(b.len()),
    }
}

/// Size of `r` as the only record of a batch, header included (saturating for absurd sizes).
pub fn single_record_batch_size(r: &RecordRef<'_>) -> usize {
    let mut body: usize = 1 + varlong_len(0) + varint_len(0);
    body = body.saturating_add(bytes_len(r.key)).saturating_add(bytes_len(r.value));
    body = body.saturating_add(varint_len(i32::try_from(r.headers.len()).unwrap_or(i32::MAX)));
    for (k, v) in r.headers {
        body = body.saturating_add(bytes_len(Some(k.as_bytes()))).saturating_add(bytes_len(*v));
    }
    RECORD_BATCH_OVERHEAD.saturating_add(varint_len(i32::try_from(body).unwrap_or(i32::MAX))).saturating_add(body)
}

/// Memory accounting and buffer recycling.
#[derive(Debug)]
pub struct Accumulator {
    batch_size: usize,
    max_batch: usize,
    limit: usize,
    used: usize,
    free_bufs: Vec<Vec<u8>>,
    free_records: Vec<Vec<RecordMeta>>,
}

/// How many recycled buffers to keep at most.
const MAX_FREE: usize = 64;

impl Accumulator {
    /// An accumulator for `batch.size`, `message.max.bytes`, `buffer.memory`.
    pub fn new(batch_size: usize, message_max_bytes: usize, buffer_memory: usize) -> Self {
        Accumulator {
            batch_size,
            max_batch: message_max_bytes,
            limit: buffer_memory,
            used: 0,
            free_bufs: Vec::new(),
            free_records: Vec::new(),
        }
    }

    /// Bytes accounted now.
    pub fn used(&self) -> usize {
        self.used
    }

    /// Checks a record before anything is buffered: too large for `message.max.bytes`.
    pub fn check_size(&self, r: &RecordRef<'_>) -> Result<usize, SendError> {
        let size = single_record_batch_size(r);
        if size > self.max_batch {
            return Err(SendError::RecordTooLarge { size, max: self.max_batch });
        }
        Ok(size)
    }

    /// Accounts `n` bytes outside batches (records waiting for metadata); `QueueFull` if they
    /// do not fit.
    pub fn reserve(&mut self, n: usize) -> Result<(), SendError> {
        if self.used.saturating_add(n) > self.limit {
            return Err(SendError::QueueFull);
        }
        self.used += n;
        Ok(())
    }

    /// Releases bytes accounted earlier.
    pub fn release(&mut self, n: usize) {
        self.used = self.used.saturating_sub(n);
    }

    /// Appends `r` (already size-checked) to `open`, creating the batch if needed.
    pub fn append(
        &mut self,
        open: &mut Option<OpenBatch>,
        now: Instant,
        id: RecordId,
        r: &RecordRef<'_>,
    ) -> Result<AppendOutcome, SendError> {
        match open {
            Some(batch) => {
                let add = batch.builder.record_size(r.timestamp_ms, r.key, r.value, r.headers);
                let after = batch.size().saturating_add(add);
                if !batch.is_empty() && (after > self.batch_size || after > self.max_batch) {
                    return Ok(AppendOutcome::SealFirst);
                }
                self.reserve(add)?;
                if batch.builder.append(r.timestamp_ms, r.key, r.value, r.headers).is_err() {
                    self.release(add);
                    return Ok(AppendOutcome::SealFirst);
                }
                batch.accounted += add;
                batch.records.push(RecordMeta { id, timestamp_ms: r.timestamp_ms });
                Ok(AppendOutcome::Appended { full: batch.size() >= self.batch_size })
            }
            None => {
                let buf = self.free_bufs.pop().unwrap_or_default();
                let mut builder = RecordBatchBuilder::with_buffer(buf, r.timestamp_ms);
                let add = builder.record_size(r.timestamp_ms, r.key, r.value, r.headers);
                let need = add.saturating_add(RECORD_BATCH_OVERHEAD);
                if let Err(e) = self.reserve(need) {
                    self.recycle_buf(builder.seal(ProducerStamp::NONE));
                    return Err(e);
                }
                if builder.append(r.timestamp_ms, r.key, r.value, r.headers).is_err() {
                    // check_size already bounded the record; treat as too large.
                    self.release(need);
                    self.recycle_buf(builder.seal(ProducerStamp::NONE));
                    return Err(SendError::RecordTooLarge { size: need, max: self.max_batch });
                }
                let mut records = self.free_records.pop().unwrap_or_default();
                records.clear();
                records.push(RecordMeta { id, timestamp_ms: r.timestamp_ms });
                let batch = OpenBatch { builder, records, created: now, accounted: need };
                let full = batch.size() >= self.batch_size;
                *open = Some(batch);
                Ok(AppendOutcome::Appended { full })
            }
        }
    }

    /// Returns a finished batch's buffers for reuse and releases its accounted bytes.
    pub fn recycle(&mut self, bytes: Vec<u8>, records: Vec<RecordMeta>, accounted: usize) {
        self.release(accounted);
        self.recycle_buf(bytes);
        if self.free_records.len() < MAX_FREE {
            self.free_records.push(records);
        }
    }

    fn recycle_buf(&mut self, bytes: Vec<u8>) {
        // Keep only buffers of a sensible size (a huge one-off batch is dropped).
        if self.free_bufs.len() < MAX_FREE && bytes.capacity() <= self.batch_size.saturating_mul(2).max(4096) {
            self.free_bufs.push(bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(v: &[u8]) -> RecordRef<'_> {
        RecordRef { timestamp_ms: 1000, key: None, value: Some(v), headers: &[] }
    }

    #[test]
    fn fills_then_asks_to_seal() {
        let mut acc = Accumulator::new(200, 1000, 10_000);
        let mut open = None;
        let v = [7u8; 50];
        let mut n = 0;
        loop {
            match acc.append(&mut open, Instant::ZERO, RecordId(n), &rec(&v)).unwrap() {
                AppendOutcome::Appended { full: false } => n += 1,
                AppendOutcome::Appended { full: true } => {
                    n += 1;
                    break;
                }
                AppendOutcome::SealFirst => break,
            }
        }
        let b = open.take().unwrap();
        assert!(b.size() <= 200 || b.len() == 1);
        assert_eq!(acc.used(), b.accounted);
        assert_eq!(b.len() as u64, n);
        let (bytes, records, _, accounted) =
            b.seal(ProducerStamp { producer_id: 1, producer_epoch: 0, base_sequence: 0 });
        let (batch, _) = crate::proto::record_batch::RecordBatch::decode(&bytes).unwrap();
        assert_eq!(batch.header.record_count as usize, records.len());
        assert_eq!(accounted, bytes.len());
        acc.recycle(bytes, records, accounted);
        assert_eq!(acc.used(), 0);
    }

    #[test]
    fn too_large_and_queue_full() {
        let mut acc = Accumulator::new(100, 200, 350);
        let big = [0u8; 300];
        assert!(matches!(acc.check_size(&rec(&big)), Err(SendError::RecordTooLarge { max: 200, .. })));
        let v = [0u8; 100];
        assert!(acc.check_size(&rec(&v)).is_ok());
        let mut a = None;
        let mut b = None;
        acc.append(&mut a, Instant::ZERO, RecordId(0), &rec(&v)).unwrap();
        acc.append(&mut b, Instant::ZERO, RecordId(1), &rec(&v)).unwrap();
        let mut c = None;
        assert_eq!(acc.append(&mut c, Instant::ZERO, RecordId(2), &rec(&v)), Err(SendError::QueueFull));
        assert!(c.is_none());
        assert!(acc.used() <= 350);
    }

    #[test]
    fn single_size_is_exact() {
        let hs: &[(&str, Option<&[u8]>)] = &[("h", Some(b"v")), ("n", None)];
        let r = RecordRef { timestamp_ms: 5, key: Some(b"k"), value: Some(b"value"), headers: hs };
        let mut b = RecordBatchBuilder::new(5);
        b.append(5, r.key, r.value, r.headers).unwrap();
        assert_eq!(single_record_batch_size(&r), b.size_in_bytes());
    }
}
