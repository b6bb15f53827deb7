//! The transaction manager (KIP-98, and KIP-890's transactions v2), as a plain value: where the transactional
//! producer stands ([`TransactionState`], the Java client's `TransactionManager.State`), which
//! request to the coordinators comes next ([`Step`]), and what each answer means ([`verdict`]).
//! The producer (`transact.rs`) sends the requests, holds partitions back until they are in the
//! transaction, and reports each operation's end as an `Event::Transaction`.
//!
//! Rules (each as the Java client's `TransactionManager` and librdkafka's `rdkafka_txnmgr.c`):
//! - One request to a coordinator at a time, in this order: FindCoordinator when the
//!   coordinator is unknown, InitProducerId, AddPartitionsToTxn for the partitions that got
//!   their first record in this transaction, AddOffsetsToTxn then TxnOffsetCommit (to the
//!   group's coordinator), EndTxn.
//! - A partition sends nothing of a transaction before AddPartitionsToTxn has added it.
//! - Whether the coordinator knows of the transaction (`started`) is always certain: an
//!   AddPartitionsToTxn whose answer was lost is sent again (adding a partition twice is
//!   harmless) before anything else, even while aborting, so that EndTxn is sent exactly when
//!   the coordinator has a transaction to end.
//! - Commit waits until every record of the transaction is reported; any record that failed
//!   makes the transaction abortable instead (never half committed).
//! - Retriable answers (CONCURRENT_TRANSACTIONS, COORDINATOR_LOAD_IN_PROGRESS, ...) are retried
//!   after the backoff; NOT_COORDINATOR and COORDINATOR_NOT_AVAILABLE (and a lost connection)
//!   look the coordinator up again; fencing and authorization errors stop the producer;
//!   the rest make the transaction abortable.
//! - Transactions v2 (KIP-890 part 2), when the coordinator's broker finalizes
//!   `transaction.version` 2 and speaks its versions at `init_transactions` (decided once per
//!   session, as the Java client decides at the start of a transaction; a cluster upgraded later
//!   is spoken to in v1 until the producer restarts): no AddPartitionsToTxn (a partition sends at
//!   once, its Produce v12 adds it), no AddOffsetsToTxn (TxnOffsetCommit v5 adds the group), and
//!   every EndTxn (v5) bumps the epoch and answers the producer id and epoch the next
//!   transaction uses. Whether the coordinator knows of the transaction is no longer certain: a
//!   transaction counts as `started` from its first record or offsets, and an abort then always
//!   ends it (Kafka 4 accepts the abort of a transaction it never saw, bumping the epoch).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::agenda::PartKey;
use super::diagnostic::BumpReason;
use super::report::{DeliveryError, FatalError};
use crate::proto::{ApiKey, ErrorCode};
use crate::time::Instant;

/// Where a transactional producer stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionState {
    /// `init_transactions` was not called yet.
    Uninitialized,
    /// `init_transactions` is finding the coordinator and asking for the producer id.
    Initializing,
    /// No transaction is open: `begin_transaction` may be called.
    Ready,
    /// A transaction is open: `send` and `send_offsets_to_transaction` may be called.
    InTransaction,
    /// `commit_transaction` is flushing the records and ending the transaction.
    Committing,
    /// `abort_transaction` is draining the requests in flight and ending the transaction.
    Aborting,
    /// The transaction cannot commit: only `abort_transaction` goes on from here.
    AbortableError,
    /// The producer stopped (fenced, not authorized, ...): it must be dropped.
    FatalError,
}

/// A transactional call, as errors and [`Event::Transaction`](super::Event::Transaction) name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionOp {
    /// `init_transactions`.
    Init,
    /// `begin_transaction`.
    Begin,
    /// `send` of a transactional producer.
    Send,
    /// `send_offsets_to_transaction`.
    SendOffsets,
    /// `commit_transaction`.
    Commit,
    /// `abort_transaction`.
    Abort,
}

/// Why the open transaction cannot commit. Abort it; the producer goes on after the abort.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbortableError {
    /// A coordinator answered this error (TRANSACTION_ABORTABLE, TOPIC_AUTHORIZATION_FAILED,
    /// GROUP_AUTHORIZATION_FAILED, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, ...).
    Broker(ErrorCode),
    /// A record of the transaction failed (its own `Failed` event says which and why).
    RecordFailed(DeliveryError),
    /// A partition's sequence broke (the broker refused a sequence, or a batch was given up;
    /// why, when known): the abort also moves the producer to a new epoch (KIP-360).
    EpochBumpNeeded(Option<BumpReason>),
}

