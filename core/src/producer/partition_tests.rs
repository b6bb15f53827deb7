use super::*;
use crate::producer::accumulator::{Accumulator, RecordRef};
use crate::producer::report::RecordId;
use crate::proto::record_batch::RecordBatch;

const C: ConnId = ConnId(1);
const T0: Instant = Instant::ZERO;

/// `n` sealed batches from sequence `seq`, on a partition past its session's first
/// acknowledgement (so it may pipeline).
fn part_with(n: usize, seq: i32) -> PartitionState<()> {
    let mut p = fresh_part_with(n, seq);
    p.acked = true;
    p
}

/// `n` sealed batches from sequence `seq` on a partition with no acknowledgement yet in this
/// session.
fn fresh_part_with(n: usize, seq: i32) -> PartitionState<()> {
    let mut acc = Accumulator::new(1 << 20, 1 << 20, 1 << 30);
    let mut p = PartitionState::new(0);
    p.next_sequence = seq;
    for i in 0..n {
        let v = [i as u8; 4];
        let r = RecordRef { timestamp_ms: 1, key: None, value: Some(&v), headers: &[] };
        acc.append(&mut p.open, T0, RecordId(i as u64 * 2), &r, ()).unwrap();
        acc.append(&mut p.open, T0, RecordId(i as u64 * 2 + 1), &r, ()).unwrap();
        p.seal(9, 0, true, &mut Sealer::default());
    }
    p
}

/// `n` sealed batches from sequence 0, all sent on `C` (correlation ids `0..n`).
fn part_in_flight(n: usize) -> PartitionState<()> {
    let mut p = part_with(n, 0);
    for k in 0..n {
        let i = p.next_to_send(T0, C, 5, false).unwrap();
        p.mark_sent(i, C, k as i32);
    }
    p
}

fn stamp_of(b: &SealedBatch<()>) -> (i64, i16, i32, u32) {
    let (rb, _) = RecordBatch::decode(&b.bytes).unwrap();
    (rb.header.producer_id, rb.header.producer_epoch, rb.header.base_sequence, rb.header.crc)
}

fn collect(v: &mut Vec<Completion<()>>) -> impl FnMut(Completion<()>) + '_ {
    |c| v.push(c)
}

#[test]
fn sequences_wrap_at_int32_max() {
    let p = part_with(2, i32::MAX - 1);
    let seqs: Vec<i32> = p.queue.iter().map(|b| stamp_of(b).2).collect();
    assert_eq!(seqs, [i32::MAX - 1, 0]);
    assert_eq!(p.next_sequence, 2);
}

#[test]
fn window_limits_pipelining_and_keeps_one_connection() {
    let mut p = part_with(7, 0);
    let mut sent = Vec::new();
    while let Some(i) = p.next_to_send(T0, C, 5, false) {
        p.mark_sent(i, C, i as i32);
        sent.push(i);
    }
    assert_eq!(sent, [0, 1, 2, 3, 4]);
    assert_eq!(p.in_flight, 5);
    assert_eq!(p.queue.len(), 2);
    // Another connection may not be used while requests are outstanding on C.
    let mut q = part_with(2, 0);
    let i = q.next_to_send(T0, C, 5, false).unwrap();
    q.mark_sent(i, C, 1);
    assert_eq!(q.next_to_send(T0, ConnId(2), 5, false), None);
}

