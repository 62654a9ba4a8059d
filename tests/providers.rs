//! The three provider APIs against a scripted server on 127.0.0.1: the
//! exact requests we send, and every fault ending in a result or a clear
//! error, never a hang.

#[path = "support/http.rs"]
mod http;
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use elexirion::pipeline::providers::{
    ApiKey, ModelRequest, Provider, ProviderConfig, ProviderError, ProviderKind, RetryPolicy, Stop,
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
    // The server echoing the key back is the only way it could show; it is redacted.
    assert_eq!(error, ProviderError::Status { status: 401, message: "[redacted]".into() });
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

/// An answer that asks to come back later, then the answer itself.
fn rate_limited_then_done(retry_after: &str) -> Vec<Reply> {
    let limited = Reply::json(429, &json!({ "error": { "message": "slow down" } })).header("retry-after", retry_after);
    vec![limited, Reply::json(200, &json!({ "content": [{ "type": "text", "text": "done" }] }))]
}

#[tokio::test]
async fn a_nonsense_retry_after_is_ignored_or_capped_never_a_panic() {
    let cap = Duration::from_millis(200);
    let retry = RetryPolicy { max_retries: 1, base_delay: Duration::from_millis(10), max_delay: cap };
    for retry_after in ["-5", "NaN", "inf", "-inf", "1e308", "18446744073709551616", "soon", "Sun, 06 Nov 1994 08:49:37 GMT"] {
        let server = TestServer::start(rate_limited_then_done(retry_after)).await;
        let mut config = ProviderConfig::from_env(ProviderKind::Anthropic);
        (config.base_url, config.api_key, config.retry) = (server.url.clone(), Some(ApiKey::new(KEY)), retry.clone());
        let started = Instant::now();
        let answer = Provider::new(config).complete(&request(false)).await;
        assert_eq!(answer.map(|a| a.text), Ok("done".to_string()), "retry-after: {retry_after}");
        assert!(started.elapsed() < cap + Duration::from_millis(500), "retry-after: {retry_after} waited {:?}", started.elapsed());
    }
}

/// An Anthropic stream whose one delta says `text`, cut into two network
/// chunks at byte `at` of the whole body.
fn anthropic_stream_split_at(text: &str, at: impl Fn(&[u8]) -> usize) -> Reply {
    let delta = json!({ "type": "content_block_delta", "delta": { "type": "text_delta", "text": text } });
    let body = format!("event: content_block_delta\ndata: {delta}\n\nevent: message_stop\ndata: {{\"type\":\"message_stop\"}}\n\n").into_bytes();
    let split = at(&body);
    let chunks = vec![(Duration::ZERO, body[..split].to_vec()), (Duration::from_millis(50), body[split..].to_vec())];
    Reply { status: 200, headers: vec![("content-type".into(), "text/event-stream".into())], chunks, cut: false }
}

#[tokio::test]
async fn a_character_split_across_network_chunks_arrives_whole() {
    // Inside the two bytes of "é" (0xC3 0xA9).
    let reply = anthropic_stream_split_at("héllo wörld", |body| body.iter().position(|&b| b == 0xC3).unwrap() + 1);
    let server = TestServer::start(vec![reply]).await;
    let answer = provider(ProviderKind::Anthropic, &server.url, 0).complete(&request(true)).await.unwrap();
    assert_eq!(answer.text, "héllo wörld");
}

/// A timeout short enough for a test, and no retries.
fn impatient(kind: ProviderKind, base_url: &str, timeout: Duration) -> Provider {
    Provider::new(ProviderConfig {
        kind,
        base_url: base_url.to_string(),
        api_key: Some(ApiKey::new(KEY)),
        timeout,
        retry: RetryPolicy { max_retries: 0, ..Default::default() },
    })
}

#[tokio::test]
async fn a_line_that_never_ends_is_refused_as_soon_as_it_is_too_large() {
    // 100 MB of one `data:` line, as fast as the loopback goes.
    let server = http::endless_stream(b"data: ", &[b'x'; 64 * 1024], Duration::ZERO, 100 * 1024 * 1024).await;
    let started = Instant::now();
    let error = impatient(ProviderKind::OpenAi, &server.url, Duration::from_secs(30)).complete(&request(true)).await.unwrap_err();
    assert!(matches!(error, ProviderError::TooLarge(_)), "{error}");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn the_timeout_holds_while_bytes_keep_arriving() {
    let limit = Duration::from_millis(400);
    // A line that grows slowly, never ending and never too large.
    let trickle = http::endless_stream(b"data: ", b"xxxx", Duration::from_millis(5), usize::MAX).await;
    // Events that come fast and never finish the answer.
    let pings = http::endless_stream(b"", b"event: ping\ndata: {\"type\":\"ping\"}\n\n", Duration::ZERO, usize::MAX).await;
    for (kind, server) in [(ProviderKind::OpenAi, &trickle), (ProviderKind::Anthropic, &pings)] {
        let started = Instant::now();
        let error = impatient(kind, &server.url, limit).complete(&request(true)).await.unwrap_err();
        assert_eq!(error, ProviderError::Timeout(limit), "{kind:?}");
        assert!(started.elapsed() < Duration::from_secs(2), "{kind:?} took {:?}", started.elapsed());
    }
}

/// The header each API carries the key in, as the server received it.
fn sent_key(request: &http::Recorded) -> String {
    ["x-api-key", "authorization", "x-goog-api-key"].iter().filter_map(|name| request.header(name)).collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn a_key_the_server_echoes_back_is_redacted_from_every_error() {
    // Each way an error carries the server's words: a JSON message, a raw
    // body (cut at 200 characters, the key right at the cut), a 429, and
    // an error event inside a stream.
    let echoes: [(&str, fn(String) -> Reply); 7] = [
        ("json 401", |key| Reply::json(401, &json!({ "error": { "message": format!("invalid key {key}") } }))),
        // JSON escapes hide a key from a search of the raw body.
        ("json, every character escaped", |key| Reply::raw(401, &format!("{{\"detail\": \"{}\"}}", key.chars().map(|c| format!("\\u{:04x}", c as u32)).collect::<String>()))),
        ("json, slashes escaped", |key| Reply::raw(401, &format!("{{\"detail\": \"invalid {}\"}}", key.replace('/', "\\/")))),
        ("raw 403", |key| Reply::raw(403, &format!("{}{key}", "-".repeat(190)))),
        ("raw 500", |key| Reply::raw(500, &format!("headers: authorization={key}; x-api-key: {key}"))),
        ("429", |key| Reply::json(429, &json!({ "error": { "message": key } })).header("retry-after", "0")),
        ("stream", |key| Reply::sse(&[&format!("data: {}", json!({ "type": "error", "error": { "type": "api_error", "message": key } }))])),
    ];
    for kind in [ProviderKind::Anthropic, ProviderKind::Gemini, ProviderKind::OpenAi] {
        for (label, echo) in echoes {
            let server = TestServer::start_with(move |request| echo(sent_key(request))).await;
            let mut config = ProviderConfig::from_env(kind);
            config.base_url = server.url.clone();
            config.api_key = Some(ApiKey::new(KEY));
            config.retry = RetryPolicy { max_retries: 0, ..Default::default() };
            let error = Provider::new(config).complete(&request(label == "stream")).await.unwrap_err();
            assert!(sent_key(&server.requests()[0]).contains(KEY), "{kind:?} {label}: the key was sent");
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains(KEY) && !shown.contains(&KEY[..10]), "{kind:?} {label}: {shown}");
            let escaped: String = KEY.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
            assert!(!shown.contains(&escaped[..30]), "{kind:?} {label}: the key is there, escaped: {shown}");
        }
    }
}

#[tokio::test]
async fn a_key_the_server_echoes_in_an_answer_is_redacted_from_it() {
    let server = TestServer::start_with(|request| {
        Reply::json(200, &json!({ "choices": [{ "message": { "content": format!("you sent {}", sent_key(request)) } }] }))
    })
    .await;
    let answer = provider(ProviderKind::OpenAi, &server.url, 0).complete(&request(false)).await.unwrap();
    assert!(answer.text.starts_with("you sent Bearer ") && !answer.text.contains(KEY), "{}", answer.text);
}

/// Every file under `dir` that holds `secret`, read as bytes.
fn files_holding(dir: &Path, secret: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_holding(&path, secret));
        } else if std::fs::read(&path).unwrap().windows(secret.len()).any(|w| w == secret.as_bytes()) {
            found.push(path.display().to_string());
        }
    }
    found
}

