//! Keys out of what leaves the provider layer. A server may echo our
//! request (headers included) in an error body, and that text goes on to
//! stderr, the log and the store. Two nets: the exact keys this process
//! was given, and the shapes keys commonly have, for keys we do not hold
//! (a proxy's, another tool's).

use std::sync::RwLock;

pub const REDACTED: &str = "[redacted]";

/// Shorter keys are not remembered: replacing "abc" everywhere would
/// garble messages, and such keys are test or local-server placeholders.
const MIN_REMEMBERED_CHARS: usize = 8;

/// Every key handed to an `ApiKey` in this process. Process-wide because a
/// secret is a secret wherever its text turns up.
static KEYS: RwLock<Vec<String>> = RwLock::new(Vec::new());

pub(super) fn remember(key: &str) {
    let key = key.trim();
    if key.chars().count() < MIN_REMEMBERED_CHARS {
        return;
    }
    // A poisoned lock still holds a usable list; never panic over it.
    let mut keys = KEYS.write().unwrap_or_else(|poisoned| poisoned.into_inner());
    if !keys.iter().any(|known| known == key) {
        keys.push(key.to_string());
        // Longest first, so a key that contains another is replaced whole.
        keys.sort_by_key(|known| std::cmp::Reverse(known.len()));
    }
}

/// `text` without any remembered key. For answers: the user asked for
/// them, and shapes would garble code that shows a made-up token.
pub fn without_keys(text: &str) -> String {
    let keys = KEYS.read().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut text = text.to_string();
    for key in keys.iter() {
        if text.contains(key.as_str()) {
            text = text.replace(key.as_str(), REDACTED);
        }
    }
    text
}

/// `text` without remembered keys or anything shaped like a key. For
/// error messages, which are the server's words, not the user's.
pub fn redact(text: &str) -> String {
    without_shapes(&without_keys(text))
}

/// Anthropic `sk-ant-…`, OpenAI `sk-…` and `sk-proj-…`, Google `AIza…`
/// (39 characters), and the token of `Bearer <token>`.
fn without_shapes(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut redacted = String::with_capacity(text.len());
    let (mut copied, mut at) = (0, 0);
    while at < bytes.len() {
        match secret_at(bytes, at) {
            Some((start, end)) => {
                // All the secret shapes are ASCII, so these are char boundaries.
                redacted.push_str(&text[copied..start]);
                redacted.push_str(REDACTED);
                (copied, at) = (end, end);
            }
            None => at += 1,
        }
    }
    redacted.push_str(&text[copied..]);
    redacted
}

/// The span of a key-shaped secret starting at `at` (for `Bearer`, the
/// token after it).
fn secret_at(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    if at > 0 && is_key_byte(bytes[at - 1]) {
        return None;
    }
    let rest = &bytes[at..];
    let token = |prefix: usize, minimum: usize, allowed: fn(u8) -> bool| {
        let length = run(&rest[prefix..], allowed);
        (length >= minimum).then_some((at + prefix, at + prefix + length))
    };
    if rest.starts_with(b"sk-") {
        return token(3, 20, is_key_byte).map(|(_, end)| (at, end));
    }
    if rest.starts_with(b"AIza") {
        return token(4, 35, is_key_byte).map(|(_, end)| (at, end));
    }
    if rest.len() > 6 && rest[..6].eq_ignore_ascii_case(b"bearer") {
        let spaces = run(&rest[6..], |b| b == b' ' || b == b'\t');
        // "Bearer realm" or "Bearer invalid" is prose, not a token.
        return if spaces > 0 { token(6 + spaces, 8, is_token68_byte) } else { None };
    }
    None
}

fn run(bytes: &[u8], allowed: fn(u8) -> bool) -> usize {
    bytes.iter().take_while(|&&b| allowed(b)).count()
}

fn is_key_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

/// RFC 9110's `token68`, what a bearer token is made of.
fn is_token68_byte(byte: u8) -> bool {
    is_key_byte(byte) || matches!(byte, b'.' | b'~' | b'+' | b'/' | b'=')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_shapes_are_redacted() {
        let anthropic = format!("sk-ant-api03-{}-{}AA", "a".repeat(86), "b".repeat(6));
        let openai = format!("sk-proj-{}", "Zz9_".repeat(40));
        let legacy = format!("sk-{}", "A1b2".repeat(12));
        let google = format!("AIza{}", "Sy-_9".repeat(7));
        let cases: Vec<(String, String)> = vec![
            (format!("x-api-key: {anthropic}"), "x-api-key: [redacted]".into()),
            (format!("{{\"authorization\":\"Bearer {openai}\"}}"), "{\"authorization\":\"Bearer [redacted]\"}".into()),
            (format!("key {legacy}, again {legacy}."), "key [redacted], again [redacted].".into()),
            (format!("GET /v1beta/models?key={google}&alt=sse"), "GET /v1beta/models?key=[redacted]&alt=sse".into()),
            ("authorization: bearer eyJhbGciOi.J9eyJzdWIi.OiIxMjM0=".into(), "authorization: bearer [redacted]".into()),
        ];
        for (text, expected) in cases {
            assert_eq!(redact(&text), expected, "{text}");
        }
    }

    #[test]
    fn text_that_only_looks_close_is_kept() {
        for text in [
            "sk-short",
            "task-0123456789abcdefghijklmnop",
            "AIzaTooShort",
            "WWW-Authenticate: Bearer realm=\"api\"",
            "Bearer invalid",
            "héllo wörld — no secrets here",
        ] {
            assert_eq!(redact(text), text);
        }
    }

    #[test]
    fn remembered_keys_are_redacted_whatever_their_shape() {
        remember("plain-key-of-a-proxy-42");
        remember("short");
        let text = "echo: plain-key-of-a-proxy-42 and short";
        assert_eq!(without_keys(text), "echo: [redacted] and short");
        assert_eq!(redact(text), "echo: [redacted] and short");
    }
}
