//! OffsetCommit (key 8), versions 2-8. Flexible from v8.
//!
//! A group member commits its consumed offsets to the group's coordinator. v2-4 carry a
//! retention time (removed in v5, KIP-211: retention is the broker's `offsets.retention.minutes`),
//! v6 the leader epoch of each committed offset (KIP-320), v7 the member's static instance id
//! (KIP-345). v0-1 are gone since Kafka 4.0 (KIP-896); v9, KIP-848's member epoch and topic ids,
//! is not spoken.

use alloc::vec::Vec;

use super::arrays::{end, put_end, put_structs, structs};
use super::reader::{min_array, min_string};
use super::writer::atomically;
use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

/// One partition's offset to commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetCommitRequestPartition<'a> {
    /// The partition index.
    pub partition_index: i32,
    /// The message offset to be committed (the next offset to consume).
    pub committed_offset: i64,
    /// The leader epoch of this partition (v6+), -1 if unknown. Not sent below v6 (Kafka marks
    /// it ignorable).
    pub committed_leader_epoch: i32,
    /// Any associated metadata the client wants to keep.
    pub committed_metadata: Option<&'a str>,
}

impl Default for OffsetCommitRequestPartition<'_> {
    fn default() -> Self {
        OffsetCommitRequestPartition {
            partition_index: 0,
            committed_offset: 0,
            committed_leader_epoch: -1,
            committed_metadata: Some(""),
        }
    }
}

/// One topic's offsets to commit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OffsetCommitRequestTopic<'a> {
    /// The topic name.
    pub name: &'a str,
    /// Each partition to commit offsets for.
    pub partitions: Vec<OffsetCommitRequestPartition<'a>>,
}

/// OffsetCommit request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetCommitRequest<'a> {
    /// The unique group identifier.
    pub group_id: &'a str,
    /// The generation of the group, -1 for a commit from outside the group's membership
    /// (a "simple" consumer that assigns partitions itself).
    pub generation_id: i32,
    /// The member ID assigned by the group coordinator, empty outside the membership.
    pub member_id: &'a str,
    /// The unique identifier of the consumer instance provided by end user (v7+, static
    /// membership), `None` for a dynamic member. Encoding `Some` below v7 is an error.
    pub group_instance_id: Option<&'a str>,
    /// The time period in ms to retain the offset (v2-4), -1 for the broker's default. Not sent
    /// from v5 on (Kafka marks it ignorable).
    pub retention_time_ms: i64,
    /// The topics to commit offsets for.
    pub topics: Vec<OffsetCommitRequestTopic<'a>>,
}

impl Default for OffsetCommitRequest<'_> {
    fn default() -> Self {
        OffsetCommitRequest {
            group_id: "",
            generation_id: -1,
            member_id: "",
            group_instance_id: None,
            retention_time_ms: -1,
            topics: Vec::new(),
        }
    }
}

/// One partition's commit result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OffsetCommitResponsePartition {
    /// The partition index.
    pub partition_index: i32,
    /// The error code, or 0 if there was no error.
    pub error_code: i16,
}

/// One topic's commit results.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OffsetCommitResponseTopic<'a> {
    /// The topic name.
    pub name: &'a str,
    /// The responses for each partition in the topic.
    pub partitions: Vec<OffsetCommitResponsePartition>,
}

/// OffsetCommit response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OffsetCommitResponse<'a> {
    /// The duration in milliseconds for which the request was throttled due to a quota
    /// violation, or zero if the request did not violate any quota (v3+). Not sent below v3.
    pub throttle_time_ms: i32,
    /// The responses for each topic.
    pub topics: Vec<OffsetCommitResponseTopic<'a>>,
}

