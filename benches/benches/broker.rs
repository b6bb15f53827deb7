//! Criterion bench: Produce handling throughput of idem's sans-IO in-memory cluster, in MB/s of
//! request bytes. Encoded Produce requests (idempotent batches, in sequence, 3 partitions) are
//! fed to `Cluster::handle_input(Received)` and every response is drained; no sockets.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use idem_core::Instant;
use idem_core::broker::{BrokerAddress, BrokerInput, BrokerOutput, Cluster, ClusterConfig, ConnId, TopicConfig};
use idem_core::proto::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use idem_core::proto::produce::{PartitionProduceData, ProduceRequest, TopicProduceData};
use idem_core::proto::record_batch::{ProducerStamp, RecordBatchBuilder};
use idem_core::proto::{Frame, decode_response, encode_request_frame, parse_frame};
use std::hint::black_box;

const TOPIC: &str = "bench";
const PARTITIONS: i32 = 3;
const PRODUCE_VERSION: i16 = 9;
const CONN: ConnId = ConnId(1);

fn new_cluster() -> Cluster {
    let config = ClusterConfig {
        brokers: vec![BrokerAddress { node_id: 0, host: "127.0.0.1".into(), port: 9092 }],
        topics: vec![TopicConfig { name: TOPIC.into(), partitions: PARTITIONS }],
        ..ClusterConfig::default()
    };
    let mut c = Cluster::new(config, Instant::ZERO).expect("cluster config");
    c.handle_input(BrokerInput::Accepted { now: Instant::ZERO, conn: CONN, broker_id: 0 });
    c
}

/// Drains the cluster's outputs; returns the bytes transmitted.
fn drain(c: &mut Cluster, out: &mut Vec<u8>) -> usize {
    let mut n = 0;
    loop {
        match c.poll_output() {
            BrokerOutput::Transmit { data, .. } => {
                n += data.len();
                out.extend_from_slice(&data);
            }
            BrokerOutput::Timeout(_) => return n,
            BrokerOutput::Close { .. } => panic!("cluster closed the connection"),
            BrokerOutput::Log(l) => panic!("cluster log: {l}"),
            BrokerOutput::Debug { line, .. } => panic!("cluster debug line with debug off: {line}"),
        }
    }
}

/// A cluster with a fresh idempotent producer id, and `requests` encoded Produce requests
/// (each: one batch of `records` values of `size` bytes per partition, sequences in order).
fn setup(requests: usize, records: i32, size: usize) -> (Cluster, Vec<Vec<u8>>) {
    let mut c = new_cluster();
    let mut frame = Vec::new();
    let init = InitProducerIdRequest {
        transactional_id: None,
        transaction_timeout_ms: -1,
        producer_id: -1,
        producer_epoch: -1,
    };
    encode_request_frame(&mut frame, 0, Some("bench"), 4, &init).expect("encode init");
    c.handle_input(BrokerInput::Received { now: Instant::ZERO, conn: CONN, bytes: &frame });
    let mut resp = Vec::new();
    drain(&mut c, &mut resp);
    let Ok(Frame::Complete { body, .. }) = parse_frame(&resp, usize::MAX) else { panic!("no init response") };
    let (_, init): (_, InitProducerIdResponse) = decode_response(body, 4).expect("decode init");
    assert_eq!(init.error_code, 0);

    let value = vec![b'x'; size];
    let reqs = (0..requests)
        .map(|i| {
            let batches: Vec<Vec<u8>> = (0..PARTITIONS)
                .map(|_| {
                    let mut b = RecordBatchBuilder::new(1_700_000_000_000);
                    for _ in 0..records {
                        b.append(1_700_000_000_000, None, Some(&value), &[]).expect("append");
                    }
                    b.seal(ProducerStamp {
                        producer_id: init.producer_id,
                        producer_epoch: init.producer_epoch,
                        base_sequence: i as i32 * records,
                    })
                })
                .collect();
            let req = ProduceRequest {
                transactional_id: None,
                acks: -1,
                timeout_ms: 30_000,
                topic_data: vec![TopicProduceData {
                    name: TOPIC,
                    partition_data: batches
                        .iter()
                        .enumerate()
                        .map(|(p, b)| PartitionProduceData { index: p as i32, records: Some(b) })
                        .collect(),
                }],
            };
            let mut f = Vec::new();
            encode_request_frame(&mut f, 1 + i as i32, Some("bench"), PRODUCE_VERSION, &req).expect("encode produce");
            f
        })
        .collect();
    (c, reqs)
}

fn produce(crit: &mut Criterion) {
    let mut g = crit.benchmark_group("broker_produce");
    for (name, records, size) in [("100B_x100_per_batch", 100, 100usize), ("1KiB_x16_per_batch", 16, 1024)] {
        let requests = 50;
        let (_, sample) = setup(requests, records, size);
        let bytes: usize = sample.iter().map(Vec::len).sum();
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function(name, |b| {
            b.iter_batched(
                || setup(requests, records, size),
                |(mut c, reqs)| {
                    let mut out = Vec::with_capacity(64 * 1024);
                    let mut sent = 0;
                    for (i, r) in reqs.iter().enumerate() {
                        let now = Instant::from_micros(1 + i as u64);
                        c.handle_input(BrokerInput::Received { now, conn: CONN, bytes: r });
                        sent += drain(&mut c, &mut out);
                        out.clear();
                    }
                    assert!(sent > 0);
                    black_box(c.stats().records_appended)
                },
                BatchSize::PerIteration,
            )
        });
        // Check once that every batch was appended (not rejected by the validator).
        let (mut c, reqs) = setup(requests, records, size);
        let mut out = Vec::new();
        for r in &reqs {
            c.handle_input(BrokerInput::Received { now: Instant::from_micros(1), conn: CONN, bytes: r });
            drain(&mut c, &mut out);
        }
        let s = c.stats();
        assert_eq!(s.records_appended, (requests as u64) * (PARTITIONS as u64) * records as u64, "{s:?}");
        assert_eq!(s.rejected, 0);
    }
    g.finish();
}

criterion_group!(benches, produce);
criterion_main!(benches);
