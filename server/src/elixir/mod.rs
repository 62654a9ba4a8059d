//! Elixir analysis: pure functions from source text and its tree to findings.

pub mod parser;
pub mod syntax_errors;

use tree_sitter::Tree;

use crate::finding::Finding;

/// Elixir source files, by extension.
pub fn is_elixir_path(path: &str) -> bool {
    path.ends_with(".ex") || path.ends_with(".exs")
}

/// Everything we report for one Elixir file, in document order.
pub fn analyze(source: &str, tree: &Tree) -> Vec<Finding> {
    let mut findings = syntax_errors::syntax_errors(source, tree);
    findings.sort_by_key(|f| (f.range.start, f.range.end));
    findings
}