impl<'a> Message<'a> for OffsetCommitRequest<'a> {
    const API_KEY: ApiKey = ApiKey::OffsetCommit;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        if version < 7 && self.group_instance_id.is_some() {
            return Err(EncodeError::FieldNotInVersion("group_instance_id"));
        }
        atomically(out, |out| self.encode_body(version, flexible, out))
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = OffsetCommitRequest {
            group_id: r.string(flexible)?,
            generation_id: r.i32()?,
            member_id: r.string(flexible)?,
            ..OffsetCommitRequest::default()
        };
        if version >= 7 {
            m.group_instance_id = r.nullable_string(flexible)?;
        }
        if version <= 4 {
            m.retention_time_ms = r.i64()?;
        }
        m.topics = request_topics(r, flexible, version >= 6)?;
        end(r, flexible)?;
        Ok(m)
    }
}

impl OffsetCommitRequest<'_> {
    fn encode_body(&self, version: i16, flexible: bool, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_string(flexible, self.group_id)?;
        out.put_i32(self.generation_id);
        out.put_string(flexible, self.member_id)?;
        if version >= 7 {
            out.put_nullable_string(flexible, self.group_instance_id)?;
        }
        if version <= 4 {
            out.put_i64(self.retention_time_ms);
        }
        put_request_topics(out, flexible, &self.topics, version >= 6)?;
        put_end(out, flexible);
        Ok(())
    }
}

/// Writes the topics of an offset commit (OffsetCommit, TxnOffsetCommit): each topic's name and
/// partitions, with the leader epoch of each offset if `leader_epoch` (the version carries it).
pub(crate) fn put_request_topics(
    out: &mut Vec<u8>,
    flexible: bool,
    topics: &[OffsetCommitRequestTopic<'_>],
    leader_epoch: bool,
) -> Result<(), EncodeError> {
    put_structs(out, flexible, topics, |out, t| {
        out.put_string(flexible, t.name)?;
        put_structs(out, flexible, &t.partitions, |out, p| {
            out.put_i32(p.partition_index);
            out.put_i64(p.committed_offset);
            if leader_epoch {
                out.put_i32(p.committed_leader_epoch);
            }
            out.put_nullable_string(flexible, p.committed_metadata)
        })
    })
}

/// Reads what [`put_request_topics`] writes.
pub(crate) fn request_topics<'a>(
    r: &mut Reader<'a>,
    flexible: bool,
    leader_epoch: bool,
) -> Result<Vec<OffsetCommitRequestTopic<'a>>, DecodeError> {
    let s = min_string(flexible);
    let min_partition = 12 + if leader_epoch { 4 } else { 0 } + s;
    structs(r, flexible, s + min_array(flexible), |r| {
        let name = r.string(flexible)?;
        let partitions = structs(r, flexible, min_partition, |r| {
            let mut p = OffsetCommitRequestPartition {
                partition_index: r.i32()?,
                committed_offset: r.i64()?,
                ..OffsetCommitRequestPartition::default()
            };
            if leader_epoch {
                p.committed_leader_epoch = r.i32()?;
            }
            p.committed_metadata = r.nullable_string(flexible)?;
            Ok(p)
        })?;
        Ok(OffsetCommitRequestTopic { name, partitions })
    })
}

/// Writes the per-partition results of an offset commit (OffsetCommit, TxnOffsetCommit).
pub(crate) fn put_response_topics(
    out: &mut Vec<u8>,
    flexible: bool,
    topics: &[OffsetCommitResponseTopic<'_>],
) -> Result<(), EncodeError> {
    put_structs(out, flexible, topics, |out, t| {
        out.put_string(flexible, t.name)?;
        put_structs(out, flexible, &t.partitions, |out, p| {
            out.put_i32(p.partition_index);
            out.put_i16(p.error_code);
            Ok(())
        })
    })
}

/// Reads what [`put_response_topics`] writes.
pub(crate) fn response_topics<'a>(
    r: &mut Reader<'a>,
    flexible: bool,
) -> Result<Vec<OffsetCommitResponseTopic<'a>>, DecodeError> {
    structs(r, flexible, min_string(flexible) + min_array(flexible), |r| {
        let name = r.string(flexible)?;
        let partitions = structs(r, flexible, 6, |r| {
            Ok(OffsetCommitResponsePartition { partition_index: r.i32()?, error_code: r.i16()? })
        })?;
        Ok(OffsetCommitResponseTopic { name, partitions })
    })
}

