//! Driving `idem produce`: configuration, input, sends with callbacks, progress, final flush
//! and the summary.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use idem_core::producer::{Persisted, SendError};

use super::ProduceArgs;
use super::input::{LineReader, split_key};
use super::summary::Summary;
use crate::progress::{Progress, Snapshot};

/// Exit code for an unusable command line, settings or input file.
const EXIT_USAGE: u8 = 2;
/// Added to `delivery.timeout.ms` when waiting for the last reports.
const CLOSE_MARGIN: Duration = Duration::from_secs(5);
/// When nothing could be sent for this long, say so (delivery may take `delivery.timeout.ms`).
const UNREACHABLE_WARNING: Duration = Duration::from_secs(5);

/// Counters updated by the delivery callbacks.
#[derive(Debug, Default)]
struct Tally {
    delivered: AtomicU64,
    not_persisted: AtomicU64,
    possibly_persisted: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Tally {
    fn done(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
            + self.not_persisted.load(Ordering::Relaxed)
            + self.possibly_persisted.load(Ordering::Relaxed)
    }

    fn failed(&self) -> u64 {
        self.not_persisted.load(Ordering::Relaxed) + self.possibly_persisted.load(Ordering::Relaxed)
    }

    fn error(&self, e: String) {
        self.first_error.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert(e);
    }
}

/// Builds the runtime configuration from `-b` and the `-X` pairs (in order).
fn config(args: &ProduceArgs) -> Result<idem_std::Config, String> {
    let mut c = idem_std::Config::new(&args.bootstrap_servers).map_err(|e| e.to_string())?;
    for (k, v) in &args.properties {
        c.set(k, v).map_err(|e| e.to_string())?;
    }
    c.core.validate().map_err(|e| e.to_string())?;
    Ok(c)
}

/// Produces the input; returns the exit code.
pub(super) fn produce(args: &ProduceArgs) -> u8 {
    let config = match config(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("idem produce: {e}");
            return EXIT_USAGE;
        }
    };
    let delivery_timeout = Duration::from_millis(config.core.delivery_timeout.as_millis());
    let (input, total): (Box<dyn BufRead>, Option<u64>) = if args.input == "-" {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        match File::open(&args.input) {
            Ok(f) => {
                let len = f.metadata().ok().map(|m| m.len());
                (Box::new(BufReader::with_capacity(256 * 1024, f)), len)
            }
            Err(e) => {
                eprintln!("idem produce: cannot open `{}`: {e}", args.input);
                return EXIT_USAGE;
            }
        }
    };
    let producer = match idem_std::Producer::new(config) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("idem produce: {e}");
            return EXIT_USAGE;
        }
    };
    let show = !args.no_progress && (args.progress || std::io::stderr().is_terminal());
    let mut progress = Progress::new(show);
    let tally = Arc::new(Tally::default());
    let separator = args.key_separator.as_deref().map(str::as_bytes);
    let mut s = Summary { topic: args.topic.clone(), ..Summary::default() };
    let start = Instant::now();
    let mut lines = LineReader::new(input);

    loop {
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                s.input_error = Some(e.to_string());
                break;
            }
        };
        let (key, value) = split_key(line, separator);
        s.records += 1;
        s.bytes += (key.map_or(0, <[u8]>::len) + value.len()) as u64;
        let mut record = idem_std::Record::new(&args.topic).value(value);
        if let Some(k) = key {
            record = record.key(k);
        }
        if let Some(p) = args.partition {
            record = record.partition(p);
        }
        let t = Arc::clone(&tally);
        let sent = producer.send_with_callback(&record, move |result| match result {
            Ok(_) => {
                t.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err(f) => {
                t.error(f.error.to_string());
                match f.persisted {
                    Persisted::No => t.not_persisted.fetch_add(1, Ordering::Relaxed),
                    Persisted::Possibly => t.possibly_persisted.fetch_add(1, Ordering::Relaxed),
                };
            }
        });
        if let Err(e) = sent {
            s.refused += 1;
            tally.error(format!("record {} refused: {e}", s.records));
            if matches!(e, SendError::Closed | SendError::Fatal(_)) {
                s.input_error = Some(format!("the producer stopped: {e}"));
                break;
            }
        }
        progress.update(&snapshot(&s, &tally, lines.bytes_read(), total));
    }

    // Wait for the last reports: bounded by delivery.timeout.ms (plus a margin).
    let accepted = s.records - s.refused;
    let deadline = Instant::now() + delivery_timeout + CLOSE_MARGIN;
    let _ = producer.flush(Duration::ZERO);
    let mut warned = false;
    while tally.done() < accepted && Instant::now() < deadline {
        progress.update(&snapshot(&s, &tally, lines.bytes_read(), total));
        if !warned && start.elapsed() >= UNREACHABLE_WARNING && producer.metrics().produce_requests == 0 {
            warned = true;
            progress.finish();
            eprintln!(
                "idem produce: nothing sent yet: is a broker reachable at {}? Retrying until delivery.timeout.ms ({} ms) \
                 elapses.",
                args.bootstrap_servers,
                delivery_timeout.as_millis()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let m = producer.metrics();
    let _ = producer.close(deadline.saturating_duration_since(Instant::now()));
    s.elapsed = start.elapsed();
    progress.finish();

    s.delivered = tally.delivered.load(Ordering::Relaxed);
    s.not_persisted = tally.not_persisted.load(Ordering::Relaxed);
    s.possibly_persisted = tally.possibly_persisted.load(Ordering::Relaxed);
    s.retries = m.retries;
    s.duplicates_acknowledged = m.duplicates_acknowledged;
    s.epoch_bumps = m.epoch_bumps;
    s.first_error = tally.first_error.lock().unwrap_or_else(PoisonError::into_inner).take();
    if s.delivered < s.records && m.produce_requests == 0 {
        let hint = format!("no Produce request could be sent: is a broker reachable at {}?", args.bootstrap_servers);
        s.first_error = Some(match s.first_error.take() {
            Some(e) => format!("{e}; {hint}"),
            None => hint,
        });
    }
    eprint!("{}", s.render());
    s.exit_code()
}

fn snapshot(s: &Summary, tally: &Tally, bytes_read: u64, total: Option<u64>) -> Snapshot {
    Snapshot {
        sent: s.records,
        done: tally.done() + s.refused,
        failed: tally.failed() + s.refused,
        position: if total.is_some() { bytes_read } else { s.records },
        total,
    }
}
