//! The transaction coordinator's state machine: every transition, fencing, timeouts,
//! CONCURRENT_TRANSACTIONS and bad input.

use super::*;
use crate::proto::init_producer_id::LAST_EPOCH;
use alloc::string::ToString;
use alloc::vec;

const FENCED: ErrorCode = ErrorCode::PRODUCER_FENCED;

fn ms(n: u64) -> Instant {
    Instant::from_millis(n)
}

fn coordinator() -> TxnCoordinator {
    TxnCoordinator::new(TxnConfig { marker_delay: Duration::from_millis(5), ..TxnConfig::default() })
}

/// A producer id allocator counting from 1000.
fn ids() -> impl FnMut() -> Option<i64> {
    let mut next = 1000;
    move || {
        next += 1;
        Some(next - 1)
    }
}

fn who(transactional_id: &str, producer_id: i64, producer_epoch: i16, fenced: ErrorCode) -> TxnCaller<'_> {
    TxnCaller { transactional_id, producer_id, producer_epoch, fenced }
}

fn tp(t: &str, p: i32) -> TopicPartition {
    (t.to_string(), p)
}

fn offset(partition: i32, offset: i64) -> CommitPartition {
    CommitPartition { partition, offset, leader_epoch: -1, metadata: None }
}

#[test]
fn init_then_commit_writes_commit_markers_and_offsets() {
    let (mut c, mut alloc) = (coordinator(), ids());
    assert_eq!(c.init_producer_id(ms(0), "t", 60_000, None, FENCED, &mut alloc), Ok((1000, 0)));
    assert_eq!(c.state("t"), Some(TxnState::Empty));
    assert_eq!(c.add_partitions(ms(1), &who("t", 1000, 0, FENCED), &[tp("a", 0), tp("a", 1)]), ErrorCode::NONE);
    assert_eq!(c.state("t"), Some(TxnState::Ongoing));
    assert_eq!(c.check_produce(1000, 0, &tp("a", 0)), ErrorCode::NONE);
    assert_eq!(c.check_produce(1000, 0, &tp("a", 2)), ErrorCode::INVALID_TXN_STATE);
    assert_eq!(c.add_offsets(ms(2), &who("t", 1000, 0, FENCED), "g"), ErrorCode::NONE);
    assert_eq!(
        c.txn_offset_commit(ms(3), &who("t", 1000, 0, ErrorCode::INVALID_PRODUCER_EPOCH), "g", "a", &offset(0, 7)),
        ErrorCode::NONE
    );
    assert!(c.has_pending_offset("g", "a", 0));
    assert!(!c.has_pending_offset("g", "a", 1));
    assert_eq!(c.end_txn_v1(ms(4), &who("t", 1000, 0, FENCED), true), ErrorCode::NONE);
    assert_eq!(c.state("t"), Some(TxnState::PrepareCommit));
    // While the markers are written: everything waits.
    assert_eq!(c.add_partitions(ms(5), &who("t", 1000, 0, FENCED), &[tp("a", 0)]), ErrorCode::CONCURRENT_TRANSACTIONS);
    assert_eq!(c.end_txn_v1(ms(5), &who("t", 1000, 0, FENCED), true), ErrorCode::CONCURRENT_TRANSACTIONS);
    assert_eq!(c.end_txn_v1(ms(5), &who("t", 1000, 0, FENCED), false), ErrorCode::INVALID_TXN_STATE);
    assert_eq!(
        c.init_producer_id(ms(5), "t", 60_000, None, FENCED, &mut alloc),
        Err(ErrorCode::CONCURRENT_TRANSACTIONS)
    );
    assert_eq!(c.check_produce(1000, 0, &tp("a", 0)), ErrorCode::INVALID_TXN_STATE);
    assert_eq!(c.next_deadline(), Some(ms(9)));
    assert!(c.on_timeout(ms(8)).is_empty());
    let markers = c.on_timeout(ms(9));
    assert_eq!(
        markers,
        vec![Markers {
            producer_id: 1000,
            producer_epoch: 0,
            result: TransactionResult::Commit,
            partitions: vec![tp("a", 0), tp("a", 1)],
            offsets: vec![("g".to_string(), "a".to_string(), offset(0, 7))],
        }]
    );
    assert_eq!(c.state("t"), Some(TxnState::CompleteCommit));
    assert!(!c.has_pending_offset("g", "a", 0));
    let week = Duration::from_secs(7 * 24 * 60 * 60);
    assert_eq!(c.next_deadline(), Some(ms(9) + week), "only the idle id's expiry");
    // A retried commit is answered NONE, an abort of it INVALID_TXN_STATE.
    assert_eq!(c.end_txn_v1(ms(10), &who("t", 1000, 0, FENCED), true), ErrorCode::NONE);
    assert_eq!(c.end_txn_v1(ms(10), &who("t", 1000, 0, FENCED), false), ErrorCode::INVALID_TXN_STATE);
    // The next transaction starts from CompleteCommit.
    assert_eq!(c.add_partitions(ms(11), &who("t", 1000, 0, FENCED), &[tp("a", 1)]), ErrorCode::NONE);
    assert_eq!(c.state("t"), Some(TxnState::Ongoing));
}