#[test]
fn success_and_implicit_ack() {
    let mut p = part_in_flight(3);
    let mut done = Vec::new();
    // First answer ambiguous (written, not enough replicas after append), second succeeds.
    let r = p.on_result(
        C,
        0,
        ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        -1,
        -1,
        10,
        T0,
        &mut Sealer::default(),
        &mut collect(&mut done),
    );
    assert!(r.retry);
    assert!(done.is_empty());
    p.on_result(C, 1, ErrorCode::NONE, 10, -1, 10, T0, &mut Sealer::default(), &mut collect(&mut done));
    // The first batch's answer proved nothing (a KIP-360 broker appends past a gap): no implicit
    // ack; it stays at the head for its retry.
    assert_eq!(done.len(), 1);
    assert!(matches!(done[0], Completion::Delivered { implicit: false, base_offset: Some(10), .. }));
    p.on_result(
        C,
        2,
        ErrorCode::DUPLICATE_SEQUENCE_NUMBER,
        -1,
        -1,
        10,
        T0,
        &mut Sealer::default(),
        &mut collect(&mut done),
    );
    assert!(matches!(done[1], Completion::Delivered { duplicate: true, base_offset: None, .. }));
    let i = p.next_to_send(T0, C, 5, false).unwrap();
    p.mark_sent(i, C, 3);
    p.on_result(
        C,
        3,
        ErrorCode::DUPLICATE_SEQUENCE_NUMBER,
        9,
        -1,
        10,
        T0,
        &mut Sealer::default(),
        &mut collect(&mut done),
    );
    assert!(matches!(done[2], Completion::Delivered { duplicate: true, base_offset: Some(9), .. }));
    assert!(p.window.is_empty() && p.in_flight == 0);
}

#[test]
fn lost_batches_are_resent_in_order_with_the_same_bytes() {
    let mut p = part_with(3, 0);
    let before: Vec<Bytes> = p.queue.iter().map(|b| b.bytes.clone()).collect();
    for k in 0..3 {
        let i = p.next_to_send(T0, C, 5, false).unwrap();
        p.mark_sent(i, C, k);
    }
    p.on_conn_lost(C, Instant::from_millis(100), u32::MAX, &mut |_: Completion<()>| {});
    assert!(p.window.iter().all(|b| b.maybe_persisted && b.in_flight.is_none()));
    assert_eq!(p.next_to_send(Instant::from_millis(99), ConnId(2), 5, false), None);
    // One resend at a time, each answered before the next, in sequence order, same bytes.
    let t = Instant::from_millis(100);
    let mut resent = Vec::new();
    let mut done = Vec::new();
    for k in 0..3 {
        let i = p.next_to_send(t, ConnId(2), 5, false).unwrap();
        assert_eq!(i, 0, "the head");
        p.mark_sent(i, ConnId(2), 10 + k);
        assert_eq!(p.next_to_send(t, ConnId(2), 5, false), None, "nothing behind a resend in flight");
        resent.push(p.window.front().unwrap().bytes.clone());
        p.on_result(
            ConnId(2),
            10 + k,
            ErrorCode::DUPLICATE_SEQUENCE_NUMBER,
            -1,
            -1,
            10,
            t,
            &mut Sealer::default(),
            &mut collect(&mut done),
        );
    }
    assert_eq!(before, resent);
    assert_eq!(done.len(), 3);
}

#[test]
fn out_of_order_on_later_batch_is_retried_not_bumped() {
    let mut p = part_in_flight(2);
    let mut done = Vec::new();
    p.on_result(
        C,
        0,
        ErrorCode::NOT_LEADER_OR_FOLLOWER,
        -1,
        -1,
        10,
        T0,
        &mut Sealer::default(),
        &mut collect(&mut done),
    );
    let r = p.on_result(
        C,
        1,
        ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
        -1,
        -1,
        10,
        T0,
        &mut Sealer::default(),
        &mut collect(&mut done),
    );
    assert!(r.retry && !p.needs_bump && done.is_empty());
    assert_eq!(p.window.iter().map(|b| b.attempts).collect::<Vec<_>>(), [1, 0], "no retry counted");
}

