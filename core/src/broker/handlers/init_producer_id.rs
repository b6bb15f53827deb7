//! InitProducerId: hands out producer ids, as Kafka's `TransactionCoordinator.handleInitProducerId`
//! does: for producers without a transactional id by [`ProducerIdPolicy`], for those with one
//! through the transaction coordinator (`broker/txn/`), on the broker that coordinates it.

use crate::broker::cluster::{Cluster, Reply, malformed, respond};
use crate::broker::config::ProducerIdPolicy;
use crate::broker::txn::TxnCoordinator;
use crate::proto::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse, LAST_EPOCH};
use crate::proto::{ApiKey, ErrorCode, Message, Reader};
use alloc::string::String;

impl Cluster {
    /// Answers InitProducerId: without a transactional id any broker may; with one, its
    /// coordinator (NOT_COORDINATOR elsewhere), an empty one is INVALID_REQUEST.
    pub(crate) fn init_producer_id(
        &mut self,
        broker_id: i32,
        v: i16,
        corr: i32,
        r: &mut Reader<'_>,
    ) -> Result<Reply, String> {
        let req = InitProducerIdRequest::decode(r, v).map_err(malformed(ApiKey::InitProducerId, v))?;
        // Kafka's `KafkaApis.handleInitProducerIdRequest`: the id and epoch are both -1 or both
        // set, else INVALID_REQUEST, whatever the transactional id.
        let (id, epoch) = (req.producer_id, req.producer_epoch);
        let (producer_id, producer_epoch, error_code) = if (id < 0) != (epoch < 0) {
            (-1, -1, ErrorCode::INVALID_REQUEST.0)
        } else if let Some(txn_id) = req.transactional_id {
            let producer = if id >= 0 { Some((id, epoch)) } else { None };
            match self.init_transactional(broker_id, v, txn_id, req.transaction_timeout_ms, producer) {
                Ok((id, epoch)) => (id, epoch, ErrorCode::NONE.0),
                Err(e) => (-1, -1, e.0),
            }
        } else {
            match self.config.producer_ids {
                ProducerIdPolicy::FreshId => self.fresh_producer_id(),
                ProducerIdPolicy::BumpInPlace => self.bump_in_place(id, epoch),
            }
        };
        self.debug(crate::debug::DebugContext::Eos, || {
            alloc::format!(
                "InitProducerId (producer id {id}, epoch {epoch}): granted producer id {producer_id} epoch \
                 {producer_epoch}, error {}",
                ErrorCode(error_code)
            )
        });
        let body = InitProducerIdResponse { throttle_time_ms: 0, error_code, producer_id, producer_epoch };
        respond(corr, v, &body)
    }

    /// InitProducerId with a transactional id, on `broker_id`.
    fn init_transactional(
        &mut self,
        broker_id: i32,
        v: i16,
        txn_id: &str,
        timeout_ms: i32,
        producer: Option<(i64, i16)>,
    ) -> Result<(i64, i16), ErrorCode> {
        if txn_id.is_empty() {
            return Err(ErrorCode::INVALID_REQUEST);
        }
        let gate = self.coordinator_gate(broker_id, txn_id);
        if gate != ErrorCode::NONE {
            return Err(gate);
        }
        let fenced = super::txn::fenced_error(ApiKey::InitProducerId, v);
        let now = self.now;
        self.with_fresh_ids(|txns, fresh| txns.init_producer_id(now, txn_id, timeout_ms, producer, fenced, fresh))
    }

    /// Runs `f` on the transaction coordinator with an allocator of fresh producer ids (the
    /// cluster's, as Kafka's `ProducerIdManager`; `None` once they are exhausted), for the
    /// coordinator's operations that may give a new producer id.
    pub(crate) fn with_fresh_ids<R>(
        &mut self,
        f: impl FnOnce(&mut TxnCoordinator, &mut dyn FnMut() -> Option<i64>) -> R,
    ) -> R {
        let mut txns = core::mem::take(&mut self.txns);
        let mut fresh = || {
            let (id, _, e) = self.fresh_producer_id();
            (e == ErrorCode::NONE.0).then_some(id)
        };
        let r = f(&mut txns, &mut fresh);
        self.txns = txns;
        r
    }

    /// Kafka: without a transactional id, every request gets `producerIdManager.generateProducerId()`
    /// and epoch 0; the producer id and epoch fields of v3+ are not looked at (they matter only
    /// with a transactional id).
    fn fresh_producer_id(&mut self) -> (i64, i16, i16) {
        let Some(next) = self.next_producer_id.checked_add(1) else {
            return (-1, -1, ErrorCode::UNKNOWN_SERVER_ERROR.0);
        };
        let id = core::mem::replace(&mut self.next_producer_id, next);
        (id, self.first_epoch, ErrorCode::NONE.0)
    }

    /// [`ProducerIdPolicy::BumpInPlace`]: a request naming the producer's current id and epoch
    /// bumps the epoch (the validator then expects sequence 0 in the new epoch); repeating that
    /// request after a lost answer returns the bumped epoch again. A fresh request (-1/-1), an
    /// unknown id, a stale epoch or an exhausted epoch gets a new id.
    fn bump_in_place(&mut self, id: i64, epoch: i16) -> (i64, i16, i16) {
        match self.producer_ids.get(&id).copied() {
            Some(cur) if id >= 0 && cur == epoch && cur < LAST_EPOCH => {
                self.producer_ids.insert(id, cur + 1);
                (id, cur + 1, ErrorCode::NONE.0)
            }
            Some(cur) if id >= 0 && cur > 0 && cur - 1 == epoch => (id, cur, ErrorCode::NONE.0),
            _ => {
                let fresh = self.fresh_producer_id();
                if fresh.2 == ErrorCode::NONE.0 {
                    self.producer_ids.insert(fresh.0, fresh.1);
                }
                fresh
            }
        }
    }
}
