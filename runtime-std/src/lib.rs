//! # idem-std
//!
//! The blocking runtime of idem's idempotent Kafka producer: [`Producer`] over `std::net` and
//! threads. `Send + Sync`: share it (`&Producer`, `Arc`) between any number of producer threads.
//! Waiting calls (`send`, `send_with_callback`, `flush`, `flush_timeout`, `close`,
//! `close_timeout`, and with a `transactional.id` `init_transactions`,
//! `send_offsets_to_transaction`, `commit_transaction`, `abort_transaction`) block the calling
//! thread.
//!
//! The producer, its API and its contract (reports, callbacks, `flush`, `close`, `Drop`) are
//! idem-runtime's, the same as idem-smol's: see [`idem_runtime`] and
//! [`idem_runtime::Producer`]. This crate is the backend ([`Std`]): one timer thread that
//! waits for the core's next deadline, and per connection a thread that connects and then reads
//! and a writer thread. The types a user names are re-exported here.
//!
//! ```no_run
//! use std::time::Duration;
//! use idem_std::{Config, Producer, Record};
//!
//! let config = Config::new("localhost:9092")?.with("linger.ms", "5")?.with("max.block.ms", "1000")?;
//! let producer = Producer::new(config)?;
//! // Blocks up to max.block.ms while buffer.memory is full; errors mean "not accepted".
//! let handle = producer.send(&Record::new("events").key(b"k").value(b"hello"))?;
//! producer.send_with_callback(&Record::new("events").value(b"again"), |report| {
//!     if let Err(failure) = report {
//!         eprintln!("{failure}"); // says whether it may be in the log anyway
//!     }
//! })?;
//! match handle.wait() {
//!     Ok(meta) => println!("partition {} offset {:?}", meta.partition, meta.offset),
//!     Err(failure) => eprintln!("{failure}"),
//! }
//! producer.flush_timeout(Duration::from_secs(10))?;
//! let report = producer.close_timeout(Duration::from_secs(10)); // then fails what is left
//! assert!(report.all_delivered());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Transactions (KIP-98), as the Java client's `KafkaProducer`: each call blocks up to its
//! timeout; a timed-out call is retriable and, called again, waits for the same operation.
//!
//! ```no_run
//! use std::time::Duration;
//! use idem_std::{Config, Producer, Record};
//!
//! let t = Duration::from_secs(30);
//! let producer = Producer::new(Config::new("localhost:9092")?.with("transactional.id", "orders-1")?)?;
//! producer.init_transactions(t)?; // fences older producers with the same id
//! producer.begin_transaction()?;
//! producer.send(&Record::new("orders").value(b"paid"))?;
//! if let Err(e) = producer.commit_transaction(t) {
//!     if !e.is_abortable() {
//!         return Err(e.into()); // fenced or closed: drop the producer
//!     }
//!     producer.abort_transaction(t)?;
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod conn;
pub mod consumer;
mod threads;

pub use idem_runtime::prelude::*;
pub use threads::Std;

