//! The `kafka-protocol` oracle harness, shared by every `oracle_*.rs` codec test (ApiVersions,
//! InitProducerId, Metadata, ListOffsets, Produce, Fetch).
//!
//! Each API's test file implements [`Oracle`] for the `kafka-protocol` message types: a
//! conversion to the idem type (borrowing the strings) and a field-by-field comparison. The
//! drivers here then check, for every version and proptest-generated values ([`oracle_tests!`]
//! and [`check_both_ways`]):
//! (a) idem encode -> kafka-protocol decode (all bytes consumed) -> same fields, and the bytes
//!     equal kafka-protocol's own encoding of the decoded value;
//! (b) kafka-protocol encode (with random unknown tagged fields in flexible versions) -> idem
//!     decode (all bytes consumed) -> same fields;
//! (c) idem encode -> idem decode -> equal, and no corrupted or truncated input, of either
//!     encoding, makes idem panic.
//!
//! Framing: [`check_request_frame`] and [`check_response_frame`].
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Debug;

use bytes::{Bytes, BytesMut};
use idem_core::proto::{self, Frame, Message, Reader};
use kafka_protocol::messages::{RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Cases per version per direction: enough to cover the shapes, small enough for debug builds.
pub const CASES: u32 = 64;

/// A `kafka-protocol` message type paired with its idem counterpart.
pub trait Oracle: Encodable + Decodable + HeaderVersion + Debug {
    /// The idem type.
    type Idem<'a>: Message<'a> + PartialEq + Debug;
    /// The same message as an idem value (borrowing strings from `self`).
    fn to_idem(&self) -> Self::Idem<'_>;
    /// Panics unless every field of `idem` equals the corresponding field of `kp` (unknown
    /// tagged fields aside).
    fn assert_same(idem: &Self::Idem<'_>, kp: &Self);
}

/// One generated case in every direction: (b) kafka-protocol encode -> idem decode; (a) idem
/// encode -> kafka-protocol decode, re-encoded byte-identically by the oracle; (c) idem round
/// trip; and corruptions of either encoding never make idem panic.
pub fn check_both_ways<K: Oracle>(v: i16, kp: &K) {
    // (b) kafka-protocol encode -> idem decode.
    let kp_bytes = kp_encode(kp, v);
    K::assert_same(&idem_decode::<K::Idem<'_>>(&kp_bytes, v), kp);
    // (a) idem encode -> kafka-protocol decode; the oracle re-encodes the same bytes.
    // `bytes` is declared before `value` so that it outlives the decoded copy compared with it.
    let bytes = idem_encode(&kp.to_idem(), v);
    let value = kp.to_idem();
    let back: K = kp_decode(&bytes, v);
    K::assert_same(&value, &back);
    assert_eq!(kp_encode(&back, v), bytes, "idem's bytes differ from kafka-protocol's");
    // (c) idem round trip.
    assert_eq!(idem_decode::<K::Idem<'_>>(&bytes, v), value);
    // Corrupted input is an error or some value, never a panic.
    for input in [&kp_bytes, &bytes] {
        corruptions_do_not_panic(input, |b| {
            let _ = K::Idem::decode(&mut Reader::new(b), v);
        });
    }
}

/// Runs `test` on [`CASES`] values of `strategy(version)` for every version in `versions`;
/// panics with the (shrunk) failing value and its version on failure.
pub fn for_each_version<S: Strategy>(
    versions: impl IntoIterator<Item = i16>,
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

/// Defines the tests `request_matches_kafka_protocol_in_every_version` and
/// `response_matches_kafka_protocol_in_every_version`: [`check_both_ways`] on values of the
/// strategies `$request` and `$response` for every version in `$versions`.
#[macro_export]
macro_rules! oracle_tests {
    ($versions:expr, $request:path, $response:path) => {
        $crate::oracle_tests!(@one request_matches_kafka_protocol_in_every_version, $versions, $request);
        $crate::oracle_tests!(@one response_matches_kafka_protocol_in_every_version, $versions, $response);
    };
    (@one $name:ident, $versions:expr, $strategy:path) => {
        #[test]
        fn $name() {
            $crate::kafka_protocol_oracle::for_each_version(
                $versions,
                $strategy,
                $crate::kafka_protocol_oracle::check_both_ways,
            );
        }
    };
}

/// idem's request frame for `req` (correlation id `correlation_id`, client id "idem") is read
/// by kafka-protocol: the size prefix, a header carrying the API key, `v` and the ids, and the
/// body field for field.
pub fn check_request_frame<K: Oracle>(req: &K::Idem<'_>, v: i16, correlation_id: i32) {
    let mut out = Vec::new();
    proto::encode_request_frame(&mut out, correlation_id, Some("idem"), v, req).expect("idem encode frame");
    let size = i32::from_be_bytes(out[..4].try_into().expect("size prefix")) as usize;
    assert_eq!(size, out.len() - 4);
    let Ok(Frame::Complete { body, consumed }) = proto::parse_frame(&out, 1 << 20) else { panic!("no whole frame") };
    assert_eq!(consumed, out.len());
    let mut b = Bytes::copy_from_slice(body);
    let header = RequestHeader::decode(&mut b, K::header_version(v)).expect("kafka-protocol header");
    assert_eq!(
        (header.request_api_key, header.request_api_version, header.correlation_id),
        (<K::Idem<'_> as Message<'_>>::API_KEY.as_i16(), v, correlation_id)
    );
    assert_eq!(os(&header.client_id), Some("idem"));
    K::assert_same(req, &kp_decode::<K>(&b, v));
}

/// kafka-protocol's response frame for `kp` (correlation id `correlation_id`) is read by
/// idem's `parse_frame` and `decode_response`, field for field; and idem's response frame for
/// the same value is read back by kafka-protocol.
pub fn check_response_frame<K: Oracle>(kp: &K, v: i16, correlation_id: i32) {
    let mut body = kp_encode(&ResponseHeader::default().with_correlation_id(correlation_id), K::header_version(v));
    body.extend(kp_encode(kp, v));
    let framed = frame(&body);
    let Ok(Frame::Complete { body, consumed }) = proto::parse_frame(&framed, 1 << 20) else { panic!("frame") };
    assert_eq!(consumed, framed.len());
    let (header, m) = proto::decode_response::<K::Idem<'_>>(body, v).expect("idem decode_response");
    assert_eq!(header.correlation_id, correlation_id);
    K::assert_same(&m, kp);
    // And idem's response frame reads back with kafka-protocol.
    let idem = kp.to_idem();
    let mut out = Vec::new();
    proto::encode_response_frame(&mut out, correlation_id, v, &idem).expect("idem encode frame");
    let Ok(Frame::Complete { body, .. }) = proto::parse_frame(&out, 1 << 20) else { panic!("no whole frame") };
    let mut b = Bytes::copy_from_slice(body);
    let header = ResponseHeader::decode(&mut b, K::header_version(v)).expect("kafka-protocol header");
    assert_eq!(header.correlation_id, correlation_id);
    K::assert_same(&idem, &kp_decode::<K>(&b, v));
}

/// Encodes with idem.
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

/// Short names (mostly ASCII, sometimes any printable characters), as `String`s.
pub fn text() -> BoxedStrategy<String> {
    prop_oneof![3 => "[a-z0-9._-]{0,12}", 1 => "\\PC{0,6}"].boxed()
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

/// Unknown tagged fields with tags from `min_tag` up (to 300, so that some tags take two
/// varint bytes), only for flexible versions (empty otherwise): idem must skip them.
pub fn unknown_tags(flexible: bool, min_tag: i32) -> BoxedStrategy<BTreeMap<i32, Bytes>> {
    if flexible {
        proptest::collection::btree_map(
            min_tag..300,
            proptest::collection::vec(any::<u8>(), 0..6).prop_map(Bytes::from),
            0..3,
        )
        .boxed()
    } else {
        Just(BTreeMap::new()).boxed()
    }
}

/// Unknown tagged fields from tag 10 up (clear of every known tag of the APIs that use it).
pub fn tags(flexible: bool) -> BoxedStrategy<BTreeMap<i32, Bytes>> {
    unknown_tags(flexible, 10)
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

/// Feeds `decode` every single-byte corruption of `bytes` (each position set to 0xFF, and to
/// its value with one bit or the 0xA5 pattern flipped) and every truncation; `decode` must
/// return, not panic, whatever the result.
pub fn corruptions_do_not_panic(bytes: &[u8], decode: impl Fn(&[u8])) {
    let mut buf = bytes.to_vec();
    for i in 0..buf.len() {
        let original = buf[i];
        for value in [0xFF, original ^ 0x40, original ^ 0xA5] {
            buf[i] = value;
            decode(&buf);
        }
        buf[i] = original;
        decode(&buf[..i]);
    }
}

// ---- offset commits: OffsetCommit and TxnOffsetCommit share their topics' fields ----------

/// idem's topics of an offset commit request (OffsetCommit, TxnOffsetCommit) from
/// kafka-protocol's (each API has its own types with the same fields), borrowing the strings.
#[macro_export]
macro_rules! commit_request_topics_to_idem {
    ($topics:expr) => {
        $topics
            .iter()
            .map(|t| ::idem_core::proto::offset_commit::OffsetCommitRequestTopic {
                name: t.name.as_str(),
                partitions: t
                    .partitions
                    .iter()
                    .map(|p| ::idem_core::proto::offset_commit::OffsetCommitRequestPartition {
                        partition_index: p.partition_index,
                        committed_offset: p.committed_offset,
                        committed_leader_epoch: p.committed_leader_epoch,
                        committed_metadata: $crate::kafka_protocol_oracle::os(&p.committed_metadata),
                    })
                    .collect(),
            })
            .collect()
    };
}

/// Asserts that idem's offset commit request topics are kafka-protocol's, field for field.
#[macro_export]
macro_rules! assert_same_commit_request_topics {
    ($idem:expr, $kp:expr) => {{
        assert_eq!($idem.len(), $kp.len());
        for (a, b) in $idem.iter().zip($kp) {
            assert_eq!(a.name, b.name.as_str());
            assert_eq!(a.partitions.len(), b.partitions.len());
            for (p, q) in a.partitions.iter().zip(&b.partitions) {
                assert_eq!(p.partition_index, q.partition_index);
                assert_eq!(p.committed_offset, q.committed_offset);
                assert_eq!(p.committed_leader_epoch, q.committed_leader_epoch);
                assert_eq!(p.committed_metadata, $crate::kafka_protocol_oracle::os(&q.committed_metadata));
            }
        }
    }};
}

/// Implements [`Oracle`] for an offset commit response of kafka-protocol (`$kp`: OffsetCommit's
/// or TxnOffsetCommit's, whose fields are the same) and its idem type `$idem`.
#[macro_export]
macro_rules! commit_response_oracle {
    ($kp:ty, $idem:ident) => {
        impl $crate::kafka_protocol_oracle::Oracle for $kp {
            type Idem<'a> = $idem<'a>;

            fn to_idem(&self) -> $idem<'_> {
                let topics = self.topics.iter().map(|t| ::idem_core::proto::offset_commit::OffsetCommitResponseTopic {
                    name: t.name.as_str(),
                    partitions: t
                        .partitions
                        .iter()
                        .map(|p| ::idem_core::proto::offset_commit::OffsetCommitResponsePartition {
                            partition_index: p.partition_index,
                            error_code: p.error_code,
                        })
                        .collect(),
                });
                $idem { throttle_time_ms: self.throttle_time_ms, topics: topics.collect() }
            }

            fn assert_same(i: &$idem<'_>, k: &Self) {
                assert_eq!(i.throttle_time_ms, k.throttle_time_ms);
                assert_eq!(i.topics.len(), k.topics.len());
                for (a, b) in i.topics.iter().zip(&k.topics) {
                    assert_eq!(a.name, b.name.as_str());
                    assert_eq!(a.partitions.len(), b.partitions.len());
                    for (p, q) in a.partitions.iter().zip(&b.partitions) {
                        assert_eq!(p.partition_index, q.partition_index);
                        assert_eq!(p.error_code, q.error_code);
                    }
                }
            }
        }
    };
}

/// A strategy of kafka-protocol offset commit request topics (types `$topic`, `$partition`) in
/// version `$v`: the leader epoch from version `$epoch_since` on, unknown tagged fields when
/// `$flexible`.
#[macro_export]
macro_rules! commit_request_topics {
    ($topic:ty, $partition:ty, $v:expr, $epoch_since:expr, $flexible:expr) => {{
        use ::proptest::prelude::*;
        use $crate::kafka_protocol_oracle::{i32_since, nullable_string, sb, tags, text};
        let partition = (any::<(i32, i64)>(), i32_since($v, $epoch_since, -1), nullable_string(), tags($flexible))
            .prop_map(|((index, offset), epoch, metadata, tags)| {
                let mut p = <$partition>::default();
                p.partition_index = index;
                p.committed_offset = offset;
                p.committed_leader_epoch = epoch;
                p.committed_metadata = metadata;
                p.unknown_tagged_fields = tags;
                p
            });
        let topic = (text(), ::proptest::collection::vec(partition, 0..4), tags($flexible)).prop_map(
            |(n, partitions, tags)| {
                let mut t = <$topic>::default();
                t.name = ::kafka_protocol::messages::TopicName(sb(&n));
                t.partitions = partitions;
                t.unknown_tagged_fields = tags;
                t
            },
        );
        ::proptest::collection::vec(topic, 0..4)
    }};
}

/// A strategy of kafka-protocol offset commit response topics (types `$topic`, `$partition`),
/// with unknown tagged fields when `$flexible`.
#[macro_export]
macro_rules! commit_response_topics {
    ($topic:ty, $partition:ty, $flexible:expr) => {{
        use ::proptest::prelude::*;
        use $crate::kafka_protocol_oracle::{sb, tags, text};
        let partition = (any::<(i32, i16)>(), tags($flexible)).prop_map(|((index, error), tags)| {
            let mut p = <$partition>::default();
            p.partition_index = index;
            p.error_code = error;
            p.unknown_tagged_fields = tags;
            p
        });
        let topic = (text(), ::proptest::collection::vec(partition, 0..4), tags($flexible)).prop_map(
            |(n, partitions, tags)| {
                let mut t = <$topic>::default();
                t.name = ::kafka_protocol::messages::TopicName(sb(&n));
                t.partitions = partitions;
                t.unknown_tagged_fields = tags;
                t
            },
        );
        ::proptest::collection::vec(topic, 0..4)
    }};
}
