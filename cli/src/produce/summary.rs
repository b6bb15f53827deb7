//! The final summary of `idem produce`, printed on stderr, and the exit code it implies.

use std::fmt::Write as _;
use std::time::Duration;

use crate::progress::{bytes, per_second};

/// Counts gathered during a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Topic produced to.
    pub topic: String,
    /// Records read from the input.
    pub records: u64,
    /// Key and value bytes of those records.
    pub bytes: u64,
    /// Records reported delivered.
    pub delivered: u64,
    /// Records reported failed and definitely not in the log.
    pub not_persisted: u64,
    /// Records reported failed whose outcome is unknown (in the log at most once).
    pub possibly_persisted: u64,
    /// Records `send` refused (too large, producer closed...): never accepted, not in the log.
    pub refused: u64,
    /// Batch retransmissions (producer metrics).
    pub retries: u64,
    /// Batches the brokers acknowledged as duplicates of an earlier attempt.
    pub duplicates_acknowledged: u64,
    /// Producer epoch bumps and new producer ids after the first.
    pub epoch_bumps: u64,
    /// From start to the last report.
    pub elapsed: Duration,
    /// The first error seen (delivery, refusal or input), for the message.
    pub first_error: Option<String>,
    /// The input could not be read to its end.
    pub input_error: Option<String>,
    /// The bootstrap servers, when accepted records were not delivered because no broker could
    /// be reached (no Produce request sent, connections failed).
    pub unreachable: Option<String>,
    /// With `--transactional-id`: the transactions committed and their records.
    pub transactions: Option<Committed>,
    /// Why a transactional call failed (the run stopped there).
    pub transaction_error: Option<String>,
}

/// What a transactional run committed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Committed {
    /// Transactions committed.
    pub transactions: u64,
    /// Records in them.
    pub records: u64,
}

impl Summary {
    /// Records that were not delivered.
    pub fn undelivered(&self) -> u64 {
        self.records.saturating_sub(self.delivered)
    }

    /// True iff the whole input was read and every record was delivered.
    pub fn success(&self) -> bool {
        self.input_error.is_none() && self.transaction_error.is_none() && self.delivered == self.records
    }

    /// Exit code: 0 iff [`Summary::success`], else 1.
    pub fn exit_code(&self) -> u8 {
        if self.success() { 0 } else { 1 }
    }

    /// The summary text (several lines, each ending in `\n`).
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "idem produce: {} records ({}) to topic `{}` in {:.2} s, {:.0} records/s",
            self.records,
            bytes(self.bytes),
            self.topic,
            self.elapsed.as_secs_f64(),
            per_second(self.delivered, self.elapsed),
        );
        let _ = writeln!(
            s,
            "  delivered {} of {}; retries {}, duplicates acknowledged {}, epoch bumps {}",
            self.delivered, self.records, self.retries, self.duplicates_acknowledged, self.epoch_bumps
        );
        if let Some(c) = &self.transactions {
            let _ = writeln!(s, "  transactions committed {} ({} records)", c.transactions, c.records);
        }
        if let Some(e) = &self.transaction_error {
            let _ = writeln!(s, "  TRANSACTION FAILED: {e} (records after it were not sent)");
        }
        if let Some(e) = &self.input_error {
            let _ = writeln!(s, "  INPUT ERROR: {e} (records after this point were not read)");
        }
        let undelivered = self.undelivered();
        if undelivered > 0 {
            let _ = writeln!(
                s,
                "  NOT DELIVERED: {undelivered} records: {} failed and not persisted (definitely not in the log), {} \
                 failed and possibly persisted (in the log at most once), {} refused by the producer",
                self.not_persisted, self.possibly_persisted, self.refused
            );
            let pending = undelivered.saturating_sub(self.not_persisted + self.possibly_persisted + self.refused);
            if pending > 0 {
                let _ = writeln!(
                    s,
                    "  {pending} records had no report when the producer closed (treat as possibly persisted)"
                );
            }
        }
        if let Some(e) = &self.first_error {
            let _ = writeln!(s, "  first error: {e}");
        }
        if let Some(servers) = &self.unreachable {
            let _ = writeln!(s, "  no Produce request could be sent: is a broker reachable at {servers}?");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> Summary {
        Summary {
            topic: "t".into(),
            records: 3,
            bytes: 2048,
            delivered: 3,
            retries: 2,
            duplicates_acknowledged: 1,
            epoch_bumps: 0,
            elapsed: Duration::from_millis(1500),
            ..Summary::default()
        }
    }

    #[test]
    fn success_needs_every_record_delivered() {
        let s = ok();
        assert!(s.success());
        assert_eq!(s.exit_code(), 0);
        let text = s.render();
        assert!(text.contains("3 records (2.0 KiB) to topic `t` in 1.50 s, 2 records/s"), "{text}");
        assert!(text.contains("delivered 3 of 3; retries 2, duplicates acknowledged 1, epoch bumps 0"), "{text}");
        assert!(!text.contains("NOT DELIVERED"), "{text}");
        let empty = Summary::default();
        assert!(empty.success());
    }

    #[test]
    fn failures_are_counted_by_kind() {
        let s = Summary {
            delivered: 0,
            not_persisted: 1,
            possibly_persisted: 1,
            refused: 0,
            first_error: Some("delivery.timeout.ms elapsed".into()),
            ..ok()
        };
        assert!(!s.success());
        assert_eq!(s.exit_code(), 1);
        let text = s.render();
        assert!(text.contains("NOT DELIVERED: 3 records: 1 failed and not persisted"), "{text}");
        assert!(text.contains("1 failed and possibly persisted"), "{text}");
        assert!(text.contains("1 records had no report"), "{text}");
        assert!(text.contains("first error: delivery.timeout.ms elapsed"), "{text}");
        assert!(!text.contains("reachable"), "{text}");
        let s = Summary { unreachable: Some("h:1".into()), ..s };
        assert!(s.render().contains("no Produce request could be sent: is a broker reachable at h:1?"));
        let s = Summary {
            transactions: Some(Committed { transactions: 2, records: 3 }),
            transaction_error: Some("fenced".into()),
            ..ok()
        };
        assert_eq!(s.exit_code(), 1);
        let text = s.render();
        assert!(text.contains("transactions committed 2 (3 records)"), "{text}");
        assert!(text.contains("TRANSACTION FAILED: fenced"), "{text}");
        let s = Summary { input_error: Some("broken pipe".into()), ..ok() };
        assert_eq!(s.exit_code(), 1);
        assert!(s.render().contains("INPUT ERROR: broken pipe"));
    }
}
