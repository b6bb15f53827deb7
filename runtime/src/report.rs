//! What a runtime hands back for every accepted record: a [`DeliveryHandle`] (wait for it,
//! poll it as a future) or a callback, and the bookkeeping ([`Reports`]) that routes the core's
//! events to them. Shared by idem-std and idem-smol.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use idem_core::producer::{DeliveryError, Event, FatalError, Persisted, RecordId, TransactionError, TransactionOp};

use crate::config::{OpaqueDeliveryCallback, SharedCallback};

/// Where a delivered record landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordMetadata {
    /// The record's id (assigned by `send` in increasing order from 0, per producer).
    pub id: RecordId,
    /// Its partition.
    pub partition: i32,
    /// Its offset; `None` when the broker acknowledged it as a duplicate without an offset, or
    /// when it was acknowledged implicitly by a later batch of the same partition.
    pub offset: Option<i64>,
    /// Its timestamp (CreateTime, or the broker's LogAppendTime when it returned one).
    pub timestamp_ms: i64,
}

/// Why a record was not delivered, and whether it may be in the log anyway (at most once).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveryFailure {
    /// The record's id.
    pub id: RecordId,
    /// Why it failed.
    pub error: DeliveryError,
    /// `Persisted::Possibly` when some attempt's outcome is unknown.
    pub persisted: Persisted,
}

impl fmt::Display for DeliveryFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = match self.persisted {
            Persisted::No => "not persisted",
            Persisted::Possibly => "possibly persisted",
        };
        write!(f, "record {} not delivered ({p}): {}", self.id.0, self.error)
    }
}

impl std::error::Error for DeliveryFailure {}

/// The one final report of an accepted record.
pub type DeliveryResult = Result<RecordMetadata, DeliveryFailure>;

/// A callback run once with a record's report. The producer's runtimes run every callback on
/// the producer's own callback thread ([`crate::CallbackQueue`]), one at a time, in the order the
/// records were reported, never while a producer lock is held. A panic in it is caught and
/// counted ([`ReportCounts::callback_panics`]) and costs only that callback (as the Java client's
/// `ProducerBatch.completeFutureAndFireCallbacks` catches and logs a callback's exception); this
/// needs unwinding panics: with `panic = "abort"` a panic ends the process. A callback that
/// blocks delays only the callbacks after it: handles, sends and deliveries go on, and every
/// call that takes a timeout returns by it.
pub type DeliveryCallback = Box<dyn FnOnce(DeliveryResult) + Send + 'static>;

#[derive(Debug, Default)]
struct SlotState {
    result: Option<DeliveryResult>,
    waker: Option<Waker>,
}

#[derive(Debug, Default)]
struct Slot {
    state: Mutex<SlotState>,
    ready: Condvar,
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The pending report of one accepted record. Exactly one result ever arrives; every accepted
/// record gets one (when the producer closes, at the latest). Wait for it with [`wait`]
/// (blocking), [`wait_timeout`], poll it with [`try_result`], or `.await` it (it is a
/// `Future`, runtime-agnostic). Dropping the handle does not cancel the record.
///
/// [`wait`]: DeliveryHandle::wait
/// [`wait_timeout`]: DeliveryHandle::wait_timeout
/// [`try_result`]: DeliveryHandle::try_result
#[derive(Debug, Clone)]
pub struct DeliveryHandle {
    slot: Arc<Slot>,
}

impl DeliveryHandle {
    /// A handle and the completer that fulfils it.
    pub fn new() -> (DeliveryHandle, Completer) {
        let slot = Arc::new(Slot::default());
        (DeliveryHandle { slot: Arc::clone(&slot) }, Completer(Kind::Handle(slot)))
    }