#[test]
fn abort_drops_pending_offsets() {
    let (mut c, mut alloc) = (coordinator(), ids());
    c.init_producer_id(ms(0), "t", 60_000, None, FENCED, &mut alloc).ok();
    assert_eq!(c.add_offsets(ms(1), &who("t", 1000, 0, FENCED), "g"), ErrorCode::NONE);
    assert_eq!(
        c.txn_offset_commit(ms(1), &who("t", 1000, 0, ErrorCode::INVALID_PRODUCER_EPOCH), "g", "a", &offset(0, 7)),
        ErrorCode::NONE
    );
    assert_eq!(c.end_txn_v1(ms(2), &who("t", 1000, 0, FENCED), false), ErrorCode::NONE);
    assert_eq!(c.state("t"), Some(TxnState::PrepareAbort));
    assert_eq!(c.end_txn_v1(ms(3), &who("t", 1000, 0, FENCED), false), ErrorCode::CONCURRENT_TRANSACTIONS);
    assert_eq!(c.end_txn_v1(ms(3), &who("t", 1000, 0, FENCED), true), ErrorCode::INVALID_TXN_STATE);
    let m = c.on_timeout(ms(7));
    assert_eq!(m.len(), 1);
    assert_eq!((m[0].result, m[0].offsets.len(), m[0].partitions.len()), (TransactionResult::Abort, 0, 0));
    assert_eq!(c.state("t"), Some(TxnState::CompleteAbort));
    assert_eq!(c.end_txn_v1(ms(8), &who("t", 1000, 0, FENCED), false), ErrorCode::NONE);
    assert_eq!(c.end_txn_v1(ms(8), &who("t", 1000, 0, FENCED), true), ErrorCode::INVALID_TXN_STATE);
}

#[test]
fn init_bumps_the_epoch_and_fences_the_zombie() {
    let (mut c, mut alloc) = (coordinator(), ids());
    assert_eq!(c.init_producer_id(ms(0), "t", 60_000, None, FENCED, &mut alloc), Ok((1000, 0)));
    assert_eq!(c.init_producer_id(ms(1), "t", 60_000, None, FENCED, &mut alloc), Ok((1000, 1)));
    // The zombie (epoch 0) is fenced everywhere.
    assert_eq!(c.add_partitions(ms(2), &who("t", 1000, 0, FENCED), &[tp("a", 0)]), FENCED);
    let old = ErrorCode::INVALID_PRODUCER_EPOCH;
    assert_eq!(c.add_partitions(ms(2), &who("t", 1000, 0, old), &[tp("a", 0)]), old);
    assert_eq!(c.add_offsets(ms(2), &who("t", 1000, 0, FENCED), "g"), FENCED);
    assert_eq!(c.end_txn_v1(ms(2), &who("t", 1000, 0, FENCED), true), FENCED);
    assert_eq!(
        c.txn_offset_commit(ms(2), &who("t", 1000, 0, ErrorCode::INVALID_PRODUCER_EPOCH), "g", "a", &offset(0, 1)),
        old
    );
    // KIP-360: a v3+ request naming an old epoch is fenced, the current one bumps.
    assert_eq!(c.init_producer_id(ms(3), "t", 60_000, Some((1000, 0)), FENCED, &mut alloc), Err(FENCED));
    assert_eq!(c.init_producer_id(ms(3), "t", 60_000, Some((1000, 1)), FENCED, &mut alloc), Ok((1000, 2)));
    // The new producer's transaction; the zombie's batches are refused.
    assert_eq!(c.add_partitions(ms(4), &who("t", 1000, 2, FENCED), &[tp("a", 0)]), ErrorCode::NONE);
    assert_eq!(c.check_produce(1000, 1, &tp("a", 0)), ErrorCode::INVALID_PRODUCER_EPOCH);
    assert_eq!(c.check_produce(1000, 2, &tp("a", 0)), ErrorCode::NONE);
}

