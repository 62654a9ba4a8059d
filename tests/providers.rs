//! The three provider APIs against a scripted server on 127.0.0.1: the
//! exact requests we send, and every fault ending in a result or a clear
//! error, never a hang.

#[path = "support/http.rs"]
mod http;

use std::time::{Duration, Instant};

use elexirion::pipeline::providers::{
    ApiKey, ModelRequest, Provider, ProviderConfig, ProviderError, ProviderKind, RetryPolicy,
};
use http::{Reply, TestServer};
use serde_json::json;

const KEY: &str = "sk-test-secret-123";

fn provider(kind: ProviderKind, base_url: &str, max_retries: u32) -> Provider {
    Provider::new(ProviderConfig {
        kind,
        base_url: base_url.to_string(),
        api_key: Some(ApiKey::new(KEY)),
        timeout: Duration::from_secs(5),
        retry: RetryPolicy { max_retries, base_delay: Duration::from_millis(20), max_delay: Duration::from_secs(2) },
    })
}

fn request(stream: bool) -> ModelRequest {
    ModelRequest {
        model: "model-x".into(),
        system: Some("You review Elixir.".into()),
        turns: Vec::new(),
        prompt: "Review this GenServer.".into(),
        max_tokens: 256,
        temperature: Some(0.2),
        stream,
    }
}

#[tokio::test]
async fn anthropic_messages_request_and_answer() {
    let server = TestServer::start(vec![Reply::json(200, &json!({
        "content": [{ "type": "text", "text": "Looks " }, { "type": "text", "text": "fine." }],
        "usage": { "input_tokens": 12, "output_tokens": 3 },
    }))])
    .await;
    let answer = provider(ProviderKind::Anthropic, &server.url, 0).complete(&request(false)).await.unwrap();
    assert_eq!((answer.text.as_str(), answer.input_tokens, answer.output_tokens, answer.attempts), ("Looks fine.", Some(12), Some(3), 1));

    let sent = &server.requests()[0];
    assert_eq!((sent.method.as_str(), sent.path.as_str()), ("POST", "/v1/messages"));
    assert_eq!(sent.header("x-api-key"), Some(KEY));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.json(), json!({
        "model": "model-x", "max_tokens": 256, "system": "You review Elixir.", "temperature": 0.2,
        "messages": [{ "role": "user", "content": "Review this GenServer." }],
    }));
}

#[tokio::test]
async fn anthropic_streaming() {
    let server = TestServer::start(vec![Reply::sse(&[
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":9}}}",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"Use a \"}}",
        "event: ping\ndata: {\"type\":\"ping\"}",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"Supervisor.\"}}",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":4}}",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}",
    ])])
    .await;
    let answer = provider(ProviderKind::Anthropic, &server.url, 0).complete(&request(true)).await.unwrap();
    assert_eq!((answer.text.as_str(), answer.input_tokens, answer.output_tokens), ("Use a Supervisor.", Some(9), Some(4)));
    assert_eq!(server.requests()[0].json()["stream"], true);
}

#[tokio::test]
async fn gemini_generate_content_request_and_answer_streamed_and_not() {
    let answer = json!({
        "candidates": [{ "content": { "parts": [{ "text": "No issues." }] }, "finishReason": "STOP" }],
        "usageMetadata": { "promptTokenCount": 7, "candidatesTokenCount": 2 },
    });
    let server = TestServer::start(vec![Reply::json(200, &answer)]).await;
    let got = provider(ProviderKind::Gemini, &server.url, 0).complete(&request(false)).await.unwrap();
    assert_eq!((got.text.as_str(), got.input_tokens, got.output_tokens), ("No issues.", Some(7), Some(2)));
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/v1beta/models/model-x:generateContent");
    assert_eq!(sent.header("x-goog-api-key"), Some(KEY));
    assert_eq!(sent.json(), json!({
        "contents": [{ "role": "user", "parts": [{ "text": "Review this GenServer." }] }],
        "systemInstruction": { "parts": [{ "text": "You review Elixir." }] },
        "generationConfig": { "maxOutputTokens": 256, "temperature": 0.2 },
    }));

    let server = TestServer::start(vec![Reply::sse(&[
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"No \"}]}}]}",
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"issues.\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":7,\"candidatesTokenCount\":2}}",
    ])])
    .await;
    let got = provider(ProviderKind::Gemini, &server.url, 0).complete(&request(true)).await.unwrap();
    assert_eq!(got.text, "No issues.");
    assert_eq!(server.requests()[0].path, "/v1beta/models/model-x:streamGenerateContent?alt=sse");
}

