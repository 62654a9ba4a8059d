//! A `learned` version without DSPy: the instructions the step already
//! has, with a few accepted examples as demos, picked for diversity and
//! brevity (short demos cost tokens on every call; similar ones teach
//! nothing new).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::examples::{Example, Verdict};
use super::{Field, NewVersion, Store};
use crate::pipeline::run::prompt::objective;

/// What `learn` made.
#[derive(Debug, PartialEq)]
pub enum Learned {
    New { id: i64, demos: usize, from: usize },
    /// The newest learned version already has exactly these demos.
    Unchanged { id: i64 },
}

/// Build a learned version for every step of `pipeline` that has accepted
/// examples. Steps without any are reported, not failed.
pub fn learn(store: &mut Store, pipeline: &str, max_demos: usize) -> Result<Vec<(String, Result<Learned, String>)>, String> {
    let steps = store.steps(pipeline)?;
    if steps.is_empty() {
        return Err(format!("the store knows no step of pipeline `{pipeline}` (run it first)"));
    }
    let mut results = Vec::new();
    for step in steps {
        let outcome = learn_step(store, pipeline, &step, max_demos);
        results.push((step, outcome));
    }
    Ok(results)
}

pub fn learn_step(store: &mut Store, pipeline: &str, step: &str, max_demos: usize) -> Result<Learned, String> {
    let accepted: Vec<Example> = store
        .examples(pipeline, step, true)?
        .into_iter()
        .filter(|e| matches!(e.verdict, Some(Verdict::Accepted | Verdict::Edited)))
        .collect();
    if accepted.is_empty() {
        return Err("no accepted examples yet".into());
    }
    let versions = store.versions(pipeline, Some(step))?;
    // Build on the pipeline's own prompt when it is stored, else on the
    // version most of the accepted examples came from.
    let parent = versions.iter().rev().find(|v| v.version.source == "manual").or_else(|| {
        let mut counts = std::collections::HashMap::new();
        accepted.iter().for_each(|e| *counts.entry(e.version).or_insert(0) += 1);
        let top = counts.into_iter().max_by_key(|(id, n)| (*n, *id))?.0;
        versions.iter().find(|v| v.id == top)
    });
    let parent = parent.ok_or("the examples' prompt version is gone")?;
    let output = parent.version.fields.iter().rev().find(|f| f.output).cloned().unwrap_or_else(|| Field::named("response", true));
    let instructions = objective(&parent.version);
    let chosen = pick_demos(&accepted, max_demos);
    let demos: Vec<Map<String, Value>> = chosen
        .iter()
        .map(|e| {
            let mut demo = e.inputs.clone();
            demo.insert(output.name.clone(), Value::String(e.best_output().to_string()));
            demo
        })
        .collect();
    let mut fields: Vec<Field> = parent.version.fields.iter().filter(|f| !f.output).cloned().collect();
    for name in chosen.iter().flat_map(|e| e.inputs.keys()) {
        if !fields.iter().any(|f| &f.name == name) {
            fields.push(Field::named(name.clone(), false));
        }
    }
    fields.push(output);
    if let Some(newest) = versions.iter().rev().find(|v| v.version.source == "learned") {
        if newest.version.demos == demos && newest.version.instructions == instructions {
            return Ok(Learned::Unchanged { id: newest.id });
        }
    }
    let version = NewVersion {
        pipeline: pipeline.to_string(),
        step: step.to_string(),
        instructions,
        fields,
        demos,
        source: "learned".into(),
        parent: Some(parent.id),
        notes: Some(format!("{} of {} accepted examples as demos", chosen.len(), accepted.len())),
    };
    let id = store.add_versions(&[version])?[0];
    Ok(Learned::New { id, demos: chosen.len(), from: accepted.len() })
}

/// Greedy: each round takes the example least like those already taken,
/// less a penalty for length; the first round so takes the shortest.
pub fn pick_demos(examples: &[Example], max: usize) -> Vec<&Example> {
    let texts: Vec<String> = examples.iter().map(text_of).collect();
    let words: Vec<HashSet<&str>> = texts.iter().map(|t| t.split_whitespace().collect()).collect();
    let lengths: Vec<usize> = texts.iter().map(String::len).collect();
    let longest = lengths.iter().copied().max().unwrap_or(1).max(1) as f64;
    let mut taken: Vec<usize> = Vec::new();
    while taken.len() < max.min(examples.len()) {
        let next = (0..examples.len()).filter(|i| !taken.contains(i)).max_by(|&a, &b| {
            let value = |i: usize| {
                let closest = taken.iter().map(|&t| jaccard(&words[i], &words[t])).fold(0.0, f64::max);
                (1.0 - closest) - 0.5 * lengths[i] as f64 / longest
            };
            value(a).total_cmp(&value(b)).then(b.cmp(&a))
        });
        match next {
            Some(index) => taken.push(index),
            None => break,
        }
    }
    taken.into_iter().map(|i| &examples[i]).collect()
}

fn text_of(example: &Example) -> String {
    let mut text: String = example.inputs.values().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect::<Vec<_>>().join(" ");
    text.push(' ');
    text.push_str(example.best_output());
    text
}

fn jaccard(a: &HashSet<&str>, b: &HashSet<&str>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        return 1.0;
    }
    a.intersection(b).count() as f64 / union as f64
}