/// Why a transactional call was refused or failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionError {
    /// The producer has no `transactional.id`.
    NotTransactional,
    /// The call does not fit the state (a second `begin_transaction`, `send` outside a
    /// transaction, `commit_transaction` without one, ...): nothing changed.
    InvalidState {
        /// The call.
        op: TransactionOp,
        /// The state it found.
        state: TransactionState,
    },
    /// Another operation awaits its result: wait for its `Event::Transaction`.
    InProgress(TransactionOp),
    /// The transaction cannot commit: call `abort_transaction`, then go on.
    Abortable(AbortableError),
    /// The producer stopped (fenced: PRODUCER_FENCED, INVALID_PRODUCER_EPOCH from a
    /// coordinator; not authorized; ...): drop it. Also reported as `Event::Fatal`.
    Fatal(FatalError),
}

impl fmt::Display for TransactionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl TransactionOp {
    /// Whether a driver that blocks an application on this operation (idem's runtimes do) may
    /// return its end now: `failed` when the end is an error, `records_reported` when every
    /// record sent before the call has its report. A commit or an abort that succeeded returns
    /// after its records' reports (and their callbacks, as the Java client's
    /// `commitTransaction` does); an error returns at once: the records of a transaction that
    /// turned abortable are reported by the abort, which the application calls only after the
    /// failed call returned. Other operations have no records to wait for.
    pub const fn may_return(self, failed: bool, records_reported: bool) -> bool {
        failed || records_reported || !matches!(self, TransactionOp::Commit | TransactionOp::Abort)
    }
}

impl fmt::Display for TransactionOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransactionOp::Init => "init_transactions",
            TransactionOp::Begin => "begin_transaction",
            TransactionOp::Send => "send",
            TransactionOp::SendOffsets => "send_offsets_to_transaction",
            TransactionOp::Commit => "commit_transaction",
            TransactionOp::Abort => "abort_transaction",
        })
    }
}

impl fmt::Display for AbortableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AbortableError::Broker(c) => write!(f, "the coordinator answered {c}"),
            AbortableError::RecordFailed(e) => write!(f, "a record of the transaction failed: {e}"),
            AbortableError::EpochBumpNeeded(Some(r)) => write!(f, "{r}"),
            AbortableError::EpochBumpNeeded(None) => f.write_str("a partition's sequence broke"),
        }
    }
}

impl fmt::Display for TransactionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransactionError::NotTransactional => f.write_str("the producer has no transactional.id"),
            TransactionError::InvalidState { op, state } => write!(f, "{op} is not allowed in state {state}"),
            TransactionError::InProgress(op) => write!(f, "{op} is in progress: wait for its result"),
            TransactionError::Abortable(e) => write!(f, "the transaction must be aborted: {e}"),
            TransactionError::Fatal(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for TransactionError {}

/// The consumer's place in its group, sent with offsets so that the group coordinator can fence
/// a zombie member (KIP-447; the Java client's `ConsumerGroupMetadata`). A producer talking to
/// a broker without TxnOffsetCommit v3 sends only the group id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerGroupMetadata {
    /// `group.id`.
    pub group_id: String,
    /// The generation the member is in (-1: none).
    pub generation_id: i32,
    /// The member id the coordinator gave (empty: none).
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub group_instance_id: Option<String>,
}

impl ConsumerGroupMetadata {
    /// A group's metadata without a member (no generation fencing).
    pub fn new(group_id: &str) -> ConsumerGroupMetadata {
        ConsumerGroupMetadata {
            group_id: String::from(group_id),
            generation_id: -1,
            member_id: String::new(),
            group_instance_id: None,
        }
    }
}

/// One offset to commit with the transaction: the next offset to consume of a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnOffset<'a> {
    /// Topic.
    pub topic: &'a str,
    /// Partition.
    pub partition: i32,
    /// The next offset the group will consume.
    pub offset: i64,
}

/// Whether a partition is in the open transaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Membership {
    /// Not in it: its batches wait.
    #[default]
    Out,
    /// Waiting for AddPartitionsToTxn (queued or in a request).
    Adding,
    /// Added: it sends.
    In,
}

/// A coordinator's address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Coordinator {
    /// Its node id.
    pub(crate) node: i32,
    /// Host.
    pub(crate) host: String,
    /// Port.
    pub(crate) port: u16,
}

/// Which coordinator a lookup is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CoordinatorType {
    /// The transaction coordinator of `transactional.id`.
    Transaction,
    /// The group coordinator of the offsets being sent.
    Group,
}

/// A request to a coordinator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TxnRequest {
    /// FindCoordinator.
    FindCoordinator(CoordinatorType),
    /// InitProducerId with the transactional id.
    InitProducerId,
    /// AddPartitionsToTxn.
    AddPartitions,
    /// AddOffsetsToTxn.
    AddOffsets,
    /// TxnOffsetCommit.
    TxnOffsetCommit,
    /// EndTxn (commit: true).
    EndTxn(bool),
}

