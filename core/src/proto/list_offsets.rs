//! ListOffsets (key 2), versions 1-7. Flexible from v6. Needed by idem's broker so that real
//! consumers can find the start and end of a partition.

use alloc::vec::Vec;

/// Timestamp meaning "the latest offset" (log end).
pub const LATEST_TIMESTAMP: i64 = -1;
/// Timestamp meaning "the earliest offset" (log start).
pub const EARLIEST_TIMESTAMP: i64 = -2;

/// One partition asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListOffsetsPartition {
    /// Partition index.
    pub partition_index: i32,
    /// Current leader epoch (v4+), -1 if unknown.
    pub current_leader_epoch: i32,
    /// Target timestamp, or [`LATEST_TIMESTAMP`] / [`EARLIEST_TIMESTAMP`].
    pub timestamp: i64,
}

impl Default for ListOffsetsPartition {
    fn default() -> Self {
        ListOffsetsPartition { partition_index: 0, current_leader_epoch: -1, timestamp: LATEST_TIMESTAMP }
    }
}

/// One topic asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOffsetsTopic<'a> {
    /// Topic name.
    pub name: &'a str,
    /// Partitions.
    pub partitions: Vec<ListOffsetsPartition>,
}

/// ListOffsets request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListOffsetsRequest<'a> {
    /// Replica id: -1 for consumers.
    pub replica_id: i32,
    /// Isolation level (v2+).
    pub isolation_level: i8,
    /// Topics.
    pub topics: Vec<ListOffsetsTopic<'a>>,
}

impl Default for ListOffsetsRequest<'_> {
    fn default() -> Self {
        ListOffsetsRequest { replica_id: -1, isolation_level: 0, topics: Vec::new() }
    }
}

/// One partition's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListOffsetsPartitionResponse {
    /// Partition index.
    pub partition_index: i32,
    /// Error code.
    pub error_code: i16,
    /// Timestamp of the returned offset, -1 if none.
    pub timestamp: i64,
    /// The offset found.
    pub offset: i64,
    /// Leader epoch (v4+), -1 if unknown.
    pub leader_epoch: i32,
}

impl Default for ListOffsetsPartitionResponse {
    fn default() -> Self {
        ListOffsetsPartitionResponse { partition_index: 0, error_code: 0, timestamp: -1, offset: -1, leader_epoch: -1 }
    }
}

/// One topic's answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOffsetsTopicResponse<'a> {
    /// Topic name.
    pub name: &'a str,
    /// Partitions.
    pub partitions: Vec<ListOffsetsPartitionResponse>,
}

/// ListOffsets response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOffsetsResponse<'a> {
    /// Throttle time in ms (v2+).
    pub throttle_time_ms: i32,
    /// Topics.
    pub topics: Vec<ListOffsetsTopicResponse<'a>>,
}
