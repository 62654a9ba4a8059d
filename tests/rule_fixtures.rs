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
use elexirion::finding::{apply_edits, Applicability, Finding};

fn fixture(rule: &Rule) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/rules").join(format!("{}.ex", rule.name));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Analyse as application code (`lib/`) with only `rule` turned on.
fn findings_of(rule: &Rule, source: &str, path: &str) -> Vec<Finding> {
    let others = RULES.iter().filter(|r| r.code != rule.code).map(|r| r.code.to_string()).collect();
    let options = AnalysisOptions { path: Some(path.to_string()), rules: RuleSettings { disable: others, enable: vec![rule.code.to_string()], ..Default::default() }, workspace: None, ..Default::default() };
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

/// Everything one rule must satisfy: its fixture, its fixes, its docs, and
/// where it looks (tests and scripts or not).
fn check_rule(rule: &Rule) {
    check_fixture(rule);
    check_docs(rule);
    check_test_files(rule);
}

fn check_fixture(rule: &Rule) {
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
        assert_eq!(Some(fix.applicability), rule.fix, "{}: fix `{}` is not as safe as the rule says", rule.name, fix.title);
        let fixed = apply_edits(&source, &fix.edits);
        let tree = ElixirParser::new().parse_str(&fixed, None);
        assert_eq!(syntax_errors(&fixed, &tree).len(), syntax_errors_before, "{}: fix `{}` broke the syntax:\n{fixed}", rule.name, fix.title);
    }
    insta::assert_snapshot!(rule.name, render(&source, &findings));
}

/// The docs have their sections, and a rule with a fix says how safe it is
/// (and why) in a `## Fix safety` section.
fn check_docs(rule: &Rule) {
    assert!(rule.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{}", rule.name);
    assert!(rule.doc.contains("## Why is this bad?") && rule.doc.contains("## Example") && rule.doc.contains("## Use instead"), "{}", rule.name);
    let Some(applicability) = rule.fix else { return };
    let Some((_, section)) = rule.doc.split_once("## Fix safety\n") else {
        panic!("{}: a fix but no `## Fix safety` section", rule.name);
    };
    let claim = match applicability {
        Applicability::Safe => "Safe: ",
        Applicability::Unsafe => "Unsafe: ",
    };
    assert!(section.starts_with(claim), "{}: `## Fix safety` must start with `{claim}` and the reason", rule.name);
}


/// Rules about design leave tests and scripts alone; rules about bugs check tests too.
fn check_test_files(rule: &Rule) {
    let source = fixture(rule);
    if rule.checks_tests {
        assert!(!findings_of(rule, &source, "test/fixture_test.exs").is_empty(), "{}: checks tests but found nothing in one", rule.name);
        return;
    }
    for path in ["test/fixture_test.exs", "scripts/seed.exs", "apps/web/test/support/fake.ex"] {
        assert!(findings_of(rule, &source, path).is_empty(), "{} reported in {path}", rule.name);
    }
}

fn rule(name: &str) -> &'static Rule {
    elexirion::elixir::rules::find(name).unwrap_or_else(|| panic!("no rule is named `{name}`"))
}

/// One test per rule, named after it, so a failing rule names itself.
macro_rules! rule_tests {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check_rule(rule($name));
            }
        )*
        /// The rules tested above, to check that none is missing.
        const TESTED: &[&str] = &[$($name),*];
    };
}

rule_tests! {
    unsupervised_process => "unsupervised-process",
    scattered_process_interface => "scattered-process-interface",
    sending_unnecessary_data => "sending-unnecessary-data",
    code_organization_by_process => "code-organization-by-process",
    genserver_call_infinity => "genserver-call-infinity",
    call_self_deadlock => "call-self-deadlock",
    blocking_sleep_in_callback => "blocking-sleep-in-callback",
    receive_in_callback => "receive-in-callback",
    invalid_callback_return => "invalid-callback-return",
    handle_info_without_catch_all => "handle-info-without-catch-all",
    missing_impl => "missing-impl",
    terminate_without_trap_exit => "terminate-without-trap-exit",
    task_async_without_await => "task-async-without-await",
    blocking_work_in_init => "blocking-work-in-init",
    agent_whole_state => "agent-whole-state",
    dynamic_atom_creation => "dynamic-atom-creation",
    compile_time_app_config => "compile-time-app-config",
    complex_else_in_with => "complex-else-in-with",
    long_parameter_list => "long-parameter-list",
    large_struct => "large-struct",
    runtime_atom_creation => "runtime-atom-creation",
}

