//! Hand-written SVG line charts (no plotting dependency): panels of series over a linear or
//! logarithmic x and y axis, with one legend for the whole chart; and the formatting helpers
//! the report's charts share.

use std::fmt::Write as _;

/// Colour of each producer's marks, in [`crate::report::PRODUCERS`] order.
pub const COLORS: [&str; 2] = ["#2b6cb0", "#dd6b20"];

/// `s` with the characters SVG and XML text treat specially escaped.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A compact figure without trailing zeros: `1.23M`, `1.2M`, `456k`, `789`, `0.42`, `1`.
pub fn si(v: f64) -> String {
    let trim = |s: String| if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    if v >= 1e6 {
        format!("{}M", trim(format!("{:.2}", v / 1e6)))
    } else if v >= 1e3 {
        format!("{:.0}k", v / 1e3)
    } else if v >= 10.0 {
        format!("{v:.0}")
    } else {
        trim(format!("{v:.2}"))
    }
}

/// The smallest of 1, 2, 5 times a power of ten that is at least `v` (1 for `v <= 0`).
pub fn nice_ceil(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * p).find(|c| *c >= v * (1.0 - 1e-12)).unwrap_or(10.0 * p)
}

/// Maps values of one axis onto `0.0..=1.0` of its length.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    /// Logarithmic (values must be positive; smaller ones are drawn at `lo`).
    pub log: bool,
    /// The value at 0.
    pub lo: f64,
    /// The value at 1.
    pub hi: f64,
}

impl Scale {
    /// A value axis holding every value of `values`: linear from 0 up to a [`nice_ceil`] of
    /// the largest, or logarithmic from the decade below the smallest positive value to the
    /// decade above the largest.
    pub fn fit(values: impl IntoIterator<Item = f64>, log: bool) -> Scale {
        let vals: Vec<f64> = values.into_iter().filter(|v| v.is_finite() && (*v > 0.0 || !log)).collect();
        let max = vals.iter().copied().fold(0.0, f64::max);
        if log {
            let min = vals.iter().copied().fold(f64::INFINITY, f64::min);
            let (lo, hi) = if vals.is_empty() { (0.0, 1.0) } else { (min.log10().floor(), max.log10().ceil()) };
            Scale { log: true, lo: 10f64.powf(lo), hi: 10f64.powf(hi.max(lo + 1.0)) }
        } else {
            Scale { log: false, lo: 0.0, hi: nice_ceil(max) }
        }
    }

    /// An axis from exactly the smallest to the largest of `values` (a category-like x axis
    /// whose points sit at both ends); widened around a single value.
    pub fn span(values: impl IntoIterator<Item = f64>, log: bool) -> Scale {
        let vals: Vec<f64> = values.into_iter().filter(|v| v.is_finite() && (*v > 0.0 || !log)).collect();
        let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if vals.is_empty() {
            return Scale { log, lo: 1.0, hi: 10.0 };
        }
        if hi > lo {
            Scale { log, lo, hi }
        } else if log {
            Scale { log, lo: lo / 10.0, hi: hi * 10.0 }
        } else {
            Scale { log, lo: lo - 1.0, hi: hi + 1.0 }
        }
    }

    /// Where `v` falls, `0.0` at `lo` to `1.0` at `hi`, clamped to that range.
    pub fn frac(&self, v: f64) -> f64 {
        let f = if self.log {
            let lo = self.lo.max(f64::MIN_POSITIVE);
            (v.max(lo) / lo).log10() / (self.hi / lo).log10()
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        if f.is_finite() { f.clamp(0.0, 1.0) } else { 0.0 }
    }

    /// Tick values: every decade of a logarithmic axis; five equal steps of a linear one.
    pub fn ticks(&self) -> Vec<f64> {
        if self.log {
            let (lo, hi) = (self.lo.log10().round() as i32, self.hi.log10().round() as i32);
            (lo..=hi).map(|e| 10f64.powi(e)).collect()
        } else {
            (0..=5).map(|i| self.lo + (self.hi - self.lo) * f64::from(i) / 5.0).collect()
        }
    }
}

/// One line of a panel.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend text; series of the same name in several panels share one legend entry.
    pub name: String,
    /// Stroke colour.
    pub color: &'static str,
    /// Dashed instead of solid.
    pub dashed: bool,
    /// `(x, y)` points, drawn in x order.
    pub points: Vec<(f64, f64)>,
}

