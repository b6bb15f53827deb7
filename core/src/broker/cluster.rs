//! The in-memory cluster as a sans-IO state machine ([`Cluster`]).

use super::config::{ClusterConfig, ConfigError, check_topic};
use super::conn::{ConnId, Connection, Next, Pending};
use super::faults::FaultSpec;
use super::handlers::fetch::FetchOutcome;
use super::log::PartitionLog;
use super::topics::Topic;
use crate::debug::DebugContext;
use crate::proto::{self, ApiKey, ErrorCode, Frame};
use crate::rand::Rng;
use crate::time::{Duration, Instant};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::format;
use alloc::string::String;
#[cfg(feature = "tls")]
use alloc::sync::Arc;
use alloc::vec::Vec;

/// A fact the driver reports to the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrokerInput<'a> {
    /// A client connected to `broker_id`'s listener; `conn` names the connection from now on.
    Accepted {
        /// Current time.
        now: Instant,
        /// The new connection.
        conn: ConnId,
        /// The broker whose listener accepted it.
        broker_id: i32,
    },
    /// Bytes arrived on `conn` (any chunking; partial frames are buffered).
    Received {
        /// Current time.
        now: Instant,
        /// The connection.
        conn: ConnId,
        /// The bytes, in order.
        bytes: &'a [u8],
    },
    /// The peer closed `conn` (or the socket failed). Queued responses are discarded.
    Closed {
        /// Current time.
        now: Instant,
        /// The connection.
        conn: ConnId,
    },
    /// Time passed (spurious calls are harmless).
    Timeout(Instant),
}

/// An action the driver must carry out, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BrokerOutput {
    /// Write all of `data` to `conn`.
    Transmit {
        /// The connection.
        conn: ConnId,
        /// Whole response frames.
        data: Vec<u8>,
    },
    /// Close `conn` (after writing what was transmitted before). The cluster forgets it.
    Close {
        /// The connection.
        conn: ConnId,
    },
    /// Something worth telling an operator (a malformed request, a fault that fired).
    Log(String),
    /// A debug line of a context on in [`ClusterConfig::debug`](super::ClusterConfig::debug)
    /// (never otherwise).
    Debug {
        /// Its context.
        context: crate::debug::DebugContext,
        /// The line.
        line: String,
    },
    /// Nothing more to do now: call again with new input, or with `Timeout` at this time.
    Timeout(Option<Instant>),
}

/// Counters of what the cluster did; checkers use them to prove a fault was exercised.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClusterStats {
    /// Requests decoded (all APIs).
    pub requests: u64,
    /// Produce requests decoded.
    pub produce_requests: u64,
    /// Batches appended to a log.
    pub batches_appended: u64,
    /// Records appended to a log.
    pub records_appended: u64,
    /// Batches the validator recognised as duplicates (answered with the original offset, not
    /// appended).
    pub duplicates: u64,
    /// Batches the validator rejected (sequence or epoch errors).
    pub rejected: u64,
    /// Injected errors answered instead of appending.
    pub errors_before: u64,
    /// Injected errors answered after appending.
    pub errors_after: u64,
    /// Produce requests appended and then answered by closing the connection.
    pub dropped_after_append: u64,
    /// Responses held back by an injected delay.
    pub delayed_responses: u64,
    /// Responses discarded because their connection closed first.
    pub discarded_responses: u64,
    /// Partitions answered NOT_LEADER_OR_FOLLOWER.
    pub not_leader: u64,
    /// Leadership changes.
    pub leader_moves: u64,
    /// Brokers taken down.
    pub broker_downs: u64,
    /// Broker restarts (with or without state).
    pub restarts: u64,
    /// Producer-state entries dropped by expiry, `forget` or lossy restarts.
    pub producers_expired: u64,
    /// Connections closed because of a malformed or unsupported request.
    pub malformed: u64,
    /// Produce entries ignored because a later entry of the same request named the same
    /// partition (Kafka keeps only the last one: KAFKA-20723). A producer should send none.
    pub repeated_partitions: u64,
    /// Consumer group requests answered NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS by an
    /// injected fault.
    pub coordinator_errors: u64,
    /// Consumer group coordinator moves (the `coordinator_move` fault).
    pub coordinator_moves: u64,
    /// SASL authentications completed (first ones on a connection).
    pub sasl_authentications: u64,
    /// SASL re-authentications completed on an authenticated connection (KIP-368).
    pub sasl_reauthentications: u64,
    /// SASL handshakes or authentications refused (unknown mechanism, bad credentials).
    pub sasl_failures: u64,
    /// Requests refused (connection closed) because their connection had not authenticated or
    /// its session had expired.
    pub sasl_refused: u64,
    /// Connections closed because their TLS handshake or records failed (a certificate
    /// refused, a client that does not speak TLS, corrupt records).
    pub tls_failures: u64,
}

