//! Turns the per-round results into the comparison table (markdown) and chart (hand-written
//! SVG, no plotting dependency).

use crate::run::RunResult;
use std::fmt::Write as _;

/// The two producers compared, in table order.
pub const PRODUCERS: [&str; 2] = ["idem", "librdkafka"];

/// Median over rounds of one (broker, workload, producer) cell.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Broker name.
    pub broker: String,
    /// Workload name.
    pub workload: String,
    /// Producer name.
    pub producer: String,
    /// Rounds summarised.
    pub rounds: usize,
    /// Median records/s.
    pub records_per_s: f64,
    /// Median MB/s.
    pub mb_per_s: f64,
    /// Median peak RSS, MiB.
    pub peak_rss_mib: f64,
    /// Median p50 latency, ms.
    pub p50_ms: f64,
    /// Median p99 latency, ms.
    pub p99_ms: f64,
    /// Largest max latency over the rounds, ms.
    pub max_ms: f64,
    /// Median CPU seconds per million records.
    pub cpu_s_per_m: f64,
    /// Records not reported delivered, summed over rounds.
    pub not_delivered: u64,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

/// Groups results by (broker, workload, producer), keeping first-seen order of (broker,
/// workload) and [`PRODUCERS`] order within, and takes medians over rounds.
pub fn summarise(results: &[RunResult]) -> Vec<Summary> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for r in results {
        let k = (r.broker.clone(), r.workload.clone());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let mut out = Vec::new();
    for (broker, workload) in keys {
        for producer in PRODUCERS {
            let rs: Vec<&RunResult> = results
                .iter()
                .filter(|r| r.broker == broker && r.workload == workload && r.producer == producer)
                .collect();
            if rs.is_empty() {
                continue;
            }
            let m = |f: &dyn Fn(&RunResult) -> f64| median(rs.iter().map(|r| f(r)).collect());
            out.push(Summary {
                broker: broker.clone(),
                workload: workload.clone(),
                producer: producer.to_string(),
                rounds: rs.len(),
                records_per_s: m(&|r| r.records_per_s()),
                mb_per_s: m(&|r| r.mb_per_s()),
                peak_rss_mib: m(&|r| r.peak_rss_kib as f64 / 1024.0),
                p50_ms: m(&|r| r.p50_us as f64 / 1000.0),
                p99_ms: m(&|r| r.p99_us as f64 / 1000.0),
                max_ms: rs.iter().map(|r| r.max_us as f64 / 1000.0).fold(0.0, f64::max),
                cpu_s_per_m: m(&|r| r.cpu_s_per_million()),
                not_delivered: rs.iter().map(|r| r.records.saturating_sub(r.delivered)).sum(),
            });
        }
    }
    out
}

fn find<'a>(s: &'a [Summary], broker: &str, workload: &str, producer: &str) -> Option<&'a Summary> {
    s.iter().find(|x| x.broker == broker && x.workload == workload && x.producer == producer)
}

/// The markdown report: summary table with idem / librdkafka ratios, then every round.
pub fn markdown(results: &[RunResult], header: &str) -> String {
    let s = summarise(results);
    let mut md = String::new();
    let _ = writeln!(md, "{header}\n");
    md.push_str(
        "| broker | workload | producer | records/s | MB/s | peak RSS MiB | p50 ms | p99 ms | max ms | CPU s / M rec | not delivered |\n\
         |---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for x in &s {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.0} | {:.1} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
            x.broker,
            x.workload,
            x.producer,
            x.records_per_s,
            x.mb_per_s,
            x.peak_rss_mib,
            x.p50_ms,
            x.p99_ms,
            x.max_ms,
            x.cpu_s_per_m,
            x.not_delivered
        );
        if x.producer == PRODUCERS[1] {
            if let Some(a) = find(&s, &x.broker, &x.workload, PRODUCERS[0]) {
                let r = |num: f64, den: f64| if den > 0.0 { format!("{:.2}x", num / den) } else { "-".into() };
                let _ = writeln!(
                    md,
                    "| {} | {} | **idem / librdkafka** | **{}** | {} | **{}** | {} | **{}** | {} | {} | |",
                    x.broker,
                    x.workload,
                    r(a.records_per_s, x.records_per_s),
                    r(a.mb_per_s, x.mb_per_s),
                    r(a.peak_rss_mib, x.peak_rss_mib),
                    r(a.p50_ms, x.p50_ms),
                    r(a.p99_ms, x.p99_ms),
                    r(a.max_ms, x.max_ms),
                    r(a.cpu_s_per_m, x.cpu_s_per_m)
                );
            }
        }
    }
    md.push_str(
        "\nMedians over rounds (max ms: the largest over rounds). Ratios > 1 are better for idem in \
         records/s and MB/s, < 1 better in memory, latency and CPU.\n\n<details><summary>Every run</summary>\n\n\
         | round | broker | workload | producer | records/s | peak RSS MiB | p50 ms | p99 ms | max ms | CPU s | delivered | failed | broker counters |\n\
         |---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for r in results {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {:.0} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} |",
            r.round,
            r.broker,
            r.workload,
            r.producer,
            r.records_per_s(),
            r.peak_rss_kib as f64 / 1024.0,
            r.p50_us as f64 / 1000.0,
            r.p99_us as f64 / 1000.0,
            r.max_us as f64 / 1000.0,
            r.cpu_s,
            r.delivered,
            r.failed,
            r.broker_stats
        );
    }
    md.push_str("\n</details>\n");
    md
}

const COLORS: [&str; 2] = ["#2b6cb0", "#dd6b20"];

