//! The load generator both producers are measured with, written once: where each record goes
//! (explicit partition or key), the application threads that share the producer, the
//! open-loop schedule, and the measured run itself ([`measure`]) around a [`Side`], the one
//! thing each producer supplies.

use crate::hist::Histogram;
use crate::procstat;
use crate::run::{RunResult, Settings, Workload};
use std::time::{Duration, Instant};

/// Where a record goes: an explicit partition, or a key for the producer's default
/// partitioner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// This partition.
    Partition(i32),
    /// No partition; this key (the record index, 8 bytes big-endian).
    Key([u8; 8]),
}

/// Where record `i` of `w` goes: keyed, the key `i.to_be_bytes()`; unkeyed, partition
/// `i % partitions` (round-robin).
pub fn target(w: &Workload, i: u64) -> Target {
    if w.keyed {
        Target::Key(i.to_be_bytes())
    } else {
        let parts = u64::try_from(w.partitions.max(1)).unwrap_or(1);
        Target::Partition(i32::try_from(i % parts).unwrap_or(0))
    }
}

/// The records application thread `thread` of `threads` sends, in order: `thread, thread +
/// threads, ...` below `records`. Together the threads send every record exactly once, and
/// their shares differ by at most one record.
pub fn share(records: u64, thread: u32, threads: u32) -> impl Iterator<Item = u64> {
    let step = usize::try_from(threads.max(1)).unwrap_or(1);
    (u64::from(thread)..records).step_by(step)
}

/// An open-loop schedule: record `i` is due `i / per_s` seconds after the start, whatever
/// happened to the records before it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    per_s: f64,
}

impl Schedule {
    /// A schedule offering `per_s` records per second; `None` unless `per_s` is positive and
    /// finite.
    pub fn new(per_s: f64) -> Option<Schedule> {
        (per_s.is_finite() && per_s > 0.0).then_some(Schedule { per_s })
    }

    /// When record `i` is due, after the start.
    pub fn due(&self, i: u64) -> Duration {
        Duration::from_secs_f64(i as f64 / self.per_s)
    }
}

/// How far behind its due time a send call started: zero if on time. `now` and `due` are
/// offsets from the same start.
pub fn lag(now: Duration, due: Duration) -> Duration {
    now.saturating_sub(due)
}

/// One producer under test, as [`measure`] drives it. Shared by every application thread.
pub trait Side: Sync {
    /// The producer's name in results ("idem", "librdkafka").
    fn producer(&self) -> &'static str;

    /// Sends one record with value `value` to `target`, waiting while the producer's buffer
    /// is full. With `measured`, its send-to-report latency goes into [`Side::histogram`].
    /// An error means the record was not accepted.
    fn send(&self, target: Target, value: &[u8], measured: bool) -> Result<(), String>;

    /// Waits until `want` records have been reported (delivered or failed) since the start,
    /// or `timeout` passes (an error saying how far it got).
    fn wait_reported(&self, want: u64, timeout: Duration) -> Result<(), String>;

    /// Records reported delivered and failed since the start.
    fn counts(&self) -> (u64, u64);

    /// Send-to-report latencies of the measured records, microseconds.
    fn histogram(&self) -> &Histogram;

    /// Bytes the producer has written to brokers so far (0: not measured). Asked once, after
    /// the measured interval.
    fn wire_bytes(&self) -> u64 {
        0
    }
}

/// The values a run sends: one of `size` bytes of `x`, or a pool of text-like values.
fn payloads(w: &Workload) -> Vec<Vec<u8>> {
    if w.text { crate::text::text_values(w.size, 1024, 0x7e57) } else { vec![vec![b'x'; w.size]] }
}

/// What the send phase of a run observed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct SendPhase {
    /// Seconds from the start to the return of the last send call.
    send_s: f64,
    /// Largest delay of a send call past its due time (open loop only).
    max_lag: Duration,
}

