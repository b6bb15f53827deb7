//! InitProducerId: hands out producer ids and bumps epochs (KIP-360).

use crate::broker::cluster::{Cluster, Reply, malformed, respond};
use crate::proto::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use crate::proto::{ApiKey, ErrorCode, Message, Reader};
use alloc::string::String;

/// INVALID_REQUEST (42).
const INVALID_REQUEST: i16 = 42;

impl Cluster {
    /// Answers InitProducerId (any broker may; the transactional id is ignored: no
    /// transactions here).
    pub(crate) fn init_producer_id(&mut self, v: i16, corr: i32, r: &mut Reader<'_>) -> Result<Reply, String> {
        let req = InitProducerIdRequest::decode(r, v).map_err(malformed(ApiKey::InitProducerId, v))?;
        let (producer_id, producer_epoch, error_code) = self.allocate_producer(req.producer_id, req.producer_epoch);
        let body = InitProducerIdResponse { throttle_time_ms: 0, error_code, producer_id, producer_epoch };
        respond(corr, v, &body)
    }

    /// KIP-360: a request naming the producer's current id and epoch bumps the epoch (the
    /// validator then expects sequence 0 in the new epoch); repeating that request after a lost
    /// answer returns the bumped epoch again. A fresh request, an unknown id, a stale epoch or
    /// an exhausted epoch gets a new id with epoch 0 (what Kafka does for non-transactional
    /// producers). Both fields must be -1 or both valid.
    fn allocate_producer(&mut self, id: i64, epoch: i16) -> (i64, i16, i16) {
        match (id >= 0, epoch >= 0) {
            (true, true) => match self.producer_ids.get(&id).copied() {
                Some(cur) if cur == epoch && cur < i16::MAX - 1 => {
                    self.producer_ids.insert(id, cur + 1);
                    return (id, cur + 1, 0);
                }
                Some(cur) if cur > 0 && cur - 1 == epoch => return (id, cur, 0),
                _ => {}
            },
            (false, false) => {}
            _ => return (-1, -1, INVALID_REQUEST),
        }
        let Some(next) = self.next_producer_id.checked_add(1) else {
            return (-1, -1, ErrorCode::UNKNOWN_SERVER_ERROR.0);
        };
        let id = core::mem::replace(&mut self.next_producer_id, next);
        self.producer_ids.insert(id, 0);
        (id, 0, 0)
    }
}
