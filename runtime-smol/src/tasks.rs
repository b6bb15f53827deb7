//! The async backend ([`Smol`]): waiting calls return an [`OpFuture`], the timer loop is a task
//! on smol's global executor; connections are in `conn`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use idem_core::producer::ConfigError;
use idem_runtime::ops::TimerOp;
use idem_runtime::{Listener, Operation, Runtime, Step};
use smol::Timer;

use crate::conn::Conn;

/// The async backend: async-io sockets and timers, tasks on smol's global executor. Waiting
/// calls return an [`OpFuture`]; the timer is a task; each connection is a task that connects
/// and then reads, and a writer task.
#[derive(Clone, Copy, Debug)]
pub struct Smol;

impl Runtime for Smol {
    type Conn = Conn;
    type Wait<O: Operation> = OpFuture<O>;

    fn wait<O: Operation>(op: O) -> OpFuture<O> {
        OpFuture { op, waiting: None }
    }

    fn spawn_timer(timer: TimerOp<Smol>) -> Result<(), ConfigError> {
        smol::spawn(Smol::wait(timer)).detach();
        Ok(())
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
