//! One group's classic-protocol state machine (Kafka's `ClassicGroup` and the per-group rules
//! of its `GroupMetadataManager`): membership, generations, the leader's assignment, sessions.

use super::GroupConfig;
use super::api::*;
use super::offsets::CommittedOffsets;
use crate::proto::ErrorCode;
use crate::rand::Rng;
use crate::time::{Duration, Instant};
use alloc::collections::{BTreeSet, VecDeque};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// A group's state, as Kafka names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum GroupState {
    /// No members (offsets may remain).
    Empty,
    /// Waiting for the members to (re)join.
    PreparingRebalance,
    /// Joined: waiting for the leader's assignment.
    CompletingRebalance,
    /// Assigned.
    Stable,
    /// Removed (what DescribeGroups says of an unknown group).
    Dead,
}

impl GroupState {
    /// The state's name as Kafka spells it.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }
}

/// A parked request: its token, or `None` once its connection closed (the member still counts
/// as waiting, as in Kafka, where the answer goes to a closed connection).
#[derive(Clone, Debug)]
pub(crate) struct Waiter<T> {
    /// The caller's token, `None` once dropped.
    pub(crate) token: Option<T>,
}

/// One member.
#[derive(Clone, Debug)]
pub(crate) struct Member<T> {
    /// Its member id.
    pub(crate) member_id: String,
    /// Its `group.instance.id` (a static member).
    pub(crate) group_instance_id: Option<String>,
    /// The client id of its last join.
    pub(crate) client_id: String,
    /// The client host of its last join.
    pub(crate) client_host: String,
    /// `session.timeout.ms`.
    pub(crate) session_timeout: Duration,
    /// The rebalance timeout (`max.poll.interval.ms`).
    pub(crate) rebalance_timeout: Duration,
    /// Its protocols, preferred first.
    pub(crate) protocols: Vec<JoinProtocol>,
    /// The assignment of the current generation (set by the leader's SyncGroup).
    pub(crate) assignment: Option<Vec<u8>>,
    /// When the session expires unless a heartbeat (or a parked request) keeps it.
    pub(crate) session_deadline: Instant,
    /// Its parked JoinGroup (it has rejoined this rebalance).
    pub(crate) awaiting_join: Option<Waiter<T>>,
    /// Its parked SyncGroup.
    pub(crate) awaiting_sync: Option<Waiter<T>>,
}

impl<T> Member<T> {
    fn metadata(&self, protocol: Option<&str>) -> Vec<u8> {
        self.protocols
            .iter()
            .find(|p| Some(p.name.as_str()) == protocol)
            .map(|p| p.metadata.clone())
            .unwrap_or_default()
    }

    fn supports(&self, protocol: &str) -> bool {
        self.protocols.iter().any(|p| p.name == protocol)
    }

    fn same_protocols(&self, protocols: &[JoinProtocol]) -> bool {
        self.protocols == protocols
    }
}

/// A member that got MEMBER_ID_REQUIRED and has not joined with its id yet.
#[derive(Clone, Debug)]
pub(crate) struct PendingMember {
    /// The id it was given.
    pub(crate) member_id: String,
    /// When it is forgotten if it has not joined (its session timeout).
    pub(crate) deadline: Instant,
}

/// The initial rebalance delay of a group that was Empty (Kafka's `InitialDelayedJoin`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct InitialDelay {
    /// When it ends (or extends, if members came meanwhile).
    until: Instant,
    /// Rebalance time left after `until`.
    remaining: Duration,
    new_member_added: bool,
}

/// What a group operation needs from the coordinator.
pub(crate) struct Cx<'a, T> {
    /// The limits and timings.
    pub(crate) config: &'a GroupConfig,
    /// Where member ids come from.
    pub(crate) rng: &'a mut Rng,
    /// Where parked requests' answers go.
    pub(crate) out: &'a mut VecDeque<Completed<T>>,
}

impl<T> Cx<'_, T> {
    fn answer(&mut self, waiter: Option<Waiter<T>>, answer: Answer) {
        if let Some(token) = waiter.and_then(|w| w.token) {
            self.out.push_back(Completed { token, answer });
        }
    }

    /// `<prefix>-<uuid>` from the seeded generator (Kafka: client id or instance id + UUID).
    fn new_member_id(&mut self, prefix: &str) -> String {
        let (a, b) = (self.rng.next_u64(), self.rng.next_u64());
        let a = (a & !0xF000) | 0x4000; // version 4
        let b = (b & !(0xC << 60)) | (0x8 << 60); // variant 10
        format!(
            "{prefix}-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFFF,
            b >> 48,
            b & 0xFFFF_FFFF_FFFF
        )
    }
}

