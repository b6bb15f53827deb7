//! The simulation's actor traits implemented for idem's real producer core
//! (`idem_core::producer::Producer`) and in-memory broker cluster (`idem_core::broker::Cluster`),
//! and the seeded run the seed sweeps use.

use std::collections::BTreeMap;

use idem_core::broker::validator::UnknownProducerPolicy;
use idem_core::broker::{
    BrokerAddress, BrokerInput, BrokerOutput, Cluster, ClusterConfig, ConnId as BConn, FaultSpec, TopicConfig,
};
use idem_core::producer::{
    ConnId as PConn, Event, Input, Output, Persisted, Producer, ProducerConfig, ProducerRecord, RecordId, SendError,
};
use idem_core::rand::Rng;
use idem_core::{Duration, Instant};

use crate::actors::{BrokerFault, BrokerOut, ProducerOut, Refused, SimBroker, SimProducer, WorkRecord};
use crate::checker::{LogEntry, Outcome, decode_log};
use crate::sim::{self, RunResult, SimConfig};

/// The real producer behind [`SimProducer`].
pub struct IdemProducer(pub Producer);

impl SimProducer for IdemProducer {
    type Id = RecordId;

    fn send(&mut self, now: Instant, r: &WorkRecord) -> Result<RecordId, Refused> {
        let rec = ProducerRecord {
            topic: &r.topic,
            partition: r.partition,
            key: r.key.as_deref(),
            value: Some(&r.value),
            headers: &[],
            timestamp_ms: r.timestamp_ms,
        };
        match self.0.send(now, &rec) {
            Ok(id) => Ok(id),
            Err(SendError::QueueFull) => Err(Refused::QueueFull),
            Err(e) => Err(Refused::Other(e.to_string())),
        }
    }
    fn flush(&mut self, now: Instant) {
        self.0.flush(now);
    }
    fn close(&mut self, now: Instant) {
        self.0.close(now);
    }
    fn connected(&mut self, now: Instant, conn: u64) {
        self.0.handle_input(Input::Connected { now, conn: PConn(conn) });
    }
    fn received(&mut self, now: Instant, conn: u64, bytes: &[u8]) {
        self.0.handle_input(Input::Received { now, conn: PConn(conn), bytes });
    }
    fn disconnected(&mut self, now: Instant, conn: u64) {
        self.0.handle_input(Input::Disconnected { now, conn: PConn(conn) });
    }
    fn timeout(&mut self, now: Instant) {
        self.0.handle_input(Input::Timeout(now));
    }
    fn poll(&mut self) -> ProducerOut<RecordId> {
        match self.0.poll_output() {
            Output::Connect { conn, host, port } => ProducerOut::Connect { conn: conn.0, host, port },
            Output::Transmit { conn, data } => ProducerOut::Transmit { conn: conn.0, data },
            Output::Close { conn } => ProducerOut::Close { conn: conn.0 },
            Output::Event(Event::Delivered { id, partition, offset, .. }) => {
                ProducerOut::Report { id, outcome: Outcome::Delivered { partition, offset } }
            }
            Output::Event(Event::Failed { id, persisted, .. }) => ProducerOut::Report {
                id,
                outcome: match persisted {
                    Persisted::No => Outcome::NotPersisted,
                    _ => Outcome::PossiblyPersisted,
                },
            },
            Output::Event(Event::Fatal(e)) => ProducerOut::Fatal(e.to_string()),
            Output::Timeout(t) => ProducerOut::Timeout(t),
        }
    }
    fn buffered_bytes(&self) -> u64 {
        self.0.metrics().buffered_bytes
    }
    fn counters(&self) -> Vec<(&'static str, u64)> {
        let m = self.0.metrics();
        vec![
            ("p_epoch_bumps", m.epoch_bumps),
            ("p_retries", m.retries),
            ("p_duplicates_acknowledged", m.duplicates_acknowledged),
            ("p_implicit_acks", m.implicit_acks),
            ("p_records_failed", m.records_failed),
            ("p_produce_requests", m.produce_requests),
        ]
    }
}

/// The real in-memory cluster behind [`SimBroker`].
pub struct IdemCluster {
    /// The cluster.
    pub cluster: Cluster,
    /// Its configuration.
    pub cluster_config: ClusterConfig,
    /// The topic the workload writes.
    pub topic: String,
    last_deadline: Option<Instant>,
    /// Control errors (a control the cluster refused, e.g. restarting a down broker) are not
    /// failures; they are kept for the trace.
    pub refused_controls: Vec<String>,
    marks: BTreeMap<(String, i32), Vec<i64>>,
}

