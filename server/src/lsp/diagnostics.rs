//! Debounced analysis of open documents and publication of its diagnostics.

use std::sync::Arc;
use std::time::Duration;

use tower_lsp_server::ls_types::{Diagnostic, Uri};
use tower_lsp_server::Client;

use super::convert;
use super::panic_guard::guard_sync;
use super::state::State;
use crate::document::{DocumentKind, PositionEncoding, Snapshot};
use crate::elixir::{self, AnalysisOptions};
use crate::finding::Finding;

/// Typing pauses shorter than this are one burst, analysed once at its end.
const DEBOUNCE: Duration = Duration::from_millis(30);

/// Analyse `uri` at `version` once typing pauses, unless a newer version
/// arrives first; publish only while `version` is still current. A newer
/// request cancels this one, waiting or running, and one analysis of a
/// document runs at a time: work and memory follow the documents open, not
/// the edits made.
pub fn schedule(state: Arc<State>, client: Client, uri: Uri, version: i32) {
    let (turn, cancel) = state.begin_analysis(&uri);
    tokio::spawn(async move {
        tokio::time::sleep(DEBOUNCE).await;
        let _turn = turn.lock_owned().await;
        if cancel.is_cancelled() {
            return;
        }
        let Some(mut snapshot) = state.snapshot_at(&uri, version) else {
            return; // superseded or closed meanwhile
        };
        let encoding = state.encoding();
        let mut options = state.analysis_options(&uri);
        options.cancel = cancel.clone();
        // Parsing a large file can take tens of milliseconds: keep it off the
        // async threads and away from the documents lock.
        let started = std::time::Instant::now();
        let indexed = (state.clone(), uri.clone());
        let analysed = tokio::task::spawn_blocking(move || {
            guard_sync("analysis", || {
                snapshot.parse_unless_cancelled(&options.cancel);
                let diagnostics = diagnostics(&snapshot, &options, encoding);
                if let (Some(tree), false) = (snapshot.tree(), options.cancel.is_cancelled()) {
                    super::project_index::document_parsed(&indexed.0, &indexed.1, &snapshot.text.to_string(), tree);
                }
                (snapshot, diagnostics)
            })
        })
        .await;
        let Ok(Some((snapshot, diagnostics))) = analysed else {
            return; // the panic was logged; the previous diagnostics stay
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        if cancel.is_cancelled() {
            tracing::debug!(uri = uri.as_str(), version, elapsed_ms, "analysis cancelled");
            return; // partial: a newer analysis will publish
        }
        tracing::debug!(uri = uri.as_str(), version, elapsed_ms, "analysis done");
        state.keep_tree(&uri, &snapshot);
        let mut diagnostics = diagnostics;
        diagnostics.extend(super::pipeline_runs::diagnostics_for(&state, &uri, &snapshot.text, encoding));
        publish_if_current(&state, &client, uri, version, diagnostics).await;
    });
}

/// Everything wrong with one parsed document version, as protocol diagnostics.
pub fn diagnostics(snapshot: &Snapshot, options: &AnalysisOptions, encoding: PositionEncoding) -> Vec<Diagnostic> {
    let findings = findings(snapshot, options);
    findings
        .iter()
        .map(|finding| convert::diagnostic(&snapshot.text, finding, encoding))
        .collect()
}

/// The findings of one parsed document version.
pub fn findings(snapshot: &Snapshot, options: &AnalysisOptions) -> Vec<Finding> {
    match (snapshot.kind, snapshot.tree()) {
        (DocumentKind::Elixir, Some(tree)) => elixir::analyze(&snapshot.text.to_string(), tree, options),
        (DocumentKind::Pipeline, _) => {
            let context = crate::pipeline::validate::ValidationContext { workspace: options.workspace.as_deref() };
            crate::pipeline::validate::validate(&snapshot.text.to_string(), &context)
        }
        _ => Vec::new(),
    }
}

async fn publish_if_current(
    state: &State,
    client: &Client,
    uri: Uri,
    version: i32,
    diagnostics: Vec<Diagnostic>,
) {
    let mut published = state.published.lock().await;
    if state.current_version(&uri) != Some(version) {
        return;
    }
    if published.get(&uri).is_some_and(|last| *last > version) {
        return;
    }
    published.insert(uri.clone(), version);
    client.publish_diagnostics(uri, diagnostics, Some(version)).await;
}

/// Forget a closed document's diagnostics, in the editor too.
pub async fn clear(state: &State, client: &Client, uri: Uri) {
    let mut published = state.published.lock().await;
    published.remove(&uri);
    client.publish_diagnostics(uri, Vec::new(), None).await;
}
