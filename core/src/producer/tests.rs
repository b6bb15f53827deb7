use super::*;
use crate::time::Duration;

fn producer() -> Producer {
    Producer::new(ProducerConfig::new("boot:9092").unwrap(), Instant::ZERO).unwrap()
}

fn record(topic: &str) -> ProducerRecord<'_> {
    ProducerRecord { topic, partition: None, key: None, value: Some(b"v"), headers: &[], timestamp_ms: 0 }
}

#[test]
fn idle_producer_has_nothing_to_do() {
    let mut p = producer();
    assert_eq!(p.poll_output(), Output::Timeout(None));
    p.handle_input(Input::Timeout(Instant::from_millis(5)));
    p.handle_input(Input::Disconnected { now: Instant::ZERO, conn: ConnId(77) });
    p.handle_input(Input::Received { now: Instant::ZERO, conn: ConnId(77), bytes: b"junk" });
    assert_eq!(p.poll_output(), Output::Timeout(None));
    assert!(!p.has_pending());
}

#[test]
fn first_send_connects_to_bootstrap() {
    let mut p = producer();
    assert_eq!(p.send(Instant::ZERO, &record("t")), Ok(RecordId(0)));
    assert_eq!(p.send(Instant::ZERO, &record("t")), Ok(RecordId(1)));
    assert_eq!(p.poll_output(), Output::Connect { conn: ConnId(1), host: "boot".into(), port: 9092 });
    // Waiting for the connection: the next deadline is the connection setup timeout.
    assert_eq!(p.poll_output(), Output::Timeout(Some(Instant::from_millis(10_000))));
    assert_eq!(p.metrics().records_sent, 2);
    assert!(p.metrics().buffered_bytes > 0);
    // Setup timeout: the connection is closed and retried after the reconnect backoff.
    p.handle_input(Input::Timeout(Instant::from_millis(10_000)));
    assert_eq!(p.poll_output(), Output::Close { conn: ConnId(1) });
    let Output::Timeout(Some(t)) = p.poll_output() else { panic!() };
    p.handle_input(Input::Timeout(t));
    assert!(matches!(p.poll_output(), Output::Connect { conn: ConnId(2), .. }));
}

#[test]
fn send_rejections() {
    let mut p = producer();
    assert_eq!(p.send(Instant::ZERO, &record("")), Err(SendError::InvalidTopic));
    let long = "x".repeat(250);
    assert_eq!(p.send(Instant::ZERO, &record(&long)), Err(SendError::InvalidTopic));
    let r = ProducerRecord { partition: Some(-2), ..record("t") };
    assert_eq!(p.send(Instant::ZERO, &r), Err(SendError::InvalidPartition(-2)));
    p.close(Instant::ZERO);
    assert!(p.is_finished(), "nothing pending: closed at once");
    assert_eq!(p.send(Instant::ZERO, &record("t")), Err(SendError::Closed));
}

#[test]
fn abort_reports_everything_once() {
    let mut p = producer();
    for _ in 0..3 {
        p.send(Instant::ZERO, &record("t")).unwrap();
    }
    p.abort(Instant::from_millis(1));
    let mut failed = 0;
    loop {
        match p.poll_output() {
            Output::Event(Event::Failed { error: DeliveryError::Aborted, persisted: Persisted::No, .. }) => failed += 1,
            Output::Timeout(None) => break,
            Output::Close { .. } | Output::Connect { .. } => {}
            o => panic!("{o:?}"),
        }
    }
    assert_eq!(failed, 3);
    assert_eq!(p.metrics().buffered_bytes, 0);
}

#[test]
fn delivery_timeout_without_any_broker() {
    let cfg = ProducerConfig::new("boot:9092").unwrap().delivery_timeout(Duration::from_secs(31));
    let mut p = Producer::new(cfg, Instant::ZERO).unwrap();
    p.send(Instant::ZERO, &record("t")).unwrap();
    let mut failed = Vec::new();
    let mut now = Instant::ZERO;
    for _ in 0..1000 {
        match p.poll_output() {
            Output::Connect { conn, .. } => p.handle_input(Input::Disconnected { now, conn }),
            Output::Event(e) => failed.push(e),
            Output::Timeout(Some(t)) => {
                now = t;
                p.handle_input(Input::Timeout(t));
            }
            Output::Timeout(None) => break,
            Output::Close { .. } | Output::Transmit { .. } | Output::Diagnostic(_) => {}
        }
        if !failed.is_empty() {
            break;
        }
    }
    assert_eq!(
        failed,
        [Event::Failed { id: RecordId(0), error: DeliveryError::Timeout, persisted: Persisted::No, opaque: () }]
    );
    assert!(now <= Instant::from_millis(31_000) + Duration::from_millis(1));
}

#[test]
fn diagnostics_only_for_the_contexts_on() {
    use crate::debug::{DebugContext, DebugContexts};
    // Same run with and without `debug`: the same actions, plus diagnostics only when asked.
    let run = |debug: DebugContexts| {
        let cfg = ProducerConfig::new("boot:9092").unwrap().delivery_timeout(Duration::from_secs(31)).debug(debug);
        let mut p = Producer::new(cfg, Instant::ZERO).unwrap();
        p.send(Instant::ZERO, &record("t")).unwrap();
        let (mut actions, mut lines) = (Vec::new(), Vec::new());
        let mut now = Instant::ZERO;
        for _ in 0..1000 {
            match p.poll_output() {
                Output::Connect { conn, .. } => {
                    actions.push(alloc::format!("connect {}", conn.0));
                    p.handle_input(Input::Disconnected { now, conn });
                }
                Output::Diagnostic(d) => lines.push((d.context(), d.to_string())),
                Output::Timeout(Some(t)) => {
                    now = t;
                    p.handle_input(Input::Timeout(t));
                }
                Output::Timeout(None) => break,
                o => actions.push(alloc::format!("{o:?}")),
            }
            if actions.last().is_some_and(|a| a.starts_with("Event")) {
                break;
            }
        }
        (actions, lines)
    };
    let (quiet, none) = run(DebugContexts::NONE);
    assert!(none.is_empty());
    let (actions, lines) = run(DebugContexts::NONE.with(DebugContext::Broker).with(DebugContext::Msg));
    assert_eq!(actions, quiet, "diagnostics change nothing else");
    assert!(lines.iter().all(|(c, _)| matches!(c, DebugContext::Broker | DebugContext::Msg)), "{lines:?}");
    let text: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
    assert!(text.contains(&"connection 1 to bootstrap server 0 at boot:9092: connecting"), "{text:?}");
    assert!(text.iter().any(|l| l.starts_with("connection 1 to bootstrap server 0 closed: disconnected")), "{text:?}");
    assert_eq!(
        text.last(),
        Some(&"topic `t`: 1 records waiting for metadata failed (not persisted): delivery.timeout.ms elapsed")
    );
}
