//! Proptest: random produce traffic (in-order batches, retries, duplicates beyond the window,
//! gaps, overlaps, epoch bumps, stale epochs, idle time, lost state) checked against a plain
//! reference model that keeps each producer's whole history in a `Vec`.

#![allow(clippy::unwrap_used)] // tests may unwrap (HELPERS.md)

use super::*;
use alloc::vec::Vec;
use proptest::prelude::*;

const EXPIRATION_MS: u64 = 100;
const MODULUS: i64 = i32::MAX as i64 + 1;

/// One appended batch as the model remembers it: (first, last, base offset, last offset).
type Sent = (i32, i32, i64, i64);

#[derive(Clone, Debug)]
struct ModelProducer {
    epoch: i16,
    history: Vec<Sent>,
    last_update_ms: u64,
}

/// The reference: unbounded history per producer, linear search, modular arithmetic.
struct Model {
    policy: UnknownProducerPolicy,
    cap: usize,
    producers: Vec<(i64, ModelProducer)>,
}

impl Model {
    fn live(&self, pid: i64, now_ms: u64) -> Option<&ModelProducer> {
        self.producers
            .iter()
            .find(|(id, _)| *id == pid)
            .map(|(_, p)| p)
            .filter(|p| now_ms - p.last_update_ms < EXPIRATION_MS)
    }

    fn decide(&self, b: &BatchInfo, now_ms: u64) -> Decision {
        if b.producer_id < 0 {
            return Decision::Append;
        }
        let count_ok = b
            .record_count
            .is_none_or(|c| c >= 1 && (i64::from(b.first_seq) + i64::from(c) - 1) % MODULUS == i64::from(b.last_seq));
        if b.producer_epoch < 0 || b.first_seq < 0 || b.last_seq < 0 || !count_ok {
            return Decision::Reject(ErrorCode::INVALID_RECORD);
        }
        let unknown = match (self.policy, b.first_seq) {
            (UnknownProducerPolicy::Strict, s) if s != 0 => Decision::Reject(ErrorCode::UNKNOWN_PRODUCER_ID),
            _ => Decision::Append,
        };
        let Some(p) = self.live(b.producer_id, now_ms) else { return unknown };
        if b.producer_epoch < p.epoch {
            return Decision::Reject(ErrorCode::INVALID_PRODUCER_EPOCH);
        }
        if b.producer_epoch > p.epoch {
            return if b.first_seq == 0 {
                Decision::Append
            } else {
                Decision::Reject(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER)
            };
        }
        let window = &p.history[p.history.len().saturating_sub(5)..];
        if let Some(&(_, _, base, last)) = window.iter().find(|s| (s.0, s.1) == (b.first_seq, b.last_seq)) {
            return Decision::Duplicate { base_offset: base, last_offset: last, timestamp: base * 10 };
        }
        let Some(&(_, last_seq, _, _)) = p.history.last() else { return unknown };
        if (i64::from(last_seq) + 1) % MODULUS == i64::from(b.first_seq) {
            Decision::Append
        } else {
            Decision::Reject(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER)
        }
    }

    fn record(&mut self, b: &BatchInfo, base: i64, last: i64, now_ms: u64) {
        let expired_or_absent = self.live(b.producer_id, now_ms).is_none();
        let pos = self.producers.iter().position(|(id, _)| *id == b.producer_id);
        let idx = match pos {
            Some(i) => i,
            None => {
                if self.producers.len() >= self.cap {
                    let lru = (0..self.producers.len())
                        .min_by_key(|&i| (self.producers[i].1.last_update_ms, self.producers[i].0))
                        .unwrap();
                    self.producers.remove(lru);
                }
                let fresh = ModelProducer { epoch: b.producer_epoch, history: Vec::new(), last_update_ms: now_ms };
                self.producers.push((b.producer_id, fresh));
                self.producers.len() - 1
            }
        };
        let p = &mut self.producers[idx].1;
        if expired_or_absent || p.epoch != b.producer_epoch {
            p.history.clear();
            p.epoch = b.producer_epoch;
        }
        p.history.push((b.first_seq, b.last_seq, base, last));
        p.last_update_ms = p.last_update_ms.max(now_ms);
    }
}

/// What the simulated client does next for producer `pid % 3`.
#[derive(Clone, Debug)]
enum Op {
    /// The next batch in sequence, `count` records.
    Next {
        pid: i64,
        count: i32,
    },
    /// Resend the `back`-th most recent batch sent in the current epoch (0 = the last).
    Retry {
        pid: i64,
        back: usize,
    },
    /// Skip `gap` sequences.
    Gap {
        pid: i64,
        gap: i32,
        count: i32,
    },
    /// Start one sequence after the last batch's first sequence.
    Overlap {
        pid: i64,
        count: i32,
    },
    /// Bump the epoch and start at `first` (0 is the legal restart).
    Bump {
        pid: i64,
        first: i32,
    },
    /// Send with an older epoch.
    Stale {
        pid: i64,
    },
    /// A first batch at an arbitrary sequence (near the wrap or not).
    Arbitrary {
        pid: i64,
        first: i32,
        count: i32,
    },
    /// Let time pass.
    Sleep {
        ms: u64,
    },
    /// Lose a producer's state, or run expiry.
    Forget {
        pid: i64,
    },
    Expire,
}

