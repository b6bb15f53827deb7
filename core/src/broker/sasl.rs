//! SASL on idem's broker: which mechanisms and users it accepts ([`SaslServerConfig`]) and
//! where each connection is in its authentication ([`ConnAuth`]), as Kafka's
//! `SaslServerAuthenticator` (KIP-43, KIP-152, KIP-368).
//!
//! - Until a connection has authenticated, only ApiVersions, SaslHandshake and SaslAuthenticate
//!   are answered; any other request closes the connection (Kafka's `SaslServerAuthenticator`
//!   throws `IllegalSaslStateException` on an unexpected request before authentication, and
//!   the channel is closed).
//! - A handshake naming a mechanism that is not enabled is answered UNSUPPORTED_SASL_MECHANISM
//!   with the enabled mechanisms, then the connection is closed; failed credentials are
//!   answered SASL_AUTHENTICATION_FAILED with a message, then the connection is closed (Kafka
//!   sends the response before closing since KIP-152).
//! - With a session lifetime, the SaslAuthenticate (v1+) success carries `session_lifetime_ms`
//!   (KIP-368); a client may re-authenticate on the same connection by starting again with
//!   SaslHandshake, as the same principal; a request other than those three arriving after the
//!   session expired closes the connection (Kafka's `KafkaChannel.serverAuthenticationSessionExpired`).
//!
//! Stored credentials: PLAIN compares the configured password; SCRAM keeps only salted keys
//! (`ScramCredential`, 4096 iterations, Kafka's minimum) computed once at configuration time,
//! with a salt derived from the user name (a test broker: Kafka draws a random one); the server
//! nonce is drawn from the cluster's seeded generator. OAUTHBEARER accepts any well-formed,
//! non-empty `b64token` (see [`crate::sasl::oauthbearer`]). No `Debug` shows a password.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

#[cfg(feature = "sasl")]
use crate::sasl::scram::{ScramCredential, ScramHash, ScramServer};
use crate::sasl::{Mechanism, SaslError};
use crate::time::{Duration, Instant};

/// One user the broker accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct SaslUser {
    /// The user name (the principal).
    pub name: String,
    password: String,
    #[cfg(feature = "sasl")]
    scram_sha256: ScramCredential,
    #[cfg(feature = "sasl")]
    scram_sha512: ScramCredential,
}

impl fmt::Debug for SaslUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslUser").field("name", &self.name).finish_non_exhaustive()
    }
}

impl SaslUser {
    /// A user with `password`; the SCRAM credentials are derived now (4096 iterations each).
    pub fn new(name: &str, password: &str) -> SaslUser {
        #[cfg(feature = "sasl")]
        let salt = {
            let mut s = b"idem-salt:".to_vec();
            s.extend_from_slice(name.as_bytes());
            s
        };
        SaslUser {
            name: name.to_string(),
            password: password.to_string(),
            #[cfg(feature = "sasl")]
            scram_sha256: ScramCredential::new(ScramHash::Sha256, password, &salt, crate::sasl::scram::MIN_ITERATIONS),
            #[cfg(feature = "sasl")]
            scram_sha512: ScramCredential::new(ScramHash::Sha512, password, &salt, crate::sasl::scram::MIN_ITERATIONS),
        }
    }

    /// Parses `NAME:PASSWORD` (the CLI's `--user`); the password may contain `:`.
    pub fn parse(spec: &str) -> Option<SaslUser> {
        let (name, password) = spec.split_once(':')?;
        (!name.is_empty() && !password.is_empty()).then(|| SaslUser::new(name, password))
    }
}

/// SASL required by every listener of the cluster (`sasl.enabled.mechanisms` and the users).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SaslServerConfig {
    /// The enabled mechanisms, in the order the handshake lists them (at least one).
    pub mechanisms: Vec<Mechanism>,
    /// The users PLAIN and SCRAM accept.
    pub users: Vec<SaslUser>,
    /// The session lifetime announced in SaslAuthenticate v1+ (KIP-368, Kafka's broker setting
    /// `connections.max.reauth.ms`); `None`: sessions do not expire.
    pub session_lifetime: Option<Duration>,
}

impl SaslServerConfig {
    /// The mechanism names, comma-separated (for error messages).
    pub fn mechanism_names(&self) -> String {
        let names: Vec<&str> = self.mechanisms.iter().map(|m| m.name()).collect();
        names.join(",")
    }

    /// Checks that at least one mechanism is enabled, each built in, and that PLAIN and SCRAM
    /// have users.
    pub fn validate(&self) -> Result<(), super::config::ConfigError> {
        use super::config::ConfigError;
        if self.mechanisms.is_empty() {
            return Err(ConfigError::Sasl(
                "enable at least one mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER)",
            ));
        }
        if self.mechanisms.iter().any(|m| !m.available()) {
            return Err(ConfigError::Sasl("SCRAM needs idem-core's `sasl` cargo feature"));
        }
        if self.users.is_empty() && self.mechanisms.iter().any(|m| *m != Mechanism::OAuthBearer) {
            return Err(ConfigError::Sasl("PLAIN and SCRAM need at least one user (NAME:PASSWORD)"));
        }
        Ok(())
    }

    fn user(&self, name: &str) -> Option<&SaslUser> {
        self.users.iter().find(|u| u.name == name)
    }
}

