//! The consumer against the in-memory cluster, in virtual time: a world of one cluster, one
//! producer and consumers, each driven by the drain rule, bytes carried whole and in order.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::broker::{BrokerAddress, BrokerInput, Cluster, ClusterConfig, FaultSpec, TopicConfig};
use crate::producer::{
    Event, Output, Producer, ProducerConfig, ProducerRecord, TransactionError, TransactionOp, TxnOffset,
};
use crate::proto::record_batch::ProducerStamp;
use crate::test_wires::{Moved, Wire, Wires, global};
use crate::time::Duration;

/// A consumer in the world, and what it said.
struct Member {
    consumer: Consumer,
    events: Vec<ConsumerEvent>,
    /// Stopped being driven (a crashed process: its connections stay open, silent).
    dead: bool,
}

/// The cluster, a producer (client 0) and consumers (clients 1..), on the shared test wires
/// (which corrupt only what goes to consumers).
struct World {
    wires: Wires,
    producer: Producer,
    delivered: usize,
    members: Vec<Member>,
    /// Ends of the producer's transactional operations (a transactional producer's).
    txn: Vec<(TransactionOp, Result<(), TransactionError>)>,
    /// The brokers the test's own connections ([`RAW`], see [`World::request`]) are open to.
    raw_open: BTreeSet<i32>,
    /// What the brokers answered on the test's own connections, not yet taken.
    raw: Vec<u8>,
}

/// The client index of the test's own connections (one per broker, its connection id the
/// broker's): requests a test writes itself, as a transactional producer would.
const RAW: usize = 1000;

const BROKERS: i32 = 3;
const TOPIC: &str = "t";
const PARTITIONS: i32 = 4;

impl World {
    fn new(faults: &str, producer_settings: &[(&str, &str)]) -> World {
        World::seeded(11, faults, producer_settings)
    }

    fn seeded(seed: u64, faults: &str, producer_settings: &[(&str, &str)]) -> World {
        let brokers = (0..BROKERS).map(|i| BrokerAddress { node_id: i, host: format!("b{i}"), port: 9092 }).collect();
        let config = ClusterConfig {
            brokers,
            topics: vec![TopicConfig { name: TOPIC.into(), partitions: PARTITIONS }],
            faults: FaultSpec::parse(faults).unwrap(),
            seed,
            ..ClusterConfig::default()
        };
        let cluster = Cluster::new(config, Instant::ZERO).unwrap();
        let mut pc = ProducerConfig::new("b0:9092").unwrap();
        for (k, v) in producer_settings {
            pc.set(k, v).unwrap();
        }
        let mut wires = Wires::new(cluster, seed);
        wires.corrupt_from = 1;
        World {
            wires,
            producer: Producer::new(pc, Instant::ZERO).unwrap(),
            delivered: 0,
            members: Vec::new(),
            txn: Vec::new(),
            raw_open: BTreeSet::new(),
            raw: Vec::new(),
        }
    }

    /// Adds a consumer of group `g` with `settings`; returns its index.
    fn join(&mut self, group: &str, settings: &[(&str, &str)]) -> usize {
        let mut c = ConsumerConfig::new("b0:9092,b1:9092", group).unwrap();
        c.subscribe(TOPIC);
        c.set("session.timeout.ms", "6000").unwrap().set("heartbeat.interval.ms", "1000").unwrap();
        c.set("idem.seed", &format!("{}", self.members.len() as u64 * 1000 + self.wires.now.as_micros() % 997))
            .unwrap();
        for (k, v) in settings {
            c.set(k, v).unwrap();
        }
        let consumer = Consumer::new(c, self.wires.now).unwrap();
        self.members.push(Member { consumer, events: Vec::new(), dead: false });
        self.members.len() - 1
    }

    fn produce(&mut self, n: usize, tag: &str) {
        for i in 0..n {
            let key = format!("{tag}-{i}");
            let record = ProducerRecord {
                topic: TOPIC,
                partition: None,
                key: Some(key.as_bytes()),
                value: Some(key.as_bytes()),
                headers: &[],
                timestamp_ms: 1_700_000_000_000,
            };
            self.producer.send(self.wires.now, &record).unwrap();
        }
        self.producer.flush(self.wires.now);
    }

    /// Drains every machine (the drain rule); returns the earliest deadline.
    fn drain(&mut self) -> Option<Instant> {
        let mut deadline = self.wires.drain_cluster();
        let mut earliest = |t: Option<Instant>| {
            if let Some(t) = t {
                deadline = Some(deadline.map_or(t, |d: Instant| d.min(t)));
            }
        };
        loop {
            match self.producer.poll_output() {
                Output::Connect { conn, host, .. } => self.wires.connect(0, conn, &host),
                Output::Transmit { conn, data } => self.wires.transmit(0, conn, &data),
                Output::Close { conn } => self.wires.close(0, conn),
                Output::Event(Event::Delivered { .. }) => self.delivered += 1,
                Output::Event(Event::Transaction { op, result }) => self.txn.push((op, result)),
                // Records of an aborted transaction (only a transactional producer's).
                Output::Event(Event::Failed { error: crate::producer::DeliveryError::TransactionAborted, .. }) => {}
                Output::Event(e) => panic!("producer: {e:?}"),
                Output::Diagnostic(_) => {}
                Output::Timeout(t) => {
                    earliest(t);
                    break;
                }
            }
        }
        for (k, m) in self.members.iter_mut().enumerate() {
            if m.dead {
                continue;
            }
            loop {
                match m.consumer.poll_output() {
                    ConsumerOutput::Connect { conn, host, .. } => self.wires.connect(k + 1, conn, &host),
                    ConsumerOutput::Transmit { conn, data } => self.wires.transmit(k + 1, conn, &data),
                    ConsumerOutput::Close { conn } => self.wires.close(k + 1, conn),
                    ConsumerOutput::Event(e) => m.events.push(e),
                    ConsumerOutput::Timeout(t) => {
                        earliest(t);
                        break;
                    }
                }
            }
        }
        deadline
    }

    /// Feeds `input` to client `k` (0: the producer), unless it is a dead consumer.
    fn deliver(&mut self, k: usize, input: Input<'_>) {
        if k == 0 {
            self.producer.handle_input(input);
        } else if let Some(m) = self.members.get_mut(k - 1).filter(|m| !m.dead) {
            m.consumer.handle_input(input);
        }
    }

    /// One fact in: the next thing on the wire, or else time moves to the earliest deadline.
    /// False if nothing is left to happen.
    fn step(&mut self) -> bool {
        let deadline = self.drain();
        match self.wires.step() {
            Moved::ToCluster => true,
            Moved::ToClient { client: RAW, wire, .. } => {
                if let Wire::Bytes(b) = wire {
                    self.raw.extend(b);
                }
                true
            }
            Moved::ToClient { client, conn, wire } => {
                let input = self.wires.input(conn, &wire);
                self.deliver(client, input);
                true
            }
            Moved::Cut { client, conn } => {
                let now = self.wires.now;
                self.deliver(client, Input::Disconnected { now, conn });
                true
            }
            Moved::Idle => {
                let Some(next) = deadline else { return false };
                self.wires.advance(next);
                let now = self.wires.now;
                self.producer.handle_input(Input::Timeout(now));
                for m in self.members.iter_mut().filter(|m| !m.dead) {
                    m.consumer.handle_input(Input::Timeout(now));
                }
                true
            }
        }
    }

