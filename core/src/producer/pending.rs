//! Records waiting for metadata: a record accepted before its topic's partition count is known
//! (at startup, or for a new topic) is copied into its topic's [`Pending`] queue and accounted
//! against `buffer.memory`; once the count is known the queue is routed into partitions in
//! `send` order. Steady-state sends never come here: with metadata known a record goes straight
//! into its partition's open batch.
//!
//! Guarantees:
//! - Order: a topic's waiting records are appended in `send` order, and a record sent while
//!   others wait queues behind them (never overtakes them into a batch).
//! - Each record gets one report like any other: delivered or failed once routed, failed
//!   NotPersisted if `delivery.timeout.ms` elapses (counted from `send`) while it waits, or at
//!   once when the topic's metadata says waiting will not help (an invalid or unauthorised topic).

use alloc::collections::VecDeque;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::accumulator::{RecordRef, record_meta_size};
use super::diagnostic::DiagnosticKind;
use super::metadata::is_hopeless;
use super::report::{DeliveryError, Persisted, RecordId, SendError};
use super::timer::TimerKind;
use super::{Producer, ProducerRecord};
use crate::debug::DebugContext;
use crate::proto::ErrorCode;
use crate::time::Instant;

/// Room reserved for a waiting record beyond its one-record batch size and its bookkeeping in
/// the batch ([`record_meta_size`]): the offset and timestamp deltas it gets once in a batch.
const DELTA_SLACK: usize = 16;

/// A record accepted before its topic's metadata was known (copied).
#[derive(Debug)]
pub(super) struct PendingRecord<T> {
    id: RecordId,
    opaque: T,
    partition: Option<i32>,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
    timestamp_ms: i64,
    accepted: Instant,
    reserved: usize,
}

/// One topic's records waiting for metadata, oldest first.
#[derive(Debug)]
pub(super) struct Pending<T> {
    records: VecDeque<PendingRecord<T>>,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Pending { records: VecDeque::new() }
    }
}

impl<T> Pending<T> {
    /// Whether no record waits.
    pub(super) fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// How many records wait.
    pub(super) fn len(&self) -> usize {
        self.records.len()
    }

    /// When the oldest waiting record was accepted (its delivery timeout runs from there).
    pub(super) fn oldest_accepted(&self) -> Option<Instant> {
        self.records.front().map(|p| p.accepted)
    }

    /// Takes the oldest waiting record if it was accepted at or before `cutoff` (any, when
    /// `cutoff` is `None`).
    fn pop_accepted_by(&mut self, cutoff: Option<Instant>) -> Option<PendingRecord<T>> {
        let p = self.records.front()?;
        if cutoff.is_some_and(|t| p.accepted > t) {
            return None;
        }
        self.records.pop_front()
    }
}

impl<T> Producer<T> {
    /// Accepts `record` for topic `t`, whose partition count is not known yet (or whose earlier
    /// records still wait): copies it into the topic's queue, reserving `single` bytes (its
    /// one-record batch) plus slack. A refused record's opaque value is given back.
    pub(super) fn hold_for_metadata(
        &mut self,
        t: usize,
        now: Instant,
        id: RecordId,
        record: &ProducerRecord<'_>,
        single: usize,
        opaque: T,
    ) -> Result<(), (SendError, T)> {
        // Enough that, once the record's metadata is known, releasing this reservation makes
        // room for a new batch of the record alone (buffer and bookkeeping), even with
        // `buffer.memory` full of other waiting records: otherwise they could all wait for
        // memory only they hold.
        let single = single + DELTA_SLACK + record_meta_size::<T>();
        if let Err(e) = self.acc.reserve(single) {
            return Err((e, opaque));
        }
        let p = PendingRecord {
            id,
            opaque,
            partition: record.partition,
            key: record.key.map(<[u8]>::to_vec),
            value: record.value.map(<[u8]>::to_vec),
            headers: record.headers.iter().map(|(k, v)| (k.to_string(), v.map(<[u8]>::to_vec))).collect(),
            timestamp_ms: record.timestamp_ms,
            accepted: now,
            reserved: single,
        };
        if let Some(ts) = self.topics.get_mut(t) {
            ts.pending.records.push_back(p);
        }
        self.timers.lower(TimerKind::Delivery, now + self.config.delivery_timeout);
        if self.metadata.due(now) {
            self.drive(now);
        }
        Ok(())
    }

