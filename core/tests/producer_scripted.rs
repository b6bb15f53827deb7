//! Scripted-broker tests: the test plays the broker, decoding the producer's requests and
//! encoding responses with `idem_core::proto`, and checks what the producer does in each
//! situation of the decision table.
#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;

use idem_core::producer::{
    ConnId, DeliveryError, Event, Input, Output, Persisted, Producer, ProducerConfig, ProducerRecord, RecordId,
    SendError,
};
use idem_core::proto::api_versions::{ApiVersion, ApiVersionsResponse};
use idem_core::proto::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use idem_core::proto::metadata::{MetadataBroker, MetadataPartition, MetadataResponse, MetadataTopic};
use idem_core::proto::produce::{PartitionProduceResponse, ProduceRequest, ProduceResponse, TopicProduceResponse};
use idem_core::proto::record_batch::RecordBatch;
use idem_core::proto::{self, ApiKey, Frame, Message};
use idem_core::{Duration, Instant};

/// One request the producer transmitted.
#[derive(Clone, Debug)]
struct Req {
    conn: ConnId,
    api: i16,
    version: i16,
    corr: i32,
    body: Vec<u8>, // request body after the header
}

/// One partition's batch inside a Produce request.
#[derive(Clone, Debug, PartialEq)]
struct SentBatch {
    partition: i32,
    bytes: Vec<u8>,
    producer_id: i64,
    epoch: i16,
    base_sequence: i32,
    count: i32,
}

impl Req {
    fn batches(&self) -> Vec<SentBatch> {
        let mut r = proto::Reader::new(&self.body);
        let p = ProduceRequest::decode(&mut r, self.version).unwrap();
        assert_eq!(p.acks, -1);
        let mut out = Vec::new();
        for t in &p.topic_data {
            assert_eq!(t.name, "t");
            for pd in &t.partition_data {
                let bytes = pd.records.unwrap();
                let (b, n) = RecordBatch::decode(bytes).unwrap();
                assert_eq!(n, bytes.len(), "one batch per partition");
                out.push(SentBatch {
                    partition: pd.index,
                    bytes: bytes.to_vec(),
                    producer_id: b.header.producer_id,
                    epoch: b.header.producer_epoch,
                    base_sequence: b.header.base_sequence,
                    count: b.header.record_count,
                });
            }
        }
        out
    }
}

struct Broker {
    p: Producer,
    now: Instant,
    pending_connects: Vec<ConnId>,
    live: Vec<ConnId>,
    closed: Vec<ConnId>,
    reqs: VecDeque<Req>,
    events: Vec<Event>,
    partitions: i32,
    next_pid: i64,
    /// ApiVersions range the broker supports (for the fallback test).
    api_versions_max: i16,
    init_pid_max: i16,
    init_requests: Vec<(i16, i64, i16)>,
    api_versions_requests: Vec<i16>,
    refuse_connections: bool,
}

fn config() -> ProducerConfig {
    ProducerConfig::new("boot:9092")
        .unwrap()
        .linger(Duration::ZERO)
        .request_timeout(Duration::from_secs(10))
        .delivery_timeout(Duration::from_secs(60))
        .retry_backoff(Duration::from_millis(100), Duration::from_millis(1000))
}

impl Broker {
    fn new(config: ProducerConfig, partitions: i32) -> Self {
        Broker {
            p: Producer::new(config, Instant::ZERO).unwrap(),
            now: Instant::ZERO,
            pending_connects: Vec::new(),
            live: Vec::new(),
            closed: Vec::new(),
            reqs: VecDeque::new(),
            events: Vec::new(),
            partitions,
            next_pid: 1000,
            api_versions_max: 3,
            init_pid_max: 4,
            init_requests: Vec::new(),
            api_versions_requests: Vec::new(),
            refuse_connections: false,
        }
    }

