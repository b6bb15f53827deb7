//! Reading records from the input, one per line, like `kcat -P`: the line without its `\n` is
//! the value; with a key separator, the bytes before the first separator are the key and the
//! bytes after it the value (a line without the separator has a null key). Empty lines are sent
//! as empty values. Lines are bytes: no encoding is assumed, `\r` is kept.

use std::io::{self, Read};

/// Bytes read from the input at a time (at least; a longer line grows the buffer).
const BLOCK: usize = 64 * 1024;

/// Reads the input in large blocks and hands out runs of whole lines ([`LineReader::next_lines`]),
/// without copying them line by line; counts the bytes handed out.
#[derive(Debug)]
pub struct LineReader<R> {
    input: R,
    buf: Vec<u8>,
    /// `buf[start..filled]` is read and not handed out yet.
    start: usize,
    filled: usize,
    /// Bytes of `buf[start..scanned]` known to hold no `\n`.
    scanned: usize,
    eof: bool,
    bytes_read: u64,
}

impl<R: Read> LineReader<R> {
    /// Wraps an input (unbuffered is fine: it is read in large blocks).
    pub fn new(input: R) -> Self {
        LineReader { input, buf: vec![0; BLOCK], start: 0, filled: 0, scanned: 0, eof: false, bytes_read: 0 }
    }

    /// The next run of whole lines, each with its `\n` except perhaps the input's last line
    /// (split it with [`lines`]), or `None` at the end of the input. Never empty.
    pub fn next_lines(&mut self) -> io::Result<Option<&[u8]>> {
        loop {
            let pending = self.buf.get(self.scanned..self.filled).unwrap_or_default();
            let end = match rfind_newline(pending) {
                Some(at) => Some(self.scanned + at + 1),
                None if self.eof && self.start < self.filled => Some(self.filled),
                None if self.eof => return Ok(None),
                None => None,
            };
            if let Some(end) = end {
                let run = self.buf.get(self.start..end).unwrap_or_default();
                self.bytes_read += run.len() as u64;
                (self.start, self.scanned) = (end, end);
                return Ok(Some(run));
            }
            self.scanned = self.filled;
            // Make room: move the partial line to the front, grow if it fills the buffer.
            if self.start > 0 {
                self.buf.copy_within(self.start..self.filled, 0);
                (self.filled, self.scanned, self.start) = (self.filled - self.start, self.scanned - self.start, 0);
            }
            if self.filled == self.buf.len() {
                self.buf.resize(self.buf.len() * 2, 0);
            }
            match self.input.read(self.buf.get_mut(self.filled..).unwrap_or_default()) {
                Ok(0) => self.eof = true,
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Bytes handed out so far (newlines included).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }
}

/// The position of the last `\n` in `bytes`. Looks at 16 bytes at a time (a loop the compiler
/// vectorizes) before looking at single bytes.
fn rfind_newline(bytes: &[u8]) -> Option<usize> {
    let mut end = bytes.len();
    for chunk in bytes.rchunks(16) {
        if chunk.iter().fold(false, |found, &b| found | (b == b'\n')) {
            return chunk.iter().rposition(|&b| b == b'\n').map(|at| end - chunk.len() + at);
        }
        end -= chunk.len();
    }
    None
}

/// The position of the first `\n` in `bytes` (16 bytes at a time, as [`rfind_newline`]).
fn find_newline(bytes: &[u8]) -> Option<usize> {
    let mut start = 0;
    for chunk in bytes.chunks(16) {
        if chunk.iter().fold(false, |found, &b| found | (b == b'\n')) {
            return chunk.iter().position(|&b| b == b'\n').map(|at| start + at);
        }
        start += chunk.len();
    }
    None
}

/// The lines of a run from [`LineReader::next_lines`], without their `\n`.
pub fn lines(run: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(run.strip_suffix(b"\n").unwrap_or(run));
    std::iter::from_fn(move || {
        let r = rest?;
        match find_newline(r) {
            Some(at) => {
                rest = r.get(at + 1..);
                r.get(..at)
            }
            None => rest.take(),
        }
    })
}

/// Splits a line into key and value at the first occurrence of `separator` (a non-empty byte
/// string). Without a separator, or when the line does not contain it, the key is `None` and the
/// whole line is the value.
pub fn split_key<'a>(line: &'a [u8], separator: Option<&[u8]>) -> (Option<&'a [u8]>, &'a [u8]) {
    let Some(sep) = separator.filter(|s| !s.is_empty()) else { return (None, line) };
    match line.windows(sep.len()).position(|w| w == sep) {
        Some(at) => (line.get(..at), line.get(at + sep.len()..).unwrap_or_default()),
        None => (None, line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_lines(input: &[u8]) -> Vec<Vec<u8>> {
        let mut r = LineReader::new(input);
        let mut out = Vec::new();
        while let Some(run) = r.next_lines().unwrap() {
            assert!(!run.is_empty());
            out.extend(lines(run).map(<[u8]>::to_vec));
        }
        assert_eq!(r.bytes_read(), input.len() as u64);
        out
    }

    /// Reads at most 7 bytes per call: lines straddle reads.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(7).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn long_and_straddling_lines() {
        let long = vec![b'x'; BLOCK * 2 + 5];
        let mut input = b"a\n".to_vec();
        input.extend_from_slice(&long);
        input.extend_from_slice(b"\nb\n0123456789abcdefghij0123456789\nlast");
        let want = [b"a".to_vec(), long, b"b".to_vec(), b"0123456789abcdefghij0123456789".to_vec(), b"last".to_vec()];
        assert_eq!(read_lines(&input), want);
        let mut r = LineReader::new(Trickle(&input));
        let mut got = Vec::new();
        while let Some(run) = r.next_lines().unwrap() {
            got.extend(lines(run).map(<[u8]>::to_vec));
        }
        assert_eq!(got, want);
        assert_eq!(r.bytes_read(), input.len() as u64);
    }

    #[test]
    fn one_record_per_line() {
        assert_eq!(read_lines(b"a\nbb\n\nc"), [b"a".to_vec(), b"bb".to_vec(), b"".to_vec(), b"c".to_vec()]);
        assert_eq!(read_lines(b"a\n"), [b"a".to_vec()]);
        assert_eq!(read_lines(b""), Vec::<Vec<u8>>::new());
        assert_eq!(read_lines(b"\n"), [b"".to_vec()]);
        assert_eq!(read_lines(b"x\r\n\xff\n"), [b"x\r".to_vec(), b"\xff".to_vec()]);
    }

    #[test]
    fn key_is_before_the_first_separator() {
        assert_eq!(split_key(b"k:v:w", Some(b":")), (Some(&b"k"[..]), &b"v:w"[..]));
        assert_eq!(split_key(b":v", Some(b":")), (Some(&b""[..]), &b"v"[..]));
        assert_eq!(split_key(b"k:", Some(b":")), (Some(&b"k"[..]), &b""[..]));
        assert_eq!(split_key(b"nokey", Some(b":")), (None, &b"nokey"[..]));
        assert_eq!(split_key(b"k::v", Some(b"::")), (Some(&b"k"[..]), &b"v"[..]));
        assert_eq!(split_key(b"k:v", None), (None, &b"k:v"[..]));
        assert_eq!(split_key(b"k:v", Some(b"")), (None, &b"k:v"[..]));
        assert_eq!(split_key(b"", Some(b"::")), (None, &b""[..]));
    }
}
