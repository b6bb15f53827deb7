//! Bug C: a request still on the wire when the producer gave its batch up lands later, after
//! records of the producer's next session. A request that timed out closes its connection, but
//! bytes already written still reach the broker (TCP delivers what was sent before the FIN). If
//! the next session uses a fresh producer id (Kafka answers InitProducerId without a
//! transactional id with a new id, `TransactionCoordinator.handleInitProducerId`), the broker
//! cannot fence the old id's batch: it is in sequence for the old id and is appended behind the
//! new session's records. Bumping the epoch of the same id instead (the Java client's
//! `TransactionManager.bumpIdempotentProducerEpoch`) fences it with INVALID_PRODUCER_EPOCH once
//! the new epoch has written to the partition.
//!
//! Fails against a producer that takes a fresh id after giving a batch up:
//! "REORDER ACROSS SESSIONS: PossiblyPersisted record 1@2 .. is after Delivered record 2@1".

use idem_tests::checker::{FailReason, Outcome};
use idem_tests::scenario::{Scenario, assert_clean, log, record_order};
use idem_tests::sim::NetFault;

#[test]
fn a_stalled_request_of_a_given_up_batch_never_lands_behind_later_records() {
    let r = Scenario::new(1, 1)
        .set("request.timeout.ms", "1000")
        .set("delivery.timeout.ms", "1010")
        .set("retry.backoff.ms", "50")
        // Record 0 opens the session and the connections.
        .send(0, 0, 1)
        // Every connection's producer-to-broker direction holds its bytes for 5 s: record 1's
        // request is written, then stuck; the producer times it out, closes the connection and
        // gives record 1 up (its delivery timeout is 10 ms after the request timeout).
        .net(100, NetFault::StallAll { to_broker: true, ms: 5000 })
        .send(100, 0, 1)
        // Record 2, in the producer's next session, on a new connection.
        .send(2000, 0, 1)
        .run();
    let outcome = |i: usize| r.run.reports.iter().find(|rep| rep.record == i).map(|rep| rep.outcome.clone());
    assert_eq!(outcome(1), Some(Outcome::PossiblyPersisted(FailReason::Timeout)), "{}", r.summary);
    assert!(matches!(outcome(2), Some(Outcome::Delivered { .. })), "{:?}", outcome(2));
    assert_clean(&r);
    let order = record_order(log(&r, 0));
    assert!(order.windows(2).all(|w| w[0] < w[1]), "send order: {order:?}");
}
