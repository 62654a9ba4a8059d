//! The workspace index over a small Mix project on disk: modules, callers,
//! supervision children, test files, edits, and the context for prompts.

use std::fs;
use std::path::{Path, PathBuf};

use elexirion::index::{Fit, WorkspaceIndex};

const MIX: &str = r#"defmodule App.MixProject do
  use Mix.Project

  def project, do: [app: :app, version: "0.1.0"]
  def application, do: [mod: {App.Application, []}]
end
"#;

const APPLICATION: &str = r#"defmodule App.Application do
  use Application

  @impl true
  def start(_type, _args) do
    children = [App.Worker, {App.Cache, []}, {DynamicSupervisor, name: App.DynSup}]
    Supervisor.start_link(children, strategy: :one_for_one, name: App.Supervisor)
  end
end
"#;

const WORKER: &str = r#"defmodule App.Worker do
  use GenServer

  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)

  def fetch(key), do: GenServer.call(__MODULE__, {:fetch, key})

  def stats, do: GenServer.call(__MODULE__, :stats)

  @impl true
  def init(opts), do: {:ok, Map.new(opts)}

  @impl true
  def handle_call({:fetch, key}, _from, state), do: {:reply, Map.get(state, key) || App.Cache.get(key), state}
  def handle_call(:stats, _from, state), do: {:reply, map_size(state), state}

  defp unused, do: :ok
end
"#;

const CACHE: &str = r#"defmodule App.Cache do
  use Agent

  def start_link(_), do: Agent.start_link(fn -> %{} end, name: __MODULE__)
  def get(key), do: Agent.get(__MODULE__, &Map.get(&1, key))
  def put(key, value), do: Agent.update(__MODULE__, &Map.put(&1, key, value))
  def delete(key), do: Agent.update(__MODULE__, &Map.delete(&1, key))
  def keys, do: Agent.get(__MODULE__, &Map.keys/1)
  def size, do: Agent.get(__MODULE__, &map_size/1)
  def clear, do: Agent.update(__MODULE__, fn _ -> %{} end)
  def get_and_update(key, fun), do: Agent.get_and_update(__MODULE__, &Map.get_and_update(&1, key, fun))
end
"#;

const CLIENT: &str = r#"defmodule App.Client do
  alias App.Worker
  alias App.Worker, as: W

  def direct(key), do: App.Worker.fetch(key)

  def aliased(key) do
    Worker.fetch(key)
  end

  def piped(key) do
    key |> W.fetch()
  end
end
"#;

const WORKER_TEST: &str = r#"defmodule App.WorkerTest do
  use ExUnit.Case

  describe "fetch/1" do
    test "returns nil for a missing key" do
      assert App.Worker.fetch(:missing) == nil
    end
  end

  test "stats count the keys" do
    assert App.Worker.stats() == 0
  end
end
"#;

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "mix.exs", MIX);
    write(root, "lib/app/application.ex", APPLICATION);
    write(root, "lib/app/worker.ex", WORKER);
    write(root, "lib/app/cache.ex", CACHE);
    write(root, "lib/app/client.ex", CLIENT);
    write(root, "test/app/worker_test.exs", WORKER_TEST);
    write(root, "test/test_helper.exs", "ExUnit.start()\n");
    // Never indexed: build output, dependencies, ignored files.
    write(root, "_build/dev/lib/x.ex", "defmodule Built do\nend\n");
    write(root, "deps/dep/lib/dep.ex", "defmodule Dep do\n  def f, do: App.Worker.fetch(1)\nend\n");
    write(root, "tmp/scratch.ex", "defmodule Scratch do\nend\n");
    write(root, ".gitignore", "/tmp\n");
    dir
}

fn worker_fetch_callers(index: &WorkspaceIndex) -> Vec<(String, usize, String)> {
    index
        .callers("App.Worker")
        .into_iter()
        .filter(|c| c.function == "fetch" && c.arity == 1)
        .map(|c| {
            let file = index.relative(&c.file).display().to_string();
            let caller = c.caller_function.map(|(name, arity)| format!("{name}/{arity}")).unwrap_or_default();
            (file, c.line, caller)
        })
        .collect()
}

fn public_functions(index: &WorkspaceIndex, path: &Path, module: &str) -> Vec<String> {
    let modules = index.modules_in(path);
    let module = modules.iter().find(|m| m.name == module).expect("module indexed");
    module.functions.iter().map(|f| format!("{}/{}", f.name, f.arity)).collect()
}

#[test]
fn files_are_found_as_check_finds_them() {
    let dir = project();
    let index = WorkspaceIndex::build(dir.path());
    let mut files: Vec<String> = index.files().map(|(p, _)| index.relative(p).display().to_string()).collect();
    files.sort();
    assert_eq!(
        files,
        ["lib/app/application.ex", "lib/app/cache.ex", "lib/app/client.ex", "lib/app/worker.ex", "mix.exs", "test/app/worker_test.exs", "test/test_helper.exs"]
    );
}

