//! Configuration of the in-memory cluster, and why a configuration is refused.

use super::faults::FaultSpec;
use super::validator::ValidatorConfig;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// One broker of the cluster: its id and the address clients are told to connect to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerAddress {
    /// Broker (node) id.
    pub node_id: i32,
    /// Advertised host.
    pub host: String,
    /// Advertised port.
    pub port: u16,
}

/// A topic created when the cluster starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicConfig {
    /// Topic name (Kafka's legal characters: ASCII letters, digits, `.`, `_`, `-`; 1-249).
    pub name: String,
    /// Number of partitions (1 or more).
    pub partitions: i32,
}

/// Settings of a [`Cluster`](super::Cluster).
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// The brokers, at least one, distinct ids. Partition leaders are assigned round-robin
    /// over them in this order.
    pub brokers: Vec<BrokerAddress>,
    /// Topics created at start.
    pub topics: Vec<TopicConfig>,
    /// Create unknown topics named in a Metadata request (when the request allows it) with
    /// this many partitions; `None` answers UNKNOWN_TOPIC_OR_PARTITION instead.
    pub auto_create_partitions: Option<i32>,
    /// Byte bound of each partition log; the oldest batches are dropped beyond it.
    pub log_max_bytes: usize,
    /// Largest batch accepted (Kafka's `max.message.bytes`); larger ones get MESSAGE_TOO_LARGE.
    pub max_message_bytes: usize,
    /// Most bytes a compressed batch's records section may decompress to; a batch that would
    /// decompress to more is refused with CORRUPT_MESSAGE, and decompression stops at this
    /// bound (it is checked while decompressing, so a small hostile batch costs at most this
    /// much memory). Kafka's broker has no such bound; librdkafka bounds its decompression
    /// with `receive.message.max.bytes` the same way.
    pub max_decompressed_batch_bytes: usize,
    /// Largest request frame accepted; a larger size prefix closes the connection.
    pub max_request_bytes: usize,
    /// Longest time a Fetch waits for data, whatever its `max_wait_ms` says.
    pub max_fetch_wait: crate::time::Duration,
    /// The producer-state rules of every partition (policy for unknown producers, expiration).
    /// The `expire` fault additionally drops state idle for its duration.
    pub validator: ValidatorConfig,
    /// Seed of the fault injection randomness: same seed and inputs, same outputs.
    pub seed: u64,
    /// Faults injected from the start.
    pub faults: FaultSpec,
    /// Cluster id reported in Metadata.
    pub cluster_id: String,
    /// First producer id handed out by InitProducerId.
    pub first_producer_id: i64,
    /// How InitProducerId answers (Kafka's fresh id by default).
    pub producer_ids: ProducerIdPolicy,
    /// How a resend of a batch already in the log is answered (Kafka's original offset by
    /// default).
    pub duplicate_answer: DuplicateAnswer,
    /// The debug contexts whose lines the cluster emits as [`BrokerOutput::Debug`](super::BrokerOutput::Debug)
    /// (none by default): `broker` (connections accepted and closed), `protocol` (every request),
    /// `msg` (every Produce partition: appended where, or why not), `eos` (producer ids granted,
    /// sequence decisions other than an append).
    pub debug: crate::debug::DebugContexts,
    /// SASL required on every listener (`SASL_PLAINTEXT`), or `None` (`PLAINTEXT`, the default).
    pub sasl: Option<super::sasl::SaslServerConfig>,
    /// Highest version served per API, below what idem speaks (empty by default: every API at
    /// its highest): to play an older broker. ApiVersions advertises the capped ranges and a
    /// request above a cap closes its connection, as for any version the broker does not
    /// serve. For example `(ApiKey::Produce, 6)` is a broker from before KIP-110 (Kafka 2.0),
    /// which refuses zstd batches with UNSUPPORTED_COMPRESSION_TYPE.
    pub max_versions: Vec<(crate::proto::ApiKey, i16)>,
    /// The `transaction.version` feature finalized on the cluster (KIP-584, KIP-890; Kafka's
    /// `TransactionVersion`): [`V1`](TransactionVersion::V1) by default.
    pub transaction_version: TransactionVersion,
    /// `transactional.id.expiration.ms` (Kafka's default: 7 days): a transactional id without
    /// a transaction in flight that long is forgotten; its producer's next request is answered
    /// INVALID_PRODUCER_ID_MAPPING, and its next InitProducerId gets a fresh producer id.
    pub transactional_id_expiration: crate::time::Duration,
    /// TLS on every listener (`SSL`, or `SASL_SSL` with [`sasl`](Self::sasl)), or `None`. A
    /// connection's handshake runs before its first request; a client that does not speak TLS
    /// (or whose certificate is refused) is closed after the alert that says why.
    #[cfg(feature = "tls")]
    pub tls: Option<crate::tls::ServerTlsSettings>,
}

