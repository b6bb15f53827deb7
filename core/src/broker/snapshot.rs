//! Snapshot and restore of a [`ProducerStateTable`] (the format is stated on
//! [`ProducerStateTable::snapshot`]).

use alloc::vec::Vec;
use core::fmt;
use heapless::Deque;

use super::validator::{BatchMetadata, ProducerStateEntry, ProducerStateTable, ValidatorConfig, WINDOW};
use crate::crc32c;
use crate::time::Instant;

/// First four bytes of every snapshot.
pub(crate) const SNAPSHOT_MAGIC: [u8; 4] = *b"IDPS";
/// The format version this code writes and reads.
pub(crate) const SNAPSHOT_VERSION: u16 = 1;

const HEADER_LEN: usize = 4 + 2 + 4;
const CRC_LEN: usize = 4;
const ENTRY_LEN: usize = 8 + 2 + 8 + 1;
const BATCH_LEN: usize = 4 + 4 + 8 + 8 + 8;

/// Why a snapshot could not be restored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// Shorter than the smallest possible snapshot, or a field runs past the end.
    Truncated,
    /// The first bytes are not the magic `IDPS`.
    BadMagic,
    /// A version this code does not read.
    UnsupportedVersion(u16),
    /// The stored CRC-32C does not match the contents.
    ChecksumMismatch {
        /// The checksum stored in the snapshot.
        stored: u32,
        /// The checksum of the bytes present.
        computed: u32,
    },
    /// A field holds a value no valid snapshot contains.
    InvalidField(&'static str),
    /// Bytes remain after the last declared producer.
    TrailingBytes,
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::Truncated => write!(f, "producer state snapshot is truncated"),
            SnapshotError::BadMagic => write!(f, "not a producer state snapshot (bad magic)"),
            SnapshotError::UnsupportedVersion(v) => {
                write!(f, "unsupported producer state snapshot version {v}")
            }
            SnapshotError::ChecksumMismatch { stored, computed } => write!(
                f,
                "producer state snapshot checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            SnapshotError::InvalidField(what) => write!(f, "invalid producer state snapshot: {what}"),
            SnapshotError::TrailingBytes => write!(f, "producer state snapshot has trailing bytes"),
        }
    }
}

impl core::error::Error for SnapshotError {}

impl ProducerStateTable {
    /// Serialises every tracked producer (expired ones included) with its whole window (what
    /// Redpanda restores after a restart), for [`restore`](Self::restore).
    ///
    /// Format (all integers big-endian, as on Kafka's wire):
    ///
    /// ```text
    /// magic "IDPS" | version u16 = 1 | producer count u32 |
    ///   per producer, ascending id: producer_id i64 | epoch i16 | last_update_us u64 |
    ///     batch count u8 (1..=5) | per batch, oldest first:
    ///       first_seq i32 | last_seq i32 | base_offset i64 | last_offset i64 | timestamp i64
    /// crc u32 = CRC-32C of everything before it
    /// ```
    pub fn snapshot(&self) -> Vec<u8> {
        self.encode_snapshot(WINDOW)
    }

    /// Serialises every tracked producer (expired ones included) with only its newest batch:
    /// what Kafka's producer-state snapshot holds (`ProducerStateManager.writeSnapshot` stores
    /// per producer the epoch, last sequence, last offset, offset delta and timestamp of its last
    /// batch). After a restart from it, a resend of any older batch of the window is
    /// OUT_OF_ORDER_SEQUENCE_NUMBER instead of a duplicate.
    pub fn snapshot_last_batch(&self) -> Vec<u8> {
        self.encode_snapshot(1)
    }

    /// The snapshot format with at most `keep` (1..=5) of each producer's newest batches.
    fn encode_snapshot(&self, keep: usize) -> Vec<u8> {
        let kept = |e: &ProducerStateEntry| e.batches.len().min(keep);
        let batches: usize = self.iter().map(|(_, e)| kept(e)).sum();
        let mut out = Vec::with_capacity(HEADER_LEN + self.len() * ENTRY_LEN + batches * BATCH_LEN + CRC_LEN);
        out.extend_from_slice(&SNAPSHOT_MAGIC);
        out.extend_from_slice(&SNAPSHOT_VERSION.to_be_bytes());
        // The table never holds more than u32::MAX producers in practice; saturate regardless.
        let count = u32::try_from(self.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&count.to_be_bytes());
        let mut entries: Vec<(i64, &ProducerStateEntry)> = self.iter().take(count as usize).collect();
        entries.sort_unstable_by_key(|(id, _)| *id);
        for (id, entry) in entries {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&entry.epoch.to_be_bytes());
            out.extend_from_slice(&entry.last_update.as_micros().to_be_bytes());
            let n = kept(entry);
            // At most WINDOW (5) batches.
            out.push(n as u8);
            for b in entry.batches.iter().skip(entry.batches.len() - n) {
                out.extend_from_slice(&b.first_seq.to_be_bytes());
                out.extend_from_slice(&b.last_seq.to_be_bytes());
                out.extend_from_slice(&b.base_offset.to_be_bytes());
                out.extend_from_slice(&b.last_offset.to_be_bytes());
                out.extend_from_slice(&b.timestamp.to_be_bytes());
            }
        }
        let crc = crc32c::checksum(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        out
    }

