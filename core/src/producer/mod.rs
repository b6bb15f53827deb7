//! The idempotent producer state machine (sans-IO): [`Producer`], what it takes ([`Input`],
//! [`ProducerRecord`], [`ProducerConfig`]) and what it gives ([`Output`], [`Event`],
//! [`Diagnostic`]s for the `debug` contexts on), and its [`ProducerMetrics`].
//!
//! The contract (inputs, outputs, the drain rule, time, connections, what is guaranteed,
//! determinism) and a complete run loop are in the [crate documentation](crate#the-producers-contract).

// Inside, one piece per file, all private:
// - the sub-machines, each a plain value with its own tests: `config`, `partitioner`,
//   `accumulator` (open batches, buffer.memory), `partition` (sequences, the in-flight window,
//   retries and the decision table), `classify` (what an error code says), `idempotence`
//   (producer id and epoch, drain and bump), `conn` (connections, framing, ApiVersions),
//   `metadata`, `backoff`, `timer`, `report` (the public report types), `pending` (records
//   waiting for metadata);
// - `impl Producer` by responsibility: this file (the API), `batching` (records into sealed
//   batches), `drive` (the drive loop and the timers), `network` (connections and received
//   frames), `topics` (Metadata and the partitions it creates), `identity` (the producer id in
//   the loop), `produce` (Produce requests and answers), `outcome` (reports, stopping).

mod accumulator;
mod agenda;
mod authenticate;
pub(crate) mod backoff;
mod batching;
mod classify;
pub(crate) mod config;
pub(crate) mod conn;
mod diagnostic;
mod drive;
mod idempotence;
mod identity;
pub(crate) mod metadata;
mod metrics;
mod network;
mod observe;
mod outcome;
mod partition;
mod partitioner;
pub(crate) mod payload;
mod pending;
mod produce;
mod report;
mod sasl;
mod sealer;
mod security;
mod timer;
#[cfg(feature = "tls")]
mod tls;
mod topics;
mod transact;
mod transaction;

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

pub use crate::debug::{DebugContext, DebugContexts};
pub use authenticate::NonceSource;
pub use config::{Acks, BootstrapServer, ConfigError, ProducerConfig};
pub use diagnostic::{
    ApiVersionsOutcome, BatchSummary, BumpCause, BumpReason, CloseReason, Diagnostic, DiagnosticKind, IdentitySource,
    RetryReason, UnknownReason,
};
pub use metrics::{BrokerInterval, BrokerMetrics, MetricsInterval, PartitionMetrics, ProducerMetrics, TopicMetrics};
pub use payload::Payload;
pub use report::{
    AuthenticationFailure, DeliveryError, Event, FatalError, MechanismSet, Persisted, RecordId, SendError,
};
pub use security::{Secret, SecurityConfig, SecurityProtocol};
pub use transaction::{
    AbortableError, ConsumerGroupMetadata, TransactionError, TransactionOp, TransactionState, TxnOffset,
};

use accumulator::{Accumulator, RecordRef};
use agenda::Agenda;
use backoff::Backoff;
use conn::Conns;
use diagnostic::BumpReason as Bump;
use idempotence::Idempotence;
use metadata::Metadata;
use metrics::{Maxima, NodeCounters};
use sealer::Sealer;
use timer::{TimerKind, Timers};
use topics::TopicState;

use crate::rand::Rng;
use crate::time::Instant;

/// Identifies one connection: chosen by the producer in [`Output::Connect`] (counting up from
/// 1, never reused), named by the driver in every [`Input`] about that connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

/// A record to send, borrowed: [`Producer::send`] copies what it keeps. The core has no wall
/// clock: the driver fills `timestamp_ms`.
#[derive(Clone, Copy, Debug)]
pub struct ProducerRecord<'a> {
    /// Topic.
    pub topic: &'a str,
    /// Explicit partition, or `None` to let the partitioner choose.
    pub partition: Option<i32>,
    /// Key (murmur2-partitioned when present and no partition is given).
    pub key: Option<&'a [u8]>,
    /// Value.
    pub value: Option<&'a [u8]>,
    /// Headers.
    pub headers: &'a [(&'a str, Option<&'a [u8]>)],
    /// CreateTime in ms since the Unix epoch.
    pub timestamp_ms: i64,
}

