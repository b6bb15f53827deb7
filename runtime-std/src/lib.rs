//! # idem-std
//!
//! Blocking driver of the idem core over `std::net` and threads: [`Producer`] (`Send + Sync`,
//! any number of producer threads), [`DeliveryHandle`] (wait, wait with timeout, or `.await`),
//! callbacks, `flush`, `close`. The runtime-independent pieces ([`Engine`], [`Reports`],
//! [`Config`], [`Record`]) are public so other runtimes (idem-smol) reuse them.
//!
//! - [`MockCluster`]: idem's in-memory Kafka cluster served over TCP, for tests and demos.
#![forbid(unsafe_code)]

pub use idem_core;

mod producer;
mod producer_config;
mod producer_conn;
mod producer_engine;
mod producer_report;

pub use idem_core::producer::{DeliveryError, FatalError, Persisted, ProducerMetrics, RecordId, SendError};
pub use producer::{CloseReport, FlushTimeout, Producer};
pub use producer_config::{Config, DEFAULT_MAX_BLOCK, Record, wall_clock_ms};
pub use producer_engine::{Clock, Engine, IoAction, core_duration};
pub use producer_report::{
    Completer, DeliveryCallback, DeliveryFailure, DeliveryHandle, DeliveryResult, Ready, RecordMetadata, ReportCounts,
    Reports, complete_all,
};

mod mock_cluster;
pub use mock_cluster::{MockCluster, MockClusterConfig};
