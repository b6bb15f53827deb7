//! A scripted broker for producer tests: the test plays the broker, decoding the producer's
//! requests and encoding responses with `idem_core::proto`, one request at a time. (Tests that
//! run the producer against idem's real in-memory cluster use `idem_tests::pair::Pair`.)
#![allow(dead_code, clippy::unwrap_used)]

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
use idem_core::proto::sasl_authenticate::SaslAuthenticateResponse;
use idem_core::proto::sasl_handshake::SaslHandshakeResponse;
use idem_core::proto::{self, ApiKey, ErrorCode, Frame, Message};
use idem_core::{Duration, Instant};

/// One request the producer transmitted.
#[derive(Clone, Debug)]
pub struct Req {
    pub conn: ConnId,
    pub api: i16,
    pub version: i16,
    pub corr: i32,
    pub body: Vec<u8>, // request body after the header
}

/// One partition's batch inside a Produce request.
#[derive(Clone, Debug, PartialEq)]
pub struct SentBatch {
    pub partition: i32,
    pub bytes: Vec<u8>,
    pub producer_id: i64,
    pub epoch: i16,
    pub base_sequence: i32,
    pub count: i32,
}

impl Req {
    pub fn is_produce(&self) -> bool {
        self.api == ApiKey::Produce.as_i16()
    }

