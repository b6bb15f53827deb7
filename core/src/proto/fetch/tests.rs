//! Unit tests of the Fetch codec: version checks, truncation, version-gated fields, skipped
//! tags. The oracle tests against kafka-protocol live in `core/tests/oracle_fetch.rs`.

use super::*;
use crate::proto::test_util::check_truncations;
use alloc::vec;

/// A request valid in `version`: fields the version lacks are at their defaults.
fn request(version: i16) -> FetchRequest<'static> {
    let mut m = FetchRequest {
        cluster_id: Some("cluster"),
        replica_id: -1,
        max_wait_ms: 500,
        min_bytes: 1,
        max_bytes: 1 << 20,
        isolation_level: 1,
        session_id: 4,
        session_epoch: 2,
        topics: vec![FetchTopic {
            topic: "t",
            partitions: vec![FetchPartition {
                partition: 1,
                current_leader_epoch: 3,
                fetch_offset: 100,
                last_fetched_epoch: 2,
                log_start_offset: 0,
                partition_max_bytes: 4096,
            }],
        }],
        forgotten_topics_data: vec![ForgottenTopic { topic: "old", partitions: vec![0, 7] }],
        rack_id: "r1",
    };
    let p = &mut m.topics[0].partitions[0];
    if version < 5 {
        p.log_start_offset = -1;
    }
    if version < 9 {
        p.current_leader_epoch = -1;
    }
    if version < 12 {
        p.last_fetched_epoch = -1;
        m.cluster_id = None;
    }
    if version < 7 {
        m.session_id = 0;
        m.session_epoch = -1;
        m.forgotten_topics_data.clear();
    }
    if version < 11 {
        m.rack_id = "";
    }
    m
}

/// A response valid in `version`: fields the version lacks are at their defaults.
fn response(version: i16) -> FetchResponse<'static> {
    let mut m = FetchResponse {
        throttle_time_ms: 1,
        error_code: 0,
        session_id: 9,
        responses: vec![FetchableTopicResponse {
            topic: "t",
            partitions: vec![
                FetchPartitionData {
                    partition_index: 0,
                    error_code: 0,
                    high_watermark: 10,
                    last_stable_offset: 10,
                    log_start_offset: 0,
                    aborted_transactions: Some(vec![AbortedTransaction { producer_id: 5, first_offset: 3 }]),
                    preferred_read_replica: 2,
                    records: Some(b"batches"),
                },
                FetchPartitionData::default(),
            ],
        }],
    };
    let p = &mut m.responses[0].partitions[0];
    if version < 5 {
        p.log_start_offset = -1;
    }
    if version < 11 {
        p.preferred_read_replica = -1;
    }
    if version < 7 {
        m.session_id = 0;
    }
    m
}

#[test]
fn unsupported_versions_are_typed_errors() {
    for v in [-1, 0, 3, 13, i16::MAX] {
        let enc = EncodeError::UnsupportedVersion { api_key: 1, version: v };
        let dec = DecodeError::UnsupportedVersion { api_key: 1, version: v };
        let mut out = Vec::new();
        assert_eq!(request(12).encode(v, &mut out), Err(enc));
        assert_eq!(response(12).encode(v, &mut out), Err(enc));
        assert!(out.is_empty());
        let bytes = [0u8; 64];
        assert_eq!(FetchRequest::decode(&mut Reader::new(&bytes), v), Err(dec));
        assert_eq!(FetchResponse::decode(&mut Reader::new(&bytes), v), Err(dec));
    }
}

#[test]
fn truncated_input_is_an_error_at_every_cut() {
    for v in 4..=12 {
        check_truncations(&request(v), v, &mut Vec::new());
        check_truncations(&response(v), v, &mut Vec::new());
    }
}

#[test]
fn fields_a_version_cannot_carry_are_rejected() {
    let mut out = Vec::new();
    assert_eq!(
        request(12).encode(11, &mut out),
        Err(EncodeError::FieldNotInVersion("FetchPartition.last_fetched_epoch"))
    );
    let mut m = request(6);
    m.forgotten_topics_data.push(ForgottenTopic { topic: "x", partitions: vec![] });
    assert_eq!(m.encode(6, &mut out), Err(EncodeError::FieldNotInVersion("FetchRequest.forgotten_topics_data")));
    assert_eq!(
        response(12).encode(10, &mut out),
        Err(EncodeError::FieldNotInVersion("FetchPartitionData.preferred_read_replica"))
    );
    assert_eq!(response(7).encode(6, &mut out), Err(EncodeError::FieldNotInVersion("FetchResponse.session_id")));
    assert!(out.is_empty(), "a failed encode appends nothing");
}

#[test]
fn unknown_partition_tags_are_skipped() {
    let mut m = response(12);
    m.responses[0].partitions.truncate(1);
    let mut out = Vec::new();
    m.encode(12, &mut out).unwrap();
    // Body ends: partition tags (0), topic tags (0), top-level tags (0). Give the partition
    // a current_leader tag (1) of 9 bytes.
    let at = out.len() - 3;
    out.splice(at..=at, [1, 1, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0]);
    let mut r = Reader::new(&out);
    assert_eq!(FetchResponse::decode(&mut r, 12).unwrap(), m);
    assert!(r.finish().is_ok());
}

/// Arrays of many minimal elements at the end of a message decode: the minimum element sizes
/// given to `array_len` are not larger than the true minimum encodings.
#[test]
fn minimal_elements_fit_their_minimum_size() {
    const K: usize = 40;
    let minimal_partition = FetchPartition::default();
    let minimal_data = FetchPartitionData::default();
    for v in 4..=12 {
        let flexible = v >= 12;
        let req = FetchRequest { topics: vec![FetchTopic::default(); K], ..FetchRequest::default() };
        check_truncations(&req, v, &mut Vec::new());
        let req = FetchRequest {
            topics: vec![FetchTopic { topic: "", partitions: vec![minimal_partition.clone(); K] }],
            ..FetchRequest::default()
        };
        check_truncations(&req, v, &mut Vec::new());
        let mut one = Vec::new();
        minimal_partition.encode(v, flexible, &mut one).unwrap();
        assert_eq!(one.len(), FetchPartition::min_size(v, flexible), "v{v}");
        if v >= 7 {
            let req =
                FetchRequest { forgotten_topics_data: vec![ForgottenTopic::default(); K], ..FetchRequest::default() };
            check_truncations(&req, v, &mut Vec::new());
            let req = FetchRequest {
                forgotten_topics_data: vec![ForgottenTopic { topic: "", partitions: vec![0; K] }],
                ..FetchRequest::default()
            };
            check_truncations(&req, v, &mut Vec::new());
        }

        let resp = FetchResponse { responses: vec![FetchableTopicResponse::default(); K], ..FetchResponse::default() };
        check_truncations(&resp, v, &mut Vec::new());
        let resp = FetchResponse {
            responses: vec![FetchableTopicResponse { topic: "", partitions: vec![minimal_data.clone(); K] }],
            ..FetchResponse::default()
        };
        check_truncations(&resp, v, &mut Vec::new());
        let mut one = Vec::new();
        minimal_data.encode(v, flexible, &mut one).unwrap();
        assert_eq!(one.len(), FetchPartitionData::min_size(v, flexible), "v{v}");
        let mut p = minimal_data.clone();
        p.aborted_transactions = Some(vec![AbortedTransaction::default(); K]);
        let resp = FetchResponse {
            responses: vec![FetchableTopicResponse { topic: "", partitions: vec![p] }],
            ..FetchResponse::default()
        };
        check_truncations(&resp, v, &mut Vec::new());
    }
}
