//! Your own event loop: drive the sans-IO core (`idem_core::producer::Producer`) from a
//! hand-written, single-threaded poll(2) loop over non-blocking sockets — no idem runtime, no
//! threads of ours, no async. It starts idem's MockCluster (3 brokers, a few faults), sends
//! records, prints the reports, and checks the cluster's log holds each delivered record once.
//!
//! The loop is the whole contract: feed facts in (`send`, `handle_input`), drain actions out
//! (`poll_output`) until `Output::Timeout(deadline)`, then sleep in poll(2) until a socket is
//! ready or the deadline passes. What `Output::Transmit` hands over is a `Payload`: one request
//! frame in shared chunks (a Produce request's record batches as the producer buffered them).
//! Each socket queues them in an `idem_runtime::WriteQueue`, which writes the chunks with
//! vectored writes and keeps what the kernel did not take; a simpler loop could write
//! `data.to_vec()`.
//!
//! Run: `cargo run -p idem-std --example custom_loop`
//!
//! (poll(2) comes from `rustix`, safe Rust; the `polling` crate would do the same job, but its
//! registration call is `unsafe` and this workspace forbids unsafe code.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::io::{ErrorKind, Read};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration as StdDuration;

use idem_core::Instant;
use idem_core::broker::{FaultSpec, TopicConfig};
use idem_core::producer::{ConnId, Event, Input, Output, Producer, ProducerConfig, ProducerRecord};
use idem_core::proto::record_batch::RecordBatch;
use idem_mock::{MockCluster, MockClusterConfig};
use idem_runtime::WriteQueue;
use rustix::event::{PollFd, PollFlags, Timespec, poll};

/// One socket of ours.
struct Sock {
    stream: TcpStream,
    /// Frames the kernel did not take yet.
    out: WriteQueue,
}

/// The loop's whole state: the core, the sockets, a clock.
struct Loop {
    core: Producer,
    socks: HashMap<ConnId, Sock>,
    origin: std::time::Instant,
    delivered: BTreeMap<i32, Vec<i64>>,
    failed: u64,
    deadline: Option<Instant>,
}

impl Loop {
    fn now(&self) -> Instant {
        Instant::from_micros(self.origin.elapsed().as_micros() as u64)
    }

    /// Drains the core: performs every action, records every report.
    fn drain(&mut self) {
        loop {
            match self.core.poll_output() {
                Output::Connect { conn, host, port } => {
                    // A production loop would connect asynchronously; to localhost this is instant.
                    let addr = (host.as_str(), port).to_socket_addrs().ok().and_then(|mut a| a.next());
                    let stream = addr.and_then(|a| TcpStream::connect_timeout(&a, StdDuration::from_secs(1)).ok());
                    let now = self.now();
                    match stream {
                        Some(s) => {
                            s.set_nonblocking(true).unwrap();
                            s.set_nodelay(true).unwrap();
                            self.socks.insert(conn, Sock { stream: s, out: WriteQueue::new() });
                            self.core.handle_input(Input::Connected { now, conn });
                        }
                        None => self.core.handle_input(Input::Disconnected { now, conn }),
                    }
                }
                Output::Transmit { conn, data } => {
                    if let Some(s) = self.socks.get_mut(&conn) {
                        s.out.push(data);
                        if !flush(s) {
                            self.lost(conn);
                        }
                    }
                }
                Output::Close { conn } => {
                    self.socks.remove(&conn);
                }
                Output::Event(Event::Delivered { id, partition, offset, .. }) => {
                    if id.0 < 3 {
                        println!("record {} delivered to partition {partition} at offset {offset:?}", id.0);
                    }
                    self.delivered.entry(partition).or_default().push(offset.unwrap_or(-1));
                }
                Output::Event(Event::Failed { id, error, persisted, .. }) => {
                    println!("record {} failed: {error} ({persisted:?})", id.0);
                    self.failed += 1;
                }
                Output::Event(Event::Fatal(e)) => println!("producer stopped: {e}"),
                // Only a producer with a transactional.id has transactions (not this one).
                Output::Event(Event::Transaction { op, result }) => println!("{op}: {result:?}"),
                // Only for the contexts set in `debug` (none here).
                Output::Diagnostic(d) => eprintln!("{}: {d}", d.context()),
                Output::Timeout(t) => {
                    self.deadline = t;
                    return;
                }
            }
        }
    }

    /// A socket broke: tell the core (it reconnects and retries as it sees fit).
    fn lost(&mut self, conn: ConnId) {
        self.socks.remove(&conn);
        let now = self.now();
        self.core.handle_input(Input::Disconnected { now, conn });
    }

