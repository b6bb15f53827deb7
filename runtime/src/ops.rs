//! The producer calls that may wait, as [`Operation`]s: each is written once here and run by the
//! runtime, blocking (idem-std) or as a future (idem-smol). Their outputs are what
//! [`crate::Producer`]'s methods document; you only name these types to implement a
//! [`crate::Runtime`].

use std::sync::Arc;
use std::time::Instant;

use idem_core::producer::{RecordId, SendError, TransactionOp};

use crate::config::Record;
use crate::driver::Driver;
use crate::engine::{Engine, STATS_TARGET, Settle, TxnStart};
use crate::producer::{CloseReport, FlushTimeout};
use crate::report::{Completer, DeliveryHandle};
use crate::runtime::{Operation, Runtime, Step};
use crate::transaction::TransactionCallError;

/// Whether `deadline` has passed (`None`: never).
fn passed(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| d <= Instant::now())
}

/// The earlier of two optional deadlines (`None`: none).
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Offers one record to the core until it is accepted, refused, or (when waiting) `max.block.ms`
/// of `QueueFull` have passed.
#[derive(Debug)]
struct Offer<'a, R: Runtime> {
    driver: &'a Arc<Driver<R>>,
    record: &'a Record<'a>,
    /// Handed back by the core while the buffer is full.
    completer: Option<Completer>,
    /// Wait for buffer space (else `QueueFull` at once).
    wait: bool,
    /// Set at the first `QueueFull`: when to give up (`Some(None)`: never).
    until: Option<Option<Instant>>,
}

impl<'a, R: Runtime> Offer<'a, R> {
    fn new(driver: &'a Arc<Driver<R>>, record: &'a Record<'a>, completer: Completer, wait: bool) -> Self {
        Offer { driver, record, completer: Some(completer), wait, until: None }
    }

    /// One offer with no waiting (`try_send`).
    fn once(mut self) -> Result<RecordId, SendError> {
        match self.step() {
            Step::Ready(r) => r,
            Step::Wait { .. } => Err(SendError::QueueFull),
        }
    }

    fn step(&mut self) -> Step<Result<RecordId, SendError>> {
        loop {
            // After a `QueueFull`, listen before offering again: a report that frees space
            // between the offer and the wait is not missed.
            let listener = self.until.map(|_| self.driver.progress.listen());
            let Some(completer) = self.completer.take() else {
                return Step::Ready(Err(SendError::Closed)); // stepped again after its end
            };
            let mut st = self.driver.lock();
            match st.engine.send(self.record, completer) {
                Ok(id) => {
                    self.driver.release(st);
                    return Step::Ready(Ok(id));
                }
                Err((SendError::QueueFull, completer)) if self.wait => {
                    drop(st);
                    self.completer = Some(completer);
                    let max_block = self.driver.max_block;
                    let until = *self.until.get_or_insert_with(|| Instant::now().checked_add(max_block));
                    if passed(until) {
                        return Step::Ready(Err(SendError::QueueFull));
                    }
                    if let Some(listener) = listener {
                        return Step::Wait { listener, deadline: until };
                    }
                }
                Err((e, _)) => return Step::Ready(Err(e)),
            }
        }
    }
}

/// [`crate::Producer::send`]: a handle to the record's report once it is accepted.
#[derive(Debug)]
pub struct SendOp<'a, R: Runtime> {
    offer: Offer<'a, R>,
    handle: DeliveryHandle,
}

impl<'a, R: Runtime> SendOp<'a, R> {
    pub(crate) fn new(driver: &'a Arc<Driver<R>>, record: &'a Record<'a>, wait: bool) -> Self {
        let (handle, completer) = DeliveryHandle::new();
        SendOp { offer: Offer::new(driver, record, completer, wait), handle }
    }

    /// One offer with no waiting (`try_send`).
    pub(crate) fn once(self) -> Result<DeliveryHandle, SendError> {
        self.offer.once().map(|_| self.handle)
    }
}

impl<R: Runtime> Operation for SendOp<'_, R> {
    type Output = Result<DeliveryHandle, SendError>;

    fn step(&mut self) -> Step<Self::Output> {
        let handle = &self.handle;
        self.offer.step().map(|r| r.map(|_| handle.clone()))
    }
}

