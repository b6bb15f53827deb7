//! End to end over real TCP: the blocking runtime (idem-std) against idem's MockCluster with
//! faults, and against bad inputs. Every record gets exactly one report; the log holds every
//! delivered record once, in send order per partition; nothing reported not-persisted is in it.
#![allow(clippy::unwrap_used)]

mod e2e_common;

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use e2e_common::{
    CallbackFlushesAndCloses, Collector, Gate, PanickyCallbacks, SLACK, assert_closed_past_a_blocked_callback, check,
    eventually, faulty_cluster, idem_cluster, read_back, read_idem_log, slow_cluster, test_config, value_of, within,
};
use idem_core::proto::ErrorCode;
use idem_std::{DeliveryError, DeliveryHandle, FlushTimeout, Persisted, Producer, Record, SendError, Std};

/// `threads` threads send `per_thread` records each (keyed, so spread over partitions); a third
/// of the records use handles, a third callbacks, a third the producer-wide delivery callback
/// with the record's index as opaque (it must store into `collector`). Returns the reports by
/// record index.
fn send_from_threads(
    p: &Producer,
    collector: &Collector,
    topic: &str,
    threads: u64,
    per_thread: u64,
) -> Vec<Option<idem_std::DeliveryResult>> {
    thread::scope(|s| {
        for t in 0..threads {
            let collector = collector.clone();
            s.spawn(move || {
                let mut handles: Vec<(u64, DeliveryHandle)> = Vec::new();
                for j in 0..per_thread {
                    let i = t * per_thread + j;
                    let v = value_of(i);
                    let key = (i % 97).to_be_bytes();
                    let rec = Record::new(topic).key(&key).value(&v);
                    if j % 25 == 0 {
                        thread::sleep(Duration::from_millis(2)); // spread over ~2 s of faults
                    }
                    match i % 3 {
                        0 => handles.push((i, p.send(&rec).unwrap())),
                        1 => drop(p.send_with_callback(&rec, collector.callback(i)).unwrap()),
                        _ => drop(p.send_with_opaque(&rec, i).unwrap()),
                    }
                }
                for (i, h) in handles {
                    let Some(r) = h.wait_timeout(Duration::from_secs(3)) else {
                        let _ = std::fs::write("/tmp/idem_stall.txt", p.debug_state());
                        panic!("stalled; state in /tmp/idem_stall.txt");
                    };
                    collector.callback(i)(r);
                }
            });
        }
    });
    if p.flush_timeout(Duration::from_secs(3)).is_err() {
        std::fs::write("/tmp/idem_stall.txt", p.debug_state()).unwrap();
        panic!("stalled; state in /tmp/idem_stall.txt");
    }
    collector.take()
}

#[test]
fn faults_many_threads_exactly_once_in_order() {
    let t0 = Instant::now();
    let (cluster, config) = faulty_cluster();
    let collector = Collector::new(10_000);
    let on_delivery = collector.clone();
    let p = Producer::new(config.on_delivery(move |i, r| on_delivery.callback(i)(r))).unwrap();
    let reports = send_from_threads(&p, &collector, "t", 4, 2500);
    let report = p.close_timeout(Duration::from_secs(5));
    let metrics = p.metrics();
    cluster.set_faults(Default::default());
    let log = read_idem_log(&cluster, "t", 4);
    let o = check(&reports, &log, true);
    for r in reports.iter().flatten().filter_map(|r| r.err()).take(3) {
        eprintln!("failed: {r}");
    }
    assert_eq!(o.delivered + o.failed_not_persisted + o.failed_possibly, 10_000);
    assert_eq!(report.counts.delivered as usize, o.delivered);
    assert!(o.delivered > 9_000, "{o:?}");
    assert!(metrics.retries > 10, "faults fired: {metrics:?}");
    // The same log through Fetch, read by librdkafka's consumer.
    let mut fetched = read_back(&cluster.bootstrap_servers(), "t", 4);
    fetched.sort_by_key(|r| (r.partition, r.offset));
    assert_eq!(fetched.len(), log.len());
    assert!(fetched == log, "Fetch and the log accessor disagree");
    eprintln!("{o:?}\n{metrics:?}\nin {:?}", t0.elapsed());
}

