//! Shared helpers for the Produce/Fetch oracle tests: encode/decode through idem and through
//! the `kafka-protocol` crate, value strategies, and a per-version proptest driver.
#![allow(dead_code)]

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};
use idem_core::proto::{Message, Reader};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Property cases per version and per message direction.
pub const CASES: u32 = 64;

/// Runs `test` on `CASES` values of `strategy(version)` for every version in `versions`;
/// panics with the (shrunk) failing value and its version on failure.
pub fn for_each_version<S: Strategy>(
    versions: std::ops::RangeInclusive<i16>,
    strategy: impl Fn(i16) -> S,
    test: impl Fn(i16, &S::Value),
) {
    for version in versions {
        let config = Config { cases: CASES, failure_persistence: None, ..Config::default() };
        let mut runner = TestRunner::new(config);
        if let Err(e) = runner.run(&strategy(version), |value| {
            test(version, &value);
            Ok(())
        }) {
            panic!("version {version}: {e}");
        }
    }
}

/// Encodes with idem; the bytes must be non-empty.
pub fn idem_encode<'a, M: Message<'a>>(m: &M, version: i16) -> Vec<u8> {
    let mut out = Vec::new();
    m.encode(version, &mut out).unwrap_or_else(|e| panic!("idem encode v{version}: {e}"));
    out
}

/// Decodes with idem; every byte must be consumed.
pub fn idem_decode<'a, M: Message<'a>>(bytes: &'a [u8], version: i16) -> M {
    let mut r = Reader::new(bytes);
    let m = M::decode(&mut r, version).unwrap_or_else(|e| panic!("idem decode v{version}: {e}"));
    assert_eq!(r.remaining(), 0, "idem decode v{version} left bytes");
    m
}

/// Encodes with kafka-protocol.
pub fn kp_encode<T: Encodable>(m: &T, version: i16) -> Vec<u8> {
    let mut buf = BytesMut::new();
    m.encode(&mut buf, version).unwrap_or_else(|e| panic!("kafka-protocol encode v{version}: {e}"));
    buf.to_vec()
}

/// Decodes with kafka-protocol; every byte must be consumed.
pub fn kp_decode<T: Decodable>(bytes: &[u8], version: i16) -> T {
    let mut b = Bytes::copy_from_slice(bytes);
    let m = T::decode(&mut b, version).unwrap_or_else(|e| panic!("kafka-protocol decode v{version}: {e}"));
    assert!(b.is_empty(), "kafka-protocol decode v{version} left {} bytes", b.len());
    m
}

/// A string of arbitrary (also multi-byte) characters.
pub fn string() -> impl Strategy<Value = StrBytes> {
    ".{0,6}".prop_map(StrBytes::from_string)
}

/// A nullable string.
pub fn nullable_string() -> impl Strategy<Value = Option<StrBytes>> {
    proptest::option::of(string())
}

/// Nullable record bytes (arbitrary: batches are not parsed at this level).
pub fn records() -> impl Strategy<Value = Option<Bytes>> {
    proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40).prop_map(Bytes::from))
}

/// Unknown tagged fields with tags from `min_tag` up, only for flexible versions (empty
/// otherwise): idem must skip them.
pub fn unknown_tags(flexible: bool, min_tag: i32) -> impl Strategy<Value = BTreeMap<i32, Bytes>> {
    let max = if flexible { 3 } else { 1 };
    proptest::collection::btree_map(
        min_tag..min_tag + 40,
        proptest::collection::vec(any::<u8>(), 0..6).prop_map(Bytes::from),
        0..max,
    )
    .prop_map(move |m| if flexible { m } else { BTreeMap::new() })
}

/// An `i32` that is `default` in versions below `since`, arbitrary from `since` on.
pub fn i32_since(version: i16, since: i16, default: i32) -> BoxedStrategy<i32> {
    if version >= since { any::<i32>().boxed() } else { Just(default).boxed() }
}

/// An `i64` that is `default` in versions below `since`, arbitrary from `since` on.
pub fn i64_since(version: i16, since: i16, default: i64) -> BoxedStrategy<i64> {
    if version >= since { any::<i64>().boxed() } else { Just(default).boxed() }
}

/// The `&str` of a kafka-protocol string.
pub fn s(x: &StrBytes) -> &str {
    x.as_str()
}

/// The `Option<&str>` of a kafka-protocol nullable string.
pub fn os(x: &Option<StrBytes>) -> Option<&str> {
    x.as_ref().map(|x| x.as_str())
}

/// The `Option<&[u8]>` of kafka-protocol nullable bytes.
pub fn ob(x: &Option<Bytes>) -> Option<&[u8]> {
    x.as_deref()
}

/// Prefixes `body` with its int32 size, making a frame.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

/// Feeds `decode` every single-byte corruption of `bytes` (each position set to 0xFF and to
/// its value with one bit flipped) and every truncation; `decode` must return, not panic,
/// whatever the result.
pub fn corruptions_do_not_panic(bytes: &[u8], decode: impl Fn(&[u8])) {
    let mut buf = bytes.to_vec();
    for i in 0..buf.len() {
        let original = buf[i];
        for value in [0xFF, original ^ 0x40] {
            buf[i] = value;
            decode(&buf);
        }
        buf[i] = original;
        decode(&buf[..i]);
    }
}
