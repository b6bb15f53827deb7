//! OffsetFetch (key 9), versions 1-8. Flexible from v6.
//!
//! A client asks a group's coordinator for the group's committed offsets. v1-7 ask for one
//! group: from v2 a null topic list asks for every topic the group committed, and the response
//! gains a top-level error code; v5 adds the committed leader epoch (KIP-320), v7 the
//! `require_stable` flag (KIP-447). v8 (KIP-709) asks for several groups at once: the top-level
//! group and topics give way to `groups`, and the response answers per group. v0 is gone since
//! Kafka 4.0 (KIP-896); v9, KIP-848's member id and epoch, is not spoken.

use alloc::vec::Vec;

use super::arrays::{end, i32s, put_end, put_i32s, put_structs, structs};
use super::reader::{min_array, min_string, min_tags};
use super::writer::atomically;
use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

/// One topic asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OffsetFetchRequestTopic<'a> {
    /// The topic name.
    pub name: &'a str,
    /// The partition indexes we would like to fetch offsets for.
    pub partition_indexes: Vec<i32>,
}

/// One group asked for (v8+).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetFetchRequestGroup<'a> {
    /// The group ID.
    pub group_id: &'a str,
    /// Each topic we would like to fetch offsets for, or `None` to fetch offsets for all topics.
    pub topics: Option<Vec<OffsetFetchRequestTopic<'a>>>,
}

impl Default for OffsetFetchRequestGroup<'_> {
    fn default() -> Self {
        OffsetFetchRequestGroup { group_id: "", topics: Some(Vec::new()) }
    }
}

/// OffsetFetch request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetFetchRequest<'a> {
    /// The group to fetch offsets for (v1-7). Encoding a non-empty id in v8 is an error.
    pub group_id: &'a str,
    /// Each topic we would like to fetch offsets for, or `None` to fetch offsets for all topics
    /// (v2-7; a null list cannot be sent in v1). In v8 it must be the default, an empty list:
    /// anything else is an encoding error.
    pub topics: Option<Vec<OffsetFetchRequestTopic<'a>>>,
    /// Each group we would like to fetch offsets for (v8+). Encoding a non-empty list below v8
    /// is an error.
    pub groups: Vec<OffsetFetchRequestGroup<'a>>,
    /// Whether broker should hold on returning unstable offsets but set a retriable error code
    /// for the partitions (v7+). Encoding `true` below v7 is an error.
    pub require_stable: bool,
}

impl Default for OffsetFetchRequest<'_> {
    fn default() -> Self {
        OffsetFetchRequest { group_id: "", topics: Some(Vec::new()), groups: Vec::new(), require_stable: false }
    }
}

/// One partition's committed offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetFetchResponsePartition<'a> {
    /// The partition index.
    pub partition_index: i32,
    /// The committed message offset, -1 if the group committed none.
    pub committed_offset: i64,
    /// The leader epoch (v5+), -1 if unknown. Not sent below v5 (Kafka marks it ignorable).
    pub committed_leader_epoch: i32,
    /// The partition metadata.
    pub metadata: Option<&'a str>,
    /// The error code, or 0 if there was no error.
    pub error_code: i16,
}

impl Default for OffsetFetchResponsePartition<'_> {
    fn default() -> Self {
        OffsetFetchResponsePartition {
            partition_index: 0,
            committed_offset: 0,
            committed_leader_epoch: -1,
            metadata: Some(""),
            error_code: 0,
        }
    }
}

/// One topic's committed offsets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OffsetFetchResponseTopic<'a> {
    /// The topic name.
    pub name: &'a str,
    /// The responses per partition.
    pub partitions: Vec<OffsetFetchResponsePartition<'a>>,
}

/// One group's committed offsets (v8+).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OffsetFetchResponseGroup<'a> {
    /// The group ID.
    pub group_id: &'a str,
    /// The responses per topic.
    pub topics: Vec<OffsetFetchResponseTopic<'a>>,
    /// The group-level error code, or 0 if there was no error.
    pub error_code: i16,
}

