//! OAUTHBEARER (RFC 7628, KIP-255): the client initial response
//! `n,,\x01auth=Bearer <token>\x01\x01` (GS2 header without channel binding or authorization
//! id, then `key=value` pairs separated by `\x01`), as Kafka's `OAuthBearerClientInitialResponse`.
//!
//! The token must be a `b64token` (RFC 6750 section 2.1: letters, digits, `-._~+/`, then `=`
//! padding), the pattern Kafka's `OAuthBearerClientInitialResponse` enforces; this also keeps a
//! token from smuggling `\x01` separators into the message.
//!
//! Server side (idem's broker): [`server_token`] extracts the token and accepts any well-formed,
//! non-empty `b64token`, unsecured or not: no claim is parsed and no signature, expiry or scope
//! is checked (looser than Kafka's `OAuthBearerUnsecuredValidatorCallbackHandler`, which also
//! requires the `sub` and `exp` claims): a test broker, not a validator.

use alloc::vec::Vec;

use super::SaslError;

/// Whether `token` is a non-empty RFC 6750 `b64token`.
pub fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/'))
}

/// The client initial response for `token`; an error if it is not a `b64token`.
pub fn client_message(token: &str) -> Result<Vec<u8>, SaslError> {
    if !is_b64token(token) {
        return Err(SaslError::Malformed("OAUTHBEARER token is not an RFC 6750 b64token"));
    }
    let mut out = Vec::with_capacity(token.len() + 20);
    out.extend_from_slice(b"n,,\x01auth=Bearer ");
    out.extend_from_slice(token.as_bytes());
    out.extend_from_slice(b"\x01\x01");
    Ok(out)
}

/// The token of a client initial response, as the server reads it.
pub fn server_token(message: &[u8]) -> Result<&str, SaslError> {
    let text = core::str::from_utf8(message).map_err(|_| SaslError::Malformed("OAUTHBEARER message is not UTF-8"))?;
    // GS2 header: "n,," or "n,a=<authzid>,", then the pairs; the message ends with \x01\x01.
    let rest = text.strip_prefix("n,").or_else(|| text.strip_prefix("y,"));
    let rest = rest.ok_or(SaslError::Malformed("OAUTHBEARER GS2 header must start with n, or y,"))?;
    let (_authzid, pairs) = rest.split_once(',').ok_or(SaslError::Malformed("OAUTHBEARER GS2 header unterminated"))?;
    let pairs = pairs.strip_prefix('\x01').ok_or(SaslError::Malformed("OAUTHBEARER pairs must start with \\x01"))?;
    let pairs =
        pairs.strip_suffix("\x01\x01").ok_or(SaslError::Malformed("OAUTHBEARER message must end \\x01\\x01"))?;
    let mut token = None;
    for pair in pairs.split('\x01') {
        let (key, value) = pair.split_once('=').ok_or(SaslError::Malformed("OAUTHBEARER pair without ="))?;
        if key == "auth" {
            let t = value.strip_prefix("Bearer ").ok_or(SaslError::Malformed("OAUTHBEARER auth is not Bearer"))?;
            token = Some(t);
        }
    }
    let token = token.ok_or(SaslError::Malformed("OAUTHBEARER message has no auth pair"))?;
    if !is_b64token(token) {
        return Err(SaslError::BadCredentials);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7628_layout_and_round_trip() {
        let m = client_message("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.").unwrap();
        assert_eq!(m, b"n,,\x01auth=Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.\x01\x01");
        assert_eq!(server_token(&m), Ok("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9."));
        // RFC 7628 section 4.1's example has an authzid and a host/port pair.
        let m = b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01";
        assert_eq!(server_token(m), Ok("vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="));
    }

    #[test]
    fn bad_tokens_and_messages() {
        assert!(client_message("").is_err());
        assert!(client_message("a\x01auth=Bearer b").is_err());
        assert!(client_message("a b").is_err());
        assert!(matches!(server_token(b"n,,\x01auth=Bearer \x01\x01"), Err(SaslError::BadCredentials)));
        assert!(matches!(server_token(b"n,,\x01\x01"), Err(SaslError::Malformed(_))));
        assert!(matches!(server_token(b"p=x,,\x01auth=Bearer t\x01\x01"), Err(SaslError::Malformed(_))));
        assert!(matches!(server_token(b"n,,\x01auth=Basic t\x01\x01"), Err(SaslError::Malformed(_))));
        assert!(matches!(server_token(&[b'n', b',', 0xff]), Err(SaslError::Malformed(_))));
    }
}
