//! # idem-smol
//!
//! Async driver of the idem core for smol / async-io programs (no tokio anywhere in the
//! dependency graph): [`Producer`] with `send(&record).await` (waits for buffer space up to
//! `max.block.ms`) returning a [`DeliveryHandle`] you can `.await` for the record's report,
//! `try_send`, `send_with_callback`, `flush().await` (`flush_timeout`), `close().await`
//! (`close_timeout`). Connections are `Async<TcpStream>`, timers `async_io::Timer`; tasks run on
//! smol's global executor; delivery callbacks on the producer's own callback thread.
//!
//! Configuration, records and reports are idem-std's types, re-exported here.
//!
//! ```no_run
//! use idem_smol::{Config, Producer, Record};
//!
//! smol::block_on(async {
//!     let producer = Producer::new(Config::new("localhost:9092")?)?;
//!     // Waits (asynchronously) for buffer space up to max.block.ms; then a handle to await.
//!     let delivery = producer.send(&Record::new("events").value(b"hello")).await?;
//!     match delivery.await {
//!         Ok(meta) => println!("partition {} offset {:?}", meta.partition, meta.offset),
//!         Err(failure) => eprintln!("{failure}"),
//!     }
//!     producer.flush().await;
//!     let report = producer.close().await;
//!     println!("{:?}", report.counts);
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod conn;
mod producer;

pub use idem_core;
pub use idem_std::{
    CloseReport, Config, DeliveryError, DeliveryFailure, DeliveryHandle, DeliveryResult, FatalError, FlushTimeout,
    Persisted, ProducerMetrics, Record, RecordId, RecordMetadata, ReportCounts, SendError,
};
pub use producer::Producer;
