//! JoinGroup v0-9 against `kafka-protocol` as an oracle, both message directions.

mod kafka_protocol_oracle;

use bytes::Bytes;
use idem_core::proto::join_group::{
    JoinGroupRequest, JoinGroupRequestProtocol, JoinGroupResponse, JoinGroupResponseMember,
};
use kafka_protocol::messages::{self as kp, GroupId};
use kafka_protocol_oracle::{Oracle, check_request_frame, check_response_frame, i32_since, os, s, sb, tags, text};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 0..=9;

impl Oracle for kp::JoinGroupRequest {
    type Idem<'a> = JoinGroupRequest<'a>;

    fn to_idem(&self) -> JoinGroupRequest<'_> {
        JoinGroupRequest {
            group_id: s(&self.group_id),
            session_timeout_ms: self.session_timeout_ms,
            rebalance_timeout_ms: self.rebalance_timeout_ms,
            member_id: s(&self.member_id),
            group_instance_id: os(&self.group_instance_id),
            protocol_type: s(&self.protocol_type),
            protocols: self
                .protocols
                .iter()
                .map(|p| JoinGroupRequestProtocol { name: s(&p.name), metadata: &p.metadata })
                .collect(),
            reason: os(&self.reason),
        }
    }

    fn assert_same(i: &JoinGroupRequest<'_>, k: &Self) {
        assert_eq!(i.group_id, s(&k.group_id));
        assert_eq!(i.session_timeout_ms, k.session_timeout_ms);
        assert_eq!(i.rebalance_timeout_ms, k.rebalance_timeout_ms);
        assert_eq!(i.member_id, s(&k.member_id));
        assert_eq!(i.group_instance_id, os(&k.group_instance_id));
        assert_eq!(i.protocol_type, s(&k.protocol_type));
        assert_eq!(i.protocols.len(), k.protocols.len());
        for (a, b) in i.protocols.iter().zip(&k.protocols) {
            assert_eq!(a.name, s(&b.name));
            assert_eq!(a.metadata, &b.metadata[..]);
        }
        assert_eq!(i.reason, os(&k.reason));
    }
}

impl Oracle for kp::JoinGroupResponse {
    type Idem<'a> = JoinGroupResponse<'a>;

    fn to_idem(&self) -> JoinGroupResponse<'_> {
        JoinGroupResponse {
            throttle_time_ms: self.throttle_time_ms,
            error_code: self.error_code,
            generation_id: self.generation_id,
            protocol_type: os(&self.protocol_type),
            protocol_name: os(&self.protocol_name),
            leader: s(&self.leader),
            skip_assignment: self.skip_assignment,
            member_id: s(&self.member_id),
            members: self
                .members
                .iter()
                .map(|m| JoinGroupResponseMember {
                    member_id: s(&m.member_id),
                    group_instance_id: os(&m.group_instance_id),
                    metadata: &m.metadata,
                })
                .collect(),
        }
    }

    fn assert_same(i: &JoinGroupResponse<'_>, k: &Self) {
        assert_eq!(i.throttle_time_ms, k.throttle_time_ms);
        assert_eq!(i.error_code, k.error_code);
        assert_eq!(i.generation_id, k.generation_id);
        assert_eq!(i.protocol_type, os(&k.protocol_type));
        assert_eq!(i.protocol_name, os(&k.protocol_name));
        assert_eq!(i.leader, s(&k.leader));
        assert_eq!(i.skip_assignment, k.skip_assignment);
        assert_eq!(i.member_id, s(&k.member_id));
        assert_eq!(i.members.len(), k.members.len());
        for (a, b) in i.members.iter().zip(&k.members) {
            assert_eq!(a.member_id, s(&b.member_id));
            assert_eq!(a.group_instance_id, os(&b.group_instance_id));
            assert_eq!(a.metadata, &b.metadata[..]);
        }
    }
}

/// Opaque protocol metadata.
fn bytes() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..24).prop_map(Bytes::from)
}

