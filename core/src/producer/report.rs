//! What the producer reports: one [`Event`] per accepted record (delivered or failed, with
//! whether it may be in the log), fatal errors and `send` errors.

use core::fmt;

use super::transaction::{TransactionError, TransactionOp};
use crate::proto::ErrorCode;
use crate::proto::record_batch::Compression;
use crate::sasl::{Mechanism, SaslError};

/// Identifies one accepted record; assigned by `send` in increasing order from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId(pub u64);

/// Whether a failed record may nevertheless be in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Persisted {
    /// Definitely not in the log: it was never sent, or every attempt was rejected.
    No,
    /// Perhaps in the log (at most once): some attempt's outcome is unknown.
    Possibly,
}

/// Why a record was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryError {
    /// `delivery.timeout.ms` elapsed.
    Timeout,
    /// `retries` attempts failed; the last error is given.
    RetriesExhausted(ErrorCode),
    /// The broker rejected the batch with a non-retriable error.
    Rejected(ErrorCode),
    /// The broker answered with a sequence error (OUT_OF_ORDER_SEQUENCE_NUMBER,
    /// UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_EPOCH) for a batch whose earlier attempt's outcome is
    /// unknown: it cannot be resolved without risking a duplicate, so it is given up.
    SequenceUnresolvable(ErrorCode),
    /// A later batch of the partition was written before this one, which was definitely not:
    /// the broker had lost the producer's state and took the later batch as its first (KIP-360's
    /// rule, closed by KAFKA-15591). Writing this batch now would put it after a later record,
    /// so it is not sent again.
    Overtaken,
    /// The producer stopped on a fatal error.
    Fatal(FatalError),
    /// The producer was aborted before the record was delivered.
    Aborted,
    /// The record's transaction was aborted (`abort_transaction`) before the record was
    /// written; a record of an aborted transaction that was written is never read by a
    /// `read_committed` consumer either.
    TransactionAborted,
}

impl fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeliveryError::Timeout => f.write_str("delivery.timeout.ms elapsed"),
            DeliveryError::RetriesExhausted(c) => write!(f, "retries exhausted, last error: {c}"),
            DeliveryError::Rejected(c) => write!(f, "rejected by the broker: {c}"),
            DeliveryError::SequenceUnresolvable(c) => {
                write!(f, "sequence error {c} after an attempt of unknown outcome")
            }
            DeliveryError::Overtaken => {
                f.write_str("a later batch was written first (the broker lost the producer's state): not resent, to keep send order")
            }
            DeliveryError::Fatal(e) => write!(f, "producer failed: {e}"),
            DeliveryError::Aborted => f.write_str("producer aborted"),
            DeliveryError::TransactionAborted => f.write_str("its transaction was aborted"),
        }
    }
}

impl core::error::Error for DeliveryError {}

/// An error that stops the producer: every pending record is then reported failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FatalError {
    /// The producer was fenced (PRODUCER_FENCED) or not authorized (an authorization error code).
    Broker(ErrorCode),
    /// A broker does not support a version of `api_key` idem can speak.
    UnsupportedBroker {
        /// The API key.
        api_key: i16,
    },
    /// A broker's highest Produce version is below the first that may carry the configured
    /// `compression.type` (zstd needs Produce v7, KIP-110; such a broker would answer
    /// UNSUPPORTED_COMPRESSION_TYPE). Found when the connection's versions are negotiated,
    /// before any batch is sent on it: the records not sent elsewhere are reported
    /// [`Persisted::No`].
    UnsupportedCompression {
        /// The configured codec.
        codec: Compression,
        /// The highest Produce version the broker and idem share.
        produce_version: i16,
    },
    /// SASL authentication with a broker failed (the Java client's `AuthenticationException`,
    /// also fatal there for sends): wrong credentials, a mechanism the broker has not enabled,
    /// or a broker that could not prove itself (SCRAM). Retrying would only repeat it.
    Authentication {
        /// The mechanism configured (`sasl.mechanism`).
        mechanism: Mechanism,
        /// The broker (`-1 - i` for bootstrap server `i`).
        node: i32,
        /// What went wrong.
        failure: AuthenticationFailure,
    },
    /// The TLS handshake with a broker failed for a reason reconnecting would repeat (the Java
    /// client's `SslAuthenticationException`, also fatal there): its certificate was refused
    /// (untrusted, expired, not naming the host), or it refused this side (no or an untrusted
    /// client certificate, no common protocol version or cipher suite). The `broker`
    /// diagnostic has the host and rustls's own words.
    #[cfg(feature = "tls")]
    Tls {
        /// The broker (`-1 - i` for bootstrap server `i`).
        node: i32,
        /// What went wrong.
        failure: crate::tls::TlsFailure,
    },
}

