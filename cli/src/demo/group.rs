//! The demo's read-back through a consumer group: idem's consumers (`idem_std::consumer`) join
//! one group on the embedded cluster and read the topic again, while members join and leave and
//! the coordinator moves. Checked against what the partition logs hold: every record handed to
//! exactly one member once (each member commits what it was handed before it gives a partition
//! up, so a rebalance re-reads nothing), with the value the log holds at that offset, in offset
//! order per partition and member.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use idem_std::consumer::{Consumer, ConsumerConfig, ConsumerEvent};

use super::workload::decode_value;

/// The group the demo's members join.
pub const GROUP: &str = "idem-demo";
/// Members in the read-back: the first two start it, the third joins once records flow, and
/// the second leaves half way.
const MEMBERS: usize = 3;
/// Bound on the whole read-back.
const READ_TIMEOUT: Duration = Duration::from_secs(120);
/// What a member spends on each record it is handed, as an application processing them would:
/// it keeps the records flowing while members join and leave and the coordinator moves.
const PROCESSING: Duration = Duration::from_micros(40);
/// At most this much of a partition per fetch (`max.partition.fetch.bytes`), so that a partition
/// is read in many steps.
const PARTITION_FETCH_BYTES: &str = "65536";
/// Bound on one commit.
const COMMIT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the log holds at one offset: the demo value's (thread, index).
pub type Logged = (u32, u64);

/// Counts from the read-back; [`GroupVerdict::pass`] says whether they are as they must be.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupVerdict {
    /// Members that took part.
    pub members: u64,
    /// Assignments handed out (one per member per generation it joined).
    pub assignments: u64,
    /// Records in the logs.
    pub expected: u64,
    /// Records handed to a member (every copy).
    pub consumed: u64,
    /// Records handed out more than once.
    pub duplicates: u64,
    /// Records in the logs never handed out.
    pub missing: u64,
    /// Records handed out whose value or offset is not the log's.
    pub mismatched: u64,
    /// Records handed to a member below an offset it had been handed on that partition.
    pub out_of_order: u64,
    /// Commits acknowledged.
    pub commits: u64,
    /// Commits refused (the records they covered may be handed out again).
    pub commit_failures: u64,
    /// Time the read-back took.
    pub elapsed: Duration,
    /// The first error a member met (a fatal consumer error, a failed start or close).
    pub error: Option<String>,
}

impl GroupVerdict {
    /// Every record read back exactly once, as the log holds it, and no member failed.
    pub fn pass(&self) -> bool {
        self.missing == 0
            && self.duplicates == 0
            && self.mismatched == 0
            && self.out_of_order == 0
            && self.consumed == self.expected
            && self.error.is_none()
    }
}

/// What the members share.
struct Shared<'a> {
    logs: &'a [Vec<(i64, Logged)>],
    /// How often each (partition, offset) was handed out.
    seen: Mutex<BTreeMap<(i32, i64), u32>>,
    verdict: Mutex<GroupVerdict>,
    distinct: AtomicU64,
    expected: u64,
    stop: AtomicBool,
}

