//! Produce: validates each batch (CRC, shape, sequence via the validator), appends, injects
//! the configured faults, answers with the base offset; a duplicate is answered with the original
//! base offset (Kafka) or DUPLICATE_SEQUENCE_NUMBER (tansu), see [`DuplicateAnswer`].

use super::txn::{implicit_add_produce_error, is_transactions_v2};
use crate::broker::cluster::{Cluster, Reply, malformed, respond};
use crate::broker::config::DuplicateAnswer;
use crate::broker::conn::ParkedProduce;
use crate::broker::txn::TxnCaller;
use crate::broker::validator::{BatchInfo, Decision};
use crate::debug::DebugContext;
use crate::proto::produce::{
    LeaderIdAndEpoch, NodeEndpoint, PartitionProduceResponse, ProduceRequest, ProduceResponse, TopicProduceResponse,
};
use crate::proto::record_batch::{RecordBatch, increment_sequence};
use crate::proto::{ApiKey, DecodeError, ErrorCode, Message, Reader};
use crate::time::{Duration, Instant};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// One partition's outcome before encoding.
struct Outcome {
    error: ErrorCode,
    base_offset: i64,
    log_start_offset: i64,
    appended: bool,
    leader_hint: Option<LeaderIdAndEpoch>,
    /// Why, for the debug lines.
    why: Why,
    /// The batch's producer id, epoch, base sequence and record count, once parsed.
    batch: Option<(i64, i16, i32, i32)>,
}

/// What decided a partition's answer (for the `msg` and `eos` debug lines).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Why {
    /// Refused before the batch was looked at (not the leader, unknown, too large, invalid).
    Refused,
    /// An injected `error_before` fault.
    InjectedBefore,
    /// The sequence validator refused it.
    Sequence,
    /// The validator recognised a duplicate of an appended batch.
    Duplicate,
    /// Appended (and maybe then answered with an injected `error_after`).
    Appended,
}

impl Outcome {
    fn error(error: ErrorCode) -> Outcome {
        Outcome {
            error,
            base_offset: -1,
            log_start_offset: -1,
            appended: false,
            leader_hint: None,
            why: Why::Refused,
            batch: None,
        }
    }

    /// The debug context of its line: `eos` for the sequence validator's decisions, else `msg`.
    fn context(&self) -> DebugContext {
        match self.why {
            Why::Sequence | Why::Duplicate => DebugContext::Eos,
            Why::Refused | Why::InjectedBefore | Why::Appended => DebugContext::Msg,
        }
    }

    /// The debug line of partition `topic`-`partition` on `broker`.
    fn describe(&self, broker: i32, topic: &str, partition: i32, offsets: (i64, i64)) -> String {
        let batch = match self.batch {
            Some((pid, epoch, seq, n)) if pid >= 0 => {
                format!("pid {pid} epoch {epoch} seq {seq}..={} ({n} records)", increment_sequence(seq, n - 1))
            }
            Some((_, _, _, n)) => format!("{n} records without sequence"),
            None => String::from("batch"),
        };
        let head = format!("broker {broker}: {topic}-{partition}: {batch}");
        let (first, last) = offsets;
        match self.why {
            Why::Refused => format!("{head}: refused with {}", self.error),
            Why::InjectedBefore => format!("{head}: injected error_before {}, not appended", self.error),
            Why::Sequence => format!("{head}: sequence check refused it with {}", self.error),
            Why::Duplicate => {
                format!("{head}: duplicate of offsets {first}..={last}, not appended; answered {}", self.error)
            }
            Why::Appended if self.error.is_ok() => format!("{head}: appended at offsets {first}..={last}"),
            Why::Appended => {
                format!("{head}: appended at offsets {first}..={last}, then injected error_after {}", self.error)
            }
        }
    }
}

/// Decompression buffers larger than this are released after the batch (a hostile batch may
/// have grown it up to the decompression bound).
const SCRATCH_KEEP: usize = 1 << 20;

