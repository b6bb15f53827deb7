//! The simulation's actor traits implemented for idem's real producer core
//! (`idem_core::producer::Producer`) and in-memory broker cluster (`idem_core::broker::Cluster`),
//! and the seeded run the seed sweeps use.

use std::collections::BTreeMap;

use idem_core::broker::UnknownProducerPolicy;
use idem_core::broker::{
    BrokerAddress, BrokerInput, BrokerOutput, Cluster, ClusterConfig, ConnId as BConn, DuplicateAnswer, FaultSpec,
    SaslServerConfig, SaslUser, TopicConfig,
};
use idem_core::producer::{
    ConnId as PConn, DeliveryError, Event, Input, NonceSource, Output, Persisted, Producer, ProducerConfig,
    ProducerRecord, RecordId, SendError,
};
use idem_core::rand::Rng;
use idem_core::sasl::Mechanism;
use idem_core::tls::ServerTlsSettings;
use idem_core::{Duration, Instant};

use crate::actors::{BrokerFault, BrokerOut, ProducerOut, Refused, RestartMode, SimBroker, SimProducer, WorkRecord};
use crate::checker::{FailReason, LogEntry, Outcome, decode_log, is_sequence_code};
use crate::sim::{self, RunResult, SimConfig};

/// What the simulated application attaches to every record (the core's per-record opaque
/// value): the id the record should get, checked against the id of the report it comes back
/// with, padded to the size of the runtimes' completer so that `buffer.memory` accounts as much
/// per record as in the runtimes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimOpaque {
    id: u64,
    _padding: [u64; 2],
}

/// The real producer behind [`SimProducer`], and how many records it accepted (the id the
/// next accepted record gets: ids are dense).
pub struct IdemProducer(pub Producer<SimOpaque>, u64);

impl IdemProducer {
    /// Wraps a producer that has accepted no record yet.
    pub fn new(producer: Producer<SimOpaque>) -> IdemProducer {
        IdemProducer(producer, 0)
    }

    /// The record id a report carries, checked against the opaque value it came back with.
    fn checked(id: RecordId, opaque: SimOpaque) -> RecordId {
        assert_eq!(id.0, opaque.id, "record {}'s report came back with record {}'s opaque value", id.0, opaque.id);
        id
    }
}

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
        let opaque = SimOpaque { id: self.1, _padding: [0; 2] };
        match self.0.send_with_opaque(now, &rec, opaque) {
            Ok(id) => {
                assert_eq!(id.0, self.1, "record ids are dense");
                self.1 += 1;
                Ok(id)
            }
            Err((e, back)) => {
                assert_eq!(back, opaque, "a refused record's opaque value comes back");
                Err(match e {
                    SendError::QueueFull => Refused::QueueFull,
                    e => Refused::Other(e.to_string()),
                })
            }
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
            // The simulated network copies what is written, as a socket does.
            Output::Transmit { conn, data } => ProducerOut::Transmit { conn: conn.0, data: data.to_vec() },
            Output::Close { conn } => ProducerOut::Close { conn: conn.0 },
            Output::Event(Event::Delivered { id, partition, offset, opaque, .. }) => ProducerOut::Report {
                id: IdemProducer::checked(id, opaque),
                outcome: Outcome::Delivered { partition, offset },
            },
            Output::Event(Event::Failed { id, persisted, error, opaque }) => {
                let id = IdemProducer::checked(id, opaque);
                let why = fail_reason(error);
                let outcome = match persisted {
                    Persisted::No => Outcome::NotPersisted(why),
                    Persisted::Possibly => Outcome::PossiblyPersisted(why),
                };
                ProducerOut::Report { id, outcome }
            }
            Output::Event(Event::Fatal(e)) => ProducerOut::Fatal(e.to_string()),
            // The workloads here are not transactional (a transactional producer is driven by
            // its own harness): an operation's end is only worth a trace line.
            Output::Event(Event::Transaction { op, result }) => {
                ProducerOut::Diagnostic(format!("txn: {op} {result:?}"))
            }
            Output::Diagnostic(d) => ProducerOut::Diagnostic(format!("{}: {d}", d.context())),
            Output::Timeout(t) => ProducerOut::Timeout(t),
        }
    }
    fn buffered_bytes(&self) -> u64 {
        self.0.buffered_bytes()
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
            ("p_batch_splits", m.batch_splits),
        ]
    }
}

