//! The transactional producer (idem-std) against librdkafka's mock cluster, a Kafka
//! implementation no one here wrote, with its own transaction coordinator (FindCoordinator,
//! InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn, each checking
//! the producer id and epoch). Read back with librdkafka's consumer in `read_committed` mode:
//! exactly the committed records are read, once, in order.
//!
//! That mock (librdkafka 2.12.1, `rdkafka_mock_handlers.c`) writes no transaction markers: its
//! EndTxn only checks the producer id and epoch, and its Fetch answers no aborted transactions
//! and a last stable offset equal to the high watermark. So records written and then aborted
//! would be read by a `read_committed` consumer there; the aborted transactions here abort
//! records not sent yet (a long `linger.ms`: `commit_transaction` seals the batches itself),
//! which the abort fails and which must never reach the log. Aborts of written records are
//! checked against idem's broker (`e2e_txn.rs`), which writes markers as Kafka does.
#![allow(clippy::unwrap_used)]

mod e2e_common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use e2e_common::{by_partition, commit_with_offsets, index_of, test_config, transactional};
use idem_std::{Config, DeliveryError, DeliveryHandle, Producer, TxnOffset};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::mocking::MockCluster;
use rdkafka::{Offset, TopicPartitionList};

const PARTITIONS: i32 = 4;
const WAIT: Duration = Duration::from_secs(20);

type Mock = MockCluster<'static, rdkafka::producer::DefaultProducerContext>;

fn mock() -> Mock {
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic("t", PARTITIONS, 3).unwrap();
    cluster
}

fn txn_config(bootstrap: &str, id: &str) -> Config {
    let config = test_config(bootstrap, 90_000).with("linger.ms", "60000").unwrap().with("batch.size", "1000000");
    transactional(config.unwrap(), id)
}

fn send_range(p: &Producer, range: std::ops::Range<u64>) -> Vec<DeliveryHandle> {
    e2e_common::send_range(p, range, PARTITIONS)
}

/// What librdkafka's consumer with `isolation.level` reads of topic "t", per partition: the
/// record indexes in offset order, read until every partition reported its end (for
/// `read_committed`, the last stable offset) with at least `at_least` records in all.
fn consume(bootstrap: &str, isolation: &str, at_least: usize) -> BTreeMap<i32, Vec<u64>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "idem-txn-reader")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("isolation.level", isolation)
        .set("fetch.wait.max.ms", "100")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        tpl.add_partition_offset("t", p, Offset::Beginning).unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut got: BTreeMap<i32, Vec<u64>> = (0..PARTITIONS).map(|p| (p, Vec::new())).collect();
    let mut eof = [false; PARTITIONS as usize];
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(eof.iter().all(|e| *e) && got.values().map(Vec::len).sum::<usize>() >= at_least) {
        assert!(Instant::now() < deadline, "consumer timed out: {got:?}, ends {eof:?}");
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                got.get_mut(&m.partition()).unwrap().push(index_of(m.payload().unwrap()));
                eof[m.partition() as usize] = false;
            }
            Some(Err(KafkaError::PartitionEOF(p))) => eof[p as usize] = true,
            Some(Err(e)) => eprintln!("consumer: {e}"),
            None => {}
        }
    }
    got
}

#[test]
fn std_commits_and_aborts_against_librdkafkas_mock_and_read_committed_reads_exactly_the_committed() {
    let cluster = mock();
    let bootstrap = cluster.bootstrap_servers();
    let p = Producer::new(txn_config(&bootstrap, "idem-on-librdkafka")).unwrap();
    p.init_transactions(WAIT).unwrap();

    p.begin_transaction().unwrap();
    let first = send_range(&p, 0..200);
    p.commit_transaction(WAIT).unwrap();
    let results: Vec<_> = first.iter().map(DeliveryHandle::try_result).collect();
    assert!(results.iter().all(|r| r.is_some_and(|r| r.is_ok())), "{results:?}");

    p.begin_transaction().unwrap();
    let aborted = send_range(&p, 200..400);
    p.abort_transaction(WAIT).unwrap();
    let results: Vec<_> = aborted.iter().map(DeliveryHandle::try_result).collect();
    let aborted_error = Some(DeliveryError::TransactionAborted);
    assert!(results.iter().all(|r| r.and_then(|r| r.err()).map(|f| f.error) == aborted_error), "{results:?}");

    let offsets = [TxnOffset { topic: "t", partition: 0, offset: 50 }];
    commit_with_offsets(&p, 400..500, PARTITIONS, &offsets, "idem-txn-group");
    let report = p.close_timeout(WAIT);
    assert!(report.fatal.is_none(), "{report:?}");
    assert_eq!((report.counts.delivered, report.counts.failed), (300, 200), "{report:?}");

    assert_eq!(consume(&bootstrap, "read_committed", 300), by_partition(&[0..200, 400..500], PARTITIONS));
    let all = consume(&bootstrap, "read_uncommitted", 300);
    assert_eq!(all, by_partition(&[0..200, 400..500], PARTITIONS), "the aborted records never reached the log");
}
