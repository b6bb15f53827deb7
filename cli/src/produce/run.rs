//! Driving `idem produce`: configuration, input, sends in runs of lines (`send_many`, no
//! per-record handle or callback: outcomes are counted by the producer), progress, the final
//! flush and the summary.

use std::fs::File;
use std::io::{IsTerminal, Read};
use std::time::{Duration, Instant};

use idem_core::producer::{ProducerMetrics, SendError};

use super::ProduceArgs;
use super::input::{LineReader, lines, split_key};
use super::summary::{Committed, Summary};
use crate::progress::{Progress, Snapshot, bytes};

/// Exit code for an unusable command line, settings or input file.
const EXIT_USAGE: u8 = 2;
/// Added to `delivery.timeout.ms` when waiting for the last reports.
const CLOSE_MARGIN: Duration = Duration::from_secs(5);
/// When nothing could be sent for this long, say so (delivery may take `delivery.timeout.ms`).
const UNREACHABLE_WARNING: Duration = Duration::from_secs(5);
/// How often the final wait looks up from its flush (progress line, reachability warning).
const WAIT_SLICE: Duration = Duration::from_millis(200);

/// Settings `idem produce` uses unless `-X` sets them (the library keeps Kafka's defaults):
/// larger batches suit a tool that sends a whole file as fast as it can (fewer, larger Produce
/// requests, as librdkafka's 1 MB `batch.size` default does for `kcat`), and a smaller buffer
/// keeps its memory low (reading a file outpaces any network, so the buffer is always full).
pub const CLI_DEFAULTS: [(&str, &str); 3] =
    [("batch.size", "262144"), ("linger.ms", "5"), ("buffer.memory", "2097152")];

/// Whether the brokers' reachability is the cause to name for `undelivered` accepted records
/// (accepted by `send`, not reported delivered): not one Produce request was sent and
/// connections failed. Records `send` refused (too large, invalid topic...) never needed a
/// broker and are left out by the caller; a reachable cluster that cannot take the records (an
/// unknown topic, say) fails no connection.
fn unreachable_is_the_cause(undelivered: u64, m: &ProducerMetrics) -> bool {
    undelivered > 0 && m.produce_requests == 0 && m.connection_errors > 0
}

/// Builds the runtime configuration from `-b`, [`CLI_DEFAULTS`], `-d`, `--stats` and the `-X`
/// pairs (in order: `-X` has the last word).
fn config(args: &ProduceArgs) -> Result<idem_std::Config, String> {
    let mut c = idem_std::Config::new(&args.bootstrap_servers).map_err(|e| e.to_string())?;
    let stats = args.stats.or(args.stats_json.then_some(1000)).map(|ms| ms.to_string());
    let ours = CLI_DEFAULTS
        .into_iter()
        .chain(args.debug.as_deref().map(|d| ("debug", d)))
        .chain(stats.as_deref().map(|ms| ("statistics.interval.ms", ms)));
    for (k, v) in ours {
        c.set(k, v).map_err(|e| e.to_string())?;
    }
    if let Some(id) = &args.transactional_id {
        c.set("transactional.id", id).map_err(|e| e.to_string())?;
    }
    for (k, v) in &args.properties {
        c.set(k, v).map_err(|e| e.to_string())?;
    }
    c.validate().map_err(|e| e.to_string())?;
    if !c.statistics_interval.is_zero() {
        c = if args.stats_json {
            c.on_statistics(|s| println!("{}", s.json()))
        } else {
            c.on_statistics(|s| log::info!(target: "idem::stats", "{}", stats_line(s)))
        };
    }
    Ok(c)
}