/// Checks a partition's `records`: exactly one batch, CRC right, a shape Kafka's log would
/// accept (records present with consecutive offsets, no control batch). A compressed batch is
/// decompressed into `scratch` (at most `limit` bytes) and its records checked the same way:
/// a codec this build lacks, or zstd below Produce v7 (KIP-110), is UNSUPPORTED_COMPRESSION_TYPE;
/// a payload that does not decompress within `limit`, or decompresses to more or fewer
/// records than the header counts, is CORRUPT_MESSAGE. Either way nothing of it is appended.
fn parse_batch<'r>(
    records: Option<&'r [u8]>,
    version: i16,
    scratch: &mut Vec<u8>,
    limit: usize,
) -> Result<RecordBatch<'r>, ErrorCode> {
    let records = records.ok_or(ErrorCode::INVALID_RECORD)?;
    let (batch, len) = RecordBatch::decode(records).map_err(|e| match e {
        DecodeError::InvalidValue(_) | DecodeError::InvalidLength { .. } => ErrorCode::INVALID_RECORD,
        _ => ErrorCode::CORRUPT_MESSAGE,
    })?;
    let h = &batch.header;
    if len != records.len() || h.record_count < 1 || h.is_control() {
        return Err(ErrorCode::INVALID_RECORD);
    }
    if i64::from(h.last_offset_delta) != i64::from(h.record_count) - 1 {
        return Err(ErrorCode::INVALID_RECORD);
    }
    let codec = h.compression().map_err(|_| ErrorCode::CORRUPT_MESSAGE)?;
    if !codec.is_enabled() || version < codec.min_produce_version() {
        return Err(ErrorCode::UNSUPPORTED_COMPRESSION_TYPE);
    }
    let mut n = 0i32;
    for rec in batch.decompressed_records(scratch, limit).map_err(|_| ErrorCode::CORRUPT_MESSAGE)? {
        let rec = rec.map_err(|_| ErrorCode::CORRUPT_MESSAGE)?;
        if rec.offset_delta != n {
            return Err(ErrorCode::INVALID_RECORD);
        }
        n = n.saturating_add(1);
    }
    if n != h.record_count {
        return Err(ErrorCode::INVALID_RECORD);
    }
    Ok(batch)
}

/// The (topic entry, partition entry) positions of `req` that a later entry naming the same
/// partition overrides, in order (usually none).
fn repeated_entries(req: &ProduceRequest<'_>) -> Vec<(usize, usize)> {
    let mut keys: Vec<(&str, i32, usize, usize)> = Vec::new();
    for (ti, t) in req.topic_data.iter().enumerate() {
        for (pi, p) in t.partition_data.iter().enumerate() {
            keys.push((t.name, p.index, ti, pi));
        }
    }
    keys.sort_unstable();
    let mut repeated: Vec<(usize, usize)> =
        keys.windows(2).filter(|w| (w[0].0, w[0].1) == (w[1].0, w[1].1)).map(|w| (w[0].2, w[0].3)).collect();
    repeated.sort_unstable();
    repeated
}

/// How often a parked transactions v2 Produce is evaluated again (Kafka's
/// `add.partitions.to.txn.retry.backoff.ms`, default 20).
const ADD_PARTITIONS_TO_TXN_RETRY_BACKOFF: Duration = Duration::from_millis(20);

/// How long a transactions v2 Produce may wait for its transaction's coordinator (Kafka's
/// `add.partitions.to.txn.retry.backoff.max.ms`, default 100).
const ADD_PARTITIONS_TO_TXN_RETRY_BACKOFF_MAX: Duration = Duration::from_millis(100);

impl Cluster {
    /// Whether a Produce of version `v` with `transactional_id` waits instead of being answered
    /// now: transactions v2 (KIP-890), its transaction's coordinator writing the markers of the
    /// one before (the implicit add would answer CONCURRENT_TRANSACTIONS), and less than
    /// [`ADD_PARTITIONS_TO_TXN_RETRY_BACKOFF_MAX`] since it arrived (`parked_until`, for one
    /// parked already). Kafka 4 retries the add on the server (KAFKA-18654) instead of making
    /// every client back off behind every commit; past the bound the request is answered as it
    /// stands (NOT_ENOUGH_REPLICAS, retriable).
    fn park_produce(
        &self,
        v: i16,
        corr: i32,
        body: &[u8],
        transactional_id: Option<&str>,
        parked_until: Option<Instant>,
    ) -> Option<ParkedProduce> {
        let id = transactional_id.filter(|_| is_transactions_v2(ApiKey::Produce, v))?;
        if !self.txns.is_preparing(id) {
            return None;
        }
        let give_up_at = parked_until.unwrap_or(self.now + ADD_PARTITIONS_TO_TXN_RETRY_BACKOFF_MAX);
        (self.now < give_up_at).then(|| ParkedProduce {
            body: body.to_vec(),
            version: v,
            correlation_id: corr,
            retry_at: (self.now + ADD_PARTITIONS_TO_TXN_RETRY_BACKOFF).min(give_up_at),
            give_up_at,
        })
    }

