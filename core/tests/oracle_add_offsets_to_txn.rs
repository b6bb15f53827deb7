//! AddOffsetsToTxn v0-4 against `kafka-protocol` as an oracle, both message directions.

mod kafka_protocol_oracle;

use idem_core::proto::ErrorCode;
use idem_core::proto::add_offsets_to_txn::{AddOffsetsToTxnRequest, AddOffsetsToTxnResponse};
use kafka_protocol::messages::{self as kp, GroupId, ProducerId, TransactionalId};
use kafka_protocol_oracle::{Oracle, check_request_frame, check_response_frame, sb, tags, text};
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 0..=4;

impl Oracle for kp::AddOffsetsToTxnRequest {
    type Idem<'a> = AddOffsetsToTxnRequest<'a>;

    fn to_idem(&self) -> AddOffsetsToTxnRequest<'_> {
        AddOffsetsToTxnRequest {
            transactional_id: self.transactional_id.as_str(),
            producer_id: self.producer_id.0,
            producer_epoch: self.producer_epoch,
            group_id: self.group_id.as_str(),
        }
    }

    fn assert_same(i: &AddOffsetsToTxnRequest<'_>, k: &Self) {
        assert_eq!(i.transactional_id, k.transactional_id.as_str());
        assert_eq!(i.producer_id, k.producer_id.0);
        assert_eq!(i.producer_epoch, k.producer_epoch);
        assert_eq!(i.group_id, k.group_id.as_str());
    }
}

impl Oracle for kp::AddOffsetsToTxnResponse {
    type Idem<'a> = AddOffsetsToTxnResponse;

    fn to_idem(&self) -> AddOffsetsToTxnResponse {
        AddOffsetsToTxnResponse { throttle_time_ms: self.throttle_time_ms, error_code: self.error_code }
    }

    fn assert_same(i: &AddOffsetsToTxnResponse, k: &Self) {
        assert_eq!(i.throttle_time_ms, k.throttle_time_ms);
        assert_eq!(i.error_code, k.error_code);
    }
}

fn request(v: i16) -> BoxedStrategy<kp::AddOffsetsToTxnRequest> {
    (text(), any::<i64>(), any::<i16>(), text(), tags(v >= 3))
        .prop_map(|(tid, pid, epoch, group, tags)| {
            let mut k = kp::AddOffsetsToTxnRequest::default();
            k.transactional_id = TransactionalId(sb(&tid));
            k.producer_id = ProducerId(pid);
            k.producer_epoch = epoch;
            k.group_id = GroupId(sb(&group));
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

fn response(v: i16) -> BoxedStrategy<kp::AddOffsetsToTxnResponse> {
    (any::<i32>(), any::<i16>(), tags(v >= 3))
        .prop_map(|(throttle, error, tags)| {
            let mut k = kp::AddOffsetsToTxnResponse::default();
            k.throttle_time_ms = throttle;
            k.error_code = error;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

oracle_tests!(VERSIONS, request, response);

#[test]
fn frames() {
    let mut req = kp::AddOffsetsToTxnRequest::default();
    req.transactional_id = TransactionalId(sb("payments-txn"));
    req.producer_id = ProducerId(4711);
    req.producer_epoch = 2;
    req.group_id = GroupId(sb("billing"));
    for v in [0, 2, 3, 4] {
        check_request_frame::<kp::AddOffsetsToTxnRequest>(&req.to_idem(), v, 0x1234_5678);
    }
    let mut resp = kp::AddOffsetsToTxnResponse::default();
    resp.error_code = ErrorCode::PRODUCER_FENCED.0;
    for v in [0, 2, 3, 4] {
        check_response_frame(&resp, v, -77);
    }
}
