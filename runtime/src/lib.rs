//! # idem-runtime
//!
//! The runtime-neutral layer of idem's producer: everything idem-std (threads) and idem-smol
//! (smol / async-io) share, so that each of them is only a small backend (sockets, a timer, how
//! to wait). It depends on idem-core and std only: no threads-based server, no executor.
//!
//! - [`Producer`]`<R>`: the producer, written once for every runtime `R`. Users name it
//!   `idem_std::Producer` or `idem_smol::Producer`.
//! - [`Config`], [`Record`]; [`DeliveryHandle`] (blocking [`wait`](DeliveryHandle::wait) and a
//!   `Future`), [`DeliveryResult`], [`CloseReport`], [`FlushTimeout`], [`ReportCounts`]; the
//!   core's error types. Each runtime re-exports all of them ([`prelude`]).
//! - For runtime backends: [`Runtime`] and [`Connection`], [`Operation`] / [`Step`] (a waiting call as a state
//!   machine, run blocking by [`block`] or as a future), [`Driver`] (the core behind one lock,
//!   the connections, the drain), [`Signal`] / [`Listener`] (a wake-up both threads and tasks
//!   wait on), [`WriteQueue`] (a connection's transmitted frames, written with vectored
//!   writes), and the pieces under them: [`Engine`], [`Reports`] / [`Completer`],
//!   [`CallbackQueue`].
//!
//! ## The producer API, the same in both runtimes
//!
//! | call | idem-std | idem-smol | meaning |
//! |---|---|---|---|
//! | `Producer::new(config)` | same | same | validate, start the timer and the callback thread |
//! | `send(&record)` | blocks | `.await` | wait up to `max.block.ms` for buffer space; a [`DeliveryHandle`] |
//! | `try_send(&record)` | same | same | never waits: `QueueFull` at once |
//! | `send_with_callback(&record, f)` | blocks | `.await` | as `send`, `f` gets the report; the record's id |
//! | `try_send_with_callback(&record, f)` | same | same | never waits |
//! | `send_with_opaque(&record, u64)` | blocks | `.await` | as `send`; the report and the value go to the producer-wide `Config::on_delivery` callback (librdkafka's `dr_msg_cb`), nothing allocated per record; the record's id |
//! | `flush()` | blocks | `.await` | seal batches; wait for the reports, handles and callbacks of what was sent |
//! | `flush_timeout(t)` | blocks | `.await` | the same, up to `t`: `Err(FlushTimeout)` |
//! | `close()` | blocks | `.await` | `close_timeout(delivery.timeout.ms)` |
//! | `close_timeout(t)` | blocks | `.await` | stop accepting, deliver, wait up to `t`, fail the rest: [`CloseReport`] |
//! | `counts()`, `metrics()`, `fatal_error()` | same | same | report counts, a metrics snapshot, the fatal error |
//! | `init_transactions(t)` | blocks | `.await` | with `transactional.id`: get the producer id, fence older producers |
//! | `begin_transaction()` | same | same | open a transaction; `send` outside one is `SendError::Transaction` |
//! | `send_offsets_to_transaction(&offsets, &group, t)` | blocks | `.await` | consumed offsets committed with the transaction |
//! | `commit_transaction(t)` / `abort_transaction(t)` | blocks | `.await` | end the transaction; a timeout is retriable: call again for the same result |
//! | `Drop` | same | same | closes in the background, bounded by `delivery.timeout.ms`; never waits |
//!
//! **Diagnostics and statistics**, the same in both. With the `debug` setting (librdkafka's
//! contexts: `broker`, `metadata`, `msg`, `eos`, `protocol`, `all`), the core's diagnostics go
//! to the [`log`](https://docs.rs/log) crate at debug level, target `idem::<context>`
//! ([`log_diagnostic`]), logged outside the producer's lock and in the core's order: whatever
//! logger the application installed prints them (idem installs none). With
//! `statistics.interval.ms`, every interval the timer loop takes a metrics snapshot and the
//! rates since the previous one ([`Statistics`]) and queues them for the callback set with
//! [`Config::on_statistics`] on the callback thread (librdkafka's `stats_cb`), or, without a
//! callback, logs their JSON at info level (target [`STATS_TARGET`]).
//!
//! ```no_run
//! let config = idem_std::Config::new("localhost:9092")?
//!     .with("debug", "broker,msg,eos")? // why it retried, bumped, dropped a connection
//!     .with("statistics.interval.ms", "10000")?
//!     .on_statistics(|s| println!("{:.0} records/s, {:.2} ms", s.interval.record_send_rate, s.interval.request_latency_avg));
//! let producer = idem_std::Producer::new(config)?;
//! println!("{}", producer.metrics().to_json(None)); // a snapshot now, on demand
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A [`DeliveryHandle`] is the same type in both: `wait()` / `wait_timeout(t)` block, `.await`
//! works on any executor. Every record a send accepts gets exactly one report; a refused
//! record (an error from the send) gets none.
//!
//! **Callbacks** run on the producer's own callback thread (`idem-callbacks`, a std thread in
//! both runtimes), one at a time, in report order; no thread or task that drives the producer
//! runs user code. A callback that blocks delays only later callbacks; `flush_timeout` and
//! `close_timeout` still return by their timeouts. A callback may call its own producer, `flush`
//! and `close` included (they wait for the reports there, not for the callbacks). A panic in a
//! callback is caught and counted ([`ReportCounts::callback_panics`]).
//!
//! **Drop** closes the producer in the background in both runtimes (async code cannot block in
//! `Drop`): what was accepted is still delivered and reported by the producer's threads or
//! tasks, what is left is failed once `delivery.timeout.ms` has passed, and the callbacks all
//! run. Call `close()` or `close_timeout(t)` to wait for the outcome, above all before a
//! program exits.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! // Blocking threads.
//! let producer = idem_std::Producer::new(idem_std::Config::new("localhost:9092")?)?;
//! let handle = producer.send(&idem_std::Record::new("events").value(b"hello"))?;
//! println!("{:?}", handle.wait());
//! producer.flush_timeout(Duration::from_secs(10))?;
//! assert!(producer.close().all_delivered());
//!
//! // smol / async-io: the same calls, awaited.
//! smol::block_on(async {
//!     let producer = idem_smol::Producer::new(idem_smol::Config::new("localhost:9092")?)?;
//!     let handle = producer.send(&idem_smol::Record::new("events").value(b"hello")).await?;
//!     println!("{:?}", handle.await);
//!     producer.flush_timeout(Duration::from_secs(10)).await?;
//!     assert!(producer.close().await.all_delivered());
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub use idem_core;