#[test]
fn init_during_an_ongoing_transaction_aborts_it_first() {
    let (mut c, mut alloc) = (coordinator(), ids());
    c.init_producer_id(ms(0), "t", 60_000, None, FENCED, &mut alloc).ok();
    assert_eq!(c.add_partitions(ms(1), &who("t", 1000, 0, FENCED), &[tp("a", 0)]), ErrorCode::NONE);
    assert_eq!(
        c.init_producer_id(ms(2), "t", 60_000, None, FENCED, &mut alloc),
        Err(ErrorCode::CONCURRENT_TRANSACTIONS)
    );
    assert_eq!(c.state("t"), Some(TxnState::PrepareAbort));
    // The abort's markers carry the bumped epoch, which fences the old producer.
    assert_eq!(c.producer("t"), Some((1000, 1)));
    assert_eq!(c.check_produce(1000, 0, &tp("a", 0)), ErrorCode::INVALID_PRODUCER_EPOCH);
    let m = c.on_timeout(ms(7));
    assert_eq!(
        (m[0].result, m[0].producer_epoch, m[0].partitions.clone()),
        (TransactionResult::Abort, 1, vec![tp("a", 0)])
    );
    assert_eq!(c.init_producer_id(ms(8), "t", 60_000, None, FENCED, &mut alloc), Ok((1000, 2)));
    assert_eq!(c.state("t"), Some(TxnState::Empty));
}

#[test]
fn timeout_aborts_with_an_epoch_bump() {
    let (mut c, mut alloc) = (coordinator(), ids());
    c.init_producer_id(ms(0), "t", 1_000, None, FENCED, &mut alloc).ok();
    assert_eq!(c.add_partitions(ms(100), &who("t", 1000, 0, FENCED), &[tp("a", 0)]), ErrorCode::NONE);
    // The timeout runs from the first AddPartitions, not from InitProducerId.
    assert_eq!(c.add_partitions(ms(900), &who("t", 1000, 0, FENCED), &[tp("a", 1)]), ErrorCode::NONE);
    assert_eq!(c.next_deadline(), Some(ms(1_100)));
    assert!(c.on_timeout(ms(1_100)).is_empty());
    assert_eq!(c.state("t"), Some(TxnState::PrepareAbort));
    assert_eq!(c.producer("t"), Some((1000, 1)));
    // The next timer is the abort's markers.
    assert_eq!(c.next_deadline(), Some(ms(1_105)));
    let m = c.on_timeout(ms(1_105));
    assert_eq!((m[0].result, m[0].producer_epoch, m[0].partitions.len()), (TransactionResult::Abort, 1, 2));
    // The timed-out producer's commit is fenced.
    assert_eq!(c.end_txn_v1(ms(1_200), &who("t", 1000, 0, FENCED), true), FENCED);
}

#[test]
fn a_request_after_the_timeout_sees_it_first() {
    let (mut c, mut alloc) = (coordinator(), ids());
    c.init_producer_id(ms(0), "t", 1_000, None, FENCED, &mut alloc).ok();
    assert_eq!(c.add_partitions(ms(0), &who("t", 1000, 0, FENCED), &[tp("a", 0)]), ErrorCode::NONE);
    // No timer pass ran: the EndTxn itself finds the transaction timed out.
    assert_eq!(c.end_txn_v1(ms(1_000), &who("t", 1000, 0, FENCED), true), FENCED);
    assert_eq!(c.state("t"), Some(TxnState::PrepareAbort));
    assert_eq!(c.next_deadline(), Some(ms(1_005)));
}

#[test]
fn epoch_exhaustion_gives_a_new_producer_id() {
    let (mut c, mut alloc) = (coordinator(), ids());
    c.init_producer_id(ms(0), "t", 60_000, None, FENCED, &mut alloc).ok();
    if let Some(t) = c.txns.get_mut("t") {
        t.producer_epoch = crate::proto::init_producer_id::LAST_EPOCH - 2;
    }
    assert_eq!(c.init_producer_id(ms(1), "t", 60_000, None, FENCED, &mut alloc), Ok((1000, i16::MAX - 2)));
    assert_eq!(c.init_producer_id(ms(2), "t", 60_000, None, FENCED, &mut alloc), Ok((1001, 0)));
    assert_eq!(c.add_partitions(ms(3), &who("t", 1001, 0, FENCED), &[tp("a", 0)]), ErrorCode::NONE);
    assert_eq!(c.check_produce(1001, 0, &tp("a", 0)), ErrorCode::NONE);
    assert_eq!(c.check_produce(1000, i16::MAX - 2, &tp("a", 0)), ErrorCode::INVALID_TXN_STATE);
}

