//! Applying fixes: all safe ones at once ("fix all", `check --fix`), proven
//! not to add syntax errors and repeated until nothing is left to fix.

use super::modules::{attribute, ModuleDef};
use super::parser::with_parser;
use super::syntax::call_name;
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

/// The edit that adds a module-level line such as `require Logger`: after
/// the module's header (its leading `@moduledoc`, `use`, `alias`, `require`
/// and `import` statements), or before its first statement when it has no
/// header. Every fix that adds such a line goes through here, so none lands
/// above `@moduledoc`. `None` when the module's body has no statement alone
/// on its line to take the indentation from.
pub fn add_module_line(module: &ModuleDef, source: &str, line: &str) -> Option<Edit> {
    let first = module.statements.first()?;
    let line_start = source[..first.start_byte()].rfind('\n').map_or(0, |i| i + 1);
    let indent = &source[line_start..first.start_byte()];
    if !indent.chars().all(|c| c == ' ' || c == '\t') {
        return None;
    }
    let header_end = module.statements.iter().take_while(|s| is_header(**s, source)).last();
    let Some(last) = header_end else {
        return Some(Edit::insert(first.start_byte(), format!("{line}\n{indent}")));
    };
    // After the rest of the header's last line when that is only a comment,
    // so the comment stays with the statement it follows.
    let rest_of_line = source[last.end_byte()..].split('\n').next().unwrap_or("");
    let at = match rest_of_line.trim_start() {
        rest if rest.is_empty() || rest.starts_with('#') => last.end_byte() + rest_of_line.len(),
        _ => last.end_byte(),
    };
    // A blank line between the module's documentation and its code.
    let gap = if attribute(*last, source).is_some() { "\n" } else { "" };
    Some(Edit::insert(at, format!("\n{gap}{indent}{line}")))
}

/// `@moduledoc ...`, `use X`, `alias X`, `require X` or `import X`.
fn is_header(statement: tree_sitter::Node, source: &str) -> bool {
    matches!(attribute(statement, source), Some(("moduledoc", _)))
        || call_name(statement, source).is_some_and(|n| n.is_local(&["use", "alias", "require", "import"]))
}
