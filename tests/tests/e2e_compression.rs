//! End to end over real TCP: idem-std's producer with every `compression.type` against idem's
//! cluster (`idem_mock::MockCluster`) and librdkafka's mock cluster; read back by librdkafka's
//! consumer (its gzip, snappy, lz4 and zstd decoders, no code of ours) exactly once and in
//! order, and, on idem's cluster, straight from the log, where every batch must carry the
//! codec. zstd against an older librdkafka mock (Produce v6, before KIP-110) is the typed
//! fatal error, every record reported not persisted.
#![allow(clippy::unwrap_used)]

mod e2e_common;

use e2e_common::{
    check, idem_cluster, read_back, read_idem_log, run_std_with, send_until_fatal, test_config, value_of,
};
use idem_core::proto::record_batch::{Compression, RecordBatch};
use idem_std::{Config, DeliveryError, DeliveryResult, FatalError, Persisted, SendError};
use rdkafka::mocking::MockCluster;
use rdkafka::types::RDKafkaApiKey;

const CODECS: [Compression; 4] = [Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd];

/// Sends `n` text-like records (so that they compress) round-robin over `partitions`.
fn run(config: Config, partitions: i32, n: u64) -> Vec<Option<DeliveryResult>> {
    let text = |i: u64| {
        let mut v = value_of(i).to_vec();
        v.extend_from_slice(format!(r#" {{"level":"info","msg":"request served","id":{i}}}"#).as_bytes());
        v
    };
    run_std_with(config, partitions, n, |_| {}, text).0
}

fn config(bootstrap: &str, codec: Compression, level: Option<&str>) -> Config {
    let mut c = test_config(bootstrap, 9000);
    c.set("compression.type", codec.name()).unwrap();
    if let Some(l) = level {
        c.set("compression.level", l).unwrap();
    }
    c
}

#[test]
fn every_codec_through_idem_cluster_read_back_by_librdkafka() {
    for codec in CODECS {
        let cluster = idem_cluster(2, "t", 3, "");
        let bootstrap = cluster.bootstrap_servers();
        let level = match codec {
            Compression::Gzip => Some("1"),
            Compression::Zstd => Some("-1"),
            _ => None,
        };
        let reports = run(config(&bootstrap, codec, level), 3, 3000);
        let o = check(&reports, &read_back(&bootstrap, "t", 3), true);
        assert_eq!((o.delivered, o.duplicates, o.reordered), (3000, 0, 0), "{codec:?}: {o:?}");
        let log = read_idem_log(&cluster, "t", 3);
        assert_eq!(check(&reports, &log, true).delivered, 3000, "{codec:?}: the log itself");
        for p in 0..3 {
            let batches = cluster.partition_log("t", p).unwrap();
            assert!(!batches.is_empty());
            for b in batches {
                let (rb, _) = RecordBatch::decode(&b.bytes).unwrap();
                assert_eq!(rb.header.compression(), Ok(codec), "partition {p}: a batch not compressed");
            }
        }
    }
}

#[test]
fn every_codec_through_librdkafka_mock_read_back_by_librdkafka() {
    for codec in CODECS {
        let cluster = MockCluster::new(3).unwrap();
        cluster.create_topic("t", 3, 3).unwrap();
        let bootstrap = cluster.bootstrap_servers();
        // One request in flight: the mock checks no sequences (see e2e_rdkafka_mock.rs).
        let mut c = config(&bootstrap, codec, None);
        c.set("max.in.flight.requests.per.connection", "1").unwrap();
        let reports = run(c, 3, 3000);
        let o = check(&reports, &read_back(&bootstrap, "t", 3), true);
        assert_eq!((o.delivered, o.duplicates, o.reordered), (3000, 0, 0), "{codec:?}: {o:?}");
    }
}

#[test]
fn zstd_against_a_librdkafka_mock_before_kip_110_is_a_typed_fatal_error() {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("t", 1, 1).unwrap();
    cluster.apiversion(RDKafkaApiKey::Produce, Some(0), Some(6)).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let want = FatalError::UnsupportedCompression { codec: Compression::Zstd, produce_version: 6 };
    // The producer stops as soon as it has the broker's versions, maybe while records are
    // still being sent: those are refused with the same fatal error.
    let p = idem_std::Producer::new(config(&bootstrap, Compression::Zstd, None)).unwrap();
    let (handles, refused) = send_until_fatal(&p, 50);
    assert!(refused.is_none_or(|e| e == SendError::Fatal(want)), "{refused:?}");
    for h in handles {
        let f = h.wait_timeout(std::time::Duration::from_secs(20)).expect("reported").unwrap_err();
        assert_eq!(f.persisted, Persisted::No, "{f}");
        assert_eq!(f.error, DeliveryError::Fatal(want), "{f}");
        assert!(f.to_string().contains("needs Produce v7") && f.to_string().contains("v6"), "the error says why: {f}");
    }
    p.close_timeout(std::time::Duration::from_secs(5));
    assert_eq!(p.fatal_error(), Some(want));
    assert!(read_back(&bootstrap, "t", 1).is_empty(), "nothing written");
}
