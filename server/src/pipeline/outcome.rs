//! Reading a model's final answer by the pipeline's editor `kind`:
//! analysis answers are findings anchored by their `snippet`; refactor
//! answers are new code (a fenced block) or a unified diff. Answers are
//! read defensively: prose around JSON, fences or none, and a broken
//! answer is a clear error, never a corrupt edit.

use std::ops::Range;

use serde::Deserialize;

use super::run::values::{fenced_block, find_json};
use crate::finding::Severity;

/// A finding an analysis pipeline reported, as the model wrote it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ModelFinding {
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub severity: String,
    pub message: String,
    #[serde(default)]
    pub line: Option<usize>,
    #[serde(default)]
    pub snippet: Option<String>,
    #[serde(default)]
    pub suggestion: Option<String>,
}

/// A finding placed in the current text.
#[derive(Clone, Debug, PartialEq)]
pub struct AnchoredFinding {
    pub finding: ModelFinding,
    pub range: Range<usize>,
    pub severity: Severity,
    /// False when the snippet was not found: shown once at the top of the file.
    pub anchored: bool,
}

pub fn parse_findings(answer: &str) -> Result<Vec<ModelFinding>, String> {
    let json = find_json(answer).ok_or("the answer holds no JSON findings")?;
    let list = json.get("findings").cloned().unwrap_or(json);
    serde_json::from_value(list).map_err(|e| format!("the findings are not in the expected shape: {e}"))
}

/// Place each finding at its snippet (the occurrence nearest its `line`
/// when the snippet occurs more than once); findings whose snippet is not
/// in the text are kept, at the top of the file, never dropped.
pub fn anchor(findings: Vec<ModelFinding>, source: &str) -> Vec<AnchoredFinding> {
    findings
        .into_iter()
        .map(|finding| {
            let severity = match finding.severity.to_ascii_lowercase().as_str() {
                "error" => Severity::Error,
                "info" | "information" => Severity::Information,
                "hint" => Severity::Hint,
                _ => Severity::Warning,
            };
            let located = finding.snippet.as_deref().map(str::trim).filter(|s| !s.is_empty()).and_then(|snippet| {
                let line_of = |offset: usize| source[..offset].matches('\n').count() + 1;
                source
                    .match_indices(snippet)
                    .map(|(at, _)| at)
                    .min_by_key(|at| finding.line.map_or(0, |line| line_of(*at).abs_diff(line)))
                    .map(|at| at..at + snippet.len())
            });
            match located {
                Some(range) => AnchoredFinding { finding, range, severity, anchored: true },
                None => {
                    let first_line = source.find('\n').unwrap_or(source.len());
                    AnchoredFinding { finding, range: 0..first_line, severity, anchored: false }
                }
            }
        })
        .collect()
}

/// The new text a refactor answer proposes for `original`: the last fenced
/// code block, or `original` patched by a unified diff.
pub fn new_text(answer: &str, original: &str) -> Result<String, String> {
    if let Some(diff) = fenced_block(answer, &["diff", "patch"]).or_else(|| answer.trim_start().starts_with("---").then_some(answer)) {
        let patch = diffy::Patch::from_str(diff).map_err(|e| format!("the answer's diff cannot be read: {e}"))?;
        return diffy::apply(original, &patch).map_err(|e| format!("the answer's diff does not apply to the current text: {e}"));
    }
    let code = last_fenced_block(answer).ok_or("the answer holds no code block and no diff")?;
    if code.trim().is_empty() {
        return Err("the answer's code block is empty".to_string());
    }
    Ok(code.to_string())
}

fn last_fenced_block(text: &str) -> Option<&str> {
    let mut last = None;
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let newline = after.find('\n')?;
        let body = &after[newline + 1..];
        let close = body.find("```")?;
        last = Some(&body[..close]);
        rest = &body[close + 3..];
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "defmodule W do\n  def a, do: GenServer.call(W, :a, :infinity)\n  def b, do: GenServer.call(W, :b, :infinity)\nend\n";

    #[test]
    fn findings_are_read_from_prose_and_anchored_by_snippet_then_line() {
        let answer = "Sure! Here you go:\n```json\n{\"findings\": [\n  {\"rule\": \"r\", \"severity\": \"warning\", \"message\": \"m\", \"line\": 3, \"snippet\": \"GenServer.call(W\"},\n  {\"rule\": \"gone\", \"message\": \"n\", \"line\": 1, \"snippet\": \"not in the file\"}\n]}\n```\nHope it helps.";
        let anchored = anchor(parse_findings(answer).unwrap(), SOURCE);
        assert_eq!(SOURCE[..anchored[0].range.start].matches('\n').count() + 1, 3, "the occurrence nearest line 3");
        assert!(anchored[0].anchored);
        assert!(!anchored[1].anchored);
        assert_eq!(anchored[1].range, 0..14);
        assert!(parse_findings("I could not do it.").is_err());
    }

    #[test]
    fn refactors_come_as_a_code_block_or_a_diff() {
        let answer = "Done:\n```elixir\ndefmodule W do\nend\n```\n";
        assert_eq!(new_text(answer, SOURCE).unwrap(), "defmodule W do\nend\n");
        let diff = "```diff\n--- a/w.ex\n+++ b/w.ex\n@@ -1,3 +1,3 @@\n defmodule W do\n-  def a, do: GenServer.call(W, :a, :infinity)\n+  def a, do: GenServer.call(W, :a)\n   def b, do: GenServer.call(W, :b, :infinity)\n```";
        assert_eq!(new_text(diff, SOURCE).unwrap(), SOURCE.replacen(", :a, :infinity)", ", :a)", 1));
        let stale = diff.replace("def b", "def c");
        assert!(new_text(&stale, SOURCE).unwrap_err().contains("does not apply"));
        assert!(new_text("No code today.", SOURCE).is_err());
    }
}
