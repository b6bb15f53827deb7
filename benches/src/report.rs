//! Turns the per-round results of a plan into its markdown report (summary table with
//! idem / librdkafka ratio rows, then every run) and its chart (hand-written SVG, no plotting
//! dependency): the default plan's bar chart, and a line chart over the dimension of each
//! other plan. Tables and charts are one generic piece of code each, given per plan the
//! columns and the chart to draw.

use crate::chart::{self, COLORS, Panel, Series, esc, si};
use crate::harness::{Plan, SATURATION};
use crate::run::RunResult;
use std::fmt::Write as _;

/// The two producers compared, in table order.
pub const PRODUCERS: [&str; 2] = ["idem", "librdkafka"];

/// Median over rounds of one (broker, workload, producer) cell.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Broker name.
    pub broker: String,
    /// Workload name.
    pub workload: String,
    /// Producer name.
    pub producer: String,
    /// Rounds summarised.
    pub rounds: usize,
    /// Partitions of the topic (as the first round recorded it).
    pub partitions: i32,
    /// Application threads sharing the producer.
    pub threads: u32,
    /// The producer's `linger.ms`, if recorded.
    pub linger_ms: Option<u64>,
    /// Offered load of an open-loop run, records/s (0: closed loop).
    pub offered_per_s: f64,
    /// Median records/s.
    pub records_per_s: f64,
    /// Median MB/s.
    pub mb_per_s: f64,
    /// Median records/s the send calls achieved.
    pub sent_per_s: f64,
    /// Median peak RSS, MiB.
    pub peak_rss_mib: f64,
    /// Median p50 latency, ms.
    pub p50_ms: f64,
    /// Median p99 latency, ms.
    pub p99_ms: f64,
    /// Median p99.9 latency, ms.
    pub p999_ms: f64,
    /// Largest max latency over the rounds, ms.
    pub max_ms: f64,
    /// Largest delay of a send call past its due time over the rounds, ms.
    pub max_lag_ms: f64,
    /// Median CPU seconds per million records.
    pub cpu_s_per_m: f64,
    /// Median bytes on the wire over value bytes (0: not measured).
    pub wire_ratio: f64,
    /// Records not reported delivered, summed over rounds.
    pub not_delivered: u64,
    /// Rounds that fell behind their schedule ([`RunResult::behind`]).
    pub behind_rounds: usize,
}

/// The median of `v` (the mean of the middle two for an even count; 0 when empty).
pub fn median(mut v: Vec<f64>) -> f64 {
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
            let Some(first) = rs.first() else { continue };
            let m = |f: &dyn Fn(&RunResult) -> f64| median(rs.iter().map(|r| f(r)).collect());
            let most = |f: &dyn Fn(&RunResult) -> f64| rs.iter().map(|r| f(r)).fold(0.0, f64::max);
            out.push(Summary {
                broker: broker.clone(),
                workload: workload.clone(),
                producer: producer.to_string(),
                rounds: rs.len(),
                partitions: first.partitions,
                threads: first.threads,
                linger_ms: first.linger_ms,
                offered_per_s: first.offered_per_s,
                records_per_s: m(&|r| r.records_per_s()),
                mb_per_s: m(&|r| r.mb_per_s()),
                sent_per_s: m(&|r| r.sent_per_s()),
                peak_rss_mib: m(&|r| r.peak_rss_kib as f64 / 1024.0),
                p50_ms: m(&|r| r.p50_us as f64 / 1000.0),
                p99_ms: m(&|r| r.p99_us as f64 / 1000.0),
                p999_ms: m(&|r| r.p999_us as f64 / 1000.0),
                max_ms: most(&|r| r.max_us as f64 / 1000.0),
                max_lag_ms: most(&|r| r.max_lag_us as f64 / 1000.0),
                cpu_s_per_m: m(&|r| r.cpu_s_per_million()),
                wire_ratio: m(&|r| r.wire_ratio()),
                not_delivered: rs.iter().map(|r| r.records.saturating_sub(r.delivered)).sum(),
                behind_rounds: rs.iter().filter(|r| r.behind()).count(),
            });
        }
    }
    out
}

