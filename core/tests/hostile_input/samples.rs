//! Sample values per message for the hostile-input test: rich (non-empty arrays, strings,
//! nulls) and default.

use idem_core::proto::add_offsets_to_txn::*;
use idem_core::proto::add_partitions_to_txn::*;
use idem_core::proto::api_versions::*;
use idem_core::proto::describe_groups::*;
use idem_core::proto::end_txn::*;
use idem_core::proto::fetch::*;
use idem_core::proto::init_producer_id::*;
use idem_core::proto::list_groups::*;
use idem_core::proto::list_offsets::*;
use idem_core::proto::metadata::*;
use idem_core::proto::offset_commit::*;
use idem_core::proto::offset_fetch::*;
use idem_core::proto::produce::*;
use idem_core::proto::sasl_authenticate::*;
use idem_core::proto::sasl_handshake::*;
use idem_core::proto::txn_offset_commit::*;
use idem_core::proto::{ApiKey, ErrorCode};
use idem_core::proto::{find_coordinator::*, heartbeat::*, join_group::*, leave_group::*, sync_group::*};

pub fn api_versions_request() -> Vec<ApiVersionsRequest<'static>> {
    vec![ApiVersionsRequest { client_software_name: "idem-fuzz", client_software_version: "1.0.0" }, Default::default()]
}

pub fn api_versions_response() -> Vec<ApiVersionsResponse> {
    let keys = ApiKey::ALL
        .iter()
        .map(|k| ApiVersion { api_key: k.as_i16(), min_version: k.supported().min, max_version: k.supported().max })
        .collect();
    let features = ApiVersionsResponse {
        supported_features: vec![SupportedFeature {
            name: "transaction.version".into(),
            min_version: 0,
            max_version: 2,
        }],
        finalized_features_epoch: 1,
        finalized_features: vec![FinalizedFeature {
            name: "transaction.version".into(),
            max_version_level: 2,
            min_version_level: 2,
        }],
        ..ApiVersionsResponse::default()
    };
    vec![
        ApiVersionsResponse { error_code: 0, api_keys: keys, throttle_time_ms: 3, ..ApiVersionsResponse::default() },
        features,
        Default::default(),
    ]
}

pub fn metadata_request() -> Vec<MetadataRequest<'static>> {
    let topics = vec![
        MetadataRequestTopic { topic_id: [0; 16], name: Some("orders") },
        MetadataRequestTopic { topic_id: [0; 16], name: Some("payments") },
    ];
    vec![
        MetadataRequest { topics: Some(topics), ..Default::default() },
        MetadataRequest { topics: None, ..Default::default() },
        Default::default(),
    ]
}

pub fn metadata_response() -> Vec<MetadataResponse<'static>> {
    let partition = |i| MetadataPartition {
        error_code: 0,
        partition_index: i,
        leader_id: 1,
        leader_epoch: 4,
        replica_nodes: vec![1, 2, 3],
        isr_nodes: vec![1, 2],
        offline_replicas: vec![3],
    };
    let brokers = vec![
        MetadataBroker { node_id: 1, host: "broker-1", port: 9092, rack: Some("a") },
        MetadataBroker { node_id: 2, host: "broker-2", port: 9092, rack: None },
    ];
    let topics = vec![
        MetadataTopic { name: Some("orders"), partitions: vec![partition(0), partition(1)], ..Default::default() },
        MetadataTopic { error_code: 3, name: Some("missing"), ..Default::default() },
    ];
    let rich =
        MetadataResponse { brokers, cluster_id: Some("cluster"), controller_id: 1, topics, ..Default::default() };
    vec![rich, Default::default()]
}

pub fn init_producer_id_request() -> Vec<InitProducerIdRequest<'static>> {
    vec![
        Default::default(),
        InitProducerIdRequest {
            transactional_id: None,
            transaction_timeout_ms: 60_000,
            producer_id: 5,
            producer_epoch: 2,
        },
    ]
}

pub fn init_producer_id_response() -> Vec<InitProducerIdResponse> {
    vec![
        InitProducerIdResponse { throttle_time_ms: 0, error_code: 0, producer_id: 1000, producer_epoch: 3 },
        Default::default(),
    ]
}

