//! The demo's report: what the cluster injected, what the producer did about it, what the logs
//! hold, and the verdict.

use std::fmt::Write as _;
use std::time::Duration;

use idem_core::proto::record_batch::Compression;

use super::check::Verdict;
use super::group::{GROUP, GroupVerdict};
use super::txn::TxnVerdict;
use super::workload::Plan;
use crate::progress::per_second;

/// Faults the cluster injected (its own counters).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Injected {
    /// Produce requests appended, then answered by closing the connection.
    pub dropped_after_append: u64,
    /// Partitions answered with an error after appending.
    pub errors_after_append: u64,
    /// Partitions answered with an error without appending.
    pub errors_before_append: u64,
    /// Responses held back.
    pub delayed_responses: u64,
    /// Partition leadership moves.
    pub leader_moves: u64,
    /// Brokers taken down (and brought back).
    pub broker_downs: u64,
    /// Requests answered NOT_LEADER_OR_FOLLOWER (stale leadership on the producer's side).
    pub not_leader: u64,
    /// Batches the brokers recognised as duplicates (acknowledged, not appended again).
    pub duplicates_rejected: u64,
}

/// What the producer did (its metrics).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reaction {
    /// Produce requests sent.
    pub produce_requests: u64,
    /// Batches sealed.
    pub batches: u64,
    /// Batch retransmissions.
    pub retries: u64,
    /// Batches acknowledged as duplicates of an earlier attempt.
    pub duplicates_acknowledged: u64,
    /// Batches acknowledged implicitly by a later batch's success.
    pub implicit_acks: u64,
    /// Epoch bumps and new producer ids after the first.
    pub epoch_bumps: u64,
    /// Connections lost or closed on error.
    pub connection_errors: u64,
}

/// Everything the report shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The workload.
    pub plan: Plan,
    /// Brokers in the cluster.
    pub brokers: usize,
    /// Whether faults were on.
    pub faults: bool,
    /// The producer's `compression.type`.
    pub compression: Compression,
    /// How the connections were secured (`--secure`): the security protocol and what it ran.
    pub security: Option<String>,
    /// The cluster's fault counters.
    pub injected: Injected,
    /// The producer's metrics.
    pub reaction: Reaction,
    /// The check of the logs.
    pub verdict: Verdict,
    /// Time from the first send to the last report.
    pub produce_elapsed: Duration,
    /// The read-back through a consumer group, and the coordinator faults injected meanwhile
    /// (moves, errors); `None` when it did not run (`--secure`: idem's consumer speaks
    /// PLAINTEXT only).
    pub group: Option<(GroupVerdict, u64, u64)>,
    /// The transactions (`--transactions`).
    pub transactions: Option<TxnVerdict>,
}

fn line(s: &mut String, label: &str, value: u64, note: &str) {
    let _ = writeln!(s, "  {label:<34} {value:>9}{}{note}", if note.is_empty() { "" } else { "   " });
}

/// A line for each count that is not zero (the ones that break a guarantee, or say why).
fn nonzero_lines(s: &mut String, counts: &[(&str, u64, &str)]) {
    for &(label, n, note) in counts {
        if n > 0 {
            line(s, label, n, note);
        }
    }
}

impl Report {
    /// PASS: the logs, the group's read-back and the transactions are all exact.
    pub fn pass(&self) -> bool {
        self.verdict.pass()
            && self.group.as_ref().is_none_or(|(g, ..)| g.pass())
            && self.transactions.as_ref().is_none_or(TxnVerdict::pass)
    }

