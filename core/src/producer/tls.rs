//! TLS on the producer's connections (`security.protocol` SSL and SASL_SSL): each connection
//! runs a client session (`crate::tls`) between the driver's bytes and the Kafka framing.
//!
//! - `Input::Connected` starts the handshake (the ClientHello is transmitted); the connection
//!   stays `Connecting`, so `socket.connection.setup.timeout.ms` covers the handshake, as in the
//!   Java client. Once it is over the connection negotiates its versions (ApiVersions), then
//!   authenticates with SASL under SASL_SSL.
//! - Every request frame is encrypted as it is handed to the driver: `Output::Transmit`
//!   carries TLS records (one contiguous buffer: encryption copies anyway).
//! - A failure about who either side is (a refused certificate, a name that does not match, a
//!   handshake the broker refused) stops the producer with `FatalError::Tls`, as the Java
//!   client's `SslAuthenticationException` does: reconnecting would fail the same way, and the
//!   records would only wait out their delivery timeout. Anything else (bytes that are not TLS,
//!   corrupt records) closes the connection, which is retried like any lost connection.
//!   Either way the alert that says why is transmitted before the close.

use alloc::sync::Arc;

use super::diagnostic::{CloseReason, DiagnosticKind};
use super::payload::Payload;
use super::report::FatalError;
use super::{ConnId, Output, Producer};
use crate::debug::DebugContext;
use crate::tls::{Failed, TlsSession};

impl<T> Producer<T> {
    /// `Input::Connected` under TLS: a session to the connection's host, its ClientHello out.
    pub(super) fn start_tls(&mut self, conn: ConnId, config: &Arc<rustls::ClientConfig>) {
        let Some(c) = self.conns.get_mut(conn) else { return };
        if !matches!(c.state, super::conn::ConnState::Connecting { .. }) || c.tls.is_some() {
            return;
        }
        match TlsSession::client(config, &c.host) {
            Ok(mut session) => {
                let hello = session.outgoing();
                c.tls = Some(session);
                if let Some(data) = hello {
                    self.out.push_back(Output::Transmit { conn, data: Payload::from(data) });
                }
            }
            Err(failed) => self.tls_failed(conn, failed, None),
        }
    }

    /// Received ciphertext: its plaintext is appended to the connection's receive buffer, the
    /// session's own records (handshake, alerts) are transmitted, and a finished handshake
    /// starts the version negotiation. False if the connection is gone.
    pub(super) fn on_tls_received(&mut self, conn: ConnId, bytes: &[u8]) -> bool {
        let Some(c) = self.conns.get_mut(conn) else { return false };
        let Some(session) = c.tls.as_mut() else { return false };
        let was_handshaking = session.is_handshaking();
        let received = session.receive(bytes, &mut c.recv);
        let out = session.outgoing();
        let established = was_handshaking && !session.is_handshaking();
        let described = established.then(|| session.describe());
        if let Err(failed) = received {
            self.tls_failed(conn, failed, out);
            return false;
        }
        if let Some(data) = out {
            self.out.push_back(Output::Transmit { conn, data: Payload::from(data) });
        }
        if let Some(session) = described {
            if self.debugging(DebugContext::Broker) {
                let node = self.conns.get(conn).map_or(i32::MIN, |c| c.node);
                self.diagnose(DiagnosticKind::TlsEstablished { conn, node, session });
            }
            self.negotiate(conn);
        }
        self.conns.get(conn).is_some()
    }

    /// A request frame as TLS records, on a TLS connection (as it is otherwise).
    pub(super) fn encrypt(&mut self, conn: ConnId, frame: Payload) -> Payload {
        let Some(session) = self.conns.get_mut(conn).and_then(|c| c.tls.as_mut()) else { return frame };
        session.send(frame.chunks());
        session.outgoing().map(Payload::from).unwrap_or_default()
    }

    /// A failed session: fatal when reconnecting would fail the same way, else the connection
    /// closes; `alert` (the session's last records) goes out before the close.
    fn tls_failed(&mut self, conn: ConnId, failed: Failed, alert: Option<alloc::vec::Vec<u8>>) {
        let Some(c) = self.conns.get(conn) else { return };
        let node = c.node;
        if self.debugging(DebugContext::Broker) {
            let host = c.host.clone();
            let Failed { failure, detail } = failed.clone();
            self.diagnose(DiagnosticKind::TlsFailed { conn, node, host, failure, detail });
        }
        if failed.failure.is_authentication() {
            if let Some(data) = alert {
                self.out.push_back(Output::Transmit { conn, data: Payload::from(data) });
            }
            self.fail_fatal(FatalError::Tls { node, failure: failed.failure });
            return;
        }
        self.drop_conn(conn, CloseReason::Tls(failed.failure));
        if let Some(data) = alert {
            let close = self.out.iter().position(|o| matches!(o, Output::Close { conn: c } if *c == conn));
            self.out.insert(close.unwrap_or(self.out.len()), Output::Transmit { conn, data: Payload::from(data) });
        }
    }
}
