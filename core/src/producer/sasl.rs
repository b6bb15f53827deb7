//! One connection's SASL exchange on the client, after ApiVersions and before any other
//! request, as Kafka's `SaslClientAuthenticator` (KIP-43, KIP-152, KIP-368):
//!
//! ```text
//! SaslHandshake(mechanism) ──ok──> SaslAuthenticate(first) ──> ... ──> authenticated
//!        │ UNSUPPORTED_SASL_MECHANISM     │ error code / bad server message
//!        └──────────> failed (fatal) <────┘
//! ```
//!
//! PLAIN and OAUTHBEARER take one SaslAuthenticate; SCRAM two (client-first, client-final,
//! then the server signature is checked). The session lifetime of the last response (v1+,
//! KIP-368) schedules a re-authentication on the same connection (`authenticate.rs`).
//!
//! A plain value: the caller encodes the requests, matches the responses and owns the
//! connection. Credentials live in the configuration and (SCRAM) in the exchange while it runs;
//! `Debug` shows neither.

use alloc::vec::Vec;

use super::report::{AuthenticationFailure, MechanismSet};
use super::security::SecurityConfig;
use crate::proto::ErrorCode;
use crate::proto::sasl_authenticate::SaslAuthenticateResponse;
use crate::proto::sasl_handshake::SaslHandshakeResponse;
use crate::sasl::Mechanism;
#[cfg(feature = "sasl")]
use crate::sasl::scram::{ScramClient, ScramHash};

/// What SCRAM keeps between a connection's exchanges (the salted password, RFC 5802 section
/// 5.1); nothing without the `sasl` feature.
#[cfg(feature = "sasl")]
pub(crate) type ScramCache = crate::sasl::scram::SaltedPasswordCache;
/// What SCRAM keeps between a connection's exchanges; nothing without the `sasl` feature.
#[cfg(not(feature = "sasl"))]
pub(crate) type ScramCache = ();

/// Where the exchange is.
#[derive(Debug)]
enum Step {
    /// SaslHandshake sent.
    Handshake,
    /// The one SaslAuthenticate of PLAIN or OAUTHBEARER sent.
    Single,
    /// SCRAM: client-first sent.
    #[cfg(feature = "sasl")]
    ScramFirst(ScramClient),
    /// SCRAM: client-final sent; the server's signature is checked next.
    #[cfg(feature = "sasl")]
    ScramFinal(ScramClient),
    /// Over (authenticated or failed).
    Done,
}

/// What to do after a response.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Send a SaslAuthenticate request with these bytes.
    Send(Vec<u8>),
    /// Authenticated; the session lasts this long (ms, 0: no limit).
    Authenticated {
        /// `session_lifetime_ms` of the last response (0 below v1).
        session_lifetime_ms: i64,
    },
    /// Failed: fatal for the producer.
    Failed(AuthenticationFailure),
}

/// One connection's SASL exchange.
#[derive(Debug)]
pub(crate) struct SaslExchange {
    /// The mechanism.
    pub(crate) mechanism: Mechanism,
    /// A re-authentication of an authenticated connection (KIP-368).
    pub(crate) reauth: bool,
    step: Step,
}

impl SaslExchange {
    /// An exchange that has just sent its SaslHandshake.
    pub(crate) fn new(mechanism: Mechanism, reauth: bool) -> SaslExchange {
        SaslExchange { mechanism, reauth, step: Step::Handshake }
    }

    /// Whether the exchange needs a client nonce for its first message (SCRAM).
    pub(crate) fn needs_nonce(&self) -> bool {
        matches!(self.mechanism, Mechanism::ScramSha256 | Mechanism::ScramSha512)
    }

    /// The SaslHandshake answer; `nonce` is the client nonce for SCRAM (32 random bytes from the
    /// driver's nonce source), `None` for the other mechanisms or when no source is installed.
    pub(crate) fn on_handshake(
        &mut self,
        resp: &SaslHandshakeResponse<'_>,
        security: &SecurityConfig,
        nonce: Option<[u8; 32]>,
    ) -> Progress {
        if !matches!(self.step, Step::Handshake) {
            return self.fail(AuthenticationFailure::Client(crate::sasl::SaslError::UnexpectedMessage));
        }
        let code = ErrorCode(resp.error_code);
        if code == ErrorCode::UNSUPPORTED_SASL_MECHANISM {
            let enabled = MechanismSet::from_names(resp.mechanisms.iter().copied());
            return self.fail(AuthenticationFailure::UnsupportedMechanism { enabled });
        }
        if !code.is_ok() {
            return self.fail(AuthenticationFailure::Refused(code));
        }
        let user = security.username.as_deref().unwrap_or_default();
        let password = security.password.as_ref().map_or("", |p| p.expose());
        match self.mechanism {
            Mechanism::Plain => {
                self.step = Step::Single;
                Progress::Send(crate::sasl::plain::client_message(user, password))
            }
            Mechanism::OAuthBearer => {
                let token = security.oauthbearer_token.as_ref().map_or("", |t| t.expose());
                match crate::sasl::oauthbearer::client_message(token) {
                    Ok(m) => {
                        self.step = Step::Single;
                        Progress::Send(m)
                    }
                    Err(e) => self.fail(AuthenticationFailure::Client(e)),
                }
            }
            #[cfg(feature = "sasl")]
            Mechanism::ScramSha256 | Mechanism::ScramSha512 => {
                let Some(nonce) = nonce else { return self.fail(AuthenticationFailure::NoNonceSource) };
                let hash = if self.mechanism == Mechanism::ScramSha256 { ScramHash::Sha256 } else { ScramHash::Sha512 };
                let nonce = crate::sasl::scram::nonce_from_bytes(&nonce);
                let (client, first) = ScramClient::start(hash, user, password, &nonce);
                self.step = Step::ScramFirst(client);
                Progress::Send(first)
            }
            #[cfg(not(feature = "sasl"))]
            Mechanism::ScramSha256 | Mechanism::ScramSha512 => {
                let _ = nonce;
                self.fail(AuthenticationFailure::Client(crate::sasl::SaslError::Unavailable))
            }
        }
    }

