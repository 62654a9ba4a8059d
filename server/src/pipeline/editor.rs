//! A pipeline's `editor` block and the editor context that fills its
//! inputs: what both the command line (`pipeline run --file`) and the
//! language server use to run a pipeline on a document.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::run::values::Scope;
use super::yaml::{self, YamlNode};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Analysis,
    Refactor,
    Explanation,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WritesTo {
    File,
    TestFile,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EditorBlock {
    pub name: String,
    pub title: String,
    pub kind: Kind,
    pub scope: String,
    pub languages: Vec<String>,
    pub writes_to: WritesTo,
    /// Input name -> template (e.g. `code` -> `{{editor.selection_or_file}}`).
    pub inputs: Vec<(String, String)>,
    /// A refactor may remove public API (else such an edit is refused).
    pub may_change_api: bool,
}

/// The `editor` block of a pipeline, if it has one.
pub fn editor_block(source: &str) -> Option<EditorBlock> {
    let root = yaml::parse(source).root?;
    let workflow = root.get("workflow")?;
    let editor = workflow.get("editor")?;
    let text = |node: &YamlNode, key: &str| node.get(key).and_then(YamlNode::as_str).map(str::to_string);
    Some(EditorBlock {
        name: text(workflow, "name").unwrap_or_default(),
        title: text(editor, "title")?,
        kind: match text(editor, "kind").as_deref() {
            Some("refactor") => Kind::Refactor,
            Some("explanation") => Kind::Explanation,
            _ => Kind::Analysis,
        },
        scope: text(editor, "scope").unwrap_or_else(|| "file".into()),
        languages: editor.get("languages").map(|l| l.items().iter().filter_map(|i| i.as_str().map(str::to_string)).collect()).unwrap_or_default(),
        writes_to: if text(editor, "writes_to").as_deref() == Some("test_file") { WritesTo::TestFile } else { WritesTo::File },
        inputs: editor.get("inputs").map(|i| i.entries().iter().filter_map(|e| Some((e.key.clone(), e.value.as_str()?.to_string()))).collect()).unwrap_or_default(),
        may_change_api: text(editor, "may_change_api").as_deref() == Some("true"),
    })
}

/// What the editor knows when a pipeline runs.
#[derive(Clone, Debug, Default)]
pub struct EditorContext {
    pub file: String,
    pub selection: Option<String>,
    pub language: String,
    /// Relative to the workspace.
    pub path: String,
    /// Current diagnostics, one per line ("line 12: EXR005 ...").
    pub diagnostics: String,
    /// The file's ExUnit test file, whole; empty when there is none.
    pub test_file: String,
    /// `project.*` variables from the workspace index, by name.
    pub project: serde_json::Map<String, Value>,
}

impl EditorContext {
    fn value(&self) -> Value {
        let selection = self.selection.clone().unwrap_or_default();
        let selection_or_file = self.selection.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| self.file.clone());
        json!({
            "file": self.file,
            "selection": selection,
            "selection_or_file": selection_or_file,
            "language": self.language,
            "path": self.path,
            "diagnostics": if self.diagnostics.is_empty() { "none".to_string() } else { self.diagnostics.clone() },
            "test_file": self.test_file,
        })
    }

    /// `{{project.*}}`: every documented variable, "none known" when the
    /// index had nothing to say (or there is no index).
    fn project_value(&self) -> Value {
        let variables = super::schema::PROJECT_VARIABLES.iter().map(|v| {
            let text = self.project.get(v.value).and_then(Value::as_str).filter(|t| !t.trim().is_empty()).unwrap_or("none known");
            (v.value.to_string(), Value::String(text.to_string()))
        });
        Value::Object(variables.collect())
    }
}

/// The workflow inputs the editor block asks for, filled from the context
/// (the context itself is available too, as `{{editor.*}}`).
pub fn inputs(block: &EditorBlock, context: &EditorContext) -> Result<HashMap<String, Value>, String> {
    let mut scope = Scope::default();
    scope.inputs.insert("editor".into(), context.value());
    scope.inputs.insert("project".into(), context.project_value());
    let mut inputs = HashMap::from([("editor".to_string(), context.value()), ("project".to_string(), context.project_value())]);
    for (name, template) in &block.inputs {
        inputs.insert(name.clone(), Value::String(scope.render(template)?));
    }
    Ok(inputs)
}

/// Findings as `{{editor.diagnostics}}` shows them: one per line,
/// `line 12: EXR005 genserver-call-infinity message`.
pub fn diagnostics_text(source: &str, findings: &[crate::finding::Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("line {}: {} {} {}", source[..f.range.start].matches('\n').count() + 1, f.code, f.name, f.message))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where mix expects the tests of `path`: `lib/a/b.ex` -> `test/a/b_test.exs`.
pub fn test_path(path: &str) -> String {
    let stem = path.strip_suffix(".exs").or_else(|| path.strip_suffix(".ex")).unwrap_or(path);
    let inner = stem.strip_prefix("lib/").unwrap_or(stem);
    format!("test/{inner}_test.exs")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_pipelines_have_editor_blocks_and_inputs_fill_from_the_editor() {
        let source = include_str!("../../../pipelines/fix_otp_antipatterns.yaml");
        let block = editor_block(source).unwrap();
        assert_eq!((block.title.as_str(), block.kind, block.writes_to), ("Fix OTP anti-patterns (AI)", Kind::Refactor, WritesTo::File));
        let context = EditorContext { file: "FILE".into(), selection: Some("SEL".into()), language: "elixir".into(), path: "lib/w.ex".into(), ..Default::default() };
        let inputs = inputs(&block, &context).unwrap();
        assert_eq!(inputs["code"], "SEL");
        assert_eq!(inputs["known"], "none");
        assert_eq!(test_path("lib/app/worker.ex"), "test/app/worker_test.exs");
    }
}
