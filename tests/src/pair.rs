//! Test `Pair`: a producer, a broker cluster, the link between them and virtual time, after
//! quinn-proto's test `Pair` (`quinn-proto/src/tests/util.rs`).
//!
//! [`Pair::pump`] drains both sides' outputs into the [`Link`] until neither has anything more
//! to say at this instant; [`Pair::step`] hands over everything the link has due now (each
//! delivery followed by a pump) and fires the timers that are due; [`Pair::drive`] steps and
//! jumps time to the next deadline until both sides are idle or a time bound. The link is
//! pluggable: the simulation's seeded [`Network`] (latency, chunking, stalls, cuts), or a
//! [`DirectLink`] (in order, zero latency, optionally in small chunks) for scripted tests.
//! Every input and output is hashed into [`Pair::trace_hash`] (and printed with
//! `IDEM_SIM_TRACE`), so a seeded run proves it replays byte for byte.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use idem_core::Instant;
use idem_core::rand::Rng;

use crate::actors::{BrokerOut, ProducerOut, Refused, SimBroker, SimProducer, WorkRecord};
use crate::checker::{Report, Run, SentRecord};
use crate::net::{Delivery, NetConn, Network};

/// What carries bytes and connection events between the producer and the cluster.
pub trait Link {
    /// The producer opens a connection to `broker`; the result is a later
    /// [`Delivery::Connected`] or [`Delivery::ProducerDisconnected`].
    fn connect(&mut self, now: Instant, broker: i32) -> NetConn;
    /// The producer connects to an address no broker advertises: refused.
    fn connect_unknown(&mut self, now: Instant) -> NetConn;
    /// The producer writes.
    fn producer_write(&mut self, now: Instant, conn: NetConn, bytes: &[u8]);
    /// The broker writes.
    fn broker_write(&mut self, now: Instant, conn: NetConn, bytes: &[u8]);
    /// The producer closes its end.
    fn producer_close(&mut self, now: Instant, conn: NetConn);
    /// The broker closes its end.
    fn broker_close(&mut self, now: Instant, conn: NetConn);
    /// The next delivery due at or before `now`.
    fn poll(&mut self, now: Instant) -> Option<Delivery>;
    /// The earliest instant something is due, if anything is pending.
    fn next_deadline(&self) -> Option<Instant>;
    /// Whether nothing is in flight.
    fn is_idle(&self) -> bool;
}

impl Link for Network {
    fn connect(&mut self, now: Instant, broker: i32) -> NetConn {
        Network::connect(self, now, broker)
    }
    fn connect_unknown(&mut self, now: Instant) -> NetConn {
        Network::connect_unknown(self, now)
    }
    fn producer_write(&mut self, now: Instant, conn: NetConn, bytes: &[u8]) {
        Network::producer_write(self, now, conn, bytes);
    }
    fn broker_write(&mut self, now: Instant, conn: NetConn, bytes: &[u8]) {
        Network::broker_write(self, now, conn, bytes);
    }
    fn producer_close(&mut self, now: Instant, conn: NetConn) {
        Network::producer_close(self, now, conn);
    }
    fn broker_close(&mut self, now: Instant, conn: NetConn) {
        Network::broker_close(self, now, conn);
    }
    fn poll(&mut self, now: Instant) -> Option<Delivery> {
        Network::poll(self, now)
    }
    fn next_deadline(&self) -> Option<Instant> {
        Network::next_deadline(self)
    }
    fn is_idle(&self) -> bool {
        Network::is_idle(self)
    }
}

/// An in-order, zero-latency link: every connect is accepted at once, every write arrives at
/// the next step, whole or (with `chunk_rng`) in chunks of 1 to 7 bytes towards the producer.
#[derive(Debug, Default)]
pub struct DirectLink {
    next_conn: NetConn,
    /// Open connections: id -> (broker, producer end open, broker end open).
    conns: BTreeMap<NetConn, (i32, bool, bool)>,
    queue: VecDeque<Delivery>,
    chunk_rng: Option<Rng>,
}