    /// A SaslAuthenticate answer (`cache`: the salted password SCRAM may reuse).
    pub(crate) fn on_authenticate(&mut self, resp: &SaslAuthenticateResponse<'_>, cache: &mut ScramCache) -> Progress {
        #[cfg(not(feature = "sasl"))]
        let () = *cache;
        let code = ErrorCode(resp.error_code);
        if !code.is_ok() {
            return self.fail(AuthenticationFailure::Refused(code));
        }
        let done = Progress::Authenticated { session_lifetime_ms: resp.session_lifetime_ms.max(0) };
        match core::mem::replace(&mut self.step, Step::Done) {
            Step::Single => done,
            #[cfg(feature = "sasl")]
            Step::ScramFirst(mut client) => match client.server_first_cached(resp.auth_bytes, cache) {
                Ok(fin) => {
                    self.step = Step::ScramFinal(client);
                    Progress::Send(fin)
                }
                Err(e) => self.fail(AuthenticationFailure::Client(e)),
            },
            #[cfg(feature = "sasl")]
            Step::ScramFinal(mut client) => match client.server_final(resp.auth_bytes) {
                Ok(()) => done,
                Err(e) => self.fail(AuthenticationFailure::Client(e)),
            },
            Step::Handshake | Step::Done => {
                self.fail(AuthenticationFailure::Client(crate::sasl::SaslError::UnexpectedMessage))
            }
        }
    }

    fn fail(&mut self, failure: AuthenticationFailure) -> Progress {
        self.step = Step::Done;
        Progress::Failed(failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sasl::SaslError;

    fn security(mechanism: Mechanism) -> SecurityConfig {
        let mut s = SecurityConfig::default();
        for (k, v) in [
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", mechanism.name()),
            ("sasl.username", "user"),
            ("sasl.password", "pencil"),
            ("sasl.oauthbearer.token", "abc.def."),
        ] {
            s.set(k, v).unwrap();
        }
        s
    }

    fn ok_handshake() -> SaslHandshakeResponse<'static> {
        SaslHandshakeResponse { error_code: 0, mechanisms: alloc::vec!["PLAIN"] }
    }

    #[test]
    fn plain_and_oauthbearer_take_one_step() {
        let mut x = SaslExchange::new(Mechanism::Plain, false);
        assert_eq!(
            x.on_handshake(&ok_handshake(), &security(Mechanism::Plain), None),
            Progress::Send(b"\0user\0pencil".to_vec())
        );
        let resp = SaslAuthenticateResponse { session_lifetime_ms: 5000, ..Default::default() };
        assert_eq!(
            x.on_authenticate(&resp, &mut ScramCache::default()),
            Progress::Authenticated { session_lifetime_ms: 5000 }
        );
        let mut x = SaslExchange::new(Mechanism::OAuthBearer, true);
        let first = x.on_handshake(&ok_handshake(), &security(Mechanism::OAuthBearer), None);
        assert_eq!(first, Progress::Send(b"n,,\x01auth=Bearer abc.def.\x01\x01".to_vec()));
    }

    #[test]
    fn failures_are_typed() {
        let mut x = SaslExchange::new(Mechanism::ScramSha256, false);
        let resp = SaslHandshakeResponse { error_code: 33, mechanisms: alloc::vec!["PLAIN", "GSSAPI", "X-CUSTOM"] };
        let Progress::Failed(AuthenticationFailure::UnsupportedMechanism { enabled }) =
            x.on_handshake(&resp, &security(Mechanism::ScramSha256), None)
        else {
            panic!()
        };
        assert_eq!(alloc::format!("{enabled}"), "PLAIN, GSSAPI and 1 mechanism(s) idem does not know");
        let mut x = SaslExchange::new(Mechanism::Plain, false);
        let _ = x.on_handshake(&ok_handshake(), &security(Mechanism::Plain), None);
        let refused = SaslAuthenticateResponse { error_code: 58, error_message: Some("bad"), ..Default::default() };
        assert_eq!(
            x.on_authenticate(&refused, &mut ScramCache::default()),
            Progress::Failed(AuthenticationFailure::Refused(ErrorCode(58)))
        );
        let mut x = SaslExchange::new(Mechanism::ScramSha512, false);
        assert_eq!(
            x.on_handshake(&ok_handshake(), &security(Mechanism::ScramSha512), None),
            Progress::Failed(AuthenticationFailure::NoNonceSource)
        );
        let mut x = SaslExchange::new(Mechanism::ScramSha256, false);
        let Progress::Send(first) = x.on_handshake(&ok_handshake(), &security(Mechanism::ScramSha256), Some([7; 32]))
        else {
            panic!()
        };
        assert!(first.starts_with(b"n,,n=user,r="));
        // A server nonce that does not extend ours.
        let hostile = SaslAuthenticateResponse { auth_bytes: b"r=zz,s=c2FsdA==,i=4096", ..Default::default() };
        assert_eq!(
            x.on_authenticate(&hostile, &mut ScramCache::default()),
            Progress::Failed(AuthenticationFailure::Client(SaslError::NonceMismatch))
        );
        assert!(
            matches!(x.on_authenticate(&hostile, &mut ScramCache::default()), Progress::Failed(_)),
            "nothing after the end"
        );
    }
}
