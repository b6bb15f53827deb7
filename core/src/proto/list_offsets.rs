//! ListOffsets (key 2), versions 1-7. Flexible from v6. Needed by idem's broker so that real
//! consumers can find the start and end of a partition.

use alloc::vec::Vec;

/// Timestamp meaning "the latest offset" (log end).
pub const LATEST_TIMESTAMP: i64 = -1;
/// Timestamp meaning "the earliest offset" (log start).
pub const EARLIEST_TIMESTAMP: i64 = -2;

/// One partition asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListOffsetsPartition {
    /// Partition index.
    pub partition_index: i32,
    /// Current leader epoch (v4+), -1 if unknown. Not sent below v4 (Kafka marks it
    /// ignorable: the broker then skips the fencing check).
    pub current_leader_epoch: i32,
    /// Target timestamp, or [`LATEST_TIMESTAMP`] / [`EARLIEST_TIMESTAMP`].
    pub timestamp: i64,
}

impl Default for ListOffsetsPartition {
    fn default() -> Self {
        ListOffsetsPartition { partition_index: 0, current_leader_epoch: -1, timestamp: LATEST_TIMESTAMP }
    }
}

/// One topic asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOffsetsTopic<'a> {
    /// Topic name.
    pub name: &'a str,
    /// Partitions.
    pub partitions: Vec<ListOffsetsPartition>,
}

/// ListOffsets request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListOffsetsRequest<'a> {
    /// Replica id: -1 for consumers.
    pub replica_id: i32,
    /// Isolation level (v2+): 0 read uncommitted, 1 read committed. Encoding a non-zero value
    /// below v2 is an error.
    pub isolation_level: i8,
    /// Topics.
    pub topics: Vec<ListOffsetsTopic<'a>>,
}

impl Default for ListOffsetsRequest<'_> {
    fn default() -> Self {
        ListOffsetsRequest { replica_id: -1, isolation_level: 0, topics: Vec::new() }
    }
}

/// One partition's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListOffsetsPartitionResponse {
    /// Partition index.
    pub partition_index: i32,
    /// Error code.
    pub error_code: i16,
    /// Timestamp of the returned offset, -1 if none.
    pub timestamp: i64,
    /// The offset found.
    pub offset: i64,
    /// Leader epoch (v4+), -1 if unknown. Encoding another value below v4 is an error.
    pub leader_epoch: i32,
}

impl Default for ListOffsetsPartitionResponse {
    fn default() -> Self {
        ListOffsetsPartitionResponse { partition_index: 0, error_code: 0, timestamp: -1, offset: -1, leader_epoch: -1 }
    }
}

/// One topic's answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOffsetsTopicResponse<'a> {
    /// Topic name.
    pub name: &'a str,
    /// Partitions.
    pub partitions: Vec<ListOffsetsPartitionResponse>,
}

/// ListOffsets response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOffsetsResponse<'a> {
    /// Throttle time in ms (v2+). Not sent below v2.
    pub throttle_time_ms: i32,
    /// Topics.
    pub topics: Vec<ListOffsetsTopicResponse<'a>>,
}

use super::reader::{min_array, min_string};
use super::writer::atomically;
use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

impl<'a> Message<'a> for ListOffsetsRequest<'a> {
    const API_KEY: ApiKey = ApiKey::ListOffsets;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        if version < 2 && self.isolation_level != 0 {
            return Err(EncodeError::FieldNotInVersion("isolation_level"));
        }
        atomically(out, |out| self.encode_body(version, flexible, out))
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let t = usize::from(flexible);
        let mut m = ListOffsetsRequest { replica_id: r.i32()?, ..ListOffsetsRequest::default() };
        if version >= 2 {
            m.isolation_level = r.i8()?;
        }
        let min_partition = 12 + if version >= 4 { 4 } else { 0 } + t;
        m.topics = r.array_of(flexible, min_string(flexible) + min_array(flexible) + t, |r| {
            let name = r.string(flexible)?;
            let partitions = r.array_of(flexible, min_partition, |r| {
                let mut p = ListOffsetsPartition { partition_index: r.i32()?, ..ListOffsetsPartition::default() };
                if version >= 4 {
                    p.current_leader_epoch = r.i32()?;
                }
                p.timestamp = r.i64()?;
                if flexible {
                    r.skip_tagged_fields()?;
                }
                Ok(p)
            })?;
            if flexible {
                r.skip_tagged_fields()?;
            }
            Ok(ListOffsetsTopic { name, partitions })
        })?;
        if flexible {
            r.skip_tagged_fields()?;
        }
        Ok(m)
    }
}

impl ListOffsetsRequest<'_> {
    fn encode_body(&self, version: i16, flexible: bool, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_i32(self.replica_id);
        if version >= 2 {
            out.put_i8(self.isolation_level);
        }
        out.put_array_len(flexible, Some(self.topics.len()))?;
        for t in &self.topics {
            out.put_string(flexible, t.name)?;
            out.put_array_len(flexible, Some(t.partitions.len()))?;
            for p in &t.partitions {
                out.put_i32(p.partition_index);
                if version >= 4 {
                    out.put_i32(p.current_leader_epoch);
                }
                out.put_i64(p.timestamp);
                if flexible {
                    out.put_empty_tagged_fields();
                }
            }
            if flexible {
                out.put_empty_tagged_fields();
            }
        }
        if flexible {
            out.put_empty_tagged_fields();
        }
        Ok(())
    }
}

