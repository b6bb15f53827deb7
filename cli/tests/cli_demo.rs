//! `idem demo` runs end to end on its embedded cluster and says PASS; the report shows what was
//! injected and what the producer did.
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::process::Command;
use std::time::{Duration, Instant};

/// The number on the report line that starts with `label`.
fn count(report: &str, label: &str) -> u64 {
    let line = report.lines().find(|l| l.trim_start().starts_with(label)).unwrap();
    line.get(label.len() + 2..).unwrap().split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn demo_with_faults_passes() {
    let start = Instant::now();
    let out =
        Command::new(env!("CARGO_BIN_EXE_idem")).args(["demo", "--records", "5000", "--no-progress"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("\nPASS: all 5000 records"), "{stdout}");
    assert!(stdout.contains("faults on"), "{stdout}");
    for section in ["injected by the cluster", "what the producer did about it", "read back from the partition logs"] {
        assert!(stdout.contains(section), "{section}: {stdout}");
    }
    assert_eq!(count(&stdout, "brokers taken down and back up"), 1, "{stdout}");
    assert!(count(&stdout, "leader moves") >= 1, "{stdout}");
    assert_eq!(count(&stdout, "records in the logs"), 5000, "{stdout}");
    // Read back again through a consumer group of idem's consumers, under coordinator faults.
    assert!(stdout.contains("read back through consumer group idem-demo"), "{stdout}");
    assert_eq!(count(&stdout, "records handed to members"), 5000, "{stdout}");
    assert!(count(&stdout, "assignments") >= 1, "{stdout}");
    for broken in ["handed out twice", "never handed out", "not as the log holds it", "out of offset order"] {
        assert!(!stdout.contains(broken), "{broken}: {stdout}");
    }
    assert!(start.elapsed() < Duration::from_secs(120), "took {:?}", start.elapsed());
}

#[test]
fn demo_without_faults_passes_and_reports_no_faults() {
    let out = Command::new(env!("CARGO_BIN_EXE_idem"))
        .args(["demo", "--records", "2000", "--no-faults", "--threads", "2", "--seed", "7"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("faults off"), "{stdout}");
    assert!(stdout.contains("seed 7"), "{stdout}");
    assert!(stdout.contains("\nPASS: all 2000 records"), "{stdout}");
    assert_eq!(count(&stdout, "retries (batch resends)"), 0, "{stdout}");
    assert_eq!(count(&stdout, "leader moves"), 0, "{stdout}");
}

#[test]
fn demo_with_each_codec_passes_and_every_batch_is_compressed() {
    for codec in ["gzip", "snappy", "lz4", "zstd"] {
        let out = Command::new(env!("CARGO_BIN_EXE_idem"))
            .args(["demo", "--records", "3000", "--no-progress", "--compression", codec])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{codec}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains(&format!("faults on, compression {codec}")), "{stdout}");
        assert!(stdout.contains("\nPASS: all 3000 records"), "{stdout}");
        let label = format!("batches compressed ({codec})");
        let compressed = count(&stdout, &label);
        let line = stdout.lines().find(|l| l.trim_start().starts_with(&label)).unwrap();
        assert!(compressed > 0 && line.ends_with(&format!("of {compressed} batches")), "{codec}: {line}");
    }
}

#[test]
fn demo_secure_passes_over_sasl_ssl() {
    let out = Command::new(env!("CARGO_BIN_EXE_idem"))
        .args(["demo", "--records", "3000", "--no-progress", "--secure", "--seed", "5"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("\nPASS: all 3000 records"), "{stdout}");
    // The connections ran TLS and authenticated (the count is the cluster's, after the run).
    let line = stdout.lines().next().unwrap();
    assert!(line.contains("(SASL_SSL: TLS with a certificate generated for this run, SCRAM-SHA-256"), "{line}");
    let authentications: u64 =
        line.split(", ").find_map(|p| p.strip_suffix(" authentications)")).unwrap().parse().unwrap();
    assert!(authentications >= 3, "{line}");
}

#[test]
fn demo_with_transactions_commits_aborts_fences_and_reads_committed_exactly() {
    let stdout = demo_with_transactions(&[]);
    // A new Kafka 4 cluster's protocol, transactions v2: every end bumped the epoch.
    let line = stdout.lines().find(|l| l.contains("  protocol ")).unwrap_or_default();
    assert!(line.contains("transactions v2 (KIP-890"), "{stdout}");
    let bumps: u64 = line.rsplit(", ").next().and_then(|b| b.strip_suffix(" epoch bumps")).unwrap().parse().unwrap();
    assert!(bumps >= 20, "{line}");
}

#[test]
fn demo_with_transactions_v1_commits_aborts_fences_and_reads_committed_exactly() {
    let stdout = demo_with_transactions(&["--transaction-version", "1"]);
    assert!(stdout.contains("  protocol            transactions v1 (KIP-98"), "{stdout}");
}

/// Runs `idem demo --transactions` with `extra`, checks its transactions' verdict and returns
/// its report.
fn demo_with_transactions(extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_idem"))
        .args(["demo", "--records", "3000", "--no-progress", "--transactions", "--seed", "3"])
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("transactions (idem-demo-txn"), "{stdout}");
    assert!(count(&stdout, "committed") > 0 && count(&stdout, "aborted") > 0, "{stdout}");
    // Fenced at the commit's EndTxn, or (its batches refused first) at the abort that follows.
    let zombie = stdout.lines().find(|l| l.contains("  zombie fenced ")).unwrap_or_default();
    assert!(
        zombie.contains("the first's commit: ") && zombie.ends_with("fatal broker error: PRODUCER_FENCED (90)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("records read: 0 missing, 0 duplicated, 0 of aborted or fenced transactions, 0 out of order"),
        "{stdout}"
    );
    assert!(stdout.contains("  verdict             PASS"), "{stdout}");
    stdout
}
