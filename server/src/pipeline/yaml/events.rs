//! YAML read by a full parser (saphyr), event by event, without recursion.
//!
//! Used for the nesting check every document gets, and to read documents
//! that tree-sitter-yaml cannot hold (see `fits_tree_sitter`). It stops at
//! the first syntax error, so it is not the parser for half-typed files.

use std::collections::HashMap;
use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use super::{Aliases, Entry, Scalar, ScalarKind, YamlDocument, YamlNode, YamlValue, MAX_DEPTH};

/// Where the document first nests collections deeper than `MAX_DEPTH`.
pub fn too_deep(source: &str) -> Option<(Range<usize>, String)> {
    let offsets = Offsets::new(source);
    let refusal = |char_index: usize| {
        let at = offsets.byte(char_index);
        Some((at..at, format!("YAML nested deeper than {MAX_DEPTH} levels: a pipeline never needs this, and it is not read")))
    };
    let mut depth = 0usize;
    for event in Parser::new_from_str(source) {
        let (event, span) = match event {
            Ok(event) => event,
            // saphyr's own limit (255 flow levels) can stop it before an event says so.
            Err(error) if error.info().contains("recursion limit") => return refusal(error.marker().index()),
            Err(_) => return None,
        };
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return refusal(span.start.index());
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// The first document's value and the first syntax error, if any.
pub fn parse(source: &str) -> YamlDocument {
    let offsets = Offsets::new(source);
    let mut builder = Builder { source, offsets: &offsets, stack: Vec::new(), anchors: HashMap::new(), aliases: Aliases::default(), root: None };
    let mut errors = Vec::new();
    for event in Parser::new_from_str(source) {
        match event {
            Ok((Event::DocumentEnd | Event::StreamEnd, _)) if builder.stack.is_empty() && builder.root.is_some() => break,
            Ok((event, span)) => builder.event(event, span),
            Err(error) => {
                let at = offsets.byte(error.marker().index());
                let line_end = source[at..].find('\n').map_or(source.len(), |i| at + i);
                errors.push((at..line_end, format!("YAML syntax error: {}", error.info())));
                break;
            }
        }
    }
    errors.extend(builder.aliases.errors);
    YamlDocument { root: builder.root, errors }
}

/// Byte offsets of the parser's character indices.
struct Offsets {
    /// Empty for ASCII text, where they are the same.
    bytes: Vec<usize>,
    len: usize,
}

impl Offsets {
    fn new(source: &str) -> Self {
        let bytes = if source.is_ascii() { Vec::new() } else { source.char_indices().map(|(b, _)| b).collect() };
        Self { bytes, len: source.len() }
    }

    fn byte(&self, char_index: usize) -> usize {
        if self.bytes.is_empty() {
            char_index.min(self.len)
        } else {
            self.bytes.get(char_index).copied().unwrap_or(self.len)
        }
    }
}

enum Frame {
    Map { start: usize, anchor: usize, entries: Vec<Entry>, key: Option<(String, Range<usize>)> },
    Seq { start: usize, anchor: usize, items: Vec<YamlNode> },
}

struct Builder<'a> {
    source: &'a str,
    offsets: &'a Offsets,
    stack: Vec<Frame>,
    anchors: HashMap<usize, YamlNode>,
    aliases: Aliases,
    root: Option<YamlNode>,
}

impl Builder<'_> {
    fn event(&mut self, event: Event, span: Span) {
        let start = self.offsets.byte(span.start.index());
        let range = start..self.offsets.byte(span.end.index()).max(start);
        match event {
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map { start: range.start, anchor, entries: Vec::new(), key: None }),
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq { start: range.start, anchor, items: Vec::new() }),
            Event::MappingEnd | Event::SequenceEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Map { start, anchor, entries, .. }) => {
                        let end = self.end_of(start, entries.last().map(|e| e.value.range.end), &range);
                        (YamlNode { range: start..end, value: YamlValue::Map(entries) }, anchor)
                    }
                    Some(Frame::Seq { start, anchor, items }) => {
                        let end = self.end_of(start, items.last().map(|i| i.range.end), &range);
                        (YamlNode { range: start..end, value: YamlValue::Seq(items) }, anchor)
                    }
                    None => return,
                };
                self.finish(node, anchor);
            }
            Event::Scalar(text, style, anchor, _) => {
                let node = YamlNode { range, value: scalar(&text, style) };
                self.finish(node, anchor);
            }
            Event::Alias(id) => {
                let node = match self.anchors.get(&id) {
                    Some(target) => self.aliases.expand(target, range),
                    None => {
                        let name = self.source.get(range.clone()).unwrap_or_default().trim_start_matches('*').to_string();
                        self.aliases.unknown(&name, range)
                    }
                };
                self.finish(node, 0);
            }
            _ => {}
        }
    }

    /// A collection ends at its closing bracket (flow) or its last value (block).
    fn end_of(&self, start: usize, last_child: Option<usize>, end_event: &Range<usize>) -> usize {
        let closer = self.source.get(end_event.clone()).unwrap_or_default().trim_end();
        if closer.ends_with(']') || closer.ends_with('}') {
            end_event.start + closer.len()
        } else {
            last_child.unwrap_or(start).max(start)
        }
    }

    fn finish(&mut self, node: YamlNode, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                Some((key, key_range)) => entries.push(Entry { key, key_range, value: node }),
                None => {
                    let text = match &node.value {
                        YamlValue::Scalar(scalar) => scalar.text.clone(),
                        _ => self.source[node.range.clone()].to_string(),
                    };
                    *key = Some((text, node.range));
                }
            },
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
        }
    }
}

/// A scalar as the YAML 1.2 core schema resolves it: only plain scalars
/// can be null, booleans or numbers.
fn scalar(text: &str, style: ScalarStyle) -> YamlValue {
    let kind = if style != ScalarStyle::Plain {
        ScalarKind::String
    } else if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return YamlValue::Null;
    } else if matches!(text, "true" | "True" | "TRUE" | "false" | "False" | "FALSE") {
        ScalarKind::Boolean
    } else if is_integer(text) {
        ScalarKind::Integer
    } else if is_float(text) {
        ScalarKind::Float
    } else {
        ScalarKind::String
    };
    YamlValue::Scalar(Scalar { text: text.to_string(), kind })
}

fn is_integer(text: &str) -> bool {
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    if let Some(octal) = text.strip_prefix("0o") {
        return digits(octal, 8);
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return digits(hex, 16);
    }
    digits(text.strip_prefix(['-', '+']).unwrap_or(text), 10)
}

fn is_float(text: &str) -> bool {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (unsigned, None),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let has_digits = whole.chars().chain(fraction.chars()).any(|c| c.is_ascii_digit());
    let all_digits = whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit());
    has_digits && all_digits && exponent_ok && (mantissa.contains('.') || exponent.is_some())
}