#[test]
fn head_sequence_errors() {
    // Never possibly persisted: bump and keep it for renumbering.
    let mut p = part_with(2, 5);
    let i = p.next_to_send(T0, C, 5, false).unwrap();
    p.mark_sent(i, C, 0);
    let mut done = Vec::new();
    p.on_result(C, 0, ErrorCode::UNKNOWN_PRODUCER_ID, -1, -1, 10, T0, &mut Sealer::default(), &mut collect(&mut done));
    assert!(p.needs_bump && done.is_empty() && p.window.len() == 1);
    assert!(p.drained(&mut collect(&mut done)));
    assert!(done.is_empty());
    let old = stamp_of(p.window.front().unwrap());
    p.renumber(9, 1, true);
    let seqs: Vec<(i64, i16, i32)> = p.queue.iter().map(stamp_of).map(|s| (s.0, s.1, s.2)).collect();
    assert_eq!(seqs, [(9, 1, 0), (9, 1, 2)]);
    assert_ne!(old.3, stamp_of(p.queue.front().unwrap()).3, "CRC recomputed");
    RecordBatch::decode(&p.queue[1].bytes).unwrap();
    assert_eq!(p.next_sequence, 4);

    // Possibly persisted head: given up as Possibly, never re-stamped.
    let mut p = part_with(1, 0);
    let i = p.next_to_send(T0, C, 5, false).unwrap();
    p.mark_sent(i, C, 0);
    p.on_conn_lost(C, T0, u32::MAX, &mut |_: Completion<()>| {});
    let i = p.next_to_send(T0, C, 5, false).unwrap();
    p.mark_sent(i, C, 1);
    let mut done = Vec::new();
    p.on_result(
        C,
        1,
        ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
        -1,
        -1,
        10,
        T0,
        &mut Sealer::default(),
        &mut collect(&mut done),
    );
    assert!(matches!(
        done[0],
        Completion::Failed { persisted: Persisted::Possibly, error: DeliveryError::SequenceUnresolvable(_), .. }
    ));
    assert!(p.needs_bump);
}

#[test]
fn delivery_timeout_in_queue_and_in_flight() {
    let mut p = part_with(3, 0);
    let i = p.next_to_send(T0, C, 1, false).unwrap();
    p.mark_sent(i, C, 0);
    let mut done = Vec::new();
    let close = p.expire(Instant::from_millis(1000), Duration::from_millis(1000), 10, true, &mut collect(&mut done));
    assert_eq!(close, Some(C));
    assert_eq!(done.len(), 3);
    assert!(matches!(done[0], Completion::Failed { persisted: Persisted::Possibly, .. }));
    assert!(matches!(done[1], Completion::Failed { persisted: Persisted::No, .. }));
    assert!(p.needs_bump && !p.has_data());
    // Queue-only expiry rewinds the sequence without a bump.
    let mut p = part_with(1, 0);
    let mut acc = Accumulator::new(1 << 20, 1 << 20, 1 << 30);
    let r = RecordRef { timestamp_ms: 1, key: None, value: None, headers: &[] };
    acc.append(&mut p.open, Instant::from_millis(500), RecordId(99), &r, ()).unwrap();
    p.seal(9, 0, true, &mut Sealer::default());
    let mut done = Vec::new();
    p.expire(Instant::from_millis(1000), Duration::from_millis(1000), 10, true, &mut collect(&mut done));
    assert_eq!(done.len(), 1);
    assert!(!p.needs_bump);
    assert_eq!(stamp_of(p.queue.front().unwrap()).2, 0);
    assert_eq!(p.next_sequence, 1);
}

#[test]
fn retries_exhausted_and_rejections() {
    let mut p = part_with(1, 0);
    let mut done = Vec::new();
    for k in 0..3 {
        let i = p.next_to_send(Instant::from_millis(k), C, 5, false).unwrap();
        p.mark_sent(i, C, k as i32);
        p.on_result(
            C,
            k as i32,
            ErrorCode::NOT_ENOUGH_REPLICAS,
            -1,
            -1,
            2,
            Instant::from_millis(k + 1),
            &mut Sealer::default(),
            &mut collect(&mut done),
        );
    }
    assert!(matches!(
        done[0],
        Completion::Failed { persisted: Persisted::No, error: DeliveryError::RetriesExhausted(_), .. }
    ));
    let mut p = part_with(1, 0);
    let i = p.next_to_send(T0, C, 5, false).unwrap();
    p.mark_sent(i, C, 0);
    let mut done = Vec::new();
    p.on_result(C, 0, ErrorCode::INVALID_RECORD, -1, -1, 2, T0, &mut Sealer::default(), &mut collect(&mut done));
    assert!(matches!(done[0], Completion::Failed { error: DeliveryError::Rejected(ErrorCode::INVALID_RECORD), .. }));
    let mut p = part_with(1, 0);
    let i = p.next_to_send(T0, C, 5, false).unwrap();
    p.mark_sent(i, C, 0);
    let r =
        p.on_result(C, 0, ErrorCode::PRODUCER_FENCED, -1, -1, 2, T0, &mut Sealer::default(), &mut collect(&mut done));
    assert_eq!(r.fatal, Some(ErrorCode::PRODUCER_FENCED));
}

