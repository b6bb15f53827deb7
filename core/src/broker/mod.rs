//! The broker side of idempotence: the sequence validator that makes the dedup decisions, and
//! an in-memory Kafka-compatible broker built on it.

mod cluster;
mod config;
mod conn;
mod control;
mod deadlines;
mod faults;
// Not yet wired to requests: the handlers of the group APIs will use it.
#[cfg_attr(not(test), allow(dead_code))]
mod group;
mod handlers;
mod log;
mod sasl;
mod snapshot;
mod topics;
mod txn;
mod validator;

pub use cluster::{BrokerInput, BrokerOutput, Cluster, ClusterStats};
pub use config::{
    BrokerAddress, ClusterConfig, ConfigError, DuplicateAnswer, ProducerIdPolicy, TopicConfig, TransactionVersion,
    check_topic,
};
pub use conn::ConnId;
pub use control::{ControlError, RestartMode};
pub use faults::{BounceSpec, DelaySpec, FaultSpec, FaultSpecError};
pub use log::{CommittedRecord, PartitionLog, StoredBatch};
pub use sasl::{SaslServerConfig, SaslUser};
pub use snapshot::SnapshotError;
pub use validator::{
    BatchInfo, BatchMetadata, Decision, ProducerStateEntry, ProducerStateTable, UnknownProducerPolicy, ValidatorConfig,
    WINDOW,
};
#[cfg(test)]
mod fuzz_tests;
#[cfg(all(test, feature = "sasl"))]
mod sasl_tests;
#[cfg(test)]
pub(crate) mod test_util;
