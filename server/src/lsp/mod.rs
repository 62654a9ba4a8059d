//! The language server: a thin layer that converts protocol messages to
//! calls into the pure core and back. No analysis happens here.

mod code_actions;
mod convert;
mod diagnostics;
mod panic_guard;
mod pipeline_features;
mod server;
mod state;

use tower_lsp_server::{LspService, Server};

/// Serve the Language Server Protocol over stdin and stdout until `exit`.
pub async fn serve_stdio() {
    let (service, socket) = LspService::new(server::Backend::new);
    Server::new(tokio::io::stdin(), tokio::io::stdout(), socket).serve(service).await;
}
