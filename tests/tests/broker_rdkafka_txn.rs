//! Proof with librdkafka's transactional producer and `read_committed` consumer (clients no one
//! here wrote) that idem's cluster serves Kafka transactions (KIP-98, transactions v1):
//! `init_transactions`, `begin_transaction`, `send_offsets_to_transaction`,
//! `commit_transaction`, `abort_transaction`; a zombie with the same `transactional.id` fenced;
//! a transaction that outlives `transaction.timeout.ms` aborted; all of it under coordinator and
//! produce faults.
//!
//! The check: a `read_committed` consumer reads every committed record exactly once, in send
//! order per partition, and no record of an aborted (or fenced, or timed-out) transaction, ever.
//! A `read_uncommitted` consumer sees the aborted records too, so the aborts did write data.
//!
//! And idem's own blocking consumer (`idem_std::consumer::Consumer`) against the same peer:
//! with `isolation.level=read_committed` it reads exactly what librdkafka committed, while
//! librdkafka's aborted transactions interleave with committed ones in every partition.
//!
//! `IDEM_RDKAFKA_DEBUG=eos,protocol` prints librdkafka's log, `IDEM_BROKER_LOG=1` the cluster's.
#![allow(clippy::unwrap_used)] // Tests may unwrap (HELPERS.md).

mod rdkafka_common;

use idem_core::broker::TransactionVersion;
use idem_core::proto::record_batch::RecordBatch;
use idem_core::proto::record_batch::control::EndTransactionMarker;
use idem_mock::MockCluster;
use rdkafka::Offset;
use rdkafka::TopicPartitionList;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka_common::*;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);

/// librdkafka's transactional producer with the tests' timings. A `ThreadedProducer`: the
/// rdkafka crate's `BaseProducer::abort_transaction` does not poll, and librdkafka's abort
/// waits for the delivery reports of the messages it purged to be served, so with a
/// `BaseProducer` an abort with records in flight never returns.
fn txn_producer(bootstrap: &str, txn_id: &str, deliveries: &Arc<Deliveries>, extra: &[(&str, &str)]) -> P {
    let mut settings =
        vec![("transactional.id", txn_id), ("message.timeout.ms", "10000"), ("transaction.timeout.ms", "10000")];
    settings.extend_from_slice(extra);
    producer_config(bootstrap, "none", &settings).create_with_context(Ctx(Arc::clone(deliveries))).unwrap()
}

/// The transactional producer.
type P = ThreadedProducer<Ctx>;

/// A consumer of every partition from the beginning with the isolation level `isolation`.
fn consumer(bootstrap: &str, isolation: &str) -> BaseConsumer {
    assign_all(bootstrap, "idem-txn-check", TOPIC, PARTITIONS, Offset::Beginning, &[("isolation.level", isolation)])
}

/// Reads until every partition reported its end and `expected` records were read (at least),
/// then 300 ms more to catch any record beyond; the record numbers read per partition.
fn read(bootstrap: &str, isolation: &str, expected: usize) -> Vec<Vec<u64>> {
    let c = consumer(bootstrap, isolation);
    let got = read_assigned(&c, PARTITIONS, Duration::from_secs(30), |got, eof| {
        eof.iter().all(|e| *e) && got.iter().map(Vec::len).sum::<usize>() >= expected
    });
    let start = Instant::now();
    let more =
        read_assigned(&c, PARTITIONS, Duration::from_secs(5), |_, _| start.elapsed() > Duration::from_millis(300));
    got.into_iter().zip(more).map(|(a, b)| a.into_iter().chain(b).map(|(_, n)| n).collect()).collect()
}

/// Checks the read_committed view: exactly `committed`, once each, in send order per
/// partition; and that the read_uncommitted view holds `aborted` too.
fn check_views(bootstrap: &str, committed: &BTreeSet<u64>, aborted: &BTreeSet<u64>) {
    check_committed(bootstrap, committed, aborted);
    let all = read(bootstrap, "read_uncommitted", committed.len() + aborted.len());
    let seen: BTreeSet<u64> = all.into_iter().flatten().collect();
    assert!(aborted.is_subset(&seen), "read_uncommitted misses aborted records (were they written?)");
    assert!(committed.is_subset(&seen));
}

