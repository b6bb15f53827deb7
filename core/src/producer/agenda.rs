//! The agenda: which partitions a drive pass must look at, so that a pass costs what changed,
//! not the number of partitions (a producer may write to 10,000 of them).
//!
//! A partition is *listed* for the next pass when something changed it (a record opened or
//! sealed one of its batches, an answer or a lost request concerned it, a pass sent from it) or
//! when one of its deadlines came due (`linger.ms` of its open batch, `delivery.timeout.ms` of
//! its oldest batch, the end of its retry backoff). Rare events that may change any partition
//! (a connection lost, new metadata, a new producer identity, flush) make the pass look at every
//! partition instead; exhausted memory makes it look at every partition with an open batch.
//!
//! What the agenda keeps between passes, derived from each partition's state when it was last
//! looked at (its `Marks`):
//! - three deadline queues (min-heaps with lazy deletion: an entry is valid while it equals the
//!   deadline the partition registered), whose earliest valid entries are the producer's
//!   linger, delivery and retry timers;
//! - per leader, the partitions that may have a batch to send, from which Produce requests are
//!   filled;
//! - per leader, how many partitions want a connection to it.
//!
//! The rule that keeps this exact: every change to a partition's send state goes with listing
//! it (or with looking at every partition). Debug builds check after every pass that the timers,
//! the send lists and the counts equal what a scan of every partition gives.

use alloc::collections::BinaryHeap;
use alloc::vec::Vec;
use core::cmp::Reverse;

use super::timer::{PARTITION_TIMERS, TimerKind};
use crate::time::Instant;

/// A partition's place: its topic's index and its partition number, ordered as passes visit
/// partitions (topic, then partition).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PartKey {
    /// Index of the topic in the producer's topic table.
    pub(crate) topic: u32,
    /// Partition number (also its index in the topic's partitions).
    pub(crate) partition: u32,
}

impl PartKey {
    /// The key of partition `partition` of topic `topic`.
    pub(crate) fn new(topic: usize, partition: usize) -> PartKey {
        PartKey { topic: topic as u32, partition: partition as u32 }
    }

    /// Index of the topic.
    pub(crate) fn t(self) -> usize {
        self.topic as usize
    }

    /// Index of the partition in its topic.
    pub(crate) fn p(self) -> usize {
        self.partition as usize
    }
}

/// What the agenda recorded about one partition when it last looked at it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Marks {
    /// Listed for the next pass.
    pub(crate) listed: bool,
    /// Registered deadlines, one per kind of [`PARTITION_TIMERS`].
    pub(crate) deadlines: [Option<Instant>; PARTITION_TIMERS.len()],
    /// The leader whose send list holds this partition.
    pub(crate) send_list: Option<i32>,
    /// On the list of partitions with an open batch.
    pub(crate) open: bool,
    /// The leader this partition counts as wanting a connection to.
    pub(crate) wants_conn: Option<i32>,
    /// Batches in flight, as last counted into the producer's total.
    pub(crate) in_flight: usize,
}

/// Where a partition's [`Marks`] are kept.
pub(crate) trait MarksTable {
    /// The marks of `key`, if it names a partition.
    fn marks(&mut self, key: PartKey) -> Option<&mut Marks>;
}

/// The agenda (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct Agenda {
    /// The next pass looks at every partition.
    all: bool,
    /// Listed partitions (each once: [`Marks::listed`]).
    listed: Vec<PartKey>,
    /// Partitions to list again once the current pass ends.
    carried: Vec<PartKey>,
    /// Whether `listed` is in key order.
    sorted: bool,
    /// The list being walked by a pass step (kept to reuse its allocation).
    walking: Vec<PartKey>,
    /// Deadline queues, one per kind of [`PARTITION_TIMERS`].
    queues: [BinaryHeap<Reverse<(Instant, PartKey)>>; PARTITION_TIMERS.len()],
    /// Per leader: partitions that may have a batch to send. Outside a move (below), each
    /// partition whose marks name a leader is on that leader's list exactly once, and on no
    /// other list.
    send_lists: Vec<(i32, Vec<PartKey>)>,
    /// A partition moved to another leader's list: its entry on the old list is stale (and a
    /// move back would list it twice) until the next walk of a list purges every list.
    moved: bool,
    /// Partitions that had an open batch when last looked at (and maybe some that no longer
    /// have one): what a pass must look at when memory ran out.
    pub(crate) open: Vec<PartKey>,
    /// Per leader: partitions wanting a connection to it.
    wanted: Vec<(i32, usize)>,
    /// Batches in flight over all partitions.
    pub(crate) in_flight: u64,
}

