//! End to end over real TCP against librdkafka's mock cluster (a Kafka implementation no one
//! here wrote): both runtimes; injected Produce errors, leader moves, brokers down and up, an
//! older broker's API versions; read back with an rdkafka consumer.
//!
//! That mock checks no sequence numbers for a plain idempotent producer: it appends every
//! request, so duplicates are possible where a written batch's response was lost (a broker
//! going down), and pipelined requests can land out of order when an injected error hits an
//! earlier one. The error-injection runs therefore use one request in flight per connection
//! (then idem alone decides the order) and assert no duplicates and no reordering; the
//! broker-down runs count duplicates and assert everything else.
#![allow(clippy::unwrap_used)]

mod e2e_common;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use e2e_common::{Outcome, check, read_back, run_std_with, test_config, value_of};
use idem_std::{Config, DeliveryResult, Record};
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

type Mock = MockCluster<'static, rdkafka::producer::DefaultProducerContext>;

fn mock(partitions: i32) -> Mock {
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic("t", partitions, 3).unwrap();
    cluster
}

/// Sends `n` records round-robin over `partitions` with the blocking runtime, calling
/// `during(i)` before record `i`; returns the reports and the producer's metrics.
fn run_std(
    config: Config,
    partitions: i32,
    n: u64,
    during: impl FnMut(u64),
) -> (Vec<Option<DeliveryResult>>, idem_std::ProducerMetrics) {
    run_std_with(config, partitions, n, during, |i| value_of(i).to_vec())
}

/// The same with the async runtime (handles awaited at the end).
fn run_smol(
    config: Config,
    partitions: i32,
    n: u64,
    mut during: impl FnMut(u64),
) -> (Vec<Option<DeliveryResult>>, idem_std::ProducerMetrics) {
    let p = Arc::new(idem_smol::Producer::new(config).unwrap());
    smol::block_on(async {
        let mut handles = Vec::new();
        for i in 0..n {
            during(i);
            let v = value_of(i);
            let rec = Record::new("t").partition((i % partitions as u64) as i32).value(&v);
            handles.push(p.send(&rec).await.unwrap());
        }
        p.flush().await;
        let mut reports = Vec::new();
        for h in handles {
            reports.push(Some(h.await));
        }
        let report = p.close().await;
        assert_eq!(report.counts.delivered + report.counts.failed, n);
        (reports, p.metrics())
    })
}

fn config(bootstrap: &str) -> Config {
    test_config(bootstrap, 9000)
}

const PRODUCE_ERRORS: [RDKafkaRespErr; 4] = [
    RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
    RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
    RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
    RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
];

/// Every 100 records, the next 4 Produce requests fail with the four retriable errors.
fn produce_errors(smol: bool) -> Outcome {
    let t0 = Instant::now();
    let cluster = mock(3);
    let bootstrap = cluster.bootstrap_servers();
    let mut c = config(&bootstrap);
    c.set("max.in.flight.requests.per.connection", "1").unwrap();
    c.set("batch.size", "1024").unwrap();
    let n = 2000;
    let during = |i: u64| {
        if i % 100 == 0 {
            cluster.request_errors(RDKafkaApiKey::Produce, &PRODUCE_ERRORS);
        }
        if i % 20 == 0 {
            thread::sleep(Duration::from_millis(1));
        }
    };
    let (reports, m) = if smol { run_smol(c, 3, n, during) } else { run_std(c, 3, n, during) };
    cluster.clear_request_errors(RDKafkaApiKey::Produce);
    let o = check(&reports, &read_back(&bootstrap, "t", 3), true);
    assert_eq!(o.delivered, n as usize, "{o:?}");
    assert!(m.retries >= 20, "the injected errors were retried: {m:?}");
    eprintln!("{o:?}\n{m:?}\nin {:?}", t0.elapsed());
    o
}

#[test]
fn std_produce_errors_are_retried_in_order_without_duplicates() {
    produce_errors(false);
}

#[test]
fn smol_produce_errors_are_retried_in_order_without_duplicates() {
    produce_errors(true);
}

