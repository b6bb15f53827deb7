//! Oracle test: idem's RecordBatch v2 codec against the `kafka-protocol` crate, both directions,
//! on proptest-generated records (null and non-null keys/values, headers, timestamps, producer
//! identity), uncompressed and with every compression codec (kafka-protocol's gzip is flate2,
//! its lz4 and zstd are the C libraries, its snappy is `snap` in xerial framing), plus CRC
//! coverage of every byte after the CRC field.
#![allow(clippy::unwrap_used)] // tests unwrap by design

use bytes::{Bytes, BytesMut};
use idem_core::proto::DecodeError;
use idem_core::proto::record_batch::{self, CompressionContext, ProducerStamp, RecordBatch, RecordBatchBuilder};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use proptest::collection::vec;
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Rec {
    timestamp: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    /// Unique keys (kafka-protocol keeps headers in an IndexMap).
    headers: Vec<(String, Option<Vec<u8>>)>,
}

fn bytes_opt(max: usize) -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![1 => Just(None), 4 => vec(any::<u8>(), 0..max).prop_map(Some)]
}

fn rec(base: i64) -> impl Strategy<Value = Rec> {
    let headers = vec(("[a-z\u{e9}\u{1F600}]{0,6}", bytes_opt(16)), 0..4).prop_map(|hs| {
        let mut seen = std::collections::HashSet::new();
        hs.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect()
    });
    // Deltas up to ~2^40 exercise multi-byte varlongs in both directions.
    let delta = prop_oneof![-1000i64..1000, -(1i64 << 40)..(1i64 << 40)];
    (delta, bytes_opt(300), bytes_opt(300), headers).prop_map(move |(d, key, value, headers)| Rec {
        timestamp: base + d,
        key,
        value,
        headers,
    })
}

#[derive(Clone, Debug)]
struct Case {
    stamp: ProducerStamp,
    records: Vec<Rec>,
}

fn case() -> impl Strategy<Value = Case> {
    let stamp = prop_oneof![
        1 => Just(ProducerStamp::NONE),
        4 => (0i64..=i64::MAX, 0i16..=i16::MAX, 0i32..=i32::MAX - 1000)
            .prop_map(|(producer_id, producer_epoch, base_sequence)| ProducerStamp { producer_id, producer_epoch, base_sequence }),
    ];
    let records = (0i64..(1i64 << 42)).prop_flat_map(|base| vec(rec(base), 1..20));
    (stamp, records).prop_map(|(stamp, records)| Case { stamp, records })
}

fn min_ts(c: &Case) -> i64 {
    c.records.iter().map(|r| r.timestamp).min().unwrap()
}

/// The codecs both sides implement, as (idem's, kafka-protocol's).
const CODECS: [(record_batch::Compression, Compression); 5] = [
    (record_batch::Compression::None, Compression::None),
    (record_batch::Compression::Gzip, Compression::Gzip),
    (record_batch::Compression::Snappy, Compression::Snappy),
    (record_batch::Compression::Lz4, Compression::Lz4),
    (record_batch::Compression::Zstd, Compression::Zstd),
];

/// Encodes with idem, using the minimum timestamp as base (as kafka-protocol does).
fn idem_encode(c: &Case) -> Vec<u8> {
    idem_encode_with(c, record_batch::Compression::None, None)
}

/// Encodes with idem, records compressed with `codec` at `level`.
fn idem_encode_with(c: &Case, codec: record_batch::Compression, level: Option<i32>) -> Vec<u8> {
    let mut b = RecordBatchBuilder::new(min_ts(c));
    for r in &c.records {
        let hs: Vec<(&str, Option<&[u8]>)> = r.headers.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
        b.append(r.timestamp, r.key.as_deref(), r.value.as_deref(), &hs).unwrap();
    }
    b.seal_compressed(c.stamp, codec, level, &mut CompressionContext::new()).unwrap()
}

