//! Tricky syntax, one fixture per case.

use super::*;

fn functions(source: &str) -> Vec<String> {
    let file = index_source(source);
    let module = file.modules.first().expect("a module");
    module.functions.iter().map(|f| format!("{}/{}", f.name, f.arity)).collect()
}

fn calls(source: &str) -> Vec<String> {
    let file = index_source(source);
    file.calls.iter().map(|c| format!("{}.{}/{}", file.called_modules[c.module as usize], c.function, c.arity)).collect()
}

#[test]
fn multi_clause_functions_count_once_per_arity() {
    let source = "defmodule A do\n  def f(0), do: 0\n  def f(n) when n > 0, do: n\n  def f(a, b), do: a + b\nend\n";
    assert_eq!(functions(source), ["f/1", "f/2"]);
    let file = index_source(source);
    let f1 = file.modules[0].function("f", 1).unwrap();
    assert_eq!((f1.line, f1.signature.as_str()), (2, "f(0)"));
    assert!(f1.range.end > source.find("n > 0").unwrap(), "the range spans both clauses");
}

#[test]
fn default_arguments_give_one_arity_each() {
    let source = "defmodule A do\n  def f(a, b \\\\ 1, c \\\\ 2)\n  def f(a, b, c), do: a + b + c\nend\n";
    assert_eq!(functions(source), ["f/1", "f/2", "f/3"]);
}

#[test]
fn private_functions_and_macros_are_not_public() {
    let source = "defmodule A do\n  def a, do: 1\n  defp b, do: 2\n  defmacro c(x), do: x\n  defmacrop d(x), do: x\n  defdelegate e(x), to: B\n  defguard g(x) when is_integer(x)\n  defguardp h(x) when x > 0\nend\n";
    assert_eq!(functions(source), ["a/0", "c/1", "e/1", "g/1"]);
}

#[test]
fn unquote_names_are_ignored_and_defs_in_quotes_belong_to_nobody() {
    let source = r#"defmodule A do
  for name <- [:x, :y] do
    def unquote(name)(), do: unquote(name)
  end
  defmacro __using__(_) do
    quote do
      def injected, do: :ok
    end
  end
  if Code.ensure_loaded?(Jason) do
    def encode(x), do: Jason.encode(x)
  end
end
"#;
    assert_eq!(functions(source), ["__using__/1", "encode/1"]);
}

#[test]
fn nested_modules_have_full_names_and_their_own_functions() {
    let source = r#"defmodule Outer do
  def outer, do: Inner.inner()
  defmodule Inner do
    def inner, do: :ok
  end
  def after_inner, do: Inner.inner()
end
"#;
    let file = index_source(source);
    let names: Vec<&str> = file.modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Outer", "Outer.Inner"]);
    assert_eq!(functions(source), ["outer/0", "after_inner/0"]);
    assert_eq!(file.modules[1].functions[0].name, "inner");
    // Only the call after the nested module sees its automatic alias.
    assert_eq!(calls(source), ["Inner.inner/0", "Outer.Inner.inner/0"]);
}

#[test]
fn aliases_are_resolved_in_their_lexical_scope() {
    let source = r#"defmodule A do
  alias App.Worker
  alias App.Cache, as: C
  alias App.{Repo, Accounts.User}
  alias __MODULE__.Helper
  def f(x) do
    alias Other.Thing
    Worker.fetch(x)
    C.get(x)
    Repo.all(User.query())
    Helper.help()
    __MODULE__.g()
    Thing.t()
  end
  def g, do: Thing.t()
end
"#;
    assert_eq!(
        calls(source),
        [
            "App.Worker.fetch/1",
            "App.Cache.get/1",
            "App.Repo.all/1",
            "App.Accounts.User.query/0",
            "A.Helper.help/0",
            "A.g/0",
            "Other.Thing.t/0",
            "Thing.t/0"
        ]
    );
}

