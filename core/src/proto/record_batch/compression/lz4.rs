//! LZ4 frames (the LZ4 Frame Format specification, v1.6) over `lz4_flex`'s block codec.
//!
//! Written as Kafka's `KafkaLZ4BlockOutputStream` writes them: FLG version 1 with independent
//! blocks and no checksum flags, BD 64 KiB blocks, the descriptor checksum (HC) computed
//! correctly (the pre-KIP-57 broken HC belongs to magic 0 and 1 only), each block compressed or
//! stored uncompressed when compression does not shrink it, then the end mark.
//!
//! Read: any frame of that specification Kafka's `KafkaLZ4BlockInputStream` or librdkafka
//! (liblz4's `LZ4F_decompress`) read: independent or linked blocks, block checksums and the
//! content checksum verified when their flags are set, the content size checked, uncompressed
//! blocks, skippable frames, several frames in a row. A dictionary id is refused (Kafka has no
//! way to name the dictionary).

use super::xxhash32::xxh32;
use super::{CompressionError, Sink, take};
use alloc::vec::Vec;
use lz4_flex::block::{DecompressError, compress_into, decompress_into_with_dict, get_maximum_output_size};

const MAGIC: u32 = 0x184D_2204;
/// Skippable frames: magic 0x184D2A50 to 0x184D2A5F.
const SKIPPABLE_MASK: u32 = 0xFFFF_FFF0;
const SKIPPABLE: u32 = 0x184D_2A50;
const FLG_VERSION_MASK: u8 = 0xC0;
const FLG_VERSION_1: u8 = 0x40;
const FLG_BLOCK_INDEPENDENCE: u8 = 0x20;
const FLG_BLOCK_CHECKSUM: u8 = 0x10;
const FLG_CONTENT_SIZE: u8 = 0x08;
const FLG_CONTENT_CHECKSUM: u8 = 0x04;
const FLG_RESERVED: u8 = 0x02;
const FLG_DICT_ID: u8 = 0x01;
const BD_RESERVED: u8 = 0x8F;
/// BD for 64 KiB blocks (block maximum size code 4).
const BD_64KB: u8 = 4 << 4;
const BLOCK_SIZE: usize = 64 * 1024;
/// Block size field: the high bit marks a block stored uncompressed.
const UNCOMPRESSED: u32 = 0x8000_0000;
/// Linked blocks may refer back this far into earlier blocks of the frame.
const WINDOW: usize = 64 * 1024;

/// The descriptor checksum: the second byte of XXH32 over FLG up to HC.
fn header_checksum(descriptor: &[u8]) -> u8 {
    (xxh32(descriptor, 0) >> 8) as u8
}

