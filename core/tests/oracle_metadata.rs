//! Metadata v1-12 against `kafka-protocol` as an oracle, both message directions.

mod kafka_protocol_oracle;

use idem_core::proto::metadata::{
    MetadataBroker, MetadataPartition, MetadataRequest, MetadataRequestTopic, MetadataResponse, MetadataTopic,
};
use kafka_protocol::messages::{self as kp, BrokerId, TopicName};
use kafka_protocol_oracle::{Oracle, check_request_frame, check_response_frame, sb, tags, text};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 1..=12;

fn name(n: &TopicName) -> &str {
    n.as_str()
}

impl Oracle for kp::MetadataRequest {
    type Idem<'a> = MetadataRequest<'a>;

    fn to_idem(&self) -> MetadataRequest<'_> {
        MetadataRequest {
            topics: self.topics.as_ref().map(|ts| {
                ts.iter()
                    .map(|t| MetadataRequestTopic { topic_id: *t.topic_id.as_bytes(), name: t.name.as_ref().map(name) })
                    .collect()
            }),
            allow_auto_topic_creation: self.allow_auto_topic_creation,
            include_cluster_authorized_operations: self.include_cluster_authorized_operations,
            include_topic_authorized_operations: self.include_topic_authorized_operations,
        }
    }

    fn assert_same(i: &MetadataRequest<'_>, k: &Self) {
        assert_eq!(i.topics.is_none(), k.topics.is_none());
        let (it, kt) = (i.topics.as_deref().unwrap_or_default(), k.topics.as_deref().unwrap_or_default());
        assert_eq!(it.len(), kt.len());
        for (a, b) in it.iter().zip(kt) {
            assert_eq!(&a.topic_id, b.topic_id.as_bytes());
            assert_eq!(a.name, b.name.as_ref().map(name));
        }
        assert_eq!(i.allow_auto_topic_creation, k.allow_auto_topic_creation);
        assert_eq!(i.include_cluster_authorized_operations, k.include_cluster_authorized_operations);
        assert_eq!(i.include_topic_authorized_operations, k.include_topic_authorized_operations);
    }
}

impl Oracle for kp::MetadataResponse {
    type Idem<'a> = MetadataResponse<'a>;

