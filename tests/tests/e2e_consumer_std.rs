//! End to end over real TCP: idem-std's blocking consumer (`idem_std::consumer::Consumer`) in a
//! consumer group against idem's MockCluster: every record handed to one member exactly once
//! while members join and leave under faults; what `close` committed is handed out after it; a
//! peer that is not Kafka costs nothing but time.
#![allow(clippy::unwrap_used)]

mod e2e_common;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::TcpListener;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use e2e_common::{idem_cluster, read_idem_log, test_config};
use idem_std::consumer::{Consumer, ConsumerConfig, ConsumerEvent};
use idem_std::{Producer, Record};

const TOPIC: &str = "t";
const PARTITIONS: i32 = 4;

/// Writes `n` records (values `0..n` as 8 bytes, lz4 batches) and returns the log as
/// (partition, offset) -> value.
fn produce(cluster: &idem_mock::MockCluster, n: u64) -> BTreeMap<(i32, i64), Vec<u8>> {
    let mut config = test_config(&cluster.bootstrap_servers(), 10_000);
    config.set("compression.type", "lz4").unwrap();
    config.set("batch.size", "300").unwrap(); // many small batches: a fetch hands out a few
    let producer = Producer::new(config).unwrap();
    for i in 0..n {
        let key = (i % 31).to_be_bytes();
        drop(producer.send(&Record::new(TOPIC).key(&key).value(&i.to_be_bytes())).unwrap());
    }
    producer.flush_timeout(Duration::from_secs(20)).unwrap();
    assert!(producer.close_timeout(Duration::from_secs(10)).all_delivered());
    let log: BTreeMap<_, _> =
        read_idem_log(cluster, TOPIC, PARTITIONS).into_iter().map(|r| ((r.partition, r.offset), r.value)).collect();
    assert_eq!(log.len() as u64, n);
    log
}

fn consumer(bootstrap: &str, group: &str, name: &str) -> Consumer {
    let mut config = ConsumerConfig::new(bootstrap, group).unwrap();
    config.subscribe(TOPIC);
    for (k, v) in [
        ("client.id", name),
        ("session.timeout.ms", "6000"),
        ("heartbeat.interval.ms", "100"),
        ("max.partition.fetch.bytes", "1024"),
        ("retry.backoff.ms", "10"),
        ("reconnect.backoff.ms", "10"),
    ] {
        config.set(k, v).unwrap();
    }
    Consumer::new(config).unwrap()
}

/// One record handed out: the member, partition, offset and value.
type Handed = (String, i32, i64, Vec<u8>);

/// Every record handed out, in the order each member saw them.
#[derive(Default)]
struct Journal(Mutex<Vec<Handed>>);

