//! LeaveGroup (key 13), versions 0-5. Flexible from v4.
//!
//! A member leaves its consumer group, so the group coordinator rebalances at once instead of
//! waiting for its session to time out. v0-2 name one member by `member_id`; v3 (KIP-345)
//! replaces it by a batch of `members`, each with its `group_instance_id`, so that an admin can
//! remove static members, and the response answers per member; v5 (KIP-800) adds a reason per
//! member.

use alloc::vec::Vec;

use super::arrays::{end, put_end, put_structs, structs};
use super::reader::min_string;
use super::writer::atomically;
use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

/// One leaving member in a LeaveGroup request (v3+).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberIdentity<'a> {
    /// The member ID to remove from the group.
    pub member_id: &'a str,
    /// The group instance ID to remove from the group.
    pub group_instance_id: Option<&'a str>,
    /// The reason why the member left the group (v5+). Not sent below v5.
    pub reason: Option<&'a str>,
}

/// LeaveGroup request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaveGroupRequest<'a> {
    /// The ID of the group to leave.
    pub group_id: &'a str,
    /// The member ID to remove from the group (v0-2). Encoding a non-empty value from v3 on is
    /// an error (v3+ carry `members`).
    pub member_id: &'a str,
    /// List of leaving member identities (v3+). Encoding a non-empty list below v3 is an error.
    pub members: Vec<MemberIdentity<'a>>,
}

/// One member's result in a LeaveGroup response (v3+).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberResponse<'a> {
    /// The member ID to remove from the group.
    pub member_id: &'a str,
    /// The group instance ID to remove from the group.
    pub group_instance_id: Option<&'a str>,
    /// The error code, or 0 if there was no error.
    pub error_code: i16,
}

/// LeaveGroup response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaveGroupResponse<'a> {
    /// The duration in milliseconds for which the request was throttled due to a quota
    /// violation, or zero if the request did not violate any quota (v1+). Not sent below v1.
    pub throttle_time_ms: i32,
    /// The error code, or 0 if there was no error.
    pub error_code: i16,
    /// List of leaving member responses (v3+). Encoding a non-empty list below v3 is an error.
    pub members: Vec<MemberResponse<'a>>,
}

impl<'a> Message<'a> for LeaveGroupRequest<'a> {
    const API_KEY: ApiKey = ApiKey::LeaveGroup;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        if version >= 3 && !self.member_id.is_empty() {
            return Err(EncodeError::FieldNotInVersion("member_id"));
        }
        if version < 3 && !self.members.is_empty() {
            return Err(EncodeError::FieldNotInVersion("members"));
        }
        atomically(out, |out| {
            out.put_string(flexible, self.group_id)?;
            if version < 3 {
                out.put_string(flexible, self.member_id)?;
            } else {
                put_structs(out, flexible, &self.members, |out, m| {
                    out.put_string(flexible, m.member_id)?;
                    out.put_nullable_string(flexible, m.group_instance_id)?;
                    if version >= 5 {
                        out.put_nullable_string(flexible, m.reason)?;
                    }
                    Ok(())
                })?;
            }
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = LeaveGroupRequest { group_id: r.string(flexible)?, ..Default::default() };
        if version < 3 {
            m.member_id = r.string(flexible)?;
        } else {
            let s = min_string(flexible);
            let min_member = 2 * s + if version >= 5 { s } else { 0 };
            m.members = structs(r, flexible, min_member, |r| {
                let mut member = MemberIdentity {
                    member_id: r.string(flexible)?,
                    group_instance_id: r.nullable_string(flexible)?,
                    reason: None,
                };
                if version >= 5 {
                    member.reason = r.nullable_string(flexible)?;
                }
                Ok(member)
            })?;
        }
        end(r, flexible)?;
        Ok(m)
    }
}

