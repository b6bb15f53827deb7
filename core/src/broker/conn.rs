//! One client connection to one broker: receive framing and the ordered response queue.
//!
//! Kafka answers the requests of a connection in the order they came, whatever each response
//! waits for. The queue holds every answer (or "close here", or a fetch still waiting for data)
//! in request order; only its front can go out, and only once its release time has come.

use crate::time::Instant;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// A connection handle chosen by the driver (one per accepted socket). Never reused while open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

/// A fetch waiting for data (Kafka's `max_wait_ms` long poll).
#[derive(Clone, Debug)]
pub(crate) struct WaitingFetch {
    /// The request body (after the header), kept to re-evaluate it.
    pub(crate) body: Vec<u8>,
    /// Request version.
    pub(crate) version: i16,
    /// Correlation id to answer with.
    pub(crate) correlation_id: i32,
    /// When to answer with whatever there is.
    pub(crate) deadline: Instant,
    /// Extra response delay (fault) applied once the fetch is answered.
    pub(crate) delay: crate::time::Duration,
}

/// A transactions v2 Produce held back because its transaction's coordinator was writing the
/// previous transaction's markers (Kafka 4 retries the implicit AddPartitionsToTxn on the
/// server, KAFKA-18654): evaluated again at `retry_at`, as a new request, until `give_up_at`.
/// The connection reads no further request meanwhile (Kafka mutes a connection until its
/// request is answered), so nothing overtakes it.
#[derive(Clone, Debug)]
pub(crate) struct ParkedProduce {
    /// The request body (after the header).
    pub(crate) body: Vec<u8>,
    /// Request version.
    pub(crate) version: i16,
    /// Correlation id to answer with.
    pub(crate) correlation_id: i32,
    /// When to evaluate it again.
    pub(crate) retry_at: Instant,
    /// From then on it is evaluated as it stands (CONCURRENT_TRANSACTIONS answered
    /// NOT_ENOUGH_REPLICAS).
    pub(crate) give_up_at: Instant,
}

/// One entry of the response queue.
#[derive(Clone, Debug)]
pub(crate) enum Pending {
    /// A whole response frame, to send at or after `at`.
    Ready { at: Instant, data: Vec<u8> },
    /// Close the connection when this entry is reached and `at` has come (append-then-drop).
    Drop { at: Instant },
    /// A fetch that waits for data.
    Fetch(WaitingFetch),
    /// A Produce held back (see [`ParkedProduce`]).
    Produce(ParkedProduce),
    /// A JoinGroup or SyncGroup the group coordinator parked (its answer replaces the entry).
    Group {
        /// The request's correlation id.
        correlation_id: i32,
    },
}

/// What the front of the queue allows now.
#[derive(Debug)]
pub(crate) enum Next {
    /// Send these bytes.
    Send(Vec<u8>),
    /// Close the connection.
    Close,
    /// Nothing can go out yet (see [`Connection::deadline`] for when to look again).
    Wait,
}

/// Per-connection state.
#[derive(Debug)]
pub(crate) struct Connection {
    /// The broker whose listener accepted the connection.
    pub(crate) broker_id: i32,
    /// Bytes received but not yet framed.
    pub(crate) recv: Vec<u8>,
    /// Answers in request order.
    pub(crate) queue: VecDeque<Pending>,
    /// Where the connection is in its SASL authentication (open when SASL is not required).
    pub(crate) auth: super::sasl::ConnAuth,
    /// Its TLS session, on a TLS listener.
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::tls::TlsSession>,
}

impl Connection {
    pub(crate) fn new(broker_id: i32, auth: super::sasl::ConnAuth) -> Self {
        Connection {
            broker_id,
            recv: Vec::new(),
            queue: VecDeque::new(),
            auth,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Pops the front entry if it may go out at `now`.
    pub(crate) fn next(&mut self, now: Instant) -> Next {
        match self.queue.front() {
            None | Some(Pending::Fetch(_)) | Some(Pending::Produce(_)) | Some(Pending::Group { .. }) => Next::Wait,
            Some(Pending::Ready { at, .. }) | Some(Pending::Drop { at }) if *at > now => Next::Wait,
            Some(_) => match self.queue.pop_front() {
                Some(Pending::Ready { data, .. }) => Next::Send(data),
                Some(Pending::Drop { .. }) => Next::Close,
                _ => Next::Wait,
            },
        }
    }

    /// Whether a parked Produce keeps the connection from reading further requests. While it
    /// is muted nothing is queued behind it, so the parked Produce is the last entry.
    pub(crate) fn is_muted(&self) -> bool {
        matches!(self.queue.back(), Some(Pending::Produce(_)))
    }

    /// The earliest time something in this queue needs attention: the front's release time, or
    /// any waiting fetch's deadline or parked Produce's retry.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        let front = match self.queue.front() {
            Some(Pending::Ready { at, .. }) | Some(Pending::Drop { at }) => Some(*at),
            _ => None,
        };
        let fetch = self
            .queue
            .iter()
            .filter_map(|p| match p {
                Pending::Fetch(f) => Some(f.deadline),
                Pending::Produce(p) => Some(p.retry_at),
                _ => None,
            })
            .min();
        match (front, fetch) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Duration;
    use alloc::vec;

    #[test]
    fn front_gates_the_rest() {
        let t = |ms| Instant::from_millis(ms);
        let mut c = Connection::new(1, Default::default());
        c.queue.push_back(Pending::Ready { at: t(10), data: vec![1] });
        c.queue.push_back(Pending::Ready { at: t(0), data: vec![2] });
        c.queue.push_back(Pending::Drop { at: t(0) });
        assert!(matches!(c.next(t(5)), Next::Wait));
        assert_eq!(c.deadline(), Some(t(10)));
        assert!(matches!(c.next(t(10)), Next::Send(d) if d == [1]));
        assert!(matches!(c.next(t(10)), Next::Send(d) if d == [2]));
        assert!(matches!(c.next(t(10)), Next::Close));
        assert!(matches!(c.next(t(10)), Next::Wait));
        c.queue.push_back(Pending::Fetch(WaitingFetch {
            body: vec![],
            version: 4,
            correlation_id: 1,
            deadline: t(500),
            delay: Duration::ZERO,
        }));
        assert!(matches!(c.next(t(1000)), Next::Wait));
        assert_eq!(c.deadline(), Some(t(500)));
    }
}
