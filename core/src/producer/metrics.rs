//! Metrics: what [`Producer::metrics`](super::Producer::metrics) returns ([`ProducerMetrics`]),
//! rates and averages between two snapshots ([`MetricsInterval`]), and their JSON form, with
//! the Java client's metric names.
//!
//! The producer keeps only monotonic totals (counts and sums, updated where things happen: an
//! add per request, per batch transmitted, per record accepted) and windowed maxima. Rates and
//! averages are computed between two snapshots, by whoever holds the earlier one (the runtimes'
//! `statistics.interval.ms` does): exact over exactly the interval asked for, with no clock and
//! no timer in the core, and nothing to roll over on the hot path. Maxima cannot be computed
//! from two totals: they are kept as the Java client keeps them, over two samples of
//! `metrics.sample.window.ms` (the current one and the one before). Per-partition and
//! per-broker gauges (queued records, batches in flight, requests in flight) are read from the
//! state when a snapshot is asked for, not kept up to date on every pass.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::time::{Duration, Instant};

/// The largest value recorded over the last one to two windows of a fixed length (the Java
/// client's `SampledStat` with `metrics.num.samples=2`): the current window and the one before.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct WindowedMax {
    start: Instant,
    current: u64,
    previous: u64,
}

impl WindowedMax {
    /// Records `value` at `now` (windows of `window`).
    #[inline]
    pub(crate) fn record(&mut self, now: Instant, window: Duration, value: u64) {
        if now >= self.start + window {
            self.previous = if now >= self.start + window + window { 0 } else { self.current };
            self.current = 0;
            self.start = now;
        }
        self.current = self.current.max(value);
    }

    /// The largest value recorded in the windows that `now` still sees.
    pub(crate) fn get(&self, now: Instant, window: Duration) -> u64 {
        if now >= self.start + window + window {
            0
        } else if now >= self.start + window {
            self.current
        } else {
            self.current.max(self.previous)
        }
    }
}

/// Counters kept per broker (and per bootstrap server, ids `-1 - i`) while the producer runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NodeCounters {
    pub(crate) node_id: i32,
    pub(crate) requests: u64,
    pub(crate) responses: u64,
    pub(crate) bytes_sent: u64,
    pub(crate) bytes_received: u64,
    pub(crate) rtt_total: u64,
    pub(crate) rtt_max: WindowedMax,
    pub(crate) connects: u64,
    pub(crate) disconnects: u64,
    pub(crate) request_timeouts: u64,
}

/// The windowed maxima of the producer as a whole.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Maxima {
    pub(crate) request_latency: WindowedMax,
    pub(crate) batch_size: WindowedMax,
    pub(crate) queue_time: WindowedMax,
}

/// One broker's part of a snapshot. Totals are monotonic over the producer's life; rates come
/// from [`ProducerMetrics::since`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BrokerMetrics {
    /// Broker id; `-1 - i` for bootstrap server `i` (before metadata names the brokers).
    pub node_id: i32,
    /// Whether a connection to it is ready now.
    pub connected: bool,
    /// Gauge: requests sent on its connection and not answered yet (librdkafka's
    /// `waitresp_cnt`; Java's `requests-in-flight` per node).
    pub in_flight_requests: u64,
    /// Requests sent (`request-total`).
    pub requests: u64,
    /// Responses received (`response-total`).
    pub responses: u64,
    /// Request bytes written (`outgoing-byte-total`).
    pub bytes_sent: u64,
    /// Bytes received (`incoming-byte-total`).
    pub bytes_received: u64,
    /// Sum of the round-trip times of the answered requests, every API (librdkafka's `rtt`):
    /// over `responses`, the average.
    pub rtt_total: Duration,
    /// Largest round-trip time in the sample windows (`metrics.sample.window.ms`).
    pub rtt_max: Duration,
    /// Connections opened to it (`connection-creation-total`).
    pub connects: u64,
    /// Connections to it closed or lost (`connection-close-total`).
    pub disconnects: u64,
    /// Requests to it that timed out (`request.timeout.ms`).
    pub request_timeouts: u64,
}

