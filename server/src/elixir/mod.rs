//! Elixir analysis: pure functions from source text and its tree to findings.

pub mod fixes;
pub mod highlight;
pub mod modules;
pub mod parser;
pub mod value_sources;
pub mod rules;
pub mod settings;
pub mod suppression;
pub mod syntax;
pub mod syntax_errors;

use tree_sitter::Tree;

use crate::finding::Finding;
use settings::RuleSettings;

/// What the analysis needs to know besides the text.
#[derive(Clone, Debug, Default)]
pub struct AnalysisOptions {
    /// The file's path, when known: tests and scripts are judged apart.
    pub path: Option<String>,
    pub rules: RuleSettings,
    /// The workspace root, when known.
    pub workspace: Option<std::path::PathBuf>,
    /// Report findings a `# elexirion:disable` comment hides (to judge an
    /// edit: adding such a comment fixes nothing).
    pub keep_suppressed: bool,
    /// Set when the result is no longer wanted: the analysis then stops
    /// early with what it has, which the caller drops.
    pub cancel: crate::cancellation::Cancellation,
}

/// Elixir source files, by extension.
pub fn is_elixir_path(path: &str) -> bool {
    path.ends_with(".ex") || path.ends_with(".exs")
}

/// Everything we report for one Elixir file, in document order.
pub fn analyze(source: &str, tree: &Tree, options: &AnalysisOptions) -> Vec<Finding> {
    let mut findings = syntax_errors::syntax_errors_unless_cancelled(source, tree, &options.cancel);
    // The rules' context costs a walk of the whole tree: only when needed.
    let any_rule = rules::RULES.iter().any(|r| options.rules.is_enabled(r));
    if any_rule && !options.cancel.is_cancelled() {
        let context = rules::Context::new(source, tree, options.path.as_deref(), &options.rules);
        rules::check_all(&context, &mut findings, &options.cancel);
        if !options.keep_suppressed {
            suppression::remove_suppressed(source, &context.comments, &mut findings);
        }
    }
    findings.sort_by(|a, b| (a.range.start, a.range.end, a.code).cmp(&(b.range.start, b.range.end, b.code)));
    findings
}