#[test]
fn draining_only_resends_unknown_outcomes() {
    let mut p = part_with(2, 0);
    let i = p.next_to_send(T0, C, 5, false).unwrap();
    p.mark_sent(i, C, 0);
    p.on_conn_lost(C, T0, u32::MAX, &mut |_: Completion<()>| {});
    // Draining: the unknown batch may go, the never-sent one may not.
    let i = p.next_to_send(T0, C, 5, true).unwrap();
    p.mark_sent(i, C, 1);
    assert_eq!(p.next_to_send(T0, C, 5, true), None);
    assert!(!p.drained(&mut collect(&mut Vec::new())));
}

#[test]
fn unknown_outcomes_behind_a_rejected_head_are_given_up_not_restamped() {
    let mut p = part_in_flight(2);
    let mut done = Vec::new();
    // Head rejected (definitely not written), second batch lost (unknown).
    p.on_result(C, 0, ErrorCode::NOT_ENOUGH_REPLICAS, -1, -1, 10, T0, &mut Sealer::default(), &mut collect(&mut done));
    p.on_conn_lost(C, T0, u32::MAX, &mut |_: Completion<()>| {});
    assert!(p.window.iter().nth(1).unwrap().maybe_persisted);
    // Draining: the window is resent in order (same bytes), one at a time, to resolve the
    // unknown one; the head is refused first.
    let i = p.next_to_send(T0, C, 5, true).unwrap();
    assert_eq!(i, 0);
    p.mark_sent(i, C, 2);
    assert_eq!(p.next_to_send(T0, C, 5, true), None);
    p.on_result(
        C,
        2,
        ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
        -1,
        -1,
        10,
        T0,
        &mut Sealer::default(),
        &mut collect(&mut done),
    );
    assert_eq!(p.head_rejected, Some(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER));
    assert!(done.is_empty());
    assert_eq!(p.next_to_send(T0, C, 5, true), None, "nothing left to resolve by resending");
    assert!(p.drained(&mut collect(&mut done)));
    assert!(matches!(
        done[..],
        [Completion::Failed { persisted: Persisted::Possibly, error: DeliveryError::SequenceUnresolvable(_), .. }]
    ));
    // The rejected head is renumbered into the new epoch.
    p.renumber(9, 1, true);
    assert_eq!(stamp_of(p.queue.front().unwrap()).1, 1);
    assert_eq!(p.queue.len(), 1);
}

#[test]
fn a_definitely_rejected_batch_overtaken_by_a_later_one_is_not_resent() {
    let mut p = part_in_flight(2);
    let mut done = Vec::new();
    p.on_result(C, 0, ErrorCode::NOT_ENOUGH_REPLICAS, -1, -1, 10, T0, &mut Sealer::default(), &mut collect(&mut done));
    // A broker that lost our state and accepts any first sequence (KIP-360) appended the second
    // one anyway: the first, never written, can no longer be written before it.
    p.on_result(C, 1, ErrorCode::NONE, 7, -1, 10, T0, &mut Sealer::default(), &mut collect(&mut done));
    assert!(matches!(
        done[..],
        [
            Completion::Failed { error: DeliveryError::Overtaken, persisted: Persisted::No, .. },
            Completion::Delivered { implicit: false, base_offset: Some(7), .. }
        ]
    ));
    assert!(p.window.is_empty() && p.needs_bump, "nothing resent; the gap calls for a bump");
    // One of unknown outcome stays at the head to be resolved by its own retry (no implicit ack).
    let mut p = part_in_flight(2);
    let mut done = Vec::new();
    p.on_result(
        C,
        0,
        ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        -1,
        -1,
        10,
        T0,
        &mut Sealer::default(),
        &mut collect(&mut done),
    );
    p.on_result(C, 1, ErrorCode::NONE, 7, -1, 10, T0, &mut Sealer::default(), &mut collect(&mut done));
    assert!(matches!(done[..], [Completion::Delivered { implicit: false, base_offset: Some(7), .. }]));
    assert_eq!(p.window.len(), 1, "the batch of unknown outcome stays to be retried");
}