/// One partition's part of a snapshot, read from its state when the snapshot is made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartitionMetrics {
    /// Partition.
    pub partition: i32,
    /// Its leader, when known.
    pub leader: Option<i32>,
    /// Records accepted and not transmitted yet: the open batch and the sealed batches waiting
    /// (librdkafka's `msgq_cnt`).
    pub queued_records: u64,
    /// Their batches' bytes (librdkafka's `msgq_bytes`).
    pub queued_bytes: u64,
    /// Batches in requests not answered yet.
    pub in_flight_batches: u64,
    /// Batches transmitted and not resolved (in flight, or waiting to be resent).
    pub unresolved_batches: u64,
    /// Sequence the next batch sealed gets.
    pub next_sequence: i32,
    /// Batch retransmissions on this partition over the producer's life.
    pub batch_retries: u64,
    /// Waiting for an epoch bump before sending new batches.
    pub needs_epoch_bump: bool,
}

/// One topic's part of a snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopicMetrics {
    /// Topic name.
    pub topic: String,
    /// Records waiting for the topic's metadata (partition count unknown).
    pub records_waiting: u64,
    /// Its partitions (empty until the partition count is known).
    pub partitions: Vec<PartitionMetrics>,
}

/// A snapshot of the producer's metrics at [`ProducerMetrics::at`]: monotonic totals (over the
/// producer's life), gauges, windowed maxima, per broker and per partition. Rates and averages
/// over an interval: [`ProducerMetrics::since`] with an earlier snapshot. The Java client's name
/// of each total is in its doc; [`ProducerMetrics::to_json`] uses those names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProducerMetrics {
    /// The core's time of the snapshot.
    pub at: Instant,
    /// Records accepted by `send`.
    pub records_sent: u64,
    /// Records reported delivered.
    pub records_delivered: u64,
    /// Records reported failed (`record-error-total`).
    pub records_failed: u64,
    /// Batches sealed.
    pub batches: u64,
    /// Produce requests transmitted.
    pub produce_requests: u64,
    /// Batch transmissions beyond each batch's first.
    pub retries: u64,
    /// Batches acknowledged with DUPLICATE_SEQUENCE_NUMBER.
    pub duplicates_acknowledged: u64,
    /// Batches acknowledged implicitly by a later batch's success.
    pub implicit_acks: u64,
    /// Producer id / epoch changes after the first (bumps and new ids).
    pub epoch_bumps: u64,
    /// Gauge: batches currently in flight.
    pub in_flight: u64,
    /// Gauge: bytes accounted against `buffer.memory`.
    pub buffered_bytes: u64,
    /// Connections closed because of garbage, timeouts or disconnects (`connection-close-total`).
    pub connection_errors: u64,
    /// SASL authentications that succeeded (`successful-authentication-total`).
    pub successful_authentications: u64,
    /// KIP-368 re-authentications that succeeded (`successful-reauthentication-total`).
    pub successful_reauthentications: u64,
    /// SASL authentications that failed (`failed-authentication-total`).
    pub failed_authentications: u64,
    /// Records transmitted in Produce requests, every attempt (`record-send-total`).
    pub records_transmitted: u64,
    /// Of those, records transmitted again (`record-retry-total`).
    pub records_retried: u64,
    /// Batch transmissions (first attempts and retries).
    pub batches_transmitted: u64,
    /// Bytes of the batches transmitted: over `batches_transmitted`, `batch-size-avg`.
    pub batch_bytes_transmitted: u64,
    /// Largest batch transmitted in the sample windows (`batch-size-max`).
    pub batch_size_max: u64,
    /// Batches refused as too large and split in two (`batch-split-total`).
    pub batch_splits: u64,
    /// Requests of every API sent (`request-total`).
    pub requests: u64,
    /// Responses received (`response-total`).
    pub responses: u64,
    /// Request bytes written (`outgoing-byte-total`).
    pub bytes_sent: u64,
    /// Bytes received (`incoming-byte-total`).
    pub bytes_received: u64,
    /// Produce requests answered: the count behind `request_latency_total`.
    pub produce_responses: u64,
    /// Sum of the Produce requests' latencies, transmission to answer: over `produce_responses`,
    /// `request-latency-avg`.
    pub request_latency_total: Duration,
    /// Largest Produce latency in the sample windows (`request-latency-max`).
    pub request_latency_max: Duration,
    /// Sum over the batches transmitted the first time of the time from their first record to
    /// that transmission: over `batches_transmitted - retries`, `record-queue-time-avg`.
    pub record_queue_time_total: Duration,
    /// Largest of those times in the sample windows (`record-queue-time-max`).
    pub record_queue_time_max: Duration,
    /// Connections opened (`connection-creation-total`).
    pub connections_created: u64,
    /// Requests that timed out (`request.timeout.ms`).
    pub request_timeouts: u64,
    /// `buffer.memory` (`buffer-total-bytes`).
    pub buffer_total_bytes: u64,
    /// Gauge: `buffer.memory` not accounted (`buffer-available-bytes`).
    pub buffer_available_bytes: u64,
    /// Gauge: requests of every API awaiting an answer (`requests-in-flight`).
    pub requests_in_flight: u64,
    /// Per broker (and bootstrap server) connected to so far, by id.
    pub brokers: Vec<BrokerMetrics>,
    /// Per topic sent to, with its partitions.
    pub topics: Vec<TopicMetrics>,
}

