//! The transactional producer against idem's in-memory cluster (transactions v1), in virtual
//! time: producers driven by the drain rule, bytes carried whole and in order, and what a
//! `read_committed` consumer would read taken from the partition logs.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::broker::{self, BrokerAddress, BrokerInput, BrokerOutput, Cluster, ClusterConfig, FaultSpec, TopicConfig};
use crate::producer::{ConfigError, Input, ProducerConfig, ProducerRecord, SendError};
use crate::proto::ApiKey;
use crate::time::Duration;

const TOPIC: &str = "t";
const PARTITIONS: i32 = 4;

/// What travels: a connection opening (to a broker), bytes, a connection ending.
#[derive(Debug)]
enum Wire {
    Open(i32),
    Bytes(Vec<u8>),
    Gone,
}

/// One producer and what it reported.
struct Client {
    producer: Producer,
    /// Values of records reported delivered, and failed.
    delivered: Vec<String>,
    failed: Vec<(String, DeliveryError)>,
    /// Ends of transactional operations.
    txn: Vec<(TransactionOp, Result<(), TransactionError>)>,
    fatal: Option<FatalError>,
    /// The value of each record id.
    values: Vec<String>,
}

struct World {
    now: Instant,
    cluster: Cluster,
    clients: Vec<Client>,
    to_cluster: VecDeque<(u64, Wire)>,
    to_clients: VecDeque<(u64, Wire)>,
    /// Requests of this API key are held back (not delivered) while set.
    hold: Option<ApiKey>,
    held: Vec<(u64, Wire)>,
    /// Requests delivered to the cluster, per API key.
    sent: BTreeMap<i16, usize>,
}

/// The global connection id of client `k`'s connection `c`.
fn global(k: usize, c: ConnId) -> u64 {
    ((k as u64) << 32) | c.0
}

impl World {
    fn new(seed: u64, faults: &str) -> World {
        let brokers = (0..3).map(|i| BrokerAddress { node_id: i, host: format!("b{i}"), port: 9092 }).collect();
        let config = ClusterConfig {
            brokers,
            topics: vec![TopicConfig { name: TOPIC.into(), partitions: PARTITIONS }],
            faults: FaultSpec::parse(faults).unwrap(),
            seed,
            ..ClusterConfig::default()
        };
        World {
            now: Instant::ZERO,
            cluster: Cluster::new(config, Instant::ZERO).unwrap(),
            clients: Vec::new(),
            to_cluster: VecDeque::new(),
            to_clients: VecDeque::new(),
            hold: None,
            held: Vec::new(),
            sent: BTreeMap::new(),
        }
    }

    /// Delivers the requests held back, and holds no more.
    fn release(&mut self) {
        self.hold = None;
        for h in core::mem::take(&mut self.held).into_iter().rev() {
            self.to_cluster.push_front(h);
        }
    }

    /// Adds a producer with transactional id `id`; returns its index.
    fn producer(&mut self, id: &str, settings: &[(&str, &str)]) -> usize {
        let mut c = ProducerConfig::new("b0:9092,b1:9092").unwrap().transactional(id, Duration::from_secs(60));
        c.set("idem.seed", &format!("{}", self.clients.len() + 7)).unwrap();
        c.set("linger.ms", "2").unwrap();
        for (k, v) in settings {
            c.set(k, v).unwrap();
        }
        let producer = Producer::new(c, self.now).unwrap();
        self.clients.push(Client {
            producer,
            delivered: Vec::new(),
            failed: Vec::new(),
            txn: Vec::new(),
            fatal: None,
            values: Vec::new(),
        });
        self.clients.len() - 1
    }

    /// Sends `n` records tagged `tag` from client `k`.
    fn send(&mut self, k: usize, tag: &str, n: usize) -> Result<(), SendError> {
        let now = self.now;
        let c = &mut self.clients[k];
        for i in 0..n {
            let value = format!("{tag}-{i}");
            let record = ProducerRecord {
                topic: TOPIC,
                partition: None,
                key: Some(value.as_bytes()),
                value: Some(value.as_bytes()),
                headers: &[],
                timestamp_ms: 1_700_000_000_000,
            };
            let id = c.producer.send(now, &record)?;
            assert_eq!(id.0 as usize, c.values.len());
            c.values.push(value);
        }
        Ok(())
    }