#[test]
fn one_batch_at_a_time_until_the_sessions_first_ack() {
    // KIP-360 brokers (before KAFKA-15591) take any first sequence from a producer they do not
    // know: a second pipelined batch would be appended as the first if the first is rejected.
    let mut p = fresh_part_with(5, 0);
    let mut done = Vec::new();
    let i = p.next_to_send(T0, C, 5, false).unwrap();
    p.mark_sent(i, C, 0);
    assert_eq!(p.next_to_send(T0, C, 5, false), None, "nothing pipelined before the first ack");
    assert!(!p.wants_to_send(T0, 5, false) && !p.ready_for_new_batch(5));
    p.on_result(C, 0, ErrorCode::NONE, 0, -1, 10, T0, &mut Sealer::default(), &mut collect(&mut done));
    assert_eq!(done.len(), 1);
    for k in 1..3 {
        let i = p.next_to_send(T0, C, 5, false).expect("pipelining after the first ack");
        p.mark_sent(i, C, k);
    }
    assert_eq!(p.in_flight, 2);
    // A new session (after a bump) starts over with one batch (the two never-sent batches).
    p.on_conn_lost(C, T0, u32::MAX, &mut |_: Completion<()>| {});
    p.head_rejected = Some(ErrorCode::UNKNOWN_PRODUCER_ID);
    let mut done = Vec::new();
    assert!(p.drained(&mut collect(&mut done)));
    p.renumber(9, 1, true);
    let i = p.next_to_send(T0, C, 5, false).unwrap();
    p.mark_sent(i, C, 7);
    assert_eq!(p.next_to_send(T0, C, 5, false), None);
}

#[test]
fn the_span_behind_an_unresolved_head_stays_within_the_brokers_memory() {
    // The broker remembers the last five batches it appended. Batch 0 is written but its answer
    // is ambiguous; batch 1 is acknowledged and leaves the window, yet still holds one of those
    // five places. Whatever else happens, at most three more may follow batch 0 (ordinals 2, 3,
    // 4): a sixth batch appended behind it would push batch 0 out of the broker's memory, and its
    // resend would be refused as out of order instead of recognised as a duplicate.
    let mut p = part_with(8, 0);
    let mut done = Vec::new();
    for k in 0..2 {
        let i = p.next_to_send(T0, C, 5, false).unwrap();
        p.mark_sent(i, C, k);
    }
    p.on_result(
        C,
        0,
        ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        -1,
        -1,
        10,
        T0,
        &mut Sealer::default(),
        &mut collect(&mut done),
    );
    p.on_result(C, 1, ErrorCode::NONE, 7, -1, 10, T0, &mut Sealer::default(), &mut collect(&mut done));
    assert_eq!(done.len(), 1, "batch 1 delivered, batch 0 still unresolved at the head");
    // The retry goes first and alone: nothing new while it is in flight.
    let i = p.next_to_send(T0, C, 5, false).unwrap();
    assert_eq!(i, 0);
    p.mark_sent(i, C, 2);
    assert_eq!(p.next_to_send(T0, C, 5, false), None);
    // The span rule on its own (as if the partition were pipelining again with batch 0 unresolved).
    p.state = SendState::Normal;
    let mut admitted = 0;
    while let Some(i) = p.next_to_send(T0, C, 5, false) {
        p.mark_sent(i, C, 3 + admitted);
        admitted += 1;
    }
    assert_eq!(admitted, 3, "head + 4 behind it (one already acknowledged) = the broker's 5");
    assert!(!p.wants_to_send(T0, 5, false) && !p.ready_for_new_batch(5));
    // Once the head resolves, the span restarts from the new head.
    p.on_result(
        C,
        2,
        ErrorCode::DUPLICATE_SEQUENCE_NUMBER,
        0,
        -1,
        10,
        T0,
        &mut Sealer::default(),
        &mut collect(&mut done),
    );
    assert!(p.next_to_send(T0, C, 5, false).is_some());
}

