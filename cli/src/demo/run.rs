//! Running the demo: the cluster with its faults, the producer threads, the scheduled leader
//! move and broker down/up, the read-back and the report.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use idem_core::broker::{ClusterStats, FaultSpec, TopicConfig, TransactionVersion};
use idem_core::broker::{SaslServerConfig, SaslUser};
use idem_core::producer::{Persisted, ProducerMetrics};
use idem_core::proto::record_batch::Compression;
use idem_core::sasl::Mechanism;
use idem_mock::{MockCluster, MockClusterConfig, TestCertificates};

use super::DemoArgs;
use super::check::{Checker, Outcome};
use super::group::{self, GroupVerdict, Logged};
use super::report::{Injected, Reaction, Report};
use super::txn;
use super::workload::Plan;
use crate::progress::{Progress, Snapshot};

/// The demo topic.
const TOPIC: &str = "idem-demo";
/// Brokers in the embedded cluster.
const BROKERS: usize = 3;
/// Faults injected all along (per Produce request or partition; see `FaultSpec`).
const FAULTS: &str = "append_drop=1%,error_after=NOT_ENOUGH_REPLICAS_AFTER_APPEND:1%,\
                      error_before=NOT_ENOUGH_REPLICAS:1%,delay=1..20ms:5%,leader_move=400ms";
/// Faults while the consumer group reads back: delays, and the coordinator moving and answering
/// NOT_COORDINATOR and COORDINATOR_LOAD_IN_PROGRESS.
const GROUP_FAULTS: &str = "delay=1..20ms:5%,coordinator_move=700ms,not_coordinator=3%,coordinator_loading=3%";
/// Faults while the transactions run: the produce faults (a batch's answer lost, errors
/// before and after append), and the transaction coordinator moving and answering
/// NOT_COORDINATOR and COORDINATOR_LOAD_IN_PROGRESS.
const TXN_FAULTS: &str = "append_drop=1%,error_after=NOT_ENOUGH_REPLICAS_AFTER_APPEND:1%,\
                          error_before=NOT_ENOUGH_REPLICAS:1%,delay=1..20ms:5%,leader_move=400ms,\
                          coordinator_move=700ms,not_coordinator=3%,coordinator_loading=3%";
/// Bound on waiting for the last reports after the last send.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(150);
/// The broker taken down and brought back.
const BOUNCED_BROKER: i32 = 1;

/// The workload of a demo run.
pub(super) fn plan(d: &DemoArgs) -> Plan {
    Plan { records: d.records, threads: d.threads, partitions: d.partitions, value_len: 100, seed: d.seed }
}

