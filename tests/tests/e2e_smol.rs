//! End to end over real TCP: the async runtime (idem-smol) against idem's MockCluster with
//! faults, and bad inputs. Same checks as e2e_std.
#![allow(clippy::unwrap_used)]

mod e2e_common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use e2e_common::{Collector, check, faulty_cluster, idem_cluster, read_idem_log, test_config, value_of};
use idem_smol::{DeliveryError, Persisted, Producer, Record, SendError};
use smol::Timer;

#[test]
fn faults_many_tasks_exactly_once_in_order() {
    let t0 = Instant::now();
    let (cluster, config) = faulty_cluster();
    let p = Arc::new(Producer::new(config).unwrap());
    let (tasks, per_task) = (4u64, 2500u64);
    let collector = Collector::new((tasks * per_task) as usize);
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
                    if i % 2 == 0 {
                        handles.push((i, p.send(&rec).await.unwrap()));
                    } else {
                        p.send_with_callback(&rec, collector.callback(i)).await.unwrap();
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
    let cluster = idem_cluster(1, "t", 2, "delay=200..300ms");
    let p = Producer::new(test_config(&cluster.bootstrap_servers(), 5000)).unwrap();
    let n = 500u64;
    let collector = Collector::new(n as usize);
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