#[test]
fn broker_bounces_and_restarts() {
    let t0 = Instant::now();
    let cluster = idem_cluster(3, "t", 3, "broker_bounce=300ms:150ms,restart=500ms,delay=0..2ms");
    let p = Producer::new(test_config(&cluster.bootstrap_servers(), 8000)).unwrap();
    let n = 3000u64;
    let collector = Collector::new(n as usize);
    for i in 0..n {
        let v = value_of(i);
        p.send_with_callback(&Record::new("t").partition((i % 3) as i32).value(&v), collector.callback(i)).unwrap();
        if i % 12 == 0 {
            thread::sleep(Duration::from_millis(10)); // spread over ~2.5 s of faults
        }
    }
    p.flush_timeout(Duration::from_secs(20)).unwrap();
    let report = p.close_timeout(Duration::from_secs(5));
    let reports = collector.take();
    cluster.set_faults(Default::default());
    let log = read_idem_log(&cluster, "t", 3);
    let o = check(&reports, &log, true);
    assert_eq!(report.counts.delivered + report.counts.failed, n);
    assert!(o.delivered > 0);
    eprintln!("{o:?}\n{:?}\nin {:?}", p.metrics(), t0.elapsed());
}

fn assert_all_failed_not_persisted(handles: Vec<DeliveryHandle>, within: Duration) {
    for h in handles {
        let r = h.wait_timeout(within).expect("every record is reported");
        let f = r.expect_err("nothing can be delivered");
        assert_eq!((f.error, f.persisted), (DeliveryError::Timeout, Persisted::No), "{f}");
    }
}

fn short_config(bootstrap: &str) -> idem_std::Config {
    let mut c = test_config(bootstrap, 1500);
    c.set("request.timeout.ms", "500").unwrap();
    c
}

#[test]
fn unreachable_bootstrap_and_unresolvable_host_time_out() {
    for bootstrap in ["127.0.0.1:1", "idem-no-such-host.invalid:9092"] {
        let t0 = Instant::now();
        let p = Producer::new(short_config(bootstrap)).unwrap();
        let handles: Vec<_> = (0..10u64).map(|i| p.send(&Record::new("t").value(&value_of(i))).unwrap()).collect();
        assert_all_failed_not_persisted(handles, Duration::from_secs(5));
        let report = p.close_timeout(Duration::from_secs(1));
        assert_eq!((report.counts.failed, report.counts.delivered), (10, 0));
        assert!(p.metrics().connection_errors > 0);
        assert!(t0.elapsed() < Duration::from_secs(4), "{bootstrap}: {:?}", t0.elapsed());
    }
}

#[test]
fn unknown_topic_times_out_and_known_topic_still_works() {
    let mut config = idem_mock::MockClusterConfig::default();
    config.cluster.auto_create_partitions = None;
    config.cluster.topics.push(idem_core::broker::TopicConfig { name: "known".into(), partitions: 1 });
    let cluster = idem_mock::MockCluster::start(config).unwrap();
    let p = Producer::new(short_config(&cluster.bootstrap_servers())).unwrap();
    let unknown: Vec<_> = (0..5u64).map(|i| p.send(&Record::new("unknown").value(&value_of(i))).unwrap()).collect();
    let known = p.send(&Record::new("known").value(b"k")).unwrap();
    assert_eq!(known.wait_timeout(Duration::from_secs(3)).unwrap().unwrap().offset, Some(0));
    assert_all_failed_not_persisted(unknown, Duration::from_secs(5));
    assert!(cluster.partition_log("unknown", 0).is_none());
}

