//! Reading the assigned partitions: their committed offsets (OffsetFetch to the coordinator),
//! `auto.offset.reset` where there is none or the position is out of range (ListOffsets to the
//! leader), then Fetch from each leader, one request per leader at a time, for every assigned
//! partition it leads (`fetch.max.wait.ms`, `fetch.min.bytes`, `fetch.max.bytes`,
//! `max.partition.fetch.bytes`; a full fetch each time, no KIP-227 session).
//!
//! A fetched partition's bytes are read batch by batch: a batch whose CRC or records do not
//! check closes the connection (nothing of that response is handed out); a partial batch at
//! the end (the broker cuts at the size limit) is ignored and fetched again next time; control
//! batches (COMMIT/ABORT markers) are never handed out, in either isolation level, but the
//! position moves past them; compressed batches are decompressed within
//! `receive.message.max.bytes`; records below the position are dropped (a batch starts before
//! it).
//!
//! `isolation.level=read_committed` (KIP-98): Fetch asks for READ_COMMITTED, so the broker
//! answers up to the last stable offset and lists the partition's aborted transactions
//! (producer id, first offset). As the Java client's `CompletedFetch`, those are taken in
//! first-offset order: once a batch reaches an aborted transaction's first offset, its producer
//! is aborted, and that producer's transactional batches are skipped until its ABORT marker.
//! Skipped batches move the position past them too, so nothing is fetched twice. Partition errors: OFFSET_OUT_OF_RANGE resets the position per `auto.offset.reset`;
//! NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, FENCED_LEADER_EPOCH, ... refresh the
//! metadata and retry after `retry.backoff.ms`; TOPIC_AUTHORIZATION_FAILED and
//! UNSUPPORTED_COMPRESSION_TYPE stop the consumer.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec;
use alloc::vec::Vec;

use bytes::Bytes;

use super::config::{IsolationLevel, OffsetReset};
use super::{ConsumedRecord, Consumer, ConsumerError, ConsumerEvent, PartPhase, Phase, Req};
use crate::producer::ConnId;
use crate::proto::fetch::{AbortedTransaction, FetchPartition, FetchRequest, FetchResponse, FetchTopic};
use crate::proto::list_offsets::{
    EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, ListOffsetsPartition, ListOffsetsRequest, ListOffsetsResponse,
    ListOffsetsTopic,
};
use crate::proto::offset_fetch::{
    OffsetFetchRequest, OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchResponse,
};
use crate::proto::record_batch::control::{EndTransactionMarker, TransactionResult};
use crate::proto::record_batch::{Compression, ProducerStamp, RecordBatch};
use crate::proto::{self, ApiKey, DecodeError, ErrorCode};

/// What a fetched partition's bytes gave.
enum Decoded {
    /// Records at or past the position, and the position after the last whole batch.
    Records(Vec<ConsumedRecord>, i64),
    /// A batch does not check (CRC, records, decompression).
    Corrupt,
}

/// The aborted transactions of one fetched partition, as a `read_committed` consumer steps
/// through its batches (the Java client's `CompletedFetch`: `abortedTransactions`, a priority
/// queue by first offset, and `abortedProducerIds`). Whatever the broker lists (producers that
/// never wrote, any order, repeats) only decides which batches are skipped.
struct AbortedTransactions {
    /// The transactions not reached yet, by first offset, the next one last (popped first).
    pending: Vec<AbortedTransaction>,
    /// Producers whose aborted transaction has been reached and whose ABORT marker has not.
    producers: BTreeSet<i64>,
}

impl AbortedTransactions {
    /// The transactions of a Fetch answer (`None`, a null array, is none).
    fn new(listed: Option<&[AbortedTransaction]>) -> AbortedTransactions {
        let mut pending = listed.unwrap_or_default().to_vec();
        pending.sort_unstable_by_key(|t| core::cmp::Reverse(t.first_offset));
        AbortedTransactions { pending, producers: BTreeSet::new() }
    }

