//! Proof with librdkafka (its OpenSSL, a TLS stack no one here wrote) that idem's TLS listeners
//! work: `security.protocol=SSL` with `ssl.ca.location`, SASL_SSL with SCRAM-SHA-256,
//! SCRAM-SHA-512 and PLAIN (re-authenticating over the TLS session), and mutual TLS
//! (`ssl.certificate.location` / `ssl.key.location`), each with librdkafka's idempotent
//! producer under faults and every record read back once, in order, by librdkafka's consumer
//! over the same listener. And that every mismatch ends in an error, not a hang: a client that
//! does not trust the broker's CA, a certificate that does not name the host, no client
//! certificate where one is required, a plaintext client on a TLS listener and a TLS client on
//! a plaintext listener. Those are bounded by librdkafka's own `message.timeout.ms`: the
//! record's delivery report says it failed, and nothing reached a log.
#![allow(clippy::unwrap_used)] // Tests may unwrap (HELPERS.md).

mod rdkafka_common;

use idem_core::broker::{FaultSpec, SaslServerConfig, SaslUser};
use idem_core::sasl::Mechanism;
use idem_core::tls::ServerTlsSettings;
use idem_mock::{MockCluster, TestCertificateFiles, TestCertificates};
use rdkafka::producer::{BaseProducer, Producer};
use rdkafka_common::*;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Certificates written to a directory of the test's own, removed when dropped.
struct Certs {
    dir: PathBuf,
    pem: TestCertificates,
    files: TestCertificateFiles,
}

