//! RecordBatch v2 (magic 2): encode with CRC-32C, decode with verification.
//!
//! Layout (KIP-98's message format v2): `baseOffset i64 | batchLength i32 | partitionLeaderEpoch i32 |
//! magic i8 | crc u32 | attributes i16 | lastOffsetDelta i32 | baseTimestamp i64 |
//! maxTimestamp i64 | producerId i64 | producerEpoch i16 | baseSequence i32 | recordCount i32 |
//! records`. The CRC-32C covers `attributes` to the end of the batch.
//!
//! - [`RecordBatchBuilder`] appends records straight into one buffer whose first
//!   [`RECORD_BATCH_OVERHEAD`] bytes are reserved for the header; [`RecordBatchBuilder::seal`]
//!   fills the header in and computes the CRC once. No allocation per record once the buffer
//!   has grown.
//! - [`RecordBatch::decode`] trusts no length field: the batch length is checked against the
//!   bytes present, the CRC verified, and [`RecordBatch::records`] validates every record's
//!   lengths and that the record count agrees with the records present. No input panics.

use super::error::DecodeError;
use super::reader::Reader;
use alloc::vec::Vec;

/// Length of the fixed RecordBatch v2 header (baseOffset .. recordCount).
pub const RECORD_BATCH_OVERHEAD: usize = 61;
/// Attributes bit 4: the batch is part of a transaction (Kafka's
/// `DefaultRecordBatch.TRANSACTIONAL_FLAG_MASK`).
pub const ATTR_TRANSACTIONAL: i16 = 0x10;
/// Attributes bit 5: the batch holds control records, not data (Kafka's
/// `DefaultRecordBatch.CONTROL_FLAG_MASK`); see [`control`].
pub const ATTR_CONTROL: i16 = 0x20;

mod builder;
pub mod compression;
pub mod control;
pub use builder::{RecordBatchBuilder, restamp, set_base_offset, set_partition_leader_epoch};
pub use compression::{CompressionContext, CompressionError, compress, decompress};

/// Bytes before `batchLength` counts (baseOffset, batchLength).
const LOG_OVERHEAD: usize = 12;
// Field offsets of the RecordBatch v2 header (KIP-98's message format).
const OFF_BASE_OFFSET: usize = 0;
const OFF_BATCH_LENGTH: usize = 8;
const OFF_LEADER_EPOCH: usize = 12;
const OFF_MAGIC: usize = 16;
const OFF_CRC: usize = 17;
/// Start of the CRC-covered region.
const OFF_ATTRIBUTES: usize = 21;
const OFF_LAST_OFFSET_DELTA: usize = 23;
const OFF_BASE_TIMESTAMP: usize = 27;
const OFF_MAX_TIMESTAMP: usize = 35;
const OFF_PRODUCER_ID: usize = 43;
const OFF_PRODUCER_EPOCH: usize = 51;
const OFF_BASE_SEQUENCE: usize = 53;
const OFF_RECORD_COUNT: usize = 57;
/// The fewest bytes a record can take: length, attributes, timestamp delta, offset delta, key,
/// value and header count, one byte each.
const MIN_RECORD_SIZE: usize = 7;
/// The largest batch (from offset 0) whose batchLength still fits an int32.
const MAX_BATCH_SIZE: usize = i32::MAX as usize + LOG_OVERHEAD;

/// Compression codec from attributes bits 0-2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Uncompressed records (0).
    None,
    /// gzip (1).
    Gzip,
    /// Snappy (2).
    Snappy,
    /// LZ4 (3).
    Lz4,
    /// Zstandard (4).
    Zstd,
}

impl Compression {
    /// The codec for attribute bits 0-2; `None` for the unassigned values 5-7.
    pub const fn from_bits(bits: u8) -> Option<Compression> {
        match bits {
            0 => Some(Compression::None),
            1 => Some(Compression::Gzip),
            2 => Some(Compression::Snappy),
            3 => Some(Compression::Lz4),
            4 => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// The attribute bits of this codec.
    pub const fn bits(self) -> u8 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }
}

/// The producer identity stamped into a batch when it is sealed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerStamp {
    /// Producer id (-1: none).
    pub producer_id: i64,
    /// Producer epoch (-1: none).
    pub producer_epoch: i16,
    /// Sequence number of the first record (-1: none).
    pub base_sequence: i32,
}