impl DirectLink {
    /// A link that delivers writes whole.
    pub fn new() -> Self {
        DirectLink::default()
    }

    /// A link that cuts the broker's writes into chunks of 1 to 7 bytes drawn from `rng`.
    pub fn chunked(rng: Rng) -> Self {
        DirectLink { chunk_rng: Some(rng), ..DirectLink::default() }
    }

    fn close(&mut self, conn: NetConn, producer_side: bool) {
        let Some(c) = self.conns.get_mut(&conn) else { return };
        let (broker, p_open, b_open) = *c;
        if producer_side && p_open {
            c.1 = false;
            if b_open {
                self.queue.push_back(Delivery::BrokerDisconnected { conn, broker });
                c.2 = false;
            }
        } else if !producer_side && b_open {
            c.2 = false;
            if p_open {
                self.queue.push_back(Delivery::ProducerDisconnected { conn });
                c.1 = false;
            }
        }
        if !c.1 && !c.2 {
            self.conns.remove(&conn);
        }
    }
}

impl Link for DirectLink {
    fn connect(&mut self, _now: Instant, broker: i32) -> NetConn {
        self.next_conn += 1;
        let conn = self.next_conn;
        self.conns.insert(conn, (broker, true, true));
        self.queue.push_back(Delivery::Connected { conn, broker });
        conn
    }
    fn connect_unknown(&mut self, _now: Instant) -> NetConn {
        self.next_conn += 1;
        self.queue.push_back(Delivery::ProducerDisconnected { conn: self.next_conn });
        self.next_conn
    }
    fn producer_write(&mut self, _now: Instant, conn: NetConn, bytes: &[u8]) {
        if let Some((broker, true, true)) = self.conns.get(&conn).copied() {
            self.queue.push_back(Delivery::ToBroker { conn, broker, bytes: bytes.to_vec() });
        }
    }
    fn broker_write(&mut self, _now: Instant, conn: NetConn, bytes: &[u8]) {
        if !matches!(self.conns.get(&conn), Some((_, true, true))) {
            return;
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = match &mut self.chunk_rng {
                Some(rng) => (rng.below(7) as usize + 1).min(rest.len()),
                None => rest.len(),
            };
            self.queue.push_back(Delivery::ToProducer { conn, bytes: rest[..n].to_vec() });
            rest = &rest[n..];
        }
    }
    fn producer_close(&mut self, _now: Instant, conn: NetConn) {
        self.close(conn, true);
    }
    fn broker_close(&mut self, _now: Instant, conn: NetConn) {
        self.close(conn, false);
    }
    fn poll(&mut self, _now: Instant) -> Option<Delivery> {
        self.queue.pop_front()
    }
    fn next_deadline(&self) -> Option<Instant> {
        (!self.queue.is_empty()).then_some(Instant::ZERO)
    }
    fn is_idle(&self) -> bool {
        self.queue.is_empty()
    }
}

/// The run's trace: a hash of every event; printed as well when `IDEM_SIM_TRACE` is set.
pub(crate) struct Trace(u64, bool, crate::wiretap::Wiretap);
impl Trace {
    /// FNV-1a over 8-byte words (the tail zero-padded, then its length), so that hashing every
    /// byte of every run stays cheap in debug builds.
    fn add(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut word = [0u8; 8];
            word.copy_from_slice(w);
            self.0 ^= u64::from_le_bytes(word);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        let rest = words.remainder();
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        self.0 ^= u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59);
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
    }
    pub(crate) fn ev(&mut self, now: Instant, tag: &str, conn: u64, bytes: &[u8]) {
        if self.1 {
            let text = if bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
                String::from_utf8_lossy(bytes).into_owned()
            } else {
                format!("{} bytes", bytes.len())
            };
            let ms = now.as_micros() as f64 / 1000.0;
            match tag {
                "to-b" | "to-p" => {
                    for line in self.2.feed(conn, tag == "to-b", bytes) {
                        println!("{ms:>10.3}ms {tag} conn={conn} {line}");
                    }
                    return self.hash_only(now, tag, conn, bytes);
                }
                "p-tx" | "b-tx" => return self.hash_only(now, tag, conn, bytes),
                "p-disc" | "b-disc" => self.2.close(conn),
                _ => {}
            }
            println!("{ms:>10.3}ms {tag} conn={conn} {text}");
        }
        self.hash_only(now, tag, conn, bytes);
    }
    /// Prints a line in the trace (when tracing) without hashing it.
    pub(crate) fn print(&self, now: Instant, tag: &str, line: &str) {
        if self.1 {
            let ms = now.as_micros() as f64 / 1000.0;
            println!("{ms:>10.3}ms {tag} {line}");
        }
    }
    fn hash_only(&mut self, now: Instant, tag: &str, conn: u64, bytes: &[u8]) {
        self.add(&now.as_micros().to_le_bytes());
        self.add(tag.as_bytes());
        self.add(&conn.to_le_bytes());
        self.add(bytes);
    }
}

