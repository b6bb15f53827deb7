//! Unit tests of every API handler, through the cluster's byte interface.

use crate::broker::test_util::*;
use crate::proto::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use crate::proto::fetch::{FetchPartition, FetchRequest, FetchResponse, FetchTopic};
use crate::proto::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use crate::proto::list_offsets::{
    EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, ListOffsetsPartition, ListOffsetsRequest, ListOffsetsResponse,
    ListOffsetsTopic,
};
use crate::proto::metadata::{MetadataRequest, MetadataRequestTopic, MetadataResponse};
use crate::proto::produce::{PartitionProduceData, ProduceRequest, ProduceResponse, TopicProduceData};
use crate::proto::record_batch::control::{EndTransactionMarker, TransactionResult};
use crate::proto::record_batch::{
    Compression, CompressionContext, ProducerStamp, RecordBatchBuilder, batches, compress,
};
use crate::proto::{ApiKey, ErrorCode};
use alloc::vec;
use alloc::vec::Vec;

pub fn produce_req<'a>(topic: &'a str, partition: i32, records: &'a [u8], acks: i16) -> ProduceRequest<'a> {
    ProduceRequest {
        transactional_id: None,
        acks,
        timeout_ms: 30_000,
        topic_data: vec![TopicProduceData {
            name: topic,
            partition_data: vec![PartitionProduceData { index: partition, records: Some(records) }],
        }],
    }
}

/// Produces one batch on `conn` and returns (error code, base offset).
pub fn produce(c: &mut crate::broker::Cluster, conn: u64, v: i16, partition: i32, records: &[u8]) -> (i16, i64) {
    let body = roundtrip(c, conn, 9, v, &produce_req("t", partition, records, -1));
    let r: ProduceResponse = decode(&body, 9, v);
    let p = &r.responses[0].partition_responses[0];
    (p.error_code, p.base_offset)
}

pub fn fetch_req(topic: &str, partition: i32, offset: i64, max_wait_ms: i32) -> FetchRequest<'_> {
    FetchRequest {
        max_wait_ms,
        min_bytes: 1,
        topics: vec![FetchTopic {
            topic,
            partitions: vec![FetchPartition {
                partition,
                fetch_offset: offset,
                partition_max_bytes: 1 << 20,
                ..Default::default()
            }],
        }],
        ..FetchRequest::default()
    }
}

/// Which broker leads partition `p` of "t".
pub fn leader(c: &crate::broker::Cluster, p: i32) -> i32 {
    c.leader("t", p).unwrap()
}

#[test]
fn api_versions_lists_every_api_and_falls_back_for_too_new_versions() {
    let mut c = cluster(1, "");
    accept(&mut c, 1, 0);
    for v in 0..=3 {
        let body = roundtrip(
            &mut c,
            1,
            v.into(),
            v,
            &ApiVersionsRequest { client_software_name: "x", client_software_version: "1" },
        );
        let r: ApiVersionsResponse = decode(&body, v.into(), v);
        assert_eq!(r.error_code, ErrorCode::NONE.0);
        assert_eq!(r.api_keys.len(), ApiKey::ALL.len(), "every API idem speaks is served and advertised");
        for k in ApiKey::ALL {
            let e = r.api_keys.iter().find(|a| a.api_key == k.as_i16()).unwrap();
            // SaslHandshake v0 (raw tokens) is not served, as Kafka 4.0 (KIP-896).
            let min = if k == ApiKey::SaslHandshake { 1 } else { k.supported().min };
            // The transaction APIs up to v3: transactions v1, below KIP-890's versions.
            let max = if k.is_transaction() { 3 } else { k.negotiated().max };
            assert_eq!((e.min_version, e.max_version), (min, max), "{}", k.name());
        }
        // The codec is ahead of what is negotiated for Produce (v11-12) and InitProducerId (v5).
        let max = |key: ApiKey| r.api_keys.iter().find(|a| a.api_key == key.as_i16()).map(|a| a.max_version);
        assert_eq!((max(ApiKey::Produce), max(ApiKey::InitProducerId)), (Some(10), Some(4)));
    }
    // v4 is not supported: v0-shaped UNSUPPORTED_VERSION; the body is not even looked at.
    let mut f = frame(5, 3, &ApiVersionsRequest::default());
    f[6..8].copy_from_slice(&4i16.to_be_bytes());
    send(&mut c, at(0), 1, &f);
    let (out, _) = drain(&mut c);
    let body = frames(&transmitted(&out, 1).0).remove(0);
    let r: ApiVersionsResponse = decode(&body, 5, 0);
    assert_eq!(r.error_code, ErrorCode::UNSUPPORTED_VERSION.0);
    assert!(r.api_keys.iter().any(|a| a.api_key == 18 && a.max_version == 3));
}

#[test]
fn metadata_describes_live_brokers_leaders_and_auto_creates() {
    let mut c = cluster(3, "");
    accept(&mut c, 1, 2);
    for v in [1, 4, 9, 12] {
        let req = MetadataRequest { topics: None, ..MetadataRequest::default() };
        let body = roundtrip(&mut c, 1, 1, v, &req);
        let r: MetadataResponse = decode(&body, 1, v);
        assert_eq!(r.brokers.len(), 3);
        assert_eq!(r.brokers[1].port, 9093);
        assert_eq!(r.topics.len(), 1);
        let leaders: Vec<i32> = r.topics[0].partitions.iter().map(|p| p.leader_id).collect();
        assert_eq!(leaders, [0, 1, 2], "round-robin");
        if v >= 2 {
            assert_eq!(r.cluster_id, Some("idem-mock-cluster"));
        }
    }
    // Auto-creation, and an invalid name.
    let req = MetadataRequest {
        topics: Some(vec![
            MetadataRequestTopic { name: Some("fresh"), ..Default::default() },
            MetadataRequestTopic { name: Some("bad/name"), ..Default::default() },
        ]),
        ..MetadataRequest::default()
    };
    let body = roundtrip(&mut c, 1, 2, 12, &req);
    let r: MetadataResponse = decode(&body, 2, 12);
    assert_eq!((r.topics[0].error_code, r.topics[0].partitions.len()), (0, 3));
    assert_eq!(r.topics[1].error_code, ErrorCode::INVALID_TOPIC_EXCEPTION.0);
    assert!(c.topic("fresh").is_some());
    // Lookup by topic id (v10+).
    let id = c.topic("fresh").unwrap().id;
    let req =
        MetadataRequest { topics: Some(vec![MetadataRequestTopic { topic_id: id, name: None }]), ..Default::default() };
    let body = roundtrip(&mut c, 1, 3, 12, &req);
    let r: MetadataResponse = decode(&body, 3, 12);
    assert_eq!(r.topics[0].name, Some("fresh"));
    // Without auto-creation.
    let mut cfg = config(1, "");
    cfg.auto_create_partitions = None;
    let mut c = crate::broker::Cluster::new(cfg, at(0)).unwrap();
    accept(&mut c, 1, 0);
    let req = MetadataRequest {
        topics: Some(vec![MetadataRequestTopic { name: Some("nope"), ..Default::default() }]),
        ..Default::default()
    };
    let body = roundtrip(&mut c, 1, 4, 9, &req);
    let r: MetadataResponse = decode(&body, 4, 9);
    assert_eq!(r.topics[0].error_code, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION.0);
}

fn ask_pid(c: &mut crate::broker::Cluster, v: i16, id: i64, epoch: i16) -> (i16, i64, i16) {
    let req = InitProducerIdRequest { producer_id: id, producer_epoch: epoch, ..Default::default() };
    let body = roundtrip(c, 1, 1, v, &req);
    let r: InitProducerIdResponse = decode(&body, 1, v);
    (r.error_code, r.producer_id, r.producer_epoch)
}

#[test]
fn init_producer_id_hands_out_a_fresh_id_every_time_as_kafka() {
    let mut c = cluster(1, "");
    accept(&mut c, 1, 0);
    assert_eq!(ask_pid(&mut c, 0, -1, -1), (0, 1000, 0));
    assert_eq!(ask_pid(&mut c, 4, -1, -1), (0, 1001, 0));
    // v3+ fields naming the current id and epoch are ignored without a transactional id.
    assert_eq!(ask_pid(&mut c, 3, 1000, 0), (0, 1002, 0));
    assert_eq!(ask_pid(&mut c, 4, 1002, 0), (0, 1003, 0));
    assert_eq!(ask_pid(&mut c, 4, 77, 3), (0, 1004, 0));
    assert_eq!(ask_pid(&mut c, 4, 1000, -1).0, ErrorCode::INVALID_REQUEST.0);
    assert_eq!(ask_pid(&mut c, 4, -1, 0).0, ErrorCode::INVALID_REQUEST.0);
}

#[test]
fn init_producer_id_bumps_in_place_when_configured() {
    let mut cfg = config(1, "");
    cfg.producer_ids = crate::broker::ProducerIdPolicy::BumpInPlace;
    let mut c = crate::broker::Cluster::new(cfg, at(0)).unwrap();
    accept(&mut c, 1, 0);
    assert_eq!(ask_pid(&mut c, 0, -1, -1), (0, 1000, 0));
    assert_eq!(ask_pid(&mut c, 4, -1, -1), (0, 1001, 0));
    assert_eq!(ask_pid(&mut c, 3, 1000, 0), (0, 1000, 1), "bump");
    assert_eq!(ask_pid(&mut c, 3, 1000, 0), (0, 1000, 1), "repeated bump after a lost answer");
    assert_eq!(ask_pid(&mut c, 4, 1000, 1), (0, 1000, 2));
    assert_eq!(ask_pid(&mut c, 4, 77, 3), (0, 1002, 0), "unknown id: a new one");
    assert_eq!(ask_pid(&mut c, 4, 1000, -1).0, ErrorCode::INVALID_REQUEST.0);
}