/// One group.
#[derive(Clone, Debug)]
pub(crate) struct Group<T> {
    /// The group id.
    pub(crate) group_id: String,
    /// Its state.
    pub(crate) state: GroupState,
    /// The current generation (0 before the first rebalance).
    pub(crate) generation_id: i32,
    /// The protocol type of its members (`consumer`).
    pub(crate) protocol_type: Option<String>,
    /// The protocol chosen for the current generation.
    pub(crate) protocol_name: Option<String>,
    /// The leader's member id (a member whenever there are members).
    pub(crate) leader_id: Option<String>,
    /// Members in the order they joined.
    pub(crate) members: Vec<Member<T>>,
    /// Members-to-be that got MEMBER_ID_REQUIRED.
    pub(crate) pending: Vec<PendingMember>,
    /// Members of this generation whose SyncGroup has not come yet.
    pub(crate) pending_sync: BTreeSet<String>,
    /// When a PreparingRebalance gives up on members that did not rejoin.
    pub(crate) rebalance_deadline: Option<Instant>,
    /// The initial rebalance delay, while it runs.
    pub(crate) initial_delay: Option<InitialDelay>,
    /// When members that did not sync are removed.
    pub(crate) sync_deadline: Option<Instant>,
    /// Its committed offsets.
    pub(crate) offsets: CommittedOffsets,
    /// Rebalances completed (generations begun), for the invariants.
    pub(crate) rebalances: u64,
}

impl<T> Group<T> {
    /// A new Empty group.
    pub(crate) fn new(group_id: &str) -> Self {
        Group {
            group_id: String::from(group_id),
            state: GroupState::Empty,
            generation_id: 0,
            protocol_type: None,
            protocol_name: None,
            leader_id: None,
            members: Vec::new(),
            pending: Vec::new(),
            pending_sync: BTreeSet::new(),
            rebalance_deadline: None,
            initial_delay: None,
            sync_deadline: None,
            offsets: CommittedOffsets::default(),
            rebalances: 0,
        }
    }

    fn index(&self, member_id: &str) -> Option<usize> {
        self.members.iter().position(|m| m.member_id == member_id)
    }

    fn static_index(&self, instance_id: &str) -> Option<usize> {
        self.members.iter().position(|m| m.group_instance_id.as_deref() == Some(instance_id))
    }

    /// Whether a static member with this `group.instance.id` is in the group.
    pub(crate) fn has_static_member(&self, instance_id: &str) -> bool {
        self.static_index(instance_id).is_some()
    }

    fn is_leader(&self, member_id: &str) -> bool {
        self.leader_id.as_deref() == Some(member_id)
    }

    /// Whether the group holds nothing worth keeping (no member, pending member or offset).
    pub(crate) fn is_disposable(&self) -> bool {
        self.state == GroupState::Empty && self.pending.is_empty() && self.offsets.is_empty()
    }

    /// Members plus pending members (what `group.max.size` bounds).
    pub(crate) fn size(&self) -> usize {
        self.members.len() + self.pending.len()
    }

    /// Kafka's `validateMember`: UNKNOWN_MEMBER_ID or FENCED_INSTANCE_ID, else the member's index.
    fn validate_member(&self, member_id: &str, instance_id: Option<&str>) -> Result<usize, ErrorCode> {
        if let Some(instance) = instance_id {
            let i = self.static_index(instance).ok_or(ErrorCode::UNKNOWN_MEMBER_ID)?;
            return if self.members[i].member_id == member_id { Ok(i) } else { Err(ErrorCode::FENCED_INSTANCE_ID) };
        }
        self.index(member_id).ok_or(ErrorCode::UNKNOWN_MEMBER_ID)
    }

    /// `validate_member`, then ILLEGAL_GENERATION unless `generation_id` is the current one.
    fn member_of_generation(
        &self,
        member_id: &str,
        instance_id: Option<&str>,
        generation_id: i32,
    ) -> Result<usize, ErrorCode> {
        let i = self.validate_member(member_id, instance_id)?;
        if generation_id != self.generation_id {
            return Err(ErrorCode::ILLEGAL_GENERATION);
        }
        Ok(i)
    }