/// A broker's liveness.
#[derive(Clone, Debug)]
pub(crate) struct BrokerState {
    pub(crate) addr: super::config::BrokerAddress,
    pub(crate) up: bool,
    /// When a bounced broker comes back.
    pub(crate) up_at: Option<Instant>,
}

/// Next due times of the periodic faults.
#[derive(Clone, Debug, Default)]
pub(crate) struct FaultTimers {
    pub(crate) leader_move: Option<Instant>,
    pub(crate) bounce: Option<Instant>,
    pub(crate) expire: Option<Instant>,
    pub(crate) restart: Option<Instant>,
    pub(crate) restart_lossy: Option<Instant>,
    pub(crate) restart_snapshot: Option<Instant>,
    pub(crate) coordinator_move: Option<Instant>,
}

/// The in-memory Kafka cluster, as a sans-IO state machine.
///
/// Several brokers in one value: each broker id has a listener (driven by the runtime); every
/// accepted connection belongs to one broker and sees that broker's leadership. Partition logs
/// and producer state exist once per partition (as if perfectly replicated), so a leader move
/// keeps them. The driver feeds [`BrokerInput`]s and drains [`BrokerOutput`]s until
/// [`BrokerOutput::Timeout`]; the cluster never reads a clock and draws randomness only from
/// its seed.
#[derive(Debug)]
pub struct Cluster {
    pub(crate) config: ClusterConfig,
    pub(crate) faults: FaultSpec,
    pub(crate) timers: FaultTimers,
    pub(crate) rng: Rng,
    pub(crate) brokers: Vec<BrokerState>,
    pub(crate) topics: BTreeMap<String, Topic>,
    pub(crate) topics_created: u64,
    pub(crate) conns: BTreeMap<ConnId, Connection>,
    pub(crate) outputs: VecDeque<BrokerOutput>,
    /// Current epoch of every producer id handed out (only under
    /// [`ProducerIdPolicy::BumpInPlace`](super::config::ProducerIdPolicy::BumpInPlace)).
    pub(crate) producer_ids: BTreeMap<i64, i16>,
    pub(crate) next_producer_id: i64,
    /// Epoch of newly allocated producer ids (0; tests raise it to reach epoch exhaustion).
    pub(crate) first_epoch: i16,
    pub(crate) stats: ClusterStats,
    /// Set when data or leadership changed: waiting fetches are re-evaluated.
    pub(crate) fetch_dirty: bool,
    pub(crate) now: Instant,
    /// Where a compressed batch's records are decompressed to be validated (reused).
    pub(crate) decompression_scratch: Vec<u8>,
    /// The consumer groups (classic protocol), their committed offsets and coordinators.
    pub(crate) groups: super::group::GroupCoordinator<super::handlers::group::GroupToken>,
    /// The transactional ids and their transactions (placed like groups, by `groups.placement`).
    pub(crate) txns: super::txn::TxnCoordinator,
    /// The listeners' TLS configuration, made once from [`ClusterConfig::tls`].
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
}

