//! FindCoordinator v0-4 against `kafka-protocol` as an oracle, both message directions.

mod kafka_protocol_oracle;

use idem_core::proto::find_coordinator::{Coordinator, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::messages::{self as kp, BrokerId};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol_oracle::{Oracle, check_request_frame, check_response_frame, i32_since, os, s, sb, tags, text};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 0..=4;

impl Oracle for kp::FindCoordinatorRequest {
    type Idem<'a> = FindCoordinatorRequest<'a>;

    fn to_idem(&self) -> FindCoordinatorRequest<'_> {
        FindCoordinatorRequest {
            key: s(&self.key),
            key_type: self.key_type,
            coordinator_keys: self.coordinator_keys.iter().map(s).collect(),
        }
    }

    fn assert_same(i: &FindCoordinatorRequest<'_>, k: &Self) {
        assert_eq!(i.key, s(&k.key));
        assert_eq!(i.key_type, k.key_type);
        assert_eq!(i.coordinator_keys, k.coordinator_keys.iter().map(s).collect::<Vec<_>>());
    }
}

/// The top-level error message: equal, or absent in idem where kafka-protocol holds its
/// default (the empty string) because the version (0, 4) does not carry the field.
fn assert_same_error_message(i: Option<&str>, k: &Option<StrBytes>) {
    assert!(i == os(k) || (i.is_none() && os(k) == Some("")), "error_message: {i:?} vs {k:?}");
}

impl Oracle for kp::FindCoordinatorResponse {
    type Idem<'a> = FindCoordinatorResponse<'a>;

    fn to_idem(&self) -> FindCoordinatorResponse<'_> {
        FindCoordinatorResponse {
            throttle_time_ms: self.throttle_time_ms,
            error_code: self.error_code,
            error_message: os(&self.error_message),
            node_id: self.node_id.0,
            host: s(&self.host),
            port: self.port,
            coordinators: self
                .coordinators
                .iter()
                .map(|c| Coordinator {
                    key: s(&c.key),
                    node_id: c.node_id.0,
                    host: s(&c.host),
                    port: c.port,
                    error_code: c.error_code,
                    error_message: os(&c.error_message),
                })
                .collect(),
        }
    }

    fn assert_same(i: &FindCoordinatorResponse<'_>, k: &Self) {
        assert_eq!(i.throttle_time_ms, k.throttle_time_ms);
        assert_eq!(i.error_code, k.error_code);
        assert_same_error_message(i.error_message, &k.error_message);
        assert_eq!(i.node_id, k.node_id.0);
        assert_eq!(i.host, s(&k.host));
        assert_eq!(i.port, k.port);
        assert_eq!(i.coordinators.len(), k.coordinators.len());
        for (a, b) in i.coordinators.iter().zip(&k.coordinators) {
            assert_eq!(a.key, s(&b.key));
            assert_eq!(a.node_id, b.node_id.0);
            assert_eq!(a.host, s(&b.host));
            assert_eq!(a.port, b.port);
            assert_eq!(a.error_code, b.error_code);
            assert_eq!(a.error_message, os(&b.error_message));
        }
    }
}

fn request(v: i16) -> BoxedStrategy<kp::FindCoordinatorRequest> {
    (text(), prop_oneof![Just(0i8), Just(1i8), any::<i8>()], vec(text(), 0..4), tags(v >= 3))
        .prop_map(move |(key, key_type, keys, tags)| {
            let mut k = kp::FindCoordinatorRequest::default();
            if v < 4 {
                k.key = sb(&key);
            } else {
                k.coordinator_keys = keys.iter().map(|k| sb(k)).collect();
            }
            if v >= 1 {
                k.key_type = key_type;
            }
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

fn response(v: i16) -> BoxedStrategy<kp::FindCoordinatorResponse> {
    let flexible = v >= 3;
    let coordinator = ((text(), any::<i32>(), text(), any::<i32>()), any::<i16>(), option::of(text()), tags(flexible))
        .prop_map(|((key, node, host, port), error, message, tags)| {
            let mut c = kp::find_coordinator_response::Coordinator::default();
            c.key = sb(&key);
            c.node_id = BrokerId(node);
            c.host = sb(&host);
            c.port = port;
            c.error_code = error;
            c.error_message = message.map(|m| sb(&m));
            c.unknown_tagged_fields = tags;
            c
        });
    (
        i32_since(v, 1, 0),
        (any::<i16>(), option::of(text()), any::<i32>(), text(), any::<i32>()),
        vec(coordinator, 0..4),
        tags(flexible),
    )
        .prop_map(move |(throttle, (error, message, node, host, port), coordinators, tags)| {
            let mut k = kp::FindCoordinatorResponse::default();
            k.throttle_time_ms = throttle;
            // Null (idem's value for a field the version lacks) unless v1-3 carry a message.
            k.error_message = None;
            if v < 4 {
                k.error_code = error;
                if v >= 1 {
                    k.error_message = message.map(|m| sb(&m));
                }
                k.node_id = BrokerId(node);
                k.host = sb(&host);
                k.port = port;
            } else {
                k.coordinators = coordinators;
            }
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

oracle_tests!(VERSIONS, request, response);

#[test]
fn frames() {
    let mut req = kp::FindCoordinatorRequest::default();
    req.key = sb("orders-app");
    check_request_frame::<kp::FindCoordinatorRequest>(&req.to_idem(), 0, 0x1234_5678);
    req.key_type = 1;
    check_request_frame::<kp::FindCoordinatorRequest>(&req.to_idem(), 3, 0x1234_5678);
    req.key = sb("");
    req.coordinator_keys = vec![sb("orders-app"), sb("billing")];
    check_request_frame::<kp::FindCoordinatorRequest>(&req.to_idem(), 4, 0x1234_5678);
    let mut resp = kp::FindCoordinatorResponse::default();
    resp.node_id = BrokerId(2);
    resp.host = sb("broker-2");
    resp.port = 9092;
    check_response_frame(&resp, 0, -77);
    resp.error_message = None;
    check_response_frame(&resp, 3, -77);
    let mut resp = kp::FindCoordinatorResponse::default();
    let mut c = kp::find_coordinator_response::Coordinator::default();
    c.key = sb("orders-app");
    c.node_id = BrokerId(2);
    c.host = sb("broker-2");
    c.port = 9092;
    c.error_message = None;
    resp.coordinators = vec![c];
    check_response_frame(&resp, 4, -77);
}
