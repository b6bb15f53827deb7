//! The transaction coordinator as a sans-IO state machine (Kafka's `TransactionCoordinator`
//! and `TransactionStateManager`, transactions v1 of KIP-98 and, by request version, v2 of
//! KIP-890: EndTxn v5+ bumps the epoch at every end, Produce v12+ and TxnOffsetCommit v5+ add
//! to the transaction themselves, see `handlers/txn.rs`): every transactional id's
//! producer id and epoch, its transaction's state, partitions, groups and pending offsets; and
//! each partition's view of the transactions writing to it (`partition.rs`, Kafka's
//! `ProducerStateManager`: the last stable offset and the aborted transactions).
//!
//! ```text
//! Empty --AddPartitions/AddOffsets--> Ongoing --EndTxn(commit)--> PrepareCommit --markers--> CompleteCommit
//!                                        |  --EndTxn(abort), timeout, InitProducerId--> PrepareAbort --markers--> CompleteAbort
//! Complete* --AddPartitions/AddOffsets--> Ongoing;  Empty / Complete* --InitProducerId--> Empty (epoch + 1)
//! ```
//!
//! The markers of a Prepare state are written `TxnConfig::marker_delay` later (Kafka's
//! `TransactionMarkerChannelManager` sends them after the Prepare state is logged); meanwhile
//! every request of that transactional id is answered CONCURRENT_TRANSACTIONS, and the caller
//! takes the due [`Markers`] out of [`TxnCoordinator::on_timeout`] and writes them. State is
//! held once for the cluster (as if `__transaction_state` were perfectly replicated), so broker
//! restarts keep it; which broker answers for a transactional id is the groups' placement.

mod metadata;
pub(crate) mod partition;

pub(crate) use metadata::{TopicPartition, TxnState};

use crate::broker::deadlines::DeadlineIndex;
use crate::broker::group::CommitPartition;
use crate::proto::ErrorCode;
use crate::proto::record_batch::control::TransactionResult;
use crate::time::{Duration, Instant};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use metadata::TxnMetadata;

/// The coordinator's limits and timings (Kafka's `transaction.*` broker configs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TxnConfig {
    /// `transaction.max.timeout.ms` (Kafka: 15 min): a longer `transaction.timeout.ms` is
    /// INVALID_TRANSACTION_TIMEOUT.
    pub(crate) max_timeout: Duration,
    /// Transactional ids kept; at the limit one without a transaction in flight makes room,
    /// else a new one is refused with COORDINATOR_NOT_AVAILABLE.
    pub(crate) max_transactional_ids: usize,
    /// Partitions (and groups) per transaction; beyond, AddPartitionsToTxn / AddOffsetsToTxn
    /// answer INVALID_REQUEST.
    pub(crate) max_partitions: usize,
    /// Pending offsets per transaction; beyond, TxnOffsetCommit answers
    /// INVALID_COMMIT_OFFSET_SIZE.
    pub(crate) max_pending_offsets: usize,
    /// How long after EndTxn (or an abort) the markers are written.
    pub(crate) marker_delay: Duration,
    /// `transactional.id.expiration.ms` (Kafka: 7 days): a transactional id without a
    /// transaction in flight (Empty, Complete*) that long is forgotten (Kafka's
    /// `removeExpiredTransactionalIds`); its producer's next request is answered
    /// INVALID_PRODUCER_ID_MAPPING and its next InitProducerId gets a fresh producer id.
    pub(crate) transactional_id_expiration: Duration,
}

impl Default for TxnConfig {
    fn default() -> Self {
        TxnConfig {
            max_timeout: Duration::from_secs(15 * 60),
            max_transactional_ids: 10_000,
            max_partitions: 10_000,
            max_pending_offsets: 10_000,
            marker_delay: Duration::from_millis(5),
            transactional_id_expiration: Duration::from_secs(7 * 24 * 60 * 60),
        }
    }
}

/// The markers a finished transaction writes: one control batch per partition, and (on
/// commit) the offsets it commits to the groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Markers {
    /// The producer id of the control batches.
    pub(crate) producer_id: i64,
    /// Their epoch (after a fencing bump, the new one).
    pub(crate) producer_epoch: i16,
    /// COMMIT or ABORT.
    pub(crate) result: TransactionResult,
    /// The partitions of the transaction.
    pub(crate) partitions: Vec<TopicPartition>,
    /// (group, topic, offset) to commit: empty on abort.
    pub(crate) offsets: Vec<(String, String, CommitPartition)>,
}