/// Rates (per second) and averages between two snapshots, named as the Java client's metrics
/// (`record_send_rate` is `record-send-rate`). A rate or average over nothing is 0.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricsInterval {
    /// Length of the interval.
    pub duration: Duration,
    /// Records transmitted per second, retries included (`record-send-rate`).
    pub record_send_rate: f64,
    /// Records retransmitted per second (`record-retry-rate`).
    pub record_retry_rate: f64,
    /// Records reported failed per second (`record-error-rate`).
    pub record_error_rate: f64,
    /// Records reported delivered per second.
    pub record_delivered_rate: f64,
    /// Requests sent per second, every API (`request-rate`).
    pub request_rate: f64,
    /// Request bytes written per second (`outgoing-byte-rate`).
    pub outgoing_byte_rate: f64,
    /// Bytes received per second (`incoming-byte-rate`).
    pub incoming_byte_rate: f64,
    /// Batches split per second (`batch-split-rate`).
    pub batch_split_rate: f64,
    /// Average Produce latency in ms (`request-latency-avg`).
    pub request_latency_avg: f64,
    /// Average bytes per batch transmitted (`batch-size-avg`).
    pub batch_size_avg: f64,
    /// Average records per Produce request (`records-per-request-avg`).
    pub records_per_request_avg: f64,
    /// Average ms from a batch's first record to its first transmission (`record-queue-time-avg`).
    pub record_queue_time_avg: f64,
    /// Per broker, in the order of [`ProducerMetrics::brokers`].
    pub brokers: Vec<BrokerInterval>,
}

/// One broker's rates and averages between two snapshots.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BrokerInterval {
    /// Broker id.
    pub node_id: i32,
    /// Requests per second (`request-rate`).
    pub request_rate: f64,
    /// Request bytes written per second (`outgoing-byte-rate`).
    pub outgoing_byte_rate: f64,
    /// Bytes received per second (`incoming-byte-rate`).
    pub incoming_byte_rate: f64,
    /// Average round-trip time in ms, every API (librdkafka's `rtt.avg`).
    pub rtt_avg: f64,
}

/// `part / whole`, 0 over nothing.
fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

/// Per second over `d`, 0 over nothing.
fn per_second(n: u64, d: Duration) -> f64 {
    ratio(n, d.as_micros()) * 1_000_000.0
}

/// `a - b`, 0 if negative.
fn minus(a: Duration, b: Duration) -> Duration {
    Duration::from_micros(a.as_micros().saturating_sub(b.as_micros()))
}

/// Milliseconds per item: a sum of durations over a count, 0 over nothing.
fn avg_ms(total: Duration, count: u64) -> f64 {
    ratio(total.as_micros(), count) / 1000.0
}

