//! Diagnostics: what the producer decided and why, as typed values ([`Diagnostic`]) handed out
//! as [`Output::Diagnostic`](super::Output::Diagnostic) for the debug contexts on in `debug`.
//!
//! Each [`DiagnosticKind`] belongs to one [`DebugContext`]; its `Display` is one line for an
//! operator (reasons as words, Kafka's error names, the setting that applies). Nothing is made
//! for a context that is off: the producer tests one bit before building a diagnostic, so
//! diagnostics cost nothing unless asked for.

use alloc::string::String;
use core::fmt;

use super::ConnId;
use super::report::{DeliveryError, Persisted};
use crate::debug::DebugContext;
use crate::proto::record_batch::increment_sequence;
use crate::proto::{ApiKey, ErrorCode};
use crate::time::{Duration, Instant};

/// One diagnostic: when (the core's `now`) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The core's time when it happened.
    pub at: Instant,
    /// What happened, with its reason.
    pub kind: DiagnosticKind,
}

impl Diagnostic {
    /// The debug context it belongs to (the one that had to be on for it to be made).
    pub fn context(&self) -> DebugContext {
        self.kind.context()
    }
}

impl fmt::Display for Diagnostic {
    /// One line without the time (a logger adds its own): see [`DiagnosticKind`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

/// A batch as diagnostics name it: its producer id, epoch and sequence range (when sequenced),
/// its size and how often it was transmitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchSummary {
    /// Producer id (-1 without idempotence).
    pub producer_id: i64,
    /// Producer epoch (-1 without idempotence).
    pub epoch: i16,
    /// Sequence of its first record (-1 without idempotence).
    pub base_sequence: i32,
    /// Records in it.
    pub records: u32,
    /// Transmissions so far.
    pub attempts: u32,
}

impl BatchSummary {
    /// Sequence of its last record (Int32 wrap-around as Kafka's); `None` without a sequence.
    pub fn last_sequence(&self) -> Option<i32> {
        let span = i32::try_from(self.records.saturating_sub(1)).unwrap_or(i32::MAX);
        (self.base_sequence >= 0).then(|| increment_sequence(self.base_sequence, span))
    }
}

impl fmt::Display for BatchSummary {
    /// `batch pid 7 epoch 0 seq 10..=19 (10 records, 2 attempts)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = if self.attempts == 1 { "" } else { "s" };
        match self.last_sequence() {
            Some(last) => write!(
                f,
                "batch pid {} epoch {} seq {}..={} ({} records, {} attempt{s})",
                self.producer_id, self.epoch, self.base_sequence, last, self.records, self.attempts
            ),
            None => write!(f, "batch of {} records ({} attempt{s})", self.records, self.attempts),
        }
    }
}

/// Why the producer closed a connection (or forgot one the driver reported lost).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// The driver reported it lost: the peer closed it, writing failed, or the connect failed.
    Disconnected,
    /// It was not established within `socket.connection.setup.timeout.ms`.
    ConnectTimeout(Duration),
    /// A request got no answer within `request.timeout.ms`.
    RequestTimeout {
        /// The request's API.
        api: ApiKey,
        /// Its correlation id.
        correlation_id: i32,
        /// `request.timeout.ms`.
        timeout: Duration,
    },
    /// A batch whose request is unanswered reached `delivery.timeout.ms` and was reported
    /// possibly persisted: the connection goes so that the request cannot land later.
    DeliveryTimeout,
    /// The broker sent bytes that do not decode or do not answer the oldest request.
    Malformed,
    /// Its TLS session failed for a reason a new connection may not repeat (bytes that are not
    /// TLS or are corrupt: a plaintext listener, for instance).
    #[cfg(feature = "tls")]
    Tls(crate::tls::TlsFailure),
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::Disconnected => {
                f.write_str("disconnected (closed by the peer, or the connect or a write failed)")
            }
            CloseReason::ConnectTimeout(t) => {
                write!(f, "not connected within {t} (socket.connection.setup.timeout.ms)")
            }
            CloseReason::RequestTimeout { api, correlation_id, timeout } => write!(
                f,
                "{api:?} request (correlation id {correlation_id}) unanswered after {timeout} (request.timeout.ms)"
            ),
            CloseReason::DeliveryTimeout => f.write_str(
                "a batch in flight on it reached delivery.timeout.ms and was given up: closed so that its request \
                 cannot land later",
            ),
            CloseReason::Malformed => f.write_str("the broker sent a malformed or unexpected response"),
            #[cfg(feature = "tls")]
            CloseReason::Tls(failure) => write!(f, "TLS failed: {failure} (is the listener TLS?)"),
        }
    }
}

