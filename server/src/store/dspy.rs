//! Programs saved by DSPy's `Module.save(path)` (JSON) as prompt versions.
//!
//! The format: a bare predictor saves its state at the top level; a module
//! saves each predictor under its path (`gen.predict`), beside `metadata`.
//! A predictor's `signature` has `instructions` and `fields` listed by
//! position (inputs, then outputs) with `prefix` and `description` but no
//! names; names are read from the prefixes (`Code:` -> `code`) and checked
//! against the keys of the demos, which are field names.

use serde_json::{Map, Value};

use super::{Field, NewVersion};

/// One predictor of a saved program.
#[derive(Clone, Debug, PartialEq)]
pub struct Predictor {
    /// Its path in the program; `self` for a bare predictor.
    pub path: String,
    pub instructions: String,
    pub fields: Vec<Field>,
    pub demos: Vec<Map<String, Value>>,
}

pub fn parse(text: &str) -> Result<Vec<Predictor>, String> {
    let json: Value = serde_json::from_str(text).map_err(|e| format!("not a DSPy program (not JSON: {e})"))?;
    let object = json.as_object().ok_or("not a DSPy program (not a JSON object)")?;
    let entries: Vec<(String, &Value)> = if object.contains_key("signature") {
        vec![("self".to_string(), &json)]
    } else {
        object.iter().filter(|(k, v)| *k != "metadata" && v.get("signature").is_some()).map(|(k, v)| (k.clone(), v)).collect()
    };
    if entries.is_empty() {
        return Err("not a DSPy program: no predictor with a `signature` in it".into());
    }
    entries.into_iter().map(|(path, state)| predictor(path, state)).collect()
}

fn predictor(path: String, state: &Value) -> Result<Predictor, String> {
    let signature = &state["signature"];
    let instructions = signature["instructions"].as_str().unwrap_or_default().to_string();
    let demos: Vec<Map<String, Value>> = state["demos"]
        .as_array()
        .map(|d| d.iter().filter_map(|demo| demo.as_object().cloned()).collect())
        .unwrap_or_default();
    let raw = signature["fields"].as_array().ok_or(format!("predictor `{path}` has no signature fields"))?;
    // Demo keys in order (all fields appear in a full, augmented demo).
    let demo_keys: Vec<String> = demos
        .iter()
        .max_by_key(|d| d.len())
        .map(|d| d.keys().filter(|k| *k != "augmented").cloned().collect())
        .unwrap_or_default();
    let mut names: Vec<String> = raw.iter().map(|f| name_from_prefix(f["prefix"].as_str().unwrap_or_default())).collect();
    if demo_keys.len() == names.len() && demo_keys.iter().all(|k| names.contains(k)) {
        names = demo_keys;
    }
    // Outputs: from `reasoning` (chain of thought) on, else the last field.
    let first_output = names.iter().position(|n| n == "reasoning").unwrap_or(names.len().saturating_sub(1));
    let fields = raw
        .iter()
        .zip(names)
        .enumerate()
        .map(|(index, (field, name))| Field {
            name,
            prefix: field["prefix"].as_str().unwrap_or_default().to_string(),
            description: field["description"].as_str().unwrap_or_default().to_string(),
            output: index >= first_output,
        })
        .collect();
    Ok(Predictor { path, instructions, fields, demos })
}

/// DSPy's default prefix is the field name in title case: `Some Field:`.
fn name_from_prefix(prefix: &str) -> String {
    prefix.trim().trim_end_matches(':').trim().to_lowercase().replace(' ', "_")
}

/// What an import makes: a version per predictor that names a step, and
/// a warning per predictor that names none (it is not imported).
#[derive(Debug, PartialEq)]
pub struct Import {
    pub versions: Vec<NewVersion>,
    pub warnings: Vec<String>,
}

/// The step a predictor maps to: `--map PATH=STEP`, else its path without
/// a trailing `.predict`. `steps` are the pipeline's model steps: a
/// version for a step that does not exist would never be served, so a
/// program none of whose predictors names a step is an error listing
/// them, and a predictor that names none while others do is left out
/// with a warning naming it (the rest of the program is still useful).
pub fn versions(predictors: Vec<Predictor>, pipeline: &str, map: &[(String, String)], steps: &[String]) -> Result<Import, String> {
    let listed = |names: &[String]| if names.is_empty() { "none".to_string() } else { names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ") };
    let paths: Vec<String> = predictors.iter().map(|p| p.path.clone()).collect();
    for (from, to) in map {
        if !paths.contains(from) {
            return Err(format!("--map {from}={to}: the program has no predictor `{from}` (its predictors: {})", listed(&paths)));
        }
        if !steps.contains(to) {
            return Err(format!("--map {from}={to}: pipeline `{pipeline}` has no model step `{to}` (its steps: {})", listed(steps)));
        }
    }
    let step_of = |p: &Predictor| step_for(p, map);
    let (matching, strays): (Vec<Predictor>, Vec<Predictor>) = predictors.into_iter().partition(|p| steps.contains(&step_of(p)));
    if matching.is_empty() {
        let names: Vec<String> = strays.iter().map(|p| format!("`{}` (step `{}`)", p.path, step_of(p))).collect();
        return Err(format!(
            "no predictor of the program names a step of pipeline `{pipeline}`: {}; its steps: {}. Map them with --map PREDICTOR=STEP",
            names.join(", "),
            listed(steps)
        ));
    }
    let warnings = strays
        .iter()
        .map(|p| format!("predictor `{}` names no step of `{pipeline}` (`{}`; its steps: {}); not imported (map it with --map {}=STEP)", p.path, step_of(p), listed(steps), p.path))
        .collect();
    let versions = matching
        .into_iter()
        .map(|p| NewVersion {
            pipeline: pipeline.to_string(),
            step: step_of(&p),
            instructions: p.instructions,
            fields: p.fields,
            demos: p.demos,
            source: "dspy".into(),
            parent: None,
            notes: Some(format!("imported from DSPy predictor `{}`", p.path)),
        })
        .collect();
    Ok(Import { versions, warnings })
}

/// The step `--map` gives a predictor, else its path without `.predict`.
pub fn step_for(predictor: &Predictor, map: &[(String, String)]) -> String {
    map.iter()
        .find(|(from, _)| *from == predictor.path)
        .map(|(_, to)| to.clone())
        .unwrap_or_else(|| predictor.path.strip_suffix(".predict").unwrap_or(&predictor.path).to_string())
}

impl super::Store {
    /// The steps the store has seen the pipeline run: those with a
    /// version of the pipeline's own prompt.
    pub fn run_steps(&self, pipeline: &str) -> Result<Vec<String>, String> {
        let mut statement =
            self.connection.prepare_cached("SELECT DISTINCT step FROM prompt_versions WHERE pipeline = ?1 AND source = 'manual' ORDER BY step").map_err(super::error)?;
        let rows = statement.query_map([pipeline], |row| row.get(0)).map_err(super::error)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(super::error)
    }
}
