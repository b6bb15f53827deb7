//! ListOffsets v1-7 against `kafka-protocol` as an oracle, both message directions.

mod kafka_protocol_oracle;

use idem_core::proto::list_offsets::{
    ListOffsetsPartition, ListOffsetsPartitionResponse, ListOffsetsRequest, ListOffsetsResponse, ListOffsetsTopic,
    ListOffsetsTopicResponse,
};
use kafka_protocol::messages::list_offsets_request as kq;
use kafka_protocol::messages::list_offsets_response as ks;
use kafka_protocol::messages::{self as kp, BrokerId, TopicName};
use kafka_protocol_oracle::{Oracle, check_request_frame, check_response_frame, sb, tags, text};
use proptest::collection::vec;
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 1..=7;

impl Oracle for kp::ListOffsetsRequest {
    type Idem<'a> = ListOffsetsRequest<'a>;

    fn to_idem(&self) -> ListOffsetsRequest<'_> {
        ListOffsetsRequest {
            replica_id: self.replica_id.0,
            isolation_level: self.isolation_level,
            topics: self
                .topics
                .iter()
                .map(|t| ListOffsetsTopic {
                    name: t.name.as_str(),
                    partitions: t
                        .partitions
                        .iter()
                        .map(|p| ListOffsetsPartition {
                            partition_index: p.partition_index,
                            current_leader_epoch: p.current_leader_epoch,
                            timestamp: p.timestamp,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn assert_same(i: &ListOffsetsRequest<'_>, k: &Self) {
        assert_eq!(i.replica_id, k.replica_id.0);
        assert_eq!(i.isolation_level, k.isolation_level);
        assert_eq!(i.topics.len(), k.topics.len());
        for (a, b) in i.topics.iter().zip(&k.topics) {
            assert_eq!(a.name, b.name.as_str());
            assert_eq!(a.partitions.len(), b.partitions.len());
            for (p, q) in a.partitions.iter().zip(&b.partitions) {
                assert_eq!(p.partition_index, q.partition_index);
                assert_eq!(p.current_leader_epoch, q.current_leader_epoch);
                assert_eq!(p.timestamp, q.timestamp);
            }
        }
    }
}

impl Oracle for kp::ListOffsetsResponse {
    type Idem<'a> = ListOffsetsResponse<'a>;

    fn to_idem(&self) -> ListOffsetsResponse<'_> {
        ListOffsetsResponse {
            throttle_time_ms: self.throttle_time_ms,
            topics: self
                .topics
                .iter()
                .map(|t| ListOffsetsTopicResponse {
                    name: t.name.as_str(),
                    partitions: t
                        .partitions
                        .iter()
                        .map(|p| ListOffsetsPartitionResponse {
                            partition_index: p.partition_index,
                            error_code: p.error_code,
                            timestamp: p.timestamp,
                            offset: p.offset,
                            leader_epoch: p.leader_epoch,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn assert_same(i: &ListOffsetsResponse<'_>, k: &Self) {
        assert_eq!(i.throttle_time_ms, k.throttle_time_ms);
        assert_eq!(i.topics.len(), k.topics.len());
        for (a, b) in i.topics.iter().zip(&k.topics) {
            assert_eq!(a.name, b.name.as_str());
            assert_eq!(a.partitions.len(), b.partitions.len());
            for (p, q) in a.partitions.iter().zip(&b.partitions) {
                assert_eq!(p.partition_index, q.partition_index);
                assert_eq!(p.error_code, q.error_code);
                assert_eq!(p.timestamp, q.timestamp);
                assert_eq!(p.offset, q.offset);
                assert_eq!(p.leader_epoch, q.leader_epoch);
            }
        }
    }
}

/// Timestamps: the special values as often as arbitrary ones.
fn timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![Just(-1i64), Just(-2i64), Just(-3i64), any::<i64>()]
}

fn request(v: i16) -> BoxedStrategy<kp::ListOffsetsRequest> {
    let flexible = v >= 6;
    let partition = (any::<i32>(), any::<i32>(), timestamp(), tags(flexible)).prop_map(move |(i, epoch, ts, tags)| {
        let mut p = kq::ListOffsetsPartition::default();
        p.partition_index = i;
        if v >= 4 {
            p.current_leader_epoch = epoch;
        }
        p.timestamp = ts;
        p.unknown_tagged_fields = tags;
        p
    });
    let topic = (text(), vec(partition, 0..4), tags(flexible)).prop_map(|(n, partitions, tags)| {
        let mut t = kq::ListOffsetsTopic::default();
        t.name = TopicName(sb(&n));
        t.partitions = partitions;
        t.unknown_tagged_fields = tags;
        t
    });
    (any::<i32>(), any::<i8>(), vec(topic, 0..4), tags(flexible))
        .prop_map(move |(replica, isolation, topics, tags)| {
            let mut k = kp::ListOffsetsRequest::default();
            k.replica_id = BrokerId(replica);
            if v >= 2 {
                k.isolation_level = isolation;
            }
            k.topics = topics;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

fn response(v: i16) -> BoxedStrategy<kp::ListOffsetsResponse> {
    let flexible = v >= 6;
    let partition = (any::<(i32, i16)>(), timestamp(), any::<i64>(), any::<i32>(), tags(flexible)).prop_map(
        move |((i, error), ts, offset, epoch, tags)| {
            let mut p = ks::ListOffsetsPartitionResponse::default();
            p.partition_index = i;
            p.error_code = error;
            p.timestamp = ts;
            p.offset = offset;
            if v >= 4 {
                p.leader_epoch = epoch;
            }
            p.unknown_tagged_fields = tags;
            p
        },
    );
    let topic = (text(), vec(partition, 0..4), tags(flexible)).prop_map(|(n, partitions, tags)| {
        let mut t = ks::ListOffsetsTopicResponse::default();
        t.name = TopicName(sb(&n));
        t.partitions = partitions;
        t.unknown_tagged_fields = tags;
        t
    });
    (any::<i32>(), vec(topic, 0..4), tags(flexible))
        .prop_map(move |(throttle, topics, tags)| {
            let mut k = kp::ListOffsetsResponse::default();
            if v >= 2 {
                k.throttle_time_ms = throttle;
            }
            k.topics = topics;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

oracle_tests!(VERSIONS, request, response);

#[test]
fn frames() {
    let mut p = kq::ListOffsetsPartition::default();
    p.partition_index = 2;
    p.timestamp = -2;
    let mut t = kq::ListOffsetsTopic::default();
    t.name = TopicName(sb("events"));
    t.partitions.push(p);
    let mut req = kp::ListOffsetsRequest::default();
    req.replica_id = BrokerId(-1);
    req.topics.push(t);
    check_request_frame::<kp::ListOffsetsRequest>(&req.to_idem(), 7, 0x1234_5678);
    check_request_frame::<kp::ListOffsetsRequest>(&req.to_idem(), 1, 0x1234_5678);
    let mut p = ks::ListOffsetsPartitionResponse::default();
    p.partition_index = 2;
    p.offset = 1234;
    let mut t = ks::ListOffsetsTopicResponse::default();
    t.name = TopicName(sb("events"));
    t.partitions.push(p);
    let mut resp = kp::ListOffsetsResponse::default();
    resp.topics.push(t);
    check_response_frame(&resp, 7, -77);
    check_response_frame(&resp, 3, -77);
}
