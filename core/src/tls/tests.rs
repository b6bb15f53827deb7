//! The TLS session against itself: handshakes, data both ways in any chunking, and every
//! certificate failure with the reason each side reports.

use super::*;
use alloc::format;
use alloc::vec;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// A wall clock stopped at `secs` after the Unix epoch.
#[derive(Debug)]
struct Fixed(u64);

impl TimeProvider for Fixed {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(core::time::Duration::from_secs(self.0)))
    }
}

/// 2026-12-01.
const NOW: u64 = 1_796_083_200;

struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn new_ca(name: &str) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("self-signed");
    Ca { pem: cert.pem(), issuer: Issuer::new(params, key) }
}

/// A leaf for `names`, signed by `ca`, valid for `years` around [`NOW`] (negative: expired).
fn leaf(ca: &Ca, names: &[&str], expired: bool) -> (String, String) {
    let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("names");
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    } else {
        params.not_before = rcgen::date_time_ymd(2025, 1, 1);
        params.not_after = rcgen::date_time_ymd(2035, 1, 1);
    }
    let key = KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, &ca.issuer).expect("signed");
    (cert.pem(), key.serialize_pem())
}

fn client_settings(ca: &Ca) -> ClientTlsSettings {
    ClientTlsSettings {
        ca_pem: Some(ca.pem.clone()),
        wall_clock: Some(Arc::new(Fixed(NOW))),
        ..ClientTlsSettings::new()
    }
}

fn server_settings(cert: &(String, String)) -> ServerTlsSettings {
    ServerTlsSettings::new(&cert.0, &cert.1)
}

/// Runs the handshake, moving bytes `chunk` at a time; the first failure of either side.
fn handshake(client: &mut TlsSession, server: &mut TlsSession, chunk: usize) -> Result<(), (bool, Failed)> {
    let mut sink = Vec::new();
    for _ in 0..20 {
        if let Some(out) = client.outgoing() {
            for c in out.chunks(chunk) {
                server.receive(c, &mut sink).map_err(|f| (false, f))?;
            }
        }
        if let Some(out) = server.outgoing() {
            for c in out.chunks(chunk) {
                client.receive(c, &mut sink).map_err(|f| (true, f))?;
            }
        }
        if !client.is_handshaking() && !server.is_handshaking() && !client.conn.wants_write() {
            assert!(sink.is_empty(), "no application data during the handshake");
            return Ok(());
        }
    }
    panic!("handshake did not finish");
}

fn pair(client: &ClientTlsSettings, server: &ServerTlsSettings, host: &str) -> (TlsSession, TlsSession) {
    let c = TlsSession::client(&client.client_config().expect("client config"), host).expect("client");
    let s = TlsSession::server(&server.server_config().expect("server config")).expect("server");
    (c, s)
}

#[test]
fn data_crosses_both_ways_in_any_chunking() {
    let ca = new_ca("idem test CA");
    let cert = leaf(&ca, &["localhost", "127.0.0.1"], false);
    for host in ["localhost", "127.0.0.1"] {
        for chunk in [1, 7, 1 << 20] {
            let (mut c, mut s) = pair(&client_settings(&ca), &server_settings(&cert), host);
            handshake(&mut c, &mut s, chunk).expect("handshake");
            let request: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
            c.send([&request[..10], &request[10..]]);
            let mut got = Vec::new();
            for piece in c.outgoing().expect("records").chunks(chunk) {
                s.receive(piece, &mut got).expect("server receives");
            }
            assert_eq!(got, request);
            s.send([&b"response"[..]]);
            let mut back = Vec::new();
            c.receive(&s.outgoing().expect("records"), &mut back).expect("client receives");
            assert_eq!(back, b"response");
            c.close();
            let closed = s.receive(&c.outgoing().expect("close_notify"), &mut back).expect("close");
            assert!(closed.peer_closed);
        }
    }
}