/// Where a connection is in its authentication.
#[derive(Clone, Debug, Default)]
pub(crate) enum ConnAuth {
    /// No SASL required, or authenticated: every request is served until `expires`.
    #[default]
    Open,
    /// Authenticated as `principal` until `expires` (`None`: forever).
    Authenticated {
        /// The principal, which a re-authentication must keep (KIP-368).
        principal: String,
        /// When the session ends.
        expires: Option<Instant>,
    },
    /// SASL required, no handshake yet (`reauth`: the principal of the session being renewed).
    AwaitingHandshake { reauth: Option<(String, Option<Instant>)> },
    /// Handshake done; the first SaslAuthenticate names the credentials.
    Handshaken { mechanism: Mechanism, reauth: Option<(String, Option<Instant>)> },
    /// SCRAM: server-first sent; the client-final is next.
    #[cfg(feature = "sasl")]
    ScramFinal { mechanism: Mechanism, server: ScramServer, reauth: Option<(String, Option<Instant>)> },
}

impl ConnAuth {
    /// The state of a new connection.
    pub(crate) fn new(sasl: Option<&SaslServerConfig>) -> ConnAuth {
        match sasl {
            Some(_) => ConnAuth::AwaitingHandshake { reauth: None },
            None => ConnAuth::Open,
        }
    }

    /// Whether a request other than ApiVersions and the SASL ones may be served at `now`.
    pub(crate) fn serves_requests(&self, now: Instant) -> Result<(), &'static str> {
        match self {
            ConnAuth::Open => Ok(()),
            ConnAuth::Authenticated { expires, .. } => match expires {
                Some(t) if *t <= now => Err("SASL session expired without re-authentication (KIP-368)"),
                _ => Ok(()),
            },
            _ => Err("request before SASL authentication completed"),
        }
    }
}

/// The outcome of one SaslAuthenticate step on the server.
pub(crate) enum Step {
    /// Send these bytes; more steps follow (SCRAM only).
    #[cfg_attr(not(feature = "sasl"), allow(dead_code))]
    Continue(Vec<u8>),
    /// Authenticated as this principal; send these bytes (may be empty).
    Done { principal: String, bytes: Vec<u8> },
    /// Refused: answer SASL_AUTHENTICATION_FAILED with this message, then close.
    Failed(String),
}

/// Kafka's message for failed credentials (`SaslAuthenticationException` from
/// `SaslServerAuthenticator`): "Authentication failed during authentication due to invalid
/// credentials with SASL mechanism <M>".
fn failed(mechanism: Mechanism, err: SaslError) -> Step {
    Step::Failed(match err {
        SaslError::BadCredentials => alloc::format!(
            "Authentication failed during authentication due to invalid credentials with SASL mechanism {mechanism}"
        ),
        other => alloc::format!("Authentication failed with SASL mechanism {mechanism}: {other}"),
    })
}

/// A SCRAM exchange waiting for its client-final message (never without the `sasl` feature).
#[cfg(feature = "sasl")]
pub(crate) type ScramState = Option<ScramServer>;
/// A SCRAM exchange waiting for its client-final message (never without the `sasl` feature).
#[cfg(not(feature = "sasl"))]
pub(crate) type ScramState = Option<core::convert::Infallible>;

/// The first SaslAuthenticate of `mechanism` with the client's `bytes`; `server_nonce` for
/// SCRAM. Returns the step and, for SCRAM, the server to keep for the final message.
pub(crate) fn first_step(
    config: &SaslServerConfig,
    mechanism: Mechanism,
    bytes: &[u8],
    server_nonce: &str,
) -> (Step, ScramState) {
    match mechanism {
        Mechanism::Plain => {
            let r = crate::sasl::plain::server_verify(bytes, |u| config.user(u).map(|u| u.password.as_str()));
            match r {
                Ok(user) => (Step::Done { principal: user.to_string(), bytes: Vec::new() }, None),
                Err(e) => (failed(mechanism, e), None),
            }
        }
        Mechanism::OAuthBearer => match crate::sasl::oauthbearer::server_token(bytes) {
            Ok(_) => (Step::Done { principal: "oauthbearer".to_string(), bytes: Vec::new() }, None),
            Err(e) => (failed(mechanism, e), None),
        },
        #[cfg(feature = "sasl")]
        Mechanism::ScramSha256 | Mechanism::ScramSha512 => {
            let hash = if mechanism == Mechanism::ScramSha256 { ScramHash::Sha256 } else { ScramHash::Sha512 };
            let lookup = |u: &str| {
                config.user(u).map(|u| if hash == ScramHash::Sha256 { &u.scram_sha256 } else { &u.scram_sha512 })
            };
            match ScramServer::client_first(hash, bytes, lookup, server_nonce) {
                Ok((server, out)) => (Step::Continue(out), Some(server)),
                Err(e) => (failed(mechanism, e), None),
            }
        }
        #[cfg(not(feature = "sasl"))]
        Mechanism::ScramSha256 | Mechanism::ScramSha512 => {
            let _ = server_nonce;
            (failed(mechanism, SaslError::Unavailable), None)
        }
    }
}

/// SCRAM's client-final on the server.
#[cfg(feature = "sasl")]
pub(crate) fn scram_final(mechanism: Mechanism, server: &ScramServer, bytes: &[u8]) -> Step {
    match server.client_final(bytes) {
        Ok((user, out)) => Step::Done { principal: user.to_string(), bytes: out },
        Err(e) => failed(mechanism, e),
    }
}
