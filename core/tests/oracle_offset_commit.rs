//! OffsetCommit v2-8 against `kafka-protocol` as an oracle, both message directions.

mod kafka_protocol_oracle;

use idem_core::proto::offset_commit::{OffsetCommitRequest, OffsetCommitResponse};
use kafka_protocol::messages::offset_commit_request as kq;
use kafka_protocol::messages::offset_commit_response as ks;
use kafka_protocol::messages::{self as kp, GroupId, TopicName};
use kafka_protocol_oracle::{
    Oracle, check_request_frame, check_response_frame, nullable_string, os, s, sb, tags, text,
};
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
            topics: commit_request_topics_to_idem!(self.topics),
        }
    }

    fn assert_same(i: &OffsetCommitRequest<'_>, k: &Self) {
        assert_eq!(i.group_id, k.group_id.as_str());
        assert_eq!(i.generation_id, k.generation_id_or_member_epoch);
        assert_eq!(i.member_id, s(&k.member_id));
        assert_eq!(i.group_instance_id, os(&k.group_instance_id));
        assert_eq!(i.retention_time_ms, k.retention_time_ms);
        assert_same_commit_request_topics!(i.topics, &k.topics);
    }
}

commit_response_oracle!(kp::OffsetCommitResponse, OffsetCommitResponse);

fn request(v: i16) -> BoxedStrategy<kp::OffsetCommitRequest> {
    let flexible = v >= 8;
    let topics = commit_request_topics!(kq::OffsetCommitRequestTopic, kq::OffsetCommitRequestPartition, v, 6, flexible);
    let head = (text(), any::<i32>(), text(), nullable_string(), any::<i64>());
    (head, topics, tags(flexible))
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
    let topics = commit_response_topics!(ks::OffsetCommitResponseTopic, ks::OffsetCommitResponsePartition, flexible);
    (kafka_protocol_oracle::i32_since(v, 3, 0), topics, tags(flexible))
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