    /// Member `i` showed it is alive: its session restarts.
    fn touch(&mut self, i: usize, now: Instant) {
        let m = &mut self.members[i];
        m.session_deadline = now + m.session_timeout;
    }

    /// Whether a member with these protocols may join (Kafka's `supportsProtocols`).
    fn supports_protocols(&self, protocol_type: &str, protocols: &[JoinProtocol]) -> bool {
        if protocol_type.is_empty() || protocols.is_empty() {
            return false;
        }
        if self.members.is_empty() {
            return true;
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols.iter().any(|p| self.members.iter().all(|m| m.supports(&p.name)))
    }

    /// Kafka's vote: among the protocols every member supports, each member votes for the first
    /// in its own order; most votes wins, ties to the leader's (first member's) order.
    fn select_protocol(&self) -> Option<String> {
        let first = self.leader_id.as_deref().and_then(|l| self.index(l)).or(if self.members.is_empty() {
            None
        } else {
            Some(0)
        })?;
        let candidates: Vec<&str> = self.members[first]
            .protocols
            .iter()
            .map(|p| p.name.as_str())
            .filter(|name| self.members.iter().all(|m| m.supports(name)))
            .collect();
        let votes = |name: &str| {
            self.members
                .iter()
                .filter(|m| {
                    m.protocols.iter().find(|p| candidates.contains(&p.name.as_str())).is_some_and(|p| p.name == name)
                })
                .count()
        };
        let mut best: Option<(&str, usize)> = None;
        for &c in &candidates {
            let v = votes(c);
            if best.is_none_or(|(_, bv)| v > bv) {
                best = Some((c, v));
            }
        }
        // Every member shares a protocol (the joins check it); fall back to the first member's.
        best.map(|(c, _)| String::from(c)).or_else(|| self.members[first].protocols.first().map(|p| p.name.clone()))
    }

    fn max_rebalance_timeout(&self) -> Duration {
        self.members.iter().map(|m| m.rebalance_timeout).max().unwrap_or(Duration::ZERO)
    }

    /// The current generation's JoinGroup answer for member `i` (members listed for the leader).
    fn generation_answer(&self, i: usize) -> JoinAnswer {
        let m = &self.members[i];
        let members = if self.is_leader(&m.member_id) { self.join_members() } else { Vec::new() };
        JoinAnswer {
            error: ErrorCode::NONE,
            generation_id: self.generation_id,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            leader: self.leader_id.clone().unwrap_or_default(),
            member_id: m.member_id.clone(),
            members,
        }
    }

    fn join_members(&self) -> Vec<JoinMember> {
        self.members
            .iter()
            .map(|m| JoinMember {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                metadata: m.metadata(self.protocol_name.as_deref()),
            })
            .collect()
    }

    fn new_member(req: &JoinRequest, member_id: String, now: Instant, token: T) -> Member<T> {
        let session_timeout = Duration::from_millis(req.session_timeout_ms.max(0) as u64);
        Member {
            member_id,
            group_instance_id: req.group_instance_id.clone(),
            client_id: req.client_id.clone(),
            client_host: req.client_host.clone(),
            session_timeout,
            rebalance_timeout: Duration::from_millis(req.rebalance_timeout_ms.max(0) as u64),
            protocols: req.protocols.clone(),
            assignment: None,
            session_deadline: now + session_timeout,
            awaiting_join: Some(Waiter { token: Some(token) }),
            awaiting_sync: None,
        }
    }

    // ---------------------------------------------------------------- JoinGroup

    /// JoinGroup (the coordinator checked the group id, the session timeout and the size).
    pub(crate) fn join(
        &mut self,
        now: Instant,
        req: JoinRequest,
        token: T,
        cx: &mut Cx<'_, T>,
    ) -> Deferred<JoinAnswer> {
        let error = |e| Deferred::Now(JoinAnswer::error(&req.member_id, e));
        if self.state == GroupState::Dead {
            return error(ErrorCode::COORDINATOR_NOT_AVAILABLE);
        }
        if !self.supports_protocols(&req.protocol_type, &req.protocols) {
            return error(ErrorCode::INCONSISTENT_GROUP_PROTOCOL);
        }
        if req.member_id.is_empty() {
            return self.join_unknown(now, req, token, cx);
        }
        if let Some(p) = self.pending.iter().position(|p| p.member_id == req.member_id) {
            if req.group_instance_id.is_some() {
                // Static members never get MEMBER_ID_REQUIRED: not a real client.
                return error(ErrorCode::UNKNOWN_MEMBER_ID);
            }
            let id = self.pending.remove(p).member_id;
            return self.add_member_and_rebalance(now, id, &req, token, cx);
        }
        let i = match self.validate_member(&req.member_id, req.group_instance_id.as_deref()) {
            Ok(i) => i,
            Err(ErrorCode::UNKNOWN_MEMBER_ID) if req.group_instance_id.is_some() => {
                // An instance id the group does not know, with a member id it may know.
                match self.index(&req.member_id) {
                    Some(i) => i,
                    None => return error(ErrorCode::UNKNOWN_MEMBER_ID),
                }
            }
            Err(e) => return error(e),
        };
        match self.state {
            GroupState::PreparingRebalance => {
                self.update_member(i, &req, now, token, cx);
                self.try_complete_join(now, false, cx);
                Deferred::Later
            }
            GroupState::CompletingRebalance if self.members[i].same_protocols(&req.protocols) => {
                // A join answer lost on the way: the same one again.
                self.touch(i, now);
                Deferred::Now(self.generation_answer(i))
            }
            GroupState::Stable if !self.is_leader(&req.member_id) && self.members[i].same_protocols(&req.protocols) => {
                self.touch(i, now);
                Deferred::Now(self.generation_answer(i))
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                self.update_member(i, &req, now, token, cx);
                self.prepare_rebalance(now, cx);
                self.try_complete_join(now, false, cx);
                Deferred::Later
            }
            GroupState::Empty | GroupState::Dead => error(ErrorCode::UNKNOWN_MEMBER_ID),
        }
    }

    /// A join without member id: a new id; MEMBER_ID_REQUIRED first for dynamic members that
    /// asked for it; a static member already known replaces its old id.
    fn join_unknown(&mut self, now: Instant, req: JoinRequest, token: T, cx: &mut Cx<'_, T>) -> Deferred<JoinAnswer> {
        let new_id = cx.new_member_id(req.group_instance_id.as_deref().unwrap_or(&req.client_id));
        if let Some(instance) = req.group_instance_id.as_deref() {
            if let Some(i) = self.static_index(instance) {
                return self.replace_static_member(now, i, new_id, &req, token, cx);
            }
        } else if req.require_known_member_id {
            let deadline = now + Duration::from_millis(req.session_timeout_ms.max(0) as u64);
            self.pending.push(PendingMember { member_id: new_id.clone(), deadline });
            return Deferred::Now(JoinAnswer::error(&new_id, ErrorCode::MEMBER_ID_REQUIRED));
        }
        self.add_member_and_rebalance(now, new_id, &req, token, cx)
    }

    fn add_member_and_rebalance(
        &mut self,
        now: Instant,
        member_id: String,
        req: &JoinRequest,
        token: T,
        cx: &mut Cx<'_, T>,
    ) -> Deferred<JoinAnswer> {
        if self.members.is_empty() {
            self.protocol_type = Some(req.protocol_type.clone());
        }
        if self.leader_id.is_none() {
            self.leader_id = Some(member_id.clone());
        }
        self.members.push(Self::new_member(req, member_id, now, token));
        if let Some(d) = self.initial_delay.as_mut() {
            d.new_member_added = true;
        }
        if self.state != GroupState::PreparingRebalance {
            self.prepare_rebalance(now, cx);
        }
        self.try_complete_join(now, false, cx);
        Deferred::Later
    }

    /// A known static member joined without its member id (KIP-345): it takes a new id, the old
    /// one is fenced; a Stable group keeps its generation unless the protocol would change.
    fn replace_static_member(
        &mut self,
        now: Instant,
        i: usize,
        new_id: String,
        req: &JoinRequest,
        token: T,
        cx: &mut Cx<'_, T>,
    ) -> Deferred<JoinAnswer> {
        let current_leader = self.leader_id.clone().unwrap_or_default();
        let mut old = core::mem::replace(&mut self.members[i], Self::new_member(req, new_id.clone(), now, token));
        self.members[i].assignment = old.assignment.take();
        let fenced = Answer::Join(JoinAnswer::error(&old.member_id, ErrorCode::FENCED_INSTANCE_ID));
        cx.answer(old.awaiting_join.take(), fenced);
        cx.answer(old.awaiting_sync.take(), Answer::Sync(SyncAnswer::error(ErrorCode::FENCED_INSTANCE_ID)));
        if self.is_leader(&old.member_id) {
            self.leader_id = Some(new_id.clone());
        }
        if self.pending_sync.remove(&old.member_id) {
            self.pending_sync.insert(new_id);
        }
        match self.state {
            GroupState::Stable if self.select_protocol() == self.protocol_name => {
                self.members[i].awaiting_join = None;
                let mut answer = self.generation_answer(i);
                // The old leader id, so that a replaced leader does not assign in a Stable group.
                answer.leader = current_leader;
                answer.members.clear();
                Deferred::Now(answer)
            }
            GroupState::PreparingRebalance => {
                self.try_complete_join(now, false, cx);
                Deferred::Later
            }
            _ => {
                self.prepare_rebalance(now, cx);
                self.try_complete_join(now, false, cx);
                Deferred::Later
            }
        }
    }

    /// A rejoin of member `i`: new protocols and timeouts, its join parked (an earlier parked
    /// join of it is answered REBALANCE_IN_PROGRESS, so that no answer is left behind).
    fn update_member(&mut self, i: usize, req: &JoinRequest, now: Instant, token: T, cx: &mut Cx<'_, T>) {
        let m = &mut self.members[i];
        m.protocols = req.protocols.clone();
        m.session_timeout = Duration::from_millis(req.session_timeout_ms.max(0) as u64);
        m.rebalance_timeout = Duration::from_millis(req.rebalance_timeout_ms.max(0) as u64);
        m.session_deadline = now + m.session_timeout;
        m.client_id = req.client_id.clone();
        m.client_host = req.client_host.clone();
        let old = m.awaiting_join.replace(Waiter { token: Some(token) });
        let id = m.member_id.clone();
        cx.answer(old, Answer::Join(JoinAnswer::error(&id, ErrorCode::REBALANCE_IN_PROGRESS)));
    }

    /// Enters PreparingRebalance: parked syncs get REBALANCE_IN_PROGRESS; the rebalance timeout
    /// (or, for an Empty group, the initial delay) starts.
    pub(crate) fn prepare_rebalance(&mut self, now: Instant, cx: &mut Cx<'_, T>) {
        if self.state == GroupState::CompletingRebalance {
            for m in &mut self.members {
                m.assignment = None;
                let w = m.awaiting_sync.take();
                cx.answer(w, Answer::Sync(SyncAnswer::error(ErrorCode::REBALANCE_IN_PROGRESS)));
            }
        }
        self.pending_sync.clear();
        self.sync_deadline = None;
        let timeout = self.max_rebalance_timeout();
        let delay = cx.config.initial_rebalance_delay;
        self.initial_delay = if self.state == GroupState::Empty && delay > Duration::ZERO {
            let first = delay.min(timeout);
            Some(InitialDelay { until: now + first, remaining: timeout.saturating_sub(first), new_member_added: false })
        } else {
            None
        };
        self.state = GroupState::PreparingRebalance;
        self.rebalance_deadline = Some(now + timeout);
    }

    /// Completes the join phase once every member (and no pending one) is waiting, or when
    /// `forced` (the rebalance timeout), unless the initial delay still runs.
    fn try_complete_join(&mut self, now: Instant, forced: bool, cx: &mut Cx<'_, T>) {
        if self.state != GroupState::PreparingRebalance || (self.initial_delay.is_some() && !forced) {
            return;
        }
        let all_joined = self.pending.is_empty() && self.members.iter().all(|m| m.awaiting_join.is_some());
        if forced || all_joined {
            self.complete_join(now, cx);
        }
    }

    /// The join phase ends: members that did not rejoin are removed, a new generation begins
    /// (Empty if nobody is left) and every parked join is answered.
    fn complete_join(&mut self, now: Instant, cx: &mut Cx<'_, T>) {
        let (stay, gone): (Vec<_>, Vec<_>) =
            core::mem::take(&mut self.members).into_iter().partition(|m| m.awaiting_join.is_some());
        self.members = stay;
        for mut m in gone {
            let w = m.awaiting_sync.take();
            cx.answer(w, Answer::Sync(SyncAnswer::error(ErrorCode::UNKNOWN_MEMBER_ID)));
        }
        if self.leader_id.as_deref().is_none_or(|l| self.index(l).is_none()) {
            self.leader_id = self.members.first().map(|m| m.member_id.clone());
        }
        self.rebalance_deadline = None;
        self.initial_delay = None;
        self.generation_id = self.generation_id.wrapping_add(1).max(1);
        self.rebalances += 1;
        if self.members.is_empty() {
            self.state = GroupState::Empty;
            self.protocol_name = None;
            return;
        }
        self.protocol_name = self.select_protocol();
        self.state = GroupState::CompletingRebalance;
        self.pending_sync = self.members.iter().map(|m| m.member_id.clone()).collect();
        self.sync_deadline = Some(now + self.max_rebalance_timeout());
        for i in 0..self.members.len() {
            let answer = self.generation_answer(i);
            let m = &mut self.members[i];
            m.assignment = None;
            m.session_deadline = now + m.session_timeout;
            let w = m.awaiting_join.take();
            cx.answer(w, Answer::Join(answer));
        }
    }

    // ---------------------------------------------------------------- SyncGroup

    /// SyncGroup: the leader's assignment completes the generation; followers wait for it.
    pub(crate) fn sync(
        &mut self,
        now: Instant,
        req: SyncRequest,
        token: T,
        cx: &mut Cx<'_, T>,
    ) -> Deferred<SyncAnswer> {
        let error = |e| Deferred::Now(SyncAnswer::error(e));
        if self.state == GroupState::Dead {
            return error(ErrorCode::COORDINATOR_NOT_AVAILABLE);
        }
        let i = match self.member_of_generation(&req.member_id, req.group_instance_id.as_deref(), req.generation_id) {
            Ok(i) => i,
            Err(e) => return error(e),
        };
        if req.protocol_type.as_ref().is_some_and(|t| self.protocol_type.as_ref() != Some(t))
            || req.protocol_name.as_ref().is_some_and(|n| self.protocol_name.as_ref() != Some(n))
        {
            return error(ErrorCode::INCONSISTENT_GROUP_PROTOCOL);
        }
        match self.state {
            GroupState::Empty | GroupState::Dead => error(ErrorCode::UNKNOWN_MEMBER_ID),
            GroupState::PreparingRebalance => error(ErrorCode::REBALANCE_IN_PROGRESS),
            GroupState::Stable => {
                self.synced(i, now);
                Deferred::Now(self.sync_answer(i))
            }
            GroupState::CompletingRebalance => {
                self.synced(i, now);
                let old = self.members[i].awaiting_sync.replace(Waiter { token: Some(token) });
                cx.answer(old, Answer::Sync(SyncAnswer::error(ErrorCode::REBALANCE_IN_PROGRESS)));
                if self.is_leader(&req.member_id) {
                    for m in &mut self.members {
                        let a = req.assignments.iter().find(|(id, _)| *id == m.member_id);
                        m.assignment = Some(a.map(|(_, a)| a.clone()).unwrap_or_default());
                    }
                    self.state = GroupState::Stable;
                    for j in 0..self.members.len() {
                        let answer = self.sync_answer(j);
                        let w = self.members[j].awaiting_sync.take();
                        cx.answer(w, Answer::Sync(answer));
                    }
                }
                Deferred::Later
            }
        }
    }

    fn synced(&mut self, i: usize, now: Instant) {
        self.touch(i, now);
        self.pending_sync.remove(&self.members[i].member_id);
        if self.pending_sync.is_empty() {
            self.sync_deadline = None;
        }
    }

    fn sync_answer(&self, i: usize) -> SyncAnswer {
        SyncAnswer {
            error: ErrorCode::NONE,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            assignment: self.members[i].assignment.clone().unwrap_or_default(),
        }
    }

    // ---------------------------------------------------------------- Heartbeat, LeaveGroup

    /// Heartbeat: refreshes the session; REBALANCE_IN_PROGRESS while members must rejoin.
    pub(crate) fn heartbeat(&mut self, now: Instant, req: &HeartbeatRequest) -> ErrorCode {
        match self.state {
            GroupState::Dead => return ErrorCode::COORDINATOR_NOT_AVAILABLE,
            GroupState::Empty => return ErrorCode::UNKNOWN_MEMBER_ID,
            _ => {}
        }
        match self.member_of_generation(&req.member_id, req.group_instance_id.as_deref(), req.generation_id) {
            Ok(i) => self.touch(i, now),
            Err(e) => return e,
        }
        if self.state == GroupState::PreparingRebalance { ErrorCode::REBALANCE_IN_PROGRESS } else { ErrorCode::NONE }
    }

    /// LeaveGroup: removes each member (by member id, or by instance id for static members).
    pub(crate) fn leave(&mut self, now: Instant, members: Vec<LeaveMember>, cx: &mut Cx<'_, T>) -> LeaveAnswer {
        if self.state == GroupState::Dead {
            return LeaveAnswer { error: ErrorCode::COORDINATOR_NOT_AVAILABLE, members: Vec::new() };
        }
        let mut answers = Vec::with_capacity(members.len());
        for who in members {
            let code = self.leave_one(now, &who, cx);
            answers.push((who, code));
        }
        LeaveAnswer { error: ErrorCode::NONE, members: answers }
    }

    fn leave_one(&mut self, now: Instant, who: &LeaveMember, cx: &mut Cx<'_, T>) -> ErrorCode {
        if who.group_instance_id.is_none() {
            if let Some(p) = self.pending.iter().position(|p| p.member_id == who.member_id) {
                self.pending.remove(p);
                self.try_complete_join(now, false, cx);
                return ErrorCode::NONE;
            }
        }
        let found = match (&who.group_instance_id, who.member_id.is_empty()) {
            (Some(instance), true) => self.static_index(instance).ok_or(ErrorCode::UNKNOWN_MEMBER_ID),
            _ => self.validate_member(&who.member_id, who.group_instance_id.as_deref()),
        };
        match found {
            Ok(i) => {
                self.remove_member(now, i, cx);
                ErrorCode::NONE
            }
            Err(e) => e,
        }
    }

    /// Removes member `i` (left, expired or not rejoined) and rebalances what remains.
    fn remove_member(&mut self, now: Instant, i: usize, cx: &mut Cx<'_, T>) {
        let mut m = self.members.remove(i);
        let (join, sync) = (m.awaiting_join.take(), m.awaiting_sync.take());
        cx.answer(join, Answer::Join(JoinAnswer::error(&m.member_id, ErrorCode::UNKNOWN_MEMBER_ID)));
        cx.answer(sync, Answer::Sync(SyncAnswer::error(ErrorCode::UNKNOWN_MEMBER_ID)));
        self.pending_sync.remove(&m.member_id);
        if self.is_leader(&m.member_id) {
            self.leader_id = self.members.first().map(|m| m.member_id.clone());
        }
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.prepare_rebalance(now, cx);
                self.try_complete_join(now, false, cx);
            }
            GroupState::PreparingRebalance => self.try_complete_join(now, false, cx),
            GroupState::Empty | GroupState::Dead => {}
        }
    }

    // ---------------------------------------------------------------- OffsetCommit

    /// Whether an OffsetCommit may store offsets (Kafka's `validateOffsetCommit`, outside
    /// transactions); refreshes the committing member's session.
    pub(crate) fn validate_offset_commit(&mut self, now: Instant, req: &OffsetCommitRequest) -> ErrorCode {
        if self.state == GroupState::Dead {
            return ErrorCode::COORDINATOR_NOT_AVAILABLE;
        }
        if req.generation_id < 0 && self.state == GroupState::Empty {
            return ErrorCode::NONE;
        }
        if req.generation_id >= 0 || !req.member_id.is_empty() || req.group_instance_id.is_some() {
            match self.member_of_generation(&req.member_id, req.group_instance_id.as_deref(), req.generation_id) {
                Ok(i) => self.touch(i, now),
                Err(e) => return e,
            }
        } else {
            // A commit from outside the group while it has members.
            return ErrorCode::UNKNOWN_MEMBER_ID;
        }
        if self.state == GroupState::CompletingRebalance {
            return ErrorCode::REBALANCE_IN_PROGRESS;
        }
        ErrorCode::NONE
    }

    /// TxnOffsetCommit's member check (v3+, KIP-447; Kafka's `validateOffsetCommit` with
    /// `isTransactional`): a commit naming a generation, member or instance must come from a
    /// current member of the current generation (FENCED_INSTANCE_ID, UNKNOWN_MEMBER_ID,
    /// ILLEGAL_GENERATION otherwise), so that a zombie consumer's offsets never commit; one
    /// naming none is accepted whatever the group's state (a transaction may commit offsets of
    /// a group it only stores offsets in). No REBALANCE_IN_PROGRESS, unlike OffsetCommit.
    pub(crate) fn validate_txn_offset_commit(
        &self,
        generation_id: i32,
        member_id: &str,
        group_instance_id: Option<&str>,
    ) -> ErrorCode {
        if self.state == GroupState::Dead {
            return ErrorCode::COORDINATOR_NOT_AVAILABLE;
        }
        if generation_id < 0 && member_id.is_empty() && group_instance_id.is_none() {
            return ErrorCode::NONE;
        }
        self.member_of_generation(member_id, group_instance_id, generation_id).err().unwrap_or(ErrorCode::NONE)
    }

    // ---------------------------------------------------------------- timers

    /// Runs the timers due at `now`: pending members and sessions expire, the initial delay
    /// ends or extends, the rebalance and sync timeouts remove members that did not come.
    pub(crate) fn on_timeout(&mut self, now: Instant, cx: &mut Cx<'_, T>) {
        let before = self.pending.len();
        self.pending.retain(|p| p.deadline > now);
        if self.pending.len() != before {
            self.try_complete_join(now, false, cx);
        }
        while let Some(i) = self
            .members
            .iter()
            .position(|m| m.awaiting_join.is_none() && m.awaiting_sync.is_none() && m.session_deadline <= now)
        {
            self.remove_member(now, i, cx);
        }
        if let Some(d) = self.initial_delay.filter(|d| d.until <= now) {
            if d.new_member_added && d.remaining > Duration::ZERO {
                let next = cx.config.initial_rebalance_delay.min(d.remaining);
                self.initial_delay = Some(InitialDelay {
                    until: now + next,
                    remaining: d.remaining.saturating_sub(next),
                    new_member_added: false,
                });
            } else {
                self.initial_delay = None;
                self.try_complete_join(now, true, cx);
            }
        } else if self.initial_delay.is_none() && self.rebalance_deadline.is_some_and(|t| t <= now) {
            self.try_complete_join(now, true, cx);
        }
        if self.sync_deadline.is_some_and(|t| t <= now) {
            self.sync_deadline = None;
            let late: Vec<String> = core::mem::take(&mut self.pending_sync).into_iter().collect();
            for id in late {
                if let Some(i) = self.index(&id) {
                    self.remove_member(now, i, cx);
                }
            }
        }
    }

    /// The earliest timer of this group.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let sessions = self
            .members
            .iter()
            .filter(|m| m.awaiting_join.is_none() && m.awaiting_sync.is_none())
            .map(|m| m.session_deadline);
        let pending = self.pending.iter().map(|p| p.deadline);
        let rebalance = match self.initial_delay {
            Some(d) => Some(d.until),
            None => self.rebalance_deadline,
        };
        sessions.chain(pending).chain(rebalance).chain(self.sync_deadline).min()
    }

    /// Answers every parked request with `error` (the coordinator moved: NOT_COORDINATOR);
    /// the members stay as they are and rejoin or resync at the new coordinator.
    pub(crate) fn fail_parked(&mut self, error: ErrorCode, cx: &mut Cx<'_, T>) {
        for m in &mut self.members {
            if let Some(token) = m.awaiting_join.as_mut().and_then(|w| w.token.take()) {
                let answer = Answer::Join(JoinAnswer::error(&m.member_id, error));
                cx.out.push_back(Completed { token, answer });
            }
            if let Some(token) = m.awaiting_sync.as_mut().and_then(|w| w.token.take()) {
                cx.out.push_back(Completed { token, answer: Answer::Sync(SyncAnswer::error(error)) });
            }
        }
    }

    /// Forgets the parked tokens `drop` selects (their connection closed); returns how many.
    pub(crate) fn drop_tokens(&mut self, drop: &mut impl FnMut(&T) -> bool) -> usize {
        let mut n = 0;
        for m in &mut self.members {
            for w in [m.awaiting_join.as_mut(), m.awaiting_sync.as_mut()].into_iter().flatten() {
                if w.token.as_ref().is_some_and(&mut *drop) {
                    w.token = None;
                    n += 1;
                }
            }
        }
        n
    }

    // ---------------------------------------------------------------- describe

    /// DescribeGroups' view of this group.
    pub(crate) fn describe(&self) -> DescribedGroup {
        let stable = self.state == GroupState::Stable;
        let members = self
            .members
            .iter()
            .map(|m| DescribedMember {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                metadata: if stable { m.metadata(self.protocol_name.as_deref()) } else { Vec::new() },
                assignment: if stable { m.assignment.clone().unwrap_or_default() } else { Vec::new() },
            })
            .collect();
        DescribedGroup {
            error: ErrorCode::NONE,
            group_id: self.group_id.clone(),
            state: self.state.name(),
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            protocol_data: if stable { self.protocol_name.clone().unwrap_or_default() } else { String::new() },
            members,
        }
    }
}
