//! Stored prompt versions rendered as DSPy's ChatAdapter renders a
//! signature: a system message describing the fields, their
//! `[[ ## name ## ]]` sections and the objective; each demo as a user and
//! an assistant message; the inputs as the last user message. A prompt
//! optimized by DSPy so sees what it saw there.

use serde_json::{Map, Value};

use crate::pipeline::providers::Turn;
use crate::store::{Field, NewVersion};

#[derive(Clone, Debug, PartialEq)]
pub struct Rendered {
    pub system: String,
    pub turns: Vec<Turn>,
    pub prompt: String,
}

impl Rendered {
    /// The whole conversation as one text, for showing to a person.
    pub fn transcript(&self) -> String {
        let mut text = format!("--- system ---\n{}\n", self.system);
        for turn in &self.turns {
            text.push_str(&format!("\n--- user ---\n{}\n\n--- assistant ---\n{}\n", turn.user, turn.assistant));
        }
        text.push_str(&format!("\n--- user ---\n{}\n", self.prompt));
        text
    }
}

/// Render `version` for `inputs`; every input field must have a value.
pub fn render(version: &NewVersion, inputs: &Map<String, Value>) -> Result<Rendered, String> {
    let (input_fields, output_fields) = split(&version.fields);
    if output_fields.is_empty() {
        return Err("the version has no output field".into());
    }
    let missing: Vec<&str> = input_fields.iter().filter(|f| !inputs.contains_key(&f.name)).map(|f| f.name.as_str()).collect();
    if !missing.is_empty() {
        return Err(format!("the step has no value for the version's input field(s) {}", missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")));
    }
    let system = format!("{}\n{}\n{}", describe(&input_fields, &output_fields), structure(&input_fields, &output_fields), objective(version, &input_fields, &output_fields));
    let turns = version.demos.iter().filter_map(|demo| demo_turn(demo, &input_fields, &output_fields)).collect();
    let prompt = format!("{}\n\n{}", sections(&input_fields, inputs), requirements(&output_fields));
    Ok(Rendered { system, turns, prompt })
}

/// The answer's last output field (its `[[ ## name ## ]]` section, up to
/// the next marker); the whole answer when the model ignored the markers.
pub fn parse(version: &NewVersion, answer: &str) -> String {
    let Some(field) = version.fields.iter().rev().find(|f| f.output) else { return answer.to_string() };
    let marker = format!("[[ ## {} ## ]]", field.name);
    match answer.rfind(&marker) {
        Some(start) => {
            let rest = &answer[start + marker.len()..];
            let end = rest.find("[[ ## ").unwrap_or(rest.len());
            rest[..end].trim().to_string()
        }
        None => answer.trim().to_string(),
    }
}

fn split(fields: &[Field]) -> (Vec<&Field>, Vec<&Field>) {
    fields.iter().partition(|f| !f.output)
}

fn describe(inputs: &[&Field], outputs: &[&Field]) -> String {
    let list = |fields: &[&Field]| {
        fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                // DSPy leaves out a description that is only its `${name}` placeholder.
                let description = Some(f.description.as_str()).filter(|d| !d.is_empty() && *d != format!("${{{}}}", f.name));
                match description {
                    Some(d) => format!("{}. `{}` (str): {d}", i + 1, f.name),
                    None => format!("{}. `{}` (str)", i + 1, f.name),
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!("Your input fields are:\n{}\nYour output fields are:\n{}", list(inputs), list(outputs))
}

fn structure(inputs: &[&Field], outputs: &[&Field]) -> String {
    let placeholder = |fields: &[&Field]| fields.iter().map(|f| format!("[[ ## {0} ## ]]\n{{{0}}}", f.name)).collect::<Vec<_>>().join("\n\n");
    format!(
        "All interactions will be structured in the following way, with the appropriate values filled in.\n\n{}\n\n{}\n\n[[ ## completed ## ]]",
        placeholder(inputs),
        placeholder(outputs)
    )
}

fn objective(version: &NewVersion, inputs: &[&Field], outputs: &[&Field]) -> String {
    let instructions = if version.instructions.trim().is_empty() {
        let names = |fields: &[&Field]| fields.iter().map(|f| format!("`{}`", f.name)).collect::<Vec<_>>().join(", ");
        format!("Given the fields {}, produce the fields {}.", names(inputs), names(outputs))
    } else {
        version.instructions.trim().to_string()
    };
    let indented: String = instructions.lines().map(|line| format!("\n        {line}")).collect();
    format!("In adhering to this structure, your objective is: {indented}")
}

fn sections(fields: &[&Field], values: &Map<String, Value>) -> String {
    fields
        .iter()
        .filter_map(|f| values.get(&f.name).map(|v| format!("[[ ## {} ## ]]\n{}", f.name, text(v))))
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn requirements(outputs: &[&Field]) -> String {
    let names: Vec<String> = outputs.iter().map(|f| format!("`[[ ## {} ## ]]`", f.name)).collect();
    format!("Respond with the corresponding output fields, starting with the field {}, and then ending with the marker for `[[ ## completed ## ]]`.", names.join(", then "))
}

/// A demo needs every input and at least one output; a partial demo (DSPy
/// keeps raw, unaugmented ones) is labelled as DSPy labels it.
fn demo_turn(demo: &Map<String, Value>, inputs: &[&Field], outputs: &[&Field]) -> Option<Turn> {
    let has_outputs = outputs.iter().any(|f| demo.contains_key(&f.name));
    if !has_outputs || !inputs.iter().any(|f| demo.contains_key(&f.name)) {
        return None;
    }
    let complete = inputs.iter().chain(outputs).all(|f| demo.contains_key(&f.name));
    let mut user = sections(inputs, demo);
    if !complete {
        user = format!("This is an example of the task, though some input or output fields are not supplied.\n\n{user}");
    }
    let assistant = format!("{}\n\n[[ ## completed ## ]]", sections(outputs, demo));
    Some(Turn { user, assistant })
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What a version sends, for a person to read: the pipeline's own prompt
/// as written, or the rendered conversation with `{field}` for each input.
pub fn preview(version: &NewVersion) -> String {
    if version.source == "manual" {
        return version.instructions.clone();
    }
    let inputs: Map<String, Value> = version.fields.iter().filter(|f| !f.output).map(|f| (f.name.clone(), Value::String(format!("{{{}}}", f.name)))).collect();
    match render(version, &inputs) {
        Ok(rendered) => rendered.transcript(),
        Err(problem) => format!("(cannot be rendered: {problem})"),
    }
}
