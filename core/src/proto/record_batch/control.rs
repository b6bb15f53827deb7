//! Control records (KIP-98): the COMMIT and ABORT markers a transaction coordinator has written
//! to every partition of a transaction when it ends (EndTxn, then WriteTxnMarkers).
//!
//! A control batch has attributes [`ATTR_TRANSACTIONAL`] and [`ATTR_CONTROL`] set, the
//! producer id and epoch of the transaction, no sequence, and one uncompressed record whose
//! key and value are (Kafka's `ControlRecordType` and `EndTransactionMarker`):
//! - key: `version int16` (0) + `type int16` (0 = ABORT, 1 = COMMIT);
//! - value: `version int16` (0) + `coordinator_epoch int32` (the `EndTxnMarker` message).
//!
//! So a COMMIT of coordinator epoch 5 is key `00 00 00 01`, value `00 00 00 00 00 05`. As Kafka
//! does, a key or value of a later version is read as version 0 (its leading fields), and a
//! negative version is an error.

use super::{
    ATTR_CONTROL, ATTR_TRANSACTIONAL, ProducerStamp, Record, RecordBatch, RecordBatchBuilder, set_base_offset,
};
use crate::proto::error::DecodeError;
use crate::proto::reader::Reader;
use alloc::vec::Vec;

/// The type of a control record, the int16 after its key's version (Kafka's
/// `ControlRecordType`; other values are KRaft's, e.g. LEADER_CHANGE 2, which idem does not
/// write).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ControlRecordType(pub i16);

impl ControlRecordType {
    /// A transaction was aborted: its records are to be skipped by `read_committed` consumers.
    pub const ABORT: ControlRecordType = ControlRecordType(0);
    /// A transaction was committed.
    pub const COMMIT: ControlRecordType = ControlRecordType(1);
    /// The key version idem writes (Kafka's `ControlRecordType.CURRENT_CONTROL_RECORD_KEY_VERSION`).
    pub const CURRENT_KEY_VERSION: i16 = 0;

    /// The key of a control record of this type: version 0, then the type.
    pub fn record_key(self) -> [u8; 4] {
        let [v0, v1] = Self::CURRENT_KEY_VERSION.to_be_bytes();
        let [t0, t1] = self.0.to_be_bytes();
        [v0, v1, t0, t1]
    }

    /// Reads the type from a control record's key (Kafka's `ControlRecordType.parse`): a null
    /// key is [`DecodeError::UnexpectedNull`], fewer than 4 bytes [`DecodeError::Truncated`], a
    /// negative version [`DecodeError::InvalidValue`]; bytes after the type (a later version's)
    /// are ignored.
    pub fn parse(key: Option<&[u8]>) -> Result<ControlRecordType, DecodeError> {
        let mut r = Reader::new(key.ok_or(DecodeError::UnexpectedNull)?);
        if r.i16()? < 0 {
            return Err(DecodeError::InvalidValue("negative control record key version"));
        }
        Ok(ControlRecordType(r.i16()?))
    }
}

/// How a transaction ended (Kafka's `TransactionResult`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransactionResult {
    /// Aborted (control type ABORT).
    Abort,
    /// Committed (control type COMMIT).
    Commit,
}

impl TransactionResult {
    /// The control record type of this result's marker.
    pub const fn control_type(self) -> ControlRecordType {
        match self {
            TransactionResult::Abort => ControlRecordType::ABORT,
            TransactionResult::Commit => ControlRecordType::COMMIT,
        }
    }
}

/// The marker that ends a transaction in one partition (Kafka's `EndTransactionMarker`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EndTransactionMarker {
    /// Whether the transaction committed or aborted.
    pub result: TransactionResult,
    /// The epoch of the transaction coordinator that wrote the marker (a newer coordinator's
    /// markers win).
    pub coordinator_epoch: i32,
}

impl EndTransactionMarker {
    /// The value version idem writes (Kafka's `EndTransactionMarker.CURRENT_END_TXN_MARKER_VERSION`).
    pub const CURRENT_VALUE_VERSION: i16 = 0;

