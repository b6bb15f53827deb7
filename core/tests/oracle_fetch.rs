//! Fetch (v4-12) against the `kafka-protocol` crate as an oracle, both directions, every
//! version: (a) idem encode -> kafka-protocol decode, (b) kafka-protocol encode -> idem decode,
//! (c) idem round trip, plus byte-identical re-encoding and whole-frame checks.

mod kafka_protocol_oracle;

use idem_core::proto::fetch as idem;
use kafka_protocol::messages::fetch_request as kreq;
use kafka_protocol::messages::fetch_response as kres;
use kafka_protocol::messages::{
    BrokerId, FetchRequest as KpRequest, FetchResponse as KpResponse, ProducerId, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol_oracle::*;
use proptest::collection::vec;
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 4..=12;

// ---- strategies: kafka-protocol values valid for a version --------------------------------

fn kp_request(version: i16) -> impl Strategy<Value = KpRequest> {
    let flexible = version >= 12;
    let partition = (
        (any::<i32>(), i32_since(version, 9, -1), any::<i64>()),
        (i32_since(version, 12, -1), i64_since(version, 5, -1), any::<i32>()),
        unknown_tags(flexible, 2),
    )
        .prop_map(|((partition, leader_epoch, offset), (last_epoch, start, max), tags)| {
            kreq::FetchPartition::default()
                .with_partition(partition)
                .with_current_leader_epoch(leader_epoch)
                .with_fetch_offset(offset)
                .with_last_fetched_epoch(last_epoch)
                .with_log_start_offset(start)
                .with_partition_max_bytes(max)
                .with_unknown_tagged_fields(tags)
        });
    let topic = (string(), vec(partition, 0..3), unknown_tags(flexible, 0)).prop_map(|(name, parts, tags)| {
        kreq::FetchTopic::default().with_topic(TopicName(name)).with_partitions(parts).with_unknown_tagged_fields(tags)
    });
    let forgotten = (string(), vec(any::<i32>(), 0..4), unknown_tags(flexible, 0)).prop_map(|(name, parts, tags)| {
        kreq::ForgottenTopic::default()
            .with_topic(TopicName(name))
            .with_partitions(parts)
            .with_unknown_tagged_fields(tags)
    });
    let forgotten = if version >= 7 { vec(forgotten, 0..3).boxed() } else { Just(Vec::new()).boxed() };
    let cluster_id = if version >= 12 { nullable_string().boxed() } else { Just(None).boxed() };
    let rack_id = if version >= 11 { string().boxed() } else { Just(StrBytes::default()).boxed() };
    (
        (cluster_id, any::<i32>(), any::<i32>(), any::<i32>(), any::<i32>(), any::<i8>()),
        (i32_since(version, 7, 0), i32_since(version, 7, -1)),
        (vec(topic, 0..3), forgotten, rack_id, unknown_tags(flexible, 2)),
    )
        .prop_map(
            |((cluster_id, replica, wait, min, max, isolation), (sid, sepoch), (topics, forgotten, rack, tags))| {
                KpRequest::default()
                    .with_cluster_id(cluster_id)
                    .with_replica_id(BrokerId(replica))
                    .with_max_wait_ms(wait)
                    .with_min_bytes(min)
                    .with_max_bytes(max)
                    .with_isolation_level(isolation)
                    .with_session_id(sid)
                    .with_session_epoch(sepoch)
                    .with_topics(topics)
                    .with_forgotten_topics_data(forgotten)
                    .with_rack_id(rack)
                    .with_unknown_tagged_fields(tags)
            },
        )
}

fn kp_response(version: i16) -> impl Strategy<Value = KpResponse> {
    let flexible = version >= 12;
    let txn = (any::<i64>(), any::<i64>(), unknown_tags(flexible, 0)).prop_map(|(pid, first, tags)| {
        kres::AbortedTransaction::default()
            .with_producer_id(ProducerId(pid))
            .with_first_offset(first)
            .with_unknown_tagged_fields(tags)
    });
    // Tagged fields of v12 that idem skips: diverging epoch, current leader, snapshot id.
    let skipped = if version >= 12 {
        (
            proptest::option::of((any::<i32>(), any::<i64>())),
            proptest::option::of((any::<i32>(), any::<i32>())),
            proptest::option::of((any::<i64>(), any::<i32>())),
        )
            .boxed()
    } else {
        Just((None, None, None)).boxed()
    };
    let partition = (
        (any::<i32>(), any::<i16>(), any::<i64>(), any::<i64>(), i64_since(version, 5, -1)),
        (proptest::option::of(vec(txn, 0..3)), i32_since(version, 11, -1), records()),
        skipped,
        unknown_tags(flexible, 3),
    )
        .prop_map(|((index, code, hw, lso, start), (txns, replica, records), (div, leader, snap), tags)| {
            let mut p = kres::PartitionData::default()
                .with_partition_index(index)
                .with_error_code(code)
                .with_high_watermark(hw)
                .with_last_stable_offset(lso)
                .with_log_start_offset(start)
                .with_aborted_transactions(txns)
                .with_preferred_read_replica(BrokerId(replica))
                .with_records(records)
                .with_unknown_tagged_fields(tags);
            if let Some((epoch, end)) = div {
                p.diverging_epoch = kres::EpochEndOffset::default().with_epoch(epoch).with_end_offset(end);
            }
            if let Some((id, epoch)) = leader {
                p.current_leader =
                    kres::LeaderIdAndEpoch::default().with_leader_id(BrokerId(id)).with_leader_epoch(epoch);
            }
            if let Some((end, epoch)) = snap {
                p.snapshot_id = kres::SnapshotId::default().with_end_offset(end).with_epoch(epoch);
            }
            p
        });
    let topic = (string(), vec(partition, 0..3), unknown_tags(flexible, 0)).prop_map(|(name, parts, tags)| {
        kres::FetchableTopicResponse::default()
            .with_topic(TopicName(name))
            .with_partitions(parts)
            .with_unknown_tagged_fields(tags)
    });
    (
        any::<i32>(),
        i32_since(version, 7, 0).prop_map(|c| c as i16),
        i32_since(version, 7, 0),
        vec(topic, 0..3),
        unknown_tags(flexible, 1),
    )
        .prop_map(|(throttle, code, sid, topics, tags)| {
            KpResponse::default()
                .with_throttle_time_ms(throttle)
                .with_error_code(code)
                .with_session_id(sid)
                .with_responses(topics)
                .with_unknown_tagged_fields(tags)
        })
}

// ---- kafka-protocol types as oracles of the idem types: conversion, comparison, properties

impl Oracle for KpRequest {
    type Idem<'a> = idem::FetchRequest<'a>;

    fn to_idem(&self) -> Self::Idem<'_> {
        let k = self;
        idem::FetchRequest {
            cluster_id: os(&k.cluster_id),
            replica_id: k.replica_id.0,
            max_wait_ms: k.max_wait_ms,
            min_bytes: k.min_bytes,
            max_bytes: k.max_bytes,
            isolation_level: k.isolation_level,
            session_id: k.session_id,
            session_epoch: k.session_epoch,
            topics: k
                .topics
                .iter()
                .map(|t| idem::FetchTopic {
                    topic: s(&t.topic.0),
                    partitions: t
                        .partitions
                        .iter()
                        .map(|p| idem::FetchPartition {
                            partition: p.partition,
                            current_leader_epoch: p.current_leader_epoch,
                            fetch_offset: p.fetch_offset,
                            last_fetched_epoch: p.last_fetched_epoch,
                            log_start_offset: p.log_start_offset,
                            partition_max_bytes: p.partition_max_bytes,
                        })
                        .collect(),
                })
                .collect(),
            forgotten_topics_data: k
                .forgotten_topics_data
                .iter()
                .map(|t| idem::ForgottenTopic { topic: s(&t.topic.0), partitions: t.partitions.clone() })
                .collect(),
            rack_id: s(&k.rack_id),
        }
    }

    fn assert_same(i: &Self::Idem<'_>, k: &Self) {
        assert_eq!(i.cluster_id, os(&k.cluster_id), "cluster_id");
        assert_eq!(i.replica_id, k.replica_id.0, "replica_id");
        assert_eq!(i.max_wait_ms, k.max_wait_ms, "max_wait_ms");
        assert_eq!(i.min_bytes, k.min_bytes, "min_bytes");
        assert_eq!(i.max_bytes, k.max_bytes, "max_bytes");
        assert_eq!(i.isolation_level, k.isolation_level, "isolation_level");
        assert_eq!(i.session_id, k.session_id, "session_id");
        assert_eq!(i.session_epoch, k.session_epoch, "session_epoch");
        assert_eq!(i.topics.len(), k.topics.len(), "topics");
        for (it, kt) in i.topics.iter().zip(&k.topics) {
            assert_eq!(it.topic, s(&kt.topic.0), "topic");
            assert_eq!(it.partitions.len(), kt.partitions.len(), "partitions");
            for (ip, kp) in it.partitions.iter().zip(&kt.partitions) {
                assert_eq!(ip.partition, kp.partition, "partition");
                assert_eq!(ip.current_leader_epoch, kp.current_leader_epoch, "current_leader_epoch");
                assert_eq!(ip.fetch_offset, kp.fetch_offset, "fetch_offset");
                assert_eq!(ip.last_fetched_epoch, kp.last_fetched_epoch, "last_fetched_epoch");
                assert_eq!(ip.log_start_offset, kp.log_start_offset, "log_start_offset");
                assert_eq!(ip.partition_max_bytes, kp.partition_max_bytes, "partition_max_bytes");
            }
        }
        assert_eq!(i.forgotten_topics_data.len(), k.forgotten_topics_data.len(), "forgotten_topics_data");
        for (it, kt) in i.forgotten_topics_data.iter().zip(&k.forgotten_topics_data) {
            assert_eq!(it.topic, s(&kt.topic.0), "forgotten topic");
            assert_eq!(it.partitions, kt.partitions, "forgotten partitions");
        }
        assert_eq!(i.rack_id, s(&k.rack_id), "rack_id");
    }
}

