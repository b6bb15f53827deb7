//! [`Payload`]: the bytes of one request frame, as [`Output::Transmit`](super::Output::Transmit)
//! hands them over: a few shared chunks (the encoded size prefix, header and framing, and each
//! record batch as the producer keeps it), so that a Produce request carries its batches
//! without copying them.

use alloc::vec::Vec;
use core::fmt;

use bytes::{Buf, Bytes};

/// One whole request frame to write on a connection: its bytes are the concatenation of
/// [`chunks`](Payload::chunks), in order.
///
/// - The chunks are shared, immutable buffers: a Produce request's record batches are the
///   producer's own batch buffers (a reference is counted, nothing is copied), so holding a
///   `Payload` keeps those buffers alive. Drop it (or [`advance`](Payload::advance) past
///   them) once written: a buffer no longer referenced is reused for later batches.
/// - The bytes never change once handed out (a batch renumbered later is copied first if a
///   payload still holds it), so a `Payload` may be written from another thread (`Send +
///   Sync`), at any pace.
/// - A writer with vectored I/O writes [`chunks`](Payload::chunks) as they are (`writev`, one
///   I/O slice per chunk) and [`advance`](Payload::advance)s by what the kernel took; a simple
///   loop may take [`to_vec`](Payload::to_vec), one contiguous copy.
///
/// Two payloads are equal when their bytes are, however they are chunked.
#[derive(Clone, Default)]
pub struct Payload {
    /// The chunks; those before `first` are written and released (empty).
    chunks: Vec<Bytes>,
    /// Index of the first chunk not wholly written.
    first: usize,
    /// Bytes not yet written.
    len: usize,
}

impl Payload {
    /// A payload of `head` (a frame without its record batches) with `batches[k]` inserted at
    /// `at[k]` (positions in `head`, in increasing order). `None` if the positions and the
    /// batches do not pair up.
    pub(crate) fn spliced(head: Vec<u8>, at: &[usize], batches: &[Bytes]) -> Option<Payload> {
        if at.len() != batches.len() || !at.is_sorted() || at.last().is_some_and(|&a| a > head.len()) {
            return None;
        }
        let head = Bytes::from(head);
        let mut chunks = Vec::with_capacity(2 * batches.len() + 1);
        let mut from = 0;
        for (&at, batch) in at.iter().zip(batches) {
            if at > from {
                chunks.push(head.slice(from..at));
            }
            if !batch.is_empty() {
                chunks.push(batch.clone());
            }
            from = at;
        }
        if head.len() > from {
            chunks.push(head.slice(from..));
        }
        let len = chunks.iter().map(Bytes::len).sum();
        Some(Payload { chunks, first: 0, len })
    }

    /// Bytes not yet written (all of them until [`advance`](Payload::advance) is called).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether every byte was written (or there were none).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes not yet written, in order, as non-empty slices (one per shared buffer).
    pub fn chunks(&self) -> impl ExactSizeIterator<Item = &[u8]> + DoubleEndedIterator + Clone {
        self.chunks.get(self.first..).unwrap_or_default().iter().map(|c| &c[..])
    }

    /// Marks the first `n` bytes written (all of them if `n` is larger): they are no longer in
    /// [`chunks`](Payload::chunks), and buffers wholly written are released at once.
    pub fn advance(&mut self, n: usize) {
        let mut n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let Some(chunk) = self.chunks.get_mut(self.first) else { break };
            if n < chunk.len() {
                chunk.advance(n);
                break;
            }
            n -= chunk.len();
            *chunk = Bytes::new();
            self.first += 1;
        }
    }

    /// The bytes not yet written, copied into one vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len);
        for c in self.chunks() {
            out.extend_from_slice(c);
        }
        out
    }
}

impl From<Vec<u8>> for Payload {
    /// One chunk, taking over the vector's allocation.
    fn from(bytes: Vec<u8>) -> Payload {
        let len = bytes.len();
        let chunks = if len == 0 { Vec::new() } else { alloc::vec![Bytes::from(bytes)] };
        Payload { chunks, first: 0, len }
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Payload) -> bool {
        self.len == other.len && self.chunks().flatten().eq(other.chunks().flatten())
    }
}

impl Eq for Payload {}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payload").field("len", &self.len).field("chunks", &self.chunks().len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spliced_chunks_concatenate_and_advance() {
        let batches = [Bytes::from_static(b"BATCH-ONE"), Bytes::from_static(b""), Bytes::from_static(b"TWO")];
        let p = Payload::spliced(b"<hd|mid|tail>".to_vec(), &[3, 8, 8], &batches).unwrap();
        assert_eq!(p.to_vec(), b"<hdBATCH-ONE|mid|TWOtail>");
        assert_eq!(p.len(), 25);
        // The empty batch adds no chunk.
        let chunks: Vec<&[u8]> = p.chunks().collect();
        assert_eq!(chunks, [&b"<hd"[..], b"BATCH-ONE", b"|mid|", b"TWO", b"tail>"]);
        assert_eq!(p, Payload::from(b"<hdBATCH-ONE|mid|TWOtail>".to_vec()));
        for n in 0..=26 {
            let mut q = p.clone();
            q.advance(n);
            assert_eq!(q.to_vec(), p.to_vec().get(n..).unwrap_or_default(), "advance {n}");
            assert_eq!(q.len(), 25usize.saturating_sub(n));
            assert!(q.chunks().all(|c| !c.is_empty()));
        }
        // Advancing in steps is advancing at once.
        let mut q = p.clone();
        for _ in 0..9 {
            q.advance(3);
        }
        assert!(q.is_empty() && q.chunks().next().is_none());
        // Positions that do not pair up with the batches.
        assert!(Payload::spliced(b"ab".to_vec(), &[1], &[]).is_none());
        assert!(Payload::spliced(b"ab".to_vec(), &[3], &batches[..1]).is_none());
        assert!(Payload::spliced(b"ab".to_vec(), &[2, 1], &batches[..2]).is_none());
    }

    #[test]
    fn written_batches_are_released() {
        let batch = Bytes::from(alloc::vec![7u8; 100]);
        let mut p = Payload::spliced(b"head".to_vec(), &[4], core::slice::from_ref(&batch)).unwrap();
        assert!(!batch.is_unique());
        p.advance(54);
        assert!(!batch.is_unique(), "half written: still held");
        p.advance(50);
        assert!(batch.is_unique(), "written: released");
        assert_eq!(Payload::from(Vec::new()), Payload::default());
    }
}
