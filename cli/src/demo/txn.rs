//! `idem demo --transactions`: a transactional producer (`transactional.id`) on the same
//! faulty cluster commits some transactions and aborts others; halfway a second producer with
//! the same transactional id starts, which fences the first (its open transaction is aborted
//! and its next commit refused); the second goes on. Then every partition of the transactions'
//! topic is read as a `read_committed` consumer reads it, and checked: the records of every
//! committed transaction exactly once, in send order per partition; nothing of an aborted
//! transaction or of the fenced producer's last one.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::Duration;

use idem_core::broker::TransactionVersion;
use idem_mock::MockCluster;

/// The transactions' topic.
pub(super) const TXN_TOPIC: &str = "idem-demo-txn";
/// The transactional id both producers share.
const TRANSACTIONAL_ID: &str = "idem-demo-txn";
/// Transactions in the run, and records in each.
const TRANSACTIONS: u64 = 24;
const RECORDS_PER_TRANSACTION: u64 = 500;
/// How long one transactional call may wait (the faults slow the coordinator down).
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// What the transactional phase did and found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct TxnVerdict {
    /// Transactions committed, and their records.
    pub committed: (u64, u64),
    /// Transactions aborted (chosen, or after a failed commit), and their records.
    pub aborted: (u64, u64),
    /// What the fenced producer's commit answered.
    pub fenced: Option<String>,
    /// Records read back (read_committed), committed ones missing, read more than once, read
    /// though aborted or fenced, and out of send order.
    pub read: u64,
    pub missing: u64,
    pub duplicated: u64,
    pub leaked: u64,
    pub out_of_order: u64,
    /// The first thing that went wrong outside the checks (a call that failed).
    pub error: Option<String>,
    /// The protocol the cluster offered (KIP-890's `transaction.version`).
    pub version: Option<TransactionVersion>,
    /// Epoch bumps of the producers (transactions v2: one at every end).
    pub epoch_bumps: u64,
}

impl TxnVerdict {
    /// Exact: every committed record read once, in order, nothing else; the zombie fenced.
    pub(super) fn pass(&self) -> bool {
        self.error.is_none()
            && self.fenced.is_some()
            && self.committed.0 > 0
            && self.aborted.0 > 0
            && self.missing == 0
            && self.duplicated == 0
            && self.leaked == 0
            && self.out_of_order == 0
            && self.read == self.committed.1
            && self.protocol_followed()
    }

    /// Whether the producers spoke the cluster's protocol: under transactions v2 every commit
    /// bumped the epoch (an abort of records that never left the producer, waiting for the
    /// topic's metadata, ends without the coordinator).
    fn protocol_followed(&self) -> bool {
        self.version != Some(TransactionVersion::V2) || self.epoch_bumps >= self.committed.0
    }

    /// The report's section.
    pub(super) fn render(&self, out: &mut String) {
        let _ = writeln!(out, "transactions ({TXN_TOPIC}, transactional.id {TRANSACTIONAL_ID}):");
        let protocol = match self.version {
            Some(TransactionVersion::V2) => "transactions v2 (KIP-890: partitions added by Produce v12)",
            _ => "transactions v1 (KIP-98: AddPartitionsToTxn, AddOffsetsToTxn)",
        };
        let _ = writeln!(out, "  protocol            {protocol}, {} epoch bumps", self.epoch_bumps);
        let _ =
            writeln!(out, "  committed           {:>8} transactions, {} records", self.committed.0, self.committed.1);
        let _ = writeln!(out, "  aborted             {:>8} transactions, {} records", self.aborted.0, self.aborted.1);
        match &self.fenced {
            Some(answer) => {
                let _ = writeln!(
                    out,
                    "  zombie fenced       a second producer took the id over; the first's commit: {answer}"
                );
            }
            None => {
                let _ = writeln!(out, "  zombie fenced       NO: the first producer's commit went through");
            }
        }
        let _ = writeln!(
            out,
            "  read_committed      {} records read: {} missing, {} duplicated, {} of aborted or fenced \
             transactions, {} out of order",
            self.read, self.missing, self.duplicated, self.leaked, self.out_of_order
        );
        if let Some(e) = &self.error {
            let _ = writeln!(out, "  error               {e}");
        }
        let _ = writeln!(out, "  verdict             {}", if self.pass() { "PASS" } else { "FAIL" });
    }
}

/// A transactional producer of the demo, configured like the idempotent one.
type Make<'a> = &'a dyn Fn(Option<&str>) -> Result<idem_std::Producer, String>;

/// Runs the transactional phase against `cluster`; `make` builds a producer with a
/// `transactional.id`.
pub(super) fn run(
    cluster: &MockCluster,
    partitions: i32,
    seed: u64,
    version: TransactionVersion,
    make: Make<'_>,
) -> TxnVerdict {
    let mut v = TxnVerdict { version: Some(version), ..TxnVerdict::default() };
    let mut written = Written::default();
    if let Err(e) = produce(partitions, seed, make, &mut v, &mut written) {
        v.error.get_or_insert(e);
    }
    // The markers of the last transaction are written shortly after its end.
    std::thread::sleep(Duration::from_millis(200));
    check(cluster, partitions, &written, &mut v);
    v
}

