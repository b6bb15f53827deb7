//! Fetch (key 1), versions 4-12. Flexible from v12. Needed by idem's broker so that real
//! consumers can read back what was produced.

use alloc::vec::Vec;

/// [`FetchRequest::isolation_level`]: every record, committed or not (KIP-98).
pub const READ_UNCOMMITTED: i8 = 0;
/// [`FetchRequest::isolation_level`]: only records of committed transactions, up to the last
/// stable offset (KIP-98).
pub const READ_COMMITTED: i8 = 1;

/// One partition asked for in a Fetch request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchPartition {
    /// Partition index.
    pub partition: i32,
    /// Current leader epoch (v9+), -1 if unknown.
    pub current_leader_epoch: i32,
    /// Offset to fetch from.
    pub fetch_offset: i64,
    /// Epoch of the last fetched record (v12+), -1 if unknown.
    pub last_fetched_epoch: i32,
    /// Follower's log start offset (v5+), -1 for consumers.
    pub log_start_offset: i64,
    /// Maximum bytes to return for this partition.
    pub partition_max_bytes: i32,
}

impl Default for FetchPartition {
    fn default() -> Self {
        FetchPartition {
            partition: 0,
            current_leader_epoch: -1,
            fetch_offset: 0,
            last_fetched_epoch: -1,
            log_start_offset: -1,
            partition_max_bytes: 0,
        }
    }
}

/// One topic asked for in a Fetch request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FetchTopic<'a> {
    /// Topic name.
    pub topic: &'a str,
    /// Partitions.
    pub partitions: Vec<FetchPartition>,
}

/// Topic partitions removed from an incremental fetch session (v7+).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ForgottenTopic<'a> {
    /// Topic name.
    pub topic: &'a str,
    /// Partition indexes.
    pub partitions: Vec<i32>,
}

/// Fetch request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchRequest<'a> {
    /// Cluster id (v12+, tagged field 0), if known.
    pub cluster_id: Option<&'a str>,
    /// Replica id: -1 for consumers.
    pub replica_id: i32,
    /// Maximum wait in ms.
    pub max_wait_ms: i32,
    /// Minimum bytes to accumulate.
    pub min_bytes: i32,
    /// Maximum bytes to return.
    pub max_bytes: i32,
    /// Isolation level: [`READ_UNCOMMITTED`] or [`READ_COMMITTED`].
    pub isolation_level: i8,
    /// Fetch session id (v7+).
    pub session_id: i32,
    /// Fetch session epoch (v7+), -1 for full fetches without sessions.
    pub session_epoch: i32,
    /// Topics.
    pub topics: Vec<FetchTopic<'a>>,
    /// Forgotten topics (v7+).
    pub forgotten_topics_data: Vec<ForgottenTopic<'a>>,
    /// Rack id (v11+).
    pub rack_id: &'a str,
}

impl Default for FetchRequest<'_> {
    fn default() -> Self {
        FetchRequest {
            cluster_id: None,
            replica_id: -1,
            max_wait_ms: 0,
            min_bytes: 0,
            max_bytes: i32::MAX,
            isolation_level: READ_UNCOMMITTED,
            session_id: 0,
            session_epoch: -1,
            topics: Vec::new(),
            forgotten_topics_data: Vec::new(),
            rack_id: "",
        }
    }
}

/// An aborted transaction in a Fetch response (v4+).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AbortedTransaction {
    /// Producer id.
    pub producer_id: i64,
    /// First offset of the aborted transaction.
    pub first_offset: i64,
}

/// One partition's data in a Fetch response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchPartitionData<'a> {
    /// Partition index.
    pub partition_index: i32,
    /// Error code.
    pub error_code: i16,
    /// High watermark.
    pub high_watermark: i64,
    /// Last stable offset (v4+).
    pub last_stable_offset: i64,
    /// Log start offset (v5+).
    pub log_start_offset: i64,
    /// Aborted transactions (v4+); `None` is a null array.
    pub aborted_transactions: Option<Vec<AbortedTransaction>>,
    /// Preferred read replica (v11+), -1 if none.
    pub preferred_read_replica: i32,
    /// Record batches, borrowed.
    pub records: Option<&'a [u8]>,
}

