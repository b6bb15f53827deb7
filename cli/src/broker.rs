//! `idem broker`: serves idem's in-memory cluster until stopped.

use clap::{Args, ValueEnum};
use idem_core::broker::{DuplicateAnswer, SaslServerConfig, SaslUser, UnknownProducerPolicy};
use idem_core::broker::{FaultSpec, TopicConfig, TransactionVersion};
use idem_core::debug::DebugContexts;
use idem_core::sasl::Mechanism;
use idem_core::tls::ServerTlsSettings;
use idem_core::tls::rustls::time_provider::DefaultTimeProvider;
use idem_mock::{MockCluster, MockClusterConfig};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

const SPEC_HELP: &str = "\
FAULT SPEC (--faults): comma-separated KEY=VALUE items, e.g.
  append_drop=0.02,error_before=REQUEST_TIMED_OUT:0.01,delay=0..20ms,leader_move=2s

  append_drop=P              append a Produce request's batches, then close the connection
                             instead of answering (probability P per Produce request)
  error_before=CODE:P        answer a partition with CODE without appending (probability P);
                             repeatable
  error_after=CODE:P         append, then answer the partition with CODE; repeatable
  delay=MIN..MAX[:P]         hold responses a uniform random time in MIN..=MAX (with
                             probability P, default 1); responses keep their order
  leader_move=EVERY          every EVERY, move a random partition to another live broker
  broker_bounce=EVERY[:DOWN] every EVERY, take a random broker down for DOWN (default 1s);
                             never the last live one; its queued responses are lost
  expire=AFTER               drop producer state idle for AFTER
  restart=EVERY              every EVERY, restart a random broker keeping producer state
  restart_lossy=EVERY        every EVERY, restart a random broker losing producer state
  restart_snapshot=EVERY     every EVERY, restart a random broker from Kafka's snapshot
                             (each producer keeps only its last batch)
  coordinator_move=EVERY     every EVERY, consumer group coordinators move to other brokers
  not_coordinator=P          answer a consumer group request NOT_COORDINATOR
  coordinator_loading=P      answer a consumer group request COORDINATOR_LOAD_IN_PROGRESS

  P: 0.01 or 1%.  CODE: a Kafka error name (REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND, NOT_LEADER_OR_FOLLOWER, ...) or number.
  Durations: integer + us|ms|s|m; in MIN..MAX a bare MIN takes MAX's unit (0..20ms).
  The same --seed and the same client traffic give the same faults.";

/// What a producer without state on a partition may send first.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum UnknownProducer {
    /// Sequence 0 only (else UNKNOWN_PRODUCER_ID; closes KAFKA-15591).
    Strict,
    /// Any sequence (Kafka 2.5+, KIP-360).
    AcceptAny,
}

/// How a duplicate resend is answered.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum DuplicateAnswerArg {
    /// Success with the original batch's offset (Kafka, Redpanda).
    OriginalOffset,
    /// DUPLICATE_SEQUENCE_NUMBER with offset -1 (tansu).
    DuplicateSequenceNumber,
}