    /// Whether `batch`, the next one of the partition, belongs to an aborted transaction and is
    /// to be skipped. As `CompletedFetch.nextFetchedRecord`: only batches with a producer id
    /// count; the transactions beginning at or before the batch's last offset abort their
    /// producers; a control batch whose marker is ABORT ends its producer's aborted
    /// transaction (and is itself stepped over as every control batch is); a transactional
    /// batch of an aborted producer is skipped. A control batch whose marker does not read
    /// (Kafka writes none such) is an error.
    fn skips(&mut self, batch: &RecordBatch<'_>) -> Result<bool, DecodeError> {
        let header = &batch.header;
        if header.producer_id <= ProducerStamp::NONE.producer_id {
            return Ok(false);
        }
        let last = header.last_offset();
        while let Some(t) = self.pending.last().filter(|t| t.first_offset <= last) {
            self.producers.insert(t.producer_id);
            self.pending.pop();
        }
        if header.is_control() {
            let marker = EndTransactionMarker::from_batch(batch)?;
            if marker.is_some_and(|m| m.result == TransactionResult::Abort) {
                self.producers.remove(&header.producer_id);
            }
            return Ok(false);
        }
        Ok(header.is_transactional() && self.producers.contains(&header.producer_id))
    }
}

/// Reads the record batches of one partition from `position` on; `frame` holds `data`.
/// `aborted` is `Some` (the transactions the broker listed) in `read_committed`, whose
/// batches it skips; `None` in `read_uncommitted`. Control batches are never handed out.
fn decode_records(
    frame: &Bytes,
    data: &[u8],
    position: i64,
    limit: usize,
    mut aborted: Option<AbortedTransactions>,
) -> Decoded {
    let mut out = Vec::new();
    let mut next = position;
    let mut rest = data;
    while !rest.is_empty() {
        let (batch, len) = match RecordBatch::decode(rest) {
            Ok(b) => b,
            // The broker cuts the last batch at the size limit: fetched again from `next`.
            Err(DecodeError::Truncated { .. }) => break,
            Err(_) => return Decoded::Corrupt,
        };
        rest = rest.get(len..).unwrap_or_default();
        let header = batch.header;
        let last = header.last_offset();
        // Every batch goes through the aborted transactions, below the position or not (the
        // Java client's order): a marker before the position still ends its transaction.
        let skipped = match aborted.as_mut().map(|a| a.skips(&batch)) {
            Some(Err(_)) => return Decoded::Corrupt,
            Some(Ok(skipped)) => skipped,
            None => false,
        };
        if last < next {
            continue;
        }
        // Neither a marker nor an aborted batch is handed out; the position moves past both
        // (else the same batch would be fetched again and again).
        if header.is_control() || skipped {
            next = last.saturating_add(1);
            continue;
        }
        // Uncompressed records borrow the frame; compressed ones a buffer of their own, shared
        // by the batch's records once decoded. Spans are kept as addresses while the records
        // borrow that buffer, and turned into ranges of it after.
        let compressed = !matches!(header.compression(), Ok(Compression::None));
        let mut scratch = Vec::new();
        let Ok(records) = batch.decompressed_records(&mut scratch, limit) else { return Decoded::Corrupt };
        let span = |s: &[u8]| (s.as_ptr() as usize, s.len());
        let mut spans = Vec::new();
        for r in records {
            let Ok(r) = r else { return Decoded::Corrupt };
            let offset = r.offset(&header);
            if offset < next {
                continue;
            }
            // Each offset once, ascending, whatever the batch says.
            next = offset.saturating_add(1);
            // LogAppendTime batches carry the broker's time as their max timestamp (Kafka's
            // `DefaultRecordBatch`: every record of such a batch has it).
            let timestamp =
                if header.timestamp_type_log_append() { header.max_timestamp } else { r.timestamp(&header) };
            spans.push((offset, timestamp, r.key.map(span), r.value.map(span)));
        }
        let owned = if compressed { Bytes::from(scratch) } else { frame.clone() };
        let base = owned.as_ptr() as usize;
        let slice = |s: Option<(usize, usize)>| -> Result<Option<Bytes>, ()> {
            let Some((addr, len)) = s else { return Ok(None) };
            let start = addr.checked_sub(base).ok_or(())?;
            let end = start.checked_add(len).filter(|e| *e <= owned.len()).ok_or(())?;
            Ok(Some(owned.slice(start..end)))
        };
        for (offset, timestamp, key, value) in spans {
            let (Ok(key), Ok(value)) = (slice(key), slice(value)) else { return Decoded::Corrupt };
            out.push(ConsumedRecord { offset, timestamp, key, value });
        }
        next = next.max(last.saturating_add(1));
    }
    Decoded::Records(out, next)
}

