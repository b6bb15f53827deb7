//! JoinGroup (key 11), versions 0-9. Flexible from v6.
//!
//! The first step of a rebalance of the classic group protocol: each member names the
//! protocols it supports (for a consumer, its partition assignors, each with the consumer
//! protocol's subscription as metadata); the group coordinator picks one that every member
//! supports, answers every member with the generation, the protocol and the leader, and the
//! leader alone with every member's metadata, from which it computes the assignments it sends
//! in SyncGroup.
//!
//! v1 adds the rebalance timeout (KIP-62), v2 the throttle time, v4 the MEMBER_ID_REQUIRED
//! round trip (KIP-394: a new member first gets its member id, then joins with it), v5 static
//! membership (KIP-345), v7 the protocol type in the response (KIP-559), v8 a reason (KIP-800),
//! v9 `skip_assignment` (KIP-814).

use alloc::vec::Vec;

use super::arrays::{end, put_end, put_structs, structs};
use super::reader::{min_bytes, min_string};
use super::writer::atomically;
use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

/// One protocol a joining member supports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JoinGroupRequestProtocol<'a> {
    /// The protocol name.
    pub name: &'a str,
    /// The protocol metadata.
    pub metadata: &'a [u8],
}

/// JoinGroup request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinGroupRequest<'a> {
    /// The group identifier.
    pub group_id: &'a str,
    /// The coordinator considers the consumer dead if it receives no heartbeat after this
    /// timeout in milliseconds.
    pub session_timeout_ms: i32,
    /// The maximum time in milliseconds that the coordinator will wait for each member to
    /// rejoin when rebalancing the group (v1+; -1 by default). Not sent below v1, where the
    /// coordinator uses the session timeout.
    pub rebalance_timeout_ms: i32,
    /// The member id assigned by the group coordinator (empty for a member that has none yet).
    pub member_id: &'a str,
    /// The unique identifier of the consumer instance provided by end user (v5+, KIP-345).
    /// Encoding `Some` below v5 is an error (it would turn a static member into a dynamic one).
    pub group_instance_id: Option<&'a str>,
    /// The unique name the for class of protocols implemented by the group we want to join.
    pub protocol_type: &'a str,
    /// The list of protocols that the member supports.
    pub protocols: Vec<JoinGroupRequestProtocol<'a>>,
    /// The reason why the member (re-)joins the group (v8+). Not sent below v8.
    pub reason: Option<&'a str>,
}

impl Default for JoinGroupRequest<'_> {
    fn default() -> Self {
        JoinGroupRequest {
            group_id: "",
            session_timeout_ms: 0,
            rebalance_timeout_ms: -1,
            member_id: "",
            group_instance_id: None,
            protocol_type: "",
            protocols: Vec::new(),
            reason: None,
        }
    }
}

/// One member of the group in a JoinGroup response (filled in the leader's response only).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JoinGroupResponseMember<'a> {
    /// The group member ID.
    pub member_id: &'a str,
    /// The unique identifier of the consumer instance provided by end user (v5+). Not sent
    /// below v5.
    pub group_instance_id: Option<&'a str>,
    /// The group member metadata.
    pub metadata: &'a [u8],
}

/// JoinGroup response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinGroupResponse<'a> {
    /// The duration in milliseconds for which the request was throttled due to a quota
    /// violation, or zero if the request did not violate any quota (v2+). Not sent below v2.
    pub throttle_time_ms: i32,
    /// The error code, or 0 if there was no error.
    pub error_code: i16,
    /// The generation ID of the group (-1 by default).
    pub generation_id: i32,
    /// The group protocol name (Kafka's words; it is the protocol type, e.g. `consumer`)
    /// (v7+). Not sent below v7.
    pub protocol_type: Option<&'a str>,
    /// The group protocol selected by the coordinator (nullable from v7; below, Kafka sends an
    /// empty name when there is none). Encoding `None` below v7 is an error.
    pub protocol_name: Option<&'a str>,
    /// The leader of the group.
    pub leader: &'a str,
    /// True if the leader must skip running the assignment (v9+, KIP-814). Encoding `true`
    /// below v9 is an error.
    pub skip_assignment: bool,
    /// The member ID assigned by the group coordinator.
    pub member_id: &'a str,
    /// The group members (the leader's response only; empty for followers).
    pub members: Vec<JoinGroupResponseMember<'a>>,
}

impl Default for JoinGroupResponse<'_> {
    fn default() -> Self {
        JoinGroupResponse {
            throttle_time_ms: 0,
            error_code: 0,
            generation_id: -1,
            protocol_type: None,
            protocol_name: None,
            leader: "",
            skip_assignment: false,
            member_id: "",
            members: Vec::new(),
        }
    }
}

