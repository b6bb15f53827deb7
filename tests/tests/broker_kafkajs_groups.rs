//! Proof with kafkajs (Node.js), a second group client no one here wrote and independent of
//! librdkafka, that idem's cluster serves consumer groups: kafkajs's consumers (`subscribe` +
//! `run`, the eager protocol with its `RoundRobinAssigner`) joining, syncing, heartbeating,
//! committing, leaving and dying, under coordinator faults; kafkajs's idempotent producer
//! writing the records; kafkajs's admin client listing and describing the group and fetching
//! its offsets.
//!
//! kafkajs is installed by the tests themselves: `npm ci` in `tests/kafkajs/` from its committed
//! `package-lock.json`, once per run of this test binary. `tests/kafkajs/interop.js` runs one
//! kafkajs client per Node.js process (its roles: `produce`, `member`, `offsets`, `describe`)
//! and prints what it did as JSON lines. Node.js and npm must be on the PATH: without them every
//! test fails saying so.
//!
//! What a member commits, and when: `eachBatch` with `autoCommit: false`; after printing a
//! batch's records the member commits the batch's end (an OffsetCommit it awaits,
//! `commitOffsetsIfNecessary(offsets)`) before `eachBatch` returns. kafkajs heartbeats only
//! between batches, and rejoins (the eager protocol: it gives up every partition) only once
//! its fetch loop stopped with no batch in progress (it then emits `REBALANCING`, which the
//! member prints as the revocation); a leaving member finishes its batch before LeaveGroup.
//! So everything a member read is committed before the coordinator can give its partition to
//! another member: a rebalance (a member joining or leaving) repeats nothing. A record is read
//! twice only when a member died having read it beyond its last commit, or when a commit
//! failed (the member saw the error). Without faults the tests assert exactly that: the
//! duplicates are the killed member's uncommitted reads, and nothing else.
//!
//! Each member's events go to one [`Journal`] (`groups_common/`, shared with the librdkafka
//! group tests, which says what its check proves). Members are separate processes, so every
//! line carries the machine's monotonic clock (`process.hrtime`, one clock for every process)
//! and the journal merges the lines by it: a member prints its revocation before it rejoins,
//! and another member prints the assignment after the rebalance that needed that rejoin.
//!
//! A member that dies is killed with SIGKILL (no LeaveGroup, no more heartbeats), as a crashed
//! application; the coordinator removes it after its session timeout (6 s, the minimum).
//!
//! `IDEM_KAFKAJS_LOG=info` (or `debug`, `warn`) shows kafkajs's log; `IDEM_BROKER_LOG` the
//! cluster's.
#![allow(clippy::unwrap_used)] // Tests may unwrap (HELPERS.md).

mod groups_common;
mod rdkafka_common;

use groups_common::*;
use idem_mock::MockCluster;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The protocol name of kafkajs's default (and only built-in) assigner.
const ROUND_ROBIN: &str = "RoundRobinAssigner";

/// `tests/kafkajs/` with kafkajs installed: `npm ci` from the committed lock file, once per
/// run of this test binary (the first test to get here installs, the others wait).
fn kafkajs_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        for tool in ["node", "npm"] {
            let found = Command::new(tool).arg("--version").output();
            assert!(
                found.as_ref().is_ok_and(|o| o.status.success()),
                "the kafkajs interop tests need Node.js (14 or later) and npm on the PATH: `{tool} --version`: {:?}",
                found.map(|o| o.status)
            );
        }
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("kafkajs");
        let started = Instant::now();
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`npm ci` in {} failed ({}): {}",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("npm ci: kafkajs installed in {:?}", started.elapsed());
        dir
    })
}

/// A Node.js process running `interop.js ROLE args`: each stdout line (JSON) goes to
/// `on_line`, each stderr line to the test's stderr under `name`. Killed when dropped.
struct NodeProcess {
    child: Child,
    readers: Vec<JoinHandle<()>>,
}

