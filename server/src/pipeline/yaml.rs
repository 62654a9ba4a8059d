//! YAML as the pipeline tools need it: values with exact byte ranges, read
//! from tree-sitter-yaml so that a half-typed file still yields everything
//! outside its broken part. Documents beyond tree-sitter-yaml's limits are
//! read by a full YAML parser instead (`events`).

mod events;

use std::collections::HashMap;
use std::ops::Range;

use tree_sitter::{Node, Parser};

#[derive(Clone, Debug, PartialEq)]
pub struct YamlNode {
    pub range: Range<usize>,
    pub value: YamlValue,
}

#[derive(Clone, Debug, PartialEq)]
pub enum YamlValue {
    Map(Vec<Entry>),
    Seq(Vec<YamlNode>),
    Scalar(Scalar),
    /// An empty value (`key:` with nothing after it) or `null`/`~`.
    Null,
    /// Something we do not model (a broken region, an unknown or
    /// too-large alias).
    Other,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_range: Range<usize>,
    pub value: YamlNode,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    /// The decoded text (quotes, escapes and block indentation removed).
    pub text: String,
    pub kind: ScalarKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarKind {
    String,
    Integer,
    Float,
    Boolean,
}

impl YamlNode {
    pub fn get(&self, key: &str) -> Option<&YamlNode> {
        self.entries().iter().find(|e| e.key == key).map(|e| &e.value)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries().iter().find(|e| e.key == key)
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            YamlValue::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[YamlNode] {
        match &self.value {
            YamlValue::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            YamlValue::Scalar(scalar) => Some(&scalar.text),
            _ => None,
        }
    }

    /// How many values this one holds, itself included.
    fn size(&self) -> usize {
        1 + match &self.value {
            YamlValue::Map(entries) => entries.iter().map(|e| e.value.size()).sum(),
            YamlValue::Seq(items) => items.iter().map(YamlNode::size).sum(),
            _ => 0,
        }
    }

    pub fn is_null(&self) -> bool {
        self.value == YamlValue::Null
    }

    /// The value as JSON: strings stay strings, numbers and booleans become
    /// JSON numbers and booleans.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.value {
            YamlValue::Map(entries) => Value::Object(entries.iter().map(|e| (e.key.clone(), e.value.to_json())).collect()),
            YamlValue::Seq(items) => Value::Array(items.iter().map(YamlNode::to_json).collect()),
            YamlValue::Scalar(Scalar { text, kind }) => match kind {
                ScalarKind::String => Value::String(text.clone()),
                ScalarKind::Boolean => Value::Bool(matches!(text.as_str(), "true" | "True" | "TRUE")),
                ScalarKind::Integer => text.replace('_', "").parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(text.clone())),
                ScalarKind::Float => text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number).unwrap_or_else(|| Value::String(text.clone())),
            },
            YamlValue::Null | YamlValue::Other => Value::Null,
        }
    }

    /// What the value is, for messages: "a string", "a list", ...
    pub fn describe(&self) -> &'static str {
        match &self.value {
            YamlValue::Map(_) => "a mapping",
            YamlValue::Seq(_) => "a list",
            YamlValue::Scalar(Scalar { kind: ScalarKind::String, .. }) => "a string",
            YamlValue::Scalar(Scalar { kind: ScalarKind::Integer, .. }) => "an integer",
            YamlValue::Scalar(Scalar { kind: ScalarKind::Float, .. }) => "a number",
            YamlValue::Scalar(Scalar { kind: ScalarKind::Boolean, .. }) => "a boolean",
            YamlValue::Null => "empty",
            YamlValue::Other => "an unsupported value",
        }
    }
}

/// A parsed YAML document: its first document's value, and syntax errors.
pub struct YamlDocument {
    pub root: Option<YamlNode>,
    pub errors: Vec<(Range<usize>, String)>,
}

/// Collections nested deeper than this are refused: pipelines use about
/// ten levels, and conversion must stay far from the stack's end.
pub const MAX_DEPTH: usize = 100;

/// Values an alias may add to a document in all: enough for any pipeline,
/// and a "billion laughs" document stops here.
const MAX_ALIAS_VALUES: usize = 100_000;

