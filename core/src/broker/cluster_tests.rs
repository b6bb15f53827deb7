//! Tests of the cluster state machine: hostile input, fault injection, runtime controls.

use crate::broker::handlers::tests::{fetch_req, leader, produce, produce_req};
use crate::broker::test_util::*;
use crate::broker::{BrokerInput, BrokerOutput, ConnId, DuplicateAnswer, FaultSpec, RestartMode};
use crate::proto::add_offsets_to_txn::AddOffsetsToTxnRequest;
use crate::proto::end_txn::EndTxnRequest;
use crate::proto::metadata::{MetadataRequest, MetadataResponse};
use crate::proto::produce::ProduceResponse;
use crate::proto::txn_offset_commit::TxnOffsetCommitRequest;
use crate::proto::{ErrorCode, Writer};
use crate::time::Duration;
use alloc::vec;
use alloc::vec::Vec;

fn metadata_frame(corr: i32) -> Vec<u8> {
    frame(corr, 9, &MetadataRequest { topics: None, ..MetadataRequest::default() })
}

fn raw_frame(body: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.put_i32(body.len() as i32);
    f.extend_from_slice(body);
    f
}

#[test]
fn malformed_requests_close_only_their_connection() {
    let mut header = Vec::new();
    header.put_i16(0); // Produce
    header.put_i16(9);
    header.put_i32(1);
    header.put_i16(-1); // null client id
    let mut huge_array = header.clone();
    huge_array.push(0); // empty tagged fields
    huge_array.push(0); // null transactional id
    huge_array.put_i16(-1);
    huge_array.put_i32(1000);
    huge_array.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0x0F]); // compact array of 2^28 topics
    let mut unknown_key = Vec::new();
    unknown_key.put_i16(99);
    unknown_key.put_i16(0);
    unknown_key.put_i32(1);
    unknown_key.put_i16(-1);
    let mut old_produce = Vec::new();
    old_produce.put_i16(0);
    old_produce.put_i16(2);
    old_produce.put_i32(1);
    old_produce.put_i16(-1);
    let hostile: Vec<Vec<u8>> = vec![
        raw_frame(&[1, 2]),
        raw_frame(&huge_array),
        raw_frame(&unknown_key),
        // The transaction APIs above the versions served under transactions v1 (the default;
        // KIP-890's, transactions v2): the codec speaks them, this broker does not serve them
        // (nor advertise them).
        frame(1, 4, &AddOffsetsToTxnRequest { transactional_id: "t", ..Default::default() }),
        frame(1, 5, &EndTxnRequest { transactional_id: "t", committed: true, ..Default::default() }),
        frame(1, 4, &TxnOffsetCommitRequest { transactional_id: "t", ..Default::default() }),
        raw_frame(&old_produce),
        raw_frame(&header),
        vec![0x80, 0, 0, 0],
        vec![0x7F, 0xFF, 0xFF, 0xFF],
    ];
    for (i, bytes) in hostile.iter().enumerate() {
        let mut c = cluster(1, "");
        accept(&mut c, 1, 0);
        accept(&mut c, 2, 0);
        send(&mut c, at(0), 1, bytes);
        let (out, _) = drain(&mut c);
        assert_eq!(transmitted(&out, 1), (Vec::new(), true), "case {i}");
        assert!(logs(&out).iter().any(|l| l.contains("closing connection 1")), "case {i}: {:?}", logs(&out));
        assert_eq!(c.stats().malformed, 1);
        // Input for the closed connection is ignored; the other connection is served.
        send(&mut c, at(0), 1, &metadata_frame(1));
        assert!(drain(&mut c).0.is_empty());
        let body = roundtrip(&mut c, 2, 3, 9, &MetadataRequest { topics: None, ..Default::default() });
        let r: MetadataResponse = decode(&body, 3, 9);
        assert_eq!(r.topics.len(), 1);
    }
}

#[test]
fn frames_may_arrive_in_any_chunking() {
    let mut c = cluster(1, "");
    accept(&mut c, 1, 0);
    let mut bytes = metadata_frame(1);
    bytes.extend_from_slice(&metadata_frame(2));
    for b in &bytes {
        send(&mut c, at(0), 1, core::slice::from_ref(b));
    }
    let (out, _) = drain(&mut c);
    let f = frames(&transmitted(&out, 1).0);
    assert_eq!(f.len(), 2);
    let _: MetadataResponse = decode(&f[0], 1, 9);
    let _: MetadataResponse = decode(&f[1], 2, 9);
}