impl Default for FetchPartitionData<'_> {
    fn default() -> Self {
        FetchPartitionData {
            partition_index: 0,
            error_code: 0,
            high_watermark: -1,
            last_stable_offset: -1,
            log_start_offset: -1,
            aborted_transactions: None,
            preferred_read_replica: -1,
            records: None,
        }
    }
}

/// One topic's data in a Fetch response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FetchableTopicResponse<'a> {
    /// Topic name.
    pub topic: &'a str,
    /// Partitions.
    pub partitions: Vec<FetchPartitionData<'a>>,
}

/// Fetch response. Tagged fields of v12 (diverging epoch, current leader, snapshot id) are
/// skipped on decode and not written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FetchResponse<'a> {
    /// Throttle time in ms.
    pub throttle_time_ms: i32,
    /// Top-level error code (v7+).
    pub error_code: i16,
    /// Fetch session id (v7+).
    pub session_id: i32,
    /// Topics.
    pub responses: Vec<FetchableTopicResponse<'a>>,
}

use super::writer::{atomically, uvarint_len};
use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

impl FetchPartition {
    fn encode(&self, version: i16, flexible: bool, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_i32(self.partition);
        if version >= 9 {
            out.put_i32(self.current_leader_epoch);
        }
        out.put_i64(self.fetch_offset);
        if version >= 12 {
            out.put_i32(self.last_fetched_epoch);
        } else if self.last_fetched_epoch != -1 {
            return Err(EncodeError::FieldNotInVersion("FetchPartition.last_fetched_epoch"));
        }
        if version >= 5 {
            out.put_i64(self.log_start_offset);
        }
        out.put_i32(self.partition_max_bytes);
        if flexible {
            out.put_empty_tagged_fields();
        }
        Ok(())
    }

    /// Fewest bytes one partition takes in `version`.
    const fn min_size(version: i16, flexible: bool) -> usize {
        let mut n = 4 + 8 + 4;
        if version >= 9 {
            n += 4;
        }
        if version >= 12 {
            n += 4;
        }
        if version >= 5 {
            n += 8;
        }
        if flexible {
            n += 1;
        }
        n
    }

    fn decode(r: &mut Reader<'_>, version: i16, flexible: bool) -> Result<Self, DecodeError> {
        let mut p = FetchPartition { partition: r.i32()?, ..FetchPartition::default() };
        if version >= 9 {
            p.current_leader_epoch = r.i32()?;
        }
        p.fetch_offset = r.i64()?;
        if version >= 12 {
            p.last_fetched_epoch = r.i32()?;
        }
        if version >= 5 {
            p.log_start_offset = r.i64()?;
        }
        p.partition_max_bytes = r.i32()?;
        if flexible {
            r.skip_tagged_fields()?;
        }
        Ok(p)
    }
}

