//! Shared helpers of the end-to-end tests: reading a topic back with an rdkafka consumer, and
//! checking the five guarantees against the reports.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use idem_runtime::{Producer, Runtime};
use idem_std::{DeliveryResult, Persisted};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

/// One record read back: partition, offset, value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Read {
    pub partition: i32,
    pub offset: i64,
    pub value: Vec<u8>,
}

/// Reads every partition of `topic` from the beginning to its high watermark.
pub fn read_back(bootstrap: &str, topic: &str, partitions: i32) -> Vec<Read> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "idem-e2e-reader")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    let mut highs = HashMap::new();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        let (low, high) = consumer.fetch_watermarks(topic, p, Duration::from_secs(5)).unwrap();
        highs.insert(p, high);
        if high > low {
            tpl.add_partition_offset(topic, p, Offset::Offset(low)).unwrap();
        }
    }
    let mut out = Vec::new();
    if tpl.count() == 0 {
        return out;
    }
    consumer.assign(&tpl).unwrap();
    let mut next: HashMap<i32, i64> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while highs.iter().any(|(p, h)| next.get(p).copied().unwrap_or(0) < *h) {
        assert!(Instant::now() < deadline, "timed out reading back; got {} records", out.len());
        if let Some(m) = consumer.poll(Duration::from_millis(100)) {
            let m = m.unwrap();
            next.insert(m.partition(), m.offset() + 1);
            out.push(Read { partition: m.partition(), offset: m.offset(), value: m.payload().unwrap_or(&[]).to_vec() });
        }
    }
    out
}

/// Sends `n` records round-robin over `partitions` of topic "t" with the blocking runtime,
/// record `i` with value `value(i)` after `during(i)`; flushes, closes, and returns the reports
/// (by record) and the producer's metrics.
pub fn run_std_with(
    config: idem_std::Config,
    partitions: i32,
    n: u64,
    mut during: impl FnMut(u64),
    value: impl Fn(u64) -> Vec<u8>,
) -> (Vec<Option<DeliveryResult>>, idem_std::ProducerMetrics) {
    let p = idem_std::Producer::new(config).unwrap();
    let collector = Collector::new(n as usize);
    for i in 0..n {
        during(i);
        let v = value(i);
        let rec = idem_std::Record::new("t").partition((i % partitions as u64) as i32).value(&v);
        p.send_with_callback(&rec, collector.callback(i)).unwrap();
    }
    p.flush_timeout(Duration::from_secs(20)).unwrap();
    let report = p.close_timeout(Duration::from_secs(5));
    assert_eq!(report.counts.delivered + report.counts.failed, n);
    (collector.take(), p.metrics())
}

/// Sends records `0..n` (value [`value_of`]) to topic "t" with handles, for a producer bound to
/// stop on a fatal error: it may stop while records are still being sent, and then refuses the
/// next one with that error. Returns the handles of the records accepted and the refusal, if
/// one came (sending stops there).
pub fn send_until_fatal(
    p: &idem_std::Producer,
    n: u64,
) -> (Vec<idem_std::DeliveryHandle>, Option<idem_std::SendError>) {
    let mut handles = Vec::new();
    for i in 0..n {
        match p.send(&idem_std::Record::new("t").value(&value_of(i))) {
            Ok(h) => handles.push(h),
            Err(e) => {
                assert!(matches!(e, idem_std::SendError::Fatal(_)), "record {i} refused: {e}");
                return (handles, Some(e));
            }
        }
    }
    (handles, None)
}

/// Value of record `i` of a test: 8 bytes big-endian.
pub fn value_of(i: u64) -> [u8; 8] {
    i.to_be_bytes()
}

/// Inverse of [`value_of`]: the index in a value's first 8 bytes (a test may append more).
pub fn index_of(v: &[u8]) -> u64 {
    u64::from_be_bytes(v[..8].try_into().unwrap())
}

