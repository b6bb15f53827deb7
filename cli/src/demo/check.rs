//! The demo's checker: compares what each thread sent (and what the producer reported for each
//! record) with what the partition logs hold, and counts every way the guarantees can be broken.
//!
//! Checked, per record `(thread, i)`:
//! - reported `Delivered`: in the log exactly once, in its planned partition, at the reported
//!   offset when one was reported;
//! - reported failed and not persisted, or refused by `send`: not in the log;
//! - reported failed and possibly persisted: in the log at most once;
//! - no report at all: a broken guarantee (every accepted record gets one final report).
//!
//! Per partition and thread: records appear in the order the thread sent them. Every batch must
//! decode with a valid CRC, every value must be a demo value.

use idem_core::proto::record_batch::{Compression, RecordBatch};

use super::group::Logged;
use super::workload::{Plan, decode_value};

/// What the producer said about one record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Outcome {
    /// No final report (yet).
    #[default]
    Pending,
    /// Reported delivered.
    Delivered {
        /// Partition reported.
        partition: i32,
        /// Offset reported, when known.
        offset: Option<i64>,
    },
    /// Reported failed, definitely not in the log.
    NotPersisted,
    /// Reported failed, possibly in the log (at most once).
    PossiblyPersisted,
    /// `send` refused it: never accepted.
    Refused,
}

/// Counts from a check; [`Verdict::pass`] says whether they are all as they must be.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Records the plan says were sent.
    pub planned: u64,
    /// Reported delivered.
    pub delivered: u64,
    /// Reported failed, not persisted.
    pub not_persisted: u64,
    /// Reported failed, possibly persisted.
    pub possibly_persisted: u64,
    /// Of those, found in the log (once).
    pub possibly_persisted_present: u64,
    /// Refused by `send`.
    pub refused: u64,
    /// Accepted but never reported.
    pub unreported: u64,
    /// Records read from the logs.
    pub in_log: u64,
    /// Extra copies of a record in the logs.
    pub duplicates: u64,
    /// Reported delivered but not in the log.
    pub missing: u64,
    /// Reported not persisted (or refused) but in the log.
    pub unexpected: u64,
    /// Records found after a later record of the same thread in the same partition.
    pub out_of_order: u64,
    /// Records in another partition than planned, or than reported.
    pub wrong_partition: u64,
    /// Records whose reported offset differs from where they are.
    pub wrong_offset: u64,
    /// Batches that failed to decode (CRC, framing, decompression) and values that are not
    /// demo values.
    pub corrupt: u64,
    /// Batches read from the logs.
    pub batches: u64,
    /// Of those, batches whose records are compressed (any codec).
    pub compressed_batches: u64,
}

impl Verdict {
    /// True iff every record was delivered and is in the log exactly once, in order, where it
    /// was reported; nothing else is in the log; nothing is corrupt.
    pub fn pass(&self) -> bool {
        self.delivered == self.planned && self.holds() && self.in_log == self.planned
    }

    /// True iff no guarantee is broken (failed records are allowed if correctly reported).
    pub fn holds(&self) -> bool {
        self.unreported == 0
            && self.duplicates == 0
            && self.missing == 0
            && self.unexpected == 0
            && self.out_of_order == 0
            && self.wrong_partition == 0
            && self.wrong_offset == 0
            && self.corrupt == 0
    }
}

/// Accumulates the logs of every partition, then judges.
#[derive(Debug)]
pub struct Checker<'o> {
    plan: Plan,
    outcomes: &'o [Vec<Outcome>],
    /// Per thread, per record: how many copies were found and the first one's offset.
    found: Vec<Vec<(u32, i64)>>,
    /// Per partition, per thread: the index of the last record seen.
    last: Vec<Vec<Option<u64>>>,
    verdict: Verdict,
    /// Where a compressed batch's records are decompressed (reused).
    scratch: Vec<u8>,
    /// Per partition, in offset order: each demo record's offset and (thread, index).
    logged: Vec<Vec<(i64, Logged)>>,
}

/// Bound on one batch's decompressed records (the embedded cluster's own bound).
const MAX_DECOMPRESSED: usize = 64 << 20;

impl<'o> Checker<'o> {
    /// A checker for `plan`, given each thread's outcomes (indexed by record number).
    pub fn new(plan: Plan, outcomes: &'o [Vec<Outcome>]) -> Self {
        let found = (0..plan.threads).map(|t| vec![(0, -1); plan.records_of(t) as usize]).collect();
        let last = (0..plan.partitions).map(|_| vec![None; plan.threads as usize]).collect();
        let logged = (0..plan.partitions).map(|_| Vec::new()).collect();
        Checker { plan, outcomes, found, last, verdict: Verdict::default(), scratch: Vec::new(), logged }
    }