    /// The report text (ends with the verdict line).
    pub fn render(&self) -> String {
        let (p, i, r, v) = (&self.plan, &self.injected, &self.reaction, &self.verdict);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "idem demo: {} records from {} threads to {} partitions on a {}-broker cluster over TCP{}, seed {}, faults {}{}",
            p.records,
            p.threads,
            p.partitions,
            self.brokers,
            self.security.as_ref().map_or(String::new(), |s| format!(" ({s})")),
            p.seed,
            if self.faults { "on" } else { "off" },
            match self.compression {
                Compression::None => String::new(),
                c => format!(", compression {}", c.name()),
            }
        );
        let _ = writeln!(s, "\ninjected by the cluster");
        line(
            &mut s,
            "appended, then connection dropped",
            i.dropped_after_append,
            "(the producer never saw the answer)",
        );
        line(&mut s, "errors after append", i.errors_after_append, "(written, but answered with an error)");
        line(&mut s, "errors before append", i.errors_before_append, "");
        line(&mut s, "delayed responses", i.delayed_responses, "");
        line(&mut s, "leader moves", i.leader_moves, "");
        line(&mut s, "brokers taken down and back up", i.broker_downs, "");
        line(&mut s, "answered NOT_LEADER_OR_FOLLOWER", i.not_leader, "");
        let _ = writeln!(s, "\nwhat the producer did about it");
        line(&mut s, "produce requests", r.produce_requests, "");
        line(&mut s, "batches", r.batches, "");
        line(&mut s, "retries (batch resends)", r.retries, "(same bytes, same sequence numbers)");
        line(
            &mut s,
            "resends the brokers already had",
            i.duplicates_rejected,
            "(matched by sequence number: not written twice)",
        );
        line(&mut s, "duplicates acknowledged", r.duplicates_acknowledged, "(answered DUPLICATE_SEQUENCE_NUMBER)");
        line(&mut s, "implicit acks", r.implicit_acks, "(a later batch's success proved an earlier one written)");
        line(&mut s, "epoch bumps", r.epoch_bumps, "");
        line(&mut s, "connection errors", r.connection_errors, "");
        let _ = writeln!(s, "\nread back from the partition logs");
        line(&mut s, "records in the logs", v.in_log, "");
        if self.compression != Compression::None {
            let note = format!("of {} batches", v.batches);
            line(&mut s, &format!("batches compressed ({})", self.compression.name()), v.compressed_batches, &note);
        }
        line(&mut s, "delivered", v.delivered, "");
        let problems: [(&str, u64, &str); 11] = [
            ("failed, not persisted", v.not_persisted, ""),
            ("failed, possibly persisted", v.possibly_persisted, ""),
            ("refused by send", v.refused, ""),
            ("never reported", v.unreported, "(broken: every record gets a final report)"),
            ("duplicates in the logs", v.duplicates, "(broken: at most once)"),
            ("delivered but missing", v.missing, "(broken: no silent loss)"),
            ("reported not persisted, yet present", v.unexpected, "(broken)"),
            ("out of order", v.out_of_order, "(broken: per-partition order)"),
            ("in the wrong partition", v.wrong_partition, "(broken)"),
            ("at another offset than reported", v.wrong_offset, "(broken)"),
            ("corrupt batches or values", v.corrupt, "(broken)"),
        ];
        nonzero_lines(&mut s, &problems);
        if let Some((g, moves, errors)) = &self.group {
            render_group(&mut s, g, *moves, *errors);
        }
        if let Some(t) = &self.transactions {
            let _ = writeln!(s);
            t.render(&mut s);
        }
        let group_pass = self.group.as_ref().is_none_or(|(g, ..)| g.pass());
        let txn_pass = self.transactions.as_ref().is_none_or(TxnVerdict::pass);
        let rate = per_second(v.delivered, self.produce_elapsed);
        let _ = writeln!(s);
        if v.pass() && !group_pass {
            let _ = writeln!(s, "FAIL: the read-back through consumer group {GROUP} is not exact (see above)");
        } else if v.pass() && !txn_pass {
            let _ = writeln!(s, "FAIL: the transactions' read_committed view is not exact (see above)");
        } else if v.pass() {
            let _ = writeln!(
                s,
                "PASS: all {} records are in the logs exactly once, in the order each thread sent them ({:.2} s, {rate:.0} \
                 records/s)",
                v.planned,
                self.produce_elapsed.as_secs_f64()
            );
        } else {
            let mut why = Vec::new();
            if v.delivered != v.planned {
                why.push(format!("{} of {} records not delivered", v.planned - v.delivered.min(v.planned), v.planned));
            }
            if !v.holds() {
                why.push("a delivery guarantee is broken (see above)".to_string());
            } else if v.in_log != v.planned && v.delivered == v.planned {
                why.push(format!("{} records in the logs, {} sent", v.in_log, v.planned));
            }
            let _ = writeln!(s, "FAIL: {} ({:.2} s)", why.join("; "), self.produce_elapsed.as_secs_f64());
        }
        s
    }
}

