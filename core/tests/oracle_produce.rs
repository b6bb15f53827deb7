//! Produce (v3-12) against the `kafka-protocol` crate as an oracle, both directions, every
//! version: (a) idem encode -> kafka-protocol decode, (b) kafka-protocol encode -> idem decode,
//! (c) idem round trip, plus byte-identical re-encoding and whole-frame checks.

mod kafka_protocol_oracle;

use idem_core::proto::produce as idem;
use kafka_protocol::messages::produce_request as kreq;
use kafka_protocol::messages::produce_response as kres;
use kafka_protocol::messages::{
    BrokerId, ProduceRequest as KpRequest, ProduceResponse as KpResponse, TopicName, TransactionalId,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol_oracle::*;
use proptest::collection::vec;
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 3..=12;

// ---- strategies: kafka-protocol values valid for a version --------------------------------

fn kp_request(version: i16) -> impl Strategy<Value = KpRequest> {
    let flexible = version >= 9;
    let partition = (any::<i32>(), records(), unknown_tags(flexible, 0)).prop_map(|(index, records, tags)| {
        kreq::PartitionProduceData::default().with_index(index).with_records(records).with_unknown_tagged_fields(tags)
    });
    let topic = (string(), vec(partition, 0..4), unknown_tags(flexible, 0)).prop_map(|(name, parts, tags)| {
        kreq::TopicProduceData::default()
            .with_name(TopicName(name))
            .with_partition_data(parts)
            .with_unknown_tagged_fields(tags)
    });
    (nullable_string(), any::<i16>(), any::<i32>(), vec(topic, 0..3), unknown_tags(flexible, 0)).prop_map(
        |(tx, acks, timeout, topics, tags)| {
            KpRequest::default()
                .with_transactional_id(tx.map(TransactionalId))
                .with_acks(acks)
                .with_timeout_ms(timeout)
                .with_topic_data(topics)
                .with_unknown_tagged_fields(tags)
        },
    )
}

fn kp_response(version: i16) -> impl Strategy<Value = KpResponse> {
    let flexible = version >= 9;
    let record_error = (any::<i32>(), nullable_string(), unknown_tags(flexible, 0)).prop_map(|(i, msg, tags)| {
        kres::BatchIndexAndErrorMessage::default()
            .with_batch_index(i)
            .with_batch_index_error_message(msg)
            .with_unknown_tagged_fields(tags)
    });
    let record_errors = if version >= 8 { vec(record_error, 0..3).boxed() } else { Just(Vec::new()).boxed() };
    let error_message = if version >= 8 { nullable_string().boxed() } else { Just(None).boxed() };
    let leader =
        if version >= 10 { proptest::option::of((any::<i32>(), any::<i32>())).boxed() } else { Just(None).boxed() };
    let partition = (
        (any::<i32>(), any::<i16>(), any::<i64>(), any::<i64>(), i64_since(version, 5, -1)),
        record_errors,
        error_message,
        leader,
        unknown_tags(flexible, 1),
    )
        .prop_map(|((index, code, base, append, start), errors, msg, leader, tags)| {
            let mut p = kres::PartitionProduceResponse::default()
                .with_index(index)
                .with_error_code(code)
                .with_base_offset(base)
                .with_log_append_time_ms(append)
                .with_log_start_offset(start)
                .with_record_errors(errors)
                .with_error_message(msg)
                .with_unknown_tagged_fields(tags);
            if let Some((id, epoch)) = leader {
                p.current_leader =
                    kres::LeaderIdAndEpoch::default().with_leader_id(BrokerId(id)).with_leader_epoch(epoch);
            }
            p
        });
    let topic = (string(), vec(partition, 0..3), unknown_tags(flexible, 0)).prop_map(|(name, parts, tags)| {
        kres::TopicProduceResponse::default()
            .with_name(TopicName(name))
            .with_partition_responses(parts)
            .with_unknown_tagged_fields(tags)
    });
    let endpoint = (any::<i32>(), string(), any::<i32>(), nullable_string(), unknown_tags(flexible, 0)).prop_map(
        |(id, host, port, rack, tags)| {
            kres::NodeEndpoint::default()
                .with_node_id(BrokerId(id))
                .with_host(host)
                .with_port(port)
                .with_rack(rack)
                .with_unknown_tagged_fields(tags)
        },
    );
    let endpoints = if version >= 10 { vec(endpoint, 0..3).boxed() } else { Just(Vec::new()).boxed() };
    (vec(topic, 0..3), any::<i32>(), endpoints, unknown_tags(flexible, 1)).prop_map(
        |(topics, throttle, endpoints, tags)| {
            KpResponse::default()
                .with_responses(topics)
                .with_throttle_time_ms(throttle)
                .with_node_endpoints(endpoints)
                .with_unknown_tagged_fields(tags)
        },
    )
}

fn kp_leader(l: &kres::LeaderIdAndEpoch) -> Option<idem::LeaderIdAndEpoch> {
    (*l != kres::LeaderIdAndEpoch::default())
        .then_some(idem::LeaderIdAndEpoch { leader_id: l.leader_id.0, leader_epoch: l.leader_epoch })
}

// ---- kafka-protocol types as oracles of the idem types: conversion, comparison, properties

impl Oracle for KpRequest {
    type Idem<'a> = idem::ProduceRequest<'a>;

    fn to_idem(&self) -> Self::Idem<'_> {
        let k = self;
        idem::ProduceRequest {
            transactional_id: k.transactional_id.as_ref().map(|t| s(&t.0)),
            acks: k.acks,
            timeout_ms: k.timeout_ms,
            topic_data: k
                .topic_data
                .iter()
                .map(|t| idem::TopicProduceData {
                    name: s(&t.name.0),
                    partition_data: t
                        .partition_data
                        .iter()
                        .map(|p| idem::PartitionProduceData { index: p.index, records: ob(&p.records) })
                        .collect(),
                })
                .collect(),
        }
    }

    fn assert_same(i: &Self::Idem<'_>, k: &Self) {
        assert_eq!(i.transactional_id, k.transactional_id.as_ref().map(|t| s(&t.0)), "transactional_id");
        assert_eq!(i.acks, k.acks, "acks");
        assert_eq!(i.timeout_ms, k.timeout_ms, "timeout_ms");
        assert_eq!(i.topic_data.len(), k.topic_data.len(), "topic_data");
        for (it, kt) in i.topic_data.iter().zip(&k.topic_data) {
            assert_eq!(it.name, s(&kt.name.0), "name");
            assert_eq!(it.partition_data.len(), kt.partition_data.len(), "partition_data");
            for (ip, kp) in it.partition_data.iter().zip(&kt.partition_data) {
                assert_eq!(ip.index, kp.index, "index");
                assert_eq!(ip.records, ob(&kp.records), "records");
            }
        }
    }
}

