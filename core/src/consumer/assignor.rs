//! The range assignor (the Java client's `RangeAssignor`): per topic, the members subscribed to
//! it sorted by member id, the partitions split into contiguous ranges, the first
//! `partitions % members` members taking one more. Pure: the leader's input (each member's
//! subscription, each topic's partition count) in, each member's partitions out.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

/// Assigns: `members` are (member id, subscribed topics); `partitions` gives a topic's partition
/// count (`None` or 0: the topic is unknown and nothing of it is assigned). Every member gets an
/// entry (possibly empty), topics in name order, partitions ascending.
pub(crate) fn range_assign(
    members: &[(String, Vec<String>)],
    partitions: impl Fn(&str) -> Option<u32>,
) -> BTreeMap<String, Vec<(String, Vec<i32>)>> {
    let mut out: BTreeMap<String, Vec<(String, Vec<i32>)>> =
        members.iter().map(|(id, _)| (id.clone(), Vec::new())).collect();
    let mut by_topic: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, topics) in members {
        for t in topics {
            let ids = by_topic.entry(t.as_str()).or_default();
            if !ids.contains(&id.as_str()) {
                ids.push(id.as_str());
            }
        }
    }
    for (topic, mut ids) in by_topic {
        let Some(count) = partitions(topic).filter(|n| *n > 0) else { continue };
        ids.sort_unstable();
        let n = ids.len() as u32;
        let (per, extra) = (count / n, count % n);
        for (i, id) in ids.iter().enumerate() {
            let i = i as u32;
            let start = per * i + i.min(extra);
            let len = per + u32::from(i < extra);
            if len == 0 {
                continue;
            }
            if let Some(list) = out.get_mut(*id) {
                list.push((String::from(topic), (start..start + len).map(|p| p as i32).collect()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn members(list: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        list.iter().map(|(m, ts)| (m.to_string(), ts.iter().map(|t| t.to_string()).collect())).collect()
    }

    fn parts(v: &[(&str, &[i32])]) -> Vec<(String, Vec<i32>)> {
        v.iter().map(|(t, ps)| (t.to_string(), ps.to_vec())).collect()
    }

    // The examples of the Java `RangeAssignor`'s documentation: two consumers C0 and C1, two
    // topics t0 and t1 of 3 partitions each: C0 gets t0p0, t0p1, t1p0, t1p1; C1 t0p2, t1p2.
    #[test]
    fn java_documentation_example() {
        let m = members(&[("C1", &["t0", "t1"]), ("C0", &["t0", "t1"])]);
        let a = range_assign(&m, |_| Some(3));
        assert_eq!(a["C0"], parts(&[("t0", &[0, 1]), ("t1", &[0, 1])]));
        assert_eq!(a["C1"], parts(&[("t0", &[2]), ("t1", &[2])]));
    }

    // `RangeAssignorTest`: one consumer, no topics / a non-existent topic / one topic.
    #[test]
    fn java_test_cases() {
        let a = range_assign(&members(&[("c", &[])]), |_| Some(3));
        assert_eq!(a["c"], []);
        let a = range_assign(&members(&[("c", &["missing"])]), |_| None);
        assert_eq!(a["c"], []);
        let a = range_assign(&members(&[("c", &["t"])]), |_| Some(3));
        assert_eq!(a["c"], parts(&[("t", &[0, 1, 2])]));
        // testOnlyAssignsPartitionsFromSubscribedTopics / testMultipleConsumersMixedTopics:
        // t1 (3 partitions) for c0 and c2, t2 (2) for c1: c0 t1p0,t1p1; c1 t2p0,t2p1; c2 t1p2.
        let m = members(&[("consumer1", &["t1"]), ("consumer2", &["t1", "t2"]), ("consumer3", &["t1"])]);
        let a = range_assign(&m, |t| Some(if t == "t1" { 3 } else { 2 }));
        assert_eq!(a["consumer1"], parts(&[("t1", &[0])]));
        assert_eq!(a["consumer2"], parts(&[("t1", &[1]), ("t2", &[0, 1])]));
        assert_eq!(a["consumer3"], parts(&[("t1", &[2])]));
        // testTwoConsumersOneTopicOnePartition: the second gets nothing.
        let a = range_assign(&members(&[("consumer1", &["t"]), ("consumer2", &["t"])]), |_| Some(1));
        assert_eq!(a["consumer1"], parts(&[("t", &[0])]));
        assert_eq!(a["consumer2"], []);
        // testTwoConsumersOneTopicTwoPartitions.
        let a = range_assign(&members(&[("consumer2", &["t"]), ("consumer1", &["t"])]), |_| Some(2));
        assert_eq!(a["consumer1"], parts(&[("t", &[0])]));
        assert_eq!(a["consumer2"], parts(&[("t", &[1])]));
    }

    #[test]
    fn every_partition_once() {
        for n in 1..6usize {
            for count in 0..12u32 {
                let ids: Vec<String> = (0..n).map(|i| alloc::format!("m{i}")).collect();
                let m: Vec<(String, Vec<String>)> = ids.iter().map(|i| (i.clone(), vec!["t".to_string()])).collect();
                let a = range_assign(&m, |_| Some(count));
                let mut all: Vec<i32> = a.values().flatten().flat_map(|(_, ps)| ps.clone()).collect();
                all.sort_unstable();
                assert_eq!(all, (0..count as i32).collect::<Vec<_>>());
                let sizes: Vec<usize> = a.values().map(|v| v.iter().map(|(_, p)| p.len()).sum()).collect();
                assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
            }
        }
    }
}
