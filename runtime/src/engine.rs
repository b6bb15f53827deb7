//! The core producer with its clock, the report routing, the statistics timer and the
//! bookkeeping `flush` and `close` wait on. [`crate::Driver`] keeps one [`Engine`] behind its
//! lock, feeds it, performs the socket actions (the core's [`Output::Connect`],
//! [`Output::Transmit`], [`Output::Close`]) that [`Engine::drain`] hands out, logs the
//! diagnostics ([`Output::Diagnostic`], see [`log_diagnostic`]) after releasing the lock,
//! completes the handles it hands out, and runs the callback thread of [`Engine::callbacks`].

use std::sync::Arc;

use idem_core::producer::{
    ConfigError, ConsumerGroupMetadata, Diagnostic, Input, NonceSource, Output, Producer as Core, ProducerMetrics,
    RecordId, SendError, TransactionError, TransactionOp, TransactionState, TxnOffset,
};
use idem_core::{Duration, Instant};

use crate::callbacks::CallbackQueue;
use crate::config::{
    Config, OAuthBearerToken, OAuthBearerTokenProvider, Record, SharedCallback, Statistics, StatsCallback,
};
use crate::producer::FlushTimeout;
use crate::report::{Completer, Ready, ReportCounts, Reports};
use crate::transaction::{Join, TransactionCallError, TxnCalls};

/// Maps `std::time::Instant` to the core's microsecond timeline (origin: creation).
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub(crate) origin: std::time::Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

impl Clock {
    /// A clock whose origin is now.
    pub fn new() -> Clock {
        Clock { origin: std::time::Instant::now() }
    }

    /// Now on the core's timeline.
    pub fn now(&self) -> Instant {
        self.to_core(std::time::Instant::now())
    }

    /// `t` on the core's timeline (saturating at the origin).
    pub fn to_core(&self, t: std::time::Instant) -> Instant {
        let us = t.saturating_duration_since(self.origin).as_micros();
        Instant::from_micros(u64::try_from(us).unwrap_or(u64::MAX))
    }

    /// A core instant as a `std::time::Instant` (far future saturates to ~100 years).
    pub fn to_std(&self, t: Instant) -> std::time::Instant {
        let d = std::time::Duration::from_micros(t.as_micros());
        self.origin
            .checked_add(d)
            .unwrap_or_else(|| std::time::Instant::now() + std::time::Duration::from_secs(3_153_600_000))
    }
}

/// Converts a std duration to the core's (saturating).
pub fn core_duration(d: std::time::Duration) -> Duration {
    Duration::from_micros(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// Converts a core duration to std's, at least 1 µs.
fn std_duration(d: Duration) -> std::time::Duration {
    std::time::Duration::from_micros(d.as_micros().max(1))
}

/// Forwards a core diagnostic to the `log` crate: level debug, target `idem::` and its context
/// (`idem::broker`, `idem::metadata`, `idem::msg`, `idem::eos`, `idem::protocol`), the
/// diagnostic's one line as the message. The runtimes call it for every diagnostic, outside the
/// producer's lock; whatever logger the application installed prints it (none is forced).
pub fn log_diagnostic(d: &Diagnostic) {
    log::debug!(target: d.context().target(), "{d}");
}

/// The `log` crate target of the statistics logged when no callback takes them.
pub const STATS_TARGET: &str = "idem::stats";

/// When the next statistics are due and what the last ones were (`statistics.interval.ms`).
#[derive(Debug)]
struct StatsTimer {
    interval: std::time::Duration,
    next: std::time::Instant,
    previous: ProducerMetrics,
    callback: Option<StatsCallback>,
}

/// The core, its clock, the completers of pending records and the callback queue.
#[derive(Debug)]
pub struct Engine {
    /// The core; each record carries its completer as its opaque value.
    core: Core<Completer>,
    reports: Reports,
    clock: Clock,
    deadline: Option<Instant>,
    callbacks: Arc<CallbackQueue>,
    /// Callbacks of the current drain, queued together at its end (keeps its capacity).
    outbox: Vec<Ready>,
    /// Handles handed out by [`Engine::drain`] and not reported completed yet.
    handles_out: usize,
    /// Callbacks queued and run, over the producer's life.
    callbacks_queued: u64,
    callbacks_ran: u64,
    /// `statistics.interval.ms`, when on.
    stats: Option<StatsTimer>,
    /// The OAUTHBEARER token provider and when to call it next, when there is one.
    token: Option<(OAuthBearerTokenProvider, std::time::Instant)>,
    /// The transactional operations started and their results, until a caller takes them.
    txn: TxnCalls,
    /// `close` or `abort` was called: transactional calls answer `Closed`.
    closed: bool,
}

/// A transactional operation that waits for its end (see [`Engine::start_transaction_op`]).
#[derive(Clone, Copy, Debug)]
pub enum TxnStart<'a> {
    /// `init_transactions`.
    Init,
    /// `send_offsets_to_transaction` of these offsets and this group.
    SendOffsets(&'a [TxnOffset<'a>], &'a ConsumerGroupMetadata),
    /// `commit_transaction`.
    Commit,
    /// `abort_transaction`.
    Abort,
}

impl TxnStart<'_> {
    /// The operation, as the core names it.
    pub fn op(&self) -> TransactionOp {
        match self {
            TxnStart::Init => TransactionOp::Init,
            TxnStart::SendOffsets(..) => TransactionOp::SendOffsets,
            TxnStart::Commit => TransactionOp::Commit,
            TxnStart::Abort => TransactionOp::Abort,
        }
    }
}

