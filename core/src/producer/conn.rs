//! Connections: framing of received bytes, correlation ids, ApiVersions negotiation, request and
//! connection-setup timeouts, reconnect backoff. Shared by the producer and the consumer
//! (`crate::consumer`): [`Conns`] is generic over what an outstanding request was for
//! ([`Kind`]), the producer's [`RequestKind`] by default.
//!
//! Guarantees:
//! - A broker answers the requests of one connection in order, so a response must carry the
//!   correlation id of the oldest outstanding request; anything else (and any undecodable byte)
//!   is a protocol violation and the connection is closed, never trusted.
//! - Received bytes may arrive in any chunking; partial frames are buffered per connection, up
//!   to the frame cap.
//! - ApiVersions is sent first at the highest version idem speaks; a broker that does not support
//!   it answers UNSUPPORTED_VERSION in a v0-shaped body listing its own range, and the request is
//!   repeated at the highest common version. Every other API then uses the highest version both
//!   sides support.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;

use bytes::Bytes;

use super::ConnId;
use super::backoff::Backoff;
use super::payload::Payload;
use super::transaction::TxnRequest;
use crate::proto::api_versions::{ApiVersionsRequest, ApiVersionsResponse, TRANSACTION_VERSION_FEATURE};
use crate::proto::produce::ProduceRequest;
use crate::proto::{self, ApiKey, EncodeError, ErrorCode, Message, VersionRange};
use crate::rand::Rng;
use crate::time::{Duration, Instant};

/// The largest response frame accepted (Kafka's `socket.request.max.bytes` default).
pub(crate) const MAX_RESPONSE_FRAME: usize = proto::frame::DEFAULT_MAX_FRAME;

/// What an outstanding request was for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RequestKind {
    /// ApiVersions at this version.
    ApiVersions(i16),
    /// Metadata.
    Metadata,
    /// InitProducerId.
    InitProducerId,
    /// Produce carrying one batch of each listed (topic index, partition).
    Produce(Vec<(usize, i32)>),
    /// SaslHandshake (`sasl.rs`).
    SaslHandshake,
    /// SaslAuthenticate (`sasl.rs`).
    SaslAuthenticate,
    /// A request to a transaction's coordinators (`transact.rs`).
    Txn(TxnRequest),
}

impl RequestKind {
    /// The API of the request.
    pub(crate) fn api(&self) -> ApiKey {
        match self {
            RequestKind::ApiVersions(_) => ApiKey::ApiVersions,
            RequestKind::Metadata => ApiKey::Metadata,
            RequestKind::InitProducerId => ApiKey::InitProducerId,
            RequestKind::Produce(_) => ApiKey::Produce,
            RequestKind::SaslHandshake => ApiKey::SaslHandshake,
            RequestKind::SaslAuthenticate => ApiKey::SaslAuthenticate,
            RequestKind::Txn(r) => r.api(),
        }
    }
}

/// What an outstanding request was for, as a client's connections need to know it: its API,
/// and how to name the ApiVersions request they send first.
pub(crate) trait Kind: Clone + core::fmt::Debug {
    /// The API of the request.
    fn api(&self) -> ApiKey;
    /// The kind of an ApiVersions request at `version`.
    fn api_versions(version: i16) -> Self;
}

impl Kind for RequestKind {
    fn api(&self) -> ApiKey {
        RequestKind::api(self)
    }
    fn api_versions(version: i16) -> Self {
        RequestKind::ApiVersions(version)
    }
}

/// What timed out on a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimedOut {
    /// The connection was not established in time.
    Connect,
    /// This request (its API and correlation id) got no answer in time.
    Request(ApiKey, i32),
}

/// An outstanding request.
#[derive(Clone, Debug)]
pub(crate) struct Pending<K = RequestKind> {
    /// Its correlation id.
    pub(crate) correlation_id: i32,
    /// Its version.
    pub(crate) version: i16,
    /// What it was.
    pub(crate) kind: K,
    /// When it was encoded for transmission.
    pub(crate) sent_at: Instant,
    /// When it times out.
    pub(crate) deadline: Instant,
}