/// Checks the read_committed view: exactly `committed`, once each, in send order per
/// partition, none of `aborted`.
fn check_committed(bootstrap: &str, committed: &BTreeSet<u64>, aborted: &BTreeSet<u64>) {
    let got = read(bootstrap, "read_committed", committed.len());
    for (p, values) in got.iter().enumerate() {
        let want: Vec<u64> = committed.iter().copied().filter(|n| n % PARTITIONS as u64 == p as u64).collect();
        let leaked: Vec<&u64> = values.iter().filter(|n| aborted.contains(n)).collect();
        assert!(leaked.is_empty(), "partition {p}: aborted records read by read_committed: {leaked:?}");
        assert_eq!(values, &want, "partition {p}: read_committed view");
    }
}

/// The control batches (COMMIT, ABORT) in the partition logs.
fn markers(cluster: &MockCluster) -> (usize, usize) {
    let (mut commits, mut aborts) = (0, 0);
    for p in 0..PARTITIONS {
        for b in cluster.partition_log(TOPIC, p).unwrap() {
            let (batch, _) = RecordBatch::decode(&b.bytes).unwrap();
            if let Some(m) = EndTransactionMarker::from_batch(&batch).unwrap() {
                match m.result {
                    idem_core::proto::record_batch::control::TransactionResult::Commit => commits += 1,
                    idem_core::proto::record_batch::control::TransactionResult::Abort => aborts += 1,
                }
            }
        }
    }
    (commits, aborts)
}

/// Runs `txns` transactions of `per_txn` records each, aborting every third; an abortable
/// error aborts the transaction (its records then count as aborted), a retriable one is
/// retried. Returns (committed, aborted) record numbers.
fn run_transactions(p: &P, txns: u64, per_txn: u64) -> (BTreeSet<u64>, BTreeSet<u64>) {
    let (mut committed, mut aborted) = (BTreeSet::new(), BTreeSet::new());
    for k in 0..txns {
        p.begin_transaction().unwrap();
        let records: Vec<u64> = (k * per_txn..(k + 1) * per_txn).collect();
        // Flushed first, so that an aborted transaction's records are in the log (an abort
        // purges what is not sent yet).
        let sent = records.iter().all(|&n| txn_send(p, n)) && p.flush(T).is_ok();
        let outcome = if k % 3 == 2 || !sent { abort(p) } else { commit(p) };
        if outcome { committed.extend(records) } else { aborted.extend(records) }
    }
    (committed, aborted)
}

/// Sends record `n` as [`send`] does; `false` if the producer refuses it (the transaction is
/// in an abortable error state).
fn txn_send(p: &P, n: u64) -> bool {
    let payload = format!("{n:064}");
    let partition = (n % PARTITIONS as u64) as i32;
    loop {
        match p.send(BaseRecord::<(), _>::to(TOPIC).partition(partition).payload(&payload)) {
            Ok(()) => return true,
            Err((KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull), _)) => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err((e, _)) => {
                eprintln!("send {n}: {e}: the transaction aborts");
                return false;
            }
        }
    }
}

/// Commits, retrying retriable errors; an abortable error aborts. Whether it committed.
fn commit(p: &P) -> bool {
    loop {
        match p.commit_transaction(T) {
            Ok(()) => return true,
            Err(KafkaError::Transaction(e)) if e.is_retriable() => continue,
            Err(KafkaError::Transaction(e)) if e.txn_requires_abort() => {
                eprintln!("commit: abortable error {e}: aborting");
                return abort(p);
            }
            Err(e) => panic!("commit: {e}"),
        }
    }
}

/// Aborts, retrying retriable errors; always `false` (nothing committed).
fn abort(p: &P) -> bool {
    loop {
        match p.abort_transaction(T) {
            Ok(()) => return false,
            Err(KafkaError::Transaction(e)) if e.is_retriable() => continue,
            Err(e) => panic!("abort: {e}"),
        }
    }
}

/// A 3-broker cluster with `faults`, and its bootstrap servers.
fn start(faults: &str, seed: u64) -> (MockCluster, String) {
    start_of(faults, seed, TransactionVersion::V1)
}

/// [`start`] with `transaction.version` finalized at `version` (KIP-890).
fn start_of(faults: &str, seed: u64, version: TransactionVersion) -> (MockCluster, String) {
    let mut config = cluster_config(faults, seed);
    config.cluster.transaction_version = version;
    let cluster = MockCluster::start(config).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    (cluster, bootstrap)
}

/// [`txn_producer`] after `init_transactions`.
fn initialized(bootstrap: &str, txn_id: &str, deliveries: &Arc<Deliveries>, extra: &[(&str, &str)]) -> P {
    let p = txn_producer(bootstrap, txn_id, deliveries, extra);
    p.init_transactions(T).unwrap();
    p
}