/// Sends the records of `w` through `side` from `w.threads` application threads, each its
/// [`share`], paced by `schedule` if given: a thread sleeps until a record is due (no
/// spinning, so the sender's CPU is not inflated; records due while it oversleeps, some tens
/// of microseconds on Linux, then go out back to back) and never waits for a late one.
fn send_all(side: &dyn Side, w: &Workload, start: Instant, schedule: Option<Schedule>) -> Result<SendPhase, String> {
    let pool = payloads(w);
    let threads = w.threads.max(1);
    let sender = |t: u32| -> Result<Duration, String> {
        let mut max_lag = Duration::ZERO;
        for i in share(w.records, t, threads) {
            if let Some(s) = schedule {
                let due = s.due(i);
                let now = start.elapsed();
                if now < due {
                    std::thread::sleep(due - now);
                } else {
                    max_lag = max_lag.max(lag(now, due));
                }
            }
            let payload = pool.get(i as usize % pool.len()).map_or(&[][..], Vec::as_slice);
            side.send(target(w, i), payload, true)?;
        }
        Ok(max_lag)
    };
    let lags: Vec<Result<Duration, String>> = if threads == 1 {
        vec![sender(0)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads).map(|t| scope.spawn(move || sender(t))).collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("a sender thread panicked".into()))).collect()
        })
    };
    let send_s = start.elapsed().as_secs_f64();
    let mut max_lag = Duration::ZERO;
    for l in lags {
        max_lag = max_lag.max(l?);
    }
    Ok(SendPhase { send_s, max_lag })
}