pub(super) fn compress(input: &[u8], out: &mut Vec<u8>) -> Result<(), CompressionError> {
    let flg = FLG_VERSION_1 | FLG_BLOCK_INDEPENDENCE;
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(&[flg, BD_64KB, header_checksum(&[flg, BD_64KB])]);
    for block in input.chunks(BLOCK_SIZE) {
        let at = out.len();
        out.resize(at + 4 + get_maximum_output_size(block.len()), 0);
        let n = compress_into(block, out.get_mut(at + 4..).unwrap_or_default())
            .map_err(|_| CompressionError::Corrupt("lz4 refused a block"))?;
        if n < block.len() {
            out.truncate(at + 4 + n);
            super::super::put_at(out, at, &(n as u32).to_le_bytes());
        } else {
            out.truncate(at);
            out.extend_from_slice(&(block.len() as u32 | UNCOMPRESSED).to_le_bytes());
            out.extend_from_slice(block);
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    Ok(())
}

pub(super) fn decompress(input: &[u8], sink: &mut Sink<'_>) -> Result<(), CompressionError> {
    if input.is_empty() {
        return Err(CompressionError::Truncated);
    }
    let mut at = 0;
    while at < input.len() {
        let magic = u32::from_le_bytes(take::<4>(input, at)?);
        if magic & SKIPPABLE_MASK == SKIPPABLE {
            let len = u32::from_le_bytes(take::<4>(input, at + 4)?) as usize;
            at = at.saturating_add(8).saturating_add(len);
            if at > input.len() {
                return Err(CompressionError::Truncated);
            }
            continue;
        }
        if magic != MAGIC {
            return Err(CompressionError::Corrupt("not an LZ4 frame (bad magic)"));
        }
        at = frame(input, at + 4, sink)?;
    }
    Ok(())
}

/// Decodes one frame whose descriptor starts at `at`; returns the position after it.
fn frame(input: &[u8], mut at: usize, sink: &mut Sink<'_>) -> Result<usize, CompressionError> {
    let descriptor_start = at;
    let [flg, bd] = take::<2>(input, at)?;
    at += 2;
    if flg & FLG_VERSION_MASK != FLG_VERSION_1 {
        return Err(CompressionError::Corrupt("LZ4 frame version is not 1"));
    }
    if flg & FLG_RESERVED != 0 || bd & BD_RESERVED != 0 {
        return Err(CompressionError::Corrupt("LZ4 frame reserved bits set"));
    }
    let block_max = match (bd >> 4) & 0x07 {
        4 => 64 * 1024,
        5 => 256 * 1024,
        6 => 1024 * 1024,
        7 => 4 * 1024 * 1024,
        _ => return Err(CompressionError::Corrupt("LZ4 block maximum size code invalid")),
    };
    let content_size = if flg & FLG_CONTENT_SIZE != 0 {
        let size = u64::from_le_bytes(take::<8>(input, at)?);
        at += 8;
        Some(size)
    } else {
        None
    };
    if flg & FLG_DICT_ID != 0 {
        return Err(CompressionError::Corrupt("LZ4 frame names a dictionary"));
    }
    let [hc] = take::<1>(input, at)?;
    if hc != header_checksum(input.get(descriptor_start..at).unwrap_or_default()) {
        return Err(CompressionError::ChecksumMismatch);
    }
    at += 1;
    if let Some(size) = content_size {
        if size > sink.room() as u64 {
            return Err(CompressionError::LimitExceeded { limit: sink.limit });
        }
    }
    let frame_start = sink.out.len();
    loop {
        let word = u32::from_le_bytes(take::<4>(input, at)?);
        at += 4;
        if word == 0 {
            break;
        }
        let len = (word & !UNCOMPRESSED) as usize;
        if len > block_max {
            return Err(CompressionError::Corrupt("LZ4 block larger than the frame's maximum"));
        }
        let data = input.get(at..at + len).ok_or(CompressionError::Truncated)?;
        at += len;
        if flg & FLG_BLOCK_CHECKSUM != 0 {
            let stored = u32::from_le_bytes(take::<4>(input, at)?);
            at += 4;
            if stored != xxh32(data, 0) {
                return Err(CompressionError::ChecksumMismatch);
            }
        }
        if word & UNCOMPRESSED != 0 {
            let pos = sink.out.len();
            sink.extend(len)?;
            super::super::put_at(sink.out, pos, data);
        } else {
            let linked = flg & FLG_BLOCK_INDEPENDENCE == 0;
            block(data, block_max, linked.then_some(frame_start), sink)?;
        }
    }
    let content = sink.out.get(frame_start..).unwrap_or_default();
    if content_size.is_some_and(|size| size != content.len() as u64) {
        return Err(CompressionError::Corrupt("LZ4 frame content size differs from its content"));
    }
    if flg & FLG_CONTENT_CHECKSUM != 0 {
        let stored = u32::from_le_bytes(take::<4>(input, at)?);
        at += 4;
        if stored != xxh32(content, 0) {
            return Err(CompressionError::ChecksumMismatch);
        }
    }
    Ok(at)
}

/// The most an LZ4 block can expand per byte: a match length extension byte adds 255.
const MAX_EXPANSION: usize = 255;

/// Decompresses one block into at most `block_max` bytes, what is left of the limit, and what
/// the block can expand to (so a frame of many tiny blocks declaring 4 MiB blocks costs no
/// more than its output); a linked block may refer to the last 64 KiB of its frame's output
/// from `frame_start`.
fn block(
    data: &[u8],
    block_max: usize,
    frame_start: Option<usize>,
    sink: &mut Sink<'_>,
) -> Result<(), CompressionError> {
    let pos = sink.out.len();
    let by_limit = sink.room();
    let by_format = block_max.min(data.len().saturating_mul(MAX_EXPANSION).saturating_add(64));
    let room = by_format.min(by_limit);
    sink.extend(room)?;
    let (before, after) = sink.out.split_at_mut(pos);
    let dict = match frame_start {
        Some(start) => before.get(start.max(pos.saturating_sub(WINDOW))..).unwrap_or_default(),
        None => &[],
    };
    match decompress_into_with_dict(data, after, dict) {
        Ok(n) => {
            sink.out.truncate(pos + n);
            Ok(())
        }
        Err(e) => {
            sink.out.truncate(pos);
            Err(match e {
                DecompressError::OutputTooSmall { .. } if by_limit < by_format => {
                    CompressionError::LimitExceeded { limit: sink.limit }
                }
                DecompressError::ExpectedAnotherByte | DecompressError::LiteralOutOfBounds => {
                    CompressionError::Corrupt("LZ4 block ends inside a sequence")
                }
                _ => CompressionError::Corrupt("invalid LZ4 block"),
            })
        }
    }
}
