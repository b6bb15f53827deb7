//! `idem produce` end to end: against a spawned `idem broker`, against an in-process cluster
//! whose logs are read back, and against an address where nothing listens.
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use idem_core::proto::record_batch::RecordBatch;
use idem_mock::{MockCluster, MockClusterConfig};

const IDEM: &str = env!("CARGO_BIN_EXE_idem");

/// A spawned `idem broker`, killed (by its own pid) when dropped.
struct Broker {
    child: Child,
    bootstrap: String,
}

impl Broker {
    fn spawn(topic: &str) -> Broker {
        Broker::spawn_with(topic, &[])
    }

    fn spawn_with(topic: &str, extra: &[&str]) -> Broker {
        let mut child = Command::new(IDEM)
            .args(["broker", "--quiet", "--stop-on-stdin-eof", "--topic", topic])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let bootstrap = line.trim().to_string();
        assert!(bootstrap.contains("127.0.0.1:"), "first line of idem broker: {line:?}");
        Broker { child, bootstrap }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A file in the temp directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!("idem-cli-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn lines(n: usize) -> String {
    (0..n).map(|i| format!("key{}:value number {i}\n", i % 7)).collect()
}

#[test]
fn delivers_a_file_to_a_spawned_broker() {
    let broker = Broker::spawn("lines:3");
    let input = TempFile::new("spawned.txt", lines(500).as_bytes());
    let out = Command::new(IDEM)
        .args(["produce", "-b", &broker.bootstrap, "-t", "lines", "-k", ":", "-X", "linger.ms=2", input.path()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("500 records"), "{stderr}");
    assert!(stderr.contains("delivered 500 of 500"), "{stderr}");
    assert!(!stderr.contains("NOT DELIVERED"), "{stderr}");
    assert!(!stderr.contains('\r'), "no progress line when stderr is not a terminal: {stderr:?}");
}

#[test]
fn stdin_records_land_exactly_once_with_their_keys() {
    let cluster = MockCluster::start(MockClusterConfig::default()).unwrap();
    cluster.create_topic("events", 4).unwrap();
    let input = lines(2000) + "no separator here\n\n";
    let mut child = Command::new(IDEM)
        .args(["produce", "-b", &cluster.bootstrap_servers(), "-t", "events", "-k", ":", "--progress", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("delivered 2002 of 2002"), "{stderr}");

    // Read every partition back: each input line exactly once; per key, in input order.
    let mut found: Vec<(Option<Vec<u8>>, Vec<u8>)> = Vec::new();
    for p in 0..4 {
        for stored in cluster.partition_log("events", p).unwrap() {
            let (batch, _) = RecordBatch::decode(&stored.bytes).unwrap();
            for r in batch.records() {
                let r = r.unwrap();
                found.push((r.key.map(<[u8]>::to_vec), r.value.unwrap_or_default().to_vec()));
            }
        }
    }
    assert_eq!(found.len(), 2002);
    let mut expected: Vec<(Option<Vec<u8>>, Vec<u8>)> = (0..2000)
        .map(|i| (Some(format!("key{}", i % 7).into_bytes()), format!("value number {i}").into_bytes()))
        .collect();
    expected.push((None, b"no separator here".to_vec()));
    expected.push((None, Vec::new()));
    for key in 0..7 {
        let k = Some(format!("key{key}").into_bytes());
        let got: Vec<_> = found.iter().filter(|(fk, _)| *fk == k).collect();
        let want: Vec<_> = expected.iter().filter(|(ek, _)| *ek == k).collect();
        assert_eq!(got, want, "key{key}: every record once, in input order");
    }
    let mut sorted_found = found.clone();
    let mut sorted_expected = expected.clone();
    sorted_found.sort();
    sorted_expected.sort();
    assert_eq!(sorted_found, sorted_expected);
}

/// `idem broker` requiring SASL SCRAM-SHA-512 (with re-authentication every 300 ms) and
/// `idem produce` with Kafka's settings through -X: delivered; with the wrong password, a clear
/// error naming SASL and the broker's refusal, and the password nowhere in the output.
#[test]
fn sasl_scram_through_the_cli() {
    let broker = Broker::spawn_with(
        "secure:2",
        &[
            "--sasl-mechanism",
            "SCRAM-SHA-512",
            "--sasl-mechanism",
            "PLAIN",
            "--user",
            "alice:s3cr3t:pw",
            "--sasl-session-lifetime-ms",
            "300",
        ],
    );
    let input = TempFile::new("sasl.txt", lines(300).as_bytes());
    let produce = |password: &str| {
        Command::new(IDEM)
            .args(["produce", "-b", &broker.bootstrap, "-t", "secure", "-X", "security.protocol=SASL_PLAINTEXT"])
            .args(["-X", "sasl.mechanism=SCRAM-SHA-512", "-X", "sasl.username=alice"])
            .args(["-X", &format!("sasl.password={password}"), input.path()])
            .output()
            .unwrap()
    };
    let out = produce("s3cr3t:pw");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("delivered 300 of 300"), "{stderr}");
    let out = produce("wrong-pw-123");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("SASL authentication failed") && stderr.contains("SASL_AUTHENTICATION_FAILED"), "{stderr}");
    assert!(!stderr.contains("wrong-pw-123"), "{stderr}");
    // GSSAPI, Kafka's default mechanism: refused up front, naming the setting.
    let out = Command::new(IDEM)
        .args([
            "produce",
            "-b",
            &broker.bootstrap,
            "-t",
            "secure",
            "-X",
            "security.protocol=SASL_PLAINTEXT",
            input.path(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("sasl.mechanism") && stderr.contains("GSSAPI"), "{stderr}");
}

/// `idem broker` on TLS listeners with SCRAM (SASL_SSL) and `idem produce` with Kafka's
/// settings (`ssl.ca.location` a file): delivered; an unreadable CA file is refused up front
/// naming the setting; a CA that did not sign the broker's certificate is a fatal TLS error.
#[test]
fn sasl_ssl_through_the_cli() {
    let dir = std::env::temp_dir().join(format!("idem-cli-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = idem_mock::TestCertificates::generate(&["localhost"]).unwrap().write_to(&dir).unwrap();
    let path = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let (cert, key, ca) = (path(&files.broker_certificate), path(&files.broker_key), path(&files.ca));
    let broker = Broker::spawn_with(
        "tls:2",
        &["--tls-cert", &cert, "--tls-key", &key, "--sasl-mechanism", "SCRAM-SHA-256", "--user", "bob:tls-pw"],
    );
    let input = TempFile::new("tls.txt", lines(500).as_bytes());
    let produce = |ca: &str| {
        Command::new(IDEM)
            .args(["produce", "-b", &broker.bootstrap, "-t", "tls", "-X", "security.protocol=SASL_SSL"])
            .args(["-X", &format!("ssl.ca.location={ca}"), "-X", "sasl.mechanism=SCRAM-SHA-256"])
            .args(["-X", "sasl.username=bob", "-X", "sasl.password=tls-pw", input.path()])
            .output()
            .unwrap()
    };
    let out = produce(&ca);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("delivered 500 of 500"), "{stderr}");
    let out = produce("/nonexistent/ca.pem");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ssl.ca.location") && stderr.contains("/nonexistent/ca.pem"), "{stderr}");
    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    let stranger = idem_mock::TestCertificates::generate(&["localhost"]).unwrap().write_to(&other).unwrap();
    let out = produce(&path(&stranger.ca));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("TLS handshake") && stderr.contains("not signed by a trusted CA"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn refused_records_make_the_exit_code_nonzero() {
    let broker = Broker::spawn("small:1");
    let big = "x".repeat(5000);
    let input = TempFile::new("refused.txt", format!("a\n{big}\nb\n").as_bytes());
    let out = Command::new(IDEM)
        .args(["produce", "-b", &broker.bootstrap, "-t", "small", "-X", "message.max.bytes=1000", input.path()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("delivered 2 of 3"), "{stderr}");
    assert!(stderr.contains("NOT DELIVERED: 1 records"), "{stderr}");
    assert!(stderr.contains("1 refused"), "{stderr}");
    assert!(stderr.contains("message.max.bytes"), "{stderr}");
}

#[test]
fn unreachable_bootstrap_fails_fast_with_a_clear_message() {
    // A port where nothing listens: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let input = TempFile::new("unreachable.txt", b"one\ntwo\nthree\n");
    let start = Instant::now();
    let out = Command::new(IDEM)
        .args([
            "produce",
            "-b",
            &format!("127.0.0.1:{port}"),
            "-t",
            "t",
            "-X",
            "delivery.timeout.ms=1500",
            "-X",
            "request.timeout.ms=1000",
            "-X",
            "linger.ms=0",
            input.path(),
        ])
        .output()
        .unwrap();
    let elapsed = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}: {stderr}");
    assert!(stderr.contains("delivered 0 of 3"), "{stderr}");
    assert!(stderr.contains("NOT DELIVERED: 3 records"), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "names the bootstrap servers: {stderr}");
    assert!(stderr.contains("is a broker reachable"), "names the cause: {stderr}");
}

#[test]
fn an_oversized_line_names_the_size_limit_and_not_reachability() {
    let cluster = MockCluster::start(MockClusterConfig::default()).unwrap();
    cluster.create_topic("big", 1).unwrap();
    let mut line = vec![b'x'; 2_000_000];
    line.push(b'\n');
    let input = TempFile::new("oversized.txt", &line);
    let out = Command::new(IDEM)
        .args(["produce", "-b", &cluster.bootstrap_servers(), "-t", "big", input.path()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("delivered 0 of 1"), "{stderr}");
    assert!(stderr.contains("1 refused"), "{stderr}");
    assert!(stderr.contains("exceeds message.max.bytes=1000000"), "names the size limit: {stderr}");
    assert!(!stderr.contains("reachable"), "the broker was reachable: {stderr}");
    assert!(!stderr.contains("no Produce request"), "nothing was accepted to send: {stderr}");
}

#[test]
fn invalid_producer_settings_exit_2() {
    let out = Command::new(IDEM)
        .args(["produce", "-b", "127.0.0.1:1", "-t", "t", "-X", "no.such.setting=1", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no.such.setting"), "{stderr}");
}

/// An in-process cluster of one broker with topic `topic` (1 partition) and `faults`.
fn one_broker(topic: &str, faults: &str) -> MockCluster {
    let mut config = MockClusterConfig { brokers: 1, ..MockClusterConfig::default() };
    config.cluster.topics.push(idem_core::broker::TopicConfig { name: topic.into(), partitions: 1 });
    config.cluster.faults = idem_core::broker::FaultSpec::parse(faults).unwrap();
    MockCluster::start(config).unwrap()
}

#[test]
fn debug_contexts_and_stats_print_timestamped_lines() {
    // An in-process cluster that appends and then drops the connection instead of answering
    // (the resend is a duplicate, answered), and holds every answer 100 ms: the producer has
    // something to explain, for long enough to print statistics.
    let cluster = one_broker("dbg", "append_drop=1,delay=100..100ms");
    let input = TempFile::new("debug.txt", lines(50).as_bytes());
    let out = Command::new(IDEM)
        .args(["produce", "-b", &cluster.bootstrap_servers(), "-t", "dbg", "-d", "broker,eos,msg", "--stats=50"])
        .args(["-X", "linger.ms=2", input.path()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(cluster.stats().dropped_after_append > 0);
    let find = |target: &str, text: &str| {
        stderr.lines().find(|l| l.contains(target) && l.contains(text)).unwrap_or_else(|| panic!("{text}: {stderr}"))
    };
    let closed = find("DEBUG idem::broker:", "closed: disconnected");
    // `2025-01-31T12:00:00.123Z DEBUG idem::broker: ...`
    assert_eq!(closed.as_bytes()[10], b'T', "{closed}");
    assert_eq!(&closed[23..36], "Z DEBUG idem:", "{closed}");
    find("DEBUG idem::eos:", "possibly persisted: its connection was lost before the answer");
    find("DEBUG idem::msg:", "dbg-0: retrying batch pid");
    find("INFO  idem::stats:", "records/s sent");
    assert!(!stderr.contains("idem::protocol"), "only the contexts asked for: {stderr}");
    assert!(stderr.contains("delivered 50 of 50"), "{stderr}");
}

#[test]
fn stats_json_lines_on_stdout() {
    let cluster = one_broker("js", "delay=400..400ms");
    let input = TempFile::new("json.txt", lines(20).as_bytes());
    let out = Command::new(IDEM)
        .args(["produce", "-b", &cluster.bootstrap_servers(), "-t", "js", "--stats=50", "--stats-json", input.path()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first = stdout.lines().next().unwrap_or_else(|| panic!("no JSON line: {stdout}"));
    assert!(first.starts_with("{\"time-ms\":") && first.ends_with('}'), "{first}");
    for key in ["\"record-send-rate\":", "\"request-latency-avg\":", "\"buffer-available-bytes\":", "\"topic\":\"js\""]
    {
        assert!(first.contains(key), "{key} in {first}");
    }
}

/// Runs `idem produce` of `input` to `topic` at `bootstrap` with `-X` `settings`; asserts it
/// delivered everything.
fn produce_with(bootstrap: &str, topic: &str, input: &TempFile, settings: &[String]) {
    let mut cmd = Command::new(IDEM);
    cmd.args(["produce", "-b", bootstrap, "-t", topic]);
    for s in settings {
        cmd.args(["-X", s]);
    }
    let out = cmd.arg(input.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{settings:?}: {stderr}");
}

/// Reads partition 0 of `topic` from librdkafka's mock with librdkafka's consumer.
fn read_with_librdkafka(bootstrap: &str, topic: &str, n: usize) -> Vec<Vec<u8>> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::Message;
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "idem-cli-test")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = rdkafka::TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, rdkafka::Offset::Beginning).unwrap();
    consumer.assign(&tpl).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut out = Vec::new();
    while out.len() < n && Instant::now() < deadline {
        if let Some(m) = consumer.poll(Duration::from_millis(100)) {
            out.push(m.unwrap().payload().unwrap_or_default().to_vec());
        }
    }
    out
}

#[test]
fn compressed_produce_to_idem_broker_and_librdkafka_mock() {
    let n = 3000;
    let input = TempFile::new("compressed.txt", lines(n).as_bytes());
    let want: Vec<Vec<u8>> = lines(n).lines().map(|l| l.as_bytes().to_vec()).collect();
    for (codec, level) in
        [("gzip", Some("9")), ("snappy", None), ("lz4", Some("1")), ("zstd", Some("19")), ("zstd", None)]
    {
        let mut settings = vec![format!("compression.type={codec}"), "batch.size=16384".to_string()];
        settings.extend(level.map(|l| format!("compression.level={l}")));
        // idem's broker: every stored batch carries the codec; the records in input order.
        let cluster = one_broker("c", "");
        produce_with(&cluster.bootstrap_servers(), "c", &input, &settings);
        let mut got = Vec::new();
        let mut scratch = Vec::new();
        for stored in cluster.partition_log("c", 0).unwrap() {
            let (batch, _) = RecordBatch::decode(&stored.bytes).unwrap();
            assert_eq!(batch.header.compression().unwrap().name(), codec, "{settings:?}");
            for r in batch.decompressed_records(&mut scratch, 1 << 26).unwrap() {
                got.push(r.unwrap().value.unwrap_or_default().to_vec());
            }
        }
        assert_eq!(got, want, "{settings:?}: idem's broker holds every line once, in order");
        // librdkafka's mock cluster, read back by librdkafka's consumer.
        let mock = rdkafka::mocking::MockCluster::new(1).unwrap();
        mock.create_topic("c", 1, 1).unwrap();
        produce_with(&mock.bootstrap_servers(), "c", &input, &settings);
        assert_eq!(read_with_librdkafka(&mock.bootstrap_servers(), "c", n), want, "{settings:?}: librdkafka's mock");
    }
    // `idem broker` (a process of its own) takes zstd batches (Produce v7+).
    let broker = Broker::spawn("z:2");
    produce_with(&broker.bootstrap, "z", &input, &["compression.type=zstd".to_string()]);
    // A level outside the codec's range is a setting error that names the setting.
    let out = Command::new(IDEM)
        .args([
            "produce",
            "-b",
            "127.0.0.1:1",
            "-t",
            "t",
            "-X",
            "compression.type=gzip",
            "-X",
            "compression.level=12",
            "-",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("compression.level") && stderr.contains("1..9"), "{stderr}");
}

/// `--transactional-id` with `--transaction-size 1000`: 2,500 lines are three transactions (a
/// commit every 1,000 records and one at the end), each with its COMMIT marker in the log, and
/// a `read_committed` consumer reads every line once, in order.
#[test]
fn transactional_produce_commits_every_n_records_and_at_the_end() {
    let cluster = one_broker("tx", "");
    let text = lines(2500);
    let input = TempFile::new("txn.txt", text.as_bytes());
    let out = Command::new(IDEM)
        .args(["produce", "-b", &cluster.bootstrap_servers(), "-t", "tx", "-k", ":"])
        .args(["--transactional-id", "cli-tx", "--transaction-size", "1000", input.path()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("delivered 2500 of 2500"), "{stderr}");
    assert!(stderr.contains("transactions committed 3 (2500 records)"), "{stderr}");
    let markers = || {
        let log = cluster.partition_log("tx", 0).unwrap();
        log.iter().filter(|b| RecordBatch::decode(&b.bytes).unwrap().0.header.is_control()).count()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while markers() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10)); // written a few ms after EndTxn
    }
    assert_eq!(markers(), 3, "one COMMIT marker per transaction");
    let committed = cluster.with_cluster(|c| c.partition_log("tx", 0).unwrap().read_committed().unwrap());
    let values: Vec<Vec<u8>> = committed.into_iter().map(|(_, v)| v.unwrap()).collect();
    let expected: Vec<Vec<u8>> = text.lines().map(|l| l.split_once(':').unwrap().1.as_bytes().to_vec()).collect();
    assert_eq!(values, expected);
}