#[test]
fn modules_list_their_public_functions_and_behaviour() {
    let dir = project();
    let index = WorkspaceIndex::build(dir.path());
    let worker = dir.path().join("lib/app/worker.ex");
    assert_eq!(public_functions(&index, &worker, "App.Worker"), ["start_link/1", "fetch/1", "stats/0", "init/1", "handle_call/3"]);
    let found = index.module("App.Worker").unwrap();
    assert_eq!(found.file, worker);
    assert_eq!(found.module.otp_behaviour(), Some("GenServer"));
    assert_eq!((found.module.line, found.module.range.start), (1, 0));
    assert!(index.module("App.Application").unwrap().module.is_application());
    assert_eq!(index.module("App.Cache").unwrap().module.otp_behaviour(), Some("Agent"));
}

#[test]
fn callers_are_found_directly_through_aliases_and_pipes() {
    let dir = project();
    let index = WorkspaceIndex::build(dir.path());
    let client = |line, caller: &str| ("lib/app/client.ex".to_string(), line, caller.to_string());
    assert_eq!(
        worker_fetch_callers(&index),
        [client(5, "direct/1"), client(8, "aliased/1"), client(12, "piped/1"), ("test/app/worker_test.exs".to_string(), 6, String::new())]
    );
    let piped = index.callers("App.Worker").into_iter().find(|c| c.line == 12).unwrap();
    assert_eq!(piped.code, "key |> W.fetch()");
    assert_eq!(piped.caller_module.as_deref(), Some("App.Client"));
}

#[test]
fn the_application_supervision_children_are_resolved() {
    let dir = project();
    let index = WorkspaceIndex::build(dir.path());
    let lists = index.supervisors();
    assert_eq!(lists.len(), 1);
    let list = lists[0].list;
    assert_eq!((list.holder.as_str(), list.line), ("App.Application", 6));
    assert_eq!(lists[0].file, dir.path().join("lib/app/application.ex"));
    let children: Vec<(&str, Option<&str>, Option<&str>)> =
        list.children.iter().map(|c| (c.written.as_str(), c.module.as_deref(), c.name.as_deref())).collect();
    assert_eq!(
        children,
        [
            ("App.Worker", Some("App.Worker"), None),
            ("{App.Cache, []}", Some("App.Cache"), None),
            ("{DynamicSupervisor, name: App.DynSup}", Some("DynamicSupervisor"), Some("App.DynSup")),
        ]
    );
    let of_worker = index.supervisors_of("App.Worker");
    assert_eq!(of_worker.len(), 1);
    assert_eq!((of_worker[0].0.list.holder.as_str(), of_worker[0].1), ("App.Application", 0));
}

#[test]
fn test_files_are_found_by_path_and_by_module_name() {
    let dir = project();
    write(dir.path(), "lib/odd_place.ex", "defmodule App.Odd do\n  def odd, do: 1\nend\n");
    write(dir.path(), "test/elsewhere/odd_checks_test.exs", "defmodule App.OddTest do\n  use ExUnit.Case\nend\n");
    let index = WorkspaceIndex::build(dir.path());
    let root = dir.path();
    assert_eq!(index.test_file_for(&root.join("lib/app/worker.ex")), Some(root.join("test/app/worker_test.exs")));
    assert_eq!(index.test_file_for(&root.join("lib/odd_place.ex")), Some(root.join("test/elsewhere/odd_checks_test.exs")));
    assert_eq!(index.test_file_for(&root.join("lib/app/client.ex")), None);
    let tests = &index.file(&root.join("test/app/worker_test.exs")).unwrap().tests;
    assert_eq!(tests, &["fetch/1 returns nil for a missing key", "stats count the keys"]);
}

#[test]
fn an_edit_adds_callers_and_removes_functions() {
    let dir = project();
    let mut index = WorkspaceIndex::build(dir.path());
    let client = dir.path().join("lib/app/client.ex");
    let edited = CLIENT.replace("  def piped(key) do", "  def count, do: Worker.stats()\n\n  def piped(key) do");
    index.update(&client, &edited);
    let stats_callers: Vec<(usize, bool)> = index
        .callers("App.Worker")
        .into_iter()
        .filter(|c| c.function == "stats")
        .map(|c| (c.line, c.file == client))
        .collect();
    assert_eq!(stats_callers, [(11, true), (11, false)]);
    assert_eq!(worker_fetch_callers(&index)[2].1, 14, "the piped call moved down two lines");

    let worker = dir.path().join("lib/app/worker.ex");
    index.update(&worker, &WORKER.replace("  def stats, do: GenServer.call(__MODULE__, :stats)\n", ""));
    assert!(index.module("App.Worker").unwrap().module.function("stats", 0).is_none());
    assert!(!public_functions(&index, &worker, "App.Worker").contains(&"stats/0".to_string()));
}

