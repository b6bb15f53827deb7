//! Criterion bench: the RecordBatch compression codecs, compress and decompress, on the records
//! section of a batch of 1 KiB text-like records (JSON-ish log lines), next to the C libraries
//! where there are any (zlib through flate2, liblz4 through the `lz4` crate) and, for zstd, the
//! pure-Rust `ruzstd` idem did not choose.
#![allow(clippy::unwrap_used)] // benches unwrap by design
//!
//! Throughput is in bytes of uncompressed records, both ways. The compressed sizes (ratios) are
//! printed once per shape. idem reuses one `CompressionContext` (as a producer would); zlib and
//! liblz4 set their state up per call, as flate2's and lz4's stream wrappers do.
//!
//! `cargo bench -p idem-benches --bench compression -- --warm-up-time 1 --measurement-time 3`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use idem_core::proto::record_batch::{Compression, CompressionContext, RECORD_BATCH_OVERHEAD, RecordBatchBuilder};
use idem_core::rand::Rng;
use std::hint::black_box;
use std::io::{Read, Write};

/// Records sections of about 16 KiB (Java's default `batch.size`) and 1 MiB (librdkafka's).
const SHAPES: [(usize, &str); 2] = [(16 << 10, "16KiB"), (1 << 20, "1MiB")];
/// Enough for every decompression here.
const LIMIT: usize = 64 << 20;

/// One JSON-ish log line of 1 KiB (field names repeat, values vary).
fn record(rng: &mut Rng) -> Vec<u8> {
    idem_benches::text::text_record(rng, 1024)
}

/// The uncompressed records section of a batch of 1 KiB records of about `size` bytes.
fn records_section(size: usize) -> Vec<u8> {
    let mut rng = Rng::new(7);
    let mut b = RecordBatchBuilder::new(0);
    while b.size_in_bytes() < size {
        b.append(0, Some(b"key-0123456789ab"), Some(&record(&mut rng)), &[]).unwrap();
    }
    b.seal(idem_core::proto::record_batch::ProducerStamp::NONE)[RECORD_BATCH_OVERHEAD..].to_vec()
}

fn zlib_gzip(input: &[u8], level: u32, out: &mut Vec<u8>) {
    out.clear();
    let mut e = flate2::write::GzEncoder::new(std::mem::take(out), flate2::Compression::new(level));
    e.write_all(input).unwrap();
    *out = e.finish().unwrap();
}

fn liblz4_frame(input: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut e = lz4::EncoderBuilder::new()
        .level(1)
        .block_size(lz4::BlockSize::Max64KB)
        .block_mode(lz4::BlockMode::Independent)
        .checksum(lz4::ContentChecksum::NoChecksum)
        .build(std::mem::take(out))
        .unwrap();
    e.write_all(input).unwrap();
    let (w, r) = e.finish();
    r.unwrap();
    *out = w;
}

fn bench(c: &mut Criterion) {
    for (size, shape) in SHAPES {
        let input = records_section(size);
        let mut sizes = Vec::new();
        let mut g = c.benchmark_group(format!("compression/{shape}"));
        g.throughput(Throughput::Bytes(input.len() as u64));
        let mut z = Vec::new();
        let mut out = Vec::new();
        // Reused between batches, as a producer keeps one.
        let mut ctx = CompressionContext::new();

        // idem's codecs at Kafka's default levels (and zstd 1, ruzstd's only level).
        for (codec, level, name) in [
            (Compression::Gzip, None, "gzip-6 idem (miniz_oxide)"),
            (Compression::Snappy, None, "snappy idem (snap)"),
            (Compression::Lz4, None, "lz4 idem (lz4_flex)"),
            (Compression::Zstd, Some(1), "zstd-1 idem (libzstd)"),
            (Compression::Zstd, None, "zstd-3 idem (libzstd)"),
        ] {
            z.clear();
            ctx.compress(codec, level, &input, &mut z).unwrap();
            sizes.push((name, z.len()));
            let zc = z.clone();
            g.bench_function(BenchmarkId::new("compress", name), |b| {
                b.iter(|| {
                    z.clear();
                    ctx.compress(codec, level, black_box(&input), &mut z).unwrap();
                    z.len()
                })
            });
            g.bench_function(BenchmarkId::new("decompress", name), |b| {
                b.iter(|| {
                    out.clear();
                    ctx.decompress(codec, black_box(&zc), LIMIT, &mut out).unwrap();
                    out.len()
                })
            });
        }

        // gzip with C zlib (flate2's zlib backend), level 6.
        zlib_gzip(&input, 6, &mut z);
        sizes.push(("gzip-6 zlib (C)", z.len()));
        let zc = z.clone();
        g.bench_function(BenchmarkId::new("compress", "gzip-6 zlib (C)"), |b| {
            b.iter(|| {
                zlib_gzip(black_box(&input), 6, &mut z);
                z.len()
            })
        });
        g.bench_function(BenchmarkId::new("decompress", "gzip-6 zlib (C)"), |b| {
            b.iter(|| {
                out.clear();
                flate2::read::GzDecoder::new(black_box(&zc[..])).read_to_end(&mut out).unwrap();
                out.len()
            })
        });

        // lz4 frames with C liblz4, fast mode, independent 64 KiB blocks, as Kafka writes.
        liblz4_frame(&input, &mut z);
        sizes.push(("lz4 liblz4 (C)", z.len()));
        let zc = z.clone();
        g.bench_function(BenchmarkId::new("compress", "lz4 liblz4 (C)"), |b| {
            b.iter(|| {
                liblz4_frame(black_box(&input), &mut z);
                z.len()
            })
        });
        g.bench_function(BenchmarkId::new("decompress", "lz4 liblz4 (C)"), |b| {
            b.iter(|| {
                out.clear();
                lz4::Decoder::new(black_box(&zc[..])).unwrap().read_to_end(&mut out).unwrap();
                out.len()
            })
        });

        // zstd in pure Rust: ruzstd's only compressing level (Fastest, about zstd 1).
        let zr = ruzstd::encoding::compress_to_vec(&input[..], ruzstd::encoding::CompressionLevel::Fastest);
        sizes.push(("zstd-fastest ruzstd", zr.len()));
        g.bench_function(BenchmarkId::new("compress", "zstd-fastest ruzstd"), |b| {
            b.iter(|| {
                ruzstd::encoding::compress_to_vec(black_box(&input[..]), ruzstd::encoding::CompressionLevel::Fastest)
                    .len()
            })
        });
        // ruzstd decoding the frame libzstd wrote at level 3 (what Kafka clients send).
        z.clear();
        ctx.compress(Compression::Zstd, None, &input, &mut z).unwrap();
        let zc = z.clone();
        let mut dec = ruzstd::decoding::FrameDecoder::new();
        g.bench_function(BenchmarkId::new("decompress", "zstd-3 ruzstd"), |b| {
            b.iter(|| {
                out.clear();
                out.reserve(input.len());
                dec.decode_all_to_vec(black_box(&zc), &mut out).unwrap();
                out.len()
            })
        });
        g.finish();
        eprintln!("compression/{shape}: {} bytes of records", input.len());
        for (name, n) in sizes {
            eprintln!("  {name}: {n} bytes, ratio {:.2}", input.len() as f64 / n as f64);
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
