//! TxnOffsetCommit (key 28), versions 0-5. Flexible from v3.
//!
//! A transactional producer commits a consumer group's offsets inside its transaction, to the
//! group's coordinator: they become visible when the transaction commits and are discarded if it
//! aborts (KIP-98; AddOffsetsToTxn comes first). v1 is v0's shape; v2 adds the leader epoch of
//! each offset (KIP-320); v3 the consumer's group metadata, `generation_id`, `member_id` and
//! `group_instance_id`, so that the coordinator can fence a zombie member (KIP-447); v4 the error
//! TRANSACTION_ABORTABLE (KIP-890); v5 has v4's shape (KIP-890 part 2, transactions v2: the
//! coordinator adds the group to the transaction itself, no AddOffsetsToTxn before it).
//!
//! The topics and partitions are OffsetCommit's (same fields, same wire form).

use alloc::vec::Vec;

use super::arrays::{end, put_end};
use super::offset_commit::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic, OffsetCommitResponsePartition, OffsetCommitResponseTopic,
    put_request_topics, put_response_topics, request_topics, response_topics,
};
use super::writer::atomically;
use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

/// One partition's offset to commit in the transaction (Kafka's
/// `TxnOffsetCommitRequestPartition`); its leader epoch is sent from v2 on.
pub type TxnOffsetCommitRequestPartition<'a> = OffsetCommitRequestPartition<'a>;
/// One topic's offsets to commit (Kafka's `TxnOffsetCommitRequestTopic`).
pub type TxnOffsetCommitRequestTopic<'a> = OffsetCommitRequestTopic<'a>;
/// One partition's result (Kafka's `TxnOffsetCommitResponsePartition`).
pub type TxnOffsetCommitResponsePartition = OffsetCommitResponsePartition;
/// One topic's results (Kafka's `TxnOffsetCommitResponseTopic`).
pub type TxnOffsetCommitResponseTopic<'a> = OffsetCommitResponseTopic<'a>;

/// TxnOffsetCommit request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnOffsetCommitRequest<'a> {
    /// The ID of the transaction.
    pub transactional_id: &'a str,
    /// The ID of the group.
    pub group_id: &'a str,
    /// The current producer ID in use by the transactional ID.
    pub producer_id: i64,
    /// The current epoch associated with the producer ID.
    pub producer_epoch: i16,
    /// The generation of the consumer (v3+, KIP-447), -1 for none. Encoding another value below
    /// v3 is an error (the coordinator could not fence a zombie member).
    pub generation_id: i32,
    /// The member ID assigned by the group coordinator (v3+), empty for none. Encoding another
    /// value below v3 is an error.
    pub member_id: &'a str,
    /// The unique identifier of the consumer instance provided by end user (v3+), `None` for a
    /// dynamic member. Encoding `Some` below v3 is an error.
    pub group_instance_id: Option<&'a str>,
    /// Each topic that we want to commit offsets for.
    pub topics: Vec<TxnOffsetCommitRequestTopic<'a>>,
}

impl Default for TxnOffsetCommitRequest<'_> {
    fn default() -> Self {
        TxnOffsetCommitRequest {
            transactional_id: "",
            group_id: "",
            producer_id: -1,
            producer_epoch: -1,
            generation_id: -1,
            member_id: "",
            group_instance_id: None,
            topics: Vec::new(),
        }
    }
}

/// TxnOffsetCommit response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxnOffsetCommitResponse<'a> {
    /// The duration in milliseconds for which the request was throttled due to a quota
    /// violation, or zero if the request did not violate any quota.
    pub throttle_time_ms: i32,
    /// The responses for each topic.
    pub topics: Vec<TxnOffsetCommitResponseTopic<'a>>,
}

impl<'a> Message<'a> for TxnOffsetCommitRequest<'a> {
    const API_KEY: ApiKey = ApiKey::TxnOffsetCommit;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        if version < 3 {
            // Dropping the group metadata would commit a possibly fenced member's offsets.
            if self.generation_id != -1 {
                return Err(EncodeError::FieldNotInVersion("generation_id"));
            }
            if !self.member_id.is_empty() {
                return Err(EncodeError::FieldNotInVersion("member_id"));
            }
            if self.group_instance_id.is_some() {
                return Err(EncodeError::FieldNotInVersion("group_instance_id"));
            }
        }
        atomically(out, |out| {
            out.put_string(flexible, self.transactional_id)?;
            out.put_string(flexible, self.group_id)?;
            out.put_i64(self.producer_id);
            out.put_i16(self.producer_epoch);
            if version >= 3 {
                out.put_i32(self.generation_id);
                out.put_string(flexible, self.member_id)?;
                out.put_nullable_string(flexible, self.group_instance_id)?;
            }
            put_request_topics(out, flexible, &self.topics, version >= 2)?;
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = TxnOffsetCommitRequest {
            transactional_id: r.string(flexible)?,
            group_id: r.string(flexible)?,
            producer_id: r.i64()?,
            producer_epoch: r.i16()?,
            ..TxnOffsetCommitRequest::default()
        };
        if version >= 3 {
            m.generation_id = r.i32()?;
            m.member_id = r.string(flexible)?;
            m.group_instance_id = r.nullable_string(flexible)?;
        }
        m.topics = request_topics(r, flexible, version >= 2)?;
        end(r, flexible)?;
        Ok(m)
    }
}

