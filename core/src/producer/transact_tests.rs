//! The transactional producer against idem's in-memory cluster (transactions v1, and v2 where
//! a test says so), in virtual time: producers driven by the drain rule, bytes carried whole and in order, and what a
//! `read_committed` consumer would read taken from the partition logs.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::broker::{BrokerAddress, BrokerInput, Cluster, ClusterConfig, FaultSpec, TopicConfig, TransactionVersion};
use crate::producer::{ConfigError, Input, ProducerConfig, ProducerRecord, SendError};
use crate::proto::ApiKey;
use crate::test_wires::{Moved, Wires};
use crate::time::Duration;

const TOPIC: &str = "t";
const PARTITIONS: i32 = 4;

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

/// Producers and the cluster, on the shared test wires.
struct World {
    wires: Wires,
    clients: Vec<Client>,
}

impl World {
    fn new(seed: u64, faults: &str) -> World {
        World::of_version(seed, faults, TransactionVersion::V1, &[])
    }

    /// A cluster that finalizes `transaction.version` at `version`, its APIs capped at
    /// `max_versions`.
    fn of_version(seed: u64, faults: &str, version: TransactionVersion, max_versions: &[(ApiKey, i16)]) -> World {
        World::configured(seed, |c| {
            c.faults = FaultSpec::parse(faults).unwrap();
            c.transaction_version = version;
            c.max_versions = max_versions.to_vec();
        })
    }

    /// A cluster of three brokers with the test topic, then as `configure` says.
    fn configured(seed: u64, configure: impl FnOnce(&mut ClusterConfig)) -> World {
        let brokers = (0..3).map(|i| BrokerAddress { node_id: i, host: format!("b{i}"), port: 9092 }).collect();
        let mut config = ClusterConfig {
            brokers,
            topics: vec![TopicConfig { name: TOPIC.into(), partitions: PARTITIONS }],
            seed,
            ..ClusterConfig::default()
        };
        configure(&mut config);
        World { wires: Wires::new(Cluster::new(config, Instant::ZERO).unwrap(), seed), clients: Vec::new() }
    }

    /// Adds a producer with transactional id `id`; returns its index.
    fn producer(&mut self, id: &str, settings: &[(&str, &str)]) -> usize {
        let mut c = ProducerConfig::new("b0:9092,b1:9092").unwrap().transactional(id, Duration::from_secs(60));
        c.set("idem.seed", &format!("{}", self.clients.len() + 7)).unwrap();
        c.set("linger.ms", "2").unwrap();
        if std::env::var("IDEM_TXN_DEBUG").is_ok() {
            c.set("debug", "all").unwrap();
        }
        for (k, v) in settings {
            c.set(k, v).unwrap();
        }
        let producer = Producer::new(c, self.wires.now).unwrap();
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

    /// Sends `n` records tagged `tag` from client `k`, all accepted.
    fn send(&mut self, k: usize, tag: &str, n: usize) {
        assert_eq!(self.send_upto(k, tag, n), n, "every record accepted");
    }

    /// Sends up to `n` records tagged `tag` from client `k`, stopping at the first refusal;
    /// returns how many were accepted.
    fn send_upto(&mut self, k: usize, tag: &str, n: usize) -> usize {
        let now = self.wires.now;
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
            if c.producer.send(now, &record).is_err() {
                return i;
            }
            c.values.push(value);
        }
        n
    }

