// Proven to fail when: batches are sealed uncompressed whatever `compression.type` says
// (`Sealer::seal` calling `RecordBatchBuilder::seal`) -> every_codec_is_delivered_exactly_once_in_order:
// "gzip: no batch compressed", a_compressed_batch_the_broker_finds_too_large_is_split: "gzip:
// the halves are compressed"; when the zstd check at negotiation is removed
// (`compression_unsupported` answering `None`) -> zstd_before_kip_110_is_a_typed_fatal_error_and_nothing_is_sent:
// "fatal error expected" (the broker refused every batch with UNSUPPORTED_COMPRESSION_TYPE).
//! The producer's `compression.type` against idem's in-memory cluster, through the
//! deterministic simulation's `Scenario` (the log read back with kafka-protocol's decoder):
//! every codec delivers exactly once and in order, batches too large for the broker are split
//! and compressed again, and zstd is never sent to a broker from before KIP-110 (Produce v6 or
//! lower): the producer stops with a typed fatal error instead.

use idem_core::proto::ApiKey;
use idem_tests::scenario::{Scenario, assert_clean, counter, had_fatal, log, outcomes, record_order};

const CODECS: [&str; 4] = ["gzip", "snappy", "lz4", "zstd"];

#[test]
fn every_codec_is_delivered_exactly_once_in_order() {
    for codec in CODECS {
        for level in [None, Some("1")] {
            let mut s = Scenario::new(2, 3).set("compression.type", codec).set("batch.size", "2048");
            if let (Some(l), true) = (level, codec != "snappy") {
                s = s.set("compression.level", l);
            }
            for p in 0..3 {
                s = s.send(0, p, 150).send(40, p, 150);
            }
            let r = s.run();
            assert_clean(&r);
            assert_eq!(outcomes(&r), (900, 0, 0), "{codec}: {}", r.summary);
            let mut all: Vec<usize> = Vec::new();
            for p in 0..3 {
                let order = record_order(log(&r, p));
                assert!(order.windows(2).all(|w| w[0] < w[1]), "{codec} partition {p}: send order, once each");
                all.extend(order);
            }
            all.sort_unstable();
            assert_eq!(all, (0..900).collect::<Vec<_>>(), "{codec}: every record exactly once");
            let (compressed, appended) = (counter(&r, "compressed_batches_in_log"), counter(&r, "batches_appended"));
            assert!(compressed > 0, "{codec}: no batch compressed");
            assert_eq!(compressed, appended, "{codec}: every batch compressed (these records compress well)");
        }
    }
}

#[test]
fn a_compressed_batch_the_broker_finds_too_large_is_split() {
    for codec in CODECS {
        // 300 records of about 30 bytes in one batch; the broker takes at most 130 bytes a batch,
        // which a compressed batch of 300 records exceeds and one of a few records does not.
        let mut s = Scenario::new(1, 1).set("linger.ms", "20").set("compression.type", codec);
        s.cluster.max_message_bytes = 130;
        s = s.send(0, 0, 300);
        let r = s.run();
        assert_clean(&r);
        assert_eq!(outcomes(&r), (300, 0, 0), "{codec}: {}", r.summary);
        assert_eq!(record_order(log(&r, 0)), (0..300).collect::<Vec<_>>(), "{codec}: in send order");
        assert!(counter(&r, "p_batch_splits") > 0, "{codec}: the broker refused a batch as too large");
        assert!(counter(&r, "compressed_batches_in_log") > 1, "{codec}: the halves are compressed");
    }
}

#[test]
fn zstd_before_kip_110_is_a_typed_fatal_error_and_nothing_is_sent() {
    // A broker from before KIP-110 (Kafka 2.0: Produce v6 at most).
    let older = |codec: &str| {
        let mut s = Scenario::new(1, 1).set("compression.type", codec);
        s.cluster.max_versions = vec![(ApiKey::Produce, 6)];
        s.send(0, 0, 20)
    };
    let r = older("zstd").run();
    assert!(had_fatal(&r), "fatal error expected: {}", r.summary);
    let fatal = r.errors.iter().find(|e| e.starts_with("FATAL")).cloned().unwrap_or_default();
    assert!(fatal.contains("compression.type=zstd needs Produce v7") && fatal.contains("v6"), "{fatal}");
    assert_eq!(outcomes(&r), (0, 20, 0), "never sent: not persisted");
    assert!(log(&r, 0).is_empty());
    assert_eq!(counter(&r, "p_produce_requests"), 0, "no batch the broker would refuse");
    // The other codecs are older than KIP-110: delivered.
    for codec in ["gzip", "snappy", "lz4"] {
        let r = older(codec).run();
        assert_clean(&r);
        assert_eq!(outcomes(&r), (20, 0, 0), "{codec}: {}", r.summary);
    }
}
