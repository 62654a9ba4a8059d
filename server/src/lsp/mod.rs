//! The language server: a thin layer that converts protocol messages to
//! calls into the pure core and back. No analysis happens here.

mod code_actions;
mod convert;
mod diagnostics;
mod panic_guard;
mod pipeline_features;
mod pipeline_runs;
mod prompt_store;
mod server;
mod state;

use tower_lsp_server::{LspService, Server};

/// Serve the Language Server Protocol over stdin and stdout until `exit`.
pub async fn serve_stdio() {
    let (service, socket) = LspService::build(server::Backend::new)
        .custom_method("window/workDoneProgress/cancel", server::Backend::work_done_progress_cancel)
        .custom_method(prompt_store::OPTIMIZED_PROMPT, server::Backend::optimized_prompt)
        .finish();
    Server::new(tokio::io::stdin(), tokio::io::stdout(), socket).serve(service).await;
}
