//! Criterion bench: records/s through the sans-IO producer core with no I/O, for 100 B records:
//! `send` -> seal -> Produce request bytes -> a broker response -> `Delivered` event.
//!
//! The handshake (ApiVersions, Metadata, InitProducerId) is answered by idem's in-memory
//! cluster; Produce requests by a minimal responder (copy the frame's chunks into a reused
//! buffer, as a socket write copies them; decode the request, answer every partition with
//! success and a running offset), so the figure is the producer's own cost plus that
//! responder's. Heap allocations are counted with a counting global allocator (`stats_alloc`:
//! the workspace forbids `unsafe_code`, so the bench cannot implement `GlobalAlloc` itself);
//! the responder's allocations are measured separately and subtracted. The allocation figures
//! are printed before the criterion run.
//!
//! The cost of observability: `send_to_report_100B` runs with every debug context off (the
//! default), `send_to_report_100B_metrics` also takes a metrics snapshot every 10,000 records
//! (far more often than any statistics interval: at a million records/s, every 10 ms), and
//! `send_to_report_100B_debug_all` makes every diagnostic (`debug=all`: one per request and
//! response at least), for scale.
//!
//! Compression: `send_to_report_1KiB_text_{none,lz4,zstd}` send 1 KiB text-like records
//! (JSON-ish log lines from a pool of 1,024, `idem_benches::text`) with that
//! `compression.type` at its default level: the cost of sealing with the codec per record, and
//! the bytes of the Produce requests per value byte (printed before the criterion run).
//!
//! TLS: `producer_tls/send_to_report_{100,1024}B_{plaintext,tls}` send every request through
//! idem's in-memory cluster (it decodes, validates and appends), plaintext or over TLS 1.3
//! (rustls with ring): the difference between the two rows is TLS at both ends, the producer
//! encrypting requests and the broker decrypting them, and the reverse for the small
//! responses. Printed before the criterion run: that difference per MB of record values, and
//! the heap a TLS connection holds (client and server session together) against a plaintext
//! one.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use idem_core::broker::{self, BrokerAddress, BrokerInput, Cluster, ClusterConfig, TopicConfig};
use idem_core::producer::{DebugContexts, Event, Input, Output, Producer, ProducerConfig, ProducerRecord, SendError};
use idem_core::proto::produce::{PartitionProduceResponse, ProduceRequest, ProduceResponse, TopicProduceResponse};
use idem_core::proto::record_batch::Compression;
use idem_core::proto::{ApiKey, Frame, Message, decode_request_header, encode_response_frame, parse_frame};
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
/// Partition counts for the scaling group (keyed records spread over all of them).
const PARTITION_COUNTS: [i32; 4] = [3, 100, 1_000, 10_000];
/// `batch.size` of the scaling group (Kafka's default), with `buffer.memory` room for an open
/// batch on every one of 10,000 partitions, so that memory never cuts batches short there.
const SCALING_BATCH_SIZE: usize = 16 * 1024;
const SCALING_BUFFER_MEMORY: usize = 256 * 1024 * 1024;
const LINGER: Duration = Duration::from_millis(5);
const BATCH_SIZE: usize = 128 * 1024;

/// Allocations so far (allocations + reallocations) by the whole process.
fn allocs() -> u64 {
    let s = GLOBAL.stats();
    (s.allocations + s.reallocations) as u64
}

/// Producer core + handshake cluster + fast Produce responder, all in memory.
struct Rig {
    p: Producer,
    cluster: Cluster,
    now: Instant,
    value: Vec<u8>,
    /// Partitions of the topic.
    partitions: i32,
    /// Keyed records (murmur2 over all partitions) instead of explicit round-robin.
    keyed: bool,
    sent: u64,
    delivered: u64,
    failed: u64,
    /// Produce partitions answered (= batches sealed and sent).
    batches: u64,
    /// Allocations made by the responder (not the producer's).
    responder_allocs: u64,
    offsets: Vec<i64>,
    response: Vec<u8>,
    /// Take a metrics snapshot every this many records (0: never).
    metrics_every: u64,
    /// Diagnostics received (with `debug` set).
    diagnostics: u64,
    /// The "socket": each transmitted frame's chunks copied in, as a write to a socket copies
    /// them (a reused buffer).
    wire: Vec<u8>,
    /// Values sent in turn instead of `value` (text-like records), when not empty.
    pool: Vec<Vec<u8>>,
    /// Produce requests go to the cluster too (decrypted there under TLS), not the responder.
    through_cluster: bool,
}

