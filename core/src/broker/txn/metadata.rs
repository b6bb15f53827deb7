//! One transactional id's state (Kafka's `TransactionMetadata`): its producer id and epoch,
//! the transaction's state, partitions, groups and pending offsets.

use crate::broker::group::CommitPartition;
use crate::proto::ErrorCode;
use crate::proto::init_producer_id::LAST_EPOCH;
use crate::time::{Duration, Instant};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;

/// A transaction's state (Kafka's `TransactionState`: no `PrepareEpochFence` of its own, the
/// fencing epoch bump is part of the abort here).
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

/// What InitProducerId does to the producer id and epoch of a transactional id without a
/// transaction in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NextProducer {
    /// The epoch goes up by one (Kafka's `prepareIncrementProducerEpoch`).
    Bump,
    /// The epoch is exhausted: this new producer id, at epoch 0 (Kafka's
    /// `prepareProducerIdRotation`).
    Fresh(i64),
    /// A retry of a bump whose answer was lost: the current id and epoch stay (Kafka's
    /// `prepareIncrementProducerEpoch` when the expected epoch is `lastProducerEpoch`).
    Same,
}

/// Kafka's `TransactionMetadata.isEpochExhausted`: `epoch` leaves no epoch to bump to but the
/// one kept free for a fencing bump.
fn is_exhausted(epoch: i16) -> bool {
    epoch >= LAST_EPOCH - 1
}

/// A partition of a transaction: topic and index.
pub(crate) type TopicPartition = (String, i32);

/// One transactional id.
#[derive(Clone, Debug)]
pub(crate) struct TxnMetadata {
    /// The current producer id.
    pub(crate) producer_id: i64,
    /// The current epoch: requests naming another one are fenced.
    pub(crate) producer_epoch: i16,
    /// The producer id before the last InitProducerId (Kafka's `previousProducerId`): the same
    /// id after an epoch bump, the exhausted one after a new id was given.
    pub(crate) previous_producer_id: i64,
    /// The epoch a KIP-360 InitProducerId (naming its producer id and epoch) bumped from
    /// (Kafka's `lastProducerEpoch`): a retry naming it again, its answer lost, gets the
    /// current id and epoch again. `None` (Kafka's NO_PRODUCER_EPOCH) after an InitProducerId
    /// without id and epoch (a new producer) and after a fencing bump, which end any retry.
    pub(crate) last_producer_epoch: Option<i16>,
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
    /// Whether the last end of a transaction bumped the epoch (EndTxn v5+, transactions v2 of
    /// KIP-890; Kafka's `clientTransactionVersion.supportsEpochBump` on the metadata): a retry
    /// of that EndTxn names the epoch before the bump.
    pub(crate) end_bumped_epoch: bool,
    /// The producer id the transaction continues with once its markers are written, when the
    /// bump of a transactions v2 end exhausted the epoch (Kafka's `nextProducerId`).
    pub(crate) next_producer_id: Option<i64>,
    /// When the transactional id is forgotten if it stays without a transaction in flight
    /// (set by the coordinator on entering Empty or Complete*, `transactional.id.expiration.ms`
    /// later).
    pub(crate) expires_at: Option<Instant>,
}

impl TxnMetadata {
    /// A new transactional id with a fresh producer id, epoch 0, Empty.
    pub(crate) fn new(producer_id: i64, timeout: Duration) -> Self {
        TxnMetadata {
            producer_id,
            producer_epoch: 0,
            previous_producer_id: producer_id,
            last_producer_epoch: None,
            timeout,
            state: TxnState::Empty,
            partitions: BTreeSet::new(),
            groups: BTreeSet::new(),
            pending_offsets: BTreeMap::new(),
            started: None,
            markers_at: None,
            end_bumped_epoch: false,
            next_producer_id: None,
            expires_at: None,
        }
    }

    /// Kafka's `isProducerEpochExhausted`: the next InitProducerId gives a new producer id
    /// (one epoch stays free for the fencing bump of a timeout abort).
    pub(crate) fn is_epoch_exhausted(&self) -> bool {
        is_exhausted(self.producer_epoch)
    }