    /// Answers Produce (acks -1 / 1 alike: the single copy is the whole ISR; acks 0: no
    /// answer); a transactions v2 Produce may first wait for its coordinator
    /// ([`park_produce`](Self::park_produce)).
    pub(crate) fn produce(
        &mut self,
        broker_id: i32,
        v: i16,
        corr: i32,
        body: &[u8],
        parked_until: Option<Instant>,
    ) -> Result<Reply, String> {
        let req = ProduceRequest::decode(&mut Reader::new(body), v).map_err(malformed(ApiKey::Produce, v))?;
        if parked_until.is_none() {
            // Counted once, when it arrives, whether it parks or not.
            self.stats.produce_requests += 1;
        }
        if let Some(parked) = self.park_produce(v, corr, body, req.transactional_id, parked_until) {
            return Ok(Reply::Park(parked));
        }
        let acks_ok = matches!(req.acks, -1..=1);
        let mut appended = false;
        let mut hints: Vec<i32> = Vec::new();
        let mut responses = Vec::with_capacity(req.topic_data.len());
        // Kafka collects the entries into a map by partition (`KafkaApis.handleProduceRequest`):
        // of entries naming the same partition only the last is appended and answered.
        let repeated = repeated_entries(&req);
        self.stats.repeated_partitions += repeated.len() as u64;
        for (ti, t) in req.topic_data.iter().enumerate() {
            let mut partition_responses = Vec::with_capacity(t.partition_data.len());
            for (pi, p) in t.partition_data.iter().enumerate() {
                if repeated.binary_search(&(ti, pi)).is_ok() {
                    continue;
                }
                let (o, offsets) = if acks_ok {
                    self.produce_partition(broker_id, v, req.transactional_id, (t.name, p.index), p.records)
                } else {
                    (Outcome::error(ErrorCode::INVALID_REQUIRED_ACKS), (-1, -1))
                };
                self.debug(o.context(), || o.describe(broker_id, t.name, p.index, offsets));
                appended |= o.appended;
                let current_leader = o.leader_hint.filter(|_| v >= 10);
                if let Some(h) = current_leader.filter(|h| h.leader_id >= 0 && !hints.contains(&h.leader_id)) {
                    hints.push(h.leader_id);
                }
                partition_responses.push(PartitionProduceResponse {
                    index: p.index,
                    error_code: o.error.0,
                    base_offset: o.base_offset,
                    log_append_time_ms: -1,
                    log_start_offset: o.log_start_offset,
                    record_errors: Vec::new(),
                    error_message: None,
                    current_leader,
                });
            }
            if !partition_responses.is_empty() || t.partition_data.is_empty() {
                responses.push(TopicProduceResponse { name: t.name, partition_responses });
            }
        }
        if appended {
            self.fetch_dirty = true;
        }
        if req.acks == 0 {
            return Ok(Reply::Nothing);
        }
        if appended && self.faults.append_drop > 0.0 && self.rng.chance(self.faults.append_drop) {
            self.stats.dropped_after_append += 1;
            self.debug(DebugContext::Msg, || {
                format!("broker {broker_id}: injected append_drop: correlation id {corr} appended, connection closed unanswered")
            });
            return Ok(Reply::Drop);
        }
        let node_endpoints = hints
            .iter()
            .filter_map(|id| self.broker(*id))
            .map(|b| NodeEndpoint {
                node_id: b.addr.node_id,
                host: b.addr.host.as_str(),
                port: i32::from(b.addr.port),
                rack: None,
            })
            .collect();
        respond(corr, v, &ProduceResponse { responses, throttle_time_ms: 0, node_endpoints })
    }