impl Rig {
    fn new(size: usize) -> Rig {
        Rig::with_partitions(size, PARTITIONS, false)
    }

    /// [`Rig::new`] with 100 B records, debug contexts `debug` and a metrics snapshot every
    /// `metrics_every` records (0: never).
    fn observed(debug: DebugContexts, metrics_every: u64) -> Rig {
        Rig::build(100, PARTITIONS, false, debug, metrics_every)
    }

    /// A rig whose topic has `partitions` partitions; `keyed`: records carry an 8-byte key
    /// (a counter), so the partitioner spreads them over all partitions.
    fn with_partitions(size: usize, partitions: i32, keyed: bool) -> Rig {
        Rig::build(size, partitions, keyed, DebugContexts::NONE, 0)
    }

    /// 1 KiB text-like records with `compression.type` `codec`.
    fn text(codec: Compression) -> Rig {
        let mut rig = Rig::assemble(1024, PARTITIONS, false, DebugContexts::NONE, 0, codec, None, 50_000);
        rig.pool = idem_benches::text::text_values(1024, 1024, 0x7e57);
        rig.run(20_000); // warm up on the text records too
        rig
    }

    fn build(size: usize, partitions: i32, keyed: bool, debug: DebugContexts, metrics_every: u64) -> Rig {
        Rig::assemble(size, partitions, keyed, debug, metrics_every, Compression::None, None, 50_000)
    }

    /// Every request through the cluster (it decodes, validates and appends each Produce
    /// request; the logs roll at 1 MiB), plaintext or over TLS 1.3 with `tls`'s certificates;
    /// warmed up with `warm_up` records.
    fn through_cluster(size: usize, tls: Option<&TestCertificates>, warm_up: u64) -> Rig {
        Rig::assemble(size, PARTITIONS, false, DebugContexts::NONE, 0, Compression::None, Some(tls), warm_up)
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        size: usize,
        partitions: i32,
        keyed: bool,
        debug: DebugContexts,
        metrics_every: u64,
        codec: Compression,
        through_cluster: Option<Option<&TestCertificates>>,
        warm_up: u64,
    ) -> Rig {
        let mut cc = ClusterConfig {
            brokers: vec![BrokerAddress { node_id: 1, host: "localhost".into(), port: 9092 }],
            topics: vec![TopicConfig { name: TOPIC.into(), partitions }],
            log_max_bytes: 1 << 20,
            ..ClusterConfig::default()
        };
        let (batch_size, memory) =
            if keyed { (SCALING_BATCH_SIZE, SCALING_BUFFER_MEMORY) } else { (BATCH_SIZE, 32 * 1024 * 1024) };
        let mut pc = ProducerConfig::new("localhost:9092")
            .expect("config")
            .linger(LINGER)
            .batch_size(batch_size)
            .buffer_memory(memory)
            .max_in_flight(5)
            .debug(debug)
            .compression(codec, None);
        if let Some(Some(certs)) = through_cluster {
            cc.tls = Some(certs.broker_settings());
            pc.set("security.protocol", "SSL").expect("SSL");
            pc.set("ssl.ca.pem", &certs.ca_pem).expect("CA");
            pc.security.tls.wall_clock = Some(Arc::new(DefaultTimeProvider));
        }
        let mut rig = Rig {
            p: Producer::new(pc, Instant::ZERO).expect("producer"),
            cluster: Cluster::new(cc, Instant::ZERO).expect("cluster"),
            now: Instant::ZERO,
            value: vec![b'x'; size],
            partitions,
            keyed,
            sent: 0,
            delivered: 0,
            failed: 0,
            batches: 0,
            responder_allocs: 0,
            offsets: vec![0; partitions as usize],
            response: Vec::with_capacity(4096),
            metrics_every,
            diagnostics: 0,
            wire: Vec::new(),
            pool: Vec::new(),
            through_cluster: through_cluster.is_some(),
        };
        // Warm up: connections, metadata, producer id, and buffers grown to steady state.
        rig.run(warm_up);
        rig
    }