/// The producer's delivery error as the checker sees it.
fn fail_reason(error: DeliveryError) -> FailReason {
    match error {
        DeliveryError::Timeout => FailReason::Timeout,
        DeliveryError::RetriesExhausted(code) => FailReason::RetriesExhausted(code),
        DeliveryError::Rejected(code) => FailReason::Rejected(code),
        DeliveryError::SequenceUnresolvable(code) => FailReason::Sequence(code),
        DeliveryError::Overtaken => FailReason::Overtaken,
        DeliveryError::Fatal(_) => FailReason::Fatal,
        DeliveryError::Aborted | DeliveryError::TransactionAborted => FailReason::Aborted,
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
    window_marks: BTreeMap<(String, i32), Vec<i64>>,
    /// Per topic and partition: `(log end offset, instant)` each time the log grew.
    appended: BTreeMap<String, Vec<Vec<(i64, Instant)>>>,
    /// When the validator refused a batch (any partition).
    refusals: Vec<Instant>,
}

impl IdemCluster {
    /// A cluster of `brokers` brokers (`broker-<id>:9092`) with one topic.
    pub fn new(brokers: i32, topic: &str, partitions: i32, seed: u64) -> Self {
        Self::with_config(Self::config(brokers, topic, partitions, seed), topic)
    }

    /// The configuration [`new`](Self::new) uses, to adjust before [`with_config`](Self::with_config).
    pub fn config(brokers: i32, topic: &str, partitions: i32, seed: u64) -> ClusterConfig {
        ClusterConfig {
            brokers: (0..brokers)
                .map(|i| BrokerAddress { node_id: i, host: format!("broker-{i}"), port: 9092 })
                .collect(),
            topics: vec![TopicConfig { name: topic.to_string(), partitions }],
            seed,
            ..ClusterConfig::default()
        }
    }

    /// Batches in the logs whose records are compressed (attributes bits 0-2 not 0).
    pub fn compressed_batches(&self) -> u64 {
        let mut n = 0;
        for name in self.cluster.topic_names() {
            for p in 0.. {
                let Some(log) = self.cluster.partition_log(name, p) else { break };
                n += log.batches().filter(|b| b.bytes.get(22).is_some_and(|a| a & 0x07 != 0)).count() as u64;
            }
        }
        n
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
            window_marks: BTreeMap::new(),
            appended: BTreeMap::new(),
            refusals: Vec::new(),
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
        let refused = self.cluster.stats().rejected;
        self.cluster.handle_input(BrokerInput::Received { now, conn: BConn(conn), bytes });
        if self.cluster.stats().rejected > refused {
            self.refusals.push(now);
        }
        // Appends happen only while requests are handled: note when each log grew.
        for name in self.cluster.topic_names() {
            if !self.appended.contains_key(name) {
                self.appended.insert(name.to_string(), Vec::new());
            }
            let Some(parts) = self.appended.get_mut(name) else { continue };
            for p in 0.. {
                let Some(log) = self.cluster.partition_log(name, p) else { break };
                let end = log.log_end_offset();
                if parts.len() <= p as usize {
                    parts.resize_with(p as usize + 1, Vec::new);
                }
                let Some(grew) = parts.get_mut(p as usize) else { break };
                if end > grew.last().map_or(0, |(last, _)| *last) {
                    grew.push((end, now));
                }
            }
        }
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
            BrokerOutput::Debug { context, line } => BrokerOut::Log(format!("{context}: {line}")),
            BrokerOutput::Timeout(t) => {
                self.last_deadline = t;
                BrokerOut::Timeout(t)
            }
        }
    }
    fn fault(&mut self, now: Instant, fault: &BrokerFault) {
        // Mark where producer state is lost, wholly or down to each producer's last batch
        // (before the control changes leadership): `Some(None)` every partition, `Some(Some(b))`
        // those broker b leads.
        let (lossy, window) = match fault {
            BrokerFault::ExpireProducers => (Some(None), false),
            BrokerFault::Restart { broker, state: RestartMode::LoseState } => (Some(Some(*broker)), false),
            BrokerFault::Restart { broker, state: RestartMode::KeepLastBatch } => (Some(Some(*broker)), true),
            _ => (None, false),
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
            BrokerFault::Restart { broker, state } => c.restart_broker_as(now, *broker, *state),
        };
        match r {
            Ok(()) => {
                let to = if window { &mut self.window_marks } else { &mut self.marks };
                for (k, leo) in marks {
                    to.entry(k).or_default().push(leo);
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
            ("repeated_partitions", s.repeated_partitions),
            ("sasl_authentications", s.sasl_authentications),
            ("sasl_reauthentications", s.sasl_reauthentications),
            ("sasl_failures", s.sasl_failures),
            ("sasl_expired_refused", s.sasl_refused),
            ("compressed_batches_in_log", self.compressed_batches()),
        ]
    }
    fn state_loss_marks(&self) -> BTreeMap<(String, i32), Vec<i64>> {
        self.marks.clone()
    }
    fn window_loss_marks(&self) -> BTreeMap<(String, i32), Vec<i64>> {
        self.window_marks.clone()
    }
    fn accepts_any_first_sequence(&self) -> bool {
        self.cluster_config.validator.unknown_producer == UnknownProducerPolicy::AcceptAnySequence
    }
    fn append_times(&self) -> BTreeMap<(String, i32), Vec<(i64, Instant)>> {
        let mut out = BTreeMap::new();
        for (name, parts) in &self.appended {
            for (p, grew) in parts.iter().enumerate() {
                out.insert((name.clone(), p as i32), grew.clone());
            }
        }
        out
    }
    fn refusal_times(&self) -> Vec<Instant> {
        self.refusals.clone()
    }
    fn injected_sequence_errors(&self) -> BTreeMap<(String, i32), u64> {
        let mut out = BTreeMap::new();
        for name in self.cluster.topic_names() {
            for p in 0.. {
                let Some(injected) = self.cluster.injected_before(name, p) else { break };
                let n: u64 = injected.iter().filter(|(c, _)| is_sequence_code(*c)).map(|(_, n)| n).sum();
                if n > 0 {
                    out.insert((name.to_string(), p), n);
                }
            }
        }
        out
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
    /// How the brokers answer a duplicate: Kafka's original offset, or tansu's
    /// DUPLICATE_SEQUENCE_NUMBER.
    pub duplicate_answer: DuplicateAnswer,
    /// SASL_PLAINTEXT with this mechanism, and the session lifetime the brokers announce (ms;
    /// `None`: sessions do not expire), or plain connections.
    pub sasl: Option<(Mechanism, Option<u64>)>,
    /// The connections run TLS (`SSL`, or `SASL_SSL` with [`sasl`](Self::sasl)).
    pub tls: bool,
}

/// The SASL user of simulated runs.
const SIM_USER: (&str, &str) = ("sim", "sim-secret");

/// A third of the seeds run over SASL, the mechanism chosen by the seed, four in five of them
/// with a session lifetime of 0.2 to 2 s, so that connections re-authenticate (KIP-368), or
/// are closed by the broker when a re-authentication comes too late behind the network's
/// delays. Drawn from a generator of its own, so that the rest of a seed's shape is what it
/// was before SASL existed.
fn sasl_setup(seed: u64) -> Option<(Mechanism, Option<u64>)> {
    let mut rng = Rng::new(seed ^ 0x5A51_0000_5A51);
    if !rng.chance(1.0 / 3.0) {
        return None;
    }
    let mechanism = Mechanism::ALL[rng.below(Mechanism::ALL.len() as u64) as usize];
    let lifetime = rng.chance(0.8).then(|| 200 + rng.below(1800));
    Some((mechanism, lifetime))
}

/// A quarter of the seeds run over TLS (SSL, or SASL_SSL with their SASL mechanism), with the
/// seeded crypto of [`crate::tls::sim_crypto`]. Drawn from a generator of its own, so that the
/// rest of a seed's shape is what it was before TLS existed.
fn tls_setup(seed: u64) -> bool {
    Rng::new(seed ^ 0x0715_0715_0715).chance(0.25)
}

/// Derives the run's shape from the seed: cluster size, partitions, record count, producer
/// settings (linger, batch size, in-flight window, buffer size, timeouts, retries,
/// `compression.type` and `compression.level` in two seeds of five), the brokers'
/// flavour (KIP-360 acceptance of unknown producers, tansu's duplicate answer).
///
/// One seed in ten is a large run (500 to 1,500 records over 2 to 8 partitions, small batches,
/// up to 5 in flight): long pipelines behind an unresolved batch, which the small runs (20 to
/// 119 records) rarely build.
pub fn setup(seed: u64) -> SeedSetup {
    let mut rng = Rng::new(seed ^ 0x5EED_5EED);
    let large = rng.chance(0.1);
    let brokers = 1 + rng.below(3) as i32;
    let (partitions, records) = if large {
        (2 + rng.below(7) as i32, 500 + rng.below(1001) as usize)
    } else {
        (1 + rng.below(4) as i32, 20 + rng.below(100) as usize)
    };
    let request_timeout_ms = 500 + rng.below(2500);
    let delivery_timeout_ms = request_timeout_ms + 100 + 1000 * (2 + rng.below(8));
    let batch =
        if large { [256u64, 1024][rng.below(2) as usize] } else { [256u64, 1024, 16384][rng.below(3) as usize] };
    // From "a batch or two" (back-pressure) to plenty.
    let buffer =
        batch.max(2048) * if large { [4u64, 64][rng.below(2) as usize] } else { [1u64, 2, 64][rng.below(3) as usize] };
    let in_flight = if large { 3 + rng.below(3) } else { 1 + rng.below(5) };
    let linger = if large { rng.below(5) } else { rng.below(30) };
    let mut producer = vec![
        ("bootstrap.servers", format!("broker-{}:9092", rng.below(brokers as u64))),
        ("linger.ms", linger.to_string()),
        ("batch.size", batch.to_string()),
        ("max.in.flight.requests.per.connection", in_flight.to_string()),
        ("buffer.memory", buffer.to_string()),
        ("request.timeout.ms", request_timeout_ms.to_string()),
        ("delivery.timeout.ms", delivery_timeout_ms.to_string()),
        ("retry.backoff.ms", (10 + rng.below(100)).to_string()),
        ("retry.backoff.max.ms", "1000".to_string()),
        ("reconnect.backoff.ms", (10 + rng.below(50)).to_string()),
        ("idem.seed", seed.to_string()),
    ];
    // Some seeds give up after a few attempts instead of at the delivery timeout.
    if rng.chance(0.15) {
        producer.push(("retries", [0u64, 1, 3][rng.below(3) as usize].to_string()));
    }
    // Two seeds in five compress their batches, the codec and level chosen by the seed. Drawn
    // from a stream of their own, so every other choice of a seed is what it was before
    // compression was simulated.
    let mut crng = Rng::new(seed ^ 0xC0DE_C0DE);
    if crng.chance(0.4) {
        let codec = ["gzip", "snappy", "lz4", "zstd"][crng.below(4) as usize];
        producer.push(("compression.type", codec.to_string()));
        let level = match codec {
            "gzip" => Some(1 + crng.below(9) as i64),
            "zstd" => Some(crng.below(9) as i64 - 3),
            _ => None,
        };
        if let Some(level) = level.filter(|_| crng.chance(0.5)) {
            producer.push(("compression.level", level.to_string()));
        }
    }
    let send_window = if large { 1000 + rng.below(5000) } else { 500 + rng.below(4000) };
    let sim = SimConfig {
        topic: "sim".into(),
        partitions,
        brokers,
        records,
        send_window: Duration::from_millis(send_window),
        fault_window: Duration::from_millis(1000 + rng.below(6000)),
        faults: rng.below(12) as usize,
        delivery_timeout: Duration::from_millis(delivery_timeout_ms),
        buffer_limit: buffer,
        slack: Duration::from_secs(5),
        net: crate::net::NetConfig::default(),
    };
    let kip360 = rng.chance(0.25);
    let duplicate_answer =
        if rng.chance(0.2) { DuplicateAnswer::DuplicateSequenceNumber } else { DuplicateAnswer::OriginalOffset };
    let sasl = sasl_setup(seed);
    let tls = tls_setup(seed);
    let mut producer: Vec<(String, String)> = producer.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    if tls && sasl.is_none() {
        producer.push(("security.protocol".to_string(), "SSL".to_string()));
    }
    if let Some((mechanism, _)) = sasl {
        for (k, v) in [
            ("security.protocol", if tls { "SASL_SSL" } else { "SASL_PLAINTEXT" }),
            ("sasl.mechanism", mechanism.name()),
            ("sasl.username", SIM_USER.0),
            ("sasl.password", SIM_USER.1),
            ("sasl.oauthbearer.token", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzaW0ifQ."),
        ] {
            producer.push((k.to_string(), v.to_string()));
        }
    }
    SeedSetup { sim, producer, kip360, duplicate_answer, sasl, tls }
}

/// A producer from `(key, value)` settings. With `IDEM_SIM_TRACE` set, its `debug` setting is
/// `IDEM_SIM_DEBUG` (default `all`, unless the settings name one), so that the trace shows its
/// diagnostics; they change nothing else (and are not hashed). Under `SSL` / `SASL_SSL` it
/// trusts the simulation's CA, with the simulation's wall clock and seeded crypto.
pub fn producer(settings: &[(String, String)]) -> Producer<SimOpaque> {
    let mut pairs: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let secure = settings.iter().any(|(k, v)| k == "security.protocol" && v.ends_with("SSL"));
    if secure {
        pairs.push(("ssl.ca.pem", &crate::tls::sim_certificates().ca.pem));
    }
    let mut config = ProducerConfig::default();
    for (k, v) in pairs {
        if let Err(e) = config.set(k, v) {
            panic!("producer config {settings:?} refused: {e}");
        }
    }
    if secure {
        config.security.tls.wall_clock = Some(crate::tls::sim_clock());
        config.security.tls.crypto = Some(crate::tls::sim_crypto());
    }
    if std::env::var_os("IDEM_SIM_TRACE").is_some() && !settings.iter().any(|(k, _)| k == "debug") {
        let debug = std::env::var("IDEM_SIM_DEBUG").unwrap_or_else(|_| "all".into());
        if let Err(e) = config.set("debug", &debug) {
            panic!("IDEM_SIM_DEBUG: {e}");
        }
    }
    match Producer::with_opaque(config, Instant::ZERO) {
        Ok(p) => p,
        Err(e) => panic!("producer refused its config: {e}"),
    }
}

/// The simulation's SASL user, its SCRAM credentials derived once per process (4096
/// iterations of each hash are slow in debug builds).
fn sim_user() -> SaslUser {
    static USER: std::sync::OnceLock<SaslUser> = std::sync::OnceLock::new();
    USER.get_or_init(|| SaslUser::new(SIM_USER.0, SIM_USER.1)).clone()
}

/// Runs seed `seed`: idem's producer against idem's cluster with seeded faults, then checks.
pub fn run_seed(seed: u64) -> RunResult {
    let s = setup(seed);
    let mut rng = Rng::new(seed);
    let schedule = sim::schedule(&s.sim, &mut rng);
    let mut config = IdemCluster::config(s.sim.brokers, &s.sim.topic, s.sim.partitions, rng.next_u64());
    if s.kip360 {
        config.validator.unknown_producer = UnknownProducerPolicy::AcceptAnySequence;
    }
    config.duplicate_answer = s.duplicate_answer;
    if let Some((_, lifetime)) = s.sasl {
        config.sasl = Some(SaslServerConfig {
            mechanisms: Mechanism::ALL.to_vec(),
            users: vec![sim_user()],
            session_lifetime: lifetime.map(Duration::from_millis),
        });
    }
    if s.tls {
        let certs = crate::tls::sim_certificates();
        let mut server = ServerTlsSettings::new(&certs.broker.cert, &certs.broker.key);
        server.crypto = Some(crate::tls::sim_crypto());
        config.tls = Some(server);
    }
    crate::tls::seed_tls(seed);
    let cluster = IdemCluster::with_config(config, &s.sim.topic);
    let mut p = producer(&s.producer);
    // SCRAM nonces from the seed (the runtimes draw them from the operating system).
    let mut nonces = Rng::new(seed ^ 0x0C0F_FEE5);
    p.set_nonce_source(NonceSource::new(move || {
        let mut n = [0u8; 32];
        n.chunks_mut(8).for_each(|c| c.copy_from_slice(&nonces.next_u64().to_le_bytes()));
        Some(n)
    }));
    let mut r = sim::run(&s.sim, schedule, IdemProducer::new(p), cluster, rng.fork());
    r.counters.push(("tls_seeds", u64::from(s.tls)));
    if !r.errors.is_empty() {
        r.summary = format!("{} | {:?}", r.summary, s);
    }
    r
}
