//! The plans (which workloads, on which broker, with which settings) and their orchestration:
//! for every job and round, start a fresh broker process, run each producer in its own child
//! process (order alternating by round), and collect the `RESULT` line each child prints.
//! Every process is this same binary with a subcommand.

use crate::run::{RunResult, Settings, Workload};
use std::io::{BufRead as _, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};

/// The topic every run writes to.
pub const TOPIC: &str = "bench";

/// Brokers in each cluster.
pub const BROKERS: i32 = 3;

/// Which broker a run talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrokerKind {
    /// idem's in-memory cluster served over TCP by `idem_mock`.
    IdemCluster,
    /// librdkafka's mock cluster.
    RdkafkaMock,
}

impl BrokerKind {
    /// The name used on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            BrokerKind::IdemCluster => "idem-cluster",
            BrokerKind::RdkafkaMock => "rdkafka-mock",
        }
    }

    /// Parses [`BrokerKind::name`].
    pub fn parse(s: &str) -> Option<BrokerKind> {
        [BrokerKind::IdemCluster, BrokerKind::RdkafkaMock].into_iter().find(|b| b.name() == s)
    }
}

/// One measured cell of a plan: a workload, on a broker, with the producer settings both
/// producers get.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// The broker both producers talk to.
    pub broker: BrokerKind,
    /// What the producers send.
    pub workload: Workload,
    /// How both producers are configured.
    pub settings: Settings,
}

/// The sets of runs `compare` knows, each written to its own files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// 100 B and 1 KiB on both brokers, 100 B with faults on idem's cluster.
    Default,
    /// Keyed 100 B records to 1 to 10,000 partitions.
    Partitions,
    /// 1, 4 and 16 application threads sharing one producer.
    Threads,
    /// Delivery latency at 10, 50 and 90 % of librdkafka's saturation rate, linger.ms 0 and 5.
    Latency,
    /// 1 KiB text-like records uncompressed, with lz4 and with zstd: records/s, bytes on the
    /// wire over value bytes, CPU (not part of `--plan all`).
    Compression,
    /// 100 B and 1 KiB plaintext and over TLS, on idem's cluster (librdkafka's mock has no TLS
    /// listener): records/s, CPU, memory (not part of `--plan all`).
    Tls,
}

impl Plan {
    /// Every plan `--plan all` runs, in its order.
    pub const ALL: [Plan; 4] = [Plan::Default, Plan::Partitions, Plan::Threads, Plan::Latency];
    /// Every plan `--plan` knows.
    pub const KNOWN: [Plan; 6] =
        [Plan::Default, Plan::Partitions, Plan::Threads, Plan::Latency, Plan::Compression, Plan::Tls];

    /// The name used on the command line and in result files.
    pub fn name(self) -> &'static str {
        match self {
            Plan::Default => "default",
            Plan::Partitions => "partitions",
            Plan::Threads => "threads",
            Plan::Latency => "latency",
            Plan::Compression => "compression",
            Plan::Tls => "tls",
        }
    }

    /// Parses [`Plan::name`].
    pub fn parse(s: &str) -> Option<Plan> {
        Plan::KNOWN.into_iter().find(|p| p.name() == s)
    }

    /// The output file stem: `compare` for the default plan, `compare-<name>` for the others,
    /// with `-quick` appended for `--quick` runs.
    pub fn stem(self, quick: bool) -> String {
        let base = match self {
            Plan::Default => "compare".to_string(),
            p => format!("compare-{}", p.name()),
        };
        if quick { format!("{base}-quick") } else { base }
    }
}

/// The brokers a plan runs on unless `--only` narrows it.
pub const BOTH: [BrokerKind; 2] = [BrokerKind::IdemCluster, BrokerKind::RdkafkaMock];

