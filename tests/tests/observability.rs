//! Observability (issue 11): the producer's diagnostics name what it did and why, and its
//! metrics agree with the in-memory cluster's counters and with the delivery reports.
//!
//! Each diagnostic test scripts one fault against the real producer and cluster (the
//! simulation's scenarios, `debug=all`) and looks for the lines an operator would read; each
//! fails when the line it reads is not made (checked by removing, e.g., the possibly-persisted
//! note of a lost connection, or the leader-change line).
#![allow(clippy::unwrap_used)]

use idem_core::broker::{BrokerAddress, ClusterConfig, FaultSpec, TopicConfig};
use idem_core::producer::{Producer, ProducerConfig, ProducerMetrics};
use idem_core::{Duration, Instant};
use idem_tests::actors::{BrokerFault, WorkRecord};
use idem_tests::adapters::{IdemCluster, IdemProducer};
use idem_tests::checker::{Outcome, Run};
use idem_tests::pair::{DirectLink, Pair};
use idem_tests::scenario::{Scenario, assert_clean, counter, outcomes};
use idem_tests::sim::RunResult;

/// The run's diagnostic lines (`context: text`).
fn lines(r: &RunResult) -> Vec<&str> {
    r.diagnostics.iter().map(|(_, l)| l.as_str()).collect()
}

/// The first line of `context` containing every one of `words`, or a panic listing the lines.
fn line_with<'a>(r: &'a RunResult, context: &str, words: &[&str]) -> &'a str {
    let prefix = format!("{context}: ");
    lines(r)
        .into_iter()
        .find(|l| l.starts_with(&prefix) && words.iter().all(|w| l.contains(w)))
        .unwrap_or_else(|| panic!("no `{context}` line with {words:?} in:\n{}", lines(r).join("\n")))
}

#[test]
fn quiet_without_debug() {
    let r = Scenario::new(1, 1).send(0, 0, 5).faults(0, 300, "append_drop=1").send(400, 0, 5).run();
    assert_clean(&r);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
}

#[test]
fn leader_move_names_the_new_leader_and_the_retry_reason() {
    // Partition 0 moves from broker 0 to broker 1 while the producer still believes broker 0
    // leads it: broker 0 answers NOT_LEADER_OR_FOLLOWER, the metadata refresh names the move.
    let r = Scenario::new(2, 1)
        .set("debug", "all")
        .send(0, 0, 3)
        .broker(200, BrokerFault::LeaderMove { partition: 0, to: 1 })
        .send(300, 0, 3)
        .run();
    assert_clean(&r);
    assert_eq!(outcomes(&r), (6, 0, 0));
    line_with(&r, "metadata", &["sim-0: leader broker 1 (was broker 0)"]);
    let retry = line_with(&r, "msg", &["sim-0: retrying batch pid", "NOT_LEADER_OR_FOLLOWER (6)"]);
    assert!(retry.contains("resent with the same bytes"), "{retry}");
    line_with(&r, "eos", &["possibly persisted: answered NOT_LEADER_OR_FOLLOWER (6)"]);
    // The retry goes to the new leader.
    line_with(&r, "broker", &["to broker 1", "ready"]);
}

#[test]
fn dropped_connection_after_append_is_explained_and_resolved_as_duplicate() {
    // Broker 0 appends the batch and closes the connection instead of answering: the batch's
    // outcome is unknown; it is resent with the same bytes and acknowledged as a duplicate.
    let r =
        Scenario::new(1, 1).set("debug", "all").send(0, 0, 3).faults(200, 250, "append_drop=1").send(220, 0, 2).run();
    assert_clean(&r);
    assert_eq!(outcomes(&r), (5, 0, 0));
    assert!(counter(&r, "dropped_after_append") >= 1);
    line_with(&r, "broker", &["to broker 0 closed: disconnected", "requests unanswered"]);
    let unknown = line_with(&r, "eos", &["sim-0: batch pid", "possibly persisted: its connection was lost"]);
    let seq = &unknown[unknown.find(" seq ").unwrap()..unknown.find(" (").unwrap()];
    let retry = line_with(&r, "msg", &["sim-0: retrying batch", seq, "connection was lost", "same bytes"]);
    assert!(retry.contains("(2 records, 1 attempt)"), "{retry}");
    assert!(counter(&r, "duplicates") >= 1, "the resend was recognised by the broker");
}