#[test]
fn produce_appends_deduplicates_and_validates() {
    let mut c = cluster(1, "");
    accept(&mut c, 1, 0);
    let b0 = batch(1000, 0, 0, 3, "a");
    let b1 = batch(1000, 0, 3, 2, "b");
    for v in [3, 8, 9, 10] {
        let mut c = cluster(1, "");
        accept(&mut c, 1, 0);
        assert_eq!(produce(&mut c, 1, v, 0, &b0), (0, 0));
        assert_eq!(produce(&mut c, 1, v, 0, &b1), (0, 3));
        // A retry of the first batch: success with its ORIGINAL offset, nothing appended.
        assert_eq!(produce(&mut c, 1, v, 0, &b0), (0, 0));
        assert_eq!(c.stats().duplicates, 1);
        let log = c.partition_log("t", 0).unwrap();
        assert_eq!(log.log_end_offset(), 5);
        let stored: Vec<_> = log.batches().collect();
        assert_eq!(stored.len(), 2);
        // The stored batch carries its offset and still verifies (CRC untouched).
        let (sb, _) = crate::proto::record_batch::RecordBatch::decode(&stored[1].bytes).unwrap();
        assert_eq!(sb.header.base_offset, 3);
    }
    // Out of order, older epoch, bumped epoch.
    assert_eq!(produce(&mut c, 1, 9, 0, &b0).0, ErrorCode::NONE.0);
    assert_eq!(produce(&mut c, 1, 9, 0, &batch(1000, 0, 7, 1, "gap")).0, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER.0);
    assert_eq!(produce(&mut c, 1, 9, 0, &batch(1000, 1, 0, 1, "e1")), (0, 3));
    assert_eq!(produce(&mut c, 1, 9, 0, &b1).0, ErrorCode::INVALID_PRODUCER_EPOCH.0);
    // Strict policy (default): an unknown producer must start at sequence 0.
    assert_eq!(produce(&mut c, 1, 9, 1, &batch(2000, 0, 5, 1, "x")).0, ErrorCode::UNKNOWN_PRODUCER_ID.0);
    // Non-idempotent batches are appended as they come.
    let plain = batch(-1, -1, -1, 1, "p");
    assert_eq!(produce(&mut c, 1, 9, 2, &plain), (0, 0));
    assert_eq!(produce(&mut c, 1, 9, 2, &plain), (0, 1));
    assert_eq!(c.stats().rejected, 3);
}

#[test]
fn a_partition_named_twice_in_one_request_keeps_only_the_last_entry_as_kafka() {
    let mut c = cluster(1, "");
    accept(&mut c, 1, 0);
    let first = batch(-1, -1, -1, 1, "first");
    let last = batch(-1, -1, -1, 2, "last");
    let other = batch(-1, -1, -1, 1, "other");
    let entry = |index, records| PartitionProduceData { index, records: Some(records) };
    let req = ProduceRequest {
        transactional_id: None,
        acks: -1,
        timeout_ms: 30_000,
        topic_data: vec![
            TopicProduceData { name: "t", partition_data: vec![entry(0, &first), entry(1, &other)] },
            TopicProduceData { name: "t", partition_data: vec![entry(0, &last)] },
        ],
    };
    let body = roundtrip(&mut c, 1, 9, 9, &req);
    let r: ProduceResponse = decode(&body, 9, 9);
    let answered: Vec<(i32, i16)> =
        r.responses.iter().flat_map(|t| t.partition_responses.iter().map(|p| (p.index, p.error_code))).collect();
    assert_eq!(answered, [(1, 0), (0, 0)], "one answer per partition");
    assert_eq!(c.stats().repeated_partitions, 1);
    let log = c.partition_log("t", 0).unwrap();
    assert_eq!(log.log_end_offset(), 2, "only the last entry for partition 0 was appended");
}

#[test]
fn produce_rejects_corrupt_and_misdirected_batches() {
    let mut c = cluster(2, "");
    accept(&mut c, 1, 0);
    let good = batch(1000, 0, 0, 2, "a");
    let mut bad_crc = good.clone();
    let last = bad_crc.len() - 1;
    bad_crc[last] ^= 1;
    assert_eq!(produce(&mut c, 1, 9, 0, &bad_crc).0, ErrorCode::CORRUPT_MESSAGE.0);
    let mut two = good.clone();
    two.extend_from_slice(&batch(1000, 0, 2, 1, "b"));
    assert_eq!(produce(&mut c, 1, 9, 0, &two).0, ErrorCode::INVALID_RECORD.0);
    assert_eq!(produce(&mut c, 1, 9, 0, &good[..20]).0, ErrorCode::CORRUPT_MESSAGE.0);
    assert_eq!(produce(&mut c, 1, 9, 0, b"").0, ErrorCode::CORRUPT_MESSAGE.0);
    // A control batch (a transaction marker) is the coordinator's to write, never a producer's.
    let marker = EndTransactionMarker { result: TransactionResult::Commit, coordinator_epoch: 0 };
    assert_eq!(produce(&mut c, 1, 9, 0, &marker.control_batch(1000, 0, 0, 0)).0, ErrorCode::INVALID_RECORD.0);
    assert_eq!(produce(&mut c, 1, 9, 7, &good).0, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION.0);
    // Partition 1 is led by broker 1: NOT_LEADER_OR_FOLLOWER with a KIP-951 hint in v10.
    let body = roundtrip(&mut c, 1, 4, 10, &produce_req("t", 1, &good, -1));
    let r: ProduceResponse = decode(&body, 4, 10);
    let p = &r.responses[0].partition_responses[0];
    assert_eq!(p.error_code, ErrorCode::NOT_LEADER_OR_FOLLOWER.0);
    assert_eq!(p.current_leader.map(|l| l.leader_id), Some(1));
    assert_eq!(r.node_endpoints.iter().map(|n| n.port).collect::<Vec<_>>(), [9093]);
    // Too large.
    let mut cfg = config(1, "");
    cfg.max_message_bytes = 50;
    let mut c = crate::broker::Cluster::new(cfg, at(0)).unwrap();
    accept(&mut c, 1, 0);
    assert_eq!(produce(&mut c, 1, 9, 0, &good).0, ErrorCode::MESSAGE_TOO_LARGE.0);
    assert_eq!(c.partition_log("t", 0).unwrap().log_end_offset(), 0);
}

#[test]
fn produce_with_acks_zero_gets_no_answer_and_bad_acks_are_refused() {
    let mut c = cluster(1, "");
    accept(&mut c, 1, 0);
    send(&mut c, at(0), 1, &frame(1, 9, &produce_req("t", 0, &batch(-1, -1, -1, 1, "z"), 0)));
    let (out, _) = drain(&mut c);
    assert!(out.is_empty());
    assert_eq!(c.partition_log("t", 0).unwrap().log_end_offset(), 1);
    let body = roundtrip(&mut c, 1, 2, 9, &produce_req("t", 0, &batch(-1, -1, -1, 1, "z"), 5));
    let r: ProduceResponse = decode(&body, 2, 9);
    assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::INVALID_REQUIRED_ACKS.0);
}

#[test]
fn fetch_reads_back_waits_for_data_and_reports_out_of_range() {
    let mut c = cluster(1, "");
    accept(&mut c, 1, 0);
    accept(&mut c, 2, 0);
    let b0 = batch(1000, 0, 0, 3, "a");
    let b1 = batch(1000, 0, 3, 2, "b");
    produce(&mut c, 1, 9, 0, &b0);
    produce(&mut c, 1, 9, 0, &b1);
    for v in [4, 7, 11, 12] {
        let body = roundtrip(&mut c, 2, 3, v, &fetch_req("t", 0, 3, 500));
        let r: FetchResponse = decode(&body, 3, v);
        let p = &r.responses[0].partitions[0];
        assert_eq!((p.error_code, p.high_watermark, p.log_start_offset.max(0)), (0, 5, 0));
        let got: Vec<i64> = batches(p.records.unwrap()).map(|b| b.unwrap().header.base_offset).collect();
        assert_eq!(got, [3]);
    }
    let body = roundtrip(&mut c, 2, 3, 12, &fetch_req("t", 0, 0, 500));
    let r: FetchResponse = decode(&body, 3, 12);
    assert_eq!(batches(r.responses[0].partitions[0].records.unwrap()).count(), 2);
    let body = roundtrip(&mut c, 2, 3, 12, &fetch_req("t", 0, 6, 500));
    let r: FetchResponse = decode(&body, 3, 12);
    assert_eq!(r.responses[0].partitions[0].error_code, ErrorCode::OFFSET_OUT_OF_RANGE.0);
    // At the log end: the fetch waits; an append answers it, before its deadline.
    send(&mut c, at(0), 2, &frame(4, 12, &fetch_req("t", 0, 5, 500)));
    let (out, deadline) = drain(&mut c);
    assert!(out.is_empty());
    assert_eq!(deadline, Some(at(500)));
    let b2 = batch(1000, 0, 5, 1, "c");
    send(&mut c, at(10), 1, &frame(5, 9, &produce_req("t", 0, &b2, -1)));
    let (out, _) = drain(&mut c);
    let body = frames(&transmitted(&out, 2).0).remove(0);
    let r: FetchResponse = decode(&body, 4, 12);
    assert_eq!(batches(r.responses[0].partitions[0].records.unwrap()).count(), 1);
    // Nothing arrives: answered empty at the deadline.
    send(&mut c, at(20), 2, &frame(6, 12, &fetch_req("t", 0, 6, 100)));
    assert!(drain(&mut c).0.is_empty());
    c.handle_input(crate::broker::BrokerInput::Timeout(at(119)));
    assert!(drain(&mut c).0.is_empty());
    c.handle_input(crate::broker::BrokerInput::Timeout(at(120)));
    let (out, _) = drain(&mut c);
    let body = frames(&transmitted(&out, 2).0).remove(0);
    let r: FetchResponse = decode(&body, 6, 12);
    assert_eq!(r.responses[0].partitions[0].records, Some(&[][..]));
}

