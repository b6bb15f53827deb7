//! The transactional producer in the loop (the rules are in `transaction.rs`): the API
//! (`init_transactions`, `begin_transaction`, `send_offsets_to_transaction`,
//! `commit_transaction`, `abort_transaction`), the drive step that sends the next request to a
//! coordinator, the answers, and the ends of operations as `Event::Transaction`.

use alloc::string::String;
use alloc::vec::Vec;

use super::Producer;
use super::agenda::PartKey;
use super::conn::Conns;
use super::conn::RequestKind;
use super::diagnostic::IdentitySource;
use super::idempotence::{PidOutcome, PidState};
use super::metadata::Metadata;
use super::payload::Payload;
use super::report::{DeliveryError, Event, FatalError};
use super::topics::TopicState;
use super::transaction::Transaction;
use super::transaction::{
    AbortableError, ConsumerGroupMetadata, Coordinator, CoordinatorType, Membership, Step, TransactionError,
    TransactionOp, TransactionState, TxnOffset, TxnRequest, Verdict, verdict,
};
use super::{ConnId, Output};
use crate::proto::add_offsets_to_txn::{AddOffsetsToTxnRequest, AddOffsetsToTxnResponse};
use crate::proto::add_partitions_to_txn::{
    AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, AddPartitionsToTxnTopic,
};
use crate::proto::end_txn::{EndTxnRequest, EndTxnResponse};
use crate::proto::find_coordinator::{
    FindCoordinatorRequest, FindCoordinatorResponse, KEY_TYPE_GROUP, KEY_TYPE_TRANSACTION,
};
use crate::proto::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use crate::proto::txn_offset_commit::{
    TxnOffsetCommitRequest, TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic, TxnOffsetCommitResponse,
};
use crate::proto::{self, ApiKey, EncodeError, ErrorCode};
use crate::time::{Duration, Instant};

/// The retry backoff of an AddPartitionsToTxn answered CONCURRENT_TRANSACTIONS.
const ADD_PARTITIONS_RETRY_BACKOFF: Duration = Duration::from_millis(20);

impl<T> Producer<T> {
    /// Where the transactional producer stands; `None` without a `transactional.id`.
    pub fn transaction_state(&self) -> Option<TransactionState> {
        self.txn.as_ref().map(|t| t.state)
    }

    /// Starts the transactional producer: finds the transaction coordinator of
    /// `transactional.id` and gets the producer id and epoch from it, which fences every
    /// earlier producer with the same id and aborts its open transaction (KIP-98). Call once,
    /// before anything else; ends with one `Event::Transaction { op: Init, .. }`. Retriable
    /// coordinator errors are retried without end (a driver may give up waiting); fencing and
    /// authorization errors stop the producer.
    ///
    /// ```no_run
    /// # use idem_core::producer::{Producer, ProducerConfig};
    /// # use idem_core::{Duration, Instant};
    /// let config = ProducerConfig::new("localhost:9092")?.transactional("orders", Duration::from_secs(60));
    /// let mut producer = Producer::new(config, Instant::ZERO)?;
    /// producer.init_transactions(Instant::ZERO)?;
    /// // ... drive it until Event::Transaction { op: TransactionOp::Init, result: Ok(()) } ...
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn init_transactions(&mut self, now: Instant) -> Result<(), TransactionError> {
        self.txn_call(|t| t.init())?;
        self.drive(now);
        Ok(())
    }

    /// Opens a transaction (local: the coordinator learns of it with its first partition or
    /// offsets). Records may be sent until `commit_transaction` or `abort_transaction`.
    pub fn begin_transaction(&mut self) -> Result<(), TransactionError> {
        self.txn_call(|t| t.begin())
    }

