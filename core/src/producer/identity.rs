//! The producer's identity in the drive loop (the rules are in `idempotence.rs`): once a new
//! identity is due and every partition is drained, bump the epoch on the client or ask
//! InitProducerId for a fresh id; adopt the answer and renumber every partition.

use super::conn::RequestKind;
use super::idempotence::PidOutcome;
use super::report::FatalError;
use super::{Output, Producer};
use crate::proto::init_producer_id::InitProducerIdResponse;
use crate::proto::{self, ApiKey};
use crate::time::Instant;

impl Producer {
    /// Whether every partition has nothing in flight and nothing of unknown outcome (reporting
    /// what finished on the way).
    fn all_drained(&mut self) -> bool {
        let mut drained = true;
        self.for_each_partition(|p, sink| drained &= p.drained(&mut |c| sink(c)));
        drained
    }

    /// Moves to a new producer identity once it is due and every partition is drained: the
    /// next epoch on the client when possible, else an InitProducerId request for a fresh id.
    pub(super) fn advance_producer_id(&mut self, now: Instant) {
        if !self.pid.due(now) || !self.all_drained() {
            return;
        }
        if let Some(outcome) = self.pid.bump_locally() {
            self.adopt_producer_id(outcome);
            return;
        }
        let Some(conn) = self.control_conn(now) else { return };
        let Some(version) = self.conns.get(conn).and_then(|c| c.versions()).and_then(|v| v.init_producer_id) else {
            self.fail_fatal(FatalError::UnsupportedBroker { api_key: ApiKey::InitProducerId.as_i16() });
            return;
        };
        let req = self.pid.request();
        let deadline = now + self.config.request_timeout;
        match self.conns.request(conn, version, &req, RequestKind::InitProducerId, deadline) {
            Ok(data) => self.out.push_back(Output::Transmit { conn, data }),
            Err(_) => {
                let at = self.retry_backoff.next_at(now, self.pid.failures, &mut self.rng);
                self.pid.on_lost(at);
            }
        }
    }

    /// Adopts a new producer identity (from the broker or a local bump): every partition is
    /// renumbered, from sequence 0 after a bump.
    pub(super) fn adopt_producer_id(&mut self, outcome: PidOutcome) {
        match outcome {
            PidOutcome::Adopt { producer_id, epoch, bumped } => {
                self.metrics.epoch_bumps += u64::from(bumped);
                let first = if bumped { 0 } else { self.first_sequence };
                for ts in &mut self.topics {
                    for p in &mut ts.partitions {
                        p.renumber_from(producer_id, epoch, true, first);
                    }
                }
            }
            PidOutcome::Retry => {}
            PidOutcome::Fatal(code) => self.fail_fatal(FatalError::Broker(code)),
        }
    }

    /// Applies an InitProducerId answer (a new identity, a retry or a fatal error). False if it
    /// is garbage.
    pub(super) fn on_init_producer_id_response(&mut self, body: &[u8], version: i16) -> bool {
        let now = self.now;
        let Ok((_, r)) = proto::decode_response_lenient::<InitProducerIdResponse>(body, version) else {
            let at = self.retry_backoff.next_at(now, self.pid.failures, &mut self.rng);
            self.pid.on_lost(at);
            return false;
        };
        let at = self.retry_backoff.next_at(now, self.pid.failures, &mut self.rng);
        let outcome = self.pid.on_response(&r, at);
        self.adopt_producer_id(outcome);
        true
    }
}
