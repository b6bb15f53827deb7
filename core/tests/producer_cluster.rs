//! The producer against idem's in-memory cluster with injected faults, over an in-test network
//! that delivers bytes in order (optionally in small chunks). Checks the guarantees: one report
//! per record, no duplicates, no reordering, nothing reported delivered that is not in the log at
//! that offset, nothing reported not-persisted that is in the log.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};

use idem_core::broker::{
    self, BrokerAddress, BrokerInput, BrokerOutput, Cluster, ClusterConfig, FaultSpec, TopicConfig,
};
use idem_core::producer::{ConnId, Event, Input, Output, Persisted, Producer, ProducerConfig, ProducerRecord};
use idem_core::proto::record_batch::RecordBatch;
use idem_core::rand::Rng;
use idem_core::{Duration, Instant};

struct Net {
    p: Producer,
    c: Cluster,
    now: Instant,
    /// producer conn -> open?
    open: HashMap<u64, bool>,
    events: Vec<Event>,
    rng: Rng,
    chunked: bool,
}

impl Net {
    fn pump(&mut self) -> Option<Instant> {
        loop {
            let mut progress = false;
            let p_deadline;
            loop {
                match self.p.poll_output() {
                    Output::Connect { conn, host, port } => {
                        progress = true;
                        let node = host.strip_prefix('b').and_then(|n| n.parse::<i32>().ok()).unwrap();
                        assert_eq!(port, 9092);
                        self.c.handle_input(BrokerInput::Accepted {
                            now: self.now,
                            conn: broker::ConnId(conn.0),
                            broker_id: node,
                        });
                        self.open.insert(conn.0, true);
                        self.p.handle_input(Input::Connected { now: self.now, conn });
                    }
                    Output::Transmit { conn, data } => {
                        progress = true;
                        assert_eq!(self.open.get(&conn.0), Some(&true));
                        self.c.handle_input(BrokerInput::Received {
                            now: self.now,
                            conn: broker::ConnId(conn.0),
                            bytes: &data,
                        });
                    }
                    Output::Close { conn } => {
                        progress = true;
                        if self.open.insert(conn.0, false) == Some(true) {
                            self.c.handle_input(BrokerInput::Closed { now: self.now, conn: broker::ConnId(conn.0) });
                        }
                    }
                    Output::Event(e) => self.events.push(e),
                    Output::Timeout(t) => {
                        p_deadline = t;
                        break;
                    }
                }
            }
            let c_deadline;
            loop {
                match self.c.poll_output() {
                    BrokerOutput::Transmit { conn, data } => {
                        progress = true;
                        let pc = ConnId(conn.0);
                        if self.open.get(&conn.0) != Some(&true) {
                            continue;
                        }
                        if self.chunked {
                            let mut rest = &data[..];
                            while !rest.is_empty() {
                                let n = (self.rng.below(7) as usize + 1).min(rest.len());
                                self.p.handle_input(Input::Received { now: self.now, conn: pc, bytes: &rest[..n] });
                                rest = &rest[n..];
                            }
                        } else {
                            self.p.handle_input(Input::Received { now: self.now, conn: pc, bytes: &data });
                        }
                    }
                    BrokerOutput::Close { conn } => {
                        progress = true;
                        if self.open.insert(conn.0, false) == Some(true) {
                            self.p.handle_input(Input::Disconnected { now: self.now, conn: ConnId(conn.0) });
                        }
                    }
                    BrokerOutput::Log(_) => {}
                    BrokerOutput::Timeout(t) => {
                        c_deadline = t;
                        break;
                    }
                }
            }
            if !progress {
                return match (p_deadline, c_deadline) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
        }
    }

    fn tick(&mut self) {
        let next = self.pump();
        if let Some(t) = next {
            self.now = self.now.max(t);
        } else {
            self.now += Duration::from_millis(10);
        }
        self.p.handle_input(Input::Timeout(self.now));
        self.c.handle_input(BrokerInput::Timeout(self.now));
    }
}

fn run(seed: u64, faults: &str, records: u64, chunked: bool) {
    run_with(seed, faults, records, chunked, Duration::from_secs(30), true);
}

fn run_with(seed: u64, faults: &str, records: u64, chunked: bool, delivery: Duration, expect_delivered: bool) {
    let brokers = (1..=3).map(|n| BrokerAddress { node_id: n, host: format!("b{n}"), port: 9092 }).collect();
    let cc = ClusterConfig {
        brokers,
        topics: vec![TopicConfig { name: "t".into(), partitions: 3 }],
        faults: FaultSpec::parse(faults).unwrap(),
        seed,
        ..ClusterConfig::default()
    };
    let pc = ProducerConfig::new("b1:9092")
        .unwrap()
        .seed(seed)
        .linger(Duration::from_millis(2))
        .batch_size(300)
        .request_timeout(Duration::from_secs(1))
        .delivery_timeout(delivery);
    let mut net = Net {
        p: Producer::new(pc, Instant::ZERO).unwrap(),
        c: Cluster::new(cc, Instant::ZERO).unwrap(),
        now: Instant::ZERO,
        open: HashMap::new(),
        events: Vec::new(),
        rng: Rng::new(seed ^ 0xabcdef),
        chunked,
    };
    let mut sent = 0u64;
    let mut steps = 0;
    while sent < records || net.p.has_pending() {
        steps += 1;
        assert!(steps < 200_000, "no progress: seed {seed}");
        if sent < records && net.rng.below(3) == 0 {
            for _ in 0..net.rng.below(20) {
                if sent == records {
                    break;
                }
                let key = [(sent % 5) as u8];
                let keyed = net.rng.below(2) == 0;
                let r = ProducerRecord {
                    topic: "t",
                    partition: None,
                    key: keyed.then_some(&key[..]),
                    value: Some(&sent.to_be_bytes()),
                    headers: &[],
                    timestamp_ms: 1,
                };
                match net.p.send(net.now, &r) {
                    Ok(id) => {
                        assert_eq!(id.0, sent);
                        sent += 1;
                    }
                    Err(e) => panic!("send: {e}"),
                }
            }
            net.pump();
            net.now += Duration::from_millis(1);
        }
        net.tick();
    }
    net.pump();
    // One report per record.
    type Report = (bool, Option<(i32, Option<i64>)>, Persisted);
    let mut report: BTreeMap<u64, Report> = BTreeMap::new();
    for e in &net.events {
        match e {
            Event::Delivered { id, partition, offset, .. } => {
                assert!(report.insert(id.0, (true, Some((*partition, *offset)), Persisted::Possibly)).is_none());
            }
            Event::Failed { id, persisted, .. } => {
                assert!(report.insert(id.0, (false, None, *persisted)).is_none());
            }
            Event::Fatal(e) => panic!("fatal: {e}"),
        }
    }
    assert_eq!(report.len() as u64, records, "seed {seed}");
    // The logs: no duplicates, no reordering, delivered records at their offsets.
    let mut in_log: HashMap<u64, (i32, i64)> = HashMap::new();
    for p in 0..3 {
        let log = net.c.partition_log("t", p).unwrap();
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
        } else if *persisted == Persisted::No {
            assert!(!in_log.contains_key(id), "seed {seed}: record {id} reported not persisted is in the log");
        }
    }
    assert!(delivered > 0 || !expect_delivered, "seed {seed}: nothing delivered");
    let failed = report.values().filter(|r| !r.0).count();
    eprintln!(
        "seed {seed}: delivered {delivered} failed {failed} t={:?} {:?} {:?}",
        net.now,
        net.c.stats(),
        net.p.metrics()
    );
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
    for seed in 0..20 {
        run(seed, faults, 400, false);
    }
}

