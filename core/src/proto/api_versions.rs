//! ApiVersions (key 18), versions 0-3. Flexible from v3; the response header is always v0.
//!
//! A broker that does not support the requested version answers UNSUPPORTED_VERSION in a
//! v0-shaped body listing its ApiVersions range; clients retry with a lower version.
//!
//! The response's v3 tagged fields of KIP-584 (feature versioning) are spoken: tag 0
//! `SupportedFeatures`, tag 1 `FinalizedFeaturesEpoch`, tag 2 `FinalizedFeatures` (Kafka's
//! `ApiVersionsResponse`); tag 3 `ZkMigrationReady` is skipped on decode and never written.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// The `SupportedFeatures` tag of the v3+ response (KIP-584).
const TAG_SUPPORTED_FEATURES: u32 = 0;
/// The `FinalizedFeaturesEpoch` tag of the v3+ response (KIP-584).
const TAG_FINALIZED_FEATURES_EPOCH: u32 = 1;
/// The `FinalizedFeatures` tag of the v3+ response (KIP-584).
const TAG_FINALIZED_FEATURES: u32 = 2;
/// `FinalizedFeaturesEpoch` when the broker reports no finalized features (Kafka's default):
/// the tagged field is then not written.
pub const NO_FEATURES_EPOCH: i64 = -1;
/// Fewest bytes a feature entry takes: empty compact name, two i16, empty tags.
const MIN_FEATURE_BYTES: usize = 6;

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

/// A feature the broker's software supports and its level range (KIP-584's
/// `SupportedFeatureKey`), e.g. `transaction.version` 0-2 on Kafka 4.0.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SupportedFeature {
    /// The feature's name.
    pub name: String,
    /// Lowest supported level.
    pub min_version: i16,
    /// Highest supported level.
    pub max_version: i16,
}

/// The name of KIP-890's feature: finalized at level 2 or more, the cluster runs transactions
/// v2 (Kafka's `TransactionVersion.FEATURE_NAME`).
pub const TRANSACTION_VERSION_FEATURE: &str = "transaction.version";

/// A feature finalized cluster-wide at a level (KIP-584's `FinalizedFeatureKey`), e.g.
/// `transaction.version` = 2 (KIP-890's transactions v2). Kafka writes the same level in both
/// fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FinalizedFeature {
    /// The feature's name.
    pub name: String,
    /// The finalized level (the highest).
    pub max_version_level: i16,
    /// The lowest finalized level.
    pub min_version_level: i16,
}

/// ApiVersions response. Of the v3 tagged fields the KIP-584 features are spoken (written only
/// when set, as Kafka); `ZkMigrationReady` is skipped on decode and not written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiVersionsResponse {
    /// Top-level error code.
    pub error_code: i16,
    /// The APIs supported by the broker.
    pub api_keys: Vec<ApiVersion>,
    /// Throttle time in ms (v1+).
    pub throttle_time_ms: i32,
    /// The features the broker supports (v3+ tag 0; empty: not written).
    pub supported_features: Vec<SupportedFeature>,
    /// The epoch of the finalized features (v3+ tag 1; [`NO_FEATURES_EPOCH`]: not written).
    /// Clients take the finalized features of the highest epoch they have seen.
    pub finalized_features_epoch: i64,
    /// The cluster-wide finalized features (v3+ tag 2; empty: not written).
    pub finalized_features: Vec<FinalizedFeature>,
}

impl ApiVersionsResponse {
    /// The level at which feature `name` is finalized; `None` if it is not (a broker before
    /// v3, or one that leaves the feature at level 0).
    pub fn finalized_level(&self, name: &str) -> Option<i16> {
        self.finalized_features.iter().find(|f| f.name == name).map(|f| f.max_version_level)
    }
}

impl Default for ApiVersionsResponse {
    /// No error, no APIs, no features ([`NO_FEATURES_EPOCH`]).
    fn default() -> Self {
        ApiVersionsResponse {
            error_code: 0,
            api_keys: Vec::new(),
            throttle_time_ms: 0,
            supported_features: Vec::new(),
            finalized_features_epoch: NO_FEATURES_EPOCH,
            finalized_features: Vec::new(),
        }
    }
}

/// Writes a compact array of feature entries `(name, first level, second level)` in wire order.
fn put_features(out: &mut Vec<u8>, entries: &[(&str, i16, i16)]) -> Result<(), EncodeError> {
    out.put_array_len(true, Some(entries.len()))?;
    for (name, a, b) in entries {
        out.put_string(true, name)?;
        out.put_i16(*a);
        out.put_i16(*b);
        out.put_empty_tagged_fields();
    }
    Ok(())
}

/// Reads the value of a feature-array tagged field, which must fill `data` exactly: entries
/// `(name, first level, second level)` in wire order.
fn features(data: &[u8]) -> Result<Vec<(String, i16, i16)>, DecodeError> {
    let mut d = Reader::new(data);
    let entries = d.array_of(true, MIN_FEATURE_BYTES, |d| {
        let e = (d.string(true)?.to_string(), d.i16()?, d.i16()?);
        d.skip_tagged_fields()?;
        Ok(e)
    })?;
    d.finish()?;
    Ok(entries)
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
            self.put_feature_tags(out)?;
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
        let mut m = ApiVersionsResponse { error_code, api_keys, throttle_time_ms, ..ApiVersionsResponse::default() };
        if flexible {
            r.tagged_fields(|tag, data| {
                match tag {
                    TAG_SUPPORTED_FEATURES => {
                        m.supported_features = features(data)?
                            .into_iter()
                            .map(|(name, min_version, max_version)| SupportedFeature { name, min_version, max_version })
                            .collect();
                    }
                    TAG_FINALIZED_FEATURES_EPOCH => {
                        let mut d = Reader::new(data);
                        m.finalized_features_epoch = d.i64()?;
                        d.finish()?;
                    }
                    TAG_FINALIZED_FEATURES => {
                        m.finalized_features = features(data)?
                            .into_iter()
                            .map(|(name, max_version_level, min_version_level)| FinalizedFeature {
                                name,
                                max_version_level,
                                min_version_level,
                            })
                            .collect();
                    }
                    _ => {}
                }
                Ok(())
            })?;
        }
        Ok(m)
    }
}

impl ApiVersionsResponse {
    /// The v3+ tagged-field section: the KIP-584 features that are set, in tag order.
    fn put_feature_tags(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let supported = !self.supported_features.is_empty();
        let epoch = self.finalized_features_epoch != NO_FEATURES_EPOCH;
        let finalized = !self.finalized_features.is_empty();
        out.put_uvarint(u32::from(supported) + u32::from(epoch) + u32::from(finalized));
        let mut data = Vec::new();
        if supported {
            let entries: Vec<(&str, i16, i16)> =
                self.supported_features.iter().map(|f| (f.name.as_str(), f.min_version, f.max_version)).collect();
            put_features(&mut data, &entries)?;
            out.put_tagged_field(TAG_SUPPORTED_FEATURES, &data)?;
        }
        if epoch {
            data.clear();
            data.put_i64(self.finalized_features_epoch);
            out.put_tagged_field(TAG_FINALIZED_FEATURES_EPOCH, &data)?;
        }
        if finalized {
            data.clear();
            let entries: Vec<(&str, i16, i16)> = self
                .finalized_features
                .iter()
                .map(|f| (f.name.as_str(), f.max_version_level, f.min_version_level))
                .collect();
            put_features(&mut data, &entries)?;
            out.put_tagged_field(TAG_FINALIZED_FEATURES, &data)?;
        }
        Ok(())
    }
}
