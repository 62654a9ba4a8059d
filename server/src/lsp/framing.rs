//! The wire between the editor and tower-lsp-server, checked frame by frame.
//!
//! tower-lsp-server stops reading for good at the first message it cannot
//! decode (its framed reader ends after an error), so one malformed message
//! would cost the editor its server. Every incoming frame is checked here
//! first: a message that is not a JSON-RPC object gets its error response
//! from us and never reaches the library. Only a frame header that cannot be
//! read ends the connection, since nothing after it can be trusted.

use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tower_lsp_server::jsonrpc::{self, Id};

/// A header block longer than this is not a header.
const MAX_HEADER_BYTES: usize = 8 * 1024;
/// Bodies larger than this are refused (a whole file in `didOpen` fits).
pub const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;

/// Why the stream of frames ended.
#[derive(Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The peer closed the stream between two frames.
    Closed,
    /// The header or length is unreadable: the stream cannot be resynchronised.
    Broken(String),
}

/// Read one `Content-Length`-framed body.
pub async fn read_frame(reader: &mut (impl AsyncBufRead + Unpin)) -> Result<Vec<u8>, FrameError> {
    let mut length = None;
    let mut header_bytes = 0;
    let mut first = true;
    loop {
        let mut line = Vec::new();
        let read = (&mut *reader)
            .take((MAX_HEADER_BYTES - header_bytes + 1) as u64)
            .read_until(b'\n', &mut line)
            .await
            .map_err(|e| FrameError::Broken(format!("reading a header failed: {e}")))?;
        if read == 0 {
            return Err(if first { FrameError::Closed } else { FrameError::Broken("the stream ended inside a header".into()) });
        }
        first = false;
        header_bytes += read;
        if header_bytes > MAX_HEADER_BYTES || !line.ends_with(b"\n") {
            return Err(FrameError::Broken(format!("a header block longer than {MAX_HEADER_BYTES} bytes")));
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(FrameError::Broken(format!("not a header line: {:?}", truncate(line))));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let value = value.trim();
            let parsed = value.parse::<usize>().map_err(|_| FrameError::Broken(format!("Content-Length is not a length: {:?}", truncate(value))))?;
            length = Some(parsed);
        }
    }
    let length = length.ok_or_else(|| FrameError::Broken("a header block without Content-Length".into()))?;
    if length > MAX_BODY_BYTES {
        return Err(FrameError::Broken(format!("a message of {length} bytes, over the limit of {MAX_BODY_BYTES}")));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.map_err(|e| FrameError::Broken(format!("the stream ended inside a message: {e}")))?;
    Ok(body)
}

pub async fn write_frame(writer: &mut (impl AsyncWrite + Unpin), body: &[u8]) -> std::io::Result<()> {
    writer.write_all(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes()).await?;
    writer.write_all(body).await?;
    writer.flush().await
}

fn truncate(text: &str) -> String {
    text.chars().take(80).collect()
}

/// Whether `body` is a JSON-RPC message the library can take; if not, the
/// error response it deserves (JSON-RPC 2.0, section 5.1).
pub fn check_message(body: &[u8]) -> Result<(), Vec<u8>> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Err(rejection(Id::Null, jsonrpc::Error::parse_error(), "the message is not UTF-8"));
    };
    // serde_json refuses nesting deeper than 128 before it could overflow the stack.
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => return Err(rejection(Id::Null, jsonrpc::Error::parse_error(), &format!("the message is not JSON: {error}"))),
    };
    if !value.is_object() {
        return Err(rejection(Id::Null, jsonrpc::Error::invalid_request(), "a message must be a JSON object (batches are not part of LSP)"));
    }
    // Decoded from the text exactly as the library decodes it (a duplicate
    // key, say, passes as a `Value` but not there).
    if serde_json::from_str::<Incoming>(text).is_ok() {
        return Ok(());
    }
    let id = value.get("id").and_then(|id| serde_json::from_value::<Id>(id.clone()).ok()).unwrap_or(Id::Null);
    Err(rejection(id, jsonrpc::Error::invalid_request(), "not a JSON-RPC 2.0 request, notification or response"))
}

/// The library's own (private) message type, copied: what it can decode.
#[derive(serde::Deserialize)]
#[serde(untagged)]
#[allow(dead_code)] // only decoded, to see that it can be
enum Incoming {
    Response(jsonrpc::Response),
    Request(jsonrpc::Request),
}