/// OffsetFetch response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OffsetFetchResponse<'a> {
    /// The duration in milliseconds for which the request was throttled due to a quota
    /// violation, or zero if the request did not violate any quota (v3+). Not sent below v3.
    pub throttle_time_ms: i32,
    /// The responses per topic (v1-7). Encoding a non-empty list in v8 is an error.
    pub topics: Vec<OffsetFetchResponseTopic<'a>>,
    /// The top-level error code, or 0 if there was no error (v2-7). Not sent in other versions
    /// (Kafka marks it ignorable; v8 carries an error code per group).
    pub error_code: i16,
    /// The responses per group id (v8+). Encoding a non-empty list below v8 is an error.
    pub groups: Vec<OffsetFetchResponseGroup<'a>>,
}

impl<'a> Message<'a> for OffsetFetchRequest<'a> {
    const API_KEY: ApiKey = ApiKey::OffsetFetch;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        if version >= 8 {
            if !self.group_id.is_empty() {
                return Err(EncodeError::FieldNotInVersion("group_id"));
            }
            if self.topics.as_ref().is_none_or(|t| !t.is_empty()) {
                return Err(EncodeError::FieldNotInVersion("topics"));
            }
        } else {
            if !self.groups.is_empty() {
                return Err(EncodeError::FieldNotInVersion("groups"));
            }
            if version < 2 && self.topics.is_none() {
                return Err(EncodeError::FieldNotInVersion("null topics"));
            }
        }
        if version < 7 && self.require_stable {
            return Err(EncodeError::FieldNotInVersion("require_stable"));
        }
        atomically(out, |out| {
            if version >= 8 {
                put_structs(out, flexible, &self.groups, |out, g| {
                    out.put_string(flexible, g.group_id)?;
                    put_request_topics(out, flexible, g.topics.as_deref())
                })?;
            } else {
                out.put_string(flexible, self.group_id)?;
                put_request_topics(out, flexible, self.topics.as_deref())?;
            }
            if version >= 7 {
                out.put_bool(self.require_stable);
            }
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = OffsetFetchRequest::default();
        if version >= 8 {
            m.groups = structs(r, flexible, min_string(flexible) + min_array(flexible), |r| {
                Ok(OffsetFetchRequestGroup { group_id: r.string(flexible)?, topics: request_topics(r, flexible)? })
            })?;
        } else {
            m.group_id = r.string(flexible)?;
            m.topics = request_topics(r, flexible)?;
            if version < 2 && m.topics.is_none() {
                return Err(DecodeError::UnexpectedNull);
            }
        }
        if version >= 7 {
            m.require_stable = r.bool()?;
        }
        end(r, flexible)?;
        Ok(m)
    }
}

/// The topics of a request (the whole request's in v1-7, a group's in v8): a nullable array.
fn put_request_topics(
    out: &mut Vec<u8>,
    flexible: bool,
    topics: Option<&[OffsetFetchRequestTopic<'_>]>,
) -> Result<(), EncodeError> {
    let Some(topics) = topics else { return out.put_array_len(flexible, None) };
    put_structs(out, flexible, topics, |out, t| {
        out.put_string(flexible, t.name)?;
        put_i32s(out, flexible, &t.partition_indexes)
    })
}

/// Reads the topics of a request (see [`put_request_topics`]).
fn request_topics<'a>(
    r: &mut Reader<'a>,
    flexible: bool,
) -> Result<Option<Vec<OffsetFetchRequestTopic<'a>>>, DecodeError> {
    let min_topic = min_string(flexible) + min_array(flexible) + min_tags(flexible);
    let Some(n) = r.nullable_array_len(flexible, min_topic)? else { return Ok(None) };
    let mut topics = Vec::with_capacity(n);
    for _ in 0..n {
        let t = OffsetFetchRequestTopic { name: r.string(flexible)?, partition_indexes: i32s(r, flexible)? };
        end(r, flexible)?;
        topics.push(t);
    }
    Ok(Some(topics))
}

