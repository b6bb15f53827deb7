//! From records to sealed batches: the partition a record goes to (explicit, murmur2 of the key,
//! or sticky), appending it to that partition's open batch, and sealing open batches on
//! `batch.size`, on `linger.ms` (as soon as the partition may take a new batch), when
//! `buffer.memory` ran out, on `flush` and on `close`. Sealing assigns the sequence numbers
//! (see `partition.rs`).

use super::Producer;
use super::accumulator::{AppendOutcome, RecordRef};
use super::agenda::PartKey;
use super::drive::part_of;
use super::partitioner;
use super::report::{RecordId, SendError};
use super::timer::TimerKind;
use super::transaction::{Membership, TransactionState};
use crate::time::Instant;

impl<T> Producer<T> {
    /// Appends to a partition of topic `t` (metadata known). Returns whether a batch was sealed
    /// (even when the record itself was refused) and the outcome for the record (a refused
    /// record's opaque value given back).
    #[allow(clippy::too_many_arguments, reason = "a record's parts as `send` and the pending queue hold them")]
    pub(super) fn append(
        &mut self,
        t: usize,
        count: u32,
        now: Instant,
        id: RecordId,
        explicit: Option<i32>,
        r: &RecordRef<'_>,
        opaque: T,
    ) -> (bool, Result<(), (SendError, T)>) {
        let Some(ts) = self.topics.get_mut(t) else { return (false, Err((SendError::InvalidTopic, opaque))) };
        let p = match (explicit, r.key) {
            (Some(p), _) if p >= 0 && (p as u32) < count => p,
            (Some(p), _) => return (false, Err((SendError::InvalidPartition(p), opaque))),
            (None, Some(k)) => partitioner::partition_for_key(k, count),
            (None, None) => ts.sticky.partition(count, &mut self.rng),
        };
        ts.grow_to(count as usize, self.first_sequence);
        let Some(part) = ts.partitions.get_mut(p as usize) else {
            return (false, Err((SendError::InvalidPartition(p), opaque)));
        };
        let idempotent = self.config.enable_idempotence;
        let (pid, epoch) = (self.pid.producer_id, self.pid.epoch);
        let mut sealed = false;
        let mut opened = false;
        let mut opaque = opaque;
        let result = loop {
            let was_open = part.open.is_some();
            match self.acc.append(&mut part.open, now, id, r, opaque) {
                Ok(AppendOutcome::Appended { full }) => {
                    if !was_open {
                        opened = true;
                        self.timers.lower(TimerKind::Linger, now + self.config.linger);
                        self.timers.lower(TimerKind::Delivery, now + self.config.delivery_timeout);
                    }
                    // A batch reaching `batch.size` is sealed at once; any other is sealed by
                    // the next pass once `linger.ms` has passed (with 0: the next pass, which
                    // the Linger timer asks for at once), so that records arriving meanwhile
                    // join it, as with the Java client's sender thread.
                    if full {
                        sealed |= part.seal(pid, epoch, idempotent, &mut self.sealer);
                    }
                    break Ok(());
                }
                Ok(AppendOutcome::SealFirst(back)) => {
                    opaque = back;
                    sealed |= part.seal(pid, epoch, idempotent, &mut self.sealer);
                }
                Err(e) => break Err(e),
            }
        };
        if let Some(txn) = self.txn.as_mut().filter(|t| t.adds_partitions()) {
            // Its first record of the transaction: added before it may send (v1), or by its
            // own Produce (v2).
            if result.is_ok() && part.txn == Membership::Out {
                part.txn = txn.join(PartKey::new(t, p as usize));
            }
        }
        if sealed {
            self.metrics.batches += 1;
            if explicit.is_none() && r.key.is_none() {
                ts.sticky.on_sealed(p, count, &mut self.rng);
            }
        }
        if sealed || opened {
            // Its deadlines, send list or connection want changed.
            self.list(PartKey::new(t, p as usize));
        }
        (sealed, result)
    }

    /// Seals every open batch (flush, close).
    pub(super) fn seal_all(&mut self) {
        let idempotent = self.config.enable_idempotence;
        let (pid, epoch) = (self.pid.producer_id, self.pid.epoch);
        for ts in &mut self.topics {
            let count = ts.partitions.len() as u32;
            for part in &mut ts.partitions {
                if part.seal(pid, epoch, idempotent, &mut self.sealer) {
                    self.metrics.batches += 1;
                    ts.sticky.on_sealed(part.partition, count, &mut self.rng);
                }
            }
        }
    }

    /// Seals the open batches that are due at `now`: lingered (or memory ran out) and their
    /// partition ready for a new batch, or all of them while closing, committing or flushing
    /// records that waited for metadata (they open batches after `flush` or
    /// `commit_transaction` sealed the others; the Java client's sender flushes the accumulator
    /// while a flush is in progress or a transaction completes).
    pub(super) fn seal_due(&mut self, now: Instant) {
        let committing = self.txn.as_ref().is_some_and(|t| t.state == TransactionState::Committing);
        let all = self.closing || committing || self.flushing_waiting;
        if self.flushing_waiting && self.topics.iter().all(|t| t.pending.is_empty()) {
            // Every record the flush saw waiting is in a batch this pass seals.
            self.flushing_waiting = false;
        }
        let linger = self.config.linger;
        let window = self.config.window();
        let idempotent = self.config.enable_idempotence;
        let (pid, epoch) = (self.pid.producer_id, self.pid.epoch);
        let exhausted = core::mem::take(&mut self.exhausted);
        if exhausted {
            // Any open batch may be due: look at every partition that has one.
            let mut open = core::mem::take(&mut self.agenda.open);
            open.retain(|&key| {
                let Some(part) = part_of(&mut self.topics, key) else { return false };
                part.marks.open = part.open.is_some();
                if part.marks.open {
                    self.agenda.list_marks(key, &mut part.marks);
                }
                part.marks.open
            });
            self.agenda.open = open;
        }
        self.walk(|this, key| {
            let Some(ts) = this.topics.get_mut(key.t()) else { return };
            let count = ts.partitions.len() as u32;
            let Some(part) = ts.partitions.get_mut(key.p()) else { return };
            let lingered = part.open.as_ref().is_some_and(|o| exhausted || o.created + linger <= now);
            let due = part.open.is_some() && (all || (lingered && part.ready_for_new_batch(window)));
            if due && part.seal(pid, epoch, idempotent, &mut this.sealer) {
                this.metrics.batches += 1;
                ts.sticky.on_sealed(part.partition, count, &mut this.rng);
            }
        });
    }
}
