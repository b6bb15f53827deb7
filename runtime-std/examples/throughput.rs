//! Throughput of the blocking producer against idem's MockCluster on loopback: `THREADS`
//! producer threads (default 4) send `RECORDS` records (default 200000) of `SIZE` bytes
//! (default 100) with callbacks, then flush; prints records/s and MB/s. The broker shares the
//! machine, so this measures producer + broker together.
//!
//! `cargo run --release -p idem-std --example throughput`
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use idem_core::broker::TopicConfig;
use idem_mock::{MockCluster, MockClusterConfig};
use idem_std::{Config, Producer, Record};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let (threads, records, size) = (env("THREADS", 4), env("RECORDS", 200_000), env("SIZE", 100) as usize);
    let mut cc = MockClusterConfig { brokers: 1, ..Default::default() };
    cc.cluster.topics.push(TopicConfig { name: "bench".into(), partitions: 6 });
    cc.cluster.log_max_bytes = 1 << 30;
    let cluster = MockCluster::start(cc).unwrap();
    let config = Config::new(&cluster.bootstrap_servers()).unwrap().with("linger.ms", "5").unwrap();
    let p = Producer::new(config).unwrap();
    let delivered = Arc::new(AtomicU64::new(0));
    let value = vec![b'x'; size];
    let t0 = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let (p, delivered, value) = (&p, Arc::clone(&delivered), &value);
            s.spawn(move || {
                for i in 0..records / threads {
                    let key = (t * 1_000_000 + i).to_be_bytes();
                    let d = Arc::clone(&delivered);
                    p.send_with_callback(&Record::new("bench").key(&key).value(value), move |r| {
                        if r.is_ok() {
                            d.fetch_add(1, Ordering::Relaxed);
                        }
                    })
                    .unwrap();
                }
            });
        }
    });
    p.flush_timeout(Duration::from_secs(60)).unwrap();
    let secs = t0.elapsed().as_secs_f64();
    let n = delivered.load(Ordering::Relaxed);
    let m = p.metrics();
    println!(
        "{n} records x {size} B, {threads} threads: {:.0} records/s, {:.1} MB/s ({} batches, {} requests)",
        n as f64 / secs,
        (n as usize * size) as f64 / secs / 1e6,
        m.batches,
        m.produce_requests
    );
    assert_eq!(n, records / threads * threads);
}