#[test]
fn append_drop_writes_then_closes_and_the_retry_is_a_duplicate() {
    let mut c = cluster(1, "append_drop=1");
    accept(&mut c, 1, 0);
    let b = batch(1000, 0, 0, 2, "a");
    send(&mut c, at(0), 1, &frame(1, 9, &produce_req("t", 0, &b, -1)));
    let (out, _) = drain(&mut c);
    assert_eq!(transmitted(&out, 1), (Vec::new(), true));
    assert_eq!(c.partition_log("t", 0).unwrap().log_end_offset(), 2);
    c.set_faults(at(1), FaultSpec::default());
    accept(&mut c, 2, 0);
    assert_eq!(produce(&mut c, 2, 9, 0, &b), (0, 0));
    assert_eq!(c.partition_log("t", 0).unwrap().log_end_offset(), 2);
    assert_eq!((c.stats().dropped_after_append, c.stats().duplicates), (1, 1));
}

#[test]
fn injected_errors_before_and_after_append() {
    let mut c = cluster(1, "error_before=REQUEST_TIMED_OUT:1");
    accept(&mut c, 1, 0);
    let b = batch(1000, 0, 0, 2, "a");
    assert_eq!(produce(&mut c, 1, 9, 0, &b).0, ErrorCode::REQUEST_TIMED_OUT.0);
    assert_eq!(c.partition_log("t", 0).unwrap().log_end_offset(), 0);
    c.set_faults(at(0), FaultSpec::parse("error_after=NOT_ENOUGH_REPLICAS_AFTER_APPEND:1").unwrap());
    assert_eq!(produce(&mut c, 1, 9, 0, &b).0, ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND.0);
    assert_eq!(c.partition_log("t", 0).unwrap().log_end_offset(), 2);
    c.set_faults(at(0), FaultSpec::default());
    assert_eq!(produce(&mut c, 1, 9, 0, &b), (0, 0));
    assert_eq!(c.partition_log("t", 0).unwrap().log_end_offset(), 2);
    let s = c.stats();
    assert_eq!((s.errors_before, s.errors_after, s.duplicates, s.batches_appended), (1, 1, 1, 1));
}

#[test]
fn delayed_responses_keep_request_order() {
    let mut c = cluster(1, "delay=0..50ms");
    accept(&mut c, 1, 0);
    for corr in 0..30 {
        send(&mut c, at(0), 1, &metadata_frame(corr));
    }
    let mut got = Vec::new();
    let mut now = at(0);
    loop {
        let (out, next) = drain(&mut c);
        got.extend(frames(&transmitted(&out, 1).0).iter().map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]])));
        let Some(t) = next else { break };
        assert!(t > now && t <= at(50));
        now = t;
        c.handle_input(BrokerInput::Timeout(now));
    }
    assert_eq!(got, (0..30).collect::<Vec<_>>());
    assert!(c.stats().delayed_responses > 20);
}

#[test]
fn broker_down_closes_refuses_and_moves_leadership() {
    let mut c = cluster(3, "");
    accept(&mut c, 1, 1);
    accept(&mut c, 2, 0);
    assert_eq!(leader(&c, 1), 1);
    let epoch = c.topic("t").unwrap().partition(1).unwrap().leader_epoch;
    c.broker_down(at(5), 1).unwrap();
    let (out, _) = drain(&mut c);
    assert_eq!(transmitted(&out, 1), (Vec::new(), true));
    assert_eq!(transmitted(&out, 2), (Vec::new(), false));
    assert_ne!(leader(&c, 1), 1);
    assert!(c.topic("t").unwrap().partition(1).unwrap().leader_epoch > epoch);
    c.handle_input(BrokerInput::Accepted { now: at(6), conn: ConnId(3), broker_id: 1 });
    let (out, _) = drain(&mut c);
    assert!(out.contains(&BrokerOutput::Close { conn: ConnId(3) }));
    let body = roundtrip(&mut c, 2, 1, 9, &MetadataRequest { topics: None, ..Default::default() });
    let r: MetadataResponse = decode(&body, 1, 9);
    assert_eq!(r.brokers.iter().map(|b| b.node_id).collect::<Vec<_>>(), [0, 2]);
    assert!(r.topics[0].partitions.iter().all(|p| p.leader_id != 1));
    c.broker_up(at(7), 1).unwrap();
    accept(&mut c, 4, 1);
    assert_eq!(c.connection_count(), 2);
    assert_eq!(c.broker_down(at(8), 9), Err(crate::broker::ControlError::UnknownBroker(9)));
    // All down: no leader; one back: it leads everything.
    for b in 0..3 {
        c.broker_down(at(9), b).unwrap();
    }
    assert_eq!(leader(&c, 0), -1);
    c.broker_up(at(10), 2).unwrap();
    assert!((0..3).all(|p| leader(&c, p) == 2));
}