impl<'a> Message<'a> for JoinGroupRequest<'a> {
    const API_KEY: ApiKey = ApiKey::JoinGroup;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        if version < 5 && self.group_instance_id.is_some() {
            return Err(EncodeError::FieldNotInVersion("group_instance_id"));
        }
        atomically(out, |out| {
            out.put_string(flexible, self.group_id)?;
            out.put_i32(self.session_timeout_ms);
            if version >= 1 {
                out.put_i32(self.rebalance_timeout_ms);
            }
            out.put_string(flexible, self.member_id)?;
            if version >= 5 {
                out.put_nullable_string(flexible, self.group_instance_id)?;
            }
            out.put_string(flexible, self.protocol_type)?;
            put_structs(out, flexible, &self.protocols, |out, p| {
                out.put_string(flexible, p.name)?;
                out.put_bytes(flexible, p.metadata)
            })?;
            if version >= 8 {
                out.put_nullable_string(flexible, self.reason)?;
            }
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = JoinGroupRequest { group_id: r.string(flexible)?, ..JoinGroupRequest::default() };
        m.session_timeout_ms = r.i32()?;
        if version >= 1 {
            m.rebalance_timeout_ms = r.i32()?;
        }
        m.member_id = r.string(flexible)?;
        if version >= 5 {
            m.group_instance_id = r.nullable_string(flexible)?;
        }
        m.protocol_type = r.string(flexible)?;
        m.protocols = structs(r, flexible, min_string(flexible) + min_bytes(flexible), |r| {
            Ok(JoinGroupRequestProtocol { name: r.string(flexible)?, metadata: r.bytes(flexible)? })
        })?;
        if version >= 8 {
            m.reason = r.nullable_string(flexible)?;
        }
        end(r, flexible)?;
        Ok(m)
    }
}

