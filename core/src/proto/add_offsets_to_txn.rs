//! AddOffsetsToTxn (key 25), versions 0-4. Flexible from v3.
//!
//! A transactional producer about to commit a consumer group's offsets in its transaction
//! (TxnOffsetCommit) first tells its transaction coordinator the group, so that the offsets
//! commit or abort with the transaction (KIP-98). v1 is v0's shape; v2 adds the error
//! PRODUCER_FENCED (KIP-588), v4 TRANSACTION_ABORTABLE (KIP-890).

use alloc::vec::Vec;

use super::add_partitions_to_txn::{put_transaction, transaction};
use super::arrays::{end, put_end};
use super::writer::atomically;
use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

/// AddOffsetsToTxn request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddOffsetsToTxnRequest<'a> {
    /// The transactional id corresponding to the transaction.
    pub transactional_id: &'a str,
    /// Current producer id in use by the transactional id.
    pub producer_id: i64,
    /// Current epoch associated with the producer id.
    pub producer_epoch: i16,
    /// The unique group identifier.
    pub group_id: &'a str,
}

impl Default for AddOffsetsToTxnRequest<'_> {
    fn default() -> Self {
        AddOffsetsToTxnRequest { transactional_id: "", producer_id: -1, producer_epoch: -1, group_id: "" }
    }
}

/// AddOffsetsToTxn response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddOffsetsToTxnResponse {
    /// Duration in milliseconds for which the request was throttled due to a quota violation,
    /// or zero if the request did not violate any quota.
    pub throttle_time_ms: i32,
    /// The response error code ([`ErrorCode`](super::ErrorCode)), 0 for none.
    pub error_code: i16,
}

impl<'a> Message<'a> for AddOffsetsToTxnRequest<'a> {
    const API_KEY: ApiKey = ApiKey::AddOffsetsToTxn;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        atomically(out, |out| {
            put_transaction(out, flexible, self.transactional_id, self.producer_id, self.producer_epoch)?;
            out.put_string(flexible, self.group_id)?;
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let (transactional_id, producer_id, producer_epoch) = transaction(r, flexible)?;
        let group_id = r.string(flexible)?;
        end(r, flexible)?;
        Ok(AddOffsetsToTxnRequest { transactional_id, producer_id, producer_epoch, group_id })
    }
}

impl<'a> Message<'a> for AddOffsetsToTxnResponse {
    const API_KEY: ApiKey = ApiKey::AddOffsetsToTxn;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        out.put_i32(self.throttle_time_ms);
        out.put_i16(self.error_code);
        put_end(out, flexible);
        Ok(())
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let m = AddOffsetsToTxnResponse { throttle_time_ms: r.i32()?, error_code: r.i16()? };
        end(r, flexible)?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::ErrorCode;
    use crate::proto::test_util::{check_truncations, check_unsupported_versions};

    fn sample_request() -> AddOffsetsToTxnRequest<'static> {
        AddOffsetsToTxnRequest {
            transactional_id: "payments-txn",
            producer_id: 4711,
            producer_epoch: 3,
            group_id: "billing",
        }
    }

    fn sample_response() -> AddOffsetsToTxnResponse {
        AddOffsetsToTxnResponse { throttle_time_ms: 4, error_code: ErrorCode::CONCURRENT_TRANSACTIONS.0 }
    }

    #[test]
    fn round_trip_and_truncation_every_version() {
        for v in 0..=4 {
            check_truncations(&sample_request(), v, &mut Vec::new());
            check_truncations(&AddOffsetsToTxnRequest::default(), v, &mut Vec::new());
            check_truncations(&sample_response(), v, &mut Vec::new());
        }
    }

    #[test]
    fn unsupported_versions_are_typed_errors() {
        check_unsupported_versions(&sample_request(), &[-1, 5]);
        check_unsupported_versions(&sample_response(), &[-1, 5]);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100), v in -1i16..6) {
            let _ = AddOffsetsToTxnRequest::decode(&mut Reader::new(&bytes), v);
            let _ = AddOffsetsToTxnResponse::decode(&mut Reader::new(&bytes), v);
        }
    }
}
