//! `idem`: command-line producer, in-memory broker and demo.
#![forbid(unsafe_code)]
#![allow(dead_code)] // TEMPORARY: until the runtime and cluster are wired in

mod args;
mod demo;
mod produce;
mod progress;

use std::process::ExitCode;

const HELP: &str = "\
idem: an idempotent Kafka producer, an in-memory Kafka-compatible cluster, and a demo

USAGE:
    idem <COMMAND> [OPTIONS]

COMMANDS:
    demo      run an embedded 3-broker cluster with faults, produce, read back, check exactly-once
    produce   send records to a topic, one per input line (like kcat -P)
    help      print this help

Run `idem <COMMAND> --help` for a command's options.
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    match command.as_deref() {
        Some("demo") => demo::run(args),
        Some("produce") => produce::run(args),
        None | Some("help" | "-h" | "--help") => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("idem: unknown command `{other}`\n\n{HELP}");
            ExitCode::from(args::EXIT_USAGE)
        }
    }
}