    /// The marker record's key (see [`ControlRecordType::record_key`]).
    pub fn key(&self) -> [u8; 4] {
        self.result.control_type().record_key()
    }

    /// The marker record's value: version 0, then the coordinator epoch.
    pub fn value(&self) -> [u8; 6] {
        let [v0, v1] = Self::CURRENT_VALUE_VERSION.to_be_bytes();
        let [e0, e1, e2, e3] = self.coordinator_epoch.to_be_bytes();
        [v0, v1, e0, e1, e2, e3]
    }

    /// Reads a marker from a control record's key and value (Kafka's
    /// `EndTransactionMarker.deserialize`). Errors: the key's as [`ControlRecordType::parse`];
    /// a type other than ABORT or COMMIT is [`DecodeError::InvalidValue`]; a null value
    /// [`DecodeError::UnexpectedNull`], one shorter than 6 bytes [`DecodeError::Truncated`], a
    /// negative value version [`DecodeError::InvalidValue`]. Bytes after the epoch (a later
    /// version's) are ignored.
    pub fn decode(key: Option<&[u8]>, value: Option<&[u8]>) -> Result<EndTransactionMarker, DecodeError> {
        let result = match ControlRecordType::parse(key)? {
            ControlRecordType::ABORT => TransactionResult::Abort,
            ControlRecordType::COMMIT => TransactionResult::Commit,
            _ => return Err(DecodeError::InvalidValue("control record is not a transaction marker")),
        };
        let mut r = Reader::new(value.ok_or(DecodeError::UnexpectedNull)?);
        if r.i16()? < 0 {
            return Err(DecodeError::InvalidValue("negative end transaction marker version"));
        }
        Ok(EndTransactionMarker { result, coordinator_epoch: r.i32()? })
    }

    /// Reads the marker of a control record (see [`EndTransactionMarker::decode`]).
    pub fn from_record(record: &Record<'_>) -> Result<EndTransactionMarker, DecodeError> {
        Self::decode(record.key, record.value)
    }

    /// The control batch that carries this marker, as Kafka's
    /// `MemoryRecords.withEndTransactionMarker` writes it: base offset `base_offset`, the
    /// transaction's producer id and epoch, no sequence (-1), attributes transactional and
    /// control (uncompressed, CreateTime), one record at offset delta 0 stamped `timestamp_ms`
    /// (also the base and max timestamps) with the marker's key and value and no headers.
    /// The partition leader epoch is -1 ([`set_partition_leader_epoch`](super::set_partition_leader_epoch)
    /// sets it, outside the CRC, as a broker does when it appends).
    pub fn control_batch(&self, producer_id: i64, producer_epoch: i16, base_offset: i64, timestamp_ms: i64) -> Vec<u8> {
        let mut b = RecordBatchBuilder::new(timestamp_ms);
        let (key, value) = (self.key(), self.value());
        // A 10-byte record always fits a batch: appending cannot fail.
        let _ = b.append(timestamp_ms, Some(&key), Some(&value), &[]);
        let stamp = ProducerStamp { producer_id, producer_epoch, base_sequence: -1 };
        let mut batch = b.seal_flagged(stamp, ATTR_TRANSACTIONAL | ATTR_CONTROL);
        set_base_offset(&mut batch, base_offset);
        batch
    }

