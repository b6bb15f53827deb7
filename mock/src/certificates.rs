//! [`TestCertificates`]: a throw-away CA, a broker certificate and a client certificate, for
//! TLS tests, the demo and anyone trying idem's broker over `SSL` / `SASL_SSL`.

use idem_core::tls::ServerTlsSettings;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256,
};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A CA with one broker certificate and one client certificate it signed, all PEM strings,
/// generated afresh (new ECDSA P-256 keys) by [`generate`](Self::generate).
///
/// For tests and trials only: the private keys live in memory and, with
/// [`write_to`](Self::write_to), in files; nothing about them is secret from anyone who can
/// read those. The certificates are valid from 1975 to 4096 (no test depends on the clock).
/// ECDSA P-256 with SHA-256 is accepted by rustls, OpenSSL (librdkafka) and Java alike.
#[derive(Clone)]
pub struct TestCertificates {
    /// The CA's self-signed certificate (PEM): what clients trust (`ssl.ca.location`) and, for
    /// mutual TLS, what the broker checks client certificates against (`--tls-client-ca`).
    pub ca_pem: String,
    /// The broker's certificate (PEM), signed by the CA, naming every host given to
    /// [`generate`](Self::generate) plus `localhost` and `127.0.0.1` (subject alternative
    /// names; IP addresses as IP entries), for server authentication.
    pub broker_pem: String,
    /// The broker certificate's private key (PEM, PKCS#8, unencrypted).
    pub broker_key_pem: String,
    /// A client certificate (PEM, common name `idem-client`), signed by the CA, for client
    /// authentication (`ssl.certificate.location`).
    pub client_pem: String,
    /// The client certificate's private key (PEM, PKCS#8, unencrypted; `ssl.key.location`).
    pub client_key_pem: String,
}

impl fmt::Debug for TestCertificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestCertificates")
            .field("ca_pem", &self.ca_pem.len())
            .field("broker_pem", &self.broker_pem.len())
            .field("broker_key_pem", &"[redacted]")
            .field("client_pem", &self.client_pem.len())
            .field("client_key_pem", &"[redacted]")
            .finish()
    }
}

/// Where [`TestCertificates::write_to`] put each file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestCertificateFiles {
    /// `ca.pem`: [`TestCertificates::ca_pem`].
    pub ca: PathBuf,
    /// `broker.pem`: [`TestCertificates::broker_pem`].
    pub broker_certificate: PathBuf,
    /// `broker.key`: [`TestCertificates::broker_key_pem`].
    pub broker_key: PathBuf,
    /// `client.pem`: [`TestCertificates::client_pem`].
    pub client_certificate: PathBuf,
    /// `client.key`: [`TestCertificates::client_key_pem`].
    pub client_key: PathBuf,
}

/// Why [`TestCertificates::generate`] could not make the certificates: a host that is neither
/// an IP address nor a name a certificate can hold (ASCII), or a key generation failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestCertificatesError(String);

impl fmt::Display for TestCertificatesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot generate the test certificates: {}", self.0)
    }
}

impl std::error::Error for TestCertificatesError {}

fn failed(what: &str, e: rcgen::Error) -> TestCertificatesError {
    TestCertificatesError(format!("{what}: {e}"))
}

/// A new P-256 key.
fn new_key() -> Result<KeyPair, TestCertificatesError> {
    KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| failed("key generation", e))
}

/// A leaf certificate with `names` (subject alternative names) and common name `cn`, for
/// `purpose`, signed by `issuer`: (certificate PEM, key PEM).
fn leaf(
    issuer: &Issuer<'_, KeyPair>,
    cn: &str,
    names: Vec<String>,
    purpose: ExtendedKeyUsagePurpose,
) -> Result<(String, String), TestCertificatesError> {
    let mut params = CertificateParams::new(names).map_err(|e| failed(cn, e))?;
    params.distinguished_name.push(DnType::CommonName, cn);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![purpose];
    params.use_authority_key_identifier_extension = true;
    let key = new_key()?;
    let cert = params.signed_by(&key, issuer).map_err(|e| failed(cn, e))?;
    Ok((cert.pem(), key.serialize_pem()))
}