/// Who sends a transactional request: the transactional id, producer id and epoch it names,
/// and the error that fences it at the request's version (PRODUCER_FENCED or
/// INVALID_PRODUCER_EPOCH).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TxnCaller<'a> {
    /// The transactional id.
    pub(crate) transactional_id: &'a str,
    /// The producer id the request names.
    pub(crate) producer_id: i64,
    /// The epoch it names.
    pub(crate) producer_epoch: i16,
    /// The answer to an epoch other than the current one.
    pub(crate) fenced: ErrorCode,
}

/// The producer id and epoch granted by InitProducerId.
pub(crate) type Granted = (i64, i16);

/// Every transactional id of the cluster.
#[derive(Debug, Default)]
pub(crate) struct TxnCoordinator {
    config: TxnConfig,
    txns: BTreeMap<String, TxnMetadata>,
    /// Each transactional id's next timer ([`TxnMetadata::next_deadline`], kept by
    /// [`TxnCoordinator::reindex`] after every change to a transactional id), so that the timer
    /// pass and the next deadline read this instead of every transactional id.
    timers: DeadlineIndex<String>,
    /// The transactional id of each current producer id.
    by_producer: BTreeMap<i64, String>,
}

impl TxnCoordinator {
    /// A coordinator without transactional ids.
    pub(crate) fn new(config: TxnConfig) -> Self {
        TxnCoordinator { config, txns: BTreeMap::new(), timers: DeadlineIndex::default(), by_producer: BTreeMap::new() }
    }

    /// InitProducerId with a transactional id (Kafka's `handleInitProducerId`):
    /// INVALID_TRANSACTION_TIMEOUT outside 1..=`max_timeout`; a new id gets a producer id from
    /// `fresh_id` at epoch 0 (whatever `producer` it names); a known one in Empty or Complete* gets its epoch bumped (a new
    /// producer id when exhausted), which fences the previous producer; an Ongoing transaction
    /// is first aborted with the epoch bumped, and that, like a Prepare state, answers
    /// CONCURRENT_TRANSACTIONS (the producer retries). With `producer` (v3+, KIP-360): another
    /// producer id is `fenced` (but for a retry after a new id, see
    /// [`TxnMetadata::is_valid_producer_id`]); in Empty or Complete* the current epoch is
    /// bumped, the epoch the last such bump came from (its answer lost) gets the current id and
    /// epoch again, any other epoch is `fenced`.
    pub(crate) fn init_producer_id(
        &mut self,
        now: Instant,
        transactional_id: &str,
        timeout_ms: i32,
        producer: Option<Granted>,
        fenced: ErrorCode,
        fresh_id: &mut dyn FnMut() -> Option<i64>,
    ) -> Result<Granted, ErrorCode> {
        self.reindexed(transactional_id, |c| {
            c.on_timeout_of(transactional_id, now);
            let timeout = Duration::from_millis(u64::try_from(timeout_ms).unwrap_or(0));
            if timeout_ms <= 0 || timeout > c.config.max_timeout {
                return Err(ErrorCode::INVALID_TRANSACTION_TIMEOUT);
            }
            let marker_delay = c.config.marker_delay;
            let Some(t) = c.txns.get_mut(transactional_id) else {
                // With or without a producer id and epoch: Kafka's `isValidProducerId` accepts
                // any for metadata it has just created (a producer recovering from
                // UNKNOWN_PRODUCER_ID after its transactional id expired gets a fresh id).
                if !c.make_room() {
                    return Err(ErrorCode::COORDINATOR_NOT_AVAILABLE);
                }
                let id = fresh_id().ok_or(ErrorCode::UNKNOWN_SERVER_ERROR)?;
                let mut t = TxnMetadata::new(id, timeout);
                t.expires_at = Some(now + c.config.transactional_id_expiration);
                c.txns.insert(String::from(transactional_id), t);
                c.by_producer.insert(id, String::from(transactional_id));
                return Ok((id, 0));
            };
            // Kafka's `prepareInitProducerIdTransit`: the producer id first, then the state; the
            // epoch only matters in Empty or Complete* (an Ongoing transaction is aborted whatever
            // the epoch, as Kafka does).
            if producer.is_some_and(|(id, epoch)| !t.is_valid_producer_id(id, epoch)) {
                return Err(fenced);
            }
            match t.state {
                TxnState::PrepareCommit | TxnState::PrepareAbort => Err(ErrorCode::CONCURRENT_TRANSACTIONS),
                TxnState::Ongoing => {
                    t.fence_and_abort(now + marker_delay);
                    Err(ErrorCode::CONCURRENT_TRANSACTIONS)
                }
                TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort => {
                    let old = t.producer_id;
                    t.init_session(timeout, producer.map(|(_, epoch)| epoch), fenced, fresh_id)?;
                    t.expires_at = Some(now + c.config.transactional_id_expiration);
                    let granted = (t.producer_id, t.producer_epoch);
                    if granted.0 != old {
                        c.by_producer.remove(&old);
                        c.by_producer.insert(granted.0, String::from(transactional_id));
                    }
                    Ok(granted)
                }
            }
        })
    }