    pub fn batches(&self) -> Vec<SentBatch> {
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

/// The producer under test and the scripted broker's state: open connections, the requests
/// not yet answered, the reports, and how the broker answers control requests.
pub struct ScriptedBroker {
    pub p: Producer,
    pub now: Instant,
    pub pending_connects: Vec<ConnId>,
    pub live: Vec<ConnId>,
    pub closed: Vec<ConnId>,
    pub reqs: VecDeque<Req>,
    pub events: Vec<Event>,
    pub partitions: i32,
    pub next_pid: i64,
    /// ApiVersions range the broker supports (for the fallback test).
    pub api_versions_max: i16,
    pub init_pid_max: i16,
    pub init_requests: Vec<(i16, i64, i16)>,
    pub api_versions_requests: Vec<i16>,
    pub refuse_connections: bool,
    pub leader: i32,
    /// `session_lifetime_ms` of the SaslAuthenticate answers (0: none).
    pub sasl_lifetime_ms: i64,
    /// When each SaslHandshake arrived, with its connection.
    pub handshakes: Vec<(Instant, ConnId)>,
}

pub fn config() -> ProducerConfig {
    ProducerConfig::new("boot:9092")
        .unwrap()
        .linger(Duration::ZERO)
        .request_timeout(Duration::from_secs(10))
        .delivery_timeout(Duration::from_secs(60))
        .retry_backoff(Duration::from_millis(100), Duration::from_millis(1000))
}

impl ScriptedBroker {
    pub fn new(config: ProducerConfig, partitions: i32) -> Self {
        ScriptedBroker {
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
            leader: 1,
            sasl_lifetime_ms: 0,
            handshakes: Vec::new(),
        }
    }

    /// Drains outputs; returns the last Timeout deadline.
    pub fn drain(&mut self) -> Option<Instant> {
        loop {
            match self.p.poll_output() {
                Output::Connect { conn, host, port } => {
                    assert!(
                        host == "boot" && port == 9092 || host == "b1" && port == 9093 || host == "b2" && port == 9094,
                        "{host}:{port}"
                    );
                    self.pending_connects.push(conn);
                }
                Output::Transmit { conn, data } => {
                    assert!(self.live.contains(&conn), "transmit on a connection that is not open");
                    let data = data.to_vec();
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
                Output::Diagnostic(_) => {}
                // A driver feeds a deadline that is not in the future at once.
                Output::Timeout(Some(t)) if t <= self.now => {
                    let now = self.now;
                    self.p.handle_input(Input::Timeout(now));
                }
                Output::Timeout(t) => return t,
            }
        }
    }

    pub fn input(&mut self, i: Input<'_>) {
        self.p.handle_input(i);
        self.drain();
    }

    pub fn send(&mut self, partition: Option<i32>, value: &[u8]) -> Result<RecordId, SendError> {
        let r = ProducerRecord { topic: "t", partition, key: None, value: Some(value), headers: &[], timestamp_ms: 7 };
        let res = self.p.send(self.now, &r);
        self.drain();
        res
    }

    pub fn respond<'a, M: Message<'a>>(&mut self, req: &Req, body: &M) {
        let mut out = Vec::new();
        proto::encode_response_frame(&mut out, req.corr, req.version, body).unwrap();
        let now = self.now;
        self.input(Input::Received { now, conn: req.conn, bytes: &out });
    }

    /// Accepts connections and answers ApiVersions / Metadata / InitProducerId until only
    /// Produce requests remain.
    pub fn settle(&mut self) {
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
            let idx = self.reqs.iter().position(|r| !r.is_produce());
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

    pub fn control(&mut self, req: &Req) {
        match ApiKey::from_i16(req.api) {
            Some(ApiKey::ApiVersions) => {
                self.api_versions_requests.push(req.version);
                if req.version > self.api_versions_max {
                    // v0-shaped UNSUPPORTED_VERSION, as Kafka answers.
                    let r = ApiVersionsResponse {
                        error_code: ErrorCode::UNSUPPORTED_VERSION.0,
                        api_keys: vec![ApiVersion {
                            api_key: ApiKey::ApiVersions.as_i16(),
                            min_version: 0,
                            max_version: self.api_versions_max,
                        }],
                        throttle_time_ms: 0,
                        ..ApiVersionsResponse::default()
                    };
                    let mut out = Vec::new();
                    proto::encode_response_frame(&mut out, req.corr, 0, &r).unwrap();
                    let now = self.now;
                    self.input(Input::Received { now, conn: req.conn, bytes: &out });
                    return;
                }
                let r = ApiVersionsResponse {
                    error_code: ErrorCode::NONE.0,
                    api_keys: vec![
                        ApiVersion { api_key: ApiKey::Produce.as_i16(), min_version: 0, max_version: 11 },
                        ApiVersion { api_key: ApiKey::Metadata.as_i16(), min_version: 0, max_version: 12 },
                        ApiVersion {
                            api_key: ApiKey::ApiVersions.as_i16(),
                            min_version: 0,
                            max_version: self.api_versions_max,
                        },
                        ApiVersion {
                            api_key: ApiKey::InitProducerId.as_i16(),
                            min_version: 0,
                            max_version: self.init_pid_max,
                        },
                        ApiVersion { api_key: ApiKey::SaslHandshake.as_i16(), min_version: 1, max_version: 1 },
                        ApiVersion { api_key: ApiKey::SaslAuthenticate.as_i16(), min_version: 0, max_version: 2 },
                    ],
                    throttle_time_ms: 0,
                    ..ApiVersionsResponse::default()
                };
                self.respond(req, &r);
            }
            Some(ApiKey::Metadata) => {
                let r = MetadataResponse {
                    brokers: vec![
                        MetadataBroker { node_id: 1, host: "b1", port: 9093, rack: None },
                        MetadataBroker { node_id: 2, host: "b2", port: 9094, rack: None },
                    ],
                    controller_id: 1,
                    topics: vec![MetadataTopic {
                        name: Some("t"),
                        partitions: (0..self.partitions)
                            .map(|i| MetadataPartition {
                                partition_index: i,
                                leader_id: self.leader,
                                ..Default::default()
                            })
                            .collect(),
                        ..Default::default()
                    }],
                    ..Default::default()
                };
                self.respond(req, &r);
            }
            Some(ApiKey::InitProducerId) => {
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
            // Any mechanism, any credentials: tests of the exchange itself script their answers.
            Some(ApiKey::SaslHandshake) => {
                self.handshakes.push((self.now, req.conn));
                self.respond(req, &SaslHandshakeResponse { error_code: 0, mechanisms: vec!["PLAIN"] });
            }
            Some(ApiKey::SaslAuthenticate) => {
                let session_lifetime_ms = self.sasl_lifetime_ms;
                self.respond(req, &SaslAuthenticateResponse { session_lifetime_ms, ..Default::default() });
            }
            _ => panic!("unexpected api {}", req.api),
        }
    }

    pub fn produce(&mut self) -> Req {
        self.settle();
        let i = self.reqs.iter().position(Req::is_produce).expect("a Produce request");
        self.reqs.remove(i).unwrap()
    }

    pub fn no_produce(&mut self) {
        self.settle();
        assert!(self.reqs.iter().all(|r| !r.is_produce()), "unexpected Produce: {:?}", self.reqs);
    }

    /// Answers a Produce request with one (error, base offset) per batch, in request order.
    pub fn answer(&mut self, req: &Req, results: &[(ErrorCode, i64)]) {
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
                        error_code: error_code.0,
                        base_offset,
                        ..Default::default()
                    })
                    .collect(),
            }],
            ..Default::default()
        };
        self.respond(req, &r);
    }

    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        let now = self.now;
        self.input(Input::Timeout(now));
    }

    pub fn delivered(&self) -> Vec<(u64, i32, Option<i64>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Delivered { id, partition, offset, .. } => Some((id.0, *partition, *offset)),
                _ => None,
            })
            .collect()
    }

    pub fn failed(&self) -> Vec<(u64, DeliveryError, Persisted)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Failed { id, error, persisted, .. } => Some((id.0, *error, *persisted)),
                _ => None,
            })
            .collect()
    }

    /// Every accepted record reported exactly once.
    pub fn assert_one_report_each(&self, accepted: u64) {
        let mut ids: Vec<u64> = self.delivered().iter().map(|d| d.0).chain(self.failed().iter().map(|f| f.0)).collect();
        ids.sort();
        assert_eq!(ids, (0..accepted).collect::<Vec<_>>(), "events: {:?}", self.events);
    }
}

/// Sends one record and waits for its Produce request (metadata and producer id settled).
/// Takes `partition` past its session's first acknowledgement (until then the producer sends
/// one batch at a time): one record (the next id) sent and acknowledged at `offset`.
pub fn first_ack(b: &mut ScriptedBroker, partition: i32, offset: i64) {
    let r = one_in_flight(b, partition);
    b.answer(&r, &[(ErrorCode::NONE, offset)]);
}

pub fn one_in_flight(b: &mut ScriptedBroker, partition: i32) -> Req {
    b.send(Some(partition), b"v").unwrap();
    b.produce()
}