    /// Answers one Produce request frame body: success for every partition, running offsets.
    fn answer_produce(&mut self, body: &[u8]) -> Option<()> {
        let (h, mut r) = decode_request_header(body).ok()?;
        let req = ProduceRequest::decode(&mut r, h.api_version).ok()?;
        let mut resp = ProduceResponse::default();
        for t in &req.topic_data {
            let mut parts = Vec::with_capacity(t.partition_data.len());
            for pd in &t.partition_data {
                let count = pd
                    .records
                    .and_then(|b| b.get(57..61))
                    .and_then(|c| c.try_into().ok())
                    .map_or(0, i32::from_be_bytes);
                let off = self.offsets.get_mut(pd.index as usize)?;
                parts.push(PartitionProduceResponse { index: pd.index, base_offset: *off, ..Default::default() });
                *off += i64::from(count);
                self.batches += 1;
            }
            resp.responses.push(TopicProduceResponse { name: t.name, partition_responses: parts });
        }
        self.response.clear();
        encode_response_frame(&mut self.response, h.correlation_id, h.api_version, &resp).ok()
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
                        let mut wire = std::mem::take(&mut self.wire);
                        wire.clear();
                        data.chunks().for_each(|c| wire.extend_from_slice(c));
                        // Written: the producer's batch buffers are its own again before the answer.
                        drop(data);
                        if self.through_cluster {
                            let c = broker::ConnId(conn.0);
                            self.cluster.handle_input(BrokerInput::Received { now: self.now, conn: c, bytes: &wire });
                            self.wire = wire;
                            continue;
                        }
                        let mut rest = &wire[..];
                        while let Ok(Frame::Complete { body, consumed }) = parse_frame(rest, usize::MAX) {
                            let is_produce = body.get(..2) == Some(&ApiKey::Produce.as_i16().to_be_bytes()[..]);
                            if is_produce {
                                let a0 = allocs();
                                let ok = self.answer_produce(body);
                                self.responder_allocs += allocs() - a0;
                                assert!(ok.is_some(), "bad Produce request");
                                let resp = std::mem::take(&mut self.response);
                                self.p.handle_input(Input::Received { now: self.now, conn, bytes: &resp });
                                self.response = resp;
                            } else {
                                let frame = rest.get(..consumed).unwrap_or_default();
                                let c = broker::ConnId(conn.0);
                                self.cluster.handle_input(BrokerInput::Received {
                                    now: self.now,
                                    conn: c,
                                    bytes: frame,
                                });
                            }
                            rest = rest.get(consumed..).unwrap_or_default();
                        }
                        self.wire = wire;
                    }
                    Output::Close { conn } => {
                        progress = true;
                        self.cluster.handle_input(BrokerInput::Closed { now: self.now, conn: broker::ConnId(conn.0) });
                    }
                    Output::Event(Event::Delivered { .. }) => self.delivered += 1,
                    Output::Event(e) => {
                        self.failed += 1;
                        panic!("unexpected event {e:?}");
                    }
                    Output::Diagnostic(d) => {
                        black_box(d);
                        self.diagnostics += 1;
                    }
                    Output::Timeout(_) => break,
                }
            }
            progress |= idem_benches::cluster_to_producer(&mut self.cluster, &mut self.p, self.now);
            if !progress {
                return;
            }
        }
    }

    /// Sends `n` records (partition round-robin) and waits until all are reported.
    fn run(&mut self, n: u64) {
        let value = std::mem::take(&mut self.value);
        let pool = std::mem::take(&mut self.pool);
        for _ in 0..n {
            let key = self.sent.to_le_bytes();
            let v = pool.get(self.sent as usize % pool.len().max(1)).unwrap_or(&value);
            let rec = ProducerRecord {
                topic: TOPIC,
                partition: (!self.keyed).then_some((self.sent % self.partitions as u64) as i32),
                key: self.keyed.then_some(&key[..]),
                value: Some(v),
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
            if self.metrics_every > 0 && self.sent % self.metrics_every == 0 {
                black_box(self.p.metrics());
            }
        }
        self.value = value;
        self.pool = pool;
        // Let linger expire so the last partial batches are sealed.
        while self.delivered + self.failed < self.sent {
            self.pump();
            if self.delivered + self.failed < self.sent {
                self.now += LINGER;
                self.p.handle_input(Input::Timeout(self.now));
                self.cluster.handle_input(BrokerInput::Timeout(self.now));
            }
        }
    }
}

