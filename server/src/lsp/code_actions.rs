//! Quick fixes for findings, and "fix all" (`source.fixAll.elexirion`).
//!
//! Fixes are recomputed from the document as it is now, never taken from a
//! diagnostic the client may hold for an older version.

use std::collections::HashMap;

use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, Diagnostic, NumberOrString, TextEdit, Uri,
    WorkspaceEdit,
};

use super::convert;
use super::diagnostics::findings;
use super::state::State;
use crate::document::DocumentKind;
use crate::elixir::fixes;
use crate::finding::{Applicability, Edit};

pub const FIX_ALL: &str = "source.fixAll.elexirion";

pub fn code_actions(state: &State, params: &CodeActionParams) -> Vec<CodeActionOrCommand> {
    let uri = &params.text_document.uri;
    let Some(mut snapshot) = state.documents().get(uri).map(|d| d.snapshot()) else { return Vec::new() };
    if snapshot.kind == DocumentKind::Other {
        return Vec::new();
    }
    snapshot.parse();
    state.keep_tree(uri, &snapshot);
    let encoding = state.encoding();
    let options = state.analysis_options(uri);
    let wanted = |kind: &CodeActionKind| {
        params.context.only.as_ref().is_none_or(|only| only.iter().any(|o| kind.as_str().starts_with(o.as_str())))
    };

    let mut actions = Vec::new();
    let text = &snapshot.text;
    if wanted(&CodeActionKind::QUICKFIX) {
        let requested = convert::offset_range(text, params.range, encoding);
        for finding in findings(&snapshot, &options) {
            let Some(fix) = &finding.fix else { continue };
            let touches = finding.range.start <= requested.end && requested.start <= finding.range.end;
            if !touches {
                continue;
            }
            let diagnostic = matching_diagnostic(&params.context.diagnostics, finding.code, convert::lsp_range(text, &finding.range, encoding));
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: fix.title.clone(),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: diagnostic.map(|d| vec![d]),
                edit: Some(workspace_edit(uri, convert::text_edits(text, &fix.edits, encoding))),
                is_preferred: Some(fix.applicability == Applicability::Safe),
                ..Default::default()
            }));
        }
    }
    let fix_all = CodeActionKind::from(FIX_ALL);
    // Only on request: fix-all is a source action, not a lightbulb entry.
    if snapshot.kind == DocumentKind::Elixir && params.context.only.as_ref().is_some_and(|only| only.iter().any(|o| FIX_ALL.starts_with(o.as_str()))) {
        let source = text.to_string();
        if let Ok(fixed) = fixes::fix_all(&source, &options) {
            if fixed.applied > 0 {
                let edit = Edit::between(&source, &fixed.text);
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: format!("Fix all safe problems ({})", fixed.applied),
                    kind: Some(fix_all),
                    edit: Some(workspace_edit(uri, convert::text_edits(text, &[edit], encoding))),
                    ..Default::default()
                }));
            }
        }
    }
    actions
}

/// The client's own diagnostic for this finding, so the editor links them.
fn matching_diagnostic(diagnostics: &[Diagnostic], code: &str, range: tower_lsp_server::ls_types::Range) -> Option<Diagnostic> {
    diagnostics
        .iter()
        .find(|d| d.range == range && d.code == Some(NumberOrString::String(code.to_string())))
        .cloned()
}

fn workspace_edit(uri: &Uri, edits: Vec<TextEdit>) -> WorkspaceEdit {
    WorkspaceEdit { changes: Some(HashMap::from([(uri.clone(), edits)])), ..Default::default() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::apply_edits;

    #[test]
    fn minimal_edits_reproduce_the_new_text() {
        for (old, new) in [("abc", "abXc"), ("héllo wörld", "héllo, wörld"), ("same", "same"), ("", "new"), ("old", ""), ("aaa", "aa")] {
            let edit = Edit::between(old, new);
            assert_eq!(apply_edits(old, &[edit.clone()]), new, "{old:?} -> {new:?}: {edit:?}");
        }
        assert_eq!(Edit::between("abc", "abXc").range, 2..2);
    }
}
