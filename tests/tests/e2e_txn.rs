//! End to end over real TCP: the transactional producer of both runtimes (idem-std blocking,
//! idem-smol async) against idem's MockCluster. What a `read_committed` consumer reads is taken
//! from the partition logs (`PartitionLog::read_committed`): every committed record once and
//! in order, no aborted one, nothing of a fenced zombie after the fence. Also the Java client's
//! `max.block.ms` contract of a timed-out commit, and misuse answered with typed errors.
#![allow(clippy::unwrap_used, clippy::single_range_in_vec_init)] // lists of record ranges

mod e2e_common;

use std::collections::BTreeMap;
use std::time::Duration;

use e2e_common::{
    by_partition, commit_with_offsets, eventually, idem_cluster, idem_cluster_of, index_of, read_idem_log, test_config,
    transactional, value_of,
};
use idem_core::broker::TransactionVersion;
use idem_std::{
    Config, ConsumerGroupMetadata, DeliveryError, DeliveryHandle, Producer, Record, SendError, TransactionCallError,
    TransactionError, TransactionOp, TransactionState, TxnOffset,
};

const PARTITIONS: i32 = 4;
const WAIT: Duration = Duration::from_secs(20);

fn txn_config(bootstrap: &str, id: &str) -> Config {
    transactional(test_config(bootstrap, 10_000), id)
}

/// Record `i` of a test: keyed by `i`, so spread over the partitions.
fn record(i: u64, v: &[u8; 8]) -> Record<'_> {
    Record::new("t").partition((i % PARTITIONS as u64) as i32).value(v)
}

/// What a `read_committed` consumer reads of topic "t", per partition: the record indexes in
/// log order.
fn committed(cluster: &idem_mock::MockCluster) -> BTreeMap<i32, Vec<u64>> {
    cluster.with_cluster(|c| {
        (0..PARTITIONS)
            .map(|p| {
                let log = c.partition_log("t", p).unwrap().read_committed().unwrap();
                (p, log.iter().map(|(_, v)| index_of(v.as_deref().unwrap())).collect())
            })
            .collect()
    })
}

/// Asserts that a `read_committed` consumer reads exactly `ranges` (once the markers are
/// written: the coordinator writes them a few milliseconds after answering EndTxn, as Kafka's).
fn assert_committed(cluster: &idem_mock::MockCluster, ranges: &[std::ops::Range<u64>], why: &str) {
    let want = by_partition(ranges, PARTITIONS);
    eventually(Duration::from_secs(5), || committed(cluster) == want);
    assert_eq!(committed(cluster), want, "{why}");
}

fn send_range(p: &Producer, range: std::ops::Range<u64>) -> Vec<DeliveryHandle> {
    e2e_common::send_range(p, range, PARTITIONS)
}

#[test]
fn std_committed_records_are_read_once_in_order_and_aborted_ones_never() {
    committed_once_in_order_aborted_never(TransactionVersion::V1);
}

/// The same on a cluster that finalizes transactions v2 (KIP-890): partitions and the group
/// join through Produce v12 and TxnOffsetCommit v5, every end bumps the epoch.
#[test]
fn std_transactions_v2_committed_records_are_read_once_in_order_and_aborted_ones_never() {
    committed_once_in_order_aborted_never(TransactionVersion::V2);
}