impl<'a> Message<'a> for TxnOffsetCommitResponse<'a> {
    const API_KEY: ApiKey = ApiKey::TxnOffsetCommit;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        atomically(out, |out| {
            out.put_i32(self.throttle_time_ms);
            put_response_topics(out, flexible, &self.topics)?;
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let throttle_time_ms = r.i32()?;
        let topics = response_topics(r, flexible)?;
        end(r, flexible)?;
        Ok(TxnOffsetCommitResponse { throttle_time_ms, topics })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::ErrorCode;
    use crate::proto::test_util::{check_truncations, check_truncations_as, check_unsupported_versions};
    use alloc::vec;

    fn sample_request(version: i16) -> TxnOffsetCommitRequest<'static> {
        let p = |i, offset, metadata| TxnOffsetCommitRequestPartition {
            partition_index: i,
            committed_offset: offset,
            committed_leader_epoch: if version >= 2 { 6 } else { -1 },
            committed_metadata: metadata,
        };
        let group = version >= 3;
        TxnOffsetCommitRequest {
            transactional_id: "payments-txn",
            group_id: "billing",
            producer_id: 4711,
            producer_epoch: 3,
            generation_id: if group { 12 } else { -1 },
            member_id: if group { "consumer-1-9a" } else { "" },
            group_instance_id: if group { Some("host-a") } else { None },
            topics: vec![
                TxnOffsetCommitRequestTopic { name: "orders", partitions: vec![p(0, 42, Some("")), p(1, 7, None)] },
                TxnOffsetCommitRequestTopic { name: "payments", partitions: vec![] },
            ],
        }
    }

    fn sample_response() -> TxnOffsetCommitResponse<'static> {
        let p = |i, e: ErrorCode| TxnOffsetCommitResponsePartition { partition_index: i, error_code: e.0 };
        TxnOffsetCommitResponse {
            throttle_time_ms: 3,
            topics: vec![TxnOffsetCommitResponseTopic {
                name: "orders",
                partitions: vec![p(0, ErrorCode::NONE), p(1, ErrorCode::ILLEGAL_GENERATION)],
            }],
        }
    }

    #[test]
    fn round_trip_and_truncation_every_version() {
        for v in 0..=5 {
            check_truncations(&sample_request(v), v, &mut Vec::new());
            check_truncations(&TxnOffsetCommitRequest::default(), v, &mut Vec::new());
            check_truncations(&sample_response(), v, &mut Vec::new());
            check_truncations(&TxnOffsetCommitResponse::default(), v, &mut Vec::new());
        }
    }

    #[test]
    fn group_metadata_below_v3_is_an_error_and_the_leader_epoch_is_dropped_below_v2() {
        let with = sample_request(3);
        let cases = [
            (TxnOffsetCommitRequest { member_id: "", group_instance_id: None, ..with.clone() }, "generation_id"),
            (TxnOffsetCommitRequest { generation_id: -1, group_instance_id: None, ..with.clone() }, "member_id"),
            (TxnOffsetCommitRequest { generation_id: -1, member_id: "", ..with.clone() }, "group_instance_id"),
        ];
        for v in 0..3 {
            for (req, field) in &cases {
                let mut out = Vec::new();
                assert_eq!(req.encode(v, &mut out), Err(EncodeError::FieldNotInVersion(field)));
                assert!(out.is_empty(), "a failed encode leaves the buffer as it was");
            }
        }
        check_truncations_as(&sample_request(2), &sample_request(1), 1, &mut Vec::new());
    }

    #[test]
    fn unsupported_versions_are_typed_errors() {
        check_unsupported_versions(&sample_request(5), &[-1, 6]);
        check_unsupported_versions(&sample_response(), &[-1, 6]);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), v in -1i16..7) {
            let _ = TxnOffsetCommitRequest::decode(&mut Reader::new(&bytes), v);
            let _ = TxnOffsetCommitResponse::decode(&mut Reader::new(&bytes), v);
        }
    }
}
