//! Unit tests of the Produce codec: version checks, truncation, tagged fields. The oracle
//! tests against kafka-protocol live in `core/tests/oracle_produce.rs`.

use super::*;
use crate::proto::test_util::{check_truncations, check_truncations_as};
use alloc::vec;

fn request() -> ProduceRequest<'static> {
    ProduceRequest {
        transactional_id: Some("tx"),
        acks: -1,
        timeout_ms: 30_000,
        topic_data: vec![
            TopicProduceData {
                name: "t",
                partition_data: vec![
                    PartitionProduceData { index: 0, records: Some(b"batch") },
                    PartitionProduceData { index: 1, records: None },
                ],
            },
            TopicProduceData { name: "", partition_data: vec![] },
        ],
    }
}

fn response() -> ProduceResponse<'static> {
    ProduceResponse {
        responses: vec![TopicProduceResponse {
            name: "t",
            partition_responses: vec![PartitionProduceResponse {
                index: 3,
                error_code: 6,
                base_offset: 42,
                log_append_time_ms: 7,
                log_start_offset: 1,
                record_errors: vec![BatchIndexAndErrorMessage { batch_index: 2, batch_index_error_message: Some("x") }],
                error_message: Some("not leader"),
                current_leader: Some(LeaderIdAndEpoch { leader_id: 2, leader_epoch: 9 }),
            }],
        }],
        throttle_time_ms: 5,
        node_endpoints: vec![NodeEndpoint { node_id: 2, host: "h", port: 9092, rack: None }],
    }
}

#[test]
fn unsupported_versions_are_typed_errors() {
    for v in [-1, 0, 2, 13, i16::MAX] {
        let enc = EncodeError::UnsupportedVersion { api_key: 0, version: v };
        let dec = DecodeError::UnsupportedVersion { api_key: 0, version: v };
        let mut out = Vec::new();
        assert_eq!(request().encode(v, &mut out), Err(enc));
        assert_eq!(response().encode(v, &mut out), Err(enc));
        assert!(out.is_empty());
        let bytes = [0u8; 64];
        assert_eq!(ProduceRequest::decode(&mut Reader::new(&bytes), v), Err(dec));
        assert_eq!(ProduceResponse::decode(&mut Reader::new(&bytes), v), Err(dec));
    }
}

#[test]
fn truncated_input_is_an_error_at_every_cut() {
    for v in 3..=12 {
        check_truncations(&request(), v, &mut Vec::new());
        let mut expect = response();
        let p = &mut expect.responses[0].partition_responses[0];
        if v < 5 {
            p.log_start_offset = -1;
        }
        if v < 8 {
            p.record_errors.clear();
            p.error_message = None;
        }
        if v < 10 {
            p.current_leader = None;
            expect.node_endpoints.clear();
        }
        check_truncations_as(&response(), &expect, v, &mut Vec::new());
    }
}

#[test]
fn tagged_fields_are_written_only_when_set() {
    let mut with = Vec::new();
    response().encode(10, &mut with).unwrap();
    let mut plain = response();
    plain.node_endpoints.clear();
    plain.responses[0].partition_responses[0].current_leader = None;
    let mut without = Vec::new();
    plain.encode(10, &mut without).unwrap();
    // current_leader: tag, size, 9 bytes; node_endpoints: tag, size, 1 + 11 + 1 bytes.
    assert_eq!(with.len() - without.len(), (2 + 9) + (2 + 13));
    let mut v9 = Vec::new();
    response().encode(9, &mut v9).unwrap();
    let mut v9_plain = Vec::new();
    plain.encode(9, &mut v9_plain).unwrap();
    assert_eq!(v9, v9_plain);
}

#[test]
fn malformed_tagged_field_is_an_error() {
    let mut plain = response();
    plain.node_endpoints.clear();
    plain.responses[0].partition_responses[0].current_leader = None;
    let mut out = Vec::new();
    plain.encode(10, &mut out).unwrap();
    // Replace the empty top-level tag section by a tag 0 whose node_endpoints array claims
    // two elements but holds none.
    out.pop();
    out.extend_from_slice(&[1, 0, 1, 3]);
    assert!(ProduceResponse::decode(&mut Reader::new(&out), 10).is_err());
}

/// Arrays of many minimal elements at the end of a message decode: the minimum element sizes
/// given to `array_len` are not larger than the true minimum encodings.
#[test]
fn minimal_elements_fit_their_minimum_size() {
    const K: usize = 40;
    let minimal_topic = || TopicProduceData { name: "", partition_data: vec![] };
    let minimal_partition = PartitionProduceData { index: 0, records: None };
    let minimal_response_partition = PartitionProduceResponse::default();
    let minimal_error = BatchIndexAndErrorMessage { batch_index: 0, batch_index_error_message: None };
    for v in 3..=12 {
        let flexible = v >= 9;
        let req = ProduceRequest { topic_data: vec![minimal_topic(); K], ..ProduceRequest::default() };
        check_truncations(&req, v, &mut Vec::new());
        let req = ProduceRequest {
            topic_data: vec![TopicProduceData { name: "", partition_data: vec![minimal_partition.clone(); K] }],
            ..ProduceRequest::default()
        };
        check_truncations(&req, v, &mut Vec::new());

        let resp = ProduceResponse {
            responses: vec![TopicProduceResponse { name: "", partition_responses: vec![] }; K],
            ..ProduceResponse::default()
        };
        check_truncations(&resp, v, &mut Vec::new());
        let resp = ProduceResponse {
            responses: vec![TopicProduceResponse {
                name: "",
                partition_responses: vec![minimal_response_partition.clone(); K],
            }],
            ..ProduceResponse::default()
        };
        check_truncations(&resp, v, &mut Vec::new());
        // One minimal partition encodes to exactly its declared minimum size.
        let mut one = Vec::new();
        minimal_response_partition.encode(v, flexible, &mut one).unwrap();
        assert_eq!(one.len(), PartitionProduceResponse::min_size(v, flexible), "v{v}");
        if v >= 8 {
            let mut p = minimal_response_partition.clone();
            p.record_errors = vec![minimal_error.clone(); K];
            let resp = ProduceResponse {
                responses: vec![TopicProduceResponse { name: "", partition_responses: vec![p] }],
                ..ProduceResponse::default()
            };
            check_truncations(&resp, v, &mut Vec::new());
        }
        if v >= 10 {
            let resp = ProduceResponse {
                node_endpoints: vec![NodeEndpoint { node_id: 0, host: "", port: 0, rack: None }; K],
                ..ProduceResponse::default()
            };
            check_truncations(&resp, v, &mut Vec::new());
        }
    }
}
