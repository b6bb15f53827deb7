//! The async producer on smol / async-io.
//!
//! Same shape as idem-std's: one lock guards the core ([`idem_std::Engine`]); `send` hands the
//! record to the core directly; a timer task runs the core's timers; each connection has a task
//! that connects and then reads, and a task that writes. No thread is blocked anywhere: waits are
//! `event_listener` events and `async_io::Timer`s. Tasks run on smol's global executor. Delivery
//! callbacks are sync closures that may block: they run on the producer's callback thread (a std
//! thread, [`idem_std::CallbackQueue`]), never on an executor thread.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use event_listener::Event;
use idem_core::producer::{ConfigError, ConnId, FatalError, ProducerMetrics, RecordId, SendError};
use idem_std::{
    CloseReport, Completer, Config, DeliveryHandle, DeliveryResult, Engine, FlushTimeout, IoAction, Ready, Record,
    ReportCounts, complete_all,
};
use smol::future::FutureExt as _;
use smol::{Task, Timer};

use crate::conn::{Conn, spawn_connect};

pub(crate) struct State {
    pub(crate) engine: Engine,
    pub(crate) conns: HashMap<ConnId, Conn>,
}

/// What the tasks share.
pub(crate) struct Shared {
    state: Mutex<State>,
    /// Notified when the next deadline moves earlier or the core finishes.
    timer_wake: Event,
    /// Notified when records are reported (buffer space freed), handles are completed,
    /// callbacks have run, or the core finishes.
    progress: Event,
    max_block: Duration,
    pub(crate) connect_timeout: Duration,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Drains the core under the lock: performs socket actions (connections the core closed are
    /// pushed onto `closed`, to be dropped after the lock is released), wakes the timer task if
    /// the deadline moved earlier and waiters if anything was reported.
    pub(crate) fn drain(self: &Arc<Self>, st: &mut State, closed: &mut Vec<Conn>) -> Vec<Ready> {
        let before = st.engine.deadline();
        let mut ready = Vec::new();
        let State { engine, conns, .. } = st;
        let after = engine.drain(
            &mut |action| match action {
                IoAction::Connect { conn, host, port } => {
                    let task = spawn_connect(self, conn, host, port);
                    conns.insert(conn, Conn::connecting(task));
                }
                IoAction::Transmit { conn, data } => {
                    if let Some(c) = conns.get(&conn) {
                        c.transmit(data);
                    }
                }
                IoAction::Close { conn } => {
                    if let Some(c) = conns.remove(&conn) {
                        closed.push(c);
                    }
                }
            },
            &mut ready,
        );
        let earlier = match (before, after) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(b), Some(a)) => a < b,
        };
        let finished = st.engine.is_finished();
        if earlier || finished {
            self.timer_wake.notify(usize::MAX);
        }
        if !ready.is_empty() || finished {
            self.progress.notify(usize::MAX);
        }
        ready
    }

    /// Releases the lock, drops closed connections, completes the handles, then wakes waiters
    /// once none is out.
    pub(crate) fn finish(&self, st: MutexGuard<'_, State>, closed: Vec<Conn>, ready: Vec<Ready>) {
        drop(st);
        for c in closed {
            c.shutdown();
        }
        if ready.is_empty() {
            return;
        }
        let n = ready.len();
        let panics = complete_all(ready);
        if self.lock().engine.handles_completed(n, panics) {
            self.progress.notify(usize::MAX);
        }
    }

    /// The callback thread ran `n` callbacks: count them and wake `flush`/`close` waiters.
    fn callbacks_ran(&self, n: u64, panicked: u64) {
        self.lock().engine.callbacks_ran(n, panicked);
        self.progress.notify(usize::MAX);
    }

    /// Locks, lets `f` act on the engine and connections, drains, finishes.
    pub(crate) fn with<R>(self: &Arc<Self>, f: impl FnOnce(&mut State) -> R) -> R {
        let mut st = self.lock();
        let r = f(&mut st);
        let mut closed = Vec::new();
        let ready = self.drain(&mut st, &mut closed);
        self.finish(st, closed, ready);
        r
    }

    /// The timer task: sleeps until the next deadline or a wake-up, then ticks the core.
    async fn run_timer(self: Arc<Self>) {
        loop {
            let woken = self.timer_wake.listen();
            let deadline = {
                let st = self.lock();
                if st.engine.is_finished() {
                    return;
                }
                st.engine.deadline().map(|d| st.engine.clock().to_std(d))
            };
            match deadline {
                Some(at) if at <= std::time::Instant::now() => self.with(|st| st.engine.tick()),
                _ => listen_until(deadline, woken).await,
            }
        }
    }

    /// Waits until `done(state)` holds (checked after every progress notification) or
    /// `deadline` passes; returns whether it holds.
    async fn wait_until(&self, deadline: Option<std::time::Instant>, mut done: impl FnMut(&State) -> bool) -> bool {
        loop {
            let listener = self.progress.listen();
            if done(&self.lock()) {
                return true;
            }
            match deadline {
                Some(d) if d <= std::time::Instant::now() => return false,
                _ => listen_until(deadline, listener).await,
            }
        }
    }
}