    /// Drains every machine; returns the earliest deadline.
    fn drain(&mut self) -> Option<Instant> {
        let mut deadline = self.wires.drain_cluster();
        for (k, c) in self.clients.iter_mut().enumerate() {
            loop {
                match c.producer.poll_output() {
                    Output::Connect { conn, host, .. } => self.wires.connect(k, conn, &host),
                    Output::Transmit { conn, data } => self.wires.transmit(k, conn, &data),
                    Output::Close { conn } => self.wires.close(k, conn),
                    Output::Event(Event::Delivered { id, .. }) => c.delivered.push(c.values[id.0 as usize].clone()),
                    Output::Event(Event::Failed { id, error, .. }) => {
                        c.failed.push((c.values[id.0 as usize].clone(), error))
                    }
                    Output::Event(Event::Transaction { op, result }) => c.txn.push((op, result)),
                    Output::Event(Event::Fatal(e)) => c.fatal = Some(e),
                    Output::Diagnostic(d) => std::println!("{k} {:?}: {d}", self.wires.now),
                    Output::Timeout(t) => {
                        deadline = match (deadline, t) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        };
                        break;
                    }
                }
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
        let end = self.wires.now + d;
        while self.step_within(Some(end)) {}
        self.wires.now = self.wires.now.max(end);
    }

    /// One fact in, time moving at most to `limit`; false if nothing is left to happen by then.
    fn step_within(&mut self, limit: Option<Instant>) -> bool {
        let deadline = self.drain();
        match self.wires.step() {
            Moved::ToCluster => {}
            Moved::ToClient { client, conn, wire } => {
                let input = self.wires.input(conn, &wire);
                self.clients[client].producer.handle_input(input);
            }
            Moved::Cut { client, conn } => {
                let now = self.wires.now;
                self.clients[client].producer.handle_input(Input::Disconnected { now, conn });
            }
            Moved::Idle => {
                let Some(next) = deadline.filter(|d| limit.is_none_or(|l| *d <= l)) else { return false };
                self.wires.advance(next);
                let now = self.wires.now;
                for c in &mut self.clients {
                    c.producer.handle_input(Input::Timeout(now));
                }
            }
        }
        true
    }

    /// Steps until client `k`'s call of `op` returns, as a driver that blocks the application
    /// returns it (idem's runtimes): the operation's end, and for a successful commit or abort
    /// the reports of every record sent before the call ([`TransactionOp::may_return`]).
    fn until_done(&mut self, k: usize, op: TransactionOp) -> Result<(), TransactionError> {
        let end = self.wires.now + Duration::from_secs(120);
        let sent_before = self.clients[k].values.len();
        loop {
            self.drain();
            let c = &mut self.clients[k];
            let reported = c.delivered.len() + c.failed.len() >= sent_before;
            if let Some(i) = c.txn.iter().position(|(o, r)| *o == op && op.may_return(r.is_err(), reported)) {
                return c.txn.remove(i).1;
            }
            assert!(self.wires.now <= end, "{op}: no result within 120 s");
            assert!(self.step(), "{op}: nothing left to happen (reported {reported})");
        }
    }

    /// Steps until client `k` has finished (closed, or stopped), within [`OPERATION_BOUND`].
    fn until_finished(&mut self, k: usize, what: &str) {
        let end = self.wires.now + OPERATION_BOUND;
        while !self.clients[k].producer.is_finished() {
            assert!(self.wires.now <= end, "{what}: not finished within {OPERATION_BOUND:?}");
            assert!(self.step(), "{what}: nothing left to happen");
        }
        self.drain();
    }

    /// Values a read_committed consumer reads, over every partition.
    fn committed(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in 0..PARTITIONS {
            let log = self.wires.cluster.partition_log(TOPIC, p).unwrap();
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
    commit_abort_commit_on(World::new(seed, faults))
}

/// [`commit_abort_commit`] on `w`.
fn commit_abort_commit_on(mut w: World) -> World {
    let p = w.producer("tx", &[]);
    w.clients[p].producer.init_transactions(w.wires.now).unwrap();
    assert_eq!(w.until_done(p, TransactionOp::Init), Ok(()));
    let mut expected = Vec::new();
    for (round, commit) in [true, false, true, true, false, true].into_iter().enumerate() {
        let tag = format!("r{round}");
        w.clients[p].producer.begin_transaction().unwrap();
        w.send(p, &tag, 40);
        // Some time passes: batches go out before the end.
        w.run_for(Duration::from_millis(30));
        if commit {
            w.clients[p].producer.commit_transaction(w.wires.now).unwrap();
            assert_eq!(w.until_done(p, TransactionOp::Commit), Ok(()), "round {round}");
            expected.extend(tagged(&tag, 40));
        } else {
            w.clients[p].producer.abort_transaction(w.wires.now).unwrap();
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
    w.run_for(Duration::from_millis(50));
    assert_eq!(w.committed(), sorted(expected));
    w
}

#[test]
fn commits_and_aborts_are_read_committed_exactly() {
    let w = commit_abort_commit("", 1);
    assert_eq!(w.wires.sent(ApiKey::FindCoordinator, |_| true), 1, "the coordinator found once");
}

#[test]
fn commits_and_aborts_survive_coordinator_faults() {
    let mut lookups = 0;
    for seed in 1..=8 {
        let w = commit_abort_commit(
            "delay=1..20ms:10%,coordinator_move=300ms,not_coordinator=5%,coordinator_loading=5%,leader_move=400ms",
            seed,
        );
        lookups += w.wires.sent(ApiKey::FindCoordinator, |_| true);
    }
    assert!(lookups > 8 * 2, "the faults moved the coordinator: {lookups} lookups");
}

#[test]
fn a_new_producer_fences_the_old_one_which_writes_nothing_after() {
    let mut w = World::new(3, "");
    let old = w.producer("tx", &[]);
    w.clients[old].producer.init_transactions(w.wires.now).unwrap();
    assert_eq!(w.until_done(old, TransactionOp::Init), Ok(()));
    w.clients[old].producer.begin_transaction().unwrap();
    w.send(old, "old", 10);
    w.run_for(Duration::from_millis(50));
    // The new instance takes over: its InitProducerId aborts the old open transaction.
    let new = w.producer("tx", &[]);
    w.clients[new].producer.init_transactions(w.wires.now).unwrap();
    assert_eq!(w.until_done(new, TransactionOp::Init), Ok(()));
    // The zombie goes on: more records, then a commit, all refused.
    w.send(old, "zombie", 10);
    w.clients[old].producer.commit_transaction(w.wires.now).unwrap();
    let result = w.until_done(old, TransactionOp::Commit);
    assert!(matches!(result, Err(TransactionError::Fatal(_) | TransactionError::Abortable(_))), "{result:?}");
    w.clients[new].producer.begin_transaction().unwrap();
    w.send(new, "new", 10);
    w.clients[new].producer.commit_transaction(w.wires.now).unwrap();
    assert_eq!(w.until_done(new, TransactionOp::Commit), Ok(()));
    w.wires.cluster.handle_input(BrokerInput::Timeout(w.wires.now + Duration::from_millis(50)));
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
    w.clients[p].producer.init_transactions(w.wires.now).unwrap();
    assert_eq!(w.until_done(p, TransactionOp::Init), Ok(()));
    w.clients[p].producer.begin_transaction().unwrap();
    // The coordinator's answer to AddPartitionsToTxn is slow: nothing is produced meanwhile.
    w.wires.hold = Some(ApiKey::AddPartitionsToTxn);
    w.send(p, "a", 20);
    w.run_for(Duration::from_millis(200));
    assert_eq!(w.wires.held.len(), 1, "AddPartitionsToTxn was sent");
    assert_eq!(w.wires.sent(ApiKey::Produce, |_| true), 0, "no batch before its partition is in the transaction");
    w.wires.release();
    w.clients[p].producer.commit_transaction(w.wires.now).unwrap();
    assert_eq!(w.until_done(p, TransactionOp::Commit), Ok(()));
    assert!(w.wires.sent(ApiKey::Produce, |_| true) > 0);
    // Idem's broker refuses a transactional batch for a partition not added (KIP-890's
    // verification): every record delivered means every batch waited for AddPartitionsToTxn.
    assert_eq!(sorted(w.clients[p].delivered.clone()), sorted(tagged("a", 20)));
    for part in 0..PARTITIONS {
        for b in w.wires.cluster.partition_log(TOPIC, part).unwrap().batches() {
            let (batch, _) = crate::proto::record_batch::RecordBatch::decode(&b.bytes).unwrap();
            assert!(batch.header.is_transactional(), "every batch of a transactional producer is marked");
        }
    }
}

/// How long any transactional operation may take under the sweep's faults before it counts as
/// stuck: the backoffs of a few coordinator moves and lost requests (`request.timeout.ms` 2 s
/// here), with room.
const OPERATION_BOUND: Duration = Duration::from_secs(30);

/// Fault plans of the sweep (the broker's faults; the world adds connection cuts).
const SWEEP_FAULTS: [&str; 5] = [
    "delay=1..20ms:10%,coordinator_move=300ms,not_coordinator=5%,coordinator_loading=5%",
    "leader_move=200ms,error_before=NOT_LEADER_OR_FOLLOWER:5%,error_after=REQUEST_TIMED_OUT:3%",
    "broker_bounce=700ms,delay=1..50ms:20%,coordinator_move=500ms",
    "append_drop=3%,not_coordinator=10%,coordinator_loading=10%,leader_move=300ms",
    // Records refused for good, and brokers restarting from a producer-state snapshot (only
    // each producer's last batch kept, as Kafka's): failed commits, and
    // sequences that break (the abort then bumps the epoch through the coordinator).
    "error_before=INVALID_RECORD:2%,restart_snapshot=400ms,delay=1..10ms:10%",
];

/// One seed: transactions committed and aborted at random (some with offsets), connections cut
/// at random, and in some seeds a second producer with the same transactional id that takes
/// over midway. The verdict: a `read_committed` read of every partition holds exactly the
/// records of the transactions whose commit succeeded, each once and in send order per
/// partition; nothing of an aborted transaction, a failed commit or the fenced producer; every
/// operation ends within [`OPERATION_BOUND`].
fn sweep_seed(seed: u64, paths: &mut BTreeMap<&'static str, usize>) {
    let faults = SWEEP_FAULTS[(seed % SWEEP_FAULTS.len() as u64) as usize];
    // Odd seeds run transactions v2 (KIP-890).
    let version = if seed % 2 == 1 { TransactionVersion::V2 } else { TransactionVersion::V1 };
    let mut w = World::of_version(seed, faults, version, &[]);
    let cut = [0.0, 0.002, 0.01][(seed / 4 % 3) as usize];
    w.wires.cut = cut;
    // Some seeds linger long: a commit must seal what is open, whenever it opened.
    let linger = ["2", "2", "100", "60000"][(seed / 12 % 4) as usize];
    let settings = [
        ("request.timeout.ms", "2000"),
        ("delivery.timeout.ms", "120000"),
        ("retry.backoff.max.ms", "200"),
        ("linger.ms", linger),
    ];
    let mut rng = crate::rand::Rng::new(seed);
    let ctx =
        |what: &str| format!("IDEM_TXN_SEED={seed} ({version:?}, {faults}, cut {cut}, linger {linger} ms): {what}");
    let mut k = w.producer("tx", &settings);
    w.clients[k].producer.init_transactions(w.wires.now).unwrap();
    let done = |w: &mut World, k: usize, op| {
        let start = w.wires.now;
        let r = w.until_done(k, op);
        assert!(w.wires.now - start <= OPERATION_BOUND, "seed {seed}: {op} took {:?}", w.wires.now - start);
        r
    };
    assert_eq!(done(&mut w, k, TransactionOp::Init), Ok(()), "{}", ctx("init"));
    let zombie_at = (seed % 3 == 0).then(|| rng.below(4) as usize);
    let mut committed: Vec<String> = Vec::new();
    let mut fenced_values: Vec<String> = Vec::new();
    // The offsets of the last committed transaction that sent some, per partition.
    let mut committed_offsets: BTreeMap<i32, i64> = BTreeMap::new();
    for round in 0..6usize {
        let tag = format!("s{seed}r{round}");
        w.clients[k].producer.begin_transaction().unwrap();
        let n = 1 + rng.below(30) as usize;
        // A record may fail while others are sent (the transaction is then abortable and
        // `send` refuses the rest): only what was accepted counts.
        let accepted = w.send_upto(k, &tag, n);
        w.run_for(Duration::from_millis(rng.below(40)));
        let mut offsets_sent = None;
        if rng.chance(0.3) && w.clients[k].producer.transaction_state() == Some(TransactionState::InTransaction) {
            let group = ConsumerGroupMetadata::new("g");
            let offsets = [TxnOffset { topic: TOPIC, partition: (round % 4) as i32, offset: round as i64 }];
            w.clients[k].producer.send_offsets_to_transaction(w.wires.now, &offsets, &group).unwrap();
            // The transaction may turn abortable meanwhile (a record failed): then so do they.
            let r = done(&mut w, k, TransactionOp::SendOffsets);
            assert!(matches!(r, Ok(()) | Err(TransactionError::Abortable(_))), "{}: {r:?}", ctx("offsets"));
            offsets_sent = r.is_ok().then_some(((round % 4) as i32, round as i64));
        }
        if zombie_at == Some(round) {
            // A new instance takes over; the old one goes on and must fail, writing nothing.
            let new = w.producer("tx", &settings);
            w.clients[new].producer.init_transactions(w.wires.now).unwrap();
            assert_eq!(done(&mut w, new, TransactionOp::Init), Ok(()), "{}", ctx("the new instance's init"));
            w.send_upto(k, &format!("{tag}z"), 5);
            let r = match w.clients[k].producer.commit_transaction(w.wires.now) {
                Ok(()) => done(&mut w, k, TransactionOp::Commit),
                Err(e) => Err(e),
            };
            assert!(r.is_err(), "{}", ctx("the zombie's commit succeeded"));
            if matches!(r, Err(TransactionError::Abortable(_))) {
                if rng.chance(0.5) {
                    w.clients[k].producer.abort_transaction(w.wires.now).unwrap();
                    let r = done(&mut w, k, TransactionOp::Abort);
                    assert!(matches!(r, Err(TransactionError::Fatal(_))), "{}: {r:?}", ctx("the zombie's abort"));
                } else {
                    // Closed instead: the close aborts what is open, and the fence stops it.
                    w.clients[k].producer.close(w.wires.now);
                    w.until_finished(k, &ctx("the zombie's close"));
                    *paths.entry("zombies closed").or_default() += 1;
                }
            }
            assert!(w.clients[k].producer.is_finished(), "{}", ctx("the zombie stopped"));
            let c = &w.clients[k];
            assert_eq!(c.delivered.len() + c.failed.len(), c.values.len(), "{}", ctx("every zombie record reported"));
            *paths.entry("zombies fenced").or_default() += 1;
            fenced_values.extend(w.clients[k].values.iter().cloned());
            k = new;
            continue;
        }
        let commit = rng.chance(0.7);
        if commit {
            let call = w.clients[k].producer.commit_transaction(w.wires.now);
            let result = match call {
                Ok(()) => done(&mut w, k, TransactionOp::Commit),
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => {
                    committed.extend(tagged(&tag, accepted));
                    if let Some((p, offset)) = offsets_sent {
                        committed_offsets.insert(p, offset);
                    }
                    *paths.entry("commits").or_default() += 1;
                }
                Err(TransactionError::Abortable(_)) => {
                    *paths.entry("failed commits aborted").or_default() += 1;
                    w.clients[k].producer.abort_transaction(w.wires.now).unwrap();
                    assert_eq!(done(&mut w, k, TransactionOp::Abort), Ok(()), "{}", ctx("abort after a failed commit"));
                }
                Err(e) => panic!("{}: {e}", ctx("commit")),
            }
        } else {
            w.clients[k].producer.abort_transaction(w.wires.now).unwrap();
            assert_eq!(done(&mut w, k, TransactionOp::Abort), Ok(()), "{}", ctx("abort"));
            *paths.entry("aborts").or_default() += 1;
        }
    }
    // Each version speaks its own protocol: v2 adds nothing explicitly and ends with EndTxn v5.
    let explicit_adds =
        w.wires.sent(ApiKey::AddPartitionsToTxn, |_| true) + w.wires.sent(ApiKey::AddOffsetsToTxn, |_| true);
    let end_versions = w.wires.sent_versions(ApiKey::EndTxn);
    if version == TransactionVersion::V2 {
        assert_eq!(explicit_adds, 0, "{}", ctx("transactions v2 sent AddPartitionsToTxn or AddOffsetsToTxn"));
        assert!(end_versions.iter().all(|v| *v >= 5), "{}", ctx(&format!("EndTxn versions {end_versions:?}")));
        *paths.entry("transactions v2").or_default() += 1;
    } else {
        assert!(end_versions.iter().all(|v| *v < 5), "{}", ctx(&format!("EndTxn versions {end_versions:?}")));
    }
    if rng.chance(0.3) {
        // Closed with a transaction open: aborted, every record reported, none committed.
        w.clients[k].producer.begin_transaction().unwrap();
        w.send_upto(k, &format!("s{seed}closed"), 1 + rng.below(30) as usize);
        w.run_for(Duration::from_millis(rng.below(40)));
        w.clients[k].producer.close(w.wires.now);
        w.until_finished(k, &ctx("close with a transaction open"));
        let c = &w.clients[k];
        assert_eq!(c.delivered.len() + c.failed.len(), c.values.len(), "{}", ctx("every record reported"));
        assert_eq!(c.fatal, None, "{}", ctx("close with a transaction open"));
        *paths.entry("closed with a transaction open").or_default() += 1;
    }
    *paths.entry("connections cut").or_default() += w.wires.cuts;
    *paths.entry("coordinator lookups").or_default() += w.wires.sent(ApiKey::FindCoordinator, |_| true);
    *paths.entry("epoch bumps").or_default() +=
        w.clients.iter().map(|c| c.producer.metrics().epoch_bumps as usize).sum::<usize>();
    *paths.entry("records failed").or_default() += w.clients.iter().map(|c| c.failed.len()).sum::<usize>();
    // Markers are written shortly after the last EndTxn.
    w.wires.cut = 0.0;
    w.run_for(Duration::from_secs(1));
    let read = w.committed_in_order();
    let mut seen = BTreeSet::new();
    for (p, values) in &read {
        for v in values {
            assert!(seen.insert(v.clone()), "{}", ctx(&format!("{v} read twice")));
            assert!(!fenced_values.contains(v) || committed.contains(v), "{}", ctx(&format!("zombie's {v} read")));
        }
        // Per partition, the records of a transaction in send order.
        let mut last: BTreeMap<String, usize> = BTreeMap::new();
        for v in values {
            let (t, i) = v.rsplit_once('-').unwrap();
            let i: usize = i.parse().unwrap();
            if let Some(prev) = last.insert(String::from(t), i) {
                assert!(prev < i, "{}", ctx(&format!("partition {p}: {t}-{i} after {t}-{prev}")));
            }
        }
    }
    // Offsets are committed with their transaction, never with an aborted one.
    for p in 0..PARTITIONS {
        let got = w.wires.cluster.committed_offset("g", TOPIC, p);
        assert_eq!(got, committed_offsets.get(&p).copied(), "{}", ctx(&format!("group g's offset of partition {p}")));
    }
    let mut expected: Vec<String> = committed;
    expected.sort();
    let got: Vec<String> = seen.into_iter().collect();
    assert_eq!(got, expected, "{}", ctx("read_committed holds exactly the committed records"));
}

impl World {
    /// Per partition, the values a read_committed consumer reads, in offset order.
    fn committed_in_order(&self) -> Vec<(i32, Vec<String>)> {
        (0..PARTITIONS)
            .map(|p| {
                let log = self.wires.cluster.partition_log(TOPIC, p).unwrap();
                let values =
                    log.read_committed().unwrap().into_iter().map(|(_, v)| String::from_utf8(v.unwrap()).unwrap());
                (p, values.collect())
            })
            .collect()
    }
}

#[test]
fn many_seeds_of_transactions_under_faults_are_read_committed_exactly() {
    // IDEM_TXN_SEEDS=N runs more; IDEM_TXN_SEED=S runs one.
    let one = std::env::var("IDEM_TXN_SEED").ok().and_then(|s| s.parse::<u64>().ok());
    let seeds = std::env::var("IDEM_TXN_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(48u64);
    let mut paths = BTreeMap::new();
    let range = one.map_or(0..seeds, |s| s..s + 1);
    for seed in range.clone() {
        sweep_seed(seed, &mut paths);
    }
    std::println!("{paths:?}");
    if range.end - range.start >= 48 {
        // The sweep must reach the paths it is about, not only the happy one.
        for path in [
            "commits",
            "aborts",
            "failed commits aborted",
            "zombies fenced",
            "connections cut",
            "epoch bumps",
            "records failed",
            "transactions v2",
            "zombies closed",
            "closed with a transaction open",
        ] {
            assert!(paths.get(path).is_some_and(|n| *n > 0), "`{path}` never happened: {paths:?}");
        }
        assert!(paths["coordinator lookups"] > 2 * seeds as usize, "the coordinator never moved: {paths:?}");
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
    w.clients[p].producer.init_transactions(w.wires.now).unwrap();
    assert_eq!(w.until_done(p, TransactionOp::Init), Ok(()));
    w.clients[p].producer.begin_transaction().unwrap();
    // The producer knows no partition of the topic yet: the records wait for its metadata.
    w.send(p, "m", 20);
    let t0 = w.wires.now;
    w.clients[p].producer.commit_transaction(w.wires.now).unwrap();
    assert_eq!(w.until_done(p, TransactionOp::Commit), Ok(()));
    assert!(w.wires.now - t0 < Duration::from_secs(1), "the commit waited {:?} for linger.ms", w.wires.now - t0);
    w.wires.cluster.handle_input(BrokerInput::Timeout(w.wires.now + Duration::from_millis(50)));
    assert_eq!(w.committed(), sorted(tagged("m", 20)));
}

/// The next transaction's first AddPartitionsToTxn usually finds the previous one's markers
/// still being written (CONCURRENT_TRANSACTIONS): it is retried after 20 ms, as the Java
/// client does, not after `retry.backoff.ms`, which would add that much to every transaction.
#[test]
fn add_partitions_behind_the_previous_markers_is_retried_soon() {
    let mut w = World::new(6, "");
    let p = w.producer("tx", &[("retry.backoff.ms", "500"), ("retry.backoff.max.ms", "1000")]);
    w.clients[p].producer.init_transactions(w.wires.now).unwrap();
    assert_eq!(w.until_done(p, TransactionOp::Init), Ok(()));
    for round in 0..3 {
        w.clients[p].producer.begin_transaction().unwrap();
        w.send(p, &format!("r{round}"), 10);
        let t0 = w.wires.now;
        w.clients[p].producer.commit_transaction(w.wires.now).unwrap();
        assert_eq!(w.until_done(p, TransactionOp::Commit), Ok(()));
        // Round 0 waits for metadata; the others find the markers (5 ms) still pending.
        if round > 0 {
            let took = w.wires.now - t0;
            assert!(took < Duration::from_millis(100), "round {round}: the commit took {took:?}");
        }
    }
}

/// A cluster that finalizes `transaction.version` 2 (KIP-890) gets transactions v2: no
/// AddPartitionsToTxn nor AddOffsetsToTxn (Produce v12 and TxnOffsetCommit v5 add their
/// partition and group), and every EndTxn (v5) bumps the epoch, which the producer adopts for
/// the next transaction. The read_committed read-back and the offsets are as in v1.
#[test]
fn transactions_v2_add_through_produce_and_bump_the_epoch_at_every_end() {
    let mut w = commit_abort_commit_on(World::of_version(2, "", TransactionVersion::V2, &[]));
    let p = 0;
    let (id, epoch) = w.clients[p].producer.producer_id().unwrap();
    assert_eq!(epoch, 6, "one bump per end, from epoch 0");
    w.clients[p].producer.begin_transaction().unwrap();
    w.send(p, "o", 5);
    let group = ConsumerGroupMetadata::new("g");
    let offsets = [TxnOffset { topic: TOPIC, partition: 1, offset: 42 }];
    w.clients[p].producer.send_offsets_to_transaction(w.wires.now, &offsets, &group).unwrap();
    assert_eq!(w.until_done(p, TransactionOp::SendOffsets), Ok(()));
    w.clients[p].producer.commit_transaction(w.wires.now).unwrap();
    assert_eq!(w.until_done(p, TransactionOp::Commit), Ok(()));
    assert_eq!(w.clients[p].producer.producer_id(), Some((id, 7)));
    w.run_for(Duration::from_millis(50));
    assert_eq!(w.wires.cluster.committed_offset("g", TOPIC, 1), Some(42));
    assert_eq!(w.wires.sent(ApiKey::AddPartitionsToTxn, |_| true), 0);
    assert_eq!(w.wires.sent(ApiKey::AddOffsetsToTxn, |_| true), 0);
    assert_eq!(w.wires.sent_versions(ApiKey::Produce), BTreeSet::from([12]));
    assert_eq!(w.wires.sent_versions(ApiKey::EndTxn), BTreeSet::from([5]));
    assert_eq!(w.wires.sent_versions(ApiKey::TxnOffsetCommit), BTreeSet::from([5]));
}

/// Under transactions v2 the producer cannot know whether a Produce reached its partition's
/// leader (which adds the partition): an abort always ends the transaction, and the
/// coordinator aborts one it never saw (Kafka 4's empty abort), bumping the epoch too.
#[test]
fn a_v2_abort_ends_the_transaction_even_when_nothing_reached_the_coordinator() {
    let mut w = World::of_version(3, "", TransactionVersion::V2, &[]);
    let p = w.producer("tx", &[]);
    w.clients[p].producer.init_transactions(w.wires.now).unwrap();
    assert_eq!(w.until_done(p, TransactionOp::Init), Ok(()));
    // The metadata arrives, then every Produce is held back: the coordinator never hears of it.
    w.clients[p].producer.begin_transaction().unwrap();
    w.send(p, "warm", 1);
    w.clients[p].producer.commit_transaction(w.wires.now).unwrap();
    assert_eq!(w.until_done(p, TransactionOp::Commit), Ok(()));
    w.wires.hold = Some(ApiKey::Produce);
    w.clients[p].producer.begin_transaction().unwrap();
    w.send(p, "lost", 10);
    w.run_for(Duration::from_millis(50));
    let ends = w.wires.sent(ApiKey::EndTxn, |_| true);
    w.clients[p].producer.abort_transaction(w.wires.now).unwrap();
    // The held requests are in flight: the abort waits for them, so they are dropped (the
    // connection is cut) for it to go on.
    w.wires.held.clear();
    w.wires.hold = None;
    for conn in 0..8 {
        w.clients[p]
            .producer
            .handle_input(Input::Disconnected { now: w.wires.now, conn: crate::producer::ConnId(conn) });
    }
    assert_eq!(w.until_done(p, TransactionOp::Abort), Ok(()));
    assert_eq!(w.wires.sent(ApiKey::EndTxn, |_| true), ends + 1, "the abort was sent");
    assert_eq!(w.clients[p].producer.producer_id().map(|(_, e)| e), Some(2), "the commit and the abort bumped");
    w.clients[p].producer.begin_transaction().unwrap();
    w.send(p, "next", 10);
    w.clients[p].producer.commit_transaction(w.wires.now).unwrap();
    assert_eq!(w.until_done(p, TransactionOp::Commit), Ok(()));
    w.run_for(Duration::from_millis(50));
    let mut expected = tagged("next", 10);
    expected.extend(tagged("warm", 1));
    assert_eq!(w.committed(), sorted(expected));
}

/// A cluster that finalizes transactions v2 but whose coordinator lacks EndTxn v5 is spoken to
/// in transactions v1, whole: AddPartitionsToTxn, Produce below v12, EndTxn v4.
#[test]
fn a_coordinator_without_the_v2_versions_is_spoken_to_in_v1() {
    let w = commit_abort_commit_on(World::of_version(4, "", TransactionVersion::V2, &[(ApiKey::EndTxn, 4)]));
    assert!(w.wires.sent(ApiKey::AddPartitionsToTxn, |_| true) > 0);
    assert!(w.wires.sent_versions(ApiKey::Produce).iter().all(|v| *v < 12));
    assert_eq!(w.wires.sent_versions(ApiKey::EndTxn), BTreeSet::from([4]));
}

/// A transactions v2 coordinator that answers EndTxn v5 without the producer id and epoch to go
/// on with (hostile, or broken) stops the producer with a typed error: the commit fails fatally,
/// nothing is sent with an identity the coordinator never granted.
#[test]
fn an_end_txn_v5_answer_without_an_identity_is_a_typed_fatal_error() {
    let mut w = World::of_version(5, "", TransactionVersion::V2, &[]);
    let p = w.producer("tx", &[]);
    w.clients[p].producer.init_transactions(w.wires.now).unwrap();
    assert_eq!(w.until_done(p, TransactionOp::Init), Ok(()));
    w.clients[p].producer.begin_transaction().unwrap();
    w.send(p, "a", 5);
    w.wires.hold = Some(ApiKey::EndTxn);
    w.clients[p].producer.commit_transaction(w.wires.now).unwrap();
    while w.wires.held.is_empty() {
        assert!(w.step(), "EndTxn is sent");
    }
    let (id, wire) = w.wires.held.pop().unwrap();
    let crate::test_wires::Wire::Bytes(request) = wire else { panic!("a request") };
    let correlation_id = i32::from_be_bytes([request[8], request[9], request[10], request[11]]);
    let version = i16::from_be_bytes([request[6], request[7]]);
    assert_eq!(version, 5);
    let answer = crate::proto::end_txn::EndTxnResponse {
        throttle_time_ms: 0,
        error_code: 0,
        producer_id: -1,
        producer_epoch: -1,
    };
    let mut frame = Vec::new();
    crate::proto::encode_response_frame(&mut frame, correlation_id, version, &answer).unwrap();
    let conn = crate::producer::ConnId(id & 0xffff_ffff);
    w.clients[p].producer.handle_input(Input::Received { now: w.wires.now, conn, bytes: &frame });
    let fatal = FatalError::Broker(ErrorCode::UNKNOWN_SERVER_ERROR);
    assert_eq!(w.until_done(p, TransactionOp::Commit), Err(TransactionError::Fatal(fatal)));
    assert_eq!(w.clients[p].producer.transaction_state(), Some(TransactionState::FatalError));
}

/// `flush` has the commit's rule: records still waiting for their topic's metadata when it is
/// called are sent as soon as they join a batch, not after `linger.ms` (the Java client counts
/// flushes in progress and treats every batch as ready meanwhile). A flush before an abort is
/// how an application makes sure what it aborts was written.
#[test]
fn a_flush_seals_the_records_that_waited_for_metadata_without_waiting_for_linger() {
    let mut w = World::new(7, "");
    let p = w.producer("tx", &[("linger.ms", "60000"), ("delivery.timeout.ms", "120000")]);
    w.clients[p].producer.init_transactions(w.wires.now).unwrap();
    assert_eq!(w.until_done(p, TransactionOp::Init), Ok(()));
    w.clients[p].producer.begin_transaction().unwrap();
    w.send(p, "f", 20);
    let t0 = w.wires.now;
    w.clients[p].producer.flush(w.wires.now);
    while w.clients[p].delivered.len() < 20 {
        assert!(w.wires.now - t0 < Duration::from_secs(1), "the flush waited {:?} for linger.ms", w.wires.now - t0);
        assert!(w.step(), "nothing left to happen");
    }
    // Records sent after the flush linger again.
    w.send(p, "g", 1);
    w.run_for(Duration::from_secs(1));
    assert_eq!(w.clients[p].delivered.len(), 20);
}

/// Under transactions v2 the next transaction's first Produce usually finds the previous
/// markers being written: the leader holds it until they are (Kafka 4 retries the implicit add
/// on the server, KAFKA-18654) instead of answering an error the producer would back off from,
/// so back-to-back transactions do not each wait `retry.backoff.ms`.
#[test]
fn a_v2_produce_behind_the_previous_markers_waits_at_the_broker() {
    let mut w = World::of_version(6, "", TransactionVersion::V2, &[]);
    let p = w.producer("tx", &[("retry.backoff.ms", "500"), ("retry.backoff.max.ms", "1000")]);
    w.clients[p].producer.init_transactions(w.wires.now).unwrap();
    assert_eq!(w.until_done(p, TransactionOp::Init), Ok(()));
    for round in 0..4 {
        w.clients[p].producer.begin_transaction().unwrap();
        w.send(p, &format!("r{round}"), 10);
        let t0 = w.wires.now;
        w.clients[p].producer.commit_transaction(w.wires.now).unwrap();
        assert_eq!(w.until_done(p, TransactionOp::Commit), Ok(()));
        if round > 0 {
            let took = w.wires.now - t0;
            assert!(took < Duration::from_millis(100), "round {round}: the commit took {took:?}");
        }
    }
    assert_eq!(w.clients[p].producer.metrics().retries, 0, "no Produce was refused");
    w.run_for(Duration::from_millis(50));
    assert_eq!(w.committed().len(), 40);
}

/// A transactional id idle past the broker's `transactional.id.expiration.ms` is forgotten; the
/// producer's next transaction meets INVALID_PRODUCER_ID_MAPPING (from AddPartitionsToTxn under
/// v1, from the leader's implicit add under v2), turns abortable, and its abort skips EndTxn,
/// which the coordinator would refuse too, for InitProducerId: a fresh producer id, and the
/// transaction after it commits.
#[test]
fn an_expired_transactional_id_costs_one_aborted_transaction_and_a_fresh_producer_id() {
    for version in [TransactionVersion::V1, TransactionVersion::V2] {
        let mut w = World::configured(8, |c| {
            c.transaction_version = version;
            c.transactional_id_expiration = Duration::from_secs(10);
        });
        let p = w.producer("tx", &[]);
        w.clients[p].producer.init_transactions(w.wires.now).unwrap();
        assert_eq!(w.until_done(p, TransactionOp::Init), Ok(()));
        w.clients[p].producer.begin_transaction().unwrap();
        w.send(p, "a", 5);
        w.clients[p].producer.commit_transaction(w.wires.now).unwrap();
        assert_eq!(w.until_done(p, TransactionOp::Commit), Ok(()));
        let (first_id, _) = w.clients[p].producer.producer_id().unwrap();
        w.run_for(Duration::from_secs(15));
        w.clients[p].producer.begin_transaction().unwrap();
        w.send(p, "b", 5);
        w.clients[p].producer.commit_transaction(w.wires.now).unwrap();
        let r = w.until_done(p, TransactionOp::Commit);
        assert!(matches!(r, Err(TransactionError::Abortable(_))), "{version:?}: {r:?}");
        w.clients[p].producer.abort_transaction(w.wires.now).unwrap();
        assert_eq!(w.until_done(p, TransactionOp::Abort), Ok(()), "{version:?}");
        let (id, _) = w.clients[p].producer.producer_id().unwrap();
        assert_ne!(id, first_id, "{version:?}: a fresh producer id");
        w.clients[p].producer.begin_transaction().unwrap();
        w.send(p, "c", 5);
        w.clients[p].producer.commit_transaction(w.wires.now).unwrap();
        assert_eq!(w.until_done(p, TransactionOp::Commit), Ok(()), "{version:?}");
        w.run_for(Duration::from_millis(50));
        let mut expected = tagged("a", 5);
        expected.extend(tagged("c", 5));
        assert_eq!(w.committed(), sorted(expected), "{version:?}");
        assert_eq!(w.clients[p].fatal, None);
    }
}
