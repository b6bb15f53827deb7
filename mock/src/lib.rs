//! # idem-mock
//!
//! [`MockCluster`]: idem's in-memory Kafka cluster (`idem_core::broker::Cluster`) served over
//! TCP with std threads, for tests, demos (`idem broker`, `idem demo`) and benchmarks. Any Kafka
//! client can talk to it. A program that only produces does not need this crate: the producer
//! runtimes (idem-std, idem-smol) do not depend on it.
//!
//! Thin by design: sockets, the clock and wake-ups live here; every decision is the core's.
//! The cluster's log lines go to the `log` crate (info level, target [`LOG_TARGET`]), and so
//! do its debug lines, for the contexts on in `ClusterConfig::debug` (debug level, targets
//! from [`debug_target`]): whatever logger the program installed prints them.
//! One listener per broker; per connection a reader thread (bytes in) and a writer thread
//! (bytes out, so that a slow client never blocks the cluster); one timer thread for delayed
//! responses, fetch waits and periodic faults. The core sits behind one mutex.
//!
//! ```no_run
//! use idem_core::broker::TopicConfig;
//! use idem_mock::{MockCluster, MockClusterConfig};
//!
//! let mut config = MockClusterConfig::default(); // 3 brokers on ephemeral ports of 127.0.0.1
//! config.cluster.topics.push(TopicConfig { name: "events".into(), partitions: 6 });
//! let cluster = MockCluster::start(config)?;
//! println!("bootstrap.servers={}", cluster.bootstrap_servers());
//! // ... produce and consume with any Kafka client, inject faults with `set_faults` ...
//! let log = cluster.partition_log("events", 0); // what partition 0 holds, batch by batch
//! # let _ = log;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! **TLS** (cargo feature `tls`, on by default): with [`MockClusterConfig::with_tls`] (or
//! `ClusterConfig::tls` set directly) every listener speaks TLS, `SSL`, or `SASL_SSL` with
//! `ClusterConfig::sasl`; [`TestCertificates`] makes a CA, a broker certificate and a client
//! certificate to try it with:
//!
//! ```no_run
//! use idem_mock::{MockCluster, MockClusterConfig, TestCertificates};
//!
//! let certs = TestCertificates::generate(&["localhost"])?;
//! let files = certs.write_to(&std::env::temp_dir())?; // ca.pem, broker.pem, ... for clients
//! let cluster = MockCluster::start(MockClusterConfig::default().with_tls(certs.broker_settings()))?;
//! assert_eq!(cluster.security_protocol(), "SSL");
//! // a client: security.protocol=SSL, ssl.ca.location=<files.ca>
//! # let _ = files;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

#[cfg(feature = "tls")]
mod certificates;
#[cfg(feature = "tls")]
pub use certificates::{TestCertificateFiles, TestCertificates, TestCertificatesError};

use idem_core::broker::StoredBatch;
use idem_core::broker::{
    BrokerAddress, BrokerInput, BrokerOutput, Cluster, ClusterConfig, ClusterStats, ConnId, ControlError, FaultSpec,
};
use idem_core::debug::DebugContext;
use idem_core::time::Duration as CoreDuration;
use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant as StdInstant;

/// How to start a [`MockCluster`].
#[derive(Clone, Debug)]
pub struct MockClusterConfig {
    /// Address the listeners bind to and advertise (default `127.0.0.1`).
    pub host: String,
    /// Port of the first broker; broker `i` listens on `first_port + i`. 0 (the default): every
    /// broker gets an ephemeral port.
    pub first_port: u16,
    /// Number of brokers (ids 0..n).
    pub brokers: usize,
    /// Everything else (topics, faults, seed, limits); its `brokers` list is replaced by the
    /// bound listeners.
    pub cluster: ClusterConfig,
    /// Also print the cluster's log lines (faults fired, malformed requests) on stderr directly,
    /// without a logger. Every line goes to the `log` crate in any case (see [`MockCluster`]).
    pub log_to_stderr: bool,
}

