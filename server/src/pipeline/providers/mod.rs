//! Model providers over HTTP: the Anthropic Messages API, Gemini's
//! `generateContent`, and the OpenAI-compatible chat completions API
//! (OpenAI, Ollama, vLLM, llama.cpp). One retry loop, three codecs.

mod anthropic;
mod gemini;
mod openai;
pub mod output_limits;
pub mod prices;
pub mod redact;
mod retry_after;
pub mod sse;

use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use futures::StreamExt;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    Anthropic,
    Gemini,
    OpenAi,
}

impl ProviderKind {
    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
            ProviderKind::OpenAi => "openai-compatible",
        }
    }

    /// The variable the official SDKs read the key from.
    pub fn key_variable(self) -> &'static str {
        match self {
            ProviderKind::Anthropic => "ANTHROPIC_API_KEY",
            ProviderKind::Gemini => "GEMINI_API_KEY",
            ProviderKind::OpenAi => "OPENAI_API_KEY",
        }
    }

    /// The variable for the base URL, and the default.
    pub fn base_url_variable(self) -> (&'static str, &'static str) {
        match self {
            ProviderKind::Anthropic => ("ANTHROPIC_BASE_URL", "https://api.anthropic.com"),
            ProviderKind::Gemini => ("GEMINI_BASE_URL", "https://generativelanguage.googleapis.com"),
            ProviderKind::OpenAi => ("OPENAI_BASE_URL", "https://api.openai.com/v1"),
        }
    }
}

/// An API key. It never appears in `Debug` output, logs or errors, even
/// when a server echoes it back (see `redact`).
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        let key = key.into();
        redact::remember(&key);
        ApiKey(key)
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_retries: 3, base_delay: Duration::from_millis(500), max_delay: Duration::from_secs(30) }
    }
}

