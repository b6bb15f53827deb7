//! Encoding primitives, appended to a `Vec<u8>`.
//!
//! Every length is checked against the width of its length field; a value that does not fit is
//! an [`EncodeError::TooLong`], never a silently truncated frame.

use super::error::EncodeError;
use alloc::vec::Vec;

type Result<T> = core::result::Result<T, EncodeError>;

/// Appends Kafka primitives to a buffer. Implemented for `Vec<u8>`.
pub trait Writer {
    /// Appends raw bytes.
    fn put_slice(&mut self, s: &[u8]);

    /// A signed byte.
    fn put_i8(&mut self, v: i8) {
        self.put_slice(&v.to_be_bytes());
    }
    /// A big-endian int16.
    fn put_i16(&mut self, v: i16) {
        self.put_slice(&v.to_be_bytes());
    }
    /// A big-endian uint16.
    fn put_u16(&mut self, v: u16) {
        self.put_slice(&v.to_be_bytes());
    }
    /// A big-endian int32.
    fn put_i32(&mut self, v: i32) {
        self.put_slice(&v.to_be_bytes());
    }
    /// A big-endian uint32.
    fn put_u32(&mut self, v: u32) {
        self.put_slice(&v.to_be_bytes());
    }
    /// A big-endian int64.
    fn put_i64(&mut self, v: i64) {
        self.put_slice(&v.to_be_bytes());
    }
    /// A big-endian float64.
    fn put_f64(&mut self, v: f64) {
        self.put_slice(&v.to_be_bytes());
    }
    /// A boolean as one byte, 0 or 1.
    fn put_bool(&mut self, v: bool) {
        self.put_i8(i8::from(v));
    }
    /// A 16-byte UUID.
    fn put_uuid(&mut self, v: &[u8; 16]) {
        self.put_slice(v);
    }

    /// An unsigned LEB128 varint.
    fn put_uvarint(&mut self, mut v: u32) {
        let mut buf = [0u8; 5];
        let mut i = 0;
        while v >= 0x80 {
            buf[i] = (v as u8) | 0x80;
            v >>= 7;
            i += 1;
        }
        buf[i] = v as u8;
        self.put_slice(&buf[..=i]);
    }

    /// An unsigned LEB128 varlong.
    fn put_uvarlong(&mut self, mut v: u64) {
        let mut buf = [0u8; 10];
        let mut i = 0;
        while v >= 0x80 {
            buf[i] = (v as u8) | 0x80;
            v >>= 7;
            i += 1;
        }
        buf[i] = v as u8;
        self.put_slice(&buf[..=i]);
    }

    /// A zig-zag varint.
    fn put_varint(&mut self, v: i32) {
        self.put_uvarint(((v << 1) ^ (v >> 31)) as u32);
    }

    /// A zig-zag varlong.
    fn put_varlong(&mut self, v: i64) {
        self.put_uvarlong(((v << 1) ^ (v >> 63)) as u64);
    }

    /// A length or null marker: compact (N+1 as uvarint, 0 = null) when `flexible`, else int16
    /// or int32 as `wide` says (-1 = null).
    fn put_length(&mut self, flexible: bool, wide: bool, len: Option<usize>) -> Result<()> {
        let limit = if flexible {
            u32::MAX as usize - 1
        } else if wide {
            i32::MAX as usize
        } else {
            i16::MAX as usize
        };
        match len {
            Some(n) if n > limit => Err(EncodeError::TooLong { length: n }),
            Some(n) if flexible => {
                self.put_uvarint(n as u32 + 1);
                Ok(())
            }
            Some(n) if wide => {
                self.put_i32(n as i32);
                Ok(())
            }
            Some(n) => {
                self.put_i16(n as i16);
                Ok(())
            }
            None if flexible => {
                self.put_uvarint(0);
                Ok(())
            }
            None if wide => {
                self.put_i32(-1);
                Ok(())
            }
            None => {
                self.put_i16(-1);
                Ok(())
            }
        }
    }

    /// A nullable string: `COMPACT_NULLABLE_STRING` when `flexible`, else `NULLABLE_STRING`.
    fn put_nullable_string(&mut self, flexible: bool, s: Option<&str>) -> Result<()> {
        self.put_length(flexible, false, s.map(str::len))?;
        if let Some(s) = s {
            self.put_slice(s.as_bytes());
        }
        Ok(())
    }

    /// A non-null string.
    fn put_string(&mut self, flexible: bool, s: &str) -> Result<()> {
        self.put_nullable_string(flexible, Some(s))
    }

    /// Nullable bytes: `COMPACT_NULLABLE_BYTES` when `flexible`, else `NULLABLE_BYTES`.
    fn put_nullable_bytes(&mut self, flexible: bool, b: Option<&[u8]>) -> Result<()> {
        self.put_length(flexible, true, b.map(<[u8]>::len))?;
        if let Some(b) = b {
            self.put_slice(b);
        }
        Ok(())
    }