pub fn parse(source: &str) -> YamlDocument {
    if let Some(problem) = events::too_deep(source) {
        return YamlDocument { root: None, errors: vec![problem] };
    }
    if !fits_tree_sitter(source) {
        return events::parse(source);
    }
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_yaml::LANGUAGE.into())
        .expect("the bundled tree-sitter-yaml grammar matches the tree-sitter library");
    let mut tree = parser.parse(source, None).expect("parsing without a timeout always yields a tree");
    // A full YAML parser places an error better than tree-sitter does; it
    // is only asked when tree-sitter found one.
    let first_error = if tree.root_node().has_error() { first_error(source) } else { None };
    let mut errors = Vec::new();
    match &first_error {
        Some((range, message)) => errors.push((range.clone(), format!("YAML syntax error: {message}"))),
        None => collect_errors(tree.root_node(), source, &mut errors),
    }
    // tree-sitter's recovery can swallow a whole document in one ERROR
    // node. Blank out the lines a full YAML parser stops at (spaces keep
    // every offset) until the rest parses, and read the values from that.
    let mut text = source.to_string();
    let mut error = first_error;
    for _ in 0..MAX_REPAIRS {
        let Some((range, _)) = error.filter(|_| tree.root_node().has_error()) else { break };
        blank_line(&mut text, range.start);
        tree = parser.parse(&text, None).expect("parsing without a timeout always yields a tree");
        error = self::first_error(&text);
    }
    let mut converter = Converter { source: &text, anchors: HashMap::new(), aliases: Aliases::default() };
    let root = first_document_value(tree.root_node()).map(|n| converter.convert(n, 0));
    errors.extend(converter.aliases.errors);
    YamlDocument { root, errors }
}

/// Whether tree-sitter-yaml can read `source`: its scanner keeps rows and
/// columns in 16 bits and saves its indentation stack in 1 KiB, which
/// overflows (an assertion, or worse) past about 250 levels. A structure's
/// column bounds how many levels are open, so short columns are safe.
fn fits_tree_sitter(source: &str) -> bool {
    const MAX_ROWS: usize = 30_000;
    const MAX_COLUMNS: usize = 30_000;
    const MAX_STRUCTURE_COLUMN: usize = 200;
    let mut rows = 0;
    for line in source.split('\n') {
        rows += 1;
        if rows > MAX_ROWS || line.len() > MAX_COLUMNS {
            return false;
        }
        let mut column = line.len() - line.trim_start_matches([' ', '\t']).len();
        // `- - - x` opens a level at each dash.
        while let Some(rest) = line.get(column..).and_then(|r| r.strip_prefix(['-', '?', ':'])) {
            if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
                break;
            }
            column += 1 + (rest.len() - rest.trim_start_matches([' ', '\t']).len());
        }
        if column > MAX_STRUCTURE_COLUMN {
            return false;
        }
    }
    true
}

/// Expands aliases within `MAX_ALIAS_VALUES`, for both readers.
#[derive(Default)]
struct Aliases {
    expanded: usize,
    errors: Vec<(Range<usize>, String)>,
}

impl Aliases {
    /// A copy of the anchored `target` standing where the alias is.
    fn expand(&mut self, target: &YamlNode, at: Range<usize>) -> YamlNode {
        let size = target.size();
        if self.expanded + size > MAX_ALIAS_VALUES {
            let message = format!("YAML aliases expand to more than {MAX_ALIAS_VALUES} values: this one is not read");
            self.errors.push((at.clone(), message));
            return YamlNode { range: at, value: YamlValue::Other };
        }
        self.expanded += size;
        YamlNode { range: at, value: target.value.clone() }
    }

    /// An alias with no anchor before it: YAML loaders refuse the file.
    fn unknown(&mut self, name: &str, at: Range<usize>) -> YamlNode {
        self.errors.push((at.clone(), format!("YAML syntax error: the alias `*{name}` names no anchor defined before it")));
        YamlNode { range: at, value: YamlValue::Other }
    }
}

/// Lines blanked at most while recovering from syntax errors.
const MAX_REPAIRS: usize = 8;

