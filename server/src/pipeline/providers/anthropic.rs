//! The Anthropic Messages API (`POST /v1/messages`).

use serde_json::{json, Value};

use super::sse::SseEvent;
use super::{HttpRequest, ModelRequest, ModelResponse, ProviderError, Stop, StreamState};

const API_VERSION: &str = "2023-06-01";

/// `stop_reason`, in the answer or a stream's `message_delta`. We send no
/// stop sequences, but a served prompt could; its answer is complete.
fn stop(reason: &str) -> Stop {
    Stop::read(reason, &["end_turn", "stop_sequence"], "max_tokens")
}

pub(super) fn request(base: &str, key: Option<&str>, request: &ModelRequest) -> HttpRequest {
    let mut messages = Vec::new();
    for turn in &request.turns {
        messages.push(json!({ "role": "user", "content": turn.user }));
        messages.push(json!({ "role": "assistant", "content": turn.assistant }));
    }
    messages.push(json!({ "role": "user", "content": request.prompt }));
    let mut body = json!({ "model": request.model, "max_tokens": request.max_tokens, "messages": messages });
    if let Some(system) = &request.system {
        body["system"] = json!(system);
    }
    if let Some(temperature) = request.temperature {
        body["temperature"] = json!(temperature);
    }
    if request.stream {
        body["stream"] = json!(true);
    }
    let mut headers = vec![("anthropic-version", API_VERSION.to_string())];
    if let Some(key) = key {
        headers.push(("x-api-key", key.to_string()));
    }
    HttpRequest { url: format!("{base}/v1/messages"), headers, body }
}

pub(super) fn response(json: &Value) -> Result<ModelResponse, ProviderError> {
    let blocks = json["content"].as_array().ok_or_else(|| ProviderError::Malformed("no `content` in the answer".into()))?;
    let text = blocks.iter().filter(|b| b["type"] == "text").filter_map(|b| b["text"].as_str()).collect::<String>();
    Ok(ModelResponse {
        text,
        input_tokens: json["usage"]["input_tokens"].as_u64(),
        output_tokens: json["usage"]["output_tokens"].as_u64(),
        stop: json["stop_reason"].as_str().map(stop).unwrap_or_default(),
        ..Default::default()
    })
}

pub(super) fn stream_event(event: &SseEvent, state: &mut StreamState) -> Result<(), ProviderError> {
    let json: Value = serde_json::from_str(&event.data).map_err(|e| ProviderError::Malformed(format!("bad stream event ({e})")))?;
    match json["type"].as_str().unwrap_or_default() {
        "message_start" => state.response.input_tokens = json["message"]["usage"]["input_tokens"].as_u64(),
        "content_block_delta" => {
            if let Some(text) = json["delta"]["text"].as_str() {
                state.response.text.push_str(text);
            }
        }
        "message_delta" => {
            state.response.output_tokens = json["usage"]["output_tokens"].as_u64();
            if let Some(reason) = json["delta"]["stop_reason"].as_str() {
                state.response.stop = stop(reason);
            }
        }
        "message_stop" => state.finished = true,
        "error" => {
            let message = json["error"]["message"].as_str().unwrap_or("error in the stream").to_string();
            return Err(if json["error"]["type"] == "overloaded_error" {
                ProviderError::Status { status: 529, message }
            } else {
                ProviderError::Malformed(message)
            });
        }
        _ => {}
    }
    Ok(())
}