/// Commits, aborts (after a flush, and without one) and offsets on a cluster of `version`.
fn committed_once_in_order_aborted_never(version: TransactionVersion) {
    let cluster = idem_cluster_of(3, "t", PARTITIONS, "", version);
    let p = Producer::new(txn_config(&cluster.bootstrap_servers(), "std-1")).unwrap();
    assert_eq!(p.transaction_state(), Some(TransactionState::Uninitialized));
    p.init_transactions(WAIT).unwrap();
    assert_eq!(p.transaction_state(), Some(TransactionState::Ready));

    p.begin_transaction().unwrap();
    let first = send_range(&p, 0..200);
    p.commit_transaction(WAIT).unwrap();
    for h in first {
        assert!(h.try_result().expect("reported before the commit ended").is_ok());
    }

    p.begin_transaction().unwrap();
    let aborted = send_range(&p, 200..400);
    p.flush_timeout(WAIT).unwrap(); // written to the logs, then aborted
    p.abort_transaction(WAIT).unwrap();
    for h in aborted {
        match h.wait_timeout(WAIT).expect("reported") {
            Ok(_) => {}
            Err(f) => assert_eq!(f.error, DeliveryError::TransactionAborted, "{f}"),
        }
    }

    let offsets = [TxnOffset { topic: "input", partition: 0, offset: 17 }];
    commit_with_offsets(&p, 400..500, PARTITIONS, &offsets, "g");

    // Aborted ones without a commit after them: a transaction that never reaches the logs'
    // consumers.
    p.begin_transaction().unwrap();
    let _ = send_range(&p, 500..550);
    p.abort_transaction(WAIT).unwrap();
    assert_eq!(p.transaction_state(), Some(TransactionState::Ready));
    // Transactions v2: each of the 4 ends bumped the epoch; v1 keeps it.
    let bumps = if version == TransactionVersion::V2 { 4 } else { 0 };
    assert_eq!(p.metrics().epoch_bumps, bumps);
    assert!(p.close_timeout(WAIT).fatal.is_none());

    assert_committed(&cluster, &[0..200, 400..500], "read_committed");
    // The aborted records are in the logs: only the markers hide them.
    let uncommitted = read_idem_log(&cluster, "t", PARTITIONS);
    let written = |r: &e2e_common::Read| r.value.len() == 8 && (200..400).contains(&index_of(&r.value));
    assert!(uncommitted.iter().any(written), "the aborted ones were written");
}

/// A zombie: a producer started, then fenced by a second one with the same `transactional.id`
/// (whose `init_transactions` aborts the zombie's open transaction), with records 0..50
/// written before the fence, its `delivery.timeout.ms` `delivery_ms`. Returns it and its
/// successor.
fn zombie_and_successor(cluster: &idem_mock::MockCluster, id: &str, delivery_ms: u64) -> (Producer, Producer) {
    let bootstrap = cluster.bootstrap_servers();
    let zombie = Producer::new(transactional(test_config(&bootstrap, delivery_ms), id)).unwrap();
    zombie.init_transactions(WAIT).unwrap();
    zombie.begin_transaction().unwrap();
    let before = send_range(&zombie, 0..50);
    zombie.flush_timeout(WAIT).unwrap();
    assert!(before.iter().all(|h| h.try_result().is_some_and(|r| r.is_ok())));
    let successor = Producer::new(txn_config(&bootstrap, id)).unwrap();
    successor.init_transactions(WAIT).unwrap();
    (zombie, successor)
}

/// The successor commits records 100..150: they alone are read.
fn successor_commits(cluster: &idem_mock::MockCluster, successor: Producer) {
    successor.begin_transaction().unwrap();
    let _ = send_range(&successor, 100..150);
    successor.commit_transaction(WAIT).unwrap();
    assert!(successor.close_timeout(WAIT).fatal.is_none());
    assert_committed(cluster, &[100..150], "nothing of the zombie is read");
}

#[test]
fn std_a_fenced_zombie_fails_fatally_at_commit_and_nothing_it_wrote_is_read() {
    let cluster = idem_cluster(3, "t", PARTITIONS, "");
    let (zombie, successor) = zombie_and_successor(&cluster, "zombie-commit", 10_000);
    // EndTxn with the old epoch: PRODUCER_FENCED (or INVALID_PRODUCER_EPOCH), fatal.
    let e = zombie.commit_transaction(WAIT).unwrap_err();
    assert!(e.fatal().is_some(), "the zombie's commit fails fatally: {e}");
    assert!(zombie.fatal_error().is_some());
    assert_eq!(zombie.begin_transaction().unwrap_err().fatal(), e.fatal(), "and stays failed");
    assert!(matches!(zombie.send(&record(60, &value_of(60))), Err(SendError::Fatal(_))));
    successor_commits(&cluster, successor);
}

