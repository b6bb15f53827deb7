//! The classic consumer group coordinator as a sans-IO state machine (Kafka's
//! `GroupCoordinator`): every group's membership and generations, the leader's assignments,
//! sessions, committed offsets, and which broker coordinates which group.
//!
//! JoinGroup and SyncGroup may wait (Kafka parks them until the rebalance gets there): they
//! take a caller's `token` (its connection and correlation id) and answer
//! [`Deferred::Later`]; the answer then comes out of [`GroupCoordinator::poll_completed`]
//! after this or a later call (`join`, `sync`, `leave`, `heartbeat`, `on_timeout`...). Every
//! token is answered exactly once unless [`GroupCoordinator::drop_tokens`] forgets it (its
//! connection closed). Timers (sessions, rebalance and sync timeouts, the initial delay) run in
//! [`GroupCoordinator::on_timeout`], due at [`GroupCoordinator::next_deadline`]; every entry
//! point first runs the timers of its own group that are due at its `now`.

mod api;
#[allow(clippy::module_inception)] // one group's state machine, beside the coordinator of all
mod group;
mod offsets;
mod placement;

pub(crate) use api::*;
pub(crate) use group::GroupState;
pub(crate) use placement::Placement;

use crate::broker::deadlines::DeadlineIndex;
use crate::proto::ErrorCode;
use crate::rand::Rng;
use crate::time::{Duration, Instant};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use group::{Cx, Group};

/// The coordinator's limits and timings (Kafka's `group.*` broker configs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GroupConfig {
    /// `group.min.session.timeout.ms` (Kafka: 6 s).
    pub(crate) min_session_timeout: Duration,
    /// `group.max.session.timeout.ms` (Kafka: 30 min).
    pub(crate) max_session_timeout: Duration,
    /// `group.initial.rebalance.delay.ms` (Kafka: 3 s; 0 here so that tests need no wait).
    pub(crate) initial_rebalance_delay: Duration,
    /// `group.max.size`: members (and members-to-be) per group.
    pub(crate) max_size: usize,
    /// Groups the coordinator keeps; at the limit an Empty group without offsets makes room,
    /// else a new group is refused with COORDINATOR_NOT_AVAILABLE.
    pub(crate) max_groups: usize,
    /// Committed partitions per group (INVALID_COMMIT_OFFSET_SIZE beyond).
    pub(crate) max_offsets_per_group: usize,
    /// `offset.metadata.max.bytes` (OFFSET_METADATA_TOO_LARGE beyond).
    pub(crate) max_offset_metadata: usize,
}

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            min_session_timeout: Duration::from_secs(6),
            max_session_timeout: Duration::from_secs(30 * 60),
            initial_rebalance_delay: Duration::ZERO,
            max_size: 1_000,
            max_groups: 10_000,
            max_offsets_per_group: 100_000,
            max_offset_metadata: 4_096,
        }
    }
}

/// Every group of the cluster (their state exists once, as if `__consumer_offsets` were
/// perfectly replicated), with the placement that says which broker answers for which group.
#[derive(Debug)]
pub(crate) struct GroupCoordinator<T> {
    config: GroupConfig,
    groups: BTreeMap<String, Group<T>>,
    /// Each group's earliest timer (kept by [`GroupCoordinator::reindex`] after every change to
    /// a group), so that a pass over the timers and the next deadline read this instead of
    /// every group's members.
    timers: DeadlineIndex<String>,
    rng: Rng,
    completed: VecDeque<Completed<T>>,
    /// Which broker coordinates which group, and the coordinator faults.
    pub(crate) placement: Placement,
}

impl<T> GroupCoordinator<T> {
    /// A coordinator without groups; member ids come from `rng`.
    pub(crate) fn new(config: GroupConfig, rng: Rng) -> Self {
        GroupCoordinator {
            config,
            groups: BTreeMap::new(),
            timers: DeadlineIndex::default(),
            rng,
            completed: VecDeque::new(),
            placement: Placement::default(),
        }
    }

