//! Producer configuration: Kafka's names and defaults, a typed builder, and `set("key", "value")`.
//!
//! Every key is spelled as in the Java client / librdkafka. Unknown keys, unparsable values and
//! contradictions are [`ConfigError`]s whose message says what to change; nothing is silently
//! ignored or adjusted.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use super::partition::MAX_WINDOW;
use super::security::SecurityConfig;
use crate::debug::{DEBUG_CONTEXTS_EXPECTED, DebugContexts};
use crate::proto::record_batch::Compression;
use crate::time::Duration;

/// Which acknowledgement the producer asks brokers for (`acks`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acks {
    /// `acks=1`: the leader has written the batch.
    Leader,
    /// `acks=all` (`-1`): all in-sync replicas have the batch. Required by idempotence.
    All,
}

impl Acks {
    /// The wire value of the Produce request's `acks` field.
    pub const fn as_i16(self) -> i16 {
        match self {
            Acks::Leader => 1,
            Acks::All => -1,
        }
    }
}

/// One bootstrap server, `host:port`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootstrapServer {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

/// The producer's configuration. Construct with [`ProducerConfig::new`] (Kafka's defaults) and
/// change with the typed setters or [`ProducerConfig::set`]; [`ProducerConfig::validate`] (also
/// run by `Producer::new`) rejects contradictions.
#[derive(Clone, Debug, PartialEq)]
pub struct ProducerConfig {
    /// `bootstrap.servers`: where to fetch the first metadata (required).
    pub bootstrap_servers: Vec<BootstrapServer>,
    /// `enable.idempotence` (default true): producer id, epoch and sequence numbers.
    pub enable_idempotence: bool,
    /// `acks` (default all).
    pub acks: Acks,
    /// `max.in.flight.requests.per.connection` (default 5; at most 5 with idempotence).
    pub max_in_flight: u32,
    /// `retries` (default i32::MAX): attempts after the first, per batch.
    pub retries: u32,
    /// `retry.backoff.ms` (default 100 ms): first retry delay.
    pub retry_backoff: Duration,
    /// `retry.backoff.max.ms` (default 1000 ms): cap of the exponential backoff.
    pub retry_backoff_max: Duration,
    /// `reconnect.backoff.ms` (default 50 ms).
    pub reconnect_backoff: Duration,
    /// `reconnect.backoff.max.ms` (default 1000 ms).
    pub reconnect_backoff_max: Duration,
    /// `socket.connection.setup.timeout.ms` (default 10 s).
    pub connection_setup_timeout: Duration,
    /// `delivery.timeout.ms` (default 120 s): bound on the time from `send` to the final report.
    pub delivery_timeout: Duration,
    /// `request.timeout.ms` (default 30 s).
    pub request_timeout: Duration,
    /// `linger.ms` (default 5 ms, as Kafka 4.0 and librdkafka). A batch is sealed once it has
    /// waited this long (and its partition may take a new batch); with 0, at the next pass,
    /// which the Linger timer asks for at once, so records sent meanwhile join it.
    pub linger: Duration,
    /// `batch.size` (default 16384 bytes).
    pub batch_size: usize,
    /// `buffer.memory` (default 32 MiB): memory held for records not yet delivered (each open or
    /// in-flight batch counts its whole buffer, up to `batch.size`) before `send` answers
    /// `QueueFull`. Keep it at least `batch.size` x the partitions written at once: below that,
    /// partitions wait for each other's batches to be delivered (as in the Java client).
    pub buffer_memory: usize,
    /// `message.max.bytes` (default 1000000, librdkafka's): largest record batch accepted at `send`.
    pub message_max_bytes: usize,
    /// `metadata.max.age.ms` (default 300 s).
    pub metadata_max_age: Duration,
    /// `client.id` (default "idem").
    pub client_id: String,
    /// `idem.seed` (default 0): seed of the jitter generator; same seed, same behaviour.
    pub seed: u64,
    /// `debug` (default none): the contexts whose diagnostics the producer emits as
    /// [`Output::Diagnostic`](super::Output::Diagnostic), librdkafka's comma-separated list
    /// (`broker,metadata,msg,eos,protocol` or `all`). Off, a context costs one bit test.
    pub debug: DebugContexts,
    /// `metrics.sample.window.ms` (default 30000, the Java client's): the maxima of the metrics
    /// (`request-latency-max`, ...) cover the current and the previous window of this length.
    pub metrics_sample_window: Duration,
    /// `security.protocol`, `sasl.mechanism`, `sasl.username`, `sasl.password`,
    /// `sasl.oauthbearer.token` (default PLAINTEXT): see [`SecurityConfig`].
    pub security: SecurityConfig,
    /// `compression.type` (default `none`; `gzip`, `snappy`, `lz4`, `zstd`): the codec every
    /// batch's records are compressed with when it is sealed. A codec whose cargo feature this
    /// build lacks is refused ([`ConfigError::CompressionUnavailable`]). zstd needs Produce v7
    /// (KIP-110): a broker that offers less stops the producer with
    /// [`FatalError::UnsupportedCompression`](super::FatalError::UnsupportedCompression) before
    /// any batch is sent to it.
    pub compression: Compression,
    /// `compression.level` (default: the codec's own, Kafka's `compression.<codec>.level`
    /// defaults of KIP-390: gzip 6, lz4 9, zstd 3): checked by [`ProducerConfig::validate`]
    /// against the codec's range (gzip 1..9, lz4 1..17, zstd -131072..22); ignored by `none`
    /// and `snappy`, which have no levels. lz4 accepts Kafka's range but compresses with LZ4's
    /// fast compressor at every level (`lz4_flex` has no high-compression mode): its output is
    /// a valid LZ4 frame whatever the level, only not the smaller LZ4-HC output Java writes
    /// from level 3 on.
    pub compression_level: Option<i32>,
    /// `transactional.id` (default none): makes the producer transactional (KIP-98). Records
    /// are then sent only inside a transaction (`init_transactions` once, then
    /// `begin_transaction` ... `commit_transaction` or `abort_transaction`), and a new producer
    /// with the same id fences this one. Needs `enable.idempotence=true`.
    pub transactional_id: Option<String>,
    /// `transaction.timeout.ms` (default 60 s): how long the coordinator lets a transaction stay
    /// open before it aborts it (and fences the producer). The broker refuses more than its
    /// `transaction.max.timeout.ms`.
    pub transaction_timeout: Duration,
}

