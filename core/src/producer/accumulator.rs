//! The record accumulator: one open batch per partition, built in place with
//! [`RecordBatchBuilder`], sealed on `batch.size` or `linger.ms`; `buffer.memory` accounting.
//!
//! Guarantees:
//! - A record whose one-record batch exceeds `message.max.bytes` is refused at `send`
//!   ([`SendError::RecordTooLarge`]); nothing is buffered for it.
//! - The bytes accounted against `buffer.memory` are the memory the batches hold: each batch
//!   buffer's full capacity (allocated once, never reallocated) and its record vector's capacity
//!   (16 bytes per record), accounted from the batch's first record. They never exceed it: a
//!   record that does not fit is refused with [`SendError::QueueFull`]. Recycled buffers are
//!   only kept while they fit next to what is accounted (see [`Accumulator`]).
//! - Batch buffers and record-id vectors are recycled through a free list, so steady-state
//!   sending does not allocate per record.

use alloc::vec::Vec;

use super::report::{RecordId, SendError};
use crate::proto::record_batch::{ProducerStamp, RECORD_BATCH_OVERHEAD, RecordBatchBuilder};
use crate::proto::writer::{varint_len, varlong_len};
use crate::time::Instant;

/// Per-record bookkeeping kept until the record's report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RecordMeta {
    /// The record's id.
    pub(crate) id: RecordId,
    /// Its CreateTime timestamp (ms).
    pub(crate) timestamp_ms: i64,
}

/// A partition's batch still accepting records.
#[derive(Debug)]
pub(crate) struct OpenBatch {
    builder: RecordBatchBuilder,
    /// Records in offset-delta order.
    pub(crate) records: Vec<RecordMeta>,
    /// When the first record was appended (linger and delivery timeout start here).
    pub(crate) created: Instant,
    /// Bytes accounted against `buffer.memory` for this batch (its buffers' capacities).
    pub(crate) accounted: usize,
    /// Capacity of the batch buffer: the batch never grows past it.
    capacity: usize,
}

impl OpenBatch {
    /// Size of the batch if sealed now.
    pub(crate) fn size(&self) -> usize {
        self.builder.size_in_bytes()
    }

    /// Number of records.
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no record was appended.
    pub(crate) fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Seals the batch with `stamp`; returns the final bytes, the records, when it was created
    /// and its accounted size.
    pub(crate) fn seal(self, stamp: ProducerStamp) -> (Vec<u8>, Vec<RecordMeta>, Instant, usize) {
        (self.builder.seal(stamp), self.records, self.created, self.accounted)
    }
}

/// Where a record goes once the accumulator looked at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AppendOutcome {
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
pub(crate) struct RecordRef<'a> {
    /// CreateTime (ms).
    pub(crate) timestamp_ms: i64,
    /// Key.
    pub(crate) key: Option<&'a [u8]>,
    /// Value.
    pub(crate) value: Option<&'a [u8]>,
    /// Headers.
    pub(crate) headers: &'a [(&'a str, Option<&'a [u8]>)],
}

fn bytes_len(b: Option<&[u8]>) -> usize {
    match b {
        None => 1,
        Some(b) => varint_len(i32::try_from(b.len()).unwrap_or(i32::MAX)).saturating_add(b.len()),
    }
}

/// Size of `r` as the only record of a batch, header included (saturating for absurd sizes).
pub(crate) fn single_record_batch_size(r: &RecordRef<'_>) -> usize {
    let mut body: usize = 1 + varlong_len(0) + varint_len(0);
    body = body.saturating_add(bytes_len(r.key)).saturating_add(bytes_len(r.value));
    body = body.saturating_add(varint_len(i32::try_from(r.headers.len()).unwrap_or(i32::MAX)));
    for (k, v) in r.headers {
        body = body.saturating_add(bytes_len(Some(k.as_bytes()))).saturating_add(bytes_len(*v));
    }
    RECORD_BATCH_OVERHEAD.saturating_add(varint_len(i32::try_from(body).unwrap_or(i32::MAX))).saturating_add(body)
}

/// Bytes one [`RecordMeta`] takes in a batch's record vector.
pub(crate) const RECORD_META_SIZE: usize = core::mem::size_of::<RecordMeta>();