impl ProducerStamp {
    /// No producer identity (-1, -1, -1): a non-idempotent batch.
    pub const NONE: ProducerStamp = ProducerStamp { producer_id: -1, producer_epoch: -1, base_sequence: -1 };
}

/// The decoded fixed header of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordBatchHeader {
    /// Offset of the first record (set by the broker).
    pub base_offset: i64,
    /// Bytes after this field (the batch spans `12 + batch_length` bytes).
    pub batch_length: i32,
    /// Leader epoch stamped by the broker (-1 from producers).
    pub partition_leader_epoch: i32,
    /// Always 2 in a decoded batch.
    pub magic: i8,
    /// The stored CRC-32C.
    pub crc: u32,
    /// Compression (bits 0-2), timestamp type (3), transactional (4), control (5).
    pub attributes: i16,
    /// Offset delta of the last record.
    pub last_offset_delta: i32,
    /// Timestamp the record timestamp deltas are relative to (ms).
    pub base_timestamp: i64,
    /// Largest record timestamp (ms).
    pub max_timestamp: i64,
    /// Producer id (-1: none).
    pub producer_id: i64,
    /// Producer epoch (-1: none).
    pub producer_epoch: i16,
    /// Sequence number of the first record (-1: none).
    pub base_sequence: i32,
    /// Number of records the batch declares (never negative in a decoded batch).
    pub record_count: i32,
}

impl RecordBatchHeader {
    /// The codec of attribute bits 0-2; values 5-7 are [`DecodeError::UnsupportedCompression`].
    pub fn compression(&self) -> Result<Compression, DecodeError> {
        let bits = (self.attributes & 0x07) as u8;
        Compression::from_bits(bits).ok_or(DecodeError::UnsupportedCompression(bits))
    }

    /// Attribute bit 4 ([`ATTR_TRANSACTIONAL`]).
    pub fn is_transactional(&self) -> bool {
        self.attributes & ATTR_TRANSACTIONAL != 0
    }

    /// Attribute bit 5 ([`ATTR_CONTROL`]).
    pub fn is_control(&self) -> bool {
        self.attributes & ATTR_CONTROL != 0
    }

    /// Attribute bit 3: timestamps are LogAppendTime (else CreateTime).
    pub fn timestamp_type_log_append(&self) -> bool {
        self.attributes & 0x08 != 0
    }

    /// base_sequence + record_count - 1 with Int32 wrap (MAX -> 0), as Kafka computes it; -1
    /// when the batch carries no sequence (base_sequence -1).
    pub fn last_sequence(&self) -> i32 {
        if self.base_sequence == -1 {
            return -1;
        }
        increment_sequence(self.base_sequence, self.record_count.saturating_sub(1))
    }

    /// base_offset + last_offset_delta (wrapping, never panicking).
    pub fn last_offset(&self) -> i64 {
        self.base_offset.wrapping_add(i64::from(self.last_offset_delta))
    }
}

/// Kafka's sequence arithmetic: (base + delta) wrapping at i32::MAX back to 0 (for a
/// non-negative `delta`; a negative one simply wraps).
pub fn increment_sequence(base: i32, delta: i32) -> i32 {
    if delta >= 0 && base > i32::MAX - delta { delta - (i32::MAX - base) - 1 } else { base.wrapping_add(delta) }
}

