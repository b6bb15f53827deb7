//! Named scenarios: an explicit script of sends and faults against idem's producer and cluster,
//! on the same driver, network and checker as the seed sweeps.

use idem_core::Duration;
use idem_core::Instant;
use idem_core::broker::{BrokerAddress, ClusterConfig, TopicConfig};
use idem_core::rand::Rng;

use std::cell::RefCell;
use std::rc::Rc;

use crate::actors::{BrokerFault, ProducerOut, Refused, SimProducer, WorkRecord};
use crate::adapters::{IdemCluster, IdemProducer, producer};
use crate::checker::LogEntry;
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

    /// One broker, one partition: 2 records, then record 2 alone as the partition's oldest
    /// unresolved batch, refused OUT_OF_ORDER_SEQUENCE_NUMBER before the append (definitely not
    /// written: renumbered into a new epoch), then 2 more.
    pub fn refused_head() -> Self {
        Scenario::new(1, 1)
            .send(0, 0, 2)
            .faults(200, 209, "error_before=OUT_OF_ORDER_SEQUENCE_NUMBER:1")
            .send(200, 0, 1)
            .send(600, 0, 2)
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
        self.run_tapped().0
    }

    /// Runs it, also returning what crossed the wire as the producer saw it (the wiretap's
    /// one-line summaries of Produce and InitProducerId requests and responses, in order):
    /// read it with [`answers`] and [`pid_grants`].
    pub fn run_tapped(self) -> (RunResult, Vec<String>) {
        let mut p = producer(&self.producer);
        if let Some(seq) = self.first_sequence {
            p.set_first_sequence(seq);
        }
        let mut c = IdemCluster::with_config(self.cluster.clone(), "sim");
        if let Some(e) = self.first_epoch {
            c.cluster.set_first_producer_epoch(e);
        }
        let lines = Rc::new(RefCell::new(Vec::new()));
        let tapped = Tapped { inner: IdemProducer::new(p), tap: Default::default(), lines: lines.clone() };
        let r = sim::run(&self.sim, self.schedule, tapped, c, Rng::new(self.seed));
        let lines = lines.borrow().clone();
        (r, lines)
    }
}

/// The producer under test with a wiretap on its connections.
struct Tapped {
    inner: IdemProducer,
    tap: crate::wiretap::Wiretap,
    lines: Rc<RefCell<Vec<String>>>,
}

impl SimProducer for Tapped {
    type Id = <IdemProducer as SimProducer>::Id;
    fn send(&mut self, now: Instant, record: &WorkRecord) -> Result<Self::Id, Refused> {
        self.inner.send(now, record)
    }
    fn flush(&mut self, now: Instant) {
        self.inner.flush(now);
    }
    fn close(&mut self, now: Instant) {
        self.inner.close(now);
    }
    fn connected(&mut self, now: Instant, conn: u64) {
        self.inner.connected(now, conn);
    }
    fn received(&mut self, now: Instant, conn: u64, bytes: &[u8]) {
        self.lines.borrow_mut().extend(self.tap.feed(conn, false, bytes));
        self.inner.received(now, conn, bytes);
    }
    fn disconnected(&mut self, now: Instant, conn: u64) {
        self.tap.close(conn);
        self.inner.disconnected(now, conn);
    }
    fn timeout(&mut self, now: Instant) {
        self.inner.timeout(now);
    }
    fn poll(&mut self) -> ProducerOut<Self::Id> {
        let out = self.inner.poll();
        match &out {
            ProducerOut::Transmit { conn, data } => self.lines.borrow_mut().extend(self.tap.feed(*conn, true, data)),
            ProducerOut::Close { conn } => self.tap.close(*conn),
            _ => {}
        }
        out
    }
    fn buffered_bytes(&self) -> u64 {
        self.inner.buffered_bytes()
    }
    fn counters(&self) -> Vec<(&'static str, u64)> {
        self.inner.counters()
    }
}

/// The Produce answers the producer received, per partition of topic `sim`, in order:
/// `(partition, error code)`.
pub fn answers(wire: &[String]) -> Vec<(i32, i16)> {
    let mut out = Vec::new();
    for line in wire.iter().filter(|l| l.starts_with("produce-resp ")) {
        let Some(body) = line.split_once('[').map(|(_, b)| b.trim_end_matches(']')) else { continue };
        for part in body.split("; ") {
            let w: Vec<&str> = part.split(' ').collect();
            if let (Some(name), Some(&"err"), Some(code)) = (w.first(), w.get(1), w.get(2)) {
                let partition = name.strip_prefix("sim-").and_then(|p| p.parse().ok());
                if let (Some(p), Ok(c)) = (partition, code.parse()) {
                    out.push((p, c));
                }
            }
        }
    }
    out
}

/// The producer ids and epochs the producer was granted (successful InitProducerId answers), in
/// order.
pub fn pid_grants(wire: &[String]) -> Vec<(i64, i16)> {
    wire.iter()
        .filter_map(|l| {
            let w: Vec<&str> = l.strip_prefix("init-pid-resp ")?.split(' ').collect();
            match w.as_slice() {
                [_, "err", "0", "pid", pid, epoch] => Some((pid.parse().ok()?, epoch.strip_prefix('e')?.parse().ok()?)),
                _ => None,
            }
        })
        .collect()
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
    let mut t = [0; 3];
    for rep in &r.run.reports {
        t[rep.outcome.kind()] += 1;
    }
    (t[0], t[1], t[2])
}

/// The record indices of a log, in log order.
pub fn record_order(entries: &[LogEntry]) -> Vec<usize> {
    entries.iter().filter_map(|e| e.value.as_deref().and_then(crate::checker::record_index)).collect()
}

/// Whether `after` was written in a later session than `before`: the same producer id with a
/// higher epoch (a bump), or another id (Kafka answers InitProducerId without a transactional id
/// with a fresh id and epoch 0).
pub fn later_session(before: &LogEntry, after: &LogEntry) -> bool {
    after.producer_id != before.producer_id || after.epoch > before.epoch
}

/// Whether a fatal error was reported.
pub fn had_fatal(r: &RunResult) -> bool {
    r.errors.iter().any(|e| e.starts_with("FATAL"))
}

/// Net fault helper: cut whichever connection is live (the producer's only one in small runs).
pub fn cut() -> NetFault {
    NetFault::Cut { pick: 0 }
}