/// State shared by the producer threads, their callbacks and the main thread.
struct Shared {
    /// Per thread, per record: what the producer reported.
    outcomes: Vec<Mutex<Vec<Outcome>>>,
    sent: AtomicU64,
    done: AtomicU64,
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Shared {
    fn new(plan: &Plan) -> Shared {
        Shared {
            outcomes: (0..plan.threads)
                .map(|t| Mutex::new(vec![Outcome::Pending; plan.records_of(t) as usize]))
                .collect(),
            sent: AtomicU64::new(0),
            done: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            first_error: Mutex::new(None),
        }
    }

    fn set(&self, t: u32, i: u64, outcome: Outcome) {
        if let Some(m) = self.outcomes.get(t as usize) {
            let mut v = m.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(slot) = v.get_mut(i as usize) {
                *slot = outcome;
            }
        }
        self.done.fetch_add(1, Ordering::Relaxed);
        if !matches!(outcome, Outcome::Delivered { .. }) {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn error(&self, e: String) {
        let mut first = self.first_error.lock().unwrap_or_else(PoisonError::into_inner);
        first.get_or_insert(e);
    }

    fn snapshot(&self, total: u64) -> Snapshot {
        let sent = self.sent.load(Ordering::Relaxed);
        Snapshot {
            sent,
            done: self.done.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            position: sent,
            total: Some(total),
        }
    }
}

/// The leader move and the broker down/up, triggered by progress through the workload.
struct Chaos {
    moved: bool,
    down_at: Option<Instant>,
    up: bool,
}

impl Chaos {
    fn step(&mut self, cluster: &MockCluster, fraction: f64, finished: bool, partitions: i32) {
        if !self.moved && fraction >= 0.2 {
            self.moved = true;
            let _ = cluster.move_leader(TOPIC, partitions - 1, None);
        }
        if self.down_at.is_none() && fraction >= 0.4 {
            if cluster.broker_down(BOUNCED_BROKER).is_ok() {
                self.down_at = Some(Instant::now());
            } else {
                self.up = true;
            }
        }
        if let Some(at) = self.down_at
            && !self.up
            && (finished || (fraction >= 0.6 && at.elapsed() >= Duration::from_millis(300)))
        {
            self.up = cluster.broker_up(BOUNCED_BROKER).is_ok();
        }
    }
}

/// Runs the demo; returns the exit code (0 PASS, 1 FAIL, 2 setup error).
pub(super) fn run(d: &DemoArgs) -> u8 {
    let plan = plan(d);
    let faults = !d.no_faults;
    let secure = match d.secure.then(demo_certificates).transpose() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("idem demo: cannot generate the certificates: {e}");
            return 2;
        }
    };
    let version = if d.transaction_version >= 2 { TransactionVersion::V2 } else { TransactionVersion::V1 };
    let cluster = match start_cluster(&plan, faults, secure.as_ref(), version) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("idem demo: cannot start the embedded cluster: {e}");
            return 2;
        }
    };
    let producer = match new_producer(&cluster.bootstrap_servers(), plan.seed, d.compression, secure.as_ref(), None) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("idem demo: cannot create the producer: {e}");
            return 2;
        }
    };
    let show_progress = !d.no_progress && (d.progress || std::io::stderr().is_terminal());
    let mut progress = Progress::new(show_progress);
    let shared = Arc::new(Shared::new(&plan));
    let start = Instant::now();
    let sending_done = AtomicBool::new(false);
    let mut chaos = Chaos { moved: false, down_at: None, up: false };

    std::thread::scope(|s| {
        let threads: Vec<_> = (0..plan.threads)
            .map(|t| {
                let (shared, producer) = (Arc::clone(&shared), &producer);
                s.spawn(move || send_share(producer, &plan, t, &shared))
            })
            .collect();
        let sender_done = || threads.iter().all(|h| h.is_finished());
        loop {
            let snap = shared.snapshot(plan.records);
            let all_sent = sender_done();
            if faults {
                chaos.step(&cluster, snap.sent as f64 / plan.records as f64, all_sent, plan.partitions);
            }
            progress.update(&snap);
            if all_sent {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        sending_done.store(true, Ordering::SeqCst);
    });
    if faults {
        chaos.step(&cluster, 1.0, true, plan.partitions);
    }
    // Every record sent: wait for the last reports (faults stay on), drawing progress meanwhile.
    let flushed = flush(&producer, &shared, &plan, &mut progress);
    let produce_elapsed = start.elapsed();
    progress.finish();
    let metrics = producer_metrics(&producer);
    close(&producer);

    let outcomes: Vec<Vec<Outcome>> =
        shared.outcomes.iter().map(|m| m.lock().unwrap_or_else(PoisonError::into_inner).clone()).collect();
    let mut checker = Checker::new(plan, &outcomes);
    for p in 0..plan.partitions {
        let batches = cluster.partition_log(TOPIC, p).unwrap_or_default();
        checker.partition(p, batches.iter().map(|b| b.bytes.as_slice()));
    }
    let logged = checker.take_logged();
    let verdict = checker.finish();
    let group = secure.is_none().then(|| read_back_through_group(&cluster, &logged, faults, plan.seed));
    let transactions = d.transactions.then(|| {
        if faults {
            match FaultSpec::parse(TXN_FAULTS) {
                Ok(spec) => cluster.set_faults(spec),
                Err(e) => eprintln!("idem demo: the transactions' fault plan: {e}"),
            }
        }
        let bootstrap = cluster.bootstrap_servers();
        let make = |id: Option<&str>| new_producer(&bootstrap, plan.seed, d.compression, secure.as_ref(), id);
        txn::run(&cluster, plan.partitions, plan.seed, version, &make)
    });
    let report = Report {
        plan,
        brokers: BROKERS,
        faults,
        compression: d.compression,
        security: secure.is_some().then(|| {
            let s = cluster.stats();
            format!(
                "SASL_SSL: TLS with a certificate generated for this run, {DEMO_MECHANISM}, {} authentications",
                s.sasl_authentications
            )
        }),
        injected: injected(&cluster.stats()),
        reaction: reaction(&metrics),
        verdict,
        produce_elapsed,
        group,
        transactions,
    };
    print!("{}", report.render());
    if let Err(e) = flushed {
        println!("note: {e}");
    }
    if let Some(e) = shared.first_error.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
        println!("first delivery error: {e}");
    }
    if report.pass() { 0 } else { 1 }
}

