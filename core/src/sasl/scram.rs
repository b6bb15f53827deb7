//! SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677; Kafka: KIP-84, `ScramSaslClient`,
//! `ScramSaslServer`, `ScramFormatter`), without channel binding (GS2 header `n,,`), as Kafka's
//! clients and brokers speak it.
//!
//! The exchange: client-first `n,,n=<user>,r=<client nonce>`; server-first
//! `r=<client nonce><server nonce>,s=<salt>,i=<iterations>`; client-final
//! `c=biws,r=<nonce>,p=<proof>`; server-final `v=<server signature>` (or `e=<error>`).
//!
//! - [`ScramClient`] holds the password and the salted password only as long as the exchange
//!   needs them; its `Debug` shows neither.
//! - [`ScramCredential`] is what a server stores (salt, StoredKey, ServerKey, iterations: never
//!   the password), Kafka's `ScramCredential`; [`ScramServer`] verifies a client with it.
//! - Nonces come from the caller; the iteration count is at least 4096 both ways (Kafka's
//!   `ScramMechanism` minimum).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

use super::plain::constant_time_eq;
use super::{Mechanism, SaslError};

/// The fewest iterations accepted (Kafka's `ScramMechanism.minIterations`).
pub const MIN_ITERATIONS: u32 = 4096;
/// The most iterations a client agrees to compute (Kafka's `ScramMechanism.maxIterations` is
/// 16384 for the server's configuration; a hostile server could otherwise make a client spin).
pub const MAX_ITERATIONS: u32 = 16_384;

/// The hash of a SCRAM mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScramHash {
    /// SHA-256 (SCRAM-SHA-256).
    Sha256,
    /// SHA-512 (SCRAM-SHA-512).
    Sha512,
}

impl ScramHash {
    /// The hash of a SCRAM mechanism; `None` for the others.
    pub const fn of(mechanism: Mechanism) -> Option<ScramHash> {
        match mechanism {
            Mechanism::ScramSha256 => Some(ScramHash::Sha256),
            Mechanism::ScramSha512 => Some(ScramHash::Sha512),
            Mechanism::Plain | Mechanism::OAuthBearer => None,
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        // HMAC takes keys of any length: `new_from_slice` cannot fail.
        match self {
            ScramHash::Sha256 => Hmac::<Sha256>::new_from_slice(key)
                .map(|mut m| {
                    m.update(data);
                    m.finalize().into_bytes().to_vec()
                })
                .unwrap_or_default(),
            ScramHash::Sha512 => Hmac::<Sha512>::new_from_slice(key)
                .map(|mut m| {
                    m.update(data);
                    m.finalize().into_bytes().to_vec()
                })
                .unwrap_or_default(),
        }
    }

    fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => Sha256::digest(data).to_vec(),
            ScramHash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// `Hi(password, salt, iterations)`: PBKDF2 with HMAC of this hash (RFC 5802 section 2.2).
    fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(password, salt, iterations).to_vec(),
            ScramHash::Sha512 => pbkdf2::pbkdf2_hmac_array::<Sha512, 64>(password, salt, iterations).to_vec(),
        }
    }
}

