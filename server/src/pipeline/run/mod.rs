//! Running a pipeline: steps in order, prompts assembled from their items,
//! model calls through the configured providers (with fallback), results
//! cached on disk, progress reported as events.

pub mod cache;
mod repair;
pub mod chat_adapter;
pub mod evaluation;
pub mod prompt;
mod serving;
pub mod values;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use serde_json::{json, Value};

use super::providers::prices::{self, Spend};
use super::providers::{output_limits, ModelRequest, ModelResponse, Provider, ProviderConfig, ProviderError, ProviderKind, Stop};
use super::validate::{validate, ValidationContext};
use super::templates::substitute;
use super::yaml::{self, YamlNode, YamlValue};
use crate::config::ProviderSettings;
use crate::finding::Severity;
use crate::store::select::Mode;
pub use serving::{manual_fields as prompt_fields, resolve_mode, SharedStore};
use values::{display, extract, truthy, Scope, StepOutput};

/// Step types the engine runs. Others are refused before anything runs.
pub const RUNNABLE: &[&str] = &[
    "claude", "gemini", "claude_smart", "claude_extract", "claude_robust", "claude_batch", "parallel_claude",
    "gemini_instructor", "set_variable", "for_loop", "while_loop",
];

/// Steps that make one model call from their prompt: the ones the
/// optimization store keeps prompt versions of.
pub const MODEL_STEPS: &[&str] = &["claude", "gemini", "claude_smart", "claude_extract", "claude_robust", "gemini_instructor"];

/// Claude Code options that only make sense for an agent: ignored here.
const AGENT_OPTIONS: &[&str] = &["allowed_tools", "disallowed_tools", "permission_mode", "permission_prompt_tool", "mcp_config", "cwd", "max_turns"];

#[derive(Clone)]
pub struct RunOptions {
    /// Root for `file` prompts and file globs; nothing outside it is read.
    pub workspace: PathBuf,
    pub inputs: HashMap<String, Value>,
    /// Where answers are cached; `None` turns the cache off.
    pub cache_dir: Option<PathBuf>,
    /// Ask the models again even where an answer is cached (the user ran
    /// the same thing again: they want a new answer); new answers are cached.
    pub fresh: bool,
    pub providers: ProviderSettings,
    /// Limit for the whole run.
    pub run_timeout: Duration,
    /// Where prompt versions are served from and runs recorded; `None`: nowhere.
    pub store: Option<SharedStore>,
    /// Overrides the mode the pipeline declares.
    pub mode: Option<Mode>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RunEvent {
    StepStarted { step: String, step_type: String },
    /// `cost`: what the step's model calls cost; `None` when it made none.
    StepFinished { step: String, provider: Option<String>, cached: bool, elapsed: Duration, tokens: Option<(u64, u64)>, cost: Option<Spend> },
    StepSkipped { step: String },
    /// A step's prompt came from the store (`source` is manual, dspy or learned).
    PromptServed { step: String, version: i64, source: String },
    Warning(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct RunError {
    pub step: Option<String>,
    pub provider: Option<String>,
    pub message: String,
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.step, &self.provider) {
            (Some(step), Some(provider)) => write!(f, "step `{step}` failed ({provider}): {}", self.message),
            (Some(step), None) => write!(f, "step `{step}` failed: {}", self.message),
            _ => write!(f, "{}", self.message),
        }
    }
}

fn failure(step: &str, message: impl Into<String>) -> RunError {
    RunError { step: Some(step.to_string()), provider: None, message: message.into() }
}

#[derive(Debug)]
pub struct RunResult {
    /// Every step's output, in the order they finished.
    pub outputs: Vec<(String, StepOutput)>,
    /// The run's id in the store, for giving a verdict on its result.
    pub invocation: String,
    pub mode: Mode,
    /// What the run's model calls cost.
    pub cost: Spend,
}

impl RunResult {
    pub fn last(&self) -> Option<&StepOutput> {
        self.outputs.last().map(|(_, o)| o)
    }
}

pub type EventSink = Arc<dyn Fn(RunEvent) + Send + Sync>;

pub use repair::run_checked;

/// Run a pipeline's source text.
pub async fn run(source: &str, options: RunOptions, events: EventSink) -> Result<RunResult, RunError> {
    run_checked(source, options, events, &|_| Ok(())).await
}

/// The mode a pipeline's source runs in (see [`resolve_mode`]).
pub fn declared_mode(source: &str, asked: Option<Mode>) -> Mode {
    let root = yaml::parse(source).root;
    let workflow = root.as_ref().map(|r| r.get("workflow").unwrap_or(r));
    match workflow {
        Some(workflow) => resolve_mode(workflow, asked),
        None => asked.unwrap_or_default(),
    }
}

/// The workflow of a valid pipeline whose steps are all runnable.
fn prepare(source: &str, options: &RunOptions) -> Result<YamlNode, RunError> {
    let document = yaml::parse(source);
    let errors: Vec<String> = validate(source, &ValidationContext { workspace: Some(&options.workspace) })
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| {
            let line = source[..f.range.start].matches('\n').count() + 1;
            format!("line {line}: {}", f.message)
        })
        .collect();
    if !errors.is_empty() {
        return Err(RunError { step: None, provider: None, message: format!("the pipeline is not valid:\n  {}", errors.join("\n  ")) });
    }
    let root = document.root.ok_or_else(|| RunError { step: None, provider: None, message: "empty pipeline".into() })?;
    let workflow = root.get("workflow").cloned().unwrap_or(root);
    refuse_unsupported(&workflow)?;
    Ok(workflow)
}

