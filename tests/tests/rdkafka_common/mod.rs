//! Shared by the librdkafka tests against idem's cluster (`broker_rdkafka.rs`,
//! `broker_rdkafka_tls.rs`): librdkafka's idempotent producer with a context recording every
//! report, its consumer reading every partition back, and the exactly-once, in-order check.
#![allow(dead_code, clippy::unwrap_used)] // Each test file uses a part; tests may unwrap.

use idem_core::broker::{FaultSpec, TopicConfig};
use idem_core::proto::record_batch::RecordBatch;
use idem_mock::{MockCluster, MockClusterConfig};
use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// librdkafka's `RD_KAFKA_OFFSET_INVALID`: the offset of a record acked implicitly.
pub const OFFSET_INVALID: i64 = -1001;
pub const TOPIC: &str = "idem-rdkafka";
pub const PARTITIONS: i32 = 3;

/// Delivery reports: (partition, offset, record number) for successes; errors as text; and
/// the client-level errors librdkafka reported (connections, TLS, authentication).
#[derive(Default)]
pub struct Deliveries {
    pub ok: Mutex<Vec<(i32, i64, u64)>>,
    pub failed: Mutex<Vec<String>>,
    pub client_errors: Mutex<Vec<String>>,
}

pub struct Ctx(pub Arc<Deliveries>);

/// `IDEM_RDKAFKA_DEBUG=eos,msg` (librdkafka `debug` contexts) prints librdkafka's log.
pub const DEBUG_ENV: &str = "IDEM_RDKAFKA_DEBUG";

impl ClientContext for Ctx {
    fn log(&self, _: rdkafka::config::RDKafkaLogLevel, fac: &str, msg: &str) {
        if std::env::var_os(DEBUG_ENV).is_some() {
            eprintln!("rdkafka {fac} {msg}");
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if std::env::var_os(DEBUG_ENV).is_some() {
            eprintln!("rdkafka error {error}: {reason}");
        }
        self.0.client_errors.lock().unwrap().push(format!("{error}: {reason}"));
    }
}

impl ProducerContext for Ctx {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(m) => {
                let n = std::str::from_utf8(m.payload().unwrap()).unwrap().parse().unwrap();
                self.0.ok.lock().unwrap().push((m.partition(), m.offset(), n));
            }
            Err((e, m)) => {
                let payload = m.payload().map(String::from_utf8_lossy);
                self.0.failed.lock().unwrap().push(format!("record {payload:?}: {e}"));
            }
        }
    }
}

/// Client settings added to every librdkafka client of a test (SASL); none by default.
pub const PLAINTEXT: &[(&str, &str)] = &[];

/// A 3-broker cluster's configuration with the test topic, the faults and the seed (the
/// cluster's log on stderr with `IDEM_BROKER_LOG`); the caller adds SASL or TLS and starts it.
pub fn cluster_config(faults: &str, seed: u64) -> MockClusterConfig {
    let mut config = MockClusterConfig { brokers: 3, ..MockClusterConfig::default() };
    config.cluster.topics = vec![TopicConfig { name: TOPIC.into(), partitions: PARTITIONS }];
    config.cluster.faults = FaultSpec::parse(faults).unwrap();
    config.cluster.seed = seed;
    config.log_to_stderr = std::env::var_os("IDEM_BROKER_LOG").is_some();
    config
}

pub fn producer(bootstrap: &str, deliveries: &Arc<Deliveries>) -> BaseProducer<Ctx> {
    producer_with(bootstrap, deliveries, "none", PLAINTEXT)
}

/// librdkafka's idempotent producer with the tests' timings, then `extra` (security settings,
/// or a timing of the test's own, which wins).
pub fn producer_with(
    bootstrap: &str,
    deliveries: &Arc<Deliveries>,
    compression: &str,
    extra: &[(&str, &str)],
) -> BaseProducer<Ctx> {
    producer_config(bootstrap, compression, extra).create_with_context(Ctx(Arc::clone(deliveries))).unwrap()
}

