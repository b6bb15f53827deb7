//! The transactional calls' side of the runtime: the one error type they return
//! ([`TransactionCallError`]) and the bookkeeping that lets a call which stopped waiting be
//! called again for the same result ([`TxnCalls`]), as the Java client's `KafkaProducer` does
//! with `max.block.ms`: "if the method times out, it can be retried; the retry awaits the
//! result of the original call" (`KafkaProducer.commitTransaction` javadoc;
//! `TransactionManager.handleCachedTransactionRequestResult`).

use std::fmt;

use idem_core::producer::{FatalError, TransactionError, TransactionOp};

/// Why a transactional call of [`crate::Producer`] (`init_transactions`, `begin_transaction`,
/// `send_offsets_to_transaction`, `commit_transaction`, `abort_transaction`) did not succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionCallError {
    /// The producer refused the call or the operation failed: not transactional, a call out of
    /// order (nothing changed), the transaction must be aborted
    /// ([`TransactionError::Abortable`]), or the producer stopped ([`TransactionError::Fatal`]:
    /// fenced by a newer producer with the same `transactional.id`, not authorized, ...).
    Transaction(TransactionError),
    /// The call stopped waiting at its timeout; the operation goes on in the producer.
    /// Retriable: call the same method again to wait for the same operation's result (any other
    /// transactional call is refused with [`TransactionError::InProgress`] until then), as the
    /// Java client's `TimeoutException` from `commitTransaction`.
    TimedOut(TransactionOp),
    /// The producer was closed (`close`, `close_timeout`, or dropped) before the operation
    /// ended, or before the call: it will not end.
    Closed,
}

impl TransactionCallError {
    /// Whether calling the same method again may succeed: the wait timed out, and the operation
    /// goes on.
    pub fn is_retriable(&self) -> bool {
        matches!(self, TransactionCallError::TimedOut(_))
    }

    /// Whether the transaction must be aborted (`abort_transaction`), after which the producer
    /// goes on.
    pub fn is_abortable(&self) -> bool {
        matches!(self, TransactionCallError::Transaction(TransactionError::Abortable(_)))
    }

    /// The fatal error the producer stopped on, if this is one (drop the producer then).
    pub fn fatal(&self) -> Option<FatalError> {
        match self {
            TransactionCallError::Transaction(TransactionError::Fatal(e)) => Some(*e),
            _ => None,
        }
    }
}

impl From<TransactionError> for TransactionCallError {
    fn from(e: TransactionError) -> Self {
        TransactionCallError::Transaction(e)
    }
}

impl fmt::Display for TransactionCallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransactionCallError::Transaction(e) => write!(f, "{e}"),
            TransactionCallError::TimedOut(op) => {
                write!(f, "{op} timed out waiting for its result; it goes on: call {op} again to wait for it")
            }
            TransactionCallError::Closed => f.write_str("the producer is closed"),
        }
    }
}

impl std::error::Error for TransactionCallError {}

/// An operation whose result no caller has taken yet: its number and what it is.
type Started = (u64, TransactionOp);

/// The transactional operations started by the runtime's calls and their results. A result
/// stays until a call of the same operation takes it (the one that started it, another thread
/// waiting for it, or a later call after a timeout); until then the other calls are refused
/// with [`TransactionError::InProgress`].
#[derive(Debug, Default)]
pub(crate) struct TxnCalls {
    /// The operation awaiting a caller.
    pending: Option<Started>,
    /// The end the core reported of operation number `.0`.
    ended: Option<(u64, Result<(), TransactionError>)>,
    /// Operations started so far.
    started: u64,
    /// Ends reported so far (the waiters are woken when it moves).
    ends: u64,
}

/// What a call should do, from [`TxnCalls::join`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Join {
    /// Start the operation in the core, then [`TxnCalls::started`].
    Start,
    /// Wait for operation number `.0`, started by an earlier call.
    Wait(u64),
}

impl TxnCalls {
    /// A call of `op`: waits for the same operation if one is pending, else starts it; refused
    /// while another operation awaits its caller.
    pub(crate) fn join(&self, op: TransactionOp) -> Result<Join, TransactionError> {
        match self.pending {
            Some((n, pending)) if pending == op => Ok(Join::Wait(n)),
            Some((_, pending)) => Err(TransactionError::InProgress(pending)),
            None => Ok(Join::Start),
        }
    }

    /// The core accepted `op`: its number.
    pub(crate) fn started(&mut self, op: TransactionOp) -> u64 {
        self.started += 1;
        self.pending = Some((self.started, op));
        self.ended = None;
        self.started
    }

    /// The core reported the end of the operation pending.
    pub(crate) fn on_end(&mut self, result: Result<(), TransactionError>) {
        self.ends += 1;
        if let Some((n, _)) = self.pending {
            self.ended = Some((n, result));
        }
    }

    /// The result of operation `n`, if it ended; taking it lets other calls start again.
    pub(crate) fn take(&mut self, n: u64) -> Option<Result<(), TransactionError>> {
        let (ended, result) = self.ended.filter(|e| e.0 == n)?;
        if self.pending.is_some_and(|p| p.0 == ended) {
            self.pending = None;
        }
        Some(result)
    }

    /// Whether operation `n` ended with an error, if it ended (what [`TxnCalls::take`] would
    /// take, left in place).
    pub(crate) fn failed(&self, n: u64) -> Option<bool> {
        self.ended.filter(|e| e.0 == n).map(|(_, r)| r.is_err())
    }

    /// Ends reported so far.
    pub(crate) fn ends(&self) -> u64 {
        self.ends
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idem_core::producer::{AbortableError, DeliveryError};

    #[test]
    fn a_call_that_stopped_waiting_is_joined_by_the_next_call_of_the_same_operation() {
        let mut calls = TxnCalls::default();
        assert_eq!(calls.join(TransactionOp::Commit), Ok(Join::Start));
        let n = calls.started(TransactionOp::Commit);
        assert_eq!(calls.take(n), None, "not ended yet");
        // The first call timed out; the others are refused until the commit's result is taken.
        assert_eq!(calls.join(TransactionOp::Abort), Err(TransactionError::InProgress(TransactionOp::Commit)));
        assert_eq!(calls.join(TransactionOp::Begin), Err(TransactionError::InProgress(TransactionOp::Commit)));
        let e = TransactionError::Abortable(AbortableError::RecordFailed(DeliveryError::Timeout));
        calls.on_end(Err(e));
        assert_eq!(calls.ends(), 1);
        // Called again: the same operation's result, even though it ended meanwhile.
        assert_eq!(calls.join(TransactionOp::Commit), Ok(Join::Wait(n)));
        assert_eq!(calls.take(n), Some(Err(e)));
        // Taken: the next call starts anew, and a second waiter of `n` still gets its result.
        assert_eq!(calls.join(TransactionOp::Abort), Ok(Join::Start));
        assert_eq!(calls.take(n), Some(Err(e)));
        let m = calls.started(TransactionOp::Abort);
        assert_eq!(calls.take(n), None, "a new operation replaces the old result");
        calls.on_end(Ok(()));
        assert_eq!(calls.take(m), Some(Ok(())));
        assert_eq!(calls.join(TransactionOp::Commit), Ok(Join::Start));
    }
}
