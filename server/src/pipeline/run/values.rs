//! Values while a pipeline runs: step outputs, template resolution,
//! `extract` paths, and `condition` expressions.

use std::collections::HashMap;

use serde_json::Value;

use crate::pipeline::providers::Stop;
use crate::pipeline::templates::{leading_path, substitute};

/// What a step produced: the model's text and, when the text holds JSON
/// (bare or in a fenced block), that JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct StepOutput {
    pub text: String,
    pub json: Option<Value>,
    /// Why the model stopped, for model steps. Never `OutputLimit`: a cut
    /// answer fails its step. `Other` (e.g. Gemini's `SAFETY`) may be partial.
    pub stop: Stop,
}

impl StepOutput {
    pub fn from_text(text: String) -> Self {
        let json = find_json(&text);
        StepOutput { text, json, stop: Stop::Complete }
    }

    pub fn from_json(json: Value) -> Self {
        let text = match &json {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        StepOutput { text, json: Some(json), stop: Stop::Complete }
    }

    /// The result as a value: its JSON when it has some, else its text.
    pub fn value(&self) -> Value {
        self.json.clone().unwrap_or_else(|| Value::String(self.text.clone()))
    }
}

/// JSON in a model's answer: the whole text, a fenced block, or the
/// outermost `{...}`/`[...]` in prose.
pub fn find_json(text: &str) -> Option<Value> {
    let trimmed = text.trim();
    if let Ok(value) = serde_json::from_str::<Value>(trimmed) {
        return value.is_object().then_some(value.clone()).or_else(|| value.is_array().then_some(value));
    }
    if let Some(block) = fenced_block(text, &["json", ""]) {
        if let Ok(value) = serde_json::from_str(block.trim()) {
            return Some(value);
        }
    }
    for (open, close) in [('{', '}'), ('[', ']')] {
        if let (Some(start), Some(end)) = (text.find(open), text.rfind(close)) {
            if start < end {
                if let Ok(value) = serde_json::from_str(&text[start..=end]) {
                    return Some(value);
                }
            }
        }
    }
    None
}

/// The content of the first fenced block whose language is one of `languages`
/// (`""` matches a block without a language).
pub fn fenced_block<'a>(text: &'a str, languages: &[&str]) -> Option<&'a str> {
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let newline = after.find('\n')?;
        let language = after[..newline].trim();
        let body = &after[newline + 1..];
        let close = body.find("```")?;
        if languages.iter().any(|l| l.eq_ignore_ascii_case(language) || (l.is_empty() && language.is_empty())) {
            return Some(&body[..close]);
        }
        rest = &body[close + 3..];
    }
    None
}

/// `a.b.0.c` inside a JSON value.
pub fn extract<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').filter(|s| !s.is_empty()).try_fold(value, |current, segment| match current {
        Value::Object(map) => map.get(segment),
        Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

pub fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// Everything templates can read.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub inputs: HashMap<String, Value>,
    pub steps: HashMap<String, StepOutput>,
    pub state: HashMap<String, Value>,
    pub global_vars: HashMap<String, Value>,
    pub loop_vars: HashMap<String, Value>,
    pub workflow_name: String,
}

impl Scope {
    /// The value of a variable path (`steps.x.result.y`, `inputs.code`, a bare name...).
    pub fn lookup(&self, path: &str) -> Option<Value> {
        let mut segments = path.splitn(2, '.');
        let head = segments.next()?;
        let rest = segments.next().unwrap_or("");
        let from_map = |map: &HashMap<String, Value>, rest: &str| {
            let mut parts = rest.splitn(2, '.');
            let name = parts.next()?;
            let value = map.get(name)?;
            match parts.next() {
                Some(inner) => extract(value, inner).cloned(),
                None => Some(value.clone()),
            }
        };
        match head {
            "steps" => {
                let mut parts = rest.splitn(2, '.');
                let output = self.steps.get(parts.next()?)?;
                match parts.next().unwrap_or("result") {
                    "result" | "output" | "text" => Some(Value::String(output.text.clone())),
                    inner => {
                        let inner = inner.strip_prefix("result.").unwrap_or(inner);
                        output.json.as_ref().and_then(|j| extract(j, inner)).cloned()
                    }
                }
            }
            "inputs" => from_map(&self.inputs, rest),
            "editor" | "project" => self.inputs.get(head).and_then(|e| extract(e, rest)).cloned(),
            "state" => from_map(&self.state, rest),
            "global_vars" => from_map(&self.global_vars, rest),
            "loop" => from_map(&self.loop_vars, rest),
            "workflow" if rest == "name" => Some(Value::String(self.workflow_name.clone())),
            _ if head.starts_with("previous_response:") => {
                let output = self.steps.get(head.trim_start_matches("previous_response:"))?;
                Some(output.value())
            }
            _ => {
                // A bare name: a state variable, an input, or a step.
                let whole = if rest.is_empty() { head.to_string() } else { format!("{head}.{rest}") };
                from_map(&self.state, &whole).or_else(|| from_map(&self.inputs, &whole)).or_else(|| {
                    let output = self.steps.get(head)?;
                    if rest.is_empty() { Some(output.value()) } else { output.json.as_ref().and_then(|j| extract(j, rest)).cloned() }
                })
            }
        }
    }

