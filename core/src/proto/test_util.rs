//! Checks shared by the codec unit tests.

use super::{Message, Reader};
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
