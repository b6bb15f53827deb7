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

/// A hand-rolled group member over TCP: Kafka's error codes for every wrong step, the
/// connection kept; a malformed JoinGroup closes only its own connection, and the group goes on.
#[test]
fn bad_group_requests_over_tcp_get_kafkas_codes_and_a_malformed_one_closes_only_its_connection() {
    use idem_core::proto::ErrorCode;
    use idem_core::proto::find_coordinator::{FindCoordinatorRequest, FindCoordinatorResponse, KEY_TYPE_GROUP};
    use idem_core::proto::heartbeat::{HeartbeatRequest, HeartbeatResponse};
    use idem_core::proto::join_group::{JoinGroupRequest, JoinGroupRequestProtocol, JoinGroupResponse};
    use idem_core::proto::sync_group::{SyncGroupRequest, SyncGroupResponse};

    let cluster = start("");
    let mut any = TcpStream::connect(cluster.broker_addrs()[0].1).unwrap();
    let find = FindCoordinatorRequest { key: "g", key_type: KEY_TYPE_GROUP, ..Default::default() };
    let body = call(&mut any, 1, 3, &find).unwrap();
    let (_, found): (_, FindCoordinatorResponse) = proto::decode_response(&body, 3).unwrap();
    assert_eq!(found.error_code, 0);
    let addr = cluster.broker_addrs().iter().find(|(id, _)| *id == found.node_id).unwrap().1;
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();

    let protocols = vec![JoinGroupRequestProtocol { name: "range", metadata: b"\x00\x00\x00\x00\x00\x00\x00\x00" }];
    let join = |member_id, session_timeout_ms, protocol_type| JoinGroupRequest {
        group_id: "g",
        session_timeout_ms,
        rebalance_timeout_ms: 10_000,
        member_id,
        group_instance_id: None,
        protocol_type,
        protocols: protocols.clone(),
        reason: None,
    };
    let joined = |s: &mut TcpStream, corr, req: &JoinGroupRequest<'_>| -> (ErrorCode, String, i32) {
        let body = call(s, corr, 5, req).unwrap();
        let (_, r): (_, JoinGroupResponse) = proto::decode_response(&body, 5).unwrap();
        (ErrorCode(r.error_code), r.member_id.to_string(), r.generation_id)
    };
    let heartbeat = |s: &mut TcpStream, corr, generation_id, member_id| -> ErrorCode {
        let req = HeartbeatRequest { group_id: "g", generation_id, member_id, group_instance_id: None };
        let body = call(s, corr, 3, &req).unwrap();
        let (_, r): (_, HeartbeatResponse) = proto::decode_response(&body, 3).unwrap();
        ErrorCode(r.error_code)
    };
    let sync = |s: &mut TcpStream, corr, generation_id, member_id| -> ErrorCode {
        let req = SyncGroupRequest { group_id: "g", generation_id, member_id, ..Default::default() };
        let body = call(s, corr, 3, &req).unwrap();
        let (_, r): (_, SyncGroupResponse) = proto::decode_response(&body, 3).unwrap();
        ErrorCode(r.error_code)
    };

    // Before any member: a heartbeat from nobody, a session timeout below the minimum.
    assert_eq!(heartbeat(&mut s, 2, 1, "nobody"), ErrorCode::UNKNOWN_MEMBER_ID);
    assert_eq!(joined(&mut s, 3, &join("", 1, "consumer")).0, ErrorCode::INVALID_SESSION_TIMEOUT);
    // KIP-394: a member id first, then the join.
    let (code, member, _) = joined(&mut s, 4, &join("", 10_000, "consumer"));
    assert_eq!(code, ErrorCode::MEMBER_ID_REQUIRED);
    let (code, again, generation) = joined(&mut s, 5, &join(&member, 10_000, "consumer"));
    assert_eq!((code, again.as_str()), (ErrorCode::NONE, member.as_str()));
    // Wrong generation, unknown member, another protocol type.
    assert_eq!(sync(&mut s, 6, generation + 1, &member), ErrorCode::ILLEGAL_GENERATION);
    assert_eq!(sync(&mut s, 7, generation, "stranger"), ErrorCode::UNKNOWN_MEMBER_ID);
    assert_eq!(heartbeat(&mut s, 8, generation - 1, &member), ErrorCode::ILLEGAL_GENERATION);
    assert_eq!(joined(&mut s, 9, &join("", 10_000, "connect")).0, ErrorCode::INCONSISTENT_GROUP_PROTOCOL);

    // A JoinGroup cut short inside its protocols array: that connection is closed...
    let mut other = TcpStream::connect(addr).unwrap();
    other.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut frame = Vec::new();
    proto::encode_request_frame(&mut frame, 1, Some("t"), 5, &join("", 10_000, "consumer")).unwrap();
    let body_len = frame.len() - 4 - 12;
    frame.truncate(frame.len() - 12);
    frame[..4].copy_from_slice(&i32::try_from(body_len).unwrap().to_be_bytes());
    other.write_all(&frame).unwrap();
    assert_eq!(read_frame(&mut other), None, "a malformed JoinGroup is answered by closing");
    assert_eq!(cluster.stats().malformed, 1);
    // ... and the member on its own connection goes on: sync its generation, heartbeat.
    assert_eq!(sync(&mut s, 10, generation, &member), ErrorCode::NONE);
    assert_eq!(heartbeat(&mut s, 11, generation, &member), ErrorCode::NONE);
}
