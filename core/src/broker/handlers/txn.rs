//! The transaction APIs (KIP-98, transactions v1): AddPartitionsToTxn, AddOffsetsToTxn, EndTxn
//! and TxnOffsetCommit, mapped between their wire versions and the transaction coordinator
//! (`broker/txn/`); InitProducerId with a transactional id is in `init_producer_id.rs`.
//!
//! - Transactions v2 (KIP-890 part 2), served when `ClusterConfig::transaction_version` is
//!   [`V2`](crate::broker::TransactionVersion::V2), is decided per request by its version, as
//!   Kafka does: EndTxn v5+ bumps the epoch at every end and answers the producer id and epoch
//!   to continue with; TxnOffsetCommit v5+ adds its group to the transaction (a transactions v2
//!   producer sends no AddOffsetsToTxn); Produce v12+ adds its partition (`produce.rs`). Older
//!   versions keep transactions v1's rules on the same cluster.
//! - A transactional id is coordinated where a group of the same name would be (Kafka hashes
//!   it the same way over `__transaction_state`'s 50 partitions): one placement, one gate
//!   (`Cluster::coordinator_gate`), so the coordinator faults hit both.
//! - The fencing error is PRODUCER_FENCED from the versions that know it (KIP-588:
//!   AddPartitionsToTxn, AddOffsetsToTxn and EndTxn v2+, InitProducerId v4+), else
//!   INVALID_PRODUCER_EPOCH.
//! - The markers are written by [`Cluster::write_txn_markers`] when the coordinator's timer
//!   says: a COMMIT or ABORT control batch at the end of every partition of the transaction
//!   (whoever leads it: perfect replication), the partitions' ongoing transactions closed, and
//!   on commit the pending offsets stored in their groups.

use crate::broker::cluster::{Cluster, Reply, malformed, respond};
use crate::broker::group::CommitPartition;
use crate::broker::txn::{TopicPartition, TxnCaller};
use crate::debug::DebugContext;
use crate::proto::add_offsets_to_txn::{AddOffsetsToTxnRequest, AddOffsetsToTxnResponse};
use crate::proto::add_partitions_to_txn::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse,
    AddPartitionsToTxnTopicResult,
};
use crate::proto::end_txn::{EndTxnRequest, EndTxnResponse};
use crate::proto::record_batch::control::{EndTransactionMarker, TransactionResult};
use crate::proto::txn_offset_commit::{TxnOffsetCommitRequest, TxnOffsetCommitResponse};
use crate::proto::{ApiKey, ErrorCode, Message, Reader};
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// Whether request `key` at version `v` is of transactions v2 (KIP-890 part 2; the versions are
/// [`ApiKey::first_transactions_v2_version`]): EndTxn v5+ bumps the epoch and answers the
/// producer id and epoch to continue with, TxnOffsetCommit v5+ adds its group to the
/// transaction (no AddOffsetsToTxn before it), Produce v12+ its partition. Kafka decides by the
/// request's version, not by the cluster's `transaction.version` (`KafkaApis`,
/// `AddPartitionsToTxnManager.produceRequestVersionToTransactionSupportedOperation`).
pub(crate) fn is_transactions_v2(key: ApiKey, v: i16) -> bool {
    key.first_transactions_v2_version().is_some_and(|first| v >= first)
}

/// The producer id of an answer without one (Kafka's `RecordBatch.NO_PRODUCER_ID`).
const NO_PRODUCER_ID: i64 = -1;
/// The producer epoch of an answer without one (Kafka's `RecordBatch.NO_PRODUCER_EPOCH`).
const NO_PRODUCER_EPOCH: i16 = -1;