#[test]
fn bad_input_gets_kafkas_codes() {
    let (mut c, mut alloc) = (coordinator(), ids());
    for bad in [0, -1, 15 * 60 * 1000 + 1, i32::MAX] {
        assert_eq!(
            c.init_producer_id(ms(0), "t", bad, None, FENCED, &mut alloc),
            Err(ErrorCode::INVALID_TRANSACTION_TIMEOUT)
        );
    }
    assert_eq!(c.init_producer_id(ms(0), "t", 15 * 60 * 1000, None, FENCED, &mut alloc), Ok((1000, 0)));
    // Unknown transactional id, or another producer id.
    assert_eq!(
        c.add_partitions(ms(1), &who("u", 1000, 0, FENCED), &[tp("a", 0)]),
        ErrorCode::INVALID_PRODUCER_ID_MAPPING
    );
    assert_eq!(c.add_offsets(ms(1), &who("u", 1000, 0, FENCED), "g"), ErrorCode::INVALID_PRODUCER_ID_MAPPING);
    assert_eq!(c.end_txn_v1(ms(1), &who("u", 1000, 0, FENCED), true), ErrorCode::INVALID_PRODUCER_ID_MAPPING);
    assert_eq!(
        c.add_partitions(ms(1), &who("t", 77, 0, FENCED), &[tp("a", 0)]),
        ErrorCode::INVALID_PRODUCER_ID_MAPPING
    );
    // A producer id and epoch for an unknown transactional id (a producer recovering from
    // UNKNOWN_PRODUCER_ID after its id expired): a fresh id at epoch 0, as Kafka's
    // `isValidProducerId` allows for metadata just created.
    assert_eq!(c.init_producer_id(ms(1), "u", 60_000, Some((5, 0)), FENCED, &mut alloc), Ok((1001, 0)));
    // EndTxn without a transaction.
    assert_eq!(c.end_txn_v1(ms(1), &who("t", 1000, 0, FENCED), true), ErrorCode::INVALID_TXN_STATE);
    assert_eq!(c.end_txn_v1(ms(1), &who("t", 1000, 0, FENCED), false), ErrorCode::INVALID_TXN_STATE);
    // TxnOffsetCommit without AddOffsetsToTxn.
    assert_eq!(
        c.txn_offset_commit(ms(1), &who("t", 1000, 0, ErrorCode::INVALID_PRODUCER_EPOCH), "g", "a", &offset(0, 1)),
        ErrorCode::INVALID_TXN_STATE
    );
    // A transactional batch of a producer id no transactional id owns.
    assert_eq!(c.check_produce(5, 0, &tp("a", 0)), ErrorCode::INVALID_TXN_STATE);
}

#[test]
fn limits_bound_what_clients_make_the_coordinator_hold() {
    let config =
        TxnConfig { max_transactional_ids: 2, max_partitions: 2, max_pending_offsets: 1, ..TxnConfig::default() };
    let (mut c, mut alloc) = (TxnCoordinator::new(config), ids());
    assert_eq!(c.init_producer_id(ms(0), "a", 60_000, None, FENCED, &mut alloc), Ok((1000, 0)));
    assert_eq!(c.init_producer_id(ms(0), "b", 60_000, None, FENCED, &mut alloc), Ok((1001, 0)));
    assert_eq!(
        c.add_partitions(ms(0), &who("a", 1000, 0, FENCED), &[tp("x", 0), tp("x", 1), tp("x", 2)]),
        ErrorCode::INVALID_REQUEST
    );
    assert_eq!(c.add_partitions(ms(0), &who("a", 1000, 0, FENCED), &[tp("x", 0), tp("x", 1)]), ErrorCode::NONE);
    assert_eq!(c.add_partitions(ms(0), &who("b", 1001, 0, FENCED), &[tp("x", 0)]), ErrorCode::NONE);
    // Both in flight: no room for a third.
    assert_eq!(
        c.init_producer_id(ms(0), "c", 60_000, None, FENCED, &mut alloc),
        Err(ErrorCode::COORDINATOR_NOT_AVAILABLE)
    );
    assert_eq!(c.add_offsets(ms(0), &who("a", 1000, 0, FENCED), "g"), ErrorCode::NONE);
    assert_eq!(
        c.txn_offset_commit(ms(0), &who("a", 1000, 0, ErrorCode::INVALID_PRODUCER_EPOCH), "g", "x", &offset(0, 1)),
        ErrorCode::NONE
    );
    assert_eq!(
        c.txn_offset_commit(ms(0), &who("a", 1000, 0, ErrorCode::INVALID_PRODUCER_EPOCH), "g", "x", &offset(0, 2)),
        ErrorCode::NONE
    );
    assert_eq!(
        c.txn_offset_commit(ms(0), &who("a", 1000, 0, ErrorCode::INVALID_PRODUCER_EPOCH), "g", "x", &offset(1, 1)),
        ErrorCode::INVALID_COMMIT_OFFSET_SIZE
    );
    // Once one completes, it makes room.
    assert_eq!(c.end_txn_v1(ms(1), &who("b", 1001, 0, FENCED), false), ErrorCode::NONE);
    c.on_timeout(ms(10));
    assert_eq!(c.init_producer_id(ms(10), "c", 60_000, None, FENCED, &mut alloc), Ok((1002, 0)));
    assert_eq!(c.state("b"), None);
    assert_eq!(c.check_produce(1001, 0, &tp("x", 0)), ErrorCode::INVALID_TXN_STATE);
}

