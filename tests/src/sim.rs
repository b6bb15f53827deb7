//! The deterministic simulation driver: virtual time, a scripted workload and fault schedule,
//! the seeded [`Network`], a producer and a broker cluster; at the end, the [`checker`].
//!
//! Time only jumps: each step goes to the earliest of the producer's deadline, the brokers'
//! deadline, the next network delivery and the next scripted event. Every source of choice is
//! the run's seed, so a seed reproduces a run byte for byte; [`RunResult::trace_hash`] hashes
//! every input and output to prove it.

use std::collections::BTreeMap;

use idem_core::rand::Rng;
use idem_core::{Duration, Instant};

use crate::actors::{BrokerFault, BrokerOut, ProducerOut, Refused, SimBroker, SimProducer, WorkRecord};
use crate::checker::{self, Report, Run, SentRecord};
use crate::net::{Delivery, NetConn, Network};

pub use crate::schedule::{NetFault, Schedule, Script, SimConfig, fault_spec, schedule};

/// What a run produced.
#[derive(Debug)]
pub struct RunResult {
    /// Guarantee violations (empty: pass) and driver failures (livelock, time bound).
    pub errors: Vec<String>,
    /// FNV-1a (over 8-byte words) hash of every input and output of the run, in order.
    pub trace_hash: u64,
    /// Virtual time at the end.
    pub end: Instant,
    /// Steps taken.
    pub steps: u64,
    /// A one-line summary.
    pub summary: String,
    /// The material the checker saw.
    pub run: Run,
    /// The brokers' counters at the end.
    pub counters: Vec<(&'static str, u64)>,
}

/// The run's trace: a hash of every event; printed as well when `IDEM_SIM_TRACE` is set.
struct Trace(u64, bool, crate::wiretap::Wiretap);
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
    fn ev(&mut self, now: Instant, tag: &str, conn: u64, bytes: &[u8]) {
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
    fn hash_only(&mut self, now: Instant, tag: &str, conn: u64, bytes: &[u8]) {
        self.add(&now.as_micros().to_le_bytes());
        self.add(tag.as_bytes());
        self.add(&conn.to_le_bytes());
        self.add(bytes);
    }
}

struct Driver<P: SimProducer, B: SimBroker> {
    producer: P,
    broker: B,
    net: Network,
    trace: Trace,
    addrs: BTreeMap<(String, u16), i32>,
    errors: Vec<String>,
    /// Producer conn id <-> network conn id.
    p2n: BTreeMap<u64, NetConn>,
    n2p: BTreeMap<NetConn, u64>,
    /// Producer conns that existed and are gone (writes on them are dropped, like a dead socket).
    p_gone: std::collections::BTreeSet<u64>,
    ids: BTreeMap<P::Id, usize>,
    run: Run,
    p_deadline: Option<Instant>,
    b_deadline: Option<Instant>,
    now: Instant,
}

impl<P: SimProducer, B: SimBroker> Driver<P, B> {
    /// Drains both sides until neither has anything more to say at this instant.
    fn pump(&mut self) {
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
                        if let Some(nc) = self.p2n.remove(&conn) {
                            self.n2p.remove(&nc);
                            self.p_gone.insert(conn);
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
                    ProducerOut::Fatal(e) => {
                        self.trace.ev(now, "fatal", 0, e.as_bytes());
                        self.errors.push(format!("FATAL at {now:?}: {e}"));
                    }
                }
                progressed = true;
            }
            loop {
                match self.broker.poll() {
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

    fn deliver(&mut self, d: Delivery) {
        let now = self.now;
        match d {
            Delivery::Connected { conn, broker: b } => {
                self.trace.ev(now, "accepted", conn, &b.to_le_bytes());
                self.broker.accepted(now, conn, b);
                if let Some(pc) = self.n2p.get(&conn) {
                    self.producer.connected(now, *pc);
                }
            }
            Delivery::ProducerDisconnected { conn } => {
                self.trace.ev(now, "p-disc", conn, &[]);
                if let Some(pc) = self.n2p.remove(&conn) {
                    self.p2n.remove(&pc);
                    self.p_gone.insert(pc);
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
                self.broker.received(now, conn, &bytes);
            }
            Delivery::BrokerDisconnected { conn, .. } => {
                self.trace.ev(now, "b-disc", conn, &[]);
                self.broker.closed(now, conn);
            }
        }
    }

    /// Returns a rescheduled send (back-pressure) if any.
    fn script(&mut self, cfg: &SimConfig, script: Script) -> Option<Script> {
        let now = self.now;
        match script {
            Script::Send { partition, filler } => {
                let idx = self.run.sent.len();
                let value = checker::record_value(idx, filler);
                let key = if partition.is_none() { Some(format!("k{}", idx % 7).into_bytes()) } else { None };
                let rec = WorkRecord {
                    topic: cfg.topic.clone(),
                    partition,
                    key,
                    value: value.clone(),
                    timestamp_ms: now.as_millis() as i64,
                };
                self.trace.ev(now, "send", idx as u64, &value);
                match self.producer.send(now, &rec) {
                    Ok(id) => {
                        if self.ids.insert(id.clone(), idx).is_some() {
                            self.errors.push(format!("send returned a record id twice: {id:?}"));
                        }
                        self.run.sent.push(SentRecord { topic: rec.topic, partition, value, sent_at: now });
                    }
                    Err(Refused::QueueFull) => {
                        self.trace.ev(now, "queue-full", idx as u64, &[]);
                        self.run.queue_full += 1;
                        return Some(Script::Send { partition, filler });
                    }
                    Err(Refused::Other(e)) => self.errors.push(format!("send refused record {idx}: {e}")),
                }
            }
            Script::Flush => self.producer.flush(now),
            Script::Net(NetFault::Cut { pick }) => {
                let conns = self.net.conns();
                if !conns.is_empty() {
                    let c = conns[(pick % conns.len() as u64) as usize];
                    self.trace.ev(now, "cut", c, &[]);
                    self.net.cut(c);
                }
            }
            Script::Net(NetFault::FailProducerSide { pick }) => {
                let conns = self.net.conns();
                if !conns.is_empty() {
                    let c = conns[(pick % conns.len() as u64) as usize];
                    self.trace.ev(now, "fail-producer-side", c, &[]);
                    self.net.fail_producer_side(now, c);
                }
            }
            Script::Net(NetFault::Stall { pick, to_broker, ms }) => {
                let conns = self.net.conns();
                if !conns.is_empty() {
                    let c = conns[(pick % conns.len() as u64) as usize];
                    self.trace.ev(now, "stall", c, &ms.to_le_bytes());
                    self.net.stall(c, to_broker, now + Duration::from_millis(ms));
                }
            }
            Script::Net(NetFault::StallAll { to_broker, ms }) => {
                for c in self.net.conns() {
                    self.trace.ev(now, "stall", c, &ms.to_le_bytes());
                    self.net.stall(c, to_broker, now + Duration::from_millis(ms));
                }
            }
            Script::Net(NetFault::CutAll) => {
                for c in self.net.conns() {
                    self.trace.ev(now, "cut", c, &[]);
                    self.net.cut(c);
                }
            }
            Script::Broker(f) => {
                self.trace.ev(now, &format!("{f:?}"), 0, &[]);
                match &f {
                    BrokerFault::Down { broker } => self.net.set_broker_down(*broker, true),
                    // A restart cuts the broker's connections (a down broker stays down).
                    BrokerFault::Restart { broker, .. } if !self.net.is_down(*broker) => {
                        self.net.set_broker_down(*broker, true);
                        self.net.set_broker_down(*broker, false);
                    }
                    _ => {}
                }
                self.broker.fault(now, &f);
                if let BrokerFault::Up { broker } = &f {
                    self.net.set_broker_down(*broker, false);
                }
            }
        }
        None
    }
}

/// Drives `producer` and `broker` through `schedule` on a network seeded by `rng`, then checks.
pub fn run<P: SimProducer, B: SimBroker>(
    cfg: &SimConfig,
    schedule: Schedule,
    producer: P,
    broker: B,
    rng: Rng,
) -> RunResult {
    let addrs = broker.advertised().into_iter().map(|(id, h, p)| ((h, p), id)).collect();
    let mut d = Driver {
        producer,
        broker,
        net: Network::new(cfg.net.clone(), rng),
        trace: Trace(0xcbf2_9ce4_8422_2325, std::env::var_os("IDEM_SIM_TRACE").is_some(), Default::default()),
        addrs,
        errors: Vec::new(),
        p2n: BTreeMap::new(),
        n2p: BTreeMap::new(),
        p_gone: Default::default(),
        ids: BTreeMap::new(),
        run: Run {
            buffer_limit: cfg.buffer_limit,
            faults_end: schedule.faults_end,
            delivery_timeout: cfg.delivery_timeout,
            slack: cfg.slack,
            ..Run::default()
        },
        p_deadline: Some(Instant::ZERO),
        b_deadline: Some(Instant::ZERO),
        now: Instant::ZERO,
    };
    let mut events = schedule.events;
    let last_event = events.keys().next_back().map_or(Instant::ZERO, |k| k.0);
    // Every accepted record is reported within the delivery timeout, which frees its buffer
    // space: a blocked application gets its next record in by then, so the bound moves with the
    // last acceptance.
    let bound = |last_accept: Instant| {
        last_event.max(last_accept).max(schedule.faults_end) + cfg.delivery_timeout + cfg.slack + cfg.slack
    };
    let mut steps = 0u64;
    // Back-pressure: the application's thread blocks in a refused `send` (QueueFull) and offers
    // the record again every `RETRY`; its later sends and flushes wait behind it, in order.
    const RETRY: Duration = Duration::from_millis(20);
    let mut blocked: std::collections::VecDeque<Script> = Default::default();
    let mut retry_at: Option<Instant> = None;
    let mut closed = false;

    loop {
        steps += 1;
        let now = d.now;
        // 1. The blocked application thread, then scripted events due now, each followed by a
        //    pump.
        if retry_at.is_some_and(|t| t <= now) {
            retry_at = None;
            while let Some(script) = blocked.pop_front() {
                if let Some(again) = d.script(cfg, script) {
                    blocked.push_front(again);
                    retry_at = Some(now + RETRY);
                    break;
                }
                d.pump();
            }
        }
        while let Some(entry) = events.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let script = entry.remove();
            if !blocked.is_empty() && matches!(script, Script::Send { .. } | Script::Flush) {
                blocked.push_back(script);
                continue;
            }
            if let Some(again) = d.script(cfg, script) {
                blocked.push_back(again);
                retry_at = Some(now + RETRY);
            }
            d.pump();
        }
        // 2. Network deliveries due now, each followed by a pump (as a runtime would).
        while let Some(delivery) = d.net.poll(now) {
            d.deliver(delivery);
            d.pump();
        }
        // 3. Timers.
        if d.p_deadline.is_some_and(|t| t <= now) {
            d.producer.timeout(now);
            d.pump();
        }
        if d.b_deadline.is_some_and(|t| t <= now) {
            d.broker.timeout(now);
            d.pump();
        }
        if d.errors.iter().any(|e| e.starts_with("LIVELOCK")) {
            break;
        }
        // 4. Done? Every accepted record reported, nothing scripted left, nothing in flight.
        if events.is_empty()
            && blocked.is_empty()
            && d.run.reports.len() >= d.run.sent.len()
            && d.net.is_idle()
            && d.broker.quiescent()
        {
            if closed {
                break;
            }
            d.producer.close(now);
            closed = true;
            d.pump();
            continue;
        }
        // 5. Jump to the next deadline.
        let next = [events.keys().next().map(|k| k.0), retry_at, d.net.next_deadline(), d.p_deadline, d.b_deadline]
            .into_iter()
            .flatten()
            .min();
        let Some(next) = next else {
            let missing = d.run.sent.len().saturating_sub(d.run.reports.len());
            d.errors.push(format!(
                "STUCK at {now:?}: nothing pending but {missing} of {} records unreported",
                d.run.sent.len()
            ));
            break;
        };
        let next = next.max(now);
        let hard_end = bound(d.run.sent.last().map_or(Instant::ZERO, |r| r.sent_at));
        if next > hard_end {
            let missing = d.run.sent.len().saturating_sub(d.run.reports.len());
            d.errors.push(format!(
                "LIVENESS: still running at {next:?} (bound {hard_end:?}); {missing} of {} records unreported",
                d.run.sent.len()
            ));
            break;
        }
        d.now = next;
    }
    let now = d.now;
    d.run.logs = d.broker.logs();
    d.run.state_loss = d.broker.state_loss_marks();
    d.run.window_loss = d.broker.window_loss_marks();
    d.run.accepts_any_first_sequence = d.broker.accepts_any_first_sequence();
    d.run.injected_sequence_errors = d.broker.injected_sequence_errors();
    d.run.appended = d.broker.append_times();
    for l in d.run.logs.values() {
        for e in l {
            d.trace.ev(now, "log", e.offset as u64, e.value.as_deref().unwrap_or(&[]));
        }
    }
    let mut errors = d.errors;
    errors.extend(checker::check(&d.run));
    let mut counters = d.broker.counters();
    counters.extend(d.producer.counters());
    RunResult {
        errors,
        trace_hash: d.trace.0,
        end: now,
        steps,
        summary: checker::summary(&d.run),
        run: d.run,
        counters,
    }
}