    /// Steps until `done` holds, or panics after `within` of virtual time.
    fn run_until(&mut self, within: Duration, what: &str, done: impl Fn(&World) -> bool) {
        let end = self.wires.now + within;
        let mut steps = 0u64;
        // Drained before each look: what the last input made the machines say counts.
        while {
            self.drain();
            !done(self)
        } {
            assert!(self.wires.now <= end, "{what}: not done within {within:?}; events {:?}", self.summary());
            assert!(self.step(), "{what}: nothing left to happen");
            steps += 1;
            assert!(steps < 5_000_000, "{what}: too many steps");
        }
    }

    /// Runs for `d` of virtual time.
    fn run_for(&mut self, d: Duration) {
        let end = self.wires.now + d;
        while self.wires.now < end && self.step() {}
        self.drain();
    }

    fn summary(&self) -> Vec<String> {
        self.members
            .iter()
            .map(|m| {
                let kinds: Vec<String> = m
                    .events
                    .iter()
                    .map(|e| match e {
                        ConsumerEvent::Records { partition, records, .. } => format!("R{partition}x{}", records.len()),
                        other => format!("{other:?}"),
                    })
                    .collect();
                format!("gen {} {:?}", m.consumer.generation(), kinds)
            })
            .collect()
    }

    /// Records a member handed out: (partition, offset, value).
    fn read(&self, k: usize) -> Vec<(i32, i64, Vec<u8>)> {
        let mut out = Vec::new();
        for e in &self.members[k].events {
            if let ConsumerEvent::Records { topic, partition, records } = e
                && topic == TOPIC
            {
                out.extend(
                    records.iter().map(|r| (*partition, r.offset, r.value.as_deref().unwrap_or_default().to_vec())),
                );
            }
        }
        out
    }

    /// Every (partition, offset) handed out by the whole group, counted.
    fn counts(&self) -> BTreeMap<(i32, i64), usize> {
        let mut counts = BTreeMap::new();
        for k in 0..self.members.len() {
            for (p, o, _) in self.read(k) {
                *counts.entry((p, o)).or_default() += 1;
            }
        }
        counts
    }

    fn total_read(&self) -> usize {
        self.counts().len()
    }

    /// Every record in the logs, (partition, offset).
    fn log(&self) -> BTreeSet<(i32, i64)> {
        (0..PARTITIONS)
            .flat_map(|p| {
                let end = self.wires.cluster.partition_log(TOPIC, p).map_or(0, |l| l.log_end_offset());
                (0..end).map(move |o| (p, o))
            })
            .collect()
    }

    fn assigned_gen(&self, k: usize) -> Option<i32> {
        self.members[k].events.iter().rev().find_map(|e| match e {
            ConsumerEvent::Assigned { generation, .. } => Some(*generation),
            _ => None,
        })
    }

    fn partitions_now(&self, k: usize) -> Vec<i32> {
        self.members[k].consumer.assignment().into_iter().map(|((_, p), _)| p).collect()
    }

    /// Checks each record of the logs was handed out exactly once across the group.
    fn assert_exactly_once(&self) {
        self.assert_exactly_once_in("");
    }

    /// [`assert_exactly_once`](Self::assert_exactly_once), naming the run (`what`) if it fails.
    fn assert_exactly_once_in(&self, what: &str) {
        let counts = self.counts();
        let log = self.log();
        let dup: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
        assert!(dup.is_empty(), "{what}: handed out twice: {dup:?}\n{:?}", self.summary());
        let read: BTreeSet<(i32, i64)> = counts.keys().copied().collect();
        assert_eq!(read, log, "{what}: not every record handed out");
    }

    /// Sends `req` (API version `version`) to broker `broker` on the test's own connection
    /// and steps the world until its answer is back; returns the answer's body.
    fn request<'a, M: crate::proto::Message<'a>>(&mut self, broker: i32, version: i16, req: &M) -> Vec<u8> {
        let conn = crate::broker::ConnId(global(RAW, ConnId(broker as u64)));
        let now = self.wires.now;
        if self.raw_open.insert(broker) {
            self.wires.cluster.handle_input(BrokerInput::Accepted { now, conn, broker_id: broker });
        }
        let bytes = crate::broker::test_util::frame(1, version, req);
        self.wires.cluster.handle_input(BrokerInput::Received { now, conn, bytes: &bytes });
        let end = self.wires.now + MINUTE;
        loop {
            if let Ok(crate::proto::Frame::Complete { body, consumed }) =
                crate::proto::parse_frame(&self.raw, usize::MAX)
            {
                let body = body.to_vec();
                self.raw.drain(..consumed);
                return body;
            }
            assert!(self.wires.now <= end && self.step(), "no answer from broker {broker}");
        }
    }

    fn errors(&self) -> Vec<&ConsumerEvent> {
        self.members
            .iter()
            .flat_map(|m| &m.events)
            .filter(|e| matches!(e, ConsumerEvent::Error(_) | ConsumerEvent::CommitFailed { .. }))
            .collect()
    }
}

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn one_member_reads_everything_in_order_then_commits() {
    let mut w = World::new("", &[]);
    w.produce(40, "a");
    w.run_until(MINUTE, "delivered", |w| w.delivered == 40);
    let a = w.join("g", &[]);
    w.run_until(MINUTE, "read", |w| w.total_read() == 40);
    w.assert_exactly_once();
    // Per partition in offset order, values as written.
    let read = w.read(a);
    for p in 0..PARTITIONS {
        let offsets: Vec<i64> = read.iter().filter(|r| r.0 == p).map(|r| r.1).collect();
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "partition {p}: {offsets:?}");
    }
    let mut values: Vec<Vec<u8>> = read.into_iter().map(|r| r.2).collect();
    values.sort();
    let mut expected: Vec<Vec<u8>> = (0..40).map(|i| format!("a-{i}").into_bytes()).collect();
    expected.sort();
    assert_eq!(values, expected);
    assert!(matches!(&w.members[a].events[0], ConsumerEvent::Assigned { partitions, .. } if partitions.len() == 4));
    // Commit: the positions are the log ends.
    w.members[a].consumer.commit(w.wires.now);
    w.run_until(MINUTE, "committed", |w| {
        w.members[a].events.iter().any(|e| matches!(e, ConsumerEvent::Committed { .. }))
    });
    let committed = w.members[a].events.iter().find_map(|e| match e {
        ConsumerEvent::Committed { offsets } => Some(offsets.clone()),
        _ => None,
    });
    let ends: Vec<((String, i32), i64)> = (0..PARTITIONS)
        .map(|p| ((TOPIC.to_string(), p), w.wires.cluster.partition_log(TOPIC, p).unwrap().log_end_offset()))
        .collect();
    assert_eq!(committed, Some(ends));
    // Close: Revoked, then Closed, and every connection closed.
    w.members[a].consumer.close(w.wires.now);
    w.run_until(MINUTE, "closed", |w| w.members[a].consumer.is_finished());
    let tail: Vec<_> = w.members[a].events.iter().rev().take(2).collect();
    assert!(matches!(tail[0], ConsumerEvent::Closed), "{tail:?}");
    assert!(matches!(tail[1], ConsumerEvent::Revoked { .. }) || matches!(tail[1], ConsumerEvent::Committed { .. }));
    assert!(w.errors().is_empty(), "{:?}", w.errors());
}

