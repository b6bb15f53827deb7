//! InitProducerId (key 22), versions 0-4. Flexible from v2.

/// InitProducerId request. idem's producer sends a null transactional id (idempotence only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitProducerIdRequest<'a> {
    /// Transactional id; `None` for an idempotent-only producer.
    pub transactional_id: Option<&'a str>,
    /// Transaction timeout in ms (ignored by brokers without a transactional id).
    pub transaction_timeout_ms: i32,
    /// The current producer id, to bump its epoch (v3+, KIP-360); -1 for a new producer.
    /// Encoding a value other than -1 below v3 is an error.
    pub producer_id: i64,
    /// The current epoch (v3+); -1 for a new producer. Encoding a value other than -1 below v3
    /// is an error.
    pub producer_epoch: i16,
}

impl Default for InitProducerIdRequest<'_> {
    fn default() -> Self {
        InitProducerIdRequest {
            transactional_id: None,
            transaction_timeout_ms: -1,
            producer_id: -1,
            producer_epoch: -1,
        }
    }
}

/// InitProducerId response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InitProducerIdResponse {
    /// Throttle time in ms.
    pub throttle_time_ms: i32,
    /// Error code.
    pub error_code: i16,
    /// The producer id assigned.
    pub producer_id: i64,
    /// The producer epoch assigned.
    pub producer_epoch: i16,
}
