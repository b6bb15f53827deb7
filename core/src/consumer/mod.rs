//! The consumer-group client as a sans-IO state machine: [`Consumer`], configured by
//! [`ConsumerConfig`], fed the producer's [`Input`]s, answering [`ConsumerOutput`]s and
//! [`ConsumerEvent`]s.
//!
//! It speaks Kafka's classic group protocol as the Java client's `ConsumerCoordinator` does,
//! with eager rebalancing: bootstrap, ApiVersions, Metadata for the subscribed topics,
//! FindCoordinator, JoinGroup (protocol type `consumer`, one protocol `range`; KIP-394's
//! MEMBER_ID_REQUIRED answered by rejoining with the id given), the leader's range assignment
//! ([`RangeAssignor`'s rule](https://kafka.apache.org/documentation/#consumerconfigs_partition.assignment.strategy)),
//! SyncGroup, OffsetFetch for the assignment, ListOffsets for partitions without a committed
//! offset (`auto.offset.reset`), then Fetch from each partition's leader and Heartbeat every
//! `heartbeat.interval.ms`.
//!
//! # The driver contract
//!
//! The producer's (see the [crate documentation](crate#the-producers-contract)): the same
//! [`Input`]s, [`ConnId`]s counting up from 1 and never reused, one `Connected` or
//! `Disconnected` per `Connect`, nothing expected after `Close`, the drain rule (after every
//! input and every [`commit`](Consumer::commit) / [`close`](Consumer::close), call
//! [`poll_output`](Consumer::poll_output) until [`ConsumerOutput::Timeout`]), `now` always a
//! parameter (an earlier one is clamped), no clock, thread, socket or hidden randomness: the
//! backoff jitter comes from `idem.seed`.
//!
//! # What is guaranteed
//!
//! - **Records in order, each once per assignment.** [`ConsumerEvent::Records`] carries a
//!   partition's records in offset order; within one assignment (from an
//!   [`Assigned`](ConsumerEvent::Assigned) to the [`Revoked`](ConsumerEvent::Revoked) that ends
//!   it) no offset is handed out twice and none is skipped but those the log does not hold
//!   (control batches of transactions, compacted offsets, and with
//!   `isolation.level=read_committed` the batches of aborted transactions, as the Java client's
//!   `CompletedFetch`). A control batch (COMMIT/ABORT marker) is never handed out as a record,
//!   in either isolation level; the position moves past it.
//! - **Commit before revocation.** When the coordinator starts a rebalance
//!   (REBALANCE_IN_PROGRESS), the consumer stops handing out records, commits the position of
//!   every assigned partition (the offset after the last record handed out) and waits for the
//!   answer before emitting `Revoked` and rejoining (eager protocol). [`close`](Consumer::close)
//!   does the same before LeaveGroup. So, with every member driven and no member expired, each
//!   record is handed out exactly once across the group; a member that dies (or is expired by
//!   its session) leaves its partitions to be re-read from the last commit only.
//! - **Partitions lost are said so.** A member the coordinator no longer knows
//!   (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION) cannot commit: its partitions are `Revoked`
//!   without a commit and it rejoins, as the Java client's `onPartitionsLost`.
//! - **Hostile bytes.** Nothing a broker sends can panic the consumer: an undecodable or
//!   out-of-order response, or a record batch whose CRC does not match, closes that connection
//!   (its requests are retried elsewhere or later). A compressed batch decompresses within
//!   `receive.message.max.bytes`.
//! - **Fatal errors stop it.** GROUP_AUTHORIZATION_FAILED, INVALID_SESSION_TIMEOUT,
//!   FENCED_INSTANCE_ID, a broker without the APIs needed, ... are one
//!   [`ConsumerEvent::Error`], after which every connection is closed and nothing more happens.
//!
//! The leader rejoins when the partition count of a topic its assignment covered changes (a
//! topic created or grown later is assigned), as the Java client's metadata snapshot check.
//!
//! Not supported yet: SASL and TLS (`security.protocol` must be PLAINTEXT), other assignors and
//! cooperative rebalancing (KIP-429), fetch sessions (KIP-227: every Fetch is a full one),
//! KIP-848's consumer protocol. `enable.auto.commit` defaults to false here.
//!
//! # A run loop
//!
//! Against the in-memory [`Cluster`](crate::broker::Cluster), a producer writes three records
//! and one consumer reads them back through its group:
//!
//! ```
//! use std::collections::VecDeque;
//!
//! use idem_core::broker::{self, BrokerAddress, BrokerInput, BrokerOutput, Cluster, ClusterConfig, TopicConfig};
//! use idem_core::consumer::{Consumer, ConsumerConfig, ConsumerEvent, ConsumerOutput};
//! use idem_core::producer::{ConnId, Input, Output, Producer, ProducerConfig, ProducerRecord};
//! use idem_core::Instant;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut now = Instant::ZERO;
//! let brokers = vec![BrokerAddress { node_id: 0, host: "b0".into(), port: 9092 }];
//! let topics = vec![TopicConfig { name: "events".into(), partitions: 2 }];
//! let mut cluster = Cluster::new(ClusterConfig { brokers, topics, ..ClusterConfig::default() }, now)?;
//!
//! // Connections of both clients share the cluster's id space: the consumer's from 1000 on.
//! const CONSUMER: u64 = 1000;
//! let mut producer = Producer::new(ProducerConfig::new("b0:9092")?, now)?;
//! for value in [&b"a"[..], b"b", b"c"] {
//!     let record = ProducerRecord { topic: "events", partition: None, key: None, value: Some(value), headers: &[], timestamp_ms: 0 };
//!     producer.send(now, &record)?;
//! }
//! producer.close(now);
//! let mut config = ConsumerConfig::new("b0:9092", "readers")?;
//! config.subscribe("events");
//! let mut consumer = Consumer::new(config, now)?;
//!
//! let mut read = Vec::new();
//! let mut to_cluster: VecDeque<(u64, Option<Vec<u8>>)> = VecDeque::new(); // None: open
//! let mut to_clients: VecDeque<(u64, Vec<u8>)> = VecDeque::new();
//! let mut opened: VecDeque<u64> = VecDeque::new();
//! while read.len() < 3 || !producer.is_finished() {
//!     assert!(now < Instant::from_millis(60_000), "read back within a minute of virtual time");
//!     let p_deadline = loop {
//!         match producer.poll_output() {
//!             Output::Connect { conn, .. } => to_cluster.push_back((conn.0, None)),
//!             Output::Transmit { conn, data } => to_cluster.push_back((conn.0, Some(data.to_vec()))),
//!             Output::Timeout(t) => break t,
//!             _ => {}
//!         }
//!     };
//!     let c_deadline = loop {
//!         match consumer.poll_output() {
//!             ConsumerOutput::Connect { conn, .. } => to_cluster.push_back((CONSUMER + conn.0, None)),
//!             ConsumerOutput::Transmit { conn, data } => to_cluster.push_back((CONSUMER + conn.0, Some(data.to_vec()))),
//!             ConsumerOutput::Event(ConsumerEvent::Records { records, .. }) => {
//!                 read.extend(records.into_iter().filter_map(|r| r.value));
//!             }
//!             ConsumerOutput::Event(ConsumerEvent::Error(e)) => panic!("{e:?}"),
//!             ConsumerOutput::Timeout(t) => break t,
//!             _ => {}
//!         }
//!     };
//!     let b_deadline = loop {
//!         match cluster.poll_output() {
//!             BrokerOutput::Transmit { conn, data } => to_clients.push_back((conn.0, data)),
//!             BrokerOutput::Timeout(t) => break t,
//!             _ => {}
//!         }
//!     };
//!     if let Some((c, bytes)) = to_cluster.pop_front() {
//!         match bytes {
//!             None => {
//!                 cluster.handle_input(BrokerInput::Accepted { now, conn: broker::ConnId(c), broker_id: 0 });
//!                 opened.push_back(c);
//!             }
//!             Some(b) => cluster.handle_input(BrokerInput::Received { now, conn: broker::ConnId(c), bytes: &b }),
//!         }
//!     } else if let Some(c) = opened.pop_front() {
//!         let input = |c: u64| Input::Connected { now, conn: ConnId(c % CONSUMER) };
//!         if c >= CONSUMER { consumer.handle_input(input(c)) } else { producer.handle_input(input(c)) }
//!     } else if let Some((c, b)) = to_clients.pop_front() {
//!         let input = Input::Received { now, conn: ConnId(c % CONSUMER), bytes: &b };
//!         if c >= CONSUMER { consumer.handle_input(input) } else { producer.handle_input(input) }
//!     } else {
//!         now = [p_deadline, c_deadline, b_deadline].into_iter().flatten().min().expect("something to wait for").max(now);
//!         producer.handle_input(Input::Timeout(now));
//!         consumer.handle_input(Input::Timeout(now));
//!         cluster.handle_input(BrokerInput::Timeout(now));
//!     }
//! }
//! read.sort();
//! assert_eq!(read, [&b"a"[..], b"b", b"c"]);
//! # Ok(())
//! # }
//! ```