/// Why SASL authentication failed; never carries a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthenticationFailure {
    /// The broker refused: SASL_AUTHENTICATION_FAILED (wrong user name, password or token),
    /// ILLEGAL_SASL_STATE, ... (the broker's message is in the `broker` diagnostic).
    Refused(ErrorCode),
    /// The broker answered the handshake UNSUPPORTED_SASL_MECHANISM; these are the mechanisms
    /// it enabled.
    UnsupportedMechanism {
        /// The broker's enabled mechanisms.
        enabled: MechanismSet,
    },
    /// The broker's SASL messages did not check out on this side (for SCRAM: a nonce, iteration
    /// count or server signature that is wrong).
    Client(SaslError),
    /// SCRAM needs a client nonce from the operating system and the driver installed no nonce
    /// source (`Producer::set_nonce_source`; idem-std and idem-smol always do).
    NoNonceSource,
}

impl fmt::Display for AuthenticationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthenticationFailure::Refused(c) => write!(f, "the broker refused the credentials: {c}"),
            AuthenticationFailure::UnsupportedMechanism { enabled } => {
                write!(
                    f,
                    "the broker does not enable this mechanism (UNSUPPORTED_SASL_MECHANISM); it enables: {enabled}"
                )
            }
            AuthenticationFailure::Client(e) => write!(f, "{e}"),
            AuthenticationFailure::NoNonceSource => f.write_str("no SCRAM nonce source installed by the driver"),
        }
    }
}

/// A set of SASL mechanism names a broker listed: idem's four, GSSAPI, and a count of others.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MechanismSet {
    known: u8,
    others: u8,
}

impl MechanismSet {
    const GSSAPI: u8 = 1 << 4;

    /// The set of `names`.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> MechanismSet {
        let mut s = MechanismSet::default();
        for name in names {
            match Mechanism::ALL.iter().position(|m| m.name() == name) {
                Some(i) => s.known |= 1 << i,
                None if name == "GSSAPI" => s.known |= Self::GSSAPI,
                None => s.others = s.others.saturating_add(1),
            }
        }
        s
    }

    /// Whether `m` is in the set.
    pub fn contains(self, m: Mechanism) -> bool {
        Mechanism::ALL.iter().position(|x| *x == m).is_some_and(|i| self.known & (1 << i) != 0)
    }
}

impl fmt::Display for MechanismSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names =
            Mechanism::ALL.iter().filter(|m| self.contains(**m)).map(|m| m.name()).collect::<alloc::vec::Vec<_>>();
        if self.known & Self::GSSAPI != 0 {
            names.push("GSSAPI");
        }
        if names.is_empty() && self.others == 0 {
            return f.write_str("none");
        }
        f.write_str(&names.join(", "))?;
        match (names.is_empty(), self.others) {
            (_, 0) => Ok(()),
            (true, n) => write!(f, "{n} mechanism(s) idem does not know"),
            (false, n) => write!(f, " and {n} mechanism(s) idem does not know"),
        }
    }
}

