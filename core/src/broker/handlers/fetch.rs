//! Fetch: reads whole batches from the logs (`read_committed`: up to the last stable offset,
//! with the aborted transactions); waits (long poll) while there is nothing to send.

use crate::broker::cluster::{Cluster, Reply, malformed, respond};
use crate::broker::log::ReadError;
use crate::proto::fetch::{FetchPartitionData, FetchRequest, FetchResponse, FetchableTopicResponse, READ_COMMITTED};
use crate::proto::record_batch::{Compression, RecordBatch};
use crate::proto::{ApiKey, ErrorCode, Message, Reader};
use crate::time::Duration;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

/// Cap on the record bytes of one Fetch response, whatever the request asks (Kafka's broker
/// `fetch.max.bytes` default, 55 MiB): a small request cannot make a huge answer.
pub(crate) const MAX_FETCH_RESPONSE_BYTES: usize = 55 * 1024 * 1024;

/// Whether any of the stored batches in `records` is zstd-compressed.
fn holds_zstd(mut records: &[u8]) -> bool {
    while let Ok((batch, len)) = RecordBatch::decode_unverified(records) {
        if batch.header.compression() == Ok(Compression::Zstd) {
            return true;
        }
        records = records.get(len..).unwrap_or_default();
    }
    false
}

/// What a fetch evaluation decided.
#[derive(Debug)]
pub(crate) enum FetchOutcome {
    /// The whole response frame.
    Ready(Vec<u8>),
    /// Nothing to send yet: wait at most this long for data.
    Wait(Duration),
}

impl Cluster {
    /// Evaluates a Fetch request body. Answers at once when there is at least `min_bytes` of
    /// data, any partition has an error, `max_wait_ms` is 0, or `forced` (the wait is over);
    /// otherwise asks to wait. Sessions (KIP-227) are not kept: every answer is a full one with
    /// session id 0. Leader epochs in the request are not checked.
    pub(crate) fn fetch(
        &mut self,
        broker_id: i32,
        v: i16,
        corr: i32,
        body: &[u8],
        forced: bool,
    ) -> Result<FetchOutcome, String> {
        let mut r = Reader::new(body);
        let req = FetchRequest::decode(&mut r, v).map_err(malformed(ApiKey::Fetch, v))?;
        let mut buf = Vec::new();
        let mut remaining = usize::try_from(req.max_bytes).unwrap_or(0).min(MAX_FETCH_RESPONSE_BYTES);
        let mut any_error = false;
        let committed = v >= 4 && req.isolation_level == READ_COMMITTED;
        let mut parts: Vec<Vec<(FetchPartitionData<'static>, Range<usize>)>> = Vec::with_capacity(req.topics.len());
        for t in &req.topics {
            let mut answers = Vec::with_capacity(t.partitions.len());
            for q in &t.partitions {
                let mut d = FetchPartitionData { partition_index: q.partition, ..FetchPartitionData::default() };
                if committed {
                    d.aborted_transactions = Some(Vec::new());
                }
                let start = buf.len();
                match self.led_partition(broker_id, t.topic, q.partition) {
                    Err(code) => {
                        d.error_code = code.0;
                        any_error = true;
                    }
                    Ok(p) => {
                        let lso = p.txns.last_stable_offset(p.log.log_end_offset());
                        d.high_watermark = p.log.log_end_offset();
                        d.last_stable_offset = lso;
                        d.log_start_offset = p.log.log_start_offset();
                        let limit = usize::try_from(q.partition_max_bytes).unwrap_or(0).min(remaining);
                        // KIP-98: read_committed reads up to the last stable offset, with the
                        // aborted transactions of what it returns.
                        let end = if committed { lso } else { p.log.log_end_offset() };
                        let read = p.log.read_until(q.fetch_offset, limit, start == 0, end, &mut buf);
                        if let (Some(list), Ok((_, next))) = (d.aborted_transactions.as_mut(), &read) {
                            *list = p.txns.aborted_between(q.fetch_offset, *next);
                        }
                        match read.map(|(n, _)| n) {
                            // KIP-110: zstd batches are served from Fetch v10 on; an older
                            // fetcher gets UNSUPPORTED_COMPRESSION_TYPE for the partition.
                            Ok(_)
                                if v < Compression::Zstd.min_fetch_version()
                                    && holds_zstd(buf.get(start..).unwrap_or_default()) =>
                            {
                                buf.truncate(start);
                                d.error_code = ErrorCode::UNSUPPORTED_COMPRESSION_TYPE.0;
                                any_error = true;
                            }
                            Ok(n) => remaining = remaining.saturating_sub(n),
                            Err(ReadError::OffsetOutOfRange) => {
                                d.error_code = ErrorCode::OFFSET_OUT_OF_RANGE.0;
                                any_error = true;
                            }
                        }
                    }
                }
                answers.push((d, start..buf.len()));
            }
            parts.push(answers);
        }
        let min_bytes = usize::try_from(req.min_bytes).unwrap_or(0);
        if !forced && !any_error && req.max_wait_ms > 0 && buf.len() < min_bytes {
            let wait = Duration::from_millis(u64::try_from(req.max_wait_ms).unwrap_or(0));
            return Ok(FetchOutcome::Wait(wait.min(self.config.max_fetch_wait)));
        }
        let responses = req
            .topics
            .iter()
            .zip(parts)
            .map(|(t, answers)| FetchableTopicResponse {
                topic: t.topic,
                partitions: answers
                    .into_iter()
                    .map(|(d, range)| FetchPartitionData { records: Some(buf.get(range).unwrap_or_default()), ..d })
                    .collect(),
            })
            .collect();
        let body = FetchResponse { throttle_time_ms: 0, error_code: ErrorCode::NONE.0, session_id: 0, responses };
        match respond(corr, v, &body)? {
            Reply::Respond(data) => Ok(FetchOutcome::Ready(data)),
            _ => Err(String::from("fetch response not encoded")),
        }
    }
}
