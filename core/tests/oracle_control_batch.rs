//! Oracle test: control batches carrying transaction markers (COMMIT, ABORT) against the
//! `kafka-protocol` crate, both directions, on proptest-generated markers and producers.
//!
//! kafka-protocol has no control record type of its own: its record batch codec carries the
//! transactional and control attribute bits and the records' raw key and value, and its
//! `EndTxnMarker` message is the marker value after the version. The key and the value's version
//! prefix are computed here by hand from Kafka's `ControlRecordType.recordKey()` (version int16 0,
//! type int16: ABORT 0, COMMIT 1) and `EndTransactionMarker.serializeValue()` (version int16 0,
//! then the `EndTxnMarker` message).
#![allow(clippy::unwrap_used)] // tests unwrap by design

use bytes::{Bytes, BytesMut};
use idem_core::proto::record_batch::control::{ControlRecordType, EndTransactionMarker, TransactionResult};
use idem_core::proto::record_batch::{RecordBatch, set_partition_leader_epoch};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::messages::end_txn_marker::EndTxnMarker;
use kafka_protocol::protocol::{Decodable, Encodable};
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use proptest::prelude::*;

#[derive(Clone, Copy, Debug)]
struct Case {
    marker: EndTransactionMarker,
    producer_id: i64,
    producer_epoch: i16,
    base_offset: i64,
    leader_epoch: i32,
    timestamp: i64,
}

fn case() -> impl Strategy<Value = Case> {
    let result = prop_oneof![Just(TransactionResult::Commit), Just(TransactionResult::Abort)];
    (result, any::<i32>(), 0i64..=i64::MAX, 0i16..=i16::MAX, 0i64..(1 << 48), any::<i32>(), 0i64..(1 << 42)).prop_map(
        |(result, coordinator_epoch, producer_id, producer_epoch, base_offset, leader_epoch, timestamp)| Case {
            marker: EndTransactionMarker { result, coordinator_epoch },
            producer_id,
            producer_epoch,
            base_offset,
            leader_epoch,
            timestamp,
        },
    )
}

/// The control record key as Kafka's `ControlRecordType.recordKey()` writes it.
fn kafka_key(result: TransactionResult) -> Bytes {
    let control_type: i16 = match result {
        TransactionResult::Abort => 0,
        TransactionResult::Commit => 1,
    };
    let mut key = 0i16.to_be_bytes().to_vec();
    key.extend_from_slice(&control_type.to_be_bytes());
    Bytes::from(key)
}

/// The marker value as Kafka's `EndTransactionMarker.serializeValue()` writes it: version 0,
/// then kafka-protocol's `EndTxnMarker` v0.
fn kafka_value(coordinator_epoch: i32) -> Bytes {
    let mut value = BytesMut::from(&0i16.to_be_bytes()[..]);
    EndTxnMarker::default().with_coordinator_epoch(coordinator_epoch).encode(&mut value, 0).unwrap();
    value.freeze()
}

/// The control batch of `c` as kafka-protocol encodes it.
fn kafka_batch(c: &Case) -> Vec<u8> {
    let record = Record {
        transactional: true,
        control: true,
        delete_horizon: false,
        partition_leader_epoch: c.leader_epoch,
        producer_id: c.producer_id,
        producer_epoch: c.producer_epoch,
        timestamp_type: TimestampType::Creation,
        offset: c.base_offset,
        sequence: -1,
        timestamp: c.timestamp,
        key: Some(kafka_key(c.marker.result)),
        value: Some(kafka_value(c.marker.coordinator_epoch)),
        headers: IndexMap::new(),
    };
    let mut buf = BytesMut::new();
    let opts = RecordEncodeOptions { version: 2, compression: Compression::None };
    RecordBatchEncoder::encode(&mut buf, [&record], &opts).unwrap();
    buf.to_vec()
}

/// The control batch of `c` as idem builds it (the leader epoch set as a broker does).
fn idem_batch(c: &Case) -> Vec<u8> {
    let mut batch = c.marker.control_batch(c.producer_id, c.producer_epoch, c.base_offset, c.timestamp);
    assert!(set_partition_leader_epoch(&mut batch, c.leader_epoch));
    batch
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// idem's control batch decodes with kafka-protocol to one transactional control record
    /// with Kafka's marker key and value, and is byte for byte kafka-protocol's encoding.
    #[test]
    fn idem_control_batch_is_kafkas(c in case()) {
        let bytes = idem_batch(&c);
        let mut buf = Bytes::from(bytes.clone());
        let set = RecordBatchDecoder::decode(&mut buf).unwrap();
        prop_assert!(buf.is_empty());
        prop_assert_eq!(set.records.len(), 1);
        let r = &set.records[0];
        prop_assert!(r.control && r.transactional);
        prop_assert_eq!((r.producer_id, r.producer_epoch, r.sequence), (c.producer_id, c.producer_epoch, -1));
        prop_assert_eq!((r.offset, r.timestamp, r.partition_leader_epoch), (c.base_offset, c.timestamp, c.leader_epoch));
        prop_assert_eq!(r.timestamp_type, TimestampType::Creation);
        prop_assert!(r.headers.is_empty());
        prop_assert_eq!(r.key.as_ref(), Some(&kafka_key(c.marker.result)));
        let value = r.value.clone().unwrap();
        prop_assert_eq!(&value, &kafka_value(c.marker.coordinator_epoch));
        let mut after_version = value.slice(2..);
        let epoch = EndTxnMarker::decode(&mut after_version, 0).unwrap().coordinator_epoch;
        prop_assert_eq!(epoch, c.marker.coordinator_epoch);
        prop_assert_eq!(bytes, kafka_batch(&c), "idem's bytes differ from kafka-protocol's");
    }

    /// kafka-protocol's control batch decodes with idem (CRC verified) to the same header and
    /// is recognised as the same marker.
    #[test]
    fn kafka_control_batch_is_recognised(c in case()) {
        let bytes = kafka_batch(&c);
        let (batch, n) = RecordBatch::decode(&bytes).unwrap();
        prop_assert_eq!(n, bytes.len());
        let h = batch.header;
        prop_assert!(h.is_control() && h.is_transactional());
        prop_assert_eq!((h.producer_id, h.producer_epoch, h.base_sequence), (c.producer_id, c.producer_epoch, -1));
        prop_assert_eq!((h.base_offset, h.partition_leader_epoch, h.record_count), (c.base_offset, c.leader_epoch, 1));
        prop_assert_eq!(EndTransactionMarker::from_batch(&batch).unwrap(), Some(c.marker));
        let record = batch.records().next().unwrap().unwrap();
        prop_assert_eq!(ControlRecordType::parse(record.key).unwrap(), c.marker.result.control_type());
    }
}