#[test]
fn bounces_restarts_and_expiry() {
    let faults = "broker_bounce=700ms:200ms,restart=900ms,restart_lossy=1500ms,expire=2s,delay=0..10ms";
    for seed in 0..20 {
        run(seed, faults, 400, false);
    }
}

#[test]
fn injected_sequence_errors() {
    let faults = "error_before=OUT_OF_ORDER_SEQUENCE_NUMBER:0.03,error_before=UNKNOWN_PRODUCER_ID:0.03,\
                  error_after=REQUEST_TIMED_OUT:0.03,append_drop=0.03,delay=0..10ms";
    for seed in 0..20 {
        run(seed, faults, 400, false);
    }
}

#[test]
fn delivery_timeouts_under_heavy_faults() {
    let faults = "append_drop=0.3,delay=0..900ms,broker_bounce=1s:3s,error_after=REQUEST_TIMED_OUT:0.1";
    for seed in 0..20 {
        run_with(seed, faults, 300, false, Duration::from_millis(2500), false);
    }
}

/// Many seeds of every fault mix: `cargo test --test producer_cluster -- --ignored`
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
        );
    }
}

/// Rough end-to-end throughput (producer + in-memory cluster in one thread):
/// `cargo test --release --test producer_cluster -- --ignored throughput --nocapture`.
#[test]
#[ignore]
fn throughput() {
    let cc = ClusterConfig {
        brokers: vec![BrokerAddress { node_id: 1, host: "b1".into(), port: 9092 }],
        topics: vec![TopicConfig { name: "t".into(), partitions: 4 }],
        ..ClusterConfig::default()
    };
    let pc = ProducerConfig::new("b1:9092").unwrap().linger(Duration::from_millis(5)).buffer_memory(64 << 20);
    let mut net = Net {
        p: Producer::new(pc, Instant::ZERO).unwrap(),
        c: Cluster::new(cc, Instant::ZERO).unwrap(),
        now: Instant::ZERO,
        open: HashMap::new(),
        events: Vec::new(),
        rng: Rng::new(1),
        chunked: false,
    };
    let value = [0u8; 100];
    let n = 2_000_000u64;
    let start = std::time::Instant::now();
    let mut send_time = std::time::Duration::ZERO;
    let mut sent = 0;
    while sent < n {
        let t = std::time::Instant::now();
        for _ in 0..1000 {
            let r = ProducerRecord {
                topic: "t",
                partition: None,
                key: None,
                value: Some(&value),
                headers: &[],
                timestamp_ms: 1,
            };
            match net.p.send(net.now, &r) {
                Ok(_) => sent += 1,
                Err(_) => break,
            }
        }
        send_time += t.elapsed();
        net.pump();
        net.events.clear();
        net.now += Duration::from_millis(1);
        net.p.handle_input(Input::Timeout(net.now));
        net.c.handle_input(BrokerInput::Timeout(net.now));
    }
    let total = start.elapsed();
    eprintln!(
        "{n} records of 100 B: {:.0} rec/s end to end; send() alone {:.0} ns/record; {:?}",
        n as f64 / total.as_secs_f64(),
        send_time.as_nanos() as f64 / n as f64,
        net.p.metrics()
    );
}
