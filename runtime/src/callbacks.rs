//! The delivery callbacks' own thread: a producer hands the callbacks of reported records to one
//! [`CallbackQueue`], in report order, and one thread runs them, one at a time. So a callback that
//! blocks (sleeps, waits on a lock, calls `flush` or `close`) delays only the callbacks queued
//! after it: the threads and tasks that drive the producer never run user code, handles are
//! completed where reports are produced, and every call that takes a timeout returns by it.
//! Shared by idem-std and idem-smol (a callback is a sync closure: a std thread suits both).

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::{self, ThreadId};

use idem_core::producer::ConfigError;

use crate::config::OpaqueDeliveryCallback;
use crate::report::{Ready, shrink_after_burst};

/// Capacity below which the callback thread's batch deque never shrinks.
const MIN_BATCH: usize = 1024;

/// One callback to run: a record's report for its completer, or another task of the user's
/// (a statistics callback).
enum Job {
    Report(Ready),
    Task(Box<dyn FnOnce() + Send>),
}

impl Job {
    /// Runs it (a record sent with an opaque value: `delivery` with it); false if it panicked
    /// (the panic is caught).
    fn run(self, delivery: Option<&OpaqueDeliveryCallback>) -> bool {
        match self {
            Job::Report((c, r)) => c.complete_with(r, delivery),
            Job::Task(f) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_ok(),
        }
    }
}

#[derive(Default)]
struct Queue {
    /// Callbacks with their reports (and tasks), in the order queued.
    pending: VecDeque<Job>,
    /// No more callbacks will come: the thread ends once `pending` is empty.
    closed: bool,
}

/// The callbacks of one producer waiting for its callback thread (see the module docs).
#[derive(Default)]
pub struct CallbackQueue {
    /// The producer-wide delivery callback of records sent with an opaque value.
    delivery: Option<OpaqueDeliveryCallback>,
    queue: Mutex<Queue>,
    /// Signalled when callbacks are queued or the queue is closed.
    wake: Condvar,
    /// The callback thread, once it runs.
    thread: OnceLock<ThreadId>,
}

impl std::fmt::Debug for CallbackQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let q = self.lock();
        f.debug_struct("CallbackQueue").field("pending", &q.pending.len()).field("closed", &q.closed).finish()
    }
}

impl CallbackQueue {
    /// A queue whose records sent with an opaque value are reported to `delivery`.
    pub fn new(delivery: Option<OpaqueDeliveryCallback>) -> CallbackQueue {
        CallbackQueue { delivery, ..CallbackQueue::default() }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves every callback of `callbacks` to the end of the queue, in order (`callbacks` keeps
    /// its capacity). Call it under the producer's lock, so the queue follows report order.
    pub(crate) fn push(&self, callbacks: &mut Vec<Ready>) {
        if callbacks.is_empty() {
            return;
        }
        self.lock().pending.extend(callbacks.drain(..).map(Job::Report));
        self.wake.notify_one();
    }

    /// Queues `task` behind the callbacks queued so far (run and counted like them; a panic is
    /// caught and counted).
    pub(crate) fn push_task(&self, task: impl FnOnce() + Send + 'static) {
        self.lock().pending.push_back(Job::Task(Box::new(task)));
        self.wake.notify_one();
    }

    /// No more callbacks will come: the thread runs those queued, then ends.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_one();
    }

    /// Whether the calling thread is this queue's callback thread (a callback calling into its
    /// own producer: waiting there for callbacks would wait for itself).
    pub fn on_callback_thread(&self) -> bool {
        self.thread.get() == Some(&thread::current().id())
    }

    /// Starts the callback thread. After every batch of callbacks it ran (those queued when it
    /// looked) it calls `after(ran, panicked)`: count them and wake the waiters of `flush` and
    /// `close`. The thread ends once the queue is closed and empty. An error if no thread could
    /// be spawned.
    pub fn spawn(self: &Arc<Self>, after: impl FnMut(u64, u64) + Send + 'static) -> Result<(), ConfigError> {
        let queue = Arc::clone(self);
        match thread::Builder::new().name("idem-callbacks".into()).spawn(move || queue.run(after)) {
            Ok(_) => Ok(()),
            Err(_) => Err(ConfigError::Conflict("could not spawn the producer's callback thread")),
        }
    }

    fn run(&self, mut after: impl FnMut(u64, u64)) {
        let _ = self.thread.set(thread::current().id());
        // Two deques swap roles, so a steady flow of callbacks allocates nothing.
        let mut batch = VecDeque::new();
        loop {
            {
                let mut q = self.lock();
                while q.pending.is_empty() && !q.closed {
                    q = self.wake.wait(q).unwrap_or_else(PoisonError::into_inner);
                }
                if q.pending.is_empty() {
                    return;
                }
                std::mem::swap(&mut q.pending, &mut batch);
            }
            let ran = batch.len() as u64;
            let delivery = self.delivery.as_ref();
            let panicked = batch.drain(..).map(|job| u64::from(!job.run(delivery))).sum();
            shrink_after_burst(&mut batch, MIN_BATCH);
            after(ran, panicked);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::mpsc;
    use std::time::Duration;

    use idem_core::producer::RecordId;

    use super::*;
    use crate::report::{Completer, RecordMetadata};

    fn ok(id: u64) -> crate::DeliveryResult {
        Ok(RecordMetadata { id: RecordId(id), partition: 0, offset: None, timestamp_ms: 0 })
    }

    #[test]
    fn runs_callbacks_in_order_on_its_thread_and_ends_when_closed() {
        let queue = Arc::new(CallbackQueue::default());
        let (counted, counts) = mpsc::channel();
        queue.spawn(move |ran, panicked| counted.send((ran, panicked)).unwrap_or_default()).unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let on_thread = Arc::new(AtomicU64::new(0));
        let mut callbacks: Vec<Ready> = (0..10)
            .map(|i| {
                let (order, on_thread, queue) = (Arc::clone(&order), Arc::clone(&on_thread), Arc::clone(&queue));
                let c = Completer::callback(move |r| {
                    on_thread.fetch_add(u64::from(queue.on_callback_thread()), Ordering::SeqCst);
                    order.lock().unwrap_or_else(PoisonError::into_inner).push(r.map(|m| m.id.0));
                    assert!(i != 4, "callback 4 panics on purpose");
                });
                (c, ok(i))
            })
            .collect();
        queue.push(&mut callbacks);
        assert!(callbacks.is_empty());
        assert!(!queue.on_callback_thread());
        queue.close();
        let (mut ran, mut panicked) = (0, 0);
        while ran < 10 {
            let (r, p) = counts.recv_timeout(Duration::from_secs(5)).unwrap();
            ran += r;
            panicked += p;
        }
        assert_eq!(panicked, 1);
        assert_eq!(on_thread.load(Ordering::SeqCst), 10);
        let order = order.lock().unwrap_or_else(PoisonError::into_inner).clone();
        assert_eq!(order, (0..10).map(Ok).collect::<Vec<_>>());
        // Closed and empty: the thread ended, dropping `after` and its sender.
        assert!(counts.recv_timeout(Duration::from_secs(5)).is_err());
    }
}
