//! Metadata (key 3), versions 1-12. Flexible from v9.

use alloc::vec::Vec;

/// One topic asked for in a Metadata request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetadataRequestTopic<'a> {
    /// Topic id (v10+); all zero when unknown. Not sent below v10 (Kafka marks it ignorable).
    pub topic_id: [u8; 16],
    /// Topic name (nullable from v10). Encoding `None` below v10 is an error.
    pub name: Option<&'a str>,
}

/// Metadata request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataRequest<'a> {
    /// Topics to describe; `None` means all topics (an empty list means none).
    pub topics: Option<Vec<MetadataRequestTopic<'a>>>,
    /// Whether the broker may auto-create missing topics (v4+; brokers below v4 always may).
    /// Encoding `false` below v4 is an error.
    pub allow_auto_topic_creation: bool,
    /// Whether to include cluster authorized operations (v8-10). Encoding `true` in another
    /// version is an error.
    pub include_cluster_authorized_operations: bool,
    /// Whether to include topic authorized operations (v8+). Encoding `true` below v8 is an
    /// error.
    pub include_topic_authorized_operations: bool,
}

impl Default for MetadataRequest<'_> {
    fn default() -> Self {
        MetadataRequest {
            topics: Some(Vec::new()),
            allow_auto_topic_creation: true,
            include_cluster_authorized_operations: false,
            include_topic_authorized_operations: false,
        }
    }
}

/// A broker in a Metadata response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetadataBroker<'a> {
    /// Broker id.
    pub node_id: i32,
    /// Host name.
    pub host: &'a str,
    /// Port.
    pub port: i32,
    /// Rack, if any.
    pub rack: Option<&'a str>,
}

/// A partition in a Metadata response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataPartition {
    /// Partition error code.
    pub error_code: i16,
    /// Partition index.
    pub partition_index: i32,
    /// Leader broker id, -1 if none.
    pub leader_id: i32,
    /// Leader epoch (v7+), -1 if unknown. Not sent below v7.
    pub leader_epoch: i32,
    /// Replica broker ids.
    pub replica_nodes: Vec<i32>,
    /// In-sync replica broker ids.
    pub isr_nodes: Vec<i32>,
    /// Offline replica broker ids (v5+). Not sent below v5.
    pub offline_replicas: Vec<i32>,
}

impl Default for MetadataPartition {
    fn default() -> Self {
        MetadataPartition {
            error_code: 0,
            partition_index: 0,
            leader_id: -1,
            leader_epoch: -1,
            replica_nodes: Vec::new(),
            isr_nodes: Vec::new(),
            offline_replicas: Vec::new(),
        }
    }
}

/// A topic in a Metadata response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataTopic<'a> {
    /// Topic error code.
    pub error_code: i16,
    /// Topic name (nullable from v12). Encoding `None` below v12 is an error.
    pub name: Option<&'a str>,
    /// Topic id (v10+). Not sent below v10.
    pub topic_id: [u8; 16],
    /// Whether the topic is internal.
    pub is_internal: bool,
    /// Partitions.
    pub partitions: Vec<MetadataPartition>,
    /// Topic authorized operations bit field (v8+), `i32::MIN` if not requested (the default).
    /// Encoding another value below v8 is an error.
    pub topic_authorized_operations: i32,
}

impl Default for MetadataTopic<'_> {
    fn default() -> Self {
        MetadataTopic {
            error_code: 0,
            name: None,
            topic_id: [0; 16],
            is_internal: false,
            partitions: Vec::new(),
            topic_authorized_operations: i32::MIN,
        }
    }
}

/// Metadata response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataResponse<'a> {
    /// Throttle time in ms (v3+). Not sent below v3.
    pub throttle_time_ms: i32,
    /// Brokers.
    pub brokers: Vec<MetadataBroker<'a>>,
    /// Cluster id (v2+). Not sent below v2.
    pub cluster_id: Option<&'a str>,
    /// Controller broker id, -1 if none.
    pub controller_id: i32,
    /// Topics.
    pub topics: Vec<MetadataTopic<'a>>,
    /// Cluster authorized operations (v8-10), `i32::MIN` if not requested (the default).
    /// Encoding another value in another version is an error.
    pub cluster_authorized_operations: i32,
}