/// A fact from the driver, for [`Producer::handle_input`]. Inputs naming a connection the
/// producer has closed or never opened are ignored; a `now` earlier than one given before is
/// taken as the latest one (see the [crate documentation](crate#time)).
#[derive(Clone, Copy, Debug)]
pub enum Input<'a> {
    /// The connection asked for by [`Output::Connect`] is established.
    Connected {
        /// Now.
        now: Instant,
        /// Which connection.
        conn: ConnId,
    },
    /// Bytes arrived on a connection (any chunking).
    Received {
        /// Now.
        now: Instant,
        /// Which connection.
        conn: ConnId,
        /// The bytes.
        bytes: &'a [u8],
    },
    /// The connection failed or was closed by the peer (also: the connect failed). Once per
    /// connection, and never after [`Output::Close`] for it.
    Disconnected {
        /// Now.
        now: Instant,
        /// Which connection.
        conn: ConnId,
    },
    /// Time passed: due timers fire. A call with nothing due does nothing.
    Timeout(Instant),
}

/// An action for the driver, from [`Producer::poll_output`], to carry out in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output<T = ()> {
    /// Open a TCP connection; answer with exactly one [`Input::Connected`] or
    /// [`Input::Disconnected`] (unless a [`Output::Close`] for it comes first).
    Connect {
        /// The id to use in inputs about it.
        conn: ConnId,
        /// Host.
        host: String,
        /// Port.
        port: u16,
    },
    /// Write all these bytes, in order, after everything transmitted before on `conn` (only
    /// after [`Input::Connected`]); if that fails, report [`Input::Disconnected`].
    Transmit {
        /// Which connection.
        conn: ConnId,
        /// The bytes: one whole request frame, in shared chunks (a Produce request's record
        /// batches are not copied into it). Write [`Payload::chunks`] in order, vectored or
        /// one by one, or [`Payload::to_vec`].
        data: Payload,
    },
    /// Close the connection; nothing more is expected about it (no [`Input::Disconnected`]).
    Close {
        /// Which connection.
        conn: ConnId,
    },
    /// A record's report (exactly one per accepted record), or a fatal error.
    Event(Event<T>),
    /// What the producer decided and why, for a context on in `debug` (never otherwise): for
    /// an operator's log, nothing to carry out. Boxed so that the other outputs stay small.
    Diagnostic(Box<Diagnostic>),
    /// Drained: feed [`Input::Timeout`] at this instant (at once if it is not in the future),
    /// or earlier on new input; `None`: only new input can change anything.
    Timeout(Option<Instant>),
}

/// The sans-IO idempotent producer: one value, no clock, socket or thread inside. Feed it
/// records and facts, drain [`poll_output`](Producer::poll_output) after each, carry out what it
/// asks. The contract and a run loop are in the [crate documentation](crate#the-producers-contract).
///
/// `T` is an opaque value each record carries from [`send_with_opaque`](Producer::send_with_opaque)
/// to its one [`Event`] (librdkafka's per-message opaque; a runtime keeps its completion there):
/// it lives in the record's batch, counted against `buffer.memory` with the batch's other
/// per-record bookkeeping, so nothing outside the batches grows per record. `()` (the default,
/// [`Producer::new`] and [`Producer::send`]) carries nothing.
#[derive(Debug)]
pub struct Producer<T = ()> {
    config: ProducerConfig,
    rng: Rng,
    now: Instant,
    metrics: ProducerMetrics,
    acc: Accumulator<T>,
    metadata: Metadata,
    topics: Vec<TopicState<T>>,
    /// Which partitions the next drive pass looks at, and what it keeps between passes.
    agenda: Agenda,
    conns: Conns,
    pid: Idempotence,
    timers: Timers,
    out: VecDeque<Output<T>>,
    next_record: u64,
    closing: bool,
    /// A flush was asked while records waited for metadata: the batches they open are sealed at
    /// once (until none waits), as the Java client's accumulator treats every batch as ready
    /// while a flush is in progress.
    flushing_waiting: bool,
    /// A `send` was refused for want of `buffer.memory` since the last sealing pass: open
    /// batches are then due without waiting for `linger.ms`, so that memory frees up as soon
    /// as possible (the Java client's "exhausted" rule).
    exhausted: bool,
    finished: bool,
    fatal: Option<FatalError>,
    bootstrap_next: usize,
    retry_backoff: Backoff,
    /// Sequence of each partition's first batch (0; a test hook raises it to reach wrap-around).
    first_sequence: i32,
    /// The windowed maxima of the metrics.
    maxima: Maxima,
    /// Per broker (and bootstrap server) the metrics' counters, in the order first connected.
    nodes: Vec<NodeCounters>,
    /// The partition that made the pending epoch bump necessary, and why.
    bump_cause: Option<(agenda::PartKey, Bump)>,
    /// Where SCRAM client nonces come from (the driver's; none: SCRAM fails typed).
    nonce_source: Option<NonceSource>,
    /// SCRAM's salted password, reused by later exchanges with the same salt (`sasl.rs`).
    scram_cache: sasl::ScramCache,
    /// Seals batches with the configured codec (one compression context, reused).
    sealer: Sealer,
    /// The TLS configuration every connection starts a session with (`SSL`, `SASL_SSL`).
    #[cfg(feature = "tls")]
    tls: Option<alloc::sync::Arc<rustls::ClientConfig>>,
    /// The transaction manager, with a `transactional.id`.
    txn: Option<transaction::Transaction>,
}