/// `elexirion pipeline run` of one step against `server`, with the key in
/// the environment as a user would set it; the workspace and the output.
async fn run_with_key(server: &TestServer) -> (tempfile::TempDir, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let config = format!("[providers]\nclaude = [\"openai\"]\nmax-retries = 0\n[providers.base-urls]\nopenai = \"{}\"\n", server.url);
    std::fs::write(dir.path().join("elexirion.toml"), config).unwrap();
    std::fs::write(dir.path().join("p.yaml"), include_str!("fixtures/pipelines/rename.yaml")).unwrap();
    let mut command = tokio::process::Command::new(support::binary());
    command.args(["pipeline", "run", "p.yaml", "--input", "name=f"]).current_dir(dir.path());
    for variable in ["ANTHROPIC_API_KEY", "GEMINI_API_KEY", "ANTHROPIC_BASE_URL", "GEMINI_BASE_URL", "OPENAI_BASE_URL"] {
        command.env_remove(variable);
    }
    let output = command.env("OPENAI_API_KEY", KEY).env("ELEXIRION_LOG", "debug").output().await.unwrap();
    (dir, output)
}

#[tokio::test]
async fn a_pipeline_run_stores_and_prints_no_echoed_key() {
    let refusing = TestServer::start_with(|request| Reply::json(401, &json!({ "error": { "message": format!("bad key {}", sent_key(request)) } }))).await;
    let (dir, output) = run_with_key(&refusing).await;
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(!output.status.success() && stderr.contains("HTTP 401: bad key Bearer "), "{stderr}");
    assert!(!stderr.contains(KEY), "{stderr}");
    assert!(dir.path().join(".elexirion/store.db").exists(), "the failed run is recorded");
    assert_eq!(files_holding(dir.path(), KEY), Vec::<String>::new());

    let echoing = TestServer::start_with(|request| {
        Reply::json(200, &json!({ "choices": [{ "message": { "content": format!("you sent {}", sent_key(request)) } }] }))
    })
    .await;
    let (dir, output) = run_with_key(&echoing).await;
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success() && stdout.starts_with("you sent Bearer "), "{stdout}{stderr}");
    assert!(!stdout.contains(KEY) && !stderr.contains(KEY), "{stdout}{stderr}");
    assert!(dir.path().join(".elexirion/cache").exists(), "the answer is cached");
    assert_eq!(files_holding(dir.path(), KEY), Vec::<String>::new());
}