impl Default for MetadataResponse<'_> {
    fn default() -> Self {
        MetadataResponse {
            throttle_time_ms: 0,
            brokers: Vec::new(),
            cluster_id: None,
            controller_id: -1,
            topics: Vec::new(),
            cluster_authorized_operations: i32::MIN,
        }
    }
}

use super::reader::{min_array, min_string};
use super::writer::atomically;
use super::{ApiKey, DecodeError, EncodeError, Message, Reader, Writer};

fn put_i32_array(out: &mut Vec<u8>, flexible: bool, values: &[i32]) -> Result<(), EncodeError> {
    out.put_array_len(flexible, Some(values.len()))?;
    for v in values {
        out.put_i32(*v);
    }
    Ok(())
}

fn i32_array(r: &mut Reader<'_>, flexible: bool) -> Result<Vec<i32>, DecodeError> {
    r.array_of(flexible, 4, Reader::i32)
}

impl<'a> Message<'a> for MetadataRequest<'a> {
    const API_KEY: ApiKey = ApiKey::Metadata;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        if version < 4 && !self.allow_auto_topic_creation {
            return Err(EncodeError::FieldNotInVersion("allow_auto_topic_creation"));
        }
        if !(8..=10).contains(&version) && self.include_cluster_authorized_operations {
            return Err(EncodeError::FieldNotInVersion("include_cluster_authorized_operations"));
        }
        if version < 8 && self.include_topic_authorized_operations {
            return Err(EncodeError::FieldNotInVersion("include_topic_authorized_operations"));
        }
        atomically(out, |out| self.encode_body(version, flexible, out))
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let min_topic = if version >= 10 { 16 } else { 0 } + min_string(flexible) + usize::from(flexible);
        let topics = match r.nullable_array_len(flexible, min_topic)? {
            None => None,
            Some(n) => {
                let mut topics = Vec::with_capacity(n);
                for _ in 0..n {
                    let mut t = MetadataRequestTopic::default();
                    if version >= 10 {
                        t.topic_id = r.uuid()?;
                        t.name = r.nullable_string(flexible)?;
                    } else {
                        t.name = Some(r.string(flexible)?);
                    }
                    if flexible {
                        r.skip_tagged_fields()?;
                    }
                    topics.push(t);
                }
                Some(topics)
            }
        };
        let mut m = MetadataRequest { topics, ..MetadataRequest::default() };
        if version >= 4 {
            m.allow_auto_topic_creation = r.bool()?;
        }
        if (8..=10).contains(&version) {
            m.include_cluster_authorized_operations = r.bool()?;
        }
        if version >= 8 {
            m.include_topic_authorized_operations = r.bool()?;
        }
        if flexible {
            r.skip_tagged_fields()?;
        }
        Ok(m)
    }
}

impl MetadataRequest<'_> {
    fn encode_body(&self, version: i16, flexible: bool, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.put_array_len(flexible, self.topics.as_ref().map(Vec::len))?;
        for t in self.topics.iter().flatten() {
            if version >= 10 {
                out.put_uuid(&t.topic_id);
            } else if t.name.is_none() {
                return Err(EncodeError::FieldNotInVersion("null topic name"));
            }
            out.put_nullable_string(flexible, t.name)?;
            if flexible {
                out.put_empty_tagged_fields();
            }
        }
        if version >= 4 {
            out.put_bool(self.allow_auto_topic_creation);
        }
        if (8..=10).contains(&version) {
            out.put_bool(self.include_cluster_authorized_operations);
        }
        if version >= 8 {
            out.put_bool(self.include_topic_authorized_operations);
        }
        if flexible {
            out.put_empty_tagged_fields();
        }
        Ok(())
    }
}

