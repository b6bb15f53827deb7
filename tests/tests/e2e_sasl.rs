//! End to end over real TCP and SASL_PLAINTEXT: the blocking runtime (idem-std) against idem's
//! MockCluster requiring SASL, with faults and a session lifetime short enough that every
//! connection re-authenticates (KIP-368); and a wrong password over TCP.
#![allow(clippy::unwrap_used)]

mod e2e_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use e2e_common::{Collector, check, read_idem_log, send_until_fatal, test_config, value_of};
use idem_core::broker::{FaultSpec, SaslServerConfig, SaslUser, TopicConfig};
use idem_core::producer::AuthenticationFailure;
use idem_core::proto::ErrorCode;
use idem_core::sasl::Mechanism;
use idem_mock::{MockCluster, MockClusterConfig};
use idem_std::{DeliveryError, FatalError, OAuthBearerToken, Persisted, Producer, Record};

const PASSWORD: &str = "e2e-pa55word";

fn sasl_cluster(faults: &str, lifetime: Option<Duration>) -> MockCluster {
    let mut config = MockClusterConfig { brokers: 3, ..Default::default() };
    config.cluster.topics.push(TopicConfig { name: "t".into(), partitions: 4 });
    config.cluster.faults = FaultSpec::parse(faults).unwrap();
    config.cluster.seed = 11;
    config.cluster.sasl = Some(SaslServerConfig {
        mechanisms: Mechanism::ALL.to_vec(),
        users: vec![SaslUser::new("alice", PASSWORD)],
        session_lifetime: lifetime.map(|d| idem_core::Duration::from_millis(d.as_millis() as u64)),
    });
    MockCluster::start(config).unwrap()
}

fn sasl_config(bootstrap: &str, mechanism: Mechanism, password: &str) -> idem_std::Config {
    let mut c = test_config(bootstrap, 8000);
    c.set("batch.size", "1024").unwrap();
    c.set("security.protocol", "SASL_PLAINTEXT").unwrap();
    c.set("sasl.mechanism", mechanism.name()).unwrap();
    c.set("sasl.username", "alice").unwrap();
    c.set("sasl.password", password).unwrap();
    c
}

#[test]
fn every_mechanism_with_faults_and_reauthentication_exactly_once_in_order() {
    let faults = "append_drop=0.03,error_before=REQUEST_TIMED_OUT:0.02,error_before=NOT_LEADER_OR_FOLLOWER:0.02,\
                  delay=0..3ms,leader_move=300ms";
    for mechanism in Mechanism::ALL {
        let cluster = sasl_cluster(faults, Some(Duration::from_millis(1000)));
        let mut config = sasl_config(&cluster.bootstrap_servers(), mechanism, PASSWORD);
        // OAUTHBEARER through the provider, with tokens short-lived enough to be refreshed.
        let provided = Arc::new(AtomicU64::new(0));
        if mechanism == Mechanism::OAuthBearer {
            let provided = Arc::clone(&provided);
            config = config.with_oauthbearer_token_provider(move || {
                let n = provided.fetch_add(1, Ordering::SeqCst);
                Ok(OAuthBearerToken { value: format!("token-{n}"), lifetime: Duration::from_millis(500) })
            });
        }
        assert!(!format!("{config:?}").contains(PASSWORD), "the runtime's Config shows no password");
        let n = 3000u64;
        let collector = Collector::new(n as usize);
        let p = Producer::new(config).unwrap();
        for i in 0..n {
            let v = value_of(i);
            let key = (i % 97).to_be_bytes();
            p.send_with_callback(&Record::new("t").key(&key).value(&v), collector.callback(i)).unwrap();
            if i % 20 == 0 {
                std::thread::sleep(Duration::from_millis(2)); // spread over ~0.3 s of faults and sessions
            }
        }
        p.flush_timeout(Duration::from_secs(10)).unwrap();
        // Keep the connections open past two session lifetimes: they re-authenticate.
        std::thread::sleep(Duration::from_millis(2200));
        let report = p.close_timeout(Duration::from_secs(5));
        let metrics = p.metrics();
        let stats = cluster.stats();
        cluster.set_faults(Default::default());
        let o = check(&collector.take(), &read_idem_log(&cluster, "t", 4), true);
        assert_eq!(report.counts.delivered, n, "{mechanism}: {o:?}");
        assert!(stats.sasl_reauthentications > 0, "{mechanism}: {stats:?}");
        assert!(metrics.successful_reauthentications > 0, "{mechanism}: {metrics:?}");
        assert!(stats.sasl_reauthentications >= metrics.successful_reauthentications);
        // (A re-authentication the timer thread starts too late on a loaded machine ends in the
        // broker closing the connection, `sasl_refused`: a disconnect like any other, still
        // exactly once; the deterministic run in producer_cluster.rs asserts none happen.)
        assert_eq!(stats.sasl_failures, 0, "{mechanism}: {stats:?}");
        if mechanism == Mechanism::OAuthBearer {
            assert!(provided.load(Ordering::SeqCst) >= 2, "the provider was asked again");
        }
        eprintln!("{mechanism}: {o:?} {stats:?}");
    }
}

#[test]
fn wrong_password_fails_every_record_once_without_retrying() {
    let cluster = sasl_cluster("", None);
    let p = Producer::new(sasl_config(&cluster.bootstrap_servers(), Mechanism::ScramSha512, "wrong")).unwrap();
    // The producer may stop while records are still being sent: the rest are refused.
    let (handles, _) = send_until_fatal(&p, 20);
    for h in handles {
        let f = h.wait_timeout(Duration::from_secs(5)).expect("reported").expect_err("not delivered");
        assert_eq!(f.persisted, Persisted::No);
        let DeliveryError::Fatal(FatalError::Authentication { failure, .. }) = f.error else { panic!("{f}") };
        assert_eq!(failure, AuthenticationFailure::Refused(ErrorCode::SASL_AUTHENTICATION_FAILED));
        assert!(f.to_string().contains("SASL authentication failed"), "{f}");
    }
    std::thread::sleep(Duration::from_millis(300));
    let stats = cluster.stats();
    assert_eq!((stats.sasl_failures, stats.sasl_authentications), (1, 0), "one attempt, no retry storm");
    assert_eq!(p.metrics().connections_created, 1);
}
