//! Per-process resource figures read from Linux `/proc/self`: peak resident memory and CPU time
//! of the calling process (all its threads); and the machine's load average.

/// Clock ticks per second of `/proc/*/stat` CPU fields (Linux `USER_HZ`, 100 on every
/// mainstream architecture).
const USER_HZ: f64 = 100.0;

/// Peak resident set size of this process in KiB (`VmHWM`), or `None` off Linux.
pub fn peak_rss_kib() -> Option<u64> {
    status_field("VmHWM:")
}

/// Current resident set size of this process in KiB (`VmRSS`), or `None` off Linux.
pub fn rss_kib() -> Option<u64> {
    status_field("VmRSS:")
}

fn status_field(name: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(name))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU seconds consumed so far by this process (all threads), with 10 ms
/// resolution, or `None` off Linux.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_stat_cpu(&stat)
}

/// The 1, 5 and 15 minute load averages of the machine (`/proc/loadavg`), or `None` off Linux.
pub fn load_average() -> Option<[f64; 3]> {
    parse_loadavg(&std::fs::read_to_string("/proc/loadavg").ok()?)
}

/// The first three fields of a `/proc/loadavg` line.
fn parse_loadavg(line: &str) -> Option<[f64; 3]> {
    let mut f = line.split_whitespace().map(str::parse::<f64>);
    Some([f.next()?.ok()?, f.next()?.ok()?, f.next()?.ok()?])
}

/// Parses utime + stime (fields 14 and 15) out of a `/proc/<pid>/stat` line. The command name
/// (field 2) may contain spaces and parentheses, so fields are counted after the last `)`.
fn parse_stat_cpu(stat: &str) -> Option<f64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // `rest` starts at field 3 (state); utime is field 14, i.e. index 11 here.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / USER_HZ)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_command_name() {
        let line = "1234 (a b) c)) S 1 2 3 4 5 6 7 8 9 10 250 75 0 0 20 0 1 0 100 200 300";
        assert_eq!(parse_stat_cpu(line), Some(3.25));
    }

    #[test]
    fn parses_loadavg() {
        assert_eq!(parse_loadavg("1.60 0.68 0.48 2/345 6789\n"), Some([1.6, 0.68, 0.48]));
        assert_eq!(parse_loadavg("1.60 x 0.48"), None);
        assert_eq!(parse_loadavg(""), None);
    }

    #[test]
    fn reads_own_process() {
        assert!(peak_rss_kib().unwrap_or(0) > 0);
        assert!(rss_kib().unwrap_or(0) > 0);
        let before = cpu_seconds().unwrap_or(-1.0);
        assert!(before >= 0.0);
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(std::hint::black_box(i));
        }
        std::hint::black_box(x);
        assert!(cpu_seconds().unwrap_or(0.0) >= before);
    }
}
