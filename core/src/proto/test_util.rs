//! Checks shared by the codec unit tests.

use super::{DecodeError, EncodeError, Message, Reader};
use alloc::vec::Vec;

/// Encodes `m` in `version` into `buf`, checks the bytes decode back to `m` consuming every
/// byte, and that every strict prefix fails to decode (without panicking).
pub(crate) fn check_truncations<'a, M: Message<'a> + PartialEq + core::fmt::Debug>(
    m: &M,
    version: i16,
    buf: &'a mut Vec<u8>,
) {
    check_truncations_as(m, m, version, buf);
}

/// As [`check_truncations`], but the bytes must decode to `expect` (for fields a version drops).
pub(crate) fn check_truncations_as<'a, M: Message<'a> + PartialEq + core::fmt::Debug>(
    m: &M,
    expect: &M,
    version: i16,
    buf: &'a mut Vec<u8>,
) {
    m.encode(version, buf).unwrap();
    let buf: &'a [u8] = buf;
    let mut r = Reader::new(buf);
    assert_eq!(&M::decode(&mut r, version).unwrap(), expect, "v{version}");
    assert!(r.finish().is_ok());
    for cut in 0..buf.len() {
        let mut r = Reader::new(&buf[..cut]);
        assert!(M::decode(&mut r, version).is_err(), "v{version} cut at {cut} of {}", buf.len());
    }
}

/// Encoding `m` and decoding an `M` in each of `versions` (all unsupported) fail with
/// [`EncodeError::UnsupportedVersion`] and [`DecodeError::UnsupportedVersion`], and the failed
/// encode appends nothing.
pub(crate) fn check_unsupported_versions<'a, M: Message<'a> + core::fmt::Debug>(m: &M, versions: &[i16]) {
    static ZEROS: [u8; 64] = [0; 64];
    let api_key = M::API_KEY.as_i16();
    for &version in versions {
        let mut out = Vec::new();
        assert_eq!(m.encode(version, &mut out), Err(EncodeError::UnsupportedVersion { api_key, version }));
        assert!(out.is_empty());
        let err = M::decode(&mut Reader::new(&ZEROS), version).err();
        assert_eq!(err, Some(DecodeError::UnsupportedVersion { api_key, version }));
    }
}
