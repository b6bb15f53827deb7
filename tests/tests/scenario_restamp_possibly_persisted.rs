// Proven to fail when: a sequence error on the head batch clears `maybe_persisted` and renumbers
// it into the new epoch -> all three tests: "DUPLICATE: record 1 is in the log 2 times:
// sim-0@1 (pid 1000 epoch 0 seq 1), sim-0@2 (pid 1000 epoch 1 seq 0)".
//! Redpanda #3039 / librdkafka #4953: re-stamping a possibly-persisted batch into a new epoch
//! defeats dedup and duplicates it. Here a batch is appended but the producer hears an error
//! (or nothing), the broker then forgets the producer, and the retry is answered with a
//! sequence error: idem must give the batch up as PossiblyPersisted, never re-stamp it.

use idem_tests::actors::BrokerFault;
use idem_tests::checker::Outcome;
use idem_tests::scenario::{Scenario, assert_clean, counter, log, record_order};

/// Record 0 is delivered cleanly (sequence 0), record 1 (sequence 1) is appended while `spec`
/// is active (its answer is an error or nothing), then producer state expires before the retry.
fn run(spec: &str) -> idem_tests::sim::RunResult {
    let r = Scenario::new(1, 1)
        .send(0, 0, 1)
        .faults(100, 109, spec)
        .send(100, 0, 1)
        .broker(112, BrokerFault::ExpireProducers)
        .send(1000, 0, 3)
        .run();
    assert_clean(&r);
    r
}

fn check(r: &idem_tests::sim::RunResult) {
    let order = record_order(log(r, 0));
    assert_eq!(order.iter().filter(|i| **i == 1).count(), 1, "record 1 is in the log exactly once: {order:?}");
    let report = &r.run.reports.iter().find(|rep| rep.record == 1).expect("record 1 reported").outcome;
    assert!(matches!(report, Outcome::PossiblyPersisted(_) | Outcome::Delivered { .. }), "record 1: {report:?}");
    // The later records still get through (after a bump).
    assert_eq!(&order[order.len() - 3..], &[2, 3, 4]);
    assert!(counter(r, "producers_expired") >= 1);
}

#[test]
fn not_leader_after_append_then_unknown_producer() {
    // Found by the seed sweep (seeds 13, 28, 138): NOT_LEADER_OR_FOLLOWER was taken as "not
    // written", and the batch was re-stamped into epoch 1 after UNKNOWN_PRODUCER_ID.
    let r = run("error_after=NOT_LEADER_OR_FOLLOWER:1");
    assert!(counter(&r, "errors_after") >= 1);
    check(&r);
}

#[test]
fn request_timed_out_after_append_then_unknown_producer() {
    let r = run("error_after=REQUEST_TIMED_OUT:1");
    assert!(counter(&r, "errors_after") >= 1);
    check(&r);
}

#[test]
fn response_lost_after_append_then_unknown_producer() {
    let r = run("append_drop=1");
    assert!(counter(&r, "dropped_after_append") >= 1);
    check(&r);
}
