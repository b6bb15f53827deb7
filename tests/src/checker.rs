//! The checker: asserts the five guarantees (ARCHITECTURE.md, "The guarantees") on a finished
//! simulation run.
//!
//! It sees only what an application and an outside observer see: the records `send` accepted
//! (in acceptance order), the reports the producer emitted, the partition logs the brokers hold
//! at the end, and the producer's buffered-bytes gauge sampled at every step. Record identity is
//! carried in the value (`"r<index>:<filler>"`), so the checker never trusts producer internals.
//! From the brokers it also learns where producer state was lost and where a sequence error was
//! injected rather than real.
//!
//! Order is checked twice: within one session (producer id, epoch, state-loss segment) records
//! follow send order (`REORDER`), and across sessions the README's promise for Delivered holds:
//! a Delivered record is after every record sent before it to that partition that is in the log,
//! whether that one was Delivered or PossiblyPersisted (`REORDER ACROSS SESSIONS`). A record's
//! place is its first copy in the log: a copy appended again after a state-loss mark is an
//! excused duplicate, and the first copy is where the producer's acknowledgement came from.
//!
//! A PossiblyPersisted record that is in the log, given up because of a sequence error, on a
//! partition whose broker kept its producer state since the record was appended (and, for a
//! KIP-360 broker, had not lost it before either) and never injected a sequence error, is
//! `GIVEN UP IN LOG`: a real broker with its state intact answers a
//! resend of a batch in its 5-batch window as a duplicate, so the producer let the batch fall out
//! of that window (more than 5 batches appended behind an unresolved one).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use idem_core::proto::ErrorCode;
use idem_core::{Duration, Instant};

/// A record `send` accepted. Its index in [`Run::sent`] is its identity and its send order.
#[derive(Clone, Debug)]
pub struct SentRecord {
    /// Topic.
    pub topic: String,
    /// The partition the application asked for (`None`: the partitioner chose).
    pub partition: Option<i32>,
    /// The value (starts with `r<index>:`).
    pub value: Vec<u8>,
    /// When `send` accepted it.
    pub sent_at: Instant,
}

/// A final report as the producer emitted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// In the log of `partition`, at `offset` if known.
    Delivered { partition: i32, offset: Option<i64> },
    /// Definitely not in the log; why the producer gave up.
    NotPersisted(FailReason),
    /// In the log at most once; why the producer gave up.
    PossiblyPersisted(FailReason),
}

impl Outcome {
    /// 0 for Delivered, 1 for NotPersisted, 2 for PossiblyPersisted (for tallies).
    pub fn kind(&self) -> usize {
        match self {
            Outcome::Delivered { .. } => 0,
            Outcome::NotPersisted(_) => 1,
            Outcome::PossiblyPersisted(_) => 2,
        }
    }
}

/// Why the producer gave a record up (the producer's delivery error, reduced to what the checker
/// needs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailReason {
    /// `delivery.timeout.ms` elapsed.
    Timeout,
    /// `retries` were used up; the last error.
    RetriesExhausted(ErrorCode),
    /// A non-retriable error.
    Rejected(ErrorCode),
    /// A sequence error (OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID,
    /// INVALID_PRODUCER_EPOCH) answered to a batch whose earlier attempt's outcome is unknown.
    Sequence(ErrorCode),
    /// A later batch was written first; this one, never written, was not sent again.
    Overtaken,
    /// The producer stopped on a fatal error.
    Fatal,
    /// The producer was aborted before the record was delivered.
    Aborted,
}

impl FailReason {
    /// Whether the producer gave up because the broker answered a sequence error (not a
    /// timeout, the retry limit or a fatal error).
    pub fn is_sequence_error(self) -> bool {
        match self {
            FailReason::Sequence(_) => true,
            FailReason::Rejected(code) => is_sequence_code(code),
            _ => false,
        }
    }
}

impl std::fmt::Display for FailReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FailReason::Timeout => f.write_str("delivery timeout"),
            FailReason::RetriesExhausted(c) => write!(f, "retries exhausted, last {c}"),
            FailReason::Rejected(c) => write!(f, "rejected: {c}"),
            FailReason::Sequence(c) => write!(f, "sequence error {c}"),
            FailReason::Overtaken => f.write_str("overtaken by a later batch"),
            FailReason::Fatal => f.write_str("fatal error"),
            FailReason::Aborted => f.write_str("aborted"),
        }
    }
}

/// The error codes with which a broker disputes a batch's sequence or epoch.
pub fn is_sequence_code(code: ErrorCode) -> bool {
    [ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, ErrorCode::UNKNOWN_PRODUCER_ID, ErrorCode::INVALID_PRODUCER_EPOCH]
        .contains(&code)
}

