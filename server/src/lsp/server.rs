//! One small handler per LSP method.

use std::sync::Arc;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use super::panic_guard::{guard_request, guard_sync};
use super::state::State;
use super::{convert, diagnostics};
use crate::document::{Document, DocumentKind, TextChange};

pub struct Backend {
    client: Client,
    state: Arc<State>,
}

impl Backend {
    pub fn new(client: Client) -> Self {
        Self { client, state: Arc::default() }
    }

    fn schedule_diagnostics(&self, uri: Uri, version: i32) {
        diagnostics::schedule(self.state.clone(), self.client.clone(), uri, version);
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        guard_request("initialize", async {
            let offered = params.capabilities.general.as_ref().and_then(|g| g.position_encodings.as_deref());
            let encoding = convert::negotiate_encoding(offered);
            self.state.set_encoding(encoding);
            tracing::info!(?encoding, "initialized");
            Ok(InitializeResult {
                capabilities: ServerCapabilities {
                    position_encoding: Some(convert::encoding_kind(encoding)),
                    text_document_sync: Some(TextDocumentSyncCapability::Options(
                        TextDocumentSyncOptions {
                            open_close: Some(true),
                            change: Some(TextDocumentSyncKind::INCREMENTAL),
                            ..Default::default()
                        },
                    )),
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

    async fn shutdown(&self) -> Result<()> {
        tracing::info!("shutdown requested");
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let item = params.text_document;
        let kind = DocumentKind::detect(&item.language_id, item.uri.path().as_str());
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
            self.schedule_diagnostics(uri, version);
        } else {
            let message = format!("Elexirion lost track of {}; close and reopen it.", uri.as_str());
            self.client.show_message(MessageType::ERROR, message).await;
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        self.state.documents().remove(&uri);
        diagnostics::clear(&self.state, &self.client, uri).await;
    }
}
