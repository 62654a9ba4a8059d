//! Fenced code blocks, read as CommonMark reads them: an opening fence of
//! at least three backticks or tildes indented at most three spaces, with
//! an optional info string; the block ends at a fence of the same
//! character, at least as long, with nothing after it.
//!
//! Hand-written rather than pulldown-cmark because two answers need more
//! than CommonMark gives: a fence line inside an open Elixir heredoc does
//! not end the block (ExDoc examples), and a block that never closes is a
//! cut-off answer, where CommonMark silently closes it at the end.

use super::heredoc::Heredoc;

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// The info string's first word, lower-cased (`elixir`, `diff`, or empty).
    pub language: String,
    pub code: String,
    /// 1-based line of the opening fence in the answer.
    pub opened_at_line: usize,
}

impl Block {
    pub fn is_elixir(&self) -> bool {
        matches!(self.language.as_str(), "" | "elixir" | "ex" | "exs")
    }
}

#[derive(Debug, Default, PartialEq)]
pub struct Fences {
    pub blocks: Vec<Block>,
    /// The last block, when its fence never closes: the answer was cut off.
    pub unclosed: Option<Block>,
    /// The answer's lines outside every block (prose, or bare code).
    pub outside: String,
}

struct Fence {
    character: char,
    length: usize,
    indent: usize,
    info: String,
}

pub fn read(answer: &str) -> Fences {
    let mut fences = Fences::default();
    let mut lines = answer.split_inclusive('\n').enumerate();
    while let Some((number, line)) = lines.next() {
        let Some(open) = opening_fence(line) else {
            fences.outside.push_str(line);
            continue;
        };
        let mut block = Block { language: language(&open.info), code: String::new(), opened_at_line: number + 1 };
        let mut heredoc = Heredoc::default();
        let mut closed = false;
        for (_, line) in lines.by_ref() {
            let in_heredoc = block.is_elixir() && heredoc.is_open();
            if !in_heredoc && closes(line, &open) {
                closed = true;
                break;
            }
            let content = strip_indent(line, open.indent);
            heredoc.feed(content);
            block.code.push_str(content);
        }
        if closed {
            fences.blocks.push(block);
        } else {
            fences.unclosed = Some(block);
        }
    }
    fences
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn opening_fence(line: &str) -> Option<Fence> {
    let indent = indent_of(line);
    let rest = &line[indent..];
    let character = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let length = rest.len() - rest.trim_start_matches(character).len();
    let info = rest[length..].trim();
    let backtick_in_info = character == '`' && info.contains('`');
    (indent <= 3 && length >= 3 && !backtick_in_info).then(|| Fence { character, length, indent, info: info.to_string() })
}

fn closes(line: &str, open: &Fence) -> bool {
    let indent = indent_of(line);
    let rest = &line[indent..];
    let length = rest.len() - rest.trim_start_matches(open.character).len();
    indent <= 3 && length >= open.length && rest[length..].trim().is_empty()
}

/// CommonMark removes up to the opening fence's indentation from each line.
fn strip_indent(line: &str, indent: usize) -> &str {
    &line[indent_of(line).min(indent)..]
}

/// `elixir` from `elixir`, `Elixir lib/a.ex`, `elixir:lib/a.ex` or `{.elixir}`.
fn language(info: &str) -> String {
    let word = info.split_whitespace().next().unwrap_or("");
    let word = word.trim_start_matches(['{', '.']).trim_end_matches('}');
    word.split(':').next().unwrap_or("").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(answer: &str) -> Vec<(String, String)> {
        read(answer).blocks.into_iter().map(|b| (b.language, b.code)).collect()
    }

    #[test]
    fn fences_follow_commonmark() {
        assert_eq!(codes("Hi\n```elixir\na\n```\nbye"), [("elixir".into(), "a\n".into())]);
        assert_eq!(codes("~~~ex\na\n~~~\n"), [("ex".into(), "a\n".into())]);
        assert_eq!(codes("````\n```\ninner\n```\n````\n"), [("".into(), "```\ninner\n```\n".into())]);
        assert_eq!(codes("  ```\n  a\n    b\n  ```\n"), [("".into(), "a\n  b\n".into())], "the fence's indent is removed");
        assert_eq!(codes("```\na\n``` not a close\n```\n"), [("".into(), "a\n``` not a close\n".into())]);
        assert_eq!(codes("    ```\n    code\n    ```\n"), [], "four spaces make an indented code block, not a fence");
        assert_eq!(codes("``` Elixir title\na\n```"), [("elixir".into(), "a\n".into())]);
    }

    #[test]
    fn a_fence_inside_an_elixir_heredoc_does_not_close_the_block() {
        let answer = "```elixir\ndefmodule A do\n  @moduledoc \"\"\"\n  ```\n  A.f()\n  ```\n  \"\"\"\nend\n```\nafter\n";
        let fences = read(answer);
        assert_eq!(fences.blocks.len(), 1);
        assert!(fences.blocks[0].code.ends_with("  \"\"\"\nend\n"));
        assert_eq!(fences.outside, "after\n");
    }

    #[test]
    fn a_block_that_never_closes_is_reported() {
        let fences = read("Here:\n```elixir\ndefmodule A do\n");
        assert!(fences.blocks.is_empty());
        assert_eq!(fences.unclosed.map(|b| b.opened_at_line), Some(2));
    }
}