/// One report: which record, when, what.
#[derive(Clone, Debug)]
pub struct Report {
    /// Index into [`Run::sent`].
    pub record: usize,
    /// When the producer emitted it.
    pub at: Instant,
    /// The outcome.
    pub outcome: Outcome,
}

/// One record as it sits in a partition log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// Its offset.
    pub offset: i64,
    /// Producer id of its batch.
    pub producer_id: i64,
    /// Producer epoch of its batch.
    pub epoch: i16,
    /// Its sequence number (base sequence + offset delta).
    pub sequence: i32,
    /// Its value.
    pub value: Option<Vec<u8>>,
}

/// Everything the checker needs about one run.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Accepted records, in acceptance order.
    pub sent: Vec<SentRecord>,
    /// Reports, in emission order.
    pub reports: Vec<Report>,
    /// Partition logs at the end of the run, keyed by (topic, partition).
    pub logs: BTreeMap<(String, i32), Vec<LogEntry>>,
    /// The producer's `buffer.memory`.
    pub buffer_limit: u64,
    /// The largest buffered-bytes value sampled during the run.
    pub max_buffered: u64,
    /// When the last fault ended (the network and brokers behave from then on).
    pub faults_end: Instant,
    /// The producer's delivery timeout.
    pub delivery_timeout: Duration,
    /// Extra time allowed beyond the delivery timeout for the liveness bound.
    pub slack: Duration,
    /// Per partition, log end offsets at which the broker lost producer state (see
    /// `SimBroker::state_loss_marks`).
    pub state_loss: BTreeMap<(String, i32), Vec<i64>>,
    /// Per partition, log end offsets at which the broker kept only each producer's last batch
    /// (Kafka's restart from its producer-state snapshot; see `SimBroker::window_loss_marks`).
    pub window_loss: BTreeMap<(String, i32), Vec<i64>>,
    /// Per partition, when the log grew: `(log end offset, instant)` pairs in order (see
    /// `SimBroker::append_times`); empty when the broker does not say.
    pub appended: BTreeMap<(String, i32), Vec<(i64, Instant)>>,
    /// When the brokers refused a batch for its sequence or epoch, on any partition, in order
    /// (see `SimBroker::refusal_times`); empty when the broker does not say.
    pub refusals: Vec<Instant>,
    /// The brokers accept any first sequence from a producer whose state they lost (KIP-360):
    /// a reorder across such a loss is excused (see [`excused_reorder`]).
    pub accepts_any_first_sequence: bool,
    /// Partitions on which the broker answered an injected sequence error (a lie about its
    /// producer state), with how many.
    pub injected_sequence_errors: BTreeMap<(String, i32), u64>,
    /// How many times `send` answered QueueFull (back-pressure exercised).
    pub queue_full: u64,
}

impl Run {
    /// When the record at `offset` of partition `key` was appended, if the broker said.
    pub fn appended_at(&self, key: &(String, i32), offset: i64) -> Option<Instant> {
        self.appended.get(key)?.iter().find(|(end, _)| *end > offset).map(|(_, at)| *at)
    }

    /// No earlier than the broker's refusal behind a give-up the producer reported at `at`: the
    /// latest refusal on any partition up to `at` (`at` itself when the broker does not say).
    /// The refusal reached the producer a network delay after the broker decided it.
    pub fn refused_by(&self, at: Instant) -> Instant {
        self.refusals.iter().rev().find(|t| **t <= at).copied().unwrap_or(at)
    }
}

/// Parses the record index from a value `r<index>:...`.
pub fn record_index(value: &[u8]) -> Option<usize> {
    let rest = value.strip_prefix(b"r")?;
    let end = rest.iter().position(|b| *b == b':').unwrap_or(rest.len());
    std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
}

/// A value that encodes record `index`, padded with `filler` bytes.
pub fn record_value(index: usize, filler: usize) -> Vec<u8> {
    let mut v = format!("r{index}:").into_bytes();
    v.extend(std::iter::repeat_n(b'.', filler));
    v
}

