//! The broker's SASL: the gate before authentication, each mechanism, failures closing the
//! connection after their answer, session expiry and KIP-368 re-authentication, hostile bytes.

#![allow(clippy::unwrap_used)] // tests may unwrap (HELPERS.md)
use super::test_util::*;
use super::{BrokerOutput, Cluster, SaslServerConfig, SaslUser};
use crate::proto::ErrorCode;
use crate::proto::metadata::{MetadataRequest, MetadataResponse};
use crate::proto::sasl_authenticate::{SaslAuthenticateRequest, SaslAuthenticateResponse};
use crate::proto::sasl_handshake::{SaslHandshakeRequest, SaslHandshakeResponse};
use crate::sasl::Mechanism;
use crate::time::{Duration, Instant};
use alloc::vec::Vec;
use alloc::{format, vec};

fn sasl_cluster(mechanisms: &[Mechanism], lifetime: Option<Duration>) -> Cluster {
    let mut config = config(1, "");
    config.sasl = Some(SaslServerConfig {
        mechanisms: mechanisms.to_vec(),
        users: vec![SaslUser::parse("alice:wonder:land").unwrap()],
        session_lifetime: lifetime,
    });
    let mut c = Cluster::new(config, Instant::ZERO).unwrap();
    drain(&mut c);
    accept(&mut c, 1, 0);
    c
}

/// Sends a request and returns (response bodies, closed, logs).
fn exchange<'a, M: crate::proto::Message<'a>>(c: &mut Cluster, corr: i32, v: i16, req: &M) -> (Vec<Vec<u8>>, bool) {
    let now = c.now;
    send(c, now, 1, &frame(corr, v, req));
    let (out, _) = drain(c);
    let (data, closed) = transmitted(&out, 1);
    (frames(&data), closed)
}

fn handshake(c: &mut Cluster, m: &str) -> (SaslHandshakeResponse<'static>, bool) {
    let (f, closed) = exchange(c, 10, 1, &SaslHandshakeRequest { mechanism: m });
    let body = f.into_iter().next().expect("a handshake answer");
    let r: SaslHandshakeResponse<'_> = decode(&body, 10, 1);
    let r = SaslHandshakeResponse {
        error_code: r.error_code,
        mechanisms: r.mechanisms.iter().map(|m| &*alloc::string::String::from(*m).leak()).collect(),
    };
    (r, closed)
}

fn authenticate(c: &mut Cluster, v: i16, bytes: &[u8]) -> (i16, Option<alloc::string::String>, Vec<u8>, i64, bool) {
    let (f, closed) = exchange(c, 11, v, &SaslAuthenticateRequest { auth_bytes: bytes });
    let body = f.into_iter().next().expect("an authenticate answer");
    let r: SaslAuthenticateResponse<'_> = decode(&body, 11, v);
    (r.error_code, r.error_message.map(Into::into), r.auth_bytes.to_vec(), r.session_lifetime_ms, closed)
}

fn metadata_served(c: &mut Cluster) -> bool {
    let (f, closed) = exchange(c, 12, 9, &MetadataRequest::default());
    if let Some(body) = f.first() {
        let _: MetadataResponse<'_> = decode(body, 12, 9);
    }
    !closed && f.len() == 1
}

#[test]
fn nothing_but_sasl_before_authentication() {
    let mut c = sasl_cluster(&[Mechanism::Plain], None);
    assert!(!metadata_served(&mut c));
    assert_eq!(c.stats().sasl_refused, 1);
    assert_eq!(c.connection_count(), 0);
    // SaslAuthenticate without a handshake closes too.
    accept(&mut c, 1, 0);
    let (f, closed) = exchange(&mut c, 1, 2, &SaslAuthenticateRequest { auth_bytes: b"\0alice\0wonder:land" });
    assert!(f.is_empty() && closed);
    // SaslHandshake v0 (raw tokens) is not served.
    accept(&mut c, 1, 0);
    let (f, closed) = exchange(&mut c, 1, 0, &SaslHandshakeRequest { mechanism: "PLAIN" });
    assert!(f.is_empty() && closed);
}

#[test]
fn plain_success_and_wrong_password() {
    let mut c = sasl_cluster(&[Mechanism::Plain, Mechanism::ScramSha256], None);
    let (r, closed) = handshake(&mut c, "PLAIN");
    assert_eq!((r.error_code, r.mechanisms, closed), (0, vec!["PLAIN", "SCRAM-SHA-256"], false));
    let (code, _, _, lifetime, closed) = authenticate(&mut c, 2, b"\0alice\0wonder:land");
    assert_eq!((code, lifetime, closed), (0, 0, false));
    assert!(metadata_served(&mut c));
    assert_eq!(c.stats().sasl_authentications, 1);

    accept(&mut c, 1, 0);
    handshake(&mut c, "PLAIN");
    let (code, message, _, _, closed) = authenticate(&mut c, 1, b"\0alice\0wrong");
    assert_eq!(ErrorCode(code), ErrorCode::SASL_AUTHENTICATION_FAILED);
    let message = message.unwrap();
    assert!(message.contains("invalid credentials") && message.contains("PLAIN"), "{message}");
    assert!(!message.contains("wrong"), "the password is not echoed");
    assert!(closed, "closed after the answer");
    assert_eq!(c.stats().sasl_failures, 1);
}

