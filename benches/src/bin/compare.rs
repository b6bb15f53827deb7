//! `compare`: idem-std's producer side by side with librdkafka's (`rdkafka::BaseProducer`),
//! both idempotent with acks=all and the same linger / batch / in-flight / buffer settings,
//! against idem's in-memory cluster and librdkafka's mock cluster.
//!
//! The command line (also what `--help` prints):
//!
#![doc = concat!("```text\n", include_str!("compare-usage.txt"), "```")]
//! The first form is the harness: it re-executes this binary for every broker (`serve`) and
//! every measured producer (`produce`), so each producer's memory and CPU are its own.
//!
//! Full runs, on a quiet machine (3 rounds, both brokers; times estimated from quick runs on 2
//! cores):
//!
//! ```text
//! cargo run --release -p idem-benches --bin compare -- --plan default     # about 5 minutes
//! cargo run --release -p idem-benches --bin compare -- --plan partitions  # about 10 minutes
//! cargo run --release -p idem-benches --bin compare -- --plan threads     # about 2 minutes
//! cargo run --release -p idem-benches --bin compare -- --plan latency     # about 7 minutes
//! cargo run --release -p idem-benches --bin compare -- --plan all         # the four in turn
//! ```
//!
//! Most of the partitions plan's time is idem at 100 partitions and more: with the shared
//! settings (`buffer.memory` 10 MiB, `batch.size` 128 KiB) idem-core accounts a whole batch
//! buffer per open batch, so beyond about 70 partitions its senders wait for memory and batches
//! go out nearly empty (`--buffer-bytes 2147483648`, for both producers, lifts that for a look
//! without it).
//! Validate changes with `--quick --rounds 1` (a few seconds to half a minute per plan).

use idem_benches::harness::{self, BrokerKind, Job, Plan};
use idem_benches::run::{RunResult, Settings, Workload};
use idem_benches::{idem_side, procstat, rdk, report};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What `--help` prints (also the module docs' command line).
const USAGE: &str = include_str!("compare-usage.txt");

/// Parsed `--key value` options and bare `--flag`s.
struct Args {
    opts: BTreeMap<String, String>,
}

impl Args {
    fn parse(args: &[String]) -> Args {
        let mut opts = BTreeMap::new();
        let mut i = 0;
        while let Some(a) = args.get(i) {
            if let Some(k) = a.strip_prefix("--") {
                match args.get(i + 1).filter(|v| !v.starts_with("--")) {
                    Some(v) => {
                        opts.insert(k.to_string(), v.clone());
                        i += 2;
                    }
                    None => {
                        opts.insert(k.to_string(), String::new());
                        i += 1;
                    }
                }
            } else {
                i += 1;
            }
        }
        Args { opts }
    }

    fn flag(&self, k: &str) -> bool {
        self.opts.contains_key(k)
    }

    fn str(&self, k: &str) -> Result<&str, String> {
        self.opts.get(k).map(String::as_str).ok_or_else(|| format!("missing --{k}"))
    }

    fn num<T: std::str::FromStr>(&self, k: &str, default: T) -> Result<T, String> {
        match self.opts.get(k) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("--{k}: not a number: {v}")),
        }
    }

    fn settings(&self) -> Result<Settings, String> {
        let d = Settings::default();
        Ok(Settings {
            linger_ms: self.num("linger-ms", d.linger_ms)?,
            batch_size: self.num("batch-size", d.batch_size)?,
            max_in_flight: self.num("max-in-flight", d.max_in_flight)?,
            buffer_bytes: self.num("buffer-bytes", d.buffer_bytes)?,
            delivery_timeout_ms: self.num("delivery-timeout-ms", d.delivery_timeout_ms)?,
            compression: self.opts.get("compression").cloned().unwrap_or(d.compression),
            tls_ca: self.opts.get("tls-ca").cloned().unwrap_or(d.tls_ca),
        })
    }

    fn workload(&self) -> Result<Workload, String> {
        let offered: f64 = self.num("offered-per-s", 0.0)?;
        Ok(Workload {
            name: self.str("workload")?.to_string(),
            records: self.num("records", 0)?,
            size: self.num("size", 100)?,
            partitions: self.num("partitions", 3)?,
            faults: self.opts.get("faults").cloned(),
            keyed: self.num("keyed", false)?,
            threads: self.num::<u32>("threads", 1)?.max(1),
            offered_per_s: (offered > 0.0).then_some(offered),
            text: self.num("text", false)?,
        })
    }
}