pub fn list_offsets_request() -> Vec<ListOffsetsRequest<'static>> {
    let partitions = vec![
        ListOffsetsPartition { partition_index: 0, current_leader_epoch: -1, timestamp: LATEST_TIMESTAMP },
        ListOffsetsPartition { partition_index: 1, current_leader_epoch: 2, timestamp: EARLIEST_TIMESTAMP },
    ];
    vec![
        ListOffsetsRequest { topics: vec![ListOffsetsTopic { name: "orders", partitions }], ..Default::default() },
        Default::default(),
    ]
}

pub fn list_offsets_response() -> Vec<ListOffsetsResponse<'static>> {
    let partitions = vec![
        ListOffsetsPartitionResponse { partition_index: 0, offset: 42, ..Default::default() },
        ListOffsetsPartitionResponse { partition_index: 1, error_code: 6, ..Default::default() },
    ];
    vec![
        ListOffsetsResponse {
            topics: vec![ListOffsetsTopicResponse { name: "orders", partitions }],
            ..Default::default()
        },
        Default::default(),
    ]
}

/// A small valid RecordBatch for `records` fields.
fn batch() -> &'static [u8] {
    use idem_core::proto::record_batch::{ProducerStamp, RecordBatchBuilder};
    let mut b = RecordBatchBuilder::new(1);
    b.append(1, Some(b"k"), Some(b"v"), &[("h", None)]).unwrap();
    Box::leak(b.seal(ProducerStamp { producer_id: 1, producer_epoch: 0, base_sequence: 0 }).into_boxed_slice())
}

pub fn produce_request() -> Vec<ProduceRequest<'static>> {
    let partition_data = vec![
        PartitionProduceData { index: 0, records: Some(batch()) },
        PartitionProduceData { index: 1, records: None },
    ];
    let topic_data = vec![TopicProduceData { name: "orders", partition_data }];
    vec![ProduceRequest { transactional_id: None, acks: -1, timeout_ms: 30_000, topic_data }, Default::default()]
}

pub fn produce_response() -> Vec<ProduceResponse<'static>> {
    let partition_responses = vec![
        PartitionProduceResponse { index: 0, base_offset: 10, ..Default::default() },
        PartitionProduceResponse { index: 1, error_code: 45, ..Default::default() },
    ];
    let responses = vec![TopicProduceResponse { name: "orders", partition_responses }];
    vec![ProduceResponse { responses, throttle_time_ms: 0, node_endpoints: vec![] }, Default::default()]
}

pub fn fetch_request() -> Vec<FetchRequest<'static>> {
    let partitions =
        vec![FetchPartition { partition: 0, fetch_offset: 5, partition_max_bytes: 1 << 20, ..Default::default() }];
    let topics = vec![FetchTopic { topic: "orders", partitions }];
    vec![FetchRequest { max_wait_ms: 500, min_bytes: 1, topics, ..Default::default() }, Default::default()]
}

pub fn fetch_response() -> Vec<FetchResponse<'static>> {
    let partitions = vec![
        FetchPartitionData { partition_index: 0, high_watermark: 2, records: Some(batch()), ..Default::default() },
        FetchPartitionData { partition_index: 1, error_code: 1, ..Default::default() },
    ];
    let responses = vec![FetchableTopicResponse { topic: "orders", partitions }];
    vec![FetchResponse { responses, ..Default::default() }, Default::default()]
}

pub fn sasl_handshake_request() -> Vec<SaslHandshakeRequest<'static>> {
    vec![SaslHandshakeRequest { mechanism: "SCRAM-SHA-512" }, Default::default()]
}

pub fn sasl_handshake_response() -> Vec<SaslHandshakeResponse<'static>> {
    vec![
        SaslHandshakeResponse { error_code: 33, mechanisms: vec!["PLAIN", "SCRAM-SHA-256", "OAUTHBEARER"] },
        Default::default(),
    ]
}

