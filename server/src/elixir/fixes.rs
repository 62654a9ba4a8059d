//! Applying fixes: all safe ones at once ("fix all", `check --fix`), proven
//! not to add syntax errors and repeated until nothing is left to fix.

use super::parser::with_parser;
use super::syntax_errors;
use super::{analyze, AnalysisOptions};
use crate::finding::{apply_edits, Applicability, Edit, Finding};

/// Rounds of fixing before giving up on convergence.
const MAX_ROUNDS: usize = 10;

pub struct Fixed {
    pub text: String,
    pub applied: usize,
}

/// Apply every safe fix, re-analysing after each round, until none is left.
/// Refuses (with an error) if the fixes would add a syntax error or do not
/// converge.
pub fn fix_all(source: &str, options: &AnalysisOptions) -> Result<Fixed, String> {
    let mut text = source.to_string();
    let mut applied = 0;
    let syntax_errors_before = syntax_errors::count(&text);
    for _ in 0..MAX_ROUNDS {
        let tree = with_parser(|p| p.parse_str(&text, None));
        let findings = analyze(&text, &tree, options);
        let (edits, count) = safe_edits(&findings);
        if count == 0 {
            return Ok(Fixed { text, applied });
        }
        text = apply_edits(&text, &edits);
        applied += count;
        if syntax_errors::count(&text) > syntax_errors_before {
            return Err("the fixes would add a syntax error; nothing was changed".to_string());
        }
    }
    Err(format!("fixes did not settle after {MAX_ROUNDS} rounds; nothing was changed"))
}

/// The edits of every safe fix that does not overlap an earlier one.
pub fn safe_edits(findings: &[Finding]) -> (Vec<Edit>, usize) {
    let mut edits: Vec<Edit> = Vec::new();
    let mut count = 0;
    for fix in findings.iter().filter_map(|f| f.fix.as_ref()).filter(|f| f.applicability == Applicability::Safe) {
        let overlaps = fix.edits.iter().any(|new| {
            edits.iter().any(|old| new.range.start < old.range.end.max(old.range.start + 1) && old.range.start < new.range.end.max(new.range.start + 1))
        });
        if !overlaps {
            edits.extend(fix.edits.iter().cloned());
            count += 1;
        }
    }
    (edits, count)
}
