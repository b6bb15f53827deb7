//! The producer's security settings, by Kafka's names: `security.protocol`, `sasl.mechanism`,
//! `sasl.username`, `sasl.password`, and `sasl.oauthbearer.token` (idem's name for a static
//! OAUTHBEARER token; librdkafka's `sasl.oauthbearer.config` configures its unsecured-JWT
//! builder instead, and the Java client takes tokens from a login callback handler).
//!
//! TLS (`SSL`, `SASL_SSL`, with idem-core's `tls` feature): `ssl.ca.pem`,
//! `ssl.certificate.pem`, `ssl.key.pem` (PEM strings, librdkafka's names) and
//! `ssl.endpoint.identification.algorithm` (`https`, the default, or `none`). The file
//! settings `ssl.ca.location`, `ssl.certificate.location` and `ssl.key.location` are read by
//! idem's runtimes (this crate does no I/O), which also install the system's trust anchors and
//! wall clock ([`crate::tls::ClientTlsSettings`]); a custom event loop sets those fields itself.
//!
//! Guarantees: a password, token or private key is never shown by `Debug` (it prints
//! `[redacted]`) nor put into an error; every error names the setting to change. GSSAPI
//! (Kafka's default `sasl.mechanism`) is refused, so a SASL configuration must name its
//! mechanism; so are encrypted private keys (`ssl.key.password`).

use alloc::string::{String, ToString};
use core::fmt;

use super::config::ConfigError;
use crate::sasl::Mechanism;

/// `security.protocol`: how the producer talks to brokers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SecurityProtocol {
    /// `PLAINTEXT` (default): no authentication, no encryption.
    #[default]
    Plaintext,
    /// `SASL_PLAINTEXT`: SASL authentication on each connection, no encryption.
    SaslPlaintext,
    /// `SSL`: TLS (idem-core's `tls` feature; without it refused by validation).
    Ssl,
    /// `SASL_SSL`: SASL over TLS (idem-core's `tls` feature; without it refused by validation).
    SaslSsl,
}

impl SecurityProtocol {
    /// Kafka's name.
    pub const fn name(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "PLAINTEXT",
            SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
            SecurityProtocol::Ssl => "SSL",
            SecurityProtocol::SaslSsl => "SASL_SSL",
        }
    }
}

/// A secret setting (password, token): compared and cloned, never shown.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: &str) -> Secret {
        Secret(value.to_string())
    }

    /// The secret itself (to put on the wire, never into a log).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The security settings of a producer (part of [`ProducerConfig`](super::ProducerConfig)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecurityConfig {
    /// `security.protocol` (default PLAINTEXT).
    pub protocol: SecurityProtocol,
    /// `sasl.mechanism`; `None` is Kafka's default, GSSAPI, which idem does not support.
    pub mechanism: Option<Mechanism>,
    /// `sasl.username` (PLAIN, SCRAM).
    pub username: Option<String>,
    /// `sasl.password` (PLAIN, SCRAM).
    pub password: Option<Secret>,
    /// `sasl.oauthbearer.token`: the OAUTHBEARER token (a JWT or any RFC 6750 `b64token`),
    /// replaceable at run time with `Producer::set_oauthbearer_token`.
    pub oauthbearer_token: Option<Secret>,
    /// The TLS settings (`ssl.*`, and the trust anchors and wall clock the driver supplies),
    /// used under `SSL` and `SASL_SSL`.
    #[cfg(feature = "tls")]
    pub tls: crate::tls::ClientTlsSettings,
}

/// The names of the settings handled here.
pub(crate) const KEYS: [&str; 14] = [
    "security.protocol",
    "sasl.mechanism",
    "sasl.username",
    "sasl.password",
    "sasl.oauthbearer.token",
    "ssl.ca.pem",
    "ssl.certificate.pem",
    "ssl.key.pem",
    "ssl.endpoint.identification.algorithm",
    "ssl.ca.location",
    "ssl.certificate.location",
    "ssl.key.location",
    "ssl.key.password",
    "enable.ssl.certificate.verification",
];

const MECHANISMS_EXPECTED: &str = "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER (GSSAPI is not supported)";

impl SecurityConfig {
    /// The SASL mechanism to run on every connection, if SASL is on.
    pub fn sasl(&self) -> Option<Mechanism> {
        match self.protocol {
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl => self.mechanism,
            SecurityProtocol::Plaintext | SecurityProtocol::Ssl => None,
        }
    }

