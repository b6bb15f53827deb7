//! The consumer's configuration: Kafka's names and defaults (the Java client's
//! `ConsumerConfig`), set with `set("key", "value")`. Unknown keys and unparsable values are
//! [`ConfigError`]s naming the setting; values Kafka knows that idem does not support yet are
//! [`ConfigError::NotSupported`], never silently ignored.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::producer::config::{parse_bool, parse_bootstrap_servers, parse_ms, parse_u64, parse_usize};
use crate::producer::{BootstrapServer, ConfigError};
use crate::time::Duration;

/// `auto.offset.reset`: where a partition without a committed offset (or whose position is out
/// of range) starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetReset {
    /// `earliest` (the default here, as librdkafka's `smallest`/`earliest` option): the log start.
    Earliest,
    /// `latest`: the log end (only records written from then on).
    Latest,
}

/// `isolation.level` (KIP-98): which records of transactional producers a Fetch returns and
/// the consumer hands out. Either way the control batches (the COMMIT and ABORT markers) are
/// never handed out, only stepped over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IsolationLevel {
    /// `read_uncommitted` (the default, as the Java client's): every data record, of committed,
    /// aborted and still open transactions alike, up to the high watermark.
    #[default]
    ReadUncommitted,
    /// `read_committed`: Fetch asks for `READ_COMMITTED`, so the broker answers up to the last
    /// stable offset and lists the aborted transactions; the records of aborted transactions
    /// are skipped (the Java client's `CompletedFetch`). ListOffsets for `latest` asks for the
    /// last stable offset as well.
    ReadCommitted,
}

impl IsolationLevel {
    /// The `isolation_level` of a Fetch or ListOffsets request for this level
    /// ([`READ_UNCOMMITTED`](crate::proto::fetch::READ_UNCOMMITTED) or
    /// [`READ_COMMITTED`](crate::proto::fetch::READ_COMMITTED)).
    pub const fn wire(self) -> i8 {
        match self {
            IsolationLevel::ReadUncommitted => crate::proto::fetch::READ_UNCOMMITTED,
            IsolationLevel::ReadCommitted => crate::proto::fetch::READ_COMMITTED,
        }
    }
}

