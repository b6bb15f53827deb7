//! Connections of the blocking producer: one thread per connection connects (resolving the
//! host, trying every address) and then reads, feeding the core under the lock; one writer
//! thread per connection writes what the core transmits, in order. A write or read error shuts
//! the socket down and reports `Disconnected` once; a `Close` from the core shuts it down and
//! reports nothing.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

use idem_core::producer::{ConnId, Input};

use crate::producer::Shared;

/// A connection as the I/O side sees it.
#[derive(Debug, Default)]
pub(crate) struct Conn {
    /// The socket once connected (for shutdown).
    stream: Option<TcpStream>,
    /// Bytes for the writer thread.
    writer: Option<Sender<Vec<u8>>>,
}

impl Conn {
    /// Queues bytes for the writer (dropped if the connection is not up: the core only
    /// transmits on connected connections).
    pub(crate) fn transmit(&self, data: Vec<u8>) {
        if let Some(w) = &self.writer {
            let _ = w.send(data);
        }
    }

    /// Shuts the socket down (wakes the reader) and stops the writer.
    pub(crate) fn shutdown(self) {
        if let Some(s) = &self.stream {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// Starts connecting `conn` to `host:port` on a new thread that then becomes its reader.
/// False if no thread could be spawned (the caller reports the connection failed).
pub(crate) fn spawn_connect(shared: &Arc<Shared>, conn: ConnId, host: String, port: u16) -> bool {
    let shared = Arc::clone(shared);
    thread::Builder::new()
        .name(format!("idem-conn-{}", conn.0))
        .spawn(move || run_conn(&shared, conn, &host, port))
        .is_ok()
}

fn connect(host: &str, port: u16, timeout: std::time::Duration) -> Option<TcpStream> {
    let addrs = (host, port).to_socket_addrs().ok()?;
    for addr in addrs {
        if let Ok(s) = TcpStream::connect_timeout(&addr, timeout) {
            let _ = s.set_nodelay(true);
            return Some(s);
        }
    }
    None
}

fn run_conn(shared: &Arc<Shared>, conn: ConnId, host: &str, port: u16) {
    let timeout = shared.connect_timeout();
    let stream = connect(host, port, timeout);
    let parts = stream.and_then(|s| {
        let w = s.try_clone().ok()?;
        let r = s.try_clone().ok()?;
        Some((s, w, r))
    });
    let Some((stream, write_half, mut read_half)) = parts else {
        disconnected(shared, conn);
        return;
    };
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let writer =
        thread::Builder::new().name(format!("idem-write-{}", conn.0)).spawn(move || run_writer(write_half, &rx));
    if writer.is_err() {
        let _ = stream.shutdown(Shutdown::Both);
        disconnected(shared, conn);
        return;
    }
    let registered = shared.with_conns_and_engine(|conns, engine| {
        let c = conns.get_mut(&conn)?;
        c.stream = Some(stream);
        c.writer = Some(tx);
        let now = engine.clock().now();
        Some(Input::Connected { now, conn })
    });
    if !registered {
        return; // closed by the core meanwhile; the stream and writer were dropped
    }
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match read_half.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let bytes = buf.get(..n).unwrap_or_default();
                let alive = shared.with_conns_and_engine(|conns, engine| {
                    conns.contains_key(&conn).then(|| Input::Received { now: engine.clock().now(), conn, bytes })
                });
                if !alive {
                    return;
                }
            }
        }
    }
    disconnected(shared, conn);
}

/// Reports `conn` disconnected unless the core already closed it.
fn disconnected(shared: &Arc<Shared>, conn: ConnId) {
    shared.with_conns_and_engine(|conns, engine| {
        let c = conns.remove(&conn)?;
        c.shutdown();
        Some(Input::Disconnected { now: engine.clock().now(), conn })
    });
}

fn run_writer(stream: TcpStream, rx: &Receiver<Vec<u8>>) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stream);
    while let Ok(data) = rx.recv() {
        let mut ok = out.write_all(&data).is_ok();
        while ok {
            match rx.try_recv() {
                Ok(more) => ok = out.write_all(&more).is_ok(),
                Err(_) => break,
            }
        }
        if !ok || out.flush().is_err() {
            let _ = out.get_ref().shutdown(Shutdown::Both);
            return;
        }
    }
}
