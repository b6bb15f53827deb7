//! SaslHandshake and SaslAuthenticate, and the gate that keeps every other request out until a
//! connection has authenticated (see `broker/sasl.rs` for the rules and their Kafka sources).

use alloc::format;
use alloc::string::{String, ToString};

use crate::broker::cluster::{Cluster, Reply, malformed, respond};
use crate::broker::conn::ConnId;
use crate::broker::sasl::{self, ConnAuth, Step};
use crate::debug::DebugContext;
use crate::proto::sasl_authenticate::{SaslAuthenticateRequest, SaslAuthenticateResponse};
use crate::proto::sasl_handshake::{SaslHandshakeRequest, SaslHandshakeResponse};
use crate::proto::{ApiKey, ErrorCode, Message, Reader};
use crate::sasl::Mechanism;

/// The oldest SaslHandshake version served: v0 (raw SASL tokens after the handshake, KIP-43)
/// was removed in Kafka 4.0 (KIP-896); v1 (KIP-152) is what current clients send.
pub(crate) const FIRST_HANDSHAKE_VERSION: i16 = 1;

impl Cluster {
    /// Refuses (closing the connection) any request but ApiVersions, SaslHandshake and
    /// SaslAuthenticate until `conn` has authenticated, or once its session has expired.
    pub(crate) fn sasl_gate(&mut self, conn: ConnId, key: ApiKey) -> Result<(), String> {
        if matches!(key, ApiKey::ApiVersions | ApiKey::SaslHandshake | ApiKey::SaslAuthenticate) {
            return Ok(());
        }
        let now = self.now;
        let Some(c) = self.conns.get(&conn) else { return Ok(()) };
        c.auth.serves_requests(now).map_err(|why| {
            self.stats.sasl_refused += 1;
            format!("{} request refused: {why}", key.name())
        })
    }

    /// Answers SaslHandshake: the mechanism is enabled (the exchange may start, or restart for a
    /// KIP-368 re-authentication of an authenticated connection), or UNSUPPORTED_SASL_MECHANISM
    /// listing the enabled ones and the connection closes.
    pub(crate) fn sasl_handshake(
        &mut self,
        conn: ConnId,
        v: i16,
        corr: i32,
        r: &mut Reader<'_>,
    ) -> Result<Reply, String> {
        if v < FIRST_HANDSHAKE_VERSION {
            return Err("SaslHandshake v0 (raw SASL tokens) is not served (removed in Kafka 4.0, KIP-896)".into());
        }
        let req = SaslHandshakeRequest::decode(r, v).map_err(malformed(ApiKey::SaslHandshake, v))?;
        let Some(config) = self.config.sasl.clone() else {
            // A listener without SASL: Kafka's `KafkaApis.handleSaslHandshakeRequest`.
            let body = SaslHandshakeResponse { error_code: ErrorCode::ILLEGAL_SASL_STATE.0, mechanisms: alloc::vec![] };
            return respond(corr, v, &body);
        };
        let Some(c) = self.conns.get_mut(&conn) else { return Ok(Reply::Nothing) };
        let reauth = match core::mem::take(&mut c.auth) {
            ConnAuth::AwaitingHandshake { reauth } => reauth,
            ConnAuth::Authenticated { principal, expires } => Some((principal, expires)),
            _ => return Err("SaslHandshake in the middle of a SASL exchange (ILLEGAL_SASL_STATE)".into()),
        };
        let mechanisms = config.mechanisms.iter().map(|m| m.name()).collect();
        match Mechanism::from_name(req.mechanism).filter(|m| config.mechanisms.contains(m)) {
            Some(mechanism) => {
                c.auth = ConnAuth::Handshaken { mechanism, reauth };
                respond(corr, v, &SaslHandshakeResponse { error_code: ErrorCode::NONE.0, mechanisms })
            }
            None => {
                self.stats.sasl_failures += 1;
                let (name, enabled) = (req.mechanism.to_string(), config.mechanism_names());
                self.log(format!("connection {}: unsupported SASL mechanism `{name}` (enabled: {enabled})", conn.0));
                let body = SaslHandshakeResponse { error_code: ErrorCode::UNSUPPORTED_SASL_MECHANISM.0, mechanisms };
                respond_then_close(corr, v, &body)
            }
        }
    }