/// The settings of [`producer_with`], for a producer of another kind (a `ThreadedProducer`).
pub fn producer_config(bootstrap: &str, compression: &str, extra: &[(&str, &str)]) -> ClientConfig {
    let mut c = ClientConfig::new();
    if let Ok(d) = std::env::var(DEBUG_ENV) {
        c.set("debug", d).set_log_level(rdkafka::config::RDKafkaLogLevel::Debug);
    }
    c.set("bootstrap.servers", bootstrap)
        .set("compression.type", compression)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set("batch.num.messages", "40")
        .set("retry.backoff.ms", "20")
        .set("retry.backoff.max.ms", "200")
        .set("reconnect.backoff.ms", "20")
        .set("reconnect.backoff.max.ms", "200")
        .set("message.timeout.ms", "120000")
        .set("request.timeout.ms", "5000")
        .set("topic.metadata.refresh.interval.ms", "2000");
    for (k, v) in extra {
        c.set(*k, *v);
    }
    c
}

/// Record `n` goes to partition `n % 3` with payload `n` (zero-padded to 64 digits, so that
/// compression has something to gain).
pub fn send(p: &BaseProducer<Ctx>, n: u64) {
    send_to(p, TOPIC, PARTITIONS, n);
}

/// [`send`] to `topic` of `partitions` partitions: record `n` to partition `n % partitions`.
pub fn send_to(p: &BaseProducer<Ctx>, topic: &str, partitions: i32, n: u64) {
    let payload = format!("{n:064}");
    let partition = (n % partitions as u64) as i32;
    loop {
        match p.send(BaseRecord::<(), _>::to(topic).partition(partition).payload(&payload)) {
            Ok(()) => return,
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => p.poll(Duration::from_millis(10)),
            Err((e, _)) => panic!("send {n}: {e} (fatal: {:?})", p.client().fatal_error()),
        }
    }
}

/// Sends `range`, `chunk` records at a time with `pause` of polling in between; calls
/// `at_chunk(i)` after every chunk.
pub fn send_paced(
    p: &BaseProducer<Ctx>,
    range: std::ops::Range<u64>,
    chunk: u64,
    pause: Duration,
    mut at_chunk: impl FnMut(u64),
) {
    for n in range {
        send(p, n);
        if n % chunk == chunk - 1 {
            poll_for(p, pause);
            at_chunk(n);
        }
    }
}

pub fn poll_for(p: &BaseProducer<Ctx>, d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        p.poll(Duration::from_millis(5));
    }
}

/// Reads every partition from the beginning until each has at least `expected[p]` records
/// and has reported its end; returns (offset, record number) per partition (the number is
/// the payload's leading digits: filler spaces after it are ignored).
pub fn consume_all(bootstrap: &str, expected: &[usize], extra: &[(&str, &str)]) -> Vec<Vec<(i64, u64)>> {
    let consumer = assign_all(bootstrap, "idem-check", TOPIC, PARTITIONS, Offset::Beginning, extra);
    read_assigned(&consumer, PARTITIONS, Duration::from_secs(120), |got, eof| {
        (0..PARTITIONS as usize).all(|p| eof[p] && got[p].len() >= expected[p])
    })
}

/// A consumer of `group` (no auto-commit, end of partition reported) that assigns itself every
/// partition of `topic` at `offset` (it joins no group: librdkafka only wants a `group.id`).
pub fn assign_all(
    bootstrap: &str,
    group: &str,
    topic: &str,
    partitions: i32,
    offset: Offset,
    extra: &[(&str, &str)],
) -> BaseConsumer {
    let mut c = ClientConfig::new();
    for (k, v) in extra {
        c.set(*k, *v);
    }
    let consumer: BaseConsumer = c
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("fetch.wait.max.ms", "100")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, offset).unwrap();
    }
    consumer.assign(&tpl).unwrap();
    consumer
}

/// (offset, record number) per partition read by `consumer` (of `partitions` partitions) until
/// `enough(read, end reached)`, within `timeout`.
pub fn read_assigned(
    consumer: &BaseConsumer,
    partitions: i32,
    timeout: Duration,
    enough: impl Fn(&[Vec<(i64, u64)>], &[bool]) -> bool,
) -> Vec<Vec<(i64, u64)>> {
    let mut got = vec![Vec::new(); partitions as usize];
    let mut eof = vec![false; partitions as usize];
    let deadline = Instant::now() + timeout;
    while !enough(&got, &eof) {
        assert!(
            Instant::now() < deadline,
            "consumer timed out: {:?} read, ends {eof:?}",
            got.iter().map(Vec::len).collect::<Vec<_>>()
        );
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                let n = std::str::from_utf8(m.payload().unwrap()).unwrap().trim_end().parse().unwrap();
                let p = m.partition() as usize;
                got[p].push((m.offset(), n));
                eof[p] = false;
            }
            Some(Err(KafkaError::PartitionEOF(p))) => eof[p as usize] = true,
            Some(Err(e)) => eprintln!("consumer: {e}"),
            None => {}
        }
    }
    got
}

