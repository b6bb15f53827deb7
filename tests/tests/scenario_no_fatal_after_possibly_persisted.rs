// Proven to fail when: (a) a sequence error on a possibly-persisted head batch is fatal (instead
// of giving it up) -> sequence_error_after_a_timed_out_send_is_not_fatal: "FATAL ..:
// OUT_OF_ORDER_SEQUENCE_NUMBER (45)"; (b) giving a batch up as possibly persisted on delivery
// timeout is fatal -> stalled_responses_time_out_then_the_producer_carries_on: "FATAL ..".
//! librdkafka #3584: after possibly-persisted sends (timeouts with requests in flight) the
//! producer declared a fatal "sequence desynchronization". idem reports those records
//! PossiblyPersisted, drains, bumps the epoch and keeps going.

use idem_tests::actors::BrokerFault;
use idem_tests::checker::Outcome;
use idem_tests::scenario::{Scenario, assert_clean, counter, had_fatal, log, outcomes, record_order};
use idem_tests::sim::NetFault;

#[test]
fn stalled_responses_time_out_then_the_producer_carries_on() {
    let mut s = Scenario::new(1, 1).set("request.timeout.ms", "500").set("delivery.timeout.ms", "1500");
    for t in 0..10 {
        s = s.send(t * 30, 0, 1);
    }
    // The broker's answers are held back (the requests are written, nobody hears back), then the
    // broker is unreachable for longer than the delivery timeout.
    s = s.net(100, NetFault::StallAll { to_broker: false, ms: 4000 });
    s = s.broker(320, BrokerFault::Down { broker: 0 }).broker(4000, BrokerFault::Up { broker: 0 });
    for t in 0..10 {
        s = s.send(6000 + t * 30, 0, 1);
    }
    let r = s.run();
    assert_clean(&r);
    assert!(!had_fatal(&r));
    let (_, _, possibly) = outcomes(&r);
    assert!(possibly >= 1, "some records were possibly persisted: {}", r.summary);
    assert!(counter(&r, "p_epoch_bumps") >= 1);
    // Everything sent after the stall is delivered, in order, after what came before.
    for rep in r.run.reports.iter().filter(|rep| rep.record >= 10) {
        assert!(matches!(rep.outcome, Outcome::Delivered { .. }), "{rep:?}");
    }
    let order = record_order(log(&r, 0));
    assert_eq!(&order[order.len() - 10..], &(10..20).collect::<Vec<_>>()[..]);
}

#[test]
fn lost_responses_on_every_request_for_a_while() {
    let mut s = Scenario::new(1, 1).set("request.timeout.ms", "500").set("delivery.timeout.ms", "1500");
    s = s.faults(0, 2500, "append_drop=1");
    for t in 0..20 {
        s = s.send(t * 100, 0, 1);
    }
    for t in 0..10 {
        s = s.send(4000 + t * 30, 0, 1);
    }
    let r = s.run();
    assert_clean(&r);
    assert!(!had_fatal(&r));
    assert!(counter(&r, "dropped_after_append") >= 1);
    for rep in r.run.reports.iter().filter(|rep| rep.record >= 20) {
        assert!(matches!(rep.outcome, Outcome::Delivered { .. }), "{rep:?}");
    }
}

#[test]
fn sequence_error_after_a_timed_out_send_is_not_fatal() {
    // Record 2 is appended but its answer is held back past request.timeout.ms (possibly
    // persisted); its retry is refused OUT_OF_ORDER (the broker and the producer disagree about
    // sequences: librdkafka's "desynchronization"). idem gives record 2 up as PossiblyPersisted,
    // bumps and delivers what follows; it never stops.
    let r = Scenario::new(1, 1)
        .set("request.timeout.ms", "300")
        .send(0, 0, 2)
        .send(200, 0, 1)
        .net(202, NetFault::StallAll { to_broker: false, ms: 1000 })
        .faults(210, 1500, "error_before=OUT_OF_ORDER_SEQUENCE_NUMBER:1")
        .send(2000, 0, 3)
        .run();
    assert_clean(&r);
    assert!(!had_fatal(&r));
    assert!(counter(&r, "errors_before") >= 1, "the retry was answered OUT_OF_ORDER: {:?}", r.counters);
    let report = |i: usize| &r.run.reports.iter().find(|rep| rep.record == i).expect("reported").outcome;
    assert!(matches!(report(2), Outcome::PossiblyPersisted(_)), "{:?}", report(2));
    for i in [0, 1, 3, 4, 5] {
        assert!(matches!(report(i), Outcome::Delivered { .. }), "record {i}: {:?}", report(i));
    }
    assert_eq!(record_order(log(&r, 0)), vec![0, 1, 2, 3, 4, 5], "record 2 once (its first attempt)");
    assert!(counter(&r, "p_epoch_bumps") >= 1);
}
