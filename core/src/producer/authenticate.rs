//! SASL in the producer's loop (`sasl.rs` is the exchange itself): started once ApiVersions has
//! answered, before any other request on the connection; its requests and answers; success
//! makes the connection ready and schedules the KIP-368 re-authentication; failure is fatal.
//!
//! Re-authentication, as the Java client's `SaslClientAuthenticator.ReauthInfo`: at a random
//! point between 85% and 95% of the session lifetime the broker announced, the connection stops
//! taking new requests and runs the exchange again (SaslHandshake first); the answers to
//! requests sent before still arrive first, in order, and are handled as usual. The random
//! point comes from the producer's seeded generator; the SCRAM client nonce does not: it comes
//! from the driver's nonce source (`Producer::set_nonce_source`), which the runtimes feed from
//! the operating system.

use super::conn::{ConnState, RequestKind, Versions};
use super::diagnostic::DiagnosticKind;
use super::report::FatalError;
use super::sasl::{Progress, SaslExchange};
use super::{ConnId, Producer};
use crate::debug::DebugContext;
use crate::proto::sasl_authenticate::{SaslAuthenticateRequest, SaslAuthenticateResponse};
use crate::proto::sasl_handshake::{SaslHandshakeRequest, SaslHandshakeResponse};
use crate::proto::{self, ApiKey};
use crate::sasl::Mechanism;
use crate::time::{Duration, Instant};

/// The re-authentication point: 85% of the session lifetime plus up to 10% of jitter (Java's
/// `pctWindowFactorToTakeNetworkLatencyAndClockDriftIntoAccount` and
/// `pctWindowJitterToAvoidReauthenticationStormAcrossManyChannelsSimultaneously`).
const REAUTH_AT: f64 = 0.85;
const REAUTH_JITTER: f64 = 0.10;

impl<T> Producer<T> {
    /// Starts the exchange on `conn` (after ApiVersions, or to re-authenticate).
    pub(super) fn start_sasl(
        &mut self,
        conn: ConnId,
        node: i32,
        mechanism: Mechanism,
        versions: Versions,
        reauth: bool,
    ) {
        let Some((handshake_version, _)) = versions.sasl else {
            let api = if reauth { ApiKey::SaslAuthenticate } else { ApiKey::SaslHandshake };
            self.fail_fatal(FatalError::UnsupportedBroker { api_key: api.as_i16() });
            return;
        };
        let Some(c) = self.conns.get_mut(conn) else { return };
        c.state = ConnState::Authenticating(versions);
        c.sasl = Some(SaslExchange::new(mechanism, reauth));
        c.reauth_at = None;
        let req = SaslHandshakeRequest { mechanism: mechanism.name() };
        let (now, timeout) = (self.now, self.config.request_timeout);
        match self.conns.request(conn, handshake_version, &req, RequestKind::SaslHandshake, now, timeout) {
            Ok(frame) => self.transmit(conn, frame),
            Err(_) => self.drop_conn(conn, super::diagnostic::CloseReason::Malformed),
        }
        if self.debugging(DebugContext::Broker) {
            self.diagnose(DiagnosticKind::SaslStarted { conn, node, mechanism, reauth });
        }
    }

    /// The SaslHandshake answer; false if it is garbage.
    pub(super) fn on_sasl_handshake(&mut self, conn: ConnId, node: i32, body: &[u8], version: i16) -> bool {
        let Ok((_, resp)) = proto::decode_response::<SaslHandshakeResponse>(body, version) else { return false };
        let needs_nonce = self.conns.get(conn).and_then(|c| c.sasl.as_ref()).is_some_and(SaslExchange::needs_nonce);
        let nonce = if needs_nonce { self.nonce_source.as_mut().and_then(NonceSource::next) } else { None };
        let security = &self.config.security;
        let Some(x) = self.conns.get_mut(conn).and_then(|c| c.sasl.as_mut()) else { return false };
        let progress = x.on_handshake(&resp, security, nonce);
        self.sasl_progress(conn, node, progress, None)
    }

