//! `compare`: idem-std's producer side by side with librdkafka's (`rdkafka::BaseProducer`),
//! both idempotent with acks=all and the same linger / batch / in-flight / buffer settings,
//! against idem's in-memory cluster and librdkafka's mock cluster.
//!
//! ```text
//! compare [--quick] [--rounds N] [--out DIR] [--only BROKER] [--producers idem,librdkafka]
//! compare serve   --broker idem-cluster|rdkafka-mock --topic T --partitions P [--faults SPEC]
//! compare render  --from DIR/compare.results [--out DIR]
//! compare produce --producer idem|librdkafka --broker B --bootstrap HOSTS --topic T
//!                 --workload NAME --records N --size S --partitions P --round R [settings]
//! ```
//! The first form is the harness: it re-executes this binary for every broker (`serve`) and
//! every measured producer (`produce`), so each producer's memory and CPU are its own.

use idem_benches::harness::{self, BrokerKind};
use idem_benches::run::{Settings, Workload};
use idem_benches::{idem_side, rdk, report};
use std::collections::BTreeMap;

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
        })
    }

    fn workload(&self) -> Result<Workload, String> {
        Ok(Workload {
            name: self.str("workload")?.to_string(),
            records: self.num("records", 0)?,
            size: self.num("size", 100)?,
            partitions: self.num("partitions", 3)?,
            faults: self.opts.get("faults").cloned(),
        })
    }
}

fn serve(a: &Args) -> Result<(), String> {
    let topic = a.str("topic")?;
    let partitions = a.num("partitions", 3)?;
    match BrokerKind::parse(a.str("broker")?) {
        Some(BrokerKind::RdkafkaMock) => rdk::serve_mock(harness::BROKERS, topic, partitions),
        Some(BrokerKind::IdemCluster) => {
            idem_side::serve_cluster(harness::BROKERS, topic, partitions, a.opts.get("faults").map(String::as_str))
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

fn compare(a: &Args) -> Result<(), String> {
    let quick = a.flag("quick");
    let rounds = a.num("rounds", 3)?;
    let settings = a.settings()?;
    let out_dir = std::path::PathBuf::from(
        a.opts.get("out").cloned().unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/results").to_string()),
    );
    let mut plan = harness::default_plan(if quick { 10 } else { 1 });
    if let Some(only) = a.opts.get("only") {
        plan.retain(|(k, w)| k.name() == only || w.name == *only);
    }
    let producers: Vec<String> = a.opts.get("producers").map_or_else(
        || report::PRODUCERS.iter().map(|p| p.to_string()).collect(),
        |p| p.split(',').map(String::from).collect(),
    );
    let producers: Vec<&str> = producers.iter().map(String::as_str).collect();
    eprintln!("compare: {} workloads x {rounds} rounds x {:?}; settings {settings:?}", plan.len(), producers);
    let results = harness::run_plan(&plan, &producers, &settings, rounds, &mut |r| {
        eprintln!(
            "  round {} {:<12} {:<15} {:<10} {:>10.0} rec/s {:>7.1} MiB p99 {:>8.2} ms cpu {:.2} s delivered {} failed {}",
            r.round,
            r.broker,
            r.workload,
            r.producer,
            r.records_per_s(),
            r.peak_rss_kib as f64 / 1024.0,
            r.p99_us as f64 / 1000.0,
            r.cpu_s,
            r.delivered,
            r.failed
        )
    });
    if results.is_empty() {
        return Err("no run succeeded".into());
    }
    let header = format!(
        "## idem vs librdkafka{}\n\nBoth idempotent, acks=all, linger.ms={}, batch.size={}, max.in.flight={}, \
         buffer {} bytes, {} partitions, {} brokers; each producer in its own process, a fresh broker process \
         per run, {rounds} rounds alternating the order. librdkafka {} via rdkafka::BaseProducer.",
        if quick { " (quick: 1/10 workloads)" } else { "" },
        settings.linger_ms,
        settings.batch_size,
        settings.max_in_flight,
        settings.buffer_bytes,
        plan.first().map_or(3, |p| p.1.partitions),
        harness::BROKERS,
        rdkafka::util::get_rdkafka_version().1,
    );
    let stem = if quick { "compare-quick" } else { "compare" };
    write_outputs(&out_dir, stem, &header, &results)
}

/// Writes `<stem>.md`, `<stem>.svg` and `<stem>.results` (the raw lines, for `render`).
fn write_outputs(
    out_dir: &std::path::Path,
    stem: &str,
    header: &str,
    results: &[idem_benches::run::RunResult],
) -> Result<(), String> {
    let md = report::markdown(results, header);
    println!("{md}");
    let mut raw = format!("HEADER {}\n", header.replace('\n', "\\n"));
    for r in results {
        raw.push_str(&r.to_line());
        raw.push('\n');
        if !r.broker_stats.is_empty() {
            raw.push_str(&format!("BROKER_STATS {}\n", r.broker_stats));
        }
    }
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    for (ext, text) in [("md", md), ("svg", report::svg(results)), ("results", raw)] {
        let path = out_dir.join(format!("{stem}.{ext}"));
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("compare: wrote {}", path.display());
    }
    Ok(())
}

/// `render --from FILE.results [--out DIR]`: rebuilds the markdown and SVG from saved results.
fn render(a: &Args) -> Result<(), String> {
    let from = std::path::PathBuf::from(a.str("from")?);
    let text = std::fs::read_to_string(&from).map_err(|e| format!("{}: {e}", from.display()))?;
    let mut header = String::new();
    let mut results: Vec<idem_benches::run::RunResult> = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("HEADER ") {
            header = h.replace("\\n", "\n");
        } else if let Some(st) = line.strip_prefix("BROKER_STATS ") {
            if let Some(last) = results.last_mut() {
                last.broker_stats = st.to_string();
            }
        } else if let Some(r) = idem_benches::run::RunResult::parse_line(line) {
            results.push(r);
        }
    }
    let out_dir = a
        .opts
        .get("out")
        .map_or_else(|| from.parent().map(std::path::Path::to_path_buf).unwrap_or_default(), std::path::PathBuf::from);
    let stem = from.file_stem().and_then(|s| s.to_str()).unwrap_or("compare").to_string();
    write_outputs(&out_dir, &stem, &header, &results)
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
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