#[test]
fn list_offsets_earliest_latest_and_not_leader() {
    let mut c = cluster(2, "");
    accept(&mut c, 1, 0);
    produce(&mut c, 1, 9, 0, &batch(1000, 0, 0, 4, "a"));
    for v in 1..=7 {
        let req = ListOffsetsRequest {
            topics: vec![ListOffsetsTopic {
                name: "t",
                partitions: vec![
                    ListOffsetsPartition { partition_index: 0, timestamp: EARLIEST_TIMESTAMP, ..Default::default() },
                    ListOffsetsPartition { partition_index: 0, timestamp: LATEST_TIMESTAMP, ..Default::default() },
                    ListOffsetsPartition { partition_index: 1, timestamp: LATEST_TIMESTAMP, ..Default::default() },
                ],
            }],
            ..Default::default()
        };
        let body = roundtrip(&mut c, 1, 8, v, &req);
        let r: ListOffsetsResponse = decode(&body, 8, v);
        let p = &r.topics[0].partitions;
        assert_eq!((p[0].error_code, p[0].offset), (0, 0));
        assert_eq!((p[1].error_code, p[1].offset), (0, 4));
        assert_eq!(p[2].error_code, ErrorCode::NOT_LEADER_OR_FOLLOWER.0);
    }
}

