//! The tree-sitter-elixir parser, reading from a `&str` or straight from a rope.

use std::cell::RefCell;

use ropey::Rope;
use tree_sitter::{Parser, Tree};

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

    /// Parse the rope chunk by chunk, without copying it into one string.
    pub fn parse_rope(&mut self, text: &Rope, old_tree: Option<&Tree>) -> Tree {
        let mut read = |byte: usize, _| -> &[u8] {
            if byte >= text.len_bytes() {
                return &[];
            }
            let (chunk, chunk_start, _, _) = text.chunk_at_byte(byte);
            &chunk.as_bytes()[byte - chunk_start..]
        };
        self.parser
            .parse_with_options(&mut read, old_tree, None)
            .expect("parsing without a timeout or cancellation flag always yields a tree")
    }
}