/// `saslname` escaping of a user name (RFC 5802 section 5.1): `=` as `=3D`, `,` as `=2C`.
fn escape_name(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

fn unescape_name(name: &str) -> Result<String, SaslError> {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        let esc = rest.get(i..i + 3).ok_or(SaslError::Malformed("SCRAM user name has a bad = escape"))?;
        out.push(match esc {
            "=3D" => '=',
            "=2C" => ',',
            _ => return Err(SaslError::Malformed("SCRAM user name has a bad = escape")),
        });
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A printable nonce (RFC 5802: any printable ASCII but `,`) from 32 random bytes: base64.
pub fn nonce_from_bytes(random: &[u8; 32]) -> String {
    B64.encode(random)
}

/// The `key=value` attributes of a SCRAM message, in order.
fn attributes(message: &str) -> impl Iterator<Item = Result<(u8, &str), SaslError>> {
    message.split(',').map(|a| {
        let b = a.as_bytes();
        match (b.first(), b.get(1)) {
            (Some(k), Some(b'=')) if k.is_ascii_alphabetic() => Ok((*k, &a[2..])),
            _ => Err(SaslError::Malformed("SCRAM attribute is not a=value")),
        }
    })
}

fn utf8(message: &[u8]) -> Result<&str, SaslError> {
    core::str::from_utf8(message).map_err(|_| SaslError::Malformed("SCRAM message is not UTF-8"))
}

fn b64(value: &str, what: &'static str) -> Result<Vec<u8>, SaslError> {
    B64.decode(value).map_err(|_| SaslError::Malformed(what))
}

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

/// The salted password of the last exchange with its hash, salt and iteration count, for the
/// next one ([`ScramClient::server_first_cached`]). A secret: `Debug` does not show it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SaltedPasswordCache(Option<(ScramHash, Vec<u8>, u32, Vec<u8>)>);

impl fmt::Debug for SaltedPasswordCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SaltedPasswordCache")
    }
}

/// Where a [`ScramClient`] is.
#[derive(Clone, PartialEq, Eq)]
enum ClientState {
    /// Client-first sent; waiting for server-first.
    First,
    /// Client-final sent; waiting for server-final, whose signature must equal this.
    Final { server_signature: Vec<u8> },
    /// Server verified (or failed): nothing more to do.
    Done,
}

/// The client side of one SCRAM exchange.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramClient {
    hash: ScramHash,
    password: String,
    nonce: String,
    client_first_bare: String,
    state: ClientState,
}

impl fmt::Debug for ScramClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramClient").field("hash", &self.hash).finish_non_exhaustive()
    }
}

impl ScramClient {
    /// Starts an exchange for `username` / `password` with the client nonce `nonce` (printable,
    /// no `,`: see [`nonce_from_bytes`]); returns the client and its client-first message.
    pub fn start(hash: ScramHash, username: &str, password: &str, nonce: &str) -> (ScramClient, Vec<u8>) {
        let nonce: String = nonce.chars().filter(|c| c.is_ascii_graphic() && *c != ',').collect();
        let client_first_bare = alloc::format!("n={},r={}", escape_name(username), nonce);
        let mut first = Vec::with_capacity(client_first_bare.len() + 3);
        first.extend_from_slice(b"n,,");
        first.extend_from_slice(client_first_bare.as_bytes());
        let client =
            ScramClient { hash, password: password.into(), nonce, client_first_bare, state: ClientState::First };
        (client, first)
    }

    /// Takes the server-first message; returns the client-final message (with the proof).
    pub fn server_first(&mut self, message: &[u8]) -> Result<Vec<u8>, SaslError> {
        self.server_first_cached(message, &mut SaltedPasswordCache::default())
    }

