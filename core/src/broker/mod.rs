//! The broker side of idempotence: the sequence validator that makes the dedup decisions, and
//! an in-memory Kafka-compatible broker built on it.

pub mod snapshot;
pub mod validator;

pub mod cluster;
pub mod config;
pub mod conn;
pub mod control;
pub mod faults;
mod handlers;
pub mod log;
pub mod topics;

pub use cluster::{BrokerInput, BrokerOutput, Cluster, ClusterStats};
pub use config::{BrokerAddress, ClusterConfig, ConfigError, DuplicateAnswer, ProducerIdPolicy, TopicConfig};
pub use conn::ConnId;
pub use control::{ControlError, RestartMode};
pub use faults::{FaultSpec, FaultSpecError};
#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod test_util;