    /// Runs `f`, then puts `transactional_id`'s next timer in `timers` (what `f` changed of it).
    fn reindexed<R>(&mut self, transactional_id: &str, f: impl FnOnce(&mut Self) -> R) -> R {
        let r = f(self);
        self.reindex(transactional_id);
        r
    }

    /// Puts `transactional_id`'s next timer (none if it is gone) in `timers`: after every change
    /// to a [`TxnMetadata`]'s state, start, timeout or markers.
    fn reindex(&mut self, transactional_id: &str) {
        let next = self.txns.get(transactional_id).and_then(TxnMetadata::next_deadline);
        self.timers.set(transactional_id, next);
    }

    /// At the limit of transactional ids, forgets one without a transaction in flight; `false`
    /// if there is none.
    fn make_room(&mut self) -> bool {
        if self.txns.len() < self.config.max_transactional_ids {
            return true;
        }
        let Some(victim) = self.txns.iter().find(|(_, t)| t.is_disposable()).map(|(id, _)| id.clone()) else {
            return false;
        };
        if let Some(t) = self.txns.remove(&victim) {
            self.by_producer.remove(&t.producer_id);
        }
        self.reindex(&victim);
        true
    }

    /// The checks every transactional request after InitProducerId makes (Kafka's
    /// `handleAddPartitionsToTransaction` / `handleEndTransaction`): an unknown transactional id
    /// or another producer id is INVALID_PRODUCER_ID_MAPPING, another epoch `fenced`, a Prepare
    /// state CONCURRENT_TRANSACTIONS.
    fn checked(&mut self, now: Instant, who: &TxnCaller<'_>) -> Result<&mut TxnMetadata, ErrorCode> {
        self.on_timeout_of(who.transactional_id, now);
        let t = self.txns.get_mut(who.transactional_id).ok_or(ErrorCode::INVALID_PRODUCER_ID_MAPPING)?;
        let e = t.check_producer(who.producer_id, who.producer_epoch, who.fenced);
        if e != ErrorCode::NONE {
            return Err(e);
        }
        if t.state.is_preparing() {
            return Err(ErrorCode::CONCURRENT_TRANSACTIONS);
        }
        Ok(t)
    }

    /// After the checks, `add` puts something (partitions, a group) in the transaction, given
    /// `max_partitions`; the transaction begins if it had not and `add` answered NONE.
    fn add_to(
        &mut self,
        now: Instant,
        who: &TxnCaller<'_>,
        add: impl FnOnce(&mut TxnMetadata, usize) -> ErrorCode,
    ) -> ErrorCode {
        let max = self.config.max_partitions;
        self.reindexed(who.transactional_id, |c| match c.checked(now, who) {
            Err(e) => e,
            Ok(t) => {
                let e = add(t, max);
                if e == ErrorCode::NONE {
                    t.begin(now);
                }
                e
            }
        })
    }