fn serve(a: &Args) -> Result<(), String> {
    let topic = a.str("topic")?;
    let partitions = a.num("partitions", 3)?;
    match BrokerKind::parse(a.str("broker")?) {
        Some(BrokerKind::RdkafkaMock) => rdk::serve_mock(harness::BROKERS, topic, partitions),
        Some(BrokerKind::IdemCluster) => {
            let opt = |k: &str| a.opts.get(k).map(String::as_str);
            idem_side::serve_cluster(harness::BROKERS, topic, partitions, opt("faults"), opt("tls-ca"))
        }
        None => Err("unknown --broker".into()),
    }
}

fn produce(a: &Args) -> Result<(), String> {
    let w = a.workload()?;
    let s = a.settings()?;
    let (bootstrap, topic) = (a.str("bootstrap")?, a.str("topic")?);
    let mut r = match a.str("producer")? {
        "librdkafka" => rdk::run_producer(bootstrap, topic, &w, &s)?,
        "idem" => idem_side::run_producer(bootstrap, topic, &w, &s)?,
        other => return Err(format!("unknown --producer {other}")),
    };
    r.broker = a.str("broker")?.to_string();
    r.round = a.num("round", 1)?;
    println!("{}", r.to_line());
    Ok(())
}

/// How one `compare` invocation runs its plans.
struct Run<'a> {
    quick: bool,
    rounds: u32,
    settings: Settings,
    out_dir: PathBuf,
    only: Option<&'a str>,
    producers: Vec<&'a str>,
    /// `--rate`: the latency plan's reference rate, instead of measuring it.
    rate: Option<f64>,
}