/// `batch` with its records section replaced by `payload` (length and CRC fixed up).
pub fn with_payload(batch: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut b = batch[..61].to_vec();
    b.extend_from_slice(payload);
    let len = (b.len() - 12) as i32;
    b[8..12].copy_from_slice(&len.to_be_bytes());
    let crc = crate::crc32c::checksum(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    b
}

/// The enabled codecs other than none.
fn codecs() -> Vec<Compression> {
    Compression::ALL.into_iter().filter(|c| *c != Compression::None && c.is_enabled()).collect()
}

#[test]
fn compressed_batches_are_validated_stored_as_sent_and_served() {
    for codec in codecs() {
        let mut c = cluster(1, "");
        accept(&mut c, 1, 0);
        let b0 = compressed_batch(1000, 0, 0, 30, "a", codec);
        let b1 = compressed_batch(1000, 0, 30, 20, "b", codec);
        assert_eq!(produce(&mut c, 1, 9, 0, &b0), (0, 0), "{codec:?}");
        assert_eq!(produce(&mut c, 1, 9, 0, &b1), (0, 30));
        // A resend is a duplicate; a gap is out of order: the sequence range counts the
        // compressed records.
        assert_eq!(produce(&mut c, 1, 9, 0, &b1), (0, 30));
        let gap = compressed_batch(1000, 0, 51, 1, "c", codec);
        assert_eq!(produce(&mut c, 1, 9, 0, &gap).0, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER.0);
        let log = c.partition_log("t", 0).unwrap();
        assert_eq!(log.log_end_offset(), 50);
        let stored: Vec<&[u8]> = log.batches().map(|b| &b.bytes[..]).collect();
        assert_eq!(&stored[0][16..], &b0[16..], "stored as sent (base offset and leader epoch aside)");
        assert_eq!(&stored[1][16..], &b1[16..]);
        let body = roundtrip(&mut c, 1, 3, 12, &fetch_req("t", 0, 0, 0));
        let r: FetchResponse = decode(&body, 3, 12);
        let records = r.responses[0].partitions[0].records.unwrap();
        let mut scratch = Vec::new();
        let mut values = Vec::new();
        for b in batches(records) {
            let b = b.unwrap();
            assert_eq!(b.header.compression(), Ok(codec));
            for rec in b.decompressed_records(&mut scratch, 1 << 20).unwrap() {
                values.push(alloc::string::String::from_utf8(rec.unwrap().value.unwrap().to_vec()).unwrap());
            }
        }
        assert_eq!(values.len(), 50);
        assert_eq!((values[0].as_str(), values[49].as_str()), ("a-0", "b-19"));
    }
}

#[test]
fn undecodable_or_miscounted_compressed_batches_are_corrupt_and_not_appended() {
    for codec in codecs() {
        let mut c = cluster(1, "");
        accept(&mut c, 1, 0);
        let good = compressed_batch(1000, 0, 0, 5, "a", codec);
        let mut payload = Vec::new();
        compress(codec, None, b"not records at all", &mut payload).unwrap();
        let truncated = with_payload(&good, &good[61..good.len() - 3]);
        let four = compressed_batch(1000, 0, 0, 4, "a", codec);
        let six = compressed_batch(1000, 0, 0, 6, "a", codec);
        for (what, bad) in [
            ("garbage", with_payload(&good, &[0x5A; 40])),
            ("not records", with_payload(&good, &payload)),
            ("truncated", truncated),
            ("4 records counted 5", with_payload(&good, &four[61..])),
            ("6 records counted 5", with_payload(&good, &six[61..])),
        ] {
            assert_eq!(produce(&mut c, 1, 9, 0, &bad).0, ErrorCode::CORRUPT_MESSAGE.0, "{codec:?}: {what}");
        }
        // Nothing appended, no producer state: the good batch is the first at sequence 0.
        assert_eq!(c.partition_log("t", 0).unwrap().log_end_offset(), 0);
        assert_eq!(produce(&mut c, 1, 9, 0, &good), (0, 0), "{codec:?}");
    }
}

#[test]
fn decompression_is_bounded_by_the_configured_limit() {
    for codec in codecs() {
        let mut cfg = config(1, "");
        cfg.max_decompressed_batch_bytes = 100_000;
        let mut c = crate::broker::Cluster::new(cfg, at(0)).unwrap();
        accept(&mut c, 1, 0);
        // 200 records of 1 KiB zeros: a few KiB compressed, 200 KiB decompressed.
        let mut b = RecordBatchBuilder::new(0);
        for _ in 0..200 {
            b.append(0, None, Some(&[0; 1024]), &[]).unwrap();
        }
        let bomb = b.seal_compressed(ProducerStamp::NONE, codec, None, &mut CompressionContext::new()).unwrap();
        assert!(bomb.len() < 20_000, "{codec:?}: {}", bomb.len());
        assert_eq!(produce(&mut c, 1, 9, 0, &bomb).0, ErrorCode::CORRUPT_MESSAGE.0, "{codec:?}");
        assert!(c.decompression_scratch.capacity() <= 1 << 20);
        // Within the limit it is accepted.
        let mut b = RecordBatchBuilder::new(0);
        for _ in 0..90 {
            b.append(0, None, Some(&[0; 1024]), &[]).unwrap();
        }
        let fine = b.seal_compressed(ProducerStamp::NONE, codec, None, &mut CompressionContext::new()).unwrap();
        assert_eq!(produce(&mut c, 1, 9, 0, &fine), (0, 0), "{codec:?}");
    }
}

#[test]
fn zstd_needs_produce_v7_and_fetch_v10_as_kip_110() {
    if !Compression::Zstd.is_enabled() {
        return;
    }
    let mut c = cluster(1, "");
    accept(&mut c, 1, 0);
    let z = compressed_batch(-1, -1, -1, 3, "z", Compression::Zstd);
    for v in 3..7 {
        assert_eq!(produce(&mut c, 1, v, 0, &z).0, ErrorCode::UNSUPPORTED_COMPRESSION_TYPE.0, "v{v}");
    }
    assert_eq!(c.partition_log("t", 0).unwrap().log_end_offset(), 0);
    assert_eq!(produce(&mut c, 1, 7, 0, &z), (0, 0));
    for v in [4, 9, 10, 12] {
        let body = roundtrip(&mut c, 1, 3, v, &fetch_req("t", 0, 0, 0));
        let r: FetchResponse = decode(&body, 3, v);
        let p = &r.responses[0].partitions[0];
        if v < 10 {
            assert_eq!(p.error_code, ErrorCode::UNSUPPORTED_COMPRESSION_TYPE.0, "v{v}");
            assert_eq!(p.records.map_or(0, <[u8]>::len), 0);
        } else {
            assert_eq!((p.error_code, batches(p.records.unwrap()).count()), (0, 1), "v{v}");
        }
    }
    // Other codecs are served to old fetchers.
    for codec in codecs().into_iter().filter(|c| *c != Compression::Zstd) {
        let mut c = cluster(1, "");
        accept(&mut c, 1, 0);
        assert_eq!(produce(&mut c, 1, 3, 0, &compressed_batch(-1, -1, -1, 3, "g", codec)), (0, 0));
        let body = roundtrip(&mut c, 1, 3, 4, &fetch_req("t", 0, 0, 0));
        let r: FetchResponse = decode(&body, 3, 4);
        assert_eq!(batches(r.responses[0].partitions[0].records.unwrap()).count(), 1, "{codec:?}");
    }
}

#[test]
fn a_codec_this_build_lacks_is_unsupported_compression_type() {
    let mut c = cluster(1, "");
    accept(&mut c, 1, 0);
    let plain = batch(-1, -1, -1, 2, "x");
    for codec in Compression::ALL.into_iter().filter(|c| !c.is_enabled()) {
        let mut b = plain.clone();
        b[22] |= codec.bits();
        let b = with_payload(&b, &plain[61..]);
        assert_eq!(produce(&mut c, 1, 9, 0, &b).0, ErrorCode::UNSUPPORTED_COMPRESSION_TYPE.0, "{codec:?}");
    }
    // Attribute bits 5-7 name no codec at all.
    let mut b = plain.clone();
    b[22] |= 5;
    assert_eq!(produce(&mut c, 1, 9, 0, &with_payload(&b, &plain[61..])).0, ErrorCode::CORRUPT_MESSAGE.0);
}

mod groups {
    //! The consumer group APIs through the cluster's byte interface: coordinator placement,
    //! JoinGroup / SyncGroup parked in the response queue and answered in request order,
    //! heartbeats during a rebalance, leaving, and coordinator faults.

    use super::*;
    use crate::proto::find_coordinator::{FindCoordinatorRequest, FindCoordinatorResponse};
    use crate::proto::heartbeat::{HeartbeatRequest, HeartbeatResponse};
    use crate::proto::join_group::{JoinGroupRequest, JoinGroupRequestProtocol, JoinGroupResponse};
    use crate::proto::leave_group::{LeaveGroupRequest, LeaveGroupResponse};
    use crate::proto::sync_group::{SyncGroupRequest, SyncGroupRequestAssignment, SyncGroupResponse};
    use alloc::string::{String, ToString};

    const JOIN_V: i16 = 5;

    fn coordinator(c: &mut crate::broker::Cluster, group: &str) -> i32 {
        accept(c, 90, 0);
        let req = FindCoordinatorRequest { key: group, key_type: 0, coordinator_keys: vec![] };
        let body = roundtrip(c, 90, 1, 3, &req);
        let r: FindCoordinatorResponse = decode(&body, 1, 3);
        assert_eq!(r.error_code, 0);
        r.node_id
    }

    fn join_req<'a>(member: &'a str) -> JoinGroupRequest<'a> {
        JoinGroupRequest {
            group_id: "g",
            session_timeout_ms: 10_000,
            rebalance_timeout_ms: 10_000,
            member_id: member,
            group_instance_id: None,
            protocol_type: "consumer",
            protocols: vec![JoinGroupRequestProtocol { name: "range", metadata: b"sub" }],
            reason: None,
        }
    }

    /// Sends a JoinGroup; the responses transmitted on `conn` now (none if parked).
    fn join(c: &mut crate::broker::Cluster, conn: u64, corr: i32, member: &str) -> Vec<Vec<u8>> {
        let now = c.now;
        send(c, now, conn, &frame(corr, JOIN_V, &join_req(member)));
        frames(&transmitted(&drain(c).0, conn).0)
    }

    /// A member id through MEMBER_ID_REQUIRED (JoinGroup v4+).
    fn member_id(c: &mut crate::broker::Cluster, conn: u64) -> String {
        let f = join(c, conn, 1, "");
        let r: JoinGroupResponse = decode(&f[0], 1, JOIN_V);
        assert_eq!(ErrorCode(r.error_code), ErrorCode::MEMBER_ID_REQUIRED);
        r.member_id.to_string()
    }

    #[test]
    fn two_members_join_sync_and_rebalance_through_the_wire() {
        let mut c = cluster(3, "");
        let node = coordinator(&mut c, "g");
        assert!((0..3).contains(&node));
        // Another broker refuses the group.
        let other = (node + 1) % 3;
        accept(&mut c, 9, other);
        let body = roundtrip(&mut c, 9, 2, JOIN_V, &join_req(""));
        let r: JoinGroupResponse = decode(&body, 2, JOIN_V);
        assert_eq!(ErrorCode(r.error_code), ErrorCode::NOT_COORDINATOR);
        // Member A alone: leader of generation 1 at once.
        accept(&mut c, 1, node);
        let a = member_id(&mut c, 1);
        let f = join(&mut c, 1, 2, &a);
        let r: JoinGroupResponse = decode(&f[0], 2, JOIN_V);
        assert_eq!((r.error_code, r.generation_id, r.leader), (0, 1, a.as_str()));
        assert_eq!(r.members.len(), 1);
        let assign = |member: &'static str| SyncGroupRequestAssignment { member_id: member, assignment: b"p0-5" };
        let a_static: &'static str = alloc::boxed::Box::leak(a.clone().into_boxed_str());
        let sync = SyncGroupRequest {
            group_id: "g",
            generation_id: 1,
            member_id: &a,
            group_instance_id: None,
            protocol_type: None,
            protocol_name: None,
            assignments: vec![assign(a_static)],
        };
        let body = roundtrip(&mut c, 1, 3, 3, &sync);
        let r: SyncGroupResponse = decode(&body, 3, 3);
        assert_eq!((r.error_code, r.assignment), (0, &b"p0-5"[..]));
        // Member B joins: its join parks until A rejoins; A learns of it by heartbeat.
        accept(&mut c, 2, node);
        let b = member_id(&mut c, 2);
        assert!(join(&mut c, 2, 2, &b).is_empty(), "B's join is parked");
        let beat = HeartbeatRequest { group_id: "g", generation_id: 1, member_id: &a, group_instance_id: None };
        let body = roundtrip(&mut c, 1, 4, 3, &beat);
        let r: HeartbeatResponse = decode(&body, 4, 3);
        assert_eq!(ErrorCode(r.error_code), ErrorCode::REBALANCE_IN_PROGRESS);
        // A rejoins: both answered, generation 2, A still the leader with both members.
        let now = c.now;
        send(&mut c, now, 1, &frame(5, JOIN_V, &join_req(&a)));
        let (out, _) = drain(&mut c);
        let (fa, fb) = (frames(&transmitted(&out, 1).0), frames(&transmitted(&out, 2).0));
        let ra: JoinGroupResponse = decode(&fa[0], 5, JOIN_V);
        let rb: JoinGroupResponse = decode(&fb[0], 2, JOIN_V);
        assert_eq!((ra.generation_id, rb.generation_id), (2, 2));
        assert_eq!((ra.leader, rb.leader), (a.as_str(), a.as_str()));
        assert_eq!((ra.members.len(), rb.members.len()), (2, 0));
        // B's sync parks until the leader's arrives; then both get their assignment.
        let b_sync = SyncGroupRequest { generation_id: 2, member_id: &b, assignments: vec![], ..sync.clone() };
        let now = c.now;
        send(&mut c, now, 2, &frame(3, 3, &b_sync));
        assert!(transmitted(&drain(&mut c).0, 2).0.is_empty(), "B's sync is parked");
        // Meanwhile B's heartbeat queues behind its parked sync: answers stay in request order.
        let beat_b = HeartbeatRequest { group_id: "g", generation_id: 2, member_id: &b, group_instance_id: None };
        send(&mut c, now, 2, &frame(4, 3, &beat_b));
        assert!(transmitted(&drain(&mut c).0, 2).0.is_empty(), "the heartbeat waits behind the sync");
        let b_static: &'static str = alloc::boxed::Box::leak(b.clone().into_boxed_str());
        let a_sync = SyncGroupRequest {
            generation_id: 2,
            assignments: vec![
                assign(a_static),
                SyncGroupRequestAssignment { member_id: b_static, assignment: b"p3-5" },
            ],
            ..sync.clone()
        };
        send(&mut c, now, 1, &frame(6, 3, &a_sync));
        let (out, _) = drain(&mut c);
        let on_b = frames(&transmitted(&out, 2).0);
        let rb: SyncGroupResponse = decode(&on_b[0], 3, 3);
        assert_eq!((rb.error_code, rb.assignment), (0, &b"p3-5"[..]));
        let hb: HeartbeatResponse = decode(&on_b[1], 4, 3);
        assert_eq!(hb.error_code, 0);
        // B leaves; A's next heartbeat sees the rebalance.
        let leave = LeaveGroupRequest { group_id: "g", member_id: &b, members: vec![] };
        let body = roundtrip(&mut c, 2, 5, 1, &leave);
        let r: LeaveGroupResponse = decode(&body, 5, 1);
        assert_eq!(r.error_code, 0);
        let beat = HeartbeatRequest { generation_id: 2, ..beat };
        let body = roundtrip(&mut c, 1, 7, 3, &beat);
        let r: HeartbeatResponse = decode(&body, 7, 3);
        assert_eq!(ErrorCode(r.error_code), ErrorCode::REBALANCE_IN_PROGRESS);
    }

    #[test]
    fn a_parked_join_of_a_closed_connection_is_forgotten_and_coordinator_moves_answer_parked_requests() {
        let mut c = cluster(3, "");
        let node = coordinator(&mut c, "g");
        accept(&mut c, 1, node);
        let a = member_id(&mut c, 1);
        let f = join(&mut c, 1, 2, &a);
        let r: JoinGroupResponse = decode(&f[0], 2, JOIN_V);
        assert_eq!(r.generation_id, 1);
        accept(&mut c, 2, node);
        let b = member_id(&mut c, 2);
        assert!(join(&mut c, 2, 2, &b).is_empty());
        // B's connection closes while parked: nothing is answered on it, nothing panics.
        let now = c.now;
        c.handle_input(crate::broker::BrokerInput::Closed { now, conn: crate::broker::ConnId(2) });
        drain(&mut c);
        // C parks, then the coordinators move: C's join is answered NOT_COORDINATOR and the
        // group now answers on another broker.
        accept(&mut c, 3, node);
        let m = member_id(&mut c, 3);
        assert!(join(&mut c, 3, 2, &m).is_empty());
        let faults = crate::broker::FaultSpec {
            coordinator_move: Some(crate::time::Duration::from_millis(10)),
            ..Default::default()
        };
        c.set_faults(at(0), faults);
        let now = at(20);
        c.handle_input(crate::broker::BrokerInput::Timeout(now));
        let (out, _) = drain(&mut c);
        let f = frames(&transmitted(&out, 3).0);
        let r: JoinGroupResponse = decode(&f[0], 2, JOIN_V);
        assert_eq!(ErrorCode(r.error_code), ErrorCode::NOT_COORDINATOR);
        assert!(c.stats().coordinator_moves >= 1);
        assert_ne!(coordinator(&mut c, "g"), node, "the group moved");
    }

    #[test]
    fn injected_coordinator_errors_and_transaction_keys() {
        let mut c = cluster(1, "not_coordinator=1");
        accept(&mut c, 1, 0);
        let body = roundtrip(&mut c, 1, 1, JOIN_V, &join_req(""));
        let r: JoinGroupResponse = decode(&body, 1, JOIN_V);
        assert_eq!(ErrorCode(r.error_code), ErrorCode::NOT_COORDINATOR);
        assert_eq!(c.stats().coordinator_errors, 1);
        let mut c = cluster(1, "coordinator_loading=1");
        accept(&mut c, 1, 0);
        let body = roundtrip(&mut c, 1, 1, JOIN_V, &join_req(""));
        let r: JoinGroupResponse = decode(&body, 1, JOIN_V);
        assert_eq!(ErrorCode(r.error_code), ErrorCode::COORDINATOR_LOAD_IN_PROGRESS);
        // v4 batched keys answer each key (FindCoordinator is not gated: it names the broker).
        let req = FindCoordinatorRequest { key: "", key_type: 0, coordinator_keys: vec!["a", "b"] };
        let body = roundtrip(&mut c, 1, 2, 4, &req);
        let r: FindCoordinatorResponse = decode(&body, 2, 4);
        assert_eq!(r.coordinators.len(), 2);
        assert!(r.coordinators.iter().all(|k| k.error_code == 0 && k.node_id == 0));
        // A transactional id is placed like a group; an unknown key type has no coordinator.
        let req = FindCoordinatorRequest { key: "tx", key_type: 1, coordinator_keys: vec![] };
        let body = roundtrip(&mut c, 1, 3, 3, &req);
        let r: FindCoordinatorResponse = decode(&body, 3, 3);
        assert_eq!((ErrorCode(r.error_code), r.node_id), (ErrorCode::NONE, 0));
        let req = FindCoordinatorRequest { key: "tx", key_type: 2, coordinator_keys: vec![] };
        let body = roundtrip(&mut c, 1, 4, 3, &req);
        let r: FindCoordinatorResponse = decode(&body, 4, 3);
        assert_eq!(ErrorCode(r.error_code), ErrorCode::COORDINATOR_NOT_AVAILABLE);
    }

    #[test]
    fn offsets_list_and_describe_through_the_wire() {
        use crate::proto::describe_groups::{DescribeGroupsRequest, DescribeGroupsResponse};
        use crate::proto::list_groups::{ListGroupsRequest, ListGroupsResponse};
        use crate::proto::offset_commit::{
            OffsetCommitRequest, OffsetCommitRequestPartition, OffsetCommitRequestTopic, OffsetCommitResponse,
        };
        use crate::proto::offset_fetch::{OffsetFetchRequest, OffsetFetchRequestTopic, OffsetFetchResponse};
        let mut c = cluster(2, "");
        let node = coordinator(&mut c, "g");
        accept(&mut c, 1, node);
        let a = member_id(&mut c, 1);
        let body = join(&mut c, 1, 2, &a).remove(0);

        let r: JoinGroupResponse = decode(&body, 2, JOIN_V);
        assert_eq!(r.generation_id, 1);
        let a_static: &'static str = alloc::boxed::Box::leak(a.clone().into_boxed_str());
        let sync = SyncGroupRequest {
            group_id: "g",
            generation_id: 1,
            member_id: &a,
            group_instance_id: None,
            protocol_type: None,
            protocol_name: None,
            assignments: vec![SyncGroupRequestAssignment { member_id: a_static, assignment: b"all" }],
        };
        let _ = roundtrip(&mut c, 1, 3, 3, &sync);
        let commit = |generation_id, offset| OffsetCommitRequest {
            group_id: "g",
            generation_id,
            member_id: a_static,
            group_instance_id: None,
            retention_time_ms: -1,
            topics: vec![OffsetCommitRequestTopic {
                name: "t",
                partitions: vec![OffsetCommitRequestPartition {
                    partition_index: 1,
                    committed_offset: offset,
                    committed_leader_epoch: -1,
                    committed_metadata: Some("m"),
                }],
            }],
        };
        let body = roundtrip(&mut c, 1, 4, 8, &commit(1, 42));

        let r: OffsetCommitResponse = decode(&body, 4, 8);
        assert_eq!(r.topics[0].partitions[0].error_code, 0);
        let body = roundtrip(&mut c, 1, 5, 8, &commit(7, 43));

        let r: OffsetCommitResponse = decode(&body, 5, 8);
        assert_eq!(ErrorCode(r.topics[0].partitions[0].error_code), ErrorCode::ILLEGAL_GENERATION);
        let fetch = OffsetFetchRequest {
            group_id: "g",
            topics: Some(vec![OffsetFetchRequestTopic { name: "t", partition_indexes: vec![0, 1] }]),
            ..Default::default()
        };
        let body = roundtrip(&mut c, 1, 6, 7, &fetch);

        let r: OffsetFetchResponse = decode(&body, 6, 7);
        let got: Vec<(i32, i64)> =
            r.topics[0].partitions.iter().map(|p| (p.partition_index, p.committed_offset)).collect();
        assert_eq!(got, vec![(0, -1), (1, 42)], "the wrong generation's commit was not stored");
        // On the other broker: not listed, and OffsetFetch v1 says NOT_COORDINATOR per partition.
        let other = (node + 1) % 2;
        accept(&mut c, 2, other);
        let body = roundtrip(&mut c, 2, 1, 4, &ListGroupsRequest::default());

        let r: ListGroupsResponse = decode(&body, 1, 4);
        assert!(r.groups.is_empty());
        let body = roundtrip(&mut c, 2, 2, 1, &fetch);

        let r: OffsetFetchResponse = decode(&body, 2, 1);
        assert!(r.topics[0].partitions.iter().all(|p| ErrorCode(p.error_code) == ErrorCode::NOT_COORDINATOR));
        // On the coordinator: listed Stable, described with its member and assignment.
        let body = roundtrip(&mut c, 1, 7, 4, &ListGroupsRequest::default());

        let r: ListGroupsResponse = decode(&body, 7, 4);
        assert_eq!((r.groups.len(), r.groups[0].group_id, r.groups[0].group_state), (1, "g", "Stable"));
        let req = DescribeGroupsRequest { groups: vec!["g", "nobody"], include_authorized_operations: false };
        let body = roundtrip(&mut c, 1, 8, 5, &req);

        let r: DescribeGroupsResponse = decode(&body, 8, 5);
        assert_eq!((r.groups[0].group_state, r.groups[0].members.len()), ("Stable", 1));
        assert_eq!(r.groups[0].members[0].member_assignment, b"all");
        assert_eq!((r.groups[1].error_code, r.groups[1].group_state), (0, "Dead"));
    }

    #[test]
    fn bad_group_input_gets_kafkas_codes_over_the_wire() {
        let mut c = cluster(1, "");
        accept(&mut c, 1, 0);
        // Unknown group, unknown member: UNKNOWN_MEMBER_ID for a heartbeat, a sync and a join
        // naming a member id.
        let beat = HeartbeatRequest { group_id: "nope", generation_id: 1, member_id: "ghost", group_instance_id: None };
        let body = roundtrip(&mut c, 1, 1, 3, &beat);
        let r: HeartbeatResponse = decode(&body, 1, 3);
        assert_eq!(ErrorCode(r.error_code), ErrorCode::UNKNOWN_MEMBER_ID);
        let sync = SyncGroupRequest {
            group_id: "nope",
            generation_id: 1,
            member_id: "ghost",
            group_instance_id: None,
            protocol_type: None,
            protocol_name: None,
            assignments: vec![],
        };
        let body = roundtrip(&mut c, 1, 2, 3, &sync);
        let r: SyncGroupResponse = decode(&body, 2, 3);
        assert_eq!(ErrorCode(r.error_code), ErrorCode::UNKNOWN_MEMBER_ID);
        let body = roundtrip(&mut c, 1, 3, JOIN_V, &join_req("ghost"));
        let r: JoinGroupResponse = decode(&body, 3, JOIN_V);
        assert_eq!(ErrorCode(r.error_code), ErrorCode::UNKNOWN_MEMBER_ID);
        // A real member with the wrong generation: ILLEGAL_GENERATION; a protocol no member
        // shares: INCONSISTENT_GROUP_PROTOCOL; a session timeout below the minimum:
        // INVALID_SESSION_TIMEOUT. Nothing closes the connection.
        let a = member_id(&mut c, 1);
        let body = join(&mut c, 1, 4, &a).remove(0);
        let r: JoinGroupResponse = decode(&body, 4, JOIN_V);
        assert_eq!(r.generation_id, 1);
        let beat = HeartbeatRequest { group_id: "g", generation_id: 9, member_id: &a, group_instance_id: None };
        let body = roundtrip(&mut c, 1, 5, 3, &beat);
        let r: HeartbeatResponse = decode(&body, 5, 3);
        assert_eq!(ErrorCode(r.error_code), ErrorCode::ILLEGAL_GENERATION);
        accept(&mut c, 2, 0);
        let other = JoinGroupRequest {
            protocols: vec![JoinGroupRequestProtocol { name: "roundrobin", metadata: b"" }],
            ..join_req("")
        };
        let body = roundtrip(&mut c, 2, 1, JOIN_V, &other);
        let r: JoinGroupResponse = decode(&body, 1, JOIN_V);
        assert_eq!(ErrorCode(r.error_code), ErrorCode::INCONSISTENT_GROUP_PROTOCOL);
        let short = JoinGroupRequest { session_timeout_ms: 10, ..join_req("") };
        let body = roundtrip(&mut c, 2, 2, JOIN_V, &short);
        let r: JoinGroupResponse = decode(&body, 2, JOIN_V);
        assert_eq!(ErrorCode(r.error_code), ErrorCode::INVALID_SESSION_TIMEOUT);
        assert_eq!(c.stats().malformed, 0);
    }
}

