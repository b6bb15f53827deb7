//! End to end over real TCP and TLS: idem-std and idem-smol against idem's MockCluster on TLS
//! listeners (certificates from `idem_mock::TestCertificates`, read from files as users give
//! them), with faults, SSL and SASL_SSL: exactly once, in order; client certificates; and the
//! failures a user meets first: an untrusted broker, a wrong host name, a TLS client on a
//! plaintext listener, a plaintext client on a TLS listener.
#![allow(clippy::unwrap_used)]

mod e2e_common;

use std::time::Duration;

use e2e_common::{Collector, check, read_idem_log, send_until_fatal, test_config, value_of};
use idem_core::broker::{FaultSpec, SaslServerConfig, SaslUser, TopicConfig};
use idem_core::sasl::Mechanism;
use idem_core::tls::{CertificateProblem, TlsFailure};
use idem_mock::{MockCluster, MockClusterConfig, TestCertificateFiles, TestCertificates};
use idem_std::{DeliveryError, FatalError, Persisted, Producer, Record};

const FAULTS: &str = "append_drop=0.03,error_before=NOT_LEADER_OR_FOLLOWER:0.02,delay=0..3ms,leader_move=300ms";

fn certificates(name: &str) -> (TestCertificates, TestCertificateFiles) {
    let certs = TestCertificates::generate(&["localhost"]).unwrap();
    let dir = std::env::temp_dir().join(format!("idem-e2e-tls-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = certs.write_to(&dir).unwrap();
    (certs, files)
}

fn tls_cluster(certs: &TestCertificates, faults: &str, sasl: bool, client_certificates: bool) -> MockCluster {
    let settings = if client_certificates {
        certs.broker_settings_requiring_client_certificates()
    } else {
        certs.broker_settings()
    };
    let mut config = MockClusterConfig { brokers: 3, ..Default::default() }.with_tls(settings);
    config.cluster.topics.push(TopicConfig { name: "t".into(), partitions: 4 });
    config.cluster.faults = FaultSpec::parse(faults).unwrap();
    config.cluster.seed = 17;
    if sasl {
        config.cluster.sasl = Some(SaslServerConfig {
            mechanisms: Mechanism::ALL.to_vec(),
            users: vec![SaslUser::new("alice", "tls-secret")],
            session_lifetime: None,
        });
    }
    MockCluster::start(config).unwrap()
}

fn tls_config(bootstrap: &str, files: &TestCertificateFiles, extra: &[(&str, &str)]) -> idem_std::Config {
    let mut c = test_config(bootstrap, 8000);
    c.set("batch.size", "1024").unwrap();
    c.set("security.protocol", "SSL").unwrap();
    c.set("ssl.ca.location", files.ca.to_str().unwrap()).unwrap();
    for (k, v) in extra {
        c.set(k, v).unwrap();
    }
    c
}

fn send_all_std(p: &Producer, n: u64) -> Collector {
    let collector = Collector::new(n as usize);
    for i in 0..n {
        let v = value_of(i);
        let key = (i % 97).to_be_bytes();
        p.send_with_callback(&Record::new("t").key(&key).value(&v), collector.callback(i)).unwrap();
    }
    p.flush_timeout(Duration::from_secs(15)).unwrap();
    collector
}

#[test]
fn ssl_and_sasl_ssl_under_faults_exactly_once_in_order() {
    let (certs, files) = certificates("faults");
    let scram = [
        ("security.protocol", "SASL_SSL"),
        ("sasl.mechanism", "SCRAM-SHA-512"),
        ("sasl.username", "alice"),
        ("sasl.password", "tls-secret"),
    ];
    for (what, sasl, extra) in [("SSL", false, &[][..]), ("SASL_SSL", true, &scram[..])] {
        let cluster = tls_cluster(&certs, FAULTS, sasl, false);
        let p = Producer::new(tls_config(&cluster.bootstrap_servers(), &files, extra)).unwrap();
        let n = 3000;
        let collector = send_all_std(&p, n);
        let report = p.close_timeout(Duration::from_secs(5));
        let stats = cluster.stats();
        cluster.set_faults(Default::default());
        let o = check(&collector.take(), &read_idem_log(&cluster, "t", 4), true);
        assert_eq!(report.counts.delivered, n, "{what}: {o:?}");
        assert_eq!(stats.tls_failures, 0, "{what}: {stats:?}");
        assert!(stats.dropped_after_append > 0 && stats.duplicates > 0, "{what}: the faults bit: {stats:?}");
        if sasl {
            assert!(stats.sasl_authentications >= 3, "{stats:?}");
        }
    }
}

#[test]
fn client_certificates_from_files() {
    let (certs, files) = certificates("mtls");
    let cluster = tls_cluster(&certs, "", false, true);
    let with_cert = [
        ("ssl.certificate.location", files.client_certificate.to_str().unwrap()),
        ("ssl.key.location", files.client_key.to_str().unwrap()),
    ];
    let p = Producer::new(tls_config(&cluster.bootstrap_servers(), &files, &with_cert)).unwrap();
    let collector = send_all_std(&p, 200);
    assert!(p.close_timeout(Duration::from_secs(5)).all_delivered());
    assert_eq!(check(&collector.take(), &read_idem_log(&cluster, "t", 4), true).delivered, 200);
    // Without one: the broker refuses the handshake, fatal after one connection.
    let p = Producer::new(tls_config(&cluster.bootstrap_servers(), &files, &[])).unwrap();
    let (handles, _) = send_until_fatal(&p, 10);
    for h in handles {
        let f = h.wait_timeout(Duration::from_secs(10)).expect("reported").expect_err("refused");
        assert_eq!(f.persisted, Persisted::No);
        let DeliveryError::Fatal(FatalError::Tls { failure, .. }) = f.error else { panic!("{f}") };
        assert!(failure.is_authentication(), "{failure:?}");
    }
    assert_eq!(p.metrics().connections_created, 1, "no retry storm");
}

#[test]
fn untrusted_and_wrong_host_brokers_fail_fatally_naming_the_reason() {
    let (certs, files) = certificates("trusted");
    let (_, stranger) = certificates("stranger");
    let cluster = tls_cluster(&certs, "", false, false);
    // A broker whose certificate (from the trusted CA's point of view: another CA's, written
    // to a file as a user would) names only another host.
    let ca = idem_tests::tls::Ca::new("elsewhere CA");
    let leaf = ca.leaf(&["kafka.elsewhere.example"], false);
    let dir = files.ca.parent().unwrap().join("elsewhere");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ca.pem"), &ca.pem).unwrap();
    let elsewhere_ca = TestCertificateFiles { ca: dir.join("ca.pem"), ..files.clone() };
    let mut config = MockClusterConfig { brokers: 1, ..Default::default() }
        .with_tls(idem_core::tls::ServerTlsSettings::new(&leaf.cert, &leaf.key));
    config.cluster.topics.push(TopicConfig { name: "t".into(), partitions: 1 });
    let elsewhere = MockCluster::start(config).unwrap();
    for (what, config, problem) in [
        ("untrusted", tls_config(&cluster.bootstrap_servers(), &stranger, &[]), CertificateProblem::UnknownIssuer),
        (
            "wrong host",
            tls_config(&elsewhere.bootstrap_servers(), &elsewhere_ca, &[]),
            CertificateProblem::NotValidForName,
        ),
    ] {
        let p = Producer::new(config).unwrap();
        let (handles, _) = send_until_fatal(&p, 5);
        for h in handles {
            let f = h.wait_timeout(Duration::from_secs(10)).expect("reported").expect_err("refused");
            let DeliveryError::Fatal(FatalError::Tls { failure, .. }) = f.error else { panic!("{what}: {f}") };
            assert_eq!(failure, TlsFailure::Certificate(problem), "{what}");
            assert!(f.to_string().contains("certificate"), "{what}: {f}");
        }
        assert_eq!(p.metrics().connections_created, 1, "{what}: no retry storm");
    }
    // Hostname verification off: the same broker is accepted.
    let lax = [("ssl.endpoint.identification.algorithm", "none")];
    let p = Producer::new(tls_config(&elsewhere.bootstrap_servers(), &elsewhere_ca, &lax)).unwrap();
    let collector = send_all_std(&p, 50);
    assert!(p.close_timeout(Duration::from_secs(5)).all_delivered());
    assert_eq!(check(&collector.take(), &read_idem_log(&elsewhere, "t", 1), true).delivered, 50);
}

#[test]
fn mismatched_listeners_close_cleanly_and_records_time_out() {
    let (certs, files) = certificates("mismatch");
    // TLS client, plaintext listener; plaintext client, TLS listener.
    let plain = e2e_common::idem_cluster(1, "t", 1, "");
    let tls = tls_cluster(&certs, "", false, false);
    let mut plaintext_client = test_config(&tls.bootstrap_servers(), 1500);
    plaintext_client.set("security.protocol", "PLAINTEXT").unwrap();
    for (what, config) in [
        ("TLS on plaintext", tls_config(&plain.bootstrap_servers(), &files, &[])),
        ("plaintext on TLS", plaintext_client),
    ] {
        let mut config = config;
        config.set("delivery.timeout.ms", "1500").unwrap();
        config.set("request.timeout.ms", "1000").unwrap();
        let p = Producer::new(config).unwrap();
        let h = p.send(&Record::new("t").value(b"x")).unwrap();
        let f = h.wait_timeout(Duration::from_secs(10)).expect("reported within its delivery timeout");
        let f = f.expect_err("not delivered");
        assert_eq!(f.persisted, Persisted::No, "{what}: {f}");
        assert!(matches!(f.error, DeliveryError::Timeout), "{what}: {f}");
        assert!(p.fatal_error().is_none(), "{what}");
    }
    assert!(plain.stats().malformed >= 1, "the ClientHello is no Kafka frame");
    assert!(tls.stats().tls_failures >= 1, "a Kafka frame is no TLS record");
}

/// idem-smol over SASL_SSL (PLAIN) under faults: the same session layer in the async runtime.
#[test]
fn smol_over_sasl_ssl_under_faults_exactly_once_in_order() {
    let (certs, files) = certificates("smol");
    let cluster = tls_cluster(&certs, FAULTS, true, false);
    let mut config = tls_config(&cluster.bootstrap_servers(), &files, &[]);
    for (k, v) in [
        ("security.protocol", "SASL_SSL"),
        ("sasl.mechanism", "PLAIN"),
        ("sasl.username", "alice"),
        ("sasl.password", "tls-secret"),
    ] {
        config.set(k, v).unwrap();
    }
    let n = 1000u64;
    let collector = Collector::new(n as usize);
    let p = idem_smol::Producer::new(config).unwrap();
    smol::block_on(async {
        for i in 0..n {
            let v = value_of(i);
            p.send_with_callback(&Record::new("t").value(&v), collector.callback(i)).await.unwrap();
        }
        p.flush_timeout(Duration::from_secs(15)).await.unwrap();
    });
    let stats = cluster.stats();
    cluster.set_faults(Default::default());
    let o = check(&collector.take(), &read_idem_log(&cluster, "t", 4), true);
    assert_eq!(o.delivered as u64, n, "{o:?}");
    assert_eq!(stats.tls_failures, 0);
}