impl TxnRequest {
    /// Its API.
    pub(crate) fn api(self) -> ApiKey {
        match self {
            TxnRequest::FindCoordinator(_) => ApiKey::FindCoordinator,
            TxnRequest::InitProducerId => ApiKey::InitProducerId,
            TxnRequest::AddPartitions => ApiKey::AddPartitionsToTxn,
            TxnRequest::AddOffsets => ApiKey::AddOffsetsToTxn,
            TxnRequest::TxnOffsetCommit => ApiKey::TxnOffsetCommit,
            TxnRequest::EndTxn(_) => ApiKey::EndTxn,
        }
    }
}

/// What to do next (see [`Transaction::next_step`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Send this request.
    Send(TxnRequest),
    /// Aborting and drained: fail every batch still buffered, then ask again.
    FailBuffered,
    /// The operation is over: report it.
    Complete,
}

/// What an answer means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Done.
    Ok,
    /// Try again after the backoff.
    Retry,
    /// Look the coordinator up again, then try again.
    Rediscover,
    /// The transaction cannot commit.
    Abortable(ErrorCode),
    /// The producer must stop.
    Fatal(ErrorCode),
}

/// What an answer to `req` with `code` means (the Java client's `TxnRequestHandler`s).
pub(crate) fn verdict(req: TxnRequest, code: ErrorCode) -> Verdict {
    use ErrorCode as E;
    match code {
        E::NONE => Verdict::Ok,
        E::NOT_COORDINATOR | E::COORDINATOR_NOT_AVAILABLE => Verdict::Rediscover,
        E::COORDINATOR_LOAD_IN_PROGRESS | E::CONCURRENT_TRANSACTIONS | E::REQUEST_TIMED_OUT => Verdict::Retry,
        E::UNKNOWN_TOPIC_OR_PARTITION if matches!(req, TxnRequest::AddPartitions | TxnRequest::TxnOffsetCommit) => {
            Verdict::Retry
        }
        // The abort goes on without EndTxn (`Transaction::mapping_lost`): InitProducerId.
        E::INVALID_PRODUCER_ID_MAPPING if req == TxnRequest::EndTxn(false) => Verdict::Retry,
        E::PRODUCER_FENCED
        | E::INVALID_PRODUCER_EPOCH
        | E::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        | E::CLUSTER_AUTHORIZATION_FAILED
        | E::INVALID_TXN_STATE
        | E::INVALID_TRANSACTION_TIMEOUT
        | E::UNSUPPORTED_VERSION
        | E::UNSUPPORTED_FOR_MESSAGE_FORMAT => Verdict::Fatal(code),
        // InitProducerId has no transaction to abort.
        _ if req == TxnRequest::InitProducerId => Verdict::Fatal(code),
        E::GROUP_AUTHORIZATION_FAILED if req == TxnRequest::FindCoordinator(CoordinatorType::Group) => {
            Verdict::Abortable(code)
        }
        _ if matches!(req, TxnRequest::FindCoordinator(_)) => Verdict::Retry,
        _ => Verdict::Abortable(code),
    }
}

/// Offsets to commit with the transaction: AddOffsetsToTxn, then TxnOffsetCommit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OffsetsJob {
    /// The group's metadata.
    pub(crate) group: ConsumerGroupMetadata,
    /// (topic, partition, offset), sorted by topic.
    pub(crate) offsets: Vec<(String, i32, i64)>,
    /// AddOffsetsToTxn succeeded.
    pub(crate) added: bool,
}

/// The transaction manager of a producer with a `transactional.id`.
#[derive(Clone, Debug)]
pub(crate) struct Transaction {
    /// `transactional.id`.
    pub(crate) id: String,
    /// `transaction.timeout.ms`.
    pub(crate) timeout_ms: i32,
    /// Where it stands.
    pub(crate) state: TransactionState,
    /// The operation awaiting its result.
    pub(crate) op: Option<TransactionOp>,
    /// Why the transaction cannot commit.
    pub(crate) abortable: Option<AbortableError>,
    /// The transaction coordinator, once found.
    pub(crate) coordinator: Option<Coordinator>,
    /// The coordinator of the group whose offsets are being sent, once found.
    pub(crate) group_coordinator: Option<Coordinator>,
    /// The request outstanding.
    pub(crate) in_flight: Option<TxnRequest>,
    /// No request before this.
    pub(crate) retry_at: Option<Instant>,
    /// Consecutive failed requests (backoff exponent).
    pub(crate) failures: u32,
    /// Partitions that got their first record of the transaction, to add.
    pub(crate) to_add: Vec<PartKey>,
    /// Partitions in the AddPartitionsToTxn outstanding, or whose answer was lost.
    pub(crate) adding: Vec<PartKey>,
    /// The coordinator holds partitions or a group of this transaction (transactions v2: may
    /// hold).
    pub(crate) started: bool,
    /// Transactions v2 (KIP-890) for this session, decided when `init_transactions` sends
    /// InitProducerId.
    pub(crate) v2: bool,
    /// A coordinator answered INVALID_PRODUCER_ID_MAPPING: it no longer knows this producer id
    /// (the transactional id expired, `transactional.id.expiration.ms`). It would refuse
    /// EndTxn too, so the abort skips it and asks InitProducerId, which gives a fresh producer
    /// id (KIP-360; the Java client's `TransactionManager` does the same).
    pub(crate) mapping_lost: bool,
    /// Offsets being sent.
    pub(crate) offsets: Option<OffsetsJob>,
    /// Aborting: the buffered batches were failed.
    pub(crate) buffered_failed: bool,
}

