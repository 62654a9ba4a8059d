//! The tree-sitter-elixir parser, reading from a `&str` or straight from a rope.

use std::cell::RefCell;
use std::ops::ControlFlow;

use ropey::Rope;
use tree_sitter::{ParseOptions, Parser, Tree};

use crate::cancellation::Cancellation;
use crate::finding::Edit;

pub struct ElixirParser {
    parser: Parser,
}

impl Default for ElixirParser {
    fn default() -> Self {
        Self::new()
    }
}

thread_local! {
    static PARSER: RefCell<ElixirParser> = RefCell::new(ElixirParser::new());
}

/// Run `f` with this thread's parser, so that parsing needs no shared lock.
pub fn with_parser<R>(f: impl FnOnce(&mut ElixirParser) -> R) -> R {
    PARSER.with(|parser| f(&mut parser.borrow_mut()))
}

impl ElixirParser {
    pub fn new() -> Self {
        let mut parser = Parser::new();
        parser
            .set_language(&tree_sitter_elixir::LANGUAGE.into())
            .expect("the bundled tree-sitter-elixir grammar matches the tree-sitter library");
        Self { parser }
    }

    pub fn parse_str(&mut self, text: &str, old_tree: Option<&Tree>) -> Tree {
        self.parser
            .parse(text, old_tree)
            .expect("parsing without a timeout or cancellation flag always yields a tree")
    }

    /// Parse `after`, a version of `before` (parsed as `before_tree`),
    /// reusing what did not change: an AI rewrite usually changes a few
    /// lines of a long file.
    pub fn parse_revision(&mut self, before: &str, before_tree: &Tree, after: &str) -> Tree {
        let mut tree = before_tree.clone();
        tree.edit(&revision_edit(before, after));
        self.parse_str(after, Some(&tree))
    }

    /// Parse the rope chunk by chunk, without copying it into one string.
    pub fn parse_rope(&mut self, text: &Rope, old_tree: Option<&Tree>) -> Tree {
        self.parse_rope_unless_cancelled(text, old_tree, &Cancellation::default())
            .expect("parsing without a timeout or cancellation flag always yields a tree")
    }

    /// [`ElixirParser::parse_rope`], giving up (`None`) once `cancel` is set.
    pub fn parse_rope_unless_cancelled(&mut self, text: &Rope, old_tree: Option<&Tree>, cancel: &Cancellation) -> Option<Tree> {
        let mut read = |byte: usize, _| -> &[u8] {
            if byte >= text.len_bytes() {
                return &[];
            }
            let (chunk, chunk_start, _, _) = text.chunk_at_byte(byte);
            &chunk.as_bytes()[byte - chunk_start..]
        };
        let mut progress = |_: &tree_sitter::ParseState| {
            if cancel.is_cancelled() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        };
        let options = ParseOptions::new().progress_callback(&mut progress);
        let tree = self.parser.parse_with_options(&mut read, old_tree, Some(options));
        if tree.is_none() {
            // A cancelled parse would otherwise resume on the next call.
            self.parser.reset();
        }
        tree
    }
}

/// [`Edit::between`] the two texts, as tree-sitter takes an edit.
fn revision_edit(before: &str, after: &str) -> tree_sitter::InputEdit {
    let edit = Edit::between(before, after);
    let new_end = edit.range.start + edit.new_text.len();
    let point = |text: &str, byte: usize| {
        let row = text[..byte].matches('\n').count();
        let column = byte - text[..byte].rfind('\n').map_or(0, |i| i + 1);
        tree_sitter::Point { row, column }
    };
    tree_sitter::InputEdit {
        start_byte: edit.range.start,
        old_end_byte: edit.range.end,
        new_end_byte: new_end,
        start_position: point(before, edit.range.start),
        old_end_position: point(before, edit.range.end),
        new_end_position: point(after, new_end),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revision_parses_to_the_tree_a_fresh_parse_gives() {
        let before = "defmodule A do\n  def f(x), do: GenServer.call(x, :f, :infinity)\n  def g, do: \"é\"\nend\n";
        for after in [before.replace(":infinity", "5_000"), before.replace("é", "ü"), before.replace("  def g", "  def h, do: 1\n  def g"), String::new(), format!("{before}{before}")] {
            let mut parser = ElixirParser::new();
            let old = parser.parse_str(before, None);
            let revised = parser.parse_revision(before, &old, &after);
            assert_eq!(revised.root_node().to_sexp(), parser.parse_str(&after, None).root_node().to_sexp(), "{after}");
        }
    }

    #[test]
    fn a_cancelled_parse_gives_up_and_the_next_one_starts_afresh() {
        let text = Rope::from_str(&"defmodule A do\n  def f(x), do: x\nend\n".repeat(2_000));
        let cancel = Cancellation::default();
        cancel.cancel();
        let mut parser = ElixirParser::new();
        assert!(parser.parse_rope_unless_cancelled(&text, None, &cancel).is_none());
        let tree = parser.parse_rope(&Rope::from_str("x = 1\n"), None);
        assert_eq!(tree.root_node().end_byte(), 6);
        assert!(!tree.root_node().has_error());
    }
}