impl NodeProcess {
    fn start(role: &str, name: &str, args: &[(&str, String)], mut on_line: impl FnMut(Value) + Send + 'static) -> Self {
        let dir = kafkajs_dir();
        let mut child = Command::new("node")
            .arg(dir.join("interop.js"))
            .arg(role)
            .args(args.iter().map(|(k, v)| format!("{k}={v}")))
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
        let out = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let line = line.unwrap();
                on_line(
                    serde_json::from_str(&line).unwrap_or_else(|_| serde_json::json!({"ev": "garbage", "line": line})),
                );
            }
        });
        let name = name.to_string();
        let err = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                eprintln!("{name}: {}", line.unwrap());
            }
        });
        NodeProcess { child, readers: vec![out, err] }
    }

    fn command(&mut self, command: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(format!("{command}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// Waits (up to `secs`) for the process to exit with success, and for every line it printed.
    fn wait_success(&mut self, secs: u64, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "{what}: still running after {secs} s");
            std::thread::sleep(Duration::from_millis(20));
        };
        self.readers.drain(..).for_each(|r| r.join().unwrap());
        assert!(status.success(), "{what}: {status}");
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a role that ends by itself (`produce`, `offsets`, `describe`) and returns its lines.
fn run(role: &str, args: &[(&str, String)], secs: u64) -> Vec<Value> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    let mut p = NodeProcess::start(role, role, args, move |v| sink.lock().unwrap().push(v));
    p.wait_success(secs, role);
    let lines = lines.lock().unwrap().clone();
    assert!(!lines.iter().any(|l| l["ev"] == "garbage"), "{role}: {lines:?}");
    lines
}

fn int(v: &Value, key: &str) -> i64 {
    v[key].as_i64().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// Produces records `range` to the group topic with kafkajs's idempotent producer, `chunk`
/// records per `send()` with `pause_ms` in between, and checks what kafkajs reported: every
/// send acknowledged without error, each partition's records at the base offset that record
/// numbering puts them (record `n` at offset `n / 6` of partition `n % 6`).
fn produce(bootstrap: &str, range: std::ops::Range<u64>, chunk: u64, pause_ms: u64) {
    let args = [
        ("brokers", bootstrap.to_string()),
        ("topic", GROUP_TOPIC.to_string()),
        ("partitions", GP.to_string()),
        ("from", range.start.to_string()),
        ("to", range.end.to_string()),
        ("chunk", chunk.to_string()),
        ("pause", pause_ms.to_string()),
    ];
    let lines = run("produce", &args, 120);
    let mut count = 0;
    for l in lines.iter().filter(|l| l["ev"] == "sent") {
        assert_eq!(int(l, "error"), 0, "{l}");
        assert_eq!(int(l, "base"), int(l, "first") / i64::from(GP), "{l}");
        count += int(l, "count");
    }
    assert_eq!(count as u64, range.end - range.start, "records acknowledged");
    assert_eq!(lines.last().map(|l| l["ev"].clone()), Some("produced".into()), "{lines:?}");
}

/// The group's committed offsets (kafkajs's admin `fetchOffsets`; -1: none).
fn committed_offsets(bootstrap: &str, group: &str) -> BTreeMap<i32, i64> {
    let args = [("brokers", bootstrap.to_string()), ("topic", GROUP_TOPIC.to_string()), ("group", group.to_string())];
    run("offsets", &args, 30)
        .iter()
        .filter(|l| l["ev"] == "offset")
        .map(|l| (int(l, "p") as i32, int(l, "o")))
        .collect()
}

/// Every group's id (kafkajs's admin `listGroups`: ListGroups on every broker), and the
/// group's description (`describeGroups`: state, protocol, members with their decoded
/// assignments).
fn describe(bootstrap: &str, group: &str) -> (Vec<String>, Value) {
    let lines = run("describe", &[("brokers", bootstrap.to_string()), ("group", group.to_string())], 30);
    let listed = lines.iter().find(|l| l["ev"] == "listed").unwrap()["groups"].clone();
    let listed = listed.as_array().unwrap().iter().map(|g| g.as_str().unwrap().to_string()).collect();
    (listed, lines.iter().find(|l| l["ev"] == "group").unwrap().clone())
}

/// A group's members: their journal, and their other lines (joins, crashes, freezes, exits).
struct Group {
    bootstrap: String,
    name: String,
    journal: Arc<Journal>,
    notes: Arc<Mutex<Vec<(usize, Value)>>>,
}

impl Group {
    fn new(cluster: &MockCluster, name: &str) -> Group {
        Group {
            bootstrap: cluster.bootstrap_servers(),
            name: name.into(),
            journal: Arc::default(),
            notes: Arc::default(),
        }
    }

    /// Starts member `id` (client id `m{id}`) in a Node.js process of its own.
    fn start(&self, id: usize) -> Member {
        self.start_with(id, &[])
    }

    /// [`Group::start`] with more of the member's arguments (`limit`).
    fn start_with(&self, id: usize, extra: &[(&str, String)]) -> Member {
        let mut args = vec![
            ("brokers", self.bootstrap.clone()),
            ("topic", GROUP_TOPIC.to_string()),
            ("group", self.name.clone()),
            ("member", id.to_string()),
        ];
        args.extend_from_slice(extra);
        let (journal, notes) = (Arc::clone(&self.journal), Arc::clone(&self.notes));
        let process = NodeProcess::start("member", &format!("m{id}"), &args, move |v| {
            let t: u64 = v["t"].as_str().and_then(|t| t.parse().ok()).unwrap_or(0);
            let p = || int(&v, "p") as i32;
            let event = match v["ev"].as_str().unwrap_or("") {
                "assigned" => Event::Assigned(p()),
                "revoked" => Event::Revoked(p()),
                "read" => Event::Read { partition: p(), offset: int(&v, "o"), n: int(&v, "n") as u64 },
                "commit" => Event::Committed { partition: p(), offset: int(&v, "o"), ok: v["ok"] == true },
                "nocommit" => Event::NoCommits,
                _ => return notes.lock().unwrap().push((id, v)),
            };
            if v["why"].is_string() {
                notes.lock().unwrap().push((id, v.clone()));
            }
            journal.push_at(t, id, event);
        });
        Member { id, process }
    }

    /// Lines `ev` of member `id` (any member if None).
    fn notes(&self, ev: &str, id: Option<usize>) -> Vec<Value> {
        let notes = self.notes.lock().unwrap();
        notes.iter().filter(|(m, v)| v["ev"] == ev && id.is_none_or(|id| id == *m)).map(|(_, v)| v.clone()).collect()
    }

    /// Lines saying something went wrong on the client's side: output that is not JSON; and
    /// unless `faults`, a crash of kafkajs's consumer (it restarts as a new member), a
    /// revocation kafkajs did not announce (a rejoin after the coordinator dropped the member),
    /// an assignment resumed after a failed rejoin.
    fn troubles(&self, faults: bool) -> Vec<Value> {
        let notes = self.notes.lock().unwrap();
        let bad = |v: &Value| {
            v["ev"] == "garbage"
                || !faults
                    && (v["ev"] == "crash" || matches!(v["why"].as_str(), Some("unannounced" | "crash" | "resumed")))
        };
        notes.iter().filter(|(_, v)| bad(v)).map(|(m, v)| serde_json::json!({"member": m, "line": v})).collect()
    }

    fn wait(&self, secs: u64, what: &str, cond: impl Fn() -> bool) {
        wait_for(&self.journal, secs, what, cond);
    }

    /// Closes every member at once (each finishes its batch, then LeaveGroup).
    fn leave_all(&self, mut members: Vec<Member>) {
        members.iter_mut().for_each(|m| m.process.command("leave"));
        for mut m in members {
            m.process.wait_success(30, &format!("m{} leaving", m.id));
        }
    }
}

/// A member: a kafkajs consumer in a Node.js process (`interop.js member`).
struct Member {
    id: usize,
    process: NodeProcess,
}

impl Member {
    /// Finishes the batch in progress, disconnects (LeaveGroup) and exits.
    fn leave(self, group: &Group) {
        group.leave_all(vec![self]);
    }

    /// The member commits nothing more (it goes on reading).
    fn stop_committing(&mut self) {
        self.process.command("nocommit");
    }

    /// Stops the member's reading, then kills its process (SIGKILL: no LeaveGroup, no more
    /// heartbeats); every event it printed is in the journal before its death.
    fn kill(mut self, group: &Group) {
        self.process.command("freeze");
        group.wait(20, "the member freezing", || !group.notes("frozen", Some(self.id)).is_empty());
        self.process.child.kill().unwrap();
        self.process.child.wait().unwrap();
        self.process.readers.drain(..).for_each(|r| r.join().unwrap());
        group.journal.push(self.id, Event::Died);
    }
}

/// What every test checks at its end: nothing went wrong on the client's side (see
/// [`Group::troubles`]), and the cluster closed no connection over a request it could not
/// decode or serve.
fn check_clean(cluster: &MockCluster, group: &Group, faults: bool) {
    let troubles = group.troubles(faults);
    assert!(troubles.is_empty(), "{troubles:?}");
    let stats = cluster.stats();
    assert_eq!(stats.malformed, 0, "connections closed over malformed or unsupported requests: {stats:?}");
}

/// One member reads every record once, in order per partition, committing each batch; while
/// it runs, kafkajs's admin client sees the group Stable with that member owning all 6
/// partitions; after it leaves, the group is Empty and keeps the offsets, each partition's end.
#[test]
fn one_member_reads_everything_once_in_order() {
    const TOTAL: u64 = 1200;
    let cluster = start_cluster("", 101);
    let bootstrap = cluster.bootstrap_servers();
    produce(&bootstrap, 0..TOTAL, 200, 0);
    let group = Group::new(&cluster, "kafkajs-one");
    let m = group.start(0);
    group.wait(30, "every record", || group.journal.distinct_reads() as u64 == TOTAL);

    let (listed, g) = describe(&bootstrap, &group.name);
    assert_eq!(listed.iter().filter(|n| **n == group.name).count(), 1, "{listed:?}");
    assert_eq!(
        (&g["state"], &g["protocol_type"], &g["protocol"]),
        (&"Stable".into(), &"consumer".into(), &ROUND_ROBIN.into()),
        "{g}"
    );
    let members = g["members"].as_array().unwrap();
    assert_eq!(members.len(), 1, "{g}");
    assert_eq!(members[0]["client_id"], "m0", "{g}");
    assert_eq!(members[0]["assignment"], serde_json::json!({ GROUP_TOPIC: (0..GP).collect::<Vec<_>>() }), "{g}");

    // Nothing more comes (no record twice), then the member leaves.
    std::thread::sleep(Duration::from_millis(300));
    m.leave(&group);
    let s = group.journal.check(TOTAL, true);
    eprintln!("{s:?}");
    assert_eq!((s.reads as u64, s.duplicates, s.handovers, s.commits_failed), (TOTAL, 0, 0, 0), "{s:?}");
    let ends: BTreeMap<i32, i64> = (0..GP).map(|p| (p, TOTAL as i64 / i64::from(GP))).collect();
    assert_eq!(group.journal.committed(), ends);
    assert_eq!(committed_offsets(&bootstrap, &group.name), ends, "OffsetFetch");
    let (_, g) = describe(&bootstrap, &group.name);
    assert_eq!((&g["state"], g["members"].as_array().map(Vec::len)), (&"Empty".into(), Some(0)), "{g}");
    check_clean(&cluster, &group, false);
}

/// Members come and go while kafkajs's producer writes: m0 and m1 start; m2 joins mid-stream;
/// m1 leaves (LeaveGroup) and hands its partitions over; m3 joins, reads, stops committing,
/// reads on, and is killed (no LeaveGroup); after its session timeout its partitions go to m0
/// and m2. The group reads every record, and the only records read twice are those m3 read
/// beyond its last commit.
#[test]
fn members_join_leave_and_die() {
    const TOTAL: u64 = 3000;
    let cluster = start_cluster("", 111);
    let bootstrap = cluster.bootstrap_servers();
    let group = Group::new(&cluster, "kafkajs-jld");
    let started = Instant::now();
    let producer = {
        let bootstrap = bootstrap.clone();
        std::thread::spawn(move || produce(&bootstrap, 0..TOTAL, 100, 400))
    };
    let journal = &group.journal;
    let m0 = group.start(0);
    let m1 = group.start(1);
    group.wait(30, "m0 and m1 sharing the partitions", || owned_by(journal, &[0, 1]));
    group.wait(30, "m0 and m1 reading", || journal.reads_by(0) > 0 && journal.reads_by(1) > 0);
    eprintln!("m0, m1 stable after {:?}", started.elapsed());

    let m2 = group.start(2);
    group.wait(30, "m2 joining", || owned_by(journal, &[0, 1, 2]) && journal.reads_by(2) > 0);
    eprintln!("m2 joined after {:?}", started.elapsed());
    assert!((journal.distinct_reads() as u64) < TOTAL, "m2 joined after the end of the stream");

    m1.leave(&group);
    group.wait(30, "m1's partitions handed over", || owned_by(journal, &[0, 2]));
    eprintln!("m1 left after {:?}", started.elapsed());

    let mut m3 = group.start(3);
    group.wait(30, "m3 joining", || owned_by(journal, &[0, 2, 3]) && journal.reads_by(3) > 0);
    // It dies having read records it did not commit: 5 at least.
    m3.stop_committing();
    group.wait(30, "m3 reading without committing", || {
        let events = journal.events();
        let from = events.iter().position(|e| *e == (3, Event::NoCommits));
        from.is_some_and(|i| {
            events[i..].iter().filter(|(m, e)| *m == 3 && matches!(e, Event::Read { .. })).count() >= 5
        })
    });
    m3.kill(&group);
    let uncommitted = uncommitted_at_death(journal, 3);
    let killed = Instant::now();
    group.wait(30, "the dead member's partitions reassigned", || owned_by(journal, &[0, 2]));
    let reassigned = killed.elapsed();
    eprintln!("m3's partitions reassigned {reassigned:?} after the kill ({uncommitted} records uncommitted)");
    // Not before its session timed out (6 s, less the heartbeat interval it may have been into).
    assert!(
        (Duration::from_millis(5000)..Duration::from_secs(10)).contains(&reassigned),
        "a dead member removed after {reassigned:?}"
    );

    producer.join().unwrap();
    group.wait(30, "every record", || journal.distinct_reads() as u64 == TOTAL);
    std::thread::sleep(Duration::from_millis(200));
    group.leave_all(vec![m0, m2]);
    let s = journal.check(TOTAL, true);
    eprintln!("{s:?} in {:?}", started.elapsed());
    assert!(s.handovers >= 3, "{s:?}");
    assert!(s.per_member.len() == 4 && s.per_member.values().all(|n| *n > 0), "{s:?}");
    assert_eq!(s.commits_failed, 0, "{s:?}");
    // The records read twice are those the dead member read beyond its last commit.
    assert_eq!(s.duplicates, uncommitted, "{s:?}");
    check_clean(&cluster, &group, false);
}

/// A member reads 500 of the records (its last batch cut short, committed where it stopped),
/// committing, and leaves; kafkajs's admin client fetches those commits (OffsetFetch), and a
/// new member resumes at them and reads exactly the other records.
#[test]
fn a_new_member_resumes_from_the_committed_offsets() {
    const TOTAL: u64 = 1200;
    const FIRST: usize = 500;
    let cluster = start_cluster("", 121);
    let bootstrap = cluster.bootstrap_servers();
    produce(&bootstrap, 0..TOTAL, 200, 0);
    let group = Group::new(&cluster, "kafkajs-resume");
    let first = group.start_with(0, &[("limit", FIRST.to_string())]);
    group.wait(30, "the first member's records", || !group.notes("limited", Some(0)).is_empty());
    first.leave(&group);
    let half = group.journal.reads_by(0);
    assert_eq!(half, FIRST, "records read first");
    let committed = group.journal.committed();
    assert_eq!(committed.values().sum::<i64>(), half as i64, "the commits cover what was read");
    let fetched: BTreeMap<i32, i64> =
        committed_offsets(&bootstrap, &group.name).into_iter().filter(|(_, o)| *o >= 0).collect();
    assert_eq!(fetched, committed, "OffsetFetch");

    let second = group.start(1);
    group.wait(30, "the rest", || group.journal.distinct_reads() as u64 == TOTAL);
    std::thread::sleep(Duration::from_millis(300));
    second.leave(&group);
    let s = group.journal.check(TOTAL, true);
    eprintln!("{s:?}");
    assert_eq!((s.reads as u64, s.duplicates), (TOTAL, 0), "{s:?}");
    assert_eq!(s.per_member.get(&1).copied(), Some(TOTAL as usize - half));
    check_clean(&cluster, &group, false);
}

/// Coordinators move every 2 s, 2% of group requests are answered NOT_COORDINATOR and 2%
/// COORDINATOR_LOAD_IN_PROGRESS, and leaders move, while three members (one joining
/// mid-stream, one leaving) consume: no record is lost, and records are read twice only beyond
/// a commit. The records come from librdkafka's idempotent producer, proven under these produce
/// faults. kafkajs 2.2.4's is not: under them (seed 131) it acknowledged a partition's batch at
/// the base offset of that partition's previous batch, which [`produce`] refuses. The cluster's
/// log showed why: its batches' sequences contiguous, one batch of records missing, the next
/// sent under the sequences of the one before (same first and last sequence), so answered as a
/// duplicate of it, as Kafka answers. kafkajs rolls a request's sequences back when the request
/// fails, also those of partitions the request appended (an error after the append, or on
/// another partition), and its retry goes only to brokers that have not answered
/// (`sendMessages.js`): a partition whose retry is left out keeps the rolled-back sequences for
/// different records.
///
/// Ignored (run it with `--ignored`): not yet reliable. About one run in three the journal shows
/// a partition assigned to a member while its previous owner, with no revocation printed, still
/// held it. A trace of one: after injected coordinator errors the previous owner printed nothing
/// for 13 s, longer than the 10 s rebalance timeout, so the coordinator completed the rebalance
/// without it (removing it, as Kafka does) and gave its partitions to another member; it then
/// rejoined without kafkajs's `REBALANCING` event, so its revocation came only with its next
/// `GROUP_JOIN`, after the handover. The journal has no line for a removal the client has not
/// seen yet. With coordinator moves alone the check holds, but the third member, rejoining at
/// every move, sometimes reads nothing within a minute.
#[test]
#[ignore = "flaky: a member removed at the rebalance timeout is revoked in the journal only when kafkajs rejoins"]
fn the_group_consumes_everything_under_coordinator_and_produce_faults() {
    const TOTAL: u64 = 3000;
    let faults = "coordinator_move=2s,not_coordinator=0.02,coordinator_loading=0.02,append_drop=0.02,\
                  error_after=NOT_ENOUGH_REPLICAS_AFTER_APPEND:0.02,delay=0..10ms,leader_move=1s";
    let cluster = start_cluster(faults, 131);
    let group = Group::new(&cluster, "kafkajs-faults");
    let journal = &group.journal;
    let started = Instant::now();
    let cluster = Arc::new(cluster);
    let producer = {
        let cluster = Arc::clone(&cluster);
        std::thread::spawn(move || produce_with_rdkafka(&cluster, 0..TOTAL, 100, Duration::from_millis(400)))
    };
    let m0 = group.start(0);
    let m1 = group.start(1);
    group.wait(40, "m0 and m1 reading", || journal.reads_by(0) > 0 && journal.reads_by(1) > 0);
    let m2 = group.start(2);
    group.wait(60, "m2 reading", || journal.reads_by(2) > 0);
    eprintln!("m2 reading after {:?}", started.elapsed());
    m1.leave(&group);
    producer.join().unwrap();
    group.wait(60, "every record", || journal.distinct_reads() as u64 == TOTAL);
    group.leave_all(vec![m0, m2]);
    let stats = cluster.stats();
    eprintln!("cluster stats: {stats:?}");
    let s = journal.check(TOTAL, false);
    eprintln!("{s:?}; joins: {} in {:?}", group.notes("joined", None).len(), started.elapsed());
    assert!(stats.duplicates > 0, "the produce faults did not bite: {stats:?}");
    assert!(
        stats.coordinator_moves > 0 && stats.coordinator_errors > 0,
        "the coordinator faults did not bite: {stats:?}"
    );
    check_clean(&cluster, &group, true);
}
