//! AddPartitionsToTxn (key 24), versions 0-3. Flexible from v3.
//!
//! A transactional producer tells its transaction coordinator which partitions it is about to
//! write to, before the first Produce to each (KIP-98). v1 is v0's shape, v2 adds the error
//! PRODUCER_FENCED (KIP-588). v4+ is the brokers' batched form (several transactions in one
//! request, `VerifyOnly`; KIP-890), which clients never send: not spoken here.

use alloc::vec::Vec;

use super::arrays::{end, i32s, put_end, put_i32s, put_structs, structs};
use super::reader::{min_array, min_string};
use super::writer::atomically;
use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

/// One topic's partitions to add to the transaction (Kafka's `AddPartitionsToTxnTopic`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddPartitionsToTxnTopic<'a> {
    /// The name of the topic.
    pub name: &'a str,
    /// The partition indexes to add to the transaction.
    pub partitions: Vec<i32>,
}

/// AddPartitionsToTxn request (v0-3: Kafka's `V3AndBelow*` fields).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddPartitionsToTxnRequest<'a> {
    /// The transactional id corresponding to the transaction (`V3AndBelowTransactionalId`).
    pub transactional_id: &'a str,
    /// Current producer id in use by the transactional id (`V3AndBelowProducerId`).
    pub producer_id: i64,
    /// Current epoch associated with the producer id (`V3AndBelowProducerEpoch`).
    pub producer_epoch: i16,
    /// The partitions to add to the transaction (`V3AndBelowTopics`).
    pub topics: Vec<AddPartitionsToTxnTopic<'a>>,
}

impl Default for AddPartitionsToTxnRequest<'_> {
    fn default() -> Self {
        AddPartitionsToTxnRequest { transactional_id: "", producer_id: -1, producer_epoch: -1, topics: Vec::new() }
    }
}

/// One partition's result (Kafka's `AddPartitionsToTxnPartitionResult`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddPartitionsToTxnPartitionResult {
    /// The partition index.
    pub partition_index: i32,
    /// The response error code ([`ErrorCode`](super::ErrorCode)), 0 for none.
    pub partition_error_code: i16,
}

/// One topic's results (Kafka's `AddPartitionsToTxnTopicResult`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddPartitionsToTxnTopicResult<'a> {
    /// The topic name.
    pub name: &'a str,
    /// The results for each partition.
    pub results_by_partition: Vec<AddPartitionsToTxnPartitionResult>,
}

/// AddPartitionsToTxn response (v0-3).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddPartitionsToTxnResponse<'a> {
    /// Duration in milliseconds for which the request was throttled due to a quota violation,
    /// or zero if the request did not violate any quota.
    pub throttle_time_ms: i32,
    /// The results for each topic (Kafka's `ResultsByTopicV3AndBelow`).
    pub results_by_topic: Vec<AddPartitionsToTxnTopicResult<'a>>,
}

/// Writes the fields the transaction requests begin with: the transactional id, the producer
/// id and its epoch (AddPartitionsToTxn v0-3, AddOffsetsToTxn, EndTxn).
pub(crate) fn put_transaction(
    out: &mut Vec<u8>,
    flexible: bool,
    transactional_id: &str,
    producer_id: i64,
    producer_epoch: i16,
) -> Result<(), EncodeError> {
    out.put_string(flexible, transactional_id)?;
    out.put_i64(producer_id);
    out.put_i16(producer_epoch);
    Ok(())
}

/// Reads what [`put_transaction`] writes.
pub(crate) fn transaction<'a>(r: &mut Reader<'a>, flexible: bool) -> Result<(&'a str, i64, i16), DecodeError> {
    Ok((r.string(flexible)?, r.i64()?, r.i16()?))
}