/// Waits for `listener` to fire or, if `deadline` is given, until `deadline`, whichever comes
/// first.
async fn listen_until(deadline: Option<std::time::Instant>, listener: impl Future<Output = ()>) {
    match deadline {
        Some(at) => {
            async {
                Timer::at(at).await;
            }
            .or(listener)
            .await
        }
        None => listener.await,
    }
}

/// An async idempotent Kafka producer for smol / async-io programs. `Send + Sync`; share it
/// between tasks (`&Producer`, `Arc`).
///
/// Every record `send` accepts gets exactly one report (its [`DeliveryHandle`], a `Future`, or
/// its callback): delivered with its offset, or failed with whether it may be in the log anyway.
/// Callbacks run on the producer's own callback thread (see [`Producer::send_with_callback`]).
/// Dropping the producer closes it in the background: its tasks keep running until everything
/// is reported (bounded by `delivery.timeout.ms`), and the callback thread until every callback
/// has run.
pub struct Producer {
    shared: Arc<Shared>,
    timer: Mutex<Option<Task<()>>>,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer").finish_non_exhaustive()
    }
}

impl Producer {
    /// Validates the configuration, starts the callback thread and spawns the timer task on
    /// smol's global executor. Connections open on the first `send`.
    pub fn new(config: impl Into<Config>) -> Result<Producer, ConfigError> {
        let config = config.into();
        let engine = Engine::new(&config)?;
        let connect_timeout = engine.connect_timeout();
        let callbacks = Arc::clone(engine.callbacks());
        let shared = Arc::new(Shared {
            state: Mutex::new(State { engine, conns: HashMap::new() }),
            timer_wake: Event::new(),
            progress: Event::new(),
            max_block: config.max_block,
            connect_timeout,
        });
        let counted = Arc::clone(&shared);
        callbacks.spawn(move |n, panicked| counted.callbacks_ran(n, panicked))?;
        let timer = smol::spawn(Arc::clone(&shared).run_timer());
        Ok(Producer { shared, timer: Mutex::new(Some(timer)) })
    }

    /// One attempt: `Ok(Ok(id))` accepted, `Ok(Err(c))` queue full (completer handed back).
    fn offer(&self, record: &Record<'_>, completer: Completer) -> Result<Result<RecordId, Completer>, SendError> {
        let mut st = self.shared.lock();
        let r = st.engine.send(record, completer);
        let mut closed = Vec::new();
        let ready = match &r {
            Ok(_) => self.shared.drain(&mut st, &mut closed),
            Err(_) => Vec::new(),
        };
        self.shared.finish(st, closed, ready);
        match r {
            Ok(id) => Ok(Ok(id)),
            Err((SendError::QueueFull, c)) => Ok(Err(c)),
            Err((e, _)) => Err(e),
        }
    }

    async fn send_inner(&self, record: &Record<'_>, completer: Completer) -> Result<RecordId, SendError> {
        let deadline = std::time::Instant::now().checked_add(self.shared.max_block);
        let mut completer = completer;
        loop {
            let listener = self.shared.progress.listen();
            match self.offer(record, completer)? {
                Ok(id) => return Ok(id),
                Err(c) => completer = c,
            }
            match deadline {
                Some(d) if d <= std::time::Instant::now() => return Err(SendError::QueueFull),
                _ => listen_until(deadline, listener).await,
            }
        }
    }

    /// Sends a record: waits (asynchronously) up to `max.block.ms` while the buffer is full,
    /// then returns a handle to its report — a `Future` of its [`DeliveryResult`]. An error
    /// (`QueueFull` after `max.block.ms`, `RecordTooLarge`, `InvalidTopic`, `InvalidPartition`,
    /// `Closed`, `Fatal`) means the record was not accepted and gets no report.
    pub async fn send(&self, record: &Record<'_>) -> Result<DeliveryHandle, SendError> {
        let (handle, completer) = DeliveryHandle::new();
        self.send_inner(record, completer).await.map(|_| handle)
    }

    /// Like [`Producer::send`] but never waits: a full buffer is `SendError::QueueFull` at once.
    pub fn try_send(&self, record: &Record<'_>) -> Result<DeliveryHandle, SendError> {
        let (handle, completer) = DeliveryHandle::new();
        match self.offer(record, completer)? {
            Ok(_) => Ok(handle),
            Err(_) => Err(SendError::QueueFull),
        }
    }

