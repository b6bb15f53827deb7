//! One partition's send machine: sequence numbers, the in-flight window, retries in sequence
//! order, and the per-batch decisions, as the Java client (`Sender`, `TransactionManager`),
//! librdkafka (`rdkafka_idempotence.c`) and franz-go (`sink.go`) take them.
//!
//! Safety decisions (each one closes a bug others shipped):
//! - Sequence numbers are assigned when a batch is sealed, with Int32 wrap-around (MAX -> 0).
//! - A batch that was transmitted and whose outcome is unknown (no answer: request timeout,
//!   disconnect; or an ambiguous error such as REQUEST_TIMED_OUT or
//!   NOT_ENOUGH_REPLICAS_AFTER_APPEND) is marked `maybe_persisted`. Such a batch is only ever
//!   resent with its original bytes: same producer id, epoch, base sequence and CRC. It is never
//!   re-stamped into a new epoch or renumbered (Redpanda #3039, librdkafka #4953): it is either
//!   acknowledged (success, DUPLICATE_SEQUENCE_NUMBER, or implicitly by a later batch) or given up
//!   and reported `Persisted::Possibly`.
//! - At most `window` (<= 5) batches are in flight, all on one connection, so the broker sees them
//!   in sequence order. When one must be retried, nothing new is sent: the partition waits until
//!   every outstanding request is answered or lost, backs off, then resends the window from its
//!   head in sequence order, one batch at a time (each answered before the next); the batches
//!   behind wait for it. See [`PartitionState::has_room`] for what bounds new batches.
//! - A leader change never splits a partition's requests over two connections: the partition
//!   sends to the new leader only once nothing is in flight to the old one (answered, lost on
//!   disconnect, or timed out), and then resends in sequence order.
//! - Renumbering (after an epoch bump or a new producer id) only touches batches that are
//!   definitely not in the log (never sent, or every attempt rejected), and every partition
//!   restarts at sequence 0, including partitions with nothing in flight (KAFKA-12152).

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};

use super::ConnId;
use super::accumulator::{OpenBatch, RecordMeta};
use super::agenda::Marks;
use super::classify::{ErrorClass, classify, is_too_large, refreshes_metadata};
use super::diagnostic::{BatchSummary, BumpReason, RetryReason, UnknownReason};
use super::report::{DeliveryError, Persisted};
use super::sealer::Sealer;
use super::transaction::Membership;
use crate::proto::ErrorCode;
use crate::proto::record_batch::{ProducerStamp, increment_sequence, restamp};
use crate::time::{Duration, Instant};

/// The most batches a partition keeps in flight (Kafka's broker-side dedup window).
pub(crate) const MAX_WINDOW: usize = 5;

/// A sealed batch: final bytes plus what is needed to report its records.
#[derive(Debug)]
pub(crate) struct SealedBatch<T> {
    /// The RecordBatch bytes, exactly as transmitted (and retransmitted): a shared buffer that
    /// Produce requests carry by reference.
    pub(crate) bytes: Bytes,
    /// Its records in offset order.
    pub(crate) records: Vec<RecordMeta<T>>,
    /// When its first record was appended.
    pub(crate) created: Instant,
    /// Bytes accounted against `buffer.memory`.
    pub(crate) accounted: usize,
    /// The stamp in `bytes`.
    pub(crate) stamp: ProducerStamp,
    /// Transmissions so far.
    pub(crate) attempts: u32,
    /// Some transmission's outcome is unknown: it may be in the log.
    pub(crate) maybe_persisted: bool,
    /// The request carrying it now: connection and correlation id.
    pub(crate) in_flight: Option<(ConnId, i32)>,
    /// Its place in the partition's order of first transmissions (see
    /// [`PartitionState::has_room`]).
    pub(crate) ordinal: u64,
    /// Refused as too large (MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE): split in two when the
    /// partition is renumbered.
    pub(crate) split: bool,
}

impl<T> SealedBatch<T> {
    /// A batch sealed with `stamp`, never transmitted.
    fn new(
        bytes: Bytes,
        records: Vec<RecordMeta<T>>,
        created: Instant,
        accounted: usize,
        stamp: ProducerStamp,
    ) -> Self {
        SealedBatch {
            bytes,
            records,
            created,
            accounted,
            stamp,
            attempts: 0,
            maybe_persisted: false,
            in_flight: None,
            ordinal: 0,
            split: false,
        }
    }

    /// Whether it carries a producer id and sequence (an idempotent producer's batch).
    fn is_sequenced(&self) -> bool {
        self.stamp != ProducerStamp::NONE
    }

    /// Number of records.
    pub(crate) fn record_count(&self) -> i32 {
        self.records.len() as i32
    }

    /// How diagnostics name it.
    pub(crate) fn summary(&self) -> BatchSummary {
        BatchSummary {
            producer_id: self.stamp.producer_id,
            epoch: self.stamp.producer_epoch,
            base_sequence: self.stamp.base_sequence,
            records: self.records.len() as u32,
            attempts: self.attempts,
        }
    }

