//! [`Producer`]: the idempotent producer of every runtime, written once. idem-std's `Producer` is
//! `Producer<idem_std::Std>` (waiting calls block), idem-smol's is `Producer<idem_smol::Smol>`
//! (waiting calls return futures); the crate docs state the contract both keep.

use std::sync::Arc;
use std::time::{Duration, Instant};

use idem_core::producer::{
    ConfigError, ConsumerGroupMetadata, FatalError, ProducerMetrics, RecordId, SendError, TransactionState, TxnOffset,
};

use crate::config::{Config, Record};
use crate::driver::Driver;
use crate::engine::TxnStart;
use crate::ops::{CloseOp, FlushOp, FlushTimeoutOp, SendManyOp, SendOp, SendWithCallbackOp, TransactionCall};
use crate::report::{Completer, DeliveryFailure, DeliveryHandle, DeliveryResult, ReportCounts};
use crate::runtime::Runtime;
use crate::transaction::TransactionCallError;

/// What `close` reports: the outcome counts over the producer's whole life. Every accepted
/// record is counted exactly once, in `delivered` or `failed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloseReport {
    /// Reports over the producer's life.
    pub counts: ReportCounts,
    /// The fatal error the producer stopped on, if any.
    pub fatal: Option<FatalError>,
}

impl CloseReport {
    /// Whether every accepted record was delivered.
    pub fn all_delivered(&self) -> bool {
        self.counts.failed == 0 && self.fatal.is_none()
    }
}

/// `flush_timeout` ran out of time; the records are still pending and will still be reported,
/// and the callbacks will still run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlushTimeout {
    /// Records sent before the flush that were not reported yet.
    pub pending: u64,
    /// Delivery callbacks queued (of those records, or reported before them) that had not run
    /// yet: behind a callback that blocks, or not reached yet.
    pub callbacks_pending: u64,
}

impl std::fmt::Display for FlushTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "flush timed out with {} records pending and {} delivery callbacks not run",
            self.pending, self.callbacks_pending
        )
    }
}

impl std::error::Error for FlushTimeout {}

/// An idempotent Kafka producer on runtime `R`. `Send + Sync`: share it (`&Producer`, `Arc`)
/// between any number of threads or tasks. Use it as `idem_std::Producer` (blocking) or
/// `idem_smol::Producer` (async); the methods are the same in both, and a method documented as
/// *waiting* blocks the calling thread in idem-std and returns a future in idem-smol (`R::Wait`).
///
/// Every record a send accepts gets exactly one report (through its [`DeliveryHandle`] or its
/// callback): delivered with its offset, or failed with whether it may be in the log anyway.
/// Callbacks run on the producer's own callback thread (see [`Producer::send_with_callback`]).
///
/// **Drop** closes the producer in the background, in both runtimes: sends are refused from
/// then on, and the producer's own threads or tasks go on delivering what was accepted until
/// everything is reported, failing what is left once `delivery.timeout.ms` has passed; the
/// callback thread runs every callback, then ends. Dropping never waits (async code cannot
/// block in `Drop`, and a callback may hold the last reference). To wait for the outcome, call
/// [`Producer::close`] or [`Producer::close_timeout`] first: in a program about to exit, that is
/// what keeps accepted records from being lost with the process.
///
/// ```no_run
/// use std::time::Duration;
/// use idem_std::{Config, Producer, Record};
///
/// let producer = Producer::new(Config::new("localhost:9092")?)?;
/// let handle = producer.send(&Record::new("events").value(b"hello"))?; // blocks while full
/// println!("{:?}", handle.wait());
/// let report = producer.close_timeout(Duration::from_secs(10));
/// assert!(report.all_delivered());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Producer<R: Runtime> {
    driver: Arc<Driver<R>>,
}

impl<R: Runtime> std::fmt::Debug for Producer<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer").finish_non_exhaustive()
    }
}