// Inside, one piece per file, all private: `config` (settings), `protocol` (the subscription and
// assignment bytes), `assignor` (the range assignor) are plain values with their own tests;
// `impl Consumer` by responsibility: this file (the API), `network` (connections, frames, the
// drive pass and its timers), `group` (coordinator, join, sync, heartbeat, commit, leave),
// `fetch` (committed offsets, resets, Fetch and record decoding).

mod assignor;
mod config;
mod fetch;
mod group;
mod network;
mod protocol;
#[cfg(test)]
mod tests;

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use bytes::Bytes;

pub use config::{ConsumerConfig, IsolationLevel, OffsetReset};

use crate::producer::backoff::Backoff;
use crate::producer::conn::{Conns, Kind};
use crate::producer::metadata::Metadata;
pub use crate::producer::{ConfigError, ConnId, Input, Payload};
use crate::proto::{ApiKey, ErrorCode};
use crate::rand::Rng;
use crate::time::Instant;

/// An action for the driver, from [`Consumer::poll_output`], to carry out in the order given
/// (the producer's [`Output`](crate::producer::Output) contract).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsumerOutput {
    /// Open a TCP connection; answer with exactly one [`Input::Connected`] or
    /// [`Input::Disconnected`] (unless a [`ConsumerOutput::Close`] for it comes first).
    Connect {
        /// The id to use in inputs about it.
        conn: ConnId,
        /// Host.
        host: String,
        /// Port.
        port: u16,
    },
    /// Write these bytes (one whole request frame), in order, after everything transmitted
    /// before on `conn`; if that fails, report [`Input::Disconnected`].
    Transmit {
        /// Which connection.
        conn: ConnId,
        /// The bytes.
        data: Payload,
    },
    /// Close the connection; nothing more is expected about it.
    Close {
        /// Which connection.
        conn: ConnId,
    },
    /// Something for the application.
    Event(ConsumerEvent),
    /// Drained: feed [`Input::Timeout`] at this instant (or earlier on new input); `None`: only
    /// new input can change anything.
    Timeout(Option<Instant>),
}

