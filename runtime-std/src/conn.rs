//! Connections of the blocking runtime: one thread per connection connects (resolving the host,
//! trying every address) and then reads, feeding the driver; one writer thread per connection
//! writes what the core transmits, in order, with vectored writes of whatever is queued (the
//! record batches straight from the producer's buffers, see [`WriteQueue`]). A write or read error
//! shuts the socket down and reports `Disconnected` once; a `Close` from the core shuts it down
//! and reports nothing.

use std::io::Read;
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

use idem_core::producer::{ConnId, Payload};
use idem_runtime::{Connection, Driver, WriteQueue};

use crate::threads::Std;

/// A connection's I/O side ([`idem_runtime::Runtime::Conn`] of [`Std`]): its socket once
/// connected and its writer thread's queue. Not nameable outside this crate.
#[derive(Debug, Default)]
pub struct Conn {
    /// The socket once connected (for shutdown).
    stream: Option<TcpStream>,
    /// Frames for the writer thread.
    writer: Option<Sender<Payload>>,
}

impl Connection<Std> for Conn {
    /// Connects on a new thread that then becomes the reader; `None` if no thread could be
    /// spawned (the driver reports the connection failed).
    fn open(driver: &Arc<Driver<Std>>, conn: ConnId, host: String, port: u16) -> Option<Conn> {
        let driver = Arc::clone(driver);
        thread::Builder::new()
            .name(format!("idem-conn-{}", conn.0))
            .spawn(move || run_conn(&driver, conn, &host, port))
            .ok()
            .map(|_| Conn::default())
    }

    /// Queues a frame for the writer thread.
    fn transmit(&self, data: Payload) {
        if let Some(w) = &self.writer {
            let _ = w.send(data);
        }
    }

    /// Shuts the socket down (wakes the reader); the writer ends with its queue.
    fn shutdown(self) {
        if let Some(s) = &self.stream {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

pub(crate) fn connect(host: &str, port: u16, timeout: std::time::Duration) -> Option<TcpStream> {
    let addrs = (host, port).to_socket_addrs().ok()?;
    for addr in addrs {
        if let Ok(s) = TcpStream::connect_timeout(&addr, timeout) {
            let _ = s.set_nodelay(true);
            return Some(s);
        }
    }
    None
}

fn run_conn(driver: &Arc<Driver<Std>>, conn: ConnId, host: &str, port: u16) {
    let stream = connect(host, port, driver.connect_timeout());
    let parts = stream.and_then(|s| {
        let w = s.try_clone().ok()?;
        let r = s.try_clone().ok()?;
        Some((s, w, r))
    });
    let Some((stream, write_half, mut read_half)) = parts else {
        disconnected(driver, conn);
        return;
    };
    let (tx, rx) = mpsc::channel::<Payload>();
    let writer =
        thread::Builder::new().name(format!("idem-write-{}", conn.0)).spawn(move || run_writer(write_half, &rx));
    if writer.is_err() {
        let _ = stream.shutdown(Shutdown::Both);
        disconnected(driver, conn);
        return;
    }
    let registered = driver.connected(conn, |c| {
        c.stream = Some(stream);
        c.writer = Some(tx);
    });
    if !registered {
        return; // closed by the core meanwhile; the stream and writer were dropped
    }
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match read_half.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if !driver.received(conn, buf.get(..n).unwrap_or_default()) {
                    return;
                }
            }
        }
    }
    disconnected(driver, conn);
}

/// Reports `conn` disconnected unless the core already closed it.
fn disconnected(driver: &Arc<Driver<Std>>, conn: ConnId) {
    if let Some(c) = driver.disconnected(conn) {
        c.shutdown();
    }
}

pub(crate) fn run_writer(mut stream: TcpStream, rx: &Receiver<Payload>) {
    let mut queue = WriteQueue::new();
    while let Ok(data) = rx.recv() {
        // Whatever else is queued goes out in the same vectored writes.
        queue.push(data);
        while let Ok(more) = rx.try_recv() {
            queue.push(more);
        }
        if queue.write_all_to(&mut stream).is_err() {
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
    }
}