    /// Drains outputs; returns the last Timeout deadline.
    fn drain(&mut self) -> Option<Instant> {
        loop {
            match self.p.poll_output() {
                Output::Connect { conn, host, port } => {
                    assert!(host == "boot" && port == 9092 || host == "b1" && port == 9093, "{host}:{port}");
                    self.pending_connects.push(conn);
                }
                Output::Transmit { conn, data } => {
                    assert!(self.live.contains(&conn), "transmit on a connection that is not open");
                    let mut rest = &data[..];
                    while !rest.is_empty() {
                        let Ok(Frame::Complete { body, consumed }) = proto::parse_frame(rest, 1 << 30) else {
                            panic!("partial frame transmitted")
                        };
                        let (h, r) = proto::decode_request_header(body).unwrap();
                        assert_eq!(h.client_id, Some("idem"));
                        self.reqs.push_back(Req {
                            conn,
                            api: h.api_key,
                            version: h.api_version,
                            corr: h.correlation_id,
                            body: r.rest().to_vec(),
                        });
                        rest = &rest[consumed..];
                    }
                }
                Output::Close { conn } => {
                    self.live.retain(|c| *c != conn);
                    self.closed.push(conn);
                }
                Output::Event(e) => self.events.push(e),
                Output::Timeout(t) => return t,
            }
        }
    }

    fn input(&mut self, i: Input<'_>) {
        self.p.handle_input(i);
        self.drain();
    }

    fn send(&mut self, partition: Option<i32>, value: &[u8]) -> Result<RecordId, SendError> {
        let r = ProducerRecord { topic: "t", partition, key: None, value: Some(value), headers: &[], timestamp_ms: 7 };
        let res = self.p.send(self.now, &r);
        self.drain();
        res
    }

    fn respond<'a, M: Message<'a>>(&mut self, req: &Req, body: &M) {
        let mut out = Vec::new();
        proto::encode_response_frame(&mut out, req.corr, req.version, body).unwrap();
        let now = self.now;
        self.input(Input::Received { now, conn: req.conn, bytes: &out });
    }

    /// Accepts connections and answers ApiVersions / Metadata / InitProducerId until only
    /// Produce requests remain.
    fn settle(&mut self) {
        self.drain();
        loop {
            let mut progress = false;
            for conn in std::mem::take(&mut self.pending_connects) {
                progress = true;
                let now = self.now;
                if self.refuse_connections {
                    self.input(Input::Disconnected { now, conn });
                } else {
                    self.live.push(conn);
                    self.input(Input::Connected { now, conn });
                }
            }
            let idx = self.reqs.iter().position(|r| r.api != ApiKey::Produce.as_i16());
            if let Some(i) = idx {
                let req = self.reqs.remove(i).unwrap();
                progress = true;
                self.control(&req);
            }
            if !progress {
                break;
            }
        }
    }

    fn control(&mut self, req: &Req) {
        match req.api {
            18 => {
                self.api_versions_requests.push(req.version);
                if req.version > self.api_versions_max {
                    // v0-shaped UNSUPPORTED_VERSION, as Kafka answers.
                    let r = ApiVersionsResponse {
                        error_code: 35,
                        api_keys: vec![ApiVersion { api_key: 18, min_version: 0, max_version: self.api_versions_max }],
                        throttle_time_ms: 0,
                    };
                    let mut out = Vec::new();
                    proto::encode_response_frame(&mut out, req.corr, 0, &r).unwrap();
                    let now = self.now;
                    self.input(Input::Received { now, conn: req.conn, bytes: &out });
                    return;
                }
                let r = ApiVersionsResponse {
                    error_code: 0,
                    api_keys: vec![
                        ApiVersion { api_key: 0, min_version: 0, max_version: 11 },
                        ApiVersion { api_key: 3, min_version: 0, max_version: 12 },
                        ApiVersion { api_key: 18, min_version: 0, max_version: self.api_versions_max },
                        ApiVersion { api_key: 22, min_version: 0, max_version: self.init_pid_max },
                    ],
                    throttle_time_ms: 0,
                };
                self.respond(req, &r);
            }
            3 => {
                let r = MetadataResponse {
                    brokers: vec![MetadataBroker { node_id: 1, host: "b1", port: 9093, rack: None }],
                    controller_id: 1,
                    topics: vec![MetadataTopic {
                        name: Some("t"),
                        partitions: (0..self.partitions)
                            .map(|i| MetadataPartition { partition_index: i, leader_id: 1, ..Default::default() })
                            .collect(),
                        ..Default::default()
                    }],
                    ..Default::default()
                };
                self.respond(req, &r);
            }
            22 => {
                let mut rd = proto::Reader::new(&req.body);
                let q = InitProducerIdRequest::decode(&mut rd, req.version).unwrap();
                assert_eq!(q.transactional_id, None);
                self.init_requests.push((req.version, q.producer_id, q.producer_epoch));
                let (id, epoch) = if q.producer_id >= 0 {
                    (q.producer_id, q.producer_epoch + 1)
                } else {
                    self.next_pid += 1;
                    (self.next_pid - 1, 0)
                };
                self.respond(
                    req,
                    &InitProducerIdResponse { producer_id: id, producer_epoch: epoch, ..Default::default() },
                );
            }
            k => panic!("unexpected api {k}"),
        }
    }

