//! The group coordinator's inputs and answers: plain values, one per classic group API, free of
//! wire versions (the request handlers map them to and from the codecs).

use crate::proto::ErrorCode;
use alloc::string::String;
use alloc::vec::Vec;

/// Kafka's "no generation" (`UNKNOWN_GENERATION_ID`): in error answers and simple commits.
pub(crate) const NO_GENERATION: i32 = -1;

/// One protocol a member supports (JoinGroup's `protocols`), e.g. `range` with its
/// subscription metadata, in the member's order of preference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JoinProtocol {
    /// The protocol (assignor) name.
    pub(crate) name: String,
    /// Opaque metadata (the consumer's subscription).
    pub(crate) metadata: Vec<u8>,
}

/// A JoinGroup request.
#[derive(Clone, Debug, Default)]
pub(crate) struct JoinRequest {
    /// The group.
    pub(crate) group_id: String,
    /// `session.timeout.ms`.
    pub(crate) session_timeout_ms: i32,
    /// `max.poll.interval.ms` (v1+); v0 handlers pass the session timeout.
    pub(crate) rebalance_timeout_ms: i32,
    /// The member id, empty on a first join.
    pub(crate) member_id: String,
    /// `group.instance.id` (v5+): a static member.
    pub(crate) group_instance_id: Option<String>,
    /// The protocol type (`consumer`).
    pub(crate) protocol_type: String,
    /// The protocols the member supports, preferred first.
    pub(crate) protocols: Vec<JoinProtocol>,
    /// Whether a member without id gets MEMBER_ID_REQUIRED first (JoinGroup v4+).
    pub(crate) require_known_member_id: bool,
    /// The client id of the request header.
    pub(crate) client_id: String,
    /// The client's host (as DescribeGroups shows it, e.g. `/127.0.0.1`).
    pub(crate) client_host: String,
}

/// A member as the leader's JoinGroup answer lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JoinMember {
    /// Its member id.
    pub(crate) member_id: String,
    /// Its `group.instance.id`.
    pub(crate) group_instance_id: Option<String>,
    /// Its metadata for the chosen protocol.
    pub(crate) metadata: Vec<u8>,
}

/// A JoinGroup answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JoinAnswer {
    /// NONE, MEMBER_ID_REQUIRED (with `member_id` to rejoin with) or an error.
    pub(crate) error: ErrorCode,
    /// The generation (-1 on error).
    pub(crate) generation_id: i32,
    /// The group's protocol type.
    pub(crate) protocol_type: Option<String>,
    /// The chosen protocol.
    pub(crate) protocol_name: Option<String>,
    /// The leader's member id (empty on error).
    pub(crate) leader: String,
    /// The member's id (a new one after MEMBER_ID_REQUIRED or a static member's rejoin).
    pub(crate) member_id: String,
    /// Every member with its metadata for the leader; empty for followers.
    pub(crate) members: Vec<JoinMember>,
}

impl JoinAnswer {
    /// An error answer that echoes `member_id`.
    pub(crate) fn error(member_id: &str, error: ErrorCode) -> JoinAnswer {
        JoinAnswer {
            error,
            generation_id: NO_GENERATION,
            protocol_type: None,
            protocol_name: None,
            leader: String::new(),
            member_id: String::from(member_id),
            members: Vec::new(),
        }
    }
}

/// A SyncGroup request.
#[derive(Clone, Debug, Default)]
pub(crate) struct SyncRequest {
    /// The group.
    pub(crate) group_id: String,
    /// The generation the member joined.
    pub(crate) generation_id: i32,
    /// The member id.
    pub(crate) member_id: String,
    /// `group.instance.id` (v3+).
    pub(crate) group_instance_id: Option<String>,
    /// The protocol type the member expects (v5+), checked if present.
    pub(crate) protocol_type: Option<String>,
    /// The protocol the member expects (v5+), checked if present.
    pub(crate) protocol_name: Option<String>,
    /// The leader's assignment per member id (empty from followers).
    pub(crate) assignments: Vec<(String, Vec<u8>)>,
}

/// A SyncGroup answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyncAnswer {
    /// NONE or an error.
    pub(crate) error: ErrorCode,
    /// The group's protocol type (v5+).
    pub(crate) protocol_type: Option<String>,
    /// The group's protocol (v5+).
    pub(crate) protocol_name: Option<String>,
    /// The member's assignment (empty on error).
    pub(crate) assignment: Vec<u8>,
}

impl SyncAnswer {
    /// An error answer.
    pub(crate) fn error(error: ErrorCode) -> SyncAnswer {
        SyncAnswer { error, protocol_type: None, protocol_name: None, assignment: Vec::new() }
    }
}

/// A Heartbeat request.
#[derive(Clone, Debug, Default)]
pub(crate) struct HeartbeatRequest {
    /// The group.
    pub(crate) group_id: String,
    /// The member's generation.
    pub(crate) generation_id: i32,
    /// The member id.
    pub(crate) member_id: String,
    /// `group.instance.id` (v3+).
    pub(crate) group_instance_id: Option<String>,
}