impl Default for MockClusterConfig {
    /// Three brokers on ephemeral ports of 127.0.0.1, `ClusterConfig::default()`, quiet.
    fn default() -> Self {
        MockClusterConfig {
            host: String::from("127.0.0.1"),
            first_port: 0,
            brokers: 3,
            cluster: ClusterConfig::default(),
            log_to_stderr: false,
        }
    }
}

impl MockClusterConfig {
    /// The same configuration with TLS on every listener (`ClusterConfig::tls`). Settings
    /// without a wall clock get the system clock when the cluster starts (client certificates
    /// are checked against it).
    #[cfg(feature = "tls")]
    pub fn with_tls(mut self, settings: idem_core::tls::ServerTlsSettings) -> Self {
        self.cluster.tls = Some(settings);
        self
    }

    /// The listeners' security protocol, in the words of a client's `security.protocol`:
    /// `PLAINTEXT`, `SSL` (TLS), `SASL_PLAINTEXT` (SASL) or `SASL_SSL` (both).
    pub fn security_protocol(&self) -> &'static str {
        #[cfg(feature = "tls")]
        let tls = self.cluster.tls.is_some();
        #[cfg(not(feature = "tls"))]
        let tls = false;
        match (self.cluster.sasl.is_some(), tls) {
            (false, false) => "PLAINTEXT",
            (false, true) => "SSL",
            (true, false) => "SASL_PLAINTEXT",
            (true, true) => "SASL_SSL",
        }
    }
}

/// The `log` crate target of the cluster's log lines (info level).
pub const LOG_TARGET: &str = "idem::mock";

/// The `log` crate target of the cluster's debug lines of `context` (debug level):
/// `idem::mock::broker`, `idem::mock::msg`, ...
pub fn debug_target(context: DebugContext) -> &'static str {
    match context {
        DebugContext::Broker => "idem::mock::broker",
        DebugContext::Metadata => "idem::mock::metadata",
        DebugContext::Msg => "idem::mock::msg",
        DebugContext::Eos => "idem::mock::eos",
        DebugContext::Protocol => "idem::mock::protocol",
    }
}

/// Most log lines kept for [`MockCluster::logs`].
const LOG_LINES: usize = 10_000;

/// Response bytes a connection may have waiting to be written before its requests stop being
/// read (Kafka mutes such a channel likewise): a client that never reads cannot make the
/// broker buffer without bound.
const MAX_BACKLOG: usize = 16 * 1024 * 1024;

/// Bytes handed to a connection's writer and not yet written; `closed` once the writer ended.
#[derive(Default)]
struct Backlog {
    state: Mutex<(usize, bool)>,
    drained: Condvar,
}

impl Backlog {
    fn add(&self, n: usize) {
        let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        g.0 += n;
    }

    fn sub(&self, n: usize) {
        let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        g.0 = g.0.saturating_sub(n);
        self.drained.notify_all();
    }

    fn close(&self) {
        let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        g.1 = true;
        self.drained.notify_all();
    }