/// How InitProducerId answers a producer without a transactional id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProducerIdPolicy {
    /// Kafka: every request gets a fresh producer id with epoch 0
    /// (`TransactionCoordinator.handleInitProducerId` with `transactionalId == null` calls
    /// `producerIdManager.generateProducerId()`); the producer id and epoch fields of v3+ are
    /// ignored. A client that wants the same id with a higher epoch bumps it itself (the Java
    /// client's `TransactionManager.bumpIdempotentProducerEpoch`); the validator accepts a newer
    /// epoch starting at sequence 0.
    #[default]
    FreshId,
    /// Not Kafka: the KIP-360 bump of transactional producers applied to idempotent ones. A v3+
    /// request naming the producer's current id and epoch gets the same id with epoch + 1 (the
    /// same answer again when the previous epoch is repeated after a lost answer); anything else
    /// gets a fresh id. Kept for tests that reach epoch exhaustion through the broker.
    BumpInPlace,
}

/// The `transaction.version` feature level a cluster finalizes (Kafka's `TransactionVersion`,
/// KIP-890). ApiVersions v3+ advertises it (`FinalizedFeatures`) with what the broker supports
/// (`SupportedFeatures`: 0-2, as Kafka 4.0); clients use transactions v2 only when it is
/// finalized at 2.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TransactionVersion {
    /// Level 1 (Kafka 4.0's `TV_1`: transactions v1 for clients): the transaction APIs up to
    /// v3, Produce up to v10, InitProducerId up to v4 are served.
    #[default]
    V1,
    /// Level 2 (Kafka 4.0's `TV_2`, KIP-890 part 2): also Produce v11-12, InitProducerId v5,
    /// AddOffsetsToTxn v4, EndTxn v5 and TxnOffsetCommit v4-5 are served, with transactions
    /// v2's rules for the versions that bring them.
    V2,
}

impl TransactionVersion {
    /// Kafka's name of the feature (`TransactionVersion.FEATURE_NAME`).
    pub const FEATURE_NAME: &'static str = crate::proto::api_versions::TRANSACTION_VERSION_FEATURE;
    /// The highest level Kafka 4.0 supports (`TV_2`).
    pub const MAX_SUPPORTED_LEVEL: i16 = 2;
    /// The lowest level Kafka 4.0 supports (`TV_0`).
    pub const MIN_SUPPORTED_LEVEL: i16 = 0;

    /// The feature level finalized.
    pub const fn level(self) -> i16 {
        match self {
            TransactionVersion::V1 => 1,
            TransactionVersion::V2 => 2,
        }
    }
}

/// How a Produce resend of a batch the validator finds in its window is answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DuplicateAnswer {
    /// Kafka and Redpanda: success (NONE) with the original batch's base offset; nothing is
    /// appended.
    #[default]
    OriginalOffset,
    /// tansu: DUPLICATE_SEQUENCE_NUMBER with base offset -1; nothing is appended. Kafka clients
    /// treat that code as "already written" (the Java client's `Sender` completes the batch
    /// successfully without an offset).
    DuplicateSequenceNumber,
}