/// What the consumer tells the application, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsumerEvent {
    /// A generation of the group gave this member these partitions (possibly none). Records of
    /// them follow; each starts at its committed offset, or per `auto.offset.reset`.
    Assigned {
        /// The group generation.
        generation: i32,
        /// (topic, partition), in topic then partition order.
        partitions: Vec<(String, i32)>,
    },
    /// These partitions are no longer this member's: after a commit of their positions when
    /// the member could commit (a rebalance, [`Consumer::close`]), or lost without one (the
    /// coordinator no longer knew the member). No record of them follows until a new
    /// `Assigned`.
    Revoked {
        /// (topic, partition).
        partitions: Vec<(String, i32)>,
    },
    /// Records of one partition, in offset order, each offset once per assignment.
    Records {
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// The records, offsets ascending.
        records: Vec<ConsumedRecord>,
    },
    /// The coordinator stored these positions ((topic, partition), next offset to read): one
    /// per commit ([`Consumer::commit`], before a revocation, at close, auto-commit).
    Committed {
        /// What was committed.
        offsets: Vec<((String, i32), i64)>,
    },
    /// A commit (of any of the kinds [`Committed`](ConsumerEvent::Committed) lists) was
    /// refused: the member lost its generation (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID), a
    /// partition's error, ...: the first error the coordinator gave. NOT_COORDINATOR,
    /// COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS and REQUEST_TIMED_OUT are
    /// retried first, as is a commit whose connection was lost.
    CommitFailed {
        /// Kafka's error.
        error: ErrorCode,
    },
    /// The consumer stopped for good: every connection is closed and no other event follows.
    Error(ConsumerError),
    /// [`Consumer::close`] has finished: committed, left the group, connections closed.
    Closed,
}

