//! The optimization store in the editor: opened on first use at the
//! configured path, it serves pipeline runs, shows on hover which prompt
//! version a step runs with, answers `elexirion/optimizedPrompt`, offers to
//! write a stored version into the YAML, and learns from the user: an
//! applied refactor is an accepted example, a refused or undone one a
//! rejected example, `elexirion.recordVerdict` anything else.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tower_lsp_server::ls_types::{self as lsp, CodeAction, CodeActionKind, CodeActionOrCommand, TextEdit, Uri, WorkspaceEdit};

use super::convert;
use super::state::State;
use crate::document::DocumentKind;
use crate::pipeline::optimized_prompt;
use crate::pipeline::run::{chat_adapter, SharedStore};
use crate::store::examples::Verdict;
use crate::store::select::{self, Mode};
use crate::store::{OpenError, PromptVersion, Store};

pub const VERDICT: &str = "elexirion.recordVerdict";
pub const OPTIMIZED_PROMPT: &str = "elexirion/optimizedPrompt";

/// The store as opened for a path (reopened when the configured path changes).
#[derive(Default)]
pub struct StoreSlot {
    path: Option<PathBuf>,
    store: Option<SharedStore>,
}

/// A refactor the user applied, until they undo it or close the file.
pub struct Applied {
    invocation: String,
    before: (usize, u64),
}

fn fingerprint(text: &str) -> (usize, u64) {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    (text.len(), hasher.finish())
}

/// The workspace's store, and a warning to show when it had to be moved
/// aside or cannot be opened. `None` without a workspace or when disabled.
pub fn store(state: &State) -> (Option<SharedStore>, Option<String>) {
    open_store(state, true)
}

/// The store only if it exists already: looking (hover, code actions)
/// does not create one in the user's workspace.
fn existing_store(state: &State) -> (Option<SharedStore>, Option<String>) {
    open_store(state, false)
}

fn open_store(state: &State, create: bool) -> (Option<SharedStore>, Option<String>) {
    let settings = state.config().store;
    let Some(root) = state.root().filter(|_| settings.enabled) else { return (None, None) };
    let path = match settings.resolve(&root) {
        Ok(path) => path,
        Err(refused) => return (None, Some(format!("{refused}; pipelines run with their own prompts and nothing is recorded"))),
    };
    let mut slot = state.store_slot();
    if slot.path.as_ref() == Some(&path) {
        return (slot.store.clone(), None);
    }
    if !create && !path.exists() {
        return (None, None);
    }
    let (store, warning) = match Store::open(&path) {
        Ok(opened) => (Some(Arc::new(Mutex::new(opened.store))), opened.warning),
        // Not remembered: the next run tries again once the lock is gone.
        Err(busy @ OpenError::Busy(_)) => return (None, Some(format!("{busy}; this run is not recorded"))),
        Err(problem) => (None, Some(format!("the optimization store cannot be used ({problem}); pipelines run with their own prompts"))),
    };
    *slot = StoreSlot { path: Some(path), store: store.clone() };
    (store, warning)
}

fn versions(store: &SharedStore, pipeline: &str, step: &str) -> Vec<PromptVersion> {
    store.lock().ok().and_then(|s| s.versions(pipeline, Some(step)).ok()).unwrap_or_default()
}

/// What hover adds on a step's name: the version the configured mode
/// serves (the best one for hybrid, which varies) and its record.
pub fn hover_section(state: &State, source: &str, offset: usize) -> Option<String> {
    let root = crate::pipeline::yaml::parse(source).root?;
    let workflow = crate::pipeline::outline::workflow(&root)?;
    let pipeline = workflow.get("name")?.as_str()?.to_string();
    let step = crate::pipeline::outline::step_name_at(workflow, source, offset)?;
    let store = existing_store(state).0?;
    let versions = versions(&store, &pipeline, &step);
    let mode = crate::pipeline::run::resolve_mode(workflow, state.config().store.mode);
    let served = match mode {
        Mode::Traditional | Mode::Evaluation => select::manual(&versions),
        Mode::Optimized => select::optimized(&versions).or_else(|| select::manual(&versions)),
        Mode::Hybrid => select::best(&versions),
    };
    let Some(version) = served else {
        return Some(format!("---\n**Prompt store** ({} mode): no stored version of `{step}` yet; it runs with the prompt written here.", mode.name()));
    };
    let r = &version.record;
    let judged = r.successes() + r.rejected;
    let rate = if judged == 0 { "not judged yet".to_string() } else { format!("{} of {judged} accepted", r.successes()) };
    let hybrid = if mode == Mode::Hybrid { " (the best so far; hybrid mode also tries the others)" } else { "" };
    Some(format!(
        "---\n**Prompt store** ({} mode): version {} ({}){hybrid}, {} demos, {} of {} stored versions.\n\n{} runs, {rate}, {} failed, mean latency {:.0} ms, {} tokens in / {} out.",
        mode.name(),
        version.id,
        version.version.source,
        version.version.demos.len(),
        versions.iter().position(|v| v.id == version.id).map_or(0, |i| i + 1),
        versions.len(),
        r.runs,
        r.errors,
        r.mean_latency_ms,
        r.input_tokens,
        r.output_tokens
    ))
}

