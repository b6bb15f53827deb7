//! Driving `idem produce`: configuration, input, sends with callbacks, progress, final flush
//! and the summary.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use idem_core::producer::{Persisted, ProducerMetrics, SendError};

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

/// Whether the brokers' reachability is the cause to name for `undelivered` accepted records
/// (accepted by `send`, not reported delivered): not one Produce request was sent and
/// connections failed. Records `send` refused (too large, invalid topic...) never needed a
/// broker and are left out by the caller; a reachable cluster that cannot take the records (an
/// unknown topic, say) fails no connection.
fn unreachable_is_the_cause(undelivered: u64, m: &ProducerMetrics) -> bool {
    undelivered > 0 && m.produce_requests == 0 && m.connection_errors > 0
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
    let _ = producer.flush_timeout(Duration::ZERO);
    let mut warned = false;
    while tally.done() < accepted && Instant::now() < deadline {
        progress.update(&snapshot(&s, &tally, lines.bytes_read(), total));
        let undelivered = accepted - tally.done();
        if !warned
            && start.elapsed() >= UNREACHABLE_WARNING
            && unreachable_is_the_cause(undelivered, &producer.metrics())
        {
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
    let _ = producer.close_timeout(deadline.saturating_duration_since(Instant::now()));
    s.elapsed = start.elapsed();
    progress.finish();

    s.delivered = tally.delivered.load(Ordering::Relaxed);
    s.not_persisted = tally.not_persisted.load(Ordering::Relaxed);
    s.possibly_persisted = tally.possibly_persisted.load(Ordering::Relaxed);
    s.retries = m.retries;
    s.duplicates_acknowledged = m.duplicates_acknowledged;
    s.epoch_bumps = m.epoch_bumps;
    s.first_error = tally.first_error.lock().unwrap_or_else(PoisonError::into_inner).take();
    if unreachable_is_the_cause(accepted.saturating_sub(s.delivered), &m) {
        s.unreachable = Some(args.bootstrap_servers.clone());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(produce_requests: u64, connection_errors: u64) -> ProducerMetrics {
        ProducerMetrics { produce_requests, connection_errors, ..ProducerMetrics::default() }
    }

    #[test]
    fn reachability_is_named_only_when_it_is_the_cause() {
        // Nothing accepted (every record refused by `send`, e.g. too large): not the cause.
        assert!(!unreachable_is_the_cause(0, &metrics(0, 3)));
        // Accepted records undelivered, no Produce request, failed connections: the cause.
        assert!(unreachable_is_the_cause(2, &metrics(0, 3)));
        // Connected but nothing to send to (unknown topic): not the cause.
        assert!(!unreachable_is_the_cause(2, &metrics(0, 0)));
        // Produce requests went out: a broker was reached.
        assert!(!unreachable_is_the_cause(2, &metrics(5, 3)));
    }
}
