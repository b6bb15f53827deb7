//! ListOffsets: log start, log end (the last stable offset for `read_committed`), max
//! timestamp, or the first batch at a timestamp.

use crate::broker::cluster::{Cluster, Reply, malformed, respond};
use crate::proto::fetch::READ_COMMITTED;
use crate::proto::list_offsets::{
    EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, ListOffsetsPartitionResponse, ListOffsetsRequest, ListOffsetsResponse,
    ListOffsetsTopicResponse,
};
use crate::proto::{ApiKey, Message, Reader};
use alloc::string::String;
use alloc::vec::Vec;

/// Timestamp meaning "the record with the largest timestamp" (KIP-734, v7+).
const MAX_TIMESTAMP: i64 = -3;

impl Cluster {
    /// Answers ListOffsets. A timestamp lookup answers at batch granularity: the first offset
    /// of the first batch whose max timestamp is at or after the target (-1 if none).
    pub(crate) fn list_offsets(
        &mut self,
        broker_id: i32,
        v: i16,
        corr: i32,
        r: &mut Reader<'_>,
    ) -> Result<Reply, String> {
        let req = ListOffsetsRequest::decode(r, v).map_err(malformed(ApiKey::ListOffsets, v))?;
        let mut topics = Vec::with_capacity(req.topics.len());
        for t in &req.topics {
            let mut partitions = Vec::with_capacity(t.partitions.len());
            for q in &t.partitions {
                let mut a = ListOffsetsPartitionResponse { partition_index: q.partition_index, ..Default::default() };
                match self.led_partition(broker_id, t.name, q.partition_index) {
                    Err(code) => a.error_code = code.0,
                    Ok(p) => {
                        let found = match q.timestamp {
                            // KIP-98: read_committed consumers start from the last stable offset.
                            LATEST_TIMESTAMP if req.isolation_level == READ_COMMITTED => {
                                Some((p.txns.last_stable_offset(p.log.log_end_offset()), -1))
                            }
                            LATEST_TIMESTAMP => Some((p.log.log_end_offset(), -1)),
                            EARLIEST_TIMESTAMP => Some((p.log.log_start_offset(), -1)),
                            MAX_TIMESTAMP => p.log.max_timestamp(),
                            ts => p.log.offset_for_timestamp(ts),
                        };
                        (a.offset, a.timestamp) = found.unwrap_or((-1, -1));
                        if v >= 4 {
                            a.leader_epoch = p.leader_epoch;
                        }
                    }
                }
                partitions.push(a);
            }
            topics.push(ListOffsetsTopicResponse { name: t.name, partitions });
        }
        respond(corr, v, &ListOffsetsResponse { throttle_time_ms: 0, topics })
    }
}
