//! Conversions between protocol types and the core's plain data.

use ropey::Rope;
use tower_lsp_server::ls_types::{
    self as lsp, DiagnosticSeverity, NumberOrString, PositionEncodingKind,
};

use crate::document::{position_at, PositionEncoding, TextChange, TextPosition};
use crate::finding::{Finding, Severity};

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
        source: Some("elexirion".to_string()),
        message: finding.message.clone(),
        data: Some(serde_json::json!({ "name": finding.name })),
        ..Default::default()
    }
}

fn severity(severity: Severity) -> DiagnosticSeverity {
    match severity {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Information => DiagnosticSeverity::INFORMATION,
        Severity::Hint => DiagnosticSeverity::HINT,
    }
}