#[test]
fn record_too_large_locally_and_at_the_broker() {
    let mut config = idem_mock::MockClusterConfig::default();
    config.cluster.max_message_bytes = 2_000;
    config.cluster.topics.push(idem_core::broker::TopicConfig { name: "t".into(), partitions: 1 });
    let cluster = idem_mock::MockCluster::start(config).unwrap();
    let mut c = test_config(&cluster.bootstrap_servers(), 5000);
    c.set("message.max.bytes", "10000").unwrap();
    c.set("linger.ms", "0").unwrap();
    let p = Producer::new(c).unwrap();
    // Refused by the producer itself: an error from send, no report.
    let huge = vec![7u8; 20_000];
    assert!(matches!(p.send(&Record::new("t").value(&huge)), Err(SendError::RecordTooLarge { max: 10_000, .. })));
    // Accepted by the producer, refused by the broker: a report saying not persisted.
    let before = p.send(&Record::new("t").value(b"before")).unwrap();
    let meta = before.wait_timeout(Duration::from_secs(3)).unwrap().unwrap();
    // The runtime stamps CreateTime from the system clock.
    assert!((meta.timestamp_ms - idem_std::wall_clock_ms()).abs() < 10_000, "{meta:?}");
    let big = vec![7u8; 5_000];
    let h = p.send(&Record::new("t").value(&big)).unwrap();
    let f = h.wait_timeout(Duration::from_secs(3)).unwrap().unwrap_err();
    assert_eq!((f.error, f.persisted), (DeliveryError::Rejected(ErrorCode::MESSAGE_TOO_LARGE), Persisted::No));
    let after = p.send(&Record::new("t").value(b"after")).unwrap();
    assert_eq!(after.wait_timeout(Duration::from_secs(3)).unwrap().unwrap().offset, Some(1));
    let log = read_idem_log(&cluster, "t", 1);
    assert_eq!(log.iter().map(|r| r.value.clone()).collect::<Vec<_>>(), vec![b"before".to_vec(), b"after".to_vec()]);
}

