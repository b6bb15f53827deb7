//! Tests only: the transport between clients (producers, consumers) and the in-memory cluster
//! in virtual time, shared by the clients' test worlds. Bytes travel whole and in order, one
//! fact per step; a test may hold back requests of one API, corrupt answers, or cut
//! connections at random (both ends see the end, what was in flight on it is lost).

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;

use crate::broker::{self, BrokerInput, BrokerOutput, Cluster};
use crate::producer::{ConnId, Input, Payload};
use crate::proto::ApiKey;
use crate::rand::Rng;
use crate::time::Instant;

/// What travels: a connection opening (to a broker), bytes, a connection ending.
#[derive(Debug)]
pub(crate) enum Wire {
    Open(i32),
    Bytes(Vec<u8>),
    Gone,
}

/// What one step of the wires did.
#[derive(Debug)]
pub(crate) enum Moved {
    /// Something reached the cluster.
    ToCluster,
    /// Something is for client `client`'s connection `conn` (see [`Wires::input`]).
    ToClient { client: usize, conn: ConnId, wire: Wire },
    /// Client `client`'s connection `conn` was cut (the cluster has seen it).
    Cut { client: usize, conn: ConnId },
    /// Nothing on the wires.
    Idle,
}

/// The transport (see the module documentation).
pub(crate) struct Wires {
    pub(crate) now: Instant,
    pub(crate) cluster: Cluster,
    to_cluster: VecDeque<(u64, Wire)>,
    to_clients: VecDeque<(u64, Wire)>,
    /// Requests delivered to the cluster, per client, API key and version.
    sent: BTreeMap<(usize, i16, i16), usize>,
    /// Requests of this API are held back (not delivered) while set.
    pub(crate) hold: Option<ApiKey>,
    pub(crate) held: Vec<(u64, Wire)>,
    /// Flip a bit of an answer to clients from `corrupt_from` on with this probability.
    pub(crate) corrupt: f64,
    pub(crate) corrupt_from: usize,
    /// Per step, the chance that one open connection is cut.
    pub(crate) cut: f64,
    /// Connections cut so far.
    pub(crate) cuts: usize,
    open: BTreeSet<u64>,
    rng: Rng,
}

/// The global id of client `k`'s connection `c`.
pub(crate) fn global(k: usize, c: ConnId) -> u64 {
    ((k as u64) << 32) | c.0
}

/// The client and its connection of a global id.
fn local(id: u64) -> (usize, ConnId) {
    ((id >> 32) as usize, ConnId(id & 0xffff_ffff))
}

impl Wires {
    /// Wires to `cluster`, their faults drawn from `seed`.
    pub(crate) fn new(cluster: Cluster, seed: u64) -> Wires {
        Wires {
            now: Instant::ZERO,
            cluster,
            to_cluster: VecDeque::new(),
            to_clients: VecDeque::new(),
            sent: BTreeMap::new(),
            hold: None,
            held: Vec::new(),
            corrupt: 0.0,
            corrupt_from: 0,
            cut: 0.0,
            cuts: 0,
            open: BTreeSet::new(),
            rng: Rng::new(seed ^ 0x7f4a),
        }
    }

    /// Client `k` asks for a connection to `host` (`b<broker id>`).
    pub(crate) fn connect(&mut self, k: usize, conn: ConnId, host: &str) {
        let broker = host.trim_start_matches('b').parse().unwrap_or(-1);
        self.to_cluster.push_back((global(k, conn), Wire::Open(broker)));
    }

    /// Client `k` writes on `conn`.
    pub(crate) fn transmit(&mut self, k: usize, conn: ConnId, data: &Payload) {
        self.to_cluster.push_back((global(k, conn), Wire::Bytes(data.to_vec())));
    }

    /// Client `k` closes `conn`.
    pub(crate) fn close(&mut self, k: usize, conn: ConnId) {
        self.to_cluster.push_back((global(k, conn), Wire::Gone));
    }

    /// Takes the cluster's outputs onto the wires; returns its next deadline.
    pub(crate) fn drain_cluster(&mut self) -> Option<Instant> {
        loop {
            match self.cluster.poll_output() {
                BrokerOutput::Transmit { conn, data } => self.to_clients.push_back((conn.0, Wire::Bytes(data))),
                BrokerOutput::Close { conn } => self.to_clients.push_back((conn.0, Wire::Gone)),
                BrokerOutput::Timeout(t) => return t,
                _ => {}
            }
        }
    }

