//! The producer's connections: which broker to connect to (a ready connection for control
//! requests, else the next known broker or bootstrap server not backing off; the leaders of
//! partitions with something to send), framing received bytes and matching them to the oldest
//! outstanding request, the ApiVersions answer, and losing a connection. Anything undecodable
//! or unexpected closes the connection and resolves its requests as lost.

use alloc::string::String;
use alloc::vec::Vec;

use super::agenda::PartKey;
use super::conn::{self, ConnState, Negotiation, RequestKind};
use super::diagnostic::{ApiVersionsOutcome, CloseReason, DiagnosticKind};
use super::outcome::Collected;
use super::report::FatalError;
use super::{ConnId, Output, Producer};
use crate::debug::DebugContext;
use crate::proto::record_batch::Compression;
use crate::proto::{self, ApiKey, Frame};
use crate::time::Instant;

impl<T> Producer<T> {
    /// A ready connection for control requests, or a connection attempt towards one.
    pub(super) fn control_conn(&mut self, now: Instant) -> Option<ConnId> {
        if let Some(c) = self.conns.any_ready() {
            return Some(c.id);
        }
        if self.conns.iter().any(|c| !matches!(c.state, ConnState::Ready(_))) {
            return None; // one is on its way
        }
        // Known brokers first, then bootstrap servers, round robin, skipping backed-off nodes.
        let nodes: Vec<i32> = self
            .metadata
            .brokers
            .iter()
            .map(|b| b.node_id)
            .chain((0..self.config.bootstrap_servers.len()).map(|i| -1 - i as i32))
            .collect();
        for k in 0..nodes.len() {
            let node = nodes[(self.bootstrap_next + k) % nodes.len()];
            if self.conns.may_connect(node, now) {
                self.bootstrap_next = (self.bootstrap_next + k + 1) % nodes.len();
                self.connect(node, now);
                return None;
            }
        }
        None
    }

    /// Asks the driver to connect to `node` (a broker id, or `-1 - i` for bootstrap server `i`).
    /// False if its address is unknown.
    pub(super) fn connect(&mut self, node: i32, now: Instant) -> bool {
        let addr = if node >= 0 {
            self.metadata.broker(node).map(|b| (b.host.clone(), b.port))
        } else {
            usize::try_from(-1 - node)
                .ok()
                .and_then(|i| self.config.bootstrap_servers.get(i))
                .map(|b| (b.host.clone(), b.port))
        };
        let Some((host, port)) = addr else { return false };
        self.connect_to(node, host, port, now);
        true
    }

    /// Asks the driver to connect to `node` at `host:port`.
    pub(super) fn connect_to(&mut self, node: i32, host: String, port: u16, now: Instant) {
        let conn = self.conns.open(node, &host, now, self.config.connection_setup_timeout);
        self.metrics.connections_created += 1;
        self.node_counters(node).connects += 1;
        if self.debugging(DebugContext::Broker) {
            self.diagnose(DiagnosticKind::Connecting { conn, node, host: host.clone(), port });
        }
        self.out.push_back(Output::Connect { conn, host, port });
    }

    /// `Input::Connected`: under TLS the handshake starts; otherwise (and once it is over) the
    /// connection negotiates its versions (ApiVersions).
    pub(super) fn on_connected(&mut self, conn: ConnId) {
        #[cfg(feature = "tls")]
        if let Some(config) = self.tls.clone() {
            self.start_tls(conn, &config);
            return;
        }
        self.negotiate(conn);
    }

    /// The connection carries Kafka requests from now on: ApiVersions first.
    pub(super) fn negotiate(&mut self, conn: ConnId) {
        let Some(frame) = self.conns.on_connected(conn, self.now, self.config.request_timeout) else { return };
        if self.debugging(DebugContext::Broker) {
            if let Some(c) = self.conns.get(conn) {
                let (node, version) = (c.node, c.pending.back().map_or(0, |p| p.version));
                self.diagnose(DiagnosticKind::Connected { conn, node, version });
            }
        }
        self.transmit(conn, frame);
    }

