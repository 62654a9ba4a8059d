//! Completion in pipeline files, from the schema. The path to the cursor
//! is read from indentation, so completion works on half-typed lines that
//! no parser would accept.

use std::ops::Range;
use std::path::Path;

use super::schema::{self, Field, Need, Shape};
use super::{outline, yaml};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    Key,
    Value,
    StepName,
    File,
    Variable,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletionItem {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
    pub documentation: String,
    /// Text to insert (a snippet with `$1`, `${1|a,b|}` placeholders when `snippet`).
    pub insert: String,
    pub snippet: bool,
    /// What the item replaces (the partial word at the cursor).
    pub replace: Range<usize>,
}

/// A line of YAML, as far as indentation goes.
struct Line<'a> {
    /// Column of the key (after `- ` on item lines).
    key_column: usize,
    /// Column of the `-` on item lines.
    dash_column: Option<usize>,
    key: Option<&'a str>,
    value: &'a str,
}

fn read_line(text: &str) -> Option<Line<'_>> {
    let trimmed = text.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return None;
    }
    let indent = text.len() - trimmed.len();
    let (dash_column, content, key_column) = match trimmed.strip_prefix("- ").or_else(|| (trimmed == "-").then_some("")) {
        Some(rest) => {
            let inner = rest.trim_start();
            (Some(indent), inner, indent + 2 + (rest.len() - inner.len()))
        }
        None => (None, trimmed, indent),
    };
    let (key, value) = match content.split_once(':') {
        Some((key, value)) if !key.contains(' ') || key.starts_with('"') => (Some(key.trim_matches(['"', '\''])), value.trim()),
        _ => (None, content),
    };
    Some(Line { key_column, dash_column, key, value })
}

/// One level of the path from the root to the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Key(String),
    Item,
}

/// The path of the mapping at `column` on line `line`, and the keys and
/// values of that mapping (for `type:` and for keys already present).
fn context(lines: &[&str], line: usize, column: usize, starts_item: bool) -> (Vec<Segment>, Vec<(String, String)>) {
    let mut path = Vec::new();
    let mut threshold = column;
    // A line that starts a list item starts its own mapping.
    let mut level_start = if starts_item { line } else { 0 };
    for (index, text) in lines[..line].iter().enumerate().rev() {
        let Some(parsed) = read_line(text) else { continue };
        if parsed.key_column < threshold {
            if let Some(key) = parsed.key.filter(|_| parsed.value.is_empty() || parsed.value.starts_with('#')) {
                path.push(Segment::Key(key.to_string()));
            }
            threshold = parsed.key_column;
            if level_start == 0 {
                level_start = index + 1;
            }
        }
        if let Some(dash) = parsed.dash_column.filter(|d| *d < threshold || (parsed.key_column == threshold && *d < column)) {
            if path.last() != Some(&Segment::Item) || parsed.key_column < column {
                path.push(Segment::Item);
            }
            threshold = dash;
            if level_start == 0 {
                level_start = index;
            }
        }
        if threshold == 0 {
            break;
        }
    }
    path.reverse();
    if starts_item {
        path.push(Segment::Item);
    }
    // The mapping's own keys: lines at `column`, from where it starts to
    // where indentation drops below it.
    let mut siblings = Vec::new();
    for (index, text) in lines.iter().enumerate().skip(level_start) {
        let Some(parsed) = read_line(text) else { continue };
        if index > line && (parsed.key_column < column || parsed.dash_column.is_some_and(|d| d < column)) {
            break;
        }
        if index != line && parsed.key_column == column {
            if let Some(key) = parsed.key {
                siblings.push((key.to_string(), parsed.value.trim_matches(['"', '\'']).to_string()));
            }
        }
    }
    (path, siblings)
}

