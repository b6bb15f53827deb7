//! Producer id and epoch: InitProducerId before the first Produce, epoch bumps, new ids.
//!
//! Drain and bump: when a partition leaves a sequence gap or the broker disagrees about
//! sequences, the producer stops starting new batches everywhere, lets every batch of unknown
//! outcome resolve (acknowledged, or given up as possibly persisted), and only then moves to a
//! new epoch. Nothing is renumbered while any outcome is unknown; after the bump every partition
//! restarts at sequence 0 (KAFKA-12152).
//!
//! The bump happens on the client, as the Java client's
//! `TransactionManager.bumpIdempotentProducerEpoch` does it: same producer id, epoch + 1, no
//! request. Kafka answers every InitProducerId without a transactional id with a *fresh*
//! producer id at epoch 0 (`TransactionCoordinator.handleInitProducerId`), and a fresh id fences
//! nothing: a request of the old id still on the wire (written to a connection that was then
//! closed) would be appended after the new id's records. A newer epoch of the same id does fence
//! it: the broker accepts the new epoch from sequence 0 and from then on refuses the old epoch
//! on that partition (INVALID_PRODUCER_EPOCH). A fresh id is requested only for the first
//! identity and when the epoch is exhausted ([`LAST_EPOCH`]).

use crate::proto::ErrorCode;
use crate::proto::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse, LAST_EPOCH};
use crate::time::Instant;

/// Errors that end the producer: it is not allowed to produce idempotently, or was fenced.
fn is_fatal(code: ErrorCode) -> bool {
    use ErrorCode as E;
    matches!(code, E::CLUSTER_AUTHORIZATION_FAILED | E::TRANSACTIONAL_ID_AUTHORIZATION_FAILED | E::PRODUCER_FENCED)
}

/// Where the producer id stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PidState {
    /// No id yet, or a bump is wanted: a request is due once drained (see `retry_at`).
    Needed,
    /// A request is outstanding.
    Requesting,
    /// Usable.
    Ready,
}

/// What a response did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PidOutcome {
    /// A new id/epoch to adopt: renumber every partition.
    Adopt {
        /// Producer id.
        producer_id: i64,
        /// Epoch.
        epoch: i16,
        /// Whether this replaced an earlier identity (a bump or a new id).
        bumped: bool,
    },
    /// Try again after a backoff.
    Retry,
    /// Stop the producer.
    Fatal(ErrorCode),
}

/// The producer identity machine.
#[derive(Clone, Debug)]
pub(crate) struct Idempotence {
    /// Current producer id (-1 before the first).
    pub(crate) producer_id: i64,
    /// Current epoch (-1 before the first).
    pub(crate) epoch: i16,
    /// State.
    pub(crate) state: PidState,
    /// Earliest next request.
    pub(crate) retry_at: Option<Instant>,
    /// Consecutive failed requests (backoff exponent).
    pub(crate) failures: u32,
}

impl Default for Idempotence {
    fn default() -> Self {
        Self::new()
    }
}

impl Idempotence {
    /// No id yet; one is needed.
    pub(crate) fn new() -> Self {
        Idempotence { producer_id: -1, epoch: -1, state: PidState::Needed, retry_at: None, failures: 0 }
    }

    /// Whether Produce may carry new sequences now.
    pub(crate) fn is_ready(&self) -> bool {
        self.state == PidState::Ready
    }

    /// Asks for a bump (drain first): the next epoch of the current id, or a fresh id when that
    /// cannot be had. A broker that answers INVALID_PRODUCER_EPOCH holds a newer epoch of our id
    /// than ours; bumping again walks past it (each bump waits for a drain), and an exhausted
    /// epoch asks for a fresh id. No-op if one is already pending. Returns whether this asked.
    pub(crate) fn request_bump(&mut self) -> bool {
        let ready = self.state == PidState::Ready;
        if ready {
            self.state = PidState::Needed;
            self.retry_at = None;
        }
        ready
    }

    /// Whether a request should be sent at `now` (the caller also checks that all partitions
    /// are drained).
    pub(crate) fn due(&self, now: Instant) -> bool {
        self.state == PidState::Needed && self.retry_at.is_none_or(|t| t <= now)
    }

    /// A due bump that needs no request: the next epoch of the current id. Returns the new
    /// identity (now `Ready`), or `None` when a fresh id must be requested (no id yet, or the
    /// epoch exhausted). Call only when [`Idempotence::due`] and drained.
    pub(crate) fn bump_locally(&mut self) -> Option<PidOutcome> {
        if self.producer_id < 0 || self.epoch < 0 || self.epoch >= LAST_EPOCH {
            return None;
        }
        self.epoch += 1;
        self.state = PidState::Ready;
        self.retry_at = None;
        self.failures = 0;
        Some(PidOutcome::Adopt { producer_id: self.producer_id, epoch: self.epoch, bumped: true })
    }

    /// Adopts an identity a transaction coordinator gave (InitProducerId with a transactional
    /// id): usable from now on.
    pub(crate) fn adopt(&mut self, producer_id: i64, epoch: i16) {
        self.producer_id = producer_id;
        self.epoch = epoch;
        self.state = PidState::Ready;
        self.retry_at = None;
        self.failures = 0;
    }