impl IdemCluster {
    /// A cluster of `brokers` brokers (`broker-<id>:9092`) with one topic.
    pub fn new(brokers: i32, topic: &str, partitions: i32, seed: u64) -> Self {
        let config = ClusterConfig {
            brokers: (0..brokers)
                .map(|i| BrokerAddress { node_id: i, host: format!("broker-{i}"), port: 9092 })
                .collect(),
            topics: vec![TopicConfig { name: topic.to_string(), partitions }],
            seed,
            ..ClusterConfig::default()
        };
        Self::with_config(config, topic)
    }

    /// A cluster from a full configuration (scenarios tune the validator or producer ids).
    pub fn with_config(config: ClusterConfig, topic: &str) -> Self {
        let cluster_config = config.clone();
        let cluster = match Cluster::new(config, Instant::ZERO) {
            Ok(c) => c,
            Err(e) => panic!("cluster config refused: {e}"),
        };
        IdemCluster {
            cluster,
            cluster_config,
            topic: topic.to_string(),
            last_deadline: None,
            refused_controls: Vec::new(),
            marks: BTreeMap::new(),
        }
    }
}

impl SimBroker for IdemCluster {
    fn advertised(&self) -> Vec<(i32, String, u16)> {
        self.cluster.brokers().map(|(a, _)| (a.node_id, a.host.clone(), a.port)).collect()
    }
    fn accepted(&mut self, now: Instant, conn: u64, broker: i32) {
        self.cluster.handle_input(BrokerInput::Accepted { now, conn: BConn(conn), broker_id: broker });
    }
    fn received(&mut self, now: Instant, conn: u64, bytes: &[u8]) {
        self.cluster.handle_input(BrokerInput::Received { now, conn: BConn(conn), bytes });
    }
    fn closed(&mut self, now: Instant, conn: u64) {
        self.cluster.handle_input(BrokerInput::Closed { now, conn: BConn(conn) });
    }
    fn timeout(&mut self, now: Instant) {
        self.cluster.handle_input(BrokerInput::Timeout(now));
    }
    fn poll(&mut self) -> BrokerOut {
        match self.cluster.poll_output() {
            BrokerOutput::Transmit { conn, data } => BrokerOut::Transmit { conn: conn.0, data },
            BrokerOutput::Close { conn } => BrokerOut::Close { conn: conn.0 },
            BrokerOutput::Log(l) => BrokerOut::Log(l),
            BrokerOutput::Timeout(t) => {
                self.last_deadline = t;
                BrokerOut::Timeout(t)
            }
        }
    }
    fn fault(&mut self, now: Instant, fault: &BrokerFault) {
        // Mark where producer state is lost (before the control changes leadership).
        let lossy = match fault {
            BrokerFault::ExpireProducers => Some(None),
            BrokerFault::Restart { broker, keep_producer_state: false } => Some(Some(*broker)),
            _ => None,
        };
        let mut marks = Vec::new();
        if let Some(only) = lossy {
            for name in self.cluster.topic_names() {
                for p in 0.. {
                    let Some(log) = self.cluster.partition_log(name, p) else { break };
                    if only.is_none_or(|b| self.cluster.leader(name, p) == Some(b)) {
                        marks.push(((name.to_string(), p), log.log_end_offset()));
                    }
                }
            }
        }
        let c = &mut self.cluster;
        let r = match fault {
            BrokerFault::Spec(s) => match FaultSpec::parse(s) {
                Ok(spec) => {
                    c.set_faults(now, spec);
                    Ok(())
                }
                Err(e) => panic!("bad fault spec {s:?}: {e}"),
            },
            BrokerFault::Down { broker } => c.broker_down(now, *broker),
            BrokerFault::Up { broker } => c.broker_up(now, *broker),
            BrokerFault::LeaderMove { partition, to } => {
                c.move_leader(now, &self.topic, *partition, Some(*to)).map(|_| ())
            }
            BrokerFault::ExpireProducers => {
                c.expire_producers(now, None);
                Ok(())
            }
            BrokerFault::Restart { broker, keep_producer_state } => {
                c.restart_broker(now, *broker, *keep_producer_state)
            }
        };
        match r {
            Ok(()) => {
                for (k, leo) in marks {
                    self.marks.entry(k).or_default().push(leo);
                }
            }
            Err(e) => self.refused_controls.push(format!("{fault:?}: {e}")),
        }
    }
    fn quiescent(&self) -> bool {
        self.last_deadline.is_none()
    }
    fn counters(&self) -> Vec<(&'static str, u64)> {
        let s = self.cluster.stats();
        vec![
            ("batches_appended", s.batches_appended),
            ("duplicates", s.duplicates),
            ("rejected", s.rejected),
            ("errors_before", s.errors_before),
            ("errors_after", s.errors_after),
            ("dropped_after_append", s.dropped_after_append),
            ("delayed_responses", s.delayed_responses),
            ("not_leader", s.not_leader),
            ("leader_moves", s.leader_moves),
            ("broker_downs", s.broker_downs),
            ("restarts", s.restarts),
            ("producers_expired", s.producers_expired),
        ]
    }
    fn state_loss_marks(&self) -> BTreeMap<(String, i32), Vec<i64>> {
        self.marks.clone()
    }
    fn logs(&self) -> BTreeMap<(String, i32), Vec<LogEntry>> {
        let mut out = BTreeMap::new();
        for name in self.cluster.topic_names() {
            for p in 0.. {
                let Some(log) = self.cluster.partition_log(name, p) else { break };
                let batches: Vec<&[u8]> = log.batches().map(|b| &b.bytes[..]).collect();
                let entries = match decode_log(&batches) {
                    Ok(e) => e,
                    Err(e) => panic!("{name}-{p}: {e}"),
                };
                out.insert((name.to_string(), p), entries);
            }
        }
        out
    }
}