/// What is expected at a path: the fields of a mapping, or the shape of a value.
enum Expected {
    Fields(Vec<&'static Field>),
    Shape(&'static Shape),
    StepFields,
    PromptItemFields,
    Nothing,
}

fn resolve(path: &[Segment]) -> Expected {
    let mut expected = Expected::Fields(schema::ROOT.iter().collect());
    for segment in path {
        expected = match (expected, segment) {
            (Expected::Fields(fields), Segment::Key(key)) => match fields.into_iter().find(|f| f.name == key) {
                Some(field) => Expected::Shape(&field.shape),
                None => Expected::Nothing,
            },
            (Expected::StepFields, Segment::Key(key)) => match step_field(key) {
                Some(field) => Expected::Shape(&field.shape),
                None => Expected::Nothing,
            },
            (Expected::PromptItemFields, Segment::Key(key)) => {
                match schema::PROMPT_ITEMS.iter().flat_map(|t| t.fields).find(|f| f.name == key) {
                    Some(field) => Expected::Shape(&field.shape),
                    None => Expected::Nothing,
                }
            }
            (Expected::Shape(shape), segment) => descend(shape, segment),
            _ => Expected::Nothing,
        };
    }
    match expected {
        Expected::Shape(Shape::Object(fields)) => Expected::Fields(fields.iter().collect()),
        other => other,
    }
}

fn descend(shape: &'static Shape, segment: &Segment) -> Expected {
    match (shape, segment) {
        (Shape::Steps, Segment::Item) => Expected::StepFields,
        (Shape::Prompt, Segment::Item) => Expected::PromptItemFields,
        (Shape::List(item), Segment::Item) => match item {
            Shape::Object(fields) => Expected::Fields(fields.iter().collect()),
            other => Expected::Shape(other),
        },
        (Shape::Object(fields), Segment::Key(key)) => match fields.iter().find(|f| &f.name == key) {
            Some(field) => Expected::Shape(&field.shape),
            None => Expected::Nothing,
        },
        (Shape::MapOf(value), Segment::Key(_)) => match value {
            Shape::Object(fields) => Expected::Fields(fields.iter().collect()),
            other => Expected::Shape(other),
        },
        (Shape::Either(shapes), segment) => shapes
            .iter()
            .map(|s| descend(s, segment))
            .find(|e| !matches!(e, Expected::Nothing))
            .unwrap_or(Expected::Nothing),
        _ => Expected::Nothing,
    }
}

/// A step field of any type (the shapes agree across types).
fn step_field(key: &str) -> Option<&'static Field> {
    schema::COMMON_STEP_FIELDS.iter().chain(schema::STEP_TYPES.iter().flat_map(|t| t.fields)).find(|f| f.name == key)
}

pub fn complete(source: &str, offset: usize, workspace: Option<&Path>) -> Vec<CompletionItem> {
    let line_start = source[..offset].rfind('\n').map_or(0, |i| i + 1);
    let before = &source[line_start..offset];
    let lines: Vec<&str> = source.split('\n').collect();
    let line = source[..line_start].matches('\n').count();

    // A stand-in character makes an empty line read as a key at the cursor.
    let probe = format!("{before}x");
    let Some(parsed) = read_line(&probe) else { return Vec::new() };
    let column = parsed.key_column;
    let (path, siblings) = context(&lines, line, column, parsed.dash_column.is_some());
    let inside_step = path.windows(2).any(|w| w == [Segment::Key("steps".into()), Segment::Item]);

    if let Some(open) = before.rfind("{{").filter(|open| !before[*open..].contains("}}")) {
        let partial = before[open + 2..].trim_start();
        return template_completions(source, partial, offset, inside_step);
    }
    let present: Vec<&str> = siblings.iter().map(|(k, _)| k.as_str()).collect();

    match parsed.key.filter(|_| before.contains(':')) {
        // `key: partial` — complete the value.
        Some(key) => {
            let partial = before.rsplit(':').next().unwrap_or("").trim_start().trim_start_matches(['"', '\'']);
            let replace = offset - partial.len()..offset;
            let mut value_path = path.clone();
            value_path.push(Segment::Key(key.to_string()));
            value_completions(&path, key, &value_path, &siblings, source, replace, workspace, inside_step)
        }
        // A key being typed (or an empty line).
        None => {
            let partial = before.trim_start().trim_start_matches("- ").trim_start();
            let replace = offset - partial.len()..offset;
            let fields: Vec<&'static Field> = match resolve(&path) {
                Expected::Fields(fields) => fields,
                Expected::StepFields => {
                    let step_type = siblings.iter().find(|(k, _)| k == "type").and_then(|(_, v)| schema::step_type(v));
                    let own: Vec<&'static Field> = step_type.map(|t| t.fields.iter().collect()).unwrap_or_else(|| {
                        // No type yet: every type's fields, once each.
                        let mut all: Vec<&'static Field> = Vec::new();
                        for field in schema::STEP_TYPES.iter().flat_map(|t| t.fields) {
                            if !all.iter().any(|f| f.name == field.name) {
                                all.push(field);
                            }
                        }
                        all
                    });
                    schema::COMMON_STEP_FIELDS.iter().chain(own).collect()
                }
                Expected::PromptItemFields => {
                    let item_type = siblings.iter().find(|(k, _)| k == "type").and_then(|(_, v)| schema::prompt_item_type(v));
                    match item_type {
                        Some(item) => item.fields.iter().collect(),
                        None => vec![&PROMPT_ITEM_TYPE_FIELD],
                    }
                }
                _ => Vec::new(),
            };
            fields
                .into_iter()
                .filter(|f| !present.contains(&f.name))
                .map(|field| key_item(field, replace.clone()))
                .collect()
        }
    }
}