/// A configuration that cannot be used, with what to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The key is not a setting idem knows (for the producer, or the consumer).
    UnknownKey(String),
    /// The value does not parse for the key.
    InvalidValue {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// What is expected.
        expected: &'static str,
    },
    /// Settings that contradict each other; the message says what to change.
    Conflict(&'static str),
    /// A value Kafka knows that idem does not support (yet); the reason says what to use.
    NotSupported {
        /// The key.
        key: &'static str,
        /// The value given.
        value: String,
        /// Why, and what to use instead.
        reason: &'static str,
    },
    /// `compression.type` names a codec this build was compiled without (its cargo feature of
    /// idem-core is off).
    CompressionUnavailable(Compression),
    /// The TLS settings do not make a configuration (a certificate or key that does not parse,
    /// no CA, no wall clock); names the setting.
    #[cfg(feature = "tls")]
    Tls(crate::tls::TlsConfigError),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::UnknownKey(k) => write!(f, "unknown setting `{k}`"),
            ConfigError::InvalidValue { key, value, expected } => {
                write!(f, "invalid value `{value}` for `{key}`: expected {expected}")
            }
            ConfigError::Conflict(msg) => f.write_str(msg),
            #[cfg(feature = "tls")]
            ConfigError::Tls(e) => write!(f, "TLS setting {e}"),
            ConfigError::NotSupported { key, value, reason } => write!(f, "`{key}={value}` is not supported: {reason}"),
            ConfigError::CompressionUnavailable(c) => write!(
                f,
                "compression.type={} is not available: idem-core was built without its `{}` feature",
                c.name(),
                c.name()
            ),
        }
    }
}