/// Memory accounting and buffer recycling.
///
/// What counts against `buffer.memory` is the memory the batches hold, not only the bytes
/// encoded so far: a batch's buffer is allocated once at its final capacity
/// (`min(batch.size, message.max.bytes)`, less when `buffer.memory` has less room left, or
/// exactly the size of a single record larger than that) and accounted in full from its first
/// record, together with the capacity of its record
/// vector (16 bytes per record). Recycled buffers waiting in the free pool are not in
/// [`Accumulator::used`] but the pool only keeps what fits next to it: `used + pooled <=
/// buffer.memory` (outside the short-lived reservations of records waiting for metadata).
#[derive(Debug)]
pub(crate) struct Accumulator {
    /// Capacity of a batch buffer: `min(batch.size, message.max.bytes, buffer.memory)`.
    batch_cap: usize,
    max_batch: usize,
    limit: usize,
    used: usize,
    /// Of `used`: bytes held by batches (the rest are reservations of waiting records).
    in_batches: usize,
    /// Bytes held by the free pool.
    pooled: usize,
    free: Vec<(Vec<u8>, Vec<RecordMeta>)>,
}

/// How many recycled buffers to keep at most. High enough for an open batch on each of
/// thousands of partitions (re-allocating them every round costs page faults); `buffer.memory`
/// bounds the pool's bytes in any case.
const MAX_FREE: usize = 16 * 1024;

/// Bytes a batch's buffers hold.
fn held(bytes: &Vec<u8>, records: &Vec<RecordMeta>) -> usize {
    bytes.capacity().saturating_add(records.capacity().saturating_mul(RECORD_META_SIZE))
}

impl Accumulator {
    /// An accumulator for `batch.size`, `message.max.bytes`, `buffer.memory`.
    pub(crate) fn new(batch_size: usize, message_max_bytes: usize, buffer_memory: usize) -> Self {
        Accumulator {
            batch_cap: batch_size.min(message_max_bytes).min(buffer_memory).max(RECORD_BATCH_OVERHEAD),
            max_batch: message_max_bytes,
            limit: buffer_memory,
            used: 0,
            in_batches: 0,
            pooled: 0,
            free: Vec::new(),
        }
    }

    /// Bytes accounted now (buffers held by batches, reservations of waiting records).
    pub(crate) fn used(&self) -> usize {
        self.used
    }

    /// Bytes held by recycled buffers waiting for reuse (not in [`Accumulator::used`]).
    #[cfg(test)]
    pub(crate) fn pooled(&self) -> usize {
        self.pooled
    }

    /// Checks a record before anything is buffered: too large for `message.max.bytes`.
    pub(crate) fn check_size(&self, r: &RecordRef<'_>) -> Result<usize, SendError> {
        let size = single_record_batch_size(r);
        if size > self.max_batch {
            return Err(SendError::RecordTooLarge { size, max: self.max_batch });
        }
        Ok(size)
    }

    /// Accounts `n` bytes outside batches (records waiting for metadata); `QueueFull` if they
    /// do not fit.
    pub(crate) fn reserve(&mut self, n: usize) -> Result<(), SendError> {
        if self.used.saturating_add(n) > self.limit {
            return Err(SendError::QueueFull);
        }
        self.used += n;
        self.trim_pool(0);
        Ok(())
    }

    /// Accounts `n` bytes even past `buffer.memory` (a waiting record keeping the reservation
    /// it already had).
    pub(crate) fn force_reserve(&mut self, n: usize) {
        self.used = self.used.saturating_add(n);
        self.trim_pool(0);
    }

    fn fits(&self, n: usize) -> bool {
        self.used.saturating_add(n) <= self.limit
    }

    /// Releases bytes accounted earlier.
    pub(crate) fn release(&mut self, n: usize) {
        self.used = self.used.saturating_sub(n);
    }

    /// Drops pooled buffers until `extra` more bytes fit next to them within `buffer.memory`.
    fn trim_pool(&mut self, extra: usize) {
        while self.used.saturating_add(self.pooled).saturating_add(extra) > self.limit {
            let Some((b, r)) = self.free.pop() else { break };
            self.pooled = self.pooled.saturating_sub(held(&b, &r));
        }
    }