impl Oracle for KpResponse {
    type Idem<'a> = idem::ProduceResponse<'a>;

    fn to_idem(&self) -> Self::Idem<'_> {
        let k = self;
        idem::ProduceResponse {
            responses: k
                .responses
                .iter()
                .map(|t| idem::TopicProduceResponse {
                    name: s(&t.name.0),
                    partition_responses: t
                        .partition_responses
                        .iter()
                        .map(|p| idem::PartitionProduceResponse {
                            index: p.index,
                            error_code: p.error_code,
                            base_offset: p.base_offset,
                            log_append_time_ms: p.log_append_time_ms,
                            log_start_offset: p.log_start_offset,
                            record_errors: p
                                .record_errors
                                .iter()
                                .map(|e| idem::BatchIndexAndErrorMessage {
                                    batch_index: e.batch_index,
                                    batch_index_error_message: os(&e.batch_index_error_message),
                                })
                                .collect(),
                            error_message: os(&p.error_message),
                            current_leader: kp_leader(&p.current_leader),
                        })
                        .collect(),
                })
                .collect(),
            throttle_time_ms: k.throttle_time_ms,
            node_endpoints: k
                .node_endpoints
                .iter()
                .map(|e| idem::NodeEndpoint { node_id: e.node_id.0, host: s(&e.host), port: e.port, rack: os(&e.rack) })
                .collect(),
        }
    }

    fn assert_same(i: &Self::Idem<'_>, k: &Self) {
        assert_eq!(i.throttle_time_ms, k.throttle_time_ms, "throttle_time_ms");
        assert_eq!(i.responses.len(), k.responses.len(), "responses");
        for (it, kt) in i.responses.iter().zip(&k.responses) {
            assert_eq!(it.name, s(&kt.name.0), "name");
            assert_eq!(it.partition_responses.len(), kt.partition_responses.len(), "partition_responses");
            for (ip, kp) in it.partition_responses.iter().zip(&kt.partition_responses) {
                assert_eq!(ip.index, kp.index, "index");
                assert_eq!(ip.error_code, kp.error_code, "error_code");
                assert_eq!(ip.base_offset, kp.base_offset, "base_offset");
                assert_eq!(ip.log_append_time_ms, kp.log_append_time_ms, "log_append_time_ms");
                assert_eq!(ip.log_start_offset, kp.log_start_offset, "log_start_offset");
                assert_eq!(ip.record_errors.len(), kp.record_errors.len(), "record_errors");
                for (ie, ke) in ip.record_errors.iter().zip(&kp.record_errors) {
                    assert_eq!(ie.batch_index, ke.batch_index, "batch_index");
                    assert_eq!(
                        ie.batch_index_error_message,
                        os(&ke.batch_index_error_message),
                        "batch_index_error_message"
                    );
                }
                assert_eq!(ip.error_message, os(&kp.error_message), "error_message");
                let unknown = idem::LeaderIdAndEpoch { leader_id: -1, leader_epoch: -1 };
                assert_eq!(
                    ip.current_leader.filter(|l| *l != unknown),
                    kp_leader(&kp.current_leader),
                    "current_leader"
                );
            }
        }
        assert_eq!(i.node_endpoints.len(), k.node_endpoints.len(), "node_endpoints");
        for (ie, ke) in i.node_endpoints.iter().zip(&k.node_endpoints) {
            assert_eq!(ie.node_id, ke.node_id.0, "node_id");
            assert_eq!(ie.host, s(&ke.host), "host");
            assert_eq!(ie.port, ke.port, "port");
            assert_eq!(ie.rack, os(&ke.rack), "rack");
        }
    }
}

oracle_tests!(VERSIONS, kp_request, kp_response);

// ---- framing -------------------------------------------------------------------------------

#[test]
fn request_frame_is_read_by_kafka_protocol() {
    let req = idem::ProduceRequest {
        transactional_id: None,
        acks: -1,
        timeout_ms: 30_000,
        topic_data: vec![idem::TopicProduceData {
            name: "events",
            partition_data: vec![idem::PartitionProduceData { index: 2, records: Some(b"batch bytes") }],
        }],
    };
    for v in [8, 10, 12] {
        check_request_frame::<KpRequest>(&req, v, 77);
    }
}

#[test]
fn kafka_protocol_response_frame_is_read_by_idem() {
    let kp = KpResponse::default().with_throttle_time_ms(3).with_responses(vec![
        kres::TopicProduceResponse::default()
            .with_name(TopicName(StrBytes::from_static_str("events")))
            .with_partition_responses(vec![
                kres::PartitionProduceResponse::default().with_index(2).with_base_offset(41),
            ]),
    ]);
    for v in [8, 10, 12] {
        check_response_frame(&kp, v, 77);
    }
}