/// What an ApiVersions answer came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiVersionsOutcome {
    /// The connection is ready with these versions (`None`: the broker has none idem speaks).
    Ready {
        /// Produce version.
        produce: Option<i16>,
        /// Metadata version.
        metadata: Option<i16>,
        /// InitProducerId version.
        init_producer_id: Option<i16>,
    },
    /// UNSUPPORTED_VERSION: ApiVersions is asked again at this lower version.
    Retry(i16),
}

/// Why a transmitted batch's outcome is unknown: it may be in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownReason {
    /// The connection carrying its request was lost before the answer.
    ConnectionLost,
    /// The broker's answer left its partition out.
    NotInAnswer,
    /// The broker answered with an error it may send after appending (REQUEST_TIMED_OUT,
    /// NOT_ENOUGH_REPLICAS_AFTER_APPEND, NOT_LEADER_OR_FOLLOWER, ...).
    Error(ErrorCode),
    /// `delivery.timeout.ms` elapsed while its request was unanswered.
    DeliveryTimeout,
}

impl fmt::Display for UnknownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnknownReason::ConnectionLost => f.write_str("its connection was lost before the answer"),
            UnknownReason::NotInAnswer => f.write_str("the broker's answer left its partition out"),
            UnknownReason::Error(c) => write!(f, "answered {c}, which a broker may send after appending"),
            UnknownReason::DeliveryTimeout => f.write_str("delivery.timeout.ms elapsed with its request unanswered"),
        }
    }
}

/// Why a batch is transmitted again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryReason {
    /// The broker refused it with this retriable error before appending: it is not in the log.
    Refused(ErrorCode),
    /// Its last attempt's outcome is unknown: it is resent with the same bytes (same producer
    /// id, epoch and sequence), so the broker recognises it if it was written.
    Unknown(UnknownReason),
    /// Refused with this error because an earlier batch of the partition is unresolved: resent
    /// in sequence order after that one (not counted as an attempt).
    BehindUnresolved(ErrorCode),
}

impl fmt::Display for RetryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetryReason::Refused(c) => write!(f, "refused with {c} before the append"),
            RetryReason::Unknown(r) => write!(f, "{r}; resent with the same bytes"),
            RetryReason::BehindUnresolved(c) => write!(f, "{c} behind an unresolved earlier batch; resent in order"),
        }
    }
}

/// Why a partition needs the producer to move to a new epoch (drain, bump, renumber).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BumpReason {
    /// The broker refused the partition's oldest unresolved batch, definitely not written, with
    /// this sequence error (OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID,
    /// INVALID_PRODUCER_EPOCH): its batches are renumbered from 0 in the new epoch.
    SequenceRejected(ErrorCode),
    /// A batch was given up with this error in mid-sequence, leaving a gap the broker would
    /// refuse.
    GaveUp(DeliveryError),
    /// A batch of several records was refused as too large (this error): it is split in two,
    /// which renumbers the partition.
    TooLarge(ErrorCode),
}

impl fmt::Display for BumpReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BumpReason::SequenceRejected(c) => write!(f, "the broker refused the oldest unresolved batch with {c}"),
            BumpReason::GaveUp(e) => write!(f, "a batch was given up ({e}), leaving a sequence gap"),
            BumpReason::TooLarge(c) => write!(f, "a batch refused with {c} is split, which renumbers the partition"),
        }
    }
}