/// A KIP-360 InitProducerId of "t" (timeout 1 s) at `at` ms naming `producer`, fenced with
/// PRODUCER_FENCED.
fn init_as(
    c: &mut TxnCoordinator,
    alloc: &mut dyn FnMut() -> Option<i64>,
    at: u64,
    producer: Granted,
) -> Result<Granted, ErrorCode> {
    c.init_producer_id(ms(at), "t", 1_000, Some(producer), FENCED, alloc)
}

/// A coordinator where "t"'s producer 1000 bumped its epoch from 0 to 1 with a KIP-360
/// InitProducerId (epoch 0 is the last epoch), and its producer id allocator.
fn after_a_bump() -> (TxnCoordinator, impl FnMut() -> Option<i64>) {
    let (mut c, mut alloc) = (coordinator(), ids());
    assert_eq!(c.init_producer_id(ms(0), "t", 1_000, None, FENCED, &mut alloc), Ok((1000, 0)));
    assert_eq!(init_as(&mut c, &mut alloc, 1, (1000, 0)), Ok((1000, 1)));
    (c, alloc)
}

#[test]
fn a_retried_epoch_bump_gets_the_same_answer() {
    // A KIP-360 bump from epoch 0 whose answer is lost: the producer retries with epoch 0.
    let (mut c, mut alloc) = after_a_bump();
    assert_eq!(init_as(&mut c, &mut alloc, 2, (1000, 0)), Ok((1000, 1)));
    assert_eq!(init_as(&mut c, &mut alloc, 3, (1000, 0)), Ok((1000, 1)));
    assert_eq!(c.producer("t"), Some((1000, 1)));
    // A transaction in between keeps it a retry (Kafka v1 keeps `lastProducerEpoch` through
    // AddPartitions, EndTxn and the markers).
    assert_eq!(c.add_partitions(ms(4), &who("t", 1000, 1, FENCED), &[tp("a", 0)]), ErrorCode::NONE);
    assert_eq!(c.end_txn_v1(ms(4), &who("t", 1000, 1, FENCED), true), ErrorCode::NONE);
    assert_eq!(c.on_timeout(ms(9)).len(), 1);
    assert_eq!(init_as(&mut c, &mut alloc, 10, (1000, 0)), Ok((1000, 1)));
    // The next bump makes epoch 1 the last one: epoch 0 is now older than the last, fenced.
    assert_eq!(init_as(&mut c, &mut alloc, 11, (1000, 1)), Ok((1000, 2)));
    assert_eq!(init_as(&mut c, &mut alloc, 12, (1000, 0)), Err(FENCED));
    let v3 = ErrorCode::INVALID_PRODUCER_EPOCH;
    assert_eq!(c.init_producer_id(ms(12), "t", 60_000, Some((1000, 0)), v3, &mut alloc), Err(v3));
    assert_eq!(init_as(&mut c, &mut alloc, 13, (1000, 1)), Ok((1000, 2)));
    assert_eq!(c.producer("t"), Some((1000, 2)));
    // An epoch above the current one was never granted.
    assert_eq!(init_as(&mut c, &mut alloc, 14, (1000, 3)), Err(FENCED));
    assert_eq!(c.producer("t"), Some((1000, 2)));
}

#[test]
fn a_new_producer_or_a_fence_ends_the_retry() {
    let (mut c, mut alloc) = after_a_bump();
    // Another producer of the same transactional id (no id and epoch): epoch 0 is no retry now.
    assert_eq!(c.init_producer_id(ms(2), "t", 1_000, None, FENCED, &mut alloc), Ok((1000, 2)));
    assert_eq!(init_as(&mut c, &mut alloc, 3, (1000, 0)), Err(FENCED));
    assert_eq!(init_as(&mut c, &mut alloc, 3, (1000, 1)), Err(FENCED));
    // A bump, then a timeout's fencing abort: the bump's retry is fenced after it.
    assert_eq!(init_as(&mut c, &mut alloc, 4, (1000, 2)), Ok((1000, 3)));
    assert_eq!(c.add_partitions(ms(5), &who("t", 1000, 3, FENCED), &[tp("a", 0)]), ErrorCode::NONE);
    c.on_timeout(ms(1_005));
    assert_eq!(c.producer("t"), Some((1000, 4)));
    c.on_timeout(ms(1_010));
    assert_eq!(c.state("t"), Some(TxnState::CompleteAbort));
    assert_eq!(init_as(&mut c, &mut alloc, 1_011, (1000, 2)), Err(FENCED));
    // The fenced producer bumps from the fencing epoch, as librdkafka does after a fence.
    assert_eq!(init_as(&mut c, &mut alloc, 1_012, (1000, 4)), Ok((1000, 5)));
}

