//! Cluster metadata as the producer needs it: brokers, and the leader of every partition of the
//! topics it sends to. Refreshed on NOT_LEADER_OR_FOLLOWER (and similar), on unknown topics or
//! leaders, on disconnects, and when older than `metadata.max.age.ms`.
//!
//! KIP-951 leader hints in Produce responses are not used: a leader change always goes through a
//! Metadata refresh (one more round trip, same ordering guarantees).

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::proto::ErrorCode;
use crate::proto::metadata::{MetadataRequest, MetadataRequestTopic, MetadataResponse};
use crate::time::{Duration, Instant};

/// Whether a topic-level error is one that waiting cannot mend (INVALID_TOPIC_EXCEPTION,
/// TOPIC_AUTHORIZATION_FAILED): the records waiting for the topic's metadata fail.
pub(crate) fn is_hopeless(code: ErrorCode) -> bool {
    code == ErrorCode::INVALID_TOPIC_EXCEPTION || code == ErrorCode::TOPIC_AUTHORIZATION_FAILED
}

/// A broker from the latest Metadata response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BrokerInfo {
    /// Node id.
    pub(crate) node_id: i32,
    /// Host.
    pub(crate) host: String,
    /// Port.
    pub(crate) port: u16,
}

/// What is known about one topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TopicMeta {
    /// Name.
    pub(crate) name: String,
    /// The topic-level error of the latest response that mentioned it, if any.
    pub(crate) error: Option<ErrorCode>,
    /// Leader node id per partition (-1 when none); empty until known.
    pub(crate) leaders: Vec<i32>,
}

impl TopicMeta {
    /// The partition count, once known.
    pub(crate) fn partition_count(&self) -> Option<u32> {
        (!self.leaders.is_empty()).then_some(self.leaders.len() as u32)
    }
}

/// The producer's metadata cache and refresh schedule.
#[derive(Clone, Debug)]
pub(crate) struct Metadata {
    /// Brokers.
    pub(crate) brokers: Vec<BrokerInfo>,
    /// Topics, indexed like the producer's topic table.
    pub(crate) topics: Vec<TopicMeta>,
    index: BTreeMap<String, usize>,
    last_refresh: Option<Instant>,
    wanted: bool,
    /// A Metadata request is outstanding.
    pub(crate) in_flight: bool,
    retry_at: Option<Instant>,
    /// Consecutive failures (backoff exponent).
    pub(crate) failures: u32,
    max_age: Duration,
    /// Whether requests may create the topics (`allow.auto.create.topics`; the producer: true).
    pub(crate) allow_auto_topic_creation: bool,
}

impl Metadata {
    /// Empty cache; `max_age` is `metadata.max.age.ms`.
    pub(crate) fn new(max_age: Duration) -> Self {
        Metadata {
            brokers: Vec::new(),
            topics: Vec::new(),
            index: BTreeMap::new(),
            last_refresh: None,
            wanted: false,
            in_flight: false,
            retry_at: None,
            failures: 0,
            max_age,
            allow_auto_topic_creation: true,
        }
    }

    /// A topic's index, if the producer has seen it.
    pub(crate) fn topic(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Adds a topic (unknown metadata) and asks for a refresh; returns its index.
    pub(crate) fn add_topic(&mut self, name: &str) -> usize {
        if let Some(i) = self.topic(name) {
            return i;
        }
        let i = self.topics.len();
        self.topics.push(TopicMeta { name: name.to_string(), error: None, leaders: Vec::new() });
        self.index.insert(name.to_string(), i);
        self.wanted = true;
        self.retry_at = None;
        i
    }

    /// The leader of a partition, if known.
    pub(crate) fn leader(&self, topic: usize, partition: i32) -> Option<i32> {
        let t = self.topics.get(topic)?;
        let l = *t.leaders.get(usize::try_from(partition).ok()?)?;
        (l >= 0).then_some(l)
    }

    /// A broker's address.
    pub(crate) fn broker(&self, node: i32) -> Option<&BrokerInfo> {
        self.brokers.iter().find(|b| b.node_id == node)
    }

    /// Asks for a refresh as soon as possible (respecting the retry backoff).
    pub(crate) fn request_refresh(&mut self) {
        self.wanted = true;
    }

    /// Whether a request should be sent at `now`.
    pub(crate) fn due(&self, now: Instant) -> bool {
        if self.in_flight || self.topics.is_empty() || self.retry_at.is_some_and(|t| t > now) {
            return false;
        }
        self.wanted || self.last_refresh.is_none_or(|t| t + self.max_age <= now)
    }

    /// When the next request will be due (if none is outstanding).
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        if self.in_flight || self.topics.is_empty() {
            return None;
        }
        let age = self.last_refresh.map(|t| t + self.max_age);
        match (self.wanted, self.retry_at) {
            (true, Some(r)) => Some(r),
            (true, None) => age.or(Some(Instant::ZERO)),
            (false, r) => age.map(|a| r.map_or(a, |r| r.max(a))),
        }
    }

