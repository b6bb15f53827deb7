//! The seed sweep: idem's producer core against idem's in-memory cluster over a seeded network
//! with seeded faults; the checker asserts the five guarantees (no duplicates, no reordering, no
//! silent loss, bounded memory, liveness) on every run.
//!
//! `cargo test -p idem-tests --test sim_seeds` runs the default range; `IDEM_SIM_SEEDS=A..B`
//! runs any range (a failure prints the one command that replays its seed).

use std::time::Instant as WallClock;

use idem_tests::{adapters, seeds};

const DEFAULT_SEEDS: std::ops::Range<u64> = 0..2000;

#[test]
fn seeds() {
    let range = seeds::seed_range(DEFAULT_SEEDS);
    let single = range.end - range.start == 1;
    let started = WallClock::now();
    let sweep = seeds::sweep(range.clone(), if single { 1 } else { 2 }, &|seed| {
        let r = adapters::run_seed(seed);
        if single {
            println!("seed {seed}: {} | end {:?} steps {} trace {:016x}", r.summary, r.end, r.steps, r.trace_hash);
            for rep in &r.run.reports {
                println!("  record {} at {:?}: {:?}", rep.record, rep.at, rep.outcome);
            }
        }
        r
    });
    let [sent, delivered, not_persisted, possibly] = sweep.totals;
    println!(
        "seeds {:?}: {} runs in {:.1?}; records sent {sent}, delivered {delivered}, not persisted {not_persisted}, possibly persisted {possibly}; {} steps",
        range,
        sweep.seeds,
        started.elapsed(),
        sweep.steps
    );
    println!("counters: {:?}", sweep.counters);
    if !sweep.failures.is_empty() {
        println!(
            "violations by kind ({} of {} seeds failed):\n{}",
            sweep.failures.len(),
            sweep.seeds,
            sweep.kinds_report()
        );
    }
    assert!(sweep.failures.is_empty(), "{}", seeds::failure_report(&sweep, "sim_seeds"));
    // The sweep must exercise the interesting outcomes, not only the happy path.
    if !single && range.end - range.start >= 500 {
        assert!(not_persisted + possibly > 0, "no fault ever cost a record: the faults are not reaching the producer");
        assert!(delivered > sent / 2, "most records should be delivered");
        for k in [
            "duplicates",
            "rejected",
            "errors_before",
            "errors_after",
            "dropped_after_append",
            "delayed_responses",
            "not_leader",
            "restarts",
            "producers_expired",
            "sim_queue_full",
            "compressed_batches_in_log",
            "tls_seeds",
        ] {
            assert!(
                sweep.counters.get(k).copied().unwrap_or(0) > 0,
                "fault/path `{k}` never exercised: {:?}",
                sweep.counters
            );
        }
    }
}

#[test]
fn same_seed_same_run() {
    // Two plain seeds and the first two that run over TLS (seeded crypto: byte for byte too).
    let tls: Vec<u64> = (0..100).filter(|s| adapters::setup(*s).tls).take(2).collect();
    assert_eq!(tls.len(), 2);
    for seed in [3, 1234].into_iter().chain(tls) {
        let a = adapters::run_seed(seed);
        let b = adapters::run_seed(seed);
        assert_eq!(a.trace_hash, b.trace_hash, "seed {seed} is not deterministic");
        assert_eq!((a.end, a.steps, a.run.reports.len()), (b.end, b.steps, b.run.reports.len()));
    }
    assert_ne!(adapters::run_seed(3).trace_hash, adapters::run_seed(4).trace_hash);
}
