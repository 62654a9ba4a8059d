//! Every rule against its fixture, `tests/fixtures/rules/<name>.ex`.
//!
//! In a fixture, top-level modules named `Bad*` must each get at least one
//! finding from the rule and `Good*` modules none. The findings and the
//! result of every fix are kept as insta snapshots (`tests/snapshots/`),
//! and every fix must apply cleanly without adding a syntax error.

use std::fmt::Write;
use std::path::Path;

use elexirion::elixir::parser::ElixirParser;
use elexirion::elixir::rules::{Rule, RULES};
use elexirion::elixir::settings::RuleSettings;
use elexirion::elixir::syntax_errors::syntax_errors;
use elexirion::elixir::{analyze, AnalysisOptions};
use elexirion::finding::{apply_edits, Finding};

fn fixture(rule: &Rule) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/rules").join(format!("{}.ex", rule.name));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Analyse as application code (`lib/`) with only `rule` turned on.
fn findings_of(rule: &Rule, source: &str, path: &str) -> Vec<Finding> {
    let others = RULES.iter().filter(|r| r.code != rule.code).map(|r| r.code.to_string()).collect();
    let options = AnalysisOptions { path: Some(path.to_string()), rules: RuleSettings { disable: others, ..Default::default() }, workspace: None, ..Default::default() };
    let tree = ElixirParser::new().parse_str(source, None);
    analyze(source, &tree, &options).into_iter().filter(|f| f.code != "EXR000").collect()
}

/// Top-level modules: (name, byte range).
fn modules(source: &str) -> Vec<(String, std::ops::Range<usize>)> {
    let tree = ElixirParser::new().parse_str(source, None);
    let root = tree.root_node();
    let mut cursor = root.walk();
    root.named_children(&mut cursor)
        .filter(|n| n.kind() == "call" && source[n.byte_range()].starts_with("defmodule "))
        .map(|n| {
            let name = source[n.byte_range()]["defmodule ".len()..].split_whitespace().next().unwrap().to_string();
            (name, n.byte_range())
        })
        .collect()
}

fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let line = source[..offset].matches('\n').count() + 1;
    let column = source[..offset].rsplit('\n').next().unwrap().chars().count() + 1;
    (line, column)
}

/// The findings and fixes, as a person would read them.
fn render(source: &str, findings: &[Finding]) -> String {
    let mut out = String::new();
    for finding in findings {
        let (line, column) = line_col(source, finding.range.start);
        writeln!(out, "{line}:{column} {} {}", finding.code, finding.message).unwrap();
        let text = source.lines().nth(line - 1).unwrap_or("");
        let width = source[finding.range.clone()].lines().next().unwrap_or("").chars().count().max(1);
        writeln!(out, "  | {text}\n  | {}{}", " ".repeat(column - 1), "^".repeat(width)).unwrap();
        if let Some(fix) = &finding.fix {
            writeln!(out, "  fix ({}): {}", fix.applicability.as_str(), fix.title).unwrap();
            let fixed = apply_edits(source, &fix.edits);
            let diff = similar::TextDiff::from_lines(source, &fixed);
            for hunk in diff.unified_diff().context_radius(1).iter_hunks() {
                for line in hunk.to_string().lines() {
                    writeln!(out, "  {line}").unwrap();
                }
            }
        }
        out.push('\n');
    }
    out
}

fn check_rule(rule: &Rule) {
    let source = fixture(rule);
    let findings = findings_of(rule, &source, "lib/fixture.ex");
    for (name, range) in modules(&source) {
        let inside = findings.iter().filter(|f| range.start <= f.range.start && f.range.end <= range.end).count();
        if name.starts_with("Bad") {
            assert!(inside > 0, "{}: nothing found in {name}", rule.name);
        } else if name.starts_with("Good") {
            assert_eq!(inside, 0, "{}: false positive in {name}:\n{}", rule.name, render(&source, &findings));
        }
    }
    assert!(!findings.is_empty(), "{}: the fixture has no Bad module", rule.name);
    let syntax_errors_before = {
        let tree = ElixirParser::new().parse_str(&source, None);
        syntax_errors(&source, &tree).len()
    };
    for fix in findings.iter().filter_map(|f| f.fix.as_ref()) {
        let fixed = apply_edits(&source, &fix.edits);
        let tree = ElixirParser::new().parse_str(&fixed, None);
        assert_eq!(syntax_errors(&fixed, &tree).len(), syntax_errors_before, "{}: fix `{}` broke the syntax:\n{fixed}", rule.name, fix.title);
    }
    insta::assert_snapshot!(rule.name, render(&source, &findings));
}

#[test]
fn every_rule_has_a_fixture_that_passes() {
    for rule in RULES {
        check_rule(rule);
    }
}

#[test]
fn design_rules_leave_tests_and_scripts_alone() {
    for rule in RULES.iter().filter(|r| !r.checks_tests) {
        let source = fixture(rule);
        for path in ["test/fixture_test.exs", "scripts/seed.exs", "apps/web/test/support/fake.ex"] {
            assert!(findings_of(rule, &source, path).is_empty(), "{} reported in {path}", rule.name);
        }
    }
}

#[test]
fn bug_rules_check_tests_too() {
    for rule in RULES.iter().filter(|r| r.checks_tests) {
        assert!(!findings_of(rule, &fixture(rule), "test/fixture_test.exs").is_empty(), "{}", rule.name);
    }
}

#[test]
fn suppression_comments_silence_one_line_or_a_whole_file() {
    let rule = elexirion::elixir::rules::find("genserver-call-infinity").unwrap();
    let source = "defmodule A do\n  # elexirion:disable-next-line EXR005\n  def a(s), do: GenServer.call(s, :a, :infinity)\n  def b(s), do: GenServer.call(s, :b, :infinity)\nend\n";
    let findings = findings_of(rule, source, "lib/a.ex");
    assert_eq!(findings.len(), 1);
    assert_eq!(line_col(source, findings[0].range.start).0, 4);

    let by_name = source.replace("EXR005", "genserver-call-infinity");
    assert_eq!(findings_of(rule, &by_name, "lib/a.ex").len(), 1);
    let other_rule = source.replace("EXR005", "missing-impl");
    assert_eq!(findings_of(rule, &other_rule, "lib/a.ex").len(), 2);
    let whole_file = format!("# elexirion:disable-file genserver-call-infinity\n{source}");
    assert!(findings_of(rule, &whole_file, "lib/a.ex").is_empty());
    let every_rule = source.replace(" EXR005", "");
    assert_eq!(findings_of(rule, &every_rule, "lib/a.ex").len(), 1);
}

#[test]
fn thresholds_come_from_settings() {
    let source = "defmodule A do\n  def f(a, b, c), do: {a, b, c}\nend\n";
    let tree = ElixirParser::new().parse_str(source, None);
    let strict = AnalysisOptions { path: None, rules: RuleSettings { max_parameters: 2, ..Default::default() }, workspace: None, ..Default::default() };
    assert!(analyze(source, &tree, &strict).iter().any(|f| f.name == "long-parameter-list"));
    assert!(!analyze(source, &tree, &AnalysisOptions::default()).iter().any(|f| f.name == "long-parameter-list"));
}

#[test]
fn codes_and_names_are_unique_and_well_formed() {
    for (i, rule) in RULES.iter().enumerate() {
        assert_eq!(rule.code, format!("EXR{:03}", i + 1));
        assert!(rule.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{}", rule.name);
        assert!(rule.doc.contains("## Why is this bad?") && rule.doc.contains("## Example") && rule.doc.contains("## Use instead"), "{}", rule.name);
    }
}
