//! Heartbeat (key 12), versions 0-4. Flexible from v4.
//!
//! A member of a consumer group tells the group coordinator it is alive, between a SyncGroup
//! and the next rebalance; the answer is REBALANCE_IN_PROGRESS when the member must rejoin.
//! v1 adds the throttle time, v3 the static member's `group_instance_id` (KIP-345).

use alloc::vec::Vec;

use super::arrays::{end, put_end};
use super::writer::atomically;
use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

/// Heartbeat request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeartbeatRequest<'a> {
    /// The group id.
    pub group_id: &'a str,
    /// The generation of the group.
    pub generation_id: i32,
    /// The member ID.
    pub member_id: &'a str,
    /// The unique identifier of the consumer instance provided by end user (v3+, KIP-345).
    /// Encoding `Some` below v3 is an error (it would turn a static member into a dynamic one).
    pub group_instance_id: Option<&'a str>,
}

/// Heartbeat response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeartbeatResponse {
    /// The duration in milliseconds for which the request was throttled due to a quota
    /// violation, or zero if the request did not violate any quota (v1+). Not sent below v1.
    pub throttle_time_ms: i32,
    /// The error code, or 0 if there was no error.
    pub error_code: i16,
}

/// Writes the fields that Heartbeat and SyncGroup requests both begin with: the group id, the
/// generation, the member id and (v3+) the group instance id.
pub(crate) fn put_member(
    out: &mut Vec<u8>,
    version: i16,
    flexible: bool,
    group_id: &str,
    generation_id: i32,
    member_id: &str,
    group_instance_id: Option<&str>,
) -> Result<(), EncodeError> {
    if version < 3 && group_instance_id.is_some() {
        return Err(EncodeError::FieldNotInVersion("group_instance_id"));
    }
    out.put_string(flexible, group_id)?;
    out.put_i32(generation_id);
    out.put_string(flexible, member_id)?;
    if version >= 3 {
        out.put_nullable_string(flexible, group_instance_id)?;
    }
    Ok(())
}

/// Reads what [`put_member`] writes.
pub(crate) fn member<'a>(
    r: &mut Reader<'a>,
    version: i16,
    flexible: bool,
) -> Result<(&'a str, i32, &'a str, Option<&'a str>), DecodeError> {
    let group_id = r.string(flexible)?;
    let generation_id = r.i32()?;
    let member_id = r.string(flexible)?;
    let group_instance_id = if version >= 3 { r.nullable_string(flexible)? } else { None };
    Ok((group_id, generation_id, member_id, group_instance_id))
}

impl<'a> Message<'a> for HeartbeatRequest<'a> {
    const API_KEY: ApiKey = ApiKey::Heartbeat;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        atomically(out, |out| {
            let (group, member) = (self.group_id, self.member_id);
            put_member(out, version, flexible, group, self.generation_id, member, self.group_instance_id)?;
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let (group_id, generation_id, member_id, group_instance_id) = member(r, version, flexible)?;
        end(r, flexible)?;
        Ok(HeartbeatRequest { group_id, generation_id, member_id, group_instance_id })
    }
}

impl<'a> Message<'a> for HeartbeatResponse {
    const API_KEY: ApiKey = ApiKey::Heartbeat;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        if version >= 1 {
            out.put_i32(self.throttle_time_ms);
        }
        out.put_i16(self.error_code);
        put_end(out, flexible);
        Ok(())
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let throttle_time_ms = if version >= 1 { r.i32()? } else { 0 };
        let error_code = r.i16()?;
        end(r, flexible)?;
        Ok(HeartbeatResponse { throttle_time_ms, error_code })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::{check_truncations, check_truncations_as, check_unsupported_versions};

    fn sample_request(version: i16) -> HeartbeatRequest<'static> {
        HeartbeatRequest {
            group_id: "orders-app",
            generation_id: 7,
            member_id: "consumer-1-5f1c",
            group_instance_id: (version >= 3).then_some("instance-a"),
        }
    }

    #[test]
    fn round_trip_and_truncation_every_version() {
        for v in 0..=4 {
            check_truncations(&sample_request(v), v, &mut Vec::new());
            check_truncations(&HeartbeatRequest::default(), v, &mut Vec::new());
            let resp = HeartbeatResponse { throttle_time_ms: if v >= 1 { 12 } else { 0 }, error_code: 27 };
            check_truncations(&resp, v, &mut Vec::new());
        }
    }

    #[test]
    fn throttle_time_is_dropped_below_v1() {
        let resp = HeartbeatResponse { throttle_time_ms: 12, error_code: 0 };
        check_truncations_as(&resp, &HeartbeatResponse::default(), 0, &mut Vec::new());
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
        check_unsupported_versions(&HeartbeatRequest::default(), &[-1, 5, i16::MAX]);
        check_unsupported_versions(&HeartbeatResponse::default(), &[-1, 5, i16::MAX]);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), v in -1i16..6) {
            let _ = HeartbeatRequest::decode(&mut Reader::new(&bytes), v);
            let _ = HeartbeatResponse::decode(&mut Reader::new(&bytes), v);
        }
    }
}