    /// Fill every `{{...}}` in `text`; an unknown variable is an error naming it.
    pub fn render(&self, text: &str) -> Result<String, String> {
        substitute(text, |expression| self.evaluate(expression).map(|value| display(&value)))
    }

    /// A template expression: a variable path, possibly compared or added.
    pub fn evaluate(&self, expression: &str) -> Result<Value, String> {
        let expression = expression.trim();
        if let Some(inner) = expression.strip_prefix("not ").or_else(|| expression.strip_prefix('!')) {
            return Ok(Value::Bool(!truthy(&self.evaluate(inner)?)));
        }
        for (operator, _) in [(" and ", 0), (" or ", 0)] {
            if let Some((left, right)) = expression.split_once(operator) {
                let (left, right) = (truthy(&self.evaluate(left)?), truthy(&self.evaluate(right)?));
                return Ok(Value::Bool(if operator == " and " { left && right } else { left || right }));
            }
        }
        for operator in ["==", "!=", ">=", "<=", ">", "<", "+", "-"] {
            if let Some((left, right)) = expression.split_once(operator) {
                let (left, right) = (self.evaluate(left)?, self.evaluate(right)?);
                return Ok(compare(operator, &left, &right));
            }
        }
        if let Ok(number) = expression.parse::<f64>() {
            return Ok(number_value(number));
        }
        if let Some(quoted) = expression.strip_prefix('"').and_then(|e| e.strip_suffix('"')).or_else(|| expression.strip_prefix('\'').and_then(|e| e.strip_suffix('\''))) {
            return Ok(Value::String(quoted.to_string()));
        }
        match expression {
            "true" => return Ok(Value::Bool(true)),
            "false" => return Ok(Value::Bool(false)),
            "nil" | "null" => return Ok(Value::Null),
            _ => {}
        }
        let path = leading_path(expression);
        self.lookup(path).ok_or_else(|| format!("`{{{{{path}}}}}` names nothing known at this point"))
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// Whole numbers stay whole (`3`, not `3.0`).
fn number_value(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 1e15 { serde_json::json!(x as i64) } else { serde_json::json!(x) }
}

fn compare(operator: &str, left: &Value, right: &Value) -> Value {
    if let (Some(a), Some(b)) = (number(left), number(right)) {
        return match operator {
            "+" => number_value(a + b),
            "-" => number_value(a - b),
            "==" => Value::Bool(a == b),
            "!=" => Value::Bool(a != b),
            ">=" => Value::Bool(a >= b),
            "<=" => Value::Bool(a <= b),
            ">" => Value::Bool(a > b),
            _ => Value::Bool(a < b),
        };
    }
    let (a, b) = (display(left), display(right));
    match operator {
        "==" => Value::Bool(a == b),
        "!=" => Value::Bool(a != b),
        "+" => Value::String(a + &b),
        _ => Value::Bool(false),
    }
}

pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => !s.is_empty() && s != "false",
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_is_found_bare_fenced_or_in_prose() {
        assert_eq!(find_json("{\"a\": 1}"), Some(json!({"a": 1})));
        assert_eq!(find_json("Here:\n```json\n{\"a\": [1]}\n```\nDone."), Some(json!({"a": [1]})));
        assert_eq!(find_json("The answer is {\"ok\": true} as asked."), Some(json!({"ok": true})));
        assert_eq!(find_json("no json here"), None);
    }

    #[test]
    fn templates_render_and_unknown_names_are_errors() {
        let mut scope = Scope::default();
        scope.inputs.insert("code".into(), json!("defmodule A do end"));
        scope.steps.insert("scan".into(), StepOutput::from_text("```json\n{\"issues\": [{\"rule\": \"x\"}]}\n```".into()));
        scope.state.insert("i".into(), json!(2));
        assert_eq!(scope.render("Code: {{inputs.code}}").unwrap(), "Code: defmodule A do end");
        assert_eq!(scope.render("{{steps.scan.result.issues.0.rule}}").unwrap(), "x");
        assert_eq!(scope.render("{{ state.i + 1 }}").unwrap(), "3");
        assert!(truthy(&scope.evaluate("state.i < 3").unwrap()));
        assert!(!truthy(&scope.evaluate("state.i >= 3").unwrap()));
        assert_eq!(scope.render("{{inputs.missing}}").unwrap_err(), "`{{inputs.missing}}` names nothing known at this point");
    }
}
