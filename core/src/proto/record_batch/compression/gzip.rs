//! gzip (RFC 1952) over `miniz_oxide`'s raw deflate: written as one member, as Java's
//! `GZIPOutputStream` (Kafka's `GzipCompression`); read as any number of concatenated members,
//! as Java's `GZIPInputStream`, each member's CRC-32 and ISIZE verified. Bytes after the last
//! member that do not start another are refused, as librdkafka's zlib reader refuses them
//! (Java's reader ignores them).

use super::{CompressionError, Sink, take};
use alloc::boxed::Box;
use alloc::vec::Vec;
use miniz_oxide::DataFormat;
use miniz_oxide::deflate::core::{
    CompressorOxide, TDEFLFlush, TDEFLStatus, compress as deflate, create_comp_flags_from_zip_params,
};
use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress as inflate, inflate_flags};

/// gzip's CRC-32 (ISO 3309, the reflected polynomial 0xEDB88320).
static CRC32_TABLES: [[u32; 256]; 8] = crate::crc32c::make_tables(0xEDB8_8320);

/// The CRC-32 of RFC 1952 extended over `data` (start with 0).
pub(crate) fn crc32(crc: u32, data: &[u8]) -> u32 {
    crate::crc32c::extend_with(&CRC32_TABLES, crc, data)
}

const ID1: u8 = 0x1F;
const ID2: u8 = 0x8B;
/// CM = 8: deflate, the only method RFC 1952 defines.
const CM_DEFLATE: u8 = 8;
const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
/// FLG bits 5-7 are reserved (RFC 1952 2.3.1: a reader must fail on them).
const FRESERVED: u8 = 0xE0;
/// Header with no optional field, MTIME 0, XFL 0 and OS 255 (unknown).
const HEADER: [u8; 10] = [ID1, ID2, CM_DEFLATE, 0, 0, 0, 0, 0, 0, 0xFF];
/// Raw deflate (negative window bits: no zlib wrapper), 32 KiB window.
const RAW_DEFLATE_WINDOW_BITS: i32 = -15;

/// Deflate and inflate state, kept between calls (each about 10 KiB to 300 KiB to set up).
#[derive(Default)]
pub(super) struct State {
    deflate: Option<Box<CompressorOxide>>,
    inflate: Option<Box<DecompressorOxide>>,
}

pub(super) fn compress(state: &mut State, level: i32, input: &[u8], out: &mut Vec<u8>) -> Result<(), CompressionError> {
    out.extend_from_slice(&HEADER);
    let flags = create_comp_flags_from_zip_params(level, RAW_DEFLATE_WINDOW_BITS, 0);
    let d = match &mut state.deflate {
        Some(d) => {
            d.reset();
            d.set_format_and_level(DataFormat::Raw, level as u8);
            d
        }
        None => state.deflate.insert(Box::new(CompressorOxide::new(flags))),
    };
    let mut pos = out.len();
    // Deflate's worst case is a little over the input; one resize usually suffices.
    out.resize(pos + input.len() + input.len() / 1000 + 64, 0);
    let mut rest = input;
    loop {
        let (status, read, written) = deflate(d, rest, out.get_mut(pos..).unwrap_or_default(), TDEFLFlush::Finish);
        pos += written;
        rest = rest.get(read..).unwrap_or_default();
        match status {
            TDEFLStatus::Done => break,
            TDEFLStatus::Okay => {
                let grow = out.len().max(64);
                out.resize(out.len() + grow, 0);
            }
            TDEFLStatus::BadParam | TDEFLStatus::PutBufFailed => {
                return Err(CompressionError::Corrupt("deflate refused its parameters"));
            }
        }
    }
    out.truncate(pos);
    out.extend_from_slice(&crc32(0, input).to_le_bytes());
    out.extend_from_slice(&(input.len() as u32).to_le_bytes());
    Ok(())
}

pub(super) fn decompress(state: &mut State, input: &[u8], sink: &mut Sink<'_>) -> Result<(), CompressionError> {
    let mut rest = input;
    if rest.is_empty() {
        return Err(CompressionError::Truncated);
    }
    let inflater = state.inflate.get_or_insert_with(Box::default);
    while !rest.is_empty() {
        let body = skip_header(rest)?;
        let member_start = sink.out.len();
        inflater.init();
        let used = inflate_member(inflater, body, sink)?;
        let trailer = body.get(used..).unwrap_or_default();
        let crc = u32::from_le_bytes(take::<4>(trailer, 0)?);
        let isize = u32::from_le_bytes(take::<4>(trailer, 4)?);
        let data = sink.out.get(member_start..).unwrap_or_default();
        if crc != crc32(0, data) || isize != data.len() as u32 {
            return Err(CompressionError::ChecksumMismatch);
        }
        rest = trailer.get(8..).unwrap_or_default();
    }
    Ok(())
}

/// Checks a member header and returns what follows it (the deflate stream).
fn skip_header(m: &[u8]) -> Result<&[u8], CompressionError> {
    let [id1, id2, cm, flg] = take::<4>(m, 0)?;
    if (id1, id2) != (ID1, ID2) {
        return Err(CompressionError::Corrupt("not a gzip member (bad magic)"));
    }
    if cm != CM_DEFLATE {
        return Err(CompressionError::Corrupt("gzip compression method is not deflate"));
    }
    if flg & FRESERVED != 0 {
        return Err(CompressionError::Corrupt("gzip reserved flag bits set"));
    }
    let mut at = HEADER.len();
    take::<0>(m, at)?;
    if flg & FEXTRA != 0 {
        let xlen = u16::from_le_bytes(take::<2>(m, at)?) as usize;
        at += 2 + xlen;
    }
    for flag in [FNAME, FCOMMENT] {
        if flg & flag != 0 {
            let field = m.get(at..).ok_or(CompressionError::Truncated)?;
            let nul = field.iter().position(|&b| b == 0).ok_or(CompressionError::Truncated)?;
            at += nul + 1;
        }
    }
    if flg & FHCRC != 0 {
        let stored = u16::from_le_bytes(take::<2>(m, at)?);
        if stored != crc32(0, m.get(..at).unwrap_or_default()) as u16 {
            return Err(CompressionError::ChecksumMismatch);
        }
        at += 2;
    }
    m.get(at..).ok_or(CompressionError::Truncated)
}

/// Inflates one raw deflate stream into the sink, growing it in steps up to its limit; returns
/// the input bytes the stream took.
fn inflate_member(d: &mut DecompressorOxide, input: &[u8], sink: &mut Sink<'_>) -> Result<usize, CompressionError> {
    let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    // The output buffer handed to inflate is everything this member wrote so far plus a zeroed
    // tail: matches may reach back 32 KiB into it.
    let member_start = sink.out.len();
    let mut pos = member_start;
    let mut used = 0;
    if sink.room() > 0 {
        sink.grow(input.len().saturating_mul(4).max(4096))?;
    }
    loop {
        let buf = sink.out.get_mut(member_start..).unwrap_or_default();
        let (status, read, written) = inflate(d, input.get(used..).unwrap_or_default(), buf, pos - member_start, flags);
        used += read;
        pos += written;
        match status {
            TINFLStatus::Done => {
                sink.out.truncate(pos);
                return Ok(used);
            }
            TINFLStatus::HasMoreOutput => {
                if let Err(e) = sink.grow(4096) {
                    sink.out.truncate(pos);
                    return Err(e);
                }
            }
            TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
                return Err(CompressionError::Truncated);
            }
            _ => return Err(CompressionError::Corrupt("invalid deflate data")),
        }
    }
}
