//! ApiVersions: the APIs and versions this broker serves.

use crate::broker::cluster::{Cluster, Reply, malformed, respond};
use crate::broker::config::TransactionVersion;
use crate::proto::api_versions::{
    ApiVersion, ApiVersionsRequest, ApiVersionsResponse, FinalizedFeature, SupportedFeature,
};
use crate::proto::{ApiKey, ErrorCode, Message, Reader, VersionRange};
use alloc::string::String;
use alloc::vec::Vec;

/// The last version of AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and TxnOffsetCommit before
/// KIP-890 (v4 of the last three: TRANSACTION_ABORTABLE; EndTxn v5: transactions v2).
const LAST_TXN_V1_VERSION: i16 = 3;

/// The epoch of the finalized features this broker advertises (Kafka's is the metadata log
/// offset they were read at). Never [`NO_FEATURES_EPOCH`](crate::proto::api_versions::NO_FEATURES_EPOCH): clients keep the finalized features
/// of the highest epoch seen (the Java client's `ApiVersions`), starting from it.
const FINALIZED_FEATURES_EPOCH: i64 = 1;

/// Whether KIP-890 changed `key`'s versions for transactions: the transaction APIs, Produce
/// (v11-12) and InitProducerId (v5).
fn is_transactional_api(key: ApiKey) -> bool {
    key.is_transaction() || matches!(key, ApiKey::Produce | ApiKey::InitProducerId)
}

impl Cluster {
    /// The versions of `key` this cluster serves, capped by `ClusterConfig::max_versions`.
    /// Under transactions v1 (the default): what idem's producer negotiates
    /// ([`ApiKey::negotiated`]), the transaction APIs up to v3, below the versions of KIP-890
    /// (TRANSACTION_ABORTABLE, transactions v2). Under transactions v2: also the versions of
    /// KIP-890 the codec speaks (Produce v12, InitProducerId v5, AddOffsetsToTxn v4, EndTxn v5,
    /// TxnOffsetCommit v5), which idem's producer does not pick.
    pub(crate) fn served(&self, key: ApiKey) -> VersionRange {
        let mut range = key.negotiated();
        if key == ApiKey::SaslHandshake {
            // SaslHandshake v0 (raw tokens) is not served, as Kafka 4.0 (KIP-896).
            range.min = super::sasl::FIRST_HANDSHAKE_VERSION;
        }
        if self.config.transaction_version == TransactionVersion::V2 {
            if is_transactional_api(key) {
                // Transactions v2: every version the codec speaks (AddPartitionsToTxn stops at
                // v3, the clients' form; v4+ is the brokers' batched one).
                range.max = key.supported().max;
            }
        } else if key.is_transaction() {
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
    /// there. From v3 the answer carries the KIP-584 features: `transaction.version` supported
    /// 0-2 and finalized at the cluster's level (1 or 2). Kafka 4.0 finalizes a level 1 as 1
    /// (only a level 0 is left out), so transactions v1 is advertised as 1, not omitted; the
    /// other features Kafka finalizes (`metadata.version`, `group.version`, ...) are not
    /// modelled and not advertised.
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
        let level = self.config.transaction_version.level();
        let body = ApiVersionsResponse {
            error_code: ErrorCode::NONE.0,
            api_keys: self.supported_api_versions(),
            throttle_time_ms: 0,
            supported_features: alloc::vec![SupportedFeature {
                name: String::from(TransactionVersion::FEATURE_NAME),
                min_version: TransactionVersion::MIN_SUPPORTED_LEVEL,
                max_version: TransactionVersion::MAX_SUPPORTED_LEVEL,
            }],
            finalized_features_epoch: FINALIZED_FEATURES_EPOCH,
            finalized_features: alloc::vec![FinalizedFeature {
                name: String::from(TransactionVersion::FEATURE_NAME),
                max_version_level: level,
                min_version_level: level,
            }],
        };
        respond(corr, v, &body)
    }
}
