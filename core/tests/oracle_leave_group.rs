//! LeaveGroup v0-5 against `kafka-protocol` as an oracle, both message directions.

mod kafka_protocol_oracle;

use idem_core::proto::leave_group::{LeaveGroupRequest, LeaveGroupResponse, MemberIdentity, MemberResponse};
use kafka_protocol::messages::{self as kp, GroupId};
use kafka_protocol_oracle::{Oracle, check_request_frame, check_response_frame, i32_since, os, s, sb, tags, text};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 0..=5;

impl Oracle for kp::LeaveGroupRequest {
    type Idem<'a> = LeaveGroupRequest<'a>;

    fn to_idem(&self) -> LeaveGroupRequest<'_> {
        LeaveGroupRequest {
            group_id: s(&self.group_id),
            member_id: s(&self.member_id),
            members: self
                .members
                .iter()
                .map(|m| MemberIdentity {
                    member_id: s(&m.member_id),
                    group_instance_id: os(&m.group_instance_id),
                    reason: os(&m.reason),
                })
                .collect(),
        }
    }

    fn assert_same(i: &LeaveGroupRequest<'_>, k: &Self) {
        assert_eq!(i.group_id, s(&k.group_id));
        assert_eq!(i.member_id, s(&k.member_id));
        assert_eq!(i.members.len(), k.members.len());
        for (a, b) in i.members.iter().zip(&k.members) {
            assert_eq!(a.member_id, s(&b.member_id));
            assert_eq!(a.group_instance_id, os(&b.group_instance_id));
            assert_eq!(a.reason, os(&b.reason));
        }
    }
}

impl Oracle for kp::LeaveGroupResponse {
    type Idem<'a> = LeaveGroupResponse<'a>;

    fn to_idem(&self) -> LeaveGroupResponse<'_> {
        LeaveGroupResponse {
            throttle_time_ms: self.throttle_time_ms,
            error_code: self.error_code,
            members: self
                .members
                .iter()
                .map(|m| MemberResponse {
                    member_id: s(&m.member_id),
                    group_instance_id: os(&m.group_instance_id),
                    error_code: m.error_code,
                })
                .collect(),
        }
    }

    fn assert_same(i: &LeaveGroupResponse<'_>, k: &Self) {
        assert_eq!(i.throttle_time_ms, k.throttle_time_ms);
        assert_eq!(i.error_code, k.error_code);
        assert_eq!(i.members.len(), k.members.len());
        for (a, b) in i.members.iter().zip(&k.members) {
            assert_eq!(a.member_id, s(&b.member_id));
            assert_eq!(a.group_instance_id, os(&b.group_instance_id));
            assert_eq!(a.error_code, b.error_code);
        }
    }
}

fn request(v: i16) -> BoxedStrategy<kp::LeaveGroupRequest> {
    let flexible = v >= 4;
    let member = (text(), option::of(text()), option::of(text()), tags(flexible)).prop_map(
        move |(member, instance, reason, tags)| {
            let mut m = kp::leave_group_request::MemberIdentity::default();
            m.member_id = sb(&member);
            m.group_instance_id = instance.map(|i| sb(&i));
            if v >= 5 {
                m.reason = reason.map(|r| sb(&r));
            }
            m.unknown_tagged_fields = tags;
            m
        },
    );
    (text(), text(), vec(member, 0..4), tags(flexible))
        .prop_map(move |(group, member, members, tags)| {
            let mut k = kp::LeaveGroupRequest::default();
            k.group_id = GroupId(sb(&group));
            if v < 3 {
                k.member_id = sb(&member);
            } else {
                k.members = members;
            }
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

fn response(v: i16) -> BoxedStrategy<kp::LeaveGroupResponse> {
    let flexible = v >= 4;
    let member =
        (text(), option::of(text()), any::<i16>(), tags(flexible)).prop_map(|(member, instance, error, tags)| {
            let mut m = kp::leave_group_response::MemberResponse::default();
            m.member_id = sb(&member);
            m.group_instance_id = instance.map(|i| sb(&i));
            m.error_code = error;
            m.unknown_tagged_fields = tags;
            m
        });
    (i32_since(v, 1, 0), any::<i16>(), vec(member, 0..4), tags(flexible))
        .prop_map(move |(throttle, error, members, tags)| {
            let mut k = kp::LeaveGroupResponse::default();
            k.throttle_time_ms = throttle;
            k.error_code = error;
            if v >= 3 {
                k.members = members;
            }
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

oracle_tests!(VERSIONS, request, response);

#[test]
fn frames() {
    let mut req = kp::LeaveGroupRequest::default();
    req.group_id = GroupId(sb("orders-app"));
    req.member_id = sb("consumer-1-5f1c");
    check_request_frame::<kp::LeaveGroupRequest>(&req.to_idem(), 0, 0x1234_5678);
    req.member_id = sb("");
    let mut m = kp::leave_group_request::MemberIdentity::default();
    m.member_id = sb("consumer-1-5f1c");
    m.reason = Some(sb("the consumer is being closed"));
    req.members = vec![m];
    check_request_frame::<kp::LeaveGroupRequest>(&req.to_idem(), 5, 0x1234_5678);
    let mut resp = kp::LeaveGroupResponse::default();
    resp.error_code = 25;
    check_response_frame(&resp, 0, -77);
    let mut m = kp::leave_group_response::MemberResponse::default();
    m.member_id = sb("consumer-1-5f1c");
    m.group_instance_id = None;
    resp.members = vec![m];
    check_response_frame(&resp, 5, -77);
}
