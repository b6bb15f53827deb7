//! Connections of the async runtime: a task per connection resolves the host, connects
//! (`Async<TcpStream>`, TCP_NODELAY, each address in turn, bounded by
//! `socket.connection.setup.timeout.ms`) and then reads, feeding the driver; a writer task
//! writes what the core transmits, in order, with vectored writes of whatever is queued (the
//! record batches straight from the producer's buffers, see [`WriteQueue`]). A read or write error
//! shuts the socket down and reports `Disconnected` once; a `Close` from the core cancels both
//! tasks and reports nothing.

use std::net::{Shutdown, TcpStream};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use idem_core::producer::{ConnId, Payload};
use idem_runtime::{Connection, Driver, WriteQueue};
use smol::channel::{Receiver, Sender};
use smol::future::FutureExt as _;
use smol::io::{AsyncReadExt as _, AsyncWrite};
use smol::{Async, Task, Timer};

use crate::tasks::Smol;

/// A connection's I/O side ([`idem_runtime::Runtime::Conn`] of [`Smol`]): its socket once
/// connected, its writer task's queue, and its tasks (cancelled when it is shut down). Not
/// nameable outside this crate.
pub struct Conn {
    stream: Option<Arc<Async<TcpStream>>>,
    writer: Option<Sender<Payload>>,
    tasks: Vec<Task<()>>,
}

impl Connection<Smol> for Conn {
    /// Spawns the task that connects and then reads.
    fn open(driver: &Arc<Driver<Smol>>, conn: ConnId, host: String, port: u16) -> Option<Conn> {
        let driver = Arc::clone(driver);
        let task = smol::spawn(async move { run_conn(driver, conn, host, port).await });
        Some(Conn { stream: None, writer: None, tasks: vec![task] })
    }

    /// Queues a frame for the writer task.
    fn transmit(&self, data: Payload) {
        if let Some(w) = &self.writer {
            let _ = w.try_send(data);
        }
    }

    /// Shuts the socket down and cancels the tasks.
    fn shutdown(self) {
        if let Some(s) = &self.stream {
            let _ = s.get_ref().shutdown(Shutdown::Both);
        }
        drop(self.tasks);
    }
}

async fn connect(host: &str, port: u16, timeout: Duration) -> Option<Async<TcpStream>> {
    let attempt = async {
        let addrs = smol::net::resolve((host, port)).await.ok()?;
        for addr in addrs {
            if let Ok(s) = Async::<TcpStream>::connect(addr).await {
                let _ = s.get_ref().set_nodelay(true);
                return Some(s);
            }
        }
        None
    };
    attempt
        .or(async {
            Timer::after(timeout).await;
            None
        })
        .await
}

async fn run_conn(driver: Arc<Driver<Smol>>, conn: ConnId, host: String, port: u16) {
    let Some(stream) = connect(&host, port, driver.connect_timeout()).await else {
        disconnected(&driver, conn);
        return;
    };
    let stream = Arc::new(stream);
    let (tx, rx) = smol::channel::unbounded::<Payload>();
    let writer = smol::spawn(run_writer(Arc::clone(&stream), rx));
    let registered = driver.connected(conn, |c| {
        c.stream = Some(Arc::clone(&stream));
        c.writer = Some(tx);
        c.tasks.push(writer);
    });
    if !registered {
        return; // closed by the core meanwhile
    }
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match (&*stream).read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if !driver.received(conn, buf.get(..n).unwrap_or_default()) {
                    return;
                }
            }
        }
    }
    disconnected(&driver, conn);
}

/// Reports `conn` disconnected unless the core already closed it.
fn disconnected(driver: &Arc<Driver<Smol>>, conn: ConnId) {
    if let Some(mut c) = driver.disconnected(conn) {
        if let Some(s) = &c.stream {
            let _ = s.get_ref().shutdown(Shutdown::Both);
        }
        // This task is one of `c.tasks`: detach them rather than cancel the running one.
        for t in c.tasks.drain(..) {
            t.detach();
        }
    }
}

async fn run_writer(stream: Arc<Async<TcpStream>>, rx: Receiver<Payload>) {
    let mut queue = WriteQueue::new();
    while let Ok(data) = rx.recv().await {
        // Whatever else is queued goes out in the same vectored writes.
        queue.push(data);
        while let Ok(more) = rx.try_recv() {
            queue.push(more);
        }
        let mut socket: &Async<TcpStream> = &stream;
        let written = queue.write_all_with(|cx, slices| Pin::new(&mut socket).poll_write_vectored(cx, slices)).await;
        if written.is_err() {
            let _ = stream.get_ref().shutdown(Shutdown::Both);
            return;
        }
    }
}
