//! The records section codecs of RecordBatch v2 (attributes bits 0-2): compress a records
//! section as Kafka's clients write it, decompress what any client writes, with a bound on the
//! output that holds while decompressing.
//!
//! | codec | writes | reads | cargo feature |
//! |---|---|---|---|
//! | gzip | one RFC 1952 member (Java's `GZIPOutputStream`) | any number of members, FEXTRA/FNAME/FCOMMENT/FHCRC, CRC-32 and ISIZE verified | `gzip` (`miniz_oxide`, no `std` needed) |
//! | snappy | xerial framing with 32 KiB blocks (Java's `SnappyOutputStream`) | xerial framing, any number of chunks and concatenated streams, or raw snappy (what `SnappyInputStream` falls back to) | `snappy` (`snap`, needs `std`) |
//! | lz4 | LZ4 frame, independent 64 KiB blocks, no checksums but the descriptor's (Kafka's `KafkaLZ4BlockOutputStream`) | any LZ4 frame: independent or linked blocks, block and content checksums verified when present, content size, uncompressed blocks, skippable frames, concatenated frames | `lz4` (`lz4_flex` block codec, no `std` needed) |
//! | zstd | one frame with its content size (`ZSTD_compressCCtx`) | any frames (single-shot decoding as librdkafka's `rd_kafka_zstd_decompress`: no window buffer, whatever window the frame declares) | `zstd` (the C reference library through `zstd-safe`) |
//!
//! A codec whose feature is off is [`CompressionError::Unsupported`] both ways.
//!
//! **The bound.** [`decompress`] never makes its output longer than `limit` bytes: every codec
//! grows the output in steps while it decodes (gzip, zstd), or checks each block's declared
//! size against what is left of the limit before it allocates it (snappy, lz4), and stops with
//! [`CompressionError::LimitExceeded`] as soon as the next byte would cross it. The caller
//! chooses the limit as librdkafka does (`receive.message.max.bytes` bounds its decompression
//! of lz4 and zstd): a fixed number, not a multiple of the input, since legitimate batches of
//! repetitive records compress by factors in the thousands. So a few bytes of input cost at
//! most `limit` bytes of memory (plus the codec's fixed state: about 11 KiB for inflate, one
//! zstd decompression context).

use super::Compression;
use alloc::vec::Vec;
use core::fmt;
use core::ops::RangeInclusive;

#[cfg(feature = "gzip")]
mod gzip;
#[cfg(feature = "lz4")]
mod lz4;
#[cfg(feature = "snappy")]
mod snappy;
#[cfg(feature = "lz4")]
pub(crate) mod xxhash32;
#[cfg(feature = "zstd")]
mod zstd;

#[cfg(test)]
mod tests;

/// Why a records section could not be compressed or decompressed. Every malformed input maps to
/// one of these; nothing panics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompressionError {
    /// This build has the codec's cargo feature off (or the codec is [`Compression::None`],
    /// which has nothing to compress).
    Unsupported(Compression),
    /// The level is outside the codec's range ([`Compression::level_range`]).
    InvalidLevel {
        /// The codec.
        codec: Compression,
        /// The level given.
        level: i32,
    },
    /// The decompressed data would be longer than the limit (the caller's bound; nothing past
    /// it was written), or a compressed batch would not fit a RecordBatch's int32 length.
    LimitExceeded {
        /// The bound that would have been crossed, in bytes.
        limit: usize,
    },
    /// The input ended inside a frame, block or trailer.
    Truncated,
    /// A checksum carried by the data does not match it (gzip's CRC-32 or ISIZE, LZ4's
    /// descriptor, block or content xxHash32).
    ChecksumMismatch,
    /// The input is not valid data of the codec (bad magic, reserved bits, a block that does
    /// not decode); says what.
    Corrupt(&'static str),
}

impl fmt::Display for CompressionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompressionError::Unsupported(c) => {
                write!(f, "compression codec {} is not supported by this build", c.name())
            }
            CompressionError::InvalidLevel { codec, level } => {
                write!(f, "compression level {level} is out of range for {}", codec.name())
            }
            CompressionError::LimitExceeded { limit } => {
                write!(f, "decompressed data exceeds the limit of {limit} bytes")
            }
            CompressionError::Truncated => f.write_str("compressed data truncated"),
            CompressionError::ChecksumMismatch => f.write_str("compressed data checksum mismatch"),
            CompressionError::Corrupt(what) => write!(f, "corrupt compressed data: {what}"),
        }
    }
}

impl core::error::Error for CompressionError {}

impl Compression {
    /// Every codec, in attribute-bits order.
    pub const ALL: [Compression; 5] =
        [Compression::None, Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd];

