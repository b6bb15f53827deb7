//! PLAIN (RFC 4616): one message `[authzid] NUL authcid NUL passwd`, UTF-8.
//!
//! Kafka's `PlainSaslServer` (KIP-43) accepts an empty authorization id or one equal to the
//! user name ("Authentication failed: Client requested an authorization id that is different
//! from username") and refuses empty user names and passwords; so does [`server_verify`].

use alloc::vec::Vec;

use super::SaslError;

/// The client's one message: empty authorization id, `username`, `password`.
pub fn client_message(username: &str, password: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + username.len() + password.len());
    out.push(0);
    out.extend_from_slice(username.as_bytes());
    out.push(0);
    out.extend_from_slice(password.as_bytes());
    out
}

/// Parses a client message into `(username, password)`, as the server reads it.
pub fn parse(message: &[u8]) -> Result<(&str, &str), SaslError> {
    let text = core::str::from_utf8(message).map_err(|_| SaslError::Malformed("PLAIN message is not UTF-8"))?;
    let mut parts = text.split('\0');
    let (Some(authzid), Some(user), Some(password), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::Malformed("PLAIN message is not authzid NUL authcid NUL passwd"));
    };
    if user.is_empty() || password.is_empty() {
        return Err(SaslError::Malformed("PLAIN user name or password is empty"));
    }
    if !authzid.is_empty() && authzid != user {
        return Err(SaslError::Malformed("PLAIN authorization id differs from the user name"));
    }
    Ok((user, password))
}

/// The server's check: the user name authenticated, if `lookup(username)` holds exactly the
/// password sent. Compares in time independent of where the passwords differ.
pub fn server_verify<'m, 'p>(
    message: &'m [u8],
    lookup: impl FnOnce(&str) -> Option<&'p str>,
) -> Result<&'m str, SaslError> {
    let (user, password) = parse(message)?;
    match lookup(user) {
        Some(expected) if constant_time_eq(expected.as_bytes(), password.as_bytes()) => Ok(user),
        _ => Err(SaslError::BadCredentials),
    }
}

/// Equality whose running time depends only on the lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4616_layout_and_round_trip() {
        // RFC 4616 section 4: "\0tim\0tanstaaftanstaaf".
        assert_eq!(client_message("tim", "tanstaaftanstaaf"), b"\0tim\0tanstaaftanstaaf");
        assert_eq!(parse(b"\0tim\0tanstaaftanstaaf"), Ok(("tim", "tanstaaftanstaaf")));
        assert_eq!(parse(b"tim\0tim\0pw"), Ok(("tim", "pw")));
    }

    #[test]
    fn server_checks_password_and_shape() {
        fn lookup(u: &str) -> Option<&'static str> {
            (u == "alice").then_some("secret")
        }
        assert_eq!(server_verify(b"\0alice\0secret", lookup), Ok("alice"));
        assert_eq!(server_verify(b"\0alice\0wrong", lookup), Err(SaslError::BadCredentials));
        assert_eq!(server_verify(b"\0bob\0secret", lookup), Err(SaslError::BadCredentials));
        assert!(matches!(server_verify(b"bob\0alice\0secret", lookup), Err(SaslError::Malformed(_))));
        assert!(matches!(server_verify(b"\0alice", lookup), Err(SaslError::Malformed(_))));
        assert!(matches!(server_verify(b"\0alice\0secret\0x", lookup), Err(SaslError::Malformed(_))));
        assert!(matches!(server_verify(b"\0\0secret", lookup), Err(SaslError::Malformed(_))));
        assert!(matches!(server_verify(&[0, 0xff, 0, b'x'], lookup), Err(SaslError::Malformed(_))));
    }
}
