//! One repair request: when the final answer cannot be used (no code, no
//! findings, the wrong shape), the model that wrote it is told what was
//! wrong, once, in the same conversation, before the run fails.

use super::{prepare, Engine, EventSink, RunError, RunEvent, RunOptions, RunResult, StepOutput};
use crate::pipeline::providers::{Stop, Turn};
use crate::store::select::Mode;

/// Run a pipeline whose final answer must pass `usable` (`Err` holds the
/// request to send the model: what was wrong and what to answer). An answer that fails gets one repair request; its
/// answer replaces the last step's output if the model answered at all.
pub async fn run_checked(source: &str, options: RunOptions, events: EventSink, usable: &(dyn Fn(&str) -> Result<(), String> + Sync)) -> Result<RunResult, RunError> {
    let workflow = prepare(source, &options)?;
    let timeout = options.run_timeout;
    let mut engine = Engine::new(&workflow, options, events);
    if engine.mode == Mode::Evaluation {
        return Err(RunError { step: None, provider: None, message: "evaluation mode scores prompt versions on stored examples instead of running (`elexirion pipeline run --mode evaluation`)".into() });
    }
    let steps = workflow.get("steps").map(|s| s.items().to_vec()).unwrap_or_default();
    let ran = async {
        engine.run_steps(steps).await?;
        let Some((step, last)) = engine.outputs.last().cloned() else { return Ok(()) };
        let Err(problem) = usable(&last.text) else { return Ok(()) };
        // The repaired answer replaces the first only if it can be used:
        // otherwise the first answer's problem is the one to report.
        match engine.repair(&step, &last.text, &problem).await.filter(|text| usable(text).is_ok()) {
            Some(text) => {
                engine.record_repaired(&step, &text);
                engine.cache_repaired(&step, &text);
                if let Some(output) = engine.outputs.last_mut() {
                    output.1 = StepOutput::from_text(text);
                }
            }
            None => engine.emit(RunEvent::Warning(format!("step `{step}`: the repair request did not give a usable answer either"))),
        }
        Ok(())
    };
    match tokio::time::timeout(timeout, ran).await {
        Ok(result) => result.map(|()| {
            let cost = engine.spent();
            RunResult { outputs: engine.outputs, invocation: engine.invocation, mode: engine.mode, cost }
        }),
        Err(_) => Err(RunError { step: None, provider: None, message: format!("the run took longer than {} s", timeout.as_secs()) }),
    }
}

impl Engine {
    /// The repaired answer became the result: in the store it replaces the
    /// unusable first answer as the step's example, so that a verdict
    /// judges, and a learned demo teaches, the answer that was used.
    fn record_repaired(&self, step: &str, text: &str) {
        let Some(store) = &self.options.store else { return };
        let replaced = store.lock().map_err(|_| "the store is unavailable".to_string()).and_then(|mut s| s.replace_last_answer(&self.invocation, step, text));
        if let Err(problem) = replaced {
            self.emit(RunEvent::Warning(format!("step `{step}`: the repaired answer could not be recorded in the optimization store ({problem})")));
        }
    }

    /// The repaired answer is what the first request should have had: it is
    /// cached under that request, so a rerun gets it instead of paying for
    /// the unusable answer and its repair again.
    fn cache_repaired(&self, step: &str, text: &str) {
        let (Some(dir), Some((_, key, request))) = (self.options.cache_dir.as_deref(), &self.last_call) else { return };
        if let Err(error) = super::cache::write(dir, &super::cache::key(key, request), text) {
            self.emit(RunEvent::Warning(format!("step `{step}`: could not cache the repaired answer: {error}")));
        }
    }

    /// Ask the provider that gave `answer` again, saying what was wrong
    /// with it; the new answer, if a complete one came.
    async fn repair(&mut self, step: &str, answer: &str, problem: &str) -> Option<String> {
        let (kind, key, mut request) = self.last_call.clone()?;
        self.emit(RunEvent::Warning(format!("step `{step}`: its answer could not be used; asking {key} once more, saying why")));
        request.turns.push(Turn { user: std::mem::take(&mut request.prompt), assistant: answer.to_string() });
        request.prompt = problem.to_string();
        let provider = self.provider(kind, key, None);
        let started = std::time::Instant::now();
        let mut repaired = provider.complete(&request).await.ok()?;
        self.believable_tokens(step, key, &mut repaired);
        let tokens = repaired.input_tokens.zip(repaired.output_tokens);
        let cost = self.price_call(key, &request.model, provider.is_official_api(), tokens);
        self.spend(cost, key, &request.model);
        // A third call is paid for like the others: said, and added to the step's run.
        self.record_repair_call(step, key, &request.model, tokens, cost, started.elapsed());
        let repaired = Some(repaired).filter(|r| r.stop == Stop::Complete)?;
        Some(repaired.text)
    }
}