/// What a check found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub delivered: usize,
    pub failed_not_persisted: usize,
    pub failed_possibly: usize,
    /// Records in the log more than once (count of extra copies).
    pub duplicates: usize,
    pub possibly_found: usize,
    /// First copies found after a record sent later (same partition).
    pub reordered: usize,
}

/// Checks reports (indexed by record index) against the log:
/// - every record has a report;
/// - delivered records are in the log, at the reported offset when one is given;
/// - records failed as NotPersisted are not in the log;
/// - per partition, the first copies of records are in send order (record id order);
/// - with `strict`, no duplicates and no reordering at all; without, both are counted (for
///   brokers that do not check sequences, which cannot prevent them).
pub fn check(reports: &[Option<DeliveryResult>], log: &[Read], strict: bool) -> Outcome {
    let mut out = Outcome::default();
    let mut found: HashMap<u64, Vec<(i32, i64)>> = HashMap::new();
    let mut per_partition: BTreeMap<i32, Vec<(i64, u64)>> = BTreeMap::new();
    for r in log {
        let i = index_of(&r.value);
        found.entry(i).or_default().push((r.partition, r.offset));
        per_partition.entry(r.partition).or_default().push((r.offset, i));
    }
    // Send order is the order of record ids (assigned when `send` accepted the record).
    let id_of = |i: u64| -> u64 {
        match reports.get(i as usize) {
            Some(Some(Ok(m))) => m.id.0,
            Some(Some(Err(f))) => f.id.0,
            _ => panic!("record {i} is in the log but has no report"),
        }
    };
    for (p, mut recs) in per_partition {
        recs.sort();
        let mut seen = std::collections::HashSet::new();
        let mut last: Option<u64> = None;
        for (off, i) in recs {
            if !seen.insert(i) {
                continue; // a duplicate copy (counted below)
            }
            let id = id_of(i);
            if let Some(l) = last {
                if id < l {
                    out.reordered += 1;
                    assert!(!strict, "partition {p}: record {i} (id {id}) at offset {off} after id {l}: reordered");
                }
            }
            last = Some(last.map_or(id, |l| l.max(id)));
        }
    }
    for (i, rep) in reports.iter().enumerate() {
        let i = i as u64;
        let copies = found.get(&i).map_or(0, Vec::len);
        out.duplicates += copies.saturating_sub(1);
        match rep {
            None => panic!("record {i} never reported"),
            Some(Ok(m)) => {
                out.delivered += 1;
                assert!(copies >= 1, "record {i} reported delivered ({m:?}) but not in the log");
                if let Some(off) = m.offset {
                    assert!(
                        found[&i].contains(&(m.partition, off)),
                        "record {i}: reported at {}/{off}, log has {:?}",
                        m.partition,
                        found[&i]
                    );
                }
            }
            Some(Err(f)) => match f.persisted {
                Persisted::No => {
                    out.failed_not_persisted += 1;
                    assert_eq!(copies, 0, "record {i} reported not persisted ({f}) but is in the log");
                }
                Persisted::Possibly => {
                    out.failed_possibly += 1;
                    out.possibly_found += usize::from(copies > 0);
                }
            },
        }
    }
    if strict {
        assert_eq!(out.duplicates, 0, "duplicates in the log");
    }
    out
}

/// Reads every partition of `topic` straight from an idem [`idem_mock::MockCluster`]'s logs
/// (CRC-verified decode; compressed batches decompressed).
pub fn read_idem_log(cluster: &idem_mock::MockCluster, topic: &str, partitions: i32) -> Vec<Read> {
    use idem_core::proto::record_batch::RecordBatch;
    let mut out = Vec::new();
    for p in 0..partitions {
        for b in cluster.partition_log(topic, p).unwrap_or_default() {
            let (batch, _) = RecordBatch::decode(&b.bytes).unwrap();
            let mut scratch = Vec::new();
            for r in batch.decompressed_records(&mut scratch, 64 << 20).unwrap() {
                let r = r.unwrap();
                out.push(Read {
                    partition: p,
                    offset: r.offset(&batch.header),
                    value: r.value.unwrap_or(&[]).to_vec(),
                });
            }
        }
    }
    out
}

