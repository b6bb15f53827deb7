//! The blocking producer: [`Producer`] drives the sans-IO core over `std::net` and threads.
//!
//! One lock guards the core. Producer threads call `send` directly (the record's bytes are
//! copied into its batch under the lock; no per-record channel hop). One timer thread runs the
//! core's timers (linger, retries, timeouts), waiting on a condition variable that any thread
//! signals when the next deadline moves earlier. Each connection has a reader thread (which
//! first connects, resolving the host) and a writer thread (see `producer_conn`). Handles are
//! completed by the thread that took their reports, after it releases the lock; callbacks go to
//! the producer's callback thread (see `producer_callbacks`), so no thread that drives the
//! producer ever runs user code.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use idem_core::producer::{ConfigError, ConnId, FatalError, Input, ProducerMetrics, RecordId, SendError};

use crate::producer_config::{Config, Record};
use crate::producer_conn::{Conn, spawn_connect};
use crate::producer_engine::{Engine, IoAction};
use crate::producer_report::{Completer, DeliveryHandle, DeliveryResult, Ready, ReportCounts, complete_all};

/// How long a wait for `deadline` may sleep: `None` once it has passed (an hour when there is
/// no deadline; the waits loop).
fn time_left(deadline: Option<std::time::Instant>) -> Option<Duration> {
    match deadline {
        Some(d) => d.checked_duration_since(std::time::Instant::now()).filter(|left| !left.is_zero()),
        None => Some(Duration::from_secs(3600)),
    }
}

pub(crate) struct State {
    engine: Engine,
    conns: HashMap<ConnId, Conn>,
    /// Set when the `Producer` is dropped or closed and finished: the timer thread exits.
    stop: bool,
}

/// What the threads share.
pub(crate) struct Shared {
    state: Mutex<State>,
    /// Signalled when the next deadline moves earlier or the producer stops.
    timer: Condvar,
    /// Signalled when records are reported (buffer space freed), handles are completed,
    /// callbacks have run, or the core finishes.
    progress: Condvar,
    max_block: Duration,
    connect_timeout: Duration,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Locks, lets `f` produce an input, feeds it, drains, unlocks, completes. Returns whether
    /// `f` produced an input.
    pub(crate) fn with_conns_and_engine<'a>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut HashMap<ConnId, Conn>, &mut Engine) -> Option<Input<'a>>,
    ) -> bool {
        let mut st = self.lock();
        let State { engine, conns, .. } = &mut *st;
        let Some(input) = f(conns, engine) else { return false };
        st.engine.handle_input(input);
        let ready = self.drain(&mut st);
        drop(st);
        self.complete(ready);
        true
    }

    /// Drains the core under the lock: performs socket actions, wakes the timer thread if the
    /// deadline moved earlier and waiters if anything was reported. Returns the reports.
    fn drain(self: &Arc<Self>, st: &mut State) -> Vec<Ready> {
        let before = st.engine.deadline();
        let mut ready = Vec::new();
        let State { engine, conns, .. } = st;
        let mut unspawned = Vec::new();
        let after = loop {
            let after = engine.drain(
                &mut |action| match action {
                    IoAction::Connect { conn, host, port } => {
                        conns.insert(conn, Conn::default());
                        if !spawn_connect(self, conn, host, port) {
                            unspawned.push(conn);
                        }
                    }
                    IoAction::Transmit { conn, data } => {
                        if let Some(c) = conns.get(&conn) {
                            c.transmit(data);
                        }
                    }
                    IoAction::Close { conn } => {
                        if let Some(c) = conns.remove(&conn) {
                            c.shutdown();
                        }
                    }
                },
                &mut ready,
            );
            if unspawned.is_empty() {
                break after;
            }
            // No thread for a connection: it failed (the core backs off and retries).
            for conn in unspawned.drain(..) {
                conns.remove(&conn);
                let now = engine.clock().now();
                engine.handle_input(Input::Disconnected { now, conn });
            }
        };
        let earlier = match (before, after) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(b), Some(a)) => a < b,
        };
        let finished = st.engine.is_finished();
        if earlier || finished {
            self.timer.notify_one();
        }
        if !ready.is_empty() || finished {
            self.progress.notify_all();
        }
        ready
    }

    /// Completes handles (outside the lock), then wakes `flush`/`close` waiters once none is out.
    fn complete(&self, ready: Vec<Ready>) {
        if ready.is_empty() {
            return;
        }
        let n = ready.len();
        let panics = complete_all(ready);
        if self.lock().engine.handles_completed(n, panics) {
            self.progress.notify_all();
        }
    }

    /// The callback thread ran `n` callbacks: count them and wake `flush`/`close` waiters.
    fn callbacks_ran(&self, n: u64, panicked: u64) {
        self.lock().engine.callbacks_ran(n, panicked);
        self.progress.notify_all();
    }

    /// The timer thread: waits for the next deadline (or a signal), then ticks the core.
    fn run_timer(self: &Arc<Self>) {
        let mut st = self.lock();
        loop {
            if st.stop || st.engine.is_finished() {
                return;
            }
            let now = std::time::Instant::now();
            match st.engine.deadline().map(|d| st.engine.clock().to_std(d)) {
                Some(at) if at <= now => {
                    st.engine.tick();
                    let ready = self.drain(&mut st);
                    if !ready.is_empty() {
                        drop(st);
                        self.complete(ready);
                        st = self.lock();
                    }
                }
                Some(at) => st = self.timer.wait_timeout(st, at - now).unwrap_or_else(PoisonError::into_inner).0,
                None => st = self.timer.wait(st).unwrap_or_else(PoisonError::into_inner),
            }
        }
    }
}

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

