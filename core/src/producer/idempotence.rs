//! Producer id and epoch: InitProducerId before the first Produce, epoch bumps, new ids.
//!
//! Drain and bump: when a partition leaves a sequence gap or the broker disagrees about
//! sequences, the producer stops starting new batches everywhere, lets every batch of unknown
//! outcome resolve (acknowledged, or given up as possibly persisted), and only then asks for a
//! new epoch. Nothing is renumbered while any outcome is unknown; after the bump every partition
//! restarts at sequence 0 (KAFKA-12152).
//!
//! The bump is an InitProducerId request carrying the current id and epoch (v3+, KIP-360). A
//! broker may answer with the same id and epoch + 1, or with a fresh id (Kafka allocates a new
//! id for requests without a transactional id); both are adopted the same way. Below v3, or when
//! the epoch is exhausted (`i16::MAX`), the request asks for a new id (-1/-1). (The Java client
//! bumps an idempotent producer's epoch locally instead; a broker accepts a higher epoch starting
//! at sequence 0 either way.)

use crate::proto::ErrorCode;
use crate::proto::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use crate::time::Instant;

/// Where the producer id stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PidState {
    /// No id yet, or a bump is wanted: a request is due once drained (see `retry_at`).
    Needed,
    /// A request is outstanding.
    Requesting,
    /// Usable.
    Ready,
}

/// What a response did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PidOutcome {
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
pub struct Idempotence {
    /// Current producer id (-1 before the first).
    pub producer_id: i64,
    /// Current epoch (-1 before the first).
    pub epoch: i16,
    /// State.
    pub state: PidState,
    /// Earliest next request.
    pub retry_at: Option<Instant>,
    /// Consecutive failed requests (backoff exponent).
    pub failures: u32,
    /// The next request must ask for a fresh id rather than a bump.
    fresh: bool,
}

impl Default for Idempotence {
    fn default() -> Self {
        Self::new()
    }
}

impl Idempotence {
    /// No id yet; one is needed.
    pub fn new() -> Self {
        Idempotence { producer_id: -1, epoch: -1, state: PidState::Needed, retry_at: None, failures: 0, fresh: true }
    }

    /// Whether Produce may carry new sequences now.
    pub fn is_ready(&self) -> bool {
        self.state == PidState::Ready
    }

    /// Asks for a bump (drain first); `fresh`: ask for a new producer id rather than the next
    /// epoch (our epoch is stale: INVALID_PRODUCER_EPOCH). No-op if one is already pending.
    pub fn request_bump(&mut self, fresh: bool) {
        self.fresh |= fresh;
        if self.state == PidState::Ready {
            self.state = PidState::Needed;
            self.retry_at = None;
        }
    }

    /// Whether a request should be sent at `now` (the caller also checks that all partitions
    /// are drained).
    pub fn due(&self, now: Instant) -> bool {
        self.state == PidState::Needed && self.retry_at.is_none_or(|t| t <= now)
    }