fn rejection(id: Id, mut error: jsonrpc::Error, why: &str) -> Vec<u8> {
    tracing::warn!("refused a message from the client: {why}");
    error.message = format!("{}: {why}", error.message).into();
    let response = jsonrpc::Response::from_error(id, error);
    serde_json::to_vec(&response).unwrap_or_else(|_| br#"{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}"#.to_vec())
}

/// Where both directions write whole frames to the client, one at a time.
pub type ClientWriter<W> = std::sync::Arc<tokio::sync::Mutex<W>>;

/// Pass the client's frames to the library and answer the ones it could not
/// take. Returns when the client closes the stream or a header is broken;
/// dropping `to_server` then ends the library's loop.
pub async fn forward_input<W: AsyncWrite + Unpin>(
    from_client: impl AsyncRead + Unpin,
    mut to_server: impl AsyncWrite + Unpin,
    to_client: ClientWriter<W>,
) {
    let mut reader = tokio::io::BufReader::new(from_client);
    loop {
        let body = match read_frame(&mut reader).await {
            Ok(body) => body,
            Err(FrameError::Closed) => return,
            Err(FrameError::Broken(why)) => {
                tracing::error!("the connection to the editor is broken ({why}); the server stops");
                return;
            }
        };
        let sent = match check_message(&body) {
            Ok(()) => write_frame(&mut to_server, &body).await,
            Err(response) => write_frame(&mut *to_client.lock().await, &response).await,
        };
        if sent.is_err() {
            return; // the library has stopped (after `exit`) or the client is gone
        }
    }
}

/// Copy the library's frames to the client. Returns once the library has
/// closed its side.
pub async fn forward_output<W: AsyncWrite + Unpin>(from_server: impl AsyncRead + Unpin, to_client: ClientWriter<W>) {
    let mut reader = tokio::io::BufReader::new(from_server);
    while let Ok(body) = read_frame(&mut reader).await {
        if write_frame(&mut *to_client.lock().await, &body).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn frames(input: &[u8]) -> Vec<Result<Vec<u8>, FrameError>> {
        let mut reader = tokio::io::BufReader::new(input);
        let mut out = Vec::new();
        loop {
            let frame = read_frame(&mut reader).await;
            let end = frame.is_err();
            out.push(frame);
            if end {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn frames_are_read_with_either_header_order_and_line_ending() {
        let input = b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: 2\r\n\r\n{}Content-Length: 1\n\n7";
        let read = frames(input).await;
        assert_eq!(read, [Ok(b"{}".to_vec()), Ok(b"7".to_vec()), Err(FrameError::Closed)]);
    }

    #[tokio::test]
    async fn a_broken_header_ends_the_stream_with_a_reason() {
        for input in [&b"Content-Length: -3\r\n\r\n"[..], b"Content-Length: 99999999999999999999\r\n\r\n", b"garbage\r\n\r\n", b"X: 1\r\n\r\n", b"Content-Length: 5\r\n\r\nab"] {
            let read = frames(input).await;
            assert!(matches!(read.last(), Some(Err(FrameError::Broken(_)))), "{:?}: {read:?}", String::from_utf8_lossy(input));
        }
        let endless_header = vec![b'a'; MAX_HEADER_BYTES * 4];
        assert!(matches!(frames(&endless_header).await.last(), Some(Err(FrameError::Broken(_)))));
    }

    fn error_of(body: &[u8]) -> (i64, Value) {
        let response: Value = serde_json::from_slice(&check_message(body).expect_err("refused")).unwrap();
        (response["error"]["code"].as_i64().unwrap(), response["id"].clone())
    }

    #[test]
    fn what_the_library_cannot_decode_is_answered_here() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(error_of(b"{not json").0, -32700);
        assert_eq!(error_of(b"\xff\xfe{}").0, -32700);
        assert_eq!(error_of(deep.as_bytes()).0, -32700);
        assert_eq!(error_of(b"[]").0, -32600);
        assert_eq!(error_of(b"{}").0, -32600);
        assert_eq!(error_of(br#"{"jsonrpc":"2.0","id":{},"method":"x"}"#), (-32600, Value::Null));
        assert_eq!(error_of(br#"{"jsonrpc":"1.0","id":7,"method":"x"}"#), (-32600, Value::from(7)));
        assert_eq!(error_of(br#"{"jsonrpc":"2.0","method":"x","method":"x"}"#).0, -32600);
        assert_eq!(error_of(br#"{"jsonrpc":"2.0","id":1,"id":2,"method":"x"}"#).0, -32600);
    }

    #[test]
    fn requests_notifications_and_responses_pass() {
        check_message(br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#).unwrap();
        check_message(br#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#).unwrap();
        check_message(br#"{"jsonrpc":"2.0","id":"a","result":null}"#).unwrap();
        check_message(br#"{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"no"}}"#).unwrap();
    }
}