fn find<'a>(s: &'a [Summary], broker: &str, workload: &str, producer: &str) -> Option<&'a Summary> {
    s.iter().find(|x| x.broker == broker && x.workload == workload && x.producer == producer)
}

/// What one table column shows for a row of type `T`.
pub enum Cell<T> {
    /// Identifies the row: shown in ratio rows too.
    Key(fn(&T) -> String),
    /// The producer: `**idem / librdkafka**` in ratio rows.
    Producer(fn(&T) -> String),
    /// A figure with `decimals` decimals, right-aligned; ratio rows show idem's over
    /// librdkafka's, in bold with `bold`.
    Metric {
        /// The figure.
        value: fn(&T) -> f64,
        /// Decimals shown.
        decimals: usize,
        /// Bold in ratio rows (the figures the comparison is about).
        bold: bool,
    },
    /// Text not compared (blank in ratio rows); right-aligned with `right`.
    Note {
        /// The text.
        text: fn(&T) -> String,
        /// Right-aligned.
        right: bool,
    },
}

/// One table column: its heading and what its cells show.
pub struct Column<T> {
    /// Heading.
    pub title: &'static str,
    /// Cells.
    pub cell: Cell<T>,
}

/// A table row: one item, or idem's figures over librdkafka's.
enum Row<'a, T> {
    One(&'a T),
    Ratio { idem: &'a T, rdk: &'a T },
}

