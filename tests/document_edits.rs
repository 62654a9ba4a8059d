//! Random incremental edits: the document's text must match a plain String
//! given the same edits, and its incrementally re-parsed tree must match a
//! fresh parse of that text.
//!
//! One caveat, found by this test: where the text has syntax errors,
//! tree-sitter's error recovery after an incremental re-parse may shape the
//! ERROR nodes differently from a fresh parse. So the document's tree is
//! checked to the letter against a reference tree edited independently
//! (that proves our edits right), against a fresh parse whenever the text is
//! valid, and to agree with a fresh parse that it has errors otherwise.

use elexirion::document::{Document, DocumentKind, PositionEncoding, TextChange, TextPosition};
use elexirion::elixir::parser::ElixirParser;
use proptest::prelude::*;
use tree_sitter::{InputEdit, Point, Tree};

const SEEDS: &[&str] = &[
    "defmodule Café do\n  use GenServer\n\n  def init(état), do: {:ok, état}\n\n  def handle_call(:get, _from, s) do\n    {:reply, \"😀 #{s}\", s}\n  end\nend\n",
    "defmodule Win do\r\n  def run(x) do\r\n    x\r\n    |> Enum.map(fn y -> y * 2 end)\r\n  end\r\nend\r\n",
    "# 中文注释\nx = %{a: 1, b: [1, 2, 3]}\ncase x do\n  %{a: a} -> a\n  _ -> nil\nend\n",
    "",
];

const FRAGMENTS: &[&str] = &[
    "", "x", "é", "😀", "中", "\n", "\r\n", "\r", " ", "do\n", "end", "(", ")", "[", "]", "{", "}", "\"", "#{",
    "fn x -> x end", "def f(a), do: a\n", "%{a: 1}", " |> ", "@doc \"\"\"\nhé\n\"\"\"\n", ":atom", "'c'",
    "# comment 😀\n", "<<1, 2>>", "defmodule M do\n", "  ",
];

const ENCODINGS: [PositionEncoding; 3] = [PositionEncoding::Utf8, PositionEncoding::Utf16, PositionEncoding::Utf32];

/// Where a position points, worked out independently of the server's code:
/// lines end at `\r\n`, `\n` or `\r`; characters are counted per encoding.
fn oracle_position(text: &str, offset: usize, encoding: PositionEncoding) -> TextPosition {
    let bytes = text.as_bytes();
    let (mut line, mut line_start, mut i) = (0, 0, 0);
    while i < offset {
        let crlf = bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n');
        if bytes[i] == b'\n' || bytes[i] == b'\r' {
            i += if crlf { 2 } else { 1 };
            line += 1;
            line_start = i;
        } else {
            i += 1;
        }
    }
    let prefix = &text[line_start..offset];
    let character = match encoding {
        PositionEncoding::Utf8 => prefix.len(),
        PositionEncoding::Utf16 => prefix.encode_utf16().count(),
        PositionEncoding::Utf32 => prefix.chars().count(),
    };
    TextPosition::new(line, character as u32)
}

/// A char boundary at or before `offset` that is not inside a `\r\n` pair
/// (no editor position can point there).
fn snap(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    if offset > 0 && text.as_bytes()[offset - 1] == b'\r' && text.as_bytes().get(offset) == Some(&b'\n') {
        offset -= 1;
    }
    offset
}

#[derive(Debug, Clone)]
struct Edit {
    start: usize,
    length: usize,
    fragment: usize,
    encoding: usize,
    reparse_after: bool,
}

fn edit() -> impl Strategy<Value = Edit> {
    (any::<usize>(), 0usize..16, 0..FRAGMENTS.len(), 0usize..3, any::<bool>()).prop_map(
        |(start, length, fragment, encoding, reparse_after)| Edit { start, length, fragment, encoding, reparse_after },
    )
}

/// The fresh parse's S-expression, and whether it has errors.
fn fresh_parse(text: &str) -> (String, bool) {
    let tree = ElixirParser::new().parse_str(text, None);
    (tree.root_node().to_sexp(), tree.root_node().has_error())
}

fn check_tree(document: &mut Document, reference: &mut Reference, text: &str) -> Result<(), TestCaseError> {
    let sexp = document.tree().unwrap().root_node().to_sexp();
    prop_assert_eq!(&sexp, &reference.reparse(text), "against the reference, text: {:?}", text);
    let (fresh, fresh_has_error) = fresh_parse(text);
    if fresh_has_error {
        prop_assert!(document.tree().unwrap().root_node().has_error(), "errors lost, text: {:?}", text);
    } else {
        prop_assert_eq!(sexp, fresh, "against a fresh parse, text: {:?}", text);
    }
    Ok(())
}

/// A tree-sitter point the way tree-sitter counts: rows end at `\n`.
fn point(text: &str, offset: usize) -> Point {
    let row = text[..offset].matches('\n').count();
    Point { row, column: offset - text[..offset].rfind('\n').map_or(0, |i| i + 1) }
}

/// The reference: a tree edited with `InputEdit`s computed straight from the
/// String, re-parsed at the same moments as the document's.
struct Reference {
    parser: ElixirParser,
    tree: Tree,
}

impl Reference {
    fn edit(&mut self, before: &str, after: &str, start: usize, old_end: usize, new_end: usize) {
        self.tree.edit(&InputEdit {
            start_byte: start,
            old_end_byte: old_end,
            new_end_byte: new_end,
            start_position: point(before, start),
            old_end_position: point(before, old_end),
            new_end_position: point(after, new_end),
        });
    }

    fn reparse(&mut self, text: &str) -> String {
        self.tree = self.parser.parse_str(text, Some(&self.tree));
        self.tree.root_node().to_sexp()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn incremental_edits_match_a_string_and_a_fresh_parse(
        seed in 0..SEEDS.len(),
        edits in proptest::collection::vec(edit(), 1..40),
    ) {
        let mut model = SEEDS[seed].to_string();
        let mut document = Document::new(&model, 0, DocumentKind::Elixir);
        let mut parser = ElixirParser::new();
        let tree = parser.parse_str(&model, None);
        let mut reference = Reference { parser, tree };
        for (version, edit) in edits.iter().enumerate() {
            let start = snap(&model, edit.start % (model.len() + 1));
            let end = snap(&model, start + edit.length).max(start);
            let encoding = ENCODINGS[edit.encoding];
            let change = TextChange {
                range: Some((oracle_position(&model, start, encoding), oracle_position(&model, end, encoding))),
                text: FRAGMENTS[edit.fragment].to_string(),
            };
            document.apply_changes(version as i32 + 1, &[change], encoding);
            let before = model.clone();
            model.replace_range(start..end, FRAGMENTS[edit.fragment]);
            reference.edit(&before, &model, start, end, start + FRAGMENTS[edit.fragment].len());

            prop_assert_eq!(document.text().to_string(), model.as_str());
            if edit.reparse_after {
                check_tree(&mut document, &mut reference, &model)?;
            }
        }
        check_tree(&mut document, &mut reference, &model)?;
    }
}
