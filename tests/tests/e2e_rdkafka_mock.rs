//! End to end over real TCP against librdkafka's mock cluster (a Kafka implementation no one
//! here wrote): both runtimes, injected Produce errors, leader moves, brokers down and up, an
//! older broker; read back with an rdkafka consumer. That mock does not dedupe for a plain
//! idempotent producer, so duplicates are counted where it could not prevent them.
#![allow(clippy::unwrap_used)]

mod e2e_common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use e2e_common::{check, read_back, value_of};
use idem_std::{Config, DeliveryResult, Producer, Record};
use rdkafka::mocking::MockCluster;

fn config(bootstrap: &str) -> Config {
    Config::new(bootstrap)
        .unwrap()
        .with("linger.ms", "2")
        .unwrap()
        .with("retry.backoff.ms", "20")
        .unwrap()
        .with("retry.backoff.max.ms", "200")
        .unwrap()
        .with("reconnect.backoff.ms", "20")
        .unwrap()
        .with("reconnect.backoff.max.ms", "200")
        .unwrap()
        .with("delivery.timeout.ms", "8000")
        .unwrap()
        .with("request.timeout.ms", "2000")
        .unwrap()
}

/// Sends `n` records (values 0..n) round-robin over `partitions` with callbacks; returns the
/// reports in index order.
fn send_all(
    p: &Producer,
    topic: &str,
    partitions: i32,
    n: u64,
    mut between: impl FnMut(u64),
) -> Vec<Option<DeliveryResult>> {
    let reports = Arc::new(Mutex::new(vec![None; n as usize]));
    for i in 0..n {
        between(i);
        let v = value_of(i);
        let r = Arc::clone(&reports);
        p.send_with_callback(&Record::new(topic).partition((i % partitions as u64) as i32).value(&v), move |res| {
            let mut r = r.lock().unwrap();
            assert!(r[i as usize].is_none(), "record {i} reported twice");
            r[i as usize] = Some(res);
        })
        .unwrap();
    }
    p.flush(Duration::from_secs(15)).unwrap();
    let out = reports.lock().unwrap().clone();
    out
}

#[test]
fn std_happy_path() {
    let t0 = Instant::now();
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic("t", 3, 1).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let p = Producer::new(config(&bootstrap)).unwrap();
    let reports = send_all(&p, "t", 3, 2000, |_| {});
    eprintln!("first: {:?} metrics {:?}", reports[0], p.metrics());
    let report = p.close(Duration::from_secs(5));
    assert!(report.all_delivered(), "{report:?}");
    let log = read_back(&bootstrap, "t", 3);
    let o = check(&reports, &log, false);
    assert_eq!(o.delivered, 2000);
    assert_eq!(log.len(), 2000);
    eprintln!("{o:?} in {:?}", t0.elapsed());
}
