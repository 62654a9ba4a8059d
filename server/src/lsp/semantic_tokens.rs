//! `textDocument/semanticTokens/full` and `/full/delta`: the highlights of
//! `elixir::highlight` in the protocol's relative encoding.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use tower_lsp_server::ls_types::{
    SemanticToken, SemanticTokenModifier, SemanticTokenType, SemanticTokens, SemanticTokensDelta, SemanticTokensEdit,
    SemanticTokensFullDeltaResult, SemanticTokensFullOptions, SemanticTokensLegend, SemanticTokensOptions,
    SemanticTokensServerCapabilities, Uri,
};

use super::panic_guard::guard_sync;
use super::state::State;
use crate::document::{DocumentKind, PositionEncoding};
use crate::elixir::highlight::{highlights, Highlight, TokenModifiers, TokenType};

/// The legend: [`TokenType::ALL`] and [`TokenModifiers::NAMES`], in order.
pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: TokenType::ALL.iter().map(|t| SemanticTokenType::new(t.name())).collect(),
        token_modifiers: TokenModifiers::NAMES.iter().map(|&m| SemanticTokenModifier::new(m)).collect(),
    }
}

pub fn capability() -> SemanticTokensServerCapabilities {
    SemanticTokensServerCapabilities::SemanticTokensOptions(SemanticTokensOptions {
        legend: legend(),
        full: Some(SemanticTokensFullOptions::Delta { delta: Some(true) }),
        range: None,
        work_done_progress_options: Default::default(),
    })
}

/// The last result sent per document, to answer `/full/delta` against it.
#[derive(Default)]
pub(crate) struct Results {
    last: Mutex<HashMap<Uri, (String, Vec<SemanticToken>)>>,
    next_id: AtomicU64,
    /// The client takes tokens that span lines (`multilineTokenSupport`).
    pub(crate) multiline: AtomicBool,
}

impl Results {
    fn remember(&self, uri: &Uri, tokens: &[SemanticToken]) -> String {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed).to_string();
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        last.insert(uri.clone(), (id.clone(), tokens.to_vec()));
        id
    }

    fn previous(&self, uri: &Uri, result_id: &str) -> Option<Vec<SemanticToken>> {
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        last.get(uri).filter(|(id, _)| id == result_id).map(|(_, tokens)| tokens.clone())
    }

    pub(crate) fn forget(&self, uri: &Uri) {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).remove(uri);
    }
}

/// All tokens of the document (`None`: not an open Elixir document).
pub(crate) async fn full(state: &State, results: &Results, uri: &Uri) -> Option<SemanticTokens> {
    let data = tokens(state, results, uri).await?;
    let result_id = results.remember(uri, &data);
    Some(SemanticTokens { result_id: Some(result_id), data })
}

/// The edits from the result `previous` to the current tokens; all of
/// them when `previous` is not the last result sent.
pub(crate) async fn full_delta(state: &State, results: &Results, uri: &Uri, previous: &str) -> Option<SemanticTokensFullDeltaResult> {
    let data = tokens(state, results, uri).await?;
    let before = results.previous(uri, previous);
    let result_id = Some(results.remember(uri, &data));
    Some(match before {
        Some(before) => SemanticTokensFullDeltaResult::TokensDelta(SemanticTokensDelta { result_id, edits: diff(&before, &data) }),
        None => SemanticTokensFullDeltaResult::Tokens(SemanticTokens { result_id, data }),
    })
}

/// Parse (off the async threads) and encode the current version of `uri`.
async fn tokens(state: &State, results: &Results, uri: &Uri) -> Option<Vec<SemanticToken>> {
    let mut snapshot = state.documents().get(uri).filter(|d| d.kind() == DocumentKind::Elixir)?.snapshot();
    let encoding = state.encoding();
    let multiline = results.multiline.load(Ordering::Relaxed);
    let (snapshot, data) = tokio::task::spawn_blocking(move || {
        guard_sync("semantic tokens", || {
            let tree = snapshot.parse()?.clone();
            let source = snapshot.text.to_string();
            let data = encode(&source, &highlights(&source, &tree), encoding, multiline);
            Some((snapshot, data))
        })
        .flatten()
    })
    .await
    .ok()??;
    state.keep_tree(uri, &snapshot);
    Some(data)
}

