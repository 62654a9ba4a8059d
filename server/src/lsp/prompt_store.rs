//! The optimization store in the editor: opened on first use at the
//! configured path, it serves pipeline runs, shows on hover which prompt
//! version a step runs with, answers `elexirion/optimizedPrompt`, offers to
//! write a stored version into the YAML, and learns from the user: an
//! applied refactor is an accepted example, a refused or undone one a
//! rejected example, `elexirion.recordVerdict` anything else. Each AI edit
//! is remembered by the document it changed (the test file, for generated
//! tests), so a verdict given from a document judges the run that edited
//! that document, or says that none did.

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
use crate::store::examples::{Judgment, Verdict};
use crate::store::select::{self, Mode};
use crate::store::{OpenError, PromptVersion, Store};

pub const VERDICT: &str = "elexirion.recordVerdict";
pub const LAST_EDIT: &str = "elexirion.lastAiEdit";
pub const OPTIMIZED_PROMPT: &str = "elexirion/optimizedPrompt";

/// The store as opened for a path (reopened when the configured path changes).
#[derive(Default)]
pub struct StoreSlot {
    path: Option<PathBuf>,
    store: Option<SharedStore>,
}

/// The AI edit the user applied to a document, until they undo it or
/// close the document.
pub struct Applied {
    invocation: String,
    pipeline: String,
    /// The document the pipeline ran on (the module, when it wrote its tests).
    source: Uri,
    /// The edited document's text before the edit, to notice an undo.
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
        // What optimized mode really serves: the evidence rule, else the written prompt.
        Mode::Optimized => select::by_evidence(&versions).or_else(|| select::manual(&versions)),
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

/// Give a verdict on a run (its result's step, or `step`).
fn judge(state: &State, invocation: &str, step: Option<&str>, verdict: Verdict, final_text: Option<&str>) -> Result<Judgment, String> {
    let store = store(state).0.ok_or("the optimization store is off")?;
    let mut store = store.lock().map_err(|_| "the store is unavailable".to_string())?;
    store.judge(invocation, step, verdict, final_text).map_err(|e| e.to_string())
}

/// A refactor was applied to `edited` (the document it changed, which is
/// not `source` when a pipeline writes tests): accepted, and remembered
/// for that document, to notice an undo and to judge it later.
pub fn applied(state: &State, edited: &Uri, source: &Uri, pipeline: &str, invocation: &str, before: &str) {
    if let Err(problem) = judge(state, invocation, None, Verdict::Accepted, None) {
        tracing::warn!("could not record the accepted run: {problem}");
    }
    let applied = Applied { invocation: invocation.to_string(), pipeline: pipeline.to_string(), source: source.clone(), before: fingerprint(before) };
    state.applied().insert(edited.clone(), applied);
}

/// A refactor the user refused in review.
pub fn refused(state: &State, invocation: &str) {
    if let Err(problem) = judge(state, invocation, None, Verdict::Rejected, None) {
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
        if let Err(problem) = judge(state, &applied.invocation, None, Verdict::Rejected, None) {
            tracing::warn!("could not record the undone run: {problem}");
        }
    }
}

fn uri_argument(argument: &Value) -> Result<Option<Uri>, String> {
    match argument["uri"].as_str() {
        Some(uri) => uri.parse().map(Some).map_err(|_| format!("`{uri}` is not a URI")),
        None => Ok(None),
    }
}

/// A document as the user knows it: its path in the workspace.
fn display(state: &State, uri: &Uri) -> String {
    let path = uri.to_file_path().map(|p| p.into_owned());
    match (path, state.root()) {
        (Some(path), Some(root)) => path.strip_prefix(&root).unwrap_or(&path).display().to_string(),
        (Some(path), None) => path.display().to_string(),
        (None, _) => uri.as_str().to_string(),
    }
}

/// Why a document has no AI edit to judge, pointing at the document that
/// has one when a run from this document edited another (generated tests).
fn no_edit(state: &State, uri: &Uri) -> String {
    let mut message = format!("no AI edit was applied to {} in this session, so there is nothing of it to judge", display(state, uri));
    let elsewhere = state.applied().iter().find(|(edited, a)| a.source == *uri && *edited != uri).map(|(edited, a)| (edited.clone(), a.pipeline.clone()));
    if let Some((edited, pipeline)) = elsewhere {
        message.push_str(&format!("; the {pipeline} run from it edited {}: judge it from there", display(state, &edited)));
    }
    message
}

/// `elexirion.lastAiEdit {uri}`: the run whose edit was applied to this
/// document, `{runId, pipeline, step, verdict, startedAt, file}`, or
/// `{runId: null, message}` saying why there is none.
pub fn last_edit_command(state: &State, arguments: &[Value]) -> Result<Value, String> {
    let argument = arguments.first().ok_or("expected one argument {uri}")?;
    let uri = uri_argument(argument)?.ok_or("`uri` (a string) is required")?;
    let tracked = state.applied().get(&uri).map(|a| (a.invocation.clone(), a.pipeline.clone()));
    let Some((invocation, pipeline)) = tracked else {
        return Ok(json!({ "runId": null, "message": no_edit(state, &uri) }));
    };
    let (step, verdict, started_at) = match existing_store(state).0 {
        Some(store) => {
            let store = store.lock().map_err(|_| "the store is unavailable".to_string())?;
            let judged = store.verdict_of(&invocation, None)?;
            let started_at = store.run(&invocation)?.map(|r| r.started_at);
            (judged.as_ref().map(|(step, _)| step.clone()), judged.and_then(|(_, v)| v), started_at)
        }
        None => (None, None, None),
    };
    Ok(json!({
        "runId": invocation,
        "pipeline": pipeline,
        "step": step,
        "verdict": verdict.map(Verdict::name),
        "startedAt": started_at,
        "file": display(state, &uri),
    }))
}

/// `elexirion.recordVerdict {uri | invocation, verdict, finalText?, step?}`:
/// an explicit verdict. With `uri`, on the run whose edit was applied to
/// that document (refused when there is none, or when `invocation` names
/// another run); `edited` without `finalText` takes the document's text.
pub fn verdict_command(state: &State, arguments: &[Value]) -> Result<Value, String> {
    let argument = arguments.first().ok_or("expected one argument {invocation | uri, verdict, finalText?, step?}")?;
    let verdict = argument["verdict"].as_str().and_then(Verdict::parse).ok_or("`verdict` must be accepted, rejected or edited")?;
    let uri = uri_argument(argument)?;
    let tracked = match &uri {
        Some(uri) => {
            // Looked up apart: `no_edit` takes the same lock.
            let invocation = state.applied().get(uri).map(|a| a.invocation.clone());
            Some(invocation.ok_or_else(|| no_edit(state, uri))?)
        }
        None => None,
    };
    let invocation = match (argument["invocation"].as_str(), tracked) {
        (Some(asked), Some(tracked)) if asked != tracked => {
            return Err(format!("the last AI edit of this document is run {tracked}, not run {asked}; nothing was judged"));
        }
        (_, Some(tracked)) => tracked,
        (Some(asked), None) => asked.to_string(),
        (None, None) => return Err("give `invocation` or `uri`".into()),
    };
    let document_text = || uri.as_ref().and_then(|uri| state.documents().get(uri).map(|d| d.text().to_string()));
    let final_text = match argument["finalText"].as_str() {
        Some(text) => Some(text.to_string()),
        None if verdict == Verdict::Edited => document_text(),
        None => None,
    };
    // An edited result without the user's text would teach the model's own answer.
    if verdict == Verdict::Edited && final_text.is_none() {
        return Err("an `edited` verdict needs the final text: give `finalText`, or `uri` of an open document".into());
    }
    let judgment = judge(state, &invocation, argument["step"].as_str(), verdict, final_text.as_deref())?;
    Ok(json!({
        "invocation": invocation,
        "judged": 1,
        "step": judgment.step,
        "previous": judgment.previous.map(Verdict::name),
        "verdict": judgment.verdict.name(),
        "message": format!("{}: {}", judgment.run.describe(), judgment.change()),
    }))
}
