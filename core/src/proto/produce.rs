//! Produce (key 0), versions 3-10. Flexible from v9. Since v3 each partition carries exactly
//! one RecordBatch (magic 2) in `records`.

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
    /// New leader hint (v10+, tagged field 0).
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
    /// Endpoints of brokers named in `current_leader` hints (v10+, tagged field 0).
    pub node_endpoints: Vec<NodeEndpoint<'a>>,
}

use super::writer::uvarint_len;
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

/// Runs `f` and leaves `out` as it was if it fails, so a failed encode appends nothing.
fn atomically(out: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>) -> Result<(), EncodeError> {
    let start = out.len();
    let result = f(out);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

impl<'a> Message<'a> for ProduceRequest<'a> {
    const API_KEY: ApiKey = ApiKey::Produce;

    /// Appends the request; on error nothing is appended.
    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        // One reservation for the whole body: the record bytes dominate, the rest is small.
        let mut hint = 16 + self.transactional_id.map_or(0, str::len);
        for t in &self.topic_data {
            hint += 12 + t.name.len();
            for p in &t.partition_data {
                hint += 12 + p.records.map_or(0, <[u8]>::len);
            }
        }
        out.reserve(hint);
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
                    out.put_nullable_bytes(flexible, p.records)?;
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
        })
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let transactional_id = r.nullable_string(flexible)?;
        let acks = r.i16()?;
        let timeout_ms = r.i32()?;
        // Smallest topic: empty name + empty array (+ tags); smallest partition: index + null
        // records (+ tags).
        let (topic_min, partition_min) = if flexible { (3, 6) } else { (6, 8) };
        let n = r.array_len(flexible, topic_min)?;
        let mut topic_data = Vec::with_capacity(n);
        for _ in 0..n {
            let name = r.string(flexible)?;
            let m = r.array_len(flexible, partition_min)?;
            let mut partition_data = Vec::with_capacity(m);
            for _ in 0..m {
                let index = r.i32()?;
                let records = r.nullable_bytes(flexible)?;
                if flexible {
                    r.skip_tagged_fields()?;
                }
                partition_data.push(PartitionProduceData { index, records });
            }
            if flexible {
                r.skip_tagged_fields()?;
            }
            topic_data.push(TopicProduceData { name, partition_data });
        }
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
            let n = r.array_len(flexible, 6)?;
            let mut record_errors = Vec::with_capacity(n);
            for _ in 0..n {
                let batch_index = r.i32()?;
                let batch_index_error_message = r.nullable_string(flexible)?;
                if flexible {
                    r.skip_tagged_fields()?;
                }
                record_errors.push(BatchIndexAndErrorMessage { batch_index, batch_index_error_message });
            }
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
        let n = r.array_len(flexible, if flexible { 3 } else { 6 })?;
        let partition_min = PartitionProduceResponse::min_size(version, flexible);
        let mut responses = Vec::with_capacity(n);
        for _ in 0..n {
            let name = r.string(flexible)?;
            let m = r.array_len(flexible, partition_min)?;
            let mut partition_responses = Vec::with_capacity(m);
            for _ in 0..m {
                partition_responses.push(PartitionProduceResponse::decode(r, version, flexible)?);
            }
            if flexible {
                r.skip_tagged_fields()?;
            }
            responses.push(TopicProduceResponse { name, partition_responses });
        }
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
    let n = d.array_len(true, 11)?;
    let mut endpoints = Vec::with_capacity(n);
    for _ in 0..n {
        let node_id = d.i32()?;
        let host = d.string(true)?;
        let port = d.i32()?;
        let rack = d.nullable_string(true)?;
        d.skip_tagged_fields()?;
        endpoints.push(NodeEndpoint { node_id, host, port, rack });
    }
    d.finish()?;
    Ok(endpoints)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn request() -> ProduceRequest<'static> {
        ProduceRequest {
            transactional_id: Some("tx"),
            acks: -1,
            timeout_ms: 30_000,
            topic_data: vec![
                TopicProduceData {
                    name: "t",
                    partition_data: vec![
                        PartitionProduceData { index: 0, records: Some(b"batch") },
                        PartitionProduceData { index: 1, records: None },
                    ],
                },
                TopicProduceData { name: "", partition_data: vec![] },
            ],
        }
    }

    fn response() -> ProduceResponse<'static> {
        ProduceResponse {
            responses: vec![TopicProduceResponse {
                name: "t",
                partition_responses: vec![PartitionProduceResponse {
                    index: 3,
                    error_code: 6,
                    base_offset: 42,
                    log_append_time_ms: 7,
                    log_start_offset: 1,
                    record_errors: vec![BatchIndexAndErrorMessage {
                        batch_index: 2,
                        batch_index_error_message: Some("x"),
                    }],
                    error_message: Some("not leader"),
                    current_leader: Some(LeaderIdAndEpoch { leader_id: 2, leader_epoch: 9 }),
                }],
            }],
            throttle_time_ms: 5,
            node_endpoints: vec![NodeEndpoint { node_id: 2, host: "h", port: 9092, rack: None }],
        }
    }

    /// Encodes `m` in `version`, checks it decodes back to `expect` consuming every byte, and
    /// that every proper prefix fails to decode without panicking.
    fn check_truncations<'a, M: Message<'a> + PartialEq + core::fmt::Debug>(
        m: &M,
        expect: &M,
        version: i16,
        buf: &'a mut Vec<u8>,
    ) {
        m.encode(version, buf).unwrap();
        let buf: &'a [u8] = buf;
        let mut r = Reader::new(buf);
        assert_eq!(&M::decode(&mut r, version).unwrap(), expect, "v{version}");
        assert!(r.finish().is_ok());
        for cut in 0..buf.len() {
            let mut r = Reader::new(&buf[..cut]);
            assert!(M::decode(&mut r, version).is_err(), "v{version} cut at {cut} of {}", buf.len());
        }
    }

    #[test]
    fn unsupported_versions_are_typed_errors() {
        for v in [-1, 0, 2, 11, i16::MAX] {
            let enc = EncodeError::UnsupportedVersion { api_key: 0, version: v };
            let dec = DecodeError::UnsupportedVersion { api_key: 0, version: v };
            let mut out = Vec::new();
            assert_eq!(request().encode(v, &mut out), Err(enc));
            assert_eq!(response().encode(v, &mut out), Err(enc));
            assert!(out.is_empty());
            let bytes = [0u8; 64];
            assert_eq!(ProduceRequest::decode(&mut Reader::new(&bytes), v), Err(dec));
            assert_eq!(ProduceResponse::decode(&mut Reader::new(&bytes), v), Err(dec));
        }
    }

    #[test]
    fn truncated_input_is_an_error_at_every_cut() {
        for v in 3..=10 {
            check_truncations(&request(), &request(), v, &mut Vec::new());
            let mut expect = response();
            let p = &mut expect.responses[0].partition_responses[0];
            if v < 5 {
                p.log_start_offset = -1;
            }
            if v < 8 {
                p.record_errors.clear();
                p.error_message = None;
            }
            if v < 10 {
                p.current_leader = None;
                expect.node_endpoints.clear();
            }
            check_truncations(&response(), &expect, v, &mut Vec::new());
        }
    }

    #[test]
    fn tagged_fields_are_written_only_when_set() {
        let mut with = Vec::new();
        response().encode(10, &mut with).unwrap();
        let mut plain = response();
        plain.node_endpoints.clear();
        plain.responses[0].partition_responses[0].current_leader = None;
        let mut without = Vec::new();
        plain.encode(10, &mut without).unwrap();
        // current_leader: tag, size, 9 bytes; node_endpoints: tag, size, 1 + 11 + 1 bytes.
        assert_eq!(with.len() - without.len(), (2 + 9) + (2 + 13));
        let mut v9 = Vec::new();
        response().encode(9, &mut v9).unwrap();
        let mut v9_plain = Vec::new();
        plain.encode(9, &mut v9_plain).unwrap();
        assert_eq!(v9, v9_plain);
    }

    #[test]
    fn malformed_tagged_field_is_an_error() {
        let mut plain = response();
        plain.node_endpoints.clear();
        plain.responses[0].partition_responses[0].current_leader = None;
        let mut out = Vec::new();
        plain.encode(10, &mut out).unwrap();
        // Replace the empty top-level tag section by a tag 0 whose node_endpoints array claims
        // two elements but holds none.
        out.pop();
        out.extend_from_slice(&[1, 0, 1, 3]);
        assert!(ProduceResponse::decode(&mut Reader::new(&out), 10).is_err());
    }
}
