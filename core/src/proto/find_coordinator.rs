//! FindCoordinator (key 10), versions 0-4. Flexible from v3.
//!
//! A client asks any broker which broker coordinates a consumer group (or a transactional id),
//! and then sends its group requests there. v1 adds the key type (KIP-98: group or
//! transaction), the throttle time and an error message; v4 (KIP-699) looks up a batch of keys
//! of one type: `coordinator_keys` replaces `key`, and the response answers per key in
//! `coordinators` instead of its top-level fields.
//!
//! Versions 5 (KIP-890's TRANSACTION_ABORTABLE error) and 6 (KIP-932's share group key type)
//! have v4's layout and are not spoken.

use alloc::vec::Vec;

use super::arrays::{end, put_end, put_strings, put_structs, strings, structs};
use super::reader::min_string;
use super::writer::atomically;
use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

/// `key_type` of a consumer group's coordinator: the key is a group id.
pub const KEY_TYPE_GROUP: i8 = 0;
/// `key_type` of a transaction coordinator: the key is a transactional id.
pub const KEY_TYPE_TRANSACTION: i8 = 1;

/// FindCoordinator request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FindCoordinatorRequest<'a> {
    /// The coordinator key (v0-3). Encoding a non-empty key from v4 on is an error (v4+ carry
    /// `coordinator_keys`).
    pub key: &'a str,
    /// The coordinator key type: [`KEY_TYPE_GROUP`] or [`KEY_TYPE_TRANSACTION`] (v1+). Encoding
    /// another type than group below v1 is an error.
    pub key_type: i8,
    /// The coordinator keys (v4+). Encoding a non-empty list below v4 is an error.
    pub coordinator_keys: Vec<&'a str>,
}

impl<'a> FindCoordinatorRequest<'a> {
    /// The request for one `key` of `key_type` at `version`: in `key` below v4, as the only
    /// entry of `coordinator_keys` from v4 on.
    pub fn one(version: i16, key_type: i8, key: &'a str) -> FindCoordinatorRequest<'a> {
        if version >= 4 {
            FindCoordinatorRequest { key: "", key_type, coordinator_keys: alloc::vec![key] }
        } else {
            FindCoordinatorRequest { key, key_type, coordinator_keys: Vec::new() }
        }
    }
}

/// The coordinator of one key in a FindCoordinator response (v4+).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coordinator<'a> {
    /// The coordinator key.
    pub key: &'a str,
    /// The node id.
    pub node_id: i32,
    /// The host name.
    pub host: &'a str,
    /// The port.
    pub port: i32,
    /// The error code, or 0 if there was no error.
    pub error_code: i16,
    /// The error message, or null if there was no error.
    pub error_message: Option<&'a str>,
}

/// FindCoordinator response.
///
/// v0-3 answer in the top-level `error_code`, `node_id`, `host` and `port`; v4+ in
/// `coordinators`. Encoding v4+ with a top-level field other than its default (0 or empty), or
/// v0-3 with a non-empty `coordinators`, is an error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FindCoordinatorResponse<'a> {
    /// The duration in milliseconds for which the request was throttled due to a quota
    /// violation, or zero if the request did not violate any quota (v1+). Not sent below v1.
    pub throttle_time_ms: i32,
    /// The error code, or 0 if there was no error (v0-3).
    pub error_code: i16,
    /// The error message, or null if there was no error (v1-3). Not sent in other versions.
    pub error_message: Option<&'a str>,
    /// The node id (v0-3).
    pub node_id: i32,
    /// The host name (v0-3).
    pub host: &'a str,
    /// The port (v0-3).
    pub port: i32,
    /// Each coordinator result in the response (v4+).
    pub coordinators: Vec<Coordinator<'a>>,
}

impl<'a> Message<'a> for FindCoordinatorRequest<'a> {
    const API_KEY: ApiKey = ApiKey::FindCoordinator;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        if version >= 4 && !self.key.is_empty() {
            return Err(EncodeError::FieldNotInVersion("key"));
        }
        if version < 1 && self.key_type != KEY_TYPE_GROUP {
            return Err(EncodeError::FieldNotInVersion("key_type"));
        }
        if version < 4 && !self.coordinator_keys.is_empty() {
            return Err(EncodeError::FieldNotInVersion("coordinator_keys"));
        }
        atomically(out, |out| {
            if version < 4 {
                out.put_string(flexible, self.key)?;
            }
            if version >= 1 {
                out.put_i8(self.key_type);
            }
            if version >= 4 {
                put_strings(out, flexible, &self.coordinator_keys)?;
            }
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = FindCoordinatorRequest::default();
        if version < 4 {
            m.key = r.string(flexible)?;
        }
        if version >= 1 {
            m.key_type = r.i8()?;
        }
        if version >= 4 {
            m.coordinator_keys = strings(r, flexible)?;
        }
        end(r, flexible)?;
        Ok(m)
    }
}

impl<'a> FindCoordinatorResponse<'a> {
    /// The answer to a request for one key at `version` (from `coordinators` from v4 on):
    /// error code, node id, host and port.
    pub fn answer(&self, version: i16) -> (i16, i32, &'a str, i32) {
        match self.coordinators.first() {
            Some(c) if version >= 4 => (c.error_code, c.node_id, c.host, c.port),
            _ => (self.error_code, self.node_id, self.host, self.port),
        }
    }
}