#[test]
fn piped_captured_and_block_calls_count_every_argument() {
    let source = "defmodule A do\n  def f(x) do\n    x |> M.one() |> M.two(1)\n    x |> M.bare\n    Enum.map(x, &M.cap/2)\n    M.block x do\n      :ok\n    end\n  end\nend\n";
    assert_eq!(calls(source), ["M.one/1", "M.two/2", "M.bare/1", "Enum.map/2", "M.cap/2", "M.block/2"]);
}

#[test]
fn calls_know_their_caller_and_line() {
    let source = "defmodule A do\n  def run(x) do\n    B.go(x)\n  end\n  defp helper, do: B.stop()\nend\n";
    let index = {
        let mut index = WorkspaceIndex::empty(Path::new("/w"));
        index.update(Path::new("lib/a.ex"), source);
        index
    };
    let calls = index.callers("B");
    let summary: Vec<String> = calls
        .iter()
        .map(|c| format!("{} {:?} {}", c.line, c.caller_function.as_ref().map(|(n, a)| format!("{n}/{a}")), c.code))
        .collect();
    assert_eq!(summary, ["3 Some(\"run/1\") B.go(x)", "5 Some(\"helper/0\") defp helper, do: B.stop()"]);
    assert_eq!(calls[0].caller_module.as_deref(), Some("A"));
}

#[test]
fn use_and_behaviour_are_recorded() {
    let source = "defmodule A do\n  use GenServer, restart: :temporary\n  @behaviour :gen_event\nend\n";
    let file = index_source(source);
    assert_eq!(file.modules[0].uses, ["GenServer"]);
    assert_eq!(file.modules[0].behaviours, [":gen_event"]);
    assert_eq!(file.modules[0].otp_behaviour(), Some("GenServer"));
}

#[test]
fn children_come_from_supervisor_calls_and_children_bindings() {
    let source = r#"defmodule App.Sup do
  use Supervisor
  alias App.Worker
  def init(_) do
    specs = [
      Worker,
      {App.Cache, []},
      Supervisor.child_spec({Worker, :b}, id: :b),
      %{id: :c, start: {App.Custom, :start_link, []}},
      {Registry, keys: :unique, name: App.Registry},
      __MODULE__.Helper
    ]
    Supervisor.init(specs, strategy: :one_for_one)
  end
end
"#;
    let file = index_source(source);
    assert_eq!(file.supervisors.len(), 1);
    let list = &file.supervisors[0];
    assert_eq!((list.holder.as_str(), list.line), ("App.Sup", 5));
    let modules: Vec<Option<&str>> = list.children.iter().map(|c| c.module.as_deref()).collect();
    assert_eq!(
        modules,
        [Some("App.Worker"), Some("App.Cache"), Some("App.Worker"), Some("App.Custom"), Some("Registry"), Some("App.Sup.Helper")]
    );
    assert_eq!(list.children[4].name.as_deref(), Some("App.Registry"));
    assert_eq!(list.children[1].written, "{App.Cache, []}");
}

#[test]
fn a_piped_list_and_a_list_written_in_the_call_are_children() {
    let source = "defmodule App do\n  use Application\n  def start(_, _) do\n    [A, B] |> Supervisor.start_link(strategy: :one_for_one)\n  end\nend\n";
    let file = index_source(source);
    let written: Vec<&str> = file.supervisors[0].children.iter().map(|c| c.written.as_str()).collect();
    assert_eq!(written, ["A", "B"]);
}

#[test]
fn tests_are_named_with_their_describe() {
    let source = "defmodule ATest do\n  use ExUnit.Case\n  test \"top\" do\n  end\n  describe \"fetch/1\" do\n    test \"hit\", %{x: x} do\n    end\n  end\n  test \"after\", do: :ok\nend\n";
    assert_eq!(index_source(source).tests, ["top", "fetch/1 hit", "after"]);
}

