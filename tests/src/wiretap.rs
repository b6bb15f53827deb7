//! A wiretap for readable traces (`IDEM_SIM_TRACE=1`): reassembles each connection's frames in
//! both directions and summarises Produce and InitProducerId requests and responses (producer
//! id, epoch, sequences, error codes, offsets). Debugging aid only; the checker never uses it.

use std::collections::BTreeMap;

use idem_core::proto::init_producer_id::InitProducerIdResponse;
use idem_core::proto::produce::{ProduceRequest, ProduceResponse};
use idem_core::proto::record_batch::RecordBatch;
use idem_core::proto::{self, ApiKey, Frame, Message};

#[derive(Default)]
struct ConnTap {
    to_broker: Vec<u8>,
    to_producer: Vec<u8>,
    /// correlation id -> (api key, version)
    requests: BTreeMap<i32, (i16, i16)>,
}

/// The wiretap: feed it every delivered chunk, get one line per complete frame of interest.
#[derive(Default)]
pub struct Wiretap {
    conns: BTreeMap<u64, ConnTap>,
}

impl Wiretap {
    /// Bytes delivered on `conn` toward the broker (`to_broker`) or the producer.
    pub fn feed(&mut self, conn: u64, to_broker: bool, bytes: &[u8]) -> Vec<String> {
        let tap = self.conns.entry(conn).or_default();
        let buf = if to_broker { &mut tap.to_broker } else { &mut tap.to_producer };
        buf.extend_from_slice(bytes);
        let mut lines = Vec::new();
        loop {
            let buf = if to_broker { &tap.to_broker } else { &tap.to_producer };
            let Ok(Frame::Complete { body, consumed }) = proto::parse_frame(buf, usize::MAX >> 1) else { break };
            let line = if to_broker { request(body, &mut tap.requests) } else { response(body, &tap.requests) };
            lines.extend(line);
            let buf = if to_broker { &mut tap.to_broker } else { &mut tap.to_producer };
            buf.drain(..consumed);
        }
        lines
    }

    /// The connection ended.
    pub fn close(&mut self, conn: u64) {
        self.conns.remove(&conn);
    }
}

fn request(body: &[u8], reqs: &mut BTreeMap<i32, (i16, i16)>) -> Option<String> {
    let (h, mut r) = proto::decode_request_header(body).ok()?;
    reqs.insert(h.correlation_id, (h.api_key, h.api_version));
    let api = ApiKey::from_i16(h.api_key)?;
    match api {
        ApiKey::Produce => {
            let req = ProduceRequest::decode(&mut r, h.api_version).ok()?;
            let mut parts = Vec::new();
            for t in &req.topic_data {
                for p in &t.partition_data {
                    let Some(bytes) = p.records else { continue };
                    if let Ok((b, _)) = RecordBatch::decode(bytes) {
                        let h = b.header;
                        let mut scratch = Vec::new();
                        let first = b
                            .decompressed_records(&mut scratch, 64 << 20)
                            .ok()
                            .and_then(|mut records| records.next())
                            .and_then(Result::ok)
                            .and_then(|r| r.value)
                            .map(|v| String::from_utf8_lossy(&v[..v.len().min(8)]).into_owned());
                        parts.push(format!(
                            "{}-{} pid {} e{} seq {}+{} first {:?}",
                            t.name, p.index, h.producer_id, h.producer_epoch, h.base_sequence, h.record_count, first
                        ));
                    }
                }
            }
            Some(format!("PRODUCE c{} [{}]", h.correlation_id, parts.join("; ")))
        }
        _ => Some(format!("{api:?} c{}", h.correlation_id)),
    }
}

fn response(body: &[u8], reqs: &BTreeMap<i32, (i16, i16)>) -> Option<String> {
    let corr = proto::peek_correlation_id(body).ok()?;
    let (key, version) = *reqs.get(&corr)?;
    match ApiKey::from_i16(key)? {
        ApiKey::Produce => {
            let (_, resp) = proto::decode_response::<ProduceResponse<'_>>(body, version).ok()?;
            let parts: Vec<String> = resp
                .responses
                .iter()
                .flat_map(|t| {
                    t.partition_responses
                        .iter()
                        .map(move |p| format!("{}-{} err {} base {}", t.name, p.index, p.error_code, p.base_offset))
                })
                .collect();
            Some(format!("produce-resp c{corr} [{}]", parts.join("; ")))
        }
        ApiKey::InitProducerId => {
            let (_, resp) = proto::decode_response::<InitProducerIdResponse>(body, version).ok()?;
            Some(format!(
                "init-pid-resp c{corr} err {} pid {} e{}",
                resp.error_code, resp.producer_id, resp.producer_epoch
            ))
        }
        api => Some(format!("{api:?}-resp c{corr}")),
    }
}