    /// Rebuilds a table from [`snapshot`](Self::snapshot) (or
    /// [`snapshot_last_batch`](Self::snapshot_last_batch)) bytes, with `config` as its settings.
    ///
    /// Checks the length, magic, version and checksum before reading anything, then every field
    /// (ids strictly ascending and non-negative, 1 to 5 batches, non-negative epochs and
    /// sequences, no trailing bytes): any damaged input is a [`SnapshotError`], never a panic.
    /// Update times are kept as they were: the driver restores on the same timeline (or accepts
    /// that the times are relative to its old clock).
    ///
    /// If the snapshot holds more producers than `config.max_producers`, the least recently
    /// updated are evicted down to the cap.
    pub fn restore(bytes: &[u8], config: ValidatorConfig) -> Result<ProducerStateTable, SnapshotError> {
        if bytes.len() < HEADER_LEN + CRC_LEN {
            return Err(SnapshotError::Truncated);
        }
        let (body, crc_bytes) = bytes.split_at(bytes.len() - CRC_LEN);
        let mut r = Cursor { buf: body };
        if r.take::<4>()? != SNAPSHOT_MAGIC {
            return Err(SnapshotError::BadMagic);
        }
        let version = u16::from_be_bytes(r.take()?);
        if version != SNAPSHOT_VERSION {
            return Err(SnapshotError::UnsupportedVersion(version));
        }
        let stored = u32::from_be_bytes(Cursor { buf: crc_bytes }.take()?);
        let computed = crc32c::checksum(body);
        if stored != computed {
            return Err(SnapshotError::ChecksumMismatch { stored, computed });
        }
        let count = u32::from_be_bytes(r.take()?) as usize;
        if count > r.buf.len() / (ENTRY_LEN + BATCH_LEN) {
            return Err(SnapshotError::Truncated);
        }
        let mut table = ProducerStateTable::new(ValidatorConfig { max_producers: usize::MAX, ..config });
        let mut previous: Option<i64> = None;
        for _ in 0..count {
            let id = i64::from_be_bytes(r.take()?);
            if id < 0 {
                return Err(SnapshotError::InvalidField("negative producer id"));
            }
            if previous.is_some_and(|p| p >= id) {
                return Err(SnapshotError::InvalidField("producer ids not strictly ascending"));
            }
            previous = Some(id);
            let epoch = i16::from_be_bytes(r.take()?);
            if epoch < 0 {
                return Err(SnapshotError::InvalidField("negative producer epoch"));
            }
            let last_update = Instant::from_micros(u64::from_be_bytes(r.take()?));
            let [n] = r.take::<1>()?;
            if n == 0 || n as usize > WINDOW {
                return Err(SnapshotError::InvalidField("batch count not in 1..=5"));
            }
            let mut batches = Deque::new();
            for _ in 0..n {
                let b = BatchMetadata {
                    first_seq: i32::from_be_bytes(r.take()?),
                    last_seq: i32::from_be_bytes(r.take()?),
                    base_offset: i64::from_be_bytes(r.take()?),
                    last_offset: i64::from_be_bytes(r.take()?),
                    timestamp: i64::from_be_bytes(r.take()?),
                };
                if b.first_seq < 0 || b.last_seq < 0 {
                    return Err(SnapshotError::InvalidField("negative sequence"));
                }
                if batches.push_back(b).is_err() {
                    return Err(SnapshotError::InvalidField("batch count not in 1..=5"));
                }
            }
            table.insert(id, ProducerStateEntry { batches, last_update, epoch });
        }
        if !r.buf.is_empty() {
            return Err(SnapshotError::TrailingBytes);
        }
        table.reconfigure(config);
        Ok(table)
    }
}

/// A bounds-checked reader over the snapshot body.
struct Cursor<'a> {
    buf: &'a [u8],
}

impl Cursor<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let (head, rest) = self.buf.split_first_chunk::<N>().ok_or(SnapshotError::Truncated)?;
        self.buf = rest;
        Ok(*head)
    }
}
