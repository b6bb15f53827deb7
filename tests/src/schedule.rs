//! The scripted part of a run: the workload (sends, flushes) and the faults (network cuts and
//! stalls, broker fault specs and controls), and the seeded generator the seed sweeps use.

use std::collections::BTreeMap;

use idem_core::rand::Rng;
use idem_core::{Duration, Instant};

use crate::actors::{BrokerFault, RestartMode};
use crate::net::NetConfig;

/// A network fault; the connection is picked among the live ones when the fault fires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetFault {
    /// Cut a connection (both ends see a disconnect; bytes in flight are lost).
    Cut { pick: u64 },
    /// The producer's end of a connection fails (it sees a disconnect now); the bytes it had
    /// written still reach the broker, then the broker sees the connection end.
    FailProducerSide { pick: u64 },
    /// Stall one direction of a connection for `ms`.
    Stall { pick: u64, to_broker: bool, ms: u64 },
    /// Stall one direction of every live connection for `ms`.
    StallAll { to_broker: bool, ms: u64 },
    /// Cut every live connection.
    CutAll,
}

/// A scripted event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Script {
    /// Offer the next record (index = number accepted so far) to `partition`.
    Send { partition: Option<i32>, filler: usize },
    /// `flush`.
    Flush,
    /// A network fault.
    Net(NetFault),
    /// A broker fault.
    Broker(BrokerFault),
}

/// The scripted part of a run.
#[derive(Clone, Debug, Default)]
pub struct Schedule {
    /// Events by (instant, order of insertion).
    pub events: BTreeMap<(Instant, u64), Script>,
    /// When the last fault has ended (faults include their recovery, e.g. `Up` after `Down`).
    pub faults_end: Instant,
    next: u64,
}

impl Schedule {
    /// Adds an event.
    pub fn at(&mut self, t: Instant, s: Script) {
        // A stall ends `ms` after it starts; every other fault, at its event (recoveries are
        // events of their own).
        let end = match s {
            Script::Net(NetFault::Stall { ms, .. } | NetFault::StallAll { ms, .. }) => {
                Some(t + Duration::from_millis(ms))
            }
            Script::Net(_) | Script::Broker(_) => Some(t),
            Script::Send { .. } | Script::Flush => None,
        };
        if let Some(end) = end {
            self.faults_end = self.faults_end.max(end);
        }
        self.events.insert((t, self.next), s);
        self.next += 1;
    }
}

/// Knobs of a run (the defaults are what the seed runner uses).
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Topic name.
    pub topic: String,
    /// Partitions of the topic.
    pub partitions: i32,
    /// Brokers in the cluster.
    pub brokers: i32,
    /// Records to send.
    pub records: usize,
    /// Sends are spread over this window.
    pub send_window: Duration,
    /// Faults happen within this window.
    pub fault_window: Duration,
    /// Number of faults to schedule.
    pub faults: usize,
    /// The producer's delivery timeout (for the liveness bound).
    pub delivery_timeout: Duration,
    /// The producer's `buffer.memory`.
    pub buffer_limit: u64,
    /// Slack on top of the delivery timeout for liveness.
    pub slack: Duration,
    /// Network parameters.
    pub net: NetConfig,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            topic: "sim".into(),
            partitions: 3,
            brokers: 3,
            records: 60,
            send_window: Duration::from_secs(4),
            fault_window: Duration::from_secs(6),
            faults: 8,
            delivery_timeout: Duration::from_secs(10),
            buffer_limit: 64 * 1024,
            slack: Duration::from_secs(5),
            net: NetConfig::default(),
        }
    }
}

/// Error codes injected before appending (the batch is rejected) and after (the batch is in the
/// log but the producer hears an error).
const CODES_BEFORE: [&str; 7] = [
    "NOT_LEADER_OR_FOLLOWER",
    "REQUEST_TIMED_OUT",
    "NOT_ENOUGH_REPLICAS",
    "OUT_OF_ORDER_SEQUENCE_NUMBER",
    "UNKNOWN_PRODUCER_ID",
    "INVALID_PRODUCER_EPOCH",
    "UNKNOWN_TOPIC_OR_PARTITION",
];
const CODES_AFTER: [&str; 3] = ["REQUEST_TIMED_OUT", "NOT_ENOUGH_REPLICAS_AFTER_APPEND", "NOT_LEADER_OR_FOLLOWER"];

