//! DescribeGroups (key 15), versions 0-5. Flexible from v5.
//!
//! A client asks a group's coordinator for the group's state, protocol and members (with their
//! subscription metadata and assignment). v3 (KIP-430) adds authorized operations, v4 (KIP-345)
//! the members' static instance ids. (v6, KIP-1043's error message, is not spoken.)

use alloc::vec::Vec;

use super::arrays::{end, put_end, put_strings, put_structs, strings, structs};
use super::reader::{min_array, min_bytes, min_string};
use super::writer::atomically;
use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

/// DescribeGroups request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DescribeGroupsRequest<'a> {
    /// The names of the groups to describe.
    pub groups: Vec<&'a str>,
    /// Whether to include authorized operations (v3+). Not sent below v3 (Kafka marks it
    /// ignorable: the groups' authorized operations then stay unset).
    pub include_authorized_operations: bool,
}

/// One member of a described group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DescribedGroupMember<'a> {
    /// The member ID assigned by the group coordinator.
    pub member_id: &'a str,
    /// The unique identifier of the consumer instance provided by end user (v4+, static
    /// membership), `None` for a dynamic member. Encoding `Some` below v4 is an error.
    pub group_instance_id: Option<&'a str>,
    /// The client ID used in the member's latest join group request.
    pub client_id: &'a str,
    /// The client host.
    pub client_host: &'a str,
    /// The metadata corresponding to the current group protocol in use (for consumers, the
    /// member's subscription). Only provided if the group is in the Stable state.
    pub member_metadata: &'a [u8],
    /// The current assignment provided by the group leader. Only provided if the group is in
    /// the Stable state.
    pub member_assignment: &'a [u8],
}

/// One described group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribedGroup<'a> {
    /// The describe error, or 0 if there was no error.
    pub error_code: i16,
    /// The group ID string.
    pub group_id: &'a str,
    /// The group state string (`Stable`, `Empty`, `Dead`, ...), or the empty string.
    pub group_state: &'a str,
    /// The group protocol type (`consumer` for consumer groups), or the empty string.
    pub protocol_type: &'a str,
    /// The group protocol data (for consumers, the assignor's name: `range`, ...), or the empty
    /// string. Only filled in if the group is in the Stable state.
    pub protocol_data: &'a str,
    /// The group members. Always empty if the group is in the Dead state.
    pub members: Vec<DescribedGroupMember<'a>>,
    /// 32-bit bitfield to represent authorized operations for this group (v3+), `i32::MIN` if
    /// not requested (the default). Encoding another value below v3 is an error.
    pub authorized_operations: i32,
}

impl Default for DescribedGroup<'_> {
    fn default() -> Self {
        DescribedGroup {
            error_code: 0,
            group_id: "",
            group_state: "",
            protocol_type: "",
            protocol_data: "",
            members: Vec::new(),
            authorized_operations: i32::MIN,
        }
    }
}

/// DescribeGroups response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DescribeGroupsResponse<'a> {
    /// The duration in milliseconds for which the request was throttled due to a quota
    /// violation, or zero if the request did not violate any quota (v1+). Not sent below v1.
    pub throttle_time_ms: i32,
    /// Each described group.
    pub groups: Vec<DescribedGroup<'a>>,
}

impl<'a> Message<'a> for DescribeGroupsRequest<'a> {
    const API_KEY: ApiKey = ApiKey::DescribeGroups;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        atomically(out, |out| {
            put_strings(out, flexible, &self.groups)?;
            if version >= 3 {
                out.put_bool(self.include_authorized_operations);
            }
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = DescribeGroupsRequest { groups: strings(r, flexible)?, ..DescribeGroupsRequest::default() };
        if version >= 3 {
            m.include_authorized_operations = r.bool()?;
        }
        end(r, flexible)?;
        Ok(m)
    }
}

impl<'a> Message<'a> for DescribeGroupsResponse<'a> {
    const API_KEY: ApiKey = ApiKey::DescribeGroups;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        if version < 3 && self.groups.iter().any(|g| g.authorized_operations != i32::MIN) {
            return Err(EncodeError::FieldNotInVersion("authorized_operations"));
        }
        if version < 4 && self.groups.iter().flat_map(|g| &g.members).any(|m| m.group_instance_id.is_some()) {
            return Err(EncodeError::FieldNotInVersion("group_instance_id"));
        }
        atomically(out, |out| {
            if version >= 1 {
                out.put_i32(self.throttle_time_ms);
            }
            put_structs(out, flexible, &self.groups, |out, g| encode_group(g, version, flexible, out))?;
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = DescribeGroupsResponse::default();
        if version >= 1 {
            m.throttle_time_ms = r.i32()?;
        }
        let min_group = 2 + 4 * min_string(flexible) + min_array(flexible) + if version >= 3 { 4 } else { 0 };
        m.groups = structs(r, flexible, min_group, |r| decode_group(r, version, flexible))?;
        end(r, flexible)?;
        Ok(m)
    }
}

