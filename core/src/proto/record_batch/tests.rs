//! Unit tests of the RecordBatch codec.
#![allow(clippy::unwrap_used)] // tests unwrap by design

use super::*;
use crate::proto::error::DecodeError;
use alloc::vec;

type Hdrs<'a> = &'a [(&'a str, Option<&'a [u8]>)];

fn sample() -> Vec<u8> {
    let mut b = RecordBatchBuilder::new(1_000);
    let hs: Hdrs = &[("h1", Some(b"v1")), ("h2", None)];
    b.append(1_000, Some(b"k0"), Some(b"value0"), &[]).unwrap();
    b.append(999, None, Some(b""), hs).unwrap();
    b.append(1_500, Some(b""), None, &[]).unwrap();
    b.seal(ProducerStamp { producer_id: 42, producer_epoch: 3, base_sequence: 7 })
}

fn fix_crc(b: &mut [u8]) {
    let crc = crate::crc32c::checksum(&b[OFF_ATTRIBUTES..]);
    b[OFF_CRC..OFF_CRC + 4].copy_from_slice(&crc.to_be_bytes());
}

#[test]
fn round_trip() {
    let bytes = sample();
    let (batch, n) = RecordBatch::decode(&bytes).unwrap();
    assert_eq!(n, bytes.len());
    let h = batch.header;
    assert_eq!((h.base_offset, h.batch_length as usize + 12, h.partition_leader_epoch, h.magic), (0, n, -1, 2));
    assert_eq!((h.attributes, h.last_offset_delta, h.base_timestamp, h.max_timestamp), (0, 2, 1_000, 1_500));
    assert_eq!((h.producer_id, h.producer_epoch, h.base_sequence, h.record_count), (42, 3, 7, 3));
    assert_eq!((h.last_sequence(), h.last_offset(), h.compression()), (9, 2, Ok(Compression::None)));
    let recs: Vec<Record<'_>> = batch.records().collect::<Result<_, _>>().unwrap();
    assert_eq!(recs.len(), 3);
    assert_eq!((recs[0].key, recs[0].value, recs[0].timestamp(&h)), (Some(&b"k0"[..]), Some(&b"value0"[..]), 1_000));
    assert_eq!(
        (recs[1].key, recs[1].value, recs[1].timestamp_delta, recs[1].offset_delta),
        (None, Some(&b""[..]), -1, 1)
    );
    let hs: Vec<_> = recs[1].headers.collect::<Result<_, _>>().unwrap();
    assert_eq!(hs, vec![("h1", Some(&b"v1"[..])), ("h2", None)]);
    assert_eq!(recs[1].headers.len(), 2);
    assert_eq!((recs[2].key, recs[2].value, recs[2].sequence(&h), recs[2].offset(&h)), (Some(&b""[..]), None, 9, 2));
}

#[test]
fn sizes_are_exact_and_buffer_is_reused() {
    let buf = Vec::with_capacity(4096);
    let ptr = buf.as_ptr();
    let mut b = RecordBatchBuilder::with_buffer(buf, 5);
    assert!(b.is_empty());
    assert_eq!(b.size_in_bytes(), RECORD_BATCH_OVERHEAD);
    for i in 0..20i64 {
        let hs: Hdrs = &[("a", Some(b"bc"))];
        let before = b.size_in_bytes();
        let expect = b.record_size(5 + i * 1000, Some(b"key"), Some(&[7u8; 100]), hs);
        b.append(5 + i * 1000, Some(b"key"), Some(&[7u8; 100]), hs).unwrap();
        assert_eq!(b.size_in_bytes() - before, expect);
    }
    assert_eq!(b.record_count(), 20);
    let out = b.seal(ProducerStamp::NONE);
    assert_eq!(out.as_ptr(), ptr, "no reallocation within capacity");
    let (batch, _) = RecordBatch::decode(&out).unwrap();
    assert_eq!((batch.header.producer_id, batch.header.base_sequence, batch.header.last_sequence()), (-1, -1, -1));
    assert_eq!(batch.records().count(), 20);
}

#[test]
fn empty_batch() {
    let out = RecordBatchBuilder::new(9).seal(ProducerStamp::NONE);
    assert_eq!(out.len(), RECORD_BATCH_OVERHEAD);
    let (batch, _) = RecordBatch::decode(&out).unwrap();
    assert_eq!((batch.header.record_count, batch.header.max_timestamp), (0, -1));
    assert!(batch.records().next().is_none());
}

#[test]
fn sequence_wraps_like_kafka() {
    assert_eq!(increment_sequence(i32::MAX, 1), 0);
    assert_eq!(increment_sequence(i32::MAX - 1, 3), 1);
    assert_eq!(increment_sequence(5, 10), 15);
    let mut h = RecordBatch::decode(&sample()).unwrap().0.header;
    h.base_sequence = i32::MAX;
    assert_eq!(h.last_sequence(), 1);
    h.record_count = 1;
    assert_eq!(h.last_sequence(), i32::MAX);
}

