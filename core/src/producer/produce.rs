//! Produce requests and their answers. Per ready connection, requests of at most one batch per
//! partition led by its broker, up to `max.in.flight.requests.per.connection` requests; a
//! partition only ever has requests outstanding on one connection (which batch may go is the
//! partition's rule, `PartitionState::next_to_send`). While a bump is pending ("draining"), only
//! batches of unknown outcome are resent (same bytes) so that they resolve; nothing new starts.
//! Each partition's answer goes through its decision table (`PartitionState::on_result`); a
//! partition the answer leaves out has an unknown outcome.

use alloc::vec::Vec;

use bytes::Bytes;

use super::agenda::PartKey;
use super::conn::RequestKind;
use super::drive::part_of;
use super::outcome::Collected;
use super::partition::SendState;
use super::report::FatalError;
use super::{ConnId, Producer};
use crate::proto::produce::{PartitionProduceData, ProduceRequest, ProduceResponse, TopicProduceData};
use crate::proto::{self, ApiKey, ErrorCode};
use crate::time::{Duration, Instant};

impl<T> Producer<T> {
    /// Sends every Produce request the partitions allow now.
    pub(super) fn send_produce(&mut self, now: Instant) {
        let idempotent = self.config.enable_idempotence;
        if idempotent && self.pid.producer_id < 0 {
            return;
        }
        let hold = self.hold();
        let window = self.config.window();
        let max_requests = self.config.max_in_flight as usize;
        // Transactions v2: Produce v12, which adds the partition to the transaction.
        let v2 = self.txn.as_ref().is_some_and(|t| t.v2);
        let mut unsupported = false;
        let ready: Vec<(ConnId, i32, i16)> = self
            .conns
            .iter()
            .filter_map(|c| {
                let version = c.versions()?.transactional(ApiKey::Produce, v2);
                unsupported |= version.is_none();
                version.map(|v| (c.id, c.node, v))
            })
            .collect();
        if unsupported {
            // A broker of a transactions v2 cluster without v12 (without any Produce version,
            // the connection's negotiation stopped the producer already).
            self.fail_fatal(FatalError::UnsupportedBroker { api_key: ApiKey::Produce.as_i16() });
            return;
        }
        for (conn, node, version) in ready {
            // Partitions that may send are on their leader's send list (see `agenda.rs`).
            let mut list = self.agenda.take_send_list(node, self.topics.as_mut_slice());
            loop {
                if self.conns.get(conn).is_none_or(|c| c.produce_in_flight() >= max_requests) {
                    break;
                }
                // One batch per partition led by this node; a partition that cannot send now
                // leaves the list (it is put back when something changes it).
                let mut picks: Vec<(usize, usize, usize)> = Vec::new();
                list.retain(|&key| {
                    let Some(part) = part_of(&mut self.topics, key) else { return false };
                    if part.marks.send_list != Some(node) {
                        return false; // moved to another leader's list
                    }
                    if self.metadata.leader(key.t(), part.partition) != Some(node) {
                        part.marks.send_list = None;
                        return false;
                    }
                    // Picking may change its state: its deadlines are registered again.
                    self.agenda.list_marks(key, &mut part.marks);
                    match part.next_to_send(now, conn, window, hold.of(part)) {
                        Some(i) => {
                            picks.push((key.t(), key.p(), i));
                            true
                        }
                        None => {
                            part.marks.send_list = None;
                            false
                        }
                    }
                });
                if picks.is_empty() {
                    break;
                }
                picks.sort_unstable();
                // Sorted by (topic, partition), as `picks` is: answers are matched by binary search.
                let parts: Vec<(usize, i32)> =
                    picks.iter().map(|&(t, pi, _)| (t, self.topics[t].partitions[pi].partition)).collect();
                debug_assert!(parts.is_sorted());
                let mut topic_data: Vec<TopicProduceData<'_>> = Vec::new();
                // The batches travel as shared buffers next to the encoded framing, not copied.
                let mut batches: Vec<Bytes> = Vec::with_capacity(picks.len());
                for &(t, pi, i) in &picks {
                    let name = self.metadata.topics[t].name.as_str();
                    let part = &self.topics[t].partitions[pi];
                    let batch = part.window.iter().nth(i).map(|b| &b.bytes);
                    batches.extend(batch.cloned());
                    let data = PartitionProduceData { index: part.partition, records: batch.map(|b| &b[..]) };
                    match topic_data.iter_mut().find(|td| td.name == name) {
                        Some(td) => td.partition_data.push(data),
                        None => topic_data.push(TopicProduceData { name, partition_data: alloc::vec![data] }),
                    }
                }
                let req = ProduceRequest {
                    transactional_id: self.txn.as_ref().map(|t| t.id.as_str()),
                    acks: self.config.acks.as_i16(),
                    timeout_ms: i32::try_from(self.config.request_timeout.as_millis()).unwrap_or(i32::MAX),
                    topic_data,
                };
                let timeout = self.config.request_timeout;
                let kind = RequestKind::Produce(parts);
                let result = self.conns.request_produce(conn, version, &req, &batches, kind, now, timeout);
                drop(req);
                match result {
                    Ok(data) => {
                        let corr = self.conns.get(conn).and_then(|c| c.pending.back()).map_or(0, |p| p.correlation_id);
                        let sample = self.config.metrics_sample_window;
                        for &(t, pi, i) in &picks {
                            let part = &mut self.topics[t].partitions[pi];
                            let retry = part.mark_sent(i, conn, corr);
                            if let Some(b) = part.window.iter().nth(i) {
                                let (records, size) = (b.records.len() as u64, b.bytes.len() as u64);
                                let m = &mut self.metrics;
                                m.records_transmitted += records;
                                m.batches_transmitted += 1;
                                m.batch_bytes_transmitted += size;
                                self.maxima.batch_size.record(now, sample, size);
                                if retry {
                                    m.retries += 1;
                                    m.records_retried += records;
                                } else {
                                    let queued = (now - b.created).as_micros();
                                    m.record_queue_time_total =
                                        m.record_queue_time_total + Duration::from_micros(queued);
                                    self.maxima.queue_time.record(now, sample, queued);
                                }
                            }
                            if !part.may_send(now, window, hold.of(part)) {
                                part.marks.send_list = None;
                            }
                        }
                        list.retain(|&key| {
                            part_of(&mut self.topics, key).is_some_and(|p| p.marks.send_list == Some(node))
                        });
                        self.metrics.produce_requests += 1;
                        self.transmit(conn, data);
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
            self.agenda.put_send_list(node, list);
        }
    }

    /// Applies a Produce answer to the partitions it was for. False if it is garbage.
    pub(super) fn on_produce_response(
        &mut self,
        conn: ConnId,
        corr: i32,
        version: i16,
        body: &[u8],
        parts: &[(usize, i32)],
    ) -> bool {
        for &(t, p) in parts {
            if let Ok(p) = usize::try_from(p) {
                self.list(PartKey::new(t, p));
            }
        }
        let Ok((_, r)) = proto::decode_response_lenient::<ProduceResponse<'_>>(body, version) else { return false };
        let now = self.now;
        let retries = self.config.retries;
        let mut done = Collected::default();
        let mut fatal = None;
        let mut refresh = false;
        for topic in &r.responses {
            let Some(t) = self.metadata.topic(topic.name) else { continue };
            for pr in &topic.partition_responses {
                let Some(i) = usize::try_from(pr.index).ok() else { continue };
                let Some(part) = self.topics.get_mut(t).and_then(|ts| ts.partitions.get_mut(i)) else { continue };
                // `parts` is sorted (built in topic, partition order): no scan per answer.
                if parts.binary_search(&(t, pr.index)).is_err() {
                    continue; // not asked in this request: ignore
                }
                let until = self.retry_backoff.next_at(now, part.failures, &mut self.rng);
                let p = part.partition;
                let reaction = part.on_result(
                    conn,
                    corr,
                    ErrorCode(pr.error_code),
                    pr.base_offset,
                    pr.log_append_time_ms,
                    retries,
                    until,
                    &mut self.sealer,
                    &mut done.sink(PartKey::new(t, i), p),
                );
                refresh |= reaction.refresh_metadata;
                fatal = fatal.or(reaction.fatal);
            }
        }
        // A partition the broker left out of its answer: outcome unknown.
        for &(t, p) in parts {
            let until = self.retry_backoff.next_at(now, 0, &mut self.rng);
            let Some(i) = usize::try_from(p).ok() else { continue };
            if let Some(part) = self.topics.get_mut(t).and_then(|ts| ts.partitions.get_mut(i)) {
                part.on_request_lost(conn, corr, until, retries, &mut done.sink(PartKey::new(t, i), p));
            }
        }
        self.report(done);
        if refresh {
            self.metadata.request_refresh();
        }
        if let Some(code) = fatal {
            self.fail_fatal(FatalError::Broker(code));
        }
        true
    }
}
