//! The runtime's configuration (the core's settings plus `max.block.ms`,
//! `statistics.interval.ms`, the statistics callback and the producer-wide delivery callback)
//! and the record type applications send. Shared by idem-std and idem-smol.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::report::{DeliveryResult, ReportCounts};
use idem_core::producer::{ConfigError, MetricsInterval, ProducerConfig, ProducerMetrics, ProducerRecord};

/// Default of `max.block.ms` (as the Java client): 60 s.
pub const DEFAULT_MAX_BLOCK: Duration = Duration::from_secs(60);

/// A runtime producer's configuration: every core setting (Kafka's names, see
/// [`ProducerConfig`]; `debug` among them) plus `max.block.ms`, how long `send` waits for
/// buffer space (`buffer.memory`) before answering `SendError::QueueFull`, and
/// `statistics.interval.ms` with the callback that gets the [`Statistics`].
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The core's settings.
    pub core: ProducerConfig,
    /// `max.block.ms` (default 60000).
    pub max_block: Duration,
    /// `statistics.interval.ms` (default 0: off), librdkafka's: how often the producer hands
    /// [`Statistics`] to [`Config::stats_callback`], or, without one, logs their JSON (the
    /// `log` crate, info level, target `idem::stats`).
    pub statistics_interval: Duration,
    /// Gets the [`Statistics`] every `statistics.interval.ms` (librdkafka's `stats_cb`), on the
    /// producer's callback thread.
    pub stats_callback: Option<StatsCallback>,
    /// Gets the report of every record sent with `send_with_opaque`, with its opaque value
    /// (librdkafka's `dr_msg_cb` and `msg_opaque`), on the producer's callback thread.
    pub delivery_callback: Option<OpaqueDeliveryCallback>,
    /// Where OAUTHBEARER tokens come from (`sasl.mechanism=OAUTHBEARER`), librdkafka's
    /// `oauthbearer_token_refresh_cb`: called when the producer starts and again at 80% of each
    /// token's lifetime (10 s after a failure); a new token is used by the next
    /// authentications and KIP-368 re-authentications. Takes precedence over
    /// `sasl.oauthbearer.token`.
    pub oauthbearer_token_provider: Option<OAuthBearerTokenProvider>,
}

/// An OAUTHBEARER token and how long it is valid, from [`Config::oauthbearer_token_provider`].
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthBearerToken {
    /// The token (a JWT or any RFC 6750 `b64token`). Never shown by `Debug`.
    pub value: String,
    /// How long it is valid from now; it is asked for again at 80% of this.
    pub lifetime: std::time::Duration,
}

impl std::fmt::Debug for OAuthBearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthBearerToken").field("value", &"[redacted]").field("lifetime", &self.lifetime).finish()
    }
}

/// A provider of OAUTHBEARER tokens: a token, or why none could be had (logged).
pub type OAuthBearerTokenProvider = SharedCallback<dyn Fn() -> Result<OAuthBearerToken, String> + Send + Sync>;

/// What the producer hands over every `statistics.interval.ms`: a metrics snapshot, the rates
/// and averages since the previous one (the first: since the producer started), and the report
/// counts.
#[derive(Clone, Debug, PartialEq)]
pub struct Statistics {
    /// The snapshot (totals, gauges, per broker and per partition).
    pub metrics: ProducerMetrics,
    /// Rates and averages since the previous statistics.
    pub interval: MetricsInterval,
    /// Records reported so far, by outcome.
    pub counts: ReportCounts,
}

impl Statistics {
    /// The statistics as one JSON object (the Java client's metric names; see
    /// [`ProducerMetrics::to_json`]), as librdkafka hands its `stats_cb`.
    pub fn json(&self) -> String {
        self.metrics.to_json(Some(&self.interval))
    }
}

/// A callback set once in the [`Config`] and shared by every call. Two are equal when they
/// are the same callback.
pub struct SharedCallback<F: ?Sized>(pub(crate) Arc<F>);

