//! Request headers (v1, v2) and response headers (v0, v1).

use super::api::ApiKey;
use super::error::{DecodeError, EncodeError};
use super::reader::Reader;
use super::writer::Writer;
use alloc::vec::Vec;

/// A request header. Version 1 for non-flexible request versions, version 2 (with tagged
/// fields) for flexible ones; the version follows from `api_key` and `api_version`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestHeader<'a> {
    /// The API of the request body (raw: a broker may receive keys it does not know).
    pub api_key: i16,
    /// The version of the request body.
    pub api_version: i16,
    /// Echoed in the response; matches responses to requests.
    pub correlation_id: i32,
    /// The client id (a classic nullable string in both header versions).
    pub client_id: Option<&'a str>,
}

impl<'a> RequestHeader<'a> {
    /// The header version this header is written in: 2 for a flexible version of a known API,
    /// else 1.
    pub fn version(&self) -> i16 {
        match ApiKey::from_i16(self.api_key) {
            Some(k) => k.request_header_version(self.api_version),
            None => 1,
        }
    }

    /// Appends the header.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_i16(self.api_key);
        out.put_i16(self.api_version);
        out.put_i32(self.correlation_id);
        out.put_nullable_string(false, self.client_id)?;
        if self.version() >= 2 {
            out.put_empty_tagged_fields();
        }
        Ok(())
    }

    /// Reads a header. The header version is derived from the key and version read; unknown
    /// keys are read as header v1 so that the caller can answer or close.
    pub fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let api_key = r.i16()?;
        let api_version = r.i16()?;
        let correlation_id = r.i32()?;
        let client_id = r.nullable_string(false)?;
        let h = RequestHeader { api_key, api_version, correlation_id, client_id };
        if h.version() >= 2 {
            r.skip_tagged_fields()?;
        }
        Ok(h)
    }
}

/// A response header: version 0 is the correlation id alone, version 1 adds tagged fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseHeader {
    /// The correlation id of the request this answers.
    pub correlation_id: i32,
}

impl ResponseHeader {
    /// Appends the header in `header_version` (0 or 1).
    pub fn encode(&self, header_version: i16, out: &mut Vec<u8>) {
        out.put_i32(self.correlation_id);
        if header_version >= 1 {
            out.put_empty_tagged_fields();
        }
    }

    /// Reads a header of `header_version` (0 or 1).
    pub fn decode(r: &mut Reader<'_>, header_version: i16) -> Result<Self, DecodeError> {
        let correlation_id = r.i32()?;
        if header_version >= 1 {
            r.skip_tagged_fields()?;
        }
        Ok(ResponseHeader { correlation_id })
    }
}
