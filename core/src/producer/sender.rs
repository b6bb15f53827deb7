//! The network side of [`Producer`]: the drive loop (seal on linger, expire, metadata, producer
//! id, Produce requests, connections, timers) and connection loss; responses are in `receiver`.
//!
//! Produce requests go per broker, with at most one batch per partition each; a partition only
//! ever has requests outstanding on one connection. While a bump is pending ("draining"), only
//! batches of unknown outcome are resent (same bytes) so that they resolve; nothing new starts.

use alloc::vec::Vec;

use super::conn::{ConnState, RequestKind};
use super::idempotence::{PidOutcome, PidState};
use super::partition::SendState;
use super::report::{DeliveryError, FatalError};
use super::timer::{TimerKind, Timers};
use super::{ConnId, Output, PendingRecord, Producer, RecordRef};
use crate::proto::produce::{PartitionProduceData, ProduceRequest, TopicProduceData};
use crate::proto::{ApiKey, ErrorCode};
use crate::time::Instant;

impl Producer {
    /// Does everything that is due at `now`.
    pub(super) fn drive(&mut self, now: Instant) {
        self.now = self.now.max(now);
        let now = self.now;
        if self.finished {
            return;
        }
        for id in self.conns.timed_out(now) {
            self.drop_conn(id, true);
        }
        self.expire(now);
        self.route_pending(now);
        if self.finished {
            return;
        }
        let idempotent = self.config.enable_idempotence;
        if idempotent && self.topics.iter().any(|t| t.partitions.iter().any(|p| p.needs_bump)) {
            self.pid.request_bump();
        } else if !idempotent {
            // No sequences to keep: a partition waiting to split a batch does so once drained.
            self.for_each_partition(|p, sink| {
                if p.head_rejected.is_some() && p.drained(&mut |c| sink(c)) {
                    p.renumber(-1, -1, false);
                }
            });
        }
        if self
            .topics
            .iter()
            .enumerate()
            .any(|(t, ts)| ts.partitions.iter().any(|p| p.has_data() && self.metadata.leader(t, p.partition).is_none()))
        {
            self.metadata.request_refresh();
        }
        self.send_metadata(now);
        if idempotent && !self.topics.is_empty() {
            // Lazily, once there is something to send (as the Java client).
            self.advance_producer_id(now);
        }
        // After the producer id step: a bump just adopted frees every partition.
        self.seal_due(now);
        self.send_produce(now);
        self.connect_leaders(now);
        if self.closing && !self.has_pending() {
            self.finish();
            return;
        }
        self.recompute_timers(now);
    }

    fn seal_due(&mut self, now: Instant) {
        let linger = self.config.linger;
        let window = self.config.window();
        let idempotent = self.config.enable_idempotence;
        let (pid, epoch) = (self.pid.producer_id, self.pid.epoch);
        let exhausted = core::mem::take(&mut self.exhausted);
        for ts in &mut self.topics {
            let count = ts.partitions.len() as u32;
            for part in &mut ts.partitions {
                let lingered = part.open.as_ref().is_some_and(|o| exhausted || o.created + linger <= now);
                let due = part.open.is_some() && (self.closing || (lingered && part.ready_for_new_batch(window)));
                if due && part.seal(pid, epoch, idempotent) {
                    self.metrics.batches += 1;
                    ts.sticky.on_sealed(part.partition, count, &mut self.rng);
                }
            }
        }
    }

    fn expire(&mut self, now: Instant) {
        let timeout = self.config.delivery_timeout;
        let idempotent = self.config.enable_idempotence;
        let retries = self.config.retries;
        let mut close = Vec::new();
        self.for_each_partition(|part, sink| {
            if let Some(c) = part.expire(now, timeout, retries, idempotent, &mut |c| sink(c)) {
                close.push(c);
            }
        });
        for c in close {
            // The timed-out batch was reported possibly persisted: its request must not resolve
            // later, so the connection goes (librdkafka does the same).
            self.drop_conn(c, true);
        }
        if let Some(cutoff) = now.as_micros().checked_sub(timeout.as_micros()) {
            self.fail_pending(DeliveryError::Timeout, Some(Instant::from_micros(cutoff)));
        }
    }