/// An idem MockCluster with `brokers` brokers, topic `topic` of `partitions` partitions and
/// `faults` (fault spec syntax).
pub fn idem_cluster(brokers: usize, topic: &str, partitions: i32, faults: &str) -> idem_mock::MockCluster {
    idem_cluster_of(brokers, topic, partitions, faults, idem_core::broker::TransactionVersion::V1)
}

/// [`idem_cluster`] finalizing `transaction.version` at `version` (KIP-890).
pub fn idem_cluster_of(
    brokers: usize,
    topic: &str,
    partitions: i32,
    faults: &str,
    version: idem_core::broker::TransactionVersion,
) -> idem_mock::MockCluster {
    use idem_core::broker::{FaultSpec, TopicConfig};
    let mut config = idem_mock::MockClusterConfig { brokers, ..Default::default() };
    config.cluster.transaction_version = version;
    config.cluster.topics.push(TopicConfig { name: topic.to_string(), partitions });
    config.cluster.faults = FaultSpec::parse(faults).unwrap();
    config.cluster.seed = 7;
    idem_mock::MockCluster::start(config).unwrap()
}

/// `config` made transactional: `transactional.id` `id`, a 30 s `transaction.timeout.ms`.
pub fn transactional(config: idem_std::Config, id: &str) -> idem_std::Config {
    config.with("transactional.id", id).unwrap().with("transaction.timeout.ms", "30000").unwrap()
}

/// Sends records `range` to topic "t" (record `i`: value [`value_of`], partition
/// `i % partitions`); returns their handles.
pub fn send_range(
    p: &idem_std::Producer,
    range: std::ops::Range<u64>,
    partitions: i32,
) -> Vec<idem_std::DeliveryHandle> {
    range
        .map(|i| {
            let v = value_of(i);
            p.send(&idem_std::Record::new("t").partition((i % partitions as u64) as i32).value(&v)).unwrap()
        })
        .collect()
}