impl<'a> Message<'a> for FindCoordinatorResponse<'a> {
    const API_KEY: ApiKey = ApiKey::FindCoordinator;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        if version >= 4 {
            let top_level = [
                ("error_code", self.error_code != 0),
                ("node_id", self.node_id != 0),
                ("host", !self.host.is_empty()),
                ("port", self.port != 0),
            ];
            if let Some((field, _)) = top_level.iter().find(|(_, set)| *set) {
                return Err(EncodeError::FieldNotInVersion(field));
            }
        } else if !self.coordinators.is_empty() {
            return Err(EncodeError::FieldNotInVersion("coordinators"));
        }
        atomically(out, |out| {
            if version >= 1 {
                out.put_i32(self.throttle_time_ms);
            }
            if version < 4 {
                out.put_i16(self.error_code);
                if version >= 1 {
                    out.put_nullable_string(flexible, self.error_message)?;
                }
                out.put_i32(self.node_id);
                out.put_string(flexible, self.host)?;
                out.put_i32(self.port);
            } else {
                put_structs(out, flexible, &self.coordinators, |out, c| {
                    out.put_string(flexible, c.key)?;
                    out.put_i32(c.node_id);
                    out.put_string(flexible, c.host)?;
                    out.put_i32(c.port);
                    out.put_i16(c.error_code);
                    out.put_nullable_string(flexible, c.error_message)
                })?;
            }
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = FindCoordinatorResponse::default();
        if version >= 1 {
            m.throttle_time_ms = r.i32()?;
        }
        if version < 4 {
            m.error_code = r.i16()?;
            if version >= 1 {
                m.error_message = r.nullable_string(flexible)?;
            }
            m.node_id = r.i32()?;
            m.host = r.string(flexible)?;
            m.port = r.i32()?;
        } else {
            let min_coordinator = 3 * min_string(flexible) + 4 + 4 + 2;
            m.coordinators = structs(r, flexible, min_coordinator, |r| {
                Ok(Coordinator {
                    key: r.string(flexible)?,
                    node_id: r.i32()?,
                    host: r.string(flexible)?,
                    port: r.i32()?,
                    error_code: r.i16()?,
                    error_message: r.nullable_string(flexible)?,
                })
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

    fn sample_request(version: i16) -> FindCoordinatorRequest<'static> {
        let key_type = if version >= 1 { KEY_TYPE_TRANSACTION } else { KEY_TYPE_GROUP };
        if version >= 4 {
            FindCoordinatorRequest { key: "", key_type, coordinator_keys: alloc::vec!["orders-app", "billing"] }
        } else {
            FindCoordinatorRequest { key: "orders-app", key_type, coordinator_keys: Vec::new() }
        }
    }

    fn sample_response(version: i16) -> FindCoordinatorResponse<'static> {
        let throttle_time_ms = if version >= 1 { 3 } else { 0 };
        if version >= 4 {
            let coordinators = alloc::vec![
                Coordinator { key: "orders-app", node_id: 2, host: "broker-2", port: 9092, ..Default::default() },
                Coordinator {
                    key: "billing",
                    node_id: -1,
                    host: "",
                    port: -1,
                    error_code: 15,
                    error_message: Some("The coordinator is not available."),
                },
            ];
            FindCoordinatorResponse { throttle_time_ms, coordinators, ..Default::default() }
        } else {
            FindCoordinatorResponse {
                throttle_time_ms,
                error_code: 0,
                error_message: (version >= 1).then_some("NONE"),
                node_id: 2,
                host: "broker-2",
                port: 9092,
                coordinators: Vec::new(),
            }
        }
    }

    #[test]
    fn round_trip_and_truncation_every_version() {
        for v in 0..=4 {
            check_truncations(&sample_request(v), v, &mut Vec::new());
            check_truncations(&FindCoordinatorRequest::default(), v, &mut Vec::new());
            check_truncations(&sample_response(v), v, &mut Vec::new());
            check_truncations(&FindCoordinatorResponse::default(), v, &mut Vec::new());
        }
    }

    #[test]
    fn error_message_is_dropped_in_v0_and_v4() {
        let resp = FindCoordinatorResponse { throttle_time_ms: 0, ..sample_response(1) };
        check_truncations_as(&resp, &sample_response(0), 0, &mut Vec::new());
        let resp = FindCoordinatorResponse { error_message: Some("x"), ..sample_response(4) };
        check_truncations_as(&resp, &sample_response(4), 4, &mut Vec::new());
    }

    #[test]
    fn fields_a_version_cannot_carry() {
        let mut out = Vec::new();
        let err = |f| Err(EncodeError::FieldNotInVersion(f));
        assert_eq!(sample_request(1).encode(0, &mut out), err("key_type"));
        assert_eq!(sample_request(3).encode(4, &mut out), err("key"));
        assert_eq!(sample_request(4).encode(3, &mut out), err("coordinator_keys"));
        assert_eq!(sample_response(3).encode(4, &mut out), err("node_id"));
        let resp = FindCoordinatorResponse { error_code: 15, ..Default::default() };
        assert_eq!(resp.encode(4, &mut out), err("error_code"));
        let resp = FindCoordinatorResponse { host: "h", ..Default::default() };
        assert_eq!(resp.encode(4, &mut out), err("host"));
        let resp = FindCoordinatorResponse { port: 1, ..Default::default() };
        assert_eq!(resp.encode(4, &mut out), err("port"));
        assert_eq!(sample_response(4).encode(3, &mut out), err("coordinators"));
        assert!(out.is_empty(), "a failed encode leaves the buffer as it was");
    }

    #[test]
    fn unsupported_versions_are_typed_errors() {
        check_unsupported_versions(&FindCoordinatorRequest::default(), &[-1, 5, 6, i16::MAX]);
        check_unsupported_versions(&FindCoordinatorResponse::default(), &[-1, 5, 6, i16::MAX]);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), v in -1i16..7) {
            let _ = FindCoordinatorRequest::decode(&mut Reader::new(&bytes), v);
            let _ = FindCoordinatorResponse::decode(&mut Reader::new(&bytes), v);
        }
    }
}
