//! Diagnostics for pipeline files, with exact ranges.
//!
//! Severity follows pipeline_ex: what `Pipeline.Config` rejects is an error
//! (so every file it accepts gets none), everything else the schema knows
//! to be wrong or suspicious is a warning.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use super::schema::{self, Field, Need, PromptRule, Shape, Support};
use super::{outline, templates};
use super::yaml::{self, YamlNode, YamlValue};
use crate::finding::{Applicability, Edit, Finding, Fix, Severity};

/// Diagnostic codes and names of pipeline files.
pub mod codes {
    pub const YAML_SYNTAX: (&str, &str) = ("EXP001", "yaml-syntax");
    pub const MISSING_WORKFLOW: (&str, &str) = ("EXP002", "missing-workflow-root");
    pub const MISSING_KEY: (&str, &str) = ("EXP003", "missing-key");
    pub const UNKNOWN_KEY: (&str, &str) = ("EXP004", "unknown-key");
    pub const NOT_RUN: (&str, &str) = ("EXP005", "documented-but-not-run");
    pub const WRONG_TYPE: (&str, &str) = ("EXP006", "wrong-type");
    pub const UNKNOWN_STEP_TYPE: (&str, &str) = ("EXP007", "unknown-step-type");
    pub const DUPLICATE_STEP: (&str, &str) = ("EXP008", "duplicate-step-name");
    pub const STEP_REFERENCE: (&str, &str) = ("EXP009", "unknown-step-reference");
    pub const LATER_STEP: (&str, &str) = ("EXP010", "reference-to-later-step");
    pub const TEMPLATE: (&str, &str) = ("EXP011", "unknown-template-variable");
    pub const MISSING_FILE: (&str, &str) = ("EXP012", "missing-prompt-file");
    pub const STRING_PROMPT: (&str, &str) = ("EXP013", "prompt-not-a-list");
    pub const FUNCTION: (&str, &str) = ("EXP014", "unknown-function");
}

/// Where the pipeline lives, to check `file` prompt paths.
#[derive(Clone, Debug, Default)]
pub struct ValidationContext<'a> {
    pub workspace: Option<&'a Path>,
}

pub fn validate(source: &str, context: &ValidationContext) -> Vec<Finding> {
    let document = yaml::parse(source);
    let mut validator = Validator { source, context, findings: Vec::new(), steps: Vec::new() };
    for (range, message) in &document.errors {
        validator.report(codes::YAML_SYNTAX, Severity::Error, range.clone(), message.clone());
    }
    match &document.root {
        // A document too broken or too deep to read has said so already.
        None if !document.errors.is_empty() => {}
        None => validator.report(
            codes::MISSING_WORKFLOW,
            Severity::Error,
            0..0,
            "this file has no `workflow:` root, which pipeline_ex requires".to_string(),
        ),
        Some(root) => validator.root(root),
    }
    let mut findings = validator.findings;
    findings.sort_by_key(|f| (f.range.start, f.range.end));
    findings
}

struct Validator<'a> {
    source: &'a str,
    context: &'a ValidationContext<'a>,
    findings: Vec<Finding>,
    /// Every step, nested ones too, in run order (the index is the order).
    steps: Vec<outline::StepDef>,
}

