//! One small handler per LSP method.

use std::sync::Arc;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use super::panic_guard::{guard_request, guard_sync};
use super::state::State;
use super::{code_actions, convert, diagnostics, pipeline_features, pipeline_runs, project_index, prompt_store, semantic_tokens};
use crate::config::Config;
use crate::document::{Document, DocumentKind, TextChange};

pub struct Backend {
    client: Client,
    state: Arc<State>,
    /// A problem with elexirion.toml, shown once the client is ready.
    config_problem: std::sync::Mutex<Option<String>>,
    /// The editor settings last received, laid again over a reloaded elexirion.toml.
    settings: std::sync::Mutex<serde_json::Value>,
    /// The last semantic tokens sent per document, for deltas.
    semantic_tokens: semantic_tokens::Results,
}

impl Backend {
    pub fn new(client: Client) -> Self {
        Self {
            client,
            state: Arc::default(),
            config_problem: std::sync::Mutex::default(),
            settings: std::sync::Mutex::default(),
            semantic_tokens: semantic_tokens::Results::default(),
        }
    }

    fn schedule_diagnostics(&self, uri: Uri, version: i32) {
        diagnostics::schedule(self.state.clone(), self.client.clone(), uri, version);
    }

    /// Reload elexirion.toml when `uri` is it (saved in the editor, or
    /// changed on disk); a broken one is reported and the previous kept.
    async fn reload_config_if(&self, uri: &Uri) {
        let Some(root) = self.state.root() else { return };
        let changed = uri.to_file_path().map(|p| p.into_owned());
        if changed.as_deref() != Some(root.join(crate::config::FILE_NAME).as_path()) {
            return;
        }
        let problem = match self.load_file_config(&root) {
            Ok(()) => {
                let settings = self.settings.lock().unwrap_or_else(|p| p.into_inner()).clone();
                self.apply_settings(&settings).err()
            }
            Err(problem) => Some(format!("{problem} (the previous configuration stays in use)")),
        };
        if let Some(problem) = problem {
            self.client.show_message(MessageType::WARNING, format!("Elexirion: {problem}")).await;
            return;
        }
        tracing::info!("reloaded {}", crate::config::FILE_NAME);
        self.reanalyse_all();
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        guard_request("initialize", async {
            let offered = params.capabilities.general.as_ref().and_then(|g| g.position_encodings.as_deref());
            let encoding = convert::negotiate_encoding(offered);
            self.state.set_encoding(encoding);
            let annotations = params
                .capabilities
                .workspace
                .as_ref()
                .and_then(|w| w.workspace_edit.as_ref())
                .and_then(|e| e.change_annotation_support.as_ref())
                .is_some();
            self.state.set_change_annotations(annotations);
            let can_watch = params
                .capabilities
                .workspace
                .as_ref()
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|w| w.dynamic_registration)
                .unwrap_or(false);
            self.state.can_watch_files.store(can_watch, std::sync::atomic::Ordering::Relaxed);
            let multiline = params
                .capabilities
                .text_document
                .as_ref()
                .and_then(|t| t.semantic_tokens.as_ref())
                .and_then(|s| s.multiline_token_support)
                .unwrap_or(false);
            self.semantic_tokens.multiline.store(multiline, std::sync::atomic::Ordering::Relaxed);
            tracing::info!(?encoding, "initialized");
            if let Some(root) = workspace_root(&params) {
                *self.state.root.write().unwrap_or_else(|p| p.into_inner()) = Some(root.clone());
                if let Err(problem) = self.load_file_config(&root) {
                    tracing::warn!("{problem}");
                    *self.config_problem.lock().unwrap_or_else(|p| p.into_inner()) = Some(problem);
                }
            }
            let settings = params.initialization_options.clone().unwrap_or_default();
            if let Err(problem) = self.apply_settings(&settings) {
                *self.config_problem.lock().unwrap_or_else(|p| p.into_inner()) = Some(problem);
            }
            Ok(InitializeResult {
                capabilities: ServerCapabilities {
                    position_encoding: Some(convert::encoding_kind(encoding)),
                    text_document_sync: Some(TextDocumentSyncCapability::Options(
                        TextDocumentSyncOptions {
                            open_close: Some(true),
                            change: Some(TextDocumentSyncKind::INCREMENTAL),
                            // Saving elexirion.toml reloads the configuration.
                            save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                            ..Default::default()
                        },
                    )),
                    completion_provider: Some(CompletionOptions {
                        trigger_characters: Some([":", " ", "{", ".", "-"].map(String::from).to_vec()),
                        ..Default::default()
                    }),
                    hover_provider: Some(HoverProviderCapability::Simple(true)),
                    definition_provider: Some(OneOf::Left(true)),
                    references_provider: Some(OneOf::Left(true)),
                    rename_provider: Some(OneOf::Right(RenameOptions { prepare_provider: Some(true), work_done_progress_options: Default::default() })),
                    document_symbol_provider: Some(OneOf::Left(true)),
                    semantic_tokens_provider: Some(semantic_tokens::capability()),
                    execute_command_provider: Some(ExecuteCommandOptions {
                        commands: vec![pipeline_runs::RUN.to_string(), pipeline_runs::CLEAR.to_string(), prompt_store::VERDICT.to_string(), prompt_store::LAST_EDIT.to_string()],
                        ..Default::default()
                    }),
                    code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                        code_action_kinds: Some(vec![
                            CodeActionKind::QUICKFIX,
                            CodeActionKind::from(code_actions::FIX_ALL),
                            CodeActionKind::REFACTOR_REWRITE,
                            CodeActionKind::from("source.elexirion"),
                        ]),
                        ..Default::default()
                    })),
                    ..Default::default()
                },
                server_info: Some(ServerInfo {
                    name: "elexirion".to_string(),
                    version: Some(env!("CARGO_PKG_VERSION").to_string()),
                }),
                offset_encoding: None,
            })
        })
        .await
    }

    async fn initialized(&self, _: InitializedParams) {
        if self.state.can_watch_files.load(std::sync::atomic::Ordering::Relaxed) {
            project_index::watch(&self.client).await;
        }
        let _building = project_index::build(self.state.clone());
        let problem = self.config_problem.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(problem) = problem {
            let message = format!("Elexirion ignored part of its configuration: {problem}");
            self.client.show_message(MessageType::WARNING, message).await;
        }
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        guard_request("textDocument/codeAction", async {
            let mut actions = code_actions::code_actions(&self.state, &params);
            let only = params.context.only.as_deref();
            if only.is_none_or(|o| o.iter().any(|k| CodeActionKind::QUICKFIX.as_str().starts_with(k.as_str()))) {
                actions.extend(pipeline_runs::suggestion_fixes(&self.state, &params.text_document.uri, params.range));
            }
            actions.extend(pipeline_runs::code_actions(&self.state, &params.text_document.uri, params.range, only));
            if only.is_none_or(|o| o.iter().any(|k| CodeActionKind::REFACTOR_REWRITE.as_str().starts_with(k.as_str()))) {
                actions.extend(prompt_store::code_actions(&self.state, &params.text_document.uri, params.range));
            }
            Ok((!actions.is_empty()).then_some(actions))
        })
        .await
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let at = params.text_document_position;
        guard_request("textDocument/completion", async {
            Ok(pipeline_features::completion(&self.state, &at.text_document.uri, at.position))
        })
        .await
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let at = params.text_document_position_params;
        guard_request("textDocument/hover", async { Ok(pipeline_features::hover(&self.state, &at.text_document.uri, at.position)) })
            .await
    }

    async fn goto_definition(&self, params: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>> {
        let at = params.text_document_position_params;
        guard_request("textDocument/definition", async {
            Ok(pipeline_features::definition(&self.state, &at.text_document.uri, at.position))
        })
        .await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let at = params.text_document_position;
        let include = params.context.include_declaration;
        guard_request("textDocument/references", async {
            Ok(pipeline_features::references(&self.state, &at.text_document.uri, at.position, include))
        })
        .await
    }

    async fn prepare_rename(&self, params: TextDocumentPositionParams) -> Result<Option<PrepareRenameResponse>> {
        guard_request("textDocument/prepareRename", async {
            Ok(pipeline_features::prepare_rename(&self.state, &params.text_document.uri, params.position))
        })
        .await
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let at = params.text_document_position;
        guard_request("textDocument/rename", async {
            pipeline_features::rename(&self.state, &at.text_document.uri, at.position, &params.new_name)
                .map_err(tower_lsp_server::jsonrpc::Error::invalid_params)
        })
        .await
    }

    async fn document_symbol(&self, params: DocumentSymbolParams) -> Result<Option<DocumentSymbolResponse>> {
        guard_request("textDocument/documentSymbol", async {
            Ok(pipeline_features::document_symbols(&self.state, &params.text_document.uri))
        })
        .await
    }

    async fn semantic_tokens_full(&self, params: SemanticTokensParams) -> Result<Option<SemanticTokensResult>> {
        guard_request("textDocument/semanticTokens/full", async {
            let tokens = semantic_tokens::full(&self.state, &self.semantic_tokens, &params.text_document.uri).await;
            Ok(tokens.map(SemanticTokensResult::Tokens))
        })
        .await
    }

    async fn semantic_tokens_full_delta(&self, params: SemanticTokensDeltaParams) -> Result<Option<SemanticTokensFullDeltaResult>> {
        guard_request("textDocument/semanticTokens/full/delta", async {
            let uri = &params.text_document.uri;
            Ok(semantic_tokens::full_delta(&self.state, &self.semantic_tokens, uri, &params.previous_result_id).await)
        })
        .await
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        guard_request("workspace/executeCommand", async {
            match params.command.as_str() {
                pipeline_runs::RUN => pipeline_runs::run_command(self.state.clone(), self.client.clone(), &params.arguments)
                    .await
                    .map(Some)
                    .map_err(tower_lsp_server::jsonrpc::Error::invalid_params),
                pipeline_runs::CLEAR => {
                    pipeline_runs::clear(&self.state, &self.client).await;
                    Ok(None)
                }
                prompt_store::VERDICT => prompt_store::verdict_command(&self.state, &params.arguments)
                    .map(Some)
                    .map_err(tower_lsp_server::jsonrpc::Error::invalid_params),
                prompt_store::LAST_EDIT => prompt_store::last_edit_command(&self.state, &params.arguments)
                    .map(Some)
                    .map_err(tower_lsp_server::jsonrpc::Error::invalid_params),
                other => Err(tower_lsp_server::jsonrpc::Error::invalid_params(format!("unknown command `{other}`"))),
            }
        })
        .await
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        // Clients send either our section or the whole settings object.
        let settings = params.settings.get("elexirion").cloned().unwrap_or(params.settings);
        if let Err(problem) = self.apply_settings(&settings) {
            self.client.show_message(MessageType::WARNING, format!("Elexirion ignored the new settings: {problem}")).await;
            return;
        }
        self.reanalyse_all();
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        self.reload_config_if(&params.text_document.uri).await;
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        project_index::files_changed(&self.state, &params.changes);
        for change in &params.changes {
            self.reload_config_if(&change.uri).await;
        }
    }

    async fn shutdown(&self) -> Result<()> {
        tracing::info!("shutdown requested");
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let item = params.text_document;
        let configured = self.state.configured_pipeline(&item.uri);
        let kind = DocumentKind::detect(&item.language_id, item.uri.path().as_str(), &item.text, configured);
        let opened = guard_sync("didOpen", || Document::new(&item.text, item.version, kind));
        if let Some(document) = opened {
            self.state.documents().insert(item.uri.clone(), document);
            self.schedule_diagnostics(item.uri, item.version);
        }
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let version = params.text_document.version;
        let changes: Vec<TextChange> = params.content_changes.into_iter().map(convert::text_change).collect();
        let encoding = self.state.encoding();
        let applied = {
            let mut documents = self.state.documents();
            let Some(document) = documents.get_mut(&uri) else {
                tracing::warn!(uri = uri.as_str(), "change to a document that is not open; ignored");
                return;
            };
            if version <= document.version() {
                tracing::error!(uri = uri.as_str(), version, current = document.version(), "out-of-order change; ignored");
                return;
            }
            let applied = guard_sync("didChange", || document.apply_changes(version, &changes, encoding));
            if applied.is_none() {
                // Its text is now unknown: better no document than a wrong one.
                documents.remove(&uri);
            }
            applied.is_some()
        };
        if applied {
            prompt_store::check_undo(&self.state, &uri);
            self.schedule_diagnostics(uri, version);
        } else {
            let message = format!("Elexirion lost track of {}; close and reopen it.", uri.as_str());
            self.client.show_message(MessageType::ERROR, message).await;
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        self.state.documents().remove(&uri);
        self.semantic_tokens.forget(&uri);
        self.state.end_analyses(&uri);
        self.state.applied().remove(&uri);
        diagnostics::clear(&self.state, &self.client, uri).await;
    }
}

impl Backend {
    /// Read `elexirion.toml` at `root` (none: defaults) as the file
    /// configuration; on a problem, the one there stays.
    fn load_file_config(&self, root: &std::path::Path) -> std::result::Result<(), String> {
        let config = Config::load_from_dir(root)?.map(|(_, c)| c).unwrap_or_default();
        *self.state.file_config.write().unwrap_or_else(|p| p.into_inner()) = config;
        Ok(())
    }

    /// Lay editor settings over elexirion.toml; on a bad setting, keep the
    /// file's configuration and say why.
    fn apply_settings(&self, settings: &serde_json::Value) -> std::result::Result<(), String> {
        let file = self.state.file_config.read().unwrap_or_else(|p| p.into_inner()).clone();
        let settings = if settings.is_object() { settings.clone() } else { serde_json::json!({}) };
        *self.settings.lock().unwrap_or_else(|p| p.into_inner()) = settings.clone();
        match file.with_overrides(&settings) {
            Ok(config) => {
                self.state.set_config(config);
                Ok(())
            }
            Err(problem) => {
                self.state.set_config(file);
                Err(problem)
            }
        }
    }

    /// Diagnostics again for every open document (the configuration changed).
    fn reanalyse_all(&self) {
        let open: Vec<(Uri, i32)> = self.state.documents().iter().map(|(uri, d)| (uri.clone(), d.version())).collect();
        for (uri, version) in open {
            self.schedule_diagnostics(uri, version);
        }
    }

    /// `elexirion/optimizedPrompt {pipeline, step}`.
    pub async fn optimized_prompt(&self, params: serde_json::Value) -> Result<serde_json::Value> {
        guard_request(prompt_store::OPTIMIZED_PROMPT, async {
            prompt_store::optimized_prompt(&self.state, &params).map_err(tower_lsp_server::jsonrpc::Error::invalid_params)
        })
        .await
    }

    /// `window/workDoneProgress/cancel`: stop the pipeline run behind the token.
    pub async fn work_done_progress_cancel(&self, params: WorkDoneProgressCancelParams) {
        pipeline_runs::cancel(&self.state, &params.token);
    }
}

/// The first workspace folder, else the (deprecated) root URI.
#[allow(deprecated)]
fn workspace_root(params: &InitializeParams) -> Option<std::path::PathBuf> {
    let uri = params
        .workspace_folders
        .as_ref()
        .and_then(|folders| folders.first().map(|f| f.uri.clone()))
        .or_else(|| params.root_uri.clone())?;
    uri.to_file_path().map(|p| p.into_owned())
}
