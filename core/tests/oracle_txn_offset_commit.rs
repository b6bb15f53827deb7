//! TxnOffsetCommit v0-5 against `kafka-protocol` as an oracle, both message directions.

mod kafka_protocol_oracle;

use idem_core::proto::ErrorCode;
use idem_core::proto::txn_offset_commit::{TxnOffsetCommitRequest, TxnOffsetCommitResponse};
use kafka_protocol::messages::txn_offset_commit_request as kq;
use kafka_protocol::messages::txn_offset_commit_response as ks;
use kafka_protocol::messages::{self as kp, GroupId, ProducerId, TopicName, TransactionalId};
use kafka_protocol_oracle::{
    Oracle, check_request_frame, check_response_frame, nullable_string, os, s, sb, tags, text,
};
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 0..=5;

impl Oracle for kp::TxnOffsetCommitRequest {
    type Idem<'a> = TxnOffsetCommitRequest<'a>;

    fn to_idem(&self) -> TxnOffsetCommitRequest<'_> {
        TxnOffsetCommitRequest {
            transactional_id: self.transactional_id.as_str(),
            group_id: self.group_id.as_str(),
            producer_id: self.producer_id.0,
            producer_epoch: self.producer_epoch,
            generation_id: self.generation_id,
            member_id: s(&self.member_id),
            group_instance_id: os(&self.group_instance_id),
            topics: commit_request_topics_to_idem!(self.topics),
        }
    }

    fn assert_same(i: &TxnOffsetCommitRequest<'_>, k: &Self) {
        assert_eq!(i.transactional_id, k.transactional_id.as_str());
        assert_eq!(i.group_id, k.group_id.as_str());
        assert_eq!(i.producer_id, k.producer_id.0);
        assert_eq!(i.producer_epoch, k.producer_epoch);
        assert_eq!(i.generation_id, k.generation_id);
        assert_eq!(i.member_id, s(&k.member_id));
        assert_eq!(i.group_instance_id, os(&k.group_instance_id));
        assert_same_commit_request_topics!(i.topics, &k.topics);
    }
}

commit_response_oracle!(kp::TxnOffsetCommitResponse, TxnOffsetCommitResponse);

fn request(v: i16) -> BoxedStrategy<kp::TxnOffsetCommitRequest> {
    let flexible = v >= 3;
    let topics =
        commit_request_topics!(kq::TxnOffsetCommitRequestTopic, kq::TxnOffsetCommitRequestPartition, v, 2, flexible);
    let head = (text(), text(), any::<i64>(), any::<i16>());
    let group = (any::<i32>(), text(), nullable_string());
    (head, group, topics, tags(flexible))
        .prop_map(move |((tid, group_id, pid, epoch), (generation, member, instance), topics, tags)| {
            let mut k = kp::TxnOffsetCommitRequest::default();
            k.transactional_id = TransactionalId(sb(&tid));
            k.group_id = GroupId(sb(&group_id));
            k.producer_id = ProducerId(pid);
            k.producer_epoch = epoch;
            // The consumer's group metadata exists from v3 (KIP-447).
            if v >= 3 {
                k.generation_id = generation;
                k.member_id = sb(&member);
                k.group_instance_id = instance;
            }
            k.topics = topics;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

fn response(v: i16) -> BoxedStrategy<kp::TxnOffsetCommitResponse> {
    let flexible = v >= 3;
    let topics =
        commit_response_topics!(ks::TxnOffsetCommitResponseTopic, ks::TxnOffsetCommitResponsePartition, flexible);
    (any::<i32>(), topics, tags(flexible))
        .prop_map(|(throttle, topics, tags)| {
            let mut k = kp::TxnOffsetCommitResponse::default();
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
    let mut p = kq::TxnOffsetCommitRequestPartition::default();
    p.partition_index = 2;
    p.committed_offset = 42;
    let mut t = kq::TxnOffsetCommitRequestTopic::default();
    t.name = TopicName(sb("orders"));
    t.partitions.push(p);
    let mut req = kp::TxnOffsetCommitRequest::default();
    req.transactional_id = TransactionalId(sb("payments-txn"));
    req.group_id = GroupId(sb("billing"));
    req.producer_id = ProducerId(4711);
    req.producer_epoch = 2;
    req.topics.push(t);
    check_request_frame::<kp::TxnOffsetCommitRequest>(&req.to_idem(), 0, 7);
    req.generation_id = 5;
    req.member_id = sb("consumer-1");
    check_request_frame::<kp::TxnOffsetCommitRequest>(&req.to_idem(), 3, 0x1234_5678);
    check_request_frame::<kp::TxnOffsetCommitRequest>(&req.to_idem(), 4, 0x1234_5678);
    let mut p = ks::TxnOffsetCommitResponsePartition::default();
    p.partition_index = 2;
    p.error_code = ErrorCode::UNKNOWN_MEMBER_ID.0;
    let mut t = ks::TxnOffsetCommitResponseTopic::default();
    t.name = TopicName(sb("orders"));
    t.partitions.push(p);
    let mut resp = kp::TxnOffsetCommitResponse::default();
    resp.topics.push(t);
    for v in [0, 2, 3, 4] {
        check_response_frame(&resp, v, -77);
    }
}
