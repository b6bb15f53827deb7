//! SyncGroup v0-5 against `kafka-protocol` as an oracle, both message directions.

mod kafka_protocol_oracle;

use bytes::Bytes;
use idem_core::proto::sync_group::{SyncGroupRequest, SyncGroupRequestAssignment, SyncGroupResponse};
use kafka_protocol::messages::{self as kp, GroupId};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol_oracle::{Oracle, check_request_frame, check_response_frame, i32_since, os, s, sb, tags, text};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 0..=5;

impl Oracle for kp::SyncGroupRequest {
    type Idem<'a> = SyncGroupRequest<'a>;

    fn to_idem(&self) -> SyncGroupRequest<'_> {
        SyncGroupRequest {
            group_id: s(&self.group_id),
            generation_id: self.generation_id,
            member_id: s(&self.member_id),
            group_instance_id: os(&self.group_instance_id),
            protocol_type: os(&self.protocol_type),
            protocol_name: os(&self.protocol_name),
            assignments: self
                .assignments
                .iter()
                .map(|a| SyncGroupRequestAssignment { member_id: s(&a.member_id), assignment: &a.assignment })
                .collect(),
        }
    }

    fn assert_same(i: &SyncGroupRequest<'_>, k: &Self) {
        assert_eq!(i.group_id, s(&k.group_id));
        assert_eq!(i.generation_id, k.generation_id);
        assert_eq!(i.member_id, s(&k.member_id));
        assert_eq!(i.group_instance_id, os(&k.group_instance_id));
        assert_eq!(i.protocol_type, os(&k.protocol_type));
        assert_eq!(i.protocol_name, os(&k.protocol_name));
        assert_eq!(i.assignments.len(), k.assignments.len());
        for (a, b) in i.assignments.iter().zip(&k.assignments) {
            assert_eq!(a.member_id, s(&b.member_id));
            assert_eq!(a.assignment, &b.assignment[..]);
        }
    }
}

impl Oracle for kp::SyncGroupResponse {
    type Idem<'a> = SyncGroupResponse<'a>;

    fn to_idem(&self) -> SyncGroupResponse<'_> {
        SyncGroupResponse {
            throttle_time_ms: self.throttle_time_ms,
            error_code: self.error_code,
            protocol_type: os(&self.protocol_type),
            protocol_name: os(&self.protocol_name),
            assignment: &self.assignment,
        }
    }

    fn assert_same(i: &SyncGroupResponse<'_>, k: &Self) {
        assert_eq!(i.throttle_time_ms, k.throttle_time_ms);
        assert_eq!(i.error_code, k.error_code);
        assert_eq!(i.protocol_type, os(&k.protocol_type));
        assert_eq!(i.protocol_name, os(&k.protocol_name));
        assert_eq!(i.assignment, &k.assignment[..]);
    }
}

/// Opaque assignment bytes.
fn bytes() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..24).prop_map(Bytes::from)
}

/// A nullable string carried only from version `since` on (null below).
fn nullable_since(v: i16, since: i16) -> BoxedStrategy<Option<StrBytes>> {
    if v >= since { option::of(text().prop_map(|t| sb(&t))).boxed() } else { Just(None).boxed() }
}

fn request(v: i16) -> BoxedStrategy<kp::SyncGroupRequest> {
    let flexible = v >= 4;
    let assignment = (text(), bytes(), tags(flexible)).prop_map(|(member, assignment, tags)| {
        let mut a = kp::sync_group_request::SyncGroupRequestAssignment::default();
        a.member_id = sb(&member);
        a.assignment = assignment;
        a.unknown_tagged_fields = tags;
        a
    });
    (
        (text(), any::<i32>(), text()),
        (nullable_since(v, 3), nullable_since(v, 5), nullable_since(v, 5)),
        vec(assignment, 0..4),
        tags(flexible),
    )
        .prop_map(|((group, generation, member), (instance, ptype, pname), assignments, tags)| {
            let mut k = kp::SyncGroupRequest::default();
            k.group_id = GroupId(sb(&group));
            k.generation_id = generation;
            k.member_id = sb(&member);
            k.group_instance_id = instance;
            k.protocol_type = ptype;
            k.protocol_name = pname;
            k.assignments = assignments;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

fn response(v: i16) -> BoxedStrategy<kp::SyncGroupResponse> {
    (i32_since(v, 1, 0), any::<i16>(), nullable_since(v, 5), nullable_since(v, 5), bytes(), tags(v >= 4))
        .prop_map(|(throttle, error, ptype, pname, assignment, tags)| {
            let mut k = kp::SyncGroupResponse::default();
            k.throttle_time_ms = throttle;
            k.error_code = error;
            k.protocol_type = ptype;
            k.protocol_name = pname;
            k.assignment = assignment;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

oracle_tests!(VERSIONS, request, response);

#[test]
fn frames() {
    let mut req = kp::SyncGroupRequest::default();
    req.group_id = GroupId(sb("orders-app"));
    req.generation_id = 3;
    req.member_id = sb("leader-1");
    let mut a = kp::sync_group_request::SyncGroupRequestAssignment::default();
    a.member_id = sb("leader-1");
    a.assignment = Bytes::from_static(&[0, 3, 0, 0, 0, 1]);
    req.assignments = vec![a];
    check_request_frame::<kp::SyncGroupRequest>(&req.to_idem(), 0, 0x1234_5678);
    req.protocol_type = Some(sb("consumer"));
    req.protocol_name = Some(sb("range"));
    check_request_frame::<kp::SyncGroupRequest>(&req.to_idem(), 5, 0x1234_5678);
    let mut resp = kp::SyncGroupResponse::default();
    resp.assignment = Bytes::from_static(&[0, 3, 0, 0, 0, 1]);
    check_response_frame(&resp, 0, -77);
    resp.protocol_type = Some(sb("consumer"));
    check_response_frame(&resp, 5, -77);
}
