//! A group's committed offsets: per (topic, partition), bounded, in key order.

use super::api::{CommitPartition, FetchedOffset};
use crate::proto::ErrorCode;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

/// One committed offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CommittedOffset {
    /// The offset.
    pub(crate) offset: i64,
    /// The leader epoch (-1 unknown).
    pub(crate) leader_epoch: i32,
    /// The client's metadata.
    pub(crate) metadata: String,
}

/// The offsets a group committed, keyed by topic then partition.
#[derive(Clone, Debug, Default)]
pub(crate) struct CommittedOffsets {
    topics: BTreeMap<String, BTreeMap<i32, CommittedOffset>>,
    count: usize,
}

impl CommittedOffsets {
    /// Whether nothing was committed.
    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Stores one partition's offset: OFFSET_METADATA_TOO_LARGE if its metadata is longer than
    /// `max_metadata` bytes, INVALID_COMMIT_OFFSET_SIZE if it is a new partition and `max_count`
    /// are already stored.
    pub(crate) fn commit(
        &mut self,
        topic: &str,
        p: &CommitPartition,
        max_metadata: usize,
        max_count: usize,
    ) -> ErrorCode {
        let metadata = p.metadata.clone().unwrap_or_default();
        if metadata.len() > max_metadata {
            return ErrorCode::OFFSET_METADATA_TOO_LARGE;
        }
        let value = CommittedOffset { offset: p.offset, leader_epoch: p.leader_epoch, metadata };
        if let Some(slot) = self.topics.get_mut(topic).and_then(|t| t.get_mut(&p.partition)) {
            *slot = value;
            return ErrorCode::NONE;
        }
        if self.count >= max_count {
            return ErrorCode::INVALID_COMMIT_OFFSET_SIZE;
        }
        self.topics.entry(String::from(topic)).or_default().insert(p.partition, value);
        self.count += 1;
        ErrorCode::NONE
    }

    /// The committed offset of one partition.
    pub(crate) fn get(&self, topic: &str, partition: i32) -> Option<&CommittedOffset> {
        self.topics.get(topic).and_then(|t| t.get(&partition))
    }

    /// OffsetFetch: the `listed` partitions (-1 where nothing is committed), or every committed
    /// partition when `listed` is `None`, in request order or key order.
    pub(crate) fn fetch(&self, listed: Option<&[(String, Vec<i32>)]>) -> Vec<(String, Vec<FetchedOffset>)> {
        let fetched = |partition: i32, c: Option<&CommittedOffset>| FetchedOffset {
            partition,
            offset: c.map_or(-1, |c| c.offset),
            leader_epoch: c.map_or(-1, |c| c.leader_epoch),
            metadata: c.map(|c| c.metadata.clone()).unwrap_or_default(),
            error: ErrorCode::NONE,
        };
        match listed {
            Some(topics) => topics
                .iter()
                .map(|(t, ps)| (t.clone(), ps.iter().map(|&p| fetched(p, self.get(t, p))).collect()))
                .collect(),
            None => self
                .topics
                .iter()
                .map(|(t, ps)| (t.clone(), ps.iter().map(|(&p, c)| fetched(p, Some(c))).collect()))
                .collect(),
        }
    }
}
