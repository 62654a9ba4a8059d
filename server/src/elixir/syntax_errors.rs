//! Syntax errors from tree-sitter's ERROR and MISSING nodes, turned into few,
//! tight diagnostics.
//!
//! tree-sitter recovers from a mistake by wrapping whatever it could not
//! place in an ERROR node (often the whole rest of a module) or by inventing
//! a zero-width MISSING token (often at the end of the file). Neither points
//! where a person would look, so each is traced back to its likely cause:
//! the opener never closed, the string never terminated, the `do` whose
//! `end` is missing. Each diagnostic also claims the region it explains, and
//! errors inside a claimed region are its consequences, not reported again.

use std::ops::Range;

use tree_sitter::{Node, Tree};

use crate::cancellation::Cancellation;
use crate::finding::{Finding, Severity};

pub const CODE: &str = "EXR000";
pub const NAME: &str = "syntax-error";

/// ERROR nodes scanned read at most this many times the file's size in all.
const SCAN_BUDGET_PER_BYTE: usize = 8;

/// At most this many per file: past a few, more of them help nobody.
const MAX_ERRORS: usize = 20;

pub fn syntax_errors(source: &str, tree: &Tree) -> Vec<Finding> {
    syntax_errors_unless_cancelled(source, tree, &Cancellation::default())
}

/// [`syntax_errors`], stopping early (with a partial answer) once cancelled.
pub fn syntax_errors_unless_cancelled(source: &str, tree: &Tree, cancel: &Cancellation) -> Vec<Finding> {
    let root = tree.root_node();
    // tree-sitter takes an `end` it cannot place for a variable, and then
    // the parse may have no error at all.
    let stray_ends = stray_ends(root, source);
    if !root.has_error() && stray_ends.is_empty() {
        return Vec::new();
    }
    let mut candidates = collect(root, source, stray_ends.len(), cancel);
    candidates.extend(stray_ends);

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

/// Every ERROR and MISSING node explained, found with a cursor rather than
/// recursion: real code nests deeply. An ERROR whose causes were found is
/// searched further, for independent mistakes inside the code it holds.
/// Each of `stray_ends` explains one `end` that tree-sitter had to invent:
/// the block it should have closed lent it to the code inside.
fn collect(root: Node, source: &str, stray_ends: usize, cancel: &Cancellation) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut lent_ends = stray_ends;
    let mut borrowers = None;
    // ERROR nodes nest, and each scan reads all the code inside its node:
    // thousands of unclosed brackets would make that quadratic. Past a few
    // readings of the whole file, nested ERROR nodes are only searched for
    // MISSING nodes, no longer scanned.
    let mut scan_budget = SCAN_BUDGET_PER_BYTE * source.len().max(1024);
    super::syntax::walk(root, &mut |node| {
        if cancel.is_cancelled() {
            false
        } else if node.is_error() && node.byte_range().len() > scan_budget {
            node.has_error()
        } else if node.is_missing() && node.kind() == "end" && lent_ends > 0 {
            lent_ends -= 1;
            false
        } else if node.is_missing() {
            // Found once for the whole file: nested blocks missing their `end`
            // would otherwise each walk all the code inside them.
            let borrowers = borrowers.get_or_insert_with(|| blocks_borrowing_an_end(root, source));
            out.push(explain_missing(node, borrowers));
            false
        } else if node.is_error() {
            scan_budget -= node.byte_range().len();
            let (causes, understood) = explain_error(node, source);
            out.extend(causes);
            understood
        } else {
            node.has_error()
        }
    });
    out
}

/// Every `end` outside ERROR nodes that tree-sitter read as a variable,
/// which Elixir never does (`map.end` is a field, not this): the code
/// before it is incomplete (`x +` then `end`) or it closes nothing.
fn stray_ends(root: Node, source: &str) -> Vec<Candidate> {
    let mut out = Vec::new();
    super::syntax::walk(root, &mut |node| {
        if node.kind() == "identifier" && &source[node.byte_range()] == "end" {
            if node.parent().is_none_or(|p| p.kind() != "dot") {
                out.push(explain_stray_end(node, source));
            }
            false
        } else {
            !node.is_error()
        }
    });
    out
}

