//! The consumer group APIs (the classic group protocol): FindCoordinator, JoinGroup, SyncGroup,
//! Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, ListGroups and DescribeGroups, mapped
//! between their wire versions and the group coordinator (`broker/group/`), which holds the
//! state.
//!
//! - FindCoordinator (key type group) names the broker that coordinates the group (Kafka: the
//!   leader of the group's `__consumer_offsets` partition; here the same hash over the live
//!   brokers, see `group/placement.rs`); key type transaction the same for a transactional id
//!   (Kafka's `__transaction_state` is hashed alike); other key types COORDINATOR_NOT_AVAILABLE.
//! - Every group request is first checked against the placement (NOT_COORDINATOR on another
//!   broker, COORDINATOR_LOAD_IN_PROGRESS while loading) and the injected coordinator faults.
//! - JoinGroup and SyncGroup may park: the connection's response queue holds a
//!   `Pending::Group` entry in the request's place (answers stay in request order), filled
//!   when the coordinator completes the request ([`Cluster::deliver_group_answers`]).

use crate::broker::cluster::{Cluster, Reply, malformed, respond};
use crate::broker::conn::{ConnId, Pending};
use crate::broker::group::{
    Answer, CommitPartition, Deferred, HeartbeatRequest as Beat, JoinAnswer, JoinProtocol, JoinRequest, LeaveMember,
    OffsetCommitRequest as Commit, OffsetFetchAnswer, SyncAnswer, SyncRequest,
};
use crate::debug::DebugContext;
use crate::proto::describe_groups::{
    DescribeGroupsRequest, DescribeGroupsResponse, DescribedGroup, DescribedGroupMember,
};
use crate::proto::find_coordinator::{
    Coordinator, FindCoordinatorRequest, FindCoordinatorResponse, KEY_TYPE_GROUP, KEY_TYPE_TRANSACTION,
};
use crate::proto::heartbeat::{HeartbeatRequest, HeartbeatResponse};
use crate::proto::join_group::{JoinGroupRequest, JoinGroupResponse, JoinGroupResponseMember};
use crate::proto::leave_group::{LeaveGroupRequest, LeaveGroupResponse, MemberResponse};
use crate::proto::list_groups::{ListGroupsRequest, ListGroupsResponse, ListedGroup};
use crate::proto::offset_commit::{
    OffsetCommitRequest, OffsetCommitResponse, OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use crate::proto::offset_fetch::{
    OffsetFetchRequest, OffsetFetchRequestTopic, OffsetFetchResponse, OffsetFetchResponseGroup,
    OffsetFetchResponsePartition, OffsetFetchResponseTopic,
};
use crate::proto::sync_group::{SyncGroupRequest, SyncGroupResponse};
use crate::proto::{ApiKey, ErrorCode, Message, Reader};
use crate::time::Duration;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// Where a parked JoinGroup or SyncGroup answer goes: its connection, correlation id and
/// version, and the response delay drawn when it was parked (a fault).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GroupToken {
    pub(crate) conn: ConnId,
    pub(crate) correlation_id: i32,
    pub(crate) version: i16,
    pub(crate) delay: Duration,
}

/// A coordinator found for a key: the broker and its address, or why none.
struct Located {
    error: ErrorCode,
    node_id: i32,
    host: String,
    port: i32,
}

/// The host DescribeGroups shows for members: the cluster sees no peer addresses.
const CLIENT_HOST: &str = "/127.0.0.1";

