//! OffsetFetch v1-8 against `kafka-protocol` as an oracle, both message directions.
//!
//! `kafka-protocol` has a type per version range where Kafka's schema does (v1-7 topics and
//! partitions, v8 ones); idem has one type for both, so the conversions below are macros over
//! the fields they share.

mod kafka_protocol_oracle;

use idem_core::proto::offset_fetch::{
    OffsetFetchRequest, OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchResponse,
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponseTopic,
};
use kafka_protocol::messages::offset_fetch_request as kq;
use kafka_protocol::messages::offset_fetch_response as ks;
use kafka_protocol::messages::{self as kp, GroupId, TopicName};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol_oracle::{
    Oracle, check_request_frame, check_response_frame, i32_since, nullable_string, os, sb, tags, text,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 1..=8;

/// Unknown tagged fields as kafka-protocol keeps them.
type Tags = std::collections::BTreeMap<i32, bytes::Bytes>;

/// A kafka-protocol request topic list (either type) as idem's.
macro_rules! request_topics {
    ($topics:expr) => {
        $topics.as_ref().map(|ts| {
            ts.iter()
                .map(|t| OffsetFetchRequestTopic {
                    name: t.name.as_str(),
                    partition_indexes: t.partition_indexes.clone(),
                })
                .collect::<Vec<_>>()
        })
    };
}

/// A kafka-protocol response topic list (either type) as idem's.
macro_rules! response_topics {
    ($topics:expr) => {
        $topics
            .iter()
            .map(|t| OffsetFetchResponseTopic {
                name: t.name.as_str(),
                partitions: t
                    .partitions
                    .iter()
                    .map(|p| OffsetFetchResponsePartition {
                        partition_index: p.partition_index,
                        committed_offset: p.committed_offset,
                        committed_leader_epoch: p.committed_leader_epoch,
                        metadata: os(&p.metadata),
                        error_code: p.error_code,
                    })
                    .collect(),
            })
            .collect::<Vec<_>>()
    };
}

impl Oracle for kp::OffsetFetchRequest {
    type Idem<'a> = OffsetFetchRequest<'a>;

    fn to_idem(&self) -> OffsetFetchRequest<'_> {
        OffsetFetchRequest {
            group_id: self.group_id.as_str(),
            topics: request_topics!(self.topics),
            groups: self
                .groups
                .iter()
                .map(|g| OffsetFetchRequestGroup { group_id: g.group_id.as_str(), topics: request_topics!(g.topics) })
                .collect(),
            require_stable: self.require_stable,
        }
    }

    fn assert_same(i: &OffsetFetchRequest<'_>, k: &Self) {
        // The conversion is field for field, so comparing with it compares every field.
        assert_eq!(i, &k.to_idem());
    }
}

impl Oracle for kp::OffsetFetchResponse {
    type Idem<'a> = OffsetFetchResponse<'a>;

    fn to_idem(&self) -> OffsetFetchResponse<'_> {
        OffsetFetchResponse {
            throttle_time_ms: self.throttle_time_ms,
            topics: response_topics!(self.topics),
            error_code: self.error_code,
            groups: self
                .groups
                .iter()
                .map(|g| OffsetFetchResponseGroup {
                    group_id: g.group_id.as_str(),
                    topics: response_topics!(g.topics),
                    error_code: g.error_code,
                })
                .collect(),
        }
    }

    fn assert_same(i: &OffsetFetchResponse<'_>, k: &Self) {
        assert_eq!(i, &k.to_idem());
    }
}

/// Topic name, partition indexes and tags of a request topic.
fn request_topic(flexible: bool) -> impl Strategy<Value = (String, Vec<i32>, Tags)> {
    (text(), vec(any::<i32>(), 0..4), tags(flexible))
}

