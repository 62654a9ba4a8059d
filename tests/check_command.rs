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

fn repository() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The rules the README's first command shows at work, by code: the first
/// run must keep showing what elexirion finds.
const SHOWN_BY_THE_FIRST_RUN: &[&str] = &["EXR002", "EXR007", "EXR011", "EXR017"];

/// The arguments of the README's main command, `cargo run --release -- check ...`.
fn readme_first_command() -> Vec<String> {
    let readme = fs::read_to_string(repository().join("README.md")).unwrap();
    let line = readme.lines().find_map(|l| l.strip_prefix("cargo run --release -- ")).expect("the README's main command");
    line.split('#').next().unwrap().split_whitespace().map(String::from).collect()
}

#[test]
fn the_readme_first_run_shows_the_rules_at_work_and_prints_what_the_readme_says() {
    let args = readme_first_command();
    assert_eq!(args[0], "check", "{args:?}");
    let output = Command::new(support::binary()).args(&args).current_dir(repository()).output().unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    for code in SHOWN_BY_THE_FIRST_RUN {
        assert!(text.contains(&format!(" warning {code} ")), "the first run no longer shows {code}:\n{text}");
    }
    // The README pastes this output: its diagnostic lines are the real ones.
    let example = format!("{}/", args[1].trim_end_matches('/'));
    let readme = fs::read_to_string(repository().join("README.md")).unwrap();
    // Diagnostic lines only: the README's layout section names the folder too.
    let is_diagnostic = |l: &&str| l.starts_with(&example) && (l.contains(": warning ") || l.contains(": error "));
    let pasted: Vec<&str> = readme.lines().filter(is_diagnostic).collect();
    let printed: Vec<&str> = text.lines().filter(is_diagnostic).collect();
    assert_eq!(pasted, printed, "update the output pasted in the README");
}

#[test]
fn the_after_example_is_clean() {
    let output = check(&["examples/inventory"], &repository());
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.starts_with("Checked "), "{text}");
    assert!(text.ends_with(": 0 errors, 0 warnings.\n"), "{text}");
    assert!(!text.contains("Checked 0 files"), "{text}");
}

#[test]
fn fix_on_a_copy_of_the_before_example_applies_the_safe_fixes_only() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repository().join("examples/inventory_before"), dir.path());
    let output = check(&["--fix", "."], dir.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("lib/inventory/stock.ex: applied "), "{stderr}");
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    // Only missing-impl has a safe fix; the rest (handle-info-without-catch-all
    // included: its fix is unsafe) need a person.
    assert!(!text.contains("EXR011"), "EXR011 left after --fix:\n{text}");
    for left in SHOWN_BY_THE_FIRST_RUN.iter().filter(|c| **c != "EXR011") {
        assert!(text.contains(&format!(" warning {left} ")), "{left} went away with --fix:\n{text}");
    }
    let stock = fs::read_to_string(dir.path().join("lib/inventory/stock.ex")).unwrap();
    assert!(stock.contains("  @impl true\n  def init(counts) do"), "{stock}");
    assert!(!stock.contains("received an unexpected message"), "the unsafe catch-all was applied:\n{stock}");
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
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
    let output = Command::new(support::binary()).args(["rules", "--markdown"]).output().unwrap();
    let committed = fs::read_to_string(repository().join("docs/rules.md")).unwrap();
    assert!(
        stdout(&output) == committed,
        "docs/rules.md is stale: run `cargo run -- rules --markdown > docs/rules.md`"
    );
    let listing = stdout(&Command::new(support::binary()).arg("rules").output().unwrap());
    assert_eq!(listing.lines().count(), 21, "{listing}");
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
    write(dir.path(), "elexirion.toml", "[rules]\nenable = [\"handle-info-without-catch-all\"]\n");
    let output = check(&["--fix", "lib"], dir.path());
    let fixed = fs::read_to_string(dir.path().join("lib/worker.ex")).unwrap();
    assert_eq!(
        fixed,
        "defmodule Worker do
  use GenServer

  @impl true
  def init(state), do: {:ok, state}

  @impl true
  def handle_info(:tick, state), do: {:noreply, state}

  @impl true
  def handle_call(:get, _from, state), do: {:reply, state, state}
end
"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("lib/worker.ex: applied 3 fixes"), "{output:?}");
    assert_eq!(output.status.code(), Some(0));
    // The catch-all `handle_info/2` would swallow messages that crashed the
    // server before: an unsafe fix, left for a person.
    let text = stdout(&output);
    assert!(text.contains(" warning EXR010 ") && text.contains("0 errors, 1 warning"), "{text}");

    // Nothing left: a second run changes nothing.
    let again = check(&["--fix", "lib"], dir.path());
    assert!(String::from_utf8_lossy(&again.stderr).is_empty(), "{again:?}");
    assert_eq!(fs::read_to_string(dir.path().join("lib/worker.ex")).unwrap(), fixed);
}

#[test]
fn unsafe_fixes_are_not_applied_and_broken_files_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let unsafe_only = "defmodule Status do\n  def show(conn, %{\"s\" => s}), do: String.to_atom(s)\nend\n";
    write(dir.path(), "lib/status.ex", unsafe_only);
    write(dir.path(), "elexirion.toml", "[rules]\nenable = [\"dynamic-atom-creation\"]\n");
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

