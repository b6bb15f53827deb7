//! One transactional id's state (Kafka's `TransactionMetadata`): its producer id and epoch,
//! the transaction's state, partitions, groups and pending offsets.

use crate::broker::group::CommitPartition;
use crate::proto::ErrorCode;
use crate::proto::init_producer_id::LAST_EPOCH;
use crate::time::{Duration, Instant};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;

/// A transaction's state (Kafka's `TransactionState`, transactions v1: no `PrepareEpochFence`
/// of its own, the fencing epoch bump is part of the abort here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TxnState {
    /// No transaction (after InitProducerId).
    Empty,
    /// Partitions or offsets added, not ended.
    Ongoing,
    /// EndTxn(commit) accepted; the COMMIT markers are being written.
    PrepareCommit,
    /// EndTxn(abort), a timeout or a new InitProducerId; the ABORT markers are being written.
    PrepareAbort,
    /// The markers of a commit are written.
    CompleteCommit,
    /// The markers of an abort are written.
    CompleteAbort,
}

impl TxnState {
    /// Whether markers are being written (every other request waits: CONCURRENT_TRANSACTIONS).
    pub(crate) fn is_preparing(self) -> bool {
        matches!(self, TxnState::PrepareCommit | TxnState::PrepareAbort)
    }
}

/// A partition of a transaction: topic and index.
pub(crate) type TopicPartition = (String, i32);

/// One transactional id.
#[derive(Clone, Debug)]
pub(crate) struct TxnMetadata {
    pub(crate) producer_id: i64,
    pub(crate) producer_epoch: i16,
    /// `transaction.timeout.ms` of the last InitProducerId.
    pub(crate) timeout: Duration,
    pub(crate) state: TxnState,
    /// The partitions added to the ongoing transaction.
    pub(crate) partitions: BTreeSet<TopicPartition>,
    /// The groups added by AddOffsetsToTxn.
    pub(crate) groups: BTreeSet<String>,
    /// Offsets of TxnOffsetCommit, by (group, topic, partition), committed with the transaction.
    pub(crate) pending_offsets: BTreeMap<(String, String, i32), CommitPartition>,
    /// When the ongoing transaction began (its first AddPartitionsToTxn or AddOffsetsToTxn).
    pub(crate) started: Option<Instant>,
    /// When the markers of a Prepare state are written.
    pub(crate) markers_at: Option<Instant>,
}

impl TxnMetadata {
    /// A new transactional id with a fresh producer id, epoch 0, Empty.
    pub(crate) fn new(producer_id: i64, timeout: Duration) -> Self {
        TxnMetadata {
            producer_id,
            producer_epoch: 0,
            timeout,
            state: TxnState::Empty,
            partitions: BTreeSet::new(),
            groups: BTreeSet::new(),
            pending_offsets: BTreeMap::new(),
            started: None,
            markers_at: None,
        }
    }

    /// Kafka's `isProducerEpochExhausted`: the next InitProducerId gives a new producer id
    /// (one epoch stays free for the fencing bump of a timeout abort).
    pub(crate) fn is_epoch_exhausted(&self) -> bool {
        self.producer_epoch >= LAST_EPOCH - 1
    }

    /// Checks a request's producer id and epoch against the current ones: the id unknown to
    /// this transactional id is INVALID_PRODUCER_ID_MAPPING, another epoch is `fenced`
    /// (PRODUCER_FENCED or INVALID_PRODUCER_EPOCH, by the request's version).
    pub(crate) fn check_producer(&self, producer_id: i64, producer_epoch: i16, fenced: ErrorCode) -> ErrorCode {
        if producer_id != self.producer_id {
            ErrorCode::INVALID_PRODUCER_ID_MAPPING
        } else if producer_epoch != self.producer_epoch {
            fenced
        } else {
            ErrorCode::NONE
        }
    }

    /// Whether the transactional id may be forgotten to make room (no transaction in flight).
    pub(crate) fn is_disposable(&self) -> bool {
        matches!(self.state, TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort)
    }

    /// Joins (or begins) the transaction: Ongoing, started now if it was not.
    pub(crate) fn begin(&mut self, now: Instant) {
        if self.state != TxnState::Ongoing {
            self.state = TxnState::Ongoing;
            self.started = Some(now);
        }
    }

    /// Ends the ongoing transaction: Prepare`Commit`/`Abort`, the markers due at `markers_at`.
    pub(crate) fn prepare(&mut self, commit: bool, markers_at: Instant) {
        self.state = if commit { TxnState::PrepareCommit } else { TxnState::PrepareAbort };
        self.markers_at = Some(markers_at);
    }

    /// Aborts the ongoing transaction with the epoch bumped (Kafka's `prepareFenceProducerEpoch`
    /// then `PrepareAbort`): the old producer is fenced and the markers carry the new epoch.
    pub(crate) fn fence_and_abort(&mut self, markers_at: Instant) {
        self.producer_epoch = self.producer_epoch.saturating_add(1);
        self.prepare(false, markers_at);
    }

    /// The markers are written: Complete`Commit`/`Abort`, the transaction's contents cleared.
    pub(crate) fn complete(&mut self) {
        self.state = match self.state {
            TxnState::PrepareCommit => TxnState::CompleteCommit,
            _ => TxnState::CompleteAbort,
        };
        self.partitions.clear();
        self.groups.clear();
        self.pending_offsets.clear();
        self.started = None;
        self.markers_at = None;
    }

    /// A new producer session (InitProducerId in Empty or Complete*): epoch + 1, or a new
    /// producer id at epoch 0 when the epoch is exhausted; Empty.
    pub(crate) fn new_session(&mut self, timeout: Duration, fresh_id: Option<i64>) {
        match fresh_id {
            Some(id) => {
                self.producer_id = id;
                self.producer_epoch = 0;
            }
            None => self.producer_epoch = self.producer_epoch.saturating_add(1),
        }
        self.timeout = timeout;
        self.state = TxnState::Empty;
        self.partitions.clear();
        self.groups.clear();
        self.pending_offsets.clear();
        self.started = None;
        self.markers_at = None;
    }

    /// When this transaction's next timer fires: its markers, or its timeout while Ongoing.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        match self.state {
            TxnState::Ongoing => self.started.map(|s| s + self.timeout),
            TxnState::PrepareCommit | TxnState::PrepareAbort => self.markers_at,
            _ => None,
        }
    }
}