#[test]
fn std_a_fenced_zombie_writing_after_the_fence_must_abort_and_then_fails_fatally() {
    zombie_writing_after_the_fence(TransactionVersion::V1);
}

/// Under transactions v2 the zombie's Produce v12 meets the fence at the partition leader, and
/// its batches wait for the abort: the commit must still return (abortable) at once.
#[test]
fn std_transactions_v2_a_fenced_zombie_writing_after_the_fence_must_abort_and_then_fails_fatally() {
    zombie_writing_after_the_fence(TransactionVersion::V2);
}

/// A zombie's records after the fence are refused by the partitions' leaders with
/// INVALID_PRODUCER_EPOCH, an abortable error for a Produce (KIP-588, as the Java client's
/// `InvalidProducerEpochException`): the commit fails abortable, and the abort, whose EndTxn
/// carries the old epoch, fails fatally. Nothing after the fence is delivered.
fn zombie_writing_after_the_fence(version: TransactionVersion) {
    let cluster = idem_cluster_of(3, "t", PARTITIONS, "", version);
    // Its records are not given up before the commit's wait ends: the commit must end on its
    // own, not because they expired.
    let (zombie, successor) = zombie_and_successor(&cluster, "zombie-write", 3 * WAIT.as_millis() as u64);
    let after = send_range(&zombie, 50..100);
    let e = zombie.commit_transaction(WAIT).unwrap_err();
    assert!(e.is_abortable(), "{e}");
    let e = zombie.abort_transaction(WAIT).unwrap_err();
    assert!(e.fatal().is_some(), "the zombie's abort fails fatally: {e}");
    assert!(zombie.fatal_error().is_some());
    for h in after {
        assert!(h.wait_timeout(WAIT).expect("reported").is_err(), "no record after the fence is delivered");
    }
    successor_commits(&cluster, successor);
}

#[test]
fn std_a_timed_out_commit_goes_on_and_calling_it_again_waits_for_the_same_commit() {
    let cluster = idem_cluster(1, "t", PARTITIONS, "");
    let p = Producer::new(txn_config(&cluster.bootstrap_servers(), "timeout")).unwrap();
    p.init_transactions(WAIT).unwrap();
    p.begin_transaction().unwrap();
    let _ = send_range(&p, 0..100);
    let e = p.commit_transaction(Duration::ZERO).unwrap_err();
    assert_eq!(e, TransactionCallError::TimedOut(TransactionOp::Commit));
    assert!(e.is_retriable());
    // Until the commit's result is taken, other transactional calls are refused.
    let in_progress = TransactionCallError::Transaction(TransactionError::InProgress(TransactionOp::Commit));
    assert_eq!(p.abort_transaction(WAIT).unwrap_err(), in_progress);
    assert_eq!(p.begin_transaction().unwrap_err(), in_progress);
    // Let it end before asking again: the result was kept.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(p.transaction_state(), Some(TransactionState::Ready));
    p.commit_transaction(WAIT).unwrap();
    // Taken: the next transaction starts.
    p.begin_transaction().unwrap();
    let _ = send_range(&p, 100..104);
    p.commit_transaction(WAIT).unwrap();
    assert!(p.close_timeout(WAIT).fatal.is_none());
    assert_committed(&cluster, &[0..104], "read_committed");
}