const PROMPT_ITEM_TYPE_FIELD: Field = Field {
    name: "type",
    doc: "The kind of prompt item: static, file, previous_response, session_context, claude_continue.",
    shape: Shape::String,
    need: Need::Required,
    support: schema::Support::Runs,
};

fn key_item(field: &'static Field, replace: Range<usize>) -> CompletionItem {
    let insert = match &field.shape {
        Shape::Object(_) | Shape::MapOf(_) => format!("{}:\n  $0", field.name),
        Shape::Steps => format!("{}:\n  - name: $1\n    type: ${{2|claude,gemini,claude_smart|}}\n    prompt:\n      - type: static\n        content: $0", field.name),
        Shape::Prompt => format!("{}:\n  - type: static\n    content: $0", field.name),
        Shape::List(_) => format!("{}:\n  - $0", field.name),
        Shape::Enum(choices) => {
            let values: Vec<&str> = choices.iter().map(|c| c.value).collect();
            format!("{}: ${{1|{}|}}", field.name, values.join(","))
        }
        Shape::Boolean => format!("{}: ${{1|true,false|}}", field.name),
        _ => format!("{}: $0", field.name),
    };
    let need = match field.need {
        Need::Required => " (required)",
        Need::Needed => " (needed to run)",
        Need::Optional => "",
    };
    CompletionItem {
        label: field.name.to_string(),
        kind: CompletionKind::Key,
        detail: Some(format!("{}{need}", shape_name(&field.shape))),
        documentation: field.doc.to_string(),
        insert,
        snippet: true,
        replace,
    }
}

pub fn shape_name(shape: &Shape) -> &'static str {
    match shape {
        Shape::String => "string",
        Shape::Integer => "integer",
        Shape::Number => "number",
        Shape::Boolean => "boolean",
        Shape::Any => "any",
        Shape::Enum(_) => "one of",
        Shape::List(_) => "list",
        Shape::Object(_) | Shape::MapOf(_) => "mapping",
        Shape::Either(_) => "value",
        Shape::Prompt => "prompt items",
        Shape::Steps => "steps",
    }
}

fn value_item(label: &str, documentation: &str, kind: CompletionKind, replace: &Range<usize>) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind,
        detail: None,
        documentation: documentation.to_string(),
        insert: label.to_string(),
        snippet: false,
        replace: replace.clone(),
    }
}

fn value_completions(
    path: &[Segment],
    key: &str,
    value_path: &[Segment],
    siblings: &[(String, String)],
    source: &str,
    replace: Range<usize>,
    workspace: Option<&Path>,
    inside_step: bool,
) -> Vec<CompletionItem> {
    let container = resolve(path);
    match (&container, key) {
        (Expected::StepFields, "type") => {
            return schema::STEP_TYPES.iter().map(|t| value_item(t.name, t.doc, CompletionKind::Value, &replace)).collect();
        }
        (Expected::PromptItemFields, "type") => {
            return schema::PROMPT_ITEMS.iter().map(|t| value_item(t.name, t.doc, CompletionKind::Value, &replace)).collect();
        }
        (Expected::PromptItemFields, "step") => return step_names_before(source, replace.start, &replace, inside_step),
        (Expected::PromptItemFields, "path") if siblings.iter().any(|(k, v)| k == "type" && v == "file") => {
            return files(workspace, &source[replace.clone()], &replace);
        }
        _ => {}
    }
    match resolve(value_path) {
        Expected::Shape(Shape::Enum(choices)) => {
            choices.iter().map(|c| value_item(c.value, c.doc, CompletionKind::Value, &replace)).collect()
        }
        Expected::Shape(Shape::Boolean) => ["true", "false"].iter().map(|v| value_item(v, "", CompletionKind::Value, &replace)).collect(),
        _ => Vec::new(),
    }
}