/// One bar-chart panel: groups of two bars (idem, librdkafka) per category. `log`: bar height
/// proportional to `log10(v / floor)` (values spanning decades), else to `v`.
fn panel(
    svg: &mut String,
    x0: f64,
    title: &str,
    cats: &[(String, [f64; 2])],
    fmt: &dyn Fn(f64) -> String,
    log: Option<f64>,
) {
    let (w, h, top, bottom) = (440.0, 300.0, 50.0, 70.0);
    let plot_h = h - top - bottom;
    let max = cats.iter().flat_map(|c| c.1).fold(0.0, f64::max).max(1e-9);
    let scale = |v: f64| match log {
        Some(floor) => ((v.max(floor) / floor).log10() / (max.max(floor) * 2.0 / floor).log10()).clamp(0.0, 1.0),
        None => (v / (max * 1.15)).clamp(0.0, 1.0),
    };
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="25" font-size="15" text-anchor="middle" font-weight="bold">{}</text>"#,
        x0 + w / 2.0,
        esc(title)
    );
    let _ = writeln!(
        svg,
        r##"<line x1="{x0}" y1="{y}" x2="{x2}" y2="{y}" stroke="#333"/>"##,
        x0 = x0 + 10.0,
        y = top + plot_h,
        x2 = x0 + w - 10.0
    );
    let n = cats.len().max(1) as f64;
    let slot = (w - 20.0) / n;
    let bar = (slot * 0.8 / 2.0).min(40.0);
    for (i, (name, vals)) in cats.iter().enumerate() {
        let cx = x0 + 10.0 + slot * (i as f64 + 0.5);
        for (j, v) in vals.iter().enumerate() {
            let bh = scale(*v) * plot_h;
            let bx = cx - bar + j as f64 * bar;
            let by = top + plot_h - bh;
            let _ = writeln!(
                svg,
                r#"<rect x="{bx:.1}" y="{by:.1}" width="{:.1}" height="{bh:.1}" fill="{}"/>"#,
                bar - 2.0,
                COLORS[j]
            );
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" font-size="9" text-anchor="middle">{}</text>"#,
                bx + (bar - 2.0) / 2.0,
                by - 3.0,
                esc(&fmt(*v))
            );
        }
        for (k, part) in name.split(" / ").enumerate() {
            let _ = writeln!(
                svg,
                r#"<text x="{cx:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}</text>"#,
                top + plot_h + 15.0 + 12.0 * k as f64,
                esc(part)
            );
        }
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn si(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.0}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// An SVG chart: records/s and p99 delivery latency for each (broker, workload), idem and
/// librdkafka side by side.
pub fn svg(results: &[RunResult]) -> String {
    let s = summarise(results);
    let mut cats: Vec<(String, [Option<&Summary>; 2])> = Vec::new();
    for x in &s {
        let name = format!("{} / {}", x.workload, x.broker);
        let j = usize::from(x.producer != PRODUCERS[0]);
        match cats.iter_mut().find(|c| c.0 == name) {
            Some(c) => c.1[j] = Some(x),
            None => {
                let mut v = [None, None];
                v[j] = Some(x);
                cats.push((name, v));
            }
        }
    }
    let pick = |f: &dyn Fn(&Summary) -> f64| -> Vec<(String, [f64; 2])> {
        cats.iter().map(|(n, v)| (n.clone(), [v[0].map_or(0.0, f), v[1].map_or(0.0, f)])).collect()
    };
    let mut out = String::new();
    let _ =
        writeln!(out, r#"<svg xmlns="http://www.w3.org/2000/svg" width="900" height="330" font-family="sans-serif">"#);
    out.push_str("<rect width=\"900\" height=\"330\" fill=\"white\"/>\n");
    panel(&mut out, 0.0, "Throughput (records/s, higher is better)", &pick(&|x| x.records_per_s), &si, None);
    let ms = |v: f64| if v >= 100.0 { format!("{v:.0}") } else { format!("{v:.1}") };
    panel(
        &mut out,
        450.0,
        "p99 delivery latency (ms, log scale, lower is better)",
        &pick(&|x| x.p99_ms),
        &ms,
        Some(0.1),
    );
    for (j, p) in PRODUCERS.iter().enumerate() {
        let x = 330.0 + 130.0 * j as f64;
        let _ = writeln!(out, r#"<rect x="{x}" y="308" width="12" height="12" fill="{}"/>"#, COLORS[j]);
        let _ = writeln!(out, r#"<text x="{}" y="318" font-size="12">{p}</text>"#, x + 16.0);
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(producer: &str, round: u32, elapsed: f64, p99: u64) -> RunResult {
        RunResult {
            producer: producer.into(),
            broker: "idem-cluster".into(),
            workload: "100 B".into(),
            round,
            records: 1000,
            bytes: 100_000,
            delivered: 1000,
            elapsed_s: elapsed,
            cpu_s: 0.5,
            peak_rss_kib: 2048,
            p99_us: p99,
            ..RunResult::default()
        }
    }

    #[test]
    fn medians_and_ratios() {
        let rs = vec![
            r("idem", 1, 1.0, 1000),
            r("librdkafka", 1, 2.0, 4000),
            r("idem", 2, 0.5, 3000),
            r("librdkafka", 2, 4.0, 2000),
            r("idem", 3, 0.25, 2000),
            r("librdkafka", 3, 1.0, 3000),
        ];
        let s = summarise(&rs);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].producer, "idem");
        assert!((s[0].records_per_s - 2000.0).abs() < 1e-6);
        assert!((s[1].records_per_s - 500.0).abs() < 1e-6);
        assert!((s[0].p99_ms - 2.0).abs() < 1e-9);
        let md = markdown(&rs, "# t");
        assert!(md.contains("**4.00x**"), "{md}");
        assert!(md.contains("**0.67x**"), "{md}");
        let svg = svg(&rs);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 1 + 4 + 2);
    }
}