    /// Reads one partition's log: its batches in offset order, each as stored bytes.
    pub fn partition<'b, I: IntoIterator<Item = &'b [u8]>>(&mut self, partition: i32, batches: I) {
        for bytes in batches {
            let batch = match RecordBatch::decode(bytes) {
                Ok((batch, _)) => batch,
                Err(_) => {
                    self.verdict.corrupt += 1;
                    continue;
                }
            };
            self.verdict.batches += 1;
            let compressed = batch.header.compression().is_ok_and(|c| c != Compression::None);
            self.verdict.compressed_batches += u64::from(compressed);
            let mut scratch = core::mem::take(&mut self.scratch);
            match batch.decompressed_records(&mut scratch, MAX_DECOMPRESSED) {
                Ok(records) => {
                    for record in records {
                        let Ok(record) = record else {
                            self.verdict.corrupt += 1;
                            break;
                        };
                        let offset = record.offset(&batch.header);
                        self.record(partition, offset, record.value.unwrap_or_default());
                    }
                }
                Err(_) => self.verdict.corrupt += 1,
            }
            self.scratch = scratch;
        }
    }

    fn record(&mut self, partition: i32, offset: i64, value: &[u8]) {
        self.verdict.in_log += 1;
        let Some((t, i)) = decode_value(value) else {
            self.verdict.corrupt += 1;
            return;
        };
        if let Some(l) = usize::try_from(partition).ok().and_then(|p| self.logged.get_mut(p)) {
            l.push((offset, (t, i)));
        }
        let Some(slot) = self.found.get_mut(t as usize).and_then(|v| v.get_mut(i as usize)) else {
            self.verdict.corrupt += 1;
            return;
        };
        slot.0 += 1;
        if slot.0 > 1 {
            self.verdict.duplicates += 1;
            return;
        }
        slot.1 = offset;
        if self.plan.partition_of(t, i) != partition {
            self.verdict.wrong_partition += 1;
        }
        if let Some(last) = self.last.get_mut(partition as usize).and_then(|v| v.get_mut(t as usize)) {
            if last.is_some_and(|l| l >= i) {
                self.verdict.out_of_order += 1;
            } else {
                *last = Some(i);
            }
        }
    }

    /// What the partitions read so far hold: per partition, in offset order, each demo record's
    /// offset and (thread, index) (what the read-back through a consumer group must find).
    pub fn take_logged(&mut self) -> Vec<Vec<(i64, Logged)>> {
        core::mem::take(&mut self.logged)
    }