    /// Splits `self` into the group `group_id` and what its operations need.
    /// Every change to a group goes through here, and its timer entry follows.
    fn with_group<R>(&mut self, group_id: &str, f: impl FnOnce(&mut Group<T>, &mut Cx<'_, T>) -> R) -> Option<R> {
        let group = self.groups.get_mut(group_id)?;
        let mut cx = Cx { config: &self.config, rng: &mut self.rng, out: &mut self.completed };
        let r = f(group, &mut cx);
        self.reindex(group_id);
        Some(r)
    }

    /// Puts `group_id`'s earliest timer (none if the group is gone) in `timers`.
    fn reindex(&mut self, group_id: &str) {
        let next = self.groups.get(group_id).and_then(Group::next_deadline);
        self.timers.set(group_id, next);
    }

    /// Makes sure `group_id` exists (a new Empty group), evicting an Empty group without
    /// offsets at the limit; `false` if the limit leaves no room.
    fn ensure_group(&mut self, group_id: &str) -> bool {
        if self.groups.contains_key(group_id) {
            return true;
        }
        if self.groups.len() >= self.config.max_groups {
            let Some(victim) = self.groups.iter().find(|(_, g)| g.is_disposable()).map(|(id, _)| id.clone()) else {
                return false;
            };
            self.groups.remove(&victim);
            self.reindex(&victim);
        }
        self.groups.insert(String::from(group_id), Group::new(group_id));
        true
    }

    /// JoinGroup. Errors answer now; a join that waits for the rebalance answers
    /// [`Deferred::Later`] under `token`.
    pub(crate) fn join(&mut self, now: Instant, req: JoinRequest, token: T) -> Deferred<JoinAnswer> {
        self.run_timers(&req.group_id, now);
        let error = |e| Deferred::Now(JoinAnswer::error(&req.member_id, e));
        if req.group_id.is_empty() {
            return error(ErrorCode::INVALID_GROUP_ID);
        }
        let session = Duration::from_millis(req.session_timeout_ms.max(0) as u64);
        if req.session_timeout_ms < 0
            || session < self.config.min_session_timeout
            || session > self.config.max_session_timeout
        {
            return error(ErrorCode::INVALID_SESSION_TIMEOUT);
        }
        match self.groups.get(&req.group_id) {
            // Kafka does not create a group for a member that claims to know it.
            None if !req.member_id.is_empty() => return error(ErrorCode::UNKNOWN_MEMBER_ID),
            // A static member coming back takes its own place (more lenient than Kafka, which
            // refuses a full group even this).
            Some(g)
                if req.member_id.is_empty()
                    && g.size() >= self.config.max_size
                    && !req.group_instance_id.as_deref().is_some_and(|i| g.has_static_member(i)) =>
            {
                return error(ErrorCode::GROUP_MAX_SIZE_REACHED);
            }
            _ => {}
        }
        if !self.ensure_group(&req.group_id) {
            return error(ErrorCode::COORDINATOR_NOT_AVAILABLE);
        }
        let group_id = req.group_id.clone();
        self.with_group(&group_id, |g, cx| g.join(now, req, token, cx))
            .unwrap_or(Deferred::Now(JoinAnswer::error("", ErrorCode::COORDINATOR_NOT_AVAILABLE)))
    }

    /// SyncGroup. Errors and Stable groups answer now; a sync during CompletingRebalance
    /// answers [`Deferred::Later`] under `token` (the leader's sync completes every one).
    pub(crate) fn sync(&mut self, now: Instant, req: SyncRequest, token: T) -> Deferred<SyncAnswer> {
        self.run_timers(&req.group_id, now);
        if req.group_id.is_empty() {
            return Deferred::Now(SyncAnswer::error(ErrorCode::INVALID_GROUP_ID));
        }
        let group_id = req.group_id.clone();
        self.with_group(&group_id, |g, cx| g.sync(now, req, token, cx))
            .unwrap_or(Deferred::Now(SyncAnswer::error(ErrorCode::UNKNOWN_MEMBER_ID)))
    }

    /// Heartbeat: NONE, REBALANCE_IN_PROGRESS (rejoin), or why the member is not in the group.
    pub(crate) fn heartbeat(&mut self, now: Instant, req: &HeartbeatRequest) -> ErrorCode {
        self.run_timers(&req.group_id, now);
        if req.group_id.is_empty() {
            return ErrorCode::INVALID_GROUP_ID;
        }
        self.with_group(&req.group_id, |g, _| g.heartbeat(now, req)).unwrap_or(ErrorCode::UNKNOWN_MEMBER_ID)
    }

    /// LeaveGroup: each member's outcome (UNKNOWN_MEMBER_ID for all of an unknown group).
    pub(crate) fn leave(&mut self, now: Instant, group_id: &str, members: Vec<LeaveMember>) -> LeaveAnswer {
        self.run_timers(group_id, now);
        if group_id.is_empty() {
            return LeaveAnswer { error: ErrorCode::INVALID_GROUP_ID, members: Vec::new() };
        }
        let unknown = |members: Vec<LeaveMember>| LeaveAnswer {
            error: ErrorCode::NONE,
            members: members.into_iter().map(|m| (m, ErrorCode::UNKNOWN_MEMBER_ID)).collect(),
        };
        if !self.groups.contains_key(group_id) {
            return unknown(members);
        }
        self.with_group(group_id, |g, cx| g.leave(now, members, cx))
            .unwrap_or(LeaveAnswer { error: ErrorCode::COORDINATOR_NOT_AVAILABLE, members: Vec::new() })
    }

    /// OffsetCommit: one code per partition. A commit with generation -1 and no member id
    /// comes from outside the group and is stored only while the group is Empty (or unknown:
    /// it then creates the group).
    pub(crate) fn commit_offsets(&mut self, now: Instant, req: &OffsetCommitRequest) -> OffsetCommitAnswer {
        self.run_timers(&req.group_id, now);
        let all = |e: ErrorCode| -> OffsetCommitAnswer {
            req.topics.iter().map(|(t, ps)| (t.clone(), ps.iter().map(|p| (p.partition, e)).collect())).collect()
        };
        if !self.groups.contains_key(&req.group_id) {
            if req.generation_id >= 0 {
                return all(ErrorCode::ILLEGAL_GENERATION);
            }
            if !self.ensure_group(&req.group_id) {
                return all(ErrorCode::COORDINATOR_NOT_AVAILABLE);
            }
        }
        let (max_metadata, max_count) = (self.config.max_offset_metadata, self.config.max_offsets_per_group);
        self.with_group(&req.group_id, |g, _| {
            let check = g.validate_offset_commit(now, req);
            if !check.is_ok() {
                return all(check);
            }
            req.topics
                .iter()
                .map(|(t, ps)| {
                    let codes = ps.iter().map(|p| (p.partition, g.offsets.commit(t, p, max_metadata, max_count)));
                    (t.clone(), codes.collect())
                })
                .collect()
        })
        .unwrap_or_else(|| all(ErrorCode::COORDINATOR_NOT_AVAILABLE))
    }

    /// TxnOffsetCommit's member check of `group_id` (see `Group::validate_txn_offset_commit`):
    /// a group that does not exist has no member, so a commit naming one is
    /// UNKNOWN_MEMBER_ID (Kafka creates the group Empty, then finds no such member).
    pub(crate) fn validate_txn_offset_commit(
        &mut self,
        now: Instant,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
        group_instance_id: Option<&str>,
    ) -> ErrorCode {
        self.run_timers(group_id, now);
        match self.groups.get(group_id) {
            Some(g) => g.validate_txn_offset_commit(generation_id, member_id, group_instance_id),
            None if generation_id < 0 && member_id.is_empty() && group_instance_id.is_none() => ErrorCode::NONE,
            None => ErrorCode::UNKNOWN_MEMBER_ID,
        }
    }

    /// OffsetFetch: the `topics` listed (every committed partition when `None`); -1 for a
    /// partition (or a whole group) without commits.
    pub(crate) fn fetch_offsets(&self, group_id: &str, topics: Option<&[(String, Vec<i32>)]>) -> OffsetFetchAnswer {
        let topics = match self.groups.get(group_id) {
            Some(g) => g.offsets.fetch(topics),
            None => offsets::CommittedOffsets::default().fetch(topics),
        };
        OffsetFetchAnswer { error: ErrorCode::NONE, topics }
    }

    /// Stores an offset a transaction committed (its commit marker is written): no generation
    /// check (Kafka completes pending transactional offsets whatever the group's state); the
    /// group is created if unknown and there is room. Limits as OffsetCommit.
    pub(crate) fn commit_txn_offset(&mut self, group_id: &str, topic: &str, offset: &CommitPartition) -> ErrorCode {
        if group_id.is_empty() || !self.ensure_group(group_id) {
            return ErrorCode::COORDINATOR_NOT_AVAILABLE;
        }
        let (max_metadata, max_count) = (self.config.max_offset_metadata, self.config.max_offsets_per_group);
        self.with_group(group_id, |g, _| g.offsets.commit(topic, offset, max_metadata, max_count))
            .unwrap_or(ErrorCode::COORDINATOR_NOT_AVAILABLE)
    }

    /// `offset.metadata.max.bytes`.
    pub(crate) fn max_offset_metadata(&self) -> usize {
        self.config.max_offset_metadata
    }

    /// ListGroups: every group, in id order, whose state is in `states` (every state when
    /// empty; names compared as Kafka does, ignoring case).
    pub(crate) fn list_groups(&self, states: &[&str]) -> Vec<ListedGroup> {
        self.groups
            .values()
            .filter(|g| states.is_empty() || states.iter().any(|s| s.eq_ignore_ascii_case(g.state.name())))
            .map(|g| ListedGroup {
                group_id: g.group_id.clone(),
                protocol_type: g.protocol_type.clone().unwrap_or_default(),
                state: g.state.name(),
            })
            .collect()
    }

    /// DescribeGroups: each group in request order; an unknown one is `Dead` with
    /// GROUP_ID_NOT_FOUND (DescribeGroups before v6 answers NONE there).
    pub(crate) fn describe_groups(&self, group_ids: &[&str]) -> Vec<DescribedGroup> {
        group_ids
            .iter()
            .map(|id| match self.groups.get(*id) {
                Some(g) => g.describe(),
                None => DescribedGroup {
                    error: ErrorCode::GROUP_ID_NOT_FOUND,
                    group_id: String::from(*id),
                    state: GroupState::Dead.name(),
                    protocol_type: String::new(),
                    protocol_data: String::new(),
                    members: Vec::new(),
                },
            })
            .collect()
    }

    /// Runs the timers of `group_id` due at `now` (before a request of that group).
    fn run_timers(&mut self, group_id: &str, now: Instant) {
        if self.timers.get(group_id).is_some_and(|t| t <= now) {
            self.with_group(group_id, |g, cx| g.on_timeout(now, cx));
        }
    }

    /// Runs every timer due at `now` (sessions, pending members, initial delay, rebalance and
    /// sync timeouts, loading windows).
    pub(crate) fn on_timeout(&mut self, now: Instant) {
        self.placement.expire(now);
        for id in self.timers.due(now) {
            self.with_group(&id, |g, cx| g.on_timeout(now, cx));
        }
    }

    /// The earliest timer, if any.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        debug_assert!(
            self.timers.agrees_with(self.groups.iter().map(|(id, g)| (id, g.next_deadline()))),
            "the timer index is behind a group's change"
        );
        self.timers.first().into_iter().chain(self.placement.next_deadline()).min()
    }

    /// The next answer of a parked JoinGroup or SyncGroup.
    pub(crate) fn poll_completed(&mut self) -> Option<Completed<T>> {
        self.completed.pop_front()
    }

    /// Forgets the parked tokens `drop` selects (e.g. those of a closed connection), and their
    /// answers not yet polled; the members stay (they expire if they do not come back).
    /// Returns how many were forgotten.
    pub(crate) fn drop_tokens(&mut self, mut drop: impl FnMut(&T) -> bool) -> usize {
        let before = self.completed.len();
        self.completed.retain(|c| !drop(&c.token));
        let mut n = before - self.completed.len();
        for g in self.groups.values_mut() {
            n += g.drop_tokens(&mut drop);
        }
        n
    }

    /// A coordinator move (fault): every group moves to the next live broker and every parked
    /// request is answered NOT_COORDINATOR (the members find the new coordinator and rejoin).
    pub(crate) fn move_coordinators(&mut self) {
        self.placement.move_coordinators();
        self.fail_parked(ErrorCode::NOT_COORDINATOR);
    }

    /// Answers every parked JoinGroup and SyncGroup with `error` (NOT_COORDINATOR when the
    /// coordinators change otherwise, e.g. a broker going down changes the live brokers); the
    /// members stay and come back with their ids.
    pub(crate) fn fail_parked(&mut self, error: ErrorCode) {
        let ids: Vec<String> = self.groups.keys().cloned().collect();
        for id in ids {
            self.with_group(&id, |g, cx| g.fail_parked(error, cx));
        }
    }

    /// The group `group_id`'s state, `None` if unknown.
    pub(crate) fn state(&self, group_id: &str) -> Option<GroupState> {
        self.groups.get(group_id).map(|g| g.state)
    }

    /// The number of groups.
    pub(crate) fn group_count(&self) -> usize {
        self.groups.len()
    }
}

#[cfg(test)]
mod tests;