    /// [`ScramClient::server_first`], reusing the salted password of an earlier exchange with
    /// the same salt and iteration count from `cache` (and keeping this one's there): RFC 5802
    /// section 5.1 allows it, "as it is likely that the server is going to advertise the same
    /// salt value upon reauthentication". Saves the PBKDF2 iterations on re-authentication.
    pub fn server_first_cached(
        &mut self,
        message: &[u8],
        cache: &mut SaltedPasswordCache,
    ) -> Result<Vec<u8>, SaslError> {
        if self.state != ClientState::First {
            return Err(SaslError::UnexpectedMessage);
        }
        self.state = ClientState::Done;
        let server_first = utf8(message)?;
        let (mut nonce, mut salt, mut iterations) = (None, None, None);
        for attr in attributes(server_first) {
            match attr? {
                (b'r', v) => nonce = Some(v),
                (b's', v) => salt = Some(b64(v, "SCRAM salt is not base64")?),
                (b'i', v) => {
                    iterations = Some(v.parse::<u32>().map_err(|_| SaslError::Malformed("SCRAM i= not a number"))?)
                }
                (b'e', _) => return Err(SaslError::ServerError),
                (b'm', _) => return Err(SaslError::Malformed("SCRAM mandatory extension not supported")),
                _ => {}
            }
        }
        let (Some(nonce), Some(salt), Some(iterations)) = (nonce, salt, iterations) else {
            return Err(SaslError::Malformed("SCRAM server-first lacks r=, s= or i="));
        };
        if !nonce.starts_with(self.nonce.as_str()) || nonce.len() == self.nonce.len() {
            return Err(SaslError::NonceMismatch);
        }
        if iterations < MIN_ITERATIONS {
            return Err(SaslError::TooFewIterations);
        }
        if iterations > MAX_ITERATIONS {
            return Err(SaslError::Malformed("SCRAM iteration count above 16384"));
        }
        let without_proof = alloc::format!("c=biws,r={nonce}");
        let auth_message = alloc::format!("{},{},{}", self.client_first_bare, server_first, without_proof);
        let h = self.hash;
        let salted = match &cache.0 {
            Some((ch, cs, ci, salted)) if *ch == h && *cs == salt && *ci == iterations => salted.clone(),
            _ => {
                let salted = h.salted_password(self.password.as_bytes(), &salt, iterations);
                cache.0 = Some((h, salt, iterations, salted.clone()));
                salted
            }
        };
        let client_key = h.hmac(&salted, b"Client Key");
        let stored_key = h.hash(&client_key);
        let client_signature = h.hmac(&stored_key, auth_message.as_bytes());
        let proof = xor(&client_key, &client_signature);
        let server_key = h.hmac(&salted, b"Server Key");
        let server_signature = h.hmac(&server_key, auth_message.as_bytes());
        self.state = ClientState::Final { server_signature };
        self.password.clear();
        Ok(alloc::format!("{without_proof},p={}", B64.encode(proof)).into_bytes())
    }

    /// Takes the server-final message: `Ok` if the server proved it knows the password.
    pub fn server_final(&mut self, message: &[u8]) -> Result<(), SaslError> {
        let ClientState::Final { server_signature } = core::mem::replace(&mut self.state, ClientState::Done) else {
            return Err(SaslError::UnexpectedMessage);
        };
        for attr in attributes(utf8(message)?) {
            match attr? {
                (b'e', _) => return Err(SaslError::ServerError),
                (b'v', v) => {
                    let v = b64(v, "SCRAM v= is not base64")?;
                    return if constant_time_eq(&v, &server_signature) {
                        Ok(())
                    } else {
                        Err(SaslError::BadServerSignature)
                    };
                }
                _ => {}
            }
        }
        Err(SaslError::Malformed("SCRAM server-final lacks v="))
    }
}

/// What a SCRAM server stores for a user (Kafka's `ScramCredential`): never the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramCredential {
    /// The salt.
    pub salt: Vec<u8>,
    /// `H(HMAC(SaltedPassword, "Client Key"))`.
    pub stored_key: Vec<u8>,
    /// `HMAC(SaltedPassword, "Server Key")`.
    pub server_key: Vec<u8>,
    /// The iteration count.
    pub iterations: u32,
}

impl fmt::Debug for ScramCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramCredential").field("iterations", &self.iterations).finish_non_exhaustive()
    }
}

impl ScramCredential {
    /// The stored credential of `password` with `salt` and `iterations` (Kafka's
    /// `ScramFormatter.generateCredential`).
    pub fn new(hash: ScramHash, password: &str, salt: &[u8], iterations: u32) -> ScramCredential {
        let salted = hash.salted_password(password.as_bytes(), salt, iterations);
        let client_key = hash.hmac(&salted, b"Client Key");
        ScramCredential {
            salt: salt.to_vec(),
            stored_key: hash.hash(&client_key),
            server_key: hash.hmac(&salted, b"Server Key"),
            iterations,
        }
    }
}

/// The server side of one SCRAM exchange, after the client-first message.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramServer {
    hash: ScramHash,
    username: String,
    nonce: String,
    client_first_bare: String,
    server_first: String,
    credential: Option<ScramCredential>,
}

impl fmt::Debug for ScramServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramServer").field("hash", &self.hash).finish_non_exhaustive()
    }
}