/// [`crate::Producer::send_with_callback`]: the record's id once it is accepted.
#[derive(Debug)]
pub struct SendWithCallbackOp<'a, R: Runtime>(Offer<'a, R>);

impl<'a, R: Runtime> SendWithCallbackOp<'a, R> {
    pub(crate) fn new(driver: &'a Arc<Driver<R>>, record: &'a Record<'a>, completer: Completer, wait: bool) -> Self {
        SendWithCallbackOp(Offer::new(driver, record, completer, wait))
    }

    /// One offer with no waiting (`try_send_with_callback`).
    pub(crate) fn once(self) -> Result<RecordId, SendError> {
        self.0.once()
    }
}

impl<R: Runtime> Operation for SendWithCallbackOp<'_, R> {
    type Output = Result<RecordId, SendError>;

    fn step(&mut self) -> Step<Self::Output> {
        self.0.step()
    }
}

/// Records [`SendManyOp`] offers per lock acquisition (and per clock read).
const SEND_MANY_CHUNK: usize = 128;

/// Why [`crate::Producer::send_many`] stopped before the end: the records before
/// [`SendManyError::accepted`] were accepted, the one at that index was refused with
/// [`SendManyError::error`] (it gets no report), and those after it were not offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendManyError {
    /// How many records, from the start of the slice, were accepted.
    pub accepted: usize,
    /// Why the record at index `accepted` was refused.
    pub error: SendError,
}

impl std::fmt::Display for SendManyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "record {} of the batch refused: {}", self.accepted, self.error)
    }
}

impl std::error::Error for SendManyError {}

/// [`crate::Producer::send_many`]: offers the records in order, up to [`SEND_MANY_CHUNK`] per
/// lock acquisition and clock read, each waiting for buffer space as `send` does.
#[derive(Debug)]
pub struct SendManyOp<'a, R: Runtime> {
    driver: &'a Arc<Driver<R>>,
    records: &'a [Record<'a>],
    /// The first record not accepted yet.
    next: usize,
    /// Set at a `QueueFull`: when to give up on the record at `next` (`Some(None)`: never).
    until: Option<Option<Instant>>,
}

impl<'a, R: Runtime> SendManyOp<'a, R> {
    pub(crate) fn new(driver: &'a Arc<Driver<R>>, records: &'a [Record<'a>]) -> Self {
        SendManyOp { driver, records, next: 0, until: None }
    }
}

impl<R: Runtime> Operation for SendManyOp<'_, R> {
    type Output = Result<(), SendManyError>;

    fn step(&mut self) -> Step<Self::Output> {
        loop {
            let Some(rest) = self.records.get(self.next..).filter(|r| !r.is_empty()) else {
                return Step::Ready(Ok(()));
            };
            // After a `QueueFull`, listen before offering again (as `Offer` does).
            let listener = self.until.map(|_| self.driver.progress.listen());
            let mut st = self.driver.lock();
            let now = st.engine.clock().now();
            let wall = crate::config::wall_clock_ms();
            let mut refused = None;
            for record in rest.iter().take(SEND_MANY_CHUNK) {
                match st.engine.send_at(now, &record.to_core_at(|| wall), Completer::counted()) {
                    Ok(_) => {
                        self.next += 1;
                        self.until = None;
                    }
                    Err((e, _)) => {
                        refused = Some(e);
                        break;
                    }
                }
            }
            self.driver.release(st);
            match refused {
                None => {}
                Some(SendError::QueueFull) => {
                    let max_block = self.driver.max_block;
                    let until = *self.until.get_or_insert_with(|| Instant::now().checked_add(max_block));
                    if passed(until) {
                        return Step::Ready(Err(SendManyError { accepted: self.next, error: SendError::QueueFull }));
                    }
                    if let Some(listener) = listener {
                        return Step::Wait { listener, deadline: until };
                    }
                }
                Some(error) => return Step::Ready(Err(SendManyError { accepted: self.next, error })),
            }
        }
    }
}

/// What `flush` and `close` share: the deadline, and what they wait for once started.
#[derive(Debug)]
struct Settling<'a, R: Runtime> {
    driver: &'a Arc<Driver<R>>,
    deadline: Option<Instant>,
    /// Set by the first step, which flushes or closes the core.
    settle: Option<Settle>,
}

impl<'a, R: Runtime> Settling<'a, R> {
    fn new(driver: &'a Arc<Driver<R>>, deadline: Option<Instant>) -> Self {
        Settling { driver, deadline, settle: None }
    }

