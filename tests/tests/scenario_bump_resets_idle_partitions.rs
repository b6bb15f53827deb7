// Proven to fail when: `PartitionState::renumber_from` keeps `next_sequence` of a partition with
// nothing queued or in flight (KAFKA-12152) -> "the idle partition's first batch after the bump
// was accepted: [.., (1, 45), (1, 0)]" (OUT_OF_ORDER on partition 1, then a second bump).
//! KAFKA-12152: after an epoch bump, partitions that had nothing in flight kept their old
//! sequence numbers, and their next batch (new epoch, sequence != 0) was rejected. In idem every
//! partition starts the new epoch at sequence 0.

use idem_tests::scenario::{Scenario, answers, assert_clean, counter, later_session, log, record_order};

#[test]
fn idle_partition_restarts_at_sequence_zero_after_bump() {
    let (r, wire) = Scenario::new(1, 2)
        // Partition 1: three batches in epoch 0 (sequences 0, 1, 2), then idle.
        .send(0, 1, 1)
        .send(50, 1, 1)
        .send(100, 1, 1)
        // Partition 0: its head batch is rejected OUT_OF_ORDER (definitely not written):
        // drain, bump, renumber.
        .faults(300, 309, "error_before=OUT_OF_ORDER_SEQUENCE_NUMBER:1")
        .send(300, 0, 1)
        // Partition 1 again, after the bump.
        .send(1000, 1, 2)
        .run_tapped();
    assert_clean(&r);
    let answers = answers(&wire);
    let p1_errors: Vec<_> = answers.iter().filter(|a| a.0 == 1 && a.1 != 0).collect();
    assert!(p1_errors.is_empty(), "the idle partition's first batch after the bump was accepted: {answers:?}");
    assert_eq!(counter(&r, "p_epoch_bumps"), 1, "one bump (the OUT_OF_ORDER answer), no second one: {:?}", r.counters);
    let p1 = log(&r, 1);
    assert_eq!(record_order(p1), vec![0, 1, 2, 4, 5]);
    let old = (p1[0].producer_id, p1[0].epoch);
    assert_eq!(
        p1.iter().take(3).map(|e| ((e.producer_id, e.epoch), e.sequence)).collect::<Vec<_>>(),
        vec![(old, 0), (old, 1), (old, 2)]
    );
    assert!(later_session(&p1[0], &p1[3]), "partition 1 writes in the new session: {p1:?}");
    let after: Vec<_> = p1.iter().skip(3).map(|e| e.sequence).collect();
    assert_eq!(after, vec![0, 1], "and starts it at sequence 0");
    let p0 = log(&r, 0);
    assert_eq!((record_order(p0), p0[0].sequence), (vec![3], 0));
    assert!(counter(&r, "rejected") == 0, "no batch was rejected by the validator: {:?}", r.counters);
}