#[test]
fn members_share_partitions_across_joins_and_leaves_exactly_once() {
    let mut w = World::new("", &[]);
    w.produce(30, "a");
    let a = w.join("g", &[]);
    w.run_until(MINUTE, "a reads", |w| w.total_read() == 30);
    // B joins: A commits, revokes, rejoins; the partitions are split 2 / 2.
    let b = w.join("g", &[]);
    w.run_until(MINUTE, "rebalanced", |w| {
        w.assigned_gen(b).is_some() && w.assigned_gen(a) == w.assigned_gen(b) && w.partitions_now(a).len() == 2
    });
    assert_eq!(w.partitions_now(b).len(), 2);
    assert!(w.members[a].events.iter().any(|e| matches!(e, ConsumerEvent::Revoked { .. })));
    w.produce(40, "b");
    w.run_until(MINUTE, "both read", |w| w.total_read() == 70);
    assert!(!w.read(b).is_empty());
    // C joins while records keep coming.
    let c = w.join("g", &[]);
    w.produce(40, "c");
    w.run_until(MINUTE, "three members", |w| {
        let g = w.assigned_gen(c);
        g.is_some() && w.assigned_gen(a) == g && w.assigned_gen(b) == g && w.total_read() == 110
    });
    let sizes: Vec<usize> = [a, b, c].iter().map(|k| w.partitions_now(*k).len()).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 4);
    // B leaves (close: commit, LeaveGroup); A and C take its partitions.
    w.members[b].consumer.close(w.wires.now);
    w.produce(40, "d");
    w.run_until(MINUTE, "b left", |w| {
        w.members[b].consumer.is_finished()
            && w.partitions_now(a).len() + w.partitions_now(c).len() == 4
            && w.total_read() == 150
    });
    assert!(w.members[b].events.iter().any(|e| matches!(e, ConsumerEvent::Closed)));
    w.assert_exactly_once();
    assert!(w.errors().is_empty(), "{:?}", w.errors());
}

#[test]
fn an_expired_member_leaves_only_records_past_its_commit_to_be_read_again() {
    let mut w = World::new("", &[]);
    let a = w.join("g", &[]);
    let b = w.join("g", &[]);
    w.run_until(MINUTE, "two members", |w| {
        w.assigned_gen(a).is_some() && w.assigned_gen(a) == w.assigned_gen(b) && w.partitions_now(a).len() == 2
    });
    w.produce(40, "a");
    w.run_until(MINUTE, "read", |w| w.total_read() == 40);
    w.members[a].consumer.commit(w.wires.now);
    w.run_until(MINUTE, "a committed", |w| {
        w.members[a].events.iter().any(|e| matches!(e, ConsumerEvent::Committed { offsets } if !offsets.is_empty()))
    });
    let before_commit: BTreeSet<(i32, i64)> = w.read(a).iter().map(|r| (r.0, r.1)).collect();
    // More records for A after its commit, then A dies (no LeaveGroup, no more heartbeats).
    w.produce(40, "b");
    w.run_until(MINUTE, "read more", |w| w.total_read() == 80);
    let after_commit: BTreeSet<(i32, i64)> =
        w.read(a).iter().map(|r| (r.0, r.1)).filter(|r| !before_commit.contains(r)).collect();
    assert!(!after_commit.is_empty());
    w.members[a].dead = true;
    let gen_b = w.assigned_gen(b);
    // The session (6 s) expires; B takes every partition and re-reads A's uncommitted records.
    w.run_until(MINUTE, "b alone", |w| w.assigned_gen(b) > gen_b && w.partitions_now(b).len() == 4);
    w.produce(20, "c");
    w.run_until(MINUTE, "delivered", |w| w.delivered == 100);
    w.run_until(MINUTE, "b read", |w| w.log().iter().all(|r| w.counts().contains_key(r)));
    let counts = w.counts();
    let twice: BTreeSet<(i32, i64)> = counts.iter().filter(|(_, n)| **n > 1).map(|(r, _)| *r).collect();
    assert_eq!(twice, after_commit, "only what A read past its commit is read again: {:?}", w.summary());
    assert!(counts.values().all(|n| *n <= 2));
    assert!(w.errors().is_empty(), "{:?}", w.errors());
}

#[test]
fn a_new_consumer_resumes_from_the_committed_offsets() {
    let mut w = World::new("", &[]);
    w.produce(30, "a");
    let a = w.join("g", &[]);
    w.run_until(MINUTE, "a reads", |w| w.total_read() == 30);
    w.members[a].consumer.close(w.wires.now);
    w.run_until(MINUTE, "a closed", |w| w.members[a].consumer.is_finished());
    assert!(
        w.members[a].events.iter().any(|e| matches!(e, ConsumerEvent::Committed { offsets } if offsets.len() == 4))
    );
    w.produce(20, "b");
    let b = w.join("g", &[]);
    w.run_until(MINUTE, "b reads", |w| w.total_read() == 50);
    w.run_for(Duration::from_secs(5));
    let values: BTreeSet<Vec<u8>> = w.read(b).into_iter().map(|r| r.2).collect();
    let expected: BTreeSet<Vec<u8>> = (0..20).map(|i| format!("b-{i}").into_bytes()).collect();
    assert_eq!(values, expected);
    w.assert_exactly_once();
    // Another group, latest: nothing of the past; only what comes after.
    let c = w.join("h", &[("auto.offset.reset", "latest")]);
    w.run_until(MINUTE, "c assigned", |w| {
        w.assigned_gen(c).is_some() && w.members[c].consumer.assignment().iter().all(|(_, pos)| pos.is_some())
    });
    w.produce(10, "c");
    w.run_until(MINUTE, "c reads", |w| w.read(c).len() == 10);
    assert!(w.read(c).iter().all(|r| r.2.starts_with(b"c-")));
}

