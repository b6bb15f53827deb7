//! EndTxn (key 26), versions 0-5. Flexible from v3.
//!
//! A transactional producer asks its transaction coordinator to commit or abort the ongoing
//! transaction; the coordinator then writes the COMMIT or ABORT control records
//! ([`EndTransactionMarker`](super::record_batch::control::EndTransactionMarker)) to every
//! partition of the transaction (KIP-98). v1 is v0's shape; v2 adds the error PRODUCER_FENCED
//! (KIP-588), v4 TRANSACTION_ABORTABLE (KIP-890); v5 (KIP-890 part 2, the epoch bumped at every
//! transaction) answers the producer id and epoch to use next.

use alloc::vec::Vec;

use super::add_partitions_to_txn::{put_transaction, transaction};
use super::arrays::{end, put_end};
use super::writer::atomically;
use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

/// EndTxn request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndTxnRequest<'a> {
    /// The ID of the transaction to end.
    pub transactional_id: &'a str,
    /// The producer ID.
    pub producer_id: i64,
    /// The current epoch associated with the producer.
    pub producer_epoch: i16,
    /// True if the transaction was committed, false if it was aborted.
    pub committed: bool,
}

impl Default for EndTxnRequest<'_> {
    fn default() -> Self {
        EndTxnRequest { transactional_id: "", producer_id: -1, producer_epoch: -1, committed: false }
    }
}

/// EndTxn response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndTxnResponse {
    /// The duration in milliseconds for which the request was throttled due to a quota
    /// violation, or zero if the request did not violate any quota.
    pub throttle_time_ms: i32,
    /// The error code ([`ErrorCode`](super::ErrorCode)), 0 for none.
    pub error_code: i16,
    /// The producer ID to use for the next transaction (v5+, KIP-890), -1 if none. Not sent
    /// below v5 (the producer keeps its id and epoch there).
    pub producer_id: i64,
    /// The epoch to use for the next transaction (v5+), -1 if none. Not sent below v5.
    pub producer_epoch: i16,
}

impl Default for EndTxnResponse {
    fn default() -> Self {
        EndTxnResponse { throttle_time_ms: 0, error_code: 0, producer_id: -1, producer_epoch: -1 }
    }
}

impl<'a> Message<'a> for EndTxnRequest<'a> {
    const API_KEY: ApiKey = ApiKey::EndTxn;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        atomically(out, |out| {
            put_transaction(out, flexible, self.transactional_id, self.producer_id, self.producer_epoch)?;
            out.put_bool(self.committed);
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let (transactional_id, producer_id, producer_epoch) = transaction(r, flexible)?;
        let committed = r.bool()?;
        end(r, flexible)?;
        Ok(EndTxnRequest { transactional_id, producer_id, producer_epoch, committed })
    }
}

impl<'a> Message<'a> for EndTxnResponse {
    const API_KEY: ApiKey = ApiKey::EndTxn;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        out.put_i32(self.throttle_time_ms);
        out.put_i16(self.error_code);
        if version >= 5 {
            out.put_i64(self.producer_id);
            out.put_i16(self.producer_epoch);
        }
        put_end(out, flexible);
        Ok(())
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = EndTxnResponse { throttle_time_ms: r.i32()?, error_code: r.i16()?, ..EndTxnResponse::default() };
        if version >= 5 {
            m.producer_id = r.i64()?;
            m.producer_epoch = r.i16()?;
        }
        end(r, flexible)?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::ErrorCode;
    use crate::proto::test_util::{check_truncations, check_truncations_as, check_unsupported_versions};

    fn sample_request(committed: bool) -> EndTxnRequest<'static> {
        EndTxnRequest { transactional_id: "payments-txn", producer_id: 4711, producer_epoch: 3, committed }
    }

    fn sample_response() -> EndTxnResponse {
        EndTxnResponse {
            throttle_time_ms: 2,
            error_code: ErrorCode::PRODUCER_FENCED.0,
            producer_id: 4711,
            producer_epoch: 4,
        }
    }

    #[test]
    fn round_trip_and_truncation_every_version() {
        for v in 0..=5 {
            check_truncations(&sample_request(true), v, &mut Vec::new());
            check_truncations(&sample_request(false), v, &mut Vec::new());
            check_truncations(&EndTxnResponse::default(), v, &mut Vec::new());
        }
        check_truncations(&sample_response(), 5, &mut Vec::new());
    }

    #[test]
    fn next_producer_id_and_epoch_only_from_v5() {
        let old = EndTxnResponse { producer_id: -1, producer_epoch: -1, ..sample_response() };
        for v in 0..5 {
            check_truncations_as(&sample_response(), &old, v, &mut Vec::new());
        }
    }

    #[test]
    fn committed_is_one_byte() {
        let mut out = Vec::new();
        sample_request(true).encode(2, &mut out).unwrap();
        assert_eq!(out.last(), Some(&1));
        out.clear();
        sample_request(false).encode(3, &mut out).unwrap();
        assert_eq!(&out[out.len() - 2..], &[0, 0], "false, then no tagged fields");
    }

    #[test]
    fn unsupported_versions_are_typed_errors() {
        check_unsupported_versions(&sample_request(true), &[-1, 6]);
        check_unsupported_versions(&sample_response(), &[-1, 6]);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100), v in -1i16..7) {
            let _ = EndTxnRequest::decode(&mut Reader::new(&bytes), v);
            let _ = EndTxnResponse::decode(&mut Reader::new(&bytes), v);
        }
    }
}