/// Checks every guarantee; returns all violations found (empty: the run is correct).
pub fn check(run: &Run) -> Vec<String> {
    let mut errs = Vec::new();
    let mut err = |s: String| {
        if errs.len() < 50 {
            errs.push(s);
        }
    };

    // 3. Exactly one report per accepted record.
    let mut report_of: Vec<Option<&Report>> = vec![None; run.sent.len()];
    for r in &run.reports {
        match report_of.get_mut(r.record) {
            None => err(format!("report for unknown record {}: {:?}", r.record, r.outcome)),
            Some(Some(prev)) => err(format!(
                "record {} reported twice: {:?} at {:?}, then {:?} at {:?}",
                r.record, prev.outcome, prev.at, r.outcome, r.at
            )),
            Some(slot) => *slot = Some(r),
        }
    }

    // Where each record is in the logs.
    let mut found: Vec<Vec<(&str, i32, &LogEntry)>> = vec![Vec::new(); run.sent.len()];
    for ((topic, partition), log) in &run.logs {
        let mut last_offset = None;
        let marks = run.state_loss.get(&(topic.clone(), *partition)).map_or(&[][..], Vec::as_slice);
        // (producer id, epoch, state-loss segment) -> last record index seen in this partition.
        let mut last_in_session: BTreeMap<(i64, i16, usize), (usize, i64)> = BTreeMap::new();
        for e in log {
            if last_offset.is_some_and(|o| e.offset <= o) {
                err(format!("{topic}-{partition}: log offsets not increasing at {}", e.offset));
            }
            last_offset = Some(e.offset);
            let Some(idx) = e.value.as_deref().and_then(record_index).filter(|i| *i < run.sent.len()) else {
                err(format!(
                    "{topic}-{partition}@{}: record never accepted by send: {:?}",
                    e.offset,
                    e.value.as_deref().map(String::from_utf8_lossy)
                ));
                continue;
            };
            let sent = &run.sent[idx];
            if e.value.as_deref() != Some(&sent.value[..])
                || sent.topic != *topic
                || sent.partition.is_some_and(|p| p != *partition)
            {
                err(format!(
                    "{topic}-{partition}@{}: record {idx} is not what was sent (topic {}, partition {:?})",
                    e.offset, sent.topic, sent.partition
                ));
            }
            // 2. No reordering within a session.
            let session = (e.producer_id, e.epoch, segment(marks, e.offset));
            if let Some((prev, prev_off)) = last_in_session.get(&session) {
                if *prev == idx {
                    err(format!(
                        "{topic}-{partition}: DUPLICATE in session {session:?}: record {idx} at offsets {prev_off} and {}",
                        e.offset
                    ));
                } else if *prev > idx {
                    err(format!(
                        "{topic}-{partition}: REORDER in session {session:?}: record {idx}@{} after record {prev}@{prev_off}",
                        e.offset
                    ));
                }
            }
            last_in_session.insert(session, (idx, e.offset));
            found[idx].push((topic, *partition, e));
        }
    }
    let mut excused = 0;

    for (idx, places) in found.iter().enumerate() {
        // 1. No duplicates (a record is never sent under two sessions either: at most once, full stop).
        if places.len() > 1 && excused_duplicate(run, places) {
            excused += places.len() - 1;
        } else if places.len() > 1 {
            let at: Vec<String> = places
                .iter()
                .map(|(t, p, e)| {
                    format!("{t}-{p}@{} (pid {} epoch {} seq {})", e.offset, e.producer_id, e.epoch, e.sequence)
                })
                .collect();
            err(format!("DUPLICATE: record {idx} is in the log {} times: {}", places.len(), at.join(", ")));
        }
        let Some(report) = report_of[idx] else {
            err(format!(
                "LOST: record {idx} (sent at {:?}) has no report; in log: {}",
                run.sent[idx].sent_at,
                places.len()
            ));
            continue;
        };
        match &report.outcome {
            Outcome::Delivered { partition, offset } => {
                let sent = &run.sent[idx];
                if sent.partition.is_some_and(|p| p != *partition) {
                    err(format!(
                        "record {idx} asked for partition {:?}, reported delivered to {partition}",
                        sent.partition
                    ));
                }
                let mut here = places.iter().filter(|(t, p, _)| *t == sent.topic && p == partition);
                let here = match offset {
                    Some(o) => here.clone().find(|(_, _, e)| e.offset == *o).or_else(|| here.next()),
                    None => here.next(),
                };
                match (here, offset) {
                    (None, _) => err(format!(
                        "SILENT LOSS: record {idx} reported Delivered {{ partition {partition}, offset {offset:?} }} but is not in that log"
                    )),
                    (Some((_, _, e)), Some(o)) if e.offset != *o => {
                        // Report any record at that offset to make the failure readable.
                        let at = run
                            .logs
                            .get(&(sent.topic.clone(), *partition))
                            .and_then(|l| l.iter().find(|x| x.offset == *o))
                            .and_then(|x| x.value.as_deref().and_then(record_index));
                        err(format!(
                            "record {idx} reported at offset {o} but is at {} (offset {o} holds record {at:?})",
                            e.offset
                        ));
                    }
                    _ => {}
                }
            }
            Outcome::NotPersisted(why) => {
                if !places.is_empty() {
                    err(format!(
                        "record {idx} reported NotPersisted ({why}) but is in the log at {}-{}@{}",
                        places[0].0, places[0].1, places[0].2.offset
                    ));
                }
            }
            Outcome::PossiblyPersisted(why) => {
                if let Some((t, p, e)) = places.first().filter(|_| why.is_sequence_error()) {
                    let key = (t.to_string(), *p);
                    let marks = |m: &BTreeMap<(String, i32), Vec<i64>>| m.get(&key).cloned().unwrap_or_default();
                    let lost_after =
                        marks(&run.state_loss).into_iter().chain(marks(&run.window_loss)).any(|m| m > e.offset);
                    // A KIP-360 broker that lost the producer's state at or before this append
                    // rebuilt it from whatever batch came first: it may hold this one out of
                    // sequence, and the producer's view of the partition no longer matches.
                    let rebuilt =
                        run.accepts_any_first_sequence && marks(&run.state_loss).iter().any(|m| *m <= e.offset);
                    // A copy still on the wire when the broker refused the record's last attempt,
                    // appended later (a request of a connection the producer had closed, racing
                    // the resend), is a different fault (judged by the order checks).
                    let refused = run.refused_by(report.at);
                    let written_before = run.appended_at(&key, e.offset).is_none_or(|t| t < refused);
                    if written_before && !lost_after && !rebuilt && !run.injected_sequence_errors.contains_key(&key) {
                        err(format!(
                            "GIVEN UP IN LOG: record {idx} reported PossiblyPersisted ({why}) but is in the log at \
                             {t}-{p}@{} (pid {} epoch {} seq {}); the broker kept its producer state",
                            e.offset, e.producer_id, e.epoch, e.sequence
                        ));
                    }
                }
            }
        }
        // 5. Liveness.
        let start = run.sent[idx].sent_at.max(run.faults_end);
        let bound = start + run.delivery_timeout + run.slack;
        if report.at > bound {
            err(format!("LIVENESS: record {idx} reported at {:?}, bound {:?}", report.at, bound));
        }
        // 6. Progress: on a healthy cluster nothing waits out its delivery timeout. A record sent
        // once every fault had ended (brokers up, the network behaving) that fails on
        // `delivery.timeout.ms` counted from its own `send` means the producer stopped making
        // progress on its own (e.g. memory it can never free). (A record that joined a batch
        // opened during the faults shares that batch's earlier deadline, as in the Java client:
        // it may time out sooner, which is not a stall.)
        let timed_out = matches!(
            report.outcome,
            Outcome::NotPersisted(FailReason::Timeout) | Outcome::PossiblyPersisted(FailReason::Timeout)
        );
        let sent_at = run.sent[idx].sent_at;
        if timed_out && sent_at >= run.faults_end && report.at >= sent_at + run.delivery_timeout {
            err(format!(
                "STALLED: record {idx} sent at {:?}, after the last fault ended at {:?}, timed out at {:?}",
                run.sent[idx].sent_at, run.faults_end, report.at
            ));
        }
    }

    // 2. Order across sessions.
    for e in order_across_sessions(run, &report_of) {
        err(e);
    }
    // Excused duplicates are counted in `summary` and in the sweep totals.
    let _ = excused;
    // 4. Bounded memory.
    if run.max_buffered > run.buffer_limit {
        err(format!("MEMORY: buffered {} bytes, limit {}", run.max_buffered, run.buffer_limit));
    }
    errs
}

