//! The workspace index in the server: built in the background once the
//! client is ready, kept current from open documents (their trees, as
//! analysed) and from watched files the client reports changed on disk.

use std::sync::Arc;

use tower_lsp_server::ls_types::{
    DidChangeWatchedFilesRegistrationOptions, FileChangeType, FileEvent, FileSystemWatcher, GlobPattern, Registration, Uri,
};
use tower_lsp_server::Client;

use super::state::State;
use crate::index::WorkspaceIndex;

/// Build the index of the workspace off the async threads; open documents
/// are laid over what was on disk.
pub fn build(state: Arc<State>) -> tokio::task::JoinHandle<()> {
    let root = state.root();
    tokio::task::spawn_blocking(move || {
        let Some(root) = root else { return };
        let started = std::time::Instant::now();
        let mut index = WorkspaceIndex::build(&root);
        for (uri, document) in state.documents().iter() {
            if let Some(path) = uri.to_file_path() {
                index.update(&path, &document.text().to_string());
            }
        }
        let stats = index.stats();
        tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, ?stats, "workspace index built");
        *state.index_mut() = Some(index);
    })
}

/// The index, built now if the background build has not finished (a
/// pipeline run asked for it right after start).
pub async fn ensure(state: &Arc<State>) {
    if state.index().is_none() {
        let _ = build(state.clone()).await;
    }
}

/// An open document was analysed at this text and tree.
pub fn document_parsed(state: &State, uri: &Uri, text: &str, tree: &tree_sitter::Tree) {
    let Some(path) = uri.to_file_path() else { return };
    if let Some(index) = state.index_mut().as_mut() {
        index.update_parsed(&path, text, tree);
    }
}

/// Files changed on disk (not through an open document).
pub fn files_changed(state: &State, changes: &[FileEvent]) {
    let mut index = state.index_mut();
    let Some(index) = index.as_mut() else { return };
    for change in changes {
        let Some(path) = change.uri.to_file_path() else { continue };
        if !crate::elixir::is_elixir_path(&path.to_string_lossy()) || state.documents().contains_key(&change.uri) {
            continue; // an open document is indexed from its buffer
        }
        match change.typ {
            FileChangeType::DELETED => index.remove(&path),
            _ => match std::fs::read_to_string(&path) {
                Ok(text) => index.update(&path, &text),
                Err(_) => index.remove(&path),
            },
        }
    }
}

/// Ask the client to report changes to Elixir files and to our
/// configuration: clients send nothing for files nobody opened otherwise.
pub async fn watch(client: &Client) {
    let watchers = ["**/*.ex", "**/*.exs", "**/elexirion.toml", "**/*.{yaml,yml}"]
        .into_iter()
        .map(|glob| FileSystemWatcher { glob_pattern: GlobPattern::String(glob.to_string()), kind: None })
        .collect();
    let options = DidChangeWatchedFilesRegistrationOptions { watchers };
    let registration = Registration {
        id: "elexirion-watched-files".to_string(),
        method: "workspace/didChangeWatchedFiles".to_string(),
        register_options: serde_json::to_value(options).ok(),
    };
    if let Err(error) = client.register_capability(vec![registration]).await {
        tracing::warn!("the client would not watch files for us ({error}); the index follows open documents only");
    }
}