fn request(v: i16) -> BoxedStrategy<kp::JoinGroupRequest> {
    let flexible = v >= 6;
    let protocol = (text(), bytes(), tags(flexible)).prop_map(|(name, metadata, tags)| {
        let mut p = kp::join_group_request::JoinGroupRequestProtocol::default();
        p.name = sb(&name);
        p.metadata = metadata;
        p.unknown_tagged_fields = tags;
        p
    });
    (
        (text(), any::<i32>(), i32_since(v, 1, -1), text()),
        (option::of(text()), text(), vec(protocol, 0..4), option::of(text())),
        tags(flexible),
    )
        .prop_map(move |((group, session, rebalance, member), (instance, ptype, protocols, reason), tags)| {
            let mut k = kp::JoinGroupRequest::default();
            k.group_id = GroupId(sb(&group));
            k.session_timeout_ms = session;
            k.rebalance_timeout_ms = rebalance;
            k.member_id = sb(&member);
            if v >= 5 {
                k.group_instance_id = instance.map(|i| sb(&i));
            }
            k.protocol_type = sb(&ptype);
            k.protocols = protocols;
            if v >= 8 {
                k.reason = reason.map(|r| sb(&r));
            }
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

fn response(v: i16) -> BoxedStrategy<kp::JoinGroupResponse> {
    let flexible = v >= 6;
    let member =
        (text(), option::of(text()), bytes(), tags(flexible)).prop_map(move |(member, instance, metadata, tags)| {
            let mut m = kp::join_group_response::JoinGroupResponseMember::default();
            m.member_id = sb(&member);
            if v >= 5 {
                m.group_instance_id = instance.map(|i| sb(&i));
            }
            m.metadata = metadata;
            m.unknown_tagged_fields = tags;
            m
        });
    (
        (i32_since(v, 2, 0), any::<i16>(), any::<i32>()),
        (option::of(text()), option::of(text()), text(), any::<bool>(), text()),
        vec(member, 0..4),
        tags(flexible),
    )
        .prop_map(move |((throttle, error, generation), (ptype, pname, leader, skip, member), members, tags)| {
            let mut k = kp::JoinGroupResponse::default();
            k.throttle_time_ms = throttle;
            k.error_code = error;
            k.generation_id = generation;
            if v >= 7 {
                k.protocol_type = ptype.map(|p| sb(&p));
                k.protocol_name = pname.map(|p| sb(&p));
            } else {
                // Not nullable below v7.
                k.protocol_name = Some(sb(&pname.unwrap_or_default()));
            }
            k.leader = sb(&leader);
            k.skip_assignment = skip && v >= 9;
            k.member_id = sb(&member);
            k.members = members;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

oracle_tests!(VERSIONS, request, response);

#[test]
fn frames() {
    let mut req = kp::JoinGroupRequest::default();
    req.group_id = GroupId(sb("orders-app"));
    req.session_timeout_ms = 45_000;
    req.protocol_type = sb("consumer");
    let mut p = kp::join_group_request::JoinGroupRequestProtocol::default();
    p.name = sb("range");
    p.metadata = Bytes::from_static(&[0, 1, 0, 0, 0, 0]);
    req.protocols = vec![p];
    check_request_frame::<kp::JoinGroupRequest>(&req.to_idem(), 0, 0x1234_5678);
    req.rebalance_timeout_ms = 300_000;
    req.group_instance_id = Some(sb("instance-a"));
    req.reason = Some(sb("need to re-join with the given member-id"));
    check_request_frame::<kp::JoinGroupRequest>(&req.to_idem(), 9, 0x1234_5678);
    let mut resp = kp::JoinGroupResponse::default();
    resp.error_code = 79;
    resp.member_id = sb("consumer-1-5f1c");
    check_response_frame(&resp, 0, -77);
    resp.protocol_type = Some(sb("consumer"));
    resp.protocol_name = None;
    resp.skip_assignment = true;
    check_response_frame(&resp, 9, -77);
}
