//! Transactions side by side: idem's transactional producer (idem-std) and librdkafka's
//! (`rdkafka::producer::BaseProducer` with `transactional.id`), one after the other, on the
//! same broker: idem's in-memory cluster over TCP (`idem_mock::MockCluster`, 3 brokers), at
//! `transaction.version` 1 (KIP-98) and 2 (KIP-890: idem then speaks transactions v2,
//! librdkafka still v1), and librdkafka's mock cluster. Each runs `--transactions` transactions of `--records` records of
//! 100 bytes over 6 partitions, each committed; reported: records/s over the whole run, and the
//! latency of `commit_transaction` (from the call to its return: the flush of the transaction's
//! records, then EndTxn and the coordinator's answer), p50 / p99 / max.
//!
//! `cargo run --release -p idem-benches --bin txn [-- --transactions N --records N --rounds N]`

use std::time::{Duration, Instant};

use idem_benches::hist::Histogram;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};

const TOPIC: &str = "bench-txn";
const PARTITIONS: i32 = 6;
const VALUE: [u8; 100] = [b'x'; 100];
const TIMEOUT: Duration = Duration::from_secs(60);

/// One measured run.
struct Run {
    records: u64,
    elapsed: Duration,
    commits: Histogram,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut transactions, mut records, mut rounds) = (200u64, 1_000u64, 3u32);
    while let Some(a) = args.next() {
        let mut value = || args.next().and_then(|v| v.parse::<u64>().ok()).unwrap_or_else(|| usage());
        match a.as_str() {
            "--transactions" => transactions = value(),
            "--records" => records = value(),
            "--rounds" => rounds = value() as u32,
            _ => usage(),
        }
    }
    println!(
        "| broker | producer | transactions x records | records/s | commit p50 ms | commit p99 ms | commit max ms |"
    );
    println!("|---|---|---|---:|---:|---:|---:|");
    for broker in ["idem-cluster", "idem-cluster-tv2", "rdkafka-mock"] {
        for producer in ["idem", "librdkafka"] {
            let mut runs: Vec<Run> = Vec::new();
            for round in 0..rounds {
                let (bootstrap, _keep) = start(broker);
                let id = format!("bench-{producer}-{round}");
                let run = match producer {
                    "idem" => idem(&bootstrap, &id, transactions, records),
                    _ => rdkafka(&bootstrap, &id, transactions, records),
                };
                match run {
                    Ok(r) => runs.push(r),
                    Err(e) => eprintln!("{broker} {producer} round {round}: {e}"),
                }
            }
            // The median round by throughput.
            runs.sort_by(|a, b| rate(a).total_cmp(&rate(b)));
            if let Some(r) = runs.get(runs.len() / 2) {
                let ms = |q: f64| r.commits.quantile(q) as f64 / 1000.0;
                println!(
                    "| {broker} | {producer} | {transactions} x {records} | {:.0} | {:.2} | {:.2} | {:.2} |",
                    rate(r),
                    ms(0.5),
                    ms(0.99),
                    r.commits.max() as f64 / 1000.0
                );
            }
        }
    }
}

fn usage() -> ! {
    eprintln!("usage: txn [--transactions N] [--records N] [--rounds N]");
    std::process::exit(2)
}

fn rate(r: &Run) -> f64 {
    r.records as f64 / r.elapsed.as_secs_f64()
}

/// A broker to run against: its bootstrap servers, and what keeps it alive.
enum Keep {
    Idem(#[allow(dead_code, reason = "kept alive")] idem_mock::MockCluster),
    Rdkafka(
        #[allow(dead_code, reason = "kept alive")]
        rdkafka::mocking::MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
    ),
}

fn start(broker: &str) -> (String, Keep) {
    if broker.starts_with("idem-cluster") {
        let mut config = idem_mock::MockClusterConfig { brokers: 3, ..Default::default() };
        if broker.ends_with("tv2") {
            config.cluster.transaction_version = idem_core::broker::TransactionVersion::V2;
        }
        config.cluster.topics = vec![idem_core::broker::TopicConfig { name: TOPIC.into(), partitions: PARTITIONS }];
        let c = idem_mock::MockCluster::start(config).expect("idem cluster");
        (c.bootstrap_servers(), Keep::Idem(c))
    } else {
        let m = rdkafka::mocking::MockCluster::new(3).expect("mock cluster");
        m.create_topic(TOPIC, PARTITIONS, 1).expect("topic");
        (m.bootstrap_servers(), Keep::Rdkafka(m))
    }
}

/// idem-std: begin, `records` sends, commit (timed), `transactions` times.
fn idem(bootstrap: &str, id: &str, transactions: u64, records: u64) -> Result<Run, String> {
    let mut config = idem_std::Config::new(bootstrap).map_err(|e| e.to_string())?;
    config.set("transactional.id", id).map_err(|e| e.to_string())?;
    config.set("linger.ms", "5").map_err(|e| e.to_string())?;
    let p = idem_std::Producer::new(config).map_err(|e| e.to_string())?;
    p.init_transactions(TIMEOUT).map_err(|e| format!("init: {e}"))?;
    let commits = Histogram::new();
    let recs: Vec<idem_std::Record<'_>> = (0..records)
        .map(|i| idem_std::Record::new(TOPIC).partition((i % PARTITIONS as u64) as i32).value(&VALUE))
        .collect();
    let t0 = Instant::now();
    for _ in 0..transactions {
        p.begin_transaction().map_err(|e| format!("begin: {e}"))?;
        p.send_many(&recs).map_err(|e| format!("send: {e}"))?;
        let c0 = Instant::now();
        p.commit_transaction(TIMEOUT).map_err(|e| format!("commit: {e}"))?;
        commits.record(c0.elapsed().as_micros() as u64);
    }
    let elapsed = t0.elapsed();
    let delivered = p.counts().delivered;
    let _ = p.close_timeout(Duration::from_secs(5));
    if delivered != transactions * records {
        return Err(format!("{delivered} of {} delivered", transactions * records));
    }
    Ok(Run { records: transactions * records, elapsed, commits })
}

/// librdkafka: the same with `BaseProducer` (polled while its queue is full).
fn rdkafka(bootstrap: &str, id: &str, transactions: u64, records: u64) -> Result<Run, String> {
    let p: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("transactional.id", id)
        .set("linger.ms", "5")
        .create()
        .map_err(|e| e.to_string())?;
    p.init_transactions(TIMEOUT).map_err(|e| format!("init: {e}"))?;
    let commits = Histogram::new();
    let t0 = Instant::now();
    for _ in 0..transactions {
        p.begin_transaction().map_err(|e| format!("begin: {e}"))?;
        for i in 0..records {
            let partition = (i % PARTITIONS as u64) as i32;
            loop {
                match p.send(BaseRecord::<(), [u8]>::to(TOPIC).partition(partition).payload(&VALUE[..])) {
                    Ok(()) => break,
                    Err((e, _)) if e.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) => {
                        p.poll(Duration::from_millis(1));
                    }
                    Err((e, _)) => return Err(format!("send: {e}")),
                }
            }
        }
        let c0 = Instant::now();
        p.commit_transaction(TIMEOUT).map_err(|e| format!("commit: {e}"))?;
        commits.record(c0.elapsed().as_micros() as u64);
    }
    Ok(Run { records: transactions * records, elapsed: t0.elapsed(), commits })
}