/// The partition that made an epoch bump necessary, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BumpCause {
    /// Its topic.
    pub topic: String,
    /// Its partition.
    pub partition: i32,
    /// Why.
    pub reason: BumpReason,
}

impl fmt::Display for BumpCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}: {}", self.topic, self.partition, self.reason)
    }
}

/// Where a new producer identity came from (see [`DiagnosticKind::ProducerId`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentitySource {
    /// The epoch bumped on the client (an idempotent producer, no request).
    Client,
    /// An InitProducerId answer: the first identity, a fresh id, or a bumped epoch.
    InitProducerId,
    /// An EndTxn v5 answer: transactions v2 (KIP-890) bump the epoch at every end.
    EndTxn,
}

/// What happened, with the broker, connection, topic-partition, producer id / epoch and
/// sequence range where they apply. The context of each variant is in its doc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiagnosticKind {
    /// `broker`: a connection is asked for.
    Connecting {
        /// The connection.
        conn: ConnId,
        /// Broker id (`-1 - i` for bootstrap server `i`).
        node: i32,
        /// Host.
        host: String,
        /// Port.
        port: u16,
    },
    /// `broker`: the connection is up; ApiVersions is sent at `version`.
    Connected {
        /// The connection.
        conn: ConnId,
        /// Broker id.
        node: i32,
        /// ApiVersions version.
        version: i16,
    },
    /// `broker`: the ApiVersions answer.
    ApiVersions {
        /// The connection.
        conn: ConnId,
        /// Broker id.
        node: i32,
        /// What it came to.
        outcome: ApiVersionsOutcome,
    },
    /// `broker`: a SASL exchange started (SaslHandshake sent): after ApiVersions, or a KIP-368
    /// re-authentication.
    SaslStarted {
        /// The connection.
        conn: ConnId,
        /// Broker id.
        node: i32,
        /// The mechanism.
        mechanism: crate::sasl::Mechanism,
        /// A re-authentication.
        reauth: bool,
    },
    /// `broker`: the SASL exchange succeeded; the connection is ready.
    SaslAuthenticated {
        /// The connection.
        conn: ConnId,
        /// Broker id.
        node: i32,
        /// The mechanism.
        mechanism: crate::sasl::Mechanism,
        /// A re-authentication.
        reauth: bool,
        /// The session lifetime the broker announced (0: none).
        session_lifetime_ms: i64,
    },
    /// `broker`: the TLS handshake is over; the connection negotiates its versions next.
    #[cfg(feature = "tls")]
    TlsEstablished {
        /// The connection.
        conn: ConnId,
        /// Broker id.
        node: i32,
        /// The protocol version and cipher suite (`TLSv1_3 TLS13_AES_256_GCM_SHA384`).
        session: String,
    },
    /// `broker`: the TLS session failed (fatal when [`TlsFailure::is_authentication`](crate::tls::TlsFailure::is_authentication);
    /// otherwise the connection closes and is retried).
    #[cfg(feature = "tls")]
    TlsFailed {
        /// The connection.
        conn: ConnId,
        /// Broker id.
        node: i32,
        /// The host connected to.
        host: String,
        /// Why.
        failure: crate::tls::TlsFailure,
        /// rustls's words for it.
        detail: String,
    },
    /// `broker`: the SASL exchange failed (the producer stops with a fatal error).
    SaslFailed {
        /// The connection.
        conn: ConnId,
        /// Broker id.
        node: i32,
        /// The mechanism.
        mechanism: crate::sasl::Mechanism,
        /// What went wrong.
        failure: super::report::AuthenticationFailure,
        /// The broker's error message, if it sent one.
        message: Option<String>,
    },
    /// `broker`: the connection is gone; its unanswered requests are lost (their batches'
    /// outcome unknown).
    ConnectionClosed {
        /// The connection.
        conn: ConnId,
        /// Broker id.
        node: i32,
        /// Why.
        reason: CloseReason,
        /// Requests that were unanswered.
        unanswered: u32,
    },
    /// `metadata`: a topic's partition count became known (or grew).
    PartitionCount {
        /// Topic.
        topic: String,
        /// Its partitions.
        partitions: u32,
    },
    /// `metadata`: a partition's leader changed (`None`: no leader known).
    LeaderChanged {
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// The leader before.
        from: Option<i32>,
        /// The leader now.
        to: Option<i32>,
    },
    /// `metadata`: the metadata answer has an error for a topic: its records wait on, or, for
    /// an error waiting cannot mend (`hopeless`: INVALID_TOPIC_EXCEPTION,
    /// TOPIC_AUTHORIZATION_FAILED), those waiting for its metadata fail.
    TopicError {
        /// Topic.
        topic: String,
        /// The topic-level error.
        error: ErrorCode,
        /// Whether its waiting records fail.
        hopeless: bool,
    },
    /// `msg`: a batch will be transmitted again after the retry backoff.
    Retry {
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// The batch (its attempts so far).
        batch: BatchSummary,
        /// Why.
        reason: RetryReason,
        /// The retry backoff before it may go (`retry.backoff.ms`, exponential, with jitter).
        backoff: Duration,
    },
    /// `msg`: a batch refused as too large is split in two.
    Split {
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// The batch.
        batch: BatchSummary,
        /// The broker's error (MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE).
        error: ErrorCode,
    },
    /// `msg`: a batch's records are reported failed (`batch` `None`: an open batch, never
    /// sealed, or records that waited for their topic's metadata).
    Failed {
        /// Topic.
        topic: String,
        /// Partition (-1: not assigned yet).
        partition: i32,
        /// The batch, when it was sealed.
        batch: Option<BatchSummary>,
        /// Records failed.
        records: u64,
        /// Why.
        error: DeliveryError,
        /// Whether they may be in the log anyway.
        persisted: Persisted,
    },
    /// `eos`: an attempt of a batch got no definite answer: the batch is marked possibly
    /// persisted (it is only ever resent with the same bytes, never renumbered).
    OutcomeUnknown {
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// The batch.
        batch: BatchSummary,
        /// Why its outcome is unknown.
        reason: UnknownReason,
    },
    /// `eos`: a partition needs a new epoch: every partition stops starting new batches and
    /// drains (batches of unknown outcome resolve) before the bump.
    BumpNeeded {
        /// The producer id and epoch to leave.
        producer_id: i64,
        /// Epoch.
        epoch: i16,
        /// Which partition asked, and why.
        cause: BumpCause,
    },
    /// `eos`: the producer uses a new identity: the first from InitProducerId, a local epoch
    /// bump (same id, epoch + 1), a fresh id or a bumped epoch from InitProducerId, or the
    /// bump of a transactions v2 end (EndTxn v5). Every partition restarts at sequence 0 after
    /// a bump.
    ProducerId {
        /// Producer id.
        producer_id: i64,
        /// Epoch.
        epoch: i16,
        /// The identity before (`None`: the first).
        previous: Option<(i64, i16)>,
        /// Where it came from.
        source: IdentitySource,
        /// The partition that made it necessary, for a bump.
        cause: Option<BumpCause>,
    },
    /// `eos`: InitProducerId did not give an identity: it is asked again after the backoff
    /// (`error` `None`: the request was lost with its connection or timed out).
    ProducerIdRetry {
        /// The broker's error, if it answered.
        error: Option<ErrorCode>,
        /// When it is asked again (backoff).
        backoff: Duration,
    },
    /// `protocol`: a request was written.
    RequestSent {
        /// The connection.
        conn: ConnId,
        /// Broker id.
        node: i32,
        /// API.
        api: ApiKey,
        /// Version.
        version: i16,
        /// Correlation id.
        correlation_id: i32,
        /// Frame size in bytes.
        bytes: usize,
    },
    /// `protocol`: a response was received.
    ResponseReceived {
        /// The connection.
        conn: ConnId,
        /// Broker id.
        node: i32,
        /// API of the request it answers.
        api: ApiKey,
        /// Correlation id.
        correlation_id: i32,
        /// Frame body size in bytes.
        bytes: usize,
        /// Time from the request's transmission to its answer.
        latency: Duration,
    },
}

