//! `idem broker` as a process: bootstrap servers on the first stdout line, serving until stdin
//! closes, clear errors for a bad fault spec.
#![allow(clippy::unwrap_used)] // Tests may unwrap (HELPERS.md).

use idem_core::proto::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use idem_core::proto::{self, Frame};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

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
    let mut req = Vec::new();
    proto::encode_request_frame(&mut req, 5, Some("cli-test"), 3, &ApiVersionsRequest::default()).unwrap();
    s.write_all(&req).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    let body = loop {
        if let Ok(Frame::Complete { body, .. }) = proto::parse_frame(&buf, 1 << 20) {
            break body.to_vec();
        }
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "connection closed");
        buf.extend_from_slice(&chunk[..n]);
    };
    let (h, r): (_, ApiVersionsResponse) = proto::decode_response(&body, 3).unwrap();
    assert_eq!((h.correlation_id, r.error_code), (5, 0));
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_idem"))
        .args(["broker", "--brokers", "1", "--stop-on-stdin-eof", "-d", "broker,protocol"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let mut s = TcpStream::connect(line.trim()).unwrap();
    let mut req = Vec::new();
    proto::encode_request_frame(&mut req, 9, Some("cli-debug"), 3, &ApiVersionsRequest::default()).unwrap();
    s.write_all(&req).unwrap();
    let mut chunk = [0u8; 1024];
    assert!(s.read(&mut chunk).unwrap() > 0);
    drop(s);
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let accepted = stderr.lines().find(|l| l.contains("DEBUG idem::mock::broker: broker 0: connection"));
    let accepted = accepted.unwrap_or_else(|| panic!("{stderr}"));
    assert!(accepted.starts_with("20") && accepted.as_bytes()[10] == b'T', "timestamped: {accepted}");
    assert!(
        stderr.contains("DEBUG idem::mock::protocol: broker 0: connection") && stderr.contains("client `cli-debug`"),
        "{stderr}"
    );
    assert!(stderr.contains("INFO  idem::mock: stopping:"), "{stderr}");
}
