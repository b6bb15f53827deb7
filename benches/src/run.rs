//! What one measured producer run is asked to do (`Workload`, `Settings`) and what it reports
//! back to the harness (`RunResult`, one `RESULT key=value ...` line on stdout).

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Producer settings both producers get, so the comparison is like for like.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// `linger.ms`.
    pub linger_ms: u64,
    /// `batch.size` in bytes.
    pub batch_size: usize,
    /// `max.in.flight.requests.per.connection`.
    pub max_in_flight: usize,
    /// Producer buffer limit in bytes (`buffer.memory`; librdkafka
    /// `queue.buffering.max.kbytes`).
    pub buffer_bytes: usize,
    /// `delivery.timeout.ms` (librdkafka `message.timeout.ms`).
    pub delivery_timeout_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            linger_ms: 5,
            batch_size: 128 * 1024,
            max_in_flight: 5,
            buffer_bytes: 10 * 1024 * 1024,
            delivery_timeout_ms: 120_000,
        }
    }
}

/// One workload: `records` values of `size` bytes (no key) to `partitions` partitions of
/// `topic`, round-robin by record index.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// Short name used in tables ("100 B", "1 KiB", "100 B + faults").
    pub name: String,
    /// Records to send.
    pub records: u64,
    /// Value size in bytes.
    pub size: usize,
    /// Partitions of the topic.
    pub partitions: i32,
    /// Fault specification for idem's cluster (`None`: no faults).
    pub faults: Option<String>,
}

/// The measurements one producer process reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunResult {
    /// "idem" or "librdkafka".
    pub producer: String,
    /// "idem-cluster" or "rdkafka-mock".
    pub broker: String,
    /// Workload name.
    pub workload: String,
    /// Round number (1-based).
    pub round: u32,
    /// Records sent.
    pub records: u64,
    /// Value bytes sent.
    pub bytes: u64,
    /// Records reported delivered.
    pub delivered: u64,
    /// Records reported failed.
    pub failed: u64,
    /// Seconds from the first send to the last report.
    pub elapsed_s: f64,
    /// CPU seconds (user + system, all threads) spent in that interval.
    pub cpu_s: f64,
    /// Peak resident memory of the producer process, KiB.
    pub peak_rss_kib: u64,
    /// Delivery latency (send to report) quantiles and maximum, microseconds.
    pub p50_us: u64,
    /// 99th percentile delivery latency, microseconds.
    pub p99_us: u64,
    /// Maximum delivery latency, microseconds.
    pub max_us: u64,
    /// The broker's counters after the run (`key=value ...`, idem's cluster only). Filled in
    /// by the harness, not part of the `RESULT` line.
    pub broker_stats: String,
}

impl RunResult {
    /// Records per second.
    pub fn records_per_s(&self) -> f64 {
        self.records as f64 / self.elapsed_s.max(1e-9)
    }

    /// Value megabytes (10^6 bytes) per second.
    pub fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed_s.max(1e-9)
    }

    /// CPU seconds per million records.
    pub fn cpu_s_per_million(&self) -> f64 {
        self.cpu_s * 1e6 / (self.records.max(1) as f64)
    }

    /// The `RESULT k=v ...` line (values contain no spaces: spaces in names become `_`).
    pub fn to_line(&self) -> String {
        let mut s = String::from("RESULT");
        let esc = |v: &str| v.replace(' ', "_");
        let _ = write!(
            s,
            " producer={} broker={} workload={} round={} records={} bytes={} delivered={} \
             failed={} elapsed_s={:.6} cpu_s={:.3} peak_rss_kib={} p50_us={} p99_us={} max_us={}",
            esc(&self.producer),
            esc(&self.broker),
            esc(&self.workload),
            self.round,
            self.records,
            self.bytes,
            self.delivered,
            self.failed,
            self.elapsed_s,
            self.cpu_s,
            self.peak_rss_kib,
            self.p50_us,
            self.p99_us,
            self.max_us
        );
        s
    }

    /// Parses a line written by [`RunResult::to_line`]; `None` if it is not one.
    pub fn parse_line(line: &str) -> Option<RunResult> {
        let rest = line.trim().strip_prefix("RESULT ")?;
        let kv: BTreeMap<&str, &str> = rest.split_whitespace().filter_map(|f| f.split_once('=')).collect();
        let s = |k: &str| kv.get(k).map(|v| v.replace('_', " "));
        let n = |k: &str| kv.get(k).and_then(|v| v.parse::<u64>().ok());
        let f = |k: &str| kv.get(k).and_then(|v| v.parse::<f64>().ok());
        Some(RunResult {
            producer: s("producer")?,
            broker: kv.get("broker")?.to_string(),
            workload: s("workload")?,
            round: n("round")? as u32,
            records: n("records")?,
            bytes: n("bytes")?,
            delivered: n("delivered")?,
            failed: n("failed")?,
            elapsed_s: f("elapsed_s")?,
            cpu_s: f("cpu_s")?,
            peak_rss_kib: n("peak_rss_kib")?,
            p50_us: n("p50_us")?,
            p99_us: n("p99_us")?,
            max_us: n("max_us")?,
            broker_stats: String::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_round_trip() {
        let r = RunResult {
            producer: "idem".into(),
            broker: "idem-cluster".into(),
            workload: "100 B + faults".into(),
            round: 2,
            records: 1_000_000,
            bytes: 100_000_000,
            delivered: 999_999,
            failed: 1,
            elapsed_s: 1.5,
            cpu_s: 2.25,
            peak_rss_kib: 12_345,
            p50_us: 800,
            p99_us: 9000,
            max_us: 20_000,
            broker_stats: String::new(),
        };
        assert_eq!(RunResult::parse_line(&r.to_line()), Some(r.clone()));
        assert!((r.records_per_s() - 666_666.67).abs() < 1.0);
        assert!((r.mb_per_s() - 66.67).abs() < 0.01);
        assert!((r.cpu_s_per_million() - 2.25).abs() < 1e-9);
        assert_eq!(RunResult::parse_line("BOOTSTRAP x"), None);
    }
}