impl Cluster {
    /// Answers FindCoordinator: for a group or transactional id, the broker coordinating it.
    pub(crate) fn find_coordinator(&mut self, v: i16, corr: i32, r: &mut Reader<'_>) -> Result<Reply, String> {
        let req = FindCoordinatorRequest::decode(r, v).map_err(malformed(ApiKey::FindCoordinator, v))?;
        let live = self.live_brokers();
        let find = |key: &str| -> Located {
            let none =
                Located { error: ErrorCode::COORDINATOR_NOT_AVAILABLE, node_id: -1, host: String::new(), port: -1 };
            if req.key_type != KEY_TYPE_GROUP && req.key_type != KEY_TYPE_TRANSACTION {
                return none;
            }
            let node = self.groups.placement.coordinator(key, &live);
            match node.and_then(|n| self.broker(n)) {
                Some(b) => Located {
                    error: ErrorCode::NONE,
                    node_id: b.addr.node_id,
                    host: b.addr.host.clone(),
                    port: i32::from(b.addr.port),
                },
                None => none,
            }
        };
        if v >= 4 {
            let found: Vec<(&str, Located)> = req.coordinator_keys.iter().map(|k| (*k, find(k))).collect();
            let coordinators = found
                .iter()
                .map(|(key, l)| Coordinator {
                    key,
                    node_id: l.node_id,
                    host: &l.host,
                    port: l.port,
                    error_code: l.error.0,
                    error_message: None,
                })
                .collect();
            return respond(corr, v, &FindCoordinatorResponse { coordinators, ..Default::default() });
        }
        let l = find(req.key);
        let body = FindCoordinatorResponse {
            error_code: l.error.0,
            error_message: None,
            node_id: l.node_id,
            host: &l.host,
            port: l.port,
            ..Default::default()
        };
        respond(corr, v, &body)
    }

    /// Whether `broker_id` answers for the group or transactional id `key` now: the placement,
    /// then the injected coordinator faults (drawn only when configured, so that runs without
    /// them keep their random sequences). Groups and transactional ids share both (Kafka hashes
    /// them alike over `__consumer_offsets` and `__transaction_state`, 50 partitions each).
    pub(crate) fn coordinator_gate(&mut self, broker_id: i32, key: &str) -> ErrorCode {
        let live = self.live_brokers();
        let e = self.groups.placement.check(self.now, broker_id, key, &live);
        if e != ErrorCode::NONE {
            return e;
        }
        let (not_coordinator, loading) = (self.faults.not_coordinator, self.faults.coordinator_loading);
        if not_coordinator > 0.0 && self.rng.chance(not_coordinator) {
            self.stats.coordinator_errors += 1;
            return ErrorCode::NOT_COORDINATOR;
        }
        if loading > 0.0 && self.rng.chance(loading) {
            self.stats.coordinator_errors += 1;
            return ErrorCode::COORDINATOR_LOAD_IN_PROGRESS;
        }
        ErrorCode::NONE
    }

    /// Answers JoinGroup, now or once the rebalance completes.
    pub(crate) fn join_group(
        &mut self,
        conn: ConnId,
        broker_id: i32,
        client_id: &str,
        v: i16,
        corr: i32,
        r: &mut Reader<'_>,
    ) -> Result<Reply, String> {
        let req = JoinGroupRequest::decode(r, v).map_err(malformed(ApiKey::JoinGroup, v))?;
        let gate = self.coordinator_gate(broker_id, req.group_id);
        if gate != ErrorCode::NONE {
            return join_response(corr, v, &JoinAnswer::error(req.member_id, gate));
        }
        let join = JoinRequest {
            group_id: req.group_id.to_string(),
            session_timeout_ms: req.session_timeout_ms,
            rebalance_timeout_ms: if v >= 1 { req.rebalance_timeout_ms } else { req.session_timeout_ms },
            member_id: req.member_id.to_string(),
            group_instance_id: req.group_instance_id.map(str::to_string),
            protocol_type: req.protocol_type.to_string(),
            protocols: req
                .protocols
                .iter()
                .map(|p| JoinProtocol { name: p.name.to_string(), metadata: p.metadata.to_vec() })
                .collect(),
            require_known_member_id: v >= 4,
            client_id: client_id.to_string(),
            client_host: CLIENT_HOST.to_string(),
        };
        let token = GroupToken { conn, correlation_id: corr, version: v, delay: self.draw_delay() };
        match self.groups.join(self.now, join, token) {
            Deferred::Now(a) => join_response(corr, v, &a),
            Deferred::Later => Ok(Reply::WaitGroup),
        }
    }

