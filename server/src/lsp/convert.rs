//! Conversions between protocol types and the core's plain data.

use ropey::Rope;
use tower_lsp_server::ls_types::{
    self as lsp, DiagnosticSeverity, NumberOrString, PositionEncodingKind,
};

use crate::document::{position_at, PositionEncoding, TextChange, TextPosition};
use crate::finding::{Edit, Finding, Severity};

/// UTF-8 when the client offers it (our offsets are bytes, so nothing to
/// count), then UTF-32, else the protocol's mandatory default, UTF-16.
pub fn negotiate_encoding(offered: Option<&[PositionEncodingKind]>) -> PositionEncoding {
    let offered = offered.unwrap_or_default();
    if offered.contains(&PositionEncodingKind::UTF8) {
        PositionEncoding::Utf8
    } else if offered.contains(&PositionEncodingKind::UTF32) {
        PositionEncoding::Utf32
    } else {
        PositionEncoding::Utf16
    }
}

pub fn encoding_kind(encoding: PositionEncoding) -> PositionEncodingKind {
    match encoding {
        PositionEncoding::Utf8 => PositionEncodingKind::UTF8,
        PositionEncoding::Utf16 => PositionEncodingKind::UTF16,
        PositionEncoding::Utf32 => PositionEncodingKind::UTF32,
    }
}

pub fn text_position(position: lsp::Position) -> TextPosition {
    TextPosition::new(position.line, position.character)
}

pub fn lsp_position(position: TextPosition) -> lsp::Position {
    lsp::Position::new(position.line, position.character)
}

pub fn text_change(change: lsp::TextDocumentContentChangeEvent) -> TextChange {
    TextChange {
        range: change.range.map(|r| (text_position(r.start), text_position(r.end))),
        text: change.text,
    }
}

pub fn offset_range(text: &Rope, range: lsp::Range, encoding: PositionEncoding) -> std::ops::Range<usize> {
    let start = crate::document::byte_offset(text, text_position(range.start), encoding);
    let end = crate::document::byte_offset(text, text_position(range.end), encoding);
    start..end.max(start)
}

pub fn lsp_range(text: &Rope, range: &std::ops::Range<usize>, encoding: PositionEncoding) -> lsp::Range {
    lsp::Range::new(
        lsp_position(position_at(text, range.start, encoding)),
        lsp_position(position_at(text, range.end, encoding)),
    )
}

pub fn diagnostic(text: &Rope, finding: &Finding, encoding: PositionEncoding) -> lsp::Diagnostic {
    lsp::Diagnostic {
        range: lsp_range(text, &finding.range, encoding),
        severity: Some(severity(finding.severity)),
        code: Some(NumberOrString::String(finding.code.to_string())),
        code_description: rule_docs(finding.code),
        source: Some("elexirion".to_string()),
        message: finding.message.clone(),
        data: Some(serde_json::json!({ "name": finding.name })),
        ..Default::default()
    }
}

/// Where a rule's documentation is: `ELEXIRION_DOCS_URL` (a base such as
/// a web copy of docs/rules.md) or the docs/rules.md of this build's sources.
fn rule_docs(code: &str) -> Option<lsp::CodeDescription> {
    let rule = crate::elixir::rules::find(code)?;
    let base = std::env::var("ELEXIRION_DOCS_URL")
        .unwrap_or_else(|_| format!("file://{}/../docs/rules.md", env!("CARGO_MANIFEST_DIR")));
    let href = format!("{base}#{}", crate::cli::anchor(rule)).parse().ok()?;
    Some(lsp::CodeDescription { href })
}

/// `edits` (byte ranges in `text`) as protocol text edits.
pub fn text_edits(text: &Rope, edits: &[Edit], encoding: PositionEncoding) -> Vec<lsp::TextEdit> {
    edits
        .iter()
        .map(|edit| lsp::TextEdit { range: lsp_range(text, &edit.range, encoding), new_text: edit.new_text.clone() })
        .collect()
}

fn severity(severity: Severity) -> DiagnosticSeverity {
    match severity {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Information => DiagnosticSeverity::INFORMATION,
        Severity::Hint => DiagnosticSeverity::HINT,
    }
}
