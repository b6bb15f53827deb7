//! Heartbeat v0-4 against `kafka-protocol` as an oracle, both message directions.

mod kafka_protocol_oracle;

use idem_core::proto::heartbeat::{HeartbeatRequest, HeartbeatResponse};
use kafka_protocol::messages::{self as kp, GroupId};
use kafka_protocol_oracle::{Oracle, check_request_frame, check_response_frame, i32_since, os, s, sb, tags, text};
use proptest::option;
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 0..=4;

impl Oracle for kp::HeartbeatRequest {
    type Idem<'a> = HeartbeatRequest<'a>;

    fn to_idem(&self) -> HeartbeatRequest<'_> {
        HeartbeatRequest {
            group_id: s(&self.group_id),
            generation_id: self.generation_id,
            member_id: s(&self.member_id),
            group_instance_id: os(&self.group_instance_id),
        }
    }

    fn assert_same(i: &HeartbeatRequest<'_>, k: &Self) {
        assert_eq!(i.group_id, s(&k.group_id));
        assert_eq!(i.generation_id, k.generation_id);
        assert_eq!(i.member_id, s(&k.member_id));
        assert_eq!(i.group_instance_id, os(&k.group_instance_id));
    }
}

impl Oracle for kp::HeartbeatResponse {
    type Idem<'a> = HeartbeatResponse;

    fn to_idem(&self) -> HeartbeatResponse {
        HeartbeatResponse { throttle_time_ms: self.throttle_time_ms, error_code: self.error_code }
    }

    fn assert_same(i: &HeartbeatResponse, k: &Self) {
        assert_eq!(i.throttle_time_ms, k.throttle_time_ms);
        assert_eq!(i.error_code, k.error_code);
    }
}

fn request(v: i16) -> BoxedStrategy<kp::HeartbeatRequest> {
    (text(), any::<i32>(), text(), option::of(text()), tags(v >= 4))
        .prop_map(move |(group, generation, member, instance, tags)| {
            let mut k = kp::HeartbeatRequest::default();
            k.group_id = GroupId(sb(&group));
            k.generation_id = generation;
            k.member_id = sb(&member);
            if v >= 3 {
                k.group_instance_id = instance.map(|i| sb(&i));
            }
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

fn response(v: i16) -> BoxedStrategy<kp::HeartbeatResponse> {
    (i32_since(v, 1, 0), any::<i16>(), tags(v >= 4))
        .prop_map(|(throttle, error, tags)| {
            let mut k = kp::HeartbeatResponse::default();
            k.throttle_time_ms = throttle;
            k.error_code = error;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

oracle_tests!(VERSIONS, request, response);

#[test]
fn frames() {
    let mut req = kp::HeartbeatRequest::default();
    req.group_id = GroupId(sb("orders-app"));
    req.generation_id = 3;
    req.member_id = sb("consumer-1-5f1c");
    check_request_frame::<kp::HeartbeatRequest>(&req.to_idem(), 0, 0x1234_5678);
    req.group_instance_id = Some(sb("instance-a"));
    check_request_frame::<kp::HeartbeatRequest>(&req.to_idem(), 4, 0x1234_5678);
    let mut resp = kp::HeartbeatResponse::default();
    resp.error_code = 27;
    check_response_frame(&resp, 0, -77);
    resp.throttle_time_ms = 5;
    check_response_frame(&resp, 4, -77);
}
