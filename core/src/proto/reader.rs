//! Decoding primitives over a borrowed byte slice.
//!
//! [`Reader`] never panics and never trusts a length field: every length is checked against the
//! bytes actually present before anything is sliced or allocated. Strings and byte arrays are
//! returned as borrows of the input.

use super::error::DecodeError;

/// A cursor over borrowed bytes. All reads advance the cursor only on success.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

type Result<T> = core::result::Result<T, DecodeError>;

impl<'a> Reader<'a> {
    /// A reader positioned at the start of `buf`.
    pub const fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Fails with [`DecodeError::TrailingBytes`] unless every byte has been read.
    pub fn finish(&self) -> Result<()> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }

    /// The next `n` bytes, borrowed.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(DecodeError::Truncated { needed: n - self.remaining() });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// A signed byte.
    pub fn i8(&mut self) -> Result<i8> {
        Ok(i8::from_be_bytes(self.array()?))
    }
    /// A big-endian int16.
    pub fn i16(&mut self) -> Result<i16> {
        Ok(i16::from_be_bytes(self.array()?))
    }
    /// A big-endian uint16.
    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    /// A big-endian int32.
    pub fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.array()?))
    }
    /// A big-endian uint32.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    /// A big-endian int64.
    pub fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_be_bytes(self.array()?))
    }
    /// A big-endian IEEE-754 float64.
    pub fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_be_bytes(self.array()?))
    }
    /// A boolean: 0 is false, anything else true (as Kafka reads it).
    pub fn bool(&mut self) -> Result<bool> {
        Ok(self.i8()? != 0)
    }
    /// A 16-byte UUID.
    pub fn uuid(&mut self) -> Result<[u8; 16]> {
        self.array()
    }

    /// An unsigned LEB128 varint of at most 5 bytes (Kafka's `UNSIGNED_VARINT`).
    pub fn uvarint(&mut self) -> Result<u32> {
        let mut value: u32 = 0;
        let mut i = 0;
        loop {
            let b = match self.buf.get(self.pos + i) {
                Some(b) => *b,
                None => return Err(DecodeError::Truncated { needed: 1 }),
            };
            if i == 4 && b > 0x0F {
                return Err(DecodeError::VarintTooLong);
            }
            value |= u32::from(b & 0x7F) << (7 * i);
            i += 1;
            if b & 0x80 == 0 {
                self.pos += i;
                return Ok(value);
            }
        }
    }

    /// An unsigned LEB128 varlong of at most 10 bytes.
    pub fn uvarlong(&mut self) -> Result<u64> {
        let mut value: u64 = 0;
        let mut i = 0;
        loop {
            let b = match self.buf.get(self.pos + i) {
                Some(b) => *b,
                None => return Err(DecodeError::Truncated { needed: 1 }),
            };
            if i == 9 && b > 0x01 {
                return Err(DecodeError::VarintTooLong);
            }
            value |= u64::from(b & 0x7F) << (7 * i);
            i += 1;
            if b & 0x80 == 0 {
                self.pos += i;
                return Ok(value);
            }
        }
    }

    /// A zig-zag varint (Kafka's `VARINT`).
    pub fn varint(&mut self) -> Result<i32> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i32) ^ -((u & 1) as i32))
    }

    /// A zig-zag varlong (Kafka's `VARLONG`).
    pub fn varlong(&mut self) -> Result<i64> {
        let u = self.uvarlong()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// Reads a length: compact (`uvarint` N+1, 0 = null) when `flexible`, else `i16`/`i32`
    /// classic (`-1` = null) as `wide` says. Returns `None` for null. Checks that `len * min`
    /// bytes are present.
    fn length(&mut self, flexible: bool, wide: bool, min: usize) -> Result<Option<usize>> {
        let len: i64 = if flexible {
            i64::from(self.uvarint()?) - 1
        } else if wide {
            i64::from(self.i32()?)
        } else {
            i64::from(self.i16()?)
        };
        if len == -1 {
            return Ok(None);
        }
        if len < 0 || (len as u64).saturating_mul(min as u64) > self.remaining() as u64 {
            return Err(DecodeError::InvalidLength { length: len });
        }
        Ok(Some(len as usize))
    }

    /// A nullable string: `COMPACT_NULLABLE_STRING` when `flexible`, else `NULLABLE_STRING`.
    pub fn nullable_string(&mut self, flexible: bool) -> Result<Option<&'a str>> {
        let Some(n) = self.length(flexible, false, 1)? else { return Ok(None) };
        let s = self.take(n)?;
        core::str::from_utf8(s).map(Some).map_err(|_| DecodeError::InvalidUtf8)
    }

    /// A non-null string: `COMPACT_STRING` when `flexible`, else `STRING`.
    pub fn string(&mut self, flexible: bool) -> Result<&'a str> {
        self.nullable_string(flexible)?.ok_or(DecodeError::UnexpectedNull)
    }

    /// Nullable bytes: `COMPACT_NULLABLE_BYTES` when `flexible`, else `NULLABLE_BYTES` (int32
    /// length).
    pub fn nullable_bytes(&mut self, flexible: bool) -> Result<Option<&'a [u8]>> {
        let Some(n) = self.length(flexible, true, 1)? else { return Ok(None) };
        self.take(n).map(Some)
    }

    /// Non-null bytes: `COMPACT_BYTES` when `flexible`, else `BYTES`.
    pub fn bytes(&mut self, flexible: bool) -> Result<&'a [u8]> {
        self.nullable_bytes(flexible)?.ok_or(DecodeError::UnexpectedNull)
    }

    /// A nullable array's element count: `COMPACT_ARRAY` when `flexible`, else `ARRAY`.
    /// `min_element_size` is the fewest bytes one element can take; the count is rejected if
    /// that many elements cannot fit in the remaining input, so callers may allocate
    /// `Vec::with_capacity(count)` safely.
    pub fn nullable_array_len(&mut self, flexible: bool, min_element_size: usize) -> Result<Option<usize>> {
        self.length(flexible, true, min_element_size.max(1))
    }

    /// A non-null array's element count; see [`Reader::nullable_array_len`].
    pub fn array_len(&mut self, flexible: bool, min_element_size: usize) -> Result<usize> {
        self.nullable_array_len(flexible, min_element_size)?.ok_or(DecodeError::UnexpectedNull)
    }

    /// A non-null array decoded element by element with `element`; the count is checked as in
    /// [`Reader::array_len`], so the `Vec` never outgrows the input.
    pub fn array_of<T>(
        &mut self,
        flexible: bool,
        min_element_size: usize,
        mut element: impl FnMut(&mut Reader<'a>) -> Result<T>,
    ) -> Result<alloc::vec::Vec<T>> {
        let n = self.array_len(flexible, min_element_size)?;
        let mut v = alloc::vec::Vec::with_capacity(n);
        for _ in 0..n {
            v.push(element(self)?);
        }
        Ok(v)
    }

    /// A varint-length-prefixed byte string as used inside records (`-1` = null).
    pub fn varint_bytes(&mut self) -> Result<Option<&'a [u8]>> {
        let n = self.varint()?;
        if n == -1 {
            return Ok(None);
        }
        if n < 0 {
            return Err(DecodeError::InvalidLength { length: i64::from(n) });
        }
        self.take(n as usize).map(Some)
    }

    /// A tagged-field section (KIP-482). `on_field(tag, data)` is called for each field; the
    /// caller decodes the tags it knows from `data` and ignores the rest. Tags must be strictly
    /// increasing, as Kafka requires.
    pub fn tagged_fields(&mut self, mut on_field: impl FnMut(u32, &'a [u8]) -> Result<()>) -> Result<()> {
        let count = self.uvarint()?;
        if count as usize > self.remaining() / 2 {
            return Err(DecodeError::InvalidLength { length: i64::from(count) });
        }
        let mut last: Option<u32> = None;
        for _ in 0..count {
            let tag = self.uvarint()?;
            if last.is_some_and(|l| tag <= l) {
                return Err(DecodeError::InvalidValue("tagged fields out of order"));
            }
            last = Some(tag);
            let size = self.uvarint()? as usize;
            let data = self.take(size)?;
            on_field(tag, data)?;
        }
        Ok(())
    }

    /// Skips a tagged-field section, ignoring every field.
    pub fn skip_tagged_fields(&mut self) -> Result<()> {
        self.tagged_fields(|_, _| Ok(()))
    }
}