/// Where a full YAML parser stops, and why: the rest of that line (or the
/// last non-blank line before it, when it stops at a blank line or the end).
fn first_error(text: &str) -> Option<(Range<usize>, String)> {
    let failure = saphyr_parser::Parser::new_from_str(text).find_map(|event| event.err())?;
    let at = text.char_indices().nth(failure.marker().index()).map_or(text.len(), |(byte, _)| byte);
    let mut line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let mut line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let mut start = at;
    while text[line_start..line_end].trim().is_empty() && line_start > 0 {
        line_end = line_start - 1;
        line_start = text[..line_end].rfind('\n').map_or(0, |i| i + 1);
        start = line_start + (text[line_start..line_end].len() - text[line_start..line_end].trim_start().len());
    }
    let end = line_end.max(start);
    let message = failure.info().to_string();
    Some((start..end, message))
}

/// Replace the line holding `offset` with spaces.
fn blank_line(text: &mut String, offset: usize) {
    let start = text[..offset.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let blanks = " ".repeat(end - start);
    text.replace_range(start..end, &blanks);
}

fn first_document_value(stream: Node) -> Option<Node> {
    let mut cursor = stream.walk();
    let document = stream.named_children(&mut cursor).find(|c| c.kind() == "document")?;
    let mut cursor = document.walk();
    let value = document.named_children(&mut cursor).find(|c| matches!(c.kind(), "block_node" | "flow_node"));
    value
}

fn named_children(node: Node) -> Vec<Node> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).filter(|c| c.kind() != "comment").collect()
}

/// Tree-sitter nodes to values, resolving aliases to their anchors.
struct Converter<'a> {
    source: &'a str,
    anchors: HashMap<String, YamlNode>,
    aliases: Aliases,
}

impl Converter<'_> {
    fn convert(&mut self, node: Node, depth: usize) -> YamlNode {
        let source = self.source;
        let range = node.byte_range();
        // Deep flow nesting under a syntax error escapes the nesting check.
        if depth > 2 * MAX_DEPTH {
            return YamlNode { range, value: YamlValue::Other };
        }
        let depth = depth + 1;
        let value = match node.kind() {
            "block_node" | "flow_node" => {
                let children = named_children(node);
                let content = children.iter().find(|c| !matches!(c.kind(), "anchor" | "tag"));
                let converted = match content {
                    Some(content) => YamlNode { range, value: self.convert(*content, depth).value },
                    None => YamlNode { range, value: YamlValue::Null },
                };
                if let Some(anchor) = children.iter().find(|c| c.kind() == "anchor") {
                    let name = source[anchor.byte_range()].trim_start_matches('&').to_string();
                    self.anchors.insert(name, converted.clone());
                }
                return converted;
            }
            "alias" => {
                let name = source[node.byte_range()].trim_start_matches('*');
                return match self.anchors.get(name) {
                    Some(target) => self.aliases.expand(target, range),
                    None => self.aliases.unknown(name, range),
                };
            }
            "block_mapping" | "flow_mapping" => YamlValue::Map(
                named_children(node).into_iter().filter_map(|pair| self.mapping_entry(pair, depth)).collect(),
            ),
            "block_sequence" => YamlValue::Seq(
                named_children(node)
                    .into_iter()
                    .filter(|item| item.kind() == "block_sequence_item")
                    .map(|item| match named_children(item).first() {
                        Some(value) => self.convert(*value, depth),
                        None => YamlNode { range: item.end_byte()..item.end_byte(), value: YamlValue::Null },
                    })
                    .collect(),
            ),
            "flow_sequence" => YamlValue::Seq(
                named_children(node)
                    .into_iter()
                    .map(|item| match item.kind() {
                        "flow_pair" => YamlNode {
                            range: item.byte_range(),
                            value: YamlValue::Map(self.mapping_entry(item, depth).into_iter().collect()),
                        },
                        _ => self.convert(item, depth),
                    })
                    .collect(),
            ),
            "plain_scalar" => plain_scalar(node, source),
            "double_quote_scalar" => string(double_quoted(&source[node.byte_range()])),
            "single_quote_scalar" => {
                let text = &source[node.byte_range()];
                string(text[1..text.len().saturating_sub(1).max(1)].replace("''", "'"))
            }
            "block_scalar" => {
                let end = block_scalar_end(node, source);
                // Clip chomping keeps the last line break only if there is one.
                let has_final_break = source[end..].starts_with('\n') || source[end..].starts_with("\r\n") || source[node.start_byte()..end].ends_with('\n');
                string(block_scalar(&source[node.start_byte()..end], has_final_break))
            }
            _ => YamlValue::Other,
        };
        YamlNode { range, value }
    }

    fn mapping_entry(&mut self, pair: Node, depth: usize) -> Option<Entry> {
        let source = self.source;
        match pair.kind() {
            "block_mapping_pair" | "flow_pair" => {
                let key = pair.child_by_field_name("key")?;
                let key_text = match self.convert(key, depth).value {
                    YamlValue::Scalar(scalar) => scalar.text,
                    _ => source[key.byte_range()].to_string(),
                };
                let value = match pair.child_by_field_name("value") {
                    Some(value) => self.convert(value, depth),
                    None => YamlNode { range: pair.end_byte()..pair.end_byte(), value: YamlValue::Null },
                };
                Some(Entry { key: key_text, key_range: key.byte_range(), value })
            }
            // `{a}`: a key without a value.
            "flow_node" => Some(Entry {
                key: source[pair.byte_range()].to_string(),
                key_range: pair.byte_range(),
                value: YamlNode { range: pair.end_byte()..pair.end_byte(), value: YamlValue::Null },
            }),
            _ => None,
        }
    }
}

