//! What tracing syntax errors costs on the worst input for it: a file of
//! `do` blocks none of which is closed, so that tree-sitter's tree is one
//! deep heap of ERROR nodes. Printed apart: tree-sitter's own parse, the
//! tracing of its errors to their causes, and the two together; then the
//! tracing of a valid file of the same size, which every analysis pays: the
//! tokenizer's pass alone, tree-sitter having found nothing.
//! `cargo bench --bench syntax_errors` prints the figures.

use std::hint::black_box;

use elexirion::elixir::parser::ElixirParser;
use elexirion::elixir::syntax_errors::syntax_errors;

#[path = "support/timing.rs"]
mod timing;
use timing::ms;

/// `lines` lines of modules, functions and `case`s, every one left open.
fn unclosed_blocks(lines: usize) -> String {
    (0..lines.div_ceil(4)).map(|i| format!("defmodule M{i} do\n  def f{i}(x) do\n    case x do\n      {i} -> :ok\n")).collect()
}

/// The same blocks, closed.
fn closed_blocks(lines: usize) -> String {
    (0..lines.div_ceil(7))
        .map(|i| format!("defmodule M{i} do\n  def f{i}(x) do\n    case x do\n      {i} -> :ok\n    end\n  end\nend\n"))
        .collect()
}

fn main() {
    for lines in [10_000, 50_000] {
        let text = unclosed_blocks(lines);
        println!("{lines} lines of unclosed `do` blocks ({} KiB)", text.len() / 1024);
        let (parse, _) = timing::measure(1, 5, || {
            black_box(ElixirParser::new().parse_str(&text, None));
        });
        let tree = ElixirParser::new().parse_str(&text, None);
        let (tracing, tracing_p95) = timing::measure(2, 20, || {
            black_box(syntax_errors(&text, &tree));
        });
        let (total, _) = timing::measure(1, 5, || {
            let tree = ElixirParser::new().parse_str(&text, None);
            black_box(syntax_errors(&text, &tree));
        });
        let first = syntax_errors(&text, &tree).into_iter().next().map(|e| e.message);
        println!("  tree-sitter parse:       median {}", ms(parse));
        println!("  syntax-error tracing:    median {}  p95 {}", ms(tracing), ms(tracing_p95));
        println!("  parse + tracing:         median {}", ms(total));
        println!("  reported: {first:?}");

        let valid = closed_blocks(lines);
        let tree = ElixirParser::new().parse_str(&valid, None);
        let (tracing, tracing_p95) = timing::measure(2, 20, || {
            black_box(syntax_errors(&valid, &tree));
        });
        println!("  the same blocks closed, tracing (finds nothing): median {}  p95 {}", ms(tracing), ms(tracing_p95));
    }
}