fn request(v: i16) -> BoxedStrategy<kp::OffsetFetchRequest> {
    let flexible = v >= 6;
    let topic = request_topic(flexible).prop_map(|(n, partitions, tags)| {
        let mut t = kq::OffsetFetchRequestTopic::default();
        t.name = TopicName(sb(&n));
        t.partition_indexes = partitions;
        t.unknown_tagged_fields = tags;
        t
    });
    let group_topic = request_topic(flexible).prop_map(|(n, partitions, tags)| {
        let mut t = kq::OffsetFetchRequestTopics::default();
        t.name = TopicName(sb(&n));
        t.partition_indexes = partitions;
        t.unknown_tagged_fields = tags;
        t
    });
    let group = (text(), option::of(vec(group_topic, 0..3)), tags(flexible)).prop_map(|(id, topics, tags)| {
        let mut g = kq::OffsetFetchRequestGroup::default();
        g.group_id = GroupId(sb(&id));
        g.topics = topics;
        g.unknown_tagged_fields = tags;
        g
    });
    // A null topic list from v2 on.
    let topics = if v >= 2 { option::of(vec(topic, 0..3)).boxed() } else { vec(topic, 0..3).prop_map(Some).boxed() };
    (text(), topics, vec(group, 0..3), any::<bool>(), tags(flexible))
        .prop_map(move |(group_id, topics, groups, stable, tags)| {
            let mut k = kp::OffsetFetchRequest::default();
            if v >= 8 {
                k.groups = groups;
            } else {
                k.group_id = GroupId(sb(&group_id));
                k.topics = topics;
            }
            k.require_stable = stable && v >= 7;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

/// Index, offset, leader epoch, metadata, error code and tags of a response partition.
type PartitionFields = (i32, i64, i32, Option<StrBytes>, i16, Tags);

fn response_partition(v: i16) -> impl Strategy<Value = PartitionFields> {
    (any::<(i32, i64)>(), i32_since(v, 5, -1), nullable_string(), any::<i16>(), tags(v >= 6))
        .prop_map(|((index, offset), epoch, metadata, error, tags)| (index, offset, epoch, metadata, error, tags))
}

fn response(v: i16) -> BoxedStrategy<kp::OffsetFetchResponse> {
    let flexible = v >= 6;
    let partition = response_partition(v).prop_map(|(index, offset, epoch, metadata, error, tags)| {
        let mut p = ks::OffsetFetchResponsePartition::default();
        (p.partition_index, p.committed_offset, p.committed_leader_epoch) = (index, offset, epoch);
        (p.metadata, p.error_code, p.unknown_tagged_fields) = (metadata, error, tags);
        p
    });
    let topic = (text(), vec(partition, 0..3), tags(flexible)).prop_map(|(n, partitions, tags)| {
        let mut t = ks::OffsetFetchResponseTopic::default();
        t.name = TopicName(sb(&n));
        t.partitions = partitions;
        t.unknown_tagged_fields = tags;
        t
    });
    let group_partition = response_partition(v).prop_map(|(index, offset, epoch, metadata, error, tags)| {
        let mut p = ks::OffsetFetchResponsePartitions::default();
        (p.partition_index, p.committed_offset, p.committed_leader_epoch) = (index, offset, epoch);
        (p.metadata, p.error_code, p.unknown_tagged_fields) = (metadata, error, tags);
        p
    });
    let group_topic = (text(), vec(group_partition, 0..3), tags(flexible)).prop_map(|(n, partitions, tags)| {
        let mut t = ks::OffsetFetchResponseTopics::default();
        t.name = TopicName(sb(&n));
        t.partitions = partitions;
        t.unknown_tagged_fields = tags;
        t
    });
    let group = (text(), vec(group_topic, 0..3), any::<i16>(), tags(flexible)).prop_map(|(id, topics, error, tags)| {
        let mut g = ks::OffsetFetchResponseGroup::default();
        g.group_id = GroupId(sb(&id));
        g.topics = topics;
        g.error_code = error;
        g.unknown_tagged_fields = tags;
        g
    });
    (i32_since(v, 3, 0), vec(topic, 0..3), any::<i16>(), vec(group, 0..3), tags(flexible))
        .prop_map(move |(throttle, topics, error, groups, tags)| {
            let mut k = kp::OffsetFetchResponse::default();
            k.throttle_time_ms = throttle;
            if v >= 8 {
                k.groups = groups;
            } else {
                k.topics = topics;
                if v >= 2 {
                    k.error_code = error;
                }
            }
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

oracle_tests!(VERSIONS, request, response);

#[test]
fn frames() {
    let mut t = kq::OffsetFetchRequestTopic::default();
    t.name = TopicName(sb("orders"));
    t.partition_indexes = vec![0, 1];
    let mut req = kp::OffsetFetchRequest::default();
    req.group_id = GroupId(sb("billing"));
    req.topics = Some(vec![t]);
    check_request_frame::<kp::OffsetFetchRequest>(&req.to_idem(), 7, 0x1234_5678);
    check_request_frame::<kp::OffsetFetchRequest>(&req.to_idem(), 1, 7);
    let mut g = kq::OffsetFetchRequestGroup::default();
    g.group_id = GroupId(sb("billing"));
    g.topics = None;
    let mut req = kp::OffsetFetchRequest::default();
    req.groups.push(g);
    check_request_frame::<kp::OffsetFetchRequest>(&req.to_idem(), 8, 7);

    let mut p = ks::OffsetFetchResponsePartition::default();
    p.partition_index = 1;
    p.committed_offset = 42;
    let mut t = ks::OffsetFetchResponseTopic::default();
    t.name = TopicName(sb("orders"));
    t.partitions.push(p);
    let mut resp = kp::OffsetFetchResponse::default();
    resp.topics.push(t);
    check_response_frame(&resp, 1, -77);
    check_response_frame(&resp, 6, -77);
    let mut g = ks::OffsetFetchResponseGroup::default();
    g.group_id = GroupId(sb("billing"));
    g.error_code = 16;
    let mut resp = kp::OffsetFetchResponse::default();
    resp.groups.push(g);
    check_response_frame(&resp, 8, -77);
}
