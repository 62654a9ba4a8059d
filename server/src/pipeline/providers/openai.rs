//! The OpenAI-compatible chat completions API (`POST {base}/chat/completions`),
//! spoken by OpenAI, Ollama, vLLM and llama.cpp's server.

use serde_json::{json, Value};

use super::sse::SseEvent;
use super::{HttpRequest, ModelRequest, ModelResponse, ProviderError, Stop, StreamState};

pub(super) fn request(base: &str, key: Option<&str>, request: &ModelRequest) -> HttpRequest {
    let mut messages = Vec::new();
    if let Some(system) = &request.system {
        messages.push(json!({ "role": "system", "content": system }));
    }
    for turn in &request.turns {
        messages.push(json!({ "role": "user", "content": turn.user }));
        messages.push(json!({ "role": "assistant", "content": turn.assistant }));
    }
    messages.push(json!({ "role": "user", "content": request.prompt }));
    let mut body = json!({ "model": request.model, "messages": messages, "max_tokens": request.max_tokens });
    if let Some(temperature) = request.temperature {
        body["temperature"] = json!(temperature);
    }
    if request.stream {
        body["stream"] = json!(true);
        body["stream_options"] = json!({ "include_usage": true });
    }
    let headers = key.map(|key| vec![("authorization", format!("Bearer {key}"))]).unwrap_or_default();
    HttpRequest { url: format!("{base}/chat/completions"), headers, body }
}

/// `finish_reason` of the first choice, in the answer or a stream chunk
/// (null until the last chunk; absent from some local servers).
fn stop(choice: &Value) -> Option<Stop> {
    choice["finish_reason"].as_str().map(|reason| Stop::read(reason, &["stop"], "length"))
}

pub(super) fn response(json: &Value) -> Result<ModelResponse, ProviderError> {
    let message = json.pointer("/choices/0/message").ok_or_else(|| ProviderError::Malformed("no `choices` in the answer".into()))?;
    Ok(ModelResponse {
        text: message["content"].as_str().unwrap_or_default().to_string(),
        input_tokens: json["usage"]["prompt_tokens"].as_u64(),
        output_tokens: json["usage"]["completion_tokens"].as_u64(),
        stop: stop(&json["choices"][0]).unwrap_or_default(),
        ..Default::default()
    })
}

pub(super) fn stream_event(event: &SseEvent, state: &mut StreamState) -> Result<(), ProviderError> {
    if event.data.trim() == "[DONE]" {
        state.finished = true;
        return Ok(());
    }
    let json: Value = serde_json::from_str(&event.data).map_err(|e| ProviderError::Malformed(format!("bad stream event ({e})")))?;
    if let Some(message) = json.pointer("/error/message").and_then(Value::as_str) {
        return Err(ProviderError::Malformed(message.to_string()));
    }
    if let Some(text) = json.pointer("/choices/0/delta/content").and_then(Value::as_str) {
        state.response.text.push_str(text);
    }
    if let Some(stop) = stop(&json["choices"][0]) {
        state.response.stop = stop;
    }
    if let Some(usage) = json.get("usage").filter(|u| !u.is_null()) {
        state.response.input_tokens = usage["prompt_tokens"].as_u64();
        state.response.output_tokens = usage["completion_tokens"].as_u64();
    }
    Ok(())
}
