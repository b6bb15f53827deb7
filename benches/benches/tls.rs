//! Criterion bench: what TLS costs the producer, through the whole sans-IO path with no I/O:
//! `send` -> seal -> Produce request -> (TLS records) -> idem's in-memory cluster (decrypt,
//! decode, validate, append) -> response -> (TLS records) -> `Delivered`, for 100 B and 1 KiB
//! records, plaintext and TLS 1.3 (rustls with ring, AES-128-GCM or ChaCha20 as negotiated).
//! Both ends run in this thread, so the difference between the two rows is TLS at both ends:
//! the producer's encryption and the broker's decryption of the requests, and the reverse for
//! the (small) responses. Printed before the criterion run: that difference per MB of record
//! values, and the heap a TLS connection holds (client and server session together) after its
//! handshake and a run of records, against a plaintext one.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use idem_core::broker::{self, BrokerAddress, BrokerInput, BrokerOutput, Cluster, ClusterConfig, TopicConfig};
use idem_core::producer::{ConnId, Event, Input, Output, Producer, ProducerConfig, ProducerRecord, SendError};
use idem_core::tls::rustls::time_provider::DefaultTimeProvider;
use idem_core::{Duration, Instant};
use idem_mock::TestCertificates;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use std::alloc::System;
use std::cell::RefCell;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant as StdInstant;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const TOPIC: &str = "bench";
const PARTITIONS: i32 = 3;
const LINGER: Duration = Duration::from_millis(5);

/// Heap bytes in use by the whole process.
fn heap() -> i64 {
    let s = GLOBAL.stats();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64 + s.bytes_reallocated as i64
}

/// Producer core and in-memory cluster joined in memory, plaintext or TLS.
struct Pipe {
    p: Producer,
    cluster: Cluster,
    now: Instant,
    value: Vec<u8>,
    sent: u64,
    delivered: u64,
    /// The "socket": each transmitted request's chunks copied in (a reused buffer).
    wire: Vec<u8>,
}

impl Pipe {
    fn new(size: usize, tls: Option<&TestCertificates>) -> Pipe {
        Pipe::warmed(size, tls, 50_000) // handshakes, metadata, producer id, buffers at steady state
    }

    fn warmed(size: usize, tls: Option<&TestCertificates>, warm_up: u64) -> Pipe {
        let mut cc = ClusterConfig {
            brokers: vec![BrokerAddress { node_id: 1, host: "localhost".into(), port: 9093 }],
            topics: vec![TopicConfig { name: TOPIC.into(), partitions: PARTITIONS }],
            log_max_bytes: 1 << 20, // the logs roll: the bench runs for millions of records
            ..ClusterConfig::default()
        };
        let mut pc = ProducerConfig::new("localhost:9093")
            .expect("config")
            .linger(LINGER)
            .batch_size(128 * 1024)
            .buffer_memory(32 * 1024 * 1024)
            .max_in_flight(5);
        if let Some(certs) = tls {
            cc.tls = Some(certs.broker_settings());
            pc.set("security.protocol", "SSL").expect("SSL");
            pc.set("ssl.ca.pem", &certs.ca_pem).expect("CA");
            pc.security.tls.wall_clock = Some(Arc::new(DefaultTimeProvider));
        }
        let mut pipe = Pipe {
            p: Producer::new(pc, Instant::ZERO).expect("producer"),
            cluster: Cluster::new(cc, Instant::ZERO).expect("cluster"),
            now: Instant::ZERO,
            value: vec![b'x'; size],
            sent: 0,
            delivered: 0,
            wire: Vec::new(),
        };
        pipe.run(warm_up);
        pipe
    }

    /// Moves bytes until neither side has anything to do.
    fn pump(&mut self) {
        loop {
            let mut progress = false;
            loop {
                match self.p.poll_output() {
                    Output::Connect { conn, .. } => {
                        progress = true;
                        let c = broker::ConnId(conn.0);
                        self.cluster.handle_input(BrokerInput::Accepted { now: self.now, conn: c, broker_id: 1 });
                        self.p.handle_input(Input::Connected { now: self.now, conn });
                    }
                    Output::Transmit { conn, data } => {
                        progress = true;
                        self.wire.clear();
                        data.chunks().for_each(|c| self.wire.extend_from_slice(c));
                        drop(data);
                        let c = broker::ConnId(conn.0);
                        self.cluster.handle_input(BrokerInput::Received { now: self.now, conn: c, bytes: &self.wire });
                    }
                    Output::Close { conn } => {
                        progress = true;
                        self.cluster.handle_input(BrokerInput::Closed { now: self.now, conn: broker::ConnId(conn.0) });
                    }
                    Output::Event(Event::Delivered { .. }) => self.delivered += 1,
                    Output::Event(e) => panic!("unexpected event {e:?}"),
                    Output::Diagnostic(d) => {
                        black_box(d);
                    }
                    Output::Timeout(_) => break,
                }
            }
            loop {
                match self.cluster.poll_output() {
                    BrokerOutput::Transmit { conn, data } => {
                        progress = true;
                        self.p.handle_input(Input::Received { now: self.now, conn: ConnId(conn.0), bytes: &data });
                    }
                    BrokerOutput::Close { conn } => {
                        progress = true;
                        self.p.handle_input(Input::Disconnected { now: self.now, conn: ConnId(conn.0) });
                    }
                    BrokerOutput::Log(_) | BrokerOutput::Debug { .. } => {}
                    BrokerOutput::Timeout(_) => break,
                }
            }
            if !progress {
                return;
            }
        }
    }