/// Reads the topic back through a consumer group of idem's consumers (see `group.rs`), with the
/// coordinator moving and answering errors when faults are on; returns the verdict and the
/// coordinator moves and errors injected meanwhile.
fn read_back_through_group(
    cluster: &MockCluster,
    logged: &[Vec<(i64, Logged)>],
    faults: bool,
    seed: u64,
) -> (GroupVerdict, u64, u64) {
    if faults {
        match FaultSpec::parse(GROUP_FAULTS) {
            Ok(spec) => cluster.set_faults(spec),
            Err(e) => {
                let error = Some(format!("the read-back's fault plan: {e}"));
                return (GroupVerdict { error, ..GroupVerdict::default() }, 0, 0);
            }
        }
    }
    let before = cluster.stats();
    let verdict = group::read_back(&cluster.bootstrap_servers(), TOPIC, logged, seed);
    let after = cluster.stats();
    (verdict, after.coordinator_moves - before.coordinator_moves, after.coordinator_errors - before.coordinator_errors)
}

/// The demo's SASL mechanism and user under `--secure`.
const DEMO_MECHANISM: Mechanism = Mechanism::ScramSha256;
const DEMO_USER: (&str, &str) = ("idem-demo", "idem-demo-secret");

/// `--secure`: certificates for the embedded cluster's listeners (`localhost`, `127.0.0.1`).
fn demo_certificates() -> Result<TestCertificates, String> {
    TestCertificates::generate(&["localhost"]).map_err(|e| e.to_string())
}

fn start_cluster(
    plan: &Plan,
    faults: bool,
    secure: Option<&TestCertificates>,
    version: TransactionVersion,
) -> std::io::Result<MockCluster> {
    let mut config = MockClusterConfig { brokers: BROKERS, ..MockClusterConfig::default() };
    config.cluster.transaction_version = version;
    if let Some(certs) = secure {
        config = config.with_tls(certs.broker_settings());
        config.cluster.sasl = Some(SaslServerConfig {
            mechanisms: vec![DEMO_MECHANISM],
            users: vec![SaslUser::new(DEMO_USER.0, DEMO_USER.1)],
            session_lifetime: None,
        });
    }
    config.cluster.topics = vec![
        TopicConfig { name: TOPIC.to_string(), partitions: plan.partitions },
        TopicConfig { name: super::txn::TXN_TOPIC.to_string(), partitions: plan.partitions },
    ];
    config.cluster.auto_create_partitions = None;
    config.cluster.log_max_bytes = usize::MAX / 2;
    config.cluster.seed = plan.seed;
    if faults {
        config.cluster.faults = FaultSpec::parse(FAULTS).map_err(|e| std::io::Error::other(e.to_string()))?;
    }
    MockCluster::start(config)
}

/// Maps the cluster's counters to the report's.
fn injected(s: &ClusterStats) -> Injected {
    Injected {
        dropped_after_append: s.dropped_after_append,
        errors_after_append: s.errors_after,
        errors_before_append: s.errors_before,
        delayed_responses: s.delayed_responses,
        leader_moves: s.leader_moves,
        broker_downs: s.broker_downs,
        not_leader: s.not_leader,
        duplicates_rejected: s.duplicates,
    }
}

/// Maps the producer's metrics to the report's.
fn reaction(m: &ProducerMetrics) -> Reaction {
    Reaction {
        produce_requests: m.produce_requests,
        batches: m.batches,
        retries: m.retries,
        duplicates_acknowledged: m.duplicates_acknowledged,
        implicit_acks: m.implicit_acks,
        epoch_bumps: m.epoch_bumps,
        connection_errors: m.connection_errors,
    }
}

