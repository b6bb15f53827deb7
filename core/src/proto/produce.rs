//! Produce (key 0), versions 3-12. Flexible from v9. Since v3 each partition carries exactly
//! one RecordBatch (magic 2) in `records`.
//!
//! v10 adds the KIP-951 leader hints (tagged fields `current_leader` and `node_endpoints` of
//! the response); v11 is v10's shape with the error TRANSACTION_ABORTABLE (KIP-890), v12 v11's
//! shape for transactions v2 (KIP-890 part 2: a transactional Produce adds its partition to the
//! transaction itself). v13 (topic ids, KIP-516) is not spoken. idem's producer picks up to v10
//! ([`ApiKey::negotiated`]); idem's broker serves v12 under transactions v2.

use alloc::vec::Vec;

/// One partition's data in a Produce request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartitionProduceData<'a> {
    /// Partition index.
    pub index: i32,
    /// The encoded RecordBatch, borrowed.
    pub records: Option<&'a [u8]>,
}

/// One topic's data in a Produce request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopicProduceData<'a> {
    /// Topic name.
    pub name: &'a str,
    /// Partitions.
    pub partition_data: Vec<PartitionProduceData<'a>>,
}

/// Produce request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProduceRequest<'a> {
    /// Transactional id; `None` for idempotent-only producers.
    pub transactional_id: Option<&'a str>,
    /// Required acks: -1 all, 1 leader, 0 none.
    pub acks: i16,
    /// Timeout the broker waits for acks, in ms.
    pub timeout_ms: i32,
    /// Topics.
    pub topic_data: Vec<TopicProduceData<'a>>,
}

/// A per-record error in a Produce response (v8+).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchIndexAndErrorMessage<'a> {
    /// Index of the record in its batch.
    pub batch_index: i32,
    /// Error message for that record.
    pub batch_index_error_message: Option<&'a str>,
}

/// A leader hint (KIP-951, tagged field, v10+).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaderIdAndEpoch {
    /// Leader broker id, -1 if unknown.
    pub leader_id: i32,
    /// Leader epoch, -1 if unknown.
    pub leader_epoch: i32,
}

/// One partition's result in a Produce response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionProduceResponse<'a> {
    /// Partition index.
    pub index: i32,
    /// Error code.
    pub error_code: i16,
    /// Offset of the first record appended (or of the original append, for a duplicate).
    pub base_offset: i64,
    /// Log append time, -1 when CreateTime is used.
    pub log_append_time_ms: i64,
    /// Log start offset (v5+).
    pub log_start_offset: i64,
    /// Per-record errors (v8+).
    pub record_errors: Vec<BatchIndexAndErrorMessage<'a>>,
    /// Error message (v8+).
    pub error_message: Option<&'a str>,
    /// New leader hint (v10+, tagged field 0): written whenever `Some` (Kafka reads an absent
    /// tag as leader -1, epoch -1), not sent below v10.
    pub current_leader: Option<LeaderIdAndEpoch>,
}

impl Default for PartitionProduceResponse<'_> {
    fn default() -> Self {
        PartitionProduceResponse {
            index: 0,
            error_code: 0,
            base_offset: -1,
            log_append_time_ms: -1,
            log_start_offset: -1,
            record_errors: Vec::new(),
            error_message: None,
            current_leader: None,
        }
    }
}

/// One topic's results in a Produce response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopicProduceResponse<'a> {
    /// Topic name.
    pub name: &'a str,
    /// Partitions.
    pub partition_responses: Vec<PartitionProduceResponse<'a>>,
}

/// A broker endpoint hint (KIP-951, tagged field, v10+).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeEndpoint<'a> {
    /// Broker id.
    pub node_id: i32,
    /// Host name.
    pub host: &'a str,
    /// Port.
    pub port: i32,
    /// Rack.
    pub rack: Option<&'a str>,
}