/// The blocking idempotent producer: [`idem_runtime::Producer`] on threads (see there for every
/// method). Waiting calls block the calling thread.
///
/// ```no_run
/// use idem_std::{Config, Producer, Record};
///
/// let producer = Producer::new(Config::new("localhost:9092")?)?;
/// let report = producer.send(&Record::new("events").value(b"hello"))?.wait();
/// println!("{report:?}");
/// producer.close();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Producer = idem_runtime::Producer<Std>;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn producer_is_send_and_sync() {
        assert_send_sync::<Producer>();
        assert_send_sync::<DeliveryHandle>();
    }

    #[test]
    fn refused_records_get_errors_and_close_is_clean() {
        let config = Config::new("127.0.0.1:1").unwrap().with("message.max.bytes", "1000").unwrap();
        let p = Producer::new(config).unwrap();
        let big = vec![0u8; 2000];
        assert!(matches!(p.send(&Record::new("t").value(&big)), Err(SendError::RecordTooLarge { .. })));
        assert_eq!(p.send(&Record::new("").value(b"x")).err(), Some(SendError::InvalidTopic));
        let r = p.close_timeout(Duration::from_secs(1));
        assert_eq!(r.counts, ReportCounts::default());
        assert_eq!(p.send(&Record::new("t").value(b"x")).err(), Some(SendError::Closed));
    }

    /// Dropping never waits: the records are still reported afterwards, by the producer's own
    /// threads, within `delivery.timeout.ms`.
    #[test]
    fn drop_closes_in_the_background() {
        let config = Config::from_pairs([
            ("bootstrap.servers", "127.0.0.1:1"),
            ("request.timeout.ms", "300"),
            ("delivery.timeout.ms", "800"),
            ("linger.ms", "0"),
        ])
        .unwrap();
        let p = Producer::new(config).unwrap();
        let handles: Vec<_> = (0..3u8).map(|i| p.send(&Record::new("t").value(&[i])).unwrap()).collect();
        let t0 = std::time::Instant::now();
        drop(p);
        assert!(t0.elapsed() < Duration::from_millis(500), "drop waited {:?}", t0.elapsed());
        for h in handles {
            let failure = h.wait_timeout(Duration::from_secs(10)).expect("reported after the drop").unwrap_err();
            assert_eq!(failure.persisted, Persisted::No, "{failure}");
        }
    }

    /// `send_many` stops at a refused record and says how many were accepted before it; the
    /// accepted ones are counted (not handed to anyone) and a refused one is not.
    #[test]
    fn send_many_stops_at_a_refused_record() {
        let config = Config::from_pairs([
            ("bootstrap.servers", "127.0.0.1:1"),
            ("message.max.bytes", "1000"),
            ("request.timeout.ms", "300"),
            ("delivery.timeout.ms", "800"),
        ])
        .unwrap();
        let p = Producer::new(config).unwrap();
        let big = vec![0u8; 2000];
        let records = [Record::new("t").value(b"a"), Record::new("t").value(&big), Record::new("t").value(b"c")];
        let e = p.send_many(&records).unwrap_err();
        assert_eq!(e.accepted, 1);
        assert!(matches!(e.error, SendError::RecordTooLarge { .. }), "{e}");
        assert_eq!(p.send_many(&records[2..]), Ok(()));
        assert_eq!(p.send_many(&[]), Ok(()));
        let r = p.close_timeout(Duration::from_secs(5));
        assert_eq!((r.counts.delivered, r.counts.failed), (0, 2), "{r:?}");
        assert!(p.first_failure().is_some());
        assert_eq!(p.send_many(&records).unwrap_err(), SendManyError { accepted: 0, error: SendError::Closed });
    }

    /// `send_many` delivers every record, waiting for buffer space as `send` does (a buffer of a
    /// few batches, many more records), and `flush` waits for their reports.
    #[test]
    fn send_many_delivers_through_a_small_buffer() {
        use idem_core::broker::TopicConfig;
        use idem_mock::{MockCluster, MockClusterConfig};

        let mut cc = MockClusterConfig { brokers: 2, ..Default::default() };
        cc.cluster.topics.push(TopicConfig { name: "many".into(), partitions: 3 });
        let cluster = MockCluster::start(cc).unwrap();
        let config = Config::new(&cluster.bootstrap_servers())
            .unwrap()
            .with("batch.size", "4096")
            .unwrap()
            .with("buffer.memory", "65536")
            .unwrap();
        let p = Producer::new(config).unwrap();
        let values: Vec<[u8; 8]> = (0..20_000u64).map(u64::to_be_bytes).collect();
        let records: Vec<Record> = values.iter().map(|v| Record::new("many").value(v)).collect();
        assert_eq!(p.send_many(&records), Ok(()));
        p.flush();
        assert_eq!(p.counts().delivered, 20_000);
        let r = p.close_timeout(Duration::from_secs(10));
        assert!(r.all_delivered(), "{r:?}");
        assert_eq!(p.first_failure(), None);
    }
}
