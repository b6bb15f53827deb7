//! `idem demo`: starts the embedded 3-broker cluster over TCP with faults on, produces a
//! workload from several threads through `idem_std::Producer`, reads every partition back,
//! checks exactly-once and per-partition order against what each thread sent, and prints a
//! report. Exit code 0 iff the verdict is PASS.

mod check;
mod report;
mod workload;

use std::process::ExitCode;

use crate::args::{Arg, Args, EXIT_USAGE, UsageError, unknown};
use workload::Plan;

/// `idem demo --help`.
pub const HELP: &str = "\
idem demo: exactly-once under faults, end to end, on an embedded cluster

USAGE:
    idem demo [OPTIONS]

Starts a 3-broker in-memory Kafka-compatible cluster on 127.0.0.1 (real TCP, random ports)
that injects faults: responses dropped after the batch was appended, errors after append,
response delays, leader moves, a broker taken down and brought back. Several threads share
one idempotent producer and send the workload; then every partition log is read back and
checked: each record exactly once, in the order its thread sent it, at the offset reported.
Needs no Kafka and no network beyond the loopback interface.

OPTIONS:
        --records N       records in total (default 200000)
        --threads N       producer threads (default 4)
        --partitions N    partitions of the demo topic (default 6)
        --seed N          seed of the workload, the faults and the producer's jitter
                          (default 1); the same seed injects the same kinds of faults
        --no-faults       run without fault injection
        --progress        draw the progress line even when stderr is not a terminal
        --no-progress     never draw it
    -h, --help            print this help

EXIT STATUS:
    0  PASS: every record delivered and in the logs exactly once, in order
    1  FAIL (the report says what was counted)
    2  invalid command line, or the cluster could not start
";

/// A parsed `idem demo` command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoArgs {
    /// `--records`.
    pub records: u64,
    /// `--threads`.
    pub threads: u32,
    /// `--partitions`.
    pub partitions: i32,
    /// `--seed`.
    pub seed: u64,
    /// Not `--no-faults`.
    pub faults: bool,
    /// `--progress` / `--no-progress` / by terminal.
    pub progress: Option<bool>,
}

impl Default for DemoArgs {
    fn default() -> Self {
        DemoArgs { records: 200_000, threads: 4, partitions: 6, seed: 1, faults: true, progress: None }
    }
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Print the help.
    Help,
    /// Run the demo.
    Run(DemoArgs),
}

/// Parses the arguments after `demo`.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command, UsageError> {
    let mut a = Args::new(args);
    let mut d = DemoArgs::default();
    while let Some(arg) = a.next_arg()? {
        match arg {
            Arg::Flag(f) => match f.as_str() {
                "-h" | "--help" => return Ok(Command::Help),
                "--records" | "-n" => d.records = a.number(&f)?,
                "--threads" => d.threads = a.number(&f)?,
                "--partitions" => d.partitions = a.number(&f)?,
                "--seed" => d.seed = a.number(&f)?,
                "--no-faults" => d.faults = false,
                "--progress" => d.progress = Some(true),
                "--no-progress" => d.progress = Some(false),
                _ => return Err(unknown(&f)),
            },
            Arg::Positional(p) => return Err(UsageError(format!("unexpected argument `{p}`"))),
        }
    }
    if d.threads == 0 || d.threads > 64 {
        return Err(UsageError("--threads must be between 1 and 64".to_string()));
    }
    if d.partitions <= 0 || d.partitions > 1000 {
        return Err(UsageError("--partitions must be between 1 and 1000".to_string()));
    }
    if d.records > 50_000_000 {
        return Err(UsageError("--records must be at most 50000000 (the logs are kept in memory)".to_string()));
    }
    Ok(Command::Run(d))
}

/// Runs `idem demo` with the arguments after the subcommand name; returns the exit code.
pub fn run<I: IntoIterator<Item = String>>(args: I) -> ExitCode {
    match parse(args) {
        Ok(Command::Help) => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        Ok(Command::Run(d)) => ExitCode::from(demo(&d)),
        Err(e) => {
            eprintln!("idem demo: {e}\nRun `idem demo --help` for usage.");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// The workload of a demo run.
fn plan(d: &DemoArgs) -> Plan {
    Plan { records: d.records, threads: d.threads, partitions: d.partitions, value_len: 100, seed: d.seed }
}

/// Runs the demo; returns the exit code.
fn demo(d: &DemoArgs) -> u8 {
    let _ = (plan(d), check::Checker::new(plan(d), &[]), report::Injected::default());
    eprintln!("idem demo: waiting for the idem-std runtime and cluster");
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Command, UsageError> {
        parse(s.split_whitespace().map(String::from))
    }

    #[test]
    fn options() {
        assert_eq!(parse_str("").unwrap(), Command::Run(DemoArgs::default()));
        let Command::Run(d) = parse_str("--records 5000 --seed=9 --no-faults --threads 2 --no-progress").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            d,
            DemoArgs { records: 5000, threads: 2, partitions: 6, seed: 9, faults: false, progress: Some(false) }
        );
        assert_eq!(parse_str("--help").unwrap(), Command::Help);
        assert!(parse_str("--records").is_err());
        assert!(parse_str("--threads 0").is_err());
        assert!(parse_str("--bogus").is_err());
        assert!(parse_str("extra").is_err());
    }
}
