//! Reading a model's final answer by the pipeline's editor `kind`:
//! analysis answers are findings anchored by their `snippet`; refactor
//! answers are new code (a fenced block) or a unified diff. The reading
//! itself is in [`super::answer`]; these are the shapes callers keep, and
//! the old string-error entry points over it.

use std::ops::Range;

use serde::Deserialize;

pub use super::answer::{read_findings, read_rewrite, AnswerProblem, Anchoring, Form, Rewrite};
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
    /// False when nothing placed it (shown once at the top of the file).
    pub anchored: bool,
    pub how: Anchoring,
}

/// [`read_findings`], its problem as a message.
pub fn parse_findings(answer: &str) -> Result<Vec<ModelFinding>, String> {
    read_findings(answer).map_err(|problem| problem.to_string())
}

/// Place each finding by its snippet (exactly, then ignoring whitespace;
/// the occurrence nearest its `line` when there are several), else at its
/// `line`; findings that fit nowhere are kept, at the top of the file,
/// never dropped.
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
            let (range, how) = super::answer::locate(&finding, source);
            AnchoredFinding { finding, range, severity, anchored: how != Anchoring::Unanchored, how }
        })
        .collect()
}

/// The new text a refactor answer proposes for `original` ([`read_rewrite`]),
/// its problem as a message.
pub fn new_text(answer: &str, original: &str) -> Result<String, String> {
    read_rewrite(answer, original).map(|rewrite| rewrite.text).map_err(|problem| problem.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "defmodule W do\n  def a, do: GenServer.call(W, :a, :infinity)\n  def b, do: GenServer.call(W, :b, :infinity)\nend\n";

    #[test]
    fn findings_are_read_from_prose_and_anchored_by_snippet_then_line() {
        let answer = "Sure! Here you go:\n```json\n{\"findings\": [\n  {\"rule\": \"r\", \"severity\": \"warning\", \"message\": \"m\", \"line\": 3, \"snippet\": \"GenServer.call(W\"},\n  {\"rule\": \"gone\", \"message\": \"n\", \"line\": 99, \"snippet\": \"not in the file\"}\n]}\n```\nHope it helps.";
        let anchored = anchor(parse_findings(answer).unwrap(), SOURCE);
        assert_eq!(SOURCE[..anchored[0].range.start].matches('\n').count() + 1, 3, "the occurrence nearest line 3");
        assert_eq!((anchored[0].anchored, anchored[0].how), (true, Anchoring::Exact));
        assert_eq!((anchored[1].anchored, anchored[1].how), (false, Anchoring::Unanchored));
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
