//! The consumer's connections and its drive pass: which broker to connect to (any ready one for
//! Metadata and FindCoordinator, the coordinator on a connection of its own as the Java client
//! keeps one, each partition leader for ListOffsets and Fetch), received bytes into frames
//! matched to the oldest outstanding request, losing a connection, and the pass that sends
//! whatever is due after every input, with the next deadline.

use alloc::vec::Vec;

use bytes::Bytes;

use super::{Consumer, ConsumerOutput, PartPhase, Phase, Req};
use crate::producer::ConnId;
use crate::producer::conn::{self, ConnState, Negotiation};
use crate::proto::{self, Frame};
use crate::time::Instant;

/// The connection key of the coordinator on node `n` (its own connection, apart from the
/// node's fetch connection, as the Java client's `Integer.MAX_VALUE - nodeId`).
pub(super) fn coordinator_key(node: i32) -> i32 {
    i32::MAX - node.max(0)
}

impl Consumer {
    /// A ready connection for requests any broker answers, or a connection attempt towards one.
    pub(super) fn control_conn(&mut self) -> Option<ConnId> {
        if let Some(c) = self.conns.any_ready() {
            return Some(c.id);
        }
        if self.conns.iter().any(|c| !matches!(c.state, ConnState::Ready(_))) {
            return None; // one is on its way
        }
        let nodes: Vec<(i32, alloc::string::String, u16)> = self
            .metadata
            .brokers
            .iter()
            .map(|b| (b.node_id, b.host.clone(), b.port))
            .chain(
                self.config.bootstrap_servers.iter().enumerate().map(|(i, b)| (-1 - i as i32, b.host.clone(), b.port)),
            )
            .collect();
        for k in 0..nodes.len() {
            let (node, host, port) = &nodes[(self.bootstrap_next + k) % nodes.len()];
            if self.conns.may_connect(*node, self.now) {
                self.bootstrap_next = (self.bootstrap_next + k + 1) % nodes.len();
                self.connect(*node, host.clone(), *port);
                return None;
            }
        }
        None
    }

    /// The ready connection keyed `key` (to `host:port`), or an attempt towards it when allowed.
    pub(super) fn conn_to(&mut self, key: i32, host: &str, port: u16) -> Option<ConnId> {
        match self.conns.for_node(key) {
            Some(c) => c.versions().is_some().then_some(c.id),
            None => {
                if self.conns.may_connect(key, self.now) {
                    self.connect(key, host.into(), port);
                }
                None
            }
        }
    }

    /// The ready connection to the coordinator, or an attempt towards it.
    pub(super) fn coordinator_conn(&mut self) -> Option<ConnId> {
        let (node, host, port) = self.coord.node.clone()?;
        self.conn_to(coordinator_key(node), &host, port)
    }

    /// The ready connection to broker `node` (from the metadata), or an attempt towards it.
    pub(super) fn broker_conn(&mut self, node: i32) -> Option<ConnId> {
        let (host, port) = self.metadata.broker(node).map(|b| (b.host.clone(), b.port))?;
        self.conn_to(node, &host, port)
    }

    fn connect(&mut self, key: i32, host: alloc::string::String, port: u16) {
        let conn = self.conns.open(key, &host, self.now, self.config.connection_setup_timeout);
        self.out.push_back(ConsumerOutput::Connect { conn, host, port });
    }

    /// Frames and handles received bytes; garbage closes the connection.
    pub(super) fn on_received(&mut self, conn: ConnId, bytes: &[u8]) {
        let Some(c) = self.conns.get_mut(conn) else { return };
        c.recv.extend_from_slice(bytes);
        loop {
            let Some(c) = self.conns.get_mut(conn) else { return };
            match proto::parse_frame(&c.recv, conn::MAX_RESPONSE_FRAME) {
                Ok(Frame::Complete { body, consumed }) => {
                    // One copy per response: records handed out share it.
                    let body = Bytes::copy_from_slice(body);
                    c.recv.drain(..consumed);
                    if !self.on_frame(conn, body) {
                        self.drop_conn(conn, true);
                        return;
                    }
                    if self.finished {
                        return;
                    }
                }
                Ok(Frame::Partial { .. }) => return,
                Err(_) => {
                    self.drop_conn(conn, true);
                    return;
                }
            }
        }
    }

