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
