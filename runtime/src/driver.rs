//! [`Driver`]: what every runtime shares to drive the core. One lock guards the [`Engine`] and the
//! connections' I/O sides. Every call that feeds the core (a send, bytes read, a connection up or
//! down, a tick) drains it under the lock: socket actions go to the [`Runtime`], reports to the
//! handles and the callback queue. Handles are completed by whoever took their reports, after
//! the lock is released, and connections the core closed are shut down then too. Two
//! [`Signal`]s wake the waiters: `progress` (records reported, handles completed, callbacks
//! run, a transactional operation ended, the core finished) and `timer` (the next deadline moved earlier).

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use idem_core::producer::{ConfigError, ConnId, Diagnostic, Input, Output};

use crate::config::Config;
use crate::engine::{Engine, log_diagnostic};
use crate::ops::TimerOp;
use crate::report::{Ready, complete_all};
use crate::runtime::{Connection, Runtime};
use crate::signal::Signal;

/// What the lock guards.
pub(crate) struct State<C> {
    pub(crate) engine: Engine,
    conns: HashMap<ConnId, C>,
    /// Set by a close in the background (`Drop`): the timer aborts what is left then.
    pub(crate) abort_at: Option<Instant>,
}

/// The runtime-neutral half of a producer: the core behind one lock, the connections' I/O sides,
/// and the signals its waiters wait on. A [`Runtime`]'s connection code reports to it through
/// [`Driver::connected`], [`Driver::received`] and [`Driver::disconnected`]; everything else is
/// [`crate::Producer`]'s.
pub struct Driver<R: Runtime> {
    state: Mutex<State<R::Conn>>,
    /// Notified when records are reported (buffer space freed), handles are completed,
    /// callbacks have run, a transactional operation ended, or the core finishes.
    pub(crate) progress: Arc<Signal>,
    /// Notified when the next deadline moves earlier, a background close starts, or the core
    /// finishes.
    pub(crate) timer: Arc<Signal>,
    pub(crate) max_block: Duration,
    connect_timeout: Duration,
    pub(crate) delivery_timeout: Duration,
    /// Held from the end of a drain with diagnostics until they are logged: keeps them in order.
    log_order: Mutex<()>,
    runtime: PhantomData<fn() -> R>,
}

