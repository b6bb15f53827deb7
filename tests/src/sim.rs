//! The deterministic simulation driver: virtual time, a scripted workload and fault schedule,
//! the seeded [`Network`], a producer and a broker cluster; at the end, the [`checker`].
//!
//! Time only jumps: each step goes to the earliest of the producer's deadline, the brokers'
//! deadline, the next network delivery and the next scripted event. Every source of choice is
//! the run's seed, so a seed reproduces a run byte for byte; [`RunResult::trace_hash`] hashes
//! every input and output to prove it.

use idem_core::rand::Rng;
use idem_core::{Duration, Instant};

use crate::actors::{BrokerFault, Refused, SimBroker, SimProducer, WorkRecord};
use crate::checker::{self, Run};
use crate::net::Network;
use crate::pair::Pair;

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
    /// The producer's diagnostic lines (`context: text`), with their time (empty unless its
    /// `debug` setting names contexts).
    pub diagnostics: Vec<(Instant, String)>,
}

impl<P: SimProducer, B: SimBroker> Pair<P, B, Network> {
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
                    value,
                    timestamp_ms: now.as_millis() as i64,
                };
                match self.send(idx, rec) {
                    Ok(_) => {}
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
                self.cluster.fault(now, &f);
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
    let run = Run {
        buffer_limit: cfg.buffer_limit,
        faults_end: schedule.faults_end,
        delivery_timeout: cfg.delivery_timeout,
        slack: cfg.slack,
        ..Run::default()
    };
    let mut d = Pair::new(producer, broker, Network::new(cfg.net.clone(), rng), run);
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
        // 2. Network deliveries due now, each followed by a pump (as a runtime would), then
        //    timers.
        d.step();
        if d.errors.iter().any(|e| e.starts_with("LIVELOCK")) {
            break;
        }
        // 4. Done? Every accepted record reported, nothing scripted left, nothing in flight.
        if events.is_empty()
            && blocked.is_empty()
            && d.run.reports.len() >= d.run.sent.len()
            && d.net.is_idle()
            && d.cluster.quiescent()
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
        let next = [events.keys().next().map(|k| k.0), retry_at, d.next_deadline()].into_iter().flatten().min();
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
    d.run.logs = d.cluster.logs();
    d.run.state_loss = d.cluster.state_loss_marks();
    d.run.window_loss = d.cluster.window_loss_marks();
    d.run.accepts_any_first_sequence = d.cluster.accepts_any_first_sequence();
    d.run.injected_sequence_errors = d.cluster.injected_sequence_errors();
    d.run.appended = d.cluster.append_times();
    d.run.refusals = d.cluster.refusal_times();
    for l in d.run.logs.values() {
        for e in l {
            d.trace.ev(now, "log", e.offset as u64, e.value.as_deref().unwrap_or(&[]));
        }
    }
    let trace_hash = d.trace_hash();
    let mut errors = d.errors;
    errors.extend(checker::check(&d.run));
    let mut counters = d.cluster.counters();
    counters.extend(d.producer.counters());
    // One batch per partition per request (the Java client's `RecordAccumulator.drain`): Kafka
    // keeps only the last entry naming a partition, so an earlier one is silently dropped.
    if let Some(&(_, n)) = counters.iter().find(|(k, n)| *k == "repeated_partitions" && *n > 0) {
        errors.push(format!(
            "REPEATED PARTITION: {n} Produce entries named a partition already named later in the same request"
        ));
    }
    let summary = checker::summary(&d.run);
    RunResult { errors, trace_hash, end: now, steps, summary, run: d.run, counters, diagnostics: d.diagnostics }
}