impl DiagnosticKind {
    /// The debug context it belongs to.
    pub fn context(&self) -> DebugContext {
        use DiagnosticKind as K;
        match self {
            K::Connecting { .. }
            | K::Connected { .. }
            | K::ApiVersions { .. }
            | K::ConnectionClosed { .. }
            | K::SaslStarted { .. }
            | K::SaslAuthenticated { .. }
            | K::SaslFailed { .. } => DebugContext::Broker,
            #[cfg(feature = "tls")]
            K::TlsEstablished { .. } | K::TlsFailed { .. } => DebugContext::Broker,
            K::PartitionCount { .. } | K::LeaderChanged { .. } | K::TopicError { .. } => DebugContext::Metadata,
            K::Retry { .. } | K::Split { .. } | K::Failed { .. } => DebugContext::Msg,
            K::OutcomeUnknown { .. } | K::BumpNeeded { .. } | K::ProducerId { .. } | K::ProducerIdRetry { .. } => {
                DebugContext::Eos
            }
            K::RequestSent { .. } | K::ResponseReceived { .. } => DebugContext::Protocol,
        }
    }
}

/// `broker 3`, or `bootstrap server 1` for the `-1 - i` ids.
pub(crate) struct Node(pub(crate) i32);

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 >= 0 {
            write!(f, "broker {}", self.0)
        } else {
            write!(f, "bootstrap server {}", -1 - i64::from(self.0))
        }
    }
}

