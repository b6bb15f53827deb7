//! The decision table's classification of Produce partition error codes: what an answer says
//! about whether the batch is in the log, and whether to retry.

use crate::proto::ErrorCode;

/// How the producer classifies a Produce partition error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
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
pub fn classify(code: ErrorCode) -> ErrorClass {
    match code.0 {
        0 => ErrorClass::Success,
        46 => ErrorClass::Duplicate,
        45 | 47 | 59 => ErrorClass::Sequence,
        // UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE, NOT_ENOUGH_REPLICAS, CORRUPT_MESSAGE,
        // KAFKA_STORAGE_ERROR, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, OFFSET_NOT_AVAILABLE,
        // THROTTLING_QUOTA_EXCEEDED: rejected before the append.
        3 | 5 | 19 | 2 | 56 | 74 | 75 | 78 | 89 => ErrorClass::RetriableRejected,
        // UNKNOWN_SERVER_ERROR, REQUEST_TIMED_OUT, NETWORK_EXCEPTION, NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        // and anything idem does not know: the batch may be in the log. NOT_LEADER_OR_FOLLOWER too:
        // with acks=all Kafka also answers it after the append, when leadership moves while the
        // request waits for replication (DelayedProduce), and the batch may survive on the new
        // leader (found by the simulation, seeds 28, 138, 13).
        -1 | 6 | 7 | 13 | 20 => ErrorClass::RetriableUnknown,
        // PRODUCER_FENCED, CLUSTER_AUTHORIZATION_FAILED, TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
        90 | 31 | 53 => ErrorClass::Fatal,
        // MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE, INVALID_REQUIRED_ACKS, TOPIC_AUTHORIZATION_FAILED,
        // INVALID_TIMESTAMP, UNSUPPORTED_FOR_MESSAGE_FORMAT, INVALID_RECORD, UNSUPPORTED_VERSION,
        // INVALID_TOPIC_EXCEPTION, POLICY_VIOLATION, UNSUPPORTED_COMPRESSION_TYPE.
        10 | 18 | 21 | 29 | 32 | 43 | 87 | 35 | 17 | 44 | 76 => ErrorClass::Rejected,
        _ => ErrorClass::RetriableUnknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_table_classes() {
        assert_eq!(classify(ErrorCode(0)), ErrorClass::Success);
        assert_eq!(classify(ErrorCode(46)), ErrorClass::Duplicate);
        for c in [45, 47, 59] {
            assert_eq!(classify(ErrorCode(c)), ErrorClass::Sequence);
        }
        assert_eq!(classify(ErrorCode(6)), ErrorClass::RetriableUnknown);
        assert_eq!(classify(ErrorCode(20)), ErrorClass::RetriableUnknown);
        assert_eq!(classify(ErrorCode(19)), ErrorClass::RetriableRejected);
        assert_eq!(classify(ErrorCode(10)), ErrorClass::Rejected);
        assert_eq!(classify(ErrorCode(90)), ErrorClass::Fatal);
        assert_eq!(classify(ErrorCode(1234)), ErrorClass::RetriableUnknown);
    }
}
