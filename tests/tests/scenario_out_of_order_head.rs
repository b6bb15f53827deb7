// Proven to fail when: (a) a possibly-persisted head batch answered OUT_OF_ORDER is renumbered
// into the new epoch -> head_batch_of_unknown_outcome_..: "DUPLICATE: record 2 is in the log 2
// times"; (b) a definitely-not-written head is given up instead of renumbered ->
// head_batch_definitely_not_written_..: "NotPersisted"; (c) OUT_OF_ORDER on a definitely-not-
// written head is fatal -> same test: "FATAL ..: OUT_OF_ORDER_SEQUENCE_NUMBER (45)".
//! OUT_OF_ORDER_SEQUENCE_NUMBER on the head batch (the anchors disagree: librdkafka fatal, Java
//! bump and retry). idem: a head batch that is definitely not written is renumbered into a new
//! epoch and delivered; a head batch whose earlier attempt's outcome is unknown is given up as
//! PossiblyPersisted (re-stamping it could duplicate it), and the producer carries on.

use idem_tests::checker::Outcome;
use idem_tests::scenario::{Scenario, assert_clean, counter, had_fatal, later_session, log, record_order};

fn outcome(r: &idem_tests::sim::RunResult, record: usize) -> &Outcome {
    &r.run.reports.iter().find(|rep| rep.record == record).expect("reported").outcome
}

#[test]
fn head_batch_definitely_not_written_is_renumbered_and_delivered() {
    let r = Scenario::refused_head().run();
    assert_clean(&r);
    assert!(!had_fatal(&r));
    assert!(counter(&r, "errors_before") >= 1);
    assert!(counter(&r, "p_epoch_bumps") >= 1);
    assert!(matches!(outcome(&r, 2), Outcome::Delivered { .. }), "{:?}", outcome(&r, 2));
    let l = log(&r, 0);
    assert_eq!(record_order(l), vec![0, 1, 2, 3, 4]);
    assert!(later_session(&l[0], &l[2]) && l[2].sequence == 0, "renumbered into a new session at 0: {l:?}");
}

#[test]
fn head_batch_of_unknown_outcome_is_given_up_not_restamped() {
    // Record 2's first attempt is appended but answered REQUEST_TIMED_OUT (outcome unknown); its
    // retry is answered OUT_OF_ORDER (injected): the producer cannot tell, so it must not
    // re-stamp it.
    let r = Scenario::new(1, 1)
        .send(0, 0, 2)
        .faults(200, 209, "error_after=REQUEST_TIMED_OUT:1")
        .send(200, 0, 1)
        .faults(210, 400, "error_before=OUT_OF_ORDER_SEQUENCE_NUMBER:1")
        .send(1000, 0, 2)
        .run();
    assert_clean(&r);
    assert!(!had_fatal(&r));
    assert!(matches!(outcome(&r, 2), Outcome::PossiblyPersisted(_)), "{:?}", outcome(&r, 2));
    let order = record_order(log(&r, 0));
    assert_eq!(order, vec![0, 1, 2, 3, 4], "record 2 is in the log once (its first attempt)");
    assert!(
        r.run.reports.iter().filter(|rep| rep.record >= 3).all(|rep| matches!(rep.outcome, Outcome::Delivered { .. }))
    );
}
