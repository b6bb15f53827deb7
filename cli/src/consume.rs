//! `idem consume`: reads topics through a consumer group (like `kcat -C -G`) with idem-std's
//! blocking consumer and prints each record's value on its own line, committing after every
//! batch. Exit code 0 when it stopped as asked (`--count`, `--idle-timeout`).

use std::io::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use idem_std::consumer::{Consumer, ConsumerConfig, ConsumerEvent};

use crate::produce::key_value;

/// Extra text of `idem consume --help`.
const AFTER_HELP: &str = "\
OUTPUT:
    Each record's value on stdout, one per line (like `kcat -C`); with -k SEP, KEY SEP VALUE.
    A null value prints as an empty line. Partition assignments and revocations, and a summary
    at the end, go to stderr.

COMMITS:
    The group's offsets are committed after every batch of records printed (and before a
    partition is given up in a rebalance, and at exit), so a restart with the same group goes
    on after the last record printed.

SETTINGS:
    Kafka's consumer settings by name with -X (e.g. -X auto.offset.reset=latest). PLAINTEXT
    only for now.

EXIT STATUS:
    0  stopped as asked (--count records printed, or --idle-timeout without records)
    1  the consumer stopped on an error (printed), or its offsets could not be committed at exit
    2  invalid command line or consumer settings

EXAMPLE:
    idem consume -b localhost:9092 -G billing -t orders -c 100";

/// Read topics through a consumer group and print each record's value (like `kcat -C -G`).
#[derive(Clone, Debug, PartialEq, Eq, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ConsumeArgs {
    /// Brokers to fetch metadata from: HOST:PORT[,HOST:PORT...]
    #[arg(short = 'b', long = "bootstrap-servers", visible_alias = "brokers", value_name = "HOST:PORT")]
    pub bootstrap_servers: String,
    /// The consumer group to join.
    #[arg(short = 'G', long = "group", value_name = "GROUP")]
    pub group: String,
    /// Topic to read; repeatable.
    #[arg(short, long = "topic", required = true)]
    pub topics: Vec<String>,
    /// Stop once N records were printed. Every record fetched is printed (the rest of the batch
    /// that reaches N, and what was fetched meanwhile), so nothing is committed unprinted.
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Stop when no record came for MS milliseconds (after the first assignment).
    #[arg(short = 'e', long = "idle-timeout", value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: Option<u64>,
    /// Print KEY SEP VALUE instead of the value alone.
    #[arg(short, long = "key-separator", value_name = "SEP")]
    pub key_separator: Option<String>,
    /// Consumer setting by its Kafka name, e.g. -X auto.offset.reset=latest; repeatable.
    #[arg(short = 'X', long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,
}

/// How long `close` may take at exit (commit, LeaveGroup).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `idem consume`; returns the exit code.
pub fn run(args: ConsumeArgs) -> ExitCode {
    let mut consumer = match new_consumer(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("idem consume: {e}");
            return ExitCode::from(2);
        }
    };
    let mut printer = Printer { out: std::io::BufWriter::new(std::io::stdout().lock()), printed: 0, args: &args };
    let mut assigned = false;
    let mut last_record = Instant::now();
    let idle = args.idle_timeout.map(Duration::from_millis);
    let mut failed = None;
    while args.count.is_none_or(|n| printer.printed < n)
        && !(assigned && idle.is_some_and(|t| last_record.elapsed() >= t))
    {
        let Some(event) = consumer.poll(Duration::from_millis(100)) else { continue };
        if printer.event(&event) {
            last_record = Instant::now();
            let _ = consumer.commit(CLOSE_TIMEOUT);
        }
        match event {
            ConsumerEvent::Assigned { .. } => {
                assigned = true;
                last_record = Instant::now();
            }
            ConsumerEvent::Error(e) => {
                failed = Some(e.to_string());
                break;
            }
            _ => {}
        }
    }
    // The close commits every record the consumer fetched: print the ones it has not handed out
    // yet, so that nothing is committed unprinted.
    let closed = consumer.close(CLOSE_TIMEOUT);
    while let Some(event) = consumer.poll(Duration::ZERO) {
        printer.event(&event);
    }
    let _ = printer.out.flush();
    eprintln!("idem consume: {} records", printer.printed);
    if let Some(e) = failed {
        eprintln!("idem consume: {e}");
        return ExitCode::from(1);
    }
    if !closed {
        eprintln!("idem consume: the group's offsets could not be committed within {CLOSE_TIMEOUT:?}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// Prints records and says what happened to the group on stderr.
struct Printer<'a, W: std::io::Write> {
    out: W,
    printed: u64,
    args: &'a ConsumeArgs,
}

impl<W: std::io::Write> Printer<'_, W> {
    /// Prints `event`; `true` if it held records.
    fn event(&mut self, event: &ConsumerEvent) -> bool {
        match event {
            ConsumerEvent::Records { records, .. } => {
                for r in records {
                    if let Some(sep) = &self.args.key_separator {
                        let _ = self.out.write_all(r.key.as_deref().unwrap_or_default());
                        let _ = self.out.write_all(sep.as_bytes());
                    }
                    let _ = self.out.write_all(r.value.as_deref().unwrap_or_default());
                    let _ = self.out.write_all(b"\n");
                    self.printed += 1;
                }
                let _ = self.out.flush();
                return true;
            }
            ConsumerEvent::Assigned { generation, partitions } => {
                eprintln!("idem consume: generation {generation}: assigned {}", list(partitions));
            }
            ConsumerEvent::Revoked { partitions } => eprintln!("idem consume: revoked {}", list(partitions)),
            ConsumerEvent::CommitFailed { error } => eprintln!("idem consume: a commit failed: {error}"),
            ConsumerEvent::Error(_) | ConsumerEvent::Committed { .. } | ConsumerEvent::Closed => {}
        }
        false
    }
}

fn new_consumer(args: &ConsumeArgs) -> Result<Consumer, String> {
    let mut config = ConsumerConfig::new(&args.bootstrap_servers, &args.group).map_err(|e| e.to_string())?;
    for t in &args.topics {
        config.subscribe(t);
    }
    for (k, v) in &args.properties {
        config.set(k, v).map_err(|e| e.to_string())?;
    }
    Consumer::new(config).map_err(|e| e.to_string())
}

fn list(partitions: &[(String, i32)]) -> String {
    let parts: Vec<String> = partitions.iter().map(|(t, p)| format!("{t}/{p}")).collect();
    if parts.is_empty() { "nothing".to_string() } else { parts.join(" ") }
}