/// The README's promise for Delivered, across sessions: a Delivered record is in its partition's
/// log after every record sent before it that is in the log (Delivered, or PossiblyPersisted and
/// written). Each record counts at its first copy; records without a report or reported
/// NotPersisted are judged elsewhere.
fn order_across_sessions(run: &Run, report_of: &[Option<&Report>]) -> Vec<String> {
    let mut errs = Vec::new();
    for (key, log) in &run.logs {
        let (topic, partition) = key;
        // The latest-sent Delivered record so far in log order.
        let mut latest_delivered: Option<(usize, &LogEntry)> = None;
        for (idx, e) in first_copies(log, run.sent.len()) {
            let delivered = match report_of[idx].map(|r| &r.outcome) {
                Some(Outcome::Delivered { partition: p, .. }) if p == partition => true,
                Some(Outcome::PossiblyPersisted(_)) => false,
                _ => continue,
            };
            if let Some((later, at)) =
                latest_delivered.filter(|(later, at)| *later > idx && !excused_reorder(run, key, at, e))
            {
                let at = at.offset;
                let what = if delivered { "Delivered" } else { "PossiblyPersisted" };
                // A copy appended after the producer gave the record up was still on the wire.
                let given_up = report_of[idx].map(|r| r.at).filter(|_| !delivered);
                let late = match (run.appended_at(key, e.offset), given_up) {
                    (Some(t), Some(g)) if t > g => format!("; appended at {t:?}, after it was given up at {g:?}"),
                    _ => String::new(),
                };
                errs.push(format!(
                    "{topic}-{partition}: REORDER ACROSS SESSIONS: {what} record {idx}@{} (pid {} epoch {} seq {}) \
                     is after Delivered record {later}@{at}, which was sent after it{late}",
                    e.offset, e.producer_id, e.epoch, e.sequence
                ));
            }
            if delivered && latest_delivered.is_none_or(|(l, _)| l < idx) {
                latest_delivered = Some((idx, e));
            }
        }
    }
    errs
}