#[test]
fn a_retried_bump_that_gave_a_new_producer_id_gets_it_again() {
    let (mut c, mut alloc) = (coordinator(), ids());
    c.init_producer_id(ms(0), "t", 60_000, None, FENCED, &mut alloc).ok();
    let last = crate::proto::init_producer_id::LAST_EPOCH - 1;
    if let Some(t) = c.txns.get_mut("t") {
        t.producer_epoch = last;
    }
    // The exhausted epoch gives a new producer id; the retry of that request gets it again.
    assert_eq!(init_as(&mut c, &mut alloc, 1, (1000, last)), Ok((1001, 0)));
    assert_eq!(init_as(&mut c, &mut alloc, 2, (1000, last)), Ok((1001, 0)));
    // As Kafka: the retry's own transition records the current id as the previous one, so a
    // second retry with the old id is fenced (a retry with the new id and the old epoch is not).
    assert_eq!(init_as(&mut c, &mut alloc, 3, (1000, last)), Err(FENCED));
    assert_eq!(init_as(&mut c, &mut alloc, 3, (1001, last)), Ok((1001, 0)));
    // An older epoch of the old id is fenced: only an exhausted one may name the previous id.
    assert_eq!(init_as(&mut c, &mut alloc, 4, (1001, 0)), Ok((1001, 1)));
    assert_eq!(init_as(&mut c, &mut alloc, 5, (1000, 5)), Err(FENCED));
    assert_eq!(c.check_produce(1001, 1, &tp("a", 0)), ErrorCode::INVALID_TXN_STATE);
    assert_eq!(c.producer("t"), Some((1001, 1)));
}

#[test]
fn init_naming_any_epoch_of_the_id_aborts_an_ongoing_transaction() {
    let (mut c, mut alloc) = after_a_bump();
    assert_eq!(c.add_partitions(ms(2), &who("t", 1000, 1, FENCED), &[tp("a", 0)]), ErrorCode::NONE);
    // Another producer id is fenced before the state is looked at.
    assert_eq!(init_as(&mut c, &mut alloc, 3, (77, 1)), Err(FENCED));
    assert_eq!(c.state("t"), Some(TxnState::Ongoing));
    // Kafka's `prepareInitProducerIdTransit` checks the epoch only without a transaction in
    // flight: the retry of the bump finds one and aborts it with a fencing bump.
    assert_eq!(init_as(&mut c, &mut alloc, 3, (1000, 0)), Err(ErrorCode::CONCURRENT_TRANSACTIONS));
    assert_eq!((c.state("t"), c.producer("t")), (Some(TxnState::PrepareAbort), Some((1000, 2))));
    assert_eq!(init_as(&mut c, &mut alloc, 4, (1000, 0)), Err(ErrorCode::CONCURRENT_TRANSACTIONS));
    c.on_timeout(ms(8));
    // The fence ended the retry: once the abort is written, epoch 0 is fenced.
    assert_eq!(init_as(&mut c, &mut alloc, 9, (1000, 0)), Err(FENCED));
}

/// EndTxn v5+ (transactions v2): `Ok` the producer id and epoch to continue with.
fn end_v2(c: &mut TxnCoordinator, now: Instant, who: &TxnCaller<'_>, commit: bool) -> Result<Granted, ErrorCode> {
    let mut alloc = ids_from(5000);
    c.end_txn(now, who, commit, true, &mut alloc)
}

/// A producer id allocator counting from `first`.
fn ids_from(first: i64) -> impl FnMut() -> Option<i64> {
    let mut next = first;
    move || {
        next += 1;
        Some(next - 1)
    }
}

