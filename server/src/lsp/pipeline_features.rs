//! Completion, hover, navigation and outline for pipeline files: protocol
//! conversion around the pure functions of `crate::pipeline`.

use std::collections::HashMap;

use ropey::Rope;
use tower_lsp_server::ls_types::{
    self as lsp, CompletionItemKind, CompletionResponse, DocumentSymbol, DocumentSymbolResponse, Documentation,
    GotoDefinitionResponse, Hover, HoverContents, InsertTextFormat, Location, MarkupContent, MarkupKind,
    PrepareRenameResponse, SymbolKind, TextEdit, Uri, WorkspaceEdit,
};

use super::convert;
use super::state::State;
use crate::document::{DocumentKind, PositionEncoding};
use crate::pipeline::complete::{self, CompletionKind};
use crate::pipeline::{hover, navigate};

/// The text of a pipeline document, and the byte offset of `position` in it.
fn pipeline_at(state: &State, uri: &Uri, position: lsp::Position) -> Option<(Rope, String, usize, PositionEncoding)> {
    let documents = state.documents();
    let document = documents.get(uri).filter(|d| d.kind() == DocumentKind::Pipeline)?;
    let text = document.text().clone();
    let encoding = state.encoding();
    let offset = crate::document::byte_offset(&text, convert::text_position(position), encoding);
    let source = text.to_string();
    Some((text, source, offset, encoding))
}

pub fn completion(state: &State, uri: &Uri, position: lsp::Position) -> Option<CompletionResponse> {
    let (rope, source, offset, encoding) = pipeline_at(state, uri, position)?;
    let root = state.root();
    let items = complete::complete(&source, offset, root.as_deref());
    let items = items
        .into_iter()
        .map(|item| lsp::CompletionItem {
            label: item.label,
            kind: Some(match item.kind {
                CompletionKind::Key => CompletionItemKind::PROPERTY,
                CompletionKind::Value => CompletionItemKind::ENUM_MEMBER,
                CompletionKind::StepName => CompletionItemKind::REFERENCE,
                CompletionKind::File => CompletionItemKind::FILE,
                CompletionKind::Variable => CompletionItemKind::VARIABLE,
            }),
            detail: item.detail,
            documentation: (!item.documentation.is_empty()).then(|| {
                Documentation::MarkupContent(MarkupContent { kind: MarkupKind::Markdown, value: item.documentation })
            }),
            insert_text_format: Some(if item.snippet { InsertTextFormat::SNIPPET } else { InsertTextFormat::PLAIN_TEXT }),
            text_edit: Some(lsp::CompletionTextEdit::Edit(TextEdit {
                range: convert::lsp_range(&rope, &item.replace, encoding),
                new_text: item.insert,
            })),
            ..Default::default()
        })
        .collect();
    Some(CompletionResponse::Array(items))
}

pub fn hover(state: &State, uri: &Uri, position: lsp::Position) -> Option<Hover> {
    let (_, source, offset, _) = pipeline_at(state, uri, position)?;
    let docs = hover::hover(&source, offset);
    let store = super::prompt_store::hover_section(state, &source, offset);
    let text = match (docs, store) {
        (Some(docs), Some(store)) => format!("{docs}\n\n{store}"),
        (docs, store) => docs.or(store)?,
    };
    Some(Hover { contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: text }), range: None })
}

pub fn definition(state: &State, uri: &Uri, position: lsp::Position) -> Option<GotoDefinitionResponse> {
    let (rope, source, offset, encoding) = pipeline_at(state, uri, position)?;
    let range = navigate::definition(&source, offset)?;
    Some(GotoDefinitionResponse::Scalar(Location { uri: uri.clone(), range: convert::lsp_range(&rope, &range, encoding) }))
}

pub fn references(state: &State, uri: &Uri, position: lsp::Position, include_declaration: bool) -> Option<Vec<Location>> {
    let (rope, source, offset, encoding) = pipeline_at(state, uri, position)?;
    let found = navigate::references(&source, offset, include_declaration);
    Some(found.iter().map(|r| Location { uri: uri.clone(), range: convert::lsp_range(&rope, r, encoding) }).collect())
}

pub fn prepare_rename(state: &State, uri: &Uri, position: lsp::Position) -> Option<PrepareRenameResponse> {
    let (rope, source, offset, encoding) = pipeline_at(state, uri, position)?;
    let range = navigate::prepare_rename(&source, offset)?;
    Some(PrepareRenameResponse::Range(convert::lsp_range(&rope, &range, encoding)))
}

pub fn rename(state: &State, uri: &Uri, position: lsp::Position, new_name: &str) -> Result<Option<WorkspaceEdit>, String> {
    let Some((rope, source, offset, encoding)) = pipeline_at(state, uri, position) else { return Ok(None) };
    let edits = navigate::rename(&source, offset, new_name)?;
    let edits = edits
        .into_iter()
        .map(|(range, new_text)| TextEdit { range: convert::lsp_range(&rope, &range, encoding), new_text })
        .collect();
    Ok(Some(WorkspaceEdit { changes: Some(HashMap::from([(uri.clone(), edits)])), ..Default::default() }))
}

pub fn document_symbols(state: &State, uri: &Uri) -> Option<DocumentSymbolResponse> {
    let (rope, source, _, encoding) = pipeline_at(state, uri, lsp::Position::default())?;
    #[allow(deprecated)] // `deprecated` is a required field of the type
    fn convert_symbol(symbol: navigate::Symbol, rope: &Rope, encoding: PositionEncoding, kind: SymbolKind) -> DocumentSymbol {
        DocumentSymbol {
            name: symbol.name,
            detail: symbol.detail,
            kind,
            tags: None,
            deprecated: None,
            range: convert::lsp_range(rope, &symbol.range, encoding),
            selection_range: convert::lsp_range(rope, &symbol.selection, encoding),
            children: Some(symbol.children.into_iter().map(|c| convert_symbol(c, rope, encoding, SymbolKind::FUNCTION)).collect()),
        }
    }
    let symbols = navigate::symbols(&source).into_iter().map(|s| convert_symbol(s, &rope, encoding, SymbolKind::MODULE)).collect();
    Some(DocumentSymbolResponse::Nested(symbols))
}