impl Shared<'_> {
    fn verdict<R>(&self, f: impl FnOnce(&mut GroupVerdict) -> R) -> R {
        f(&mut self.verdict.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn fail(&self, error: String) {
        self.verdict(|v| {
            v.error.get_or_insert(error);
        });
        self.stop.store(true, Ordering::SeqCst);
    }

    fn progress(&self) -> f64 {
        self.distinct.load(Ordering::Relaxed) as f64 / self.expected.max(1) as f64
    }
}

/// Reads `topic` back through the group [`GROUP`] on `bootstrap`; `logs` is what each partition's
/// log holds, offset by offset.
pub fn read_back(bootstrap: &str, topic: &str, logs: &[Vec<(i64, Logged)>], seed: u64) -> GroupVerdict {
    let expected = logs.iter().map(|l| l.len() as u64).sum();
    let shared = Shared {
        logs,
        seen: Mutex::new(BTreeMap::new()),
        verdict: Mutex::new(GroupVerdict { expected, members: MEMBERS as u64, ..GroupVerdict::default() }),
        distinct: AtomicU64::new(0),
        expected,
        stop: AtomicBool::new(false),
    };
    let start = Instant::now();
    std::thread::scope(|s| {
        for member in 0..MEMBERS {
            let shared = &shared;
            s.spawn(move || run_member(bootstrap, topic, seed, member, shared));
        }
        while !shared.stop.load(Ordering::SeqCst) {
            if shared.distinct.load(Ordering::SeqCst) >= expected {
                // Every record was handed out: let duplicates and late commits show, then stop.
                std::thread::sleep(Duration::from_millis(200));
                shared.stop.store(true, Ordering::SeqCst);
            } else if start.elapsed() > READ_TIMEOUT {
                shared.fail(format!("read-back timed out after {READ_TIMEOUT:?}"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    let seen = shared.seen.into_inner().unwrap_or_else(PoisonError::into_inner);
    let mut v = shared.verdict.into_inner().unwrap_or_else(PoisonError::into_inner);
    v.duplicates = seen.values().map(|n| u64::from(n.saturating_sub(1))).sum();
    v.missing = logs
        .iter()
        .enumerate()
        .map(|(p, l)| l.iter().filter(|(o, _)| !seen.contains_key(&(p as i32, *o))).count() as u64)
        .sum();
    v.elapsed = start.elapsed();
    v
}

/// One member: the first two start at once, the third once a tenth of the records were read;
/// the second leaves (commits, then LeaveGroup) half way.
fn run_member(bootstrap: &str, topic: &str, seed: u64, member: usize, shared: &Shared<'_>) {
    while member == 2 && shared.progress() < 0.1 && !shared.stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let leaves_at = (member == 1).then_some(0.5);
    let mut consumer = match new_consumer(bootstrap, topic, seed, member) {
        Ok(c) => c,
        Err(e) => return shared.fail(format!("member {member}: {e:?}")),
    };
    let mut last: BTreeMap<i32, i64> = BTreeMap::new();
    while !shared.stop.load(Ordering::SeqCst) && leaves_at.is_none_or(|f| shared.progress() < f) {
        let Some(event) = consumer.poll(Duration::from_millis(50)) else { continue };
        if let Err(e) = handle(&mut consumer, shared, &mut last, event, true) {
            return shared.fail(format!("member {member}: {e}"));
        }
    }
    if !consumer.close(COMMIT_TIMEOUT) {
        shared.fail(format!("member {member}: close did not finish within {COMMIT_TIMEOUT:?}"));
    }
    // Records fetched before the close, which its commit covered: they are this member's.
    while let Some(event) = consumer.poll(Duration::ZERO) {
        if let Err(e) = handle(&mut consumer, shared, &mut last, event, false) {
            return shared.fail(format!("member {member}: {e}"));
        }
    }
}

/// One event of a member; `commit`: commit after records (not once closed). `Err`: a fatal
/// consumer error.
fn handle(
    consumer: &mut Consumer,
    shared: &Shared<'_>,
    last: &mut BTreeMap<i32, i64>,
    event: ConsumerEvent,
    commit_records: bool,
) -> Result<(), String> {
    {
        match event {
            ConsumerEvent::Records { partition, records, .. } => {
                for r in &records {
                    check_record(shared, last, partition, r.offset, r.value.as_deref());
                }
                std::thread::sleep(PROCESSING * u32::try_from(records.len()).unwrap_or(u32::MAX));
                if commit_records {
                    commit(consumer, shared);
                }
            }
            ConsumerEvent::Assigned { .. } => shared.verdict(|v| v.assignments += 1),
            ConsumerEvent::Revoked { partitions } => {
                for (_, p) in partitions {
                    last.remove(&p);
                }
            }
            ConsumerEvent::Error(e) => return Err(e.to_string()),
            ConsumerEvent::Committed { .. } | ConsumerEvent::CommitFailed { .. } | ConsumerEvent::Closed => {}
        }
    }
    Ok(())
}

fn new_consumer(bootstrap: &str, topic: &str, seed: u64, member: usize) -> Result<Consumer, String> {
    let mut config = ConsumerConfig::new(bootstrap, GROUP).map_err(|e| e.to_string())?;
    config.subscribe(topic);
    for (key, value) in [
        ("client.id", format!("idem-demo-reader-{member}")),
        ("session.timeout.ms", "6000".to_string()),
        ("heartbeat.interval.ms", "100".to_string()),
        ("max.partition.fetch.bytes", PARTITION_FETCH_BYTES.to_string()),
        ("idem.seed", (seed ^ (member as u64 + 1)).to_string()),
    ] {
        config.set(key, &value).map_err(|e| e.to_string())?;
    }
    Consumer::new(config).map_err(|e| e.to_string())
}

/// Commits what the member was handed; a refusal is counted (those records may come again).
fn commit(consumer: &mut Consumer, shared: &Shared<'_>) {
    match consumer.commit(COMMIT_TIMEOUT) {
        Some(ConsumerEvent::Committed { .. }) => shared.verdict(|v| v.commits += 1),
        _ => shared.verdict(|v| v.commit_failures += 1),
    }
}

fn check_record(shared: &Shared<'_>, last: &mut BTreeMap<i32, i64>, partition: i32, offset: i64, value: Option<&[u8]>) {
    let logged = usize::try_from(partition)
        .ok()
        .and_then(|p| shared.logs.get(p))
        .and_then(|l| l.binary_search_by_key(&offset, |(o, _)| *o).ok().map(|i| l[i].1));
    let handed = value.and_then(decode_value);
    let out_of_order = last.insert(partition, offset).is_some_and(|before| before >= offset);
    let first = {
        let mut seen = shared.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let n = seen.entry((partition, offset)).or_insert(0);
        *n += 1;
        *n == 1
    };
    if first && logged.is_some() {
        shared.distinct.fetch_add(1, Ordering::SeqCst);
    }
    shared.verdict(|v| {
        v.consumed += 1;
        v.mismatched += u64::from(logged.is_none() || logged != handed);
        v.out_of_order += u64::from(out_of_order);
    });
}