impl Certs {
    fn write(test: &str, pem: TestCertificates) -> Certs {
        let dir = std::env::temp_dir().join(format!("idem-rdkafka-tls-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let files = pem.write_to(&dir).unwrap();
        Certs { dir, pem, files }
    }

    /// For the hosts clients connect to here (127.0.0.1, localhost).
    fn new(test: &str) -> Certs {
        Certs::write(test, TestCertificates::generate(&[]).unwrap())
    }

    /// librdkafka's settings for `protocol` (SSL or SASL_SSL) trusting this CA.
    fn client(&self, protocol: &'static str) -> Vec<(&'static str, String)> {
        vec![("security.protocol", protocol.into()), ("ssl.ca.location", path(&self.files.ca))]
    }

    /// [`client`](Self::client) with SSL, presenting the client certificate (mutual TLS).
    fn client_with_certificate(&self) -> Vec<(&'static str, String)> {
        let mut c = self.client("SSL");
        c.push(("ssl.certificate.location", path(&self.files.client_certificate)));
        c.push(("ssl.key.location", path(&self.files.client_key)));
        c
    }
}

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn path(p: &std::path::Path) -> String {
    p.to_str().unwrap().to_string()
}

/// Settings as the `&[(&str, &str)]` the shared helpers take.
fn pairs<'a>(settings: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    settings.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn start(faults: &str, seed: u64, tls: Option<ServerTlsSettings>, sasl: Option<SaslServerConfig>) -> MockCluster {
    let mut config = cluster_config(faults, seed);
    config.cluster.tls = tls;
    config.cluster.sasl = sasl;
    MockCluster::start(config).unwrap()
}

/// Sends `total` records with `client`'s settings (50 every 25 ms; `at_chunk` after each 50),
/// flushes, turns the faults off and checks that librdkafka's consumer with the same settings
/// reads every record back exactly once, in order, at the offsets reported. The TLS listener
/// refused no connection meanwhile.
fn produce_and_check_with(
    cluster: &MockCluster,
    total: u64,
    client: &[(&'static str, String)],
    mut at_chunk: impl FnMut(&BaseProducer<Ctx>, u64),
) {
    let tls_failures = cluster.stats().tls_failures;
    let client = pairs(client);
    let deliveries = Arc::new(Deliveries::default());
    let p = producer_with(&cluster.bootstrap_servers(), &deliveries, "none", &client);
    send_paced(&p, 0..total, 50, Duration::from_millis(25), |n| at_chunk(&p, n));
    p.flush(Duration::from_secs(60)).unwrap();
    cluster.set_faults(FaultSpec::default());
    check_with(cluster, total, &deliveries, &client);
    let s = cluster.stats();
    eprintln!("cluster stats: {s:?}");
    assert_eq!(s.tls_failures, tls_failures, "{s:?}");
}

fn produce_and_check(cluster: &MockCluster, total: u64, client: &[(&'static str, String)]) {
    produce_and_check_with(cluster, total, client, |_, _| {});
}

/// librdkafka's idempotent producer with `client`'s settings sends one record that must fail:
/// with `message.timeout.ms` at 3 s its delivery report must say so and `flush` must return
/// (both bounded by librdkafka's timeout, not by the test). Nothing is appended. Returns the
/// client-level errors librdkafka reported meanwhile.
fn refused(cluster: &MockCluster, client: &[(&'static str, String)]) -> Vec<String> {
    let appended = cluster.stats().records_appended;
    let mut client = pairs(client);
    client.push(("message.timeout.ms", "3000"));
    let deliveries = Arc::new(Deliveries::default());
    let p = producer_with(&cluster.bootstrap_servers(), &deliveries, "none", &client);
    send(&p, 0);
    p.flush(Duration::from_secs(30)).expect("every record reported within its message timeout");
    drop(p);
    let failed = deliveries.failed.lock().unwrap().clone();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].contains("timed out"), "{failed:?}");
    assert!(deliveries.ok.lock().unwrap().is_empty());
    assert_eq!(cluster.stats().records_appended, appended, "a refused client appended records");
    let errors = deliveries.client_errors.lock().unwrap().clone();
    eprintln!("librdkafka's errors: {errors:#?}");
    errors
}

/// Whether some error says that the TLS handshake failed on the client, and why.
fn ssl_error(errors: &[String], why: &str) -> bool {
    errors.iter().any(|e| e.contains("SSL handshake failed") && e.contains(why))
}

/// `security.protocol=SSL` with `ssl.ca.location`: librdkafka's idempotent producer under every
/// fault of the cluster ([`FAULTS`]: responses dropped after the append, errors before and
/// after it, delays, leader moves, broker bounces, restarts, expiry), plus a leader taken down
/// while its answers are held back (written batches whose answers die with the connection),
/// reconnecting with a new TLS handshake each time; small batches (10 records) so that the
/// faults bite within 4,000 records. Every record exactly once, in order, read back over TLS.
#[test]
fn ssl_idempotent_producer_under_every_fault_exactly_once() {
    const TOTAL: u64 = 4000;
    let certs = Certs::new("faults");
    let cluster = start(FAULTS, 71, Some(certs.pem.broker_settings()), None);
    assert_eq!(cluster.security_protocol(), "SSL");
    let spec = FaultSpec::parse(FAULTS).unwrap();
    let mut client = certs.client("SSL");
    client.push(("batch.num.messages", "10".into()));
    produce_and_check_with(&cluster, TOTAL, &client, |p, n| {
        if n + 1 == TOTAL / 4 {
            let mut slow = spec.clone();
            slow.delay = FaultSpec::parse("delay=300ms..400ms").unwrap().delay;
            cluster.set_faults(slow);
            poll_for(p, Duration::from_millis(150));
            let victim = cluster.leader(TOPIC, 0).unwrap();
            cluster.broker_down(victim).unwrap();
            poll_for(p, Duration::from_millis(400));
            cluster.broker_up(victim).unwrap();
            cluster.set_faults(spec.clone());
        }
    });
    let s = cluster.stats();
    assert!(s.duplicates > 0, "no duplicate was suppressed: the faults did not bite ({s:?})");
    assert!(s.dropped_after_append > 0 && s.errors_before > 0 && s.errors_after > 0, "{s:?}");
    assert!(s.leader_moves > 0 && s.broker_downs > 0 && s.discarded_responses > 0, "{s:?}");
}

/// SASL_SSL with `mechanism`: SASL over the TLS session, sessions of 1 s (librdkafka
/// re-authenticates, KIP-368), faults; then the same client with a wrong password gets
/// SASL_AUTHENTICATION_FAILED through TLS.
fn sasl_ssl(mechanism: Mechanism, seed: u64) {
    let certs = Certs::new(mechanism.name());
    let sasl = SaslServerConfig {
        mechanisms: vec![Mechanism::ScramSha256, Mechanism::ScramSha512, Mechanism::Plain],
        users: vec![SaslUser::new("rd", "kafka-secret")],
        session_lifetime: Some(idem_core::Duration::from_millis(1000)),
    };
    let faults = "error_after=NOT_ENOUGH_REPLICAS_AFTER_APPEND:0.1,append_drop=0.02,delay=0..5ms,leader_move=700ms";
    let cluster = start(faults, seed, Some(certs.pem.broker_settings()), Some(sasl));
    assert_eq!(cluster.security_protocol(), "SASL_SSL");
    let client = |password: &str| {
        let mut c = certs.client("SASL_SSL");
        c.push(("sasl.mechanisms", mechanism.name().into()));
        c.push(("sasl.username", "rd".into()));
        c.push(("sasl.password", password.into()));
        c
    };
    // 2,000 records over at least 2 s (50 every 50 ms): two session lifetimes.
    produce_and_check_with(&cluster, 2000, &client("kafka-secret"), |p, _| poll_for(p, Duration::from_millis(25)));
    let s = cluster.stats();
    assert!(s.sasl_authentications >= 3, "{s:?}");
    assert!(s.sasl_reauthentications > 0, "librdkafka did not re-authenticate (KIP-368): {s:?}");
    assert!(s.duplicates > 0, "the faults did not bite: {s:?}");
    assert_eq!(s.sasl_failures, 0, "{s:?}");

    let errors = refused(&cluster, &client("wrong"));
    assert!(cluster.stats().sasl_failures > 0, "no authentication failure seen");
    assert!(errors.iter().any(|e| e.contains("Authentication failed")), "{errors:#?}");
    assert_eq!(cluster.stats().tls_failures, 0);
}

#[test]
fn sasl_ssl_scram_sha_256_exactly_once() {
    sasl_ssl(Mechanism::ScramSha256, 72);
}

#[test]
fn sasl_ssl_scram_sha_512_exactly_once() {
    sasl_ssl(Mechanism::ScramSha512, 73);
}

#[test]
fn sasl_ssl_plain_exactly_once() {
    sasl_ssl(Mechanism::Plain, 74);
}

/// A broker requiring client certificates (`ssl.client.auth=required`): librdkafka presenting
/// the CA's client certificate produces and consumes; without one it is refused (the broker
/// counts the failed handshake) and its record times out.
#[test]
fn mutual_tls_accepts_the_client_certificate_and_refuses_none() {
    let certs = Certs::new("mtls");
    let cluster = start("delay=0..5ms", 75, Some(certs.pem.broker_settings_requiring_client_certificates()), None);
    produce_and_check(&cluster, 600, &certs.client_with_certificate());
    refused(&cluster, &certs.client("SSL"));
    let s = cluster.stats();
    assert!(s.tls_failures > 0, "the broker did not refuse a client without a certificate: {s:?}");

    // A certificate of another CA is refused as well.
    let other = Certs::new("mtls-other");
    let mut foreign = certs.client("SSL");
    foreign.push(("ssl.certificate.location", path(&other.files.client_certificate)));
    foreign.push(("ssl.key.location", path(&other.files.client_key)));
    refused(&cluster, &foreign);
    assert!(cluster.stats().tls_failures > s.tls_failures, "a foreign client certificate was not refused");
}

/// librdkafka trusting another CA fails the handshake (OpenSSL: certificate verify failed) and
/// tells the broker with an alert, which the broker counts.
#[test]
fn a_client_that_does_not_trust_the_ca_gets_an_ssl_error() {
    let certs = Certs::new("untrusted");
    let other = Certs::new("untrusted-other");
    let cluster = start("", 76, Some(certs.pem.broker_settings()), None);
    let errors = refused(&cluster, &other.client("SSL"));
    assert!(ssl_error(&errors, "certificate verify failed"), "{errors:#?}");
    let s = cluster.stats();
    assert!(s.tls_failures > 0, "{s:?}");
}

/// A broker certificate that names another host: refused by librdkafka's endpoint
/// identification (`https`, its default since 2.0); accepted with
/// `ssl.endpoint.identification.algorithm=none`, so the name was the only problem.
#[test]
fn a_certificate_for_another_host_gets_an_ssl_error_unless_identification_is_off() {
    let certs = Certs::write("wrong-host", TestCertificates::generate_naming_only(&["broker.invalid"]).unwrap());
    let cluster = start("", 77, Some(certs.pem.broker_settings()), None);
    let errors = refused(&cluster, &certs.client("SSL"));
    assert!(ssl_error(&errors, "certificate verify failed"), "{errors:#?}");
    let mut any_name = certs.client("SSL");
    any_name.push(("ssl.endpoint.identification.algorithm", "none".into()));
    produce_and_check(&cluster, 30, &any_name);
}

/// A PLAINTEXT librdkafka on a TLS listener: its ApiVersions request is not TLS, so the broker
/// answers with an alert and closes (counted); the client sees the connection close.
#[test]
fn a_plaintext_client_on_a_tls_listener_is_closed() {
    let certs = Certs::new("plain-on-tls");
    let cluster = start("", 78, Some(certs.pem.broker_settings()), None);
    let errors = refused(&cluster, &[]);
    assert!(!errors.is_empty(), "librdkafka reported no error");
    let s = cluster.stats();
    assert!(s.tls_failures > 0, "{s:?}");
    assert!(cluster.logs().iter().any(|l| l.contains("TLS")), "{:?}", cluster.logs());
}

/// An SSL librdkafka on a plaintext listener: its ClientHello reads as a request frame larger
/// than any the broker accepts, so the broker closes the connection (malformed); the client's
/// handshake fails.
#[test]
fn an_ssl_client_on_a_plaintext_listener_is_closed() {
    let certs = Certs::new("tls-on-plain");
    let cluster = start("", 79, None, None);
    assert_eq!(cluster.security_protocol(), "PLAINTEXT");
    let errors = refused(&cluster, &certs.client("SSL"));
    assert!(errors.iter().any(|e| e.contains("SSL")), "{errors:#?}");
    let s = cluster.stats();
    assert!(s.malformed > 0, "the ClientHello was not refused as a frame: {s:?}");
    assert_eq!(s.tls_failures, 0, "{s:?}");
}
