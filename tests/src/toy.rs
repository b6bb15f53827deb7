//! A deliberately tiny producer/broker pair speaking a toy protocol, used only to test the
//! simulation harness itself: with dedup on, every seed must pass; with dedup off (the "naive
//! retry" bug), the checker must find duplicates. Not Kafka; not used by the real tests.
//!
//! Protocol: frames of `u32 length | text`. Request `P <seq> <epoch> <partition> <value>`, response
//! `A <seq> <offset>`. The producer is stop-and-wait over one connection; on disconnect it
//! reconnects and resends the same sequence. A record given up
//! while in flight bumps the epoch (a later record may overtake its stalled bytes); the broker
//! fences an older epoch on a partition once a newer one wrote there (as Kafka answers
//! INVALID_PRODUCER_EPOCH), so those stalled bytes never land behind a later record.

use std::collections::{BTreeMap, VecDeque};

use idem_core::{Duration, Instant};

use crate::actors::{BrokerFault, BrokerOut, ProducerOut, Refused, SimBroker, SimProducer, WorkRecord};
use crate::checker::{FailReason, LogEntry, Outcome};

fn frame(text: &str) -> Vec<u8> {
    let mut v = (text.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(text.as_bytes());
    v
}

/// Splits complete frames off `buf`.
fn frames(buf: &mut Vec<u8>) -> Vec<String> {
    let mut out = Vec::new();
    while buf.len() >= 4 {
        let n = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if buf.len() < 4 + n {
            break;
        }
        out.push(String::from_utf8_lossy(&buf[4..4 + n]).into_owned());
        buf.drain(..4 + n);
    }
    out
}

struct Pending {
    id: u64,
    seq: u64,
    partition: i32,
    value: Vec<u8>,
    sent_at: Instant,
    transmitted: bool,
}

/// The toy producer.
pub struct ToyProducer {
    queue: VecDeque<Pending>,
    next_id: u64,
    next_seq: u64,
    /// Current connection: (id, open, request outstanding).
    conn: Option<(u64, bool, bool)>,
    next_conn: u64,
    reconnect_at: Option<Instant>,
    inbuf: Vec<u8>,
    out: VecDeque<ProducerOut<u64>>,
    delivery_timeout: Duration,
    limit: usize,
    /// Bumped whenever a record's outcome is unknown (so later records are a new session).
    epoch: i16,
}

impl ToyProducer {
    /// A toy producer with a queue limit of `limit` records.
    pub fn new(delivery_timeout: Duration, limit: usize) -> Self {
        ToyProducer {
            queue: VecDeque::new(),
            next_id: 0,
            next_seq: 0,
            conn: None,
            next_conn: 1,
            reconnect_at: Some(Instant::ZERO),
            inbuf: Vec::new(),
            out: VecDeque::new(),
            delivery_timeout,
            limit,
            epoch: 0,
        }
    }

    fn drop_conn(&mut self, now: Instant, close: bool) {
        if let Some((c, _, _)) = self.conn.take() {
            if close {
                self.out.push_back(ProducerOut::Close { conn: c });
            }
            self.reconnect_at = Some(now + Duration::from_millis(10));
        }
    }

    fn pump(&mut self, now: Instant) {
        while let Some(h) = self.queue.front() {
            if now.saturating_duration_since(h.sent_at) < self.delivery_timeout {
                break;
            }
            let outcome = if h.transmitted {
                Outcome::PossiblyPersisted(FailReason::Timeout)
            } else {
                Outcome::NotPersisted(FailReason::Timeout)
            };
            if h.transmitted {
                self.epoch += 1;
            }
            let id = h.id;
            self.queue.pop_front();
            self.out.push_back(ProducerOut::Report { id, outcome });
            self.drop_conn(now, true);
        }
        if self.conn.is_none() && self.reconnect_at.is_some_and(|t| t <= now) {
            let c = self.next_conn;
            self.next_conn += 1;
            self.conn = Some((c, false, false));
            self.reconnect_at = None;
            self.inbuf.clear();
            self.out.push_back(ProducerOut::Connect { conn: c, host: "toy".into(), port: 9092 });
        }
        if let (Some((c, true, false)), Some(h)) = (self.conn, self.queue.front_mut()) {
            h.transmitted = true;
            let text = format!("P {} {} {} {}", h.seq, self.epoch, h.partition, String::from_utf8_lossy(&h.value));
            self.out.push_back(ProducerOut::Transmit { conn: c, data: frame(&text) });
            self.conn = Some((c, true, true));
        }
    }
}

impl SimProducer for ToyProducer {
    type Id = u64;

    fn send(&mut self, now: Instant, r: &WorkRecord) -> Result<u64, Refused> {
        if self.queue.len() >= self.limit {
            return Err(Refused::QueueFull);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.queue.push_back(Pending {
            id,
            seq: self.next_seq,
            partition: r.partition.unwrap_or(0),
            value: r.value.clone(),
            sent_at: now,
            transmitted: false,
        });
        self.next_seq += 1;
        Ok(id)
    }
    fn flush(&mut self, now: Instant) {
        self.pump(now);
    }
    fn close(&mut self, now: Instant) {
        self.drop_conn(now, true);
        self.reconnect_at = None;
    }
    fn connected(&mut self, now: Instant, conn: u64) {
        if let Some((c, false, false)) = self.conn {
            if c == conn {
                self.conn = Some((c, true, false));
            }
        }
        self.pump(now);
    }
    fn received(&mut self, now: Instant, conn: u64, bytes: &[u8]) {
        if self.conn.map(|c| c.0) != Some(conn) {
            return;
        }
        self.inbuf.extend_from_slice(bytes);
        for f in frames(&mut self.inbuf) {
            let mut it = f.split(' ').skip(1);
            let seq: u64 = it.next().and_then(|s| s.parse().ok()).unwrap_or(u64::MAX);
            let offset: i64 = it.next().and_then(|s| s.parse().ok()).unwrap_or(-1);
            if let Some(h) = self.queue.front() {
                if h.seq == seq {
                    let (id, partition) = (h.id, h.partition);
                    self.queue.pop_front();
                    self.out.push_back(ProducerOut::Report {
                        id,
                        outcome: Outcome::Delivered { partition, offset: Some(offset) },
                    });
                    if let Some((c, o, _)) = self.conn {
                        self.conn = Some((c, o, false));
                    }
                }
            }
        }
        self.pump(now);
    }
    fn disconnected(&mut self, now: Instant, conn: u64) {
        if self.conn.map(|c| c.0) == Some(conn) {
            self.drop_conn(now, false);
        }
    }
    fn timeout(&mut self, now: Instant) {
        self.pump(now);
    }
    fn poll(&mut self) -> ProducerOut<u64> {
        if let Some(o) = self.out.pop_front() {
            return o;
        }
        let expiry = self.queue.front().map(|h| h.sent_at + self.delivery_timeout);
        ProducerOut::Timeout([expiry, self.reconnect_at].into_iter().flatten().min())
    }
    fn buffered_bytes(&self) -> u64 {
        self.queue.iter().map(|p| p.value.len() as u64).sum()
    }
}

/// The toy broker (one broker, id 0, at `toy:9092`).
pub struct ToyBroker {
    /// Whether retried sequences are deduplicated (off = the naive-retry bug).
    pub dedup: bool,
    /// Whether an older epoch is fenced once a newer one wrote to the partition (off: a given-up
    /// record's stalled bytes can land behind later records).
    pub fence: bool,
    logs: BTreeMap<i32, Vec<LogEntry>>,
    seen: BTreeMap<u64, i64>,
    /// Newest epoch written per partition.
    epochs: BTreeMap<i32, i16>,
    inbufs: BTreeMap<u64, Vec<u8>>,
    drop_next: u32,
    out: VecDeque<BrokerOut>,
}

impl ToyBroker {
    /// A toy broker.
    pub fn new(dedup: bool) -> Self {
        ToyBroker {
            dedup,
            fence: true,
            logs: BTreeMap::new(),
            seen: BTreeMap::new(),
            epochs: BTreeMap::new(),
            inbufs: BTreeMap::new(),
            drop_next: 0,
            out: VecDeque::new(),
        }
    }
}

impl SimBroker for ToyBroker {
    fn advertised(&self) -> Vec<(i32, String, u16)> {
        vec![(0, "toy".into(), 9092)]
    }
    fn accepted(&mut self, _now: Instant, conn: u64, _broker: i32) {
        self.inbufs.insert(conn, Vec::new());
    }
    fn received(&mut self, _now: Instant, conn: u64, bytes: &[u8]) {
        let Some(buf) = self.inbufs.get_mut(&conn) else { return };
        buf.extend_from_slice(bytes);
        for f in frames(buf) {
            let mut it = f.splitn(5, ' ').skip(1);
            let seq: u64 = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            let epoch: i16 = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            let partition: i32 = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            let value = it.next().unwrap_or("").as_bytes().to_vec();
            let current = self.epochs.entry(partition).or_insert(epoch);
            if epoch < *current && self.fence {
                continue; // Fenced: not written, not answered (its connection is gone).
            }
            *current = epoch.max(*current);
            let offset = match self.seen.get(&seq) {
                Some(o) if self.dedup => *o,
                _ => {
                    let log = self.logs.entry(partition).or_default();
                    let offset = log.len() as i64;
                    log.push(LogEntry { offset, producer_id: 1, epoch, sequence: seq as i32, value: Some(value) });
                    self.seen.insert(seq, offset);
                    offset
                }
            };
            if self.drop_next > 0 {
                self.drop_next -= 1;
                self.out.push_back(BrokerOut::Close { conn });
                self.inbufs.remove(&conn);
                return;
            }
            self.out.push_back(BrokerOut::Transmit { conn, data: frame(&format!("A {seq} {offset}")) });
        }
    }
    fn closed(&mut self, _now: Instant, conn: u64) {
        self.inbufs.remove(&conn);
    }
    fn timeout(&mut self, _now: Instant) {}
    fn poll(&mut self) -> BrokerOut {
        self.out.pop_front().unwrap_or(BrokerOut::Timeout(None))
    }
    fn fault(&mut self, _now: Instant, fault: &BrokerFault) {
        match fault {
            BrokerFault::Spec(spec) if spec.contains("append_drop") || spec.contains("error_after") => {
                self.drop_next += 2
            }
            BrokerFault::Restart { .. } | BrokerFault::Down { .. } => self.inbufs.clear(),
            _ => {}
        }
    }
    fn quiescent(&self) -> bool {
        true
    }
    fn logs(&self) -> BTreeMap<(String, i32), Vec<LogEntry>> {
        self.logs.iter().map(|(p, l)| (("sim".to_string(), *p), l.clone())).collect()
    }
}