#[test]
fn a_removed_file_takes_its_modules_and_calls_along() {
    let dir = project();
    let mut index = WorkspaceIndex::build(dir.path());
    let before = index.stats();
    index.remove(&dir.path().join("lib/app/client.ex"));
    assert!(index.module("App.Client").is_none());
    assert_eq!(worker_fetch_callers(&index), [("test/app/worker_test.exs".to_string(), 6, String::new())]);
    assert_eq!(index.stats().files, before.files - 1);
    // Relative paths are the workspace's.
    index.remove(Path::new("lib/app/cache.ex"));
    assert!(index.module("App.Cache").is_none());
}

#[test]
fn context_for_a_file_has_every_section_when_the_budget_allows() {
    let dir = project();
    let index = WorkspaceIndex::build(dir.path());
    let context = index.context_for(&dir.path().join("lib/app/worker.ex"), None, 100_000);
    assert!(context.sections.iter().all(|s| s.fit == Fit::Whole && !s.text.is_empty()), "{context:#?}");
    let text = |variable| context.section(variable).unwrap().text.clone();
    let supervision = text("project.supervision");
    assert!(supervision.starts_with("App.Application starts (lib/app/application.ex:6):"), "{supervision}");
    assert!(supervision.contains("  - App.Worker  <- this file"), "{supervision}");
    assert!(supervision.contains("  - {App.Cache, []} (starts App.Cache)  [lib/app/cache.ex]"), "{supervision}");
    let callers = text("project.callers");
    assert!(callers.contains("App.Worker.fetch/1 is called from:\n  lib/app/client.ex:5 in App.Client.direct/1: def direct(key), do: App.Worker.fetch(key)\n"), "{callers}");
    assert!(callers.contains("lib/app/client.ex:12 in App.Client.piped/1: key |> W.fetch()"), "{callers}");
    assert!(text("project.tests").contains("describe \"fetch/1\" do"));
    assert!(text("project.dependencies").contains("App.Cache (lib/app/cache.ex, use Agent):\n  def get(key)  # called here\n  def start_link(_)\n"));
    assert!(context.render().starts_with("## Supervision tree\n"));
    assert!(!context.render().contains("Cut to fit"));
}

#[test]
fn a_tiny_budget_cuts_the_least_relevant_section_first() {
    let dir = project();
    let index = WorkspaceIndex::build(dir.path());
    let worker = dir.path().join("lib/app/worker.ex");
    let full = index.context_for(&worker, None, 100_000);
    let cost = |variable| full.section(variable).unwrap().tokens();
    let fits = |context: &elexirion::index::ProjectContext| -> Vec<(&'static str, Fit)> {
        context.sections.iter().map(|s| (s.variable, s.fit.clone())).collect()
    };

    // Room for three sections and the note saying the fourth was left out.
    let budget = cost("project.supervision") + cost("project.callers") + cost("project.tests") + 20;
    assert!(budget < full.tokens());
    let context = index.context_for(&worker, None, budget);
    assert_eq!(
        fits(&context),
        [
            ("project.supervision", Fit::Whole),
            ("project.callers", Fit::Whole),
            ("project.tests", Fit::Whole),
            ("project.dependencies", Fit::Cut)
        ]
    );
    let rendered = context.render();
    assert!(rendered.ends_with(&format!("(Cut to fit {budget} tokens: project.dependencies left out.)\n")), "{rendered}");
    assert!(context.tokens() <= budget);

    // Less room: the test file gives way to its test names.
    let budget = cost("project.supervision") + cost("project.callers") + 70;
    let context = index.context_for(&worker, None, budget);
    assert!(context.tokens() <= budget);
    let tests = context.section("project.tests").unwrap();
    assert_eq!(tests.fit, Fit::Shortened("test names only".into()));
    assert!(tests.text.contains("test \"fetch/1 returns nil for a missing key\""), "{}", tests.text);
    assert_eq!(context.section("project.callers").unwrap().fit, Fit::Whole);
    let cuts: Vec<&str> = context.cuts().iter().map(|s| s.variable).collect();
    assert_eq!(cuts, ["project.dependencies", "project.tests"]);

    // Almost nothing: the most relevant section is the last to go.
    let context = index.context_for(&worker, None, cost("project.supervision") + 40);
    assert_eq!(context.section("project.supervision").unwrap().fit, Fit::Whole);
    assert!(context.sections[1..].iter().all(|s| s.fit != Fit::Whole));
}

#[test]
fn a_focus_puts_its_own_callers_first() {
    let dir = project();
    let index = WorkspaceIndex::build(dir.path());
    let worker: PathBuf = dir.path().join("lib/app/worker.ex");
    let stats = WORKER.find("def stats").unwrap();
    let callers = index.callers_section(&worker, Some(stats..stats + 3));
    assert!(callers.starts_with("App.Worker.stats/0 is called from:"), "{callers}");
}
