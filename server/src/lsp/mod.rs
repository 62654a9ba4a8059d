//! The language server: a thin layer that converts protocol messages to
//! calls into the pure core and back. No analysis happens here.

mod code_actions;
mod convert;
mod diagnostics;
pub mod framing;
mod panic_guard;
mod pipeline_features;
mod pipeline_runs;
mod project_index;
mod prompt_store;
pub mod semantic_tokens;
mod server;
mod state;

use tower_lsp_server::{LspService, Server};

/// Requests handled at once (tower-lsp-server's default is 4).
const HANDLERS_AT_ONCE: usize = 32;

/// Serve the Language Server Protocol over stdin and stdout until `exit`.
pub async fn serve_stdio() {
    let (service, socket) = LspService::build(server::Backend::new)
        .custom_method("window/workDoneProgress/cancel", server::Backend::work_done_progress_cancel)
        .custom_method(prompt_store::OPTIMIZED_PROMPT, server::Backend::optimized_prompt)
        .finish();
    // The library talks to two in-memory pipes; `framing` checks what the
    // editor sends before it reaches them.
    let (server_input, to_server) = tokio::io::duplex(1 << 16);
    let (from_server, server_output) = tokio::io::duplex(1 << 16);
    let to_client = std::sync::Arc::new(tokio::sync::Mutex::new(tokio::io::stdout()));
    let input = tokio::spawn(framing::forward_input(tokio::io::stdin(), to_server, to_client.clone()));
    let output = tokio::spawn(framing::forward_output(from_server, to_client));
    // A pipeline run holds its `executeCommand` request until it is over
    // (its answer is the run's outcome): room for several beside the rest.
    Server::new(server_input, server_output, socket).concurrency_level(HANDLERS_AT_ONCE).serve(service).await;
    // The library has returned and closed its pipes: send what it wrote last.
    let _ = output.await;
    input.abort();
}
