//! `elexirion check` on directories, as a user runs it.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn check(args: &[&str], dir: &Path) -> Output {
    Command::new(support::binary()).arg("check").args(args).current_dir(dir).output().expect("run check")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn the_shipped_example_project_is_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = check(&["examples"], &root);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.starts_with("Checked "), "{text}");
    assert!(text.contains(" 0 errors"), "{text}");
    assert!(!text.contains("Checked 0 files"), "{text}");
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn project_with_a_broken_file() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "lib/good.ex", "defmodule Good do\n  def ok, do: :ok\nend\n");
    write(dir.path(), "lib/broken.ex", "defmodule Broken do\n  def run(x) do\n    Enum.map(x, fn y -> y\n  end\nend\n");
    write(dir.path(), "test/broken_test.exs", "defmodule BrokenTest do\n  test \"x\", do: assert [1, 2\nend\n");
    // Never checked: build output, dependencies, ignored and non-Elixir files.
    write(dir.path(), "_build/dev/lib/x.ex", "defmodule (((");
    write(dir.path(), "deps/dep/lib/dep.ex", "defmodule (((");
    write(dir.path(), "tmp/scratch.ex", "defmodule (((");
    write(dir.path(), ".gitignore", "/tmp\n");
    write(dir.path(), "README.md", "defmodule (((");
    dir
}

#[test]
fn a_broken_file_is_reported_like_other_linters_do_and_exits_1() {
    let dir = project_with_a_broken_file();
    let output = check(&["."], dir.path());
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0], "./lib/broken.ex:3:13: error EXR000 unclosed `(`: no matching `)`");
    assert_eq!(lines[1], "./test/broken_test.exs:2:24: error EXR000 unclosed `[`: no matching `]`");
    assert!(lines[2].starts_with("Checked 3 files (11 lines) in "), "{text}");
    assert!(lines[2].ends_with(": 2 errors, 0 warnings."), "{text}");
}

#[test]
fn json_output_carries_positions_and_a_summary() {
    let dir = project_with_a_broken_file();
    let output = check(&["lib", "--format", "json"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1);
    let d = &diagnostics[0];
    assert_eq!(d["path"], "lib/broken.ex");
    assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(3), Some(13)));
    assert_eq!((d["end_line"].as_u64(), d["end_column"].as_u64()), (Some(3), Some(14)));
    assert_eq!(d["code"], "EXR000");
    assert_eq!(d["name"], "syntax-error");
    assert_eq!(report["summary"]["files"], 2);
    assert_eq!(report["summary"]["errors"], 1);
}

#[test]
fn a_file_named_explicitly_is_checked_even_when_ignored() {
    let dir = project_with_a_broken_file();
    let output = check(&["tmp/scratch.ex"], dir.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).starts_with("tmp/scratch.ex:1:"), "{}", stdout(&output));
}

#[test]
fn unreadable_files_and_missing_paths_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("latin1.ex"), b"# caf\xe9\n").unwrap();
    let output = check(&["."], dir.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).starts_with("./latin1.ex:1:1: error io not valid UTF-8"), "{}", stdout(&output));

    let output = check(&["no/such/dir"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no/such/dir: no such file or directory"));
}

#[test]
fn the_rules_documentation_is_generated_from_the_rules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = Command::new(support::binary()).args(["rules", "--markdown"]).output().unwrap();
    let committed = fs::read_to_string(root.join("docs/rules.md")).unwrap();
    assert!(
        stdout(&output) == committed,
        "docs/rules.md is stale: run `cargo run -- rules --markdown > docs/rules.md`"
    );
    let listing = stdout(&Command::new(support::binary()).arg("rules").output().unwrap());
    assert_eq!(listing.lines().count(), 20, "{listing}");
    assert!(listing.contains("EXR011  missing-impl"), "{listing}");
}

const SERVER_WITHOUT_IMPL: &str = "defmodule Worker do
  use GenServer

  def init(state), do: {:ok, state}

  def handle_info(:tick, state), do: {:noreply, state}

  def handle_call(:get, _from, state), do: {:reply, state, state}
end
";

