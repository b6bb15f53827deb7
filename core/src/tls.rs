//! TLS as a sans-IO layer over one connection's bytes, for the producer (client) and the
//! in-memory broker (server), with [rustls] 0.23 and its `ring` crypto provider.
//!
//! - **Why ring**: it builds with nothing but a C compiler; rustls's other provider, aws-lc-rs,
//!   also needs CMake (and on some targets NASM, Go or bindgen). ring offers what Kafka clusters
//!   negotiate: TLS 1.2 and 1.3, AES-GCM and ChaCha20-Poly1305, ECDSA, Ed25519 and RSA
//!   certificates.
//! - **No clock, no randomness of its own choosing**: certificate validity is checked against
//!   the wall clock the driver installs ([`TimeProvider`]; idem's runtimes give the system
//!   clock, a simulation a fixed time). The crypto provider is the driver's choice too
//!   ([`ClientTlsSettings::crypto`]); ring's default draws from the operating system, as key
//!   material must.
//! - **Settings by Kafka's names**: the PEM strings of `ssl.ca.pem`, `ssl.certificate.pem` and
//!   `ssl.key.pem`, and `ssl.endpoint.identification.algorithm` (`https`: the broker's
//!   certificate must name the host connected to; `none`: any name). Files
//!   (`ssl.*.location`) are read by the runtimes, which hand their contents here: this crate
//!   does no I/O. Without a CA the client trusts the roots the driver supplies
//!   ([`ClientTlsSettings::roots`]; the runtimes load the system's).
//! - **A session** ([`TlsSession`], crate-internal) turns received ciphertext into plaintext and
//!   plaintext into records to transmit. A failed session says why ([`TlsFailure`]) and leaves
//!   an alert to transmit before closing.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use std::io::{Read, Write};

pub use rustls;
pub use rustls::crypto::CryptoProvider;
pub use rustls::pki_types::{CertificateDer, UnixTime};
pub use rustls::time_provider::TimeProvider;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig,
    SignatureScheme,
};

/// A setting whose value could not be made into a TLS configuration; names the setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsConfigError {
    /// The setting to change (`ssl.ca.pem`, `ssl.key.pem`, ... or the broker's option).
    pub setting: &'static str,
    /// Why (never the value: it may be a private key).
    pub reason: String,
}

impl fmt::Display for TlsConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.setting, self.reason)
    }
}

impl core::error::Error for TlsConfigError {}

fn config_error(setting: &'static str, reason: impl ToString) -> TlsConfigError {
    TlsConfigError { setting, reason: reason.to_string() }
}

/// A client's TLS settings (the producer's `ssl.*` settings and what the driver supplies).
///
/// [`client_config`](Self::client_config) makes the rustls configuration once; a mistake names
/// the setting. A private key is never shown by `Debug`.
#[derive(Clone)]
pub struct ClientTlsSettings {
    /// `ssl.ca.pem`: the certificates (PEM) that may sign the broker's chain. `None`: the
    /// [`roots`](Self::roots).
    pub ca_pem: Option<String>,
    /// Trust anchors used when there is no `ssl.ca.pem` (the runtimes load the system's).
    pub roots: Vec<CertificateDer<'static>>,
    /// `ssl.certificate.pem`: the client's certificate chain (PEM), for brokers that require
    /// client certificates (`ssl.client.auth=required`).
    pub certificate_pem: Option<String>,
    /// `ssl.key.pem`: the client certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1;
    /// unencrypted).
    pub key_pem: Option<String>,
    /// `ssl.endpoint.identification.algorithm`: `true` (`https`, the default, as Kafka's since
    /// 2.0 and librdkafka's since 2.0) checks that the broker's certificate names the host
    /// connected to; `false` (`none`) accepts any name (the chain is still verified).
    pub verify_hostname: bool,
    /// The wall clock certificates are checked against. Required: this crate reads no clock.
    pub wall_clock: Option<Arc<dyn TimeProvider>>,
    /// The crypto provider; `None`: ring's default.
    pub crypto: Option<Arc<CryptoProvider>>,
    /// A complete rustls configuration to use as it is, instead of everything above (custom
    /// verifiers, resumption, key logging).
    pub client_config: Option<Arc<ClientConfig>>,
}