/// `flush` ran out of time; the records are still pending and will still be reported, and
/// the callbacks will still run.
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

/// A blocking idempotent Kafka producer. `Send + Sync`: share it (`&Producer`, `Arc`) between
/// any number of producer threads.
///
/// Every record `send` accepts gets exactly one report (through its [`DeliveryHandle`] or
/// callback): delivered with its offset, or failed with whether it may be in the log anyway.
/// Callbacks run on the producer's own callback thread (see
/// [`Producer::send_with_callback`]). Dropping the producer closes it and waits until
/// everything is reported and the callbacks have run, bounded by `delivery.timeout.ms`; call
/// [`Producer::close`] to bound the wait yourself.
pub struct Producer {
    shared: Arc<Shared>,
    timer: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer").finish_non_exhaustive()
    }
}

impl Producer {
    /// Validates the configuration and starts the timer thread and the callback thread.
    /// Connections open on the first `send`.
    pub fn new(config: impl Into<Config>) -> Result<Producer, ConfigError> {
        let config = config.into();
        let engine = Engine::new(&config)?;
        let connect_timeout = engine.connect_timeout();
        let callbacks = Arc::clone(engine.callbacks());
        let shared = Arc::new(Shared {
            state: Mutex::new(State { engine, conns: HashMap::new(), stop: false }),
            timer: Condvar::new(),
            progress: Condvar::new(),
            max_block: config.max_block,
            connect_timeout,
        });
        let counted = Arc::clone(&shared);
        callbacks.spawn(move |n, panicked| counted.callbacks_ran(n, panicked))?;
        let timer = thread::Builder::new().name("idem-timer".into()).spawn({
            let shared = Arc::clone(&shared);
            move || shared.run_timer()
        });
        let Ok(timer) = timer else {
            callbacks.close(); // the callback thread ends
            return Err(ConfigError::Conflict("could not spawn the producer's timer thread"));
        };
        Ok(Producer { shared, timer: Mutex::new(Some(timer)) })
    }