/// Prints steady-state allocations per record and per batch (after the warm-up) and a plain
/// wall-clock records/s.
fn report_allocations(size: usize, n: u64) {
    let mut rig = Rig::new(size);
    let (a0, r0, b0) = (allocs(), rig.responder_allocs, rig.batches);
    let t = StdInstant::now();
    rig.run(n);
    let secs = t.elapsed().as_secs_f64();
    let producer_allocs = (allocs() - a0) - (rig.responder_allocs - r0);
    let batches = rig.batches - b0;
    println!(
        "producer core, {size} B records: {n} records in {batches} batches, {:.0} records/s; \
         heap allocations by the producer: {producer_allocs} = {:.4} per record = {:.2} per batch",
        n as f64 / secs,
        producer_allocs as f64 / n as f64,
        producer_allocs as f64 / batches.max(1) as f64
    );
    assert_eq!(rig.delivered, rig.sent);
}

/// `IDEM_BENCH_PARTITION_RUN=P:N`: instead of the criterion run, one rig of the scaling group
/// with `P` partitions sends `N` records after its warm-up, then the process exits. Run under
/// `valgrind --tool=callgrind` with two values of `N`: the difference of the instruction counts
/// over the difference of `N` is the cost per record, free of load and of the set-up.
/// `IDEM_BENCH_DEBUG=CONTEXTS` sets the producer's `debug`, `IDEM_BENCH_METRICS_EVERY=K` takes
/// a metrics snapshot every `K` records (the cost of observability, counted the same way).
fn partition_run_from_env() {
    /// The measured part, by name for `--toggle-collect=*measured_run*`.
    #[inline(never)]
    fn measured_run(rig: &mut Rig, n: u64) {
        rig.run(n);
    }

    let Ok(spec) = std::env::var("IDEM_BENCH_PARTITION_RUN") else { return };
    let (p, n) = spec.split_once(':').expect("IDEM_BENCH_PARTITION_RUN=PARTITIONS:RECORDS");
    let (p, n): (i32, u64) = (p.parse().expect("partitions"), n.parse().expect("records"));
    let debug =
        std::env::var("IDEM_BENCH_DEBUG").map_or(DebugContexts::NONE, |d| DebugContexts::parse(&d).expect("debug"));
    let every = std::env::var("IDEM_BENCH_METRICS_EVERY").map_or(0, |k| k.parse().expect("IDEM_BENCH_METRICS_EVERY"));
    let mut rig = Rig::build(100, p, true, debug, every);
    measured_run(&mut rig, n);
    assert_eq!(rig.delivered, rig.sent);
    println!("{p} partitions: {n} records after the warm-up");
    std::process::exit(0);
}

/// One criterion function: `iters` records through `rig`, timed by the wall clock.
fn bench_rig(g: &mut BenchmarkGroup<'_, WallTime>, name: String, rig: Rig) {
    let rig = RefCell::new(rig);
    g.throughput(Throughput::Elements(1));
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut rig = rig.borrow_mut();
            let t = StdInstant::now();
            rig.run(iters);
            t.elapsed()
        })
    });
}

/// Seconds for `n` records through a fresh rig through the cluster (after its warm-up).
fn seconds_through_cluster(size: usize, tls: Option<&TestCertificates>, n: u64) -> f64 {
    let mut rig = Rig::through_cluster(size, tls, 50_000);
    let t = StdInstant::now();
    rig.run(n);
    t.elapsed().as_secs_f64()
}