/// The consumer's configuration. [`ConsumerConfig::new`] gives Kafka's defaults (except
/// `auto.offset.reset`, `earliest` here); [`ConsumerConfig::set`] changes one setting by its
/// Kafka name; [`Consumer::new`](super::Consumer::new) validates the whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerConfig {
    /// `bootstrap.servers` (required).
    pub bootstrap_servers: Vec<BootstrapServer>,
    /// `group.id` (required, non-empty).
    pub group_id: String,
    /// The subscribed topics ([`ConsumerConfig::subscribe`]), in the order given, no repeats.
    pub topics: Vec<String>,
    /// `group.instance.id` (default none): static membership (KIP-345). A restarted member with
    /// the same id takes its place back without a rebalance; the member it replaces is fenced.
    pub group_instance_id: Option<String>,
    /// `session.timeout.ms` (default 45 s, KIP-735): the coordinator expires a member that has
    /// not heartbeated for this long.
    pub session_timeout: Duration,
    /// `heartbeat.interval.ms` (default 3 s): the pace of Heartbeat requests while in a group.
    pub heartbeat_interval: Duration,
    /// `max.poll.interval.ms` (default 300 s): sent as JoinGroup's rebalance timeout (how long
    /// the coordinator waits for every member to rejoin). A sans-IO core has no `poll` to time.
    pub max_poll_interval: Duration,
    /// `auto.offset.reset` (default `earliest`).
    pub auto_offset_reset: OffsetReset,
    /// `isolation.level` (default `read_uncommitted`, as the Java client's).
    pub isolation_level: IsolationLevel,
    /// `enable.auto.commit` (default **false** here; the Java client's default is true): with
    /// true, the positions handed out are committed every `auto.commit.interval.ms` as by
    /// [`Consumer::commit`](super::Consumer::commit).
    pub enable_auto_commit: bool,
    /// `auto.commit.interval.ms` (default 5 s).
    pub auto_commit_interval: Duration,
    /// `fetch.min.bytes` (default 1).
    pub fetch_min_bytes: i32,
    /// `fetch.max.bytes` (default 52428800).
    pub fetch_max_bytes: i32,
    /// `fetch.max.wait.ms` (default 500 ms).
    pub fetch_max_wait: Duration,
    /// `max.partition.fetch.bytes` (default 1048576).
    pub max_partition_fetch_bytes: i32,
    /// `request.timeout.ms` (default 30 s; a Fetch also gets `fetch.max.wait.ms` on top).
    pub request_timeout: Duration,
    /// `retry.backoff.ms` (default 100 ms).
    pub retry_backoff: Duration,
    /// `retry.backoff.max.ms` (default 1000 ms).
    pub retry_backoff_max: Duration,
    /// `reconnect.backoff.ms` (default 50 ms).
    pub reconnect_backoff: Duration,
    /// `reconnect.backoff.max.ms` (default 1000 ms).
    pub reconnect_backoff_max: Duration,
    /// `socket.connection.setup.timeout.ms` (default 10 s).
    pub connection_setup_timeout: Duration,
    /// `metadata.max.age.ms` (default 300 s).
    pub metadata_max_age: Duration,
    /// `allow.auto.create.topics` (default true): Metadata requests may create the subscribed
    /// topics on brokers that auto-create.
    pub allow_auto_create_topics: bool,
    /// `client.id` (default "idem").
    pub client_id: String,
    /// `idem.seed` (default 0): seed of the backoff jitter; same seed, same behaviour.
    pub seed: u64,
    /// The largest a compressed batch may decompress to (librdkafka's bound on a fetched
    /// message, `receive.message.max.bytes`; default 100000000): beyond it the batch is refused as
    /// corrupt, so a hostile batch cannot exhaust memory.
    pub receive_message_max_bytes: usize,
}

/// Settings the consumer accepts but only at one value, with why.
const FIXED: &[(&str, &[&str], &str)] = &[
    ("security.protocol", &["PLAINTEXT", "plaintext"], "the consumer speaks PLAINTEXT only for now (no SASL or TLS)"),
    (
        "partition.assignment.strategy",
        &["range", "org.apache.kafka.clients.consumer.RangeAssignor"],
        "the consumer assigns with the range assignor only (eager rebalancing)",
    ),
    ("group.protocol", &["classic"], "the consumer speaks the classic group protocol only (not KIP-848's)"),
];

impl ConsumerConfig {
    /// Kafka's defaults, the bootstrap servers (`host:port,...`) and the group (non-empty).
    pub fn new(bootstrap_servers: &str, group_id: &str) -> Result<ConsumerConfig, ConfigError> {
        let mut c = ConsumerConfig {
            bootstrap_servers: parse_bootstrap_servers(bootstrap_servers)?,
            group_id: String::new(),
            topics: Vec::new(),
            group_instance_id: None,
            session_timeout: Duration::from_secs(45),
            heartbeat_interval: Duration::from_secs(3),
            max_poll_interval: Duration::from_secs(300),
            auto_offset_reset: OffsetReset::Earliest,
            isolation_level: IsolationLevel::ReadUncommitted,
            enable_auto_commit: false,
            auto_commit_interval: Duration::from_secs(5),
            fetch_min_bytes: 1,
            fetch_max_bytes: 52_428_800,
            fetch_max_wait: Duration::from_millis(500),
            max_partition_fetch_bytes: 1_048_576,
            request_timeout: Duration::from_secs(30),
            retry_backoff: Duration::from_millis(100),
            retry_backoff_max: Duration::from_millis(1000),
            reconnect_backoff: Duration::from_millis(50),
            reconnect_backoff_max: Duration::from_millis(1000),
            connection_setup_timeout: Duration::from_secs(10),
            metadata_max_age: Duration::from_secs(300),
            allow_auto_create_topics: true,
            client_id: "idem".to_string(),
            seed: 0,
            receive_message_max_bytes: 100_000_000,
        };
        c.set("group.id", group_id)?;
        Ok(c)
    }