impl Producer {
    /// A producer with `config` (validated) starting at `now`, its records carrying no opaque
    /// value. It connects on the first `send`.
    pub fn new(config: ProducerConfig, now: Instant) -> Result<Producer, ConfigError> {
        Producer::with_opaque(config, now)
    }
}

impl<T> Producer<T> {
    /// A producer whose records each carry an opaque value of type `T`
    /// ([`send_with_opaque`](Producer::send_with_opaque)), with `config` (validated), starting at
    /// `now`. It connects on the first `send`.
    pub fn with_opaque(config: ProducerConfig, now: Instant) -> Result<Producer<T>, ConfigError> {
        config.validate()?;
        let reconnect = Backoff { initial: config.reconnect_backoff, max: config.reconnect_backoff_max };
        Ok(Producer {
            rng: Rng::new(config.seed),
            now,
            metrics: ProducerMetrics::default(),
            acc: Accumulator::new(config.batch_size, config.message_max_bytes, config.buffer_memory),
            metadata: Metadata::new(config.metadata_max_age),
            topics: Vec::new(),
            agenda: Agenda::default(),
            conns: Conns::new(config.client_id.clone(), reconnect),
            pid: Idempotence::new(),
            timers: Timers::default(),
            out: VecDeque::new(),
            next_record: 0,
            closing: false,
            flushing_waiting: false,
            exhausted: false,
            finished: false,
            fatal: None,
            bootstrap_next: 0,
            retry_backoff: Backoff { initial: config.retry_backoff, max: config.retry_backoff_max },
            first_sequence: 0,
            maxima: Maxima::default(),
            nodes: Vec::new(),
            bump_cause: None,
            nonce_source: None,
            scram_cache: Default::default(),
            sealer: Sealer::new(&config),
            #[cfg(feature = "tls")]
            tls: config.security.tls_client_config()?,
            txn: config.transactional_id.as_deref().map(|id| {
                let timeout = i32::try_from(config.transaction_timeout.as_millis()).unwrap_or(i32::MAX);
                transaction::Transaction::new(id, timeout)
            }),
            config,
        })
    }

    /// Test hook: partitions first written from now on start at sequence `seq` instead of 0 (to
    /// reach the Int32 wrap-around in a live run). Sequences after an epoch bump restart at 0.
    /// Not part of the API.
    #[doc(hidden)]
    pub fn set_first_sequence(&mut self, seq: i32) {
        self.first_sequence = seq.max(0);
    }

    /// Installs where SCRAM client nonces come from (32 unpredictable bytes per exchange, e.g.
    /// from the operating system; idem-std and idem-smol install one). Without one a SCRAM
    /// authentication fails with [`AuthenticationFailure::NoNonceSource`]; the core never makes
    /// a nonce from its seeded generator.
    pub fn set_nonce_source(&mut self, source: NonceSource) {
        self.nonce_source = Some(source);
    }

    /// Replaces the OAUTHBEARER token (`sasl.oauthbearer.token`) used by the next
    /// authentications and re-authentications (KIP-368 lets a refreshed token take over on
    /// open connections). An invalid token is refused with the setting named, not shown.
    pub fn set_oauthbearer_token(&mut self, token: &str) -> Result<(), ConfigError> {
        self.config.security.set("sasl.oauthbearer.token", token)
    }