/// Fewest bytes a string (`flexible`: compact) can take on the wire, for the element-count
/// check of [`Reader::array_len`].
pub(crate) const fn min_string(flexible: bool) -> usize {
    if flexible { 1 } else { 2 }
}

/// Fewest bytes a byte string (`flexible`: compact) can take on the wire.
pub(crate) const fn min_bytes(flexible: bool) -> usize {
    if flexible { 1 } else { 4 }
}

/// Fewest bytes an array (`flexible`: compact) or a tagged-field section can take.
pub(crate) const fn min_array(flexible: bool) -> usize {
    if flexible { 1 } else { 4 }
}

/// Fewest bytes the tagged-field section that closes a structure takes: one in flexible
/// versions, none otherwise (there is none).
pub(crate) const fn min_tags(flexible: bool) -> usize {
    if flexible { 1 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_reject_overlong() {
        assert_eq!(Reader::new(&[0xFF, 0xFF, 0xFF, 0xFF, 0x7F]).uvarint(), Err(DecodeError::VarintTooLong));
        assert_eq!(Reader::new(&[0xFF, 0xFF, 0xFF, 0xFF, 0x0F]).uvarint(), Ok(u32::MAX));
        assert_eq!(Reader::new(&[0x80]).uvarint(), Err(DecodeError::Truncated { needed: 1 }));
        assert_eq!(Reader::new(&[0x01]).varint(), Ok(-1));
        assert_eq!(Reader::new(&[0x02]).varint(), Ok(1));
        let max = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];
        assert_eq!(Reader::new(&max).varlong(), Ok(i64::MIN));
        let over = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02];
        assert_eq!(Reader::new(&over).varlong(), Err(DecodeError::VarintTooLong));
    }

    #[test]
    fn lengths_are_checked_against_input() {
        // Array of 1,000,000 elements in 4 bytes of input.
        let mut r = Reader::new(&[0x00, 0x0F, 0x42, 0x40]);
        assert!(matches!(r.array_len(false, 1), Err(DecodeError::InvalidLength { .. })));
        // String claims 5 bytes, has 2.
        let mut r = Reader::new(&[0x00, 0x05, b'a', b'b']);
        assert!(matches!(r.string(false), Err(DecodeError::InvalidLength { .. })));
        let mut r = Reader::new(&[0xFF, 0xFF]);
        assert_eq!(r.nullable_string(false), Ok(None));
        let mut r = Reader::new(&[0x00]);
        assert_eq!(r.nullable_string(true), Ok(None));
        let mut r = Reader::new(&[0x03, b'h', b'i']);
        assert_eq!(r.string(true), Ok("hi"));
        assert!(r.finish().is_ok());
    }

    #[test]
    fn tagged_fields_in_order() {
        let mut r = Reader::new(&[2, 0, 1, 9, 3, 0]);
        let mut seen = alloc::vec::Vec::new();
        r.tagged_fields(|t, d| {
            seen.push((t, d.len()));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, [(0, 1), (3, 0)]);
        let mut r = Reader::new(&[2, 3, 0, 1, 0]);
        assert!(r.skip_tagged_fields().is_err());
    }
}
