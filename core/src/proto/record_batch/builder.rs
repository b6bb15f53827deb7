//! [`RecordBatchBuilder`]: appends records straight into the batch buffer, seals once.

use super::{Compression, CompressionContext, CompressionError};
use super::{
    LOG_OVERHEAD, MAX_BATCH_SIZE, OFF_ATTRIBUTES, OFF_BASE_OFFSET, OFF_BASE_SEQUENCE, OFF_BASE_TIMESTAMP,
    OFF_BATCH_LENGTH, OFF_CRC, OFF_LAST_OFFSET_DELTA, OFF_LEADER_EPOCH, OFF_MAGIC, OFF_MAX_TIMESTAMP,
    OFF_PRODUCER_EPOCH, OFF_PRODUCER_ID, OFF_RECORD_COUNT, ProducerStamp, RECORD_BATCH_OVERHEAD, put_at,
};
use crate::proto::error::EncodeError;
use crate::proto::writer::{varint_len, varlong_len};
use alloc::vec::Vec;

/// Bytes a varint-length-prefixed nullable byte string takes; `None` if its length does not fit.
fn varint_bytes_len(b: Option<&[u8]>) -> Option<usize> {
    match b {
        None => Some(1),
        Some(b) => {
            let n = i32::try_from(b.len()).ok()?;
            Some(varint_len(n) + b.len())
        }
    }
}

/// Builds one batch by appending records into a reusable buffer; no allocation per record once
/// the buffer has grown to the batch size.
#[derive(Clone, Debug)]
pub struct RecordBatchBuilder {
    /// Header placeholder (RECORD_BATCH_OVERHEAD bytes) followed by the records.
    buf: Vec<u8>,
    base_timestamp: i64,
    max_timestamp: i64,
    count: i32,
}

impl RecordBatchBuilder {
    /// An empty builder; `base_timestamp` is the first record's timestamp (ms).
    pub fn new(base_timestamp: i64) -> Self {
        Self::with_buffer(Vec::new(), base_timestamp)
    }

    /// Same, reusing `buf`'s allocation (cleared).
    pub fn with_buffer(mut buf: Vec<u8>, base_timestamp: i64) -> Self {
        buf.clear();
        buf.resize(RECORD_BATCH_OVERHEAD, 0);
        RecordBatchBuilder { buf, base_timestamp, max_timestamp: i64::MIN, count: 0 }
    }