#[test]
fn truncation_and_corruption_are_errors() {
    let bytes = sample();
    for cut in 0..bytes.len() {
        assert!(matches!(RecordBatch::decode(&bytes[..cut]), Err(DecodeError::Truncated { .. })), "cut {cut}");
    }
    for i in OFF_ATTRIBUTES..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x10;
        assert!(matches!(RecordBatch::decode(&b), Err(DecodeError::CrcMismatch { .. })), "byte {i}");
        assert!(RecordBatch::decode_unverified(&b).is_ok() || i >= 57);
    }
    let mut b = bytes.clone();
    assert!(set_base_offset(&mut b, 1234) && set_partition_leader_epoch(&mut b, 8));
    let h = RecordBatch::decode(&b).unwrap().0.header;
    assert_eq!((h.base_offset, h.partition_leader_epoch, h.last_offset()), (1234, 8, 1236));
    assert!(!set_base_offset(&mut [0u8; 7], 1));
    let mut b = bytes.clone();
    b[OFF_MAGIC] = 1;
    assert_eq!(RecordBatch::decode(&b), Err(DecodeError::UnsupportedMagic(1)));
}

#[test]
fn record_count_must_match() {
    let bytes = sample();
    let decode_all = |b: &[u8]| {
        RecordBatch::decode(b)
            .and_then(|(batch, _)| batch.records().map(|r| r.map(|_| ())).collect::<Result<Vec<()>, _>>())
    };
    for (count, expect) in [
        (4, Some(DecodeError::InvalidValue("record count exceeds the records present"))),
        (2, Some(DecodeError::TrailingBytes(8))),
        (-1, Some(DecodeError::InvalidLength { length: -1 })),
        (1000, Some(DecodeError::InvalidValue("record count exceeds the records present"))),
        (3, None),
    ] {
        let mut b = bytes.clone();
        b[57..61].copy_from_slice(&i32::to_be_bytes(count));
        fix_crc(&mut b);
        assert_eq!(decode_all(&b).err(), expect, "count {count}");
    }
}

#[test]
fn compressed_batches_are_not_decoded() {
    for (bits, expect) in [(1u8, 1u8), (4, 4), (5, 5), (7, 7)] {
        let mut b = sample();
        b[OFF_ATTRIBUTES + 1] |= bits;
        fix_crc(&mut b);
        let (batch, _) = RecordBatch::decode(&b).unwrap();
        let mut it = batch.records();
        assert_eq!(it.next(), Some(Err(DecodeError::UnsupportedCompression(expect))));
        assert_eq!(it.next(), None);
    }
}

#[test]
fn batches_split_concatenation() {
    let one = sample();
    let mut all = one.clone();
    all.extend_from_slice(&RecordBatchBuilder::new(0).seal(ProducerStamp::NONE));
    all.extend_from_slice(&one);
    assert_eq!(batches(&all).filter(Result::is_ok).count(), 3);
    let partial = &all[..all.len() - 3];
    let got: Vec<_> = batches(partial).collect();
    assert_eq!(got.len(), 3);
    assert_eq!(got[2], Err(DecodeError::Truncated { needed: 3 }));
    assert!(batches(&[]).next().is_none());
}

#[test]
fn bad_record_lengths_are_errors() {
    // A record whose length prefix claims more than the batch holds.
    let mut b = sample();
    b[RECORD_BATCH_OVERHEAD] = 0x7E; // varint 63
    fix_crc(&mut b);
    let (batch, _) = RecordBatch::decode(&b).unwrap();
    assert!(batch.records().any(|r| r.is_err()));
    // Header count larger than the bytes present.
    let mut b = RecordBatchBuilder::new(0);
    b.append(0, None, None, &[]).unwrap();
    let mut b = b.seal(ProducerStamp::NONE);
    let last = b.len() - 1;
    b[last] = 0x0A; // 5 headers in 0 bytes
    fix_crc(&mut b);
    let (batch, _) = RecordBatch::decode(&b).unwrap();
    assert_eq!(batch.records().next(), Some(Err(DecodeError::InvalidLength { length: 5 })));
}

/// Appends the sample's records to a fresh builder.
fn sample_builder() -> RecordBatchBuilder {
    let mut b = RecordBatchBuilder::new(1_000);
    let hs: Hdrs = &[("h1", Some(b"v1")), ("h2", None)];
    b.append(1_000, Some(b"k0"), Some(b"value0"), &[]).unwrap();
    b.append(999, None, Some(b""), hs).unwrap();
    b.append(1_500, Some(b""), None, &[]).unwrap();
    b
}

const STAMP: ProducerStamp = ProducerStamp { producer_id: 42, producer_epoch: 3, base_sequence: 7 };