/// Appends a markdown table of `rows` with `cols`.
fn table<T>(md: &mut String, cols: &[Column<T>], rows: &[Row<'_, T>]) {
    // `None`: a cell left blank in a ratio row.
    let line = |cells: Vec<Option<String>>| -> String {
        let mut l = String::from("|");
        for c in cells {
            match c {
                Some(c) => {
                    let _ = write!(l, " {c} |");
                }
                None => l.push_str(" |"),
            }
        }
        l
    };
    let _ = writeln!(md, "{}", line(cols.iter().map(|c| Some(c.title.to_string())).collect()));
    let align = |c: &Column<T>| match c.cell {
        Cell::Metric { .. } | Cell::Note { right: true, .. } => "---:|",
        _ => "---|",
    };
    let _ = writeln!(md, "|{}", cols.iter().map(align).collect::<String>());
    for row in rows {
        let cells = cols.iter().map(|c| match (row, &c.cell) {
            (Row::One(x), Cell::Key(f) | Cell::Producer(f) | Cell::Note { text: f, .. }) => Some(f(x)),
            (Row::One(x), Cell::Metric { value, decimals, .. }) => Some(format!("{:.*}", *decimals, value(x))),
            (Row::Ratio { rdk, .. }, Cell::Key(f)) => Some(f(rdk)),
            (Row::Ratio { .. }, Cell::Producer(_)) => Some(format!("**{} / {}**", PRODUCERS[0], PRODUCERS[1])),
            (Row::Ratio { .. }, Cell::Note { .. }) => None,
            (Row::Ratio { idem, rdk }, Cell::Metric { value, bold, .. }) => {
                let (num, den) = (value(idem), value(rdk));
                let r = if den > 0.0 { format!("{:.2}x", num / den) } else { "-".into() };
                Some(if *bold { format!("**{r}**") } else { r })
            }
        });
        let _ = writeln!(md, "{}", line(cells.collect()));
    }
}

fn metric<T>(title: &'static str, value: fn(&T) -> f64, decimals: usize, bold: bool) -> Column<T> {
    Column { title, cell: Cell::Metric { value, decimals, bold } }
}

fn key<T>(title: &'static str, f: fn(&T) -> String) -> Column<T> {
    Column { title, cell: Cell::Key(f) }
}

/// "max" for a closed-loop run, else the offered records/s.
fn offered(v: f64) -> String {
    if v > 0.0 { format!("{v:.0}") } else { "max".into() }
}

/// The summary table's columns for `plan`.
fn summary_columns(plan: Plan) -> Vec<Column<Summary>> {
    let mut cols = vec![key("broker", |x: &Summary| x.broker.clone())];
    match plan {
        Plan::Default | Plan::Compression | Plan::Tls => cols.push(key("workload", |x| x.workload.clone())),
        Plan::Partitions => cols.push(key("partitions", |x| x.partitions.to_string())),
        Plan::Threads => cols.push(key("threads", |x| x.threads.to_string())),
        Plan::Latency => {
            cols.push(key("workload", |x| x.workload.clone()));
            cols.push(key("offered rec/s", |x| offered(x.offered_per_s)));
        }
    }
    cols.push(Column { title: "producer", cell: Cell::Producer(|x| x.producer.clone()) });
    let cpu_bold = plan != Plan::Default;
    match plan {
        Plan::Latency => cols.extend([
            metric("records/s", |x: &Summary| x.records_per_s, 0, false),
            Column {
                title: "behind schedule",
                cell: Cell::Note {
                    text: |x| {
                        if x.behind_rounds == 0 {
                            return String::new();
                        }
                        let pct = 100.0 * x.sent_per_s / x.offered_per_s.max(1e-9);
                        format!("{} of {} rounds (sent {pct:.0} %)", x.behind_rounds, x.rounds)
                    },
                    right: false,
                },
            },
            metric("max lag ms", |x| x.max_lag_ms, 2, false),
            metric("p50 ms", |x| x.p50_ms, 2, false),
            metric("p99 ms", |x| x.p99_ms, 2, true),
            metric("p99.9 ms", |x| x.p999_ms, 2, true),
            metric("max ms", |x| x.max_ms, 2, false),
            metric("CPU s / M rec", |x| x.cpu_s_per_m, 2, false),
            metric("peak RSS MiB", |x| x.peak_rss_mib, 1, false),
        ]),
        _ => {
            cols.push(metric("records/s", |x| x.records_per_s, 0, true));
            if plan == Plan::Default {
                cols.push(metric("MB/s", |x| x.mb_per_s, 1, false));
            }
            if plan == Plan::Compression {
                cols.push(metric("wire / value", |x| x.wire_ratio, 3, true));
            }
            cols.extend([
                metric("peak RSS MiB", |x: &Summary| x.peak_rss_mib, 1, true),
                metric("p50 ms", |x| x.p50_ms, 2, false),
                metric("p99 ms", |x| x.p99_ms, 2, true),
                metric("max ms", |x| x.max_ms, 2, false),
                metric("CPU s / M rec", |x| x.cpu_s_per_m, 2, cpu_bold),
            ]);
        }
    }
    cols.push(Column {
        title: "not delivered",
        cell: Cell::Note { text: |x| x.not_delivered.to_string(), right: true },
    });
    cols
}

/// The every-run table's columns for `plan`.
fn run_columns(plan: Plan) -> Vec<Column<RunResult>> {
    let mut cols = vec![
        metric("round", |r: &RunResult| f64::from(r.round), 0, false),
        key("broker", |r| r.broker.clone()),
        key("workload", |r| r.workload.clone()),
        key("producer", |r| r.producer.clone()),
        metric("records/s", RunResult::records_per_s, 0, false),
    ];
    if plan == Plan::Latency {
        cols.extend([
            metric("offered rec/s", |r: &RunResult| r.offered_per_s, 0, false),
            metric("sent rec/s", RunResult::sent_per_s, 0, false),
            metric("max lag ms", |r| r.max_lag_us as f64 / 1000.0, 2, false),
        ]);
    }
    cols.extend([
        metric("peak RSS MiB", |r: &RunResult| r.peak_rss_kib as f64 / 1024.0, 1, false),
        metric("p50 ms", |r| r.p50_us as f64 / 1000.0, 2, false),
        metric("p99 ms", |r| r.p99_us as f64 / 1000.0, 2, false),
    ]);
    if plan != Plan::Default {
        cols.push(metric("p99.9 ms", |r| r.p999_us as f64 / 1000.0, 2, false));
    }
    cols.extend([
        metric("max ms", |r: &RunResult| r.max_us as f64 / 1000.0, 2, false),
        metric("CPU s", |r| r.cpu_s, 2, false),
        metric("wire / value", RunResult::wire_ratio, 3, false),
        metric("delivered", |r| r.delivered as f64, 0, false),
        metric("failed", |r| r.failed as f64, 0, false),
        key("broker counters", |r| r.broker_stats.clone()),
    ]);
    cols
}

/// What the summary's figures mean, under its table.
fn footnote(plan: Plan) -> &'static str {
    match plan {
        Plan::Latency => {
            "Medians over rounds (max ms and max lag ms: the largest over rounds). Latency is from \
             the send call to the delivery report. Open-loop runs: record i is due i / offered \
             seconds after the first; a sender that is late never waits, and a run is behind \
             schedule when its send calls achieved under 99 % of the offered rate (max lag: how \
             late the latest send call started; under about 0.1 ms is the sender's own sleep \
             granularity). Ratios < 1 are better for idem in latency and CPU."
        }
        _ => {
            "Medians over rounds (max ms: the largest over rounds). Ratios > 1 are better for idem in \
             records/s and MB/s, < 1 better in memory, latency and CPU."
        }
    }
}

