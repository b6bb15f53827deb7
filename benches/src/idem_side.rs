//! The idem side of the comparison: idem's in-memory cluster served over TCP
//! (`idem_mock::MockCluster`), and a measured `idem_std::Producer` run.

use crate::hist::Histogram;
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
/// prints one `STATS ...` line with the cluster's counters.
pub fn serve_cluster(brokers: i32, topic: &str, partitions: i32, faults: Option<&str>) -> Result<(), String> {
    let faults = match faults {
        Some(f) => FaultSpec::parse(f).map_err(|e| format!("--faults: {e}"))?,
        None => FaultSpec::default(),
    };
    let config = MockClusterConfig {
        brokers: usize::try_from(brokers).map_err(|_| "negative broker count")?,
        cluster: ClusterConfig {
            topics: vec![TopicConfig { name: topic.to_string(), partitions }],
            faults,
            ..ClusterConfig::default()
        },
        ..MockClusterConfig::default()
    };
    let cluster = MockCluster::start(config).map_err(|e| format!("start cluster: {e}"))?;
    crate::announce_and_wait(&cluster.bootstrap_servers());
    let s = cluster.stats();
    println!(
        "STATS produce_requests={} batches_appended={} records_appended={} duplicates={} rejected={} \
         errors_after={} dropped_after_append={}",
        s.produce_requests,
        s.batches_appended,
        s.records_appended,
        s.duplicates,
        s.rejected,
        s.errors_after,
        s.dropped_after_append
    );
    Ok(())
}

/// Counters and latency histogram shared with the delivery callbacks.
struct Ctx {
    hist: Histogram,
    delivered: AtomicU64,
    failed: AtomicU64,
}

/// One per producer process (the callbacks are `'static`); a static avoids an `Arc` clone per
/// record, which the librdkafka side does not pay either.
static CTX: OnceLock<Ctx> = OnceLock::new();

fn ctx() -> &'static Ctx {
    CTX.get_or_init(|| Ctx { hist: Histogram::new(), delivered: AtomicU64::new(0), failed: AtomicU64::new(0) })
}

fn on_report(sent: Option<Instant>, r: DeliveryResult) {
    let c = ctx();
    if let Some(sent) = sent {
        c.hist.record(sent.elapsed().as_micros() as u64);
    }
    match r {
        Ok(_) => c.delivered.fetch_add(1, Ordering::Relaxed),
        Err(_) => c.failed.fetch_add(1, Ordering::Relaxed),
    };
}

fn reported() -> u64 {
    ctx().delivered.load(Ordering::Relaxed) + ctx().failed.load(Ordering::Relaxed)
}

/// Waits (sleeping) until `want` records have been reported or `timeout` passes.
fn wait_reported(want: u64, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    while reported() < want {
        if Instant::now() > deadline {
            return Err(format!("timed out: {} of {want} reported", reported()));
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    Ok(())
}

/// Runs the workload with `idem_std::Producer` in this process and measures it: the same
/// shape as the librdkafka run (warm-up of one record per partition, then `records` sends with
/// a delivery callback each, then a flush).
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
        .map_err(|e| err(&e))?;
    let p = Producer::new(config).map_err(|e| format!("create producer: {e}"))?;
    let payload = vec![b'x'; w.size];
    let parts = w.partitions.max(1);

    for part in 0..parts {
        let rec = Record::new(topic).value(&payload).partition(part);
        p.send_with_callback(&rec, |r| on_report(None, r)).map_err(|e| format!("send: {e}"))?;
    }
    wait_reported(parts as u64, Duration::from_secs(30)).map_err(|e| format!("warm-up: {e}; {:?}", p.metrics()))?;
    let warm = parts as u64;

    let cpu0 = procstat::cpu_seconds().unwrap_or(0.0);
    let start = Instant::now();
    for i in 0..w.records {
        let rec = Record::new(topic).value(&payload).partition((i % parts as u64) as i32);
        let sent = Instant::now();
        p.send_with_callback(&rec, move |r| on_report(Some(sent), r)).map_err(|e| format!("send: {e}"))?;
    }
    let timeout = Duration::from_millis(s.delivery_timeout_ms + 60_000);
    p.flush_timeout(timeout).map_err(|e| format!("flush: {e}"))?;
    wait_reported(warm + w.records, timeout).map_err(|e| format!("{e}; {:?}", p.metrics()))?;
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = procstat::cpu_seconds().unwrap_or(0.0) - cpu0;
    let c = ctx();
    let result = RunResult {
        producer: "idem".into(),
        workload: w.name.clone(),
        records: w.records,
        bytes: w.records * w.size as u64,
        delivered: c.delivered.load(Ordering::Relaxed).saturating_sub(warm),
        failed: c.failed.load(Ordering::Relaxed),
        elapsed_s: elapsed,
        cpu_s: cpu,
        peak_rss_kib: procstat::peak_rss_kib().unwrap_or(0),
        p50_us: c.hist.quantile(0.5),
        p99_us: c.hist.quantile(0.99),
        max_us: c.hist.max(),
        ..RunResult::default()
    };
    p.close_timeout(Duration::from_secs(10));
    Ok(result)
}