    /// Answers SyncGroup, now or once the leader's assignment arrives.
    pub(crate) fn sync_group(
        &mut self,
        conn: ConnId,
        broker_id: i32,
        v: i16,
        corr: i32,
        r: &mut Reader<'_>,
    ) -> Result<Reply, String> {
        let req = SyncGroupRequest::decode(r, v).map_err(malformed(ApiKey::SyncGroup, v))?;
        let gate = self.coordinator_gate(broker_id, req.group_id);
        if gate != ErrorCode::NONE {
            return sync_response(corr, v, &SyncAnswer::error(gate));
        }
        let sync = SyncRequest {
            group_id: req.group_id.to_string(),
            generation_id: req.generation_id,
            member_id: req.member_id.to_string(),
            group_instance_id: req.group_instance_id.map(str::to_string),
            protocol_type: req.protocol_type.map(str::to_string),
            protocol_name: req.protocol_name.map(str::to_string),
            assignments: req.assignments.iter().map(|a| (a.member_id.to_string(), a.assignment.to_vec())).collect(),
        };
        let token = GroupToken { conn, correlation_id: corr, version: v, delay: self.draw_delay() };
        match self.groups.sync(self.now, sync, token) {
            Deferred::Now(a) => sync_response(corr, v, &a),
            Deferred::Later => Ok(Reply::WaitGroup),
        }
    }

    /// Answers Heartbeat.
    pub(crate) fn heartbeat(&mut self, broker_id: i32, v: i16, corr: i32, r: &mut Reader<'_>) -> Result<Reply, String> {
        let req = HeartbeatRequest::decode(r, v).map_err(malformed(ApiKey::Heartbeat, v))?;
        let mut e = self.coordinator_gate(broker_id, req.group_id);
        if e == ErrorCode::NONE {
            let beat = Beat {
                group_id: req.group_id.to_string(),
                generation_id: req.generation_id,
                member_id: req.member_id.to_string(),
                group_instance_id: req.group_instance_id.map(str::to_string),
            };
            e = self.groups.heartbeat(self.now, &beat);
        }
        respond(corr, v, &HeartbeatResponse { throttle_time_ms: 0, error_code: e.0 })
    }

    /// Answers LeaveGroup: one member by id (v0-2) or several by id or instance id (v3+).
    pub(crate) fn leave_group(
        &mut self,
        broker_id: i32,
        v: i16,
        corr: i32,
        r: &mut Reader<'_>,
    ) -> Result<Reply, String> {
        let req = LeaveGroupRequest::decode(r, v).map_err(malformed(ApiKey::LeaveGroup, v))?;
        let members: Vec<LeaveMember> = if v >= 3 {
            req.members
                .iter()
                .map(|m| LeaveMember {
                    member_id: m.member_id.to_string(),
                    group_instance_id: m.group_instance_id.map(str::to_string),
                })
                .collect()
        } else {
            alloc::vec![LeaveMember { member_id: req.member_id.to_string(), group_instance_id: None }]
        };
        let gate = self.coordinator_gate(broker_id, req.group_id);
        if gate != ErrorCode::NONE {
            return respond(corr, v, &LeaveGroupResponse { error_code: gate.0, ..Default::default() });
        }
        let answer = self.groups.leave(self.now, req.group_id, members);
        // v0-2 answer the single member's outcome at the top level.
        let top = match (v >= 3, answer.members.first()) {
            (false, Some((_, e))) if answer.error == ErrorCode::NONE => *e,
            _ => answer.error,
        };
        let members = if v >= 3 {
            answer
                .members
                .iter()
                .map(|(m, e)| MemberResponse {
                    member_id: &m.member_id,
                    group_instance_id: m.group_instance_id.as_deref(),
                    error_code: e.0,
                })
                .collect()
        } else {
            Vec::new()
        };
        respond(corr, v, &LeaveGroupResponse { throttle_time_ms: 0, error_code: top.0, members })
    }

