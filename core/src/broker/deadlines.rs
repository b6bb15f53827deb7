//! An index of each key's earliest deadline, in time order, so that a coordinator's timer pass
//! and its next deadline read the index instead of every key's state (the group coordinator
//! indexes its groups, the transaction coordinator its transactional ids).

use crate::time::Instant;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::borrow::Borrow;

/// Each key's earliest deadline (at most one per key), ordered by time then key. It holds only
/// what [`DeadlineIndex::set`] put there: the owner calls `set` after every change to a key's
/// deadline, and may check that with [`DeadlineIndex::agrees_with`].
#[derive(Clone, Debug)]
pub(crate) struct DeadlineIndex<K> {
    /// (deadline, key), earliest first.
    order: BTreeSet<(Instant, K)>,
    /// The entry of each key in `order`.
    at: BTreeMap<K, Instant>,
}

impl<K> Default for DeadlineIndex<K> {
    fn default() -> Self {
        DeadlineIndex { order: BTreeSet::new(), at: BTreeMap::new() }
    }
}

impl<K: Ord + Clone> DeadlineIndex<K> {
    /// Records `key`'s deadline: `None` removes the key (no deadline, or the key is gone).
    /// Setting the deadline a key already has changes nothing and allocates nothing.
    pub(crate) fn set<Q>(&mut self, key: &Q, deadline: Option<Instant>)
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized + alloc::borrow::ToOwned<Owned = K>,
    {
        if self.at.get(key).copied() == deadline {
            return;
        }
        let old = self.at.remove(key);
        let key = key.to_owned();
        if let Some(old) = old {
            self.order.remove(&(old, key.clone()));
        }
        if let Some(d) = deadline {
            self.at.insert(key.clone(), d);
            self.order.insert((d, key));
        }
    }

    /// `key`'s deadline, `None` if it has none.
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<Instant>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.at.get(key).copied()
    }

    /// The earliest deadline of all keys, `None` if no key has one.
    pub(crate) fn first(&self) -> Option<Instant> {
        self.order.first().map(|(d, _)| *d)
    }

    /// The keys whose deadline is at or before `now`, earliest first (ties in key order).
    pub(crate) fn due(&self, now: Instant) -> Vec<K> {
        self.order.iter().take_while(|(d, _)| *d <= now).map(|(_, k)| k.clone()).collect()
    }

    /// Whether the index holds exactly the deadlines of `scan` (every key with its deadline,
    /// `None` for none): each `Some` indexed as given, nothing else indexed. For a
    /// `debug_assert!` by the owner, which scans its whole state to call it.
    pub(crate) fn agrees_with<'a>(&self, scan: impl IntoIterator<Item = (&'a K, Option<Instant>)>) -> bool
    where
        K: 'a,
    {
        let mut with_deadline = 0;
        for (key, deadline) in scan {
            if self.at.get(key).copied() != deadline {
                return false;
            }
            with_deadline += usize::from(deadline.is_some());
        }
        with_deadline == self.at.len() && self.at.len() == self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec;

    fn ms(n: u64) -> Instant {
        Instant::from_millis(n)
    }

    #[test]
    fn keeps_one_deadline_per_key_in_time_order() {
        let mut ix = DeadlineIndex::<String>::default();
        assert_eq!((ix.first(), ix.due(ms(100))), (None, vec![]));
        ix.set("b", Some(ms(5)));
        ix.set("a", Some(ms(7)));
        ix.set("c", Some(ms(5)));
        assert_eq!(ix.first(), Some(ms(5)));
        assert_eq!(ix.due(ms(4)), Vec::<String>::new());
        assert_eq!(ix.due(ms(5)), vec![String::from("b"), String::from("c")]);
        assert_eq!(ix.due(ms(7)), vec![String::from("b"), String::from("c"), String::from("a")]);
        // Moving a key replaces its entry; `None` removes it.
        ix.set("b", Some(ms(9)));
        ix.set("c", None);
        assert_eq!((ix.get("b"), ix.get("c")), (Some(ms(9)), None));
        assert_eq!(ix.first(), Some(ms(7)));
        assert_eq!(ix.due(ms(8)), vec![String::from("a")]);
        ix.set("a", None);
        ix.set("b", None);
        assert_eq!((ix.first(), ix.due(ms(100))), (None, vec![]));
    }

    #[test]
    fn agrees_with_only_the_scan_it_indexes() {
        let mut ix = DeadlineIndex::<String>::default();
        let (a, b) = (String::from("a"), String::from("b"));
        ix.set("a", Some(ms(1)));
        assert!(ix.agrees_with([(&a, Some(ms(1))), (&b, None)]));
        // A key whose deadline moved without `set`, one missing, one gone from the scan.
        assert!(!ix.agrees_with([(&a, Some(ms(2))), (&b, None)]));
        assert!(!ix.agrees_with([(&a, Some(ms(1))), (&b, Some(ms(3)))]));
        assert!(!ix.agrees_with([(&b, None)]));
    }
}