    /// Appends `r` (already size-checked) to `open`, creating the batch if needed. A batch never
    /// grows past the capacity it was created with (its buffer is never reallocated).
    pub(crate) fn append(
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
                if !batch.is_empty() && after > batch.capacity {
                    return Ok(AppendOutcome::SealFirst);
                }
                if batch.records.len() == batch.records.capacity() {
                    // Grow the record vector by hand so that its growth is accounted.
                    let grow = batch.records.len().max(8);
                    if !self.fits(grow.saturating_mul(RECORD_META_SIZE)) {
                        // No memory to track more records in this batch: a new one may fit.
                        return Ok(AppendOutcome::SealFirst);
                    }
                    let before = batch.records.capacity();
                    batch.records.reserve_exact(grow);
                    let grown = batch.records.capacity().saturating_sub(before).saturating_mul(RECORD_META_SIZE);
                    self.force_reserve(grown);
                    self.in_batches += grown;
                    batch.accounted += grown;
                }
                if batch.builder.append(r.timestamp_ms, r.key, r.value, r.headers).is_err() {
                    return Ok(AppendOutcome::SealFirst);
                }
                batch.records.push(RecordMeta { id, timestamp_ms: r.timestamp_ms });
                Ok(AppendOutcome::Appended { full: batch.size() >= batch.capacity.min(self.batch_cap) })
            }
            None => {
                let need = single_record_batch_size(r);
                let (bytes, mut records, accounted) = self.take_buffers(need)?;
                let capacity = bytes.capacity();
                let mut builder = RecordBatchBuilder::with_buffer(bytes, r.timestamp_ms);
                if builder.append(r.timestamp_ms, r.key, r.value, r.headers).is_err() {
                    // check_size already bounded the record; treat as too large.
                    self.recycle(builder.seal(ProducerStamp::NONE), records, accounted);
                    return Err(SendError::RecordTooLarge { size: need, max: self.max_batch });
                }
                records.push(RecordMeta { id, timestamp_ms: r.timestamp_ms });
                let batch = OpenBatch { builder, records, created: now, accounted, capacity };
                let full = batch.size() >= capacity.min(self.batch_cap);
                *open = Some(batch);
                Ok(AppendOutcome::Appended { full })
            }
        }
    }

    /// Buffers for a new batch whose first record makes a `need`-byte batch, accounted: a pooled
    /// pair, or new ones at the final capacity: `min(batch.size, message.max.bytes)`, less when
    /// `buffer.memory` has less room left (at least half of that, or just this record when
    /// no other batch holds memory), exactly `need` for a record larger than that. `QueueFull` if even this record's batch does not fit now,
    /// `RecordTooLarge` if it never can.
    fn take_buffers(&mut self, need: usize) -> Result<(Vec<u8>, Vec<RecordMeta>, usize), SendError> {
        if need.saturating_add(RECORD_META_SIZE) > self.limit {
            // A batch of this record alone would never fit in `buffer.memory`.
            return Err(SendError::RecordTooLarge { size: need, max: self.limit });
        }
        if need <= self.batch_cap {
            if let Some((mut bytes, mut records)) = self.free.pop() {
                let n = held(&bytes, &records);
                if self.fits(n) {
                    self.pooled = self.pooled.saturating_sub(n);
                    self.used += n;
                    self.in_batches += n;
                    bytes.clear();
                    records.clear();
                    return Ok((bytes, records, n));
                }
                self.free.push((bytes, records));
            }
        }
        let free = self.limit.saturating_sub(self.used);
        // The record vector is sized for records like this one filling the batch: per buffer
        // byte, 16 / per_record more bytes of it.
        let per_record = need.saturating_sub(RECORD_BATCH_OVERHEAD).max(1);
        let room = u128::try_from(free).unwrap_or(u128::MAX) * per_record as u128
            / (per_record as u128 + RECORD_META_SIZE as u128);
        let room = usize::try_from(room).unwrap_or(usize::MAX);
        let cap = if need > self.batch_cap { need } else { room.clamp(need, self.batch_cap) };
        let count = (cap.saturating_sub(RECORD_BATCH_OVERHEAD) / per_record).max(1);
        let n = cap.saturating_add(count.saturating_mul(RECORD_META_SIZE));
        // A batch cut down to less than half a batch only while no other batch holds memory (so
        // a tight buffer.memory still makes progress): otherwise wait for a completed batch
        // rather than fragment the buffer into ever smaller batches.
        if n > free || (cap < self.batch_cap / 2 && self.in_batches > 0) {
            return Err(SendError::QueueFull);
        }
        self.trim_pool(n);
        let bytes: Vec<u8> = Vec::with_capacity(cap);
        let records: Vec<RecordMeta> = Vec::with_capacity(count);
        let n = held(&bytes, &records);
        self.used += n;
        self.in_batches += n;
        Ok((bytes, records, n))
    }

    /// Returns a finished batch's buffers for reuse and releases its accounted bytes. Only
    /// standard-size buffers are kept, and only while they fit within `buffer.memory`.
    pub(crate) fn recycle(&mut self, bytes: Vec<u8>, records: Vec<RecordMeta>, accounted: usize) {
        self.release(accounted);
        self.in_batches = self.in_batches.saturating_sub(accounted);
        let n = held(&bytes, &records);
        if bytes.capacity() == self.batch_cap
            && self.free.len() < MAX_FREE
            && self.used.saturating_add(self.pooled).saturating_add(n) <= self.limit
        {
            self.pooled += n;
            self.free.push((bytes, records));
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
        assert_eq!(bytes.capacity(), 200, "allocated once at batch.size, never grown");
        assert_eq!(accounted, held(&bytes, &records));
        acc.recycle(bytes, records, accounted);
        assert_eq!(acc.used(), 0);
        assert_eq!(acc.pooled(), accounted);
    }

    #[test]
    fn buffers_are_allocated_once_and_accounted_in_full() {
        let mut acc = Accumulator::new(4096, 1 << 20, 1 << 20);
        let mut open = None;
        let v = [1u8; 100];
        acc.append(&mut open, Instant::ZERO, RecordId(0), &rec(&v)).unwrap();
        let (size, accounted) = {
            let b = open.as_ref().unwrap();
            (b.size(), b.accounted)
        };
        assert!(size < 4096);
        assert_eq!(acc.used(), accounted);
        assert!(accounted >= 4096, "the whole buffer is accounted from the first record: {accounted}");
        let mut n = 1;
        while let AppendOutcome::Appended { full } =
            acc.append(&mut open, Instant::ZERO, RecordId(n), &rec(&v)).unwrap()
        {
            n += 1;
            if full {
                break;
            }
        }
        let b = open.take().unwrap();
        assert!(b.size() <= 4096);
        let accounted = b.accounted;
        assert_eq!(acc.used(), accounted);
        let (bytes, records, _, _) = b.seal(ProducerStamp::NONE);
        assert_eq!(bytes.capacity(), 4096);
        assert_eq!(accounted, held(&bytes, &records));
        assert_eq!(records.len() as u64, n);
    }

    #[test]
    fn a_record_larger_than_batch_size_gets_an_exact_batch() {
        let mut acc = Accumulator::new(100, 1000, 10_000);
        let v = [3u8; 500];
        let r = rec(&v);
        let need = single_record_batch_size(&r);
        let mut open = None;
        assert_eq!(acc.append(&mut open, Instant::ZERO, RecordId(0), &r), Ok(AppendOutcome::Appended { full: true }));
        let b = open.take().unwrap();
        let (bytes, records, _, accounted) = b.seal(ProducerStamp::NONE);
        assert_eq!(bytes.len(), need);
        assert_eq!(bytes.capacity(), need);
        acc.recycle(bytes, records, accounted);
        assert_eq!((acc.used(), acc.pooled()), (0, 0), "odd-size buffers are not pooled");
        // A record that could never fit in buffer.memory is refused as too large.
        let mut small = Accumulator::new(100, 1000, 300);
        assert!(matches!(
            small.append(&mut open, Instant::ZERO, RecordId(1), &r),
            Err(SendError::RecordTooLarge { max: 300, .. })
        ));
        assert_eq!(small.used(), 0);
    }

    #[test]
    fn the_pool_stays_within_buffer_memory() {
        let limit = 3 * (1000 + 64 * RECORD_META_SIZE) + 1400;
        let mut acc = Accumulator::new(1000, 1000, limit);
        let v = [0u8; 10];
        let mut batches = Vec::new();
        let mut id = 0;
        // Batches until buffer.memory is full: three whole ones, then a smaller one in what is left.
        loop {
            let mut open = None;
            match acc.append(&mut open, Instant::ZERO, RecordId(id), &rec(&v)) {
                Ok(_) => batches.push(open.take().unwrap()),
                Err(e) => {
                    assert_eq!(e, SendError::QueueFull);
                    break;
                }
            }
            id += 1;
            assert!(acc.used() <= limit);
        }
        assert_eq!(batches.len(), 4);
        let whole = batches.iter().filter(|b| b.capacity == 1000).count();
        assert_eq!(whole, 3);
        for b in batches {
            let (bytes, records, _, accounted) = b.seal(ProducerStamp::NONE);
            acc.recycle(bytes, records, accounted);
            assert!(acc.used() + acc.pooled() <= limit);
        }
        assert_eq!(acc.used(), 0);
        let pooled = acc.pooled();
        assert!(pooled > 0);
        // A pooled buffer is reused as is.
        let mut open = None;
        acc.append(&mut open, Instant::ZERO, RecordId(id), &rec(&v)).unwrap();
        assert_eq!(acc.used() + acc.pooled(), pooled);
        let b = open.take().unwrap();
        assert_eq!(b.capacity, 1000);
        let (bytes, records, _, accounted) = b.seal(ProducerStamp::NONE);
        acc.recycle(bytes, records, accounted);
        // Reservations evict pooled buffers rather than exceed buffer.memory.
        acc.reserve(limit - 100).unwrap();
        assert!(acc.used() + acc.pooled() <= limit);
        assert!(acc.pooled() < pooled);
    }

    #[test]
    fn too_large_and_queue_full() {
        let mut acc = Accumulator::new(100, 200, 400);
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
        assert!(acc.used() <= 400);
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