pub fn sasl_authenticate_request() -> Vec<SaslAuthenticateRequest<'static>> {
    vec![SaslAuthenticateRequest { auth_bytes: b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL" }, Default::default()]
}

pub fn sasl_authenticate_response() -> Vec<SaslAuthenticateResponse<'static>> {
    vec![
        SaslAuthenticateResponse {
            error_code: 0,
            error_message: None,
            auth_bytes: b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
            session_lifetime_ms: 3_600_000,
        },
        SaslAuthenticateResponse { error_code: 58, error_message: Some("Authentication failed"), ..Default::default() },
    ]
}

/// A consumer protocol subscription (v1: topics ["orders"], no user data, no owned partitions).
const SUBSCRIPTION: &[u8] =
    &[0, 1, 0, 0, 0, 1, 0, 6, b'o', b'r', b'd', b'e', b'r', b's', 255, 255, 255, 255, 0, 0, 0, 0];

/// A consumer protocol assignment (v0: partitions 0 and 1 of "orders", no user data).
const ASSIGNMENT: &[u8] = &[
    0, 0, 0, 0, 0, 1, 0, 6, b'o', b'r', b'd', b'e', b'r', b's', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 255, 255, 255, 255,
];

pub fn find_coordinator_request() -> Vec<FindCoordinatorRequest<'static>> {
    vec![
        FindCoordinatorRequest { key: "orders-app", ..Default::default() },
        FindCoordinatorRequest { key: "txn-1", key_type: KEY_TYPE_TRANSACTION, ..Default::default() },
        FindCoordinatorRequest { coordinator_keys: vec!["orders-app", "billing"], ..Default::default() },
        Default::default(),
    ]
}

pub fn find_coordinator_response() -> Vec<FindCoordinatorResponse<'static>> {
    let coordinators = vec![
        Coordinator { key: "orders-app", node_id: 1, host: "broker-1", port: 9092, ..Default::default() },
        Coordinator { key: "txn-1", error_code: 14, error_message: Some("loading"), ..Default::default() },
    ];
    vec![
        FindCoordinatorResponse { node_id: 1, host: "broker-1", port: 9092, ..Default::default() },
        FindCoordinatorResponse { error_code: 15, error_message: Some("NOT_COORDINATOR"), ..Default::default() },
        FindCoordinatorResponse { throttle_time_ms: 2, coordinators, ..Default::default() },
        Default::default(),
    ]
}

pub fn join_group_request() -> Vec<JoinGroupRequest<'static>> {
    let protocols = vec![
        JoinGroupRequestProtocol { name: "range", metadata: SUBSCRIPTION },
        JoinGroupRequestProtocol { name: "cooperative-sticky", metadata: SUBSCRIPTION },
    ];
    vec![
        JoinGroupRequest {
            group_id: "orders-app",
            session_timeout_ms: 45_000,
            rebalance_timeout_ms: 300_000,
            member_id: "consumer-1-5f1c",
            group_instance_id: None,
            protocol_type: "consumer",
            protocols,
            reason: Some("need to re-join with the given member-id"),
        },
        JoinGroupRequest { group_instance_id: Some("instance-a"), ..Default::default() },
        Default::default(),
    ]
}

pub fn join_group_response() -> Vec<JoinGroupResponse<'static>> {
    let members = vec![
        JoinGroupResponseMember { member_id: "consumer-1-5f1c", group_instance_id: None, metadata: SUBSCRIPTION },
        JoinGroupResponseMember { member_id: "consumer-2-77aa", group_instance_id: Some("b"), metadata: SUBSCRIPTION },
    ];
    vec![
        JoinGroupResponse {
            generation_id: 4,
            protocol_type: Some("consumer"),
            protocol_name: Some("range"),
            leader: "consumer-1-5f1c",
            member_id: "consumer-1-5f1c",
            members,
            ..Default::default()
        },
        JoinGroupResponse {
            error_code: 79,
            protocol_name: Some(""),
            member_id: "consumer-3-0c1d",
            ..Default::default()
        },
        Default::default(),
    ]
}

