//! CRC-32C (Castagnoli), the checksum of Kafka's RecordBatch v2.
//!
//! With the `std` feature this uses the `crc32c` crate (SSE4.2 / ARMv8 CRC instructions when the
//! CPU has them). Without `std` it uses a portable slicing-by-8 table implementation. Both give
//! identical results; the tests check that on random inputs.

/// The reflected Castagnoli polynomial.
const POLY: u32 = 0x82F6_3B78;

/// Slicing-by-8 tables, computed at compile time.
static TABLES: [[u32; 256]; 8] = make_tables(POLY);

/// Slicing-by-8 tables of the reflected CRC-32 with polynomial `poly` (also used for gzip's
/// CRC-32, polynomial 0xEDB88320).
pub(crate) const fn make_tables(poly: u32) -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ poly } else { c >> 1 };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut i = 0;
    while i < 256 {
        let mut s = 1;
        while s < 8 {
            let prev = t[s - 1][i];
            t[s][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            s += 1;
        }
        i += 1;
    }
    t
}

/// Extends a running CRC-32C `crc` (start with 0) over `data` using only portable code.
///
/// Always available, so the `std` build can test its accelerated path against it.
pub fn extend_portable(crc: u32, data: &[u8]) -> u32 {
    extend_with(&TABLES, crc, data)
}

/// Extends a running reflected CRC-32 (start with 0) over `data` with the tables of
/// [`make_tables`].
pub(crate) fn extend_with(tables: &[[u32; 256]; 8], crc: u32, data: &[u8]) -> u32 {
    let mut c = !crc;
    let mut chunks = data.chunks_exact(8);
    for ch in &mut chunks {
        let lo = u32::from_le_bytes([ch[0], ch[1], ch[2], ch[3]]) ^ c;
        let hi = u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]);
        c = tables[7][(lo & 0xFF) as usize]
            ^ tables[6][((lo >> 8) & 0xFF) as usize]
            ^ tables[5][((lo >> 16) & 0xFF) as usize]
            ^ tables[4][(lo >> 24) as usize]
            ^ tables[3][(hi & 0xFF) as usize]
            ^ tables[2][((hi >> 8) & 0xFF) as usize]
            ^ tables[1][((hi >> 16) & 0xFF) as usize]
            ^ tables[0][(hi >> 24) as usize];
    }
    for &b in chunks.remainder() {
        c = (c >> 8) ^ tables[0][((c ^ b as u32) & 0xFF) as usize];
    }
    !c
}

/// Extends a running CRC-32C `crc` (start with 0) over `data`, with the fastest path available.
pub fn extend(crc: u32, data: &[u8]) -> u32 {
    #[cfg(feature = "std")]
    {
        ::crc32c::crc32c_append(crc, data)
    }
    #[cfg(not(feature = "std"))]
    {
        extend_portable(crc, data)
    }
}

/// The CRC-32C of `data`.
pub fn checksum(data: &[u8]) -> u32 {
    extend(0, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_vectors() {
        // RFC 3720 B.4 test vectors.
        assert_eq!(extend_portable(0, &[0u8; 32]), 0x8A91_36AA);
        assert_eq!(extend_portable(0, &[0xFFu8; 32]), 0x62A8_AB43);
        assert_eq!(extend_portable(0, b"123456789"), 0xE306_9283);
        assert_eq!(checksum(b"123456789"), 0xE306_9283);
    }

    proptest! {
        #[test]
        fn portable_matches_accelerated(data in proptest::collection::vec(any::<u8>(), 0..2048), split in 0usize..2048) {
            let split = split.min(data.len());
            let whole = checksum(&data);
            prop_assert_eq!(extend_portable(0, &data), whole);
            let (a, b) = data.split_at(split);
            prop_assert_eq!(extend_portable(extend_portable(0, a), b), whole);
            prop_assert_eq!(extend(extend(0, a), b), whole);
        }
    }
}