impl<F: ?Sized> Clone for SharedCallback<F> {
    fn clone(&self) -> Self {
        SharedCallback(Arc::clone(&self.0))
    }
}

impl<F: ?Sized> std::fmt::Debug for SharedCallback<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedCallback")
    }
}

impl<F: ?Sized> PartialEq for SharedCallback<F> {
    fn eq(&self, other: &SharedCallback<F>) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The statistics callback (see [`Config::on_statistics`]).
pub type StatsCallback = SharedCallback<dyn Fn(&Statistics) + Send + Sync>;

/// The producer-wide delivery callback (see [`Config::on_delivery`]).
pub type OpaqueDeliveryCallback = SharedCallback<dyn Fn(u64, DeliveryResult) + Send + Sync>;

impl Config {
    /// Kafka's defaults with the given `bootstrap.servers` (`host:port,...`; host names are
    /// resolved at connect time, every address tried in turn).
    pub fn new(bootstrap_servers: &str) -> Result<Config, ConfigError> {
        Ok(Config::from(ProducerConfig::new(bootstrap_servers)?))
    }

    /// Sets one setting by its Kafka name; unknown keys and bad values are errors.
    pub fn set(&mut self, key: &str, value: &str) -> Result<&mut Self, ConfigError> {
        let ms = || {
            value.trim().parse::<u64>().map(Duration::from_millis).map_err(|_| ConfigError::InvalidValue {
                key: key.to_string(),
                value: value.to_string(),
                expected: "a non-negative integer",
            })
        };
        match key {
            "max.block.ms" => self.max_block = ms()?,
            "statistics.interval.ms" => self.statistics_interval = ms()?,
            #[cfg(feature = "tls")]
            "ssl.ca.location" | "ssl.certificate.location" | "ssl.key.location" => {
                tls::read_location(self, key, value)?
            }
            _ => {
                self.core.set(key, value)?;
            }
        }
        Ok(self)
    }

    /// Hands [`Statistics`] to `callback` every `statistics.interval.ms` (set it too: 0, the
    /// default, is off), as librdkafka's `stats_cb`. The callback runs on the producer's
    /// callback thread, after the delivery callbacks reported before it.
    ///
    /// ```no_run
    /// let config = idem_std::Config::new("localhost:9092")?
    ///     .with("statistics.interval.ms", "5000")?
    ///     .on_statistics(|stats| {
    ///         let rates = &stats.interval;
    ///         println!("{:.0} records/s, {:.1} retries/s", rates.record_send_rate, rates.record_retry_rate);
    ///         println!("{}", stats.json()); // for a dashboard
    ///     });
    /// let producer = idem_std::Producer::new(config)?;
    /// # drop(producer);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_statistics(mut self, callback: impl Fn(&Statistics) + Send + Sync + 'static) -> Config {
        self.stats_callback = Some(SharedCallback(Arc::new(callback)));
        self
    }