#[tokio::test]
async fn openai_compatible_chat_completions_streamed_and_not() {
    let server = TestServer::start(vec![Reply::json(200, &json!({
        "choices": [{ "message": { "role": "assistant", "content": "Refactored." } }],
        "usage": { "prompt_tokens": 20, "completion_tokens": 2 },
    }))])
    .await;
    let base = format!("{}/v1", server.url);
    let got = provider(ProviderKind::OpenAi, &base, 0).complete(&request(false)).await.unwrap();
    assert_eq!((got.text.as_str(), got.input_tokens, got.output_tokens), ("Refactored.", Some(20), Some(2)));
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert_eq!(sent.json(), json!({
        "model": "model-x", "max_tokens": 256, "temperature": 0.2,
        "messages": [{ "role": "system", "content": "You review Elixir." }, { "role": "user", "content": "Review this GenServer." }],
    }));

    let server = TestServer::start(vec![Reply::sse(&[
        "data: {\"choices\":[{\"delta\":{\"content\":\"Refac\"}}]}",
        "data: {\"choices\":[{\"delta\":{\"content\":\"tored.\"}}]}",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":2}}",
        "data: [DONE]",
    ])])
    .await;
    let base = format!("{}/v1", server.url);
    let got = provider(ProviderKind::OpenAi, &base, 0).complete(&request(true)).await.unwrap();
    assert_eq!((got.text.as_str(), got.output_tokens), ("Refactored.", Some(2)));
    assert_eq!(server.requests()[0].json()["stream_options"], json!({ "include_usage": true }));
}

#[tokio::test]
async fn a_local_openai_compatible_server_needs_no_key() {
    let server = TestServer::start(vec![Reply::json(200, &json!({ "choices": [{ "message": { "content": "ok" } }] }))]).await;
    let mut config = ProviderConfig::from_env(ProviderKind::OpenAi);
    config.base_url = server.url.clone();
    config.api_key = None;
    assert_eq!(Provider::new(config).complete(&request(false)).await.unwrap().text, "ok");
    assert_eq!(server.requests()[0].header("authorization"), None);
}

#[tokio::test]
async fn a_timeout_is_a_clear_error_not_a_hang() {
    let server = TestServer::start(vec![Reply::json(200, &json!({})).delayed(Duration::from_secs(3))]).await;
    let mut config = ProviderConfig::from_env(ProviderKind::Anthropic);
    config.base_url = server.url.clone();
    config.api_key = Some(ApiKey::new(KEY));
    config.timeout = Duration::from_millis(300);
    config.retry = RetryPolicy { max_retries: 1, base_delay: Duration::from_millis(10), max_delay: Duration::from_millis(10) };
    let started = Instant::now();
    let error = Provider::new(config).complete(&request(false)).await.unwrap_err();
    assert_eq!(error, ProviderError::Timeout(Duration::from_millis(300)));
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(server.requests().len(), 2, "retried once");
}

