// Proven to fail when: (a) the broker's Strict policy accepts any first sequence and the
// producer pipelines before its first acknowledgement (`has_room` ignores `acked`) ->
// strict_first_sequence_keeps_send_order: "seed 3: the log is in send order, nothing lost";
// (b) the producer implicitly acks earlier batches that
// are not in flight (answered with an error), with `has_room` ignoring `acked` ->
// any_first_sequence_keeps_send_order: "SILENT LOSS: record 0 reported Delivered .. but is not
// in that log"; (c) `has_room` ignores `acked` -> any_first_sequence_keeps_send_order:
// "seed 3: Delivered records in send order" (left [1, 2, .., 9]: record 0, overtaken by record
// 1 taken as the first, is failed NotPersisted; before the overtaken rule it was renumbered and
// landed after: left [1, 2, 3, 4, 0, 5, 6, 7, 8, 9]).
//! KAFKA-15591: a broker that accepts any first sequence from a producer it does not know
//! (KIP-360) appends a reordered pipelined request first, when the earlier request failed; the
//! earlier batch, retried, then lands after it (or is lost). idem's broker defaults to the strict
//! policy (first sequence must be 0); and the producer sends one batch at a time to a partition
//! until the session's first acknowledgement there (franz-go's rule), so even a KIP-360 broker
//! cannot take a later batch as the first: the log keeps send order under both policies.
//!
//! The runs pipeline five one-record batches into a fresh partition while the broker rejects
//! requests at random with a retriable error (NOT_ENOUGH_REPLICAS: not written).

use idem_core::broker::UnknownProducerPolicy;
use idem_tests::scenario::{Scenario, assert_clean, counter, log, record_order};
use idem_tests::sim::RunResult;

fn run(seed: u64, policy: UnknownProducerPolicy) -> RunResult {
    let mut s = Scenario::new(1, 1)
        .set("batch.size", "100")
        .set("linger.ms", "0")
        .set("max.in.flight.requests.per.connection", "5");
    s.cluster.validator.unknown_producer = policy;
    s.seed = seed;
    s.cluster.seed = seed;
    s = s.faults(0, 60, "error_before=NOT_ENOUGH_REPLICAS:0.5").send(0, 0, 5).send(30, 0, 5);
    s.run()
}

#[test]
fn strict_first_sequence_keeps_send_order() {
    let mut rejected = 0;
    for seed in 0..40 {
        let r = run(seed, UnknownProducerPolicy::Strict);
        assert_clean(&r);
        rejected += counter(&r, "errors_before");
        let order = record_order(log(&r, 0));
        assert_eq!(order, (0..10).collect::<Vec<_>>(), "seed {seed}: the log is in send order, nothing lost");
    }
    assert!(rejected > 20, "the first requests were rejected often enough ({rejected})");
}

#[test]
fn any_first_sequence_keeps_send_order() {
    // Under KIP-360's policy a later pipelined batch could be appended as the producer's first
    // when the first is rejected; the renumbered first batch would then land behind it (this
    // test found it: 40 of 40 seeds reordered before the first-acknowledgement rule).
    let mut rejected = 0;
    for seed in 0..40 {
        let r = run(seed, UnknownProducerPolicy::AcceptAnySequence);
        assert_clean(&r);
        rejected += counter(&r, "errors_before");
        let order = record_order(log(&r, 0));
        assert_eq!(order, (0..10).collect::<Vec<_>>(), "seed {seed}: Delivered records in send order");
    }
    assert!(rejected > 20, "the first requests were rejected often enough ({rejected})");
}
