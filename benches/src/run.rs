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
    /// `compression.type` (`none`, `gzip`, `snappy`, `lz4`, `zstd`), at each producer's default
    /// level.
    pub compression: String,
    /// TLS: the CA file (`ssl.ca.location`) of a certificate directory
    /// ([`harness::tls_certificates`](crate::harness::tls_certificates)); the broker serves
    /// TLS with that directory's broker certificate and both producers use
    /// `security.protocol=SSL`. Empty: plaintext.
    pub tls_ca: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            linger_ms: 5,
            batch_size: 128 * 1024,
            max_in_flight: 5,
            buffer_bytes: 10 * 1024 * 1024,
            delivery_timeout_ms: 120_000,
            compression: "none".to_string(),
            tls_ca: String::new(),
        }
    }
}

/// One workload: `records` values of `size` bytes to `partitions` partitions of `topic`.
///
/// Unkeyed, record `i` goes to partition `i % partitions`; keyed, record `i` has the key
/// `i.to_be_bytes()` and no partition, so the producer's default partitioner places it. The
/// records are sent by `threads` application threads sharing one producer (thread `t` sends
/// records `t, t + threads, ...`), as fast as the producer takes them (closed loop), or
/// open-loop on a schedule: record `i` is due `i / offered_per_s` seconds after the first.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// Short name used in tables ("100 B", "1 KiB", "100 B + faults"), unique within a plan.
    pub name: String,
    /// Records to send.
    pub records: u64,
    /// Value size in bytes.
    pub size: usize,
    /// Partitions of the topic.
    pub partitions: i32,
    /// Fault specification for idem's cluster (`None`: no faults).
    pub faults: Option<String>,
    /// Keyed records placed by the default partitioner (else explicit round-robin partitions).
    pub keyed: bool,
    /// Application threads sharing the one producer (at least 1).
    pub threads: u32,
    /// Offered load in records/s for an open-loop run; `None`: closed loop.
    pub offered_per_s: Option<f64>,
    /// Text-like values (JSON-ish log lines, [`crate::text`], from a pool of 1,024) instead of
    /// `size` bytes of `x`: what compression is measured on.
    pub text: bool,
}

impl Workload {
    /// A closed-loop, unkeyed, single-thread workload without faults.
    pub fn new(name: impl Into<String>, records: u64, size: usize, partitions: i32) -> Workload {
        Workload {
            name: name.into(),
            records,
            size,
            partitions,
            faults: None,
            keyed: false,
            threads: 1,
            offered_per_s: None,
            text: false,
        }
    }
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
    /// 99.9th percentile delivery latency, microseconds (0 in result files written before it
    /// was measured).
    pub p999_us: u64,
    /// Maximum delivery latency, microseconds.
    pub max_us: u64,
    /// Partitions of the topic (0: not recorded, in older result files).
    pub partitions: i32,
    /// Whether the records were keyed (see [`Workload`]).
    pub keyed: bool,
    /// Application threads that shared the producer (1 in older result files).
    pub threads: u32,
    /// The producer's `linger.ms` (`None`: not recorded, in older result files).
    pub linger_ms: Option<u64>,
    /// Offered load of an open-loop run, records/s (0: closed loop).
    pub offered_per_s: f64,
    /// Seconds from the first send call to the return of the last one (0: not recorded).
    pub send_s: f64,
    /// Largest delay of a send call past its due time in an open-loop run, microseconds.
    pub max_lag_us: u64,
    /// Bytes the producer wrote to brokers over the run, warm-up included (idem: its
    /// `outgoing-byte-total`; librdkafka: its statistics' `tx_bytes`); 0: not measured.
    pub wire_bytes: u64,
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

    /// Records per second the application's send calls achieved (`records / send_s`; 0 when
    /// not recorded). Below the offered load, the producer fell behind the schedule.
    pub fn sent_per_s(&self) -> f64 {
        if self.send_s > 0.0 { self.records as f64 / self.send_s } else { 0.0 }
    }

    /// Whether an open-loop run fell behind its schedule: its send calls achieved less than
    /// 99 % of the offered load. Always false for a closed-loop run or an unrecorded one.
    pub fn behind(&self) -> bool {
        self.offered_per_s > 0.0 && self.send_s > 0.0 && self.sent_per_s() < 0.99 * self.offered_per_s
    }

    /// CPU seconds per million records.
    pub fn cpu_s_per_million(&self) -> f64 {
        self.cpu_s * 1e6 / (self.records.max(1) as f64)
    }

