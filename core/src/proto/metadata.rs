//! Metadata (key 3), versions 1-12. Flexible from v9.

use alloc::vec::Vec;

/// One topic asked for in a Metadata request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetadataRequestTopic<'a> {
    /// Topic id (v10+); all zero when unknown.
    pub topic_id: [u8; 16],
    /// Topic name (nullable from v10).
    pub name: Option<&'a str>,
}

/// Metadata request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataRequest<'a> {
    /// Topics to describe; `None` means all topics (an empty list means none).
    pub topics: Option<Vec<MetadataRequestTopic<'a>>>,
    /// Whether the broker may auto-create missing topics (v4+).
    pub allow_auto_topic_creation: bool,
    /// Whether to include cluster authorized operations (v8-10).
    pub include_cluster_authorized_operations: bool,
    /// Whether to include topic authorized operations (v8+).
    pub include_topic_authorized_operations: bool,
}

impl Default for MetadataRequest<'_> {
    fn default() -> Self {
        MetadataRequest {
            topics: Some(Vec::new()),
            allow_auto_topic_creation: true,
            include_cluster_authorized_operations: false,
            include_topic_authorized_operations: false,
        }
    }
}

/// A broker in a Metadata response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetadataBroker<'a> {
    /// Broker id.
    pub node_id: i32,
    /// Host name.
    pub host: &'a str,
    /// Port.
    pub port: i32,
    /// Rack, if any.
    pub rack: Option<&'a str>,
}

/// A partition in a Metadata response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetadataPartition {
    /// Partition error code.
    pub error_code: i16,
    /// Partition index.
    pub partition_index: i32,
    /// Leader broker id, -1 if none.
    pub leader_id: i32,
    /// Leader epoch (v7+), -1 if unknown.
    pub leader_epoch: i32,
    /// Replica broker ids.
    pub replica_nodes: Vec<i32>,
    /// In-sync replica broker ids.
    pub isr_nodes: Vec<i32>,
    /// Offline replica broker ids (v5+).
    pub offline_replicas: Vec<i32>,
}

/// A topic in a Metadata response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetadataTopic<'a> {
    /// Topic error code.
    pub error_code: i16,
    /// Topic name (nullable from v12).
    pub name: Option<&'a str>,
    /// Topic id (v10+).
    pub topic_id: [u8; 16],
    /// Whether the topic is internal.
    pub is_internal: bool,
    /// Partitions.
    pub partitions: Vec<MetadataPartition>,
    /// Topic authorized operations bit field (v8+), `i32::MIN` if not requested.
    pub topic_authorized_operations: i32,
}

/// Metadata response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetadataResponse<'a> {
    /// Throttle time in ms (v3+).
    pub throttle_time_ms: i32,
    /// Brokers.
    pub brokers: Vec<MetadataBroker<'a>>,
    /// Cluster id (v2+).
    pub cluster_id: Option<&'a str>,
    /// Controller broker id, -1 if none.
    pub controller_id: i32,
    /// Topics.
    pub topics: Vec<MetadataTopic<'a>>,
    /// Cluster authorized operations (v8-10), `i32::MIN` if not requested.
    pub cluster_authorized_operations: i32,
}
