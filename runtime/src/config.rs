//! The runtime's configuration (the core's settings plus `max.block.ms`) and the record type
//! applications send. Shared by idem-std and idem-smol.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use idem_core::producer::{ConfigError, ProducerConfig, ProducerRecord};

/// Default of `max.block.ms` (as the Java client): 60 s.
pub const DEFAULT_MAX_BLOCK: Duration = Duration::from_secs(60);

/// A runtime producer's configuration: every core setting (Kafka's names, see
/// [`ProducerConfig`]) plus `max.block.ms`, how long `send` waits for buffer space
/// (`buffer.memory`) before answering `SendError::QueueFull`.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The core's settings.
    pub core: ProducerConfig,
    /// `max.block.ms` (default 60000).
    pub max_block: Duration,
}

impl Config {
    /// Kafka's defaults with the given `bootstrap.servers` (`host:port,...`; host names are
    /// resolved at connect time, every address tried in turn).
    pub fn new(bootstrap_servers: &str) -> Result<Config, ConfigError> {
        Ok(Config::from(ProducerConfig::new(bootstrap_servers)?))
    }

    /// Sets one setting by its Kafka name; unknown keys and bad values are errors.
    pub fn set(&mut self, key: &str, value: &str) -> Result<&mut Self, ConfigError> {
        if key == "max.block.ms" {
            let ms = value.trim().parse::<u64>().map_err(|_| ConfigError::InvalidValue {
                key: key.to_string(),
                value: value.to_string(),
                expected: "a non-negative integer",
            })?;
            self.max_block = Duration::from_millis(ms);
        } else {
            self.core.set(key, value)?;
        }
        Ok(self)
    }

    /// Builder form of [`Config::set`].
    pub fn with(mut self, key: &str, value: &str) -> Result<Config, ConfigError> {
        self.set(key, value)?;
        Ok(self)
    }

    /// Defaults plus `(key, value)` pairs, validated.
    pub fn from_pairs<'k, I: IntoIterator<Item = (&'k str, &'k str)>>(pairs: I) -> Result<Config, ConfigError> {
        let mut c = Config::from(ProducerConfig::default());
        for (k, v) in pairs {
            c.set(k, v)?;
        }
        c.core.validate()?;
        Ok(c)
    }
}

impl From<ProducerConfig> for Config {
    fn from(core: ProducerConfig) -> Config {
        Config { core, max_block: DEFAULT_MAX_BLOCK }
    }
}

/// A record to send, borrowing its bytes (the producer copies them into a batch before `send`
/// returns). Build with [`Record::new`] and the setters.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// Topic.
    pub topic: &'a str,
    /// Explicit partition, or `None` to let the partitioner choose (murmur2 of the key when
    /// there is one, sticky otherwise).
    pub partition: Option<i32>,
    /// Key.
    pub key: Option<&'a [u8]>,
    /// Value.
    pub value: Option<&'a [u8]>,
    /// Headers.
    pub headers: &'a [(&'a str, Option<&'a [u8]>)],
    /// CreateTime in ms since the Unix epoch; `None`: the system clock at `send`.
    pub timestamp_ms: Option<i64>,
}

impl<'a> Record<'a> {
    /// A record for `topic` with no key, value or headers.
    pub fn new(topic: &'a str) -> Record<'a> {
        Record { topic, partition: None, key: None, value: None, headers: &[], timestamp_ms: None }
    }

    /// With this key.
    pub fn key(mut self, key: &'a [u8]) -> Self {
        self.key = Some(key);
        self
    }

    /// With this value.
    pub fn value(mut self, value: &'a [u8]) -> Self {
        self.value = Some(value);
        self
    }

    /// To this partition.
    pub fn partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// With these headers.
    pub fn headers(mut self, headers: &'a [(&'a str, Option<&'a [u8]>)]) -> Self {
        self.headers = headers;
        self
    }

    /// With this timestamp (ms since the Unix epoch).
    pub fn timestamp_ms(mut self, ts: i64) -> Self {
        self.timestamp_ms = Some(ts);
        self
    }

    /// The core's view of this record, with the timestamp filled in.
    pub fn to_core(&self) -> ProducerRecord<'a> {
        self.to_core_at(wall_clock_ms)
    }

    /// The core's view of this record; a missing timestamp is `wall_ms()` (read by a caller
    /// sending many records once for all of them).
    pub fn to_core_at(&self, wall_ms: impl FnOnce() -> i64) -> ProducerRecord<'a> {
        ProducerRecord {
            topic: self.topic,
            partition: self.partition,
            key: self.key,
            value: self.value,
            headers: self.headers,
            timestamp_ms: self.timestamp_ms.unwrap_or_else(wall_ms),
        }
    }
}

/// Milliseconds since the Unix epoch from the system clock (0 if the clock is before 1970).
pub fn wall_clock_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_block_is_ours_the_rest_goes_to_the_core() {
        let c =
            Config::new("localhost:9092").unwrap().with("max.block.ms", "250").unwrap().with("linger.ms", "7").unwrap();
        assert_eq!(c.max_block, Duration::from_millis(250));
        assert_eq!(c.core.linger, idem_core::Duration::from_millis(7));
        assert!(Config::new("localhost:9092").unwrap().with("max.block.ms", "x").is_err());
        assert!(Config::new("localhost:9092").unwrap().with("no.such.key", "1").is_err());
    }
}