    /// Sets one of [`KEYS`]; the value is checked, the combination only by `validate`.
    pub(crate) fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        match key {
            "security.protocol" => {
                self.protocol = match value.trim().to_ascii_uppercase().as_str() {
                    "PLAINTEXT" => SecurityProtocol::Plaintext,
                    "SASL_PLAINTEXT" => SecurityProtocol::SaslPlaintext,
                    "SSL" => SecurityProtocol::Ssl,
                    "SASL_SSL" => SecurityProtocol::SaslSsl,
                    _ => {
                        return Err(ConfigError::InvalidValue {
                            key: key.to_string(),
                            value: value.to_string(),
                            expected: "PLAINTEXT, SASL_PLAINTEXT, SSL or SASL_SSL",
                        });
                    }
                }
            }
            "sasl.mechanism" => match Mechanism::from_name(value.trim()) {
                Some(m) => self.mechanism = Some(m),
                None => {
                    let (key, value) = (key.to_string(), value.to_string());
                    return Err(ConfigError::InvalidValue { key, value, expected: MECHANISMS_EXPECTED });
                }
            },
            "sasl.username" => self.username = Some(value.to_string()),
            // The value is not repeated in an error: it is a secret.
            "sasl.password" => self.password = Some(Secret::new(value)),
            "sasl.oauthbearer.token" => {
                if !crate::sasl::oauthbearer::is_b64token(value) {
                    return Err(ConfigError::InvalidValue {
                        key: key.to_string(),
                        value: "[redacted]".to_string(),
                        expected: "an RFC 6750 b64token (letters, digits, -._~+/ and trailing =)",
                    });
                }
                self.oauthbearer_token = Some(Secret::new(value));
            }
            "ssl.ca.location" | "ssl.certificate.location" | "ssl.key.location" => {
                return Err(ConfigError::NotSupported {
                    key: KEYS.iter().find(|k| **k == key).copied().unwrap_or("ssl.ca.location"),
                    value: value.to_string(),
                    reason: "a file: idem's runtimes read it; with idem-core alone give the file's contents as \
                             ssl.ca.pem, ssl.certificate.pem or ssl.key.pem",
                });
            }
            "ssl.key.password" => {
                return Err(ConfigError::NotSupported {
                    key: "ssl.key.password",
                    value: "[redacted]".to_string(),
                    reason: "encrypted private keys are not supported: give the key unencrypted (ssl.key.location)",
                });
            }
            "enable.ssl.certificate.verification" => {
                if !matches!(value.trim(), "true" | "True" | "TRUE") {
                    return Err(ConfigError::NotSupported {
                        key: "enable.ssl.certificate.verification",
                        value: value.to_string(),
                        reason: "brokers' certificates are always verified: give their CA with ssl.ca.location, \
                                 or set ssl.endpoint.identification.algorithm=none to skip only the host name",
                    });
                }
            }
            #[cfg(feature = "tls")]
            "ssl.ca.pem" => self.tls.ca_pem = Some(value.to_string()),
            #[cfg(feature = "tls")]
            "ssl.certificate.pem" => self.tls.certificate_pem = Some(value.to_string()),
            #[cfg(feature = "tls")]
            "ssl.key.pem" => self.tls.key_pem = Some(value.to_string()),
            "ssl.endpoint.identification.algorithm" => {
                let verify = match value.trim().to_ascii_lowercase().as_str() {
                    "https" => true,
                    "none" | "" => false,
                    _ => {
                        return Err(ConfigError::InvalidValue {
                            key: key.to_string(),
                            value: value.to_string(),
                            expected: "https or none",
                        });
                    }
                };
                #[cfg(feature = "tls")]
                {
                    self.tls.verify_hostname = verify;
                }
                let _ = verify;
            }
            #[cfg(not(feature = "tls"))]
            "ssl.ca.pem" | "ssl.certificate.pem" | "ssl.key.pem" => {}
            _ => return Err(ConfigError::UnknownKey(key.to_string())),
        }
        Ok(())
    }

    /// The TLS configuration to connect with: `None` unless `security.protocol` is `SSL` or
    /// `SASL_SSL`.
    #[cfg(feature = "tls")]
    pub(crate) fn tls_client_config(&self) -> Result<Option<alloc::sync::Arc<rustls::ClientConfig>>, ConfigError> {
        match self.protocol {
            SecurityProtocol::Ssl | SecurityProtocol::SaslSsl => {
                self.tls.client_config().map(Some).map_err(ConfigError::Tls)
            }
            SecurityProtocol::Plaintext | SecurityProtocol::SaslPlaintext => Ok(None),
        }
    }

    /// Checks the combination: the TLS settings make a configuration, GSSAPI is refused, a
    /// mechanism has its credentials.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let not_supported = |key: &'static str, value: &'static str, reason: &'static str| {
            Err(ConfigError::NotSupported { key, value: value.to_string(), reason })
        };
        match self.protocol {
            SecurityProtocol::Plaintext => return Ok(()),
            SecurityProtocol::Ssl | SecurityProtocol::SaslSsl => {
                #[cfg(feature = "tls")]
                self.tls_client_config()?;
                #[cfg(not(feature = "tls"))]
                return not_supported(
                    "security.protocol",
                    self.protocol.name(),
                    "this build of idem-core lacks the `tls` feature: use PLAINTEXT or SASL_PLAINTEXT",
                );
            }
            SecurityProtocol::SaslPlaintext => {}
        }
        if self.protocol == SecurityProtocol::Ssl {
            return Ok(());
        }
        let Some(mechanism) = self.mechanism else {
            return not_supported(
                "sasl.mechanism",
                "GSSAPI",
                "GSSAPI (Kerberos, Kafka's default sasl.mechanism) is not supported: set sasl.mechanism to PLAIN, \
                 SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER",
            );
        };
        if !mechanism.available() {
            return not_supported(
                "sasl.mechanism",
                mechanism.name(),
                "this build of idem-core lacks the `sasl` feature",
            );
        }
        match mechanism {
            Mechanism::Plain | Mechanism::ScramSha256 | Mechanism::ScramSha512 => {
                if self.username.as_deref().is_none_or(str::is_empty) {
                    return Err(ConfigError::Conflict("sasl.mechanism PLAIN and SCRAM need sasl.username"));
                }
                if self.password.as_ref().is_none_or(|p| p.expose().is_empty()) {
                    return Err(ConfigError::Conflict("sasl.mechanism PLAIN and SCRAM need sasl.password"));
                }
            }
            Mechanism::OAuthBearer => {
                if self.oauthbearer_token.is_none() {
                    return Err(ConfigError::Conflict(
                        "sasl.mechanism OAUTHBEARER needs sasl.oauthbearer.token (or a token provider in the runtime)",
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    fn sasl(pairs: &[(&str, &str)]) -> Result<SecurityConfig, ConfigError> {
        let mut c = SecurityConfig::default();
        for (k, v) in pairs {
            c.set(k, v)?;
        }
        c.validate().map(|()| c)
    }

    #[test]
    fn kafka_names_and_combinations() {
        let c = sasl(&[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.username", "alice"),
            ("sasl.password", "s3cret"),
        ])
        .unwrap();
        assert_eq!(c.sasl(), Some(Mechanism::ScramSha512));
        assert_eq!(sasl(&[("sasl.mechanism", "PLAIN")]).unwrap().sasl(), None, "PLAINTEXT ignores sasl.*");
        let no_mechanism = sasl(&[("security.protocol", "sasl_plaintext")]).unwrap_err();
        assert!(format!("{no_mechanism}").contains("GSSAPI") && format!("{no_mechanism}").contains("sasl.mechanism"));
        for p in ["SSL", "SASL_SSL"] {
            // No CA and no system roots (the runtimes install those): the error names the file
            // setting to give.
            let e = sasl(&[("security.protocol", p)]).unwrap_err();
            assert!(format!("{e}").contains("ssl.ca.location") || format!("{e}").contains("wall clock"), "{e}");
        }
        for (key, value) in [("ssl.ca.location", "/etc/ca.pem"), ("ssl.key.password", "hunter2")] {
            let e = sasl(&[(key, value)]).unwrap_err();
            assert!(matches!(e, ConfigError::NotSupported { .. }) && format!("{e}").contains(key), "{e}");
            assert!(!format!("{e}").contains("hunter2"));
        }
        assert!(sasl(&[("ssl.endpoint.identification.algorithm", "dns")]).is_err());
        assert!(sasl(&[("enable.ssl.certificate.verification", "false")]).is_err());
        let e = sasl(&[("sasl.mechanism", "GSSAPI")]).unwrap_err();
        assert!(format!("{e}").contains("sasl.mechanism") && format!("{e}").contains("GSSAPI is not supported"));
        let e = sasl(&[("security.protocol", "SASL_PLAINTEXT"), ("sasl.mechanism", "PLAIN"), ("sasl.username", "a")]);
        assert!(format!("{}", e.unwrap_err()).contains("sasl.password"));
        let e = sasl(&[("security.protocol", "SASL_PLAINTEXT"), ("sasl.mechanism", "OAUTHBEARER")]);
        assert!(format!("{}", e.unwrap_err()).contains("sasl.oauthbearer.token"));
        assert!(sasl(&[("security.protocol", "TLS")]).is_err());
    }

    #[test]
    fn secrets_never_shown() {
        let c = sasl(&[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "OAUTHBEARER"),
            ("sasl.password", "hunter2"),
            ("sasl.oauthbearer.token", "tok.en-hunter3"),
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("hunter3"), "{shown}");
        let e = SecurityConfig::default().set("sasl.oauthbearer.token", "bad token hunter4").unwrap_err();
        assert!(!format!("{e} {e:?}").contains("hunter4"));
    }
}
