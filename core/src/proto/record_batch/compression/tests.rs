//! Unit tests of the codecs: round trips, the limit, truncation, checksums, frames written by
//! hand in every shape the readers accept.
#![allow(clippy::unwrap_used)] // tests unwrap by design

use super::*;
use alloc::format;
use alloc::vec;

/// Records-like text: repetitive enough to compress, varied enough not to vanish.
fn text(len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    let mut i = 0u64;
    while v.len() < len {
        v.extend_from_slice(
            format!("{{\"user\":{},\"event\":\"click\",\"page\":\"/item/{}\"}} ", i % 977, i * 31 % 10_007).as_bytes(),
        );
        i += 1;
    }
    v.truncate(len);
    v
}

fn noise(len: usize) -> Vec<u8> {
    let mut rng = crate::rand::Rng::new(len as u64);
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

fn enabled() -> Vec<Compression> {
    Compression::ALL.into_iter().filter(|c| *c != Compression::None && c.is_enabled()).collect()
}

fn roundtrip(codec: Compression, level: Option<i32>, input: &[u8]) -> Vec<u8> {
    let mut z = vec![0xAA];
    compress(codec, level, input, &mut z).unwrap();
    assert_eq!(z[0], 0xAA, "compress appends");
    let mut out = vec![0x55];
    decompress(codec, &z[1..], input.len(), &mut out).unwrap();
    assert_eq!(&out[1..], input, "{codec:?} level {level:?}, {} bytes", input.len());
    z.split_off(1)
}

#[test]
fn every_codec_round_trips() {
    let all = cfg!(all(feature = "gzip", feature = "snappy", feature = "lz4", feature = "zstd"));
    assert_eq!(enabled().len() == 4, all);
    for codec in enabled() {
        for input in [vec![], b"x".to_vec(), text(1024), text(100_000), noise(70_000), vec![0; 300_000]] {
            let z = roundtrip(codec, None, &input);
            if input.len() >= 1024 && input[0] != 0 && input.len() != 70_000 {
                assert!(z.len() < input.len() / 2, "{codec:?} compresses text: {} -> {}", input.len(), z.len());
            }
        }
        if let Some(range) = codec.level_range() {
            for level in [*range.start().max(&-5), *range.end(), codec.default_level().unwrap()] {
                roundtrip(codec, Some(level), &text(5000));
            }
        }
    }
}

#[test]
fn levels_and_unsupported() {
    let mut out = Vec::new();
    assert_eq!(
        compress(Compression::None, None, b"a", &mut out),
        Err(CompressionError::Unsupported(Compression::None))
    );
    assert_eq!(
        decompress(Compression::None, b"a", 10, &mut out),
        Err(CompressionError::Unsupported(Compression::None))
    );
    for (codec, bad) in
        [(Compression::Gzip, 0), (Compression::Gzip, 10), (Compression::Lz4, 18), (Compression::Zstd, 23)]
    {
        let want = if codec.is_enabled() {
            CompressionError::InvalidLevel { codec, level: bad }
        } else {
            CompressionError::Unsupported(codec)
        };
        assert_eq!(compress(codec, Some(bad), b"a", &mut out), Err(want));
        assert!(decompress(codec, b"a", 10, &mut out).is_err());
    }
    assert!(out.is_empty());
    if Compression::Snappy.is_enabled() {
        // Snappy has no levels: any level is ignored.
        roundtrip(Compression::Snappy, Some(12345), b"abc");
    }
    for c in Compression::ALL {
        assert_eq!(Compression::from_name(c.name()), Some(c));
        assert_eq!(Compression::from_bits(c.bits()), Some(c));
    }
    assert_eq!(Compression::from_name("brotli"), None);
    assert_eq!((Compression::Zstd.min_produce_version(), Compression::Lz4.min_produce_version()), (7, 0));
}

#[test]
fn the_limit_holds_exactly() {
    for codec in enabled() {
        for input in [text(1000), text(200_000), vec![7; 150_000]] {
            let mut z = Vec::new();
            compress(codec, None, &input, &mut z).unwrap();
            let mut out = vec![1, 2, 3];
            decompress(codec, &z, input.len(), &mut out).unwrap();
            assert_eq!(out.len(), input.len() + 3);
            let mut out = vec![1, 2, 3];
            assert_eq!(
                decompress(codec, &z, input.len() - 1, &mut out),
                Err(CompressionError::LimitExceeded { limit: input.len() - 1 }),
                "{codec:?}"
            );
            assert_eq!(out, [1, 2, 3], "{codec:?}: output restored on error");
            assert!(out.capacity() <= input.len() + 4096, "{codec:?}: capacity {}", out.capacity());
        }
    }
}

#[test]
fn bombs_stop_at_the_limit() {
    // 16 MiB of zeros compressed by each codec: at most 1/1000 of that, expanding past the limit.
    let zeros = vec![0u8; 16 << 20];
    for codec in enabled() {
        let mut z = Vec::new();
        compress(codec, None, &zeros, &mut z).unwrap();
        assert!(z.len() < 4 << 20, "{codec:?}: {}", z.len());
        let mut out = Vec::new();
        let limit = 1 << 20;
        assert_eq!(decompress(codec, &z, limit, &mut out), Err(CompressionError::LimitExceeded { limit }), "{codec:?}");
        assert!(out.capacity() <= 2 * limit, "{codec:?}: allocated {} for a limit of {limit}", out.capacity());
    }
}

#[test]
fn truncation_and_flips_never_panic_and_are_caught() {
    for codec in enabled() {
        let input = text(150_000);
        let mut z = Vec::new();
        compress(codec, None, &input, &mut z).unwrap();
        for cut in (0..z.len()).step_by(97).chain(z.len().saturating_sub(20)..z.len()) {
            let mut out = Vec::new();
            let r = decompress(codec, &z[..cut], 1 << 20, &mut out);
            // A xerial stream cut at a chunk boundary is a valid shorter stream; nothing else is.
            assert!(r.is_err() || (codec == Compression::Snappy && out.len() < input.len()), "{codec:?} cut {cut}");
        }
        for i in (0..z.len()).step_by(31) {
            let mut bad = z.clone();
            bad[i] ^= 0x41;
            let mut out = Vec::new();
            let r = decompress(codec, &bad, 1 << 20, &mut out);
            assert!(r.is_err() || out != input || codec == Compression::Snappy, "{codec:?} flip at {i} went unnoticed");
        }
    }
}

#[cfg(feature = "gzip")]
#[test]
fn gzip_members_headers_and_checksums() {
    assert_eq!(gzip::crc32(0, b"123456789"), 0xCBF4_3926);
    let mut z = Vec::new();
    compress(Compression::Gzip, None, b"hello ", &mut z).unwrap();
    assert_eq!(&z[..4], &[0x1F, 0x8B, 8, 0]);
    // A second member with FEXTRA, FNAME, FCOMMENT and a header CRC.
    let mut m2 = Vec::new();
    compress(Compression::Gzip, Some(1), b"world", &mut m2).unwrap();
    let mut header = vec![0x1F, 0x8B, 8, 0x04 | 0x08 | 0x10 | 0x02, 0, 0, 0, 0, 0, 3];
    header.extend_from_slice(&[3, 0, b'a', b'b', b'c']);
    header.extend_from_slice(b"name\0comment\0");
    let hcrc = gzip::crc32(0, &header) as u16;
    header.extend_from_slice(&hcrc.to_le_bytes());
    header.extend_from_slice(&m2[10..]);
    let mut two = z.clone();
    two.extend_from_slice(&header);
    let mut out = Vec::new();
    decompress(Compression::Gzip, &two, 100, &mut out).unwrap();
    assert_eq!(out, b"hello world");
    let hcrc_at = z.len() + header.len() - (m2.len() - 10) - 2;
    let mut bad = two.clone();
    bad[hcrc_at] ^= 1;
    assert_eq!(decompress(Compression::Gzip, &bad, 100, &mut Vec::new()), Err(CompressionError::ChecksumMismatch));
    // CRC-32 and ISIZE of the first member.
    for at in [z.len() - 8, z.len() - 1] {
        let mut bad = z.clone();
        bad[at] ^= 1;
        assert_eq!(decompress(Compression::Gzip, &bad, 100, &mut Vec::new()), Err(CompressionError::ChecksumMismatch));
    }
    for (at, v, what) in [(0, 0x1E, "magic"), (2, 7, "method"), (3, 0x20, "reserved")] {
        let mut bad = z.clone();
        bad[at] = v;
        assert!(
            matches!(decompress(Compression::Gzip, &bad, 100, &mut Vec::new()), Err(CompressionError::Corrupt(_))),
            "{what}"
        );
    }
    let mut trailing = z.clone();
    trailing.push(0);
    assert!(decompress(Compression::Gzip, &trailing, 100, &mut Vec::new()).is_err());
    assert_eq!(decompress(Compression::Gzip, &[], 100, &mut Vec::new()), Err(CompressionError::Truncated));
}

#[cfg(feature = "snappy")]
#[test]
fn snappy_xerial_chunks_streams_and_raw() {
    let input = text(100_000);
    let mut z = Vec::new();
    compress(Compression::Snappy, None, &input, &mut z).unwrap();
    assert_eq!(&z[..16], b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01");
    // 100,000 bytes in 32 KiB blocks: 4 chunks.
    let mut at = 16;
    let mut chunks = 0;
    while at < z.len() {
        at += 4 + u32::from_be_bytes(z[at..at + 4].try_into().unwrap()) as usize;
        chunks += 1;
    }
    assert_eq!((chunks, at), (4, z.len()));
    // Two concatenated streams, and an empty chunk between.
    let mut two = z.clone();
    two.extend_from_slice(&[0, 0, 0, 0]);
    two.extend_from_slice(&z);
    let mut out = Vec::new();
    decompress(Compression::Snappy, &two, 1 << 20, &mut out).unwrap();
    assert_eq!(out.len(), 200_000);
    assert_eq!(&out[100_000..], &input[..]);
    // Raw snappy (no framing).
    let raw = snap::raw::Encoder::new().compress_vec(&input).unwrap();
    let mut out = Vec::new();
    decompress(Compression::Snappy, &raw, 1 << 20, &mut out).unwrap();
    assert_eq!(out, input);
    // A block declaring more than it can expand to is refused before anything is allocated.
    let mut out = Vec::new();
    let claim = [0xFF, 0xFF, 0xFF, 0x7F, 0x00];
    assert!(matches!(decompress(Compression::Snappy, &claim, usize::MAX, &mut out), Err(CompressionError::Corrupt(_))));
    assert_eq!(out.capacity(), 0);
    let mut chunk = z[..16].to_vec();
    chunk.extend_from_slice(&100u32.to_be_bytes());
    chunk.extend_from_slice(&[1, 2, 3]);
    assert_eq!(decompress(Compression::Snappy, &chunk, 1 << 20, &mut out), Err(CompressionError::Truncated));
}

/// An LZ4 frame written by hand: `flg` bits, 64 KiB blocks, optional content size, blocks
/// compressed independently or linked, optional block and content checksums.
#[cfg(feature = "lz4")]
fn lz4_frame(input: &[u8], block_size: usize, flg_bits: u8, linked: bool) -> Vec<u8> {
    use lz4_flex::block::{compress_into_with_dict, get_maximum_output_size};
    let flg = 0x40 | flg_bits | if linked { 0 } else { 0x20 };
    let mut f = 0x184D_2204u32.to_le_bytes().to_vec();
    let mut descriptor = vec![flg, 0x40];
    if flg & 0x08 != 0 {
        descriptor.extend_from_slice(&(input.len() as u64).to_le_bytes());
    }
    f.extend_from_slice(&descriptor);
    f.push((xxhash32::xxh32(&descriptor, 0) >> 8) as u8);
    let mut done: usize = 0;
    for block in input.chunks(block_size) {
        let dict = if linked { &input[done.saturating_sub(65536)..done] } else { &[][..] };
        let mut buf = vec![0; get_maximum_output_size(block.len())];
        let n = compress_into_with_dict(block, &mut buf, dict).unwrap();
        f.extend_from_slice(&(n as u32).to_le_bytes());
        f.extend_from_slice(&buf[..n]);
        if flg & 0x10 != 0 {
            f.extend_from_slice(&xxhash32::xxh32(&buf[..n], 0).to_le_bytes());
        }
        done += block.len();
    }
    f.extend_from_slice(&[0; 4]);
    if flg & 0x04 != 0 {
        f.extend_from_slice(&xxhash32::xxh32(input, 0).to_le_bytes());
    }
    f
}

#[cfg(feature = "lz4")]
#[test]
fn lz4_frames_of_every_shape() {
    // xxHash32 reference values.
    assert_eq!(xxhash32::xxh32(b"", 0), 0x02CC_5D05);
    assert_eq!(xxhash32::xxh32(b"a", 0), 0x550D_7456);
    assert_eq!(xxhash32::xxh32(b"abc", 0), 0x32D1_53FF);
    assert_eq!(xxhash32::xxh32(b"Nobody inspects the spammish repetition", 0), 0xE229_3B2F);
    let mut z = Vec::new();
    compress(Compression::Lz4, None, b"abc", &mut z).unwrap();
    // Kafka's frame header: magic, FLG 0x60 (version 1, independent blocks), BD 0x40, HC 0x82.
    assert_eq!(&z[..7], &[0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0x82]);
    let input = text(200_000);
    for linked in [false, true] {
        for flg_bits in [0, 0x10, 0x08, 0x04, 0x1C] {
            let f = lz4_frame(&input, 65536, flg_bits, linked);
            let mut out = Vec::new();
            decompress(Compression::Lz4, &f, 1 << 20, &mut out).unwrap();
            assert_eq!(out, input, "linked {linked} flg {flg_bits:#x}");
            if flg_bits & 0x14 != 0 {
                let mut bad = f.clone();
                let at = if flg_bits & 0x04 != 0 { bad.len() - 1 } else { bad.len() - 5 };
                bad[at] ^= 1;
                assert_eq!(
                    decompress(Compression::Lz4, &bad, 1 << 20, &mut Vec::new()),
                    Err(CompressionError::ChecksumMismatch),
                    "linked {linked} flg {flg_bits:#x}"
                );
            }
        }
    }
    // A skippable frame, then two frames.
    let mut many = vec![0x5A, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 9, 9, 9];
    many.extend_from_slice(&lz4_frame(b"one ", 65536, 0x04, false));
    many.extend_from_slice(&lz4_frame(b"two", 65536, 0, false));
    let mut out = Vec::new();
    decompress(Compression::Lz4, &many, 100, &mut out).unwrap();
    assert_eq!(out, b"one two");
    // Descriptor checksum, content size, dictionary, reserved bits.
    let f = lz4_frame(b"abc", 65536, 0x08, false);
    let mut bad = f.clone();
    bad[6 + 8] ^= 1;
    assert_eq!(decompress(Compression::Lz4, &bad, 100, &mut Vec::new()), Err(CompressionError::ChecksumMismatch));
    assert_eq!(decompress(Compression::Lz4, &f, 2, &mut Vec::new()), Err(CompressionError::LimitExceeded { limit: 2 }));
    let mut big = f.clone();
    big[6..14].copy_from_slice(&u64::MAX.to_le_bytes());
    big[14] = (xxhash32::xxh32(&big[4..14], 0) >> 8) as u8;
    assert_eq!(
        decompress(Compression::Lz4, &big, 1 << 30, &mut Vec::new()),
        Err(CompressionError::LimitExceeded { limit: 1 << 30 })
    );
    for (flg, bd) in [(0x61, 0x40), (0x62, 0x40), (0x80, 0x40), (0x60, 0x41), (0x60, 0x30)] {
        let mut f = 0x184D_2204u32.to_le_bytes().to_vec();
        f.extend_from_slice(&[flg, bd, (xxhash32::xxh32(&[flg, bd], 0) >> 8) as u8, 0, 0, 0, 0]);
        assert!(
            matches!(decompress(Compression::Lz4, &f, 100, &mut Vec::new()), Err(CompressionError::Corrupt(_))),
            "{flg:#x} {bd:#x}"
        );
    }
}

#[cfg(feature = "zstd")]
#[test]
fn zstd_frames_with_and_without_content_size() {
    let input = text(300_000);
    let mut z = Vec::new();
    compress(Compression::Zstd, None, &input, &mut z).unwrap();
    assert_eq!(zstd_safe::get_frame_content_size(&z).ok(), Some(Some(300_000)));
    // Two frames: no single declared size, so the buffer grows.
    let mut two = z.clone();
    two.extend_from_slice(&z);
    let mut out = Vec::new();
    decompress(Compression::Zstd, &two, 600_000, &mut out).unwrap();
    assert_eq!(out.len(), 600_000);
    assert_eq!(
        decompress(Compression::Zstd, &two, 599_999, &mut Vec::new()),
        Err(CompressionError::LimitExceeded { limit: 599_999 })
    );
    // A frame without its content size (as streaming compressors such as zstd-jni write).
    let mut cctx = zstd_safe::CCtx::create();
    cctx.set_parameter(zstd_safe::CParameter::ContentSizeFlag(false)).unwrap();
    let mut buf = vec![0; zstd_safe::compress_bound(input.len())];
    let n = cctx.compress2(&mut buf[..], &input).unwrap();
    assert_eq!(zstd_safe::get_frame_content_size(&buf[..n]).ok(), Some(None));
    let mut out = Vec::new();
    decompress(Compression::Zstd, &buf[..n], 1 << 20, &mut out).unwrap();
    assert_eq!(out, input);
    assert_eq!(
        decompress(Compression::Zstd, &z[..z.len() - 1], 1 << 20, &mut Vec::new()),
        Err(CompressionError::Truncated)
    );
    assert!(matches!(
        decompress(Compression::Zstd, b"not zstd", 100, &mut Vec::new()),
        Err(CompressionError::Corrupt(_))
    ));
}

#[test]
fn a_reused_context_gives_the_same_bytes_as_a_fresh_one() {
    let mut ctx = CompressionContext::new();
    for round in 0..3 {
        for codec in enabled() {
            for (input, level) in
                [(text(70_000), None), (noise(3000), codec.level_range().map(|r| *r.end())), (vec![], None)]
            {
                let mut fresh = Vec::new();
                compress(codec, level, &input, &mut fresh).unwrap();
                let mut reused = Vec::new();
                ctx.compress(codec, level, &input, &mut reused).unwrap();
                assert_eq!(reused, fresh, "{codec:?} round {round}");
                let mut out = Vec::new();
                ctx.decompress(codec, &reused, input.len(), &mut out).unwrap();
                assert_eq!(out, input);
                // A failed decompression leaves the context fit for the next call.
                assert!(
                    ctx.decompress(codec, &reused[..reused.len() / 2], input.len(), &mut Vec::new()).is_err()
                        || codec == Compression::Snappy
                );
            }
        }
    }
}

#[cfg(feature = "lz4")]
#[test]
fn lz4_tiny_blocks_declaring_4_mib_cost_only_their_output() {
    // A frame with 4 MiB blocks (BD 0x70) made of 20,000 blocks of one literal each.
    let (flg, bd) = (0x60u8, 0x70u8);
    let mut f = 0x184D_2204u32.to_le_bytes().to_vec();
    f.extend_from_slice(&[flg, bd, (xxhash32::xxh32(&[flg, bd], 0) >> 8) as u8]);
    for _ in 0..20_000 {
        f.extend_from_slice(&2u32.to_le_bytes());
        f.extend_from_slice(&[0x10, b'x']);
    }
    f.extend_from_slice(&[0; 4]);
    let mut out = Vec::new();
    decompress(Compression::Lz4, &f, 1 << 30, &mut out).unwrap();
    assert_eq!(out.len(), 20_000);
    assert!(out.capacity() < 1 << 20, "capacity {}", out.capacity());
}

#[cfg(feature = "zstd")]
#[test]
fn zstd_content_size_beyond_what_the_frame_holds_is_refused_before_allocating() {
    // Magic, a frame header descriptor with a single segment and an 8-byte content size of
    // 1 GiB, then one empty raw last block: 15 bytes claiming 1 GiB.
    let mut f = 0xFD2F_B528u32.to_le_bytes().to_vec();
    f.push(0b1110_0000);
    f.extend_from_slice(&(1u64 << 30).to_le_bytes());
    f.extend_from_slice(&[1, 0, 0]);
    assert_eq!(zstd_safe::get_frame_content_size(&f).ok(), Some(Some(1 << 30)));
    let mut out = Vec::new();
    assert!(matches!(decompress(Compression::Zstd, &f, 1 << 31, &mut out), Err(CompressionError::Corrupt(_))));
    assert_eq!(out.capacity(), 0);
}
