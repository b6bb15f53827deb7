//! Bug A (the demo's failure): Kafka's broker remembers the last 5 batches it *appended* per
//! producer (`ProducerStateEntry.NUM_BATCHES_TO_RETAIN`); a resend of an older batch is
//! OUT_OF_ORDER_SEQUENCE_NUMBER, not a duplicate. A producer that admits a new batch whenever
//! fewer than 5 are unresolved lets later batches (acknowledged, so no longer counted) pile up
//! behind a head batch whose outcome is unknown: each resend of the head refused before the
//! duplicate check (here NOT_ENOUGH_REPLICAS) lets the batches pipelined behind it append. Once 5
//! of them are in, the head's resend is refused as out of order and the producer gives up, as
//! PossiblyPersisted, a batch that is in the log.
//!
//! Fails against such a producer (seeds 49 and 71 of this test): "GIVEN UP IN LOG: record 1
//! reported PossiblyPersisted (sequence error OUT_OF_ORDER_SEQUENCE_NUMBER (45)) but is in the
//! log at sim-0@1".

use idem_tests::scenario::{Scenario, log, record_order};
use idem_tests::sim::RunResult;

fn run(seed: u64) -> RunResult {
    let mut s = Scenario::new(1, 1)
        .set("linger.ms", "0")
        .set("batch.size", "100")
        .set("max.in.flight.requests.per.connection", "5")
        .send(0, 0, 1)
        // Record 1 is appended but answered NOT_ENOUGH_REPLICAS_AFTER_APPEND: outcome unknown.
        .faults(100, 105, "error_after=NOT_ENOUGH_REPLICAS_AFTER_APPEND:1")
        .send(100, 0, 1)
        // Then half the batches are refused before the validator looks at them.
        .faults(110, 2000, "error_before=NOT_ENOUGH_REPLICAS:0.5");
    s.seed = seed;
    s.cluster.seed = seed;
    // One record every 10 ms, each its own batch.
    for i in 0..150 {
        s = s.send(110 + 10 * i, 0, 1);
    }
    s.run()
}

#[test]
fn a_written_head_batch_is_never_pushed_out_of_the_brokers_window() {
    for seed in 40..80 {
        let r = run(seed);
        assert!(r.errors.is_empty(), "seed {seed}: {}\n{:#?}", r.summary, r.errors);
        let order = record_order(log(&r, 0));
        assert!(order.windows(2).all(|w| w[0] < w[1]), "seed {seed}: send order: {order:?}");
    }
}