impl<'a> Message<'a> for OffsetFetchResponse<'a> {
    const API_KEY: ApiKey = ApiKey::OffsetFetch;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        if version >= 8 && !self.topics.is_empty() {
            return Err(EncodeError::FieldNotInVersion("topics"));
        }
        if version < 8 && !self.groups.is_empty() {
            return Err(EncodeError::FieldNotInVersion("groups"));
        }
        atomically(out, |out| {
            if version >= 3 {
                out.put_i32(self.throttle_time_ms);
            }
            if version >= 8 {
                put_structs(out, flexible, &self.groups, |out, g| {
                    out.put_string(flexible, g.group_id)?;
                    put_response_topics(out, version, flexible, &g.topics)?;
                    out.put_i16(g.error_code);
                    Ok(())
                })?;
            } else {
                put_response_topics(out, version, flexible, &self.topics)?;
                if version >= 2 {
                    out.put_i16(self.error_code);
                }
            }
            put_end(out, flexible);
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = OffsetFetchResponse::default();
        if version >= 3 {
            m.throttle_time_ms = r.i32()?;
        }
        if version >= 8 {
            m.groups = structs(r, flexible, min_string(flexible) + min_array(flexible) + 2, |r| {
                Ok(OffsetFetchResponseGroup {
                    group_id: r.string(flexible)?,
                    topics: response_topics(r, version, flexible)?,
                    error_code: r.i16()?,
                })
            })?;
        } else {
            m.topics = response_topics(r, version, flexible)?;
            if version >= 2 {
                m.error_code = r.i16()?;
            }
        }
        end(r, flexible)?;
        Ok(m)
    }
}

