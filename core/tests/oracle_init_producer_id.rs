//! InitProducerId v0-4 against `kafka-protocol` as an oracle, both message directions.

mod common_a;

use common_a::{Oracle, check_request_frame, check_response_frame, sb, string, tags};
use idem_core::proto::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use kafka_protocol::messages::{self as kp, ProducerId, TransactionalId};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const VERSIONS: std::ops::RangeInclusive<i16> = 0..=4;

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

    fn same(i: &InitProducerIdRequest<'_>, k: &Self) -> Result<(), TestCaseError> {
        prop_assert_eq!(i.transactional_id, k.transactional_id.as_ref().map(|t| t.as_str()));
        prop_assert_eq!(i.transaction_timeout_ms, k.transaction_timeout_ms);
        prop_assert_eq!(i.producer_id, k.producer_id.0);
        prop_assert_eq!(i.producer_epoch, k.producer_epoch);
        Ok(())
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

    fn same(i: &InitProducerIdResponse, k: &Self) -> Result<(), TestCaseError> {
        prop_assert_eq!(i.throttle_time_ms, k.throttle_time_ms);
        prop_assert_eq!(i.error_code, k.error_code);
        prop_assert_eq!(i.producer_id, k.producer_id.0);
        prop_assert_eq!(i.producer_epoch, k.producer_epoch);
        Ok(())
    }
}

fn request(v: i16) -> BoxedStrategy<kp::InitProducerIdRequest> {
    (proptest::option::of(string()), any::<i32>(), any::<i64>(), any::<i16>(), tags(v >= 2))
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
    check_request_frame(&req, 4);
    req.producer_id = ProducerId(-1);
    req.producer_epoch = -1;
    check_request_frame(&req, 1);
    let mut resp = kp::InitProducerIdResponse::default();
    resp.producer_id = ProducerId(1000);
    resp.producer_epoch = 2;
    check_response_frame(&resp, 4);
    check_response_frame(&resp, 0);
}