    /// Bytes on the wire over value bytes sent (0 when not measured): below 1, compression
    /// saved more than the requests' framing costs.
    pub fn wire_ratio(&self) -> f64 {
        if self.wire_bytes == 0 { 0.0 } else { self.wire_bytes as f64 / self.bytes.max(1) as f64 }
    }

    /// The `RESULT k=v ...` line (values contain no spaces: spaces in names become `_`).
    pub fn to_line(&self) -> String {
        let mut s = String::from("RESULT");
        let esc = |v: &str| v.replace(' ', "_");
        let _ = write!(
            s,
            " producer={} broker={} workload={} round={} records={} bytes={} delivered={} \
             failed={} elapsed_s={:.6} cpu_s={:.3} peak_rss_kib={} p50_us={} p99_us={} max_us={} \
             p999_us={} partitions={} keyed={} threads={} offered_per_s={:.1} send_s={:.6} max_lag_us={}",
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
            self.max_us,
            self.p999_us,
            self.partitions,
            u8::from(self.keyed),
            self.threads,
            self.offered_per_s,
            self.send_s,
            self.max_lag_us
        );
        if let Some(l) = self.linger_ms {
            let _ = write!(s, " linger_ms={l}");
        }
        if self.wire_bytes > 0 {
            let _ = write!(s, " wire_bytes={}", self.wire_bytes);
        }
        s
    }

    /// Parses a line written by [`RunResult::to_line`]; `None` if it is not one. The fields
    /// added after the first result files (`p999_us` onwards) are optional, with the defaults
    /// their docs give, so older files still parse.
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
            p999_us: n("p999_us").unwrap_or(0),
            partitions: kv.get("partitions").and_then(|v| v.parse().ok()).unwrap_or(0),
            keyed: n("keyed") == Some(1),
            threads: n("threads").map_or(1, |t| t as u32),
            linger_ms: n("linger_ms"),
            offered_per_s: f("offered_per_s").unwrap_or(0.0),
            send_s: f("send_s").unwrap_or(0.0),
            max_lag_us: n("max_lag_us").unwrap_or(0),
            wire_bytes: n("wire_bytes").unwrap_or(0),
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
            p999_us: 15_000,
            partitions: 10_000,
            keyed: true,
            threads: 16,
            linger_ms: Some(0),
            offered_per_s: 150_000.0,
            send_s: 1.25,
            max_lag_us: 70,
            wire_bytes: 25_000_000,
            broker_stats: String::new(),
        };
        assert_eq!(RunResult::parse_line(&r.to_line()), Some(r.clone()));
        assert!((r.wire_ratio() - 0.25).abs() < 1e-9);
        let unmeasured = RunResult { wire_bytes: 0, ..r.clone() };
        assert_eq!(RunResult::parse_line(&unmeasured.to_line()), Some(unmeasured.clone()));
        assert_eq!(unmeasured.wire_ratio(), 0.0);
        let closed = RunResult { linger_ms: None, offered_per_s: 0.0, ..r.clone() };
        assert_eq!(RunResult::parse_line(&closed.to_line()), Some(closed));
        assert!((r.records_per_s() - 666_666.67).abs() < 1.0);
        assert!((r.mb_per_s() - 66.67).abs() < 0.01);
        assert!((r.cpu_s_per_million() - 2.25).abs() < 1e-9);
        assert_eq!(RunResult::parse_line("BOOTSTRAP x"), None);
    }

    #[test]
    fn older_lines_parse_with_defaults() {
        let old = "RESULT producer=idem broker=idem-cluster workload=100_B round=1 records=1000000 \
                   bytes=100000000 delivered=1000000 failed=0 elapsed_s=0.307504 cpu_s=0.350 \
                   peak_rss_kib=10232 p50_us=1055 p99_us=4735 max_us=6984";
        let r = RunResult::parse_line(old).expect("an old RESULT line parses");
        assert_eq!((r.p999_us, r.partitions, r.keyed, r.threads, r.linger_ms), (0, 0, false, 1, None));
        assert_eq!((r.offered_per_s, r.send_s, r.max_lag_us), (0.0, 0.0, 0));
        assert_eq!(r.workload, "100 B");
        assert!(!r.behind());
        assert_eq!(r.sent_per_s(), 0.0);
    }

    #[test]
    fn behind_means_under_99_percent_of_the_offered_load() {
        let r = RunResult { records: 1000, offered_per_s: 1000.0, send_s: 1.0, ..RunResult::default() };
        assert!(!r.behind());
        assert!(RunResult { send_s: 1.02, ..r.clone() }.behind());
        assert!(!RunResult { send_s: 1.005, ..r.clone() }.behind());
        assert!(!RunResult { offered_per_s: 0.0, send_s: 5.0, ..r }.behind());
    }
}