#[derive(Clone, Debug)]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    pub base_url: String,
    pub api_key: Option<ApiKey>,
    /// Limit for one request, streaming included.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl ProviderConfig {
    /// Key and base URL from the environment (the SDKs' variable names).
    pub fn from_env(kind: ProviderKind) -> Self {
        let (url_variable, default_url) = kind.base_url_variable();
        Self {
            kind,
            base_url: std::env::var(url_variable).unwrap_or_else(|_| default_url.to_string()),
            api_key: std::env::var(kind.key_variable()).ok().filter(|k| !k.is_empty()).map(ApiKey::new),
            timeout: Duration::from_secs(120),
            retry: RetryPolicy::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ModelRequest {
    pub model: String,
    pub system: Option<String>,
    /// Earlier exchanges (few-shot demos), sent before `prompt`.
    pub turns: Vec<Turn>,
    pub prompt: String,
    pub max_tokens: u32,
    pub temperature: Option<f64>,
    pub stream: bool,
}

/// One user message and the assistant's answer to it.
#[derive(Clone, Debug, PartialEq)]
pub struct Turn {
    pub user: String,
    pub assistant: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelResponse {
    pub text: String,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub latency: Duration,
    /// Attempts made, retries included.
    pub attempts: u32,
    /// Why the model stopped writing.
    pub stop: Stop,
}

/// Why the model stopped writing, in words the three APIs share.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Stop {
    /// It finished (or the API did not say: local servers often don't).
    #[default]
    Complete,
    /// It reached `max_tokens`: the answer is cut off.
    OutputLimit,
    /// Another reason, as the API names it (Gemini's `SAFETY` or
    /// `RECITATION`, OpenAI's `content_filter`, Anthropic's `refusal`).
    Other(String),
}

impl Stop {
    /// The stop named `reason` by an API whose words for a finished and a
    /// cut answer are `complete` and `limit`.
    pub(crate) fn read(reason: &str, complete: &[&str], limit: &str) -> Stop {
        if complete.contains(&reason) {
            Stop::Complete
        } else if reason == limit {
            Stop::OutputLimit
        } else {
            Stop::Other(reason.to_string())
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ProviderError {
    MissingKey(&'static str),
    Timeout(Duration),
    RateLimited { retry_after: Option<Duration>, message: String },
    Status { status: u16, message: String },
    Network(String),
    Malformed(String),
    Incomplete,
    Empty,
    TooLarge(usize),
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderError::MissingKey(variable) => write!(f, "no API key: set {variable} or configure one"),
            ProviderError::Timeout(limit) => write!(f, "no complete answer within {} s", limit.as_secs_f64()),
            ProviderError::RateLimited { message, .. } => write!(f, "rate limited (429): {message}"),
            ProviderError::Status { status, message } => write!(f, "HTTP {status}: {message}"),
            ProviderError::Network(message) => write!(f, "network error: {message}"),
            ProviderError::Malformed(message) => write!(f, "unreadable answer: {message}"),
            ProviderError::Incomplete => write!(f, "the answer stream ended before it was complete"),
            ProviderError::Empty => write!(f, "the model gave an empty answer"),
            ProviderError::TooLarge(limit) => write!(f, "the answer is larger than {} MiB", limit / (1024 * 1024)),
        }
    }
}

impl std::error::Error for ProviderError {}

impl ProviderError {
    /// The same error with keys taken out of the server's words.
    fn redacted(self) -> Self {
        match self {
            ProviderError::RateLimited { retry_after, message } => ProviderError::RateLimited { retry_after, message: redact::redact(&message) },
            ProviderError::Status { status, message } => ProviderError::Status { status, message: redact::redact(&message) },
            ProviderError::Network(message) => ProviderError::Network(redact::redact(&message)),
            ProviderError::Malformed(message) => ProviderError::Malformed(redact::redact(&message)),
            other => other,
        }
    }

    /// Worth another attempt: the same request may succeed later.
    pub fn is_retryable(&self) -> bool {
        match self {
            ProviderError::Timeout(_) | ProviderError::RateLimited { .. } | ProviderError::Network(_) | ProviderError::Incomplete => true,
            ProviderError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// Answers larger than this are refused rather than held in memory.
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// One line or event of a stream. Events carry a delta of a few tokens
/// (well under a kilobyte); a line this long is a broken or hostile server.
const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// The parts of a request each API shapes differently.
struct HttpRequest {
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Value,
}

pub struct Provider {
    http: reqwest::Client,
    config: ProviderConfig,
}

impl Provider {
    pub fn new(config: ProviderConfig) -> Self {
        let http = reqwest::Client::builder().connect_timeout(Duration::from_secs(10)).build().unwrap_or_default();
        Self { http, config }
    }

    pub fn kind(&self) -> ProviderKind {
        self.config.kind
    }

    /// Requests go to the provider's own API (not a local or proxy server):
    /// only then do its list prices apply.
    pub fn is_official_api(&self) -> bool {
        self.config.base_url.trim_end_matches('/') == self.config.kind.base_url_variable().1
    }

    /// Ask the model, retrying what is worth retrying. Dropping the future
    /// cancels the request in flight.
    pub async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        let key_needed = self.config.kind != ProviderKind::OpenAi;
        if key_needed && self.config.api_key.is_none() {
            return Err(ProviderError::MissingKey(self.config.kind.key_variable()));
        }
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = match tokio::time::timeout(self.config.timeout, self.attempt(request)).await {
                Ok(outcome) => outcome,
                Err(_) => Err(ProviderError::Timeout(self.config.timeout)),
            };
            // Here, before anything is logged, stored or shown.
            match outcome.map_err(ProviderError::redacted) {
                Ok(mut response) => {
                    response.text = redact::without_keys(&response.text);
                    response.latency = started.elapsed();
                    response.attempts = attempt;
                    return Ok(response);
                }
                Err(error) if error.is_retryable() && attempt <= self.config.retry.max_retries => {
                    let provider = self.config.kind.name();
                    tracing::debug!(provider, attempt, %error, "retrying");
                    tokio::time::sleep(self.delay(attempt, &error)).await;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Exponential backoff with jitter, or what the server asked for.
    fn delay(&self, attempt: u32, error: &ProviderError) -> Duration {
        if let ProviderError::RateLimited { retry_after: Some(wait), .. } = error {
            return (*wait).min(self.config.retry.max_delay);
        }
        let exponential = self.config.retry.base_delay.saturating_mul(1 << (attempt - 1).min(16));
        let capped = exponential.min(self.config.retry.max_delay);
        capped.mul_f64(rand::random_range(0.5..=1.0))
    }

    async fn attempt(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        let started = Instant::now();
        let key = self.config.api_key.as_ref().map(ApiKey::expose);
        let base = self.config.base_url.trim_end_matches('/');
        let http_request = match self.config.kind {
            ProviderKind::Anthropic => anthropic::request(base, key, request),
            ProviderKind::Gemini => gemini::request(base, key, request),
            ProviderKind::OpenAi => openai::request(base, key, request),
        };
        let mut builder = self.http.post(&http_request.url).json(&http_request.body);
        for (name, value) in &http_request.headers {
            builder = builder.header(*name, value);
        }
        let response = builder.send().await.map_err(|e| ProviderError::Network(without_url(&e)))?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after::parse(v, SystemTime::now(), self.config.retry.max_delay));
            let body = read_limited(response, 64 * 1024).await.unwrap_or_default();
            let message = error_message(&body);
            return Err(if status.as_u16() == 429 {
                ProviderError::RateLimited { retry_after, message }
            } else {
                ProviderError::Status { status: status.as_u16(), message }
            });
        }
        let answer = if request.stream {
            let mut stream = response.bytes_stream();
            let mut parser = sse::SseParser::new(MAX_EVENT_BYTES);
            let mut state = StreamState::default();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|_| ProviderError::Incomplete)?;
                // The caller's timeout should end us; this holds even if a
                // fast stream never lets it be polled.
                if started.elapsed() >= self.config.timeout {
                    return Err(ProviderError::Timeout(self.config.timeout));
                }
                for event in parser.push(&chunk)? {
                    match self.config.kind {
                        ProviderKind::Anthropic => anthropic::stream_event(&event, &mut state)?,
                        ProviderKind::Gemini => gemini::stream_event(&event, &mut state)?,
                        ProviderKind::OpenAi => openai::stream_event(&event, &mut state)?,
                    }
                    if state.response.text.len() > MAX_ANSWER_BYTES {
                        return Err(ProviderError::TooLarge(MAX_ANSWER_BYTES));
                    }
                }
            }
            if !state.finished {
                return Err(ProviderError::Incomplete);
            }
            state.response
        } else {
            let body = read_limited(response, MAX_ANSWER_BYTES).await?;
            let json: Value = serde_json::from_str(&body).map_err(|e| ProviderError::Malformed(format!("not JSON ({e})")))?;
            match self.config.kind {
                ProviderKind::Anthropic => anthropic::response(&json)?,
                ProviderKind::Gemini => gemini::response(&json)?,
                ProviderKind::OpenAi => openai::response(&json)?,
            }
        };
        if answer.text.trim().is_empty() {
            return Err(ProviderError::Empty);
        }
        Ok(answer)
    }
}

/// What a streamed answer has gathered so far.
#[derive(Default)]
pub(crate) struct StreamState {
    pub response: ModelResponse,
    pub finished: bool,
}

/// A reqwest error without its URL (which may carry a key as a parameter).
fn without_url(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    if let Some(url) = error.url() {
        message = message.replace(url.as_str(), "<url>");
    }
    message
}

async fn read_limited(response: reqwest::Response, limit: usize) -> Result<String, ProviderError> {
    let mut stream = response.bytes_stream();
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ProviderError::Incomplete)?;
        if body.len() + chunk.len() > limit {
            return Err(ProviderError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| ProviderError::Malformed("not UTF-8".to_string()))
}

/// The message of an API error body (`{"error": {"message": ...}}` in all
/// three APIs), else the start of the body.
fn error_message(body: &str) -> String {
    // JSON is read first: its escapes (`\/`, `\u0042`) could hide a key
    // from redaction. A JSON body is shown decoded (`Value` prints strings
    // unescaped but for quotes and control characters).
    let json = serde_json::from_str::<Value>(body).ok();
    let text = match &json {
        Some(json) => match json.pointer("/error/message").and_then(Value::as_str) {
            Some(message) => message.to_string(),
            None => decoded(json),
        },
        None => body.to_string(),
    };
    // Redacted before cutting: a key cut in two would no longer be recognised.
    let message: String = redact::redact(text.trim()).chars().take(200).collect();
    if message.is_empty() { "no details".to_string() } else { message }
}

/// A JSON value as text, its strings without escapes.
fn decoded(json: &Value) -> String {
    match json {
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(decoded).collect::<Vec<_>>().join(", "),
        Value::Object(fields) => fields.iter().map(|(key, value)| format!("{key}: {}", decoded(value))).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_is_read_decoded_so_escapes_hide_no_key() {
        redact::remember("Q2xhdWRl/a2V5+dGVzdA9x");
        let message = error_message(r#"{"detail": "invalid api key Q2xhdWRl\/a2V5+dGVzdA9x"}"#);
        assert_eq!(message, "detail: invalid api key [redacted]");
    }
}