impl Cluster {
    /// A cluster with the configured brokers (all up) and topics, at time `now`.
    pub fn new(config: ClusterConfig, now: Instant) -> Result<Cluster, ConfigError> {
        config.validate()?;
        #[cfg(feature = "tls")]
        let tls = match &config.tls {
            Some(t) => Some(t.server_config().map_err(ConfigError::Tls)?),
            None => None,
        };
        let brokers = config.brokers.iter().map(|a| BrokerState { addr: a.clone(), up: true, up_at: None }).collect();
        let faults = config.faults.clone();
        let config_seed = config.seed;
        let config_expiration = config.transactional_id_expiration;
        let mut cluster = Cluster {
            rng: Rng::new(config.seed),
            next_producer_id: config.first_producer_id.max(0),
            config,
            faults: FaultSpec::default(),
            timers: FaultTimers::default(),
            brokers,
            topics: BTreeMap::new(),
            topics_created: 0,
            conns: BTreeMap::new(),
            outputs: VecDeque::new(),
            producer_ids: BTreeMap::new(),
            first_epoch: 0,
            stats: ClusterStats::default(),
            fetch_dirty: false,
            now,
            decompression_scratch: Vec::new(),
            // A generator of its own (member ids), so the cluster's seeded faults draw as before.
            groups: super::group::GroupCoordinator::new(
                super::group::GroupConfig::default(),
                Rng::new(config_seed ^ 0x6772_6F75_7073),
            ),
            txns: super::txn::TxnCoordinator::new(super::txn::TxnConfig {
                transactional_id_expiration: config_expiration,
                ..super::txn::TxnConfig::default()
            }),
            #[cfg(feature = "tls")]
            tls,
        };
        for t in cluster.config.topics.clone() {
            cluster.create_topic(&t.name, t.partitions)?;
        }
        cluster.set_faults(now, faults);
        Ok(cluster)
    }

    /// Feeds one fact in. Outputs accumulate until drained with [`poll_output`](Self::poll_output).
    pub fn handle_input(&mut self, input: BrokerInput<'_>) {
        match input {
            BrokerInput::Accepted { now, conn, broker_id } => {
                self.advance(now);
                self.on_accepted(conn, broker_id);
            }
            BrokerInput::Received { now, conn, bytes } => {
                self.advance(now);
                self.on_received(conn, bytes);
            }
            BrokerInput::Closed { now, conn } => {
                self.advance(now);
                self.groups.drop_tokens(|t| t.conn == conn);
                if let Some(c) = self.conns.remove(&conn) {
                    self.stats.discarded_responses += c.queue.len() as u64;
                    let (broker, queued) = (c.broker_id, c.queue.len());
                    self.debug(DebugContext::Broker, || {
                        format!(
                            "broker {broker}: connection {} closed by the client, {queued} responses unsent",
                            conn.0
                        )
                    });
                }
            }
            BrokerInput::Timeout(now) => self.advance(now),
        }
        self.flush();
    }

    /// The next action; [`BrokerOutput::Timeout`] when there is nothing more to do now.
    pub fn poll_output(&mut self) -> BrokerOutput {
        match self.outputs.pop_front() {
            Some(o) => o,
            None => BrokerOutput::Timeout(self.next_deadline()),
        }
    }

    /// Test hook: producer ids allocated from now on start at `epoch` instead of 0 (to reach
    /// epoch exhaustion without 32767 bumps). Not part of the API.
    #[doc(hidden)]
    pub fn set_first_producer_epoch(&mut self, epoch: i16) {
        self.first_epoch = epoch.max(0);
    }

    /// What the cluster has done so far.
    pub fn stats(&self) -> ClusterStats {
        self.stats
    }

    /// The faults currently injected.
    pub fn faults(&self) -> &FaultSpec {
        &self.faults
    }

    /// The log of `topic`'s partition `partition`, if it exists (for checkers).
    pub fn partition_log(&self, topic: &str, partition: i32) -> Option<&PartitionLog> {
        self.topics.get(topic)?.partition(partition).map(|p| &p.log)
    }

