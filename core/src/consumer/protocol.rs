//! The bytes the classic group protocol carries opaquely for protocol type "consumer" (the Java
//! client's `ConsumerProtocol`): a member's `ConsumerProtocolSubscription` in JoinGroup, and the
//! leader's `ConsumerProtocolAssignment` per member in SyncGroup.
//!
//! Written at version 0 (version int16, then the fields, big-endian, int16-length strings); read
//! at any version as the Java client reads them: the version-0 fields, whatever follows ignored
//! (later versions only append fields: KIP-429's owned partitions, KIP-341's generation, KIP-881's
//! rack). Decoding never panics and allocates at most in proportion to the input.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::proto::{DecodeError, EncodeError, Reader, Writer};

/// The version written.
const VERSION: i16 = 0;

/// A member's subscription: the topics it wants, in its order.
pub(crate) fn encode_subscription(topics: &[String]) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    out.put_i16(VERSION);
    out.put_array_len(false, Some(topics.len()))?;
    for t in topics {
        out.put_string(false, t)?;
    }
    out.put_nullable_bytes(false, None)?; // user_data
    Ok(out)
}

/// The topics of a subscription (any version >= 0).
pub(crate) fn decode_subscription(bytes: &[u8]) -> Result<Vec<String>, DecodeError> {
    let mut r = Reader::new(bytes);
    if r.i16()? < 0 {
        return Err(DecodeError::InvalidValue("negative ConsumerProtocolSubscription version"));
    }
    r.array_of(false, 2, |r| r.string(false).map(ToString::to_string))
}

/// An assignment: per topic its partitions.
pub(crate) fn encode_assignment(assigned: &[(String, Vec<i32>)]) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    out.put_i16(VERSION);
    out.put_array_len(false, Some(assigned.len()))?;
    for (topic, partitions) in assigned {
        out.put_string(false, topic)?;
        out.put_array_len(false, Some(partitions.len()))?;
        for p in partitions {
            out.put_i32(*p);
        }
    }
    out.put_nullable_bytes(false, None)?; // user_data
    Ok(out)
}

/// The partitions of an assignment (any version >= 0); empty bytes are an empty assignment
/// (what a coordinator hands a member the leader gave nothing).
pub(crate) fn decode_assignment(bytes: &[u8]) -> Result<Vec<(String, Vec<i32>)>, DecodeError> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let mut r = Reader::new(bytes);
    if r.i16()? < 0 {
        return Err(DecodeError::InvalidValue("negative ConsumerProtocolAssignment version"));
    }
    r.array_of(false, 6, |r| {
        let topic = r.string(false)?.to_string();
        let partitions = r.array_of(false, 4, Reader::i32)?;
        Ok((topic, partitions))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use bytes::Bytes;
    use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition;
    use kafka_protocol::messages::{ConsumerProtocolAssignment, ConsumerProtocolSubscription, TopicName};
    use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

    fn name(s: &str) -> TopicName {
        TopicName(StrBytes::from_string(s.to_string()))
    }

    #[test]
    fn subscription_matches_kafka_protocol_both_ways() {
        let topics = vec!["orders".to_string(), "t".to_string()];
        let ours = encode_subscription(&topics).unwrap();
        // Theirs, version 0: the same bytes after the version prefix.
        let theirs = ConsumerProtocolSubscription::default()
            .with_topics(topics.iter().map(|t| StrBytes::from_string(t.clone())).collect());
        let mut buf = bytes::BytesMut::new();
        theirs.encode(&mut buf, 0).unwrap();
        assert_eq!(&ours[2..], &buf[..]);
        assert_eq!(&ours[..2], &[0, 0]);
        // Ours read by them, theirs at every version read by us.
        let back = ConsumerProtocolSubscription::decode(&mut Bytes::copy_from_slice(&ours[2..]), 0).unwrap();
        assert_eq!(back.topics.len(), 2);
        for version in 0..=3i16 {
            let mut buf = bytes::BytesMut::new();
            buf.extend_from_slice(&version.to_be_bytes());
            theirs.encode(&mut buf, version).unwrap();
            assert_eq!(decode_subscription(&buf).unwrap(), topics, "version {version}");
        }
    }

    #[test]
    fn assignment_matches_kafka_protocol_both_ways() {
        let assigned = vec![("a".to_string(), vec![0, 2]), ("b".to_string(), vec![1])];
        let ours = encode_assignment(&assigned).unwrap();
        let theirs = ConsumerProtocolAssignment::default().with_assigned_partitions(
            assigned
                .iter()
                .map(|(t, ps)| TopicPartition::default().with_topic(name(t)).with_partitions(ps.clone()))
                .collect(),
        );
        let mut buf = bytes::BytesMut::new();
        theirs.encode(&mut buf, 0).unwrap();
        assert_eq!(&ours[2..], &buf[..]);
        let back = ConsumerProtocolAssignment::decode(&mut Bytes::copy_from_slice(&ours[2..]), 0).unwrap();
        assert_eq!(back.assigned_partitions.len(), 2);
        for version in 0..=3i16 {
            let mut buf = bytes::BytesMut::new();
            buf.extend_from_slice(&version.to_be_bytes());
            theirs.encode(&mut buf, version).unwrap();
            assert_eq!(decode_assignment(&buf).unwrap(), assigned, "version {version}");
        }
        assert_eq!(decode_assignment(&[]).unwrap(), []);
    }

    #[test]
    fn hostile_bytes_are_errors() {
        let good = encode_assignment(&[("a".to_string(), vec![0, 1, 2])]).unwrap();
        for cut in 1..good.len() - 4 {
            assert!(decode_assignment(&good[..cut]).is_err(), "cut {cut}");
        }
        assert!(decode_assignment(&[0, 0, 0x7f, 0xff, 0xff, 0xff]).is_err());
        assert!(decode_subscription(&[0xff, 0xff]).is_err());
        assert!(decode_subscription(&[0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 1, b'a']).is_err());
        // Any bytes: no panic.
        let mut rng = crate::rand::Rng::new(5);
        for _ in 0..2000 {
            let n = rng.below(40) as usize;
            let v: Vec<u8> = (0..n).map(|_| rng.below(256) as u8).collect();
            let _ = decode_assignment(&v);
            let _ = decode_subscription(&v);
        }
    }
}