/// The default plan: 100 B and 1 KiB on both brokers, 100 B with faults on idem's cluster.
/// `scale` divides the record counts (10 for `--quick`).
pub fn default_plan(scale: u64, s: &Settings) -> Vec<Job> {
    let job = |broker, name: &str, records: u64, size: usize, faults: Option<&str>| Job {
        broker,
        workload: Workload { faults: faults.map(String::from), ..Workload::new(name, records / scale.max(1), size, 3) },
        settings: s.clone(),
    };
    let faults = "append_drop=2%,error_after=NOT_ENOUGH_REPLICAS_AFTER_APPEND:2%";
    vec![
        job(BrokerKind::IdemCluster, "100 B", 1_000_000, 100, None),
        job(BrokerKind::IdemCluster, "1 KiB", 200_000, 1024, None),
        job(BrokerKind::RdkafkaMock, "100 B", 1_000_000, 100, None),
        job(BrokerKind::RdkafkaMock, "1 KiB", 200_000, 1024, None),
        job(BrokerKind::IdemCluster, "100 B + faults", 1_000_000, 100, Some(faults)),
    ]
}

/// Codecs of [`compression_plan`], the first as the uncompressed reference.
pub const COMPRESSION_CODECS: [&str; 3] = ["none", "lz4", "zstd"];

/// The compression plan: 200,000 text-like records of 1 KiB (divided by `scale`), unkeyed,
/// round-robin over 3 partitions, with each of [`COMPRESSION_CODECS`] (both producers at
/// their default level), on each of `brokers`.
pub fn compression_plan(scale: u64, brokers: &[BrokerKind], s: &Settings) -> Vec<Job> {
    let mut jobs = Vec::new();
    for &broker in brokers {
        for codec in COMPRESSION_CODECS {
            let workload = Workload {
                text: true,
                ..Workload::new(format!("1 KiB text {codec}"), 200_000 / scale.max(1), 1024, 3)
            };
            jobs.push(Job { broker, workload, settings: Settings { compression: codec.to_string(), ..s.clone() } });
        }
    }
    jobs
}

/// The TLS plan: 100 B x 1,000,000 and 1 KiB x 200,000 records (divided by `scale`), unkeyed,
/// round-robin over 3 partitions, plaintext and over TLS with the certificates in `tls_ca`'s
/// directory, on idem's cluster.
pub fn tls_plan(scale: u64, tls_ca: &str, s: &Settings) -> Vec<Job> {
    let mut jobs = Vec::new();
    for (name, records, size) in [("100 B", 1_000_000, 100), ("1 KiB", 200_000, 1024)] {
        for tls in [false, true] {
            let name = if tls { format!("{name} TLS") } else { name.to_string() };
            let workload = Workload::new(name, records / scale.max(1), size, 3);
            let tls_ca = if tls { tls_ca.to_string() } else { String::new() };
            jobs.push(Job { broker: BrokerKind::IdemCluster, workload, settings: Settings { tls_ca, ..s.clone() } });
        }
    }
    jobs
}

