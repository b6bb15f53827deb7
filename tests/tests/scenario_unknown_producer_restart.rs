// Proven to fail when: (a) UNKNOWN_PRODUCER_ID is classified fatal ->
// restart_without_state_..: "FATAL ..: UNKNOWN_PRODUCER_ID (59)"; (b) a possibly-persisted head
// batch answered UNKNOWN_PRODUCER_ID is renumbered -> restart_while_an_answer_is_pending_..:
// "DUPLICATE: record 2 is in the log 2 times".
//! A broker that restarts and forgets the producer (restart without producer state): the next
//! batches get UNKNOWN_PRODUCER_ID. idem bumps the epoch and renumbers what was never written;
//! nothing is lost, duplicated or reordered, and no fatal error stops the producer.

use idem_tests::actors::{BrokerFault, RestartMode};
use idem_tests::checker::Outcome;
use idem_tests::scenario::{Scenario, answers, assert_clean, counter, had_fatal, log, record_order};

fn run(state: RestartMode) -> idem_tests::sim::RunResult {
    let mut s = Scenario::new(2, 2);
    for i in 0..40u64 {
        s = s.send(i * 25, (i % 2) as i32, 1);
    }
    // Restart whichever broker leads partition 0 (broker 0: leaders are round-robin).
    s = s.broker(400, BrokerFault::Restart { broker: 0, state }).broker(700, BrokerFault::Restart { broker: 1, state });
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
    let r = run(RestartMode::LoseState);
    assert!(counter(&r, "producers_expired") >= 1, "{:?}", r.counters);
    assert!(counter(&r, "p_epoch_bumps") >= 1, "UNKNOWN_PRODUCER_ID led to a bump: {:?}", r.counters);
    assert!(counter(&r, "rejected") >= 1, "the broker did answer with a sequence error: {:?}", r.counters);
}

#[test]
fn restart_with_state_needs_no_bump() {
    let r = run(RestartMode::KeepWindow);
    assert_eq!(counter(&r, "p_epoch_bumps"), 0, "{:?}", r.counters);
}

#[test]
fn restart_while_an_answer_is_pending_never_renumbers_that_batch() {
    // Record 2 (sequence 2) is appended, its answer is held back, and the broker restarts
    // without producer state before sending it: the batch is in the log but the producer cannot
    // know. Its retry meets UNKNOWN_PRODUCER_ID; renumbering it into the new epoch would write it
    // twice. idem gives it up as PossiblyPersisted, bumps, and delivers the rest.
    let (r, wire) = Scenario::new(1, 1)
        .send(0, 0, 2)
        .faults(100, 120, "delay=200..200ms")
        .send(100, 0, 1)
        .broker(150, BrokerFault::Restart { broker: 0, state: RestartMode::LoseState })
        .send(1000, 0, 3)
        .run_tapped();
    assert_clean(&r);
    assert!(!had_fatal(&r));
    let answers = answers(&wire);
    assert!(answers.contains(&(0, 59)), "the retry met UNKNOWN_PRODUCER_ID: {answers:?}");
    assert_eq!(record_order(log(&r, 0)), vec![0, 1, 2, 3, 4, 5], "record 2 is in the log once");
    let outcome = |i: usize| &r.run.reports.iter().find(|rep| rep.record == i).expect("reported").outcome;
    assert!(matches!(outcome(2), Outcome::PossiblyPersisted(_)), "record 2's answer never came: {:?}", outcome(2));
    for i in [0, 1, 3, 4, 5] {
        assert!(matches!(outcome(i), Outcome::Delivered { .. }), "record {i}: {:?}", outcome(i));
    }
    assert!(counter(&r, "p_epoch_bumps") >= 1);
}
