//! Model answers as real models write them (tests/answers/NAME.md), each
//! with the outcome it must have (NAME.json), read by the pure answer API.
//! A shape that does not behave names itself; a key the harness does not
//! know is an error, so a typo in an expectation cannot pass silently.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use elexirion::pipeline::answer::{read_findings, read_rewrite, Anchoring, Form};
use elexirion::pipeline::outcome::anchor;
use serde_json::{Map, Value};

const KEYS: &[&str] = &["kind", "original", "outcome", "form", "contains", "not_contains", "notes", "problem", "findings", "anchoring", "drops_public_api"];

fn answers() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/answers")
}

/// Every NAME with both NAME.md and NAME.json; a file without its pair fails.
fn shapes(dir: &Path) -> Vec<String> {
    let names = |ext: &str| -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == ext))
            .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
            .collect()
    };
    let (answers, expectations) = (names("md"), names("json"));
    assert_eq!(answers, expectations, "every NAME.md needs a NAME.json and the other way round");
    answers.into_iter().collect()
}

#[test]
fn every_answer_shape_reads_as_expected() {
    let dir = answers();
    let names = shapes(&dir);
    assert!(names.len() >= 25, "the corpus holds only {} shapes", names.len());
    let failures: Vec<String> = names.iter().filter_map(|name| check(&dir, name).err().map(|why| format!("{name}: {why}"))).collect();
    assert!(failures.is_empty(), "{} of {} shapes failed:\n{}", failures.len(), names.len(), failures.join("\n"));
}

fn check(dir: &Path, name: &str) -> Result<(), String> {
    let answer = std::fs::read_to_string(dir.join(format!("{name}.md"))).map_err(|e| e.to_string())?;
    let expected: Map<String, Value> = serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.json"))).map_err(|e| e.to_string())?)
        .map_err(|e| format!("{name}.json: {e}"))?;
    if let Some(unknown) = expected.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!("unknown key `{unknown}` in {name}.json"));
    }
    let text = |key: &str| expected.get(key).and_then(Value::as_str);
    let original = std::fs::read_to_string(dir.join(text("original").ok_or("no `original`")?)).map_err(|e| e.to_string())?;
    match (text("kind"), text("outcome")) {
        (Some("refactor"), Some("edit")) => {
            let rewrite = read_rewrite(&answer, &original).map_err(|problem| format!("refused: {problem}"))?;
            let form = match rewrite.form { Form::WholeFile => "whole_file", Form::Diff => "diff" };
            expect_eq("form", text("form"), Some(form))?;
            expect_eq("notes", expected.get("notes").and_then(Value::as_u64), Some(rewrite.notes.len() as u64))?;
            expect_text(&expected, &rewrite.text)?;
            let dropped: Vec<String> = public_functions(&original).difference(&public_functions(&rewrite.text)).cloned().collect();
            let drops = expected.get("drops_public_api").and_then(Value::as_bool).unwrap_or(false);
            if drops == dropped.is_empty() {
                return Err(format!("drops_public_api is {drops} but the rewrite drops {dropped:?}"));
            }
            Ok(())
        }
        (Some("refactor"), Some("refused")) => {
            let problem = read_rewrite(&answer, &original).err().ok_or("the answer was accepted")?;
            expect_problem(&expected, &problem.to_string(), &problem.repair_request())
        }
        (Some("analysis"), Some("findings")) => {
            let findings = read_findings(&answer).map_err(|problem| format!("refused: {problem}"))?;
            expect_eq("findings", expected.get("findings").and_then(Value::as_u64), Some(findings.len() as u64))?;
            let placed = anchor(findings, &original);
            for found in &placed {
                let inside = found.range.start <= found.range.end && found.range.end <= original.len();
                if !inside || !original.is_char_boundary(found.range.start) || !original.is_char_boundary(found.range.end) {
                    return Err(format!("range {:?} is not a range of the text", found.range));
                }
            }
            let how: Vec<Value> = placed.iter().map(|f| Value::from(anchoring(f.how))).collect();
            expect_eq("anchoring", expected.get("anchoring").cloned(), Some(Value::Array(how)))
        }
        (Some("analysis"), Some("refused")) => {
            let problem = read_findings(&answer).err().ok_or("the answer was accepted")?;
            expect_problem(&expected, &problem.to_string(), &problem.repair_request())
        }
        other => Err(format!("unknown kind and outcome {other:?}")),
    }
}

fn expect_eq<T: PartialEq + std::fmt::Debug>(key: &str, expected: Option<T>, actual: Option<T>) -> Result<(), String> {
    match expected {
        None => Err(format!("`{key}` is missing from the expectation (it is {actual:?})")),
        Some(expected) if Some(&expected) != actual.as_ref() => Err(format!("{key}: expected {expected:?}, got {actual:?}")),
        Some(_) => Ok(()),
    }
}

fn strings<'a>(expected: &'a Map<String, Value>, key: &str) -> Vec<&'a str> {
    expected.get(key).and_then(Value::as_array).map(|items| items.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

fn expect_text(expected: &Map<String, Value>, text: &str) -> Result<(), String> {
    if let Some(missing) = strings(expected, "contains").into_iter().find(|s| !text.contains(s)) {
        return Err(format!("the new text lacks {missing:?}:\n{text}"));
    }
    if let Some(present) = strings(expected, "not_contains").into_iter().find(|s| text.contains(s)) {
        return Err(format!("the new text still holds {present:?}:\n{text}"));
    }
    Ok(())
}

fn expect_problem(expected: &Map<String, Value>, message: &str, repair: &str) -> Result<(), String> {
    let wanted = expected.get("problem").and_then(Value::as_str).ok_or("`problem` is missing from the expectation")?;
    if !message.contains(wanted) {
        return Err(format!("the refusal {message:?} does not say {wanted:?}"));
    }
    if repair.is_empty() || !repair.ends_with('.') {
        return Err(format!("the repair request {repair:?} is not a sentence"));
    }
    Ok(())
}

fn anchoring(how: Anchoring) -> &'static str {
    match how {
        Anchoring::Exact => "exact",
        Anchoring::IgnoringWhitespace => "ignoring_whitespace",
        Anchoring::AtLine => "at_line",
        Anchoring::Unanchored => "unanchored",
    }
}

/// `def name` heads, as written (the API check proper lives elsewhere).
fn public_functions(code: &str) -> BTreeSet<String> {
    code.lines()
        .filter_map(|line| line.trim_start().strip_prefix("def "))
        .map(|head| head.split(['(', ',', ' ']).next().unwrap_or("").to_string())
        .collect()
}