    /// The request for every topic the producer knows; marks it outstanding.
    pub(crate) fn request(&mut self) -> MetadataRequest<'_> {
        self.in_flight = true;
        self.wanted = false;
        MetadataRequest {
            topics: Some(
                self.topics.iter().map(|t| MetadataRequestTopic { topic_id: [0; 16], name: Some(&t.name) }).collect(),
            ),
            allow_auto_topic_creation: self.allow_auto_topic_creation,
            include_cluster_authorized_operations: false,
            include_topic_authorized_operations: false,
        }
    }

    /// The outstanding request failed or was lost; retry at `retry_at`.
    pub(crate) fn on_failed(&mut self, retry_at: Instant) {
        self.in_flight = false;
        self.wanted = true;
        self.retry_at = Some(retry_at);
        self.failures = self.failures.saturating_add(1);
    }

    /// Applies a response at `now`. Topics or partitions still without a leader make the next
    /// refresh wanted after `retry_at`. Partition counts never shrink (Kafka cannot remove
    /// partitions; a response listing fewer is ignored for the missing ones).
    pub(crate) fn on_response(&mut self, r: &MetadataResponse<'_>, now: Instant, retry_at: Instant) {
        self.in_flight = false;
        self.last_refresh = Some(now);
        self.failures = 0;
        let mut brokers = Vec::with_capacity(r.brokers.len());
        for b in &r.brokers {
            if let Ok(port) = u16::try_from(b.port) {
                brokers.push(BrokerInfo { node_id: b.node_id, host: b.host.to_string(), port });
            }
        }
        if !brokers.is_empty() {
            self.brokers = brokers;
        }
        let mut incomplete = false;
        for t in &r.topics {
            let Some(i) = t.name.and_then(|n| self.topic(n)) else { continue };
            let Some(meta) = self.topics.get_mut(i) else { continue };
            let code = ErrorCode(t.error_code);
            if !code.is_ok() {
                meta.error = Some(code);
                incomplete = true;
                continue;
            }
            meta.error = None;
            let count = t
                .partitions
                .iter()
                .filter_map(|p| usize::try_from(p.partition_index).ok())
                .map(|p| p + 1)
                .max()
                .unwrap_or(0)
                .min(1 << 20);
            if count > meta.leaders.len() {
                meta.leaders.resize(count, -1);
            }
            for p in &t.partitions {
                let Some(slot) = usize::try_from(p.partition_index).ok().and_then(|i| meta.leaders.get_mut(i)) else {
                    continue;
                };
                let known = p.leader_id >= 0 && self.brokers.iter().any(|b| b.node_id == p.leader_id);
                *slot = if known { p.leader_id } else { -1 };
                incomplete |= !known;
            }
            incomplete |= meta.leaders.is_empty();
        }
        // Topics the response did not mention are still unknown.
        incomplete |= self.topics.iter().any(|t| t.leaders.is_empty());
        self.wanted = incomplete;
        self.retry_at = incomplete.then_some(retry_at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::metadata::{MetadataBroker, MetadataPartition, MetadataTopic};
    use alloc::vec;

    fn resp<'a>(leaders: &[i32], brokers: &[i32]) -> MetadataResponse<'a> {
        MetadataResponse {
            brokers: brokers
                .iter()
                .map(|&n| MetadataBroker { node_id: n, host: "h", port: 9000 + n, rack: None })
                .collect(),
            topics: vec![MetadataTopic {
                name: Some("t"),
                partitions: leaders
                    .iter()
                    .enumerate()
                    .map(|(i, &l)| MetadataPartition { partition_index: i as i32, leader_id: l, ..Default::default() })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn leaders_and_refresh() {
        let mut m = Metadata::new(Duration::from_secs(300));
        assert!(!m.due(Instant::ZERO));
        let t = m.add_topic("t");
        assert_eq!(m.add_topic("t"), t);
        assert!(m.due(Instant::ZERO));
        let req = m.request();
        assert_eq!(req.topics.as_ref().unwrap()[0].name, Some("t"));
        assert!(!m.due(Instant::ZERO));
        m.on_response(&resp(&[1, 2], &[1, 2]), Instant::ZERO, Instant::from_millis(100));
        assert_eq!(m.leader(t, 1), Some(2));
        assert_eq!(m.topics[t].partition_count(), Some(2));
        assert_eq!(m.broker(2).unwrap().port, 9002);
        assert!(!m.due(Instant::from_millis(299_999)));
        assert!(m.due(Instant::from_millis(300_000)));
        assert_eq!(m.next_deadline(), Some(Instant::from_millis(300_000)));
        // A leader unknown to the broker list: wanted again after the backoff.
        m.request();
        m.on_response(&resp(&[1, 3], &[1, 2]), Instant::from_millis(1), Instant::from_millis(101));
        assert_eq!(m.leader(t, 1), None);
        assert!(!m.due(Instant::from_millis(100)) && m.due(Instant::from_millis(101)));
        m.request();
        m.on_failed(Instant::from_millis(500));
        assert!(m.due(Instant::from_millis(500)));
        assert_eq!(m.leader(5, 0), None);
        assert_eq!(m.leader(t, -1), None);
    }
}