impl fmt::Debug for ClientTlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTlsSettings")
            .field("ca_pem", &self.ca_pem.as_ref().map(|p| p.len()))
            .field("roots", &self.roots.len())
            .field("certificate_pem", &self.certificate_pem.as_ref().map(|p| p.len()))
            .field("key_pem", &self.key_pem.as_ref().map(|_| "[redacted]"))
            .field("verify_hostname", &self.verify_hostname)
            .field("wall_clock", &self.wall_clock.is_some())
            .field("crypto", &self.crypto.is_some())
            .field("client_config", &self.client_config.is_some())
            .finish()
    }
}

impl PartialEq for ClientTlsSettings {
    fn eq(&self, other: &Self) -> bool {
        fn same<T: ?Sized>(a: &Option<Arc<T>>, b: &Option<Arc<T>>) -> bool {
            match (a, b) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            }
        }
        self.ca_pem == other.ca_pem
            && self.roots == other.roots
            && self.certificate_pem == other.certificate_pem
            && self.key_pem == other.key_pem
            && self.verify_hostname == other.verify_hostname
            && same(&self.wall_clock, &other.wall_clock)
            && same(&self.crypto, &other.crypto)
            && same(&self.client_config, &other.client_config)
    }
}

impl Eq for ClientTlsSettings {}

impl Default for ClientTlsSettings {
    /// Hostname verification on, nothing else set.
    fn default() -> Self {
        ClientTlsSettings {
            ca_pem: None,
            roots: Vec::new(),
            certificate_pem: None,
            key_pem: None,
            verify_hostname: true,
            wall_clock: None,
            crypto: None,
            client_config: None,
        }
    }
}

impl ClientTlsSettings {
    /// Defaults: hostname verification on, nothing else set.
    pub fn new() -> Self {
        ClientTlsSettings::default()
    }

    /// The rustls client configuration these settings describe.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsConfigError> {
        if let Some(c) = &self.client_config {
            return Ok(c.clone());
        }
        let clock = self.wall_clock.clone().ok_or_else(|| {
            config_error(
                "ssl.ca.pem",
                "TLS needs a wall clock to check certificates (ClientTlsSettings::wall_clock; idem's runtimes \
                 install the system clock)",
            )
        })?;
        match (&self.certificate_pem, &self.key_pem) {
            (Some(_), None) => return Err(config_error("ssl.key.pem", "a client certificate needs its private key")),
            (None, Some(_)) => {
                return Err(config_error("ssl.certificate.pem", "a private key needs its client certificate"));
            }
            _ => {}
        }
        let provider = self.crypto.clone().unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
        let mut roots = RootCertStore::empty();
        match &self.ca_pem {
            Some(pem) => {
                for cert in certificates("ssl.ca.pem", pem)? {
                    roots.add(cert).map_err(|e| config_error("ssl.ca.pem", e))?;
                }
            }
            None => {
                let (added, _) = roots.add_parsable_certificates(self.roots.iter().cloned());
                if added == 0 {
                    return Err(config_error(
                        "ssl.ca.location",
                        "no CA certificate to verify brokers with: set ssl.ca.location or ssl.ca.pem (no system \
                         roots were found)",
                    ));
                }
            }
        }
        let roots = Arc::new(roots);
        let verifier = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(|e| config_error("ssl.ca.pem", e))?;
        let builder = ClientConfig::builder_with_details(provider, clock)
            .with_safe_default_protocol_versions()
            .map_err(|e| config_error("ssl.ca.pem", e))?;
        let builder = if self.verify_hostname {
            builder.with_webpki_verifier(verifier)
        } else {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(AnyName(verifier)))
        };
        let config = match (&self.certificate_pem, &self.key_pem) {
            (Some(cert), Some(key)) => {
                let chain = certificates("ssl.certificate.pem", cert)?;
                let key = private_key("ssl.key.pem", key)?;
                builder.with_client_auth_cert(chain, key).map_err(|e| config_error("ssl.key.pem", e))?
            }
            _ => builder.with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }
}

/// A server's TLS settings (the in-memory broker's listener).
#[derive(Clone)]
pub struct ServerTlsSettings {
    /// The server's certificate chain (PEM), leaf first.
    pub certificate_pem: String,
    /// Its private key (PEM). Never shown by `Debug`.
    pub key_pem: String,
    /// When set, clients must present a certificate signed by one of these (PEM), as Kafka's
    /// `ssl.client.auth=required`.
    pub client_ca_pem: Option<String>,
    /// The wall clock client certificates are checked against (only needed with
    /// [`client_ca_pem`](Self::client_ca_pem)).
    pub wall_clock: Option<Arc<dyn TimeProvider>>,
    /// The crypto provider; `None`: ring's default.
    pub crypto: Option<Arc<CryptoProvider>>,
}