/// The versions negotiated with one broker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Versions {
    /// Produce version.
    pub(crate) produce: Option<i16>,
    /// Metadata version.
    pub(crate) metadata: Option<i16>,
    /// InitProducerId version.
    pub(crate) init_producer_id: Option<i16>,
    /// SaslHandshake and SaslAuthenticate versions, when the broker has both.
    pub(crate) sasl: Option<(i16, i16)>,
    /// The version of every API idem speaks that the broker offers.
    pub(crate) all: ApiTable,
    /// The highest version of every API both sides speak, beyond the producer's usual picks
    /// ([`ApiKey::negotiated`]): what transactions v2 needs (Produce v12, EndTxn v5,
    /// TxnOffsetCommit v5).
    pub(crate) latest: ApiTable,
    /// The level of `transaction.version` the broker says is finalized (KIP-584; 0: none).
    pub(crate) transaction_version: i16,
}

impl Versions {
    /// The version of `key` for a transactional producer: under transactions v2 (`v2`) the
    /// version of KIP-890 ([`ApiKey::first_transactions_v2_version`], e.g. EndTxn v5) or
    /// newer, `None` if the broker has none; else the usual pick.
    pub(crate) fn transactional(&self, key: ApiKey, v2: bool) -> Option<i16> {
        match key.first_transactions_v2_version() {
            Some(first) if v2 => self.latest.get(key).filter(|v| *v >= first),
            _ => self.all.get(key),
        }
    }

    /// Whether this broker runs transactions v2: `transaction.version` finalized at 2 or more
    /// and the versions of KIP-890 offered (a broker that finalizes the feature but lacks them
    /// is spoken to in transactions v1).
    pub(crate) fn transactions_v2(&self) -> bool {
        self.transaction_version >= 2
            && [ApiKey::EndTxn, ApiKey::TxnOffsetCommit].iter().all(|&k| self.transactional(k, true).is_some())
    }
}

/// The highest version both sides support, per API idem speaks (`None`: not offered).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ApiTable([Option<i16>; ApiKey::ALL.len()]);

impl ApiTable {
    /// The version of `key`, if the broker offers one idem speaks.
    pub(crate) fn get(&self, key: ApiKey) -> Option<i16> {
        let i = ApiKey::ALL.iter().position(|k| *k == key)?;
        self.0.get(i).copied().flatten()
    }
}

/// Connection lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConnState {
    /// `Output::Connect` emitted; waiting for `Input::Connected` until the deadline.
    Connecting {
        /// Setup deadline.
        deadline: Instant,
    },
    /// ApiVersions outstanding.
    Negotiating,
    /// SASL exchange running (`sasl.rs`): first authentication, or a re-authentication while
    /// earlier requests are still answered; no new request but the exchange's is sent.
    Authenticating(Versions),
    /// Usable.
    Ready(Versions),
}

/// One broker connection.
#[derive(Debug)]
pub(crate) struct Conn<K = RequestKind> {
    /// Its id.
    pub(crate) id: ConnId,
    /// Broker node id (bootstrap servers: -1 - index).
    pub(crate) node: i32,
    /// The host connected to (the name TLS verifies).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) host: String,
    /// Its TLS session under `SSL` / `SASL_SSL`, from `Input::Connected` on: while it
    /// handshakes the connection stays `Connecting` (the setup timeout covers the handshake).
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::tls::TlsSession>,
    /// State.
    pub(crate) state: ConnState,
    /// Received bytes not yet framed.
    pub(crate) recv: Vec<u8>,
    /// Outstanding requests, oldest first.
    pub(crate) pending: VecDeque<Pending<K>>,
    /// The SASL exchange running on it, if any.
    pub(crate) sasl: Option<super::sasl::SaslExchange>,
    /// When to re-authenticate (KIP-368), once authenticated with a session lifetime.
    pub(crate) reauth_at: Option<Instant>,
}

impl<K> Conn<K> {
    /// Negotiated versions when ready.
    pub(crate) fn versions(&self) -> Option<Versions> {
        match self.state {
            ConnState::Ready(v) => Some(v),
            _ => None,
        }
    }
}

impl Conn {
    /// Outstanding Produce requests.
    pub(crate) fn produce_in_flight(&self) -> usize {
        self.pending.iter().filter(|p| matches!(p.kind, RequestKind::Produce(_))).count()
    }
}

/// The outcome of an ApiVersions response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Negotiation {
    /// Versions chosen; the connection is ready.
    Ready(Versions),
    /// Ask again at this lower version.
    Retry(i16),
}

#[derive(Clone, Copy, Debug, Default)]
struct NodeBackoff {
    failures: u32,
    until: Option<Instant>,
}

/// All connections of a client (a producer's, or a consumer's with its own request kinds).
#[derive(Debug)]
pub(crate) struct Conns<K = RequestKind> {
    conns: Vec<Conn<K>>,
    next_id: u64,
    next_correlation: i32,
    reconnect: BTreeMap<i32, NodeBackoff>,
    backoff: Backoff,
    client_id: String,
}