    /// Answers OffsetCommit: each partition's code (the coordinator's checks: generation,
    /// member, metadata size), or the gate's error for every partition.
    pub(crate) fn offset_commit(
        &mut self,
        broker_id: i32,
        v: i16,
        corr: i32,
        r: &mut Reader<'_>,
    ) -> Result<Reply, String> {
        let req = OffsetCommitRequest::decode(r, v).map_err(malformed(ApiKey::OffsetCommit, v))?;
        let gate = self.coordinator_gate(broker_id, req.group_id);
        let answer: Vec<(String, Vec<(i32, ErrorCode)>)> = if gate != ErrorCode::NONE {
            req.topics
                .iter()
                .map(|t| (t.name.to_string(), t.partitions.iter().map(|p| (p.partition_index, gate)).collect()))
                .collect()
        } else {
            let commit = Commit {
                group_id: req.group_id.to_string(),
                generation_id: req.generation_id,
                member_id: req.member_id.to_string(),
                group_instance_id: req.group_instance_id.map(str::to_string),
                topics: req
                    .topics
                    .iter()
                    .map(|t| {
                        let parts = t
                            .partitions
                            .iter()
                            .map(|p| CommitPartition {
                                partition: p.partition_index,
                                offset: p.committed_offset,
                                leader_epoch: p.committed_leader_epoch,
                                metadata: p.committed_metadata.map(str::to_string),
                            })
                            .collect();
                        (t.name.to_string(), parts)
                    })
                    .collect(),
            };
            self.groups.commit_offsets(self.now, &commit)
        };
        respond(corr, v, &OffsetCommitResponse { throttle_time_ms: 0, topics: commit_response_topics(&answer) })
    }