#[test]
fn coordinator_faults_are_retried_and_records_still_go_out_exactly_once() {
    let faults = "coordinator_move=3s,not_coordinator=0.1,coordinator_loading=0.1";
    let mut w = World::new(faults, &[]);
    let a = w.join("g", &[]);
    w.produce(30, "a");
    w.run_until(Duration::from_secs(120), "a reads", |w| w.total_read() == 30);
    // Heartbeats and commits meet the faults for a while.
    w.run_for(Duration::from_secs(15));
    let b = w.join("g", &[]);
    w.produce(30, "b");
    w.run_until(Duration::from_secs(120), "both", |w| {
        w.total_read() == 60 && w.assigned_gen(a).is_some() && w.assigned_gen(a) == w.assigned_gen(b)
    });
    for _ in 0..5 {
        w.members[a].consumer.commit(w.wires.now);
        w.run_for(Duration::from_secs(3));
    }
    w.run_until(Duration::from_secs(120), "commits answered", |w| {
        w.members[a]
            .events
            .iter()
            .filter(|e| matches!(e, ConsumerEvent::Committed { .. } | ConsumerEvent::CommitFailed { .. }))
            .count()
            >= 5
    });
    w.members[b].consumer.close(w.wires.now);
    w.produce(30, "c");
    w.run_until(Duration::from_secs(120), "b gone", |w| {
        w.members[b].consumer.is_finished() && w.partitions_now(a).len() == 4 && w.total_read() == 90
    });
    w.run_for(Duration::from_secs(10));
    w.assert_exactly_once();
    assert!(!w.members.iter().flat_map(|m| &m.events).any(|e| matches!(e, ConsumerEvent::Error(_))));
    // The faults were met: the coordinator was looked up again and again.
    let find = w.wires.sent(ApiKey::FindCoordinator, |k| k > 0);
    let stats = w.wires.cluster.stats();
    assert!(stats.coordinator_errors > 5 && stats.coordinator_moves > 5, "{stats:?}");
    assert!(find > 10, "FindCoordinator sent {find} times");
}

#[test]
fn compressed_batches_are_read_back() {
    for codec in ["zstd", "lz4", "gzip"] {
        if !crate::proto::record_batch::Compression::from_name(codec).is_some_and(|c| c.is_enabled()) {
            continue;
        }
        let mut w = World::new("", &[("compression.type", codec), ("linger.ms", "50")]);
        w.produce(200, codec);
        w.run_until(MINUTE, "delivered", |w| w.delivered == 200);
        let a = w.join("g", &[("max.partition.fetch.bytes", "600")]);
        w.run_until(MINUTE, "read", |w| w.total_read() == 200);
        w.assert_exactly_once();
        let values: BTreeSet<Vec<u8>> = w.read(a).into_iter().map(|r| r.2).collect();
        assert_eq!(values.len(), 200, "{codec}");
        assert!(values.contains(format!("{codec}-199").as_bytes()));
    }
}

#[test]
fn garbage_from_a_broker_closes_the_connection_never_panics() {
    let mut rng = crate::rand::Rng::new(9);
    for case in 0..300u64 {
        let mut c = ConsumerConfig::new("b0:9092", "g").unwrap();
        c.subscribe(TOPIC);
        let mut consumer = Consumer::new(c, Instant::ZERO).unwrap();
        consumer.handle_input(Input::Timeout(Instant::ZERO));
        let mut conn = None;
        loop {
            match consumer.poll_output() {
                ConsumerOutput::Connect { conn: id, .. } => conn = Some(id),
                ConsumerOutput::Timeout(_) => break,
                _ => {}
            }
        }
        let conn = conn.unwrap();
        consumer.handle_input(Input::Connected { now: Instant::ZERO, conn });
        // Garbage of every shape: random bytes, a frame with a wrong or right correlation id and
        // a random body, a frame claiming a huge size.
        let n = rng.below(64) as usize;
        let body: Vec<u8> = (0..n).map(|_| rng.below(256) as u8).collect();
        let bytes = match case % 3 {
            0 => body,
            1 => {
                let mut f = ((body.len() + 4) as i32).to_be_bytes().to_vec();
                f.extend(1i32.to_be_bytes()); // the first correlation id
                f.extend(body);
                f
            }
            _ => [0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1].to_vec(),
        };
        consumer.handle_input(Input::Received { now: Instant::ZERO, conn, bytes: &bytes });
        let mut closed = false;
        loop {
            match consumer.poll_output() {
                ConsumerOutput::Close { conn: c } if c == conn => closed = true,
                ConsumerOutput::Timeout(_) => break,
                _ => {}
            }
        }
        // Short random bytes may still be a partial frame; anything else closes.
        let partial =
            bytes.len() < 4 || i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize > bytes.len() - 4;
        if case % 3 == 2 {
            assert!(closed, "case {case}: a frame beyond the limit closes");
        } else if !partial {
            assert!(closed, "case {case}: garbage closes");
        }
    }
}

#[test]
fn corrupted_answers_in_a_whole_run_never_panic() {
    for seed in 0..12u64 {
        let mut w = World::new("", &[]);
        w.wires.corrupt = [0.01, 0.05, 0.2][seed as usize % 3];
        w.join("g", &[]);
        w.join("g", &[]);
        w.produce(40, "a");
        w.run_for(Duration::from_secs(60));
        // Whatever was handed out is real records (CRC-checked), each in its partition's order.
        for k in 0..2 {
            let read = w.read(k);
            for p in 0..PARTITIONS {
                let values: Vec<&Vec<u8>> = read.iter().filter(|r| r.0 == p).map(|r| &r.2).collect();
                assert!(values.iter().all(|v| v.starts_with(b"a-")));
            }
        }
    }
}

#[test]
fn leader_moves_and_broker_bounces_refresh_metadata_and_lose_nothing() {
    let mut w = World::new("leader_move=700ms,broker_bounce=4s:1s", &[]);
    let a = w.join("g", &[]);
    let b = w.join("g", &[]);
    for round in 0..4 {
        w.produce(25, &format!("r{round}"));
        w.run_until(Duration::from_secs(120), "read", |w| {
            w.delivered == 25 * (round + 1) && w.total_read() == w.delivered
        });
    }
    w.assert_exactly_once();
    assert!(w.read(a).len() + w.read(b).len() == 100);
    assert!(!w.members.iter().flat_map(|m| &m.events).any(|e| matches!(e, ConsumerEvent::Error(_))));
}

#[test]
fn auto_commit_and_a_static_member_back_in_its_place() {
    let mut w = World::new("", &[]);
    let settings = [("enable.auto.commit", "true"), ("auto.commit.interval.ms", "1000"), ("group.instance.id", "s1")];
    let a = w.join("g", &settings);
    let b = w.join("g", &[]);
    w.run_until(MINUTE, "two members", |w| {
        w.assigned_gen(a).is_some() && w.assigned_gen(a) == w.assigned_gen(b) && w.partitions_now(a).len() == 2
    });
    w.produce(40, "a");
    w.run_until(MINUTE, "read", |w| w.total_read() == 40);
    // Auto-commit runs every second: A's positions are committed without a call.
    w.run_for(Duration::from_millis(1500));
    let committed = |w: &World| {
        w.members[a].events.iter().any(|e| matches!(e, ConsumerEvent::Committed { offsets } if !offsets.is_empty()))
    };
    assert!(committed(&w));
    let a_parts = w.partitions_now(a);
    let gen_b = w.assigned_gen(b);
    // A's process dies; its replacement with the same group.instance.id takes its place within
    // the session: no rebalance (B keeps its generation and partitions), nothing read twice.
    w.members[a].dead = true;
    w.run_for(Duration::from_secs(2));
    let a2 = w.join("g", &settings);
    w.run_until(MINUTE, "back in place", |w| w.assigned_gen(a2).is_some() && !w.partitions_now(a2).is_empty());
    assert_eq!(w.partitions_now(a2), a_parts);
    assert_eq!(w.assigned_gen(b), gen_b);
    assert!(!w.members[b].events.iter().any(|e| matches!(e, ConsumerEvent::Revoked { .. })));
    w.produce(20, "b");
    w.run_until(MINUTE, "read", |w| w.delivered == 60 && w.total_read() == 60);
    w.assert_exactly_once();
}

