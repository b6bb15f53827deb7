//! A broker that restarts and forgets the producer (restart without producer state): the next
//! batches get UNKNOWN_PRODUCER_ID. idem bumps the epoch and renumbers what was never written;
//! nothing is lost, duplicated or reordered, and no fatal error stops the producer.

use idem_tests::actors::BrokerFault;
use idem_tests::checker::Outcome;
use idem_tests::scenario::{Scenario, assert_clean, counter, had_fatal, log, record_order};

fn run(keep_producer_state: bool) -> idem_tests::sim::RunResult {
    let mut s = Scenario::new(2, 2);
    for i in 0..40u64 {
        s = s.send(i * 25, (i % 2) as i32, 1);
    }
    // Restart whichever broker leads partition 0 (broker 0: leaders are round-robin).
    s = s
        .broker(400, BrokerFault::Restart { broker: 0, keep_producer_state })
        .broker(700, BrokerFault::Restart { broker: 1, keep_producer_state });
    let r = s.run();
    assert_clean(&r);
    assert!(!had_fatal(&r));
    // Nothing was in doubt for long: every record is delivered.
    assert!(r.run.reports.iter().all(|rep| matches!(rep.outcome, Outcome::Delivered { .. })), "{}", r.summary);
    for p in 0..2 {
        let order = record_order(log(&r, p));
        assert!(order.windows(2).all(|w| w[0] < w[1]), "partition {p} in send order: {order:?}");
    }
    r
}

#[test]
fn restart_without_state_answers_unknown_producer_and_the_producer_recovers() {
    let r = run(false);
    assert!(counter(&r, "producers_expired") >= 1, "{:?}", r.counters);
    assert!(counter(&r, "p_epoch_bumps") >= 1, "UNKNOWN_PRODUCER_ID led to a bump: {:?}", r.counters);
    assert!(counter(&r, "rejected") >= 1, "the broker did answer with a sequence error: {:?}", r.counters);
}

#[test]
fn restart_with_state_needs_no_bump() {
    let r = run(true);
    assert_eq!(counter(&r, "p_epoch_bumps"), 0, "{:?}", r.counters);
}
