//! idem's in-memory cluster over real TCP (`idem_mock::MockCluster`), driven by a hand-rolled
//! client using idem's codec.
#![allow(clippy::unwrap_used)] // Tests may unwrap (HELPERS.md).

use idem_core::broker::FaultSpec;
use idem_core::proto::metadata::{MetadataRequest, MetadataResponse};
use idem_core::proto::produce::{PartitionProduceData, ProduceRequest, ProduceResponse, TopicProduceData};
use idem_core::proto::record_batch::{ProducerStamp, RecordBatchBuilder};
use idem_core::proto::{self, Frame, Message};
use idem_mock::{MockCluster, MockClusterConfig};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn start(faults: &str) -> MockCluster {
    let mut config = MockClusterConfig::default();
    config.cluster.faults = FaultSpec::parse(faults).unwrap();
    MockCluster::start(config).unwrap()
}

fn call<'a, Req: Message<'a>>(s: &mut TcpStream, corr: i32, v: i16, req: &Req) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    proto::encode_request_frame(&mut out, corr, Some("t"), v, req).unwrap();
    s.write_all(&out).unwrap();
    read_frame(s)
}

fn read_frame(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Ok(Frame::Complete { body, .. }) = proto::parse_frame(&buf, usize::MAX) {
            return Some(body.to_vec());
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn metadata(s: &mut TcpStream) -> Vec<(i32, i32)> {
    let body = call(s, 1, 12, &MetadataRequest { topics: None, ..Default::default() }).unwrap();
    let (_, r): (_, MetadataResponse) = proto::decode_response(&body, 12).unwrap();
    r.topics.iter().flat_map(|t| t.partitions.iter().map(|p| (p.partition_index, p.leader_id))).collect()
}

#[test]
fn serves_metadata_and_produce_over_tcp_and_shuts_down_cleanly() {
    let cluster = start("");
    assert_eq!(cluster.bootstrap_servers().split(',').count(), 3);
    cluster.create_topic("t", 3).unwrap();
    let addrs = cluster.broker_addrs().to_vec();
    let mut s0 = TcpStream::connect(addrs[0].1).unwrap();
    assert_eq!(metadata(&mut s0), [(0, 0), (1, 1), (2, 2)]);
    let mut b = RecordBatchBuilder::new(0);
    b.append(0, None, Some(b"hello"), &[]).unwrap();
    let batch = b.seal(ProducerStamp { producer_id: 1000, producer_epoch: 0, base_sequence: 0 });
    let req = ProduceRequest {
        acks: -1,
        timeout_ms: 1000,
        topic_data: vec![TopicProduceData {
            name: "t",
            partition_data: vec![PartitionProduceData { index: 0, records: Some(&batch) }],
        }],
        ..Default::default()
    };
    for _ in 0..2 {
        let body = call(&mut s0, 2, 9, &req).unwrap();
        let (_, r): (_, ProduceResponse) = proto::decode_response(&body, 9).unwrap();
        assert_eq!(r.responses[0].partition_responses[0].error_code, 0);
        assert_eq!(r.responses[0].partition_responses[0].base_offset, 0);
    }
    assert_eq!(cluster.partition_log("t", 0).unwrap().len(), 1);
    assert_eq!(cluster.stats().duplicates, 1);

    // Down: the connection closes, reconnects are refused; leadership moved.
    cluster.broker_down(0).unwrap();
    assert!(read_frame(&mut s0).is_none());
    let mut again = TcpStream::connect(addrs[0].1).unwrap();
    assert!(read_frame(&mut again).is_none());
    let mut s1 = TcpStream::connect(addrs[1].1).unwrap();
    assert!(metadata(&mut s1).iter().all(|(_, l)| *l != 0));
    cluster.broker_up(0).unwrap();

    // A malformed request closes only its own connection.
    let mut bad = TcpStream::connect(addrs[2].1).unwrap();
    bad.write_all(&[0, 0, 0, 2, 1, 2]).unwrap();
    assert!(read_frame(&mut bad).is_none());
    assert_eq!(metadata(&mut s1).len(), 3);
    assert!(cluster.logs().iter().any(|l| l.contains("malformed")));

    drop(cluster);
    assert!(read_frame(&mut s1).is_none(), "connections close on drop");
}

#[test]
fn delays_are_served_in_real_time() {
    let cluster = start("delay=100ms..100ms");
    let mut s = TcpStream::connect(cluster.broker_addrs()[1].1).unwrap();
    let t = Instant::now();
    metadata(&mut s);
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(95) && took < Duration::from_secs(2), "{took:?}");
}
