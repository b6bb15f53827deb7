//! Property tests: hostile bytes and arbitrary input sequences never panic the cluster, never
//! make it talk on a connection it does not know, and leave other connections served.

use crate::broker::handlers::tests::{fetch_req, produce_req};
use crate::broker::test_util::*;
use crate::broker::{BrokerInput, BrokerOutput, ConnId};
use crate::proto::ErrorCode;
use crate::proto::api_versions::ApiVersionsRequest;
use crate::proto::end_txn::EndTxnRequest;
use crate::proto::init_producer_id::InitProducerIdRequest;
use crate::proto::list_offsets::{ListOffsetsPartition, ListOffsetsRequest, ListOffsetsTopic};
use crate::proto::metadata::{MetadataRequest, MetadataRequestTopic};
use crate::proto::record_batch::control::{EndTransactionMarker, TransactionResult};
use crate::proto::record_batch::{Compression, compress};
use alloc::collections::BTreeSet;
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;

/// Valid request frames of every API, to mutate, and a Produce of a compressed batch per codec.
fn seeds() -> Vec<Vec<u8>> {
    let b = batch(1000, 0, 0, 3, "s");
    let mut seeds = base_seeds(&b);
    for codec in [Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd] {
        let z = if codec.is_enabled() { compressed_batch(1000, 0, 0, 3, "s", codec) } else { b.clone() };
        seeds.push(frame(9, 9, &produce_req("t", 0, &z, -1)));
    }
    // A transaction API, and a Produce of a control batch.
    seeds.push(frame(10, 3, &EndTxnRequest { transactional_id: "x", committed: true, ..Default::default() }));
    let marker = EndTransactionMarker { result: TransactionResult::Commit, coordinator_epoch: 0 };
    seeds.push(frame(11, 9, &produce_req("t", 0, &marker.control_batch(1000, 0, 0, 0), -1)));
    seeds
}

fn base_seeds(b: &[u8]) -> Vec<Vec<u8>> {
    vec![
        frame(1, 3, &ApiVersionsRequest { client_software_name: "a", client_software_version: "1" }),
        frame(
            2,
            12,
            &MetadataRequest {
                topics: Some(vec![MetadataRequestTopic { name: Some("t"), ..Default::default() }]),
                ..Default::default()
            },
        ),
        frame(3, 4, &InitProducerIdRequest::default()),
        frame(4, 9, &produce_req("t", 0, b, -1)),
        frame(5, 3, &produce_req("t", 1, b, 1)),
        frame(6, 12, &fetch_req("t", 0, 0, 0)),
        frame(7, 4, &fetch_req("t", 0, 0, 0)),
        frame(
            8,
            7,
            &ListOffsetsRequest {
                topics: vec![ListOffsetsTopic { name: "t", partitions: vec![ListOffsetsPartition::default()] }],
                ..Default::default()
            },
        ),
    ]
}