    fn produce(&mut self) -> Req {
        self.settle();
        let i = self.reqs.iter().position(|r| r.api == 0).expect("a Produce request");
        self.reqs.remove(i).unwrap()
    }

    fn no_produce(&mut self) {
        self.settle();
        assert!(self.reqs.iter().all(|r| r.api != 0), "unexpected Produce: {:?}", self.reqs);
    }

    /// Answers a Produce request with one (error, base offset) per batch, in request order.
    fn answer(&mut self, req: &Req, results: &[(i16, i64)]) {
        let batches = req.batches();
        assert_eq!(batches.len(), results.len());
        let r = ProduceResponse {
            responses: vec![TopicProduceResponse {
                name: "t",
                partition_responses: batches
                    .iter()
                    .zip(results)
                    .map(|(b, &(error_code, base_offset))| PartitionProduceResponse {
                        index: b.partition,
                        error_code,
                        base_offset,
                        ..Default::default()
                    })
                    .collect(),
            }],
            ..Default::default()
        };
        self.respond(req, &r);
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        let now = self.now;
        self.input(Input::Timeout(now));
    }

    fn delivered(&self) -> Vec<(u64, i32, Option<i64>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Delivered { id, partition, offset, .. } => Some((id.0, *partition, *offset)),
                _ => None,
            })
            .collect()
    }

    fn failed(&self) -> Vec<(u64, DeliveryError, Persisted)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Failed { id, error, persisted } => Some((id.0, *error, *persisted)),
                _ => None,
            })
            .collect()
    }

    /// Every accepted record reported exactly once.
    fn assert_one_report_each(&self, accepted: u64) {
        let mut ids: Vec<u64> = self.delivered().iter().map(|d| d.0).chain(self.failed().iter().map(|f| f.0)).collect();
        ids.sort();
        assert_eq!(ids, (0..accepted).collect::<Vec<_>>(), "events: {:?}", self.events);
    }
}

#[test]
fn happy_path() {
    let mut b = Broker::new(config(), 1);
    for i in 0..3u8 {
        b.send(None, &[i]).unwrap();
    }
    let req = b.produce();
    assert_eq!(req.version, 10);
    assert_eq!(b.init_requests, [(4, -1, -1)]);
    let batches = req.batches();
    // Records sent before metadata was known wait, then go out in order (linger 0: one batch
    // each, pipelined).
    assert_eq!((batches[0].producer_id, batches[0].epoch, batches[0].base_sequence), (1000, 0, 0));
    b.answer(&req, &[(0, 40)]);
    let mut more = Vec::new();
    while let Some(i) = b.reqs.iter().position(|r| r.api == 0) {
        let r = b.reqs.remove(i).unwrap();
        more.push(r);
    }
    let mut next = 40 + i64::from(batches[0].count);
    for r in more {
        let bs = r.batches();
        b.answer(&r, &[(0, next)]);
        next += i64::from(bs[0].count);
    }
    assert_eq!(b.delivered(), [(0, 0, Some(40)), (1, 0, Some(41)), (2, 0, Some(42))]);
    b.assert_one_report_each(3);
    assert_eq!(b.p.metrics().buffered_bytes, 0);
    b.p.close(b.now);
    b.drain();
    assert!(b.p.is_finished());
    assert!(b.live.is_empty());
}