/// [`run`] for callers that spawn it: owns its source.
pub async fn run_owned(source: String, options: RunOptions, events: EventSink) -> Result<RunResult, RunError> {
    run(&source, options, events).await
}

/// Every step type must be one we run, checked before anything runs.
fn refuse_unsupported(workflow: &YamlNode) -> Result<(), RunError> {
    fn check(steps: Option<&YamlNode>) -> Result<(), RunError> {
        for step in steps.map(YamlNode::items).unwrap_or_default() {
            let name = step.get("name").and_then(YamlNode::as_str).unwrap_or("?");
            let kind = step.get("type").and_then(YamlNode::as_str).unwrap_or("?");
            if !RUNNABLE.contains(&kind) {
                return Err(failure(name, format!("Elexirion does not run `{kind}` steps (it runs: {})", RUNNABLE.join(", "))));
            }
            check(step.get("steps"))?;
        }
        Ok(())
    }
    check(workflow.get("steps"))
}

struct Engine {
    scope: Scope,
    defaults: YamlNode,
    options: RunOptions,
    events: EventSink,
    providers: HashMap<&'static str, Arc<Provider>>,
    outputs: Vec<(String, StepOutput)>,
    mode: Mode,
    invocation: String,
    rng: rand::rngs::StdRng,
    /// The last model request answered, and by whom: a repair request
    /// continues that conversation.
    last_call: Option<(ProviderKind, &'static str, ModelRequest)>,
    /// What the model calls cost so far, shared with parallel tasks' engines.
    spent: Arc<std::sync::Mutex<Spend>>,
}

impl Engine {
    fn new(workflow: &YamlNode, options: RunOptions, events: EventSink) -> Self {
        let mut scope = Scope { inputs: options.inputs.clone(), workflow_name: str_at(workflow, "name").unwrap_or_default(), ..Default::default() };
        for entry in workflow.get("variables").map(YamlNode::entries).unwrap_or_default() {
            scope.state.insert(entry.key.clone(), entry.value.to_json());
        }
        for entry in workflow.get("inputs").map(YamlNode::entries).unwrap_or_default() {
            scope.inputs.entry(entry.key.clone()).or_insert_with(|| entry.value.get("default").map(YamlNode::to_json).unwrap_or_else(|| entry.value.to_json()));
        }
        let defaults = workflow.get("defaults").cloned().unwrap_or(YamlNode { range: 0..0, value: YamlValue::Null });
        let mode = resolve_mode(workflow, options.mode);
        Engine::with(scope, defaults, options, events, HashMap::new(), mode)
    }

    fn with(scope: Scope, defaults: YamlNode, options: RunOptions, events: EventSink, providers: HashMap<&'static str, Arc<Provider>>, mode: Mode) -> Self {
        use rand::SeedableRng;
        let invocation = serving::new_invocation();
        Engine { scope, defaults, options, events, providers, outputs: Vec::new(), mode, invocation, rng: rand::rngs::StdRng::from_os_rng(), last_call: None, spent: Arc::default() }
    }