impl<'a> Message<'a> for MetadataResponse<'a> {
    const API_KEY: ApiKey = ApiKey::Metadata;

    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let flexible = Self::API_KEY.check_encode(version)?;
        if !(8..=10).contains(&version) && self.cluster_authorized_operations != i32::MIN {
            return Err(EncodeError::FieldNotInVersion("cluster_authorized_operations"));
        }
        atomically(out, |out| self.encode_body(version, flexible, out))
    }

    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError> {
        let flexible = Self::API_KEY.check_decode(version)?;
        let (s, a, t) = (min_string(flexible), min_array(flexible), usize::from(flexible));
        let mut m = MetadataResponse::default();
        if version >= 3 {
            m.throttle_time_ms = r.i32()?;
        }
        let n = r.array_len(flexible, 4 + s + 4 + s + t)?;
        m.brokers.reserve_exact(n);
        for _ in 0..n {
            let b = MetadataBroker {
                node_id: r.i32()?,
                host: r.string(flexible)?,
                port: r.i32()?,
                rack: r.nullable_string(flexible)?,
            };
            if flexible {
                r.skip_tagged_fields()?;
            }
            m.brokers.push(b);
        }
        if version >= 2 {
            m.cluster_id = r.nullable_string(flexible)?;
        }
        m.controller_id = r.i32()?;
        let min_topic = 2 + s + if version >= 10 { 16 } else { 0 } + 1 + a + if version >= 8 { 4 } else { 0 } + t;
        let n = r.array_len(flexible, min_topic)?;
        m.topics.reserve_exact(n);
        for _ in 0..n {
            m.topics.push(decode_topic(r, version, flexible)?);
        }
        if (8..=10).contains(&version) {
            m.cluster_authorized_operations = r.i32()?;
        }
        if flexible {
            r.skip_tagged_fields()?;
        }
        Ok(m)
    }
}

impl MetadataResponse<'_> {
    fn encode_body(&self, version: i16, flexible: bool, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if version >= 3 {
            out.put_i32(self.throttle_time_ms);
        }
        out.put_array_len(flexible, Some(self.brokers.len()))?;
        for b in &self.brokers {
            out.put_i32(b.node_id);
            out.put_string(flexible, b.host)?;
            out.put_i32(b.port);
            out.put_nullable_string(flexible, b.rack)?;
            if flexible {
                out.put_empty_tagged_fields();
            }
        }
        if version >= 2 {
            out.put_nullable_string(flexible, self.cluster_id)?;
        }
        out.put_i32(self.controller_id);
        out.put_array_len(flexible, Some(self.topics.len()))?;
        for t in &self.topics {
            encode_topic(t, version, flexible, out)?;
        }
        if (8..=10).contains(&version) {
            out.put_i32(self.cluster_authorized_operations);
        }
        if flexible {
            out.put_empty_tagged_fields();
        }
        Ok(())
    }
}

fn encode_topic(t: &MetadataTopic<'_>, version: i16, flexible: bool, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    if version < 12 && t.name.is_none() {
        return Err(EncodeError::FieldNotInVersion("null topic name"));
    }
    if version < 8 && t.topic_authorized_operations != i32::MIN {
        return Err(EncodeError::FieldNotInVersion("topic_authorized_operations"));
    }
    out.put_i16(t.error_code);
    out.put_nullable_string(flexible, t.name)?;
    if version >= 10 {
        out.put_uuid(&t.topic_id);
    }
    out.put_bool(t.is_internal);
    out.put_array_len(flexible, Some(t.partitions.len()))?;
    for p in &t.partitions {
        out.put_i16(p.error_code);
        out.put_i32(p.partition_index);
        out.put_i32(p.leader_id);
        if version >= 7 {
            out.put_i32(p.leader_epoch);
        }
        put_i32_array(out, flexible, &p.replica_nodes)?;
        put_i32_array(out, flexible, &p.isr_nodes)?;
        if version >= 5 {
            put_i32_array(out, flexible, &p.offline_replicas)?;
        }
        if flexible {
            out.put_empty_tagged_fields();
        }
    }
    if version >= 8 {
        out.put_i32(t.topic_authorized_operations);
    }
    if flexible {
        out.put_empty_tagged_fields();
    }
    Ok(())
}