fn outcome_of(result: &idem_std::DeliveryResult) -> Outcome {
    match result {
        Ok(md) => Outcome::Delivered { partition: md.partition, offset: md.offset },
        Err(f) if f.persisted == Persisted::Possibly => Outcome::PossiblyPersisted,
        Err(_) => Outcome::NotPersisted,
    }
}

/// The demo's producer: Kafka's defaults except short backoffs and timeouts (the cluster is
/// local), the demo's seed for the jitter and its `compression.type`; transactional with
/// `transactional_id`.
fn new_producer(
    bootstrap: &str,
    seed: u64,
    compression: Compression,
    secure: Option<&TestCertificates>,
    transactional_id: Option<&str>,
) -> Result<idem_std::Producer, String> {
    let mut config = idem_std::Config::new(bootstrap).map_err(|e| e.to_string())?;
    if let Some(certs) = secure {
        for (k, v) in [
            ("security.protocol", "SASL_SSL"),
            ("ssl.ca.pem", certs.ca_pem.as_str()),
            ("sasl.mechanism", DEMO_MECHANISM.name()),
            ("sasl.username", DEMO_USER.0),
            ("sasl.password", DEMO_USER.1),
        ] {
            config.set(k, v).map_err(|e| e.to_string())?;
        }
    }
    for (k, v) in [
        ("client.id", "idem-demo".to_string()),
        ("idem.seed", seed.to_string()),
        ("linger.ms", "5".to_string()),
        ("retry.backoff.ms", "10".to_string()),
        ("retry.backoff.max.ms", "200".to_string()),
        ("reconnect.backoff.ms", "10".to_string()),
        ("reconnect.backoff.max.ms", "200".to_string()),
        ("request.timeout.ms", "5000".to_string()),
        ("delivery.timeout.ms", "120000".to_string()),
        ("compression.type", compression.name().to_string()),
    ] {
        config.set(k, &v).map_err(|e| e.to_string())?;
    }
    if let Some(id) = transactional_id {
        config.set("transactional.id", id).map_err(|e| e.to_string())?;
    }
    idem_std::Producer::new(config).map_err(|e| e.to_string())
}

/// Thread `t` sends its share of the workload, in order, recording each report.
fn send_share(producer: &idem_std::Producer, plan: &Plan, t: u32, shared: &Arc<Shared>) {
    let mut value = Vec::with_capacity(plan.value_len);
    for i in 0..plan.records_of(t) {
        plan.value(t, i, &mut value);
        let key = plan.key(t, i);
        let record = idem_std::Record::new(TOPIC).partition(plan.partition_of(t, i)).key(&key).value(&value);
        let cb_shared = Arc::clone(shared);
        let sent = producer.send_with_callback(&record, move |result| {
            if let Err(f) = &result {
                cb_shared.error(f.to_string());
            }
            cb_shared.set(t, i, outcome_of(&result));
        });
        if let Err(e) = sent {
            shared.error(format!("send refused: {e}"));
            shared.set(t, i, Outcome::Refused);
        }
        shared.sent.fetch_add(1, Ordering::Relaxed);
    }
}

/// Waits until every record has its report (or the timeout), drawing progress.
fn flush(producer: &idem_std::Producer, shared: &Shared, plan: &Plan, progress: &mut Progress) -> Result<(), String> {
    let deadline = Instant::now() + FLUSH_TIMEOUT;
    let _ = producer.flush_timeout(Duration::ZERO); // seal the open batches; the loop below waits
    while shared.done.load(Ordering::Relaxed) < plan.records {
        if Instant::now() >= deadline {
            return Err(format!("not every record was reported within {} s", FLUSH_TIMEOUT.as_secs()));
        }
        progress.update(&shared.snapshot(plan.records));
        std::thread::sleep(Duration::from_millis(10));
    }
    progress.update(&shared.snapshot(plan.records));
    Ok(())
}

fn producer_metrics(producer: &idem_std::Producer) -> ProducerMetrics {
    producer.metrics()
}

fn close(producer: &idem_std::Producer) {
    let _ = producer.close_timeout(Duration::from_secs(5));
}
