//! `# elexirion:disable-next-line RULE...` and `# elexirion:disable-file RULE...`
//! comments. Rules are named by code or name; none named means every rule.
//! Syntax errors cannot be suppressed.

use tree_sitter::Node;

use super::syntax::text;
use super::syntax_errors;
use crate::finding::Finding;

struct Suppression {
    /// The line (0-based) it applies to; `None` for the whole file.
    line: Option<usize>,
    rules: Vec<String>,
}

impl Suppression {
    fn covers(&self, finding: &Finding, line: usize) -> bool {
        self.line.is_none_or(|l| l == line)
            && (self.rules.is_empty() || self.rules.iter().any(|r| r.eq_ignore_ascii_case(finding.code) || r == finding.name))
    }
}

pub fn remove_suppressed(source: &str, comments: &[Node], findings: &mut Vec<Finding>) {
    let suppressions = suppressions(source, comments);
    if suppressions.is_empty() {
        return;
    }
    findings.retain(|finding| {
        if finding.code == syntax_errors::CODE {
            return true;
        }
        let line = source[..finding.range.start].matches('\n').count();
        !suppressions.iter().any(|s| s.covers(finding, line))
    });
}

fn suppressions(source: &str, comments: &[Node]) -> Vec<Suppression> {
    let mut found = Vec::new();
    for node in comments {
        let comment = text(*node, source).trim_start_matches('#').trim();
        let line = node.start_position().row;
        let parse = |rest: &str| rest.split([' ', ',']).filter(|r| !r.is_empty()).map(str::to_string).collect();
        if let Some(rest) = comment.strip_prefix("elexirion:disable-next-line") {
            found.push(Suppression { line: Some(line + 1), rules: parse(rest) });
        } else if let Some(rest) = comment.strip_prefix("elexirion:disable-file") {
            found.push(Suppression { line: None, rules: parse(rest) });
        }
    }
    found
}
