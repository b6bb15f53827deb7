//! ApiVersions: the APIs and versions this broker serves.

use crate::broker::cluster::{Cluster, Reply, malformed, respond};
use crate::proto::api_versions::{ApiVersion, ApiVersionsRequest, ApiVersionsResponse};
use crate::proto::{ApiKey, ErrorCode, Message, Reader};
use alloc::string::String;
use alloc::vec::Vec;

/// Every API this broker serves with its version range.
pub(crate) fn supported_api_versions() -> Vec<ApiVersion> {
    ApiKey::ALL
        .iter()
        .map(|k| {
            let min = match k {
                ApiKey::SaslHandshake => super::sasl::FIRST_HANDSHAKE_VERSION,
                _ => k.supported().min,
            };
            ApiVersion { api_key: k.as_i16(), min_version: min, max_version: k.supported().max }
        })
        .collect()
}

impl Cluster {
    /// Answers ApiVersions. A version above the supported range gets UNSUPPORTED_VERSION in a
    /// v0-shaped response (as Kafka does) so that the client can retry with a version it finds
    /// there.
    pub(crate) fn api_versions(&mut self, v: i16, corr: i32, r: &mut Reader<'_>) -> Result<Reply, String> {
        let range = ApiKey::ApiVersions.supported();
        if !range.contains(v) {
            let body = ApiVersionsResponse {
                error_code: ErrorCode::UNSUPPORTED_VERSION.0,
                api_keys: supported_api_versions(),
                throttle_time_ms: 0,
            };
            return respond(corr, 0, &body);
        }
        ApiVersionsRequest::decode(r, v).map_err(malformed(ApiKey::ApiVersions, v))?;
        let body = ApiVersionsResponse {
            error_code: ErrorCode::NONE.0,
            api_keys: supported_api_versions(),
            throttle_time_ms: 0,
        };
        respond(corr, v, &body)
    }
}
