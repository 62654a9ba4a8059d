//! A panic in one handler must cost that one answer, never the server.
//!
//! tower-lsp-server polls handlers inside its own serving future, so a panic
//! there would end the process. Handlers run through these guards instead.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};

use futures::FutureExt;
use tower_lsp_server::jsonrpc;

/// Run a request handler; a panic becomes an internal error response.
pub async fn guard_request<T>(
    method: &'static str,
    handler: impl Future<Output = jsonrpc::Result<T>>,
) -> jsonrpc::Result<T> {
    match AssertUnwindSafe(handler).catch_unwind().await {
        Ok(result) => result,
        Err(payload) => {
            tracing::error!(method, "handler panicked: {}", panic_message(&*payload));
            Err(jsonrpc::Error::internal_error())
        }
    }
}

/// Run synchronous work; a panic is logged and yields `None`.
pub fn guard_sync<T>(what: &'static str, work: impl FnOnce() -> T) -> Option<T> {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(value) => Some(value),
        Err(payload) => {
            tracing::error!(what, "panicked: {}", panic_message(&*payload));
            None
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_request_becomes_an_internal_error() {
        let result: jsonrpc::Result<()> = guard_request("test/panic", async { panic!("boom") }).await;
        assert_eq!(result.unwrap_err().code, jsonrpc::ErrorCode::InternalError);
    }

    #[test]
    fn a_panicking_computation_yields_none() {
        assert_eq!(guard_sync("test", || -> u8 { panic!("boom") }), None);
        assert_eq!(guard_sync("test", || 7), Some(7));
    }
}