    fn to_idem(&self) -> MetadataResponse<'_> {
        MetadataResponse {
            throttle_time_ms: self.throttle_time_ms,
            brokers: self
                .brokers
                .iter()
                .map(|b| MetadataBroker {
                    node_id: b.node_id.0,
                    host: b.host.as_str(),
                    port: b.port,
                    rack: b.rack.as_ref().map(|r| r.as_str()),
                })
                .collect(),
            cluster_id: self.cluster_id.as_ref().map(|c| c.as_str()),
            controller_id: self.controller_id.0,
            topics: self
                .topics
                .iter()
                .map(|t| MetadataTopic {
                    error_code: t.error_code,
                    name: t.name.as_ref().map(name),
                    topic_id: *t.topic_id.as_bytes(),
                    is_internal: t.is_internal,
                    partitions: t
                        .partitions
                        .iter()
                        .map(|p| MetadataPartition {
                            error_code: p.error_code,
                            partition_index: p.partition_index,
                            leader_id: p.leader_id.0,
                            leader_epoch: p.leader_epoch,
                            replica_nodes: p.replica_nodes.iter().map(|b| b.0).collect(),
                            isr_nodes: p.isr_nodes.iter().map(|b| b.0).collect(),
                            offline_replicas: p.offline_replicas.iter().map(|b| b.0).collect(),
                        })
                        .collect(),
                    topic_authorized_operations: t.topic_authorized_operations,
                })
                .collect(),
            cluster_authorized_operations: self.cluster_authorized_operations,
        }
    }

    fn assert_same(i: &MetadataResponse<'_>, k: &Self) {
        let ids = |v: &[BrokerId]| v.iter().map(|b| b.0).collect::<Vec<_>>();
        assert_eq!(i.throttle_time_ms, k.throttle_time_ms);
        assert_eq!(i.brokers.len(), k.brokers.len());
        for (a, b) in i.brokers.iter().zip(&k.brokers) {
            assert_eq!(a.node_id, b.node_id.0);
            assert_eq!(a.host, b.host.as_str());
            assert_eq!(a.port, b.port);
            assert_eq!(a.rack, b.rack.as_ref().map(|r| r.as_str()));
        }
        assert_eq!(i.cluster_id, k.cluster_id.as_ref().map(|c| c.as_str()));
        assert_eq!(i.controller_id, k.controller_id.0);
        assert_eq!(i.topics.len(), k.topics.len());
        for (a, b) in i.topics.iter().zip(&k.topics) {
            assert_eq!(a.error_code, b.error_code);
            assert_eq!(a.name, b.name.as_ref().map(name));
            assert_eq!(&a.topic_id, b.topic_id.as_bytes());
            assert_eq!(a.is_internal, b.is_internal);
            assert_eq!(a.topic_authorized_operations, b.topic_authorized_operations);
            assert_eq!(a.partitions.len(), b.partitions.len());
            for (p, q) in a.partitions.iter().zip(&b.partitions) {
                assert_eq!(p.error_code, q.error_code);
                assert_eq!(p.partition_index, q.partition_index);
                assert_eq!(p.leader_id, q.leader_id.0);
                assert_eq!(p.leader_epoch, q.leader_epoch);
                assert_eq!(&p.replica_nodes, &ids(&q.replica_nodes));
                assert_eq!(&p.isr_nodes, &ids(&q.isr_nodes));
                assert_eq!(&p.offline_replicas, &ids(&q.offline_replicas));
            }
        }
        assert_eq!(i.cluster_authorized_operations, k.cluster_authorized_operations);
    }
}

/// A topic id: zero (unknown) or random, in versions that carry one; zero below.
fn topic_id(v: i16) -> BoxedStrategy<[u8; 16]> {
    if v >= 10 { prop_oneof![Just([0u8; 16]), any::<[u8; 16]>()].boxed() } else { Just([0u8; 16]).boxed() }
}

/// A topic name, null only where `nullable`.
fn topic_name(nullable: bool) -> BoxedStrategy<Option<String>> {
    if nullable { option::of(text()).boxed() } else { text().prop_map(Some).boxed() }
}

