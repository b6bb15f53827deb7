//! A plain-text progress line on stderr, redrawn in place with `\r` at most every 100 ms, and the
//! number formatting shared by the summaries and reports.

use std::io::Write;
use std::time::{Duration, Instant};

/// Width of the bar in characters.
const BAR_WIDTH: usize = 24;
/// Minimum time between two redraws.
const REDRAW_EVERY: Duration = Duration::from_millis(100);

/// What one progress line shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Records handed to the producer.
    pub sent: u64,
    /// Records with a final report (delivered or failed).
    pub done: u64,
    /// Of those, failed.
    pub failed: u64,
    /// Work done so far in the unit of `total` (input bytes read, or records).
    pub position: u64,
    /// The total of `position` when known (file size, record count).
    pub total: Option<u64>,
}

/// The progress line for a snapshot after `elapsed` (pure; without `\r`).
pub fn render(s: &Snapshot, elapsed: Duration) -> String {
    let rate = per_second(s.done, elapsed);
    let mut line = String::new();
    if let Some(total) = s.total.filter(|&t| t > 0) {
        let fraction = (s.position.min(total) as f64) / (total as f64);
        let filled = ((fraction * BAR_WIDTH as f64).round() as usize).min(BAR_WIDTH);
        line.push('[');
        line.extend(std::iter::repeat_n('#', filled));
        line.extend(std::iter::repeat_n('-', BAR_WIDTH - filled));
        line.push_str(&format!("] {:3.0}%  ", fraction * 100.0));
    }
    line.push_str(&format!("{} sent  {} done", s.sent, s.done));
    if s.failed > 0 {
        line.push_str(&format!(" ({} failed)", s.failed));
    }
    line.push_str(&format!("  {rate:.0} records/s  {:.1} s", elapsed.as_secs_f64()));
    line
}

/// Records per second over `elapsed` (0 for an empty interval).
pub fn per_second(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
}

/// Bytes in a human unit: `512 B`, `1.5 KiB`, `12.3 MiB`, `1.02 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in UNITS.iter().skip(1) {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// A progress line on stderr. Disabled, it does nothing.
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    start: Instant,
    last_draw: Option<Instant>,
    drawn_len: usize,
}

impl Progress {
    /// A progress line, drawn only when `enabled` (callers pass "stderr is a terminal, or
    /// `--progress`"); elapsed time counts from now.
    pub fn new(enabled: bool) -> Self {
        Progress { enabled, start: Instant::now(), last_draw: None, drawn_len: 0 }
    }

    /// Redraws the line if enabled and at least 100 ms passed since the last redraw.
    pub fn update(&mut self, s: &Snapshot) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self.last_draw.is_some_and(|t| now.duration_since(t) < REDRAW_EVERY) {
            return;
        }
        self.last_draw = Some(now);
        self.draw(&render(s, now.duration_since(self.start)));
    }

    /// Erases the line (before a summary is printed).
    pub fn finish(&mut self) {
        if self.enabled && self.drawn_len > 0 {
            let blank = " ".repeat(self.drawn_len);
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{blank}\r");
            let _ = err.flush();
            self.drawn_len = 0;
        }
    }

    fn draw(&mut self, line: &str) {
        let pad = self.drawn_len.saturating_sub(line.len());
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}{}", " ".repeat(pad));
        let _ = err.flush();
        self.drawn_len = line.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_tracks_position_against_total() {
        let s = Snapshot { sent: 50, done: 40, failed: 0, position: 500, total: Some(1000) };
        let line = render(&s, Duration::from_secs(2));
        assert!(line.starts_with(&format!("[{}{}]  50%", "#".repeat(12), "-".repeat(12))), "{line}");
        assert!(line.contains("50 sent  40 done  20 records/s  2.0 s"), "{line}");
        let s = Snapshot { sent: 7, done: 7, failed: 3, position: 9, total: None };
        let line = render(&s, Duration::ZERO);
        assert_eq!(line, "7 sent  7 done (3 failed)  0 records/s  0.0 s");
        let full = render(&Snapshot { position: 2000, total: Some(1000), ..s }, Duration::from_secs(1));
        assert!(full.starts_with(&format!("[{}] 100%", "#".repeat(24))), "{full}");
    }

    #[test]
    fn human_bytes() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(5 * 1024 * 1024), "5.0 MiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
        assert_eq!(per_second(10, Duration::from_millis(500)), 20.0);
    }
}
