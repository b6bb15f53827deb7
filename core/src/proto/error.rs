//! The codec's error types: one for decoding, one for encoding, one for framing.

use super::record_batch::CompressionError;
use core::fmt;

/// Why bytes could not be decoded. Decoders never panic: every malformed input maps to one of
/// these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ended before the value did (`needed` more bytes at least).
    Truncated {
        /// Minimum number of further bytes required.
        needed: usize,
    },
    /// A length or count field is negative (other than the null marker) or larger than the
    /// bytes that are actually present.
    InvalidLength {
        /// The offending length as read.
        length: i64,
    },
    /// A varint ran past its maximum width.
    VarintTooLong,
    /// A string is not valid UTF-8.
    InvalidUtf8,
    /// A null where the protocol does not allow one.
    UnexpectedNull,
    /// The message version is not one idem supports for this API.
    UnsupportedVersion {
        /// The API key.
        api_key: i16,
        /// The version asked for.
        version: i16,
    },
    /// The API key is not one idem knows.
    UnknownApiKey(i16),
    /// A RecordBatch carries a magic byte other than 2.
    UnsupportedMagic(i8),
    /// A RecordBatch's stored CRC-32C does not match its contents.
    CrcMismatch {
        /// CRC stored in the batch header.
        stored: u32,
        /// CRC computed over the batch.
        computed: u32,
    },
    /// A RecordBatch uses a compression codec this build cannot decompress: attribute bits
    /// 5-7 (no codec), or a codec whose cargo feature is off.
    UnsupportedCompression(u8),
    /// A compressed RecordBatch's records section does not decompress (within the caller's
    /// limit).
    Compression(CompressionError),
    /// Bytes were left over after a value that must fill its container exactly.
    TrailingBytes(usize),
    /// A field holds a value the protocol forbids (e.g. a record count that disagrees with the
    /// records present).
    InvalidValue(&'static str),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated { needed } => write!(f, "input truncated: {needed} more bytes needed"),
            DecodeError::InvalidLength { length } => write!(f, "invalid length field {length}"),
            DecodeError::VarintTooLong => f.write_str("varint longer than its maximum width"),
            DecodeError::InvalidUtf8 => f.write_str("string is not valid UTF-8"),
            DecodeError::UnexpectedNull => f.write_str("null where a value is required"),
            DecodeError::UnsupportedVersion { api_key, version } => {
                write!(f, "unsupported version {version} of api key {api_key}")
            }
            DecodeError::UnknownApiKey(k) => write!(f, "unknown api key {k}"),
            DecodeError::UnsupportedMagic(m) => write!(f, "unsupported record batch magic {m}"),
            DecodeError::CrcMismatch { stored, computed } => {
                write!(f, "record batch CRC mismatch: stored {stored:#010x}, computed {computed:#010x}")
            }
            DecodeError::UnsupportedCompression(c) => write!(f, "unsupported compression codec {c}"),
            DecodeError::Compression(e) => write!(f, "records do not decompress: {e}"),
            DecodeError::TrailingBytes(n) => write!(f, "{n} unexpected trailing bytes"),
            DecodeError::InvalidValue(what) => write!(f, "invalid value: {what}"),
        }
    }
}

impl core::error::Error for DecodeError {}

impl From<CompressionError> for DecodeError {
    /// A codec this build lacks becomes [`DecodeError::UnsupportedCompression`] with its
    /// attribute bits; every other failure is [`DecodeError::Compression`].
    fn from(e: CompressionError) -> Self {
        match e {
            CompressionError::Unsupported(codec) => DecodeError::UnsupportedCompression(codec.bits()),
            e => DecodeError::Compression(e),
        }
    }
}

/// Why a value could not be encoded. Encoding never panics and never writes a frame the peer
/// would misread: a value that cannot be represented in the chosen version is an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The message version is not one idem supports for this API.
    UnsupportedVersion {
        /// The API key.
        api_key: i16,
        /// The version asked for.
        version: i16,
    },
    /// A string, byte array or array is longer than its length field can express.
    TooLong {
        /// The length that did not fit.
        length: usize,
    },
    /// A field set to a non-default value does not exist in the chosen version.
    FieldNotInVersion(&'static str),
    /// A value the protocol forbids (e.g. null where a value is required).
    InvalidValue(&'static str),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::UnsupportedVersion { api_key, version } => {
                write!(f, "unsupported version {version} of api key {api_key}")
            }
            EncodeError::TooLong { length } => write!(f, "length {length} does not fit its length field"),
            EncodeError::FieldNotInVersion(field) => {
                write!(f, "field {field} is not in the chosen version")
            }
            EncodeError::InvalidValue(what) => write!(f, "invalid value: {what}"),
        }
    }
}

impl core::error::Error for EncodeError {}

/// Why a size-prefixed frame is unacceptable. A partial frame is not an error: see
/// [`Frame::Partial`](super::frame::Frame::Partial).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The size prefix is negative.
    NegativeSize(i32),
    /// The size prefix exceeds the configured maximum.
    TooLarge {
        /// The announced size.
        size: usize,
        /// The maximum accepted.
        max: usize,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::NegativeSize(s) => write!(f, "negative frame size {s}"),
            FrameError::TooLarge { size, max } => write!(f, "frame of {size} bytes exceeds maximum {max}"),
        }
    }
}

impl core::error::Error for FrameError {}