    /// One partition's outcome, and the offsets of its batch in the log (appended or
    /// duplicate; `(-1, -1)` otherwise). `transactional_id` is the request's.
    fn produce_partition(
        &mut self,
        broker_id: i32,
        version: i16,
        transactional_id: Option<&str>,
        (topic, partition): (&str, i32),
        records: Option<&[u8]>,
    ) -> (Outcome, (i64, i64)) {
        let none = (-1, -1);
        let now = self.now;
        let max_message_bytes = self.config.max_message_bytes;
        let log_start_offset = match self.led_partition(broker_id, topic, partition) {
            Ok(p) => p.log.log_start_offset(),
            Err(code) => {
                let mut o = Outcome::error(code);
                if code == ErrorCode::NOT_LEADER_OR_FOLLOWER {
                    o.leader_hint = self
                        .topic(topic)
                        .and_then(|t| t.partition(partition))
                        .map(|p| LeaderIdAndEpoch { leader_id: p.leader, leader_epoch: p.leader_epoch });
                }
                return (o, none);
            }
        };
        if records.is_some_and(|r| r.len() > max_message_bytes) {
            return (Outcome::error(ErrorCode::MESSAGE_TOO_LARGE), none);
        }
        let mut scratch = core::mem::take(&mut self.decompression_scratch);
        let parsed = parse_batch(records, version, &mut scratch, self.config.max_decompressed_batch_bytes);
        scratch.clear();
        scratch.shrink_to(SCRATCH_KEEP);
        self.decompression_scratch = scratch;
        let batch = match parsed {
            Ok(b) => b,
            Err(code) => return (Outcome::error(code), none),
        };
        let h = batch.header;
        let ids = Some((h.producer_id, h.producer_epoch, h.base_sequence, h.record_count));
        let transactional = h.is_transactional();
        if transactional {
            let tp = (String::from(topic), partition);
            if is_transactions_v2(ApiKey::Produce, version) {
                // Transactions v2 (KIP-890 part 2): the partition joins the transaction of the
                // request's transactional id (Kafka's leader sends the coordinator an
                // AddPartitionsToTxn v4+ with `verifyOnly` false; here the coordinator is in
                // process). Transactional records without a transactional id are refused as
                // Kafka's `KafkaApis.handleProduceRequest` does.
                let added = match transactional_id {
                    None => ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
                    Some(id) => {
                        let who = TxnCaller {
                            transactional_id: id,
                            producer_id: h.producer_id,
                            producer_epoch: h.producer_epoch,
                            fenced: ErrorCode::PRODUCER_FENCED,
                        };
                        implicit_add_produce_error(self.txns.add_partitions(now, &who, core::slice::from_ref(&tp)))
                    }
                };
                if added != ErrorCode::NONE {
                    self.stats.rejected += 1;
                    return (Outcome { log_start_offset, batch: ids, ..Outcome::error(added) }, none);
                }
            }
            // KIP-890's verification: only into a partition of the producer's ongoing
            // transaction, and never from a fenced epoch.
            let e = self.txns.check_produce(h.producer_id, h.producer_epoch, &tp);
            if e != ErrorCode::NONE {
                self.stats.rejected += 1;
                return (Outcome { log_start_offset, batch: ids, ..Outcome::error(e) }, none);
            }
        }
        let injected = self.faults.error_before.iter().find(|(_, prob)| self.rng.chance(*prob)).map(|(code, _)| *code);
        // Re-borrow: the fault draws above needed `self` whole.
        let Ok(p) = self.led_partition(broker_id, topic, partition) else {
            return (Outcome::error(ErrorCode::UNKNOWN_SERVER_ERROR), none);
        };
        if let Some(code) = injected {
            p.count_injected(code);
            self.stats.errors_before += 1;
            return (Outcome { log_start_offset, why: Why::InjectedBefore, batch: ids, ..Outcome::error(code) }, none);
        }
        let info = BatchInfo::from_header(&h);
        let (mut o, offsets) = match p.producers.check(&info, now) {
            Decision::Reject(code) => {
                self.stats.rejected += 1;
                return (Outcome { log_start_offset, why: Why::Sequence, batch: ids, ..Outcome::error(code) }, none);
            }
            Decision::Duplicate { base_offset, last_offset, .. } => {
                self.stats.duplicates += 1;
                let (error, answered) = match self.config.duplicate_answer {
                    DuplicateAnswer::OriginalOffset => (ErrorCode::NONE, base_offset),
                    DuplicateAnswer::DuplicateSequenceNumber => (ErrorCode::DUPLICATE_SEQUENCE_NUMBER, -1),
                };
                let o = Outcome {
                    base_offset: answered,
                    log_start_offset,
                    why: Why::Duplicate,
                    batch: ids,
                    ..Outcome::error(error)
                };
                return (o, (base_offset, last_offset));
            }
            Decision::Append => {
                let epoch = p.leader_epoch;
                let base = p.log.append(batch.as_bytes().to_vec(), h.last_offset_delta, h.max_timestamp, epoch);
                let last = base.saturating_add(i64::from(h.last_offset_delta));
                p.producers.record_append(&info, base, last, h.max_timestamp, now);
                if transactional {
                    p.txns.on_append(h.producer_id, base);
                }
                let o = Outcome {
                    base_offset: base,
                    log_start_offset: p.log.log_start_offset(),
                    appended: true,
                    why: Why::Appended,
                    batch: ids,
                    ..Outcome::error(ErrorCode::NONE)
                };
                (o, (base, last))
            }
        };
        self.stats.batches_appended += 1;
        self.stats.records_appended += h.record_count as u64;
        for (code, prob) in self.faults.error_after.clone() {
            if self.rng.chance(prob) {
                self.stats.errors_after += 1;
                o.error = code;
                o.base_offset = -1;
                break;
            }
        }
        (o, offsets)
    }
}