fn be_i64(b: &[u8], at: usize) -> i64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        a.copy_from_slice(s);
    }
    i64::from_be_bytes(a)
}
fn be_i32(b: &[u8], at: usize) -> i32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    i32::from_be_bytes(a)
}
fn be_i16(b: &[u8], at: usize) -> i16 {
    let mut a = [0u8; 2];
    if let Some(s) = b.get(at..at + 2) {
        a.copy_from_slice(s);
    }
    i16::from_be_bytes(a)
}
/// Overwrites `bytes.len()` bytes at `at`; false if `buf` is too short.
pub(super) fn put_at(buf: &mut [u8], at: usize, bytes: &[u8]) -> bool {
    match buf.get_mut(at..at + bytes.len()) {
        Some(dst) => {
            dst.copy_from_slice(bytes);
            true
        }
        None => false,
    }
}

/// One decoded batch, borrowing the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordBatch<'a> {
    /// The fixed header.
    pub header: RecordBatchHeader,
    /// The whole batch (header included).
    bytes: &'a [u8],
}

impl<'a> RecordBatch<'a> {
    /// Decodes the batch at the front of `buf` (checks magic 2, batch_length against the bytes
    /// present, and the CRC-32C); returns it and the bytes it spans (12 + batch_length).
    pub fn decode(buf: &'a [u8]) -> Result<(RecordBatch<'a>, usize), DecodeError> {
        let (batch, len) = Self::parse(buf)?;
        let computed = crate::crc32c::checksum(batch.bytes.get(OFF_ATTRIBUTES..).unwrap_or_default());
        if computed != batch.header.crc {
            return Err(DecodeError::CrcMismatch { stored: batch.header.crc, computed });
        }
        batch.check_record_count()?;
        Ok((batch, len))
    }

    /// Same without CRC verification (header fields only are validated).
    pub fn decode_unverified(buf: &'a [u8]) -> Result<(RecordBatch<'a>, usize), DecodeError> {
        let (batch, len) = Self::parse(buf)?;
        batch.check_record_count()?;
        Ok((batch, len))
    }

    /// Reads the header, checking magic and batch length (what must hold before the CRC can
    /// be computed).
    fn parse(buf: &'a [u8]) -> Result<(RecordBatch<'a>, usize), DecodeError> {
        if buf.len() <= OFF_MAGIC {
            return Err(DecodeError::Truncated { needed: OFF_MAGIC + 1 - buf.len() });
        }
        let batch_length = be_i32(buf, OFF_BATCH_LENGTH);
        let magic = buf.get(OFF_MAGIC).map_or(0, |&m| m as i8);
        if magic != 2 {
            return Err(DecodeError::UnsupportedMagic(magic));
        }
        if batch_length < (RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) as i32 {
            return Err(DecodeError::InvalidLength { length: i64::from(batch_length) });
        }
        let total = LOG_OVERHEAD + batch_length as usize;
        let Some(bytes) = buf.get(..total) else {
            return Err(DecodeError::Truncated { needed: total - buf.len() });
        };
        let header = RecordBatchHeader {
            base_offset: be_i64(bytes, OFF_BASE_OFFSET),
            batch_length,
            partition_leader_epoch: be_i32(bytes, OFF_LEADER_EPOCH),
            magic,
            crc: be_i32(bytes, OFF_CRC) as u32,
            attributes: be_i16(bytes, OFF_ATTRIBUTES),
            last_offset_delta: be_i32(bytes, OFF_LAST_OFFSET_DELTA),
            base_timestamp: be_i64(bytes, OFF_BASE_TIMESTAMP),
            max_timestamp: be_i64(bytes, OFF_MAX_TIMESTAMP),
            producer_id: be_i64(bytes, OFF_PRODUCER_ID),
            producer_epoch: be_i16(bytes, OFF_PRODUCER_EPOCH),
            base_sequence: be_i32(bytes, OFF_BASE_SEQUENCE),
            record_count: be_i32(bytes, OFF_RECORD_COUNT),
        };
        Ok((RecordBatch { header, bytes }, total))
    }

    /// The record count is not negative, and (uncompressed) not more than the bytes can hold.
    fn check_record_count(&self) -> Result<(), DecodeError> {
        let count = self.header.record_count;
        if count < 0 {
            return Err(DecodeError::InvalidLength { length: i64::from(count) });
        }
        if self.header.attributes & 0x07 == 0 && count as usize > self.records_bytes().len() / MIN_RECORD_SIZE {
            return Err(DecodeError::InvalidValue("record count exceeds the records present"));
        }
        Ok(())
    }

