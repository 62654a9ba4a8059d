//! What a piece of Elixir code is, as far as choosing a rewrite goes: the
//! modules it defines and how many syntax errors it has.

use crate::elixir::parser::with_parser;
use crate::elixir::syntax::{call_name, text, written_arguments};
use crate::elixir::syntax_errors::syntax_errors;

#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    /// Every `defmodule` name, nested ones included, as written.
    pub modules: Vec<String>,
    pub errors: usize,
}

/// The original file, parsed once: candidates are parsed as revisions of
/// it, which reuses what they did not change.
pub struct Base {
    pub text: String,
    tree: tree_sitter::Tree,
}

impl Base {
    pub fn new(text: &str) -> Base {
        Base { text: text.to_string(), tree: with_parser(|parser| parser.parse_str(text, None)) }
    }

    pub fn shape(&self) -> Shape {
        Shape::from_tree(&self.text, &self.tree)
    }

    /// The shape of `code`, a candidate rewrite of this file.
    pub fn shape_of(&self, code: &str) -> Shape {
        let tree = with_parser(|parser| parser.parse_revision(&self.text, &self.tree, code));
        Shape::from_tree(code, &tree)
    }
}

impl Shape {
    pub fn of(code: &str) -> Shape {
        let tree = with_parser(|parser| parser.parse_str(code, None));
        Shape::from_tree(code, &tree)
    }

    fn from_tree(code: &str, tree: &tree_sitter::Tree) -> Shape {
        let mut modules = Vec::new();
        let mut cursor = tree.walk();
        // Depth-first over every node: a `defmodule` inside an ERROR node
        // (a rewrite with a typo) still counts as defined.
        'walk: loop {
            let node = cursor.node();
            let is_defmodule = call_name(node, code).is_some_and(|name| name.is_local(&["defmodule"]));
            if let Some(name) = written_arguments(node).first().filter(|_| is_defmodule) {
                modules.push(text(*name, code).to_string());
            }
            if cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    break 'walk;
                }
            }
        }
        Shape { modules, errors: syntax_errors(code, tree).len() }
    }

    pub fn defines_all(&self, modules: &[String]) -> bool {
        modules.iter().all(|m| self.modules.contains(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_are_found_even_in_code_with_errors() {
        let nested = Shape::of("defmodule A.B do\n  defmodule C do\n  end\nend\n");
        assert_eq!((nested.modules, nested.errors), (vec!["A.B".to_string(), "C".to_string()], 0));
        let broken = Shape::of("defmodule App.Worker do\n  def fetch(s), do: GenServer.call(s, :fetch\nend\n");
        assert_eq!(broken.modules, ["App.Worker"]);
        assert!(broken.errors > 0);
        let in_docs = Shape::of("@moduledoc \"\"\"\ndefmodule Example do\nend\n\"\"\"\n");
        assert!(in_docs.modules.is_empty());
    }
}
