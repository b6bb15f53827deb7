//! Hostile brokers: random bytes and mutated responses, in arbitrary chunks, never make the
//! producer panic or lose a record; every accepted record still gets exactly one report.
#![allow(clippy::unwrap_used)]

mod scripted_broker;

use idem_core::Duration;
use idem_core::producer::Input;
use idem_core::proto;
use idem_core::proto::produce::{PartitionProduceResponse, ProduceResponse, TopicProduceResponse};
use proptest::prelude::*;
use scripted_broker::{ScriptedBroker, config, one_in_flight};

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

    #[test]
    fn random_bytes(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..8)) {
        let mut b = ScriptedBroker::new(config(), 1);
        let req = one_in_flight(&mut b, 0);
        for c in &chunks {
            let now = b.now;
            b.input(Input::Received { now, conn: req.conn, bytes: c });
        }
        b.advance(Duration::from_secs(2));
        b.settle();
        b.p.abort(b.now);
        b.drain();
        b.assert_one_report_each(1);
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
