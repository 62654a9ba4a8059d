//! Syntax errors, few and tight, where Elixir reports them.
//!
//! tree-sitter recovers from a mistake by wrapping whatever it could not
//! place in an ERROR node (often the whole rest of a module) or by inventing
//! a zero-width MISSING token (often at the end of the file). Neither points
//! where a person would look. So the text is first read the way Elixir's
//! tokenizer reads it ([`tokenizer`]): a string never terminated, an opener
//! never closed, a closer closing nothing, `x +` before `end`, each where
//! Elixir reports it (some of which tree-sitter lets through). tree-sitter's
//! errors where those tokens are sound are what Elixir's parser rejects.
//! Each diagnostic also claims the region it explains, and errors inside a
//! claimed region are its consequences, not reported again.

use std::ops::Range;

use tree_sitter::{Node, Tree};

use crate::cancellation::Cancellation;
use crate::finding::{Finding, Severity};

mod tokenizer;

pub const CODE: &str = "EXR000";
pub const NAME: &str = "syntax-error";

/// At most this many per file: past a few, more of them help nobody.
const MAX_ERRORS: usize = 20;

pub fn syntax_errors(source: &str, tree: &Tree) -> Vec<Finding> {
    syntax_errors_unless_cancelled(source, tree, &Cancellation::default())
}

/// [`syntax_errors`], stopping early (with a partial answer) once cancelled.
pub fn syntax_errors_unless_cancelled(source: &str, tree: &Tree, cancel: &Cancellation) -> Vec<Finding> {
    let root = tree.root_node();
    let mistakes = tokenizer::mistakes(source);
    // With every `end` matched, tree-sitter has none to take for a variable
    // (below): a parse without errors is then the whole answer.
    if !root.has_error() && mistakes.is_empty() {
        return Vec::new();
    }
    // tree-sitter takes an `end` it cannot place for a variable, and then
    // the parse may have no error at all.
    let stray_ends = stray_ends(root, source);
    let mistakes: Vec<Candidate> = mistakes
        .into_iter()
        .map(|mistake| {
            let Some(open) = &mistake.open_at_end else {
                return Candidate { range: mistake.range, claims: mistake.claims, message: mistake.message };
            };
            let range = block_open_at_end(root, source, open);
            let message = format!("missing `end`: this `{}` block is never closed", &source[range.clone()]);
            Candidate { range, claims: mistake.claims, message }
        })
        .collect();
    let claimed = Claims::new(&mistakes);

    // tree-sitter's errors outside what the tokenizer's mistakes explain.
    // After the first, the code means something else to Elixir: it stops there.
    let first_mistake = mistakes.iter().map(|m| m.range.start).min().unwrap_or(usize::MAX);
    let mut candidates = collect(root, source, stray_ends.len(), cancel);
    candidates.extend(stray_ends);
    candidates.retain(|c| {
        let extent = c.range.start.min(c.claims.start)..c.range.end.max(c.claims.end);
        c.range.start < first_mistake && !claimed.overlaps(extent)
    });
    // Widest claims first, so that what they explain can be dropped.
    candidates.sort_by_key(|c| (c.claims.start, std::cmp::Reverse(c.claims.end)));
    // Every claim kept so far starts at or before this candidate (a range
    // lies inside its own claim), so the one reaching furthest decides.
    let mut kept: Vec<Candidate> = Vec::new();
    let mut furthest_claim = 0;
    for candidate in candidates {
        let explained = !kept.is_empty() && candidate.range.end <= furthest_claim;
        if !explained {
            furthest_claim = furthest_claim.max(candidate.claims.end);
            kept.push(candidate);
        }
    }
    kept.extend(mistakes);
    kept.sort_by_key(|c| (c.range.start, c.range.end));
    kept.into_iter()
        .take(MAX_ERRORS)
        .map(|c| Finding {
            range: c.range,
            severity: Severity::Error,
            code: CODE,
            name: NAME,
            message: c.message,
            fix: None,
        })
        .collect()
}

/// How many syntax errors `text` has (parsed now).
pub fn count(text: &str) -> usize {
    let tree = crate::elixir::parser::with_parser(|p| p.parse_str(text, None));
    syntax_errors(text, &tree).len()
}