/// Certificates for TLS runs (a CA, and a broker certificate for `localhost` and `127.0.0.1`),
/// written once into `dir`; returns the CA file, what [`Settings::tls_ca`] takes.
pub fn tls_certificates(dir: &std::path::Path) -> Result<String, String> {
    let certs = idem_mock::TestCertificates::generate(&["localhost"]).map_err(|e| e.to_string())?;
    let files = certs.write_to(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(files.ca.to_string_lossy().into_owned())
}

/// Partition counts of [`partitions_plan`].
pub const PARTITION_COUNTS: [i32; 5] = [1, 10, 100, 1_000, 10_000];

/// Records of a partitions-plan run at `partitions` partitions (before `scale`): 1,000,000 up to
/// 100 partitions, 200,000 beyond, where librdkafka (and idem once its open batches no longer
/// fit in `buffer.memory`) take tens of microseconds per record.
pub fn partitions_records(partitions: i32) -> u64 {
    if partitions <= 100 { 1_000_000 } else { 200_000 }
}

/// The partitions plan: [`partitions_records`] keyed records of 100 B (divided by `scale`) to
/// each of [`PARTITION_COUNTS`] partitions, on each of `brokers`.
pub fn partitions_plan(scale: u64, brokers: &[BrokerKind], s: &Settings) -> Vec<Job> {
    let mut jobs = Vec::new();
    for &broker in brokers {
        for parts in PARTITION_COUNTS {
            let name = format!("{parts} partitions");
            let records = partitions_records(parts) / scale.max(1);
            let workload = Workload { keyed: true, ..Workload::new(name, records, 100, parts) };
            jobs.push(Job { broker, workload, settings: s.clone() });
        }
    }
    jobs
}

/// Application thread counts of [`threads_plan`].
pub const THREAD_COUNTS: [u32; 3] = [1, 4, 16];

/// Partitions of [`threads_plan`]'s topic: the default plan's 3, so that its 1-thread row is the
/// default plan's 100 B row. Not 100 keyed: at the harness's `buffer.memory` (10 MiB) and
/// `batch.size` (128 KiB) idem-core accounts a whole batch buffer per open batch, so above
/// about 69 partitions its senders wait for memory and batches go out nearly empty; a 100-
/// partition threads plan would measure that instead of the threads (the partitions plan
/// shows it).
pub const THREADS_PARTITIONS: i32 = 3;

/// The threads plan: 1,000,000 records of 100 B (divided by `scale`), unkeyed, round-robin
/// over [`THREADS_PARTITIONS`] partitions, split evenly over each of [`THREAD_COUNTS`]
/// application threads sharing one producer, on each of `brokers`.
pub fn threads_plan(scale: u64, brokers: &[BrokerKind], s: &Settings) -> Vec<Job> {
    let mut jobs = Vec::new();
    for &broker in brokers {
        for threads in THREAD_COUNTS {
            let name = format!("{threads} threads");
            let w = Workload::new(name, 1_000_000 / scale.max(1), 100, THREADS_PARTITIONS);
            jobs.push(Job { broker, workload: Workload { threads, ..w }, settings: s.clone() });
        }
    }
    jobs
}

/// Workload name of the latency plan's saturation runs.
pub const SATURATION: &str = "saturation";

/// The latency plan's first step: the default plan's 100 B workload (1,000,000 records, 3
/// partitions, round-robin; divided by `scale`), closed loop with settings `s`, on each of
/// `brokers`. librdkafka's median records/s there is the rate the open-loop runs offer
/// fractions of ([`saturation_rate`]).
pub fn saturation_plan(scale: u64, brokers: &[BrokerKind], s: &Settings) -> Vec<Job> {
    let workload = Workload::new(SATURATION, 1_000_000 / scale.max(1), 100, 3);
    brokers.iter().map(|&broker| Job { broker, workload: workload.clone(), settings: s.clone() }).collect()
}

/// Offered loads of [`latency_plan`], percent of the saturation rate.
pub const LOAD_PERCENTS: [u32; 3] = [10, 50, 90];

/// `linger.ms` values of [`latency_plan`].
pub const LATENCY_LINGERS: [u64; 2] = [0, 5];

/// Seconds of offered load per open-loop run (divided by `scale`).
pub const LATENCY_SECONDS: f64 = 5.0;

/// librdkafka's saturation rate on `broker`: the median records/s of its saturation runs
/// there, if any.
pub fn saturation_rate(results: &[RunResult], broker: BrokerKind) -> Option<f64> {
    let v: Vec<f64> = results
        .iter()
        .filter(|r| r.workload == SATURATION && r.producer == "librdkafka" && r.broker == broker.name())
        .map(RunResult::records_per_s)
        .collect();
    (!v.is_empty()).then(|| crate::report::median(v))
}

/// The latency plan's open-loop runs on `broker`: the 100 B, 3-partition workload offered at
/// each of [`LOAD_PERCENTS`] of `rate` records/s for [`LATENCY_SECONDS`] (divided by `scale`),
/// with each of [`LATENCY_LINGERS`] (other settings from `s`).
pub fn latency_plan(scale: u64, broker: BrokerKind, rate: f64, s: &Settings) -> Vec<Job> {
    let mut jobs = Vec::new();
    for linger_ms in LATENCY_LINGERS {
        for pct in LOAD_PERCENTS {
            let offered = rate * f64::from(pct) / 100.0;
            let records = ((offered * LATENCY_SECONDS / scale.max(1) as f64) as u64).max(1);
            let name = format!("linger {linger_ms}, {pct}% load");
            let workload = Workload { offered_per_s: Some(offered), ..Workload::new(name, records, 100, 3) };
            jobs.push(Job { broker, workload, settings: Settings { linger_ms, ..s.clone() } });
        }
    }
    jobs
}

/// A broker helper process; stopped (stdin closed, then waited for) on drop.
pub struct BrokerProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Reads the rest of its stdout; returns the `STATS` line, if any.
    stats: Option<std::thread::JoinHandle<Option<String>>>,
    /// The bootstrap servers it announced.
    pub bootstrap: String,
}