    /// Kafka's name of the codec (`compression.type`): `none`, `gzip`, `snappy`, `lz4`, `zstd`.
    pub const fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }

    /// The codec named `name` (Kafka's names, as [`Compression::name`]); `None` for any other
    /// string.
    pub fn from_name(name: &str) -> Option<Compression> {
        Compression::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether this build compresses and decompresses the codec (its cargo feature is on).
    /// Always true for [`Compression::None`].
    pub const fn is_enabled(self) -> bool {
        match self {
            Compression::None => true,
            Compression::Gzip => cfg!(feature = "gzip"),
            Compression::Snappy => cfg!(feature = "snappy"),
            Compression::Lz4 => cfg!(feature = "lz4"),
            Compression::Zstd => cfg!(feature = "zstd"),
        }
    }

    /// The levels Kafka accepts for the codec (KIP-390's `compression.gzip.level`,
    /// `compression.lz4.level`, `compression.zstd.level`); `None` for codecs without levels
    /// (none, snappy), which ignore any level given.
    ///
    /// lz4 accepts Kafka's range but always compresses with LZ4's fast compressor (`lz4_flex`
    /// has no high-compression mode); its output is a valid frame at every level.
    pub const fn level_range(self) -> Option<RangeInclusive<i32>> {
        match self {
            Compression::None | Compression::Snappy => None,
            Compression::Gzip => Some(1..=9),
            Compression::Lz4 => Some(1..=17),
            Compression::Zstd => Some(-131_072..=22),
        }
    }

    /// The level used when none is given: Kafka's defaults (gzip 6, Java's
    /// `Deflater.DEFAULT_COMPRESSION`; lz4 9; zstd 3); `None` for codecs without levels.
    pub const fn default_level(self) -> Option<i32> {
        match self {
            Compression::None | Compression::Snappy => None,
            Compression::Gzip => Some(6),
            Compression::Lz4 => Some(9),
            Compression::Zstd => Some(3),
        }
    }

    /// The lowest Produce version whose batches may use the codec: 7 for zstd (KIP-110: a
    /// broker answers UNSUPPORTED_COMPRESSION_TYPE to zstd in older versions), 0 otherwise.
    pub const fn min_produce_version(self) -> i16 {
        match self {
            Compression::Zstd => 7,
            _ => 0,
        }
    }

    /// The lowest Fetch version a consumer may be served the codec in: 10 for zstd (KIP-110),
    /// 0 otherwise.
    pub const fn min_fetch_version(self) -> i16 {
        match self {
            Compression::Zstd => 10,
            _ => 0,
        }
    }

    /// The level to compress with: `level`, or the default; checked against the range.
    fn resolve_level(self, level: Option<i32>) -> Result<i32, CompressionError> {
        match (self.level_range(), level) {
            (None, _) => Ok(0),
            (Some(_), None) => Ok(self.default_level().unwrap_or(0)),
            (Some(range), Some(l)) if range.contains(&l) => Ok(l),
            (Some(_), Some(level)) => Err(CompressionError::InvalidLevel { codec: self, level }),
        }
    }
}

/// Appends `input` compressed with `codec` at `level` to `out`: [`CompressionContext::compress`]
/// with a fresh context (its codec state allocated for this call only).
pub fn compress(
    codec: Compression,
    level: Option<i32>,
    input: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), CompressionError> {
    CompressionContext::new().compress(codec, level, input, out)
}

/// Appends the decompression of `input` to `out`, at most `limit` bytes:
/// [`CompressionContext::decompress`] with a fresh context.
pub fn decompress(codec: Compression, input: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), CompressionError> {
    CompressionContext::new().decompress(codec, input, limit, out)
}

/// Codec state kept from one call to the next, so that compressing or decompressing many
/// batches allocates and initialises it once: zstd's compression and decompression contexts
/// (creating them costs about as much as compressing a 16 KiB batch), deflate's and inflate's
/// state, and the buffer [`RecordBatchBuilder::seal_compressed`](super::RecordBatchBuilder::seal_compressed)
/// compresses into. Each part is created on first use. A producer keeps one per thread that
/// seals batches; the results do not depend on what the context did before.
#[derive(Default)]
pub struct CompressionContext {
    /// Where `seal_compressed` compresses a records section before copying it into the batch.
    pub(crate) scratch: Vec<u8>,
    #[cfg(feature = "gzip")]
    gzip: gzip::State,
    #[cfg(feature = "zstd")]
    zstd: zstd::State,
}

impl fmt::Debug for CompressionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompressionContext").field("scratch_capacity", &self.scratch.capacity()).finish_non_exhaustive()
    }
}