    /// Connects to the leaders of partitions that have something to send, where allowed.
    pub(super) fn connect_leaders(&mut self, now: Instant) {
        if !self.agenda.wanted_nodes().any(|node| self.conns.may_connect(node, now)) {
            return; // every leader wanted is connected, connecting or backing off
        }
        // Rare (a leader to connect to): a scan, so that connections open in partition order.
        let window = self.config.window();
        let mut wanted: Vec<i32> = Vec::new();
        for (t, ts) in self.topics.iter().enumerate() {
            for p in &ts.partitions {
                if let Some(l) = self.metadata.leader(t, p.partition) {
                    let wants = p.wants_to_send(now, window, false) || p.open.is_some();
                    if wants && !wanted.contains(&l) {
                        wanted.push(l);
                    }
                }
            }
        }
        for node in wanted {
            if self.conns.may_connect(node, now) {
                self.connect(node, now);
            }
        }
    }

    /// Frames and handles received bytes; garbage closes the connection.
    pub(super) fn on_received(&mut self, conn: ConnId, bytes: &[u8]) {
        let Some(c) = self.conns.get_mut(conn) else { return };
        let node = c.node;
        #[cfg(feature = "tls")]
        if c.tls.is_some() {
            if !self.on_tls_received(conn, bytes) {
                return;
            }
        } else {
            c.recv.extend_from_slice(bytes);
        }
        #[cfg(not(feature = "tls"))]
        c.recv.extend_from_slice(bytes);
        self.metrics.bytes_received += bytes.len() as u64;
        self.node_counters(node).bytes_received += bytes.len() as u64;
        let Some(c) = self.conns.get_mut(conn) else { return };
        let buf = core::mem::take(&mut c.recv);
        let mut off = 0;
        let mut ok = true;
        loop {
            match proto::parse_frame(buf.get(off..).unwrap_or_default(), conn::MAX_RESPONSE_FRAME) {
                Ok(Frame::Complete { body, consumed }) => {
                    off += consumed;
                    if !self.on_frame(conn, body) {
                        ok = false;
                        break;
                    }
                    if self.finished || self.conns.get(conn).is_none() {
                        return;
                    }
                }
                Ok(Frame::Partial { .. }) => break,
                Err(_) => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            self.drop_conn(conn, CloseReason::Malformed);
            return;
        }
        if let Some(c) = self.conns.get_mut(conn) {
            let mut buf = buf;
            buf.drain(..off.min(buf.len()));
            c.recv = buf;
        }
    }

    /// Handles one response frame; false if it is garbage.
    fn on_frame(&mut self, conn: ConnId, body: &[u8]) -> bool {
        let Ok(corr) = proto::peek_correlation_id(body) else { return false };
        let Some(c) = self.conns.get_mut(conn) else { return false };
        if c.pending.front().is_none_or(|p| p.correlation_id != corr) {
            return false;
        }
        let Some(pending) = c.pending.pop_front() else { return false };
        let node = c.node;
        self.answered(conn, node, &pending, body.len());
        let now = self.now;
        match pending.kind {
            RequestKind::ApiVersions(v) => match conn::negotiate(body, v) {
                Some(Negotiation::Ready(versions)) => {
                    match self.config.security.sasl() {
                        Some(mechanism) => self.start_sasl(conn, node, mechanism, versions, false),
                        None => self.conns.set_ready(conn, versions),
                    }
                    if self.debugging(DebugContext::Broker) {
                        let outcome = ApiVersionsOutcome::Ready {
                            produce: versions.produce,
                            metadata: versions.metadata,
                            init_producer_id: versions.init_producer_id,
                        };
                        self.diagnose(DiagnosticKind::ApiVersions { conn, node, outcome });
                    }
                    let missing = match (versions.produce, versions.metadata) {
                        (None, _) => Some(ApiKey::Produce),
                        (_, None) => Some(ApiKey::Metadata),
                        _ => None,
                    };
                    if let Some(api) = missing {
                        self.fail_fatal(FatalError::UnsupportedBroker { api_key: api.as_i16() });
                    } else if let Some(e) = compression_unsupported(self.config.compression, versions.produce) {
                        // As the Java client's `ProduceRequest.validateRecords` refuses zstd below
                        // v7 (UnsupportedCompressionTypeException), but before any batch is
                        // sealed for this broker's requests: nothing is sent that it must refuse.
                        self.fail_fatal(e);
                    }
                    true
                }
                Some(Negotiation::Retry(lower)) => {
                    if self.debugging(DebugContext::Broker) {
                        let outcome = ApiVersionsOutcome::Retry(lower);
                        self.diagnose(DiagnosticKind::ApiVersions { conn, node, outcome });
                    }
                    match self.conns.retry_api_versions(conn, lower, now, self.config.request_timeout) {
                        Some(data) => {
                            self.transmit(conn, data);
                            true
                        }
                        None => false,
                    }
                }
                None => false,
            },
            RequestKind::Metadata => self.on_metadata_response(body, pending.version),
            RequestKind::InitProducerId => self.on_init_producer_id_response(body, pending.version),
            RequestKind::Produce(parts) => self.on_produce_response(conn, corr, pending.version, body, &parts),
            RequestKind::SaslHandshake => self.on_sasl_handshake(conn, node, body, pending.version),
            RequestKind::SaslAuthenticate => self.on_sasl_authenticate(conn, node, body, pending.version),
            RequestKind::Txn(req) => self.on_txn_response(req, body, pending.version),
        }
    }

    /// Forgets a connection for `reason`: closes it (unless the driver reported it lost), and
    /// resolves its outstanding requests as lost (unknown outcome for Produce).
    pub(super) fn drop_conn(&mut self, conn: ConnId, reason: CloseReason) {
        let now = self.now;
        let Some(c) = self.conns.remove(conn, now, &mut self.rng) else { return };
        // Bytes queued for it but not yet taken by the driver are void.
        self.out.retain(|o| !matches!(o, Output::Transmit { conn: c, .. } if *c == conn));
        if reason != CloseReason::Disconnected {
            self.out.push_back(Output::Close { conn });
        }
        self.metrics.connection_errors += 1;
        let timeout = matches!(reason, CloseReason::RequestTimeout { .. });
        self.metrics.request_timeouts += u64::from(timeout);
        let counters = self.node_counters(c.node);
        counters.disconnects += 1;
        counters.request_timeouts += u64::from(timeout);
        if self.debugging(DebugContext::Broker) {
            let unanswered = c.pending.len() as u32;
            self.diagnose(DiagnosticKind::ConnectionClosed { conn, node: c.node, reason, unanswered });
        }
        for p in &c.pending {
            match p.kind {
                RequestKind::Metadata => {
                    let at = self.retry_backoff.next_at(now, self.metadata.failures, &mut self.rng);
                    self.metadata.on_failed(at);
                }
                RequestKind::InitProducerId => self.producer_id_lost(),
                RequestKind::Txn(_) => self.txn_request_lost(),
                RequestKind::ApiVersions(_)
                | RequestKind::Produce(_)
                | RequestKind::SaslHandshake
                | RequestKind::SaslAuthenticate => {}
            }
        }
        self.txn_connection_lost(c.node);
        self.agenda.list_all();
        let retries = self.config.retries;
        let mut done = Collected::default();
        for (t, ts) in self.topics.iter_mut().enumerate() {
            for (p, part) in ts.partitions.iter_mut().enumerate() {
                if part.in_flight_conn == Some(conn) {
                    let until = self.retry_backoff.next_at(now, part.failures, &mut self.rng);
                    let key = PartKey::new(t, p);
                    part.on_conn_lost(conn, until, retries, &mut done.sink(key, part.partition));
                    self.agenda.list_next_pass(key);
                }
            }
        }
        self.report(done);
        if c.node >= 0 {
            self.metadata.request_refresh();
        }
    }
}

/// The fatal error of a connection whose highest Produce version cannot carry `codec` (zstd
/// below v7, KIP-110); `None` when it can.
fn compression_unsupported(codec: Compression, produce: Option<i16>) -> Option<FatalError> {
    let v = produce?;
    (v < codec.min_produce_version()).then_some(FatalError::UnsupportedCompression { codec, produce_version: v })
}