impl<'a> Message<'a> for LeaveGroupResponse<'a> {
    const API_KEY: ApiKey = ApiKey::LeaveGroup;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        if version < 3 && !self.members.is_empty() {
            return Err(EncodeError::FieldNotInVersion("members"));
        }
        atomically(out, |out| {
            if version >= 1 {
                out.put_i32(self.throttle_time_ms);
            }
            out.put_i16(self.error_code);
            if version >= 3 {
                put_structs(out, flexible, &self.members, |out, m| {
                    out.put_string(flexible, m.member_id)?;
                    out.put_nullable_string(flexible, m.group_instance_id)?;
                    out.put_i16(m.error_code);
                    Ok(())
                })?;
            }
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = LeaveGroupResponse::default();
        if version >= 1 {
            m.throttle_time_ms = r.i32()?;
        }
        m.error_code = r.i16()?;
        if version >= 3 {
            let min_member = 2 * min_string(flexible) + 2;
            m.members = structs(r, flexible, min_member, |r| {
                let member = MemberResponse {
                    member_id: r.string(flexible)?,
                    group_instance_id: r.nullable_string(flexible)?,
                    error_code: r.i16()?,
                };
                Ok(member)
            })?;
        }
        end(r, flexible)?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::{check_truncations, check_truncations_as, check_unsupported_versions};

    fn sample_request(version: i16) -> LeaveGroupRequest<'static> {
        if version < 3 {
            return LeaveGroupRequest { group_id: "orders-app", member_id: "consumer-1-5f1c", members: Vec::new() };
        }
        let reason = (version >= 5).then_some("the consumer is being closed");
        LeaveGroupRequest {
            group_id: "orders-app",
            member_id: "",
            members: alloc::vec![
                MemberIdentity { member_id: "consumer-1-5f1c", group_instance_id: None, reason },
                MemberIdentity { member_id: "", group_instance_id: Some("instance-b"), reason: None },
            ],
        }
    }

    fn sample_response(version: i16) -> LeaveGroupResponse<'static> {
        let members = if version >= 3 {
            alloc::vec![
                MemberResponse { member_id: "consumer-1-5f1c", group_instance_id: None, error_code: 0 },
                MemberResponse { member_id: "", group_instance_id: Some("instance-b"), error_code: 25 },
            ]
        } else {
            Vec::new()
        };
        LeaveGroupResponse { throttle_time_ms: if version >= 1 { 8 } else { 0 }, error_code: 0, members }
    }

    #[test]
    fn round_trip_and_truncation_every_version() {
        for v in 0..=5 {
            check_truncations(&sample_request(v), v, &mut Vec::new());
            check_truncations(&LeaveGroupRequest::default(), v, &mut Vec::new());
            check_truncations(&sample_response(v), v, &mut Vec::new());
            check_truncations(&LeaveGroupResponse::default(), v, &mut Vec::new());
        }
    }

    #[test]
    fn reason_is_dropped_below_v5() {
        for v in 3..5 {
            check_truncations_as(&sample_request(5), &sample_request(v), v, &mut Vec::new());
        }
    }

    #[test]
    fn fields_a_version_cannot_carry() {
        let mut out = Vec::new();
        assert_eq!(sample_request(3).encode(2, &mut out), Err(EncodeError::FieldNotInVersion("members")));
        assert_eq!(sample_request(2).encode(3, &mut out), Err(EncodeError::FieldNotInVersion("member_id")));
        assert_eq!(sample_response(3).encode(2, &mut out), Err(EncodeError::FieldNotInVersion("members")));
        assert!(out.is_empty(), "a failed encode leaves the buffer as it was");
    }

    #[test]
    fn unsupported_versions_are_typed_errors() {
        check_unsupported_versions(&LeaveGroupRequest::default(), &[-1, 6, i16::MAX]);
        check_unsupported_versions(&LeaveGroupResponse::default(), &[-1, 6, i16::MAX]);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), v in -1i16..7) {
            let _ = LeaveGroupRequest::decode(&mut Reader::new(&bytes), v);
            let _ = LeaveGroupResponse::decode(&mut Reader::new(&bytes), v);
        }
    }
}
