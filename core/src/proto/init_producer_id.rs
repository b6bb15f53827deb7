//! InitProducerId (key 22), versions 0-4. Flexible from v2.

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