    /// The request to send in `version`; marks it outstanding.
    pub fn request(&mut self, version: i16) -> InitProducerIdRequest<'static> {
        self.state = PidState::Requesting;
        let bump = !self.fresh && version >= 3 && self.producer_id >= 0 && self.epoch >= 0 && self.epoch < i16::MAX;
        InitProducerIdRequest {
            transactional_id: None,
            transaction_timeout_ms: -1, // ignored without a transactional id (librdkafka sends -1)
            producer_id: if bump { self.producer_id } else { -1 },
            producer_epoch: if bump { self.epoch } else { -1 },
        }
    }

    /// The outstanding request was lost (disconnect, timeout, garbage): it will be sent again.
    pub fn on_lost(&mut self, retry_at: Instant) {
        if self.state == PidState::Requesting {
            self.state = PidState::Needed;
            self.retry_at = Some(retry_at);
            self.failures = self.failures.saturating_add(1);
        }
    }

    /// Applies a response; `retry_at` is when to try again on a retriable error.
    pub fn on_response(&mut self, r: &InitProducerIdResponse, retry_at: Instant) -> PidOutcome {
        if self.state != PidState::Requesting {
            return PidOutcome::Retry;
        }
        match r.error_code {
            0 if r.producer_id >= 0 && r.producer_epoch >= 0 => {
                let bumped = self.producer_id >= 0;
                self.producer_id = r.producer_id;
                self.epoch = r.producer_epoch;
                self.state = PidState::Ready;
                self.retry_at = None;
                self.failures = 0;
                self.fresh = false;
                PidOutcome::Adopt { producer_id: r.producer_id, epoch: r.producer_epoch, bumped }
            }
            // CLUSTER_AUTHORIZATION_FAILED, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, PRODUCER_FENCED.
            31 | 53 | 90 => PidOutcome::Fatal(ErrorCode(r.error_code)),
            code => {
                // INVALID_PRODUCER_EPOCH / INVALID_PRODUCER_ID_MAPPING: our identity is stale; ask
                // for a fresh one. Everything else (coordinator loading or moving, timeouts,
                // a malformed success) is retried.
                if matches!(code, 47 | 49) {
                    self.fresh = true;
                }
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
        InitProducerIdResponse { throttle_time_ms: 0, error_code: 0, producer_id: id, producer_epoch: epoch }
    }

    #[test]
    fn init_bump_and_exhaustion() {
        let mut p = Idempotence::new();
        assert!(p.due(Instant::ZERO) && !p.is_ready());
        let r = p.request(4);
        assert_eq!((r.producer_id, r.producer_epoch), (-1, -1));
        assert!(!p.due(Instant::ZERO));
        assert_eq!(
            p.on_response(&ok(7, 0), Instant::ZERO),
            PidOutcome::Adopt { producer_id: 7, epoch: 0, bumped: false }
        );
        assert!(p.is_ready());
        p.request_bump(false);
        assert!(!p.is_ready() && p.due(Instant::ZERO));
        let r = p.request(3);
        assert_eq!((r.producer_id, r.producer_epoch), (7, 0));
        assert_eq!(
            p.on_response(&ok(7, 1), Instant::ZERO),
            PidOutcome::Adopt { producer_id: 7, epoch: 1, bumped: true }
        );
        // Below v3 a bump asks for a new id.
        p.request_bump(false);
        let r = p.request(2);
        assert_eq!((r.producer_id, r.producer_epoch), (-1, -1));
        p.on_response(&ok(8, i16::MAX), Instant::ZERO);
        // Exhausted epoch: new id.
        p.request_bump(false);
        let r = p.request(4);
        assert_eq!((r.producer_id, r.producer_epoch), (-1, -1));
    }

    #[test]
    fn errors() {
        let mut p = Idempotence::new();
        p.request(4);
        let t = Instant::from_millis(100);
        let e = InitProducerIdResponse { error_code: 15, ..Default::default() };
        assert_eq!(p.on_response(&e, t), PidOutcome::Retry);
        assert!(!p.due(Instant::from_millis(99)) && p.due(t));
        p.request(4);
        p.on_lost(t);
        assert_eq!(p.state, PidState::Needed);
        p.request(4);
        let e = InitProducerIdResponse { error_code: 90, ..Default::default() };
        assert_eq!(p.on_response(&e, t), PidOutcome::Fatal(ErrorCode(90)));
        // Stale epoch -> fresh id next time.
        let mut p = Idempotence::new();
        p.request(4);
        p.on_response(&ok(1, 3), t);
        p.request_bump(false);
        p.request(4);
        let e = InitProducerIdResponse { error_code: 47, ..Default::default() };
        assert_eq!(p.on_response(&e, t), PidOutcome::Retry);
        let r = p.request(4);
        assert_eq!((r.producer_id, r.producer_epoch), (-1, -1));
    }
}

#[cfg(test)]
mod fresh_tests {
    use super::*;

    #[test]
    fn stale_epoch_asks_for_a_new_id() {
        let mut p = Idempotence::new();
        p.request(4);
        p.on_response(
            &InitProducerIdResponse { producer_id: 5, producer_epoch: 2, ..Default::default() },
            Instant::ZERO,
        );
        p.request_bump(true);
        let r = p.request(4);
        assert_eq!((r.producer_id, r.producer_epoch), (-1, -1));
    }
}