#[test]
fn a_batch_refused_as_too_large_is_split_in_two_and_renumbered() {
    let mut p = part_with(0, 0);
    let mut acc = Accumulator::new(1 << 20, 1 << 20, 1 << 30);
    for i in 0..5u8 {
        let v = [i; 8];
        let h: [(&str, Option<&[u8]>); 1] = [("k", Some(&v[..2]))];
        let r = RecordRef { timestamp_ms: 100 + i64::from(i), key: Some(b"key"), value: Some(&v), headers: &h };
        acc.append(&mut p.open, T0, RecordId(u64::from(i)), &r, ()).unwrap();
    }
    p.seal(9, 0, true, &mut Sealer::default());
    let accounted = p.queue[0].accounted;
    let i = p.next_to_send(T0, C, 5, false).unwrap();
    p.mark_sent(i, C, 0);
    let mut done = Vec::new();
    let r = p.on_result(
        C,
        0,
        ErrorCode::MESSAGE_TOO_LARGE,
        -1,
        -1,
        10,
        T0,
        &mut Sealer::default(),
        &mut collect(&mut done),
    );
    assert!(r.retry && done.is_empty() && p.needs_bump, "not failed: split after the bump");
    assert_eq!(p.next_to_send(T0, C, 5, true), None, "never resent unsplit");
    assert!(p.drained(&mut collect(&mut done)) && done.is_empty());
    p.renumber(9, 1, true);
    assert_eq!(p.queue.len(), 2);
    assert_eq!(p.queue.iter().map(|b| b.accounted).sum::<usize>(), accounted);
    let mut values = Vec::new();
    let mut next = 0;
    for b in &p.queue {
        let (rb, _) = RecordBatch::decode(&b.bytes).expect("a valid batch, CRC included");
        assert_eq!((rb.header.producer_id, rb.header.producer_epoch, rb.header.base_sequence), (9, 1, next));
        next += rb.header.record_count;
        for (k, rec) in rb.records().enumerate() {
            let rec = rec.unwrap();
            assert_eq!(rec.timestamp(&rb.header), b.records[k].timestamp_ms);
            assert_eq!(rec.key, Some(&b"key"[..]));
            let h: Vec<_> = rec.headers.map(Result::unwrap).collect();
            assert_eq!(h, [("k", Some(&rec.value.unwrap()[..2]))]);
            values.push(rec.value.unwrap()[0]);
        }
    }
    assert_eq!(values, [0, 1, 2, 3, 4], "every record once, in order");
    let ids: Vec<u64> = p.queue.iter().flat_map(|b| b.records.iter().map(|r| r.id.0)).collect();
    assert_eq!(ids, [0, 1, 2, 3, 4]);
    // A single record cannot be split: it is refused.
    let mut q = part_with(0, 0);
    let r = RecordRef { timestamp_ms: 1, key: None, value: Some(b"v"), headers: &[] };
    acc.append(&mut q.open, T0, RecordId(9), &r, ()).unwrap();
    q.seal(9, 0, true, &mut Sealer::default());
    let i = q.next_to_send(T0, C, 5, false).unwrap();
    q.mark_sent(i, C, 0);
    let mut done = Vec::new();
    q.on_result(C, 0, ErrorCode::MESSAGE_TOO_LARGE, -1, -1, 10, T0, &mut Sealer::default(), &mut collect(&mut done));
    assert!(matches!(done[..], [Completion::Failed { persisted: Persisted::No, .. }]));
}