/// Options of `idem broker`.
#[derive(Debug, Args)]
#[command(after_long_help = SPEC_HELP)]
pub struct BrokerArgs {
    /// HOST:PORT of broker 0; broker i listens on PORT+i (PORT 0: ephemeral ports).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:0")]
    listen: String,
    /// Number of brokers.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=64))]
    brokers: u16,
    /// A topic to create at start (repeatable), e.g. `orders:6`.
    #[arg(long = "topic", value_name = "NAME:PARTITIONS", value_parser = parse_topic)]
    topics: Vec<TopicConfig>,
    /// Faults to inject (see FAULT SPEC below, `--help`).
    #[arg(long, value_name = "SPEC", value_parser = FaultSpec::parse)]
    faults: Option<FaultSpec>,
    /// Seed of the fault injection.
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed: u64,
    /// Partitions of topics auto-created by Metadata requests (0: no auto-creation).
    #[arg(long, value_name = "N", default_value_t = 3)]
    auto_create_partitions: i32,
    /// Policy for producers without state on a partition.
    #[arg(long, value_enum, default_value = "strict")]
    unknown_producer: UnknownProducer,
    /// How a duplicate resend is answered.
    #[arg(long, value_enum, default_value = "original-offset")]
    duplicate_answer: DuplicateAnswerArg,
    /// The `transaction.version` the cluster finalizes (KIP-890): 1, KIP-98's transactions, or
    /// 2, transactions v2 as a new Kafka 4 cluster (Produce v12 and TxnOffsetCommit v5 add to
    /// the transaction, EndTxn v5 bumps the epoch). Clients of either protocol are served.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(i16).range(1..=2))]
    transaction_version: i16,
    /// Byte bound of each partition log (oldest batches dropped beyond it).
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
    log_max_bytes: usize,
    /// Stop when standard input reaches end of file (default: serve until killed).
    #[arg(long)]
    stop_on_stdin_eof: bool,
    /// Do not print the cluster's log lines on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Also print the cluster's debug lines of these contexts (comma-separated: broker,
    /// protocol, msg, eos, all): connections, every request, every Produce partition's outcome,
    /// producer ids and sequence decisions.
    #[arg(short = 'd', long = "debug", value_name = "CONTEXTS", value_parser = crate::produce::debug_contexts)]
    debug: Option<String>,
    /// Require SASL authentication (SASL_PLAINTEXT) with this mechanism: PLAIN, SCRAM-SHA-256,
    /// SCRAM-SHA-512 or OAUTHBEARER (any well-formed token); repeatable. Until a connection has
    /// authenticated only ApiVersions, SaslHandshake and SaslAuthenticate are answered.
    #[arg(long = "sasl-mechanism", value_name = "MECHANISM", value_parser = parse_mechanism)]
    sasl_mechanisms: Vec<Mechanism>,
    /// A user PLAIN and SCRAM accept (the password may contain `:`); repeatable.
    #[arg(long = "user", value_name = "NAME:PASSWORD", value_parser = parse_user)]
    users: Vec<SaslUser>,
    /// The SASL session lifetime announced to clients (KIP-368, Kafka's
    /// `connections.max.reauth.ms`): a connection must re-authenticate before it ends.
    #[arg(long = "sasl-session-lifetime-ms", value_name = "MS")]
    sasl_session_lifetime_ms: Option<u64>,
    /// Serve TLS on every listener (SSL, or SASL_SSL with --sasl-mechanism) with this
    /// certificate chain (PEM, the broker's certificate first).
    #[arg(long = "tls-cert", value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1, unencrypted).
    #[arg(long = "tls-key", value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Require a client certificate signed by one of these CA certificates (PEM), as Kafka's
    /// `ssl.client.auth=required`.
    #[arg(long = "tls-client-ca", value_name = "FILE", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
}

/// The TLS settings of `--tls-cert`, `--tls-key` and `--tls-client-ca`, checked (the files
/// read, the PEM parsed, the key matching the certificate), or an error naming the option.
fn tls_settings(args: &BrokerArgs) -> Result<Option<ServerTlsSettings>, String> {
    let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else { return Ok(None) };
    let read = |option: &str, path: &Path| {
        std::fs::read_to_string(path).map_err(|e| format!("--{option} {}: cannot read: {e}", path.display()))
    };
    let mut settings = ServerTlsSettings::new(&read("tls-cert", cert)?, &read("tls-key", key)?);
    if let Some(ca) = &args.tls_client_ca {
        settings.client_ca_pem = Some(read("tls-client-ca", ca)?);
        settings.wall_clock = Some(Arc::new(DefaultTimeProvider));
    }
    settings.server_config().map_err(|e| {
        let path = match e.setting {
            "tls-key" => key,
            "tls-client-ca" => args.tls_client_ca.as_ref().unwrap_or(cert),
            _ => cert,
        };
        format!("--{} {}: {}", e.setting, path.display(), e.reason)
    })?;
    Ok(Some(settings))
}

fn parse_mechanism(s: &str) -> Result<Mechanism, String> {
    Mechanism::from_name(s).ok_or_else(|| {
        format!("`{s}` is not PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER (GSSAPI is not supported)")
    })
}

fn parse_user(s: &str) -> Result<SaslUser, String> {
    SaslUser::parse(s).ok_or_else(|| "a user is NAME:PASSWORD, both non-empty".to_string())
}

