//! Fetch (key 1), versions 4-12. Flexible from v12. Needed by idem's broker so that real
//! consumers can read back what was produced.

use alloc::vec::Vec;

/// One partition asked for in a Fetch request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchPartition {
    /// Partition index.
    pub partition: i32,
    /// Current leader epoch (v9+), -1 if unknown.
    pub current_leader_epoch: i32,
    /// Offset to fetch from.
    pub fetch_offset: i64,
    /// Epoch of the last fetched record (v12+), -1 if unknown.
    pub last_fetched_epoch: i32,
    /// Follower's log start offset (v5+), -1 for consumers.
    pub log_start_offset: i64,
    /// Maximum bytes to return for this partition.
    pub partition_max_bytes: i32,
}

impl Default for FetchPartition {
    fn default() -> Self {
        FetchPartition {
            partition: 0,
            current_leader_epoch: -1,
            fetch_offset: 0,
            last_fetched_epoch: -1,
            log_start_offset: -1,
            partition_max_bytes: 0,
        }
    }
}

/// One topic asked for in a Fetch request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FetchTopic<'a> {
    /// Topic name.
    pub topic: &'a str,
    /// Partitions.
    pub partitions: Vec<FetchPartition>,
}

/// Topic partitions removed from an incremental fetch session (v7+).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ForgottenTopic<'a> {
    /// Topic name.
    pub topic: &'a str,
    /// Partition indexes.
    pub partitions: Vec<i32>,
}

/// Fetch request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchRequest<'a> {
    /// Cluster id (v12+, tagged field 0), if known.
    pub cluster_id: Option<&'a str>,
    /// Replica id: -1 for consumers.
    pub replica_id: i32,
    /// Maximum wait in ms.
    pub max_wait_ms: i32,
    /// Minimum bytes to accumulate.
    pub min_bytes: i32,
    /// Maximum bytes to return.
    pub max_bytes: i32,
    /// Isolation level: 0 read uncommitted, 1 read committed.
    pub isolation_level: i8,
    /// Fetch session id (v7+).
    pub session_id: i32,
    /// Fetch session epoch (v7+), -1 for full fetches without sessions.
    pub session_epoch: i32,
    /// Topics.
    pub topics: Vec<FetchTopic<'a>>,
    /// Forgotten topics (v7+).
    pub forgotten_topics_data: Vec<ForgottenTopic<'a>>,
    /// Rack id (v11+).
    pub rack_id: &'a str,
}

impl Default for FetchRequest<'_> {
    fn default() -> Self {
        FetchRequest {
            cluster_id: None,
            replica_id: -1,
            max_wait_ms: 0,
            min_bytes: 0,
            max_bytes: i32::MAX,
            isolation_level: 0,
            session_id: 0,
            session_epoch: -1,
            topics: Vec::new(),
            forgotten_topics_data: Vec::new(),
            rack_id: "",
        }
    }
}

/// An aborted transaction in a Fetch response (v4+).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AbortedTransaction {
    /// Producer id.
    pub producer_id: i64,
    /// First offset of the aborted transaction.
    pub first_offset: i64,
}

/// One partition's data in a Fetch response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchPartitionData<'a> {
    /// Partition index.
    pub partition_index: i32,
    /// Error code.
    pub error_code: i16,
    /// High watermark.
    pub high_watermark: i64,
    /// Last stable offset (v4+).
    pub last_stable_offset: i64,
    /// Log start offset (v5+).
    pub log_start_offset: i64,
    /// Aborted transactions (v4+); `None` is a null array.
    pub aborted_transactions: Option<Vec<AbortedTransaction>>,
    /// Preferred read replica (v11+), -1 if none.
    pub preferred_read_replica: i32,
    /// Record batches, borrowed.
    pub records: Option<&'a [u8]>,
}

impl Default for FetchPartitionData<'_> {
    fn default() -> Self {
        FetchPartitionData {
            partition_index: 0,
            error_code: 0,
            high_watermark: -1,
            last_stable_offset: -1,
            log_start_offset: -1,
            aborted_transactions: None,
            preferred_read_replica: -1,
            records: None,
        }
    }
}

/// One topic's data in a Fetch response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FetchableTopicResponse<'a> {
    /// Topic name.
    pub topic: &'a str,
    /// Partitions.
    pub partitions: Vec<FetchPartitionData<'a>>,
}

/// Fetch response. Tagged fields of v12 (diverging epoch, current leader, snapshot id) are
/// skipped on decode and not written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FetchResponse<'a> {
    /// Throttle time in ms.
    pub throttle_time_ms: i32,
    /// Top-level error code (v7+).
    pub error_code: i16,
    /// Fetch session id (v7+).
    pub session_id: i32,
    /// Topics.
    pub responses: Vec<FetchableTopicResponse<'a>>,
}