/// Whether a Fetch / ListOffsets partition error is mended by fresh metadata.
fn needs_metadata(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::NOT_LEADER_OR_FOLLOWER
            | ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
            | ErrorCode::LEADER_NOT_AVAILABLE
            | ErrorCode::REPLICA_NOT_AVAILABLE
            | ErrorCode::FENCED_LEADER_EPOCH
            | ErrorCode::UNKNOWN_LEADER_EPOCH
            | ErrorCode::KAFKA_STORAGE_ERROR
            | ErrorCode::OFFSET_NOT_AVAILABLE
    )
}

impl Consumer {
    /// OffsetFetch for the partitions whose committed offset is wanted (one at a time).
    pub(super) fn fetch_committed(&mut self, conn: ConnId) {
        if self.offsets_in_flight || self.offsets_retry_at.is_some_and(|t| t > self.now) {
            return;
        }
        let mut wanted: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
        for p in self.parts.iter().filter(|p| p.phase == PartPhase::Committed) {
            wanted.entry(p.topic.as_str()).or_default().push(p.partition);
        }
        if wanted.is_empty() {
            return;
        }
        let Some(v) = self.conns.get(conn).and_then(|c| c.versions()).and_then(|v| v.all.get(ApiKey::OffsetFetch))
        else {
            self.fail(ConsumerError::UnsupportedBroker { api_key: ApiKey::OffsetFetch.as_i16() });
            return;
        };
        let topics: Vec<OffsetFetchRequestTopic<'_>> = wanted
            .into_iter()
            .map(|(name, partition_indexes)| OffsetFetchRequestTopic { name, partition_indexes })
            .collect();
        let group = self.config.group_id.as_str();
        let req = if v >= 8 {
            OffsetFetchRequest {
                groups: vec![OffsetFetchRequestGroup { group_id: group, topics: Some(topics) }],
                ..Default::default()
            }
        } else {
            OffsetFetchRequest { group_id: group, topics: Some(topics), ..Default::default() }
        };
        let kind = Req::OffsetFetch(self.epoch);
        match self.conns.request(conn, v, &req, kind, self.now, self.config.request_timeout) {
            Ok(data) => {
                self.transmit(conn, data);
                self.offsets_in_flight = true;
            }
            Err(_) => self.fail(ConsumerError::UnsupportedBroker { api_key: ApiKey::OffsetFetch.as_i16() }),
        }
    }

    pub(super) fn on_offset_fetch(&mut self, body: &[u8], version: i16, epoch: u64) -> bool {
        let Ok((_, r)) = proto::decode_response::<OffsetFetchResponse<'_>>(body, version) else { return false };
        if epoch != self.epoch {
            return true;
        }
        self.offsets_in_flight = false;
        let (code, topics) = match r.groups.first() {
            Some(g) if version >= 8 => (ErrorCode(g.error_code), &g.topics),
            _ => (ErrorCode(r.error_code), &r.topics),
        };
        if !code.is_ok() {
            self.offsets_retry_at = Some(self.retry.next_at(self.now, 0, &mut self.rng));
            match code {
                ErrorCode::NOT_COORDINATOR | ErrorCode::COORDINATOR_NOT_AVAILABLE => self.coordinator_unknown(),
                ErrorCode::GROUP_AUTHORIZATION_FAILED => self.fail(ConsumerError::Group(code)),
                _ => {}
            }
            return true;
        }
        let mut retry = false;
        for t in topics {
            for p in &t.partitions {
                let Some(part) = self
                    .parts
                    .iter_mut()
                    .find(|x| x.topic == t.name && x.partition == p.partition_index && x.phase == PartPhase::Committed)
                else {
                    continue;
                };
                if !ErrorCode(p.error_code).is_ok() {
                    retry = true;
                } else if p.committed_offset >= 0 {
                    part.position = p.committed_offset;
                    part.phase = PartPhase::Fetchable;
                } else {
                    part.phase = PartPhase::Reset;
                }
            }
        }
        // Partitions the answer did not mention are asked again.
        retry |= self.parts.iter().any(|p| p.phase == PartPhase::Committed);
        if retry {
            self.offsets_retry_at = Some(self.retry.next_at(self.now, 0, &mut self.rng));
        }
        true
    }