/// Sends one record and waits for its Produce request (metadata and producer id settled).
fn one_in_flight(b: &mut Broker, partition: i32) -> Req {
    b.send(Some(partition), b"v").unwrap();
    b.produce()
}

#[test]
fn retry_after_disconnect_resends_the_same_bytes() {
    let mut b = Broker::new(config(), 1);
    let first = one_in_flight(&mut b, 0);
    let sent = first.batches();
    let now = b.now;
    b.live.retain(|c| *c != first.conn);
    b.input(Input::Disconnected { now, conn: first.conn });
    // Nothing before the backoff.
    b.no_produce();
    b.advance(Duration::from_millis(1500));
    let again = b.produce();
    assert_ne!(again.conn, first.conn);
    assert_eq!(again.batches(), sent, "same producer id, epoch, sequence and bytes");
    b.answer(&again, &[(0, 5)]);
    assert_eq!(b.delivered(), [(0, 0, Some(5))]);
    assert_eq!(b.p.metrics().retries, 1);
    assert_eq!(b.p.metrics().epoch_bumps, 0);
    b.assert_one_report_each(1);
}

#[test]
fn duplicate_sequence_number_is_success() {
    let mut b = Broker::new(config(), 1);
    let req = one_in_flight(&mut b, 0);
    b.answer(&req, &[(46, -1)]);
    assert_eq!(b.delivered(), [(0, 0, None)]);
    assert_eq!(b.p.metrics().duplicates_acknowledged, 1);
    b.assert_one_report_each(1);
}

#[test]
fn implicit_ack_by_a_later_batch() {
    let mut b = Broker::new(config(), 1);
    let r1 = one_in_flight(&mut b, 0);
    let r2 = one_in_flight(&mut b, 0);
    assert_eq!(r2.batches()[0].base_sequence, 1);
    // First answer ambiguous: written but not enough replicas; the second succeeds.
    b.answer(&r1, &[(20, -1)]);
    assert!(b.events.is_empty());
    b.answer(&r2, &[(0, 11)]);
    assert_eq!(b.delivered(), [(0, 0, None), (1, 0, Some(11))]);
    assert_eq!(b.p.metrics().implicit_acks, 1);
    b.no_produce();
    b.assert_one_report_each(2);
}

#[test]
fn out_of_order_on_a_later_batch_is_retried_in_order() {
    let mut b = Broker::new(config(), 1);
    let r1 = one_in_flight(&mut b, 0);
    let r2 = one_in_flight(&mut b, 0);
    let r3 = one_in_flight(&mut b, 0);
    b.answer(&r1, &[(6, -1)]); // NOT_LEADER_OR_FOLLOWER
    b.answer(&r2, &[(45, -1)]); // OUT_OF_ORDER: consequence of r1
    // r3 still outstanding: nothing is resent yet, even after the backoff.
    b.advance(Duration::from_millis(1500));
    b.no_produce();
    b.answer(&r3, &[(45, -1)]);
    b.advance(Duration::from_millis(1500));
    let again: Vec<Req> = (0..3).map(|_| b.produce()).collect();
    let resent: Vec<SentBatch> = again.iter().flat_map(|r| r.batches()).collect();
    let original: Vec<SentBatch> = [&r1, &r2, &r3].iter().flat_map(|r| r.batches()).collect();
    assert_eq!(resent, original, "same bytes, sequence order");
    for (i, r) in again.iter().enumerate() {
        b.answer(r, &[(0, 100 + i as i64)]);
    }
    assert_eq!(b.delivered(), [(0, 0, Some(100)), (1, 0, Some(101)), (2, 0, Some(102))]);
    assert_eq!(b.p.metrics().epoch_bumps, 0);
    b.assert_one_report_each(3);
}