    /// Re-stamps its bytes with `stamp` (producer id, epoch, base sequence, CRC): in place, or
    /// on a copy while a request still holds the bytes it was sent with (a frame the driver
    /// has not written or dropped yet), which must not change under it.
    fn restamp(&mut self, stamp: ProducerStamp) {
        let bytes = core::mem::take(&mut self.bytes);
        let mut own = bytes.try_into_mut().unwrap_or_else(|shared| BytesMut::from(&shared[..]));
        restamp(&mut own, stamp);
        self.bytes = own.freeze();
        self.stamp = stamp;
    }
}

/// Splits a batch the broker refused as too large into two batches of half its records each
/// (the Java client's `RecordAccumulator.splitAndReenqueue`), re-encoded from its bytes (its
/// records decompressed, and the halves compressed again, by `sealer`: see `sealer.rs`); the
/// halves are stamped with `batch.stamp` until renumbered. Gives the batch back when it holds
/// fewer than two records or its bytes do not decode.
#[allow(clippy::result_large_err, reason = "a rare path: the batch goes back by value, boxing it would allocate")]
fn split_in_two<T>(
    batch: SealedBatch<T>,
    sealer: &mut Sealer,
) -> Result<(SealedBatch<T>, SealedBatch<T>), SealedBatch<T>> {
    let mid = batch.records.len() / 2;
    if mid == 0 {
        return Err(batch);
    }
    let Some((first, second)) = sealer.split(&batch.bytes, mid, batch.stamp) else { return Err(batch) };
    let SealedBatch { mut records, created, accounted, stamp, .. } = batch;
    let tail = records.split_off(mid);
    Ok((
        SealedBatch::new(first, records, created, accounted / 2, stamp),
        SealedBatch::new(second, tail, created, accounted - accounted / 2, stamp),
    ))
}

/// Whether the partition may start new transmissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SendState {
    /// Pipelining from the queue.
    Normal,
    /// A batch must be resent: wait until nothing is in flight and `until` has passed.
    Backoff {
        /// End of the retry backoff.
        until: Instant,
    },
    /// Resending the window from its head, in order.
    Resending,
}

/// How the producer should react to one partition result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Reaction {
    /// Leadership may have moved: refresh metadata.
    pub(crate) refresh_metadata: bool,
    /// A fatal error code.
    pub(crate) fatal: Option<ErrorCode>,
    /// The batch must be resent (entered backoff).
    pub(crate) retry: bool,
}

/// A batch reaching its end; the producer turns it into events and recycles its buffers.
#[derive(Debug)]
pub(crate) enum Completion<T> {
    /// Acknowledged; `base_offset` when known, LogAppendTime when the broker set it.
    Delivered {
        /// The batch.
        batch: SealedBatch<T>,
        /// Offset of its first record, if known.
        base_offset: Option<i64>,
        /// LogAppendTime (ms) if the topic uses it.
        log_append_time: Option<i64>,
        /// Acknowledged as DUPLICATE_SEQUENCE_NUMBER.
        duplicate: bool,
        /// Acknowledged by a later batch's success.
        implicit: bool,
    },
    /// Given up.
    Failed {
        /// The batch.
        batch: SealedBatch<T>,
        /// Why.
        error: DeliveryError,
        /// Whether it may be in the log.
        persisted: Persisted,
    },
    /// An open (never sealed) batch given up; its records were never sent.
    FailedOpen {
        /// The batch.
        batch: OpenBatch<T>,
        /// Why.
        error: DeliveryError,
    },
}

/// Something a partition decided that is not a batch's end: the producer counts it and, for
/// the debug contexts on, reports it as a diagnostic (the partition itself has no output).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Note {
    /// An attempt of the batch has an unknown outcome: it is now possibly persisted.
    Unknown {
        /// The batch.
        batch: BatchSummary,
        /// Why.
        reason: UnknownReason,
    },
    /// The batch will be transmitted again once the retry backoff ends at `until`.
    Retry {
        /// The batch.
        batch: BatchSummary,
        /// Why.
        reason: RetryReason,
        /// End of the backoff.
        until: Instant,
    },
    /// The batch, refused as too large, is split in two (now, or when renumbered).
    Split {
        /// The batch.
        batch: BatchSummary,
        /// The broker's error.
        error: ErrorCode,
    },
}

/// Where a partition hands what it decided: batches reaching their end ([`Completion`]), and
/// [`Note`]s. A closure over completions is a sink that ignores notes.
pub(crate) trait Sink<T> {
    /// A batch reached its end.
    fn complete(&mut self, c: Completion<T>);
    /// Something worth reporting happened (ignored unless overridden).
    fn note(&mut self, _note: Note) {}
}

