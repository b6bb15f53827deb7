//! Observability in the loop: diagnostics (made only for the contexts on: one bit test
//! otherwise), the accounting every request and answer goes through, the partitions' notes
//! turned into diagnostics, and the metrics snapshot built when asked for.

use alloc::boxed::Box;
use alloc::string::String;

use super::agenda::PartKey;
use super::conn::{Pending, RequestKind};
use super::diagnostic::{BumpCause, Diagnostic, DiagnosticKind};
use super::metrics::{BrokerMetrics, NodeCounters, PartitionMetrics, ProducerMetrics, TopicMetrics};
use super::partition::Note;
use super::{ConnId, Output, Payload, Producer};
use crate::debug::DebugContext;
use crate::time::{Duration, Instant};

impl<T> Producer<T> {
    /// Whether diagnostics of `context` are made: test this before building one.
    #[inline]
    pub(super) fn debugging(&self, context: DebugContext) -> bool {
        self.config.debug.contains(context)
    }

    /// Queues a diagnostic (only call it when [`Producer::debugging`] its context).
    pub(super) fn diagnose(&mut self, kind: DiagnosticKind) {
        debug_assert!(self.debugging(kind.context()), "{kind:?} made with its context off");
        self.out.push_back(Output::Diagnostic(Box::new(Diagnostic { at: self.now, kind })));
    }

    /// The name of topic `t` (for a diagnostic).
    pub(super) fn topic_name(&self, t: usize) -> String {
        self.metadata.topics.get(t).map(|m| m.name.clone()).unwrap_or_default()
    }

    /// The counters of broker `node`, created at its first use.
    pub(super) fn node_counters(&mut self, node: i32) -> &mut NodeCounters {
        let i = match self.nodes.iter().position(|n| n.node_id == node) {
            Some(i) => i,
            None => {
                self.nodes.push(NodeCounters { node_id: node, ..NodeCounters::default() });
                self.nodes.len() - 1
            }
        };
        &mut self.nodes[i]
    }

    /// Hands the driver a request frame just encoded for `conn` (the connection's newest
    /// outstanding request): counted per broker and in total, and described in `protocol`.
    pub(super) fn transmit(&mut self, conn: ConnId, data: Payload) {
        let bytes = data.len();
        let (node, request) = match self.conns.get(conn) {
            Some(c) => (c.node, c.pending.back().map(|p| (p.kind.api(), p.version, p.correlation_id))),
            None => (i32::MIN, None),
        };
        #[cfg(feature = "tls")]
        let data = self.encrypt(conn, data);
        self.out.push_back(Output::Transmit { conn, data });
        self.metrics.requests += 1;
        self.metrics.bytes_sent += bytes as u64;
        let n = self.node_counters(node);
        n.requests += 1;
        n.bytes_sent += bytes as u64;
        if self.debugging(DebugContext::Protocol) {
            if let Some((api, version, correlation_id)) = request {
                self.diagnose(DiagnosticKind::RequestSent { conn, node, api, version, correlation_id, bytes });
            }
        }
    }

    /// `pending` on `conn` (to `node`) was answered by a frame of `bytes` bytes now: its
    /// round-trip time (and, for Produce, `request-latency`) is counted and described.
    pub(super) fn answered(&mut self, conn: ConnId, node: i32, pending: &Pending, bytes: usize) {
        let now = self.now;
        let latency = now - pending.sent_at;
        let window = self.config.metrics_sample_window;
        self.metrics.responses += 1;
        let n = self.node_counters(node);
        n.responses += 1;
        n.rtt_total += latency.as_micros();
        n.rtt_max.record(now, window, latency.as_micros());
        if let RequestKind::Produce(_) = pending.kind {
            self.metrics.produce_responses += 1;
            self.metrics.request_latency_total = self.metrics.request_latency_total + latency;
            self.maxima.request_latency.record(now, window, latency.as_micros());
        }
        if self.debugging(DebugContext::Protocol) {
            let (api, correlation_id) = (pending.kind.api(), pending.correlation_id);
            self.diagnose(DiagnosticKind::ResponseReceived { conn, node, api, correlation_id, bytes, latency });
        }
    }

