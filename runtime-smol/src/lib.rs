//! # idem-smol
//!
//! The async runtime of idem's idempotent Kafka producer for smol / async-io programs (no tokio
//! anywhere in the dependency graph, and neither idem-std nor its threads): [`Producer`].
//! `Send + Sync`: share it (`&Producer`, `Arc`) between tasks. Waiting calls (`send`,
//! `send_with_callback`, `flush`, `flush_timeout`, `close`, `close_timeout`, and with a
//! `transactional.id` `init_transactions`, `send_offsets_to_transaction`,
//! `commit_transaction`, `abort_transaction`) return futures ([`OpFuture`]); a
//! [`DeliveryHandle`] is itself a future of its record's report. A transactional call's future
//! dropped before it is ready is a timed-out call: the operation goes on, and the same call
//! made again waits for it.
//!
//! The producer, its API and its contract (reports, callbacks, `flush`, `close`, `Drop`) are
//! idem-runtime's, the same as idem-std's: see [`idem_runtime`] and
//! [`idem_runtime::Producer`]. This crate is the backend ([`Smol`]): connections are
//! `Async<TcpStream>`, the timer an `async_io::Timer`, and the tasks run on smol's global
//! executor. Delivery callbacks are sync closures that may block: they run on the producer's
//! callback thread (a std thread), never on an executor thread. The types a user names are
//! re-exported here.
//!
//! ```no_run
//! use idem_smol::{Config, Producer, Record};
//!
//! smol::block_on(async {
//!     let producer = Producer::new(Config::new("localhost:9092")?)?;
//!     // Waits (asynchronously) for buffer space up to max.block.ms; then a handle to await.
//!     let delivery = producer.send(&Record::new("events").value(b"hello")).await?;
//!     match delivery.await {
//!         Ok(meta) => println!("partition {} offset {:?}", meta.partition, meta.offset),
//!         Err(failure) => eprintln!("{failure}"),
//!     }
//!     producer.flush().await;
//!     let report = producer.close().await;
//!     println!("{:?}", report.counts);
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Transactions (KIP-98), the same calls awaited:
//!
//! ```no_run
//! use std::time::Duration;
//! use idem_smol::{Config, Producer, Record};
//!
//! smol::block_on(async {
//!     let t = Duration::from_secs(30);
//!     let producer = Producer::new(Config::new("localhost:9092")?.with("transactional.id", "orders-1")?)?;
//!     producer.init_transactions(t).await?;
//!     producer.begin_transaction()?;
//!     producer.send(&Record::new("orders").value(b"paid")).await?;
//!     producer.commit_transaction(t).await?;
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod conn;
mod tasks;

pub use idem_runtime::prelude::*;
pub use tasks::{OpFuture, Smol};

/// The async idempotent producer: [`idem_runtime::Producer`] on smol (see there for every
/// method). Waiting calls return futures.
///
/// ```no_run
/// use idem_smol::{Config, Producer, Record};
///
/// smol::block_on(async {
///     let producer = Producer::new(Config::new("localhost:9092")?)?;
///     let report = producer.send(&Record::new("events").value(b"hello")).await?.await;
///     println!("{report:?}");
///     producer.close().await;
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Producer = idem_runtime::Producer<Smol>;

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    fn assert_send<T: Send>(_: &T) {}

    /// The producer is shared between tasks, and its futures can be spawned on a multi-threaded
    /// executor.
    #[test]
    fn producer_and_its_futures_are_send() {
        assert_send_sync::<Producer>();
        let p = Producer::new(Config::new("127.0.0.1:1").unwrap()).unwrap();
        let record = Record::new("t").value(b"x");
        assert_send(&p.send(&record));
        let records = [record];
        assert_send(&p.send_many(&records));
        assert_send(&p.flush());
        assert_send(&p.close_timeout(std::time::Duration::ZERO));
        assert_send(&p.init_transactions(std::time::Duration::ZERO));
        let group = ConsumerGroupMetadata::new("g");
        assert_send(&p.send_offsets_to_transaction(&[], &group, std::time::Duration::ZERO));
        assert_send(&p.commit_transaction(std::time::Duration::ZERO));
        assert_send(&p.abort_transaction(std::time::Duration::ZERO));
        let report = smol::block_on(p.close_timeout(std::time::Duration::ZERO));
        assert_eq!(report.counts, ReportCounts::default());
    }
}