fn decode_topic<'a>(r: &mut Reader<'a>, version: i16, flexible: bool) -> Result<MetadataTopic<'a>, DecodeError> {
    let mut t = MetadataTopic { error_code: r.i16()?, ..MetadataTopic::default() };
    t.name = if version >= 12 { r.nullable_string(flexible)? } else { Some(r.string(flexible)?) };
    if version >= 10 {
        t.topic_id = r.uuid()?;
    }
    t.is_internal = r.bool()?;
    let a = min_array(flexible);
    let min_partition =
        10 + if version >= 7 { 4 } else { 0 } + 2 * a + if version >= 5 { a } else { 0 } + usize::from(flexible);
    let n = r.array_len(flexible, min_partition)?;
    t.partitions.reserve_exact(n);
    for _ in 0..n {
        let mut p = MetadataPartition {
            error_code: r.i16()?,
            partition_index: r.i32()?,
            leader_id: r.i32()?,
            ..MetadataPartition::default()
        };
        if version >= 7 {
            p.leader_epoch = r.i32()?;
        }
        p.replica_nodes = i32_array(r, flexible)?;
        p.isr_nodes = i32_array(r, flexible)?;
        if version >= 5 {
            p.offline_replicas = i32_array(r, flexible)?;
        }
        if flexible {
            r.skip_tagged_fields()?;
        }
        t.partitions.push(p);
    }
    if version >= 8 {
        t.topic_authorized_operations = r.i32()?;
    }
    if flexible {
        r.skip_tagged_fields()?;
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::test_util::check_truncations;

    fn sample_request(version: i16) -> MetadataRequest<'static> {
        MetadataRequest {
            topics: Some(alloc::vec![
                MetadataRequestTopic { topic_id: if version >= 10 { [7; 16] } else { [0; 16] }, name: Some("a") },
                MetadataRequestTopic { topic_id: [0; 16], name: Some("topic-b") },
            ]),
            allow_auto_topic_creation: version < 4,
            include_cluster_authorized_operations: (8..=10).contains(&version),
            include_topic_authorized_operations: version >= 8,
        }
    }

    fn sample_response(version: i16) -> MetadataResponse<'static> {
        let partition = MetadataPartition {
            error_code: 0,
            partition_index: 3,
            leader_id: 1,
            leader_epoch: if version >= 7 { 12 } else { -1 },
            replica_nodes: alloc::vec![1, 2, 3],
            isr_nodes: alloc::vec![1, 2],
            offline_replicas: if version >= 5 { alloc::vec![3] } else { Vec::new() },
        };
        MetadataResponse {
            throttle_time_ms: if version >= 3 { 9 } else { 0 },
            brokers: alloc::vec![
                MetadataBroker { node_id: 1, host: "h1", port: 9092, rack: Some("r") },
                MetadataBroker { node_id: 2, host: "h2", port: 9093, rack: None },
            ],
            cluster_id: if version >= 2 { Some("cluster") } else { None },
            controller_id: 1,
            topics: alloc::vec![MetadataTopic {
                error_code: 0,
                name: Some("t"),
                topic_id: if version >= 10 { [5; 16] } else { [0; 16] },
                is_internal: true,
                partitions: alloc::vec![partition.clone(), MetadataPartition { partition_index: 4, ..partition }],
                topic_authorized_operations: if version >= 8 { 0x0F } else { i32::MIN },
            }],
            cluster_authorized_operations: if (8..=10).contains(&version) { 0x1F } else { i32::MIN },
        }
    }

    #[test]
    fn round_trip_and_truncation_every_version() {
        for v in 1..=12 {
            let (req, resp) = (sample_request(v), sample_response(v));
            check_truncations(&req, v, &mut Vec::new());
            let all = MetadataRequest { topics: None, ..sample_request(v) };
            check_truncations(&all, v, &mut Vec::new());
            check_truncations(&resp, v, &mut Vec::new());
        }
    }

    #[test]
    fn unsupported_versions_are_typed_errors() {
        for v in [0, 13, i16::MAX] {
            let err = EncodeError::UnsupportedVersion { api_key: 3, version: v };
            assert_eq!(MetadataRequest::default().encode(v, &mut Vec::new()), Err(err));
            assert_eq!(MetadataResponse::default().encode(v, &mut Vec::new()), Err(err));
            let err = DecodeError::UnsupportedVersion { api_key: 3, version: v };
            let bytes = [0u8; 64];
            assert_eq!(MetadataRequest::decode(&mut Reader::new(&bytes), v), Err(err));
            assert_eq!(MetadataResponse::decode(&mut Reader::new(&bytes), v), Err(err));
        }
    }

    #[test]
    fn fields_a_version_cannot_carry() {
        let enc = |m: &MetadataRequest<'_>, v| m.encode(v, &mut Vec::new());
        let base = MetadataRequest::default();
        let no_auto = MetadataRequest { allow_auto_topic_creation: false, ..base.clone() };
        assert_eq!(enc(&no_auto, 3), Err(EncodeError::FieldNotInVersion("allow_auto_topic_creation")));
        assert_eq!(enc(&no_auto, 4), Ok(()));
        let cluster_ops = MetadataRequest { include_cluster_authorized_operations: true, ..base.clone() };
        for v in [7, 11, 12] {
            assert!(matches!(enc(&cluster_ops, v), Err(EncodeError::FieldNotInVersion(_))));
        }
        let topic_ops = MetadataRequest { include_topic_authorized_operations: true, ..base.clone() };
        assert!(matches!(enc(&topic_ops, 7), Err(EncodeError::FieldNotInVersion(_))));
        let null_name = MetadataRequest {
            topics: Some(alloc::vec![MetadataRequestTopic { topic_id: [1; 16], name: None }]),
            ..base.clone()
        };
        assert_eq!(enc(&null_name, 9), Err(EncodeError::FieldNotInVersion("null topic name")));
        assert_eq!(enc(&null_name, 10), Ok(()));
        // A topic id below v10 is dropped, as Kafka does (the field is ignorable).
        let with_id = MetadataRequest {
            topics: Some(alloc::vec![MetadataRequestTopic { topic_id: [1; 16], name: Some("x") }]),
            ..base
        };
        let mut out = Vec::new();
        with_id.encode(9, &mut out).unwrap();
        let back = MetadataRequest::decode(&mut Reader::new(&out), 9).unwrap();
        assert_eq!(back.topics, Some(alloc::vec![MetadataRequestTopic { topic_id: [0; 16], name: Some("x") }]));

        let mut out = Vec::new();
        let resp = MetadataResponse { topics: alloc::vec![MetadataTopic::default()], ..MetadataResponse::default() };
        assert_eq!(resp.encode(11, &mut out), Err(EncodeError::FieldNotInVersion("null topic name")));
        assert!(out.is_empty(), "a failed encode leaves the buffer as it was");
        let ops = MetadataResponse { cluster_authorized_operations: 0, ..MetadataResponse::default() };
        assert!(matches!(ops.encode(11, &mut out), Err(EncodeError::FieldNotInVersion(_))));
        let named = MetadataTopic { name: Some("t"), topic_authorized_operations: 0, ..MetadataTopic::default() };
        let ops = MetadataResponse { topics: alloc::vec![named], ..MetadataResponse::default() };
        assert!(matches!(ops.encode(7, &mut out), Err(EncodeError::FieldNotInVersion(_))));
        assert!(out.is_empty());
    }

    #[test]
    fn null_response_name_below_v12_is_rejected_on_decode() {
        let resp = MetadataResponse { topics: alloc::vec![MetadataTopic::default()], ..MetadataResponse::default() };
        let mut out = Vec::new();
        resp.encode(12, &mut out).unwrap();
        assert_eq!(MetadataResponse::decode(&mut Reader::new(&out), 12), Ok(resp));
        assert_eq!(MetadataResponse::decode(&mut Reader::new(&out), 11), Err(DecodeError::UnexpectedNull));
    }

    #[test]
    fn huge_counts_are_rejected_before_allocating() {
        // v2 response: empty brokers, cluster id null, controller, then a topic count of 2^31-1.
        let mut bytes = alloc::vec![0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 1];
        bytes.extend_from_slice(&[0x7F, 0xFF, 0xFF, 0xFF]);
        bytes.extend_from_slice(&[0; 64]);
        assert!(matches!(
            MetadataResponse::decode(&mut Reader::new(&bytes), 2),
            Err(DecodeError::InvalidLength { .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), v in -1i16..15) {
            let _ = MetadataRequest::decode(&mut Reader::new(&bytes), v);
            let _ = MetadataResponse::decode(&mut Reader::new(&bytes), v);
        }
    }
}