    /// A partition's note: counted, and turned into a diagnostic when its context is on.
    pub(super) fn note(&mut self, key: PartKey, partition: i32, note: Note) {
        if let Note::Split { .. } = note {
            self.metrics.batch_splits += 1;
        }
        let context = match note {
            Note::Unknown { .. } => DebugContext::Eos,
            Note::Retry { .. } | Note::Split { .. } => DebugContext::Msg,
        };
        if !self.debugging(context) {
            return;
        }
        let topic = self.topic_name(key.t());
        let kind = match note {
            Note::Unknown { batch, reason } => DiagnosticKind::OutcomeUnknown { topic, partition, batch, reason },
            Note::Retry { batch, reason, until } => {
                let backoff = until - self.now;
                DiagnosticKind::Retry { topic, partition, batch, reason, backoff }
            }
            Note::Split { batch, error } => DiagnosticKind::Split { topic, partition, batch, error },
        };
        self.diagnose(kind);
    }

    /// The bump cause `(key, reason)` as a diagnostic names it.
    pub(super) fn bump_cause(&self) -> Option<BumpCause> {
        let (key, reason) = self.bump_cause?;
        let partition = self.topics.get(key.t())?.partitions.get(key.p())?.partition;
        Some(BumpCause { topic: self.topic_name(key.t()), partition, reason })
    }

    /// The metrics snapshot at `now` (see [`Producer::metrics`]).
    pub(super) fn snapshot(&self, now: Instant) -> ProducerMetrics {
        let window = self.config.metrics_sample_window;
        let mut m = self.metrics.clone();
        m.at = now;
        m.buffered_bytes = self.acc.used() as u64;
        m.buffer_total_bytes = self.config.buffer_memory as u64;
        m.buffer_available_bytes = m.buffer_total_bytes.saturating_sub(m.buffered_bytes);
        m.request_latency_max = Duration::from_micros(self.maxima.request_latency.get(now, window));
        m.batch_size_max = self.maxima.batch_size.get(now, window);
        m.record_queue_time_max = Duration::from_micros(self.maxima.queue_time.get(now, window));
        m.requests_in_flight = self.conns.iter().map(|c| c.pending.len() as u64).sum();
        m.brokers = self
            .nodes
            .iter()
            .map(|n| {
                let conn = self.conns.for_node(n.node_id);
                BrokerMetrics {
                    node_id: n.node_id,
                    connected: conn.is_some_and(|c| c.versions().is_some()),
                    in_flight_requests: conn.map_or(0, |c| c.pending.len() as u64),
                    requests: n.requests,
                    responses: n.responses,
                    bytes_sent: n.bytes_sent,
                    bytes_received: n.bytes_received,
                    rtt_total: Duration::from_micros(n.rtt_total),
                    rtt_max: Duration::from_micros(n.rtt_max.get(now, window)),
                    connects: n.connects,
                    disconnects: n.disconnects,
                    request_timeouts: n.request_timeouts,
                }
            })
            .collect();
        m.topics = self
            .topics
            .iter()
            .enumerate()
            .map(|(t, ts)| TopicMetrics {
                topic: self.topic_name(t),
                records_waiting: ts.pending.len() as u64,
                partitions: ts
                    .partitions
                    .iter()
                    .map(|p| {
                        let open = p.open.as_ref();
                        PartitionMetrics {
                            partition: p.partition,
                            leader: self.metadata.leader(t, p.partition),
                            queued_records: open.map_or(0, |o| o.len() as u64)
                                + p.queue.iter().map(|b| b.records.len() as u64).sum::<u64>(),
                            queued_bytes: open.map_or(0, |o| o.size() as u64)
                                + p.queue.iter().map(|b| b.bytes.len() as u64).sum::<u64>(),
                            in_flight_batches: p.in_flight as u64,
                            unresolved_batches: p.window.len() as u64,
                            next_sequence: p.next_sequence,
                            batch_retries: p.retries,
                            needs_epoch_bump: p.needs_bump,
                        }
                    })
                    .collect(),
            })
            .collect();
        m
    }
}
