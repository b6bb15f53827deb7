//! The blocking consumer: idem-core's sans-IO group consumer driven from the calling thread.
//!
//! One value, owned by one thread (`&mut self`). Its calls run the core: they carry out what it
//! asks (connections open on threads of their own, which then read; each connection's frames go
//! out through a writer thread, as the producer's do) and feed it what the sockets say and the
//! time, until the call has its answer or its timeout passes. Between calls nothing runs the
//! core: heartbeats go out only while a call runs, so call [`Consumer::poll`] well within
//! `session.timeout.ms` (and within `max.poll.interval.ms`), as with any Kafka consumer.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

use idem_core::consumer::{self as core, ConsumerOutput};
use idem_core::producer::{ConnId, Input, Payload};

pub use idem_core::consumer::{
    ConfigError, ConsumedRecord, ConsumerConfig, ConsumerError, ConsumerEvent, IsolationLevel, OffsetReset,
};
use idem_runtime::Clock;

use crate::conn::{connect, run_writer};

/// What a connection's thread reports, in the order it happened on that connection.
enum NetEvent {
    /// Connected: the socket (for shutdown) and the writer thread's queue.
    Connected(ConnId, TcpStream, Sender<Payload>),
    /// Bytes read.
    Received(ConnId, Vec<u8>),
    /// The connect failed, or the socket closed or failed.
    Disconnected(ConnId),
}

/// An open connection's I/O side.
struct Link {
    stream: TcpStream,
    writer: Sender<Payload>,
}

/// How long a connect may take before it counts as failed (the core also times out the
/// connection's setup with `socket.connection.setup.timeout.ms` and closes it).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Network events fed to the core, at most, before each look at the queued events.
const NETWORK_BATCH: usize = 1024;

/// A Kafka consumer in a consumer group over `std::net`, blocking the calling thread in its
/// calls: [`idem_core::consumer::Consumer`] (its settings, events and guarantees) with sockets,
/// threads and the clock.
///
/// ```no_run
/// use std::time::Duration;
/// use idem_std::consumer::{Consumer, ConsumerConfig, ConsumerEvent};
///
/// let mut config = ConsumerConfig::new("localhost:9092", "billing")?;
/// config.subscribe("orders");
/// let mut consumer = Consumer::new(config)?;
/// while let Some(event) = consumer.poll(Duration::from_secs(1)) {
///     if let ConsumerEvent::Records { topic, partition, records } = event {
///         println!("{topic}/{partition}: {} records", records.len());
///         consumer.commit(Duration::from_secs(5)); // what was handed out so far
///     }
/// }
/// consumer.close(Duration::from_secs(5)); // commits, leaves the group
/// while let Some(event) = consumer.poll(Duration::ZERO) {
///     // records fetched before the close, which it committed: process them
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Consumer {
    core: core::Consumer,
    clock: Clock,
    tx: Sender<NetEvent>,
    rx: Receiver<NetEvent>,
    /// Connections asked for and not yet connected, failed or closed.
    opening: HashSet<ConnId>,
    links: HashMap<ConnId, Link>,
    /// Events not yet handed out.
    events: VecDeque<ConsumerEvent>,
    /// The core said `Closed` (or stopped with an error): nothing more will come.
    done: bool,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer").field("connections", &self.links.len()).field("done", &self.done).finish()
    }
}

impl Consumer {
    /// A consumer with `config`; it connects and joins its group in the first call that runs
    /// it. Errors: the core's, naming the setting.
    pub fn new(config: ConsumerConfig) -> Result<Consumer, ConfigError> {
        let clock = Clock::new();
        let core = core::Consumer::new(config, clock.now())?;
        let (tx, rx) = mpsc::channel();
        Ok(Consumer {
            core,
            clock,
            tx,
            rx,
            opening: HashSet::new(),
            links: HashMap::new(),
            events: VecDeque::new(),
            done: false,
        })
    }

    /// The next event (records, an assignment or revocation, a commit's outcome, a fatal error,
    /// `Closed`), waiting up to `timeout` for one; `None` if none came in time, and at once
    /// once the consumer is closed and every event was handed out.
    pub fn poll(&mut self, timeout: Duration) -> Option<ConsumerEvent> {
        self.run_until(timeout, |events| events.pop_front())
    }