/// Whether `after` has more syntax errors than `before`: the test every
/// machine-made edit must pass before it is written.
pub fn adds_errors(before: &str, after: &str) -> bool {
    count(after) > count(before)
}

struct Candidate {
    /// Where the diagnostic is shown.
    range: Range<usize>,
    /// The region whose other errors this one explains.
    claims: Range<usize>,
    message: String,
}

/// The regions the tokenizer's mistakes explain, to test tree-sitter's
/// errors against.
struct Claims {
    /// By start, each with the furthest end of it and those before it.
    sorted: Vec<(usize, usize)>,
}

impl Claims {
    fn new(mistakes: &[Candidate]) -> Claims {
        let mut sorted: Vec<(usize, usize)> = mistakes.iter().map(|m| (m.claims.start, m.claims.end)).collect();
        sorted.sort_unstable();
        let mut furthest = 0;
        for claim in &mut sorted {
            furthest = furthest.max(claim.1);
            claim.1 = furthest;
        }
        Claims { sorted }
    }

    /// Whether `range` meets a claim (an empty range at a claim's end does).
    fn overlaps(&self, range: Range<usize>) -> bool {
        let starting_before = self.sorted.partition_point(|(start, _)| *start <= range.end);
        starting_before > 0 && self.sorted[starting_before - 1].1 >= range.start
    }
}

/// Where to report a `do` or `fn` block still open at the end of the file.
/// Elixir names the innermost open block, but every `end` it met closed the
/// innermost block then open, so when an `end` was dropped inside, it is
/// the outermost that comes out unclosed. The block that lacks the `end` is
/// likelier the last one inside to borrow an `end` at another indentation
/// than its own (paired alike by Elixir and tree-sitter, which tells where
/// its owner starts), or else the one Elixir's hint names.
fn block_open_at_end(root: Node, source: &str, open: &tokenizer::OpenAtEnd) -> Range<usize> {
    let inside = open.closed_blocks.iter().rev().take_while(|(opener, _)| *opener > open.opener);
    let borrower = inside.filter_map(|&(opener, end)| {
        let opener = root.descendant_for_byte_range(opener, opener + 2)?;
        let block = opener.parent().filter(|block| block.child(0) == Some(opener))?;
        let block_end = block.child(block.child_count().checked_sub(1)?)?;
        (block_end.start_byte() == end).then(|| borrowed_end_opener(block, source)).flatten()
    });
    let opener = open.hinted.unwrap_or(open.opener);
    // `do` and `fn` alike are two bytes long.
    borrower.map(|b| b.byte_range()).next().unwrap_or(opener..opener + 2)
}

/// Every ERROR and MISSING node explained, found with a cursor rather than
/// recursion: real code nests deeply. Each of `stray_ends` explains one
/// `end` that tree-sitter had to invent: the block it should have closed
/// lent it to the code inside.
fn collect(root: Node, source: &str, stray_ends: usize, cancel: &Cancellation) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut lent_ends = stray_ends;
    super::syntax::walk(root, &mut |node| {
        if cancel.is_cancelled() {
            false
        } else if node.is_missing() && node.kind() == "end" && lent_ends > 0 {
            lent_ends -= 1;
            false
        } else if node.is_missing() {
            // Where the tokens are sound, a closer tree-sitter invents is its
            // way out of code it cannot parse, not a closer missing.
            let at = node.start_byte();
            let message = format!("syntax error: expected {} here", describe_kind(node.kind()));
            out.push(Candidate { range: at..at, claims: at..at, message });
            false
        } else if node.is_error() {
            out.push(explain_error(node, source));
            false
        } else {
            node.has_error()
        }
    });
    out
}

/// Every `end` outside ERROR nodes that tree-sitter read as a variable,
/// which Elixir never does (`map.end` is a field, not this): the code
/// before it is incomplete (`x +` then `end`, which the tokenizer names) or
/// it closes nothing.
fn stray_ends(root: Node, source: &str) -> Vec<Candidate> {
    let mut out = Vec::new();
    super::syntax::walk(root, &mut |node| {
        if node.kind() == "identifier" && &source[node.byte_range()] == "end" {
            if node.parent().is_none_or(|p| p.kind() != "dot") {
                let message = "syntax error: unexpected `end`: it has no `do` to close".to_string();
                out.push(Candidate { range: node.byte_range(), claims: node.byte_range(), message });
            }
            false
        } else {
            !node.is_error()
        }
    });
    out
}