/// One record handed out. Key and value share the fetched response's buffer (uncompressed
/// batches) or the batch's decompressed buffer: no copy per record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumedRecord {
    /// Its offset in the partition.
    pub offset: i64,
    /// Its timestamp (ms since the Unix epoch; CreateTime or LogAppendTime per the batch).
    pub timestamp: i64,
    /// Key.
    pub key: Option<Bytes>,
    /// Value.
    pub value: Option<Bytes>,
}

/// Why the consumer stopped (one [`ConsumerEvent::Error`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsumerError {
    /// The coordinator refused the member for good: GROUP_AUTHORIZATION_FAILED,
    /// INVALID_SESSION_TIMEOUT, INVALID_GROUP_ID, FENCED_INSTANCE_ID (another member with the
    /// same `group.instance.id`), GROUP_MAX_SIZE_REACHED, INCONSISTENT_GROUP_PROTOCOL, ...
    Group(ErrorCode),
    /// A partition cannot be read for good (TOPIC_AUTHORIZATION_FAILED,
    /// UNSUPPORTED_COMPRESSION_TYPE).
    Partition {
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// Kafka's error.
        error: ErrorCode,
    },
    /// A broker does not offer an API the consumer needs (its key), or not at a version that can
    /// carry `group.instance.id`.
    UnsupportedBroker {
        /// The API key.
        api_key: i16,
    },
    /// The group's leader sent an assignment this member cannot read, or chose a protocol it
    /// did not offer.
    InvalidAssignment,
}

impl core::fmt::Display for ConsumerError {
    /// One line naming Kafka's error (or what is missing).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ConsumerError::Group(code) => write!(f, "the group coordinator refused the member: {code}"),
            ConsumerError::Partition { topic, partition, error } => {
                write!(f, "partition {topic}/{partition} cannot be read: {error}")
            }
            ConsumerError::UnsupportedBroker { api_key } => {
                write!(f, "the broker does not offer API key {api_key} at a version the consumer needs")
            }
            ConsumerError::InvalidAssignment => {
                f.write_str("the group's leader sent an assignment this member cannot read")
            }
        }
    }
}

/// What an outstanding request of the consumer was for.
#[derive(Clone, Debug)]
pub(crate) enum Req {
    ApiVersions(i16),
    Metadata,
    FindCoordinator,
    JoinGroup,
    SyncGroup,
    /// Heartbeat for this generation.
    Heartbeat(i32),
    OffsetCommit,
    LeaveGroup,
    /// OffsetFetch for the assignment of this epoch.
    OffsetFetch(u64),
    /// ListOffsets for these parts of the assignment of this epoch.
    ListOffsets(u64, Vec<usize>),
    /// Fetch for these parts of the assignment of this epoch.
    Fetch(u64, Vec<usize>),
}