/// The topics of a response (the whole response's in v1-7, a group's in v8).
fn put_response_topics(
    out: &mut Vec<u8>,
    version: i16,
    flexible: bool,
    topics: &[OffsetFetchResponseTopic<'_>],
) -> Result<(), EncodeError> {
    put_structs(out, flexible, topics, |out, t| {
        out.put_string(flexible, t.name)?;
        put_structs(out, flexible, &t.partitions, |out, p| {
            out.put_i32(p.partition_index);
            out.put_i64(p.committed_offset);
            if version >= 5 {
                out.put_i32(p.committed_leader_epoch);
            }
            out.put_nullable_string(flexible, p.metadata)?;
            out.put_i16(p.error_code);
            Ok(())
        })
    })
}

/// Reads the topics of a response (see [`put_response_topics`]).
fn response_topics<'a>(
    r: &mut Reader<'a>,
    version: i16,
    flexible: bool,
) -> Result<Vec<OffsetFetchResponseTopic<'a>>, DecodeError> {
    let s = min_string(flexible);
    let min_partition = 12 + if version >= 5 { 4 } else { 0 } + s + 2;
    structs(r, flexible, s + min_array(flexible), |r| {
        let name = r.string(flexible)?;
        let partitions = structs(r, flexible, min_partition, |r| {
            let mut p = OffsetFetchResponsePartition {
                partition_index: r.i32()?,
                committed_offset: r.i64()?,
                ..OffsetFetchResponsePartition::default()
            };
            if version >= 5 {
                p.committed_leader_epoch = r.i32()?;
            }
            p.metadata = r.nullable_string(flexible)?;
            p.error_code = r.i16()?;
            Ok(p)
        })?;
        Ok(OffsetFetchResponseTopic { name, partitions })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::{check_truncations, check_truncations_as, check_unsupported_versions};

    fn topics() -> Vec<OffsetFetchRequestTopic<'static>> {
        alloc::vec![
            OffsetFetchRequestTopic { name: "orders", partition_indexes: alloc::vec![0, 1, 2] },
            OffsetFetchRequestTopic { name: "payments", partition_indexes: Vec::new() },
        ]
    }

    fn sample_request(version: i16) -> OffsetFetchRequest<'static> {
        let require_stable = version >= 7;
        if version >= 8 {
            let groups = alloc::vec![
                OffsetFetchRequestGroup { group_id: "billing", topics: Some(topics()) },
                OffsetFetchRequestGroup { group_id: "audit", topics: None },
            ];
            OffsetFetchRequest { groups, require_stable, ..OffsetFetchRequest::default() }
        } else {
            OffsetFetchRequest { group_id: "billing", topics: Some(topics()), require_stable, ..Default::default() }
        }
    }

    fn partitions(version: i16) -> Vec<OffsetFetchResponsePartition<'static>> {
        let epoch = if version >= 5 { 9 } else { -1 };
        let p = |i, offset, metadata, error| OffsetFetchResponsePartition {
            partition_index: i,
            committed_offset: offset,
            committed_leader_epoch: epoch,
            metadata,
            error_code: error,
        };
        alloc::vec![p(0, 42, Some(""), 0), p(1, -1, None, 0), p(2, 5, Some("m"), 86)]
    }

    fn sample_response(version: i16) -> OffsetFetchResponse<'static> {
        let topic = OffsetFetchResponseTopic { name: "orders", partitions: partitions(version) };
        let throttle_time_ms = if version >= 3 { 8 } else { 0 };
        if version >= 8 {
            let groups = alloc::vec![
                OffsetFetchResponseGroup { group_id: "billing", topics: alloc::vec![topic], error_code: 0 },
                OffsetFetchResponseGroup { group_id: "audit", topics: Vec::new(), error_code: 16 },
            ];
            OffsetFetchResponse { throttle_time_ms, groups, ..OffsetFetchResponse::default() }
        } else {
            let error_code = if version >= 2 { 15 } else { 0 };
            OffsetFetchResponse { throttle_time_ms, topics: alloc::vec![topic], error_code, groups: Vec::new() }
        }
    }

    #[test]
    fn round_trip_and_truncation_every_version() {
        for v in 1..=8 {
            check_truncations(&sample_request(v), v, &mut Vec::new());
            check_truncations(&OffsetFetchRequest::default(), v, &mut Vec::new());
            if (2..8).contains(&v) {
                let all = OffsetFetchRequest { topics: None, ..sample_request(v) };
                check_truncations(&all, v, &mut Vec::new());
            }
            check_truncations(&sample_response(v), v, &mut Vec::new());
            check_truncations(&OffsetFetchResponse::default(), v, &mut Vec::new());
        }
    }

    #[test]
    fn unsupported_versions_are_typed_errors() {
        check_unsupported_versions(&OffsetFetchRequest::default(), &[0, 9, -1]);
        check_unsupported_versions(&OffsetFetchResponse::default(), &[0, 9, -1]);
    }

    #[test]
    fn fields_a_version_cannot_carry() {
        let mut out = Vec::new();
        let enc = |m: &OffsetFetchRequest<'_>, v, out: &mut Vec<u8>| m.encode(v, out);
        let field = EncodeError::FieldNotInVersion;
        assert_eq!(enc(&sample_request(8), 7, &mut out), Err(field("groups")));
        assert_eq!(enc(&sample_request(7), 8, &mut out), Err(field("group_id")));
        let all = OffsetFetchRequest { topics: None, ..OffsetFetchRequest::default() };
        assert_eq!(enc(&all, 8, &mut out), Err(field("topics")));
        assert_eq!(enc(&all, 1, &mut out), Err(field("null topics")));
        let stable = OffsetFetchRequest { require_stable: true, ..OffsetFetchRequest::default() };
        assert_eq!(enc(&stable, 6, &mut out), Err(field("require_stable")));
        assert_eq!(sample_response(8).encode(7, &mut out), Err(field("groups")));
        assert_eq!(sample_response(7).encode(8, &mut out), Err(field("topics")));
        assert!(out.is_empty(), "a failed encode leaves the buffer as it was");
        // The leader epoch, the top-level error code and the throttle time are ignorable.
        check_truncations_as(&sample_response(5), &sample_response(4), 4, &mut Vec::new());
        check_truncations_as(&sample_response(3), &sample_response(1), 1, &mut Vec::new());
    }

    #[test]
    fn null_topics_below_v2_are_rejected_on_decode() {
        let all = OffsetFetchRequest { topics: None, ..OffsetFetchRequest::default() };
        let mut out = Vec::new();
        all.encode(2, &mut out).expect("v2 carries a null topic list");
        assert_eq!(OffsetFetchRequest::decode(&mut Reader::new(&out), 2), Ok(all));
        assert_eq!(OffsetFetchRequest::decode(&mut Reader::new(&out), 1), Err(DecodeError::UnexpectedNull));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), v in -1i16..11) {
            let _ = OffsetFetchRequest::decode(&mut Reader::new(&bytes), v);
            let _ = OffsetFetchResponse::decode(&mut Reader::new(&bytes), v);
        }
    }
}