/// One member leaving (LeaveGroup v3+ lists several; v0-2 one, by member id).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LeaveMember {
    /// The member id; may be empty when `group_instance_id` names a static member.
    pub(crate) member_id: String,
    /// `group.instance.id`.
    pub(crate) group_instance_id: Option<String>,
}

/// A LeaveGroup answer: a request-level error and one code per member, in request order
/// (v0-2 handlers answer the single member's code at the top level).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LeaveAnswer {
    /// NONE, or an error for the whole request.
    pub(crate) error: ErrorCode,
    /// Per member: who and the outcome.
    pub(crate) members: Vec<(LeaveMember, ErrorCode)>,
}

/// One partition's offset to commit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CommitPartition {
    /// The partition index.
    pub(crate) partition: i32,
    /// The offset (the next record to consume).
    pub(crate) offset: i64,
    /// The leader epoch of the last consumed record (-1 unknown; v6+).
    pub(crate) leader_epoch: i32,
    /// Client metadata (`None` is stored as an empty string, as Kafka does).
    pub(crate) metadata: Option<String>,
}

/// An OffsetCommit request.
#[derive(Clone, Debug, Default)]
pub(crate) struct OffsetCommitRequest {
    /// The group.
    pub(crate) group_id: String,
    /// The member's generation; -1 for a commit from outside the group (simple consumer).
    pub(crate) generation_id: i32,
    /// The member id; empty for a commit from outside the group.
    pub(crate) member_id: String,
    /// `group.instance.id` (v7+).
    pub(crate) group_instance_id: Option<String>,
    /// Offsets per topic.
    pub(crate) topics: Vec<(String, Vec<CommitPartition>)>,
}

/// An OffsetCommit answer: one code per partition, in request order.
pub(crate) type OffsetCommitAnswer = Vec<(String, Vec<(i32, ErrorCode)>)>;

/// A committed offset as OffsetFetch answers it (offset -1, leader epoch -1 and empty metadata
/// for a partition without a commit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FetchedOffset {
    /// The partition index.
    pub(crate) partition: i32,
    /// The committed offset, -1 if none.
    pub(crate) offset: i64,
    /// The committed leader epoch, -1 if none.
    pub(crate) leader_epoch: i32,
    /// The committed metadata.
    pub(crate) metadata: String,
    /// Per-partition error (NONE).
    pub(crate) error: ErrorCode,
}

/// An OffsetFetch answer for one group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OffsetFetchAnswer {
    /// Group-level error (NONE).
    pub(crate) error: ErrorCode,
    /// Offsets per topic: the listed partitions, or every committed one when no list was given.
    pub(crate) topics: Vec<(String, Vec<FetchedOffset>)>,
}

/// A group as ListGroups lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ListedGroup {
    /// The group id.
    pub(crate) group_id: String,
    /// Its protocol type (empty if none yet).
    pub(crate) protocol_type: String,
    /// Its state, as Kafka spells it (v4+).
    pub(crate) state: &'static str,
}

/// A member as DescribeGroups shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DescribedMember {
    /// Its member id.
    pub(crate) member_id: String,
    /// Its `group.instance.id` (v4+).
    pub(crate) group_instance_id: Option<String>,
    /// Its client id.
    pub(crate) client_id: String,
    /// Its host.
    pub(crate) client_host: String,
    /// Its metadata for the chosen protocol (empty unless the group is Stable).
    pub(crate) metadata: Vec<u8>,
    /// Its assignment (empty unless the group is Stable).
    pub(crate) assignment: Vec<u8>,
}

/// A group as DescribeGroups describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DescribedGroup {
    /// NONE, or GROUP_ID_NOT_FOUND for a group the coordinator does not know (state `Dead`);
    /// DescribeGroups before v6 answers NONE with state `Dead` there.
    pub(crate) error: ErrorCode,
    /// The group id.
    pub(crate) group_id: String,
    /// Its state, as Kafka spells it.
    pub(crate) state: &'static str,
    /// Its protocol type.
    pub(crate) protocol_type: String,
    /// The chosen protocol when Stable, else empty (Kafka's `protocol_data`).
    pub(crate) protocol_data: String,
    /// Its members.
    pub(crate) members: Vec<DescribedMember>,
}

/// An answer that may wait (JoinGroup and SyncGroup park until the rebalance gets there).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Deferred<A> {
    /// The answer, now.
    Now(A),
    /// The answer will come out of
    /// [`GroupCoordinator::poll_completed`](super::GroupCoordinator::poll_completed) under the
    /// request's token (possibly already after this call).
    Later,
}

/// A parked request's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// A JoinGroup answer.
    Join(JoinAnswer),
    /// A SyncGroup answer.
    Sync(SyncAnswer),
}

/// A parked request answered: `token` is the value the caller gave with the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Completed<T> {
    /// The caller's token (its connection and correlation id).
    pub(crate) token: T,
    /// The answer.
    pub(crate) answer: Answer,
}
