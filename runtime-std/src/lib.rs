//! # idem-std
//!
//! Blocking driver of the idem core over `std::net` and threads: [`Producer`] (`Send + Sync`,
//! any number of producer threads), [`DeliveryHandle`] (wait, wait with timeout, or `.await`),
//! callbacks (run on the producer's callback thread), `flush`, `close`. The runtime-independent
//! pieces ([`Engine`], [`Reports`], [`CallbackQueue`], [`Config`], [`Record`]) are public so
//! other runtimes (idem-smol) reuse them.
//!
//! ```no_run
//! use std::time::Duration;
//! use idem_std::{Config, Producer, Record};
//!
//! let config = Config::new("localhost:9092")?.with("linger.ms", "5")?.with("max.block.ms", "1000")?;
//! let producer = Producer::new(config)?;
//! // Blocks up to max.block.ms while buffer.memory is full; errors mean "not accepted".
//! let handle = producer.send(&Record::new("events").key(b"k").value(b"hello"))?;
//! producer.send_with_callback(&Record::new("events").value(b"again"), |report| {
//!     if let Err(failure) = report {
//!         eprintln!("{failure}"); // says whether it may be in the log anyway
//!     }
//! })?;
//! match handle.wait() {
//!     Ok(meta) => println!("partition {} offset {:?}", meta.partition, meta.offset),
//!     Err(failure) => eprintln!("{failure}"),
//! }
//! producer.flush(Duration::from_secs(10))?;
//! let report = producer.close(Duration::from_secs(10)); // then fails what is left
//! assert!(report.all_delivered());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub use idem_core;

mod producer;
mod producer_callbacks;
mod producer_config;
mod producer_conn;
mod producer_engine;
mod producer_report;

pub use idem_core::producer::{DeliveryError, FatalError, Persisted, ProducerMetrics, RecordId, SendError};
pub use producer::{CloseReport, FlushTimeout, Producer};
pub use producer_callbacks::CallbackQueue;
pub use producer_config::{Config, DEFAULT_MAX_BLOCK, Record, wall_clock_ms};
pub use producer_engine::{Clock, Engine, IoAction, Settle, core_duration};
pub use producer_report::{
    Completer, DeliveryCallback, DeliveryFailure, DeliveryHandle, DeliveryResult, Ready, RecordMetadata, ReportCounts,
    Reports, complete_all,
};
