//! Outcomes: finished batches become one event per record (and their buffers are recycled);
//! what partitions hand over during a step ([`Collected`]: completions and notes) is reported
//! once the step is done; failing everything; stopping on a fatal error or once closed and
//! drained.

use alloc::vec::Vec;

use super::accumulator::RecordMeta;
use super::agenda::PartKey;
use super::diagnostic::DiagnosticKind;
use super::partition::{Completion, Note, PartitionState, Sink};
use super::report::{DeliveryError, Event, FatalError, Persisted, RecordId};
use super::timer::Timers;
use super::transaction::{AbortableError, TransactionError};
use super::{ConnId, Output, Producer};
use crate::debug::DebugContext;

/// What one partition handed over.
enum Handed<T> {
    Done(Completion<T>),
    Note(Note),
}

/// What partitions hand over during a step (completions and notes, each with its partition),
/// reported by [`Producer::report`] once the step no longer borrows them.
pub(super) struct Collected<T>(Vec<(PartKey, i32, Handed<T>)>);

impl<T> Default for Collected<T> {
    fn default() -> Self {
        Collected(Vec::new())
    }
}

impl<T> Collected<T> {
    /// The sink of partition `partition`, at `key`.
    pub(super) fn sink(&mut self, key: PartKey, partition: i32) -> PartSink<'_, T> {
        PartSink { into: &mut self.0, key, partition }
    }

    /// Whether nothing was handed over.
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One partition's [`Sink`] into a [`Collected`].
pub(super) struct PartSink<'a, T> {
    into: &'a mut Vec<(PartKey, i32, Handed<T>)>,
    key: PartKey,
    partition: i32,
}

impl<T> Sink<T> for PartSink<'_, T> {
    fn complete(&mut self, c: Completion<T>) {
        self.into.push((self.key, self.partition, Handed::Done(c)));
    }

    fn note(&mut self, note: Note) {
        self.into.push((self.key, self.partition, Handed::Note(note)));
    }
}

impl<T> Producer<T> {
    /// Reports what partitions handed over, in order.
    pub(super) fn report(&mut self, collected: Collected<T>) {
        for (key, partition, handed) in collected.0 {
            match handed {
                Handed::Done(c) => self.complete(key, partition, c),
                Handed::Note(n) => self.note(key, partition, n),
            }
        }
    }

    /// `msg`: a batch given up (called only with the context on, before the batch is
    /// reported).
    #[cold]
    fn describe_failure(&mut self, key: PartKey, partition: i32, c: &Completion<T>) {
        let (batch, records, error, persisted) = match c {
            Completion::Delivered { .. } => return,
            Completion::Failed { batch, error, persisted } => {
                (Some(batch.summary()), batch.records.len(), *error, *persisted)
            }
            Completion::FailedOpen { batch, error } => (None, batch.len(), *error, Persisted::No),
        };
        let topic = self.topic_name(key.t());
        let records = records as u64;
        self.diagnose(DiagnosticKind::Failed { topic, partition, batch, records, error, persisted });
    }

    /// Turns a finished batch into one event per record and recycles its buffers.
    pub(super) fn complete(&mut self, key: PartKey, partition: i32, c: Completion<T>) {
        if self.debugging(DebugContext::Msg) {
            self.describe_failure(key, partition, &c);
        }
        match c {
            Completion::Delivered { mut batch, base_offset, log_append_time, duplicate, implicit } => {
                self.metrics.duplicates_acknowledged += u64::from(duplicate);
                self.metrics.implicit_acks += u64::from(implicit);
                self.metrics.records_delivered += batch.records.len() as u64;
                for (i, r) in batch.records.drain(..).enumerate() {
                    self.out.push_back(Output::Event(Event::Delivered {
                        id: r.id,
                        partition,
                        offset: base_offset.map(|b| b.saturating_add(i as i64)),
                        timestamp_ms: log_append_time.unwrap_or(r.timestamp_ms),
                        opaque: r.opaque,
                    }));
                }
                self.acc.recycle_sealed(batch.bytes, batch.records, batch.accounted);
            }
            Completion::Failed { mut batch, error, persisted } => {
                self.fail_records(&mut batch.records, error, persisted);
                self.acc.recycle_sealed(batch.bytes, batch.records, batch.accounted);
            }
            Completion::FailedOpen { mut batch, error } => {
                self.fail_records(&mut batch.records, error, Persisted::No);
                self.acc.discard(batch);
            }
        }
        self.metrics.buffered_bytes = self.acc.used() as u64;
    }

    /// One `Failed` event per record of a batch given up (leaving the vector empty, for reuse).
    fn fail_records(&mut self, records: &mut Vec<RecordMeta<T>>, error: DeliveryError, persisted: Persisted) {
        for r in records.drain(..) {
            self.fail_record(r.id, error, persisted, r.opaque);
        }
    }

    /// Reports one record failed (counted in the metrics).
    pub(super) fn fail_record(&mut self, id: RecordId, error: DeliveryError, persisted: Persisted, opaque: T) {
        self.metrics.records_failed += 1;
        self.out.push_back(Output::Event(Event::Failed { id, error, persisted, opaque }));
        self.txn_abortable(AbortableError::RecordFailed(error));
    }

    /// Runs `f` on every partition, collecting what they hand over, then reports it. Returns
    /// whether anything was handed over.
    pub(super) fn for_each_partition(
        &mut self,
        mut f: impl FnMut(&mut PartitionState<T>, &mut PartSink<'_, T>),
    ) -> bool {
        let mut done = Collected::default();
        for (t, ts) in self.topics.iter_mut().enumerate() {
            for (i, part) in ts.partitions.iter_mut().enumerate() {
                let p = part.partition;
                f(part, &mut done.sink(PartKey::new(t, i), p));
            }
        }
        let any = !done.is_empty();
        self.report(done);
        any
    }

    /// Fails every buffered batch and waiting record with `error`.
    pub(super) fn fail_everything(&mut self, error: DeliveryError) {
        self.for_each_partition(|part, sink| part.fail_all(error, sink));
        self.fail_pending(error, None);
    }

    /// Stops on a fatal error: reports it, fails everything, closes every connection.
    pub(super) fn fail_fatal(&mut self, e: FatalError) {
        if self.fatal.is_some() {
            return;
        }
        self.fatal = Some(e);
        self.out.push_back(Output::Event(Event::Fatal(e)));
        if let Some(op) = self.txn.as_mut().and_then(|t| t.on_fatal()) {
            let result = Err(TransactionError::Fatal(e));
            self.out.push_back(Output::Event(Event::Transaction { op, result }));
        }
        self.fail_everything(DeliveryError::Fatal(e));
        self.finish();
    }

    /// Closes every connection and stops: later inputs are ignored (what is already queued is
    /// still drained by `poll_output`).
    pub(super) fn finish(&mut self) {
        let ids: Vec<ConnId> = self.conns.iter().map(|c| c.id).collect();
        for id in ids {
            self.conns.remove(id, self.now, &mut self.rng);
            self.out.push_back(Output::Close { conn: id });
        }
        self.finished = true;
        self.timers = Timers::default();
        self.metrics.in_flight = 0;
    }
}