    /// Adds `topic` to the subscription (a topic already subscribed is not added twice).
    pub fn subscribe(&mut self, topic: &str) -> &mut Self {
        if !self.topics.iter().any(|t| t == topic) {
            self.topics.push(topic.to_string());
        }
        self
    }

    /// Sets one setting by its Kafka name. Unknown keys and unparsable values are errors; a
    /// value idem does not support (`security.protocol` other than PLAINTEXT, an assignment
    /// strategy other than range, ...) is [`ConfigError::NotSupported`] naming the setting.
    pub fn set(&mut self, key: &str, value: &str) -> Result<&mut Self, ConfigError> {
        let int = |key: &str, value: &str| -> Result<i32, ConfigError> {
            let v = parse_u64(key, value)?;
            i32::try_from(v).map_err(|_| ConfigError::InvalidValue {
                key: key.to_string(),
                value: value.to_string(),
                expected: "an integer up to 2147483647",
            })
        };
        match key {
            "bootstrap.servers" => self.bootstrap_servers = parse_bootstrap_servers(value)?,
            "group.id" => {
                if value.is_empty() {
                    return Err(ConfigError::InvalidValue {
                        key: key.to_string(),
                        value: value.to_string(),
                        expected: "a non-empty group id",
                    });
                }
                self.group_id = value.to_string();
            }
            "group.instance.id" => {
                self.group_instance_id = (!value.is_empty()).then(|| value.to_string());
            }
            "session.timeout.ms" => self.session_timeout = parse_ms(key, value)?,
            "heartbeat.interval.ms" => self.heartbeat_interval = parse_ms(key, value)?,
            "max.poll.interval.ms" => self.max_poll_interval = parse_ms(key, value)?,
            "auto.offset.reset" => {
                self.auto_offset_reset = match value.trim() {
                    "earliest" | "smallest" => OffsetReset::Earliest,
                    "latest" | "largest" => OffsetReset::Latest,
                    "none" => {
                        return Err(ConfigError::NotSupported {
                            key: "auto.offset.reset",
                            value: value.to_string(),
                            reason: "use earliest or latest",
                        });
                    }
                    _ => {
                        return Err(ConfigError::InvalidValue {
                            key: key.to_string(),
                            value: value.to_string(),
                            expected: "earliest or latest",
                        });
                    }
                }
            }
            "isolation.level" => {
                self.isolation_level = match value.trim() {
                    "read_uncommitted" => IsolationLevel::ReadUncommitted,
                    "read_committed" => IsolationLevel::ReadCommitted,
                    _ => {
                        return Err(ConfigError::InvalidValue {
                            key: key.to_string(),
                            value: value.to_string(),
                            expected: "read_uncommitted or read_committed",
                        });
                    }
                }
            }
            "enable.auto.commit" => self.enable_auto_commit = parse_bool(key, value)?,
            "auto.commit.interval.ms" => self.auto_commit_interval = parse_ms(key, value)?,
            "fetch.min.bytes" => self.fetch_min_bytes = int(key, value)?,
            "fetch.max.bytes" => self.fetch_max_bytes = int(key, value)?,
            "fetch.max.wait.ms" => self.fetch_max_wait = parse_ms(key, value)?,
            "max.partition.fetch.bytes" => self.max_partition_fetch_bytes = int(key, value)?,
            "request.timeout.ms" => self.request_timeout = parse_ms(key, value)?,
            "retry.backoff.ms" => self.retry_backoff = parse_ms(key, value)?,
            "retry.backoff.max.ms" => self.retry_backoff_max = parse_ms(key, value)?,
            "reconnect.backoff.ms" => self.reconnect_backoff = parse_ms(key, value)?,
            "reconnect.backoff.max.ms" => self.reconnect_backoff_max = parse_ms(key, value)?,
            "socket.connection.setup.timeout.ms" => self.connection_setup_timeout = parse_ms(key, value)?,
            "metadata.max.age.ms" => self.metadata_max_age = parse_ms(key, value)?,
            "allow.auto.create.topics" => self.allow_auto_create_topics = parse_bool(key, value)?,
            "client.id" => self.client_id = value.to_string(),
            "idem.seed" => self.seed = parse_u64(key, value)?,
            "receive.message.max.bytes" => self.receive_message_max_bytes = parse_usize(key, value)?,
            _ => match FIXED.iter().find(|(k, _, _)| *k == key) {
                Some((_, ok, _)) if ok.contains(&value.trim()) => {}
                Some((key, _, reason)) => {
                    return Err(ConfigError::NotSupported { key, value: value.to_string(), reason });
                }
                None => return Err(ConfigError::UnknownKey(key.to_string())),
            },
        }
        Ok(self)
    }