/// Why the model stopped, by the answer of `reply` to a streamed or plain request.
async fn stop_of(kind: ProviderKind, reply: Reply, stream: bool) -> Stop {
    let server = TestServer::start(vec![reply]).await;
    provider(kind, &server.url, 0).complete(&request(stream)).await.unwrap().stop
}

#[tokio::test]
async fn anthropic_says_when_the_answer_is_cut_at_the_output_limit() {
    let answer = |reason: &str| Reply::json(200, &json!({ "content": [{ "type": "text", "text": "defmodule A do" }], "stop_reason": reason }));
    assert_eq!(stop_of(ProviderKind::Anthropic, answer("max_tokens"), false).await, Stop::OutputLimit);
    assert_eq!(stop_of(ProviderKind::Anthropic, answer("end_turn"), false).await, Stop::Complete);
    assert_eq!(stop_of(ProviderKind::Anthropic, answer("refusal"), false).await, Stop::Other("refusal".into()));

    let streamed = Reply::sse(&[
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"defmodule A do\"}}",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"},\"usage\":{\"output_tokens\":256}}",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}",
    ]);
    assert_eq!(stop_of(ProviderKind::Anthropic, streamed, true).await, Stop::OutputLimit);
}

#[tokio::test]
async fn gemini_says_when_the_answer_is_cut_at_the_output_limit() {
    let answer = |reason: &str| Reply::json(200, &json!({ "candidates": [{ "content": { "parts": [{ "text": "defmodule A do" }] }, "finishReason": reason }] }));
    assert_eq!(stop_of(ProviderKind::Gemini, answer("MAX_TOKENS"), false).await, Stop::OutputLimit);
    assert_eq!(stop_of(ProviderKind::Gemini, answer("STOP"), false).await, Stop::Complete);
    assert_eq!(stop_of(ProviderKind::Gemini, answer("SAFETY"), false).await, Stop::Other("SAFETY".into()));
    assert_eq!(stop_of(ProviderKind::Gemini, answer("RECITATION"), false).await, Stop::Other("RECITATION".into()));

    let streamed = Reply::sse(&[
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"defmodule \"}]}}]}",
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"A do\"}]},\"finishReason\":\"MAX_TOKENS\"}]}",
    ]);
    assert_eq!(stop_of(ProviderKind::Gemini, streamed, true).await, Stop::OutputLimit);
}

#[tokio::test]
async fn openai_compatible_servers_say_when_the_answer_is_cut_at_the_output_limit() {
    let answer = |reason: serde_json::Value| Reply::json(200, &json!({ "choices": [{ "message": { "content": "defmodule A do" }, "finish_reason": reason }] }));
    assert_eq!(stop_of(ProviderKind::OpenAi, answer(json!("length")), false).await, Stop::OutputLimit);
    assert_eq!(stop_of(ProviderKind::OpenAi, answer(json!("stop")), false).await, Stop::Complete);
    assert_eq!(stop_of(ProviderKind::OpenAi, answer(json!(null)), false).await, Stop::Complete, "a local server that does not say");

    let streamed = Reply::sse(&[
        "data: {\"choices\":[{\"delta\":{\"content\":\"defmodule A do\"},\"finish_reason\":null}]}",
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"length\"}]}",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":256}}",
        "data: [DONE]",
    ]);
    assert_eq!(stop_of(ProviderKind::OpenAi, streamed, true).await, Stop::OutputLimit);
}
