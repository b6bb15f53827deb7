//! SASL failures between idem's producer and idem's in-memory cluster (joined by a
//! [`DirectLink`] in a [`Pair`]): each ends in a typed error, with no retry storm and no hang,
//! and no credential in any diagnostic, error or `Debug` output.
#![allow(clippy::unwrap_used)]

use idem_core::broker::{BrokerAddress, ClusterConfig, SaslServerConfig, SaslUser, TopicConfig};
use idem_core::producer::{AuthenticationFailure, FatalError, NonceSource, Producer, ProducerConfig};
use idem_core::proto::ErrorCode;
use idem_core::sasl::{Mechanism, SaslError};
use idem_core::{Duration, Instant};
use idem_tests::adapters::{IdemCluster, IdemProducer, SimOpaque};
use idem_tests::checker::{FailReason, Outcome};
use idem_tests::pair::{DirectLink, Pair, scripted_run};

const PASSWORD: &str = "pa55-w0rd-secret";
const TOKEN: &str = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzZWNyZXQtdG9rZW4ifQ.";

fn cluster(mechanisms: &[Mechanism]) -> ClusterConfig {
    ClusterConfig {
        brokers: vec![BrokerAddress { node_id: 1, host: "b1".into(), port: 9092 }],
        topics: vec![TopicConfig { name: "t".into(), partitions: 2 }],
        sasl: Some(SaslServerConfig {
            mechanisms: mechanisms.to_vec(),
            users: vec![SaslUser::new("alice", PASSWORD)],
            session_lifetime: None,
        }),
        ..ClusterConfig::default()
    }
}

fn producer(settings: &[(&str, &str)]) -> Producer<SimOpaque> {
    let mut pc = ProducerConfig::new("b1:9092")
        .unwrap()
        .linger(Duration::from_millis(1))
        .request_timeout(Duration::from_secs(1))
        .delivery_timeout(Duration::from_secs(3));
    pc.set("debug", "all").unwrap();
    for (k, v) in settings {
        pc.set(k, v).unwrap();
    }
    let mut p = Producer::with_opaque(pc, Instant::ZERO).unwrap();
    let mut n = 0u8;
    p.set_nonce_source(NonceSource::new(move || {
        n = n.wrapping_add(1);
        Some([n; 32])
    }));
    p
}

/// Sends 10 records and drives for 10 s of virtual time; returns the pair.
fn run(p: Producer<SimOpaque>, cc: ClusterConfig) -> Pair<IdemProducer, IdemCluster, DirectLink> {
    let cluster = IdemCluster::with_config(cc, "t");
    scripted_run(IdemProducer::new(p), cluster, DirectLink::new(), "t", 10, Instant::ZERO + Duration::from_secs(10))
}

fn sasl(mechanism: &str, password: &str) -> Vec<(&'static str, String)> {
    vec![
        ("security.protocol", "SASL_PLAINTEXT".into()),
        ("sasl.mechanism", mechanism.into()),
        ("sasl.username", "alice".into()),
        ("sasl.password", password.into()),
        ("sasl.oauthbearer.token", TOKEN.into()),
    ]
}

fn settings<'a>(s: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    s.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Every record failed NotPersisted because of the fatal error; the one error; no credential
/// in what the producer said.
fn assert_failed_fatally(pair: &Pair<IdemProducer, IdemCluster, DirectLink>) -> FatalError {
    assert_eq!(pair.run.reports.len(), 10);
    assert!(pair.run.reports.iter().all(|r| r.outcome == Outcome::NotPersisted(FailReason::Fatal)));
    let e = pair.producer.0.fatal_error().expect("a fatal error");
    assert!(pair.producer.0.is_finished());
    let said: String =
        pair.diagnostics.iter().map(|(_, l)| l.as_str()).chain(pair.errors.iter().map(String::as_str)).collect();
    let said = format!("{said} {e} {e:?} {:?}", pair.producer.0.config());
    assert!(!said.contains(PASSWORD) && !said.contains("wrong-password") && !said.contains(TOKEN), "{said}");
    e
}