    /// Answers OffsetFetch: one group (v1-7) or several (v8), listed partitions or all
    /// committed ones; -1 for a partition without a commit.
    pub(crate) fn offset_fetch(
        &mut self,
        broker_id: i32,
        v: i16,
        corr: i32,
        r: &mut Reader<'_>,
    ) -> Result<Reply, String> {
        let req = OffsetFetchRequest::decode(r, v).map_err(malformed(ApiKey::OffsetFetch, v))?;
        let require_stable = req.require_stable;
        let fetch = |c: &mut Cluster, group: &str, topics: &Option<Vec<OffsetFetchRequestTopic<'_>>>| {
            let gate = c.coordinator_gate(broker_id, group);
            if gate != ErrorCode::NONE {
                return OffsetFetchAnswer { error: gate, topics: Vec::new() };
            }
            let listed: Option<Vec<(String, Vec<i32>)>> = topics
                .as_ref()
                .map(|ts| ts.iter().map(|t| (t.name.to_string(), t.partition_indexes.clone())).collect());
            let mut answer = c.groups.fetch_offsets(group, listed.as_deref());
            if require_stable {
                // KIP-447: an offset a transaction holds pending is not stable yet.
                for (topic, parts) in &mut answer.topics {
                    for p in parts.iter_mut().filter(|p| c.txns.has_pending_offset(group, topic, p.partition)) {
                        p.error = ErrorCode::UNSTABLE_OFFSET_COMMIT;
                        p.offset = -1;
                    }
                }
            }
            answer
        };
        if v >= 8 {
            let answers: Vec<(&str, OffsetFetchAnswer)> =
                req.groups.iter().map(|g| (g.group_id, fetch(self, g.group_id, &g.topics))).collect();
            let groups = answers
                .iter()
                .map(|(id, a)| OffsetFetchResponseGroup {
                    group_id: id,
                    topics: fetched_topics(a),
                    error_code: a.error.0,
                })
                .collect();
            return respond(corr, v, &OffsetFetchResponse { groups, ..Default::default() });
        }
        let a = fetch(self, req.group_id, &req.topics);
        let mut topics = fetched_topics(&a);
        if v < 2 && a.error != ErrorCode::NONE {
            // No top-level error before v2: every listed partition carries it.
            topics = req
                .topics
                .iter()
                .flatten()
                .map(|t| OffsetFetchResponseTopic {
                    name: t.name,
                    partitions: t
                        .partition_indexes
                        .iter()
                        .map(|&p| OffsetFetchResponsePartition {
                            partition_index: p,
                            committed_offset: -1,
                            committed_leader_epoch: -1,
                            metadata: Some(""),
                            error_code: a.error.0,
                        })
                        .collect(),
                })
                .collect();
        }
        respond(corr, v, &OffsetFetchResponse { topics, error_code: a.error.0, ..Default::default() })
    }

    /// Answers ListGroups: the groups this broker coordinates (a client asks every broker), in
    /// the states asked for (v4+; none: all).
    pub(crate) fn list_groups(
        &mut self,
        broker_id: i32,
        v: i16,
        corr: i32,
        r: &mut Reader<'_>,
    ) -> Result<Reply, String> {
        let req = ListGroupsRequest::decode(r, v).map_err(malformed(ApiKey::ListGroups, v))?;
        let live = self.live_brokers();
        let listed = self.groups.list_groups(&req.states_filter);
        let placement = &self.groups.placement;
        let groups = listed
            .iter()
            .filter(|g| placement.coordinator(&g.group_id, &live) == Some(broker_id))
            .map(|g| ListedGroup { group_id: &g.group_id, protocol_type: &g.protocol_type, group_state: g.state })
            .collect();
        respond(corr, v, &ListGroupsResponse { throttle_time_ms: 0, error_code: 0, groups })
    }

    /// Answers DescribeGroups: each group's state, protocol and members (metadata and
    /// assignments while Stable); NOT_COORDINATOR for a group coordinated elsewhere; an
    /// unknown group is `Dead` with no error, as Kafka answers before v6.
    pub(crate) fn describe_groups(
        &mut self,
        broker_id: i32,
        v: i16,
        corr: i32,
        r: &mut Reader<'_>,
    ) -> Result<Reply, String> {
        let req = DescribeGroupsRequest::decode(r, v).map_err(malformed(ApiKey::DescribeGroups, v))?;
        let gates: Vec<ErrorCode> = req.groups.iter().map(|g| self.coordinator_gate(broker_id, g)).collect();
        let described = self.groups.describe_groups(&req.groups);
        let groups = described
            .iter()
            .zip(&gates)
            .map(|(g, gate)| {
                let error = if *gate != ErrorCode::NONE {
                    *gate
                } else if g.error == ErrorCode::GROUP_ID_NOT_FOUND {
                    ErrorCode::NONE
                } else {
                    g.error
                };
                let members = if *gate == ErrorCode::NONE { &g.members[..] } else { &[] };
                DescribedGroup {
                    error_code: error.0,
                    group_id: &g.group_id,
                    group_state: if *gate == ErrorCode::NONE { g.state } else { "" },
                    protocol_type: &g.protocol_type,
                    protocol_data: &g.protocol_data,
                    members: members
                        .iter()
                        .map(|m| DescribedGroupMember {
                            member_id: &m.member_id,
                            group_instance_id: if v >= 4 { m.group_instance_id.as_deref() } else { None },
                            client_id: &m.client_id,
                            client_host: &m.client_host,
                            member_metadata: &m.metadata,
                            member_assignment: &m.assignment,
                        })
                        .collect(),
                    // Kafka's "not requested" (no ACLs here).
                    authorized_operations: if v >= 3 && req.include_authorized_operations { 0 } else { i32::MIN },
                }
            })
            .collect();
        respond(corr, v, &DescribeGroupsResponse { throttle_time_ms: 0, groups })
    }

    /// Fills the response queue entries of every parked JoinGroup and SyncGroup the
    /// coordinator has answered (their connections may have closed meanwhile: then nothing).
    pub(crate) fn deliver_group_answers(&mut self) {
        while let Some(done) = self.groups.poll_completed() {
            let t = done.token;
            let frame = match &done.answer {
                Answer::Join(a) => join_response(t.correlation_id, t.version, a),
                Answer::Sync(a) => sync_response(t.correlation_id, t.version, a),
            };
            let data = match frame {
                Ok(Reply::Respond(data)) => data,
                Ok(_) => continue,
                Err(reason) => {
                    self.close(t.conn, Some(reason));
                    continue;
                }
            };
            let at = self.now + t.delay;
            let Some(c) = self.conns.get_mut(&t.conn) else { continue };
            let slot = c
                .queue
                .iter_mut()
                .find(|p| matches!(p, Pending::Group { correlation_id } if *correlation_id == t.correlation_id));
            if let Some(slot) = slot {
                *slot = Pending::Ready { at, data };
            }
            let (conn, corr) = (t.conn.0, t.correlation_id);
            self.debug(DebugContext::Protocol, || {
                alloc::format!("connection {conn}: parked group request (correlation id {corr}) answered")
            });
        }
    }
}

