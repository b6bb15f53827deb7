//! The blocking backend ([`Std`]): waiting calls run their operation on the calling thread, the
//! timer loop on a thread of its own (`idem-timer`); connections are in `conn`.

use std::thread;

use idem_core::producer::ConfigError;
use idem_runtime::ops::TimerOp;
use idem_runtime::{Operation, Runtime};

use crate::conn::Conn;

/// The blocking backend: threads and `std::net`. Waiting calls run their operation on the
/// calling thread ([`idem_runtime::block`]); the timer is a thread (`idem-timer`); each
/// connection is a reader thread (which connects first) and a writer thread.
#[derive(Clone, Copy, Debug)]
pub struct Std;

impl Runtime for Std {
    type Conn = Conn;
    type Wait<O: Operation> = O::Output;

    fn wait<O: Operation>(op: O) -> O::Output {
        idem_runtime::block(op)
    }

    fn spawn_timer(timer: TimerOp<Std>) -> Result<(), ConfigError> {
        match thread::Builder::new().name("idem-timer".into()).spawn(move || idem_runtime::block(timer)) {
            Ok(_) => Ok(()),
            Err(_) => Err(ConfigError::Conflict("could not spawn the producer's timer thread")),
        }
    }
}