impl fmt::Debug for ServerTlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTlsSettings")
            .field("certificate_pem", &self.certificate_pem.len())
            .field("key_pem", &"[redacted]")
            .field("client_ca_pem", &self.client_ca_pem.as_ref().map(|p| p.len()))
            .finish_non_exhaustive()
    }
}

impl ServerTlsSettings {
    /// A server presenting `certificate_pem` with `key_pem`, not asking for client certificates.
    pub fn new(certificate_pem: &str, key_pem: &str) -> Self {
        ServerTlsSettings {
            certificate_pem: certificate_pem.to_string(),
            key_pem: key_pem.to_string(),
            client_ca_pem: None,
            wall_clock: None,
            crypto: None,
        }
    }

    /// The rustls server configuration these settings describe.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsConfigError> {
        let provider = self.crypto.clone().unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
        let chain = certificates("tls-cert", &self.certificate_pem)?;
        let key = private_key("tls-key", &self.key_pem)?;
        let clock: Arc<dyn TimeProvider> = match (&self.wall_clock, &self.client_ca_pem) {
            (Some(c), _) => c.clone(),
            (None, None) => Arc::new(NoClock),
            (None, Some(_)) => {
                return Err(config_error("tls-client-ca", "checking client certificates needs a wall clock"));
            }
        };
        let builder = ServerConfig::builder_with_details(provider.clone(), clock)
            .with_safe_default_protocol_versions()
            .map_err(|e| config_error("tls-cert", e))?;
        let builder = match &self.client_ca_pem {
            None => builder.with_no_client_auth(),
            Some(pem) => {
                let mut roots = RootCertStore::empty();
                for cert in certificates("tls-client-ca", pem)? {
                    roots.add(cert).map_err(|e| config_error("tls-client-ca", e))?;
                }
                let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .map_err(|e| config_error("tls-client-ca", e))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder.with_single_cert(chain, key).map_err(|e| config_error("tls-key", e))?;
        // No session resumption: the in-memory broker has no use for it, and without tickets
        // a server that checks no client certificate never needs the time.
        config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        config.send_tls13_tickets = 0;
        Ok(Arc::new(config))
    }
}

/// A server that checks no client certificate needs no clock: rustls asks only to stamp
/// session tickets, which the server does not issue.
#[derive(Debug)]
struct NoClock;

impl TimeProvider for NoClock {
    fn current_time(&self) -> Option<UnixTime> {
        None
    }
}

/// The certificates of a PEM string (at least one).
fn certificates(setting: &'static str, pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| config_error(setting, alloc::format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(config_error(setting, "no PEM certificate (-----BEGIN CERTIFICATE-----) found"));
    }
    Ok(certs)
}

/// The private key of a PEM string.
fn private_key(setting: &'static str, pem: &str) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    if pem.contains("ENCRYPTED PRIVATE KEY") {
        return Err(config_error(setting, "encrypted private keys are not supported: give the key unencrypted"));
    }
    PrivateKeyDer::from_pem_slice(pem.as_bytes())
        .map_err(|_| config_error(setting, "no PEM private key (PKCS#8, PKCS#1 or SEC1) found"))
}

/// `ssl.endpoint.identification.algorithm=none`: the chain is verified, the name is not.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// What was wrong with a peer's certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificateProblem {
    /// Not signed by a trusted CA (`ssl.ca.*`).
    UnknownIssuer,
    /// Past its validity.
    Expired,
    /// Before its validity.
    NotYetValid,
    /// It does not name the host connected to (`ssl.endpoint.identification.algorithm`).
    NotValidForName,
    /// Revoked.
    Revoked,
    /// A signature in the chain does not verify.
    BadSignature,
    /// The peer presented none where one is required.
    NotPresented,
    /// Anything else about it (malformed, wrong purpose, unsupported algorithm).
    Other,
}