fn string(text: String) -> YamlValue {
    YamlValue::Scalar(Scalar { text, kind: ScalarKind::String })
}

fn plain_scalar(node: Node, source: &str) -> YamlValue {
    let text = source[node.byte_range()].to_string();
    let kind = match named_children(node).first().map(|c| c.kind()) {
        Some("null_scalar") => return YamlValue::Null,
        Some("integer_scalar") => ScalarKind::Integer,
        Some("float_scalar") => ScalarKind::Float,
        Some("boolean_scalar") => ScalarKind::Boolean,
        _ => ScalarKind::String,
    };
    // A plain scalar over several lines folds its line breaks into spaces.
    let text = if text.contains('\n') { text.split_whitespace().collect::<Vec<_>>().join(" ") } else { text };
    YamlValue::Scalar(Scalar { text, kind })
}

fn double_quoted(text: &str) -> String {
    let inner = &text[1..text.len().saturating_sub(1).max(1)];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('/') => out.push('/'),
            Some(' ') => out.push(' '),
            Some('\n') => {
                while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
                    chars.next();
                }
            }
            Some(kind @ ('x' | 'u' | 'U')) => {
                let digits = match kind {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = chars.by_ref().take(digits).collect();
                if let Some(decoded) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    out.push(decoded);
                }
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Where a block scalar's text ends: with keep chomping (`|+`), the blank
/// lines after its last line (outside the node) belong to it too.
fn block_scalar_end(node: Node, source: &str) -> usize {
    // Trailing blanks on the last line are content, though outside the node.
    let after = &source[node.end_byte()..];
    let blanks = after.len() - after.trim_start_matches([' ', '\t']).len();
    let end = node.end_byte() + if after[blanks..].starts_with('\n') || after[blanks..].is_empty() { blanks } else { 0 };
    let header = source[node.byte_range()].lines().next().unwrap_or("");
    if !header.split('#').next().unwrap_or("").contains('+') {
        return end;
    }
    let rest = &source[end..];
    let blank: usize = rest.split_inclusive('\n').take_while(|l| l.trim().is_empty() && l.ends_with('\n')).map(str::len).sum();
    end + blank
}

/// `|` and `>` block scalars, with chomping (`-`, `+`) and an explicit
/// indentation indicator.
fn block_scalar(text: &str, has_final_break: bool) -> String {
    let (header, body) = text.split_once('\n').unwrap_or((text, ""));
    let header = header.split('#').next().unwrap_or("").trim();
    let folded = header.starts_with('>');
    let chomping = if header.contains('-') { '-' } else if header.contains('+') { '+' } else { ' ' };
    let lines: Vec<&str> = body.split('\n').collect();
    let explicit = header.chars().find(|c| c.is_ascii_digit()).and_then(|c| c.to_digit(10)).map(|d| d as usize);
    let indent = explicit.unwrap_or_else(|| {
        lines.iter().find(|l| !l.trim().is_empty()).map_or(0, |l| l.len() - l.trim_start_matches(' ').len())
    });
    let content: Vec<&str> = lines.iter().map(|l| if l.len() >= indent { &l[indent..] } else { "" }).collect();
    let mut out = String::new();
    if folded {
        let mut previous_blank = true;
        for line in &content {
            if line.is_empty() {
                out.push('\n');
                previous_blank = true;
            } else {
                if !previous_blank && !line.starts_with(' ') && !out.ends_with('\n') {
                    out.push(' ');
                } else if !previous_blank {
                    out.push('\n');
                }
                out.push_str(line);
                previous_blank = false;
            }
        }
        out.push('\n');
    } else {
        out = content.join("\n");
    }
    let trimmed = out.trim_end_matches('\n');
    match chomping {
        '-' => trimmed.to_string(),
        '+' => out,
        _ if trimmed.is_empty() || !has_final_break => trimmed.to_string(),
        _ => format!("{trimmed}\n"),
    }
}

/// YAML syntax errors, one per broken region, on its first line.
fn collect_errors(root: Node, source: &str, out: &mut Vec<(Range<usize>, String)>) {
    crate::elixir::syntax::walk(root, &mut |node| {
        if node.is_missing() {
            out.push((node.start_byte()..node.start_byte(), format!("YAML syntax error: missing `{}`", node.kind())));
            false
        } else if node.is_error() {
            let text = &source[node.byte_range()];
            let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim_end();
            let start = node.start_byte() + text.find(first_line.trim_start()).unwrap_or(0);
            out.push((start..start + first_line.trim_start().len(), "YAML syntax error: this could not be parsed".to_string()));
            false
        } else {
            node.has_error()
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(source: &str) -> YamlNode {
        parse(source).root.expect("a value")
    }

    #[test]
    fn mappings_sequences_and_scalars_keep_their_ranges() {
        let source = "workflow:\n  name: demo # c\n  steps:\n    - name: \"a\\tb\"\n      n: 3\n    - {type: 'it''s', x: ~}\n";
        let doc = root(source);
        let workflow = doc.get("workflow").unwrap();
        let name = workflow.get("name").unwrap();
        assert_eq!(name.as_str(), Some("demo"));
        assert_eq!(&source[name.range.clone()], "demo");
        let steps = workflow.get("steps").unwrap().items();
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].get("name").unwrap().as_str(), Some("a\tb"));
        assert_eq!(steps[0].get("n").unwrap().describe(), "an integer");
        assert_eq!(steps[1].get("type").unwrap().as_str(), Some("it's"));
        assert!(steps[1].get("x").unwrap().is_null());
        let key = workflow.entry("steps").unwrap();
        assert_eq!(&source[key.key_range.clone()], "steps");
    }

    #[test]
    fn block_scalars_are_decoded() {
        let doc = root("a: |\n  one\n  two\n\nb: >-\n  folded\n  line\n\n  para\nc: |+\n  keep\n\nd: x\n");
        assert_eq!(doc.get("a").unwrap().as_str(), Some("one\ntwo\n"));
        assert_eq!(doc.get("b").unwrap().as_str(), Some("folded line\npara"));
        assert_eq!(doc.get("c").unwrap().as_str(), Some("keep\n\n"));
    }

    #[test]
    fn a_broken_region_keeps_the_rest() {
        let source = "workflow:\n  name: x\n  steps:\n    - name: a\n      prompt: [\n  after: 1\n";
        let document = parse(source);
        assert!(!document.errors.is_empty());
        let root = document.root.expect("still a value");
        assert_eq!(root.get("workflow").and_then(|w| w.get("name")).and_then(YamlNode::as_str), Some("x"));
    }

    #[test]
    fn an_unclosed_flow_list_at_the_end_does_not_hide_the_document() {
        let source = "workflow:\n  name: x\n  steps:\n    - name: a\n      type: claude\n      prompt: [\n";
        let document = parse(source);
        let (range, message) = &document.errors[0];
        assert_eq!(&source[range.clone()], "prompt: [", "{message}");
        let root = document.root.expect("the rest is still read");
        let steps = root.get("workflow").and_then(|w| w.get("steps")).unwrap();
        assert_eq!(steps.items()[0].get("type").and_then(YamlNode::as_str), Some("claude"));
    }

    #[test]
    fn empty_values_are_null() {
        let doc = root("a:\nb: null\n");
        assert!(doc.get("a").unwrap().is_null());
        assert!(doc.get("b").unwrap().is_null());
    }

    #[test]
    fn anchors_and_aliases_are_resolved() {
        let source = "base: &p\n  - type: static\n    content: hi\nsteps:\n  - &s {name: a, type: claude}\n  - prompt: *p\n  - *s\n";
        let doc = root(source);
        let steps = doc.get("steps").unwrap().items();
        let prompt = steps[1].get("prompt").unwrap();
        assert_eq!(prompt.items()[0].get("content").and_then(YamlNode::as_str), Some("hi"));
        assert_eq!(&source[prompt.range.clone()], "*p");
        assert_eq!(steps[2].get("name").and_then(YamlNode::as_str), Some("a"));
    }

    #[test]
    fn an_alias_without_an_anchor_is_an_error() {
        let document = parse("workflow:\n  name: *nope\n");
        assert!(document.errors.iter().any(|(_, m)| m.contains("`*nope` names no anchor")), "{:?}", document.errors);
    }

    #[test]
    fn a_billion_laughs_stops_at_the_alias_cap() {
        let mut source = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let names: Vec<char> = ('b'..='j').collect();
        let mut previous = 'a';
        for name in names {
            let refs = vec![format!("*{previous}"); 10].join(", ");
            source.push_str(&format!("{name}: &{name} [{refs}]\n"));
            previous = name;
        }
        let document = parse(&source);
        assert!(document.errors.iter().any(|(_, m)| m.contains("aliases expand")), "{:?}", document.errors);
    }

    #[test]
    fn deep_flow_nesting_is_one_clear_error() {
        for source in ["[".repeat(5_000), format!("a: {}{}", "[".repeat(5_000), "]".repeat(5_000)), format!("a: {}", "{b: ".repeat(5_000))] {
            let document = parse(&source);
            assert_eq!(document.errors.len(), 1, "{:?} {}", document.errors, &source[..20]);
            assert!(document.errors[0].1.contains("deeper than") || document.errors[0].1.contains("YAML syntax error"), "{:?}", document.errors);
        }
    }

    #[test]
    fn deep_block_nesting_does_not_reach_tree_sitter() {
        let mut nested = String::new();
        for level in 0..300 {
            nested.push_str(&format!("{}-\n", " ".repeat(level * 2)));
        }
        nested.push_str(&format!("{}x\n", " ".repeat(600)));
        let dashes = format!("{}x\n", "- ".repeat(300));
        for source in [nested, dashes] {
            let document = parse(&source);
            assert!(document.errors.iter().any(|(_, m)| m.contains("deeper than")), "{:?}", document.errors);
        }
    }

    #[test]
    fn documents_past_tree_sitter_rows_are_read_whole() {
        let mut source = String::from("workflow:\n  name: long\n  steps:\n");
        for i in 0..12_000 {
            source.push_str(&format!("    - name: s{i}\n      type: claude\n      prompt: [{{type: static, content: \"x\"}}]\n"));
        }
        let document = parse(&source);
        assert!(document.errors.is_empty(), "{:?}", &document.errors[..1]);
        let steps = root(&source).get("workflow").unwrap().get("steps").unwrap().items().len();
        assert_eq!(steps, 12_000);
    }

    #[test]
    fn the_full_parser_reads_what_tree_sitter_reads() {
        let source = "workflow:\n  name: \"demo\"\n  n: 3\n  f: 1.5\n  ok: true\n  empty:\n  steps:\n    - name: a\n      prompt:\n        - type: static\n          content: |\n            one\n            two\n    - {name: b, type: 'it''s'}\n";
        let by_tree_sitter = root(source);
        let by_events = events::parse(source).root.unwrap();
        assert_eq!(by_events.to_json(), by_tree_sitter.to_json());
        let name = by_events.get("workflow").unwrap().get("name").unwrap();
        assert_eq!(&source[name.range.clone()], "\"demo\"");
        let key = by_events.get("workflow").unwrap().entry("steps").unwrap();
        assert_eq!(&source[key.key_range.clone()], "steps");
    }
}