/// The transaction APIs through the wire: InitProducerId with a transactional id,
/// AddPartitionsToTxn, transactional Produce, EndTxn and its markers, Fetch read_committed
/// (last stable offset, aborted transactions), ListOffsets read_committed, TxnOffsetCommit and
/// OffsetFetch `require_stable`, fencing and timeouts.
mod txn {
    use super::*;
    use crate::broker::BrokerInput;
    use crate::proto::add_offsets_to_txn::{AddOffsetsToTxnRequest, AddOffsetsToTxnResponse};
    use crate::proto::add_partitions_to_txn::{
        AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, AddPartitionsToTxnTopic,
    };
    use crate::proto::end_txn::{EndTxnRequest, EndTxnResponse};
    use crate::proto::fetch::{AbortedTransaction, READ_COMMITTED};
    use crate::proto::find_coordinator::{FindCoordinatorRequest, FindCoordinatorResponse};
    use crate::proto::offset_commit::OffsetCommitRequestPartition;
    use crate::proto::offset_fetch::{OffsetFetchRequest, OffsetFetchRequestTopic, OffsetFetchResponse};
    use crate::proto::record_batch::{ATTR_TRANSACTIONAL, RecordBatch};
    use crate::proto::txn_offset_commit::{
        TxnOffsetCommitRequest, TxnOffsetCommitRequestTopic, TxnOffsetCommitResponse,
    };
    use alloc::format;