    /// Runs `callback` with the opaque value and the report of every record sent with
    /// `Producer::send_with_opaque`, as librdkafka's `dr_msg_cb` with its per-message opaque:
    /// one callback for the whole producer, so a record costs no allocation for its report
    /// (where `send_with_callback` boxes a closure per record). It runs on the producer's
    /// callback thread, in report order, like every delivery callback (a panic is caught and
    /// counted). Without it, the reports of such records are only counted.
    ///
    /// ```no_run
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// static FAILED: AtomicU64 = AtomicU64::new(0);
    /// let config = idem_std::Config::new("localhost:9092")?.on_delivery(|opaque, result| {
    ///     if let Err(e) = result {
    ///         eprintln!("order {opaque}: {e}");
    ///         FAILED.fetch_add(1, Ordering::Relaxed);
    ///     }
    /// });
    /// let producer = idem_std::Producer::new(config)?;
    /// let order_id = 42;
    /// producer.send_with_opaque(&idem_std::Record::new("orders").value(b"..."), order_id)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_delivery(mut self, callback: impl Fn(u64, DeliveryResult) + Send + Sync + 'static) -> Config {
        self.delivery_callback = Some(SharedCallback(Arc::new(callback)));
        self
    }

    /// Builder form of [`Config::set`].
    pub fn with(mut self, key: &str, value: &str) -> Result<Config, ConfigError> {
        self.set(key, value)?;
        Ok(self)
    }

    /// Sets the OAUTHBEARER token provider ([`Config::oauthbearer_token_provider`]).
    ///
    /// ```
    /// # fn fetch_token_from_my_identity_provider() -> Result<String, String> { Ok("eyJhbGciOiJub25lIn0.e30.".into()) }
    /// let mut config = idem_std::Config::new("localhost:9092")?;
    /// config.set("security.protocol", "SASL_PLAINTEXT")?.set("sasl.mechanism", "OAUTHBEARER")?;
    /// let config = config.with_oauthbearer_token_provider(|| {
    ///     let value = fetch_token_from_my_identity_provider()?;
    ///     Ok(idem_std::OAuthBearerToken { value, lifetime: std::time::Duration::from_secs(3600) })
    /// });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_oauthbearer_token_provider(
        mut self,
        provider: impl Fn() -> Result<OAuthBearerToken, String> + Send + Sync + 'static,
    ) -> Config {
        self.oauthbearer_token_provider = Some(SharedCallback(Arc::new(provider)));
        self
    }

    /// Defaults plus `(key, value)` pairs, validated.
    pub fn from_pairs<'k, I: IntoIterator<Item = (&'k str, &'k str)>>(pairs: I) -> Result<Config, ConfigError> {
        let mut c = Config::from(ProducerConfig::default());
        for (k, v) in pairs {
            c.set(k, v)?;
        }
        c.validate()?;
        Ok(c)
    }

    /// Checks the settings as the producer will (with the system's clock and trust anchors
    /// installed under `SSL` / `SASL_SSL`, as [`Producer::new`](crate::Producer) does).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut core = self.core.clone();
        #[cfg(feature = "tls")]
        tls::install_system(&mut core);
        core.validate()
    }
}