impl Transaction {
    /// A manager for `id`, before `init_transactions`.
    pub(crate) fn new(id: &str, timeout_ms: i32) -> Transaction {
        Transaction {
            id: String::from(id),
            timeout_ms,
            state: TransactionState::Uninitialized,
            op: None,
            abortable: None,
            coordinator: None,
            group_coordinator: None,
            in_flight: None,
            retry_at: None,
            failures: 0,
            to_add: Vec::new(),
            adding: Vec::new(),
            started: false,
            v2: false,
            mapping_lost: false,
            offsets: None,
            buffered_failed: false,
        }
    }

    /// Starts `op` if the state allows it (`from`), moving to `to`.
    fn start(
        &mut self,
        op: TransactionOp,
        from: &[TransactionState],
        to: TransactionState,
    ) -> Result<(), TransactionError> {
        if let Some(running) = self.op {
            return Err(TransactionError::InProgress(running));
        }
        if !from.contains(&self.state) {
            return Err(match (self.state, self.abortable) {
                (TransactionState::AbortableError, Some(e)) => TransactionError::Abortable(e),
                (state, _) => TransactionError::InvalidState { op, state },
            });
        }
        self.state = to;
        Ok(())
    }

    /// `init_transactions`.
    pub(crate) fn init(&mut self) -> Result<(), TransactionError> {
        self.start(TransactionOp::Init, &[TransactionState::Uninitialized], TransactionState::Initializing)?;
        self.op = Some(TransactionOp::Init);
        Ok(())
    }

    /// `begin_transaction` (local: the coordinator learns of it from the first partition or
    /// group added).
    pub(crate) fn begin(&mut self) -> Result<(), TransactionError> {
        self.start(TransactionOp::Begin, &[TransactionState::Ready], TransactionState::InTransaction)
    }

    /// Whether `send` may add a record now.
    pub(crate) fn check_send(&self) -> Result<(), TransactionError> {
        match (self.state, self.abortable) {
            (TransactionState::InTransaction, _) => Ok(()),
            (TransactionState::AbortableError, Some(e)) => Err(TransactionError::Abortable(e)),
            (state, _) => Err(TransactionError::InvalidState { op: TransactionOp::Send, state }),
        }
    }

