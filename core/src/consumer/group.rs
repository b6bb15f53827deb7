//! The consumer in its group (the Java client's `AbstractCoordinator` and
//! `ConsumerCoordinator`, classic protocol, eager rebalancing): finding the coordinator,
//! JoinGroup (KIP-394's MEMBER_ID_REQUIRED), the leader's range assignment, SyncGroup,
//! Heartbeat, commits (one at a time, retried on coordinator errors), the commit before a
//! revocation, LeaveGroup at close.
//!
//! Errors, as the Java client treats them: NOT_COORDINATOR and COORDINATOR_NOT_AVAILABLE (and a
//! lost coordinator connection) make the coordinator unknown: rediscovered after
//! `retry.backoff.ms`, its connection closed; COORDINATOR_LOAD_IN_PROGRESS is retried after the
//! backoff; REBALANCE_IN_PROGRESS starts the eager revocation (commit, `Revoked`, rejoin);
//! UNKNOWN_MEMBER_ID (the member id is forgotten) and ILLEGAL_GENERATION lose the partitions
//! without a commit and rejoin; FENCED_INSTANCE_ID, GROUP_AUTHORIZATION_FAILED,
//! INVALID_SESSION_TIMEOUT, INVALID_GROUP_ID, GROUP_MAX_SIZE_REACHED, INCONSISTENT_GROUP_PROTOCOL
//! and UNSUPPORTED_VERSION are fatal.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::network::coordinator_key;
use super::{Commit, Consumer, ConsumerError, ConsumerEvent, Part, PartPhase, Phase, Purpose, Req, assignor, protocol};
use crate::producer::ConnId;
use crate::proto::find_coordinator::{FindCoordinatorRequest, FindCoordinatorResponse, KEY_TYPE_GROUP};
use crate::proto::heartbeat::{HeartbeatRequest, HeartbeatResponse};
use crate::proto::join_group::{JoinGroupRequest, JoinGroupRequestProtocol, JoinGroupResponse};
use crate::proto::leave_group::{LeaveGroupRequest, MemberIdentity};
use crate::proto::offset_commit::{
    OffsetCommitRequest, OffsetCommitRequestPartition, OffsetCommitRequestTopic, OffsetCommitResponse,
};
use crate::proto::sync_group::{SyncGroupRequest, SyncGroupRequestAssignment, SyncGroupResponse};
use crate::proto::{self, ApiKey, ErrorCode, Message};
use crate::time::Duration;

/// The one protocol offered, and its type.
const PROTOCOL_TYPE: &str = "consumer";
const ASSIGNOR: &str = "range";

/// What a group error means for the member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// Rediscover the coordinator, then retry.
    Coordinator,
    /// Retry after the backoff.
    Retry,
    /// A rebalance runs: revoke (committing first) and rejoin.
    Rebalance,
    /// The member id is unknown: forget it, lose the partitions, rejoin.
    UnknownMember,
    /// The generation is stale: lose the partitions, rejoin with the same member id.
    IllegalGeneration,
    /// Stop for good.
    Fatal,
}

fn verdict(code: ErrorCode) -> Verdict {
    match code {
        ErrorCode::NOT_COORDINATOR | ErrorCode::COORDINATOR_NOT_AVAILABLE => Verdict::Coordinator,
        ErrorCode::REBALANCE_IN_PROGRESS => Verdict::Rebalance,
        ErrorCode::UNKNOWN_MEMBER_ID => Verdict::UnknownMember,
        ErrorCode::ILLEGAL_GENERATION => Verdict::IllegalGeneration,
        ErrorCode::FENCED_INSTANCE_ID
        | ErrorCode::GROUP_AUTHORIZATION_FAILED
        | ErrorCode::INVALID_SESSION_TIMEOUT
        | ErrorCode::INVALID_GROUP_ID
        | ErrorCode::GROUP_MAX_SIZE_REACHED
        | ErrorCode::INCONSISTENT_GROUP_PROTOCOL
        | ErrorCode::UNSUPPORTED_VERSION => Verdict::Fatal,
        _ => Verdict::Retry,
    }
}

