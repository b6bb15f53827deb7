//! # idem-std
//!
//! Blocking driver of the idem core over `std::net` and threads. (Under construction.)
//!
//! - [`MockCluster`]: idem's in-memory Kafka cluster served over TCP, for tests and demos.
#![forbid(unsafe_code)]

pub use idem_core;

mod mock_cluster;
pub use mock_cluster::{MockCluster, MockClusterConfig};