    /// `send_offsets_to_transaction` with `offsets` of `group`. Returns whether requests are
    /// needed (not for no offsets, which end at once).
    pub(crate) fn send_offsets(
        &mut self,
        group: &ConsumerGroupMetadata,
        offsets: &[TxnOffset<'_>],
    ) -> Result<bool, TransactionError> {
        self.start(TransactionOp::SendOffsets, &[TransactionState::InTransaction], TransactionState::InTransaction)?;
        if offsets.is_empty() {
            return Ok(false);
        }
        let mut list: Vec<(String, i32, i64)> =
            offsets.iter().map(|o| (String::from(o.topic), o.partition, o.offset)).collect();
        list.sort();
        list.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        // Looked up for each call: the group may differ, its coordinator may have moved.
        self.group_coordinator = None;
        // Transactions v2: TxnOffsetCommit adds the group itself.
        self.offsets = Some(OffsetsJob { group: group.clone(), offsets: list, added: self.v2 });
        self.op = Some(TransactionOp::SendOffsets);
        Ok(true)
    }

    /// `commit_transaction`.
    pub(crate) fn commit(&mut self) -> Result<(), TransactionError> {
        self.start(TransactionOp::Commit, &[TransactionState::InTransaction], TransactionState::Committing)?;
        self.op = Some(TransactionOp::Commit);
        Ok(())
    }

    /// `abort_transaction`: partitions not yet added are forgotten (their batches wait and are
    /// failed once drained).
    pub(crate) fn abort(&mut self) -> Result<(), TransactionError> {
        self.start(
            TransactionOp::Abort,
            &[TransactionState::InTransaction, TransactionState::AbortableError],
            TransactionState::Aborting,
        )?;
        self.to_add.clear();
        self.offsets = None;
        self.buffered_failed = false;
        self.op = Some(TransactionOp::Abort);
        Ok(())
    }

    /// Whether the partitions' new batches must wait for everyone: aborting.
    pub(crate) fn holds_all(&self) -> bool {
        self.state == TransactionState::Aborting
    }

    /// Whether a partition getting its first record now is to be added.
    pub(crate) fn adds_partitions(&self) -> bool {
        matches!(self.state, TransactionState::InTransaction | TransactionState::Committing)
    }

    /// Partition `key` got its first record of the transaction: under transactions v1 it waits
    /// for AddPartitionsToTxn; under v2 it sends at once (its Produce v12 adds it) and the
    /// transaction counts as started. Returns the partition's membership.
    pub(crate) fn join(&mut self, key: PartKey) -> Membership {
        if self.v2 {
            self.started = true;
            Membership::In
        } else {
            self.to_add.push(key);
            Membership::Adding
        }
    }

    /// The next thing to do at `now`: `flushed` when every record of the transaction is
    /// reported, `drained` when nothing is in flight and nothing of unknown outcome is left
    /// (aborting), `bump` when a new epoch is wanted.
    pub(crate) fn next_step(&self, now: Instant, flushed: bool, drained: bool, bump: bool) -> Option<Step> {
        if self.in_flight.is_some() || self.retry_at.is_some_and(|t| t > now) {
            return None;
        }
        let send = |req| Some(Step::Send(self.lookup_first(req)));
        use TransactionState as S;
        match self.state {
            S::Initializing => send(TxnRequest::InitProducerId),
            S::InTransaction | S::Committing | S::AbortableError | S::Aborting if !self.adding.is_empty() => {
                send(TxnRequest::AddPartitions)
            }
            S::InTransaction | S::Committing if !self.to_add.is_empty() => send(TxnRequest::AddPartitions),
            S::InTransaction | S::Committing if self.offsets.is_some() => match &self.offsets {
                Some(j) if !j.added => send(TxnRequest::AddOffsets),
                _ => send(TxnRequest::TxnOffsetCommit),
            },
            S::Committing if flushed && self.started => send(TxnRequest::EndTxn(true)),
            S::Committing if flushed => Some(Step::Complete),
            S::Aborting if !drained => None,
            S::Aborting if !self.buffered_failed => Some(Step::FailBuffered),
            S::Aborting if !flushed => None,
            S::Aborting if self.started && !self.mapping_lost => send(TxnRequest::EndTxn(false)),
            S::Aborting if bump || self.mapping_lost => send(TxnRequest::InitProducerId),
            S::Aborting => Some(Step::Complete),
            _ => None,
        }
    }

    /// `req`, or the lookup of its coordinator when that is unknown.
    fn lookup_first(&self, req: TxnRequest) -> TxnRequest {
        match req {
            TxnRequest::TxnOffsetCommit if self.group_coordinator.is_none() => {
                TxnRequest::FindCoordinator(CoordinatorType::Group)
            }
            TxnRequest::TxnOffsetCommit => req,
            _ if self.coordinator.is_none() => TxnRequest::FindCoordinator(CoordinatorType::Transaction),
            _ => req,
        }
    }

    /// `req` was sent.
    pub(crate) fn on_sent(&mut self, req: TxnRequest) {
        self.in_flight = Some(req);
        if req == TxnRequest::TxnOffsetCommit && self.v2 {
            // It may add the group to the transaction, whatever its answer.
            self.started = true;
        }
        if req == TxnRequest::AddPartitions && self.state != TransactionState::Aborting {
            self.adding.append(&mut self.to_add);
        }
    }

    /// The outstanding request got no answer (or could not be sent): the coordinator is looked
    /// up again and the request repeated after `retry_at` (an AddPartitionsToTxn with the same
    /// partitions).
    pub(crate) fn on_lost(&mut self, retry_at: Instant) {
        let Some(req) = self.in_flight.take() else { return };
        self.forget_coordinator(req);
        self.backoff(retry_at);
    }

    /// The coordinator `req` went to is no longer trusted.
    fn forget_coordinator(&mut self, req: TxnRequest) {
        match req {
            TxnRequest::TxnOffsetCommit | TxnRequest::FindCoordinator(CoordinatorType::Group) => {
                self.group_coordinator = None
            }
            _ => self.coordinator = None,
        }
    }

    /// Waits until `at` before the next request.
    fn backoff(&mut self, at: Instant) {
        self.retry_at = Some(at);
        self.failures = self.failures.saturating_add(1);
    }

    /// Applies the verdict on the outstanding request's answer; `retry_at` is when to try again.
    /// Returns the verdict for the caller to act on (`Ok` for the request's own effect).
    pub(crate) fn on_answer(&mut self, v: Verdict, retry_at: Instant) -> Verdict {
        let Some(req) = self.in_flight.take() else { return Verdict::Retry };
        match v {
            Verdict::Ok => {
                self.failures = 0;
                self.retry_at = None;
                self.on_ok(req);
            }
            Verdict::Retry => self.backoff(retry_at),
            Verdict::Rediscover => {
                self.forget_coordinator(req);
                self.backoff(retry_at);
            }
            Verdict::Abortable(_) => {
                // The caller makes the transaction (or the abort) fail with it.
                self.failures = 0;
                self.retry_at = None;
                match req {
                    // The coordinator added none of them.
                    TxnRequest::AddPartitions => self.adding.clear(),
                    TxnRequest::AddOffsets | TxnRequest::TxnOffsetCommit | TxnRequest::FindCoordinator(_) => {
                        self.offsets = None
                    }
                    _ => {}
                }
            }
            Verdict::Fatal(_) => self.state = TransactionState::FatalError,
        }
        v
    }

    /// The effect of a successful answer to `req` (the caller adopts identities, marks
    /// partitions and reports completions).
    fn on_ok(&mut self, req: TxnRequest) {
        match req {
            TxnRequest::AddPartitions => {
                self.adding.clear();
                self.started = true;
            }
            TxnRequest::AddOffsets => {
                self.started = true;
                if let Some(j) = &mut self.offsets {
                    j.added = true;
                }
            }
            TxnRequest::TxnOffsetCommit => self.offsets = None,
            TxnRequest::EndTxn(_) => self.started = false,
            TxnRequest::InitProducerId => {
                // A new identity: whatever the coordinator held of the old one is gone.
                self.mapping_lost = false;
                self.started = false;
            }
            TxnRequest::FindCoordinator(_) => {}
        }
    }

    /// The transaction cannot commit any more, for `e` (the first reason is kept). Returns
    /// the operation that fails with it now, if one was waiting (a commit, or offsets being
    /// sent).
    pub(crate) fn make_abortable(&mut self, e: AbortableError) -> Option<TransactionOp> {
        if !matches!(self.state, TransactionState::InTransaction | TransactionState::Committing) {
            return None;
        }
        self.state = TransactionState::AbortableError;
        self.abortable.get_or_insert(e);
        self.to_add.clear();
        self.offsets = None;
        self.op.take().filter(|op| matches!(op, TransactionOp::Commit | TransactionOp::SendOffsets))
    }

    /// A coordinator's answer `e` ends the transaction's hopes: while aborting, the abort fails
    /// with it (it may be called again); otherwise as [`Transaction::make_abortable`].
    pub(crate) fn answer_abortable(&mut self, e: AbortableError) -> Option<TransactionOp> {
        if self.state != TransactionState::Aborting {
            return self.make_abortable(e);
        }
        self.state = TransactionState::AbortableError;
        self.abortable.get_or_insert(e);
        self.op.take()
    }

    /// The operation ended well: the state it leads to; returns it.
    pub(crate) fn complete(&mut self) -> Option<TransactionOp> {
        let op = self.op.take()?;
        match op {
            TransactionOp::Init | TransactionOp::Commit | TransactionOp::Abort => {
                self.state = TransactionState::Ready;
                self.abortable = None;
                self.started = false;
                self.to_add.clear();
                self.adding.clear();
                self.offsets = None;
            }
            TransactionOp::SendOffsets | TransactionOp::Begin | TransactionOp::Send => {}
        }
        Some(op)
    }

    /// The producer stopped: the operation waiting fails with it.
    pub(crate) fn on_fatal(&mut self) -> Option<TransactionOp> {
        self.state = TransactionState::FatalError;
        self.op.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Instant = Instant::ZERO;

    fn ready() -> Transaction {
        let mut t = Transaction::new("tx", 60_000);
        t.init().unwrap();
        t.coordinator = Some(Coordinator { node: 1, host: String::from("h"), port: 1 });
        assert_eq!(t.next_step(T0, true, true, false), Some(Step::Send(TxnRequest::InitProducerId)));
        t.on_sent(TxnRequest::InitProducerId);
        assert_eq!(t.on_answer(Verdict::Ok, T0), Verdict::Ok);
        assert_eq!(t.complete(), Some(TransactionOp::Init));
        assert_eq!(t.state, TransactionState::Ready);
        t
    }

    #[test]
    fn calls_out_of_order_are_refused_and_change_nothing() {
        let mut t = Transaction::new("tx", 60_000);
        let invalid = |op, state| Err(TransactionError::InvalidState { op, state });
        assert_eq!(t.begin(), invalid(TransactionOp::Begin, TransactionState::Uninitialized));
        assert_eq!(t.commit(), invalid(TransactionOp::Commit, TransactionState::Uninitialized));
        assert_eq!(t.check_send(), invalid(TransactionOp::Send, TransactionState::Uninitialized));
        t.init().unwrap();
        assert_eq!(t.init(), Err(TransactionError::InProgress(TransactionOp::Init)));
        let mut t = ready();
        assert_eq!(t.abort(), invalid(TransactionOp::Abort, TransactionState::Ready));
        t.begin().unwrap();
        assert_eq!(t.begin(), invalid(TransactionOp::Begin, TransactionState::InTransaction));
        t.commit().unwrap();
        assert_eq!(t.abort(), Err(TransactionError::InProgress(TransactionOp::Commit)));
        assert_eq!(t.state, TransactionState::Committing);
    }

    #[test]
    fn the_coordinator_is_found_before_any_request_to_it() {
        let mut t = Transaction::new("tx", 60_000);
        t.init().unwrap();
        let find = Some(Step::Send(TxnRequest::FindCoordinator(CoordinatorType::Transaction)));
        assert_eq!(t.next_step(T0, true, true, false), find);
        t.on_sent(TxnRequest::FindCoordinator(CoordinatorType::Transaction));
        assert_eq!(t.next_step(T0, true, true, false), None, "one request at a time");
        // NOT_COORDINATOR on a later request forgets it.
        let mut t = ready();
        t.begin().unwrap();
        t.to_add.push(PartKey::new(0, 0));
        t.on_sent(TxnRequest::AddPartitions);
        let at = Instant::from_millis(100);
        assert_eq!(
            t.on_answer(verdict(TxnRequest::AddPartitions, ErrorCode::NOT_COORDINATOR), at),
            Verdict::Rediscover
        );
        assert_eq!(t.next_step(Instant::from_millis(99), true, true, false), None, "backing off");
        assert_eq!(t.next_step(at, true, true, false), find);
        assert_eq!(t.adding, [PartKey::new(0, 0)], "the partitions wait for the new coordinator");
    }

    #[test]
    fn a_lost_add_partitions_is_sent_again_even_when_aborting() {
        let mut t = ready();
        t.begin().unwrap();
        t.to_add.push(PartKey::new(0, 1));
        assert_eq!(t.next_step(T0, false, false, false), Some(Step::Send(TxnRequest::AddPartitions)));
        t.on_sent(TxnRequest::AddPartitions);
        t.on_lost(T0);
        t.coordinator = Some(Coordinator { node: 1, host: String::from("h"), port: 1 });
        t.abort().unwrap();
        // Maybe added: the coordinator must be told again, so that `started` is certain.
        assert_eq!(t.next_step(T0, true, true, false), Some(Step::Send(TxnRequest::AddPartitions)));
        t.on_sent(TxnRequest::AddPartitions);
        t.on_answer(Verdict::Ok, T0);
        assert!(t.started);
        assert_eq!(t.next_step(T0, true, true, false), Some(Step::FailBuffered));
        t.buffered_failed = true;
        assert_eq!(t.next_step(T0, true, true, false), Some(Step::Send(TxnRequest::EndTxn(false))));
    }

    #[test]
    fn commit_waits_for_every_record_and_ends_only_a_started_transaction() {
        let mut t = ready();
        t.begin().unwrap();
        t.commit().unwrap();
        assert_eq!(t.next_step(T0, false, false, false), None, "records still pending");
        assert_eq!(t.next_step(T0, true, true, false), Some(Step::Complete), "nothing reached the coordinator");
        let mut t = ready();
        t.begin().unwrap();
        t.to_add.push(PartKey::new(0, 0));
        t.on_sent(TxnRequest::AddPartitions);
        t.on_answer(Verdict::Ok, T0);
        t.commit().unwrap();
        assert_eq!(t.next_step(T0, true, true, false), Some(Step::Send(TxnRequest::EndTxn(true))));
        t.on_sent(TxnRequest::EndTxn(true));
        t.on_lost(T0);
        t.coordinator = Some(Coordinator { node: 1, host: String::from("h"), port: 1 });
        assert_eq!(t.next_step(T0, true, true, false), Some(Step::Send(TxnRequest::EndTxn(true))), "repeated");
        t.on_sent(TxnRequest::EndTxn(true));
        t.on_answer(Verdict::Ok, T0);
        assert_eq!(t.complete(), Some(TransactionOp::Commit));
        assert_eq!((t.state, t.started), (TransactionState::Ready, false));
    }

    #[test]
    fn a_failed_record_fails_the_commit_and_only_abort_goes_on() {
        let mut t = ready();
        t.begin().unwrap();
        t.commit().unwrap();
        let e = AbortableError::RecordFailed(DeliveryError::Timeout);
        assert_eq!(t.make_abortable(e), Some(TransactionOp::Commit));
        assert_eq!(t.check_send(), Err(TransactionError::Abortable(e)));
        assert_eq!(t.commit(), Err(TransactionError::Abortable(e)));
        assert_eq!(t.make_abortable(AbortableError::Broker(ErrorCode::TRANSACTION_ABORTABLE)), None);
        t.abort().unwrap();
        assert_eq!(t.next_step(T0, false, false, false), None, "waits for the drain");
        assert_eq!(t.next_step(T0, false, true, false), Some(Step::FailBuffered));
        t.buffered_failed = true;
        assert_eq!(t.next_step(T0, true, true, true), Some(Step::Send(TxnRequest::InitProducerId)), "the bump");
        assert_eq!(t.next_step(T0, true, true, false), Some(Step::Complete));
        assert_eq!(t.complete(), Some(TransactionOp::Abort));
        assert_eq!((t.state, t.abortable), (TransactionState::Ready, None));
    }

    #[test]
    fn offsets_go_to_the_group_coordinator_after_add_offsets() {
        let mut t = ready();
        t.begin().unwrap();
        let group = ConsumerGroupMetadata::new("g");
        t.send_offsets(&group, &[TxnOffset { topic: "a", partition: 0, offset: 5 }]).unwrap();
        assert_eq!(t.next_step(T0, true, true, false), Some(Step::Send(TxnRequest::AddOffsets)));
        t.on_sent(TxnRequest::AddOffsets);
        t.on_answer(Verdict::Ok, T0);
        let find = Step::Send(TxnRequest::FindCoordinator(CoordinatorType::Group));
        assert_eq!(t.next_step(T0, true, true, false), Some(find));
        t.group_coordinator = Some(Coordinator { node: 2, host: String::from("h"), port: 2 });
        assert_eq!(t.next_step(T0, true, true, false), Some(Step::Send(TxnRequest::TxnOffsetCommit)));
        t.on_sent(TxnRequest::TxnOffsetCommit);
        let v = verdict(TxnRequest::TxnOffsetCommit, ErrorCode::ILLEGAL_GENERATION);
        assert_eq!(t.on_answer(v, T0), Verdict::Abortable(ErrorCode::ILLEGAL_GENERATION));
        let e = AbortableError::Broker(ErrorCode::ILLEGAL_GENERATION);
        assert_eq!(t.answer_abortable(e), Some(TransactionOp::SendOffsets));
        assert_eq!(t.state, TransactionState::AbortableError);
        assert!(t.started, "AddOffsetsToTxn began it: the abort must end it");
    }

    #[test]
    fn verdicts() {
        use ErrorCode as E;
        let add = TxnRequest::AddPartitions;
        assert_eq!(verdict(add, E::CONCURRENT_TRANSACTIONS), Verdict::Retry);
        assert_eq!(verdict(add, E::COORDINATOR_NOT_AVAILABLE), Verdict::Rediscover);
        assert_eq!(verdict(add, E::PRODUCER_FENCED), Verdict::Fatal(E::PRODUCER_FENCED));
        assert_eq!(verdict(add, E::INVALID_PRODUCER_EPOCH), Verdict::Fatal(E::INVALID_PRODUCER_EPOCH));
        assert_eq!(verdict(add, E::TOPIC_AUTHORIZATION_FAILED), Verdict::Abortable(E::TOPIC_AUTHORIZATION_FAILED));
        assert_eq!(verdict(add, E::UNKNOWN_TOPIC_OR_PARTITION), Verdict::Retry);
        assert_eq!(
            verdict(TxnRequest::EndTxn(true), E::UNKNOWN_TOPIC_OR_PARTITION),
            Verdict::Abortable(E::UNKNOWN_TOPIC_OR_PARTITION)
        );
        assert_eq!(
            verdict(TxnRequest::InitProducerId, E::UNKNOWN_SERVER_ERROR),
            Verdict::Fatal(E::UNKNOWN_SERVER_ERROR)
        );
        let find = TxnRequest::FindCoordinator(CoordinatorType::Transaction);
        assert_eq!(verdict(find, E::UNKNOWN_SERVER_ERROR), Verdict::Retry);
        assert_eq!(
            verdict(find, E::TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
            Verdict::Fatal(E::TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
        );
    }
}