/// The record numbers sent to each partition, in send order.
pub fn sent(total: u64) -> Vec<Vec<u64>> {
    (0..PARTITIONS as u64).map(|p| (0..total).filter(|n| n % PARTITIONS as u64 == p).collect()).collect()
}

/// Checks the guarantees for records `0..total`: each partition holds exactly the records
/// sent to it, once, in send order, at offsets 0..n; every record has a successful delivery
/// report, which names the offset the record is at unless librdkafka acked it implicitly; the
/// broker's own log agrees on the record count.
///
/// Implicit acks: when a batch fails with an outcome it cannot know (a transport error: the
/// broker may have appended it) and a later batch of the partition then succeeds, librdkafka
/// reports the earlier batch delivered without an offset (`RD_KAFKA_OFFSET_INVALID`,
/// `rd_kafka_dr_implicit_ack`), as it would against Kafka. Such a record is still checked:
/// the read-back above holds it exactly once, in order.
pub fn check(cluster: &MockCluster, total: u64, deliveries: &Deliveries) {
    check_with(cluster, total, deliveries, PLAINTEXT);
}

/// [`check`], the consumer with `extra` settings (SASL).
pub fn check_with(cluster: &MockCluster, total: u64, deliveries: &Deliveries, extra: &[(&str, &str)]) {
    let failed = deliveries.failed.lock().unwrap();
    assert!(failed.is_empty(), "{} delivery failures, first: {:?}", failed.len(), failed.first());
    let sent = sent(total);
    let expected: Vec<usize> = sent.iter().map(Vec::len).collect();
    let got = consume_all(&cluster.bootstrap_servers(), &expected, extra);
    for p in 0..PARTITIONS as usize {
        let values: Vec<u64> = got[p].iter().map(|(_, n)| *n).collect();
        if values != sent[p] {
            let dups = values.len() as i64 - sent[p].len() as i64;
            let first_bad = values.iter().zip(&sent[p]).position(|(a, b)| a != b);
            panic!(
                "partition {p}: {} records read, {} sent ({dups:+}), first difference at {first_bad:?}",
                values.len(),
                sent[p].len()
            );
        }
        let offsets: Vec<i64> = got[p].iter().map(|(o, _)| *o).collect();
        assert_eq!(offsets, (0..offsets.len() as i64).collect::<Vec<_>>(), "partition {p}: offsets not contiguous");
        let log = cluster.partition_log(TOPIC, p as i32).unwrap();
        let records: i64 =
            log.iter().map(|b| i64::from(RecordBatch::decode(&b.bytes).unwrap().0.header.record_count)).sum();
        assert_eq!(records, sent[p].len() as i64, "partition {p}: broker log record count");
    }
    let ok = deliveries.ok.lock().unwrap();
    assert_eq!(ok.len() as u64, total, "delivery reports");
    let mut implicit = 0;
    for &(p, offset, n) in ok.iter() {
        if offset == OFFSET_INVALID {
            implicit += 1;
            continue;
        }
        assert_eq!(got[p as usize].get(offset as usize).map(|x| x.1), Some(n), "record {n} reported at {p}/{offset}");
    }
    eprintln!("{implicit} of {total} records acked implicitly (no offset in the report)");
}

/// Every fault of idem's cluster at once (the producer tests' schedule).
pub const FAULTS: &str = "append_drop=0.03,error_before=REQUEST_TIMED_OUT:0.01,error_before=NOT_ENOUGH_REPLICAS:0.01,\
                          error_after=NOT_ENOUGH_REPLICAS_AFTER_APPEND:0.02,delay=0..20ms,leader_move=700ms,\
                          broker_bounce=2s:300ms,restart=1500ms,expire=1s";
