//! The producer's identity in the drive loop (the rules are in `idempotence.rs`): once a new
//! identity is due and every partition is drained, bump the epoch on the client or ask
//! InitProducerId for a fresh id; adopt the answer and renumber every partition.

use super::Producer;
use super::agenda::PartKey;
use super::conn::RequestKind;
use super::diagnostic::{BumpReason, DiagnosticKind, IdentitySource};
use super::idempotence::{PidOutcome, PidState};
use super::report::FatalError;
use super::transaction::AbortableError;
use crate::debug::DebugContext;
use crate::proto::init_producer_id::InitProducerIdResponse;
use crate::proto::{self, ApiKey, ErrorCode};
use crate::time::Instant;

impl<T> Producer<T> {
    /// Whether every partition has nothing in flight and nothing of unknown outcome (reporting
    /// what finished on the way).
    pub(super) fn all_drained(&mut self) -> bool {
        let mut drained = true;
        if self.for_each_partition(|p, sink| drained &= p.drained(sink)) {
            self.agenda.list_all();
        }
        drained
    }

    /// Moves to a new producer identity once it is due and every partition is drained: the
    /// next epoch on the client when possible, else an InitProducerId request for a fresh id.
    pub(super) fn advance_producer_id(&mut self, now: Instant) {
        if !self.pid.due(now) || !self.all_drained() {
            return;
        }
        let previous = self.producer_id();
        if let Some(outcome) = self.pid.bump_locally() {
            self.adopt_producer_id(outcome, previous, IdentitySource::Client);
            return;
        }
        let Some(conn) = self.control_conn(now) else { return };
        let Some(version) = self.conns.get(conn).and_then(|c| c.versions()).and_then(|v| v.init_producer_id) else {
            self.fail_fatal(FatalError::UnsupportedBroker { api_key: ApiKey::InitProducerId.as_i16() });
            return;
        };
        let req = self.pid.request();
        let timeout = self.config.request_timeout;
        match self.conns.request(conn, version, &req, RequestKind::InitProducerId, now, timeout) {
            Ok(data) => self.transmit(conn, data),
            Err(_) => self.producer_id_lost(),
        }
    }

    /// Asks for a bump (drain first) because partition `key` needs one for `reason`; says so
    /// when it starts one.
    pub(super) fn request_bump(&mut self, key: PartKey, reason: Option<BumpReason>) {
        if !self.pid.request_bump() {
            return;
        }
        // A transactional producer's bump comes from the coordinator, after the abort (KIP-360).
        self.txn_abortable(AbortableError::EpochBumpNeeded(reason));
        self.bump_cause = reason.map(|r| (key, r));
        if self.debugging(DebugContext::Eos) {
            if let Some(cause) = self.bump_cause() {
                let (producer_id, epoch) = (self.pid.producer_id, self.pid.epoch);
                self.diagnose(DiagnosticKind::BumpNeeded { producer_id, epoch, cause });
            }
        }
    }

    /// The outstanding InitProducerId request was lost (or could not be encoded): asked again
    /// after the backoff.
    pub(super) fn producer_id_lost(&mut self) {
        let now = self.now;
        let at = self.retry_backoff.next_at(now, self.pid.failures, &mut self.rng);
        let requesting = self.pid.state == PidState::Requesting;
        self.pid.on_lost(at);
        if requesting && self.debugging(DebugContext::Eos) {
            self.diagnose(DiagnosticKind::ProducerIdRetry { error: None, backoff: at - now });
        }
    }

    /// Adopts a new producer identity from `source` replacing `previous`: every partition is
    /// renumbered, from sequence 0 after a bump.
    pub(super) fn adopt_producer_id(
        &mut self,
        outcome: PidOutcome,
        previous: Option<(i64, i16)>,
        source: IdentitySource,
    ) {
        match outcome {
            PidOutcome::Adopt { producer_id, epoch, bumped } => {
                self.metrics.epoch_bumps += u64::from(bumped);
                if self.debugging(DebugContext::Eos) {
                    let cause = self.bump_cause();
                    self.diagnose(DiagnosticKind::ProducerId { producer_id, epoch, previous, source, cause });
                }
                self.bump_cause = None;
                let first = if bumped { 0 } else { self.first_sequence };
                self.agenda.list_all();
                for ts in &mut self.topics {
                    for p in &mut ts.partitions {
                        p.renumber_from(producer_id, epoch, true, first, &mut self.sealer);
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
            self.producer_id_lost();
            return false;
        };
        let previous = self.producer_id();
        let at = self.retry_backoff.next_at(now, self.pid.failures, &mut self.rng);
        let outcome = self.pid.on_response(&r, at);
        if outcome == PidOutcome::Retry && self.debugging(DebugContext::Eos) {
            let error = Some(ErrorCode(r.error_code));
            self.diagnose(DiagnosticKind::ProducerIdRetry { error, backoff: at - now });
        }
        self.adopt_producer_id(outcome, previous, IdentitySource::InitProducerId);
        true
    }
}
