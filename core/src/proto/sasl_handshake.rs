//! SaslHandshake (key 17), versions 0-1. Never flexible.
//!
//! KIP-43 (v0): the client names its mechanism and the broker answers with the mechanisms it
//! enabled (UNSUPPORTED_SASL_MECHANISM if the client's is not one of them); after a v0
//! handshake the SASL tokens follow as raw size-prefixed frames. KIP-152 (v1): the same
//! exchange, after which the tokens travel in SaslAuthenticate requests, which is what idem's
//! producer speaks.

use alloc::vec::Vec;

use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

/// SaslHandshake request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SaslHandshakeRequest<'a> {
    /// The SASL mechanism the client wants (`PLAIN`, `SCRAM-SHA-256`, ...).
    pub mechanism: &'a str,
}

/// SaslHandshake response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SaslHandshakeResponse<'a> {
    /// Error code: none, or UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE.
    pub error_code: i16,
    /// The mechanisms the broker enabled.
    pub mechanisms: Vec<&'a str>,
}

impl<'a> Message<'a> for SaslHandshakeRequest<'a> {
    const API_KEY: ApiKey = ApiKey::SaslHandshake;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        out.put_string(flexible, self.mechanism)
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        Ok(SaslHandshakeRequest { mechanism: r.string(flexible)? })
    }
}

impl<'a> Message<'a> for SaslHandshakeResponse<'a> {
    const API_KEY: ApiKey = ApiKey::SaslHandshake;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        out.put_i16(self.error_code);
        out.put_array_len(flexible, Some(self.mechanisms.len()))?;
        for m in &self.mechanisms {
            out.put_string(flexible, m)?;
        }
        Ok(())
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let error_code = r.i16()?;
        // Each mechanism is at least its int16 length.
        let mechanisms = r.array_of(flexible, 2, |r| r.string(flexible))?;
        Ok(SaslHandshakeResponse { error_code, mechanisms })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::check_truncations;

    #[test]
    fn round_trip_and_truncation_every_version() {
        for v in 0..=1 {
            check_truncations(&SaslHandshakeRequest { mechanism: "SCRAM-SHA-512" }, v, &mut Vec::new());
            let resp = SaslHandshakeResponse { error_code: 33, mechanisms: alloc::vec!["PLAIN", "SCRAM-SHA-256"] };
            check_truncations(&resp, v, &mut Vec::new());
        }
    }

    #[test]
    fn unsupported_versions_are_typed_errors() {
        let err = EncodeError::UnsupportedVersion { api_key: 17, version: 2 };
        assert_eq!(SaslHandshakeRequest::default().encode(2, &mut Vec::new()), Err(err));
        let err = DecodeError::UnsupportedVersion { api_key: 17, version: 2 };
        assert_eq!(SaslHandshakeResponse::decode(&mut Reader::new(&[0; 8]), 2), Err(err));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), v in -1i16..4) {
            let _ = SaslHandshakeRequest::decode(&mut Reader::new(&bytes), v);
            let _ = SaslHandshakeResponse::decode(&mut Reader::new(&bytes), v);
        }
    }
}