    /// Waits while the backlog is over [`MAX_BACKLOG`] and the writer runs.
    fn wait_below_limit(&self) {
        let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while g.0 > MAX_BACKLOG && !g.1 {
            g = self.drained.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }
}

enum ToWriter {
    Data(Vec<u8>),
    Close,
}

struct ConnHandle {
    tx: Sender<ToWriter>,
    stream: TcpStream,
    backlog: Arc<Backlog>,
}

struct State {
    cluster: Cluster,
    conns: HashMap<ConnId, ConnHandle>,
    next_conn: u64,
    deadline: Option<idem_core::Instant>,
    logs: VecDeque<String>,
    threads: Vec<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    timer: Condvar,
    shutdown: AtomicBool,
    origin: StdInstant,
    log_to_stderr: bool,
}

impl Shared {
    fn now(&self) -> idem_core::Instant {
        idem_core::Instant::from_micros(u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in another thread while holding the lock leaves the cluster as it was at the
        // panic; serving on is more useful to a test than poisoning every later call.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Carries out every pending output of the core.
    fn drain(&self, st: &mut State) {
        loop {
            match st.cluster.poll_output() {
                BrokerOutput::Transmit { conn, data } => {
                    if let Some(h) = st.conns.get(&conn) {
                        h.backlog.add(data.len());
                        let _ = h.tx.send(ToWriter::Data(data));
                    }
                }
                BrokerOutput::Close { conn } => {
                    if let Some(h) = st.conns.remove(&conn) {
                        let _ = h.tx.send(ToWriter::Close);
                    }
                }
                BrokerOutput::Debug { context, line } => log::debug!(target: debug_target(context), "{line}"),
                BrokerOutput::Log(line) => {
                    log::info!(target: LOG_TARGET, "{line}");
                    if self.log_to_stderr {
                        eprintln!("idem broker: {line}");
                    }
                    if st.logs.len() >= LOG_LINES {
                        st.logs.pop_front();
                    }
                    st.logs.push_back(line);
                }
                BrokerOutput::Timeout(deadline) => {
                    if deadline != st.deadline {
                        st.deadline = deadline;
                        self.timer.notify_all();
                    }
                    return;
                }
            }
        }
    }

    /// Runs `f` on the core with the current time, then carries out its outputs.
    fn with<R>(&self, f: impl FnOnce(&mut Cluster, idem_core::Instant) -> R) -> R {
        let mut st = self.lock();
        let now = self.now();
        let r = f(&mut st.cluster, now);
        self.drain(&mut st);
        r
    }
}

/// idem's in-memory cluster on real sockets. Dropping it stops every thread and closes every
/// socket.
pub struct MockCluster {
    shared: Arc<Shared>,
    addrs: Vec<(i32, SocketAddr)>,
    acceptors: Vec<JoinHandle<()>>,
    timer: Option<JoinHandle<()>>,
    security_protocol: &'static str,
}

impl MockCluster {
    /// Binds one listener per broker, builds the cluster advertising the bound ports, and starts
    /// serving. Fails if a port cannot be bound or the cluster configuration is invalid (with
    /// TLS: a certificate or key that cannot be used, the message naming which).
    pub fn start(config: MockClusterConfig) -> io::Result<MockCluster> {
        let mut listeners = Vec::with_capacity(config.brokers);
        let security_protocol = config.security_protocol();
        let mut cluster_config = config.cluster.clone();
        cluster_config.brokers.clear();
        // The cluster reads no clock; rustls checks client certificates against this one.
        #[cfg(feature = "tls")]
        if let Some(tls) = cluster_config.tls.as_mut().filter(|t| t.wall_clock.is_none()) {
            tls.wall_clock = Some(Arc::new(idem_core::tls::rustls::time_provider::DefaultTimeProvider));
        }
        for i in 0..config.brokers {
            let port = if config.first_port == 0 {
                0
            } else {
                u16::try_from(usize::from(config.first_port) + i)
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "broker port above 65535"))?
            };
            let listener = TcpListener::bind((config.host.as_str(), port))?;
            let id = i32::try_from(i).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "too many brokers"))?;
            let bound = listener.local_addr()?;
            cluster_config.brokers.push(BrokerAddress { node_id: id, host: config.host.clone(), port: bound.port() });
            listeners.push((id, bound, listener));
        }
        let origin = StdInstant::now();
        let cluster = Cluster::new(cluster_config, idem_core::Instant::ZERO)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                cluster,
                conns: HashMap::new(),
                next_conn: 1,
                deadline: None,
                logs: VecDeque::new(),
                threads: Vec::new(),
            }),
            timer: Condvar::new(),
            shutdown: AtomicBool::new(false),
            origin,
            log_to_stderr: config.log_to_stderr,
        });
        {
            let mut st = shared.lock();
            shared.drain(&mut st);
        }
        let addrs = listeners.iter().map(|(id, a, _)| (*id, *a)).collect();
        let acceptors = listeners
            .into_iter()
            .map(|(id, _, l)| {
                let shared = Arc::clone(&shared);
                std::thread::Builder::new()
                    .name(format!("idem-broker-{id}-accept"))
                    .spawn(move || accept_loop(&shared, id, l))
            })
            .collect::<io::Result<Vec<_>>>()?;
        let timer = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new().name("idem-broker-timer".into()).spawn(move || timer_loop(&shared))?
        };
        Ok(MockCluster { shared, addrs, acceptors, timer: Some(timer), security_protocol })
    }

    /// The listeners' security protocol (see [`MockClusterConfig::security_protocol`]): what a
    /// client's `security.protocol` must be.
    pub fn security_protocol(&self) -> &'static str {
        self.security_protocol
    }

    /// `host:port` of every broker, comma-separated (a client's `bootstrap.servers`).
    pub fn bootstrap_servers(&self) -> String {
        self.addrs.iter().map(|(_, a)| a.to_string()).collect::<Vec<_>>().join(",")
    }

    /// Every broker id with its bound address.
    pub fn broker_addrs(&self) -> &[(i32, SocketAddr)] {
        &self.addrs
    }

    /// Replaces the injected faults (periodic ones are scheduled from now).
    pub fn set_faults(&self, faults: FaultSpec) {
        self.shared.with(|c, now| c.set_faults(now, faults));
    }

    /// Takes a broker down: its connections close, new ones are refused, leadership moves.
    pub fn broker_down(&self, id: i32) -> Result<(), ControlError> {
        self.shared.with(|c, now| c.broker_down(now, id))
    }

    /// Brings a broker back.
    pub fn broker_up(&self, id: i32) -> Result<(), ControlError> {
        self.shared.with(|c, now| c.broker_up(now, id))
    }

    /// Moves a partition's leadership (to `to`, or to a random other live broker); returns the
    /// new leader.
    pub fn move_leader(&self, topic: &str, partition: i32, to: Option<i32>) -> Result<i32, ControlError> {
        self.shared.with(|c, now| c.move_leader(now, topic, partition, to))
    }

    /// Forgets a producer's state on every partition; returns on how many it had state.
    pub fn forget_producer(&self, producer_id: i64) -> usize {
        self.shared.with(|c, now| c.forget_producer(now, producer_id))
    }

    /// Drops producer state idle for at least `idle` (`None`: all of it); returns how many
    /// entries went.
    pub fn expire_producers(&self, idle: Option<std::time::Duration>) -> usize {
        let idle = idle.map(|d| CoreDuration::from_micros(u64::try_from(d.as_micros()).unwrap_or(u64::MAX)));
        self.shared.with(|c, now| c.expire_producers(now, idle))
    }

    /// Restarts a broker with or without its partitions' producer state.
    pub fn restart_broker(&self, id: i32, keep_producer_state: bool) -> Result<(), ControlError> {
        self.shared.with(|c, now| c.restart_broker(now, id, keep_producer_state))
    }

    /// Creates a topic; returns whether it was new.
    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<bool, idem_core::broker::ConfigError> {
        self.shared.with(|c, _| c.create_topic(name, partitions))
    }

    /// A copy of a partition's stored batches (with offsets), if the partition exists.
    pub fn partition_log(&self, topic: &str, partition: i32) -> Option<Vec<StoredBatch>> {
        self.shared.with(|c, _| c.partition_log(topic, partition).map(|l| l.batches().cloned().collect()))
    }

    /// What a `read_committed` consumer reads from a partition's whole log, as (offset, value)
    /// (`PartitionLog::read_committed`): `None` for an unknown partition.
    pub fn read_committed(
        &self,
        topic: &str,
        partition: i32,
    ) -> Option<Result<Vec<idem_core::broker::CommittedRecord>, idem_core::proto::DecodeError>> {
        self.shared.with(|c, _| c.partition_log(topic, partition).map(|l| l.read_committed()))
    }

    /// The leader of a partition (-1: none).
    pub fn leader(&self, topic: &str, partition: i32) -> Option<i32> {
        self.shared.with(|c, _| c.leader(topic, partition))
    }

    /// What the cluster has done so far.
    pub fn stats(&self) -> ClusterStats {
        self.shared.with(|c, _| c.stats())
    }

    /// The cluster's recent log lines (at most the last 10,000).
    pub fn logs(&self) -> Vec<String> {
        self.shared.lock().logs.iter().cloned().collect()
    }

    /// Runs `f` on the core cluster (for checks the methods above do not cover).
    pub fn with_cluster<R>(&self, f: impl FnOnce(&mut Cluster) -> R) -> R {
        self.shared.with(|c, _| f(c))
    }
}