    /// AddPartitionsToTxn: the partitions join the transaction (it begins if it had not);
    /// INVALID_REQUEST beyond `max_partitions`. The caller has checked that they exist.
    pub(crate) fn add_partitions(
        &mut self,
        now: Instant,
        who: &TxnCaller<'_>,
        partitions: &[TopicPartition],
    ) -> ErrorCode {
        self.add_to(now, who, |t, max| {
            let new = partitions.iter().filter(|p| !t.partitions.contains(*p)).count();
            if t.partitions.len() + new > max {
                return ErrorCode::INVALID_REQUEST;
            }
            t.partitions.extend(partitions.iter().cloned());
            ErrorCode::NONE
        })
    }

    /// AddOffsetsToTxn: the group joins the transaction (it begins if it had not);
    /// INVALID_REQUEST beyond `max_partitions` groups.
    pub(crate) fn add_offsets(&mut self, now: Instant, who: &TxnCaller<'_>, group_id: &str) -> ErrorCode {
        self.add_to(now, who, |t, max| {
            if !t.groups.contains(group_id) {
                if t.groups.len() >= max {
                    return ErrorCode::INVALID_REQUEST;
                }
                t.groups.insert(String::from(group_id));
            }
            ErrorCode::NONE
        })
    }

    /// EndTxn (Kafka's `handleEndTransaction`), by the request's version: transactions v1
    /// below v5, v2 from it (`bump_epoch`, see [`end_txn_v2`]). `Ok` carries the producer id
    /// and epoch to continue with (what EndTxn v5 answers).
    ///
    /// Transactions v1: Ongoing goes to Prepare`Commit`/`Abort`; a retry of a completed end
    /// answers NONE, the opposite end INVALID_TXN_STATE; a retry while preparing
    /// CONCURRENT_TRANSACTIONS; Empty INVALID_TXN_STATE. After a transactions v2 end the
    /// current epoch in a Prepare or Complete state is the next transaction's: fenced.
    pub(crate) fn end_txn(
        &mut self,
        now: Instant,
        who: &TxnCaller<'_>,
        commit: bool,
        bump_epoch: bool,
        fresh_id: &mut dyn FnMut() -> Option<i64>,
    ) -> Result<Granted, ErrorCode> {
        self.on_timeout_of(who.transactional_id, now);
        let at = now + self.config.marker_delay;
        let Some(t) = self.txns.get_mut(who.transactional_id) else {
            return Err(ErrorCode::INVALID_PRODUCER_ID_MAPPING);
        };
        if bump_epoch {
            let granted = end_txn_v2(t, who, commit, at, fresh_id)?;
            self.reindex(who.transactional_id);
            return Ok(granted);
        }
        let retry = t.is_retry_of_bumped_end(who.producer_id, who.producer_epoch);
        if !retry {
            let e = t.check_producer(who.producer_id, who.producer_epoch, who.fenced);
            if e != ErrorCode::NONE {
                return Err(e);
            }
            if t.end_bumped_epoch && !matches!(t.state, TxnState::Ongoing | TxnState::Empty) {
                return Err(who.fenced);
            }
        }
        match (t.state, commit) {
            (TxnState::Ongoing, _) => {
                t.end_bumped_epoch = false;
                t.prepare(commit, at);
                let granted = t.after_end();
                self.reindex(who.transactional_id);
                Ok(granted)
            }
            (TxnState::CompleteCommit, true) | (TxnState::CompleteAbort, false) => Ok(t.after_end()),
            (TxnState::PrepareCommit, true) | (TxnState::PrepareAbort, false) => {
                Err(ErrorCode::CONCURRENT_TRANSACTIONS)
            }
            _ => Err(ErrorCode::INVALID_TXN_STATE),
        }
    }

    /// TxnOffsetCommit: holds `offset` of `group_id`'s `topic` until the transaction ends
    /// (committed with it, dropped on abort). The transaction must be Ongoing with the group
    /// added (INVALID_TXN_STATE otherwise); INVALID_COMMIT_OFFSET_SIZE beyond
    /// `max_pending_offsets`.
    pub(crate) fn txn_offset_commit(
        &mut self,
        now: Instant,
        who: &TxnCaller<'_>,
        group_id: &str,
        topic: &str,
        offset: &CommitPartition,
    ) -> ErrorCode {
        let max = self.config.max_pending_offsets;
        let t = match self.checked(now, who) {
            Ok(t) => t,
            Err(e) => return e,
        };
        if t.state != TxnState::Ongoing || !t.groups.contains(group_id) {
            return ErrorCode::INVALID_TXN_STATE;
        }
        let key = (String::from(group_id), String::from(topic), offset.partition);
        if !t.pending_offsets.contains_key(&key) && t.pending_offsets.len() >= max {
            return ErrorCode::INVALID_COMMIT_OFFSET_SIZE;
        }
        t.pending_offsets.insert(key, offset.clone());
        ErrorCode::NONE
    }

