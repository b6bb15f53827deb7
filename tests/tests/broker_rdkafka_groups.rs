//! Proof with librdkafka's consumer (a group client no one here wrote) that idem's cluster
//! serves consumer groups: `group.id` + `subscribe()` members joining, syncing, heartbeating,
//! committing, leaving and dying, with the eager (`range`) and the cooperative
//! (`cooperative-sticky`) rebalance protocols, under coordinator and produce faults.
//!
//! Every member records what it did in one [`Journal`] (one lock for all members, so that its
//! order across members is the real one), and [`Journal::check`] replays it: see
//! `groups_common/` for the guarantees checked.
//!
//! A member that dies is a separate process (this test binary, running
//! [`group_member_process`]) killed with SIGKILL: librdkafka always sends LeaveGroup when a
//! consumer is closed or dropped (and `rd_kafka_destroy_flags`, which can skip it, needs
//! `unsafe`), so only a killed process stops heartbeating without leaving, as a crashed
//! application does. The coordinator removes it after its session timeout (6 s, the minimum).
//!
//! `IDEM_RDKAFKA_DEBUG=cgrp` prints librdkafka's group protocol log.
#![allow(clippy::unwrap_used)] // Tests may unwrap (HELPERS.md).

mod groups_common;
mod rdkafka_common;

use groups_common::*;
use idem_mock::MockCluster;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::groups::GroupList;
use rdkafka::message::Message;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use rdkafka_common::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// A member commits after this many records (and when idle, and when a partition is revoked).
const COMMIT_EVERY: usize = 25;
/// The environment variable that makes [`group_member_process`] a member: `bootstrap;group;strategy`.
const CHILD_ENV: &str = "IDEM_GROUPS_MEMBER_PROCESS";
const CHILD_PREFIX: &str = "idem-member ";

const RANGE: &str = "range";
const COOPERATIVE: &str = "cooperative-sticky";

/// Where a member's events go: the journal of the test, or its process's stdout.
#[derive(Clone)]
enum Sink {
    Journal(Arc<Journal>, usize),
    Stdout,
}

impl Sink {
    fn event(&self, e: Event) {
        match self {
            Sink::Journal(j, m) => j.push(*m, e),
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{CHILD_PREFIX}{}", e.line()).unwrap();
                out.flush().unwrap();
            }
        }
    }

    fn name(&self) -> String {
        match self {
            Sink::Journal(_, m) => format!("m{m}"),
            Sink::Stdout => "process".into(),
        }
    }
}

/// A member's context: its sink, and the next offset to read of each partition it owns and
/// has read from (what it commits).
struct MemberCtx {
    sink: Sink,
    positions: Mutex<BTreeMap<i32, i64>>,
    committed: Mutex<BTreeMap<i32, i64>>,
    /// Set: commit nothing more.
    no_commits: Arc<AtomicBool>,
}

impl ClientContext for MemberCtx {
    fn log(&self, _: RDKafkaLogLevel, fac: &str, msg: &str) {
        if std::env::var_os(DEBUG_ENV).is_some() {
            eprintln!("rdkafka {} {fac} {msg}", self.sink.name());
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        eprintln!("rdkafka {} error {error}: {reason}", self.sink.name());
    }
}

impl ConsumerContext for MemberCtx {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            let revoked: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
            // Commit what was read before giving the partitions up (no commit when they were
            // lost: the session is gone, as the generation is).
            if !consumer.assignment_lost() {
                self.commit(consumer, Some(&revoked));
            }
            for p in revoked {
                self.positions.lock().unwrap().remove(&p);
                self.committed.lock().unwrap().remove(&p);
                self.sink.event(Event::Revoked(p));
            }
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                tpl.elements().iter().for_each(|e| self.sink.event(Event::Assigned(e.partition())))
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => eprintln!("{} rebalance error: {e}", self.sink.name()),
        }
    }
}

