//! Shared helpers for idem benchmarks and the side-by-side comparison harness (`compare`):
//! latency histogram, per-process resource figures, text-like record values, the load generator both producers are
//! measured with (keys, application threads, open-loop pacing) and the librdkafka and idem
//! sides it drives, the plans and their process orchestration, and the markdown / SVG reports
//! and charts.

pub mod chart;
pub mod harness;
pub mod hist;
pub mod idem_side;
pub mod load;
pub mod procstat;
pub mod rdk;
pub mod report;
pub mod run;
pub mod text;

use std::io::{Read as _, Write as _};

/// Prints `BOOTSTRAP <servers>` on stdout (the line the harness waits for), then blocks until
/// stdin is closed: how a broker helper process is told to stop.
pub fn announce_and_wait(bootstrap: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "BOOTSTRAP {bootstrap}");
    let _ = out.flush();
    drop(out);
    let mut sink = Vec::new();
    let _ = std::io::stdin().lock().read_to_end(&mut sink);
}