fn kafka_records(c: &Case, base_offset: i64, leader_epoch: i32) -> Vec<Record> {
    c.records
        .iter()
        .enumerate()
        .map(|(i, r)| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: leader_epoch,
            producer_id: c.stamp.producer_id,
            producer_epoch: c.stamp.producer_epoch,
            timestamp_type: TimestampType::Creation,
            offset: base_offset + i as i64,
            // kafka-protocol computes base + delta even without a sequence (-1), and batches
            // records by a constant offset - sequence.
            sequence: c.stamp.base_sequence.wrapping_add(i as i32),
            timestamp: r.timestamp,
            key: r.key.clone().map(Bytes::from),
            value: r.value.clone().map(Bytes::from),
            headers: r
                .headers
                .iter()
                .map(|(k, v)| (StrBytes::from_string(k.clone()), v.clone().map(Bytes::from)))
                .collect::<IndexMap<_, _>>(),
        })
        .collect()
}

fn kafka_encode(c: &Case, base_offset: i64, leader_epoch: i32) -> Vec<u8> {
    kafka_encode_with(c, base_offset, leader_epoch, Compression::None)
}

fn kafka_encode_with(c: &Case, base_offset: i64, leader_epoch: i32, compression: Compression) -> Vec<u8> {
    let mut buf = BytesMut::new();
    let opts = RecordEncodeOptions { version: 2, compression };
    RecordBatchEncoder::encode(&mut buf, &kafka_records(c, base_offset, leader_epoch), &opts).unwrap();
    buf.to_vec()
}

/// Decodes with idem (CRC verified) and checks every field against the case.
fn check_idem_decode(bytes: &[u8], c: &Case, base_offset: i64, leader_epoch: i32) -> Result<(), TestCaseError> {
    check_idem_decode_with(bytes, c, base_offset, leader_epoch, record_batch::Compression::None)
}