    /// Blocks until the report arrives.
    pub fn wait(&self) -> DeliveryResult {
        let mut s = self.slot.lock();
        loop {
            if let Some(r) = s.result {
                return r;
            }
            s = self.slot.ready.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Blocks until the report arrives or `timeout` passes (`None` then; the record is still
    /// pending and its report will still arrive).
    pub fn wait_timeout(&self, timeout: Duration) -> Option<DeliveryResult> {
        let deadline = std::time::Instant::now().checked_add(timeout);
        let mut s = self.slot.lock();
        loop {
            if let Some(r) = s.result {
                return Some(r);
            }
            let left = match deadline {
                Some(d) => d.checked_duration_since(std::time::Instant::now()).filter(|l| !l.is_zero())?,
                None => Duration::from_secs(3600),
            };
            s = self.slot.ready.wait_timeout(s, left).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// The report if it has arrived.
    pub fn try_result(&self) -> Option<DeliveryResult> {
        self.slot.lock().result
    }
}

impl Future for DeliveryHandle {
    type Output = DeliveryResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<DeliveryResult> {
        let mut s = self.slot.lock();
        match s.result {
            Some(r) => Poll::Ready(r),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Whoever is told about one record's report: a [`DeliveryHandle`]'s slot or a callback.
pub struct Completer(Kind);

enum Kind {
    Handle(Arc<Slot>),
    Callback(DeliveryCallback),
    /// The producer-wide delivery callback, with this opaque value.
    Opaque(u64),
    /// Nobody: the report is only counted ([`Reports::counts`]).
    Counted,
}

impl fmt::Debug for Completer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Kind::Handle(_) => f.write_str("Completer::Handle"),
            Kind::Callback(_) => f.write_str("Completer::Callback"),
            Kind::Opaque(o) => write!(f, "Completer::Opaque({o})"),
            Kind::Counted => f.write_str("Completer::Counted"),
        }
    }
}

impl Completer {
    /// A completer that runs `f` with the report.
    pub fn callback(f: impl FnOnce(DeliveryResult) + Send + 'static) -> Completer {
        Completer(Kind::Callback(Box::new(f)))
    }

    /// A completer that runs the producer-wide delivery callback ([`Config::on_delivery`]) with
    /// `opaque` and the report (allocates nothing).
    ///
    /// [`Config::on_delivery`]: crate::Config::on_delivery
    pub fn opaque(opaque: u64) -> Completer {
        Completer(Kind::Opaque(opaque))
    }

    /// A completer that tells nobody: the report is only counted ([`ReportCounts`], and the
    /// first failure in [`Reports::first_failure`]). Allocates nothing.
    pub fn counted() -> Completer {
        Completer(Kind::Counted)
    }

    /// Whether this completer runs a callback (else it fills a [`DeliveryHandle`]).
    pub fn is_callback(&self) -> bool {
        matches!(self.0, Kind::Callback(_) | Kind::Opaque(_))
    }

    /// Delivers `result` (wakes the waiter or runs the callback). Call it without holding any
    /// producer lock. Returns `false` if it panicked (a callback's panic): the panic is caught
    /// here, so it costs only this completer and the caller carries on.
    pub fn complete(self, result: DeliveryResult) -> bool {
        self.complete_with(result, None)
    }

    /// [`Completer::complete`], with the producer-wide delivery callback for a completer made
    /// by [`Completer::opaque`] (without one, its report is only counted).
    pub fn complete_with(self, result: DeliveryResult, delivery: Option<&OpaqueDeliveryCallback>) -> bool {
        // The completer is consumed: nothing it touched is looked at after a panic, and the
        // slot's lock is never held while user code runs.
        panic::catch_unwind(AssertUnwindSafe(move || self.complete_unguarded(result, delivery))).is_ok()
    }

    fn complete_unguarded(self, result: DeliveryResult, delivery: Option<&OpaqueDeliveryCallback>) {
        match self.0 {
            Kind::Handle(slot) => {
                let waker = {
                    let mut s = slot.lock();
                    s.result = Some(result);
                    s.waker.take()
                };
                slot.ready.notify_all();
                if let Some(w) = waker {
                    w.wake();
                }
            }
            Kind::Callback(f) => f(result),
            Kind::Opaque(o) => {
                if let Some(SharedCallback(f)) = delivery {
                    f(o, result);
                }
            }
            Kind::Counted => {}
        }
    }
}

/// A report ready to be handed to its completer (outside the producer's lock).
pub type Ready = (Completer, DeliveryResult);

/// Runs every ready completer, each exactly once whatever the others do. Returns how many
/// panicked (each caught by [`Completer::complete`]); add them to the counts with
/// [`Reports::count_callback_panics`].
pub fn complete_all(ready: Vec<Ready>) -> u64 {
    ready.into_iter().map(|(c, r)| u64::from(!c.complete(r))).sum()
}

/// Counts of final reports, over a producer's life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportCounts {
    /// Records reported delivered.
    pub delivered: u64,
    /// Records reported failed (not delivered), including `possibly_persisted` and `aborted`.
    pub failed: u64,
    /// Of the failed: those that may be in the log anyway (at most once).
    pub possibly_persisted: u64,
    /// Of the failed: those failed because `close` ran out of time (`DeliveryError::Aborted`).
    pub aborted: u64,
    /// Delivery callbacks that panicked. Each panic was caught: its record was still counted
    /// once above, and no other record's report, thread or task was affected.
    pub callback_panics: u64,
}

/// Capacity (in words) below which the deque of reported-id bits never shrinks.
const MIN_WORDS: usize = 1024;

/// Gives back the memory a burst grew `deque` by, once it holds well below its capacity
/// (halving at most each time it falls below a quarter, so shrinking stays amortized).
pub(crate) fn shrink_after_burst<T>(deque: &mut VecDeque<T>, min: usize) {
    let cap = deque.capacity();
    if cap > min && deque.len() < cap / 4 {
        deque.shrink_to((deque.len() * 2).max(min));
    }
}

/// Which record ids are reported: one bit per id, from the oldest unreported record to the
/// newest reported (ids are handed out densely, from 0, by the core's `send`). A stalled
/// partition holding up the oldest id costs a bit, not a slot, per record sent after it.
#[derive(Debug, Default)]
struct ReportedIds {
    /// The id of bit 0 of `words[0]` (a multiple of 64): every id below it is reported.
    base: u64,
    /// Bit `i % 64` of word `i / 64` is set once id `base + i` is reported.
    words: VecDeque<u64>,
    /// The id the next accepted record gets.
    next: u64,
}

impl ReportedIds {
    fn accepted(&mut self, id: RecordId) {
        self.next = self.next.max(id.0.saturating_add(1));
    }

    fn reported(&mut self, id: RecordId) {
        let Some(offset) = id.0.checked_sub(self.base) else { return };
        let Ok(word) = usize::try_from(offset / 64) else { return };
        if word >= self.words.len() {
            self.words.resize(word + 1, 0);
        }
        self.words[word] |= 1 << (offset % 64);
        while self.words.front() == Some(&u64::MAX) {
            self.words.pop_front();
            self.base += 64;
        }
        shrink_after_burst(&mut self.words, MIN_WORDS);
    }

    /// Every id below this one is reported.
    fn through(&self) -> u64 {
        // Only accepted ids are ever set: the run stops at `next` at the latest.
        let run = self.words.front().map_or(0, |w| u64::from(w.trailing_ones()));
        self.base.saturating_add(run)
    }
}

/// Turns the core's events into [`Ready`] reports (the completer travels inside the core with
/// its record, as the record's opaque value), counts them, and tracks which ids are reported
/// (for `flush`). Nothing here grows per pending record: its memory is a bit per id from the
/// oldest unreported record to the newest reported.
#[derive(Debug, Default)]
pub struct Reports {
    ids: ReportedIds,
    counts: ReportCounts,
    fatal: Option<FatalError>,
    first_failure: Option<DeliveryFailure>,
    /// The end of the last transactional operation, until taken.
    transaction: Option<(TransactionOp, Result<(), TransactionError>)>,
}

impl Reports {
    /// Takes the end of the last transactional operation reported, if any.
    pub fn take_transaction(&mut self) -> Option<(TransactionOp, Result<(), TransactionError>)> {
        self.transaction.take()
    }

    /// Notes that record `id` was accepted (ids arrive in increasing order).
    pub fn accepted(&mut self, id: RecordId) {
        self.ids.accepted(id);
    }

    /// Every record with an id below this one has been reported.
    pub fn reported_through(&self) -> u64 {
        self.ids.through()
    }

    /// The id the next accepted record will get.
    pub fn next_id(&self) -> u64 {
        self.ids.next
    }

    /// Counts of reports so far.
    pub fn counts(&self) -> ReportCounts {
        self.counts
    }

    /// The fatal error the producer stopped on, if any.
    pub fn fatal(&self) -> Option<FatalError> {
        self.fatal
    }

    /// The first record failure reported, if any.
    pub fn first_failure(&self) -> Option<DeliveryFailure> {
        self.first_failure
    }

    /// Counts `n` more panicked callbacks (the count [`complete_all`] returns).
    pub fn count_callback_panics(&mut self, n: u64) {
        self.counts.callback_panics = self.counts.callback_panics.saturating_add(n);
    }

    /// Takes one event; a record report becomes the [`Ready`] returned (`None` for a fatal error
    /// or a record sent with [`Completer::counted`]).
    pub fn on_event(&mut self, event: Event<Completer>) -> Option<Ready> {
        let (id, completer, result) = match event {
            Event::Delivered { id, partition, offset, timestamp_ms, opaque } => {
                self.counts.delivered += 1;
                (id, opaque, Ok(RecordMetadata { id, partition, offset, timestamp_ms }))
            }
            Event::Failed { id, error, persisted, opaque } => {
                self.counts.failed += 1;
                self.counts.possibly_persisted += u64::from(persisted == Persisted::Possibly);
                self.counts.aborted += u64::from(error == DeliveryError::Aborted);
                let failure = DeliveryFailure { id, error, persisted };
                self.first_failure.get_or_insert(failure);
                (id, opaque, Err(failure))
            }
            Event::Fatal(e) => {
                self.fatal = Some(e);
                return None;
            }
            Event::Transaction { op, result } => {
                self.transaction = Some((op, result));
                return None;
            }
        };
        self.ids.reported(id);
        match completer {
            Completer(Kind::Counted) => None,
            c => Some((c, result)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivered(id: u64, opaque: Completer) -> Event<Completer> {
        Event::Delivered { id: RecordId(id), partition: 2, offset: Some(7), timestamp_ms: 5, opaque }
    }

    #[test]
    fn reports_route_to_their_completer_and_advance_in_order() {
        let mut r = Reports::default();
        let (h0, c0) = DeliveryHandle::new();
        let (h1, c1) = DeliveryHandle::new();
        r.accepted(RecordId(0));
        r.accepted(RecordId(1));
        assert_eq!((r.reported_through(), r.next_id()), (0, 2));
        let ready = r.on_event(delivered(1, c1));
        assert_eq!(r.reported_through(), 0);
        complete_all(ready.into_iter().collect());
        assert_eq!(h1.try_result().map(|m| m.map(|m| m.offset)), Some(Ok(Some(7))));
        assert!(h0.try_result().is_none());
        let failed =
            Event::Failed { id: RecordId(0), error: DeliveryError::Timeout, persisted: Persisted::No, opaque: c0 };
        let ready = r.on_event(failed);
        assert_eq!(r.reported_through(), 2);
        complete_all(ready.into_iter().collect());
        assert!(h0.wait().is_err());
        assert_eq!(r.counts(), ReportCounts { delivered: 1, failed: 1, ..ReportCounts::default() });
        // A counted record is counted, and has nothing to complete.
        r.accepted(RecordId(2));
        assert!(r.on_event(delivered(2, Completer::counted())).is_none());
        assert_eq!((r.reported_through(), r.counts().delivered), (3, 2));
    }

    #[test]
    fn a_panicking_callback_costs_only_itself() {
        let (h0, c0) = DeliveryHandle::new();
        let ran = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = |ran: &std::sync::Arc<std::sync::atomic::AtomicU64>| {
            let ran = std::sync::Arc::clone(ran);
            Completer::callback(move |_| {
                ran.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            })
        };
        let ok = |id| Ok(RecordMetadata { id: RecordId(id), partition: 0, offset: Some(id as i64), timestamp_ms: 0 });
        let ready = vec![
            (Completer::callback(|_| panic!("a callback panics on purpose")), ok(0)),
            (counted(&ran), ok(1)),
            (c0, ok(2)),
            (Completer::callback(|_| panic!("another one")), ok(3)),
            (counted(&ran), ok(4)),
        ];
        assert_eq!(complete_all(ready), 2);
        assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert_eq!(h0.try_result().map(|r| r.map(|m| m.id)), Some(Ok(RecordId(2))));
        let mut r = Reports::default();
        r.count_callback_panics(2);
        assert_eq!(r.counts().callback_panics, 2);
    }

    #[test]
    fn a_stalled_record_costs_a_bit_per_later_record_and_the_bits_shrink_when_it_reports() {
        let mut r = Reports::default();
        let n = 1_000_000u64;
        for id in 0..n {
            r.accepted(RecordId(id));
        }
        // Record 0 stalls (a partition under faults) while every later one is reported.
        for id in 1..n {
            r.on_event(delivered(id, Completer::counted()));
            assert_eq!(r.reported_through(), 0);
        }
        let grown = r.ids.words.capacity();
        assert!(grown >= (n / 64) as usize && grown <= (n / 16) as usize, "{grown} words for {n} ids");
        r.on_event(delivered(0, Completer::counted()));
        assert_eq!(r.reported_through(), n);
        assert!(r.ids.words.capacity() <= 2 * MIN_WORDS, "{}", r.ids.words.capacity());
        // Ids go on being tracked after shrinking, in any order.
        for id in [n + 1, n] {
            r.accepted(RecordId(id));
        }
        r.on_event(delivered(n + 1, Completer::counted()));
        assert_eq!(r.reported_through(), n);
        r.on_event(delivered(n, Completer::counted()));
        assert_eq!(r.reported_through(), n + 2);
    }
}
