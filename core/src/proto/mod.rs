//! The Kafka wire codec.
//!
//! Byte-for-byte what Kafka brokers and clients speak, in both directions: the producer encodes
//! requests and decodes responses; idem's broker decodes requests and encodes responses.
//!
//! - Decoding works on borrowed slices ([`Reader`]): strings and record bytes borrow the input,
//!   no length field is trusted, and no input makes a decoder panic.
//! - Encoding appends to a `Vec<u8>` ([`Writer`]); values that a version cannot carry are
//!   [`EncodeError`]s.
//! - Every message implements [`Message`] for each version in [`ApiKey::supported`].
//!
//! ```
//! use idem_core::proto::{self, ApiKey, Frame, Message, api_versions::ApiVersionsRequest};
//! let mut out = Vec::new();
//! let req = ApiVersionsRequest { client_software_name: "idem", client_software_version: "0.1" };
//! proto::encode_request_frame(&mut out, 7, Some("demo"), 3, &req).unwrap();
//! let Ok(Frame::Complete { body, .. }) = proto::parse_frame(&out, 1 << 20) else { panic!() };
//! let (header, mut r) = proto::decode_request_header(body).unwrap();
//! assert_eq!((header.api_key, header.correlation_id), (ApiKey::ApiVersions.as_i16(), 7));
//! let back = ApiVersionsRequest::decode(&mut r, header.api_version).unwrap();
//! assert_eq!(back, req);
//! ```

pub mod api;
mod arrays;
pub mod error;
pub mod error_code;
pub mod frame;
pub mod header;
pub mod reader;
pub mod writer;

pub mod add_offsets_to_txn;
pub mod add_partitions_to_txn;
pub mod api_versions;
pub mod describe_groups;
pub mod end_txn;
pub mod fetch;
pub mod find_coordinator;
pub mod heartbeat;
pub mod init_producer_id;
pub mod join_group;
pub mod leave_group;
pub mod list_groups;
pub mod list_offsets;
pub mod metadata;
pub mod offset_commit;
pub mod offset_fetch;
pub mod produce;
pub mod record_batch;
pub mod sasl_authenticate;
pub mod sasl_handshake;
pub mod sync_group;
#[cfg(test)]
pub(crate) mod test_util;
pub mod txn_offset_commit;

pub use api::{ApiKey, VersionRange};
pub use error::{DecodeError, EncodeError, FrameError};
pub use error_code::ErrorCode;
pub use frame::{Frame, begin_frame, finish_frame, parse_frame};
pub use header::{RequestHeader, ResponseHeader};
pub use reader::Reader;
pub use writer::Writer;

use alloc::vec::Vec;

/// The longest legal topic name, in bytes (Kafka's `Topic.MAX_NAME_LENGTH`).
pub(crate) const MAX_TOPIC_NAME_LEN: usize = 249;

/// A Kafka message body (a request or a response of one API), encodable and decodable in every
/// version of [`ApiKey::supported`] for its [`Message::API_KEY`].
///
/// Contract: for every supported `version`, `decode(encode(m, version), version)` equals `m`
/// with the fields that `version` does not carry at their defaults; `encode` rejects a
/// non-default value in a field the version cannot carry with [`EncodeError::FieldNotInVersion`]
/// only where silently dropping it would change meaning (documented on the field), and otherwise
/// omits it as Kafka does.
pub trait Message<'a>: Sized {
    /// The API this message belongs to.
    const API_KEY: ApiKey;

    /// Appends the body in `version`.
    fn encode(&self, version: i16, out: &mut Vec<u8>) -> Result<(), EncodeError>;

    /// Reads a body of `version` from `r`; stops after the body (the caller checks for trailing
    /// bytes if it wants to).
    fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self, DecodeError>;
}

/// Appends one whole request frame: size prefix, request header, body.
pub fn encode_request_frame<'a, M: Message<'a>>(
    out: &mut Vec<u8>,
    correlation_id: i32,
    client_id: Option<&str>,
    version: i16,
    body: &M,
) -> Result<(), EncodeError> {
    encode_request_frame_with(out, M::API_KEY, correlation_id, client_id, version, |out| {
        body.encode(version, out).map(|()| 0)
    })
}

/// Appends one whole request frame of `api_key` whose body `body` appends, except for the
/// bytes it returns the count of: they belong to the body (the size prefix counts them) but
/// are carried outside `out`. On error nothing is appended.
pub(crate) fn encode_request_frame_with(
    out: &mut Vec<u8>,
    api_key: ApiKey,
    correlation_id: i32,
    client_id: Option<&str>,
    version: i16,
    body: impl FnOnce(&mut Vec<u8>) -> Result<usize, EncodeError>,
) -> Result<(), EncodeError> {
    api_key.check_encode(version)?;
    writer::atomically(out, |out| {
        let at = begin_frame(out);
        let header = RequestHeader { api_key: api_key.as_i16(), api_version: version, correlation_id, client_id };
        header.encode(out)?;
        let outside = body(out)?;
        frame::finish_frame_with(out, at, outside)
    })
}

/// Appends one whole response frame: size prefix, response header, body.
pub fn encode_response_frame<'a, M: Message<'a>>(
    out: &mut Vec<u8>,
    correlation_id: i32,
    version: i16,
    body: &M,
) -> Result<(), EncodeError> {
    M::API_KEY.check_encode(version)?;
    writer::atomically(out, |out| {
        let at = begin_frame(out);
        ResponseHeader { correlation_id }.encode(M::API_KEY.response_header_version(version), out);
        body.encode(version, out).and_then(|()| finish_frame(out, at))
    })
}

/// Reads the request header at the front of a frame body; returns it and a reader positioned
/// at the request body.
pub fn decode_request_header(body: &[u8]) -> Result<(RequestHeader<'_>, Reader<'_>), DecodeError> {
    let mut r = Reader::new(body);
    let header = RequestHeader::decode(&mut r)?;
    Ok((header, r))
}

/// Reads a whole response frame body of message type `M` in `version`: header, then body, and
/// no trailing bytes.
pub fn decode_response<'a, M: Message<'a>>(body: &'a [u8], version: i16) -> Result<(ResponseHeader, M), DecodeError> {
    M::API_KEY.check_decode(version)?;
    let mut r = Reader::new(body);
    let header = ResponseHeader::decode(&mut r, M::API_KEY.response_header_version(version))?;
    let m = M::decode(&mut r, version)?;
    r.finish()?;
    Ok((header, m))
}

/// Like [`decode_response`] but ignores bytes after the message, as Kafka clients do
/// (librdkafka's mock cluster appends a stray byte to Metadata v12 responses).
pub fn decode_response_lenient<'a, M: Message<'a>>(
    body: &'a [u8],
    version: i16,
) -> Result<(ResponseHeader, M), DecodeError> {
    M::API_KEY.check_decode(version)?;
    let mut r = Reader::new(body);
    let header = ResponseHeader::decode(&mut r, M::API_KEY.response_header_version(version))?;
    Ok((header, M::decode(&mut r, version)?))
}

/// Reads the correlation id at the front of a response frame body without decoding the rest
/// (to match a response to its request before knowing its type).
pub fn peek_correlation_id(body: &[u8]) -> Result<i32, DecodeError> {
    Reader::new(body).i32()
}
