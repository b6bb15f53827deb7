//! The record accumulator: one open batch per partition, built in place with
//! [`RecordBatchBuilder`], sealed on `batch.size` or `linger.ms`; `buffer.memory` accounting.
//!
//! Guarantees:
//! - A record whose one-record batch exceeds `message.max.bytes` is refused at `send`
//!   ([`SendError::RecordTooLarge`]); nothing is buffered for it.
//! - A batch buffer grows with its contents: it starts with room for a few records (see
//!   [`Accumulator`]) and doubles, up to the batch's limit, as records are appended.
//! - The bytes accounted against `buffer.memory` are the memory the batches hold: each batch
//!   buffer's capacity and its record vector's capacity (16 bytes per record), accounted as
//!   they are allocated and grown. They never exceed it: a record that does not fit is refused
//!   with [`SendError::QueueFull`] (or seals its batch first, when only the batch's growth does
//!   not fit). Recycled buffers are only kept while they fit next to what is accounted.
//! - Batch buffers and record-id vectors are recycled through a free pool, keeping the
//!   capacity they grew to, so steady-state sending does not allocate per record.

use alloc::vec::Vec;

use bytes::Bytes;

use super::report::{RecordId, SendError};
use super::sealer::Sealer;
use crate::proto::record_batch::{ProducerStamp, RECORD_BATCH_OVERHEAD, RecordBatchBuilder};
use crate::proto::writer::{varint_len, varlong_len};
use crate::time::Instant;

/// Per-record bookkeeping kept until the record's report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RecordMeta<T> {
    /// The record's id.
    pub(crate) id: RecordId,
    /// Its CreateTime timestamp (ms).
    pub(crate) timestamp_ms: i64,
    /// The application's value for the record, handed back in its report.
    pub(crate) opaque: T,
}

/// A partition's batch still accepting records.
#[derive(Debug)]
pub(crate) struct OpenBatch<T> {
    builder: RecordBatchBuilder,
    /// Records in offset-delta order.
    pub(crate) records: Vec<RecordMeta<T>>,
    /// When the first record was appended (linger and delivery timeout start here).
    pub(crate) created: Instant,
    /// Bytes accounted against `buffer.memory` for this batch (its buffers' capacities).
    pub(crate) accounted: usize,
    /// The most bytes the batch may reach (its buffer grows up to it): `min(batch.size,
    /// message.max.bytes, buffer.memory)`, or its one record's size when that is larger.
    limit: usize,
}

impl<T> OpenBatch<T> {
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

    /// Bytes its buffers hold.
    fn held(&self) -> usize {
        held_by::<T>(self.builder.capacity(), self.records.capacity())
    }

    /// Seals the batch with `stamp` through `sealer` (the codec); returns the final bytes (a
    /// shared buffer, without a copy), the records, when it was created and its accounted size.
    pub(crate) fn seal(self, stamp: ProducerStamp, sealer: &mut Sealer) -> (Bytes, Vec<RecordMeta<T>>, Instant, usize) {
        (sealer.seal(self.builder, stamp), self.records, self.created, self.accounted)
    }
}

/// Where a record goes once the accumulator looked at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AppendOutcome<T> {
    /// Appended; `full` when the batch reached `batch.size` and should be sealed now.
    Appended {
        /// Whether the batch should be sealed now.
        full: bool,
    },
    /// The open batch has no room (its limit, or memory to grow): seal it, then append again
    /// (with the opaque value given back).
    SealFirst(T),
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

/// Bytes one [`RecordMeta`] takes in a batch's record vector (16 plus the opaque value's size).
pub(crate) const fn record_meta_size<T>() -> usize {
    core::mem::size_of::<RecordMeta<T>>()
}

/// A new batch buffer has room for this many records like its first one...
const FIRST_RECORDS: usize = 4;
/// ... and at least this many bytes (header included), unless the batch's limit is smaller.
const MIN_FIRST_BUFFER: usize = 512;

