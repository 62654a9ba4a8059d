//! Semantic highlighting: what each piece of an Elixir file is (a module, a
//! function, an atom...), as byte ranges, for editors to colour.
//!
//! The patterns are data, in `highlight.scm` (adapted from the grammar's own
//! highlights query): a capture's name is the token type it paints.

use std::ops::Range;
use std::sync::LazyLock;

use tree_sitter::{Query, QueryCursor, StreamingIterator, Tree};

/// What a token is. The names are LSP's standard token types, so that every
/// theme colours them; the order is the legend's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenType {
    /// Module aliases (`GenServer`) and Erlang modules (`:ets` in `:ets.new`).
    Namespace,
    /// Called and defined functions.
    Function,
    /// `__MODULE__`, `__ENV__` and the other special-form variables.
    Macro,
    /// `def`, `defmodule`, `if`, `case`, `use`..., `do`/`end`/`fn`/`when`,
    /// and `true`/`false`/`nil`.
    Keyword,
    Variable,
    /// The variables a function head or `fn` clause binds.
    Parameter,
    /// `map.field` without parentheses.
    Property,
    /// Strings, charlists and sigils other than regexes.
    String,
    /// Integers, floats and `?a` characters.
    Number,
    /// `~r` sigils.
    Regexp,
    /// Atoms and keyword keys (`:ok`, `name:`).
    EnumMember,
    /// Module attributes (`@impl`, `@timeout`).
    Decorator,
    Operator,
    Comment,
}

impl TokenType {
    /// Every type, in legend order.
    pub const ALL: [TokenType; 14] = [
        TokenType::Namespace,
        TokenType::Function,
        TokenType::Macro,
        TokenType::Keyword,
        TokenType::Variable,
        TokenType::Parameter,
        TokenType::Property,
        TokenType::String,
        TokenType::Number,
        TokenType::Regexp,
        TokenType::EnumMember,
        TokenType::Decorator,
        TokenType::Operator,
        TokenType::Comment,
    ];