/// One `--stats` line: the rates, queue, in-flight and latency figures an operator charts.
pub fn stats_line(s: &idem_std::Statistics) -> String {
    let (m, i) = (&s.metrics, &s.interval);
    let in_flight_batches: u64 = m.topics.iter().flat_map(|t| &t.partitions).map(|p| p.in_flight_batches).sum();
    let queued_bytes: u64 = m.topics.iter().flat_map(|t| &t.partitions).map(|p| p.queued_bytes).sum();
    format!(
        "{:.0} records/s sent, {:.0} retried/s, {:.0} failed/s, {:.0} delivered/s | queued {} records ({}), buffer {} \
         of {} | in flight {} requests, {} batches | request latency avg {:.2} ms max {:.2} ms | batch avg {}, {:.1} \
         records/request | retries {}, epoch bumps {}",
        i.record_send_rate,
        i.record_retry_rate,
        i.record_error_rate,
        i.record_delivered_rate,
        m.queued_records(),
        bytes(queued_bytes),
        bytes(m.buffered_bytes),
        bytes(m.buffer_total_bytes),
        m.requests_in_flight,
        in_flight_batches,
        i.request_latency_avg,
        m.request_latency_max.as_micros() as f64 / 1000.0,
        bytes(i.batch_size_avg as u64),
        i.records_per_request_avg,
        m.retries,
        m.epoch_bumps,
    )
}

/// The transactions of a run with `--transactional-id`: the open one's record count, and what
/// was committed (counted in the summary).
struct Transactions<'p> {
    producer: &'p idem_std::Producer,
    /// Records per transaction.
    size: u64,
    /// Records accepted into the open transaction.
    open: u64,
    /// How long each transactional call may wait.
    timeout: Duration,
    committed: Committed,
}

impl<'p> Transactions<'p> {
    /// Initializes the producer's transactions (fencing earlier producers with its id) and
    /// begins the first.
    fn start(producer: &'p idem_std::Producer, size: u64, timeout: Duration) -> Result<Self, String> {
        let t = Transactions { producer, size, open: 0, timeout, committed: Committed::default() };
        producer.init_transactions(timeout).map_err(|e| format!("init_transactions: {e}"))?;
        producer.begin_transaction().map_err(|e| format!("begin_transaction: {e}"))?;
        Ok(t)
    }

    /// How many of `n` records the open transaction has room for.
    fn room(&self, n: usize) -> usize {
        usize::try_from(self.size - self.open).map_or(n, |room| room.min(n))
    }

    /// `n` records joined the open transaction: a full one is committed and the next begun.
    fn added(&mut self, n: usize) -> Result<(), String> {
        self.open += n as u64;
        if self.open < self.size {
            return Ok(());
        }
        self.commit()?;
        self.producer.begin_transaction().map_err(|e| format!("begin_transaction: {e}"))
    }

    /// Commits the open transaction, if it has records; one that cannot commit is aborted.
    fn commit(&mut self) -> Result<(), String> {
        if self.open == 0 {
            return Ok(());
        }
        match self.producer.commit_transaction(self.timeout) {
            Ok(()) => {
                self.committed.transactions += 1;
                self.committed.records += std::mem::take(&mut self.open);
                Ok(())
            }
            Err(e) if e.is_abortable() => {
                let aborted = match self.producer.abort_transaction(self.timeout) {
                    Ok(()) => "aborted".to_string(),
                    Err(e) => format!("its abort failed too: {e}"),
                };
                Err(format!("commit_transaction: {e}; the transaction of {} records was {aborted}", self.open))
            }
            Err(e) => Err(format!("commit_transaction: {e}")),
        }
    }
}