/// A producer and a broker cluster joined by a [`Link`], in virtual time. See the module
/// documentation.
pub struct Pair<P: SimProducer, B: SimBroker, L: Link> {
    /// The producer.
    pub producer: P,
    /// The broker cluster.
    pub cluster: B,
    /// The link between them.
    pub net: L,
    /// Virtual time.
    pub now: Instant,
    /// What went wrong in the driving itself (livelock, a report for an unknown id, a fatal
    /// error, a conn id reused); empty when all is well.
    pub errors: Vec<String>,
    /// Accepted records and their reports, as the checker reads them.
    pub run: Run,
    /// The producer's diagnostic lines (`context: text`, for the contexts on in its `debug`
    /// setting), with their time, in order.
    pub diagnostics: Vec<(Instant, String)>,
    pub(crate) trace: Trace,
    pub(crate) ids: BTreeMap<P::Id, usize>,
    addrs: BTreeMap<(String, u16), i32>,
    /// Producer conn id <-> link conn id.
    p2n: BTreeMap<u64, NetConn>,
    n2p: BTreeMap<NetConn, u64>,
    /// Producer conns that existed and are gone (writes on them are dropped, like a dead socket).
    p_gone: BTreeSet<u64>,
    p_deadline: Option<Instant>,
    b_deadline: Option<Instant>,
}

impl<P: SimProducer, B: SimBroker, L: Link> Pair<P, B, L> {
    /// Joins `producer` and `cluster` by `net` at time zero, with `run` to fill in (its limits
    /// set by the caller). Traces when `IDEM_SIM_TRACE` is set.
    pub fn new(producer: P, cluster: B, net: L, run: Run) -> Self {
        let addrs = cluster.advertised().into_iter().map(|(id, h, p)| ((h, p), id)).collect();
        Pair {
            producer,
            cluster,
            net,
            now: Instant::ZERO,
            errors: Vec::new(),
            run,
            diagnostics: Vec::new(),
            trace: Trace(0xcbf2_9ce4_8422_2325, std::env::var_os("IDEM_SIM_TRACE").is_some(), Default::default()),
            ids: BTreeMap::new(),
            addrs,
            p2n: BTreeMap::new(),
            n2p: BTreeMap::new(),
            p_gone: BTreeSet::new(),
            p_deadline: Some(Instant::ZERO),
            b_deadline: Some(Instant::ZERO),
        }
    }

    /// FNV-1a (over 8-byte words) hash of every input and output so far, in order.
    pub fn trace_hash(&self) -> u64 {
        self.trace.0
    }

    /// Offers `record` to the producer now; an accepted record joins [`Run::sent`] as record
    /// number `idx`, the index its report will name.
    pub fn send(&mut self, idx: usize, record: WorkRecord) -> Result<P::Id, Refused> {
        let now = self.now;
        self.trace.ev(now, "send", idx as u64, &record.value);
        let id = self.producer.send(now, &record)?;
        if self.ids.insert(id.clone(), idx).is_some() {
            self.errors.push(format!("send returned a record id twice: {id:?}"));
        }
        let WorkRecord { topic, partition, value, .. } = record;
        self.run.sent.push(SentRecord { topic, partition, value, sent_at: now });
        Ok(id)
    }

