// Proven to fail when: the broker bumps any current epoch (`cur.wrapping_add(1)`, no exhaustion
// check in `allocate_producer`) and the producer asks for a bump at i16::MAX instead of a new id
// -> "no batch in an epoch past the last: [.., (1000, 32767), ..]".
//! Epoch exhaustion: the producer's epoch starts near i16::MAX (test hook on the cluster) and is
//! bumped past the end; the broker then hands out a new producer id, and the producer carries on
//! without a fatal error, a duplicate or a reorder. The cluster bumps epochs in place here
//! (`ProducerIdPolicy::BumpInPlace`); Kafka would hand out a fresh id for every request.

use idem_core::broker::ProducerIdPolicy;
use idem_tests::actors::BrokerFault;
use idem_tests::scenario::{Scenario, assert_clean, counter, had_fatal, log, pid_grants, record_order};

#[test]
fn bumps_past_the_last_epoch_get_a_new_producer_id() {
    let mut s = Scenario::new(1, 2);
    s.first_epoch = Some(i16::MAX - 3);
    s.cluster.producer_ids = ProducerIdPolicy::BumpInPlace;
    // Each round: a head batch rejected OUT_OF_ORDER (definitely not written) forces a bump.
    for round in 0..6u64 {
        let t = round * 500;
        s = s
            .faults(t + 100, t + 109, "error_before=OUT_OF_ORDER_SEQUENCE_NUMBER:1")
            .send(t + 100, (round % 2) as i32, 2)
            .send(t + 300, 1, 1);
    }
    // State expiry in between: UNKNOWN_PRODUCER_ID also leads to bumps.
    s = s.broker(1700, BrokerFault::ExpireProducers).send(1750, 0, 1).send(4000, 0, 3);
    let (r, wire) = s.run_tapped();
    assert_clean(&r);
    assert!(!had_fatal(&r));
    assert!(counter(&r, "p_epoch_bumps") >= 4, "{:?}", r.counters);
    let mut sessions: Vec<(i64, i16)> =
        (0..2).flat_map(|p| log(&r, p).iter().map(|e| (e.producer_id, e.epoch))).collect();
    sessions.sort();
    sessions.dedup();
    let ids: std::collections::BTreeSet<i64> = sessions.iter().map(|s| s.0).collect();
    assert!(ids.len() >= 2, "a new producer id after the last epoch: {sessions:?}");
    assert!(sessions.iter().any(|s| s.1 == i16::MAX - 1), "the last usable epoch was used: {sessions:?}");
    assert!(sessions.iter().all(|s| s.1 >= i16::MAX - 3), "epochs never wrapped: {sessions:?}");
    // Kafka's exhaustion rule: an epoch of i16::MAX - 1 or more is not bumped; a new id starts over.
    assert!(sessions.iter().all(|s| s.1 < i16::MAX), "no batch in an epoch past the last: {sessions:?}");
    let grants = pid_grants(&wire);
    assert!(
        grants.iter().all(|g| (i16::MAX - 3..=i16::MAX - 1).contains(&g.1)),
        "every granted epoch is in range, none past the last: {grants:?}"
    );
    assert!(grants.len() >= 5, "the first id, bumps to the last epoch, a new id: {grants:?}");
    // Every record delivered exactly once, in send order per partition.
    for p in 0..2 {
        let order = record_order(log(&r, p));
        assert!(order.windows(2).all(|w| w[0] < w[1]), "partition {p}: {order:?}");
    }
    assert_eq!(r.run.reports.len(), r.run.sent.len());
}