/// A transaction of records `range` (as [`send_range`]) and `offsets` of group `group`,
/// committed: every record is reported delivered by the time the commit returns.
pub fn commit_with_offsets(
    p: &idem_std::Producer,
    range: std::ops::Range<u64>,
    partitions: i32,
    offsets: &[idem_std::TxnOffset<'_>],
    group: &str,
) {
    p.begin_transaction().unwrap();
    let handles = send_range(p, range, partitions);
    let wait = Duration::from_secs(20);
    p.send_offsets_to_transaction(offsets, &idem_std::ConsumerGroupMetadata::new(group), wait).unwrap();
    p.commit_transaction(wait).unwrap();
    assert!(handles.iter().all(|h| h.try_result().is_some_and(|r| r.is_ok())));
}

/// Record indexes `ranges` (record `i` sent to partition `i % partitions`) as a reader lists
/// them: per partition, in order.
pub fn by_partition(ranges: &[std::ops::Range<u64>], partitions: i32) -> BTreeMap<i32, Vec<u64>> {
    let mut out: BTreeMap<i32, Vec<u64>> = (0..partitions).map(|p| (p, Vec::new())).collect();
    for i in ranges.iter().flat_map(|r| r.clone()) {
        out.entry((i % partitions as u64) as i32).or_default().push(i);
    }
    out
}

/// Fast retry settings for tests (delivery timeout `delivery_ms`).
pub fn test_config(bootstrap: &str, delivery_ms: u64) -> idem_std::Config {
    let mut c = idem_std::Config::new(bootstrap).unwrap();
    for (k, v) in [
        ("linger.ms", "2"),
        ("retry.backoff.ms", "10"),
        ("retry.backoff.max.ms", "100"),
        ("reconnect.backoff.ms", "10"),
        ("reconnect.backoff.max.ms", "100"),
        ("request.timeout.ms", "1000"),
        ("socket.connection.setup.timeout.ms", "1000"),
    ] {
        c.set(k, v).unwrap();
    }
    c.set("delivery.timeout.ms", &delivery_ms.to_string()).unwrap();
    c
}

/// The setting of the "many senders, exactly once, in order" tests: a 3-broker cluster holding
/// topic "t" (4 partitions) under a mix of lost appends, retriable errors before and after the
/// append, delays and leader moves; and a config for it (8 s delivery timeout, 1 KiB batches so
/// there are many).
pub fn faulty_cluster() -> (idem_mock::MockCluster, idem_std::Config) {
    let faults = "append_drop=0.03,error_before=REQUEST_TIMED_OUT:0.02,error_before=NOT_LEADER_OR_FOLLOWER:0.02,\
                  error_after=NOT_ENOUGH_REPLICAS_AFTER_APPEND:0.02,delay=0..3ms,leader_move=300ms";
    let cluster = idem_cluster(3, "t", 4, faults);
    let mut config = test_config(&cluster.bootstrap_servers(), 8000);
    config.set("batch.size", "1024").unwrap();
    (cluster, config)
}

/// Collects reports by record index from callbacks.
#[derive(Clone, Default)]
pub struct Collector(pub std::sync::Arc<std::sync::Mutex<Vec<Option<DeliveryResult>>>>);

impl Collector {
    pub fn new(n: usize) -> Self {
        Collector(std::sync::Arc::new(std::sync::Mutex::new(vec![None; n])))
    }

    /// A callback storing the report of record `i` (panics on a second report).
    pub fn callback(&self, i: u64) -> impl FnOnce(DeliveryResult) + Send + 'static {
        let c = self.0.clone();
        move |r| {
            let mut v = c.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            assert!(v[i as usize].is_none(), "record {i} reported twice");
            v[i as usize] = Some(r);
        }
    }

    pub fn take(&self) -> Vec<Option<DeliveryResult>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// The callbacks of a test where some callbacks panic on purpose. Record `i` uses a handle when
/// `i % handle_every == 1`, else a callback, which panics (after noting its run) when
/// `i % panic_every == 0`. Counts every callback's runs and keeps the other callbacks' reports.
#[derive(Clone)]
pub struct PanickyCallbacks {
    runs: std::sync::Arc<Vec<std::sync::atomic::AtomicU32>>,
    reports: Collector,
    handle_every: u64,
    panic_every: u64,
}

impl PanickyCallbacks {
    pub fn new(n: usize, handle_every: u64, panic_every: u64) -> Self {
        let runs = (0..n).map(|_| std::sync::atomic::AtomicU32::new(0)).collect();
        PanickyCallbacks { runs: std::sync::Arc::new(runs), reports: Collector::new(n), handle_every, panic_every }
    }

    /// Whether record `i` is sent with a handle (else with a callback).
    pub fn uses_handle(&self, i: u64) -> bool {
        i % self.handle_every == 1
    }

    /// Whether record `i` has a callback that panics.
    pub fn panics(&self, i: u64) -> bool {
        !self.uses_handle(i) && i % self.panic_every == 0
    }

    /// The callback of record `i`.
    pub fn callback(&self, i: u64) -> impl FnOnce(DeliveryResult) + Send + 'static {
        let runs = self.runs.clone();
        let panics = self.panics(i);
        let store = self.reports.callback(i);
        move |r| {
            runs[i as usize].fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if panics {
                panic!("the delivery callback of record {i} panics on purpose");
            }
            store(r);
        }
    }

    /// Whether the callback of every record of `records` sent with one has run.
    pub fn all_ran(&self, records: std::ops::Range<u64>) -> bool {
        records
            .filter(|i| !self.uses_handle(*i))
            .all(|i| self.runs[i as usize].load(std::sync::atomic::Ordering::SeqCst) > 0)
    }

    /// Asserts that the callback of every record of `records` sent with one ran exactly once and,
    /// unless it panicked, stored a report `check` accepts. Returns how many of them panicked.
    pub fn assert_each_ran_once(&self, records: std::ops::Range<u64>, check: impl Fn(u64, DeliveryResult)) -> u64 {
        let reports = self.reports.take();
        let mut panicked = 0;
        for i in records.filter(|i| !self.uses_handle(*i)) {
            assert_eq!(self.runs[i as usize].load(std::sync::atomic::Ordering::SeqCst), 1, "callback of record {i}");
            if self.panics(i) {
                panicked += 1;
            } else {
                check(i, reports[i as usize].unwrap_or_else(|| panic!("record {i}: no report stored")));
            }
        }
        panicked
    }
}

