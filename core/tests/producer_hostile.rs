//! Hostile brokers: random bytes and mutated responses, in arbitrary chunks, never make the
//! producer panic or lose a record; every accepted record still gets exactly one report.
#![allow(clippy::unwrap_used)]

mod scripted_broker;

use idem_core::Duration;
use idem_core::producer::Input;
use idem_core::producer::ProducerConfig;
use idem_core::proto;
use idem_core::proto::ApiKey;
use idem_core::proto::produce::{PartitionProduceResponse, ProduceResponse, TopicProduceResponse};
use proptest::prelude::*;
use scripted_broker::{Req, ScriptedBroker, config, one_in_flight};

/// Feeds `chunks` on `conn`, lets 2 s pass with the broker answering, aborts: the one record
/// accepted has exactly one report.
fn feed_then_finish<'a>(
    b: &mut ScriptedBroker,
    conn: idem_core::producer::ConnId,
    chunks: impl IntoIterator<Item = &'a Vec<u8>>,
) {
    for c in chunks {
        let now = b.now;
        b.input(Input::Received { now, conn, bytes: c });
    }
    b.advance(Duration::from_secs(2));
    b.settle();
    b.p.abort(b.now);
    b.drain();
    b.assert_one_report_each(1);
}

/// A producer configured for SASL PLAIN with one record accepted, connected, ApiVersions
/// answered: the SaslHandshake request is waiting.
fn at_handshake() -> (ScriptedBroker, Req) {
    let mut c: ProducerConfig = config();
    for (k, v) in [
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", "PLAIN"),
        ("sasl.username", "u"),
        ("sasl.password", "p"),
    ] {
        c.set(k, v).unwrap();
    }
    let mut b = ScriptedBroker::new(c, 1);
    b.send(Some(0), b"v").unwrap();
    let conn = b.pending_connects.pop().unwrap();
    b.live.push(conn);
    let now = b.now;
    b.input(Input::Connected { now, conn });
    let api_versions = b.reqs.pop_front().unwrap();
    b.control(&api_versions);
    let handshake = b.reqs.pop_front().unwrap();
    assert_eq!(handshake.api, ApiKey::SaslHandshake.as_i16());
    (b, handshake)
}

fn valid_response(corr: i32, version: i16) -> Vec<u8> {
    let r = ProduceResponse {
        responses: vec![TopicProduceResponse {
            name: "t",
            partition_responses: vec![PartitionProduceResponse { index: 0, base_offset: 3, ..Default::default() }],
        }],
        ..Default::default()
    };
    let mut out = Vec::new();
    proto::encode_response_frame(&mut out, corr, version, &r).unwrap();
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Hostile bytes answering the SASL handshake (random, or a valid SaslHandshake or
    /// SaslAuthenticate answer mutated): never a panic, and the record still gets one report.
    #[test]
    fn hostile_sasl_answers(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..6),
                            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
                            authenticate in any::<bool>()) {
        let (mut b, handshake) = at_handshake();
        let req = if authenticate {
            b.control(&handshake);
            b.reqs.pop_front().unwrap()
        } else {
            handshake
        };
        let mut bytes = Vec::new();
        if authenticate {
            let r = idem_core::proto::sasl_authenticate::SaslAuthenticateResponse { session_lifetime_ms: 5, ..Default::default() };
            proto::encode_response_frame(&mut bytes, req.corr, req.version, &r).unwrap();
        } else {
            let r = idem_core::proto::sasl_handshake::SaslHandshakeResponse { error_code: 0, mechanisms: vec!["PLAIN"] };
            proto::encode_response_frame(&mut bytes, req.corr, req.version, &r).unwrap();
        }
        for (i, v) in &flips {
            let i = i.index(bytes.len());
            bytes[i] ^= v | 1;
        }
        feed_then_finish(&mut b, req.conn, std::iter::once(&bytes).chain(&chunks));
    }

    #[test]
    fn random_bytes(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..8)) {
        let mut b = ScriptedBroker::new(config(), 1);
        let req = one_in_flight(&mut b, 0);
        feed_then_finish(&mut b, req.conn, &chunks);
    }

    #[test]
    fn mutated_response(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
                        cut in any::<prop::sample::Index>()) {
        let mut b = ScriptedBroker::new(config(), 1);
        let req = one_in_flight(&mut b, 0);
        let mut bytes = valid_response(req.corr, req.version);
        for (i, v) in &flips {
            let i = i.index(bytes.len());
            bytes[i] ^= v | 1;
        }
        let cut = cut.index(bytes.len() + 1);
        let now = b.now;
        b.input(Input::Received { now, conn: req.conn, bytes: &bytes[..cut] });
        b.input(Input::Received { now, conn: req.conn, bytes: &bytes[cut..] });
        b.advance(Duration::from_secs(2));
        b.settle();
        b.p.abort(b.now);
        b.drain();
        b.assert_one_report_each(1);
    }
}