/// Names of the steps whose results exist at `offset`: inside a step, those
/// before it (not it, nor the loops around it); elsewhere, all of them.
fn step_names_before(source: &str, offset: usize, replace: &Range<usize>, inside_step: bool) -> Vec<CompletionItem> {
    let document = yaml::parse(source);
    let Some(workflow) = document.root.as_ref().and_then(outline::workflow) else { return Vec::new() };
    let steps = outline::all_steps(workflow, source);
    let current = steps.iter().rposition(|s| s.range.start <= offset).filter(|_| inside_step);
    let current_start = current.map(|i| steps[i].range.start);
    steps
        .into_iter()
        .enumerate()
        .filter(|(index, step)| match (current, current_start) {
            (Some(current), Some(start)) => *index < current && !(step.range.start <= start && start <= step.range.end),
            _ => true,
        })
        .map(|(_, step)| {
            let documentation = step.step_type.map(|t| format!("A `{t}` step.")).unwrap_or_default();
            value_item(&step.name, &documentation, CompletionKind::StepName, replace)
        })
        .collect()
}

/// Workspace files whose path starts with `partial`.
fn files(workspace: Option<&Path>, partial: &str, replace: &Range<usize>) -> Vec<CompletionItem> {
    const LIMIT: usize = 200;
    let Some(workspace) = workspace else { return Vec::new() };
    let mut found = Vec::new();
    let walk = ignore::WalkBuilder::new(workspace).max_depth(Some(8)).build();
    for entry in walk.flatten() {
        if found.len() >= LIMIT {
            break;
        }
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(workspace) else { continue };
        let relative = relative.to_string_lossy().replace('\\', "/");
        if relative.starts_with(partial) {
            found.push(value_item(&relative, "", CompletionKind::File, replace));
        }
    }
    found.sort_by(|a, b| a.label.cmp(&b.label));
    found
}