/// Runs `f` on a thread of its own and returns what it returns; panics if it has not returned
/// within `limit`, so that a hang fails the test instead of stalling it.
pub fn within<T: Send + 'static>(limit: Duration, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still running after {limit:?}"),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
    }
}

/// A delivery callback that blocks until its gate is released (or dropped, so that a failing
/// test still lets it end), and says when it has started blocking.
pub struct Gate {
    release: Option<std::sync::mpsc::Sender<()>>,
    entered: std::sync::mpsc::Receiver<()>,
}

impl Gate {
    /// A gate and the callback it holds.
    pub fn new() -> (Gate, impl FnOnce(DeliveryResult) + Send + 'static) {
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (entered_tx, entered) = std::sync::mpsc::channel();
        let callback = move |_: DeliveryResult| {
            let _ = entered_tx.send(());
            let _ = released.recv(); // returns once the gate is released or dropped
        };
        (Gate { release: Some(release), entered }, callback)
    }

    /// Waits up to `limit` for the callback to start blocking; whether it did.
    pub fn entered(&self, limit: Duration) -> bool {
        self.entered.recv_timeout(limit).is_ok()
    }

    /// Lets the callback return.
    pub fn release(mut self) {
        self.release.take();
    }
}

/// Waits up to `limit` until `done()` holds, polling; whether it did.
pub fn eventually(limit: Duration, done: impl Fn() -> bool) -> bool {
    let t0 = Instant::now();
    while !done() {
        if t0.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

/// How much later than its timeout a timeout-taking call may return (a loaded test machine).
pub const SLACK: Duration = Duration::from_secs(2);

/// Checks a `close` with `timeout` that took `took` while record 0's callback blocked on `gate`
/// (records `0..n` sent to `cluster`'s "t", those from 1 with `callbacks`): it returned by its
/// timeout, with every record reported delivered, and the log holds them all; the callbacks
/// queued behind the blocked one had not run, and run once it is released.
pub fn assert_closed_past_a_blocked_callback(
    took: Duration,
    timeout: Duration,
    report: &idem_std::CloseReport,
    cluster: &idem_mock::MockCluster,
    callbacks: &PanickyCallbacks,
    gate: Gate,
    n: u64,
) {
    assert!(took < timeout + SLACK, "close took {took:?}");
    assert_eq!(report.counts.delivered, n, "{report:?}");
    assert_eq!(read_idem_log(cluster, "t", 1).len(), n as usize);
    assert!(!callbacks.all_ran(1..n));
    gate.release();
    assert!(eventually(Duration::from_secs(5), || callbacks.all_ran(1..n)), "callbacks after release");
    callbacks.assert_each_ran_once(1..n, |i, r| assert!(r.is_ok(), "record {i}: {r:?}"));
}

/// What a delivery callback that flushed and then closed its own producer saw.
#[derive(Debug)]
pub struct FromCallback {
    /// Its own record was delivered.
    pub ok: bool,
    /// What its `flush` returned, and how long it took.
    pub flushed: Result<(), idem_std::FlushTimeout>,
    pub flush_took: Duration,
    /// What its `close` returned, and how long it took.
    pub report: idem_std::CloseReport,
    pub close_took: Duration,
}

impl FromCallback {
    /// Runs `flush`, then `close`, timing each (from a callback that got `r`).
    pub fn measure(
        r: DeliveryResult,
        flush: impl FnOnce() -> Result<(), idem_std::FlushTimeout>,
        close: impl FnOnce() -> idem_std::CloseReport,
    ) -> FromCallback {
        let t0 = Instant::now();
        let flushed = flush();
        let flush_took = t0.elapsed();
        let t1 = Instant::now();
        let report = close();
        FromCallback { ok: r.is_ok(), flushed, flush_took, report, close_took: t1.elapsed() }
    }

    /// Checks it, for calls with `timeout` and records `0..n` all delivered: both returned by
    /// their timeouts, the flush succeeded (it waited for the reports, not for the callbacks),
    /// and the close counted every record delivered. Returns the close's report.
    pub fn check(self, timeout: Duration, n: u64) -> idem_std::CloseReport {
        assert!(self.ok);
        assert_eq!(self.flushed, Ok(()), "the other records are delivered meanwhile");
        assert!(self.flush_took < timeout + SLACK, "flush took {:?}", self.flush_took);
        assert!(self.close_took < timeout + SLACK, "close took {:?}", self.close_took);
        assert_eq!(self.report.counts.delivered, n, "{:?}", self.report);
        self.report
    }
}

/// A producer of runtime `R` (idem-std's or idem-smol's) on a one-broker cluster, whose record 0
/// (sent first) has a callback that waits for [`CallbackFlushesAndCloses::go`], then flushes and
/// closes its own producer with `flush` and `close` (each given the timeout; blocking) and
/// reports what it saw.
pub struct CallbackFlushesAndCloses<R: Runtime> {
    pub cluster: idem_mock::MockCluster,
    pub producer: Arc<Producer<R>>,
    go: mpsc::Sender<()>,
    outcome: mpsc::Receiver<FromCallback>,
    timeout: Duration,
}

impl<R: Runtime> CallbackFlushesAndCloses<R> {
    /// Starts the cluster and the producer and sends record 0 with its callback.
    pub fn start(
        timeout: Duration,
        flush: fn(&Producer<R>, Duration) -> Result<(), idem_std::FlushTimeout>,
        close: fn(&Producer<R>, Duration) -> idem_std::CloseReport,
    ) -> Self {
        let cluster = idem_cluster(1, "t", 1, "");
        let producer = Arc::new(Producer::<R>::new(test_config(&cluster.bootstrap_servers(), 5000)).unwrap());
        let (go, wait_for_go) = mpsc::channel::<()>();
        let (done, outcome) = mpsc::channel();
        let own = Arc::clone(&producer);
        let callback = move |r| {
            let _ = wait_for_go.recv(); // until the other records are sent
            let _ = done.send(FromCallback::measure(r, || flush(&own, timeout), || close(&own, timeout)));
        };
        producer.try_send_with_callback(&idem_std::Record::new("t").value(&value_of(0)), callback).unwrap();
        CallbackFlushesAndCloses { cluster, producer, go, outcome, timeout }
    }

    /// Lets record 0's callback flush and close (records `0..n` sent) and checks what it saw
    /// ([`FromCallback::check`]). Returns its close's report.
    pub fn go(&self, n: u64) -> idem_std::CloseReport {
        self.go.send(()).unwrap();
        let outcome =
            self.outcome.recv_timeout(Duration::from_secs(10)).expect("the callback's flush and close return");
        outcome.check(self.timeout, n)
    }
}

/// A one-broker cluster whose responses take 200 to 300 ms (topic "t", 2 partitions), a producer
/// of runtime `R` on it, and a collector for `n` records' reports: so that a close finds
/// batches in flight.
pub fn slow_cluster<R: Runtime>(n: u64) -> (idem_mock::MockCluster, Producer<R>, Collector) {
    let cluster = idem_cluster(1, "t", 2, "delay=200..300ms");
    let p = Producer::<R>::new(test_config(&cluster.bootstrap_servers(), 5000)).unwrap();
    (cluster, p, Collector::new(n as usize))
}