    /// The driver, the deadline and what to wait for: `start` (flush or close the core, say
    /// what that waits for) runs under the lock at the first step, then the core is drained.
    fn started(
        &mut self,
        start: impl FnOnce(&mut Engine) -> Settle,
    ) -> (&'a Arc<Driver<R>>, Option<Instant>, &mut Settle) {
        let driver = self.driver;
        (driver, self.deadline, self.settle.get_or_insert_with(|| driver.with(|st| start(&mut st.engine))))
    }
}

/// [`crate::Producer::flush_timeout`]: seals the open batches, then waits for what was sent
/// before it.
#[derive(Debug)]
pub struct FlushTimeoutOp<'a, R: Runtime>(Settling<'a, R>);

impl<'a, R: Runtime> FlushTimeoutOp<'a, R> {
    pub(crate) fn new(driver: &'a Arc<Driver<R>>, deadline: Option<Instant>) -> Self {
        FlushTimeoutOp(Settling::new(driver, deadline))
    }
}

impl<R: Runtime> Operation for FlushTimeoutOp<'_, R> {
    type Output = Result<(), FlushTimeout>;

    fn step(&mut self) -> Step<Self::Output> {
        let (driver, deadline, settle) = self.0.started(|engine| {
            let settle = engine.settle(engine.next_id());
            engine.flush();
            settle
        });
        let listener = driver.progress.listen();
        let st = driver.lock();
        if st.engine.is_settled(settle) {
            Step::Ready(Ok(()))
        } else if passed(deadline) {
            Step::Ready(Err(st.engine.flush_timeout(settle)))
        } else {
            Step::Wait { listener, deadline }
        }
    }
}

/// [`crate::Producer::flush`]: [`FlushTimeoutOp`] with no deadline.
#[derive(Debug)]
pub struct FlushOp<'a, R: Runtime>(FlushTimeoutOp<'a, R>);

impl<'a, R: Runtime> FlushOp<'a, R> {
    pub(crate) fn new(driver: &'a Arc<Driver<R>>) -> Self {
        FlushOp(FlushTimeoutOp::new(driver, None))
    }
}

impl<R: Runtime> Operation for FlushOp<'_, R> {
    type Output = ();

    fn step(&mut self) -> Step<()> {
        // With no deadline it ends only settled.
        self.0.step().map(|_| ())
    }
}

/// [`crate::Producer::close`] and [`crate::Producer::close_timeout`]: closes the core, waits for
/// everything to be reported and the callbacks to run, then aborts what is left.
#[derive(Debug)]
pub struct CloseOp<'a, R: Runtime>(Settling<'a, R>);

impl<'a, R: Runtime> CloseOp<'a, R> {
    pub(crate) fn new(driver: &'a Arc<Driver<R>>, deadline: Option<Instant>) -> Self {
        CloseOp(Settling::new(driver, deadline))
    }
}

impl<R: Runtime> Operation for CloseOp<'_, R> {
    type Output = CloseReport;

    fn step(&mut self) -> Step<CloseReport> {
        let (driver, deadline, settle) = self.0.started(|engine| {
            if !engine.is_finished() {
                engine.close();
            }
            engine.settle(u64::MAX)
        });
        loop {
            let listener = driver.progress.listen();
            let mut st = driver.lock();
            // Past the deadline only callbacks may be left to run: they are not waited for.
            if st.engine.is_settled(settle) || (passed(deadline) && st.engine.is_finished()) {
                return Step::Ready(CloseReport { counts: st.engine.counts(), fatal: st.engine.fatal() });
            }
            if !passed(deadline) {
                return Step::Wait { listener, deadline };
            }
            // Fails what is left (its handles are completed here).
            st.engine.abort();
            driver.release(st);
        }
    }
}

