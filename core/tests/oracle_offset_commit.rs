//! OffsetCommit v2-8 against `kafka-protocol` as an oracle, both message directions.

mod kafka_protocol_oracle;

use idem_core::proto::offset_commit::{
    OffsetCommitRequest, OffsetCommitRequestPartition, OffsetCommitRequestTopic, OffsetCommitResponse,
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::offset_commit_request as kq;
use kafka_protocol::messages::offset_commit_response as ks;
use kafka_protocol::messages::{self as kp, GroupId, TopicName};
use kafka_protocol_oracle::{
    Oracle, check_request_frame, check_response_frame, i32_since, nullable_string, os, s, sb, tags, text,
};
use proptest::collection::vec;
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 2..=8;

impl Oracle for kp::OffsetCommitRequest {
    type Idem<'a> = OffsetCommitRequest<'a>;

    fn to_idem(&self) -> OffsetCommitRequest<'_> {
        OffsetCommitRequest {
            group_id: self.group_id.as_str(),
            generation_id: self.generation_id_or_member_epoch,
            member_id: s(&self.member_id),
            group_instance_id: os(&self.group_instance_id),
            retention_time_ms: self.retention_time_ms,
            topics: self
                .topics
                .iter()
                .map(|t| OffsetCommitRequestTopic {
                    name: t.name.as_str(),
                    partitions: t
                        .partitions
                        .iter()
                        .map(|p| OffsetCommitRequestPartition {
                            partition_index: p.partition_index,
                            committed_offset: p.committed_offset,
                            committed_leader_epoch: p.committed_leader_epoch,
                            committed_metadata: os(&p.committed_metadata),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn assert_same(i: &OffsetCommitRequest<'_>, k: &Self) {
        assert_eq!(i.group_id, k.group_id.as_str());
        assert_eq!(i.generation_id, k.generation_id_or_member_epoch);
        assert_eq!(i.member_id, s(&k.member_id));
        assert_eq!(i.group_instance_id, os(&k.group_instance_id));
        assert_eq!(i.retention_time_ms, k.retention_time_ms);
        assert_eq!(i.topics.len(), k.topics.len());
        for (a, b) in i.topics.iter().zip(&k.topics) {
            assert_eq!(a.name, b.name.as_str());
            assert_eq!(a.partitions.len(), b.partitions.len());
            for (p, q) in a.partitions.iter().zip(&b.partitions) {
                assert_eq!(p.partition_index, q.partition_index);
                assert_eq!(p.committed_offset, q.committed_offset);
                assert_eq!(p.committed_leader_epoch, q.committed_leader_epoch);
                assert_eq!(p.committed_metadata, os(&q.committed_metadata));
            }
        }
    }
}

impl Oracle for kp::OffsetCommitResponse {
    type Idem<'a> = OffsetCommitResponse<'a>;

    fn to_idem(&self) -> OffsetCommitResponse<'_> {
        OffsetCommitResponse {
            throttle_time_ms: self.throttle_time_ms,
            topics: self
                .topics
                .iter()
                .map(|t| OffsetCommitResponseTopic {
                    name: t.name.as_str(),
                    partitions: t
                        .partitions
                        .iter()
                        .map(|p| OffsetCommitResponsePartition {
                            partition_index: p.partition_index,
                            error_code: p.error_code,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn assert_same(i: &OffsetCommitResponse<'_>, k: &Self) {
        assert_eq!(i.throttle_time_ms, k.throttle_time_ms);
        assert_eq!(i.topics.len(), k.topics.len());
        for (a, b) in i.topics.iter().zip(&k.topics) {
            assert_eq!(a.name, b.name.as_str());
            assert_eq!(a.partitions.len(), b.partitions.len());
            for (p, q) in a.partitions.iter().zip(&b.partitions) {
                assert_eq!(p.partition_index, q.partition_index);
                assert_eq!(p.error_code, q.error_code);
            }
        }
    }
}

fn request(v: i16) -> BoxedStrategy<kp::OffsetCommitRequest> {
    let flexible = v >= 8;
    let partition = (any::<(i32, i64)>(), i32_since(v, 6, -1), nullable_string(), tags(flexible)).prop_map(
        |((index, offset), epoch, metadata, tags)| {
            let mut p = kq::OffsetCommitRequestPartition::default();
            p.partition_index = index;
            p.committed_offset = offset;
            p.committed_leader_epoch = epoch;
            p.committed_metadata = metadata;
            p.unknown_tagged_fields = tags;
            p
        },
    );
    let topic = (text(), vec(partition, 0..4), tags(flexible)).prop_map(|(n, partitions, tags)| {
        let mut t = kq::OffsetCommitRequestTopic::default();
        t.name = TopicName(sb(&n));
        t.partitions = partitions;
        t.unknown_tagged_fields = tags;
        t
    });
    let head = (text(), any::<i32>(), text(), nullable_string(), any::<i64>());
    (head, vec(topic, 0..4), tags(flexible))
        .prop_map(move |((group, generation, member, instance, retention), topics, tags)| {
            let mut k = kp::OffsetCommitRequest::default();
            k.group_id = GroupId(sb(&group));
            k.generation_id_or_member_epoch = generation;
            k.member_id = sb(&member);
            if v >= 7 {
                k.group_instance_id = instance;
            }
            if v <= 4 {
                k.retention_time_ms = retention;
            }
            k.topics = topics;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

fn response(v: i16) -> BoxedStrategy<kp::OffsetCommitResponse> {
    let flexible = v >= 8;
    let partition = (any::<(i32, i16)>(), tags(flexible)).prop_map(|((index, error), tags)| {
        let mut p = ks::OffsetCommitResponsePartition::default();
        p.partition_index = index;
        p.error_code = error;
        p.unknown_tagged_fields = tags;
        p
    });
    let topic = (text(), vec(partition, 0..4), tags(flexible)).prop_map(|(n, partitions, tags)| {
        let mut t = ks::OffsetCommitResponseTopic::default();
        t.name = TopicName(sb(&n));
        t.partitions = partitions;
        t.unknown_tagged_fields = tags;
        t
    });
    (i32_since(v, 3, 0), vec(topic, 0..4), tags(flexible))
        .prop_map(|(throttle, topics, tags)| {
            let mut k = kp::OffsetCommitResponse::default();
            k.throttle_time_ms = throttle;
            k.topics = topics;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

oracle_tests!(VERSIONS, request, response);

#[test]
fn frames() {
    let mut p = kq::OffsetCommitRequestPartition::default();
    p.partition_index = 2;
    p.committed_offset = 42;
    let mut t = kq::OffsetCommitRequestTopic::default();
    t.name = TopicName(sb("orders"));
    t.partitions.push(p);
    let mut req = kp::OffsetCommitRequest::default();
    req.group_id = GroupId(sb("billing"));
    req.generation_id_or_member_epoch = 3;
    req.member_id = sb("rdkafka-1f2e");
    req.topics.push(t);
    check_request_frame::<kp::OffsetCommitRequest>(&req.to_idem(), 8, 0x1234_5678);
    check_request_frame::<kp::OffsetCommitRequest>(&req.to_idem(), 2, 7);
    let mut p = ks::OffsetCommitResponsePartition::default();
    p.partition_index = 2;
    p.error_code = 27;
    let mut t = ks::OffsetCommitResponseTopic::default();
    t.name = TopicName(sb("orders"));
    t.partitions.push(p);
    let mut resp = kp::OffsetCommitResponse::default();
    resp.topics.push(t);
    check_response_frame(&resp, 8, -77);
    check_response_frame(&resp, 2, -77);
}