fn explain_stray_end(end: Node, source: &str) -> Candidate {
    let operator = end
        .parent()
        .filter(|p| matches!(p.kind(), "binary_operator" | "unary_operator"))
        .and_then(|p| p.child_by_field_name("operator"))
        .map(|o| &source[o.byte_range()]);
    let message = match operator {
        Some(operator) => format!("syntax error: unexpected `end`: `{operator}` has nothing on its right"),
        None => "syntax error: unexpected `end`: it has no `do` to close".to_string(),
    };
    Candidate { range: end.byte_range(), claims: end.byte_range(), message }
}

fn explain_missing<'t>(missing: Node<'t>, borrowers: &[Node<'t>]) -> Candidate {
    let kind = missing.kind();
    let at = missing.start_byte();
    let parent = missing.parent();
    let opener = parent.and_then(|p| {
        let mut cursor = p.walk();
        let found = p.children(&mut cursor).find(|c| closer_for(c.kind()) == Some(kind));
        found
    });
    match (opener, parent) {
        (Some(opener), Some(parent)) if kind == "end" => {
            let blamed = unclosed_block(parent, borrowers).unwrap_or(opener);
            Candidate {
                range: blamed.byte_range(),
                claims: blamed.start_byte()..parent.end_byte(),
                message: format!("missing `end`: this `{}` block is never closed", blamed.kind()),
            }
        }
        (Some(opener), Some(parent)) => Candidate {
            range: opener.byte_range(),
            claims: parent.byte_range(),
            message: format!("unclosed `{}`: no matching `{kind}`", opener.kind()),
        },
        _ => Candidate {
            range: at..at,
            claims: at..at,
            message: format!("syntax error: expected {} here", describe_kind(kind)),
        },
    }
}

/// The causes of an ERROR node, and whether they were understood. Causes
/// claim only themselves; an error not understood claims its whole node.
fn explain_error(error: Node, source: &str) -> (Vec<Candidate>, bool) {
    let causes = scan_delimiters(error, source);
    if !causes.is_empty() {
        let candidates = causes
            .into_iter()
            .map(|cause| Candidate { claims: cause.range.clone(), range: cause.range, message: cause.message })
            .collect();
        return (candidates, true);
    }
    let text = &source[error.byte_range()];
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let start = error.start_byte() + text.find(first_line).unwrap_or(0);
    let range = start..start + first_line.len();
    let message = if first_line.len() == text.trim().len() && first_line.chars().count() <= 40 {
        format!("syntax error: unexpected `{first_line}`")
    } else {
        "syntax error: this code could not be parsed".to_string()
    };
    (vec![Candidate { range, claims: error.byte_range(), message }], false)
}

struct Cause {
    range: Range<usize>,
    message: String,
}