#[test]
fn misuse_gets_typed_errors_and_changes_nothing() {
    let cluster = idem_cluster(1, "t", PARTITIONS, "");
    let bootstrap = cluster.bootstrap_servers();
    let invalid = |op, state| TransactionCallError::Transaction(TransactionError::InvalidState { op, state });

    // Not transactional.
    let plain = Producer::new(test_config(&bootstrap, 10_000)).unwrap();
    let not_txn = TransactionCallError::Transaction(TransactionError::NotTransactional);
    assert_eq!(plain.init_transactions(WAIT).unwrap_err(), not_txn);
    assert_eq!(plain.begin_transaction().unwrap_err(), not_txn);
    assert_eq!(plain.commit_transaction(WAIT).unwrap_err(), not_txn);
    assert_eq!(plain.transaction_state(), None);
    assert!(plain.send(&record(0, &value_of(0))).unwrap().wait_timeout(WAIT).unwrap().is_ok());

    let p = Producer::new(txn_config(&bootstrap, "misuse")).unwrap();
    // Before init_transactions.
    use TransactionState::{InTransaction, Ready, Uninitialized};
    assert_eq!(p.begin_transaction().unwrap_err(), invalid(TransactionOp::Begin, Uninitialized));
    let send_refused =
        |state| SendError::Transaction(TransactionError::InvalidState { op: TransactionOp::Send, state });
    assert_eq!(p.send(&record(1, &value_of(1))).unwrap_err(), send_refused(Uninitialized));
    p.init_transactions(WAIT).unwrap();
    // Initialized, no transaction open.
    assert_eq!(p.init_transactions(WAIT).unwrap_err(), invalid(TransactionOp::Init, Ready));
    assert_eq!(p.send(&record(1, &value_of(1))).unwrap_err(), send_refused(Ready));
    assert_eq!(p.try_send(&record(1, &value_of(1))).unwrap_err(), send_refused(Ready));
    let many = [record(1, &[1; 8])];
    assert_eq!(p.send_many(&many).unwrap_err().error, send_refused(Ready));
    assert_eq!(p.commit_transaction(WAIT).unwrap_err(), invalid(TransactionOp::Commit, Ready));
    assert_eq!(p.abort_transaction(WAIT).unwrap_err(), invalid(TransactionOp::Abort, Ready));
    let group = ConsumerGroupMetadata::new("g");
    assert_eq!(
        p.send_offsets_to_transaction(&[], &group, WAIT).unwrap_err(),
        invalid(TransactionOp::SendOffsets, Ready)
    );
    // Begin twice.
    p.begin_transaction().unwrap();
    assert_eq!(p.begin_transaction().unwrap_err(), invalid(TransactionOp::Begin, InTransaction));
    assert_eq!(p.transaction_state(), Some(InTransaction));
    p.send(&record(2, &value_of(2))).unwrap();
    p.send_offsets_to_transaction(&[], &group, WAIT).unwrap(); // no offsets: ends at once
    p.commit_transaction(WAIT).unwrap();
    // Closed.
    assert!(p.close_timeout(WAIT).all_delivered());
    assert_eq!(p.begin_transaction().unwrap_err(), TransactionCallError::Closed);
    assert_eq!(p.commit_transaction(WAIT).unwrap_err(), TransactionCallError::Closed);
    assert_committed(&cluster, &[0..1, 2..3], "read_committed");
}

#[test]
fn smol_committed_records_are_read_and_aborted_ones_never() {
    let cluster = idem_cluster(3, "t", PARTITIONS, "");
    let p = idem_smol::Producer::new(txn_config(&cluster.bootstrap_servers(), "smol-1")).unwrap();
    smol::block_on(async {
        p.init_transactions(WAIT).await.unwrap();
        for (range, commit) in [(0..150, true), (150..300, false), (300..400, true)] {
            p.begin_transaction().unwrap();
            let mut handles = Vec::new();
            for i in range {
                handles.push(p.send(&record(i, &value_of(i))).await.unwrap());
            }
            if commit {
                p.commit_transaction(WAIT).await.unwrap();
            } else {
                p.flush().await;
                p.abort_transaction(WAIT).await.unwrap();
            }
            for h in handles {
                let r = h.await;
                assert!(r.is_ok() || !commit, "{r:?}");
            }
        }
        // A dropped wait is a timed-out one: the commit goes on and the next call gets it.
        p.begin_transaction().unwrap();
        p.send(&record(400, &value_of(400))).await.unwrap();
        drop(p.commit_transaction(WAIT)); // never polled: nothing started
        let e = p.commit_transaction(Duration::ZERO).await.unwrap_err();
        assert_eq!(e, TransactionCallError::TimedOut(TransactionOp::Commit));
        p.commit_transaction(WAIT).await.unwrap();
        assert!(p.close_timeout(WAIT).await.fatal.is_none());
    });
    assert_committed(&cluster, &[0..150, 300..401], "read_committed");
}