impl TestCertificates {
    /// The file names [`write_to`](Self::write_to) uses, in the order of
    /// [`TestCertificateFiles`]' fields: `ca.pem`, `broker.pem`, `broker.key`, `client.pem`,
    /// `client.key`.
    pub const FILE_NAMES: [&'static str; 5] = ["ca.pem", "broker.pem", "broker.key", "client.pem", "client.key"];

    /// A new CA, a broker certificate for `hosts` (plus `localhost` and `127.0.0.1`, each name
    /// once) and a client certificate, each with a new key. A host is an IP address (v4 or v6,
    /// in brackets or not) or a DNS name (`*.example.com` allowed); anything else is an error
    /// naming it.
    pub fn generate(hosts: &[&str]) -> Result<TestCertificates, TestCertificatesError> {
        let hosts: Vec<&str> = hosts.iter().copied().chain(["localhost", "127.0.0.1"]).collect();
        Self::generate_naming_only(&hosts)
    }

    /// As [`generate`](Self::generate), but the broker certificate names exactly `hosts`
    /// (each once): for a broker whose certificate does not name the host clients connect to
    /// (testing `ssl.endpoint.identification.algorithm`).
    pub fn generate_naming_only(hosts: &[&str]) -> Result<TestCertificates, TestCertificatesError> {
        let mut names: Vec<String> = Vec::new();
        for host in hosts {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if !names.iter().any(|n| n == host) {
                names.push(host.to_string());
            }
        }
        let ca_key = new_key()?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(|e| failed("CA", e))?;
        // A name of its own (from its key), so that another generation's CA is an unknown
        // issuer to a client trusting this one, not a namesake whose signature fails.
        let id: String = ca_key.public_key_raw().iter().rev().take(6).map(|b| format!("{b:02x}")).collect();
        ca.distinguished_name.push(DnType::CommonName, format!("idem test CA {id}"));
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let ca_pem = ca.self_signed(&ca_key).map_err(|e| failed("CA", e))?.pem();
        let issuer = Issuer::new(ca, ca_key);
        let (broker_pem, broker_key_pem) = leaf(&issuer, "idem-broker", names, ExtendedKeyUsagePurpose::ServerAuth)
            .map_err(|e| TestCertificatesError(format!("hosts {hosts:?}: {}", e.0)))?;
        let (client_pem, client_key_pem) =
            leaf(&issuer, "idem-client", Vec::new(), ExtendedKeyUsagePurpose::ClientAuth)?;
        Ok(TestCertificates { ca_pem, broker_pem, broker_key_pem, client_pem, client_key_pem })
    }

    /// The broker's TLS settings: its certificate and key, no client certificate asked for
    /// (`SSL`, or `SASL_SSL` with SASL).
    pub fn broker_settings(&self) -> ServerTlsSettings {
        ServerTlsSettings::new(&self.broker_pem, &self.broker_key_pem)
    }

    /// The broker's TLS settings requiring a client certificate signed by this CA (Kafka's
    /// `ssl.client.auth=required`). [`MockCluster`](crate::MockCluster) supplies the wall clock
    /// client certificates are checked against (the settings have none).
    pub fn broker_settings_requiring_client_certificates(&self) -> ServerTlsSettings {
        ServerTlsSettings { client_ca_pem: Some(self.ca_pem.clone()), ..self.broker_settings() }
    }

    /// Writes the five files of [`FILE_NAMES`](Self::FILE_NAMES) into `dir` (which must exist),
    /// replacing any of the same names; on Unix the two keys are readable by the owner only.
    pub fn write_to(&self, dir: &Path) -> io::Result<TestCertificateFiles> {
        let [ca, broker_certificate, broker_key, client_certificate, client_key] =
            Self::FILE_NAMES.map(|n| dir.join(n));
        write_file(&ca, &self.ca_pem, false)?;
        write_file(&broker_certificate, &self.broker_pem, false)?;
        write_file(&broker_key, &self.broker_key_pem, true)?;
        write_file(&client_certificate, &self.client_pem, false)?;
        write_file(&client_key, &self.client_key_pem, true)?;
        Ok(TestCertificateFiles { ca, broker_certificate, broker_key, client_certificate, client_key })
    }
}

fn write_file(path: &Path, contents: &str, private: bool) -> io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let mut file = options.open(path).map_err(named)?;
    // Before the key is written, also when the file existed with wider permissions.
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(named)?;
    }
    #[cfg(not(unix))]
    let _ = private;
    file.write_all(contents.as_bytes()).map_err(named)
}

#[cfg(test)]
mod tests {
    use super::*;
    use idem_core::tls::rustls;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use std::sync::Arc;

