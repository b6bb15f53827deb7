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
    /// OffsetCommit (8).
    OffsetCommit = 8,
    /// OffsetFetch (9).
    OffsetFetch = 9,
    /// FindCoordinator (10).
    FindCoordinator = 10,
    /// JoinGroup (11).
    JoinGroup = 11,
    /// Heartbeat (12).
    Heartbeat = 12,
    /// LeaveGroup (13).
    LeaveGroup = 13,
    /// SyncGroup (14).
    SyncGroup = 14,
    /// DescribeGroups (15).
    DescribeGroups = 15,
    /// ListGroups (16).
    ListGroups = 16,
    /// SaslHandshake (17).
    SaslHandshake = 17,
    /// ApiVersions (18).
    ApiVersions = 18,
    /// InitProducerId (22).
    InitProducerId = 22,
    /// AddPartitionsToTxn (24).
    AddPartitionsToTxn = 24,
    /// AddOffsetsToTxn (25).
    AddOffsetsToTxn = 25,
    /// EndTxn (26).
    EndTxn = 26,
    /// TxnOffsetCommit (28).
    TxnOffsetCommit = 28,
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
    pub const ALL: [ApiKey; 21] = [
        ApiKey::Produce,
        ApiKey::Fetch,
        ApiKey::ListOffsets,
        ApiKey::Metadata,
        ApiKey::OffsetCommit,
        ApiKey::OffsetFetch,
        ApiKey::FindCoordinator,
        ApiKey::JoinGroup,
        ApiKey::Heartbeat,
        ApiKey::LeaveGroup,
        ApiKey::SyncGroup,
        ApiKey::DescribeGroups,
        ApiKey::ListGroups,
        ApiKey::SaslHandshake,
        ApiKey::ApiVersions,
        ApiKey::InitProducerId,
        ApiKey::AddPartitionsToTxn,
        ApiKey::AddOffsetsToTxn,
        ApiKey::EndTxn,
        ApiKey::TxnOffsetCommit,
        ApiKey::SaslAuthenticate,
    ];

    /// The key for a wire value, if idem speaks that API.
    pub const fn from_i16(key: i16) -> Option<ApiKey> {
        Some(match key {
            0 => ApiKey::Produce,
            1 => ApiKey::Fetch,
            2 => ApiKey::ListOffsets,
            3 => ApiKey::Metadata,
            8 => ApiKey::OffsetCommit,
            9 => ApiKey::OffsetFetch,
            10 => ApiKey::FindCoordinator,
            11 => ApiKey::JoinGroup,
            12 => ApiKey::Heartbeat,
            13 => ApiKey::LeaveGroup,
            14 => ApiKey::SyncGroup,
            15 => ApiKey::DescribeGroups,
            16 => ApiKey::ListGroups,
            17 => ApiKey::SaslHandshake,
            18 => ApiKey::ApiVersions,
            22 => ApiKey::InitProducerId,
            24 => ApiKey::AddPartitionsToTxn,
            25 => ApiKey::AddOffsetsToTxn,
            26 => ApiKey::EndTxn,
            28 => ApiKey::TxnOffsetCommit,
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
            ApiKey::OffsetCommit => "OffsetCommit",
            ApiKey::OffsetFetch => "OffsetFetch",
            ApiKey::FindCoordinator => "FindCoordinator",
            ApiKey::JoinGroup => "JoinGroup",
            ApiKey::Heartbeat => "Heartbeat",
            ApiKey::LeaveGroup => "LeaveGroup",
            ApiKey::SyncGroup => "SyncGroup",
            ApiKey::DescribeGroups => "DescribeGroups",
            ApiKey::ListGroups => "ListGroups",
            ApiKey::ApiVersions => "ApiVersions",
            ApiKey::InitProducerId => "InitProducerId",
            ApiKey::AddPartitionsToTxn => "AddPartitionsToTxn",
            ApiKey::AddOffsetsToTxn => "AddOffsetsToTxn",
            ApiKey::EndTxn => "EndTxn",
            ApiKey::TxnOffsetCommit => "TxnOffsetCommit",
            ApiKey::SaslHandshake => "SaslHandshake",
            ApiKey::SaslAuthenticate => "SaslAuthenticate",
        }
    }

    /// The versions idem encodes and decodes for this API (requests and responses alike).
    pub const fn supported(self) -> VersionRange {
        let (min, max) = match self {
            // v11-12 (KIP-890) have v10's shape.
            ApiKey::Produce => (3, 12),
            ApiKey::Fetch => (4, 12),
            ApiKey::ListOffsets => (1, 7),
            ApiKey::Metadata => (1, 12),
            // The consumer group APIs, at the versions of the classic group protocol (KIP-848's
            // later versions, member epochs, are not spoken).
            // OffsetCommit v0-1 and OffsetFetch v0 are gone since Kafka 4.0 (KIP-896).
            ApiKey::OffsetCommit => (2, 8),
            ApiKey::OffsetFetch => (1, 8),
            ApiKey::FindCoordinator => (0, 4),
            ApiKey::JoinGroup => (0, 9),
            ApiKey::Heartbeat => (0, 4),
            ApiKey::LeaveGroup => (0, 5),
            ApiKey::SyncGroup => (0, 5),
            ApiKey::DescribeGroups => (0, 5),
            ApiKey::ListGroups => (0, 4),
            ApiKey::ApiVersions => (0, 3),
            // v5 (KIP-890) has v4's shape; v6 (KIP-939, two-phase commit) is not spoken.
            ApiKey::InitProducerId => (0, 5),
            // The transaction APIs, at the versions a producer sends: AddPartitionsToTxn v4+ is
            // the brokers' batched form (KIP-890), not spoken.
            ApiKey::AddPartitionsToTxn => (0, 3),
            ApiKey::AddOffsetsToTxn => (0, 4),
            ApiKey::EndTxn => (0, 5),
            // v5 (KIP-890 part 2) has v4's shape.
            ApiKey::TxnOffsetCommit => (0, 5),
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
            ApiKey::OffsetCommit => 8,
            ApiKey::OffsetFetch => 6,
            ApiKey::FindCoordinator => 3,
            ApiKey::JoinGroup => 6,
            ApiKey::Heartbeat => 4,
            ApiKey::LeaveGroup => 4,
            ApiKey::SyncGroup => 4,
            ApiKey::DescribeGroups => 5,
            ApiKey::ListGroups => 3,
            ApiKey::ApiVersions => 3,
            ApiKey::InitProducerId => 2,
            ApiKey::AddPartitionsToTxn => 3,
            ApiKey::AddOffsetsToTxn => 3,
            ApiKey::EndTxn => 3,
            ApiKey::TxnOffsetCommit => 3,
            // SaslHandshake has no flexible version (i16::MAX: never).
            ApiKey::SaslHandshake => i16::MAX,
            ApiKey::SaslAuthenticate => 2,
        }
    }

    /// Whether this is one of the consumer group APIs (FindCoordinator, JoinGroup, SyncGroup,
    /// Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, ListGroups, DescribeGroups).
    pub const fn is_group(self) -> bool {
        matches!(
            self,
            ApiKey::OffsetCommit
                | ApiKey::OffsetFetch
                | ApiKey::FindCoordinator
                | ApiKey::JoinGroup
                | ApiKey::Heartbeat
                | ApiKey::LeaveGroup
                | ApiKey::SyncGroup
                | ApiKey::DescribeGroups
                | ApiKey::ListGroups
        )
    }

    /// Whether this is one of the transaction APIs (AddPartitionsToTxn, AddOffsetsToTxn, EndTxn,
    /// TxnOffsetCommit), which idem's broker serves through its transaction coordinator.
    pub const fn is_transaction(self) -> bool {
        matches!(self, ApiKey::AddPartitionsToTxn | ApiKey::AddOffsetsToTxn | ApiKey::EndTxn | ApiKey::TxnOffsetCommit)
    }

    /// The versions idem's clients pick from (the producer's `negotiate`), and the broker's
    /// base under transactions v1: [`supported`](Self::supported) except where the codec is
    /// ahead of what the producer implements: Produce v11-12, InitProducerId v5, EndTxn v5 and
    /// TxnOffsetCommit v5 (KIP-890: a client sending them handles TRANSACTION_ABORTABLE,
    /// Produce v12 and TxnOffsetCommit v5 add to a transaction implicitly, EndTxn v5 bumps the
    /// epoch), so Produce stops at v10, InitProducerId and EndTxn at v4, TxnOffsetCommit at v4.
    /// What idem's broker serves under transactions v2 is its own table
    /// (`Cluster::served`), so that the producer keeps speaking v1 against it.
    pub const fn negotiated(self) -> VersionRange {
        let supported = self.supported();
        let max = match self {
            ApiKey::Produce => 10,
            ApiKey::InitProducerId => 4,
            // v5 answers a new epoch after every transaction (KIP-890, transactions v2).
            ApiKey::EndTxn | ApiKey::TxnOffsetCommit => 4,
            _ => supported.max,
        };
        VersionRange { max, ..supported }
    }

    /// The first version of this API that works in transactions v2 (KIP-890 part 2): Produce
    /// v12 adds its partition to the transaction, TxnOffsetCommit v5 its group, EndTxn v5
    /// bumps the epoch and answers the next one. `None` for the other APIs.
    pub const fn first_transactions_v2_version(self) -> Option<i16> {
        match self {
            ApiKey::Produce => Some(12),
            ApiKey::TxnOffsetCommit | ApiKey::EndTxn => Some(5),
            _ => None,
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