#[test]
fn committed_records_are_read_once_and_aborted_never() {
    let (cluster, bootstrap) = start("", 1);
    let d = Arc::new(Deliveries::default());
    let p = initialized(&bootstrap, "idem-txn-a", &d, &[]);
    let (committed, aborted) = run_transactions(&p, 12, 10);
    assert_eq!((committed.len(), aborted.len()), (80, 40));
    check_views(&bootstrap, &committed, &aborted);
    // Counted after the read-back: the coordinator answers EndTxn once the transaction is
    // Prepare*, and writes the markers after that (as Kafka does).
    let (commits, aborts) = markers(&cluster);
    assert_eq!((commits, aborts), (8 * 3, 4 * 3), "one marker per partition of each transaction");
    assert!(d.failed.lock().unwrap().is_empty());
}

/// librdkafka speaks transactions v1 only (AddPartitionsToTxn, EndTxn below v5): a cluster that
/// finalizes transactions v2 serves it by its requests' versions, as Kafka 4 does.
#[test]
fn a_transactions_v1_client_commits_and_aborts_on_a_transactions_v2_cluster() {
    let (cluster, bootstrap) = start_of("", 1, TransactionVersion::V2);
    let d = Arc::new(Deliveries::default());
    let p = initialized(&bootstrap, "idem-txn-v1-on-v2", &d, &[]);
    let (committed, aborted) = run_transactions(&p, 6, 10);
    check_views(&bootstrap, &committed, &aborted);
    assert_eq!(markers(&cluster), (4 * 3, 2 * 3));
    assert!(d.failed.lock().unwrap().is_empty());
}

#[test]
fn offsets_sent_to_a_transaction_commit_and_abort_with_it() {
    let (_cluster, bootstrap) = start("", 2);
    let d = Arc::new(Deliveries::default());
    let p = initialized(&bootstrap, "idem-txn-offsets", &d, &[]);
    let group = "idem-txn-group";
    let c =
        assign_all(&bootstrap, group, TOPIC, PARTITIONS, Offset::Beginning, &[("isolation.level", "read_committed")]);
    let cgm = c.group_metadata().unwrap();
    let offsets = |base: i64| {
        let mut tpl = TopicPartitionList::new();
        for part in 0..PARTITIONS {
            tpl.add_partition_offset(TOPIC, part, Offset::Offset(base + i64::from(part))).unwrap();
        }
        tpl
    };
    let committed_of = |c: &BaseConsumer| -> Vec<Offset> {
        let tpl = c.committed(T).unwrap();
        (0..PARTITIONS).map(|part| tpl.find_partition(TOPIC, part).unwrap().offset()).collect()
    };
    // Committed with the transaction.
    p.begin_transaction().unwrap();
    assert!(txn_send(&p, 0));
    p.send_offsets_to_transaction(&offsets(10), &cgm, T).unwrap();
    p.commit_transaction(T).unwrap();
    assert_eq!(committed_of(&c), vec![Offset::Offset(10), Offset::Offset(11), Offset::Offset(12)]);
    // Dropped with an abort.
    p.begin_transaction().unwrap();
    assert!(txn_send(&p, 1));
    p.flush(T).unwrap();
    p.send_offsets_to_transaction(&offsets(50), &cgm, T).unwrap();
    p.abort_transaction(T).unwrap();
    assert_eq!(committed_of(&c), vec![Offset::Offset(10), Offset::Offset(11), Offset::Offset(12)]);
    // Offsets only (no record) commit too.
    p.begin_transaction().unwrap();
    p.send_offsets_to_transaction(&offsets(20), &cgm, T).unwrap();
    p.commit_transaction(T).unwrap();
    assert_eq!(committed_of(&c), vec![Offset::Offset(20), Offset::Offset(21), Offset::Offset(22)]);
    check_views(&bootstrap, &BTreeSet::from([0]), &BTreeSet::from([1]));
}

