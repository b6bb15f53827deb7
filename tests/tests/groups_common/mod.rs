//! Shared by the consumer group tests against idem's cluster (`broker_rdkafka_groups.rs` with
//! librdkafka, `broker_kafkajs_groups.rs` with kafkajs): the group topic, the cluster, and the
//! [`Journal`] of what every member did with its check of a consumer group's guarantees.
//!
//! Every member records what it did in one [`Journal`], in the order it happened across
//! members: partitions assigned and revoked, records read, offsets committed.
//! [`Journal::check`] replays it and checks a consumer group's guarantees:
//! - no record lost: every record produced is read by some member;
//! - every record read is the one produced there: record `n` at offset `n / 6` of partition
//!   `n % 6`;
//! - a partition is owned by one member at a time (assigned only after its previous owner
//!   revoked it or died), and read only by its owner;
//! - within one member's continuous ownership of a partition, its records are read in order,
//!   each once: every offset is the one after the previous;
//! - a new owner starts at the partition's committed offset (the earliest offset if none was
//!   committed): so a record is read twice only after a handover, and only when it lies beyond
//!   the last commit. Without faults the committed offset is known exactly (the last commit the
//!   client saw succeed); with faults a commit's answer may be lost, so the new owner's start is
//!   only checked to be an offset some member tried to commit, not before the last known one.
#![allow(dead_code, clippy::unwrap_used)] // Each test file uses a part; tests may unwrap.

use crate::rdkafka_common::{Deliveries, cluster_config, poll_for, producer, send_to};
use idem_core::broker::TopicConfig;
use idem_mock::MockCluster;
use rdkafka::producer::Producer;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const GROUP_TOPIC: &str = "idem-groups";

pub const GP: i32 = 6;

/// What a member did.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Assigned(i32),
    Revoked(i32),
    Read {
        partition: i32,
        offset: i64,
        n: u64,
    },
    /// A commit of `offset` (the next record to read) for the partition, and whether the client
    /// saw it succeed.
    Committed {
        partition: i32,
        offset: i64,
        ok: bool,
    },
    /// The member's process was killed: it owns nothing any more.
    Died,
    /// The member commits no more (so that it dies with records read beyond its commits).
    NoCommits,
}

impl Event {
    /// One line for a member process's stdout.
    pub fn line(&self) -> String {
        match self {
            Event::Assigned(p) => format!("assigned {p}"),
            Event::Revoked(p) => format!("revoked {p}"),
            Event::Read { partition, offset, n } => format!("read {partition} {offset} {n}"),
            Event::Committed { partition, offset, ok } => format!("commit {partition} {offset} {ok}"),
            Event::Died => "died".into(),
            Event::NoCommits => "nocommit".into(),
        }
    }

    pub fn parse(line: &str) -> Event {
        let w: Vec<&str> = line.split(' ').collect();
        match w[..] {
            ["assigned", p] => Event::Assigned(p.parse().unwrap()),
            ["revoked", p] => Event::Revoked(p.parse().unwrap()),
            ["read", p, o, n] => {
                Event::Read { partition: p.parse().unwrap(), offset: o.parse().unwrap(), n: n.parse().unwrap() }
            }
            ["nocommit"] => Event::NoCommits,
            ["commit", p, o, ok] => {
                Event::Committed { partition: p.parse().unwrap(), offset: o.parse().unwrap(), ok: ok.parse().unwrap() }
            }
            _ => panic!("member process line {line:?}"),
        }
    }
}

/// Every member's events, in the order they happened: each under a stamp, kept in stamp order
/// ([`Journal::push`] appends under the last stamp; [`Journal::push_at`] places an event of
/// another process by its clock).
#[derive(Default)]
pub struct Journal(Mutex<Vec<(u64, usize, Event)>>);

/// What [`Journal::check`] found.
#[derive(Debug)]
pub struct Summary {
    pub reads: usize,
    pub duplicates: usize,
    /// Partitions that moved from one member to another (after revocation or death).
    pub handovers: usize,
    pub commits_failed: usize,
    /// Records read per member.
    pub per_member: BTreeMap<usize, usize>,
}

impl Journal {
    pub fn push(&self, member: usize, e: Event) {
        let mut events = self.0.lock().unwrap();
        let stamp = events.last().map_or(0, |x| x.0);
        events.push((stamp, member, e));
    }

    /// Places `e` after every event stamped at or before `stamp`.
    pub fn push_at(&self, stamp: u64, member: usize, e: Event) {
        let mut events = self.0.lock().unwrap();
        let at = events.partition_point(|x| x.0 <= stamp);
        events.insert(at, (stamp, member, e));
    }

