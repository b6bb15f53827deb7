//! Reading records from the input, one per line, like `kcat -P`: the line without its `\n` is
//! the value; with a key separator, the bytes before the first separator are the key and the
//! bytes after it the value (a line without the separator has a null key). Empty lines are sent
//! as empty values. Lines are bytes: no encoding is assumed, `\r` is kept.

use std::io::{self, BufRead};

/// Reads lines into one reused buffer and counts the bytes consumed.
#[derive(Debug)]
pub struct LineReader<R> {
    input: R,
    line: Vec<u8>,
    bytes_read: u64,
}

impl<R: BufRead> LineReader<R> {
    /// Wraps a buffered input.
    pub fn new(input: R) -> Self {
        LineReader { input, line: Vec::new(), bytes_read: 0 }
    }

    /// The next line without its trailing `\n`, or `None` at the end of the input. A last line
    /// without `\n` is a line; an input ending in `\n` has no extra empty line after it.
    pub fn next_line(&mut self) -> io::Result<Option<&[u8]>> {
        self.line.clear();
        let n = self.input.read_until(b'\n', &mut self.line)?;
        if n == 0 {
            return Ok(None);
        }
        self.bytes_read += n as u64;
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
        }
        Ok(Some(&self.line))
    }

    /// Bytes consumed from the input so far (newlines included).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }
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

    fn lines(input: &[u8]) -> Vec<Vec<u8>> {
        let mut r = LineReader::new(input);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push(l.to_vec());
        }
        assert_eq!(r.bytes_read(), input.len() as u64);
        out
    }

    #[test]
    fn one_record_per_line() {
        assert_eq!(lines(b"a\nbb\n\nc"), [b"a".to_vec(), b"bb".to_vec(), b"".to_vec(), b"c".to_vec()]);
        assert_eq!(lines(b"a\n"), [b"a".to_vec()]);
        assert_eq!(lines(b""), Vec::<Vec<u8>>::new());
        assert_eq!(lines(b"\n"), [b"".to_vec()]);
        assert_eq!(lines(b"x\r\n\xff\n"), [b"x\r".to_vec(), b"\xff".to_vec()]);
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