/// Memory accounting and buffer recycling.
///
/// What counts against `buffer.memory` is the memory the batches hold, not only the bytes
/// encoded so far: each batch buffer's capacity and its record vector's (16 bytes per record
/// plus the size of the opaque value each carries),
/// accounted from the moment they are allocated or grown.
///
/// A new batch's buffer starts small: room for [`FIRST_RECORDS`] records like its first one,
/// at least [`MIN_FIRST_BUFFER`] bytes (about a kilobyte with the record vector, so that even
/// with 10,000 partitions and a 10 MiB `buffer.memory` each partition can hold an open batch of
/// small records), at most the batch's limit (`min(batch.size, message.max.bytes,
/// buffer.memory)`, or exactly the size of a single record larger than that). It doubles, up
/// to that limit, when a record does not fit: a batch that fills up to 128 KiB grows 8 times,
/// copying on the whole less than its final size once, and only until recycled buffers have
/// grown. A growth that does not fit in `buffer.memory` seals the batch instead (the record
/// goes to a new one). A new buffer is cut down to what `buffer.memory` has left, but to less
/// than half its usual start only while no other batch holds memory (so a tight
/// `buffer.memory` still makes progress); otherwise it is `QueueFull`, rather than fragment
/// memory into ever smaller batches.
///
/// Recycled buffers keep the capacity they grew to; those waiting in the free pool are not in
/// [`Accumulator::used`] but the pool only keeps what fits next to it: `used + pooled <=
/// buffer.memory` (outside the short-lived reservations of records waiting for metadata).
#[derive(Debug)]
pub(crate) struct Accumulator<T> {
    /// The limit of a batch: `min(batch.size, message.max.bytes, buffer.memory)`.
    batch_cap: usize,
    max_batch: usize,
    limit: usize,
    used: usize,
    /// Of `used`: bytes held by batches (the rest are reservations of waiting records).
    in_batches: usize,
    /// Bytes held by the free pool.
    pooled: usize,
    free: Vec<(Vec<u8>, Vec<RecordMeta<T>>)>,
}

/// How many recycled buffers to keep at most. High enough for an open batch on each of
/// thousands of partitions (re-allocating them every round costs page faults); `buffer.memory`
/// bounds the pool's bytes in any case.
const MAX_FREE: usize = 16 * 1024;

/// Bytes a batch's buffers hold.
fn held<T>(bytes: &Vec<u8>, records: &Vec<RecordMeta<T>>) -> usize {
    held_by::<T>(bytes.capacity(), records.capacity())
}

/// Bytes a batch buffer of `bytes` capacity and a record vector of `records` capacity hold.
fn held_by<T>(bytes: usize, records: usize) -> usize {
    bytes.saturating_add(records.saturating_mul(record_meta_size::<T>()))
}

impl<T> Accumulator<T> {
    /// Bytes one record's [`RecordMeta`] takes.
    const META: usize = record_meta_size::<T>();

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

    /// Accounts `n` bytes newly held by batches, evicting pooled buffers to stay within
    /// `buffer.memory`.
    fn hold(&mut self, n: usize) {
        self.force_reserve(n);
        self.in_batches = self.in_batches.saturating_add(n);
    }

    /// Drops pooled buffers until `extra` more bytes fit next to them within `buffer.memory`.
    fn trim_pool(&mut self, extra: usize) {
        while self.used.saturating_add(self.pooled).saturating_add(extra) > self.limit {
            let Some((b, r)) = self.free.pop() else { break };
            self.pooled = self.pooled.saturating_sub(held(&b, &r));
        }
    }