pub fn sync_group_request() -> Vec<SyncGroupRequest<'static>> {
    let assignments = vec![
        SyncGroupRequestAssignment { member_id: "consumer-1-5f1c", assignment: ASSIGNMENT },
        SyncGroupRequestAssignment { member_id: "consumer-2-77aa", assignment: &[] },
    ];
    vec![
        SyncGroupRequest {
            group_id: "orders-app",
            generation_id: 4,
            member_id: "consumer-1-5f1c",
            protocol_type: Some("consumer"),
            protocol_name: Some("range"),
            assignments,
            ..Default::default()
        },
        SyncGroupRequest { group_instance_id: Some("instance-a"), ..Default::default() },
        Default::default(),
    ]
}

pub fn sync_group_response() -> Vec<SyncGroupResponse<'static>> {
    vec![
        SyncGroupResponse {
            protocol_type: Some("consumer"),
            protocol_name: Some("range"),
            assignment: ASSIGNMENT,
            ..Default::default()
        },
        SyncGroupResponse { error_code: 27, ..Default::default() },
    ]
}

pub fn heartbeat_request() -> Vec<HeartbeatRequest<'static>> {
    vec![
        HeartbeatRequest {
            group_id: "orders-app",
            generation_id: 4,
            member_id: "consumer-1-5f1c",
            ..Default::default()
        },
        HeartbeatRequest { group_instance_id: Some("instance-a"), ..Default::default() },
        Default::default(),
    ]
}

pub fn heartbeat_response() -> Vec<HeartbeatResponse> {
    vec![HeartbeatResponse { throttle_time_ms: 1, error_code: 27 }, Default::default()]
}

pub fn leave_group_request() -> Vec<LeaveGroupRequest<'static>> {
    let members = vec![
        MemberIdentity { member_id: "consumer-1-5f1c", group_instance_id: None, reason: Some("closing") },
        MemberIdentity { member_id: "", group_instance_id: Some("instance-b"), reason: None },
    ];
    vec![
        LeaveGroupRequest { group_id: "orders-app", member_id: "consumer-1-5f1c", ..Default::default() },
        LeaveGroupRequest { group_id: "orders-app", members, ..Default::default() },
        Default::default(),
    ]
}

pub fn leave_group_response() -> Vec<LeaveGroupResponse<'static>> {
    let members = vec![
        MemberResponse { member_id: "consumer-1-5f1c", group_instance_id: None, error_code: 0 },
        MemberResponse { member_id: "", group_instance_id: Some("instance-b"), error_code: 25 },
    ];
    vec![
        LeaveGroupResponse { members, ..Default::default() },
        LeaveGroupResponse { error_code: 25, ..Default::default() },
    ]
}

pub fn offset_commit_request() -> Vec<OffsetCommitRequest<'static>> {
    let partitions = vec![
        OffsetCommitRequestPartition {
            partition_index: 0,
            committed_offset: 42,
            committed_leader_epoch: 3,
            committed_metadata: Some(""),
        },
        OffsetCommitRequestPartition {
            partition_index: 1,
            committed_offset: 7,
            committed_metadata: None,
            ..Default::default()
        },
    ];
    let topics = vec![OffsetCommitRequestTopic { name: "orders", partitions }];
    let rich = OffsetCommitRequest {
        group_id: "billing",
        generation_id: 4,
        member_id: "rdkafka-1f2e",
        group_instance_id: None,
        retention_time_ms: 86_400_000,
        topics,
    };
    // A static member (v7+ only).
    let static_member = OffsetCommitRequest { group_instance_id: Some("host-a"), ..rich.clone() };
    vec![rich, static_member, Default::default()]
}

pub fn offset_commit_response() -> Vec<OffsetCommitResponse<'static>> {
    let partitions = vec![
        OffsetCommitResponsePartition { partition_index: 0, error_code: 0 },
        OffsetCommitResponsePartition { partition_index: 1, error_code: 22 },
    ];
    let topics = vec![OffsetCommitResponseTopic { name: "orders", partitions }];
    vec![OffsetCommitResponse { throttle_time_ms: 3, topics }, Default::default()]
}

