//! The producer against idem's in-memory cluster with injected faults, joined by a
//! [`DirectLink`] (in order, zero latency; optionally the cluster's bytes in small chunks) in a
//! [`Pair`]. Checks the guarantees: one report per record, no duplicates, no reordering,
//! nothing reported delivered that is not in the log at that offset, nothing reported
//! not-persisted that is in the log.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};

use idem_core::broker::{
    BrokerAddress, ClusterConfig, ClusterStats, FaultSpec, SaslServerConfig, SaslUser, TopicConfig,
};
use idem_core::producer::{NonceSource, Producer, ProducerConfig, ProducerMetrics};
use idem_core::proto::record_batch::RecordBatch;
use idem_core::rand::Rng;
use idem_core::sasl::Mechanism;
use idem_core::{Duration, Instant};
use idem_tests::actors::WorkRecord;
use idem_tests::adapters::{IdemCluster, IdemProducer};
use idem_tests::checker::{Outcome, Run};
use idem_tests::pair::{DirectLink, Pair};

type ClusterPair = Pair<IdemProducer, IdemCluster, DirectLink>;

/// The pair at time zero.
fn pair(pc: ProducerConfig, cc: ClusterConfig, link: DirectLink) -> ClusterPair {
    Pair::new(
        IdemProducer::new(Producer::with_opaque(pc, Instant::ZERO).unwrap()),
        IdemCluster::with_config(cc, "t"),
        link,
        Run::default(),
    )
}

/// Everything due now, then time jumps to the next deadline (or 10 ms on) and what is due then.
fn tick(pair: &mut ClusterPair) {
    pair.step();
    pair.now = match pair.next_deadline() {
        Some(t) => pair.now.max(t),
        None => pair.now + Duration::from_millis(10),
    };
    pair.step();
}

/// Record `n` of the workload, keyed or not.
fn record(n: u64, keyed: bool) -> WorkRecord {
    WorkRecord {
        topic: "t".into(),
        partition: None,
        key: keyed.then(|| vec![(n % 5) as u8]),
        value: n.to_be_bytes().to_vec(),
        timestamp_ms: 1,
    }
}

/// Seeds 0 to 19 of 400 records under `faults`.
fn twenty_seeds(faults: &str) {
    for seed in 0..20 {
        run(seed, faults, 400, false);
    }
}

fn run(seed: u64, faults: &str, records: u64, chunked: bool) {
    run_with(seed, faults, records, chunked, Duration::from_secs(30), true, None);
}

/// SASL on both sides: the mechanism and the session lifetime the cluster announces.
type Sasl = Option<(Mechanism, Option<Duration>)>;