/// Feeds inputs, checks the output invariants, returns the set of open connections.
fn check_outputs(c: &mut crate::broker::Cluster, open: &mut BTreeSet<u64>) {
    loop {
        match c.poll_output() {
            BrokerOutput::Transmit { conn, data } => {
                assert!(open.contains(&conn.0), "transmit on unknown connection {}", conn.0);
                assert!(!data.is_empty());
            }
            BrokerOutput::Close { conn } => {
                open.remove(&conn.0);
            }
            BrokerOutput::Log(_) | BrokerOutput::Debug { .. } => {}
            BrokerOutput::Timeout(t) => {
                assert!(t.is_none_or(|t| t > c.now), "deadline not in the future");
                return;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn mutated_requests_never_panic(
        which in 0usize..12,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        cut in any::<usize>(),
        faults in prop_oneof![Just(""), Just("append_drop=0.5,error_after=NOT_ENOUGH_REPLICAS_AFTER_APPEND:0.3,delay=0..5ms")],
    ) {
        let mut c = cluster(2, faults);
        let mut open = BTreeSet::new();
        for (conn, broker) in [(1u64, 0), (2, 0)] {
            accept(&mut c, conn, broker);
            open.insert(conn);
        }
        let mut f = seeds()[which].clone();
        for (at_, x) in flips {
            let i = at_ % f.len();
            f[i] ^= x;
        }
        let n = f.len();
        f.truncate(if cut % 3 == 0 { cut % (n + 1) } else { n });
        send(&mut c, at(0), 1, &f);
        check_outputs(&mut c, &mut open);
        c.handle_input(BrokerInput::Timeout(at(10)));
        check_outputs(&mut c, &mut open);
        // The other connection is still served.
        prop_assert!(open.contains(&2));
        send(&mut c, at(10), 2, &seeds()[1]);
        c.handle_input(BrokerInput::Timeout(at(20)));
        let (out, _) = drain(&mut c);
        prop_assert!(!transmitted(&out, 2).0.is_empty());
    }

    #[test]
    fn arbitrary_input_sequences_never_panic(
        steps in proptest::collection::vec((0u8..9, 0u64..4, 0usize..12, proptest::collection::vec(any::<u8>(), 0..40)), 1..60),
    ) {
        let mut c = cluster(3, "delay=0..3ms,leader_move=5ms,broker_bounce=7ms:3ms,expire=4ms,restart=9ms,restart_lossy=11ms");
        let mut open = BTreeSet::new();
        let seeds = seeds();
        let mut now = 0;
        for (kind, conn, which, bytes) in steps {
            now += 1;
            let input = match kind {
                // A driver never reuses the id of a connection that is still open.
                0 if open.contains(&conn) => BrokerInput::Timeout(at(now)),
                0 => {
                    open.insert(conn);
                    BrokerInput::Accepted { now: at(now), conn: ConnId(conn), broker_id: (conn % 4) as i32 }
                }
                1 => {
                    open.remove(&conn);
                    BrokerInput::Closed { now: at(now), conn: ConnId(conn) }
                }
                2 => BrokerInput::Received { now: at(now), conn: ConnId(conn), bytes: &bytes },
                3..=6 => BrokerInput::Received { now: at(now), conn: ConnId(conn), bytes: &seeds[which] },
                7 => {
                    let _ = c.broker_down(at(now), (conn % 3) as i32);
                    BrokerInput::Timeout(at(now))
                }
                _ => BrokerInput::Timeout(at(now)),
            };
            c.handle_input(input);
            check_outputs(&mut c, &mut open);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// A compressed batch whose payload is mutated (length and CRC fixed up, so the mutation
    /// reaches the decompressor) or replaced by a compressed bomb: the broker answers with a
    /// code and appends the batch whole only if its records decode to the header's count;
    /// otherwise the log is unchanged.
    #[test]
    fn mutated_compressed_payloads_are_appended_whole_or_not_at_all(
        codec in 1u8..5,
        n in 1usize..20,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        cut in any::<usize>(),
        bomb in any::<bool>(),
    ) {
        let codec = Compression::from_bits(codec).unwrap_or(Compression::None);
        prop_assume!(codec.is_enabled());
        let mut cfg = config(1, "");
        cfg.max_decompressed_batch_bytes = 64 * 1024;
        let mut c = crate::broker::Cluster::new(cfg, at(0)).unwrap();
        accept(&mut c, 1, 0);
        let good = compressed_batch(1000, 0, 0, n, "s", codec);
        let mut payload = good[61..].to_vec();
        if bomb {
            payload.clear();
            compress(codec, None, &vec![0u8; 4 << 20], &mut payload).unwrap();
        }
        for (at_, x) in flips {
            let len = payload.len();
            if len > 0 {
                payload[at_ % len] ^= x;
            }
        }
        let keep = if cut % 4 == 0 { cut % (payload.len() + 1) } else { payload.len() };
        payload.truncate(keep);
        let b = crate::broker::handlers::tests::with_payload(&good, &payload);
        let (code, _) = crate::broker::handlers::tests::produce(&mut c, 1, 9, 0, &b);
        let end = c.partition_log("t", 0).unwrap().log_end_offset();
        if code == 0 {
            prop_assert_eq!(end, n as i64);
            prop_assert!(!bomb);
        } else {
            prop_assert_eq!(end, 0);
            prop_assert!(code == ErrorCode::CORRUPT_MESSAGE.0 || code == ErrorCode::INVALID_RECORD.0, "code {}", code);
        }
        prop_assert!(c.decompression_scratch.capacity() <= 1 << 20);
    }
}
