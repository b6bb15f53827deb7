//! `idem`: command-line tool of the idem project. Subcommands:
//! - `idem broker`: serve idem's in-memory Kafka cluster (with fault injection) over TCP.
#![forbid(unsafe_code)]

mod broker;

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
    Broker(broker::BrokerArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Broker(args) => broker::run(args),
    }
}