    /// Whether a transactional batch of `producer_id` at `producer_epoch` may be appended to
    /// `partition`: NONE if its transaction is Ongoing with the partition added;
    /// INVALID_PRODUCER_EPOCH for an older (fenced) epoch; INVALID_TXN_STATE otherwise
    /// (KIP-890's verification answer, also for a producer id no transactional id owns).
    pub(crate) fn check_produce(&self, producer_id: i64, producer_epoch: i16, partition: &TopicPartition) -> ErrorCode {
        let Some(t) = self.by_producer.get(&producer_id).and_then(|id| self.txns.get(id)) else {
            return ErrorCode::INVALID_TXN_STATE;
        };
        if producer_epoch < t.producer_epoch {
            return ErrorCode::INVALID_PRODUCER_EPOCH;
        }
        if producer_epoch == t.producer_epoch && t.state == TxnState::Ongoing && t.partitions.contains(partition) {
            ErrorCode::NONE
        } else {
            ErrorCode::INVALID_TXN_STATE
        }
    }

    /// Whether some transaction holds a pending offset of `group_id` for the partition (OffsetFetch
    /// with `require_stable` answers UNSTABLE_OFFSET_COMMIT for it, KIP-447).
    pub(crate) fn has_pending_offset(&self, group_id: &str, topic: &str, partition: i32) -> bool {
        self.txns.values().any(|t| {
            t.groups.contains(group_id)
                && t.pending_offsets.contains_key(&(String::from(group_id), String::from(topic), partition))
        })
    }

    /// Runs `transactional_id`'s timers due at `now` (before one of its requests); markers it
    /// produces are picked up by the next [`on_timeout`](Self::on_timeout).
    fn on_timeout_of(&mut self, transactional_id: &str, now: Instant) {
        let marker_delay = self.config.marker_delay;
        if let Some(t) = self.txns.get_mut(transactional_id) {
            if t.state == TxnState::Ongoing && t.next_deadline().is_some_and(|d| d <= now) {
                t.fence_and_abort(now + marker_delay);
                self.reindex(transactional_id);
            }
        }
    }

    /// Runs every timer due at `now`: an Ongoing transaction past its timeout is aborted with
    /// the epoch bumped (Kafka's `abortTimedOutTransactions`); the markers that are due are
    /// returned (their transactions move to Complete*), for the caller to write.
    pub(crate) fn on_timeout(&mut self, now: Instant) -> Vec<Markers> {
        let marker_delay = self.config.marker_delay;
        let mut out = Vec::new();
        for id in self.timers.due(now) {
            let Some(t) = self.txns.get_mut(&id) else { continue };
            if t.is_disposable() {
                // Idle past `transactional.id.expiration.ms`: forgotten.
                let producer_id = t.producer_id;
                self.txns.remove(&id);
                self.by_producer.remove(&producer_id);
                self.reindex(&id);
                continue;
            }
            if t.state == TxnState::Ongoing {
                t.fence_and_abort(now + marker_delay);
                self.reindex(&id);
                continue;
            }
            let commit = t.state == TxnState::PrepareCommit;
            let offsets = if commit {
                core::mem::take(&mut t.pending_offsets)
                    .into_iter()
                    .map(|((group, topic, _), offset)| (group, topic, offset))
                    .collect()
            } else {
                Vec::new()
            };
            out.push(Markers {
                producer_id: t.producer_id,
                producer_epoch: t.producer_epoch,
                result: if commit { TransactionResult::Commit } else { TransactionResult::Abort },
                partitions: t.partitions.iter().cloned().collect(),
                offsets,
            });
            let before = t.producer_id;
            t.complete();
            t.expires_at = Some(now + self.config.transactional_id_expiration);
            let after = t.producer_id;
            if after != before {
                self.by_producer.remove(&before);
                self.by_producer.insert(after, id.clone());
            }
            self.reindex(&id);
        }
        out
    }