impl Kind for Req {
    fn api(&self) -> ApiKey {
        match self {
            Req::ApiVersions(_) => ApiKey::ApiVersions,
            Req::Metadata => ApiKey::Metadata,
            Req::FindCoordinator => ApiKey::FindCoordinator,
            Req::JoinGroup => ApiKey::JoinGroup,
            Req::SyncGroup => ApiKey::SyncGroup,
            Req::Heartbeat(_) => ApiKey::Heartbeat,
            Req::OffsetCommit => ApiKey::OffsetCommit,
            Req::LeaveGroup => ApiKey::LeaveGroup,
            Req::OffsetFetch(_) => ApiKey::OffsetFetch,
            Req::ListOffsets(..) => ApiKey::ListOffsets,
            Req::Fetch(..) => ApiKey::Fetch,
        }
    }
    fn api_versions(version: i16) -> Self {
        Req::ApiVersions(version)
    }
}

/// Where the member is in the group's protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Not in a generation: JoinGroup when allowed.
    Unjoined,
    /// JoinGroup outstanding.
    Joining,
    /// The leader waits for metadata of its members' topics: (member id, topics) each.
    Assigning(Vec<(String, Vec<String>)>),
    /// SyncGroup outstanding.
    Syncing,
    /// In a generation, with an assignment.
    Stable,
    /// A rebalance began: the positions are being committed before the revocation.
    Revoking,
}

/// The member's identity and protocol state.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) id: String,
    pub(crate) generation: i32,
    pub(crate) phase: Phase,
    /// JoinGroup not before (backoff after an error).
    pub(crate) join_at: Instant,
    pub(crate) join_failures: u32,
    pub(crate) heartbeat_at: Instant,
    pub(crate) heartbeat_in_flight: bool,
}

/// The group coordinator as known.
#[derive(Debug, Default)]
pub(crate) struct Coordinator {
    /// Node id, host, port.
    pub(crate) node: Option<(i32, String, u16)>,
    pub(crate) finding: bool,
    pub(crate) retry_at: Option<Instant>,
    pub(crate) failures: u32,
}

/// How a partition's position is being found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PartPhase {
    /// Its committed offset is wanted (OffsetFetch).
    Committed,
    /// Its position comes from `auto.offset.reset` (ListOffsets wanted).
    Reset,
    /// ListOffsets outstanding.
    Resetting,
    /// Position known: fetching.
    Fetchable,
}

/// One assigned partition.
#[derive(Debug)]
pub(crate) struct Part {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    /// The next offset to hand out.
    pub(crate) position: i64,
    pub(crate) phase: PartPhase,
    pub(crate) fetching: bool,
    /// Nothing is asked for it before this instant (backoff after an error).
    pub(crate) retry_at: Option<Instant>,
    pub(crate) failures: u32,
}

/// Why a commit is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// [`Consumer::commit`] or auto-commit.
    User,
    /// Before an eager revocation.
    Revoke,
    /// In [`Consumer::close`].
    Close,
}

/// A commit waiting to be sent or answered.
#[derive(Debug)]
pub(crate) struct Commit {
    pub(crate) offsets: Vec<((String, i32), i64)>,
    pub(crate) generation: i32,
    pub(crate) purpose: Purpose,
}

/// The sans-IO consumer-group client: one value, no clock, socket or thread inside. Feed it
/// [`Input`]s (and [`commit`](Consumer::commit) / [`close`](Consumer::close)), drain
/// [`poll_output`](Consumer::poll_output) after each, carry out what it asks. See the
/// [module documentation](self) for the contract, the guarantees and a run loop.
#[derive(Debug)]
pub struct Consumer {
    config: ConsumerConfig,
    rng: Rng,
    now: Instant,
    conns: Conns<Req>,
    metadata: Metadata,
    out: VecDeque<ConsumerOutput>,
    bootstrap_next: usize,
    retry: Backoff,
    /// The encoded ConsumerProtocolSubscription.
    subscription: Vec<u8>,
    coord: Coordinator,
    member: Member,
    parts: Vec<Part>,
    /// Counts assignments: answers about an earlier one are ignored.
    epoch: u64,
    commits: VecDeque<Commit>,
    commit_in_flight: bool,
    commit_retry_at: Option<Instant>,
    commit_failures: u32,
    /// OffsetFetch outstanding, and its backoff.
    offsets_in_flight: bool,
    offsets_retry_at: Option<Instant>,
    auto_commit_at: Option<Instant>,
    /// `close` was called: the deadline by which it finishes whatever is unanswered.
    closing: Option<Instant>,
    leave_sent: bool,
    finished: bool,
    /// As the group's leader, the partition count of every topic its assignment covered (the
    /// Java client's metadata snapshot): a change makes it rejoin, so new partitions and
    /// topics get assigned.
    assigned_counts: Option<Vec<(String, Option<u32>)>>,
    /// A drive pass has run (before the first, the consumer asks to be woken at once).
    started: bool,
}

