//! Outcomes: finished batches become one event per record (and their buffers are recycled);
//! failing everything; stopping on a fatal error or once closed and drained.

use alloc::vec::Vec;

use super::partition::{Completion, PartitionState};
use super::report::{DeliveryError, Event, FatalError, Persisted};
use super::timer::Timers;
use super::{ConnId, Output, Producer};

impl Producer {
    /// Turns a finished batch into one event per record and recycles its buffers.
    pub(super) fn complete(&mut self, partition: i32, c: Completion) {
        match c {
            Completion::Delivered { batch, base_offset, log_append_time, duplicate, implicit } => {
                self.metrics.duplicates_acknowledged += u64::from(duplicate);
                self.metrics.implicit_acks += u64::from(implicit);
                for (i, r) in batch.records.iter().enumerate() {
                    self.out.push_back(Output::Event(Event::Delivered {
                        id: r.id,
                        partition,
                        offset: base_offset.map(|b| b.saturating_add(i as i64)),
                        timestamp_ms: log_append_time.unwrap_or(r.timestamp_ms),
                    }));
                }
                self.metrics.records_delivered += batch.records.len() as u64;
                self.acc.recycle_sealed(batch.bytes, batch.records, batch.accounted);
            }
            Completion::Failed { batch, error, persisted } => {
                for r in &batch.records {
                    self.out.push_back(Output::Event(Event::Failed { id: r.id, error, persisted }));
                }
                self.metrics.records_failed += batch.records.len() as u64;
                self.acc.recycle_sealed(batch.bytes, batch.records, batch.accounted);
            }
            Completion::FailedOpen { batch, error } => {
                for r in &batch.records {
                    self.out.push_back(Output::Event(Event::Failed { id: r.id, error, persisted: Persisted::No }));
                }
                self.metrics.records_failed += batch.records.len() as u64;
                self.acc.discard(batch);
            }
        }
        self.metrics.buffered_bytes = self.acc.used() as u64;
    }

    /// Runs `f` on every partition, collecting completions, then reports them.
    pub(super) fn for_each_partition(&mut self, mut f: impl FnMut(&mut PartitionState, &mut dyn FnMut(Completion))) {
        let mut done: Vec<(i32, Completion)> = Vec::new();
        for ts in &mut self.topics {
            for part in &mut ts.partitions {
                let p = part.partition;
                f(part, &mut |c| done.push((p, c)));
            }
        }
        for (p, c) in done {
            self.complete(p, c);
        }
    }

    /// Fails every buffered batch and waiting record with `error`.
    pub(super) fn fail_everything(&mut self, error: DeliveryError) {
        self.for_each_partition(|part, sink| part.fail_all(error, &mut |c| sink(c)));
        self.fail_pending(error, None);
    }

    /// Stops on a fatal error: reports it, fails everything, closes every connection.
    pub(super) fn fail_fatal(&mut self, e: FatalError) {
        if self.fatal.is_some() {
            return;
        }
        self.fatal = Some(e);
        self.out.push_back(Output::Event(Event::Fatal(e)));
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
