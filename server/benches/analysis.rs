//! Speed figures for parsing, incremental re-analysis and `check`.
//!
//! `cargo bench` prints them. Optionally pass a directory of real Elixir
//! code (e.g. a checkout of elixir-lang/elixir) to measure `check` and
//! per-edit re-analysis of its largest files:
//! `cargo bench --bench analysis -- /path/to/elixir/lib`.
//!
//! Two synthetic 5,000-line files are measured because tree-sitter-elixir
//! re-parses them very differently: when a module's last function ends in a
//! `case`/`cond` block, the grammar's ambiguity stays open to the module's
//! end, every node built meanwhile is "fragile", and tree-sitter may not
//! reuse fragile nodes, so an edit costs nearly a full parse.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use elexirion::check;
use elexirion::document::{Document, DocumentKind, PositionEncoding, TextChange, TextPosition};
use elexirion::elixir::{self, parser::ElixirParser, AnalysisOptions};
use rayon::prelude::*;

#[path = "support/timing.rs"]
mod timing;
use timing::ms;

/// A GenServer-shaped module of about 50 lines, numbered so that every copy
/// differs; with `case_last`, its last function ends in a `case` block.
fn module(n: usize, case_last: bool) -> String {
    let summarize = if case_last {
        "    case {count, log} do\n      {0, []} -> :empty\n      {c, [last | _]} when c > 10 -> {:busy, last}\n      {c, _} -> {:idle, c}\n    end"
    } else {
        "    status = if count > 10, do: :busy, else: :idle\n    {status, count, length(log)}"
    };
    format!(
        r#"defmodule Bench.Worker{n} do
  @moduledoc "Worker {n}: keeps a counter and a café-style log (ünïcode)."
  use GenServer
  require Logger

  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)

  def increment(amount \\ 1) when is_integer(amount) do
    GenServer.call(__MODULE__, {{:increment, amount}})
  end

  def log(message), do: GenServer.cast(__MODULE__, {{:log, message}})

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

    {{:noreply, %{{state | log: entries}}}}
  end

  @impl true
  def handle_info(other, state) do
    Logger.debug("unexpected #{{inspect(other)}} in worker {n}")
    {{:noreply, state}}
  end

  defp summarize(%{{count: count, log: log}}) do
{summarize}
  end
end

"#
    )
}

fn elixir_file(lines: usize, case_last: bool) -> String {
    let mut text = String::new();
    let mut n = 0;
    while text.lines().count() < lines {
        text.push_str(&module(n, case_last));
        n += 1;
    }
    text
}

/// [`timing::measure`] with this bench's warm-up.
fn measure(runs: usize, f: impl FnMut()) -> (Duration, Duration) {
    timing::measure(runs.min(5), runs, f)
}

fn main() {
    let dir_arg = std::env::args().skip(1).find(|a| !a.starts_with('-'));

    for (case_last, layout) in [(false, "reusable layout"), (true, "modules ending in `case`")] {
        let text = elixir_file(5_000, case_last);
        println!("5,000-line file, {layout} ({} lines, {} KiB)", text.lines().count(), text.len() / 1024);
        let (median, p95) = measure(30, || {
            let tree = ElixirParser::new().parse_str(&text, None);
            black_box(elixir::analyze(&text, &tree, &AnalysisOptions::default()));
        });
        println!("  full parse + diagnose:            median {}  p95 {}", ms(median), ms(p95));
        let (median, p95) = edit_in_the_middle(&text, 200, &AnalysisOptions::default());
        println!("  one-character edit, re-analysis:  median {}  p95 {}", ms(median), ms(p95));
        let (median, p95) = edit_in_the_middle(&text, 200, &syntax_only());
        println!("    the same, syntax errors only:   median {}  p95 {}", ms(median), ms(p95));
    }

    // A file of typical size: what most keystrokes cost.
    let typical = elixir_file(300, false);
    let (median, p95) = edit_in_the_middle(&typical, 200, &AnalysisOptions::default());
    println!("{}-line file, one-character edit, re-analysis:  median {}  p95 {}", typical.lines().count(), ms(median), ms(p95));

    pipeline_figures();

    let generated;
    let dir = match &dir_arg {
        Some(dir) => PathBuf::from(dir),
        None => {
            generated = tempfile::tempdir().expect("temp dir");
            for i in 0..200 {
                let body: String = (0..10).map(|j| module(i * 10 + j, j % 2 == 0)).collect();
                std::fs::write(generated.path().join(format!("worker_{i}.ex")), body).unwrap();
            }
            generated.path().to_path_buf()
        }
    };
    check_throughput(&dir);
    if dir_arg.is_some() {
        largest_files(&dir);
    }
}

