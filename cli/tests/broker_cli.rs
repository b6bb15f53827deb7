//! `idem broker` as a process: bootstrap servers on the first stdout line, serving until stdin
//! closes, clear errors for a bad fault spec; TLS listeners (`--tls-cert`, `--tls-key`,
//! `--tls-client-ca`) with errors naming the option.
#![allow(clippy::unwrap_used)] // Tests may unwrap (HELPERS.md).

use idem_core::proto::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use idem_core::proto::{self, Frame};
use idem_mock::{TestCertificateFiles, TestCertificates};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

/// Sends an ApiVersions request (correlation id `id`, client id `client`) on `stream` and reads
/// its response: (correlation id, error code); an error if the connection fails or closes first.
fn api_versions(stream: &mut (impl Read + Write), id: i32, client: &str) -> std::io::Result<(i32, i16)> {
    let mut req = Vec::new();
    proto::encode_request_frame(&mut req, id, Some(client), 3, &ApiVersionsRequest::default()).unwrap();
    stream.write_all(&req)?;
    stream.flush()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    let body = loop {
        if let Ok(Frame::Complete { body, .. }) = proto::parse_frame(&buf, 1 << 20) {
            break body.to_vec();
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let (h, r): (_, ApiVersionsResponse) = proto::decode_response(&body, 3).unwrap();
    Ok((h.correlation_id, r.error_code))
}

#[test]
fn prints_bootstrap_servers_serves_and_stops_on_stdin_eof() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_idem"))
        .args([
            "broker",
            "--brokers",
            "2",
            "--topic",
            "orders:4",
            "--faults",
            "delay=0..2ms,restart_snapshot=1s",
            "--duplicate-answer",
            "duplicate-sequence-number",
            "--unknown-producer",
            "accept-any",
            "--stop-on-stdin-eof",
            "-q",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let servers: Vec<&str> = line.trim().split(',').collect();
    assert_eq!(servers.len(), 2, "{line}");
    let mut s = TcpStream::connect(servers[1]).unwrap();
    assert_eq!(api_versions(&mut s, 5, "cli-test").unwrap(), (5, 0));
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_bad_fault_spec_is_refused_with_the_reason() {
    let out = Command::new(env!("CARGO_BIN_EXE_idem")).args(["broker", "--faults", "append_drop=2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("append_drop") && err.contains("probability"), "{err}");
    let help = Command::new(env!("CARGO_BIN_EXE_idem")).args(["broker", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("FAULT SPEC") && help.contains("broker_bounce=EVERY[:DOWN]"), "{help}");
}

#[test]
fn debug_contexts_print_the_brokers_lines_with_timestamps() {
    let (child, servers) = start_broker(&["-d", "broker,protocol"]);
    let mut s = TcpStream::connect(servers).unwrap();
    assert_eq!(api_versions(&mut s, 9, "cli-debug").unwrap(), (9, 0));
    drop(s);
    let stderr = stop_broker(child);
    let accepted = stderr.lines().find(|l| l.contains("DEBUG idem::mock::broker: broker 0: connection"));
    let accepted = accepted.unwrap_or_else(|| panic!("{stderr}"));
    assert!(accepted.starts_with("20") && accepted.as_bytes()[10] == b'T', "timestamped: {accepted}");
    assert!(
        stderr.contains("DEBUG idem::mock::protocol: broker 0: connection") && stderr.contains("client `cli-debug`"),
        "{stderr}"
    );
    assert!(stderr.contains("INFO  idem::mock: stopping:"), "{stderr}");
}

/// A directory of its own under the system's temporary directory, with the test certificates.
fn certificate_dir(test: &str) -> (std::path::PathBuf, TestCertificates, TestCertificateFiles) {
    let dir = std::env::temp_dir().join(format!("idem-cli-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let certs = TestCertificates::generate(&["localhost"]).unwrap();
    let files = certs.write_to(&dir).unwrap();
    (dir, certs, files)
}

/// One ApiVersions request over TLS to `addr` (trusting `certs`' CA, presenting its client
/// certificate when `client_certificate`): the response's error code, or the TLS / I/O error.
fn api_versions_over_tls(addr: &str, certs: &TestCertificates, client_certificate: bool) -> std::io::Result<i16> {
    use idem_core::tls::{ClientTlsSettings, rustls};
    let settings = ClientTlsSettings {
        ca_pem: Some(certs.ca_pem.clone()),
        certificate_pem: client_certificate.then(|| certs.client_pem.clone()),
        key_pem: client_certificate.then(|| certs.client_key_pem.clone()),
        wall_clock: Some(std::sync::Arc::new(rustls::time_provider::DefaultTimeProvider)),
        ..ClientTlsSettings::new()
    };
    let host = addr.rsplit_once(':').unwrap().0.to_string();
    let conn = rustls::ClientConnection::new(settings.client_config().unwrap(), host.try_into().unwrap()).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, TcpStream::connect(addr)?);
    let (correlation_id, error_code) = api_versions(&mut tls, 7, "cli-tls")?;
    assert_eq!(correlation_id, 7);
    Ok(error_code)
}

/// `--tls-cert` and `--tls-key` with the broker's certificate and key, then `more`.
fn tls_args(files: &TestCertificateFiles, more: &[&std::ffi::OsStr]) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = vec![
        "--tls-cert".into(),
        files.broker_certificate.clone().into(),
        "--tls-key".into(),
        files.broker_key.clone().into(),
    ];
    args.extend(more.iter().map(|a| a.to_os_string()));
    args
}

/// Starts `idem broker` with `args` (one broker, stopping at stdin's end); returns the child
/// and its bootstrap servers.
fn start_broker(args: &[impl AsRef<std::ffi::OsStr>]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_idem"))
        .args(["broker", "--brokers", "1", "--stop-on-stdin-eof"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (child, line.trim().to_string())
}

/// Stops the broker (stdin closed) and returns its stderr.
fn stop_broker(mut child: std::process::Child) -> String {
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn tls_listener_serves_tls_clients_and_says_ssl() {
    let (dir, certs, files) = certificate_dir("tls");
    let (child, servers) = start_broker(&tls_args(&files, &[]));
    assert_eq!(api_versions_over_tls(&servers, &certs, false).unwrap(), 0);
    // A plaintext client's request is not TLS: the broker closes the connection, answering
    // nothing but an alert.
    let mut plain = TcpStream::connect(&servers).unwrap();
    assert!(api_versions(&mut plain, 5, "cli-plain").is_err(), "a plaintext request was answered");
    let stderr = stop_broker(child);
    assert!(stderr.contains(&format!("listening on {servers} (security.protocol=SSL)")), "{stderr}");
    assert!(stderr.contains("TLS"), "the plaintext client's close is logged: {stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn tls_client_ca_requires_a_client_certificate_and_sasl_makes_it_sasl_ssl() {
    let (dir, certs, files) = certificate_dir("mtls");
    let (child, servers) = start_broker(&tls_args(&files, &["--tls-client-ca".as_ref(), files.ca.as_os_str()]));
    assert_eq!(api_versions_over_tls(&servers, &certs, true).unwrap(), 0);
    let refused = api_versions_over_tls(&servers, &certs, false).unwrap_err();
    assert!(refused.to_string().contains("CertificateRequired"), "{refused}");
    let stderr = stop_broker(child);
    assert!(stderr.contains("(security.protocol=SSL)"), "{stderr}");

    let sasl = ["--sasl-mechanism", "PLAIN", "--user", "alice:secret"].map(std::ffi::OsStr::new);
    let (child, _) = start_broker(&tls_args(&files, &sasl));
    let stderr = stop_broker(child);
    assert!(stderr.contains("(security.protocol=SASL_SSL)"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn tls_files_that_are_missing_or_not_pem_are_errors_naming_the_option() {
    let (dir, _, files) = certificate_dir("tls-errors");
    let missing = dir.join("missing.pem");
    let run = |args: &[&std::ffi::OsStr]| {
        let out = Command::new(env!("CARGO_BIN_EXE_idem")).arg("broker").args(args).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let cert = files.broker_certificate.as_os_str();
    let key = files.broker_key.as_os_str();
    let cases: [(&[&std::ffi::OsStr], &str); 5] = [
        (&["--tls-cert".as_ref(), missing.as_os_str(), "--tls-key".as_ref(), key], "--tls-cert"),
        (&["--tls-cert".as_ref(), cert, "--tls-key".as_ref(), missing.as_os_str()], "--tls-key"),
        // A key where the certificate belongs, and the other way round.
        (&["--tls-cert".as_ref(), key, "--tls-key".as_ref(), key], "--tls-cert"),
        (&["--tls-cert".as_ref(), cert, "--tls-key".as_ref(), cert], "--tls-key"),
        (&["--tls-cert".as_ref(), cert, "--tls-key".as_ref(), key, "--tls-client-ca".as_ref(), key], "--tls-client-ca"),
    ];
    for (args, option) in cases {
        let (code, stderr) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(option), "{args:?} should name {option}: {stderr}");
    }
    // The client's key does not match the broker's certificate.
    let (code, stderr) = run(&["--tls-cert".as_ref(), cert, "--tls-key".as_ref(), files.client_key.as_os_str()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--tls-key"), "{stderr}");
    // Half a pair.
    let (code, stderr) = run(&["--tls-cert".as_ref(), cert]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--tls-key"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// `--transaction-version`: at 2 the cluster finalizes transactions v2 and idem's transactional
/// producer speaks it (EndTxn v5, partitions added by Produce v12, no AddPartitionsToTxn); at 1
/// it speaks KIP-98's protocol.
#[test]
fn transaction_version_picks_the_protocol_a_transactional_producer_speaks() {
    for (version, spoken, never) in
        [("2", "EndTxn v5 request", "AddPartitionsToTxn v"), ("1", "AddPartitionsToTxn v3 request", "EndTxn v5")]
    {
        let (child, servers) = start_broker(&["--transaction-version", version, "--topic", "tx:2", "-d", "protocol"]);
        let mut produce = Command::new(env!("CARGO_BIN_EXE_idem"))
            .args(["produce", "-b", &servers, "-t", "tx", "--transactional-id", "cli-tv"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = produce.stdin.take().unwrap();
        stdin.write_all(b"a\nb\nc\n").unwrap();
        drop(stdin);
        let out = produce.wait_with_output().unwrap();
        let produced = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && produced.contains("delivered 3 of 3"), "{produced}");
        let stderr = stop_broker(child);
        assert!(stderr.contains(spoken), "transaction.version {version}: {stderr}");
        assert!(!stderr.contains(never), "transaction.version {version}: {stderr}");
    }
}
