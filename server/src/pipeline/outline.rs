//! The steps of a pipeline and every reference to them: what navigation,
//! rename, the outline and hover need.

use std::ops::Range;

use super::templates;
use super::yaml::{YamlNode, YamlValue};

#[derive(Clone, Debug)]
pub struct StepDef {
    pub name: String,
    /// The range of the name's value (what rename replaces).
    pub name_range: Range<usize>,
    pub step_type: Option<String>,
    /// The whole step.
    pub range: Range<usize>,
    /// Steps nested in this one (loops).
    pub children: Vec<StepDef>,
}

/// A place that names a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepReference {
    pub name: String,
    pub range: Range<usize>,
}

/// The workflow mapping of a parsed pipeline.
pub fn workflow(root: &YamlNode) -> Option<&YamlNode> {
    root.get("workflow").filter(|w| matches!(w.value, YamlValue::Map(_)))
}

pub fn steps(workflow: &YamlNode, source: &str) -> Vec<StepDef> {
    step_list(workflow.get("steps"), source)
}

fn step_list(steps: Option<&YamlNode>, source: &str) -> Vec<StepDef> {
    let Some(steps) = steps else { return Vec::new() };
    steps
        .items()
        .iter()
        .filter_map(|step| {
            let name = step.get("name")?;
            let text = name.as_str()?;
            Some(StepDef {
                name: text.to_string(),
                name_range: exact_range(name, text, source),
                step_type: step.get("type").and_then(YamlNode::as_str).map(str::to_string),
                range: step.range.clone(),
                children: step_list(step.get("steps"), source),
            })
        })
        .collect()
}

/// Every step, nested ones included, in run order.
pub fn all_steps(workflow: &YamlNode, source: &str) -> Vec<StepDef> {
    fn flatten(steps: Vec<StepDef>, out: &mut Vec<StepDef>) {
        for mut step in steps {
            let children = std::mem::take(&mut step.children);
            out.push(step);
            flatten(children, out);
        }
    }
    let mut out = Vec::new();
    flatten(steps(workflow, source), &mut out);
    out
}

/// `previous_response` items' `step`, `input_source: previous_response:NAME`,
/// and `{{steps.NAME...}}` / `{{previous_response:NAME}}` templates.
pub fn references(workflow: &YamlNode, source: &str) -> Vec<StepReference> {
    let mut found = Vec::new();
    collect(workflow, source, &mut found);
    templates::step_references(workflow, source, &mut |name, range| found.push(StepReference { name, range }));
    found.sort_by_key(|r| r.range.start);
    found
}

fn collect(node: &YamlNode, source: &str, out: &mut Vec<StepReference>) {
    match &node.value {
        YamlValue::Map(entries) => {
            let is_previous_response = node.get("type").and_then(YamlNode::as_str) == Some("previous_response");
            for entry in entries {
                if is_previous_response && entry.key == "step" {
                    if let Some(name) = entry.value.as_str() {
                        out.push(StepReference { name: name.to_string(), range: exact_range(&entry.value, name, source) });
                    }
                } else if entry.key == "input_source" {
                    if let Some(rest) = entry.value.as_str().and_then(|s| s.trim().strip_prefix("previous_response:")) {
                        let name = rest.split([':', '.']).next().unwrap_or_default();
                        let text = &source[entry.value.range.clone()];
                        if let Some(at) = text.find(&format!("previous_response:{name}")) {
                            let start = entry.value.range.start + at + "previous_response:".len();
                            out.push(StepReference { name: name.to_string(), range: start..start + name.len() });
                        }
                    }
                } else {
                    collect(&entry.value, source, out);
                }
            }
        }
        YamlValue::Seq(items) => items.iter().for_each(|i| collect(i, source, out)),
        _ => {}
    }
}

/// The range of `text` inside a scalar node (without its quotes).
fn exact_range(node: &YamlNode, text: &str, source: &str) -> Range<usize> {
    let raw = &source[node.range.clone()];
    match raw.find(text) {
        Some(at) => node.range.start + at..node.range.start + at + text.len(),
        None => node.range.clone(),
    }
}

/// The step name (definition or reference) under `offset`.
pub fn step_name_at(workflow: &YamlNode, source: &str, offset: usize) -> Option<String> {
    let inside = |range: &Range<usize>| range.start <= offset && offset <= range.end;
    all_steps(workflow, source)
        .into_iter()
        .find(|s| inside(&s.name_range))
        .map(|s| s.name)
        .or_else(|| references(workflow, source).into_iter().find(|r| inside(&r.range)).map(|r| r.name))
}
