//! The producer's topics: per topic the partitions' send state, the sticky partitioner and the
//! records waiting for metadata; Metadata requests (when due: a partition without a leader, age,
//! a refresh asked by an error) and answers, which create the partitions once their count is
//! known.

use alloc::vec::Vec;

use super::conn::RequestKind;
use super::partition::PartitionState;
use super::partitioner::Sticky;
use super::pending::Pending;
use super::report::FatalError;
use super::{Output, Producer};
use crate::proto::metadata::MetadataResponse;
use crate::proto::{self, ApiKey};
use crate::time::Instant;

/// Per-topic producer state (indexed like the metadata's topics).
#[derive(Debug, Default)]
pub(super) struct TopicState {
    /// The partitions' send state, created once the partition count is known.
    pub(super) partitions: Vec<PartitionState>,
    /// The partitioner for unkeyed records without an explicit partition.
    pub(super) sticky: Sticky,
    /// Records accepted before the partition count was known.
    pub(super) pending: Pending,
}

impl TopicState {
    /// Creates the partitions up to `count`, each starting at sequence `first_sequence`.
    pub(super) fn grow_to(&mut self, count: usize, first_sequence: i32) {
        while self.partitions.len() < count {
            let mut part = PartitionState::new(self.partitions.len() as i32);
            part.next_sequence = first_sequence;
            self.partitions.push(part);
        }
    }
}

impl Producer {
    /// Sends a Metadata request if one is due and a control connection is ready.
    pub(super) fn send_metadata(&mut self, now: Instant) {
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

    /// Applies a Metadata answer: leaders and partition counts; partitions whose count became
    /// known get their send state. False if it is garbage.
    pub(super) fn on_metadata_response(&mut self, body: &[u8], version: i16) -> bool {
        let now = self.now;
        let Ok((_, r)) = proto::decode_response_lenient::<MetadataResponse<'_>>(body, version) else {
            let at = self.retry_backoff.next_at(now, self.metadata.failures, &mut self.rng);
            self.metadata.on_failed(at);
            return false;
        };
        let at = self.retry_backoff.next_at(now, 0, &mut self.rng);
        self.metadata.on_response(&r, now, at);
        let counts: Vec<Option<u32>> = self.metadata.topics.iter().map(|m| m.partition_count()).collect();
        let first_sequence = self.first_sequence;
        for (ts, count) in self.topics.iter_mut().zip(counts) {
            if let Some(count) = count {
                ts.grow_to(count as usize, first_sequence);
            }
        }
        true
    }
}