    /// Moves records that waited for metadata into their partitions, in `send` order.
    fn route_pending(&mut self, now: Instant) {
        for t in 0..self.topics.len() {
            let Some(meta) = self.metadata.topics.get(t) else { continue };
            let hopeless =
                |c: &ErrorCode| *c == ErrorCode::INVALID_TOPIC_EXCEPTION || *c == ErrorCode::TOPIC_AUTHORIZATION_FAILED;
            if let Some(code) = meta.error.filter(hopeless) {
                // Will not get better by waiting.
                let failed: Vec<PendingRecord> = self.topics[t].pending.drain(..).collect();
                for p in failed {
                    self.acc.release(p.reserved);
                    self.metrics.records_failed += 1;
                    let error = DeliveryError::Rejected(code);
                    self.out.push_back(Output::Event(super::Event::Failed {
                        id: p.id,
                        error,
                        persisted: super::Persisted::No,
                    }));
                }
                continue;
            }
            let Some(count) = meta.partition_count() else { continue };
            let mut sealed = false;
            while let Some(p) = self.topics[t].pending.pop_front() {
                self.acc.release(p.reserved);
                let headers: Vec<(&str, Option<&[u8]>)> =
                    p.headers.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
                let r = RecordRef {
                    timestamp_ms: p.timestamp_ms,
                    key: p.key.as_deref(),
                    value: p.value.as_deref(),
                    headers: &headers,
                };
                // The batch's clock starts when the record was accepted: delivery.timeout.ms bounds
                // the time from `send` to the report.
                let (s, result) = self.append(t, count, p.accepted.min(now), p.id, p.partition, &r);
                sealed |= s;
                match result {
                    Ok(()) => {}
                    Err(super::SendError::QueueFull) => {
                        // Only possible when the record grew by its offset/timestamp deltas:
                        // keep it waiting (the bytes just released are free again).
                        drop(headers);
                        if self.acc.reserve(p.reserved).is_ok() {
                            self.topics[t].pending.push_front(p);
                            break;
                        }
                        self.metrics.records_failed += 1;
                        self.out.push_back(Output::Event(super::Event::Failed {
                            id: p.id,
                            error: DeliveryError::Rejected(ErrorCode::MESSAGE_TOO_LARGE),
                            persisted: super::Persisted::No,
                        }));
                    }
                    Err(e) => {
                        let error = match e {
                            super::SendError::InvalidPartition(_) => {
                                DeliveryError::Rejected(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)
                            }
                            _ => DeliveryError::Rejected(ErrorCode::MESSAGE_TOO_LARGE),
                        };
                        self.metrics.records_failed += 1;
                        self.out.push_back(Output::Event(super::Event::Failed {
                            id: p.id,
                            error,
                            persisted: super::Persisted::No,
                        }));
                    }
                }
            }
            let _ = sealed;
        }
        self.metrics.buffered_bytes = self.acc.used() as u64;
    }