    /// Adds consumed offsets to the open transaction: they are committed to `group`'s offsets
    /// if and only if the transaction commits (exactly-once processing: consume, transform,
    /// produce). `group` carries the consumer's generation and member id, so that a zombie
    /// consumer's offsets are refused (KIP-447). Ends with one `Event::Transaction { op:
    /// SendOffsets, .. }`; an error there makes the transaction abortable.
    pub fn send_offsets_to_transaction(
        &mut self,
        now: Instant,
        offsets: &[TxnOffset<'_>],
        group: &ConsumerGroupMetadata,
    ) -> Result<(), TransactionError> {
        let mut requests = false;
        self.txn_call(|t| t.send_offsets(group, offsets).map(|r| requests = r))?;
        if requests {
            self.drive(now);
        } else {
            // No offsets: nothing to ask (the Java client returns at once too).
            self.txn_event(TransactionOp::SendOffsets, Ok(()));
        }
        Ok(())
    }

    /// Commits the open transaction: seals and sends every buffered record, waits until each
    /// is acknowledged and the partitions and offsets are added, then ends the transaction
    /// (EndTxn). If any record failed the transaction is not committed: the result is
    /// [`TransactionError::Abortable`]. Ends with one `Event::Transaction { op: Commit, .. }`:
    /// a success after the events of all its records; a failure may come first (the records of
    /// a transaction that turned abortable are reported by `abort_transaction`), so a driver
    /// that blocks on the call returns a failure at once ([`TransactionOp::may_return`]).
    pub fn commit_transaction(&mut self, now: Instant) -> Result<(), TransactionError> {
        self.txn_call(|t| t.commit())?;
        self.seal_all();
        self.agenda.list_all();
        self.drive(now);
        Ok(())
    }

    /// Aborts the open transaction (also after an abortable error): records not yet sent
    /// fail with [`DeliveryError::TransactionAborted`], those in flight are waited for, then the
    /// coordinator writes ABORT markers (EndTxn) so that `read_committed` consumers skip what
    /// was written; a producer whose sequences broke gets a new epoch from the coordinator.
    /// Ends with one `Event::Transaction { op: Abort, .. }`; the producer is then ready for the
    /// next transaction.
    pub fn abort_transaction(&mut self, now: Instant) -> Result<(), TransactionError> {
        self.txn_call(|t| t.abort())?;
        // Records still waiting for metadata never join a partition of this transaction.
        self.fail_pending(DeliveryError::TransactionAborted, None);
        self.agenda.list_all();
        self.drive(now);
        Ok(())
    }

    /// Runs `f` on the transaction manager, after the checks every call makes.
    fn txn_call(
        &mut self,
        f: impl FnOnce(&mut Transaction) -> Result<(), TransactionError>,
    ) -> Result<(), TransactionError> {
        if let Some(e) = self.fatal {
            return Err(TransactionError::Fatal(e));
        }
        let txn = self.txn.as_mut().ok_or(TransactionError::NotTransactional)?;
        if self.closing || self.finished {
            let op = txn.op.unwrap_or(TransactionOp::Begin);
            return Err(TransactionError::InvalidState { op, state: txn.state });
        }
        f(txn)
    }

    /// Reports the end of `op`.
    fn txn_event(&mut self, op: TransactionOp, result: Result<(), TransactionError>) {
        self.out.push_back(Output::Event(Event::Transaction { op, result }));
    }

    /// The open transaction cannot commit, for `e`: the operation waiting for it (a commit,
    /// offsets) fails with it. Nothing without a transaction in progress.
    pub(super) fn txn_abortable(&mut self, e: AbortableError) {
        if let Some(op) = self.txn.as_mut().and_then(|t| t.make_abortable(e)) {
            self.txn_event(op, Err(TransactionError::Abortable(e)));
        }
    }

    /// The drive step: does what the transaction needs next, as long as something can be done
    /// now (one request to a coordinator at a time).
    pub(super) fn advance_transaction(&mut self, now: Instant) {
        loop {
            let Some(txn) = &self.txn else { return };
            if self.fatal.is_some() {
                return;
            }
            let aborting = txn.state == TransactionState::Aborting;
            let drained = aborting && self.all_drained();
            let flushed = !self.has_pending();
            let bump = self.pid.state != PidState::Ready;
            let Some(txn) = &self.txn else { return };
            let Some(step) = txn.next_step(now, flushed, drained, bump) else { return };
            match step {
                Step::FailBuffered => {
                    self.for_each_partition(|part, sink| part.abort_transaction(sink));
                    self.fail_pending(DeliveryError::TransactionAborted, None);
                    self.agenda.list_all();
                    if let Some(t) = &mut self.txn {
                        t.buffered_failed = true;
                    }
                }
                Step::Complete => self.txn_complete(),
                Step::Send(req) => {
                    self.send_txn_request(req, now);
                    return;
                }
            }
        }
    }

    /// The operation in progress ended well: reported; after a commit or an abort every
    /// partition is out of the transaction again.
    fn txn_complete(&mut self) {
        let Some(op) = self.txn.as_mut().and_then(|t| t.complete()) else { return };
        self.txn_completed(op);
    }

    /// An answer that ends `op` arrived: the operation ends if it is the one in progress (an
    /// answer to a request of an operation that already failed, e.g. offsets sent before the
    /// transaction turned abortable, ends nothing: the abort that followed goes on).
    fn txn_complete_if(&mut self, op: TransactionOp) {
        if self.txn.as_ref().is_some_and(|t| t.op == Some(op)) {
            self.txn_complete();
        }
    }

    /// Reports `op`'s end.
    fn txn_completed(&mut self, op: TransactionOp) {
        if matches!(op, TransactionOp::Commit | TransactionOp::Abort) {
            for ts in &mut self.topics {
                for p in &mut ts.partitions {
                    p.txn = Membership::Out;
                }
            }
            self.agenda.list_all();
        }
        self.txn_event(op, Ok(()));
    }

    /// A ready connection to `c`, or a connection attempt towards it.
    fn coordinator_conn(&mut self, c: &Coordinator, now: Instant) -> Option<ConnId> {
        if let Some(conn) = self.conns.for_node(c.node) {
            return conn.versions().map(|_| conn.id);
        }
        if self.conns.may_connect(c.node, now) {
            self.connect_to(c.node, c.host.clone(), c.port, now);
        }
        None
    }

    /// Sends `req` if its connection is ready (else connects and waits).
    fn send_txn_request(&mut self, req: TxnRequest, now: Instant) {
        let Some(txn) = &self.txn else { return };
        let target = match req {
            TxnRequest::FindCoordinator(_) => None,
            TxnRequest::TxnOffsetCommit => txn.group_coordinator.clone(),
            _ => txn.coordinator.clone(),
        };
        let conn = match target {
            None => self.control_conn(now),
            Some(c) => self.coordinator_conn(&c, now),
        };
        let Some(conn) = conn else { return };
        let Some(versions) = self.conns.get(conn).and_then(|c| c.versions()) else { return };
        if let Some(t) = self.txn.as_mut().filter(|t| t.state == TransactionState::Initializing) {
            // The session's protocol, from the coordinator that starts it.
            if req == TxnRequest::InitProducerId {
                t.v2 = versions.transactions_v2();
            }
        }
        let v2 = self.txn.as_ref().is_some_and(|t| t.v2);
        let Some(version) = versions.transactional(req.api(), v2) else {
            self.fail_fatal(FatalError::UnsupportedBroker { api_key: req.api().as_i16() });
            return;
        };
        let timeout = self.config.request_timeout;
        let pid = (self.pid.producer_id, self.pid.epoch);
        let body = self.txn.as_ref().and_then(|t| request_body(t, &self.metadata, &self.topics, pid, req, version));
        let frame = body.map(|b| b.encode(&mut self.conns, conn, version, RequestKind::Txn(req), now, timeout));
        let sent = match frame {
            Some(Ok(data)) => {
                self.transmit(conn, data);
                true
            }
            _ => false,
        };
        if let Some(t) = &mut self.txn {
            t.on_sent(req);
            if !sent {
                let at = self.retry_backoff.next_at(now, t.failures, &mut self.rng);
                t.on_lost(at);
            }
        }
    }

    /// An outstanding request to a coordinator was lost: looked up again, sent again after
    /// the backoff.
    pub(super) fn txn_request_lost(&mut self) {
        let now = self.now;
        if let Some(t) = &mut self.txn {
            let at = self.retry_backoff.next_at(now, t.failures, &mut self.rng);
            t.on_lost(at);
        }
    }

    /// A connection to `node` was lost: a coordinator there is looked up again.
    pub(super) fn txn_connection_lost(&mut self, node: i32) {
        if let Some(t) = &mut self.txn {
            if t.coordinator.as_ref().is_some_and(|c| c.node == node) {
                t.coordinator = None;
            }
            if t.group_coordinator.as_ref().is_some_and(|c| c.node == node) {
                t.group_coordinator = None;
            }
        }
    }

    /// Applies an answer from a coordinator; false if it is garbage (the connection closes and
    /// the request counts as lost).
    pub(super) fn on_txn_response(&mut self, req: TxnRequest, body: &[u8], version: i16) -> bool {
        let Some(code) = self.txn_answer(req, body, version) else {
            self.txn_request_lost();
            return false;
        };
        let now = self.now;
        let Some(t) = &mut self.txn else { return true };
        if code == ErrorCode::INVALID_PRODUCER_ID_MAPPING {
            t.mapping_lost = true;
        }
        let at = if req == TxnRequest::AddPartitions && code == ErrorCode::CONCURRENT_TRANSACTIONS {
            // The previous transaction's markers are still being written, which takes
            // milliseconds: retried soon, not after `retry.backoff.ms` (the Java client's
            // `TransactionManager` uses 20 ms here, `ADD_PARTITIONS_RETRY_BACKOFF_MS`).
            now + ADD_PARTITIONS_RETRY_BACKOFF
        } else {
            self.retry_backoff.next_at(now, t.failures, &mut self.rng)
        };
        // The partitions of an AddPartitionsToTxn, before the answer clears them.
        let added = (req == TxnRequest::AddPartitions && code == ErrorCode::NONE).then(|| t.adding.clone());
        match t.on_answer(verdict(req, code), at) {
            Verdict::Ok => self.txn_ok(req, body, version, added),
            Verdict::Retry | Verdict::Rediscover => {}
            Verdict::Abortable(code) => {
                let e = AbortableError::Broker(code);
                if let Some(op) = self.txn.as_mut().and_then(|t| t.answer_abortable(e)) {
                    self.txn_event(op, Err(TransactionError::Abortable(e)));
                }
            }
            Verdict::Fatal(code) => self.fail_fatal(FatalError::Broker(code)),
        }
        true
    }

    /// The error an answer carries (the first partition error of a per-partition answer);
    /// `None` if it does not decode.
    fn txn_answer(&mut self, req: TxnRequest, body: &[u8], version: i16) -> Option<ErrorCode> {
        let first_error = |codes: &mut dyn Iterator<Item = i16>| {
            // OPERATION_NOT_ATTEMPTED marks the partitions a request's real error held back.
            let mut found = ErrorCode::NONE;
            for c in codes.map(ErrorCode).filter(|c| *c != ErrorCode::NONE) {
                if c != ErrorCode::OPERATION_NOT_ATTEMPTED {
                    return c;
                }
                found = c;
            }
            found
        };
        Some(match req {
            TxnRequest::FindCoordinator(_) => {
                let (_, r) = proto::decode_response::<FindCoordinatorResponse<'_>>(body, version).ok()?;
                ErrorCode(r.answer(version).0)
            }
            TxnRequest::InitProducerId => {
                let (_, r) = proto::decode_response_lenient::<InitProducerIdResponse>(body, version).ok()?;
                ErrorCode(r.error_code)
            }
            TxnRequest::AddPartitions => {
                let (_, r) = proto::decode_response::<AddPartitionsToTxnResponse<'_>>(body, version).ok()?;
                let mut codes = r
                    .results_by_topic
                    .iter()
                    .flat_map(|t| t.results_by_partition.iter().map(|p| p.partition_error_code));
                first_error(&mut codes)
            }
            TxnRequest::AddOffsets => {
                let (_, r) = proto::decode_response::<AddOffsetsToTxnResponse>(body, version).ok()?;
                ErrorCode(r.error_code)
            }
            TxnRequest::TxnOffsetCommit => {
                let (_, r) = proto::decode_response::<TxnOffsetCommitResponse<'_>>(body, version).ok()?;
                let mut codes = r.topics.iter().flat_map(|t| t.partitions.iter().map(|p| p.error_code));
                first_error(&mut codes)
            }
            TxnRequest::EndTxn(_) => {
                let (_, r) = proto::decode_response::<EndTxnResponse>(body, version).ok()?;
                ErrorCode(r.error_code)
            }
        })
    }

    /// The effect of a successful answer to `req`; `added`: the partitions an
    /// AddPartitionsToTxn added.
    fn txn_ok(&mut self, req: TxnRequest, body: &[u8], version: i16, added: Option<Vec<PartKey>>) {
        match req {
            TxnRequest::FindCoordinator(kind) => {
                let found =
                    proto::decode_response::<FindCoordinatorResponse<'_>>(body, version).ok().and_then(|(_, r)| {
                        let (_, node, host, port) = r.answer(version);
                        let port = u16::try_from(port).ok()?;
                        (node >= 0 && !host.is_empty()).then(|| Coordinator { node, host: String::from(host), port })
                    });
                let Some(t) = &mut self.txn else { return };
                match (found, kind) {
                    (Some(c), CoordinatorType::Transaction) => t.coordinator = Some(c),
                    (Some(c), CoordinatorType::Group) => t.group_coordinator = Some(c),
                    (None, _) => {
                        // A success without a usable address: asked again after the backoff.
                        let at = self.retry_backoff.next_at(self.now, t.failures, &mut self.rng);
                        t.in_flight = Some(TxnRequest::FindCoordinator(kind));
                        t.on_lost(at);
                    }
                }
            }
            TxnRequest::InitProducerId => {
                let Ok((_, r)) = proto::decode_response_lenient::<InitProducerIdResponse>(body, version) else {
                    return;
                };
                if self.txn_adopt(r.producer_id, r.producer_epoch, IdentitySource::InitProducerId) {
                    self.txn_complete_if(TransactionOp::Init);
                }
            }
            TxnRequest::AddPartitions => {
                for key in added.unwrap_or_default() {
                    if let Some(part) = self.topics.get_mut(key.t()).and_then(|ts| ts.partitions.get_mut(key.p())) {
                        part.txn = Membership::In;
                    }
                    self.list(key);
                }
            }
            TxnRequest::TxnOffsetCommit => self.txn_complete_if(TransactionOp::SendOffsets),
            TxnRequest::EndTxn(commit) => {
                // Transactions v2: the end bumped the epoch; the next transaction uses the
                // producer id and epoch it answers, from sequence 0.
                if ApiKey::EndTxn.first_transactions_v2_version().is_some_and(|first| version >= first) {
                    let Ok((_, r)) = proto::decode_response::<EndTxnResponse>(body, version) else { return };
                    if !self.txn_adopt(r.producer_id, r.producer_epoch, IdentitySource::EndTxn) {
                        return;
                    }
                }
                // An abort goes on (a bump, then its end) in the drive step.
                if commit {
                    self.txn_complete_if(TransactionOp::Commit);
                }
            }
            TxnRequest::AddOffsets => {}
        }
    }

    /// Adopts the producer id and epoch a coordinator granted (`source`: InitProducerId, or
    /// EndTxn v5): every partition renumbered, from sequence 0 after the first. False (the
    /// producer stopped) if the answer carries none.
    fn txn_adopt(&mut self, producer_id: i64, epoch: i16, source: IdentitySource) -> bool {
        if producer_id < 0 || epoch < 0 {
            self.fail_fatal(FatalError::Broker(ErrorCode::UNKNOWN_SERVER_ERROR));
            return false;
        }
        let previous = self.producer_id();
        self.pid.adopt(producer_id, epoch);
        let outcome = PidOutcome::Adopt { producer_id, epoch, bumped: previous.is_some() };
        self.adopt_producer_id(outcome, previous, source);
        true
    }
}