    /// The standard LSP name, also the capture name in `highlight.scm`.
    pub fn name(self) -> &'static str {
        match self {
            TokenType::Namespace => "namespace",
            TokenType::Function => "function",
            TokenType::Macro => "macro",
            TokenType::Keyword => "keyword",
            TokenType::Variable => "variable",
            TokenType::Parameter => "parameter",
            TokenType::Property => "property",
            TokenType::String => "string",
            TokenType::Number => "number",
            TokenType::Regexp => "regexp",
            TokenType::EnumMember => "enumMember",
            TokenType::Decorator => "decorator",
            TokenType::Operator => "operator",
            TokenType::Comment => "comment",
        }
    }

    /// Its position in [`TokenType::ALL`].
    pub fn index(self) -> u32 {
        self as u32
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// A set of modifiers; bit `i` is [`TokenModifiers::NAMES`]`[i]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TokenModifiers(u32);

impl TokenModifiers {
    pub const NONE: Self = Self(0);
    /// A function's name where it is defined; a parameter where it is bound.
    pub const DECLARATION: Self = Self(1);
    /// `@doc`, `@moduledoc` and `@typedoc` texts.
    pub const DOCUMENTATION: Self = Self(2);
    /// Standard LSP names, in legend order.
    pub const NAMES: [&'static str; 2] = ["declaration", "documentation"];

    pub fn bits(self) -> u32 {
        self.0
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::NAMES.iter().position(|n| *n == name).map(|i| Self(1 << i))
    }
}

impl std::ops::BitOr for TokenModifiers {
    type Output = Self;
    fn bitor(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

/// One highlighted piece of the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Highlight {
    /// Byte range in the text; it may span lines.
    pub range: Range<usize>,
    pub token: TokenType,
    pub modifiers: TokenModifiers,
}

/// The highlights of `source`, parsed as `tree`: in order, not overlapping,
/// never empty.
pub fn highlights(source: &str, tree: &Tree) -> Vec<Highlight> {
    let query = &*QUERY;
    let mut painted = Vec::new();
    let mut parameters = Vec::new();
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(&query.query, tree.root_node(), source.as_bytes());
    while let Some(found) = matches.next() {
        for capture in found.captures() {
            let range = capture.node.byte_range();
            match query.roles[capture.index as usize] {
                Role::Paint(paint) => painted.push(Layer { range, pattern: found.pattern_index, paint }),
                Role::Parameters => parameters.push(range),
                Role::Predicate => {}
            }
        }
    }
    let mut highlights = flatten(source, painted);
    mark_parameters(&mut highlights, parameters);
    highlights
}

/// One capture: a range painted (or cleared, `None`) by one pattern.
struct Layer {
    range: Range<usize>,
    pattern: usize,
    paint: Option<(TokenType, TokenModifiers)>,
}

/// Lay the captures over each other: inner ranges over outer ones, later
/// patterns over earlier ones on the same range. Node ranges nest, so a
/// stack of the enclosing layers is enough.
fn flatten(source: &str, mut layers: Vec<Layer>) -> Vec<Highlight> {
    layers.sort_by_key(|l| (l.range.start, std::cmp::Reverse(l.range.end), l.pattern));
    let mut highlights = Vec::new();
    let mut emit = |layer: &Layer, range: Range<usize>| {
        let Some((token, modifiers)) = layer.paint else { return };
        // A keyword key's node takes the blank after its colon (`do: `).
        let end = if token == TokenType::EnumMember { trimmed_end(source, &range) } else { range.end };
        if range.start < end {
            highlights.push(Highlight { range: range.start..end, token, modifiers });
        }
    };
    let mut enclosing: Vec<&Layer> = Vec::new();
    let mut done = 0; // everything before this byte is decided
    for layer in &layers {
        while let Some(outer) = enclosing.last().filter(|outer| outer.range.end <= layer.range.start) {
            emit(outer, done..outer.range.end.max(done));
            done = done.max(outer.range.end);
            enclosing.pop();
        }
        if let Some(outer) = enclosing.last() {
            emit(outer, done..layer.range.start.max(done));
        }
        done = done.max(layer.range.start);
        enclosing.push(layer);
    }
    while let Some(outer) = enclosing.pop() {
        emit(outer, done..outer.range.end.max(done));
        done = done.max(outer.range.end);
    }
    highlights
}

fn trimmed_end(source: &str, range: &Range<usize>) -> usize {
    range.start + source[range.clone()].trim_end().len()
}

/// Variables inside a function head's patterns are its parameters.
fn mark_parameters(highlights: &mut [Highlight], mut heads: Vec<Range<usize>>) {
    heads.sort_by_key(|h| h.start);
    let mut merged: Vec<Range<usize>> = Vec::new();
    for head in heads {
        match merged.last_mut() {
            Some(last) if head.start <= last.end => last.end = last.end.max(head.end),
            _ => merged.push(head),
        }
    }
    for highlight in highlights.iter_mut().filter(|h| h.token == TokenType::Variable) {
        let after = merged.partition_point(|head| head.start <= highlight.range.start);
        if after > 0 && highlight.range.end <= merged[after - 1].end {
            highlight.token = TokenType::Parameter;
            highlight.modifiers = highlight.modifiers | TokenModifiers::DECLARATION;
        }
    }
}

/// What a capture of `highlight.scm` does.
#[derive(Clone, Copy)]
enum Role {
    Paint(Option<(TokenType, TokenModifiers)>),
    Parameters,
    Predicate,
}

struct Compiled {
    query: Query,
    /// Per capture index.
    roles: Vec<Role>,
}

static QUERY: LazyLock<Compiled> = LazyLock::new(|| {
    let language = tree_sitter_elixir::LANGUAGE.into();
    let query = Query::new(&language, include_str!("highlight.scm")).expect("highlight.scm matches the bundled grammar");
    let roles = query
        .capture_names()
        .iter()
        .map(|name| role(name).unwrap_or_else(|| panic!("highlight.scm: `@{name}` is not in the legend")))
        .collect();
    Compiled { query, roles }
});

fn role(capture: &str) -> Option<Role> {
    match capture {
        "_parameters" => return Some(Role::Parameters),
        "none" => return Some(Role::Paint(None)),
        _ if capture.starts_with('_') => return Some(Role::Predicate),
        _ => {}
    }
    let mut parts = capture.split('.');
    let token = TokenType::from_name(parts.next()?)?;
    let modifiers = parts.try_fold(TokenModifiers::NONE, |set, name| Some(set | TokenModifiers::from_name(name)?))?;
    Some(Role::Paint(Some((token, modifiers))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elixir::parser::ElixirParser;

    /// Each highlight as `text:type[.modifiers]`.
    fn check(source: &str, expected: &[&str]) {
        let tree = ElixirParser::new().parse_str(source, None);
        let got: Vec<String> = highlights(source, &tree)
            .iter()
            .map(|h| {
                let modifiers: Vec<&str> =
                    TokenModifiers::NAMES.iter().enumerate().filter(|(i, _)| h.modifiers.bits() & (1 << i) != 0).map(|(_, n)| *n).collect();
                let suffix: String = modifiers.iter().map(|m| format!(".{m}")).collect();
                format!("{}:{}{suffix}", &source[h.range.clone()], h.token.name())
            })
            .collect();
        assert_eq!(got, expected, "{}", tree.root_node().to_sexp());
    }

    #[test]
    fn every_capture_of_the_query_is_in_the_legend() {
        assert!(QUERY.roles.len() > 10);
    }

    #[test]
    fn a_module_with_a_function() {
        check(
            "defmodule A.B do\n  def run(x, _opts) when is_atom(x), do: {:ok, x}\nend\n",
            &[
                "defmodule:keyword", "A.B:namespace", "do:keyword",
                "def:keyword", "run:function.declaration", "x:parameter.declaration", "_opts:parameter.declaration",
                "when:keyword", "is_atom:function", "x:variable", "do::enumMember", ":ok:enumMember", "x:variable",
                "end:keyword",
            ],
        );
    }

    #[test]
    fn interpolation_is_code_inside_a_string() {
        check("\"a #{b} c\"", &["\"a :string", "b:variable", " c\":string"]);
    }

    #[test]
    fn attributes_docs_calls_and_sigils() {
        check(
            "@moduledoc \"Docs\"\n@timeout 5_000\nEnum.map(list, &(&1 * 2)) |> IO.inspect\n~r/a+/i\n",
            &[
                "@:decorator", "moduledoc:decorator", "\"Docs\":comment.documentation",
                "@:decorator", "timeout:decorator", "5_000:number",
                "Enum:namespace", ".:operator", "map:function", "list:variable", "&:operator", "&:operator", "1:operator", "*:operator", "2:number",
                "|>:operator", "IO:namespace", ".:operator", "inspect:function",
                "~r/a+/i:regexp",
            ],
        );
    }

    #[test]
    fn fields_pipes_and_anonymous_functions() {
        check(
            "fn state -> state.count |> max end # done",
            &["fn:keyword", "state:parameter.declaration", "->:operator", "state:variable", ".:operator", "count:property", "|>:operator", "max:function", "end:keyword", "# done:comment"],
        );
    }
}