    /// A transactional batch of `n` records.
    fn txn_batch(pid: i64, epoch: i16, seq: i32, n: usize) -> Vec<u8> {
        let mut b = RecordBatchBuilder::new(1_000);
        for i in 0..n {
            b.append(1_000, None, Some(format!("x-{i}").as_bytes()), &[]).unwrap();
        }
        b.seal_flagged(
            ProducerStamp { producer_id: pid, producer_epoch: epoch, base_sequence: seq },
            ATTR_TRANSACTIONAL,
        )
    }

    /// TxnOffsetCommit of "tx" committing `offset` of t-0 for group "g".
    fn txn_offset_commit_req(pid: i64, epoch: i16, offset: i64) -> TxnOffsetCommitRequest<'static> {
        TxnOffsetCommitRequest {
            transactional_id: "tx",
            group_id: "g",
            producer_id: pid,
            producer_epoch: epoch,
            topics: vec![TxnOffsetCommitRequestTopic {
                name: "t",
                partitions: vec![OffsetCommitRequestPartition {
                    partition_index: 0,
                    committed_offset: offset,
                    ..Default::default()
                }],
            }],
            ..Default::default()
        }
    }

    fn init(c: &mut crate::broker::Cluster, conn: u64, v: i16, txn: &str, timeout_ms: i32) -> (i16, i64, i16) {
        let req = InitProducerIdRequest {
            transactional_id: Some(txn),
            transaction_timeout_ms: timeout_ms,
            ..Default::default()
        };
        let body = roundtrip(c, conn, 3, v, &req);
        let r: InitProducerIdResponse = decode(&body, 3, v);
        (r.error_code, r.producer_id, r.producer_epoch)
    }

    fn add_partitions(
        c: &mut crate::broker::Cluster,
        pid: i64,
        epoch: i16,
        topics: Vec<(&str, Vec<i32>)>,
    ) -> Vec<ErrorCode> {
        let req = AddPartitionsToTxnRequest {
            transactional_id: "tx",
            producer_id: pid,
            producer_epoch: epoch,
            topics: topics.into_iter().map(|(name, partitions)| AddPartitionsToTxnTopic { name, partitions }).collect(),
        };
        let body = roundtrip(c, 1, 4, 3, &req);
        let r: AddPartitionsToTxnResponse = decode(&body, 4, 3);
        r.results_by_topic
            .iter()
            .flat_map(|t| t.results_by_partition.iter().map(|p| ErrorCode(p.partition_error_code)))
            .collect()
    }

    fn end(c: &mut crate::broker::Cluster, v: i16, pid: i64, epoch: i16, committed: bool) -> ErrorCode {
        let req = EndTxnRequest { transactional_id: "tx", producer_id: pid, producer_epoch: epoch, committed };
        let body = roundtrip(c, 1, 5, v, &req);
        let r: EndTxnResponse = decode(&body, 5, v);
        ErrorCode(r.error_code)
    }

    /// Fetch v11 of t-0 from `offset`: (records bytes, last stable offset, high watermark,
    /// aborted transactions).
    fn fetch(
        c: &mut crate::broker::Cluster,
        offset: i64,
        isolation: i8,
    ) -> (Vec<u8>, i64, i64, Option<Vec<AbortedTransaction>>) {
        let req = FetchRequest { isolation_level: isolation, ..fetch_req("t", 0, offset, 0) };
        let body = roundtrip(c, 1, 6, 11, &req);
        let r: FetchResponse = decode(&body, 6, 11);
        let p = &r.responses[0].partitions[0];
        assert_eq!(p.error_code, 0);
        (p.records.unwrap_or_default().to_vec(), p.last_stable_offset, p.high_watermark, p.aborted_transactions.clone())
    }

    fn latest(c: &mut crate::broker::Cluster, isolation: i8) -> i64 {
        let req = ListOffsetsRequest {
            isolation_level: isolation,
            topics: vec![ListOffsetsTopic {
                name: "t",
                partitions: vec![ListOffsetsPartition {
                    partition_index: 0,
                    timestamp: LATEST_TIMESTAMP,
                    ..Default::default()
                }],
            }],
            ..Default::default()
        };
        let body = roundtrip(c, 1, 7, 5, &req);
        let r: ListOffsetsResponse = decode(&body, 7, 5);
        r.topics[0].partitions[0].offset
    }

    fn advance(c: &mut crate::broker::Cluster, ms: u64) {
        let now = at(c.now.as_millis() + ms);
        c.handle_input(BrokerInput::Timeout(now));
        drain(c);
    }

    /// The last batch of t-0's log: its marker, if it is one, and its producer epoch.
    fn last_marker(c: &crate::broker::Cluster) -> Option<(TransactionResult, i16)> {
        let log = c.partition_log("t", 0)?;
        let b = log.batches().last()?;
        let (batch, _) = RecordBatch::decode(&b.bytes).ok()?;
        EndTransactionMarker::from_batch(&batch).ok().flatten().map(|m| (m.result, batch.header.producer_epoch))
    }

    #[test]
    fn a_transaction_aborts_then_commits_and_read_committed_sees_only_the_commit() {
        let mut c = cluster(1, "");
        accept(&mut c, 1, 0);
        let (e, pid, epoch) = init(&mut c, 1, 4, "tx", 60_000);
        assert_eq!((e, epoch), (0, 0));
        // Not added yet: refused.
        assert_eq!(produce(&mut c, 1, 9, 0, &txn_batch(pid, 0, 0, 3)).0, ErrorCode::INVALID_TXN_STATE.0);
        assert_eq!(add_partitions(&mut c, pid, 0, vec![("t", vec![0, 1])]), vec![ErrorCode::NONE; 2]);
        // An unknown partition fails the whole request, the known ones not attempted.
        assert_eq!(
            add_partitions(&mut c, pid, 0, vec![("nope", vec![0]), ("t", vec![2, 9])]),
            vec![
                ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                ErrorCode::OPERATION_NOT_ATTEMPTED,
                ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
            ]
        );
        assert_eq!(produce(&mut c, 1, 9, 0, &txn_batch(pid, 0, 0, 3)), (0, 0));
        assert_eq!(produce(&mut c, 1, 9, 2, &txn_batch(pid, 0, 0, 3)).0, ErrorCode::INVALID_TXN_STATE.0);
        // A non-transactional producer's batch after it: above the last stable offset.
        assert_eq!(produce(&mut c, 1, 9, 0, &batch(5000, 0, 0, 1, "plain")), (0, 3));
        let (records, lso, hwm, aborted) = fetch(&mut c, 0, READ_COMMITTED);
        assert_eq!((records.len(), lso, hwm, aborted), (0, 0, 4, Some(vec![])));
        let (records, lso, _, aborted) = fetch(&mut c, 0, 0);
        assert_eq!((batches(&records).count(), lso, aborted), (2, 0, None));
        assert_eq!((latest(&mut c, READ_COMMITTED), latest(&mut c, 0)), (0, 4));
        // Abort: the markers follow a moment later; meanwhile CONCURRENT_TRANSACTIONS.
        assert_eq!(end(&mut c, 3, pid, 0, false), ErrorCode::NONE);
        assert_eq!(add_partitions(&mut c, pid, 0, vec![("t", vec![0])]), vec![ErrorCode::CONCURRENT_TRANSACTIONS]);
        advance(&mut c, 5);
        assert_eq!(last_marker(&c), Some((TransactionResult::Abort, 0)));
        assert_eq!(
            c.partition_log("t", 1).map(|l| l.batches().len()),
            Some(1),
            "a marker in every partition of the transaction"
        );
        let (records, lso, hwm, aborted) = fetch(&mut c, 0, READ_COMMITTED);
        assert_eq!((batches(&records).count(), lso, hwm), (3, 5, 5));
        assert_eq!(aborted, Some(vec![AbortedTransaction { producer_id: pid, first_offset: 0 }]));
        // From past the aborted transaction: nothing to report.
        assert_eq!(fetch(&mut c, 5, READ_COMMITTED).3, Some(vec![]));
        // The next transaction commits.
        assert_eq!(add_partitions(&mut c, pid, 0, vec![("t", vec![0])]), vec![ErrorCode::NONE]);
        assert_eq!(produce(&mut c, 1, 9, 0, &txn_batch(pid, 0, 3, 2)), (0, 5));
        assert_eq!(fetch(&mut c, 5, READ_COMMITTED).1, 5);
        assert_eq!(end(&mut c, 3, pid, 0, true), ErrorCode::NONE);
        advance(&mut c, 5);
        assert_eq!(last_marker(&c), Some((TransactionResult::Commit, 0)));
        let (records, lso, _, aborted) = fetch(&mut c, 5, READ_COMMITTED);
        assert_eq!((batches(&records).count(), lso, aborted), (2, 8, Some(vec![])));
        assert_eq!(latest(&mut c, READ_COMMITTED), 8);
        assert_eq!(end(&mut c, 3, pid, 0, true), ErrorCode::NONE, "a retried commit");
        assert_eq!(end(&mut c, 3, pid, 0, false), ErrorCode::INVALID_TXN_STATE);
        // A new producer instance fences the zombie: PRODUCER_FENCED from v2, else
        // INVALID_PRODUCER_EPOCH; its batches INVALID_PRODUCER_EPOCH.
        assert_eq!(init(&mut c, 1, 4, "tx", 60_000), (0, pid, 1));
        assert_eq!(end(&mut c, 3, pid, 0, true), ErrorCode::PRODUCER_FENCED);
        assert_eq!(end(&mut c, 1, pid, 0, true), ErrorCode::INVALID_PRODUCER_EPOCH);
        assert_eq!(add_partitions(&mut c, pid, 0, vec![("t", vec![0])]), vec![ErrorCode::PRODUCER_FENCED]);
        assert_eq!(add_partitions(&mut c, pid, 1, vec![("t", vec![0])]), vec![ErrorCode::NONE]);
        assert_eq!(produce(&mut c, 1, 9, 0, &txn_batch(pid, 0, 5, 1)).0, ErrorCode::INVALID_PRODUCER_EPOCH.0);
        assert_eq!(produce(&mut c, 1, 9, 0, &txn_batch(pid, 1, 0, 1)).0, 0);
        // Bad input: Kafka's codes.
        assert_eq!(init(&mut c, 1, 4, "tx", 15 * 60 * 1000 + 1).0, ErrorCode::INVALID_TRANSACTION_TIMEOUT.0);
        assert_eq!(init(&mut c, 1, 4, "", 1000).0, ErrorCode::INVALID_REQUEST.0);
        let req = EndTxnRequest { transactional_id: "unknown", producer_id: 1, producer_epoch: 0, committed: true };
        let body = roundtrip(&mut c, 1, 5, 3, &req);
        let r: EndTxnResponse = decode(&body, 5, 3);
        assert_eq!(ErrorCode(r.error_code), ErrorCode::INVALID_PRODUCER_ID_MAPPING);
    }

    /// The read_committed answer as kafka-protocol reads it: the last stable offset, the
    /// aborted transaction, and the records with their control and transactional flags.
    #[test]
    fn read_committed_fetch_reads_as_kafka_protocol_does() {
        use kafka_protocol::protocol::Decodable;
        use kafka_protocol::records::RecordBatchDecoder;
        let mut c = cluster(1, "");
        accept(&mut c, 1, 0);
        let (_, pid, _) = init(&mut c, 1, 4, "tx", 60_000);
        add_partitions(&mut c, pid, 0, vec![("t", vec![0])]);
        assert_eq!(produce(&mut c, 1, 9, 0, &txn_batch(pid, 0, 0, 3)), (0, 0));
        assert_eq!(end(&mut c, 3, pid, 0, false), ErrorCode::NONE);
        advance(&mut c, 5);
        add_partitions(&mut c, pid, 0, vec![("t", vec![0])]);
        assert_eq!(produce(&mut c, 1, 9, 0, &txn_batch(pid, 0, 3, 2)), (0, 4));
        assert_eq!(end(&mut c, 3, pid, 0, true), ErrorCode::NONE);
        advance(&mut c, 5);
        let req = FetchRequest { isolation_level: READ_COMMITTED, ..fetch_req("t", 0, 0, 0) };
        let body = roundtrip(&mut c, 1, 6, 11, &req);
        // Response header v0: the correlation id, then the body.
        let mut buf = bytes::Bytes::from(body[4..].to_vec());
        let r = kafka_protocol::messages::FetchResponse::decode(&mut buf, 11).unwrap();
        let p = &r.responses[0].partitions[0];
        assert_eq!((p.high_watermark, p.last_stable_offset), (7, 7));
        let aborted: Vec<(i64, i64)> =
            p.aborted_transactions.iter().flatten().map(|a| (a.producer_id.0, a.first_offset)).collect();
        assert_eq!(aborted, vec![(pid, 0)]);
        let mut records = p.records.clone().unwrap();
        let sets = RecordBatchDecoder::decode_all(&mut records).unwrap();
        let seen: Vec<(i64, bool, bool)> =
            sets.iter().flat_map(|s| s.records.iter().map(|r| (r.offset, r.control, r.transactional))).collect();
        let data = |o| (o, false, true);
        let control = |o| (o, true, true);
        assert_eq!(seen, vec![data(0), data(1), data(2), control(3), data(4), data(5), control(6)]);
    }

    #[test]
    fn init_during_a_transaction_answers_concurrent_transactions_until_the_abort_is_written() {
        let mut c = cluster(1, "");
        accept(&mut c, 1, 0);
        let (_, pid, _) = init(&mut c, 1, 4, "tx", 60_000);
        add_partitions(&mut c, pid, 0, vec![("t", vec![0])]);
        assert_eq!(produce(&mut c, 1, 9, 0, &txn_batch(pid, 0, 0, 3)), (0, 0));
        assert_eq!(init(&mut c, 1, 4, "tx", 60_000).0, ErrorCode::CONCURRENT_TRANSACTIONS.0);
        assert_eq!(init(&mut c, 1, 4, "tx", 60_000).0, ErrorCode::CONCURRENT_TRANSACTIONS.0);
        advance(&mut c, 5);
        // The abort carries the fencing epoch; the retried init bumps once more.
        assert_eq!(last_marker(&c), Some((TransactionResult::Abort, 1)));
        assert_eq!(init(&mut c, 1, 4, "tx", 60_000), (0, pid, 2));
        assert_eq!(
            fetch(&mut c, 0, READ_COMMITTED).3,
            Some(vec![AbortedTransaction { producer_id: pid, first_offset: 0 }])
        );
    }

    #[test]
    fn a_transaction_past_its_timeout_is_aborted_and_its_producer_fenced() {
        let mut c = cluster(1, "");
        accept(&mut c, 1, 0);
        let (_, pid, _) = init(&mut c, 1, 4, "tx", 1_000);
        add_partitions(&mut c, pid, 0, vec![("t", vec![0])]);
        assert_eq!(produce(&mut c, 1, 9, 0, &txn_batch(pid, 0, 0, 3)), (0, 0));
        advance(&mut c, 1_000);
        advance(&mut c, 5);
        assert_eq!(last_marker(&c), Some((TransactionResult::Abort, 1)));
        assert_eq!(fetch(&mut c, 0, READ_COMMITTED).1, 4);
        assert_eq!(end(&mut c, 3, pid, 0, true), ErrorCode::PRODUCER_FENCED);
        assert_eq!(produce(&mut c, 1, 9, 0, &txn_batch(pid, 0, 3, 1)).0, ErrorCode::INVALID_PRODUCER_EPOCH.0);
    }

    #[test]
    fn transactional_offsets_are_pending_until_the_commit_marker() {
        let mut c = cluster(1, "");
        accept(&mut c, 1, 0);
        let (_, pid, _) = init(&mut c, 1, 4, "tx", 60_000);
        let commit = |c: &mut crate::broker::Cluster, offset: i64| {
            let body = roundtrip(c, 1, 8, 3, &txn_offset_commit_req(pid, 0, offset));
            let r: TxnOffsetCommitResponse = decode(&body, 8, 3);
            ErrorCode(r.topics[0].partitions[0].error_code)
        };
        let fetched = |c: &mut crate::broker::Cluster, require_stable: bool| {
            let req = OffsetFetchRequest {
                group_id: "g",
                topics: Some(vec![OffsetFetchRequestTopic { name: "t", partition_indexes: vec![0] }]),
                require_stable,
                ..Default::default()
            };
            let body = roundtrip(c, 1, 9, 7, &req);
            let r: OffsetFetchResponse = decode(&body, 9, 7);
            let p = &r.topics[0].partitions[0];
            (ErrorCode(p.error_code), p.committed_offset)
        };
        // TxnOffsetCommit before AddOffsetsToTxn: INVALID_TXN_STATE.
        assert_eq!(commit(&mut c, 5), ErrorCode::INVALID_TXN_STATE);
        let req = AddOffsetsToTxnRequest { transactional_id: "tx", producer_id: pid, producer_epoch: 0, group_id: "g" };
        let body = roundtrip(&mut c, 1, 10, 3, &req);
        let r: AddOffsetsToTxnResponse = decode(&body, 10, 3);
        assert_eq!(r.error_code, 0);
        assert_eq!(commit(&mut c, 5), ErrorCode::NONE);
        assert_eq!(fetched(&mut c, true), (ErrorCode::UNSTABLE_OFFSET_COMMIT, -1));
        assert_eq!(fetched(&mut c, false), (ErrorCode::NONE, -1));
        assert_eq!(end(&mut c, 3, pid, 0, true), ErrorCode::NONE);
        advance(&mut c, 5);
        assert_eq!(fetched(&mut c, true), (ErrorCode::NONE, 5));
    }

    #[test]
    fn the_transaction_coordinator_is_placed_like_a_group() {
        let mut c = cluster(3, "");
        accept(&mut c, 1, 0);
        let req = FindCoordinatorRequest { key: "tx", key_type: 1, coordinator_keys: vec![] };
        let body = roundtrip(&mut c, 1, 2, 3, &req);
        let r: FindCoordinatorResponse = decode(&body, 2, 3);
        assert_eq!(r.error_code, 0);
        let group = FindCoordinatorRequest { key: "tx", key_type: 0, coordinator_keys: vec![] };
        let body = roundtrip(&mut c, 1, 2, 3, &group);
        let g: FindCoordinatorResponse = decode(&body, 2, 3);
        assert_eq!(r.node_id, g.node_id, "one placement for both key types");
        // Another broker is not the coordinator.
        let other = (r.node_id + 1) % 3;
        accept(&mut c, 2, other);
        assert_eq!(init(&mut c, 2, 4, "tx", 60_000).0, ErrorCode::NOT_COORDINATOR.0);
        accept(&mut c, 3, r.node_id);
        assert_eq!(init(&mut c, 3, 4, "tx", 60_000).0, 0);
        // The coordinator faults hit transactional requests too.
        let mut c = cluster(1, "coordinator_loading=1");
        accept(&mut c, 1, 0);
        assert_eq!(init(&mut c, 1, 4, "tx", 60_000).0, ErrorCode::COORDINATOR_LOAD_IN_PROGRESS.0);
        assert_eq!(c.stats().coordinator_errors, 1);
    }

    /// Transactions v2 (KIP-890 part 2) through the wire, on a cluster finalizing
    /// `transaction.version` = 2.
    mod tv2 {
        use super::*;
        use crate::broker::{ClusterConfig, TransactionVersion};

        fn tv2_cluster() -> crate::broker::Cluster {
            let config = ClusterConfig { transaction_version: TransactionVersion::V2, ..config(1, "") };
            let mut c = crate::broker::Cluster::new(config, at(0)).unwrap();
            drain(&mut c);
            accept(&mut c, 1, 0);
            c
        }

        /// Produce v12 of one batch to t-0 with `transactional_id`: (error, base offset).
        fn produce_v12(
            c: &mut crate::broker::Cluster,
            transactional_id: Option<&str>,
            records: &[u8],
        ) -> (ErrorCode, i64) {
            let req = ProduceRequest { transactional_id, ..produce_req("t", 0, records, -1) };
            let body = roundtrip(c, 1, 11, 12, &req);
            let r: ProduceResponse = decode(&body, 11, 12);
            let p = &r.responses[0].partition_responses[0];
            (ErrorCode(p.error_code), p.base_offset)
        }

        /// EndTxn v5 of "tx": (error, producer id, epoch).
        fn end_v5(c: &mut crate::broker::Cluster, pid: i64, epoch: i16, committed: bool) -> (ErrorCode, i64, i16) {
            let req = EndTxnRequest { transactional_id: "tx", producer_id: pid, producer_epoch: epoch, committed };
            let body = roundtrip(c, 1, 12, 5, &req);
            let r: EndTxnResponse = decode(&body, 12, 5);
            (ErrorCode(r.error_code), r.producer_id, r.producer_epoch)
        }

        #[test]
        fn api_versions_advertise_transaction_version_and_the_kip_890_versions() {
            for (tv, level, produce, init, end, offsets) in
                [(TransactionVersion::V1, 1, 10, 4, 3, 3), (TransactionVersion::V2, 2, 12, 5, 5, 5)]
            {
                let config = ClusterConfig { transaction_version: tv, ..config(1, "") };
                let mut c = crate::broker::Cluster::new(config, at(0)).unwrap();
                accept(&mut c, 1, 0);
                let body = roundtrip(&mut c, 1, 1, 3, &ApiVersionsRequest::default());
                let r: ApiVersionsResponse = decode(&body, 1, 3);
                let max = |key: ApiKey| r.api_keys.iter().find(|a| a.api_key == key.as_i16()).map(|a| a.max_version);
                assert_eq!(
                    [ApiKey::Produce, ApiKey::InitProducerId, ApiKey::EndTxn, ApiKey::TxnOffsetCommit].map(max),
                    [Some(produce), Some(init), Some(end), Some(offsets)]
                );
                assert_eq!(max(ApiKey::AddPartitionsToTxn), Some(3), "v4+ is the brokers' form");
                assert_eq!(r.finalized_features.len(), 1);
                let f = &r.finalized_features[0];
                assert_eq!(
                    (f.name.as_str(), f.min_version_level, f.max_version_level),
                    ("transaction.version", level, level)
                );
                assert_eq!(r.supported_features[0].max_version, 2);
                assert!(r.finalized_features_epoch >= 0);
            }
            // idem's producer keeps picking transactions v1's versions.
            assert_eq!(
                [ApiKey::Produce, ApiKey::InitProducerId, ApiKey::EndTxn, ApiKey::TxnOffsetCommit]
                    .map(|k| k.negotiated().max),
                [10, 4, 4, 4]
            );
        }

        #[test]
        fn produce_v12_adds_the_partition_and_end_txn_v5_bumps_the_epoch() {
            let mut c = tv2_cluster();
            let (e, pid, epoch) = init(&mut c, 1, 5, "tx", 60_000);
            assert_eq!((e, epoch), (0, 0));
            // No AddPartitionsToTxn: the Produce adds the partition.
            assert_eq!(produce_v12(&mut c, Some("tx"), &txn_batch(pid, 0, 0, 2)), (ErrorCode::NONE, 0));
            // Nor AddOffsetsToTxn: TxnOffsetCommit v5 adds the group.
            let req = txn_offset_commit_req(pid, 0, 2);
            let body = roundtrip(&mut c, 1, 8, 5, &req);
            let r: TxnOffsetCommitResponse = decode(&body, 8, 5);
            assert_eq!(r.topics[0].partitions[0].error_code, 0);
            // The same below v5 without AddOffsetsToTxn: INVALID_TXN_STATE (transactions v1).
            let req4 = TxnOffsetCommitRequest { group_id: "h", ..req.clone() };
            let body = roundtrip(&mut c, 1, 8, 4, &req4);
            let r: TxnOffsetCommitResponse = decode(&body, 8, 4);
            assert_eq!(ErrorCode(r.topics[0].partitions[0].error_code), ErrorCode::INVALID_TXN_STATE);
            assert_eq!(end_v5(&mut c, pid, 0, true), (ErrorCode::NONE, pid, 1));
            advance(&mut c, 5);
            assert_eq!(last_marker(&c), Some((TransactionResult::Commit, 1)), "the marker carries the bumped epoch");
            assert_eq!(c.committed_offset("g", "t", 0), Some(2));
            // The old epoch is fenced; the new one starts the next transaction at sequence 0.
            assert_eq!(produce_v12(&mut c, Some("tx"), &txn_batch(pid, 0, 2, 1)).0, ErrorCode::INVALID_PRODUCER_EPOCH);
            assert_eq!(produce_v12(&mut c, Some("tx"), &txn_batch(pid, 1, 0, 1)), (ErrorCode::NONE, 3));
            // A retry of the first EndTxn (answer lost) is fenced now: another transaction is on.
            assert_eq!(end_v5(&mut c, pid, 0, true).0, ErrorCode::PRODUCER_FENCED);
            assert_eq!(end_v5(&mut c, pid, 1, false), (ErrorCode::NONE, pid, 2));
            advance(&mut c, 5);
            assert_eq!(last_marker(&c), Some((TransactionResult::Abort, 2)));
            assert_eq!(end_v5(&mut c, pid, 1, false), (ErrorCode::NONE, pid, 2), "a retry gets the same answer");
        }

        #[test]
        fn a_v1_client_on_a_v2_cluster_keeps_v1_rules() {
            let mut c = tv2_cluster();
            let (_, pid, _) = init(&mut c, 1, 4, "tx", 60_000);
            // Produce below v12 does not add the partition.
            assert_eq!(produce(&mut c, 1, 10, 0, &txn_batch(pid, 0, 0, 1)).0, ErrorCode::INVALID_TXN_STATE.0);
            assert_eq!(add_partitions(&mut c, pid, 0, vec![("t", vec![0])]), vec![ErrorCode::NONE]);
            assert_eq!(produce(&mut c, 1, 10, 0, &txn_batch(pid, 0, 0, 1)).0, 0);
            // EndTxn v4 does not bump the epoch.
            assert_eq!(end(&mut c, 4, pid, 0, true), ErrorCode::NONE);
            advance(&mut c, 5);
            assert_eq!(last_marker(&c), Some((TransactionResult::Commit, 0)));
            assert_eq!(end(&mut c, 4, pid, 0, true), ErrorCode::NONE, "v1 retry");
        }

        #[test]
        fn hostile_v2_requests_get_kafkas_codes_and_change_nothing() {
            let mut c = tv2_cluster();
            // EndTxn v5 from an unknown transactional id.
            assert_eq!(end_v5(&mut c, 4711, 0, true), (ErrorCode::INVALID_PRODUCER_ID_MAPPING, -1, -1));
            // Produce v12 of transactional records without InitProducerId: nothing appended.
            assert_eq!(
                produce_v12(&mut c, Some("tx"), &txn_batch(4711, 0, 0, 1)).0,
                ErrorCode::INVALID_PRODUCER_ID_MAPPING
            );
            assert_eq!(
                produce_v12(&mut c, None, &txn_batch(4711, 0, 0, 1)).0,
                ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
            );
            assert_eq!(c.partition_log("t", 0).map(|l| l.batches().count()), Some(0));
            // Another producer's id or a future epoch under the right transactional id.
            let (_, pid, _) = init(&mut c, 1, 5, "tx", 60_000);
            assert_eq!(
                produce_v12(&mut c, Some("tx"), &txn_batch(pid + 1, 0, 0, 1)).0,
                ErrorCode::INVALID_PRODUCER_ID_MAPPING
            );
            assert_eq!(produce_v12(&mut c, Some("tx"), &txn_batch(pid, 3, 0, 1)).0, ErrorCode::INVALID_PRODUCER_EPOCH);
            assert_eq!(end_v5(&mut c, pid, 0, true), (ErrorCode::INVALID_TXN_STATE, -1, -1));
            assert_eq!(c.partition_log("t", 0).map(|l| l.batches().count()), Some(0));
            // A transactions v1 cluster does not serve EndTxn v5: the connection is closed.
            let mut v1 = cluster(1, "");
            accept(&mut v1, 1, 0);
            let req = EndTxnRequest { transactional_id: "tx", producer_id: 1, producer_epoch: 0, committed: true };
            send(&mut v1, at(0), 1, &frame(1, 5, &req));
            let (out, _) = drain(&mut v1);
            assert_eq!(transmitted(&out, 1), (Vec::new(), true));
        }
    }
}
