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

/// Hands everything `cluster` has to say now to the producer `p` (responses as received bytes,
/// closes as disconnects), as an in-memory link does; true if anything moved. For benches that
/// join the sans-IO producer and cluster in one thread.
pub fn cluster_to_producer<T>(
    cluster: &mut idem_core::broker::Cluster,
    p: &mut idem_core::producer::Producer<T>,
    now: idem_core::Instant,
) -> bool {
    use idem_core::broker::BrokerOutput;
    use idem_core::producer::{ConnId, Input};
    let mut progress = false;
    loop {
        match cluster.poll_output() {
            BrokerOutput::Transmit { conn, data } => {
                progress = true;
                p.handle_input(Input::Received { now, conn: ConnId(conn.0), bytes: &data });
            }
            BrokerOutput::Close { conn } => {
                progress = true;
                p.handle_input(Input::Disconnected { now, conn: ConnId(conn.0) });
            }
            BrokerOutput::Log(_) | BrokerOutput::Debug { .. } => {}
            BrokerOutput::Timeout(_) => return progress,
        }
    }
}
