//! One partition's view of the transactions writing to it (the transactional half of Kafka's
//! `ProducerStateManager`): the first offset of each producer's ongoing transaction, which
//! bounds the last stable offset (LSO), and the aborted transactions index that a
//! `read_committed` Fetch returns (Kafka's `TransactionIndex`).

use crate::proto::fetch::AbortedTransaction;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

/// Aborted transactions kept per partition (beyond, the oldest are forgotten; retention forgets
/// those wholly below the log start anyway).
const MAX_ABORTED: usize = 100_000;

/// An aborted transaction of this partition: its producer, first offset and the offset of its
/// ABORT marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Aborted {
    producer_id: i64,
    first_offset: i64,
    last_offset: i64,
}

/// The ongoing and aborted transactions of one partition.
#[derive(Clone, Debug, Default)]
pub(crate) struct PartitionTxns {
    /// Producer id -> first offset of its ongoing transaction here.
    ongoing: BTreeMap<i64, i64>,
    /// In marker order.
    aborted: VecDeque<Aborted>,
}

impl PartitionTxns {
    /// A transactional batch of `producer_id` was appended at `base_offset` (the transaction's
    /// first offset here if it is its first batch).
    pub(crate) fn on_append(&mut self, producer_id: i64, base_offset: i64) {
        self.ongoing.entry(producer_id).or_insert(base_offset);
    }

    /// The marker of `producer_id`'s transaction was appended at `marker_offset`: the
    /// transaction is no longer ongoing; an aborted one that wrote data here is indexed.
    pub(crate) fn on_marker(&mut self, producer_id: i64, marker_offset: i64, aborted: bool, log_start: i64) {
        let Some(first_offset) = self.ongoing.remove(&producer_id) else { return };
        if aborted {
            self.aborted.push_back(Aborted { producer_id, first_offset, last_offset: marker_offset });
        }
        while self.aborted.len() > MAX_ABORTED || self.aborted.front().is_some_and(|a| a.last_offset < log_start) {
            self.aborted.pop_front();
        }
    }

    /// The last stable offset: the first offset of the earliest ongoing transaction, else the
    /// log end offset.
    pub(crate) fn last_stable_offset(&self, log_end_offset: i64) -> i64 {
        self.ongoing.values().copied().min().map_or(log_end_offset, |first| first.min(log_end_offset))
    }

    /// The aborted transactions a `read_committed` fetch of offsets `from..to` must know about
    /// (Kafka's `collectAbortedTxns`: those ending at or after `from` and starting before `to`),
    /// by first offset.
    pub(crate) fn aborted_between(&self, from: i64, to: i64) -> Vec<AbortedTransaction> {
        let mut found: Vec<AbortedTransaction> = self
            .aborted
            .iter()
            .filter(|a| a.last_offset >= from && a.first_offset < to)
            .map(|a| AbortedTransaction { producer_id: a.producer_id, first_offset: a.first_offset })
            .collect();
        found.sort_unstable_by_key(|a| (a.first_offset, a.producer_id));
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lso_and_aborted_index() {
        let mut p = PartitionTxns::default();
        assert_eq!(p.last_stable_offset(5), 5);
        p.on_append(7, 5);
        p.on_append(7, 6);
        p.on_append(8, 9);
        assert_eq!(p.last_stable_offset(10), 5);
        p.on_marker(7, 10, true, 0);
        assert_eq!(p.last_stable_offset(11), 9);
        p.on_marker(8, 11, false, 0);
        assert_eq!(p.last_stable_offset(12), 12);
        // A marker for a producer without data here indexes nothing.
        p.on_marker(9, 12, true, 0);
        assert_eq!(p.aborted_between(0, 13), alloc::vec![AbortedTransaction { producer_id: 7, first_offset: 5 }]);
        assert_eq!(p.aborted_between(11, 13), Vec::new());
        assert_eq!(p.aborted_between(0, 5), Vec::new());
        assert_eq!(p.aborted_between(10, 11).len(), 1);
        // Retention forgets aborted transactions wholly below the log start.
        p.on_append(7, 13);
        p.on_marker(7, 14, true, 11);
        assert_eq!(p.aborted_between(0, 20), alloc::vec![AbortedTransaction { producer_id: 7, first_offset: 13 }]);
    }
}
