//! SaslHandshake v0-1 against `kafka-protocol` as an oracle, both message directions.

mod kafka_protocol_oracle;

use idem_core::proto::sasl_handshake::{SaslHandshakeRequest, SaslHandshakeResponse};
use kafka_protocol::messages as kp;
use kafka_protocol_oracle::{Oracle, check_request_frame, check_response_frame, s, sb, text};
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 0..=1;

impl Oracle for kp::SaslHandshakeRequest {
    type Idem<'a> = SaslHandshakeRequest<'a>;

    fn to_idem(&self) -> SaslHandshakeRequest<'_> {
        SaslHandshakeRequest { mechanism: s(&self.mechanism) }
    }

    fn assert_same(i: &SaslHandshakeRequest<'_>, k: &Self) {
        assert_eq!(i.mechanism, s(&k.mechanism));
    }
}

impl Oracle for kp::SaslHandshakeResponse {
    type Idem<'a> = SaslHandshakeResponse<'a>;

    fn to_idem(&self) -> SaslHandshakeResponse<'_> {
        SaslHandshakeResponse { error_code: self.error_code, mechanisms: self.mechanisms.iter().map(s).collect() }
    }

    fn assert_same(i: &SaslHandshakeResponse<'_>, k: &Self) {
        assert_eq!(i.error_code, k.error_code);
        assert_eq!(i.mechanisms, k.mechanisms.iter().map(s).collect::<Vec<_>>());
    }
}

fn request(_v: i16) -> BoxedStrategy<kp::SaslHandshakeRequest> {
    text()
        .prop_map(|m| {
            let mut k = kp::SaslHandshakeRequest::default();
            k.mechanism = sb(&m);
            k
        })
        .boxed()
}

fn response(_v: i16) -> BoxedStrategy<kp::SaslHandshakeResponse> {
    (any::<i16>(), proptest::collection::vec(text(), 0..5))
        .prop_map(|(error, mechanisms)| {
            let mut k = kp::SaslHandshakeResponse::default();
            k.error_code = error;
            k.mechanisms = mechanisms.iter().map(|m| sb(m)).collect();
            k
        })
        .boxed()
}

oracle_tests!(VERSIONS, request, response);

#[test]
fn frames() {
    let mut req = kp::SaslHandshakeRequest::default();
    req.mechanism = sb("SCRAM-SHA-512");
    check_request_frame::<kp::SaslHandshakeRequest>(&req.to_idem(), 1, 0x1234_5678);
    check_request_frame::<kp::SaslHandshakeRequest>(&req.to_idem(), 0, 7);
    let mut resp = kp::SaslHandshakeResponse::default();
    resp.error_code = 33;
    resp.mechanisms = vec![sb("PLAIN"), sb("OAUTHBEARER")];
    check_response_frame(&resp, 1, -77);
    check_response_frame(&resp, 0, -77);
}
