//! The report as one self-contained HTML page: inline CSS, inline SVG
//! charts, no script and nothing fetched, so it can be mailed or archived.

use std::fmt::Write;

use super::svg::{self, Line};
use super::{acceptance_text, cost_text, Figures, Report, StepReport};
use crate::pipeline::providers::prices::dollars;

const STYLE: &str = "
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1280px; color: #1b1b1b; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.8em 0; width: 100%; }
table { font-size: 0.92em; }
th, td { border-bottom: 1px solid #e2e2e2; padding: 4px 6px; text-align: right; white-space: nowrap; }
td.evidence { text-align: left; white-space: normal; min-width: 11em; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f3f3f3; }
.recommendation { border-left: 4px solid #0072B2; background: #eef5fb; padding: 0.6em 1em; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5em; }
.charts figure { margin: 0; flex: 1 1 480px; }
svg.chart { width: 100%; height: auto; background: #fff; border: 1px solid #e2e2e2; }
svg .grid { stroke: #eee; } svg .axis { stroke: #999; }
svg .tick, svg .legend, svg .value { font: 11px system-ui, sans-serif; fill: #444; }
.rule { color: #555; font-size: 0.92em; }
.muted { color: #777; }
";

/// The page.
pub fn page(report: &Report) -> String {
    let mut html = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(html, "<title>Prompt store report: {}</title><style>{STYLE}</style></head><body>", escape(&report.pipeline));
    let _ = write!(html, "<h1>Prompt store report: <code>{}</code></h1>", escape(&report.pipeline));
    let _ = write!(html, "<p class=\"rule\"><strong>Selection rule.</strong> {}</p>", escape(&report.rule));
    for step in &report.steps {
        step_section(&mut html, step);
    }
    html.push_str("</body></html>\n");
    html
}

fn step_section(html: &mut String, step: &StepReport) {
    let _ = write!(html, "<section class=\"step\" data-step=\"{0}\"><h2>Step <code>{0}</code></h2>", escape(&step.step));
    let recommendation = &step.recommendation;
    let version = recommendation.version.map(|v| format!(" (version {v})")).unwrap_or_default();
    let _ = write!(
        html,
        "<p class=\"recommendation\" data-action=\"{}\"><strong>{}</strong>{}: {}</p>",
        serde_json::to_value(&recommendation.action).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        capitalised(recommendation.action.title()),
        escape(&version),
        escape(&recommendation.reason)
    );
    html.push_str("<h3>Versions</h3><table class=\"versions\"><thead><tr><th>version</th><th>source</th><th>demos</th>");
    figure_headers(html);
    html.push_str("<th>evidence</th></tr></thead><tbody>");
    for v in &step.versions {
        let source = if v.superseded { format!("{} (superseded: not served)", v.source) } else { v.source.clone() };
        let class = if v.superseded { " class=\"superseded muted\"" } else { "" };
        let _ = write!(html, "<tr data-version=\"{}\"{class}><td>{}</td><td>{}</td><td>{}</td>", v.id, v.id, escape(&source), v.demos);
        figure_cells(html, &v.figures);
        let evidence = format!("{:.0} trials, at least {:.0}%{}", v.evidence.trials, v.evidence_lower_bound * 100.0, if v.enough_evidence { "" } else { " (too few)" });
        let _ = write!(html, "<td class=\"evidence\">{}</td></tr>", escape(&evidence));
    }
    html.push_str("</tbody></table><h3>Modes</h3><table class=\"modes\"><thead><tr><th>mode</th>");
    figure_headers(html);
    html.push_str("</tr></thead><tbody>");
    for m in &step.modes {
        let _ = write!(html, "<tr data-mode=\"{0}\"><td>{0}</td>", escape(&m.mode));
        figure_cells(html, &m.figures);
        html.push_str("</tr>");
    }
    if step.modes.is_empty() {
        html.push_str("<tr><td class=\"muted\" colspan=\"9\">no runs recorded</td></tr>");
    }
    html.push_str("</tbody></table><div class=\"charts\">");
    let label = |id: i64| step.versions.iter().find(|v| v.id == id).map(|v| format!("v{id} {}", v.source)).unwrap_or_else(|| format!("v{id}"));
    let colour_of = |id: i64| svg::colour(step.versions.iter().position(|v| v.id == id).unwrap_or(0));
    let lines: Vec<Line> = step.acceptance_over_time.iter().map(|s| Line { label: label(s.version), colour: colour_of(s.version), points: &s.points }).collect();
    let _ = write!(html, "<figure>{}<figcaption>Acceptance over time per version (accepted or edited, of judged).</figcaption></figure>", svg::line_chart("Acceptance over time", &lines));
    let bars: Vec<(String, &str, Option<f64>)> = step.versions.iter().map(|v| (label(v.id), colour_of(v.id), v.figures.cost_per_accepted)).collect();
    let _ = write!(
        html,
        "<figure>{}<figcaption>Cost per accepted edit per version (n/a: nothing accepted, or some cost unknown).</figcaption></figure>",
        svg::bar_chart("Cost per accepted edit", &bars, dollars)
    );
    html.push_str("</div></section>");
}

fn figure_headers(html: &mut String) {
    html.push_str("<th>runs</th><th>failed</th><th>unusable</th><th>acceptance [95%]</th><th>evaluation</th><th>latency</th><th>tokens in/out</th><th>cost</th><th>per accepted</th>");
}

fn figure_cells(html: &mut String, f: &Figures) {
    let evaluation = super::evaluation_text(f).unwrap_or_else(|| "–".into());
    let latency = f.mean_latency_ms.map(|l| format!("{l:.0} ms")).unwrap_or_else(|| "–".into());
    let per = f.cost_per_accepted.map(dollars).unwrap_or_else(|| "–".into());
    for cell in [f.runs.to_string(), f.failed.to_string(), f.unusable.to_string(), acceptance_text(f), evaluation, latency, format!("{}/{}", f.input_tokens, f.output_tokens), cost_text(f), per] {
        let _ = write!(html, "<td>{}</td>", escape(&cell));
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Text made safe for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