    fn emit(&self, event: RunEvent) {
        (self.events)(event);
    }

    fn run_steps(&mut self, steps: Vec<YamlNode>) -> BoxFuture<'_, Result<(), RunError>> {
        async move {
            for step in steps {
                self.run_step(&step).await?;
            }
            Ok(())
        }
        .boxed()
    }

    async fn run_step(&mut self, step: &YamlNode) -> Result<(), RunError> {
        let name = str_at(step, "name").unwrap_or_default();
        let kind = str_at(step, "type").unwrap_or_default();
        if let Some(condition) = step.get("condition").and_then(YamlNode::as_str) {
            let expression = condition.trim().trim_start_matches("{{").trim_end_matches("}}");
            let holds = self.scope.evaluate(expression).map_err(|e| failure(&name, format!("condition: {e}")))?;
            if !truthy(&holds) {
                self.emit(RunEvent::StepSkipped { step: name });
                return Ok(());
            }
        }
        self.emit(RunEvent::StepStarted { step: name.clone(), step_type: kind.clone() });
        let started = Instant::now();
        let spent_before = self.spent();
        let (output, provider, cached, tokens) = match kind.as_str() {
            "set_variable" => (self.set_variables(step, &name)?, None, false, None),
            "for_loop" => (self.for_loop(step, &name).await?, None, false, None),
            "while_loop" => (self.while_loop(step, &name).await?, None, false, None),
            "parallel_claude" | "claude_batch" => (self.tasks(step, &name, &kind).await?, None, false, None),
            _ => {
                let prompt = self.prompt(step.get("prompt"), &name)?;
                let limit = step_timeout(step, &self.defaults);
                let call = match limit {
                    Some(limit) => tokio::time::timeout(limit, self.served_call(step, &name, &kind, prompt))
                        .await
                        .map_err(|_| failure(&name, format!("no answer within the step's limit of {} s", limit.as_secs_f64())))??,
                    None => self.served_call(step, &name, &kind, prompt).await?,
                };
                let mut output = self.postprocess(step, &name, &kind, call.text)?;
                output.stop = call.stop;
                (output, Some(call.provider), call.cached, call.tokens)
            }
        };
        self.scope.steps.insert(name.clone(), output.clone());
        self.outputs.push((name.clone(), output));
        let cost = self.spent().since(&spent_before);
        self.emit(RunEvent::StepFinished { step: name, provider, cached, elapsed: started.elapsed(), tokens, cost: (!cost.is_empty()).then_some(cost) });
        Ok(())
    }

