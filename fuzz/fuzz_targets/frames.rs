//! Framing, request headers and every enabled message type in every supported version.
#![no_main]

use idem_core::proto::{self, Message, Reader, api_versions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = proto::parse_frame(data, 1 << 20);
    let Some((&selector, body)) = data.split_first() else { return };
    if let Ok((_, mut r)) = proto::decode_request_header(body) {
        let v = i16::from(selector % 4);
        let _ = api_versions::ApiVersionsRequest::decode(&mut r, v);
    }
    for v in 0..=3 {
        let _ = proto::decode_response::<api_versions::ApiVersionsResponse>(body, v);
        let _ = api_versions::ApiVersionsRequest::decode(&mut Reader::new(body), v);
        // TODO(merge): the other messages once their impls land.
    }
});
