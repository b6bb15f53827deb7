//! The idem side of the comparison: idem's in-memory cluster served over TCP
//! (`idem_std::MockCluster`), and a measured `idem_std::Producer` run.

use crate::run::{RunResult, Settings, Workload};
use idem_core::broker::{ClusterConfig, FaultSpec, TopicConfig};
use idem_std::{MockCluster, MockClusterConfig};

/// Serves idem's in-memory cluster (`brokers` brokers, `topic` with `partitions` partitions,
/// optional fault spec) over TCP: prints `BOOTSTRAP <servers>`, serves until stdin closes, then
/// prints one `STATS ...` line with the cluster's counters.
pub fn serve_cluster(brokers: i32, topic: &str, partitions: i32, faults: Option<&str>) -> Result<(), String> {
    let faults = match faults {
        Some(f) => FaultSpec::parse(f).map_err(|e| format!("--faults: {e}"))?,
        None => FaultSpec::default(),
    };
    let config = MockClusterConfig {
        brokers: usize::try_from(brokers).map_err(|_| "negative broker count")?,
        cluster: ClusterConfig {
            topics: vec![TopicConfig { name: topic.to_string(), partitions }],
            faults,
            ..ClusterConfig::default()
        },
        ..MockClusterConfig::default()
    };
    let cluster = MockCluster::start(config).map_err(|e| format!("start cluster: {e}"))?;
    crate::announce_and_wait(&cluster.bootstrap_servers());
    let s = cluster.stats();
    println!(
        "STATS produce_requests={} batches_appended={} records_appended={} duplicates={} rejected={} \
         errors_after={} dropped_after_append={}",
        s.produce_requests,
        s.batches_appended,
        s.records_appended,
        s.duplicates,
        s.rejected,
        s.errors_after,
        s.dropped_after_append
    );
    Ok(())
}

/// Runs the workload with `idem_std::Producer` in this process and measures it.
pub fn run_producer(_bootstrap: &str, _topic: &str, _w: &Workload, _s: &Settings) -> Result<RunResult, String> {
    Err("idem_std::Producer is not merged yet".into())
}
