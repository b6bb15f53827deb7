//! InitProducerId v0-5 against `kafka-protocol` as an oracle, both message directions.

mod kafka_protocol_oracle;

use idem_core::proto::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use kafka_protocol::messages::{self as kp, ProducerId, TransactionalId};
use kafka_protocol_oracle::{Oracle, check_request_frame, check_response_frame, sb, tags, text};
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 0..=5;

impl Oracle for kp::InitProducerIdRequest {
    type Idem<'a> = InitProducerIdRequest<'a>;

    fn to_idem(&self) -> InitProducerIdRequest<'_> {
        InitProducerIdRequest {
            transactional_id: self.transactional_id.as_ref().map(|t| t.as_str()),
            transaction_timeout_ms: self.transaction_timeout_ms,
            producer_id: self.producer_id.0,
            producer_epoch: self.producer_epoch,
        }
    }

    fn assert_same(i: &InitProducerIdRequest<'_>, k: &Self) {
        assert_eq!(i.transactional_id, k.transactional_id.as_ref().map(|t| t.as_str()));
        assert_eq!(i.transaction_timeout_ms, k.transaction_timeout_ms);
        assert_eq!(i.producer_id, k.producer_id.0);
        assert_eq!(i.producer_epoch, k.producer_epoch);
    }
}

impl Oracle for kp::InitProducerIdResponse {
    type Idem<'a> = InitProducerIdResponse;

    fn to_idem(&self) -> InitProducerIdResponse {
        InitProducerIdResponse {
            throttle_time_ms: self.throttle_time_ms,
            error_code: self.error_code,
            producer_id: self.producer_id.0,
            producer_epoch: self.producer_epoch,
        }
    }

    fn assert_same(i: &InitProducerIdResponse, k: &Self) {
        assert_eq!(i.throttle_time_ms, k.throttle_time_ms);
        assert_eq!(i.error_code, k.error_code);
        assert_eq!(i.producer_id, k.producer_id.0);
        assert_eq!(i.producer_epoch, k.producer_epoch);
    }
}

fn request(v: i16) -> BoxedStrategy<kp::InitProducerIdRequest> {
    (proptest::option::of(text()), any::<i32>(), any::<i64>(), any::<i16>(), tags(v >= 2))
        .prop_map(move |(tid, timeout, pid, epoch, tags)| {
            let mut k = kp::InitProducerIdRequest::default();
            k.transactional_id = tid.map(|s| TransactionalId(sb(&s)));
            k.transaction_timeout_ms = timeout;
            if v >= 3 {
                k.producer_id = ProducerId(pid);
                k.producer_epoch = epoch;
            }
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

fn response(v: i16) -> BoxedStrategy<kp::InitProducerIdResponse> {
    (any::<i32>(), any::<i16>(), any::<i64>(), any::<i16>(), tags(v >= 2))
        .prop_map(|(throttle, error, pid, epoch, tags)| {
            let mut k = kp::InitProducerIdResponse::default();
            k.throttle_time_ms = throttle;
            k.error_code = error;
            k.producer_id = ProducerId(pid);
            k.producer_epoch = epoch;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

oracle_tests!(VERSIONS, request, response);

#[test]
fn frames() {
    let mut req = kp::InitProducerIdRequest::default();
    req.transactional_id = None;
    req.transaction_timeout_ms = 30_000;
    req.producer_id = ProducerId(42);
    req.producer_epoch = 1;
    check_request_frame::<kp::InitProducerIdRequest>(&req.to_idem(), 4, 0x1234_5678);
    req.producer_id = ProducerId(-1);
    req.producer_epoch = -1;
    check_request_frame::<kp::InitProducerIdRequest>(&req.to_idem(), 1, 0x1234_5678);
    let mut resp = kp::InitProducerIdResponse::default();
    resp.producer_id = ProducerId(1000);
    resp.producer_epoch = 2;
    check_response_frame(&resp, 4, -77);
    check_response_frame(&resp, 0, -77);
}
