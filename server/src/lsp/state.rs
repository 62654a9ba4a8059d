//! What the server remembers between messages.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use tower_lsp_server::ls_types::Uri;

use crate::cancellation::Cancellation;
use crate::config::Config;
use crate::document::{Document, PositionEncoding, Snapshot};
use crate::elixir::AnalysisOptions;

#[derive(Default)]
pub struct State {
    encoding: RwLock<PositionEncoding>,
    config: RwLock<Config>,
    /// `elexirion.toml` as read, before editor settings are laid over it.
    pub file_config: RwLock<Config>,
    /// The workspace root, for pipeline `file` prompts and configuration.
    pub root: RwLock<Option<std::path::PathBuf>>,
    /// Pipeline runs in progress, by progress token, to cancel them.
    runs: Mutex<HashMap<String, tokio_util::sync::CancellationToken>>,
    /// Findings of analysis pipelines, per document.
    pipeline_findings: Mutex<HashMap<Uri, Vec<super::pipeline_runs::PipelineFinding>>>,
    /// Whether the client can show change annotations (review before apply).
    change_annotations: std::sync::atomic::AtomicBool,
    /// Open documents. Only the didOpen/didChange/didClose handlers write
    /// here, each before its first `.await`, so edits apply in arrival order.
    pub documents: Mutex<HashMap<Uri, Document>>,
    /// The version whose diagnostics were last sent, per document; held
    /// while sending so that an older result can never overtake a newer one.
    pub published: tokio::sync::Mutex<HashMap<Uri, i32>>,
    /// The optimization store, opened on first use.
    store: Mutex<super::prompt_store::StoreSlot>,
    /// Per open document: a lock that lets one analysis run at a time, and
    /// the flag of the newest analysis asked for, which a newer one cancels.
    analyses: Mutex<HashMap<Uri, (Arc<tokio::sync::Mutex<()>>, Cancellation)>>,
    /// (pipeline, document, text) already run once: running one again asks
    /// the model anew instead of the cache.
    ran: Mutex<std::collections::HashSet<(String, Uri, u64)>>,
    /// The workspace index, once built: modules, callers, supervision, tests.
    index: RwLock<Option<crate::index::WorkspaceIndex>>,
    /// The client can watch files for us (dynamic registration).
    pub can_watch_files: std::sync::atomic::AtomicBool,
    /// Refactors applied by pipelines, watched for an undo.
    applied: Mutex<HashMap<Uri, super::prompt_store::Applied>>,
}

impl State {
    pub fn encoding(&self) -> PositionEncoding {
        *self.encoding.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn set_encoding(&self, encoding: PositionEncoding) {
        *self.encoding.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = encoding;
    }

    /// Whether the configured `[pipelines] globs` match `uri` (relative to the root).
    pub fn configured_pipeline(&self, uri: &Uri) -> bool {
        let config = self.config.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (Some(root), Some(path)) = (self.root(), uri.to_file_path()) else { return false };
        let Ok(relative) = path.strip_prefix(&root) else { return false };
        config.pipelines.matcher().is_ok_and(|m| m.is_match(relative))
    }

    pub fn store_slot(&self) -> MutexGuard<'_, super::prompt_store::StoreSlot> {
        self.store.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn applied(&self) -> MutexGuard<'_, HashMap<Uri, super::prompt_store::Applied>> {
        self.applied.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn runs(&self) -> MutexGuard<'_, HashMap<String, tokio_util::sync::CancellationToken>> {
        self.runs.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn pipeline_findings(&self) -> MutexGuard<'_, HashMap<Uri, Vec<super::pipeline_runs::PipelineFinding>>> {
        self.pipeline_findings.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn config(&self) -> Config {
        self.config.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    pub fn change_annotations(&self) -> bool {
        self.change_annotations.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_change_annotations(&self, supported: bool) {
        self.change_annotations.store(supported, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn root(&self) -> Option<std::path::PathBuf> {
        self.root.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    pub fn set_config(&self, config: Config) {
        *self.config.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = config;
    }

    /// How to analyse the document at `uri`.
    pub fn analysis_options(&self, uri: &Uri) -> AnalysisOptions {
        let config = self.config.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let path = uri.to_file_path().map(|p| p.to_string_lossy().into_owned());
        AnalysisOptions {
            path: path.or_else(|| Some(uri.path().to_string())),
            rules: config.rules.clone(),
            workspace: self.root(),
            ..Default::default()
        }
    }

    /// The documents, even after a handler panicked while holding them: the
    /// handler that panicked drops the document it was changing.
    pub fn documents(&self) -> MutexGuard<'_, HashMap<Uri, Document>> {
        self.documents.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Start an analysis of `uri`: cancel the one asked for before, and
    /// return the document's analysis lock and the new analysis's flag.
    pub fn begin_analysis(&self, uri: &Uri) -> (Arc<tokio::sync::Mutex<()>>, Cancellation) {
        let mut analyses = self.analyses.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (turn, latest) = analyses.entry(uri.clone()).or_default();
        latest.cancel();
        *latest = Cancellation::default();
        (turn.clone(), latest.clone())
    }

    /// Note a run of `pipeline` on this text of `uri`; whether it ran before.
    pub fn ran_before(&self, pipeline: &str, uri: &Uri, text: &str) -> bool {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut hasher);
        let key = (pipeline.to_string(), uri.clone(), hasher.finish());
        !self.ran.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(key)
    }

    pub fn index(&self) -> std::sync::RwLockReadGuard<'_, Option<crate::index::WorkspaceIndex>> {
        self.index.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn index_mut(&self) -> std::sync::RwLockWriteGuard<'_, Option<crate::index::WorkspaceIndex>> {
        self.index.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A closed document's analysis is no longer wanted.
    pub fn end_analyses(&self, uri: &Uri) {
        let removed = self.analyses.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(uri);
        if let Some((_, latest)) = removed {
            latest.cancel();
        }
    }

    pub fn current_version(&self, uri: &Uri) -> Option<i32> {
        self.documents().get(uri).map(Document::version)
    }

    /// A snapshot of the document if it is still at `version`.
    pub fn snapshot_at(&self, uri: &Uri, version: i32) -> Option<Snapshot> {
        let documents = self.documents();
        let document = documents.get(uri).filter(|d| d.version() == version)?;
        Some(document.snapshot())
    }

    /// Hand a tree parsed from a snapshot back to its document.
    pub fn keep_tree(&self, uri: &Uri, snapshot: &Snapshot) {
        if let Some(document) = self.documents().get_mut(uri) {
            document.keep_tree(snapshot);
        }
    }
}