    /// Appends `r` (already size-checked) to `open`, creating the batch if needed and growing
    /// its buffers as needed (accounted). A batch never grows past its limit.
    pub(crate) fn append(
        &mut self,
        open: &mut Option<OpenBatch<T>>,
        now: Instant,
        id: RecordId,
        r: &RecordRef<'_>,
        opaque: T,
    ) -> Result<AppendOutcome<T>, (SendError, T)> {
        let batch = match open {
            Some(batch) => batch,
            None => match self.open_batch(now, r) {
                Ok(batch) => open.insert(batch),
                Err(e) => return Err((e, opaque)),
            },
        };
        let first = batch.is_empty();
        let add = batch.builder.record_size(r.timestamp_ms, r.key, r.value, r.headers);
        let after = batch.size().saturating_add(add);
        if !first && after > batch.limit {
            return Ok(AppendOutcome::SealFirst(opaque));
        }
        // Most appends fit what the buffers hold: growing is the exception.
        let room = after <= batch.builder.capacity() && batch.records.len() < batch.records.capacity();
        let grown = room || self.grow(batch, after);
        if !grown || batch.builder.append(r.timestamp_ms, r.key, r.value, r.headers).is_err() {
            if !first {
                // No memory to grow this batch (or it cannot encode one more record): a new one may do.
                return Ok(AppendOutcome::SealFirst(opaque));
            }
            // Not even this record's batch fits now (or check_size let through a record that
            // cannot be encoded): nothing stays buffered for it.
            if let Some(batch) = open.take() {
                self.discard(batch);
            }
            let need = single_record_batch_size(r);
            let e = if grown {
                SendError::RecordTooLarge { size: need, max: self.max_batch }
            } else {
                SendError::QueueFull
            };
            return Err((e, opaque));
        }
        batch.records.push(RecordMeta { id, timestamp_ms: r.timestamp_ms, opaque });
        Ok(AppendOutcome::Appended { full: batch.size() >= batch.limit.min(self.batch_cap) })
    }

    /// Grows `batch`'s buffers, accounted, so that it can take a record making it `after`
    /// bytes: the batch buffer doubles (to at least `after`, at most the batch's limit), the
    /// record vector grows by its length (at least 8). False, changing nothing, if that does
    /// not fit in `buffer.memory`.
    #[cold]
    fn grow(&mut self, batch: &mut OpenBatch<T>, after: usize) -> bool {
        let (size, capacity) = (batch.size(), batch.builder.capacity());
        let bytes_to = if after > capacity { capacity.saturating_mul(2).min(batch.limit).max(after) } else { capacity };
        let (count, records_cap) = (batch.records.len(), batch.records.capacity());
        let records_to = if count == records_cap { count.saturating_add(count.max(8)) } else { records_cap };
        let extra = (bytes_to - capacity).saturating_add((records_to - records_cap).saturating_mul(Self::META));
        if extra == 0 {
            return true;
        }
        if !self.fits(extra) {
            return false;
        }
        let before = batch.held();
        batch.builder.reserve_exact(bytes_to - size);
        batch.records.reserve_exact(records_to - count);
        let grown = batch.held().saturating_sub(before);
        self.hold(grown);
        batch.accounted += grown;
        true
    }

    /// A new batch for a first record `r` (its one-record batch fits the limits: `check_size`),
    /// with accounted buffers: a pooled pair, or new ones (see [`Accumulator`] for their
    /// size). `QueueFull` if they do not fit now, `RecordTooLarge` if they never can.
    fn open_batch(&mut self, now: Instant, r: &RecordRef<'_>) -> Result<OpenBatch<T>, SendError> {
        let need = single_record_batch_size(r);
        if need.saturating_add(Self::META) > self.limit {
            // A batch of this record alone would never fit in `buffer.memory`.
            return Err(SendError::RecordTooLarge { size: need, max: self.limit });
        }
        let (bytes, records) = self.take_buffers(need)?;
        let accounted = held(&bytes, &records);
        let builder = RecordBatchBuilder::with_buffer(bytes, r.timestamp_ms);
        Ok(OpenBatch { builder, records, created: now, accounted, limit: need.max(self.batch_cap) })
    }

