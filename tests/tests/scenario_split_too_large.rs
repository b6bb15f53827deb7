// Proven to fail when: MESSAGE_TOO_LARGE fails the whole batch (the `is_too_large` arm of
// `PartitionState::on_result` removed) -> every_record_is_delivered_in_batches_the_broker_accepts:
// "left: (0, 20, 0) right: (20, 0, 0)".
//! A batch larger than the broker accepts (`max.message.bytes` of the topic or broker) is not
//! a reason to fail its records: the producer splits it in two and sends the halves, as the
//! Java client's `RecordAccumulator.splitAndReenqueue` does, until each batch fits; only a single
//! record that is too large on its own is refused (NotPersisted).

use idem_tests::scenario::{Scenario, assert_clean, log, outcomes, record_order};

#[test]
fn every_record_is_delivered_in_batches_the_broker_accepts() {
    for seed in 0..5 {
        // One batch of 20 records (~700 bytes) against a broker that accepts 100-byte batches:
        // one record per batch fits, two do not.
        let mut s = Scenario::new(1, 1).set("linger.ms", "20");
        s.cluster.max_message_bytes = 100;
        s.seed = seed;
        s = s.send(0, 0, 20);
        let r = s.run();
        assert_clean(&r);
        assert_eq!(outcomes(&r), (20, 0, 0), "seed {seed}: {}", r.summary);
        assert_eq!(record_order(log(&r, 0)), (0..20).collect::<Vec<_>>(), "seed {seed}: in send order");
    }
}

#[test]
fn a_record_too_large_on_its_own_is_refused_and_the_rest_delivered() {
    let mut s = Scenario::new(1, 1).set("linger.ms", "20");
    s.cluster.max_message_bytes = 60; // smaller than any batch of one record
    s = s.send(0, 0, 3);
    let r = s.run();
    assert_clean(&r);
    assert_eq!(outcomes(&r), (0, 3, 0), "{}", r.summary);
}
