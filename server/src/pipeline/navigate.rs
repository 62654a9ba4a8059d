//! Go to definition, find references and rename for step names, and the
//! outline (document symbols).

use std::ops::Range;

use super::outline::{self, StepDef};
use super::yaml;

/// The `name:` of the step named at `offset` (by its definition or a reference).
pub fn definition(source: &str, offset: usize) -> Option<Range<usize>> {
    let document = yaml::parse(source);
    let workflow = outline::workflow(document.root.as_ref()?)?;
    let name = outline::step_name_at(workflow, source, offset)?;
    outline::all_steps(workflow, source).into_iter().find(|s| s.name == name).map(|s| s.name_range)
}

/// Every place that names the step at `offset`, its definition first when asked.
pub fn references(source: &str, offset: usize, include_definition: bool) -> Vec<Range<usize>> {
    let document = yaml::parse(source);
    let Some(workflow) = document.root.as_ref().and_then(outline::workflow) else { return Vec::new() };
    let Some(name) = outline::step_name_at(workflow, source, offset) else { return Vec::new() };
    let mut found = Vec::new();
    if include_definition {
        found.extend(outline::all_steps(workflow, source).into_iter().filter(|s| s.name == name).map(|s| s.name_range));
    }
    found.extend(outline::references(workflow, source).into_iter().filter(|r| r.name == name).map(|r| r.range));
    found
}

/// The edits that rename the step at `offset` everywhere, or why not.
pub fn rename(source: &str, offset: usize, new_name: &str) -> Result<Vec<(Range<usize>, String)>, String> {
    let valid = !new_name.is_empty() && new_name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-'));
    if !valid {
        return Err(format!("`{new_name}` is not a usable step name: use letters, digits, `_` and `-`"));
    }
    let ranges = references(source, offset, true);
    if ranges.is_empty() {
        return Err("there is no step name here".to_string());
    }
    let document = yaml::parse(source);
    let workflow = document.root.as_ref().and_then(outline::workflow);
    if workflow.is_some_and(|w| outline::all_steps(w, source).iter().any(|s| s.name == new_name)) {
        return Err(format!("a step is already named `{new_name}`"));
    }
    Ok(ranges.into_iter().map(|range| (range, new_name.to_string())).collect())
}

/// The range of the step name at `offset`, if renaming can start there.
pub fn prepare_rename(source: &str, offset: usize) -> Option<Range<usize>> {
    let document = yaml::parse(source);
    let workflow = outline::workflow(document.root.as_ref()?)?;
    let inside = |r: &Range<usize>| r.start <= offset && offset <= r.end;
    outline::all_steps(workflow, source)
        .into_iter()
        .map(|s| s.name_range)
        .chain(outline::references(workflow, source).into_iter().map(|r| r.range))
        .find(inside)
}

/// The outline: the workflow, its steps, and their nested steps.
pub struct Symbol {
    pub name: String,
    pub detail: Option<String>,
    pub range: Range<usize>,
    pub selection: Range<usize>,
    pub children: Vec<Symbol>,
}

pub fn symbols(source: &str) -> Vec<Symbol> {
    let document = yaml::parse(source);
    let Some(root) = document.root.as_ref() else { return Vec::new() };
    let Some(workflow) = outline::workflow(root) else { return Vec::new() };
    let name = workflow.get("name");
    let title = name.and_then(|n| n.as_str()).unwrap_or("workflow").to_string();
    let selection = name.map_or(workflow.range.clone(), |n| n.range.clone());
    fn convert(step: StepDef) -> Symbol {
        Symbol {
            name: step.name,
            detail: step.step_type,
            range: step.range,
            selection: step.name_range,
            children: step.children.into_iter().map(convert).collect(),
        }
    }
    vec![Symbol {
        name: title,
        detail: Some("workflow".to_string()),
        range: root.range.clone(),
        selection,
        children: outline::steps(workflow, source).into_iter().map(convert).collect(),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "workflow:\n  name: w\n  steps:\n    - name: \"scan\"\n      type: claude\n      prompt:\n        - type: static\n          content: x\n    - name: fix\n      type: claude\n      prompt:\n        - type: previous_response\n          step: scan\n        - type: static\n          content: \"{{steps.scan.result}} and {{previous_response:scan}}\"\n";

    fn at(text: &str, occurrence: usize) -> usize {
        SOURCE.match_indices(text).nth(occurrence).unwrap().0 + 1
    }

    #[test]
    fn definition_and_references_of_a_step() {
        let definition = definition(SOURCE, at("step: scan", 0) + 6).unwrap();
        assert_eq!(&SOURCE[definition.clone()], "scan");
        assert_eq!(definition.start, SOURCE.find("\"scan\"").unwrap() + 1, "inside the quotes");
        let found = references(SOURCE, definition.start, true);
        assert_eq!(found.len(), 4, "definition, step:, steps.scan, previous_response:scan");
        assert!(found.iter().all(|r| &SOURCE[r.clone()] == "scan"));
    }

    #[test]
    fn rename_changes_every_place_and_refuses_bad_names() {
        let edits = rename(SOURCE, at("steps.scan", 0) + 6, "survey").unwrap();
        let mut text = SOURCE.to_string();
        let mut sorted = edits.clone();
        sorted.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
        for (range, new_text) in sorted {
            text.replace_range(range, &new_text);
        }
        assert!(!text.contains("scan"), "{text}");
        assert_eq!(text.matches("survey").count(), 4);
        assert!(rename(SOURCE, at("steps.scan", 0) + 6, "fix").is_err());
        assert!(rename(SOURCE, at("steps.scan", 0) + 6, "two words").is_err());
    }

    #[test]
    fn the_outline_lists_steps_with_their_types() {
        let outline = symbols(SOURCE);
        assert_eq!(outline[0].name, "w");
        let steps: Vec<(&str, Option<&str>)> = outline[0].children.iter().map(|s| (s.name.as_str(), s.detail.as_deref())).collect();
        assert_eq!(steps, [("scan", Some("claude")), ("fix", Some("claude"))]);
    }
}