impl<'a> Message<'a> for ListOffsetsResponse<'a> {
    const API_KEY: ApiKey = ApiKey::ListOffsets;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        if version < 4 && self.topics.iter().flat_map(|t| &t.partitions).any(|p| p.leader_epoch != -1) {
            return Err(EncodeError::FieldNotInVersion("leader_epoch"));
        }
        atomically(out, |out| self.encode_body(version, flexible, out))
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let t = usize::from(flexible);
        let mut m = ListOffsetsResponse::default();
        if version >= 2 {
            m.throttle_time_ms = r.i32()?;
        }
        let min_partition = 22 + if version >= 4 { 4 } else { 0 } + t;
        m.topics = r.array_of(flexible, min_string(flexible) + min_array(flexible) + t, |r| {
            let name = r.string(flexible)?;
            let partitions = r.array_of(flexible, min_partition, |r| {
                let mut p = ListOffsetsPartitionResponse {
                    partition_index: r.i32()?,
                    error_code: r.i16()?,
                    timestamp: r.i64()?,
                    offset: r.i64()?,
                    ..ListOffsetsPartitionResponse::default()
                };
                if version >= 4 {
                    p.leader_epoch = r.i32()?;
                }
                if flexible {
                    r.skip_tagged_fields()?;
                }
                Ok(p)
            })?;
            if flexible {
                r.skip_tagged_fields()?;
            }
            Ok(ListOffsetsTopicResponse { name, partitions })
        })?;
        if flexible {
            r.skip_tagged_fields()?;
        }
        Ok(m)
    }
}

impl ListOffsetsResponse<'_> {
    fn encode_body(&self, version: i16, flexible: bool, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if version >= 2 {
            out.put_i32(self.throttle_time_ms);
        }
        out.put_array_len(flexible, Some(self.topics.len()))?;
        for t in &self.topics {
            out.put_string(flexible, t.name)?;
            out.put_array_len(flexible, Some(t.partitions.len()))?;
            for p in &t.partitions {
                out.put_i32(p.partition_index);
                out.put_i16(p.error_code);
                out.put_i64(p.timestamp);
                out.put_i64(p.offset);
                if version >= 4 {
                    out.put_i32(p.leader_epoch);
                }
                if flexible {
                    out.put_empty_tagged_fields();
                }
            }
            if flexible {
                out.put_empty_tagged_fields();
            }
        }
        if flexible {
            out.put_empty_tagged_fields();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::check_truncations;

    fn sample_request(version: i16) -> ListOffsetsRequest<'static> {
        let p = |i, ts| ListOffsetsPartition {
            partition_index: i,
            current_leader_epoch: if version >= 4 { 5 } else { -1 },
            timestamp: ts,
        };
        ListOffsetsRequest {
            replica_id: -1,
            isolation_level: if version >= 2 { 1 } else { 0 },
            topics: alloc::vec![
                ListOffsetsTopic {
                    name: "a",
                    partitions: alloc::vec![p(0, LATEST_TIMESTAMP), p(1, EARLIEST_TIMESTAMP)]
                },
                ListOffsetsTopic { name: "bb", partitions: alloc::vec![p(2, 1_700_000_000_000)] },
            ],
        }
    }

    fn sample_response(version: i16) -> ListOffsetsResponse<'static> {
        let p = |i, off| ListOffsetsPartitionResponse {
            partition_index: i,
            error_code: 0,
            timestamp: -1,
            offset: off,
            leader_epoch: if version >= 4 { 2 } else { -1 },
        };
        ListOffsetsResponse {
            throttle_time_ms: if version >= 2 { 3 } else { 0 },
            topics: alloc::vec![ListOffsetsTopicResponse { name: "a", partitions: alloc::vec![p(0, 42), p(1, 0)] }],
        }
    }

    #[test]
    fn round_trip_and_truncation_every_version() {
        for v in 1..=7 {
            let (req, resp) = (sample_request(v), sample_response(v));
            check_truncations(&req, v, &mut Vec::new());
            check_truncations(&resp, v, &mut Vec::new());
        }
    }

    #[test]
    fn unsupported_versions_are_typed_errors() {
        for v in [0, 8, -3] {
            let err = EncodeError::UnsupportedVersion { api_key: 2, version: v };
            assert_eq!(ListOffsetsRequest::default().encode(v, &mut Vec::new()), Err(err));
            assert_eq!(ListOffsetsResponse::default().encode(v, &mut Vec::new()), Err(err));
            let err = DecodeError::UnsupportedVersion { api_key: 2, version: v };
            let bytes = [0u8; 64];
            assert_eq!(ListOffsetsRequest::decode(&mut Reader::new(&bytes), v), Err(err));
            assert_eq!(ListOffsetsResponse::decode(&mut Reader::new(&bytes), v), Err(err));
        }
    }

    #[test]
    fn fields_a_version_cannot_carry() {
        let mut out = Vec::new();
        let req = ListOffsetsRequest { isolation_level: 1, ..ListOffsetsRequest::default() };
        assert_eq!(req.encode(1, &mut out), Err(EncodeError::FieldNotInVersion("isolation_level")));
        let mut resp = sample_response(4);
        assert_eq!(resp.encode(3, &mut out), Err(EncodeError::FieldNotInVersion("leader_epoch")));
        assert!(out.is_empty());
        // The request's current leader epoch is ignorable: dropped below v4.
        sample_request(4).encode(3, &mut out).unwrap();
        let back = ListOffsetsRequest::decode(&mut Reader::new(&out), 3).unwrap();
        assert_eq!(back, sample_request(3));
        // Throttle time is dropped below v2.
        resp.topics.clear();
        out.clear();
        resp.encode(1, &mut out).unwrap();
        assert_eq!(ListOffsetsResponse::decode(&mut Reader::new(&out), 1).unwrap().throttle_time_ms, 0);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), v in -1i16..15) {
            let _ = ListOffsetsRequest::decode(&mut Reader::new(&bytes), v);
            let _ = ListOffsetsResponse::decode(&mut Reader::new(&bytes), v);
        }
    }
}
