//! An analysis answer read as findings: the JSON values that hold them,
//! wherever they stand and however loosely they are written.
//!
//! Which values: every one with a non-empty `findings` list, merged in
//! order (a review split across two blocks is one review; a finding
//! repeated word for word counts once), and a `{"findings": []}` format
//! example never hides them; else one with an empty list (a clean file),
//! else nothing. A bare array of finding objects counts as a list.
//!
//! Each finding is read leniently: `line` may be a number, a numeric
//! string or a range (`"13-16"` is line 13), anything else is no line. A
//! finding that still cannot be read (no `message`) is dropped, not fatal,
//! as long as another one can be read; [`read_findings_counted`] says how
//! many were dropped.

use serde_json::Value;

use super::fences;
use super::lenient_json::{parse, values_in};
use super::problem::{AnswerProblem, Expected};
use crate::pipeline::outcome::ModelFinding;

/// The findings an answer reports, and how many could not be read.
#[derive(Clone, Debug, PartialEq)]
pub struct Findings {
    pub findings: Vec<ModelFinding>,
    /// Findings dropped because they could not be read (e.g. no `message`).
    pub dropped: usize,
}

/// [`read_findings_counted`], the unreadable findings dropped (and logged).
pub fn read_findings(answer: &str) -> Result<Vec<ModelFinding>, AnswerProblem> {
    let read = read_findings_counted(answer)?;
    if read.dropped > 0 {
        tracing::warn!(dropped = read.dropped, kept = read.findings.len(), "dropped findings the answer did not write in the expected shape");
    }
    Ok(read.findings)
}

pub fn read_findings_counted(answer: &str) -> Result<Findings, AnswerProblem> {
    let values = json_values(answer);
    let lists: Vec<&Vec<Value>> = values.iter().filter_map(findings_list).collect();
    if lists.is_empty() {
        let fenced = fences::read(answer);
        if let Some(cut) = fenced.unclosed.filter(|_| values.is_empty()) {
            return Err(AnswerProblem::Truncated { language: cut.language, opened_at_line: cut.opened_at_line });
        }
        return Err(match values.iter().find_map(Value::as_object) {
            Some(object) => AnswerProblem::FindingsMissing { keys: object.keys().cloned().collect() },
            None => AnswerProblem::NoCode { expected: Expected::Findings },
        });
    }
    let items = lists.iter().flat_map(|list| list.iter());
    let mut findings: Vec<ModelFinding> = Vec::new();
    let mut dropped = 0;
    let mut first_problem = None;
    for (index, item) in items.enumerate() {
        match finding(item) {
            Ok(found) if findings.contains(&found) => {}
            Ok(found) => findings.push(found),
            Err(detail) => {
                dropped += 1;
                first_problem.get_or_insert(AnswerProblem::FindingMalformed { index, detail });
            }
        }
    }
    match first_problem {
        Some(problem) if findings.is_empty() => Err(problem),
        _ => Ok(Findings { findings, dropped }),
    }
}

/// One finding, its `line` read leniently.
fn finding(item: &Value) -> Result<ModelFinding, String> {
    let mut item = item.clone();
    if let Some(object) = item.as_object_mut() {
        if let Some(line) = object.get("line") {
            let line = line_number(line).map_or(Value::Null, Value::from);
            object.insert("line".into(), line);
        }
    }
    serde_json::from_value(item).map_err(|e| e.to_string())
}

/// `12`, `"12"`, `"13-16"`, `"L12"`, `"line 12"` are line 12 or 13; a
/// negative number, a fraction or words without a number are no line.
fn line_number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0).map(|f| f as u64)),
        Value::String(s) => {
            let digits: String = s.trim_start_matches(|c: char| !c.is_ascii_digit() && c != '-').chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        }
        Value::Array(items) => items.first().and_then(line_number),
        _ => None,
    }
}

/// JSON in the answer: the whole of it, each fenced block, then values in
/// the prose outside the blocks.
fn json_values(answer: &str) -> Vec<Value> {
    if let Some(whole) = parse(answer.trim()).filter(|v| v.is_object() || v.is_array()) {
        return vec![whole];
    }
    let fenced = fences::read(answer);
    let mut values = Vec::new();
    for block in fenced.blocks.iter().chain(&fenced.unclosed) {
        match parse(&block.code) {
            Some(value) => values.push(value),
            None => values.extend(values_in(&block.code)),
        }
    }
    values.extend(values_in(&fenced.outside));
    values
}

/// `{"findings": [...]}`, or a bare array whose items look like findings.
fn findings_list(value: &Value) -> Option<&Vec<Value>> {
    match value {
        Value::Object(object) => object.get("findings").and_then(Value::as_array),
        Value::Array(items) if !items.is_empty() && items.iter().all(|i| i.get("message").is_some()) => Some(items),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(answer: &str) -> Vec<String> {
        read_findings(answer).unwrap().into_iter().map(|f| f.message).collect()
    }

    #[test]
    fn the_value_holding_findings_wins_not_the_first() {
        let answer = "Format: ```json\n{\"findings\": []}\n```\nMine:\n```json\n{\"findings\": [{\"message\": \"m\",},], // done\n}\n```\nBye.";
        assert_eq!(messages(answer), ["m"]);
        assert_eq!(messages("[{\"message\": \"bare\"}]"), ["bare"]);
        assert!(messages("All good: {\"findings\": []}").is_empty());
    }

    #[test]
    fn findings_split_across_blocks_are_merged_once_each() {
        let answer = "First:\n```json\n{\"findings\": [{\"message\": \"one\", \"line\": 3}]}\n```\nAnd also:\n```json\n{\"findings\": [{\"message\": \"two\"}, {\"message\": \"one\", \"line\": 3}]}\n```\nExample: {\"findings\": []}";
        assert_eq!(messages(answer), ["one", "two"]);
    }

    #[test]
    fn a_finding_that_cannot_be_read_is_dropped_not_fatal() {
        let answer = "{\"findings\": [{\"message\": \"a\", \"line\": \"18\"}, {\"message\": \"b\", \"line\": \"13-16\"}, {\"rule\": \"no-message\"}, {\"message\": \"c\", \"line\": \"somewhere\"}, {\"message\": \"d\", \"line\": -2}, {\"message\": \"e\", \"line\": 7.0}]}";
        let read = read_findings_counted(answer).unwrap();
        let lines: Vec<(&str, Option<usize>)> = read.findings.iter().map(|f| (f.message.as_str(), f.line)).collect();
        assert_eq!(lines, [("a", Some(18)), ("b", Some(13)), ("c", None), ("d", None), ("e", Some(7))]);
        assert_eq!(read.dropped, 1);
        assert_eq!(read_findings(answer).unwrap().len(), 5);
        assert_eq!(line_number(&serde_json::json!("L12")), Some(12));
        assert_eq!(line_number(&serde_json::json!("line 12, col 3")), Some(12));
    }

    #[test]
    fn answers_without_findings_are_refused_by_kind() {
        assert!(matches!(read_findings("I could not do it."), Err(AnswerProblem::NoCode { .. })));
        assert_eq!(read_findings("{\"issues\": []}"), Err(AnswerProblem::FindingsMissing { keys: vec!["issues".into()] }));
        assert!(matches!(read_findings("```json\n{\"findings\": [{\"message\": \"m\""), Err(AnswerProblem::Truncated { .. })));
        assert!(matches!(read_findings("{\"findings\": [{\"rule\": \"r\"}]}"), Err(AnswerProblem::FindingMalformed { index: 0, .. })));
    }
}