    /// A ready connection for control requests, or a connection attempt towards one.
    fn control_conn(&mut self, now: Instant) -> Option<ConnId> {
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

    fn connect(&mut self, node: i32, now: Instant) -> bool {
        let addr = if node >= 0 {
            self.metadata.broker(node).map(|b| (b.host.clone(), b.port))
        } else {
            usize::try_from(-1 - node)
                .ok()
                .and_then(|i| self.config.bootstrap_servers.get(i))
                .map(|b| (b.host.clone(), b.port))
        };
        let Some((host, port)) = addr else { return false };
        let conn = self.conns.open(node, now, self.config.connection_setup_timeout);
        self.out.push_back(Output::Connect { conn, host, port });
        true
    }

    fn connect_leaders(&mut self, now: Instant) {
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

    fn send_metadata(&mut self, now: Instant) {
        if !self.metadata.due(now) {
            return;
        }
        let Some(conn) = self.control_conn(now) else { return };
        let Some(version) = self.conns.get(conn).and_then(|c| c.versions()).and_then(|v| v.metadata) else {
            self.fail_fatal(FatalError::UnsupportedBroker { api_key: ApiKey::Metadata.as_i16() });
            return;
        };
        let deadline = now + self.config.request_timeout;
        let req = self.metadata.request();
        match self.conns.request(conn, version, &req, RequestKind::Metadata, deadline) {
            Ok(data) => self.out.push_back(Output::Transmit { conn, data }),
            Err(_) => {
                let at = self.retry_backoff.next_at(now, self.metadata.failures, &mut self.rng);
                self.metadata.on_failed(at);
            }
        }
    }

    fn all_drained(&mut self) -> bool {
        let mut drained = true;
        self.for_each_partition(|p, sink| drained &= p.drained(&mut |c| sink(c)));
        drained
    }

    /// Moves to a new producer identity once it is due and every partition is drained: the
    /// next epoch on the client when possible, else an InitProducerId request for a fresh id.
    fn advance_producer_id(&mut self, now: Instant) {
        if !self.pid.due(now) || !self.all_drained() {
            return;
        }
        if let Some(outcome) = self.pid.bump_locally() {
            self.adopt_producer_id(outcome);
            return;
        }
        let Some(conn) = self.control_conn(now) else { return };
        let Some(version) = self.conns.get(conn).and_then(|c| c.versions()).and_then(|v| v.init_producer_id) else {
            self.fail_fatal(FatalError::UnsupportedBroker { api_key: ApiKey::InitProducerId.as_i16() });
            return;
        };
        let req = self.pid.request();
        let deadline = now + self.config.request_timeout;
        match self.conns.request(conn, version, &req, RequestKind::InitProducerId, deadline) {
            Ok(data) => self.out.push_back(Output::Transmit { conn, data }),
            Err(_) => {
                let at = self.retry_backoff.next_at(now, self.pid.failures, &mut self.rng);
                self.pid.on_lost(at);
            }
        }
    }

    /// Adopts a new producer identity (from the broker or a local bump): every partition is
    /// renumbered, from sequence 0 after a bump.
    pub(super) fn adopt_producer_id(&mut self, outcome: PidOutcome) {
        match outcome {
            PidOutcome::Adopt { producer_id, epoch, bumped } => {
                self.metrics.epoch_bumps += u64::from(bumped);
                let first = if bumped { 0 } else { self.first_sequence };
                for ts in &mut self.topics {
                    for p in &mut ts.partitions {
                        p.renumber_from(producer_id, epoch, true, first);
                    }
                }
            }
            PidOutcome::Retry => {}
            PidOutcome::Fatal(code) => self.fail_fatal(FatalError::Broker(code)),
        }
    }

    fn send_produce(&mut self, now: Instant) {
        let idempotent = self.config.enable_idempotence;
        if idempotent && self.pid.producer_id < 0 {
            return;
        }
        let draining = idempotent && !self.pid.is_ready();
        let window = self.config.window();
        let max_requests = self.config.max_in_flight as usize;
        let ready: Vec<(ConnId, i32, i16)> =
            self.conns.iter().filter_map(|c| c.versions().and_then(|v| v.produce).map(|v| (c.id, c.node, v))).collect();
        for (conn, node, version) in ready {
            loop {
                if self.conns.get(conn).is_none_or(|c| c.produce_in_flight() >= max_requests) {
                    break;
                }
                // One batch per partition led by this node.
                let mut picks: Vec<(usize, usize, usize)> = Vec::new();
                for (t, ts) in self.topics.iter_mut().enumerate() {
                    for (pi, part) in ts.partitions.iter_mut().enumerate() {
                        if self.metadata.leader(t, part.partition) != Some(node) {
                            continue;
                        }
                        if let Some(i) = part.next_to_send(now, conn, window, draining) {
                            picks.push((t, pi, i));
                        }
                    }
                }
                if picks.is_empty() {
                    break;
                }
                let parts: Vec<(usize, i32)> =
                    picks.iter().map(|&(t, pi, _)| (t, self.topics[t].partitions[pi].partition)).collect();
                let deadline = now + self.config.request_timeout;
                let mut topic_data: Vec<TopicProduceData<'_>> = Vec::new();
                for &(t, pi, i) in &picks {
                    let name = self.metadata.topics[t].name.as_str();
                    let part = &self.topics[t].partitions[pi];
                    let records = part.window.iter().nth(i).map(|b| b.bytes.as_slice());
                    let data = PartitionProduceData { index: part.partition, records };
                    match topic_data.iter_mut().find(|td| td.name == name) {
                        Some(td) => td.partition_data.push(data),
                        None => topic_data.push(TopicProduceData { name, partition_data: alloc::vec![data] }),
                    }
                }
                let req = ProduceRequest {
                    transactional_id: None,
                    acks: self.config.acks.as_i16(),
                    timeout_ms: i32::try_from(self.config.request_timeout.as_millis()).unwrap_or(i32::MAX),
                    topic_data,
                };
                let result = self.conns.request(conn, version, &req, RequestKind::Produce(parts), deadline);
                drop(req);
                match result {
                    Ok(data) => {
                        let corr = self.conns.get(conn).and_then(|c| c.pending.back()).map_or(0, |p| p.correlation_id);
                        for &(t, pi, i) in &picks {
                            if self.topics[t].partitions[pi].mark_sent(i, conn, corr) {
                                self.metrics.retries += 1;
                            }
                        }
                        self.metrics.produce_requests += 1;
                        self.out.push_back(Output::Transmit { conn, data });
                    }
                    Err(_) => {
                        // Cannot happen for batches idem built; back off rather than spin.
                        let until = now + self.config.retry_backoff_max;
                        for &(t, pi, _) in &picks {
                            let part = &mut self.topics[t].partitions[pi];
                            part.state = SendState::Backoff { until };
                        }
                        break;
                    }
                }
            }
        }
    }

    /// Forgets a connection: closes it (if `close`), and resolves its outstanding requests as
    /// lost (unknown outcome for Produce).
    pub(super) fn drop_conn(&mut self, conn: ConnId, close: bool) {
        let now = self.now;
        let Some(c) = self.conns.remove(conn, now, &mut self.rng) else { return };
        // Bytes queued for it but not yet taken by the driver are void.
        self.out.retain(|o| !matches!(o, Output::Transmit { conn: c, .. } if *c == conn));
        if close {
            self.out.push_back(Output::Close { conn });
        }
        self.metrics.connection_errors += 1;
        for p in &c.pending {
            match p.kind {
                RequestKind::Metadata => {
                    let at = self.retry_backoff.next_at(now, self.metadata.failures, &mut self.rng);
                    self.metadata.on_failed(at);
                }
                RequestKind::InitProducerId => {
                    let at = self.retry_backoff.next_at(now, self.pid.failures, &mut self.rng);
                    self.pid.on_lost(at);
                }
                RequestKind::ApiVersions(_) | RequestKind::Produce(_) => {}
            }
        }
        for ts in &mut self.topics {
            for part in &mut ts.partitions {
                if part.in_flight_conn == Some(conn) {
                    let until = self.retry_backoff.next_at(now, part.failures, &mut self.rng);
                    part.on_conn_lost(conn, until);
                }
            }
        }
        if c.node >= 0 {
            self.metadata.request_refresh();
        }
    }

    fn recompute_timers(&mut self, now: Instant) {
        let mut t = Timers::default();
        let future = |x: Instant| (x > now).then_some(x);
        let (linger, dt) = (self.config.linger, self.config.delivery_timeout);
        let window = self.config.window();
        let mut in_flight = 0u64;
        for ts in &self.topics {
            if let Some(p) = ts.pending.front() {
                t.lower(TimerKind::Delivery, p.accepted + dt);
            }
            for p in &ts.partitions {
                in_flight += p.in_flight as u64;
                if let Some(o) = &p.open {
                    // A lingered batch waiting for its partition is sealed by the event that
                    // frees the partition, not by a timer; if the partition was freed after
                    // `seal_due` ran (a backoff ending with nothing to resend), it is due now.
                    match future(o.created + linger) {
                        Some(at) => t.lower(TimerKind::Linger, at),
                        None if p.ready_for_new_batch(window) => t.lower(TimerKind::Linger, now),
                        None => {}
                    }
                    t.lower(TimerKind::Delivery, o.created + dt);
                }
                if let Some(b) = p.window.front() {
                    t.lower(TimerKind::Delivery, b.created + dt);
                }
                if let Some(b) = p.queue.front() {
                    t.lower(TimerKind::Delivery, b.created + dt);
                }
                if let SendState::Backoff { until } = p.state {
                    if let Some(u) = future(until) {
                        t.lower(TimerKind::Retry, u);
                    }
                }
            }
        }
        t.set(TimerKind::Request, self.conns.next_deadline());
        t.set(TimerKind::Metadata, self.metadata.next_deadline().and_then(future));
        if self.pid.state == PidState::Needed {
            t.set(TimerKind::ProducerId, self.pid.retry_at.and_then(future));
        }
        t.set(TimerKind::Reconnect, self.conns.next_reconnect(now));
        self.timers = t;
        self.metrics.in_flight = in_flight;
        self.metrics.buffered_bytes = self.acc.used() as u64;
    }
}