#[test]
fn epoch_bump_names_its_cause() {
    // The head batch is refused OUT_OF_ORDER_SEQUENCE_NUMBER before the append (definitely not
    // written): the producer drains, bumps the epoch on the client and renumbers.
    let r = Scenario::refused_head().set("debug", "eos,msg").run();
    assert_clean(&r);
    assert_eq!(outcomes(&r), (5, 0, 0));
    let cause = "sim-0: the broker refused the oldest unresolved batch with OUT_OF_ORDER_SEQUENCE_NUMBER (45)";
    line_with(&r, "eos", &["epoch bump needed for producer id 1000 epoch 0", cause, "draining every partition"]);
    let bumped = line_with(&r, "eos", &["epoch bumped on the client: producer id 1000 epoch 0 -> 1"]);
    assert!(bumped.contains(cause) && bumped.contains("restarts at sequence 0"), "{bumped}");
    line_with(&r, "msg", &["retrying batch", "refused with OUT_OF_ORDER_SEQUENCE_NUMBER (45) before the append"]);
    // Only the contexts asked for.
    assert!(lines(&r).iter().all(|l| l.starts_with("eos: ") || l.starts_with("msg: ")), "{:?}", lines(&r));
}

#[test]
fn delivery_timeout_names_the_request_timeouts_and_the_give_up() {
    // Every response is held 5 s: each attempt times out after request.timeout.ms (1 s) and
    // the batch is given up at delivery.timeout.ms (3 s), possibly persisted.
    let r = Scenario::new(1, 1)
        .set("debug", "all")
        .set("delivery.timeout.ms", "3000")
        .send(0, 0, 1)
        .faults(100, 20_000, "delay=5000..5000ms")
        .send(200, 0, 2)
        .run();
    let given_up: Vec<_> = r.run.reports.iter().filter(|rep| rep.record > 0).collect();
    assert_eq!(given_up.len(), 2, "{:?}", r.run.reports);
    assert!(given_up.iter().all(|rep| matches!(rep.outcome, Outcome::PossiblyPersisted(_))), "{given_up:?}");
    line_with(
        &r,
        "broker",
        &["closed: Produce request (correlation id", "unanswered after 1000ms (request.timeout.ms)"],
    );
    line_with(&r, "msg", &["sim-0: retrying batch", "its connection was lost"]);
    line_with(&r, "msg", &["sim-0: batch pid", "failed (possibly persisted): delivery.timeout.ms elapsed"]);
}

/// A producer and cluster on a direct link, sending `records` records over 3 partitions (faults
/// `faults`), until every record is reported. Returns the pair and a metrics snapshot taken
/// while records were still queued.
fn metered_run(faults: &str, records: u64) -> (Pair<IdemProducer, IdemCluster, DirectLink>, ProducerMetrics) {
    let brokers = (1..=2).map(|n| BrokerAddress { node_id: n, host: format!("b{n}"), port: 9092 }).collect();
    let cc = ClusterConfig {
        brokers,
        topics: vec![TopicConfig { name: "t".into(), partitions: 3 }],
        faults: FaultSpec::parse(faults).unwrap(),
        seed: 5,
        ..ClusterConfig::default()
    };
    let pc = ProducerConfig::new("b1:9092")
        .unwrap()
        .linger(Duration::from_millis(5))
        .batch_size(400)
        .request_timeout(Duration::from_secs(1))
        .delivery_timeout(Duration::from_secs(30));
    let producer = IdemProducer::new(Producer::with_opaque(pc, Instant::ZERO).unwrap());
    let mut pair = Pair::new(producer, IdemCluster::with_config(cc, "t"), DirectLink::new(), Run::default());
    let mut queued = None;
    for n in 0..records {
        let record = WorkRecord {
            topic: "t".into(),
            partition: Some((n % 3) as i32),
            key: None,
            value: n.to_be_bytes().to_vec(),
            timestamp_ms: 1,
        };
        pair.send(n as usize, record).unwrap();
        if n == records / 2 {
            queued = Some(pair.producer.0.metrics());
        }
        if n % 10 == 9 {
            pair.pump();
            pair.now += Duration::from_millis(1);
            pair.step();
        }
    }
    let mut steps = 0;
    loop {
        pair.step();
        if !pair.producer.0.has_pending() {
            break;
        }
        steps += 1;
        assert!(steps < 100_000, "no progress");
        pair.now = pair.next_deadline().map_or(pair.now + Duration::from_millis(10), |t| pair.now.max(t));
    }
    // Let what is on the wire be answered (a metadata refresh may be under way).
    for _ in 0..5 {
        pair.step();
    }
    assert!(pair.errors.is_empty(), "{:?}", pair.errors);
    (pair, queued.unwrap())
}