#[test]
fn a_fatal_group_error_stops_the_consumer_and_closes_everything() {
    let mut w = World::new("", &[]);
    // Below the coordinator's group.min.session.timeout.ms (6 s): INVALID_SESSION_TIMEOUT.
    let a = w.join("g", &[("session.timeout.ms", "1000"), ("heartbeat.interval.ms", "300")]);
    w.run_until(MINUTE, "stopped", |w| w.members[a].consumer.is_finished());
    let events = &w.members[a].events;
    assert_eq!(events.last(), Some(&ConsumerEvent::Error(ConsumerError::Group(ErrorCode::INVALID_SESSION_TIMEOUT))));
    assert_eq!(w.members[a].consumer.poll_output(), ConsumerOutput::Timeout(None));
    // Its connections were closed: the cluster has only the producer's (none here).
    w.run_for(Duration::from_secs(1));
    assert_eq!(w.wires.cluster.connection_count(), 0);
}

#[test]
fn a_broker_that_never_answers_times_out_and_is_reconnected() {
    let mut c = ConsumerConfig::new("b0:9092", "g").unwrap();
    c.subscribe(TOPIC).set("request.timeout.ms", "5000").unwrap();
    let mut consumer = Consumer::new(c, Instant::ZERO).unwrap();
    let drain = |consumer: &mut Consumer| {
        let mut out = Vec::new();
        loop {
            match consumer.poll_output() {
                ConsumerOutput::Timeout(t) => return (out, t),
                o => out.push(o),
            }
        }
    };
    let (out, t) = drain(&mut consumer);
    assert!(out.is_empty());
    assert_eq!(t, Some(Instant::ZERO));
    consumer.handle_input(Input::Timeout(Instant::ZERO));
    let (out, _) = drain(&mut consumer);
    let [ConsumerOutput::Connect { conn, .. }] = out[..] else { panic!("{out:?}") };
    consumer.handle_input(Input::Connected { now: Instant::ZERO, conn });
    let (out, t) = drain(&mut consumer);
    assert!(matches!(out[..], [ConsumerOutput::Transmit { .. }]), "ApiVersions first: {out:?}");
    assert_eq!(t, Some(Instant::from_millis(5000)));
    // No answer within request.timeout.ms: closed, then a new connection after the backoff.
    consumer.handle_input(Input::Timeout(Instant::from_millis(5000)));
    let (out, t) = drain(&mut consumer);
    assert_eq!(out, [ConsumerOutput::Close { conn }]);
    let t = t.unwrap();
    assert!(t > Instant::from_millis(5000) && t <= Instant::from_millis(5100), "{t:?}");
    consumer.handle_input(Input::Timeout(t));
    let (out, _) = drain(&mut consumer);
    assert!(matches!(&out[..], [ConsumerOutput::Connect { conn: c2, .. }] if c2.0 == conn.0 + 1), "{out:?}");
    // A late input about the closed connection is ignored.
    consumer.handle_input(Input::Received { now: t, conn, bytes: &[0, 0, 0, 4, 0, 0, 0, 1] });
    assert!(drain(&mut consumer).0.is_empty());
}

#[test]
fn broker_restarts_move_coordinators_and_records_still_go_out_exactly_once() {
    let mut w = World::new("restart=3s", &[]);
    let a = w.join("g", &[]);
    let b = w.join("g", &[]);
    for round in 0..3 {
        w.produce(20, &format!("r{round}"));
        w.run_until(Duration::from_secs(120), "read", |w| {
            w.delivered == 20 * (round + 1) && w.total_read() == w.delivered
        });
        w.run_for(Duration::from_secs(8));
    }
    w.members[a].consumer.close(w.wires.now);
    w.produce(20, "last");
    w.run_until(Duration::from_secs(120), "a gone", |w| {
        w.members[a].consumer.is_finished()
            && w.delivered == 80
            && w.total_read() == 80
            && w.partitions_now(b).len() == 4
    });
    w.assert_exactly_once();
    assert!(!w.members.iter().flat_map(|m| &m.events).any(|e| matches!(e, ConsumerEvent::Error(_))));
    let find = w.wires.sent(ApiKey::FindCoordinator, |k| k > 0);
    assert!(w.wires.cluster.stats().restarts >= 5, "{:?}", w.wires.cluster.stats());
    assert!(find > 2, "FindCoordinator sent {find} times");
}

#[test]
fn many_seeds_of_joins_leaves_and_faults_hand_out_each_record_once() {
    sweep("coordinator_move=2s,not_coordinator=0.05,coordinator_loading=0.05,leader_move=1s,delay=0..30ms:0.3");
}

#[test]
fn many_seeds_of_joins_leaves_and_broker_restarts_hand_out_each_record_once() {
    sweep("restart=3s,broker_bounce=5s:1s,delay=0..30ms:0.3");
}

/// How long a member joining a healthy group under the sweeps' coordinator faults may take to
/// be assigned: the members in the group learn of the rebalance at their next heartbeat
/// (`heartbeat.interval.ms`, 1 s here); a coordinator error on the way costs one rediscovery
/// after at most `retry.backoff.max.ms` (1 s) for the joining member and one for the members
/// rejoining; and a coordinator move or broker restart (every 2 s or 3 s in the sweeps) may
/// interrupt the rebalance once more, costing a fault period. 1 + 2 x 1 + 3 = 6 s, which is
/// also `session.timeout.ms`: a join slower than a session means the rebalance waited for
/// something other than the members' liveness.
const JOIN_BOUND: Duration = Duration::from_secs(6);