    /// The whole encoded batch (header included), borrowed from the input.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The raw records section (compressed if the batch is).
    pub fn records_bytes(&self) -> &'a [u8] {
        self.bytes.get(RECORD_BATCH_OVERHEAD..).unwrap_or_default()
    }

    /// Iterates the records of an uncompressed batch, borrowing the input and allocating
    /// nothing; a compressed batch yields `Err(UnsupportedCompression)` on the first call (use
    /// [`RecordBatch::decompressed_records`]). Each record is validated: lengths, count.
    pub fn records(&self) -> Records<'a> {
        let state = match self.header.compression() {
            Ok(Compression::None) => Ok(self.header.record_count as usize),
            Ok(c) => Err(DecodeError::UnsupportedCompression(c.bits())),
            Err(e) => Err(e),
        };
        Records { r: Reader::new(self.records_bytes()), state: Some(state) }
    }
}

impl<'a> RecordBatch<'a> {
    /// Iterates the records of a batch, compressed or not. An uncompressed batch's records
    /// borrow the input, as [`RecordBatch::records`] (`scratch` is not touched, nothing is
    /// allocated). A compressed batch's records section is decompressed into `scratch`
    /// (cleared first; at most `limit` bytes, checked while decompressing: see
    /// [`compression::decompress`]) and the records borrow it, validated the same way: a
    /// decompressed section holding more or fewer records than the header's count yields an
    /// error item.
    ///
    /// Errors: [`DecodeError::UnsupportedCompression`] for attribute bits 5-7 or a codec whose
    /// cargo feature is off, [`DecodeError::Compression`] for a records section that does not
    /// decompress within `limit`.
    pub fn decompressed_records<'s>(&self, scratch: &'s mut Vec<u8>, limit: usize) -> Result<Records<'s>, DecodeError>
    where
        'a: 's,
    {
        let codec = self.header.compression()?;
        if codec == Compression::None {
            return Ok(self.records());
        }
        scratch.clear();
        compression::decompress(codec, self.records_bytes(), limit, scratch)?;
        let data: &'s [u8] = scratch;
        Ok(Records { r: Reader::new(data), state: Some(Ok(self.header.record_count as usize)) })
    }
}

/// Iterator over the records of a batch; see [`RecordBatch::records`] and
/// [`RecordBatch::decompressed_records`]. After yielding an error it ends.
#[derive(Clone, Debug)]
pub struct Records<'a> {
    r: Reader<'a>,
    /// Records still to read, or the error to yield; `None` once finished.
    state: Option<Result<usize, DecodeError>>,
}

impl<'a> Records<'a> {
    fn next_record(&mut self, remaining: usize) -> Result<Option<Record<'a>>, DecodeError> {
        if remaining == 0 {
            return match self.r.remaining() {
                0 => Ok(None),
                n => Err(DecodeError::TrailingBytes(n)),
            };
        }
        if self.r.is_empty() {
            return Err(DecodeError::InvalidValue("record count exceeds the records present"));
        }
        let len = self.r.varint()?;
        if len < 0 {
            return Err(DecodeError::InvalidLength { length: i64::from(len) });
        }
        let body = self.r.take(len as usize)?;
        Record::decode(body).map(Some)
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.state.take()? {
            Err(e) => Some(Err(e)),
            Ok(remaining) => match self.next_record(remaining) {
                Ok(Some(rec)) => {
                    self.state = Some(Ok(remaining - 1));
                    Some(Ok(rec))
                }
                Ok(None) => None,
                Err(e) => Some(Err(e)),
            },
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.state {
            Some(Ok(n)) => (0, Some(n.saturating_add(1))),
            Some(Err(_)) => (1, Some(1)),
            None => (0, Some(0)),
        }
    }
}

