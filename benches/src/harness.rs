//! Process orchestration: for every (broker, workload) and round, start a fresh broker process,
//! run each producer in its own child process (order alternating by round), and collect the
//! `RESULT` line each child prints. Every process is this same binary with a subcommand.

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

/// The default plan: 100 B and 1 KiB on both brokers, 100 B with faults on idem's cluster.
/// `scale` divides the record counts (10 for `--quick`).
pub fn default_plan(scale: u64) -> Vec<(BrokerKind, Workload)> {
    let w = |name: &str, records: u64, size: usize, faults: Option<&str>| Workload {
        name: name.into(),
        records: records / scale.max(1),
        size,
        partitions: 3,
        faults: faults.map(String::from),
    };
    let faults = "append_drop=2%,error_after=NOT_ENOUGH_REPLICAS_AFTER_APPEND:2%";
    vec![
        (BrokerKind::IdemCluster, w("100 B", 1_000_000, 100, None)),
        (BrokerKind::IdemCluster, w("1 KiB", 200_000, 1024, None)),
        (BrokerKind::RdkafkaMock, w("100 B", 1_000_000, 100, None)),
        (BrokerKind::RdkafkaMock, w("1 KiB", 200_000, 1024, None)),
        (BrokerKind::IdemCluster, w("100 B + faults", 1_000_000, 100, Some(faults))),
    ]
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
pub fn start_broker(kind: BrokerKind, w: &Workload) -> Result<BrokerProcess, String> {
    let mut cmd = Command::new(exe()?);
    cmd.args(["serve", "--broker", kind.name(), "--topic", TOPIC, "--partitions", &w.partitions.to_string()]);
    if let Some(f) = &w.faults {
        cmd.args(["--faults", f]);
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
        ("--round", round.to_string()),
        ("--linger-ms", s.linger_ms.to_string()),
        ("--batch-size", s.batch_size.to_string()),
        ("--max-in-flight", s.max_in_flight.to_string()),
        ("--buffer-bytes", s.buffer_bytes.to_string()),
        ("--delivery-timeout-ms", s.delivery_timeout_ms.to_string()),
    ]
    .into_iter()
    .flat_map(|(k, v)| [k.to_string(), v])
    .collect()
}

/// Runs one producer in its own child process against a fresh broker and returns its result.
pub fn run_one(producer: &str, kind: BrokerKind, w: &Workload, s: &Settings, round: u32) -> Result<RunResult, String> {
    let broker = start_broker(kind, w)?;
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

/// Runs the whole plan: for each (broker, workload), `rounds` rounds of both producers,
/// alternating which goes first (A B, B A, A B, ...). Failed runs are reported on stderr and
/// left out. `progress` sees every result as it arrives.
pub fn run_plan(
    plan: &[(BrokerKind, Workload)],
    producers: &[&str],
    s: &Settings,
    rounds: u32,
    progress: &mut dyn FnMut(&RunResult),
) -> Vec<RunResult> {
    let mut results = Vec::new();
    for (kind, w) in plan {
        for round in 1..=rounds {
            let mut order: Vec<&str> = producers.to_vec();
            if round % 2 == 0 {
                order.reverse();
            }
            for p in order {
                match run_one(p, *kind, w, s, round) {
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
        let full = default_plan(1);
        let quick = default_plan(10);
        assert_eq!(full.len(), 5);
        assert_eq!(full.iter().filter(|(k, _)| *k == BrokerKind::RdkafkaMock).count(), 2);
        for ((kf, wf), (kq, wq)) in full.iter().zip(&quick) {
            assert_eq!(kf, kq);
            assert_eq!(wf.records, wq.records * 10);
            assert_eq!(wf.partitions, 3);
            if wf.faults.is_some() {
                assert_eq!(*kf, BrokerKind::IdemCluster);
                assert!(idem_core::broker::FaultSpec::parse(wf.faults.as_deref().unwrap_or("")).is_ok());
            }
        }
        assert_eq!(full[0].1.records, 1_000_000);
        assert_eq!(full[1].1.size, 1024);
    }

    #[test]
    fn broker_names_round_trip() {
        for k in [BrokerKind::IdemCluster, BrokerKind::RdkafkaMock] {
            assert_eq!(BrokerKind::parse(k.name()), Some(k));
        }
        assert_eq!(BrokerKind::parse("kafka"), None);
    }

    #[test]
    fn produce_args_carry_every_setting() {
        let w = &default_plan(1)[0].1;
        let s = Settings::default();
        let args = produce_args("idem", BrokerKind::IdemCluster, "h:1", w, &s, 2);
        let get = |k: &str| args.iter().position(|a| a == k).and_then(|i| args.get(i + 1)).cloned();
        assert_eq!(get("--records").as_deref(), Some("1000000"));
        assert_eq!(get("--batch-size"), Some(s.batch_size.to_string()));
        assert_eq!(get("--buffer-bytes"), Some(s.buffer_bytes.to_string()));
        assert_eq!(get("--round").as_deref(), Some("2"));
        assert_eq!(get("--workload").as_deref(), Some("100 B"));
    }
}