    /// Answers SaslAuthenticate: one step of the mechanism chosen by the handshake; success
    /// authenticates the connection (with the session lifetime when configured), failure is
    /// answered SASL_AUTHENTICATION_FAILED and the connection closes.
    pub(crate) fn sasl_authenticate(
        &mut self,
        conn: ConnId,
        v: i16,
        corr: i32,
        r: &mut Reader<'_>,
    ) -> Result<Reply, String> {
        let req = SaslAuthenticateRequest::decode(r, v).map_err(malformed(ApiKey::SaslAuthenticate, v))?;
        let Some(config) = self.config.sasl.clone() else {
            let body = SaslAuthenticateResponse {
                error_code: ErrorCode::ILLEGAL_SASL_STATE.0,
                error_message: Some("SaslAuthenticate on a listener without SASL"),
                ..Default::default()
            };
            return respond(corr, v, &body);
        };
        let nonce = format!("{:016x}{:016x}", self.rng.next_u64(), self.rng.next_u64());
        let Some(c) = self.conns.get_mut(&conn) else { return Ok(Reply::Nothing) };
        let (mechanism, reauth, step) = match core::mem::take(&mut c.auth) {
            ConnAuth::Handshaken { mechanism, reauth } => {
                let (step, scram) = sasl::first_step(&config, mechanism, req.auth_bytes, &nonce);
                #[cfg(feature = "sasl")]
                if let (Step::Continue(_), Some(server)) = (&step, scram) {
                    c.auth = ConnAuth::ScramFinal { mechanism, server, reauth: reauth.clone() };
                }
                #[cfg(not(feature = "sasl"))]
                let _ = scram;
                (mechanism, reauth, step)
            }
            #[cfg(feature = "sasl")]
            ConnAuth::ScramFinal { mechanism, server, reauth } => {
                (mechanism, reauth, sasl::scram_final(mechanism, &server, req.auth_bytes))
            }
            _ => return Err("SaslAuthenticate without a SaslHandshake (ILLEGAL_SASL_STATE)".into()),
        };
        let lifetime = config.session_lifetime;
        let now = self.now;
        let step = match step {
            // KIP-368: "the principal must not change" on re-authentication.
            Step::Done { principal, .. } if reauth.as_ref().is_some_and(|(p, _)| *p != principal) => {
                Step::Failed("Cannot change principals during re-authentication".into())
            }
            other => other,
        };
        match step {
            Step::Continue(bytes) => {
                let body = SaslAuthenticateResponse { auth_bytes: &bytes, ..Default::default() };
                respond(corr, v, &body)
            }
            Step::Done { principal, bytes } => {
                let expires = lifetime.map(|d| now + d);
                if reauth.is_some() {
                    self.stats.sasl_reauthentications += 1;
                } else {
                    self.stats.sasl_authentications += 1;
                }
                let broker = c.broker_id;
                self.debug(DebugContext::Broker, || {
                    let again = if reauth.is_some() { "re-authenticated" } else { "authenticated" };
                    format!("broker {broker}: connection {} {again} as `{principal}` with {mechanism}", conn.0)
                });
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.auth = ConnAuth::Authenticated { principal, expires };
                }
                let session_lifetime_ms = lifetime.map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
                let body = SaslAuthenticateResponse { auth_bytes: &bytes, session_lifetime_ms, ..Default::default() };
                respond(corr, v, &body)
            }
            Step::Failed(message) => {
                self.stats.sasl_failures += 1;
                self.log(format!("connection {}: {message}", conn.0));
                let body = SaslAuthenticateResponse {
                    error_code: ErrorCode::SASL_AUTHENTICATION_FAILED.0,
                    error_message: Some(&message),
                    ..Default::default()
                };
                respond_then_close(corr, v, &body)
            }
        }
    }
}

/// A response, after which the connection is closed (as Kafka closes it after a SASL failure).
fn respond_then_close<'a, M: Message<'a>>(corr: i32, v: i16, body: &M) -> Result<Reply, String> {
    match respond(corr, v, body)? {
        Reply::Respond(data) => Ok(Reply::RespondThenClose(data)),
        other => Ok(other),
    }
}