#[test]
fn wrong_password_is_fatal_after_one_connection_for_every_mechanism() {
    for m in [Mechanism::Plain, Mechanism::ScramSha256, Mechanism::ScramSha512] {
        let s = sasl(m.name(), "wrong-password");
        let pair = run(producer(&settings(&s)), cluster(&Mechanism::ALL));
        let e = assert_failed_fatally(&pair);
        let failure = AuthenticationFailure::Refused(ErrorCode::SASL_AUTHENTICATION_FAILED);
        assert_eq!(e, FatalError::Authentication { mechanism: m, node: -1, failure }, "{m}");
        assert!(e.to_string().contains("SASL authentication failed"), "{e}");
        // No retry storm: one connection, one failed authentication.
        assert_eq!(pair.producer.0.metrics().connections_created, 1, "{m}");
        assert_eq!(pair.cluster.cluster.stats().sasl_failures, 1, "{m}");
        // The broker's message reached the diagnostics.
        assert!(pair.diagnostics.iter().any(|(_, l)| l.contains("invalid credentials")), "{m}: {:?}", pair.diagnostics);
    }
}

#[test]
fn unknown_mechanism_names_the_enabled_ones() {
    let s = sasl("OAUTHBEARER", PASSWORD);
    let pair = run(producer(&settings(&s)), cluster(&[Mechanism::ScramSha256, Mechanism::Plain]));
    let e = assert_failed_fatally(&pair);
    let FatalError::Authentication { failure: AuthenticationFailure::UnsupportedMechanism { enabled }, .. } = e else {
        panic!("{e:?}")
    };
    assert!(enabled.contains(Mechanism::Plain) && enabled.contains(Mechanism::ScramSha256));
    assert!(!enabled.contains(Mechanism::OAuthBearer));
    let text = e.to_string();
    assert!(text.contains("PLAIN, SCRAM-SHA-256") && text.contains("UNSUPPORTED_SASL_MECHANISM"), "{text}");
    assert_eq!(pair.producer.0.metrics().connections_created, 1);
}

#[test]
fn a_producer_without_sasl_is_cut_off_and_times_out() {
    // Connections closed by the broker at the first request other than ApiVersions: the producer
    // reconnects with backoff and gives every record up at delivery.timeout.ms (typed), no hang.
    let pair = run(producer(&[]), cluster(&[Mechanism::Plain]));
    assert_eq!(pair.run.reports.len(), 10);
    assert!(pair.run.reports.iter().all(|r| r.outcome == Outcome::NotPersisted(FailReason::Timeout)));
    let refused = pair.cluster.cluster.stats().sasl_refused;
    let connects = pair.producer.0.metrics().connections_created;
    assert!(refused >= 1 && refused == connects, "refused {refused}, connections {connects}");
    // The broker answers ApiVersions, so each connection counts as established and the
    // reconnect backoff restarts at reconnect.backoff.ms (50 ms), as the Java client's
    // `ClusterConnectionStates.ready` resets it: at most one attempt per 50 ms while records
    // wait (3 s), none once everything is reported (the run goes on to 10 s).
    assert!(connects <= 3000 / 50 + 1, "{connects} connections");
}

#[test]
fn scram_without_a_nonce_source_is_a_typed_error() {
    let s = sasl("SCRAM-SHA-256", PASSWORD);
    let mut pc = ProducerConfig::new("b1:9092").unwrap();
    for (k, v) in settings(&s) {
        pc.set(k, v).unwrap();
    }
    let p = Producer::with_opaque(pc, Instant::ZERO).unwrap();
    let pair = run(p, cluster(&Mechanism::ALL));
    let e = pair.producer.0.fatal_error().unwrap();
    assert!(matches!(e, FatalError::Authentication { failure: AuthenticationFailure::NoNonceSource, .. }), "{e:?}");
    let _ = SaslError::Unavailable; // (the no-`sasl`-feature error has its own unit test)
}

#[test]
fn every_mechanism_authenticates_and_delivers() {
    for m in Mechanism::ALL {
        let s = sasl(m.name(), PASSWORD);
        let pair = run(producer(&settings(&s)), cluster(&Mechanism::ALL));
        assert!(pair.errors.is_empty(), "{m}: {:?}", pair.errors);
        assert_eq!(pair.run.reports.len(), 10);
        assert!(pair.run.reports.iter().all(|r| matches!(r.outcome, Outcome::Delivered { .. })), "{m}");
        let said: String = pair.diagnostics.iter().map(|(_, l)| l.as_str()).collect();
        assert!(said.contains(&format!("authenticated with SASL {m}")), "{m}");
        assert!(!said.contains(PASSWORD) && !said.contains(TOKEN));
    }
}
