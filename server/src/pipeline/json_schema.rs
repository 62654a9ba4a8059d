//! The schema as JSON Schema (draft 2020-12), for yaml-language-server and
//! other editors: generated from [`super::schema`], never written by hand.

use serde_json::{json, Map, Value};

use super::schema::{self, Field, Need, Shape, Support};

pub fn json_schema() -> Value {
    let mut root = object(schema::ROOT);
    root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    root["title"] = json!("pipeline_ex pipeline (with Elexirion's editor block)");
    root["$defs"] = json!({
        "step": step(),
        "prompt": { "type": "array", "items": prompt_item() },
    });
    root
}

fn object(fields: &[Field]) -> Value {
    let mut properties = Map::new();
    for field in fields {
        let mut property = shape(&field.shape);
        let note = if field.support == Support::NotRun { " (documented by pipeline_ex, not run)" } else { "" };
        describe(&mut property, &format!("{}{note}", field.doc));
        properties.insert(field.name.to_string(), property);
    }
    let required: Vec<&str> = fields.iter().filter(|f| f.need == Need::Required).map(|f| f.name).collect();
    json!({ "type": "object", "properties": properties, "required": required })
}

fn shape(shape: &Shape) -> Value {
    match shape {
        Shape::String => json!({ "type": "string" }),
        Shape::Integer => json!({ "type": "integer" }),
        Shape::Number => json!({ "type": "number" }),
        Shape::Boolean => json!({ "type": "boolean" }),
        Shape::Any => json!({}),
        Shape::Enum(choices) => json!({ "enum": choices.iter().map(|c| c.value).collect::<Vec<_>>() }),
        Shape::List(item) => json!({ "type": "array", "items": self::shape(item) }),
        Shape::Object(fields) => object(fields),
        Shape::MapOf(value) => json!({ "type": "object", "additionalProperties": self::shape(value) }),
        Shape::Either(shapes) => json!({ "anyOf": shapes.iter().map(self::shape).collect::<Vec<_>>() }),
        Shape::Prompt => json!({ "$ref": "#/$defs/prompt" }),
        Shape::Steps => json!({ "type": "array", "items": { "$ref": "#/$defs/step" } }),
    }
}

/// `description` for plain-text clients, and the same text as
/// `markdownDescription`: yaml-language-server shows `description` as plain
/// text, backticks and all, and renders Markdown only from the latter.
fn describe(target: &mut Value, text: &str) {
    target["description"] = json!(text);
    target["markdownDescription"] = json!(text);
}

/// A step: `type` picks the fields (if/then per step type).
fn step() -> Value {
    let types: Vec<&str> = schema::STEP_TYPES.iter().map(|t| t.name).collect();
    let mut base = object(schema::COMMON_STEP_FIELDS);
    base["properties"]["type"] = json!({ "enum": types });
    describe(&mut base["properties"]["type"], "What the step does.");
    base["allOf"] = schema::STEP_TYPES.iter().map(|t| variant(t.name, t.doc, t.fields)).collect();
    base
}

fn prompt_item() -> Value {
    let types: Vec<&str> = schema::PROMPT_ITEMS.iter().map(|t| t.name).collect();
    let variants: Vec<Value> = schema::PROMPT_ITEMS.iter().map(|t| variant(t.name, t.doc, t.fields)).collect();
    json!({
        "type": "object",
        "properties": { "type": { "enum": types } },
        "required": ["type"],
        "allOf": variants,
    })
}

/// If `type` is `name`, these fields. The `if` requires `type`: an `if` on
/// `properties` alone holds when `type` is absent, and every variant's
/// required keys would then be reported on a mapping that lacks `type`.
fn variant(name: &str, doc: &str, fields: &[Field]) -> Value {
    let own = object(fields);
    let mut then = json!({ "properties": own["properties"], "required": own["required"] });
    describe(&mut then, doc);
    json!({
        "if": { "properties": { "type": { "const": name } }, "required": ["type"] },
        "then": then,
    })
}