impl core::error::Error for ConfigError {}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            bootstrap_servers: Vec::new(),
            enable_idempotence: true,
            acks: Acks::All,
            max_in_flight: 5,
            retries: i32::MAX as u32,
            retry_backoff: Duration::from_millis(100),
            retry_backoff_max: Duration::from_millis(1000),
            reconnect_backoff: Duration::from_millis(50),
            reconnect_backoff_max: Duration::from_millis(1000),
            connection_setup_timeout: Duration::from_secs(10),
            delivery_timeout: Duration::from_secs(120),
            request_timeout: Duration::from_secs(30),
            linger: Duration::from_millis(5),
            batch_size: 16_384,
            buffer_memory: 32 * 1024 * 1024,
            message_max_bytes: 1_000_000,
            metadata_max_age: Duration::from_secs(300),
            client_id: "idem".to_string(),
            seed: 0,
            debug: DebugContexts::NONE,
            metrics_sample_window: Duration::from_secs(30),
            security: SecurityConfig::default(),
            compression: Compression::None,
            compression_level: None,
            transactional_id: None,
            transaction_timeout: Duration::from_secs(60),
        }
    }
}

pub(crate) fn parse_u64(key: &str, value: &str) -> Result<u64, ConfigError> {
    value.trim().parse::<u64>().map_err(|_| ConfigError::InvalidValue {
        key: key.to_string(),
        value: value.to_string(),
        expected: "a non-negative integer",
    })
}

pub(crate) fn parse_usize(key: &str, value: &str) -> Result<usize, ConfigError> {
    let v = parse_u64(key, value)?;
    usize::try_from(v).map_err(|_| ConfigError::InvalidValue {
        key: key.to_string(),
        value: value.to_string(),
        expected: "an integer that fits this platform's usize",
    })
}

pub(crate) fn parse_u32(key: &str, value: &str) -> Result<u32, ConfigError> {
    let v = parse_u64(key, value)?;
    u32::try_from(v).map_err(|_| ConfigError::InvalidValue {
        key: key.to_string(),
        value: value.to_string(),
        expected: "an integer up to 4294967295",
    })
}

pub(crate) fn parse_ms(key: &str, value: &str) -> Result<Duration, ConfigError> {
    parse_u64(key, value).map(Duration::from_millis)
}

pub(crate) fn parse_bool(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim() {
        "true" | "TRUE" | "True" => Ok(true),
        "false" | "FALSE" | "False" => Ok(false),
        _ => {
            Err(ConfigError::InvalidValue { key: key.to_string(), value: value.to_string(), expected: "true or false" })
        }
    }
}

/// Parses a `compression.type`: Kafka's names; a codec this build lacks is
/// [`ConfigError::CompressionUnavailable`].
fn parse_compression(key: &str, value: &str) -> Result<Compression, ConfigError> {
    let codec = Compression::from_name(value.trim()).ok_or_else(|| ConfigError::InvalidValue {
        key: key.to_string(),
        value: value.to_string(),
        expected: "none, gzip, snappy, lz4 or zstd",
    })?;
    if !codec.is_enabled() {
        return Err(ConfigError::CompressionUnavailable(codec));
    }
    Ok(codec)
}

/// Parses `host:port[,host:port...]` (IPv6 as `[addr]:port`).
pub(crate) fn parse_bootstrap_servers(value: &str) -> Result<Vec<BootstrapServer>, ConfigError> {
    let invalid = || ConfigError::InvalidValue {
        key: "bootstrap.servers".to_string(),
        value: value.to_string(),
        expected: "a comma-separated list of host:port",
    };
    let mut out = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (host, port) = part.rsplit_once(':').ok_or_else(invalid)?;
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        let port = port.parse::<u16>().map_err(|_| invalid())?;
        if host.is_empty() {
            return Err(invalid());
        }
        out.push(BootstrapServer { host: host.to_string(), port });
    }
    if out.is_empty() {
        return Err(invalid());
    }
    Ok(out)
}

impl ProducerConfig {
    /// Kafka's defaults and the given bootstrap servers (`host:port,...`).
    pub fn new(bootstrap_servers: &str) -> Result<Self, ConfigError> {
        Ok(ProducerConfig { bootstrap_servers: parse_bootstrap_servers(bootstrap_servers)?, ..Default::default() })
    }