impl<T, F: FnMut(Completion<T>)> Sink<T> for F {
    fn complete(&mut self, c: Completion<T>) {
        self(c)
    }
}

/// One partition of one topic.
#[derive(Debug)]
pub(crate) struct PartitionState<T> {
    /// Partition index.
    pub(crate) partition: i32,
    /// The batch accepting records.
    pub(crate) open: Option<OpenBatch<T>>,
    /// Sequence of the next batch sealed.
    pub(crate) next_sequence: i32,
    /// Transmitted, unresolved batches in sequence order (at most [`MAX_WINDOW`]).
    pub(crate) window: heapless::Deque<SealedBatch<T>, MAX_WINDOW>,
    /// Sealed, never transmitted (in this epoch), in sequence order.
    pub(crate) queue: VecDeque<SealedBatch<T>>,
    /// Requests outstanding for this partition.
    pub(crate) in_flight: usize,
    /// The connection they are on.
    pub(crate) in_flight_conn: Option<ConnId>,
    /// Whether new transmissions may start.
    pub(crate) state: SendState,
    /// Consecutive failed rounds (backoff exponent).
    pub(crate) failures: u32,
    /// A sequenced batch was given up or the broker disagrees about sequences: the producer must
    /// drain and bump the epoch before this partition sends new batches.
    pub(crate) needs_bump: bool,
    /// Why `needs_bump` was set first (reported with the bump).
    pub(crate) bump_reason: Option<BumpReason>,
    /// The broker refused the head batch's sequence with this error (it is definitely not in the
    /// log): the partition waits for the bump.
    pub(crate) head_rejected: Option<ErrorCode>,
    /// Batch retransmissions over the producer's life (a metric).
    pub(crate) retries: u64,
    /// Ordinal the next batch taken into the window gets.
    next_ordinal: u64,
    /// A batch of the current producer session (id + epoch) was acknowledged on this partition.
    acked: bool,
    /// What the drive loop's agenda recorded about this partition.
    pub(crate) marks: Marks,
    /// Whether it is in the open transaction (a transactional producer's partition starts new
    /// batches only when it is).
    pub(crate) txn: Membership,
}

impl<T> PartitionState<T> {
    /// An empty partition.
    pub(crate) fn new(partition: i32) -> Self {
        PartitionState {
            partition,
            open: None,
            next_sequence: 0,
            window: heapless::Deque::new(),
            queue: VecDeque::new(),
            in_flight: 0,
            in_flight_conn: None,
            state: SendState::Normal,
            failures: 0,
            needs_bump: false,
            bump_reason: None,
            head_rejected: None,
            retries: 0,
            next_ordinal: 0,
            acked: false,
            marks: Marks::default(),
            txn: Membership::Out,
        }
    }

    /// Seals the open batch (if any) with the current producer id/epoch and the next sequence
    /// (`idempotent`), or without a stamp, through `sealer` (the codec). Returns whether a batch
    /// was sealed.
    pub(crate) fn seal(
        &mut self,
        producer_id: i64,
        producer_epoch: i16,
        idempotent: bool,
        sealer: &mut Sealer,
    ) -> bool {
        let Some(open) = self.open.take() else { return false };
        let count = open.len() as i32;
        let stamp = if idempotent {
            ProducerStamp { producer_id, producer_epoch, base_sequence: self.next_sequence }
        } else {
            ProducerStamp::NONE
        };
        if idempotent {
            self.next_sequence = increment_sequence(self.next_sequence, count);
        }
        let (bytes, records, created, accounted) = open.seal(stamp, sealer);
        self.queue.push_back(SealedBatch::new(bytes, records, created, accounted, stamp));
        true
    }

    /// Whether a batch sealed now could be sent at once: nothing queued ahead of it, room in the
    /// window, no retry pending. A lingered batch that could not be sent stays open (and keeps
    /// filling up to `batch.size`) until this holds, as the Java client's accumulator does.
    pub(crate) fn ready_for_new_batch(&self, window: usize) -> bool {
        self.queue.is_empty() && self.has_room(window) && self.state == SendState::Normal
    }

    /// Whether a new batch may be taken into the window. Two rules, both about what the broker
    /// can still recognise:
    /// - The *span* from the head (the oldest unresolved batch) to the newest batch ever taken
    ///   in behind it stays below `window` (<= 5), not just the count of unresolved batches. The
    ///   broker's duplicate check remembers the last five batches it *appended* per producer
    ///   (Kafka's `ProducerStateEntry.NUM_BATCHES_TO_RETAIN`); when a later batch is
    ///   acknowledged while the head's outcome is unknown, the acknowledged batch leaves the
    ///   window but still occupies one of those five places. Counting only unresolved batches
    ///   lets a sixth batch be appended behind a written head, which pushes the head out of the
    ///   broker's memory: its next resend is answered OUT_OF_ORDER_SEQUENCE_NUMBER instead of
    ///   DUPLICATE_SEQUENCE_NUMBER and a batch that is in the log would be given up.
    /// - Until the partition's first acknowledgement in the current producer session, one batch
    ///   at a time (franz-go's rule). A broker that accepts any first sequence from a producer
    ///   it does not know (KIP-360, before KAFKA-15591's fix) would otherwise append the second
    ///   pipelined batch as the first when the first is rejected, and the first, renumbered,
    ///   would land behind it.
    pub(crate) fn has_room(&self, window: usize) -> bool {
        let limit = if self.acked { window.clamp(1, MAX_WINDOW) } else { 1 } as u64;
        self.window.front().is_none_or(|head| self.next_ordinal.wrapping_sub(head.ordinal) < limit)
    }

