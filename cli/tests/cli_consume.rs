//! `idem consume` end to end: `idem produce` writes lines to an in-process cluster, `idem consume`
//! reads them back through a consumer group, in runs that resume from the group's commits.
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Output, Stdio};

use idem_mock::{MockCluster, MockClusterConfig};

const IDEM: &str = env!("CARGO_BIN_EXE_idem");

fn produce(bootstrap: &str, topic: &str, n: usize) {
    produce_from(bootstrap, topic, 0, n);
}

/// Lines `from..to`, keyed `k{i % 5}`.
fn produce_from(bootstrap: &str, topic: &str, from: usize, to: usize) {
    let mut child = Command::new(IDEM)
        .args(["produce", "-b", bootstrap, "-t", topic, "-k", ":", "-X", "batch.size=400", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input: String = (from..to).map(|i| format!("k{}:line {i}\n", i % 5)).collect();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

fn consume(bootstrap: &str, group: &str, topic: &str, extra: &[&str]) -> Output {
    Command::new(IDEM).args(["consume", "-b", bootstrap, "-G", group, "-t", topic]).args(extra).output().unwrap()
}

fn printed(out: &Output) -> Vec<String> {
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn reads_every_line_once_across_runs_that_resume_from_the_groups_commits() {
    let cluster = MockCluster::start(MockClusterConfig::default()).unwrap();
    cluster.create_topic("lines", 3).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    produce(&bootstrap, "lines", 600);

    // A first run stops after at least 100 records, printing everything it fetched (how much
    // that is depends on timing); then more lines arrive, so the next run must resume.
    let first = printed(&consume(&bootstrap, "g", "lines", &["-c", "100", "-k", ":"]));
    assert!(first.len() >= 100, "{}", first.len());
    produce_from(&bootstrap, "lines", 600, 900);
    // The next runs go on from the commits: together, every line once.
    let second = printed(&consume(&bootstrap, "g", "lines", &["-e", "1500", "-k", ":"]));
    let third = printed(&consume(&bootstrap, "g", "lines", &["-e", "500"]));
    assert!(third.is_empty(), "nothing left: {third:?}");
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for line in first.iter().chain(&second) {
        *seen.entry(line.clone()).or_default() += 1;
    }
    let expected: BTreeMap<String, u32> = (0..900).map(|i| (format!("k{}:line {i}", i % 5), 1)).collect();
    assert_eq!(seen, expected);
    // Per partition (per key here), in the order produced.
    for key in 0..5 {
        let order: Vec<u32> = first
            .iter()
            .chain(&second)
            .filter_map(|l| l.strip_prefix(&format!("k{key}:line ")))
            .map(|n| n.parse().unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "key {key}: {order:?}");
    }
    // Another group reads everything again.
    assert_eq!(printed(&consume(&bootstrap, "other", "lines", &["-c", "900"])).len(), 900);
    // isolation.level=read_committed through -X: no transaction here, so every line again.
    let committed = ["-c", "900", "-X", "isolation.level=read_committed"];
    assert_eq!(printed(&consume(&bootstrap, "committed", "lines", &committed)).len(), 900);
}

#[test]
fn bad_settings_exit_2_naming_them() {
    let out = consume("127.0.0.1:9", "g", "t", &["-X", "security.protocol=SASL_SSL"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("security.protocol"), "{out:?}");
    let out = consume("127.0.0.1:9", "g", "t", &["-X", "no.such.setting=1"]);
    assert_eq!(out.status.code(), Some(2));
    let out = consume("127.0.0.1:9", "g", "t", &["-X", "isolation.level=read_most"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("isolation.level"), "{out:?}");
}