/// Splits a byte string holding several concatenated batches (a partition's `records` field).
/// Each batch is decoded with CRC verification; after the first error the iterator ends. A
/// trailing partial batch (as a Fetch response may end with) is an `Err(Truncated)`.
pub fn batches(buf: &[u8]) -> Batches<'_> {
    Batches { rest: buf }
}

/// Iterator over concatenated batches; see [`batches`].
#[derive(Clone, Debug)]
pub struct Batches<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Batches<'a> {
    type Item = Result<RecordBatch<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match RecordBatch::decode(self.rest) {
            Ok((batch, len)) => {
                self.rest = self.rest.get(len..).unwrap_or_default();
                Some(Ok(batch))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// One record of a batch, borrowing the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// Record attributes (unused by Kafka, 0).
    pub attributes: i8,
    /// Timestamp relative to the batch's base timestamp.
    pub timestamp_delta: i64,
    /// Offset relative to the batch's base offset.
    pub offset_delta: i32,
    /// The key (`None`: null).
    pub key: Option<&'a [u8]>,
    /// The value (`None`: null).
    pub value: Option<&'a [u8]>,
    /// The headers, decoded lazily (already validated).
    pub headers: RecordHeaders<'a>,
}

impl<'a> Record<'a> {
    /// Decodes one record body (without its length prefix), which it must fill exactly.
    fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let attributes = r.i8()?;
        let timestamp_delta = r.varlong()?;
        let offset_delta = r.varint()?;
        let key = r.varint_bytes()?;
        let value = r.varint_bytes()?;
        let count = r.varint()?;
        if count < 0 || count as usize > r.remaining() / 2 {
            return Err(DecodeError::InvalidLength { length: i64::from(count) });
        }
        let headers = RecordHeaders { data: r.rest(), count: count as usize };
        for _ in 0..count {
            read_header(&mut r)?;
        }
        r.finish()?;
        Ok(Record { attributes, timestamp_delta, offset_delta, key, value, headers })
    }

    /// The absolute timestamp: the batch's base timestamp plus the delta (wrapping).
    pub fn timestamp(&self, header: &RecordBatchHeader) -> i64 {
        header.base_timestamp.wrapping_add(self.timestamp_delta)
    }

    /// The absolute offset: the batch's base offset plus the delta (wrapping).
    pub fn offset(&self, header: &RecordBatchHeader) -> i64 {
        header.base_offset.wrapping_add(i64::from(self.offset_delta))
    }

    /// The record's sequence number: base sequence + offset delta with Kafka's wrap; -1 when the
    /// batch carries no sequence.
    pub fn sequence(&self, header: &RecordBatchHeader) -> i32 {
        if header.base_sequence == -1 { -1 } else { increment_sequence(header.base_sequence, self.offset_delta) }
    }
}

/// One header: a non-null UTF-8 key and a nullable value.
fn read_header<'a>(r: &mut Reader<'a>) -> Result<(&'a str, Option<&'a [u8]>), DecodeError> {
    let key = r.varint_bytes()?.ok_or(DecodeError::UnexpectedNull)?;
    let key = core::str::from_utf8(key).map_err(|_| DecodeError::InvalidUtf8)?;
    let value = r.varint_bytes()?;
    Ok((key, value))
}

/// Lazily decoded headers: Iterator<Item = Result<(&'a str, Option<&'a [u8]>), DecodeError>>,
/// with len(). Headers of a record returned by [`Records`] were validated when it was decoded,
/// so iterating them yields no error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeaders<'a> {
    data: &'a [u8],
    count: usize,
}

impl RecordHeaders<'_> {
    /// Headers not yet iterated.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no header remains.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

impl<'a> Iterator for RecordHeaders<'a> {
    type Item = Result<(&'a str, Option<&'a [u8]>), DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.count == 0 {
            return None;
        }
        let mut r = Reader::new(self.data);
        let item = read_header(&mut r);
        self.data = r.rest();
        self.count = if item.is_ok() { self.count - 1 } else { 0 };
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.count))
    }
}

#[cfg(test)]
mod tests;
