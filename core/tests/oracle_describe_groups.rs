//! DescribeGroups v0-5 against `kafka-protocol` as an oracle, both message directions.

mod kafka_protocol_oracle;

use bytes::Bytes;
use idem_core::proto::describe_groups::{
    DescribeGroupsRequest, DescribeGroupsResponse, DescribedGroup, DescribedGroupMember,
};
use kafka_protocol::messages::describe_groups_response as ks;
use kafka_protocol::messages::{self as kp, GroupId};
use kafka_protocol_oracle::{
    Oracle, check_request_frame, check_response_frame, i32_since, os, s, sb, string, tags, text,
};
use proptest::collection::vec;
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 0..=5;

impl Oracle for kp::DescribeGroupsRequest {
    type Idem<'a> = DescribeGroupsRequest<'a>;

    fn to_idem(&self) -> DescribeGroupsRequest<'_> {
        DescribeGroupsRequest {
            groups: self.groups.iter().map(|g| g.as_str()).collect(),
            include_authorized_operations: self.include_authorized_operations,
        }
    }

    fn assert_same(i: &DescribeGroupsRequest<'_>, k: &Self) {
        assert_eq!(i.groups, k.groups.iter().map(|g| g.as_str()).collect::<Vec<_>>());
        assert_eq!(i.include_authorized_operations, k.include_authorized_operations);
    }
}

impl Oracle for kp::DescribeGroupsResponse {
    type Idem<'a> = DescribeGroupsResponse<'a>;

    fn to_idem(&self) -> DescribeGroupsResponse<'_> {
        fn member(m: &ks::DescribedGroupMember) -> DescribedGroupMember<'_> {
            DescribedGroupMember {
                member_id: s(&m.member_id),
                group_instance_id: os(&m.group_instance_id),
                client_id: s(&m.client_id),
                client_host: s(&m.client_host),
                member_metadata: &m.member_metadata,
                member_assignment: &m.member_assignment,
            }
        }
        DescribeGroupsResponse {
            throttle_time_ms: self.throttle_time_ms,
            groups: self
                .groups
                .iter()
                .map(|g| DescribedGroup {
                    error_code: g.error_code,
                    group_id: g.group_id.as_str(),
                    group_state: s(&g.group_state),
                    protocol_type: s(&g.protocol_type),
                    protocol_data: s(&g.protocol_data),
                    members: g.members.iter().map(member).collect(),
                    authorized_operations: g.authorized_operations,
                })
                .collect(),
        }
    }

    fn assert_same(i: &DescribeGroupsResponse<'_>, k: &Self) {
        assert_eq!(i.throttle_time_ms, k.throttle_time_ms);
        assert_eq!(i.groups.len(), k.groups.len());
        for (a, b) in i.groups.iter().zip(&k.groups) {
            assert_eq!(a.error_code, b.error_code);
            assert_eq!(a.group_id, b.group_id.as_str());
            assert_eq!(a.group_state, s(&b.group_state));
            assert_eq!(a.protocol_type, s(&b.protocol_type));
            assert_eq!(a.protocol_data, s(&b.protocol_data));
            assert_eq!(a.authorized_operations, b.authorized_operations);
            assert_eq!(a.members.len(), b.members.len());
            for (m, n) in a.members.iter().zip(&b.members) {
                assert_eq!(m.member_id, s(&n.member_id));
                assert_eq!(m.group_instance_id, os(&n.group_instance_id));
                assert_eq!(m.client_id, s(&n.client_id));
                assert_eq!(m.client_host, s(&n.client_host));
                assert_eq!(m.member_metadata, &n.member_metadata[..]);
                assert_eq!(m.member_assignment, &n.member_assignment[..]);
            }
        }
    }
}

fn request(v: i16) -> BoxedStrategy<kp::DescribeGroupsRequest> {
    (vec(text(), 0..4), any::<bool>(), tags(v >= 5))
        .prop_map(move |(groups, include_ops, tags)| {
            let mut k = kp::DescribeGroupsRequest::default();
            k.groups = groups.iter().map(|g| GroupId(sb(g))).collect();
            k.include_authorized_operations = include_ops && v >= 3;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

fn bytes() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..24).prop_map(Bytes::from)
}

fn member(v: i16) -> impl Strategy<Value = ks::DescribedGroupMember> {
    let instance = proptest::option::of(string());
    ((text(), instance, text(), text()), bytes(), bytes(), tags(v >= 5)).prop_map(
        move |((id, instance, client_id, host), metadata, assignment, tags)| {
            let mut m = ks::DescribedGroupMember::default();
            m.member_id = sb(&id);
            if v >= 4 {
                m.group_instance_id = instance;
            }
            m.client_id = sb(&client_id);
            m.client_host = sb(&host);
            m.member_metadata = metadata;
            m.member_assignment = assignment;
            m.unknown_tagged_fields = tags;
            m
        },
    )
}

fn response(v: i16) -> BoxedStrategy<kp::DescribeGroupsResponse> {
    let flexible = v >= 5;
    let group = (
        (any::<i16>(), text(), text(), text(), text()),
        vec(member(v), 0..3),
        i32_since(v, 3, i32::MIN),
        tags(flexible),
    )
        .prop_map(|((error, id, state, protocol_type, protocol_data), members, ops, tags)| {
            let mut g = ks::DescribedGroup::default();
            g.error_code = error;
            g.group_id = GroupId(sb(&id));
            g.group_state = sb(&state);
            g.protocol_type = sb(&protocol_type);
            g.protocol_data = sb(&protocol_data);
            g.members = members;
            g.authorized_operations = ops;
            g.unknown_tagged_fields = tags;
            g
        });
    (i32_since(v, 1, 0), vec(group, 0..3), tags(flexible))
        .prop_map(|(throttle, groups, tags)| {
            let mut k = kp::DescribeGroupsResponse::default();
            k.throttle_time_ms = throttle;
            k.groups = groups;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

oracle_tests!(VERSIONS, request, response);

#[test]
fn frames() {
    let mut req = kp::DescribeGroupsRequest::default();
    req.groups = vec![GroupId(sb("billing"))];
    req.include_authorized_operations = true;
    check_request_frame::<kp::DescribeGroupsRequest>(&req.to_idem(), 5, 0x1234_5678);
    req.include_authorized_operations = false;
    check_request_frame::<kp::DescribeGroupsRequest>(&req.to_idem(), 0, 7);
    let mut m = ks::DescribedGroupMember::default();
    m.member_id = sb("m-1");
    m.client_id = sb("rdkafka");
    m.client_host = sb("/10.0.0.7");
    m.member_assignment = Bytes::from_static(b"\x00\x03");
    let mut g = ks::DescribedGroup::default();
    g.group_id = GroupId(sb("billing"));
    g.group_state = sb("Stable");
    g.members.push(m);
    let mut resp = kp::DescribeGroupsResponse::default();
    resp.groups.push(g);
    check_response_frame(&resp, 0, -77);
    check_response_frame(&resp, 5, -77);
}
