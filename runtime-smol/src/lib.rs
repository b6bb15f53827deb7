//! # idem-smol
//!
//! The async runtime of idem's idempotent Kafka producer for smol / async-io programs (no tokio
//! anywhere in the dependency graph, and neither idem-std nor its threads): [`Producer`].
//! `Send + Sync`: share it (`&Producer`, `Arc`) between tasks. Waiting calls (`send`,
//! `send_with_callback`, `flush`, `flush_timeout`, `close`, `close_timeout`) return futures
//! ([`OpFuture`]); a [`DeliveryHandle`] is itself a future of its record's report.
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
#![forbid(unsafe_code)]

mod conn;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use idem_core::producer::{ConfigError, ConnId};
use idem_runtime::ops::TimerOp;
pub use idem_runtime::prelude::*;
use idem_runtime::{Driver, Listener, Operation, Runtime, Step};
use smol::Timer;

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

/// The async backend: async-io sockets and timers, tasks on smol's global executor. Waiting
/// calls return an [`OpFuture`]; the timer is a task; each connection is a task that connects
/// and then reads, and a writer task.
#[derive(Clone, Copy, Debug)]
pub struct Smol;

impl Runtime for Smol {
    type Conn = conn::Conn;
    type Wait<O: Operation> = OpFuture<O>;

    fn wait<O: Operation>(op: O) -> OpFuture<O> {
        OpFuture { op, waiting: None }
    }

    fn spawn_timer(timer: TimerOp<Smol>) -> Result<(), ConfigError> {
        smol::spawn(Smol::wait(timer)).detach();
        Ok(())
    }

    fn connect(driver: &Arc<Driver<Smol>>, conn: ConnId, host: String, port: u16) -> Option<conn::Conn> {
        Some(conn::spawn_connect(driver, conn, host, port))
    }

    fn transmit(conn: &conn::Conn, data: Vec<u8>) {
        conn.transmit(data);
    }

    fn shutdown(conn: conn::Conn) {
        conn.shutdown();
    }
}

/// A waiting producer call as a future: steps its [`Operation`] when polled, and between steps
/// waits for the step's listener or deadline (an `async_io::Timer`), whichever comes first. Its
/// output is the call's (see [`idem_runtime::Producer`]). Dropping it cancels the wait; what the
/// call already did stays done (a record accepted is still reported).
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct OpFuture<O> {
    op: O,
    /// What the last step waits for.
    waiting: Option<(Listener, Option<Timer>)>,
}

impl<O: Operation + Unpin> Future for OpFuture<O> {
    type Output = O::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<O::Output> {
        let this = self.get_mut();
        loop {
            if let Some((listener, timer)) = &mut this.waiting {
                let fired = Pin::new(listener).poll(cx).is_ready();
                let expired = timer.as_mut().is_some_and(|t| Pin::new(t).poll(cx).is_ready());
                if !fired && !expired {
                    return Poll::Pending;
                }
                this.waiting = None;
            }
            match this.op.step() {
                Step::Ready(out) => return Poll::Ready(out),
                Step::Wait { listener, deadline } => this.waiting = Some((listener, deadline.map(Timer::at))),
            }
        }
    }
}