#[test]
fn delayed_answer_lost_with_its_broker_then_the_retry_is_a_duplicate() {
    let mut c = cluster(2, "delay=100ms..100ms");
    accept(&mut c, 1, 0);
    let b = batch(1000, 0, 0, 3, "a");
    send(&mut c, at(0), 1, &frame(1, 9, &produce_req("t", 0, &b, -1)));
    assert!(drain(&mut c).0.is_empty());
    c.broker_down(at(50), 0).unwrap();
    let (out, _) = drain(&mut c);
    assert_eq!(transmitted(&out, 1), (Vec::new(), true));
    assert_eq!(c.stats().discarded_responses, 1);
    c.set_faults(at(50), FaultSpec::default());
    assert_eq!(leader(&c, 0), 1);
    accept(&mut c, 2, 1);
    assert_eq!(produce(&mut c, 2, 9, 0, &b), (0, 0));
    assert_eq!(c.partition_log("t", 0).unwrap().log_end_offset(), 3);
}

#[test]
fn restarts_keep_or_lose_producer_state() {
    let mut c = cluster(1, "");
    accept(&mut c, 1, 0);
    let b = batch(1000, 0, 0, 1, "a");
    produce(&mut c, 1, 9, 0, &b);
    c.restart_broker(at(1), 0, true).unwrap();
    assert!(drain(&mut c).0.contains(&BrokerOutput::Close { conn: ConnId(1) }));
    accept(&mut c, 2, 0);
    assert_eq!(produce(&mut c, 2, 9, 0, &b), (0, 0), "still a duplicate after a snapshot restore");
    c.restart_broker(at(2), 0, false).unwrap();
    accept(&mut c, 3, 0);
    assert_eq!(produce(&mut c, 3, 9, 0, &batch(1000, 0, 1, 1, "b")).0, ErrorCode::UNKNOWN_PRODUCER_ID.0);
    assert_eq!(produce(&mut c, 3, 9, 0, &b), (0, 1), "state lost: the old batch is appended again");
    assert_eq!(c.forget_producer(at(3), 1000), 1);
    assert_eq!(c.expire_producers(at(3), None), 0);
    assert_eq!(c.stats().restarts, 2);
}

#[test]
fn kafka_restart_keeps_only_each_producers_last_batch() {
    let batches: Vec<Vec<u8>> = (0..3).map(|i| batch(1000, 0, i, 1, "x")).collect();
    for mode in [RestartMode::KeepWindow, RestartMode::KeepLastBatch] {
        let mut c = cluster(1, "");
        accept(&mut c, 1, 0);
        for (i, b) in batches.iter().enumerate() {
            assert_eq!(produce(&mut c, 1, 9, 0, b), (0, i as i64));
        }
        c.restart_broker_as(at(1), 0, mode).unwrap();
        assert!(logs(&drain(&mut c).0).iter().any(|l| l.contains("restarted")));
        accept(&mut c, 2, 0);
        assert_eq!(produce(&mut c, 2, 9, 0, &batches[2]), (0, 2), "{mode:?}: the last batch is a duplicate");
        let older = produce(&mut c, 2, 9, 0, &batches[0]);
        match mode {
            RestartMode::KeepWindow => assert_eq!(older, (0, 0), "Redpanda: the whole window survives"),
            _ => assert_eq!(older.0, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER.0, "Kafka: only the last batch"),
        }
        assert_eq!(produce(&mut c, 2, 9, 0, &batch(1000, 0, 3, 1, "y")), (0, 3), "{mode:?}: the sequence goes on");
        assert_eq!(c.partition_log("t", 0).unwrap().log_end_offset(), 4);
    }
    let mut c = cluster(1, "");
    accept(&mut c, 1, 0);
    produce(&mut c, 1, 9, 0, &batches[0]);
    c.restart_broker_as(at(1), 0, RestartMode::LoseState).unwrap();
    accept(&mut c, 2, 0);
    assert_eq!(produce(&mut c, 2, 9, 0, &batches[1]).0, ErrorCode::UNKNOWN_PRODUCER_ID.0);
    assert_eq!(c.stats().producers_expired, 1);
}

