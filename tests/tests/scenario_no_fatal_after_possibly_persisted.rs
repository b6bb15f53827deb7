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
