//! Sample values per message for the hostile-input test: rich (non-empty arrays, strings,
//! nulls) and default.

use idem_core::proto::ApiKey;
use idem_core::proto::api_versions::*;
use idem_core::proto::fetch::*;
use idem_core::proto::init_producer_id::*;
use idem_core::proto::list_offsets::*;
use idem_core::proto::metadata::*;
use idem_core::proto::produce::*;
use idem_core::proto::sasl_authenticate::*;
use idem_core::proto::sasl_handshake::*;

pub fn api_versions_request() -> Vec<ApiVersionsRequest<'static>> {
    vec![ApiVersionsRequest { client_software_name: "idem-fuzz", client_software_version: "1.0.0" }, Default::default()]
}

pub fn api_versions_response() -> Vec<ApiVersionsResponse> {
    let keys = ApiKey::ALL
        .iter()
        .map(|k| ApiVersion { api_key: k.as_i16(), min_version: k.supported().min, max_version: k.supported().max })
        .collect();
    vec![ApiVersionsResponse { error_code: 0, api_keys: keys, throttle_time_ms: 3 }, Default::default()]
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