    /// Whether `transactional_id`'s coordinator is writing markers (every request of it would
    /// answer CONCURRENT_TRANSACTIONS).
    pub(crate) fn is_preparing(&self, transactional_id: &str) -> bool {
        self.txns.get(transactional_id).is_some_and(|t| t.state.is_preparing())
    }

    /// The earliest timer (a transaction's timeout or markers), if any.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        debug_assert!(
            self.timers.agrees_with(self.txns.iter().map(|(id, t)| (id, t.next_deadline()))),
            "the timer index is behind a transactional id's change"
        );
        self.timers.first()
    }

    /// EndTxn below v5 (transactions v1, no epoch bump), answering only the error code.
    #[cfg(test)]
    pub(crate) fn end_txn_v1(&mut self, now: Instant, who: &TxnCaller<'_>, commit: bool) -> ErrorCode {
        self.end_txn(now, who, commit, false, &mut || None).err().unwrap_or(ErrorCode::NONE)
    }

    /// The state of `transactional_id`'s transaction, `None` if unknown.
    #[cfg(test)]
    pub(crate) fn state(&self, transactional_id: &str) -> Option<TxnState> {
        self.txns.get(transactional_id).map(|t| t.state)
    }

    /// The current producer id and epoch of `transactional_id`.
    #[cfg(test)]
    pub(crate) fn producer(&self, transactional_id: &str) -> Option<Granted> {
        self.txns.get(transactional_id).map(|t| (t.producer_id, t.producer_epoch))
    }
}

/// EndTxn v5+ (transactions v2 of KIP-890, Kafka 4's `TransactionCoordinator.endTransaction`):
/// every end bumps the epoch (a new producer id from `fresh_id` when it is exhausted, taken up
/// once the markers are written) and answers the producer id and epoch to continue with.
/// - A producer id other than the current one is INVALID_PRODUCER_ID_MAPPING, but for a retry
///   of the end that moved to a new id.
/// - While markers are written every end waits: CONCURRENT_TRANSACTIONS, before the epoch is
///   checked (KAFKA-18464: so that the next transaction's abort does not fence itself).
/// - A retry names the epoch before the bump: after the commit (abort) it ended, a commit
///   (abort) answers NONE with the current id and epoch, the opposite end INVALID_TXN_STATE.
/// - Otherwise only the current epoch is valid (`fenced` else): Ongoing ends; an abort without
///   a transaction (Empty, Complete*) is an empty abort, which bumps the epoch too (the client
///   cannot know whether its Produce v12 added a partition, so it always aborts); a commit
///   without one is INVALID_TXN_STATE.
fn end_txn_v2(
    t: &mut TxnMetadata,
    who: &TxnCaller<'_>,
    commit: bool,
    markers_at: Instant,
    fresh_id: &mut dyn FnMut() -> Option<i64>,
) -> Result<Granted, ErrorCode> {
    let retry = t.is_retry_of_bumped_end(who.producer_id, who.producer_epoch);
    if who.producer_id != t.producer_id && !retry {
        return Err(ErrorCode::INVALID_PRODUCER_ID_MAPPING);
    }
    if t.state.is_preparing() {
        return Err(ErrorCode::CONCURRENT_TRANSACTIONS);
    }
    if !retry && who.producer_epoch != t.producer_epoch {
        return Err(who.fenced);
    }
    let completed = if commit { TxnState::CompleteCommit } else { TxnState::CompleteAbort };
    let ends = match t.state {
        TxnState::Ongoing => true,
        _ if retry => return if t.state == completed { Ok(t.after_end()) } else { Err(ErrorCode::INVALID_TXN_STATE) },
        // The empty abort.
        TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort => !commit,
        TxnState::PrepareCommit | TxnState::PrepareAbort => false,
    };
    if !ends {
        return Err(ErrorCode::INVALID_TXN_STATE);
    }
    let next = if t.is_epoch_exhausted() { Some(fresh_id().ok_or(ErrorCode::UNKNOWN_SERVER_ERROR)?) } else { None };
    t.prepare_with_bump(commit, markers_at, next);
    Ok(t.after_end())
}

#[cfg(test)]
mod tests;
