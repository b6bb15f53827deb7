//! End to end over real TCP: the async runtime (idem-smol) against idem's MockCluster with
//! faults, and bad inputs. Same checks as e2e_std.
#![allow(clippy::unwrap_used)]

mod e2e_common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use e2e_common::{
    CallbackFlushesAndCloses, Collector, Gate, PanickyCallbacks, SLACK, assert_closed_past_a_blocked_callback, check,
    eventually, faulty_cluster, idem_cluster, read_idem_log, slow_cluster, test_config, value_of,
};
use idem_smol::{DeliveryError, DeliveryHandle, FlushTimeout, Persisted, Producer, Record, SendError, Smol};
use smol::Timer;
use smol::future::FutureExt as _;

#[test]
fn faults_many_tasks_exactly_once_in_order() {
    let t0 = Instant::now();
    let (cluster, config) = faulty_cluster();
    let (tasks, per_task) = (4u64, 2500u64);
    let collector = Collector::new((tasks * per_task) as usize);
    let on_delivery = collector.clone();
    let p = Arc::new(Producer::new(config.on_delivery(move |i, r| on_delivery.callback(i)(r))).unwrap());
    smol::block_on(async {
        let mut joins = Vec::new();
        for t in 0..tasks {
            let (p, collector) = (Arc::clone(&p), collector.clone());
            joins.push(smol::spawn(async move {
                let mut handles = Vec::new();
                for j in 0..per_task {
                    let i = t * per_task + j;
                    let v = value_of(i);
                    let key = (i % 97).to_be_bytes();
                    let rec = Record::new("t").key(&key).value(&v);
                    if j % 25 == 0 {
                        Timer::after(Duration::from_millis(2)).await;
                    }
                    match i % 3 {
                        0 => handles.push((i, p.send(&rec).await.unwrap())),
                        1 => drop(p.send_with_callback(&rec, collector.callback(i)).await.unwrap()),
                        _ => drop(p.send_with_opaque(&rec, i).await.unwrap()),
                    }
                }
                for (i, h) in handles {
                    collector.callback(i)(h.await);
                }
            }));
        }
        for j in joins {
            j.await;
        }
        p.flush().await;
        let report = p.close().await;
        assert_eq!(report.counts.delivered + report.counts.failed, tasks * per_task);
    });
    let reports = collector.take();
    cluster.set_faults(Default::default());
    let o = check(&reports, &read_idem_log(&cluster, "t", 4), true);
    assert!(o.delivered > 9_000, "{o:?}");
    let m = p.metrics();
    assert!(m.retries > 10, "faults fired: {m:?}");
    eprintln!("{o:?}\n{m:?}\nin {:?}", t0.elapsed());
}

#[test]
fn close_while_sends_are_pending_reports_everything() {
    let n = 500u64;
    let (cluster, p, collector) = slow_cluster::<Smol>(n);
    smol::block_on(async {
        for i in 0..n {
            let v = value_of(i);
            p.send_with_callback(&Record::new("t").partition((i % 2) as i32).value(&v), collector.callback(i))
                .await
                .unwrap();
            if i == 10 {
                p.flush().await;
            }
            if i % 50 == 0 {
                Timer::after(Duration::from_millis(5)).await;
            }
        }
        let t0 = Instant::now();
        let report = p.close_timeout(Duration::from_millis(50)).await;
        assert!(t0.elapsed() < Duration::from_secs(1));
        assert_eq!(report.counts.delivered + report.counts.failed, n);
        assert!(report.counts.aborted > 0 && report.counts.possibly_persisted > 0, "{report:?}");
        assert_eq!(p.send(&Record::new("t").value(b"late")).await.err(), Some(SendError::Closed));
        Timer::after(Duration::from_millis(400)).await;
    });
    cluster.set_faults(Default::default());
    let o = check(&collector.take(), &read_idem_log(&cluster, "t", 2), true);
    assert!(o.failed_possibly > 0);
}