impl ScramServer {
    /// Takes the client-first message; `lookup` finds the user's credential (an unknown user
    /// still gets a server-first message, with a made-up salt, and fails at the proof, so the
    /// answer does not tell which users exist). `server_nonce` is appended to the client's.
    pub fn client_first<'c>(
        hash: ScramHash,
        message: &[u8],
        lookup: impl FnOnce(&str) -> Option<&'c ScramCredential>,
        server_nonce: &str,
    ) -> Result<(ScramServer, Vec<u8>), SaslError> {
        let text = utf8(message)?;
        // GS2 header: no channel binding ("n" or "y"), optional authzid, then the bare message.
        let (cb, rest) = text.split_once(',').ok_or(SaslError::Malformed("SCRAM client-first lacks a GS2 header"))?;
        if cb != "n" && cb != "y" {
            return Err(SaslError::Malformed("SCRAM channel binding is not supported"));
        }
        let (authzid, bare) =
            rest.split_once(',').ok_or(SaslError::Malformed("SCRAM client-first lacks a GS2 header"))?;
        let (mut user, mut nonce) = (None, None);
        for attr in attributes(bare) {
            match attr? {
                (b'n', v) => user = Some(unescape_name(v)?),
                (b'r', v) => nonce = Some(v),
                (b'm', _) => return Err(SaslError::Malformed("SCRAM mandatory extension not supported")),
                _ => {} // extensions (Kafka's tokenauth=...)
            }
        }
        let (Some(username), Some(client_nonce)) = (user, nonce) else {
            return Err(SaslError::Malformed("SCRAM client-first lacks n= or r="));
        };
        if client_nonce.is_empty() {
            return Err(SaslError::Malformed("SCRAM client nonce is empty"));
        }
        if let Some(a) = authzid.strip_prefix("a=") {
            if unescape_name(a)? != username {
                return Err(SaslError::Malformed("SCRAM authorization id differs from the user name"));
            }
        }
        let credential = lookup(&username).cloned();
        let (salt, iterations) = match &credential {
            Some(c) => (c.salt.clone(), c.iterations),
            None => (hash.hash(username.as_bytes()), MIN_ITERATIONS),
        };
        let nonce = alloc::format!("{client_nonce}{server_nonce}");
        let server_first = alloc::format!("r={nonce},s={},i={iterations}", B64.encode(salt));
        let out = server_first.clone().into_bytes();
        let server = ScramServer { hash, username, nonce, client_first_bare: bare.into(), server_first, credential };
        Ok((server, out))
    }

    /// Takes the client-final message: the authenticated user name and the server-final
    /// message, or [`SaslError::BadCredentials`] (unknown user or wrong proof).
    pub fn client_final(&self, message: &[u8]) -> Result<(&str, Vec<u8>), SaslError> {
        let text = utf8(message)?;
        let (without_proof, proof) =
            text.rsplit_once(",p=").ok_or(SaslError::Malformed("SCRAM client-final lacks p="))?;
        let mut nonce_ok = false;
        for attr in attributes(without_proof) {
            match attr? {
                (b'c', v) if v != "biws" && v != "eSws" => {
                    return Err(SaslError::Malformed("SCRAM channel binding is not supported"));
                }
                (b'r', v) => nonce_ok = v == self.nonce,
                _ => {}
            }
        }
        if !nonce_ok {
            return Err(SaslError::NonceMismatch);
        }
        let proof = b64(proof, "SCRAM p= is not base64")?;
        let Some(c) = &self.credential else { return Err(SaslError::BadCredentials) };
        let h = self.hash;
        let auth_message = alloc::format!("{},{},{}", self.client_first_bare, self.server_first, without_proof);
        let client_signature = h.hmac(&c.stored_key, auth_message.as_bytes());
        if proof.len() != client_signature.len() {
            return Err(SaslError::BadCredentials);
        }
        let client_key = xor(&proof, &client_signature);
        if !constant_time_eq(&h.hash(&client_key), &c.stored_key) {
            return Err(SaslError::BadCredentials);
        }
        let server_signature = h.hmac(&c.server_key, auth_message.as_bytes());
        Ok((&self.username, alloc::format!("v={}", B64.encode(server_signature)).into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &str = "rOprNGfwEbeRWgbNEkqO";
    const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const SERVER_FIRST: &[u8] =
        b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

    /// RFC 7677 section 3 (SCRAM-SHA-256, user "user", password "pencil").
    #[test]
    fn rfc_7677_sha256_vector() {
        let (mut c, first) = ScramClient::start(ScramHash::Sha256, "user", "pencil", NONCE);
        assert_eq!(first, b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let fin = c.server_first(SERVER_FIRST).unwrap();
        assert_eq!(
            fin,
            b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
                .as_slice()
        );
        assert_eq!(c.server_final(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="), Ok(()));
        // And the server side reproduces the same exchange from the stored credential.
        let cred =
            ScramCredential::new(ScramHash::Sha256, "pencil", &b64("W22ZaJ0SNY7soEsUEjb6gQ==", "").unwrap(), 4096);
        let (s, sf) = ScramServer::client_first(ScramHash::Sha256, &first, |_| Some(&cred), SERVER_NONCE).unwrap();
        assert_eq!(sf, SERVER_FIRST);
        let (user, server_final) = s.client_final(&fin).unwrap();
        assert_eq!(
            (user, server_final.as_slice()),
            ("user", b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".as_slice())
        );
    }

    /// The same exchange with SHA-512: no RFC publishes one, so the expected messages were
    /// computed by an independent implementation (Python's `hashlib.pbkdf2_hmac('sha512', ...)`
    /// and `hmac`, OpenSSL underneath), which also reproduces the RFC 7677 vector above.
    #[test]
    fn sha512_vector_from_an_independent_implementation() {
        let (mut c, _) = ScramClient::start(ScramHash::Sha512, "user", "pencil", NONCE);
        let fin = c.server_first(SERVER_FIRST).unwrap();
        assert_eq!(
            core::str::from_utf8(&fin).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=gMGXRcevScNtxZ6/8lQYpGtnsNAc3mGcmNomv+xnoOMw+3R2xNJdMNnzMlTN8PPC6wdp6dybEmDYXYTxwnYPJQ=="
        );
        let v = b"v=ZQnYEgWQMFmmsM8aQMF0nDDCy/AgCzkwk8CmMZYcMg0vSVlKDanekLtifDSeVGT4+5ZxXnJq199RVG2rR7N7Zw==";
        assert_eq!(c.server_final(v), Ok(()));
    }

    #[test]
    fn wrong_password_unknown_user_and_forged_server() {
        for hash in [ScramHash::Sha256, ScramHash::Sha512] {
            let cred = ScramCredential::new(hash, "right", b"salt", 4096);
            let (mut c, first) = ScramClient::start(hash, "a=b,c", "wrong", "abc");
            assert_eq!(first, b"n,,n=a=3Db=2Cc,r=abc");
            let (s, sf) = ScramServer::client_first(hash, &first, |u| (u == "a=b,c").then_some(&cred), "xyz").unwrap();
            let fin = c.server_first(&sf).unwrap();
            assert_eq!(s.client_final(&fin), Err(SaslError::BadCredentials));
            // Unknown user: the same shape of answer, then the same refusal.
            let (mut c, first) = ScramClient::start(hash, "nobody", "right", "abc");
            let (s, sf) = ScramServer::client_first(hash, &first, |_| None, "xyz").unwrap();
            let fin = c.server_first(&sf).unwrap();
            assert_eq!(s.client_final(&fin), Err(SaslError::BadCredentials));
            // A server that does not know the password cannot forge the signature.
            let (mut c, first) = ScramClient::start(hash, "u", "right", "abc");
            let fake = ScramCredential::new(hash, "guess", b"salt", 4096);
            let (s, sf) = ScramServer::client_first(hash, &first, |_| Some(&fake), "xyz").unwrap();
            let _ = c.server_first(&sf).unwrap();
            let forged = alloc::format!("v={}", B64.encode(hash.hmac(&s.credential.unwrap().server_key, b"x")));
            assert_eq!(c.server_final(forged.as_bytes()), Err(SaslError::BadServerSignature));
        }
    }

    #[test]
    fn hostile_server_messages_are_typed_errors() {
        let start = || ScramClient::start(ScramHash::Sha256, "u", "p", "abc").0;
        let cases: [(&[u8], SaslError); 6] = [
            (b"r=abcdef,s=c2FsdA==,i=4095", SaslError::TooFewIterations),
            (b"r=zzz,s=c2FsdA==,i=4096", SaslError::NonceMismatch),
            (b"r=abc,s=c2FsdA==,i=4096", SaslError::NonceMismatch),
            (b"e=other-error", SaslError::ServerError),
            (b"r=abcd,s=c2FsdA==", SaslError::Malformed("SCRAM server-first lacks r=, s= or i=")),
            (b"r=abcd,s=!!!,i=4096", SaslError::Malformed("SCRAM salt is not base64")),
        ];
        for (msg, err) in cases {
            assert_eq!(start().server_first(msg), Err(err), "{msg:?}");
        }
        assert!(matches!(start().server_first(b"r=abcd,s=c2FsdA==,i=99999999999"), Err(SaslError::Malformed(_))));
        assert!(matches!(start().server_first(b"r=abcd,s=c2FsdA==,i=1000000"), Err(SaslError::Malformed(_))));
        assert!(matches!(start().server_first(&[0xff]), Err(SaslError::Malformed(_))));
        assert!(matches!(start().server_first(b",,,"), Err(SaslError::Malformed(_))));
        assert_eq!(start().server_final(b"v=AAAA"), Err(SaslError::UnexpectedMessage));
        let mut c = start();
        c.server_first(b"r=abcd,s=c2FsdA==,i=4096").unwrap();
        assert_eq!(c.server_first(b"r=abcd,s=c2FsdA==,i=4096"), Err(SaslError::UnexpectedMessage));
    }

    #[test]
    fn the_cache_reuses_the_salted_password_only_for_the_same_salt() {
        let mut cache = SaltedPasswordCache::default();
        for _ in 0..2 {
            let (mut c, _) = ScramClient::start(ScramHash::Sha256, "user", "pencil", NONCE);
            let fin = c.server_first_cached(SERVER_FIRST, &mut cache).unwrap();
            assert!(fin.ends_with(b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));
        }
        // Another password would not be checked against a stale cache: a different salt misses.
        let other = b"r=rOprNGfwEbeRWgbNEkqOxyz,s=c2FsdA==,i=4096";
        let (mut c, _) = ScramClient::start(ScramHash::Sha256, "user", "pencil", NONCE);
        c.server_first_cached(other, &mut cache).unwrap();
        assert_eq!(cache.0.as_ref().map(|e| e.1.as_slice()), Some(b"salt".as_slice()));
        assert!(!alloc::format!("{cache:?}").contains("salt"));
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let (mut c, _) = ScramClient::start(ScramHash::Sha512, "user", "hunter2-secret", NONCE);
        assert!(!alloc::format!("{c:?}").contains("hunter2"));
        c.server_first(SERVER_FIRST).unwrap();
        let cred = ScramCredential::new(ScramHash::Sha256, "hunter2-secret", b"salt", 4096);
        assert!(!alloc::format!("{cred:?}").contains("stored"));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_messages_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let cred = ScramCredential { salt: b"s".to_vec(), stored_key: alloc::vec![0; 32], server_key: alloc::vec![0; 32], iterations: 4096 };
            let mut c = ScramClient::start(ScramHash::Sha256, "u", "p", "abc").0;
            let _ = c.server_first(&bytes);
            let _ = c.server_final(&bytes);
            if let Ok((s, _)) = ScramServer::client_first(ScramHash::Sha256, &bytes, |_| Some(&cred), "n") {
                let _ = s.client_final(&bytes);
            }
            let _ = super::super::plain::parse(&bytes);
            let _ = super::super::oauthbearer::server_token(&bytes);
        }
    }
}
