//! `{{...}}` templates inside pipeline strings: namespaces, editor
//! variables and step references, found in the source text so that every
//! range is exact.

use std::ops::Range;

use super::schema::{fixed_variable, FIXED_NAMESPACES, TEMPLATE_NAMESPACES};
use super::yaml::{ScalarKind, YamlNode, YamlValue};

/// One template: its expression and where the expression is.
pub struct Template {
    pub expression: String,
    pub range: Range<usize>,
}

/// Each `{{...}}` in `text`: the range of the whole placeholder and its
/// expression, trimmed. An unclosed `{{` ends the search.
pub fn placeholders(text: &str) -> Vec<(Range<usize>, &str)> {
    let mut found = Vec::new();
    let mut offset = 0;
    while let Some(open) = text[offset..].find("{{") {
        let start = offset + open;
        let Some(close) = text[start + 2..].find("}}") else { break };
        let end = start + 2 + close + 2;
        found.push((start..end, text[start + 2..end - 2].trim()));
        offset = end;
    }
    found
}

/// `text` with every placeholder replaced by `replace(expression)`; the
/// rest (an unclosed `{{` included) is kept as it is.
pub fn substitute(text: &str, mut replace: impl FnMut(&str) -> Result<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (range, expression) in placeholders(text) {
        out.push_str(&text[last..range.start]);
        out.push_str(&replace(expression)?);
        last = range.end;
    }
    out.push_str(&text[last..]);
    Ok(out)
}

/// Every template inside the string values under `node`.
pub fn templates(node: &YamlNode, source: &str) -> Vec<Template> {
    let mut found = Vec::new();
    collect(node, source, &mut found);
    found
}

fn collect(node: &YamlNode, source: &str, out: &mut Vec<Template>) {
    match &node.value {
        YamlValue::Map(entries) => entries.iter().for_each(|e| collect(&e.value, source, out)),
        YamlValue::Seq(items) => items.iter().for_each(|i| collect(i, source, out)),
        YamlValue::Scalar(scalar) if scalar.kind == ScalarKind::String => {
            let text = &source[node.range.clone()];
            for (range, expression) in placeholders(text) {
                let raw = &text[range.start + 2..range.end - 2];
                let begin = node.range.start + range.start + 2 + (raw.len() - raw.trim_start().len());
                out.push(Template { expression: expression.to_string(), range: begin..begin + expression.len() });
            }
        }
        _ => {}
    }
}

/// The leading variable path of an expression: `state.x` in `state.x + 1`.
pub fn leading_path(expression: &str) -> &str {
    let end = expression
        .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')))
        .unwrap_or(expression.len());
    &expression[..end]
}

/// Report templates whose namespace or editor variable is unknown.
pub fn check(node: &YamlNode, source: &str, step_names: &[String], report: &mut dyn FnMut(Range<usize>, String)) {
    for template in templates(node, source) {
        let path = leading_path(&template.expression);
        if path.starts_with("previous_response:") {
            continue; // a step reference, checked with the others
        }
        let mut segments = path.split('.');
        let first = segments.next().unwrap_or_default();
        let Some(second) = segments.next() else { continue }; // a bare variable: set at run time
        let range = template.range.start..template.range.start + path.len();
        if let Some((_, variables)) = FIXED_NAMESPACES.iter().find(|(namespace, _)| *namespace == first) {
            if fixed_variable(first, second).is_none() {
                let known: Vec<String> = variables.iter().map(|v| format!("{first}.{}", v.value)).collect();
                report(range, format!("unknown {first} variable `{first}.{second}`; known: {}", known.join(", ")));
            }
            continue;
        }
        let known = TEMPLATE_NAMESPACES.iter().any(|n| n.value == first) || step_names.iter().any(|s| s == first);
        if !known {
            let namespaces: Vec<&str> = TEMPLATE_NAMESPACES.iter().map(|n| n.value).collect();
            report(range, format!("unknown template namespace `{first}` in `{{{{{path}}}}}`; known: {}", namespaces.join(", ")));
        }
    }
}

/// `{{steps.NAME...}}` and `{{previous_response:NAME}}`: each NAME and its range.
pub fn step_references(node: &YamlNode, source: &str, found: &mut dyn FnMut(String, Range<usize>)) {
    for template in templates(node, source) {
        let path = leading_path(&template.expression);
        let (prefix, rest) = if let Some(rest) = path.strip_prefix("steps.") {
            ("steps.", rest)
        } else if let Some(rest) = path.strip_prefix("previous_response:") {
            ("previous_response:", rest)
        } else {
            continue;
        };
        let name = rest.split('.').next().unwrap_or_default();
        if name.is_empty() {
            continue;
        }
        let start = template.range.start + prefix.len();
        found(name.to_string(), start..start + name.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::yaml;

    #[test]
    fn templates_are_found_with_exact_ranges() {
        let source = "a: \"x {{ steps.one.result }} and {{inputs.code}}\"\nb: |\n  {{editor.selection_or_file}}\n";
        let root = yaml::parse(source).root.unwrap();
        let found = templates(&root, source);
        let texts: Vec<&str> = found.iter().map(|t| &source[t.range.clone()]).collect();
        assert_eq!(texts, ["steps.one.result", "inputs.code", "editor.selection_or_file"]);
    }

    #[test]
    fn unknown_namespaces_and_editor_variables_are_reported() {
        let source = "a: \"{{stepz.one.result}} {{editor.selektion}} {{state.i + 1}} {{bare}} {{one.output}}\"\n";
        let root = yaml::parse(source).root.unwrap();
        let mut reports = Vec::new();
        check(&root, source, &["one".to_string()], &mut |range, message| reports.push((source[range].to_string(), message)));
        let spans: Vec<&str> = reports.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(spans, ["stepz.one.result", "editor.selektion"]);
    }
}