#[test]
fn unreachable_bootstrap_times_out_and_try_send_reports_full_buffer() {
    let mut c = test_config("127.0.0.1:1", 1500);
    for (k, v) in
        [("request.timeout.ms", "500"), ("buffer.memory", "20000"), ("batch.size", "4000"), ("max.block.ms", "100")]
    {
        c.set(k, v).unwrap();
    }
    let p = Producer::new(c).unwrap();
    smol::block_on(async {
        let v = vec![0u8; 1000];
        let mut handles = Vec::new();
        loop {
            match p.try_send(&Record::new("t").value(&v)) {
                Ok(h) => handles.push(h),
                Err(SendError::QueueFull) => break,
                Err(e) => panic!("{e}"),
            }
            assert!(handles.len() < 100);
        }
        let t0 = Instant::now();
        assert_eq!(p.send(&Record::new("t").value(&v)).await.err(), Some(SendError::QueueFull));
        assert!(t0.elapsed() >= Duration::from_millis(90));
        for h in handles {
            let f = h.await.unwrap_err();
            assert_eq!((f.error, f.persisted), (DeliveryError::Timeout, Persisted::No));
        }
        let report = p.close().await;
        assert_eq!(report.counts.delivered, 0);
        assert!(report.counts.failed > 0);
    });
}

#[test]
fn dropping_the_producer_still_reports_every_record() {
    let cluster = idem_cluster(1, "t", 1, "delay=50..60ms");
    let collector = Collector::new(100);
    smol::block_on(async {
        let p = Producer::new(test_config(&cluster.bootstrap_servers(), 5000)).unwrap();
        for i in 0..100u64 {
            let v = value_of(i);
            p.send_with_callback(&Record::new("t").value(&v), collector.callback(i)).await.unwrap();
        }
        drop(p);
        let t0 = Instant::now();
        while collector.take().iter().any(Option::is_none) {
            assert!(t0.elapsed() < Duration::from_secs(5), "reports after drop");
            Timer::after(Duration::from_millis(10)).await;
        }
    });
    let o = check(&collector.take(), &read_idem_log(&cluster, "t", 1), true);
    assert_eq!(o.delivered, 100);
}

/// Awaits `f`; panics if it is not ready within `limit`, so that a hang fails the test instead
/// of stalling it.
async fn within<T>(limit: Duration, what: &str, f: impl Future<Output = T>) -> T {
    f.or(async {
        Timer::after(limit).await;
        panic!("{what}: not ready after {limit:?}")
    })
    .await
}

/// Sends records `records` (value: the index), each with a handle or a callback as `callbacks`
/// says; returns the handles with their records' indices.
async fn send_some(
    p: &Producer,
    callbacks: &PanickyCallbacks,
    records: std::ops::Range<u64>,
) -> Vec<(u64, DeliveryHandle)> {
    let mut handles = Vec::new();
    for i in records {
        let v = value_of(i);
        let rec = Record::new("t").value(&v);
        if callbacks.uses_handle(i) {
            handles.push((i, p.send(&rec).await.unwrap()));
        } else {
            p.send_with_callback(&rec, callbacks.callback(i)).await.unwrap();
        }
    }
    handles
}

/// A delivery callback that panics costs only itself (as in the Java client, which catches a
/// callback's exception in `ProducerBatch.completeFutureAndFireCallbacks` and carries on): every
/// other record still gets its one report, the callback thread that ran it runs the next ones,
/// `flush` and `close_timeout` return, and the panic is counted.
#[test]
fn callback_panic_costs_only_itself() {
    let cluster = idem_cluster(1, "t", 1, "");
    let mut config = test_config(&cluster.bootstrap_servers(), 5000);
    // Every record of a wave in one batch: its reports are queued together, record 0's
    // panicking callback first.
    config.set("linger.ms", "50").unwrap();
    let p = Producer::new(config).unwrap();
    let n = 420;
    let callbacks = PanickyCallbacks::new(n as usize, 3, 7);
    smol::block_on(async {
        // The second wave needs the callback thread that ran the first wave's panics.
        for wave in [0..n / 2, n / 2..n] {
            for (i, h) in send_some(&p, &callbacks, wave).await {
                let r = within(Duration::from_secs(5), "a handle", h).await;
                assert!(r.is_ok(), "record {i}: {r:?}");
            }
        }
        within(Duration::from_secs(5), "flush", p.flush()).await;
        let panicking = callbacks.assert_each_ran_once(0..n, |i, r| assert!(r.is_ok(), "record {i}: {r:?}"));
        assert_eq!(panicking, 40);
        assert_eq!(p.counts().callback_panics, panicking);
        let t0 = Instant::now();
        let report =
            within(Duration::from_secs(10), "close_timeout(5 s)", p.close_timeout(Duration::from_secs(5))).await;
        assert!(t0.elapsed() < Duration::from_secs(5), "close took {:?}", t0.elapsed());
        assert_eq!(report.counts.delivered, n);
        assert_eq!(report.counts.callback_panics, panicking);
    });
}

