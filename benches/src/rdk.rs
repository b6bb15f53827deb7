//! The librdkafka side of the comparison: its mock cluster as a broker process, and a measured
//! `rdkafka::producer::BaseProducer` run (idempotent, acks=all).

use crate::hist::Histogram;
use crate::load::{self, Side, Target};
use crate::procstat;
use crate::run::{RunResult, Settings, Workload};
use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer as _, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Opaque value marking the warm-up record (not counted in the latency histogram).
const WARMUP: usize = usize::MAX;

/// Starts librdkafka's mock cluster with `brokers` brokers and `topic` with `partitions`
/// partitions, prints `BOOTSTRAP <servers>` on stdout, serves until stdin is closed, then
/// prints one `STATS peak_rss_kib=...` line (the process's peak RSS; the mock keeps no
/// counters).
pub fn serve_mock(brokers: i32, topic: &str, partitions: i32) -> Result<(), String> {
    let mock = MockCluster::new(brokers).map_err(|e| format!("mock cluster: {e}"))?;
    mock.create_topic(topic, partitions, 1).map_err(|e| format!("create topic: {e}"))?;
    crate::announce_and_wait(&mock.bootstrap_servers());
    println!("STATS peak_rss_kib={}", procstat::peak_rss_kib().unwrap_or(0));
    Ok(())
}

/// Producer context: records delivery latency, counts outcomes, and wakes a sender waiting
/// for queue space.
struct Ctx {
    t0: Instant,
    hist: Histogram,
    delivered: AtomicU64,
    failed: AtomicU64,
    progress: (Mutex<u64>, Condvar),
    /// Print librdkafka's log lines (`IDEM_BENCH_RDKAFKA_DEBUG` set).
    verbose: bool,
    /// `tx_bytes` of librdkafka's latest statistics (bytes written to brokers).
    tx_bytes: AtomicU64,
}

impl Ctx {
    fn reported(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed) + self.failed.load(Ordering::Relaxed)
    }

    /// Waits until some report arrives after `seen` (or `timeout` passes).
    fn wait_progress(&self, seen: u64, timeout: Duration) {
        let (m, cv) = &self.progress;
        let g = m.lock().unwrap_or_else(PoisonError::into_inner);
        if *g == seen {
            let _ = cv.wait_timeout(g, timeout);
        }
    }
}

impl ClientContext for Ctx {
    /// librdkafka's log lines go to stderr (only produced with `IDEM_BENCH_RDKAFKA_DEBUG` set,
    /// e.g. to `eos,msg,protocol`, which becomes librdkafka's `debug` setting).
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        if !self.verbose {
            return;
        }
        let ms = self.t0.elapsed().as_millis();
        eprintln!("rdkafka {ms} ms {level:?} {fac}: {log_message}");
    }

    /// librdkafka's statistics (every `statistics.interval.ms`, text workloads only): keeps
    /// the bytes written to brokers.
    fn stats(&self, statistics: rdkafka::Statistics) {
        self.tx_bytes.store(u64::try_from(statistics.tx_bytes).unwrap_or(0), Ordering::Relaxed);
    }
}

impl ProducerContext for Ctx {
    /// Microseconds since `t0` at which the record was first offered to `send`.
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, sent_us: usize) {
        if sent_us != WARMUP {
            let now = self.t0.elapsed().as_micros() as u64;
            self.hist.record(now.saturating_sub(sent_us as u64));
        }
        match result {
            Ok(_) => self.delivered.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.failed.fetch_add(1, Ordering::Relaxed),
        };
        let (m, cv) = &self.progress;
        *m.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        cv.notify_all();
    }
}

/// librdkafka's statistics interval on text workloads (their wire bytes are measured).
const STATS_INTERVAL: Duration = Duration::from_millis(100);

fn producer_config(bootstrap: &str, s: &Settings, w: &Workload) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", s.linger_ms.to_string())
        .set("batch.size", s.batch_size.to_string())
        .set("max.in.flight.requests.per.connection", s.max_in_flight.to_string())
        .set("queue.buffering.max.kbytes", (s.buffer_bytes / 1024).max(1).to_string())
        .set("message.timeout.ms", s.delivery_timeout_ms.to_string())
        .set("compression.type", &s.compression)
        .set("socket.nagle.disable", "true");
    if !s.tls_ca.is_empty() {
        c.set("security.protocol", "ssl").set("ssl.ca.location", &s.tls_ca);
    }
    if w.text {
        c.set("statistics.interval.ms", STATS_INTERVAL.as_millis().to_string());
    }
    if let Ok(debug) = std::env::var("IDEM_BENCH_RDKAFKA_DEBUG") {
        c.set("debug", debug).set_log_level(RDKafkaLogLevel::Debug);
    }
    c
}