impl Agenda {
    /// Makes the next pass (and the rest of the current one) look at every partition.
    pub(crate) fn list_all(&mut self) {
        self.all = true;
    }

    /// Whether the current pass looks at every partition.
    pub(crate) fn all(&self) -> bool {
        self.all
    }

    /// Lists `key` for the next pass (a no-op for an unknown partition).
    pub(crate) fn list(&mut self, key: PartKey, table: &mut (impl MarksTable + ?Sized)) {
        if let Some(marks) = table.marks(key) {
            self.list_marks(key, marks);
        }
    }

    /// Lists `key`, whose marks are `marks`, for the next pass.
    pub(crate) fn list_marks(&mut self, key: PartKey, marks: &mut Marks) {
        if !marks.listed {
            marks.listed = true;
            if self.listed.last().is_some_and(|&last| last > key) {
                self.sorted = false;
            }
            self.listed.push(key);
        }
    }

    /// Takes the listed partitions, in key order, for a step to walk; give them back with
    /// [`Agenda::end_walk`].
    pub(crate) fn begin_walk(&mut self) -> Vec<PartKey> {
        if !self.sorted {
            self.listed.sort_unstable();
            self.sorted = true;
        }
        let mut list = core::mem::take(&mut self.walking);
        list.clear();
        list.extend_from_slice(&self.listed);
        list
    }

    /// Gives back the list taken by [`Agenda::begin_walk`].
    pub(crate) fn end_walk(&mut self, list: Vec<PartKey>) {
        self.walking = list;
    }

    /// Ends a pass: every partition is unlisted.
    pub(crate) fn end_pass(&mut self, table: &mut (impl MarksTable + ?Sized)) {
        for &key in &self.listed {
            if let Some(m) = table.marks(key) {
                m.listed = false;
            }
        }
        self.all = false;
        self.listed.clear();
        self.sorted = true;
        for key in core::mem::take(&mut self.carried) {
            self.list(key, table);
        }
    }

    /// Lists `key` for the next pass even if the current one already looked at it: for a
    /// change made after the steps that act on it (a batch lost with its connection is given
    /// up by the next pass's expiry step once its retries are spent).
    pub(crate) fn list_next_pass(&mut self, key: PartKey) {
        self.carried.push(key);
    }

    /// Registers `key`'s deadline of `kind` (`None`: none).
    pub(crate) fn set_deadline(&mut self, key: PartKey, marks: &mut Marks, kind: TimerKind, at: Option<Instant>) {
        let slot = &mut marks.deadlines[kind as usize];
        if *slot != at {
            *slot = at;
            if let Some(at) = at {
                self.queues[kind as usize].push(Reverse((at, key)));
            }
        }
    }

    /// The earliest valid deadline of `kind` (dropping stale entries on the way).
    pub(crate) fn earliest(&mut self, kind: TimerKind, table: &mut (impl MarksTable + ?Sized)) -> Option<Instant> {
        let q = &mut self.queues[kind as usize];
        while let Some(&Reverse((at, key))) = q.peek() {
            if table.marks(key).is_some_and(|m| m.deadlines[kind as usize] == Some(at)) {
                return Some(at);
            }
            q.pop();
        }
        None
    }

    /// Lists every partition with a valid deadline at or before `now`, popping those entries.
    pub(crate) fn list_due(&mut self, now: Instant, table: &mut (impl MarksTable + ?Sized)) {
        for kind in PARTITION_TIMERS {
            while let Some(&Reverse((at, key))) = self.queues[kind as usize].peek() {
                if at > now {
                    break;
                }
                self.queues[kind as usize].pop();
                let Some(marks) = table.marks(key) else { continue };
                if marks.deadlines[kind as usize] == Some(at) {
                    // Consumed: the pass registers the partition's deadline again (maybe the
                    // same instant, which must then go back into the queue).
                    marks.deadlines[kind as usize] = None;
                    self.list(key, table);
                }
            }
        }
    }