impl Validator<'_> {
    fn report(&mut self, (code, name): (&'static str, &'static str), severity: Severity, range: Range<usize>, message: String) {
        self.findings.push(Finding { range, severity, code, name, message, fix: None });
    }

    fn report_with_fix(&mut self, code: (&'static str, &'static str), severity: Severity, range: Range<usize>, message: String, fix: Fix) {
        self.report(code, severity, range, message);
        if let Some(last) = self.findings.last_mut() {
            last.fix = Some(fix);
        }
    }

    fn root(&mut self, root: &YamlNode) {
        let Some(workflow) = root.get("workflow") else {
            self.missing_workflow(root);
            return;
        };
        if !matches!(workflow.value, YamlValue::Map(_)) {
            let message = format!("`workflow` must be a mapping (with `name` and `steps`), not {}", workflow.describe());
            self.report(codes::WRONG_TYPE, Severity::Error, workflow.range.clone(), message);
            return;
        }
        for entry in root.entries().iter().filter(|e| e.key != "workflow") {
            self.unknown_key(entry, schema::ROOT, "the top level");
        }
        self.steps = outline::all_steps(workflow, self.source);
        self.object(workflow, schema::WORKFLOW, "workflow");
        let functions = self.function_names(workflow);
        if let Some(steps) = workflow.get("steps") {
            if matches!(steps.value, YamlValue::Seq(_)) && steps.items().is_empty() {
                let message = "pipeline_ex needs at least one step".to_string();
                self.report(codes::MISSING_KEY, Severity::Error, steps.range.clone(), message);
            }
            self.steps_list(steps, &functions, true);
        }
        templates::check(workflow, self.source, &self.step_names(), &mut |range, message| {
            self.findings.push(Finding {
                range,
                severity: Severity::Warning,
                code: codes::TEMPLATE.0,
                name: codes::TEMPLATE.1,
                message,
                fix: None,
            })
        });
        self.template_step_references(workflow);
    }

    fn missing_workflow(&mut self, root: &YamlNode) {
        let hint = if root.get("pipeline").is_some() {
            "; it uses `pipeline:`, which pipeline_ex does not read"
        } else if root.get("steps").is_some() {
            "; its `steps:` must sit under `workflow:`"
        } else {
            ""
        };
        let range = root.entries().first().map_or(0..0, |e| e.key_range.clone());
        let message = format!("pipeline_ex requires a `workflow:` root{hint}");
        let fix = if let Some(entry) = root.entry("pipeline") {
            Fix {
                title: "Rename `pipeline:` to `workflow:`".into(),
                applicability: Applicability::Safe,
                edits: vec![Edit::replace(entry.key_range.clone(), "workflow")],
            }
        } else {
            let indented: String = self.source.split_inclusive('\n').map(|l| if l.trim().is_empty() { l.to_string() } else { format!("  {l}") }).collect();
            Fix {
                title: "Put everything under a `workflow:` root".into(),
                applicability: Applicability::Safe,
                edits: vec![Edit::replace(0..self.source.len(), format!("workflow:\n{indented}"))],
            }
        };
        self.report_with_fix(codes::MISSING_WORKFLOW, Severity::Error, range, message, fix);
    }

    /// Check a mapping against its fields.
    fn object(&mut self, node: &YamlNode, fields: &'static [Field], place: &str) {
        if !matches!(node.value, YamlValue::Map(_)) {
            if !node.is_null() {
                let message = format!("`{place}` should be a mapping, not {}", node.describe());
                self.report(codes::WRONG_TYPE, Severity::Warning, node.range.clone(), message);
            }
            return;
        }
        for entry in node.entries() {
            match fields.iter().find(|f| f.name == entry.key) {
                None => self.unknown_key(entry, fields, place),
                Some(field) => {
                    if field.support == Support::NotRun {
                        let message = format!("`{}` is documented by pipeline_ex but not used when a pipeline runs", field.name);
                        self.report(codes::NOT_RUN, Severity::Warning, entry.key_range.clone(), message);
                    }
                    self.value(&entry.value, &field.shape, field.name);
                }
            }
        }
        self.missing(node, fields, place);
    }

    fn missing(&mut self, node: &YamlNode, fields: &'static [Field], place: &str) {
        for field in fields.iter().filter(|f| f.need != Need::Optional) {
            if node.get(field.name).is_some_and(|v| !v.is_null()) {
                continue;
            }
            let (severity, consequence) = match field.need {
                Need::Required => (Severity::Error, "pipeline_ex rejects the file without it"),
                _ => (Severity::Warning, "it fails when it runs without it"),
            };
            let range = node.entry(field.name).map_or_else(|| self.first_line(node), |e| e.key_range.clone());
            let message = format!("`{place}` is missing `{}`: {consequence}", field.name);
            self.report(codes::MISSING_KEY, severity, range, message);
        }
    }

    /// The first line of a node: a visible, short range for "missing" messages.
    fn first_line(&self, node: &YamlNode) -> Range<usize> {
        let text = &self.source[node.range.clone()];
        node.range.start..node.range.start + text.find('\n').unwrap_or(text.len())
    }

    fn unknown_key(&mut self, entry: &yaml::Entry, fields: &[Field], place: &str) {
        let suggestion = fields
            .iter()
            .map(|f| (strsim::damerau_levenshtein(&entry.key, f.name), f.name))
            .filter(|(distance, name)| *distance <= 2.max(name.len() / 4))
            .min();
        let message = match suggestion {
            Some((_, name)) => format!("unknown key `{}` in `{place}`; did you mean `{name}`?", entry.key),
            None => {
                let known: Vec<&str> = fields.iter().map(|f| f.name).collect();
                format!("unknown key `{}` in `{place}`; pipeline_ex ignores it (known keys: {})", entry.key, known.join(", "))
            }
        };
        match suggestion {
            Some((_, name)) => self.report_with_fix(
                codes::UNKNOWN_KEY,
                Severity::Warning,
                entry.key_range.clone(),
                message,
                Fix { title: format!("Rename to `{name}`"), applicability: Applicability::Safe, edits: vec![Edit::replace(entry.key_range.clone(), name)] },
            ),
            None => self.report(codes::UNKNOWN_KEY, Severity::Warning, entry.key_range.clone(), message),
        }
    }

    /// Check a value against a shape.
    fn value(&mut self, node: &YamlNode, shape: &'static Shape, name: &str) {
        if node.is_null() {
            return;
        }
        let wrong = |expected: &str| format!("`{name}` should be {expected}, not {}", node.describe());
        match shape {
            Shape::Any | Shape::Steps => {}
            Shape::String => {
                if !matches!(node.value, YamlValue::Scalar(_)) {
                    self.report(codes::WRONG_TYPE, Severity::Warning, node.range.clone(), wrong("a string"));
                }
            }
            Shape::Integer | Shape::Number | Shape::Boolean => {
                let (expected, ok) = match shape {
                    Shape::Integer => ("an integer", node.describe() == "an integer"),
                    Shape::Number => ("a number", matches!(node.describe(), "an integer" | "a number")),
                    _ => ("a boolean (true or false)", node.describe() == "a boolean"),
                };
                // A template may produce the value at run time.
                let templated = node.as_str().is_some_and(|s| s.contains("{{"));
                if !ok && !templated {
                    self.report(codes::WRONG_TYPE, Severity::Warning, node.range.clone(), wrong(expected));
                }
            }
            Shape::Enum(choices) => {
                let value = node.as_str().unwrap_or_default();
                if !choices.iter().any(|c| c.value == value) {
                    let valid: Vec<&str> = choices.iter().map(|c| c.value).collect();
                    let message = format!("`{value}` is not a valid `{name}`; use one of: {}", valid.join(", "));
                    self.report(codes::WRONG_TYPE, Severity::Warning, node.range.clone(), message);
                }
            }
            Shape::List(item) => match &node.value {
                YamlValue::Seq(items) => {
                    for element in items {
                        self.value(element, item, name);
                    }
                }
                _ => self.report(codes::WRONG_TYPE, Severity::Warning, node.range.clone(), wrong("a list")),
            },
            Shape::Object(fields) => self.object(node, fields, name),
            Shape::MapOf(item) => match &node.value {
                YamlValue::Map(entries) => {
                    for entry in entries {
                        self.value(&entry.value, item, &entry.key);
                    }
                }
                _ => self.report(codes::WRONG_TYPE, Severity::Warning, node.range.clone(), wrong("a mapping")),
            },
            Shape::Either(shapes) => {
                let fits = shapes.iter().any(|s| match (s, &node.value) {
                    (Shape::String, YamlValue::Scalar(_)) => true,
                    (Shape::Number, YamlValue::Scalar(_)) => matches!(node.describe(), "an integer" | "a number"),
                    (Shape::Boolean, YamlValue::Scalar(_)) => node.describe() == "a boolean",
                    (Shape::List(_) | Shape::Prompt, YamlValue::Seq(_)) => true,
                    (Shape::MapOf(_) | Shape::Object(_), YamlValue::Map(_)) => true,
                    (Shape::Any, _) => true,
                    _ => false,
                });
                if !fits {
                    self.report(codes::WRONG_TYPE, Severity::Warning, node.range.clone(), wrong("of another kind"));
                } else if let (YamlValue::Seq(_), Some(prompt)) = (&node.value, shapes.iter().find(|s| matches!(s, Shape::Prompt))) {
                    self.value(node, prompt, name);
                }
            }
            Shape::Prompt => self.prompt(node, false),
        }
    }

    /// A list of steps; `top_level` steps get the checks pipeline_ex makes.
    fn steps_list(&mut self, steps: &YamlNode, functions: &Option<Vec<String>>, top_level: bool) {
        let YamlValue::Seq(items) = &steps.value else {
            if !steps.is_null() {
                let severity = if top_level { Severity::Error } else { Severity::Warning };
                let message = format!("`steps` must be a list of steps, not {}", steps.describe());
                self.report(codes::WRONG_TYPE, severity, steps.range.clone(), message);
            }
            return;
        };
        for step in items {
            self.step(step, functions, top_level);
        }
    }

    fn step(&mut self, step: &YamlNode, functions: &Option<Vec<String>>, top_level: bool) {
        let checked = if top_level { Severity::Error } else { Severity::Warning };
        if !matches!(step.value, YamlValue::Map(_)) {
            let message = format!("a step must be a mapping with `name` and `type`, not {}", step.describe());
            self.report(codes::WRONG_TYPE, checked, step.range.clone(), message);
            return;
        }
        let name = step.get("name").and_then(YamlNode::as_str).unwrap_or("(unnamed)").to_string();
        let place = format!("step `{name}`");
        for common in schema::COMMON_STEP_FIELDS.iter().filter(|f| f.need == Need::Required) {
            if step.get(common.name).is_none_or(YamlNode::is_null) {
                let message = format!("{place} is missing `{}`: pipeline_ex rejects the file without it", common.name);
                self.report(codes::MISSING_KEY, checked, self.first_line(step), message);
            }
        }
        let Some(type_node) = step.get("type").filter(|t| !t.is_null()) else { return };
        let type_name = type_node.as_str().unwrap_or_default();
        let Some(step_type) = schema::step_type(type_name) else {
            self.unknown_step_type(type_node, type_name, checked);
            return;
        };
        for entry in step.entries() {
            let field = schema::COMMON_STEP_FIELDS.iter().chain(step_type.fields).find(|f| f.name == entry.key);
            match field {
                None => self.unknown_step_key(entry, step_type, &place),
                Some(field) => {
                    if field.support == Support::NotRun {
                        let message = format!("`{}` is documented by pipeline_ex but not used when a pipeline runs", field.name);
                        self.report(codes::NOT_RUN, Severity::Warning, entry.key_range.clone(), message);
                    }
                    match (field.name, &field.shape) {
                        ("prompt", _) => {
                            let required = step_type.prompt == PromptRule::Required;
                            self.prompt(&entry.value, required && top_level)
                        }
                        ("steps", Shape::Steps) => self.steps_list(&entry.value, functions, false),
                        ("functions", _) => self.function_references(&entry.value, functions, &place),
                        ("type" | "name", _) => {}
                        (_, shape) => self.value(&entry.value, shape, field.name),
                    }
                }
            }
        }
        for field in step_type.fields.iter().filter(|f| f.need != Need::Optional && f.name != "prompt") {
            if step.get(field.name).is_none_or(YamlNode::is_null) {
                let (severity, consequence) = match field.need {
                    Need::Required if top_level => (Severity::Error, "pipeline_ex rejects the file without it"),
                    _ => (Severity::Warning, "it fails when it runs without it"),
                };
                let message = format!("{place} ({type_name}) is missing `{}`: {consequence}", field.name);
                self.report(codes::MISSING_KEY, severity, self.first_line(step), message);
            }
        }
        if step_type.prompt == PromptRule::Required && step.get("prompt").is_none_or(YamlNode::is_null) {
            let severity = if top_level { Severity::Error } else { Severity::Warning };
            let message = format!("{place} ({type_name}) is missing `prompt`: pipeline_ex rejects it without one");
            self.report(codes::MISSING_KEY, severity, self.first_line(step), message);
        }
        if type_name == "claude_batch" && step.get("prompt").is_none() && step.get("tasks").is_none() {
            let message = format!("{place} (claude_batch) needs a `prompt` or `tasks`");
            self.report(codes::MISSING_KEY, checked, self.first_line(step), message);
        }
        if let Some(options) = step.get("claude_options").filter(|_| type_name == "claude" && top_level) {
            self.streaming_options(options, &place);
        }
        if let Some(source) = step.get("input_source").and_then(YamlNode::as_str) {
            if let Some(referenced) = source.strip_prefix("previous_response:") {
                // `previous_response:STEP` or `previous_response:STEP:field`.
                let name = referenced.trim().split([':', '.']).next().unwrap_or_default();
                let node = step.get("input_source").unwrap();
                let start = node.range.start + self.source[node.range.clone()].find(name).unwrap_or(0);
                self.step_reference(name, start..start + name.len(), step, false);
            }
        }
    }

    fn unknown_step_key(&mut self, entry: &yaml::Entry, step_type: &schema::StepType, place: &str) {
        // Suggest among the common fields and this type's own.
        let mut names: Vec<&'static Field> = schema::COMMON_STEP_FIELDS.iter().collect();
        names.extend(step_type.fields.iter());
        let fields: Vec<Field> = names
            .iter()
            .map(|f| Field { name: f.name, doc: f.doc, shape: Shape::Any, need: f.need, support: f.support })
            .collect();
        self.unknown_key(entry, &fields, &format!("{place} ({})", step_type.name));
    }

    fn unknown_step_type(&mut self, type_node: &YamlNode, type_name: &str, severity: Severity) {
        let documented = schema::DOCUMENTED_NOT_RUN_STEP_TYPES.iter().find(|(t, _)| *t == type_name);
        let suggestion = schema::STEP_TYPES
            .iter()
            .map(|t| (strsim::damerau_levenshtein(type_name, t.name), t.name))
            .filter(|(distance, _)| *distance <= 3)
            .min();
        let valid: Vec<&str> = schema::STEP_TYPES.iter().map(|t| t.name).collect();
        let message = match (documented, suggestion) {
            (Some((_, why)), _) => format!("pipeline_ex does not run steps of type `{type_name}` ({why})"),
            (None, Some((_, name))) => format!("unknown step type `{type_name}`; did you mean `{name}`?"),
            (None, None) => format!("unknown step type `{type_name}`; valid types: {}", valid.join(", ")),
        };
        match suggestion.filter(|_| documented.is_none()) {
            Some((_, name)) => self.report_with_fix(
                codes::UNKNOWN_STEP_TYPE,
                severity,
                type_node.range.clone(),
                message,
                Fix { title: format!("Change to `{name}`"), applicability: Applicability::Safe, edits: vec![Edit::replace(type_node.range.clone(), name)] },
            ),
            None => self.report(codes::UNKNOWN_STEP_TYPE, severity, type_node.range.clone(), message),
        }
    }

    /// `prompt`: a list of items, each with a valid `type` and its key.
    fn prompt(&mut self, prompt: &YamlNode, checked: bool) {
        let severity = if checked { Severity::Error } else { Severity::Warning };
        let YamlValue::Seq(items) = &prompt.value else {
            if prompt.is_null() {
                return;
            }
            let message = format!("`prompt` must be a list of items such as `- type: static`, not {}", prompt.describe());
            let fix = self.wrap_prompt_fix(prompt);
            match fix {
                Some(fix) => self.report_with_fix(codes::STRING_PROMPT, severity, prompt.range.clone(), message, fix),
                None => self.report(codes::STRING_PROMPT, severity, prompt.range.clone(), message),
            }
            return;
        };
        for item in items {
            if !matches!(item.value, YamlValue::Map(_)) {
                let message = format!("a prompt item must be a mapping with a `type`, not {}", item.describe());
                self.report(codes::WRONG_TYPE, severity, item.range.clone(), message);
                continue;
            }
            let Some(type_node) = item.get("type").filter(|t| !t.is_null()) else {
                let message = "this prompt item has no `type` (static, file, previous_response...)".to_string();
                self.report(codes::MISSING_KEY, severity, self.first_line(item), message);
                continue;
            };
            let type_name = type_node.as_str().unwrap_or_default();
            let Some(item_type) = schema::prompt_item_type(type_name) else {
                let valid: Vec<&str> = schema::PROMPT_ITEMS.iter().map(|t| t.name).collect();
                let message = format!("unknown prompt item type `{type_name}`; valid types: {}", valid.join(", "));
                self.report(codes::UNKNOWN_STEP_TYPE, severity, type_node.range.clone(), message);
                continue;
            };
            let mut fields: Vec<Field> = vec![Field { name: "type", doc: "", shape: Shape::Any, need: Need::Optional, support: Support::Runs }];
            fields.extend(item_type.fields.iter().map(|f| Field { name: f.name, doc: f.doc, shape: Shape::Any, need: f.need, support: f.support }));
            for entry in item.entries() {
                match item_type.fields.iter().find(|f| f.name == entry.key) {
                    Some(field) => self.value(&entry.value, &field.shape, field.name),
                    None if entry.key == "type" => {}
                    None => self.unknown_key(entry, &fields, &format!("{type_name} prompt item")),
                }
            }
            for field in item_type.fields.iter().filter(|f| f.need == Need::Required) {
                if item.get(field.name).is_none_or(YamlNode::is_null) {
                    let message = format!("this `{type_name}` prompt item is missing `{}`", field.name);
                    self.report(codes::MISSING_KEY, severity, self.first_line(item), message);
                }
            }
            if type_name == "previous_response" {
                if let Some(target) = item.get("step") {
                    if let Some(referenced) = target.as_str() {
                        self.step_reference(referenced, target.range.clone(), item, checked);
                    }
                }
            }
            if type_name == "file" {
                if let Some(path) = item.get("path") {
                    self.prompt_file(path);
                }
            }
        }
    }

    /// Turn `prompt: "text"` into `prompt:\n  - type: static\n    content: "text"`.
    fn wrap_prompt_fix(&self, prompt: &YamlNode) -> Option<Fix> {
        let YamlValue::Scalar(_) = prompt.value else { return None };
        let line_start = self.source[..prompt.range.start].rfind('\n').map_or(0, |i| i + 1);
        let key_line = &self.source[line_start..prompt.range.start];
        let indent: String = key_line.chars().take_while(|c| *c == ' ').collect();
        let indent = if key_line.trim_start().starts_with("- ") { format!("{indent}  ") } else { indent };
        let original = &self.source[prompt.range.clone()];
        let moved = original.replace('\n', "\n    ");
        let text = format!("\n{indent}  - type: static\n{indent}    content: {moved}");
        // Replace from just after `prompt:` so no trailing space is left behind.
        let colon = self.source[..prompt.range.start].rfind(':')?;
        Some(Fix {
            title: "Wrap the text in a `static` prompt item".into(),
            applicability: Applicability::Safe,
            edits: vec![Edit::replace(colon + 1..prompt.range.end, text)],
        })
    }

    fn prompt_file(&mut self, path: &YamlNode) {
        let (Some(workspace), Some(relative)) = (self.context.workspace, path.as_str()) else { return };
        if relative.contains("{{") {
            return; // decided at run time
        }
        use crate::workspace::{resolve_inside, Reason};
        match resolve_inside(workspace, Path::new(relative)) {
            Err(refused) => {
                let why = match refused.reason {
                    Reason::Outside => "is outside the workspace".to_string(),
                    Reason::Unresolvable(error) => format!("cannot be resolved ({error})"),
                };
                let message = format!("`{relative}` {why}; Elexirion will not read it");
                self.report(codes::MISSING_FILE, Severity::Warning, path.range.clone(), message);
            }
            Ok(real) if !real.exists() => {
                let message = format!("`{relative}` does not exist in the workspace");
                self.report(codes::MISSING_FILE, Severity::Warning, path.range.clone(), message);
            }
            Ok(_) => {}
        }
    }

    fn streaming_options(&mut self, options: &YamlNode, place: &str) {
        if let Some(value) = options.get("async_streaming").filter(|v| !v.is_null() && v.describe() != "a boolean") {
            let message = format!("{place}: `claude_options.async_streaming` must be a boolean (pipeline_ex rejects anything else)");
            self.report(codes::WRONG_TYPE, Severity::Error, value.range.clone(), message);
        }
        let streaming = options.get("async_streaming").and_then(YamlNode::as_str) == Some("true");
        if !streaming {
            return;
        }
        if let Some(handler) = options.get("stream_handler").filter(|v| !v.is_null()) {
            let valid = ["console", "simple", "debug", "file", "callback", "buffer"];
            if !handler.as_str().is_some_and(|h| valid.contains(&h)) {
                let message = format!("{place}: `stream_handler` must be one of {} (pipeline_ex rejects others)", valid.join(", "));
                self.report(codes::WRONG_TYPE, Severity::Error, handler.range.clone(), message);
            }
        }
        if let Some(size) = options.get("stream_buffer_size").filter(|v| !v.is_null()) {
            let positive = size.describe() == "an integer" && size.as_str().and_then(|s| s.parse::<i64>().ok()).is_some_and(|n| n > 0);
            if !positive {
                let message = format!("{place}: `stream_buffer_size` must be a positive integer (pipeline_ex rejects others)");
                self.report(codes::WRONG_TYPE, Severity::Error, size.range.clone(), message);
            }
        }
    }

    fn function_names(&mut self, workflow: &YamlNode) -> Option<Vec<String>> {
        let functions = workflow.get("gemini_functions").filter(|f| !f.is_null())?;
        if !matches!(functions.value, YamlValue::Map(_)) {
            let message = "`gemini_functions` must be a mapping of function definitions (pipeline_ex rejects anything else)".to_string();
            self.report(codes::WRONG_TYPE, Severity::Error, functions.range.clone(), message);
            return Some(Vec::new());
        }
        for entry in functions.entries() {
            for key in ["description", "parameters"] {
                if entry.value.get(key).is_none_or(YamlNode::is_null) {
                    let message = format!("function `{}` is missing `{key}` (pipeline_ex rejects it)", entry.key);
                    self.report(codes::MISSING_KEY, Severity::Error, entry.key_range.clone(), message);
                }
            }
        }
        Some(functions.entries().iter().map(|e| e.key.clone()).collect())
    }

    fn function_references(&mut self, list: &YamlNode, functions: &Option<Vec<String>>, place: &str) {
        let YamlValue::Seq(items) = &list.value else {
            let message = format!("{place}: `functions` must be a list of function names (pipeline_ex rejects anything else)");
            self.report(codes::WRONG_TYPE, Severity::Error, list.range.clone(), message);
            return;
        };
        let known = functions.clone().unwrap_or_default();
        for item in items {
            let name = item.as_str().unwrap_or_default();
            if !known.iter().any(|k| k == name) {
                let message = format!("{place} uses function `{name}`, which `gemini_functions` does not define");
                self.report(codes::FUNCTION, Severity::Error, item.range.clone(), message);
            }
        }
    }

    fn step_names(&self) -> Vec<String> {
        self.steps.iter().map(|s| s.name.clone()).collect()
    }

    /// A reference from inside `from` (a step or prompt item) to step `name`.
    fn step_reference(&mut self, name: &str, range: Range<usize>, from: &YamlNode, checked: bool) {
        let referencing = self
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.range.start <= from.range.start && from.range.end <= s.range.end)
            .max_by_key(|(_, s)| s.range.start)
            .map(|(order, _)| order);
        match self.steps.iter().position(|s| s.name == name) {
            None => {
                let valid: Vec<&str> = referencing
                    .map(|order| self.steps[..order].iter().map(|s| s.name.as_str()).collect())
                    .unwrap_or_default();
                let severity = if checked { Severity::Error } else { Severity::Warning };
                let message = if valid.is_empty() {
                    format!("no step is named `{name}`")
                } else {
                    format!("no step is named `{name}`; earlier steps: {}", valid.join(", "))
                };
                self.report(codes::STEP_REFERENCE, severity, range, message);
            }
            Some(target) => {
                if referencing.is_some_and(|order| target >= order) {
                    let message = format!("step `{name}` runs at or after this one, so its result is not available here");
                    self.report(codes::LATER_STEP, Severity::Warning, range, message);
                }
            }
        }
    }

    /// `{{steps.NAME...}}` and `{{previous_response:NAME}}` in any string.
    fn template_step_references(&mut self, workflow: &YamlNode) {
        let mut references = Vec::new();
        templates::step_references(workflow, self.source, &mut |name, range| references.push((name, range)));
        for (name, range) in references {
            let from = YamlNode { range: range.clone(), value: YamlValue::Null };
            self.step_reference(&name, range, &from, false);
        }
        self.duplicates();
    }

    fn duplicates(&mut self) {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut reports = Vec::new();
        for step in &self.steps {
            let count = seen.entry(step.name.clone()).or_default();
            *count += 1;
            if *count == 2 {
                reports.push((step.name.clone(), step.range.clone()));
            }
        }
        for (name, range) in reports {
            let line_end = self.source[range.clone()].find('\n').map_or(range.end, |i| range.start + i);
            let message = format!("two steps are named `{name}`; references to it are ambiguous");
            self.report(codes::DUPLICATE_STEP, Severity::Warning, range.start..line_end, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::apply_edits;

    fn fixed(source: &str, code: &str) -> String {
        let findings = validate(source, &ValidationContext::default());
        let fix = findings.iter().find(|f| f.code == code).and_then(|f| f.fix.clone()).expect("a fix");
        apply_edits(source, &fix.edits)
    }

    #[test]
    fn a_missing_root_is_added_or_renamed() {
        let bare = "name: x\nsteps:\n  - name: a\n    type: claude\n    prompt:\n      - type: static\n        content: hi\n";
        let wrapped = fixed(bare, "EXP002");
        assert!(wrapped.starts_with("workflow:\n  name: x\n  steps:\n"), "{wrapped}");
        assert!(validate(&wrapped, &ValidationContext::default()).is_empty(), "{wrapped}");
        let renamed = fixed(&wrapped.replacen("workflow:", "pipeline:", 1), "EXP002");
        assert_eq!(renamed, wrapped);
    }

    #[test]
    fn unknown_step_types_get_the_nearest_one() {
        let source = "workflow:\n  name: x\n  steps:\n    - name: a\n      type: cluade\n      prompt: []\n";
        assert!(fixed(source, "EXP007").contains("type: claude\n"));
    }
}
