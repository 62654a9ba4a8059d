//! Speed and memory of the workspace index: building it over a large tree,
//! re-indexing one file after an edit, and the queries that feed prompts.
//!
//! `cargo bench --bench index` prints the figures. The tree is the
//! directory in `ELEXIRION_BENCH_TREE` when set (e.g. Elixir's own `lib/`,
//! about 286k lines), else a generated project of similar size:
//! `ELEXIRION_BENCH_TREE=/path/to/elixir/lib cargo bench --bench index`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use elexirion::check;
use elexirion::elixir::parser::with_parser;
use elexirion::index::WorkspaceIndex;
use rayon::prelude::*;

#[path = "support/timing.rs"]
mod timing;
use timing::ms;

/// A module of about 50 lines that aliases and calls its neighbours.
fn module(n: usize, modules: usize) -> String {
    let next = (n + 1) % modules;
    let other = (n * 7 + 3) % modules;
    format!(
        r#"defmodule Bench.Worker{n} do
  @moduledoc "Worker {n}."
  use GenServer
  alias Bench.Worker{next}
  alias Bench.Worker{other}, as: Other

  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)

  def fetch(key, default \\ nil) do
    GenServer.call(__MODULE__, {{:fetch, key, default}})
  end

  def put(key, value), do: GenServer.cast(__MODULE__, {{:put, key, value}})

  def relay(key) do
    key
    |> Worker{next}.fetch()
    |> Other.put(:relayed)
  end

  @impl true
  def init(opts), do: {{:ok, Map.new(opts)}}

  @impl true
  def handle_call({{:fetch, key, default}}, _from, state) do
    {{:reply, Map.get(state, key, default), state}}
  end

  @impl true
  def handle_cast({{:put, key, value}}, state) do
    {{:noreply, Map.put(state, key, value)}}
  end

  defp summarize(state) do
    state
    |> Map.keys()
    |> Enum.map(&to_string/1)
    |> Enum.join(", ")
  end
end

"#
    )
}

/// About `lines` lines in files of ten modules, and an application.
fn generate(dir: &Path, lines: usize) {
    let modules = lines / 42; // a module and its blank line
    std::fs::create_dir_all(dir.join("lib/bench")).unwrap();
    for file in 0..modules.div_ceil(10) {
        let text: String = (file * 10..(file * 10 + 10).min(modules)).map(|n| module(n, modules)).collect();
        std::fs::write(dir.join(format!("lib/bench/workers_{file}.ex")), text).unwrap();
    }
    let children: Vec<String> = (0..modules.min(200)).map(|n| format!("      Bench.Worker{n}")).collect();
    let application = format!(
        "defmodule Bench.Application do\n  use Application\n\n  def start(_type, _args) do\n    children = [\n{}\n    ]\n    Supervisor.start_link(children, strategy: :one_for_one)\n  end\nend\n",
        children.join(",\n")
    );
    std::fs::write(dir.join("lib/bench/application.ex"), application).unwrap();
}

/// Resident memory of this process, from /proc (Linux only).
fn rss_kib() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// [`timing::measure`] with this bench's warm-up.
fn measure(runs: usize, f: impl FnMut()) -> (Duration, Duration) {
    timing::measure(0, runs, f)
}

fn main() {
    let generated;
    let dir = match std::env::var_os("ELEXIRION_BENCH_TREE") {
        Some(dir) => PathBuf::from(dir),
        None => {
            generated = tempfile::tempdir().expect("temp dir");
            generate(generated.path(), 286_000);
            generated.path().to_path_buf()
        }
    };
    let files = check::collect_files(std::slice::from_ref(&dir));
    let sources: Vec<(PathBuf, String)> =
        files.iter().filter_map(|f| std::fs::read_to_string(f).ok().map(|s| (f.clone(), s))).collect();
    let lines: usize = sources.iter().map(|(_, s)| s.lines().count()).sum();
    let bytes: usize = sources.iter().map(|(_, s)| s.len()).sum();
    println!(
        "workspace index of {} ({} files, {lines} lines, {} KiB, {} threads)",
        dir.display(),
        files.len(),
        bytes / 1024,
        rayon::current_num_threads()
    );

    // Memory first, in a process that has built nothing yet.
    let before = rss_kib();
    let index = WorkspaceIndex::build(&dir);
    let after = rss_kib();
    let stats = index.stats();
    println!(
        "  found: {} files, {} modules, {} public functions, {} remote calls, {} children lists",
        stats.files, stats.modules, stats.public_functions, stats.calls, stats.child_lists
    );
    if let (Some(before), Some(after)) = (before, after) {
        println!("  memory: RSS {} KiB before, {} KiB after the build: +{} KiB", before, after, after.saturating_sub(before));
    }

    let (median, p95) = measure(5, || {
        black_box(WorkspaceIndex::build(&dir));
    });
    println!("  build (walk, read, parse, index):  median {}  p95 {}  ({:.0} lines/s)", ms(median), ms(p95), lines as f64 / median.as_secs_f64());
    let (parse, _) = measure(5, || {
        let nodes: usize = files
            .par_iter()
            .map(|file| {
                let source = std::fs::read_to_string(file).unwrap_or_default();
                with_parser(|parser| parser.parse_str(&source, None).root_node().child_count() as usize)
            })
            .sum();
        black_box(nodes);
    });
    println!("  bare read + parse, for scale:      median {}  (index / parse {:.2}x)", ms(parse), median.as_secs_f64() / parse.as_secs_f64());

    let mut by_size: Vec<&(PathBuf, String)> = sources.iter().collect();
    by_size.sort_by_key(|(_, s)| s.len());
    let typical = by_size[by_size.len() / 2];
    let largest = by_size[by_size.len() - 1];
    let mut index = index;
    for (label, (path, text)) in [("typical", typical), ("largest", largest)] {
        let (median, p95) = update_after_edit(&mut index, path, text);
        let name = path.strip_prefix(&dir).unwrap_or(path).display();
        println!("  update after one edit, {label} file ({name}, {} lines):  median {}  p95 {}", text.lines().count(), ms(median), ms(p95));
    }

    let (path, _) = largest;
    let module = index.modules_in(path).first().map(|m| m.name.clone()).unwrap_or_default();
    let (median, _) = measure(20, || {
        black_box(index.callers(&module));
    });
    println!("  callers({module}): {} calls, median {}", index.callers(&module).len(), ms(median));
    let (median, _) = measure(20, || {
        black_box(index.context_for(path, None, 4_000));
    });
    let context = index.context_for(path, None, 4_000);
    let cut: Vec<&str> = context.cuts().iter().map(|s| s.variable).collect();
    println!("  context_for(largest file, 4,000 tokens): {} tokens, cut {:?}, median {}", context.tokens(), cut, ms(median));
}

/// Insert a function (with a new remote call) near the end of the file,
/// re-index, then restore it: what a save or a watched change costs.
fn update_after_edit(index: &mut WorkspaceIndex, path: &Path, text: &str) -> (Duration, Duration) {
    let at = text.rfind("\nend").unwrap_or(text.len());
    let edited = format!("{}\n  def bench_added(x), do: Enum.map(x, &Bench.Added.go/1){}", &text[..at], &text[at..]);
    let mut flip = false;
    measure(40, || {
        flip = !flip;
        index.update(path, if flip { &edited } else { text });
    })
}