    /// The topic named `name`, if it exists (partitions with leaders, logs and producer state).
    pub(crate) fn topic(&self, name: &str) -> Option<&Topic> {
        self.topics.get(name)
    }

    /// The errors the `error_before` fault injected on a partition, with how often each was
    /// answered, if the partition exists (a checker tells an injected sequence error from a real
    /// one with it).
    pub fn injected_before(&self, topic: &str, partition: i32) -> Option<&[(ErrorCode, u64)]> {
        self.topics.get(topic)?.partition(partition).map(|p| p.injected_before.as_slice())
    }

    /// The offset group `group_id` has committed for `topic`/`partition` (by OffsetCommit, or
    /// by a transaction whose commit markers are written), if any: an inspection for tests and
    /// tools.
    pub fn committed_offset(&self, group_id: &str, topic: &str, partition: i32) -> Option<i64> {
        let listed = [(String::from(topic), alloc::vec![partition])];
        let answer = self.groups.fetch_offsets(group_id, Some(&listed));
        answer.topics.first()?.1.first().map(|f| f.offset).filter(|o| *o >= 0)
    }

    /// Topic names, sorted.
    pub fn topic_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.topics.keys().map(String::as_str)
    }

    /// The leader of a partition (-1 when none), if the partition exists.
    pub fn leader(&self, topic: &str, partition: i32) -> Option<i32> {
        self.topics.get(topic)?.partition(partition).map(|p| p.leader)
    }

    /// The configured brokers and whether each is up.
    pub fn brokers(&self) -> impl Iterator<Item = (&super::config::BrokerAddress, bool)> + '_ {
        self.brokers.iter().map(|b| (&b.addr, b.up))
    }

    /// Number of open connections.
    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    /// Creates a topic (if it does not exist yet) with leaders round-robin over live brokers.
    /// Returns whether it was created.
    pub fn create_topic(&mut self, name: &str, partitions: i32) -> Result<bool, ConfigError> {
        check_topic(name, partitions)?;
        if self.topics.contains_key(name) {
            return Ok(false);
        }
        let live = self.live_brokers();
        let ordinal = self.topics_created;
        self.topics_created += 1;
        let first = ordinal as usize;
        let topic = Topic::new(ordinal, partitions, &live, first, self.config.log_max_bytes, self.validator_config());
        self.topics.insert(String::from(name), topic);
        Ok(true)
    }

    /// The validator settings of every partition.
    pub(crate) fn validator_config(&self) -> super::validator::ValidatorConfig {
        self.config.validator
    }

    /// Ids of the brokers that are up, in configuration order.
    pub(crate) fn live_brokers(&self) -> Vec<i32> {
        self.brokers.iter().filter(|b| b.up).map(|b| b.addr.node_id).collect()
    }

    /// The partition a request to `broker_id` may use: UNKNOWN_TOPIC_OR_PARTITION if it does
    /// not exist, NOT_LEADER_OR_FOLLOWER if `broker_id` does not lead it.
    pub(crate) fn led_partition(
        &mut self,
        broker_id: i32,
        topic: &str,
        partition: i32,
    ) -> Result<&mut super::topics::Partition, crate::proto::ErrorCode> {
        use crate::proto::ErrorCode;
        let p = self
            .topics
            .get_mut(topic)
            .and_then(|t| t.partition_mut(partition))
            .ok_or(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)?;
        if p.leader != broker_id {
            self.stats.not_leader += 1;
            return Err(ErrorCode::NOT_LEADER_OR_FOLLOWER);
        }
        Ok(p)
    }

    pub(crate) fn broker(&self, id: i32) -> Option<&BrokerState> {
        self.brokers.iter().find(|b| b.addr.node_id == id)
    }

    pub(crate) fn log(&mut self, msg: String) {
        self.outputs.push_back(BrokerOutput::Log(msg));
    }

    /// Emits the line `line()` makes if `context` is on (else nothing is made).
    pub(crate) fn debug(&mut self, context: crate::debug::DebugContext, line: impl FnOnce() -> String) {
        if self.config.debug.contains(context) {
            self.outputs.push_back(BrokerOutput::Debug { context, line: line() });
        }
    }

    pub(crate) fn advance(&mut self, now: Instant) {
        self.now = self.now.max(now);
        self.run_periodic_faults();
        self.groups.on_timeout(self.now);
        self.write_txn_markers();
    }

    fn on_accepted(&mut self, conn: ConnId, broker_id: i32) {
        // A reused id replaces whatever was open under it, refused or not.
        if let Some(old) = self.conns.remove(&conn) {
            self.stats.discarded_responses += old.queue.len() as u64;
            self.log(format!("connection id {} reused while open; old state dropped", conn.0));
        }
        match self.broker(broker_id) {
            None => {
                self.log(format!("connection {} to unknown broker {broker_id} refused", conn.0));
                self.outputs.push_back(BrokerOutput::Close { conn });
            }
            Some(b) if !b.up => self.outputs.push_back(BrokerOutput::Close { conn }),
            Some(_) => {
                let auth = super::sasl::ConnAuth::new(self.config.sasl.as_ref());
                #[allow(unused_mut)]
                let mut c = Connection::new(broker_id, auth);
                #[cfg(feature = "tls")]
                if let Some(config) = &self.tls {
                    match crate::tls::TlsSession::server(config) {
                        Ok(session) => c.tls = Some(session),
                        Err(e) => {
                            self.log(format!("connection {}: TLS session refused: {}", conn.0, e.detail));
                            self.outputs.push_back(BrokerOutput::Close { conn });
                            return;
                        }
                    }
                }
                self.conns.insert(conn, c);
                self.debug(DebugContext::Broker, || format!("broker {broker_id}: connection {} accepted", conn.0));
            }
        }
    }

    fn on_received(&mut self, conn: ConnId, bytes: &[u8]) {
        let Some(c) = self.conns.get_mut(&conn) else { return };
        let mut buf = core::mem::take(&mut c.recv);
        #[cfg(feature = "tls")]
        if let Some(session) = c.tls.as_mut() {
            let received = session.receive(bytes, &mut buf);
            // Handshake messages, or the alert that explains a failure.
            if let Some(data) = session.outgoing() {
                self.outputs.push_back(BrokerOutput::Transmit { conn, data });
            }
            if let Err(e) = received {
                self.stats.tls_failures += 1;
                let reason = format!("TLS: {}: {}", e.failure, e.detail);
                self.close(conn, Some(reason));
                return;
            }
        } else {
            buf.extend_from_slice(bytes);
        }
        #[cfg(not(feature = "tls"))]
        buf.extend_from_slice(bytes);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.recv = buf;
        }
        self.read_requests(conn);
    }

    /// Handles every whole request received on `conn`, in order, until one parks (a parked
    /// Produce mutes the connection, as Kafka mutes a channel until its request is answered).
    fn read_requests(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn).filter(|c| !c.is_muted()) else { return };
        let mut buf = core::mem::take(&mut c.recv);
        let mut pos = 0;
        loop {
            let rest = buf.get(pos..).unwrap_or_default();
            match proto::parse_frame(rest, self.config.max_request_bytes) {
                Ok(Frame::Complete { body, consumed }) => {
                    pos += consumed;
                    if let Err(reason) = self.handle_request(conn, body) {
                        self.stats.malformed += 1;
                        self.close(conn, Some(reason));
                        return;
                    }
                    match self.conns.get(&conn) {
                        None => return,
                        Some(c) if c.is_muted() => break,
                        Some(_) => {}
                    }
                }
                Ok(Frame::Partial { .. }) => break,
                Err(e) => {
                    self.stats.malformed += 1;
                    self.close(conn, Some(format!("bad frame: {e}")));
                    return;
                }
            }
        }
        buf.drain(..pos);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.recv = buf;
        }
    }

    /// Forgets `conn` and tells the driver to close it; queued responses are discarded.
    pub(crate) fn close(&mut self, conn: ConnId, reason: Option<String>) {
        self.groups.drop_tokens(|t| t.conn == conn);
        if let Some(c) = self.conns.remove(&conn) {
            self.stats.discarded_responses += c.queue.len() as u64;
            if let Some(r) = reason {
                self.log(format!("broker {}: closing connection {}: {r}", c.broker_id, conn.0));
            }
            self.outputs.push_back(BrokerOutput::Close { conn });
        }
    }

    /// A response delay drawn from the fault spec (zero without a `delay` fault).
    pub(crate) fn draw_delay(&mut self) -> Duration {
        let Some(d) = self.faults.delay else { return Duration::ZERO };
        if !self.rng.chance(d.probability) {
            return Duration::ZERO;
        }
        let span = d.max.as_micros().saturating_sub(d.min.as_micros());
        let extra = self.rng.below(span.saturating_add(1));
        let delay = Duration::from_micros(d.min.as_micros().saturating_add(extra));
        if delay > Duration::ZERO {
            self.stats.delayed_responses += 1;
        }
        delay
    }

    /// Appends an entry to `conn`'s response queue.
    pub(crate) fn enqueue(&mut self, conn: ConnId, entry: Pending) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.queue.push_back(entry);
        }
    }

    /// Re-evaluates waiting fetches, then sends every queue front that is due.
    pub(crate) fn flush(&mut self) {
        self.deliver_group_answers();
        let now = self.now;
        let ids: Vec<ConnId> = self.conns.keys().copied().collect();
        let dirty = core::mem::take(&mut self.fetch_dirty);
        for id in ids {
            self.resolve_parked_produce(id);
            self.resolve_fetches(id, dirty);
            while let Some(c) = self.conns.get_mut(&id) {
                match c.next(now) {
                    #[cfg(feature = "tls")]
                    Next::Send(data) if c.tls.is_some() => {
                        if let Some(session) = c.tls.as_mut() {
                            session.send([&data[..]]);
                            if let Some(data) = session.outgoing() {
                                self.outputs.push_back(BrokerOutput::Transmit { conn: id, data });
                            }
                        }
                    }
                    Next::Send(data) => self.outputs.push_back(BrokerOutput::Transmit { conn: id, data }),
                    Next::Close => {
                        self.close(id, None);
                        break;
                    }
                    Next::Wait => break,
                }
            }
        }
    }

    /// Evaluates `id`'s parked Produce again once its retry is due: answered (the connection
    /// then reads the requests that waited behind it), or parked again.
    fn resolve_parked_produce(&mut self, id: ConnId) {
        let now = self.now;
        let Some(c) = self.conns.get(&id) else { return };
        let broker_id = c.broker_id;
        let due = c.queue.iter().enumerate().find_map(|(i, p)| match p {
            Pending::Produce(p) if p.retry_at <= now => Some((i, p.clone())),
            _ => None,
        });
        let Some((i, p)) = due else { return };
        let reply = match self.produce(broker_id, p.version, p.correlation_id, &p.body, Some(p.give_up_at)) {
            Ok(reply) => reply,
            Err(reason) => {
                self.close(id, Some(reason));
                return;
            }
        };
        let delay = self.draw_delay();
        let entry = match reply {
            Reply::Park(again) => Some(Pending::Produce(again)),
            Reply::Respond(data) => Some(Pending::Ready { at: now + delay, data }),
            Reply::Drop => Some(Pending::Drop { at: now + delay }),
            _ => None,
        };
        let Some(c) = self.conns.get_mut(&id) else { return };
        match entry {
            Some(e) => {
                if let Some(slot) = c.queue.get_mut(i) {
                    *slot = e;
                }
            }
            None => {
                c.queue.remove(i);
            }
        }
        self.read_requests(id);
    }

    /// Answers the waiting fetches of `id` that now have data (when `dirty`) or whose deadline
    /// has come.
    fn resolve_fetches(&mut self, id: ConnId, dirty: bool) {
        let now = self.now;
        let Some(c) = self.conns.get(&id) else { return };
        let broker_id = c.broker_id;
        let waiting: Vec<(usize, super::conn::WaitingFetch)> = c
            .queue
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match p {
                Pending::Fetch(f) if dirty || f.deadline <= now => Some((i, f.clone())),
                _ => None,
            })
            .collect();
        for (i, f) in waiting {
            let forced = f.deadline <= now;
            match self.fetch(broker_id, f.version, f.correlation_id, &f.body, forced) {
                Ok(FetchOutcome::Ready(data)) => {
                    if let Some(slot) = self.conns.get_mut(&id).and_then(|c| c.queue.get_mut(i)) {
                        *slot = Pending::Ready { at: now + f.delay, data };
                    }
                }
                Ok(FetchOutcome::Wait(_)) => {}
                Err(reason) => {
                    self.close(id, Some(reason));
                    return;
                }
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let t = &self.timers;
        let conns = self.conns.values().filter_map(Connection::deadline);
        let ups = self.brokers.iter().filter_map(|b| b.up_at);
        let timers =
            [t.leader_move, t.bounce, t.expire, t.restart, t.restart_lossy, t.restart_snapshot].into_iter().flatten();
        conns
            .chain(ups)
            .chain(timers)
            .chain(self.groups.next_deadline())
            .chain(self.txns.next_deadline())
            .chain(t.coordinator_move)
            .min()
    }

    /// Decodes one request frame body and queues its answer. `Err` closes the connection.
    fn handle_request(&mut self, conn: ConnId, body: &[u8]) -> Result<(), String> {
        let Some(broker_id) = self.conns.get(&conn).map(|c| c.broker_id) else { return Ok(()) };
        let (header, mut r) =
            proto::decode_request_header(body).map_err(|e| format!("malformed request header: {e}"))?;
        self.stats.requests += 1;
        let Some(key) = ApiKey::from_i16(header.api_key) else {
            return Err(format!("unsupported api key {}", header.api_key));
        };
        let (v, corr) = (header.api_version, header.correlation_id);
        if !self.serves(key) {
            return Err(not_served(key));
        }
        if key != ApiKey::ApiVersions && !self.served(key).contains(v) {
            return Err(format!("unsupported version {v} of {}", key.name()));
        }
        self.debug(DebugContext::Protocol, || {
            format!(
                "broker {broker_id}: connection {}: {} v{v} request, correlation id {corr}, client `{}`, {} bytes",
                conn.0,
                key.name(),
                header.client_id.unwrap_or(""),
                body.len()
            )
        });
        self.sasl_gate(conn, key)?;
        let now = self.now;
        let reply = match key {
            ApiKey::ApiVersions => self.api_versions(v, corr, &mut r)?,
            ApiKey::SaslHandshake => self.sasl_handshake(conn, v, corr, &mut r)?,
            ApiKey::SaslAuthenticate => self.sasl_authenticate(conn, v, corr, &mut r)?,
            ApiKey::Metadata => self.metadata(v, corr, &mut r)?,
            ApiKey::InitProducerId => self.init_producer_id(broker_id, v, corr, &mut r)?,
            ApiKey::Produce => self.produce(broker_id, v, corr, r.rest(), None)?,
            ApiKey::ListOffsets => self.list_offsets(broker_id, v, corr, &mut r)?,
            ApiKey::FindCoordinator => self.find_coordinator(v, corr, &mut r)?,
            ApiKey::JoinGroup => {
                let client_id = header.client_id.unwrap_or("");
                self.join_group(conn, broker_id, client_id, v, corr, &mut r)?
            }
            ApiKey::SyncGroup => self.sync_group(conn, broker_id, v, corr, &mut r)?,
            ApiKey::Heartbeat => self.heartbeat(broker_id, v, corr, &mut r)?,
            ApiKey::LeaveGroup => self.leave_group(broker_id, v, corr, &mut r)?,
            ApiKey::OffsetCommit => self.offset_commit(broker_id, v, corr, &mut r)?,
            ApiKey::OffsetFetch => self.offset_fetch(broker_id, v, corr, &mut r)?,
            ApiKey::ListGroups => self.list_groups(broker_id, v, corr, &mut r)?,
            ApiKey::DescribeGroups => self.describe_groups(broker_id, v, corr, &mut r)?,
            ApiKey::AddPartitionsToTxn => self.add_partitions_to_txn(broker_id, v, corr, &mut r)?,
            ApiKey::AddOffsetsToTxn => self.add_offsets_to_txn(broker_id, v, corr, &mut r)?,
            ApiKey::EndTxn => self.end_txn(broker_id, v, corr, &mut r)?,
            ApiKey::TxnOffsetCommit => self.txn_offset_commit(broker_id, v, corr, &mut r)?,
            ApiKey::Fetch => {
                let body = r.rest();
                match self.fetch(broker_id, v, corr, body, false)? {
                    FetchOutcome::Ready(data) => Reply::Respond(data),
                    FetchOutcome::Wait(wait) => Reply::Wait(super::conn::WaitingFetch {
                        body: body.to_vec(),
                        version: v,
                        correlation_id: corr,
                        deadline: now + wait,
                        delay: Duration::ZERO,
                    }),
                }
            }
        };
        let delay = match reply {
            // A parked group request drew its delay when it was parked; a parked Produce draws
            // its own when it is answered.
            Reply::Nothing | Reply::WaitGroup | Reply::Park(_) => Duration::ZERO,
            _ => self.draw_delay(),
        };
        let entry = match reply {
            Reply::Nothing => return Ok(()),
            Reply::Respond(data) => Pending::Ready { at: now + delay, data },
            Reply::RespondThenClose(data) => {
                self.enqueue(conn, Pending::Ready { at: now + delay, data });
                Pending::Drop { at: now + delay }
            }
            Reply::Drop => Pending::Drop { at: now + delay },
            Reply::Wait(mut f) => {
                f.delay = delay;
                Pending::Fetch(f)
            }
            Reply::WaitGroup => Pending::Group { correlation_id: corr },
            Reply::Park(p) => Pending::Produce(p),
        };
        self.enqueue(conn, entry);
        Ok(())
    }
}

