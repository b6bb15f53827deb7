//! Shared oracle machinery for the idem-vs-`kafka-protocol` codec tests (ApiVersions,
//! InitProducerId, Metadata, ListOffsets).
//!
//! Each API's test file implements [`Oracle`] for the `kafka-protocol` message types, giving a
//! conversion to the idem type (borrowing the strings) and a field-by-field comparison. The
//! drivers here then check, for every version and proptest-generated values:
//! (a) idem encode -> kafka-protocol decode (all bytes consumed) -> same fields, and the bytes
//!     equal kafka-protocol's own encoding of the decoded value;
//! (b) kafka-protocol encode (with random unknown tagged fields in flexible versions) -> idem
//!     decode (all bytes consumed) -> same fields;
//! (c) idem encode -> idem decode -> equal, and no single corrupted byte makes idem panic.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Debug;

use bytes::{Bytes, BytesMut};
use idem_core::proto::{self, Frame, Message, Reader};
use kafka_protocol::messages::{RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Cases per version per direction: enough to cover the shapes, small enough for debug builds.
pub const CASES: u32 = 64;

/// A `kafka-protocol` message type paired with its idem counterpart.
pub trait Oracle: Encodable + Decodable + HeaderVersion + Clone + Debug {
    /// The idem type.
    type Idem<'a>: Message<'a> + PartialEq + Debug;
    /// The same message as an idem value (borrowing strings from `self`).
    fn to_idem(&self) -> Self::Idem<'_>;
    /// Fails unless every field of `idem` equals the corresponding field of `kp` (unknown
    /// tagged fields aside).
    fn same(idem: &Self::Idem<'_>, kp: &Self) -> Result<(), TestCaseError>;
}

/// A `StrBytes` holding `s`.
pub fn sb(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_owned())
}

/// A `kafka-protocol` UUID from 16 bytes, without depending on the `uuid` crate: decoded as
/// the id of a v10 Metadata request topic.
#[macro_export]
macro_rules! kp_uuid {
    ($bytes:expr) => {{
        let mut wire = ::std::vec::Vec::from($bytes);
        wire.extend_from_slice(&[1, 0]); // empty compact name, no tagged fields
        let mut buf = ::bytes::Bytes::from(wire);
        <::kafka_protocol::messages::metadata_request::MetadataRequestTopic as ::kafka_protocol::protocol::Decodable>::decode(&mut buf, 10)
            .expect("a v10 topic")
            .topic_id
    }};
}

/// Short arbitrary (including non-ASCII) strings.
pub fn string() -> BoxedStrategy<String> {
    prop_oneof![3 => "[a-z0-9._-]{0,12}", 1 => "\\PC{0,6}"].boxed()
}

/// Random unknown tagged fields when `flexible` (tags from 10 up so they never collide with
/// known ones), else none.
pub fn tags(flexible: bool) -> BoxedStrategy<BTreeMap<i32, Bytes>> {
    if flexible {
        proptest::collection::btree_map(10i32..300, proptest::collection::vec(any::<u8>(), 0..6), 0..3)
            .prop_map(|m| m.into_iter().map(|(k, v)| (k, Bytes::from(v))).collect())
            .boxed()
    } else {
        Just(BTreeMap::new()).boxed()
    }
}

/// Encodes with `kafka-protocol`.
pub fn kp_encode<K: Encodable>(k: &K, version: i16) -> Result<Vec<u8>, TestCaseError> {
    let mut buf = BytesMut::new();
    k.encode(&mut buf, version).map_err(|e| TestCaseError::fail(format!("kafka-protocol encode v{version}: {e}")))?;
    Ok(buf.to_vec())
}

/// Decodes with `kafka-protocol`, requiring every byte to be consumed.
pub fn kp_decode<K: Decodable>(bytes: &[u8], version: i16) -> Result<K, TestCaseError> {
    let mut buf = Bytes::copy_from_slice(bytes);
    let k = K::decode(&mut buf, version)
        .map_err(|e| TestCaseError::fail(format!("kafka-protocol decode v{version}: {e}")))?;
    prop_assert!(buf.is_empty(), "kafka-protocol left {} bytes", buf.len());
    Ok(k)
}

/// Decodes with idem, requiring every byte to be consumed.
pub fn idem_decode<'a, M: Message<'a>>(bytes: &'a [u8], version: i16) -> Result<M, TestCaseError> {
    let mut r = Reader::new(bytes);
    let m = M::decode(&mut r, version).map_err(|e| TestCaseError::fail(format!("idem decode v{version}: {e}")))?;
    prop_assert!(r.is_empty(), "idem left {} bytes", r.remaining());
    Ok(m)
}

/// Encodes with idem.
pub fn idem_encode<'a, M: Message<'a>>(m: &M, version: i16) -> Result<Vec<u8>, TestCaseError> {
    let mut out = Vec::new();
    m.encode(version, &mut out).map_err(|e| TestCaseError::fail(format!("idem encode v{version}: {e}")))?;
    Ok(out)
}

/// One generated case in all three directions.
pub fn check_case<K: Oracle>(k: &K, version: i16) -> Result<(), TestCaseError> {
    // (b) kafka-protocol -> idem.
    let kp_bytes = kp_encode(k, version)?;
    let decoded: K::Idem<'_> = idem_decode(&kp_bytes, version)?;
    K::same(&decoded, k)?;
    // (a) idem -> kafka-protocol.
    // `bytes` is declared before `idem` so that it outlives `again`, whose lifetime the final
    // comparison ties to `idem`'s.
    let bytes = idem_encode(&k.to_idem(), version)?;
    let idem = k.to_idem();
    let back: K = kp_decode(&bytes, version)?;
    K::same(&idem, &back)?;
    prop_assert_eq!(kp_encode(&back, version)?, bytes.clone(), "idem's bytes differ from kafka-protocol's");
    // (c) idem -> idem.
    let again: K::Idem<'_> = idem_decode(&bytes, version)?;
    prop_assert_eq!(again, idem);
    // Corrupting any one byte may fail the decode but must not panic.
    let mut corrupt = bytes.clone();
    for i in 0..corrupt.len() {
        corrupt[i] ^= 0xA5;
        let _ = <K::Idem<'_> as Message<'_>>::decode(&mut Reader::new(&corrupt), version);
        corrupt[i] ^= 0xA5;
    }
    Ok(())
}

/// Runs [`check_case`] on [`CASES`] values of `strategy(v)` for every version `v`.
pub fn run_oracle<K: Oracle>(versions: impl IntoIterator<Item = i16>, strategy: impl Fn(i16) -> BoxedStrategy<K>) {
    for v in versions {
        let mut runner = TestRunner::new(Config { cases: CASES, failure_persistence: None, ..Config::default() });
        let result = runner.run(&strategy(v), |k| check_case(&k, v));
        if let Err(e) = result {
            panic!("version {v}: {e}");
        }
    }
}

/// Defines the tests `request_every_version` and `response_every_version`: [`run_oracle`] over
/// `$versions` with the strategies `$request` and `$response`.
#[macro_export]
macro_rules! oracle_tests {
    ($versions:expr, $request:path, $response:path) => {
        #[test]
        fn request_every_version() {
            $crate::common_a::run_oracle($versions, $request);
        }

        #[test]
        fn response_every_version() {
            $crate::common_a::run_oracle($versions, $response);
        }
    };
}

/// Request framing: idem's `encode_request_frame` read back by `kafka-protocol`'s header and
/// body decoders.
pub fn check_request_frame<K: Oracle>(k: &K, version: i16) {
    let idem = k.to_idem();
    let mut out = Vec::new();
    proto::encode_request_frame(&mut out, 0x1234_5678, Some("idem-oracle"), version, &idem).expect("encode frame");
    let Ok(Frame::Complete { body, consumed }) = proto::parse_frame(&out, 1 << 20) else { panic!("no whole frame") };
    assert_eq!(consumed, out.len());
    let mut buf = Bytes::copy_from_slice(body);
    let header = RequestHeader::decode(&mut buf, K::header_version(version)).expect("kafka-protocol header");
    assert_eq!(header.request_api_key, <K::Idem<'_> as Message<'_>>::API_KEY.as_i16());
    assert_eq!(header.request_api_version, version);
    assert_eq!(header.correlation_id, 0x1234_5678);
    assert_eq!(header.client_id.as_deref(), Some("idem-oracle"));
    let back = K::decode(&mut buf, version).expect("kafka-protocol body");
    assert!(buf.is_empty());
    K::same(&idem, &back).expect("same fields");
}

/// Response framing: `kafka-protocol` writes header and body, idem's `decode_response` reads
/// them.
pub fn check_response_frame<K: Oracle>(k: &K, version: i16) {
    let mut header = ResponseHeader::default();
    header.correlation_id = -77;
    let mut buf = BytesMut::new();
    header.encode(&mut buf, K::header_version(version)).expect("kafka-protocol header");
    k.encode(&mut buf, version).expect("kafka-protocol body");
    let body = buf.to_vec();
    let (h, m) = proto::decode_response::<K::Idem<'_>>(&body, version).expect("idem decode_response");
    assert_eq!(h.correlation_id, -77);
    K::same(&m, k).expect("same fields");
    // And idem's response frame reads back with kafka-protocol.
    let idem = k.to_idem();
    let mut out = Vec::new();
    proto::encode_response_frame(&mut out, -77, version, &idem).expect("encode frame");
    let Ok(Frame::Complete { body, .. }) = proto::parse_frame(&out, 1 << 20) else { panic!("no whole frame") };
    let mut buf = Bytes::copy_from_slice(body);
    let header = ResponseHeader::decode(&mut buf, K::header_version(version)).expect("kafka-protocol header");
    assert_eq!(header.correlation_id, -77);
    let back = K::decode(&mut buf, version).expect("kafka-protocol body");
    assert!(buf.is_empty());
    K::same(&idem, &back).expect("same fields");
}
