//! Response handling of [`Producer`]: framing received bytes per connection, matching
//! correlation ids, and applying ApiVersions, Metadata, InitProducerId and Produce answers.
//! Anything undecodable or unexpected closes the connection (the caller treats it as lost).

use alloc::vec::Vec;

use super::conn::{self, Negotiation, RequestKind};
use super::partition::Completion;
use super::report::FatalError;
use super::{ConnId, Output, Producer};
use crate::proto::init_producer_id::InitProducerIdResponse;
use crate::proto::metadata::MetadataResponse;
use crate::proto::produce::ProduceResponse;
use crate::proto::{self, ApiKey, ErrorCode, Frame};

impl Producer {
    /// Frames and handles received bytes; garbage closes the connection.
    pub(super) fn on_received(&mut self, conn: ConnId, bytes: &[u8]) {
        let Some(c) = self.conns.get_mut(conn) else { return };
        c.recv.extend_from_slice(bytes);
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
            self.drop_conn(conn, true);
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
        let now = self.now;
        match pending.kind {
            RequestKind::ApiVersions(v) => match conn::negotiate(body, v) {
                Some(Negotiation::Ready(versions)) => {
                    self.conns.set_ready(conn, versions);
                    let missing = match (versions.produce, versions.metadata) {
                        (None, _) => Some(ApiKey::Produce),
                        (_, None) => Some(ApiKey::Metadata),
                        _ => None,
                    };
                    if let Some(api) = missing {
                        self.fail_fatal(FatalError::UnsupportedBroker { api_key: api.as_i16() });
                    }
                    true
                }
                Some(Negotiation::Retry(lower)) => {
                    match self.conns.retry_api_versions(conn, lower, now, self.config.request_timeout) {
                        Some(data) => {
                            self.out.push_back(Output::Transmit { conn, data });
                            true
                        }
                        None => false,
                    }
                }
                None => false,
            },
            RequestKind::Metadata => {
                let Ok((_, r)) = proto::decode_response_lenient::<MetadataResponse<'_>>(body, pending.version) else {
                    let at = self.retry_backoff.next_at(now, self.metadata.failures, &mut self.rng);
                    self.metadata.on_failed(at);
                    return false;
                };
                let at = self.retry_backoff.next_at(now, 0, &mut self.rng);
                self.metadata.on_response(&r, now, at);
                let counts: Vec<Option<u32>> = self.metadata.topics.iter().map(|m| m.partition_count()).collect();
                let first_sequence = self.first_sequence;
                for (ts, count) in self.topics.iter_mut().zip(counts) {
                    while count.is_some_and(|c| ts.partitions.len() < c as usize) {
                        let mut part = super::PartitionState::new(ts.partitions.len() as i32);
                        part.next_sequence = first_sequence;
                        ts.partitions.push(part);
                    }
                }
                true
            }
            RequestKind::InitProducerId => {
                let Ok((_, r)) = proto::decode_response_lenient::<InitProducerIdResponse>(body, pending.version) else {
                    let at = self.retry_backoff.next_at(now, self.pid.failures, &mut self.rng);
                    self.pid.on_lost(at);
                    return false;
                };
                let at = self.retry_backoff.next_at(now, self.pid.failures, &mut self.rng);
                let outcome = self.pid.on_response(&r, at);
                self.adopt_producer_id(outcome);
                true
            }
            RequestKind::Produce(parts) => self.on_produce_response(conn, corr, pending.version, body, &parts),
        }
    }

    fn on_produce_response(
        &mut self,
        conn: ConnId,
        corr: i32,
        version: i16,
        body: &[u8],
        parts: &[(usize, i32)],
    ) -> bool {
        let Ok((_, r)) = proto::decode_response_lenient::<ProduceResponse<'_>>(body, version) else { return false };
        let now = self.now;
        let retries = self.config.retries;
        let mut done: Vec<(i32, Completion)> = Vec::new();
        let mut fatal = None;
        let mut refresh = false;
        for topic in &r.responses {
            let Some(t) = self.metadata.topic(topic.name) else { continue };
            for pr in &topic.partition_responses {
                let Some(part) =
                    usize::try_from(pr.index).ok().and_then(|i| self.topics.get_mut(t)?.partitions.get_mut(i))
                else {
                    continue;
                };
                if !parts.contains(&(t, pr.index)) {
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
                    &mut |c| done.push((p, c)),
                );
                refresh |= reaction.refresh_metadata;
                fatal = fatal.or(reaction.fatal);
            }
        }
        // A partition the broker left out of its answer: outcome unknown.
        for &(t, p) in parts {
            let until = self.retry_backoff.next_at(now, 0, &mut self.rng);
            if let Some(part) = usize::try_from(p).ok().and_then(|i| self.topics.get_mut(t)?.partitions.get_mut(i)) {
                part.on_request_lost(conn, corr, until);
            }
        }
        for (p, c) in done {
            self.complete(p, c);
        }
        if refresh {
            self.metadata.request_refresh();
        }
        if let Some(code) = fatal {
            self.fail_fatal(FatalError::Broker(code));
        }
        true
    }
}
