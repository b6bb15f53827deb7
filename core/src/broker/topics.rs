//! The cluster's topics and partitions: one log and one producer-state table per partition,
//! and which broker leads it.

use super::log::PartitionLog;
use super::txn::partition::PartitionTxns;
use super::validator::{ProducerStateTable, ValidatorConfig};
use crate::proto::ErrorCode;
use alloc::vec::Vec;

/// One partition: its log, its producer state, and its leadership.
#[derive(Clone, Debug)]
pub(crate) struct Partition {
    /// The broker that leads the partition, or -1 when no broker is up.
    pub(crate) leader: i32,
    /// Incremented on every leadership change.
    pub(crate) leader_epoch: i32,
    /// The records.
    pub(crate) log: PartitionLog,
    /// The sequence validator's state for this partition.
    pub(crate) producers: ProducerStateTable,
    /// Errors injected by the `error_before` fault on this partition, with how often each was
    /// answered (checkers tell a real sequence error from an injected one with it).
    pub(crate) injected_before: Vec<(ErrorCode, u64)>,
    /// The transactions writing to it: the last stable offset and the aborted transactions.
    pub(crate) txns: PartitionTxns,
}

impl Partition {
    /// Counts one injected `error_before` answer.
    pub(crate) fn count_injected(&mut self, code: ErrorCode) {
        match self.injected_before.iter_mut().find(|(c, _)| *c == code) {
            Some((_, n)) => *n += 1,
            None => self.injected_before.push((code, 1)),
        }
    }
}

/// One topic.
#[derive(Clone, Debug)]
pub(crate) struct Topic {
    /// The topic id (Metadata v10+), unique in the cluster, never all zero.
    pub(crate) id: [u8; 16],
    /// Partitions by index.
    pub(crate) partitions: Vec<Partition>,
}

impl Topic {
    /// A topic of `count` empty partitions whose leaders are assigned round-robin over `live`
    /// (broker ids), starting at `first`.
    pub(crate) fn new(
        ordinal: u64,
        count: i32,
        live: &[i32],
        first: usize,
        log_max_bytes: usize,
        validator: ValidatorConfig,
    ) -> Topic {
        let mut id = [0u8; 16];
        id[0] = 0x1d;
        id[8..16].copy_from_slice(&(ordinal + 1).to_be_bytes());
        let partitions = (0..count.max(0) as usize)
            .map(|p| Partition {
                leader: pick(live, first + p),
                leader_epoch: 0,
                log: PartitionLog::new(log_max_bytes),
                producers: ProducerStateTable::new(validator),
                injected_before: Vec::new(),
                txns: PartitionTxns::default(),
            })
            .collect();
        Topic { id, partitions }
    }

    /// The partition at `index`, if it exists.
    pub(crate) fn partition(&self, index: i32) -> Option<&Partition> {
        usize::try_from(index).ok().and_then(|i| self.partitions.get(i))
    }

    /// The partition at `index`, mutably.
    pub(crate) fn partition_mut(&mut self, index: i32) -> Option<&mut Partition> {
        usize::try_from(index).ok().and_then(|i| self.partitions.get_mut(i))
    }
}

/// `live[i % len]`, or -1 when nothing is live.
pub(crate) fn pick(live: &[i32], i: usize) -> i32 {
    if live.is_empty() { -1 } else { live.get(i % live.len()).copied().unwrap_or(-1) }
}