#[test]
fn without_sequences_a_rejected_batch_behind_a_success_is_retried() {
    // A non-idempotent producer keeps no order across retries (as the Java client with
    // enable.idempotence=false): the earlier batch is simply retried.
    let mut p = unsequenced_part(&[1, 1]);
    p.acked = true;
    for k in 0..2 {
        let i = p.next_to_send(T0, C, 5, false).unwrap();
        p.mark_sent(i, C, k);
    }
    let mut done = Vec::new();
    p.on_result(C, 0, ErrorCode::NOT_ENOUGH_REPLICAS, -1, -1, 10, T0, &mut Sealer::default(), &mut collect(&mut done));
    p.on_result(C, 1, ErrorCode::NONE, 7, -1, 10, T0, &mut Sealer::default(), &mut collect(&mut done));
    assert!(matches!(done[..], [Completion::Delivered { .. }]));
    assert_eq!(p.window.len(), 1, "the rejected batch stays to be retried");
    assert!(!p.needs_bump);
}

#[test]
fn without_sequences_a_batch_refused_as_too_large_is_split_at_once() {
    let mut p = unsequenced_part(&[4]);
    let i = p.next_to_send(T0, C, 5, false).unwrap();
    p.mark_sent(i, C, 0);
    let mut done = Vec::new();
    let r = p.on_result(
        C,
        0,
        ErrorCode::RECORD_LIST_TOO_LARGE,
        -1,
        -1,
        10,
        T0,
        &mut Sealer::default(),
        &mut collect(&mut done),
    );
    assert!(r.retry && done.is_empty() && !p.needs_bump, "no bump without sequences");
    assert!(p.window.is_empty());
    let halves: Vec<usize> = p.queue.iter().map(|b| b.records.len()).collect();
    assert_eq!(halves, [2, 2]);
    assert!(p.queue.iter().all(|b| b.stamp == ProducerStamp::NONE));
}

/// A partition of a producer without idempotence: one batch per entry of `records`, each of
/// that many one-byte records, sealed without a producer stamp.
fn unsequenced_part(records: &[u64]) -> PartitionState<()> {
    let mut acc = Accumulator::new(1 << 20, 1 << 20, 1 << 30);
    let mut p = PartitionState::new(0);
    let mut id = 0;
    for &n in records {
        for _ in 0..n {
            let r = RecordRef { timestamp_ms: 1, key: None, value: Some(b"v"), headers: &[] };
            acc.append(&mut p.open, T0, RecordId(id), &r, ()).unwrap();
            id += 1;
        }
        p.seal(-1, -1, false, &mut Sealer::default());
    }
    p
}

#[test]
fn renumbering_copies_only_bytes_a_request_still_holds() {
    let mut p = part_with(2, 0);
    // Batch 0's bytes are still in a request frame the driver holds; batch 1's are not.
    let frame = p.queue[0].bytes.clone();
    let alone = p.queue[1].bytes.as_ptr();
    p.renumber(10, 1, true);
    let stamps: Vec<(i64, i16, i32)> = p.queue.iter().map(stamp_of).map(|s| (s.0, s.1, s.2)).collect();
    assert_eq!(stamps, [(10, 1, 0), (10, 1, 2)]);
    // The frame still says what was sent; the batch was re-stamped on a copy.
    let (sent, _) = RecordBatch::decode(&frame).unwrap();
    assert_eq!((sent.header.producer_id, sent.header.producer_epoch), (9, 0));
    assert!(!core::ptr::eq(p.queue[0].bytes.as_ptr(), frame.as_ptr()));
    // Nothing else held batch 1: re-stamped in place.
    assert!(core::ptr::eq(p.queue[1].bytes.as_ptr(), alone));
}

