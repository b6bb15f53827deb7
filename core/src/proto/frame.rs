//! int32 size-prefixed framing.
//!
//! [`parse_frame`] looks at the front of a receive buffer and says whether a whole frame is
//! there; it never copies. [`begin_frame`] / [`finish_frame`] write the prefix around a body
//! appended in place.

use super::error::{EncodeError, FrameError};
use alloc::vec::Vec;

/// Kafka's default `socket.request.max.bytes` (100 MiB): a sensible cap for frames.
pub const DEFAULT_MAX_FRAME: usize = 100 * 1024 * 1024;

/// What the front of a receive buffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A whole frame: its body (without the size prefix) and how many bytes to drop from the
    /// buffer (prefix + body).
    Complete {
        /// The frame body.
        body: &'a [u8],
        /// Bytes consumed from the buffer.
        consumed: usize,
    },
    /// Not enough bytes yet: at least `needed` more are required.
    Partial {
        /// Minimum further bytes required.
        needed: usize,
    },
}

/// Parses one frame from the front of `buf`. A size above `max` or below zero is an error (the
/// connection should be closed); a short buffer is [`Frame::Partial`].
pub fn parse_frame(buf: &[u8], max: usize) -> Result<Frame<'_>, FrameError> {
    let Some(prefix) = buf.get(..4) else {
        return Ok(Frame::Partial { needed: 4 - buf.len() });
    };
    let size = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
    if size < 0 {
        return Err(FrameError::NegativeSize(size));
    }
    let size = size as usize;
    if size > max {
        return Err(FrameError::TooLarge { size, max });
    }
    match buf.get(4..4 + size) {
        Some(body) => Ok(Frame::Complete { body, consumed: 4 + size }),
        None => Ok(Frame::Partial { needed: 4 + size - buf.len() }),
    }
}

/// Reserves a size prefix at the end of `out`; returns its position for [`finish_frame`].
pub fn begin_frame(out: &mut Vec<u8>) -> usize {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    at
}

/// Fills in the size prefix reserved at `at` with the length of everything written since.
pub fn finish_frame(out: &mut [u8], at: usize) -> Result<(), EncodeError> {
    finish_frame_with(out, at, 0)
}

/// [`finish_frame`] for a frame whose body also holds `outside` bytes not in `out` (record
/// batches the frame carries by reference).
pub(crate) fn finish_frame_with(out: &mut [u8], at: usize, outside: usize) -> Result<(), EncodeError> {
    let size = (out.len() - at - 4).saturating_add(outside);
    if size > i32::MAX as usize {
        return Err(EncodeError::TooLong { length: size });
    }
    out[at..at + 4].copy_from_slice(&(size as i32).to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_then_complete() {
        let mut out = Vec::new();
        let at = begin_frame(&mut out);
        out.extend_from_slice(b"hello");
        finish_frame(&mut out, at).unwrap();
        for cut in 0..out.len() {
            assert!(
                matches!(parse_frame(&out[..cut], 100), Ok(Frame::Partial { needed }) if needed > 0 && cut + needed <= out.len())
            );
        }
        out.push(7);
        assert_eq!(parse_frame(&out, 100), Ok(Frame::Complete { body: b"hello", consumed: 9 }));
        assert_eq!(parse_frame(&out, 4), Err(FrameError::TooLarge { size: 5, max: 4 }));
        assert_eq!(parse_frame(&[0xFF, 0, 0, 0], 4), Err(FrameError::NegativeSize(-16_777_216)));
    }
}
