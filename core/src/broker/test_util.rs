//! Test helpers: a client's view of the cluster (encode requests, decode responses).

use super::{BrokerAddress, BrokerInput, BrokerOutput, Cluster, ClusterConfig, ConnId, FaultSpec, TopicConfig};
use crate::proto::record_batch::{Compression, CompressionContext, ProducerStamp, RecordBatchBuilder};
use crate::proto::{self, Frame, Message};
use crate::time::Instant;
use alloc::string::String;
use alloc::vec::Vec;
use alloc::{format, vec};

pub fn config(brokers: i32, faults: &str) -> ClusterConfig {
    ClusterConfig {
        brokers: (0..brokers)
            .map(|i| BrokerAddress { node_id: i, host: "127.0.0.1".into(), port: 9092 + i as u16 })
            .collect(),
        topics: vec![TopicConfig { name: "t".into(), partitions: 3 }],
        faults: FaultSpec::parse(faults).unwrap(),
        seed: 7,
        ..ClusterConfig::default()
    }
}

/// A fresh cluster with its start-up outputs drained.
pub fn cluster(brokers: i32, faults: &str) -> Cluster {
    let mut c = Cluster::new(config(brokers, faults), Instant::ZERO).unwrap();
    drain(&mut c);
    c
}

pub fn at(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

/// Drains outputs until the Timeout.
pub fn drain(c: &mut Cluster) -> (Vec<BrokerOutput>, Option<Instant>) {
    let mut out = Vec::new();
    loop {
        match c.poll_output() {
            BrokerOutput::Timeout(t) => return (out, t),
            o => out.push(o),
        }
    }
}

pub fn accept(c: &mut Cluster, conn: u64, broker: i32) {
    c.handle_input(BrokerInput::Accepted { now: c.now, conn: ConnId(conn), broker_id: broker });
}

pub fn frame<'a, M: Message<'a>>(corr: i32, version: i16, body: &M) -> Vec<u8> {
    let mut out = Vec::new();
    proto::encode_request_frame(&mut out, corr, Some("test"), version, body).unwrap();
    out
}

pub fn send(c: &mut Cluster, now: Instant, conn: u64, bytes: &[u8]) {
    c.handle_input(BrokerInput::Received { now, conn: ConnId(conn), bytes });
}

/// The bytes transmitted on `conn`, and whether it was closed.
pub fn transmitted(outputs: &[BrokerOutput], conn: u64) -> (Vec<u8>, bool) {
    let mut data = Vec::new();
    let mut closed = false;
    for o in outputs {
        match o {
            BrokerOutput::Transmit { conn: c, data: d } if c.0 == conn => data.extend_from_slice(d),
            BrokerOutput::Close { conn: c } if c.0 == conn => closed = true,
            _ => {}
        }
    }
    (data, closed)
}

pub fn logs(outputs: &[BrokerOutput]) -> Vec<String> {
    outputs
        .iter()
        .filter_map(|o| match o {
            BrokerOutput::Log(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

/// Splits transmitted bytes into frame bodies.
pub fn frames(mut data: &[u8]) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    while let Ok(Frame::Complete { body, consumed }) = proto::parse_frame(data, usize::MAX) {
        v.push(body.to_vec());
        data = &data[consumed..];
    }
    assert!(data.is_empty(), "trailing partial frame");
    v
}

/// Sends one request, drains, returns the single response body of `conn` (panics otherwise).
pub fn roundtrip<'a, Req: Message<'a>>(c: &mut Cluster, conn: u64, corr: i32, version: i16, req: &Req) -> Vec<u8> {
    let now = c.now;
    send(c, now, conn, &frame(corr, version, req));
    let (out, _) = drain(c);
    let (data, closed) = transmitted(&out, conn);
    assert!(!closed, "connection closed: {:?}", logs(&out));
    let mut f = frames(&data);
    assert_eq!(f.len(), 1, "expected one response, logs {:?}", logs(&out));
    f.remove(0)
}

/// Decodes a response body and checks the correlation id.
pub fn decode<'a, M: Message<'a>>(body: &'a [u8], corr: i32, version: i16) -> M {
    let (h, m) = proto::decode_response::<M>(body, version).unwrap();
    assert_eq!(h.correlation_id, corr);
    m
}

/// A sealed batch of `n` records with values `{tag}-{i}`.
pub fn batch(producer_id: i64, epoch: i16, base_sequence: i32, n: usize, tag: &str) -> Vec<u8> {
    compressed_batch(producer_id, epoch, base_sequence, n, tag, Compression::None)
}

/// The same batch with its records compressed by `codec`.
pub fn compressed_batch(
    producer_id: i64,
    epoch: i16,
    base_sequence: i32,
    n: usize,
    tag: &str,
    codec: Compression,
) -> Vec<u8> {
    let mut b = RecordBatchBuilder::new(1_000);
    for i in 0..n {
        let v = format!("{tag}-{i}");
        b.append(1_000 + i as i64, None, Some(v.as_bytes()), &[]).unwrap();
    }
    let stamp = ProducerStamp { producer_id, producer_epoch: epoch, base_sequence };
    b.seal_compressed(stamp, codec, None, &mut CompressionContext::new()).unwrap()
}