impl<'a> Message<'a> for FetchRequest<'a> {
    const API_KEY: ApiKey = ApiKey::Fetch;

    /// Appends the request; on error nothing is appended. Non-default `last_fetched_epoch`
    /// below v12 and non-empty `forgotten_topics_data` below v7 are
    /// [`EncodeError::FieldNotInVersion`]; other fields a version lacks are omitted.
    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        atomically(out, |out| {
            out.put_i32(self.replica_id);
            out.put_i32(self.max_wait_ms);
            out.put_i32(self.min_bytes);
            out.put_i32(self.max_bytes);
            out.put_i8(self.isolation_level);
            if version >= 7 {
                out.put_i32(self.session_id);
                out.put_i32(self.session_epoch);
            }
            out.put_array_len(flexible, Some(self.topics.len()))?;
            for t in &self.topics {
                out.put_string(flexible, t.topic)?;
                out.put_array_len(flexible, Some(t.partitions.len()))?;
                for p in &t.partitions {
                    p.encode(version, flexible, out)?;
                }
                if flexible {
                    out.put_empty_tagged_fields();
                }
            }
            if version >= 7 {
                out.put_array_len(flexible, Some(self.forgotten_topics_data.len()))?;
                for t in &self.forgotten_topics_data {
                    out.put_string(flexible, t.topic)?;
                    out.put_array_len(flexible, Some(t.partitions.len()))?;
                    for p in &t.partitions {
                        out.put_i32(*p);
                    }
                    if flexible {
                        out.put_empty_tagged_fields();
                    }
                }
            } else if !self.forgotten_topics_data.is_empty() {
                return Err(EncodeError::FieldNotInVersion("FetchRequest.forgotten_topics_data"));
            }
            if version >= 11 {
                out.put_string(flexible, self.rack_id)?;
            }
            if flexible {
                match self.cluster_id {
                    Some(id) => {
                        if id.len() >= u32::MAX as usize {
                            return Err(EncodeError::TooLong { length: id.len() });
                        }
                        let size = uvarint_len(id.len() as u32 + 1) + id.len();
                        if size > u32::MAX as usize {
                            return Err(EncodeError::TooLong { length: size });
                        }
                        out.put_uvarint(1);
                        out.put_uvarint(0);
                        out.put_uvarint(size as u32);
                        out.put_string(true, id)?;
                    }
                    None => out.put_empty_tagged_fields(),
                }
            }
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = FetchRequest {
            replica_id: r.i32()?,
            max_wait_ms: r.i32()?,
            min_bytes: r.i32()?,
            max_bytes: r.i32()?,
            isolation_level: r.i8()?,
            ..FetchRequest::default()
        };
        if version >= 7 {
            m.session_id = r.i32()?;
            m.session_epoch = r.i32()?;
        }
        // Smallest topic: empty name + empty array (+ tags).
        let topic_min = if flexible { 3 } else { 6 };
        let partition_min = FetchPartition::min_size(version, flexible);
        m.topics = r.array_of(flexible, topic_min, |r| {
            let topic = r.string(flexible)?;
            let partitions = r.array_of(flexible, partition_min, |r| FetchPartition::decode(r, version, flexible))?;
            if flexible {
                r.skip_tagged_fields()?;
            }
            Ok(FetchTopic { topic, partitions })
        })?;
        if version >= 7 {
            let forgotten = r.array_of(flexible, topic_min, |r| {
                let topic = r.string(flexible)?;
                let partitions = r.array_of(flexible, 4, Reader::i32)?;
                if flexible {
                    r.skip_tagged_fields()?;
                }
                Ok(ForgottenTopic { topic, partitions })
            })?;
            m.forgotten_topics_data = forgotten;
        }
        if version >= 11 {
            m.rack_id = r.string(flexible)?;
        }
        if flexible {
            let mut cluster_id = None;
            r.tagged_fields(|tag, data| {
                if tag == 0 {
                    let mut d = Reader::new(data);
                    cluster_id = d.nullable_string(true)?;
                    d.finish()?;
                }
                Ok(())
            })?;
            m.cluster_id = cluster_id;
        }
        Ok(m)
    }
}

impl<'a> FetchPartitionData<'a> {
    fn encode(&self, version: i16, flexible: bool, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_i32(self.partition_index);
        out.put_i16(self.error_code);
        out.put_i64(self.high_watermark);
        out.put_i64(self.last_stable_offset);
        if version >= 5 {
            out.put_i64(self.log_start_offset);
        }
        match &self.aborted_transactions {
            Some(txns) => {
                out.put_array_len(flexible, Some(txns.len()))?;
                for t in txns {
                    out.put_i64(t.producer_id);
                    out.put_i64(t.first_offset);
                    if flexible {
                        out.put_empty_tagged_fields();
                    }
                }
            }
            None => out.put_array_len(flexible, None)?,
        }
        if version >= 11 {
            out.put_i32(self.preferred_read_replica);
        } else if self.preferred_read_replica != -1 {
            return Err(EncodeError::FieldNotInVersion("FetchPartitionData.preferred_read_replica"));
        }
        out.put_nullable_bytes(flexible, self.records)?;
        if flexible {
            out.put_empty_tagged_fields();
        }
        Ok(())
    }

