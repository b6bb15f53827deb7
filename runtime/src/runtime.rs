//! What a runtime supplies ([`Runtime`]: how to wait, where the timer runs, how a connection is
//! opened, written and shut), and the one shape every waiting producer call has ([`Operation`]:
//! steps that either finish or name what to wait for). A runtime backend is these few items;
//! everything else is [`crate::Producer`] and [`crate::Driver`], written once.

use std::sync::Arc;
use std::time::Instant;

use idem_core::producer::{ConfigError, ConnId, Payload};

use crate::driver::Driver;
use crate::ops::TimerOp;
use crate::signal::Listener;

/// What one step of an [`Operation`] came to.
#[derive(Debug)]
pub enum Step<T> {
    /// Done, with this output.
    Ready(T),
    /// Not done: step again once `listener` fires or `deadline` passes (`None`: no deadline),
    /// whichever comes first.
    Wait {
        /// Fires when there is progress to look at.
        listener: Listener,
        /// When to look again anyway.
        deadline: Option<Instant>,
    },
}

impl<T> Step<T> {
    /// The same step with its output mapped.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Step<U> {
        match self {
            Step::Ready(t) => Step::Ready(f(t)),
            Step::Wait { listener, deadline } => Step::Wait { listener, deadline },
        }
    }
}

/// A producer call that may have to wait (`send` for buffer space, `flush`, `close`, the timer
/// loop), as a state machine that never blocks: the runtime calls [`Operation::step`] until it
/// is [`Step::Ready`], waiting between steps as the step says, blocking ([`block`]) or as a
/// future (idem-smol). So the waiting logic exists once, whatever the runtime.
pub trait Operation {
    /// What the call returns.
    type Output;

    /// Makes what progress it can without waiting.
    fn step(&mut self) -> Step<Self::Output>;
}

/// Runs `op` to its end on the calling thread, blocking between steps: how a blocking runtime
/// waits.
pub fn block<O: Operation>(mut op: O) -> O::Output {
    loop {
        match op.step() {
            Step::Ready(out) => return out,
            Step::Wait { listener, deadline } => {
                listener.wait_until(deadline);
            }
        }
    }
}

/// A runtime backend: the I/O and the waiting style of [`crate::Producer`]. idem-std implements
/// it with threads and `std::net` (waiting calls block), idem-smol with async-io tasks (waiting
/// calls return futures). Implement it, and [`Connection`] for its connections, to run the
/// producer on another runtime.
pub trait Runtime: Sized + 'static {
    /// A connection's I/O side (socket, writer queue, tasks), kept by the driver while the core
    /// uses the connection.
    type Conn: Connection<Self>;

    /// What a waiting producer call returns for operation `O`: `O::Output` itself for a blocking
    /// runtime, a future of it for an async one.
    type Wait<O: Operation>;

    /// Turns an operation into what the producer call returns (runs it, or wraps it in a future).
    fn wait<O: Operation>(op: O) -> Self::Wait<O>;

    /// Runs the producer's timer loop to its end (it ends once the core has finished) on a
    /// thread or task of its own. An error if none could be started.
    fn spawn_timer(timer: TimerOp<Self>) -> Result<(), ConfigError>;
}

/// One connection's I/O side in runtime `R`: how it is opened, written and shut down. The
/// driver keeps it while the core uses the connection.
pub trait Connection<R: Runtime>: Send + Sized + 'static {
    /// Starts opening connection `conn` to `host:port` (resolving `host`, trying each address,
    /// within [`Driver::connect_timeout`]); once it is up, the runtime calls
    /// [`Driver::connected`], then [`Driver::received`] per read, and [`Driver::disconnected`]
    /// when it fails. Returns the connection's I/O side, or `None` if the attempt could not
    /// start (the core is told the connection failed). Called under the driver's lock: start
    /// the work, do not wait for it.
    fn open(driver: &Arc<Driver<R>>, conn: ConnId, host: String, port: u16) -> Option<Self>;

    /// Queues `data` (one request frame, in shared chunks) to be written after everything
    /// queued before (the core only transmits on connections reported connected); drop it once
    /// written, so that the record batches it carries can be reused ([`WriteQueue`] does both).
    /// Called under the driver's lock: never waits.
    ///
    /// [`WriteQueue`]: crate::WriteQueue
    fn transmit(&self, data: Payload);

    /// Shuts the connection down (the core closed it): nothing more is reported about it.
    /// Called outside the driver's lock.
    fn shutdown(self);
}