/// A JoinGroup response frame for `a` at version `v` (the protocol name is `""`, not null,
/// before v7, as Kafka's broker sends it).
fn join_response(corr: i32, v: i16, a: &JoinAnswer) -> Result<Reply, String> {
    let protocol_name = match (&a.protocol_name, v >= 7) {
        (Some(n), _) => Some(n.as_str()),
        (None, true) => None,
        (None, false) => Some(""),
    };
    let body = JoinGroupResponse {
        throttle_time_ms: 0,
        error_code: a.error.0,
        generation_id: a.generation_id,
        protocol_type: a.protocol_type.as_deref(),
        protocol_name,
        leader: &a.leader,
        skip_assignment: false,
        member_id: &a.member_id,
        members: a
            .members
            .iter()
            .map(|m| JoinGroupResponseMember {
                member_id: &m.member_id,
                group_instance_id: if v >= 5 { m.group_instance_id.as_deref() } else { None },
                metadata: &m.metadata,
            })
            .collect(),
    };
    respond(corr, v, &body)
}

/// A SyncGroup response frame for `a` at version `v`.
fn sync_response(corr: i32, v: i16, a: &SyncAnswer) -> Result<Reply, String> {
    let (protocol_type, protocol_name) =
        if v >= 5 { (a.protocol_type.as_deref(), a.protocol_name.as_deref()) } else { (None, None) };
    let body = SyncGroupResponse {
        throttle_time_ms: 0,
        error_code: a.error.0,
        protocol_type,
        protocol_name,
        assignment: &a.assignment,
    };
    respond(corr, v, &body)
}

/// OffsetCommit's (and TxnOffsetCommit's) topics for each partition's code.
pub(crate) fn commit_response_topics(answer: &[(String, Vec<(i32, ErrorCode)>)]) -> Vec<OffsetCommitResponseTopic<'_>> {
    answer
        .iter()
        .map(|(name, parts)| OffsetCommitResponseTopic {
            name,
            partitions: parts
                .iter()
                .map(|(p, e)| OffsetCommitResponsePartition { partition_index: *p, error_code: e.0 })
                .collect(),
        })
        .collect()
}

/// OffsetFetch's topics for an answer.
fn fetched_topics(a: &OffsetFetchAnswer) -> Vec<OffsetFetchResponseTopic<'_>> {
    a.topics
        .iter()
        .map(|(name, parts)| OffsetFetchResponseTopic {
            name,
            partitions: parts
                .iter()
                .map(|p| OffsetFetchResponsePartition {
                    partition_index: p.partition,
                    committed_offset: p.offset,
                    committed_leader_epoch: p.leader_epoch,
                    metadata: Some(&p.metadata),
                    error_code: p.error.0,
                })
                .collect(),
        })
        .collect()
}