    /// Builds a configuration from `(key, value)` pairs on top of the defaults, then validates it.
    pub fn from_pairs<'k, I: IntoIterator<Item = (&'k str, &'k str)>>(pairs: I) -> Result<Self, ConfigError> {
        let mut c = ProducerConfig::default();
        for (k, v) in pairs {
            c.set(k, v)?;
        }
        c.validate()?;
        Ok(c)
    }

    /// Sets one setting by its Kafka name. Unknown keys and unparsable values are errors;
    /// contradictions are only detected by [`ProducerConfig::validate`] (so that settings can be
    /// applied in any order).
    pub fn set(&mut self, key: &str, value: &str) -> Result<&mut Self, ConfigError> {
        match key {
            "bootstrap.servers" => self.bootstrap_servers = parse_bootstrap_servers(value)?,
            "enable.idempotence" => self.enable_idempotence = parse_bool(key, value)?,
            "acks" => {
                self.acks = match value.trim() {
                    "all" | "-1" => Acks::All,
                    "1" => Acks::Leader,
                    "0" => {
                        return Err(ConfigError::Conflict(
                            "acks=0 is not supported: idem reports every record's outcome; use acks=all (or acks=1 \
                             with enable.idempotence=false)",
                        ));
                    }
                    _ => {
                        return Err(ConfigError::InvalidValue {
                            key: key.to_string(),
                            value: value.to_string(),
                            expected: "all, -1 or 1",
                        });
                    }
                }
            }
            "max.in.flight.requests.per.connection" => self.max_in_flight = parse_u32(key, value)?,
            "retries" => self.retries = parse_u32(key, value)?,
            "retry.backoff.ms" => self.retry_backoff = parse_ms(key, value)?,
            "retry.backoff.max.ms" => self.retry_backoff_max = parse_ms(key, value)?,
            "reconnect.backoff.ms" => self.reconnect_backoff = parse_ms(key, value)?,
            "reconnect.backoff.max.ms" => self.reconnect_backoff_max = parse_ms(key, value)?,
            "socket.connection.setup.timeout.ms" => self.connection_setup_timeout = parse_ms(key, value)?,
            "delivery.timeout.ms" => self.delivery_timeout = parse_ms(key, value)?,
            "request.timeout.ms" => self.request_timeout = parse_ms(key, value)?,
            "linger.ms" => self.linger = parse_ms(key, value)?,
            "batch.size" => self.batch_size = parse_usize(key, value)?,
            "buffer.memory" => self.buffer_memory = parse_usize(key, value)?,
            "message.max.bytes" => self.message_max_bytes = parse_usize(key, value)?,
            "metadata.max.age.ms" => self.metadata_max_age = parse_ms(key, value)?,
            "client.id" => self.client_id = value.to_string(),
            "idem.seed" => self.seed = parse_u64(key, value)?,
            "debug" => {
                self.debug = DebugContexts::parse(value).map_err(|_| ConfigError::InvalidValue {
                    key: key.to_string(),
                    value: value.to_string(),
                    expected: DEBUG_CONTEXTS_EXPECTED,
                })?
            }
            "metrics.sample.window.ms" => self.metrics_sample_window = parse_ms(key, value)?,
            _ if super::security::KEYS.contains(&key) => self.security.set(key, value)?,
            "compression.type" => self.compression = parse_compression(key, value)?,
            "compression.level" => {
                self.compression_level = Some(value.trim().parse::<i32>().map_err(|_| ConfigError::InvalidValue {
                    key: key.to_string(),
                    value: value.to_string(),
                    expected: "an integer (the codec's level: gzip 1..9, lz4 1..17, zstd -131072..22)",
                })?)
            }
            "transactional.id" => {
                if value.is_empty() {
                    return Err(ConfigError::InvalidValue {
                        key: key.to_string(),
                        value: value.to_string(),
                        expected: "a non-empty transactional id",
                    });
                }
                self.transactional_id = Some(value.to_string())
            }
            "transaction.timeout.ms" => self.transaction_timeout = parse_ms(key, value)?,
            _ => return Err(ConfigError::UnknownKey(key.to_string())),
        }
        Ok(self)
    }

    /// Typed setter: `enable.idempotence`.
    pub fn idempotence(mut self, on: bool) -> Self {
        self.enable_idempotence = on;
        self
    }
    /// Typed setter: `acks`.
    pub fn acks(mut self, acks: Acks) -> Self {
        self.acks = acks;
        self
    }
    /// Typed setter: `max.in.flight.requests.per.connection`.
    pub fn max_in_flight(mut self, n: u32) -> Self {
        self.max_in_flight = n;
        self
    }
    /// Typed setter: `retries`.
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }
    /// Typed setter: `retry.backoff.ms` and `retry.backoff.max.ms`.
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.retry_backoff = initial;
        self.retry_backoff_max = max;
        self
    }
    /// Typed setter: `delivery.timeout.ms`.
    pub fn delivery_timeout(mut self, d: Duration) -> Self {
        self.delivery_timeout = d;
        self
    }
    /// Typed setter: `request.timeout.ms`.
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = d;
        self
    }
    /// Typed setter: `linger.ms`.
    pub fn linger(mut self, d: Duration) -> Self {
        self.linger = d;
        self
    }
    /// Typed setter: `batch.size`.
    pub fn batch_size(mut self, bytes: usize) -> Self {
        self.batch_size = bytes;
        self
    }
    /// Typed setter: `buffer.memory`.
    pub fn buffer_memory(mut self, bytes: usize) -> Self {
        self.buffer_memory = bytes;
        self
    }
    /// Typed setter: `message.max.bytes`.
    pub fn message_max_bytes(mut self, bytes: usize) -> Self {
        self.message_max_bytes = bytes;
        self
    }
    /// Typed setter: `metadata.max.age.ms`.
    pub fn metadata_max_age(mut self, d: Duration) -> Self {
        self.metadata_max_age = d;
        self
    }
    /// Typed setter: `client.id`.
    pub fn client_id(mut self, id: &str) -> Self {
        self.client_id = id.to_string();
        self
    }
    /// Typed setter: `idem.seed` (jitter generator seed).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Typed setter: `debug` (the diagnostic contexts on).
    pub fn debug(mut self, contexts: DebugContexts) -> Self {
        self.debug = contexts;
        self
    }
    /// Typed setter: `compression.type` and `compression.level` (`None`: the codec's default);
    /// checked by [`ProducerConfig::validate`].
    pub fn compression(mut self, codec: Compression, level: Option<i32>) -> Self {
        self.compression = codec;
        self.compression_level = level;
        self
    }

    /// Typed setter: `transactional.id` (and `transaction.timeout.ms`).
    pub fn transactional(mut self, id: &str, timeout: Duration) -> Self {
        self.transactional_id = Some(id.to_string());
        self.transaction_timeout = timeout;
        self
    }

    /// Checks the settings against each other; the error says which setting to change.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.transactional_id.is_some() && !self.enable_idempotence {
            return Err(ConfigError::Conflict(
                "transactional.id requires enable.idempotence=true: set it, or remove transactional.id",
            ));
        }
        if self.transactional_id.is_some()
            && (self.transaction_timeout == Duration::ZERO || self.transaction_timeout.as_millis() > i32::MAX as u64)
        {
            return Err(ConfigError::Conflict("transaction.timeout.ms must be 1..2147483647"));
        }
        if self.bootstrap_servers.is_empty() {
            return Err(ConfigError::Conflict("bootstrap.servers is required: set it to host:port[,host:port]"));
        }
        if self.enable_idempotence && self.acks != Acks::All {
            return Err(ConfigError::Conflict(
                "enable.idempotence=true requires acks=all: set acks=all or enable.idempotence=false",
            ));
        }
        if self.enable_idempotence && self.max_in_flight as usize > MAX_WINDOW {
            return Err(ConfigError::Conflict(
                "enable.idempotence=true allows at most 5 in-flight requests: set \
                 max.in.flight.requests.per.connection to 1..5 or enable.idempotence=false",
            ));
        }
        if self.max_in_flight == 0 {
            return Err(ConfigError::Conflict("max.in.flight.requests.per.connection must be at least 1"));
        }
        if self.retry_backoff_max < self.retry_backoff {
            return Err(ConfigError::Conflict("retry.backoff.max.ms must be >= retry.backoff.ms"));
        }
        if self.reconnect_backoff_max < self.reconnect_backoff {
            return Err(ConfigError::Conflict("reconnect.backoff.max.ms must be >= reconnect.backoff.ms"));
        }
        if self.delivery_timeout < self.linger + self.request_timeout {
            return Err(ConfigError::Conflict(
                "delivery.timeout.ms must be >= linger.ms + request.timeout.ms: raise delivery.timeout.ms or lower \
                 the other two",
            ));
        }
        if self.request_timeout == Duration::ZERO {
            return Err(ConfigError::Conflict("request.timeout.ms must be positive"));
        }
        if self.batch_size == 0 {
            return Err(ConfigError::Conflict("batch.size must be positive"));
        }
        if self.message_max_bytes > i32::MAX as usize {
            return Err(ConfigError::Conflict("message.max.bytes must be at most 2147483647"));
        }
        if self.metrics_sample_window == Duration::ZERO {
            return Err(ConfigError::Conflict("metrics.sample.window.ms must be positive"));
        }
        self.security.validate()?;
        if self.buffer_memory < self.message_max_bytes.min(self.batch_size) {
            return Err(ConfigError::Conflict("buffer.memory must be at least min(batch.size, message.max.bytes)"));
        }
        if !self.compression.is_enabled() {
            return Err(ConfigError::CompressionUnavailable(self.compression));
        }
        if let (Some(range), Some(level)) = (self.compression.level_range(), self.compression_level) {
            if !range.contains(&level) {
                return Err(ConfigError::InvalidValue {
                    key: "compression.level".to_string(),
                    value: level.to_string(),
                    expected: match self.compression {
                        Compression::Gzip => "1..9 for compression.type=gzip",
                        Compression::Lz4 => "1..17 for compression.type=lz4",
                        _ => "-131072..22 for compression.type=zstd",
                    },
                });
            }
        }
        Ok(())
    }

    /// The per-partition in-flight limit actually used: `max.in.flight.requests.per.connection`
    /// capped at 5 (Kafka's dedup window).
    pub(crate) fn window(&self) -> usize {
        (self.max_in_flight as usize).clamp(1, MAX_WINDOW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn defaults_are_kafkas() {
        let c = ProducerConfig::new("localhost:9092").unwrap();
        assert!(c.enable_idempotence);
        assert_eq!(c.acks, Acks::All);
        assert_eq!(c.max_in_flight, 5);
        assert_eq!(c.retries, i32::MAX as u32);
        assert_eq!(c.retry_backoff, Duration::from_millis(100));
        assert_eq!(c.retry_backoff_max, Duration::from_millis(1000));
        assert_eq!(c.delivery_timeout, Duration::from_secs(120));
        assert_eq!(c.request_timeout, Duration::from_secs(30));
        assert_eq!(c.batch_size, 16384);
        assert_eq!(c.buffer_memory, 33_554_432);
        assert_eq!(c.metadata_max_age, Duration::from_secs(300));
        assert_eq!(c.bootstrap_servers, [BootstrapServer { host: "localhost".to_string(), port: 9092 }]);
        c.validate().unwrap();
    }

    #[test]
    fn pairs_and_errors() {
        let c = ProducerConfig::from_pairs([
            ("bootstrap.servers", "a:1, [::1]:2"),
            ("linger.ms", "0"),
            ("client.id", "x"),
            ("idem.seed", "9"),
        ])
        .unwrap();
        assert_eq!(c.bootstrap_servers[1].host, "::1");
        assert_eq!(c.linger, Duration::ZERO);
        assert_eq!(c.seed, 9);
        assert!(matches!(ProducerConfig::from_pairs([("bootstrap.server", "a:1")]), Err(ConfigError::UnknownKey(_))));
        assert!(matches!(
            ProducerConfig::from_pairs([("bootstrap.servers", "a:1"), ("linger.ms", "-3")]),
            Err(ConfigError::InvalidValue { .. })
        ));
        assert!(ProducerConfig::from_pairs([("bootstrap.servers", "nohost")]).is_err());
        let e = ProducerConfig::from_pairs([("bootstrap.servers", "a:1"), ("acks", "1")]).unwrap_err();
        assert!(e.to_string().contains("acks=all"), "{e}");
        let e =
            ProducerConfig::from_pairs([("bootstrap.servers", "a:1"), ("max.in.flight.requests.per.connection", "6")])
                .unwrap_err();
        assert!(e.to_string().contains("max.in.flight.requests.per.connection"), "{e}");
        let c = ProducerConfig::from_pairs([
            ("bootstrap.servers", "a:1"),
            ("enable.idempotence", "false"),
            ("acks", "1"),
            ("max.in.flight.requests.per.connection", "10"),
        ])
        .unwrap();
        assert_eq!(c.window(), 5);
        assert!(ProducerConfig::from_pairs([("bootstrap.servers", "a:1"), ("delivery.timeout.ms", "1000")]).is_err());
    }

    #[test]
    fn debug_contexts_and_the_metrics_window() {
        let c = ProducerConfig::from_pairs([
            ("bootstrap.servers", "a:1"),
            ("debug", "broker,eos"),
            ("metrics.sample.window.ms", "1000"),
        ])
        .unwrap();
        assert_eq!(c.debug.to_string(), "broker,eos");
        assert_eq!(c.metrics_sample_window, Duration::from_secs(1));
        assert!(ProducerConfig::default().debug.is_empty());
        let e = ProducerConfig::from_pairs([("bootstrap.servers", "a:1"), ("debug", "broker,queue")]).unwrap_err();
        assert!(e.to_string().contains("`debug`") && e.to_string().contains("eos"), "{e}");
        let e = ProducerConfig::from_pairs([("bootstrap.servers", "a:1"), ("metrics.sample.window.ms", "0")]);
        assert!(e.unwrap_err().to_string().contains("metrics.sample.window.ms"));
    }

    #[test]
    fn compression_type_and_level() {
        let c = ProducerConfig::new("a:1").unwrap();
        assert_eq!((c.compression, c.compression_level), (Compression::None, None), "Kafka's default: none");
        for codec in Compression::ALL {
            let r = ProducerConfig::from_pairs([("bootstrap.servers", "a:1"), ("compression.type", codec.name())]);
            if codec.is_enabled() {
                assert_eq!(r.unwrap().compression, codec);
            } else {
                assert_eq!(r.unwrap_err(), ConfigError::CompressionUnavailable(codec));
            }
        }
        let e = ProducerConfig::from_pairs([("bootstrap.servers", "a:1"), ("compression.type", "brotli")]).unwrap_err();
        assert!(e.to_string().contains("`compression.type`") && e.to_string().contains("zstd"), "{e}");
        // The level is checked against the codec's range, whatever the order of the settings.
        let level = |codec: &'static str, level: &'static str| {
            ProducerConfig::from_pairs([
                ("bootstrap.servers", "a:1"),
                ("compression.level", level),
                ("compression.type", codec),
            ])
        };
        if Compression::Gzip.is_enabled() {
            assert_eq!(level("gzip", "9").unwrap().compression_level, Some(9));
            let e = level("gzip", "10").unwrap_err();
            assert!(e.to_string().contains("`compression.level`") && e.to_string().contains("1..9"), "{e}");
        }
        if Compression::Zstd.is_enabled() {
            assert_eq!(level("zstd", "-5").unwrap().compression_level, Some(-5));
            assert!(level("zstd", "23").is_err());
        }
        if Compression::Lz4.is_enabled() {
            assert!(level("lz4", "17").is_ok() && level("lz4", "0").is_err());
        }
        if Compression::Snappy.is_enabled() {
            assert!(level("snappy", "100").is_ok(), "snappy has no levels: ignored");
        }
        assert!(level("none", "x").is_err(), "not an integer");
        let c = ProducerConfig::new("a:1").unwrap().compression(Compression::Gzip, Some(0));
        assert!(c.validate().is_err(), "level 0 is outside gzip's range (or gzip is not built in)");
    }
}
