//! A stored prompt version written back into a pipeline file: the step's
//! `prompt:` becomes one `static` item holding the version's instructions,
//! its demos, and the step's own placeholders where the inputs go, so the
//! pipeline runs the optimized prompt even without the store.

use std::ops::Range;

use super::outline;
use super::run::prompt::{file_expression, input_name, response_expression};
use super::templates::placeholders;
use super::yaml::{self, YamlNode};
use crate::store::NewVersion;

/// The pipeline's name, and the model step under `offset`, if any.
pub fn step_at(source: &str, offset: usize) -> Option<(String, String, YamlNode)> {
    let root = yaml::parse(source).root?;
    let workflow = outline::workflow(&root)?;
    let pipeline = workflow.get("name")?.as_str()?.to_string();
    let step = outline::all_steps(workflow, source).into_iter().filter(|s| s.range.start <= offset && offset <= s.range.end).min_by_key(|s| s.range.len())?;
    let node = find_node(workflow.get("steps")?, &step.range)?.clone();
    node.get("prompt")?;
    Some((pipeline, step.name, node))
}

fn find_node<'a>(steps: &'a YamlNode, range: &Range<usize>) -> Option<&'a YamlNode> {
    steps.items().iter().find_map(|step| if step.range == *range { Some(step) } else { step.get("steps").and_then(|s| find_node(s, range)) })
}

/// The placeholder expression of each named input of a step's prompt.
pub fn step_inputs(prompt: &YamlNode) -> Vec<(String, String)> {
    let mut inputs: Vec<(String, String)> = Vec::new();
    let mut add = |expression: String| {
        let name = input_name(&expression);
        if !inputs.iter().any(|(n, _)| *n == name) {
            inputs.push((name, expression));
        }
    };
    for item in prompt.items() {
        let field = |key: &str| item.get(key).and_then(YamlNode::as_str).unwrap_or_default().to_string();
        match field("type").as_str() {
            "static" => placeholders(&field("content")).into_iter().for_each(|(_, e)| add(e.to_string())),
            "file" => add(file_expression(&field("path"))),
            "previous_response" => add(response_expression(&field("step"), item.get("extract").and_then(YamlNode::as_str))),
            _ => {}
        }
    }
    inputs
}

/// The version as the text of one static prompt item for a step whose
/// prompt has these inputs; an error when the version needs an input the
/// step does not have (or one that is a file, which a static item cannot read).
pub fn static_text(version: &NewVersion, inputs: &[(String, String)]) -> Result<String, String> {
    let expression = |name: &str| -> Result<String, String> {
        match inputs.iter().find(|(n, _)| n == name) {
            Some((_, e)) if e.starts_with("file:") => Err(format!("the input `{name}` is a file, which a static item cannot read")),
            Some((_, e)) => Ok(format!("{{{{{e}}}}}")),
            None => Err(format!("the step has no input named `{name}` for this version")),
        }
    };
    let input_fields: Vec<&str> = version.fields.iter().filter(|f| !f.output).map(|f| f.name.as_str()).collect();
    let mut text = version.instructions.trim().to_string();
    let mut placed = Vec::new();
    for name in &input_fields {
        let mention = format!("`{name}`");
        if text.contains(&mention) {
            text = text.replace(&mention, &expression(name)?);
            placed.push(*name);
        }
    }
    if !version.demos.is_empty() {
        text.push_str("\n\nExamples of good answers:");
        for (index, demo) in version.demos.iter().enumerate() {
            text.push_str(&format!("\n\nExample {}", index + 1));
            for field in version.fields.iter().filter(|f| f.name != "augmented") {
                if let Some(value) = demo.get(&field.name) {
                    let value = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
                    // `{{` would be read as a placeholder; in Elixir `{ {` means the same.
                    let value = value.replace("{{", "{ {");
                    text.push_str(&format!("\n[[ ## {} ## ]]\n{}", field.name, value.trim_end()));
                }
            }
        }
    }
    for name in input_fields.iter().filter(|n| !placed.contains(n)) {
        text.push_str(&format!("\n\n[[ ## {name} ## ]]\n{}", expression(name)?));
    }
    Ok(text)
}

/// The edit replacing a step's `prompt:` entry with one static item
/// holding `text` (a literal block scalar, indented under the key).
pub fn replace_prompt(source: &str, step: &YamlNode, text: &str) -> Option<(Range<usize>, String)> {
    let entry = step.entry("prompt")?;
    let line_start = source[..entry.key_range.start].rfind('\n').map_or(0, |i| i + 1);
    let indent = " ".repeat(entry.key_range.start - line_start);
    let mut yaml = format!("prompt:\n{indent}  - type: static\n{indent}    content: |");
    for line in text.trim_start_matches([' ', '\t']).lines() {
        yaml.push('\n');
        if !line.trim().is_empty() {
            yaml.push_str(&format!("{indent}      {line}"));
        }
    }
    let end = source[..entry.value.range.end].trim_end().len();
    Some((entry.key_range.start..end, yaml))
}