impl<'a> Message<'a> for OffsetCommitResponse<'a> {
    const API_KEY: ApiKey = ApiKey::OffsetCommit;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        atomically(out, |out| {
            if version >= 3 {
                out.put_i32(self.throttle_time_ms);
            }
            put_response_topics(out, flexible, &self.topics)?;
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = OffsetCommitResponse::default();
        if version >= 3 {
            m.throttle_time_ms = r.i32()?;
        }
        m.topics = response_topics(r, flexible)?;
        end(r, flexible)?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::{check_truncations, check_truncations_as, check_unsupported_versions};

    fn sample_request(version: i16) -> OffsetCommitRequest<'static> {
        let p = |i, offset, metadata| OffsetCommitRequestPartition {
            partition_index: i,
            committed_offset: offset,
            committed_leader_epoch: if version >= 6 { 3 } else { -1 },
            committed_metadata: metadata,
        };
        OffsetCommitRequest {
            group_id: "billing",
            generation_id: 4,
            member_id: "rdkafka-1f2e",
            group_instance_id: if version >= 7 { Some("host-a") } else { None },
            retention_time_ms: if version <= 4 { 86_400_000 } else { -1 },
            topics: alloc::vec![
                OffsetCommitRequestTopic { name: "orders", partitions: alloc::vec![p(0, 42, Some("")), p(1, 7, None)] },
                OffsetCommitRequestTopic { name: "payments", partitions: alloc::vec![p(3, 0, Some("m"))] },
            ],
        }
    }

    fn sample_response(version: i16) -> OffsetCommitResponse<'static> {
        let p = |i, error| OffsetCommitResponsePartition { partition_index: i, error_code: error };
        OffsetCommitResponse {
            throttle_time_ms: if version >= 3 { 11 } else { 0 },
            topics: alloc::vec![OffsetCommitResponseTopic {
                name: "orders",
                partitions: alloc::vec![p(0, 0), p(1, 22)]
            }],
        }
    }

    #[test]
    fn round_trip_and_truncation_every_version() {
        for v in 2..=8 {
            check_truncations(&sample_request(v), v, &mut Vec::new());
            check_truncations(&OffsetCommitRequest::default(), v, &mut Vec::new());
            check_truncations(&sample_response(v), v, &mut Vec::new());
            check_truncations(&OffsetCommitResponse::default(), v, &mut Vec::new());
        }
    }

    #[test]
    fn unsupported_versions_are_typed_errors() {
        check_unsupported_versions(&OffsetCommitRequest::default(), &[0, 1, 9, -1]);
        check_unsupported_versions(&OffsetCommitResponse::default(), &[0, 1, 9, -1]);
    }

    #[test]
    fn fields_a_version_cannot_carry() {
        let mut out = Vec::new();
        let static_member = sample_request(7);
        assert_eq!(static_member.encode(6, &mut out), Err(EncodeError::FieldNotInVersion("group_instance_id")));
        assert!(out.is_empty(), "a failed encode leaves the buffer as it was");
        // The leader epoch, the retention time and the throttle time are ignorable: dropped.
        check_truncations_as(&sample_request(6), &sample_request(5), 5, &mut Vec::new());
        check_truncations_as(&sample_request(4), &sample_request(5), 5, &mut Vec::new());
        check_truncations_as(&sample_response(3), &sample_response(2), 2, &mut Vec::new());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), v in -1i16..11) {
            let _ = OffsetCommitRequest::decode(&mut Reader::new(&bytes), v);
            let _ = OffsetCommitResponse::decode(&mut Reader::new(&bytes), v);
        }
    }
}