impl<K: Kind> Conns<K> {
    /// No connections.
    pub(crate) fn new(client_id: String, reconnect: Backoff) -> Self {
        Conns {
            conns: Vec::new(),
            next_id: 1,
            next_correlation: 1,
            reconnect: BTreeMap::new(),
            backoff: reconnect,
            client_id,
        }
    }

    /// Every connection.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Conn<K>> {
        self.conns.iter()
    }

    /// A connection by id.
    pub(crate) fn get(&self, id: ConnId) -> Option<&Conn<K>> {
        self.conns.iter().find(|c| c.id == id)
    }

    /// A connection by id, mutably.
    pub(crate) fn get_mut(&mut self, id: ConnId) -> Option<&mut Conn<K>> {
        self.conns.iter_mut().find(|c| c.id == id)
    }

    /// The connection to `node`, in any state.
    pub(crate) fn for_node(&self, node: i32) -> Option<&Conn<K>> {
        self.conns.iter().find(|c| c.node == node)
    }

    /// The least loaded ready connection, for requests any broker can answer.
    pub(crate) fn any_ready(&self) -> Option<&Conn<K>> {
        self.conns.iter().filter(|c| c.versions().is_some()).min_by_key(|c| (c.pending.len(), c.id.0))
    }

    /// Whether `node` may be (re)connected at `now`.
    pub(crate) fn may_connect(&self, node: i32, now: Instant) -> bool {
        self.for_node(node).is_none() && self.reconnect.get(&node).is_none_or(|b| b.until.is_none_or(|t| t <= now))
    }

    /// Registers a new connection to `node`; the caller emits `Output::Connect`.
    pub(crate) fn open(&mut self, node: i32, host: &str, now: Instant, setup_timeout: Duration) -> ConnId {
        let id = ConnId(self.next_id);
        self.next_id += 1;
        self.conns.push(Conn {
            id,
            node,
            host: String::from(host),
            #[cfg(feature = "tls")]
            tls: None,
            state: ConnState::Connecting { deadline: now + setup_timeout },
            recv: Vec::new(),
            pending: VecDeque::new(),
            sasl: None,
            reauth_at: None,
        });
        id
    }

    /// Encodes a request frame for `conn` (one contiguous chunk) at `now` and records it as
    /// outstanding until `now + timeout`.
    pub(crate) fn request<'a, M: Message<'a>>(
        &mut self,
        conn: ConnId,
        version: i16,
        body: &M,
        kind: K,
        now: Instant,
        timeout: Duration,
    ) -> Result<Payload, EncodeError> {
        let correlation_id = self.next_correlation;
        let mut out = Vec::new();
        proto::encode_request_frame(&mut out, correlation_id, Some(&self.client_id), version, body)?;
        self.outstanding(conn, correlation_id, version, kind, now, now + timeout);
        Ok(Payload::from(out))
    }

    /// Encodes a Produce request frame for `conn` and records it as outstanding. The record
    /// batches are not copied: `batches` are the shared buffers `body`'s records borrow from,
    /// in the order they appear in it (each partition's `records` is the whole of its batch),
    /// and the payload carries them between the encoded pieces.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn request_produce(
        &mut self,
        conn: ConnId,
        version: i16,
        body: &ProduceRequest<'_>,
        batches: &[Bytes],
        kind: K,
        now: Instant,
        timeout: Duration,
    ) -> Result<Payload, EncodeError> {
        let correlation_id = self.next_correlation;
        let mut head = Vec::new();
        let mut at = Vec::with_capacity(batches.len());
        body.encode_frame_without_records(&mut head, correlation_id, Some(&self.client_id), version, &mut at)?;
        // Each partition's records must be exactly its batch, at its place.
        let records = body.topic_data.iter().flat_map(|t| &t.partition_data).filter_map(|p| p.records);
        let paired = records.clone().count() == batches.len()
            && records.zip(batches).all(|(r, b)| core::ptr::eq(r.as_ptr(), b.as_ptr()) && r.len() == b.len());
        let payload = paired.then(|| Payload::spliced(head, &at, batches)).flatten();
        let payload = payload.ok_or(EncodeError::InvalidValue("records not paired with their batches"))?;
        self.outstanding(conn, correlation_id, version, kind, now, now + timeout);
        Ok(payload)
    }

    /// Takes the next correlation id and records the request as outstanding on `conn`.
    fn outstanding(
        &mut self,
        conn: ConnId,
        correlation_id: i32,
        version: i16,
        kind: K,
        sent_at: Instant,
        deadline: Instant,
    ) {
        self.next_correlation = if correlation_id == i32::MAX { 1 } else { correlation_id + 1 };
        if let Some(c) = self.get_mut(conn) {
            c.pending.push_back(Pending { correlation_id, version, kind, sent_at, deadline });
        }
    }

    /// `Input::Connected`: starts negotiation; returns the ApiVersions frame to transmit.
    pub(crate) fn on_connected(&mut self, conn: ConnId, now: Instant, timeout: Duration) -> Option<Payload> {
        let c = self.get_mut(conn)?;
        if !matches!(c.state, ConnState::Connecting { .. }) {
            return None;
        }
        c.state = ConnState::Negotiating;
        let node = c.node;
        if let Some(b) = self.reconnect.get_mut(&node) {
            b.until = None;
        }
        self.api_versions(conn, ApiKey::ApiVersions.supported().max, now, timeout)
    }

    fn api_versions(&mut self, conn: ConnId, version: i16, now: Instant, timeout: Duration) -> Option<Payload> {
        let req =
            ApiVersionsRequest { client_software_name: "idem", client_software_version: env!("CARGO_PKG_VERSION") };
        self.request(conn, version, &req, K::api_versions(version), now, timeout).ok()
    }

    /// Re-sends ApiVersions at a lower version after UNSUPPORTED_VERSION.
    pub(crate) fn retry_api_versions(
        &mut self,
        conn: ConnId,
        version: i16,
        now: Instant,
        timeout: Duration,
    ) -> Option<Payload> {
        self.api_versions(conn, version, now, timeout)
    }

    /// Marks `conn` ready with `versions`.
    pub(crate) fn set_ready(&mut self, conn: ConnId, versions: Versions) {
        if let Some(c) = self.get_mut(conn) {
            c.state = ConnState::Ready(versions);
            let node = c.node;
            self.reconnect.remove(&node);
        }
    }

    /// Removes a connection (closed, lost or garbage) and starts its node's reconnect backoff.
    /// Returns it so the caller can resolve its outstanding requests.
    pub(crate) fn remove(&mut self, conn: ConnId, now: Instant, rng: &mut Rng) -> Option<Conn<K>> {
        let i = self.conns.iter().position(|c| c.id == conn)?;
        let c = self.conns.swap_remove(i);
        let b = self.reconnect.entry(c.node).or_default();
        b.until = Some(self.backoff.next_at(now, b.failures, rng));
        b.failures = b.failures.saturating_add(1);
        Some(c)
    }

    /// Connections whose setup or a request has timed out at `now`, with what timed out.
    pub(crate) fn timed_out(&self, now: Instant) -> Vec<(ConnId, TimedOut)> {
        self.conns
            .iter()
            .filter_map(|c| match c.state {
                ConnState::Connecting { deadline } => (deadline <= now).then_some((c.id, TimedOut::Connect)),
                _ => c
                    .pending
                    .iter()
                    .find(|p| p.deadline <= now)
                    .map(|p| (c.id, TimedOut::Request(p.kind.api(), p.correlation_id))),
            })
            .collect()
    }

    /// The earliest setup/request deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.conns
            .iter()
            .filter_map(|c| match c.state {
                ConnState::Connecting { deadline } => Some(deadline),
                _ => c.pending.iter().map(|p| p.deadline).chain(c.reauth_at).min(),
            })
            .min()
    }

    /// The earliest end of a reconnect backoff still running at `now`.
    pub(crate) fn next_reconnect(&self, now: Instant) -> Option<Instant> {
        self.reconnect.values().filter_map(|b| b.until).filter(|t| *t > now).min()
    }
}

