//! [`WriteQueue`]: what the core transmitted on one connection and the socket has not taken
//! yet, written in order with vectored writes, so that a Produce request's record batches go
//! from the producer's buffers to the socket without a copy.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Write};
use std::task::{Context, Poll, Waker};

use idem_core::producer::Payload;

/// At most this many I/O slices per write (well under every system's `IOV_MAX`).
const MAX_SLICES: usize = 64;

/// The [`Payload`]s queued for one connection, in transmit order, written with vectored
/// writes: each write hands the socket up to 64 chunks of one or more payloads, a partial
/// write resumes where the socket stopped, and a payload is dropped (its record batches
/// released for reuse) as soon as it is wholly written. One write loop serves blocking
/// ([`write_all_to`](WriteQueue::write_all_to)), non-blocking (the same, answering
/// `WouldBlock` with the rest still queued) and async sockets
/// ([`write_all_with`](WriteQueue::write_all_with)).
#[derive(Debug, Default)]
pub struct WriteQueue {
    queue: VecDeque<Payload>,
    len: usize,
}

impl WriteQueue {
    /// An empty queue.
    pub fn new() -> WriteQueue {
        WriteQueue::default()
    }

    /// Queues `payload` after everything queued before.
    pub fn push(&mut self, payload: Payload) {
        self.len += payload.len();
        if !payload.is_empty() {
            self.queue.push_back(payload);
        }
    }

    /// Bytes queued and not yet written.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether everything queued was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Fills `slices` with the next chunks to write, in order; returns how many it filled.
    pub fn io_slices<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        let chunks = self.queue.iter().flat_map(Payload::chunks);
        let mut filled = 0;
        for (slot, chunk) in slices.iter_mut().zip(chunks) {
            *slot = IoSlice::new(chunk);
            filled += 1;
        }
        filled
    }

    /// Marks the first `n` queued bytes written (all of them if `n` is larger); payloads
    /// wholly written are dropped.
    pub fn advance(&mut self, n: usize) {
        let mut n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let Some(front) = self.queue.front_mut() else { break };
            if n < front.len() {
                front.advance(n);
                break;
            }
            n -= front.len();
            self.queue.pop_front();
        }
    }

    /// Writes everything queued with `write` (a vectored write polled with `cx`; `Pending`
    /// when the socket cannot take more now), retrying partial and interrupted writes.
    /// `Ready(Ok)` once the queue is empty; on an error (a write of 0 bytes is `WriteZero`)
    /// the rest stays queued.
    pub fn poll_write_all(
        &mut self,
        cx: &mut Context<'_>,
        mut write: impl FnMut(&mut Context<'_>, &[IoSlice<'_>]) -> Poll<io::Result<usize>>,
    ) -> Poll<io::Result<()>> {
        while !self.is_empty() {
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let filled = self.io_slices(&mut slices);
            let n = match write(cx, slices.get(..filled).unwrap_or_default()) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => n,
            };
            self.advance(n);
        }
        Poll::Ready(Ok(()))
    }

    /// [`poll_write_all`](WriteQueue::poll_write_all) as a future, for an async socket.
    pub async fn write_all_with(
        &mut self,
        mut write: impl FnMut(&mut Context<'_>, &[IoSlice<'_>]) -> Poll<io::Result<usize>>,
    ) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_write_all(cx, &mut write)).await
    }

    /// Writes everything queued to `w` with `write_vectored`. On a non-blocking socket an
    /// error of kind `WouldBlock` means "the rest is still queued: write again once writable".
    pub fn write_all_to(&mut self, w: &mut impl Write) -> io::Result<()> {
        let mut cx = Context::from_waker(Waker::noop());
        match self.poll_write_all(&mut cx, |_, slices| Poll::Ready(w.write_vectored(slices))) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket that takes at most `step` bytes per write and fails after `fail_after` bytes.
    struct Trickle {
        got: Vec<u8>,
        step: usize,
        fail_after: usize,
        writes: usize,
    }

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.write_vectored(&[IoSlice::new(buf)])
        }

        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            self.writes += 1;
            if self.got.len() >= self.fail_after {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            if self.writes % 3 == 0 {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let before = self.got.len();
            for b in bufs {
                let take = (self.step - (self.got.len() - before)).min(b.len());
                self.got.extend_from_slice(&b[..take]);
                if take < b.len() {
                    break;
                }
            }
            Ok(self.got.len() - before)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn payloads() -> (WriteQueue, Vec<u8>) {
        let mut q = WriteQueue::new();
        let mut all = Vec::new();
        for i in 0..200u32 {
            let bytes: Vec<u8> = (0..(i * 7) % 300).map(|k| (k ^ i) as u8).collect();
            all.extend_from_slice(&bytes);
            q.push(Payload::from(bytes));
        }
        (q, all)
    }

    #[test]
    fn partial_and_interrupted_writes_keep_the_order() {
        for step in [1, 5, 64, 1000, 1 << 20] {
            let (mut q, all) = payloads();
            assert_eq!(q.len(), all.len());
            let mut w = Trickle { got: Vec::new(), step, fail_after: usize::MAX, writes: 0 };
            q.write_all_to(&mut w).unwrap();
            assert_eq!(w.got, all, "step {step}");
            assert!(q.is_empty());
        }
    }

    #[test]
    fn an_error_leaves_the_rest_queued() {
        let (mut q, all) = payloads();
        let mut w = Trickle { got: Vec::new(), step: 100, fail_after: 1000, writes: 0 };
        assert!(q.write_all_to(&mut w).is_err());
        assert_eq!(q.len(), all.len() - w.got.len());
        w.fail_after = usize::MAX;
        q.write_all_to(&mut w).unwrap();
        assert_eq!(w.got, all);
    }

    #[test]
    fn a_socket_that_takes_nothing_is_write_zero() {
        let (mut q, _) = payloads();
        let mut w = Trickle { got: Vec::new(), step: 0, fail_after: usize::MAX, writes: 0 };
        assert_eq!(q.write_all_to(&mut w).map_err(|e| e.kind()), Err(io::ErrorKind::WriteZero));
    }
}