fn op() -> impl Strategy<Value = Op> {
    let pid = 0i64..3;
    let count = 1i32..4;
    prop_oneof![
        6 => (pid.clone(), count.clone()).prop_map(|(pid, count)| Op::Next { pid, count }),
        4 => (pid.clone(), 0usize..8).prop_map(|(pid, back)| Op::Retry { pid, back }),
        1 => (pid.clone(), 1i32..3, count.clone()).prop_map(|(pid, gap, count)| Op::Gap { pid, gap, count }),
        1 => (pid.clone(), count.clone()).prop_map(|(pid, count)| Op::Overlap { pid, count }),
        1 => (pid.clone(), prop_oneof![3 => Just(0), 1 => 1i32..3]).prop_map(|(pid, first)| Op::Bump { pid, first }),
        1 => pid.clone().prop_map(|pid| Op::Stale { pid }),
        1 => (pid.clone(), prop_oneof![Just(0), Just(i32::MAX - 3), 0i32..10], count)
            .prop_map(|(pid, first, count)| Op::Arbitrary { pid, first, count }),
        2 => (0u64..60).prop_map(|ms| Op::Sleep { ms }),
        1 => pid.prop_map(|pid| Op::Forget { pid }),
        1 => Just(Op::Expire),
    ]
}

/// The client's view of one producer: its epoch, next sequence, and batches sent this epoch.
#[derive(Clone, Default)]
struct Client {
    epoch: i16,
    next: i32,
    sent: Vec<(i32, i32)>,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn validator_matches_reference_model(
        ops in proptest::collection::vec(op(), 1..200),
        strict in any::<bool>(),
        cap in 1usize..4,
        hash_seed in any::<u64>(),
    ) {
        let policy = if strict { UnknownProducerPolicy::Strict } else { UnknownProducerPolicy::AcceptAnySequence };
        let config = ValidatorConfig {
            producer_id_expiration: Duration::from_millis(EXPIRATION_MS),
            max_producers: cap,
            unknown_producer: policy,
            hash_seed,
        };
        let mut table = ProducerStateTable::new(config);
        let mut model = Model { policy, cap, producers: Vec::new() };
        let mut clients: Vec<Client> = (0..3).map(|_| Client { epoch: 2, ..Client::default() }).collect();
        let (mut now_ms, mut log_end) = (0u64, 0i64);
        for op in ops {
            let batch = match op {
                Op::Sleep { ms } => { now_ms += ms; continue; }
                Op::Expire => {
                    table.expire(Instant::from_millis(now_ms));
                    model.producers.retain(|(_, p)| now_ms - p.last_update_ms < EXPIRATION_MS);
                    continue;
                }
                Op::Forget { pid } => {
                    table.forget(pid);
                    model.producers.retain(|(id, _)| *id != pid);
                    continue;
                }
                Op::Next { pid, count } => {
                    let c = &clients[pid as usize];
                    BatchInfo::with_count(pid, c.epoch, c.next, count)
                }
                Op::Retry { pid, back } => {
                    let c = &clients[pid as usize];
                    let Some(&(first, last)) = c.sent.iter().rev().nth(back) else { continue };
                    BatchInfo::new(pid, c.epoch, first, last, None)
                }
                Op::Gap { pid, gap, count } => {
                    let c = &clients[pid as usize];
                    BatchInfo::with_count(pid, c.epoch, increment_sequence(c.next, gap), count)
                }
                Op::Overlap { pid, count } => {
                    let c = &clients[pid as usize];
                    let Some(&(first, _)) = c.sent.last() else { continue };
                    BatchInfo::with_count(pid, c.epoch, increment_sequence(first, 1), count)
                }
                Op::Bump { pid, first } => {
                    let c = &mut clients[pid as usize];
                    c.epoch += 1;
                    c.sent.clear();
                    BatchInfo::with_count(pid, c.epoch, first, 1)
                }
                Op::Stale { pid } => {
                    let c = &clients[pid as usize];
                    BatchInfo::with_count(pid, c.epoch - 1, c.next, 1)
                }
                Op::Arbitrary { pid, first, count } => {
                    let c = &clients[pid as usize];
                    BatchInfo::with_count(pid, c.epoch, first, count)
                }
            };
            let now = Instant::from_millis(now_ms);
            let got = table.check(&batch, now);
            let want = model.decide(&batch, now_ms);
            prop_assert_eq!(got, want, "{:?} at {} ms", batch, now_ms);
            if got == Decision::Append {
                let n = (i64::from(batch.last_seq) - i64::from(batch.first_seq)).rem_euclid(MODULUS) + 1;
                table.record_append(&batch, log_end, log_end + n - 1, log_end * 10, now);
                model.record(&batch, log_end, log_end + n - 1, now_ms);
                log_end += n;
                let c = &mut clients[batch.producer_id as usize];
                c.sent.push((batch.first_seq, batch.last_seq));
                c.next = increment_sequence(batch.last_seq, 1);
            }
            prop_assert!(table.len() <= cap);
            prop_assert_eq!(table.len(), model.producers.len());
        }
        // Whatever the history, a snapshot restores to the same decisions.
        let back = ProducerStateTable::restore(&table.snapshot(), config).unwrap();
        for pid in 0..3 {
            let c = &clients[pid as usize];
            for first in [0, c.next, increment_sequence(c.next, 1)] {
                let probe = BatchInfo::with_count(pid, c.epoch, first, 1);
                let now = Instant::from_millis(now_ms);
                prop_assert_eq!(table.check(&probe, now), back.check(&probe, now));
            }
        }
    }
}
