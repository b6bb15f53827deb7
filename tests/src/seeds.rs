//! Running many seeds: the range from `IDEM_SIM_SEEDS`, a few worker threads, and failure
//! reports that name the seed and the one command that replays it.

use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::sim::RunResult;

/// The seed range: `IDEM_SIM_SEEDS=START..END` (or a single `SEED`) if set, else `default`.
pub fn seed_range(default: Range<u64>) -> Range<u64> {
    match std::env::var("IDEM_SIM_SEEDS") {
        Ok(v) => parse_range(&v).unwrap_or_else(|| panic!("IDEM_SIM_SEEDS={v:?}: expected START..END or SEED")),
        Err(_) => default,
    }
}

/// Parses `START..END` or `SEED`.
pub fn parse_range(v: &str) -> Option<Range<u64>> {
    match v.trim().split_once("..") {
        Some((a, b)) => {
            let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            (a < b).then_some(a..b)
        }
        None => {
            let s: u64 = v.trim().parse().ok()?;
            Some(s..s.checked_add(1)?)
        }
    }
}

/// One failed seed.
#[derive(Debug)]
pub struct Failure {
    /// The seed.
    pub seed: u64,
    /// What the run produced.
    pub summary: String,
    /// The violations.
    pub errors: Vec<String>,
}

/// Totals of a seed sweep.
#[derive(Debug, Default)]
pub struct Sweep {
    /// Seeds run.
    pub seeds: u64,
    /// Failed seeds, sorted by seed.
    pub failures: Vec<Failure>,
    /// Sum of records sent / delivered / not persisted / possibly persisted.
    pub totals: [u64; 4],
    /// Sum of simulation steps.
    pub steps: u64,
    /// Sums of the brokers' counters, and excused duplicates / QueueFull answers.
    pub counters: std::collections::BTreeMap<&'static str, u64>,
}

/// Runs `run` for every seed in `range` on `workers` threads (results do not depend on the
/// thread count: each seed is independent and fully determined by its number).
pub fn sweep(range: Range<u64>, workers: usize, run: &(dyn Fn(u64) -> RunResult + Sync)) -> Sweep {
    let next = AtomicU64::new(range.start);
    let out = Mutex::new(Sweep::default());
    std::thread::scope(|s| {
        for _ in 0..workers.max(1) {
            s.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= range.end {
                        break;
                    }
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(seed)));
                    let mut o = out.lock().unwrap_or_else(|e| e.into_inner());
                    o.seeds += 1;
                    match r {
                        Ok(r) => {
                            o.steps += r.steps;
                            for (k, v) in &r.counters {
                                *o.counters.entry(k).or_default() += v;
                            }
                            *o.counters.entry("sim_queue_full").or_default() += r.run.queue_full;
                            *o.counters.entry("sim_excused_duplicates").or_default() +=
                                crate::checker::excused_duplicates(&r.run) as u64;
                            o.totals[0] += r.run.sent.len() as u64;
                            for rep in &r.run.reports {
                                o.totals[1 + rep.outcome.kind()] += 1;
                            }
                            if !r.errors.is_empty() {
                                o.failures.push(Failure { seed, summary: r.summary, errors: r.errors });
                            }
                        }
                        Err(p) => {
                            let msg = p
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_default();
                            o.failures.push(Failure {
                                seed,
                                summary: "PANIC".into(),
                                errors: vec![format!("panicked: {msg}")],
                            });
                        }
                    }
                }
            });
        }
    });
    let mut o = out.into_inner().unwrap_or_else(|e| e.into_inner());
    o.failures.sort_by_key(|f| f.seed);
    o
}

/// The kind of a violation message (its label), for tallies over a sweep.
pub fn violation_kind(msg: &str) -> &'static str {
    const KINDS: &[(&str, &str)] = &[
        ("REORDER ACROSS SESSIONS", "REORDER ACROSS SESSIONS"),
        ("REORDER in session", "REORDER in session"),
        ("DUPLICATE in session", "DUPLICATE in session"),
        ("DUPLICATE", "DUPLICATE"),
        ("GIVEN UP IN LOG", "GIVEN UP IN LOG"),
        ("SILENT LOSS", "SILENT LOSS"),
        ("LOST", "LOST"),
        ("reported NotPersisted", "NOT PERSISTED BUT IN LOG"),
        ("reported at offset", "WRONG OFFSET"),
        ("reported delivered to", "WRONG PARTITION"),
        ("reported twice", "REPORTED TWICE"),
        ("LIVENESS", "LIVENESS"),
        ("STALLED", "STALLED"),
        ("REPEATED PARTITION", "REPEATED PARTITION"),
        ("LIVELOCK", "LIVELOCK"),
        ("STUCK", "STUCK"),
        ("FATAL", "FATAL"),
        ("MEMORY", "MEMORY"),
        ("panicked", "PANIC"),
        ("never accepted by send", "NEVER SENT"),
        ("is not what was sent", "CORRUPTED"),
        ("log offsets not increasing", "LOG OFFSETS"),
        ("producer reused conn", "DRIVER"),
        ("never opened", "DRIVER"),
        ("send never returned", "DRIVER"),
        ("record id twice", "DRIVER"),
        ("send refused", "DRIVER"),
    ];
    KINDS.iter().find(|(needle, _)| msg.contains(needle)).map_or("OTHER", |(_, kind)| kind)
}

impl Sweep {
    /// For each violation kind, the failed seeds that show it (ascending).
    pub fn kinds(&self) -> std::collections::BTreeMap<&'static str, Vec<u64>> {
        let mut out: std::collections::BTreeMap<&'static str, Vec<u64>> = Default::default();
        for f in &self.failures {
            let mut kinds: Vec<&'static str> = f.errors.iter().map(|e| violation_kind(e)).collect();
            kinds.sort_unstable();
            kinds.dedup();
            for k in kinds {
                out.entry(k).or_default().push(f.seed);
            }
        }
        out
    }

    /// One line per violation kind: how many seeds show it and the first few.
    pub fn kinds_report(&self) -> String {
        let mut s = String::new();
        for (kind, seeds) in self.kinds() {
            let first: Vec<String> = seeds.iter().take(5).map(u64::to_string).collect();
            s += &format!("  {kind}: {} seeds, e.g. {}\n", seeds.len(), first.join(", "));
        }
        s
    }
}

/// The report for failed seeds: the violation kinds, then each seed (the first 10, or
/// `IDEM_SIM_SHOW` of them), its first violations, and the replay command.
pub fn failure_report(sweep: &Sweep, test: &str) -> String {
    let mut s = format!("{} of {} seeds FAILED\n{}", sweep.failures.len(), sweep.seeds, sweep.kinds_report());
    let show = std::env::var("IDEM_SIM_SHOW").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    for f in sweep.failures.iter().take(show) {
        s += &format!("\nseed {}: {}\n", f.seed, f.summary);
        for e in f.errors.iter().take(8) {
            s += &format!("  - {e}\n");
        }
        s += &format!(
            "  replay: IDEM_SIM_SEEDS={}..{} cargo test -p idem-tests --test {test} -- --nocapture\n",
            f.seed,
            f.seed + 1
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("5..9"), Some(5..9));
        assert_eq!(parse_range("7"), Some(7..8));
        assert_eq!(parse_range("9..5"), None);
        assert_eq!(parse_range("x"), None);
    }
}