pub fn offset_fetch_request() -> Vec<OffsetFetchRequest<'static>> {
    let topics = || {
        vec![
            OffsetFetchRequestTopic { name: "orders", partition_indexes: vec![0, 1, 2] },
            OffsetFetchRequestTopic { name: "payments", partition_indexes: vec![] },
        ]
    };
    let one = OffsetFetchRequest { group_id: "billing", topics: Some(topics()), ..Default::default() };
    // Every topic (v2+).
    let all = OffsetFetchRequest { group_id: "billing", topics: None, ..Default::default() };
    // Several groups (v8+).
    let groups = vec![
        OffsetFetchRequestGroup { group_id: "billing", topics: Some(topics()) },
        OffsetFetchRequestGroup { group_id: "audit", topics: None },
    ];
    let many = OffsetFetchRequest { groups, require_stable: true, ..Default::default() };
    vec![one, all, many, Default::default()]
}

pub fn offset_fetch_response() -> Vec<OffsetFetchResponse<'static>> {
    let topics = || {
        let partitions = vec![
            OffsetFetchResponsePartition { partition_index: 0, committed_offset: 42, ..Default::default() },
            OffsetFetchResponsePartition {
                partition_index: 1,
                committed_offset: -1,
                metadata: None,
                ..Default::default()
            },
        ];
        vec![OffsetFetchResponseTopic { name: "orders", partitions }]
    };
    let one = OffsetFetchResponse { throttle_time_ms: 2, topics: topics(), ..Default::default() };
    // Several groups (v8+).
    let groups = vec![
        OffsetFetchResponseGroup { group_id: "billing", topics: topics(), error_code: 0 },
        OffsetFetchResponseGroup { group_id: "audit", topics: vec![], error_code: 16 },
    ];
    let many = OffsetFetchResponse { groups, ..Default::default() };
    vec![one, many, Default::default()]
}

pub fn list_groups_request() -> Vec<ListGroupsRequest<'static>> {
    vec![ListGroupsRequest { states_filter: vec!["Stable", "Empty"] }, Default::default()]
}

pub fn list_groups_response() -> Vec<ListGroupsResponse<'static>> {
    let groups = vec![
        ListedGroup { group_id: "billing", protocol_type: "consumer", group_state: "Stable" },
        ListedGroup { group_id: "new", protocol_type: "", group_state: "Empty" },
    ];
    vec![ListGroupsResponse { throttle_time_ms: 1, error_code: 0, groups }, Default::default()]
}

pub fn describe_groups_request() -> Vec<DescribeGroupsRequest<'static>> {
    vec![
        DescribeGroupsRequest { groups: vec!["billing", "audit"], include_authorized_operations: true },
        Default::default(),
    ]
}

pub fn describe_groups_response() -> Vec<DescribeGroupsResponse<'static>> {
    let member = DescribedGroupMember {
        member_id: "rdkafka-1f2e",
        group_instance_id: None,
        client_id: "rdkafka",
        client_host: "/10.0.0.7",
        member_metadata: b"\x00\x03\x00\x00\x00\x01\x00\x06orders",
        member_assignment: b"\x00\x03\x00\x00\x00\x01\x00\x06orders\x00\x00\x00\x01\x00\x00\x00\x00",
    };
    let group = DescribedGroup {
        error_code: 0,
        group_id: "billing",
        group_state: "Stable",
        protocol_type: "consumer",
        protocol_data: "range",
        members: vec![member.clone(), DescribedGroupMember { member_id: "m-2", ..member.clone() }],
        ..Default::default()
    };
    let dead = DescribedGroup { error_code: 69, group_id: "gone", group_state: "Dead", ..Default::default() };
    let plain = DescribeGroupsResponse { throttle_time_ms: 4, groups: vec![group.clone(), dead] };
    // Authorized operations (v3+) and a static member (v4+).
    let static_member = DescribedGroupMember { group_instance_id: Some("host-a"), ..member };
    let rich = DescribeGroupsResponse {
        throttle_time_ms: 4,
        groups: vec![DescribedGroup { members: vec![static_member], authorized_operations: 0x0F, ..group }],
    };
    vec![plain, rich, Default::default()]
}