    /// Drains every machine; returns the earliest deadline.
    fn drain(&mut self) -> Option<Instant> {
        let mut deadline: Option<Instant> = None;
        let mut earliest = |t: Option<Instant>| {
            if let Some(t) = t {
                deadline = Some(deadline.map_or(t, |d: Instant| d.min(t)));
            }
        };
        for (k, c) in self.clients.iter_mut().enumerate() {
            loop {
                match c.producer.poll_output() {
                    Output::Connect { conn, host, .. } => {
                        let broker = host.trim_start_matches('b').parse().unwrap();
                        self.to_cluster.push_back((global(k, conn), Wire::Open(broker)))
                    }
                    Output::Transmit { conn, data } => {
                        self.to_cluster.push_back((global(k, conn), Wire::Bytes(data.to_vec())))
                    }
                    Output::Close { conn } => self.to_cluster.push_back((global(k, conn), Wire::Gone)),
                    Output::Event(Event::Delivered { id, .. }) => c.delivered.push(c.values[id.0 as usize].clone()),
                    Output::Event(Event::Failed { id, error, .. }) => {
                        c.failed.push((c.values[id.0 as usize].clone(), error))
                    }
                    Output::Event(Event::Transaction { op, result }) => c.txn.push((op, result)),
                    Output::Event(Event::Fatal(e)) => c.fatal = Some(e),
                    Output::Diagnostic(_) => {}
                    Output::Timeout(t) => {
                        earliest(t);
                        break;
                    }
                }
            }
        }
        loop {
            match self.cluster.poll_output() {
                BrokerOutput::Transmit { conn, data } => self.to_clients.push_back((conn.0, Wire::Bytes(data))),
                BrokerOutput::Close { conn } => self.to_clients.push_back((conn.0, Wire::Gone)),
                BrokerOutput::Timeout(t) => {
                    earliest(t);
                    break;
                }
                _ => {}
            }
        }
        deadline
    }

    /// One fact in; false if nothing is left to happen.
    fn step(&mut self) -> bool {
        self.step_within(None)
    }

