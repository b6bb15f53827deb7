//! Certificates for TLS in simulations and tests: a CA and what it signs, generated with rcgen,
//! Ed25519 keys (their signatures are deterministic, so a seeded run's TLS records have the
//! same lengths every time), and a wall clock stopped at a fixed date.

use std::sync::{Arc, OnceLock};

use idem_core::tls::{TimeProvider, UnixTime};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// 2026-12-01T00:00:00Z: the simulation's wall clock (certificates are checked against it).
pub const SIM_WALL_CLOCK: u64 = 1_796_083_200;

/// A wall clock stopped at a number of seconds after the Unix epoch.
#[derive(Debug)]
pub struct FixedClock(pub u64);

impl TimeProvider for FixedClock {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(std::time::Duration::from_secs(self.0)))
    }
}

/// The simulation's wall clock as the TLS settings take it.
pub fn sim_clock() -> Arc<dyn TimeProvider> {
    Arc::new(FixedClock(SIM_WALL_CLOCK))
}

/// A certificate authority that signs leaves.
pub struct Ca {
    /// Its certificate (PEM).
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A certificate and its private key (PEM).
#[derive(Clone, Debug)]
pub struct Leaf {
    /// The certificate.
    pub cert: String,
    /// The private key.
    pub key: String,
}

fn ed25519() -> KeyPair {
    KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("an Ed25519 key")
}

impl Ca {
    /// A new CA named `name`.
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = ed25519();
        let cert = params.self_signed(&key).expect("self-signed CA");
        Ca { pem: cert.pem(), issuer: Issuer::new(params, key) }
    }

    /// A leaf naming `names` (DNS names or IP addresses), valid from 2025 to 2035, or in 2020
    /// only when `expired`.
    pub fn leaf(&self, names: &[&str], expired: bool) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("leaf params");
        let (from, to) = if expired { (2020, 2021) } else { (2025, 2035) };
        params.not_before = rcgen::date_time_ymd(from, 1, 1);
        params.not_after = rcgen::date_time_ymd(to, 1, 1);
        let key = ed25519();
        let cert = params.signed_by(&key, &self.issuer).expect("signed leaf");
        Leaf { cert: cert.pem(), key: key.serialize_pem() }
    }
}

/// The certificates every simulated TLS run shares (generated once per process): the CA and a
/// broker leaf naming the simulation's hosts (`broker-0` .. `broker-9`, `b1`..`b3`,
/// `localhost`, `127.0.0.1`).
pub struct SimCertificates {
    /// The CA (`ssl.ca.pem`).
    pub ca: Ca,
    /// The brokers' certificate.
    pub broker: Leaf,
}

/// The shared simulation certificates.
pub fn sim_certificates() -> &'static SimCertificates {
    static CERTS: OnceLock<SimCertificates> = OnceLock::new();
    CERTS.get_or_init(|| {
        let ca = Ca::new("idem simulation CA");
        let mut names: Vec<String> = (0..10).map(|i| format!("broker-{i}")).collect();
        names.extend(["b1", "b2", "b3", "localhost", "127.0.0.1"].map(String::from));
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let broker = ca.leaf(&names, false);
        SimCertificates { ca, broker }
    })
}