    /// Puts `key` on `node`'s send list unless it is there.
    pub(crate) fn add_to_send_list(&mut self, key: PartKey, marks: &mut Marks, node: i32) {
        if marks.send_list == Some(node) {
            return;
        }
        self.moved |= marks.send_list.is_some();
        marks.send_list = Some(node);
        match self.send_lists.iter_mut().find(|(n, _)| *n == node) {
            Some((_, list)) => list.push(key),
            None => self.send_lists.push((node, alloc::vec![key])),
        }
    }

    /// Takes `node`'s send list (give it back with [`Agenda::put_send_list`]).
    pub(crate) fn take_send_list(&mut self, node: i32, table: &mut (impl MarksTable + ?Sized)) -> Vec<PartKey> {
        if core::mem::take(&mut self.moved) {
            // Drop the stale entries (and a repeat left by a move back), before any list is
            // walked and marks change.
            for (n, list) in &mut self.send_lists {
                list.retain(|&key| table.marks(key).is_some_and(|m| m.send_list == Some(*n)));
                list.sort_unstable();
                list.dedup();
            }
        }
        self.send_lists.iter_mut().find(|(n, _)| *n == node).map(|(_, l)| core::mem::take(l)).unwrap_or_default()
    }

    /// Gives back `node`'s send list (entries added meanwhile are kept).
    pub(crate) fn put_send_list(&mut self, node: i32, mut list: Vec<PartKey>) {
        match self.send_lists.iter_mut().find(|(n, _)| *n == node) {
            Some((_, l)) => {
                list.append(l);
                *l = list;
            }
            None => self.send_lists.push((node, list)),
        }
    }

    /// Moves what `key` counts as wanting a connection to `node`.
    pub(crate) fn set_wants_conn(&mut self, marks: &mut Marks, node: Option<i32>) {
        if marks.wants_conn == node {
            return;
        }
        if let Some(old) = marks.wants_conn {
            if let Some((_, n)) = self.wanted.iter_mut().find(|(x, _)| *x == old) {
                *n = n.saturating_sub(1);
            }
        }
        if let Some(new) = node {
            match self.wanted.iter_mut().find(|(x, _)| *x == new) {
                Some((_, n)) => *n += 1,
                None => self.wanted.push((new, 1)),
            }
        }
        marks.wants_conn = node;
    }

    /// Leaders some partition wants a connection to.
    pub(crate) fn wanted_nodes(&self) -> impl Iterator<Item = i32> + '_ {
        self.wanted.iter().filter(|(_, n)| *n > 0).map(|(node, _)| *node)
    }

    /// Moves the in-flight total by what `marks` last counted and `now_in_flight`.
    pub(crate) fn count_in_flight(&mut self, marks: &mut Marks, now_in_flight: usize) {
        self.in_flight = self.in_flight.saturating_sub(marks.in_flight as u64).saturating_add(now_in_flight as u64);
        marks.in_flight = now_in_flight;
    }

    /// For the debug check: how many partitions count as wanting a connection to `node`.
    #[cfg(debug_assertions)]
    pub(crate) fn wanted_count(&self, node: i32) -> usize {
        self.wanted.iter().find(|(n, _)| *n == node).map_or(0, |(_, n)| *n)
    }

    /// For the debug check: every partition whose marks name a send list is on it once.
    #[cfg(debug_assertions)]
    pub(crate) fn check_send_lists(&self, table: &mut (impl MarksTable + ?Sized)) {
        if self.moved {
            return; // stale entries until the next walk of a list
        }
        for (node, list) in &self.send_lists {
            for (i, &key) in list.iter().enumerate() {
                let flag = table.marks(key).and_then(|m| m.send_list);
                assert_eq!(flag, Some(*node), "{key:?} on {node}'s list");
                assert!(!list[..i].contains(&key), "{key:?} twice on {node}'s list");
            }
        }
    }

    /// For the debug check: whether `key` is on the list for the next pass.
    #[cfg(debug_assertions)]
    pub(crate) fn is_listed(&self, key: PartKey) -> bool {
        self.listed.contains(&key)
    }

    /// For the debug check: whether `node`'s send list holds `key`.
    #[cfg(debug_assertions)]
    pub(crate) fn on_send_list(&self, node: i32, key: PartKey) -> bool {
        self.send_lists.iter().any(|(n, l)| *n == node && l.contains(&key))
    }
}
