//! `check --format sarif`: a SARIF 2.1.0 log, the format GitHub code
//! scanning (and other viewers) read. One run; every rule described, with
//! its documentation and a link to its section of docs/rules.md.

use std::path::Path;

use serde_json::{json, Value};

use crate::check::{CheckedFile, Problem, Report};
use crate::elixir::rules;
use crate::finding::Severity;

use super::paths;

const SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The project's home: `repository` in Cargo.toml. Until it is set, no
/// link is made up: the rules' help carries their whole documentation.
const REPOSITORY: Option<&str> = if env!("CARGO_PKG_REPOSITORY").is_empty() { None } else { Some(env!("CARGO_PKG_REPOSITORY")) };

/// What a result can be about: a rule, or one of the two problems that are
/// not rules (syntax errors and unreadable files).
struct Descriptor {
    id: &'static str,
    name: &'static str,
    summary: &'static str,
    /// Markdown: why, an example, what to write instead.
    doc: &'static str,
    help_uri: Option<String>,
    level: &'static str,
}

const SYNTAX_ERROR: &str = "Syntax errors, traced to their likely cause";
const SYNTAX_ERROR_DOC: &str = "## Why is this bad?\nThe file does not parse, so it will not compile. One mistake gives one \
    diagnostic, at its likely cause: the unclosed `(`/`[`/`{`/`<<`, the unterminated string or heredoc, the `do` or \
    `fn` whose `end` is missing, or the unexpected token.\n";
const UNREADABLE: &str = "Files that cannot be read as UTF-8 text";
const UNREADABLE_DOC: &str = "## Why is this bad?\nElixir source files are UTF-8; a file that cannot be read as such is not checked at all.\n";

fn descriptors() -> Vec<Descriptor> {
    let readme = REPOSITORY.map(|home| format!("{home}/blob/main/README.md#what-is-reported"));
    let mut all = vec![
        Descriptor { id: "EXR000", name: "syntax-error", summary: SYNTAX_ERROR, doc: SYNTAX_ERROR_DOC, help_uri: readme.clone(), level: "error" },
        Descriptor { id: "io", name: "unreadable-file", summary: UNREADABLE, doc: UNREADABLE_DOC, help_uri: readme, level: "error" },
    ];
    all.extend(rules::RULES.iter().map(|rule| Descriptor {
        id: rule.code,
        name: rule.name,
        summary: rule.summary,
        doc: rule.doc,
        help_uri: REPOSITORY.map(|home| format!("{home}/blob/main/docs/rules.md#{}", super::anchor(rule))),
        level: "warning",
    }));
    all
}

pub fn report(report: &Report) -> String {
    let descriptors = descriptors();
    let index_of = |id: &str| descriptors.iter().position(|d| d.id == id);
    let mut results = Vec::new();
    for file in &report.files {
        if let Some(error) = &file.error {
            results.push(json!({
                "ruleId": "io",
                "ruleIndex": index_of("io"),
                "level": "error",
                "message": { "text": error },
                "locations": [{ "physicalLocation": { "artifactLocation": artifact(&file.path) } }],
            }));
        }
        results.extend(file.problems.iter().map(|problem| result(file, problem, index_of(problem.finding.code))));
    }
    let mut log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "elexirion",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": descriptors.iter().map(rule).collect::<Vec<_>>(),
            }},
            "originalUriBaseIds": source_root(),
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    });
    if let Some(home) = REPOSITORY {
        log["runs"][0]["tool"]["driver"]["informationUri"] = json!(home);
    }
    format!("{log:#}\n")
}

fn rule(descriptor: &Descriptor) -> Value {
    let why = why(descriptor.doc).unwrap_or_else(|| descriptor.summary.to_string());
    let mut rule = json!({
        "id": descriptor.id,
        "name": descriptor.name,
        "shortDescription": { "text": descriptor.summary },
        "fullDescription": { "text": why },
        "help": { "text": why, "markdown": descriptor.doc },
        "defaultConfiguration": { "level": descriptor.level },
    });
    if let Some(uri) = &descriptor.help_uri {
        rule["helpUri"] = json!(uri);
        rule["help"]["text"] = json!(format!("{why} See {uri}"));
    }
    rule
}

/// The paragraph under the doc's "Why is this bad?" heading.
fn why(doc: &str) -> Option<String> {
    let (_, rest) = doc.split_once("## Why is this bad?\n")?;
    let paragraph = rest.split("\n\n").next()?.split("\n#").next()?;
    Some(paragraph.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn result(file: &CheckedFile, problem: &Problem, rule_index: Option<usize>) -> Value {
    let finding = &problem.finding;
    let (start_column, end_column) = problem.utf16_columns;
    json!({
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": level(finding.severity),
        "message": { "text": finding.message },
        "locations": [{ "physicalLocation": {
            "artifactLocation": artifact(&file.path),
            "region": {
                "startLine": problem.start.line,
                "startColumn": start_column,
                "endLine": problem.end.line,
                "endColumn": end_column,
            },
        }}],
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Information | Severity::Hint => "note",
    }
}

/// Relative to `%SRCROOT%` (the directory the check ran in) when the file
/// lies in it, as code scanning expects; an absolute `file:` URI otherwise.
fn artifact(path: &Path) -> Value {
    match paths::relative(path) {
        Some(relative) => json!({ "uri": encode(&relative), "uriBaseId": "%SRCROOT%" }),
        None => json!({ "uri": file_uri(path) }),
    }
}

fn source_root() -> Value {
    match std::env::current_dir() {
        Ok(dir) => json!({ "%SRCROOT%": { "uri": format!("{}/", file_uri(&dir).trim_end_matches('/')) } }),
        Err(_) => json!({}),
    }
}

fn file_uri(path: &Path) -> String {
    let path = path.to_string_lossy().replace('\\', "/");
    let slash = if path.starts_with('/') { "" } else { "/" }; // `C:/x` on Windows
    format!("file://{slash}{}", encode(&path))
}

/// Percent-encode everything but unreserved characters and `/` (RFC 3986).
fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