impl<R: Runtime> std::fmt::Debug for Driver<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.lock();
        f.debug_struct("Driver")
            .field("engine", &st.engine)
            .field("conns", &st.conns.keys().collect::<Vec<_>>())
            .field("abort_at", &st.abort_at)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> Driver<R> {
    /// Validates `config`, starts the core, the callback thread and the timer.
    pub(crate) fn start(config: &Config) -> Result<Arc<Driver<R>>, ConfigError> {
        let engine = Engine::new(config)?;
        let callbacks = Arc::clone(engine.callbacks());
        let driver = Arc::new(Driver {
            connect_timeout: engine.connect_timeout(),
            delivery_timeout: engine.delivery_timeout(),
            state: Mutex::new(State { engine, conns: HashMap::new(), abort_at: None }),
            progress: Arc::default(),
            timer: Arc::default(),
            max_block: config.max_block,
            log_order: Mutex::new(()),
            runtime: PhantomData,
        });
        let counted = Arc::clone(&driver);
        callbacks.spawn(move |n, panicked| counted.callbacks_ran(n, panicked))?;
        if let Err(e) = R::spawn_timer(TimerOp::new(Arc::clone(&driver))) {
            callbacks.close(); // the callback thread ends
            return Err(e);
        }
        Ok(driver)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State<R::Conn>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How long the runtime may take to open one connection
    /// (`socket.connection.setup.timeout.ms`).
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Connection `conn` is up: `attach` stores the runtime's I/O handles in its entry (made by
    /// [`Connection::open`]) and the core is told. Returns `false`, without calling `attach`,
    /// if the core closed the connection meanwhile: then drop what was opened.
    pub fn connected(self: &Arc<Self>, conn: ConnId, attach: impl FnOnce(&mut R::Conn)) -> bool {
        self.with(|st| {
            let Some(c) = st.conns.get_mut(&conn) else { return false };
            attach(c);
            let now = st.engine.clock().now();
            st.engine.handle_input(Input::Connected { now, conn });
            true
        })
    }

    /// `bytes` were read from `conn`. Returns `false` if the core closed it meanwhile: stop
    /// reading.
    pub fn received(self: &Arc<Self>, conn: ConnId, bytes: &[u8]) -> bool {
        self.with(|st| {
            if !st.conns.contains_key(&conn) {
                return false;
            }
            let now = st.engine.clock().now();
            st.engine.handle_input(Input::Received { now, conn, bytes });
            true
        })
    }

    /// Connecting, reading or writing `conn` failed: the core is told, once. Returns the
    /// connection's I/O side to dispose of, or `None` if the core had already closed it.
    pub fn disconnected(self: &Arc<Self>, conn: ConnId) -> Option<R::Conn> {
        self.with(|st| {
            let c = st.conns.remove(&conn)?;
            let now = st.engine.clock().now();
            st.engine.handle_input(Input::Disconnected { now, conn });
            Some(c)
        })
    }

    /// Locks, runs `f`, then [`Driver::release`]s.
    pub(crate) fn with<T>(self: &Arc<Self>, f: impl FnOnce(&mut State<R::Conn>) -> T) -> T {
        let mut st = self.lock();
        let out = f(&mut st);
        self.release(st);
        out
    }

    /// Drains the core, unlocks, logs its diagnostics, shuts down the connections it closed and
    /// completes the handles it reported.
    pub(crate) fn release(self: &Arc<Self>, mut st: MutexGuard<'_, State<R::Conn>>) {
        let (mut closed, mut ready, mut diagnostics) = (Vec::new(), Vec::new(), Vec::new());
        self.drain(&mut st, &mut closed, &mut ready, &mut diagnostics);
        // Diagnostics are logged outside the producer's lock, in the core's order: the order
        // lock is taken before the producer's is released.
        let order = (!diagnostics.is_empty()).then(|| self.log_order.lock().unwrap_or_else(PoisonError::into_inner));
        drop(st);
        for d in &diagnostics {
            log_diagnostic(d);
        }
        drop(order);
        for c in closed {
            c.shutdown();
        }
        self.complete(ready);
    }

    /// Drains the core under the lock: starts, feeds and forgets connections as it asks, wakes
    /// the timer if the deadline moved earlier and the waiters if anything was reported.
    fn drain(
        self: &Arc<Self>,
        st: &mut State<R::Conn>,
        closed: &mut Vec<R::Conn>,
        ready: &mut Vec<Ready>,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let before = st.engine.deadline();
        let reported = st.engine.reported();
        let txn_ends = st.engine.transaction_ends();
        let State { engine, conns, .. } = st;
        let mut unstarted = Vec::new();
        let after = loop {
            let after = engine.drain(
                &mut |action| match action {
                    Output::Connect { conn, host, port } => match R::Conn::open(self, conn, host, port) {
                        Some(c) => {
                            conns.insert(conn, c);
                        }
                        None => unstarted.push(conn),
                    },
                    Output::Transmit { conn, data } => {
                        if let Some(c) = conns.get(&conn) {
                            c.transmit(data);
                        }
                    }
                    Output::Close { conn } => closed.extend(conns.remove(&conn)),
                    Output::Diagnostic(d) => diagnostics.push(*d),
                    Output::Event(_) | Output::Timeout(_) => {} // kept by the engine
                },
                ready,
            );
            if unstarted.is_empty() {
                break after;
            }
            // No attempt could start: the connection failed (the core backs off and retries).
            for conn in unstarted.drain(..) {
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
            self.timer.notify();
        }
        if st.engine.reported() != reported || st.engine.transaction_ends() != txn_ends || finished {
            self.progress.notify();
        }
    }

    /// Completes handles (outside the lock), then wakes the waiters once none is out.
    fn complete(&self, ready: Vec<Ready>) {
        if ready.is_empty() {
            return;
        }
        let n = ready.len();
        let panics = complete_all(ready);
        if self.lock().engine.handles_completed(n, panics) {
            self.progress.notify();
        }
    }

    /// The callback thread ran `n` callbacks: counts them and wakes the waiters.
    fn callbacks_ran(&self, n: u64, panicked: u64) {
        self.lock().engine.callbacks_ran(n, panicked);
        self.progress.notify();
    }

    /// Closes the core without waiting (a dropped producer): the timer, the connections and the
    /// callback thread go on until everything is reported and every callback has run, and the
    /// timer aborts what is left once `delivery.timeout.ms` has passed.
    pub(crate) fn close_in_background(self: &Arc<Self>) {
        self.with(|st| {
            if !st.engine.is_finished() {
                st.engine.close();
                st.abort_at = Instant::now().checked_add(self.delivery_timeout);
            }
        });
        self.timer.notify();
    }
}