#[test]
fn certificate_failures_name_their_reason_on_both_sides() {
    let ca = new_ca("idem test CA");
    let other = ca_other();
    let good = leaf(&ca, &["localhost"], false);
    type Case = (&'static str, ClientTlsSettings, (String, String), &'static str, CertificateProblem);
    let cases: [Case; 4] = [
        ("untrusted", client_settings(&other), good.clone(), "localhost", CertificateProblem::UnknownIssuer),
        ("wrong host", client_settings(&ca), good.clone(), "broker.example", CertificateProblem::NotValidForName),
        ("expired", client_settings(&ca), leaf(&ca, &["localhost"], true), "localhost", CertificateProblem::Expired),
        (
            "not yet valid",
            ClientTlsSettings { wall_clock: Some(Arc::new(Fixed(1_600_000_000))), ..client_settings(&ca) },
            good.clone(),
            "localhost",
            CertificateProblem::NotYetValid,
        ),
    ];
    for (what, client, cert, host, problem) in cases {
        let (mut c, mut s) = pair(&client, &server_settings(&cert), host);
        let (on_client, failed) = handshake(&mut c, &mut s, 1 << 20).expect_err(what);
        assert!(on_client, "{what}: the client refuses");
        assert_eq!(failed.failure, TlsFailure::Certificate(problem), "{what}: {}", failed.detail);
        assert!(failed.failure.is_authentication());
        // The client tells the server why.
        let alert = c.outgoing().expect("an alert");
        let e = s.receive(&alert, &mut Vec::new()).expect_err("the server sees the alert");
        assert!(matches!(e.failure, TlsFailure::PeerAlert(_)), "{what}: {e:?}");
        assert!(format!("{}", failed.failure).contains("certificate"), "{what}");
    }
    // Without hostname verification the wrong host is accepted; the chain still is checked.
    let lax = ClientTlsSettings { verify_hostname: false, ..client_settings(&ca) };
    let (mut c, mut s) = pair(&lax, &server_settings(&good), "broker.example");
    handshake(&mut c, &mut s, 1 << 20).expect("any name");
    let lax_untrusted = ClientTlsSettings { verify_hostname: false, ..client_settings(&other) };
    let (mut c, mut s) = pair(&lax_untrusted, &server_settings(&good), "broker.example");
    let (_, failed) = handshake(&mut c, &mut s, 1 << 20).expect_err("untrusted");
    assert_eq!(failed.failure, TlsFailure::Certificate(CertificateProblem::UnknownIssuer));
}

fn ca_other() -> Ca {
    new_ca("someone else's CA")
}

#[test]
fn client_certificates_are_required_and_checked() {
    let ca = new_ca("idem test CA");
    let clients = new_ca("client CA");
    let server = ServerTlsSettings {
        client_ca_pem: Some(clients.pem.clone()),
        wall_clock: Some(Arc::new(Fixed(NOW))),
        ..server_settings(&leaf(&ca, &["localhost"], false))
    };
    let no_clock = ServerTlsSettings { wall_clock: None, ..server.clone() };
    assert_eq!(no_clock.server_config().expect_err("clock").setting, "tls-client-ca");
    // None presented.
    let (mut c, mut s) = pair(&client_settings(&ca), &server, "localhost");
    let (on_client, failed) = handshake(&mut c, &mut s, 1 << 20).expect_err("no client certificate");
    let alert = if on_client {
        failed.failure
    } else {
        assert_eq!(failed.failure, TlsFailure::Certificate(CertificateProblem::NotPresented));
        let e = c.receive(&s.outgoing().expect("alert"), &mut Vec::new()).expect_err("alert");
        e.failure
    };
    assert_eq!(alert, TlsFailure::PeerAlert(u8::from(AlertDescription::CertificateRequired)));
    assert!(format!("{alert}").contains("ssl.certificate.location"));
    // One from the right CA.
    let mine = leaf(&clients, &["producer"], false);
    let with_cert = ClientTlsSettings {
        certificate_pem: Some(mine.0.clone()),
        key_pem: Some(mine.1.clone()),
        ..client_settings(&ca)
    };
    let (mut c, mut s) = pair(&with_cert, &server, "localhost");
    handshake(&mut c, &mut s, 1 << 20).expect("client certificate accepted");
    // One from another CA.
    let theirs = leaf(&ca, &["producer"], false);
    let wrong = ClientTlsSettings { certificate_pem: Some(theirs.0), key_pem: Some(theirs.1), ..client_settings(&ca) };
    let (mut c, mut s) = pair(&wrong, &server, "localhost");
    let mut failure = handshake(&mut c, &mut s, 1 << 20).expect_err("wrong client CA").1.failure;
    if failure == TlsFailure::Certificate(CertificateProblem::UnknownIssuer) {
        failure = c.receive(&s.outgoing().expect("alert"), &mut Vec::new()).expect_err("alert").failure;
    }
    assert!(matches!(failure, TlsFailure::PeerAlert(_)), "{failure:?}");
    assert!(failure.is_authentication());
}

#[test]
fn a_plaintext_peer_is_a_protocol_failure_not_a_panic() {
    let ca = new_ca("idem test CA");
    let (_, mut s) = pair(&client_settings(&ca), &server_settings(&leaf(&ca, &["localhost"], false)), "localhost");
    // An ApiVersions request frame, as a plaintext Kafka client opens.
    let frame = [0u8, 0, 0, 10, 0, 18, 0, 3, 0, 0, 0, 1, 0, 0];
    let e = s.receive(&frame, &mut Vec::new()).expect_err("not TLS");
    assert_eq!(e.failure, TlsFailure::Protocol);
    assert!(!e.failure.is_authentication());
    let (mut c, _) = pair(&client_settings(&ca), &server_settings(&leaf(&ca, &["localhost"], false)), "localhost");
    let _ = c.outgoing();
    // A plaintext broker's ApiVersions answer.
    let e = c.receive(&[0, 0, 0, 6, 0, 0, 0, 1, 0, 35], &mut Vec::new()).expect_err("not TLS");
    assert_eq!(e.failure, TlsFailure::Protocol);
}