/// An ERROR node where the tokens are sound: code Elixir's parser rejects.
/// tree-sitter wraps in one ERROR all it could not close because of a
/// mistake further in (a whole module, for `x ..` then `end`): the first
/// nested ERROR is where it is shown, and what it claims (no other error is
/// looked for inside the node).
fn explain_error(error: Node, source: &str) -> Candidate {
    let error = first_nested_error(error);
    let text = &source[error.byte_range()];
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let start = error.start_byte() + text.find(first_line).unwrap_or(0);
    let range = start..start + first_line.len();
    let message = if first_line.len() == text.trim().len() && first_line.chars().count() <= 40 {
        format!("syntax error: unexpected `{first_line}`")
    } else {
        "syntax error: this code could not be parsed".to_string()
    };
    Candidate { range, claims: error.byte_range(), message }
}

/// The innermost ERROR on the way to the first error inside `error`.
fn first_nested_error(error: Node) -> Node {
    let mut innermost = error;
    let mut node = error;
    loop {
        let mut cursor = node.walk();
        let Some(child) = node.children(&mut cursor).find(|c| c.has_error() && !c.is_missing()) else {
            return innermost;
        };
        if child.is_error() {
            innermost = child;
        }
        node = child;
    }
}

/// The opener (`do` or `fn`) of a block whose `end` starts its own line at
/// another indentation than the line the block opens on.
fn borrowed_end_opener<'t>(block: Node<'t>, source: &str) -> Option<Node<'t>> {
    let end = block.child(block.child_count().checked_sub(1)?)?;
    if end.kind() != "end" || end.is_missing() {
        return None;
    }
    let opener = block.child(0).filter(|o| matches!(o.kind(), "do" | "fn"))?;
    let owner_start = block.parent().filter(|_| opener.kind() == "do").unwrap_or(block).start_byte();
    let (owner_line, owner_indent) = line_and_indent(source, owner_start);
    let (end_line, end_indent) = line_and_indent(source, end.start_byte());
    let end_starts_line = end_indent == end.start_byte() - end_line;
    (end_line != owner_line && end_starts_line && end_indent != owner_indent).then_some(opener)
}

fn line_start(source: &str, byte: usize) -> usize {
    source[..byte].rfind('\n').map_or(0, |i| i + 1)
}

/// Where the line holding `byte` starts (which tells lines apart without
/// counting them from the top) and its indentation width in bytes.
fn line_and_indent(source: &str, byte: usize) -> (usize, usize) {
    let start = line_start(source, byte);
    let indent = source[start..].bytes().take_while(|b| *b == b' ' || *b == b'\t').count();
    (start, indent)
}