    fn ring() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    fn roots(pem: &str) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            roots.add(c.expect("CA PEM")).expect("CA");
        }
        roots
    }

    fn verify_broker(certs: &TestCertificates, ca_pem: &str, host: &str) -> Result<(), rustls::Error> {
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots(ca_pem)), ring())
            .build()
            .expect("verifier");
        let leaf = CertificateDer::from_pem_slice(certs.broker_pem.as_bytes()).expect("broker PEM");
        let name = ServerName::try_from(host.to_string()).expect("name");
        use rustls::client::danger::ServerCertVerifier;
        verifier.verify_server_cert(&leaf, &[], &name, &[], UnixTime::now()).map(|_| ())
    }

    #[test]
    fn the_broker_certificate_names_every_host_and_only_those() {
        let certs = TestCertificates::generate(&["broker-0.example", "10.1.2.3", "[::1]"]).expect("generate");
        for host in ["broker-0.example", "10.1.2.3", "::1", "localhost", "127.0.0.1"] {
            verify_broker(&certs, &certs.ca_pem, host).unwrap_or_else(|e| panic!("{host}: {e}"));
        }
        for host in ["broker-1.example", "10.1.2.4"] {
            let e = verify_broker(&certs, &certs.ca_pem, host).expect_err(host);
            assert!(matches!(e, rustls::Error::InvalidCertificate(_)), "{host}: {e}");
        }
        let only = TestCertificates::generate_naming_only(&["broker-0.example"]).expect("generate");
        verify_broker(&only, &only.ca_pem, "broker-0.example").expect("named");
        for host in ["localhost", "127.0.0.1"] {
            let e = verify_broker(&only, &only.ca_pem, host).expect_err(host);
            assert!(matches!(e, rustls::Error::InvalidCertificate(_)), "{host}: {e}");
        }
        let other = TestCertificates::generate(&[]).expect("generate");
        let e = verify_broker(&certs, &other.ca_pem, "localhost").expect_err("another CA");
        assert_eq!(e, rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer));
    }

    #[test]
    fn the_client_certificate_is_accepted_by_a_broker_trusting_the_ca_only() {
        let certs = TestCertificates::generate(&[]).expect("generate");
        let other = TestCertificates::generate(&[]).expect("generate");
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots(&certs.ca_pem)), ring())
                .build()
                .expect("verifier");
        let ours = CertificateDer::from_pem_slice(certs.client_pem.as_bytes()).expect("client PEM");
        let theirs = CertificateDer::from_pem_slice(other.client_pem.as_bytes()).expect("client PEM");
        assert!(verifier.verify_client_cert(&ours, &[], UnixTime::now()).is_ok());
        assert!(verifier.verify_client_cert(&theirs, &[], UnixTime::now()).is_err());
        // Keys are P-256 PKCS#8 and each matches its certificate (the settings build).
        assert!(certs.broker_settings().server_config().is_ok());
        assert!(certs.broker_key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    }

    /// Client certificates are checked against a wall clock, which `MockCluster::start`
    /// supplies (the core's cluster alone refuses such settings without one).
    #[test]
    fn a_cluster_requiring_client_certificates_starts_and_says_its_protocol() {
        use crate::{MockCluster, MockClusterConfig};
        use idem_core::broker::{Cluster, SaslServerConfig};
        let certs = TestCertificates::generate(&[]).expect("generate");
        let settings = certs.broker_settings_requiring_client_certificates();
        let mut bare = MockClusterConfig::default().cluster;
        bare.tls = Some(settings.clone());
        assert!(Cluster::new(bare, idem_core::Instant::ZERO).is_err(), "the core needs a clock");
        let config = MockClusterConfig { brokers: 1, ..MockClusterConfig::default() }.with_tls(settings);
        assert_eq!(config.security_protocol(), "SSL");
        let cluster = MockCluster::start(config.clone()).expect("start");
        assert_eq!(cluster.security_protocol(), "SSL");
        let mut sasl = config;
        sasl.cluster.sasl = Some(SaslServerConfig::default());
        assert_eq!(sasl.security_protocol(), "SASL_SSL");
        sasl.cluster.tls = None;
        assert_eq!(sasl.security_protocol(), "SASL_PLAINTEXT");
        assert_eq!(MockClusterConfig::default().security_protocol(), "PLAINTEXT");
        let broken = MockClusterConfig::default().with_tls(ServerTlsSettings::new(&certs.broker_pem, "not a key"));
        let e = MockCluster::start(broken).err().expect("a bad key");
        assert!(e.to_string().contains("tls-key"), "{e}");
    }

    #[test]
    fn a_host_a_certificate_cannot_hold_is_an_error_naming_it() {
        let e = TestCertificates::generate(&["bröker"]).expect_err("non-ASCII");
        assert!(e.to_string().contains("bröker"), "{e}");
    }

    #[test]
    fn write_to_writes_the_five_files() {
        let dir = std::env::temp_dir().join(format!("idem-mock-certs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let certs = TestCertificates::generate(&["example.test"]).expect("generate");
        let files = certs.write_to(&dir).expect("write");
        assert_eq!(std::fs::read_to_string(&files.ca).expect("ca"), certs.ca_pem);
        assert_eq!(std::fs::read_to_string(&files.broker_certificate).expect("cert"), certs.broker_pem);
        assert_eq!(std::fs::read_to_string(&files.broker_key).expect("key"), certs.broker_key_pem);
        assert_eq!(std::fs::read_to_string(&files.client_certificate).expect("cert"), certs.client_pem);
        assert_eq!(std::fs::read_to_string(&files.client_key).expect("key"), certs.client_key_pem);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&files.client_key).expect("meta").permissions().mode();
            assert_eq!(mode & 0o077, 0, "key readable by others: {mode:o}");
        }
        assert!(!format!("{certs:?}").contains("PRIVATE"));
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