impl<R: Runtime> Producer<R> {
    /// Validates the configuration and starts the producer: its timer (a thread in idem-std, a
    /// task on smol's global executor in idem-smol) and its callback thread. Connections open
    /// on the first send. An error names the setting to change (or says no thread could be
    /// started).
    ///
    /// ```no_run
    /// let config = idem_std::Config::new("localhost:9092")?.with("linger.ms", "10")?;
    /// let blocking = idem_std::Producer::new(config.clone())?;
    /// let asynchronous = idem_smol::Producer::new(config)?;
    /// # let _ = (blocking, asynchronous);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(config: impl Into<Config>) -> Result<Producer<R>, ConfigError> {
        Ok(Producer { driver: Driver::start(&config.into())? })
    }

    /// Sends a record (*waiting*): waits up to `max.block.ms` while `buffer.memory` is full, then
    /// returns a [`DeliveryHandle`] to the record's one report. An error (`QueueFull` after
    /// `max.block.ms`, `RecordTooLarge`, `InvalidTopic`, `InvalidPartition`, `Closed`, `Fatal`)
    /// means the record was not accepted and gets no report. The bytes are copied before it
    /// returns.
    ///
    /// ```no_run
    /// # fn f(std: &idem_std::Producer, smol: &idem_smol::Producer) -> Result<(), idem_std::SendError> {
    /// use idem_std::Record;
    /// let record = Record::new("events").key(b"user-42").value(b"clicked");
    /// let handle = std.send(&record)?; // idem-std: blocks while the buffer is full
    /// let report = handle.wait();
    /// smol::block_on(async {
    ///     let handle = smol.send(&record).await?; // idem-smol: waits asynchronously
    ///     let report = handle.await;
    ///     # let _ = report;
    ///     Ok::<(), idem_std::SendError>(())
    /// })?;
    /// # let _ = report;
    /// # Ok(())
    /// # }
    /// ```
    pub fn send<'a>(&'a self, record: &'a Record<'a>) -> R::Wait<SendOp<'a, R>> {
        R::wait(SendOp::new(&self.driver, record, true))
    }

    /// Like [`Producer::send`] but never waits: a full buffer is `SendError::QueueFull` at once.
    pub fn try_send(&self, record: &Record<'_>) -> Result<DeliveryHandle, SendError> {
        SendOp::new(&self.driver, record, false).once()
    }

    /// Sends `records` in order (*waiting*, for each, up to `max.block.ms` while `buffer.memory`
    /// is full, as [`Producer::send`]), with no handle and no callback: their reports are only
    /// counted, in [`Producer::counts`] and the [`CloseReport`], and the first failure is kept
    /// ([`Producer::first_failure`]); [`Producer::flush`] and [`Producer::close`] wait for them
    /// as for any record. Cheaper per record than `send` (the lock and the clocks are taken
    /// once per chunk of records, nothing is allocated per record): for feeding many records
    /// whose individual outcome is not needed, as `idem produce` does. An error says how many
    /// records (from the start) were accepted and why the next one was refused; the records
    /// after it were not offered. The bytes are copied before it returns.
    ///
    /// ```no_run
    /// # fn f(producer: &idem_std::Producer) -> Result<(), Box<dyn std::error::Error>> {
    /// use idem_std::Record;
    /// let lines = ["a", "b", "c"];
    /// let records: Vec<Record> = lines.iter().map(|l| Record::new("events").value(l.as_bytes())).collect();
    /// producer.send_many(&records)?;
    /// producer.flush();
    /// assert_eq!(producer.counts().delivered, 3);
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_many<'a>(&'a self, records: &'a [Record<'a>]) -> R::Wait<SendManyOp<'a, R>> {
        R::wait(SendManyOp::new(&self.driver, records))
    }

    /// Like [`Producer::send`] (*waiting*), with a callback instead of a handle: `callback` runs
    /// exactly once with the report if the record is accepted, never if this returns an error.
    /// Returns the record's id.
    ///
    /// Callbacks run on the producer's callback thread (`idem-callbacks`, a std thread in both
    /// runtimes: never a thread or task that drives the producer), one at a time, in the order
    /// the records were reported, never under the producer's lock. A callback that blocks delays
    /// only the callbacks after it: handles, sends and deliveries go on, and
    /// [`Producer::flush_timeout`] and [`Producer::close_timeout`] return by their timeouts. A
    /// callback may call this producer, `flush` and `close` included (in idem-smol by blocking
    /// on the future, e.g. `smol::block_on(producer.flush_timeout(t))`); they do not wait for
    /// callbacks there. If it panics, the panic is caught and counted
    /// ([`ReportCounts::callback_panics`]); it costs only that callback.
    pub fn send_with_callback<'a>(
        &'a self,
        record: &'a Record<'a>,
        callback: impl FnOnce(DeliveryResult) + Send + 'static,
    ) -> R::Wait<SendWithCallbackOp<'a, R>> {
        R::wait(SendWithCallbackOp::new(&self.driver, record, Completer::callback(callback), true))
    }

    /// Like [`Producer::send_with_callback`] (*waiting*), reporting to the producer-wide
    /// delivery callback ([`Config::on_delivery`](crate::Config::on_delivery)) with `opaque`
    /// instead of a closure of its own: librdkafka's `dr_msg_cb` with its per-message opaque.
    /// Nothing is allocated per record for its report (the opaque value travels in the
    /// record's batch). Without a delivery callback the report is only counted. Returns the
    /// record's id; a refused record is never reported.
    pub fn send_with_opaque<'a>(&'a self, record: &'a Record<'a>, opaque: u64) -> R::Wait<SendWithCallbackOp<'a, R>> {
        R::wait(SendWithCallbackOp::new(&self.driver, record, Completer::opaque(opaque), true))
    }

    /// Like [`Producer::send_with_callback`] but never waits: a full buffer is
    /// `SendError::QueueFull` at once.
    pub fn try_send_with_callback(
        &self,
        record: &Record<'_>,
        callback: impl FnOnce(DeliveryResult) + Send + 'static,
    ) -> Result<RecordId, SendError> {
        SendWithCallbackOp::new(&self.driver, record, Completer::callback(callback), false).once()
    }

    /// Seals every open batch and (*waiting*) waits until every record accepted before this
    /// call is reported, its handle completed and its callback run. A callback that blocks holds
    /// it up: [`Producer::flush_timeout`] bounds the wait. Called from a delivery callback (on
    /// the callback thread), it waits for the reports only: waiting for callbacks there would
    /// wait for itself. (The Java client's `KafkaProducer.flush` throws when called from a
    /// callback instead.)
    pub fn flush(&self) -> R::Wait<FlushOp<'_, R>> {
        R::wait(FlushOp::new(&self.driver))
    }

    /// [`Producer::flush`] (*waiting*) that gives up after `timeout`: then [`FlushTimeout`] says
    /// how many records were not reported yet (they stay pending and will be reported) and how
    /// many callbacks had not run. `Duration::ZERO` seals the open batches and returns.
    pub fn flush_timeout(&self, timeout: Duration) -> R::Wait<FlushTimeoutOp<'_, R>> {
        R::wait(FlushTimeoutOp::new(&self.driver, Instant::now().checked_add(timeout)))
    }

    /// Stops accepting records (sends answer `Closed`), delivers what is buffered, and
    /// (*waiting*) waits until everything is reported and every callback has run: as
    /// [`Producer::close_timeout`] with `delivery.timeout.ms` as the timeout (the core reports
    /// every record within it anyway; the callbacks get the same bound). Returns the counts of
    /// what was and was not delivered over the producer's life.
    pub fn close(&self) -> R::Wait<CloseOp<'_, R>> {
        let timeout = self.driver.delivery_timeout;
        R::wait(CloseOp::new(&self.driver, Instant::now().checked_add(timeout)))
    }

    /// [`Producer::close`] (*waiting*) that gives up after `timeout`: whatever is still pending
    /// is then failed (`DeliveryError::Aborted`, `Persisted::Possibly` where an attempt's outcome
    /// is unknown), and it returns by `timeout` whatever a callback does (as the Java client's
    /// `KafkaProducer.close(Duration)` gives up waiting for its I/O thread at the timeout).
    /// Callbacks not run yet (those behind one that blocks, and those of the records it failed)
    /// still run on the callback thread, which ends after the last; `callback_panics` counts
    /// those run so far. Calling it again returns the same counts. Called from a delivery
    /// callback, it does not wait for callbacks (they would wait for it).
    pub fn close_timeout(&self, timeout: Duration) -> R::Wait<CloseOp<'_, R>> {
        R::wait(CloseOp::new(&self.driver, Instant::now().checked_add(timeout)))
    }

    /// Starts the transactional producer (*waiting*, up to `timeout`; needs `transactional.id`):
    /// finds the transaction coordinator and gets the producer id and epoch from it, which
    /// fences every earlier producer with the same `transactional.id` and aborts its open
    /// transaction (KIP-98; the Java client's `KafkaProducer.initTransactions`). Call it once,
    /// before any other transactional call.
    ///
    /// Every waiting transactional call keeps Java's `max.block.ms` contract: at `timeout` it
    /// returns [`TransactionCallError::TimedOut`] (retriable) and the operation goes on in the
    /// producer; calling the same method again waits for that same operation's result (even if it
    /// ended meanwhile), and any other transactional call is refused with
    /// [`TransactionError::InProgress`](idem_core::producer::TransactionError::InProgress) until
    /// then. Dropping an idem-smol future is the same as timing out. Errors:
    /// [`TransactionCallError::Transaction`] with the core's [`TransactionError`]
    /// (`NotTransactional`, `InvalidState` for a call out of order, `Abortable`: abort the
    /// transaction, `Fatal`: drop the producer), `Closed` once the producer is closed.
    ///
    /// [`TransactionError`]: idem_core::producer::TransactionError
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use idem_std::{Config, Producer, Record};
    ///
    /// let config = Config::new("localhost:9092")?.with("transactional.id", "orders-1")?;
    /// let producer = Producer::new(config)?;
    /// producer.init_transactions(Duration::from_secs(30))?;
    /// producer.begin_transaction()?;
    /// producer.send(&Record::new("orders").value(b"paid"))?;
    /// match producer.commit_transaction(Duration::from_secs(30)) {
    ///     Ok(()) => {}
    ///     Err(e) if e.is_retriable() => producer.commit_transaction(Duration::from_secs(30))?, // same commit
    ///     Err(e) if e.is_abortable() => producer.abort_transaction(Duration::from_secs(30))?,
    ///     Err(e) => return Err(e.into()), // fenced or closed: drop the producer
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn init_transactions(&self, timeout: Duration) -> R::Wait<TransactionCall<'_, R>> {
        self.transaction_call(TxnStart::Init, timeout)
    }

    /// Opens a transaction (never waits; the coordinator learns of it with its first partition
    /// or offsets): records may be sent until `commit_transaction` or `abort_transaction`.
    /// Refused (nothing changes) unless `init_transactions` succeeded and no transaction is
    /// open, and while a timed-out call's operation awaits its caller.
    ///
    /// ```no_run
    /// # fn f(producer: &idem_std::Producer) -> Result<(), idem_std::TransactionCallError> {
    /// producer.begin_transaction()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn begin_transaction(&self) -> Result<(), TransactionCallError> {
        self.driver.with(|st| st.engine.begin_transaction())
    }

    /// Adds a consumer's offsets to the open transaction (*waiting*, up to `timeout`): they are
    /// committed to `group_metadata`'s group if and only if the transaction commits
    /// (consume-transform-produce exactly once; the Java client's
    /// `KafkaProducer.sendOffsetsToTransaction`). `offsets` are the next offsets to consume.
    /// The group metadata's generation and member id let the group coordinator refuse a zombie
    /// consumer's offsets (KIP-447). A failure makes the transaction abortable. Timeouts as
    /// [`Producer::init_transactions`].
    ///
    /// ```no_run
    /// # fn f(producer: &idem_std::Producer) -> Result<(), idem_std::TransactionCallError> {
    /// use std::time::Duration;
    /// use idem_std::{ConsumerGroupMetadata, TxnOffset};
    /// let offsets = [TxnOffset { topic: "input", partition: 0, offset: 42 }];
    /// let group = ConsumerGroupMetadata::new("billing");
    /// producer.send_offsets_to_transaction(&offsets, &group, Duration::from_secs(30))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_offsets_to_transaction<'a>(
        &'a self,
        offsets: &'a [TxnOffset<'a>],
        group_metadata: &'a ConsumerGroupMetadata,
        timeout: Duration,
    ) -> R::Wait<TransactionCall<'a, R>> {
        self.transaction_call(TxnStart::SendOffsets(offsets, group_metadata), timeout)
    }

    /// Commits the open transaction (*waiting*, up to `timeout`): sends every buffered record,
    /// waits until each is acknowledged, then ends the transaction, as the Java client's
    /// `KafkaProducer.commitTransaction` (which flushes first). The records' reports come
    /// before the commit's end. If any record failed, nothing is committed and the error is
    /// abortable: call [`Producer::abort_transaction`]. Timeouts as
    /// [`Producer::init_transactions`]: a commit that timed out may still commit; call it again
    /// to learn the outcome.
    ///
    /// ```no_run
    /// # fn f(producer: &idem_std::Producer) -> Result<(), idem_std::TransactionCallError> {
    /// producer.commit_transaction(std::time::Duration::from_secs(30))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn commit_transaction(&self, timeout: Duration) -> R::Wait<TransactionCall<'_, R>> {
        self.transaction_call(TxnStart::Commit, timeout)
    }

    /// Aborts the open transaction, also after an abortable error (*waiting*, up to `timeout`):
    /// records not sent yet fail with `DeliveryError::TransactionAborted`, those in flight are
    /// waited for, and the coordinator writes ABORT markers so that `read_committed` consumers
    /// skip what was written (the Java client's `KafkaProducer.abortTransaction`). The producer
    /// is then ready for the next transaction. Timeouts as [`Producer::init_transactions`].
    ///
    /// ```no_run
    /// # fn f(producer: &idem_std::Producer) -> Result<(), idem_std::TransactionCallError> {
    /// producer.abort_transaction(std::time::Duration::from_secs(30))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn abort_transaction(&self, timeout: Duration) -> R::Wait<TransactionCall<'_, R>> {
        self.transaction_call(TxnStart::Abort, timeout)
    }

    /// Where the transactional producer stands; `None` without a `transactional.id`.
    pub fn transaction_state(&self) -> Option<TransactionState> {
        self.driver.lock().engine.transaction_state()
    }

    /// A waiting transactional call of `call`, up to `timeout`.
    fn transaction_call<'a>(&'a self, call: TxnStart<'a>, timeout: Duration) -> R::Wait<TransactionCall<'a, R>> {
        R::wait(TransactionCall::new(&self.driver, call, Instant::now().checked_add(timeout)))
    }

    /// A snapshot of the producer's metrics now: totals (records sent, retried, failed,
    /// requests, bytes, epoch bumps, ...), gauges, maxima, per broker (requests in flight,
    /// round-trip times) and per partition (queued records and bytes, batches in flight,
    /// sequence, retries). Rates and averages: [`ProducerMetrics::since`] with an earlier
    /// snapshot, or `statistics.interval.ms` (see [`crate::Config::on_statistics`]).
    ///
    /// ```no_run
    /// # fn f(producer: &idem_std::Producer) {
    /// let before = producer.metrics();
    /// std::thread::sleep(std::time::Duration::from_secs(10));
    /// let now = producer.metrics();
    /// let rates = now.since(&before);
    /// println!("{:.0} records/s, {:.2} ms request latency", rates.record_send_rate, rates.request_latency_avg);
    /// # }
    /// ```
    pub fn metrics(&self) -> ProducerMetrics {
        self.driver.lock().engine.metrics()
    }

    /// Report counts so far, over the producer's life.
    pub fn counts(&self) -> ReportCounts {
        self.driver.lock().engine.counts()
    }

    /// The first record failure reported over the producer's life, if any (of any record: sent
    /// with a handle, a callback or [`Producer::send_many`]).
    pub fn first_failure(&self) -> Option<DeliveryFailure> {
        self.driver.lock().engine.first_failure()
    }

    /// The fatal error the producer stopped on, if any (sends then answer `SendError::Fatal`).
    pub fn fatal_error(&self) -> Option<FatalError> {
        self.driver.lock().engine.fatal()
    }

    /// A debug dump of the core's whole state (for diagnosing a stall; the format is not
    /// stable).
    #[doc(hidden)]
    pub fn debug_state(&self) -> String {
        format!("{:#?}", self.driver)
    }
}

impl<R: Runtime> Drop for Producer<R> {
    /// Closes the producer in the background (see [`Producer`]): never waits.
    fn drop(&mut self) {
        self.driver.close_in_background();
    }
}