impl Drop for MockCluster {
    fn drop(&mut self) {
        {
            // Under the lock: the timer thread is either before its flag check or waiting.
            let _st = self.shared.lock();
            self.shared.shutdown.store(true, Ordering::SeqCst);
        }
        self.shared.timer.notify_all();
        // Wake the acceptors: each sees the flag on its next connection.
        for (_, addr) in &self.addrs {
            let _ = TcpStream::connect(addr);
        }
        for h in self.acceptors.drain(..) {
            let _ = h.join();
        }
        if let Some(h) = self.timer.take() {
            let _ = h.join();
        }
        let threads = {
            let mut st = self.shared.lock();
            for (_, h) in st.conns.drain() {
                let _ = h.stream.shutdown(Shutdown::Both);
                let _ = h.tx.send(ToWriter::Close);
            }
            std::mem::take(&mut st.threads)
        };
        for h in threads {
            let _ = h.join();
        }
    }
}

fn accept_loop(shared: &Arc<Shared>, broker_id: i32, listener: TcpListener) {
    for stream in listener.incoming() {
        if shared.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let _ = stream.set_nodelay(true);
        let (Ok(reader), Ok(writer), Ok(closer)) = (stream.try_clone(), stream.try_clone(), stream.try_clone()) else {
            continue;
        };
        let (tx, rx) = channel::<ToWriter>();
        let backlog = Arc::new(Backlog::default());
        let mut st = shared.lock();
        let conn = ConnId(st.next_conn);
        st.next_conn += 1;
        st.conns.insert(conn, ConnHandle { tx, stream: closer, backlog: Arc::clone(&backlog) });
        let writer_backlog = Arc::clone(&backlog);
        let writer_thread = std::thread::Builder::new().name(format!("idem-conn-{}-w", conn.0)).spawn(move || {
            let mut w = writer;
            for msg in rx {
                match msg {
                    ToWriter::Data(d) => {
                        if w.write_all(&d).is_err() {
                            break;
                        }
                        writer_backlog.sub(d.len());
                    }
                    ToWriter::Close => break,
                }
            }
            writer_backlog.close();
            let _ = w.shutdown(Shutdown::Both);
        });
        let reader_shared = Arc::clone(shared);
        let reader_thread = std::thread::Builder::new()
            .name(format!("idem-conn-{}-r", conn.0))
            .spawn(move || read_loop(&reader_shared, conn, reader, &backlog));
        for t in [writer_thread, reader_thread].into_iter().flatten() {
            st.threads.push(t);
        }
        let now = shared.now();
        st.cluster.handle_input(BrokerInput::Accepted { now, conn, broker_id });
        shared.drain(&mut st);
        st.threads.retain(|t| !t.is_finished());
    }
}

