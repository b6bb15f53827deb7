//! TLS between idem's producer and idem's in-memory cluster (joined by a [`DirectLink`] in a
//! [`Pair`], virtual time): SSL and SASL_SSL deliver; every certificate problem is a typed
//! fatal error after one connection (no retry storm); a peer that does not speak TLS is closed
//! on both sides and the records time out typed, with no panic and no hang.
#![allow(clippy::unwrap_used)]

use idem_core::broker::{BrokerAddress, ClusterConfig, SaslServerConfig, SaslUser, TopicConfig};
use idem_core::producer::{FatalError, NonceSource, Producer, ProducerConfig};
use idem_core::rand::Rng;
use idem_core::sasl::Mechanism;
use idem_core::tls::{CertificateProblem, ServerTlsSettings, TlsFailure};
use idem_core::{Duration, Instant};
use idem_tests::adapters::{IdemCluster, IdemProducer, SimOpaque};
use idem_tests::checker::{FailReason, Outcome};
use idem_tests::pair::{DirectLink, Pair, scripted_run};
use idem_tests::tls::{Ca, FixedClock, Leaf, SIM_WALL_CLOCK, sim_certificates, sim_clock};
use std::sync::Arc;

const PASSWORD: &str = "tls-pa55";

fn cluster(host: &str, leaf: &Leaf, sasl: bool) -> ClusterConfig {
    ClusterConfig {
        brokers: vec![BrokerAddress { node_id: 1, host: host.into(), port: 9093 }],
        topics: vec![TopicConfig { name: "t".into(), partitions: 2 }],
        tls: Some(ServerTlsSettings::new(&leaf.cert, &leaf.key)),
        sasl: sasl.then(|| SaslServerConfig {
            mechanisms: Mechanism::ALL.to_vec(),
            users: vec![SaslUser::new("alice", PASSWORD)],
            session_lifetime: None,
        }),
        ..ClusterConfig::default()
    }
}

fn config(host: &str, settings: &[(&str, &str)]) -> ProducerConfig {
    let mut pc = ProducerConfig::new(&format!("{host}:9093"))
        .unwrap()
        .linger(Duration::from_millis(1))
        .request_timeout(Duration::from_secs(1))
        .delivery_timeout(Duration::from_secs(3));
    pc.set("debug", "all").unwrap();
    pc.set("security.protocol", "SSL").unwrap();
    pc.set("ssl.ca.pem", &sim_certificates().ca.pem).unwrap();
    for (k, v) in settings {
        pc.set(k, v).unwrap();
    }
    pc.security.tls.wall_clock = Some(sim_clock());
    pc
}

fn producer(pc: ProducerConfig) -> Producer<SimOpaque> {
    let mut p = Producer::with_opaque(pc, Instant::ZERO).unwrap();
    let mut n = 0u8;
    p.set_nonce_source(NonceSource::new(move || {
        n = n.wrapping_add(1);
        Some([n; 32])
    }));
    p
}

/// Sends 10 records and drives for 10 s of virtual time over `link`.
fn run_over(
    p: Producer<SimOpaque>,
    cc: ClusterConfig,
    link: DirectLink,
) -> Pair<IdemProducer, IdemCluster, DirectLink> {
    let cluster = IdemCluster::with_config(cc, "t");
    scripted_run(IdemProducer::new(p), cluster, link, "t", 10, Instant::ZERO + Duration::from_secs(10))
}

fn run(p: Producer<SimOpaque>, cc: ClusterConfig) -> Pair<IdemProducer, IdemCluster, DirectLink> {
    run_over(p, cc, DirectLink::new())
}

fn said(pair: &Pair<IdemProducer, IdemCluster, DirectLink>) -> String {
    pair.diagnostics.iter().map(|(_, l)| format!("{l}\n")).collect()
}

fn assert_delivered(pair: &Pair<IdemProducer, IdemCluster, DirectLink>, what: &str) {
    assert!(pair.errors.is_empty(), "{what}: {:?}", pair.errors);
    assert_eq!(pair.run.reports.len(), 10, "{what}");
    assert!(pair.run.reports.iter().all(|r| matches!(r.outcome, Outcome::Delivered { .. })), "{what}: {}", said(pair));
    assert!(said(pair).contains("TLS established"), "{what}");
}

/// Every record failed NotPersisted because of the fatal error, after one connection.
fn assert_fatal(pair: &Pair<IdemProducer, IdemCluster, DirectLink>) -> TlsFailure {
    assert_eq!(pair.run.reports.len(), 10);
    assert!(pair.run.reports.iter().all(|r| r.outcome == Outcome::NotPersisted(FailReason::Fatal)), "{}", said(pair));
    assert_eq!(pair.producer.0.metrics().connections_created, 1, "no retry storm");
    match pair.producer.0.fatal_error() {
        Some(FatalError::Tls { node: -1, failure }) => failure,
        other => panic!("{other:?}"),
    }
}

#[test]
fn ssl_delivers_in_any_chunking() {
    let certs = sim_certificates();
    assert_delivered(&run(producer(config("b1", &[])), cluster("b1", &certs.broker, false)), "SSL");
    for seed in 0..4 {
        let link = DirectLink::chunked(Rng::new(seed));
        assert_delivered(&run_over(producer(config("b1", &[])), cluster("b1", &certs.broker, false), link), "chunked");
    }
}