/// Three members join one by one while records come, one leaves; under `faults`, for many
/// seeds: each record is handed out exactly once across the group, nothing fatal, and the
/// third member is assigned within [`JOIN_BOUND`] of its start.
fn sweep(faults: &str) {
    // IDEM_CONSUMER_SEEDS=N runs more (1500 pass; 48 take about 2 s in a debug build).
    let seeds = std::env::var("IDEM_CONSUMER_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(48u64);
    for seed in 0..seeds {
        let mut w = World::seeded(seed, faults, &[]);
        let a = w.join("g", &[]);
        w.produce(20, "a");
        w.run_for(Duration::from_millis(300 * (seed % 5)));
        let b = w.join("g", &[]);
        w.produce(20, "b");
        w.run_for(Duration::from_secs(2 + seed % 3));
        let c = w.join("g", &[]);
        w.produce(20, "c");
        // Liveness: the third member is assigned while the other two are still there, within
        // JOIN_BOUND of its start (not only once a leave forces a rebalance).
        w.run_until(JOIN_BOUND, &format!("{faults}, seed {seed}: the third member assigned"), |w| {
            w.assigned_gen(c).is_some()
        });
        w.run_for(Duration::from_secs(seed % 4));
        w.members[b].consumer.close(w.wires.now);
        w.produce(20, "d");
        w.run_until(Duration::from_secs(300), &format!("seed {seed}"), |w| {
            w.delivered == 80
                && w.members[b].consumer.is_finished()
                && w.partitions_now(a).len() + w.partitions_now(c).len() == 4
                && w.total_read() == 80
        });
        w.run_for(Duration::from_secs(5));
        w.assert_exactly_once_in(&format!("{faults}, seed {seed}"));
        let fatal: Vec<_> =
            w.members.iter().flat_map(|m| &m.events).filter(|e| matches!(e, ConsumerEvent::Error(_))).collect();
        assert!(fatal.is_empty(), "seed {seed}: {fatal:?}");
    }
}

#[test]
fn the_leader_rejoins_when_a_subscribed_topic_appears() {
    let mut w = World::new("", &[]);
    let mut config = ConsumerConfig::new("b0:9092", "g").unwrap();
    config.subscribe(TOPIC).subscribe("late");
    config.set("session.timeout.ms", "6000").unwrap().set("heartbeat.interval.ms", "1000").unwrap();
    config.set("allow.auto.create.topics", "false").unwrap();
    let a = w.members.len();
    w.members.push(Member { consumer: Consumer::new(config, w.wires.now).unwrap(), events: Vec::new(), dead: false });
    w.produce(10, "a");
    w.run_until(MINUTE, "read", |w| w.total_read() == 10);
    assert_eq!(w.partitions_now(a).len(), 4, "the missing topic is not assigned");
    // The topic appears; the leader notices on a metadata refresh and rejoins.
    assert!(w.wires.cluster.create_topic("late", 2).unwrap());
    w.run_until(MINUTE, "reassigned", |w| w.partitions_now(a).len() == 6);
    let record = ProducerRecord {
        topic: "late",
        partition: Some(1),
        key: None,
        value: Some(b"late-0"),
        headers: &[],
        timestamp_ms: 0,
    };
    w.producer.send(w.wires.now, &record).unwrap();
    w.producer.flush(w.wires.now);
    let got_late = |w: &World| {
        w.members[a]
            .events
            .iter()
            .any(|e| matches!(e, ConsumerEvent::Records { topic, partition: 1, .. } if topic == "late"))
    };
    w.run_until(MINUTE, "late read", got_late);
    w.assert_exactly_once();
}

#[test]
fn a_consumer_can_move_to_another_thread() {
    fn send<T: Send + Sync>() {}
    send::<Consumer>();
    send::<ConsumerOutput>();
}

#[test]
fn many_seeds_of_a_member_dying_re_read_only_past_its_last_commit() {
    // 16 seeds take about 4 s in a debug build; IDEM_CONSUMER_SEEDS=300 passes.
    let seeds = std::env::var("IDEM_CONSUMER_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(16u64);
    for seed in 0..seeds {
        let what = format!("seed {seed}");
        let mut w = World::seeded(seed, "delay=0..30ms:0.3", &[]);
        let a = w.join("g", &[]);
        w.produce(30, "a");
        w.run_for(Duration::from_millis(100 + 137 * (seed % 11)));
        let b = w.join("g", &[]);
        w.produce(30, "b");
        w.run_for(Duration::from_millis(500 + 211 * (seed % 13)));
        w.members[a].consumer.commit(w.wires.now);
        w.run_for(Duration::from_millis(7 * (seed % 50)));
        w.produce(30, "c");
        w.run_for(Duration::from_millis(300 + 97 * (seed % 7)));
        // A dies here, whatever it was doing.
        w.members[a].dead = true;
        w.produce(30, "d");
        w.run_until(Duration::from_secs(120), &what, |w| {
            w.delivered == 120 && w.partitions_now(b).len() == 4 && w.log().iter().all(|r| w.counts().contains_key(r))
        });
        // What A knew to be committed, per partition (the highest of its Committed events).
        let mut committed: BTreeMap<i32, i64> = BTreeMap::new();
        for e in &w.members[a].events {
            if let ConsumerEvent::Committed { offsets } = e {
                for ((_, p), o) in offsets {
                    let c = committed.entry(*p).or_insert(*o);
                    *c = (*c).max(*o);
                }
            }
        }
        let a_read: BTreeSet<(i32, i64)> = w.read(a).iter().map(|r| (r.0, r.1)).collect();
        for ((p, o), n) in w.counts() {
            if n > 1 {
                assert_eq!(n, 2, "{what}: ({p}, {o}) read {n} times");
                assert!(a_read.contains(&(p, o)), "{what}: ({p}, {o}) read twice, not by the dead member");
                assert!(committed.get(&p).is_none_or(|c| o >= *c), "{what}: ({p}, {o}) was committed at {committed:?}");
            }
        }
        let errors: Vec<_> = w.members[b].events.iter().filter(|e| matches!(e, ConsumerEvent::Error(_))).collect();
        assert!(errors.is_empty(), "{what}: {errors:?}");
    }
}

/// A transactional producer the test drives by hand, one KIP-98 request at a time
/// (InitProducerId, AddPartitionsToTxn, Produce, EndTxn), as the Java client's
/// `TransactionManager` would send them.
struct Txn {
    /// Its transactional id.
    id: &'static str,
    /// The producer id InitProducerId gave.
    producer_id: i64,
    /// The producer epoch InitProducerId gave.
    producer_epoch: i16,
    /// The next sequence number of each partition it wrote to (kept across transactions).
    sequences: BTreeMap<i32, i32>,
    /// The partitions of the ongoing transaction.
    partitions: BTreeSet<i32>,
}

impl World {
    /// The broker coordinating the transactional id `id`.
    fn txn_coordinator(&self, id: &str) -> i32 {
        self.wires.cluster.groups.placement.coordinator(id, &self.wires.cluster.live_brokers()).unwrap()
    }

    /// InitProducerId for the transactional id `id`.
    fn init_txn(&mut self, id: &'static str) -> Txn {
        use crate::proto::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
        let req =
            InitProducerIdRequest { transactional_id: Some(id), transaction_timeout_ms: 600_000, ..Default::default() };
        let body = self.request(self.txn_coordinator(id), 4, &req);
        let r: InitProducerIdResponse = crate::broker::test_util::decode(&body, 1, 4);
        assert_eq!(ErrorCode(r.error_code), ErrorCode::NONE);
        Txn {
            id,
            producer_id: r.producer_id,
            producer_epoch: r.producer_epoch,
            sequences: BTreeMap::new(),
            partitions: BTreeSet::new(),
        }
    }

    /// Produces one batch of `values` to `partition`: transactional (after AddPartitionsToTxn)
    /// for `txn`, a plain one without a producer id for `None`.
    fn send_batch(&mut self, txn: Option<&mut Txn>, partition: i32, values: &[&str]) {
        use crate::proto::add_partitions_to_txn::{
            AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, AddPartitionsToTxnTopic,
        };
        use crate::proto::produce::{PartitionProduceData, ProduceRequest, ProduceResponse, TopicProduceData};
        use crate::proto::record_batch::{ATTR_TRANSACTIONAL, RecordBatchBuilder};
        let mut b = RecordBatchBuilder::new(1_700_000_000_000);
        for v in values {
            b.append(1_700_000_000_000, None, Some(v.as_bytes()), &[]).unwrap();
        }
        let (records, transactional_id) = match txn {
            Some(t) => {
                let req = AddPartitionsToTxnRequest {
                    transactional_id: t.id,
                    producer_id: t.producer_id,
                    producer_epoch: t.producer_epoch,
                    topics: vec![AddPartitionsToTxnTopic { name: TOPIC, partitions: vec![partition] }],
                };
                let body = self.request(self.txn_coordinator(t.id), 3, &req);
                let r: AddPartitionsToTxnResponse = crate::broker::test_util::decode(&body, 1, 3);
                let code = r.results_by_topic[0].results_by_partition[0].partition_error_code;
                assert_eq!(ErrorCode(code), ErrorCode::NONE);
                t.partitions.insert(partition);
                let sequence = t.sequences.entry(partition).or_default();
                let stamp = ProducerStamp {
                    producer_id: t.producer_id,
                    producer_epoch: t.producer_epoch,
                    base_sequence: *sequence,
                };
                *sequence += values.len() as i32;
                (b.seal_flagged(stamp, ATTR_TRANSACTIONAL), Some(t.id))
            }
            None => (b.seal(ProducerStamp::NONE), None),
        };
        let req = ProduceRequest {
            transactional_id,
            acks: -1,
            timeout_ms: 30_000,
            topic_data: vec![TopicProduceData {
                name: TOPIC,
                partition_data: vec![PartitionProduceData { index: partition, records: Some(&records) }],
            }],
        };
        let leader = self.wires.cluster.leader(TOPIC, partition).unwrap();
        let body = self.request(leader, 9, &req);
        let r: ProduceResponse = crate::broker::test_util::decode(&body, 1, 9);
        assert_eq!(ErrorCode(r.responses[0].partition_responses[0].error_code), ErrorCode::NONE);
    }

    /// EndTxn, committing or aborting `txn`; returns once its markers are in every partition.
    fn end_txn(&mut self, txn: &mut Txn, commit: bool) {
        use crate::proto::end_txn::{EndTxnRequest, EndTxnResponse};
        let req = EndTxnRequest {
            transactional_id: txn.id,
            producer_id: txn.producer_id,
            producer_epoch: txn.producer_epoch,
            committed: commit,
        };
        let body = self.request(self.txn_coordinator(txn.id), 3, &req);
        let r: EndTxnResponse = crate::broker::test_util::decode(&body, 1, 3);
        assert_eq!(ErrorCode(r.error_code), ErrorCode::NONE);
        let ends: Vec<i64> = txn.partitions.iter().map(|&p| self.log_end(p)).collect();
        self.run_until(MINUTE, "markers written", |w| {
            txn.partitions.iter().zip(&ends).all(|(&p, &end)| w.log_end(p) > end)
        });
        txn.partitions.clear();
    }

    /// The log end offset of partition `p`.
    fn log_end(&self, p: i32) -> i64 {
        self.wires.cluster.partition_log(TOPIC, p).map_or(0, |l| l.log_end_offset())
    }

    /// The values a member handed out, in order.
    fn values(&self, k: usize) -> Vec<String> {
        self.read(k).into_iter().map(|(_, _, v)| String::from_utf8(v).unwrap()).collect()
    }

    /// A member's position in partition `p`, if known.
    fn position(&self, k: usize, p: i32) -> Option<i64> {
        self.members[k].consumer.assignment().into_iter().find(|((_, q), _)| *q == p).and_then(|(_, pos)| pos)
    }
}

#[test]
fn read_committed_hands_out_committed_records_only_and_never_a_marker() {
    let mut w = World::new("", &[]);
    let mut a = w.init_txn("a");
    let mut b = w.init_txn("b");
    // Partition 0: a's aborted transaction interleaved with b's committed one, a plain record
    // between, a's next transaction committed, then b's third left open.
    w.send_batch(Some(&mut a), 0, &["a1-0", "a1-1", "a1-2"]); // 0-2
    w.send_batch(Some(&mut b), 0, &["b1-0", "b1-1"]); // 3-4
    w.end_txn(&mut a, false); // ABORT at 5
    w.send_batch(None, 0, &["plain"]); // 6
    w.end_txn(&mut b, true); // COMMIT at 7
    w.send_batch(Some(&mut a), 0, &["a2-0", "a2-1"]); // 8-9
    w.send_batch(Some(&mut a), 1, &["a2-2"]); // partition 1: 0
    w.end_txn(&mut a, true); // COMMIT at 10 (and at 1 in partition 1)
    w.send_batch(Some(&mut b), 0, &["b2-0"]); // 11, open
    assert_eq!(w.log_end(0), 12);
    let rc = w.join("rc", &[("isolation.level", "read_committed")]);
    let ru = w.join("ru", &[]);
    // From `latest`: read_committed starts at the last stable offset, before the open
    // transaction (ListOffsets READ_COMMITTED), read_uncommitted at the log end.
    let rc_latest = w.join("rc-latest", &[("isolation.level", "read_committed"), ("auto.offset.reset", "latest")]);
    let ru_latest = w.join("ru-latest", &[("auto.offset.reset", "latest")]);
    let committed = ["b1-0", "b1-1", "plain", "a2-0", "a2-1", "a2-2"];
    let everything = ["a1-0", "a1-1", "a1-2", "b1-0", "b1-1", "plain", "a2-0", "a2-1", "a2-2", "b2-0"];
    w.run_until(MINUTE, "read", |w| w.values(rc).len() >= committed.len() && w.values(ru).len() >= everything.len());
    w.run_for(Duration::from_secs(5));
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let sorted_str = |v: &[&str]| sorted(v.iter().map(|s| s.to_string()).collect());
    assert_eq!(sorted(w.values(rc)), sorted_str(&committed));
    assert_eq!(sorted(w.values(ru)), sorted_str(&everything));
    // Offsets: no marker (5, 7, 10 of partition 0; 1 of partition 1) handed out.
    let offsets = |w: &World, k: usize| w.read(k).into_iter().map(|(p, o, _)| (p, o)).collect::<Vec<_>>();
    assert_eq!(offsets(&w, rc), [(0, 3), (0, 4), (0, 6), (0, 8), (0, 9), (1, 0)]);
    assert_eq!(offsets(&w, ru), [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (0, 6), (0, 8), (0, 9), (0, 11), (1, 0)]);
    // read_committed stops at the last stable offset (b's open transaction); read_uncommitted
    // is past it; both past the marker of partition 1.
    assert_eq!(
        (w.position(rc, 0), w.position(ru, 0), w.position(rc, 1), w.position(ru, 1)),
        (Some(11), Some(12), Some(2), Some(2))
    );
    assert_eq!((w.position(rc_latest, 0), w.position(ru_latest, 0)), (Some(11), Some(12)));
    assert!(w.read(rc_latest).is_empty() && w.read(ru_latest).is_empty());
    // b aborts: none hands out anything more, every position moves past the marker.
    w.end_txn(&mut b, false); // ABORT at 12
    w.run_until(MINUTE, "past the marker", |w| {
        [rc, ru, rc_latest, ru_latest].iter().all(|&k| w.position(k, 0) == Some(13))
    });
    w.run_for(Duration::from_secs(5));
    assert_eq!(offsets(&w, rc).len(), committed.len());
    assert_eq!(offsets(&w, ru).len(), everything.len());
    assert!(w.read(rc_latest).is_empty() && w.read(ru_latest).is_empty(), "a marker handed out");
    // The commit is of the positions past the markers: nothing is fetched again.
    w.members[rc].consumer.commit(w.wires.now);
    w.run_until(MINUTE, "committed", |w| {
        w.members[rc].events.iter().any(|e| matches!(e, ConsumerEvent::Committed { offsets } if !offsets.is_empty()))
    });
    let stored = w.members[rc].events.iter().find_map(|e| match e {
        ConsumerEvent::Committed { offsets } if !offsets.is_empty() => Some(offsets.clone()),
        _ => None,
    });
    let stored: BTreeMap<(String, i32), i64> = stored.unwrap().into_iter().collect();
    assert_eq!((stored.get(&(TOPIC.to_string(), 0)), stored.get(&(TOPIC.to_string(), 1))), (Some(&13), Some(&2)));
    assert!(w.errors().is_empty(), "{:?}", w.errors());
}

/// Steps until the producer reports the end of `op`; returns its result.
fn txn_done(w: &mut World, op: TransactionOp) -> Result<(), TransactionError> {
    w.run_until(MINUTE, &format!("{op}"), |w| w.txn.iter().any(|(o, _)| *o == op));
    let i = w.txn.iter().position(|(o, _)| *o == op).unwrap();
    w.txn.remove(i).1
}

/// Exactly-once processing (KIP-98, KIP-447): a member reads committed input, and a
/// transactional producer writes its output and the member's offsets in one transaction; the
/// output is read_committed exactly once and the offsets are the positions after the input.
/// A zombie (the member's metadata from before a rebalance) cannot commit offsets: its
/// transaction turns abortable, and the abort leaves neither output nor offsets behind.
#[test]
fn consume_transform_produce_commits_output_and_offsets_together() {
    let mut w = World::new("", &[("transactional.id", "ctp")]);
    assert!(w.wires.cluster.create_topic("out", 2).unwrap());
    w.producer.init_transactions(w.wires.now).unwrap();
    assert_eq!(txn_done(&mut w, TransactionOp::Init), Ok(()));
    // The input, itself committed in a transaction.
    w.producer.begin_transaction().unwrap();
    w.produce(40, "a");
    w.producer.commit_transaction(w.wires.now).unwrap();
    assert_eq!(txn_done(&mut w, TransactionOp::Commit), Ok(()));
    let settings = [("isolation.level", "read_committed"), ("enable.auto.commit", "false")];
    let a = w.join("g", &settings);
    w.run_until(MINUTE, "input read", |w| w.read(a).len() == 40);
    let stale = w.members[a].consumer.group_metadata();
    assert!(stale.generation_id > 0 && !stale.member_id.is_empty());
    // Transform and produce, with the offsets, in one transaction.
    let input = w.read(a);
    w.producer.begin_transaction().unwrap();
    let mut next: BTreeMap<i32, i64> = BTreeMap::new();
    for (p, offset, value) in &input {
        let out = [b"x-".as_slice(), value].concat();
        let r = ProducerRecord {
            topic: "out",
            partition: None,
            key: None,
            value: Some(&out),
            headers: &[],
            timestamp_ms: 0,
        };
        w.producer.send(w.wires.now, &r).unwrap();
        let n = next.entry(*p).or_default();
        *n = (*n).max(offset + 1);
    }
    let offsets: Vec<TxnOffset<'_>> =
        next.iter().map(|(p, o)| TxnOffset { topic: TOPIC, partition: *p, offset: *o }).collect();
    w.producer.send_offsets_to_transaction(w.wires.now, &offsets, &stale).unwrap();
    assert_eq!(txn_done(&mut w, TransactionOp::SendOffsets), Ok(()));
    w.producer.commit_transaction(w.wires.now).unwrap();
    assert_eq!(txn_done(&mut w, TransactionOp::Commit), Ok(()));
    w.run_for(Duration::from_millis(100));
    let out = |w: &World| -> Vec<String> {
        let mut v: Vec<String> = (0..2)
            .flat_map(|p| w.wires.cluster.partition_log("out", p).unwrap().read_committed().unwrap())
            .map(|(_, v)| String::from_utf8(v.unwrap()).unwrap())
            .collect();
        v.sort();
        v
    };
    let mut want: Vec<String> = (0..40).map(|i| format!("x-a-{i}")).collect();
    want.sort();
    assert_eq!(out(&w), want, "each output record once");
    for (p, o) in &next {
        assert_eq!(w.wires.cluster.committed_offset("g", TOPIC, *p), Some(*o), "partition {p}'s offset");
    }
    // A second member joins: a new generation; the first member's old metadata is a zombie's.
    let b = w.join("g", &settings);
    w.run_until(MINUTE, "rebalanced", |w| {
        w.members[b].consumer.generation() > stale.generation_id
            && w.members[a].consumer.generation() == w.members[b].consumer.generation()
    });
    w.producer.begin_transaction().unwrap();
    let r = ProducerRecord {
        topic: "out",
        partition: Some(0),
        key: None,
        value: Some(b"zombie"),
        headers: &[],
        timestamp_ms: 0,
    };
    w.producer.send(w.wires.now, &r).unwrap();
    let zombie_offsets = [TxnOffset { topic: TOPIC, partition: 0, offset: 1_000 }];
    w.producer.send_offsets_to_transaction(w.wires.now, &zombie_offsets, &stale).unwrap();
    let result = txn_done(&mut w, TransactionOp::SendOffsets);
    assert_eq!(
        result,
        Err(TransactionError::Abortable(crate::producer::AbortableError::Broker(
            crate::proto::ErrorCode::ILLEGAL_GENERATION
        )))
    );
    w.producer.abort_transaction(w.wires.now).unwrap();
    assert_eq!(txn_done(&mut w, TransactionOp::Abort), Ok(()));
    w.run_for(Duration::from_millis(100));
    assert_eq!(out(&w), want, "nothing of the zombie's transaction");
    // (The members' own commit before the rebalance may have moved it past the COMMIT marker.)
    let offset = w.wires.cluster.committed_offset("g", TOPIC, 0);
    assert!(offset.is_some_and(|o| o < 1_000), "the zombie's offset not committed: {offset:?}");
}