    /// Compares the outcomes with what was found and returns the counts.
    pub fn finish(mut self) -> Verdict {
        let v = &mut self.verdict;
        for t in 0..self.plan.threads as usize {
            let found = self.found.get(t).map(Vec::as_slice).unwrap_or_default();
            let outcomes = self.outcomes.get(t).map(Vec::as_slice).unwrap_or_default();
            for (i, &(copies, offset)) in found.iter().enumerate() {
                v.planned += 1;
                match outcomes.get(i).copied().unwrap_or_default() {
                    Outcome::Pending => v.unreported += 1,
                    Outcome::Delivered { partition, offset: reported } => {
                        v.delivered += 1;
                        if copies == 0 {
                            v.missing += 1;
                            continue;
                        }
                        if partition != self.plan.partition_of(t as u32, i as u64) {
                            v.wrong_partition += 1;
                        }
                        if reported.is_some_and(|o| o != offset) {
                            v.wrong_offset += 1;
                        }
                    }
                    Outcome::NotPersisted | Outcome::Refused => {
                        if matches!(outcomes.get(i), Some(Outcome::Refused)) {
                            v.refused += 1;
                        } else {
                            v.not_persisted += 1;
                        }
                        if copies > 0 {
                            v.unexpected += 1;
                        }
                    }
                    Outcome::PossiblyPersisted => {
                        v.possibly_persisted += 1;
                        if copies > 0 {
                            v.possibly_persisted_present += 1;
                        }
                    }
                }
            }
        }
        self.verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idem_core::proto::record_batch::{ProducerStamp, RecordBatchBuilder, set_base_offset};

    fn plan() -> Plan {
        Plan { records: 40, threads: 2, partitions: 3, value_len: 20, seed: 1 }
    }

    /// Logs as a correct producer would leave them: per partition, each thread's records in
    /// order, one batch per record, offsets from 0; plus the matching outcomes.
    fn ideal(plan: &Plan) -> (Vec<Vec<Vec<u8>>>, Vec<Vec<Outcome>>) {
        let mut logs: Vec<Vec<Vec<u8>>> = vec![Vec::new(); plan.partitions as usize];
        let mut outcomes: Vec<Vec<Outcome>> =
            (0..plan.threads).map(|t| vec![Outcome::Pending; plan.records_of(t) as usize]).collect();
        let mut value = Vec::new();
        for i in 0..plan.records_of(0) {
            for t in 0..plan.threads {
                if i >= plan.records_of(t) {
                    continue;
                }
                let p = plan.partition_of(t, i);
                let log = &mut logs[p as usize];
                plan.value(t, i, &mut value);
                log.push(batch(&plan.key(t, i), &value, log.len() as i64));
                outcomes[t as usize][i as usize] =
                    Outcome::Delivered { partition: p, offset: Some(log.len() as i64 - 1) };
            }
        }
        (logs, outcomes)
    }

    fn batch(key: &[u8], value: &[u8], offset: i64) -> Vec<u8> {
        let mut b = RecordBatchBuilder::new(0);
        b.append(0, Some(key), Some(value), &[]).unwrap();
        let mut bytes = b.seal(ProducerStamp { producer_id: 1, producer_epoch: 0, base_sequence: offset as i32 });
        assert!(set_base_offset(&mut bytes, offset));
        bytes
    }

    fn check(plan: Plan, logs: &[Vec<Vec<u8>>], outcomes: &[Vec<Outcome>]) -> Verdict {
        let mut c = Checker::new(plan, outcomes);
        for (p, log) in logs.iter().enumerate() {
            c.partition(p as i32, log.iter().map(Vec::as_slice));
        }
        c.finish()
    }

    #[test]
    fn a_correct_run_passes() {
        let (logs, outcomes) = ideal(&plan());
        let v = check(plan(), &logs, &outcomes);
        assert!(v.pass(), "{v:?}");
        assert_eq!((v.planned, v.delivered, v.in_log), (40, 40, 40));
    }

    #[test]
    fn each_violation_is_counted() {
        let p = plan();
        let (logs, outcomes) = ideal(&p);
        // A duplicate: the first batch of partition 0 appended again.
        let mut dup = logs.clone();
        let again = dup[0][0].clone();
        dup[0].push(again);
        let v = check(p, &dup, &outcomes);
        assert_eq!((v.duplicates, v.pass()), (1, false));
        // A loss: the last batch of partition 1 missing.
        let mut lost = logs.clone();
        lost[1].pop();
        let v = check(p, &lost, &outcomes);
        assert_eq!((v.missing, v.pass()), (1, false));
        // A reordering: two batches of one thread swapped (offsets then mismatch too).
        let mut swapped = logs.clone();
        let thread_of = |b: &Vec<u8>| {
            let (batch, _) = RecordBatch::decode(b).unwrap();
            decode_value(batch.records().next().unwrap().unwrap().value.unwrap()).unwrap().0
        };
        let k2 = (1..swapped[2].len()).find(|&k| thread_of(&swapped[2][k]) == thread_of(&swapped[2][0])).unwrap();
        swapped[2].swap(0, k2);
        let v = check(p, &swapped, &outcomes);
        assert!(v.out_of_order >= 1 && !v.pass(), "{v:?}");
        // A corrupt batch.
        let mut corrupt = logs.clone();
        let last = corrupt[0].len() - 1;
        let b = &mut corrupt[0][last];
        let n = b.len();
        b[n - 1] ^= 1;
        let v = check(p, &corrupt, &outcomes);
        assert!(v.corrupt >= 1 && v.missing == 1, "{v:?}");
        // A record in the wrong partition.
        let mut moved = logs.clone();
        let b = moved[0].remove(0);
        moved[1].push(b);
        let v = check(p, &moved, &outcomes);
        assert!(v.wrong_partition >= 1, "{v:?}");
        // A wrong reported offset.
        let mut wrong = outcomes.clone();
        if let Outcome::Delivered { partition, .. } = wrong[0][0] {
            wrong[0][0] = Outcome::Delivered { partition, offset: Some(999) };
        }
        assert_eq!(check(p, &logs, &wrong).wrong_offset, 1);
        // An unreported record.
        let mut pending = outcomes.clone();
        pending[1][3] = Outcome::Pending;
        let v = check(p, &logs, &pending);
        assert_eq!((v.unreported, v.holds()), (1, false));
    }

    #[test]
    fn failures_must_match_the_log() {
        let p = plan();
        let (logs, outcomes) = ideal(&p);
        // Reported not persisted while it is in the log: broken.
        let mut o = outcomes.clone();
        o[0][0] = Outcome::NotPersisted;
        let v = check(p, &logs, &o);
        assert_eq!((v.unexpected, v.holds()), (1, false));
        // Reported possibly persisted and present once: guarantees hold, but not a PASS.
        let mut o = outcomes.clone();
        o[0][0] = Outcome::PossiblyPersisted;
        let v = check(p, &logs, &o);
        assert_eq!((v.possibly_persisted_present, v.holds(), v.pass()), (1, true, false));
        // Refused and absent: holds.
        let (mut logs2, mut o) = (logs.clone(), outcomes.clone());
        let Outcome::Delivered { partition, .. } = o[0][0] else { panic!() };
        logs2[partition as usize].remove(0);
        o[0][0] = Outcome::Refused;
        let v = check(p, &logs2, &o);
        assert_eq!((v.refused, v.holds(), v.pass()), (1, true, false), "{v:?}");
    }
}