/// The read-back's section.
fn render_group(s: &mut String, g: &GroupVerdict, moves: u64, errors: u64) {
    let _ = writeln!(
        s,
        "\nread back through consumer group {GROUP} ({} idem consumers: one joins late, one leaves half way)",
        g.members
    );
    line(s, "records handed to members", g.consumed, &format!("of {} in the logs", g.expected));
    line(s, "assignments", g.assignments, "(one per member per generation)");
    line(s, "commits", g.commits, "");
    line(s, "coordinator moves", moves, "");
    line(s, "coordinator errors injected", errors, "(NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS)");
    let problems: [(&str, u64, &str); 5] = [
        ("commits refused", g.commit_failures, ""),
        ("handed out twice", g.duplicates, "(broken: each record to one member once)"),
        ("never handed out", g.missing, "(broken)"),
        ("not as the log holds it", g.mismatched, "(broken)"),
        ("out of offset order", g.out_of_order, "(broken)"),
    ];
    nonzero_lines(s, &problems);
    let _ = writeln!(s, "  {:<34} {:>9.2} s", "read-back time", g.elapsed.as_secs_f64());
    if let Some(e) = &g.error {
        let _ = writeln!(s, "  error: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(verdict: Verdict) -> Report {
        Report {
            plan: Plan { records: 10, threads: 2, partitions: 6, value_len: 20, seed: 3 },
            brokers: 3,
            faults: true,
            compression: Compression::None,
            security: None,
            injected: Injected {
                dropped_after_append: 4,
                leader_moves: 1,
                duplicates_rejected: 3,
                ..Injected::default()
            },
            reaction: Reaction { retries: 5, duplicates_acknowledged: 4, epoch_bumps: 0, ..Reaction::default() },
            verdict,
            produce_elapsed: Duration::from_secs(2),
            group: None,
            transactions: None,
        }
    }

    #[test]
    fn pass_report_shows_counts_and_verdict() {
        let text = report(Verdict { planned: 10, delivered: 10, in_log: 10, ..Verdict::default() }).render();
        assert!(text.contains("10 records from 2 threads to 6 partitions on a 3-broker cluster"), "{text}");
        assert!(text.contains("appended, then connection dropped          4"), "{text}");
        assert!(text.contains("duplicates acknowledged                    4"), "{text}");
        assert!(text.contains("resends the brokers already had            3"), "{text}");
        assert!(text.trim_end().ends_with("(2.00 s, 5 records/s)"), "{text}");
        assert!(text.contains("\nPASS: all 10 records"), "{text}");
        assert!(!text.contains("duplicates in the logs"), "{text}");
    }

    #[test]
    fn fail_report_says_why() {
        let text =
            report(Verdict { planned: 10, delivered: 10, in_log: 11, duplicates: 1, ..Verdict::default() }).render();
        assert!(text.contains("duplicates in the logs                     1   (broken: at most once)"), "{text}");
        assert!(text.contains("\nFAIL: a delivery guarantee is broken"), "{text}");
        let text =
            report(Verdict { planned: 10, delivered: 8, not_persisted: 2, in_log: 8, ..Verdict::default() }).render();
        assert!(text.contains("\nFAIL: 2 of 10 records not delivered ("), "{text}");
    }

    #[test]
    fn group_read_back_shows_and_decides() {
        let log = Verdict { planned: 10, delivered: 10, in_log: 10, ..Verdict::default() };
        let exact = GroupVerdict {
            members: 3,
            expected: 10,
            consumed: 10,
            assignments: 5,
            commits: 4,
            ..GroupVerdict::default()
        };
        let mut r = report(log.clone());
        r.group = Some((exact.clone(), 2, 3));
        let text = r.render();
        assert!(text.contains("read back through consumer group idem-demo (3 idem consumers"), "{text}");
        assert!(text.contains("records handed to members                 10   of 10 in the logs"), "{text}");
        assert!(text.contains("coordinator moves                          2"), "{text}");
        assert!(text.contains("\nPASS: all 10 records"), "{text}");
        r.group = Some((GroupVerdict { consumed: 11, duplicates: 1, ..exact }, 0, 0));
        let text = r.render();
        assert!(text.contains("handed out twice                           1   (broken"), "{text}");
        assert!(text.contains("\nFAIL: the read-back through consumer group idem-demo is not exact"), "{text}");
    }
}