/// Waits until `want` records have been reported (or `timeout` passes).
fn drain(p: &BaseProducer<Ctx>, want: u64, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let ctx = p.context();
    loop {
        let seen = *ctx.progress.0.lock().unwrap_or_else(PoisonError::into_inner);
        if ctx.reported() >= want {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "timed out: {} delivered, {} failed of {want}",
                ctx.delivered.load(Ordering::Relaxed),
                ctx.failed.load(Ordering::Relaxed)
            ));
        }
        ctx.wait_progress(seen, Duration::from_millis(10));
    }
}

/// A `BaseProducer` as the load generator drives it; its delivery reports are served by the
/// poll thread [`run_producer`] starts.
struct RdkSide<'a> {
    producer: &'a BaseProducer<Ctx>,
    topic: &'a str,
}

impl Side for RdkSide<'_> {
    fn producer(&self) -> &'static str {
        "librdkafka"
    }

    /// Offers the record until librdkafka accepts it; while its queue is full, waits for a
    /// delivery report. Returns an error for anything but `QueueFull`.
    fn send(&self, target: Target, value: &[u8], measured: bool) -> Result<(), String> {
        let p = self.producer;
        let opaque = if measured { p.context().t0.elapsed().as_micros() as usize } else { WARMUP };
        let rec = BaseRecord::<[u8], [u8], usize>::with_opaque_to(self.topic, opaque).payload(value);
        let key;
        let mut rec = match target {
            Target::Partition(part) => rec.partition(part),
            Target::Key(k) => {
                key = k;
                rec.key(&key[..])
            }
        };
        loop {
            let seen = *p.context().progress.0.lock().unwrap_or_else(PoisonError::into_inner);
            match p.send(rec) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    rec = back;
                    p.context().wait_progress(seen, Duration::from_millis(10));
                }
                Err((e, _)) => return Err(format!("send: {e}")),
            }
        }
    }

    fn wait_reported(&self, want: u64, timeout: Duration) -> Result<(), String> {
        drain(self.producer, want, timeout)
    }

    fn counts(&self) -> (u64, u64) {
        let ctx = self.producer.context();
        (ctx.delivered.load(Ordering::Relaxed), ctx.failed.load(Ordering::Relaxed))
    }

    fn histogram(&self) -> &Histogram {
        &self.producer.context().hist
    }

    /// `tx_bytes` of the statistics emitted after the run (waits for the next ones: the poll
    /// thread serves them).
    fn wire_bytes(&self) -> u64 {
        std::thread::sleep(STATS_INTERVAL * 3);
        self.producer.context().tx_bytes.load(Ordering::Relaxed)
    }
}

/// Runs the workload with one `BaseProducer` in this process, shared by the workload's
/// application threads (librdkafka's produce call is thread-safe), and measures it with
/// [`load::measure`], as the idem side is.
///
/// Delivery reports are served by a dedicated thread calling `poll(100 ms)` in a loop (what
/// rdkafka's `ThreadedProducer` does), and a sender facing `QueueFull` waits for a report, as
/// idem-std's blocking `send` does. Polling from the sending thread with short timeouts is not
/// an option: in rdkafka 0.39 `BaseProducer::poll(t)` keeps calling librdkafka until `t` has
/// passed and converts the remaining time to whole milliseconds, so its last millisecond is a
/// busy loop (that inflated librdkafka's CPU figures several times over in a first version).
pub fn run_producer(bootstrap: &str, topic: &str, w: &Workload, s: &Settings) -> Result<RunResult, String> {
    let ctx = Ctx {
        t0: Instant::now(),
        hist: Histogram::new(),
        delivered: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        progress: (Mutex::new(0), Condvar::new()),
        verbose: std::env::var_os("IDEM_BENCH_RDKAFKA_DEBUG").is_some(),
        tx_bytes: AtomicU64::new(0),
    };
    let p: BaseProducer<Ctx> =
        producer_config(bootstrap, s, w).create_with_context(ctx).map_err(|e| format!("create producer: {e}"))?;
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                p.poll(Duration::from_millis(100));
            }
        });
        let r = load::measure(&RdkSide { producer: &p, topic }, w, s);
        stop.store(true, Ordering::Relaxed);
        r
    })
}