impl BrokerProcess {
    /// Stops the broker and returns the `STATS` line it printed on the way out, if any.
    pub fn stop(mut self) -> Option<String> {
        self.shutdown();
        self.stats.take().and_then(|t| t.join().ok()).flatten()
    }

    fn shutdown(&mut self) {
        drop(self.stdin.take());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn exe() -> Result<std::path::PathBuf, String> {
    std::env::current_exe().map_err(|e| format!("current_exe: {e}"))
}

/// Starts `serve` for `kind` in a child process and waits for its `BOOTSTRAP` line.
pub fn start_broker(kind: BrokerKind, w: &Workload, s: &Settings) -> Result<BrokerProcess, String> {
    let mut cmd = Command::new(exe()?);
    cmd.args(["serve", "--broker", kind.name(), "--topic", TOPIC, "--partitions", &w.partitions.to_string()]);
    if let Some(f) = &w.faults {
        cmd.args(["--faults", f]);
    }
    if !s.tls_ca.is_empty() {
        cmd.args(["--tls-ca", &s.tls_ca]);
    }
    let mut child =
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().map_err(|e| format!("spawn broker: {e}"))?;
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().ok_or("broker stdout")?;
    let mut proc = BrokerProcess { child, stdin, stats: None, bootstrap: String::new() };
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.map_err(|e| format!("broker stdout: {e}"))?;
        if let Some(b) = line.strip_prefix("BOOTSTRAP ") {
            proc.bootstrap = b.trim().to_string();
            break;
        }
    }
    if proc.bootstrap.is_empty() {
        return Err(format!("{} broker exited without announcing its address", kind.name()));
    }
    // Keep draining its stdout so it never blocks on a full pipe; keep the STATS line.
    proc.stats = Some(std::thread::spawn(move || {
        lines.map_while(Result::ok).filter_map(|l| l.strip_prefix("STATS ").map(String::from)).last()
    }));
    Ok(proc)
}

/// The arguments of a `produce` child for one run.
pub fn produce_args(
    producer: &str,
    kind: BrokerKind,
    bootstrap: &str,
    w: &Workload,
    s: &Settings,
    round: u32,
) -> Vec<String> {
    [
        ("--producer", producer.to_string()),
        ("--broker", kind.name().to_string()),
        ("--bootstrap", bootstrap.to_string()),
        ("--topic", TOPIC.to_string()),
        ("--workload", w.name.clone()),
        ("--records", w.records.to_string()),
        ("--size", w.size.to_string()),
        ("--partitions", w.partitions.to_string()),
        ("--keyed", w.keyed.to_string()),
        ("--threads", w.threads.to_string()),
        ("--offered-per-s", w.offered_per_s.map_or_else(|| "0".to_string(), |r| format!("{r:.3}"))),
        ("--round", round.to_string()),
        ("--linger-ms", s.linger_ms.to_string()),
        ("--batch-size", s.batch_size.to_string()),
        ("--max-in-flight", s.max_in_flight.to_string()),
        ("--buffer-bytes", s.buffer_bytes.to_string()),
        ("--delivery-timeout-ms", s.delivery_timeout_ms.to_string()),
        ("--compression", s.compression.clone()),
        ("--text", w.text.to_string()),
        ("--tls-ca", s.tls_ca.clone()),
    ]
    .into_iter()
    .flat_map(|(k, v)| [k.to_string(), v])
    .collect()
}

/// Runs one producer in its own child process against a fresh broker and returns its result.
pub fn run_one(producer: &str, job: &Job, round: u32) -> Result<RunResult, String> {
    let (kind, w, s) = (job.broker, &job.workload, &job.settings);
    let broker = start_broker(kind, w, s)?;
    let out = Command::new(exe()?)
        .arg("produce")
        .args(produce_args(producer, kind, &broker.bootstrap, w, s, round))
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("spawn producer: {e}"))?;
    let stats = broker.stop();
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.lines().find_map(RunResult::parse_line) {
        Some(mut r) if out.status.success() => {
            r.broker_stats = stats.unwrap_or_default();
            Ok(r)
        }
        _ => Err(format!("{producer} on {} / {}: exit {}; output: {}", kind.name(), w.name, out.status, stdout.trim())),
    }
}

