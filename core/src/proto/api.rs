//! API keys, the versions idem speaks, and which versions are flexible (KIP-482).

use super::error::{DecodeError, EncodeError};

/// The Kafka APIs idem encodes and decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(i16)]
pub enum ApiKey {
    /// Produce (0).
    Produce = 0,
    /// Fetch (1).
    Fetch = 1,
    /// ListOffsets (2).
    ListOffsets = 2,
    /// Metadata (3).
    Metadata = 3,
    /// SaslHandshake (17).
    SaslHandshake = 17,
    /// ApiVersions (18).
    ApiVersions = 18,
    /// InitProducerId (22).
    InitProducerId = 22,
    /// SaslAuthenticate (36).
    SaslAuthenticate = 36,
}

/// An inclusive range of message versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionRange {
    /// Lowest version.
    pub min: i16,
    /// Highest version.
    pub max: i16,
}

impl VersionRange {
    /// Whether `v` is within the range.
    pub const fn contains(self, v: i16) -> bool {
        v >= self.min && v <= self.max
    }

    /// The highest version in both ranges, if they overlap.
    pub fn highest_common(self, other: VersionRange) -> Option<i16> {
        let hi = self.max.min(other.max);
        (hi >= self.min.max(other.min)).then_some(hi)
    }
}

impl ApiKey {
    /// Every API idem speaks, in key order.
    pub const ALL: [ApiKey; 8] = [
        ApiKey::Produce,
        ApiKey::Fetch,
        ApiKey::ListOffsets,
        ApiKey::Metadata,
        ApiKey::SaslHandshake,
        ApiKey::ApiVersions,
        ApiKey::InitProducerId,
        ApiKey::SaslAuthenticate,
    ];

    /// The key for a wire value, if idem speaks that API.
    pub const fn from_i16(key: i16) -> Option<ApiKey> {
        Some(match key {
            0 => ApiKey::Produce,
            1 => ApiKey::Fetch,
            2 => ApiKey::ListOffsets,
            3 => ApiKey::Metadata,
            17 => ApiKey::SaslHandshake,
            18 => ApiKey::ApiVersions,
            22 => ApiKey::InitProducerId,
            36 => ApiKey::SaslAuthenticate,
            _ => return None,
        })
    }

    /// The wire value.
    pub const fn as_i16(self) -> i16 {
        self as i16
    }

    /// Kafka's name for the API.
    pub const fn name(self) -> &'static str {
        match self {
            ApiKey::Produce => "Produce",
            ApiKey::Fetch => "Fetch",
            ApiKey::ListOffsets => "ListOffsets",
            ApiKey::Metadata => "Metadata",
            ApiKey::ApiVersions => "ApiVersions",
            ApiKey::InitProducerId => "InitProducerId",
            ApiKey::SaslHandshake => "SaslHandshake",
            ApiKey::SaslAuthenticate => "SaslAuthenticate",
        }
    }

    /// The versions idem encodes and decodes for this API (requests and responses alike).
    pub const fn supported(self) -> VersionRange {
        let (min, max) = match self {
            ApiKey::Produce => (3, 10),
            ApiKey::Fetch => (4, 12),
            ApiKey::ListOffsets => (1, 7),
            ApiKey::Metadata => (1, 12),
            ApiKey::ApiVersions => (0, 3),
            ApiKey::InitProducerId => (0, 4),
            ApiKey::SaslHandshake => (0, 1),
            ApiKey::SaslAuthenticate => (0, 2),
        };
        VersionRange { min, max }
    }

    /// The first flexible version (tagged fields, compact encodings, header v2/v1).
    pub const fn first_flexible(self) -> i16 {
        match self {
            ApiKey::Produce => 9,
            ApiKey::Fetch => 12,
            ApiKey::ListOffsets => 6,
            ApiKey::Metadata => 9,
            ApiKey::ApiVersions => 3,
            ApiKey::InitProducerId => 2,
            // SaslHandshake has no flexible version (i16::MAX: never).
            ApiKey::SaslHandshake => i16::MAX,
            ApiKey::SaslAuthenticate => 2,
        }
    }

    /// Whether `version` of this API is flexible.
    pub const fn is_flexible(self, version: i16) -> bool {
        version >= self.first_flexible()
    }

    /// The request header version for `version`: 2 when flexible, else 1.
    pub const fn request_header_version(self, version: i16) -> i16 {
        if self.is_flexible(version) { 2 } else { 1 }
    }

    /// The response header version for `version`: 1 when flexible, else 0. ApiVersions
    /// responses always use header v0 so that a client can parse them before it knows what the
    /// broker supports.
    pub const fn response_header_version(self, version: i16) -> i16 {
        match self {
            ApiKey::ApiVersions => 0,
            _ if self.is_flexible(version) => 1,
            _ => 0,
        }
    }

    /// `Ok(flexible)` if idem supports `version` of this API, else a decode error.
    pub fn check_decode(self, version: i16) -> Result<bool, DecodeError> {
        if self.supported().contains(version) {
            Ok(self.is_flexible(version))
        } else {
            Err(DecodeError::UnsupportedVersion { api_key: self.as_i16(), version })
        }
    }

    /// `Ok(flexible)` if idem supports `version` of this API, else an encode error.
    pub fn check_encode(self, version: i16) -> Result<bool, EncodeError> {
        if self.supported().contains(version) {
            Ok(self.is_flexible(version))
        } else {
            Err(EncodeError::UnsupportedVersion { api_key: self.as_i16(), version })
        }
    }
}