/// A reorder no producer can prevent: the broker lost the producer's state between the
/// later-sent record's append (`later`) and the earlier-sent one's (`earlier`), and with it what
/// would have refused the earlier batch:
/// - a broker that accepts any first sequence from a producer it holds no state for (KIP-360,
///   the hole KAFKA-15591 closes) takes the earlier batch as a first batch; or
/// - the earlier batch belongs to an older session (producer id, epoch) than the later one: a
///   stale request still on the wire, which the newer epoch fenced only while the broker
///   remembered it (a strict broker accepts it as a first batch of an unknown producer).
pub fn excused_reorder(run: &Run, key: &(String, i32), later: &LogEntry, earlier: &LogEntry) -> bool {
    let lost_between =
        run.state_loss.get(key).is_some_and(|marks| marks.iter().any(|m| later.offset < *m && *m <= earlier.offset));
    let older_session = (earlier.producer_id, earlier.epoch) < (later.producer_id, later.epoch);
    lost_between && (run.accepts_any_first_sequence || older_session)
}

/// Reorders excused by [`excused_reorder`] in a finished run (pairs of records).
pub fn excused_reorders(run: &Run) -> usize {
    let mut n = 0;
    for (key, log) in &run.logs {
        if run.state_loss.get(key).is_none_or(Vec::is_empty) {
            continue; // nothing to excuse without a state-loss mark
        }
        let firsts = first_copies(log, run.sent.len());
        for (i, (a, ea)) in firsts.iter().enumerate() {
            n += firsts[i + 1..].iter().filter(|(b, eb)| b < a && excused_reorder(run, key, ea, eb)).count();
        }
    }
    n
}

/// Each accepted record's first copy in a log, in log order (records with an index beyond the
/// `sent` accepted ones are reported elsewhere).
fn first_copies(log: &[LogEntry], sent: usize) -> Vec<(usize, &LogEntry)> {
    let mut seen = std::collections::BTreeSet::new();
    log.iter()
        .filter_map(|e| {
            let i = e.value.as_deref().and_then(record_index).filter(|i| *i < sent && seen.insert(*i))?;
            Some((i, e))
        })
        .collect()
}

/// Which state-loss segment `offset` is in: the number of marks at or below it.
fn segment(marks: &[i64], offset: i64) -> usize {
    marks.iter().filter(|m| **m <= offset).count()
}

/// A duplicate no producer can prevent: every copy is the same batch entry (producer id, epoch,
/// sequence) in the same partition, and each copy is in a different state-loss segment.
fn excused_duplicate(run: &Run, places: &[(&str, i32, &LogEntry)]) -> bool {
    let Some((t0, p0, e0)) = places.first() else { return false };
    let marks = run.state_loss.get(&(t0.to_string(), *p0)).map_or(&[][..], Vec::as_slice);
    let mut segments: Vec<usize> = places.iter().map(|(_, _, e)| segment(marks, e.offset)).collect();
    segments.dedup();
    places.iter().all(|(t, p, e)| {
        t == t0 && p == p0 && (e.producer_id, e.epoch, e.sequence) == (e0.producer_id, e0.epoch, e0.sequence)
    }) && segments.len() == places.len()
}

/// Duplicates excused by [`excused_duplicate`] in a finished run.
pub fn excused_duplicates(run: &Run) -> usize {
    let mut count: BTreeMap<usize, Vec<(&str, i32, &LogEntry)>> = BTreeMap::new();
    for ((t, p), log) in &run.logs {
        for e in log {
            if let Some(i) = e.value.as_deref().and_then(record_index) {
                count.entry(i).or_default().push((t, *p, e));
            }
        }
    }
    count.values().filter(|v| v.len() > 1 && excused_duplicate(run, v)).map(|v| v.len() - 1).sum()
}

