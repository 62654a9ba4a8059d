//! `pipeline run --file`: the outcome of a run on a file as text or as
//! one JSON document. Rendering only; the run and its checks are in
//! `pipeline::on_file`.

use serde_json::{json, Value};

use crate::document::{position_at, PositionEncoding};
use crate::pipeline::on_file::{FileOutcome, Prepared, Proposal};
use crate::pipeline::outcome::Anchoring;

/// The outcome as people read it: findings as `path:line:col` lines, an
/// edit as a unified diff, prose as it is; then the notes.
pub fn text(prepared: &Prepared, outcome: &FileOutcome, wrote: bool) -> String {
    let mut out = String::new();
    match &outcome.proposal {
        Proposal::Findings(findings) => {
            for line in finding_lines(prepared, outcome) {
                out.push_str(&line);
                out.push('\n');
            }
            let n = findings.len();
            out.push_str(&format!("{n} finding{} from {}.\n", if n == 1 { "" } else { "s" }, prepared.block.name));
        }
        Proposal::Edit(edit) => {
            out.push_str(&edit.diff());
            if let Some(summary) = edit.summary() {
                out.push_str(&format!("# {}: {summary}\n", edit.display_path));
            }
            if wrote {
                out.push_str(&format!("# wrote {}\n", edit.display_path));
            }
        }
        Proposal::Prose(prose) => {
            out.push_str(prose);
            out.push('\n');
        }
    }
    for note in &outcome.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

fn finding_lines(prepared: &Prepared, outcome: &FileOutcome) -> Vec<String> {
    let Proposal::Findings(findings) = &outcome.proposal else { return Vec::new() };
    let rope = ropey::Rope::from_str(&prepared.original);
    findings
        .iter()
        .map(|found| {
            let at = position_at(&rope, found.range.start, PositionEncoding::Utf32);
            let rule = if found.finding.rule.is_empty() { prepared.block.name.as_str() } else { found.finding.rule.as_str() };
            let unanchored = match found.how {
                Anchoring::Exact => "",
                Anchoring::IgnoringWhitespace => " (the code it quotes differs in whitespace)",
                Anchoring::AtLine => " (the code it quotes is not in the file; placed at its line)",
                Anchoring::Unanchored => " (the code it quotes is not in the file)",
            };
            format!("{}:{}:{}: {} {rule} {}{unanchored}", prepared.display_path, at.line + 1, at.character + 1, found.severity.as_str(), found.finding.message)
        })
        .collect()
}

/// The outcome as one JSON document (`--json`).
pub fn json(prepared: &Prepared, outcome: &FileOutcome, wrote: bool) -> Value {
    let mut document = json!({
        "pipeline": prepared.block.name,
        "file": prepared.display_path,
        "run_id": outcome.run_id,
        "notes": outcome.notes,
    });
    match &outcome.proposal {
        Proposal::Findings(findings) => {
            let rope = ropey::Rope::from_str(&prepared.original);
            document["findings"] = findings
                .iter()
                .map(|found| {
                    let start = position_at(&rope, found.range.start, PositionEncoding::Utf32);
                    let end = position_at(&rope, found.range.end, PositionEncoding::Utf32);
                    json!({
                        "rule": found.finding.rule,
                        "severity": found.severity.as_str(),
                        "message": found.finding.message,
                        "line": start.line + 1, "column": start.character + 1,
                        "end_line": end.line + 1, "end_column": end.character + 1,
                        "anchored": found.anchored,
                        "anchoring": format!("{:?}", found.how),
                        "suggestion": found.finding.suggestion,
                    })
                })
                .collect();
        }
        Proposal::Edit(edit) => {
            document["edit"] = json!({
                "path": edit.display_path,
                "creates": edit.creates,
                "diff": edit.diff(),
                "written": wrote,
                "verification": edit.verification.as_ref().map(|v| json!({
                    "summary": v.summary(), "fixed": v.fixed, "added": v.added,
                })),
            });
        }
        Proposal::Prose(prose) => document["prose"] = Value::String(prose.clone()),
    }
    document
}
