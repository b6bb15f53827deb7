//! Produce (key 0), versions 3-10. Flexible from v9. Since v3 each partition carries exactly
//! one RecordBatch (magic 2) in `records`.

use alloc::vec::Vec;

/// One partition's data in a Produce request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartitionProduceData<'a> {
    /// Partition index.
    pub index: i32,
    /// The encoded RecordBatch, borrowed.
    pub records: Option<&'a [u8]>,
}

/// One topic's data in a Produce request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopicProduceData<'a> {
    /// Topic name.
    pub name: &'a str,
    /// Partitions.
    pub partition_data: Vec<PartitionProduceData<'a>>,
}

/// Produce request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProduceRequest<'a> {
    /// Transactional id; `None` for idempotent-only producers.
    pub transactional_id: Option<&'a str>,
    /// Required acks: -1 all, 1 leader, 0 none.
    pub acks: i16,
    /// Timeout the broker waits for acks, in ms.
    pub timeout_ms: i32,
    /// Topics.
    pub topic_data: Vec<TopicProduceData<'a>>,
}

/// A per-record error in a Produce response (v8+).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchIndexAndErrorMessage<'a> {
    /// Index of the record in its batch.
    pub batch_index: i32,
    /// Error message for that record.
    pub batch_index_error_message: Option<&'a str>,
}

/// A leader hint (KIP-951, tagged field, v10+).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaderIdAndEpoch {
    /// Leader broker id, -1 if unknown.
    pub leader_id: i32,
    /// Leader epoch, -1 if unknown.
    pub leader_epoch: i32,
}

/// One partition's result in a Produce response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionProduceResponse<'a> {
    /// Partition index.
    pub index: i32,
    /// Error code.
    pub error_code: i16,
    /// Offset of the first record appended (or of the original append, for a duplicate).
    pub base_offset: i64,
    /// Log append time, -1 when CreateTime is used.
    pub log_append_time_ms: i64,
    /// Log start offset (v5+).
    pub log_start_offset: i64,
    /// Per-record errors (v8+).
    pub record_errors: Vec<BatchIndexAndErrorMessage<'a>>,
    /// Error message (v8+).
    pub error_message: Option<&'a str>,
    /// New leader hint (v10+, tagged field 0).
    pub current_leader: Option<LeaderIdAndEpoch>,
}

impl Default for PartitionProduceResponse<'_> {
    fn default() -> Self {
        PartitionProduceResponse {
            index: 0,
            error_code: 0,
            base_offset: -1,
            log_append_time_ms: -1,
            log_start_offset: -1,
            record_errors: Vec::new(),
            error_message: None,
            current_leader: None,
        }
    }
}

/// One topic's results in a Produce response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopicProduceResponse<'a> {
    /// Topic name.
    pub name: &'a str,
    /// Partitions.
    pub partition_responses: Vec<PartitionProduceResponse<'a>>,
}

/// A broker endpoint hint (KIP-951, tagged field, v10+).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeEndpoint<'a> {
    /// Broker id.
    pub node_id: i32,
    /// Host name.
    pub host: &'a str,
    /// Port.
    pub port: i32,
    /// Rack.
    pub rack: Option<&'a str>,
}

/// Produce response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProduceResponse<'a> {
    /// Topics.
    pub responses: Vec<TopicProduceResponse<'a>>,
    /// Throttle time in ms.
    pub throttle_time_ms: i32,
    /// Endpoints of brokers named in `current_leader` hints (v10+, tagged field 0).
    pub node_endpoints: Vec<NodeEndpoint<'a>>,
}