impl fmt::Display for CertificateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CertificateProblem::UnknownIssuer => "its certificate is not signed by a trusted CA (ssl.ca.location)",
            CertificateProblem::Expired => "its certificate has expired",
            CertificateProblem::NotYetValid => "its certificate is not valid yet",
            CertificateProblem::NotValidForName => {
                "its certificate does not name the host connected to (ssl.endpoint.identification.algorithm)"
            }
            CertificateProblem::Revoked => "its certificate is revoked",
            CertificateProblem::BadSignature => "its certificate's signature does not verify",
            CertificateProblem::NotPresented => "it presented no certificate",
            CertificateProblem::Other => "its certificate is not acceptable",
        })
    }
}

/// Why a TLS session failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsFailure {
    /// This side refused the peer's certificate.
    Certificate(CertificateProblem),
    /// The peer ended the handshake with this alert (TLS alert description code): for a client
    /// whose certificate the broker refused, `bad_certificate` (42), `unknown_ca` (48) or
    /// `certificate_required` (116); `handshake_failure` (40) or `protocol_version` (70) when
    /// the two sides share no cipher suite or version.
    PeerAlert(u8),
    /// The host name is neither a DNS name nor an IP address, so it cannot be verified.
    InvalidServerName,
    /// The peer's bytes are not TLS, or are corrupt (for instance a plaintext peer).
    Protocol,
}

impl TlsFailure {
    /// Whether the failure is about who the peer or this side is (a certificate, a name, or a
    /// handshake the peer refused), so that reconnecting would fail the same way: the Java
    /// client's `SslAuthenticationException`. Corrupt or non-TLS bytes are not.
    pub fn is_authentication(self) -> bool {
        match self {
            TlsFailure::Certificate(_) | TlsFailure::InvalidServerName => true,
            TlsFailure::PeerAlert(a) => matches!(
                AlertDescription::from(a),
                AlertDescription::HandshakeFailure
                    | AlertDescription::BadCertificate
                    | AlertDescription::UnsupportedCertificate
                    | AlertDescription::CertificateRevoked
                    | AlertDescription::CertificateExpired
                    | AlertDescription::CertificateUnknown
                    | AlertDescription::UnknownCA
                    | AlertDescription::AccessDenied
                    | AlertDescription::ProtocolVersion
                    | AlertDescription::InsufficientSecurity
                    | AlertDescription::UnrecognisedName
                    | AlertDescription::CertificateRequired
            ),
            TlsFailure::Protocol => false,
        }
    }

    fn of(e: &rustls::Error) -> TlsFailure {
        match e {
            rustls::Error::InvalidCertificate(c) => TlsFailure::Certificate(match c {
                CertificateError::UnknownIssuer => CertificateProblem::UnknownIssuer,
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => CertificateProblem::Expired,
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    CertificateProblem::NotYetValid
                }
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    CertificateProblem::NotValidForName
                }
                CertificateError::Revoked => CertificateProblem::Revoked,
                CertificateError::BadSignature => CertificateProblem::BadSignature,
                _ => CertificateProblem::Other,
            }),
            rustls::Error::NoCertificatesPresented => TlsFailure::Certificate(CertificateProblem::NotPresented),
            rustls::Error::AlertReceived(a) => TlsFailure::PeerAlert(u8::from(*a)),
            _ => TlsFailure::Protocol,
        }
    }
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsFailure::Certificate(p) => write!(f, "the peer's certificate was refused: {p}"),
            TlsFailure::PeerAlert(a) => {
                write!(f, "the peer refused the handshake ({:?})", AlertDescription::from(*a))?;
                if matches!(AlertDescription::from(*a), AlertDescription::CertificateRequired) {
                    f.write_str(": it requires a client certificate (ssl.certificate.location)")?;
                } else if matches!(
                    AlertDescription::from(*a),
                    AlertDescription::BadCertificate | AlertDescription::UnknownCA
                ) {
                    f.write_str(": it does not accept this client certificate")?;
                }
                Ok(())
            }
            TlsFailure::InvalidServerName => f.write_str("the host is neither a DNS name nor an IP address"),
            TlsFailure::Protocol => f.write_str("the peer does not speak TLS, or its bytes are corrupt"),
        }
    }
}

impl core::error::Error for TlsFailure {}

/// A failed session: why, and rustls's own words (for diagnostics).
#[derive(Clone, Debug)]
pub(crate) struct Failed {
    pub(crate) failure: TlsFailure,
    pub(crate) detail: String,
}

