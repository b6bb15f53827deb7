//! TEMPORARY stand-in for idem-std's Producer (same surface), to exercise the CLI before the
//! runtime is merged. Deleted once idem-std has its Producer.
#![allow(missing_docs)]

use std::collections::HashMap;
use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use idem_core::producer::{
    ConfigError, ConnId, DeliveryError, Event, Input, Output, Persisted, Producer as Core, ProducerConfig,
    ProducerMetrics, ProducerRecord, RecordId, SendError,
};
use idem_core::time::Instant;

#[derive(Clone, Debug)]
pub struct Config {
    pub core: ProducerConfig,
}

impl Config {
    pub fn new(b: &str) -> Result<Config, ConfigError> {
        Ok(Config { core: ProducerConfig::new(b)? })
    }
    pub fn set(&mut self, k: &str, v: &str) -> Result<&mut Self, ConfigError> {
        self.core.set(k, v)?;
        Ok(self)
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    topic: &'a str,
    partition: Option<i32>,
    key: Option<&'a [u8]>,
    value: Option<&'a [u8]>,
}

impl<'a> Record<'a> {
    pub fn new(topic: &'a str) -> Self {
        Record { topic, partition: None, key: None, value: None }
    }
    pub fn key(mut self, k: &'a [u8]) -> Self {
        self.key = Some(k);
        self
    }
    pub fn value(mut self, v: &'a [u8]) -> Self {
        self.value = Some(v);
        self
    }
    pub fn partition(mut self, p: i32) -> Self {
        self.partition = Some(p);
        self
    }
}

#[derive(Clone, Copy, Debug)]
pub struct RecordMetadata {
    pub partition: i32,
    pub offset: Option<i64>,
}

#[derive(Clone, Copy, Debug)]
pub struct DeliveryFailure {
    pub error: DeliveryError,
    pub persisted: Persisted,
}

impl fmt::Display for DeliveryFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?})", self.error, self.persisted)
    }
}

pub type DeliveryResult = Result<RecordMetadata, DeliveryFailure>;
type Cb = Box<dyn FnOnce(DeliveryResult) + Send>;

struct St {
    core: Core,
    cbs: HashMap<RecordId, Cb>,
    socks: HashMap<ConnId, TcpStream>,
    stop: bool,
}

struct Inner {
    st: Mutex<St>,
    origin: std::time::Instant,
}

impl Inner {
    fn now(&self) -> Instant {
        Instant::from_micros(self.origin.elapsed().as_micros() as u64)
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, St> {
        self.st.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub struct Producer {
    inner: Arc<Inner>,
    io: Option<JoinHandle<()>>,
}

impl Producer {
    pub fn new(c: Config) -> Result<Producer, ConfigError> {
        let origin = std::time::Instant::now();
        let core = Core::new(c.core, Instant::ZERO)?;
        let inner = Arc::new(Inner {
            st: Mutex::new(St { core, cbs: HashMap::new(), socks: HashMap::new(), stop: false }),
            origin,
        });
        let i2 = Arc::clone(&inner);
        let io = std::thread::spawn(move || io_loop(&i2));
        Ok(Producer { inner, io: Some(io) })
    }

    pub fn send_with_callback(
        &self,
        r: &Record<'_>,
        cb: impl FnOnce(DeliveryResult) + Send + 'static,
    ) -> Result<RecordId, SendError> {
        let rec = ProducerRecord {
            topic: r.topic,
            partition: r.partition,
            key: r.key,
            value: r.value,
            headers: &[],
            timestamp_ms: 1_700_000_000_000,
        };
        loop {
            let mut st = self.inner.lock();
            let now = self.inner.now();
            match st.core.send(now, &rec) {
                Ok(id) => {
                    st.cbs.insert(id, Box::new(cb));
                    return Ok(id);
                }
                Err(SendError::QueueFull) => {
                    drop(st);
                    std::thread::sleep(Duration::from_micros(500));
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub fn metrics(&self) -> ProducerMetrics {
        self.inner.lock().core.metrics().clone()
    }

    pub fn flush(&self, _t: Duration) -> Result<(), String> {
        let now = self.inner.now();
        self.inner.lock().core.flush(now);
        Ok(())
    }

    pub fn close(&self, t: Duration) -> Result<(), String> {
        let now = self.inner.now();
        self.inner.lock().core.close(now);
        let deadline = std::time::Instant::now() + t;
        while !self.inner.lock().core.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        self.inner.lock().stop = true;
        Ok(())
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        self.inner.lock().stop = true;
        if let Some(h) = self.io.take() {
            let _ = h.join();
        }
    }
}

fn io_loop(inner: &Inner) {
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let mut ready: Vec<(Cb, DeliveryResult)> = Vec::new();
        {
            let mut st = inner.lock();
            if st.stop {
                return;
            }
            let st = &mut *st;
            loop {
                match st.core.poll_output() {
                    Output::Connect { conn, host, port } => {
                        let addr = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
                            .ok()
                            .and_then(|mut a| a.next());
                        match addr.and_then(|a| TcpStream::connect_timeout(&a, Duration::from_secs(1)).ok()) {
                            Some(s) => {
                                let _ = s.set_nodelay(true);
                                let _ = s.set_nonblocking(true);
                                st.socks.insert(conn, s);
                                st.core.handle_input(Input::Connected { now: inner.now(), conn });
                            }
                            None => st.core.handle_input(Input::Disconnected { now: inner.now(), conn }),
                        }
                    }
                    Output::Transmit { conn, data } => {
                        let ok = st.socks.get_mut(&conn).is_some_and(|s| {
                            s.set_nonblocking(false).is_ok()
                                && s.write_all(&data).is_ok()
                                && s.set_nonblocking(true).is_ok()
                        });
                        if !ok {
                            st.socks.remove(&conn);
                            st.core.handle_input(Input::Disconnected { now: inner.now(), conn });
                        }
                    }
                    Output::Close { conn } => drop(st.socks.remove(&conn)),
                    Output::Event(Event::Delivered { id, partition, offset, .. }) => {
                        if let Some(cb) = st.cbs.remove(&id) {
                            ready.push((cb, Ok(RecordMetadata { partition, offset })));
                        }
                    }
                    Output::Event(Event::Failed { id, error, persisted }) => {
                        if let Some(cb) = st.cbs.remove(&id) {
                            ready.push((cb, Err(DeliveryFailure { error, persisted })));
                        }
                    }
                    Output::Event(Event::Fatal(_)) => {}
                    Output::Timeout(_) => break,
                }
            }
            let mut closed = Vec::new();
            let mut got = Vec::new();
            for (&conn, s) in &mut st.socks {
                loop {
                    match s.read(&mut buf) {
                        Ok(0) => {
                            closed.push(conn);
                            break;
                        }
                        Ok(n) => got.push((conn, buf.get(..n).unwrap_or_default().to_vec())),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(_) => {
                            closed.push(conn);
                            break;
                        }
                    }
                }
            }
            for (conn, bytes) in got {
                st.core.handle_input(Input::Received { now: inner.now(), conn, bytes: &bytes });
            }
            for conn in closed {
                st.socks.remove(&conn);
                st.core.handle_input(Input::Disconnected { now: inner.now(), conn });
            }
            st.core.handle_input(Input::Timeout(inner.now()));
        }
        let idle = ready.is_empty();
        for (cb, r) in ready {
            cb(r);
        }
        if idle {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}