impl CompressionContext {
    /// A context holding nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `input` compressed with `codec` at `level` (`None`: the codec's default;
    /// ignored by codecs without levels) to `out`, in the format Kafka's Java client writes
    /// (see the module docs). On error `out` is left as it was.
    ///
    /// Errors: [`CompressionError::Unsupported`] for [`Compression::None`] or a codec whose
    /// feature is off, [`CompressionError::InvalidLevel`] for a level outside
    /// [`Compression::level_range`].
    pub fn compress(
        &mut self,
        codec: Compression,
        level: Option<i32>,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CompressionError> {
        if !codec.is_enabled() || codec == Compression::None {
            return Err(CompressionError::Unsupported(codec));
        }
        let level = codec.resolve_level(level)?;
        let start = out.len();
        let result = match codec {
            #[cfg(feature = "gzip")]
            Compression::Gzip => gzip::compress(&mut self.gzip, level, input, out),
            #[cfg(feature = "snappy")]
            Compression::Snappy => snappy::compress(input, out),
            #[cfg(feature = "lz4")]
            Compression::Lz4 => lz4::compress(input, out),
            #[cfg(feature = "zstd")]
            Compression::Zstd => zstd::compress(&mut self.zstd, level, input, out),
            _ => {
                let _ = (level, input);
                Err(CompressionError::Unsupported(codec))
            }
        };
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    /// Appends the decompression of `input` (a records section compressed with `codec`) to
    /// `out`, appending at most `limit` bytes: decoding stops with
    /// [`CompressionError::LimitExceeded`] before the output would grow past it (see the
    /// module docs for how each codec checks). On error `out` is left as it was (its capacity
    /// may have grown, by at most `limit`).
    ///
    /// Errors: [`CompressionError::Unsupported`] for [`Compression::None`] or a codec whose
    /// feature is off; otherwise the input's defect.
    pub fn decompress(
        &mut self,
        codec: Compression,
        input: &[u8],
        limit: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), CompressionError> {
        if !codec.is_enabled() || codec == Compression::None {
            return Err(CompressionError::Unsupported(codec));
        }
        let start = out.len();
        let mut sink = Sink { out, start, limit };
        let result = match codec {
            #[cfg(feature = "gzip")]
            Compression::Gzip => gzip::decompress(&mut self.gzip, input, &mut sink),
            #[cfg(feature = "snappy")]
            Compression::Snappy => snappy::decompress(input, &mut sink),
            #[cfg(feature = "lz4")]
            Compression::Lz4 => lz4::decompress(input, &mut sink),
            #[cfg(feature = "zstd")]
            Compression::Zstd => zstd::decompress(&mut self.zstd, input, &mut sink),
            _ => {
                let _ = (input, &mut sink);
                Err(CompressionError::Unsupported(codec))
            }
        };
        if result.is_err() {
            sink.out.truncate(start);
        }
        result
    }
}

/// The output of one decompression: `out[start..]` is what it appended, never longer than
/// `limit`.
#[cfg_attr(not(any(feature = "gzip", feature = "snappy", feature = "lz4", feature = "zstd")), allow(dead_code))]
pub(crate) struct Sink<'o> {
    pub(crate) out: &'o mut Vec<u8>,
    pub(crate) start: usize,
    pub(crate) limit: usize,
}

#[cfg_attr(not(any(feature = "gzip", feature = "snappy", feature = "lz4", feature = "zstd")), allow(dead_code))]
impl Sink<'_> {
    /// Bytes appended so far.
    pub(crate) fn written(&self) -> usize {
        self.out.len() - self.start
    }

    /// Bytes that may still be appended.
    pub(crate) fn room(&self) -> usize {
        self.limit.saturating_sub(self.written())
    }

    /// Makes `n` more bytes (zeroed) available at the end, or fails if that crosses the limit.
    pub(crate) fn extend(&mut self, n: usize) -> Result<(), CompressionError> {
        if n > self.room() {
            return Err(CompressionError::LimitExceeded { limit: self.limit });
        }
        self.out.reserve_exact(n);
        self.out.resize(self.out.len() + n, 0);
        Ok(())
    }

    /// Grows the zeroed tail for a decoder that fills as much as it is given: doubles what was
    /// appended so far (at least `min_step` bytes), capped at the limit; fails once the limit is
    /// reached.
    #[cfg(feature = "gzip")]
    pub(crate) fn grow(&mut self, min_step: usize) -> Result<(), CompressionError> {
        let step = self.written().max(min_step).min(self.room());
        if step == 0 {
            return Err(CompressionError::LimitExceeded { limit: self.limit });
        }
        self.extend(step)
    }
}

/// Reads a fixed-size array at `at`, or `Truncated`.
#[cfg_attr(not(any(feature = "gzip", feature = "snappy", feature = "lz4")), allow(dead_code))]
pub(crate) fn take<const N: usize>(input: &[u8], at: usize) -> Result<[u8; N], CompressionError> {
    let mut a = [0u8; N];
    a.copy_from_slice(
        input.get(at..at.checked_add(N).ok_or(CompressionError::Truncated)?).ok_or(CompressionError::Truncated)?,
    );
    Ok(a)
}