#[test]
fn every_v2_end_bumps_the_epoch_the_markers_carry_it_and_the_old_epoch_is_fenced() {
    let (mut c, mut alloc) = (coordinator(), ids());
    assert_eq!(c.init_producer_id(ms(0), "t", 60_000, None, FENCED, &mut alloc), Ok((1000, 0)));
    for (round, commit) in [(0i16, true), (1, false), (2, true)] {
        let now = ms(100 * u64::from(round as u16));
        // Transactions v2: the partition is added by the Produce itself (as Produce v12 does).
        assert_eq!(c.add_partitions(now, &who("t", 1000, round, FENCED), &[tp("a", 0)]), ErrorCode::NONE);
        assert_eq!(c.check_produce(1000, round, &tp("a", 0)), ErrorCode::NONE);
        assert_eq!(end_v2(&mut c, now, &who("t", 1000, round, FENCED), commit), Ok((1000, round + 1)));
        // The batches of the epoch before are fenced at once.
        assert_eq!(c.check_produce(1000, round, &tp("a", 0)), ErrorCode::INVALID_PRODUCER_EPOCH);
        // A retry (the answer lost) names the epoch before: CONCURRENT_TRANSACTIONS while
        // the markers are written, the same answer after. The next transaction's end waits
        // too (KAFKA-18464), and a zombie's.
        for epoch in [round, round + 1, round.saturating_sub(1)] {
            assert_eq!(
                end_v2(&mut c, now, &who("t", 1000, epoch, FENCED), commit),
                Err(ErrorCode::CONCURRENT_TRANSACTIONS)
            );
        }
        let markers = c.on_timeout(now + Duration::from_millis(5));
        assert_eq!(markers.len(), 1);
        assert_eq!(
            (markers[0].producer_id, markers[0].producer_epoch),
            (1000, round + 1),
            "markers carry the new epoch"
        );
        assert_eq!(end_v2(&mut c, now, &who("t", 1000, round, FENCED), commit), Ok((1000, round + 1)));
        assert_eq!(end_v2(&mut c, now, &who("t", 1000, round, FENCED), !commit), Err(ErrorCode::INVALID_TXN_STATE));
        // The new epoch commits nothing before a partition or group joins.
        assert_eq!(end_v2(&mut c, now, &who("t", 1000, round + 1, FENCED), true), Err(ErrorCode::INVALID_TXN_STATE));
        // An older epoch still: fenced.
        if round > 0 {
            assert_eq!(end_v2(&mut c, now, &who("t", 1000, round - 1, FENCED), commit), Err(FENCED));
        }
    }
    // A v1 end (EndTxn v4) on the same transactional id does not bump.
    assert_eq!(c.add_partitions(ms(400), &who("t", 1000, 3, FENCED), &[tp("a", 0)]), ErrorCode::NONE);
    assert_eq!(c.end_txn_v1(ms(400), &who("t", 1000, 3, FENCED), true), ErrorCode::NONE);
    assert_eq!(c.on_timeout(ms(405))[0].producer_epoch, 3);
    assert_eq!(c.end_txn_v1(ms(406), &who("t", 1000, 3, FENCED), true), ErrorCode::NONE, "v1 retry");
    assert_eq!(c.producer("t"), Some((1000, 3)));
}

#[test]
fn a_v2_end_at_an_exhausted_epoch_gives_a_new_producer_id_after_the_markers() {
    let (mut c, mut alloc) = (coordinator(), ids());
    assert_eq!(c.init_producer_id(ms(0), "t", 60_000, None, FENCED, &mut alloc), Ok((1000, 0)));
    let exhausted = LAST_EPOCH - 1;
    if let Some(t) = c.txns.get_mut("t") {
        t.producer_epoch = exhausted;
    }
    assert_eq!(c.add_partitions(ms(1), &who("t", 1000, exhausted, FENCED), &[tp("a", 0)]), ErrorCode::NONE);
    assert_eq!(end_v2(&mut c, ms(1), &who("t", 1000, exhausted, FENCED), true), Ok((5000, 0)));
    let markers = c.on_timeout(ms(6));
    assert_eq!((markers[0].producer_id, markers[0].producer_epoch), (1000, exhausted + 1), "old id, bumped epoch");
    assert_eq!(c.producer("t"), Some((5000, 0)));
    // The old id is gone; its retry gets the new id again.
    assert_eq!(c.check_produce(1000, exhausted, &tp("a", 0)), ErrorCode::INVALID_TXN_STATE);
    assert_eq!(end_v2(&mut c, ms(7), &who("t", 1000, exhausted, FENCED), true), Ok((5000, 0)));
    assert_eq!(
        end_v2(&mut c, ms(7), &who("t", 1000, exhausted - 1, FENCED), true),
        Err(ErrorCode::INVALID_PRODUCER_ID_MAPPING)
    );
    // The new id works.
    assert_eq!(c.add_partitions(ms(8), &who("t", 5000, 0, FENCED), &[tp("a", 0)]), ErrorCode::NONE);
    assert_eq!(c.check_produce(5000, 0, &tp("a", 0)), ErrorCode::NONE);
    assert_eq!(end_v2(&mut c, ms(8), &who("t", 5000, 0, FENCED), false), Ok((5000, 1)));
}

#[test]
fn a_v2_end_from_an_unknown_id_or_a_fenced_producer_changes_nothing() {
    let (mut c, mut alloc) = (coordinator(), ids());
    assert_eq!(end_v2(&mut c, ms(0), &who("nobody", 1, 0, FENCED), true), Err(ErrorCode::INVALID_PRODUCER_ID_MAPPING));
    assert_eq!(c.init_producer_id(ms(0), "t", 60_000, None, FENCED, &mut alloc), Ok((1000, 0)));
    assert_eq!(end_v2(&mut c, ms(1), &who("t", 1000, 0, FENCED), true), Err(ErrorCode::INVALID_TXN_STATE));
    assert_eq!(c.add_partitions(ms(1), &who("t", 1000, 0, FENCED), &[tp("a", 0)]), ErrorCode::NONE);
    assert_eq!(end_v2(&mut c, ms(1), &who("t", 999, 0, FENCED), true), Err(ErrorCode::INVALID_PRODUCER_ID_MAPPING));
    assert_eq!(end_v2(&mut c, ms(1), &who("t", 1000, 1, FENCED), true), Err(FENCED));
    assert_eq!(c.state("t"), Some(TxnState::Ongoing));
    assert_eq!(c.producer("t"), Some((1000, 0)));
    // A timeout's fencing abort is no bumped end: the old epoch stays fenced after it.
    assert!(c.on_timeout(ms(60_001)).is_empty());
    assert_eq!(c.on_timeout(ms(60_006)).len(), 1);
    assert_eq!(end_v2(&mut c, ms(60_007), &who("t", 1000, 0, FENCED), false), Err(FENCED));
}