impl Oracle for KpResponse {
    type Idem<'a> = idem::FetchResponse<'a>;

    fn to_idem(&self) -> Self::Idem<'_> {
        let k = self;
        idem::FetchResponse {
            throttle_time_ms: k.throttle_time_ms,
            error_code: k.error_code,
            session_id: k.session_id,
            responses: k
                .responses
                .iter()
                .map(|t| idem::FetchableTopicResponse {
                    topic: s(&t.topic.0),
                    partitions: t
                        .partitions
                        .iter()
                        .map(|p| idem::FetchPartitionData {
                            partition_index: p.partition_index,
                            error_code: p.error_code,
                            high_watermark: p.high_watermark,
                            last_stable_offset: p.last_stable_offset,
                            log_start_offset: p.log_start_offset,
                            aborted_transactions: p.aborted_transactions.as_ref().map(|txns| {
                                txns.iter()
                                    .map(|t| idem::AbortedTransaction {
                                        producer_id: t.producer_id.0,
                                        first_offset: t.first_offset,
                                    })
                                    .collect()
                            }),
                            preferred_read_replica: p.preferred_read_replica.0,
                            records: ob(&p.records),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn assert_same(i: &Self::Idem<'_>, k: &Self) {
        assert_eq!(i.throttle_time_ms, k.throttle_time_ms, "throttle_time_ms");
        assert_eq!(i.error_code, k.error_code, "error_code");
        assert_eq!(i.session_id, k.session_id, "session_id");
        assert_eq!(i.responses.len(), k.responses.len(), "responses");
        for (it, kt) in i.responses.iter().zip(&k.responses) {
            assert_eq!(it.topic, s(&kt.topic.0), "topic");
            assert_eq!(it.partitions.len(), kt.partitions.len(), "partitions");
            for (ip, kp) in it.partitions.iter().zip(&kt.partitions) {
                assert_eq!(ip.partition_index, kp.partition_index, "partition_index");
                assert_eq!(ip.error_code, kp.error_code, "error_code");
                assert_eq!(ip.high_watermark, kp.high_watermark, "high_watermark");
                assert_eq!(ip.last_stable_offset, kp.last_stable_offset, "last_stable_offset");
                assert_eq!(ip.log_start_offset, kp.log_start_offset, "log_start_offset");
                let txns = kp
                    .aborted_transactions
                    .as_ref()
                    .map(|v| v.iter().map(|t| (t.producer_id.0, t.first_offset)).collect::<Vec<_>>());
                let itxns = ip
                    .aborted_transactions
                    .as_ref()
                    .map(|v| v.iter().map(|t| (t.producer_id, t.first_offset)).collect::<Vec<_>>());
                assert_eq!(itxns, txns, "aborted_transactions");
                assert_eq!(ip.preferred_read_replica, kp.preferred_read_replica.0, "preferred_read_replica");
                assert_eq!(ip.records, ob(&kp.records), "records");
            }
        }
    }
}

oracle_tests!(VERSIONS, kp_request, kp_response);

// ---- framing -------------------------------------------------------------------------------

#[test]
fn request_frame_is_read_by_kafka_protocol() {
    let req = idem::FetchRequest {
        max_wait_ms: 500,
        min_bytes: 1,
        topics: vec![idem::FetchTopic {
            topic: "events",
            partitions: vec![idem::FetchPartition {
                partition: 0,
                fetch_offset: 12,
                partition_max_bytes: 1 << 20,
                ..Default::default()
            }],
        }],
        ..Default::default()
    };
    for v in [11, 12] {
        check_request_frame::<KpRequest>(&req, v, 9);
    }
}

#[test]
fn kafka_protocol_response_frame_is_read_by_idem() {
    let kp = KpResponse::default().with_session_id(5).with_responses(vec![
        kres::FetchableTopicResponse::default()
            .with_topic(TopicName(StrBytes::from_static_str("events")))
            .with_partitions(vec![
                kres::PartitionData::default()
                    .with_high_watermark(13)
                    .with_records(Some(bytes::Bytes::from_static(b"rb"))),
            ]),
    ]);
    for v in [11, 12] {
        check_response_frame(&kp, v, 9);
    }
}
