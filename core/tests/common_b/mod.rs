//! Shared helpers for the Produce/Fetch oracle tests: encode/decode through idem and through
//! the `kafka-protocol` crate, value strategies, and a per-version proptest driver.
#![allow(dead_code)]

use std::collections::BTreeMap;

use std::fmt::Debug;

use bytes::{Bytes, BytesMut};
use idem_core::proto::{self, Frame, Message, Reader};
use kafka_protocol::messages::{RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Property cases per version and per message direction.
pub const CASES: u32 = 64;

/// A `kafka-protocol` message type paired with its idem counterpart.
pub trait Counterpart: Encodable + Decodable + HeaderVersion + Debug {
    /// The idem type.
    type Idem<'a>: Message<'a> + PartialEq + Debug;
    /// The same message as an idem value (borrowing strings from `self`).
    fn to_idem(&self) -> Self::Idem<'_>;
    /// Panics unless every field of `idem` equals the corresponding field of `kp`.
    fn assert_same(idem: &Self::Idem<'_>, kp: &Self);
}

/// One generated case in every direction: (b) kafka-protocol encode -> idem decode; (a) idem
/// encode -> kafka-protocol decode, re-encoded byte-identically by the oracle; (c) idem round
/// trip; and corruptions of the kafka-protocol bytes never make idem panic.
pub fn check_both_ways<K: Counterpart>(v: i16, kp: &K) {
    // (b) kafka-protocol encode -> idem decode.
    let kp_bytes = kp_encode(kp, v);
    K::assert_same(&idem_decode::<K::Idem<'_>>(&kp_bytes, v), kp);
    // (a) idem encode -> kafka-protocol decode; the oracle re-encodes the same bytes.
    // `bytes` is declared before `value` so that it outlives the decoded copy compared with it.
    let bytes = idem_encode(&kp.to_idem(), v);
    let value = kp.to_idem();
    let back: K = kp_decode(&bytes, v);
    K::assert_same(&value, &back);
    assert_eq!(kp_encode(&back, v), bytes, "byte-identical to kafka-protocol");
    // (c) idem round trip.
    assert_eq!(idem_decode::<K::Idem<'_>>(&bytes, v), value);
    // Corrupted input is an error or some value, never a panic.
    corruptions_do_not_panic(&kp_bytes, |b| {
        let _ = K::Idem::decode(&mut Reader::new(b), v);
    });
}

/// Defines the tests `request_matches_kafka_protocol_in_every_version` and
/// `response_matches_kafka_protocol_in_every_version`: [`check_both_ways`] on values of the
/// strategies `$request` and `$response` for every version in `$versions`.
#[macro_export]
macro_rules! both_ways_tests {
    ($versions:expr, $request:path, $response:path) => {
        #[test]
        fn request_matches_kafka_protocol_in_every_version() {
            $crate::common_b::for_each_version($versions, $request, $crate::common_b::check_both_ways);
        }

        #[test]
        fn response_matches_kafka_protocol_in_every_version() {
            $crate::common_b::for_each_version($versions, $response, $crate::common_b::check_both_ways);
        }
    };
}

/// idem's request frame for `req` (correlation id `correlation_id`, client id "idem") is read
/// by kafka-protocol: the size prefix, a header carrying `api_key`, `v` and the ids, and the
/// body field for field.
pub fn check_request_frame<K: Counterpart>(req: &K::Idem<'_>, api_key: i16, v: i16, correlation_id: i32) {
    let mut out = Vec::new();
    proto::encode_request_frame(&mut out, correlation_id, Some("idem"), v, req).expect("idem encode frame");
    let size = i32::from_be_bytes(out[..4].try_into().expect("size prefix")) as usize;
    assert_eq!(size, out.len() - 4);
    let mut b = Bytes::copy_from_slice(&out[4..]);
    let header = RequestHeader::decode(&mut b, K::header_version(v)).expect("kafka-protocol header");
    assert_eq!(
        (header.request_api_key, header.request_api_version, header.correlation_id),
        (api_key, v, correlation_id)
    );
    assert_eq!(os(&header.client_id), Some("idem"));
    K::assert_same(req, &kp_decode::<K>(&b, v));
}

/// kafka-protocol's response frame for `kp` (correlation id `correlation_id`) is read by
/// idem's `parse_frame` and `decode_response`, field for field.
pub fn check_response_frame<K: Counterpart>(kp: &K, v: i16, correlation_id: i32) {
    let mut body = kp_encode(&ResponseHeader::default().with_correlation_id(correlation_id), K::header_version(v));
    body.extend(kp_encode(kp, v));
    let framed = frame(&body);
    let Ok(Frame::Complete { body, consumed }) = proto::parse_frame(&framed, 1 << 20) else { panic!("frame") };
    assert_eq!(consumed, framed.len());
    let (header, m) = proto::decode_response::<K::Idem<'_>>(body, v).expect("idem decode_response");
    assert_eq!(header.correlation_id, correlation_id);
    K::assert_same(&m, kp);
}

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