#[test]
fn unknown_mechanism_lists_the_enabled_ones_and_closes() {
    let mut c = sasl_cluster(&[Mechanism::ScramSha512, Mechanism::OAuthBearer], None);
    let (r, closed) = handshake(&mut c, "GSSAPI");
    assert_eq!(ErrorCode(r.error_code), ErrorCode::UNSUPPORTED_SASL_MECHANISM);
    assert_eq!(r.mechanisms, vec!["SCRAM-SHA-512", "OAUTHBEARER"]);
    assert!(closed);
}

#[test]
fn scram_both_hashes_and_oauthbearer() {
    use crate::sasl::scram::{ScramClient, ScramHash};
    for (m, hash) in [(Mechanism::ScramSha256, ScramHash::Sha256), (Mechanism::ScramSha512, ScramHash::Sha512)] {
        for password in ["wonder:land", "nope"] {
            let mut c = sasl_cluster(&[m], None);
            handshake(&mut c, m.name());
            let (mut client, first) = ScramClient::start(hash, "alice", password, "clientnonce");
            let (code, _, server_first, _, _) = authenticate(&mut c, 2, &first);
            assert_eq!(code, 0);
            let fin = client.server_first(&server_first).unwrap();
            let (code, _, server_final, _, closed) = authenticate(&mut c, 2, &fin);
            if password == "nope" {
                assert_eq!((ErrorCode(code), closed), (ErrorCode::SASL_AUTHENTICATION_FAILED, true));
            } else {
                assert_eq!((code, closed), (0, false));
                assert_eq!(client.server_final(&server_final), Ok(()));
                assert!(metadata_served(&mut c));
            }
        }
    }
    let mut c = sasl_cluster(&[Mechanism::OAuthBearer], None);
    handshake(&mut c, "OAUTHBEARER");
    let (code, ..) = authenticate(&mut c, 0, b"n,,\x01auth=Bearer eyJhbGciOiJub25lIn0.e30.\x01\x01");
    assert_eq!(code, 0);
    assert!(metadata_served(&mut c));
}

#[test]
fn sessions_expire_unless_reauthenticated() {
    let mut c = sasl_cluster(&[Mechanism::Plain], Some(Duration::from_millis(1000)));
    handshake(&mut c, "PLAIN");
    let (code, _, _, lifetime, _) = authenticate(&mut c, 1, b"\0alice\0wonder:land");
    assert_eq!((code, lifetime), (0, 1000));
    c.handle_input(super::BrokerInput::Timeout(at(900)));
    assert!(metadata_served(&mut c));
    // Re-authentication (KIP-368) on the same connection renews the session.
    handshake(&mut c, "PLAIN");
    let (code, _, _, lifetime, _) = authenticate(&mut c, 2, b"\0alice\0wonder:land");
    assert_eq!((code, lifetime), (0, 1000));
    assert_eq!(c.stats().sasl_reauthentications, 1);
    c.handle_input(super::BrokerInput::Timeout(at(1800)));
    assert!(metadata_served(&mut c));
    // Past the renewed session: closed.
    c.handle_input(super::BrokerInput::Timeout(at(1900)));
    assert!(!metadata_served(&mut c));
    assert_eq!(c.stats().sasl_refused, 1);
    // A re-authentication may not change the principal.
    let mut config = config(1, "");
    config.sasl = Some(SaslServerConfig {
        mechanisms: vec![Mechanism::Plain],
        users: vec![SaslUser::new("a", "x"), SaslUser::new("b", "y")],
        session_lifetime: None,
    });
    let mut c = Cluster::new(config, Instant::ZERO).unwrap();
    accept(&mut c, 1, 0);
    handshake(&mut c, "PLAIN");
    assert_eq!(authenticate(&mut c, 2, b"\0a\0x").0, 0);
    handshake(&mut c, "PLAIN");
    let (code, message, _, _, closed) = authenticate(&mut c, 2, b"\0b\0y");
    assert_eq!((ErrorCode(code), closed), (ErrorCode::SASL_AUTHENTICATION_FAILED, true));
    assert!(message.unwrap().contains("change principals"));
}

#[test]
fn debug_never_shows_passwords() {
    let c = sasl_cluster(&[Mechanism::Plain, Mechanism::ScramSha256], None);
    let shown = format!("{:?}", c);
    assert!(!shown.contains("wonder"), "{shown}");
}

proptest::proptest! {
    // Each case derives two SCRAM credentials (4096 iterations each): few cases in debug builds.
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    #[test]
    fn hostile_sasl_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120), m in 0usize..4) {
        let mechanism = Mechanism::ALL[m];
        let mut c = sasl_cluster(&[mechanism], None);
        handshake(&mut c, mechanism.name());
        let now = c.now;
        send(&mut c, now, 1, &frame(11, 2, &SaslAuthenticateRequest { auth_bytes: &bytes }));
        let (out, _) = drain(&mut c);
        // Either a refusal (then closed) or a SCRAM server-first; never a panic.
        let (data, closed) = transmitted(&out, 1);
        if closed {
            proptest::prop_assert!(out.iter().any(|o| matches!(o, BrokerOutput::Log(_))));
        }
        let _ = frames(&data);
        // Raw garbage as a whole frame, too.
        accept(&mut c, 2, 0);
        let mut f = (bytes.len() as u32).to_be_bytes().to_vec();
        f.extend_from_slice(&bytes);
        send(&mut c, now, 2, &f);
        drain(&mut c);
    }
}
