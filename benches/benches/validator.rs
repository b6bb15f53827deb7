//! Criterion bench: the broker-side sequence validator.
//!
//! - `check_record/N`: one in-sequence batch through `check` + `record_append` (what a broker
//!   does per appended batch), producers visited in a shuffled order among N tracked producers,
//!   each with a full 5-batch window.
//! - `check_duplicate/N`: `check` of a retried batch found in the window (the dedup answer).
//! - `check_out_of_order/N`: `check` of a batch with a sequence gap.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use idem_core::broker::{BatchInfo, Decision, ProducerStateTable, ValidatorConfig};
use idem_core::rand::Rng;
use idem_core::{Duration, Instant};

const SIZES: [usize; 3] = [1, 100, 10_000];
const RECORDS: i32 = 4;

/// A table with `n` producers (ids spread like a broker's allocator would give them), each with
/// 5 batches of RECORDS records; returns it with the ids in shuffled visiting order and each
/// producer's next sequence.
fn setup(n: usize) -> (ProducerStateTable, Vec<i64>, Vec<i32>) {
    let config = ValidatorConfig {
        producer_id_expiration: Duration::from_secs(u64::MAX / 2_000_000),
        max_producers: n,
        ..ValidatorConfig::default()
    };
    let mut table = ProducerStateTable::new(config);
    let mut rng = Rng::new(42);
    let ids: Vec<i64> = (0..n as i64).map(|i| 1_000 + i * 7).collect();
    let mut offset = 0i64;
    for round in 0..5 {
        for &id in &ids {
            let batch = BatchInfo::with_count(id, 0, round * RECORDS, RECORDS);
            assert_eq!(table.check(&batch, Instant::ZERO), Decision::Append);
            table.record_append(&batch, offset, offset + i64::from(RECORDS) - 1, 0, Instant::ZERO);
            offset += i64::from(RECORDS);
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let shuffled = order.iter().map(|&i| ids[i]).collect();
    (table, shuffled, vec![5 * RECORDS; n])
}

fn check_record(c: &mut Criterion) {
    let mut group = c.benchmark_group("validator/check_record");
    group.throughput(Throughput::Elements(1));
    for n in SIZES {
        let (mut table, ids, mut next) = setup(n);
        let (mut i, mut offset, mut now) = (0usize, 1i64 << 40, 0u64);
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                let batch = BatchInfo::with_count(ids[i], 0, next[i], RECORDS);
                let d = table.check(black_box(&batch), Instant::from_micros(now));
                if d == Decision::Append {
                    let last = offset + i64::from(RECORDS) - 1;
                    table.record_append(&batch, offset, last, 0, Instant::from_micros(now));
                    offset = last + 1;
                    next[i] = batch.last_seq.wrapping_add(1) & i32::MAX;
                }
                now += 1;
                i = if i + 1 == ids.len() { 0 } else { i + 1 };
                black_box(d)
            })
        });
        assert_eq!(table.len(), n);
    }
    group.finish();
}

fn check_only(c: &mut Criterion, name: &str, seq_back: i32) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    for n in SIZES {
        let (table, ids, next) = setup(n);
        let probe = BatchInfo::with_count(ids[0], 0, next[0] + seq_back, RECORDS);
        let is_dup = matches!(table.check(&probe, Instant::ZERO), Decision::Duplicate { .. });
        assert_eq!(is_dup, seq_back < 0, "{name} measures the intended path");
        let mut i = 0usize;
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                let batch = BatchInfo::with_count(ids[i], 0, next[i] + seq_back, RECORDS);
                i = if i + 1 == ids.len() { 0 } else { i + 1 };
                black_box(table.check(black_box(&batch), Instant::ZERO))
            })
        });
    }
    group.finish();
}

fn check_duplicate(c: &mut Criterion) {
    // The 4th batch from the last.
    check_only(c, "validator/check_duplicate", -4 * RECORDS);
}

fn check_out_of_order(c: &mut Criterion) {
    check_only(c, "validator/check_out_of_order", 1);
}

criterion_group!(benches, check_record, check_duplicate, check_out_of_order);
criterion_main!(benches);
