//! `idem`: command-line tool of the idem project. Subcommands:
//! - `idem broker`: serve idem's in-memory Kafka cluster (with fault injection) over TCP.
//! - `idem consume`: read topics through a consumer group (like `kcat -C -G`).
//! - `idem demo`: exactly-once under faults, end to end, on an embedded cluster.
//! - `idem produce`: send records to a topic, one per input line (like `kcat -P`).
//!
//! `produce` and `broker` take `-d CONTEXTS` (librdkafka's debug contexts) and print those
//! diagnostics on stderr with timestamps, through [`logger`]; `produce --stats` prints a line
//! of metrics per interval.
#![forbid(unsafe_code)]

mod broker;
mod consume;
mod demo;
mod logger;
mod produce;
mod progress;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// idem: idempotent Kafka producer tools.
#[derive(Debug, Parser)]
#[command(name = "idem", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve idem's in-memory Kafka-compatible cluster (dedup validator, fault injection).
    // Boxed: its options are much larger than the others' (clippy::large_enum_variant).
    Broker(Box<broker::BrokerArgs>),
    /// Read topics through a consumer group, one value per line (like `kcat -C -G`).
    Consume(consume::ConsumeArgs),
    /// Exactly-once under faults, end to end: embedded 3-broker cluster, produce, read back, check.
    Demo(demo::DemoArgs),
    /// Send records to a topic, one per input line (like `kcat -P`), with an idempotent producer.
    Produce(produce::ProduceArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Broker(args) => broker::run(*args),
        Command::Consume(args) => consume::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Produce(args) => produce::run(args),
    }
}
