//! Snappy: written in xerial's framing (Java's `SnappyOutputStream`, what Kafka's
//! `SnappyCompression` writes: a 16-byte header, then chunks of an int32 big-endian length and a
//! raw snappy block of at most 32 KiB of input); read in that framing with any number of chunks
//! and concatenated streams, or as one raw snappy block when the header is absent (as xerial's
//! `SnappyInputStream` and librdkafka do).

use super::{CompressionError, Sink, take};
use alloc::vec::Vec;

/// xerial's stream header: magic `\x82SNAPPY\0`, version 1, minimum compatible version 1.
const HEADER: [u8; 16] = *b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01";
/// The magic part of [`HEADER`], which marks a (possibly concatenated) stream.
const MAGIC: &[u8] = b"\x82SNAPPY\x00";
/// Input per chunk: `SnappyOutputStream`'s default block size.
const BLOCK_SIZE: usize = 32 * 1024;
/// The most a snappy block can expand per byte: a 3-byte copy emits at most 64 bytes.
const MAX_EXPANSION: usize = 22;

pub(super) fn compress(input: &[u8], out: &mut Vec<u8>) -> Result<(), CompressionError> {
    out.extend_from_slice(&HEADER);
    let mut encoder = snap::raw::Encoder::new();
    for block in input.chunks(BLOCK_SIZE) {
        let at = out.len();
        let bound = snap::raw::max_compress_len(block.len());
        out.resize(at + 4 + bound, 0);
        let n = encoder
            .compress(block, out.get_mut(at + 4..).unwrap_or_default())
            .map_err(|_| CompressionError::Corrupt("snappy refused a block"))?;
        out.truncate(at + 4 + n);
        super::super::put_at(out, at, &(n as u32).to_be_bytes());
    }
    Ok(())
}

pub(super) fn decompress(input: &[u8], sink: &mut Sink<'_>) -> Result<(), CompressionError> {
    if !input.starts_with(MAGIC) {
        return block(input, sink);
    }
    let mut at = 0;
    while at < input.len() {
        if input.get(at..).is_some_and(|rest| rest.starts_with(MAGIC)) {
            // A (further) stream header: versions are not checked, as xerial reads any.
            take::<16>(input, at)?;
            at += HEADER.len();
            continue;
        }
        let len = u32::from_be_bytes(take::<4>(input, at)?) as usize;
        at += 4;
        let chunk = input.get(at..at.saturating_add(len)).ok_or(CompressionError::Truncated)?;
        if !chunk.is_empty() {
            block(chunk, sink)?;
        }
        at += len;
    }
    Ok(())
}

/// One raw snappy block: its declared length is checked against what the block can hold and
/// against the limit before any output is allocated; the decoder then fills exactly that.
fn block(chunk: &[u8], sink: &mut Sink<'_>) -> Result<(), CompressionError> {
    let declared = snap::raw::decompress_len(chunk).map_err(|_| CompressionError::Corrupt("bad snappy length"))?;
    if declared > chunk.len().saturating_mul(MAX_EXPANSION) {
        return Err(CompressionError::Corrupt("snappy length larger than the block can expand to"));
    }
    let at = sink.out.len();
    sink.extend(declared)?;
    let n = snap::raw::Decoder::new().decompress(chunk, sink.out.get_mut(at..).unwrap_or_default()).map_err(
        |e| match e {
            snap::Error::Empty => CompressionError::Truncated,
            _ => CompressionError::Corrupt("invalid snappy block"),
        },
    )?;
    if n != declared {
        return Err(CompressionError::Corrupt("snappy block shorter than declared"));
    }
    Ok(())
}