    /// Handles one response frame; false if it is garbage.
    fn on_frame(&mut self, conn: ConnId, body: Bytes) -> bool {
        let Ok(corr) = proto::peek_correlation_id(&body) else { return false };
        let Some(c) = self.conns.get_mut(conn) else { return false };
        if c.pending.front().is_none_or(|p| p.correlation_id != corr) {
            return false;
        }
        let Some(pending) = c.pending.pop_front() else { return false };
        let v = pending.version;
        match pending.kind {
            Req::ApiVersions(version) => match conn::negotiate(&body, version) {
                Some(Negotiation::Ready(versions)) => {
                    self.conns.set_ready(conn, versions);
                    true
                }
                Some(Negotiation::Retry(lower)) => {
                    match self.conns.retry_api_versions(conn, lower, self.now, self.config.request_timeout) {
                        Some(data) => {
                            self.transmit(conn, data);
                            true
                        }
                        None => false,
                    }
                }
                None => false,
            },
            Req::Metadata => self.on_metadata(&body, v),
            Req::FindCoordinator => self.on_find_coordinator(&body, v),
            Req::JoinGroup => self.on_join_group(&body, v),
            Req::SyncGroup => self.on_sync_group(&body, v),
            Req::Heartbeat(generation) => self.on_heartbeat(&body, v, generation),
            Req::OffsetCommit => self.on_offset_commit(&body, v),
            Req::LeaveGroup => {
                // Whatever the answer, the member is gone (or will expire).
                self.finish_close();
                true
            }
            Req::OffsetFetch(epoch) => self.on_offset_fetch(&body, v, epoch),
            Req::ListOffsets(epoch, parts) => self.on_list_offsets(&body, v, epoch, &parts),
            Req::Fetch(epoch, parts) => self.on_fetch(&body, v, epoch, &parts),
        }
    }

    /// Forgets a connection: closes it unless the driver reported it lost (`close`), and treats
    /// its outstanding requests as unanswered.
    pub(super) fn drop_conn(&mut self, conn: ConnId, close: bool) {
        let now = self.now;
        let Some(c) = self.conns.remove(conn, now, &mut self.rng) else { return };
        self.out.retain(|o| !matches!(o, ConsumerOutput::Transmit { conn: c, .. } if *c == conn));
        if close {
            self.out.push_back(ConsumerOutput::Close { conn });
        }
        let is_coordinator = self.coord.node.as_ref().is_some_and(|(n, _, _)| coordinator_key(*n) == c.node);
        for p in c.pending {
            match p.kind {
                Req::ApiVersions(_) => {}
                Req::Metadata => {
                    let at = self.retry.next_at(now, self.metadata.failures, &mut self.rng);
                    self.metadata.on_failed(at);
                }
                Req::FindCoordinator => self.find_coordinator_failed(),
                Req::JoinGroup | Req::SyncGroup => {
                    if matches!(self.member.phase, Phase::Joining | Phase::Syncing) {
                        self.member.phase = Phase::Unjoined;
                        self.join_backoff();
                    }
                }
                Req::Heartbeat(_) => self.heartbeat_failed(),
                Req::OffsetCommit => self.commit_retry(),
                Req::LeaveGroup => self.finish_close(),
                Req::OffsetFetch(epoch) => {
                    if epoch == self.epoch {
                        self.offsets_in_flight = false;
                        self.offsets_retry_at = Some(self.retry.next_at(now, 0, &mut self.rng));
                    }
                }
                Req::ListOffsets(epoch, parts) => self.parts_failed(epoch, &parts, PartPhase::Reset, true),
                Req::Fetch(epoch, parts) => self.parts_failed(epoch, &parts, PartPhase::Fetchable, true),
            }
        }
        if is_coordinator {
            self.coordinator_unknown();
        }
    }

