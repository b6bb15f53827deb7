//! SASL mechanisms, both sides: the client steps the producer runs on each connection
//! (`producer/sasl.rs`) and the server steps idem's broker runs (`broker/sasl.rs`).
//!
//! Pure functions of their inputs: no clock and no randomness of their own. A SCRAM client nonce
//! and a SCRAM server nonce are handed in by the caller (the runtimes draw the client's from the
//! operating system; see `idem_runtime`), so the same inputs give the same bytes.
//!
//! - [`plain`]: PLAIN (RFC 4616), as Kafka's `PlainSaslServer` (KIP-43).
//! - [`scram`]: SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677), as Kafka's
//!   `ScramSaslClient` / `ScramSaslServer` (KIP-84). Needs the `sasl` cargo feature (SHA-2,
//!   HMAC, PBKDF2 and base64, all pure Rust and `no_std`).
//! - [`oauthbearer`]: OAUTHBEARER's client initial response (RFC 7628), as Kafka's
//!   `OAuthBearerSaslClient` / `OAuthBearerSaslServer` (KIP-255).
//!
//! Nothing here puts a password, a salted password, a proof or a token into an error, a
//! `Debug` output or a `Display` output.

use core::fmt;

pub mod oauthbearer;
pub mod plain;
#[cfg(feature = "sasl")]
pub mod scram;

/// A SASL mechanism idem speaks, by Kafka's name (`sasl.mechanism`, `sasl.enabled.mechanisms`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mechanism {
    /// `PLAIN` (RFC 4616): user name and password in clear (use TLS in production).
    Plain,
    /// `SCRAM-SHA-256` (RFC 7677).
    ScramSha256,
    /// `SCRAM-SHA-512` (RFC 5802 with SHA-512, KIP-84).
    ScramSha512,
    /// `OAUTHBEARER` (RFC 7628, KIP-255).
    OAuthBearer,
}

impl Mechanism {
    /// Every mechanism idem speaks.
    pub const ALL: [Mechanism; 4] =
        [Mechanism::Plain, Mechanism::ScramSha256, Mechanism::ScramSha512, Mechanism::OAuthBearer];

    /// Kafka's (and IANA's) name of the mechanism.
    pub const fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha512 => "SCRAM-SHA-512",
            Mechanism::OAuthBearer => "OAUTHBEARER",
        }
    }

    /// The mechanism of a name (exact, upper case as Kafka writes them), if idem speaks it.
    pub fn from_name(name: &str) -> Option<Mechanism> {
        Mechanism::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Whether this build can run the mechanism: SCRAM needs the `sasl` cargo feature.
    pub const fn available(self) -> bool {
        match self {
            Mechanism::ScramSha256 | Mechanism::ScramSha512 => cfg!(feature = "sasl"),
            Mechanism::Plain | Mechanism::OAuthBearer => true,
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a SASL exchange failed on this side (client or server). Never carries a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaslError {
    /// The peer's message does not parse as the mechanism's syntax says; names what is wrong.
    Malformed(&'static str),
    /// The credentials were refused (unknown user, wrong password, bad client proof, empty or
    /// illegal token).
    BadCredentials,
    /// SCRAM: the server's nonce does not start with the client's (RFC 5802 section 5.1, `r`).
    NonceMismatch,
    /// SCRAM: the server's iteration count is below the mechanism's minimum (4096, Kafka's
    /// `ScramMechanism.minIterations`), which would weaken the salted password.
    TooFewIterations,
    /// SCRAM: the server's signature does not verify: the server does not know the password.
    BadServerSignature,
    /// SCRAM: the server answered with an error attribute (`e=`).
    ServerError,
    /// A message arrived after the exchange had finished, or before it started.
    UnexpectedMessage,
    /// The mechanism needs the `sasl` cargo feature, which this build lacks.
    Unavailable,
}

impl fmt::Display for SaslError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaslError::Malformed(what) => write!(f, "malformed SASL message: {what}"),
            SaslError::BadCredentials => f.write_str("invalid credentials"),
            SaslError::NonceMismatch => f.write_str("SCRAM server nonce does not extend the client nonce"),
            SaslError::TooFewIterations => f.write_str("SCRAM iteration count below 4096"),
            SaslError::BadServerSignature => f.write_str("SCRAM server signature does not verify"),
            SaslError::ServerError => f.write_str("SCRAM server sent an error"),
            SaslError::UnexpectedMessage => f.write_str("SASL message out of sequence"),
            SaslError::Unavailable => f.write_str("SASL mechanism not built in (cargo feature `sasl`)"),
        }
    }
}

impl core::error::Error for SaslError {}