impl Default for ClusterConfig {
    /// No brokers (the driver fills them in), no topics, auto-create with 3 partitions, 64 MiB
    /// per partition, Kafka's default limits, 64 MiB of decompressed records per batch, Kafka's InitProducerId and duplicate answers, no
    /// faults, seed 0.
    fn default() -> Self {
        ClusterConfig {
            brokers: Vec::new(),
            topics: Vec::new(),
            auto_create_partitions: Some(3),
            log_max_bytes: 64 * 1024 * 1024,
            max_message_bytes: 1_048_588,
            max_decompressed_batch_bytes: 64 * 1024 * 1024,
            max_request_bytes: 100 * 1024 * 1024,
            max_fetch_wait: crate::time::Duration::from_secs(30),
            validator: ValidatorConfig::default(),
            seed: 0,
            faults: FaultSpec::default(),
            cluster_id: String::from("idem-mock-cluster"),
            first_producer_id: 1000,
            producer_ids: ProducerIdPolicy::FreshId,
            duplicate_answer: DuplicateAnswer::OriginalOffset,
            debug: crate::debug::DebugContexts::NONE,
            sasl: None,
            max_versions: Vec::new(),
            transaction_version: TransactionVersion::V1,
            transactional_id_expiration: crate::time::Duration::from_secs(7 * 24 * 60 * 60),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

/// Why a configuration (or a topic to create) was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `brokers` is empty.
    NoBrokers,
    /// Two brokers share an id.
    DuplicateBrokerId(i32),
    /// A broker id is negative.
    NegativeBrokerId(i32),
    /// A topic name is empty, too long, or has characters Kafka does not allow.
    InvalidTopicName(String),
    /// A topic is configured twice.
    DuplicateTopic(String),
    /// The SASL settings cannot work; the message says what to change.
    Sasl(&'static str),
    /// The TLS settings cannot work (an unreadable certificate or key); names the option.
    #[cfg(feature = "tls")]
    Tls(crate::tls::TlsConfigError),
    /// A partition count is below 1 or above 100,000.
    InvalidPartitionCount {
        /// The topic.
        topic: String,
        /// The count given.
        partitions: i32,
    },
    /// A `max_versions` cap below the lowest version idem serves of that API (nothing would be
    /// left to serve).
    VersionCapBelowMin {
        /// The API key.
        api_key: i16,
        /// The cap given.
        max: i16,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NoBrokers => f.write_str("the cluster needs at least one broker"),
            ConfigError::DuplicateBrokerId(id) => write!(f, "broker id {id} is configured twice"),
            ConfigError::NegativeBrokerId(id) => write!(f, "broker id {id} is negative"),
            ConfigError::InvalidTopicName(n) => {
                write!(f, "topic name `{n}` is not 1-249 characters of ASCII letters, digits, '.', '_', '-'")
            }
            ConfigError::DuplicateTopic(n) => write!(f, "topic `{n}` is configured twice"),
            ConfigError::Sasl(msg) => write!(f, "SASL: {msg}"),
            #[cfg(feature = "tls")]
            ConfigError::Tls(e) => write!(f, "TLS: {e}"),
            ConfigError::InvalidPartitionCount { topic, partitions } => {
                write!(f, "topic `{topic}`: {partitions} partitions (must be 1..=100000)")
            }
            ConfigError::VersionCapBelowMin { api_key, max } => {
                write!(f, "max version {max} of api key {api_key} is below the lowest version served")
            }
        }
    }
}

impl core::error::Error for ConfigError {}

/// Most partitions a topic may have here (bounds memory for hostile Metadata auto-creation).
pub(crate) const MAX_PARTITIONS: i32 = 100_000;

/// Whether `name` is a legal Kafka topic name.
pub(crate) fn is_valid_topic_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= crate::proto::MAX_TOPIC_NAME_LEN
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

impl ClusterConfig {
    /// Checks the brokers and topics.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.brokers.is_empty() {
            return Err(ConfigError::NoBrokers);
        }
        for (i, b) in self.brokers.iter().enumerate() {
            if b.node_id < 0 {
                return Err(ConfigError::NegativeBrokerId(b.node_id));
            }
            if self.brokers.iter().skip(i + 1).any(|o| o.node_id == b.node_id) {
                return Err(ConfigError::DuplicateBrokerId(b.node_id));
            }
        }
        if let Some(sasl) = &self.sasl {
            sasl.validate()?;
        }
        for (i, t) in self.topics.iter().enumerate() {
            check_topic(&t.name, t.partitions)?;
            if self.topics.iter().skip(i + 1).any(|o| o.name == t.name) {
                return Err(ConfigError::DuplicateTopic(t.name.clone()));
            }
        }
        if let Some(&(key, max)) = self.max_versions.iter().find(|(k, max)| *max < k.supported().min) {
            return Err(ConfigError::VersionCapBelowMin { api_key: key.as_i16(), max });
        }
        Ok(())
    }
}

/// Checks a topic name and partition count.
pub fn check_topic(name: &str, partitions: i32) -> Result<(), ConfigError> {
    if !is_valid_topic_name(name) {
        return Err(ConfigError::InvalidTopicName(String::from(name)));
    }
    if !(1..=MAX_PARTITIONS).contains(&partitions) {
        return Err(ConfigError::InvalidPartitionCount { topic: String::from(name), partitions });
    }
    Ok(())
}