/// A project whose problems exercise SARIF: a syntax error (level error),
/// a rule finding after a character outside the Basic Multilingual Plane
/// (two UTF-16 code units), an unreadable file, and a path to encode.
fn project_for_ci_formats() -> tempfile::TempDir {
    let dir = project_with_a_broken_file();
    write(dir.path(), "lib/status.ex", "defmodule Status do\n  def show(conn, %{\"s\" => s}), do: {\"🍎\", String.to_atom(s)}\nend\n");
    write(dir.path(), "lib/100% done, really.ex", "defmodule Done do\n  def show(conn, %{\"s\" => s}), do: String.to_atom(s)\nend\n");
    fs::write(dir.path().join("lib/latin1.ex"), b"# caf\xe9\n").unwrap();
    write(dir.path(), "elexirion.toml", "[rules]\nenable = [\"dynamic-atom-creation\"]\n");
    dir
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0_with_rules_and_utf16_columns() {
    let dir = project_for_ci_formats();
    let output = check(&["--format", "sarif", "lib"], dir.path());
    assert_eq!(output.status.code(), Some(1), "errors exit 1 in every format");
    let log: Value = serde_json::from_slice(&output.stdout).expect("valid JSON");

    let schema_text = fs::read_to_string(repository().join("tests/fixtures/sarif/sarif-schema-2.1.0.json")).unwrap();
    let schema: Value = serde_json::from_str(&schema_text).unwrap();
    let validator = jsonschema::draft4::options().should_validate_formats(true).build(&schema).expect("the SARIF schema");
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0.into();
    assert!(!validator.is_valid(&broken), "the schema checks regions (lines are 1-based)");

    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "elexirion");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    // No home page is set in Cargo.toml yet, so no link is made up.
    assert_eq!(driver.get("informationUri"), None);
    let rules = driver["rules"].as_array().unwrap();
    let rule = rules.iter().find(|r| r["id"] == "EXR016").expect("EXR016 described");
    assert_eq!(rule["name"], "dynamic-atom-creation");
    assert!(!rule["shortDescription"]["text"].as_str().unwrap().is_empty());
    assert!(rule["fullDescription"]["text"].as_str().unwrap().contains("atom"), "{rule:#}");
    assert_eq!(rule.get("helpUri"), None);
    assert!(rule["help"]["markdown"].as_str().unwrap().contains("## Why is this bad?"), "the rule's whole doc: {rule:#}");

    let results = run["results"].as_array().unwrap();
    let by_uri = |uri: &str| results.iter().find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri).unwrap_or_else(|| panic!("no result for {uri}: {log:#}"));
    let syntax = by_uri("lib/broken.ex");
    assert_eq!((&syntax["ruleId"], &syntax["level"]), (&"EXR000".into(), &"error".into()));
    assert_eq!(rules[syntax["ruleIndex"].as_u64().unwrap() as usize]["id"], "EXR000");
    let location = &syntax["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(location["region"], serde_json::json!({"startLine": 3, "startColumn": 13, "endLine": 3, "endColumn": 14}));

    // `  def show(conn, %{"s" => s}), do: {"🍎", String.to_atom(s)}`: the call starts at
    // character 42, but at UTF-16 code unit 43.
    let atom = by_uri("lib/status.ex");
    assert_eq!((&atom["ruleId"], &atom["level"]), (&"EXR016".into(), &"warning".into()));
    assert_eq!(atom["locations"][0]["physicalLocation"]["region"]["startColumn"], 43);
    assert_eq!(by_uri("lib/100%25%20done%2C%20really.ex")["ruleId"], "EXR016");
    assert_eq!(by_uri("lib/latin1.ex")["level"], "error");
}

#[test]
fn github_format_prints_workflow_commands_with_escaped_properties() {
    let dir = project_for_ci_formats();
    let output = check(&["--format", "github", "lib"], dir.path());
    assert_eq!(output.status.code(), Some(1), "errors exit 1 in every format");
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&"::error file=lib/broken.ex,line=3,col=13,endLine=3,endColumn=14,title=EXR000 syntax-error::unclosed `(`: no matching `)`"), "{text}");
    assert!(lines.contains(&"::warning file=lib/100%25 done%2C really.ex,line=2,col=36,endLine=2,endColumn=53,title=EXR016 dynamic-atom-creation::`String.to_atom` creates atoms from what a client sent, which are never freed; use `String.to_existing_atom`"), "{text}");
    assert!(lines.contains(&"::error file=lib/latin1.ex,line=1,title=io unreadable-file::not valid UTF-8"), "{text}");
    assert!(lines.last().unwrap().starts_with("Checked 5 files"), "{text}");

    let clean = check(&["--format", "github", "examples/inventory"], &repository());
    assert_eq!(clean.status.code(), Some(0));
    assert!(stdout(&clean).starts_with("Checked "), "{}", stdout(&clean));
}

#[test]
fn github_format_escapes_percent_colon_and_newlines() {
    use elexirion::check::{CheckedFile, Problem, Report};
    use elexirion::document::TextPosition;
    use elexirion::finding::{Finding, Severity};

    let finding = Finding { range: 0..1, severity: Severity::Hint, code: "EXR999", name: "x:y,z", message: "100% sure: no\r\nreally".into(), fix: None };
    let problem = Problem { finding, start: TextPosition::new(1, 1), end: TextPosition::new(1, 2), utf16_columns: (1, 2) };
    let file = CheckedFile { path: "lib/a:b,c%.ex".into(), lines: 1, problems: vec![problem], error: None };
    let report = Report { files: vec![file], elapsed: std::time::Duration::ZERO };
    let text = elexirion::cli::github::report(&report);
    assert_eq!(
        text.lines().next().unwrap(),
        "::notice file=lib/a%3Ab%2Cc%25.ex,line=1,col=1,endLine=1,endColumn=2,title=EXR999 x%3Ay%2Cz::100%25 sure: no%0D%0Areally"
    );
}