#[test]
fn half_typed_files_do_not_crash() {
    for source in [
        "defmodule",
        "defmodule A do\n  def",
        "defmodule A do\n  def f(a, b \\\\",
        "defmodule A do\n  alias\n  alias X.{\n  X.",
        "defmodule A do\n  def f(x) do\n    x |> \n  end",
        "defmodule A do\n  use Supervisor\n  children = [\n  Supervisor.init(",
        "defmodule A.B do\n  defmodule\n  &M.f/\n",
        "def f, do: M.x()",
    ] {
        let _ = index_source(source);
    }
    let deep = format!("defmodule A do\n  def f, do: {}M.x(){}\nend\n", "[".repeat(50_000), "]".repeat(50_000));
    assert_eq!(calls(&deep), ["M.x/0"]);
    let long_dots = format!("defmodule A do\n  alias __MODULE__{}\nend\n", ".B".repeat(20_000));
    let _ = index_source(&long_dots);
    let long_concat = format!(
        "defmodule A do\n  use Supervisor\n  def init(_) do\n    children = [A]{}\n    Supervisor.init(children, [])\n  end\nend\n",
        " ++ [{B, []}]".repeat(20_000)
    );
    let _ = index_source(&long_concat);
}

#[test]
fn test_files_follow_the_lib_to_test_convention() {
    assert_eq!(conventional_test_path(Path::new("/w/lib/a/b.ex")), Some(PathBuf::from("/w/test/a/b_test.exs")));
    assert_eq!(
        conventional_test_path(Path::new("/w/apps/x/lib/x/y.ex")),
        Some(PathBuf::from("/w/apps/x/test/x/y_test.exs"))
    );
    assert_eq!(conventional_test_path(Path::new("/w/test/a_test.exs")), None);
}

#[test]
fn update_ignores_dependencies_and_other_files() {
    let mut index = WorkspaceIndex::empty(Path::new("/w"));
    index.update(Path::new("deps/x/lib/x.ex"), "defmodule X do\nend\n");
    index.update(Path::new("README.md"), "defmodule Y do\nend\n");
    index.update(Path::new("lib/z.ex"), "defmodule Z do\nend\n");
    assert_eq!(index.stats().files, 1);
    assert!(index.module("Z").is_some());
}

#[test]
fn keep_lines_says_how_many_were_dropped() {
    assert_eq!(keep_lines_for_test("a\nb\nc\n", 20), Some(("a\n… 2 more lines\n".to_string(), 2)));
    assert_eq!(keep_lines_for_test("a\nb\n", 100), Some(("a\nb\n".to_string(), 0)));
    assert_eq!(keep_lines_for_test("long line\n", 3), None);
}

fn keep_lines_for_test(text: &str, bytes: usize) -> Option<(String, usize)> {
    context::keep_lines(text, bytes)
}

#[test]
fn protocols_and_implementations_are_modules() {
    let source = r#"defprotocol Size do
  def size(data)
end
defimpl Size, for: Map do
  def size(map), do: map_size(map)
end
defmodule User do
  defstruct [:name]
  defimpl Size do
    def size(_), do: 1
  end
end
"#;
    let file = index_source(source);
    let names: Vec<&str> = file.modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Size", "Size.Map", "User", "Size.User"]);
    assert_eq!(file.modules[0].functions[0].signature, "size(data)");
}

#[test]
fn children_chosen_by_a_condition_are_all_listed() {
    let source = r#"defmodule App do
  use Application
  def start(_, _) do
    children = if enabled?(), do: [App.Backend], else: []
    case Supervisor.start_link(children, strategy: :one_for_one) do
      {:ok, pid} -> {:ok, pid}
    end
  end
end
"#;
    let file = index_source(source);
    let written: Vec<&str> = file.supervisors[0].children.iter().map(|c| c.written.as_str()).collect();
    assert_eq!(written, ["App.Backend"]);
}