/// With no broker reachable, records time out; a panicking callback of a record the timer task
/// failed stops neither the timer task nor the callback thread: the other records of the same
/// pass are reported, records sent afterwards time out too, and `close_timeout` returns in time.
#[test]
fn callback_panic_on_timeout_keeps_the_timer_running() {
    let mut c = test_config("127.0.0.1:1", 1500);
    c.set("request.timeout.ms", "500").unwrap();
    let p = Producer::new(c).unwrap();
    let callbacks = PanickyCallbacks::new(20, 2, 5);
    let timed_out = |i, r: idem_smol::DeliveryResult| {
        assert_eq!(r.map_err(|f| (f.error, f.persisted)), Err((DeliveryError::Timeout, Persisted::No)), "record {i}");
    };
    smol::block_on(async {
        // Two waves, the second sent after the first timed out (its panic included).
        let mut panicking = 0;
        for wave in [0..10, 10..20] {
            for (i, h) in send_some(&p, &callbacks, wave.clone()).await {
                timed_out(i, within(Duration::from_secs(5), "a handle", h).await);
            }
            // The callbacks run on the callback thread, after the handles may have returned.
            assert!(eventually(Duration::from_secs(5), || callbacks.all_ran(wave.clone())), "callbacks run");
            panicking += callbacks.assert_each_ran_once(wave, timed_out);
        }
        assert_eq!(panicking, 2); // records 0 and 10, one in each wave
        let t0 = Instant::now();
        let report =
            within(Duration::from_secs(5), "close_timeout(1 s)", p.close_timeout(Duration::from_secs(1))).await;
        assert!(t0.elapsed() < Duration::from_secs(2), "close took {:?}", t0.elapsed());
        assert_eq!((report.counts.failed, report.counts.delivered), (20, 0));
        assert_eq!(report.counts.callback_panics, panicking);
    });
}

/// Callbacks that never panic (records from 1 on), every third record sent with a handle.
fn calm_callbacks(n: u64) -> PanickyCallbacks {
    PanickyCallbacks::new(n as usize, 3, u64::MAX)
}

/// Every handle's record is delivered (awaiting it returns).
async fn assert_delivered(handles: Vec<(u64, DeliveryHandle)>) {
    for (i, h) in handles {
        let r = within(Duration::from_secs(5), "a handle", h).await;
        assert!(r.is_ok(), "record {i}: {r:?}");
    }
}

/// A cluster and a producer whose record 0 has a callback that blocks on the gate returned (it
/// has started blocking), then records `1..n` sent with `callbacks` (their handles returned).
async fn blocked_at_record_0(
    n: u64,
) -> (idem_mock::MockCluster, Producer, PanickyCallbacks, Gate, Vec<(u64, DeliveryHandle)>) {
    let cluster = idem_cluster(1, "t", 1, "");
    let p = Producer::new(test_config(&cluster.bootstrap_servers(), 5000)).unwrap();
    let (gate, blocking) = Gate::new();
    p.send_with_callback(&Record::new("t").value(&value_of(0)), blocking).await.unwrap();
    assert!(gate.entered(Duration::from_secs(5)), "record 0's callback runs");
    let callbacks = calm_callbacks(n);
    let handles = send_some(&p, &callbacks, 1..n).await;
    (cluster, p, callbacks, gate, handles)
}

/// A callback that blocks delays only the callbacks after it: the handles of the other records
/// are ready, the records are delivered, and `close_timeout` returns by its timeout (as the Java
/// client's `KafkaProducer.close(Duration)`, which force-closes when the timeout passes). The
/// test runs on a thread of its own, bounded as a whole, since a callback blocking an executor
/// thread could stall every task.
#[test]
fn blocked_callback_delays_only_callbacks() {
    e2e_common::within(Duration::from_secs(60), "the test", || smol::block_on(blocked_callback_then_close()));
}

async fn blocked_callback_then_close() {
    let n = 300;
    let (cluster, p, callbacks, gate, handles) = blocked_at_record_0(n).await;
    assert_delivered(handles).await;
    let timeout = Duration::from_millis(500);
    let t0 = Instant::now();
    let report = within(Duration::from_secs(10), "close_timeout(500 ms)", p.close_timeout(timeout)).await;
    assert_closed_past_a_blocked_callback(t0.elapsed(), timeout, &report, &cluster, &callbacks, gate, n);
}

