//! Hover in pipeline files: the docs of the key or value under the cursor,
//! and what a step reference points to. Markdown.

use super::complete::shape_name;
use super::schema::{self, Field, Need, Shape, Support};
use super::yaml::{YamlNode, YamlValue};
use super::{outline, templates, yaml};

/// What the walker expects at a node.
#[derive(Clone, Copy)]
enum Expect {
    Fields(&'static [Field]),
    Step,
    PromptItem,
    Shape(&'static Shape),
}

pub fn hover(source: &str, offset: usize) -> Option<String> {
    let document = yaml::parse(source);
    let root = document.root.as_ref()?;
    if let Some(workflow) = outline::workflow(root) {
        if let Some(text) = step_reference_hover(workflow, source, offset) {
            return Some(text);
        }
        if let Some(template) = templates::templates(workflow, source).into_iter().find(|t| t.range.start <= offset && offset <= t.range.end) {
            return Some(template_hover(&template.expression));
        }
    }
    walk(root, Expect::Fields(schema::ROOT), offset)
}

fn walk(node: &YamlNode, expect: Expect, offset: usize) -> Option<String> {
    match (&node.value, expect) {
        (YamlValue::Map(entries), _) => {
            let fields = fields_for(node, expect);
            for entry in entries {
                let field = fields.iter().find(|f| f.name == entry.key).copied();
                if entry.key_range.start <= offset && offset <= entry.key_range.end {
                    return Some(match field {
                        Some(field) => field_doc(field),
                        None => format!("`{}`: not a key pipeline_ex knows here.", entry.key),
                    });
                }
                if entry.value.range.start <= offset && offset <= entry.value.range.end {
                    if let (Some(value), Expect::Step | Expect::PromptItem, "type") = (entry.value.as_str(), expect, entry.key.as_str()) {
                        return type_doc(expect, value);
                    }
                    let field = field?;
                    if let (Shape::Enum(choices), Some(value)) = (&field.shape, entry.value.as_str()) {
                        let choice = choices.iter().find(|c| c.value == value)?;
                        return Some(format!("`{}`: {}", choice.value, if choice.doc.is_empty() { field.doc } else { choice.doc }));
                    }
                    return walk(&entry.value, child_expect(field), offset).or_else(|| Some(field_doc(field)));
                }
            }
            None
        }
        (YamlValue::Seq(items), Expect::Shape(shape)) => {
            let item_expect = match shape {
                Shape::Steps => Expect::Step,
                Shape::Prompt => Expect::PromptItem,
                Shape::List(item) => match item {
                    Shape::Object(fields) => Expect::Fields(fields),
                    other => Expect::Shape(other),
                },
                _ => return None,
            };
            items.iter().find(|i| i.range.start <= offset && offset <= i.range.end).and_then(|i| walk(i, item_expect, offset))
        }
        _ => None,
    }
}

fn child_expect(field: &'static Field) -> Expect {
    match &field.shape {
        Shape::Object(fields) => Expect::Fields(fields),
        other => Expect::Shape(other),
    }
}

/// The fields a mapping may have, by what is expected and its `type`.
fn fields_for(node: &YamlNode, expect: Expect) -> Vec<&'static Field> {
    match expect {
        Expect::Fields(fields) => fields.iter().collect(),
        Expect::Step => {
            let own = node.get("type").and_then(YamlNode::as_str).and_then(schema::step_type).map(|t| t.fields).unwrap_or(&[]);
            schema::COMMON_STEP_FIELDS.iter().chain(own).collect()
        }
        Expect::PromptItem => {
            let item = node.get("type").and_then(YamlNode::as_str).and_then(schema::prompt_item_type);
            item.map(|i| i.fields.iter().collect()).unwrap_or_default()
        }
        Expect::Shape(Shape::MapOf(Shape::Object(fields))) => fields.iter().collect(),
        Expect::Shape(_) => Vec::new(),
    }
}

fn field_doc(field: &Field) -> String {
    let need = match field.need {
        Need::Required => ", required",
        Need::Needed => ", needed to run",
        Need::Optional => "",
    };
    let support = if field.support == Support::NotRun { "\n\n*Documented by pipeline_ex, but not used when a pipeline runs.*" } else { "" };
    let choices = match &field.shape {
        Shape::Enum(choices) => {
            let list: Vec<String> = choices.iter().map(|c| format!("`{}`", c.value)).collect();
            format!("\n\nOne of: {}", list.join(", "))
        }
        _ => String::new(),
    };
    format!("**`{}`** ({}{need})\n\n{}{choices}{support}", field.name, shape_name(&field.shape), field.doc)
}

fn type_doc(expect: Expect, value: &str) -> Option<String> {
    match expect {
        Expect::Step => schema::step_type(value).map(|t| {
            let prompt = if t.prompt == schema::PromptRule::Required { "\n\nNeeds a `prompt`." } else { "" };
            format!("**`{}`** step\n\n{}{prompt}", t.name, t.doc)
        }),
        _ => schema::prompt_item_type(value).map(|t| format!("**`{}`** prompt item\n\n{}", t.name, t.doc)),
    }
}

fn template_hover(expression: &str) -> String {
    let path = templates::leading_path(expression);
    let first = path.split('.').next().unwrap_or_default();
    let name = path.split('.').nth(1).unwrap_or_default();
    if let Some(variable) = schema::fixed_variable(first, name) {
        return format!("**`{{{{{first}.{}}}}}`**\n\n{}", variable.value, variable.doc);
    }
    match schema::TEMPLATE_NAMESPACES.iter().find(|n| n.value == first) {
        Some(namespace) => format!("**`{{{{{path}}}}}`**\n\n{}", namespace.doc),
        None => format!("**`{{{{{path}}}}}`**\n\nA variable set while the pipeline runs."),
    }
}

/// On a reference to a step (or its name): what that step is.
fn step_reference_hover(workflow: &YamlNode, source: &str, offset: usize) -> Option<String> {
    let inside = |r: &std::ops::Range<usize>| r.start <= offset && offset <= r.end;
    let reference = outline::references(workflow, source).into_iter().find(|r| inside(&r.range))?;
    let steps = outline::all_steps(workflow, source);
    let Some(step) = steps.iter().find(|s| s.name == reference.name) else {
        return Some(format!("No step is named `{}`.", reference.name));
    };
    let kind = step.step_type.as_deref().unwrap_or("?");
    let line = source[..step.range.start].matches('\n').count() + 1;
    Some(format!("**Step `{}`** (`{kind}`), line {line}\n\nIts result: `{{{{steps.{}.result}}}}`", step.name, step.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hover_at(fixture: &str) -> String {
        let offset = fixture.find("$0").expect("a $0 cursor");
        hover(&fixture.replace("$0", ""), offset).unwrap_or_default()
    }

    #[test]
    fn keys_values_and_references_have_docs() {
        let base = "workflow:\n  name: w\n  steps:\n    - name: scan\n      type: claude_smart\n      preset: analysis\n      prompt:\n        - type: static\n          content: \"{{inputs.code}}\"\n    - name: fix\n      type: claude\n      prompt:\n        - type: previous_response\n          step: scan\n";
        let with_cursor = |needle: &str, shift: usize| {
            let at = base.find(needle).unwrap() + shift;
            format!("{}$0{}", &base[..at], &base[at..])
        };
        assert!(hover_at(&with_cursor("preset", 2)).starts_with("**`preset`**"));
        assert!(hover_at(&with_cursor("analysis", 2)).contains("Read-only tools"));
        assert!(hover_at(&with_cursor("claude_smart", 3)).contains("configured by a preset"));
        assert!(hover_at(&with_cursor("previous_response", 3)).contains("result of an earlier step"));
        assert!(hover_at(&with_cursor("step: scan", 7)).contains("**Step `scan`** (`claude_smart`), line 4"));
        assert!(hover_at(&with_cursor("inputs.code", 2)).contains("workflow's inputs"));
        assert!(hover_at(&with_cursor("content", 2)).contains("**`content`** (string, required)"));
    }
}
