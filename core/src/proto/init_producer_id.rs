//! InitProducerId (key 22), versions 0-5. Flexible from v2.
//!
//! Every version carries the (nullable) transactional id and the transaction timeout; v3 adds
//! the current producer id and epoch to the request, to bump the epoch (KIP-360); v4 the error
//! PRODUCER_FENCED (KIP-588); v5 is v4's shape with TRANSACTION_ABORTABLE (KIP-890). v6
//! (KIP-939, two-phase commit) is not spoken. idem's producer picks up to v4
//! ([`ApiKey::negotiated`]); idem's broker serves v5 under transactions v2.

/// The last epoch a producer id is used with: Kafka treats an epoch of `i16::MAX - 1` or more
/// as exhausted (`TransactionMetadata.isEpochExhausted`); past it a fresh id is needed.
pub(crate) const LAST_EPOCH: i16 = i16::MAX - 1;

/// InitProducerId request. idem's producer sends a null transactional id (idempotence only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitProducerIdRequest<'a> {
    /// Transactional id; `None` for an idempotent-only producer.
    pub transactional_id: Option<&'a str>,
    /// Transaction timeout in ms (ignored by brokers without a transactional id).
    pub transaction_timeout_ms: i32,
    /// The current producer id, to bump its epoch (v3+, KIP-360); -1 for a new producer.
    /// Encoding a value other than -1 below v3 is an error.
    pub producer_id: i64,
    /// The current epoch (v3+); -1 for a new producer. Encoding a value other than -1 below v3
    /// is an error.
    pub producer_epoch: i16,
}

impl Default for InitProducerIdRequest<'_> {
    fn default() -> Self {
        InitProducerIdRequest {
            transactional_id: None,
            transaction_timeout_ms: -1,
            producer_id: -1,
            producer_epoch: -1,
        }
    }
}

/// InitProducerId response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InitProducerIdResponse {
    /// Throttle time in ms.
    pub throttle_time_ms: i32,
    /// Error code.
    pub error_code: i16,
    /// The producer id assigned.
    pub producer_id: i64,
    /// The producer epoch assigned.
    pub producer_epoch: i16,
}

use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};
use alloc::vec::Vec;

impl<'a> Message<'a> for InitProducerIdRequest<'a> {
    const API_KEY: ApiKey = ApiKey::InitProducerId;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        if version < 3 {
            // Dropping these would turn an epoch bump into a fresh producer id.
            if self.producer_id != -1 {
                return Err(EncodeError::FieldNotInVersion("producer_id"));
            }
            if self.producer_epoch != -1 {
                return Err(EncodeError::FieldNotInVersion("producer_epoch"));
            }
        }
        out.put_nullable_string(flexible, self.transactional_id)?;
        out.put_i32(self.transaction_timeout_ms);
        if version >= 3 {
            out.put_i64(self.producer_id);
            out.put_i16(self.producer_epoch);
        }
        if flexible {
            out.put_empty_tagged_fields();
        }
        Ok(())
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = InitProducerIdRequest {
            transactional_id: r.nullable_string(flexible)?,
            transaction_timeout_ms: r.i32()?,
            ..InitProducerIdRequest::default()
        };
        if version >= 3 {
            m.producer_id = r.i64()?;
            m.producer_epoch = r.i16()?;
        }
        if flexible {
            r.skip_tagged_fields()?;
        }
        Ok(m)
    }
}

impl<'a> Message<'a> for InitProducerIdResponse {
    const API_KEY: ApiKey = ApiKey::InitProducerId;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        out.put_i32(self.throttle_time_ms);
        out.put_i16(self.error_code);
        out.put_i64(self.producer_id);
        out.put_i16(self.producer_epoch);
        if flexible {
            out.put_empty_tagged_fields();
        }
        Ok(())
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let m = InitProducerIdResponse {
            throttle_time_ms: r.i32()?,
            error_code: r.i16()?,
            producer_id: r.i64()?,
            producer_epoch: r.i16()?,
        };
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

    fn sample_request(version: i16) -> InitProducerIdRequest<'static> {
        let bump = version >= 3;
        InitProducerIdRequest {
            transactional_id: Some("txn"),
            transaction_timeout_ms: 60_000,
            producer_id: if bump { 4711 } else { -1 },
            producer_epoch: if bump { 3 } else { -1 },
        }
    }

    fn sample_response() -> InitProducerIdResponse {
        InitProducerIdResponse { throttle_time_ms: 5, error_code: 0, producer_id: 1 << 40, producer_epoch: 7 }
    }

    #[test]
    fn round_trip_and_truncation_every_version() {
        for v in 0..=5 {
            let (req, resp) = (sample_request(v), sample_response());
            check_truncations(&req, v, &mut Vec::new());
            check_truncations(&resp, v, &mut Vec::new());
        }
    }

    #[test]
    fn null_transactional_id_in_every_version() {
        for v in 0..=5 {
            let req = InitProducerIdRequest { transactional_id: None, ..sample_request(v) };
            let mut out = Vec::new();
            req.encode(v, &mut out).unwrap();
            assert_eq!(InitProducerIdRequest::decode(&mut Reader::new(&out), v), Ok(req));
        }
    }

    #[test]
    fn unsupported_versions_are_typed_errors() {
        let err = EncodeError::UnsupportedVersion { api_key: 22, version: 6 };
        assert_eq!(sample_request(4).encode(6, &mut Vec::new()), Err(err));
        assert_eq!(sample_response().encode(6, &mut Vec::new()), Err(err));
        let err = EncodeError::UnsupportedVersion { api_key: 22, version: -1 };
        assert_eq!(sample_response().encode(-1, &mut Vec::new()), Err(err));
        let err = DecodeError::UnsupportedVersion { api_key: 22, version: 6 };
        let bytes = [0u8; 64];
        assert_eq!(InitProducerIdRequest::decode(&mut Reader::new(&bytes), 6), Err(err));
        assert_eq!(InitProducerIdResponse::decode(&mut Reader::new(&bytes), 6), Err(err));
    }

    #[test]
    fn epoch_bump_below_v3_is_an_error() {
        for v in 0..3 {
            let mut out = Vec::new();
            let req = InitProducerIdRequest { producer_id: 9, ..sample_request(v) };
            assert_eq!(req.encode(v, &mut out), Err(EncodeError::FieldNotInVersion("producer_id")));
            let req = InitProducerIdRequest { producer_epoch: 0, ..sample_request(v) };
            assert_eq!(req.encode(v, &mut out), Err(EncodeError::FieldNotInVersion("producer_epoch")));
            assert!(out.is_empty());
        }
    }

    #[test]
    fn unknown_tagged_fields_are_skipped() {
        let resp = sample_response();
        let mut out = Vec::new();
        resp.encode(2, &mut out).unwrap();
        // Replace the empty tagged section by one holding tag 7 with 3 bytes.
        out.pop();
        out.extend_from_slice(&[1, 7, 3, 0xAA, 0xBB, 0xCC]);
        let mut r = Reader::new(&out);
        assert_eq!(InitProducerIdResponse::decode(&mut r, 2), Ok(resp));
        assert!(r.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), v in -1i16..15) {
            let _ = InitProducerIdRequest::decode(&mut Reader::new(&bytes), v);
            let _ = InitProducerIdResponse::decode(&mut Reader::new(&bytes), v);
        }
    }
}
