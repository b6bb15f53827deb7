//! SaslAuthenticate v0-2 (flexible from v2) against `kafka-protocol` as an oracle, both
//! message directions.

mod kafka_protocol_oracle;

use bytes::Bytes;
use idem_core::proto::sasl_authenticate::{SaslAuthenticateRequest, SaslAuthenticateResponse};
use kafka_protocol::messages as kp;
use kafka_protocol_oracle::{Oracle, check_request_frame, check_response_frame, i64_since, nullable_string, os, tags};
use proptest::prelude::*;

const VERSIONS: std::ops::RangeInclusive<i16> = 0..=2;

impl Oracle for kp::SaslAuthenticateRequest {
    type Idem<'a> = SaslAuthenticateRequest<'a>;

    fn to_idem(&self) -> SaslAuthenticateRequest<'_> {
        SaslAuthenticateRequest { auth_bytes: &self.auth_bytes }
    }

    fn assert_same(i: &SaslAuthenticateRequest<'_>, k: &Self) {
        assert_eq!(i.auth_bytes, &k.auth_bytes[..]);
    }
}

impl Oracle for kp::SaslAuthenticateResponse {
    type Idem<'a> = SaslAuthenticateResponse<'a>;

    fn to_idem(&self) -> SaslAuthenticateResponse<'_> {
        SaslAuthenticateResponse {
            error_code: self.error_code,
            error_message: os(&self.error_message),
            auth_bytes: &self.auth_bytes,
            session_lifetime_ms: self.session_lifetime_ms,
        }
    }

    fn assert_same(i: &SaslAuthenticateResponse<'_>, k: &Self) {
        assert_eq!(i.error_code, k.error_code);
        assert_eq!(i.error_message, os(&k.error_message));
        assert_eq!(i.auth_bytes, &k.auth_bytes[..]);
        assert_eq!(i.session_lifetime_ms, k.session_lifetime_ms);
    }
}

fn auth_bytes() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..64).prop_map(Bytes::from)
}

fn request(v: i16) -> BoxedStrategy<kp::SaslAuthenticateRequest> {
    (auth_bytes(), tags(v >= 2))
        .prop_map(|(bytes, tags)| {
            let mut k = kp::SaslAuthenticateRequest::default();
            k.auth_bytes = bytes;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

fn response(v: i16) -> BoxedStrategy<kp::SaslAuthenticateResponse> {
    (any::<i16>(), nullable_string(), auth_bytes(), i64_since(v, 1, 0), tags(v >= 2))
        .prop_map(|(error, message, bytes, lifetime, tags)| {
            let mut k = kp::SaslAuthenticateResponse::default();
            k.error_code = error;
            k.error_message = message;
            k.auth_bytes = bytes;
            k.session_lifetime_ms = lifetime;
            k.unknown_tagged_fields = tags;
            k
        })
        .boxed()
}

oracle_tests!(VERSIONS, request, response);

#[test]
fn frames() {
    let mut req = kp::SaslAuthenticateRequest::default();
    req.auth_bytes = Bytes::from_static(b"n,,n=user,r=nonce");
    for v in VERSIONS {
        check_request_frame::<kp::SaslAuthenticateRequest>(&req.to_idem(), v, 0x1234_5678);
    }
    let mut resp = kp::SaslAuthenticateResponse::default();
    resp.auth_bytes = Bytes::from_static(b"v=signature");
    resp.session_lifetime_ms = 3_600_000;
    check_response_frame(&resp, 2, -77);
    check_response_frame(&resp, 1, -77);
    resp.session_lifetime_ms = 0;
    check_response_frame(&resp, 0, -77);
}