fn request(v: i16) -> BoxedStrategy<kp::MetadataRequest> {
    let flexible = v >= 9;
    let topic = (topic_id(v), topic_name(v >= 10), tags(flexible)).prop_map(|(id, n, tags)| {
        let mut t = kp::metadata_request::MetadataRequestTopic::default();
        t.topic_id = kp_uuid!(id);
        t.name = n.map(|n| TopicName(sb(&n)));
        t.unknown_tagged_fields = tags;
        t
    });
    (option::of(vec(topic, 0..4)), any::<bool>(), any::<bool>(), any::<bool>(), tags(flexible))
        .prop_map(move |(topics, auto, cluster_ops, topic_ops, tags)| {
            let mut k = kp::MetadataRequest::default();
            k.topics = topics;
            k.allow_auto_topic_creation = auto || v < 4;
            k.include_cluster_authorized_operations = cluster_ops && (8..=10).contains(&v);
            k.include_topic_authorized_operations = topic_ops && v >= 8;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

fn broker_ids() -> impl Strategy<Value = Vec<BrokerId>> {
    vec(any::<i32>().prop_map(BrokerId), 0..5)
}

fn partition(v: i16) -> impl Strategy<Value = kp::metadata_response::MetadataResponsePartition> {
    (any::<(i16, i32, i32, i32)>(), broker_ids(), broker_ids(), broker_ids(), tags(v >= 9)).prop_map(
        move |((error, index, leader, epoch), replicas, isr, offline, tags)| {
            let mut p = kp::metadata_response::MetadataResponsePartition::default();
            p.error_code = error;
            p.partition_index = index;
            p.leader_id = BrokerId(leader);
            if v >= 7 {
                p.leader_epoch = epoch;
            }
            p.replica_nodes = replicas;
            p.isr_nodes = isr;
            if v >= 5 {
                p.offline_replicas = offline;
            }
            p.unknown_tagged_fields = tags;
            p
        },
    )
}

fn topic(v: i16) -> impl Strategy<Value = kp::metadata_response::MetadataResponseTopic> {
    (any::<i16>(), topic_name(v >= 12), topic_id(v), any::<bool>(), vec(partition(v), 0..4), any::<i32>(), tags(v >= 9))
        .prop_map(move |(error, n, id, internal, partitions, ops, tags)| {
            let mut t = kp::metadata_response::MetadataResponseTopic::default();
            t.error_code = error;
            t.name = n.map(|n| TopicName(sb(&n)));
            t.topic_id = kp_uuid!(id);
            t.is_internal = internal;
            t.partitions = partitions;
            if v >= 8 {
                t.topic_authorized_operations = ops;
            }
            t.unknown_tagged_fields = tags;
            t
        })
}

fn broker(v: i16) -> impl Strategy<Value = kp::metadata_response::MetadataResponseBroker> {
    (any::<i32>(), text(), any::<i32>(), option::of(text()), tags(v >= 9)).prop_map(|(id, host, port, rack, tags)| {
        let mut b = kp::metadata_response::MetadataResponseBroker::default();
        b.node_id = BrokerId(id);
        b.host = sb(&host);
        b.port = port;
        b.rack = rack.map(|r| sb(&r));
        b.unknown_tagged_fields = tags;
        b
    })
}

fn response(v: i16) -> BoxedStrategy<kp::MetadataResponse> {
    (
        any::<i32>(),
        vec(broker(v), 0..4),
        option::of(text()),
        any::<i32>(),
        vec(topic(v), 0..4),
        any::<i32>(),
        tags(v >= 9),
    )
        .prop_map(move |(throttle, brokers, cluster_id, controller, topics, cluster_ops, tags)| {
            let mut k = kp::MetadataResponse::default();
            if v >= 3 {
                k.throttle_time_ms = throttle;
            }
            k.brokers = brokers;
            if v >= 2 {
                k.cluster_id = cluster_id.map(|c| sb(&c));
            }
            k.controller_id = BrokerId(controller);
            k.topics = topics;
            if (8..=10).contains(&v) {
                k.cluster_authorized_operations = cluster_ops;
            }
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

oracle_tests!(VERSIONS, request, response);

#[test]
fn frames() {
    let mut req = kp::MetadataRequest::default();
    let mut t = kp::metadata_request::MetadataRequestTopic::default();
    t.name = Some(TopicName(sb("events")));
    req.topics = Some(vec![t]);
    check_request_frame::<kp::MetadataRequest>(&req.to_idem(), 12, 0x1234_5678);
    check_request_frame::<kp::MetadataRequest>(&req.to_idem(), 1, 0x1234_5678);
    req.topics = None;
    check_request_frame::<kp::MetadataRequest>(&req.to_idem(), 9, 0x1234_5678);
    let mut resp = kp::MetadataResponse::default();
    let mut b = kp::metadata_response::MetadataResponseBroker::default();
    b.node_id = BrokerId(1);
    b.host = sb("localhost");
    b.port = 9092;
    resp.brokers.push(b);
    resp.controller_id = BrokerId(1);
    let mut t = kp::metadata_response::MetadataResponseTopic::default();
    t.name = Some(TopicName(sb("events")));
    t.partitions.push(kp::metadata_response::MetadataResponsePartition::default());
    resp.topics.push(t);
    check_response_frame(&resp, 12, -77);
    check_response_frame(&resp, 8, -77);
}