/// The values the transactions wrote: committed ones, and the rest (aborted or fenced).
#[derive(Default)]
struct Written {
    committed: BTreeSet<String>,
    not_committed: BTreeSet<String>,
}

/// Sends the transactions; fills the counts. Err: a call failed that should not have.
fn produce(
    partitions: i32,
    seed: u64,
    make: Make<'_>,
    v: &mut TxnVerdict,
    written: &mut Written,
) -> Result<(), String> {
    let mut producer = init(make)?;
    let mut zombie_done = false;
    for t in 0..TRANSACTIONS {
        producer.begin_transaction().map_err(|e| format!("begin_transaction: {e}"))?;
        let values: Vec<String> = (0..RECORDS_PER_TRANSACTION).map(|i| format!("t{t}-{i}")).collect();
        for (i, value) in values.iter().enumerate() {
            let partition = ((i as u64 + t) % partitions as u64) as i32;
            let record = idem_std::Record::new(TXN_TOPIC).partition(partition).value(value.as_bytes());
            producer.send(&record).map_err(|e| format!("send: {e}"))?;
        }
        if t == TRANSACTIONS / 2 && !zombie_done {
            // A second instance takes the transactional id over: the first is a zombie now.
            zombie_done = true;
            let successor = init(make)?;
            let answer = producer.commit_transaction(CALL_TIMEOUT);
            v.fenced = match &answer {
                Ok(()) => None,
                // Its batches met the fence at the partitions' leaders (INVALID_PRODUCER_EPOCH):
                // it must abort, and the coordinator fences that.
                Err(e) if e.is_abortable() => match producer.abort_transaction(CALL_TIMEOUT) {
                    Ok(()) => None,
                    Err(fenced) => Some(format!("{e}; its abort: {fenced}")),
                },
                Err(e) => Some(e.to_string()),
            };
            if answer.is_ok() {
                written.committed.extend(values);
            } else {
                written.not_committed.extend(values);
            }
            v.epoch_bumps += producer.metrics().epoch_bumps;
            let _ = producer.close_timeout(Duration::from_secs(5));
            producer = successor;
            continue;
        }
        // Seeded: one transaction in three is aborted.
        let abort = (t + seed) % 3 == 1;
        let committed = !abort && commit_or_abort(&producer)?;
        if committed {
            v.committed.0 += 1;
            v.committed.1 += values.len() as u64;
            written.committed.extend(values);
        } else {
            if abort {
                producer.abort_transaction(CALL_TIMEOUT).map_err(|e| format!("abort_transaction: {e}"))?;
            }
            v.aborted.0 += 1;
            v.aborted.1 += values.len() as u64;
            written.not_committed.extend(values);
        }
    }
    v.epoch_bumps += producer.metrics().epoch_bumps;
    let _ = producer.close_timeout(Duration::from_secs(10));
    Ok(())
}

/// Commits the open transaction; a commit refused as abortable (a record failed) is aborted
/// instead. Returns whether it committed.
fn commit_or_abort(producer: &idem_std::Producer) -> Result<bool, String> {
    match producer.commit_transaction(CALL_TIMEOUT) {
        Ok(()) => Ok(true),
        Err(e) if e.is_abortable() => {
            producer.abort_transaction(CALL_TIMEOUT).map_err(|e| format!("abort_transaction: {e}"))?;
            Ok(false)
        }
        Err(e) => Err(format!("commit_transaction: {e}")),
    }
}

/// A new transactional producer, initialized.
fn init(make: Make<'_>) -> Result<idem_std::Producer, String> {
    let producer = make(Some(TRANSACTIONAL_ID))?;
    producer.init_transactions(CALL_TIMEOUT).map_err(|e| format!("init_transactions: {e}"))?;
    Ok(producer)
}

/// Reads every partition as read_committed and compares with what was written.
fn check(cluster: &MockCluster, partitions: i32, written: &Written, v: &mut TxnVerdict) {
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    for p in 0..partitions {
        let records = match cluster.read_committed(TXN_TOPIC, p) {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                v.error.get_or_insert(format!("partition {p} does not decode: {e}"));
                continue;
            }
            None => continue,
        };
        // Per transaction, the last record index read on this partition (send order).
        let mut last: BTreeMap<String, u64> = BTreeMap::new();
        for (_, value) in records {
            v.read += 1;
            let value = String::from_utf8_lossy(value.as_deref().unwrap_or_default()).into_owned();
            *seen.entry(value.clone()).or_default() += 1;
            if !written.committed.contains(&value) {
                v.leaked += 1;
            }
            if let Some((txn, i)) =
                value.split_once('-').and_then(|(t, i)| Some((t.to_string(), i.parse::<u64>().ok()?)))
            {
                if last.insert(txn, i).is_some_and(|prev| prev >= i) {
                    v.out_of_order += 1;
                }
            }
        }
    }
    v.duplicated = seen.values().filter(|n| **n > 1).map(|n| n - 1).sum();
    v.missing = written.committed.iter().filter(|c| !seen.contains_key(*c)).count() as u64;
}