impl Run<'_> {
    fn scale(&self) -> u64 {
        if self.quick { 10 } else { 1 }
    }

    /// The brokers `--only` leaves (both unless it names one).
    fn brokers(&self) -> Vec<BrokerKind> {
        match self.only.and_then(BrokerKind::parse) {
            Some(b) => vec![b],
            None => harness::BOTH.to_vec(),
        }
    }

    /// `jobs` narrowed by `--only`, run for `--rounds` rounds each.
    fn run(&self, mut jobs: Vec<Job>) -> Vec<RunResult> {
        if let Some(only) = self.only {
            jobs.retain(|j| j.broker.name() == only || j.workload.name == only);
        }
        eprintln!("compare: {} jobs x {} rounds x {:?}", jobs.len(), self.rounds, self.producers);
        harness::run_plan(&jobs, &self.producers, self.rounds, &mut |r| {
            eprintln!(
                "  round {} {:<12} {:<20} {:<10} {:>10.0} rec/s {:>7.1} MiB p50 {:>7.2} p99 {:>8.2} p99.9 {:>8.2} ms \
                 cpu {:.2} s delivered {} failed {}{}",
                r.round,
                r.broker,
                r.workload,
                r.producer,
                r.records_per_s(),
                r.peak_rss_kib as f64 / 1024.0,
                r.p50_us as f64 / 1000.0,
                r.p99_us as f64 / 1000.0,
                r.p999_us as f64 / 1000.0,
                r.cpu_s,
                r.delivered,
                r.failed,
                if r.behind() {
                    format!(" BEHIND: sent {:.0} of {:.0} rec/s", r.sent_per_s(), r.offered_per_s)
                } else {
                    String::new()
                }
            )
        })
    }

    /// Runs `plan` and writes its report; the results, or an error if no run succeeded.
    fn plan(&self, plan: Plan) -> Result<(), String> {
        let load = procstat::load_average()
            .map_or_else(|| "unknown".into(), |l| format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2]));
        let s = &self.settings;
        let (brokers, scale) = (self.brokers(), self.scale());
        let (results, what) = match plan {
            Plan::Default => (
                self.run(harness::default_plan(scale, s)),
                "Workloads: 100 B x 1,000,000 and 1 KiB x 200,000 records, unkeyed, round-robin over 3 \
                 partitions; 100 B with faults (2 % of appends dropped, 2 % answered \
                 NOT_ENOUGH_REPLICAS_AFTER_APPEND after appending) on idem's cluster only."
                    .to_string(),
            ),
            Plan::Partitions => (
                self.run(harness::partitions_plan(scale, &brokers, s)),
                "Workload: 100 B keyed records (key: the record index, 8 bytes big-endian), placed by each \
                 producer's default partitioner (idem: murmur2 as the Java client; librdkafka: \
                 consistent_random, CRC32 of the key), to a topic of 1 to 10,000 partitions: 1,000,000 \
                 records up to 100 partitions, 200,000 beyond. Warm-up: one record per partition, not \
                 measured. The broker counters of every run end with the broker process's peak RSS."
                    .to_string(),
            ),
            Plan::Threads => (
                self.run(harness::threads_plan(scale, &brokers, s)),
                format!(
                    "Workload: 100 B x 1,000,000 records, unkeyed, round-robin over {} partitions by record \
                     index (the default plan's 100 B workload), sent by 1, 4 and 16 application threads \
                     sharing one producer (idem: one `&idem_std::Producer`; librdkafka: one \
                     `BaseProducer`), thread t sending records t, t + T, ...: every thread appends to \
                     every partition's open batch, the most contended case.",
                    harness::THREADS_PARTITIONS
                ),
            ),
            Plan::Latency => self.latency(&brokers)?,
            Plan::Tls => {
                // Keys stay out of the results directory (it is committed).
                let dir = std::env::temp_dir().join(format!("idem-compare-tls-{}", std::process::id()));
                std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                let ca = harness::tls_certificates(&dir)?;
                (
                    self.run(harness::tls_plan(scale, &ca, s)),
                    "Workloads: 100 B x 1,000,000 and 1 KiB x 200,000 records, unkeyed, round-robin over 3 \
                     partitions, plaintext and over TLS (\"TLS\": security.protocol=SSL with a CA and broker \
                     certificate generated for the run, ECDSA P-256; idem: rustls 0.23 with ring; librdkafka: \
                     OpenSSL 3, vendored), on idem's cluster (librdkafka's mock has no TLS listener). TLS's \
                     cost is the difference between a workload's two rows."
                        .to_string(),
                )
            }
            Plan::Compression => (
                self.run(harness::compression_plan(scale, &brokers, s)),
                "Workloads: 200,000 text-like records of 1 KiB (JSON-ish log lines: field names repeat, \
                 numbers and words vary; a pool of 1,024 distinct values cycled), unkeyed, round-robin over 3 \
                 partitions, with compression.type none, lz4 and zstd (each producer at its default level: \
                 idem lz4 fast mode, zstd 3; librdkafka lz4 fast, zstd 3). wire / value: bytes the producer \
                 wrote to the brokers (idem: outgoing-byte-total; librdkafka: statistics tx_bytes, every \
                 100 ms on these runs) over the value bytes sent: framing included, so about 1.0x \
                 uncompressed."
                    .to_string(),
            ),
        };
        if results.is_empty() {
            return Err(format!("plan {}: no run succeeded", plan.name()));
        }
        let header = format!(
            "## idem vs librdkafka: {} plan{}\n\n{what}\n\nBoth idempotent, acks=all, linger.ms={}, batch.size={}, \
             max.in.flight={}, buffer {} bytes, {} brokers; each producer in its own process, a fresh broker \
             process per run, {} round{} alternating the order. librdkafka {} via rdkafka::BaseProducer. \
             Load average at the start: {load} ({} CPUs).",
            plan.name(),
            if self.quick { " (QUICK VALIDATION RUN: record counts / 10, not for citing)" } else { "" },
            if plan == Plan::Latency { "0 and 5 (see workload)".to_string() } else { s.linger_ms.to_string() },
            s.batch_size,
            s.max_in_flight,
            s.buffer_bytes,
            harness::BROKERS,
            self.rounds,
            if self.rounds == 1 { "" } else { "s" },
            rdkafka::util::get_rdkafka_version().1,
            std::thread::available_parallelism().map_or(0, |n| n.get()),
        );
        write_outputs(&self.out_dir, &plan.stem(self.quick), plan, &header, &results)
    }

    /// The latency plan: saturation runs (unless `--rate`), then the open-loop runs on each
    /// broker at fractions of librdkafka's rate there.
    fn latency(&self, brokers: &[BrokerKind]) -> Result<(Vec<RunResult>, String), String> {
        let mut results = match self.rate {
            Some(_) => Vec::new(),
            None => self.run(harness::saturation_plan(self.scale(), brokers, &self.settings)),
        };
        let mut rates = Vec::new();
        for &b in brokers {
            let Some(rate) = self.rate.or_else(|| harness::saturation_rate(&results, b)) else {
                eprintln!("compare: no librdkafka saturation rate on {}; skipping its open-loop runs", b.name());
                continue;
            };
            eprintln!("compare: {}: offering fractions of {rate:.0} records/s", b.name());
            rates.push(format!("{rate:.0} records/s on {}", b.name()));
            results.extend(self.run(harness::latency_plan(self.scale(), b, rate, &self.settings)));
        }
        let source = if self.rate.is_some() {
            "given with --rate".to_string()
        } else {
            format!(
                "librdkafka's median records/s in the `{}` rows below (100 B x 1,000,000, 3 partitions, \
                 closed loop, linger.ms {}), measured in the same invocation",
                harness::SATURATION,
                self.settings.linger_ms
            )
        };
        let what = format!(
            "Workload: 100 B records, unkeyed, round-robin over 3 partitions, one sending thread, offered \
             open-loop at 10, 50 and 90 % of a reference rate for {} s each: {} ({source}). Record i is due \
             i / rate seconds after the first; the sender sleeps until then (no spinning) and never waits \
             for a late record. Latency: send call to delivery report.",
            harness::LATENCY_SECONDS / self.scale() as f64,
            if rates.is_empty() { "none".to_string() } else { rates.join(", ") },
        );
        Ok((results, what))
    }
}