impl Consumer {
    /// The group's part of a drive pass.
    pub(super) fn drive_group(&mut self) {
        let now = self.now;
        let idle = self.commits.is_empty() && !self.commit_in_flight;
        if self.closing.is_some() && idle && self.member.id.is_empty() {
            // Nothing to commit and no member to remove: done.
            self.finish_close();
            return;
        }
        if self.auto_commit_at.is_some_and(|t| t <= now) {
            self.auto_commit_at = Some(now + self.config.auto_commit_interval);
            if self.member.phase == Phase::Stable && self.commits.is_empty() && self.closing.is_none() {
                self.queue_commit(Purpose::User);
            }
        }
        if self.coord.node.is_none() {
            self.find_coordinator();
            return;
        }
        let Some(conn) = self.coordinator_conn() else { return };
        self.send_commit(conn);
        if self.finished {
            return;
        }
        if self.closing.is_some() {
            if self.commits.is_empty() && !self.commit_in_flight {
                self.leave(conn);
            }
            return;
        }
        match self.member.phase {
            Phase::Unjoined if self.member.join_at <= now => self.join(conn),
            // Heartbeats go on while the revocation commits (the Java client's heartbeat thread
            // does), so that a slow commit does not cost the session.
            Phase::Stable | Phase::Revoking if !self.member.heartbeat_in_flight && self.member.heartbeat_at <= now => {
                self.heartbeat(conn)
            }
            _ => {}
        }
        if self.member.phase == Phase::Stable {
            self.fetch_committed(conn);
        }
    }

    /// Sends `body` on `conn` as `kind`; false if it does not encode.
    pub(super) fn send<'a, M: Message<'a>>(
        &mut self,
        conn: ConnId,
        version: i16,
        body: &M,
        kind: Req,
        timeout: Duration,
    ) -> bool {
        match self.conns.request(conn, version, body, kind, self.now, timeout) {
            Ok(data) => {
                self.transmit(conn, data);
                true
            }
            Err(_) => false,
        }
    }

    /// The version of `api` on `conn` if it can carry `group.instance.id` (from `min_static`)
    /// when one is set; else the consumer stops.
    fn group_version(&mut self, conn: ConnId, api: ApiKey, min_static: i16) -> Option<i16> {
        let v = self.version(conn, api)?;
        if self.config.group_instance_id.is_some() && v < min_static {
            self.fail(ConsumerError::UnsupportedBroker { api_key: api.as_i16() });
            return None;
        }
        Some(v)
    }

    fn find_coordinator(&mut self) {
        if self.coord.finding || self.coord.retry_at.is_some_and(|t| t > self.now) {
            return;
        }
        let Some(conn) = self.control_conn() else { return };
        let Some(v) = self.version(conn, ApiKey::FindCoordinator) else { return };
        let group = self.config.group_id.clone();
        let req = FindCoordinatorRequest::one(v, KEY_TYPE_GROUP, group.as_str());
        if self.send(conn, v, &req, Req::FindCoordinator, self.config.request_timeout) {
            self.coord.finding = true;
        }
    }

    pub(super) fn find_coordinator_failed(&mut self) {
        self.coord.finding = false;
        self.coord.retry_at = Some(self.retry.next_at(self.now, self.coord.failures, &mut self.rng));
        self.coord.failures = self.coord.failures.saturating_add(1);
    }

