//! AddPartitionsToTxn v0-3 against `kafka-protocol` as an oracle, both message directions.

mod kafka_protocol_oracle;

use idem_core::proto::ErrorCode;
use idem_core::proto::add_partitions_to_txn::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, AddPartitionsToTxnTopic,
    AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::add_partitions_to_txn_request as kq;
use kafka_protocol::messages::add_partitions_to_txn_response as ks;
use kafka_protocol::messages::{self as kp, ProducerId, TopicName, TransactionalId};
use kafka_protocol_oracle::{Oracle, check_request_frame, check_response_frame, sb, tags, text};
use proptest::collection::vec;
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 0..=3;

impl Oracle for kp::AddPartitionsToTxnRequest {
    type Idem<'a> = AddPartitionsToTxnRequest<'a>;

    fn to_idem(&self) -> AddPartitionsToTxnRequest<'_> {
        AddPartitionsToTxnRequest {
            transactional_id: self.v3_and_below_transactional_id.as_str(),
            producer_id: self.v3_and_below_producer_id.0,
            producer_epoch: self.v3_and_below_producer_epoch,
            topics: self
                .v3_and_below_topics
                .iter()
                .map(|t| AddPartitionsToTxnTopic { name: t.name.as_str(), partitions: t.partitions.clone() })
                .collect(),
        }
    }

    fn assert_same(i: &AddPartitionsToTxnRequest<'_>, k: &Self) {
        assert!(k.transactions.is_empty(), "v4+ only");
        assert_eq!(i.transactional_id, k.v3_and_below_transactional_id.as_str());
        assert_eq!(i.producer_id, k.v3_and_below_producer_id.0);
        assert_eq!(i.producer_epoch, k.v3_and_below_producer_epoch);
        assert_eq!(i.topics.len(), k.v3_and_below_topics.len());
        for (a, b) in i.topics.iter().zip(&k.v3_and_below_topics) {
            assert_eq!(a.name, b.name.as_str());
            assert_eq!(a.partitions, b.partitions);
        }
    }
}

impl Oracle for kp::AddPartitionsToTxnResponse {
    type Idem<'a> = AddPartitionsToTxnResponse<'a>;

    fn to_idem(&self) -> AddPartitionsToTxnResponse<'_> {
        AddPartitionsToTxnResponse {
            throttle_time_ms: self.throttle_time_ms,
            results_by_topic: self
                .results_by_topic_v3_and_below
                .iter()
                .map(|t| AddPartitionsToTxnTopicResult {
                    name: t.name.as_str(),
                    results_by_partition: t
                        .results_by_partition
                        .iter()
                        .map(|p| AddPartitionsToTxnPartitionResult {
                            partition_index: p.partition_index,
                            partition_error_code: p.partition_error_code,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn assert_same(i: &AddPartitionsToTxnResponse<'_>, k: &Self) {
        assert!(k.results_by_transaction.is_empty() && k.error_code == 0, "v4+ only");
        assert_eq!(i.throttle_time_ms, k.throttle_time_ms);
        assert_eq!(i.results_by_topic.len(), k.results_by_topic_v3_and_below.len());
        for (a, b) in i.results_by_topic.iter().zip(&k.results_by_topic_v3_and_below) {
            assert_eq!(a.name, b.name.as_str());
            assert_eq!(a.results_by_partition.len(), b.results_by_partition.len());
            for (p, q) in a.results_by_partition.iter().zip(&b.results_by_partition) {
                assert_eq!(p.partition_index, q.partition_index);
                assert_eq!(p.partition_error_code, q.partition_error_code);
            }
        }
    }
}

fn request(v: i16) -> BoxedStrategy<kp::AddPartitionsToTxnRequest> {
    let flexible = v >= 3;
    let topic = (text(), vec(any::<i32>(), 0..5), tags(flexible)).prop_map(|(n, partitions, tags)| {
        let mut t = kq::AddPartitionsToTxnTopic::default();
        t.name = TopicName(sb(&n));
        t.partitions = partitions;
        t.unknown_tagged_fields = tags;
        t
    });
    (text(), any::<i64>(), any::<i16>(), vec(topic, 0..4), tags(flexible))
        .prop_map(|(tid, pid, epoch, topics, tags)| {
            let mut k = kp::AddPartitionsToTxnRequest::default();
            k.v3_and_below_transactional_id = TransactionalId(sb(&tid));
            k.v3_and_below_producer_id = ProducerId(pid);
            k.v3_and_below_producer_epoch = epoch;
            k.v3_and_below_topics = topics;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

fn response(v: i16) -> BoxedStrategy<kp::AddPartitionsToTxnResponse> {
    let flexible = v >= 3;
    let partition = (any::<(i32, i16)>(), tags(flexible)).prop_map(|((index, error), tags)| {
        let mut p = ks::AddPartitionsToTxnPartitionResult::default();
        p.partition_index = index;
        p.partition_error_code = error;
        p.unknown_tagged_fields = tags;
        p
    });
    let topic = (text(), vec(partition, 0..4), tags(flexible)).prop_map(|(n, partitions, tags)| {
        let mut t = ks::AddPartitionsToTxnTopicResult::default();
        t.name = TopicName(sb(&n));
        t.results_by_partition = partitions;
        t.unknown_tagged_fields = tags;
        t
    });
    (any::<i32>(), vec(topic, 0..4), tags(flexible))
        .prop_map(|(throttle, topics, tags)| {
            let mut k = kp::AddPartitionsToTxnResponse::default();
            k.throttle_time_ms = throttle;
            k.results_by_topic_v3_and_below = topics;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

oracle_tests!(VERSIONS, request, response);

#[test]
fn frames() {
    let mut t = kq::AddPartitionsToTxnTopic::default();
    t.name = TopicName(sb("orders"));
    t.partitions = vec![0, 3];
    let mut req = kp::AddPartitionsToTxnRequest::default();
    req.v3_and_below_transactional_id = TransactionalId(sb("payments-txn"));
    req.v3_and_below_producer_id = ProducerId(4711);
    req.v3_and_below_producer_epoch = 2;
    req.v3_and_below_topics.push(t);
    for v in [0, 3] {
        check_request_frame::<kp::AddPartitionsToTxnRequest>(&req.to_idem(), v, 0x1234_5678);
    }
    let mut p = ks::AddPartitionsToTxnPartitionResult::default();
    p.partition_index = 3;
    p.partition_error_code = ErrorCode::CONCURRENT_TRANSACTIONS.0;
    let mut t = ks::AddPartitionsToTxnTopicResult::default();
    t.name = TopicName(sb("orders"));
    t.results_by_partition.push(p);
    let mut resp = kp::AddPartitionsToTxnResponse::default();
    resp.results_by_topic_v3_and_below.push(t);
    for v in [0, 3] {
        check_response_frame(&resp, v, -77);
    }
}