#[test]
fn a_zombie_is_fenced_by_a_new_producer_with_its_transactional_id() {
    let (_cluster, bootstrap) = start("", 3);
    let (da, db) = (Arc::new(Deliveries::default()), Arc::new(Deliveries::default()));
    let zombie = txn_producer(&bootstrap, "idem-txn-zombie", &da, &[]);
    zombie.init_transactions(T).unwrap();
    zombie.begin_transaction().unwrap();
    for n in 0..9 {
        assert!(txn_send(&zombie, n));
    }
    zombie.flush(T).unwrap();
    // The new instance aborts the zombie's open transaction and bumps the epoch.
    let p = initialized(&bootstrap, "idem-txn-zombie", &db, &[]);
    // The zombie's later writes and its commit are refused.
    for n in 9..12 {
        txn_send(&zombie, n);
    }
    let err = zombie.commit_transaction(T).unwrap_err();
    eprintln!("zombie's commit: {err}");
    assert!(matches!(&err, KafkaError::Transaction(e) if e.is_fatal()), "zombie commit: {err}");
    let fatal = zombie.client().fatal_error();
    assert!(fatal.is_some(), "the zombie is fenced (fatal)");
    eprintln!("zombie's fatal error: {fatal:?}");
    p.begin_transaction().unwrap();
    for n in 100..109 {
        assert!(txn_send(&p, n));
    }
    p.commit_transaction(T).unwrap();
    check_views(&bootstrap, &(100..109).collect(), &(0..9).collect());
}

#[test]
fn a_transaction_past_its_timeout_is_aborted() {
    let (_cluster, bootstrap) = start("", 4);
    let d = Arc::new(Deliveries::default());
    let timeouts = [("transaction.timeout.ms", "1000"), ("message.timeout.ms", "1000")];
    let p = initialized(&bootstrap, "idem-txn-timeout", &d, &timeouts);
    p.begin_transaction().unwrap();
    for n in 0..9 {
        assert!(txn_send(&p, n));
    }
    p.flush(T).unwrap();
    std::thread::sleep(Duration::from_millis(1_500));
    let err = p.commit_transaction(T).unwrap_err();
    eprintln!("commit after the timeout: {err}");
    drop(p);
    // A new instance goes on.
    let p = initialized(&bootstrap, "idem-txn-timeout", &d, &[]);
    p.begin_transaction().unwrap();
    for n in 100..103 {
        assert!(txn_send(&p, n));
    }
    p.commit_transaction(T).unwrap();
    check_views(&bootstrap, &(100..103).collect(), &(0..9).collect());
}

#[test]
fn transactions_under_coordinator_faults() {
    let (cluster, bootstrap) =
        start("not_coordinator=0.15,coordinator_loading=0.1,coordinator_move=700ms,delay=0..10ms", 5);
    let d = Arc::new(Deliveries::default());
    let p = initialized(&bootstrap, "idem-txn-faults", &d, &[]);
    let (committed, aborted) = run_transactions(&p, 15, 10);
    let s = cluster.stats();
    eprintln!(
        "committed {}, aborted {}; coordinator errors {}, moves {}",
        committed.len(),
        aborted.len(),
        s.coordinator_errors,
        s.coordinator_moves
    );
    assert!(s.coordinator_errors > 0, "no coordinator fault fired");
    check_views(&bootstrap, &committed, &aborted);
}

#[test]
fn transactions_under_produce_faults() {
    let (_cluster, bootstrap) = start(FAULTS, 6);
    let d = Arc::new(Deliveries::default());
    let p = initialized(&bootstrap, "idem-txn-produce-faults", &d, &[]);
    let (committed, aborted) = run_transactions(&p, 15, 10);
    eprintln!("committed {}, aborted {}", committed.len(), aborted.len());
    assert!(!committed.is_empty());
    // A record of an aborted transaction may not have been written (its delivery failed): only
    // the read_committed view is checked.
    check_committed(&bootstrap, &committed, &aborted);
}