impl From<rustls::Error> for Failed {
    fn from(e: rustls::Error) -> Failed {
        Failed { failure: TlsFailure::of(&e), detail: e.to_string() }
    }
}

/// What [`TlsSession::receive`] found besides plaintext.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Received {
    /// The peer sent close_notify: nothing more will come.
    pub(crate) peer_closed: bool,
}

/// One connection's TLS session (client or server): ciphertext in, plaintext out, and back.
pub(crate) struct TlsSession {
    conn: rustls::Connection,
}

impl fmt::Debug for TlsSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSession").field("handshaking", &self.conn.is_handshaking()).finish()
    }
}

impl TlsSession {
    /// A client session to `host` (SNI and the name verified); its ClientHello is in
    /// [`outgoing`](Self::outgoing).
    pub(crate) fn client(config: &Arc<ClientConfig>, host: &str) -> Result<TlsSession, Failed> {
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| Failed { failure: TlsFailure::InvalidServerName, detail: alloc::format!("`{host}`: {e}") })?;
        let conn = rustls::ClientConnection::new(config.clone(), name)?;
        Ok(TlsSession::ready(conn.into()))
    }

    /// A server session for one accepted connection.
    pub(crate) fn server(config: &Arc<ServerConfig>) -> Result<TlsSession, Failed> {
        let conn = rustls::ServerConnection::new(config.clone())?;
        Ok(TlsSession::ready(conn.into()))
    }

    fn ready(mut conn: rustls::Connection) -> TlsSession {
        // Requests and responses are framed above; each is encrypted and drained at once, so
        // rustls need not bound what it holds.
        conn.set_buffer_limit(None);
        TlsSession { conn }
    }

    /// Whether the handshake is still running (no application data may be sent yet).
    pub(crate) fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// Takes in received ciphertext (any chunking) and appends the plaintext it carries to
    /// `plain`. On failure the connection must be closed after transmitting
    /// [`outgoing`](Self::outgoing) (the alert telling the peer why).
    pub(crate) fn receive(&mut self, mut bytes: &[u8], plain: &mut Vec<u8>) -> Result<Received, Failed> {
        let mut peer_closed = false;
        while !bytes.is_empty() {
            // An empty reader would mean end of stream to rustls: only read while bytes remain.
            match self.conn.read_tls(&mut bytes) {
                Ok(_) => {}
                Err(e) => return Err(Failed { failure: TlsFailure::Protocol, detail: e.to_string() }),
            }
            let state = self.conn.process_new_packets()?;
            let n = state.plaintext_bytes_to_read();
            if n > 0 {
                let start = plain.len();
                plain.resize(start + n, 0);
                let read = self.conn.reader().read_exact(plain.get_mut(start..).unwrap_or_default());
                read.map_err(|e| Failed { failure: TlsFailure::Protocol, detail: e.to_string() })?;
            }
            peer_closed |= state.peer_has_closed();
        }
        Ok(Received { peer_closed })
    }

    /// Encrypts application data (the handshake must be over).
    pub(crate) fn send<'a>(&mut self, chunks: impl IntoIterator<Item = &'a [u8]>) {
        let mut writer = self.conn.writer();
        for chunk in chunks {
            // Unbounded (see `ready`): the whole chunk is taken.
            let _ = writer.write_all(chunk);
        }
    }

    /// The negotiated protocol version and cipher suite, once the handshake is over
    /// (`TLSv1_3 TLS13_AES_128_GCM_SHA256`).
    pub(crate) fn describe(&self) -> String {
        match (self.conn.protocol_version(), self.conn.negotiated_cipher_suite()) {
            (Some(v), Some(c)) => alloc::format!("{v:?} {:?}", c.suite()),
            _ => String::from("handshake not finished"),
        }
    }

    /// Queues close_notify (then drain [`outgoing`](Self::outgoing)).
    #[cfg(test)]
    pub(crate) fn close(&mut self) {
        self.conn.send_close_notify();
    }

    /// The TLS records to transmit now (handshake messages, alerts, encrypted data), if any.
    pub(crate) fn outgoing(&mut self) -> Option<Vec<u8>> {
        if !self.conn.wants_write() {
            return None;
        }
        let mut out = Vec::new();
        while self.conn.wants_write() {
            if self.conn.write_tls(&mut out).is_err() {
                break;
            }
        }
        (!out.is_empty()).then_some(out)
    }
}

#[cfg(test)]
mod tests;