/// A "broker" that answers every request with garbage: a frame whose body is random-ish bytes.
fn garbage_broker() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    thread::spawn(move || {
        for (n, s) in l.incoming().enumerate() {
            let Ok(mut s) = s else { return };
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut x = 0x9e37_79b9_u32.wrapping_mul(n as u32 + 1);
                while let Ok(k) = s.read(&mut buf) {
                    if k == 0 {
                        return;
                    }
                    // Alternate: a plausible size with garbage, or a huge size prefix.
                    let mut out = if n % 2 == 0 { vec![0, 0, 0, 40] } else { vec![0x7f, 0xff, 0xff, 0xff] };
                    for _ in 0..40 {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        out.push(x as u8);
                    }
                    if s.write_all(&out).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[test]
fn garbage_broker_closes_connections_and_loses_nothing() {
    let addr = garbage_broker();
    let p = Producer::new(short_config(&addr)).unwrap();
    let handles: Vec<_> = (0..20u64).map(|i| p.send(&Record::new("t").value(&value_of(i))).unwrap()).collect();
    assert_all_failed_not_persisted(handles, Duration::from_secs(5));
    assert!(p.metrics().connection_errors >= 2, "{:?}", p.metrics());
    assert_eq!(p.close_timeout(Duration::from_secs(1)).counts.failed, 20);
}

#[test]
fn close_while_sends_are_pending_reports_everything() {
    let n = 500u64;
    let (cluster, p, collector) = slow_cluster::<Std>(n);
    for i in 0..n {
        let v = value_of(i);
        p.send_with_callback(&Record::new("t").partition((i % 2) as i32).value(&v), collector.callback(i)).unwrap();
        if i == 10 {
            // Let the connection, metadata and producer id settle so batches are in flight.
            p.flush_timeout(Duration::from_secs(3)).unwrap();
        }
        if i % 50 == 0 {
            thread::sleep(Duration::from_millis(5));
        }
    }
    let t0 = Instant::now();
    let report = p.close_timeout(Duration::from_millis(50));
    assert!(t0.elapsed() < Duration::from_secs(1));
    assert_eq!(report.counts.delivered + report.counts.failed, n);
    assert!(report.counts.aborted > 0, "{report:?}");
    assert!(report.counts.possibly_persisted > 0, "batches were in flight: {report:?}");
    assert!(!report.all_delivered());
    assert_eq!(p.send(&Record::new("t").value(b"late")).err(), Some(SendError::Closed));
    thread::sleep(Duration::from_millis(400)); // let the broker finish what it received
    cluster.set_faults(Default::default());
    let reports = collector.take();
    let o = check(&reports, &read_idem_log(&cluster, "t", 2), true);
    assert_eq!(o.failed_possibly + o.failed_not_persisted, report.counts.failed as usize);
    eprintln!("{o:?} {report:?}");
}

#[test]
fn full_buffer_blocks_up_to_max_block_and_try_send_never_blocks() {
    let cluster = idem_cluster(1, "t", 1, "delay=400..400ms");
    let mut c = test_config(&cluster.bootstrap_servers(), 5000);
    for (k, v) in [("buffer.memory", "20000"), ("batch.size", "4000"), ("max.block.ms", "100"), ("linger.ms", "0")] {
        c.set(k, v).unwrap();
    }
    let p = Arc::new(Producer::new(c).unwrap());
    let v = vec![1u8; 1000];
    let mut handles = Vec::new();
    let t0 = Instant::now();
    loop {
        match p.try_send(&Record::new("t").value(&v)) {
            Ok(h) => handles.push(h),
            Err(SendError::QueueFull) => break,
            Err(e) => panic!("{e}"),
        }
        assert!(handles.len() < 100, "buffer.memory is not enforced");
    }
    assert!(t0.elapsed() < Duration::from_millis(300), "try_send must not block");
    let t1 = Instant::now();
    assert_eq!(p.send(&Record::new("t").value(&v)).err(), Some(SendError::QueueFull));
    let waited = t1.elapsed();
    assert!(waited >= Duration::from_millis(90) && waited < Duration::from_millis(350), "{waited:?}");
    // Deliveries free space after ~400 ms: a blocking send then gets through.
    let t2 = Instant::now();
    let mut blocked = None;
    while t2.elapsed() < Duration::from_secs(3) {
        match p.send(&Record::new("t").value(&v)) {
            Ok(h) => {
                blocked = Some(h);
                break;
            }
            Err(SendError::QueueFull) => continue,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(blocked.is_some(), "space was freed by deliveries");
    for h in handles {
        h.wait_timeout(Duration::from_secs(5)).unwrap().unwrap();
    }
    assert!(p.close_timeout(Duration::from_secs(5)).all_delivered());
}

/// Sends records `records` (value: the index), each with a handle or a callback as `callbacks`
/// says; returns the handles with their records' indices.
fn send_some(p: &Producer, callbacks: &PanickyCallbacks, records: std::ops::Range<u64>) -> Vec<(u64, DeliveryHandle)> {
    let mut handles = Vec::new();
    for i in records {
        let v = value_of(i);
        let rec = Record::new("t").value(&v);
        if callbacks.uses_handle(i) {
            handles.push((i, p.send(&rec).unwrap()));
        } else {
            p.send_with_callback(&rec, callbacks.callback(i)).unwrap();
        }
    }
    handles
}

/// A delivery callback that panics costs only itself (as in the Java client, which catches a
/// callback's exception in `ProducerBatch.completeFutureAndFireCallbacks` and carries on): every
/// other record still gets its one report, the callback thread that ran it runs the next ones,
/// `flush` and `close` return, and the panic is counted.
#[test]
fn callback_panic_costs_only_itself() {
    // Bounded as a whole: a producer that hangs on drop fails the test instead of stalling it.
    within(Duration::from_secs(60), "the test", panicking_callbacks_among_deliveries);
}

fn panicking_callbacks_among_deliveries() {
    let cluster = idem_cluster(1, "t", 1, "");
    let mut config = test_config(&cluster.bootstrap_servers(), 5000);
    // Every record of a wave in one batch: its reports are queued together, record 0's
    // panicking callback first.
    config.set("linger.ms", "50").unwrap();
    let p = Arc::new(Producer::new(config).unwrap());
    let n = 420;
    let callbacks = PanickyCallbacks::new(n as usize, 3, 7);
    // The second wave needs the callback thread that ran the first wave's panics.
    for wave in [0..n / 2, n / 2..n] {
        for (i, h) in send_some(&p, &callbacks, wave) {
            let r = h.wait_timeout(Duration::from_secs(5)).unwrap_or_else(|| panic!("record {i}: wait returns"));
            assert!(r.is_ok(), "record {i}: {r:?}");
        }
    }
    let t0 = Instant::now();
    let flushed = within(Duration::from_secs(10), "flush(5 s)", {
        let p = Arc::clone(&p);
        move || p.flush_timeout(Duration::from_secs(5))
    });
    assert_eq!(flushed, Ok(()));
    assert!(t0.elapsed() < Duration::from_secs(5), "flush took {:?}", t0.elapsed());
    let panicking = callbacks.assert_each_ran_once(0..n, |i, r| assert!(r.is_ok(), "record {i}: {r:?}"));
    assert_eq!(panicking, 40);
    assert_eq!(p.counts().callback_panics, panicking);
    let report = within(Duration::from_secs(10), "close(5 s)", {
        let p = Arc::clone(&p);
        move || p.close_timeout(Duration::from_secs(5))
    });
    assert!(report.all_delivered(), "{report:?}");
    assert_eq!(report.counts.delivered, n);
    assert_eq!(report.counts.callback_panics, panicking);
    within(Duration::from_secs(5), "drop", move || drop(p));
}

/// With no broker reachable, records time out; a panicking callback of a record the timer failed
/// stops neither the timer nor the callback thread: the other records of the same pass are
/// reported, records sent afterwards time out too, and `close_timeout` returns in time.
#[test]
fn callback_panic_on_timeout_keeps_the_timer_running() {
    within(Duration::from_secs(60), "the test", panicking_callbacks_among_timeouts);
}

fn panicking_callbacks_among_timeouts() {
    let p = Arc::new(Producer::new(short_config("127.0.0.1:1")).unwrap());
    let callbacks = PanickyCallbacks::new(20, 2, 5);
    let timed_out = |i, r: idem_std::DeliveryResult| {
        assert_eq!(r.map_err(|f| (f.error, f.persisted)), Err((DeliveryError::Timeout, Persisted::No)), "record {i}");
    };
    // Two waves, the second sent after the first timed out (its panic included).
    let mut panicking = 0;
    for wave in [0..10, 10..20] {
        for (i, h) in send_some(&p, &callbacks, wave.clone()) {
            timed_out(i, h.wait_timeout(Duration::from_secs(5)).unwrap_or_else(|| panic!("record {i}: wait returns")));
        }
        // The callbacks run on the callback thread, after the handles may have returned.
        assert!(eventually(Duration::from_secs(5), || callbacks.all_ran(wave.clone())), "callbacks run");
        panicking += callbacks.assert_each_ran_once(wave, timed_out);
    }
    assert_eq!(panicking, 2); // records 0 and 10, one in each wave
    let t0 = Instant::now();
    let report = within(Duration::from_secs(5), "close(1 s)", {
        let p = Arc::clone(&p);
        move || p.close_timeout(Duration::from_secs(1))
    });
    assert!(t0.elapsed() < Duration::from_secs(2), "close took {:?}", t0.elapsed());
    assert_eq!((report.counts.failed, report.counts.delivered), (20, 0));
    assert_eq!(report.counts.callback_panics, panicking);
}

/// Callbacks that never panic (records from 1 on), every third record sent with a handle.
fn calm_callbacks(n: u64) -> PanickyCallbacks {
    PanickyCallbacks::new(n as usize, 3, u64::MAX)
}

/// Every handle's record is delivered (its wait returns).
fn assert_delivered(handles: Vec<(u64, DeliveryHandle)>) {
    for (i, h) in handles {
        let r = h.wait_timeout(Duration::from_secs(5)).unwrap_or_else(|| panic!("record {i}: wait returns"));
        assert!(r.is_ok(), "record {i}: {r:?}");
    }
}

/// A cluster and a producer whose record 0 has a callback that blocks on the gate returned (it
/// has started blocking), then records `1..n` sent with `callbacks` (their handles returned).
fn blocked_at_record_0(
    n: u64,
) -> (idem_mock::MockCluster, Arc<Producer>, PanickyCallbacks, Gate, Vec<(u64, DeliveryHandle)>) {
    let cluster = idem_cluster(1, "t", 1, "");
    let p = Arc::new(Producer::new(test_config(&cluster.bootstrap_servers(), 5000)).unwrap());
    let (gate, blocking) = Gate::new();
    p.send_with_callback(&Record::new("t").value(&value_of(0)), blocking).unwrap();
    assert!(gate.entered(Duration::from_secs(5)), "record 0's callback runs");
    let callbacks = calm_callbacks(n);
    let handles = send_some(&p, &callbacks, 1..n);
    (cluster, p, callbacks, gate, handles)
}

/// A callback that blocks delays only the callbacks after it: the handles of the other records
/// return, the records are delivered, and `close_timeout` returns by its timeout (as the Java
/// client's `KafkaProducer.close(Duration)`, which force-closes when the timeout passes).
#[test]
fn blocked_callback_delays_only_callbacks() {
    within(Duration::from_secs(60), "the test", blocked_callback_then_close);
}

fn blocked_callback_then_close() {
    let n = 300;
    let (cluster, p, callbacks, gate, handles) = blocked_at_record_0(n);
    assert_delivered(handles);
    let timeout = Duration::from_millis(500);
    let t0 = Instant::now();
    let report = within(Duration::from_secs(10), "close(500 ms)", {
        let p = Arc::clone(&p);
        move || p.close_timeout(timeout)
    });
    assert_closed_past_a_blocked_callback(t0.elapsed(), timeout, &report, &cluster, &callbacks, gate, n);
    within(Duration::from_secs(5), "drop", move || drop(p));
}

/// A callback may flush and close its own producer: `flush` waits for the reports (not for the
/// callbacks, which would wait for itself) and returns by its timeout, and so does `close`.
#[test]
fn callback_flushes_and_closes_its_own_producer() {
    within(Duration::from_secs(60), "the test", flush_and_close_from_a_callback);
}

fn flush_and_close_from_a_callback() {
    let timeout = Duration::from_secs(1);
    let own = CallbackFlushesAndCloses::<Std>::start(timeout, |p, t| p.flush_timeout(t), |p, t| p.close_timeout(t));
    let (p, n) = (Arc::clone(&own.producer), 300);
    let callbacks = calm_callbacks(n);
    let handles = send_some(&p, &callbacks, 1..n);
    let report = own.go(n);
    assert_delivered(handles);
    assert!(eventually(Duration::from_secs(5), || callbacks.all_ran(1..n)));
    assert_eq!(within(Duration::from_secs(5), "close again", move || p.close_timeout(timeout)), report);
}

/// `flush_timeout` returns by its timeout when a callback blocks, saying the records are
/// reported and their callbacks are not all run; once the callback returns, `flush` succeeds.
#[test]
fn flush_returns_by_its_timeout_when_a_callback_blocks() {
    within(Duration::from_secs(60), "the test", blocked_callback_then_flush);
}

fn blocked_callback_then_flush() {
    let n = 300;
    let (_cluster, p, callbacks, gate, handles) = blocked_at_record_0(n);
    let timeout = Duration::from_millis(500);
    let t0 = Instant::now();
    let flushed = within(Duration::from_secs(10), "flush(500 ms)", {
        let p = Arc::clone(&p);
        move || p.flush_timeout(timeout)
    });
    assert!(t0.elapsed() < timeout + SLACK, "flush took {:?}", t0.elapsed());
    assert!(matches!(flushed, Err(FlushTimeout { pending: 0, callbacks_pending: 1.. })), "{flushed:?}");
    assert_delivered(handles);
    gate.release();
    assert_eq!(p.flush_timeout(Duration::from_secs(5)), Ok(()));
    assert!(callbacks.all_ran(1..n));
    assert!(p.close_timeout(Duration::from_secs(1)).all_delivered());
}