    /// Requests of `api` delivered from clients `clients` selects.
    pub(crate) fn sent(&self, api: ApiKey, clients: impl Fn(usize) -> bool) -> usize {
        self.sent.iter().filter(|((k, key, _), _)| *key == api.as_i16() && clients(*k)).map(|(_, n)| *n).sum()
    }

    /// The versions of `api` delivered from any client.
    pub(crate) fn sent_versions(&self, api: ApiKey) -> BTreeSet<i16> {
        self.sent.keys().filter(|(_, key, _)| *key == api.as_i16()).map(|(_, _, v)| *v).collect()
    }

    /// Delivers the requests held back, and holds no more.
    pub(crate) fn release(&mut self) {
        self.hold = None;
        for h in core::mem::take(&mut self.held).into_iter().rev() {
            self.to_cluster.push_front(h);
        }
    }

    /// Moves one fact: a cut (at random), the next thing for the cluster, or the next thing
    /// for a client.
    pub(crate) fn step(&mut self) -> Moved {
        let now = self.now;
        if self.cut > 0.0 && !self.open.is_empty() && self.rng.chance(self.cut) {
            if let Some(&id) = self.open.iter().nth(self.rng.below(self.open.len() as u64) as usize) {
                self.open.remove(&id);
                self.cuts += 1;
                self.to_cluster.retain(|(c, _)| *c != id);
                self.to_clients.retain(|(c, _)| *c != id);
                self.cluster.handle_input(BrokerInput::Closed { now, conn: broker::ConnId(id) });
                let (client, conn) = local(id);
                return Moved::Cut { client, conn };
            }
        }
        if let Some((id, wire)) = self.to_cluster.pop_front() {
            let conn = broker::ConnId(id);
            match wire {
                Wire::Open(b) => {
                    self.cluster.handle_input(BrokerInput::Accepted { now, conn, broker_id: b });
                    self.to_clients.push_back((id, Wire::Open(b)));
                    self.open.insert(id);
                }
                Wire::Bytes(bytes) => {
                    let key = i16::from_be_bytes([bytes[4], bytes[5]]);
                    let version = i16::from_be_bytes([bytes[6], bytes[7]]);
                    if self.hold.is_some_and(|h| h.as_i16() == key) {
                        self.held.push((id, Wire::Bytes(bytes)));
                        return Moved::ToCluster;
                    }
                    *self.sent.entry((local(id).0, key, version)).or_default() += 1;
                    self.cluster.handle_input(BrokerInput::Received { now, conn, bytes: &bytes })
                }
                Wire::Gone => {
                    self.open.remove(&id);
                    self.cluster.handle_input(BrokerInput::Closed { now, conn })
                }
            }
            return Moved::ToCluster;
        }
        let Some((id, mut wire)) = self.to_clients.pop_front() else { return Moved::Idle };
        let (client, conn) = local(id);
        match &mut wire {
            Wire::Gone => {
                self.open.remove(&id);
            }
            Wire::Bytes(bytes)
                if client >= self.corrupt_from
                    && self.corrupt > 0.0
                    && !bytes.is_empty()
                    && self.rng.chance(self.corrupt) =>
            {
                let at = self.rng.below(bytes.len() as u64) as usize;
                bytes[at] ^= 1 << self.rng.below(8);
            }
            _ => {}
        }
        Moved::ToClient { client, conn, wire }
    }

    /// Time moves to `deadline` (never back); the cluster's timers run. The clients' are the
    /// caller's.
    pub(crate) fn advance(&mut self, deadline: Instant) {
        self.now = self.now.max(deadline);
        self.cluster.handle_input(BrokerInput::Timeout(self.now));
    }

    /// The input a client gets for `wire` on `conn`, now.
    pub(crate) fn input<'a>(&self, conn: ConnId, wire: &'a Wire) -> Input<'a> {
        let now = self.now;
        match wire {
            Wire::Open(_) => Input::Connected { now, conn },
            Wire::Bytes(b) => Input::Received { now, conn, bytes: b },
            Wire::Gone => Input::Disconnected { now, conn },
        }
    }
}