impl<'a> Message<'a> for AddPartitionsToTxnRequest<'a> {
    const API_KEY: ApiKey = ApiKey::AddPartitionsToTxn;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        atomically(out, |out| {
            put_transaction(out, flexible, self.transactional_id, self.producer_id, self.producer_epoch)?;
            put_structs(out, flexible, &self.topics, |out, t| {
                out.put_string(flexible, t.name)?;
                put_i32s(out, flexible, &t.partitions)
            })?;
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let (transactional_id, producer_id, producer_epoch) = transaction(r, flexible)?;
        let topics = structs(r, flexible, min_string(flexible) + min_array(flexible), |r| {
            Ok(AddPartitionsToTxnTopic { name: r.string(flexible)?, partitions: i32s(r, flexible)? })
        })?;
        end(r, flexible)?;
        Ok(AddPartitionsToTxnRequest { transactional_id, producer_id, producer_epoch, topics })
    }
}

impl<'a> Message<'a> for AddPartitionsToTxnResponse<'a> {
    const API_KEY: ApiKey = ApiKey::AddPartitionsToTxn;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        atomically(out, |out| {
            out.put_i32(self.throttle_time_ms);
            put_structs(out, flexible, &self.results_by_topic, |out, t| {
                out.put_string(flexible, t.name)?;
                put_structs(out, flexible, &t.results_by_partition, |out, p| {
                    out.put_i32(p.partition_index);
                    out.put_i16(p.partition_error_code);
                    Ok(())
                })
            })?;
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let throttle_time_ms = r.i32()?;
        let results_by_topic = structs(r, flexible, min_string(flexible) + min_array(flexible), |r| {
            let name = r.string(flexible)?;
            let results_by_partition = structs(r, flexible, 6, |r| {
                Ok(AddPartitionsToTxnPartitionResult { partition_index: r.i32()?, partition_error_code: r.i16()? })
            })?;
            Ok(AddPartitionsToTxnTopicResult { name, results_by_partition })
        })?;
        end(r, flexible)?;
        Ok(AddPartitionsToTxnResponse { throttle_time_ms, results_by_topic })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::ErrorCode;
    use crate::proto::test_util::{check_truncations, check_unsupported_versions};
    use alloc::vec;

    fn sample_request() -> AddPartitionsToTxnRequest<'static> {
        AddPartitionsToTxnRequest {
            transactional_id: "payments-txn",
            producer_id: 4711,
            producer_epoch: 3,
            topics: vec![
                AddPartitionsToTxnTopic { name: "orders", partitions: vec![0, 2, 5] },
                AddPartitionsToTxnTopic { name: "audit", partitions: vec![] },
            ],
        }
    }

    fn sample_response() -> AddPartitionsToTxnResponse<'static> {
        let p = |i, e: ErrorCode| AddPartitionsToTxnPartitionResult { partition_index: i, partition_error_code: e.0 };
        AddPartitionsToTxnResponse {
            throttle_time_ms: 9,
            results_by_topic: vec![AddPartitionsToTxnTopicResult {
                name: "orders",
                results_by_partition: vec![p(0, ErrorCode::NONE), p(2, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)],
            }],
        }
    }

    #[test]
    fn round_trip_and_truncation_every_version() {
        for v in 0..=3 {
            check_truncations(&sample_request(), v, &mut Vec::new());
            check_truncations(&AddPartitionsToTxnRequest::default(), v, &mut Vec::new());
            check_truncations(&sample_response(), v, &mut Vec::new());
            check_truncations(&AddPartitionsToTxnResponse::default(), v, &mut Vec::new());
        }
    }

    #[test]
    fn unsupported_versions_are_typed_errors() {
        // v4-5 are the brokers' batched form.
        check_unsupported_versions(&sample_request(), &[-1, 4, 5]);
        check_unsupported_versions(&sample_response(), &[-1, 4, 5]);
    }

    #[test]
    fn v3_is_flexible_v2_is_not() {
        let (mut v2, mut v3) = (Vec::new(), Vec::new());
        sample_request().encode(2, &mut v2).unwrap();
        sample_request().encode(3, &mut v3).unwrap();
        // v2: int16 length 12 then the id; v3: compact length 13 then the id.
        assert_eq!(&v2[..3], &[0, 12, b'p']);
        assert_eq!(&v3[..2], &[13, b'p']);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), v in -1i16..6) {
            let _ = AddPartitionsToTxnRequest::decode(&mut Reader::new(&bytes), v);
            let _ = AddPartitionsToTxnResponse::decode(&mut Reader::new(&bytes), v);
        }
    }
}
