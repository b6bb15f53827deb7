//! `idem produce`: reads records from a file or stdin, one per line (like `kcat -P`), sends them
//! through the idempotent producer, shows progress, and prints a summary. Exit code 0 iff every
//! record was delivered.

mod input;
mod run;
mod summary;

use std::process::ExitCode;

use clap::Args;

/// Extra text of `idem produce --help`.
const AFTER_HELP: &str = "\
INPUT:
    Reads FILE, or stdin when FILE is `-` or absent. Each line, without its newline, is one
    record's value (like `kcat -P`). With -k, the bytes before the first separator are the key
    (a line without the separator has a null key).

OUTPUT:
    A progress line on stderr (only on a terminal, or with --progress; not with -d or --stats),
    then a summary on stderr: records, bytes, retries, duplicates acknowledged, epoch bumps,
    elapsed, records/s.

DEBUG AND STATISTICS:
    -d CONTEXTS prints the producer's diagnostics on stderr, one timestamped line each:
      broker    connections: connecting, ApiVersions, closed and why (request timeouts)
      metadata  partition counts, leaders moving, topic errors
      msg       every retry with its reason and attempt, splits, batches given up
      eos       producer id and epoch changes and their cause, batches whose outcome became
                unknown (possibly persisted) and why
      protocol  every request and response, with its latency
      all       every context
    --stats[=MS] prints a line of metrics every MS ms (default 1000) on stderr: records sent,
    retried and failed per second, queued records and bytes, requests in flight, request
    latency, batch size; --stats-json prints the whole snapshot as one JSON object per line on
    stdout instead (the Java client's metric names: record-send-rate, record-retry-rate,
    request-latency-avg, ...).

TRANSACTIONS:
    --transactional-id ID makes the producer transactional (KIP-98): it fences any earlier
    producer with the same id, then sends the input in transactions of --transaction-size
    records (default 1000), each committed before the next begins, and the last one at the end
    of the input. A `read_committed` consumer sees a transaction's records only once it is
    committed. A commit that fails aborts its transaction and stops the run (exit 1); the
    summary counts the transactions and records committed.

SETTINGS:
    Kafka's producer settings by name with -X (e.g. -X linger.ms=10).
    Unless -X sets them, `idem produce` uses batch.size=262144, linger.ms=5 and
    buffer.memory=2097152 (the library's defaults are Kafka's: 16384, 5, 33554432).

EXIT STATUS:
    0  every record was delivered
    1  some records were not delivered (the summary counts those definitely not persisted and
       those possibly persisted, i.e. in the log at most once), or the input could not be read
    2  invalid command line or producer settings

EXAMPLE:
    seq 1 100000 | idem produce -b localhost:9092 -t numbers -X linger.ms=10";

/// Send records to a Kafka topic, one per input line, through an idempotent producer.
#[derive(Clone, Debug, PartialEq, Eq, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ProduceArgs {
    /// Brokers to fetch metadata from: HOST:PORT[,HOST:PORT...]
    #[arg(short = 'b', long = "bootstrap-servers", visible_alias = "brokers", value_name = "HOST:PORT")]
    pub bootstrap_servers: String,
    /// Topic to produce to.
    #[arg(short, long)]
    pub topic: String,
    /// Split each line into KEY SEP VALUE at the first SEP.
    #[arg(short, long = "key-separator", value_name = "SEP", value_parser = non_empty)]
    pub key_separator: Option<String>,
    /// Send every record to partition N (default: by key, or sticky batches without a key).
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(i32).range(0..))]
    pub partition: Option<i32>,
    /// Producer setting by its Kafka name, e.g. -X linger.ms=10; repeatable.
    #[arg(short = 'X', long = "property", value_name = "KEY=VALUE", value_parser = key_value)]
    pub properties: Vec<(String, String)>,
    /// Draw the progress line even when stderr is not a terminal.
    #[arg(long, conflicts_with = "no_progress")]
    pub progress: bool,
    /// Never draw the progress line.
    #[arg(long)]
    pub no_progress: bool,
    /// Print the producer's diagnostics of these debug contexts (comma-separated: broker,
    /// metadata, msg, eos, protocol, all) on stderr.
    #[arg(short = 'd', long = "debug", value_name = "CONTEXTS", value_parser = debug_contexts)]
    pub debug: Option<String>,
    /// Print a line of metrics every MS ms (default 1000) on stderr.
    #[arg(long, value_name = "MS", num_args = 0..=1, default_missing_value = "1000",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub stats: Option<u64>,
    /// Print the metrics as one JSON object per line on stdout (every --stats MS, default 1000).
    #[arg(long)]
    pub stats_json: bool,
    /// Send in transactions with this `transactional.id` (fences earlier producers with it).
    #[arg(long = "transactional-id", value_name = "ID", value_parser = non_empty)]
    pub transactional_id: Option<String>,
    /// Records per transaction (with --transactional-id): each N records are committed.
    #[arg(long = "transaction-size", value_name = "N", default_value_t = 1000, requires = "transactional_id",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub transaction_size: u64,
    /// Input file; `-` for stdin.
    #[arg(value_name = "FILE", default_value = "-")]
    pub input: String,
}