    /// Fewest bytes one partition takes in `version`.
    const fn min_size(version: i16, flexible: bool) -> usize {
        let mut n = 4 + 2 + 8 + 8;
        if version >= 5 {
            n += 8;
        }
        if version >= 11 {
            n += 4;
        }
        // Null aborted transactions, null records (+ tags).
        n += if flexible { 1 + 1 + 1 } else { 4 + 4 };
        n
    }

    fn decode(r: &mut Reader<'a>, version: i16, flexible: bool) -> Result<Self, DecodeError> {
        let mut p = FetchPartitionData {
            partition_index: r.i32()?,
            error_code: r.i16()?,
            high_watermark: r.i64()?,
            last_stable_offset: r.i64()?,
            ..FetchPartitionData::default()
        };
        if version >= 5 {
            p.log_start_offset = r.i64()?;
        }
        if let Some(n) = r.nullable_array_len(flexible, if flexible { 17 } else { 16 })? {
            let mut txns = Vec::with_capacity(n);
            for _ in 0..n {
                txns.push(AbortedTransaction { producer_id: r.i64()?, first_offset: r.i64()? });
                if flexible {
                    r.skip_tagged_fields()?;
                }
            }
            p.aborted_transactions = Some(txns);
        }
        if version >= 11 {
            p.preferred_read_replica = r.i32()?;
        }
        p.records = r.nullable_bytes(flexible)?;
        if flexible {
            // diverging_epoch (0), current_leader (1), snapshot_id (2): not modelled.
            r.skip_tagged_fields()?;
        }
        Ok(p)
    }
}

impl<'a> Message<'a> for FetchResponse<'a> {
    const API_KEY: ApiKey = ApiKey::Fetch;

    /// Appends the response; on error nothing is appended. Non-zero `session_id` below v7 and
    /// a `preferred_read_replica` other than -1 below v11 are
    /// [`EncodeError::FieldNotInVersion`]; other fields a version lacks are omitted.
    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        atomically(out, |out| {
            out.put_i32(self.throttle_time_ms);
            if version >= 7 {
                out.put_i16(self.error_code);
                out.put_i32(self.session_id);
            } else if self.session_id != 0 {
                return Err(EncodeError::FieldNotInVersion("FetchResponse.session_id"));
            }
            out.put_array_len(flexible, Some(self.responses.len()))?;
            for t in &self.responses {
                out.put_string(flexible, t.topic)?;
                out.put_array_len(flexible, Some(t.partitions.len()))?;
                for p in &t.partitions {
                    p.encode(version, flexible, out)?;
                }
                if flexible {
                    out.put_empty_tagged_fields();
                }
            }
            if flexible {
                out.put_empty_tagged_fields();
            }
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let mut m = FetchResponse { throttle_time_ms: r.i32()?, ..FetchResponse::default() };
        if version >= 7 {
            m.error_code = r.i16()?;
            m.session_id = r.i32()?;
        }
        // Smallest topic: empty name + empty array (+ tags).
        let partition_min = FetchPartitionData::min_size(version, flexible);
        m.responses = r.array_of(flexible, if flexible { 3 } else { 6 }, |r| {
            let topic = r.string(flexible)?;
            let partitions =
                r.array_of(flexible, partition_min, |r| FetchPartitionData::decode(r, version, flexible))?;
            if flexible {
                r.skip_tagged_fields()?;
            }
            Ok(FetchableTopicResponse { topic, partitions })
        })?;
        if flexible {
            r.skip_tagged_fields()?;
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests;