/// Produces the input; returns the exit code.
pub(super) fn produce(args: &ProduceArgs) -> u8 {
    // Diagnostics and statistics go to stderr through the logger: the progress line would be
    // torn by them.
    let line_output = args.debug.is_some() || args.stats.is_some();
    crate::logger::install(if line_output { log::LevelFilter::Debug } else { log::LevelFilter::Warn });
    let config = match config(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("idem produce: {e}");
            return EXIT_USAGE;
        }
    };
    let delivery_timeout = Duration::from_millis(config.core.delivery_timeout.as_millis());
    let (input, total): (Box<dyn Read>, Option<u64>) = if args.input == "-" {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        match File::open(&args.input) {
            Ok(f) => {
                let len = f.metadata().ok().map(|m| m.len());
                (Box::new(f), len)
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
    let show = !args.no_progress && !line_output && (args.progress || std::io::stderr().is_terminal());
    let mut progress = Progress::new(show);
    let separator = args.key_separator.as_deref().map(str::as_bytes);
    let mut s = Summary { topic: args.topic.clone(), ..Summary::default() };
    let mut first_refusal = None;
    let start = Instant::now();
    let mut reader = LineReader::new(input);
    let txn_timeout = delivery_timeout + CLOSE_MARGIN;
    let mut txn = match &args.transactional_id {
        None => None,
        Some(_) => match Transactions::start(&producer, args.transaction_size, txn_timeout) {
            Ok(t) => Some(t),
            Err(e) => {
                s.transaction_error = Some(e);
                None
            }
        },
    };

    'input: while s.transaction_error.is_none() {
        let run = match reader.next_lines() {
            Ok(Some(run)) => run,
            Ok(None) => break,
            Err(e) => {
                s.input_error = Some(e.to_string());
                break;
            }
        };
        let records: Vec<idem_std::Record> = lines(run)
            .map(|line| {
                let (key, value) = split_key(line, separator);
                let mut record = idem_std::Record::new(&args.topic).value(value);
                record.key = key;
                record.partition = args.partition;
                record
            })
            .collect();
        let mut from = 0;
        while let Some(rest) = records.get(from..).filter(|r| !r.is_empty()) {
            // Up to the end of the open transaction.
            let rest = &rest[..txn.as_ref().map_or(rest.len(), |t| t.room(rest.len()))];
            let (offered, refused) = match producer.send_many(rest) {
                Ok(()) => (rest.len(), None),
                Err(e) => (e.accepted + 1, Some(e.error)),
            };
            if let Some(t) = &mut txn {
                if let Err(e) = t.added(offered - usize::from(refused.is_some())) {
                    s.transaction_error = Some(e);
                    break 'input;
                }
            }
            s.records += offered as u64;
            s.bytes += rest
                .iter()
                .take(offered)
                .map(|r| (r.key.map_or(0, <[u8]>::len) + r.value.map_or(0, <[u8]>::len)) as u64)
                .sum::<u64>();
            from += offered;
            if let Some(e) = refused {
                s.refused += 1;
                first_refusal.get_or_insert_with(|| format!("record {} refused: {e}", s.records));
                if matches!(e, SendError::Closed | SendError::Fatal(_) | SendError::Transaction(_)) {
                    s.input_error = Some(format!("the producer stopped: {e}"));
                    break 'input;
                }
            }
        }
        progress.update(&snapshot(&s, &producer, reader.bytes_read(), total));
    }

    // The last transaction: its commit flushes its records.
    if let Some(t) = &mut txn {
        if let Err(e) = t.commit() {
            s.transaction_error.get_or_insert(e);
        }
        s.transactions = Some(t.committed);
    }
    // Wait for the last reports: bounded by delivery.timeout.ms (plus a margin).
    let deadline = Instant::now() + delivery_timeout + CLOSE_MARGIN;
    let mut warned = false;
    while let Err(timeout) = producer.flush_timeout(WAIT_SLICE.min(deadline.saturating_duration_since(Instant::now())))
    {
        if Instant::now() >= deadline {
            break;
        }
        progress.update(&snapshot(&s, &producer, reader.bytes_read(), total));
        if !warned
            && start.elapsed() >= UNREACHABLE_WARNING
            && unreachable_is_the_cause(timeout.pending, &producer.metrics())
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
    }
    let m = producer.metrics();
    let report = producer.close_timeout(deadline.saturating_duration_since(Instant::now()));
    s.elapsed = start.elapsed();
    progress.finish();

    let c = report.counts;
    s.delivered = c.delivered;
    s.possibly_persisted = c.possibly_persisted;
    s.not_persisted = c.failed.saturating_sub(c.possibly_persisted);
    s.retries = m.retries;
    s.duplicates_acknowledged = m.duplicates_acknowledged;
    s.epoch_bumps = m.epoch_bumps;
    s.first_error = first_refusal.or_else(|| producer.first_failure().map(|f| f.error.to_string()));
    if unreachable_is_the_cause((s.records - s.refused).saturating_sub(s.delivered), &m) {
        s.unreachable = Some(args.bootstrap_servers.clone());
    }
    eprint!("{}", s.render());
    s.exit_code()
}

fn snapshot(s: &Summary, producer: &idem_std::Producer, bytes_read: u64, total: Option<u64>) -> Snapshot {
    let c = producer.counts();
    Snapshot {
        sent: s.records,
        done: c.delivered + c.failed + s.refused,
        failed: c.failed + s.refused,
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
