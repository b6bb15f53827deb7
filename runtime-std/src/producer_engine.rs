//! The runtime-independent half of a driver: the core producer, its clock and the report
//! routing. A runtime keeps one [`Engine`] behind its lock, feeds it, and performs the
//! [`IoAction`]s that [`Engine::drain`] hands out. Shared by idem-std and idem-smol (and usable
//! by any other runtime).

use idem_core::producer::{ConfigError, ConnId, Input, Output, Producer as Core, ProducerMetrics, RecordId, SendError};
use idem_core::{Duration, Instant};

use crate::producer_config::{Config, Record};
use crate::producer_report::{Completer, Ready, ReportCounts, Reports};

/// Maps `std::time::Instant` to the core's microsecond timeline (origin: creation).
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    origin: std::time::Instant,
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

/// A socket action for the runtime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IoAction {
    /// Open a TCP connection (resolve `host`, try each address); report `Connected` or
    /// `Disconnected` through [`Engine::handle_input`].
    Connect {
        /// Connection id.
        conn: ConnId,
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
    },
    /// Write these bytes after everything written before on `conn`.
    Transmit {
        /// Connection id.
        conn: ConnId,
        /// The bytes.
        data: Vec<u8>,
    },
    /// Drop the connection; report nothing more about it.
    Close {
        /// Connection id.
        conn: ConnId,
    },
}

/// The core, its clock and the completers of pending records.
#[derive(Debug)]
pub struct Engine {
    core: Core,
    reports: Reports,
    clock: Clock,
    deadline: Option<Instant>,
}

impl Engine {
    /// Validates `config` and starts the core now.
    pub fn new(config: &Config) -> Result<Engine, ConfigError> {
        let clock = Clock::new();
        let core = Core::new(config.core.clone(), clock.now())?;
        Ok(Engine { core, reports: Reports::default(), clock, deadline: None })
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Hands `record` to the core; on success `completer` will get its report. On error the
    /// completer is handed back unused (a refused record gets no report).
    pub fn send(&mut self, record: &Record<'_>, completer: Completer) -> Result<RecordId, (SendError, Completer)> {
        let now = self.clock.now();
        match self.core.send(now, &record.to_core()) {
            Ok(id) => {
                self.reports.register(id, completer);
                Ok(id)
            }
            Err(e) => Err((e, completer)),
        }
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
        self.core.close(now);
    }

    /// Fails everything pending (`DeliveryError::Aborted`) and finishes.
    pub fn abort(&mut self) {
        let now = self.clock.now();
        self.core.abort(now);
    }

    /// Drains the core: socket actions go to `io`, reports to `ready` (complete them after
    /// releasing the lock). Returns the next deadline, also kept as [`Engine::deadline`].
    pub fn drain(&mut self, io: &mut impl FnMut(IoAction), ready: &mut Vec<Ready>) -> Option<Instant> {
        loop {
            match self.core.poll_output() {
                Output::Connect { conn, host, port } => io(IoAction::Connect { conn, host, port }),
                Output::Transmit { conn, data } => io(IoAction::Transmit { conn, data }),
                Output::Close { conn } => io(IoAction::Close { conn }),
                Output::Event(e) => self.reports.on_event(e, ready),
                Output::Timeout(t) => {
                    self.deadline = t;
                    return t;
                }
            }
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

    /// Report counts so far.
    pub fn counts(&self) -> ReportCounts {
        self.reports.counts()
    }

    /// Counts `n` more panicked delivery callbacks (what [`crate::complete_all`] returned).
    pub fn count_callback_panics(&mut self, n: u64) {
        self.reports.count_callback_panics(n);
    }

    /// The fatal error the producer stopped on, if any.
    pub fn fatal(&self) -> Option<idem_core::producer::FatalError> {
        self.reports.fatal()
    }

    /// The core's counters.
    pub fn metrics(&self) -> &ProducerMetrics {
        self.core.metrics()
    }

    /// How long the runtime may take to open one connection: the core's
    /// `connection_setup_timeout` as a std duration, at least 1 µs.
    pub fn connect_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_micros(self.core.config().connection_setup_timeout.as_micros().max(1))
    }

    /// The core's settings (for timeouts the runtime applies, e.g. connection setup).
    pub fn core_config(&self) -> &idem_core::producer::ProducerConfig {
        self.core.config()
    }
}