    /// ListOffsets and Fetch to the leaders of the assigned partitions, as due.
    pub(super) fn drive_fetches(&mut self) {
        if self.member.phase != Phase::Stable || self.closing.is_some() {
            return;
        }
        let now = self.now;
        // Per leader: partitions to reset, partitions to fetch.
        let mut by_leader: BTreeMap<i32, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
        let mut unknown = false;
        for (i, p) in self.parts.iter().enumerate() {
            if p.fetching || p.retry_at.is_some_and(|t| t > now) {
                continue;
            }
            let wants = match p.phase {
                PartPhase::Reset => 0,
                PartPhase::Fetchable => 1,
                PartPhase::Committed | PartPhase::Resetting => continue,
            };
            let leader = self.metadata.topic(&p.topic).and_then(|t| self.metadata.leader(t, p.partition));
            let Some(leader) = leader else {
                unknown = true;
                continue;
            };
            let entry = by_leader.entry(leader).or_default();
            if wants == 0 { entry.0.push(i) } else { entry.1.push(i) }
        }
        if unknown {
            self.metadata.request_refresh();
        }
        for (leader, (reset, fetch)) in by_leader {
            let Some(conn) = self.broker_conn(leader) else { continue };
            if !reset.is_empty() {
                self.list_offsets(conn, reset);
            }
            let busy = self.conns.get(conn).is_some_and(|c| c.pending.iter().any(|p| matches!(p.kind, Req::Fetch(..))));
            if !fetch.is_empty() && !busy {
                self.fetch(conn, fetch);
            }
            if self.finished {
                return;
            }
        }
    }

    fn list_offsets(&mut self, conn: ConnId, parts: Vec<usize>) {
        let Some(v) = self.version(conn, ApiKey::ListOffsets) else { return };
        let timestamp = match self.config.auto_offset_reset {
            OffsetReset::Earliest => EARLIEST_TIMESTAMP,
            OffsetReset::Latest => LATEST_TIMESTAMP,
        };
        let mut topics: Vec<ListOffsetsTopic<'_>> = Vec::new();
        for &i in &parts {
            let Some(p) = self.parts.get(i) else { continue };
            let lp = ListOffsetsPartition { partition_index: p.partition, timestamp, ..Default::default() };
            match topics.iter_mut().find(|t| t.name == p.topic) {
                Some(t) => t.partitions.push(lp),
                None => topics.push(ListOffsetsTopic { name: &p.topic, partitions: vec![lp] }),
            }
        }
        // read_committed: `latest` is the last stable offset (the Java client's
        // `OffsetFetcher` sends its isolation level). ListOffsets v1 cannot carry it: a broker
        // that old is refused (UnsupportedBroker), as the Java client's
        // `ListOffsetsRequest.Builder.forConsumer` asks v2 at least for READ_COMMITTED.
        let req =
            ListOffsetsRequest { isolation_level: self.config.isolation_level.wire(), topics, ..Default::default() };
        let kind = Req::ListOffsets(self.epoch, parts.clone());
        match self.conns.request(conn, v, &req, kind, self.now, self.config.request_timeout) {
            Ok(data) => {
                self.transmit(conn, data);
                for &i in &parts {
                    if let Some(p) = self.parts.get_mut(i) {
                        p.phase = PartPhase::Resetting;
                    }
                }
            }
            Err(_) => self.fail(ConsumerError::UnsupportedBroker { api_key: ApiKey::ListOffsets.as_i16() }),
        }
    }

