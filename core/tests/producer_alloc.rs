//! `send` makes no heap allocation per record in steady state: bytes are copied into a recycled
//! batch buffer. Measured with a counting global allocator (one test in this binary, so no other
//! thread allocates meanwhile). It runs without the libtest harness (`harness = false`), on the
//! main thread alone: the harness's own threads would otherwise be counted now and then.
#![allow(clippy::unwrap_used)]

mod scripted_broker;

use std::alloc::System;

use idem_core::Duration;
use idem_core::producer::ProducerRecord;
use idem_core::proto::ErrorCode;
use scripted_broker::{ScriptedBroker, config};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() {
    steady_state_send_does_not_allocate();
    println!("producer_alloc: steady-state sends made no allocation");
}

fn steady_state_send_does_not_allocate() {
    let mut b = ScriptedBroker::new(config().linger(Duration::from_secs(1)).batch_size(4096), 2);
    let value = [7u8; 100];
    let headers: &[(&str, Option<&[u8]>)] = &[("h", Some(b"x"))];
    let mut offset = 0i64;
    let mut measured = 0u64;
    let mut allocations = 0usize;
    for i in 0..5_000u64 {
        let key = [(i % 3) as u8];
        let r = ProducerRecord {
            topic: "t",
            partition: None,
            key: Some(&key),
            value: Some(&value),
            headers,
            timestamp_ms: 1_700_000_000_000 + i as i64,
        };
        let batches = b.p.metrics().batches;
        let region = Region::new(GLOBAL);
        b.p.send(b.now, &r).unwrap();
        let stats = region.change();
        // Sends that sealed a batch also build a Produce request; the rest must not allocate.
        // The first 1,000 are the warm-up: batch buffers start small and grow (reallocating)
        // until the recycled ones have reached what the batches need.
        if i >= 1_000 && b.p.metrics().batches == batches {
            measured += 1;
            allocations += stats.allocations + stats.reallocations;
        }
        b.settle();
        while let Some(k) = b.reqs.iter().position(|r| r.is_produce()) {
            let req = b.reqs.remove(k).unwrap();
            let n: Vec<i64> = req.batches().iter().map(|x| i64::from(x.count)).collect();
            let results: Vec<(ErrorCode, i64)> = n
                .iter()
                .map(|c| {
                    offset += c;
                    (ErrorCode::NONE, offset - c)
                })
                .collect();
            b.answer(&req, &results);
        }
        b.events.clear();
    }
    assert!(measured > 3_000, "{measured}");
    assert_eq!(allocations, 0, "allocations in {measured} non-sealing sends");
}