    /// Kafka's `isValidProducerId`, the first check of a KIP-360 InitProducerId naming
    /// `producer_id` at `producer_epoch`: the current producer id, or the previous one with an
    /// exhausted epoch (a retry of the InitProducerId that gave the current id). The epoch is
    /// checked later, and only without a transaction in flight.
    pub(crate) fn is_valid_producer_id(&self, producer_id: i64, producer_epoch: i16) -> bool {
        producer_id == self.producer_id || (producer_id == self.previous_producer_id && is_exhausted(producer_epoch))
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
    /// then `PrepareAbort`): the old producer is fenced and the markers carry the new epoch;
    /// no InitProducerId is a retry any more (Kafka's `endTransaction` sets `lastProducerEpoch`
    /// to NO_PRODUCER_EPOCH on an epoch fence).
    pub(crate) fn fence_and_abort(&mut self, markers_at: Instant) {
        self.producer_epoch = self.producer_epoch.saturating_add(1);
        self.last_producer_epoch = None;
        self.end_bumped_epoch = false;
        self.next_producer_id = None;
        self.prepare(false, markers_at);
    }

    /// Ends the ongoing transaction as EndTxn v5+ does (transactions v2, Kafka's
    /// `prepareAbortOrCommit` with a `TransactionVersion` that `supportsEpochBump`): the epoch
    /// goes up by one (the markers carry it, fencing every batch of the epoch before), the epoch
    /// before is remembered for a retry, and `next_producer_id` (given when the epoch was
    /// exhausted) takes over once the markers are written.
    pub(crate) fn prepare_with_bump(&mut self, commit: bool, markers_at: Instant, next_producer_id: Option<i64>) {
        self.last_producer_epoch = Some(self.producer_epoch);
        self.producer_epoch = self.producer_epoch.saturating_add(1);
        self.end_bumped_epoch = true;
        self.next_producer_id = next_producer_id;
        self.prepare(commit, markers_at);
    }

    /// The producer id and epoch a transactions v2 end answers: those after the markers (the
    /// next producer id at epoch 0 when the epoch was exhausted).
    pub(crate) fn after_end(&self) -> (i64, i16) {
        match (self.state.is_preparing(), self.next_producer_id) {
            (true, Some(next)) => (next, 0),
            _ => (self.producer_id, self.producer_epoch),
        }
    }

    /// Whether an EndTxn naming `producer_id` at `producer_epoch`, in a Prepare or Complete
    /// state, is a retry of the transactions v2 end that bumped the epoch (Kafka's `endTxnEpochBumped`), or of one that also moved to
    /// a new producer id (Kafka's `retryOnOverflow`: the id before, its exhausted epoch, the new
    /// id at epoch 0).
    pub(crate) fn is_retry_of_bumped_end(&self, producer_id: i64, producer_epoch: i16) -> bool {
        // Kafka's `isValidEpoch`: in Ongoing or Empty only the current epoch is valid, a retry
        // exists only while the bumped end is being completed or after it.
        if !self.end_bumped_epoch || matches!(self.state, TxnState::Ongoing | TxnState::Empty) {
            return false;
        }
        let bumped = producer_id == self.producer_id && producer_epoch.checked_add(1) == Some(self.producer_epoch);
        let rotated = matches!(self.state, TxnState::CompleteCommit | TxnState::CompleteAbort)
            && producer_id == self.previous_producer_id
            && self.producer_epoch == 0
            && is_exhausted(producer_epoch)
            && producer_epoch.checked_add(1) == self.last_producer_epoch;
        bumped || rotated
    }

    /// The markers are written: Complete`Commit`/`Abort`, the transaction's contents cleared;
    /// after a transactions v2 end that exhausted the epoch the next producer id takes over at
    /// epoch 0 (Kafka's `prepareComplete`: the id before becomes the previous one, the epoch the
    /// markers carried the last one).
    pub(crate) fn complete(&mut self) {
        self.state = match self.state {
            TxnState::PrepareCommit => TxnState::CompleteCommit,
            _ => TxnState::CompleteAbort,
        };
        if let Some(next) = self.next_producer_id.take() {
            self.previous_producer_id = self.producer_id;
            self.last_producer_epoch = Some(self.producer_epoch);
            self.producer_id = next;
            self.producer_epoch = 0;
        }
        self.partitions.clear();
        self.groups.clear();
        self.pending_offsets.clear();
        self.started = None;
        self.markers_at = None;
    }

    /// InitProducerId without a transaction in flight (Empty or Complete*), `expected` the
    /// epoch a KIP-360 request names (its producer id passed
    /// [`is_valid_producer_id`](Self::is_valid_producer_id)); Empty with `timeout` after it.
    /// Kafka's `prepareInitProducerIdTransit`: an exhausted epoch, if it is the one named, gives
    /// a new producer id from `fresh_id` (`prepareProducerIdRotation`); else
    /// `prepareIncrementProducerEpoch`: no epoch named or the current one bumps it, the epoch
    /// the last bump came from (a retry, that bump's answer lost) leaves the current id and
    /// epoch, any other epoch is `fenced` (and changes nothing).
    pub(crate) fn init_session(
        &mut self,
        timeout: Duration,
        expected: Option<i16>,
        fenced: ErrorCode,
        fresh_id: &mut dyn FnMut() -> Option<i64>,
    ) -> Result<(), ErrorCode> {
        let (next, last_epoch) = if self.is_epoch_exhausted() && expected.is_none_or(|e| e == self.producer_epoch) {
            // The exhausted epoch is the last one when the request named it.
            (NextProducer::Fresh(fresh_id().ok_or(ErrorCode::UNKNOWN_SERVER_ERROR)?), expected)
        } else {
            // Kafka throws here for a retry after a bump to the last usable epoch (it checks
            // exhaustion before the retry); here that retry is answered like any other.
            match expected {
                None => (NextProducer::Bump, None),
                Some(e) if e == self.producer_epoch => (NextProducer::Bump, Some(e)),
                Some(e) if Some(e) == self.last_producer_epoch => (NextProducer::Same, Some(e)),
                Some(_) => return Err(fenced),
            }
        };
        self.new_session(timeout, next, last_epoch);
        Ok(())
    }

    /// A new producer session (InitProducerId in Empty or Complete*), Empty with `timeout`:
    /// `next` says what becomes of the producer id and epoch, `last_epoch` is the new
    /// [`last_producer_epoch`](Self::last_producer_epoch), and the id before becomes the
    /// previous one (Kafka's `prepareTransitionTo` to Empty records `prevProducerId` = the
    /// current id, whatever the transition).
    fn new_session(&mut self, timeout: Duration, next: NextProducer, last_epoch: Option<i16>) {
        self.previous_producer_id = self.producer_id;
        match next {
            NextProducer::Fresh(id) => {
                self.producer_id = id;
                self.producer_epoch = 0;
            }
            NextProducer::Bump => self.producer_epoch = self.producer_epoch.saturating_add(1),
            NextProducer::Same => {}
        }
        self.last_producer_epoch = last_epoch;
        self.end_bumped_epoch = false;
        self.next_producer_id = None;
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
            TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort => self.expires_at,
        }
    }
}