#[test]
fn metrics_agree_with_the_cluster_and_the_reports_without_faults() {
    let (pair, mid) = metered_run("", 600);
    let m = pair.producer.0.metrics();
    let s = pair.cluster.cluster.stats();
    let reports = &pair.run.reports;
    let delivered = reports.iter().filter(|r| matches!(r.outcome, Outcome::Delivered { .. })).count() as u64;
    assert_eq!((m.records_sent, m.records_delivered, m.records_failed), (600, delivered, 0));
    assert_eq!(delivered, 600);
    // Every request was seen by the cluster and answered.
    assert_eq!(m.requests, s.requests, "{m:?}\n{s:?}");
    assert_eq!(m.responses, m.requests);
    assert_eq!(m.produce_requests, s.produce_requests);
    assert_eq!(m.produce_responses, s.produce_requests);
    // Without faults every record went out once, and every batch was appended once.
    assert_eq!((m.records_transmitted, m.records_retried, m.retries), (600, 0, 0));
    assert_eq!(m.records_transmitted, s.records_appended);
    assert_eq!(m.batches_transmitted, s.batches_appended);
    assert_eq!(m.batches_transmitted, m.batches);
    let interval = m.since(&ProducerMetrics::default());
    assert!(interval.records_per_request_avg >= 1.0 && interval.batch_size_avg > 0.0, "{interval:?}");
    assert!(m.bytes_sent > m.batch_bytes_transmitted && m.bytes_received > 0);
    assert!(m.batch_size_max > 0 && m.batch_size_max <= 400, "{m:?}");
    // Per broker: the requests add up; none is in flight at the end.
    assert_eq!(m.brokers.iter().map(|b| b.requests).sum::<u64>(), m.requests);
    assert_eq!(m.brokers.iter().map(|b| b.bytes_sent).sum::<u64>(), m.bytes_sent);
    assert!(m.brokers.iter().all(|b| b.in_flight_requests == 0 && b.responses == b.requests));
    // Per partition: what was queued mid-run is gone; 200 records each, one sequence each.
    assert!(mid.queued_records() > 0, "{mid:?}");
    let parts = &m.topics[0].partitions;
    assert_eq!(parts.len(), 3);
    assert!(parts.iter().all(|p| p.queued_records == 0 && p.in_flight_batches == 0 && p.next_sequence == 200));
    assert_eq!(m.queued_records(), 0);
    assert_eq!(m.buffered_bytes + m.buffer_available_bytes, m.buffer_total_bytes);
}

#[test]
fn metrics_agree_with_the_cluster_and_the_reports_under_faults() {
    let (pair, _) =
        metered_run("append_drop=0.1,error_before=NOT_LEADER_OR_FOLLOWER:0.05,error_after=REQUEST_TIMED_OUT:0.05", 900);
    let m = pair.producer.0.metrics();
    let s = pair.cluster.cluster.stats();
    let reports = &pair.run.reports;
    let delivered = reports.iter().filter(|r| matches!(r.outcome, Outcome::Delivered { .. })).count() as u64;
    let failed = reports.len() as u64 - delivered;
    // Records sent = delivered + failed, as the reports say.
    assert_eq!(m.records_sent, 900);
    assert_eq!((m.records_delivered, m.records_failed), (delivered, failed));
    assert_eq!(m.records_delivered + m.records_failed, m.records_sent);
    // Faults made retries; every retransmission is counted once in records and batches.
    assert!(s.dropped_after_append + s.errors_before + s.errors_after > 0, "{s:?}");
    assert!(m.retries > 0 && m.records_retried > 0, "{m:?}");
    assert_eq!(m.topics[0].partitions.iter().map(|p| p.batch_retries).sum::<u64>(), m.retries);
    // Resends in order behind an unresolved batch are transmissions but not retries.
    assert!(m.batches_transmitted >= m.batches + m.retries, "{m:?}");
    assert!(m.records_transmitted >= m.records_delivered + m.records_retried);
    // The cluster saw at most what was sent (requests written before a close may be lost), and
    // appended each record at most once.
    assert!(s.produce_requests <= m.produce_requests && s.requests <= m.requests);
    assert!(s.records_appended <= m.records_transmitted);
    assert!(m.duplicates_acknowledged <= s.duplicates);
    assert_eq!(m.request_timeouts, 0);
    assert!(m.connection_errors >= s.dropped_after_append, "each dropped connection is counted");
    let json = m.to_json(Some(&m.since(&ProducerMetrics::default())));
    for key in
        ["\"record-retry-total\":", "\"record-error-rate\":", "\"request-latency-avg\":", "\"batch-retry-total\":"]
    {
        assert!(json.contains(key), "{key} in {json}");
    }
}
