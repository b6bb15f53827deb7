//! EndTxn v0-5 against `kafka-protocol` as an oracle, both message directions.

mod kafka_protocol_oracle;

use idem_core::proto::ErrorCode;
use idem_core::proto::end_txn::{EndTxnRequest, EndTxnResponse};
use kafka_protocol::messages::{self as kp, ProducerId, TransactionalId};
use kafka_protocol_oracle::{Oracle, check_request_frame, check_response_frame, sb, tags, text};
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 0..=5;

impl Oracle for kp::EndTxnRequest {
    type Idem<'a> = EndTxnRequest<'a>;

    fn to_idem(&self) -> EndTxnRequest<'_> {
        EndTxnRequest {
            transactional_id: self.transactional_id.as_str(),
            producer_id: self.producer_id.0,
            producer_epoch: self.producer_epoch,
            committed: self.committed,
        }
    }

    fn assert_same(i: &EndTxnRequest<'_>, k: &Self) {
        assert_eq!(i.transactional_id, k.transactional_id.as_str());
        assert_eq!(i.producer_id, k.producer_id.0);
        assert_eq!(i.producer_epoch, k.producer_epoch);
        assert_eq!(i.committed, k.committed);
    }
}

impl Oracle for kp::EndTxnResponse {
    type Idem<'a> = EndTxnResponse;

    fn to_idem(&self) -> EndTxnResponse {
        EndTxnResponse {
            throttle_time_ms: self.throttle_time_ms,
            error_code: self.error_code,
            producer_id: self.producer_id.0,
            producer_epoch: self.producer_epoch,
        }
    }

    fn assert_same(i: &EndTxnResponse, k: &Self) {
        assert_eq!(i.throttle_time_ms, k.throttle_time_ms);
        assert_eq!(i.error_code, k.error_code);
        assert_eq!(i.producer_id, k.producer_id.0);
        assert_eq!(i.producer_epoch, k.producer_epoch);
    }
}

fn request(v: i16) -> BoxedStrategy<kp::EndTxnRequest> {
    (text(), any::<i64>(), any::<i16>(), any::<bool>(), tags(v >= 3))
        .prop_map(|(tid, pid, epoch, committed, tags)| {
            let mut k = kp::EndTxnRequest::default();
            k.transactional_id = TransactionalId(sb(&tid));
            k.producer_id = ProducerId(pid);
            k.producer_epoch = epoch;
            k.committed = committed;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

fn response(v: i16) -> BoxedStrategy<kp::EndTxnResponse> {
    (any::<i32>(), any::<i16>(), any::<i64>(), any::<i16>(), tags(v >= 3))
        .prop_map(move |(throttle, error, pid, epoch, tags)| {
            let mut k = kp::EndTxnResponse::default();
            k.throttle_time_ms = throttle;
            k.error_code = error;
            // The next producer id and epoch exist from v5 (KIP-890); below they stay -1.
            if v >= 5 {
                k.producer_id = ProducerId(pid);
                k.producer_epoch = epoch;
            }
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

oracle_tests!(VERSIONS, request, response);

#[test]
fn frames() {
    let mut req = kp::EndTxnRequest::default();
    req.transactional_id = TransactionalId(sb("payments-txn"));
    req.producer_id = ProducerId(4711);
    req.producer_epoch = 2;
    req.committed = true;
    for v in [0, 2, 3, 5] {
        check_request_frame::<kp::EndTxnRequest>(&req.to_idem(), v, 0x1234_5678);
    }
    let mut resp = kp::EndTxnResponse::default();
    resp.error_code = ErrorCode::INVALID_TXN_STATE.0;
    for v in [0, 2, 3, 4] {
        check_response_frame(&resp, v, -77);
    }
    resp.producer_id = ProducerId(4711);
    resp.producer_epoch = 3;
    check_response_frame(&resp, 5, -77);
}
