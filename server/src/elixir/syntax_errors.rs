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

use crate::finding::{Finding, Severity};

pub const CODE: &str = "EXR000";
pub const NAME: &str = "syntax-error";

/// At most this many per file: past a few, more of them help nobody.
const MAX_ERRORS: usize = 20;

pub fn syntax_errors(source: &str, tree: &Tree) -> Vec<Finding> {
    let root = tree.root_node();
    if !root.has_error() {
        return Vec::new();
    }
    let mut candidates = collect(root, source);

    // Widest claims first, so that what they explain can be dropped.
    candidates.sort_by_key(|c| (c.claims.start, std::cmp::Reverse(c.claims.end)));
    let mut kept: Vec<Candidate> = Vec::new();
    for candidate in candidates {
        let explained = kept.iter().any(|k| {
            k.claims.start <= candidate.range.start && candidate.range.end <= k.claims.end
        });
        if !explained {
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
        })
        .collect()
}

struct Candidate {
    /// Where the diagnostic is shown.
    range: Range<usize>,
    /// The region whose other errors this one explains.
    claims: Range<usize>,
    message: String,
}

/// Every ERROR and MISSING node that is not inside another ERROR, found with
/// a cursor rather than recursion: real code nests deeply.
fn collect(root: Node, source: &str) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        let descend = if node.is_missing() {
            out.push(explain_missing(node, source));
            false
        } else if node.is_error() {
            out.push(explain_error(node, source));
            false
        } else {
            node.has_error()
        };
        if descend && cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return out;
            }
        }
    }
}

fn explain_missing(missing: Node, source: &str) -> Candidate {
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
            let blamed = unclosed_block(parent, source).unwrap_or(opener);
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

fn explain_error(error: Node, source: &str) -> Candidate {
    let claims = error.byte_range();
    if let Some(cause) = scan_delimiters(error, source) {
        return Candidate { range: cause.range, claims, message: cause.message };
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
    Candidate { range, claims, message }
}

struct Cause {
    range: Range<usize>,
    message: String,
}

/// Walk the tokens inside an ERROR node, matching openers with closers, and
/// name the first thing that cannot match: an unterminated string, then the
/// innermost unclosed opener, then a closer with nothing to close.
fn scan_delimiters(error: Node, source: &str) -> Option<Cause> {
    let mut open: Vec<Node> = Vec::new();
    let mut unclosed: Vec<Node> = Vec::new();
    let mut stray_closer: Option<Node> = None;
    for token in leaves(error) {
        let kind = token_kind(token, source);
        if is_quote(kind) && token.parent() == Some(error) {
            return Some(Cause {
                range: token.byte_range(),
                message: format!("unterminated string: no closing `{kind}`"),
            });
        }
        if closer_for(kind).is_some() {
            open.push(token);
        } else if let Some(position) = open.iter().rposition(|o| closer_for(o.kind()) == Some(kind)) {
            unclosed.extend(open.drain(position..).skip(1));
        } else if is_closer(kind) && stray_closer.is_none() {
            stray_closer = Some(token);
        }
    }
    unclosed.extend(open);
    // Blocks (`do`, `fn`) left open are usually closed by text after the
    // error; brackets are the likelier culprits.
    let innermost = unclosed
        .iter()
        .filter(|o| !matches!(o.kind(), "do" | "fn"))
        .max_by_key(|o| o.start_byte())
        .copied();
    if let Some(opener) = innermost {
        let closer = closer_for(opener.kind()).unwrap_or("");
        return Some(Cause {
            range: opener.byte_range(),
            message: format!("unclosed `{}`: no matching `{closer}`", opener.kind()),
        });
    }
    stray_closer.map(|closer| Cause {
        range: closer.byte_range(),
        message: format!("syntax error: unexpected `{}`", token_kind(closer, source)),
    })
}

/// For a `do` block whose `end` tree-sitter had to invent, find the block
/// that really lacks it. A block that is not closed borrows the `end` of the
/// block around it, so that `end` sits at the wrong indentation for it; the
/// innermost such block is the one the author left open.
fn unclosed_block<'t>(block: Node<'t>, source: &str) -> Option<Node<'t>> {
    let mut blamed: Option<Node<'t>> = None;
    let mut cursor = block.walk();
    loop {
        let node = cursor.node();
        if matches!(node.kind(), "do_block" | "anonymous_function") && node != block {
            if let Some(opener) = borrowed_end_opener(node, source) {
                if blamed.is_none_or(|b| opener.start_byte() > b.start_byte()) {
                    blamed = Some(opener);
                }
            }
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.node() == block {
                return blamed;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return blamed;
            }
        }
    }
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
    let end_starts_line = end_indent == end.start_byte() - line_start(source, end.start_byte());
    (end_line != owner_line && end_starts_line && end_indent != owner_indent).then_some(opener)
}

fn line_start(source: &str, byte: usize) -> usize {
    source[..byte].rfind('\n').map_or(0, |i| i + 1)
}

/// The line number and indentation width (in bytes) of the line holding `byte`.
fn line_and_indent(source: &str, byte: usize) -> (usize, usize) {
    let start = line_start(source, byte);
    let indent = source[start..].bytes().take_while(|b| *b == b' ' || *b == b'\t').count();
    (source[..start].matches('\n').count(), indent)
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
