//! The broker side of idempotence: the sequence validator that makes the dedup decisions, and
//! an in-memory Kafka-compatible broker built on it.

pub mod snapshot;
pub mod validator;