/// `broker 3`, or `none`.
struct Leader(Option<i32>);

impl fmt::Display for Leader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(n) => write!(f, "broker {n}"),
            None => f.write_str("none"),
        }
    }
}

/// `v3`, or `none` when the broker has no version idem speaks.
struct Version(Option<i16>);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(v) => write!(f, "v{v}"),
            None => f.write_str("none"),
        }
    }
}

fn persisted(p: Persisted) -> &'static str {
    match p {
        Persisted::No => "not persisted",
        Persisted::Possibly => "possibly persisted",
    }
}

impl fmt::Display for DiagnosticKind {
    /// One line, e.g. `connection 3 to broker 1 closed: Produce request (correlation id 17)
    /// unanswered after 30000ms (request.timeout.ms); 1 requests unanswered` or `events-0:
    /// retrying batch pid 7 epoch 0 seq 10..=19 (10 records, 1 attempt) in 100ms:
    /// NOT_LEADER_OR_FOLLOWER (6), ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DiagnosticKind as K;
        match self {
            K::Connecting { conn, node, host, port } => {
                write!(f, "connection {} to {} at {host}:{port}: connecting", conn.0, Node(*node))
            }
            K::Connected { conn, node, version } => {
                write!(f, "connection {} to {}: connected, ApiVersions v{version} sent", conn.0, Node(*node))
            }
            K::ApiVersions { conn, node, outcome } => match outcome {
                ApiVersionsOutcome::Ready { produce, metadata, init_producer_id } => write!(
                    f,
                    "connection {} to {}: ready: Produce {}, Metadata {}, InitProducerId {}",
                    conn.0,
                    Node(*node),
                    Version(*produce),
                    Version(*metadata),
                    Version(*init_producer_id)
                ),
                ApiVersionsOutcome::Retry(v) => write!(
                    f,
                    "connection {} to {}: ApiVersions answered UNSUPPORTED_VERSION: asking again at v{v}",
                    conn.0,
                    Node(*node)
                ),
            },
            K::SaslStarted { conn, node, mechanism, reauth } => {
                let what = if *reauth { "re-authenticating" } else { "authenticating" };
                write!(f, "connection {} to {}: {what} with SASL {mechanism}", conn.0, Node(*node))
            }
            K::SaslAuthenticated { conn, node, mechanism, reauth, session_lifetime_ms } => {
                let what = if *reauth { "re-authenticated" } else { "authenticated" };
                write!(f, "connection {} to {}: {what} with SASL {mechanism}", conn.0, Node(*node))?;
                match session_lifetime_ms {
                    0 => f.write_str(", session without expiry"),
                    ms => write!(f, ", session lifetime {ms} ms"),
                }
            }
            #[cfg(feature = "tls")]
            K::TlsEstablished { conn, node, session } => {
                write!(f, "connection {} to {}: TLS established ({session})", conn.0, Node(*node))
            }
            #[cfg(feature = "tls")]
            K::TlsFailed { conn, node, host, failure, detail } => {
                write!(f, "connection {} to {} ({host}): TLS failed: {failure} ({detail})", conn.0, Node(*node))
            }
            K::SaslFailed { conn, node, mechanism, failure, message } => {
                write!(f, "connection {} to {}: SASL {mechanism} failed: {failure}", conn.0, Node(*node))?;
                match message {
                    Some(m) => write!(f, " (broker: {m})"),
                    None => Ok(()),
                }
            }
            K::ConnectionClosed { conn, node, reason, unanswered } => {
                write!(f, "connection {} to {} closed: {reason}; {unanswered} requests unanswered", conn.0, Node(*node))
            }
            K::PartitionCount { topic, partitions } => write!(f, "topic `{topic}`: {partitions} partitions"),
            K::LeaderChanged { topic, partition, from, to } => {
                write!(f, "{topic}-{partition}: leader {} (was {})", Leader(*to), Leader(*from))
            }
            K::TopicError { topic, error, hopeless: false } => {
                write!(f, "topic `{topic}`: {error}: its records wait (metadata is asked again)")
            }
            K::TopicError { topic, error, hopeless: true } => {
                write!(f, "topic `{topic}`: {error}: the records waiting for its metadata fail")
            }
            K::Retry { topic, partition, batch, reason, backoff } => {
                write!(f, "{topic}-{partition}: retrying {batch} in {backoff}: {reason}")
            }
            K::Split { topic, partition, batch, error } => {
                write!(f, "{topic}-{partition}: {batch} refused with {error}: split in two")
            }
            K::Failed { topic, partition, batch: Some(batch), error, persisted: p, .. } => {
                write!(f, "{topic}-{partition}: {batch} failed ({}): {error}", persisted(*p))
            }
            K::Failed { topic, partition, batch: None, records, error, persisted: p } => {
                if *partition >= 0 {
                    write!(f, "{topic}-{partition}: {records} unsent records failed ({}): {error}", persisted(*p))
                } else {
                    write!(
                        f,
                        "topic `{topic}`: {records} records waiting for metadata failed ({}): {error}",
                        persisted(*p)
                    )
                }
            }
            K::OutcomeUnknown { topic, partition, batch, reason } => {
                write!(f, "{topic}-{partition}: {batch} possibly persisted: {reason}")
            }
            K::BumpNeeded { producer_id, epoch, cause } => write!(
                f,
                "epoch bump needed for producer id {producer_id} epoch {epoch} ({cause}): draining every partition \
                 first"
            ),
            K::ProducerId { producer_id, epoch, previous: None, .. } => {
                write!(f, "producer id {producer_id} epoch {epoch} from InitProducerId")
            }
            K::ProducerId { producer_id, epoch, previous: Some((old_id, old_epoch)), source, cause } => {
                match source {
                    IdentitySource::Client => {
                        write!(f, "epoch bumped on the client: producer id {producer_id} epoch {old_epoch} -> {epoch}")?
                    }
                    IdentitySource::InitProducerId if producer_id == old_id => write!(
                        f,
                        "epoch bumped by InitProducerId: producer id {producer_id} epoch {old_epoch} -> {epoch}"
                    )?,
                    IdentitySource::InitProducerId => write!(
                        f,
                        "fresh producer id {producer_id} epoch {epoch} from InitProducerId (producer id {old_id} \
                         epoch {old_epoch} is exhausted)"
                    )?,
                    IdentitySource::EndTxn => write!(
                        f,
                        "the transaction's end bumped the epoch (EndTxn, transactions v2): producer id {old_id} \
                         epoch {old_epoch} -> producer id {producer_id} epoch {epoch}"
                    )?,
                }
                match cause {
                    Some(c) => write!(f, "; cause: {c}; every partition restarts at sequence 0"),
                    None => f.write_str("; every partition restarts at sequence 0"),
                }
            }
            K::ProducerIdRetry { error: Some(e), backoff } => {
                write!(f, "InitProducerId answered {e}: asking again in {backoff}")
            }
            K::ProducerIdRetry { error: None, backoff } => {
                write!(f, "InitProducerId request lost: asking again in {backoff}")
            }
            K::RequestSent { conn, node, api, version, correlation_id, bytes } => write!(
                f,
                "connection {} to {}: sent {api:?} v{version} request, correlation id {correlation_id}, {bytes} bytes",
                conn.0,
                Node(*node)
            ),
            K::ResponseReceived { conn, node, api, correlation_id, bytes, latency } => write!(
                f,
                "connection {} to {}: {api:?} response, correlation id {correlation_id}, {bytes} bytes, after {latency}",
                conn.0,
                Node(*node)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn batch() -> BatchSummary {
        BatchSummary { producer_id: 7, epoch: 1, base_sequence: i32::MAX - 1, records: 4, attempts: 2 }
    }

    #[test]
    fn lines_name_the_reason_and_the_context() {
        assert_eq!(batch().last_sequence(), Some(1), "wraps at Int32 max");
        let b = BatchSummary { producer_id: -1, epoch: -1, base_sequence: -1, ..batch() };
        assert_eq!(b.to_string(), "batch of 4 records (2 attempts)");
        let d = Diagnostic {
            at: Instant::ZERO,
            kind: DiagnosticKind::Retry {
                topic: "t".into(),
                partition: 3,
                batch: batch(),
                reason: RetryReason::Refused(ErrorCode::NOT_LEADER_OR_FOLLOWER),
                backoff: Duration::from_millis(100),
            },
        };
        assert_eq!(d.context(), DebugContext::Msg);
        assert_eq!(
            d.to_string(),
            "t-3: retrying batch pid 7 epoch 1 seq 2147483646..=1 (4 records, 2 attempts) in 100ms: refused with \
             NOT_LEADER_OR_FOLLOWER (6) before the append"
        );
        let closed = DiagnosticKind::ConnectionClosed {
            conn: ConnId(3),
            node: 1,
            reason: CloseReason::RequestTimeout {
                api: ApiKey::Produce,
                correlation_id: 17,
                timeout: Duration::from_secs(30),
            },
            unanswered: 2,
        };
        assert_eq!(closed.context(), DebugContext::Broker);
        assert_eq!(
            closed.to_string(),
            "connection 3 to broker 1 closed: Produce request (correlation id 17) unanswered after 30000ms \
             (request.timeout.ms); 2 requests unanswered"
        );
        let bump = DiagnosticKind::ProducerId {
            producer_id: 7,
            epoch: 2,
            previous: Some((7, 1)),
            source: IdentitySource::Client,
            cause: Some(BumpCause {
                topic: "t".into(),
                partition: 0,
                reason: BumpReason::SequenceRejected(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER),
            }),
        };
        assert_eq!(bump.context(), DebugContext::Eos);
        let line = bump.to_string();
        assert!(line.contains("epoch 1 -> 2") && line.contains("t-0: the broker refused"), "{line}");
        let connecting = DiagnosticKind::Connecting { conn: ConnId(1), node: -1, host: "h".into(), port: 9 };
        assert_eq!(connecting.to_string(), "connection 1 to bootstrap server 0 at h:9: connecting");
    }
}
