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
//! `IDEM_RDKAFKA_DEBUG=eos,protocol` prints librdkafka's log, `IDEM_BROKER_LOG=1` the cluster's.
#![allow(clippy::unwrap_used)] // Tests may unwrap (HELPERS.md).

mod rdkafka_common;

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
    let cluster = MockCluster::start(cluster_config(faults, seed)).unwrap();
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
