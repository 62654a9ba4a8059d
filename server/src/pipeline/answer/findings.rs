//! An analysis answer read as findings: the JSON value that holds them,
//! wherever it stands and however loosely it is written.
//!
//! Which value: one with a non-empty `findings` list (a `{"findings": []}`
//! format example must not hide the real list), else one with an empty
//! list (a clean file), else a bare array of finding objects. Among
//! several with findings the last wins: the contract is that the answer
//! ends in its JSON, and an echoed example comes before the answer.

use serde_json::Value;

use super::fences;
use super::lenient_json::{parse, values_in};
use super::problem::{AnswerProblem, Expected};
use crate::pipeline::outcome::ModelFinding;

pub fn read_findings(answer: &str) -> Result<Vec<ModelFinding>, AnswerProblem> {
    let values = json_values(answer);
    let lists: Vec<&Vec<Value>> = values.iter().filter_map(findings_list).collect();
    let chosen = lists.iter().rev().find(|l| !l.is_empty()).or(lists.last()).copied();
    let Some(list) = chosen else {
        let fenced = fences::read(answer);
        if let Some(cut) = fenced.unclosed.filter(|_| values.is_empty()) {
            return Err(AnswerProblem::Truncated { language: cut.language, opened_at_line: cut.opened_at_line });
        }
        return Err(match values.iter().find_map(Value::as_object) {
            Some(object) => AnswerProblem::FindingsMissing { keys: object.keys().cloned().collect() },
            None => AnswerProblem::NoCode { expected: Expected::Findings },
        });
    };
    list.iter()
        .enumerate()
        .map(|(index, item)| {
            serde_json::from_value(item.clone()).map_err(|e| AnswerProblem::FindingMalformed { index, detail: e.to_string() })
        })
        .collect()
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
    fn answers_without_findings_are_refused_by_kind() {
        assert!(matches!(read_findings("I could not do it."), Err(AnswerProblem::NoCode { .. })));
        assert_eq!(read_findings("{\"issues\": []}"), Err(AnswerProblem::FindingsMissing { keys: vec!["issues".into()] }));
        assert!(matches!(read_findings("```json\n{\"findings\": [{\"message\": \"m\""), Err(AnswerProblem::Truncated { .. })));
        assert!(matches!(read_findings("{\"findings\": [{\"rule\": \"r\"}]}"), Err(AnswerProblem::FindingMalformed { index: 0, .. })));
    }
}