/// Checks a `-d` value (librdkafka's debug contexts).
pub fn debug_contexts(s: &str) -> Result<String, String> {
    idem_core::debug::DebugContexts::parse(s)
        .map(|_| s.to_string())
        .map_err(|bad| format!("unknown debug context `{bad}`: expected {}", idem_core::debug::DEBUG_CONTEXTS_EXPECTED))
}

fn non_empty(s: &str) -> Result<String, String> {
    if s.is_empty() { Err("the value must not be empty".to_string()) } else { Ok(s.to_string()) }
}

/// Parses `-X KEY=VALUE` (a setting by its Kafka name).
pub fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got `{s}`")),
    }
}

/// Runs `idem produce`; returns the exit code.
pub fn run(args: ProduceArgs) -> ExitCode {
    ExitCode::from(run::produce(&args))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: ProduceArgs,
    }

    fn parse_str(s: &str) -> Result<ProduceArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("produce").chain(s.split_whitespace())).map(|c| c.args)
    }

    #[test]
    fn full_command_line() {
        let a = parse_str("-b h:1,g:2 -t events -k : -X linger.ms=0 -Xacks=all --progress in.txt").unwrap();
        assert_eq!(a.bootstrap_servers, "h:1,g:2");
        assert_eq!(a.topic, "events");
        assert_eq!(a.key_separator.as_deref(), Some(":"));
        assert_eq!(a.properties, [("linger.ms".into(), "0".into()), ("acks".into(), "all".into())]);
        assert_eq!(a.input, "in.txt");
        assert!(a.progress && !a.no_progress);
        assert_eq!(a.partition, None);
    }

    #[test]
    fn defaults_and_errors() {
        let a = parse_str("--topic t --brokers x:9").unwrap();
        assert_eq!((a.bootstrap_servers.as_str(), a.input.as_str(), a.progress), ("x:9", "-", false));
        assert!(parse_str("-t t").unwrap_err().to_string().contains("--bootstrap-servers"));
        assert!(parse_str("-b h:1").unwrap_err().to_string().contains("--topic"));
        assert!(parse_str("-b h:1 -t t -X linger").unwrap_err().to_string().contains("KEY=VALUE"));
        assert!(parse_str("-b h:1 -t t a b").is_err());
        assert!(parse_str("-b h:1 -t t --frobnicate").is_err());
        assert!(parse_str("-b h:1 -t t -p x").is_err());
        assert!(parse_str("-b h:1 -t t -p -1").is_err());
        assert!(parse_str("-b h:1 -t t --progress --no-progress").is_err());
        assert!(parse_str("-b h:1 -t t -d eos,cgrp").unwrap_err().to_string().contains("`cgrp`"));
        let a = parse_str("-b h:1 -t t -d broker,eos --stats").unwrap();
        assert_eq!((a.debug.as_deref(), a.stats, a.stats_json), (Some("broker,eos"), Some(1000), false));
        let a = parse_str("-b h:1 -t t --stats=250 --stats-json").unwrap();
        assert_eq!((a.stats, a.stats_json), (Some(250), true));
        assert!(parse_str("-b h:1 -t t --stats=0").is_err());
        let a = parse_str("-b h:1 -t t --transactional-id tx --transaction-size 10").unwrap();
        assert_eq!((a.transactional_id.as_deref(), a.transaction_size), (Some("tx"), 10));
        assert_eq!(parse_str("-b h:1 -t t --transactional-id tx").unwrap().transaction_size, 1000);
        assert!(parse_str("-b h:1 -t t --transaction-size 10").is_err(), "needs --transactional-id");
        assert!(parse_str("-b h:1 -t t --transactional-id tx --transaction-size 0").is_err());
        assert_eq!(parse_str("--help").unwrap_err().kind(), clap::error::ErrorKind::DisplayHelp);
    }
}
