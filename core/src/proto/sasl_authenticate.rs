//! SaslAuthenticate (key 36), versions 0-2. Flexible from v2.
//!
//! KIP-152 (v0): the SASL tokens of the mechanism chosen by a v1 SaslHandshake, one request and
//! one response per step, with an error code and message instead of a closed connection.
//! KIP-368 (v1): the response carries `session_lifetime_ms`, after which the broker closes a
//! connection that has not re-authenticated; 0 means no limit.
//!
//! `auth_bytes` may hold credentials (a PLAIN password, an OAUTHBEARER token): the `Debug` of
//! the request shows only their length.

use alloc::vec::Vec;
use core::fmt;

use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

/// SaslAuthenticate request: one client token.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SaslAuthenticateRequest<'a> {
    /// The mechanism's client message (may hold a credential: not shown by `Debug`).
    pub auth_bytes: &'a [u8],
}

impl fmt::Debug for SaslAuthenticateRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslAuthenticateRequest").field("auth_bytes_len", &self.auth_bytes.len()).finish()
    }
}

/// SaslAuthenticate response: one server token, or an error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SaslAuthenticateResponse<'a> {
    /// Error code: none, SASL_AUTHENTICATION_FAILED, ILLEGAL_SASL_STATE, ...
    pub error_code: i16,
    /// The broker's description of the error, if any.
    pub error_message: Option<&'a str>,
    /// The mechanism's server message.
    pub auth_bytes: &'a [u8],
    /// The session lifetime in ms (v1+, KIP-368); 0 for none. Omitted below v1.
    pub session_lifetime_ms: i64,
}

impl<'a> Message<'a> for SaslAuthenticateRequest<'a> {
    const API_KEY: ApiKey = ApiKey::SaslAuthenticate;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        out.put_bytes(flexible, self.auth_bytes)?;
        if flexible {
            out.put_empty_tagged_fields();
        }
        Ok(())
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let auth_bytes = r.bytes(flexible)?;
        if flexible {
            r.skip_tagged_fields()?;
        }
        Ok(SaslAuthenticateRequest { auth_bytes })
    }
}

impl<'a> Message<'a> for SaslAuthenticateResponse<'a> {
    const API_KEY: ApiKey = ApiKey::SaslAuthenticate;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        out.put_i16(self.error_code);
        out.put_nullable_string(flexible, self.error_message)?;
        out.put_bytes(flexible, self.auth_bytes)?;
        if version >= 1 {
            out.put_i64(self.session_lifetime_ms);
        }
        if flexible {
            out.put_empty_tagged_fields();
        }
        Ok(())
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = SaslAuthenticateResponse {
            error_code: r.i16()?,
            error_message: r.nullable_string(flexible)?,
            auth_bytes: r.bytes(flexible)?,
            session_lifetime_ms: 0,
        };
        if version >= 1 {
            m.session_lifetime_ms = r.i64()?;
        }
        if flexible {
            r.skip_tagged_fields()?;
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::check_truncations;

    fn sample_response(v: i16) -> SaslAuthenticateResponse<'static> {
        SaslAuthenticateResponse {
            error_code: 58,
            error_message: Some("Authentication failed"),
            auth_bytes: b"v=abc",
            session_lifetime_ms: if v >= 1 { 3_600_000 } else { 0 },
        }
    }

    #[test]
    fn round_trip_and_truncation_every_version() {
        for v in 0..=2 {
            check_truncations(&SaslAuthenticateRequest { auth_bytes: b"\0user\0secret" }, v, &mut Vec::new());
            check_truncations(&sample_response(v), v, &mut Vec::new());
            let none = SaslAuthenticateResponse { error_message: None, ..sample_response(v) };
            check_truncations(&none, v, &mut Vec::new());
        }
    }

    #[test]
    fn debug_hides_the_token() {
        let s = alloc::format!("{:?}", SaslAuthenticateRequest { auth_bytes: b"\0user\0hunter2" });
        assert!(!s.contains("hunter2") && !s.contains("104, 117"), "{s}");
    }

    #[test]
    fn unknown_tagged_fields_are_skipped() {
        let resp = sample_response(2);
        let mut out = Vec::new();
        resp.encode(2, &mut out).unwrap();
        out.pop();
        out.extend_from_slice(&[1, 9, 2, 0xAA, 0xBB]);
        let mut r = Reader::new(&out);
        assert_eq!(SaslAuthenticateResponse::decode(&mut r, 2), Ok(resp));
        assert!(r.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), v in -1i16..4) {
            let _ = SaslAuthenticateRequest::decode(&mut Reader::new(&bytes), v);
            let _ = SaslAuthenticateResponse::decode(&mut Reader::new(&bytes), v);
        }
    }
}