    /// Offers the record to the core until accepted, refused, or (when `block`) `max.block.ms`
    /// of `QueueFull` passed.
    fn send_inner(&self, record: &Record<'_>, completer: Completer, block: bool) -> Result<RecordId, SendError> {
        let mut deadline: Option<Option<std::time::Instant>> = None;
        let mut completer = completer;
        let mut st = self.shared.lock();
        loop {
            match st.engine.send(record, completer) {
                Ok(id) => {
                    let ready = self.shared.drain(&mut st);
                    drop(st);
                    self.shared.complete(ready);
                    return Ok(id);
                }
                Err((SendError::QueueFull, c)) if block => {
                    completer = c;
                    let now = std::time::Instant::now();
                    let until = *deadline.get_or_insert_with(|| now.checked_add(self.shared.max_block));
                    let left = match until {
                        Some(u) if u > now => u - now,
                        Some(_) => return Err(SendError::QueueFull),
                        None => Duration::from_secs(3600),
                    };
                    st = self.shared.progress.wait_timeout(st, left).unwrap_or_else(PoisonError::into_inner).0;
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    /// Sends a record: blocks up to `max.block.ms` while the buffer is full, then returns a
    /// handle to its report. An error (`QueueFull` after `max.block.ms`, `RecordTooLarge`,
    /// `InvalidTopic`, `InvalidPartition`, `Closed`, `Fatal`) means the record was not accepted
    /// and gets no report.
    pub fn send(&self, record: &Record<'_>) -> Result<DeliveryHandle, SendError> {
        let (handle, completer) = DeliveryHandle::new();
        self.send_inner(record, completer, true).map(|_| handle)
    }

    /// Like [`Producer::send`] but never blocks: a full buffer is `SendError::QueueFull` at once.
    pub fn try_send(&self, record: &Record<'_>) -> Result<DeliveryHandle, SendError> {
        let (handle, completer) = DeliveryHandle::new();
        self.send_inner(record, completer, false).map(|_| handle)
    }

    /// Like [`Producer::send`], with a callback instead of a handle: `callback` runs exactly once
    /// with the report if the record is accepted, never if `send` returns an error.
    ///
    /// Callbacks run on the producer's callback thread (`idem-callbacks`), one at a time, in the
    /// order the records were reported, never under the producer's lock. A callback that blocks
    /// delays only the callbacks after it: handles, sends and deliveries go on, and
    /// [`Producer::flush`], [`Producer::close`] and `Drop` return by their timeouts. A callback
    /// may call this producer, `flush` and `close` included (they do not wait for callbacks
    /// there). If it panics, the panic is caught and counted ([`ReportCounts::callback_panics`]);
    /// it costs only that callback.
    pub fn send_with_callback(
        &self,
        record: &Record<'_>,
        callback: impl FnOnce(DeliveryResult) + Send + 'static,
    ) -> Result<RecordId, SendError> {
        self.send_inner(record, Completer::callback(callback), true)
    }

    /// [`Producer::send_with_callback`] that never blocks.
    pub fn try_send_with_callback(
        &self,
        record: &Record<'_>,
        callback: impl FnOnce(DeliveryResult) + Send + 'static,
    ) -> Result<RecordId, SendError> {
        self.send_inner(record, Completer::callback(callback), false)
    }

    /// Seals every open batch and waits until every record accepted before this call is
    /// reported, its handle completed and its callback run, or `timeout` passes: then
    /// [`FlushTimeout`] says how many records were not reported yet (they stay pending and will
    /// be reported) and how many callbacks had not run (a callback that blocks holds up those
    /// after it). Called from a delivery callback (on the callback thread), it waits for the
    /// reports only: waiting for callbacks there would wait for itself. (The Java client's
    /// `KafkaProducer.flush` throws when called from a callback instead.)
    pub fn flush(&self, timeout: Duration) -> Result<(), FlushTimeout> {
        let deadline = std::time::Instant::now().checked_add(timeout);
        let mut st = self.shared.lock();
        let mut settle = st.engine.settle(st.engine.next_id());
        st.engine.flush();
        let ready = self.shared.drain(&mut st);
        drop(st);
        self.shared.complete(ready);
        let mut st = self.shared.lock();
        while !st.engine.is_settled(&mut settle) {
            let Some(left) = time_left(deadline) else { return Err(st.engine.flush_timeout(&settle)) };
            st = self.shared.progress.wait_timeout(st, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        Ok(())
    }

    /// Stops accepting records (`send` answers `Closed`), delivers what is buffered, and waits
    /// until everything is reported and every callback has run, or `timeout` passes. Then it
    /// fails whatever is left (`DeliveryError::Aborted`, `Persisted::Possibly` where an attempt's
    /// outcome is unknown), closes the connections and stops the timer thread; it returns by
    /// `timeout` whatever a callback does (as the Java client's `KafkaProducer.close(Duration)`
    /// gives up waiting for its I/O thread at the timeout). Callbacks not run yet (those behind
    /// one that blocks, and those of the records it failed) still run on the callback thread,
    /// which ends after the last. Returns the counts of what was and was not delivered over the
    /// producer's life (`callback_panics` so far). Calling it again returns the same counts.
    /// Called from a delivery callback, it does not wait for callbacks (they would wait for it).
    pub fn close(&self, timeout: Duration) -> CloseReport {
        self.close_inner(std::time::Instant::now().checked_add(timeout))
    }

    fn close_inner(&self, deadline: Option<std::time::Instant>) -> CloseReport {
        let mut st = self.shared.lock();
        if !st.engine.is_finished() {
            st.engine.close();
            let ready = self.shared.drain(&mut st);
            drop(st);
            self.shared.complete(ready);
            st = self.shared.lock();
        }
        let mut settle = st.engine.settle(u64::MAX);
        while !st.engine.is_settled(&mut settle) {
            if let Some(left) = time_left(deadline) {
                st = self.shared.progress.wait_timeout(st, left).unwrap_or_else(PoisonError::into_inner).0;
            } else if st.engine.is_finished() {
                break; // only callbacks still to run: they are not waited for past the deadline
            } else {
                st.engine.abort();
                let ready = self.shared.drain(&mut st);
                drop(st);
                self.shared.complete(ready);
                st = self.shared.lock();
            }
        }
        st.stop = true;
        let report = CloseReport { counts: st.engine.counts(), fatal: st.engine.fatal() };
        drop(st);
        self.shared.timer.notify_all();
        let timer = self.timer.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(t) = timer {
            let _ = t.join(); // it runs no user code: it ends at once
        }
        report
    }

    /// A debug dump of the core's whole state (for diagnosing a stall; the format is not
    /// stable).
    #[doc(hidden)]
    pub fn debug_state(&self) -> String {
        let st = self.shared.lock();
        format!("{:#?}\nconns: {:?}", st.engine, st.conns.keys().collect::<Vec<_>>())
    }

    /// The core's counters.
    pub fn metrics(&self) -> ProducerMetrics {
        self.shared.lock().engine.metrics().clone()
    }

    /// Report counts so far.
    pub fn counts(&self) -> ReportCounts {
        self.shared.lock().engine.counts()
    }

    /// The fatal error the producer stopped on, if any (sends then answer `SendError::Fatal`).
    pub fn fatal_error(&self) -> Option<FatalError> {
        self.shared.lock().engine.fatal()
    }
}

impl Drop for Producer {
    /// Closes the producer as [`Producer::close`] with `delivery.timeout.ms` as the timeout: the
    /// core reports every record within it anyway, and the callbacks get the same bound (those
    /// not run by then still run on the callback thread afterwards). Dropped on the callback
    /// thread (a callback held the last reference), it does not wait for callbacks.
    fn drop(&mut self) {
        let timeout = self.shared.lock().engine.delivery_timeout();
        self.close_inner(std::time::Instant::now().checked_add(timeout));
    }
}

#[cfg(test)]
mod tests {
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
        let r = p.close(Duration::from_secs(1));
        assert_eq!(r.counts, ReportCounts::default());
        assert_eq!(p.send(&Record::new("t").value(b"x")).err(), Some(SendError::Closed));
    }
}
