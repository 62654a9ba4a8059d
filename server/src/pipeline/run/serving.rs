//! Prompts served from the optimization store, and runs recorded in it.
//! Each model step's own prompt is kept as its `manual` version; the mode
//! picks the version to send; a stored version that cannot be rendered or
//! whose call fails gives way to the pipeline's prompt. The store never
//! stops a run: its errors become warnings.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::{chat_adapter, prompt, Engine, Message, ModelCall, RunError, RunEvent, StepPrompt};
use crate::pipeline::providers::prices;
use crate::pipeline::yaml::YamlNode;
use crate::store::examples::{Outcome, RunRecord};
use crate::store::select::{self, Mode};
use crate::store::{Field, PromptVersion, Store};

pub type SharedStore = Arc<Mutex<Store>>;

/// The mode a run uses: the one asked for, else the pipeline's
/// `hybrid_config.mode`, else `dspy_config.optimization_enabled` (optimized)
/// or `dspy_config.hybrid_mode` (hybrid), else traditional.
pub fn resolve_mode(workflow: &YamlNode, asked: Option<Mode>) -> Mode {
    if let Some(mode) = asked {
        return mode;
    }
    let flag = |config: &str, key: &str| workflow.get(config).and_then(|c| c.get(key)).and_then(YamlNode::as_str) == Some("true");
    if let Some(mode) = workflow.get("hybrid_config").and_then(|c| c.get("mode")).and_then(YamlNode::as_str).and_then(Mode::parse) {
        mode
    } else if flag("dspy_config", "optimization_enabled") {
        Mode::Optimized
    } else if flag("dspy_config", "hybrid_mode") {
        Mode::Hybrid
    } else {
        Mode::Traditional
    }
}

/// A run's id: time and randomness, unique across processes sharing a store.
pub fn new_invocation() -> String {
    let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    format!("{millis:x}-{:08x}", rand::random::<u32>())
}

/// The fields of a step's own prompt: its named inputs, then `response`.
pub fn manual_fields(template: &str) -> Vec<Field> {
    let mut fields: Vec<Field> = prompt::input_names(template).into_iter().map(|name| Field::named(name, false)).collect();
    fields.push(Field::named("response", true));
    fields
}

impl Engine {
    fn pipeline(&self) -> String {
        self.scope.workflow_name.clone()
    }

    /// The step's manual version and the version the mode chose (`None`:
    /// the manual one). Without a store, neither.
    fn plan(&mut self, step: &str, prompt: &StepPrompt) -> Option<(i64, Option<PromptVersion>)> {
        let store = self.options.store.clone()?;
        let pipeline = self.pipeline();
        let planned = (|| {
            let mut store = store.lock().map_err(|_| "the store is unavailable after a crash in another request".to_string())?;
            let manual = store.manual_version(&pipeline, step, &prompt.template, &manual_fields(&prompt.template))?;
            if self.mode == Mode::Traditional {
                return Ok((manual, None));
            }
            let candidates = store.candidates(&pipeline, step)?;
            if self.mode == Mode::Optimized && select::by_evidence(&candidates).is_none_or(|v| v.id == manual) {
                if let Some(waiting) = select::optimized(&candidates) {
                    let evidence = select::Evidence::of(&waiting.record);
                    if !evidence.enough() {
                        let needed = select::MIN_EVIDENCE;
                        self.emit(RunEvent::Warning(format!("step `{step}`: optimized mode keeps the written prompt: version {} ({}) has {:.0} of the {needed} verdicts or evaluated examples it needs (hybrid mode or `--mode evaluation` gathers them)", waiting.id, waiting.source, evidence.trials)));
                    }
                }
            }
            let chosen = match select::choose(self.mode, &candidates, &mut self.rng).filter(|v| v.id != manual) {
                Some(candidate) => store.version(candidate.id)?,
                None => None,
            };
            Ok::<_, String>((manual, chosen))
        })();
        match planned {
            Ok(plan) => Some(plan),
            Err(problem) => {
                self.emit(RunEvent::Warning(format!("step `{step}`: the optimization store failed ({problem}); using the pipeline's prompt, nothing recorded")));
                None
            }
        }
    }