/// The markdown report of `plan`: summary table with idem / librdkafka ratios, then every
/// round.
pub fn markdown(plan: Plan, results: &[RunResult], header: &str) -> String {
    let s = summarise(results);
    let mut rows = Vec::new();
    for x in &s {
        rows.push(Row::One(x));
        if x.producer == PRODUCERS[1] {
            if let Some(a) = find(&s, &x.broker, &x.workload, PRODUCERS[0]) {
                rows.push(Row::Ratio { idem: a, rdk: x });
            }
        }
    }
    let mut md = String::new();
    let _ = writeln!(md, "{header}\n");
    table(&mut md, &summary_columns(plan), &rows);
    let _ = writeln!(md, "\n{}\n\n<details><summary>Every run</summary>\n", footnote(plan));
    let runs: Vec<Row<'_, RunResult>> = results.iter().map(Row::One).collect();
    table(&mut md, &run_columns(plan), &runs);
    md.push_str("\n</details>\n");
    md
}

/// The chart of `plan`: the default plan's bar chart ([`bar_svg`]), or for a dimension plan a
/// line chart per (figure, broker) over the dimension, a line per producer (and per
/// `linger.ms` in the latency plan: solid 0, dashed otherwise).
pub fn svg(plan: Plan, results: &[RunResult]) -> String {
    /// A figure drawn over the dimension: title, value, logarithmic y axis.
    type Figure = (&'static str, fn(&Summary) -> f64, bool);
    /// The dimension (x) of a plan and whether its axis is logarithmic.
    type Dimension = (fn(&Summary) -> f64, bool);
    let ((x, x_log), figures): (Dimension, [Figure; 2]) = match plan {
        Plan::Default | Plan::Compression | Plan::Tls => return bar_svg(results),
        Plan::Partitions => (
            (|s| f64::from(s.partitions), true),
            [
                ("records/s by partitions", |s| s.records_per_s, true),
                ("CPU s / M records by partitions", |s| s.cpu_s_per_m, true),
            ],
        ),
        Plan::Threads => (
            (|s| f64::from(s.threads), true),
            [
                ("records/s by application threads", |s| s.records_per_s, false),
                ("p99 ms by application threads", |s| s.p99_ms, true),
            ],
        ),
        Plan::Latency => (
            (|s| s.offered_per_s, false),
            [
                ("p99 ms by offered records/s", |s| s.p99_ms, true),
                ("p99.9 ms by offered records/s", |s| s.p999_ms, true),
            ],
        ),
    };
    // Closed-loop saturation rows are not points of the offered-load axis.
    let points: Vec<Summary> =
        summarise(results).into_iter().filter(|s| plan != Plan::Latency || s.workload != SATURATION).collect();
    let mut brokers: Vec<&str> = Vec::new();
    for s in &points {
        if !brokers.contains(&s.broker.as_str()) {
            brokers.push(&s.broker);
        }
    }
    let mut panels = Vec::new();
    for (title, y, y_log) in figures {
        for broker in &brokers {
            let mut series: Vec<Series> = Vec::new();
            for s in points.iter().filter(|s| s.broker == *broker) {
                let name = match (plan, s.linger_ms) {
                    (Plan::Latency, Some(l)) => format!("{}, linger.ms {l}", s.producer),
                    _ => s.producer.clone(),
                };
                let pt = (x(s), y(s));
                match series.iter_mut().find(|l| l.name == name) {
                    Some(l) => l.points.push(pt),
                    None => series.push(Series {
                        name,
                        color: COLORS[usize::from(s.producer != PRODUCERS[0])],
                        dashed: s.linger_ms.is_some_and(|l| l > 0) && plan == Plan::Latency,
                        points: vec![pt],
                    }),
                }
            }
            let unit = if y_log { ", log" } else { "" };
            panels.push(Panel { title: format!("{title}{unit} ({broker})"), x_log, y_log, x_fmt: si, series });
        }
    }
    chart::line_chart(&panels, brokers.len())
}

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

/// The default plan's SVG chart: records/s and p99 delivery latency for each (broker,
/// workload), idem and librdkafka side by side as bars.
pub fn bar_svg(results: &[RunResult]) -> String {
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
        let md = markdown(Plan::Default, &rs, "# t");
        assert!(
            md.contains("| idem-cluster | 100 B | **idem / librdkafka** | **4.00x** | 4.00x | **1.00x** |"),
            "{md}"
        );
        assert!(md.contains("**0.67x**"), "{md}");
        assert!(md.contains("| 1.00x | |\n"), "ratio rows leave `not delivered` blank: {md}");
        let svg = svg(Plan::Default, &rs);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 1 + 4 + 2);
        assert_eq!(median(vec![3.0, 1.0, 2.0, 10.0]), 2.5);
        assert_eq!(median(Vec::new()), 0.0);
    }

    #[test]
    fn dimension_tables_key_rows_by_the_dimension() {
        let mut rs = Vec::new();
        for (parts, idem_s, rdk_s) in [(1, 1.0, 2.0), (10_000, 4.0, 2.0)] {
            for (p, e) in [("idem", idem_s), ("librdkafka", rdk_s)] {
                rs.push(RunResult {
                    workload: format!("{parts} partitions"),
                    partitions: parts,
                    keyed: true,
                    ..r(p, 1, e, 500)
                });
            }
        }
        let md = markdown(Plan::Partitions, &rs, "# p");
        assert!(md.contains("| broker | partitions | producer | records/s | peak RSS MiB |"), "{md}");
        assert!(md.contains("| idem-cluster | 10000 | **idem / librdkafka** | **0.50x** |"), "{md}");
        assert!(md.contains("| idem-cluster | 1 | idem | 1000 |"), "{md}");
        assert!(md.contains("p99.9 ms"), "{md}");
        let svg = svg(Plan::Partitions, &rs);
        // Two figures on one broker, two producers each, plus two axis frames.
        assert_eq!(svg.matches("<polyline").count(), 2 * 2 + 2, "{svg}");
        assert!(svg.contains("records/s by partitions, log (idem-cluster)"));
    }

    #[test]
    fn latency_tables_flag_runs_behind_schedule_and_charts_skip_saturation() {
        let paced = |p: &str, linger: u64, offered: f64, send_s: f64| RunResult {
            workload: format!("linger {linger}, 50% load"),
            linger_ms: Some(linger),
            offered_per_s: offered,
            send_s,
            p999_us: 9000,
            ..r(p, 1, 1.0, 1000)
        };
        let rs = vec![
            RunResult { workload: SATURATION.into(), linger_ms: Some(5), ..r("librdkafka", 1, 0.001, 100) },
            paced("idem", 0, 1000.0, 1.0),
            paced("librdkafka", 0, 1000.0, 1.25),
            paced("idem", 5, 1000.0, 1.0),
            paced("librdkafka", 5, 1000.0, 1.0),
        ];
        let md = markdown(Plan::Latency, &rs, "# l");
        assert!(md.contains("| idem-cluster | saturation | max | librdkafka | 1000000 |"), "{md}");
        assert!(md.contains("1 of 1 rounds (sent 80 %)"), "{md}");
        assert!(md.contains("| idem-cluster | linger 0, 50% load | 1000 | **idem / librdkafka** | 1.00x | |"), "{md}");
        let svg = svg(Plan::Latency, &rs);
        // Four series (2 producers x 2 lingers) in two figures, plus two axis frames.
        assert_eq!(svg.matches("<polyline").count(), 4 * 2 + 2, "{svg}");
        assert!(svg.contains("librdkafka, linger.ms 5"));
        assert!(!svg.contains(">1M<"), "the saturation rate is no point on the x axis: {svg}");
    }
}