/// Decodes an ApiVersions response frame body answering a request of `version`. UNSUPPORTED_VERSION
/// is read from a v0-shaped body (how brokers answer versions they do not know). `None`: garbage.
pub(crate) fn negotiate(body: &[u8], version: i16) -> Option<Negotiation> {
    // Response header v0 (correlation id), then error_code first in every version.
    let mut header = proto::Reader::new(body);
    header.i32().ok()?;
    let code = ErrorCode(header.i16().ok()?);
    if code == ErrorCode::UNSUPPORTED_VERSION {
        // A body that is not v0-shaped (librdkafka's mock answers a v3 request with a 1-byte
        // count) still says UNSUPPORTED_VERSION: fall back to v0.
        let Ok((_, r)) = proto::decode_response::<ApiVersionsResponse>(body, 0) else {
            return (version > 0).then_some(Negotiation::Retry(0));
        };
        let theirs = r.api_keys.iter().find(|k| k.api_key == ApiKey::ApiVersions.as_i16());
        let next = match theirs {
            Some(k) => VersionRange { min: k.min_version, max: k.max_version }
                .highest_common(ApiKey::ApiVersions.supported())?,
            None => 0,
        };
        return (next < version).then_some(Negotiation::Retry(next));
    }
    let (_, r) = proto::decode_response::<ApiVersionsResponse>(body, version).ok()?;
    if !ErrorCode(r.error_code).is_ok() {
        return None;
    }
    let pick_within = |key: ApiKey, ours: VersionRange| {
        r.api_keys
            .iter()
            .find(|k| k.api_key == key.as_i16())
            .and_then(|k| VersionRange { min: k.min_version, max: k.max_version }.highest_common(ours))
    };
    let pick = |key: ApiKey| pick_within(key, key.negotiated());
    let pick_latest = |key: ApiKey| pick_within(key, key.supported());
    Some(Negotiation::Ready(Versions {
        produce: pick(ApiKey::Produce),
        metadata: pick(ApiKey::Metadata),
        init_producer_id: pick(ApiKey::InitProducerId),
        sasl: pick(ApiKey::SaslHandshake).zip(pick(ApiKey::SaslAuthenticate)),
        all: ApiTable(ApiKey::ALL.map(pick)),
        latest: ApiTable(ApiKey::ALL.map(pick_latest)),
        transaction_version: r.finalized_level(TRANSACTION_VERSION_FEATURE).unwrap_or(0),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::api_versions::ApiVersion;
    use crate::proto::{Frame, parse_frame};

    fn response(version: i16, error_code: i16, keys: &[(i16, i16, i16)]) -> Vec<u8> {
        let r = ApiVersionsResponse {
            error_code,
            api_keys: keys
                .iter()
                .map(|&(api_key, min_version, max_version)| ApiVersion { api_key, min_version, max_version })
                .collect(),
            throttle_time_ms: 0,
            ..ApiVersionsResponse::default()
        };
        let mut out = Vec::new();
        proto::encode_response_frame(&mut out, 1, version, &r).unwrap();
        out.split_off(4)
    }

    #[test]
    fn negotiates_highest_common() {
        let ready = |body: &[u8]| match negotiate(body, 3) {
            Some(Negotiation::Ready(v)) => v,
            other => panic!("{other:?}"),
        };
        let v = ready(&response(3, 0, &[(0, 0, 11), (3, 0, 12), (18, 0, 4), (22, 0, 5), (11, 2, 20)]));
        let fields = (v.produce, v.metadata, v.init_producer_id, v.sasl);
        assert_eq!(fields, (Some(10), Some(12), Some(4), None));
        assert_eq!(v.all.get(ApiKey::JoinGroup), Some(9));
        assert_eq!(v.all.get(ApiKey::Produce), Some(10));
        assert_eq!(v.all.get(ApiKey::Fetch), None);
        let v = ready(&response(3, 0, &[(0, 0, 2), (3, 0, 5)]));
        assert_eq!((v.produce, v.metadata, v.init_producer_id, v.sasl), (None, Some(5), None, None));
        assert_eq!(v.all.get(ApiKey::Metadata), Some(5));
    }

    #[test]
    fn falls_back_on_unsupported_version() {
        let body = response(0, 35, &[(18, 0, 2)]);
        assert_eq!(negotiate(&body, 3), Some(Negotiation::Retry(2)));
        // No progress possible: garbage.
        assert_eq!(negotiate(&body, 2), None);
        assert_eq!(negotiate(&[1, 2], 3), None);
        assert_eq!(negotiate(&response(3, 0, &[]).split_off(1), 3), None);
    }

    #[test]
    fn produce_frames_carry_batches_without_changing_a_byte() {
        use crate::proto::produce::{PartitionProduceData, TopicProduceData};
        let mut rng = Rng::new(7);
        let backoff = Backoff { initial: Duration::from_millis(50), max: Duration::from_secs(1) };
        for case in 0..200 {
            let version = 3 + (case % 8) as i16;
            // Batches of every length class: empty, short, and past the one- and two-byte
            // compact length prefixes (127, 16383) of flexible versions.
            let sizes = [0usize, 1, 61, 126, 127, 128, 5000, 16383, 16384, 70_000];
            let names = ["t", "topic-two", ""];
            let topics = 1 + rng.below(3) as usize;
            let mut batches: Vec<Bytes> = Vec::new();
            let mut layout = Vec::new();
            for t in 0..topics {
                for p in 0..rng.below(4) as i32 {
                    let batch = rng.chance(0.9).then(|| {
                        let n = sizes[rng.below(sizes.len() as u64) as usize];
                        Bytes::from((0..n).map(|i| (i as u8) ^ (case as u8)).collect::<Vec<u8>>())
                    });
                    batches.extend(batch.clone());
                    layout.push((t, p, batch));
                }
            }
            let topic_data: Vec<TopicProduceData<'_>> = (0..topics)
                .map(|t| TopicProduceData {
                    name: names[t],
                    partition_data: layout
                        .iter()
                        .filter(|l| l.0 == t)
                        .map(|(_, p, b)| PartitionProduceData { index: *p, records: b.as_deref() })
                        .collect(),
                })
                .collect();
            let req = ProduceRequest {
                transactional_id: rng.chance(0.5).then_some("tx"),
                acks: -1,
                timeout_ms: 30_000,
                topic_data,
            };
            let mut c: Conns = Conns::new("client".into(), backoff);
            let id = c.open(1, "b1", Instant::ZERO, Duration::from_secs(1));
            c.next_correlation = case;
            let kind = RequestKind::Produce(Vec::new());
            let payload =
                c.request_produce(id, version, &req, &batches, kind, Instant::ZERO, Duration::from_secs(30)).unwrap();
            // The frame as it was encoded before: one buffer, every batch copied in.
            let mut whole = Vec::new();
            proto::encode_request_frame(&mut whole, case, Some("client"), version, &req).unwrap();
            assert_eq!(payload.to_vec(), whole, "case {case}, version {version}");
            assert_eq!(payload.len(), whole.len());
            // No batch was copied: the non-empty ones are chunks of the payload, as they are.
            let chunks: Vec<&[u8]> = payload.chunks().collect();
            for b in batches.iter().filter(|b| !b.is_empty()) {
                assert!(chunks.iter().any(|c| core::ptr::eq(c.as_ptr(), b.as_ptr()) && c.len() == b.len()));
            }
            assert_eq!(c.get(id).unwrap().pending.back().unwrap().correlation_id, case);
            // Batches that are not the records, in their order, are refused (two empty batches
            // are the same bytes either way).
            if batches.len() >= 2 && !(batches[0].is_empty() && batches[1].is_empty()) {
                let mut swapped = batches.clone();
                swapped.swap(0, 1);
                let kind = RequestKind::Produce(Vec::new());
                assert!(
                    c.request_produce(id, version, &req, &swapped, kind, Instant::ZERO, Duration::from_secs(30))
                        .is_err()
                );
            }
        }
    }

    #[test]
    fn correlation_and_timeouts() {
        let mut c: Conns =
            Conns::new("t".into(), Backoff { initial: Duration::from_millis(50), max: Duration::from_secs(1) });
        let mut rng = Rng::new(1);
        let id = c.open(-1, "b1", Instant::ZERO, Duration::from_secs(10));
        assert_eq!(c.timed_out(Instant::from_millis(10_000)), [(id, TimedOut::Connect)]);
        let frame = c.on_connected(id, Instant::ZERO, Duration::from_secs(30)).unwrap().to_vec();
        let Ok(Frame::Complete { body, .. }) = parse_frame(&frame, 1 << 20) else { panic!() };
        let (h, _) = proto::decode_request_header(body).unwrap();
        assert_eq!((h.api_key, h.api_version, h.client_id), (18, 3, Some("t")));
        assert_eq!(c.get(id).unwrap().pending.front().unwrap().correlation_id, h.correlation_id);
        assert_eq!(c.next_deadline(), Some(Instant::from_millis(30_000)));
        assert!(c.timed_out(Instant::from_millis(29_999)).is_empty());
        let corr = h.correlation_id;
        assert_eq!(c.timed_out(Instant::from_millis(30_000)), [(id, TimedOut::Request(ApiKey::ApiVersions, corr))]);
        let gone = c.remove(id, Instant::ZERO, &mut rng).unwrap();
        assert_eq!(gone.pending.len(), 1);
        assert!(!c.may_connect(-1, Instant::ZERO));
        assert!(c.may_connect(-1, Instant::from_millis(60)));
    }
}