mod callbacks;
mod config;
mod driver;
mod engine;
pub mod ops;
mod producer;
mod report;
mod runtime;
mod signal;
mod transaction;
mod write;

pub use callbacks::CallbackQueue;
pub use config::{
    Config, DEFAULT_MAX_BLOCK, OAuthBearerToken, OAuthBearerTokenProvider, OpaqueDeliveryCallback, Record,
    SharedCallback, Statistics, StatsCallback, wall_clock_ms,
};
pub use driver::Driver;
pub use engine::{Clock, Engine, STATS_TARGET, Settle, TxnStart, core_duration, log_diagnostic};
pub use idem_core::producer::{
    AbortableError, BrokerMetrics, ConsumerGroupMetadata, DebugContext, DebugContexts, DeliveryError, Diagnostic,
    FatalError, MetricsInterval, PartitionMetrics, Persisted, ProducerMetrics, RecordId, SendError, TopicMetrics,
    TransactionError, TransactionOp, TransactionState, TxnOffset,
};
pub use ops::SendManyError;
pub use producer::{CloseReport, FlushTimeout, Producer};
pub use report::{
    Completer, DeliveryCallback, DeliveryFailure, DeliveryHandle, DeliveryResult, Ready, RecordMetadata, ReportCounts,
    Reports, complete_all,
};
pub use runtime::{Connection, Operation, Runtime, Step, block};
pub use signal::{Listener, Signal};
pub use transaction::TransactionCallError;
pub use write::WriteQueue;

/// What a producer user names, re-exported whole by idem-std and idem-smol (so both offer the
/// same types): configuration, records, handles, reports, errors, and idem-core.
pub mod prelude {
    pub use crate::config::{
        Config, DEFAULT_MAX_BLOCK, OAuthBearerToken, OAuthBearerTokenProvider, OpaqueDeliveryCallback, Record,
        SharedCallback, Statistics, StatsCallback, wall_clock_ms,
    };
    pub use crate::idem_core;
    pub use crate::ops::SendManyError;
    pub use crate::producer::{CloseReport, FlushTimeout};
    pub use crate::report::{
        DeliveryCallback, DeliveryFailure, DeliveryHandle, DeliveryResult, RecordMetadata, ReportCounts,
    };
    pub use crate::transaction::TransactionCallError;
    pub use idem_core::producer::{
        AbortableError, BrokerMetrics, ConsumerGroupMetadata, DebugContext, DebugContexts, DeliveryError, Diagnostic,
        FatalError, MetricsInterval, PartitionMetrics, Persisted, ProducerMetrics, RecordId, SendError, TopicMetrics,
        TransactionError, TransactionOp, TransactionState, TxnOffset,
    };
}