    /// Whether anything is buffered (open, queued or unresolved).
    pub(crate) fn has_data(&self) -> bool {
        self.open.is_some() || !self.queue.is_empty() || !self.window.is_empty()
    }

    /// Whether a transmission could start now (ignoring the connection).
    pub(crate) fn wants_to_send(&self, now: Instant, window: usize, draining: bool) -> bool {
        let new_batch = !draining && !self.queue.is_empty() && self.has_room(window);
        match self.state {
            SendState::Backoff { until } => self.in_flight == 0 && until <= now,
            // A round whose resends were all answered goes back to new batches
            // (`next_to_send`): a partition whose connection closed right then still wants one
            // to send its queue.
            SendState::Resending if self.in_flight > 0 => false,
            SendState::Resending => match self.window.iter().any(|b| b.in_flight.is_none()) {
                true => !draining || self.resolvable(),
                false => new_batch,
            },
            SendState::Normal => new_batch,
        }
    }

    /// Whether [`PartitionState::next_to_send`] has something to do now, on the connection its
    /// requests are on (or any, with nothing in flight): pick a batch, or move on from a
    /// finished backoff or resend round to new batches. Changes nothing.
    pub(crate) fn may_send(&self, now: Instant, window: usize, draining: bool) -> bool {
        match self.state {
            SendState::Backoff { until } => self.in_flight == 0 && until <= now,
            SendState::Resending => {
                let unsent = self.window.iter().any(|b| b.in_flight.is_none());
                self.in_flight == 0 && (!unsent || !draining || self.resolvable())
            }
            SendState::Normal => !draining && !self.queue.is_empty() && self.has_room(window),
        }
    }

    /// When the open batch is due to be sealed for `linger.ms`: its linger deadline while that
    /// is in the future, `now` once lingered if the partition may take a new batch (a lingered
    /// batch waiting for its partition is sealed by the event that frees the partition).
    pub(crate) fn linger_deadline(&self, now: Instant, linger: Duration, window: usize) -> Option<Instant> {
        let at = self.open.as_ref()?.created + linger;
        if at > now { Some(at) } else { self.ready_for_new_batch(window).then_some(now) }
    }

    /// When its oldest batch (open, queued or unresolved) was created.
    pub(crate) fn oldest_created(&self) -> Option<Instant> {
        let open = self.open.as_ref().map(|o| o.created);
        [open, self.window.front().map(|b| b.created), self.queue.front().map(|b| b.created)]
            .into_iter()
            .flatten()
            .min()
    }

    /// When its retry backoff ends, if that is in the future.
    pub(crate) fn retry_deadline(&self, now: Instant) -> Option<Instant> {
        match self.state {
            SendState::Backoff { until } if until > now => Some(until),
            _ => None,
        }
    }

    /// While draining: whether resending the window (in order, same bytes) can still resolve a
    /// batch of unknown outcome.
    fn resolvable(&self) -> bool {
        self.head_rejected.is_none() && self.window.iter().any(|b| b.maybe_persisted)
    }

    /// Picks the next batch to transmit on `conn` (the leader's connection), moving it from the
    /// queue into the window if needed; returns its window index. `draining`: a bump is pending;
    /// only the window is resent (in order, same bytes), and only while that can resolve a batch
    /// of unknown outcome; nothing new starts.
    pub(crate) fn next_to_send(&mut self, now: Instant, conn: ConnId, window: usize, draining: bool) -> Option<usize> {
        if self.in_flight > 0 && self.in_flight_conn != Some(conn) {
            return None; // requests to another (old leader's) connection are unresolved
        }
        if let SendState::Backoff { until } = self.state {
            if self.in_flight > 0 || until > now {
                return None;
            }
            self.state = SendState::Resending;
        }
        if self.state == SendState::Resending {
            if self.in_flight > 0 {
                // One resend at a time, each answered before the next (the Java client sends only
                // the first batch of a partition that is being retried): a broker that lost our
                // state (KIP-360) would otherwise append a later resend as the first while an
                // earlier one is refused, and the earlier one, resent again, after it.
                return None;
            }
            match self.window.iter().position(|b| b.in_flight.is_none()) {
                Some(i) => return (!draining || self.resolvable()).then_some(i),
                None => self.state = SendState::Normal,
            }
        }
        if draining || !self.has_room(window) {
            return None;
        }
        let mut b = self.queue.pop_front()?;
        b.ordinal = self.next_ordinal;
        if let Err(b) = self.window.push_back(b) {
            self.queue.push_front(b);
            return None;
        }
        self.next_ordinal = self.next_ordinal.wrapping_add(1);
        Some(self.window.len() - 1)
    }