#[test]
fn every_rule_has_its_own_test() {
    for rule in RULES {
        assert!(TESTED.contains(&rule.name), "add `{}` to rule_tests!", rule.name);
    }
}

/// Every rule's code and name. A code never changes and a retired code is
/// never given to another rule: users' configuration and suppression
/// comments name rules by code.
const CODES: &[(&str, &str)] = &[
    ("EXR001", "unsupervised-process"),
    ("EXR002", "scattered-process-interface"),
    ("EXR003", "sending-unnecessary-data"),
    ("EXR004", "code-organization-by-process"),
    ("EXR005", "genserver-call-infinity"),
    ("EXR006", "call-self-deadlock"),
    ("EXR007", "blocking-sleep-in-callback"),
    ("EXR008", "receive-in-callback"),
    ("EXR009", "invalid-callback-return"),
    ("EXR010", "handle-info-without-catch-all"),
    ("EXR011", "missing-impl"),
    ("EXR012", "terminate-without-trap-exit"),
    ("EXR013", "task-async-without-await"),
    ("EXR014", "blocking-work-in-init"),
    ("EXR015", "agent-whole-state"),
    ("EXR016", "dynamic-atom-creation"),
    ("EXR017", "compile-time-app-config"),
    ("EXR018", "complex-else-in-with"),
    ("EXR019", "long-parameter-list"),
    ("EXR020", "large-struct"),
    ("EXR021", "runtime-atom-creation"),
];

/// Codes of rules that were removed: never to be used again. `EXR000` is
/// syntax errors, not a rule.
const RETIRED: &[&str] = &["EXR000"];

#[test]
fn rule_codes_are_stable_and_never_reused() {
    for (code, name) in CODES {
        let rule = RULES.iter().find(|r| r.code == *code).unwrap_or_else(|| panic!("{code} ({name}) is gone: retire its code in RETIRED, never reuse it"));
        assert_eq!(rule.name, *name, "{code} changed its name");
    }
    for rule in RULES {
        assert!(!RETIRED.contains(&rule.code), "{} reuses the retired code {}", rule.name, rule.code);
        let listed = CODES.iter().find(|(_, name)| *name == rule.name);
        assert_eq!(listed.map(|(code, _)| *code), Some(rule.code), "{}: add it to CODES with a new code, or give it back its own", rule.name);
        assert_eq!(RULES.iter().filter(|r| r.code == rule.code).count(), 1, "{} is used twice", rule.code);
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
    let strict = AnalysisOptions { path: None, rules: RuleSettings { max_parameters: 2, enable: vec!["long-parameter-list".into()], ..Default::default() }, workspace: None, ..Default::default() };
    assert!(analyze(source, &tree, &strict).iter().any(|f| f.name == "long-parameter-list"));
    assert!(!analyze(source, &tree, &AnalysisOptions::default()).iter().any(|f| f.name == "long-parameter-list"));
}

#[test]
fn opt_in_rules_run_only_when_enabled() {
    let source = "defmodule A do\n  def f(s), do: GenServer.call(s, :f, :infinity)\nend\n";
    let tree = ElixirParser::new().parse_str(source, None);
    let runs = |rules: RuleSettings| {
        let options = AnalysisOptions { path: Some("lib/a.ex".into()), rules, workspace: None, ..Default::default() };
        analyze(source, &tree, &options).iter().any(|f| f.code == "EXR005")
    };
    assert!(!runs(RuleSettings::default()), "genserver-call-infinity is opt-in");
    assert!(runs(RuleSettings { enable: vec!["genserver-call-infinity".into()], ..Default::default() }));
    assert!(runs(RuleSettings { enable: vec!["all".into()], ..Default::default() }));
}