impl MemberCtx {
    /// Commits (synchronously) the positions of `partitions` (all read ones if None) that
    /// moved since their last commit.
    fn commit(&self, consumer: &BaseConsumer<Self>, partitions: Option<&[i32]>) {
        if self.no_commits.load(Ordering::Relaxed) {
            return;
        }
        let positions = self.positions.lock().unwrap().clone();
        let committed = self.committed.lock().unwrap().clone();
        let due: Vec<(i32, i64)> = positions
            .into_iter()
            .filter(|(p, o)| partitions.is_none_or(|ps| ps.contains(p)) && committed.get(p) != Some(o))
            .collect();
        if due.is_empty() {
            return;
        }
        let mut tpl = TopicPartitionList::new();
        for &(p, o) in &due {
            tpl.add_partition_offset(GROUP_TOPIC, p, Offset::Offset(o)).unwrap();
        }
        let result = consumer.commit(&tpl, CommitMode::Sync);
        if let Err(e) = &result {
            eprintln!("{} commit {due:?}: {e}", self.sink.name());
        }
        for (p, o) in due {
            if result.is_ok() {
                self.committed.lock().unwrap().insert(p, o);
            }
            self.sink.event(Event::Committed { partition: p, offset: o, ok: result.is_ok() });
        }
    }
}

/// A group member's consumer: manual commits, the shortest session the coordinator allows,
/// librdkafka's retries and reconnects quick.
fn member(bootstrap: &str, group: &str, strategy: &str, sink: Sink) -> BaseConsumer<MemberCtx> {
    let mut c = ClientConfig::new();
    if let Ok(d) = std::env::var(DEBUG_ENV) {
        c.set("debug", d).set_log_level(RDKafkaLogLevel::Debug);
    }
    c.set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("client.id", sink.name())
        .set("partition.assignment.strategy", strategy)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "500")
        .set("max.poll.interval.ms", "30000")
        .set("fetch.wait.max.ms", "100")
        .set("topic.metadata.refresh.interval.ms", "1000")
        .set("retry.backoff.ms", "20")
        .set("retry.backoff.max.ms", "200")
        .set("reconnect.backoff.ms", "20")
        .set("reconnect.backoff.max.ms", "200")
        .set("request.timeout.ms", "5000");
    let ctx = MemberCtx { sink, positions: Mutex::default(), committed: Mutex::default(), no_commits: Arc::default() };
    let consumer: BaseConsumer<MemberCtx> = c.create_with_context(ctx).unwrap();
    consumer.subscribe(&[GROUP_TOPIC]).unwrap();
    consumer
}

/// Reads and commits until `stop()`.
fn consume(consumer: &BaseConsumer<MemberCtx>, stop: impl Fn() -> bool) {
    let ctx = consumer.context();
    let mut since_commit = 0;
    while !stop() {
        match consumer.poll(Duration::from_millis(50)) {
            Some(Ok(m)) => {
                let n = std::str::from_utf8(m.payload().unwrap()).unwrap().parse().unwrap();
                ctx.positions.lock().unwrap().insert(m.partition(), m.offset() + 1);
                ctx.sink.event(Event::Read { partition: m.partition(), offset: m.offset(), n });
                since_commit += 1;
                if since_commit >= COMMIT_EVERY {
                    ctx.commit(consumer, None);
                    since_commit = 0;
                }
            }
            Some(Err(e)) => eprintln!("{}: {e}", ctx.sink.name()),
            None if since_commit > 0 => {
                ctx.commit(consumer, None);
                since_commit = 0;
            }
            None => {}
        }
    }
}