    pub fn events(&self) -> Vec<(usize, Event)> {
        self.0.lock().unwrap().iter().map(|(_, m, e)| (*m, e.clone())).collect()
    }

    /// Distinct records read so far.
    pub fn distinct_reads(&self) -> usize {
        let events = self.0.lock().unwrap();
        events
            .iter()
            .filter_map(|(_, _, e)| if let Event::Read { n, .. } = e { Some(*n) } else { None })
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// Each partition's owner now.
    pub fn owners(&self) -> [Option<usize>; GP as usize] {
        let mut owner = [None; GP as usize];
        for (_, m, e) in self.0.lock().unwrap().iter() {
            match e {
                Event::Assigned(p) => owner[*p as usize] = Some(*m),
                Event::Revoked(p) => owner[*p as usize] = None,
                Event::Died => owner.iter_mut().filter(|o| **o == Some(*m)).for_each(|o| *o = None),
                _ => {}
            }
        }
        owner
    }

    /// Each partition's last commit the client saw succeed.
    pub fn committed(&self) -> BTreeMap<i32, i64> {
        let mut last = BTreeMap::new();
        for (_, _, e) in self.0.lock().unwrap().iter() {
            if let Event::Committed { partition, offset, ok: true } = *e {
                last.insert(partition, offset);
            }
        }
        last
    }

    pub fn reads_by(&self, member: usize) -> usize {
        self.0.lock().unwrap().iter().filter(|(_, m, e)| *m == member && matches!(e, Event::Read { .. })).count()
    }

    /// Replays the journal and checks the guarantees of the module's documentation for records
    /// `0..total`; `exact`: the committed offsets are known exactly (no faults).
    pub fn check(&self, total: u64, exact: bool) -> Summary {
        let events = self.events();
        let fail = |i: usize, what: String| -> ! {
            let from = i.saturating_sub(30);
            let context: Vec<String> = events[from..=i].iter().map(|(m, e)| format!("  m{m} {}", e.line())).collect();
            panic!("event {i}: {what}; events {from}..={i}:\n{}", context.join("\n"));
        };
        let gp = GP as usize;
        let mut owner: Vec<Option<usize>> = vec![None; gp];
        let mut previous_owner: Vec<Option<usize>> = vec![None; gp];
        // The next offset expected within the current ownership (None: nothing read in it yet).
        let mut next: Vec<Option<i64>> = vec![None; gp];
        let mut last_ok: Vec<Option<i64>> = vec![None; gp];
        let mut attempted: Vec<BTreeSet<i64>> = vec![BTreeSet::new(); gp];
        let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
        let mut summary =
            Summary { reads: 0, duplicates: 0, handovers: 0, commits_failed: 0, per_member: BTreeMap::new() };
        for (i, (m, e)) in events.iter().enumerate() {
            let m = *m;
            match *e {
                Event::Assigned(p) => {
                    let p = p as usize;
                    if let Some(o) = owner[p] {
                        fail(i, format!("partition {p} assigned to m{m} while m{o} owns it"));
                    }
                    if previous_owner[p].is_some_and(|o| o != m) {
                        summary.handovers += 1;
                    }
                    owner[p] = Some(m);
                    next[p] = None;
                }
                Event::Revoked(p) => {
                    let p = p as usize;
                    if owner[p] != Some(m) {
                        fail(i, format!("partition {p} revoked from m{m}, owner {:?}", owner[p]));
                    }
                    owner[p] = None;
                    previous_owner[p] = Some(m);
                }
                Event::Died => {
                    for p in 0..gp {
                        if owner[p] == Some(m) {
                            owner[p] = None;
                            previous_owner[p] = Some(m);
                        }
                    }
                }
                Event::Read { partition, offset, n } => {
                    let p = partition as usize;
                    if owner[p] != Some(m) {
                        fail(i, format!("m{m} read partition {p} owned by {:?}", owner[p]));
                    }
                    if n != offset as u64 * GP as u64 + partition as u64 {
                        fail(
                            i,
                            format!(
                                "record {n} read at {p}/{offset}: it was produced at {}/{}",
                                n % GP as u64,
                                n / GP as u64
                            ),
                        );
                    }
                    match next[p] {
                        Some(x) if x != offset => {
                            fail(i, format!("m{m} read {p}/{offset} after {p}/{} within one ownership", x - 1))
                        }
                        Some(_) => {}
                        None => {
                            let committed = last_ok[p].unwrap_or(0);
                            if exact && offset != committed {
                                fail(i, format!("m{m} started {p} at {offset}, committed offset {committed}"));
                            }
                            if !exact && (offset < committed || (offset != 0 && !attempted[p].contains(&offset))) {
                                fail(
                                    i,
                                    format!(
                                        "m{m} started {p} at {offset}: last known commit {committed}, commits tried {:?}",
                                        attempted[p]
                                    ),
                                );
                            }
                        }
                    }
                    next[p] = Some(offset + 1);
                    *seen.entry(n).or_default() += 1;
                    *summary.per_member.entry(m).or_default() += 1;
                    summary.reads += 1;
                }
                Event::NoCommits => {}
                Event::Committed { partition, offset, ok } => {
                    let p = partition as usize;
                    attempted[p].insert(offset);
                    if ok {
                        if owner[p] != Some(m) {
                            fail(i, format!("m{m} committed {p} owned by {:?}", owner[p]));
                        }
                        last_ok[p] = Some(offset);
                    } else {
                        summary.commits_failed += 1;
                    }
                }
            }
        }
        let missing: Vec<u64> = (0..total).filter(|n| !seen.contains_key(n)).take(20).collect();
        assert!(missing.is_empty(), "records never read (first 20): {missing:?}");
        assert_eq!(seen.len() as u64, total, "records read that were not produced");
        summary.duplicates = seen.values().map(|c| c - 1).sum();
        summary
    }
}

/// A 3-broker cluster with the 6-partition group topic (and the common one) and `faults`.
pub fn start_cluster(faults: &str, seed: u64) -> MockCluster {
    let mut config = cluster_config(faults, seed);
    config.cluster.topics.push(TopicConfig { name: GROUP_TOPIC.into(), partitions: GP });
    MockCluster::start(config).unwrap()
}

/// Produces records `range` to the group topic with librdkafka's idempotent producer, `chunk`
/// records at a time with `pause` in between, and waits for every delivery.
pub fn produce_with_rdkafka(cluster: &MockCluster, range: std::ops::Range<u64>, chunk: u64, pause: Duration) {
    let deliveries = Arc::new(Deliveries::default());
    let p = producer(&cluster.bootstrap_servers(), &deliveries);
    let count = range.end - range.start;
    for n in range {
        send_to(&p, GROUP_TOPIC, GP, n);
        if n % chunk == chunk - 1 {
            poll_for(&p, pause);
        }
    }
    p.flush(Duration::from_secs(60)).unwrap();
    let failed = deliveries.failed.lock().unwrap();
    assert!(failed.is_empty(), "{} delivery failures, first: {:?}", failed.len(), failed.first());
    assert_eq!(deliveries.ok.lock().unwrap().len() as u64, count, "delivery reports");
}

/// Waits (up to `secs`) for `cond`, else panics with `what` and the owners.
pub fn wait_for(journal: &Journal, secs: u64, what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        if Instant::now() >= deadline {
            let events = journal.events();
            let last: Vec<String> = events
                .iter()
                .filter(|(_, e)| !matches!(e, Event::Read { .. }))
                .map(|(m, e)| format!("  m{m} {}", e.line()))
                .collect();
            panic!(
                "timed out waiting for {what}: owners {:?}, {} distinct records read (by member: {:?}); events but \
                 reads:\n{}",
                journal.owners(),
                journal.distinct_reads(),
                (0..4).map(|m| journal.reads_by(m)).collect::<Vec<_>>(),
                last[last.len().saturating_sub(60)..].join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every partition owned, by members of `among` only, each of them owning some.
pub fn owned_by(journal: &Journal, among: &[usize]) -> bool {
    let owners = journal.owners();
    owners.iter().all(|o| o.is_some_and(|m| among.contains(&m))) && among.iter().all(|m| owners.contains(&Some(*m)))
}

/// The records `member` read beyond the committed offsets of the partitions it owned when it
/// died (the journal's last successful commit of each).
pub fn uncommitted_at_death(journal: &Journal, member: usize) -> usize {
    let events = journal.events();
    let died = events.iter().position(|e| *e == (member, Event::Died)).unwrap();
    let mut owner = BTreeMap::new();
    let mut committed = BTreeMap::new();
    for (m, e) in &events[..died] {
        match *e {
            Event::Assigned(p) => {
                owner.insert(p, *m);
            }
            Event::Committed { partition, offset, ok: true } => {
                committed.insert(partition, offset);
            }
            _ => {}
        }
    }
    events[..died]
        .iter()
        .filter(|(m, e)| match *e {
            Event::Read { partition, offset, .. } => {
                *m == member
                    && owner.get(&partition) == Some(&member)
                    && offset >= committed.get(&partition).copied().unwrap_or(0)
            }
            _ => false,
        })
        .count()
}
