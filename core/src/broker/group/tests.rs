//! The classic group protocol's rules, one test each, and a seeded random walk that keeps the
//! invariants.

#![allow(clippy::unwrap_used)] // tests unwrap by design

use super::*;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::ToString;
use alloc::vec;

const SESSION_MS: i32 = 10_000;
const REBALANCE_MS: i32 = 30_000;

fn t(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

fn protocols(names: &[&str], client: &str) -> Vec<JoinProtocol> {
    names.iter().map(|n| JoinProtocol { name: n.to_string(), metadata: format!("{n}:{client}").into_bytes() }).collect()
}

fn join_req(member_id: &str, client: &str) -> JoinRequest {
    JoinRequest {
        group_id: "g".into(),
        session_timeout_ms: SESSION_MS,
        rebalance_timeout_ms: REBALANCE_MS,
        member_id: member_id.into(),
        group_instance_id: None,
        protocol_type: "consumer".into(),
        protocols: protocols(&["range"], client),
        require_known_member_id: true,
        client_id: client.into(),
        client_host: "/127.0.0.1".into(),
    }
}

fn static_req(member_id: &str, instance: &str) -> JoinRequest {
    JoinRequest { group_instance_id: Some(instance.into()), ..join_req(member_id, instance) }
}

/// A coordinator with a clock and a record of every answer by token.
struct H {
    c: GroupCoordinator<u64>,
    now: Instant,
    next: u64,
    answers: BTreeMap<u64, Answer>,
}

impl H {
    fn new() -> H {
        H::with(GroupConfig::default())
    }

    fn with(config: GroupConfig) -> H {
        H { c: GroupCoordinator::new(config, Rng::new(7)), now: Instant::ZERO, next: 0, answers: BTreeMap::new() }
    }

    fn drain(&mut self) {
        while let Some(Completed { token, answer }) = self.c.poll_completed() {
            assert!(self.answers.insert(token, answer).is_none(), "token {token} answered twice");
        }
    }

    fn token(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// Sends a join; returns its token (the answer, now or later, lands in `answers`).
    fn join(&mut self, req: JoinRequest) -> u64 {
        let tok = self.token();
        if let Deferred::Now(a) = self.c.join(self.now, req, tok) {
            self.answers.insert(tok, Answer::Join(a));
        }
        self.drain();
        tok
    }

    fn sync(&mut self, req: SyncRequest) -> u64 {
        let tok = self.token();
        if let Deferred::Now(a) = self.c.sync(self.now, req, tok) {
            self.answers.insert(tok, Answer::Sync(a));
        }
        self.drain();
        tok
    }

    fn joined(&self, tok: u64) -> Option<&JoinAnswer> {
        match self.answers.get(&tok) {
            Some(Answer::Join(a)) => Some(a),
            _ => None,
        }
    }

    fn synced(&self, tok: u64) -> Option<&SyncAnswer> {
        match self.answers.get(&tok) {
            Some(Answer::Sync(a)) => Some(a),
            _ => None,
        }
    }

    /// A new dynamic member: MEMBER_ID_REQUIRED, then the join with the id (token returned).
    fn new_member(&mut self, client: &str) -> (String, u64) {
        let first = self.join(join_req("", client));
        let a = self.joined(first).unwrap().clone();
        assert_eq!(a.error, ErrorCode::MEMBER_ID_REQUIRED);
        assert!(a.member_id.starts_with(&format!("{client}-")), "{}", a.member_id);
        let tok = self.join(join_req(&a.member_id, client));
        (a.member_id, tok)
    }

    fn rejoin(&mut self, member_id: &str, client: &str) -> u64 {
        self.join(join_req(member_id, client))
    }

    fn sync_req(&self, member_id: &str, generation_id: i32, assignments: Vec<(String, Vec<u8>)>) -> SyncRequest {
        SyncRequest {
            group_id: "g".into(),
            generation_id,
            member_id: member_id.into(),
            protocol_type: Some("consumer".into()),
            protocol_name: None,
            assignments,
            ..Default::default()
        }
    }

    fn heartbeat(&mut self, member_id: &str, generation_id: i32) -> ErrorCode {
        let req = HeartbeatRequest {
            group_id: "g".into(),
            generation_id,
            member_id: member_id.into(),
            group_instance_id: None,
        };
        let e = self.c.heartbeat(self.now, &req);
        self.drain();
        e
    }

    fn advance(&mut self, ms: u64) {
        self.now += Duration::from_millis(ms);
        self.c.on_timeout(self.now);
        self.drain();
    }

    fn state(&self) -> Option<GroupState> {
        self.c.state("g")
    }

    fn group(&self) -> &group::Group<u64> {
        self.c.groups.get("g").unwrap()
    }

    /// The leader's sync with `assign:<member id>` for every member of its join answer, then
    /// every follower's; returns the generation's assignments by member id.
    fn sync_all(&mut self, leader_answer: &JoinAnswer, followers: &[&str]) -> BTreeMap<String, Vec<u8>> {
        let g = leader_answer.generation_id;
        let mut toks = Vec::new();
        for f in followers {
            toks.push((f.to_string(), self.sync(self.sync_req(f, g, vec![]))));
        }
        let assignments = leader_answer
            .members
            .iter()
            .map(|m| (m.member_id.clone(), format!("assign:{}", m.member_id).into_bytes()))
            .collect();
        toks.push((
            leader_answer.member_id.clone(),
            self.sync(self.sync_req(&leader_answer.member_id, g, assignments)),
        ));
        toks.into_iter()
            .map(|(id, tok)| {
                let a = self.synced(tok).unwrap();
                assert_eq!(a.error, ErrorCode::NONE, "{id}");
                (id, a.assignment.clone())
            })
            .collect()
    }

    /// A Stable group of `n` dynamic members `c0..`; their ids (the leader first) and generation.
    fn stable_group(&mut self, n: usize) -> (Vec<String>, i32) {
        let mut ids: Vec<String> = Vec::new();
        let mut leader = None;
        for k in 0..n {
            let (id, tok) = self.new_member(&format!("c{k}"));
            let mut toks = vec![(id.clone(), tok)];
            for (j, old) in ids.iter().enumerate() {
                toks.push((old.clone(), self.rejoin(old, &format!("c{j}"))));
            }
            ids.push(id);
            let answers: Vec<JoinAnswer> = toks.iter().map(|(_, tok)| self.joined(*tok).unwrap().clone()).collect();
            leader = answers.into_iter().find(|a| a.leader == a.member_id);
            let l = leader.as_ref().unwrap();
            assert_eq!(l.members.len(), k + 1);
            let followers: Vec<&str> = ids.iter().filter(|i| **i != l.member_id).map(String::as_str).collect();
            let l = l.clone();
            let assigned = self.sync_all(&l, &followers);
            assert_eq!(assigned.len(), k + 1);
            assert_eq!(self.state(), Some(GroupState::Stable));
        }
        let l = leader.unwrap();
        assert_eq!(l.member_id, ids[0]);
        (ids, l.generation_id)
    }
}

#[test]
fn join_of_one_member() {
    let mut h = H::new();
    let first = h.join(join_req("", "c0"));
    let required = h.joined(first).unwrap().clone();
    assert_eq!(required.error, ErrorCode::MEMBER_ID_REQUIRED);
    assert_eq!(required.generation_id, -1);
    assert_eq!(h.state(), Some(GroupState::Empty), "a pending member does not start a rebalance");
    let tok = h.rejoin(&required.member_id, "c0");
    let a = h.joined(tok).unwrap().clone();
    assert_eq!(a.error, ErrorCode::NONE);
    assert_eq!((a.generation_id, a.leader.as_str()), (1, required.member_id.as_str()));
    assert_eq!(a.protocol_name.as_deref(), Some("range"));
    assert_eq!(a.protocol_type.as_deref(), Some("consumer"));
    assert_eq!(
        a.members,
        vec![JoinMember { member_id: a.member_id.clone(), group_instance_id: None, metadata: b"range:c0".to_vec() }]
    );
    assert_eq!(h.state(), Some(GroupState::CompletingRebalance));
    let assigned = h.sync_all(&a, &[]);
    assert_eq!(assigned[&a.member_id], format!("assign:{}", a.member_id).into_bytes());
    assert_eq!(h.state(), Some(GroupState::Stable));
    assert_eq!(h.heartbeat(&a.member_id, 1), ErrorCode::NONE);
}

#[test]
fn join_of_two_members_relays_the_leaders_assignment() {
    let mut h = H::new();
    let (ids, generation) = h.stable_group(1);
    let a = ids[0].clone();
    let (b, b_tok) = h.new_member("c1");
    assert_eq!(h.state(), Some(GroupState::PreparingRebalance));
    assert!(h.joined(b_tok).is_none(), "B waits for A to rejoin");
    assert_eq!(h.heartbeat(&a, generation), ErrorCode::REBALANCE_IN_PROGRESS);
    let a_tok = h.rejoin(&a, "c0");
    let (ja, jb) = (h.joined(a_tok).unwrap().clone(), h.joined(b_tok).unwrap().clone());
    assert_eq!((ja.generation_id, jb.generation_id), (generation + 1, generation + 1));
    assert_eq!((ja.leader.as_str(), jb.leader.as_str()), (a.as_str(), a.as_str()));
    assert_eq!(ja.members.iter().map(|m| m.member_id.as_str()).collect::<Vec<_>>(), [a.as_str(), b.as_str()]);
    assert!(jb.members.is_empty(), "followers get no member list");
    // B's sync waits for the leader's.
    let b_sync = h.sync(h.sync_req(&b, jb.generation_id, vec![]));
    assert!(h.synced(b_sync).is_none());
    assert_eq!(h.state(), Some(GroupState::CompletingRebalance));
    let a_sync = h.sync(h.sync_req(&a, ja.generation_id, vec![(a.clone(), b"A".to_vec()), (b.clone(), b"B".to_vec())]));
    assert_eq!(h.synced(a_sync).unwrap().assignment, b"A");
    assert_eq!(h.synced(b_sync).unwrap().assignment, b"B");
    assert_eq!(h.synced(b_sync).unwrap().protocol_name.as_deref(), Some("range"));
    assert_eq!(h.state(), Some(GroupState::Stable));
    // A Stable follower's sync answers at once.
    let again = h.sync(h.sync_req(&b, jb.generation_id, vec![]));
    assert_eq!(h.synced(again).unwrap().assignment, b"B");
}

#[test]
fn join_of_three_members() {
    let mut h = H::new();
    let (ids, generation) = h.stable_group(3);
    assert_eq!(generation, 3, "one generation per completed rebalance");
    let d = h.c.describe_groups(&["g"]);
    assert_eq!(d[0].state, "Stable");
    assert_eq!(d[0].protocol_data, "range");
    assert_eq!(d[0].members.iter().map(|m| m.member_id.clone()).collect::<Vec<_>>(), ids);
    assert_eq!(d[0].members[1].assignment, format!("assign:{}", ids[1]).into_bytes());
    assert_eq!(d[0].members[1].metadata, b"range:c1");
    assert_eq!((d[0].members[2].client_id.as_str(), d[0].members[2].client_host.as_str()), ("c2", "/127.0.0.1"));
}

#[test]
fn leave_rebalances_and_elects_a_new_leader() {
    let mut h = H::new();
    let (ids, generation) = h.stable_group(3);
    let who = LeaveMember { member_id: ids[0].clone(), group_instance_id: None };
    let answer = h.c.leave(h.now, "g", vec![who.clone()]);
    assert_eq!(answer, LeaveAnswer { error: ErrorCode::NONE, members: vec![(who, ErrorCode::NONE)] });
    assert_eq!(h.state(), Some(GroupState::PreparingRebalance));
    assert_eq!(h.heartbeat(&ids[0], generation), ErrorCode::UNKNOWN_MEMBER_ID);
    let t1 = h.rejoin(&ids[1], "c1");
    assert!(h.joined(t1).is_none());
    let t2 = h.rejoin(&ids[2], "c2");
    let (j1, j2) = (h.joined(t1).unwrap().clone(), h.joined(t2).unwrap().clone());
    assert_eq!(j1.generation_id, generation + 1);
    assert_eq!((j1.leader.as_str(), j2.leader.as_str()), (ids[1].as_str(), ids[1].as_str()));
    assert_eq!(j1.members.len(), 2);
    // Everyone leaves: Empty, a new generation, no protocol.
    let all = vec![
        LeaveMember { member_id: ids[1].clone(), group_instance_id: None },
        LeaveMember { member_id: ids[2].clone(), group_instance_id: None },
        LeaveMember { member_id: "nobody".into(), group_instance_id: None },
    ];
    let answer = h.c.leave(h.now, "g", all);
    assert_eq!(
        answer.members.iter().map(|(_, e)| *e).collect::<Vec<_>>(),
        [ErrorCode::NONE, ErrorCode::NONE, ErrorCode::UNKNOWN_MEMBER_ID]
    );
    assert_eq!(h.state(), Some(GroupState::Empty));
    assert_eq!(h.group().generation_id, generation + 2);
    assert_eq!(h.c.describe_groups(&["g"])[0].state, "Empty");
    let unknown = h.c.leave(h.now, "other", vec![LeaveMember::default()]);
    assert_eq!(unknown.members[0].1, ErrorCode::UNKNOWN_MEMBER_ID);
}

#[test]
fn session_expiry_removes_a_silent_member() {
    let mut h = H::new();
    let (ids, generation) = h.stable_group(2);
    assert_eq!(h.c.next_deadline(), Some(h.now + Duration::from_millis(SESSION_MS as u64)));
    for _ in 0..2 {
        h.advance(4_000);
        assert_eq!(h.heartbeat(&ids[0], generation), ErrorCode::NONE);
    }
    h.advance(4_000);
    // B said nothing for 12 s > its 10 s session.
    assert_eq!(h.state(), Some(GroupState::PreparingRebalance));
    assert_eq!(h.heartbeat(&ids[1], generation), ErrorCode::UNKNOWN_MEMBER_ID);
    assert_eq!(h.heartbeat(&ids[0], generation), ErrorCode::REBALANCE_IN_PROGRESS);
    let tok = h.rejoin(&ids[0], "c0");
    let a = h.joined(tok).unwrap().clone();
    assert_eq!((a.generation_id, a.members.len()), (generation + 1, 1));
    h.sync_all(&a, &[]);
    // The last member expires too: Empty.
    h.advance(SESSION_MS as u64);
    assert_eq!(h.state(), Some(GroupState::Empty));
    assert_eq!(h.c.next_deadline(), None);
}

#[test]
fn a_pending_member_holds_the_rebalance_until_it_joins_or_expires() {
    let mut h = H::new();
    let (ids, generation) = h.stable_group(1);
    let first = h.join(join_req("", "c1"));
    assert_eq!(h.joined(first).unwrap().error, ErrorCode::MEMBER_ID_REQUIRED);
    assert_eq!(h.state(), Some(GroupState::Stable), "MEMBER_ID_REQUIRED alone does not rebalance");
    let a = h.rejoin(&ids[0], "c0");
    assert!(h.joined(a).is_none(), "the pending member may still join");
    h.advance(SESSION_MS as u64 - 1);
    assert_eq!(h.heartbeat(&ids[0], generation), ErrorCode::REBALANCE_IN_PROGRESS);
    h.advance(1);
    let j = h.joined(a).unwrap();
    assert_eq!((j.generation_id, j.members.len()), (generation + 1, 1));
    // A pending member that leaves stops holding at once.
    let mut h = H::new();
    let (ids, _) = h.stable_group(1);
    let first = h.join(join_req("", "c1"));
    let pending = h.joined(first).unwrap().member_id.clone();
    let a = h.rejoin(&ids[0], "c0");
    let left = h.c.leave(h.now, "g", vec![LeaveMember { member_id: pending, group_instance_id: None }]);
    h.drain();
    assert_eq!(left.members[0].1, ErrorCode::NONE);
    assert_eq!(h.joined(a).unwrap().error, ErrorCode::NONE);
}

#[test]
fn rebalance_timeout_removes_a_member_that_does_not_rejoin() {
    let mut h = H::new();
    let (ids, generation) = h.stable_group(2);
    let (c, c_tok) = h.new_member("c2");
    let a_tok = h.rejoin(&ids[0], "c0");
    assert!(h.joined(a_tok).is_none(), "B has not rejoined");
    // B keeps heartbeating (REBALANCE_IN_PROGRESS) but never rejoins.
    for _ in 0..7 {
        h.advance(4_000);
        assert_eq!(h.heartbeat(&ids[1], generation), ErrorCode::REBALANCE_IN_PROGRESS);
    }
    h.advance(2_000); // 30 s: the rebalance timeout.
    let (ja, jc) = (h.joined(a_tok).unwrap().clone(), h.joined(c_tok).unwrap().clone());
    assert_eq!((ja.generation_id, jc.generation_id), (generation + 1, generation + 1));
    assert_eq!(ja.members.iter().map(|m| m.member_id.clone()).collect::<Vec<_>>(), [ids[0].clone(), c.clone()]);
    assert_eq!(h.heartbeat(&ids[1], generation), ErrorCode::UNKNOWN_MEMBER_ID);
}

#[test]
fn sync_timeout_removes_a_member_that_does_not_sync() {
    let mut h = H::new();
    let (ids, generation) = h.stable_group(2);
    let (t0, t1) = (h.rejoin(&ids[0], "c0"), h.rejoin(&ids[1], "c1"));
    let ja = h.joined(t0).unwrap().clone();
    assert!(h.joined(t1).is_some());
    let s = h.sync(h.sync_req(&ids[0], ja.generation_id, vec![]));
    assert_eq!(h.synced(s).unwrap().error, ErrorCode::NONE);
    // B heartbeats but never syncs: removed at the rebalance timeout.
    for _ in 0..7 {
        h.advance(4_000);
        assert_eq!(h.heartbeat(&ids[1], generation + 1), ErrorCode::NONE);
        assert_eq!(h.heartbeat(&ids[0], generation + 1), ErrorCode::NONE);
    }
    h.advance(2_000);
    assert_eq!(h.heartbeat(&ids[1], generation + 1), ErrorCode::UNKNOWN_MEMBER_ID);
    assert_eq!(h.heartbeat(&ids[0], generation + 1), ErrorCode::REBALANCE_IN_PROGRESS);
}

#[test]
fn wrong_generation_is_illegal() {
    let mut h = H::new();
    let (ids, generation) = h.stable_group(2);
    assert_eq!(h.heartbeat(&ids[1], generation + 1), ErrorCode::ILLEGAL_GENERATION);
    assert_eq!(h.heartbeat(&ids[1], generation - 1), ErrorCode::ILLEGAL_GENERATION);
    let s = h.sync(h.sync_req(&ids[1], generation - 1, vec![]));
    assert_eq!(h.synced(s).unwrap().error, ErrorCode::ILLEGAL_GENERATION);
    let commit = OffsetCommitRequest {
        group_id: "g".into(),
        generation_id: generation - 1,
        member_id: ids[1].clone(),
        topics: vec![("t".into(), vec![CommitPartition { partition: 0, offset: 5, leader_epoch: -1, metadata: None }])],
        ..Default::default()
    };
    assert_eq!(h.c.commit_offsets(h.now, &commit), vec![("t".to_string(), vec![(0, ErrorCode::ILLEGAL_GENERATION)])]);
}

#[test]
fn unknown_member_and_group() {
    let mut h = H::new();
    // A member id for a group that does not exist: no group is made.
    let tok = h.rejoin("ghost", "c0");
    assert_eq!(h.joined(tok).unwrap().error, ErrorCode::UNKNOWN_MEMBER_ID);
    assert_eq!(h.state(), None);
    let s = h.sync(h.sync_req("ghost", 1, vec![]));
    assert_eq!(h.synced(s).unwrap().error, ErrorCode::UNKNOWN_MEMBER_ID);
    assert_eq!(h.heartbeat("ghost", 1), ErrorCode::UNKNOWN_MEMBER_ID);
    let (_, generation) = h.stable_group(1);
    let tok = h.rejoin("ghost", "c0");
    assert_eq!(h.joined(tok).unwrap().error, ErrorCode::UNKNOWN_MEMBER_ID);
    let s = h.sync(h.sync_req("ghost", generation, vec![]));
    assert_eq!(h.synced(s).unwrap().error, ErrorCode::UNKNOWN_MEMBER_ID);
    assert_eq!(h.heartbeat("ghost", generation), ErrorCode::UNKNOWN_MEMBER_ID);
    assert_eq!(h.state(), Some(GroupState::Stable));
}

#[test]
fn illegal_transitions_and_bad_input() {
    let mut h = H::with(GroupConfig { max_size: 2, ..GroupConfig::default() });
    let bad = |f: fn(&mut JoinRequest)| {
        let mut r = join_req("", "c0");
        f(&mut r);
        r
    };
    for (req, code) in [
        (bad(|r| r.group_id.clear()), ErrorCode::INVALID_GROUP_ID),
        (bad(|r| r.session_timeout_ms = 10), ErrorCode::INVALID_SESSION_TIMEOUT),
        (bad(|r| r.session_timeout_ms = -1), ErrorCode::INVALID_SESSION_TIMEOUT),
        (bad(|r| r.session_timeout_ms = i32::MAX), ErrorCode::INVALID_SESSION_TIMEOUT),
        (bad(|r| r.protocols.clear()), ErrorCode::INCONSISTENT_GROUP_PROTOCOL),
        (bad(|r| r.protocol_type.clear()), ErrorCode::INCONSISTENT_GROUP_PROTOCOL),
    ] {
        let tok = h.join(req);
        assert_eq!(h.joined(tok).unwrap().error, code);
    }
    let (ids, generation) = h.stable_group(1);
    // A member whose protocols share nothing with the group's.
    let tok = h.join(JoinRequest { protocols: protocols(&["sticky"], "x"), ..join_req("", "x") });
    assert_eq!(h.joined(tok).unwrap().error, ErrorCode::INCONSISTENT_GROUP_PROTOCOL);
    let tok = h.join(JoinRequest { protocol_type: "connect".into(), ..join_req("", "x") });
    assert_eq!(h.joined(tok).unwrap().error, ErrorCode::INCONSISTENT_GROUP_PROTOCOL);
    // Sync with the wrong protocol name.
    let mut req = h.sync_req(&ids[0], generation, vec![]);
    req.protocol_name = Some("roundrobin".into());
    let s = h.sync(req);
    assert_eq!(h.synced(s).unwrap().error, ErrorCode::INCONSISTENT_GROUP_PROTOCOL);
    // group.max.size = 2: a second member, then a third is refused.
    let (b, b_tok) = h.new_member("c1");
    let tok = h.join(join_req("", "c2"));
    assert_eq!(h.joined(tok).unwrap().error, ErrorCode::GROUP_MAX_SIZE_REACHED);
    // Sync during PreparingRebalance.
    let s = h.sync(h.sync_req(&ids[0], generation, vec![]));
    assert_eq!(h.synced(s).unwrap().error, ErrorCode::REBALANCE_IN_PROGRESS);
    let a_tok = h.rejoin(&ids[0], "c0");
    let ja = h.joined(a_tok).unwrap().clone();
    assert!(h.joined(b_tok).is_some());
    // Commit during CompletingRebalance.
    let commit = OffsetCommitRequest {
        group_id: "g".into(),
        generation_id: ja.generation_id,
        member_id: b.clone(),
        topics: vec![("t".into(), vec![CommitPartition { partition: 0, offset: 5, leader_epoch: -1, metadata: None }])],
        ..Default::default()
    };
    assert_eq!(h.c.commit_offsets(h.now, &commit)[0].1[0].1, ErrorCode::REBALANCE_IN_PROGRESS);
    // Empty group: a sync from a former member.
    h.c.leave(h.now, "g", vec![LeaveMember { member_id: ids[0].clone(), group_instance_id: None }]);
    h.drain();
    h.c.leave(h.now, "g", vec![LeaveMember { member_id: b.clone(), group_instance_id: None }]);
    h.drain();
    assert_eq!(h.state(), Some(GroupState::Empty));
    let s = h.sync(h.sync_req(&b, ja.generation_id, vec![]));
    assert_eq!(h.synced(s).unwrap().error, ErrorCode::UNKNOWN_MEMBER_ID);
    assert_eq!(h.heartbeat(&b, ja.generation_id), ErrorCode::UNKNOWN_MEMBER_ID);
    // Empty group ids elsewhere.
    assert_eq!(h.c.heartbeat(h.now, &HeartbeatRequest::default()), ErrorCode::INVALID_GROUP_ID);
    assert_eq!(h.c.leave(h.now, "", vec![]).error, ErrorCode::INVALID_GROUP_ID);
    assert_eq!(
        h.c.sync(h.now, SyncRequest::default(), 0),
        Deferred::Now(SyncAnswer::error(ErrorCode::INVALID_GROUP_ID))
    );
}

#[test]
fn a_second_join_while_parked_answers_the_first() {
    let mut h = H::new();
    let (ids, _) = h.stable_group(2);
    let first = h.rejoin(&ids[0], "c0");
    assert!(h.joined(first).is_none());
    let second = h.rejoin(&ids[0], "c0");
    assert_eq!(h.joined(first).unwrap().error, ErrorCode::REBALANCE_IN_PROGRESS);
    assert!(h.joined(second).is_none());
    let b = h.rejoin(&ids[1], "c1");
    assert_eq!(h.joined(second).unwrap().error, ErrorCode::NONE);
    assert_eq!(h.joined(b).unwrap().error, ErrorCode::NONE);
}

#[test]
fn a_follower_rejoining_unchanged_gets_the_current_generation() {
    let mut h = H::new();
    let (ids, generation) = h.stable_group(2);
    let tok = h.rejoin(&ids[1], "c1");
    let a = h.joined(tok).unwrap();
    assert_eq!((a.error, a.generation_id, a.leader.as_str()), (ErrorCode::NONE, generation, ids[0].as_str()));
    assert_eq!(h.state(), Some(GroupState::Stable));
    // The leader rejoining starts a rebalance (it may want to reassign).
    let tok = h.rejoin(&ids[0], "c0");
    assert!(h.joined(tok).is_none());
    assert_eq!(h.state(), Some(GroupState::PreparingRebalance));
    // So does a follower with new metadata.
    let mut h = H::new();
    let (ids, _) = h.stable_group(2);
    let tok = h.join(JoinRequest { protocols: protocols(&["range"], "changed"), ..join_req(&ids[1], "c1") });
    assert!(h.joined(tok).is_none());
    assert_eq!(h.state(), Some(GroupState::PreparingRebalance));
}

fn static_group(h: &mut H) -> (String, String, i32) {
    let ta = h.join(static_req("", "a"));
    let ja = h.joined(ta).unwrap().clone();
    assert_eq!(ja.error, ErrorCode::NONE, "static members skip MEMBER_ID_REQUIRED");
    assert!(ja.member_id.starts_with("a-"));
    h.sync_all(&ja, &[]);
    let tb = h.join(static_req("", "b"));
    let ta = h.join(static_req(&ja.member_id, "a"));
    let (ja, jb) = (h.joined(ta).unwrap().clone(), h.joined(tb).unwrap().clone());
    assert_eq!(ja.members[1].group_instance_id.as_deref(), Some("b"));
    h.sync_all(&ja, &[&jb.member_id]);
    (ja.member_id, jb.member_id, ja.generation_id)
}

#[test]
fn static_member_rejoins_without_rebalance_and_fences_its_old_id() {
    let mut h = H::with(GroupConfig { max_size: 2, ..GroupConfig::default() });
    let (a, b, generation) = static_group(&mut h);
    // b restarts: no member id, same instance id.
    let tok = h.join(static_req("", "b"));
    let j = h.joined(tok).unwrap().clone();
    assert_eq!(j.error, ErrorCode::NONE);
    assert_ne!(j.member_id, b);
    assert!(j.member_id.starts_with("b-"), "a full group (max size 2) takes its static member back");
    assert_eq!((j.generation_id, j.leader.as_str()), (generation, a.as_str()));
    assert_eq!(h.state(), Some(GroupState::Stable), "no rebalance");
    let hb = |id: &str| HeartbeatRequest {
        group_id: "g".into(),
        generation_id: generation,
        member_id: id.into(),
        group_instance_id: Some("b".into()),
    };
    assert_eq!(h.c.heartbeat(h.now, &hb(&b)), ErrorCode::FENCED_INSTANCE_ID);
    assert_eq!(h.c.heartbeat(h.now, &hb(&j.member_id)), ErrorCode::NONE);
    // The new id syncs and gets the assignment the old one had.
    let mut req = h.sync_req(&j.member_id, generation, vec![]);
    req.group_instance_id = Some("b".into());
    let s = h.sync(req);
    assert_eq!(h.synced(s).unwrap().assignment, format!("assign:{b}").into_bytes());
    // The old id rejoining with its instance id is fenced.
    let tok = h.join(static_req(&b, "b"));
    assert_eq!(h.joined(tok).unwrap().error, ErrorCode::FENCED_INSTANCE_ID);
    // The static leader restarting keeps the generation; the answer names the old leader id so
    // that the new one does not assign.
    let tok = h.join(static_req("", "a"));
    let j = h.joined(tok).unwrap().clone();
    assert_eq!(j.leader, a);
    assert_ne!(j.member_id, a);
    assert!(j.members.is_empty());
    assert_eq!(h.state(), Some(GroupState::Stable));
    assert_eq!(h.group().leader_id.as_deref(), Some(j.member_id.as_str()));
}

#[test]
fn static_member_leaves_by_instance_id() {
    let mut h = H::new();
    let (a, _, generation) = static_group(&mut h);
    let who = LeaveMember { member_id: String::new(), group_instance_id: Some("b".into()) };
    let fenced = LeaveMember { member_id: "wrong".into(), group_instance_id: Some("a".into()) };
    let unknown = LeaveMember { member_id: String::new(), group_instance_id: Some("z".into()) };
    let answer = h.c.leave(h.now, "g", vec![who, fenced, unknown]);
    let codes: Vec<ErrorCode> = answer.members.iter().map(|(_, e)| *e).collect();
    assert_eq!(codes, [ErrorCode::NONE, ErrorCode::FENCED_INSTANCE_ID, ErrorCode::UNKNOWN_MEMBER_ID]);
    assert_eq!(h.state(), Some(GroupState::PreparingRebalance));
    let tok = h.join(static_req(&a, "a"));
    let j = h.joined(tok).unwrap();
    assert_eq!((j.generation_id, j.members.len()), (generation + 1, 1));
}

#[test]
fn static_member_replaced_while_parked_is_fenced() {
    let mut h = H::new();
    let (a, b, _) = static_group(&mut h);
    let ta = h.join(static_req(&a, "a"));
    let tb = h.join(static_req(&b, "b"));
    let ja = h.joined(ta).unwrap().clone();
    assert!(h.joined(tb).is_some());
    let mut req = h.sync_req(&b, ja.generation_id, vec![]);
    req.group_instance_id = Some("b".into());
    let parked = h.sync(req);
    assert!(h.synced(parked).is_none());
    // b restarts while its old id waits in SyncGroup: the old sync is fenced, the group
    // rebalances (CompletingRebalance).
    let tok = h.join(static_req("", "b"));
    assert_eq!(h.synced(parked).unwrap().error, ErrorCode::FENCED_INSTANCE_ID);
    assert!(h.joined(tok).is_none());
    assert_eq!(h.state(), Some(GroupState::PreparingRebalance));
    let ta = h.join(static_req(&a, "a"));
    assert_eq!(h.joined(ta).unwrap().members.len(), 2);
    assert_eq!(h.joined(tok).unwrap().error, ErrorCode::NONE);
}

fn commit(generation_id: i32, member_id: &str, offset: i64) -> OffsetCommitRequest {
    OffsetCommitRequest {
        group_id: "g".into(),
        generation_id,
        member_id: member_id.into(),
        group_instance_id: None,
        topics: vec![(
            "t".into(),
            vec![
                CommitPartition { partition: 0, offset, leader_epoch: 3, metadata: Some("m".into()) },
                CommitPartition { partition: 1, offset: offset + 1, leader_epoch: -1, metadata: None },
            ],
        )],
    }
}

#[test]
fn offsets_commit_and_fetch() {
    let mut h = H::new();
    let ok = vec![("t".to_string(), vec![(0, ErrorCode::NONE), (1, ErrorCode::NONE)])];
    // Nothing committed: -1, no error, for a group nobody knows.
    let f = h.c.fetch_offsets("g", Some(&[("t".into(), vec![0])]));
    assert_eq!(f.error, ErrorCode::NONE);
    assert_eq!(
        f.topics[0].1[0],
        FetchedOffset { partition: 0, offset: -1, leader_epoch: -1, metadata: String::new(), error: ErrorCode::NONE }
    );
    assert!(h.c.fetch_offsets("g", None).topics.is_empty());
    // A commit with a generation to a group that does not exist.
    assert_eq!(h.c.commit_offsets(h.now, &commit(1, "x", 5))[0].1[0].1, ErrorCode::ILLEGAL_GENERATION);
    // A simple commit creates the group, Empty.
    assert_eq!(h.c.commit_offsets(h.now, &commit(-1, "", 5)), ok);
    assert_eq!(h.state(), Some(GroupState::Empty));
    let f = h.c.fetch_offsets("g", Some(&[("t".into(), vec![0, 1, 2]), ("u".into(), vec![0])]));
    let offsets: Vec<(i32, i64, i32, &str)> =
        f.topics[0].1.iter().map(|o| (o.partition, o.offset, o.leader_epoch, o.metadata.as_str())).collect();
    assert_eq!(offsets, [(0, 5, 3, "m"), (1, 6, -1, ""), (2, -1, -1, "")]);
    assert_eq!(f.topics[1].1[0].offset, -1);
    // Members commit with their generation; simple commits are refused while it has members.
    let (ids, generation) = h.stable_group(1);
    assert_eq!(h.c.commit_offsets(h.now, &commit(-1, "", 7))[0].1[0].1, ErrorCode::UNKNOWN_MEMBER_ID);
    assert_eq!(h.c.commit_offsets(h.now, &commit(generation, "intruder", 7))[0].1[0].1, ErrorCode::UNKNOWN_MEMBER_ID);
    assert_eq!(h.c.commit_offsets(h.now, &commit(generation, &ids[0], 10)), ok);
    // Every committed partition, in order.
    let all = h.c.fetch_offsets("g", None);
    assert_eq!(all.topics.len(), 1);
    assert_eq!(all.topics[0].1.iter().map(|o| o.offset).collect::<Vec<_>>(), [10, 11]);
    // Offsets survive the group becoming Empty (and keep it listed).
    h.c.leave(h.now, "g", vec![LeaveMember { member_id: ids[0].clone(), group_instance_id: None }]);
    assert_eq!(h.state(), Some(GroupState::Empty));
    assert_eq!(h.c.fetch_offsets("g", None).topics[0].1[0].offset, 10);
    assert_eq!(h.c.commit_offsets(h.now, &commit(-1, "", 12)), ok, "Empty again: simple commits are back");
    // Metadata over offset.metadata.max.bytes.
    let mut big = commit(-1, "", 1);
    big.topics[0].1[0].metadata = Some("x".repeat(5_000));
    assert_eq!(h.c.commit_offsets(h.now, &big)[0].1, [(0, ErrorCode::OFFSET_METADATA_TOO_LARGE), (1, ErrorCode::NONE)]);
}

#[test]
fn offsets_per_group_are_bounded() {
    let mut h = H::with(GroupConfig { max_offsets_per_group: 3, ..GroupConfig::default() });
    let mut req = commit(-1, "", 0);
    req.topics[0].1 =
        (0..5).map(|p| CommitPartition { partition: p, offset: 1, leader_epoch: -1, metadata: None }).collect();
    let codes: Vec<ErrorCode> = h.c.commit_offsets(h.now, &req)[0].1.iter().map(|(_, e)| *e).collect();
    assert_eq!(codes[..3], [ErrorCode::NONE; 3]);
    assert_eq!(codes[3..], [ErrorCode::INVALID_COMMIT_OFFSET_SIZE; 2]);
    // Updating a stored partition still works at the limit.
    assert_eq!(h.c.commit_offsets(h.now, &commit(-1, "", 9))[0].1[0].1, ErrorCode::NONE);
}

#[test]
fn groups_are_bounded() {
    let mut h = H::with(GroupConfig { max_groups: 2, ..GroupConfig::default() });
    let mut req = commit(-1, "", 0);
    for g in ["g1", "g2"] {
        req.group_id = g.into();
        assert_eq!(h.c.commit_offsets(h.now, &req)[0].1[0].1, ErrorCode::NONE);
    }
    req.group_id = "g3".into();
    assert_eq!(h.c.commit_offsets(h.now, &req)[0].1[0].1, ErrorCode::COORDINATOR_NOT_AVAILABLE);
    let tok = h.join(join_req("", "c0"));
    assert_eq!(h.joined(tok).unwrap().error, ErrorCode::COORDINATOR_NOT_AVAILABLE);
    // An Empty group without offsets makes room.
    let mut h = H::with(GroupConfig { max_groups: 1, ..GroupConfig::default() });
    let (ids, _) = h.stable_group(1);
    h.c.leave(h.now, "g", vec![LeaveMember { member_id: ids[0].clone(), group_instance_id: None }]);
    req.group_id = "g2".into();
    assert_eq!(h.c.commit_offsets(h.now, &req)[0].1[0].1, ErrorCode::NONE);
    assert_eq!((h.c.group_count(), h.state()), (1, None));
}

#[test]
fn protocol_vote() {
    let mut h = H::new();
    let j = |h: &mut H, id: &str, client: &str, names: &[&str]| {
        h.join(JoinRequest {
            protocols: protocols(names, client),
            require_known_member_id: false,
            ..join_req(id, client)
        })
    };
    let t0 = j(&mut h, "", "c0", &["roundrobin", "range", "sticky"]);
    let a = h.joined(t0).unwrap().clone();
    assert_eq!(a.protocol_name.as_deref(), Some("roundrobin"));
    h.sync_all(&a, &[]);
    let t1 = j(&mut h, "", "c1", &["range", "roundrobin"]);
    let t2 = j(&mut h, "", "c2", &["range", "sticky", "roundrobin"]);
    let t0 = j(&mut h, &a.member_id, "c0", &["roundrobin", "range", "sticky"]);
    // Common: roundrobin, range. Votes: roundrobin 1, range 2.
    for tok in [t0, t1, t2] {
        assert_eq!(h.joined(tok).unwrap().protocol_name.as_deref(), Some("range"));
    }
    let leader = h.joined(t0).unwrap();
    assert_eq!(leader.members[2].metadata, b"range:c2");
}

#[test]
fn initial_rebalance_delay_holds_the_first_rebalance() {
    let mut h =
        H::with(GroupConfig { initial_rebalance_delay: Duration::from_millis(3_000), ..GroupConfig::default() });
    let (_, t0) = h.new_member("c0");
    assert!(h.joined(t0).is_none());
    assert_eq!(h.c.next_deadline(), Some(t(3_000)));
    h.advance(2_000);
    let (_, t1) = h.new_member("c1");
    h.advance(1_000);
    // A member came during the delay: it extends by the delay.
    assert!(h.joined(t0).is_none());
    h.advance(3_000);
    let (a0, a1) = (h.joined(t0).unwrap(), h.joined(t1).unwrap());
    assert_eq!((a0.generation_id, a1.generation_id), (1, 1));
    assert_eq!(a0.members.len(), 2);
}

#[test]
fn dropped_tokens_are_never_answered() {
    let mut h = H::new();
    let (ids, generation) = h.stable_group(2);
    let tok = h.rejoin(&ids[0], "c0");
    assert_eq!(h.c.drop_tokens(|t| *t == tok), 1);
    let b = h.rejoin(&ids[1], "c1");
    assert!(h.joined(tok).is_none(), "the dropped join is not answered");
    let jb = h.joined(b).unwrap();
    // ...but its member still counts as joined.
    assert_eq!((jb.generation_id, h.group().members.len()), (generation + 1, 2));
    // Answers waiting to be polled are forgotten too.
    let s = h.c.sync(h.now, h.sync_req(&ids[1], generation + 1, vec![]), 100);
    assert_eq!(s, Deferred::Later);
    let _ = h.c.sync(h.now, h.sync_req(&ids[0], generation + 1, vec![]), 101);
    assert_eq!(h.c.drop_tokens(|t| *t == 100), 1);
    assert_eq!(h.c.poll_completed().map(|c| c.token), Some(101));
    assert_eq!(h.c.poll_completed(), None);
}

#[test]
fn coordinator_move_answers_parked_requests() {
    let mut h = H::new();
    let (ids, generation) = h.stable_group(2);
    let live = [1, 2, 3];
    let before = h.c.placement.coordinator("g", &live);
    let tok = h.rejoin(&ids[0], "c0");
    h.c.move_coordinators();
    h.drain();
    assert_eq!(h.joined(tok).unwrap().error, ErrorCode::NOT_COORDINATOR);
    assert_ne!(h.c.placement.coordinator("g", &live), before);
    // The members rejoin at the new coordinator.
    let t0 = h.rejoin(&ids[0], "c0");
    let t1 = h.rejoin(&ids[1], "c1");
    assert_eq!(h.joined(t0).unwrap().generation_id, generation + 1);
    assert_eq!(h.joined(t1).unwrap().error, ErrorCode::NONE);
}

#[test]
fn list_and_describe() {
    let mut h = H::new();
    h.stable_group(1);
    let mut req = commit(-1, "", 0);
    req.group_id = "e".into();
    h.c.commit_offsets(h.now, &req);
    let all = h.c.list_groups(&[]);
    assert_eq!(
        all,
        [
            ListedGroup { group_id: "e".into(), protocol_type: String::new(), state: "Empty" },
            ListedGroup { group_id: "g".into(), protocol_type: "consumer".into(), state: "Stable" },
        ]
    );
    assert_eq!(h.c.list_groups(&["stable"]).len(), 1);
    assert_eq!(h.c.list_groups(&["Dead"]).len(), 0);
    let d = h.c.describe_groups(&["nope", "e"]);
    assert_eq!((d[0].error, d[0].state), (ErrorCode::GROUP_ID_NOT_FOUND, "Dead"));
    assert_eq!((d[1].error, d[1].state, d[1].members.len()), (ErrorCode::NONE, "Empty", 0));
    // Outside Stable, members are listed without metadata or assignment.
    let (_, tok) = h.new_member("c1");
    assert!(h.joined(tok).is_none());
    let d = &h.c.describe_groups(&["g"])[0];
    assert_eq!((d.state, d.protocol_data.as_str(), d.members.len()), ("PreparingRebalance", "", 2));
    assert!(d.members.iter().all(|m| m.metadata.is_empty() && m.assignment.is_empty()));
}

#[test]
fn member_ids_are_deterministic() {
    let ids = |seed| {
        let mut c: GroupCoordinator<u64> = GroupCoordinator::new(GroupConfig::default(), Rng::new(seed));
        let Deferred::Now(a) = c.join(Instant::ZERO, join_req("", "rdkafka"), 1) else { panic!() };
        a.member_id
    };
    assert_eq!(ids(1), ids(1));
    assert_ne!(ids(1), ids(2));
    let id = ids(1);
    let uuid = id.strip_prefix("rdkafka-").unwrap();
    let parts: Vec<usize> = uuid.split('-').map(str::len).collect();
    assert_eq!(parts, [8, 4, 4, 4, 12]);
    assert!(uuid.split('-').nth(2).unwrap().starts_with('4'));
}

// ------------------------------------------------------------------------ random walk

/// Checks the invariants of every group.
fn check_invariants(h: &H) {
    for g in h.c.groups.values() {
        assert_eq!(u64::try_from(g.generation_id).unwrap(), g.rebalances, "one generation per completed rebalance");
        assert!(g.size() <= h.c.config.max_size);
        match &g.leader_id {
            Some(l) => assert!(g.members.iter().any(|m| m.member_id == *l), "the leader is a member"),
            None => assert!(g.members.is_empty()),
        }
        match g.state {
            GroupState::Empty => assert!(g.members.is_empty()),
            GroupState::CompletingRebalance | GroupState::Stable => assert!(!g.members.is_empty()),
            GroupState::PreparingRebalance | GroupState::Dead => {}
        }
        if g.state == GroupState::Stable {
            assert!(g.members.iter().all(|m| m.assignment.is_some()), "every Stable member has an assignment");
            assert!(g.members.iter().all(|m| m.awaiting_join.is_none() && m.awaiting_sync.is_none()));
        }
        if g.state != GroupState::PreparingRebalance {
            assert!(g.members.iter().all(|m| m.awaiting_join.is_none()));
        }
        if g.state != GroupState::CompletingRebalance {
            assert!(g.members.iter().all(|m| m.awaiting_sync.is_none()));
        }
        let mut ids: Vec<&str> = g.members.iter().map(|m| m.member_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), g.members.len(), "member ids are unique");
    }
}

#[test]
fn random_operations_keep_the_invariants() {
    // How far the walks get: Stable groups of two or more seen, highest generation.
    let (mut stable_multi, mut max_generation) = (0, 0);
    for seed in 0..60u64 {
        let mut rng = Rng::new(seed);
        let mut h = H::with(GroupConfig {
            max_size: 4,
            initial_rebalance_delay: Duration::from_millis(if seed % 3 == 0 { 1_000 } else { 0 }),
            ..GroupConfig::default()
        });
        // What each client believes: (member id, generation), by client index; static if odd.
        let mut known: Vec<(String, i32)> = vec![(String::new(), -1); 5];
        let mut issued: Vec<u64> = Vec::new();
        let mut dropped: Vec<u64> = Vec::new();
        let mut generations: BTreeMap<i32, Option<String>> = BTreeMap::new();
        for _ in 0..300 {
            let k = rng.below(5) as usize;
            let client = format!("c{k}");
            let (member_id, generation) = known[k].clone();
            let generation = if rng.chance(0.1) { generation + 1 } else { generation };
            let instance = (k % 2 == 1).then(|| format!("i{k}"));
            match rng.below(9) {
                0 | 1 => {
                    let mut req = join_req(if rng.chance(0.1) { "" } else { &member_id }, &client);
                    req.group_instance_id = instance;
                    if rng.chance(0.1) {
                        req.protocols = protocols(&["sticky", "range"], &client);
                    }
                    issued.push(h.join(req));
                }
                2 | 3 => {
                    let mut req = h.sync_req(&member_id, generation, vec![]);
                    req.group_instance_id = instance;
                    req.assignments = (0..5).map(|j| (known[j].0.clone(), vec![j as u8])).collect();
                    issued.push(h.sync(req));
                }
                4 => {
                    let req = HeartbeatRequest {
                        group_id: "g".into(),
                        generation_id: generation,
                        member_id,
                        group_instance_id: instance,
                    };
                    let _ = h.c.heartbeat(h.now, &req);
                    h.drain();
                }
                5 => {
                    let who = LeaveMember {
                        member_id: if instance.is_some() && rng.chance(0.5) { String::new() } else { member_id },
                        group_instance_id: instance,
                    };
                    let _ = h.c.leave(h.now, "g", vec![who]);
                    h.drain();
                }
                6 => {
                    let _ = h.c.commit_offsets(h.now, &commit(generation, &member_id, rng.below(100) as i64));
                    h.drain();
                }
                7 => h.advance(rng.below(12_000)),
                _ => {
                    if let Some(&tok) = issued.get(rng.below(issued.len() as u64 + 1) as usize) {
                        if h.c.drop_tokens(|t| *t == tok) > 0 {
                            dropped.push(tok);
                        }
                    }
                    if rng.chance(0.1) {
                        h.c.move_coordinators();
                        h.drain();
                    }
                }
            }
            // Every member of a generation hears the same protocol.
            for (tok, a) in &h.answers {
                if let Answer::Join(j) = a {
                    if j.error == ErrorCode::NONE {
                        let e = generations.entry(j.generation_id).or_insert_with(|| j.protocol_name.clone());
                        assert_eq!(*e, j.protocol_name, "token {tok}");
                    }
                }
            }
            // Clients learn their ids and generations from the answers.
            let learned: Vec<(usize, JoinAnswer)> = h
                .answers
                .values()
                .filter_map(|a| match a {
                    Answer::Join(j) if j.error.is_ok() || j.error == ErrorCode::MEMBER_ID_REQUIRED => Some(j.clone()),
                    _ => None,
                })
                .filter_map(|j| {
                    let prefix = j.member_id.split('-').next()?.to_string();
                    let k = prefix.get(1..)?.parse::<usize>().ok()?;
                    Some((k, j))
                })
                .collect();
            for (k, j) in learned {
                if k < 5 {
                    known[k] = (j.member_id.clone(), j.generation_id.max(known[k].1));
                }
            }
            check_invariants(&h);
            if let Some(g) = h.c.groups.get("g") {
                stable_multi += usize::from(g.state == GroupState::Stable && g.members.len() > 1);
                max_generation = max_generation.max(g.generation_id);
            }
        }
        // Far in the future every member expired: every token not dropped was answered once.
        h.advance(3_600_000);
        h.advance(3_600_000);
        check_invariants(&h);
        for tok in issued {
            assert!(h.answers.contains_key(&tok) || dropped.contains(&tok), "seed {seed}: token {tok} never answered");
        }
        assert!(h.c.groups.values().all(|g| g.members.is_empty()));
    }
    assert!(stable_multi > 50 && max_generation > 10, "{stable_multi} {max_generation}");
}

#[test]
fn transactional_offsets_come_from_a_current_member_or_from_outside_the_group() {
    let mut h = H::new();
    let check =
        |h: &mut H, generation: i32, member: &str| h.c.validate_txn_offset_commit(h.now, "g", generation, member, None);
    // No group: without member fields anything goes (a transaction storing offsets), with
    // them there is no such member.
    assert_eq!(check(&mut h, -1, ""), ErrorCode::NONE);
    assert_eq!(check(&mut h, 1, "x"), ErrorCode::UNKNOWN_MEMBER_ID);
    let (ids, generation) = h.stable_group(1);
    // KIP-447: a zombie (an old generation, an unknown member) is refused ...
    assert_eq!(check(&mut h, generation - 1, &ids[0]), ErrorCode::ILLEGAL_GENERATION);
    assert_eq!(check(&mut h, generation, "intruder"), ErrorCode::UNKNOWN_MEMBER_ID);
    assert_eq!(check(&mut h, generation, &ids[0]), ErrorCode::NONE);
    // ... but, unlike OffsetCommit, a commit without member fields is not, members or not.
    assert_eq!(check(&mut h, -1, ""), ErrorCode::NONE);
}
