//! Redpanda #22670: after producer-state expiry the broker answered OUT_OF_ORDER_SEQUENCE_NUMBER
//! (not UNKNOWN_PRODUCER_ID), and clients treated it as fatal. idem's own broker answers
//! UNKNOWN_PRODUCER_ID; here the Redpanda answer is emulated by injecting OUT_OF_ORDER right
//! after the expiry. Either way the producer bumps and carries on.

use idem_tests::actors::BrokerFault;
use idem_tests::checker::Outcome;
use idem_tests::scenario::{Scenario, assert_clean, counter, had_fatal, log, record_order};

fn run(redpanda_answer: bool) -> idem_tests::sim::RunResult {
    let mut s = Scenario::new(1, 1).send(0, 0, 3).broker(500, BrokerFault::ExpireProducers);
    if redpanda_answer {
        s = s.faults(500, 520, "error_before=OUT_OF_ORDER_SEQUENCE_NUMBER:1");
    }
    let r = s.send(505, 0, 2).send(1500, 0, 2).run();
    assert_clean(&r);
    assert!(!had_fatal(&r));
    assert!(r.run.reports.iter().all(|rep| matches!(rep.outcome, Outcome::Delivered { .. })), "{}", r.summary);
    assert_eq!(record_order(log(&r, 0)), vec![0, 1, 2, 3, 4, 5, 6]);
    assert!(counter(&r, "p_epoch_bumps") >= 1);
    r
}

#[test]
fn expiry_answered_out_of_order_is_not_fatal() {
    let r = run(true);
    assert!(counter(&r, "errors_before") >= 1);
}

#[test]
fn expiry_answered_unknown_producer_is_not_fatal() {
    let r = run(false);
    assert!(counter(&r, "rejected") >= 1);
}