/// Prints TLS's cost per MB of values (both ends) and the heap a TLS connection holds.
fn report_tls(certs: &TestCertificates) {
    for (size, n) in [(100usize, 1_000_000u64), (1024, 300_000)] {
        // Best of three each, alternating, to damp a shared machine's noise.
        let (mut plain, mut tls) = (f64::MAX, f64::MAX);
        for _ in 0..3 {
            plain = plain.min(seconds_through_cluster(size, None, n));
            tls = tls.min(seconds_through_cluster(size, Some(certs), n));
        }
        let mb = (n as f64 * size as f64) / 1e6;
        println!(
            "through the cluster, {size} B records: plaintext {:.0} records/s, TLS {:.0} records/s ({:.2}x); TLS costs \
             {:.2} ms per MB of values (both ends)",
            n as f64 / plain,
            n as f64 / tls,
            plain / tls,
            (tls - plain) * 1e3 / mb
        );
    }
    // Heap held by a rig (producer, cluster, one connection between them) after one record and
    // after 20,000 records of 1 KiB, with and without TLS: the difference is what TLS holds per
    // connection, client and server session together (rustls's buffers).
    for warm_up in [1u64, 20_000] {
        let held = |tls: Option<&TestCertificates>| {
            let h0 = heap();
            let rig = Rig::through_cluster(1024, tls, warm_up);
            let held = heap() - h0;
            drop(rig);
            held
        };
        let (plain, tls) = (held(None), held(Some(certs)));
        println!(
            "heap after {warm_up} records of 1 KiB: plaintext {} KiB, TLS {} KiB: TLS holds {} KiB per connection \
             (client and server session together)",
            plain / 1024,
            tls / 1024,
            (tls - plain) / 1024
        );
    }
}

/// Heap bytes in use by the whole process.
fn heap() -> i64 {
    let s = GLOBAL.stats();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64 + s.bytes_reallocated as i64
}

fn producer(c: &mut Criterion) {
    partition_run_from_env();
    report_allocations(100, 1_000_000);
    report_allocations(1024, 200_000);
    let mut g = c.benchmark_group("producer_core");
    for size in [100usize, 1024] {
        bench_rig(&mut g, format!("send_to_report_{size}B"), Rig::new(size));
    }
    bench_rig(&mut g, "send_to_report_100B_metrics".into(), Rig::observed(DebugContexts::NONE, 10_000));
    let all = Rig::observed(DebugContexts::ALL, 0);
    assert!(all.diagnostics > 0, "debug=all makes diagnostics");
    bench_rig(&mut g, "send_to_report_100B_debug_all".into(), all);
    for codec in [Compression::None, Compression::Lz4, Compression::Zstd] {
        let mut rig = Rig::text(codec);
        let (bytes0, n) = (rig.p.metrics().bytes_sent, 100_000u64);
        rig.run(n);
        let ratio = (rig.p.metrics().bytes_sent - bytes0) as f64 / (n * 1024) as f64;
        println!(
            "producer core, 1 KiB text records, compression.type={}: request bytes / value bytes {ratio:.3}",
            codec.name()
        );
        bench_rig(&mut g, format!("send_to_report_1KiB_text_{}", codec.name()), rig);
    }
    g.finish();
    // Scaling with partitions: keyed 100 B records spread over 3 .. 10,000 partitions.
    let mut g = c.benchmark_group("producer_partitions");
    for partitions in PARTITION_COUNTS {
        bench_rig(&mut g, format!("keyed_100B_{partitions}"), Rig::with_partitions(100, partitions, true));
    }
    g.finish();
    // TLS against plaintext, every request through the cluster.
    let certs = TestCertificates::generate(&["localhost"]).expect("certificates");
    report_tls(&certs);
    let mut g = c.benchmark_group("producer_tls");
    for size in [100usize, 1024] {
        for (name, tls) in [("plaintext", None), ("tls", Some(&certs))] {
            bench_rig(&mut g, format!("send_to_report_{size}B_{name}"), Rig::through_cluster(size, tls, 50_000));
        }
    }
    g.finish();
}

criterion_group!(benches, producer);
criterion_main!(benches);