/// Why a request of an API this broker does not serve closes its connection (as one of an API
/// key idem does not know).
fn not_served(key: ApiKey) -> String {
    format!("unsupported api key {} ({})", key.as_i16(), key.name())
}

/// A handler's answer to one request.
#[derive(Debug)]
pub(crate) enum Reply {
    /// A whole response frame.
    Respond(Vec<u8>),
    /// No response (Produce with acks = 0).
    Nothing,
    /// Close the connection instead of answering (append-then-drop).
    Drop,
    /// A whole response frame, then close the connection (a SASL failure).
    RespondThenClose(Vec<u8>),
    /// A fetch waiting for data.
    Wait(super::conn::WaitingFetch),
    /// A JoinGroup or SyncGroup parked by the group coordinator (answered later, in its place).
    WaitGroup,
    /// A Produce held back until its transaction's markers are written.
    Park(super::conn::ParkedProduce),
}

/// Encodes a response frame, mapping an encoding failure to a connection-closing reason.
pub(crate) fn respond<'a, M: proto::Message<'a>>(corr: i32, version: i16, body: &M) -> Result<Reply, String> {
    let mut out = Vec::new();
    proto::encode_response_frame(&mut out, corr, version, body)
        .map_err(|e| format!("cannot encode {} v{version} response: {e}", M::API_KEY.name()))?;
    Ok(Reply::Respond(out))
}

/// Maps a decode failure to a connection-closing reason.
pub(crate) fn malformed(key: ApiKey, version: i16) -> impl Fn(proto::DecodeError) -> String {
    move |e| format!("malformed {} v{version} request: {e}", key.name())
}

#[cfg(test)]
#[path = "cluster_tests.rs"]
mod tests;