#[test]
fn sasl_ssl_delivers_with_every_mechanism() {
    let certs = sim_certificates();
    for m in Mechanism::ALL {
        let settings = [
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", m.name()),
            ("sasl.username", "alice"),
            ("sasl.password", PASSWORD),
            ("sasl.oauthbearer.token", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0bHMifQ."),
        ];
        let pair = run(producer(config("b1", &settings)), cluster("b1", &certs.broker, true));
        assert_delivered(&pair, m.name());
        assert!(said(&pair).contains(&format!("authenticated with SASL {m}")), "{m}");
        assert_eq!(pair.cluster.cluster.stats().sasl_authentications, pair.producer.0.metrics().connections_created);
    }
}

#[test]
fn certificate_problems_are_fatal_after_one_connection_and_name_the_reason() {
    let certs = sim_certificates();
    let stranger = Ca::new("someone else's CA");
    let cases: [(&str, ProducerConfig, ClusterConfig, CertificateProblem); 4] = [
        (
            "untrusted",
            config("b1", &[]),
            cluster("b1", &stranger.leaf(&["b1"], false), false),
            CertificateProblem::UnknownIssuer,
        ),
        (
            "wrong host",
            config("b9", &[]),
            cluster("b9", &certs.ca.leaf(&["b1"], false), false),
            CertificateProblem::NotValidForName,
        ),
        (
            "expired",
            config("b1", &[]),
            cluster("b1", &certs.ca.leaf(&["b1"], true), false),
            CertificateProblem::Expired,
        ),
        (
            "not yet valid",
            {
                let mut pc = config("b1", &[]);
                pc.security.tls.wall_clock = Some(Arc::new(FixedClock(SIM_WALL_CLOCK - 3 * 365 * 86_400)));
                pc
            },
            cluster("b1", &certs.broker, false),
            CertificateProblem::NotYetValid,
        ),
    ];
    for (what, pc, cc, problem) in cases {
        let pair = run(producer(pc), cc);
        assert_eq!(assert_fatal(&pair), TlsFailure::Certificate(problem), "{what}");
        let e = pair.producer.0.fatal_error().unwrap().to_string();
        assert!(e.contains("TLS handshake with bootstrap server 0 failed") && e.contains("certificate"), "{what}: {e}");
        // The diagnostic names the host and rustls's reason; the broker heard the alert.
        assert!(said(&pair).contains("TLS failed"), "{what}");
        assert_eq!(pair.cluster.cluster.stats().tls_failures, 1, "{what}");
    }
    // Without hostname verification the wrong host is accepted (the chain still is checked).
    let pc = config("b9", &[("ssl.endpoint.identification.algorithm", "none")]);
    assert_delivered(&run(producer(pc), cluster("b9", &certs.ca.leaf(&["b1"], false), false)), "any name");
}

#[test]
fn a_broker_requiring_client_certificates() {
    let certs = sim_certificates();
    let clients = Ca::new("client CA");
    let mut cc = cluster("b1", &certs.broker, false);
    if let Some(tls) = cc.tls.as_mut() {
        tls.client_ca_pem = Some(clients.pem.clone());
        tls.wall_clock = Some(sim_clock());
    }
    // None presented: the broker refuses the handshake, fatally for the producer.
    let pair = run(producer(config("b1", &[])), cc.clone());
    let failure = assert_fatal(&pair);
    assert!(matches!(failure, TlsFailure::PeerAlert(116)), "certificate_required: {failure:?}");
    assert!(pair.producer.0.fatal_error().unwrap().to_string().contains("ssl.certificate.location"));
    // One the broker's client CA signed.
    let mine = clients.leaf(&["producer"], false);
    let pc = config("b1", &[("ssl.certificate.pem", &mine.cert), ("ssl.key.pem", &mine.key)]);
    assert_delivered(&run(producer(pc), cc.clone()), "client certificate");
    // One another CA signed.
    let theirs = certs.ca.leaf(&["producer"], false);
    let pc = config("b1", &[("ssl.certificate.pem", &theirs.cert), ("ssl.key.pem", &theirs.key)]);
    let failure = assert_fatal(&run(producer(pc), cc));
    assert!(matches!(failure, TlsFailure::PeerAlert(_)) && failure.is_authentication(), "{failure:?}");
}

#[test]
fn a_plaintext_producer_on_a_tls_listener_times_out_typed() {
    let certs = sim_certificates();
    let mut pc = config("b1", &[]);
    pc.set("security.protocol", "PLAINTEXT").unwrap();
    let pair = run(producer(pc), cluster("b1", &certs.broker, false));
    assert_eq!(pair.run.reports.len(), 10);
    assert!(pair.run.reports.iter().all(|r| r.outcome == Outcome::NotPersisted(FailReason::Timeout)));
    let failures = pair.cluster.cluster.stats().tls_failures;
    let connects = pair.producer.0.metrics().connections_created;
    assert!(failures >= 1 && failures == connects, "tls failures {failures}, connections {connects}");
    assert!(pair.producer.0.fatal_error().is_none());
}

#[test]
fn a_tls_producer_on_a_plaintext_listener_times_out_typed() {
    let certs = sim_certificates();
    let mut cc = cluster("b1", &certs.broker, false);
    cc.tls = None;
    let pair = run(producer(config("b1", &[])), cc);
    assert_eq!(pair.run.reports.len(), 10);
    assert!(pair.run.reports.iter().all(|r| r.outcome == Outcome::NotPersisted(FailReason::Timeout)));
    // The ClientHello is no Kafka frame: the broker closes every connection as malformed.
    let malformed = pair.cluster.cluster.stats().malformed;
    let connects = pair.producer.0.metrics().connections_created;
    assert!(malformed >= 1 && malformed == connects, "malformed {malformed}, connections {connects}");
    assert!(pair.producer.0.fatal_error().is_none());
}
