//! Speed figures for semantic tokens: a whole 5,000-line file, and the
//! delta after a one-line edit, as the server computes them per request.
//!
//! `cargo bench --bench semantic_tokens` prints median and p95.
//!
//! The tree-sitter query is nearly all of the cost (tree-sitter-elixir's
//! own highlights.scm costs the same on this file); encoding and diffing
//! are well under a millisecond.

use std::hint::black_box;
use std::time::Duration;

use elexirion::document::{Document, DocumentKind, PositionEncoding, TextChange, TextPosition};
use elexirion::elixir::highlight::highlights;
use elexirion::lsp::semantic_tokens::{diff, encode};
use tower_lsp_server::ls_types::SemanticToken;

#[path = "support/timing.rs"]
mod timing;
use timing::ms;

/// A module of about 40 lines with every kind of token, numbered so that
/// every copy differs.
fn module(n: usize) -> String {
    format!(
        r#"defmodule Bench.Worker{n} do
  @moduledoc """
  Worker {n}: keeps a counter and a café-style log (ünïcode 😀).
  """
  use GenServer
  require Logger

  @timeout 5_000

  # Starts the worker.
  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)

  def increment(amount \\ 1) when is_integer(amount) do
    GenServer.call(__MODULE__, {{:increment, amount}}, @timeout)
  end

  @impl true
  def init(opts) do
    {{:ok, %{{count: Keyword.get(opts, :start, {n}), log: []}}}}
  end

  @impl true
  def handle_call({{:increment, amount}}, _from, %{{count: count}} = state) do
    new_count = count + amount
    {{:reply, new_count, %{{state | count: new_count}}}}
  end

  @impl true
  def handle_cast({{:log, message}}, state) do
    entries =
      [message | state.log]
      |> Enum.take(100)
      |> Enum.map(fn entry -> String.trim(entry) end)
      |> Enum.reject(&(&1 =~ ~r/^\s*$/))

    Logger.debug("logged #{{length(entries)}} entries in worker {n}")
    {{:noreply, %{{state | log: entries}}}}
  end
end

"#
    )
}

fn elixir_file(lines: usize) -> String {
    let mut text = String::new();
    let mut n = 0;
    while text.lines().count() < lines {
        text.push_str(&module(n));
        n += 1;
    }
    text
}

/// What a request costs once the tree is current: copy the text out,
/// highlight, encode.
fn tokens(document: &mut Document) -> Vec<SemanticToken> {
    let mut snapshot = document.snapshot();
    snapshot.parse();
    document.keep_tree(&snapshot);
    let source = snapshot.text.to_string();
    encode(&source, &highlights(&source, snapshot.tree().unwrap()), PositionEncoding::Utf16, false)
}

/// [`timing::measure`] with this bench's warm-up.
fn measure(runs: usize, f: impl FnMut()) -> (Duration, Duration) {
    timing::measure(runs.min(5), runs, f)
}

fn main() {
    let text = elixir_file(5_000);
    let mut document = Document::new(&text, 0, DocumentKind::Elixir);
    let first = tokens(&mut document);
    println!("5,000-line file ({} lines, {} KiB, {} tokens)", text.lines().count(), text.len() / 1024, first.len());

    let (median, p95) = measure(30, || {
        let tree = elexirion::elixir::parser::ElixirParser::new().parse_str(&text, None);
        black_box(encode(&text, &highlights(&text, &tree), PositionEncoding::Utf16, false));
    });
    println!("  full tokens, parse included:         median {}  p95 {}", ms(median), ms(p95));
    let (median, p95) = measure(30, || {
        black_box(tokens(&mut document));
    });
    println!("  full tokens, tree already parsed:    median {}  p95 {}", ms(median), ms(p95));
    let tree = elexirion::elixir::parser::ElixirParser::new().parse_str(&text, None);
    let (median, p95) = measure(30, || {
        black_box(highlights(&text, &tree));
    });
    println!("    of which the tree query:           median {}  p95 {}", ms(median), ms(p95));

    // Insert a line in the middle, then take it out again: each request
    // re-parses incrementally, highlights, encodes and diffs.
    let middle = (text.lines().count() / 2) as u32;
    let mut previous = first;
    let mut version = 0;
    let mut edited = 0;
    let (median, p95) = measure(50, || {
        version += 1;
        let change = if version % 2 == 1 {
            TextChange { range: Some((TextPosition::new(middle, 0), TextPosition::new(middle, 0))), text: "    x = :new_line\n".into() }
        } else {
            TextChange { range: Some((TextPosition::new(middle, 0), TextPosition::new(middle + 1, 0))), text: String::new() }
        };
        document.apply_changes(version, &[change], PositionEncoding::Utf16);
        let current = tokens(&mut document);
        let edits = diff(&previous, &current);
        edited = edits.iter().map(|e| e.data.as_ref().map_or(0, Vec::len)).sum::<usize>().max(edited);
        black_box(edits);
        previous = current;
    });
    println!("  delta after a one-line edit:         median {}  p95 {}  (at most {edited} tokens resent)", ms(median), ms(p95));
}