    /// Buffers for a new batch whose first record makes a `need`-byte batch, accounted.
    #[allow(clippy::type_complexity, reason = "the pair the free pool holds")]
    fn take_buffers(&mut self, need: usize) -> Result<(Vec<u8>, Vec<RecordMeta<T>>), SendError> {
        if need <= self.batch_cap {
            if let Some((mut bytes, mut records)) = self.free.pop() {
                let n = held(&bytes, &records);
                if self.fits(n) {
                    self.pooled = self.pooled.saturating_sub(n);
                    self.used += n;
                    self.in_batches += n;
                    bytes.clear();
                    records.clear();
                    return Ok((bytes, records));
                }
                self.free.push((bytes, records));
            }
        }
        let per_record = need.saturating_sub(RECORD_BATCH_OVERHEAD).max(1);
        let few = RECORD_BATCH_OVERHEAD.saturating_add(per_record.saturating_mul(FIRST_RECORDS));
        let start = few.clamp(MIN_FIRST_BUFFER.min(self.batch_cap), self.batch_cap);
        // Less when `buffer.memory` has less room left: the record vector is sized for records
        // like this one filling the buffer, so per buffer byte META / per_record more of it.
        let free = self.limit.saturating_sub(self.used);
        let room =
            u128::try_from(free).unwrap_or(u128::MAX) * per_record as u128 / (per_record as u128 + Self::META as u128);
        let room = usize::try_from(room).unwrap_or(usize::MAX);
        let cap = if need > self.batch_cap { need } else { room.clamp(need, start.max(need)) };
        let count = (cap.saturating_sub(RECORD_BATCH_OVERHEAD) / per_record).max(1);
        let n = cap.saturating_add(count.saturating_mul(Self::META));
        // A buffer cut down to less than half the usual start only while no batch holds memory
        // (so a tight buffer.memory still makes progress): otherwise wait for a completed batch
        // rather than fragment the buffer into ever smaller batches.
        if n > free || (cap < start / 2 && self.in_batches > 0) {
            return Err(SendError::QueueFull);
        }
        let bytes: Vec<u8> = Vec::with_capacity(cap);
        let records: Vec<RecordMeta<T>> = Vec::with_capacity(count);
        self.hold(held(&bytes, &records));
        Ok((bytes, records))
    }

    /// Returns a finished batch's buffers for reuse and releases its accounted bytes. Buffers
    /// are kept (with the capacity they grew to) up to the batch limit, and only while they fit
    /// within `buffer.memory`.
    /// `records` must be empty (their opaque values handed back).
    pub(crate) fn recycle(&mut self, bytes: Vec<u8>, mut records: Vec<RecordMeta<T>>, accounted: usize) {
        records.clear();
        self.release(accounted);
        self.in_batches = self.in_batches.saturating_sub(accounted);
        let n = held(&bytes, &records);
        if bytes.capacity() > RECORD_BATCH_OVERHEAD
            && bytes.capacity() <= self.batch_cap
            && self.free.len() < MAX_FREE
            && self.used.saturating_add(self.pooled).saturating_add(n) <= self.limit
        {
            self.pooled += n;
            self.free.push((bytes, records));
        }
    }

    /// Recycles the buffers of a batch never sealed (failed before it was sent).
    pub(crate) fn discard(&mut self, batch: OpenBatch<T>) {
        self.recycle(batch.builder.into_buffer(), batch.records, batch.accounted);
    }