/// `highlights` of `source` in the relative encoding, with positions and
/// lengths counted in `encoding`. Unless the client takes `multiline`
/// tokens, a token spanning lines is sent as one token per line.
pub fn encode(source: &str, highlights: &[Highlight], encoding: PositionEncoding, multiline: bool) -> Vec<SemanticToken> {
    let mut out = Encoder { tokens: Vec::with_capacity(highlights.len()), line: 0, start: 0 };
    let mut at = Cursor { source, byte: 0, line: 0, column: 0, encoding };
    for highlight in highlights {
        at.advance_to(highlight.range.start);
        let (token_type, modifiers) = (highlight.token.index(), highlight.modifiers.bits());
        if multiline {
            let (line, column) = (at.line, at.column);
            let length = units(&source[highlight.range.clone()], encoding);
            at.advance_to(highlight.range.end);
            out.push(line, column, length, token_type, modifiers);
            continue;
        }
        // One piece per line, line terminators left out.
        let mut piece = (at.line, at.column);
        for (offset, ch) in source[highlight.range.clone()].char_indices() {
            let line_before = at.line;
            let column_before = at.column;
            at.advance_to(highlight.range.start + offset + ch.len_utf8());
            if at.line != line_before {
                out.push(piece.0, piece.1, column_before - piece.1, token_type, modifiers);
                piece = (at.line, at.column);
            }
        }
        out.push(piece.0, piece.1, at.column - piece.1, token_type, modifiers);
    }
    out.tokens
}

/// Tokens being written relative to the one before.
struct Encoder {
    tokens: Vec<SemanticToken>,
    line: u32,
    start: u32,
}

impl Encoder {
    fn push(&mut self, line: u32, start: u32, length: u32, token_type: u32, token_modifiers_bitset: u32) {
        if length == 0 {
            return;
        }
        let delta_start = if line == self.line { start - self.start } else { start };
        self.tokens.push(SemanticToken { delta_line: line - self.line, delta_start, length, token_type, token_modifiers_bitset });
        (self.line, self.start) = (line, start);
    }
}

/// A position in the text, moved forwards only: one pass for all tokens.
struct Cursor<'s> {
    source: &'s str,
    byte: usize,
    line: u32,
    /// In `encoding`'s units.
    column: u32,
    encoding: PositionEncoding,
}

impl Cursor<'_> {
    /// Lines end at `\n`, `\r\n` or `\r`, as the protocol and the documents count them.
    fn advance_to(&mut self, byte: usize) {
        let passed = &self.source[self.byte..byte];
        for (offset, ch) in passed.char_indices() {
            match ch {
                '\n' => (self.line, self.column) = (self.line + 1, 0),
                // `\r\n` ends its line at the `\n`; a lone `\r` ends it here.
                '\r' if self.source.as_bytes().get(self.byte + offset + 1) == Some(&b'\n') => {}
                '\r' => (self.line, self.column) = (self.line + 1, 0),
                _ => self.column += char_units(ch, self.encoding),
            }
        }
        self.byte = byte;
    }
}

fn char_units(ch: char, encoding: PositionEncoding) -> u32 {
    match encoding {
        PositionEncoding::Utf8 => ch.len_utf8() as u32,
        PositionEncoding::Utf16 => ch.len_utf16() as u32,
        PositionEncoding::Utf32 => 1,
    }
}

fn units(text: &str, encoding: PositionEncoding) -> u32 {
    match encoding {
        PositionEncoding::Utf8 => text.len() as u32,
        PositionEncoding::Utf16 => text.encode_utf16().count() as u32,
        PositionEncoding::Utf32 => text.chars().count() as u32,
    }
}