/// A seeded probabilistic broker fault spec (errors before/after append, append-then-drop,
/// response delays).
pub fn fault_spec(rng: &mut Rng) -> String {
    let mut items = Vec::new();
    let p = |rng: &mut Rng| [0.01, 0.03, 0.08][rng.below(3) as usize];
    if rng.chance(0.5) {
        items.push(format!("append_drop={}", p(rng)));
    }
    for _ in 0..rng.below(3) {
        items.push(format!("error_before={}:{}", CODES_BEFORE[rng.below(CODES_BEFORE.len() as u64) as usize], p(rng)));
    }
    for _ in 0..rng.below(2) {
        items.push(format!("error_after={}:{}", CODES_AFTER[rng.below(CODES_AFTER.len() as u64) as usize], p(rng)));
    }
    if rng.chance(0.4) {
        items.push(format!("delay=0..{}ms:{}", 1 + rng.below(1500), p(rng) * 3.0));
    }
    items.join(",")
}

/// A seeded workload and fault schedule.
pub fn schedule(cfg: &SimConfig, rng: &mut Rng) -> Schedule {
    let mut s = Schedule::default();
    let window = cfg.send_window.as_micros().max(1);
    // Some seeds offer a share of their records at once at the start, as a command-line tool
    // reading a file does: they wait for metadata, and can fill `buffer.memory`, before any
    // partition is known.
    let burst = if rng.chance(0.2) { cfg.records * (1 + rng.below(4) as usize) / 4 } else { 0 };
    for i in 0..cfg.records {
        let t = if i < burst { Instant::ZERO } else { Instant::from_micros(rng.below(window)) };
        let partition = if rng.chance(0.1) { None } else { Some(rng.below(cfg.partitions as u64) as i32) };
        s.at(t, Script::Send { partition, filler: rng.below(200) as usize });
        if rng.chance(0.05) {
            s.at(t, Script::Flush);
        }
    }
    s.at(Instant::from_micros(window), Script::Flush);
    if cfg.faults == 0 {
        return s;
    }
    let fwin = cfg.fault_window.as_micros().max(1);
    // Probabilistic broker faults in phases, off at the end of the fault window.
    let phases = 1 + rng.below(3);
    for i in 0..phases {
        s.at(Instant::from_micros(fwin * i / phases), Script::Broker(BrokerFault::Spec(fault_spec(rng))));
    }
    s.at(Instant::from_micros(fwin), Script::Broker(BrokerFault::Spec(String::new())));
    for _ in 0..cfg.faults {
        let t = Instant::from_micros(rng.below(fwin));
        let partition = rng.below(cfg.partitions as u64) as i32;
        let broker = rng.below(cfg.brokers as u64) as i32;
        let fault = match rng.below(12) {
            10 => Script::Net(NetFault::CutAll),
            11 => Script::Net(NetFault::StallAll { to_broker: rng.chance(0.5), ms: 1 + rng.below(3000) }),
            0 | 1 => Script::Net(NetFault::Cut { pick: rng.next_u64() }),
            2 => Script::Net(NetFault::FailProducerSide { pick: rng.next_u64() }),
            3 | 4 => Script::Net(NetFault::Stall {
                pick: rng.next_u64(),
                to_broker: rng.chance(0.5),
                ms: 1 + rng.below(3000),
            }),
            5 => {
                let up = t + Duration::from_micros(1 + rng.below(3_000_000));
                s.at(up, Script::Broker(BrokerFault::Up { broker }));
                Script::Broker(BrokerFault::Down { broker })
            }
            6 => Script::Broker(BrokerFault::LeaderMove { partition, to: broker }),
            7 => Script::Broker(BrokerFault::ExpireProducers),
            _ => {
                let state = [RestartMode::KeepWindow, RestartMode::KeepLastBatch, RestartMode::LoseState]
                    [rng.below(3) as usize];
                Script::Broker(BrokerFault::Restart { broker, state })
            }
        };
        s.at(t, fault);
    }
    s
}