    /// The request for a fresh producer id; marks it outstanding. (InitProducerId v3+ can carry
    /// the current id and epoch, but Kafka reads them only with a transactional id.)
    pub(crate) fn request(&mut self) -> InitProducerIdRequest<'static> {
        self.state = PidState::Requesting;
        InitProducerIdRequest {
            transactional_id: None,
            transaction_timeout_ms: -1, // ignored without a transactional id (librdkafka sends -1)
            producer_id: -1,
            producer_epoch: -1,
        }
    }

    /// The outstanding request was lost (disconnect, timeout, garbage): it will be sent again.
    pub(crate) fn on_lost(&mut self, retry_at: Instant) {
        if self.state == PidState::Requesting {
            self.state = PidState::Needed;
            self.retry_at = Some(retry_at);
            self.failures = self.failures.saturating_add(1);
        }
    }

    /// Applies a response; `retry_at` is when to try again on a retriable error.
    pub(crate) fn on_response(&mut self, r: &InitProducerIdResponse, retry_at: Instant) -> PidOutcome {
        if self.state != PidState::Requesting {
            return PidOutcome::Retry;
        }
        match ErrorCode(r.error_code) {
            ErrorCode::NONE if r.producer_id >= 0 && r.producer_epoch >= 0 => {
                let bumped = self.producer_id >= 0;
                self.producer_id = r.producer_id;
                self.epoch = r.producer_epoch;
                self.state = PidState::Ready;
                self.retry_at = None;
                self.failures = 0;
                PidOutcome::Adopt { producer_id: r.producer_id, epoch: r.producer_epoch, bumped }
            }
            code if is_fatal(code) => PidOutcome::Fatal(code),
            _ => {
                // Coordinator loading or moving, timeouts, a malformed success: asked again
                // (always for a fresh id) after the backoff.
                self.state = PidState::Needed;
                self.retry_at = Some(retry_at);
                self.failures = self.failures.saturating_add(1);
                PidOutcome::Retry
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(id: i64, epoch: i16) -> InitProducerIdResponse {
        InitProducerIdResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::NONE.0,
            producer_id: id,
            producer_epoch: epoch,
        }
    }

    #[test]
    fn init_local_bumps_and_exhaustion() {
        let mut p = Idempotence::new();
        assert!(p.due(Instant::ZERO) && !p.is_ready());
        assert_eq!(p.bump_locally(), None, "no id yet: ask the broker");
        let r = p.request();
        assert_eq!((r.producer_id, r.producer_epoch), (-1, -1));
        assert!(!p.due(Instant::ZERO));
        assert_eq!(
            p.on_response(&ok(7, 0), Instant::ZERO),
            PidOutcome::Adopt { producer_id: 7, epoch: 0, bumped: false }
        );
        assert!(p.is_ready());
        assert!(p.request_bump());
        assert!(!p.request_bump(), "already pending");
        assert!(!p.is_ready() && p.due(Instant::ZERO));
        assert_eq!(p.bump_locally(), Some(PidOutcome::Adopt { producer_id: 7, epoch: 1, bumped: true }));
        assert!(p.is_ready());
        // Exhausted epoch: a fresh id from the broker.
        p.epoch = LAST_EPOCH - 1;
        p.request_bump();
        assert_eq!(p.bump_locally(), Some(PidOutcome::Adopt { producer_id: 7, epoch: LAST_EPOCH, bumped: true }));
        p.request_bump();
        assert_eq!(p.bump_locally(), None);
        let r = p.request();
        assert_eq!((r.producer_id, r.producer_epoch), (-1, -1));
        assert_eq!(
            p.on_response(&ok(8, 0), Instant::ZERO),
            PidOutcome::Adopt { producer_id: 8, epoch: 0, bumped: true }
        );
    }

    #[test]
    fn errors() {
        let mut p = Idempotence::new();
        p.request();
        let t = Instant::from_millis(100);
        let e = InitProducerIdResponse { error_code: ErrorCode::COORDINATOR_NOT_AVAILABLE.0, ..Default::default() };
        assert_eq!(p.on_response(&e, t), PidOutcome::Retry);
        assert!(!p.due(Instant::from_millis(99)) && p.due(t));
        p.request();
        p.on_lost(t);
        assert_eq!(p.state, PidState::Needed);
        p.request();
        let e = InitProducerIdResponse { error_code: ErrorCode::PRODUCER_FENCED.0, ..Default::default() };
        assert_eq!(p.on_response(&e, t), PidOutcome::Fatal(ErrorCode::PRODUCER_FENCED));
    }

    #[test]
    fn a_failed_first_request_is_asked_again() {
        let mut p = Idempotence::new();
        p.request();
        let e = InitProducerIdResponse { error_code: ErrorCode::INVALID_PRODUCER_EPOCH.0, ..Default::default() };
        assert_eq!(p.on_response(&e, Instant::ZERO), PidOutcome::Retry);
        assert_eq!(p.bump_locally(), None);
        p.request();
        assert_eq!(
            p.on_response(&ok(6, 0), Instant::ZERO),
            PidOutcome::Adopt { producer_id: 6, epoch: 0, bumped: false }
        );
        p.request_bump();
        assert!(p.bump_locally().is_some(), "the new id bumps locally");
    }
}
