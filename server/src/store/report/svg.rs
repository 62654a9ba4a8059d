//! The report's two charts as inline SVG, drawn here: no script, no
//! font or stylesheet from elsewhere, so the page works offline.

use std::fmt::Write;

use super::html::escape;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 36.0;

/// Colours that stay apart for the colour-blind (Okabe–Ito).
const COLOURS: &[&str] = &["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];

pub fn colour(index: usize) -> &'static str {
    COLOURS[index % COLOURS.len()]
}

/// One line per version: its acceptance rate (0 to 1) after each verdict.
pub struct Line<'a> {
    pub label: String,
    pub colour: &'a str,
    pub points: &'a [(u32, f64)],
}

/// Acceptance over time: x is the verdict's position, y the rate.
pub fn line_chart(title: &str, lines: &[Line]) -> String {
    let last = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).max().unwrap_or(1).max(1) as f64;
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let x = |position: f64| LEFT + plot_width * (position - 1.0).max(0.0) / (last - 1.0).max(1.0);
    let y = |rate: f64| TOP + plot_height * (1.0 - rate.clamp(0.0, 1.0));
    let mut svg = open(title, "acceptance-over-time");
    for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" class="grid"/><text x="{:.1}" y="{:.1}" class="tick" text-anchor="end">{:.0}%</text>"##,
            LEFT + plot_width,
            LEFT - 6.0,
            y(tick) + 4.0,
            tick * 100.0,
            y = y(tick)
        );
    }
    let _ = write!(svg, r##"<text x="{:.1}" y="{:.1}" class="tick" text-anchor="middle">verdicts on this step, in order (1 to {last})</text>"##, LEFT + plot_width / 2.0, HEIGHT - 8.0);
    for (index, line) in lines.iter().enumerate() {
        let path: Vec<String> = line.points.iter().map(|(p, r)| format!("{:.1},{:.1}", x(*p as f64), y(*r))).collect();
        let _ = write!(svg, r##"<polyline class="series" fill="none" stroke="{}" stroke-width="2" points="{}"/>"##, line.colour, path.join(" "));
        for (position, rate) in line.points {
            let _ = write!(
                svg,
                r##"<circle class="point" data-version="{}" cx="{:.1}" cy="{:.1}" r="2.5" fill="{}"><title>{} after verdict {position}: {:.0}%</title></circle>"##,
                escape(&line.label),
                x(*position as f64),
                y(*rate),
                line.colour,
                escape(&line.label),
                rate * 100.0
            );
        }
        legend(&mut svg, index, &line.label, line.colour);
    }
    svg.push_str("</svg>");
    svg
}

/// One bar per version; `None` values are drawn as "n/a", not as zero.
pub fn bar_chart(title: &str, bars: &[(String, &str, Option<f64>)], unit: impl Fn(f64) -> String) -> String {
    let top = bars.iter().filter_map(|b| b.2).fold(0.0, f64::max);
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let slot = plot_width / bars.len().max(1) as f64;
    let mut svg = open(title, "cost-per-accepted");
    let _ = write!(svg, r##"<line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" class="axis"/>"##, LEFT + plot_width, TOP + plot_height, TOP + plot_height);
    for (index, (label, colour, value)) in bars.iter().enumerate() {
        let middle = LEFT + slot * (index as f64 + 0.5);
        let _ = write!(svg, r##"<text x="{middle:.1}" y="{:.1}" class="tick" text-anchor="middle">{}</text>"##, HEIGHT - 8.0, escape(label));
        match value {
            Some(value) => {
                let height = if top > 0.0 { plot_height * value / top } else { 0.0 };
                let _ = write!(
                    svg,
                    r##"<rect class="bar" data-version="{}" x="{:.1}" y="{:.1}" width="{:.1}" height="{height:.1}" fill="{colour}"><title>{}: {}</title></rect><text x="{middle:.1}" y="{:.1}" class="value" text-anchor="middle">{}</text>"##,
                    escape(label),
                    middle - slot * 0.3,
                    TOP + plot_height - height,
                    slot * 0.6,
                    escape(label),
                    unit(*value),
                    TOP + plot_height - height - 4.0,
                    unit(*value)
                );
            }
            None => {
                let _ = write!(svg, r##"<text x="{middle:.1}" y="{:.1}" class="value" text-anchor="middle">n/a</text>"##, TOP + plot_height - 4.0);
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

fn open(title: &str, class: &str) -> String {
    format!(r##"<svg class="chart {class}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{0}"><title>{0}</title>"##, escape(title))
}

fn legend(svg: &mut String, index: usize, label: &str, colour: &str) {
    let y = TOP + 8.0 + index as f64 * 18.0;
    let x = WIDTH - RIGHT + 12.0;
    let _ = write!(svg, r##"<rect x="{x:.1}" y="{:.1}" width="10" height="10" fill="{colour}"/><text x="{:.1}" y="{:.1}" class="legend">{}</text>"##, y - 9.0, x + 15.0, y, escape(label));
}
