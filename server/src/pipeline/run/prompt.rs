//! A step's prompt as a template and named inputs: `{{editor.code}}` is
//! the input `code`, a `previous_response: diagnose` item the input
//! `diagnose`, a `file` item the input named after the file. The template
//! filled with the inputs is the prompt as written; the inputs alone are
//! what a stored (optimized) version of the step receives and what an
//! example records.

use serde_json::{Map, Value};

/// A prompt placeholder's input name: the part of the path that names
/// the data (`editor.code` -> `code`, `steps.diagnose.result` -> `diagnose`,
/// `steps.diagnose.result.issues` -> `issues`, `file:lib/a.ex` -> `a`).
pub fn input_name(expression: &str) -> String {
    let expression = expression.trim();
    let segments: Vec<&str> = expression.split('.').filter(|s| !s.is_empty()).collect();
    let name = if let Some(path) = expression.strip_prefix("file:") {
        std::path::Path::new(path).file_stem().and_then(|s| s.to_str()).unwrap_or(path).to_string()
    } else if let Some(step) = expression.strip_prefix("previous_response:") {
        step.to_string()
    } else {
        match segments.as_slice() {
            ["steps", step] | ["steps", step, "result" | "output" | "text"] => step.to_string(),
            ["workflow", "name"] => "workflow_name".into(),
            [.., last] => last.to_string(),
            [] => "input".into(),
        }
    };
    let clean: String = name.chars().map(|c| if c.is_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    let clean = clean.trim_matches('_').to_string();
    if clean.is_empty() || clean.starts_with(|c: char| c.is_ascii_digit()) { format!("input_{clean}") } else { clean }
}

/// Each `{{...}}` of a template with its byte range.
pub fn placeholders(template: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut found = Vec::new();
    let mut offset = 0;
    while let Some(open) = template[offset..].find("{{") {
        let start = offset + open;
        let Some(close) = template[start + 2..].find("}}") else { break };
        let end = start + 2 + close + 2;
        found.push((start..end, template[start + 2..end - 2].trim()));
        offset = end;
    }
    found
}

/// The template with every placeholder replaced by `replace(name)`.
pub fn substitute(template: &str, mut replace: impl FnMut(&str) -> Result<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut last = 0;
    for (range, expression) in placeholders(template) {
        out.push_str(&template[last..range.start]);
        out.push_str(&replace(&input_name(expression))?);
        last = range.end;
    }
    out.push_str(&template[last..]);
    Ok(out)
}

/// The prompt as written, filled from named inputs (used to evaluate the
/// pipeline's own prompt on stored examples).
pub fn fill(template: &str, inputs: &Map<String, Value>) -> Result<String, String> {
    substitute(template, |name| match inputs.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Ok(other.to_string()),
        None => Err(format!("the input `{name}` is missing")),
    })
}

/// The template as instructions for a version that receives its inputs
/// as fields: `Review {{editor.code}}` -> ``Review `code` ``.
pub fn plain_instructions(template: &str) -> String {
    substitute(template, |name| Ok(format!("`{name}`"))).unwrap_or_else(|_| template.to_string())
}

/// The input names of a template, in order of first use.
pub fn input_names(template: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (_, expression) in placeholders(template) {
        let name = input_name(expression);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}