    /// What the run's model calls cost so far.
    fn spent(&self) -> Spend {
        self.spent.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Count one model call's cost (or why it is unknown).
    fn spend(&self, cost: prices::Cost, provider: &str, model: &str) {
        if let Ok(mut spent) = self.spent.lock() {
            spent.add(cost, provider, model);
        }
    }

    /// A call's cost by the configured or list price; unknown when the
    /// model has no price or the provider did not count the tokens.
    fn price_call(&self, provider: &str, model: &str, official_api: bool, tokens: Option<(u64, u64)>) -> prices::Cost {
        prices::cost_of(prices::lookup(&self.options.providers.prices, provider, model, official_api), tokens)
    }

    /// A response's token counts as the run keeps them: absurd ones (a
    /// broken or hostile server) become unknown, with a warning.
    fn believable_tokens(&self, step: &str, provider: &str, answer: &mut ModelResponse) {
        let reported = answer.input_tokens.zip(answer.output_tokens);
        if reported.is_some() && prices::plausible_tokens(reported).is_none() {
            let (input, output) = reported.unwrap_or_default();
            self.emit(RunEvent::Warning(format!(
                "step `{step}`: {provider} reported {input} input and {output} output tokens for one call; counts over {} are not believed, so its tokens and cost are unknown",
                prices::MAX_TOKENS_PER_CALL
            )));
            answer.input_tokens = None;
            answer.output_tokens = None;
        }
    }

    /// The prompt: the items rendered and joined, as text and as a
    /// template with named inputs (see [`prompt`]).
    fn prompt(&self, prompt: Option<&YamlNode>, step: &str) -> Result<StepPrompt, RunError> {
        let mut built = StepPrompt::default();
        let add_input = |inputs: &mut serde_json::Map<String, Value>, expression: &str, value: String| {
            inputs.entry(prompt::input_name(expression)).or_insert(Value::String(value));
        };
        let mut parts = Vec::new();
        let mut templates = Vec::new();
        for item in prompt.map(YamlNode::items).unwrap_or_default() {
            let (part, template) = match str_at(item, "type").as_deref() {
                Some("static") => {
                    let content = str_at(item, "content").unwrap_or_default();
                    // Rendered as Scope::render does, keeping each value as a named input.
                    let text = substitute(&content, |expression| {
                        let value = display(&self.scope.evaluate(expression)?);
                        add_input(&mut built.inputs, expression, value.clone());
                        Ok(value)
                    })
                    .map_err(|e| failure(step, e))?;
                    (text, content)
                }
                Some("file") => {
                    let path = self.scope.render(&str_at(item, "path").unwrap_or_default()).map_err(|e| failure(step, e))?;
                    let text = read_workspace_file(&self.options.workspace, &path).map_err(|e| failure(step, e))?;
                    let expression = prompt::file_expression(&path);
                    add_input(&mut built.inputs, &expression, text.clone());
                    (text, format!("{{{{{expression}}}}}"))
                }
                Some("previous_response") => {
                    let source = str_at(item, "step").unwrap_or_default();
                    let output = self.scope.steps.get(&source).ok_or_else(|| failure(step, format!("step `{source}` has no result yet")))?;
                    let path = str_at(item, "extract");
                    let mut text = match &path {
                        Some(path) => match output.json.as_ref().and_then(|j| extract(j, path)) {
                            Some(value) => display(value),
                            None if item.get("strict").and_then(YamlNode::as_str) == Some("true") => {
                                return Err(failure(step, format!("`{path}` is not in the result of `{source}`")));
                            }
                            None => output.text.clone(),
                        },
                        None => output.text.clone(),
                    };
                    if let Some(limit) = str_at(item, "max_length").and_then(|l| l.parse::<usize>().ok()) {
                        text = text.chars().take(limit).collect();
                    }
                    let expression = prompt::response_expression(&source, path.as_deref());
                    add_input(&mut built.inputs, &expression, text.clone());
                    (text, format!("{{{{{expression}}}}}"))
                }
                Some(other) => return Err(failure(step, format!("prompt items of type `{other}` are not supported"))),
                None => continue,
            };
            parts.push(part);
            templates.push(template);
        }
        built.text = parts.join("\n\n");
        built.template = templates.join("\n\n");
        Ok(built)
    }

    fn provider(&mut self, kind: ProviderKind, name: &'static str, retries: Option<u32>) -> Arc<Provider> {
        let settings = &self.options.providers;
        let key = if retries.is_some() { "custom" } else { name };
        if let (Some(provider), None) = (self.providers.get(key), retries) {
            return provider.clone();
        }
        let mut config = ProviderConfig::from_env(kind);
        if let Some(url) = settings.base_urls.get(name) {
            config.base_url = url.clone();
        }
        if let Some(seconds) = settings.timeout_seconds {
            config.timeout = Duration::from_secs(seconds);
        }
        if let Some(max) = retries.or(settings.max_retries) {
            config.retry.max_retries = max;
        }
        let provider = Arc::new(Provider::new(config));
        if retries.is_none() {
            self.providers.insert(name, provider.clone());
        }
        provider
    }

    async fn model_call(&mut self, step: &YamlNode, name: &str, kind: &str, message: Message) -> Result<ModelCall, RunError> {
        let options = step.get("claude_options");
        for option in options.map(YamlNode::entries).unwrap_or_default().iter().filter(|e| AGENT_OPTIONS.contains(&e.key.as_str())) {
            self.emit(RunEvent::Warning(format!("step `{name}`: `claude_options.{}` is an agent option; Elexirion makes a plain model call and ignores it", option.key)));
        }
        let is_gemini = kind.starts_with("gemini");
        let chain = if is_gemini { &self.options.providers.gemini } else { &self.options.providers.claude };
        let chain: Vec<String> = if chain.is_empty() { vec![if is_gemini { "gemini" } else { "anthropic" }.to_string()] } else { chain.clone() };
        let own = options.and_then(|o| str_at(o, "system_prompt")).map(|s| match options.and_then(|o| str_at(o, "append_system_prompt")) {
            Some(extra) => format!("{s}\n\n{extra}"),
            None => s,
        });
        let system = match (own, message.system) {
            (Some(own), Some(served)) => Some(format!("{own}\n\n{served}")),
            (own, served) => own.or(served),
        };
        let (turns, prompt) = (message.turns, message.prompt);
        let (mut asked_tokens, mut temperature) = preset(step.get("preset").and_then(YamlNode::as_str).or_else(|| self.defaults.get("claude_preset").and_then(YamlNode::as_str)));
        let budget = step.get("token_budget").or_else(|| self.defaults.get("gemini_token_budget").filter(|_| is_gemini));
        if let Some(limit) = budget.and_then(|b| str_at(b, "max_output_tokens")).and_then(|v| v.parse().ok()) {
            asked_tokens = limit;
        }
        if let Some(value) = budget.and_then(|b| str_at(b, "temperature")).and_then(|v| v.parse().ok()) {
            temperature = Some(value);
        }
        let retries = (kind == "claude_robust").then(|| step.get("retry_config").and_then(|r| str_at(r, "max_retries")).and_then(|v| v.parse().ok())).flatten();
        let stream = step.get("streaming").and_then(YamlNode::as_str) == Some("true");
        let mut last_error = None;
        for provider_name in &chain {
            let (provider_kind, provider_key) = match provider_name.as_str() {
                "anthropic" => (ProviderKind::Anthropic, "anthropic"),
                "gemini" => (ProviderKind::Gemini, "gemini"),
                _ => (ProviderKind::OpenAi, "openai"),
            };
            let native = (provider_kind == ProviderKind::Gemini) == is_gemini;
            let step_model = if is_gemini {
                str_at(step, "model").or_else(|| str_at(&self.defaults, "gemini_model"))
            } else {
                options.and_then(|o| str_at(o, "model")).or_else(|| str_at(&self.defaults, "claude_model"))
            };
            let model = self.options.providers.models.get(provider_key).cloned().or(step_model.filter(|_| native)).unwrap_or_else(|| default_model(provider_kind).to_string());
            let model = model_alias(&model);
            let budget = output_limits::budget(asked_tokens, &model, prompt.len());
            let request = ModelRequest { model, system: system.clone(), turns: turns.clone(), prompt: prompt.clone(), max_tokens: budget.max_tokens, temperature, stream };
            let cache_key = cache::key(provider_key, &request);
            let cached = self.options.cache_dir.as_deref().filter(|_| !self.options.fresh).and_then(|dir| cache::read(dir, &cache_key));
            if let Some(text) = cached {
                // A repair request continues this conversation, cached or not.
                self.last_call = Some((provider_kind, provider_key, request.clone()));
                // A cached answer made no request: it cost nothing.
                self.spend(Ok(0.0), provider_key, &request.model);
                return Ok(ModelCall { text, provider: provider_key.to_string(), model: request.model, cached: true, tokens: None, stop: Stop::Complete, cost: Some(0.0) });
            }
            if let Some(wanted) = budget.short_of {
                self.emit(RunEvent::Warning(format!(
                    "step `{name}`: returning its prompt whole would take about {wanted} tokens, but {} writes at most {}; the file is probably too large to come back whole and the answer may be cut off (ask for a diff instead)",
                    request.model, budget.max_tokens
                )));
            }
            let provider = self.provider(provider_kind, provider_key, retries);
            match provider.complete(&request).await {
                Ok(mut answer) => {
                    self.last_call = Some((provider_kind, provider_key, request.clone()));
                    self.believable_tokens(name, provider_key, &mut answer);
                    let cost = self.price_call(provider_key, &request.model, provider.is_official_api(), answer.input_tokens.zip(answer.output_tokens));
                    // Paid for even when the answer is then refused (cut off).
                    self.spend(cost, provider_key, &request.model);
                    return self.accept(name, provider_key, request, &cache_key, answer).map(|call| ModelCall { cost: cost.ok(), ..call });
                }
                Err(error) if falls_back(&error) => {
                    self.emit(RunEvent::Warning(format!("step `{name}`: {provider_key} failed ({error}); trying the next provider")));
                    last_error = Some((provider_key, error));
                }
                Err(error) => return Err(RunError { step: Some(name.to_string()), provider: Some(provider_key.to_string()), message: error.to_string() }),
            }
        }
        let (provider, error) = last_error.expect("the chain has at least one provider");
        Err(RunError { step: Some(name.to_string()), provider: Some(provider.to_string()), message: error.to_string() })
    }

    /// An answer the model gave: cached when complete; cut off at the
    /// output limit, a failure (it would read as a broken answer).
    fn accept(&self, name: &str, provider: &str, request: ModelRequest, cache_key: &str, answer: ModelResponse) -> Result<ModelCall, RunError> {
        match &answer.stop {
            Stop::OutputLimit => {
                let limit = request.max_tokens;
                let message = format!("the answer was cut off at the output limit of {limit} tokens, so it was not used; ask for a diff instead of the whole file, or for less");
                return Err(RunError { step: Some(name.to_string()), provider: Some(provider.to_string()), message });
            }
            Stop::Other(reason) => self.emit(RunEvent::Warning(format!("step `{name}`: {provider} stopped the answer early ({reason}); it may be incomplete and is not cached"))),
            Stop::Complete => {
                if let Some(dir) = self.options.cache_dir.as_deref() {
                    if let Err(error) = cache::write(dir, cache_key, &answer.text) {
                        self.emit(RunEvent::Warning(format!("could not cache the answer of `{name}`: {error}")));
                    }
                }
            }
        }
        let tokens = answer.input_tokens.zip(answer.output_tokens);
        Ok(ModelCall { text: answer.text, provider: provider.to_string(), model: request.model, cached: false, tokens, stop: answer.stop, cost: None })
    }

    /// claude_extract and gemini_instructor shape the answer.
    fn postprocess(&self, step: &YamlNode, name: &str, kind: &str, text: String) -> Result<StepOutput, RunError> {
        match kind {
            "claude_extract" => {
                let format = step.get("extraction_config").and_then(|c| str_at(c, "format")).unwrap_or_else(|| "text".into());
                match format.as_str() {
                    "json" | "structured" => values::find_json(&text).map(StepOutput::from_json).ok_or_else(|| failure(name, "the answer holds no JSON")),
                    "code" => Ok(StepOutput::from_text(values::fenced_block(&text, &["elixir", "ex", "exs", "json", "yaml", ""]).map(str::to_string).unwrap_or(text))),
                    _ => Ok(StepOutput::from_text(text)),
                }
            }
            "gemini_instructor" => {
                let json = values::find_json(&text).ok_or_else(|| failure(name, "the answer holds no JSON"))?;
                if let Some(schema) = step.get("schema").map(YamlNode::to_json) {
                    let validator = jsonschema::validator_for(&schema).map_err(|e| failure(name, format!("its `schema` is not a valid JSON Schema: {e}")))?;
                    let problem = validator.iter_errors(&json).next().map(|e| format!("{e} (at `{}`)", e.instance_path()));
                    if let Some(problem) = problem {
                        return Err(failure(name, format!("the answer does not match its schema: {problem}")));
                    }
                }
                Ok(StepOutput::from_json(json))
            }
            _ => Ok(StepOutput::from_text(text)),
        }
    }

    fn set_variables(&mut self, step: &YamlNode, name: &str) -> Result<StepOutput, RunError> {
        let mut set = serde_json::Map::new();
        for entry in step.get("variables").map(YamlNode::entries).unwrap_or_default() {
            let value = match &entry.value.value {
                YamlValue::Scalar(s) if s.text.contains("{{") => {
                    let inner = s.text.trim();
                    if inner.starts_with("{{") && inner.ends_with("}}") && inner.matches("{{").count() == 1 {
                        self.scope.evaluate(&inner[2..inner.len() - 2]).map_err(|e| failure(name, e))?
                    } else {
                        Value::String(self.scope.render(&s.text).map_err(|e| failure(name, e))?)
                    }
                }
                _ => entry.value.to_json(),
            };
            self.scope.state.insert(entry.key.clone(), value.clone());
            set.insert(entry.key.clone(), value);
        }
        Ok(StepOutput::from_json(Value::Object(set)))
    }

    async fn for_loop(&mut self, step: &YamlNode, name: &str) -> Result<StepOutput, RunError> {
        let iterator = str_at(step, "iterator").unwrap_or_else(|| "item".into());
        let items: Vec<Value> = match step.get("data_source") {
            Some(node) if matches!(node.value, YamlValue::Seq(_)) => node.items().iter().map(YamlNode::to_json).collect(),
            Some(node) => {
                let source = node.as_str().unwrap_or_default().trim().trim_start_matches("{{").trim_end_matches("}}").trim().to_string();
                if let Some(pattern) = source.strip_prefix("glob:").or_else(|| source.contains('*').then_some(source.as_str())) {
                    glob_workspace(&self.options.workspace, pattern).map_err(|e| failure(name, e))?
                } else {
                    match self.scope.evaluate(&source).map_err(|e| failure(name, e))? {
                        Value::Array(items) => items,
                        other => return Err(failure(name, format!("`data_source` must give a list, not {other}"))),
                    }
                }
            }
            None => return Err(failure(name, "a for_loop needs `data_source`")),
        };
        let steps = step.get("steps").map(|s| s.items().to_vec()).unwrap_or_default();
        let mut results = Vec::new();
        for (index, item) in items.into_iter().enumerate() {
            self.scope.loop_vars.insert(iterator.clone(), item);
            self.scope.loop_vars.insert("index".into(), json!(index));
            self.run_steps(steps.clone()).await?;
            results.push(self.outputs.last().map(|(_, o)| o.value()).unwrap_or(Value::Null));
        }
        self.scope.loop_vars.clear();
        Ok(StepOutput::from_json(Value::Array(results)))
    }

    async fn while_loop(&mut self, step: &YamlNode, name: &str) -> Result<StepOutput, RunError> {
        let condition = str_at(step, "condition").unwrap_or_default();
        let expression = condition.trim().trim_start_matches("{{").trim_end_matches("}}").to_string();
        let limit: usize = str_at(step, "max_iterations").and_then(|m| m.parse().ok()).unwrap_or(10);
        let steps = step.get("steps").map(|s| s.items().to_vec()).unwrap_or_default();
        let mut iterations = 0;
        while iterations < limit && truthy(&self.scope.evaluate(&expression).map_err(|e| failure(name, format!("condition: {e}")))?) {
            self.scope.loop_vars.insert("iteration".into(), json!(iterations));
            self.run_steps(steps.clone()).await?;
            iterations += 1;
        }
        Ok(StepOutput::from_json(json!({ "iterations": iterations })))
    }

    /// parallel_claude and claude_batch: tasks run concurrently, at most
    /// `max_parallel` at once (default 4).
    async fn tasks(&mut self, step: &YamlNode, name: &str, kind: &str) -> Result<StepOutput, RunError> {
        let (list, id_key) = if kind == "parallel_claude" { ("parallel_tasks", "id") } else { ("tasks", "task_id") };
        let bound = step.get("batch_config").and_then(|c| str_at(c, "max_parallel")).and_then(|m| m.parse().ok()).unwrap_or(4usize).max(1);
        let mut prepared = Vec::new();
        for (index, task) in step.get(list).map(YamlNode::items).unwrap_or_default().iter().enumerate() {
            let id = str_at(task, id_key).unwrap_or_else(|| format!("task_{index}"));
            let prompt = match task.get("prompt") {
                Some(node) if node.as_str().is_some() => self.scope.render(node.as_str().unwrap_or_default()).map_err(|e| failure(name, e))?,
                other => self.prompt(other, name)?.text,
            };
            // Each task runs as a claude step of its own (its options, the step's preset).
            let mut task_step = task.clone();
            if let (YamlValue::Map(entries), Some(preset)) = (&mut task_step.value, step.entry("preset")) {
                entries.push(preset.clone());
            }
            prepared.push((id, task_step, prompt));
        }
        let mut engines = Vec::new();
        for (id, task_step, prompt) in prepared {
            let mut engine = Engine::with(Scope::default(), self.defaults.clone(), self.options.clone(), self.events.clone(), self.providers.clone(), Mode::Traditional);
            engine.spent = self.spent.clone();
            let step_name = format!("{name}.{id}");
            engines.push(async move {
                let call = engine.model_call(&task_step, &step_name, "claude", Message::plain(prompt)).await?;
                Ok::<_, RunError>((id, call.text))
            });
        }
        let results: Vec<Result<(String, String), RunError>> = futures::stream::iter(engines).buffer_unordered(bound).collect().await;
        let mut object = serde_json::Map::new();
        for result in results {
            let (id, text) = result?;
            object.insert(id, Value::String(text));
        }
        Ok(StepOutput::from_json(Value::Object(object)))
    }
}

struct ModelCall {
    text: String,
    provider: String,
    model: String,
    cached: bool,
    tokens: Option<(u64, u64)>,
    stop: Stop,
    /// In dollars; `None`: unknown (no price, or no token counts).
    cost: Option<f64>,
}

/// What is sent: a system message (besides the step's own), earlier turns, the prompt.
struct Message {
    system: Option<String>,
    turns: Vec<super::providers::Turn>,
    prompt: String,
}

impl Message {
    fn plain(prompt: String) -> Self {
        Message { system: None, turns: Vec::new(), prompt }
    }
}

impl From<chat_adapter::Rendered> for Message {
    fn from(rendered: chat_adapter::Rendered) -> Self {
        Message { system: Some(rendered.system), turns: rendered.turns, prompt: rendered.prompt }
    }
}

/// A step's prompt, rendered and as a template over named inputs.
#[derive(Clone, Debug, Default)]
pub(crate) struct StepPrompt {
    text: String,
    template: String,
    inputs: serde_json::Map<String, Value>,
}

/// Errors after which the next provider in the chain is worth a try.
fn falls_back(error: &ProviderError) -> bool {
    matches!(error, ProviderError::MissingKey(_)) || error.is_retryable()
}

/// `claude_options.timeout_ms`, else `defaults.timeout_seconds`.
fn step_timeout(step: &YamlNode, defaults: &YamlNode) -> Option<Duration> {
    let millis = step.get("claude_options").and_then(|o| str_at(o, "timeout_ms")).and_then(|t| t.parse().ok()).map(Duration::from_millis);
    millis.or_else(|| str_at(defaults, "timeout_seconds").and_then(|t| t.parse().ok()).map(Duration::from_secs))
}

fn str_at(node: &YamlNode, key: &str) -> Option<String> {
    node.get(key).and_then(YamlNode::as_str).map(str::to_string)
}

/// claude_smart presets: (max tokens, temperature).
fn preset(name: Option<&str>) -> (u32, Option<f64>) {
    match name {
        Some("development") => (4096, Some(0.7)),
        Some("production") => (2048, Some(0.2)),
        Some("analysis") => (4096, Some(0.0)),
        Some("chat") => (1024, Some(0.7)),
        Some("test") => (256, Some(0.0)),
        _ => (4096, None),
    }
}

fn default_model(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Anthropic => "claude-sonnet-4-5",
        ProviderKind::Gemini => "gemini-2.5-flash",
        ProviderKind::OpenAi => "gpt-4o-mini",
    }
}