    /// Size of the record body (without its length varint), or `None` if it cannot be encoded.
    fn body_size(
        &self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&str, Option<&[u8]>)],
    ) -> Option<usize> {
        let mut n = 1 + varlong_len(timestamp.wrapping_sub(self.base_timestamp)) + varint_len(self.count);
        n += varint_bytes_len(key)? + varint_bytes_len(value)?;
        n += varint_len(i32::try_from(headers.len()).ok()?);
        for (k, v) in headers {
            n = n.checked_add(varint_bytes_len(Some(k.as_bytes()))? + varint_bytes_len(*v)?)?;
        }
        i32::try_from(n).ok()?;
        Some(n)
    }

    /// Bytes the record would add to the batch (its length varint included). `usize::MAX` if it
    /// cannot be encoded at all.
    pub fn record_size(
        &self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&str, Option<&[u8]>)],
    ) -> usize {
        match self.body_size(timestamp, key, value, headers) {
            Some(n) => varint_len(n as i32) + n,
            None => usize::MAX,
        }
    }

    /// Appends a record (offset delta = count so far). Errors only if a length cannot be
    /// encoded (a field, the record, the batch length or the record count would overflow its
    /// int32); the builder is then unchanged.
    pub fn append(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&str, Option<&[u8]>)],
    ) -> Result<(), EncodeError> {
        let too_long = |length| EncodeError::TooLong { length };
        let body = self.body_size(timestamp, key, value, headers).ok_or(too_long(usize::MAX))?;
        let total = varint_len(body as i32) + body;
        if self.buf.len().saturating_add(total) > MAX_BATCH_SIZE {
            return Err(too_long(self.buf.len().saturating_add(total)));
        }
        if self.count == i32::MAX {
            return Err(too_long(self.count as usize + 1));
        }
        // Small fields go through a stack scratch so that each record costs a few copies.
        let buf = &mut self.buf;
        buf.reserve(total);
        let mut s = Scratch::new();
        s.varint(body as i32);
        s.byte(0); // attributes
        s.uvar(zigzag64(timestamp.wrapping_sub(self.base_timestamp)));
        s.varint(self.count);
        s.bytes_len(key);
        s.flush(buf);
        buf.extend_from_slice(key.unwrap_or_default());
        s.bytes_len(value);
        s.flush(buf);
        buf.extend_from_slice(value.unwrap_or_default());
        s.varint(headers.len() as i32);
        for (k, v) in headers {
            s.bytes_len(Some(k.as_bytes()));
            s.flush(buf);
            buf.extend_from_slice(k.as_bytes());
            s.bytes_len(*v);
            s.flush(buf);
            buf.extend_from_slice(v.unwrap_or_default());
        }
        s.flush(buf);
        self.count += 1;
        self.max_timestamp = self.max_timestamp.max(timestamp);
        Ok(())
    }

    /// Bytes the buffer holds room for (header included) before it must grow.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Makes room for at least `additional` more bytes, growing the buffer to exactly that
    /// (as `Vec::reserve_exact`): for a caller that decides how the buffer grows. Appending
    /// reserves on its own otherwise.
    pub fn reserve_exact(&mut self, additional: usize) {
        self.buf.reserve_exact(additional);
    }

    /// Gives the buffer back without sealing (to reuse its allocation); its bytes are not a
    /// valid batch.
    pub fn into_buffer(self) -> Vec<u8> {
        self.buf
    }

    /// Records appended so far.
    pub fn record_count(&self) -> i32 {
        self.count
    }

    /// Size of the whole batch if sealed now (header included).
    pub fn size_in_bytes(&self) -> usize {
        self.buf.len()
    }

    /// Whether no record has been appended.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Finishes the batch: writes base offset 0, lengths, partition leader epoch -1, attributes
    /// 0 (no compression, CreateTime), timestamps (max timestamp -1 for an empty batch), the
    /// producer stamp, and the CRC-32C. The bytes are final: a retry sends exactly these bytes.
    pub fn seal(self, stamp: ProducerStamp) -> Vec<u8> {
        self.seal_flagged(stamp, 0)
    }

    /// [`RecordBatchBuilder::seal`] with `flags` (attribute bits above the codec's, e.g.
    /// [`ATTR_TRANSACTIONAL`](super::ATTR_TRANSACTIONAL)) set in the attributes.
    pub(crate) fn seal_flagged(self, stamp: ProducerStamp, flags: i16) -> Vec<u8> {
        let (mut buf, header) = self.into_parts();
        header.write(&mut buf, i16::from(Compression::None.bits()) | flags, stamp);
        buf
    }

    /// Finishes the batch with its records section compressed by `codec` at `level` (`None`:
    /// the codec's default, Kafka's `compression.<codec>.level`; see
    /// [`Compression::level_range`]): the records are compressed into `ctx`'s buffer (its
    /// allocation and codec state kept for the next batch), then copied back over the
    /// uncompressed records; the header is written as by [`RecordBatchBuilder::seal`] with
    /// attributes bits 0-2 set to the codec and the batch length and CRC-32C of the compressed
    /// batch. The returned buffer is the builder's, so its allocation is reused.
    /// [`Compression::None`] seals uncompressed. The bytes are final: a retry sends exactly
    /// these bytes (never compress again: a different level or library version would change
    /// them).
    ///
    /// The record count, offsets, timestamps and sequences are those of the uncompressed
    /// records; the batch's length (what `message.max.bytes` limits) is the compressed one.
    ///
    /// Errors (the batch is then dropped): [`CompressionError::Unsupported`] when the codec's
    /// cargo feature is off, [`CompressionError::InvalidLevel`], or
    /// [`CompressionError::LimitExceeded`] if the compressed batch would not fit an int32
    /// batch length. A producer checks the first two when it is configured
    /// ([`Compression::is_enabled`], [`Compression::level_range`]).
    pub fn seal_compressed(
        self,
        stamp: ProducerStamp,
        codec: Compression,
        level: Option<i32>,
        ctx: &mut CompressionContext,
    ) -> Result<Vec<u8>, CompressionError> {
        match self.seal_compressing(stamp, codec, level, ctx, |_| true, 0) {
            (buf, Ok(_)) => Ok(buf),
            (_, Err(e)) => Err(e),
        }
    }

    /// [`RecordBatchBuilder::seal_compressed`] for a caller that must not lose the records (a
    /// producer): the batch is sealed compressed when compressing succeeds and the compressed
    /// batch is at most `max_size` bytes, and uncompressed otherwise (as by
    /// [`RecordBatchBuilder::seal`]). Returns the bytes and the codec they carry.
    ///
    /// A compressed batch larger than the uncompressed one (incompressible records) is still
    /// sealed compressed while it is within `max_size`, as Kafka's Java client sends it
    /// (`MemoryRecordsBuilder` compresses whatever the outcome).
    pub fn seal_compressed_within(
        self,
        stamp: ProducerStamp,
        codec: Compression,
        level: Option<i32>,
        ctx: &mut CompressionContext,
        max_size: usize,
    ) -> (Vec<u8>, Compression) {
        self.seal_compressed_flagged(stamp, codec, level, ctx, max_size, 0)
    }

    /// [`RecordBatchBuilder::seal_compressed_within`] with `flags` (attribute bits above the
    /// codec's: [`ATTR_TRANSACTIONAL`](super::ATTR_TRANSACTIONAL) for a transactional producer)
    /// set in the attributes.
    pub(crate) fn seal_compressed_flagged(
        self,
        stamp: ProducerStamp,
        codec: Compression,
        level: Option<i32>,
        ctx: &mut CompressionContext,
        max_size: usize,
        flags: i16,
    ) -> (Vec<u8>, Compression) {
        let keep = |compressed| compressed <= max_size;
        let (buf, used) = self.seal_compressing(stamp, codec, level, ctx, keep, flags);
        (buf, used.unwrap_or(Compression::None))
    }

    /// Compresses the records with `codec` into `ctx`'s buffer; if that succeeds and `keep`
    /// accepts the compressed batch's size, seals the batch compressed (`Ok(codec)`), else
    /// uncompressed (`Ok(None)` when `keep` refused, `Err` when compressing failed).
    fn seal_compressing(
        self,
        stamp: ProducerStamp,
        codec: Compression,
        level: Option<i32>,
        ctx: &mut CompressionContext,
        keep: impl FnOnce(usize) -> bool,
        flags: i16,
    ) -> (Vec<u8>, Result<Compression, CompressionError>) {
        let (mut buf, header) = self.into_parts();
        if codec == Compression::None {
            header.write(&mut buf, i16::from(Compression::None.bits()) | flags, stamp);
            return (buf, Ok(Compression::None));
        }
        let mut scratch = core::mem::take(&mut ctx.scratch);
        scratch.clear();
        let compressed = ctx.compress(codec, level, buf.get(RECORD_BATCH_OVERHEAD..).unwrap_or_default(), &mut scratch);
        let size = RECORD_BATCH_OVERHEAD.saturating_add(scratch.len());
        let used = match compressed {
            Ok(()) if size > MAX_BATCH_SIZE => Err(CompressionError::LimitExceeded { limit: MAX_BATCH_SIZE }),
            Ok(()) if keep(size) => {
                buf.truncate(RECORD_BATCH_OVERHEAD);
                buf.extend_from_slice(&scratch);
                Ok(codec)
            }
            Ok(()) => Ok(Compression::None),
            Err(e) => Err(e),
        };
        ctx.scratch = scratch;
        header.write(&mut buf, i16::from(used.as_ref().unwrap_or(&Compression::None).bits()) | flags, stamp);
        (buf, used)
    }

    /// The buffer and the header fields the records determine.
    fn into_parts(self) -> (Vec<u8>, SealHeader) {
        let max_timestamp = if self.count == 0 { -1 } else { self.max_timestamp };
        (self.buf, SealHeader { base_timestamp: self.base_timestamp, max_timestamp, count: self.count })
    }
}

