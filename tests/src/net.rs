//! A seeded, deterministic network of ordered byte streams between one client (the producer)
//! and a set of brokers.
//!
//! Each connection has two directions. A direction delivers bytes in the order they were written,
//! cut into chunks of seeded sizes, each after a seeded latency (never earlier than the chunk
//! before it). The network can stall a direction (nothing is delivered until a given instant),
//! cut a connection (both ends see a disconnect at once, every byte in flight is lost), fail the
//! producer's end only (it sees a disconnect at once; what it wrote still arrives), and
//! refuses connections to brokers that are down. A side that closes its end stops reading: the
//! bytes it had written are still delivered, then the other side sees the disconnect (TCP sends
//! what was written before the FIN), so a request the producer timed out and closed can reach
//! the broker long after the producer moved on.
//!
//! Everything is ordered by `(instant, connection, direction)` and driven by one [`Rng`], so the
//! same seed and the same calls give the same deliveries, byte for byte.

use std::collections::{BTreeMap, VecDeque};

use idem_core::rand::Rng;
use idem_core::{Duration, Instant};

/// A connection's id in the network (the simulation maps it to producer and broker ids).
pub type NetConn = u64;

/// Latency and chunking parameters.
#[derive(Clone, Debug)]
pub struct NetConfig {
    /// Minimum one-way latency.
    pub min_latency: Duration,
    /// Maximum one-way latency (uniform between min and max).
    pub max_latency: Duration,
    /// Probability that a chunk gets an extra delay spike of up to `spike`.
    pub spike_chance: f64,
    /// Largest extra delay of a spike.
    pub spike: Duration,
    /// Largest chunk a write is cut into (at least 1).
    pub max_chunk: usize,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            min_latency: Duration::from_micros(100),
            max_latency: Duration::from_millis(3),
            spike_chance: 0.02,
            spike: Duration::from_millis(200),
            max_chunk: 4096,
        }
    }
}

/// Something the network delivers to one side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The producer's connect succeeded: the broker accepted it.
    Connected { conn: NetConn, broker: i32 },
    /// The producer's connect was refused (broker down) or its connection ended.
    ProducerDisconnected { conn: NetConn },
    /// Bytes for the producer.
    ToProducer { conn: NetConn, bytes: Vec<u8> },
    /// Bytes for the broker.
    ToBroker { conn: NetConn, broker: i32, bytes: Vec<u8> },
    /// The broker's end of the connection ended.
    BrokerDisconnected { conn: NetConn, broker: i32 },
}

#[derive(Debug)]
enum Segment {
    Data(Vec<u8>),
    Fin,
}

#[derive(Debug, Default)]
struct Pipe {
    queue: VecDeque<(Instant, Segment)>,
    last_at: Instant,
    hold_until: Instant,
    /// The receiving end is gone: drop everything.
    reader_gone: bool,
}

impl Pipe {
    fn due(&self) -> Option<Instant> {
        self.queue.front().map(|(at, _)| (*at).max(self.hold_until))
    }
}

#[derive(Debug)]
enum ConnState {
    /// Connect in progress; completes (or is refused) at the instant.
    Connecting(Instant),
    Open,
}

#[derive(Debug)]
struct Conn {
    broker: i32,
    state: ConnState,
    to_broker: Pipe,
    to_producer: Pipe,
    producer_open: bool,
    broker_open: bool,
}

/// The network. See the module documentation.
#[derive(Debug)]
pub struct Network {
    config: NetConfig,
    rng: Rng,
    next_conn: NetConn,
    conns: BTreeMap<NetConn, Conn>,
    /// Disconnect notices to hand out at once (cuts), in order.
    immediate: VecDeque<Delivery>,
    /// Brokers that refuse connections.
    down: std::collections::BTreeSet<i32>,
    /// Total bytes delivered (for reports).
    pub bytes_delivered: u64,
}

