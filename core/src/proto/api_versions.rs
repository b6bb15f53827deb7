//! ApiVersions (key 18), versions 0-3. Flexible from v3; the response header is always v0.
//!
//! A broker that does not support the requested version answers UNSUPPORTED_VERSION in a
//! v0-shaped body listing its ApiVersions range; clients retry with a lower version.

use alloc::vec::Vec;

/// ApiVersions request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiVersionsRequest<'a> {
    /// The client's software name (v3+; not sent below).
    pub client_software_name: &'a str,
    /// The client's software version (v3+; not sent below).
    pub client_software_version: &'a str,
}

/// One API a broker supports and its version range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ApiVersion {
    /// The API key.
    pub api_key: i16,
    /// Lowest supported version.
    pub min_version: i16,
    /// Highest supported version.
    pub max_version: i16,
}

/// ApiVersions response. Tagged fields of v3 (features, ZK migration) are skipped on decode and
/// not written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiVersionsResponse {
    /// Top-level error code.
    pub error_code: i16,
    /// The APIs supported by the broker.
    pub api_keys: Vec<ApiVersion>,
    /// Throttle time in ms (v1+).
    pub throttle_time_ms: i32,
}

use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

impl<'a> Message<'a> for ApiVersionsRequest<'a> {
    const API_KEY: ApiKey = ApiKey::ApiVersions;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        if version >= 3 {
            out.put_string(flexible, self.client_software_name)?;
            out.put_string(flexible, self.client_software_version)?;
        }
        if flexible {
            out.put_empty_tagged_fields();
        }
        Ok(())
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = ApiVersionsRequest::default();
        if version >= 3 {
            m.client_software_name = r.string(flexible)?;
            m.client_software_version = r.string(flexible)?;
        }
        if flexible {
            r.skip_tagged_fields()?;
        }
        Ok(m)
    }
}

impl<'a> Message<'a> for ApiVersionsResponse {
    const API_KEY: ApiKey = ApiKey::ApiVersions;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        out.put_i16(self.error_code);
        out.put_array_len(flexible, Some(self.api_keys.len()))?;
        for k in &self.api_keys {
            out.put_i16(k.api_key);
            out.put_i16(k.min_version);
            out.put_i16(k.max_version);
            if flexible {
                out.put_empty_tagged_fields();
            }
        }
        if version >= 1 {
            out.put_i32(self.throttle_time_ms);
        }
        if flexible {
            out.put_empty_tagged_fields();
        }
        Ok(())
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let error_code = r.i16()?;
        let api_keys = r.array_of(flexible, 6, |r| {
            let k = ApiVersion { api_key: r.i16()?, min_version: r.i16()?, max_version: r.i16()? };
            if flexible {
                r.skip_tagged_fields()?;
            }
            Ok(k)
        })?;
        let throttle_time_ms = if version >= 1 { r.i32()? } else { 0 };
        if flexible {
            r.skip_tagged_fields()?;
        }
        Ok(ApiVersionsResponse { error_code, api_keys, throttle_time_ms })
    }
}