/// Everything a seeded run is made of, derived from the seed (printed on failure).
#[derive(Clone, Debug)]
pub struct SeedSetup {
    /// Simulation knobs.
    pub sim: SimConfig,
    /// Producer settings as `(key, value)` pairs on top of the defaults.
    pub producer: Vec<(String, String)>,
    /// The brokers accept any first sequence from an unknown producer (KIP-360) instead of
    /// requiring 0.
    pub kip360: bool,
}

/// Derives the run's shape from the seed: cluster size, partitions, record count, producer
/// settings (linger, batch size, in-flight window, buffer size, timeouts).
pub fn setup(seed: u64) -> SeedSetup {
    let mut rng = Rng::new(seed ^ 0x5EED_5EED);
    let brokers = 1 + rng.below(3) as i32;
    let partitions = 1 + rng.below(4) as i32;
    let records = 20 + rng.below(100) as usize;
    let request_timeout_ms = 500 + rng.below(2500);
    let delivery_timeout_ms = request_timeout_ms + 100 + 1000 * (2 + rng.below(8));
    let batch = [256u64, 1024, 16384][rng.below(3) as usize];
    // From "a batch or two" (back-pressure) to plenty.
    let buffer = batch.max(2048) * [1u64, 2, 64][rng.below(3) as usize];
    let producer = vec![
        ("bootstrap.servers", format!("broker-{}:9092", rng.below(brokers as u64))),
        ("linger.ms", rng.below(30).to_string()),
        ("batch.size", batch.to_string()),
        ("max.in.flight.requests.per.connection", (1 + rng.below(5)).to_string()),
        ("buffer.memory", buffer.to_string()),
        ("request.timeout.ms", request_timeout_ms.to_string()),
        ("delivery.timeout.ms", delivery_timeout_ms.to_string()),
        ("retry.backoff.ms", (10 + rng.below(100)).to_string()),
        ("retry.backoff.max.ms", "1000".to_string()),
        ("reconnect.backoff.ms", (10 + rng.below(50)).to_string()),
        ("idem.seed", seed.to_string()),
    ];
    let sim = SimConfig {
        topic: "sim".into(),
        partitions,
        brokers,
        records,
        send_window: Duration::from_millis(500 + rng.below(4000)),
        fault_window: Duration::from_millis(1000 + rng.below(6000)),
        faults: rng.below(12) as usize,
        delivery_timeout: Duration::from_millis(delivery_timeout_ms),
        buffer_limit: buffer,
        slack: Duration::from_secs(5),
        net: crate::net::NetConfig::default(),
    };
    let kip360 = rng.chance(0.25);
    SeedSetup { sim, producer: producer.into_iter().map(|(k, v)| (k.to_string(), v)).collect(), kip360 }
}

/// A producer from `(key, value)` settings.
pub fn producer(settings: &[(String, String)]) -> Producer {
    let config = match ProducerConfig::from_pairs(settings.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(c) => c,
        Err(e) => panic!("producer config {settings:?} refused: {e}"),
    };
    match Producer::new(config, Instant::ZERO) {
        Ok(p) => p,
        Err(e) => panic!("producer refused its config: {e}"),
    }
}

/// Runs seed `seed`: idem's producer against idem's cluster with seeded faults, then checks.
pub fn run_seed(seed: u64) -> RunResult {
    let s = setup(seed);
    let mut rng = Rng::new(seed);
    let schedule = sim::schedule(&s.sim, &mut rng);
    let mut cluster = IdemCluster::new(s.sim.brokers, &s.sim.topic, s.sim.partitions, rng.next_u64());
    if s.kip360 {
        let mut config = cluster.cluster_config.clone();
        config.validator.unknown_producer = UnknownProducerPolicy::AcceptAnySequence;
        cluster = IdemCluster::with_config(config, &s.sim.topic);
    }
    let mut r = sim::run(&s.sim, schedule, IdemProducer(producer(&s.producer)), cluster, rng.fork());
    if !r.errors.is_empty() {
        r.summary = format!("{} | {:?}", r.summary, s);
    }
    r
}
