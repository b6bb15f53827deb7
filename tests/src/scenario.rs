//! Named scenarios: an explicit script of sends and faults against idem's producer and cluster,
//! on the same driver, network and checker as the seed sweeps.

use idem_core::Duration;
use idem_core::Instant;
use idem_core::broker::{BrokerAddress, ClusterConfig, TopicConfig};
use idem_core::rand::Rng;

use crate::actors::BrokerFault;
use crate::adapters::{IdemCluster, IdemProducer, producer};
use crate::checker::{LogEntry, Outcome};
use crate::net::NetConfig;
use crate::sim::{self, NetFault, RunResult, Schedule, Script, SimConfig};

/// A scripted run. Times are in ms of virtual time.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Simulation knobs (random faults off).
    pub sim: SimConfig,
    /// Producer settings.
    pub producer: Vec<(String, String)>,
    /// Cluster settings.
    pub cluster: ClusterConfig,
    /// The script.
    pub schedule: Schedule,
    /// Test hook: first sequence of every partition.
    pub first_sequence: Option<i32>,
    /// Test hook: epoch of newly allocated producer ids.
    pub first_epoch: Option<i16>,
    /// Network seed.
    pub seed: u64,
}

impl Scenario {
    /// `brokers` brokers, one topic `sim` with `partitions` partitions, quick timeouts, a calm
    /// network (latency 0.1-3 ms, no spikes).
    pub fn new(brokers: i32, partitions: i32) -> Self {
        let sim = SimConfig {
            partitions,
            brokers,
            records: 0,
            faults: 0,
            delivery_timeout: Duration::from_millis(10_000),
            buffer_limit: 1 << 20,
            net: NetConfig { spike_chance: 0.0, ..NetConfig::default() },
            ..SimConfig::default()
        };
        let producer = [
            ("bootstrap.servers", "broker-0:9092"),
            ("linger.ms", "5"),
            ("request.timeout.ms", "1000"),
            ("delivery.timeout.ms", "10000"),
            ("retry.backoff.ms", "20"),
            ("retry.backoff.max.ms", "200"),
            ("reconnect.backoff.ms", "20"),
            ("buffer.memory", "1048576"),
        ];
        let cluster = ClusterConfig {
            brokers: (0..brokers)
                .map(|i| BrokerAddress { node_id: i, host: format!("broker-{i}"), port: 9092 })
                .collect(),
            topics: vec![TopicConfig { name: "sim".into(), partitions }],
            seed: 1,
            ..ClusterConfig::default()
        };
        Scenario {
            sim,
            producer: producer.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            cluster,
            schedule: Schedule::default(),
            first_sequence: None,
            first_epoch: None,
            seed: 7,
        }
    }

    /// Sets a producer setting.
    pub fn set(mut self, key: &str, value: &str) -> Self {
        if key == "delivery.timeout.ms" {
            self.sim.delivery_timeout = Duration::from_millis(value.parse().unwrap_or(0));
        }
        if key == "buffer.memory" {
            self.sim.buffer_limit = value.parse().unwrap_or(0);
        }
        self.producer.retain(|(k, _)| k != key);
        self.producer.push((key.to_string(), value.to_string()));
        self
    }

    /// `n` records to `partition` at `at_ms`.
    pub fn send(mut self, at_ms: u64, partition: i32, n: usize) -> Self {
        for _ in 0..n {
            self.schedule.at(Instant::from_millis(at_ms), Script::Send { partition: Some(partition), filler: 20 });
        }
        self
    }

    /// A flush at `at_ms`.
    pub fn flush(mut self, at_ms: u64) -> Self {
        self.schedule.at(Instant::from_millis(at_ms), Script::Flush);
        self
    }

    /// A broker fault at `at_ms`.
    pub fn broker(mut self, at_ms: u64, f: BrokerFault) -> Self {
        self.schedule.at(Instant::from_millis(at_ms), Script::Broker(f));
        self
    }

    /// A fault spec (in the broker's syntax) from `from_ms` to `to_ms`.
    pub fn faults(self, from_ms: u64, to_ms: u64, spec: &str) -> Self {
        self.broker(from_ms, BrokerFault::Spec(spec.to_string())).broker(to_ms, BrokerFault::Spec(String::new()))
    }

    /// A network fault at `at_ms` (the connection is picked among the live ones).
    pub fn net(mut self, at_ms: u64, f: NetFault) -> Self {
        self.schedule.at(Instant::from_millis(at_ms), Script::Net(f));
        self
    }

    /// Runs it.
    pub fn run(self) -> RunResult {
        let mut p = producer(&self.producer);
        if let Some(seq) = self.first_sequence {
            p.set_first_sequence(seq);
        }
        let mut c = IdemCluster::with_config(self.cluster.clone(), "sim");
        if let Some(e) = self.first_epoch {
            c.cluster.set_first_producer_epoch(e);
        }
        sim::run(&self.sim, self.schedule, IdemProducer(p), c, Rng::new(self.seed))
    }
}

/// Panics with the run's violations, if any.
pub fn assert_clean(r: &RunResult) {
    assert!(r.errors.is_empty(), "{}\n{:#?}", r.summary, r.errors);
    assert_eq!(r.run.reports.len(), r.run.sent.len(), "every record reported");
}

/// The log of partition `p` of topic `sim`.
pub fn log(r: &RunResult, p: i32) -> &[LogEntry] {
    r.run.logs.get(&("sim".to_string(), p)).map_or(&[], Vec::as_slice)
}

/// A broker or producer counter.
pub fn counter(r: &RunResult, name: &str) -> u64 {
    r.counters.iter().find(|(k, _)| *k == name).map_or(0, |(_, v)| *v)
}

/// Outcomes by kind: (delivered, not persisted, possibly persisted).
pub fn outcomes(r: &RunResult) -> (usize, usize, usize) {
    let mut t = (0, 0, 0);
    for rep in &r.run.reports {
        match rep.outcome {
            Outcome::Delivered { .. } => t.0 += 1,
            Outcome::NotPersisted => t.1 += 1,
            Outcome::PossiblyPersisted => t.2 += 1,
        }
    }
    t
}

/// The record indices of a log, in log order.
pub fn record_order(entries: &[LogEntry]) -> Vec<usize> {
    entries.iter().filter_map(|e| e.value.as_deref().and_then(crate::checker::record_index)).collect()
}

/// Whether a fatal error was reported.
pub fn had_fatal(r: &RunResult) -> bool {
    r.errors.iter().any(|e| e.starts_with("FATAL"))
}

/// Net fault helper: cut whichever connection is live (the producer's only one in small runs).
pub fn cut() -> NetFault {
    NetFault::Cut { pick: 0 }
}