/// The header fields a sealed batch takes from its records.
struct SealHeader {
    base_timestamp: i64,
    max_timestamp: i64,
    count: i32,
}

impl SealHeader {
    /// Fills in the header reserved at the front of `buf` (whose length is now final), with
    /// `attributes`, and the CRC-32C.
    fn write(&self, buf: &mut [u8], attributes: i16, stamp: ProducerStamp) {
        let batch_length = (buf.len() - LOG_OVERHEAD) as i32;
        let mut h = [0u8; RECORD_BATCH_OVERHEAD];
        let fields: [(usize, &[u8]); 12] = [
            (OFF_BASE_OFFSET, &0i64.to_be_bytes()),
            (OFF_BATCH_LENGTH, &batch_length.to_be_bytes()),
            (OFF_LEADER_EPOCH, &(-1i32).to_be_bytes()),
            (OFF_MAGIC, &[2]),
            (OFF_ATTRIBUTES, &attributes.to_be_bytes()),
            (OFF_LAST_OFFSET_DELTA, &self.count.saturating_sub(1).max(0).to_be_bytes()),
            (OFF_BASE_TIMESTAMP, &self.base_timestamp.to_be_bytes()),
            (OFF_MAX_TIMESTAMP, &self.max_timestamp.to_be_bytes()),
            (OFF_PRODUCER_ID, &stamp.producer_id.to_be_bytes()),
            (OFF_PRODUCER_EPOCH, &stamp.producer_epoch.to_be_bytes()),
            (OFF_BASE_SEQUENCE, &stamp.base_sequence.to_be_bytes()),
            (OFF_RECORD_COUNT, &self.count.to_be_bytes()),
        ];
        for (at, bytes) in fields {
            put_at(&mut h, at, bytes);
        }
        put_at(buf, 0, &h);
        let crc = crate::crc32c::checksum(buf.get(OFF_ATTRIBUTES..).unwrap_or_default());
        put_at(buf, OFF_CRC, &crc.to_be_bytes());
    }
}