impl<'a> Message<'a> for JoinGroupResponse<'a> {
    const API_KEY: ApiKey = ApiKey::JoinGroup;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        if version < 7 && self.protocol_name.is_none() {
            return Err(EncodeError::FieldNotInVersion("null protocol_name"));
        }
        if version < 9 && self.skip_assignment {
            return Err(EncodeError::FieldNotInVersion("skip_assignment"));
        }
        atomically(out, |out| {
            if version >= 2 {
                out.put_i32(self.throttle_time_ms);
            }
            out.put_i16(self.error_code);
            out.put_i32(self.generation_id);
            if version >= 7 {
                out.put_nullable_string(flexible, self.protocol_type)?;
            }
            out.put_nullable_string(flexible, self.protocol_name)?;
            out.put_string(flexible, self.leader)?;
            if version >= 9 {
                out.put_bool(self.skip_assignment);
            }
            out.put_string(flexible, self.member_id)?;
            put_structs(out, flexible, &self.members, |out, m| {
                out.put_string(flexible, m.member_id)?;
                if version >= 5 {
                    out.put_nullable_string(flexible, m.group_instance_id)?;
                }
                out.put_bytes(flexible, m.metadata)
            })?;
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = JoinGroupResponse::default();
        if version >= 2 {
            m.throttle_time_ms = r.i32()?;
        }
        m.error_code = r.i16()?;
        m.generation_id = r.i32()?;
        if version >= 7 {
            m.protocol_type = r.nullable_string(flexible)?;
            m.protocol_name = r.nullable_string(flexible)?;
        } else {
            m.protocol_name = Some(r.string(flexible)?);
        }
        m.leader = r.string(flexible)?;
        if version >= 9 {
            m.skip_assignment = r.bool()?;
        }
        m.member_id = r.string(flexible)?;
        let s = min_string(flexible);
        let min_member = s + if version >= 5 { s } else { 0 } + min_bytes(flexible);
        m.members = structs(r, flexible, min_member, |r| {
            let mut member = JoinGroupResponseMember { member_id: r.string(flexible)?, ..Default::default() };
            if version >= 5 {
                member.group_instance_id = r.nullable_string(flexible)?;
            }
            member.metadata = r.bytes(flexible)?;
            Ok(member)
        })?;
        end(r, flexible)?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::{check_truncations, check_truncations_as, check_unsupported_versions};

    /// A consumer protocol subscription (v1: topics ["orders"], no user data, no owned
    /// partitions) as assignors carry it.
    const SUBSCRIPTION: &[u8] =
        &[0, 1, 0, 0, 0, 1, 0, 6, b'o', b'r', b'd', b'e', b'r', b's', 255, 255, 255, 255, 0, 0, 0, 0];

    fn sample_request(version: i16) -> JoinGroupRequest<'static> {
        JoinGroupRequest {
            group_id: "orders-app",
            session_timeout_ms: 45_000,
            rebalance_timeout_ms: if version >= 1 { 300_000 } else { -1 },
            member_id: "consumer-1-5f1c",
            group_instance_id: (version >= 5).then_some("instance-a"),
            protocol_type: "consumer",
            protocols: alloc::vec![
                JoinGroupRequestProtocol { name: "range", metadata: SUBSCRIPTION },
                JoinGroupRequestProtocol { name: "cooperative-sticky", metadata: &[] },
            ],
            reason: (version >= 8).then_some("rebalance failed due to MemberIdRequiredException"),
        }
    }

    fn sample_response(version: i16) -> JoinGroupResponse<'static> {
        JoinGroupResponse {
            throttle_time_ms: if version >= 2 { 6 } else { 0 },
            error_code: 0,
            generation_id: 4,
            protocol_type: (version >= 7).then_some("consumer"),
            protocol_name: Some("range"),
            leader: "consumer-1-5f1c",
            skip_assignment: version >= 9,
            member_id: "consumer-1-5f1c",
            members: alloc::vec![
                JoinGroupResponseMember {
                    member_id: "consumer-1-5f1c",
                    group_instance_id: (version >= 5).then_some("instance-a"),
                    metadata: SUBSCRIPTION,
                },
                JoinGroupResponseMember { member_id: "consumer-2-77aa", group_instance_id: None, metadata: &[] },
            ],
        }
    }

    #[test]
    fn round_trip_and_truncation_every_version() {
        for v in 0..=9 {
            check_truncations(&sample_request(v), v, &mut Vec::new());
            check_truncations(&JoinGroupRequest::default(), v, &mut Vec::new());
            check_truncations(&sample_response(v), v, &mut Vec::new());
            let follower = JoinGroupResponse { protocol_name: Some(""), members: Vec::new(), ..sample_response(v) };
            check_truncations(&follower, v, &mut Vec::new());
        }
        // An error response in a version with a nullable protocol name.
        for v in 7..=9 {
            check_truncations(&JoinGroupResponse { error_code: 79, ..Default::default() }, v, &mut Vec::new());
        }
    }

    #[test]
    fn fields_a_version_drops() {
        // The rebalance timeout below v1, the reason below v8.
        let req = JoinGroupRequest { group_instance_id: None, ..sample_request(9) };
        let expect = JoinGroupRequest { rebalance_timeout_ms: -1, reason: None, ..req.clone() };
        check_truncations_as(&req, &expect, 0, &mut Vec::new());
        let expect = JoinGroupRequest { reason: None, ..sample_request(9) };
        check_truncations_as(&sample_request(9), &expect, 7, &mut Vec::new());
        // The throttle time below v2, the protocol type below v7, members' instance ids below v5.
        let resp = JoinGroupResponse { skip_assignment: false, ..sample_response(9) };
        check_truncations_as(&resp, &sample_response(6), 6, &mut Vec::new());
        check_truncations_as(&resp, &sample_response(1), 1, &mut Vec::new());
    }

    #[test]
    fn fields_a_version_cannot_carry() {
        let mut out = Vec::new();
        let err = Err(EncodeError::FieldNotInVersion("group_instance_id"));
        assert_eq!(sample_request(5).encode(4, &mut out), err);
        let err = Err(EncodeError::FieldNotInVersion("skip_assignment"));
        assert_eq!(sample_response(9).encode(8, &mut out), err);
        let err = Err(EncodeError::FieldNotInVersion("null protocol_name"));
        assert_eq!(JoinGroupResponse::default().encode(6, &mut out), err);
        assert!(out.is_empty(), "a failed encode leaves the buffer as it was");
    }

    #[test]
    fn null_protocol_name_below_v7_is_rejected_on_decode() {
        let resp = JoinGroupResponse::default();
        let mut out = Vec::new();
        // v6 and v7 have the same layout up to the protocol type, which v7 adds as a null.
        resp.encode(7, &mut out).unwrap();
        assert_eq!(JoinGroupResponse::decode(&mut Reader::new(&out), 7), Ok(resp));
        let mut v6 = out.clone();
        v6.remove(4 + 2 + 4);
        assert_eq!(JoinGroupResponse::decode(&mut Reader::new(&v6), 6), Err(DecodeError::UnexpectedNull));
    }

    #[test]
    fn unsupported_versions_are_typed_errors() {
        check_unsupported_versions(&JoinGroupRequest::default(), &[-1, 10, i16::MAX]);
        check_unsupported_versions(&sample_response(9), &[-1, 10, i16::MAX]);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), v in -1i16..11) {
            let _ = JoinGroupRequest::decode(&mut Reader::new(&bytes), v);
            let _ = JoinGroupResponse::decode(&mut Reader::new(&bytes), v);
        }
    }
}