    /// The partitions assigned now and each one's position (see
    /// [`idem_core::consumer::Consumer::assignment`]).
    pub fn assignment(&self) -> Vec<((String, i32), Option<i64>)> {
        self.core.assignment()
    }

    /// The member id the coordinator gave (empty before the first join).
    pub fn member_id(&self) -> &str {
        self.core.member_id()
    }

    /// The generation of the current assignment.
    pub fn generation(&self) -> i32 {
        self.core.generation()
    }

    /// Commits the positions of every record handed out so far and waits up to `timeout` for
    /// the coordinator's answer: `Some(Committed)` or `Some(CommitFailed)`, `None` on timeout.
    /// Other events that come meanwhile wait for [`Consumer::poll`], in order.
    pub fn commit(&mut self, timeout: Duration) -> Option<ConsumerEvent> {
        let now = self.clock.now();
        self.core.commit(now);
        self.run_until(timeout, |events| {
            let at = events
                .iter()
                .position(|e| matches!(e, ConsumerEvent::Committed { .. } | ConsumerEvent::CommitFailed { .. }))?;
            events.remove(at)
        })
    }

    /// Commits, leaves the group and closes the connections, waiting up to `timeout` for that
    /// to finish; `true` if it did (the core said `Closed`).
    ///
    /// The commit covers every record the core handed out, including those still waiting here
    /// for [`Consumer::poll`]: after `close`, `poll` hands those out (then `Closed`, then
    /// `None`), and the application must process them, or the group will not see them again.
    pub fn close(&mut self, timeout: Duration) -> bool {
        let now = self.clock.now();
        self.core.close(now);
        let closed =
            self.run_until(timeout, |events| events.iter().any(|e| matches!(e, ConsumerEvent::Closed)).then_some(()));
        closed.is_some()
    }

    /// Runs the core until `take` finds what the caller waits for in the queued events, or
    /// `timeout` passes.
    fn run_until<R>(
        &mut self,
        timeout: Duration,
        mut take: impl FnMut(&mut VecDeque<ConsumerEvent>) -> Option<R>,
    ) -> Option<R> {
        let until = std::time::Instant::now() + timeout;
        loop {
            // What the sockets said and the timers due go to the core before a queued event is
            // handed out, as the Java client's `poll` runs the coordinator before it returns
            // buffered records: else a backlog of records not yet taken keeps the group's
            // answers (JoinGroup, SyncGroup, Heartbeat) from the core, and a rebalance waits for
            // this member as long as the application takes to work through the backlog.
            // At most `NETWORK_BATCH` of them, so that sockets that keep talking cannot keep
            // the call from returning.
            let mut deadline = self.drain();
            for _ in 0..NETWORK_BATCH {
                let Ok(event) = self.rx.try_recv() else { break };
                self.network(event);
                deadline = self.drain();
            }
            let now = self.clock.now();
            if deadline.is_some_and(|d| d <= now) {
                self.core.handle_input(Input::Timeout(now));
                deadline = self.drain();
            }
            if let Some(found) = take(&mut self.events) {
                return Some(found);
            }
            let now = std::time::Instant::now();
            if now >= until || self.done {
                return None;
            }
            let wake = deadline.map_or(until, |d| self.clock.to_std(d).min(until));
            match self.rx.recv_timeout(wake.saturating_duration_since(now)) {
                Ok(event) => self.network(event),
                Err(RecvTimeoutError::Timeout) => self.core.handle_input(Input::Timeout(self.clock.now())),
                Err(RecvTimeoutError::Disconnected) => return None, // we hold a sender: cannot happen
            }
        }
    }

    /// Feeds one network event to the core (events about connections it closed are dropped).
    fn network(&mut self, event: NetEvent) {
        let now = self.clock.now();
        match event {
            NetEvent::Connected(conn, stream, writer) => {
                if self.opening.remove(&conn) {
                    self.links.insert(conn, Link { stream, writer });
                    self.core.handle_input(Input::Connected { now, conn });
                } else {
                    let _ = stream.shutdown(Shutdown::Both);
                }
            }
            NetEvent::Received(conn, bytes) => {
                if self.links.contains_key(&conn) {
                    self.core.handle_input(Input::Received { now, conn, bytes: &bytes });
                }
            }
            NetEvent::Disconnected(conn) => {
                let known = self.opening.remove(&conn);
                if let Some(link) = self.links.remove(&conn) {
                    let _ = link.stream.shutdown(Shutdown::Both);
                    self.core.handle_input(Input::Disconnected { now, conn });
                } else if known {
                    self.core.handle_input(Input::Disconnected { now, conn });
                }
            }
        }
    }