/// Runs the workload and checks the guarantees; returns what the cluster and the producer
/// counted.
fn run_with(
    seed: u64,
    faults: &str,
    records: u64,
    chunked: bool,
    delivery: Duration,
    expect_delivered: bool,
    sasl: Sasl,
) -> (ClusterStats, ProducerMetrics) {
    let brokers = (1..=3).map(|n| BrokerAddress { node_id: n, host: format!("b{n}"), port: 9092 }).collect();
    let mut cc = ClusterConfig {
        brokers,
        topics: vec![TopicConfig { name: "t".into(), partitions: 3 }],
        faults: FaultSpec::parse(faults).unwrap(),
        seed,
        ..ClusterConfig::default()
    };
    let mut pc = ProducerConfig::new("b1:9092")
        .unwrap()
        .seed(seed)
        .linger(Duration::from_millis(2))
        .batch_size(300)
        .request_timeout(Duration::from_secs(1))
        .delivery_timeout(delivery);
    if let Some((mechanism, session_lifetime)) = sasl {
        cc.sasl = Some(SaslServerConfig {
            mechanisms: Mechanism::ALL.to_vec(),
            users: vec![SaslUser::new("alice", "secret")],
            session_lifetime,
        });
        for (k, v) in [
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", mechanism.name()),
            ("sasl.username", "alice"),
            ("sasl.password", "secret"),
            ("sasl.oauthbearer.token", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9."),
        ] {
            pc.set(k, v).unwrap();
        }
    }
    let link = if chunked { DirectLink::chunked(Rng::new(seed ^ 0x00c4_0c4e)) } else { DirectLink::new() };
    let mut pair = pair(pc, cc, link);
    // Simulated nonces: seeded here; the runtimes draw them from the operating system.
    let mut nonces = Rng::new(seed ^ 0x5c4a_4d00);
    pair.producer.0.set_nonce_source(NonceSource::new(move || {
        let mut n = [0u8; 32];
        n.chunks_mut(8).for_each(|c| c.copy_from_slice(&nonces.next_u64().to_le_bytes()));
        Some(n)
    }));
    let mut rng = Rng::new(seed ^ 0xabcdef);
    let mut sent = 0u64;
    let mut steps = 0;
    while sent < records || pair.producer.0.has_pending() {
        steps += 1;
        assert!(steps < 200_000, "no progress: seed {seed}");
        if sent < records && rng.below(3) == 0 {
            for _ in 0..rng.below(20) {
                if sent == records {
                    break;
                }
                let keyed = rng.below(2) == 0;
                match pair.send(sent as usize, record(sent, keyed)) {
                    Ok(id) => {
                        assert_eq!(id.0, sent);
                        sent += 1;
                    }
                    Err(e) => panic!("send: {e:?}"),
                }
            }
            pair.pump();
            pair.now += Duration::from_millis(1);
        }
        tick(&mut pair);
    }
    pair.pump();
    assert!(pair.errors.is_empty(), "seed {seed}: {:?}", pair.errors);
    // One report per record.
    type Report = (bool, Option<(i32, Option<i64>)>, bool);
    let mut report: BTreeMap<u64, Report> = BTreeMap::new();
    for r in &pair.run.reports {
        let entry = match r.outcome {
            Outcome::Delivered { partition, offset } => (true, Some((partition, offset)), true),
            Outcome::NotPersisted(_) => (false, None, false),
            Outcome::PossiblyPersisted(_) => (false, None, true),
        };
        assert!(report.insert(r.record as u64, entry).is_none());
    }
    assert_eq!(report.len() as u64, records, "seed {seed}");
    // The logs: no duplicates, no reordering, delivered records at their offsets.
    let mut in_log: HashMap<u64, (i32, i64)> = HashMap::new();
    for p in 0..3 {
        let log = pair.cluster.cluster.partition_log("t", p).unwrap();
        let mut last: Option<u64> = None;
        for b in log.batches() {
            let (batch, _) = RecordBatch::decode(&b.bytes).unwrap();
            for r in batch.records() {
                let r = r.unwrap();
                let id = u64::from_be_bytes(r.value.unwrap().try_into().unwrap());
                let offset = b.base_offset + i64::from(r.offset_delta);
                assert!(in_log.insert(id, (p, offset)).is_none(), "seed {seed}: duplicate record {id}");
                assert!(last.is_none_or(|l| l < id), "seed {seed}: reordered {id} after {last:?}");
                last = Some(id);
            }
        }
    }
    let mut delivered = 0;
    for (id, (ok, at, persisted)) in &report {
        if *ok {
            delivered += 1;
            let (p, off) = at.unwrap();
            let logged = in_log.get(id).unwrap_or_else(|| panic!("seed {seed}: delivered {id} not in the log"));
            assert_eq!(logged.0, p);
            if let Some(off) = off {
                assert_eq!(logged.1, off, "seed {seed}: record {id} offset");
            }
        } else if !*persisted {
            assert!(!in_log.contains_key(id), "seed {seed}: record {id} reported not persisted is in the log");
        }
    }
    assert!(delivered > 0 || !expect_delivered, "seed {seed}: nothing delivered");
    let failed = report.values().filter(|r| !r.0).count();
    eprintln!(
        "seed {seed}: delivered {delivered} failed {failed} t={:?} {:?} {:?}",
        pair.now,
        pair.cluster.cluster.stats(),
        pair.producer.0.metrics()
    );
    (pair.cluster.cluster.stats(), pair.producer.0.metrics())
}

#[test]
fn no_faults() {
    for seed in 0..3 {
        run(seed, "", 500, false);
    }
}

#[test]
fn chunked_bytes() {
    run(7, "delay=0..5ms", 300, true);
}

#[test]
fn drops_errors_delays_and_leader_moves() {
    let faults = "append_drop=0.05,error_before=NOT_LEADER_OR_FOLLOWER:0.05,\
                  error_after=NOT_ENOUGH_REPLICAS_AFTER_APPEND:0.05,error_before=REQUEST_TIMED_OUT:0.03,\
                  delay=0..20ms,leader_move=300ms";
    twenty_seeds(faults);
}

#[test]
fn bounces_restarts_and_expiry() {
    let faults = "broker_bounce=700ms:200ms,restart=900ms,restart_lossy=1500ms,expire=2s,delay=0..10ms";
    twenty_seeds(faults);
}

#[test]
fn injected_sequence_errors() {
    let faults = "error_before=OUT_OF_ORDER_SEQUENCE_NUMBER:0.03,error_before=UNKNOWN_PRODUCER_ID:0.03,\
                  error_after=REQUEST_TIMED_OUT:0.03,append_drop=0.03,delay=0..10ms";
    twenty_seeds(faults);
}

#[test]
fn delivery_timeouts_under_heavy_faults() {
    let faults = "append_drop=0.3,delay=0..900ms,broker_bounce=1s:3s,error_after=REQUEST_TIMED_OUT:0.1";
    for seed in 0..20 {
        run_with(seed, faults, 300, false, Duration::from_millis(2500), false, None);
    }
}

/// Many seeds of every fault mix: `cargo test -p idem-tests --test producer_cluster -- --ignored`
/// (`IDEM_SEEDS` sets the count, default 200).
#[test]
#[ignore]
fn many_seeds() {
    let n: u64 = std::env::var("IDEM_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(200);
    let mixes = [
        "append_drop=0.05,error_before=NOT_LEADER_OR_FOLLOWER:0.05,error_after=NOT_ENOUGH_REPLICAS_AFTER_APPEND:0.05,delay=0..20ms,leader_move=300ms",
        "broker_bounce=700ms:200ms,restart=900ms,restart_lossy=1500ms,expire=2s,delay=0..10ms",
        "error_before=OUT_OF_ORDER_SEQUENCE_NUMBER:0.03,error_before=UNKNOWN_PRODUCER_ID:0.03,error_after=REQUEST_TIMED_OUT:0.03,append_drop=0.03,delay=0..10ms",
    ];
    for seed in 100..100 + n {
        for m in mixes {
            run(seed, m, 300, seed % 2 == 0);
        }
        run_with(
            seed,
            "append_drop=0.3,delay=0..900ms,broker_bounce=1s:3s,error_after=REQUEST_TIMED_OUT:0.1",
            200,
            false,
            Duration::from_millis(2500),
            false,
            None,
        );
    }
}

/// Rough end-to-end throughput (producer + in-memory cluster in one thread):
/// `cargo test --release -p idem-tests --test producer_cluster -- --ignored throughput --nocapture`.
#[test]
#[ignore]
fn throughput() {
    let cc = ClusterConfig {
        brokers: vec![BrokerAddress { node_id: 1, host: "b1".into(), port: 9092 }],
        topics: vec![TopicConfig { name: "t".into(), partitions: 4 }],
        ..ClusterConfig::default()
    };
    let pc = ProducerConfig::new("b1:9092").unwrap().linger(Duration::from_millis(5)).buffer_memory(64 << 20);
    let mut pair = pair(pc, cc, DirectLink::new());
    let value = [0u8; 100];
    let n = 2_000_000u64;
    let start = std::time::Instant::now();
    let mut send_time = std::time::Duration::ZERO;
    let mut sent = 0;
    while sent < n {
        let t = std::time::Instant::now();
        for _ in 0..1000 {
            let r =
                WorkRecord { topic: "t".into(), partition: None, key: None, value: value.to_vec(), timestamp_ms: 1 };
            match pair.send(sent as usize, r) {
                Ok(_) => sent += 1,
                Err(_) => break,
            }
        }
        send_time += t.elapsed();
        let until = pair.now + Duration::from_millis(1);
        pair.drive(until);
        // Only the rate matters here: keep memory flat.
        pair.run.sent.clear();
        pair.run.reports.clear();
    }
    let total = start.elapsed();
    eprintln!(
        "{n} records of 100 B: {:.0} rec/s end to end; send() alone {:.0} ns/record; {:?}",
        n as f64 / total.as_secs_f64(),
        send_time.as_nanos() as f64 / n as f64,
        pair.producer.0.metrics()
    );
}

/// Every mechanism over SASL, under drops, errors, delays, leader moves and broker bounces,
/// with a session lifetime short enough that every connection re-authenticates (KIP-368)
/// several times: exactly once, in order, and the re-authentications counted on both sides.
#[test]
fn sasl_every_mechanism_with_faults_and_reauthentication() {
    let faults = "append_drop=0.05,error_before=NOT_LEADER_OR_FOLLOWER:0.05,delay=0..20ms,leader_move=300ms,\
                  broker_bounce=900ms:200ms";
    for mechanism in Mechanism::ALL {
        for seed in 0..4 {
            let lifetime = Some(Duration::from_millis(400));
            let (stats, metrics) =
                run_with(seed, faults, 400, seed % 2 == 1, Duration::from_secs(30), true, Some((mechanism, lifetime)));
            assert!(stats.sasl_authentications > 0, "{mechanism} seed {seed}");
            assert_eq!(stats.sasl_authentications, metrics.successful_authentications, "{mechanism} seed {seed}");
            assert!(stats.sasl_reauthentications > 0, "{mechanism} seed {seed}: no re-authentication");
            assert_eq!(stats.sasl_reauthentications, metrics.successful_reauthentications, "{mechanism} seed {seed}");
            assert_eq!((stats.sasl_failures, metrics.failed_authentications), (0, 0));
            // Re-authenticating in time: the broker never had to close an expired session.
            assert_eq!(stats.sasl_refused, 0, "{mechanism} seed {seed}");
        }
    }
}
