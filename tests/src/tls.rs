//! TLS for simulations and tests: certificates (a CA and what it signs, generated with rcgen,
//! Ed25519 keys), a wall clock stopped at a fixed date, and a crypto provider whose every
//! random choice comes from the run's seed, so that a seeded run replays byte for byte over TLS
//! too.
//!
//! The provider is ring's, with two parts replaced: its random source (client and server
//! randoms, session ids) reads a per-thread generator [`seed_tls`] sets at the start of each
//! run, and its key exchange is a stand-in under X25519's name whose shares are 32 seeded bytes
//! and whose shared secret is SHA-256 over both shares. That is deterministic and, of course,
//! not secure: it exists only so that simulated TLS sessions are reproducible (ring draws its
//! X25519 keys from the operating system, and its random source cannot be replaced). Ed25519
//! signatures are deterministic already; the record layer's nonces are sequence numbers.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use idem_core::rand::Rng;
use idem_core::tls::rustls::crypto::{
    ActiveKeyExchange, GetRandomFailed, SecureRandom, SharedSecret, SupportedKxGroup,
};
use idem_core::tls::rustls::{Error as TlsError, NamedGroup, PeerMisbehaved};
use idem_core::tls::{CryptoProvider, TimeProvider, UnixTime};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use sha2::{Digest, Sha256};

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

thread_local! {
    static SIM_RNG: RefCell<Rng> = const { RefCell::new(Rng::new(0)) };
}

/// Seeds this thread's TLS randomness (call at the start of each simulated run).
pub fn seed_tls(seed: u64) {
    SIM_RNG.with(|r| *r.borrow_mut() = Rng::new(seed ^ 0x7150_7150_7150));
}

fn fill_seeded(buf: &mut [u8]) {
    SIM_RNG.with(|r| {
        let mut r = r.borrow_mut();
        for chunk in buf.chunks_mut(8) {
            let word = r.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    });
}

#[derive(Debug)]
struct SeededRandom;

impl SecureRandom for SeededRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        fill_seeded(buf);
        Ok(())
    }
}

/// The stand-in key exchange (see the module docs): deterministic, not secure.
#[derive(Debug)]
struct SeededKx;

struct SeededShare([u8; 32]);

impl SupportedKxGroup for SeededKx {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, TlsError> {
        let mut share = [0u8; 32];
        fill_seeded(&mut share);
        Ok(Box::new(SeededShare(share)))
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

impl ActiveKeyExchange for SeededShare {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, TlsError> {
        if peer.len() != 32 {
            return Err(TlsError::PeerMisbehaved(PeerMisbehaved::InvalidKeyShare));
        }
        let (a, b) = if self.0[..] <= *peer { (&self.0[..], peer) } else { (peer, &self.0[..]) };
        let secret = Sha256::new().chain_update(a).chain_update(b).finalize();
        Ok(SharedSecret::from(&secret[..]))
    }

    fn pub_key(&self) -> &[u8] {
        &self.0
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

static SEEDED_RANDOM: SeededRandom = SeededRandom;
static SEEDED_KX: SeededKx = SeededKx;

/// ring's provider with the seeded random source and stand-in key exchange: for simulations
/// only (see the module docs).
pub fn sim_crypto() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            let mut p = idem_core::tls::rustls::crypto::ring::default_provider();
            p.kx_groups = vec![&SEEDED_KX];
            p.secure_random = &SEEDED_RANDOM;
            Arc::new(p)
        })
        .clone()
}