    /// Drains both sides until neither has anything more to say at this instant.
    pub fn pump(&mut self) {
        let now = self.now;
        for _round in 0..10_000 {
            let mut progressed = false;
            loop {
                let out = self.producer.poll();
                match out {
                    ProducerOut::Timeout(d) => {
                        self.p_deadline = d;
                        break;
                    }
                    ProducerOut::Connect { conn, host, port } => {
                        self.trace.ev(now, &format!("connect {host}:{port}"), conn, &[]);
                        let nc = match self.addrs.get(&(host, port)) {
                            Some(b) => self.net.connect(now, *b),
                            None => self.net.connect_unknown(now),
                        };
                        if self.p2n.insert(conn, nc).is_some() || self.p_gone.contains(&conn) {
                            self.errors.push(format!("producer reused conn id {conn}"));
                        }
                        self.n2p.insert(nc, conn);
                    }
                    ProducerOut::Transmit { conn, data } => {
                        self.trace.ev(now, "p-tx", conn, &data);
                        match self.p2n.get(&conn) {
                            Some(nc) => self.net.producer_write(now, *nc, &data),
                            None if self.p_gone.contains(&conn) => self.trace.ev(now, "p-tx-dropped", conn, &[]),
                            None => self
                                .errors
                                .push(format!("producer wrote {} bytes on conn {conn} it never opened", data.len())),
                        }
                    }
                    ProducerOut::Close { conn } => {
                        self.trace.ev(now, "p-close", conn, &[]);
                        if let Some(nc) = self.p2n.get(&conn).copied() {
                            self.forget(conn, nc);
                            self.net.producer_close(now, nc);
                        }
                    }
                    ProducerOut::Report { id, outcome } => {
                        self.trace.ev(now, &format!("report {outcome:?}"), 0, format!("{id:?}").as_bytes());
                        match self.ids.get(&id) {
                            Some(idx) => self.run.reports.push(Report { record: *idx, at: now, outcome }),
                            None => {
                                self.errors.push(format!("report for an id send never returned: {id:?} {outcome:?}"))
                            }
                        }
                    }
                    ProducerOut::Diagnostic(line) => {
                        self.trace.print(now, "diag", &line);
                        self.diagnostics.push((now, line));
                        continue; // not an action: not progress
                    }
                    ProducerOut::Fatal(e) => {
                        self.trace.ev(now, "fatal", 0, e.as_bytes());
                        self.errors.push(format!("FATAL at {now:?}: {e}"));
                    }
                }
                progressed = true;
            }
            loop {
                match self.cluster.poll() {
                    BrokerOut::Timeout(d) => {
                        self.b_deadline = d;
                        break;
                    }
                    BrokerOut::Transmit { conn, data } => {
                        progressed = true;
                        self.trace.ev(now, "b-tx", conn, &data);
                        self.net.broker_write(now, conn, &data);
                    }
                    BrokerOut::Close { conn } => {
                        progressed = true;
                        self.trace.ev(now, "b-close", conn, &[]);
                        self.net.broker_close(now, conn);
                    }
                    BrokerOut::Log(line) => self.trace.ev(now, "log", 0, line.as_bytes()),
                }
            }
            self.run.max_buffered = self.run.max_buffered.max(self.producer.buffered_bytes());
            if !progressed {
                return;
            }
        }
        self.errors.push(format!("LIVELOCK: producer/broker keep emitting at {now:?}"));
    }

    /// Producer conn `pc` (link conn `nc`) is gone: later writes on it are dropped.
    fn forget(&mut self, pc: u64, nc: NetConn) {
        self.p2n.remove(&pc);
        self.n2p.remove(&nc);
        self.p_gone.insert(pc);
    }