    /// Moves records that waited for metadata into their partitions, in `send` order.
    pub(super) fn route_pending(&mut self, now: Instant) {
        for t in 0..self.topics.len() {
            let Some(meta) = self.metadata.topics.get(t) else { continue };
            if let Some(code) = meta.error.filter(|c| is_hopeless(*c)) {
                // Will not get better by waiting.
                let failed: Vec<PendingRecord<T>> = self.topics[t].pending.records.drain(..).collect();
                self.describe_waiting_failed(t, failed.len(), DeliveryError::Rejected(code));
                for p in failed {
                    self.acc.release(p.reserved);
                    self.fail_record(p.id, DeliveryError::Rejected(code), Persisted::No, p.opaque);
                }
                continue;
            }
            let Some(count) = meta.partition_count() else { continue };
            while let Some(mut p) = self.topics[t].pending.records.pop_front() {
                self.acc.release(p.reserved);
                // The opaque value moves into the batch; the rest is only borrowed.
                let opaque = p.opaque;
                let headers: Vec<(&str, Option<&[u8]>)> =
                    p.headers.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
                let r = RecordRef {
                    timestamp_ms: p.timestamp_ms,
                    key: p.key.as_deref(),
                    value: p.value.as_deref(),
                    headers: &headers,
                };
                // The batch's clock starts when the record was accepted: delivery.timeout.ms bounds
                // the time from `send` to the report.
                let id = p.id;
                let (_, result) = self.append(t, count, p.accepted.min(now), id, p.partition, &r, opaque);
                match result {
                    Ok(()) => {}
                    Err((SendError::QueueFull, opaque)) => {
                        // Only possible when the record grew by its offset/timestamp deltas:
                        // keep it waiting (the bytes just released are free again).
                        drop(headers);
                        if self.acc.reserve(p.reserved).is_ok() {
                            p.opaque = opaque;
                            self.topics[t].pending.records.push_front(p);
                            break;
                        }
                        self.fail_record(
                            id,
                            DeliveryError::Rejected(ErrorCode::MESSAGE_TOO_LARGE),
                            Persisted::No,
                            opaque,
                        );
                    }
                    Err((e, opaque)) => {
                        let error = match e {
                            SendError::InvalidPartition(_) => {
                                DeliveryError::Rejected(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)
                            }
                            _ => DeliveryError::Rejected(ErrorCode::MESSAGE_TOO_LARGE),
                        };
                        self.fail_record(id, error, Persisted::No, opaque);
                    }
                }
            }
        }
        self.metrics.buffered_bytes = self.acc.used() as u64;
    }

    /// Fails waiting records NotPersisted with `error`: those accepted at or before
    /// `only_expired_before`, or all of them when it is `None`.
    pub(super) fn fail_pending(&mut self, error: DeliveryError, only_expired_before: Option<Instant>) {
        let mut failed = Vec::new();
        for t in 0..self.topics.len() {
            let before = failed.len();
            while let Some(p) = self.topics[t].pending.pop_accepted_by(only_expired_before) {
                failed.push(p);
            }
            self.describe_waiting_failed(t, failed.len() - before, error);
        }
        for p in failed {
            self.acc.release(p.reserved);
            self.fail_record(p.id, error, Persisted::No, p.opaque);
        }
        self.metrics.buffered_bytes = self.acc.used() as u64;
    }

    /// `msg`: `records` waiting for topic `t`'s metadata fail with `error`.
    fn describe_waiting_failed(&mut self, t: usize, records: usize, error: DeliveryError) {
        if records > 0 && self.debugging(DebugContext::Msg) {
            let topic = self.topic_name(t);
            let (records, persisted) = (records as u64, Persisted::No);
            self.diagnose(DiagnosticKind::Failed { topic, partition: -1, batch: None, records, error, persisted });
        }
    }
}