/// Runs `w` through `side` and measures it, the same way for both producers: a warm-up of one
/// unmeasured record per partition (metadata, connections, producer id), then the measured
/// records (from every application thread, paced in an open-loop run), then waiting for every
/// report. Elapsed time and CPU run from the first measured send to the last report; peak RSS
/// is the whole process's.
pub fn measure(side: &dyn Side, w: &Workload, s: &Settings) -> Result<RunResult, String> {
    let warm_payload = vec![b'x'; w.size];
    let parts = w.partitions.max(1);
    for part in 0..parts {
        side.send(Target::Partition(part), &warm_payload, false)?;
    }
    let warm = u64::try_from(parts).unwrap_or(0);
    side.wait_reported(warm, Duration::from_secs(60)).map_err(|e| format!("warm-up: {e}"))?;

    let cpu0 = procstat::cpu_seconds().unwrap_or(0.0);
    let start = Instant::now();
    let schedule = w.offered_per_s.and_then(Schedule::new);
    let phase = send_all(side, w, start, schedule)?;
    side.wait_reported(warm + w.records, Duration::from_millis(s.delivery_timeout_ms + 60_000))?;
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = procstat::cpu_seconds().unwrap_or(0.0) - cpu0;
    let (delivered, failed) = side.counts();
    let h = side.histogram();
    Ok(RunResult {
        producer: side.producer().into(),
        workload: w.name.clone(),
        records: w.records,
        bytes: w.records * w.size as u64,
        delivered: delivered.saturating_sub(warm),
        failed,
        elapsed_s: elapsed,
        cpu_s: cpu,
        peak_rss_kib: procstat::peak_rss_kib().unwrap_or(0),
        p50_us: h.quantile(0.5),
        p99_us: h.quantile(0.99),
        p999_us: h.quantile(0.999),
        max_us: h.max(),
        partitions: w.partitions,
        keyed: w.keyed,
        threads: w.threads.max(1),
        linger_ms: Some(s.linger_ms),
        offered_per_s: schedule.map_or(0.0, |s| s.per_s),
        send_s: phase.send_s,
        max_lag_us: u64::try_from(phase.max_lag.as_micros()).unwrap_or(u64::MAX),
        wire_bytes: side.wire_bytes(),
        ..RunResult::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn unkeyed_is_round_robin_and_keyed_is_the_index() {
        let mut w = Workload::new("t", 10, 1, 3);
        let parts: Vec<Target> = (0..4).map(|i| target(&w, i)).collect();
        assert_eq!(parts, [0, 1, 2, 0].map(Target::Partition));
        w.keyed = true;
        assert_eq!(target(&w, 258), Target::Key([0, 0, 0, 0, 0, 0, 1, 2]));
    }

    #[test]
    fn shares_cover_every_record_once_and_evenly() {
        for (records, threads) in [(10u64, 1u32), (10, 4), (3, 16), (1_000_001, 16)] {
            let mut seen = vec![0u8; records as usize];
            let sizes: Vec<usize> =
                (0..threads).map(|t| share(records, t, threads).inspect(|&i| seen[i as usize] += 1).count()).collect();
            assert!(seen.iter().all(|&n| n == 1), "records={records} threads={threads}");
            let (lo, hi) = (sizes.iter().min().copied().unwrap_or(0), sizes.iter().max().copied().unwrap_or(0));
            assert!(hi - lo <= 1, "{sizes:?}");
        }
    }

    #[test]
    fn schedule_spaces_records_by_the_rate() {
        assert_eq!(Schedule::new(0.0), None);
        assert_eq!(Schedule::new(-5.0), None);
        assert_eq!(Schedule::new(f64::NAN), None);
        let s = Schedule::new(1000.0).expect("positive rate");
        assert_eq!(s.due(0), Duration::ZERO);
        assert_eq!(s.due(1), Duration::from_millis(1));
        assert_eq!(s.due(1500), Duration::from_millis(1500));
        let fast = Schedule::new(1_500_000.0).expect("positive rate");
        assert_eq!(fast.due(3_000_000), Duration::from_secs(2));
        assert_eq!(lag(Duration::from_millis(5), Duration::from_millis(3)), Duration::from_millis(2));
        assert_eq!(lag(Duration::from_millis(3), Duration::from_millis(5)), Duration::ZERO);
    }

    /// A producer that delivers at once, recording what it was sent and when.
    struct Instant0 {
        sent: Mutex<Vec<(Target, bool, Duration)>>,
        start: Instant,
        reported: AtomicU64,
        hist: Histogram,
    }

    impl Side for Instant0 {
        fn producer(&self) -> &'static str {
            "test"
        }
        fn send(&self, target: Target, _: &[u8], measured: bool) -> Result<(), String> {
            self.sent.lock().map_err(|_| "poisoned")?.push((target, measured, self.start.elapsed()));
            if measured {
                self.hist.record(1);
            }
            self.reported.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        fn wait_reported(&self, want: u64, _: Duration) -> Result<(), String> {
            if self.reported.load(Ordering::Relaxed) >= want { Ok(()) } else { Err("short".into()) }
        }
        fn counts(&self) -> (u64, u64) {
            (self.reported.load(Ordering::Relaxed), 0)
        }
        fn histogram(&self) -> &Histogram {
            &self.hist
        }
    }

    fn side() -> Instant0 {
        Instant0 {
            sent: Mutex::new(Vec::new()),
            start: Instant::now(),
            reported: AtomicU64::new(0),
            hist: Histogram::new(),
        }
    }

    #[test]
    fn measure_warms_every_partition_then_sends_each_record_once_from_every_thread() {
        let side = side();
        let w = Workload { keyed: true, threads: 4, ..Workload::new("k", 1000, 10, 5) };
        let r = measure(&side, &w, &Settings::default()).expect("runs");
        let sent = side.sent.into_inner().expect("not poisoned");
        let warm: Vec<Target> = sent.iter().filter(|s| !s.1).map(|s| s.0).collect();
        assert_eq!(warm, (0..5).map(Target::Partition).collect::<Vec<_>>());
        let mut keys: Vec<u64> = sent
            .iter()
            .filter_map(|s| match s.0 {
                Target::Key(k) if s.1 => Some(u64::from_be_bytes(k)),
                _ => None,
            })
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, (0..1000).collect::<Vec<_>>());
        assert_eq!((r.delivered, r.records, r.threads, r.partitions, r.keyed), (1000, 1000, 4, 5, true));
        assert_eq!(r.offered_per_s, 0.0);
        assert_eq!(r.max_lag_us, 0);
    }

    #[test]
    fn an_open_loop_run_keeps_to_its_schedule() {
        let side = side();
        let w = Workload { offered_per_s: Some(2000.0), ..Workload::new("paced", 200, 10, 1) };
        let r = measure(&side, &w, &Settings::default()).expect("runs");
        let sent = side.sent.into_inner().expect("not poisoned");
        let measured: Vec<Duration> = sent.iter().filter(|s| s.1).map(|s| s.2).collect();
        let first = measured[0];
        for (i, at) in measured.iter().enumerate() {
            // Never early: record i leaves no sooner than i / 2000 s after the first.
            assert!(
                *at - first + Duration::from_micros(50) >= Duration::from_micros(500 * i as u64),
                "record {i} at {at:?}"
            );
        }
        // 200 records at 2000/s: the last is due at 99.5 ms.
        assert!(r.send_s >= 0.099, "{}", r.send_s);
        assert_eq!(r.offered_per_s, 2000.0);
        assert!(r.sent_per_s() > 0.0);
    }
}