    /// The marker of a decoded batch: `Ok(None)` if it is not a control batch, or a control
    /// batch without records (compaction can empty one), or one whose first record is another
    /// control type (KRaft's); the marker of its first record if it is a transaction marker
    /// (Kafka writes exactly one record per control batch). A control batch that is not
    /// transactional, is compressed, or whose first record is not a well-formed marker, is an
    /// error. Allocates nothing.
    pub fn from_batch(batch: &RecordBatch<'_>) -> Result<Option<EndTransactionMarker>, DecodeError> {
        if !batch.header.is_control() {
            return Ok(None);
        }
        let Some(record) = batch.records().next().transpose()? else { return Ok(None) };
        match ControlRecordType::parse(record.key)? {
            ControlRecordType::ABORT | ControlRecordType::COMMIT if !batch.header.is_transactional() => {
                Err(DecodeError::InvalidValue("transaction marker in a non-transactional batch"))
            }
            ControlRecordType::ABORT | ControlRecordType::COMMIT => Self::from_record(&record).map(Some),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::record_batch::{RECORD_BATCH_OVERHEAD, batches, restamp, set_partition_leader_epoch};

    /// A control record's key and value.
    type KeyValue<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);

    const COMMIT: EndTransactionMarker =
        EndTransactionMarker { result: TransactionResult::Commit, coordinator_epoch: 0x0102_0304 };
    const ABORT: EndTransactionMarker = EndTransactionMarker { result: TransactionResult::Abort, coordinator_epoch: 5 };

    /// Key and value bytes as Kafka's `ControlRecordType.recordKey()` and
    /// `EndTransactionMarker.serializeValue()` write them (two int16s; an int16 and an int32,
    /// big-endian), computed by hand.
    #[test]
    fn key_and_value_bytes_are_kafkas() {
        assert_eq!(COMMIT.key(), [0, 0, 0, 1]);
        assert_eq!(COMMIT.value(), [0, 0, 1, 2, 3, 4]);
        assert_eq!(ABORT.key(), [0, 0, 0, 0]);
        assert_eq!(ABORT.value(), [0, 0, 0, 0, 0, 5]);
        for m in [COMMIT, ABORT] {
            assert_eq!(EndTransactionMarker::decode(Some(&m.key()), Some(&m.value())), Ok(m));
        }
    }

    #[test]
    fn control_batch_round_trips_and_is_recognised() {
        for m in [COMMIT, ABORT] {
            let mut batch = m.control_batch(4711, 3, 1_000, 1_700_000_000_123);
            assert!(set_partition_leader_epoch(&mut batch, 7), "outside the CRC");
            let (b, n) = RecordBatch::decode(&batch).unwrap();
            assert_eq!(n, batch.len());
            let h = b.header;
            assert!(h.is_control() && h.is_transactional());
            assert_eq!(h.attributes, ATTR_TRANSACTIONAL | ATTR_CONTROL, "uncompressed, CreateTime");
            assert_eq!((h.producer_id, h.producer_epoch, h.base_sequence), (4711, 3, -1));
            assert_eq!(
                (h.base_offset, h.last_offset(), h.record_count, h.partition_leader_epoch),
                (1_000, 1_000, 1, 7)
            );
            assert_eq!((h.base_timestamp, h.max_timestamp), (1_700_000_000_123, 1_700_000_000_123));
            let records: Vec<_> = b.records().collect::<Result<_, _>>().unwrap();
            assert_eq!(records.len(), 1);
            let r = &records[0];
            assert_eq!((r.offset(&h), r.timestamp(&h), r.headers.len()), (1_000, 1_700_000_000_123, 0));
            assert_eq!((r.key, r.value), (Some(&m.key()[..]), Some(&m.value()[..])));
            assert_eq!(EndTransactionMarker::from_record(r), Ok(m));
            assert_eq!(EndTransactionMarker::from_batch(&b), Ok(Some(m)));
            // Kafka's size: the batch overhead and `CURRENT_END_TXN_SCHEMA_RECORD_SIZE`, a 1-byte
            // length and a 16-byte record body.
            assert_eq!(batch.len(), RECORD_BATCH_OVERHEAD + 1 + 16);
        }
    }

    #[test]
    fn data_batches_and_other_control_types_are_not_markers() {
        let mut b = RecordBatchBuilder::new(0);
        b.append(0, Some(&COMMIT.key()), Some(&COMMIT.value()), &[]).unwrap();
        let data = b.seal(ProducerStamp { producer_id: 1, producer_epoch: 0, base_sequence: 0 });
        let (batch, _) = RecordBatch::decode(&data).unwrap();
        assert_eq!(EndTransactionMarker::from_batch(&batch), Ok(None), "a data batch, whatever its records");
        // A KRaft LEADER_CHANGE control record (type 2).
        let mut b = RecordBatchBuilder::new(0);
        b.append(0, Some(&ControlRecordType(2).record_key()), Some(&[0, 0]), &[]).unwrap();
        let leader_change = b.seal_flagged(ProducerStamp::NONE, ATTR_CONTROL);
        let (batch, _) = RecordBatch::decode(&leader_change).unwrap();
        assert_eq!(EndTransactionMarker::from_batch(&batch), Ok(None));
        // An empty control batch.
        let empty = RecordBatchBuilder::new(0).seal_flagged(ProducerStamp::NONE, ATTR_TRANSACTIONAL | ATTR_CONTROL);
        let (batch, _) = RecordBatch::decode(&empty).unwrap();
        assert_eq!(EndTransactionMarker::from_batch(&batch), Ok(None));
        // A marker in a control batch that is not transactional.
        let mut b = RecordBatchBuilder::new(0);
        b.append(0, Some(&COMMIT.key()), Some(&COMMIT.value()), &[]).unwrap();
        let odd = b.seal_flagged(ProducerStamp::NONE, ATTR_CONTROL);
        let (batch, _) = RecordBatch::decode(&odd).unwrap();
        assert!(EndTransactionMarker::from_batch(&batch).is_err());
        // A control batch claiming gzip (attributes bit 0; the CRC re-sealed by `restamp`).
        let mut gzip = COMMIT.control_batch(9, 0, 0, 0);
        gzip[22] |= 1;
        assert!(restamp(&mut gzip, ProducerStamp { producer_id: 9, producer_epoch: 0, base_sequence: -1 }));
        let (batch, _) = RecordBatch::decode(&gzip).unwrap();
        assert_eq!(batch.header.attributes, ATTR_TRANSACTIONAL | ATTR_CONTROL | 1);
        assert!(EndTransactionMarker::from_batch(&batch).is_err());
    }

    #[test]
    fn later_versions_read_as_version_zero_and_malformed_markers_are_errors() {
        let newer_key = [0, 1, 0, 1, 0xAA];
        let newer_value = [0, 3, 0, 0, 0, 9, 0xBB, 0xCC];
        let m = EndTransactionMarker::decode(Some(&newer_key), Some(&newer_value));
        assert_eq!(m, Ok(EndTransactionMarker { result: TransactionResult::Commit, coordinator_epoch: 9 }));
        let bad: [KeyValue<'_>; 8] = [
            (None, Some(&[0, 0, 0, 0, 0, 0])),
            (Some(&[0, 0, 0, 1]), None),
            (Some(&[0, 0, 0]), Some(&[0, 0, 0, 0, 0, 0])),
            (Some(&[0, 0, 0, 1]), Some(&[0, 0, 0, 0, 0])),
            (Some(&[0xFF, 0xFF, 0, 1]), Some(&[0, 0, 0, 0, 0, 0])),
            (Some(&[0, 0, 0, 1]), Some(&[0x80, 0, 0, 0, 0, 0])),
            (Some(&[0, 0, 0, 2]), Some(&[0, 0, 0, 0, 0, 0])),
            (Some(&[0, 0, 0xFF, 0xFF]), Some(&[0, 0, 0, 0, 0, 0])),
        ];
        for (i, (key, value)) in bad.into_iter().enumerate() {
            assert!(EndTransactionMarker::decode(key, value).is_err(), "case {i}");
        }
    }

    #[test]
    fn control_batches_split_from_a_log_like_other_batches() {
        let mut log = COMMIT.control_batch(9, 0, 10, 5);
        log.extend(ABORT.control_batch(9, 1, 11, 6));
        let found: Vec<_> =
            batches(&log).map(|b| EndTransactionMarker::from_batch(&b.unwrap()).unwrap().unwrap()).collect();
        assert_eq!(found, [COMMIT, ABORT]);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_keys_and_values_never_panic(
            key in proptest::option::of(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..12)),
            value in proptest::option::of(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..12)),
        ) {
            let _ = EndTransactionMarker::decode(key.as_deref(), value.as_deref());
        }
    }
}