/// A provider's token is asked for again at 80% of its lifetime (librdkafka's refresh point),
/// or after this long when the provider failed (librdkafka's 10 s).
const TOKEN_REFRESH_AT: f64 = 0.8;
const TOKEN_RETRY: std::time::Duration = std::time::Duration::from_secs(10);

/// SCRAM client nonces from the operating system's generator (`getrandom`), never from the
/// core's seeded one; `None` (the authentication then fails typed) if the OS has none.
fn os_nonce_source() -> NonceSource {
    NonceSource::new(|| {
        let mut nonce = [0u8; 32];
        getrandom::fill(&mut nonce).ok().map(|()| nonce)
    })
}

/// What one `flush` or `close` waits for: the records below an id reported, their handles
/// completed and, unless it waits on the callback thread, the callbacks queued by then run.
/// Made by [`Engine::settle`], checked by [`Engine::is_settled`].
#[derive(Clone, Copy, Debug)]
pub struct Settle {
    /// Every record below this id is to be reported (`u64::MAX`: until the core finishes).
    through: u64,
    /// The callbacks queued when those reports were in (set then).
    callbacks: Option<u64>,
    /// Waiting on the callback thread: callbacks are not waited for (they would wait for it).
    on_callback_thread: bool,
}

impl Engine {
    /// Validates `config` and starts the core now. Start the callback thread with
    /// [`CallbackQueue::spawn`] on [`Engine::callbacks`]: the callbacks of reported records wait
    /// there.
    pub fn new(config: &Config) -> Result<Engine, ConfigError> {
        let clock = Clock::new();
        let mut core_config = config.core.clone();
        let token = match &config.oauthbearer_token_provider {
            Some(provider) => {
                let t = (provider.0)().map_err(|why| ConfigError::InvalidValue {
                    key: "sasl.oauthbearer.token".into(),
                    value: why,
                    expected: "a token from the OAUTHBEARER token provider",
                })?;
                core_config.set("sasl.oauthbearer.token", &t.value)?;
                Some((provider.clone(), std::time::Instant::now() + t.lifetime.mul_f64(TOKEN_REFRESH_AT)))
            }
            None => None,
        };
        #[cfg(feature = "tls")]
        crate::config::tls::install_system(&mut core_config);
        let mut core = Core::with_opaque(core_config, clock.now())?;
        core.set_nonce_source(os_nonce_source());
        let stats = (!config.statistics_interval.is_zero()).then(|| StatsTimer {
            interval: config.statistics_interval,
            next: clock.origin + config.statistics_interval,
            previous: ProducerMetrics::default(),
            callback: config.stats_callback.clone(),
        });
        Ok(Engine {
            core,
            reports: Reports::default(),
            clock,
            deadline: None,
            callbacks: Arc::new(CallbackQueue::new(config.delivery_callback.clone())),
            outbox: Vec::new(),
            handles_out: 0,
            callbacks_queued: 0,
            callbacks_ran: 0,
            stats,
            token,
            txn: TxnCalls::default(),
            closed: false,
        })
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Hands `record` to the core; on success `completer` will get its report. On error the
    /// completer is handed back unused (a refused record gets no report).
    pub fn send(&mut self, record: &Record<'_>, completer: Completer) -> Result<RecordId, (SendError, Completer)> {
        let now = self.clock.now();
        self.send_at(now, &record.to_core(), completer)
    }

    /// [`Engine::send`] of a record the caller completed, at `now` (read once for many records
    /// sent together, as [`crate::ops::SendManyOp`] does).
    pub fn send_at(
        &mut self,
        now: Instant,
        record: &idem_core::producer::ProducerRecord<'_>,
        completer: Completer,
    ) -> Result<RecordId, (SendError, Completer)> {
        let id = self.core.send_with_opaque(now, record, completer)?;
        self.reports.accepted(id);
        Ok(id)
    }

    /// Feeds a network fact (the runtime fills in `now` itself via [`Engine::clock`]).
    pub fn handle_input(&mut self, input: Input<'_>) {
        self.core.handle_input(input);
    }

    /// Tick: handles whatever timers are due now.
    pub fn tick(&mut self) {
        let now = self.clock.now();
        self.core.handle_input(Input::Timeout(now));
    }

    /// Seals every open batch.
    pub fn flush(&mut self) {
        let now = self.clock.now();
        self.core.flush(now);
    }

    /// Stops accepting records; delivers what is buffered, then finishes.
    pub fn close(&mut self) {
        let now = self.clock.now();
        self.closed = true;
        self.core.close(now);
    }

    /// Fails everything pending (`DeliveryError::Aborted`) and finishes.
    pub fn abort(&mut self) {
        let now = self.clock.now();
        self.closed = true;
        self.core.abort(now);
    }

    /// Where the transactional producer stands; `None` without a `transactional.id`.
    pub fn transaction_state(&self) -> Option<TransactionState> {
        self.core.transaction_state()
    }

    /// The checks every transactional call makes first: a closed producer answers `Closed`, a
    /// stopped one its fatal error.
    fn txn_refusal(&self) -> Option<TransactionCallError> {
        match self.core.fatal_error() {
            Some(e) => Some(TransactionError::Fatal(e).into()),
            None if self.closed || self.core.is_finished() => Some(TransactionCallError::Closed),
            None => None,
        }
    }

    /// `begin_transaction` (ends at once): refused while an operation awaits its caller.
    pub fn begin_transaction(&mut self) -> Result<(), TransactionCallError> {
        if let Some(e) = self.txn_refusal() {
            return Err(e);
        }
        self.txn.join(TransactionOp::Begin)?;
        Ok(self.core.begin_transaction()?)
    }

    /// Starts `call` in the core, or joins the same operation started by an earlier call whose
    /// result no caller has taken (one that timed out): the number to wait for with
    /// [`Engine::transaction_result`]. Refused while another operation awaits its caller.
    pub fn start_transaction_op(&mut self, call: TxnStart<'_>) -> Result<u64, TransactionCallError> {
        let op = call.op();
        if let Join::Wait(n) = self.txn.join(op)? {
            return Ok(n);
        }
        if let Some(e) = self.txn_refusal() {
            return Err(e);
        }
        let now = self.clock.now();
        match call {
            TxnStart::Init => self.core.init_transactions(now),
            TxnStart::SendOffsets(offsets, group) => self.core.send_offsets_to_transaction(now, offsets, group),
            TxnStart::Commit => self.core.commit_transaction(now),
            TxnStart::Abort => self.core.abort_transaction(now),
        }?;
        Ok(self.txn.started(op))
    }

    /// The end of operation `n` (from [`Engine::start_transaction_op`]) once reported; `Closed`
    /// (or the fatal error) if the producer finished without ending it. Taking it lets the other
    /// transactional calls go on.
    pub fn transaction_result(&mut self, n: u64) -> Option<Result<(), TransactionCallError>> {
        if let Some(r) = self.txn.take(n) {
            return Some(r.map_err(TransactionCallError::from));
        }
        self.core.is_finished().then(|| Err(self.txn_refusal().unwrap_or(TransactionCallError::Closed)))
    }

    /// Whether operation `n` ended with an error, if it ended or the producer finished
    /// (nothing taken: [`Engine::transaction_result`] takes it).
    pub fn transaction_failed(&self, n: u64) -> Option<bool> {
        self.txn.failed(n).or_else(|| self.core.is_finished().then_some(true))
    }

    /// Transactional operations ended so far (wake the waiters when it moves).
    pub fn transaction_ends(&self) -> u64 {
        self.txn.ends()
    }

    /// Drains the core: socket actions ([`Output::Connect`], [`Output::Transmit`],
    /// [`Output::Close`]) and diagnostics ([`Output::Diagnostic`]: hand them to
    /// [`log_diagnostic`] once the lock is released), and only those, go to `io`, in the
    /// core's order; the reports of records
    /// sent with a handle go to `ready` (complete them after releasing the lock, then call
    /// [`Engine::handles_completed`]); those of records sent with a callback go to the callback
    /// queue, in report order. Returns the next deadline, also kept as [`Engine::deadline`].
    pub fn drain(&mut self, io: &mut impl FnMut(Output<Completer>), ready: &mut Vec<Ready>) -> Option<Instant> {
        let handles_before = ready.len();
        let deadline = loop {
            match self.core.poll_output() {
                action @ (Output::Connect { .. }
                | Output::Transmit { .. }
                | Output::Close { .. }
                | Output::Diagnostic(_)) => io(action),
                Output::Event(e) => match self.reports.on_event(e) {
                    Some(r) if r.0.is_callback() => self.outbox.push(r),
                    Some(r) => ready.push(r),
                    None => {
                        if let Some((_, result)) = self.reports.take_transaction() {
                            self.txn.on_end(result);
                        }
                    }
                },
                Output::Timeout(t) => {
                    self.deadline = t;
                    break t;
                }
            }
        };
        self.handles_out += ready.len().saturating_sub(handles_before);
        self.callbacks_queued += self.outbox.len() as u64;
        self.callbacks.push(&mut self.outbox);
        if self.core.is_finished() {
            self.callbacks.close();
        }
        deadline
    }

    /// The queue of this producer's callbacks (its thread runs them).
    pub fn callbacks(&self) -> &Arc<CallbackQueue> {
        &self.callbacks
    }

    /// `n` handles from [`Engine::drain`] were completed (`panicked` of them panicked: a waker's
    /// panic, counted with the callbacks'). Returns whether none is out any more: wake the
    /// waiters of `flush` and `close` then.
    pub fn handles_completed(&mut self, n: usize, panicked: u64) -> bool {
        self.handles_out = self.handles_out.saturating_sub(n);
        self.reports.count_callback_panics(panicked);
        self.handles_out == 0
    }

    /// The callback thread ran `n` more callbacks, `panicked` of which panicked.
    pub fn callbacks_ran(&mut self, n: u64, panicked: u64) {
        self.callbacks_ran = self.callbacks_ran.saturating_add(n);
        self.reports.count_callback_panics(panicked);
    }

    /// What a `flush` (`through`: the next id when it started) or a `close` (`u64::MAX`) waits
    /// for, from the calling thread.
    pub fn settle(&self, through: u64) -> Settle {
        Settle { through, callbacks: None, on_callback_thread: self.callbacks.on_callback_thread() }
    }

    /// Whether what `s` waits for is done: the records reported (or the core finished), every
    /// handle handed out completed, and the callbacks queued by then run (not waited for on the
    /// callback thread).
    pub fn is_settled(&self, s: &mut Settle) -> bool {
        let reported = self.reported_through() >= s.through || self.is_finished();
        if !reported || self.handles_out > 0 {
            return false;
        }
        s.on_callback_thread || self.callbacks_ran >= *s.callbacks.get_or_insert(self.callbacks_queued)
    }

    /// What a `flush` waiting for `s` reports when its time is up.
    pub fn flush_timeout(&self, s: &Settle) -> FlushTimeout {
        let queued = s.callbacks.unwrap_or(self.callbacks_queued);
        FlushTimeout {
            pending: s.through.saturating_sub(self.reported_through()),
            callbacks_pending: queued.saturating_sub(self.callbacks_ran),
        }
    }

    /// The deadline returned by the last [`Engine::drain`].
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Whether the core has stopped (closed and drained, aborted, or fatally failed).
    pub fn is_finished(&self) -> bool {
        self.core.is_finished()
    }

    /// Every record with an id below this has been reported.
    pub fn reported_through(&self) -> u64 {
        self.reports.reported_through()
    }

    /// The id the next accepted record gets.
    pub fn next_id(&self) -> u64 {
        self.reports.next_id()
    }

    /// Records reported so far (delivered or failed), over the producer's life.
    pub fn reported(&self) -> u64 {
        let c = self.reports.counts();
        c.delivered.saturating_add(c.failed)
    }

    /// Report counts so far.
    pub fn counts(&self) -> ReportCounts {
        self.reports.counts()
    }

    /// The first record failure reported, if any.
    pub fn first_failure(&self) -> Option<crate::report::DeliveryFailure> {
        self.reports.first_failure()
    }

    /// The fatal error the producer stopped on, if any.
    pub fn fatal(&self) -> Option<idem_core::producer::FatalError> {
        self.reports.fatal()
    }

    /// A snapshot of the core's metrics now.
    pub fn metrics(&self) -> ProducerMetrics {
        self.core.metrics_at(self.clock.now())
    }

    /// When the OAUTHBEARER token provider is to be called next, if there is one.
    pub fn token_deadline(&self) -> Option<std::time::Instant> {
        self.token.as_ref().map(|t| t.1)
    }

    /// The OAUTHBEARER token provider if it is due at `now` (call it without holding the
    /// producer's lock, then hand the result to [`Engine::set_oauthbearer_token`]).
    pub fn token_provider_due(&self, now: std::time::Instant) -> Option<OAuthBearerTokenProvider> {
        self.token.as_ref().filter(|t| t.1 <= now).map(|t| t.0.clone())
    }

    /// Takes a provider's answer: a token is used from the next authentication on and asked
    /// for again at 80% of its lifetime; a failure (logged, warning level, target
    /// `idem::broker`) or an invalid token is asked for again in 10 s.
    pub fn set_oauthbearer_token(&mut self, token: Result<OAuthBearerToken, String>) {
        let now = std::time::Instant::now();
        let next = match token.map(|t| (self.core.set_oauthbearer_token(&t.value), t.lifetime)) {
            Ok((Ok(()), lifetime)) => now + lifetime.mul_f64(TOKEN_REFRESH_AT),
            Ok((Err(e), _)) => {
                log::warn!(target: "idem::broker", "OAUTHBEARER token provider: {e}");
                now + TOKEN_RETRY
            }
            Err(why) => {
                log::warn!(target: "idem::broker", "OAUTHBEARER token provider failed: {why}");
                now + TOKEN_RETRY
            }
        };
        if let Some(t) = self.token.as_mut() {
            t.1 = next;
        }
    }

    /// When the next statistics are due (`statistics.interval.ms`), if they are on.
    pub fn stats_deadline(&self) -> Option<std::time::Instant> {
        self.stats.as_ref().map(|s| s.next)
    }

    /// If statistics are due at `now`: takes them (rates since the previous ones) and hands
    /// them to the statistics callback, queued on the callback thread behind the reports so
    /// far; without a callback, returns them, for the caller to log once the lock is released
    /// (see [`STATS_TARGET`]).
    pub fn take_statistics(&mut self, now: std::time::Instant) -> Option<Statistics> {
        let due = self.stats.as_ref().is_some_and(|s| s.next <= now);
        if !due {
            return None;
        }
        let metrics = self.metrics();
        let counts = self.counts();
        let s = self.stats.as_mut()?;
        // The next one an interval later, skipping what was missed (never a burst).
        while s.next <= now {
            s.next += s.interval;
        }
        let interval = metrics.since(&s.previous);
        s.previous = metrics.clone();
        let stats = Statistics { metrics, interval, counts };
        match s.callback.clone() {
            Some(SharedCallback(f)) => {
                self.callbacks_queued += 1;
                self.callbacks.push_task(move || f(&stats));
                None
            }
            None => Some(stats),
        }
    }

    /// How long the runtime may take to open one connection: the core's
    /// `connection_setup_timeout` as a std duration, at least 1 µs.
    pub fn connect_timeout(&self) -> std::time::Duration {
        std_duration(self.core.config().connection_setup_timeout)
    }

    /// `delivery.timeout.ms` as a std duration (at least 1 µs): the core reports every record
    /// within it of its `send`; a close without a timeout of its own is bounded by it.
    pub fn delivery_timeout(&self) -> std::time::Duration {
        std_duration(self.core.config().delivery_timeout)
    }

    /// The core's settings (for timeouts the runtime applies, e.g. connection setup).
    pub fn core_config(&self) -> &idem_core::producer::ProducerConfig {
        self.core.config()
    }
}
