//! Evaluation mode: instead of running the pipeline, every stored prompt
//! version of each model step answers the step's accepted examples, and
//! the answers are scored against what the user accepted with the
//! pipeline's metric (`dspy_config.evaluation_metric`). Scores are kept
//! with the versions; optimized mode breaks ties with them.

use std::collections::HashSet;

use super::{chat_adapter, prepare, prompt, str_at, Engine, EventSink, Message, RunError, RunOptions, MODEL_STEPS};
use crate::pipeline::yaml::YamlNode;
use crate::store::examples::Verdict;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct VersionScore {
    pub version: i64,
    pub source: String,
    /// Mean over the examples, 0 to 1; failed calls score 0.
    pub score: f64,
    pub examples: usize,
    pub failures: usize,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StepScores {
    pub step: String,
    pub metric: String,
    pub scores: Vec<VersionScore>,
}

pub async fn evaluate(source: &str, options: RunOptions, events: EventSink) -> Result<Vec<StepScores>, RunError> {
    let workflow = prepare(source, &options)?;
    let store = options.store.clone().ok_or_else(|| RunError { step: None, provider: None, message: "evaluation needs the optimization store, which is off".into() })?;
    let dspy = workflow.get("dspy_config");
    let metric = dspy.and_then(|c| str_at(c, "evaluation_metric")).unwrap_or_else(|| "token_f1".into());
    let limit = dspy.and_then(|c| str_at(c, "evaluation_examples")).and_then(|n| n.parse().ok()).unwrap_or(20usize);
    let mut engine = Engine::new(&workflow, options, events);
    let pipeline = engine.scope.workflow_name.clone();
    let mut results = Vec::new();
    for step in workflow.get("steps").map(YamlNode::items).unwrap_or_default() {
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
        let mut scores = Vec::new();
        for version in &versions {
            let (mut total, mut failures) = (0.0, 0);
            for example in &examples {
                let message = if version.version.source == "manual" {
                    prompt::fill(&version.version.instructions, &example.inputs).map(Message::plain)
                } else {
                    chat_adapter::render(&version.version, &example.inputs).map(Message::from)
                };
                let answer = match message {
                    Ok(message) => engine.model_call(step, &name, &kind, message).await.ok().map(|call| {
                        if version.version.source == "manual" { call.text } else { chat_adapter::parse(&version.version, &call.text) }
                    }),
                    Err(_) => None,
                };
                match answer {
                    Some(answer) => total += score(&metric, &answer, example.best_output()),
                    None => failures += 1,
                }
            }
            let mean = total / examples.len() as f64;
            if let Ok(mut store) = store.lock() {
                let _ = store.set_score(version.id, mean);
            }
            scores.push(VersionScore { version: version.id, source: version.version.source.clone(), score: mean, examples: examples.len(), failures });
        }
        results.push(StepScores { step: name, metric: metric.clone(), scores });
    }
    if results.is_empty() {
        return Err(RunError { step: None, provider: None, message: format!("nothing to evaluate: no step of `{pipeline}` has both stored versions and accepted examples") });
    }
    Ok(results)
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
