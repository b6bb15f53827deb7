//! [`Signal`]: one wake-up that a blocked thread and an async task can both wait for, so the
//! producer's waits (buffer space, `flush`, `close`, the timer) are written once for every
//! runtime. A waiter takes a [`Listener`] *before* it checks what it waits for, then waits on the
//! listener: a [`Signal::notify`] after [`Signal::listen`] is never missed.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// The wakers of the listeners that were polled as futures.
#[derive(Debug, Default)]
struct Wakers {
    /// One slot per listener polled since it was made; `None` once woken.
    slots: Vec<Option<Waker>>,
    /// Slots of dropped listeners, to reuse.
    free: Vec<usize>,
    /// Threads blocked in [`Listener::wait_until`] (a notify wakes the condvar only then).
    blocked: usize,
}

/// A notification that threads (blocking, with a deadline) and tasks (a `Future`) wait for.
/// Every [`Signal::notify`] fires every [`Listener`] made before it. Cheap when nobody waits: a
/// notify takes one uncontended lock, allocates nothing and makes no system call.
#[derive(Debug, Default)]
pub struct Signal {
    /// Bumped by every `notify`, under `wakers`' lock.
    generation: AtomicU64,
    wakers: Mutex<Wakers>,
    /// Blocked listeners wait on it with `wakers`' lock.
    blocked: Condvar,
}

impl Signal {
    fn lock(&self) -> MutexGuard<'_, Wakers> {
        self.wakers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A listener that fires at the first [`Signal::notify`] after this call. Make it before
    /// checking the condition waited for, and wait on it only if the condition does not hold.
    pub fn listen(self: &Arc<Self>) -> Listener {
        Listener { signal: Arc::clone(self), seen: self.generation.load(Ordering::Acquire), slot: None }
    }

    /// Fires every listener made before this call: wakes the threads blocked on them and the
    /// tasks that polled them.
    pub fn notify(&self) {
        let (woken, blocked): (Vec<Waker>, bool) = {
            let mut w = self.lock();
            self.generation.fetch_add(1, Ordering::AcqRel);
            (w.slots.iter_mut().filter_map(Option::take).collect(), w.blocked > 0)
        };
        // A blocked thread counts itself under the lock before it waits: none is missed.
        if blocked {
            self.blocked.notify_all();
        }
        for waker in woken {
            waker.wake();
        }
    }
}

/// One wait on a [`Signal`]: fired once the signal is notified after the listener was made.
/// Block on it with [`Listener::wait_until`], or `.await` it (it is a `Future`, for any
/// executor). Dropping it cancels the wait.
#[derive(Debug)]
pub struct Listener {
    signal: Arc<Signal>,
    /// The signal's generation when the listener was made.
    seen: u64,
    /// Its waker slot, once polled.
    slot: Option<usize>,
}

impl Listener {
    /// Whether the signal was notified since the listener was made.
    pub fn fired(&self) -> bool {
        self.signal.generation.load(Ordering::Acquire) != self.seen
    }

    /// Blocks the calling thread until the listener fires or `deadline` passes (`None`: no
    /// deadline). Returns whether it fired.
    pub fn wait_until(&self, deadline: Option<Instant>) -> bool {
        let mut w = self.signal.lock();
        while !self.fired() {
            let left = match deadline {
                None => None,
                Some(d) => match d.checked_duration_since(Instant::now()).filter(|left| !left.is_zero()) {
                    Some(left) => Some(left),
                    None => return false,
                },
            };
            w.blocked += 1;
            w = match left {
                None => self.signal.blocked.wait(w).unwrap_or_else(PoisonError::into_inner),
                Some(left) => self.signal.blocked.wait_timeout(w, left).unwrap_or_else(PoisonError::into_inner).0,
            };
            w.blocked -= 1;
        }
        true
    }
}

impl Future for Listener {
    type Output = ();

    /// Ready once the listener fired; else keeps the task's waker (one slot per listener) to
    /// wake it then.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut w = this.signal.lock();
        if this.fired() {
            return Poll::Ready(());
        }
        let slot = match this.slot {
            Some(slot) => slot,
            None => {
                let slot = match w.free.pop() {
                    Some(slot) => slot,
                    None => {
                        w.slots.push(None);
                        w.slots.len() - 1
                    }
                };
                this.slot = Some(slot);
                slot
            }
        };
        if let Some(kept) = w.slots.get_mut(slot) {
            if !kept.as_ref().is_some_and(|k| k.will_wake(cx.waker())) {
                *kept = Some(cx.waker().clone());
            }
        }
        Poll::Pending
    }
}

impl Drop for Listener {
    /// Gives the waker slot back.
    fn drop(&mut self) {
        if let Some(slot) = self.slot {
            let mut w = self.signal.lock();
            if let Some(kept) = w.slots.get_mut(slot) {
                *kept = None;
            }
            w.free.push(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::task::Wake;
    use std::time::Duration;

    use super::*;

    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_notify_fires_the_listeners_made_before_it_only() {
        let signal = Arc::new(Signal::default());
        let before = signal.listen();
        assert!(!before.fired());
        assert!(!before.wait_until(Some(Instant::now() + Duration::from_millis(10))));
        signal.notify();
        let after = signal.listen();
        assert!(before.fired() && before.wait_until(None));
        assert!(!after.fired());
    }

    #[test]
    fn a_blocked_thread_and_a_task_are_woken() {
        let signal = Arc::new(Signal::default());
        let blocked = signal.listen();
        let mut polled = signal.listen();
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(Arc::clone(&flag));
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut polled).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut polled).poll(&mut cx).is_pending()); // the same slot, kept
        let notifier = {
            let signal = Arc::clone(&signal);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                signal.notify();
            })
        };
        assert!(blocked.wait_until(Some(Instant::now() + Duration::from_secs(10))));
        notifier.join().unwrap_or_default();
        assert!(flag.0.load(Ordering::SeqCst));
        assert!(Pin::new(&mut polled).poll(&mut cx).is_ready());
        drop(polled);
        assert_eq!(signal.lock().free, vec![0]);
    }
}
