// Proven to fail when: (a) the producer wraps to i32::MIN (`wrapping_add` in `seal`) ->
// wraps_from_max_to_zero_in_one_epoch: records 5..7 missing (INVALID_RECORD), and
// retries_..: "most runs wrapped inside their first epoch (0)"; (b) the producer never wraps
// (`saturating_add`) -> "delivered 30 .. in-log 5" (silent loss); (c) the broker does not
// accept 0 after i32::MAX -> "one epoch: [.., (0, 2147483647), (1, 0), ..]".
//! Int32 sequence wrap-around in a live run (franz-go #216, kafkajs #1790, Redpanda #4854 and
//! PR #27832): sequences start just below i32::MAX (test hook), wrap to 0 inside one epoch, and
//! retries, duplicates and lost responses across the wrap are still deduplicated.

use idem_core::broker::UnknownProducerPolicy;
use idem_tests::scenario::{Scenario, assert_clean, counter, log, record_order};
use idem_tests::sim::{NetFault, RunResult};

fn scenario(seed: u64, spec: &str) -> RunResult {
    let mut s = Scenario::new(1, 1)
        // One record per batch, five batches in flight.
        .set("batch.size", "100")
        .set("linger.ms", "0")
        .set("max.in.flight.requests.per.connection", "5");
    // KIP-360: the broker accepts a first sequence other than 0 from a producer it does not know.
    s.cluster.validator.unknown_producer = UnknownProducerPolicy::AcceptAnySequence;
    s.first_sequence = Some(i32::MAX - 4);
    s.seed = seed;
    for i in 0..30 {
        s = s.send(i * 3, 0, 1);
    }
    if !spec.is_empty() {
        s = s.faults(0, 120, spec).net(20, NetFault::CutAll).net(45, NetFault::CutAll);
    }
    let r = s.run();
    assert_clean(&r);
    r
}

/// The log's (epoch, sequence) pairs.
fn seqs(r: &RunResult) -> Vec<(i16, i32)> {
    log(r, 0).iter().map(|e| (e.epoch, e.sequence)).collect()
}

#[test]
fn wraps_from_max_to_zero_in_one_epoch() {
    let r = scenario(1, "");
    assert_eq!(record_order(log(&r, 0)), (0..30).collect::<Vec<_>>());
    let s = seqs(&r);
    let expected: Vec<i32> = (0..30)
        .map(|i| ((i32::MAX - 4) as i64 + i as i64) as i32)
        .map(|x| if x < 0 { x - i32::MIN } else { x })
        .collect();
    assert_eq!(s.iter().map(|(_, q)| *q).collect::<Vec<_>>(), expected);
    assert!(s.iter().all(|(e, _)| *e == s[0].0), "one epoch: {s:?}");
}

#[test]
fn retries_across_the_wrap_are_deduplicated() {
    let (mut dups, mut wrapped_runs) = (0, 0);
    for seed in 0..20 {
        let r = scenario(seed, "append_drop=0.3,error_after=REQUEST_TIMED_OUT:0.2,delay=0..30ms:0.5");
        dups += counter(&r, "duplicates");
        let s = seqs(&r);
        let e0 = s[0].0;
        if s.iter().any(|(e, q)| *e == e0 && *q == i32::MAX) && s.iter().any(|(e, q)| *e == e0 && *q == 0) {
            wrapped_runs += 1;
        }
    }
    assert!(dups > 0, "some retry across the wrap was answered as a duplicate");
    assert!(wrapped_runs > 10, "most runs wrapped inside their first epoch ({wrapped_runs})");
}