/// Walk the tokens inside an ERROR node, matching openers with closers, and
/// name what cannot match: an unterminated string (all that follows it is
/// string content), else every unclosed bracket and every closer with
/// nothing to close.
fn scan_delimiters(error: Node, source: &str) -> Vec<Cause> {
    // Each opener with the closer it waits for. Only a closer searches this
    // stack: thousands of open `do`s must not make every token slow.
    let mut open: Vec<(Node, &'static str)> = Vec::new();
    let mut unmatched: Vec<Node> = Vec::new();
    for token in leaves(error) {
        let kind = token_kind(token, source);
        if is_quote(kind) && token.parent() == Some(error) {
            let message = format!("unterminated string: no closing `{kind}`");
            return vec![Cause { range: token.byte_range(), message }];
        }
        if let Some(closer) = closer_for(kind) {
            open.push((token, closer));
        } else if is_closer(kind) {
            match open.iter().rposition(|(_, closer)| *closer == kind) {
                Some(position) => unmatched.extend(open.drain(position..).skip(1).map(|(opener, _)| opener)),
                None => unmatched.push(token),
            }
        }
    }
    unmatched.extend(open.into_iter().map(|(opener, _)| opener));
    // Blocks (`do`, `fn`) left open are usually closed by text after the
    // error; brackets are the likelier culprits.
    unmatched.retain(|token| !matches!(token.kind(), "do" | "fn"));
    let unmatched = unmatched.into_iter().map(|token| lender_of_closer(token, error, source).unwrap_or(token));
    let mut unmatched: Vec<Node> = unmatched.collect();
    unmatched.sort_by_key(|token| token.start_byte());
    unmatched.dedup();
    unmatched
        .into_iter()
        .map(|token| {
            let kind = token_kind(token, source);
            let message = match closer_for(kind) {
                Some(closer) => format!("unclosed `{kind}`: no matching `{closer}`"),
                None => format!("syntax error: unexpected `{kind}`"),
            };
            Cause { range: token.byte_range(), message }
        })
        .collect()
}

/// For a bracket left open inside `error` when the closer right after the
/// error, on the same line, was matched with an opener on an earlier line:
/// that earlier opener. `f(a do` ... `g(b)` reads as `f(a do ... g(b)`, the
/// `)` of `g(b)` closing `f(`; the `(` never closed is the first one.
fn lender_of_closer<'t>(opener: Node<'t>, error: Node<'t>, source: &str) -> Option<Node<'t>> {
    let closer = error.next_sibling().filter(|c| Some(c.kind()) == closer_for(token_kind(opener, source)))?;
    let borrower = closer.parent()?.child(0).filter(|o| o.kind() == opener.kind())?;
    let same_line = |a: Node, b: Node| a.start_position().row == b.start_position().row;
    (same_line(opener, closer) && !same_line(borrower, closer)).then_some(borrower)
}

/// For a `do` block whose `end` tree-sitter had to invent, find the block
/// that really lacks it. A block that is not closed borrows the `end` of the
/// block around it, so that `end` sits at the wrong indentation for it; the
/// innermost such block is the one the author left open: the last of
/// `borrowers` (in document order) that starts inside `block`.
fn unclosed_block<'t>(block: Node<'t>, borrowers: &[Node<'t>]) -> Option<Node<'t>> {
    let after_end = borrowers.partition_point(|opener| opener.start_byte() < block.end_byte());
    borrowers[..after_end].last().filter(|opener| opener.start_byte() > block.start_byte()).copied()
}

/// The openers of every block that borrowed another block's `end`, in
/// document order.
fn blocks_borrowing_an_end<'t>(root: Node<'t>, source: &str) -> Vec<Node<'t>> {
    let mut openers = Vec::new();
    super::syntax::walk(root, &mut |node| {
        if matches!(node.kind(), "do_block" | "anonymous_function") {
            openers.extend(borrowed_end_opener(node, source));
        }
        true
    });
    openers.sort_by_key(Node::start_byte);
    openers
}

/// The opener (`do` or `fn`) of a block whose `end` starts its own line at
/// another indentation than the line the block opens on.
fn borrowed_end_opener<'t>(block: Node<'t>, source: &str) -> Option<Node<'t>> {
    let end = block.child(block.child_count().checked_sub(1)? as u32)?;
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

/// The leaves below `node`, in order.
fn leaves(node: Node) -> Vec<Node> {
    let mut out = Vec::new();
    let mut cursor = node.walk();
    loop {
        let current = cursor.node();
        if current.child_count() == 0 {
            out.push(current);
        } else if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.node() == node {
                return out;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return out;
            }
        }
    }
}

/// Inside an ERROR node `end` may come back as a plain identifier.
fn token_kind<'a>(token: Node<'a>, source: &str) -> &'a str {
    if token.kind() == "identifier" && &source[token.byte_range()] == "end" {
        "end"
    } else {
        token.kind()
    }
}

fn closer_for(opener: &str) -> Option<&'static str> {
    Some(match opener {
        "(" => ")",
        "[" => "]",
        "{" => "}",
        "<<" => ">>",
        "do" | "fn" => "end",
        _ => return None,
    })
}

fn is_closer(kind: &str) -> bool {
    matches!(kind, ")" | "]" | "}" | ">>" | "end")
}

fn is_quote(kind: &str) -> bool {
    matches!(kind, "\"" | "'" | "\"\"\"" | "'''")
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
            &["2:8 \"\"\" | unterminated string: no closing `\"\"\"`"],
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
    fn an_expression_cut_short_before_end_is_reported_at_the_end_it_swallowed() {
        // Elixir: "syntax error before: 'end'" on line 4. tree-sitter reads that
        // `end` as a variable and invents the module's `end` instead.
        let source = "defmodule A do\n  def f(x) do\n    x +\n  end\nend\n";
        check(source, &["4:3 end | syntax error: unexpected `end`: `+` has nothing on its right"]);
        // Elixir: "unexpected reserved word: end" on line 5; tree-sitter finds no error.
        let source = "defmodule A do\n  def f(x) when\n    x > 1\n  end\nend\n";
        check(source, &["5:1 end | syntax error: unexpected `end`: it has no `do` to close"]);
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