    /// One turn: sleep in poll(2) until a socket is ready or the core's deadline, then feed what
    /// happened.
    fn turn(&mut self) {
        let ids: Vec<ConnId> = self.socks.keys().copied().collect();
        let timeout = self.deadline.map(|d| {
            let us = d.as_micros().saturating_sub(self.now().as_micros());
            Timespec { tv_sec: (us / 1_000_000) as i64, tv_nsec: ((us % 1_000_000) * 1_000) as i64 }
        });
        let ready: Vec<(ConnId, PollFlags)> = {
            let mut fds: Vec<PollFd<'_>> = ids
                .iter()
                .map(|id| {
                    let s = &self.socks[id];
                    let mut flags = PollFlags::IN;
                    if !s.out.is_empty() {
                        flags |= PollFlags::OUT;
                    }
                    PollFd::new(&s.stream, flags)
                })
                .collect();
            poll(&mut fds, timeout.as_ref()).unwrap();
            ids.iter().zip(&fds).map(|(id, fd)| (*id, fd.revents())).collect()
        };
        let mut buf = [0u8; 64 * 1024];
        for (conn, events) in ready {
            if events.intersects(PollFlags::OUT) {
                let ok = self.socks.get_mut(&conn).is_some_and(flush);
                if !ok {
                    self.lost(conn);
                    continue;
                }
            }
            if events.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR) {
                while let Some(s) = self.socks.get_mut(&conn) {
                    match s.stream.read(&mut buf) {
                        Ok(0) => {
                            self.lost(conn);
                            break;
                        }
                        Ok(n) => {
                            let now = self.now();
                            self.core.handle_input(Input::Received { now, conn, bytes: &buf[..n] });
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(_) => {
                            self.lost(conn);
                            break;
                        }
                    }
                }
            }
        }
        let now = self.now();
        self.core.handle_input(Input::Timeout(now)); // a no-op unless a timer is due
        self.drain();
    }
}

/// Writes what the kernel takes (the rest stays queued); false if the socket broke.
fn flush(s: &mut Sock) -> bool {
    match s.out.write_all_to(&mut s.stream) {
        Ok(()) => true,
        Err(e) => e.kind() == ErrorKind::WouldBlock,
    }
}

fn main() {
    let mut cluster_config = MockClusterConfig::default();
    cluster_config.cluster.topics.push(TopicConfig { name: "demo".into(), partitions: 3 });
    // Lose some responses after appending, fail some requests, delay the rest a little.
    cluster_config.cluster.faults =
        FaultSpec::parse("append_drop=0.05,error_before=NOT_LEADER_OR_FOLLOWER:0.03,delay=0..2ms").unwrap();
    let cluster = MockCluster::start(cluster_config).unwrap();
    println!("MockCluster at {}", cluster.bootstrap_servers());

    let mut config = ProducerConfig::new(&cluster.bootstrap_servers()).unwrap();
    for (k, v) in [
        ("linger.ms", "1"),
        ("batch.size", "2048"),
        ("retry.backoff.ms", "10"),
        ("request.timeout.ms", "2000"),
        ("delivery.timeout.ms", "10000"),
    ] {
        config.set(k, v).unwrap();
    }
    let origin = std::time::Instant::now();
    let core = Producer::new(config, Instant::ZERO).unwrap();
    let mut lp = Loop { core, socks: HashMap::new(), origin, delivered: BTreeMap::new(), failed: 0, deadline: None };

    let n = 3_000u64;
    let mut sent = 0u64;
    while sent < n || lp.core.has_pending() {
        // Interleave: offer a slice of records, then run the loop once.
        for _ in 0..100 {
            if sent == n {
                break;
            }
            let value = sent.to_be_bytes();
            let key = (sent % 10).to_be_bytes();
            let record = ProducerRecord {
                topic: "demo",
                partition: None,
                key: Some(&key),
                value: Some(&value),
                headers: &[],
                timestamp_ms: idem_std::wall_clock_ms(),
            };
            let now = lp.now();
            match lp.core.send(now, &record) {
                Ok(_) => sent += 1,
                Err(e) => {
                    println!("send refused: {e}");
                    break;
                }
            }
        }
        lp.drain();
        lp.turn();
    }
    let now = lp.now();
    lp.core.close(now);
    lp.drain();
    while !lp.core.is_finished() {
        lp.turn();
    }

    let m = lp.core.metrics();
    println!(
        "sent {sent}; delivered {}; failed {}; produce requests {}; retries {}; implicit acks {}; \
         duplicates acknowledged {}",
        m.records_delivered, lp.failed, m.produce_requests, m.retries, m.implicit_acks, m.duplicates_acknowledged
    );
    // Read the log back: every record at most once, in order per partition.
    let mut in_log = 0u64;
    for p in 0..3 {
        let mut seen = std::collections::HashSet::new();
        for b in cluster.partition_log("demo", p).unwrap_or_default() {
            let (batch, _) = RecordBatch::decode(&b.bytes).unwrap();
            for r in batch.records() {
                let v = u64::from_be_bytes(r.unwrap().value.unwrap().try_into().unwrap());
                assert!(seen.insert(v), "record {v} twice in partition {p}");
                in_log += 1;
            }
        }
        let offsets = lp.delivered.get(&p).map_or(0, Vec::len);
        println!("partition {p}: {offsets} delivered, {} in the log", seen.len());
    }
    // Every delivered record is there; a failed one may be (only if reported possibly persisted).
    assert!(in_log >= m.records_delivered && in_log <= m.records_delivered + lp.failed);
    println!("ok: {in_log} records in the log, no duplicates");
}