impl ProducerMetrics {
    /// Rates and averages over the interval from `earlier` (an earlier snapshot of the same
    /// producer; [`ProducerMetrics::default`] gives them over the producer's life) to this one.
    pub fn since(&self, earlier: &ProducerMetrics) -> MetricsInterval {
        let d = self.at - earlier.at;
        let dt = |now: u64, then: u64| now.saturating_sub(then);
        let first_sends = |m: &ProducerMetrics| m.batches_transmitted.saturating_sub(m.retries);
        let brokers = self
            .brokers
            .iter()
            .map(|b| {
                let e = earlier.brokers.iter().find(|x| x.node_id == b.node_id).cloned().unwrap_or_default();
                BrokerInterval {
                    node_id: b.node_id,
                    request_rate: per_second(dt(b.requests, e.requests), d),
                    outgoing_byte_rate: per_second(dt(b.bytes_sent, e.bytes_sent), d),
                    incoming_byte_rate: per_second(dt(b.bytes_received, e.bytes_received), d),
                    rtt_avg: avg_ms(minus(b.rtt_total, e.rtt_total), dt(b.responses, e.responses)),
                }
            })
            .collect();
        MetricsInterval {
            duration: d,
            record_send_rate: per_second(dt(self.records_transmitted, earlier.records_transmitted), d),
            record_retry_rate: per_second(dt(self.records_retried, earlier.records_retried), d),
            record_error_rate: per_second(dt(self.records_failed, earlier.records_failed), d),
            record_delivered_rate: per_second(dt(self.records_delivered, earlier.records_delivered), d),
            request_rate: per_second(dt(self.requests, earlier.requests), d),
            outgoing_byte_rate: per_second(dt(self.bytes_sent, earlier.bytes_sent), d),
            incoming_byte_rate: per_second(dt(self.bytes_received, earlier.bytes_received), d),
            batch_split_rate: per_second(dt(self.batch_splits, earlier.batch_splits), d),
            request_latency_avg: avg_ms(
                minus(self.request_latency_total, earlier.request_latency_total),
                dt(self.produce_responses, earlier.produce_responses),
            ),
            batch_size_avg: ratio(
                dt(self.batch_bytes_transmitted, earlier.batch_bytes_transmitted),
                dt(self.batches_transmitted, earlier.batches_transmitted),
            ),
            records_per_request_avg: ratio(
                dt(self.records_transmitted, earlier.records_transmitted),
                dt(self.produce_requests, earlier.produce_requests),
            ),
            record_queue_time_avg: avg_ms(
                minus(self.record_queue_time_total, earlier.record_queue_time_total),
                dt(first_sends(self), first_sends(earlier)),
            ),
            brokers,
        }
    }

    /// Records queued (accepted, not transmitted) over every partition, and records waiting for
    /// metadata.
    pub fn queued_records(&self) -> u64 {
        self.topics.iter().map(|t| t.records_waiting + t.partitions.iter().map(|p| p.queued_records).sum::<u64>()).sum()
    }