/// Leaders move every 250 records; one broker goes down for at least 400 ms and comes back
/// (while it is down, the mock's metadata lists its partitions' leader without its address).
fn leader_moves_and_broker_down(smol: bool) -> Outcome {
    let t0 = Instant::now();
    let cluster = mock(3);
    let bootstrap = cluster.bootstrap_servers();
    let n = 3000;
    let mut down_since = None;
    let during = |i: u64| {
        if i % 250 == 0 && i > 0 {
            let p = ((i / 250) % 3) as i32;
            cluster.partition_leader("t", p, Some(1 + ((i / 250) % 3) as i32)).unwrap();
        }
        if i == 900 {
            // Responses of broker 2 are delayed: requests in flight when it goes down were
            // written but never answered (the mock cannot dedupe their resends).
            cluster.broker_round_trip_time(2, Duration::from_millis(50)).unwrap();
        }
        if i == 1000 {
            cluster.broker_down(2).unwrap();
            down_since = Some(Instant::now());
        }
        if i == 2000 {
            if let Some(t) = down_since.take() {
                thread::sleep(Duration::from_millis(400).saturating_sub(t.elapsed()));
            }
            cluster.broker_round_trip_time(2, Duration::ZERO).unwrap();
            cluster.broker_up(2).unwrap();
        }
        if i % 10 == 0 {
            thread::sleep(Duration::from_millis(1));
        }
    };
    let (reports, m) =
        if smol { run_smol(config(&bootstrap), 3, n, during) } else { run_std(config(&bootstrap), 3, n, during) };
    cluster.broker_up(2).unwrap();
    for r in reports.iter().flatten().filter_map(|r| r.err()).take(2) {
        eprintln!("failed: {r}");
    }
    let o = check(&reports, &read_back(&bootstrap, "t", 3), false);
    assert_eq!(o.reordered, 0, "{o:?}");
    // Duplicates only come from resending batches whose responses the downed broker swallowed.
    assert!(o.duplicates == 0 || m.retries > 0, "{o:?} {m:?}");
    assert_eq!(o.delivered, n as usize, "{o:?}");
    eprintln!("{o:?} (duplicates: the mock does not dedupe)\n{m:?}\nin {:?}", t0.elapsed());
    o
}

#[test]
fn std_leader_moves_and_broker_down_lose_nothing() {
    leader_moves_and_broker_down(false);
}

#[test]
fn smol_leader_moves_and_broker_down_lose_nothing() {
    leader_moves_and_broker_down(true);
}

/// An older broker: ApiVersions v0..2, Metadata v0..2, Produce v0..7, InitProducerId v0..4 or
/// v0..1 (Debian's librdkafka 2.0.2 mock advertises about this). A version above a maximum
/// would get the connection closed.
#[test]
fn older_broker_versions_are_negotiated() {
    for init_pid_max in [4, 1] {
        let cluster = mock(2);
        for (key, max) in [
            (RDKafkaApiKey::ApiVersion, 2),
            (RDKafkaApiKey::Metadata, 2),
            (RDKafkaApiKey::Produce, 7),
            (RDKafkaApiKey::InitProducerId, init_pid_max),
        ] {
            cluster.apiversion(key, Some(0), Some(max)).unwrap();
        }
        let bootstrap = cluster.bootstrap_servers();
        let during = |i: u64| {
            if i == 500 {
                cluster.request_errors(RDKafkaApiKey::Produce, &PRODUCE_ERRORS[..2]);
            }
        };
        // One request in flight: with pipelining, the mock (no sequence checks) would append a
        // later batch after rejecting an earlier one, which a real broker refuses; idem then
        // rightly infers the earlier one was written (implicit ack) — true for Kafka, not for it.
        let mut c = config(&bootstrap);
        c.set("max.in.flight.requests.per.connection", "1").unwrap();
        let (reports, m) = run_std(c, 2, 1000, during);
        let o = check(&reports, &read_back(&bootstrap, "t", 2), true);
        assert_eq!(o.delivered, 1000);
        assert_eq!(m.connection_errors, 0, "no request above an advertised version: {m:?}");
    }
}

#[test]
fn std_and_smol_happy_path_offsets_match_the_log() {
    for smol in [false, true] {
        let cluster = mock(3);
        let bootstrap = cluster.bootstrap_servers();
        let run = if smol { run_smol } else { run_std };
        let (reports, m) = run(config(&bootstrap), 3, 2000, |_| {});
        let log = read_back(&bootstrap, "t", 3);
        let o = check(&reports, &log, true);
        assert_eq!((o.delivered, log.len()), (2000, 2000));
        assert!(reports.iter().flatten().all(|r| r.as_ref().is_ok_and(|m| m.offset.is_some())));
        assert_eq!(m.retries, 0);
    }
}