    /// [`Accumulator::recycle`] for a sealed batch's shared bytes: the buffer is reused when
    /// nothing else holds it any more (no request frame still carries it), else only released.
    pub(crate) fn recycle_sealed(&mut self, bytes: Bytes, records: Vec<RecordMeta<T>>, accounted: usize) {
        let bytes = bytes.try_into_mut().map(Vec::from).unwrap_or_default();
        self.recycle(bytes, records, accounted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::Rng;

    fn rec(v: &[u8]) -> RecordRef<'_> {
        RecordRef { timestamp_ms: 1000, key: None, value: Some(v), headers: &[] }
    }

    /// Appends `v` records to `open` until the batch is full or asks to be sealed; returns how
    /// many were appended.
    fn fill(acc: &mut Accumulator<()>, open: &mut Option<OpenBatch<()>>, v: &[u8], first_id: u64) -> u64 {
        let mut n = 0;
        loop {
            match acc.append(open, Instant::ZERO, RecordId(first_id + n), &rec(v), ()).unwrap() {
                AppendOutcome::Appended { full: false } => n += 1,
                AppendOutcome::Appended { full: true } => return n + 1,
                AppendOutcome::SealFirst(()) => return n,
            }
        }
    }

    /// The sealed bytes' allocation, back as a vector (the batch is the only holder).
    fn unshared(bytes: Bytes) -> Vec<u8> {
        Vec::from(bytes.try_into_mut().expect("nothing else holds the batch"))
    }

    #[test]
    fn fills_then_asks_to_seal() {
        let mut acc = Accumulator::new(200, 1000, 10_000);
        let mut open = None;
        let n = fill(&mut acc, &mut open, &[7u8; 50], 0);
        let b = open.take().unwrap();
        assert!(b.size() <= 200 || b.len() == 1);
        assert_eq!(acc.used(), b.accounted);
        assert_eq!(b.len() as u64, n);
        let (bytes, records, _, accounted) =
            b.seal(ProducerStamp { producer_id: 1, producer_epoch: 0, base_sequence: 0 }, &mut Sealer::default());
        let (batch, _) = crate::proto::record_batch::RecordBatch::decode(&bytes).unwrap();
        assert_eq!(batch.header.record_count as usize, records.len());
        let bytes = unshared(bytes);
        // A batch.size below the first buffer's minimum: allocated at it, never grown.
        assert_eq!(bytes.capacity(), 200);
        assert_eq!(accounted, held(&bytes, &records));
        acc.recycle(bytes, records, accounted);
        assert_eq!(acc.used(), 0);
        assert_eq!(acc.pooled(), accounted);
    }

    #[test]
    fn buffers_start_small_and_double_accounted_as_they_grow() {
        let mut acc = Accumulator::new(4096, 1 << 20, 1 << 20);
        let mut open = None;
        let v = [1u8; 100];
        acc.append(&mut open, Instant::ZERO, RecordId(0), &rec(&v), ()).unwrap();
        let first = open.as_ref().unwrap().builder.capacity();
        assert_eq!(first, MIN_FIRST_BUFFER, "room for a few 100-byte records, at least the minimum");
        let mut capacities = alloc::vec![first];
        let mut n = 1;
        loop {
            let outcome = acc.append(&mut open, Instant::ZERO, RecordId(n), &rec(&v), ()).unwrap();
            let b = open.as_ref().unwrap();
            assert_eq!(b.accounted, b.held(), "the accounting follows the capacity");
            assert_eq!(acc.used(), b.accounted);
            if capacities.last() != Some(&b.builder.capacity()) {
                capacities.push(b.builder.capacity());
            }
            match outcome {
                AppendOutcome::Appended { full: false } => n += 1,
                AppendOutcome::Appended { full: true } | AppendOutcome::SealFirst(()) => break,
            }
        }
        assert_eq!(capacities, [512, 1024, 2048, 4096], "doubling up to batch.size");
        let b = open.take().unwrap();
        assert!(b.size() <= 4096);
        let (bytes, records, _, accounted) = b.seal(ProducerStamp::NONE, &mut Sealer::default());
        let bytes = unshared(bytes);
        assert_eq!(accounted, held(&bytes, &records));
        acc.recycle(bytes, records, accounted);
        // The next batch reuses the grown buffer: no growth, no allocation.
        acc.append(&mut open, Instant::ZERO, RecordId(n + 1), &rec(&v), ()).unwrap();
        assert_eq!(open.as_ref().unwrap().builder.capacity(), 4096);
        assert_eq!((acc.used(), acc.pooled()), (accounted, 0));
    }

    #[test]
    fn ten_thousand_partitions_each_hold_an_open_batch() {
        // 128 KiB batches, 10 MiB of buffer.memory: allocated at batch.size, only about 80
        // batches would fit. Buffers that start small let every partition hold one.
        let limit = 10 << 20;
        let mut acc = Accumulator::new(128 << 10, 1 << 20, limit);
        let v = [5u8; 100];
        let mut open: Vec<Option<OpenBatch<()>>> = (0..10_000).map(|_| None).collect();
        for (i, o) in open.iter_mut().enumerate() {
            assert_eq!(
                acc.append(o, Instant::ZERO, RecordId(i as u64), &rec(&v), ()),
                Ok(AppendOutcome::Appended { full: false }),
                "partition {i}"
            );
        }
        assert!(acc.used() <= limit);
        let held: usize = open.iter().flatten().map(OpenBatch::held).sum();
        assert_eq!(acc.used(), held);
    }

    #[test]
    fn a_growth_that_does_not_fit_seals_first() {
        // Room for a batch buffer of 512 bytes and its first growth to 1024 (with a vector for
        // 12 records), not for the next growth to 2048, nor for a second batch next to it.
        let limit = 1500;
        let mut acc = Accumulator::new(4096, 1 << 20, limit);
        let mut open = None;
        let v = [2u8; 100];
        let n = fill(&mut acc, &mut open, &v, 0);
        let b = open.as_ref().unwrap();
        assert_eq!(b.builder.capacity(), 1024, "grew once, then sealed rather than exceed buffer.memory");
        assert!(b.len() as u64 == n && b.size() + 100 > 1024);
        assert!(acc.used() <= limit);
        // Sealed: the next record needs a new batch, which does not fit next to this one.
        let sealed = open.take().unwrap();
        assert_eq!(acc.append(&mut open, Instant::ZERO, RecordId(n), &rec(&v), ()), Err((SendError::QueueFull, ())));
        assert!(open.is_none());
        assert_eq!(acc.used(), sealed.accounted, "a refused record leaves nothing accounted");
    }

    #[test]
    fn a_record_larger_than_batch_size_gets_an_exact_batch() {
        let mut acc = Accumulator::new(100, 1000, 10_000);
        let v = [3u8; 500];
        let r = rec(&v);
        let need = single_record_batch_size(&r);
        let mut open = None;
        assert_eq!(
            acc.append(&mut open, Instant::ZERO, RecordId(0), &r, ()),
            Ok(AppendOutcome::Appended { full: true })
        );
        let b = open.take().unwrap();
        let (bytes, records, _, accounted) = b.seal(ProducerStamp::NONE, &mut Sealer::default());
        assert_eq!(bytes.len(), need);
        let bytes = unshared(bytes);
        assert_eq!(bytes.capacity(), need);
        acc.recycle(bytes, records, accounted);
        assert_eq!((acc.used(), acc.pooled()), (0, 0), "buffers larger than a batch are not pooled");
        // A record that could never fit in buffer.memory is refused as too large.
        let mut small = Accumulator::new(100, 1000, 300);
        assert!(matches!(
            small.append(&mut open, Instant::ZERO, RecordId(1), &r, ()),
            Err((SendError::RecordTooLarge { max: 300, .. }, ()))
        ));
        assert_eq!(small.used(), 0);
    }

    #[test]
    fn the_pool_stays_within_buffer_memory() {
        let limit = 4000;
        let mut acc = Accumulator::new(1000, 1000, limit);
        let v = [0u8; 10];
        let mut batches = Vec::new();
        let mut id = 0;
        // Batches of one record until buffer.memory is full.
        loop {
            let mut open = None;
            match acc.append(&mut open, Instant::ZERO, RecordId(id), &rec(&v), ()) {
                Ok(_) => batches.push(open.take().unwrap()),
                Err(e) => {
                    assert_eq!(e, (SendError::QueueFull, ()));
                    break;
                }
            }
            id += 1;
            assert!(acc.used() <= limit);
        }
        assert_eq!(batches.len(), 4, "{} bytes each", acc.used() / batches.len());
        for b in batches {
            let (bytes, records, _, accounted) = b.seal(ProducerStamp::NONE, &mut Sealer::default());
            acc.recycle_sealed(bytes, records, accounted);
            assert!(acc.used() + acc.pooled() <= limit);
        }
        assert_eq!(acc.used(), 0);
        let pooled = acc.pooled();
        assert!(pooled > 0);
        // A pooled buffer is reused as is.
        let mut open = None;
        acc.append(&mut open, Instant::ZERO, RecordId(id), &rec(&v), ()).unwrap();
        assert_eq!(acc.used() + acc.pooled(), pooled);
        let (bytes, records, _, accounted) = open.take().unwrap().seal(ProducerStamp::NONE, &mut Sealer::default());
        // A batch still held elsewhere (a request frame not yet written) is not reused.
        let frame = bytes.clone();
        acc.recycle_sealed(bytes, records, accounted);
        assert_eq!((acc.used(), acc.pooled()), (0, pooled - accounted));
        drop(frame);
        // Reservations evict pooled buffers rather than exceed buffer.memory.
        let pooled = acc.pooled();
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
        acc.append(&mut a, Instant::ZERO, RecordId(0), &rec(&v), ()).unwrap();
        acc.append(&mut b, Instant::ZERO, RecordId(1), &rec(&v), ()).unwrap();
        let mut c = None;
        assert_eq!(acc.append(&mut c, Instant::ZERO, RecordId(2), &rec(&v), ()), Err((SendError::QueueFull, ())));
        assert!(c.is_none());
        assert!(acc.used() <= 400);
    }

    #[test]
    fn what_batches_hold_never_exceeds_buffer_memory() {
        // Random records over random partitions, sealing and acknowledging at random (some
        // batches still held by a frame when acknowledged): the accounting always equals the
        // capacities the batches hold, within buffer.memory with the pool, and a refused record
        // changes nothing.
        for seed in 0..40 {
            let mut rng = Rng::new(seed);
            let batch_size = [300usize, 4096, 16384][rng.below(3) as usize];
            let limit = [2_000usize, 20_000, 200_000][rng.below(3) as usize];
            let mut acc = Accumulator::new(batch_size, 20_000, limit);
            let mut open: Vec<Option<OpenBatch<()>>> = (0..1 + rng.below(40)).map(|_| None).collect();
            let mut sealed: Vec<(Bytes, Vec<RecordMeta<()>>, usize)> = Vec::new();
            let mut refused = 0;
            for id in 0..3_000u64 {
                let v = alloc::vec![1u8; [10usize, 100, 1000, 5000][rng.below(4) as usize]];
                let p = rng.below(open.len() as u64) as usize;
                let before = acc.used();
                match acc.append(&mut open[p], Instant::ZERO, RecordId(id), &rec(&v), ()) {
                    Ok(AppendOutcome::SealFirst(())) => {
                        let (bytes, records, _, accounted) =
                            open[p].take().unwrap().seal(ProducerStamp::NONE, &mut Sealer::default());
                        sealed.push((bytes, records, accounted));
                    }
                    Ok(AppendOutcome::Appended { .. }) => {}
                    Err(e) => {
                        assert!(matches!(e.0, SendError::QueueFull | SendError::RecordTooLarge { .. }), "{e:?}");
                        assert_eq!(acc.used(), before, "seed {seed}: a refused record leaves nothing");
                        refused += 1;
                        // The exhausted rule: every open batch is sealed.
                        for o in &mut open {
                            if let Some(b) = o.take() {
                                let (bytes, records, _, accounted) =
                                    b.seal(ProducerStamp::NONE, &mut Sealer::default());
                                sealed.push((bytes, records, accounted));
                            }
                        }
                    }
                }
                if rng.chance(0.3) && !sealed.is_empty() {
                    let (bytes, records, accounted) = sealed.swap_remove(rng.below(sealed.len() as u64) as usize);
                    let frame = rng.chance(0.2).then(|| bytes.clone());
                    acc.recycle_sealed(bytes, records, accounted);
                    drop(frame);
                }
                for b in open.iter().flatten() {
                    assert_eq!(b.accounted, b.held(), "seed {seed}");
                }
                let held = open.iter().flatten().map(|b| b.accounted).sum::<usize>()
                    + sealed.iter().map(|s| s.2).sum::<usize>();
                assert_eq!(acc.used(), held, "seed {seed}");
                assert!(acc.used() + acc.pooled() <= limit, "seed {seed}");
            }
            assert!(refused > 0 || limit > 20_000, "seed {seed}: memory never ran out");
        }
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
