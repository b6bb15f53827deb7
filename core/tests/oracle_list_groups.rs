//! ListGroups v0-4 against `kafka-protocol` as an oracle, both message directions.

mod kafka_protocol_oracle;

use idem_core::proto::list_groups::{ListGroupsRequest, ListGroupsResponse, ListedGroup};
use kafka_protocol::messages::list_groups_response as ks;
use kafka_protocol::messages::{self as kp, GroupId};
use kafka_protocol_oracle::{Oracle, check_request_frame, check_response_frame, i32_since, s, sb, tags, text};
use proptest::collection::vec;
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 0..=4;

impl Oracle for kp::ListGroupsRequest {
    type Idem<'a> = ListGroupsRequest<'a>;

    fn to_idem(&self) -> ListGroupsRequest<'_> {
        ListGroupsRequest { states_filter: self.states_filter.iter().map(s).collect() }
    }

    fn assert_same(i: &ListGroupsRequest<'_>, k: &Self) {
        assert_eq!(i.states_filter, k.states_filter.iter().map(s).collect::<Vec<_>>());
    }
}

impl Oracle for kp::ListGroupsResponse {
    type Idem<'a> = ListGroupsResponse<'a>;

    fn to_idem(&self) -> ListGroupsResponse<'_> {
        ListGroupsResponse {
            throttle_time_ms: self.throttle_time_ms,
            error_code: self.error_code,
            groups: self
                .groups
                .iter()
                .map(|g| ListedGroup {
                    group_id: g.group_id.as_str(),
                    protocol_type: s(&g.protocol_type),
                    group_state: s(&g.group_state),
                })
                .collect(),
        }
    }

    fn assert_same(i: &ListGroupsResponse<'_>, k: &Self) {
        assert_eq!(i.throttle_time_ms, k.throttle_time_ms);
        assert_eq!(i.error_code, k.error_code);
        assert_eq!(i.groups.len(), k.groups.len());
        for (a, b) in i.groups.iter().zip(&k.groups) {
            assert_eq!(a.group_id, b.group_id.as_str());
            assert_eq!(a.protocol_type, s(&b.protocol_type));
            assert_eq!(a.group_state, s(&b.group_state));
        }
    }
}

fn request(v: i16) -> BoxedStrategy<kp::ListGroupsRequest> {
    (vec(text(), 0..4), tags(v >= 3))
        .prop_map(move |(states, tags)| {
            let mut k = kp::ListGroupsRequest::default();
            if v >= 4 {
                k.states_filter = states.iter().map(|s| sb(s)).collect();
            }
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

fn response(v: i16) -> BoxedStrategy<kp::ListGroupsResponse> {
    let flexible = v >= 3;
    let group = (text(), text(), text(), tags(flexible)).prop_map(move |(id, protocol_type, state, tags)| {
        let mut g = ks::ListedGroup::default();
        g.group_id = GroupId(sb(&id));
        g.protocol_type = sb(&protocol_type);
        if v >= 4 {
            g.group_state = sb(&state);
        }
        g.unknown_tagged_fields = tags;
        g
    });
    (i32_since(v, 1, 0), any::<i16>(), vec(group, 0..4), tags(flexible))
        .prop_map(|(throttle, error, groups, tags)| {
            let mut k = kp::ListGroupsResponse::default();
            k.throttle_time_ms = throttle;
            k.error_code = error;
            k.groups = groups;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

oracle_tests!(VERSIONS, request, response);

#[test]
fn frames() {
    let mut req = kp::ListGroupsRequest::default();
    req.states_filter = vec![sb("Stable"), sb("Empty")];
    check_request_frame::<kp::ListGroupsRequest>(&req.to_idem(), 4, 0x1234_5678);
    check_request_frame::<kp::ListGroupsRequest>(&ListGroupsRequest::default(), 0, 7);
    let mut g = ks::ListedGroup::default();
    g.group_id = GroupId(sb("billing"));
    g.protocol_type = sb("consumer");
    let mut resp = kp::ListGroupsResponse::default();
    resp.groups.push(g);
    check_response_frame(&resp, 3, -77);
    check_response_frame(&resp, 2, -77);
    resp.groups[0].group_state = sb("Stable");
    check_response_frame(&resp, 4, -77);
}
