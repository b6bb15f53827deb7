//! The idem side of the comparison: idem's in-memory cluster served over TCP
//! (`idem_mock::MockCluster`), and a measured `idem_std::Producer` run.

use crate::hist::Histogram;
use crate::load::{self, Side, Target};
use crate::procstat;
use crate::run::{RunResult, Settings, Workload};
use idem_core::broker::{ClusterConfig, FaultSpec, TopicConfig};
use idem_mock::{MockCluster, MockClusterConfig};
use idem_std::{Config, DeliveryResult, Producer, Record};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Serves idem's in-memory cluster (`brokers` brokers, `topic` with `partitions` partitions,
/// optional fault spec) over TCP: prints `BOOTSTRAP <servers>`, serves until stdin closes, then
/// prints one `STATS ...` line with the cluster's counters and the process's peak RSS.
pub fn serve_cluster(
    brokers: i32,
    topic: &str,
    partitions: i32,
    faults: Option<&str>,
    tls_ca: Option<&str>,
) -> Result<(), String> {
    let faults = match faults {
        Some(f) => FaultSpec::parse(f).map_err(|e| format!("--faults: {e}"))?,
        None => FaultSpec::default(),
    };
    let mut config = MockClusterConfig {
        brokers: usize::try_from(brokers).map_err(|_| "negative broker count")?,
        cluster: ClusterConfig {
            topics: vec![TopicConfig { name: topic.to_string(), partitions }],
            faults,
            ..ClusterConfig::default()
        },
        ..MockClusterConfig::default()
    };
    if let Some(ca) = tls_ca.filter(|c| !c.is_empty()) {
        // The broker certificate and key beside the CA file (`harness::tls_certificates`).
        let dir = std::path::Path::new(ca).parent().ok_or("--tls-ca: no directory")?;
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).map_err(|e| format!("{f}: {e}"));
        config = config.with_tls(idem_core::tls::ServerTlsSettings::new(&read("broker.pem")?, &read("broker.key")?));
    }
    let cluster = MockCluster::start(config).map_err(|e| format!("start cluster: {e}"))?;
    crate::announce_and_wait(&cluster.bootstrap_servers());
    let s = cluster.stats();
    println!(
        "STATS produce_requests={} batches_appended={} records_appended={} duplicates={} rejected={} \
         errors_after={} dropped_after_append={} peak_rss_kib={}",
        s.produce_requests,
        s.batches_appended,
        s.records_appended,
        s.duplicates,
        s.rejected,
        s.errors_after,
        s.dropped_after_append,
        procstat::peak_rss_kib().unwrap_or(0)
    );
    Ok(())
}

/// Counters and latency histogram shared with the delivery callback.
struct Ctx {
    hist: Histogram,
    delivered: AtomicU64,
    failed: AtomicU64,
    /// The origin of the send times the records carry as their opaque values.
    t0: Instant,
}

/// The opaque value of a record sent during the warm-up (not measured).
const WARMUP: u64 = u64::MAX;

/// One per producer process (the callbacks are `'static`); a static avoids an `Arc` clone per
/// record, which the librdkafka side does not pay either.
static CTX: OnceLock<Ctx> = OnceLock::new();

fn ctx() -> &'static Ctx {
    CTX.get_or_init(|| Ctx {
        hist: Histogram::new(),
        delivered: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        t0: Instant::now(),
    })
}

/// The producer's delivery callback: `sent_us` is the record's opaque value, its send time in
/// µs since [`Ctx::t0`] (as the librdkafka side's per-message opaque).
fn on_report(sent_us: u64, r: DeliveryResult) {
    let c = ctx();
    if sent_us != WARMUP {
        let now = c.t0.elapsed().as_micros() as u64;
        c.hist.record(now.saturating_sub(sent_us));
    }
    match r {
        Ok(_) => c.delivered.fetch_add(1, Ordering::Relaxed),
        Err(_) => c.failed.fetch_add(1, Ordering::Relaxed),
    };
}

fn reported() -> u64 {
    ctx().delivered.load(Ordering::Relaxed) + ctx().failed.load(Ordering::Relaxed)
}

/// `idem_std::Producer` as the load generator drives it: `send_with_opaque` (blocking while
/// `buffer.memory` is full) with the send time as the opaque value, reported to the producer's
/// delivery callback, as the librdkafka side does with `dr_msg_cb`.
struct IdemSide<'a> {
    producer: Producer,
    topic: &'a str,
}

impl Side for IdemSide<'_> {
    fn producer(&self) -> &'static str {
        "idem"
    }

    fn send(&self, target: Target, value: &[u8], measured: bool) -> Result<(), String> {
        let rec = Record::new(self.topic).value(value);
        let key;
        let rec = match target {
            Target::Partition(p) => rec.partition(p),
            Target::Key(k) => {
                key = k;
                rec.key(&key)
            }
        };
        let sent_us = if measured { ctx().t0.elapsed().as_micros() as u64 } else { WARMUP };
        self.producer.send_with_opaque(&rec, sent_us).map_err(|e| format!("send: {e}"))?;
        Ok(())
    }

    /// Flushes (sealing open batches), then waits (sleeping) for the callbacks.
    fn wait_reported(&self, want: u64, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        self.producer.flush_timeout(timeout).map_err(|e| format!("flush: {e}"))?;
        while reported() < want {
            if Instant::now() > deadline {
                return Err(format!("timed out: {} of {want} reported; {:?}", reported(), self.producer.metrics()));
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        Ok(())
    }

    fn counts(&self) -> (u64, u64) {
        (ctx().delivered.load(Ordering::Relaxed), ctx().failed.load(Ordering::Relaxed))
    }

    fn histogram(&self) -> &Histogram {
        &ctx().hist
    }

    fn wire_bytes(&self) -> u64 {
        self.producer.metrics().bytes_sent
    }
}

/// Runs the workload with one `idem_std::Producer` in this process, shared by the workload's
/// application threads, and measures it with [`load::measure`], as the librdkafka side is.
pub fn run_producer(bootstrap: &str, topic: &str, w: &Workload, s: &Settings) -> Result<RunResult, String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let config = Config::new(bootstrap)
        .and_then(|c| c.with("enable.idempotence", "true"))
        .and_then(|c| c.with("acks", "all"))
        .and_then(|c| c.with("linger.ms", &s.linger_ms.to_string()))
        .and_then(|c| c.with("batch.size", &s.batch_size.to_string()))
        .and_then(|c| c.with("max.in.flight.requests.per.connection", &s.max_in_flight.to_string()))
        .and_then(|c| c.with("buffer.memory", &s.buffer_bytes.to_string()))
        .and_then(|c| c.with("delivery.timeout.ms", &s.delivery_timeout_ms.to_string()))
        .and_then(|c| c.with("compression.type", &s.compression))
        .and_then(|c| match s.tls_ca.as_str() {
            "" => Ok(c),
            ca => c.with("security.protocol", "SSL").and_then(|c| c.with("ssl.ca.location", ca)),
        })
        .map_err(|e| err(&e))?
        .on_delivery(on_report);
    let side = IdemSide { producer: Producer::new(config).map_err(|e| format!("create producer: {e}"))?, topic };
    let result = load::measure(&side, w, s);
    side.producer.close_timeout(Duration::from_secs(10));
    result
}