/// Produce response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProduceResponse<'a> {
    /// Topics.
    pub responses: Vec<TopicProduceResponse<'a>>,
    /// Throttle time in ms.
    pub throttle_time_ms: i32,
    /// Endpoints of brokers named in `current_leader` hints (v10+, tagged field 0): written
    /// when non-empty, not sent below v10.
    pub node_endpoints: Vec<NodeEndpoint<'a>>,
}

use super::writer::{atomically, uvarint_len};
use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

/// Wire size of `LeaderIdAndEpoch` (two int32 and an empty tagged-field section).
const LEADER_ID_AND_EPOCH_SIZE: usize = 4 + 4 + 1;

/// Wire size of a compact (nullable) string, or `TooLong` if its length cannot be expressed.
fn compact_string_size(s: Option<&str>) -> Result<usize, EncodeError> {
    let n = s.map_or(0, str::len);
    if n >= u32::MAX as usize {
        return Err(EncodeError::TooLong { length: n });
    }
    let prefix = if s.is_some() { n as u32 + 1 } else { 0 };
    Ok(uvarint_len(prefix) + n)
}

/// Wire size of the `node_endpoints` tagged field's value (a compact array of flexible structs).
fn node_endpoints_size(endpoints: &[NodeEndpoint<'_>]) -> Result<usize, EncodeError> {
    if endpoints.len() >= u32::MAX as usize {
        return Err(EncodeError::TooLong { length: endpoints.len() });
    }
    let mut size = uvarint_len(endpoints.len() as u32 + 1);
    for e in endpoints {
        size += 4 + compact_string_size(Some(e.host))? + 4 + compact_string_size(e.rack)? + 1;
    }
    Ok(size)
}

impl<'a> ProduceRequest<'a> {
    /// Appends the body in `version`. With `spliced`, the record batches are left out: for each
    /// partition's records (in the order they belong in the body) the position in `out` where
    /// they belong is pushed, and the bytes left out are returned; without, they are copied
    /// and 0 is returned. The bytes are the same either way once the batches are put back.
    /// On error nothing is appended.
    fn encode_body(
        &self,
        version: i16,
        out: &mut Vec<u8>,
        mut spliced: Option<&mut Vec<usize>>,
    ) -> Result<usize, EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        out.reserve(self.size_hint(spliced.is_none()));
        let mut outside = 0usize;
        atomically(out, |out| {
            out.put_nullable_string(flexible, self.transactional_id)?;
            out.put_i16(self.acks);
            out.put_i32(self.timeout_ms);
            out.put_array_len(flexible, Some(self.topic_data.len()))?;
            for t in &self.topic_data {
                out.put_string(flexible, t.name)?;
                out.put_array_len(flexible, Some(t.partition_data.len()))?;
                for p in &t.partition_data {
                    out.put_i32(p.index);
                    match (p.records, spliced.as_deref_mut()) {
                        (Some(records), Some(at)) => {
                            out.put_length(flexible, true, Some(records.len()))?;
                            at.push(out.len());
                            outside = outside.saturating_add(records.len());
                        }
                        (records, _) => out.put_nullable_bytes(flexible, records)?,
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
        })?;
        Ok(outside)
    }

    /// About the body's size (a little more), with or without the record batches: one
    /// reservation for the whole body (the record bytes dominate, the rest is small).
    fn size_hint(&self, with_records: bool) -> usize {
        let mut hint = 16 + self.transactional_id.map_or(0, str::len);
        for t in &self.topic_data {
            hint += 12 + t.name.len();
            for p in &t.partition_data {
                hint += 12 + if with_records { p.records.map_or(0, <[u8]>::len) } else { 0 };
            }
        }
        hint
    }

    /// Appends the whole request frame (size prefix, header, body) without the record
    /// batches: `at` gets, for each partition that has records, in order, the position in
    /// `out` where its batch belongs. `out` with each batch inserted at its position is
    /// byte for byte [`encode_request_frame`](super::encode_request_frame)'s frame. On error
    /// nothing is appended (`at` may hold positions to discard).
    pub(crate) fn encode_frame_without_records(
        &self,
        out: &mut Vec<u8>,
        correlation_id: i32,
        client_id: Option<&str>,
        version: i16,
        at: &mut Vec<usize>,
    ) -> Result<(), EncodeError> {
        // The frame's prefix and header too: the frame is built without growing its buffer.
        out.reserve(self.size_hint(false) + 16 + client_id.map_or(0, str::len));
        super::encode_request_frame_with(out, Self::API_KEY, correlation_id, client_id, version, |out| {
            self.encode_body(version, out, Some(at))
        })
    }
}

impl<'a> Message<'a> for ProduceRequest<'a> {
    const API_KEY: ApiKey = ApiKey::Produce;

    /// Appends the request; on error nothing is appended.
    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.encode_body(version, out, None).map(|_| ())
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let transactional_id = r.nullable_string(flexible)?;
        let acks = r.i16()?;
        let timeout_ms = r.i32()?;
        // Smallest topic: empty name + empty array (+ tags); smallest partition: index + null
        // records (+ tags).
        let (topic_min, partition_min) = if flexible { (3, 6) } else { (6, 8) };
        let topic_data = r.array_of(flexible, topic_min, |r| {
            let name = r.string(flexible)?;
            let partition_data = r.array_of(flexible, partition_min, |r| {
                let index = r.i32()?;
                let records = r.nullable_bytes(flexible)?;
                if flexible {
                    r.skip_tagged_fields()?;
                }
                Ok(PartitionProduceData { index, records })
            })?;
            if flexible {
                r.skip_tagged_fields()?;
            }
            Ok(TopicProduceData { name, partition_data })
        })?;
        if flexible {
            r.skip_tagged_fields()?;
        }
        Ok(ProduceRequest { transactional_id, acks, timeout_ms, topic_data })
    }
}

impl<'a> PartitionProduceResponse<'a> {
    fn encode(&self, version: i16, flexible: bool, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_i32(self.index);
        out.put_i16(self.error_code);
        out.put_i64(self.base_offset);
        out.put_i64(self.log_append_time_ms);
        if version >= 5 {
            out.put_i64(self.log_start_offset);
        }
        if version >= 8 {
            out.put_array_len(flexible, Some(self.record_errors.len()))?;
            for e in &self.record_errors {
                out.put_i32(e.batch_index);
                out.put_nullable_string(flexible, e.batch_index_error_message)?;
                if flexible {
                    out.put_empty_tagged_fields();
                }
            }
            out.put_nullable_string(flexible, self.error_message)?;
        }
        if flexible {
            match self.current_leader {
                Some(l) if version >= 10 => {
                    out.put_uvarint(1);
                    out.put_uvarint(0);
                    out.put_uvarint(LEADER_ID_AND_EPOCH_SIZE as u32);
                    out.put_i32(l.leader_id);
                    out.put_i32(l.leader_epoch);
                    out.put_empty_tagged_fields();
                }
                _ => out.put_empty_tagged_fields(),
            }
        }
        Ok(())
    }

    /// Fewest bytes one partition takes in `version`.
    const fn min_size(version: i16, flexible: bool) -> usize {
        let mut n = 4 + 2 + 8 + 8;
        if version >= 5 {
            n += 8;
        }
        if version >= 8 {
            n += if flexible { 1 + 1 } else { 4 + 2 };
        }
        if flexible {
            n += 1;
        }
        n
    }

    fn decode(r: &mut Reader<'a>, version: i16, flexible: bool) -> Result<Self, DecodeError> {
        let mut p = PartitionProduceResponse {
            index: r.i32()?,
            error_code: r.i16()?,
            base_offset: r.i64()?,
            log_append_time_ms: r.i64()?,
            ..PartitionProduceResponse::default()
        };
        if version >= 5 {
            p.log_start_offset = r.i64()?;
        }
        if version >= 8 {
            // Smallest record error: batch index + null message (+ tags).
            let record_errors = r.array_of(flexible, 6, |r| {
                let batch_index = r.i32()?;
                let batch_index_error_message = r.nullable_string(flexible)?;
                if flexible {
                    r.skip_tagged_fields()?;
                }
                Ok(BatchIndexAndErrorMessage { batch_index, batch_index_error_message })
            })?;
            p.record_errors = record_errors;
            p.error_message = r.nullable_string(flexible)?;
        }
        if flexible {
            let mut current_leader = None;
            r.tagged_fields(|tag, data| {
                if tag == 0 && version >= 10 {
                    let mut d = Reader::new(data);
                    let l = LeaderIdAndEpoch { leader_id: d.i32()?, leader_epoch: d.i32()? };
                    d.skip_tagged_fields()?;
                    d.finish()?;
                    current_leader = Some(l);
                }
                Ok(())
            })?;
            p.current_leader = current_leader;
        }
        Ok(p)
    }
}

impl<'a> Message<'a> for ProduceResponse<'a> {
    const API_KEY: ApiKey = ApiKey::Produce;

    /// Appends the response; on error nothing is appended.
    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        atomically(out, |out| {
            out.put_array_len(flexible, Some(self.responses.len()))?;
            for t in &self.responses {
                out.put_string(flexible, t.name)?;
                out.put_array_len(flexible, Some(t.partition_responses.len()))?;
                for p in &t.partition_responses {
                    p.encode(version, flexible, out)?;
                }
                if flexible {
                    out.put_empty_tagged_fields();
                }
            }
            out.put_i32(self.throttle_time_ms);
            if flexible {
                if version >= 10 && !self.node_endpoints.is_empty() {
                    let size = node_endpoints_size(&self.node_endpoints)?;
                    if size > u32::MAX as usize {
                        return Err(EncodeError::TooLong { length: size });
                    }
                    out.put_uvarint(1);
                    out.put_uvarint(0);
                    out.put_uvarint(size as u32);
                    out.put_array_len(true, Some(self.node_endpoints.len()))?;
                    for e in &self.node_endpoints {
                        out.put_i32(e.node_id);
                        out.put_string(true, e.host)?;
                        out.put_i32(e.port);
                        out.put_nullable_string(true, e.rack)?;
                        out.put_empty_tagged_fields();
                    }
                } else {
                    out.put_empty_tagged_fields();
                }
            }
            Ok(())
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        // Smallest topic: empty name + empty array (+ tags).
        let partition_min = PartitionProduceResponse::min_size(version, flexible);
        let responses = r.array_of(flexible, if flexible { 3 } else { 6 }, |r| {
            let name = r.string(flexible)?;
            let partition_responses =
                r.array_of(flexible, partition_min, |r| PartitionProduceResponse::decode(r, version, flexible))?;
            if flexible {
                r.skip_tagged_fields()?;
            }
            Ok(TopicProduceResponse { name, partition_responses })
        })?;
        let throttle_time_ms = r.i32()?;
        let mut node_endpoints = Vec::new();
        if flexible {
            r.tagged_fields(|tag, data| {
                if tag == 0 && version >= 10 {
                    node_endpoints = decode_node_endpoints(data)?;
                }
                Ok(())
            })?;
        }
        Ok(ProduceResponse { responses, throttle_time_ms, node_endpoints })
    }
}

/// Reads the value of the `node_endpoints` tagged field, which must fill `data` exactly.
fn decode_node_endpoints(data: &[u8]) -> Result<Vec<NodeEndpoint<'_>>, DecodeError> {
    let mut d = Reader::new(data);
    // Smallest endpoint: node id + empty host + port + null rack + tags.
    let endpoints = d.array_of(true, 11, |d| {
        let node_id = d.i32()?;
        let host = d.string(true)?;
        let port = d.i32()?;
        let rack = d.nullable_string(true)?;
        d.skip_tagged_fields()?;
        Ok(NodeEndpoint { node_id, host, port, rack })
    })?;
    d.finish()?;
    Ok(endpoints)
}

#[cfg(test)]
mod tests;