fn compare(a: &Args) -> Result<(), String> {
    let plans = match a.opts.get("plan").map_or("default", String::as_str) {
        "all" => Plan::ALL.to_vec(),
        p => vec![Plan::parse(p).ok_or_else(|| format!("unknown --plan {p} (see --help)"))?],
    };
    let producers: Vec<&str> =
        a.opts.get("producers").map_or_else(|| report::PRODUCERS.to_vec(), |p| p.split(',').collect());
    let rate = match a.opts.get("rate") {
        None => None,
        Some(_) => Some(a.num::<f64>("rate", 0.0)?).filter(|r| *r > 0.0),
    };
    let run = Run {
        quick: a.flag("quick"),
        rounds: a.num("rounds", 3)?,
        settings: a.settings()?,
        out_dir: a
            .opts
            .get("out")
            .map_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/results")), PathBuf::from),
        only: a.opts.get("only").map(String::as_str),
        producers,
        rate,
    };
    eprintln!("compare: plans {:?}; settings {:?}", plans.iter().map(|p| p.name()).collect::<Vec<_>>(), run.settings);
    let mut failed = Vec::new();
    for plan in plans {
        if let Err(e) = run.plan(plan) {
            eprintln!("compare: {e}");
            failed.push(plan.name());
        }
    }
    if failed.is_empty() { Ok(()) } else { Err(format!("plans without results: {}", failed.join(", "))) }
}

/// Writes `<stem>.md`, `<stem>.svg` and `<stem>.results` (the raw lines, for `render`).
fn write_outputs(out_dir: &Path, stem: &str, plan: Plan, header: &str, results: &[RunResult]) -> Result<(), String> {
    let md = report::markdown(plan, results, header);
    println!("{md}");
    let mut raw = format!("PLAN {}\nHEADER {}\n", plan.name(), header.replace('\n', "\\n"));
    for r in results {
        raw.push_str(&r.to_line());
        raw.push('\n');
        if !r.broker_stats.is_empty() {
            raw.push_str(&format!("BROKER_STATS {}\n", r.broker_stats));
        }
    }
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    for (ext, text) in [("md", md), ("svg", report::svg(plan, results)), ("results", raw)] {
        let path = out_dir.join(format!("{stem}.{ext}"));
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("compare: wrote {}", path.display());
    }
    Ok(())
}

/// `render --from FILE.results [--out DIR]`: rebuilds the markdown and SVG from saved results
/// (files without a `PLAN` line are the default plan's).
fn render(a: &Args) -> Result<(), String> {
    let from = PathBuf::from(a.str("from")?);
    let text = std::fs::read_to_string(&from).map_err(|e| format!("{}: {e}", from.display()))?;
    let mut header = String::new();
    let mut plan = Plan::Default;
    let mut results: Vec<RunResult> = Vec::new();
    for line in text.lines() {
        if let Some(p) = line.strip_prefix("PLAN ") {
            plan = Plan::parse(p.trim()).ok_or_else(|| format!("{}: unknown plan {p}", from.display()))?;
        } else if let Some(h) = line.strip_prefix("HEADER ") {
            header = h.replace("\\n", "\n");
        } else if let Some(st) = line.strip_prefix("BROKER_STATS ") {
            if let Some(last) = results.last_mut() {
                last.broker_stats = st.to_string();
            }
        } else if let Some(r) = RunResult::parse_line(line) {
            results.push(r);
        }
    }
    let out_dir =
        a.opts.get("out").map_or_else(|| from.parent().map(Path::to_path_buf).unwrap_or_default(), PathBuf::from);
    let stem = from.file_stem().and_then(|s| s.to_str()).unwrap_or("compare").to_string();
    write_outputs(&out_dir, &stem, plan, &header, &results)
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().is_some_and(|a| a == "help") || argv.iter().any(|a| matches!(a.as_str(), "--help" | "-h")) {
        print!("{USAGE}");
        return;
    }
    let (cmd, rest) = match argv.first().map(String::as_str) {
        Some(c @ ("serve" | "produce" | "compare" | "render")) => (c.to_string(), argv.get(1..).unwrap_or_default()),
        _ => ("compare".to_string(), &argv[..]),
    };
    let a = Args::parse(rest);
    let result = match cmd.as_str() {
        "serve" => serve(&a),
        "produce" => produce(&a),
        "render" => render(&a),
        _ => compare(&a),
    };
    if let Err(e) = result {
        eprintln!("compare {cmd}: {e}");
        std::process::exit(1);
    }
}
