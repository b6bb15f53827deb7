//! Zstandard through the C reference library (`zstd-safe`): written as one frame with its
//! content size (`ZSTD_compressCCtx`); read as any sequence of frames (skippable ones included)
//! by single-shot decoding into a flat buffer, as librdkafka's `rd_kafka_zstd_decompress` does:
//! the buffer is the frame's declared content size when it has one (refused beyond the limit,
//! or beyond what the frame's bytes can expand to, before anything is allocated), else it starts at four times the input and doubles, up to the
//! limit, each time the decoder reports it too small. Single-shot decoding keeps no window
//! buffer, so a frame declaring a huge window costs nothing beyond its output.

use super::{CompressionError, Sink};
use alloc::vec::Vec;
use zstd_safe::zstd_sys::ZSTD_ErrorCode;
use zstd_safe::{CCtx, DCtx};

/// The most a zstd frame can expand per byte: a block regenerates at most 128 KiB and takes at
/// least 4 bytes (a 3-byte header and one byte of an RLE block).
const MAX_EXPANSION: u64 = 128 * 1024 / 4;

/// zstd's error code for "destination buffer is too small" (codes are negated enum values).
fn is_dst_too_small(code: usize) -> bool {
    code == (ZSTD_ErrorCode::ZSTD_error_dstSize_tooSmall as usize).wrapping_neg()
}

fn is_truncated(code: usize) -> bool {
    code == (ZSTD_ErrorCode::ZSTD_error_srcSize_wrong as usize).wrapping_neg()
}

/// The compression and decompression contexts, kept between calls.
#[derive(Default)]
pub(super) struct State {
    cctx: Option<CCtx<'static>>,
    dctx: Option<DCtx<'static>>,
}

/// The context in `slot`, created on first use.
fn context<T>(slot: &mut Option<T>, create: fn() -> Option<T>) -> Result<&mut T, CompressionError> {
    match slot {
        Some(c) => Ok(c),
        None => Ok(slot.insert(create().ok_or(CompressionError::Corrupt("zstd could not allocate a context"))?)),
    }
}

pub(super) fn compress(state: &mut State, level: i32, input: &[u8], out: &mut Vec<u8>) -> Result<(), CompressionError> {
    let cctx = context(&mut state.cctx, CCtx::try_create)?;
    let at = out.len();
    out.resize(at + zstd_safe::compress_bound(input.len()), 0);
    let n = cctx
        .compress(out.get_mut(at..).unwrap_or_default(), input, level)
        .map_err(|_| CompressionError::Corrupt("zstd refused to compress"))?;
    out.truncate(at + n);
    Ok(())
}

pub(super) fn decompress(state: &mut State, input: &[u8], sink: &mut Sink<'_>) -> Result<(), CompressionError> {
    let dctx = context(&mut state.dctx, DCtx::try_create)?;
    let declared = match zstd_safe::get_frame_content_size(input) {
        Ok(Some(size)) if input.len() == frame_size(input)? => Some(size),
        Ok(_) => None,
        Err(_) => return Err(CompressionError::Corrupt("not a zstd frame")),
    };
    let max = sink.room();
    let mut size = match declared {
        Some(size) if size > max as u64 => return Err(CompressionError::LimitExceeded { limit: sink.limit }),
        Some(size) if size > (input.len() as u64).saturating_mul(MAX_EXPANSION) => {
            return Err(CompressionError::Corrupt("zstd content size larger than the frame can expand to"));
        }
        Some(size) => size as usize,
        None => input.len().saturating_mul(4).max(4096).min(max),
    };
    let at = sink.out.len();
    loop {
        sink.out.truncate(at);
        sink.extend(size)?;
        match dctx.decompress(sink.out.get_mut(at..).unwrap_or_default(), input) {
            Ok(n) => {
                sink.out.truncate(at + n);
                return Ok(());
            }
            Err(code) if is_dst_too_small(code) && declared.is_none() => {
                if size >= max {
                    return Err(CompressionError::LimitExceeded { limit: sink.limit });
                }
                size = size.saturating_mul(2).min(max);
            }
            Err(code) if is_truncated(code) => return Err(CompressionError::Truncated),
            Err(code) if is_dst_too_small(code) => {
                return Err(CompressionError::Corrupt("zstd frame longer than its declared content size"));
            }
            Err(_) => return Err(CompressionError::Corrupt("invalid zstd data")),
        }
    }
}

/// The compressed size of the first frame of `input` (an error if it is not a whole frame).
fn frame_size(input: &[u8]) -> Result<usize, CompressionError> {
    zstd_safe::find_frame_compressed_size(input).map_err(|code| {
        if is_truncated(code) { CompressionError::Truncated } else { CompressionError::Corrupt("invalid zstd frame") }
    })
}