#[tokio::test]
async fn rate_limits_are_retried_after_the_time_asked() {
    let ok = Reply::json(200, &json!({ "content": [{ "type": "text", "text": "done" }] }));
    let limited = Reply::json(429, &json!({ "type": "error", "error": { "type": "rate_limit_error", "message": "slow down" } })).header("retry-after", "1");
    let server = TestServer::start(vec![limited, ok]).await;
    let started = Instant::now();
    let answer = provider(ProviderKind::Anthropic, &server.url, 2).complete(&request(false)).await.unwrap();
    assert_eq!((answer.text.as_str(), answer.attempts), ("done", 2));
    assert!(started.elapsed() >= Duration::from_millis(950), "waited {:?}", started.elapsed());
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed_and_client_errors_are_not() {
    let ok = Reply::json(200, &json!({ "content": [{ "type": "text", "text": "done" }] }));
    let server = TestServer::start(vec![Reply::raw(500, "internal"), ok]).await;
    let answer = provider(ProviderKind::Anthropic, &server.url, 2).complete(&request(false)).await.unwrap();
    assert_eq!(answer.attempts, 2);

    let server = TestServer::start(vec![Reply::json(400, &json!({ "error": { "message": "max_tokens too large" } }))]).await;
    let error = provider(ProviderKind::Anthropic, &server.url, 3).complete(&request(false)).await.unwrap_err();
    assert_eq!(error.to_string(), "HTTP 400: max_tokens too large");
    assert_eq!(server.requests().len(), 1, "a client error is not retried");
}

#[tokio::test]
async fn malformed_empty_cut_and_huge_answers_are_clear_errors() {
    let server = TestServer::start(vec![Reply::raw(200, "{not json")]).await;
    let error = provider(ProviderKind::OpenAi, &server.url, 2).complete(&request(false)).await.unwrap_err();
    assert!(matches!(error, ProviderError::Malformed(_)), "{error}");
    assert_eq!(server.requests().len(), 1, "garbage is not retried");

    let server = TestServer::start(vec![Reply::json(200, &json!({ "choices": [{ "message": { "content": "  " } }] }))]).await;
    let error = provider(ProviderKind::OpenAi, &server.url, 0).complete(&request(false)).await.unwrap_err();
    assert_eq!(error, ProviderError::Empty);

    let cut = Reply::sse(&["data: {\"choices\":[{\"delta\":{\"content\":\"half\"}}]}", "data: {\"choices\":[{\"delta\":{\"content\":\"an answer\"}}]}"]).cut();
    let server = TestServer::start(vec![cut]).await;
    let error = provider(ProviderKind::OpenAi, &server.url, 1).complete(&request(true)).await.unwrap_err();
    assert_eq!(error, ProviderError::Incomplete);
    assert_eq!(server.requests().len(), 2, "a cut stream is retried");

    // A stream that ends cleanly but without its final event is incomplete too.
    let server = TestServer::start(vec![Reply::sse(&["event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"x\"}}"])]).await;
    let error = provider(ProviderKind::Anthropic, &server.url, 0).complete(&request(true)).await.unwrap_err();
    assert_eq!(error, ProviderError::Incomplete);

    let huge = format!("{{\"choices\":[{{\"message\":{{\"content\":\"{}\"}}}}]}}", "x".repeat(17 * 1024 * 1024));
    let server = TestServer::start(vec![Reply::raw(200, &huge)]).await;
    let error = provider(ProviderKind::OpenAi, &server.url, 0).complete(&request(false)).await.unwrap_err();
    assert_eq!(error, ProviderError::TooLarge(16 * 1024 * 1024));
}

#[tokio::test]
async fn keys_never_show_in_errors_or_debug_output() {
    let mut config = ProviderConfig::from_env(ProviderKind::Anthropic);
    config.api_key = None;
    let error = Provider::new(config.clone()).complete(&request(false)).await.unwrap_err();
    assert_eq!(error.to_string(), "no API key: set ANTHROPIC_API_KEY or configure one");

    config.api_key = Some(ApiKey::new(KEY));
    assert!(!format!("{config:?}").contains(KEY));
    let server = TestServer::start(vec![Reply::raw(401, KEY)]).await;
    config.base_url = server.url.clone();
    let error = Provider::new(config).complete(&request(false)).await.unwrap_err();
    // The server echoing the key back is the only way it could show; ours never adds it.
    assert!(matches!(error, ProviderError::Status { status: 401, .. }));
    let unreachable = Provider::new(ProviderConfig {
        kind: ProviderKind::Gemini,
        base_url: "http://127.0.0.1:9".into(),
        api_key: Some(ApiKey::new(KEY)),
        timeout: Duration::from_secs(5),
        retry: RetryPolicy { max_retries: 0, ..Default::default() },
    });
    let error = unreachable.complete(&request(false)).await.unwrap_err();
    assert!(matches!(error, ProviderError::Network(_)), "{error}");
    assert!(!error.to_string().contains(KEY), "{error}");
}