    /// Non-null bytes.
    fn put_bytes(&mut self, flexible: bool, b: &[u8]) -> Result<()> {
        self.put_nullable_bytes(flexible, Some(b))
    }

    /// An array's element count (`None` = null array).
    fn put_array_len(&mut self, flexible: bool, len: Option<usize>) -> Result<()> {
        self.put_length(flexible, true, len)
    }

    /// A varint-length-prefixed byte string as used inside records (`None` = -1).
    fn put_varint_bytes(&mut self, b: Option<&[u8]>) -> Result<()> {
        match b {
            None => self.put_varint(-1),
            Some(b) if b.len() > i32::MAX as usize => return Err(EncodeError::TooLong { length: b.len() }),
            Some(b) => {
                self.put_varint(b.len() as i32);
                self.put_slice(b);
            }
        }
        Ok(())
    }

    /// An empty tagged-field section.
    fn put_empty_tagged_fields(&mut self) {
        self.put_uvarint(0);
    }

    /// One tagged field (`tag`, size, `data`); the caller writes the count first and keeps tags
    /// in increasing order.
    fn put_tagged_field(&mut self, tag: u32, data: &[u8]) -> Result<()> {
        if data.len() > u32::MAX as usize {
            return Err(EncodeError::TooLong { length: data.len() });
        }
        self.put_uvarint(tag);
        self.put_uvarint(data.len() as u32);
        self.put_slice(data);
        Ok(())
    }
}

impl Writer for Vec<u8> {
    #[inline]
    fn put_slice(&mut self, s: &[u8]) {
        self.extend_from_slice(s);
    }
}

/// Bytes a zig-zag varint takes on the wire.
pub const fn varint_len(v: i32) -> usize {
    uvarint_len(((v << 1) ^ (v >> 31)) as u32)
}

/// Bytes an unsigned varint takes on the wire.
pub const fn uvarint_len(v: u32) -> usize {
    match v {
        0..=0x7F => 1,
        0x80..=0x3FFF => 2,
        0x4000..=0x1F_FFFF => 3,
        0x20_0000..=0x0FFF_FFFF => 4,
        _ => 5,
    }
}

/// Bytes a zig-zag varlong takes on the wire.
pub const fn varlong_len(v: i64) -> usize {
    let mut u = ((v << 1) ^ (v >> 63)) as u64;
    let mut n = 1;
    while u >= 0x80 {
        u >>= 7;
        n += 1;
    }
    n
}

/// Runs `f` and leaves `out` as it was if it fails, so a failed encode appends nothing.
pub(crate) fn atomically(out: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>) -> Result<()>) -> Result<()> {
    let start = out.len();
    let result = f(out);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::super::reader::Reader;
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn varints_round_trip(a in any::<i32>(), b in any::<i64>(), c in any::<u32>(), d in any::<u64>()) {
            let mut v = Vec::new();
            v.put_varint(a);
            prop_assert_eq!(v.len(), varint_len(a));
            v.put_varlong(b);
            v.put_uvarint(c);
            prop_assert_eq!(v.len(), varint_len(a) + varlong_len(b) + uvarint_len(c));
            v.put_uvarlong(d);
            let mut r = Reader::new(&v);
            prop_assert_eq!(r.varint(), Ok(a));
            prop_assert_eq!(r.varlong(), Ok(b));
            prop_assert_eq!(r.uvarint(), Ok(c));
            prop_assert_eq!(r.uvarlong(), Ok(d));
            prop_assert!(r.finish().is_ok());
        }

        #[test]
        fn strings_round_trip(s in ".{0,40}", n in proptest::option::of(".{0,10}"), flexible in any::<bool>()) {
            let mut v = Vec::new();
            v.put_string(flexible, &s).unwrap();
            v.put_nullable_string(flexible, n.as_deref()).unwrap();
            v.put_nullable_bytes(flexible, n.as_deref().map(str::as_bytes)).unwrap();
            let mut r = Reader::new(&v);
            prop_assert_eq!(r.string(flexible), Ok(s.as_str()));
            prop_assert_eq!(r.nullable_string(flexible), Ok(n.as_deref()));
            prop_assert_eq!(r.nullable_bytes(flexible), Ok(n.as_deref().map(str::as_bytes)));
        }
    }

    #[test]
    fn too_long_string_is_an_error() {
        let s = "x".repeat(40_000);
        assert_eq!(Vec::new().put_string(false, &s), Err(EncodeError::TooLong { length: 40_000 }));
        assert!(Vec::new().put_string(true, &s).is_ok());
    }
}