impl Network {
    /// A network with `config`, driven by `rng`.
    pub fn new(config: NetConfig, rng: Rng) -> Self {
        Network {
            config,
            rng,
            next_conn: 1,
            conns: BTreeMap::new(),
            immediate: VecDeque::new(),
            down: Default::default(),
            bytes_delivered: 0,
        }
    }

    fn latency(&mut self) -> Duration {
        let span = self.config.max_latency.as_micros().saturating_sub(self.config.min_latency.as_micros());
        let mut d = self.config.min_latency.as_micros() + self.rng.below(span + 1);
        if self.rng.chance(self.config.spike_chance) {
            d += self.rng.below(self.config.spike.as_micros() + 1);
        }
        Duration::from_micros(d)
    }

    /// Marks a broker down (connects are refused, existing connections are cut) or up.
    pub fn set_broker_down(&mut self, broker: i32, down: bool) {
        if down {
            self.down.insert(broker);
            let ids: Vec<NetConn> = self.conns.iter().filter(|(_, c)| c.broker == broker).map(|(id, _)| *id).collect();
            for id in ids {
                self.cut(id);
            }
        } else {
            self.down.remove(&broker);
        }
    }

    /// Whether `broker` is down.
    pub fn is_down(&self, broker: i32) -> bool {
        self.down.contains(&broker)
    }

    /// The producer opens a connection to `broker`; the result arrives later as
    /// [`Delivery::Connected`] or [`Delivery::ProducerDisconnected`].
    pub fn connect(&mut self, now: Instant, broker: i32) -> NetConn {
        let id = self.next_conn;
        self.next_conn += 1;
        let at = now + self.latency();
        let conn = Conn {
            broker,
            state: ConnState::Connecting(at),
            to_broker: Pipe { last_at: at, ..Pipe::default() },
            to_producer: Pipe { last_at: at, ..Pipe::default() },
            producer_open: true,
            broker_open: false,
        };
        self.conns.insert(id, conn);
        id
    }

    /// The producer's connect to an address no broker advertises: refused after a latency.
    pub fn connect_unknown(&mut self, now: Instant) -> NetConn {
        let id = self.connect(now, i32::MIN);
        self.down.insert(i32::MIN);
        id
    }