/// The body of `req` at `version` for transaction `txn` of a producer with `metadata`,
/// partitions `states` and identity `pid`; `None` when what it names is gone.
fn request_body<'a, T>(
    txn: &'a Transaction,
    metadata: &'a Metadata,
    states: &[TopicState<T>],
    pid: (i64, i16),
    req: TxnRequest,
    version: i16,
) -> Option<RequestBody<'a>> {
    let id = txn.id.as_str();
    let (producer_id, producer_epoch) = pid;
    Some(match req {
        TxnRequest::FindCoordinator(CoordinatorType::Transaction) => {
            RequestBody::Find(FindCoordinatorRequest::one(version, KEY_TYPE_TRANSACTION, id))
        }
        TxnRequest::FindCoordinator(CoordinatorType::Group) => {
            let group = txn.offsets.as_ref()?.group.group_id.as_str();
            RequestBody::Find(FindCoordinatorRequest::one(version, KEY_TYPE_GROUP, group))
        }
        TxnRequest::InitProducerId => {
            // A bump names the current id and epoch (v3+, KIP-360), so that the coordinator
            // fences this producer instead if a newer one took over meanwhile.
            let current = txn.state != TransactionState::Initializing && version >= 3 && producer_id >= 0;
            RequestBody::Init(InitProducerIdRequest {
                transactional_id: Some(id),
                transaction_timeout_ms: txn.timeout_ms,
                producer_id: if current { producer_id } else { -1 },
                producer_epoch: if current { producer_epoch } else { -1 },
            })
        }
        TxnRequest::AddPartitions => {
            let mut keys: Vec<PartKey> = txn.adding.clone();
            if txn.state != TransactionState::Aborting {
                keys.extend_from_slice(&txn.to_add);
            }
            keys.sort_unstable();
            let mut topics: Vec<AddPartitionsToTxnTopic<'_>> = Vec::new();
            for key in keys {
                let name = metadata.topics.get(key.t())?.name.as_str();
                let partition = states.get(key.t())?.partitions.get(key.p())?.partition;
                match topics.last_mut() {
                    Some(t) if t.name == name => t.partitions.push(partition),
                    _ => topics.push(AddPartitionsToTxnTopic { name, partitions: alloc::vec![partition] }),
                }
            }
            RequestBody::AddPartitions(AddPartitionsToTxnRequest {
                transactional_id: id,
                producer_id,
                producer_epoch,
                topics,
            })
        }
        TxnRequest::AddOffsets => RequestBody::AddOffsets(AddOffsetsToTxnRequest {
            transactional_id: id,
            producer_id,
            producer_epoch,
            group_id: txn.offsets.as_ref()?.group.group_id.as_str(),
        }),
        TxnRequest::TxnOffsetCommit => {
            let job = txn.offsets.as_ref()?;
            let mut topics: Vec<TxnOffsetCommitRequestTopic<'_>> = Vec::new();
            for (topic, partition, offset) in &job.offsets {
                let p = TxnOffsetCommitRequestPartition {
                    partition_index: *partition,
                    committed_offset: *offset,
                    ..Default::default()
                };
                match topics.last_mut() {
                    Some(t) if t.name == topic.as_str() => t.partitions.push(p),
                    _ => topics.push(TxnOffsetCommitRequestTopic { name: topic.as_str(), partitions: alloc::vec![p] }),
                }
            }
            // The member fields exist from v3 (KIP-447); below, only the group is named.
            let member = version >= 3;
            let group = &job.group;
            RequestBody::Offsets(TxnOffsetCommitRequest {
                transactional_id: id,
                group_id: group.group_id.as_str(),
                producer_id,
                producer_epoch,
                generation_id: if member { group.generation_id } else { -1 },
                member_id: if member { group.member_id.as_str() } else { "" },
                group_instance_id: group.group_instance_id.as_deref().filter(|_| member),
                topics,
            })
        }
        TxnRequest::EndTxn(committed) => {
            RequestBody::End(EndTxnRequest { transactional_id: id, producer_id, producer_epoch, committed })
        }
    })
}