    /// A SaslAuthenticate answer; false if it is garbage.
    pub(super) fn on_sasl_authenticate(&mut self, conn: ConnId, node: i32, body: &[u8], version: i16) -> bool {
        let Ok((_, resp)) = proto::decode_response::<SaslAuthenticateResponse>(body, version) else { return false };
        let Some(x) = self.conns.get_mut(conn).and_then(|c| c.sasl.as_mut()) else { return false };
        let progress = x.on_authenticate(&resp, &mut self.scram_cache);
        self.sasl_progress(conn, node, progress, resp.error_message)
    }

    /// Carries out what the exchange asked for.
    fn sasl_progress(&mut self, conn: ConnId, node: i32, progress: Progress, message: Option<&str>) -> bool {
        let Some(c) = self.conns.get_mut(conn) else { return false };
        let (Some(x), ConnState::Authenticating(versions)) = (c.sasl.as_ref(), c.state) else { return false };
        let (mechanism, reauth) = (x.mechanism, x.reauth);
        let (now, timeout) = (self.now, self.config.request_timeout);
        match progress {
            Progress::Send(bytes) => {
                let Some((_, version)) = versions.sasl else { return false };
                let req = SaslAuthenticateRequest { auth_bytes: &bytes };
                match self.conns.request(conn, version, &req, RequestKind::SaslAuthenticate, now, timeout) {
                    Ok(frame) => self.transmit(conn, frame),
                    Err(_) => return false,
                }
            }
            Progress::Authenticated { session_lifetime_ms } => {
                c.sasl = None;
                if session_lifetime_ms > 0 {
                    let lifetime = session_lifetime_ms.unsigned_abs().saturating_mul(1000) as f64;
                    let factor = REAUTH_AT + REAUTH_JITTER * self.rng.unit();
                    let at = now + Duration::from_micros((lifetime * factor) as u64);
                    if let Some(c) = self.conns.get_mut(conn) {
                        c.reauth_at = Some(at);
                    }
                }
                self.conns.set_ready(conn, versions);
                if reauth {
                    self.metrics.successful_reauthentications += 1;
                } else {
                    self.metrics.successful_authentications += 1;
                }
                if self.debugging(DebugContext::Broker) {
                    self.diagnose(DiagnosticKind::SaslAuthenticated {
                        conn,
                        node,
                        mechanism,
                        reauth,
                        session_lifetime_ms,
                    });
                }
                // Requests held back for this connection may go now.
                self.agenda.list_all();
            }
            Progress::Failed(failure) => {
                self.metrics.failed_authentications += 1;
                if self.debugging(DebugContext::Broker) {
                    let message = message.map(alloc::string::ToString::to_string);
                    self.diagnose(DiagnosticKind::SaslFailed { conn, node, mechanism, failure, message });
                }
                self.fail_fatal(FatalError::Authentication { mechanism, node, failure });
            }
        }
        true
    }

    /// Starts the re-authentication of every ready connection whose point has come.
    pub(super) fn reauthenticate_due(&mut self, now: Instant) {
        let Some(mechanism) = self.config.security.sasl() else { return };
        let due: alloc::vec::Vec<(ConnId, i32, Versions)> = self
            .conns
            .iter()
            .filter(|c| c.reauth_at.is_some_and(|t| t <= now))
            .filter_map(|c| match c.state {
                ConnState::Ready(v) => Some((c.id, c.node, v)),
                _ => None,
            })
            .collect();
        for (conn, node, versions) in due {
            self.start_sasl(conn, node, mechanism, versions, true);
        }
    }
}

/// Where SCRAM client nonces come from: 32 unpredictable bytes per exchange (`None`: none to
/// be had, and the authentication fails with `AuthenticationFailure::NoNonceSource`). The
/// runtimes install one reading the operating system's generator; simulations and tests
/// install a seeded one. The core never makes nonces itself.
pub struct NonceSource(alloc::boxed::Box<dyn FnMut() -> Option<[u8; 32]> + Send>);

impl NonceSource {
    /// A source calling `f` for each nonce.
    pub fn new(f: impl FnMut() -> Option<[u8; 32]> + Send + 'static) -> NonceSource {
        NonceSource(alloc::boxed::Box::new(f))
    }

    fn next(&mut self) -> Option<[u8; 32]> {
        (self.0)()
    }
}

impl core::fmt::Debug for NonceSource {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("NonceSource")
    }
}