    pub(super) fn on_list_offsets(&mut self, body: &[u8], version: i16, epoch: u64, parts: &[usize]) -> bool {
        let Ok((_, r)) = proto::decode_response::<ListOffsetsResponse<'_>>(body, version) else {
            self.parts_failed(epoch, parts, PartPhase::Reset, false);
            return false;
        };
        if epoch != self.epoch {
            return true;
        }
        let mut failed = Vec::new();
        let mut refresh = false;
        for &i in parts {
            let Some(p) = self.parts.get_mut(i) else { continue };
            if p.phase != PartPhase::Resetting {
                continue;
            }
            let answer = r
                .topics
                .iter()
                .filter(|t| t.name == p.topic)
                .flat_map(|t| &t.partitions)
                .find(|x| x.partition_index == p.partition);
            match answer {
                Some(a) if ErrorCode(a.error_code).is_ok() && a.offset >= 0 => {
                    p.position = a.offset;
                    p.phase = PartPhase::Fetchable;
                    p.failures = 0;
                    p.retry_at = None;
                }
                Some(a) if ErrorCode(a.error_code) == ErrorCode::TOPIC_AUTHORIZATION_FAILED => {
                    let (topic, partition) = (p.topic.clone(), p.partition);
                    self.fail(ConsumerError::Partition { topic, partition, error: ErrorCode(a.error_code) });
                    return true;
                }
                a => {
                    refresh |= a.is_none_or(|a| needs_metadata(ErrorCode(a.error_code)));
                    failed.push(i);
                }
            }
        }
        self.parts_failed(epoch, &failed, PartPhase::Reset, refresh);
        true
    }

    fn fetch(&mut self, conn: ConnId, parts: Vec<usize>) {
        let Some(v) = self.version(conn, ApiKey::Fetch) else { return };
        let max_partition = self.config.max_partition_fetch_bytes;
        let mut topics: Vec<FetchTopic<'_>> = Vec::new();
        for &i in &parts {
            let Some(p) = self.parts.get(i) else { continue };
            let fp = FetchPartition {
                partition: p.partition,
                fetch_offset: p.position,
                partition_max_bytes: max_partition,
                ..Default::default()
            };
            match topics.iter_mut().find(|t| t.topic == p.topic) {
                Some(t) => t.partitions.push(fp),
                None => topics.push(FetchTopic { topic: &p.topic, partitions: vec![fp] }),
            }
        }
        let req = FetchRequest {
            max_wait_ms: self.config.fetch_max_wait.as_millis().min(i32::MAX as u64) as i32,
            min_bytes: self.config.fetch_min_bytes,
            max_bytes: self.config.fetch_max_bytes,
            isolation_level: self.config.isolation_level.wire(),
            topics,
            ..Default::default()
        };
        let timeout = self.config.request_timeout + self.config.fetch_max_wait;
        let kind = Req::Fetch(self.epoch, parts.clone());
        match self.conns.request(conn, v, &req, kind, self.now, timeout) {
            Ok(data) => {
                self.transmit(conn, data);
                for &i in &parts {
                    if let Some(p) = self.parts.get_mut(i) {
                        p.fetching = true;
                    }
                }
            }
            Err(_) => self.fail(ConsumerError::UnsupportedBroker { api_key: ApiKey::Fetch.as_i16() }),
        }
    }

    pub(super) fn on_fetch(&mut self, frame: &Bytes, version: i16, epoch: u64, parts: &[usize]) -> bool {
        let Ok((_, r)) = proto::decode_response::<FetchResponse<'_>>(frame, version) else {
            self.parts_failed(epoch, parts, PartPhase::Fetchable, false);
            return false;
        };
        if epoch != self.epoch {
            return true;
        }
        for &i in parts {
            if let Some(p) = self.parts.get_mut(i) {
                p.fetching = false;
            }
        }
        // Records are handed out only while stable and not closing: once a revocation or
        // close has taken the positions to commit, nothing more may go out.
        let handing_out = self.member.phase == Phase::Stable && self.closing.is_none();
        if !ErrorCode(r.error_code).is_ok() {
            self.parts_failed(epoch, parts, PartPhase::Fetchable, false);
            return true;
        }
        let limit = self.config.receive_message_max_bytes;
        let isolation = self.config.isolation_level;
        let mut failed = Vec::new();
        let mut refresh = false;
        let mut events = Vec::new();
        for &i in parts {
            let Some(p) = self.parts.get_mut(i) else { continue };
            let answer = r
                .responses
                .iter()
                .filter(|t| t.topic == p.topic)
                .flat_map(|t| &t.partitions)
                .find(|x| x.partition_index == p.partition);
            let Some(a) = answer else { continue };
            let code = ErrorCode(a.error_code);
            match code {
                ErrorCode::NONE => {
                    let data = a.records.unwrap_or_default();
                    let aborted = (isolation == IsolationLevel::ReadCommitted)
                        .then(|| AbortedTransactions::new(a.aborted_transactions.as_deref()));
                    match decode_records(frame, data, p.position, limit, aborted) {
                        Decoded::Corrupt => return false,
                        Decoded::Records(records, next) => {
                            p.failures = 0;
                            if !handing_out {
                                continue;
                            }
                            p.position = p.position.max(next);
                            if !records.is_empty() {
                                events.push(ConsumerEvent::Records {
                                    topic: p.topic.clone(),
                                    partition: p.partition,
                                    records,
                                });
                            }
                        }
                    }
                }
                ErrorCode::OFFSET_OUT_OF_RANGE => {
                    p.phase = PartPhase::Reset;
                }
                ErrorCode::TOPIC_AUTHORIZATION_FAILED | ErrorCode::UNSUPPORTED_COMPRESSION_TYPE => {
                    let (topic, partition) = (p.topic.clone(), p.partition);
                    self.fail(ConsumerError::Partition { topic, partition, error: code });
                    return true;
                }
                _ => {
                    refresh |= needs_metadata(code);
                    failed.push(i);
                }
            }
        }
        for e in events {
            self.event(e);
        }
        self.parts_failed(epoch, &failed, PartPhase::Fetchable, refresh);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::record_batch::{ATTR_TRANSACTIONAL, CompressionContext, RecordBatchBuilder, set_base_offset};
    use alloc::format;

    fn batch(base: i64, n: usize, codec: Compression, control: bool) -> Vec<u8> {
        let mut b = RecordBatchBuilder::new(1_000);
        for i in 0..n {
            let v = format!("v{}", base.wrapping_add(i as i64));
            b.append(1_000 + i as i64, Some(b"k"), Some(v.as_bytes()), &[]).unwrap();
        }
        let mut bytes = b.seal_compressed(ProducerStamp::NONE, codec, None, &mut CompressionContext::new()).unwrap();
        bytes[..8].copy_from_slice(&base.to_be_bytes());
        if control {
            // attributes bit 5, then the CRC again (over attributes onwards).
            bytes[22] |= 0x20;
            let crc = crate::crc32c::checksum(&bytes[21..]);
            bytes[17..21].copy_from_slice(&crc.to_be_bytes());
        }
        bytes
    }

    fn values(d: &Decoded) -> (Vec<i64>, i64) {
        match d {
            Decoded::Records(r, next) => (r.iter().map(|r| r.offset).collect(), *next),
            Decoded::Corrupt => panic!("corrupt"),
        }
    }

    #[test]
    fn batches_positions_partial_and_control() {
        let mut data = batch(0, 3, Compression::None, false);
        data.extend(batch(3, 2, Compression::None, true));
        data.extend(batch(5, 4, Compression::Lz4, false));
        let whole = batch(9, 2, Compression::None, false);
        data.extend(&whole[..whole.len() - 5]); // cut at the size limit
        let frame = Bytes::from(data.clone());
        let d = decode_records(&frame, &frame, 0, 1 << 20, None);
        assert_eq!(values(&d), (vec![0, 1, 2, 5, 6, 7, 8], 9));
        // From inside a batch: the records before the position are dropped.
        let d = decode_records(&frame, &frame, 6, 1 << 20, None);
        assert_eq!(values(&d), (vec![6, 7, 8], 9));
        let Decoded::Records(r, _) = d else { unreachable!() };
        assert_eq!(r[0].value.as_deref(), Some(&b"v6"[..]));
        assert_eq!(r[0].key.as_deref(), Some(&b"k"[..]));
        assert_eq!((r[0].timestamp, r[2].timestamp), (1_001, 1_003)); // CreateTime: per record
        // Uncompressed records share the frame.
        let d = decode_records(&frame, &frame, 0, 1 << 20, None);
        let Decoded::Records(r, _) = d else { unreachable!() };
        let v = r[0].value.as_ref().unwrap();
        let at = v.as_ptr() as usize - frame.as_ptr() as usize;
        assert!(at + v.len() <= frame.len());
        // A flipped byte fails the CRC: corrupt, nothing handed out.
        let mut bad = data.clone();
        bad[40] ^= 1;
        let bad = Bytes::from(bad);
        assert!(matches!(decode_records(&bad, &bad, 0, 1 << 20, None), Decoded::Corrupt));
        // LogAppendTime: every record has the batch's max timestamp.
        let mut appended = batch(0, 2, Compression::None, false);
        appended[22] |= 0x08;
        appended[35..43].copy_from_slice(&99_999i64.to_be_bytes());
        let crc = crate::crc32c::checksum(&appended[21..]);
        appended[17..21].copy_from_slice(&crc.to_be_bytes());
        let appended = Bytes::from(appended);
        let Decoded::Records(r, _) = decode_records(&appended, &appended, 0, 1 << 20, None) else { panic!() };
        assert_eq!(r.iter().map(|r| r.timestamp).collect::<Vec<_>>(), [99_999, 99_999]);
        // Hostile offsets: a batch at the end of the offset space, records out of order.
        let mut far = batch(i64::MAX - 3, 3, Compression::None, false);
        far.extend(batch(0, 2, Compression::None, false));
        far.extend(batch(i64::MAX - 1, 3, Compression::None, false)); // its last offset wraps
        let far = Bytes::from(far);
        let d = decode_records(&far, &far, i64::MAX - 2, 1 << 20, None);
        assert_eq!(values(&d), (vec![i64::MAX - 2, i64::MAX - 1], i64::MAX));
        // A decompression beyond the limit is corrupt.
        let big = Bytes::from(batch(0, 50, Compression::Lz4, false));
        assert!(matches!(decode_records(&big, &big, 0, 10, None), Decoded::Corrupt));
    }

    /// A transactional batch of producer `pid`: `n` records from offset `base`.
    fn txn_batch(pid: i64, base: i64, n: usize) -> Vec<u8> {
        let mut b = RecordBatchBuilder::new(1_000);
        for i in 0..n {
            let v = format!("v{}", base.wrapping_add(i as i64));
            b.append(1_000, None, Some(v.as_bytes()), &[]).unwrap();
        }
        let stamp = ProducerStamp { producer_id: pid, producer_epoch: 0, base_sequence: 0 };
        let mut bytes = b.seal_flagged(stamp, ATTR_TRANSACTIONAL);
        assert!(set_base_offset(&mut bytes, base));
        bytes
    }

    /// The COMMIT or ABORT marker of producer `pid` at `offset`.
    fn marker(pid: i64, offset: i64, result: TransactionResult) -> Vec<u8> {
        EndTransactionMarker { result, coordinator_epoch: 0 }.control_batch(pid, 0, offset, 1_000)
    }

    /// Offsets 0-1: producer 7, aborted at 4; 2-3: producer 8, committed at 7; 5-6: producer 7
    /// again, committed at 9; 8: not transactional; 10-11: producer 8, aborted at 12.
    fn interleaved() -> Bytes {
        let mut data = txn_batch(7, 0, 2);
        data.extend(txn_batch(8, 2, 2));
        data.extend(marker(7, 4, TransactionResult::Abort));
        data.extend(txn_batch(7, 5, 2));
        data.extend(marker(8, 7, TransactionResult::Commit));
        data.extend(batch(8, 1, Compression::None, false));
        data.extend(marker(7, 9, TransactionResult::Commit));
        data.extend(txn_batch(8, 10, 2));
        data.extend(marker(8, 12, TransactionResult::Abort));
        Bytes::from(data)
    }

    /// The aborted transactions (producer id, first offset) of a read_committed Fetch answer.
    fn aborted(list: &[(i64, i64)]) -> Option<AbortedTransactions> {
        let list: Vec<AbortedTransaction> =
            list.iter().map(|&(producer_id, first_offset)| AbortedTransaction { producer_id, first_offset }).collect();
        Some(AbortedTransactions::new(Some(&list)))
    }

    #[test]
    fn read_committed_skips_aborted_transactions_and_markers() {
        let frame = interleaved();
        let committed = (vec![2, 3, 5, 6, 8], 13);
        let d = decode_records(&frame, &frame, 0, 1 << 20, aborted(&[(7, 0), (8, 10)]));
        assert_eq!(values(&d), committed);
        // read_uncommitted: every data record, still no marker; the position past the last one.
        let d = decode_records(&frame, &frame, 0, 1 << 20, None);
        assert_eq!(values(&d), (vec![0, 1, 2, 3, 5, 6, 8, 10, 11], 13));
        // The list in any order, with repeats: the same.
        let d = decode_records(&frame, &frame, 0, 1 << 20, aborted(&[(8, 10), (7, 0), (8, 10)]));
        assert_eq!(values(&d), committed);
        // A list naming producers that never wrote here, or no producer, changes nothing.
        let hostile = [(99, 3), (7, 0), (-1, 0), (i64::MIN, i64::MIN), (8, 10), (5, i64::MAX)];
        let d = decode_records(&frame, &frame, 0, 1 << 20, aborted(&hostile));
        assert_eq!(values(&d), committed);
        // From the middle of the aborted batch, and from a marker.
        let d = decode_records(&frame, &frame, 1, 1 << 20, aborted(&[(7, 0), (8, 10)]));
        assert_eq!(values(&d), (vec![2, 3, 5, 6, 8], 13));
        let d = decode_records(&frame, &frame, 4, 1 << 20, aborted(&[(8, 10)]));
        assert_eq!(values(&d), (vec![5, 6, 8], 13));
        // Nothing but an aborted batch and its marker: no record, the position past both.
        let mut tail = txn_batch(8, 10, 2);
        tail.extend(marker(8, 12, TransactionResult::Abort));
        let tail = Bytes::from(tail);
        assert_eq!(values(&decode_records(&tail, &tail, 10, 1 << 20, aborted(&[(8, 10)]))), (vec![], 13));
        // An ABORT marker ends the producer's aborted transaction: its later batches (listed
        // as aborted from a later first offset only) are read.
        let mut again = txn_batch(7, 0, 1);
        again.extend(marker(7, 1, TransactionResult::Abort));
        again.extend(txn_batch(7, 2, 1));
        let again = Bytes::from(again);
        assert_eq!(values(&decode_records(&again, &again, 0, 1 << 20, aborted(&[(7, 0)]))), (vec![2], 3));
        assert_eq!(values(&decode_records(&again, &again, 0, 1 << 20, aborted(&[(7, 0), (7, 2)]))), (vec![], 3));
    }

    #[test]
    fn a_marker_that_does_not_read_is_corrupt_in_read_committed_only() {
        // A control batch of producer 7 whose record key is not a control record key.
        let mut b = RecordBatchBuilder::new(1_000);
        b.append(1_000, Some(b"x"), Some(b"y"), &[]).unwrap();
        let stamp = ProducerStamp { producer_id: 7, producer_epoch: 0, base_sequence: -1 };
        let bad = Bytes::from(b.seal_flagged(stamp, ATTR_TRANSACTIONAL | crate::proto::record_batch::ATTR_CONTROL));
        assert!(matches!(decode_records(&bad, &bad, 0, 1 << 20, aborted(&[(7, 0)])), Decoded::Corrupt));
        assert_eq!(values(&decode_records(&bad, &bad, 0, 1 << 20, None)), (vec![], 1));
        // Any bytes after a valid batch, any list: no panic.
        let mut rng = crate::rand::Rng::new(9);
        let frame = interleaved();
        for _ in 0..2000 {
            let mut v = frame.to_vec();
            let at = rng.below(v.len() as u64) as usize;
            v[at] ^= 1 << rng.below(8);
            let v = Bytes::from(v);
            let list: Vec<(i64, i64)> =
                (0..rng.below(4)).map(|_| (rng.below(10) as i64, rng.below(14) as i64)).collect();
            let _ = decode_records(&v, &v, rng.below(14) as i64, 1 << 20, aborted(&list));
        }
    }
}