fn template_completions(source: &str, partial: &str, offset: usize, inside_step: bool) -> Vec<CompletionItem> {
    let replace = offset - partial.len()..offset;
    let variable = |label: String, doc: &str| CompletionItem {
        label: label.clone(),
        kind: CompletionKind::Variable,
        detail: None,
        documentation: doc.to_string(),
        insert: label,
        snippet: false,
        replace: replace.clone(),
    };
    if let Some(rest) = partial.strip_prefix("steps.") {
        if rest.contains('.') {
            return vec![variable(format!("steps.{}.result", rest.split('.').next().unwrap_or_default()), "The step's result.")];
        }
        return step_names_before(source, offset, &replace, inside_step)
            .into_iter()
            .map(|item| variable(format!("steps.{}.result", item.label), &item.documentation))
            .collect();
    }
    if let Some((namespace, variables)) = schema::FIXED_NAMESPACES.iter().find(|(n, _)| partial.starts_with(&format!("{n}."))) {
        return variables.iter().map(|v| variable(format!("{namespace}.{}", v.value), v.doc)).collect();
    }
    if partial.starts_with("inputs.") {
        let document = yaml::parse(source);
        let workflow = document.root.as_ref().and_then(outline::workflow);
        let mut names: Vec<String> = Vec::new();
        for block in [workflow.and_then(|w| w.get("inputs")), workflow.and_then(|w| w.get("editor")).and_then(|e| e.get("inputs"))] {
            names.extend(block.into_iter().flat_map(|b| b.entries().iter().map(|e| e.key.clone())));
        }
        names.dedup();
        return names.into_iter().map(|n| variable(format!("inputs.{n}"), "A workflow input.")).collect();
    }
    schema::TEMPLATE_NAMESPACES.iter().map(|n| variable(n.value.to_string(), n.doc)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Complete at `$0` in `fixture`; the labels offered.
    fn labels(fixture: &str) -> Vec<String> {
        let offset = fixture.find("$0").expect("a $0 cursor");
        let source = fixture.replace("$0", "");
        complete(&source, offset, None).into_iter().map(|i| i.label).collect()
    }

    const STEPS: &str = "workflow:\n  name: x\n  steps:\n    - name: first\n      type: gemini\n      prompt:\n        - type: static\n          content: hi\n";

    #[test]
    fn keys_of_a_half_typed_step_follow_its_type() {
        let found = labels(&format!("{STEPS}    - name: second\n      type: claude_smart\n      pr$0"));
        assert!(found.contains(&"prompt".to_string()) && found.contains(&"preset".to_string()), "{found:?}");
        assert!(!found.contains(&"name".to_string()) && !found.contains(&"type".to_string()), "present keys are not offered: {found:?}");
        assert!(!found.contains(&"token_budget".to_string()), "gemini-only keys are not offered: {found:?}");
    }

    #[test]
    fn step_types_presets_and_prompt_item_types_are_offered_as_values() {
        assert!(labels(&format!("{STEPS}    - name: second\n      type: cl$0")).contains(&"claude_robust".to_string()));
        assert!(labels(&format!("{STEPS}    - name: second\n      type: claude_smart\n      preset: $0")).contains(&"analysis".to_string()));
        let items = labels(&format!("{STEPS}    - name: second\n      type: claude\n      prompt:\n        - type: $0"));
        assert!(items.contains(&"previous_response".to_string()), "{items:?}");
    }

    #[test]
    fn previous_response_offers_earlier_steps() {
        let found = labels(&format!("{STEPS}    - name: second\n      type: claude\n      prompt:\n        - type: previous_response\n          step: $0"));
        assert_eq!(found, ["first"]);
    }

    #[test]
    fn workflow_keys_and_nested_objects() {
        let found = labels("workflow:\n  name: x\n  $0\n");
        assert!(found.contains(&"steps".to_string()) && found.contains(&"defaults".to_string()) && !found.contains(&"name".to_string()), "{found:?}");
        let defaults = labels("workflow:\n  defaults:\n    claude_p$0\n");
        assert!(defaults.contains(&"claude_preset".to_string()), "{defaults:?}");
        let options = labels(&format!("{STEPS}    - name: second\n      type: claude\n      claude_options:\n        max$0"));
        assert!(options.contains(&"max_turns".to_string()), "{options:?}");
    }

    #[test]
    fn file_items_offer_workspace_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("lib/app")).unwrap();
        std::fs::write(dir.path().join("lib/app/worker.ex"), "").unwrap();
        std::fs::write(dir.path().join("README.md"), "").unwrap();
        let fixture = format!("{STEPS}    - name: second\n      type: claude\n      prompt:\n        - type: file\n          path: lib/$0");
        let offset = fixture.find("$0").unwrap();
        let items = complete(&fixture.replace("$0", ""), offset, Some(dir.path()));
        let labels: Vec<&str> = items.iter().map(|i| i.label.as_str()).collect();
        assert_eq!(labels, ["lib/app/worker.ex"]);
        assert_eq!(items[0].replace.len(), "lib/".len());
    }

    #[test]
    fn templates_offer_namespaces_steps_and_editor_variables() {
        let namespaces = labels(&format!("{STEPS}    - name: second\n      type: claude\n      prompt:\n        - type: static\n          content: \"{{{{$0"));
        assert!(namespaces.contains(&"steps".to_string()) && namespaces.contains(&"editor".to_string()), "{namespaces:?}");
        let steps = labels(&format!("{STEPS}    - name: second\n      type: claude\n      prompt:\n        - type: static\n          content: \"{{{{steps.$0"));
        assert_eq!(steps, ["steps.first.result"]);
        let editor = labels("workflow:\n  editor:\n    inputs:\n      code: \"{{editor.$0");
        assert!(editor.contains(&"editor.selection_or_file".to_string()), "{editor:?}");
    }
}