fn zigzag64(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// A few bytes of small fields assembled on the stack, then appended with one copy.
struct Scratch {
    buf: [u8; 32],
    len: usize,
}

impl Scratch {
    #[inline(always)]
    fn new() -> Self {
        Scratch { buf: [0; 32], len: 0 }
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    /// An unsigned LEB128 value (callers never put more than 32 bytes between flushes).
    #[inline(always)]
    fn uvar(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.byte(v as u8 | 0x80);
            v >>= 7;
        }
        self.byte(v as u8);
    }

    #[inline(always)]
    fn varint(&mut self, v: i32) {
        self.uvar(u64::from(((v << 1) ^ (v >> 31)) as u32));
    }

    /// The varint length of a nullable byte string (-1 for null); its length was checked.
    #[inline(always)]
    fn bytes_len(&mut self, b: Option<&[u8]>) {
        self.varint(b.map_or(-1, |b| b.len() as i32));
    }

    #[inline(always)]
    fn flush(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.buf.get(..self.len).unwrap_or_default());
        self.len = 0;
    }
}

/// Overwrites base_offset of the encoded batch at the front of `batch` (not covered by the
/// CRC; what a broker does when appending). Returns false if `batch` is too short.
pub fn set_base_offset(batch: &mut [u8], base_offset: i64) -> bool {
    put_at(batch, OFF_BASE_OFFSET, &base_offset.to_be_bytes())
}

/// Overwrites partitionLeaderEpoch likewise (not covered by the CRC).
pub fn set_partition_leader_epoch(batch: &mut [u8], epoch: i32) -> bool {
    put_at(batch, OFF_LEADER_EPOCH, &epoch.to_be_bytes())
}

/// Overwrites producer id, epoch and base sequence of an encoded batch and recomputes its
/// CRC-32C (what a producer does to a never-transmitted batch when it renumbers). Returns false,
/// changing nothing, if `batch` is shorter than a RecordBatch header.
pub fn restamp(batch: &mut [u8], stamp: ProducerStamp) -> bool {
    if batch.len() < RECORD_BATCH_OVERHEAD {
        return false;
    }
    put_at(batch, OFF_PRODUCER_ID, &stamp.producer_id.to_be_bytes());
    put_at(batch, OFF_PRODUCER_EPOCH, &stamp.producer_epoch.to_be_bytes());
    put_at(batch, OFF_BASE_SEQUENCE, &stamp.base_sequence.to_be_bytes());
    let crc = crate::crc32c::checksum(batch.get(OFF_ATTRIBUTES..).unwrap_or_default());
    put_at(batch, OFF_CRC, &crc.to_be_bytes())
}
