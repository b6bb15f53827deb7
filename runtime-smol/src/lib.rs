//! # idem-smol
//!
//! Async driver of the idem core for smol / async-io programs (no tokio anywhere in the
//! dependency graph): [`Producer`] with `send(&record).await` (waits for buffer space up to
//! `max.block.ms`) returning a [`DeliveryHandle`] you can `.await` for the record's report,
//! `try_send`, `send_with_callback`, `flush().await`, `close().await`. Connections are
//! `Async<TcpStream>`, timers `async_io::Timer`; tasks run on smol's global executor.
//!
//! Configuration, records and reports are idem-std's types, re-exported here.
#![forbid(unsafe_code)]

mod conn;
mod producer;

pub use idem_core;
pub use idem_std::{
    CloseReport, Config, DeliveryError, DeliveryFailure, DeliveryHandle, DeliveryResult, FatalError, Persisted,
    ProducerMetrics, Record, RecordId, RecordMetadata, ReportCounts, SendError,
};
pub use producer::Producer;