/// A short human summary of a run's outcomes (for logs).
pub fn summary(run: &Run) -> String {
    let mut tally = [0usize; 3];
    for r in &run.reports {
        tally[r.outcome.kind()] += 1;
    }
    let [d, n, p] = tally;
    let mut s = String::new();
    let in_log: usize = run.logs.values().map(Vec::len).sum();
    let _ = write!(
        s,
        "sent {} delivered {d} not-persisted {n} possibly-persisted {p} in-log {in_log} queue-full {} excused-dups {} excused-reorders {}",
        run.sent.len(),
        run.queue_full,
        excused_duplicates(run),
        excused_reorders(run)
    );
    s
}

/// Decodes a partition's stored batches (each the bytes of one RecordBatch v2, base offset
/// set) with kafka-protocol's decoder, an implementation no one here wrote; verifies each CRC.
pub fn decode_log(batches: &[&[u8]]) -> Result<Vec<LogEntry>, String> {
    use kafka_protocol::records::RecordBatchDecoder;
    let mut out = Vec::new();
    for b in batches {
        let mut buf = bytes::Bytes::copy_from_slice(b);
        let set = RecordBatchDecoder::decode_all(&mut buf).map_err(|e| format!("undecodable batch in log: {e}"))?;
        for set in set {
            for r in set.records {
                out.push(LogEntry {
                    offset: r.offset,
                    producer_id: r.producer_id,
                    epoch: r.producer_epoch,
                    sequence: r.sequence,
                    value: r.value.map(|v| v.to_vec()),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(offset: i64, epoch: i16, idx: usize) -> LogEntry {
        LogEntry { offset, producer_id: 1, epoch, sequence: offset as i32, value: Some(record_value(idx, 3)) }
    }

    fn base() -> Run {
        let sent = (0..4)
            .map(|i| SentRecord {
                topic: "t".into(),
                partition: Some(0),
                value: record_value(i, 3),
                sent_at: Instant::ZERO,
            })
            .collect();
        let reports = (0..4)
            .map(|i| Report {
                record: i,
                at: Instant::from_millis(10),
                outcome: Outcome::Delivered { partition: 0, offset: Some(i as i64) },
            })
            .collect();
        let mut logs = BTreeMap::new();
        logs.insert(("t".to_string(), 0), (0..4).map(|i| entry(i as i64, 0, i)).collect());
        Run {
            sent,
            reports,
            logs,
            buffer_limit: 100,
            max_buffered: 50,
            delivery_timeout: Duration::from_millis(100),
            ..Run::default()
        }
    }

    #[test]
    fn clean_run_passes() {
        assert_eq!(check(&base()), Vec::<String>::new());
        assert_eq!(record_index(b"r17:..."), Some(17));
    }

    #[test]
    fn each_violation_is_caught() {
        let mut r = base();
        r.logs.get_mut(&("t".to_string(), 0)).unwrap().push(entry(4, 0, 2));
        assert!(check(&r).iter().any(|e| e.contains("DUPLICATE")));

        let mut r = base();
        r.logs.get_mut(&("t".to_string(), 0)).unwrap().swap(1, 2);
        for (o, e) in r.logs.get_mut(&("t".to_string(), 0)).unwrap().iter_mut().enumerate() {
            e.offset = o as i64;
        }
        assert!(check(&r).iter().any(|e| e.contains("REORDER")));

        let mut r = base();
        r.reports.pop();
        assert!(check(&r).iter().any(|e| e.contains("LOST")));

        let mut r = base();
        r.logs.get_mut(&("t".to_string(), 0)).unwrap().pop();
        assert!(check(&r).iter().any(|e| e.contains("SILENT LOSS")));

        let mut r = base();
        r.reports[0].outcome = Outcome::Delivered { partition: 0, offset: Some(1) };
        assert!(check(&r).iter().any(|e| e.contains("reported at offset 1")));

        let mut r = base();
        r.reports[1].outcome = Outcome::NotPersisted(FailReason::Timeout);
        assert!(check(&r).iter().any(|e| e.contains("NotPersisted")));

        let mut r = base();
        r.reports.push(r.reports[0].clone());
        assert!(check(&r).iter().any(|e| e.contains("twice")));

        let mut r = base();
        r.max_buffered = 101;
        assert!(check(&r).iter().any(|e| e.contains("MEMORY")));

        let mut r = base();
        r.reports[3].at = Instant::from_millis(500);
        assert!(check(&r).iter().any(|e| e.contains("LIVENESS")));

        // A retried batch appended again after the broker lost producer state: excused, but only
        // with the same (producer id, epoch, sequence) on both sides of a state-loss mark.
        let mut r = base();
        r.logs.get_mut(&("t".to_string(), 0)).unwrap().push(LogEntry { offset: 4, ..entry(0, 0, 0) });
        assert!(check(&r).iter().any(|e| e.contains("DUPLICATE")));
        r.state_loss.insert(("t".to_string(), 0), vec![4]);
        assert_eq!(check(&r), Vec::<String>::new());
        assert_eq!(excused_duplicates(&r), 1);
        r.logs.get_mut(&("t".to_string(), 0)).unwrap()[4].epoch = 1;
        assert!(check(&r).iter().any(|e| e.contains("DUPLICATE")));
    }

    /// Bug B (KIP-360 brokers): record 1 was taken as the first of the session, record 0 was
    /// renumbered into a later epoch behind it; both Delivered.
    #[test]
    fn reorder_across_sessions_is_caught() {
        let mut r = base();
        let log = r.logs.get_mut(&("t".to_string(), 0)).unwrap();
        log[0] = entry(0, 0, 1);
        log[1] = entry(1, 1, 0);
        r.reports[0].outcome = Outcome::Delivered { partition: 0, offset: Some(1) };
        r.reports[1].outcome = Outcome::Delivered { partition: 0, offset: Some(0) };
        let errs = check(&r);
        assert!(errs.iter().any(|e| e.contains("REORDER ACROSS SESSIONS: Delivered record 0@1")), "{errs:?}");
        assert!(!errs.iter().any(|e| e.contains("REORDER in session")), "each session is in order: {errs:?}");

        // A PossiblyPersisted record in the log after a later-sent Delivered one.
        r.reports[0].outcome = Outcome::PossiblyPersisted(FailReason::Timeout);
        let errs = check(&r);
        assert!(errs.iter().any(|e| e.contains("REORDER ACROSS SESSIONS: PossiblyPersisted record 0@1")), "{errs:?}");

        // Not in the log, or NotPersisted (judged elsewhere), or not later-sent: no order violation.
        let mut r = base();
        r.logs.get_mut(&("t".to_string(), 0)).unwrap().remove(0);
        r.reports[0].outcome = Outcome::PossiblyPersisted(FailReason::Timeout);
        assert_eq!(check(&r), Vec::<String>::new());
        // A PossiblyPersisted record sent after a Delivered one but written before it: the README
        // promises a Delivered record's place after every record sent *before* it, nothing more.
        let mut r = base();
        let log = r.logs.get_mut(&("t".to_string(), 0)).unwrap();
        log[0] = entry(0, 0, 1);
        log[1] = entry(1, 1, 0);
        r.reports[0].outcome = Outcome::Delivered { partition: 0, offset: Some(1) };
        r.reports[1].outcome = Outcome::PossiblyPersisted(FailReason::Timeout);
        assert_eq!(check(&r), Vec::<String>::new());

        // An excused duplicate counts at its first copy.
        let mut r = base();
        r.logs.get_mut(&("t".to_string(), 0)).unwrap().push(LogEntry { offset: 4, ..entry(0, 0, 0) });
        r.state_loss.insert(("t".to_string(), 0), vec![4]);
        r.reports[0].outcome = Outcome::Delivered { partition: 0, offset: Some(4) };
        assert_eq!(check(&r), Vec::<String>::new());

        // Record 1 appended after record 2 in one session: a reorder, unless the broker follows
        // KIP-360 and lost the producer's state between the two appends (offsets 1 and 2).
        let mut r = base();
        let log = r.logs.get_mut(&("t".to_string(), 0)).unwrap();
        log[1] = entry(1, 0, 2);
        log[2] = LogEntry { sequence: 1, ..entry(2, 0, 1) };
        r.reports[1].outcome = Outcome::Delivered { partition: 0, offset: Some(2) };
        r.reports[2].outcome = Outcome::Delivered { partition: 0, offset: Some(1) };
        let across = |r: &Run| check(r).iter().any(|e| e.contains("REORDER ACROSS SESSIONS: Delivered record 1@2"));
        assert!(across(&r));
        r.state_loss.insert(("t".to_string(), 0), vec![2]);
        assert!(across(&r), "a strict broker refuses the earlier batch after a state loss");
        r.accepts_any_first_sequence = true;
        assert!(!across(&r), "KIP-360: the state loss between the appends excuses it");
        assert_eq!(excused_reorders(&r), 1);
        r.state_loss.insert(("t".to_string(), 0), vec![1]);
        assert!(across(&r), "a loss before both appends does not");
        // A strict broker: a stale request of an older epoch, fenced only while the broker
        // remembered the newer epoch.
        r.accepts_any_first_sequence = false;
        r.state_loss.insert(("t".to_string(), 0), vec![2]);
        r.logs.get_mut(&("t".to_string(), 0)).unwrap()[1].epoch = 1;
        assert!(!across(&r), "older session, state lost in between");
        r.state_loss.clear();
        assert!(across(&r), "older session, state kept: the epoch fence held, so this is a bug");
    }

    /// Bug A: a batch in the log, given up after a sequence error although the broker kept its
    /// producer state.
    #[test]
    fn given_up_in_log_is_caught_unless_the_broker_lost_state_or_lied() {
        let seq = FailReason::Sequence(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
        let mut r = base();
        r.reports[1].outcome = Outcome::PossiblyPersisted(seq);
        let errs = check(&r);
        assert!(errs.iter().any(|e| e.starts_with("GIVEN UP IN LOG: record 1 ")), "{errs:?}");
        assert_eq!(errs.len(), 1, "{errs:?}");
        // Sequence errors in a non-retriable rejection count too.
        r.reports[1].outcome = Outcome::PossiblyPersisted(FailReason::Rejected(ErrorCode::UNKNOWN_PRODUCER_ID));
        assert!(check(&r).iter().any(|e| e.contains("GIVEN UP IN LOG")));
        // Other reasons do not: the producer may give up a written batch when time or retries run out.
        for why in [
            FailReason::Timeout,
            FailReason::RetriesExhausted(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER),
            FailReason::Fatal,
            FailReason::Aborted,
        ] {
            r.reports[1].outcome = Outcome::PossiblyPersisted(why);
            assert_eq!(check(&r), Vec::<String>::new(), "{why:?}");
        }
        // Not in the log: nothing to say.
        r.reports[1].outcome = Outcome::PossiblyPersisted(seq);
        let mut gone = r.clone();
        gone.logs.get_mut(&("t".to_string(), 0)).unwrap().remove(1);
        gone.reports[2].outcome = Outcome::Delivered { partition: 0, offset: Some(1) };
        gone.reports[3].outcome = Outcome::Delivered { partition: 0, offset: Some(2) };
        for (i, e) in gone.logs.get_mut(&("t".to_string(), 0)).unwrap().iter_mut().enumerate() {
            e.offset = i as i64;
        }
        assert_eq!(check(&gone), Vec::<String>::new());
        // State lost (wholly, or down to the last batch) after the record was appended: excused;
        // before it: not.
        let key = ("t".to_string(), 0);
        for window in [false, true] {
            let marked = |m: i64| {
                let mut x = r.clone();
                let marks = if window { &mut x.window_loss } else { &mut x.state_loss };
                marks.insert(key.clone(), vec![m]);
                x
            };
            assert_eq!(check(&marked(2)), Vec::<String>::new());
            assert!(check(&marked(1)).iter().any(|e| e.contains("GIVEN UP IN LOG")));
            // A KIP-360 broker that lost the state before the append rebuilt it from an arbitrary
            // first batch: excused (only for a whole loss, not for a restart keeping the last batch).
            let mut kip360 = marked(1);
            kip360.accepts_any_first_sequence = true;
            assert_eq!(check(&kip360).is_empty(), !window, "window loss {window}");
        }
        // Appended only after the producer gave it up (a copy still on the wire): not this fault.
        let mut late = r.clone();
        late.appended.insert(key.clone(), vec![(1, Instant::from_millis(5)), (4, Instant::from_millis(20))]);
        assert_eq!(check(&late), Vec::<String>::new());
        late.appended.insert(key.clone(), vec![(2, Instant::from_millis(5)), (4, Instant::from_millis(20))]);
        assert!(check(&late).iter().any(|e| e.contains("GIVEN UP IN LOG")), "appended at 5 ms, given up at 10 ms");
        // Appended after the broker refused the resend, before the refusal reached the producer
        // (a request of a closed connection racing the resend): not this fault either. The
        // latest refusal up to the report bounds the one behind it from above.
        late.refusals = vec![Instant::from_millis(1), Instant::from_millis(6), Instant::from_millis(30)];
        assert!(check(&late).iter().any(|e| e.contains("GIVEN UP IN LOG")), "appended at 5 ms, refused at 6 ms");
        late.refusals = vec![Instant::from_millis(1), Instant::from_millis(4)];
        assert_eq!(check(&late), Vec::<String>::new(), "appended at 5 ms, refused by 4 ms");
        // An injected sequence error on the partition: the broker lied, excused.
        r.injected_sequence_errors.insert(key, 1);
        assert_eq!(check(&r), Vec::<String>::new());
    }
}
