//! Metadata: live brokers, topics, partitions and their leaders; auto-creates topics.

use crate::broker::cluster::{Cluster, Reply, malformed, respond};
use crate::broker::config::is_valid_topic_name;
use crate::broker::topics::Topic;
use crate::proto::metadata::{MetadataBroker, MetadataPartition, MetadataRequest, MetadataResponse, MetadataTopic};
use crate::proto::{ApiKey, ErrorCode, Message, Reader};
use alloc::string::String;
use alloc::vec::Vec;

impl Cluster {
    /// Answers Metadata.
    pub(crate) fn metadata(&mut self, v: i16, corr: i32, r: &mut Reader<'_>) -> Result<Reply, String> {
        let req = MetadataRequest::decode(r, v).map_err(malformed(ApiKey::Metadata, v))?;
        // Auto-create first, so that the response below can borrow the topics immutably.
        let auto = self.config.auto_create_partitions.filter(|_| req.allow_auto_topic_creation);
        if let (Some(n), Some(topics)) = (auto, &req.topics) {
            for name in topics.iter().filter_map(|t| t.name) {
                if is_valid_topic_name(name) && self.create_topic(name, n) == Ok(true) {
                    self.log(alloc::format!("auto-created topic `{name}` with {n} partitions"));
                }
            }
        }
        let mut topics = Vec::new();
        match &req.topics {
            None => {
                for (name, t) in &self.topics {
                    topics.push(self.describe(Some(name), t));
                }
            }
            Some(wanted) => {
                for w in wanted {
                    let found = match w.name {
                        Some(name) => self.topics.get_key_value(name),
                        None => self.topics.iter().find(|(_, t)| t.id == w.topic_id),
                    };
                    topics.push(match (found, w.name) {
                        (Some((name, t)), _) => self.describe(Some(name), t),
                        (None, Some(name)) if !is_valid_topic_name(name) => {
                            missing(w.name, w.topic_id, ErrorCode::INVALID_TOPIC_EXCEPTION)
                        }
                        (None, Some(_)) => missing(w.name, w.topic_id, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION),
                        (None, None) => missing(None, w.topic_id, ErrorCode::UNKNOWN_TOPIC_ID),
                    });
                }
            }
        }
        let brokers = self
            .brokers
            .iter()
            .filter(|b| b.up)
            .map(|b| MetadataBroker {
                node_id: b.addr.node_id,
                host: b.addr.host.as_str(),
                port: i32::from(b.addr.port),
                rack: None,
            })
            .collect();
        let body = MetadataResponse {
            throttle_time_ms: 0,
            brokers,
            cluster_id: Some(self.config.cluster_id.as_str()),
            controller_id: self.live_brokers().first().copied().unwrap_or(-1),
            topics,
            cluster_authorized_operations: i32::MIN,
        };
        respond(corr, v, &body)
    }

    fn describe<'a>(&'a self, name: Option<&'a String>, t: &Topic) -> MetadataTopic<'a> {
        let all: Vec<i32> = self.brokers.iter().map(|b| b.addr.node_id).collect();
        let live = self.live_brokers();
        let offline: Vec<i32> = all.iter().copied().filter(|b| !live.contains(b)).collect();
        let partitions = t
            .partitions
            .iter()
            .enumerate()
            .map(|(i, p)| {
                // The leader first, then the other brokers, as "replicas" of the one copy.
                let mut replicas = Vec::with_capacity(all.len());
                if p.leader >= 0 {
                    replicas.push(p.leader);
                }
                replicas.extend(all.iter().copied().filter(|b| *b != p.leader));
                let isr = replicas.iter().copied().filter(|b| live.contains(b)).collect();
                MetadataPartition {
                    // No broker is up to lead the partition: LEADER_NOT_AVAILABLE.
                    error_code: if p.leader < 0 { ErrorCode::LEADER_NOT_AVAILABLE } else { ErrorCode::NONE }.0,
                    partition_index: i as i32,
                    leader_id: p.leader,
                    leader_epoch: p.leader_epoch,
                    replica_nodes: replicas,
                    isr_nodes: isr,
                    offline_replicas: offline.clone(),
                }
            })
            .collect();
        MetadataTopic {
            error_code: ErrorCode::NONE.0,
            name: name.map(String::as_str),
            topic_id: t.id,
            is_internal: false,
            partitions,
            topic_authorized_operations: i32::MIN,
        }
    }
}

fn missing(name: Option<&str>, topic_id: [u8; 16], code: ErrorCode) -> MetadataTopic<'_> {
    MetadataTopic {
        error_code: code.0,
        name,
        topic_id,
        is_internal: false,
        partitions: Vec::new(),
        topic_authorized_operations: i32::MIN,
    }
}
