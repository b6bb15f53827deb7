//! ApiVersions v0-3 against `kafka-protocol` as an oracle, both message directions. The
//! response's v3 tagged fields are generated too: the KIP-584 features (spoken by idem, compared
//! field by field) and `ZkMigrationReady` (skipped by idem's decode, absent from its encoding).

mod kafka_protocol_oracle;

use idem_core::proto::api_versions::{
    ApiVersion, ApiVersionsRequest, ApiVersionsResponse, FinalizedFeature, SupportedFeature,
};
use kafka_protocol::messages::{self as kp, api_versions_response as kpr};
use kafka_protocol_oracle::{Oracle, check_request_frame, check_response_frame, sb, tags, text};
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 0..=3;

impl Oracle for kp::ApiVersionsRequest {
    type Idem<'a> = ApiVersionsRequest<'a>;

    fn to_idem(&self) -> ApiVersionsRequest<'_> {
        ApiVersionsRequest {
            client_software_name: self.client_software_name.as_str(),
            client_software_version: self.client_software_version.as_str(),
        }
    }

    fn assert_same(i: &ApiVersionsRequest<'_>, k: &Self) {
        assert_eq!(i.client_software_name, k.client_software_name.as_str());
        assert_eq!(i.client_software_version, k.client_software_version.as_str());
    }
}

impl Oracle for kp::ApiVersionsResponse {
    type Idem<'a> = ApiVersionsResponse;

    fn to_idem(&self) -> ApiVersionsResponse {
        ApiVersionsResponse {
            error_code: self.error_code,
            api_keys: self
                .api_keys
                .iter()
                .map(|k| ApiVersion { api_key: k.api_key, min_version: k.min_version, max_version: k.max_version })
                .collect(),
            throttle_time_ms: self.throttle_time_ms,
            supported_features: self
                .supported_features
                .iter()
                .map(|f| SupportedFeature {
                    name: f.name.to_string(),
                    min_version: f.min_version,
                    max_version: f.max_version,
                })
                .collect(),
            finalized_features_epoch: self.finalized_features_epoch,
            finalized_features: self
                .finalized_features
                .iter()
                .map(|f| FinalizedFeature {
                    name: f.name.to_string(),
                    max_version_level: f.max_version_level,
                    min_version_level: f.min_version_level,
                })
                .collect(),
        }
    }

    fn assert_same(i: &ApiVersionsResponse, k: &Self) {
        assert_eq!(i.error_code, k.error_code);
        assert_eq!(i.api_keys.len(), k.api_keys.len());
        for (a, b) in i.api_keys.iter().zip(&k.api_keys) {
            assert_eq!(a.api_key, b.api_key);
            assert_eq!(a.min_version, b.min_version);
            assert_eq!(a.max_version, b.max_version);
        }
        assert_eq!(i.throttle_time_ms, k.throttle_time_ms);
        let supported: Vec<(&str, i16, i16)> =
            k.supported_features.iter().map(|f| (f.name.as_str(), f.min_version, f.max_version)).collect();
        let idem: Vec<(&str, i16, i16)> =
            i.supported_features.iter().map(|f| (f.name.as_str(), f.min_version, f.max_version)).collect();
        assert_eq!(idem, supported);
        assert_eq!(i.finalized_features_epoch, k.finalized_features_epoch);
        let finalized: Vec<(&str, i16, i16)> =
            k.finalized_features.iter().map(|f| (f.name.as_str(), f.max_version_level, f.min_version_level)).collect();
        let idem: Vec<(&str, i16, i16)> =
            i.finalized_features.iter().map(|f| (f.name.as_str(), f.max_version_level, f.min_version_level)).collect();
        assert_eq!(idem, finalized);
    }
}

fn request(v: i16) -> BoxedStrategy<kp::ApiVersionsRequest> {
    (text(), text(), tags(v >= 3))
        .prop_map(move |(name, version, tags)| {
            let mut k = kp::ApiVersionsRequest::default();
            if v >= 3 {
                k.client_software_name = sb(&name);
                k.client_software_version = sb(&version);
            }
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

fn api_version(flexible: bool) -> impl Strategy<Value = kpr::ApiVersion> {
    (any::<i16>(), any::<i16>(), any::<i16>(), tags(flexible)).prop_map(|(key, min, max, tags)| {
        let mut a = kpr::ApiVersion::default();
        a.api_key = key;
        a.min_version = min;
        a.max_version = max;
        a.unknown_tagged_fields = tags;
        a
    })
}

fn features() -> impl Strategy<Value = (Vec<kpr::SupportedFeatureKey>, i64, Vec<kpr::FinalizedFeatureKey>, bool)> {
    let supported = proptest::collection::vec((text(), any::<i16>(), any::<i16>()), 0..3).prop_map(|v| {
        v.into_iter()
            .map(|(n, lo, hi)| {
                let mut f = kpr::SupportedFeatureKey::default();
                f.name = sb(&n);
                f.min_version = lo;
                f.max_version = hi;
                f
            })
            .collect()
    });
    let finalized = proptest::collection::vec((text(), any::<i16>(), any::<i16>()), 0..3).prop_map(|v| {
        v.into_iter()
            .map(|(n, hi, lo)| {
                let mut f = kpr::FinalizedFeatureKey::default();
                f.name = sb(&n);
                f.max_version_level = hi;
                f.min_version_level = lo;
                f
            })
            .collect()
    });
    (supported, prop_oneof![Just(-1i64), any::<i64>()], finalized, any::<bool>())
}

fn response(v: i16) -> BoxedStrategy<kp::ApiVersionsResponse> {
    let flexible = v >= 3;
    (
        any::<i16>(),
        proptest::collection::vec(api_version(flexible), 0..8),
        any::<i32>(),
        features(),
        any::<bool>(),
        tags(flexible),
    )
        .prop_map(move |(error, keys, throttle, (supported, epoch, finalized, zk), with_features, tags)| {
            let mut k = kp::ApiVersionsResponse::default();
            k.error_code = error;
            k.api_keys = keys;
            if v >= 1 {
                k.throttle_time_ms = throttle;
            }
            if flexible && with_features {
                k.supported_features = supported;
                k.finalized_features_epoch = epoch;
                k.finalized_features = finalized;
                k.zk_migration_ready = zk;
            }
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

oracle_tests!(VERSIONS, request, response);

#[test]
fn frames() {
    let mut req = kp::ApiVersionsRequest::default();
    req.client_software_name = sb("idem");
    req.client_software_version = sb("0.1.0");
    check_request_frame::<kp::ApiVersionsRequest>(&req.to_idem(), 3, 0x1234_5678);
    check_request_frame::<kp::ApiVersionsRequest>(&kp::ApiVersionsRequest::default().to_idem(), 0, 0x1234_5678);
    let mut resp = kp::ApiVersionsResponse::default();
    let mut key = kpr::ApiVersion::default();
    key.api_key = 0;
    key.min_version = 3;
    key.max_version = 11;
    resp.api_keys.push(key);
    resp.throttle_time_ms = 10;
    // ApiVersions responses use header v0 even when the body is flexible.
    check_response_frame(&resp, 3, -77);
    check_response_frame(&resp, 1, -77);
}