/// What the server does per keystroke, timed: apply the edit, take a
/// snapshot, re-parse incrementally, copy the text out, analyse, keep the tree.
fn edit_in_the_middle(text: &str, runs: usize, options: &AnalysisOptions) -> (Duration, Duration) {
    let mut document = Document::new(text, 0, DocumentKind::Elixir);
    document.tree();
    let middle = (text.lines().count() / 2) as u32;
    let mut version = 0;
    measure(runs, || {
        version += 1;
        let (insert, end) = if version % 2 == 1 { ("x", 0) } else { ("", 1) };
        let change = TextChange {
            range: Some((TextPosition::new(middle, 0), TextPosition::new(middle, end))),
            text: insert.to_string(),
        };
        document.apply_changes(version, &[change], PositionEncoding::Utf16);
        let mut snapshot = document.snapshot();
        snapshot.parse();
        let source = snapshot.text.to_string();
        black_box(elixir::analyze(&source, snapshot.tree().unwrap(), options));
        document.keep_tree(&snapshot);
    })
}

/// Analysis with every rule turned off: parsing and syntax errors alone.
fn syntax_only() -> AnalysisOptions {
    let disable = elexirion::elixir::rules::RULES.iter().map(|r| r.code.to_string()).collect();
    AnalysisOptions { rules: elexirion::elixir::settings::RuleSettings { disable, ..Default::default() }, ..Default::default() }
}

/// Re-analysis after an edit in the middle of each of the ten largest files.
fn largest_files(dir: &Path) {
    let mut files: Vec<(usize, PathBuf, String)> = check::collect_files(&[dir.to_path_buf()])
        .into_iter()
        .filter_map(|path| std::fs::read_to_string(&path).ok().map(|text| (text.lines().count(), path, text)))
        .collect();
    files.sort_by(|a, b| b.0.cmp(&a.0));
    println!("one-character edit in the middle of the largest files:");
    for (lines, path, text) in files.iter().take(10) {
        let (median, _) = edit_in_the_middle(text, 20, &AnalysisOptions::default());
        let name = path.strip_prefix(dir).unwrap_or(path).display();
        println!("  {name:<40} {lines:>6} lines  median {}", ms(median));
    }
}

fn check_throughput(dir: &Path) {
    let paths = vec![dir.to_path_buf()];
    let files = check::collect_files(&paths);
    let sources: Vec<String> = files.iter().filter_map(|f| std::fs::read_to_string(f).ok()).collect();
    let lines: usize = sources.iter().map(|s| s.lines().count()).sum();
    println!("check on {} ({} files, {lines} lines, {} threads)", dir.display(), files.len(), rayon::current_num_threads());

    let (check_time, _) = measure(10, || {
        black_box(check::check_paths(&paths, &Default::default()));
    });
    // Bare tree-sitter: read and parse the same files, in parallel, nothing else.
    let (parse_time, _) = measure(10, || {
        let trees: usize = files
            .par_iter()
            .map_init(ElixirParser::new, |parser, file| {
                let source = std::fs::read_to_string(file).unwrap_or_default();
                parser.parse_str(&source, None).root_node().child_count() as usize
            })
            .sum();
        black_box(trees);
    });
    let per_second = |d: Duration| lines as f64 / d.as_secs_f64();
    println!("  elexirion check:        median {}  ({:.0} lines/s)", ms(check_time), per_second(check_time));
    println!("  bare read + parse:      median {}  ({:.0} lines/s)", ms(parse_time), per_second(parse_time));
    println!("  check / bare parse:     {:.2}x", check_time.as_secs_f64() / parse_time.as_secs_f64());
}

/// A 500-line pipeline: validation, and completion at its end.
fn pipeline_figures() {
    let mut text = String::from("workflow:\n  name: bench\n  steps:\n");
    let mut n = 0;
    while text.lines().count() < 490 {
        let reference = if n > 0 { format!("\n        - type: previous_response\n          step: step_{}", n - 1) } else { String::new() };
        text.push_str(&format!(
            "    - name: step_{n}\n      type: claude_smart\n      preset: analysis\n      prompt:\n        - type: static\n          content: \"Review {{{{inputs.code}}}} part {n}\"{reference}\n"
        ));
        n += 1;
    }
    text.push_str("    - name: last\n      type: claude_robust\n      re");
    let lines = text.lines().count();
    let (median, p95) = measure(50, || {
        black_box(elexirion::pipeline::validate::validate(&text, &Default::default()));
    });
    println!("{lines}-line pipeline, validation:  median {}  p95 {}", ms(median), ms(p95));
    let (median, p95) = measure(200, || {
        black_box(elexirion::pipeline::complete::complete(&text, text.len(), None));
    });
    println!("{lines}-line pipeline, completion at the end:  median {}  p95 {}", ms(median), ms(p95));
}