#[test]
fn check_fix_applies_safe_fixes_until_nothing_is_left() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "lib/worker.ex", SERVER_WITHOUT_IMPL);
    let output = check(&["--fix", "lib"], dir.path());
    let fixed = fs::read_to_string(dir.path().join("lib/worker.ex")).unwrap();
    assert_eq!(
        fixed,
        "defmodule Worker do
  require Logger
  use GenServer

  @impl true
  def init(state), do: {:ok, state}

  @impl true
  def handle_info(:tick, state), do: {:noreply, state}

  def handle_info(message, state) do
    Logger.warning(\"#{inspect(__MODULE__)} received an unexpected message: #{inspect(message)}\")
    {:noreply, state}
  end

  @impl true
  def handle_call(:get, _from, state), do: {:reply, state, state}
end
"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("lib/worker.ex: applied 4 fixes"), "{output:?}");
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("0 errors, 0 warnings"), "{}", stdout(&output));

    // Nothing left: a second run changes nothing.
    let again = check(&["--fix", "lib"], dir.path());
    assert!(String::from_utf8_lossy(&again.stderr).is_empty(), "{again:?}");
    assert_eq!(fs::read_to_string(dir.path().join("lib/worker.ex")).unwrap(), fixed);
}

#[test]
fn unsafe_fixes_are_not_applied_and_broken_files_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let unsafe_only = "defmodule Status do\n  def parse(s), do: String.to_atom(s)\nend\n";
    write(dir.path(), "lib/status.ex", unsafe_only);
    let broken = format!("{SERVER_WITHOUT_IMPL}\ndefmodule Broken do\n  def f(x), do: [x\nend\n");
    write(dir.path(), "lib/broken.ex", &broken);
    let output = check(&["--fix", "lib"], dir.path());
    assert_eq!(fs::read_to_string(dir.path().join("lib/status.ex")).unwrap(), unsafe_only);
    assert!(stdout(&output).contains("EXR016"), "{}", stdout(&output));
    // Fixes on a file with a syntax error still apply when they add none.
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn configuration_turns_rules_off_and_bad_configuration_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "lib/worker.ex", SERVER_WITHOUT_IMPL);
    assert!(stdout(&check(&["lib"], dir.path())).contains("EXR011"));
    write(dir.path(), "elexirion.toml", "[rules]\ndisable = [\"missing-impl\", \"EXR010\"]\n");
    let text = stdout(&check(&["lib"], dir.path()));
    assert!(!text.contains("EXR011") && !text.contains("EXR010"), "{text}");

    write(dir.path(), "elexirion.toml", "[rules]\ndisable = [\"missing-impls\"]\n");
    let output = check(&["lib"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no rule is named `missing-impls`"), "{output:?}");
}

#[test]
fn pipeline_validate_reports_like_check_and_exits_1_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pipelines/good.yaml", "workflow:\n  name: ok\n  steps:\n    - name: a\n      type: claude\n      prompt:\n        - type: file\n          path: lib/a.ex\n");
    write(dir.path(), "lib/a.ex", "defmodule A do\nend\n");
    write(dir.path(), "pipelines/bad.yaml", "workflow:\n  name: bad\n  steps:\n    - name: a\n      type: claude\n      prompt: \"just text\"\n");
    let run = |args: &[&str]| Command::new(support::binary()).args(args).current_dir(dir.path()).output().unwrap();

    let good = run(&["pipeline", "validate", "pipelines/good.yaml"]);
    assert_eq!(good.status.code(), Some(0), "{good:?}");
    assert!(stdout(&good).starts_with("Checked 1 file"), "{}", stdout(&good));

    let bad = run(&["pipeline", "validate", "pipelines/good.yaml", "pipelines/bad.yaml"]);
    assert_eq!(bad.status.code(), Some(1));
    let text = stdout(&bad);
    assert!(text.starts_with("pipelines/bad.yaml:6:15: error EXP013 `prompt` must be a list of items"), "{text}");

    let missing = run(&["pipeline", "validate", "pipelines/none.yaml"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn schema_prints_a_json_schema() {
    let output = Command::new(support::binary()).arg("schema").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let schema: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(schema["required"], serde_json::json!(["workflow"]));
    assert!(schema["properties"]["workflow"]["properties"]["steps"].is_object());
}