/// What a partition leader answers when adding a partition to a transaction for a Produce
/// v12+ failed at the coordinator (Kafka's `AddPartitionsToTxnManager` and
/// `ReplicaManager.appendRecords`' translation): PRODUCER_FENCED becomes
/// INVALID_PRODUCER_EPOCH, a retriable coordinator error NOT_ENOUGH_REPLICAS (which the
/// producer retries without a metadata refresh), any other error is answered as is.
pub(crate) fn implicit_add_produce_error(e: ErrorCode) -> ErrorCode {
    match e {
        ErrorCode::PRODUCER_FENCED => ErrorCode::INVALID_PRODUCER_EPOCH,
        ErrorCode::CONCURRENT_TRANSACTIONS
        | ErrorCode::COORDINATOR_NOT_AVAILABLE
        | ErrorCode::NOT_COORDINATOR
        | ErrorCode::COORDINATOR_LOAD_IN_PROGRESS => ErrorCode::NOT_ENOUGH_REPLICAS,
        e => e,
    }
}

/// The first version of each transaction API that answers PRODUCER_FENCED (KIP-588).
pub(crate) fn fenced_error(key: ApiKey, v: i16) -> ErrorCode {
    let first = match key {
        ApiKey::InitProducerId => 4,
        ApiKey::AddPartitionsToTxn | ApiKey::AddOffsetsToTxn | ApiKey::EndTxn => 2,
        _ => i16::MAX,
    };
    if v >= first { ErrorCode::PRODUCER_FENCED } else { ErrorCode::INVALID_PRODUCER_EPOCH }
}

/// The caller of a transactional request of `key` at version `v`.
fn caller(key: ApiKey, v: i16, transactional_id: &str, producer_id: i64, producer_epoch: i16) -> TxnCaller<'_> {
    TxnCaller { transactional_id, producer_id, producer_epoch, fenced: fenced_error(key, v) }
}

impl Cluster {
    /// Answers AddPartitionsToTxn: one code for every partition (Kafka: unknown partitions
    /// UNKNOWN_TOPIC_OR_PARTITION and the others OPERATION_NOT_ATTEMPTED; else the
    /// coordinator's answer for all).
    pub(crate) fn add_partitions_to_txn(
        &mut self,
        broker_id: i32,
        v: i16,
        corr: i32,
        r: &mut Reader<'_>,
    ) -> Result<Reply, String> {
        let req = AddPartitionsToTxnRequest::decode(r, v).map_err(malformed(ApiKey::AddPartitionsToTxn, v))?;
        let exists = |c: &Cluster, t: &str, p: i32| c.topic(t).and_then(|t| t.partition(p)).is_some();
        let any_unknown = req.topics.iter().any(|t| t.partitions.iter().any(|&p| !exists(self, t.name, p)));
        let code_of: Vec<Vec<ErrorCode>> = if any_unknown {
            req.topics
                .iter()
                .map(|t| {
                    t.partitions
                        .iter()
                        .map(|&p| {
                            if exists(self, t.name, p) {
                                ErrorCode::OPERATION_NOT_ATTEMPTED
                            } else {
                                ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
                            }
                        })
                        .collect()
                })
                .collect()
        } else {
            let mut e = self.coordinator_gate(broker_id, req.transactional_id);
            if e == ErrorCode::NONE {
                let partitions: Vec<TopicPartition> =
                    req.topics.iter().flat_map(|t| t.partitions.iter().map(|&p| (t.name.to_string(), p))).collect();
                let who =
                    caller(ApiKey::AddPartitionsToTxn, v, req.transactional_id, req.producer_id, req.producer_epoch);
                e = self.txns.add_partitions(self.now, &who, &partitions);
            }
            req.topics.iter().map(|t| t.partitions.iter().map(|_| e).collect()).collect()
        };
        let results_by_topic = req
            .topics
            .iter()
            .zip(&code_of)
            .map(|(t, codes)| AddPartitionsToTxnTopicResult {
                name: t.name,
                results_by_partition: t
                    .partitions
                    .iter()
                    .zip(codes)
                    .map(|(&p, e)| AddPartitionsToTxnPartitionResult { partition_index: p, partition_error_code: e.0 })
                    .collect(),
            })
            .collect();
        self.debug(DebugContext::Eos, || {
            alloc::format!(
                "AddPartitionsToTxn `{}` (producer id {}, epoch {}): {:?}",
                req.transactional_id,
                req.producer_id,
                req.producer_epoch,
                code_of.iter().flatten().next()
            )
        });
        respond(corr, v, &AddPartitionsToTxnResponse { throttle_time_ms: 0, results_by_topic })
    }