/// `elexirion/optimizedPrompt {pipeline, step}`: the version optimized mode
/// serves, rendered; `null` when the store has none.
pub fn optimized_prompt(state: &State, params: &Value) -> Result<Value, String> {
    let pipeline = params["pipeline"].as_str().ok_or("`pipeline` (a string) is required")?;
    let step = params["step"].as_str().ok_or("`step` (a string) is required")?;
    let (store, warning) = existing_store(state);
    let Some(store) = store else {
        return match warning {
            Some(warning) => Err(warning),
            None => Ok(Value::Null),
        };
    };
    let versions = versions(&store, pipeline, step);
    let Some(best) = select::optimized(&versions) else { return Ok(Value::Null) };
    Ok(json!({
        "pipeline": pipeline,
        "step": step,
        "version": best.id,
        "source": best.version.source,
        "createdAt": best.created_at,
        "notes": best.version.notes,
        "demos": best.version.demos.len(),
        "record": best.record,
        "prompt": chat_adapter::preview(&best.version),
    }))
}

/// On a step of a pipeline file: write the best stored version into the YAML.
pub fn code_actions(state: &State, uri: &Uri, range: lsp::Range) -> Vec<CodeActionOrCommand> {
    let (rope, source) = {
        let documents = state.documents();
        let Some(document) = documents.get(uri).filter(|d| d.kind() == DocumentKind::Pipeline) else { return Vec::new() };
        (document.text().clone(), document.text().to_string())
    };
    let encoding = state.encoding();
    let offset = crate::document::byte_offset(&rope, convert::text_position(range.start), encoding);
    let Some((pipeline, step, node)) = optimized_prompt::step_at(&source, offset) else { return Vec::new() };
    let Some(store) = existing_store(state).0 else { return Vec::new() };
    let versions = versions(&store, &pipeline, &step);
    let Some(best) = select::optimized(&versions) else { return Vec::new() };
    let Some(prompt) = node.get("prompt") else { return Vec::new() };
    let Ok(text) = optimized_prompt::static_text(&best.version, &optimized_prompt::step_inputs(prompt)) else { return Vec::new() };
    let Some((replaced, new_text)) = optimized_prompt::replace_prompt(&source, &node, &text) else { return Vec::new() };
    let edit = TextEdit { range: convert::lsp_range(&rope, &replaced, encoding), new_text };
    vec![CodeActionOrCommand::CodeAction(CodeAction {
        title: format!("Use the optimized prompt for `{step}` (version {}, {})", best.id, best.version.source),
        kind: Some(CodeActionKind::REFACTOR_REWRITE),
        edit: Some(WorkspaceEdit { changes: Some(HashMap::from([(uri.clone(), vec![edit])])), ..Default::default() }),
        ..Default::default()
    })]
}

/// Give a verdict on a run, from a store already opened.
fn judge(state: &State, invocation: &str, verdict: Verdict, final_text: Option<&str>) -> Result<usize, String> {
    let store = store(state).0.ok_or("the optimization store is off")?;
    let mut store = store.lock().map_err(|_| "the store is unavailable".to_string())?;
    store.set_verdict(invocation, verdict, final_text)
}

/// A refactor was applied: accepted, and watched for an undo.
pub fn applied(state: &State, uri: &Uri, invocation: &str, before: &str) {
    if let Err(problem) = judge(state, invocation, Verdict::Accepted, None) {
        tracing::warn!("could not record the accepted run: {problem}");
    }
    state.applied().insert(uri.clone(), Applied { invocation: invocation.to_string(), before: fingerprint(before) });
}

/// A refactor the user refused in review.
pub fn refused(state: &State, invocation: &str) {
    if let Err(problem) = judge(state, invocation, Verdict::Rejected, None) {
        tracing::warn!("could not record the refused run: {problem}");
    }
}

/// After a change: a document back to its text before an applied refactor
/// means the refactor was undone, which rejects it.
pub fn check_undo(state: &State, uri: &Uri) {
    let (length, hash) = match state.applied().get(uri) {
        Some(applied) => applied.before,
        None => return,
    };
    let text = match state.documents().get(uri) {
        Some(document) if document.text().len_bytes() == length => document.text().to_string(),
        _ => return,
    };
    if fingerprint(&text) != (length, hash) {
        return;
    }
    if let Some(applied) = state.applied().remove(uri) {
        tracing::info!(invocation = applied.invocation.as_str(), "an applied pipeline edit was undone; recorded as rejected");
        if let Err(problem) = judge(state, &applied.invocation, Verdict::Rejected, None) {
            tracing::warn!("could not record the undone run: {problem}");
        }
    }
}

/// `elexirion.recordVerdict {invocation | uri, verdict, finalText?}`: an
/// explicit verdict, e.g. "accepted after edits" with the final text.
pub fn verdict_command(state: &State, arguments: &[Value]) -> Result<Value, String> {
    let argument = arguments.first().ok_or("expected one argument {invocation | uri, verdict, finalText?}")?;
    let verdict = argument["verdict"].as_str().and_then(Verdict::parse).ok_or("`verdict` must be accepted, rejected or edited")?;
    let invocation = match (argument["invocation"].as_str(), argument["uri"].as_str()) {
        (Some(invocation), _) => invocation.to_string(),
        (None, Some(uri)) => {
            let uri: Uri = uri.parse().map_err(|_| format!("`{uri}` is not a URI"))?;
            state.applied().get(&uri).map(|a| a.invocation.clone()).ok_or("no pipeline edit was applied to that document")?
        }
        (None, None) => return Err("give `invocation` or `uri`".into()),
    };
    let judged = judge(state, &invocation, verdict, argument["finalText"].as_str())?;
    Ok(json!({ "invocation": invocation, "judged": judged }))
}
