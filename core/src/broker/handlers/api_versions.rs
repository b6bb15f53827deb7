//! ApiVersions: the APIs and versions this broker serves.

use crate::broker::cluster::{Cluster, Reply, malformed, respond};
use crate::proto::api_versions::{ApiVersion, ApiVersionsRequest, ApiVersionsResponse};
use crate::proto::{ApiKey, ErrorCode, Message, Reader, VersionRange};
use alloc::string::String;
use alloc::vec::Vec;

/// The last version of AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and TxnOffsetCommit before
/// KIP-890 (v4 of the last three: TRANSACTION_ABORTABLE; EndTxn v5: transactions v2).
const LAST_TXN_V1_VERSION: i16 = 3;

impl Cluster {
    /// The versions of `key` this cluster serves: what idem negotiates
    /// ([`ApiKey::negotiated`]), capped by `ClusterConfig::max_versions`; the transaction APIs
    /// up to v3, below the versions of KIP-890 (TRANSACTION_ABORTABLE, transactions v2), since
    /// the coordinator follows transactions v1.
    pub(crate) fn served(&self, key: ApiKey) -> VersionRange {
        let mut range = key.negotiated();
        if key == ApiKey::SaslHandshake {
            // SaslHandshake v0 (raw tokens) is not served, as Kafka 4.0 (KIP-896).
            range.min = super::sasl::FIRST_HANDSHAKE_VERSION;
        }
        if key.is_transaction() {
            range.max = range.max.min(LAST_TXN_V1_VERSION);
        }
        let cap = self.config.max_versions.iter().filter(|(k, _)| *k == key).map(|(_, max)| *max).min();
        VersionRange { max: cap.map_or(range.max, |c| c.min(range.max)), ..range }
    }

    /// Whether this broker serves `key` at all: every API idem speaks, so that ApiVersions
    /// advertises exactly what is served.
    pub(crate) fn serves(&self, _key: ApiKey) -> bool {
        true
    }

    /// Every API this broker serves with its version range.
    fn supported_api_versions(&self) -> Vec<ApiVersion> {
        ApiKey::ALL
            .iter()
            .filter(|&&k| self.serves(k))
            .map(|&k| {
                let r = self.served(k);
                ApiVersion { api_key: k.as_i16(), min_version: r.min, max_version: r.max }
            })
            .collect()
    }

    /// Answers ApiVersions. A version above the supported range gets UNSUPPORTED_VERSION in a
    /// v0-shaped response (as Kafka does) so that the client can retry with a version it finds
    /// there.
    pub(crate) fn api_versions(&mut self, v: i16, corr: i32, r: &mut Reader<'_>) -> Result<Reply, String> {
        let range = self.served(ApiKey::ApiVersions);
        if !range.contains(v) {
            let body = ApiVersionsResponse {
                error_code: ErrorCode::UNSUPPORTED_VERSION.0,
                api_keys: self.supported_api_versions(),
                throttle_time_ms: 0,
                ..ApiVersionsResponse::default()
            };
            return respond(corr, 0, &body);
        }
        ApiVersionsRequest::decode(r, v).map_err(malformed(ApiKey::ApiVersions, v))?;
        let body = ApiVersionsResponse {
            error_code: ErrorCode::NONE.0,
            api_keys: self.supported_api_versions(),
            throttle_time_ms: 0,
            ..ApiVersionsResponse::default()
        };
        respond(corr, v, &body)
    }
}