    /// The snapshot as one JSON object (no newline), with the Java client's metric names as
    /// keys (`record-send-total`, `request-latency-avg`, ...; idem's own counters in the same
    /// style), rates and averages over `interval` when given (from [`ProducerMetrics::since`]),
    /// `brokers` and `topics` (with their `partitions`) as arrays. Times in ms.
    pub fn to_json(&self, interval: Option<&MetricsInterval>) -> String {
        let mut j = Json::default();
        j.open('{');
        j.num("time-ms", self.at.as_micros() as f64 / 1000.0);
        let totals: [(&str, u64); 30] = [
            ("record-send-total", self.records_transmitted),
            ("record-retry-total", self.records_retried),
            ("record-error-total", self.records_failed),
            ("records-accepted-total", self.records_sent),
            ("records-delivered-total", self.records_delivered),
            ("batches-sealed-total", self.batches),
            ("batch-send-total", self.batches_transmitted),
            ("batch-retry-total", self.retries),
            ("batch-split-total", self.batch_splits),
            ("batch-size-max", self.batch_size_max),
            ("produce-request-total", self.produce_requests),
            ("request-total", self.requests),
            ("response-total", self.responses),
            ("outgoing-byte-total", self.bytes_sent),
            ("incoming-byte-total", self.bytes_received),
            ("request-timeout-total", self.request_timeouts),
            ("connection-creation-total", self.connections_created),
            ("connection-close-total", self.connection_errors),
            ("successful-authentication-total", self.successful_authentications),
            ("successful-reauthentication-total", self.successful_reauthentications),
            ("failed-authentication-total", self.failed_authentications),
            ("duplicate-ack-total", self.duplicates_acknowledged),
            ("implicit-ack-total", self.implicit_acks),
            ("epoch-bump-total", self.epoch_bumps),
            ("batches-in-flight", self.in_flight),
            ("requests-in-flight", self.requests_in_flight),
            ("buffer-total-bytes", self.buffer_total_bytes),
            ("buffer-available-bytes", self.buffer_available_bytes),
            ("buffered-bytes", self.buffered_bytes),
            ("queued-records", self.queued_records()),
        ];
        for (k, v) in totals {
            j.int(k, v);
        }
        j.num("request-latency-max", ms(self.request_latency_max));
        j.num("record-queue-time-max", ms(self.record_queue_time_max));
        if let Some(i) = interval {
            let rates: [(&str, f64); 13] = [
                ("interval-ms", ms(i.duration)),
                ("record-send-rate", i.record_send_rate),
                ("record-retry-rate", i.record_retry_rate),
                ("record-error-rate", i.record_error_rate),
                ("record-delivered-rate", i.record_delivered_rate),
                ("request-rate", i.request_rate),
                ("outgoing-byte-rate", i.outgoing_byte_rate),
                ("incoming-byte-rate", i.incoming_byte_rate),
                ("batch-split-rate", i.batch_split_rate),
                ("request-latency-avg", i.request_latency_avg),
                ("batch-size-avg", i.batch_size_avg),
                ("records-per-request-avg", i.records_per_request_avg),
                ("record-queue-time-avg", i.record_queue_time_avg),
            ];
            for (k, v) in rates {
                j.num(k, v);
            }
        }
        j.key("brokers");
        j.open('[');
        for b in &self.brokers {
            j.open('{');
            j.int("node-id", i64::from(b.node_id));
            j.boolean("connected", b.connected);
            let totals: [(&str, u64); 9] = [
                ("requests-in-flight", b.in_flight_requests),
                ("request-total", b.requests),
                ("response-total", b.responses),
                ("outgoing-byte-total", b.bytes_sent),
                ("incoming-byte-total", b.bytes_received),
                ("connection-creation-total", b.connects),
                ("connection-close-total", b.disconnects),
                ("request-timeout-total", b.request_timeouts),
                ("rtt-total-us", b.rtt_total.as_micros()),
            ];
            for (k, v) in totals {
                j.int(k, v);
            }
            j.num("request-latency-max", ms(b.rtt_max));
            if let Some(bi) = interval.and_then(|i| i.brokers.iter().find(|x| x.node_id == b.node_id)) {
                j.num("request-rate", bi.request_rate);
                j.num("outgoing-byte-rate", bi.outgoing_byte_rate);
                j.num("incoming-byte-rate", bi.incoming_byte_rate);
                j.num("request-latency-avg", bi.rtt_avg);
            }
            j.close('}');
        }
        j.close(']');
        j.key("topics");
        j.open('[');
        for t in &self.topics {
            j.open('{');
            j.string("topic", &t.topic);
            j.int("records-waiting", t.records_waiting);
            j.key("partitions");
            j.open('[');
            for p in &t.partitions {
                j.open('{');
                j.int("partition", i64::from(p.partition));
                j.int("leader", p.leader.map_or(-1, i64::from));
                j.int("queued-records", p.queued_records);
                j.int("queued-bytes", p.queued_bytes);
                j.int("batches-in-flight", p.in_flight_batches);
                j.int("batches-unresolved", p.unresolved_batches);
                j.int("next-sequence", i64::from(p.next_sequence));
                j.int("batch-retry-total", p.batch_retries);
                j.boolean("needs-epoch-bump", p.needs_epoch_bump);
                j.close('}');
            }
            j.close(']');
            j.close('}');
        }
        j.close(']');
        j.close('}');
        j.out
    }
}