    /// Hands one delivery to its side.
    fn deliver(&mut self, d: Delivery) {
        let now = self.now;
        match d {
            Delivery::Connected { conn, broker: b } => {
                self.trace.ev(now, "accepted", conn, &b.to_le_bytes());
                self.cluster.accepted(now, conn, b);
                if let Some(pc) = self.n2p.get(&conn) {
                    self.producer.connected(now, *pc);
                }
            }
            Delivery::ProducerDisconnected { conn } => {
                self.trace.ev(now, "p-disc", conn, &[]);
                if let Some(pc) = self.n2p.get(&conn).copied() {
                    self.forget(pc, conn);
                    self.producer.disconnected(now, pc);
                }
            }
            Delivery::ToProducer { conn, bytes } => {
                self.trace.ev(now, "to-p", conn, &bytes);
                if let Some(pc) = self.n2p.get(&conn) {
                    self.producer.received(now, *pc, &bytes);
                }
            }
            Delivery::ToBroker { conn, bytes, .. } => {
                self.trace.ev(now, "to-b", conn, &bytes);
                self.cluster.received(now, conn, &bytes);
            }
            Delivery::BrokerDisconnected { conn, .. } => {
                self.trace.ev(now, "b-disc", conn, &[]);
                self.cluster.closed(now, conn);
            }
        }
    }

    /// One round at `now`: everything the link has due (each delivery followed by a pump, as a
    /// runtime would), then the producer's and the cluster's timers if due (each followed by a
    /// pump).
    pub fn step(&mut self) {
        let now = self.now;
        while let Some(delivery) = self.net.poll(now) {
            self.deliver(delivery);
            self.pump();
        }
        if self.p_deadline.is_some_and(|t| t <= now) {
            self.producer.timeout(now);
            self.pump();
        }
        if self.b_deadline.is_some_and(|t| t <= now) {
            self.cluster.timeout(now);
            self.pump();
        }
    }

    /// The earliest of the link's, the producer's and the cluster's deadlines.
    pub fn next_deadline(&self) -> Option<Instant> {
        [self.net.next_deadline(), self.p_deadline, self.b_deadline].into_iter().flatten().min()
    }

    /// Pumps, then steps and jumps time to the next deadline until nothing is due by `until`
    /// (time then stands at `until`), or the driving fails (see [`Pair::errors`]; a million
    /// steps without passing `until` is a `LIVELOCK`).
    pub fn drive(&mut self, until: Instant) {
        self.pump();
        for _ in 0..1_000_000 {
            if self.errors.iter().any(|e| e.starts_with("LIVELOCK")) {
                return;
            }
            self.step();
            match self.next_deadline() {
                Some(next) if next <= until => self.now = self.now.max(next),
                _ => {
                    self.now = self.now.max(until);
                    return;
                }
            }
        }
        self.errors.push(format!("LIVELOCK: still due at {:?}, before {until:?}", self.now));
    }

    /// Whether the link carries nothing and the cluster holds nothing back.
    pub fn is_idle(&self) -> bool {
        self.net.is_idle() && self.cluster.quiescent()
    }
}

/// A scripted run of idem's producer against idem's cluster (topic `topic`) over `link`:
/// `records` records (values 0, 1, ... as 8 bytes, no key, any partition) sent at time zero, then
/// driven until `until`.
pub fn scripted_run<L: Link>(
    producer: crate::adapters::IdemProducer,
    cluster: crate::adapters::IdemCluster,
    link: L,
    topic: &str,
    records: u64,
    until: Instant,
) -> Pair<crate::adapters::IdemProducer, crate::adapters::IdemCluster, L> {
    let mut pair = Pair::new(producer, cluster, link, Run::default());
    for i in 0..records {
        let r = WorkRecord {
            topic: topic.into(),
            partition: None,
            key: None,
            value: i.to_be_bytes().to_vec(),
            timestamp_ms: 1,
        };
        if let Err(e) = pair.send(i as usize, r) {
            panic!("record {i} refused: {e:?}");
        }
    }
    pair.drive(until);
    pair
}