fn parse_topic(s: &str) -> Result<TopicConfig, String> {
    let (name, n) = s.rsplit_once(':').ok_or_else(|| format!("`{s}` is not NAME:PARTITIONS"))?;
    let partitions = n.parse::<i32>().map_err(|_| format!("`{n}` is not a partition count"))?;
    idem_core::broker::check_topic(name, partitions).map_err(|e| e.to_string())?;
    Ok(TopicConfig { name: name.to_string(), partitions })
}

/// Runs `idem broker`: prints the bootstrap servers as the first line of stdout, then serves.
pub fn run(args: BrokerArgs) -> ExitCode {
    let Some((host, port)) = args.listen.rsplit_once(':') else {
        eprintln!("idem broker: --listen `{}` is not HOST:PORT", args.listen);
        return ExitCode::from(2);
    };
    let Ok(port) = port.parse::<u16>() else {
        eprintln!("idem broker: --listen port `{port}` is not a port number");
        return ExitCode::from(2);
    };
    let tls = match tls_settings(&args) {
        Ok(tls) => tls,
        Err(e) => {
            eprintln!("idem broker: {e}");
            return ExitCode::from(2);
        }
    };
    // The cluster's lines reach stderr through the logger (timestamped), debug lines with -d.
    crate::logger::install(match (args.quiet, args.debug.is_some()) {
        (true, _) => log::LevelFilter::Warn,
        (false, false) => log::LevelFilter::Info,
        (false, true) => log::LevelFilter::Debug,
    });
    let mut config = MockClusterConfig {
        host: host.trim_start_matches('[').trim_end_matches(']').to_string(),
        first_port: port,
        brokers: usize::from(args.brokers),
        ..MockClusterConfig::default()
    };
    config.cluster.debug = args.debug.as_deref().map(DebugContexts::parse).and_then(Result::ok).unwrap_or_default();
    config.cluster.topics = args.topics;
    config.cluster.faults = args.faults.unwrap_or_default();
    config.cluster.seed = args.seed;
    config.cluster.log_max_bytes = args.log_max_bytes;
    config.cluster.transaction_version =
        if args.transaction_version >= 2 { TransactionVersion::V2 } else { TransactionVersion::V1 };
    config.cluster.auto_create_partitions = (args.auto_create_partitions > 0).then_some(args.auto_create_partitions);
    config.cluster.validator.unknown_producer = match args.unknown_producer {
        UnknownProducer::Strict => UnknownProducerPolicy::Strict,
        UnknownProducer::AcceptAny => UnknownProducerPolicy::AcceptAnySequence,
    };
    config.cluster.duplicate_answer = match args.duplicate_answer {
        DuplicateAnswerArg::OriginalOffset => DuplicateAnswer::OriginalOffset,
        DuplicateAnswerArg::DuplicateSequenceNumber => DuplicateAnswer::DuplicateSequenceNumber,
    };
    if !args.sasl_mechanisms.is_empty() || !args.users.is_empty() {
        config.cluster.sasl = Some(SaslServerConfig {
            mechanisms: args.sasl_mechanisms,
            users: args.users,
            session_lifetime: args.sasl_session_lifetime_ms.map(idem_core::Duration::from_millis),
        });
    }
    config.cluster.tls = tls;
    let cluster = match MockCluster::start(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("idem broker: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    log::info!(
        target: idem_mock::LOG_TARGET,
        "listening on {} (security.protocol={})",
        cluster.bootstrap_servers(),
        cluster.security_protocol()
    );
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{}", cluster.bootstrap_servers()).and_then(|()| out.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    drop(out);
    if args.stop_on_stdin_eof {
        let mut sink = [0u8; 4096];
        let mut stdin = std::io::stdin().lock();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        let s = cluster.stats();
        log::info!(
            target: idem_mock::LOG_TARGET,
            "stopping: {} batches / {} records appended, {} duplicates suppressed",
            s.batches_appended,
            s.records_appended,
            s.duplicates
        );
        drop(cluster);
        return ExitCode::SUCCESS;
    }
    loop {
        std::thread::park();
    }
}