/// Same for a batch compressed with `codec`.
fn check_idem_decode_with(
    bytes: &[u8],
    c: &Case,
    base_offset: i64,
    leader_epoch: i32,
    codec: record_batch::Compression,
) -> Result<(), TestCaseError> {
    let (batch, n) = RecordBatch::decode(bytes).map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert_eq!(n, bytes.len());
    let h = batch.header;
    let count = c.records.len() as i32;
    prop_assert_eq!(
        (h.base_offset, h.partition_leader_epoch, h.magic, h.attributes),
        (base_offset, leader_epoch, 2, i16::from(codec.bits()))
    );
    prop_assert_eq!(
        (h.record_count, h.last_offset_delta, h.last_offset()),
        (count, count - 1, base_offset + i64::from(count) - 1)
    );
    prop_assert_eq!(h.base_timestamp, min_ts(c));
    prop_assert_eq!(h.max_timestamp, c.records.iter().map(|r| r.timestamp).max().unwrap());
    prop_assert_eq!(
        (h.producer_id, h.producer_epoch, h.base_sequence),
        (c.stamp.producer_id, c.stamp.producer_epoch, c.stamp.base_sequence)
    );
    let mut scratch = Vec::new();
    let records = batch.decompressed_records(&mut scratch, 1 << 24).map_err(|e| TestCaseError::fail(format!("{e}")))?;
    let mut seen = 0;
    for (i, (got, want)) in records.clone().zip(&c.records).enumerate() {
        let got = got.map_err(|e| TestCaseError::fail(format!("record {i}: {e}")))?;
        prop_assert_eq!(got.timestamp(&h), want.timestamp);
        prop_assert_eq!(got.offset(&h), base_offset + i as i64);
        let seq = if c.stamp.base_sequence == -1 { -1 } else { c.stamp.base_sequence + i as i32 };
        prop_assert_eq!(got.sequence(&h), seq);
        prop_assert_eq!(got.key, want.key.as_deref());
        prop_assert_eq!(got.value, want.value.as_deref());
        prop_assert_eq!(got.headers.len(), want.headers.len());
        let hs: Vec<(&str, Option<&[u8]>)> = got.headers.collect::<Result<_, _>>().unwrap();
        let want_hs: Vec<(&str, Option<&[u8]>)> =
            want.headers.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
        prop_assert_eq!(hs, want_hs);
        seen += 1;
    }
    prop_assert_eq!(seen, c.records.len());
    prop_assert_eq!(records.count(), c.records.len(), "no trailing error item");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// idem encode -> kafka-protocol decode, every field compared; and byte-identical to
    /// kafka-protocol's own encoding of the same records.
    #[test]
    fn idem_encode_kafka_decode(c in case()) {
        let bytes = idem_encode(&c);
        let mut buf = Bytes::from(bytes.clone());
        let set = RecordBatchDecoder::decode(&mut buf).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert!(buf.is_empty());
        prop_assert_eq!(set.version, 2);
        prop_assert_eq!(set.compression, Compression::None);
        prop_assert_eq!(set.records, kafka_records(&c, 0, -1));
        prop_assert_eq!(&bytes, &kafka_encode(&c, 0, -1), "byte-identical encoding");
        check_idem_decode(&bytes, &c, 0, -1)?;
    }

    /// kafka-protocol encode -> idem decode (CRC verified), every field compared.
    #[test]
    fn kafka_encode_idem_decode(c in case(), base_offset in 0i64..(1 << 50), leader_epoch in any::<i32>()) {
        let bytes = kafka_encode(&c, base_offset, leader_epoch);
        check_idem_decode(&bytes, &c, base_offset, leader_epoch)?;
    }

    /// idem encode with every codec (and level) -> kafka-protocol decode: every record equal.
    #[test]
    fn idem_compressed_kafka_decodes(c in case(), which in 1usize..5, level in any::<prop::sample::Index>(), default in any::<bool>()) {
        let (codec, theirs) = CODECS[which];
        let level = codec.level_range().filter(|_| !default).map(|r| {
            let (lo, hi) = ((*r.start()).max(-20), *r.end());
            lo + level.index((hi - lo + 1) as usize) as i32
        });
        let bytes = idem_encode_with(&c, codec, level);
        let mut buf = Bytes::from(bytes.clone());
        let set = RecordBatchDecoder::decode(&mut buf).map_err(|e| TestCaseError::fail(format!("{codec:?}: {e}")))?;
        prop_assert!(buf.is_empty());
        prop_assert_eq!(set.compression, theirs);
        prop_assert_eq!(set.records, kafka_records(&c, 0, -1));
        check_idem_decode_with(&bytes, &c, 0, -1, codec)?;
    }

    /// kafka-protocol encode with every codec -> idem decode (CRC verified, records
    /// decompressed), every field compared.
    #[test]
    fn kafka_compressed_idem_decodes(c in case(), which in 1usize..5, base_offset in 0i64..(1 << 50), leader_epoch in any::<i32>()) {
        let (codec, theirs) = CODECS[which];
        let bytes = kafka_encode_with(&c, base_offset, leader_epoch, theirs);
        check_idem_decode_with(&bytes, &c, base_offset, leader_epoch, codec)?;
    }

    /// A flipped bit anywhere after the CRC field is a CrcMismatch, for both encoders' output.
    #[test]
    fn flipped_bit_is_crc_mismatch(c in case(), at in any::<prop::sample::Index>(), bit in 0u8..8, kafka in any::<bool>()) {
        let mut bytes = if kafka { kafka_encode(&c, 0, -1) } else { idem_encode(&c) };
        let i = 21 + at.index(bytes.len() - 21);
        bytes[i] ^= 1 << bit;
        prop_assert!(matches!(RecordBatch::decode(&bytes), Err(DecodeError::CrcMismatch { .. })), "byte {}", i);
        let mut buf = Bytes::from(bytes);
        prop_assert!(RecordBatchDecoder::decode(&mut buf).is_err(), "kafka-protocol agrees");
    }
}