#[test]
fn a_v2_abort_without_a_transaction_bumps_the_epoch_and_writes_no_marker() {
    let (mut c, mut alloc) = (coordinator(), ids());
    assert_eq!(c.init_producer_id(ms(0), "t", 60_000, None, FENCED, &mut alloc), Ok((1000, 0)));
    // Empty: the producer sent records that may not have reached the coordinator.
    assert_eq!(end_v2(&mut c, ms(1), &who("t", 1000, 0, FENCED), false), Ok((1000, 1)));
    assert_eq!(c.state("t"), Some(TxnState::PrepareAbort));
    let markers = c.on_timeout(ms(6));
    assert_eq!(markers.len(), 1);
    assert!(markers[0].partitions.is_empty() && markers[0].offsets.is_empty(), "nothing to mark");
    assert_eq!(c.state("t"), Some(TxnState::CompleteAbort));
    // Its retry gets the same answer; a commit retry is refused; the old epoch is fenced.
    assert_eq!(end_v2(&mut c, ms(7), &who("t", 1000, 0, FENCED), false), Ok((1000, 1)));
    assert_eq!(end_v2(&mut c, ms(7), &who("t", 1000, 0, FENCED), true), Err(ErrorCode::INVALID_TXN_STATE));
    assert_eq!(c.check_produce(1000, 0, &tp("a", 0)), ErrorCode::INVALID_PRODUCER_EPOCH);
    // After a commit, the next transaction's abort (nothing added) bumps again.
    assert_eq!(c.add_partitions(ms(8), &who("t", 1000, 1, FENCED), &[tp("a", 0)]), ErrorCode::NONE);
    assert_eq!(end_v2(&mut c, ms(8), &who("t", 1000, 1, FENCED), true), Ok((1000, 2)));
    assert_eq!(c.on_timeout(ms(13)).len(), 1);
    assert_eq!(end_v2(&mut c, ms(14), &who("t", 1000, 2, FENCED), false), Ok((1000, 3)));
    assert_eq!(end_v2(&mut c, ms(14), &who("t", 1000, 2, FENCED), false), Err(ErrorCode::CONCURRENT_TRANSACTIONS));
    assert_eq!(c.on_timeout(ms(19)).len(), 1);
    assert_eq!(c.producer("t"), Some((1000, 3)));
    assert_eq!(end_v2(&mut c, ms(20), &who("t", 1000, 1, FENCED), false), Err(FENCED), "two epochs back");
}

#[test]
fn an_idle_transactional_id_expires_and_its_producer_id_is_forgotten() {
    let expiration = Duration::from_secs(10);
    let mut c = TxnCoordinator::new(TxnConfig { transactional_id_expiration: expiration, ..TxnConfig::default() });
    let mut alloc = ids();
    assert_eq!(c.init_producer_id(ms(0), "t", 60_000, None, FENCED, &mut alloc), Ok((1000, 0)));
    // A transaction keeps it alive however long it runs (its own timeout ends it first).
    assert_eq!(c.add_partitions(ms(9_000), &who("t", 1000, 0, FENCED), &[tp("a", 0)]), ErrorCode::NONE);
    assert!(c.on_timeout(ms(12_000)).is_empty());
    assert_eq!(c.state("t"), Some(TxnState::Ongoing));
    assert_eq!(c.end_txn_v1(ms(12_000), &who("t", 1000, 0, FENCED), true), ErrorCode::NONE);
    assert_eq!(c.on_timeout(ms(12_005)).len(), 1, "the markers");
    // Idle from the markers on: forgotten 10 s later, not before.
    assert!(c.on_timeout(ms(22_004)).is_empty());
    assert_eq!(c.state("t"), Some(TxnState::CompleteCommit));
    assert!(c.on_timeout(ms(22_005)).is_empty());
    assert_eq!(c.state("t"), None, "expired");
    assert_eq!(
        c.add_partitions(ms(22_006), &who("t", 1000, 0, FENCED), &[tp("a", 0)]),
        ErrorCode::INVALID_PRODUCER_ID_MAPPING
    );
    assert_eq!(c.check_produce(1000, 0, &tp("a", 0)), ErrorCode::INVALID_TXN_STATE);
    // The producer's InitProducerId, naming its old id and epoch, gets a fresh id.
    assert_eq!(c.init_producer_id(ms(22_007), "t", 60_000, Some((1000, 0)), FENCED, &mut alloc), Ok((1001, 0)));
}
