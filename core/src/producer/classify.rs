//! The decision table's classification of Produce partition error codes: what an answer says
//! about whether the batch is in the log, and whether to retry.

use crate::proto::ErrorCode;

/// How the producer classifies a Produce partition error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    /// Written (NONE).
    Success,
    /// Already written (DUPLICATE_SEQUENCE_NUMBER).
    Duplicate,
    /// OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_EPOCH.
    Sequence,
    /// Retriable and definitely not written by this attempt.
    RetriableRejected,
    /// Retriable, outcome unknown (may have been written).
    RetriableUnknown,
    /// Not retriable, not written.
    Rejected,
    /// Stops the producer.
    Fatal,
}

/// The decision table's classification of Produce partition errors.
pub(crate) fn classify(code: ErrorCode) -> ErrorClass {
    use ErrorCode as E;
    match code {
        E::NONE => ErrorClass::Success,
        E::DUPLICATE_SEQUENCE_NUMBER => ErrorClass::Duplicate,
        E::OUT_OF_ORDER_SEQUENCE_NUMBER | E::INVALID_PRODUCER_EPOCH | E::UNKNOWN_PRODUCER_ID => ErrorClass::Sequence,
        // Rejected before the append.
        E::UNKNOWN_TOPIC_OR_PARTITION
        | E::LEADER_NOT_AVAILABLE
        | E::NOT_ENOUGH_REPLICAS
        | E::CORRUPT_MESSAGE
        | E::KAFKA_STORAGE_ERROR
        | E::FENCED_LEADER_EPOCH
        | E::UNKNOWN_LEADER_EPOCH
        | E::OFFSET_NOT_AVAILABLE
        | E::THROTTLING_QUOTA_EXCEEDED => ErrorClass::RetriableRejected,
        // The batch may be in the log. NOT_LEADER_OR_FOLLOWER too: with acks=all Kafka also
        // answers it after the append, when leadership moves while the request waits for
        // replication (`DelayedProduce`), and the batch may survive on the new leader (found by
        // the simulation, seeds 28, 138, 13).
        E::UNKNOWN_SERVER_ERROR
        | E::NOT_LEADER_OR_FOLLOWER
        | E::REQUEST_TIMED_OUT
        | E::NETWORK_EXCEPTION
        | E::NOT_ENOUGH_REPLICAS_AFTER_APPEND => ErrorClass::RetriableUnknown,
        E::PRODUCER_FENCED | E::CLUSTER_AUTHORIZATION_FAILED | E::TRANSACTIONAL_ID_AUTHORIZATION_FAILED => {
            ErrorClass::Fatal
        }
        E::MESSAGE_TOO_LARGE
        | E::RECORD_LIST_TOO_LARGE
        | E::INVALID_REQUIRED_ACKS
        | E::TOPIC_AUTHORIZATION_FAILED
        | E::INVALID_TIMESTAMP
        | E::UNSUPPORTED_FOR_MESSAGE_FORMAT
        | E::INVALID_RECORD
        | E::UNSUPPORTED_VERSION
        | E::INVALID_TOPIC_EXCEPTION
        | E::POLICY_VIOLATION
        | E::UNSUPPORTED_COMPRESSION_TYPE
        // A transactional batch the leader did not append: the transaction cannot commit
        // (Produce v11+, KIP-890: TRANSACTION_ABORTABLE; the partition is not in an ongoing
        // transaction: INVALID_TXN_STATE), the failed record makes it abortable.
        | E::TRANSACTION_ABORTABLE
        | E::INVALID_TXN_STATE
        // Transactions v2: the leader's coordinator no longer knows the producer id (the
        // transactional id expired); the abort then gets a fresh one.
        | E::INVALID_PRODUCER_ID_MAPPING => ErrorClass::Rejected,
        // Anything idem does not know: the batch may be in the log.
        _ => ErrorClass::RetriableUnknown,
    }
}

/// MESSAGE_TOO_LARGE or RECORD_LIST_TOO_LARGE: the batch (not necessarily each record of it)
/// exceeds what the broker or topic accepts; a batch of several records is split and resent.
pub(crate) fn is_too_large(code: ErrorCode) -> bool {
    code == ErrorCode::MESSAGE_TOO_LARGE || code == ErrorCode::RECORD_LIST_TOO_LARGE
}

/// Whether leadership or the partition may have moved: the answer calls for a metadata refresh.
pub(crate) fn refreshes_metadata(code: ErrorCode) -> bool {
    use ErrorCode as E;
    matches!(
        code,
        E::UNKNOWN_TOPIC_OR_PARTITION
            | E::LEADER_NOT_AVAILABLE
            | E::NOT_LEADER_OR_FOLLOWER
            | E::FENCED_LEADER_EPOCH
            | E::UNKNOWN_LEADER_EPOCH
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_table_classes() {
        assert_eq!(classify(ErrorCode::NONE), ErrorClass::Success);
        assert_eq!(classify(ErrorCode::DUPLICATE_SEQUENCE_NUMBER), ErrorClass::Duplicate);
        for c in
            [ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, ErrorCode::INVALID_PRODUCER_EPOCH, ErrorCode::UNKNOWN_PRODUCER_ID]
        {
            assert_eq!(classify(c), ErrorClass::Sequence);
        }
        assert_eq!(classify(ErrorCode::NOT_LEADER_OR_FOLLOWER), ErrorClass::RetriableUnknown);
        assert_eq!(classify(ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND), ErrorClass::RetriableUnknown);
        assert_eq!(classify(ErrorCode::NOT_ENOUGH_REPLICAS), ErrorClass::RetriableRejected);
        assert_eq!(classify(ErrorCode::MESSAGE_TOO_LARGE), ErrorClass::Rejected);
        assert_eq!(classify(ErrorCode::PRODUCER_FENCED), ErrorClass::Fatal);
        assert_eq!(classify(ErrorCode(1234)), ErrorClass::RetriableUnknown);
    }
}