/// A duration in ms, with µs as the fraction.
fn ms(d: Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

/// A minimal JSON writer: objects, arrays, numbers, booleans and escaped strings.
#[derive(Default)]
struct Json {
    out: String,
    /// Whether the current container needs a comma before its next item.
    comma: bool,
}

impl Json {
    fn sep(&mut self) {
        if self.comma {
            self.out.push(',');
        }
        self.comma = true;
    }

    fn key(&mut self, k: &str) {
        self.sep();
        self.quoted(k);
        self.out.push(':');
        self.comma = false;
    }

    fn open(&mut self, c: char) {
        if self.comma {
            self.out.push(',');
        }
        self.out.push(c);
        self.comma = false;
    }

    fn close(&mut self, c: char) {
        self.out.push(c);
        self.comma = true;
    }

    /// An integer (any type that prints as one).
    fn int(&mut self, k: &str, v: impl core::fmt::Display) {
        self.key(k);
        let _ = write!(self.out, "{v}");
        self.comma = true;
    }

    fn num(&mut self, k: &str, v: f64) {
        self.key(k);
        if v.is_finite() {
            let _ = write!(self.out, "{v:.3}");
        } else {
            self.out.push('0');
        }
        self.comma = true;
    }

    fn boolean(&mut self, k: &str, v: bool) {
        self.key(k);
        self.out.push_str(if v { "true" } else { "false" });
        self.comma = true;
    }

    fn string(&mut self, k: &str, v: &str) {
        self.key(k);
        self.quoted(v);
        self.comma = true;
    }

    fn quoted(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(self.out, "\\u{:04x}", c as u32);
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn windowed_max_covers_two_windows() {
        let w = Duration::from_secs(30);
        let mut m = WindowedMax::default();
        m.record(Instant::from_millis(1_000), w, 7);
        m.record(Instant::from_millis(2_000), w, 5);
        assert_eq!(m.get(Instant::from_millis(2_000), w), 7);
        // A new window starts: the previous one still counts.
        m.record(Instant::from_millis(32_000), w, 3);
        assert_eq!(m.get(Instant::from_millis(32_000), w), 7);
        // The window of the 7 has passed: only the current one (3) counts.
        assert_eq!(m.get(Instant::from_millis(62_500), w), 3);
        assert_eq!(m.get(Instant::from_millis(92_500), w), 0);
        // Long idle: both windows forgotten at the next record.
        m.record(Instant::from_millis(500_000), w, 1);
        assert_eq!(m.get(Instant::from_millis(500_000), w), 1);
    }

    #[test]
    fn rates_and_averages_between_snapshots_and_json_names() {
        let earlier = ProducerMetrics {
            at: Instant::from_millis(1_000),
            records_transmitted: 100,
            produce_requests: 10,
            batches_transmitted: 10,
            batch_bytes_transmitted: 10_000,
            ..ProducerMetrics::default()
        };
        let later = ProducerMetrics {
            at: Instant::from_millis(3_000),
            records_transmitted: 300,
            records_retried: 20,
            retries: 2,
            produce_requests: 20,
            batches_transmitted: 22,
            batch_bytes_transmitted: 34_000,
            produce_responses: 4,
            request_latency_total: Duration::from_millis(10),
            brokers: vec![BrokerMetrics { node_id: 1, requests: 40, ..BrokerMetrics::default() }],
            topics: vec![TopicMetrics {
                topic: "a\"b".into(),
                records_waiting: 2,
                partitions: vec![PartitionMetrics { partition: 0, queued_records: 5, ..PartitionMetrics::default() }],
            }],
            ..ProducerMetrics::default()
        };
        let i = later.since(&earlier);
        assert_eq!(i.duration, Duration::from_secs(2));
        assert_eq!(i.record_send_rate, 100.0);
        assert_eq!(i.record_retry_rate, 10.0);
        assert_eq!(i.records_per_request_avg, 20.0);
        assert_eq!(i.batch_size_avg, 2_000.0);
        assert_eq!(i.request_latency_avg, 2.5);
        assert_eq!(i.brokers[0].request_rate, 20.0);
        assert_eq!(later.queued_records(), 7);
        let json = later.to_json(Some(&i));
        for key in [
            "\"record-send-total\":300",
            "\"record-send-rate\":100.000",
            "\"records-per-request-avg\":20.000",
            "\"request-latency-avg\":2.500",
            "\"brokers\":[{\"node-id\":1",
            "\"topic\":\"a\\\"b\"",
            "\"partitions\":[{\"partition\":0,\"leader\":-1,\"queued-records\":5",
        ] {
            assert!(json.contains(key), "{key} in {json}");
        }
        assert!(json.starts_with('{') && json.ends_with("]}]}"), "{json}");
        assert!(!json.contains(",,") && !json.contains("{,") && !json.contains("[,"), "{json}");
        let quiet = ProducerMetrics::default().since(&ProducerMetrics::default());
        assert_eq!(quiet.record_send_rate, 0.0);
        assert_eq!(quiet.request_latency_avg, 0.0);
    }
}