#[test]
fn tansu_answers_a_duplicate_with_duplicate_sequence_number() {
    let mut cfg = config(1, "");
    cfg.duplicate_answer = DuplicateAnswer::DuplicateSequenceNumber;
    let mut c = crate::broker::Cluster::new(cfg, at(0)).unwrap();
    accept(&mut c, 1, 0);
    let b = batch(1000, 0, 0, 2, "a");
    assert_eq!(produce(&mut c, 1, 9, 0, &b), (0, 0));
    assert_eq!(produce(&mut c, 1, 9, 0, &b), (ErrorCode::DUPLICATE_SEQUENCE_NUMBER.0, -1));
    assert_eq!(c.partition_log("t", 0).unwrap().log_end_offset(), 2, "nothing appended");
    assert_eq!(produce(&mut c, 1, 9, 0, &batch(1000, 0, 2, 1, "b")), (0, 2));
    assert_eq!(c.stats().duplicates, 1);
}

#[test]
fn injected_errors_are_counted_per_partition() {
    let mut c = cluster(1, "error_before=OUT_OF_ORDER_SEQUENCE_NUMBER:1");
    accept(&mut c, 1, 0);
    assert_eq!(produce(&mut c, 1, 9, 1, &batch(1000, 0, 0, 1, "a")).0, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER.0);
    assert_eq!(produce(&mut c, 1, 9, 1, &batch(1000, 0, 0, 1, "a")).0, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER.0);
    let t = c.topic("t").unwrap();
    assert_eq!(t.partition(1).unwrap().injected_before, [(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, 2)]);
    assert!(t.partition(0).unwrap().injected_before.is_empty());
}

#[test]
fn periodic_faults_fire_on_schedule() {
    let mut c = cluster(3, "leader_move=1s,broker_bounce=2s:500ms,expire=1s");
    accept(&mut c, 1, 0);
    produce(&mut c, 1, 9, 0, &batch(1000, 0, 0, 1, "a"));
    let (_, next) = drain(&mut c);
    assert_eq!(next, Some(at(250)), "expiry check every expiration / 4");
    c.handle_input(BrokerInput::Timeout(at(1000)));
    assert_eq!(c.stats().leader_moves, 1);
    assert_eq!(c.stats().producers_expired, 1);
    c.handle_input(BrokerInput::Timeout(at(2000)));
    assert_eq!(c.stats().broker_downs, 1);
    assert_eq!(c.brokers().filter(|(_, up)| !up).count(), 1);
    c.handle_input(BrokerInput::Timeout(at(2500)));
    assert_eq!(c.brokers().filter(|(_, up)| !up).count(), 0);
    let s = FaultSpec::parse("restart=1s,restart_lossy=1s,restart_snapshot=1s").unwrap();
    assert_eq!(s.to_string(), "restart=1s,restart_lossy=1s,restart_snapshot=1s");
    c.set_faults(at(2500), s);
    c.handle_input(BrokerInput::Timeout(at(3500)));
    assert_eq!(c.stats().restarts, 3);
}

