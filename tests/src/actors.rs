//! The two actors a simulation drives, as the driver sees them.
//!
//! The simulation is written against these traits, not against the concrete producer and broker
//! types, so the driver, the network and the checker stay small and independent of API details;
//! `adapters` implements them for `idem_core`'s producer and broker cluster (and `toy` for a
//! deliberately simple pair used to test the harness itself).

use std::collections::BTreeMap;

use idem_core::Instant;
pub use idem_core::broker::RestartMode;

use crate::checker::{LogEntry, Outcome};

/// A record as the workload hands it to the producer.
#[derive(Clone, Debug)]
pub struct WorkRecord {
    /// Topic.
    pub topic: String,
    /// Explicit partition, or `None` for the partitioner.
    pub partition: Option<i32>,
    /// Key.
    pub key: Option<Vec<u8>>,
    /// Value (encodes the record's identity).
    pub value: Vec<u8>,
    /// Create time in ms.
    pub timestamp_ms: i64,
}

/// Why `send` refused a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Back-pressure: try again later.
    QueueFull,
    /// Anything else (the record is not retried).
    Other(String),
}

/// What the producer asks the driver to do.
#[derive(Clone, Debug)]
pub enum ProducerOut<Id> {
    /// Open connection `conn` to `host:port`.
    Connect { conn: u64, host: String, port: u16 },
    /// Write bytes.
    Transmit { conn: u64, data: Vec<u8> },
    /// Close the connection.
    Close { conn: u64 },
    /// A final report.
    Report { id: Id, outcome: Outcome },
    /// The producer stopped on a fatal error (no fault the simulation injects should cause one).
    Fatal(String),
    /// A diagnostic line (`context: text`), printed in the trace; never hashed, so that turning
    /// diagnostics on changes no run's trace hash.
    Diagnostic(String),
    /// Drained; wake at the deadline.
    Timeout(Option<Instant>),
}

/// The producer under test.
pub trait SimProducer {
    /// Its record handle.
    type Id: Ord + Clone + std::fmt::Debug;
    /// Offers a record.
    fn send(&mut self, now: Instant, record: &WorkRecord) -> Result<Self::Id, Refused>;
    /// Sends everything buffered without waiting for linger.
    fn flush(&mut self, now: Instant);
    /// Closes gracefully.
    fn close(&mut self, now: Instant);
    /// A connection the producer asked for is open.
    fn connected(&mut self, now: Instant, conn: u64);
    /// Bytes arrived.
    fn received(&mut self, now: Instant, conn: u64, bytes: &[u8]);
    /// A connection ended (or a connect was refused).
    fn disconnected(&mut self, now: Instant, conn: u64);
    /// Time passed.
    fn timeout(&mut self, now: Instant);
    /// The next action.
    fn poll(&mut self) -> ProducerOut<Self::Id>;
    /// Bytes currently buffered (checked against the limit on every step).
    fn buffered_bytes(&self) -> u64;
    /// Named counters (epoch bumps, retries...), prefixed `p_`.
    fn counters(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}

/// A broker-side fault, applied by the driver at a scripted instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BrokerFault {
    /// Replaces the probabilistic faults the brokers inject from now on, in the in-memory
    /// broker's fault syntax (`append_drop=P`, `error_before=CODE:P`, `error_after=CODE:P`,
    /// `delay=MIN..MAX:P`, ...); `""` stops them.
    Spec(String),
    /// `broker` goes down (connections cut, connects refused) ...
    Down { broker: i32 },
    /// ... and comes back.
    Up { broker: i32 },
    /// Leadership of `partition` moves to `to`.
    LeaderMove { partition: i32, to: i32 },
    /// All producer state expires (as after `producer.id.expiration.ms`).
    ExpireProducers,
    /// `broker` restarts: connections cut; producer state kept whole (Redpanda), kept as each
    /// producer's last batch (Kafka) or lost.
    Restart { broker: i32, state: RestartMode },
}

/// What the broker cluster asks the driver to do.
#[derive(Clone, Debug)]
pub enum BrokerOut {
    /// Write bytes on the connection.
    Transmit { conn: u64, data: Vec<u8> },
    /// Close the connection.
    Close { conn: u64 },
    /// A log line (kept in the trace).
    Log(String),
    /// Drained; wake at the deadline.
    Timeout(Option<Instant>),
}

/// The broker cluster.
pub trait SimBroker {
    /// `(broker id, host, port)` of every broker, as advertised in metadata.
    fn advertised(&self) -> Vec<(i32, String, u16)>;
    /// A connection to `broker` was accepted.
    fn accepted(&mut self, now: Instant, conn: u64, broker: i32);
    /// Bytes arrived.
    fn received(&mut self, now: Instant, conn: u64, bytes: &[u8]);
    /// The connection ended.
    fn closed(&mut self, now: Instant, conn: u64);
    /// Time passed.
    fn timeout(&mut self, now: Instant);
    /// The next action.
    fn poll(&mut self) -> BrokerOut;
    /// Applies a fault.
    fn fault(&mut self, now: Instant, fault: &BrokerFault);
    /// Whether nothing is pending inside the cluster (no delayed response, no parked request).
    fn quiescent(&self) -> bool;
    /// Every partition's log, keyed by (topic, partition).
    fn logs(&self) -> BTreeMap<(String, i32), Vec<LogEntry>>;
    /// Where the brokers lost producer state (lossy restart, expiry): for each partition, the
    /// log end offsets at those moments. A retried batch appended again after such a point is
    /// a duplicate no producer can prevent; the checker excuses exactly those (same producer id,
    /// epoch and sequence on both sides of a mark) and counts them.
    fn state_loss_marks(&self) -> BTreeMap<(String, i32), Vec<i64>> {
        BTreeMap::new()
    }
    /// Where the brokers kept only each producer's last batch (a restart from Kafka's snapshot):
    /// per partition, the log end offsets at those moments. A resend of an older batch of the
    /// window is then refused with a sequence error although it is in the log.
    fn window_loss_marks(&self) -> BTreeMap<(String, i32), Vec<i64>> {
        BTreeMap::new()
    }
    /// Whether the brokers accept any first sequence from a producer whose state they do not
    /// hold (KIP-360's rule, before KAFKA-15591's fix): after a state loss they may then append a
    /// later batch before an earlier one, which no pipelining producer can prevent.
    fn accepts_any_first_sequence(&self) -> bool {
        false
    }
    /// Per partition, when the log grew: `(log end offset, instant)` pairs in order, so the
    /// record at offset `o` was appended at the instant of the first pair whose end offset is
    /// above `o`. Empty if the broker does not say.
    fn append_times(&self) -> BTreeMap<(String, i32), Vec<(i64, Instant)>> {
        BTreeMap::new()
    }
    /// When the brokers refused a batch for its sequence or epoch (on any partition), in order:
    /// the refusals the producer state decided, not injected ones. Empty if the broker does not
    /// say.
    fn refusal_times(&self) -> Vec<Instant> {
        Vec::new()
    }
    /// Per partition, how many sequence errors (OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID,
    /// INVALID_PRODUCER_EPOCH) were injected rather than decided by the producer state.
    fn injected_sequence_errors(&self) -> BTreeMap<(String, i32), u64> {
        BTreeMap::new()
    }
    /// Named counters of what the brokers did (proof that faults were exercised).
    fn counters(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}