    pub(super) fn on_find_coordinator(&mut self, body: &[u8], version: i16) -> bool {
        let Ok((_, r)) = proto::decode_response::<FindCoordinatorResponse<'_>>(body, version) else {
            self.find_coordinator_failed();
            return false;
        };
        self.coord.finding = false;
        let (code, node, host, port) = r.answer(version);
        let code = ErrorCode(code);
        if code == ErrorCode::GROUP_AUTHORIZATION_FAILED {
            self.fail(ConsumerError::Group(code));
            return true;
        }
        match u16::try_from(port) {
            Ok(port) if code.is_ok() && node >= 0 && !host.is_empty() => {
                self.coord.node = Some((node, host.to_string(), port));
                self.coord.failures = 0;
                self.coord.retry_at = None;
            }
            _ => self.find_coordinator_failed(),
        }
        true
    }

    /// The coordinator is no longer known: its connection is closed (what was outstanding on it
    /// is handled as unanswered) and it is looked up again after the backoff.
    pub(super) fn coordinator_unknown(&mut self) {
        let Some((node, _, _)) = self.coord.node.take() else { return };
        self.coord.retry_at = Some(self.retry.next_at(self.now, self.coord.failures, &mut self.rng));
        self.coord.failures = self.coord.failures.saturating_add(1);
        if let Some(c) = self.conns.for_node(coordinator_key(node)) {
            let id = c.id;
            self.drop_conn(id, true);
        }
    }

    /// Acts on a group error that is not for the request alone.
    fn on_group_error(&mut self, code: ErrorCode) {
        match verdict(code) {
            Verdict::Coordinator => self.coordinator_unknown(),
            Verdict::Retry => {}
            Verdict::Rebalance => self.start_revocation(),
            Verdict::UnknownMember => self.lose_partitions(true),
            Verdict::IllegalGeneration => self.lose_partitions(false),
            Verdict::Fatal => self.fail(ConsumerError::Group(code)),
        }
    }

    /// JoinGroup or SyncGroup answered `code`: when and how to join again (the Java client's
    /// `JoinGroupResponseHandler` / `SyncGroupResponseHandler`).
    fn rejoin_after(&mut self, code: ErrorCode) {
        match verdict(code) {
            Verdict::Rebalance => self.member.join_at = self.now,
            Verdict::UnknownMember => {
                self.member.id.clear();
                self.member.generation = -1;
                self.member.join_at = self.now;
            }
            Verdict::IllegalGeneration => {
                self.member.generation = -1;
                self.member.join_at = self.now;
            }
            Verdict::Fatal => self.fail(ConsumerError::Group(code)),
            Verdict::Coordinator => {
                self.coordinator_unknown();
                self.join_backoff();
            }
            Verdict::Retry => self.join_backoff(),
        }
    }

    pub(super) fn join_backoff(&mut self) {
        self.member.join_at = self.retry.next_at(self.now, self.member.join_failures, &mut self.rng);
        self.member.join_failures = self.member.join_failures.saturating_add(1);
    }

    fn join(&mut self, conn: ConnId) {
        let Some(v) = self.group_version(conn, ApiKey::JoinGroup, 5) else { return };
        let rebalance_ms = self.config.max_poll_interval.as_millis().min(i32::MAX as u64) as i32;
        let subscription = core::mem::take(&mut self.subscription);
        let member = self.member.id.clone();
        let group = self.config.group_id.clone();
        let instance = self.config.group_instance_id.clone();
        let req = JoinGroupRequest {
            group_id: &group,
            session_timeout_ms: self.config.session_timeout.as_millis().min(i32::MAX as u64) as i32,
            rebalance_timeout_ms: if v >= 1 { rebalance_ms } else { -1 },
            member_id: &member,
            group_instance_id: instance.as_deref(),
            protocol_type: PROTOCOL_TYPE,
            protocols: vec![JoinGroupRequestProtocol { name: ASSIGNOR, metadata: &subscription }],
            reason: None,
        };
        // The coordinator holds JoinGroup until every member rejoined (the rebalance timeout).
        let timeout = self.config.request_timeout.max(self.config.max_poll_interval + Duration::from_secs(5));
        let sent = self.send(conn, v, &req, Req::JoinGroup, timeout);
        self.subscription = subscription;
        if sent {
            self.member.phase = Phase::Joining;
        } else {
            self.fail(ConsumerError::InvalidAssignment);
        }
    }

    pub(super) fn on_join_group(&mut self, body: &[u8], version: i16) -> bool {
        let Ok((_, r)) = proto::decode_response::<JoinGroupResponse<'_>>(body, version) else { return false };
        if self.member.phase != Phase::Joining {
            return true;
        }
        self.member.phase = Phase::Unjoined;
        let code = ErrorCode(r.error_code);
        if code == ErrorCode::MEMBER_ID_REQUIRED {
            // KIP-394: join again at once with the id given.
            self.member.id = r.member_id.to_string();
            self.member.join_at = self.now;
            return true;
        }
        if !code.is_ok() {
            self.rejoin_after(code);
            return true;
        }
        if r.protocol_name.is_some_and(|p| p != ASSIGNOR) {
            self.fail(ConsumerError::InvalidAssignment);
            return true;
        }
        self.member.id = r.member_id.to_string();
        self.member.generation = r.generation_id;
        self.member.join_failures = 0;
        self.assigned_counts = None;
        if r.leader == r.member_id {
            let members: Vec<(String, Vec<String>)> = r
                .members
                .iter()
                .map(|m| (m.member_id.to_string(), protocol::decode_subscription(m.metadata).unwrap_or_default()))
                .collect();
            for t in members.iter().flat_map(|(_, ts)| ts) {
                if self.metadata.topic(t).is_none() {
                    self.metadata.add_topic(t);
                }
            }
            self.member.phase = Phase::Assigning(members);
            self.assign_if_ready(false);
        } else {
            self.member.phase = Phase::Assigning(Vec::new());
            self.assign_if_ready(true);
        }
        true
    }

    /// The leader assigns once the metadata knows every member's topics (or a fresh answer
    /// says they are missing: those get nothing); then SyncGroup. `fresh`: a Metadata answer
    /// has just come (or nothing is to be assigned).
    pub(super) fn assign_if_ready(&mut self, fresh: bool) {
        let Phase::Assigning(members) = &self.member.phase else { return };
        let all_known = members
            .iter()
            .flat_map(|(_, ts)| ts)
            .all(|t| self.metadata.topic(t).and_then(|i| self.metadata.topics[i].partition_count()).is_some());
        if !all_known && !fresh {
            self.metadata.request_refresh();
            return;
        }
        let Phase::Assigning(members) = core::mem::replace(&mut self.member.phase, Phase::Syncing) else { return };
        let plan = assignor::range_assign(&members, |t| self.partition_count(t));
        self.assigned_counts = (!members.is_empty()).then(|| self.subscribed_counts(&members));
        let mut encoded = Vec::with_capacity(plan.len());
        for (member, parts) in &plan {
            match protocol::encode_assignment(parts) {
                Ok(bytes) => encoded.push((member.clone(), bytes)),
                Err(_) => {
                    self.fail(ConsumerError::InvalidAssignment);
                    return;
                }
            }
        }
        let Some(conn) = self.coordinator_conn() else {
            self.member.phase = Phase::Unjoined;
            self.join_backoff();
            return;
        };
        let Some(v) = self.group_version(conn, ApiKey::SyncGroup, 3) else { return };
        let (group, member, instance) =
            (self.config.group_id.clone(), self.member.id.clone(), self.config.group_instance_id.clone());
        let req = SyncGroupRequest {
            group_id: &group,
            generation_id: self.member.generation,
            member_id: &member,
            group_instance_id: instance.as_deref(),
            protocol_type: (v >= 5).then_some(PROTOCOL_TYPE),
            protocol_name: (v >= 5).then_some(ASSIGNOR),
            assignments: encoded
                .iter()
                .map(|(m, a)| SyncGroupRequestAssignment { member_id: m, assignment: a })
                .collect(),
        };
        let timeout = self.config.request_timeout.max(self.config.max_poll_interval + Duration::from_secs(5));
        if !self.send(conn, v, &req, Req::SyncGroup, timeout) {
            self.member.phase = Phase::Unjoined;
            self.join_backoff();
        }
    }

    /// A topic's partition count, once the metadata knows it.
    fn partition_count(&self, topic: &str) -> Option<u32> {
        self.metadata.topic(topic).and_then(|i| self.metadata.topics.get(i)).and_then(|m| m.partition_count())
    }

    /// The partition count of every topic the members subscribe to, in name order.
    fn subscribed_counts(&self, members: &[(String, Vec<String>)]) -> Vec<(String, Option<u32>)> {
        let topics: alloc::collections::BTreeSet<&String> = members.iter().flat_map(|(_, ts)| ts).collect();
        topics.into_iter().map(|t| (t.clone(), self.partition_count(t))).collect()
    }

    /// After a Metadata answer: the leader of a stable group whose topics' partition counts
    /// changed since it assigned rejoins (committing and revoking first), as the Java client's
    /// `ConsumerCoordinator` does when its metadata snapshot no longer matches.
    pub(super) fn check_assigned_metadata(&mut self) {
        let Some(counts) = &self.assigned_counts else { return };
        if self.member.phase != Phase::Stable || counts.iter().all(|(t, n)| self.partition_count(t) == *n) {
            return;
        }
        self.assigned_counts = None;
        self.start_revocation();
    }

    pub(super) fn on_sync_group(&mut self, body: &[u8], version: i16) -> bool {
        let Ok((_, r)) = proto::decode_response::<SyncGroupResponse<'_>>(body, version) else { return false };
        if self.member.phase != Phase::Syncing {
            return true;
        }
        self.member.phase = Phase::Unjoined;
        let code = ErrorCode(r.error_code);
        if !code.is_ok() {
            self.rejoin_after(code);
            return true;
        }
        let Ok(assigned) = protocol::decode_assignment(r.assignment) else {
            self.fail(ConsumerError::InvalidAssignment);
            return true;
        };
        let mut partitions: Vec<(String, i32)> =
            assigned.into_iter().flat_map(|(t, ps)| ps.into_iter().map(move |p| (t.clone(), p))).collect();
        partitions.sort();
        partitions.dedup();
        self.epoch += 1;
        self.parts = partitions
            .iter()
            .map(|(t, p)| Part {
                topic: t.clone(),
                partition: *p,
                position: -1,
                phase: PartPhase::Committed,
                fetching: false,
                retry_at: None,
                failures: 0,
            })
            .collect();
        for (t, _) in &partitions {
            if self.metadata.topic(t).is_none() {
                self.metadata.add_topic(t);
            }
        }
        self.offsets_in_flight = false;
        self.offsets_retry_at = None;
        self.member.phase = Phase::Stable;
        self.member.heartbeat_at = self.now + self.config.heartbeat_interval;
        self.event(ConsumerEvent::Assigned { generation: self.member.generation, partitions });
        true
    }

    fn heartbeat(&mut self, conn: ConnId) {
        let Some(v) = self.group_version(conn, ApiKey::Heartbeat, 3) else { return };
        let (group, member, instance) =
            (self.config.group_id.clone(), self.member.id.clone(), self.config.group_instance_id.clone());
        let generation = self.member.generation;
        let req = HeartbeatRequest {
            group_id: &group,
            generation_id: generation,
            member_id: &member,
            group_instance_id: instance.as_deref(),
        };
        if self.send(conn, v, &req, Req::Heartbeat(generation), self.config.request_timeout) {
            self.member.heartbeat_in_flight = true;
            self.member.heartbeat_at = self.now + self.config.heartbeat_interval;
        }
    }

    pub(super) fn on_heartbeat(&mut self, body: &[u8], version: i16, generation: i32) -> bool {
        let Ok((_, r)) = proto::decode_response::<HeartbeatResponse>(body, version) else { return false };
        self.member.heartbeat_in_flight = false;
        let code = ErrorCode(r.error_code);
        if code.is_ok() || generation != self.member.generation {
            return true;
        }
        // A failed heartbeat is tried again after retry.backoff.ms, not a whole interval (the
        // Java client's `Heartbeat.failHeartbeat`): coordinator moves must not cost the session.
        if matches!(verdict(code), Verdict::Coordinator | Verdict::Retry) {
            self.heartbeat_failed();
        }
        // While revoking only a coordinator to find again or a fatal error matter: the commit
        // under way answers for the generation.
        if self.member.phase == Phase::Stable || matches!(verdict(code), Verdict::Coordinator | Verdict::Fatal) {
            self.on_group_error(code);
        }
        true
    }

    /// The heartbeat failed or went unanswered: the next one after the backoff.
    pub(super) fn heartbeat_failed(&mut self) {
        self.member.heartbeat_in_flight = false;
        let at = self.retry.next_at(self.now, 0, &mut self.rng);
        self.member.heartbeat_at = self.member.heartbeat_at.min(at);
    }

    /// REBALANCE_IN_PROGRESS while stable: stop handing out records, commit the positions
    /// (waiting for the answer), then revoke and rejoin.
    pub(super) fn start_revocation(&mut self) {
        if self.member.phase != Phase::Stable {
            return;
        }
        self.member.phase = Phase::Revoking;
        self.queue_commit(Purpose::Revoke);
    }

    /// A commit of `purpose` is over (answered, failed or needless).
    pub(super) fn commit_done(&mut self, purpose: Purpose) {
        match purpose {
            Purpose::User => {}
            Purpose::Revoke => {
                if self.member.phase == Phase::Revoking {
                    self.revoke_all();
                    self.member.phase = Phase::Unjoined;
                    self.member.join_at = self.now;
                }
            }
            Purpose::Close => {}
        }
    }

    /// Emits `Revoked` for every assigned partition and forgets them.
    pub(super) fn revoke_all(&mut self) {
        self.epoch += 1;
        let parts = core::mem::take(&mut self.parts);
        if !parts.is_empty() {
            self.event(ConsumerEvent::Revoked {
                partitions: parts.into_iter().map(|p| (p.topic, p.partition)).collect(),
            });
        }
    }

    /// The coordinator no longer knows the member (or its generation): the partitions are lost
    /// without a commit, and the member rejoins (with a new member id when `forget_id`).
    pub(super) fn lose_partitions(&mut self, forget_id: bool) {
        if forget_id {
            self.member.id.clear();
        }
        self.member.generation = -1;
        self.revoke_all();
        self.member.phase = Phase::Unjoined;
        self.member.join_at = self.now;
    }

    /// Sends the next commit when none is outstanding.
    fn send_commit(&mut self, conn: ConnId) {
        if self.commit_in_flight || self.commit_retry_at.is_some_and(|t| t > self.now) {
            return;
        }
        let Some(commit) = self.commits.front() else { return };
        if commit.generation != self.member.generation {
            // The generation it was made in is over: the coordinator would refuse it.
            if let Some(c) = self.commits.pop_front() {
                self.commit_failed(&c, ErrorCode::ILLEGAL_GENERATION);
            }
            return;
        }
        let Some(v) = self.group_version(conn, ApiKey::OffsetCommit, 7) else { return };
        let Some(commit) = self.commits.front() else { return };
        let mut topics: Vec<OffsetCommitRequestTopic<'_>> = Vec::new();
        for ((t, p), offset) in &commit.offsets {
            let part =
                OffsetCommitRequestPartition { partition_index: *p, committed_offset: *offset, ..Default::default() };
            match topics.iter_mut().find(|x| x.name == t.as_str()) {
                Some(x) => x.partitions.push(part),
                None => topics.push(OffsetCommitRequestTopic { name: t, partitions: vec![part] }),
            }
        }
        let req = OffsetCommitRequest {
            group_id: &self.config.group_id,
            generation_id: commit.generation,
            member_id: &self.member.id,
            group_instance_id: self.config.group_instance_id.as_deref(),
            retention_time_ms: -1,
            topics,
        };
        let result = self.conns.request(conn, v, &req, Req::OffsetCommit, self.now, self.config.request_timeout);
        match result {
            Ok(data) => {
                self.transmit(conn, data);
                self.commit_in_flight = true;
            }
            Err(_) => {
                if let Some(c) = self.commits.pop_front() {
                    self.commit_failed(&c, ErrorCode::INVALID_COMMIT_OFFSET_SIZE);
                }
            }
        }
    }

    /// The outstanding commit was not answered: tried again after the backoff.
    pub(super) fn commit_retry(&mut self) {
        self.commit_in_flight = false;
        self.commit_retry_at = Some(self.retry.next_at(self.now, self.commit_failures, &mut self.rng));
        self.commit_failures = self.commit_failures.saturating_add(1);
    }

    /// A commit is refused for good: said (whatever its purpose), then what follows it goes on.
    fn commit_failed(&mut self, commit: &Commit, error: ErrorCode) {
        self.event(ConsumerEvent::CommitFailed { error });
        self.commit_done(commit.purpose);
    }

    pub(super) fn on_offset_commit(&mut self, body: &[u8], version: i16) -> bool {
        let Ok((_, r)) = proto::decode_response::<OffsetCommitResponse<'_>>(body, version) else { return false };
        self.commit_in_flight = false;
        let Some(commit) = self.commits.pop_front() else { return true };
        let error = r.topics.iter().flat_map(|t| &t.partitions).map(|p| ErrorCode(p.error_code)).find(|c| !c.is_ok());
        let Some(code) = error else {
            self.commit_failures = 0;
            self.commit_retry_at = None;
            let purpose = commit.purpose;
            self.event(ConsumerEvent::Committed { offsets: commit.offsets });
            self.commit_done(purpose);
            return true;
        };
        let v = verdict(code);
        let transient = matches!(
            code,
            ErrorCode::COORDINATOR_LOAD_IN_PROGRESS | ErrorCode::REQUEST_TIMED_OUT | ErrorCode::NETWORK_EXCEPTION
        );
        if v == Verdict::Coordinator || transient {
            if v == Verdict::Coordinator {
                self.coordinator_unknown();
            }
            self.commits.push_front(commit);
            self.commit_retry();
            return true;
        }
        self.commit_failed(&commit, code);
        if commit.generation == self.member.generation {
            match v {
                Verdict::Rebalance => self.start_revocation(),
                Verdict::UnknownMember => self.lose_partitions(true),
                Verdict::IllegalGeneration => self.lose_partitions(false),
                Verdict::Fatal => self.fail(ConsumerError::Group(code)),
                Verdict::Coordinator | Verdict::Retry => {}
            }
        }
        true
    }

    /// LeaveGroup (once), or the end of `close` when there is no member to remove.
    fn leave(&mut self, conn: ConnId) {
        if self.leave_sent {
            return;
        }
        self.leave_sent = true;
        // A static member does not leave (KIP-345): its place, and its partitions, wait for it
        // until its session expires, so that a restart within it causes no rebalance.
        if self.member.id.is_empty() || self.config.group_instance_id.is_some() {
            self.finish_close();
            return;
        }
        let Some(v) = self.version(conn, ApiKey::LeaveGroup) else { return };
        let (group, member, instance) =
            (self.config.group_id.clone(), self.member.id.clone(), self.config.group_instance_id.clone());
        let req = if v >= 3 {
            LeaveGroupRequest {
                group_id: &group,
                member_id: "",
                members: vec![MemberIdentity {
                    member_id: &member,
                    group_instance_id: instance.as_deref(),
                    reason: None,
                }],
            }
        } else {
            LeaveGroupRequest { group_id: &group, member_id: &member, members: Vec::new() }
        };
        if !self.send(conn, v, &req, Req::LeaveGroup, self.config.request_timeout) {
            self.finish_close();
        }
    }

    /// The end of `close`: `Revoked` for what is still assigned, every connection closed, `Closed`.
    pub(super) fn finish_close(&mut self) {
        if self.finished || self.closing.is_none() {
            return;
        }
        self.revoke_all();
        self.event(ConsumerEvent::Closed);
        self.close_all();
    }
}