impl fmt::Display for FatalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FatalError::Broker(c) => write!(f, "fatal broker error: {c}"),
            FatalError::UnsupportedBroker { api_key } => {
                write!(f, "broker supports no version of api key {api_key} that idem speaks")
            }
            FatalError::Authentication { mechanism, node, failure } => {
                let node = super::diagnostic::Node(*node);
                write!(f, "SASL authentication failed with {mechanism} at {node}: {failure}")
            }
            #[cfg(feature = "tls")]
            FatalError::Tls { node, failure } => {
                write!(f, "TLS handshake with {} failed: {failure}", super::diagnostic::Node(*node))
            }
            FatalError::UnsupportedCompression { codec, produce_version } => write!(
                f,
                "compression.type={} needs Produce v{} (KIP-110) but the broker speaks at most v{produce_version}: \
                 choose another compression.type or upgrade the broker",
                codec.name(),
                codec.min_produce_version()
            ),
        }
    }
}

impl core::error::Error for FatalError {}

/// Something the application should know about. `T` is the opaque value the record was sent
/// with ([`Producer::send_with_opaque`](super::Producer::send_with_opaque); `()` for
/// [`Producer::send`](super::Producer::send)), handed back with its one report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<T = ()> {
    /// The record is in the log.
    Delivered {
        /// The record.
        id: RecordId,
        /// Its partition.
        partition: i32,
        /// Its offset; `None` when the broker acknowledged it as DUPLICATE_SEQUENCE_NUMBER
        /// without an offset, or when it was acknowledged implicitly (a later batch of the same
        /// partition succeeded while this one's own answer was lost or ambiguous).
        offset: Option<i64>,
        /// The record's timestamp (CreateTime), or the broker's LogAppendTime when it returned one.
        timestamp_ms: i64,
        /// The value the record was sent with (librdkafka's per-message opaque).
        opaque: T,
    },
    /// The record will not be delivered.
    Failed {
        /// The record.
        id: RecordId,
        /// Why.
        error: DeliveryError,
        /// Whether it may be in the log anyway (at most once).
        persisted: Persisted,
        /// The value the record was sent with.
        opaque: T,
    },
    /// The producer stopped; `Failed` events for every pending record follow.
    Fatal(FatalError),
    /// A transactional operation (`init_transactions`, `send_offsets_to_transaction`,
    /// `commit_transaction`, `abort_transaction`) ended: exactly one per operation the producer
    /// accepted. A commit's event comes after the events of all its records.
    Transaction {
        /// The operation.
        op: TransactionOp,
        /// How it ended.
        result: Result<(), TransactionError>,
    },
}

/// Why `send` refused a record. A refused record gets no event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// `buffer.memory` is used up: retry after some deliveries (runtimes may block).
    QueueFull,
    /// The record alone (as a batch) exceeds `message.max.bytes`.
    RecordTooLarge {
        /// Size of the record as a one-record batch.
        size: usize,
        /// `message.max.bytes`.
        max: usize,
    },
    /// An explicit partition is negative or beyond the topic's known partition count.
    InvalidPartition(i32),
    /// The topic name is empty or longer than 249 bytes.
    InvalidTopic,
    /// The producer is closing or stopped.
    Closed,
    /// The producer stopped on a fatal error.
    Fatal(FatalError),
    /// A transactional producer refused the record: no transaction is open, or it must be
    /// aborted.
    Transaction(TransactionError),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::QueueFull => f.write_str("buffer.memory exhausted"),
            SendError::RecordTooLarge { size, max } => {
                write!(f, "record of {size} bytes exceeds message.max.bytes={max}")
            }
            SendError::InvalidPartition(p) => write!(f, "invalid partition {p}"),
            SendError::InvalidTopic => f.write_str("invalid topic name"),
            SendError::Closed => f.write_str("producer is closed"),
            SendError::Fatal(e) => write!(f, "producer failed: {e}"),
            SendError::Transaction(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for SendError {}