fn read_loop(shared: &Arc<Shared>, conn: ConnId, mut stream: TcpStream, backlog: &Backlog) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        backlog.wait_below_limit();
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => 0,
            Ok(n) => n,
        };
        let mut st = shared.lock();
        let now = shared.now();
        if n == 0 || shared.shutdown.load(Ordering::SeqCst) {
            if let Some(h) = st.conns.remove(&conn) {
                let _ = h.tx.send(ToWriter::Close);
            }
            st.cluster.handle_input(BrokerInput::Closed { now, conn });
            shared.drain(&mut st);
            return;
        }
        st.cluster.handle_input(BrokerInput::Received { now, conn, bytes: buf.get(..n).unwrap_or_default() });
        shared.drain(&mut st);
    }
}

fn timer_loop(shared: &Arc<Shared>) {
    let mut st = shared.lock();
    loop {
        if shared.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let now = shared.now();
        match st.deadline {
            Some(d) if d <= now => {
                st.cluster.handle_input(BrokerInput::Timeout(now));
                shared.drain(&mut st);
            }
            Some(d) => {
                let wait = std::time::Duration::from_micros(d.as_micros() - now.as_micros());
                st = shared.timer.wait_timeout(st, wait).map(|(g, _)| g).unwrap_or_else(|e| e.into_inner().0);
            }
            None => st = shared.timer.wait(st).unwrap_or_else(|e| e.into_inner()),
        }
    }
}