    /// Runs for `d` of virtual time (never past it).
    fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        while self.step_within(Some(end)) {}
        self.now = self.now.max(end);
    }

    /// One fact in, time moving at most to `limit`; false if nothing is left to happen by then.
    fn step_within(&mut self, limit: Option<Instant>) -> bool {
        let deadline = self.drain();
        let now = self.now;
        if let Some((id, wire)) = self.to_cluster.pop_front() {
            let conn = broker::ConnId(id);
            match wire {
                Wire::Open(b) => {
                    self.cluster.handle_input(BrokerInput::Accepted { now, conn, broker_id: b });
                    self.to_clients.push_back((id, Wire::Open(b)));
                }
                Wire::Bytes(bytes) => {
                    let key = i16::from_be_bytes([bytes[4], bytes[5]]);
                    if self.hold.is_some_and(|h| h.as_i16() == key) {
                        self.held.push((id, Wire::Bytes(bytes)));
                        return true;
                    }
                    *self.sent.entry(key).or_default() += 1;
                    self.cluster.handle_input(BrokerInput::Received { now, conn, bytes: &bytes })
                }
                Wire::Gone => self.cluster.handle_input(BrokerInput::Closed { now, conn }),
            }
            return true;
        }
        if let Some((id, wire)) = self.to_clients.pop_front() {
            let (k, conn) = ((id >> 32) as usize, ConnId(id & 0xffff_ffff));
            let input = match &wire {
                Wire::Open(_) => Input::Connected { now, conn },
                Wire::Bytes(b) => Input::Received { now, conn, bytes: b },
                Wire::Gone => Input::Disconnected { now, conn },
            };
            self.clients[k].producer.handle_input(input);
            return true;
        }
        let Some(next) = deadline.filter(|d| limit.is_none_or(|l| *d <= l)) else { return false };
        self.now = self.now.max(next);
        let now = self.now;
        for c in &mut self.clients {
            c.producer.handle_input(Input::Timeout(now));
        }
        self.cluster.handle_input(BrokerInput::Timeout(now));
        true
    }

    /// Steps until client `k` reports the end of `op`; returns its result.
    fn until_done(&mut self, k: usize, op: TransactionOp) -> Result<(), TransactionError> {
        let end = self.now + Duration::from_secs(120);
        loop {
            self.drain();
            if let Some(i) = self.clients[k].txn.iter().position(|(o, _)| *o == op) {
                return self.clients[k].txn.remove(i).1;
            }
            assert!(self.now <= end, "{op}: no result within 120 s");
            assert!(self.step(), "{op}: nothing left to happen");
        }
    }

    /// Values a read_committed consumer reads, over every partition.
    fn committed(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in 0..PARTITIONS {
            let log = self.cluster.partition_log(TOPIC, p).unwrap();
            for (_, v) in log.read_committed().unwrap() {
                out.push(String::from_utf8(v.unwrap()).unwrap());
            }
        }
        out.sort();
        out
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Values `tag-0` .. `tag-{n-1}`.
fn tagged(tag: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{tag}-{i}")).collect()
}

/// Commits, aborts and commits again; `read_committed` sees the commits only, each record
/// once, and the aborted records are never read.
fn commit_abort_commit(faults: &str, seed: u64) -> World {
    let mut w = World::new(seed, faults);
    let p = w.producer("tx", &[]);
    w.clients[p].producer.init_transactions(w.now).unwrap();
    assert_eq!(w.until_done(p, TransactionOp::Init), Ok(()));
    let mut expected = Vec::new();
    for (round, commit) in [true, false, true, true, false, true].into_iter().enumerate() {
        let tag = format!("r{round}");
        w.clients[p].producer.begin_transaction().unwrap();
        w.send(p, &tag, 40).unwrap();
        // Some time passes: batches go out before the end.
        w.run_for(Duration::from_millis(30));
        if commit {
            w.clients[p].producer.commit_transaction(w.now).unwrap();
            assert_eq!(w.until_done(p, TransactionOp::Commit), Ok(()), "round {round}");
            expected.extend(tagged(&tag, 40));
        } else {
            w.clients[p].producer.abort_transaction(w.now).unwrap();
            assert_eq!(w.until_done(p, TransactionOp::Abort), Ok(()), "round {round}");
        }
    }
    let c = &w.clients[p];
    assert_eq!(c.fatal, None);
    assert!(!c.producer.has_pending());
    assert!(
        c.failed.iter().all(|(_, e)| *e == DeliveryError::TransactionAborted),
        "only aborted records fail: {:?}",
        c.failed
    );
    // Markers are written a few ms after EndTxn.
    w.cluster.handle_input(BrokerInput::Timeout(w.now + Duration::from_millis(50)));
    assert_eq!(w.committed(), sorted(expected));
    w
}

#[test]
fn commits_and_aborts_are_read_committed_exactly() {
    let w = commit_abort_commit("", 1);
    assert_eq!(w.sent.get(&ApiKey::FindCoordinator.as_i16()), Some(&1), "the coordinator found once");
}

#[test]
fn commits_and_aborts_survive_coordinator_faults() {
    let mut lookups = 0;
    for seed in 1..=8 {
        let w = commit_abort_commit(
            "delay=1..20ms:10%,coordinator_move=300ms,not_coordinator=5%,coordinator_loading=5%,leader_move=400ms",
            seed,
        );
        lookups += w.sent.get(&ApiKey::FindCoordinator.as_i16()).copied().unwrap_or(0);
    }
    assert!(lookups > 8 * 2, "the faults moved the coordinator: {lookups} lookups");
}

#[test]
fn a_new_producer_fences_the_old_one_which_writes_nothing_after() {
    let mut w = World::new(3, "");
    let old = w.producer("tx", &[]);
    w.clients[old].producer.init_transactions(w.now).unwrap();
    assert_eq!(w.until_done(old, TransactionOp::Init), Ok(()));
    w.clients[old].producer.begin_transaction().unwrap();
    w.send(old, "old", 10).unwrap();
    w.run_for(Duration::from_millis(50));
    // The new instance takes over: its InitProducerId aborts the old open transaction.
    let new = w.producer("tx", &[]);
    w.clients[new].producer.init_transactions(w.now).unwrap();
    assert_eq!(w.until_done(new, TransactionOp::Init), Ok(()));
    // The zombie goes on: more records, then a commit, all refused.
    w.send(old, "zombie", 10).unwrap();
    w.clients[old].producer.commit_transaction(w.now).unwrap();
    let result = w.until_done(old, TransactionOp::Commit);
    assert!(matches!(result, Err(TransactionError::Fatal(_) | TransactionError::Abortable(_))), "{result:?}");
    w.clients[new].producer.begin_transaction().unwrap();
    w.send(new, "new", 10).unwrap();
    w.clients[new].producer.commit_transaction(w.now).unwrap();
    assert_eq!(w.until_done(new, TransactionOp::Commit), Ok(()));
    w.cluster.handle_input(BrokerInput::Timeout(w.now + Duration::from_millis(50)));
    assert_eq!(w.committed(), sorted(tagged("new", 10)), "nothing of the zombie is read");
}

#[test]
fn calls_out_of_place_are_typed_errors() {
    let mut w = World::new(4, "");
    let p = w.producer("tx", &[]);
    let c = &mut w.clients[p].producer;
    let invalid = |op, state| Err(TransactionError::InvalidState { op, state });
    assert_eq!(c.begin_transaction(), invalid(TransactionOp::Begin, TransactionState::Uninitialized));
    let r = ProducerRecord { topic: TOPIC, partition: None, key: None, value: None, headers: &[], timestamp_ms: 0 };
    assert_eq!(
        c.send(Instant::ZERO, &r),
        Err(SendError::Transaction(TransactionError::InvalidState {
            op: TransactionOp::Send,
            state: TransactionState::Uninitialized
        }))
    );
    let mut plain = Producer::new(ProducerConfig::new("b0:9092").unwrap(), Instant::ZERO).unwrap();
    assert_eq!(plain.init_transactions(Instant::ZERO), Err(TransactionError::NotTransactional));
    assert_eq!(plain.transaction_state(), None);
    let bad = ProducerConfig::new("b0:9092").unwrap().idempotence(false).transactional("x", Duration::from_secs(1));
    assert!(matches!(Producer::new(bad, Instant::ZERO), Err(ConfigError::Conflict(_))));
}

#[test]
fn batches_are_transactional_and_wait_for_add_partitions() {
    let mut w = World::new(5, "");
    let p = w.producer("tx", &[]);
    w.clients[p].producer.init_transactions(w.now).unwrap();
    assert_eq!(w.until_done(p, TransactionOp::Init), Ok(()));
    w.clients[p].producer.begin_transaction().unwrap();
    // The coordinator's answer to AddPartitionsToTxn is slow: nothing is produced meanwhile.
    w.hold = Some(ApiKey::AddPartitionsToTxn);
    w.send(p, "a", 20).unwrap();
    w.run_for(Duration::from_millis(200));
    assert_eq!(w.held.len(), 1, "AddPartitionsToTxn was sent");
    assert_eq!(w.sent.get(&ApiKey::Produce.as_i16()), None, "no batch before its partition is in the transaction");
    w.release();
    w.clients[p].producer.commit_transaction(w.now).unwrap();
    assert_eq!(w.until_done(p, TransactionOp::Commit), Ok(()));
    assert!(w.sent.get(&ApiKey::Produce.as_i16()).is_some_and(|n| *n > 0));
    // Idem's broker refuses a transactional batch for a partition not added (KIP-890's
    // verification): every record delivered means every batch waited for AddPartitionsToTxn.
    assert_eq!(sorted(w.clients[p].delivered.clone()), sorted(tagged("a", 20)));
    for part in 0..PARTITIONS {
        for b in w.cluster.partition_log(TOPIC, part).unwrap().batches() {
            let (batch, _) = crate::proto::record_batch::RecordBatch::decode(&b.bytes).unwrap();
            assert!(batch.header.is_transactional(), "every batch of a transactional producer is marked");
        }
    }
}

/// Records sent before the topic's metadata is known join an open batch only once it arrives,
/// after `commit_transaction` sealed the batches then open: the commit seals them too (as the
/// Java client's sender flushes the accumulator while a transaction completes), instead of
/// waiting `linger.ms` for them. Found against librdkafka's mock cluster, whose metadata
/// arrived after the commit: the commit waited out a 60 s linger.
#[test]
fn a_commit_seals_the_records_that_waited_for_metadata_without_waiting_for_linger() {
    let mut w = World::new(1, "");
    let p = w.producer("tx", &[("linger.ms", "60000"), ("delivery.timeout.ms", "120000")]);
    w.clients[p].producer.init_transactions(w.now).unwrap();
    assert_eq!(w.until_done(p, TransactionOp::Init), Ok(()));
    w.clients[p].producer.begin_transaction().unwrap();
    // The producer knows no partition of the topic yet: the records wait for its metadata.
    w.send(p, "m", 20).unwrap();
    let t0 = w.now;
    w.clients[p].producer.commit_transaction(w.now).unwrap();
    assert_eq!(w.until_done(p, TransactionOp::Commit), Ok(()));
    assert!(w.now - t0 < Duration::from_secs(1), "the commit waited {:?} for linger.ms", w.now - t0);
    w.cluster.handle_input(BrokerInput::Timeout(w.now + Duration::from_millis(50)));
    assert_eq!(w.committed(), sorted(tagged("m", 20)));
}
