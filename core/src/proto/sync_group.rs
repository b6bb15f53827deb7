//! SyncGroup (key 14), versions 0-5. Flexible from v4.
//!
//! After a JoinGroup round the leader sends the assignment of every member and the followers
//! send none; the group coordinator answers each member with its own assignment. The
//! assignments are opaque bytes to the coordinator (the consumer protocol's
//! `ConsumerProtocolAssignment`). v1 adds the throttle time, v3 the static member's
//! `group_instance_id` (KIP-345), v5 the protocol type and name, which the coordinator checks
//! against the group's (KIP-559).

use alloc::vec::Vec;

use super::arrays::{end, put_end, put_structs, structs};
use super::heartbeat::{member, put_member};
use super::reader::{min_bytes, min_string};
use super::writer::atomically;
use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

/// One member's assignment in a SyncGroup request (sent by the leader).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncGroupRequestAssignment<'a> {
    /// The ID of the member to assign.
    pub member_id: &'a str,
    /// The member assignment.
    pub assignment: &'a [u8],
}

/// SyncGroup request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncGroupRequest<'a> {
    /// The unique group identifier.
    pub group_id: &'a str,
    /// The generation of the group.
    pub generation_id: i32,
    /// The member ID assigned by the group.
    pub member_id: &'a str,
    /// The unique identifier of the consumer instance provided by end user (v3+, KIP-345).
    /// Encoding `Some` below v3 is an error (it would turn a static member into a dynamic one).
    pub group_instance_id: Option<&'a str>,
    /// The group protocol type (v5+). Not sent below v5.
    pub protocol_type: Option<&'a str>,
    /// The group protocol name (v5+). Not sent below v5.
    pub protocol_name: Option<&'a str>,
    /// Each assignment (the leader's; empty from followers).
    pub assignments: Vec<SyncGroupRequestAssignment<'a>>,
}

/// SyncGroup response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncGroupResponse<'a> {
    /// The duration in milliseconds for which the request was throttled due to a quota
    /// violation, or zero if the request did not violate any quota (v1+). Not sent below v1.
    pub throttle_time_ms: i32,
    /// The error code, or 0 if there was no error.
    pub error_code: i16,
    /// The group protocol type (v5+). Not sent below v5.
    pub protocol_type: Option<&'a str>,
    /// The group protocol name (v5+). Not sent below v5.
    pub protocol_name: Option<&'a str>,
    /// The member assignment.
    pub assignment: &'a [u8],
}

impl<'a> Message<'a> for SyncGroupRequest<'a> {
    const API_KEY: ApiKey = ApiKey::SyncGroup;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        atomically(out, |out| {
            let (group, member) = (self.group_id, self.member_id);
            put_member(out, version, flexible, group, self.generation_id, member, self.group_instance_id)?;
            if version >= 5 {
                out.put_nullable_string(flexible, self.protocol_type)?;
                out.put_nullable_string(flexible, self.protocol_name)?;
            }
            put_structs(out, flexible, &self.assignments, |out, a| {
                out.put_string(flexible, a.member_id)?;
                out.put_bytes(flexible, a.assignment)?;
                Ok(())
            })?;
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let (group_id, generation_id, member_id, group_instance_id) = member(r, version, flexible)?;
        let mut m = SyncGroupRequest { group_id, generation_id, member_id, group_instance_id, ..Default::default() };
        if version >= 5 {
            m.protocol_type = r.nullable_string(flexible)?;
            m.protocol_name = r.nullable_string(flexible)?;
        }
        let min_assignment = min_string(flexible) + min_bytes(flexible);
        m.assignments = structs(r, flexible, min_assignment, |r| {
            let a = SyncGroupRequestAssignment { member_id: r.string(flexible)?, assignment: r.bytes(flexible)? };
            Ok(a)
        })?;
        end(r, flexible)?;
        Ok(m)
    }
}

impl<'a> Message<'a> for SyncGroupResponse<'a> {
    const API_KEY: ApiKey = ApiKey::SyncGroup;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        atomically(out, |out| {
            if version >= 1 {
                out.put_i32(self.throttle_time_ms);
            }
            out.put_i16(self.error_code);
            if version >= 5 {
                out.put_nullable_string(flexible, self.protocol_type)?;
                out.put_nullable_string(flexible, self.protocol_name)?;
            }
            out.put_bytes(flexible, self.assignment)?;
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = SyncGroupResponse::default();
        if version >= 1 {
            m.throttle_time_ms = r.i32()?;
        }
        m.error_code = r.i16()?;
        if version >= 5 {
            m.protocol_type = r.nullable_string(flexible)?;
            m.protocol_name = r.nullable_string(flexible)?;
        }
        m.assignment = r.bytes(flexible)?;
        end(r, flexible)?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::{check_truncations, check_truncations_as, check_unsupported_versions};

    fn sample_request(version: i16) -> SyncGroupRequest<'static> {
        SyncGroupRequest {
            group_id: "orders-app",
            generation_id: 3,
            member_id: "leader-1",
            group_instance_id: (version >= 3).then_some("instance-a"),
            protocol_type: (version >= 5).then_some("consumer"),
            protocol_name: (version >= 5).then_some("range"),
            assignments: alloc::vec![
                SyncGroupRequestAssignment { member_id: "leader-1", assignment: &[0, 3, 0, 0, 0, 1] },
                SyncGroupRequestAssignment { member_id: "follower-2", assignment: &[] },
            ],
        }
    }

    fn sample_response(version: i16) -> SyncGroupResponse<'static> {
        SyncGroupResponse {
            throttle_time_ms: if version >= 1 { 4 } else { 0 },
            error_code: 0,
            protocol_type: (version >= 5).then_some("consumer"),
            protocol_name: (version >= 5).then_some("range"),
            assignment: &[0, 3, 0, 0, 0, 1, 0, 6],
        }
    }

    #[test]
    fn round_trip_and_truncation_every_version() {
        for v in 0..=5 {
            check_truncations(&sample_request(v), v, &mut Vec::new());
            check_truncations(&SyncGroupRequest::default(), v, &mut Vec::new());
            check_truncations(&sample_response(v), v, &mut Vec::new());
            check_truncations(&SyncGroupResponse::default(), v, &mut Vec::new());
        }
    }

    #[test]
    fn protocol_fields_are_dropped_below_v5() {
        for v in 3..5 {
            let expect = sample_request(v);
            check_truncations_as(&sample_request(5), &expect, v, &mut Vec::new());
        }
        let expect = SyncGroupResponse { throttle_time_ms: 0, ..sample_response(0) };
        check_truncations_as(&sample_response(5), &expect, 0, &mut Vec::new());
    }

    #[test]
    fn group_instance_id_below_v3_is_an_error() {
        let mut out = Vec::new();
        let err = Err(EncodeError::FieldNotInVersion("group_instance_id"));
        assert_eq!(sample_request(3).encode(2, &mut out), err);
        assert!(out.is_empty(), "a failed encode leaves the buffer as it was");
    }

    #[test]
    fn unsupported_versions_are_typed_errors() {
        check_unsupported_versions(&SyncGroupRequest::default(), &[-1, 6, i16::MAX]);
        check_unsupported_versions(&SyncGroupResponse::default(), &[-1, 6, i16::MAX]);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), v in -1i16..7) {
            let _ = SyncGroupRequest::decode(&mut Reader::new(&bytes), v);
            let _ = SyncGroupResponse::decode(&mut Reader::new(&bytes), v);
        }
    }
}