/// A request to a coordinator, ready to encode.
enum RequestBody<'a> {
    Find(FindCoordinatorRequest<'a>),
    Init(InitProducerIdRequest<'a>),
    AddPartitions(AddPartitionsToTxnRequest<'a>),
    AddOffsets(AddOffsetsToTxnRequest<'a>),
    Offsets(TxnOffsetCommitRequest<'a>),
    End(EndTxnRequest<'a>),
}

impl RequestBody<'_> {
    /// Encodes it as a request frame on `conn`, recorded as outstanding.
    fn encode(
        &self,
        conns: &mut Conns,
        conn: ConnId,
        version: i16,
        kind: RequestKind,
        now: Instant,
        timeout: Duration,
    ) -> Result<Payload, EncodeError> {
        match self {
            RequestBody::Find(r) => conns.request(conn, version, r, kind, now, timeout),
            RequestBody::Init(r) => conns.request(conn, version, r, kind, now, timeout),
            RequestBody::AddPartitions(r) => conns.request(conn, version, r, kind, now, timeout),
            RequestBody::AddOffsets(r) => conns.request(conn, version, r, kind, now, timeout),
            RequestBody::Offsets(r) => conns.request(conn, version, r, kind, now, timeout),
            RequestBody::End(r) => conns.request(conn, version, r, kind, now, timeout),
        }
    }
}

#[cfg(test)]
#[path = "transact_tests.rs"]
mod tests;