/// What idem's blocking consumer (`idem_std::consumer::Consumer`, one member of its own group,
/// subscribed to the topic) handed out with `isolation.level` = `isolation`: (partition, offset,
/// record number) in the order handed out. Reads until `expected` records came, then 500 ms
/// more to catch any record beyond. A value that is not a record number (a control record's
/// would not be) fails the test.
fn idem_read(bootstrap: &str, isolation: &str, expected: usize) -> Vec<(i32, i64, u64)> {
    use idem_std::consumer::{Consumer as IdemConsumer, ConsumerConfig, ConsumerEvent};
    let mut config = ConsumerConfig::new(bootstrap, &format!("idem-std-{isolation}")).unwrap();
    config.subscribe(TOPIC);
    for (k, v) in [
        ("isolation.level", isolation),
        ("session.timeout.ms", "6000"),
        ("heartbeat.interval.ms", "100"),
        ("retry.backoff.ms", "10"),
        ("reconnect.backoff.ms", "10"),
    ] {
        config.set(k, v).unwrap();
    }
    let mut c = IdemConsumer::new(config).unwrap();
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut complete_at: Option<Instant> = None;
    while complete_at.is_none_or(|t| t.elapsed() < Duration::from_millis(500)) {
        assert!(Instant::now() < deadline, "{isolation}: {} of {expected} records read", got.len());
        match c.poll(Duration::from_millis(20)) {
            Some(ConsumerEvent::Records { partition, records, .. }) => {
                for r in records {
                    let value = r.value.as_deref().unwrap_or_default();
                    let n = std::str::from_utf8(value).ok().and_then(|s| s.parse::<u64>().ok());
                    let n =
                        n.unwrap_or_else(|| panic!("{isolation}: {partition}/{}: not a record: {value:?}", r.offset));
                    got.push((partition, r.offset, n));
                }
            }
            Some(ConsumerEvent::Error(e)) => panic!("{isolation}: {e:?}"),
            _ => {}
        }
        if complete_at.is_none() && got.len() >= expected {
            complete_at = Some(Instant::now());
        }
    }
    assert!(c.close(Duration::from_secs(10)));
    got
}

/// Checks what [`idem_read`] handed out: the record numbers are exactly `want`, each once,
/// offsets ascending per partition, each in its partition (`n % PARTITIONS`).
fn check_idem_view(got: &[(i32, i64, u64)], want: &BTreeSet<u64>, what: &str) {
    let numbers: Vec<u64> = got.iter().map(|&(_, _, n)| n).collect();
    let unique: BTreeSet<u64> = numbers.iter().copied().collect();
    assert_eq!(unique.len(), numbers.len(), "{what}: a record handed out twice");
    assert_eq!(&unique, want, "{what}: records handed out");
    for p in 0..PARTITIONS {
        let offsets: Vec<i64> = got.iter().filter(|r| r.0 == p).map(|r| r.1).collect();
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{what}: partition {p} out of order: {offsets:?}");
    }
    assert!(got.iter().all(|&(p, _, n)| n % PARTITIONS as u64 == p as u64), "{what}: a record in another partition");
}

/// Two librdkafka transactional producers whose transactions overlap in every partition (one
/// aborts every other transaction, the other every third): idem's blocking consumer with
/// `isolation.level=read_committed` hands out exactly the committed records, once each, no
/// aborted record and no marker; with `read_uncommitted`, every record written and no marker.
#[test]
fn idem_consumer_read_committed_reads_exactly_the_committed_records() {
    let (cluster, bootstrap) = start("", 7);
    let d = Arc::new(Deliveries::default());
    let a = initialized(&bootstrap, "idem-rc-a", &d, &[]);
    let b = initialized(&bootstrap, "idem-rc-b", &d, &[]);
    let (mut committed, mut aborted) = (BTreeSet::new(), BTreeSet::new());
    let per_txn = 9;
    for k in 0..8u64 {
        a.begin_transaction().unwrap();
        b.begin_transaction().unwrap();
        let base = k * 2 * per_txn;
        let (ra, rb): (Vec<u64>, Vec<u64>) =
            ((base..base + per_txn).collect(), (base + per_txn..base + 2 * per_txn).collect());
        // Interleaved in each partition, and in the log before either transaction ends.
        let sent = ra.iter().zip(&rb).all(|(&x, &y)| txn_send(&a, x) && txn_send(&b, y));
        assert!(sent && a.flush(T).is_ok() && b.flush(T).is_ok(), "transaction {k} not written");
        let a_done = if k % 2 == 0 { abort(&a) } else { commit(&a) };
        let b_done = if k % 3 == 2 { abort(&b) } else { commit(&b) };
        for (done, records) in [(a_done, ra), (b_done, rb)] {
            if done { committed.extend(records) } else { aborted.extend(records) }
        }
    }
    assert_eq!((committed.len(), aborted.len()), (6 * 9 + 4 * 9, 2 * 9 + 4 * 9));
    let got = idem_read(&bootstrap, "read_committed", committed.len());
    check_idem_view(&got, &committed, "read_committed");
    let got = idem_read(&bootstrap, "read_uncommitted", committed.len() + aborted.len());
    check_idem_view(&got, &committed.union(&aborted).copied().collect(), "read_uncommitted");
    // The markers were there to skip: one per partition of each transaction.
    assert_eq!(markers(&cluster), (10 * 3, 6 * 3));
    assert!(d.failed.lock().unwrap().is_empty());
}