    /// Like [`Producer::send`], with a callback instead of a handle: `callback` runs exactly once
    /// with the report if the record is accepted, never if this returns an error.
    ///
    /// Callbacks run on the producer's callback thread (`idem-callbacks`, a std thread: never an
    /// executor thread), one at a time, in the order the records were reported. A callback that
    /// blocks delays only the callbacks after it: handles, sends, deliveries and every other task
    /// go on, and [`Producer::flush_timeout`] and [`Producer::close_timeout`] return by their
    /// timeouts. A callback may call this producer (blocking on a future, e.g.
    /// `smol::block_on(producer.flush_timeout(t))`); `flush` and `close` do not wait for
    /// callbacks there. If it panics, the panic is caught and counted
    /// ([`ReportCounts::callback_panics`]); it costs only that callback.
    pub async fn send_with_callback(
        &self,
        record: &Record<'_>,
        callback: impl FnOnce(DeliveryResult) + Send + 'static,
    ) -> Result<RecordId, SendError> {
        self.send_inner(record, Completer::callback(callback)).await
    }

    /// Seals every open batch and waits until every record accepted before this call is
    /// reported, its handle completed and its callback run. A callback that blocks holds it up:
    /// [`Producer::flush_timeout`] bounds the wait. Awaited from a delivery callback (on the
    /// callback thread), it waits for the reports only: waiting for callbacks there would wait
    /// for itself.
    pub async fn flush(&self) {
        let _ = self.flush_inner(None).await;
    }

    /// [`Producer::flush`] that gives up waiting after `timeout`: then [`FlushTimeout`] says how
    /// many records were not reported yet (they stay pending and will be reported) and how many
    /// callbacks had not run.
    pub async fn flush_timeout(&self, timeout: Duration) -> Result<(), FlushTimeout> {
        self.flush_inner(std::time::Instant::now().checked_add(timeout)).await
    }

    async fn flush_inner(&self, deadline: Option<std::time::Instant>) -> Result<(), FlushTimeout> {
        let mut settle = self.shared.with(|st| {
            let settle = st.engine.settle(st.engine.next_id());
            st.engine.flush();
            settle
        });
        if self.shared.wait_until(deadline, |st| st.engine.is_settled(&mut settle)).await {
            return Ok(());
        }
        Err(self.shared.lock().engine.flush_timeout(&settle))
    }

    /// Stops accepting records (`send` answers `Closed`), delivers what is buffered, and waits
    /// until everything is reported and every callback has run: [`Producer::close_timeout`]
    /// with `delivery.timeout.ms` as the timeout (the core reports every record within it
    /// anyway; the callbacks get the same bound). Returns the counts of what was and was not
    /// delivered over the producer's life.
    pub async fn close(&self) -> CloseReport {
        let timeout = self.shared.lock().engine.delivery_timeout();
        self.close_timeout(timeout).await
    }

    /// [`Producer::close`] that gives up waiting after `timeout`: whatever is still pending is
    /// then failed (`DeliveryError::Aborted`, `Persisted::Possibly` where an attempt's outcome is
    /// unknown), and it returns by `timeout` whatever a callback does (as the Java client's
    /// `KafkaProducer.close(Duration)` gives up waiting for its I/O thread at the timeout).
    /// Callbacks not run yet (those behind one that blocks, and those of the records it failed)
    /// still run on the callback thread, which ends after the last; `callback_panics` counts
    /// those run so far. Awaited from a delivery callback, it does not wait for callbacks.
    pub async fn close_timeout(&self, timeout: Duration) -> CloseReport {
        let deadline = std::time::Instant::now().checked_add(timeout);
        let mut settle = self.shared.with(|st| {
            if !st.engine.is_finished() {
                st.engine.close();
            }
            st.engine.settle(u64::MAX)
        });
        if !self.shared.wait_until(deadline, |st| st.engine.is_settled(&mut settle)).await {
            // Fails what is left (its handles are completed here); callbacks still to run are
            // not waited for past the deadline.
            self.shared.with(|st| {
                if !st.engine.is_finished() {
                    st.engine.abort();
                }
            });
        }
        let timer = self.timer.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(t) = timer {
            t.await; // it runs no user code: it ends once the core has finished
        }
        let st = self.shared.lock();
        CloseReport { counts: st.engine.counts(), fatal: st.engine.fatal() }
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
    /// Closes the producer without waiting: its tasks finish delivering and reporting in the
    /// background, and the callback thread runs the callbacks, then ends.
    fn drop(&mut self) {
        self.shared.with(|st| {
            if !st.engine.is_finished() {
                st.engine.close();
            }
        });
        if let Some(t) = self.timer.lock().unwrap_or_else(PoisonError::into_inner).take() {
            t.detach();
        }
    }
}