/// One group's fields (its tagged-field section aside).
fn encode_group(g: &DescribedGroup<'_>, version: i16, flexible: bool, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    out.put_i16(g.error_code);
    for s in [g.group_id, g.group_state, g.protocol_type, g.protocol_data] {
        out.put_string(flexible, s)?;
    }
    put_structs(out, flexible, &g.members, |out, m| {
        out.put_string(flexible, m.member_id)?;
        if version >= 4 {
            out.put_nullable_string(flexible, m.group_instance_id)?;
        }
        out.put_string(flexible, m.client_id)?;
        out.put_string(flexible, m.client_host)?;
        out.put_bytes(flexible, m.member_metadata)?;
        out.put_bytes(flexible, m.member_assignment)
    })?;
    if version >= 3 {
        out.put_i32(g.authorized_operations);
    }
    Ok(())
}

/// Reads one group's fields (see [`encode_group`]).
fn decode_group<'a>(r: &mut Reader<'a>, version: i16, flexible: bool) -> Result<DescribedGroup<'a>, DecodeError> {
    let mut g = DescribedGroup {
        error_code: r.i16()?,
        group_id: r.string(flexible)?,
        group_state: r.string(flexible)?,
        protocol_type: r.string(flexible)?,
        protocol_data: r.string(flexible)?,
        ..DescribedGroup::default()
    };
    let strings_per_member = if version >= 4 { 4 } else { 3 };
    let min_member = strings_per_member * min_string(flexible) + 2 * min_bytes(flexible);
    g.members = structs(r, flexible, min_member, |r| {
        let member_id = r.string(flexible)?;
        let group_instance_id = if version >= 4 { r.nullable_string(flexible)? } else { None };
        Ok(DescribedGroupMember {
            member_id,
            group_instance_id,
            client_id: r.string(flexible)?,
            client_host: r.string(flexible)?,
            member_metadata: r.bytes(flexible)?,
            member_assignment: r.bytes(flexible)?,
        })
    })?;
    if version >= 3 {
        g.authorized_operations = r.i32()?;
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::{check_truncations, check_truncations_as, check_unsupported_versions};

    fn sample_request(version: i16) -> DescribeGroupsRequest<'static> {
        DescribeGroupsRequest { groups: alloc::vec!["billing", "audit"], include_authorized_operations: version >= 3 }
    }

    fn sample_response(version: i16) -> DescribeGroupsResponse<'static> {
        let member = |id, instance| DescribedGroupMember {
            member_id: id,
            group_instance_id: if version >= 4 { instance } else { None },
            client_id: "rdkafka",
            client_host: "/10.0.0.7",
            member_metadata: b"\x00\x03sub",
            member_assignment: b"",
        };
        DescribeGroupsResponse {
            throttle_time_ms: if version >= 1 { 5 } else { 0 },
            groups: alloc::vec![
                DescribedGroup {
                    error_code: 0,
                    group_id: "billing",
                    group_state: "Stable",
                    protocol_type: "consumer",
                    protocol_data: "range",
                    members: alloc::vec![member("m-1", Some("host-a")), member("m-2", None)],
                    authorized_operations: if version >= 3 { 0x0F } else { i32::MIN },
                },
                DescribedGroup { error_code: 69, group_id: "gone", group_state: "Dead", ..DescribedGroup::default() },
            ],
        }
    }

    #[test]
    fn round_trip_and_truncation_every_version() {
        for v in 0..=5 {
            check_truncations(&sample_request(v), v, &mut Vec::new());
            check_truncations(&DescribeGroupsRequest::default(), v, &mut Vec::new());
            check_truncations(&sample_response(v), v, &mut Vec::new());
            check_truncations(&DescribeGroupsResponse::default(), v, &mut Vec::new());
        }
    }

    #[test]
    fn unsupported_versions_are_typed_errors() {
        check_unsupported_versions(&DescribeGroupsRequest::default(), &[-1, 6, i16::MAX]);
        check_unsupported_versions(&DescribeGroupsResponse::default(), &[-1, 6, i16::MAX]);
    }

    #[test]
    fn fields_a_version_cannot_carry() {
        let mut out = Vec::new();
        let ops = sample_response(3);
        assert_eq!(ops.encode(2, &mut out), Err(EncodeError::FieldNotInVersion("authorized_operations")));
        let instance = sample_response(4);
        assert_eq!(instance.encode(3, &mut out), Err(EncodeError::FieldNotInVersion("group_instance_id")));
        assert!(out.is_empty(), "a failed encode leaves the buffer as it was");
        // include_authorized_operations and the throttle time are ignorable: dropped.
        check_truncations_as(&sample_request(3), &sample_request(2), 2, &mut Vec::new());
        check_truncations_as(&sample_response(1), &sample_response(0), 0, &mut Vec::new());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), v in -1i16..8) {
            let _ = DescribeGroupsRequest::decode(&mut Reader::new(&bytes), v);
            let _ = DescribeGroupsResponse::decode(&mut Reader::new(&bytes), v);
        }
    }
}