/// The waiting transactional calls ([`crate::Producer::init_transactions`],
/// `send_offsets_to_transaction`, `commit_transaction`, `abort_transaction`): the first step
/// starts the operation in the core (or joins the same operation an earlier call started and
/// stopped waiting for), then it waits until the core reports the operation's end, the producer
/// finishes, or the timeout passes ([`TransactionCallError::TimedOut`]: the operation goes on).
/// A commit or an abort that succeeds also waits, as `flush` does, for the handles and callbacks
/// of the records sent before it: as with the Java client, whose callbacks have run when
/// `commitTransaction` returns. A failed one returns at once ([`TransactionOp::may_return`]):
/// the records of a transaction that turned abortable are reported by the abort that follows.
#[derive(Debug)]
pub struct TransactionCall<'a, R: Runtime> {
    driver: &'a Arc<Driver<R>>,
    deadline: Option<Instant>,
    op: TransactionOp,
    /// What to start, until started.
    call: Option<TxnStart<'a>>,
    /// The operation's number, once started or joined, and (commit, abort) the records it
    /// waits for.
    started: Option<(u64, Option<Settle>)>,
}

impl<'a, R: Runtime> TransactionCall<'a, R> {
    pub(crate) fn new(driver: &'a Arc<Driver<R>>, call: TxnStart<'a>, deadline: Option<Instant>) -> Self {
        TransactionCall { driver, deadline, op: call.op(), call: Some(call), started: None }
    }
}

impl<R: Runtime> Operation for TransactionCall<'_, R> {
    type Output = Result<(), TransactionCallError>;

    fn step(&mut self) -> Step<Self::Output> {
        let driver = self.driver;
        let ends_transaction = matches!(self.op, TransactionOp::Commit | TransactionOp::Abort);
        let (n, settle) = match (&mut self.started, self.call.take()) {
            (Some(started), _) => started,
            (None, Some(call)) => match driver.with(|st| {
                let settle = ends_transaction.then(|| st.engine.settle(st.engine.next_id()));
                st.engine.start_transaction_op(call).map(|n| (n, settle))
            }) {
                Ok(started) => self.started.insert(started),
                Err(e) => return Step::Ready(Err(e)),
            },
            (None, None) => return Step::Ready(Err(TransactionCallError::Closed)), // stepped after its end
        };
        let listener = driver.progress.listen();
        let mut st = driver.lock();
        let settled = settle.as_mut().is_none_or(|s| st.engine.is_settled(s));
        // A failed end returns at once: its records are settled by the abort that follows.
        let ends = st.engine.transaction_failed(*n).is_some_and(|failed| self.op.may_return(failed, settled));
        if let Some(result) = ends.then(|| st.engine.transaction_result(*n)).flatten() {
            return Step::Ready(result);
        }
        if passed(self.deadline) {
            return Step::Ready(Err(TransactionCallError::TimedOut(self.op)));
        }
        Step::Wait { listener, deadline: self.deadline }
    }
}

/// The producer's timer loop: ticks the core at its deadlines (linger, retries, timeouts), takes
/// the statistics every `statistics.interval.ms`, and aborts what a background close left at
/// its bound. Ends once the core has finished.
#[derive(Debug)]
pub struct TimerOp<R: Runtime> {
    driver: Arc<Driver<R>>,
}

impl<R: Runtime> TimerOp<R> {
    pub(crate) fn new(driver: Arc<Driver<R>>) -> Self {
        TimerOp { driver }
    }
}

impl<R: Runtime> Operation for TimerOp<R> {
    type Output = ();

    fn step(&mut self) -> Step<()> {
        loop {
            let listener = self.driver.timer.listen();
            let mut st = self.driver.lock();
            if st.engine.is_finished() {
                return Step::Ready(());
            }
            let due = st.engine.deadline().map(|d| st.engine.clock().to_std(d));
            let stats_due = st.engine.stats_deadline();
            let token_due = st.engine.token_deadline();
            let mut to_log = None;
            if passed(st.abort_at) {
                st.engine.abort();
            } else if passed(due) {
                st.engine.tick();
            } else if passed(stats_due) {
                to_log = st.engine.take_statistics(Instant::now());
            } else if let Some(provider) = st.engine.token_provider_due(Instant::now()) {
                // The application's provider runs without the producer's lock.
                self.driver.release(st);
                let token = (provider.0)();
                let mut st = self.driver.lock();
                st.engine.set_oauthbearer_token(token);
                self.driver.release(st);
                continue;
            } else {
                let deadline = earliest(earliest(earliest(due, stats_due), token_due), st.abort_at);
                return Step::Wait { listener, deadline };
            }
            self.driver.release(st);
            if let Some(stats) = to_log {
                log::info!(target: STATS_TARGET, "{}", stats.json());
            }
        }
    }
}
