// Proven to fail when: (a) the producer classifies OUT_OF_ORDER_SEQUENCE_NUMBER as fatal ->
// expiry_answered_out_of_order_is_not_fatal: "FATAL ..: OUT_OF_ORDER_SEQUENCE_NUMBER (45)";
// (b) the broker's strict unknown-producer rule answers OUT_OF_ORDER instead of
// UNKNOWN_PRODUCER_ID -> expiry_answered_unknown_producer_is_not_fatal: "UNKNOWN_PRODUCER_ID
// after expiry: [(0, 0), (0, 45), (0, 0), (0, 0)]".
//! Redpanda #22670: after producer-state expiry the broker answered OUT_OF_ORDER_SEQUENCE_NUMBER
//! (not UNKNOWN_PRODUCER_ID), and clients treated it as fatal. idem's own broker answers
//! UNKNOWN_PRODUCER_ID; here the Redpanda answer is emulated by injecting OUT_OF_ORDER right
//! after the expiry. Either way the producer bumps and carries on.

use idem_tests::actors::BrokerFault;
use idem_tests::checker::Outcome;
use idem_tests::scenario::{Scenario, answers, assert_clean, counter, had_fatal, log, record_order};

fn run(redpanda_answer: bool) -> (idem_tests::sim::RunResult, Vec<(i32, i16)>) {
    let mut s = Scenario::new(1, 1).send(0, 0, 3).broker(500, BrokerFault::ExpireProducers);
    if redpanda_answer {
        s = s.faults(500, 520, "error_before=OUT_OF_ORDER_SEQUENCE_NUMBER:1");
    }
    let (r, wire) = s.send(505, 0, 2).send(1500, 0, 2).run_tapped();
    assert_clean(&r);
    assert!(!had_fatal(&r));
    assert!(r.run.reports.iter().all(|rep| matches!(rep.outcome, Outcome::Delivered { .. })), "{}", r.summary);
    assert_eq!(record_order(log(&r, 0)), vec![0, 1, 2, 3, 4, 5, 6]);
    assert!(counter(&r, "p_epoch_bumps") >= 1);
    (r, answers(&wire))
}

#[test]
fn expiry_answered_out_of_order_is_not_fatal() {
    let (r, answers) = run(true);
    assert!(counter(&r, "errors_before") >= 1);
    assert!(answers.contains(&(0, 45)), "the producer was answered OUT_OF_ORDER: {answers:?}");
}

#[test]
fn expiry_answered_unknown_producer_is_not_fatal() {
    let (r, answers) = run(false);
    assert!(counter(&r, "rejected") >= 1);
    // idem's broker answers expiry with UNKNOWN_PRODUCER_ID, never OUT_OF_ORDER.
    assert!(answers.contains(&(0, 59)), "UNKNOWN_PRODUCER_ID after expiry: {answers:?}");
    assert!(!answers.iter().any(|a| a.1 == 45), "no OUT_OF_ORDER answer: {answers:?}");
}
