//! A step's prompt as a template and named inputs: `{{editor.code}}` is
//! the input `code`, a `previous_response: diagnose` item the input
//! `diagnose`, a `file` item the input named after the file. The template
//! filled with the inputs is the prompt as written; the inputs alone are
//! what a stored (optimized) version of the step receives and what an
//! example records.

use serde_json::{Map, Value};

use crate::pipeline::templates::{placeholders, substitute};

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

/// The expression a `file` item stands for in a step's template.
pub fn file_expression(path: &str) -> String {
    format!("file:{path}")
}

/// The expression a `previous_response` item stands for in a step's template.
pub fn response_expression(step: &str, extract: Option<&str>) -> String {
    match extract {
        Some(path) => format!("steps.{step}.result.{path}"),
        None => format!("steps.{step}"),
    }
}

/// The prompt as written, filled from named inputs (used to evaluate the
/// pipeline's own prompt on stored examples).
pub fn fill(template: &str, inputs: &Map<String, Value>) -> Result<String, String> {
    substitute(template, |expression| {
        let name = input_name(expression);
        match inputs.get(&name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Ok(other.to_string()),
            None => Err(format!("the input `{name}` is missing")),
        }
    })
}

/// The template as instructions for a version that receives its inputs
/// as fields: `Review {{editor.code}}` -> ``Review `code` ``.
pub fn plain_instructions(template: &str) -> String {
    substitute(template, |expression| Ok(format!("`{}`", input_name(expression)))).unwrap_or_else(|_| template.to_string())
}

/// A version's instructions as a field-based prompt states them: the
/// pipeline's own (`manual`) template names its inputs instead of holding
/// placeholders; imported and learned instructions are already so.
pub fn objective(version: &crate::store::NewVersion) -> String {
    if version.source == "manual" {
        plain_instructions(&version.instructions)
    } else {
        version.instructions.clone()
    }
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