#[test]
fn hostile_bytes_never_panic_either_side() {
    let ca = new_ca("idem test CA");
    let cert = leaf(&ca, &["localhost"], false);
    let client = client_settings(&ca).client_config().expect("client");
    let server = server_settings(&cert).server_config().expect("server");
    let mut rng = crate::rand::Rng::new(7);
    // A real server flight (ServerHello .. Finished), mutated into fresh client sessions: the
    // client's parsing of every handshake message meets hostile input.
    let mut c = TlsSession::client(&client, "localhost").expect("client");
    let mut s = TlsSession::server(&server).expect("server");
    s.receive(&c.outgoing().expect("hello"), &mut Vec::new()).expect("server");
    let flight = s.outgoing().expect("server flight");
    for _ in 0..300 {
        let mut c = TlsSession::client(&client, "localhost").expect("client");
        let _ = c.outgoing();
        let mut bytes = flight.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len() as u64) as usize;
            bytes[at] ^= 1 << rng.below(8);
        }
        if rng.chance(0.3) {
            bytes.truncate(rng.below(bytes.len() as u64) as usize);
        }
        let mut plain = Vec::new();
        for chunk in bytes.chunks(1 + rng.below(64) as usize) {
            if c.receive(chunk, &mut plain).is_err() {
                break;
            }
        }
        assert!(plain.is_empty(), "no application data out of a hostile handshake");
        let _ = c.outgoing();
    }
    for round in 0..300 {
        let mut c = TlsSession::client(&client, "localhost").expect("client");
        let mut s = TlsSession::server(&server).expect("server");
        let hello = c.outgoing().expect("hello");
        // Mutate a real ClientHello, or send noise that starts like a TLS record.
        let mut bytes = if round % 2 == 0 { hello.clone() } else { vec![22, 3, 3, 0, 200] };
        let extra = rng.below(64) as usize;
        bytes.extend((0..extra).map(|_| rng.next_u64() as u8));
        let flips = 1 + rng.below(8) as usize;
        for _ in 0..flips {
            let at = rng.below(bytes.len() as u64) as usize;
            bytes[at] ^= 1 << rng.below(8);
        }
        let _ = s.receive(&bytes, &mut Vec::new());
        let _ = s.outgoing();
        let _ = c.receive(&bytes, &mut Vec::new());
        let _ = c.outgoing();
    }
}

#[test]
fn settings_errors_name_the_setting() {
    let ca = new_ca("idem test CA");
    let base = client_settings(&ca);
    let no_clock = ClientTlsSettings { wall_clock: None, ..base.clone() };
    assert!(no_clock.client_config().expect_err("clock").reason.contains("wall clock"));
    let bad_ca = ClientTlsSettings { ca_pem: Some("not a certificate".into()), ..base.clone() };
    assert_eq!(bad_ca.client_config().expect_err("ca").setting, "ssl.ca.pem");
    let no_roots = ClientTlsSettings { ca_pem: None, ..base.clone() };
    assert_eq!(no_roots.client_config().expect_err("roots").setting, "ssl.ca.location");
    let (cert, key) = leaf(&ca, &["producer"], false);
    let cert_only = ClientTlsSettings { certificate_pem: Some(cert.clone()), ..base.clone() };
    assert_eq!(cert_only.client_config().expect_err("key").setting, "ssl.key.pem");
    let key_only = ClientTlsSettings { key_pem: Some(key.clone()), ..base.clone() };
    assert_eq!(key_only.client_config().expect_err("cert").setting, "ssl.certificate.pem");
    let encrypted = ClientTlsSettings {
        certificate_pem: Some(cert.clone()),
        key_pem: Some("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n".into()),
        ..base.clone()
    };
    let e = encrypted.client_config().expect_err("encrypted");
    assert_eq!(e.setting, "ssl.key.pem");
    assert!(!format!("{e}").contains("AAAA"), "the key is never repeated");
    let (_, other_key) = leaf(&ca, &["producer"], false);
    let mismatched = ClientTlsSettings { certificate_pem: Some(cert), key_pem: Some(other_key), ..base.clone() };
    assert_eq!(mismatched.client_config().expect_err("mismatch").setting, "ssl.key.pem");
    assert!(!format!("{mismatched:?}").contains("PRIVATE KEY"), "Debug redacts the key");
    let bad_server = ServerTlsSettings::new("garbage", &key);
    assert_eq!(bad_server.server_config().expect_err("server cert").setting, "tls-cert");
    let e = TlsSession::client(&base.client_config().expect("config"), "not a host!").expect_err("name");
    assert_eq!(e.failure, TlsFailure::InvalidServerName);
}