#[test]
fn unknown_producer_id_on_head_bumps_and_renumbers_only_what_is_safe() {
    let mut b = Broker::new(config(), 2);
    b.send(Some(0), b"a").unwrap();
    b.send(Some(1), b"b").unwrap();
    let req = b.produce();
    let sent = req.batches();
    assert_eq!(sent.len(), 2, "one request per broker, one batch per partition");
    // A never-sent batch queued behind partition 1's.
    b.send(Some(1), b"c").unwrap();
    let queued = b.produce();
    // Partition 0: UNKNOWN_PRODUCER_ID on its head (rejected); partition 1: REQUEST_TIMED_OUT
    // (outcome unknown).
    b.answer(&req, &[(59, -1), (7, -1)]);
    b.answer(&queued, &[(45, -1)]); // consequence of the earlier unresolved batch
    b.advance(Duration::from_millis(1500));
    // Draining: only partition 1's unknown batch is resent, with its original stamp, and no
    // InitProducerId goes out before it resolves.
    let resend = b.produce();
    assert_eq!(resend.batches(), vec![sent[1].clone()]);
    assert_eq!(b.init_requests.len(), 1);
    b.no_produce();
    b.answer(&resend, &[(46, 3)]);
    b.settle();
    assert_eq!(b.init_requests, [(4, -1, -1), (4, 1000, 0)]);
    assert_eq!(b.p.producer_id(), Some((1000, 1)));
    // After the bump every partition restarts at sequence 0 (KAFKA-12152).
    let after = b.produce();
    let bs = after.batches();
    assert_eq!(bs.len(), 2);
    for x in &bs {
        assert_eq!((x.producer_id, x.epoch, x.base_sequence), (1000, 1, 0), "{x:?}");
    }
    assert_eq!(b.p.metrics().epoch_bumps, 1);
    b.answer(&after, &[(0, 0), (0, 4)]);
    let mut delivered = b.delivered();
    delivered.sort();
    assert_eq!(delivered, [(0, 0, Some(0)), (1, 1, Some(3)), (2, 1, Some(4))]);
    b.assert_one_report_each(3);
}

#[test]
fn delivery_timeout_possibly_vs_not_persisted() {
    let cfg = config().max_in_flight(1).delivery_timeout(Duration::from_secs(20));
    let mut b = Broker::new(cfg, 1);
    let _in_flight = one_in_flight(&mut b, 0);
    b.send(Some(0), b"queued").unwrap();
    b.no_produce(); // max in flight 1
    // No answer. The request times out (10 s), is resent, times out again; at 20 s both give up.
    for _ in 0..30 {
        b.advance(Duration::from_secs(1));
        b.settle();
    }
    let failed = b.failed();
    assert_eq!(failed.len(), 2, "{:?}", b.events);
    assert_eq!(failed[0], (0, DeliveryError::Timeout, Persisted::Possibly));
    assert_eq!(failed[1], (1, DeliveryError::Timeout, Persisted::No));
    b.assert_one_report_each(2);
    assert_eq!(b.p.metrics().buffered_bytes, 0);

    // Never connected at all: not persisted.
    let mut b = Broker::new(config().delivery_timeout(Duration::from_secs(20)), 1);
    b.refuse_connections = true;
    b.send(None, b"x").unwrap();
    for _ in 0..25 {
        b.settle();
        b.advance(Duration::from_secs(1));
    }
    assert_eq!(b.failed(), [(0, DeliveryError::Timeout, Persisted::No)]);
}

#[test]
fn queue_full_and_record_too_large() {
    let cfg = config().buffer_memory(1000).batch_size(500).message_max_bytes(600).linger(Duration::from_secs(1));
    let mut b = Broker::new(cfg, 1);
    let big = vec![0u8; 700];
    assert!(matches!(b.send(Some(0), &big), Err(SendError::RecordTooLarge { max: 600, .. })));
    b.settle();
    let v = [1u8; 200];
    let mut accepted = 0;
    let err = loop {
        match b.send(Some(0), &v) {
            Ok(id) => {
                assert_eq!(id.0, accepted);
                accepted += 1
            }
            Err(e) => break e,
        }
        assert!(accepted < 10);
    };
    assert_eq!(err, SendError::QueueFull);
    assert!(b.p.metrics().buffered_bytes <= 1000);
    // Deliver what was accepted; then there is room again.
    b.settle();
    b.p.flush(b.now);
    b.settle();
    while let Some(i) = b.reqs.iter().position(|r| r.api == 0) {
        let r = b.reqs.remove(i).unwrap();
        b.answer(&r, &[(0, 0)]);
        b.settle();
    }
    b.assert_one_report_each(accepted);
    assert!(b.send(Some(0), &v).is_ok());
}