impl From<ProducerConfig> for Config {
    fn from(core: ProducerConfig) -> Config {
        Config {
            core,
            max_block: DEFAULT_MAX_BLOCK,
            statistics_interval: Duration::ZERO,
            stats_callback: None,
            delivery_callback: None,
            oauthbearer_token_provider: None,
        }
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
        let c = Config::new("localhost:9092").unwrap().with("statistics.interval.ms", "1500").unwrap();
        assert_eq!(c.statistics_interval, Duration::from_millis(1500));
        assert!(Config::new("localhost:9092").unwrap().with("statistics.interval.ms", "-1").is_err());
        let c = c.with("debug", "eos,msg").unwrap();
        assert_eq!(c.core.debug.to_string(), "msg,eos");
        let c = c.with("compression.type", "lz4").unwrap().with("compression.level", "4").unwrap();
        assert_eq!((c.core.compression.name(), c.core.compression_level), ("lz4", Some(4)));
        let e = Config::from_pairs([
            ("bootstrap.servers", "a:1"),
            ("compression.type", "zstd"),
            ("compression.level", "99"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("compression.level"), "{e}");
        assert!(Config::new("localhost:9092").unwrap().with("compression.type", "lzma").is_err());
        let with_cb = c.clone().on_statistics(|_| {});
        assert_eq!(with_cb, with_cb.clone());
        assert_ne!(with_cb, c);
    }
}

/// The `ssl.*` settings that are the runtime's business: files to read, and the system's trust
/// anchors and wall clock (idem-core reads neither files nor clocks).
#[cfg(feature = "tls")]
pub(crate) mod tls {
    use std::sync::{Arc, OnceLock};

    use idem_core::producer::{ConfigError, ProducerConfig, SecurityProtocol};
    use idem_core::tls::rustls::time_provider::DefaultTimeProvider;
    use idem_core::tls::{CertificateDer, TlsConfigError};

    /// `ssl.ca.location`, `ssl.certificate.location`, `ssl.key.location`: the file's contents
    /// become `ssl.ca.pem`, `ssl.certificate.pem`, `ssl.key.pem` (its errors name the file
    /// setting). `ssl.ca.location=probe` (librdkafka's) means the system's trust anchors.
    pub(crate) fn read_location(config: &mut super::Config, key: &str, path: &str) -> Result<(), ConfigError> {
        let (setting, pem_key) = match key {
            "ssl.ca.location" => ("ssl.ca.location", "ssl.ca.pem"),
            "ssl.certificate.location" => ("ssl.certificate.location", "ssl.certificate.pem"),
            _ => ("ssl.key.location", "ssl.key.pem"),
        };
        if setting == "ssl.ca.location" && path.trim() == "probe" {
            config.core.security.tls.ca_pem = None;
            return Ok(());
        }
        let pem = std::fs::read_to_string(path.trim()).map_err(|e| {
            ConfigError::Tls(TlsConfigError { setting, reason: format!("cannot read `{}`: {e}", path.trim()) })
        })?;
        if !pem.contains("-----BEGIN ") {
            let reason = format!("`{}` is not PEM (no -----BEGIN line)", path.trim());
            return Err(ConfigError::Tls(TlsConfigError { setting, reason }));
        }
        config.core.set(pem_key, &pem).map_err(|e| match e {
            // Say which file setting it came from.
            ConfigError::InvalidValue { expected, .. } => {
                ConfigError::Tls(TlsConfigError { setting, reason: format!("`{}`: expected {expected}", path.trim()) })
            }
            other => other,
        })?;
        Ok(())
    }

    /// Under `SSL` / `SASL_SSL`: the system clock, and, without `ssl.ca.*`, the system's trust
    /// anchors (loaded once per process), unless the application set its own.
    pub(crate) fn install_system(core: &mut ProducerConfig) {
        if !matches!(core.security.protocol, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl) {
            return;
        }
        let tls = &mut core.security.tls;
        if tls.wall_clock.is_none() {
            tls.wall_clock = Some(Arc::new(DefaultTimeProvider));
        }
        if tls.ca_pem.is_none() && tls.roots.is_empty() && tls.client_config.is_none() {
            tls.roots = system_roots().clone();
        }
    }

    /// The operating system's trust anchors (rustls-native-certs; unreadable ones skipped).
    fn system_roots() -> &'static Vec<CertificateDer<'static>> {
        static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
        ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
    }

    #[cfg(test)]
    mod tests {
        use super::super::Config;
        use idem_core::producer::ConfigError;

        #[test]
        fn file_settings_are_read_and_their_errors_name_them() {
            let e = Config::from_pairs([("security.protocol", "SSL"), ("ssl.ca.location", "/nonexistent/ca.pem")])
                .expect_err("missing file");
            let text = e.to_string();
            assert!(text.contains("ssl.ca.location") && text.contains("/nonexistent/ca.pem"), "{text}");
            let dir = std::env::temp_dir().join(format!("idem-config-tls-{}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("dir");
            let not_pem = dir.join("not.pem");
            std::fs::write(&not_pem, "hello").expect("write");
            let path = not_pem.to_string_lossy().into_owned();
            let e = Config::from_pairs([("security.protocol", "SSL"), ("ssl.ca.location", path.as_str())])
                .expect_err("not PEM");
            assert!(matches!(&e, ConfigError::Tls(t) if t.setting == "ssl.ca.location"), "{e:?}");
            let key = dir.join("client.key");
            std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").expect("write");
            let key = key.to_string_lossy().into_owned();
            let e = Config::from_pairs([
                ("bootstrap.servers", "localhost:9093"),
                ("security.protocol", "SSL"),
                ("ssl.ca.location", "probe"),
                ("ssl.key.location", key.as_str()),
            ])
            .expect_err("a key without its certificate");
            assert!(e.to_string().contains("ssl.certificate.pem"), "{e}");
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
