//! `idem demo`: starts the embedded 3-broker cluster over TCP with faults on, produces a
//! workload from several threads through `idem_std::Producer`, reads every partition back,
//! checks exactly-once and per-partition order against what each thread sent, reads the topic
//! again through a consumer group of idem's consumers (`idem_std::consumer`) while members join
//! and leave and the coordinator moves, and prints a report. Exit code 0 iff the verdict is PASS.

mod check;
mod group;
mod report;
mod run;
mod txn;
mod workload;

use std::process::ExitCode;

use clap::Args;
use idem_core::proto::record_batch::Compression;

/// Extra text of `idem demo --help`.
const AFTER_HELP: &str = "\
Starts a 3-broker in-memory Kafka-compatible cluster on 127.0.0.1 (real TCP, ephemeral ports)
that injects faults: responses dropped after the batch was appended, errors after append,
response delays, leader moves, a broker taken down and brought back. Several threads share one
idempotent producer (idem-std) and send the workload; then every partition log is read back and
checked: each record exactly once, in the order its thread sent it, at the offset reported.
Then three consumers (idem-std) read the topic again through the consumer group idem-demo: one
joins late, one leaves half way, the coordinator moves and answers errors; each record must be
handed to exactly one member once, as the log holds it. (Not under --secure: idem's consumer
speaks PLAINTEXT only.)
With --transactions, a transactional producer (transactional.id idem-demo-txn) then commits
some transactions and aborts others under produce and coordinator faults; halfway a second
producer takes the transactional id over and fences the first, whose commit is refused. Every
partition is then read as a read_committed consumer reads it: each committed record exactly
once, in send order, nothing of an aborted or fenced transaction. The cluster finalizes
transaction.version 2 (KIP-890, as a new Kafka 4 cluster does): the producer adds partitions
through Produce v12 and every end bumps its epoch; --transaction-version 1 runs KIP-98's
protocol (AddPartitionsToTxn, AddOffsetsToTxn) instead.
Needs no Kafka, and no network beyond the loopback interface.

EXIT STATUS:
    0  PASS: every record delivered and in the logs exactly once, in order, and read back
       through the consumer group exactly once (and, with --transactions, the read_committed
       view exact and the zombie fenced)
    1  FAIL (the report says what was counted)
    2  invalid command line, or the cluster could not start";

/// Exactly-once under faults, end to end, on an embedded cluster.
#[derive(Clone, Debug, PartialEq, Eq, Args)]
#[command(after_help = AFTER_HELP)]
pub struct DemoArgs {
    /// Records in total.
    #[arg(long, short = 'n', value_name = "N", default_value_t = 200_000,
          value_parser = clap::value_parser!(u64).range(1..=50_000_000))]
    pub records: u64,
    /// Producer threads (sharing one producer).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub threads: u32,
    /// Partitions of the demo topic.
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(i32).range(1..=1000))]
    pub partitions: i32,
    /// Seed of the workload, the faults and the producer's jitter.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Run without fault injection.
    #[arg(long)]
    pub no_faults: bool,
    /// The producer's `compression.type`: none, gzip, snappy, lz4 or zstd (at the codec's
    /// default level); the report counts the compressed batches read back.
    #[arg(long, value_name = "CODEC", default_value = "none", value_parser = parse_codec)]
    pub compression: Compression,
    /// Run over SASL_SSL: every connection TLS, with a CA and broker certificate generated for
    /// this run, and SCRAM-SHA-256 authentication.
    #[arg(long)]
    pub secure: bool,
    /// Then run transactions: commits, aborts, a zombie producer fenced by a new one with the
    /// same transactional.id, and a read_committed read-back.
    #[arg(long)]
    pub transactions: bool,
    /// The `transaction.version` the embedded cluster finalizes (KIP-890): 2, transactions
    /// v2 (Kafka 4's default for new clusters), or 1, KIP-98's protocol.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(i16).range(1..=2))]
    pub transaction_version: i16,
    /// Draw the progress line even when stderr is not a terminal.
    #[arg(long, conflicts_with = "no_progress")]
    pub progress: bool,
    /// Never draw the progress line.
    #[arg(long)]
    pub no_progress: bool,
}

/// A `--compression` value: Kafka's codec names, for a codec this build has.
fn parse_codec(name: &str) -> Result<Compression, String> {
    match Compression::from_name(name) {
        Some(c) if c.is_enabled() => Ok(c),
        Some(c) => Err(format!("{} is not built into this binary", c.name())),
        None => Err("expected none, gzip, snappy, lz4 or zstd".to_string()),
    }
}

/// Runs `idem demo`; returns the exit code (0 iff PASS).
pub fn run(args: DemoArgs) -> ExitCode {
    ExitCode::from(run::run(&args))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: DemoArgs,
    }

    fn parse_str(s: &str) -> Result<DemoArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("demo").chain(s.split_whitespace())).map(|c| c.args)
    }

    #[test]
    fn options() {
        let d = parse_str("").unwrap();
        assert_eq!((d.records, d.threads, d.partitions, d.seed, d.no_faults), (200_000, 4, 6, 1, false));
        let d = parse_str("--records 5000 --seed=9 --no-faults --threads 2 --no-progress").unwrap();
        assert_eq!((d.records, d.threads, d.seed, d.no_faults, d.no_progress), (5000, 2, 9, true, true));
        assert_eq!(parse_str("--help").unwrap_err().kind(), clap::error::ErrorKind::DisplayHelp);
        assert!(parse_str("--records").is_err());
        assert!(parse_str("--records 0").is_err());
        assert!(parse_str("--threads 0").is_err());
        assert!(parse_str("--bogus").is_err());
        assert!(parse_str("extra").is_err());
        assert_eq!(parse_str("").unwrap().compression, Compression::None);
        assert_eq!(parse_str("--compression zstd").unwrap().compression, Compression::Zstd);
        assert_eq!(parse_str("--compression=lz4").unwrap().compression, Compression::Lz4);
        assert!(parse_str("--compression brotli").is_err());
    }
}
