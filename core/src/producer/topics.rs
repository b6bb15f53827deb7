//! The producer's topics: per topic the partitions' send state, the sticky partitioner and the
//! records waiting for metadata; Metadata requests (when due: a partition without a leader, age,
//! a refresh asked by an error) and answers, which create the partitions once their count is
//! known.

use alloc::vec::Vec;

use super::Producer;
use super::agenda::{Marks, MarksTable, PartKey};
use super::conn::RequestKind;
use super::diagnostic::DiagnosticKind;
use super::metadata::is_hopeless;
use super::partition::PartitionState;
use super::partitioner::Sticky;
use super::pending::Pending;
use super::report::FatalError;
use crate::debug::DebugContext;
use crate::proto::metadata::MetadataResponse;
use crate::proto::{self, ApiKey};
use crate::time::Instant;

/// Per-topic producer state (indexed like the metadata's topics).
#[derive(Debug)]
pub(super) struct TopicState<T> {
    /// The partitions' send state, created once the partition count is known.
    pub(super) partitions: Vec<PartitionState<T>>,
    /// The partitioner for unkeyed records without an explicit partition.
    pub(super) sticky: Sticky,
    /// Records accepted before the partition count was known.
    pub(super) pending: Pending<T>,
}

impl<T> Default for TopicState<T> {
    fn default() -> Self {
        TopicState { partitions: Vec::new(), sticky: Sticky::default(), pending: Pending::default() }
    }
}

impl<T> MarksTable for [TopicState<T>] {
    fn marks(&mut self, key: PartKey) -> Option<&mut Marks> {
        self.get_mut(key.t())?.partitions.get_mut(key.p()).map(|p| &mut p.marks)
    }
}

impl<T> TopicState<T> {
    /// Creates the partitions up to `count`, each starting at sequence `first_sequence`. (On
    /// every `send`: inlined, it costs a compare.)
    #[inline]
    pub(super) fn grow_to(&mut self, count: usize, first_sequence: i32) {
        while self.partitions.len() < count {
            let mut part = PartitionState::new(self.partitions.len() as i32);
            part.next_sequence = first_sequence;
            self.partitions.push(part);
        }
    }
}

impl<T> Producer<T> {
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
        let timeout = self.config.request_timeout;
        let req = self.metadata.request();
        match self.conns.request(conn, version, &req, RequestKind::Metadata, now, timeout) {
            Ok(data) => self.transmit(conn, data),
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
        // Only when `metadata` diagnostics are on: the leaders before, to name what changed.
        let before: Option<Vec<Vec<i32>>> = self
            .debugging(DebugContext::Metadata)
            .then(|| self.metadata.topics.iter().map(|m| m.leaders.clone()).collect());
        self.metadata.on_response(&r, now, at);
        if let Some(before) = before {
            self.describe_metadata_changes(&before);
        }
        // Leaders may have moved: the next pass looks at every partition.
        self.agenda.list_all();
        let counts: Vec<Option<u32>> = self.metadata.topics.iter().map(|m| m.partition_count()).collect();
        let first_sequence = self.first_sequence;
        for (ts, count) in self.topics.iter_mut().zip(counts) {
            if let Some(count) = count {
                ts.grow_to(count as usize, first_sequence);
            }
        }
        true
    }

    /// `metadata` diagnostics: partition counts learned, leaders changed (from `before`, the
    /// leaders per topic before the answer), topic errors.
    fn describe_metadata_changes(&mut self, before: &[Vec<i32>]) {
        let mut kinds = Vec::new();
        for (t, meta) in self.metadata.topics.iter().enumerate() {
            let old = before.get(t).map_or(&[][..], Vec::as_slice);
            if let Some(error) = meta.error {
                let hopeless = is_hopeless(error);
                kinds.push(DiagnosticKind::TopicError { topic: meta.name.clone(), error, hopeless });
            }
            if meta.leaders.len() > old.len() {
                kinds.push(DiagnosticKind::PartitionCount {
                    topic: meta.name.clone(),
                    partitions: meta.leaders.len() as u32,
                });
            }
            for (p, &leader) in meta.leaders.iter().enumerate() {
                let was = old.get(p).copied().unwrap_or(-1);
                if leader != was {
                    kinds.push(DiagnosticKind::LeaderChanged {
                        topic: meta.name.clone(),
                        partition: p as i32,
                        from: (was >= 0).then_some(was),
                        to: (leader >= 0).then_some(leader),
                    });
                }
            }
        }
        for kind in kinds {
            self.diagnose(kind);
        }
    }
}
