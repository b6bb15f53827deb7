//! Criterion bench: the RecordBatch v2 codec and CRC-32C, with kafka-protocol for comparison.
#![allow(clippy::unwrap_used)] // benches unwrap by design
//!
//! Throughput is in bytes of encoded batch. Encode = build + seal (buffer reused, as a producer
//! does); decode = decode with CRC verification + iterate every record.
//!
//! `cargo bench -p idem-benches --bench codec -- --warm-up-time 1 --measurement-time 3`

use bytes::{Bytes, BytesMut};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use idem_core::crc32c;
use idem_core::proto::record_batch::{ProducerStamp, RecordBatch, RecordBatchBuilder};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use std::hint::black_box;

const STAMP: ProducerStamp = ProducerStamp { producer_id: 4242, producer_epoch: 3, base_sequence: 1000 };
const BASE_TS: i64 = 1_700_000_000_000;

/// (record value size, batch size target) pairs.
const SHAPES: [(usize, usize, &str); 4] = [
    (100, 16 << 10, "100B/16KiB"),
    (100, 1 << 20, "100B/1MiB"),
    (1024, 16 << 10, "1KiB/16KiB"),
    (1024, 1 << 20, "1KiB/1MiB"),
];

fn value(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 31 + 7) as u8).collect()
}

/// Records that fill about `batch` bytes: 16-byte key, `size`-byte value.
fn idem_batch(size: usize, batch: usize, buf: Vec<u8>) -> Vec<u8> {
    let v = value(size);
    let mut b = RecordBatchBuilder::with_buffer(buf, BASE_TS);
    let mut i = 0i64;
    while b.size_in_bytes() + size + 24 <= batch {
        b.append(BASE_TS + i, Some(b"key-0123456789ab"), Some(&v), &[]).unwrap();
        i += 1;
    }
    b.seal(STAMP)
}

fn kafka_records(size: usize, batch: usize) -> Vec<Record> {
    let v = Bytes::from(value(size));
    let n = RecordBatch::decode(&idem_batch(size, batch, Vec::new())).unwrap().0.header.record_count;
    (0..n)
        .map(|i| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: STAMP.producer_id,
            producer_epoch: STAMP.producer_epoch,
            timestamp_type: TimestampType::Creation,
            offset: i64::from(i),
            sequence: STAMP.base_sequence + i,
            timestamp: BASE_TS + i64::from(i),
            key: Some(Bytes::from_static(b"key-0123456789ab")),
            value: Some(v.clone()),
            headers: IndexMap::new(),
        })
        .collect()
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("record_batch_encode");
    for (size, batch, name) in SHAPES {
        let len = idem_batch(size, batch, Vec::new()).len();
        g.throughput(Throughput::Bytes(len as u64));
        let v = value(size);
        let mut buf = Vec::new();
        g.bench_function(BenchmarkId::new("idem", name), |b| {
            b.iter(|| {
                let mut bb = RecordBatchBuilder::with_buffer(std::mem::take(&mut buf), BASE_TS);
                let mut i = 0i64;
                while bb.size_in_bytes() + size + 24 <= batch {
                    bb.append(BASE_TS + i, Some(b"key-0123456789ab"), Some(black_box(&v)), &[]).unwrap();
                    i += 1;
                }
                buf = black_box(bb.seal(STAMP));
            })
        });
        let records = kafka_records(size, batch);
        let opts = RecordEncodeOptions { version: 2, compression: Compression::None };
        let mut out = BytesMut::with_capacity(len);
        g.bench_function(BenchmarkId::new("kafka-protocol", name), |b| {
            b.iter(|| {
                out.clear();
                RecordBatchEncoder::encode(&mut out, black_box(&records), &opts).unwrap();
                black_box(&out);
            })
        });
    }
    g.finish();
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("record_batch_decode_verify");
    for (size, batch, name) in SHAPES {
        let bytes = idem_batch(size, batch, Vec::new());
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(BenchmarkId::new("idem", name), |b| {
            b.iter(|| {
                let (batch, _) = RecordBatch::decode(black_box(&bytes)).unwrap();
                let mut total = 0usize;
                for r in batch.records() {
                    let r = r.unwrap();
                    total += r.value.map_or(0, <[u8]>::len) + r.key.map_or(0, <[u8]>::len) + r.headers.len();
                }
                black_box(total)
            })
        });
        let shared = Bytes::from(bytes.clone());
        g.bench_function(BenchmarkId::new("kafka-protocol", name), |b| {
            b.iter(|| {
                let mut buf = shared.clone();
                let set = RecordBatchDecoder::decode(black_box(&mut buf)).unwrap();
                let total: usize = set.records.iter().map(|r| r.value.as_ref().map_or(0, Bytes::len)).sum();
                black_box(total)
            })
        });
    }
    g.finish();
}

fn crc(c: &mut Criterion) {
    let mut g = c.benchmark_group("crc32c");
    for (len, name) in [(16usize << 10, "16KiB"), (1 << 20, "1MiB")] {
        let data = value(len);
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function(BenchmarkId::new("accelerated", name), |b| b.iter(|| crc32c::checksum(black_box(&data))));
        g.bench_function(BenchmarkId::new("portable", name), |b| {
            b.iter(|| crc32c::extend_portable(0, black_box(&data)))
        });
    }
    g.finish();
}

criterion_group!(benches, encode, decode, crc);
criterion_main!(benches);