/// Runs the jobs: for each, `rounds` rounds of both producers, alternating which goes first
/// (A B, B A, A B, ...). Failed runs are reported on stderr and left out. `progress` sees every
/// result as it arrives.
pub fn run_plan(jobs: &[Job], producers: &[&str], rounds: u32, progress: &mut dyn FnMut(&RunResult)) -> Vec<RunResult> {
    let mut results = Vec::new();
    for job in jobs {
        for round in 1..=rounds {
            let mut order: Vec<&str> = producers.to_vec();
            if round % 2 == 0 {
                order.reverse();
            }
            for p in order {
                match run_one(p, job, round) {
                    Ok(r) => {
                        progress(&r);
                        results.push(r);
                    }
                    Err(e) => eprintln!("compare: run failed: {e}"),
                }
            }
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_has_both_brokers_faults_on_idem_only_and_scales() {
        let s = Settings::default();
        let full = default_plan(1, &s);
        let quick = default_plan(10, &s);
        assert_eq!(full.len(), 5);
        assert_eq!(full.iter().filter(|j| j.broker == BrokerKind::RdkafkaMock).count(), 2);
        for (f, q) in full.iter().zip(&quick) {
            assert_eq!(f.broker, q.broker);
            assert_eq!(f.workload.records, q.workload.records * 10);
            assert_eq!(f.workload.partitions, 3);
            assert!(!f.workload.keyed && f.workload.threads == 1 && f.workload.offered_per_s.is_none());
            if f.workload.faults.is_some() {
                assert_eq!(f.broker, BrokerKind::IdemCluster);
                assert!(idem_core::broker::FaultSpec::parse(f.workload.faults.as_deref().unwrap_or("")).is_ok());
            }
        }
        assert_eq!(full[0].workload.records, 1_000_000);
        assert_eq!(full[1].workload.size, 1024);
    }

    #[test]
    fn dimension_plans_cover_every_point_with_unique_names() {
        let s = Settings::default();
        let parts = partitions_plan(10, &BOTH, &s);
        assert_eq!(parts.len(), 10);
        assert!(parts.iter().all(|j| j.workload.keyed && j.workload.size == 100));
        let records: Vec<u64> = parts.iter().take(5).map(|j| j.workload.records).collect();
        assert_eq!(records, [100_000, 100_000, 100_000, 20_000, 20_000]);
        let counts: Vec<i32> = parts.iter().take(5).map(|j| j.workload.partitions).collect();
        assert_eq!(counts, PARTITION_COUNTS);
        let threads = threads_plan(1, &[BrokerKind::RdkafkaMock], &s);
        let counts: Vec<u32> = threads.iter().map(|j| j.workload.threads).collect();
        assert_eq!(counts, THREAD_COUNTS);
        assert!(threads.iter().all(|j| j.workload.partitions == 3 && !j.workload.keyed));
        assert_eq!(threads[0].workload.records, default_plan(1, &s)[0].workload.records);
        for plan in [&parts, &threads] {
            for (i, a) in plan.iter().enumerate() {
                assert!(plan.iter().skip(i + 1).all(|b| (a.broker, &a.workload.name) != (b.broker, &b.workload.name)));
            }
        }
    }

    #[test]
    fn latency_plan_offers_fractions_of_the_rate_for_a_fixed_time() {
        let s = Settings::default();
        let jobs = latency_plan(10, BrokerKind::RdkafkaMock, 1_000_000.0, &s);
        assert_eq!(jobs.len(), LOAD_PERCENTS.len() * LATENCY_LINGERS.len());
        let j = &jobs[1];
        assert_eq!(j.settings.linger_ms, 0);
        assert_eq!(j.workload.offered_per_s, Some(500_000.0));
        assert_eq!(j.workload.records, 250_000); // 500k/s x 5 s / 10
        assert_eq!(j.workload.name, "linger 0, 50% load");
        assert_eq!(jobs[5].settings.linger_ms, 5);
        assert_eq!(jobs[5].settings.batch_size, s.batch_size);
        assert_eq!(jobs[5].workload.offered_per_s, Some(900_000.0));
    }

    #[test]
    fn saturation_rate_is_librdkafkas_median_on_that_broker() {
        let r = |producer: &str, broker: BrokerKind, workload: &str, elapsed_s: f64| RunResult {
            producer: producer.into(),
            broker: broker.name().into(),
            workload: workload.into(),
            records: 1000,
            elapsed_s,
            ..RunResult::default()
        };
        let rdk = BrokerKind::RdkafkaMock;
        let rs = vec![
            r("librdkafka", rdk, SATURATION, 1.0),
            r("librdkafka", rdk, SATURATION, 0.5),
            r("librdkafka", rdk, SATURATION, 4.0),
            r("idem", rdk, SATURATION, 0.1),
            r("librdkafka", rdk, "100 B", 0.1),
            r("librdkafka", BrokerKind::IdemCluster, SATURATION, 0.1),
        ];
        assert_eq!(saturation_rate(&rs, rdk), Some(1000.0));
        assert_eq!(saturation_rate(&rs, BrokerKind::IdemCluster), Some(10_000.0));
        assert_eq!(saturation_rate(&rs[..0], rdk), None);
    }

    #[test]
    fn plan_names_and_stems() {
        for p in Plan::KNOWN {
            assert_eq!(Plan::parse(p.name()), Some(p));
        }
        assert_eq!(Plan::parse("all"), None);
        assert_eq!(Plan::Default.stem(false), "compare");
        assert_eq!(Plan::Default.stem(true), "compare-quick");
        assert_eq!(Plan::Partitions.stem(false), "compare-partitions");
        assert_eq!(Plan::Latency.stem(true), "compare-latency-quick");
    }

    #[test]
    fn broker_names_round_trip() {
        for k in BOTH {
            assert_eq!(BrokerKind::parse(k.name()), Some(k));
        }
        assert_eq!(BrokerKind::parse("kafka"), None);
    }

    #[test]
    fn produce_args_carry_every_setting() {
        let job = &latency_plan(1, BrokerKind::IdemCluster, 1000.0, &Settings::default())[0];
        let (w, s) = (&job.workload, &job.settings);
        let args = produce_args("idem", BrokerKind::IdemCluster, "h:1", w, s, 2);
        let get = |k: &str| args.iter().position(|a| a == k).and_then(|i| args.get(i + 1)).cloned();
        assert_eq!(get("--records").as_deref(), Some("500"));
        assert_eq!(get("--batch-size"), Some(s.batch_size.to_string()));
        assert_eq!(get("--buffer-bytes"), Some(s.buffer_bytes.to_string()));
        assert_eq!(get("--linger-ms").as_deref(), Some("0"));
        assert_eq!(get("--round").as_deref(), Some("2"));
        assert_eq!(get("--workload").as_deref(), Some("linger 0, 10% load"));
        assert_eq!(get("--offered-per-s").as_deref(), Some("100.000"));
        assert_eq!(get("--keyed").as_deref(), Some("false"));
        assert_eq!(get("--threads").as_deref(), Some("1"));
    }
}