/// pipeline_ex's short Claude model names.
fn model_alias(model: &str) -> String {
    match model {
        "sonnet" => "claude-sonnet-4-5".into(),
        "opus" => "claude-opus-4-1".into(),
        "haiku" => "claude-haiku-4-5".into(),
        other => other.into(),
    }
}

/// A file in the workspace; paths that leave it, by `..` or a symlink, are refused.
fn read_workspace_file(workspace: &Path, path: &str) -> Result<String, String> {
    let real = crate::workspace::resolve_inside(workspace, Path::new(path))?;
    std::fs::read_to_string(real).map_err(|e| format!("cannot read `{path}`: {e}"))
}

/// Workspace files matching a glob, as relative paths.
fn glob_workspace(workspace: &Path, pattern: &str) -> Result<Vec<Value>, String> {
    let matcher = globset::Glob::new(pattern.trim()).map_err(|e| format!("bad glob `{pattern}`: {e}"))?.compile_matcher();
    let mut found: Vec<String> = ignore::WalkBuilder::new(workspace)
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .filter_map(|e| e.path().strip_prefix(workspace).ok().map(|p| p.to_string_lossy().replace('\\', "/")))
        .filter(|p| matcher.is_match(p))
        .collect();
    found.sort();
    Ok(found.into_iter().map(Value::String).collect())
}