    /// Answers AddOffsetsToTxn.
    pub(crate) fn add_offsets_to_txn(
        &mut self,
        broker_id: i32,
        v: i16,
        corr: i32,
        r: &mut Reader<'_>,
    ) -> Result<Reply, String> {
        let req = AddOffsetsToTxnRequest::decode(r, v).map_err(malformed(ApiKey::AddOffsetsToTxn, v))?;
        let mut e = self.coordinator_gate(broker_id, req.transactional_id);
        if e == ErrorCode::NONE {
            let who = caller(ApiKey::AddOffsetsToTxn, v, req.transactional_id, req.producer_id, req.producer_epoch);
            e = self.txns.add_offsets(self.now, &who, req.group_id);
        }
        respond(corr, v, &AddOffsetsToTxnResponse { throttle_time_ms: 0, error_code: e.0 })
    }

    /// Answers EndTxn (the markers follow, see [`write_txn_markers`](Self::write_txn_markers)).
    pub(crate) fn end_txn(&mut self, broker_id: i32, v: i16, corr: i32, r: &mut Reader<'_>) -> Result<Reply, String> {
        let req = EndTxnRequest::decode(r, v).map_err(malformed(ApiKey::EndTxn, v))?;
        let gate = self.coordinator_gate(broker_id, req.transactional_id);
        let answer = if gate != ErrorCode::NONE {
            Err(gate)
        } else {
            let who = caller(ApiKey::EndTxn, v, req.transactional_id, req.producer_id, req.producer_epoch);
            let (now, bump) = (self.now, is_transactions_v2(ApiKey::EndTxn, v));
            self.with_fresh_ids(|txns, fresh| txns.end_txn(now, &who, req.committed, bump, fresh))
        };
        let ((producer_id, producer_epoch), e) = match answer {
            Ok(granted) => (granted, ErrorCode::NONE),
            Err(e) => ((NO_PRODUCER_ID, NO_PRODUCER_EPOCH), e),
        };
        self.debug(DebugContext::Eos, || {
            alloc::format!(
                "EndTxn `{}` (producer id {}, epoch {}, commit {}): {e}",
                req.transactional_id,
                req.producer_id,
                req.producer_epoch,
                req.committed
            )
        });
        let body = EndTxnResponse { throttle_time_ms: 0, error_code: e.0, producer_id, producer_epoch };
        respond(corr, v, &body)
    }