/// The edit from `before` to `after`: what lies between their common
/// prefix and common suffix, in whole tokens (five numbers each).
pub fn diff(before: &[SemanticToken], after: &[SemanticToken]) -> Vec<SemanticTokensEdit> {
    let prefix = before.iter().zip(after).take_while(|(a, b)| a == b).count();
    let suffix = before[prefix..].iter().rev().zip(after[prefix..].iter().rev()).take_while(|(a, b)| a == b).count();
    let deleted = before.len() - prefix - suffix;
    let inserted = &after[prefix..after.len() - suffix];
    if deleted == 0 && inserted.is_empty() {
        return Vec::new();
    }
    vec![SemanticTokensEdit {
        start: 5 * prefix as u32,
        delete_count: 5 * deleted as u32,
        data: (!inserted.is_empty()).then(|| inserted.to_vec()),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn highlight(range: std::ops::Range<usize>, token: TokenType) -> Highlight {
        Highlight { range, token, modifiers: TokenModifiers::NONE }
    }

    /// (line, start, length) of each token, absolute.
    fn decoded(tokens: &[SemanticToken]) -> Vec<(u32, u32, u32)> {
        let (mut line, mut start) = (0, 0);
        tokens
            .iter()
            .map(|t| {
                line += t.delta_line;
                start = if t.delta_line == 0 { start + t.delta_start } else { t.delta_start };
                (line, start, t.length)
            })
            .collect()
    }

    #[test]
    fn a_token_spanning_lines_is_split_per_line_without_terminators() {
        let source = "x = \"\"\"\r\n  é😀\r\n\n  b\n\"\"\"\rz";
        let string = highlight(4..source.len() - 2, TokenType::String);
        let z = highlight(source.len() - 1..source.len(), TokenType::Variable);
        let tokens = encode(source, &[string.clone(), z.clone()], PositionEncoding::Utf16, false);
        assert_eq!(decoded(&tokens), [(0, 4, 3), (1, 0, 5), (3, 0, 3), (4, 0, 3), (5, 0, 1)]);
        let tokens = encode(source, &[string.clone(), z.clone()], PositionEncoding::Utf8, false);
        assert_eq!(decoded(&tokens), [(0, 4, 3), (1, 0, 8), (3, 0, 3), (4, 0, 3), (5, 0, 1)]);
        let tokens = encode(source, &[string, z], PositionEncoding::Utf32, true);
        assert_eq!(decoded(&tokens), [(0, 4, 19), (5, 0, 1)]);
    }

    #[test]
    fn broken_and_multi_byte_code_still_gives_ordered_tokens_inside_their_lines() {
        let source = "defmodule É do\r\n  def f(😀, x do\n    \"#{x\"\r  @doc ~S\"\"\"\n  ü\n  \"\"\"\nend end )";
        let tree = crate::elixir::parser::ElixirParser::new().parse_str(source, None);
        let lines: Vec<&str> = source.split(['\n', '\r']).filter(|l| !l.is_empty()).collect();
        for encoding in [PositionEncoding::Utf8, PositionEncoding::Utf16, PositionEncoding::Utf32] {
            let tokens = decoded(&encode(source, &highlights(source, &tree), encoding, false));
            assert!(!tokens.is_empty());
            for pair in tokens.windows(2) {
                assert!((pair[0].0, pair[0].1 + pair[0].2) <= (pair[1].0, pair[1].1), "{pair:?}");
            }
            let longest = lines.iter().map(|l| units(l, encoding)).max().unwrap();
            assert!(tokens.iter().all(|t| t.2 > 0 && t.1 + t.2 <= longest), "{tokens:?}");
        }
    }

    #[test]
    fn the_delta_replaces_what_lies_between_the_common_prefix_and_suffix() {
        let token = |delta_line, length| SemanticToken { delta_line, delta_start: 0, length, token_type: 0, token_modifiers_bitset: 0 };
        let before = [token(0, 1), token(1, 2), token(1, 3), token(1, 4)];
        let after = [token(0, 1), token(1, 2), token(2, 9), token(1, 3), token(1, 4)];
        let edits = diff(&before, &after);
        assert_eq!(edits, [SemanticTokensEdit { start: 10, delete_count: 0, data: Some(vec![token(2, 9)]) }]);
        assert_eq!(diff(&after, &before), [SemanticTokensEdit { start: 10, delete_count: 5, data: None }]);
        assert_eq!(diff(&before, &before), []);
    }
}