#[test]
fn same_seed_same_outputs() {
    let run = || {
        let spec = "append_drop=0.2,error_before=REQUEST_TIMED_OUT:0.2,error_after=NOT_ENOUGH_REPLICAS:0.2,\
                    delay=0..30ms,leader_move=40ms,broker_bounce=70ms:20ms";
        let mut c = cluster(3, spec);
        let mut all = Vec::new();
        let mut next_seq = [0i32; 3];
        for i in 0..300u64 {
            let now = at(i * 3);
            let p = (i % 3) as i32;
            let broker = c.leader("t", p).unwrap().max(0);
            let conn = (i / 10) * 10 + broker as u64;
            c.handle_input(BrokerInput::Accepted { now, conn: ConnId(conn), broker_id: broker });
            let seq = &mut next_seq[p as usize];
            let b = batch(1000, 0, *seq, 1, "x");
            let before = c.partition_log("t", p).unwrap().log_end_offset();
            send(&mut c, now, conn, &frame(i as i32, 9, &produce_req("t", p, &b, -1)));
            if c.partition_log("t", p).unwrap().log_end_offset() > before {
                *seq += 1;
            }
            send(&mut c, now, conn, &frame(0, 12, &fetch_req("t", 0, 0, 5)));
            all.extend(drain(&mut c).0);
        }
        (all, c.stats())
    };
    let (a, sa) = run();
    let (b, sb) = run();
    assert_eq!(sa, sb);
    assert_eq!(a, b);
    assert!(
        sa.dropped_after_append > 0 && sa.errors_before > 0 && sa.errors_after > 0 && sa.leader_moves > 0,
        "{sa:?}"
    );
    let ok = a.iter().filter(|o| matches!(o, BrokerOutput::Transmit { .. })).count();
    assert!(ok > 50);
    let _ = Duration::ZERO;
    let _: Option<ProduceResponse> = None;
}

#[test]
fn controls_refuse_what_does_not_exist() {
    use crate::broker::ControlError;
    let mut c = cluster(2, "");
    assert_eq!(c.move_leader(at(0), "t", 0, Some(1)), Ok(1));
    assert_eq!(leader(&c, 0), 1);
    assert_eq!(c.move_leader(at(0), "t", 0, None), Ok(0), "the only other live broker");
    assert_eq!(
        c.move_leader(at(0), "t", 9, None),
        Err(ControlError::UnknownPartition { topic: "t".into(), partition: 9 })
    );
    assert_eq!(c.move_leader(at(0), "nope", 0, None).unwrap_err().to_string(), "no partition 0 in topic `nope`");
    assert_eq!(c.move_leader(at(0), "t", 0, Some(5)), Err(ControlError::UnknownBroker(5)));
    c.broker_down(at(0), 1).unwrap();
    assert_eq!(c.move_leader(at(0), "t", 0, Some(1)), Err(ControlError::BrokerDown(1)));
    assert_eq!(c.restart_broker(at(0), 1, true), Err(ControlError::BrokerDown(1)));
    assert_eq!(c.move_leader(at(0), "t", 0, None), Ok(0), "alone: stays, epoch bumps");
    c.handle_input(BrokerInput::Accepted { now: at(0), conn: ConnId(1), broker_id: 42 });
    let (out, _) = drain(&mut c);
    assert!(out.contains(&BrokerOutput::Close { conn: ConnId(1) }));
    assert!(logs(&out).iter().any(|l| l.contains("unknown broker 42")));
    assert_eq!(c.create_topic("t", 3), Ok(false));
    assert!(c.create_topic("x y", 3).is_err());
    assert!(c.create_topic("x", 0).is_err());
    let mut cfg = config(2, "");
    cfg.brokers[1].node_id = 0;
    assert_eq!(crate::broker::Cluster::new(cfg, at(0)).unwrap_err(), crate::broker::ConfigError::DuplicateBrokerId(0));
    let mut cfg = config(1, "");
    cfg.brokers.clear();
    assert_eq!(crate::broker::Cluster::new(cfg, at(0)).unwrap_err(), crate::broker::ConfigError::NoBrokers);
}

#[test]
fn log_bound_advances_the_log_start_seen_by_clients() {
    let mut cfg = config(1, "");
    cfg.log_max_bytes = 300;
    let mut c = crate::broker::Cluster::new(cfg, at(0)).unwrap();
    drain(&mut c);
    accept(&mut c, 1, 0);
    for seq in 0..10 {
        assert_eq!(produce(&mut c, 1, 9, 0, &batch(1000, 0, seq, 1, "r")).0, ErrorCode::NONE.0);
    }
    let log = c.partition_log("t", 0).unwrap();
    assert!(log.log_start_offset() > 0 && log.size_bytes() <= 300);
    let start = log.log_start_offset();
    let body = roundtrip(&mut c, 1, 2, 12, &fetch_req("t", 0, 0, 0));
    let r: crate::proto::fetch::FetchResponse = decode(&body, 2, 12);
    assert_eq!((r.responses[0].partitions[0].error_code, r.responses[0].partitions[0].log_start_offset), (1, start));
}