#[test]
fn sealed_compressed_batches_decode_to_the_same_records() {
    let plain = sample();
    let (pb, _) = RecordBatch::decode(&plain).unwrap();
    let want: Vec<Record<'_>> = pb.records().collect::<Result<_, _>>().unwrap();
    let mut scratch = CompressionContext::new();
    for codec in Compression::ALL.into_iter().filter(|c| c.is_enabled()) {
        let bytes = sample_builder().seal_compressed(STAMP, codec, None, &mut scratch).unwrap();
        let (batch, n) = RecordBatch::decode(&bytes).unwrap();
        assert_eq!(n, bytes.len());
        let (h, ph) = (batch.header, pb.header);
        assert_eq!(h.compression(), Ok(codec));
        assert_eq!(
            (h.record_count, h.last_offset_delta, h.base_timestamp, h.max_timestamp, h.base_sequence, h.producer_id),
            (
                ph.record_count,
                ph.last_offset_delta,
                ph.base_timestamp,
                ph.max_timestamp,
                ph.base_sequence,
                ph.producer_id
            )
        );
        if codec == Compression::None {
            assert_eq!(bytes, plain);
        } else {
            assert_eq!(batch.records().next(), Some(Err(DecodeError::UnsupportedCompression(codec.bits()))));
        }
        let mut out = Vec::new();
        let got: Vec<Record<'_>> =
            batch.decompressed_records(&mut out, 1 << 20).unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(got, want, "{codec:?}");
        // The decompressed section is exactly the uncompressed batch's records section.
        if codec != Compression::None {
            assert_eq!(&out[..], &plain[RECORD_BATCH_OVERHEAD..]);
            let mut small = Vec::new();
            let limit = plain.len() - RECORD_BATCH_OVERHEAD - 1;
            assert_eq!(
                batch.decompressed_records(&mut small, limit).err(),
                Some(DecodeError::Compression(CompressionError::LimitExceeded { limit }))
            );
        }
    }
    assert_eq!(
        sample_builder().seal_compressed(STAMP, Compression::Gzip, Some(11), &mut scratch),
        Err(CompressionError::InvalidLevel { codec: Compression::Gzip, level: 11 })
    );
}

#[test]
fn compressed_record_count_must_match() {
    let mut scratch = CompressionContext::new();
    for codec in Compression::ALL.into_iter().filter(|c| c.is_enabled() && *c != Compression::None) {
        let bytes = sample_builder().seal_compressed(STAMP, codec, None, &mut scratch).unwrap();
        for (count, expect) in [
            (4, Some(DecodeError::InvalidValue("record count exceeds the records present"))),
            (2, Some(DecodeError::TrailingBytes(8))),
            (3, None),
        ] {
            let mut b = bytes.clone();
            b[57..61].copy_from_slice(&i32::to_be_bytes(count));
            fix_crc(&mut b);
            let (batch, _) = RecordBatch::decode(&b).unwrap();
            let mut out = Vec::new();
            let got = batch
                .decompressed_records(&mut out, 1 << 20)
                .unwrap()
                .map(|r| r.map(|_| ()))
                .collect::<Result<Vec<()>, _>>();
            assert_eq!(got.err(), expect, "{codec:?} count {count}");
        }
        // A payload that is not the codec's data.
        let mut b = bytes.clone();
        b.truncate(RECORD_BATCH_OVERHEAD);
        b.extend_from_slice(b"definitely not compressed");
        let len = (b.len() - 12) as i32;
        b[8..12].copy_from_slice(&len.to_be_bytes());
        fix_crc(&mut b);
        let (batch, _) = RecordBatch::decode(&b).unwrap();
        assert!(
            matches!(batch.decompressed_records(&mut Vec::new(), 1 << 20), Err(DecodeError::Compression(_))),
            "{codec:?}"
        );
    }
}

#[test]
fn uncompressed_decompressed_records_borrow_the_input() {
    let plain = sample();
    let (batch, _) = RecordBatch::decode(&plain).unwrap();
    let mut scratch = vec![9];
    let first = batch.decompressed_records(&mut scratch, 0).unwrap().next().unwrap().unwrap();
    assert_eq!(first.value, Some(&b"value0"[..]));
    assert_eq!(scratch, [9], "scratch untouched");
}

#[test]
fn sealing_within_a_size_keeps_the_records_whatever_happens() {
    let plain = sample();
    let mut ctx = CompressionContext::new();
    for codec in Compression::ALL.into_iter().filter(|c| c.is_enabled() && *c != Compression::None) {
        let compressed = sample_builder().seal_compressed(STAMP, codec, None, &mut ctx).unwrap();
        // Within the size: compressed, byte for byte what seal_compressed writes.
        let (bytes, used) = sample_builder().seal_compressed_within(STAMP, codec, None, &mut ctx, compressed.len());
        assert_eq!((used, &bytes), (codec, &compressed), "{codec:?}");
        // One byte short: the uncompressed batch, byte for byte what seal writes.
        let (bytes, used) = sample_builder().seal_compressed_within(STAMP, codec, None, &mut ctx, compressed.len() - 1);
        assert_eq!((used, &bytes), (Compression::None, &plain), "{codec:?}");
    }
    // Compressing fails (a level outside the range): sealed uncompressed, nothing lost.
    if Compression::Gzip.is_enabled() {
        let (bytes, used) =
            sample_builder().seal_compressed_within(STAMP, Compression::Gzip, Some(11), &mut ctx, usize::MAX);
        assert_eq!((used, &bytes), (Compression::None, &plain));
    }
    let (bytes, used) = sample_builder().seal_compressed_within(STAMP, Compression::None, None, &mut ctx, 0);
    assert_eq!((used, &bytes), (Compression::None, &plain));
}