impl Journal {
    fn record(&self, member: &str, event: &ConsumerEvent) {
        if let ConsumerEvent::Records { partition, records, .. } = event {
            let mut j = self.0.lock().unwrap();
            for r in records {
                j.push((member.to_string(), *partition, r.offset, r.value.as_deref().unwrap_or_default().to_vec()));
            }
        }
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// Each logged record handed out exactly once, with the log's value, in offset order per
    /// member and partition.
    fn assert_exactly_once(&self, log: &BTreeMap<(i32, i64), Vec<u8>>) {
        let j = self.0.lock().unwrap();
        let mut seen = BTreeMap::new();
        let mut last: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for (member, p, o, v) in j.iter() {
            assert_eq!(log.get(&(*p, *o)), Some(v), "{member}: {p}/{o} is not as the log holds it");
            assert!(seen.insert((*p, *o), member.as_str()).is_none(), "{p}/{o} handed out twice");
            if let Some(before) = last.insert((member.as_str(), *p), *o) {
                assert!(before < *o, "{member}: {p}/{o} after {before}");
            }
        }
        assert_eq!(seen.len(), log.len(), "records never handed out");
    }
}

/// Polls until `until` says stop, committing after every batch of records.
fn run_member(c: &mut Consumer, name: &str, journal: &Journal, mut until: impl FnMut() -> bool) {
    while !until() {
        if let Some(event) = c.poll(Duration::from_millis(20)) {
            assert!(!matches!(event, ConsumerEvent::Error(_)), "{name}: {event:?}");
            journal.record(name, &event);
            if matches!(event, ConsumerEvent::Records { .. }) {
                assert!(matches!(c.commit(Duration::from_secs(10)), Some(ConsumerEvent::Committed { .. })), "{name}");
                thread::sleep(Duration::from_millis(10)); // an application's work: keeps records flowing
            }
        }
    }
    assert!(c.close(Duration::from_secs(10)), "{name}: close did not finish");
    while let Some(event) = c.poll(Duration::ZERO) {
        journal.record(name, &event);
    }
}

#[test]
fn a_group_hands_every_record_to_one_member_once_as_members_join_and_leave() {
    let cluster = idem_cluster(3, TOPIC, PARTITIONS, "delay=0..3ms,leader_move=300ms,coordinator_move=500ms");
    let log = produce(&cluster, 3000);
    let journal = Journal::default();
    let bootstrap = cluster.bootstrap_servers();
    let start = Instant::now();
    let done = || journal.len() >= log.len() || start.elapsed() > Duration::from_secs(60);
    thread::scope(|s| {
        s.spawn(|| run_member(&mut consumer(&bootstrap, "g", "a"), "a", &journal, done));
        s.spawn(|| {
            // Leaves once a third was read.
            run_member(&mut consumer(&bootstrap, "g", "b"), "b", &journal, || done() || journal.len() * 3 >= log.len())
        });
        s.spawn(|| {
            // Joins once a tenth was read.
            while journal.len() * 10 < log.len() && !done() {
                thread::sleep(Duration::from_millis(5));
            }
            run_member(&mut consumer(&bootstrap, "g", "c"), "c", &journal, done);
        });
    });
    journal.assert_exactly_once(&log);
    let mut per_member: BTreeMap<String, usize> = BTreeMap::new();
    for r in journal.0.lock().unwrap().iter() {
        *per_member.entry(r.0.clone()).or_default() += 1;
    }
    // `a` stays to the end; `b` (leaving early) or `c` (joining late) must have had partitions.
    assert!(per_member.len() >= 2, "records per member: {per_member:?}");
    assert!(cluster.stats().coordinator_moves > 0);
}

#[test]
fn close_commits_what_it_hands_out_after_and_the_next_member_resumes_there() {
    let cluster = idem_cluster(1, TOPIC, PARTITIONS, "");
    let log = produce(&cluster, 400);
    let journal = Journal::default();
    let bootstrap = cluster.bootstrap_servers();
    let mut first = consumer(&bootstrap, "resume", "first");
    // Read until one batch arrived, then close at once: records fetched meanwhile were committed
    // by the close and must come out of `poll` after it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while journal.len() == 0 && Instant::now() < deadline {
        if let Some(e) = first.poll(Duration::from_millis(50)) {
            journal.record("first", &e);
        }
    }
    assert!(journal.len() > 0, "nothing read");
    assert!(first.close(Duration::from_secs(10)));
    let mut after = Vec::new();
    while let Some(e) = first.poll(Duration::ZERO) {
        journal.record("first", &e);
        after.push(e);
    }
    assert!(matches!(after.last(), Some(ConsumerEvent::Closed)), "{after:?}");
    assert!(first.poll(Duration::from_millis(10)).is_none());
    drop(first);
    let mut second = consumer(&bootstrap, "resume", "second");
    run_member(&mut second, "second", &journal, || journal.len() >= log.len());
    journal.assert_exactly_once(&log);
}

#[test]
fn a_peer_that_is_not_kafka_is_no_panic_and_no_records() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().take(50) {
            let Ok(mut s) = stream else { return };
            let _ = s.write_all(b"\x00\x00\x00\x08HTTP/1.1 200 OK\r\n\r\n garbage \xff\xff\xff\xff");
        }
    });
    let mut c = consumer(&addr.to_string(), "g", "lost");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        if let Some(e) = c.poll(Duration::from_millis(100)) {
            assert!(!matches!(e, ConsumerEvent::Records { .. } | ConsumerEvent::Assigned { .. }), "{e:?}");
        }
    }
    // Close cannot reach a coordinator: it gives up at its timeout, without panicking.
    let _ = c.close(Duration::from_millis(300));
}