impl Consumer {
    /// A consumer with `config` (validated) starting at `now`. Its first
    /// [`poll_output`](Self::poll_output) asks to be woken at `now`: it connects on that
    /// [`Input::Timeout`] (or any earlier input).
    pub fn new(config: ConsumerConfig, now: Instant) -> Result<Consumer, ConfigError> {
        config.validate()?;
        let subscription = protocol::encode_subscription(&config.topics)
            .map_err(|_| ConfigError::Conflict("the subscription does not encode (too many topics)"))?;
        let mut metadata = Metadata::new(config.metadata_max_age);
        metadata.allow_auto_topic_creation = config.allow_auto_create_topics;
        for t in &config.topics {
            metadata.add_topic(t);
        }
        let reconnect = Backoff { initial: config.reconnect_backoff, max: config.reconnect_backoff_max };
        Ok(Consumer {
            rng: Rng::new(config.seed),
            now,
            conns: Conns::new(config.client_id.clone(), reconnect),
            metadata,
            out: VecDeque::new(),
            bootstrap_next: 0,
            retry: Backoff { initial: config.retry_backoff, max: config.retry_backoff_max },
            subscription,
            coord: Coordinator::default(),
            member: Member {
                id: String::new(),
                generation: -1,
                phase: Phase::Unjoined,
                join_at: now,
                join_failures: 0,
                heartbeat_at: now,
                heartbeat_in_flight: false,
            },
            parts: Vec::new(),
            epoch: 0,
            commits: VecDeque::new(),
            commit_in_flight: false,
            commit_retry_at: None,
            commit_failures: 0,
            offsets_in_flight: false,
            offsets_retry_at: None,
            auto_commit_at: config.enable_auto_commit.then(|| now + config.auto_commit_interval),
            closing: None,
            leave_sent: false,
            finished: false,
            started: false,
            assigned_counts: None,
            config,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &ConsumerConfig {
        &self.config
    }

    /// The member id the coordinator gave (empty before the first JoinGroup answer).
    pub fn member_id(&self) -> &str {
        &self.member.id
    }

    /// The generation the member is in (-1 when in none).
    pub fn generation(&self) -> i32 {
        self.member.generation
    }

    /// The member's place in its group now, for a transactional producer's
    /// `send_offsets_to_transaction` (KIP-447: the group coordinator refuses the offsets of a
    /// member no longer in this generation, so a zombie's processing never commits).
    pub fn group_metadata(&self) -> crate::producer::ConsumerGroupMetadata {
        crate::producer::ConsumerGroupMetadata {
            group_id: self.config.group_id.clone(),
            generation_id: self.member.generation,
            member_id: self.member.id.clone(),
            group_instance_id: self.config.group_instance_id.clone(),
        }
    }

    /// The partitions assigned now and each one's position (the offset of the next record to
    /// hand out; `None` while it is being looked up).
    pub fn assignment(&self) -> Vec<((String, i32), Option<i64>)> {
        self.parts
            .iter()
            .map(|p| ((p.topic.clone(), p.partition), (p.phase == PartPhase::Fetchable).then_some(p.position)))
            .collect()
    }

    /// Whether the consumer has stopped (closed, or a fatal error): every input is ignored.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Feeds one fact in; drain [`poll_output`](Self::poll_output) afterwards.
    pub fn handle_input(&mut self, input: Input<'_>) {
        if self.finished {
            return;
        }
        match input {
            Input::Connected { now, conn } => {
                self.now = self.now.max(now);
                let timeout = self.config.request_timeout;
                if let Some(frame) = self.conns.on_connected(conn, self.now, timeout) {
                    self.transmit(conn, frame);
                }
            }
            Input::Received { now, conn, bytes } => {
                self.now = self.now.max(now);
                self.on_received(conn, bytes);
            }
            Input::Disconnected { now, conn } => {
                self.now = self.now.max(now);
                self.drop_conn(conn, false);
            }
            Input::Timeout(now) => self.now = self.now.max(now),
        }
        self.drive();
    }

    /// Commits the position of every assigned partition whose position is known (the offset
    /// after the last batch read: the last record handed out, or a control batch or aborted
    /// transaction stepped over after it), asynchronously: one [`ConsumerEvent::Committed`] or
    /// [`ConsumerEvent::CommitFailed`] answers it. Commits are sent one at a time, in order;
    /// retriable coordinator errors are retried. Without an assignment it answers
    /// `Committed` with no offsets at once.
    pub fn commit(&mut self, now: Instant) {
        if self.finished {
            return;
        }
        self.now = self.now.max(now);
        self.queue_commit(Purpose::User);
        self.drive();
    }

    /// Closes: stops handing out records, commits the positions, leaves the group
    /// (LeaveGroup; not with `group.instance.id`, whose place waits for a restart until its
    /// session expires, KIP-345), closes every connection, then emits
    /// [`ConsumerEvent::Closed`]. What the coordinator has not answered within
    /// `request.timeout.ms` is given up.
    pub fn close(&mut self, now: Instant) {
        if self.finished || self.closing.is_some() {
            return;
        }
        self.now = self.now.max(now);
        self.closing = Some(self.now + self.config.request_timeout);
        if self.member.phase == Phase::Stable && self.member.generation >= 0 {
            self.queue_commit(Purpose::Close);
        }
        self.drive();
    }

    /// The next action, in the order to carry them out; [`ConsumerOutput::Timeout`] once
    /// drained (and again on every call until new input).
    pub fn poll_output(&mut self) -> ConsumerOutput {
        match self.out.pop_front() {
            Some(o) => o,
            None => ConsumerOutput::Timeout(if self.finished { None } else { self.next_timeout() }),
        }
    }

    /// Queues a commit of the known positions for `purpose` (answered at once when empty).
    fn queue_commit(&mut self, purpose: Purpose) {
        let offsets: Vec<((String, i32), i64)> = self
            .parts
            .iter()
            .filter(|p| p.phase == PartPhase::Fetchable)
            .map(|p| ((p.topic.clone(), p.partition), p.position))
            .collect();
        let generation = self.member.generation;
        if offsets.is_empty() || generation < 0 {
            if purpose == Purpose::User {
                self.event(ConsumerEvent::Committed { offsets: Vec::new() });
            }
            self.commit_done(purpose);
            return;
        }
        self.commits.push_back(Commit { offsets, generation, purpose });
    }

    fn event(&mut self, e: ConsumerEvent) {
        self.out.push_back(ConsumerOutput::Event(e));
    }

    fn transmit(&mut self, conn: ConnId, data: Payload) {
        self.out.push_back(ConsumerOutput::Transmit { conn, data });
    }

    /// Stops for good with `error`: one event, every connection closed.
    fn fail(&mut self, error: ConsumerError) {
        if self.finished {
            return;
        }
        self.event(ConsumerEvent::Error(error));
        self.close_all();
    }

    /// Closes every connection and stops.
    fn close_all(&mut self) {
        let ids: Vec<ConnId> = self.conns.iter().map(|c| c.id).collect();
        for id in ids {
            self.conns.remove(id, self.now, &mut self.rng);
            self.out.retain(|o| !matches!(o, ConsumerOutput::Transmit { conn, .. } if *conn == id));
            self.out.push_back(ConsumerOutput::Close { conn: id });
        }
        self.finished = true;
    }
}