#[test]
fn a_compressed_batch_refused_as_too_large_is_split_into_halves_of_the_same_codec() {
    use crate::producer::config::ProducerConfig;
    use crate::proto::record_batch::Compression;
    for codec in Compression::ALL.into_iter().filter(|c| c.is_enabled() && *c != Compression::None) {
        for idempotent in [true, false] {
            let config = ProducerConfig::default().compression(codec, None);
            let mut sealer = Sealer::new(&config);
            let mut p = part_with(0, 0);
            let mut acc = Accumulator::new(1 << 20, 1 << 20, 1 << 30);
            for i in 0..7u8 {
                let v = [b'a' + i; 40];
                let r =
                    RecordRef { timestamp_ms: 100 + i64::from(i), key: Some(b"key"), value: Some(&v), headers: &[] };
                acc.append(&mut p.open, T0, RecordId(u64::from(i)), &r, ()).unwrap();
            }
            let (pid, epoch) = if idempotent { (9, 0) } else { (-1, -1) };
            p.seal(pid, epoch, idempotent, &mut sealer);
            let (rb, _) = RecordBatch::decode(&p.queue[0].bytes).unwrap();
            assert_eq!(rb.header.compression(), Ok(codec), "sealed with the configured codec");
            let i = p.next_to_send(T0, C, 5, false).unwrap();
            p.mark_sent(i, C, 0);
            let mut done = Vec::new();
            p.on_result(C, 0, ErrorCode::MESSAGE_TOO_LARGE, -1, -1, 10, T0, &mut sealer, &mut collect(&mut done));
            assert!(done.is_empty(), "{codec:?}: not failed");
            if idempotent {
                assert!(p.drained(&mut collect(&mut done)));
                p.renumber_from(9, 1, true, 0, &mut sealer);
            }
            assert_eq!(p.queue.len(), 2, "{codec:?} idempotent={idempotent}");
            let mut values = Vec::new();
            for b in &p.queue {
                let (rb, _) = RecordBatch::decode(&b.bytes).expect("a valid batch, CRC included");
                assert_eq!(rb.header.compression(), Ok(codec), "the halves keep the codec");
                let mut scratch = Vec::new();
                for (k, rec) in rb.decompressed_records(&mut scratch, 1 << 20).unwrap().enumerate() {
                    let rec = rec.unwrap();
                    assert_eq!(rec.timestamp(&rb.header), b.records[k].timestamp_ms);
                    values.push(rec.value.unwrap()[0] - b'a');
                }
            }
            assert_eq!(values, [0, 1, 2, 3, 4, 5, 6], "{codec:?}: every record once, in order");
        }
    }
}

#[test]
fn a_resend_round_answered_in_full_wants_a_connection_for_its_queue() {
    // Batch 0 goes out on C, batches 1 and 2 wait; C is lost before the answer.
    let mut p = part_with(3, 0);
    let i = p.next_to_send(T0, C, 5, false).unwrap();
    p.mark_sent(i, C, 0);
    p.on_conn_lost(C, T0, u32::MAX, &mut |_: Completion<()>| {});
    // Resent alone on C2, and acknowledged.
    const C2: ConnId = ConnId(2);
    let i = p.next_to_send(T0, C2, 5, false).unwrap();
    p.mark_sent(i, C2, 1);
    let mut done = Vec::new();
    p.on_result(C2, 1, ErrorCode::NONE, 0, -1, 10, T0, &mut Sealer::default(), &mut collect(&mut done));
    assert_eq!((done.len(), p.window.len(), p.queue.len()), (1, 0, 2));
    assert_eq!(p.state, SendState::Resending, "the round ends when the partition is next asked to send");
    // If C2 closes now (a stalled re-authentication timing out), the partition must still want
    // a connection to its leader, or its queue would wait for one forever.
    assert!(p.wants_to_send(T0, 5, false));
    const C3: ConnId = ConnId(3);
    assert_eq!(p.next_to_send(T0, C3, 5, false), Some(0));
    assert_eq!(p.state, SendState::Normal);
}