#[test]
fn garbage_from_the_broker_closes_the_connection_and_loses_nothing() {
    let mut b = Broker::new(config(), 1);
    let req = one_in_flight(&mut b, 0);
    let now = b.now;
    // A frame with a wrong correlation id, then garbage.
    b.input(Input::Received { now, conn: req.conn, bytes: &[0, 0, 0, 4, 0x7f, 0, 0, 1] });
    assert!(b.closed.contains(&req.conn));
    assert!(b.events.is_empty());
    b.advance(Duration::from_millis(1500));
    let again = b.produce();
    assert_eq!(again.batches(), req.batches());
    // Negative frame size on the new connection.
    let now = b.now;
    b.input(Input::Received { now, conn: again.conn, bytes: &[0xff, 0xff, 0xff, 0xff] });
    assert!(b.closed.contains(&again.conn));
    b.advance(Duration::from_millis(1500));
    let third = b.produce();
    // A correct answer delivered one byte at a time.
    let r = ProduceResponse {
        responses: vec![TopicProduceResponse {
            name: "t",
            partition_responses: vec![PartitionProduceResponse { index: 0, base_offset: 9, ..Default::default() }],
        }],
        ..Default::default()
    };
    let mut out = Vec::new();
    proto::encode_response_frame(&mut out, third.corr, third.version, &r).unwrap();
    for byte in out {
        let now = b.now;
        b.input(Input::Received { now, conn: third.conn, bytes: &[byte] });
    }
    assert_eq!(b.delivered(), [(0, 0, Some(9))]);
    b.assert_one_report_each(1);
    // Truncated/garbage body with the right correlation id: closed, not delivered twice.
    let req = one_in_flight(&mut b, 0);
    let mut bad = Vec::new();
    bad.extend_from_slice(&8i32.to_be_bytes());
    bad.extend_from_slice(&req.corr.to_be_bytes());
    bad.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    let now = b.now;
    b.input(Input::Received { now, conn: req.conn, bytes: &bad });
    assert!(b.closed.contains(&req.conn));
    b.assert_one_report_each(1);
}

#[test]
fn api_versions_fallback() {
    let mut b = Broker::new(config(), 1);
    b.api_versions_max = 2;
    b.init_pid_max = 2;
    let req = one_in_flight(&mut b, 0);
    assert_eq!(&b.api_versions_requests[..3], [3, 2, 3], "v3 refused, v2 accepted, next connection");
    assert_eq!(b.init_requests, [(2, -1, -1)]);
    b.answer(&req, &[(0, 0)]);
    assert_eq!(b.delivered(), [(0, 0, Some(0))]);
}

#[test]
fn spurious_timeouts_are_no_ops_and_runs_are_deterministic() {
    let run = || {
        let mut b = Broker::new(config().linger(Duration::from_millis(5)).seed(42), 4);
        for i in 0..20u8 {
            b.send(None, &[i]).unwrap();
        }
        b.settle();
        let now = b.now;
        b.input(Input::Timeout(now));
        b.input(Input::Timeout(now));
        b.advance(Duration::from_millis(5));
        let mut wire = Vec::new();
        while let Some(i) = b.reqs.iter().position(|r| r.api == 0) {
            let r = b.reqs.remove(i).unwrap();
            wire.push(r.body.clone());
            let n = r.batches().len();
            b.answer(&r, &vec![(0, 0); n]);
            b.settle();
        }
        b.assert_one_report_each(20);
        wire
    };
    assert_eq!(run(), run());
}