    /// Records that window batch `i` went out in request `corr` on `conn`.
    pub(crate) fn mark_sent(&mut self, i: usize, conn: ConnId, corr: i32) -> bool {
        let Some(b) = self.window.iter_mut().nth(i) else { return false };
        b.attempts = b.attempts.saturating_add(1);
        let retry = b.attempts > 1;
        self.retries += u64::from(retry);
        b.in_flight = Some((conn, corr));
        self.in_flight += 1;
        self.in_flight_conn = Some(conn);
        retry
    }

    fn settle_in_flight(&mut self, i: usize) {
        if let Some(b) = self.window.iter_mut().nth(i) {
            if b.in_flight.take().is_some() {
                self.in_flight = self.in_flight.saturating_sub(1);
            }
        }
        if self.in_flight == 0 {
            self.in_flight_conn = None;
        }
    }

    /// The producer must drain and bump the epoch before this partition sends new batches;
    /// `reason` is kept if it is the first.
    fn need_bump(&mut self, reason: BumpReason) {
        self.needs_bump = true;
        self.bump_reason.get_or_insert(reason);
    }

    fn enter_backoff(&mut self, until: Instant) {
        self.state = match self.state {
            SendState::Backoff { until: u } => SendState::Backoff { until: u.max(until) },
            _ => SendState::Backoff { until },
        };
    }

    /// Removes window batch `i` (which must not be in flight any more) and reports it failed.
    /// A batch given up in mid-sequence leaves a gap: the partition needs a bump. (The batches
    /// behind it keep their `maybe_persisted` marks: a broker that lost producer state may have
    /// appended them anyway, so nothing of unknown outcome is ever inferred to be absent.)
    fn fail_window(&mut self, i: usize, error: DeliveryError, sink: &mut impl Sink<T>) {
        self.settle_in_flight(i);
        let Some(batch) = self.take_window(i) else { return };
        let persisted = if batch.maybe_persisted { Persisted::Possibly } else { Persisted::No };
        self.need_bump(BumpReason::GaveUp(error));
        sink.complete(Completion::Failed { batch, error, persisted });
    }

    /// Removes window batch `i`, keeping the others in order.
    fn take_window(&mut self, i: usize) -> Option<SealedBatch<T>> {
        let mut rest: heapless::Deque<SealedBatch<T>, MAX_WINDOW> = heapless::Deque::new();
        let mut taken = None;
        for k in 0..self.window.len() {
            let Some(b) = self.window.pop_front() else { break };
            if k == i {
                taken = Some(b);
            } else {
                let _ = rest.push_back(b);
            }
        }
        self.window = rest;
        taken
    }

    /// Window batch `i` was refused because an earlier batch is unresolved: it is resent in
    /// order after the backoff, and this attempt is not counted as a retry.
    fn retry_in_order(&mut self, i: usize, code: ErrorCode, backoff_until: Instant, sink: &mut impl Sink<T>) {
        if let Some(b) = self.window.iter_mut().nth(i) {
            b.attempts = b.attempts.saturating_sub(1);
            let reason = RetryReason::BehindUnresolved(code);
            sink.note(Note::Retry { batch: b.summary(), reason, until: backoff_until });
        }
        self.enter_backoff(backoff_until);
    }