    /// Answers TxnOffsetCommit (sent to the group's coordinator): each partition's offset is
    /// held by the transaction until it ends. From v5 (transactions v2) the group is added to
    /// the transaction first, as AddOffsetsToTxn does for older versions.
    pub(crate) fn txn_offset_commit(
        &mut self,
        broker_id: i32,
        v: i16,
        corr: i32,
        r: &mut Reader<'_>,
    ) -> Result<Reply, String> {
        let req = TxnOffsetCommitRequest::decode(r, v).map_err(malformed(ApiKey::TxnOffsetCommit, v))?;
        let mut gate = self.coordinator_gate(broker_id, req.group_id);
        if gate == ErrorCode::NONE {
            // The member fields are -1 / empty below v3: no member check then.
            let (generation, member, instance) = (req.generation_id, req.member_id, req.group_instance_id);
            gate = self.groups.validate_txn_offset_commit(self.now, req.group_id, generation, member, instance);
        }
        let max_metadata = self.groups.max_offset_metadata();
        let who = caller(ApiKey::TxnOffsetCommit, v, req.transactional_id, req.producer_id, req.producer_epoch);
        // Transactions v2: the group joins the transaction first, as AddOffsetsToTxn would
        // (Kafka's group coordinator asks the transaction coordinator through
        // `AddPartitionsToTxnManager` with `verifyOnly` false); its errors are translated as
        // Kafka's produce path does, and a retriable one as the group coordinator's
        // COORDINATOR_NOT_AVAILABLE (Kafka's `GroupCoordinatorService` normalizes
        // NOT_ENOUGH_REPLICAS to it).
        let implicit = is_transactions_v2(ApiKey::TxnOffsetCommit, v);
        let added = if implicit && gate == ErrorCode::NONE {
            let adder = TxnCaller { fenced: ErrorCode::PRODUCER_FENCED, ..who };
            match implicit_add_produce_error(self.txns.add_offsets(self.now, &adder, req.group_id)) {
                ErrorCode::NOT_ENOUGH_REPLICAS => ErrorCode::COORDINATOR_NOT_AVAILABLE,
                e => e,
            }
        } else {
            ErrorCode::NONE
        };
        let mut answer: Vec<(String, Vec<(i32, ErrorCode)>)> = Vec::with_capacity(req.topics.len());
        for t in &req.topics {
            let mut tc = Vec::with_capacity(t.partitions.len());
            for p in &t.partitions {
                let offset = CommitPartition {
                    partition: p.partition_index,
                    offset: p.committed_offset,
                    leader_epoch: p.committed_leader_epoch,
                    metadata: p.committed_metadata.map(str::to_string),
                };
                let e = if gate != ErrorCode::NONE {
                    gate
                } else if p.committed_metadata.is_some_and(|m| m.len() > max_metadata) {
                    ErrorCode::OFFSET_METADATA_TOO_LARGE
                } else if implicit && added != ErrorCode::NONE {
                    added
                } else {
                    self.txns.txn_offset_commit(self.now, &who, req.group_id, t.name, &offset)
                };
                tc.push((p.partition_index, e));
            }
            answer.push((t.name.to_string(), tc));
        }
        let topics = super::group::commit_response_topics(&answer);
        respond(corr, v, &TxnOffsetCommitResponse { throttle_time_ms: 0, topics })
    }

    /// Runs the transaction coordinator's timers and writes the markers that are due: a COMMIT
    /// or ABORT control batch appended to each partition of the transaction, its ongoing
    /// transaction there closed (an aborted one indexed), and on commit the pending offsets
    /// stored in their groups.
    pub(crate) fn write_txn_markers(&mut self) {
        let now = self.now;
        let due = self.txns.on_timeout(now);
        if due.is_empty() {
            return;
        }
        let timestamp = i64::try_from(now.as_micros() / 1000).unwrap_or(i64::MAX);
        for m in due {
            let marker = EndTransactionMarker { result: m.result, coordinator_epoch: 0 };
            let aborted = m.result == TransactionResult::Abort;
            for (topic, partition) in &m.partitions {
                let Some(p) = self.topics.get_mut(topic.as_str()).and_then(|t| t.partition_mut(*partition)) else {
                    continue;
                };
                let bytes = marker.control_batch(m.producer_id, m.producer_epoch, 0, timestamp);
                let at = p.log.append(bytes, 0, timestamp, p.leader_epoch);
                p.txns.on_marker(m.producer_id, at, aborted, p.log.log_start_offset());
                self.fetch_dirty = true;
            }
            for (group, topic, offset) in &m.offsets {
                self.groups.commit_txn_offset(group, topic, offset);
            }
            let (pid, epoch, n) = (m.producer_id, m.producer_epoch, m.partitions.len());
            self.debug(DebugContext::Eos, || {
                alloc::format!("producer id {pid} epoch {epoch}: {:?} markers written to {n} partitions", m.result)
            });
        }
    }
}
