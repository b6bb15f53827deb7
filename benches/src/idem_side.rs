//! The idem side of the comparison: idem's in-memory cluster served over TCP, and a measured
//! `idem_std::Producer` run. (Waiting for the runtime and broker branches.)

use crate::run::{RunResult, Settings, Workload};

/// Serves idem's in-memory cluster over TCP until stdin closes.
pub fn serve_cluster(_brokers: i32, _topic: &str, _partitions: i32, _faults: Option<&str>) -> Result<(), String> {
    Err("idem's MockCluster is not merged yet".into())
}

/// Runs the workload with `idem_std::Producer` in this process and measures it.
pub fn run_producer(_bootstrap: &str, _topic: &str, _w: &Workload, _s: &Settings) -> Result<RunResult, String> {
    Err("idem_std::Producer is not merged yet".into())
}
