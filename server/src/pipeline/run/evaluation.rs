//! Evaluation mode: instead of running the pipeline, every stored prompt
//! version of each model step answers the step's accepted examples, and
//! the answers are scored against what the user accepted with the
//! pipeline's metric (`dspy_config.evaluation_metric`). Scores are kept
//! with the versions, with the number of examples behind them: optimized
//! mode counts them as evidence (`store::select`).
//!
//! Honest by construction: the cache is never read (a cached answer is
//! another prompt's answer, or an old one), a version is never scored on
//! the examples that are its own demos (it has seen their answers), and
//! an answer the pipeline could not use (the step's own reading, or the
//! editor's: no findings, no code, an edit that fails its checks) is a
//! failure that scores 0.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{chat_adapter, prepare, prompt, str_at, Engine, EventSink, Message, RunError, RunOptions, MODEL_STEPS};
use crate::elixir::AnalysisOptions;
use crate::pipeline::editor::{self, EditorBlock, Kind, WritesTo};
use crate::pipeline::outcome::{read_findings, read_rewrite};
use crate::pipeline::verify;
use crate::pipeline::yaml::YamlNode;
use crate::store::examples::{Example, Verdict};
use crate::store::PromptVersion;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct VersionScore {
    pub version: i64,
    pub source: String,
    /// Mean over the examples, 0 to 1; failed calls and unusable answers
    /// score 0. `None` when every example was one of its demos.
    pub score: Option<f64>,
    pub examples: usize,
    /// Calls that failed or answers that could not be used.
    pub failures: usize,
    /// Accepted examples left out because they are this version's demos.
    pub held_out_demos: usize,
    /// Why answers could not be used (the first few, for the user).
    pub problems: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StepScores {
    pub step: String,
    pub metric: String,
    pub scores: Vec<VersionScore>,
}

pub async fn evaluate(source: &str, mut options: RunOptions, events: EventSink) -> Result<Vec<StepScores>, RunError> {
    let workflow = prepare(source, &options)?;
    let store = options.store.clone().ok_or_else(|| RunError { step: None, provider: None, message: "evaluation needs the optimization store, which is off".into() })?;
    // Every version answers anew: a cached answer would score another prompt.
    options.cache_dir = None;
    let dspy = workflow.get("dspy_config");
    let metric = dspy.and_then(|c| str_at(c, "evaluation_metric")).unwrap_or_else(|| "token_f1".into());
    let limit = dspy.and_then(|c| str_at(c, "evaluation_examples")).and_then(|n| n.parse().ok()).unwrap_or(20usize);
    let block = editor::editor_block(source);
    let steps = workflow.get("steps").map(YamlNode::items).unwrap_or_default();
    let final_step = steps.last().and_then(|s| str_at(s, "name"));
    let mut engine = Engine::new(&workflow, options, events);
    let pipeline = engine.scope.workflow_name.clone();
    let mut results = Vec::new();
    for step in steps {
        let (name, kind) = (str_at(step, "name").unwrap_or_default(), str_at(step, "type").unwrap_or_default());
        if !MODEL_STEPS.contains(&kind.as_str()) {
            continue;
        }
        let (versions, mut examples) = {
            let store = store.lock().map_err(|_| RunError { step: None, provider: None, message: "the store is unavailable".into() })?;
            let fail = |message: String| RunError { step: Some(name.clone()), provider: None, message };
            (store.versions(&pipeline, Some(&name)).map_err(fail)?, store.examples(&pipeline, &name, true).map_err(fail)?)
        };
        examples.retain(|e| matches!(e.verdict, Some(Verdict::Accepted | Verdict::Edited)));
        let examples: Vec<_> = examples.into_iter().rev().take(limit).collect();
        if versions.is_empty() || examples.is_empty() {
            continue;
        }
        // The editor reads the pipeline's final answer: for the last step,
        // an answer it would refuse is a failure.
        let editor_reads = block.as_ref().filter(|_| final_step.as_deref() == Some(name.as_str()));
        let mut scores = Vec::new();
        for version in &versions {
            let held_out: Vec<&Example> = examples.iter().filter(|e| !is_demo_of(version, e)).collect();
            let (mut total, mut failures, mut problems) = (0.0, 0, Vec::new());
            for example in &held_out {
                let message = if version.version.source == "manual" {
                    prompt::fill(&version.version.instructions, &example.inputs).map(Message::plain)
                } else {
                    chat_adapter::render(&version.version, &example.inputs).map(Message::from)
                };
                let answer = match message {
                    Ok(message) => engine.model_call(step, &name, &kind, message).await.map_err(|e| e.message).map(|call| {
                        if version.version.source == "manual" { call.text } else { chat_adapter::parse(&version.version, &call.text) }
                    }),
                    Err(problem) => Err(problem),
                };
                // Scored as the example was stored (the answer before the
                // step shapes it), once the step and the editor could use it.
                let usable = answer.and_then(|answer| {
                    let output = engine.postprocess(step, &name, &kind, answer.clone()).map_err(|e| e.message)?;
                    match editor_reads.and_then(|block| editor_problem(block, &example.inputs, &output.text)) {
                        Some(problem) => Err(problem),
                        None => Ok(answer),
                    }
                });
                match usable {
                    Ok(answer) => total += score(&metric, &answer, example.best_output()),
                    Err(problem) => {
                        failures += 1;
                        if problems.len() < 3 {
                            problems.push(problem);
                        }
                    }
                }
            }
            let mean = (!held_out.is_empty()).then(|| total / held_out.len() as f64);
            if let (Some(mean), Ok(mut store)) = (mean, store.lock()) {
                let _ = store.set_score(version.id, mean, held_out.len());
            }
            scores.push(VersionScore {
                version: version.id,
                source: version.version.source.clone(),
                score: mean,
                examples: held_out.len(),
                failures,
                held_out_demos: examples.len() - held_out.len(),
                problems,
            });
        }
        results.push(StepScores { step: name, metric: metric.clone(), scores });
    }
    if results.is_empty() {
        return Err(RunError { step: None, provider: None, message: format!("nothing to evaluate: no step of `{pipeline}` has both stored versions and accepted examples") });
    }
    Ok(results)
}

/// The example is one of the version's demos: every input it had is in a
/// demo with the same value (a demo also holds the answer).
fn is_demo_of(version: &PromptVersion, example: &Example) -> bool {
    !example.inputs.is_empty() && version.version.demos.iter().any(|demo| example.inputs.iter().all(|(name, value)| same_text(demo.get(name), value)))
}

fn same_text(demo: Option<&Value>, input: &Value) -> bool {
    let text = |v: &Value| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
    demo.is_some_and(|d| text(d).trim() == text(input).trim())
}

/// Why the editor would refuse this final answer, if it would: what
/// `on_file` checks, on the example's own code.
fn editor_problem(block: &EditorBlock, inputs: &Map<String, Value>, answer: &str) -> Option<String> {
    match block.kind {
        Kind::Analysis => read_findings(answer).err().map(|p| p.to_string()),
        Kind::Explanation => answer.trim().is_empty().then(|| "the answer is empty".to_string()),
        Kind::Refactor => {
            // The code the edit is made against: the input the editor filled
            // with the file or selection (a test file's text is not kept).
            let original = block
                .inputs
                .iter()
                .filter(|_| block.writes_to == WritesTo::File)
                .find(|(_, template)| ["editor.selection_or_file", "editor.file", "editor.selection"].iter().any(|t| template.contains(t)))
                .and_then(|(name, _)| inputs.get(name))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let rewrite = match read_rewrite(answer, original) {
                Ok(rewrite) => rewrite,
                Err(problem) => return Some(problem.to_string()),
            };
            if original.is_empty() {
                return None;
            }
            if rewrite.text == original {
                return Some("the pipeline proposes no change".into());
            }
            verify::verify(original, &rewrite.text, &AnalysisOptions::default(), block.may_change_api).err().map(|refusal| refusal.to_string())
        }
    }
}

/// An answer against the accepted result, 0 to 1.
pub fn score(metric: &str, answer: &str, accepted: &str) -> f64 {
    match metric {
        "exact_match" | "accuracy" => f64::from(answer.trim() == accepted.trim()),
        "contains" => f64::from(answer.contains(accepted.trim())),
        _ => token_f1(answer, accepted),
    }
}

/// F1 of the two texts' word sets.
fn token_f1(answer: &str, accepted: &str) -> f64 {
    let a: HashSet<&str> = answer.split_whitespace().collect();
    let b: HashSet<&str> = accepted.split_whitespace().collect();
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let common = a.intersection(&b).count() as f64;
    if common == 0.0 {
        return 0.0;
    }
    let (precision, recall) = (common / a.len() as f64, common / b.len() as f64);
    2.0 * precision * recall / (precision + recall)
}
