//! Gemini's `generateContent` (and `streamGenerateContent?alt=sse`).

use serde_json::{json, Value};

use super::sse::SseEvent;
use super::{HttpRequest, ModelRequest, ModelResponse, ProviderError, Stop, StreamState};

pub(super) fn request(base: &str, key: Option<&str>, request: &ModelRequest) -> HttpRequest {
    let mut contents = Vec::new();
    for turn in &request.turns {
        contents.push(json!({ "role": "user", "parts": [{ "text": turn.user }] }));
        contents.push(json!({ "role": "model", "parts": [{ "text": turn.assistant }] }));
    }
    contents.push(json!({ "role": "user", "parts": [{ "text": request.prompt }] }));
    let mut body = json!({
        "contents": contents,
        "generationConfig": { "maxOutputTokens": request.max_tokens },
    });
    if let Some(system) = &request.system {
        body["systemInstruction"] = json!({ "parts": [{ "text": system }] });
    }
    if let Some(temperature) = request.temperature {
        body["generationConfig"]["temperature"] = json!(temperature);
    }
    let method = if request.stream { "streamGenerateContent?alt=sse" } else { "generateContent" };
    let headers = key.map(|key| vec![("x-goog-api-key", key.to_string())]).unwrap_or_default();
    HttpRequest { url: format!("{base}/v1beta/models/{}:{method}", request.model), headers, body }
}

/// The text of a response (or a streamed chunk), and whether it is final.
fn read(json: &Value, response: &mut ModelResponse) -> Result<bool, ProviderError> {
    let candidate = &json["candidates"][0];
    if let Some(parts) = candidate["content"]["parts"].as_array() {
        for part in parts {
            if let Some(text) = part["text"].as_str() {
                response.text.push_str(text);
            }
        }
    }
    if let Some(usage) = json.get("usageMetadata") {
        response.input_tokens = usage["promptTokenCount"].as_u64().or(response.input_tokens);
        response.output_tokens = usage["candidatesTokenCount"].as_u64().or(response.output_tokens);
    }
    if let Some(reason) = json["promptFeedback"]["blockReason"].as_str() {
        return Err(ProviderError::Malformed(format!("the prompt was blocked ({reason})")));
    }
    // Present on the last chunk only; SAFETY, RECITATION and the like stay `Other`.
    match candidate["finishReason"].as_str() {
        Some(reason) => {
            response.stop = Stop::read(reason, &["STOP"], "MAX_TOKENS");
            Ok(true)
        }
        None => Ok(false),
    }
}

pub(super) fn response(json: &Value) -> Result<ModelResponse, ProviderError> {
    if json.get("candidates").is_none() && json.get("promptFeedback").is_none() {
        return Err(ProviderError::Malformed("no `candidates` in the answer".into()));
    }
    let mut response = ModelResponse::default();
    read(json, &mut response)?;
    Ok(response)
}

pub(super) fn stream_event(event: &SseEvent, state: &mut StreamState) -> Result<(), ProviderError> {
    let json: Value = serde_json::from_str(&event.data).map_err(|e| ProviderError::Malformed(format!("bad stream event ({e})")))?;
    if let Some(message) = json.pointer("/error/message").and_then(Value::as_str) {
        return Err(ProviderError::Malformed(message.to_string()));
    }
    if read(&json, &mut state.response)? {
        state.finished = true;
    }
    Ok(())
}