/// A callback may flush and close its own producer (blocking on the futures): `flush_timeout`
/// waits for the reports (not for the callbacks, which would wait for itself) and returns by its
/// timeout, and so does `close_timeout`.
#[test]
fn callback_flushes_and_closes_its_own_producer() {
    e2e_common::within(Duration::from_secs(60), "the test", || smol::block_on(flush_and_close_from_a_callback()));
}

async fn flush_and_close_from_a_callback() {
    let timeout = Duration::from_secs(1);
    let own = CallbackFlushesAndCloses::<Smol>::start(
        timeout,
        |p, t| smol::block_on(p.flush_timeout(t)),
        |p, t| smol::block_on(p.close_timeout(t)),
    );
    let (p, n) = (Arc::clone(&own.producer), 300);
    let callbacks = calm_callbacks(n);
    let handles = send_some(&p, &callbacks, 1..n).await;
    let report = own.go(n);
    assert_delivered(handles).await;
    assert!(eventually(Duration::from_secs(5), || callbacks.all_ran(1..n)));
    assert_eq!(within(Duration::from_secs(5), "close again", p.close_timeout(timeout)).await, report);
}

/// `flush_timeout` returns by its timeout when a callback blocks, saying the records are
/// reported and their callbacks are not all run; once the callback returns, `flush` succeeds.
#[test]
fn flush_returns_by_its_timeout_when_a_callback_blocks() {
    e2e_common::within(Duration::from_secs(60), "the test", || smol::block_on(blocked_callback_then_flush()));
}

async fn blocked_callback_then_flush() {
    let n = 300;
    let (_cluster, p, callbacks, gate, handles) = blocked_at_record_0(n).await;
    let timeout = Duration::from_millis(500);
    let t0 = Instant::now();
    let flushed = within(Duration::from_secs(10), "flush_timeout(500 ms)", p.flush_timeout(timeout)).await;
    assert!(t0.elapsed() < timeout + SLACK, "flush took {:?}", t0.elapsed());
    assert!(matches!(flushed, Err(FlushTimeout { pending: 0, callbacks_pending: 1.. })), "{flushed:?}");
    assert_delivered(handles).await;
    gate.release();
    within(Duration::from_secs(5), "flush", p.flush()).await;
    assert!(callbacks.all_ran(1..n));
    assert!(within(Duration::from_secs(5), "close", p.close_timeout(Duration::from_secs(1))).await.all_delivered());
}

/// idem-smol over SASL_PLAINTEXT with SCRAM-SHA-256 (nonces from the operating system, as in
/// idem-std: the engine is shared) against a cluster requiring it, with faults: everything
/// delivered exactly once, in order.
#[test]
fn sasl_scram_under_faults_exactly_once_in_order() {
    use idem_core::broker::{SaslServerConfig, SaslUser};
    use idem_core::sasl::Mechanism;
    let mut config = idem_mock::MockClusterConfig { brokers: 2, ..Default::default() };
    config.cluster.topics.push(idem_core::broker::TopicConfig { name: "t".into(), partitions: 3 });
    config.cluster.faults =
        idem_core::broker::FaultSpec::parse("append_drop=0.03,delay=0..3ms,leader_move=200ms").unwrap();
    config.cluster.sasl = Some(SaslServerConfig {
        mechanisms: vec![Mechanism::ScramSha256],
        users: vec![SaslUser::new("smol", "smol-secret")],
        session_lifetime: None,
    });
    let cluster = idem_mock::MockCluster::start(config).unwrap();
    let mut config = test_config(&cluster.bootstrap_servers(), 8000);
    for (k, v) in [
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", "SCRAM-SHA-256"),
        ("sasl.username", "smol"),
        ("sasl.password", "smol-secret"),
    ] {
        config.set(k, v).unwrap();
    }
    let n = 1000u64;
    let collector = Collector::new(n as usize);
    let p = Producer::new(config).unwrap();
    smol::block_on(async {
        for i in 0..n {
            let v = value_of(i);
            p.send_with_callback(&Record::new("t").value(&v), collector.callback(i)).await.unwrap();
        }
        p.flush_timeout(Duration::from_secs(10)).await.unwrap();
    });
    let stats = cluster.stats();
    cluster.set_faults(Default::default());
    let o = check(&collector.take(), &read_idem_log(&cluster, "t", 3), true);
    assert_eq!(o.delivered as u64, n, "{o:?}");
    assert!(stats.sasl_authentications >= 2 && stats.sasl_failures == 0, "{stats:?}");
}