/// One plot of a chart.
pub struct Panel {
    /// Title above the plot.
    pub title: String,
    /// Logarithmic x axis; its ticks are the x values of the points.
    pub x_log: bool,
    /// Logarithmic y axis.
    pub y_log: bool,
    /// Label of an x tick.
    pub x_fmt: fn(f64) -> String,
    /// The lines.
    pub series: Vec<Series>,
}

const PANEL_W: f64 = 450.0;
const PANEL_H: f64 = 320.0;
const LEGEND_H: f64 = 34.0;
/// Plot area inside a panel: left, right, top, bottom margins.
const MARGIN: (f64, f64, f64, f64) = (62.0, 22.0, 44.0, 40.0);

/// An SVG of `panels`, `cols` per row, with one legend under them.
pub fn line_chart(panels: &[Panel], cols: usize) -> String {
    let cols = cols.max(1);
    let rows = panels.len().div_ceil(cols).max(1);
    let (w, h) = (PANEL_W * cols as f64, PANEL_H * rows as f64 + LEGEND_H);
    let mut svg = String::new();
    let _ =
        writeln!(svg, r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif">"#);
    let _ = writeln!(svg, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    for (i, p) in panels.iter().enumerate() {
        let (x0, y0) = (PANEL_W * (i % cols) as f64, PANEL_H * (i / cols) as f64);
        panel(&mut svg, x0, y0, p);
    }
    let mut legend: Vec<&Series> = Vec::new();
    for s in panels.iter().flat_map(|p| &p.series) {
        if !legend.iter().any(|l| l.name == s.name) {
            legend.push(s);
        }
    }
    let step = (w / legend.len().max(1) as f64).min(190.0);
    let mut x = (w - step * legend.len() as f64) / 2.0 + 10.0;
    let y = h - LEGEND_H / 2.0;
    for s in legend {
        let _ = writeln!(
            svg,
            r#"<line x1="{x:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{}" stroke-width="2.5"{}/>"#,
            x + 26.0,
            s.color,
            dash(s.dashed)
        );
        let _ = writeln!(svg, r#"<text x="{:.1}" y="{:.1}" font-size="12">{}</text>"#, x + 32.0, y + 4.0, esc(&s.name));
        x += step;
    }
    svg.push_str("</svg>\n");
    svg
}

fn dash(dashed: bool) -> &'static str {
    if dashed { r#" stroke-dasharray="7 4""# } else { "" }
}

fn panel(svg: &mut String, x0: f64, y0: f64, p: &Panel) {
    let (ml, mr, mt, mb) = MARGIN;
    let (left, right, top, bottom) = (x0 + ml, x0 + PANEL_W - mr, y0 + mt, y0 + PANEL_H - mb);
    let points = || p.series.iter().flat_map(|s| &s.points);
    let xs = Scale::span(points().map(|pt| pt.0), p.x_log);
    let ys = Scale::fit(points().map(|pt| pt.1), p.y_log);
    let px = |v: f64| left + xs.frac(v) * (right - left);
    let py = |v: f64| bottom - ys.frac(v) * (bottom - top);
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" font-size="14" text-anchor="middle" font-weight="bold">{}</text>"#,
        x0 + PANEL_W / 2.0,
        y0 + 24.0,
        esc(&p.title)
    );
    for t in ys.ticks() {
        let y = py(t);
        let _ = writeln!(svg, r##"<line x1="{left:.1}" y1="{y:.1}" x2="{right:.1}" y2="{y:.1}" stroke="#ddd"/>"##);
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"#,
            left - 5.0,
            y + 3.5,
            esc(&si(t))
        );
    }
    let mut xticks: Vec<f64> = points().map(|pt| pt.0).collect();
    xticks.sort_by(f64::total_cmp);
    xticks.dedup();
    for t in xticks {
        let x = px(t);
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{bottom:.1}" x2="{x:.1}" y2="{:.1}" stroke="#333"/>"##,
            bottom + 4.0
        );
        let _ = writeln!(
            svg,
            r#"<text x="{x:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}</text>"#,
            bottom + 16.0,
            esc(&(p.x_fmt)(t))
        );
    }
    let _ = writeln!(
        svg,
        r##"<polyline points="{left:.1},{top:.1} {left:.1},{bottom:.1} {right:.1},{bottom:.1}" fill="none" stroke="#333"/>"##
    );
    for s in &p.series {
        let mut pts = s.points.clone();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let path: Vec<String> = pts.iter().map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y))).collect();
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{}/>"#,
            path.join(" "),
            s.color,
            dash(s.dashed)
        );
        for &(x, y) in &pts {
            let _ = writeln!(svg, r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#, px(x), py(y), s.color);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_figures() {
        let got: Vec<String> = [3_251_990.0, 1_200_000.0, 456_400.0, 789.4, 10.0, 0.42, 1.0, 0.1, 0.0].map(si).to_vec();
        assert_eq!(got, ["3.25M", "1.2M", "456k", "789", "10", "0.42", "1", "0.1", "0"]);
    }

    #[test]
    fn nice_ceilings() {
        for (v, want) in
            [(0.0, 1.0), (1.0, 1.0), (1.2, 2.0), (3.0, 5.0), (7.0, 10.0), (1_234_567.0, 2_000_000.0), (0.03, 0.05)]
        {
            assert!((nice_ceil(v) - want).abs() < want * 1e-9, "v={v} got {}", nice_ceil(v));
        }
    }

    #[test]
    fn linear_fit_starts_at_zero_and_holds_the_max() {
        let s = Scale::fit([120.0, 3_300_000.0, 5.0], false);
        assert_eq!((s.lo, s.hi), (0.0, 5_000_000.0));
        assert_eq!(s.frac(0.0), 0.0);
        assert!((s.frac(2_500_000.0) - 0.5).abs() < 1e-12);
        assert_eq!(s.frac(9e9), 1.0);
        assert_eq!(s.ticks().len(), 6);
        assert_eq!(s.ticks()[1], 1_000_000.0);
    }

    #[test]
    fn log_fit_covers_whole_decades() {
        let s = Scale::fit([0.35, 0.0, 42.0], true);
        assert!((s.lo - 0.1).abs() < 1e-12 && (s.hi - 100.0).abs() < 1e-9, "{s:?}");
        assert!((s.frac(1.0) - 1.0 / 3.0).abs() < 1e-9);
        assert!((s.frac(10.0) - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(s.frac(0.0), 0.0);
        assert_eq!(s.ticks().len(), 4);
        let one = Scale::fit([10.0], true);
        assert!(one.hi > one.lo);
    }

    #[test]
    fn span_puts_the_extremes_at_the_ends() {
        let s = Scale::span([1.0, 100.0, 10_000.0, 10.0], true);
        assert_eq!(s.frac(1.0), 0.0);
        assert_eq!(s.frac(10_000.0), 1.0);
        assert!((s.frac(100.0) - 0.5).abs() < 1e-12);
        let threads = Scale::span([1.0, 4.0, 16.0], true);
        assert!((threads.frac(4.0) - 0.5).abs() < 1e-12);
        let one = Scale::span([5.0], false);
        assert_eq!(one.frac(5.0), 0.5);
    }

    #[test]
    fn chart_draws_every_series_of_every_panel_and_one_legend_entry_per_name() {
        let series = |name: &str, dashed| Series {
            name: name.into(),
            color: COLORS[0],
            dashed,
            points: vec![(10.0, 2.0), (1.0, 1.0), (100.0, 3.0)],
        };
        let panel = |t: &str| Panel {
            title: t.into(),
            x_log: true,
            y_log: false,
            x_fmt: si,
            series: vec![series("a", false), series("b", true)],
        };
        let svg = line_chart(&[panel("one"), panel("two & <three>")], 2);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        // 2 series in 2 panels + 2 axis frames.
        assert_eq!(svg.matches("<polyline").count(), 6);
        assert_eq!(svg.matches("<circle").count(), 12);
        assert_eq!(svg.matches("stroke-dasharray").count(), 2 + 1);
        assert!(svg.contains("two &amp; &lt;three&gt;"));
        assert!(svg.contains(r#"width="900""#));
    }
}
