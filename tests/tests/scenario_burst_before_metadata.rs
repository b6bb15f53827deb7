//! A burst sent before the topic's metadata is known (as `idem produce` does with a file): the
//! records wait for metadata, each holding a reservation of `buffer.memory`, until the buffer
//! is full. Once the partitions are known each waiting record's reservation is released and
//! must make room for a new batch of that record alone, buffer and per-record bookkeeping (16
//! bytes plus the record's opaque value) included; otherwise the first routed record finds no
//! memory, every waiting record keeps its reservation, and nothing is ever sent: every record
//! times out on a healthy cluster.
//!
//! Fails when the reservation leaves out the opaque value (`hold_for_metadata` reserving only
//! the one-record batch plus 16 bytes: enough for the bookkeeping only while the opaque value
//! takes no room; the runtimes' completer takes 24 bytes, as the simulation's opaque does):
//! "STALLED: record 0 sent at Instant(0), after the last fault ended at Instant(0), timed out
//! at ...". Found by `idem produce` against librdkafka's mock cluster (1,000,000 lines, a
//! 2 MiB buffer: 11,275 records timed out, nothing delivered), then by the seed sweep once its
//! workloads had start-up bursts and its checker a progress rule (16 of seeds 0..20,000).

use idem_tests::scenario::{Scenario, log, record_order};

#[test]
fn a_burst_that_fills_the_buffer_before_metadata_is_all_delivered() {
    for (buffer, batch) in [("2048", "1024"), ("4096", "1024"), ("65536", "16384")] {
        let r = Scenario::new(1, 2)
            .set("buffer.memory", buffer)
            .set("batch.size", batch)
            .set("linger.ms", "5")
            .set("delivery.timeout.ms", "3000")
            .send(0, 0, 300)
            .send(0, 1, 300)
            .run();
        assert!(r.errors.is_empty(), "buffer {buffer}: {}\n{:#?}", r.summary, r.errors);
        for p in 0..2 {
            let order = record_order(log(&r, p));
            assert_eq!(order.len(), 300, "buffer {buffer}: partition {p} holds {} records", order.len());
            assert!(order.windows(2).all(|w| w[0] < w[1]), "buffer {buffer}: send order: {order:?}");
        }
    }
}
