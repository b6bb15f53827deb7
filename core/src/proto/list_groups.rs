//! ListGroups (key 16), versions 0-4. Flexible from v3.
//!
//! A client asks a broker for the groups it coordinates; v4 (KIP-518) can filter them by state
//! and answers with each group's state. (v5, KIP-848's group types, is not spoken.)

use alloc::vec::Vec;

use super::arrays::{end, put_end, put_strings, put_structs, strings, structs};
use super::reader::min_string;
use super::writer::atomically;
use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

/// ListGroups request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListGroupsRequest<'a> {
    /// The states of the groups we want to list (v4+). If empty, all groups are returned with
    /// their state. Encoding a non-empty filter below v4 is an error (dropping it would list
    /// every group).
    pub states_filter: Vec<&'a str>,
}

/// One group in a ListGroups response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListedGroup<'a> {
    /// The group ID.
    pub group_id: &'a str,
    /// The group protocol type (`consumer` for consumer groups, empty for a group with no
    /// members yet).
    pub protocol_type: &'a str,
    /// The group state name (v4+: `Stable`, `Empty`, `PreparingRebalance`, ...). Not sent below
    /// v4 (Kafka marks it ignorable).
    pub group_state: &'a str,
}

/// ListGroups response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListGroupsResponse<'a> {
    /// The duration in milliseconds for which the request was throttled due to a quota
    /// violation, or zero if the request did not violate any quota (v1+). Not sent below v1.
    pub throttle_time_ms: i32,
    /// The error code, or 0 if there was no error.
    pub error_code: i16,
    /// Each group in the response.
    pub groups: Vec<ListedGroup<'a>>,
}

impl<'a> Message<'a> for ListGroupsRequest<'a> {
    const API_KEY: ApiKey = ApiKey::ListGroups;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        if version < 4 && !self.states_filter.is_empty() {
            return Err(EncodeError::FieldNotInVersion("states_filter"));
        }
        atomically(out, |out| {
            if version >= 4 {
                put_strings(out, flexible, &self.states_filter)?;
            }
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = ListGroupsRequest::default();
        if version >= 4 {
            m.states_filter = strings(r, flexible)?;
        }
        end(r, flexible)?;
        Ok(m)
    }
}

impl<'a> Message<'a> for ListGroupsResponse<'a> {
    const API_KEY: ApiKey = ApiKey::ListGroups;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        atomically(out, |out| {
            if version >= 1 {
                out.put_i32(self.throttle_time_ms);
            }
            out.put_i16(self.error_code);
            put_structs(out, flexible, &self.groups, |out, g| {
                out.put_string(flexible, g.group_id)?;
                out.put_string(flexible, g.protocol_type)?;
                if version >= 4 {
                    out.put_string(flexible, g.group_state)?;
                }
                Ok(())
            })?;
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = ListGroupsResponse::default();
        if version >= 1 {
            m.throttle_time_ms = r.i32()?;
        }
        m.error_code = r.i16()?;
        let strings_per_group = if version >= 4 { 3 } else { 2 };
        m.groups = structs(r, flexible, strings_per_group * min_string(flexible), |r| {
            let mut g =
                ListedGroup { group_id: r.string(flexible)?, protocol_type: r.string(flexible)?, group_state: "" };
            if version >= 4 {
                g.group_state = r.string(flexible)?;
            }
            Ok(g)
        })?;
        end(r, flexible)?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::{check_truncations, check_truncations_as, check_unsupported_versions};

    fn sample_response(version: i16) -> ListGroupsResponse<'static> {
        let state = |s| if version >= 4 { s } else { "" };
        ListGroupsResponse {
            throttle_time_ms: if version >= 1 { 7 } else { 0 },
            error_code: 0,
            groups: alloc::vec![
                ListedGroup { group_id: "billing", protocol_type: "consumer", group_state: state("Stable") },
                ListedGroup { group_id: "new", protocol_type: "", group_state: state("Empty") },
            ],
        }
    }

    #[test]
    fn round_trip_and_truncation_every_version() {
        for v in 0..=4 {
            let req =
                ListGroupsRequest { states_filter: if v >= 4 { alloc::vec!["Stable", "Empty"] } else { Vec::new() } };
            // Below v3 the request is empty: there is no strict prefix to cut.
            check_truncations(&req, v, &mut Vec::new());
            check_truncations(&ListGroupsRequest::default(), v, &mut Vec::new());
            check_truncations(&sample_response(v), v, &mut Vec::new());
            check_truncations(&ListGroupsResponse::default(), v, &mut Vec::new());
        }
    }

    #[test]
    fn unsupported_versions_are_typed_errors() {
        check_unsupported_versions(&ListGroupsRequest::default(), &[-1, 5, i16::MAX]);
        check_unsupported_versions(&ListGroupsResponse::default(), &[-1, 5, i16::MAX]);
    }

    #[test]
    fn fields_a_version_cannot_carry() {
        let mut out = Vec::new();
        let filtered = ListGroupsRequest { states_filter: alloc::vec!["Stable"] };
        assert_eq!(filtered.encode(3, &mut out), Err(EncodeError::FieldNotInVersion("states_filter")));
        assert!(out.is_empty());
        // The group state and the throttle time are ignorable: dropped where not carried.
        check_truncations_as(&sample_response(4), &sample_response(3), 3, &mut Vec::new());
        check_truncations_as(&sample_response(1), &sample_response(0), 0, &mut Vec::new());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), v in -1i16..7) {
            let _ = ListGroupsRequest::decode(&mut Reader::new(&bytes), v);
            let _ = ListGroupsResponse::decode(&mut Reader::new(&bytes), v);
        }
    }
}
