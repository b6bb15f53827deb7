//! Observability through the runtimes: the core's diagnostics and the in-memory broker's lines
//! reach the `log` crate (whatever logger the program installed: here one that keeps them),
//! and `statistics.interval.ms` hands statistics to the callback (or, without one, to the log)
//! in both runtimes.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use idem_core::broker::{FaultSpec, TopicConfig};
use idem_core::debug::DebugContexts;
use idem_mock::{MockCluster, MockClusterConfig};
use idem_std::Statistics;

/// Keeps every record logged: `(target, message)`.
struct Keep(Mutex<Vec<(String, String)>>);

impl log::Log for Keep {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let line = (record.target().to_string(), record.args().to_string());
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(line);
    }
    fn flush(&self) {}
}

/// The process's logger (installed once), and what it kept.
fn logged() -> &'static Keep {
    static KEEP: OnceLock<&'static Keep> = OnceLock::new();
    KEEP.get_or_init(|| {
        let keep: &'static Keep = Box::leak(Box::new(Keep(Mutex::new(Vec::new()))));
        log::set_logger(keep).unwrap();
        log::set_max_level(log::LevelFilter::Debug);
        keep
    })
}

/// Whether a line of `target` containing `text` was logged.
fn has(target: &str, text: &str) -> bool {
    logged().0.lock().unwrap().iter().any(|(t, m)| t == target && m.contains(text))
}

/// A 2-broker cluster with topic `topic` (2 partitions), its debug contexts `debug`.
fn cluster(topic: &str, debug: &str) -> MockCluster {
    let mut config = MockClusterConfig { brokers: 2, ..Default::default() };
    config.cluster.topics.push(TopicConfig { name: topic.into(), partitions: 2 });
    config.cluster.debug = DebugContexts::parse(debug).unwrap();
    config.cluster.seed = 3;
    MockCluster::start(config).unwrap()
}

fn settings(bootstrap: &str, debug: &str, stats_ms: u64) -> idem_std::Config {
    let mut c = idem_std::Config::new(bootstrap).unwrap();
    for (k, v) in [
        ("linger.ms", "2"),
        ("retry.backoff.ms", "10"),
        ("retry.backoff.max.ms", "50"),
        ("request.timeout.ms", "1000"),
        ("debug", debug),
        ("statistics.interval.ms", &stats_ms.to_string()),
    ] {
        c.set(k, v).unwrap();
    }
    c
}

/// Collects the statistics handed to the callback.
fn collecting(c: idem_std::Config) -> (idem_std::Config, Arc<Mutex<Vec<Statistics>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let into = Arc::clone(&got);
    (c.on_statistics(move |s| into.lock().unwrap().push(s.clone())), got)
}

/// Waits until `f` holds (up to 10 s).
fn eventually(what: &str, f: impl Fn() -> bool) {
    for _ in 0..1000 {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("never: {what}");
}

#[test]
fn std_runtime_logs_why_and_hands_statistics() {
    logged();
    let cluster = cluster("obs-std", "msg,broker");
    let (config, stats) = collecting(settings(&cluster.bootstrap_servers(), "broker,msg,eos", 50));
    let p = idem_std::Producer::new(config).unwrap();
    // Appended, then the connection closed unanswered: outcome unknown, resent, duplicate.
    cluster.set_faults(FaultSpec::parse("append_drop=1").unwrap());
    let handles: Vec<_> = (0..20u32)
        .map(|i| p.send(&idem_std::Record::new("obs-std").partition(0).value(&i.to_be_bytes())).unwrap())
        .collect();
    eventually("a dropped connection", || cluster.stats().dropped_after_append > 0);
    cluster.set_faults(FaultSpec::default());
    for h in handles {
        assert!(h.wait().is_ok());
    }
    // The producer's diagnostics, by context.
    assert!(has("idem::broker", "connecting"));
    assert!(has("idem::broker", "closed: disconnected"));
    assert!(has("idem::eos", "possibly persisted: its connection was lost before the answer"));
    assert!(has("idem::msg", "obs-std-0: retrying batch pid"));
    // The broker's own lines, through the same facade.
    assert!(has("idem::mock::msg", "injected append_drop"));
    assert!(has("idem::mock::broker", "accepted"));
    assert!(has("idem::mock", "faults set to `append_drop=1`"));
    // Statistics every 50 ms, their rates and the counts agreeing with the reports.
    let before = stats.lock().unwrap().len();
    eventually("statistics after the reports", || stats.lock().unwrap().len() >= before + 2);
    let last = stats.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last.counts.delivered, 20);
    assert_eq!(last.metrics.records_sent, 20);
    assert_eq!(last.metrics.records_delivered, 20);
    assert!(last.metrics.records_retried > 0 && last.metrics.retries > 0, "{:?}", last.metrics);
    assert!(last.interval.duration > idem_core::Duration::ZERO);
    let json = last.json();
    assert!(json.contains("\"record-send-total\":") && json.contains("\"record-retry-rate\":"), "{json}");
    let report = p.close();
    assert!(report.all_delivered());
}

#[test]
fn smol_runtime_hands_statistics_and_logs_them_without_a_callback() {
    logged();
    let cluster = cluster("obs-smol", "");
    let (config, stats) = collecting(settings(&cluster.bootstrap_servers(), "", 30));
    smol::block_on(async {
        let p = idem_smol::Producer::new(config).unwrap();
        for i in 0..50u32 {
            p.send(&idem_smol::Record::new("obs-smol").value(&i.to_be_bytes())).await.unwrap();
        }
        p.flush().await;
        eventually("statistics", || stats.lock().unwrap().iter().any(|s| s.metrics.records_delivered == 50));
        let s = stats.lock().unwrap().last().cloned().unwrap();
        assert_eq!(s.metrics.topics[0].topic, "obs-smol");
        assert!(s.metrics.brokers.iter().any(|b| b.requests > 0 && b.node_id >= 0));
        assert!(p.close().await.all_delivered());
    });
    // Without a callback, the JSON goes to the log (target `idem::stats`).
    let plain = idem_smol::Producer::new(settings(&cluster.bootstrap_servers(), "", 20)).unwrap();
    eventually("statistics in the log", || has(idem_runtime::STATS_TARGET, "\"record-send-total\":0"));
    drop(plain);
    // No diagnostics from a producer without `debug`: nothing under idem::msg for this topic.
    assert!(!logged().0.lock().unwrap().iter().any(|(_, m)| m.contains("obs-smol-")));
}