    /// Checks the settings together: a subscription, heartbeats well within the session (the
    /// Java client's rule: `heartbeat.interval.ms` below `session.timeout.ms`), positive sizes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.topics.is_empty() {
            return Err(ConfigError::Conflict("the consumer subscribes to no topic: call ConsumerConfig::subscribe"));
        }
        if self.heartbeat_interval >= self.session_timeout || self.heartbeat_interval == Duration::ZERO {
            return Err(ConfigError::Conflict(
                "heartbeat.interval.ms must be positive and below session.timeout.ms (a third of it is usual)",
            ));
        }
        if self.fetch_max_bytes <= 0 || self.max_partition_fetch_bytes <= 0 {
            return Err(ConfigError::Conflict("fetch.max.bytes and max.partition.fetch.bytes must be positive"));
        }
        if self.session_timeout.as_millis() > i32::MAX as u64 || self.max_poll_interval.as_millis() > i32::MAX as u64 {
            return Err(ConfigError::Conflict("session.timeout.ms and max.poll.interval.ms must fit an int32"));
        }
        if self.topics.iter().any(|t| t.is_empty() || t.len() > crate::proto::MAX_TOPIC_NAME_LEN) {
            return Err(ConfigError::Conflict("a subscribed topic name is empty or too long"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_settings_and_refusals() {
        let mut c = ConsumerConfig::new("b0:9092", "g").unwrap();
        assert_eq!(c.session_timeout, Duration::from_secs(45));
        assert_eq!(c.heartbeat_interval, Duration::from_secs(3));
        assert_eq!(c.auto_offset_reset, OffsetReset::Earliest);
        assert!(!c.enable_auto_commit);
        assert_eq!(c.isolation_level, IsolationLevel::ReadUncommitted);
        assert_eq!(
            c.validate(),
            Err(ConfigError::Conflict("the consumer subscribes to no topic: call ConsumerConfig::subscribe"))
        );
        c.subscribe("t").subscribe("t");
        assert_eq!(c.topics, ["t"]);
        c.validate().unwrap();
        c.set("auto.offset.reset", "latest").unwrap().set("security.protocol", "PLAINTEXT").unwrap();
        assert_eq!(c.auto_offset_reset, OffsetReset::Latest);
        assert!(matches!(
            c.set("security.protocol", "SASL_SSL"),
            Err(ConfigError::NotSupported { key: "security.protocol", .. })
        ));
        assert!(matches!(c.set("partition.assignment.strategy", "roundrobin"), Err(ConfigError::NotSupported { .. })));
        assert!(matches!(c.set("nope", "1"), Err(ConfigError::UnknownKey(_))));
        c.set("isolation.level", "read_committed").unwrap();
        assert_eq!(c.isolation_level, IsolationLevel::ReadCommitted);
        assert!(matches!(c.set("isolation.level", "committed"), Err(ConfigError::InvalidValue { .. })));
        assert_eq!(c.isolation_level, IsolationLevel::ReadCommitted);
        assert!(matches!(c.set("fetch.min.bytes", "x"), Err(ConfigError::InvalidValue { .. })));
        assert!(ConsumerConfig::new("b0:9092", "").is_err());
        c.set("heartbeat.interval.ms", "45000").unwrap();
        assert!(c.validate().is_err());
    }
}