    /// Carries out everything the core asks, until it says when to call it next.
    fn drain(&mut self) -> Option<idem_core::Instant> {
        loop {
            match self.core.poll_output() {
                ConsumerOutput::Connect { conn, host, port } => self.open(conn, host, port),
                ConsumerOutput::Transmit { conn, data } => {
                    if let Some(link) = self.links.get(&conn) {
                        let _ = link.writer.send(data);
                    }
                }
                ConsumerOutput::Close { conn } => {
                    self.opening.remove(&conn);
                    if let Some(link) = self.links.remove(&conn) {
                        let _ = link.stream.shutdown(Shutdown::Both);
                    }
                }
                ConsumerOutput::Event(event) => {
                    self.done |= matches!(event, ConsumerEvent::Closed | ConsumerEvent::Error(_));
                    self.events.push_back(event);
                }
                ConsumerOutput::Timeout(at) => return at,
            }
        }
    }

    /// Connects on a new thread that then reads; a thread that cannot be spawned is a failed
    /// connect.
    fn open(&mut self, conn: ConnId, host: String, port: u16) {
        self.opening.insert(conn);
        let tx = self.tx.clone();
        let spawned = thread::Builder::new()
            .name(format!("idem-consumer-conn-{}", conn.0))
            .spawn(move || read_conn(&tx, conn, &host, port));
        if spawned.is_err() {
            let _ = self.tx.send(NetEvent::Disconnected(conn));
        }
    }
}

impl Drop for Consumer {
    /// Shuts every socket down (their threads end); without [`Consumer::close`] the group
    /// notices the member is gone when its session expires.
    fn drop(&mut self) {
        for link in self.links.values() {
            let _ = link.stream.shutdown(Shutdown::Both);
        }
    }
}

/// One connection's thread: connects, starts the writer, then reads until the socket ends.
fn read_conn(tx: &Sender<NetEvent>, conn: ConnId, host: &str, port: u16) {
    use std::io::Read;
    let parts = connect(host, port, CONNECT_TIMEOUT).and_then(|s| {
        let (w, r) = (s.try_clone().ok()?, s.try_clone().ok()?);
        Some((s, w, r))
    });
    let Some((stream, write_half, mut read_half)) = parts else {
        let _ = tx.send(NetEvent::Disconnected(conn));
        return;
    };
    let (frames, queue) = mpsc::channel::<Payload>();
    let writer = thread::Builder::new()
        .name(format!("idem-consumer-write-{}", conn.0))
        .spawn(move || run_writer(write_half, &queue));
    if writer.is_err() || tx.send(NetEvent::Connected(conn, stream, frames)).is_err() {
        let _ = read_half.shutdown(Shutdown::Both);
        let _ = tx.send(NetEvent::Disconnected(conn));
        return;
    }
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match read_half.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if tx.send(NetEvent::Received(conn, buf.get(..n).unwrap_or_default().to_vec())).is_err() {
                    return; // the consumer is gone
                }
            }
        }
    }
    let _ = tx.send(NetEvent::Disconnected(conn));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule `run_until` keeps: what the sockets said reaches the core before a queued event
    /// is handed out (else a backlog of fetched records delays the group's answers, and every
    /// rebalance waits for this member: found by `idem demo`, whose rebalances took seconds).
    #[test]
    fn the_network_reaches_the_core_before_a_queued_event_is_handed_out() {
        let mut config = ConsumerConfig::new("127.0.0.1:9", "g").unwrap();
        config.subscribe("t");
        let mut c = Consumer::new(config).unwrap();
        let conn = ConnId(1_000);
        c.opening.insert(conn);
        c.events.push_back(ConsumerEvent::Revoked { partitions: Vec::new() });
        c.tx.send(NetEvent::Disconnected(conn)).unwrap();
        let first = c.poll(Duration::ZERO);
        assert_eq!(first, Some(ConsumerEvent::Revoked { partitions: Vec::new() }));
        assert!(!c.opening.contains(&conn), "a queued event went out before the network was read");
    }
}