    /// Sends `n` records (partitions round robin) and waits until all are reported.
    fn run(&mut self, n: u64) {
        let value = std::mem::take(&mut self.value);
        for _ in 0..n {
            let rec = ProducerRecord {
                topic: TOPIC,
                partition: Some((self.sent % PARTITIONS as u64) as i32),
                key: None,
                value: Some(&value),
                headers: &[],
                timestamp_ms: 1_700_000_000_000,
            };
            loop {
                match self.p.send(self.now, &rec) {
                    Ok(id) => {
                        black_box(id);
                        break;
                    }
                    Err(SendError::QueueFull) => self.pump(),
                    Err(e) => panic!("send: {e}"),
                }
            }
            self.sent += 1;
            if self.sent % 256 == 0 {
                self.pump();
            }
        }
        self.value = value;
        while self.delivered < self.sent {
            self.pump();
            if self.delivered < self.sent {
                self.now += LINGER;
                self.p.handle_input(Input::Timeout(self.now));
                self.cluster.handle_input(BrokerInput::Timeout(self.now));
            }
        }
    }
}

/// Seconds for `n` records through a fresh pipe (after its warm-up).
fn seconds(size: usize, tls: Option<&TestCertificates>, n: u64) -> f64 {
    let mut pipe = Pipe::new(size, tls);
    let t = StdInstant::now();
    pipe.run(n);
    t.elapsed().as_secs_f64()
}

fn report(certs: &TestCertificates) {
    for (size, n) in [(100usize, 1_000_000u64), (1024, 300_000)] {
        // Best of three each, alternating, to damp a shared machine's noise.
        let (mut plain, mut tls) = (f64::MAX, f64::MAX);
        for _ in 0..3 {
            plain = plain.min(seconds(size, None, n));
            tls = tls.min(seconds(size, Some(certs), n));
        }
        let mb = (n as f64 * size as f64) / 1e6;
        println!(
            "{size} B records: plaintext {:.0} records/s, TLS {:.0} records/s ({:.2}x); TLS costs {:.2} ms per MB of values \
             (both ends)",
            n as f64 / plain,
            n as f64 / tls,
            plain / tls,
            (tls - plain) * 1e3 / mb
        );
    }
    // Heap held by a pipe (producer, cluster, one connection between them) after one record
    // and after 20,000 records of 1 KiB, with and without TLS: the difference is what TLS holds
    // per connection, client and server session together (rustls's buffers).
    for warm_up in [1u64, 20_000] {
        let held = |tls: Option<&TestCertificates>| {
            let h0 = heap();
            let pipe = Pipe::warmed(1024, tls, warm_up);
            let held = heap() - h0;
            drop(pipe);
            held
        };
        let (plain, tls) = (held(None), held(Some(certs)));
        println!(
            "heap after {warm_up} records of 1 KiB: plaintext pipe {} KiB, TLS pipe {} KiB: TLS holds {} KiB per \
             connection (client and server session together)",
            plain / 1024,
            tls / 1024,
            (tls - plain) / 1024
        );
    }
}

fn tls(c: &mut Criterion) {
    let certs = TestCertificates::generate(&["localhost"]).expect("certificates");
    report(&certs);
    let mut g = c.benchmark_group("tls");
    for size in [100usize, 1024] {
        for (name, tls) in [("plaintext", None), ("tls", Some(&certs))] {
            let pipe = RefCell::new(Pipe::new(size, tls));
            g.throughput(Throughput::Bytes(size as u64));
            g.bench_function(format!("send_to_report_{size}B_{name}"), |b| {
                b.iter_custom(|iters| {
                    let mut pipe = pipe.borrow_mut();
                    let t = StdInstant::now();
                    pipe.run(iters);
                    t.elapsed()
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, tls);
criterion_main!(benches);