/// A member on a thread of the test.
struct Member {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Member {
    fn start(cluster: &MockCluster, group: &str, strategy: &str, journal: &Arc<Journal>, id: usize) -> Member {
        let stop = Arc::new(AtomicBool::new(false));
        let (bootstrap, group, strategy) = (cluster.bootstrap_servers(), group.to_string(), strategy.to_string());
        let sink = Sink::Journal(Arc::clone(journal), id);
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let consumer = member(&bootstrap, &group, &strategy, sink);
            consume(&consumer, || flag.load(Ordering::Relaxed));
            // Dropping closes: the revocation (and its commit), then LeaveGroup.
            drop(consumer);
        });
        Member { stop, thread: Some(thread) }
    }

    /// Closes the consumer (LeaveGroup) and waits for it.
    fn leave(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
    }
}

/// A member left behind by a failing test stops (without waiting).
impl Drop for Member {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Closes every member at once.
fn leave_all(members: Vec<Member>) {
    members.iter().for_each(|m| m.stop.store(true, Ordering::Relaxed));
    members.into_iter().for_each(|mut m| m.thread.take().unwrap().join().unwrap());
}

/// A member in a process of its own ([`group_member_process`]), to be killed.
struct MemberProcess {
    child: Child,
    id: usize,
    frozen: mpsc::Receiver<()>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl MemberProcess {
    fn start(cluster: &MockCluster, group: &str, strategy: &str, journal: &Arc<Journal>, id: usize) -> MemberProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["group_member_process", "--exact", "--ignored", "--nocapture", "--test-threads", "1"])
            .env(CHILD_ENV, format!("{};{group};{strategy}", cluster.bootstrap_servers()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, frozen) = mpsc::channel();
        let journal = Arc::clone(journal);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let line = line.unwrap();
                // libtest's "test group_member_process ... " has no line end of its own.
                match line.find(CHILD_PREFIX).map(|i| &line[i + CHILD_PREFIX.len()..]) {
                    Some("frozen") => tx.send(()).unwrap(),
                    Some(e) => journal.push(id, Event::parse(e)),
                    None => {}
                }
            }
        });
        MemberProcess { child, id, frozen, reader: Some(reader) }
    }

    /// Stops the member's committing (it goes on reading).
    fn stop_committing(&mut self) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(b"nocommit\n").unwrap();
        stdin.flush().unwrap();
    }

    /// Stops the member's reading, then kills its process (SIGKILL: no
    /// LeaveGroup, no more heartbeats); every event it printed is in the journal after it.
    fn kill(mut self, journal: &Journal) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(b"freeze\n").unwrap();
        stdin.flush().unwrap();
        self.frozen.recv_timeout(Duration::from_secs(20)).expect("the member process did not freeze");
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.reader.take().unwrap().join().unwrap();
        journal.push(self.id, Event::Died);
    }
}

