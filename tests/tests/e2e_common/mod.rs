//! Shared helpers of the end-to-end tests: reading a topic back with an rdkafka consumer, and
//! checking the five guarantees against the reports.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use idem_std::{DeliveryResult, Persisted};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

/// One record read back: partition, offset, value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Read {
    pub partition: i32,
    pub offset: i64,
    pub value: Vec<u8>,
}

/// Reads every partition of `topic` from the beginning to its high watermark.
pub fn read_back(bootstrap: &str, topic: &str, partitions: i32) -> Vec<Read> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "idem-e2e-reader")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    let mut highs = HashMap::new();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        let (low, high) = consumer.fetch_watermarks(topic, p, Duration::from_secs(5)).unwrap();
        highs.insert(p, high);
        if high > low {
            tpl.add_partition_offset(topic, p, Offset::Offset(low)).unwrap();
        }
    }
    let mut out = Vec::new();
    if tpl.count() == 0 {
        return out;
    }
    consumer.assign(&tpl).unwrap();
    let mut next: HashMap<i32, i64> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while highs.iter().any(|(p, h)| next.get(p).copied().unwrap_or(0) < *h) {
        assert!(Instant::now() < deadline, "timed out reading back; got {} records", out.len());
        if let Some(m) = consumer.poll(Duration::from_millis(100)) {
            let m = m.unwrap();
            next.insert(m.partition(), m.offset() + 1);
            out.push(Read { partition: m.partition(), offset: m.offset(), value: m.payload().unwrap_or(&[]).to_vec() });
        }
    }
    out
}

/// Value of record `i` of a test: 8 bytes big-endian.
pub fn value_of(i: u64) -> [u8; 8] {
    i.to_be_bytes()
}

/// Inverse of [`value_of`].
pub fn index_of(v: &[u8]) -> u64 {
    u64::from_be_bytes(v.try_into().unwrap())
}

/// What a check found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub delivered: usize,
    pub failed_not_persisted: usize,
    pub failed_possibly: usize,
    /// Records in the log more than once (count of extra copies).
    pub duplicates: usize,
    pub possibly_found: usize,
}

/// Checks reports (indexed by record index) against the log:
/// - every record has a report;
/// - delivered records are in the log, at the reported offset when one is given;
/// - records failed as NotPersisted are not in the log;
/// - per partition, record indexes in the log are increasing (send order) — duplicates allowed
///   only when `allow_duplicates` (counted in the outcome).
pub fn check(reports: &[Option<DeliveryResult>], log: &[Read], allow_duplicates: bool) -> Outcome {
    let mut out = Outcome::default();
    let mut found: HashMap<u64, Vec<(i32, i64)>> = HashMap::new();
    let mut per_partition: BTreeMap<i32, Vec<(i64, u64)>> = BTreeMap::new();
    for r in log {
        let i = index_of(&r.value);
        found.entry(i).or_default().push((r.partition, r.offset));
        per_partition.entry(r.partition).or_default().push((r.offset, i));
    }
    for (p, mut recs) in per_partition {
        recs.sort();
        let mut last: Option<u64> = None;
        for (off, i) in recs {
            if let Some(l) = last {
                if allow_duplicates {
                    assert!(i >= l || found[&i].len() > 1 || found[&l].len() > 1, "partition {p}: record {i} at offset {off} after {l}: reordered");
                } else {
                    assert!(i > l, "partition {p}: record {i} at offset {off} after {l}: reordered or duplicated");
                }
            }
            last = Some(last.map_or(i, |l| l.max(i)));
        }
    }
    for (i, rep) in reports.iter().enumerate() {
        let i = i as u64;
        let copies = found.get(&i).map_or(0, Vec::len);
        out.duplicates += copies.saturating_sub(1);
        match rep {
            None => panic!("record {i} never reported"),
            Some(Ok(m)) => {
                out.delivered += 1;
                assert!(copies >= 1, "record {i} reported delivered ({m:?}) but not in the log");
                if let Some(off) = m.offset {
                    assert!(found[&i].contains(&(m.partition, off)), "record {i}: reported at {}/{off}, log has {:?}", m.partition, found[&i]);
                }
            }
            Some(Err(f)) => match f.persisted {
                Persisted::No => {
                    out.failed_not_persisted += 1;
                    assert_eq!(copies, 0, "record {i} reported not persisted ({f}) but is in the log");
                }
                Persisted::Possibly => {
                    out.failed_possibly += 1;
                    out.possibly_found += usize::from(copies > 0);
                }
            },
        }
    }
    if !allow_duplicates {
        assert_eq!(out.duplicates, 0, "duplicates in the log");
    }
    out
}