    /// Parts of an unanswered or failed ListOffsets / Fetch of `epoch`: back to `phase` after
    /// a backoff, the metadata refreshed when `refresh`.
    pub(super) fn parts_failed(&mut self, epoch: u64, parts: &[usize], phase: PartPhase, refresh: bool) {
        if epoch != self.epoch {
            return;
        }
        for &i in parts {
            let Some(p) = self.parts.get_mut(i) else { continue };
            p.fetching = false;
            if p.phase == PartPhase::Resetting || phase == PartPhase::Reset {
                p.phase = phase;
            }
            p.retry_at = Some(self.retry.next_at(self.now, p.failures, &mut self.rng));
            p.failures = p.failures.saturating_add(1);
        }
        if refresh {
            self.metadata.request_refresh();
        }
    }

    /// Everything due now, in a fixed order.
    pub(super) fn drive(&mut self) {
        if self.finished {
            return;
        }
        self.started = true;
        let now = self.now;
        for (conn, _) in self.conns.timed_out(now) {
            self.drop_conn(conn, true);
        }
        if self.closing.is_some_and(|d| d <= now) {
            self.finish_close();
        }
        if self.finished {
            return;
        }
        self.send_metadata();
        self.drive_group();
        if self.finished {
            return;
        }
        self.drive_fetches();
    }

    /// Sends Metadata when due.
    fn send_metadata(&mut self) {
        if !self.metadata.due(self.now) {
            return;
        }
        let Some(conn) = self.control_conn() else { return };
        let Some(version) = self.version(conn, crate::proto::ApiKey::Metadata) else { return };
        let timeout = self.config.request_timeout;
        let now = self.now;
        let req = self.metadata.request();
        match self.conns.request(conn, version, &req, Req::Metadata, now, timeout) {
            Ok(data) => self.transmit(conn, data),
            Err(_) => {
                let at = self.retry.next_at(now, self.metadata.failures, &mut self.rng);
                self.metadata.on_failed(at);
            }
        }
    }

    /// The negotiated version of `api` on `conn`; a broker without it stops the consumer.
    pub(super) fn version(&mut self, conn: ConnId, api: crate::proto::ApiKey) -> Option<i16> {
        let v = self.conns.get(conn).and_then(|c| c.versions()).and_then(|v| v.all.get(api));
        if v.is_none() {
            self.fail(super::ConsumerError::UnsupportedBroker { api_key: api.as_i16() });
        }
        v
    }

    /// A Metadata answer; false if garbage.
    fn on_metadata(&mut self, body: &[u8], version: i16) -> bool {
        let now = self.now;
        let Ok((_, r)) = proto::decode_response_lenient::<crate::proto::metadata::MetadataResponse<'_>>(body, version)
        else {
            let at = self.retry.next_at(now, self.metadata.failures, &mut self.rng);
            self.metadata.on_failed(at);
            return false;
        };
        let at = self.retry.next_at(now, 0, &mut self.rng);
        self.metadata.on_response(&r, now, at);
        if let Phase::Assigning(_) = self.member.phase {
            self.assign_if_ready(true);
        }
        self.check_assigned_metadata();
        true
    }

    /// When to be woken next: the earliest future instant anything is due.
    pub(super) fn next_timeout(&self) -> Option<Instant> {
        let now = self.now;
        if !self.started {
            return Some(now);
        }
        let mut at: Vec<Option<Instant>> = alloc::vec![
            self.conns.next_deadline(),
            self.conns.next_reconnect(now),
            self.metadata.next_deadline(),
            self.coord.retry_at,
            self.closing,
            self.commit_retry_at,
            self.offsets_retry_at,
            self.auto_commit_at,
        ];
        if self.member.phase == Phase::Unjoined {
            at.push(Some(self.member.join_at));
        }
        if matches!(self.member.phase, Phase::Stable | Phase::Revoking) && !self.member.heartbeat_in_flight {
            at.push(Some(self.member.heartbeat_at));
        }
        at.extend(self.parts.iter().map(|p| p.retry_at));
        at.into_iter().flatten().filter(|t| *t > now).min()
    }
}