fn describe_kind(kind: &str) -> String {
    if kind.chars().all(|c| c.is_alphanumeric() || c == '_') {
        kind.replace('_', " ")
    } else {
        format!("`{kind}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elixir::parser::ElixirParser;

    /// Each case: source, then every error as `line:column text | message`
    /// (1-based, the text under the diagnostic's range).
    fn check(source: &str, expected: &[&str]) {
        let tree = ElixirParser::new().parse_str(source, None);
        let found: Vec<String> = syntax_errors(source, &tree)
            .iter()
            .map(|f| {
                let line = source[..f.range.start].matches('\n').count() + 1;
                let column = f.range.start - line_start(source, f.range.start) + 1;
                format!("{line}:{column} {} | {}", &source[f.range.clone()], f.message)
            })
            .collect();
        assert_eq!(found, expected, "in:\n{source}");
    }

    #[test]
    fn valid_code_has_no_errors() {
        check("defmodule A do\n  def f(x), do: [x | [1]]\n  def g(<<a, _::binary>>), do: a\nend\n", &[]);
        // What the tokenizer must read as Elixir does: literals holding
        // delimiters, operator keywords, `end` as a field or key, `..` alone.
        check(concat!(
            "defmodule A do\n",
            "  @moduledoc \"\"\"\n",
            "  Docs with #{1 + 1}, \"quotes\" and a # that is no comment.\n",
            "  \"\"\"\n",
            "  import Kernel, except: [+: 2, &&&: 2, @: 1]\n",
            "  @doc ~S\"\"\"\n",
            "  Raw #{not interpolated} ( [ {\n",
            "  \"\"\"\n",
            "  def f(x, opts \\\\ []) when is_list(opts) do\n",
            "    node = :nonode@nohost\n",
            "    map = %{\"do\" => :do, end: :end, %{}: 1}\n",
            "    y = x.end + String.length(\"#{\"nested #{x}\"}\") + ?\" + ?# + ?\\\\ + 0x1F + 1.0e-3\n",
            "    z = if x =~ ~r/a(b/i, do: <<y::binary-size(4), \"end\">>, else: 'charlist'\n",
            "    fun = fn -> end\n",
            "    all = ..\n",
            "    Kernel.\"is_atom\"(:\"quoted #{x}\") and map.end and [do: 1][:do]\n",
            "    {node, z, fun, all, __MODULE__}\n",
            "  end\n",
            "end\n",
        ), &[]);
    }

    #[test]
    fn a_missing_end_is_blamed_on_the_block_that_borrowed_the_next_end() {
        let source = "defmodule A do\n  def f(x) do\n    x + 1\n\n  def g, do: 2\nend\n";
        check(source, &["2:12 do | missing `end`: this `do` block is never closed"]);
        let source = "defmodule A do\n  def f(x) do\n    case x do\n      1 -> :a\n      2 ->\n  end\nend\n";
        check(source, &["3:12 do | missing `end`: this `do` block is never closed"]);
    }

    #[test]
    fn a_missing_final_end_is_blamed_on_the_outer_block() {
        check("defmodule A do\n  def f(x) do\n    x\n  end\n", &["1:13 do | missing `end`: this `do` block is never closed"]);
    }

    #[test]
    fn an_unclosed_fn_is_named() {
        let source = "defmodule A do\n  def f(x) do\n    Enum.map(x, fn y ->\n      y + 1\n    )\n  end\nend\n";
        check(source, &["3:17 fn | missing `end`: this `fn` block is never closed"]);
    }

    #[test]
    fn unclosed_brackets_are_reported_at_the_opener_once() {
        check("defmodule A do\n  def f(x) do\n    foo(x, \n  end\nend\n", &["3:8 ( | unclosed `(`: no matching `)`"]);
        check("defmodule A do\n  def f(x) do\n    [1, 2\n  end\nend\n", &["3:5 [ | unclosed `[`: no matching `]`"]);
        check("defmodule A do\n  def f(x) do\n    %{a: 1\n  end\nend\n", &["3:6 { | unclosed `{`: no matching `}`"]);
        // The stray `y = 2` inside the open call is a consequence, not a second error.
        check(
            "defmodule A do\n  def f(x) do\n    foo(x, 1\n    y = 2\n  end\nend\n",
            &["3:8 ( | unclosed `(`: no matching `)`"],
        );
    }

    #[test]
    fn unterminated_strings_and_heredocs_point_at_their_opening_quote() {
        check("defmodule A do\n  def f(x) do\n    \"abc\n  end\nend\n", &["3:5 \" | unterminated string: no closing `\"`"]);
        check(
            "defmodule A do\n  @doc \"\"\"\n  hello\n  def f, do: 1\nend\n",
            &["2:8 \"\"\" | unterminated heredoc: no closing `\"\"\"`"],
        );
    }

    #[test]
    fn stray_tokens_are_unexpected() {
        check("defmodule A do\n  def f(x) do\n    x)\n  end\nend\n", &["3:6 ) | syntax error: unexpected `)`"]);
        check("x = 1 +* 2\ny = 3\n", &["1:8 * | syntax error: unexpected `*`"]);
    }

    #[test]
    fn independent_mistakes_are_reported_separately() {
        check(
            "defmodule A do\n  def f(x) do\n    x +* 1\n  end\n\n  def g(y) do\n    [y\n  end\nend\n",
            &["3:8 * | syntax error: unexpected `*`", "7:5 [ | unclosed `[`: no matching `]`"],
        );
        check(
            "defmodule A do\n  def f(x) do\n    x)\n  end\n\n  def g(y) do\n    y]\n  end\nend\n",
            &["3:6 ) | syntax error: unexpected `)`", "7:6 ] | syntax error: unexpected `]`"],
        );
        let source = "defmodule A do\n  def f(x), do: foo(x\n  def g(y), do: [y\n  def h, do: 1 +* 2\nend\n";
        let tree = ElixirParser::new().parse_str(source, None);
        assert!(syntax_errors(source, &tree).len() >= 2);
    }

    #[test]
    fn an_expression_cut_short_before_end_is_reported_where_it_is_cut() {
        // Mid-typing. Elixir: "syntax error before: 'end'" on line 4; tree-sitter
        // reads that `end` as a variable and invents the module's `end` instead,
        // which once made this a missing `end` on the `def` line.
        let source = "defmodule A do\n  def f(x) do\n    x +\n  end\nend\n";
        check(source, &["3:7 + | syntax error: nothing follows `+`"]);
        let source = "defmodule A do\n  def f(x) do\n    x |>\n  end\nend\n";
        check(source, &["3:7 |> | syntax error: nothing follows `|>`"]);
        check("x = 1 +\n", &["1:7 + | syntax error: nothing follows `+` at the end of the file"]);
        // Elixir: "unexpected reserved word: end" on line 5, with the hint that
        // the `end` on line 4 has no `do`; tree-sitter finds no error.
        let source = "defmodule A do\n  def f(x) when\n    x > 1\n  end\nend\n";
        check(source, &["4:3 end | syntax error: unexpected `end`: it has no `do` to close"]);
    }

    #[test]
    fn mistakes_are_where_elixirs_tokenizer_finds_them() {
        // Elixir: "unexpected reserved word: do" (tree-sitter lets it through).
        check(
            "defmodule A do\n  def f(x), do\n    x\n  end\nend\n",
            &["2:13 do | syntax error: unexpected `do`: a `do` block follows a call's arguments, a keyword argument is written `do:`"],
        );
        // Elixir: "unexpected token: ). The \"do\" at line 3 is missing terminator \"end\"".
        check("defmodule A do\n  def f(x) do\n    File.close(do x)\n  end\nend\n", &["3:16 do | missing `end`: this `do` block is never closed"]);
        // Elixir: "unexpected keyword: do:".
        check("defmodule A do\n  def f(x) do: x\nend\n", &["2:12 do: | syntax error: unexpected keyword `do:`: a comma is missing before it"]);
        check("defmodule A do\n  @re ~r/abc\n  def f, do: 1\nend\n", &["2:7 ~r/ | unterminated sigil `~r`: no closing `/`"]);
        // Elixir: "unexpected reserved word: end", with the hint that the `end`
        // on line 5, deeper than its `do`, matches none.
        check(
            "defmodule A do\n  def f(x) do\n    x\n    end\n  end\nend\n",
            &["5:3 end | syntax error: unexpected `end`: it has no `do` to close"],
        );
        check("x = `y`\n", &["1:5 ` | syntax error: unexpected ```", "1:7 ` | syntax error: unexpected ```"]);
    }

    #[test]
    fn end_as_a_field_or_key_is_valid() {
        check("x = range.end\ny = [end: 1, do: 2]\nz = :end\n", &[]);
    }

    #[test]
    fn a_bracket_whose_closer_was_taken_by_an_earlier_opener_is_not_blamed() {
        // Elixir: "The \"(\" at line 2 is missing terminator \")\"".
        let source = "defmodule A do\n  def f(users do\n    :ok\n  end\n\n  def g(users) when is_list(users) do\n    :ok\n  end\nend\n";
        check(source, &["2:8 ( | unclosed `(`: no matching `)`"]);
    }

    #[test]
    fn a_file_full_of_errors_is_capped() {
        let source = "x = 1 +* 2\n".repeat(50);
        let tree = ElixirParser::new().parse_str(&source, None);
        assert_eq!(syntax_errors(&source, &tree).len(), MAX_ERRORS);
    }
}