impl Drop for MemberProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A group member in a process of its own, started by [`MemberProcess::start`] (a no-op
/// otherwise): reads and commits, its events on stdout, until told to freeze on stdin; then
/// it waits to be killed. It exits if its parent goes away (stdin closed).
#[test]
#[ignore = "a member process of the group tests, started by them"]
fn group_member_process() {
    let Ok(spec) = std::env::var(CHILD_ENV) else { return };
    let parts: Vec<&str> = spec.split(';').collect();
    let freeze = Arc::new(AtomicBool::new(false));
    let consumer = member(parts[0], parts[1], parts[2], Sink::Stdout);
    let (flag, no_commits) = (Arc::clone(&freeze), Arc::clone(&consumer.context().no_commits));
    std::thread::spawn(move || {
        let mut line = String::new();
        while std::io::stdin().read_line(&mut line).unwrap_or(0) > 0 {
            match line.trim() {
                "freeze" => flag.store(true, Ordering::Relaxed),
                // Every read printed after this line is beyond the member's commits.
                "nocommit" => {
                    no_commits.store(true, Ordering::Relaxed);
                    Sink::Stdout.event(Event::NoCommits);
                }
                other => panic!("member process: {other:?}"),
            }
            line.clear();
        }
        std::process::exit(1);
    });
    consume(&consumer, || freeze.load(Ordering::Relaxed));
    println!("{CHILD_PREFIX}frozen");
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// ListGroups on every broker, then DescribeGroups of `group` (every group if None), as
/// librdkafka's `rd_kafka_list_groups` does.
fn group_list(cluster: &MockCluster, group: Option<&str>) -> GroupList {
    let c: BaseConsumer = ClientConfig::new().set("bootstrap.servers", cluster.bootstrap_servers()).create().unwrap();
    c.fetch_group_list(group, Duration::from_secs(10)).unwrap()
}

/// The partitions of a `consumer` protocol assignment (ConsumerProtocolAssignment: version,
/// [topic, [partition]], user data).
fn assignment_partitions(bytes: &[u8]) -> Vec<(String, i32)> {
    let mut r = bytes;
    let mut take = |n: usize| {
        let (a, b) = r.split_at(n);
        r = b;
        a.to_vec()
    };
    let _version = i16::from_be_bytes(take(2).try_into().unwrap());
    let topics = i32::from_be_bytes(take(4).try_into().unwrap());
    let mut out = Vec::new();
    for _ in 0..topics {
        let len = i16::from_be_bytes(take(2).try_into().unwrap()) as usize;
        let topic = String::from_utf8(take(len)).unwrap();
        let partitions = i32::from_be_bytes(take(4).try_into().unwrap());
        for _ in 0..partitions {
            out.push((topic.clone(), i32::from_be_bytes(take(4).try_into().unwrap())));
        }
    }
    out
}

/// One member reads every record once, in order per partition, and commits; while it runs,
/// ListGroups/DescribeGroups (librdkafka's `rd_kafka_list_groups`) show the group Stable with
/// that member, owning all 6 partitions.
fn one_member(strategy: &str, seed: u64) {
    const TOTAL: u64 = 1200;
    let cluster = start_cluster("", seed);
    produce_with_rdkafka(&cluster, 0..TOTAL, 200, Duration::ZERO);
    let journal = Arc::new(Journal::default());
    let group = format!("one-{strategy}");
    let m = Member::start(&cluster, &group, strategy, &journal, 0);
    wait_for(&journal, 30, "every record", || journal.distinct_reads() as u64 == TOTAL);

    let list = group_list(&cluster, Some(&group));
    let groups = list.groups();
    assert_eq!(groups.len(), 1, "{:?}", groups.iter().map(|g| g.name()).collect::<Vec<_>>());
    let g = &groups[0];
    assert_eq!(
        (g.name(), g.state(), g.protocol_type(), g.protocol()),
        (group.as_str(), "Stable", "consumer", strategy)
    );
    assert_eq!(g.members().len(), 1);
    assert_eq!(g.members()[0].client_id(), "m0");
    let mut assigned = assignment_partitions(g.members()[0].assignment().unwrap());
    assigned.sort();
    assert_eq!(assigned, (0..GP).map(|p| (GROUP_TOPIC.to_string(), p)).collect::<Vec<_>>());
    // Every group of the cluster (ListGroups on each broker): this one, once.
    let all = group_list(&cluster, None);
    assert_eq!(all.groups().iter().filter(|g| g.name() == group).count(), 1);

    // Nothing more comes (no record twice), then the member leaves.
    std::thread::sleep(Duration::from_millis(300));
    m.leave();
    let s = journal.check(TOTAL, true);
    eprintln!("{strategy}: {s:?}");
    assert_eq!((s.reads as u64, s.duplicates, s.handovers), (TOTAL, 0, 0), "{s:?}");
    // The last commit of each partition is its end.
    assert_eq!(journal.committed(), (0..GP).map(|p| (p, TOTAL as i64 / GP as i64)).collect::<BTreeMap<_, _>>());
    // After the LeaveGroup the group is Empty (it keeps its offsets).
    let list = group_list(&cluster, Some(&group));
    assert_eq!(list.groups().iter().map(|g| (g.state(), g.members().len())).collect::<Vec<_>>(), [("Empty", 0)]);
}

#[test]
fn one_member_reads_everything_once_in_order_eager() {
    one_member(RANGE, 1);
}

#[test]
fn one_member_reads_everything_once_in_order_cooperative() {
    one_member(COOPERATIVE, 2);
}

/// Members come and go while records are produced: m0 and m1 start; m2 joins mid-stream; m1
/// leaves (LeaveGroup) and hands its partitions over; a member process joins, reads, and is
/// killed (no LeaveGroup), and after its session timeout its partitions go to m0 and m2. The
/// group reads every record; `groups_common` says what is checked.
fn join_leave_die(strategy: &str, seed: u64) {
    const TOTAL: u64 = 3000;
    let cluster = Arc::new(start_cluster("", seed));
    let journal = Arc::new(Journal::default());
    let group = format!("jld-{strategy}");
    let started = Instant::now();
    let producer = {
        let cluster = Arc::clone(&cluster);
        std::thread::spawn(move || produce_with_rdkafka(&cluster, 0..TOTAL, 100, Duration::from_millis(400)))
    };
    let m0 = Member::start(&cluster, &group, strategy, &journal, 0);
    let m1 = Member::start(&cluster, &group, strategy, &journal, 1);
    wait_for(&journal, 30, "m0 and m1 sharing the partitions", || owned_by(&journal, &[0, 1]));
    wait_for(&journal, 30, "m0 and m1 reading", || journal.reads_by(0) > 0 && journal.reads_by(1) > 0);
    eprintln!("{strategy}: m0, m1 stable after {:?}", started.elapsed());

    let m2 = Member::start(&cluster, &group, strategy, &journal, 2);
    wait_for(&journal, 30, "m2 joining", || owned_by(&journal, &[0, 1, 2]) && journal.reads_by(2) > 0);
    eprintln!("{strategy}: m2 joined after {:?}", started.elapsed());
    let before = journal.distinct_reads() as u64;
    assert!(before < TOTAL, "m2 joined after the end of the stream");

    m1.leave();
    wait_for(&journal, 30, "m1's partitions handed over", || owned_by(&journal, &[0, 2]));
    eprintln!("{strategy}: m1 left after {:?}", started.elapsed());

    let dying = MemberProcess::start(&cluster, &group, strategy, &journal, 3);
    wait_for(&journal, 30, "the member process joining", || owned_by(&journal, &[0, 2, 3]) && journal.reads_by(3) > 0);
    let owned: Vec<usize> = (0..GP as usize).filter(|p| journal.owners()[*p] == Some(3)).collect();
    eprintln!("{strategy}: the member process owns {owned:?} after {:?}", started.elapsed());
    // It dies having read records it did not commit: 5 at least.
    let mut dying = dying;
    dying.stop_committing();
    wait_for(&journal, 30, "the member process reading without committing", || {
        let events = journal.events();
        let from = events.iter().position(|e| *e == (3, Event::NoCommits));
        from.is_some_and(|i| {
            events[i..].iter().filter(|(m, e)| *m == 3 && matches!(e, Event::Read { .. })).count() >= 5
        })
    });
    dying.kill(&journal);
    let uncommitted = uncommitted_at_death(&journal, 3);
    let killed = Instant::now();
    wait_for(&journal, 30, "the dead member's partitions reassigned", || owned_by(&journal, &[0, 2]));
    let reassigned = killed.elapsed();
    eprintln!("{strategy}: partitions reassigned {reassigned:?} after the kill");
    // Not before its session timed out (6 s, less the heartbeat interval it may have been into).
    assert!(
        (Duration::from_millis(5000)..Duration::from_secs(10)).contains(&reassigned),
        "a dead member removed after {reassigned:?}"
    );

    producer.join().unwrap();
    wait_for(&journal, 30, "every record", || journal.distinct_reads() as u64 == TOTAL);
    std::thread::sleep(Duration::from_millis(200));
    leave_all(vec![m0, m2]);
    let s = journal.check(TOTAL, true);
    eprintln!("{strategy}: {s:?} in {:?}", started.elapsed());
    assert!(s.handovers >= 3, "{s:?}");
    assert!(s.per_member.len() == 4 && s.per_member.values().all(|n| *n > 0), "{s:?}");
    // The records read twice are those the dead member read beyond its last commit.
    assert_eq!(s.duplicates, uncommitted, "{s:?}");
}

#[test]
fn members_join_leave_and_die_eager() {
    join_leave_die(RANGE, 11);
}

#[test]
fn members_join_leave_and_die_cooperative() {
    join_leave_die(COOPERATIVE, 12);
}

/// A member reads half the records, commits and closes; a new member of the group resumes at
/// the committed offsets (OffsetFetch, which an assign-only client also sees) and reads
/// exactly the other half.
#[test]
fn a_new_member_resumes_from_the_committed_offsets() {
    const TOTAL: u64 = 1200;
    let cluster = start_cluster("", 21);
    produce_with_rdkafka(&cluster, 0..TOTAL, 200, Duration::ZERO);
    let journal = Arc::new(Journal::default());
    let group = "resume";
    let first = member(&cluster.bootstrap_servers(), group, RANGE, Sink::Journal(Arc::clone(&journal), 0));
    consume(&first, || journal.reads_by(0) as u64 >= TOTAL / 2);
    // Closing commits what was read (the revocation) and leaves.
    drop(first);
    let committed = journal.committed();
    let half = journal.reads_by(0);
    assert!((TOTAL / 2..TOTAL).contains(&(half as u64)), "{half} read first");
    // The committed offsets as the coordinator has them (OffsetFetch).
    let check: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("group.id", group)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    (0..GP).for_each(|p| {
        tpl.add_partition(GROUP_TOPIC, p);
    });
    let fetched = check.committed_offsets(tpl, Duration::from_secs(10)).unwrap();
    let fetched: BTreeMap<i32, i64> = fetched
        .elements()
        .iter()
        .filter_map(|e| if let Offset::Offset(o) = e.offset() { Some((e.partition(), o)) } else { None })
        .collect();
    assert_eq!(fetched, committed, "OffsetFetch");
    assert_eq!(committed.values().sum::<i64>(), half as i64, "the commits cover what was read");

    let second = Member::start(&cluster, group, RANGE, &journal, 1);
    wait_for(&journal, 30, "the rest", || journal.distinct_reads() as u64 == TOTAL);
    std::thread::sleep(Duration::from_millis(300));
    second.leave();
    let s = journal.check(TOTAL, true);
    eprintln!("{s:?}");
    assert_eq!((s.reads as u64, s.duplicates), (TOTAL, 0), "{s:?}");
    assert_eq!(s.per_member.get(&1).copied(), Some(TOTAL as usize - half));
}

/// Coordinators move every 700 ms (requests to the old one are answered NOT_COORDINATOR), group
/// requests are answered COORDINATOR_LOAD_IN_PROGRESS, and the producer meets the cluster's
/// produce faults, while three members (one joining mid-stream, one leaving) consume: no record
/// is lost, and records are read twice only beyond a commit. No NOT_COORDINATOR is injected at
/// random: librdkafka 2.12 leaves a partition whose OffsetFetch is answered NOT_COORDINATOR
/// (with no partitions, as Kafka answers it) without a fetcher for good (librdkafka issue
/// #5586), which a random 5% on every group request made this test fail about one run in four.
#[test]
fn the_group_consumes_everything_under_coordinator_and_produce_faults() {
    const TOTAL: u64 = 3000;
    let faults = "coordinator_move=700ms,coordinator_loading=0.05,append_drop=0.02,\
                  error_after=NOT_ENOUGH_REPLICAS_AFTER_APPEND:0.02,delay=0..10ms,leader_move=1s";
    let cluster = Arc::new(start_cluster(faults, 31));
    let journal = Arc::new(Journal::default());
    let group = "faults";
    let producer = {
        let cluster = Arc::clone(&cluster);
        std::thread::spawn(move || produce_with_rdkafka(&cluster, 0..TOTAL, 100, Duration::from_millis(200)))
    };
    let m0 = Member::start(&cluster, group, RANGE, &journal, 0);
    let m1 = Member::start(&cluster, group, RANGE, &journal, 1);
    wait_for(&journal, 40, "m0 and m1 reading", || journal.reads_by(0) > 0 && journal.reads_by(1) > 0);
    let m2 = Member::start(&cluster, group, RANGE, &journal, 2);
    wait_for(&journal, 40, "m2 reading", || journal.reads_by(2) > 0);
    m1.leave();
    producer.join().unwrap();
    wait_for(&journal, 60, "every record", || journal.distinct_reads() as u64 == TOTAL);
    leave_all(vec![m0, m2]);
    let stats = cluster.stats();
    eprintln!("cluster stats: {stats:?}");
    let s = journal.check(TOTAL, false);
    eprintln!("{s:?}");
    assert!(stats.duplicates > 0, "the produce faults did not bite: {stats:?}");
    assert!(
        stats.coordinator_moves > 0 && stats.coordinator_errors > 0,
        "the coordinator faults did not bite: {stats:?}"
    );
}

/// An assign-only consumer (no `subscribe`, as `rdkafka_common::consume_all` reads; librdkafka
/// wants a `group.id` even then: without one, `assign` fails with UNKNOWN_GROUP before any
/// request) still works now that the broker advertises the group APIs: it reads, commits as a
/// simple consumer outside any generation (the group stays Empty, holding the offsets), and
/// another one resumes from those commits (`Offset::Stored`).
#[test]
fn an_assign_only_consumer_reads_commits_and_resumes() {
    const TOTAL: u64 = 600;
    const HALF: usize = TOTAL as usize / GP as usize / 2;
    let cluster = start_cluster("", 41);
    produce_with_rdkafka(&cluster, 0..TOTAL, 200, Duration::ZERO);
    let group = "assign-only";
    let first = assign_all(&cluster.bootstrap_servers(), group, GROUP_TOPIC, GP, Offset::Beginning, PLAINTEXT);
    let head = read_assigned(&first, GP, Duration::from_secs(30), |got, _| got.iter().all(|r| r.len() >= HALF));
    let mut tpl = TopicPartitionList::new();
    for (p, records) in head.iter().enumerate() {
        tpl.add_partition_offset(GROUP_TOPIC, p as i32, Offset::Offset(records.len() as i64)).unwrap();
    }
    first.commit(&tpl, CommitMode::Sync).unwrap();
    drop(first);
    let list = group_list(&cluster, Some(group));
    assert_eq!(list.groups().iter().map(|g| (g.state(), g.members().len())).collect::<Vec<_>>(), [("Empty", 0)]);

    let second = assign_all(&cluster.bootstrap_servers(), group, GROUP_TOPIC, GP, Offset::Stored, PLAINTEXT);
    let tail = read_assigned(&second, GP, Duration::from_secs(30), |got, eof| {
        eof.iter().all(|e| *e) && got.iter().zip(&head).all(|(t, h)| t.len() + h.len() >= TOTAL as usize / GP as usize)
    });
    for p in 0..GP as usize {
        let all: Vec<(i64, u64)> = head[p].iter().chain(&tail[p]).copied().collect();
        let expected: Vec<(i64, u64)> = (0..TOTAL / GP as u64).map(|o| (o as i64, o * GP as u64 + p as u64)).collect();
        assert_eq!(all, expected, "partition {p}: read first {}, then {}", head[p].len(), tail[p].len());
    }
}
