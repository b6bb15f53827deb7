//! # idem-core
//!
//! The sans-IO heart of idem, an idempotent Kafka producer for Rust programs that do not run
//! tokio. Everything here is pure and synchronous: no clock, no socket, no thread. The driver
//! (your event loop, or `idem-std` / `idem-smol`) feeds in facts (time, bytes, connection
//! events) and carries out the actions the core hands back.
//!
//! - [`producer`]: the idempotent producer state machine, [`Producer`](producer::Producer).
//! - [`consumer`]: a consumer-group client state machine, [`Consumer`](consumer::Consumer)
//!   (classic protocol, range assignment, commits before every revocation), with the
//!   producer's driver contract.
//! - [`broker`]: the broker side: the sequence validator that makes the dedup decisions
//!   ([`ProducerStateTable`](broker::ProducerStateTable)) and an in-memory Kafka-compatible
//!   cluster built on it ([`Cluster`](broker::Cluster)), with fault injection.
//! - [`proto`]: the Kafka wire codec (framing, headers, the message types a producer and a small
//!   broker need, RecordBatch v2 with CRC-32C and its compression codecs, error codes).
//! - [`sasl`]: the SASL mechanisms (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER), both sides, that
//!   the producer runs on each connection and the in-memory broker requires when configured.
//! - `tls` (feature `tls`): TLS as a sans-IO layer over a connection's bytes, client and
//!   server, with rustls and ring; the producer runs it under `security.protocol` SSL and
//!   SASL_SSL, the in-memory broker on a TLS listener.
//! - [`time`], [`rand`], [`crc32c`]: the driver's timeline ([`Instant`], [`Duration`]), the
//!   seeded generator behind every random choice, CRC-32C.
//!
//! The crate is `#![no_std]` + `alloc` when built without its default `std` feature.
//!
//! Cargo features (all on by default): `std`; the RecordBatch compression codecs `gzip`
//! (pure Rust, works without `std`), `snappy` (pure Rust, needs `std`), `lz4` (pure Rust, works
//! without `std`) and `zstd` (the C reference library, built from source: needs a C compiler).
//! A codec whose feature is off is refused with a typed error both ways (see
//! [`proto::record_batch::compression`]). `sasl` (pure Rust SHA-2, HMAC, PBKDF2 and base64,
//! works without `std`) enables SCRAM; without it PLAIN and OAUTHBEARER still work. `tls`
//! (rustls with ring: needs `std` and a C compiler) enables `security.protocol` SSL and SASL_SSL
//! and the broker's TLS listener.
//!
//! # The producer's contract
//!
//! ## Inputs
//!
//! - [`Producer::send(now, &record)`](producer::Producer::send) accepts a record (its bytes are
//!   copied) and returns its [`RecordId`](producer::RecordId), or refuses it with a
//!   [`SendError`](producer::SendError) (a refused record gets no report).
//!   [`flush(now)`](producer::Producer::flush) seals every open batch,
//!   [`close(now)`](producer::Producer::close) stops accepting records and finishes once
//!   everything is reported, [`abort(now)`](producer::Producer::abort) fails everything at once.
//! - [`handle_input`](producer::Producer::handle_input) takes the facts of the outside world:
//!   [`Input::Connected`](producer::Input::Connected),
//!   [`Input::Received`](producer::Input::Received) (bytes, in any chunking),
//!   [`Input::Disconnected`](producer::Input::Disconnected) and
//!   [`Input::Timeout`](producer::Input::Timeout) (time passed).
//!
//! ## Outputs
//!
//! [`poll_output`](producer::Producer::poll_output) hands back one action at a time, in the
//! order the driver must carry them out:
//! [`Output::Connect`](producer::Output::Connect) (open a TCP connection to `host:port`),
//! [`Output::Transmit`](producer::Output::Transmit) (write these bytes after everything
//! transmitted before on that connection: one request frame as a
//! [`Payload`](producer::Payload), shared chunks to write in order, vectored or one by one, a
//! Produce request's record batches carried as they are buffered, not copied),
//! [`Output::Close`](producer::Output::Close), [`Output::Event`](producer::Output::Event) (a
//! record's report, or a fatal error), [`Output::Diagnostic`](producer::Output::Diagnostic)
//! (what the producer decided and why, only for the debug contexts set in `debug`: for a log,
//! nothing to carry out), and last [`Output::Timeout`](producer::Output::Timeout) (drained:
//! when to wake the core next, `None` for "only on new input").
//!
//! ## Observability
//!
//! `debug` (librdkafka's contexts: `broker`, `metadata`, `msg`, `eos`, `protocol`, `all`; see
//! [`debug`]) turns on [`Diagnostic`](producer::Diagnostic)s: connections and why they close,
//! leaders moving, every retry with its reason and attempt count, every epoch bump with the
//! partition and reason that caused it, every batch whose outcome became unknown and why. A
//! context that is off costs one bit test. [`Producer::metrics`](producer::Producer::metrics)
//! returns a snapshot with the Java client's metric names (totals, gauges, maxima, per broker,
//! per partition); rates and averages come from two snapshots
//! ([`ProducerMetrics::since`](producer::ProducerMetrics::since)).
//!
//! ## The drain rule
//!
//! After every input (each `send`, `flush`, `close`, `abort` and `handle_input` call), call
//! `poll_output` until it returns `Output::Timeout(deadline)`, carrying out each action, before
//! waiting for anything. Then wait for I/O or until `deadline`, and at the deadline feed
//! `Input::Timeout(now)`. The deadline is only valid once everything before it was drained.
//! Outputs not drained yet stay queued in order; if the core drops a connection, the bytes it
//! queued for it and the driver did not take are withdrawn. A deadline may be at or before
//! `now` (then feed `Timeout` at once); waking early or spuriously is harmless (a `Timeout`
//! with nothing due does nothing), waking late delays what was due by as much.
//!
//! ## Time
//!
//! `now` is an [`Instant`] on the driver's monotonic timeline (microseconds from any origin the
//! driver picks: `std::time::Instant`, a simulated clock, ...). The core never reads a clock.
//! If a call passes a `now` earlier than one passed before, it is clamped: the core keeps the
//! latest instant it has seen, so time never goes back inside it (timers are not fired early,
//! nothing is recomputed backwards). Wall-clock time appears only in the record timestamps the
//! driver fills in ([`ProducerRecord::timestamp_ms`](producer::ProducerRecord::timestamp_ms)).
//!
//! ## Connections
//!
//! - The core names each connection in `Output::Connect`: [`ConnId`](producer::ConnId)s count up
//!   from 1, one per `Connect`, and are never reused.
//! - A `Connect` is answered by exactly one `Input::Connected` or `Input::Disconnected` (the
//!   attempt failed), unless the core closes the connection first. After `Connected`, report
//!   `Disconnected` once when the connection fails or the peer closes it.
//! - `Transmit` comes only after `Connected`. Write all of its bytes in order; if that is not
//!   possible, report `Disconnected` (never drop or reorder bytes on a live connection).
//! - `Close`: shut the connection down (unsent bytes may be dropped). Nothing more is expected
//!   about it: no `Disconnected` after `Close`. Inputs naming a connection the core has closed
//!   or never opened are ignored, so a late `Disconnected` or `Received` is harmless.
//!
//! ## What is guaranteed
//!
//! Per partition, for every record `send` accepted (checked by the tests and by a deterministic
//! simulation with faults, over thousands of seeds):
//!
//! 1. **No duplicates**: it is in the log at most once, however often it was retried.
//! 2. **No reordering**: records reported Delivered are in the log in `send` order; a record
//!    reported PossiblyPersisted that is in the log is before every later-sent Delivered record.
//! 3. **No silent loss**: exactly one final report,
//!    [`Event::Delivered`](producer::Event::Delivered) (in the log) or
//!    [`Event::Failed`](producer::Event::Failed) with
//!    [`Persisted::No`](producer::Persisted::No) (definitely not) or
//!    [`Persisted::Possibly`](producer::Persisted::Possibly) (at most once), carrying the
//!    opaque value the record was sent with
//!    ([`send_with_opaque`](producer::Producer::send_with_opaque)).
//! 4. **Bounded memory**: buffered records, their bookkeeping and their opaque values stay
//!    within `buffer.memory`; beyond it `send` answers
//!    [`SendError::QueueFull`](producer::SendError::QueueFull).
//! 5. **Liveness**: once faults stop, everything is reported within the configured timeouts
//!    (`delivery.timeout.ms` bounds the time from `send` to the report).
//!
//! Bytes from a broker are never trusted: anything undecodable or out of order closes that
//! connection and never panics or loses a record. A broker that loses a producer's state
//! (a restart without its snapshot, producer-id expiry) can break 1 and 2 in ways no pipelining
//! producer can prevent (KAFKA-15591); the producer then prefers failing a record NotPersisted
//! to writing it out of order.
//!
//! ## Determinism
//!
//! Given the same configuration (including `idem.seed`, the seed of the retry and reconnect
//! jitter and of the sticky partitioner) and the same calls with the same arguments and `now`s,
//! the producer returns the same outputs, byte for byte. Nothing else influences it.
//!
//! ## A run loop
//!
//! A complete driver, here against the in-memory [`Cluster`](broker::Cluster) in the same
//! process (a real driver reads and writes sockets instead; the loop is the same):
//!
//! ```
//! use std::collections::VecDeque;
//!
//! use idem_core::broker::{self, BrokerAddress, BrokerInput, BrokerOutput, Cluster, ClusterConfig, TopicConfig};
//! use idem_core::producer::{ConnId, Event, Input, Output, Producer, ProducerConfig, ProducerRecord};
//! use idem_core::Instant;
//!
//! /// What travels between the two machines: a connection opening, bytes, a connection ending.
//! enum Wire {
//!     Open(u64),
//!     Bytes(u64, Vec<u8>),
//!     Gone(u64),
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut now = Instant::ZERO;
//! let brokers = vec![BrokerAddress { node_id: 0, host: "b0".into(), port: 9092 }];
//! let topics = vec![TopicConfig { name: "events".into(), partitions: 1 }];
//! let mut cluster = Cluster::new(ClusterConfig { brokers, topics, ..ClusterConfig::default() }, now)?;
//! let mut producer = Producer::new(ProducerConfig::new("b0:9092")?, now)?;
//!
//! let record = ProducerRecord {
//!     topic: "events",
//!     partition: None,
//!     key: None,
//!     value: Some(b"hello"),
//!     headers: &[],
//!     timestamp_ms: 1_700_000_000_000,
//! };
//! let id = producer.send(now, &record)?;
//! producer.close(now); // deliver what is pending, then finish
//!
//! let (mut to_cluster, mut to_producer) = (VecDeque::new(), VecDeque::new());
//! let mut offset = None;
//! loop {
//!     // The drain rule: after every input, poll each machine until it says Timeout.
//!     let producer_deadline = loop {
//!         match producer.poll_output() {
//!             Output::Connect { conn, .. } => to_cluster.push_back(Wire::Open(conn.0)), // one broker
//!             Output::Transmit { conn, data } => to_cluster.push_back(Wire::Bytes(conn.0, data.to_vec())),
//!             Output::Close { conn } => to_cluster.push_back(Wire::Gone(conn.0)),
//!             Output::Event(Event::Delivered { id: d, offset: o, .. }) if d == id => offset = o,
//!             Output::Event(event) => println!("{event:?}"),
//!             Output::Diagnostic(d) => println!("{}: {d}", d.context()), // only with `debug` set
//!             Output::Timeout(deadline) => break deadline,
//!         }
//!     };
//!     let cluster_deadline = loop {
//!         match cluster.poll_output() {
//!             BrokerOutput::Transmit { conn, data } => to_producer.push_back(Wire::Bytes(conn.0, data)),
//!             BrokerOutput::Close { conn } => to_producer.push_back(Wire::Gone(conn.0)),
//!             BrokerOutput::Log(line) => println!("{line}"),
//!             BrokerOutput::Debug { context, line } => println!("{context}: {line}"), // with `debug` set
//!             BrokerOutput::Timeout(deadline) => break deadline,
//!         }
//!     };
//!     if producer.is_finished() {
//!         break;
//!     }
//!     // One fact in: the next thing on the wire, or else the earliest deadline.
//!     if let Some(wire) = to_cluster.pop_front() {
//!         cluster.handle_input(match wire {
//!             Wire::Open(c) => {
//!                 to_producer.push_back(Wire::Open(c)); // accepted: the connect succeeded
//!                 BrokerInput::Accepted { now, conn: broker::ConnId(c), broker_id: 0 }
//!             }
//!             Wire::Bytes(c, ref bytes) => BrokerInput::Received { now, conn: broker::ConnId(c), bytes },
//!             Wire::Gone(c) => BrokerInput::Closed { now, conn: broker::ConnId(c) },
//!         });
//!     } else if let Some(wire) = to_producer.pop_front() {
//!         producer.handle_input(match wire {
//!             Wire::Open(c) => Input::Connected { now, conn: ConnId(c) },
//!             Wire::Bytes(c, ref bytes) => Input::Received { now, conn: ConnId(c), bytes },
//!             Wire::Gone(c) => Input::Disconnected { now, conn: ConnId(c) },
//!         });
//!     } else {
//!         let Some(next) = producer_deadline.into_iter().chain(cluster_deadline).min() else { break };
//!         now = next.max(now);
//!         producer.handle_input(Input::Timeout(now));
//!         cluster.handle_input(BrokerInput::Timeout(now));
//!     }
//! }
//! assert_eq!(offset, Some(0));
//! assert_eq!(cluster.partition_log("events", 0).map(|log| log.log_end_offset()), Some(1));
//! # Ok(())
//! # }
//! ```
//!
//! # The broker side
//!
//! [`Cluster`](broker::Cluster) keeps the same contract from the other end: the driver reports
//! [`BrokerInput::Accepted`](broker::BrokerInput::Accepted) (it names the connection: any
//! [`broker::ConnId`] not in use), `Received`, `Closed` and `Timeout`, drains
//! [`poll_output`](broker::Cluster::poll_output) to [`BrokerOutput::Timeout`](broker::BrokerOutput::Timeout)
//! after every input, and carries out `Transmit` and `Close` in order (`Log` lines are for an
//! operator). Time is clamped the same way; the cluster's faults draw only from
//! [`ClusterConfig::seed`](broker::ClusterConfig::seed), so a run is reproducible from the seed
//! and the inputs. The loop above drives both.
//!
//! The validator alone is a pure table per partition log: ask before appending, record after.
//!
//! ```
//! use idem_core::broker::{BatchInfo, Decision, ProducerStateTable, ValidatorConfig};
//! use idem_core::Instant;
//!
//! let mut table = ProducerStateTable::new(ValidatorConfig::default());
//! let now = Instant::ZERO;
//! let batch = BatchInfo::with_count(1000, 0, 0, 5); // producer 1000, epoch 0, sequences 0..=4
//! assert_eq!(table.check(&batch, now), Decision::Append);
//! table.record_append(&batch, 0, 4, 1_700_000_000_000, now); // the log put it at offsets 0..=4
//! // A resend is recognised and answered with the original offsets; nothing is appended.
//! assert!(matches!(table.check(&batch, now), Decision::Duplicate { base_offset: 0, last_offset: 4, .. }));
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod broker;
pub mod consumer;
pub mod crc32c;
pub mod debug;
pub mod producer;
pub mod proto;
pub mod rand;
pub mod sasl;
#[cfg(test)]
mod test_wires;
pub mod time;
#[cfg(feature = "tls")]
pub mod tls;

pub use time::{Duration, Instant};