pub fn add_partitions_to_txn_request() -> Vec<AddPartitionsToTxnRequest<'static>> {
    let topics = vec![
        AddPartitionsToTxnTopic { name: "orders", partitions: vec![0, 1, 7] },
        AddPartitionsToTxnTopic { name: "audit", partitions: vec![] },
    ];
    let req =
        AddPartitionsToTxnRequest { transactional_id: "payments-txn", producer_id: 4711, producer_epoch: 2, topics };
    vec![req, Default::default()]
}

pub fn add_partitions_to_txn_response() -> Vec<AddPartitionsToTxnResponse<'static>> {
    let p = |i, e| AddPartitionsToTxnPartitionResult { partition_index: i, partition_error_code: e };
    let results_by_topic = vec![
        AddPartitionsToTxnTopicResult {
            name: "orders",
            results_by_partition: vec![p(0, 0), p(1, ErrorCode::CONCURRENT_TRANSACTIONS.0)],
        },
        AddPartitionsToTxnTopicResult { name: "audit", results_by_partition: vec![] },
    ];
    vec![AddPartitionsToTxnResponse { throttle_time_ms: 2, results_by_topic }, Default::default()]
}

pub fn add_offsets_to_txn_request() -> Vec<AddOffsetsToTxnRequest<'static>> {
    let req = AddOffsetsToTxnRequest {
        transactional_id: "payments-txn",
        producer_id: 4711,
        producer_epoch: 2,
        group_id: "billing",
    };
    vec![req, Default::default()]
}

pub fn add_offsets_to_txn_response() -> Vec<AddOffsetsToTxnResponse> {
    vec![AddOffsetsToTxnResponse { throttle_time_ms: 1, error_code: ErrorCode::PRODUCER_FENCED.0 }, Default::default()]
}

pub fn end_txn_request() -> Vec<EndTxnRequest<'static>> {
    let commit =
        EndTxnRequest { transactional_id: "payments-txn", producer_id: 4711, producer_epoch: 2, committed: true };
    vec![commit.clone(), EndTxnRequest { committed: false, ..commit }, Default::default()]
}

pub fn end_txn_response() -> Vec<EndTxnResponse> {
    vec![
        EndTxnResponse { throttle_time_ms: 1, error_code: 0, producer_id: 4711, producer_epoch: 3 },
        Default::default(),
    ]
}

pub fn txn_offset_commit_request() -> Vec<TxnOffsetCommitRequest<'static>> {
    let partitions = vec![
        TxnOffsetCommitRequestPartition {
            partition_index: 0,
            committed_offset: 42,
            committed_leader_epoch: 3,
            committed_metadata: Some("m"),
        },
        TxnOffsetCommitRequestPartition {
            partition_index: 1,
            committed_offset: 7,
            committed_metadata: None,
            ..Default::default()
        },
    ];
    let topics = vec![TxnOffsetCommitRequestTopic { name: "orders", partitions }];
    let plain = TxnOffsetCommitRequest {
        transactional_id: "payments-txn",
        group_id: "billing",
        producer_id: 4711,
        producer_epoch: 2,
        topics,
        ..Default::default()
    };
    // The consumer's group metadata (v3+).
    let member = TxnOffsetCommitRequest {
        generation_id: 5,
        member_id: "consumer-1",
        group_instance_id: Some("host-a"),
        ..plain.clone()
    };
    vec![plain, member, Default::default()]
}

pub fn txn_offset_commit_response() -> Vec<TxnOffsetCommitResponse<'static>> {
    let partitions = vec![
        TxnOffsetCommitResponsePartition { partition_index: 0, error_code: 0 },
        TxnOffsetCommitResponsePartition { partition_index: 1, error_code: ErrorCode::UNKNOWN_MEMBER_ID.0 },
    ];
    let topics = vec![TxnOffsetCommitResponseTopic { name: "orders", partitions }];
    vec![TxnOffsetCommitResponse { throttle_time_ms: 2, topics }, Default::default()]
}