    /// Applies one partition result of request `corr` on `conn`. `retries`: the `retries`
    /// setting; `backoff_until`: when a retry may start; `sealer`: re-encodes a batch split
    /// now (without idempotence).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_result(
        &mut self,
        conn: ConnId,
        corr: i32,
        code: ErrorCode,
        base_offset: i64,
        log_append_time: i64,
        retries: u32,
        backoff_until: Instant,
        sealer: &mut Sealer,
        sink: &mut impl Sink<T>,
    ) -> Reaction {
        let mut reaction = Reaction::default();
        let Some(i) = self.window.iter().position(|b| b.in_flight == Some((conn, corr))) else {
            return reaction; // stale: the batch was already resolved or given up
        };
        self.settle_in_flight(i);
        match classify(code) {
            class @ (ErrorClass::Success | ErrorClass::Duplicate) => {
                // Earlier batches still in flight are in the log too (implicit ack). An earlier
                // batch whose latest attempt was answered with an error (or lost with its
                // connection) proves nothing: a broker that accepts any first sequence from a
                // producer it does not know (KIP-360, KAFKA-15591) appends past such a gap (sim
                // seeds 162, 1651: NOT_LEADER on seq 0, seq 1 accepted as first). It stays at
                // the head to be retried: DUPLICATE resolves it as delivered; OUT_OF_ORDER
                // renumbers it (never written) or gives it up (possibly written).
                //
                // An earlier batch that is definitely not in the log (its last attempt was
                // refused before the append) was overtaken: only a broker that lost our state can
                // have taken this one without it. Resending it could only be refused or land after
                // this one; it is failed as not persisted, and the gap calls for a bump.
                // (Without sequences there is no order to keep: such a batch is retried.)
                let mut kept: heapless::Deque<SealedBatch<T>, MAX_WINDOW> = heapless::Deque::new();
                for _ in 0..i {
                    let Some(batch) = self.window.pop_front() else { break };
                    let retry = batch.maybe_persisted || !batch.is_sequenced();
                    match (batch.in_flight.is_some(), retry) {
                        (true, _) => {
                            self.in_flight = self.in_flight.saturating_sub(1);
                            sink.complete(Completion::Delivered {
                                batch,
                                base_offset: None,
                                log_append_time: None,
                                duplicate: false,
                                implicit: true,
                            });
                        }
                        (false, true) => {
                            let _ = kept.push_back(batch);
                        }
                        (false, false) => {
                            let error = DeliveryError::Overtaken;
                            self.need_bump(BumpReason::GaveUp(error));
                            sink.complete(Completion::Failed { batch, error, persisted: Persisted::No });
                        }
                    }
                }
                if self.in_flight == 0 {
                    self.in_flight_conn = None;
                }
                let delivered = self.window.pop_front();
                while let Some(b) = kept.pop_back() {
                    let _ = self.window.push_front(b);
                }
                if let Some(batch) = delivered {
                    sink.complete(Completion::Delivered {
                        batch,
                        base_offset: (base_offset >= 0).then_some(base_offset),
                        log_append_time: (log_append_time >= 0).then_some(log_append_time),
                        duplicate: class == ErrorClass::Duplicate,
                        implicit: false,
                    });
                }
                self.failures = 0;
                self.acked = true;
            }
            ErrorClass::Sequence => {
                if i > 0 {
                    // An earlier batch is unresolved: this is its consequence.
                    self.retry_in_order(i, code, backoff_until, sink);
                    reaction.retry = true;
                } else if self.window.iter().next().is_some_and(|b| b.maybe_persisted) {
                    // Head batch of unknown outcome and the broker disagrees: resending the same
                    // bytes cannot resolve it and re-stamping could duplicate it. Give it up.
                    self.fail_window(0, DeliveryError::SequenceUnresolvable(code), sink);
                    self.enter_backoff(backoff_until);
                } else {
                    // Head batch, definitely not written: drain, bump, renumber, retry.
                    self.need_bump(BumpReason::SequenceRejected(code));
                    self.head_rejected = Some(code);
                    self.enter_backoff(backoff_until);
                    if let Some(b) = self.window.iter().next() {
                        let reason = RetryReason::Refused(code);
                        sink.note(Note::Retry { batch: b.summary(), reason, until: backoff_until });
                    }
                    reaction.retry = true;
                }
            }
            class @ (ErrorClass::RetriableRejected | ErrorClass::RetriableUnknown) => {
                reaction.refresh_metadata = refreshes_metadata(code);
                let unknown = class == ErrorClass::RetriableUnknown;
                let Some(b) = self.window.iter_mut().nth(i) else { return reaction };
                b.maybe_persisted |= unknown;
                let (batch, attempts) = (b.summary(), b.attempts);
                if unknown {
                    sink.note(Note::Unknown { batch, reason: UnknownReason::Error(code) });
                }
                if attempts > retries {
                    self.fail_window(i, DeliveryError::RetriesExhausted(code), sink);
                } else {
                    let reason = if unknown {
                        RetryReason::Unknown(UnknownReason::Error(code))
                    } else {
                        RetryReason::Refused(code)
                    };
                    sink.note(Note::Retry { batch, reason, until: backoff_until });
                    reaction.retry = true;
                }
                self.failures = self.failures.saturating_add(1);
                self.enter_backoff(backoff_until);
            }
            ErrorClass::Rejected
                if is_too_large(code) && self.window.iter().nth(i).is_some_and(|b| b.records.len() > 1) =>
            {
                reaction.retry = true;
                if self.window.iter().nth(i).is_some_and(|b| !b.is_sequenced()) {
                    #[allow(clippy::result_large_err, reason = "see split_in_two")]
                    let split = |b| split_in_two(b, sealer);
                    // No sequences to keep: split now; the halves go out next.
                    match self.take_window(i).map(split) {
                        Some(Ok((first, second))) => {
                            let batch = BatchSummary {
                                records: first.records.len() as u32 + second.records.len() as u32,
                                ..first.summary()
                            };
                            sink.note(Note::Split { batch, error: code });
                            self.queue.push_front(second);
                            self.queue.push_front(first);
                        }
                        Some(Err(batch)) => {
                            reaction.retry = false;
                            sink.complete(Completion::Failed {
                                batch,
                                error: DeliveryError::Rejected(code),
                                persisted: Persisted::No,
                            });
                        }
                        None => {}
                    }
                    self.enter_backoff(backoff_until);
                } else if i > 0 {
                    // Earlier batches are unresolved: resend in order; this batch is split once
                    // it is the head.
                    self.retry_in_order(i, code, backoff_until, sink);
                } else {
                    // Not written: split it in two and renumber (drain, bump), like a head batch
                    // whose sequence the broker refused.
                    if let Some(b) = self.window.iter_mut().next() {
                        b.split = true;
                        sink.note(Note::Split { batch: b.summary(), error: code });
                    }
                    self.need_bump(BumpReason::TooLarge(code));
                    self.head_rejected = Some(code);
                    self.enter_backoff(backoff_until);
                }
            }
            ErrorClass::Rejected => {
                self.fail_window(i, DeliveryError::Rejected(code), sink);
                self.enter_backoff(backoff_until);
            }
            ErrorClass::Fatal => {
                reaction.fatal = Some(code);
            }
        }
        reaction
    }

    /// Every request on `conn` is lost (disconnect, request timeout, garbage): the batches in
    /// them have an unknown outcome and will be resent with the same bytes (within `retries`).
    pub(crate) fn on_conn_lost(&mut self, conn: ConnId, backoff_until: Instant, retries: u32, sink: &mut impl Sink<T>) {
        self.lose(|c, _| c == conn, UnknownReason::ConnectionLost, backoff_until, retries, sink);
    }

    /// Request `corr` on `conn` resolved without an answer for this partition (the broker left
    /// it out): same as a lost request for its batch.
    pub(crate) fn on_request_lost(
        &mut self,
        conn: ConnId,
        corr: i32,
        backoff_until: Instant,
        retries: u32,
        sink: &mut impl Sink<T>,
    ) {
        self.lose(|c, k| c == conn && k == corr, UnknownReason::NotInAnswer, backoff_until, retries, sink);
    }

    fn lose(
        &mut self,
        which: impl Fn(ConnId, i32) -> bool,
        reason: UnknownReason,
        backoff_until: Instant,
        retries: u32,
        sink: &mut impl Sink<T>,
    ) {
        let mut lost = false;
        for b in self.window.iter_mut() {
            if matches!(b.in_flight, Some((c, k)) if which(c, k)) {
                b.in_flight = None;
                b.maybe_persisted = true;
                self.in_flight = self.in_flight.saturating_sub(1);
                lost = true;
                let batch = b.summary();
                sink.note(Note::Unknown { batch, reason });
                if b.attempts <= retries {
                    sink.note(Note::Retry { batch, reason: RetryReason::Unknown(reason), until: backoff_until });
                }
            }
        }
        if self.in_flight == 0 {
            self.in_flight_conn = None;
        }
        if lost {
            self.failures = self.failures.saturating_add(1);
            self.enter_backoff(backoff_until);
        }
    }

    /// Gives up what reached `delivery.timeout.ms` at `now`. A timed-out batch still in flight
    /// is reported `Possibly` and its connection returned, to be closed by the caller (so the
    /// request cannot resolve later). Never-sent batches that expire from the queue are reported
    /// `No` and the rest of the queue is renumbered down (they were never sent: safe in the same
    /// epoch).
    ///
    /// Also gives up batches whose transmissions were lost (no answer) more than `retries` times.
    pub(crate) fn expire(
        &mut self,
        now: Instant,
        timeout: Duration,
        retries: u32,
        idempotent: bool,
        sink: &mut impl Sink<T>,
    ) -> Option<ConnId> {
        let expired = |created: Instant| created + timeout <= now;
        let mut close = None;
        while let Some(i) = self.window.iter().position(|b| b.in_flight.is_none() && b.attempts > retries) {
            // The last attempt got no answer.
            self.fail_window(i, DeliveryError::RetriesExhausted(ErrorCode::NETWORK_EXCEPTION), sink);
        }
        while let Some(i) = self.window.iter().position(|b| expired(b.created)) {
            if let Some((c, _)) = self.window.iter().nth(i).and_then(|b| b.in_flight) {
                close = Some(c);
                if let Some(b) = self.window.iter_mut().nth(i) {
                    b.maybe_persisted = true;
                    sink.note(Note::Unknown { batch: b.summary(), reason: UnknownReason::DeliveryTimeout });
                }
            }
            self.fail_window(i, DeliveryError::Timeout, sink);
        }
        let mut rewind_to = None;
        while self.queue.front().is_some_and(|b| expired(b.created)) {
            if let Some(batch) = self.queue.pop_front() {
                rewind_to.get_or_insert(batch.stamp.base_sequence);
                sink.complete(Completion::Failed { batch, error: DeliveryError::Timeout, persisted: Persisted::No });
            }
        }
        if let (Some(seq), true) = (rewind_to, idempotent) {
            let mut next = seq;
            for b in self.queue.iter_mut() {
                b.restamp(ProducerStamp { base_sequence: next, ..b.stamp });
                next = increment_sequence(next, b.record_count());
            }
            self.next_sequence = next;
        }
        if self.open.as_ref().is_some_and(|o| expired(o.created)) {
            if let Some(batch) = self.open.take() {
                sink.complete(Completion::FailedOpen { batch, error: DeliveryError::Timeout });
            }
        }
        close
    }

    /// Whether this partition is drained for a bump: nothing in flight and no batch of unknown
    /// outcome left. When the broker rejected the head batch's sequence (`head_rejected`), the
    /// batches of unknown outcome behind it cannot be resolved in this epoch (the broker will not
    /// accept them after a head it refuses) and must not be re-stamped: they are given up here as
    /// possibly persisted.
    pub(crate) fn drained(&mut self, sink: &mut impl Sink<T>) -> bool {
        if self.in_flight > 0 {
            return false;
        }
        if let Some(code) = self.head_rejected {
            while let Some(i) = self.window.iter().position(|b| b.maybe_persisted) {
                self.fail_window(i, DeliveryError::SequenceUnresolvable(code), sink);
            }
        }
        self.window.iter().all(|b| !b.maybe_persisted)
    }

    /// Adopts a new producer id/epoch: every unresolved batch (all definitely not in the log:
    /// see [`PartitionState::drained`]) goes back to the queue and the queue is re-stamped from
    /// sequence 0. Must only be called when drained.
    #[cfg(test)]
    pub(crate) fn renumber(&mut self, producer_id: i64, producer_epoch: i16, idempotent: bool) {
        self.renumber_from(producer_id, producer_epoch, idempotent, 0, &mut Sealer::default());
    }

    /// [`PartitionState::renumber`] starting at `first` instead of 0 (test hook for the
    /// wrap-around scenario; Kafka requires 0 in a new epoch); batches marked for splitting are
    /// re-encoded as halves by `sealer`.
    #[doc(hidden)]
    pub(crate) fn renumber_from(
        &mut self,
        producer_id: i64,
        producer_epoch: i16,
        idempotent: bool,
        first: i32,
        sealer: &mut Sealer,
    ) {
        while let Some(b) = self.window.pop_back() {
            if !b.split {
                self.queue.push_front(b);
                continue;
            }
            match split_in_two(b, sealer) {
                Ok((first, second)) => {
                    self.queue.push_front(second);
                    self.queue.push_front(first);
                }
                Err(mut b) => {
                    b.split = false;
                    self.queue.push_front(b);
                }
            }
        }
        self.in_flight = 0;
        self.in_flight_conn = None;
        let mut next = first;
        if idempotent {
            for b in self.queue.iter_mut() {
                b.restamp(ProducerStamp { producer_id, producer_epoch, base_sequence: next });
                next = increment_sequence(next, b.record_count());
            }
        }
        self.next_sequence = next;
        self.state = SendState::Normal;
        self.needs_bump = false;
        self.bump_reason = None;
        self.head_rejected = None;
        self.acked = false;
    }

    /// Gives up everything left of an aborted transaction (once drained: nothing in flight,
    /// nothing of unknown outcome, so all of it is definitely not in the log) and rewinds the
    /// sequence to the first batch given up, so that the next transaction continues without a
    /// gap (when the partition needs a new epoch anyway, the bump renumbers from 0).
    pub(crate) fn abort_transaction(&mut self, sink: &mut impl Sink<T>) {
        let first = self.window.front().or(self.queue.front()).map(|b| b.stamp.base_sequence);
        self.fail_all(DeliveryError::TransactionAborted, sink);
        if let Some(seq) = first.filter(|s| *s >= 0) {
            self.next_sequence = seq;
        }
    }

    /// Gives up everything (fatal error or abort): `No` for what was never sent or definitely
    /// rejected, `Possibly` for the rest.
    pub(crate) fn fail_all(&mut self, error: DeliveryError, sink: &mut impl Sink<T>) {
        while let Some(batch) = self.window.pop_front() {
            let persisted =
                if batch.maybe_persisted || batch.in_flight.is_some() { Persisted::Possibly } else { Persisted::No };
            sink.complete(Completion::Failed { batch, error, persisted });
        }
        while let Some(batch) = self.queue.pop_front() {
            sink.complete(Completion::Failed { batch, error, persisted: Persisted::No });
        }
        if let Some(batch) = self.open.take() {
            sink.complete(Completion::FailedOpen { batch, error });
        }
        self.in_flight = 0;
        self.in_flight_conn = None;
        self.state = SendState::Normal;
    }
}

#[cfg(test)]
#[path = "partition_tests.rs"]
mod tests;