    /// The configuration in use.
    pub fn config(&self) -> &ProducerConfig {
        &self.config
    }

    /// A snapshot of the metrics now (the latest `now` the producer was given): totals over
    /// its life, gauges, maxima over the sample windows, per broker and per partition (read
    /// from the partitions' state now: this walks every partition, so ask for it at a pace,
    /// not per record). Rates: [`ProducerMetrics::since`] with an earlier snapshot.
    ///
    /// ```no_run
    /// # let mut producer = idem_core::producer::Producer::new(
    /// #     idem_core::producer::ProducerConfig::new("localhost:9092")?, idem_core::Instant::ZERO)?;
    /// let before = producer.metrics();
    /// // ... feed the producer for a while ...
    /// let now = producer.metrics();
    /// let rates = now.since(&before);
    /// println!("{:.0} records/s, {:.2} ms per Produce request", rates.record_send_rate, rates.request_latency_avg);
    /// println!("{}", now.to_json(Some(&rates)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metrics(&self) -> ProducerMetrics {
        self.snapshot(self.now)
    }

    /// [`Producer::metrics`] as of `now` (a driver's clock, which may be past the last input:
    /// the snapshot's time and its windows are then `now`'s; an earlier `now` counts as the
    /// latest seen). Changes nothing.
    pub fn metrics_at(&self, now: Instant) -> ProducerMetrics {
        self.snapshot(self.now.max(now))
    }

    /// Bytes accounted against `buffer.memory` now (the `buffered_bytes` gauge of
    /// [`Producer::metrics`], without building a snapshot).
    pub fn buffered_bytes(&self) -> u64 {
        self.acc.used() as u64
    }

    /// The producer id and epoch in use, once known.
    pub fn producer_id(&self) -> Option<(i64, i16)> {
        (self.pid.producer_id >= 0).then_some((self.pid.producer_id, self.pid.epoch))
    }

    /// Whether the producer has stopped: closed and drained, aborted, or fatally failed. No
    /// event follows those already queued, and every input is ignored.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The fatal error that stopped the producer, if one did (also reported once as
    /// [`Event::Fatal`]).
    pub fn fatal_error(&self) -> Option<FatalError> {
        self.fatal
    }

    /// Whether records are still awaiting their report.
    pub fn has_pending(&self) -> bool {
        // Every accepted record gets exactly one report, counted when it is queued.
        self.metrics.records_sent > self.metrics.records_delivered + self.metrics.records_failed
    }

    /// Accepts a record: copies its bytes into its partition's open batch (no heap allocation
    /// per record in steady state) and returns its id; the record then gets exactly one report.
    /// A refused record gets none. Drain [`poll_output`](Self::poll_output) afterwards.
    pub fn send(&mut self, now: Instant, record: &ProducerRecord<'_>) -> Result<RecordId, SendError>
    where
        T: Default,
    {
        self.send_with_opaque(now, record, T::default()).map_err(|(e, _)| e)
    }

    /// [`send`](Self::send) with an opaque value the record carries to its one [`Event`] (moved
    /// into the record's batch, no allocation). A refused record gets no event: its value is
    /// given back with the error.
    pub fn send_with_opaque(
        &mut self,
        now: Instant,
        record: &ProducerRecord<'_>,
        opaque: T,
    ) -> Result<RecordId, (SendError, T)> {
        if let Err(e) = self.check_send(record) {
            return Err((e, opaque));
        }
        let r = RecordRef {
            timestamp_ms: record.timestamp_ms,
            key: record.key,
            value: record.value,
            headers: record.headers,
        };
        let single = match self.acc.check_size(&r) {
            Ok(single) => single,
            Err(e) => return Err((e, opaque)),
        };
        self.now = self.now.max(now);
        let now = self.now;
        let id = RecordId(self.next_record);
        let t = match self.metadata.topic(record.topic) {
            Some(t) => t,
            None => {
                let t = self.metadata.add_topic(record.topic);
                self.topics.push(TopicState::default());
                self.timers.lower(TimerKind::Metadata, now);
                t
            }
        };
        let count = self.metadata.topics.get(t).and_then(|m| m.partition_count());
        let queued = self.topics.get(t).is_none_or(|ts| !ts.pending.is_empty());
        match count {
            Some(count) if !queued => {
                let (sealed, result) = self.append(t, count, now, id, record.partition, &r, opaque);
                if matches!(result, Err((SendError::QueueFull, _))) {
                    self.exhausted = true;
                    self.drive(now);
                } else if sealed {
                    self.drive(now);
                }
                result?;
            }
            _ => self.hold_for_metadata(t, now, id, record, single, opaque)?,
        }
        self.next_record += 1;
        self.metrics.records_sent += 1;
        self.metrics.buffered_bytes = self.acc.used() as u64;
        Ok(id)
    }

    /// Why `send` must refuse `record` before looking at its size, if it must.
    fn check_send(&self, record: &ProducerRecord<'_>) -> Result<(), SendError> {
        if let Some(e) = self.fatal {
            return Err(SendError::Fatal(e));
        }
        if self.closing || self.finished {
            return Err(SendError::Closed);
        }
        if let Some(txn) = &self.txn {
            txn.check_send().map_err(SendError::Transaction)?;
        }
        if record.topic.is_empty() || record.topic.len() > crate::proto::MAX_TOPIC_NAME_LEN {
            return Err(SendError::InvalidTopic);
        }
        match record.partition {
            Some(p) if p < 0 => Err(SendError::InvalidPartition(p)),
            _ => Ok(()),
        }
    }

    /// Seals every open batch now (they are sent as soon as the partitions allow), and the
    /// batches of records still waiting for their topic's metadata as soon as they join one
    /// (without waiting for `linger.ms`).
    pub fn flush(&mut self, now: Instant) {
        self.flushing_waiting |= self.topics.iter().any(|t| !t.pending.is_empty());
        self.seal_all();
        self.agenda.list_all();
        self.drive(now);
    }

    /// Stops accepting records and seals everything; what is buffered is still delivered or
    /// reported (within `delivery.timeout.ms`). Once nothing is pending, every connection is
    /// closed and [`Producer::is_finished`] turns true. A transaction left open (or abortable)
    /// is aborted first, as the Java client's sender does on close ("Aborting incomplete
    /// transaction due to shutdown"): its records are reported failed instead of waiting for a
    /// commit that cannot come; a commit or an abort in progress goes on.
    pub fn close(&mut self, now: Instant) {
        let open = self.txn.as_ref().is_some_and(|t| {
            t.op.is_none() && matches!(t.state, TransactionState::InTransaction | TransactionState::AbortableError)
        });
        if open {
            // The abort's own end (`Event::Transaction { op: Abort, .. }`) is reported too.
            let _ = self.abort_transaction(now);
        }
        self.closing = true;
        self.seal_all();
        self.agenda.list_all();
        self.drive(now);
    }

    /// Stops now: every pending record is reported failed (`Persisted::Possibly` where an
    /// attempt's outcome is unknown) and every connection closed.
    pub fn abort(&mut self, now: Instant) {
        self.now = self.now.max(now);
        self.closing = true;
        self.fail_everything(DeliveryError::Aborted);
        self.finish();
    }

    /// Feeds one fact in; drain [`poll_output`](Self::poll_output) afterwards.
    pub fn handle_input(&mut self, input: Input<'_>) {
        if self.finished {
            return;
        }
        match input {
            Input::Connected { now, conn } => {
                self.now = self.now.max(now);
                self.on_connected(conn);
                self.drive(now);
            }
            Input::Received { now, conn, bytes } => {
                self.now = self.now.max(now);
                self.on_received(conn, bytes);
                self.drive(now);
            }
            Input::Disconnected { now, conn } => {
                self.now = self.now.max(now);
                if self.conns.get(conn).is_some() {
                    self.drop_conn(conn, CloseReason::Disconnected);
                    self.drive(now);
                }
            }
            Input::Timeout(now) => {
                if self.timers.any_due(now) {
                    self.drive(now);
                }
            }
        }
    }

    /// The next action, in the order to carry them out; [`Output::Timeout`] once drained (and
    /// again on every call until new input).
    pub fn poll_output(&mut self) -> Output<T> {
        match self.out.pop_front() {
            Some(o) => o,
            None => Output::Timeout(if self.finished { None } else { self.timers.next() }),
        }
    }
}

#[cfg(test)]
mod tests;