    /// Call the model with the prompt the mode serves, and record the run.
    pub(super) async fn served_call(&mut self, step: &YamlNode, name: &str, kind: &str, prompt: StepPrompt) -> Result<ModelCall, RunError> {
        let plan = self.plan(name, &prompt);
        if let Some((_, Some(version))) = &plan {
            match chat_adapter::render(&version.version, &prompt.inputs) {
                Ok(rendered) => {
                    self.emit(RunEvent::PromptServed { step: name.to_string(), version: version.id, source: version.version.source.clone() });
                    let started = Instant::now();
                    let result = self.model_call(step, name, kind, Message::from(rendered)).await.map(|mut call| {
                        call.text = chat_adapter::parse(&version.version, &call.text);
                        call
                    });
                    self.record(name, version.id, &prompt, &result, started);
                    match result {
                        Ok(call) => return Ok(call),
                        Err(error) => self.emit(RunEvent::Warning(format!("step `{name}`: prompt version {} failed ({error}); using the pipeline's prompt", version.id))),
                    }
                }
                Err(problem) => {
                    self.emit(RunEvent::Warning(format!("step `{name}`: prompt version {} cannot be used ({problem}); using the pipeline's prompt", version.id)));
                }
            }
        }
        if let Some((manual, _)) = plan {
            self.emit(RunEvent::PromptServed { step: name.to_string(), version: manual, source: "manual".into() });
        }
        let started = Instant::now();
        let result = self.model_call(step, name, kind, Message::plain(prompt.text.clone())).await;
        if let Some((manual, _)) = plan {
            self.record(name, manual, &prompt, &result, started);
        }
        result
    }

    fn record(&self, step: &str, version: i64, prompt: &StepPrompt, result: &Result<ModelCall, RunError>, started: Instant) {
        let Some(store) = &self.options.store else { return };
        let run = RunRecord {
            invocation: self.invocation.clone(),
            pipeline: self.pipeline(),
            step: step.to_string(),
            version,
            provider: result.as_ref().ok().map(|c| c.provider.clone()).or_else(|| result.as_ref().err().and_then(|e| e.provider.clone())),
            model: result.as_ref().ok().map(|c| c.model.clone()),
            latency_ms: started.elapsed().as_secs_f64() * 1000.0,
            input_tokens: result.as_ref().ok().and_then(|c| c.tokens).map(|t| t.0),
            output_tokens: result.as_ref().ok().and_then(|c| c.tokens).map(|t| t.1),
            outcome: match result {
                Ok(call) if call.cached => Outcome::Cached,
                Ok(_) => Outcome::Answered,
                Err(error) => Outcome::Failed(error.message.clone()),
            },
            example: result.as_ref().ok().map(|c| (prompt.inputs.clone(), c.text.clone())),
        };
        let cost = result.as_ref().ok().and_then(|c| c.cost).filter(|usd| usd.is_finite());
        let mode = self.mode.name();
        let written = store.lock().map_err(|_| "the store is unavailable".to_string()).and_then(|mut s| {
            let id = s.record_run(&run)?;
            s.annotate_run(id, mode, cost)
        });
        if let Err(problem) = written {
            self.emit(RunEvent::Warning(format!("step `{step}`: the run could not be recorded in the optimization store ({problem})")));
        }
    }

    /// The repair request a step's unusable answer got: a model call of
    /// its own, reported like a step (its tokens and cost, so the run's
    /// printed total has it) and added to the step's run in the store.
    pub(super) fn record_repair_call(&self, step: &str, provider: &str, model: &str, tokens: Option<(u64, u64)>, cost: prices::Cost, elapsed: std::time::Duration) {
        let mut spend = prices::Spend::default();
        spend.add(cost, provider, model);
        self.emit(RunEvent::StepFinished { step: format!("{step} (repair request)"), provider: Some(provider.to_string()), cached: false, elapsed, tokens, cost: Some(spend) });
        let Some(store) = &self.options.store else { return };
        let added = store.lock().map_err(|_| "the store is unavailable".to_string()).and_then(|mut s| s.add_call_to_run(&self.invocation, step, tokens, cost.ok()));
        if let Err(problem) = added {
            self.emit(RunEvent::Warning(format!("step `{step}`: the repair request's cost could not be recorded in the optimization store ({problem})")));
        }
    }
}