    fn write(&mut self, now: Instant, conn: NetConn, to_broker: bool, bytes: &[u8]) {
        let max_chunk = self.config.max_chunk.max(1);
        let mut chunks = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = if self.rng.chance(0.5) {
                rest.len().min(max_chunk)
            } else {
                1 + self.rng.below(rest.len().min(max_chunk) as u64) as usize
            };
            let (head, tail) = rest.split_at(n);
            chunks.push(head.to_vec());
            rest = tail;
        }
        for chunk in chunks {
            let lat = self.latency();
            let Some(c) = self.conns.get_mut(&conn) else { return };
            let pipe = if to_broker { &mut c.to_broker } else { &mut c.to_producer };
            if pipe.reader_gone {
                return;
            }
            let at = (now + lat).max(pipe.last_at);
            pipe.last_at = at;
            pipe.queue.push_back((at, Segment::Data(chunk)));
        }
    }

    /// The producer writes bytes (dropped if the connection is gone or not yet open).
    pub fn producer_write(&mut self, now: Instant, conn: NetConn, bytes: &[u8]) {
        match self.conns.get(&conn) {
            Some(c) if c.producer_open => self.write(now, conn, true, bytes),
            _ => {}
        }
    }

    /// The broker writes bytes.
    pub fn broker_write(&mut self, now: Instant, conn: NetConn, bytes: &[u8]) {
        match self.conns.get(&conn) {
            Some(c) if c.broker_open => self.write(now, conn, false, bytes),
            _ => {}
        }
    }

    fn close_side(&mut self, now: Instant, conn: NetConn, producer_side: bool) {
        let lat = self.latency();
        let Some(c) = self.conns.get_mut(&conn) else { return };
        if producer_side {
            if !c.producer_open {
                return;
            }
            c.producer_open = false;
            c.to_producer.queue.clear();
            c.to_producer.reader_gone = true;
            if matches!(c.state, ConnState::Connecting(_)) {
                // Never accepted: the broker never hears of it.
                self.conns.remove(&conn);
                return;
            }
            if c.broker_open {
                let at = (now + lat).max(c.to_broker.last_at);
                c.to_broker.last_at = at;
                c.to_broker.queue.push_back((at, Segment::Fin));
            }
        } else {
            if !c.broker_open {
                return;
            }
            c.broker_open = false;
            c.to_broker.queue.clear();
            c.to_broker.reader_gone = true;
            if c.producer_open {
                let at = (now + lat).max(c.to_producer.last_at);
                c.to_producer.last_at = at;
                c.to_producer.queue.push_back((at, Segment::Fin));
            }
        }
        if !c.producer_open && !c.broker_open {
            self.conns.remove(&conn);
        }
    }

    /// The producer closes its end.
    pub fn producer_close(&mut self, now: Instant, conn: NetConn) {
        self.close_side(now, conn, true);
    }

    /// The broker closes its end.
    pub fn broker_close(&mut self, now: Instant, conn: NetConn) {
        self.close_side(now, conn, false);
    }

    /// Cuts a connection: both open ends see a disconnect now; bytes in flight are lost.
    pub fn cut(&mut self, conn: NetConn) {
        let Some(c) = self.conns.remove(&conn) else { return };
        if c.producer_open {
            self.immediate.push_back(Delivery::ProducerDisconnected { conn });
        }
        if c.broker_open {
            self.immediate.push_back(Delivery::BrokerDisconnected { conn, broker: c.broker });
        }
    }

    /// The producer's end fails: it sees a disconnect at once; what it had written is still
    /// delivered to the broker (the bytes had left), then the broker sees the connection end.
    pub fn fail_producer_side(&mut self, now: Instant, conn: NetConn) {
        if self.conns.get(&conn).is_some_and(|c| c.producer_open) {
            self.immediate.push_back(Delivery::ProducerDisconnected { conn });
            self.close_side(now, conn, true);
        }
    }

    /// Stalls one direction of a connection until `until` (bytes queue up, order kept).
    pub fn stall(&mut self, conn: NetConn, to_broker: bool, until: Instant) {
        if let Some(c) = self.conns.get_mut(&conn) {
            let pipe = if to_broker { &mut c.to_broker } else { &mut c.to_producer };
            pipe.hold_until = pipe.hold_until.max(until);
        }
    }

    /// Ids of live connections, in order.
    pub fn conns(&self) -> Vec<NetConn> {
        self.conns.keys().copied().collect()
    }

    /// Whether nothing is in flight and no connection is open.
    pub fn is_idle(&self) -> bool {
        self.immediate.is_empty()
            && self.conns.values().all(|c| {
                c.to_broker.queue.is_empty()
                    && c.to_producer.queue.is_empty()
                    && !matches!(c.state, ConnState::Connecting(_))
            })
    }

    /// The earliest instant something is due, if anything is pending.
    pub fn next_deadline(&self) -> Option<Instant> {
        if !self.immediate.is_empty() {
            return Some(Instant::ZERO);
        }
        self.conns
            .values()
            .flat_map(|c| {
                let connect = match c.state {
                    ConnState::Connecting(at) => Some(at),
                    ConnState::Open => None,
                };
                [connect, c.to_broker.due(), c.to_producer.due()]
            })
            .flatten()
            .min()
    }

    /// The next delivery due at or before `now`, if any (earliest first, ties by connection id,
    /// then broker-bound before producer-bound).
    pub fn poll(&mut self, now: Instant) -> Option<Delivery> {
        if let Some(d) = self.immediate.pop_front() {
            return Some(d);
        }
        let mut best: Option<(Instant, NetConn, u8)> = None;
        for (id, c) in &self.conns {
            let cands = [
                match c.state {
                    ConnState::Connecting(at) => Some((at, 0u8)),
                    ConnState::Open => None,
                },
                c.to_broker.due().map(|at| (at, 1)),
                c.to_producer.due().map(|at| (at, 2)),
            ];
            for (at, kind) in cands.into_iter().flatten() {
                if at <= now && best.is_none_or(|b| (at, *id, kind) < b) {
                    best = Some((at, *id, kind));
                }
            }
        }
        let (_, id, kind) = best?;
        let down = self.conns.get(&id).is_some_and(|c| self.down.contains(&c.broker));
        let c = self.conns.get_mut(&id)?;
        match kind {
            0 => {
                if down {
                    self.conns.remove(&id);
                    return Some(Delivery::ProducerDisconnected { conn: id });
                }
                c.state = ConnState::Open;
                c.broker_open = true;
                Some(Delivery::Connected { conn: id, broker: c.broker })
            }
            1 => match c.to_broker.queue.pop_front() {
                Some((_, Segment::Data(bytes))) => {
                    self.bytes_delivered += bytes.len() as u64;
                    Some(Delivery::ToBroker { conn: id, broker: c.broker, bytes })
                }
                Some((_, Segment::Fin)) => {
                    let broker = c.broker;
                    c.broker_open = false;
                    c.to_producer.queue.clear();
                    self.conns.remove(&id);
                    Some(Delivery::BrokerDisconnected { conn: id, broker })
                }
                None => None,
            },
            _ => match c.to_producer.queue.pop_front() {
                Some((_, Segment::Data(bytes))) => {
                    self.bytes_delivered += bytes.len() as u64;
                    Some(Delivery::ToProducer { conn: id, bytes })
                }
                Some((_, Segment::Fin)) => {
                    c.producer_open = false;
                    c.to_broker.queue.clear();
                    self.conns.remove(&id);
                    Some(Delivery::ProducerDisconnected { conn: id })
                }
                None => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(net: &mut Network, until: Instant) -> Vec<Delivery> {
        let mut out = Vec::new();
        while let Some(at) = net.next_deadline() {
            if at > until {
                break;
            }
            while let Some(d) = net.poll(at.max(Instant::ZERO)) {
                out.push(d);
            }
        }
        out
    }

    fn bytes_to_broker(ds: &[Delivery]) -> Vec<u8> {
        ds.iter()
            .filter_map(|d| if let Delivery::ToBroker { bytes, .. } = d { Some(bytes.clone()) } else { None })
            .flatten()
            .collect()
    }

    #[test]
    fn ordered_chunked_delivery() {
        let mut net = Network::new(NetConfig { max_chunk: 7, ..NetConfig::default() }, Rng::new(5));
        let c = net.connect(Instant::ZERO, 1);
        let ds = drain(&mut net, Instant::from_millis(1000));
        assert_eq!(ds, vec![Delivery::Connected { conn: c, broker: 1 }]);
        let data: Vec<u8> = (0..=255).collect();
        net.producer_write(Instant::from_millis(1000), c, &data[..100]);
        net.producer_write(Instant::from_millis(1000), c, &data[100..]);
        let ds = drain(&mut net, Instant::from_secs_for_test(10));
        assert!(ds.len() > 2);
        assert_eq!(bytes_to_broker(&ds), data);
    }

    #[test]
    fn cut_loses_bytes_and_notifies_both() {
        let mut net = Network::new(NetConfig::default(), Rng::new(9));
        let c = net.connect(Instant::ZERO, 2);
        drain(&mut net, Instant::from_millis(100));
        net.producer_write(Instant::from_millis(100), c, b"hello");
        net.cut(c);
        let ds = drain(&mut net, Instant::from_secs_for_test(10));
        assert_eq!(
            ds,
            vec![Delivery::ProducerDisconnected { conn: c }, Delivery::BrokerDisconnected { conn: c, broker: 2 }]
        );
        assert!(net.is_idle());
    }

    #[test]
    fn down_broker_refuses_and_stall_holds() {
        let mut net = Network::new(NetConfig::default(), Rng::new(1));
        net.set_broker_down(3, true);
        let c = net.connect(Instant::ZERO, 3);
        assert_eq!(drain(&mut net, Instant::from_millis(1000)), vec![Delivery::ProducerDisconnected { conn: c }]);
        net.set_broker_down(3, false);
        let c = net.connect(Instant::from_millis(1000), 3);
        drain(&mut net, Instant::from_millis(2000));
        net.stall(c, true, Instant::from_millis(5000));
        net.producer_write(Instant::from_millis(2000), c, b"x");
        assert!(drain(&mut net, Instant::from_millis(4999)).is_empty());
        assert_eq!(bytes_to_broker(&drain(&mut net, Instant::from_millis(5000))), b"x");
    }

    #[test]
    fn close_delivers_written_bytes_then_fin() {
        let mut net = Network::new(NetConfig::default(), Rng::new(2));
        let c = net.connect(Instant::ZERO, 1);
        drain(&mut net, Instant::from_millis(100));
        net.producer_write(Instant::from_millis(100), c, b"abc");
        net.producer_close(Instant::from_millis(100), c);
        net.broker_write(Instant::from_millis(100), c, b"lost");
        let ds = drain(&mut net, Instant::from_secs_for_test(10));
        assert_eq!(bytes_to_broker(&ds), b"abc");
        assert_eq!(ds.last(), Some(&Delivery::BrokerDisconnected { conn: c, broker: 1 }));
        assert!(!ds.iter().any(|d| matches!(d, Delivery::ToProducer { .. })));
    }

    /// A request written, then held (a stalled path), then its connection closed by the
    /// producer (request timeout): the broker still gets every byte, later, then the FIN; the
    /// producer hears nothing more on it.
    #[test]
    fn bytes_of_a_closed_connection_still_reach_the_broker_after_a_stall() {
        let mut net = Network::new(NetConfig::default(), Rng::new(3));
        let c = net.connect(Instant::ZERO, 1);
        drain(&mut net, Instant::from_millis(100));
        net.stall(c, true, Instant::from_millis(5000));
        net.producer_write(Instant::from_millis(100), c, b"request");
        net.producer_close(Instant::from_millis(1100), c);
        net.broker_write(Instant::from_millis(1100), c, b"late answer");
        assert!(drain(&mut net, Instant::from_millis(4999)).is_empty(), "nothing before the stall ends");
        let ds = drain(&mut net, Instant::from_secs_for_test(10));
        assert_eq!(bytes_to_broker(&ds), b"request");
        assert_eq!(ds.last(), Some(&Delivery::BrokerDisconnected { conn: c, broker: 1 }));
        assert!(!ds.iter().any(|d| matches!(d, Delivery::ToProducer { .. } | Delivery::ProducerDisconnected { .. })));
        assert!(net.is_idle());
    }

    #[test]
    fn a_failed_producer_side_still_delivers_what_it_wrote() {
        let mut net = Network::new(NetConfig::default(), Rng::new(4));
        let c = net.connect(Instant::ZERO, 2);
        drain(&mut net, Instant::from_millis(100));
        net.producer_write(Instant::from_millis(100), c, b"request");
        net.fail_producer_side(Instant::from_millis(100), c);
        net.producer_write(Instant::from_millis(100), c, b"after");
        let ds = drain(&mut net, Instant::from_secs_for_test(10));
        assert_eq!(ds.first(), Some(&Delivery::ProducerDisconnected { conn: c }));
        assert_eq!(bytes_to_broker(&ds), b"request");
        assert_eq!(ds.last(), Some(&Delivery::BrokerDisconnected { conn: c, broker: 2 }));
        assert_eq!(ds.iter().filter(|d| matches!(d, Delivery::ProducerDisconnected { .. })).count(), 1);
    }

    trait ForTest {
        fn from_secs_for_test(s: u64) -> Instant;
    }
    impl ForTest for Instant {
        fn from_secs_for_test(s: u64) -> Instant {
            Instant::from_millis(s * 1000)
        }
    }
}
