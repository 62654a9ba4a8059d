//! AI pipelines in the editor: offered as code actions, run through
//! `workspace/executeCommand` with cancellable `$/progress`; analysis
//! results become diagnostics anchored by snippet, refactor results a
//! `workspace/applyEdit` the user can undo.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use tower_lsp_server::ls_types::{
    self as lsp, ChangeAnnotation, CodeAction, CodeActionKind, CodeActionOrCommand, Command, CreateFile, DocumentChangeOperation,
    DocumentChanges, MessageType, NumberOrString, OneOf, OptionalVersionedTextDocumentIdentifier, ProgressToken, ResourceOp,
    TextDocumentEdit, TextEdit, Uri, WorkspaceEdit,
};
use tower_lsp_server::Client;

use super::state::State;
use super::{convert, diagnostics};
use crate::document::DocumentKind;
use crate::finding::Severity;
use crate::pipeline::editor::{self, EditorBlock, Kind, WritesTo};
use crate::pipeline::on_file::{self, FileOutcome, FileRequest, Prepared, ProposedEdit, Proposal};
use crate::pipeline::outcome::{self, Anchoring, ModelFinding};
use crate::pipeline::run::{self, RunEvent, RunOptions};
use crate::workspace::resolve_inside;

pub const RUN: &str = "elexirion.runPipeline";
pub const CLEAR: &str = "elexirion.clearPipelineDiagnostics";

/// The pipelines Elexirion ships, built into the binary.
const SHIPPED: &[&str] = &[
    include_str!("../../../pipelines/otp_review.yaml"),
    include_str!("../../../pipelines/fix_otp_antipatterns.yaml"),
    include_str!("../../../pipelines/explain_module.yaml"),
    include_str!("../../../pipelines/generate_tests.yaml"),
    include_str!("../../../pipelines/add_specs_and_docs.yaml"),
];

/// A finding from an analysis pipeline, kept until its snippet disappears.
#[derive(Clone, Debug)]
pub struct PipelineFinding {
    pub pipeline: String,
    pub finding: ModelFinding,
    /// It quoted code that was in the file when it was made.
    pub was_anchored: bool,
}

fn by_snippet(how: Anchoring) -> bool {
    matches!(how, Anchoring::Exact | Anchoring::IgnoringWhitespace)
}

/// Every pipeline with an editor block: ours, then the workspace's
/// (`pipelines/*.yaml` and files matching `[pipelines] globs`), which
/// replace ours of the same name.
pub fn pipelines(root: Option<&Path>, globs: Option<&globset::GlobSet>) -> Vec<(String, EditorBlock)> {
    // Ours never change while the server runs: parsed once, not per request
    // (editors ask for code actions at nearly every cursor move).
    static PARSED: std::sync::OnceLock<Vec<(String, EditorBlock)>> = std::sync::OnceLock::new();
    let shipped = PARSED.get_or_init(|| SHIPPED.iter().filter_map(|s| Some((s.to_string(), editor::editor_block(s)?))).collect());
    let mut found = shipped.clone();
    let directory = root.map(|r| r.join("pipelines"));
    let mut files: Vec<PathBuf> = directory
        .and_then(|d| std::fs::read_dir(d).ok())
        .map(|entries| entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml")).collect())
        .unwrap_or_default();
    if let (Some(root), Some(globs)) = (root, globs.filter(|g| !g.is_empty())) {
        let walk = ignore::WalkBuilder::new(root).max_depth(Some(6)).build();
        files.extend(walk.flatten().map(|e| e.into_path()).filter(|p| p.strip_prefix(root).is_ok_and(|r| globs.is_match(r))));
    }
    files.sort();
    files.dedup();
    for file in files {
        let Ok(source) = std::fs::read_to_string(&file) else { continue };
        let Some(block) = editor::editor_block(&source) else { continue };
        found.retain(|(_, existing)| existing.name != block.name);
        found.push((source, block));
    }
    found
}

/// The pipelines that apply to a document and range, as commands.
pub fn code_actions(state: &State, uri: &Uri, range: lsp::Range, only: Option<&[CodeActionKind]>) -> Vec<CodeActionOrCommand> {
    let Some(kind) = state.documents().get(uri).map(|d| d.kind()) else { return Vec::new() };
    let language = match kind {
        DocumentKind::Elixir => "elixir",
        _ => return Vec::new(),
    };
    let has_selection = range.start != range.end;
    let globs = state.config().pipelines.matcher().ok();
    pipelines(state.root().as_deref(), globs.as_ref())
        .into_iter()
        .filter(|(_, block)| block.languages.is_empty() || block.languages.iter().any(|l| l == language))
        .filter(|(_, block)| block.scope != "selection" || has_selection)
        .filter_map(|(_, block)| {
            let action_kind = match block.kind {
                Kind::Refactor => CodeActionKind::REFACTOR_REWRITE,
                Kind::Analysis | Kind::Explanation => CodeActionKind::from("source.elexirion"),
            };
            let wanted = only.is_none_or(|only| only.iter().any(|o| action_kind.as_str().starts_with(o.as_str())));
            wanted.then(|| {
                CodeActionOrCommand::CodeAction(CodeAction {
                    title: block.title.clone(),
                    kind: Some(action_kind),
                    command: Some(Command {
                        title: block.title.clone(),
                        command: RUN.to_string(),
                        arguments: Some(vec![json!({ "pipeline": block.name, "uri": uri.as_str(), "range": range })]),
                    }),
                    ..Default::default()
                })
            })
        })
        .collect()
}

/// Pipeline findings in `range` whose `suggestion` replaces the quoted
/// code exactly, as quick fixes.
pub fn suggestion_fixes(state: &State, uri: &Uri, range: lsp::Range) -> Vec<CodeActionOrCommand> {
    let Some(text) = state.documents().get(uri).map(|d| d.text().clone()) else { return Vec::new() };
    let encoding = state.encoding();
    let requested = convert::offset_range(&text, range, encoding);
    let source = text.to_string();
    let findings = state.pipeline_findings().get(uri).cloned().unwrap_or_default();
    findings
        .into_iter()
        .filter_map(|item| {
            let suggestion = item.finding.suggestion.clone()?;
            let anchored = outcome::anchor(vec![item.finding.clone()], &source).remove(0);
            let touches = by_snippet(anchored.how) && anchored.range.start <= requested.end && requested.start <= anchored.range.end;
            if !touches {
                return None;
            }
            // A model's suggestion passes the checks any AI edit passes, or is not offered.
            let mut after = source.clone();
            after.replace_range(anchored.range.clone(), &suggestion);
            let checked = crate::pipeline::verify::verify(&source, &after, &state.analysis_options(uri), false);
            checked.is_ok().then(|| {
                let edit = TextEdit { range: convert::lsp_range(&text, &anchored.range, encoding), new_text: suggestion };
                CodeActionOrCommand::CodeAction(CodeAction {
                    title: format!("Apply the suggestion of {}", item.pipeline),
                    kind: Some(CodeActionKind::QUICKFIX),
                    edit: Some(WorkspaceEdit { changes: Some(HashMap::from([(uri.clone(), vec![edit])])), ..Default::default() }),
                    ..Default::default()
                })
            })
        })
        .collect()
}

static NEXT_RUN: AtomicU64 = AtomicU64::new(1);

/// Run a pipeline on a document (the `elexirion.runPipeline` command). The
/// answer to the request, once the run is over, is its id and outcome:
/// `{runId, outcome: applied|declined|findings|shown|refused|failed|cancelled, message}`.
pub async fn run_command(state: Arc<State>, client: Client, arguments: &[Value]) -> Result<Value, String> {
    let argument = arguments.first().ok_or("expected {pipeline, uri, range}")?;
    let name = argument["pipeline"].as_str().ok_or("no pipeline named")?.to_string();
    let uri: Uri = argument["uri"].as_str().and_then(|u| u.parse().ok()).ok_or("no document named")?;
    let range: Option<lsp::Range> = serde_json::from_value(argument["range"].clone()).ok();
    let root = state.root();
    let globs = state.config().pipelines.matcher().ok();
    let (source, block) = pipelines(root.as_deref(), globs.as_ref()).into_iter().find(|(_, b)| b.name == name).ok_or(format!("no pipeline named `{name}`"))?;
    let snapshot = state.documents().get(&uri).map(|d| d.snapshot()).ok_or("the document is not open")?;
    let path = uri.to_file_path().map(|p| p.into_owned()).ok_or("the document is not a file")?;
    let selection = range.map(|r| convert::offset_range(&snapshot.text, r, state.encoding()));
    let request = FileRequest {
        pipeline: source,
        block: block.clone(),
        workspace: root.unwrap_or_else(|| path.parent().map(Path::to_path_buf).unwrap_or_default()),
        path,
        text: Some(snapshot.text.to_string()),
        selection,
        analysis: state.analysis_options(&uri),
        inputs: HashMap::new(),
        buffers: open_buffers(&state),
    };
    super::project_index::ensure(&state).await;
    let prepared = {
        let index = state.index();
        on_file::prepare(request, index.as_ref())
    };
    let prepared = match prepared {
        Ok(prepared) => prepared,
        Err(problem) => {
            client.show_message(MessageType::ERROR, format!("{}: {problem}", block.title)).await;
            return Ok(json!({ "outcome": "refused", "message": problem }));
        }
    };
    let (store, store_warning) = super::prompt_store::store(&state);
    if let Some(warning) = store_warning {
        client.show_message(MessageType::WARNING, format!("Elexirion: {warning}")).await;
    }
    let config = state.config();
    let options = RunOptions {
        fresh: state.ran_before(&block.name, &uri, &prepared.original),
        cache_dir: on_file::cache_dir(&prepared.root),
        workspace: prepared.root.clone(),
        inputs: HashMap::new(),
        providers: config.providers,
        run_timeout: Duration::from_secs(600),
        store,
        mode: config.store.mode,
    };

    let token_name = format!("elexirion/run/{}", NEXT_RUN.fetch_add(1, Ordering::Relaxed));
    let cancel = CancellationToken::new();
    state.runs().insert(token_name.clone(), cancel.clone());
    // A client that gives up on the request ($/cancelRequest) stops the run.
    let _abandoned = cancel.clone().drop_guard();
    let run = Run { state, client, block, uri, version: snapshot.version, prepared };
    let task = tokio::spawn(async move {
        let result = run.execute(options, token_name.clone(), cancel).await;
        run.state.runs().remove(&token_name);
        result
    });
    task.await.map_err(|e| format!("the run stopped: {e}"))
}

/// The open documents' texts by real path: what the user sees, saved or not.
fn open_buffers(state: &State) -> HashMap<PathBuf, String> {
    let documents = state.documents();
    documents
        .iter()
        .filter_map(|(uri, document)| {
            let path = uri.to_file_path()?;
            Some((path.canonicalize().unwrap_or_else(|_| path.into_owned()), document.text().to_string()))
        })
        .collect()
}

/// One run in the editor, from its progress to what the user sees.
struct Run {
    state: Arc<State>,
    client: Client,
    block: EditorBlock,
    uri: Uri,
    version: i32,
    prepared: Prepared,
}

impl Run {
    async fn execute(&self, options: RunOptions, token_name: String, cancel: CancellationToken) -> Value {
        let token = ProgressToken::String(token_name);
        // A client that cannot show progress still gets the result.
        let _ = self.client.create_work_done_progress(token.clone()).await;
        let progress = self.client.progress(token, self.block.title.clone()).with_cancel_button().begin().await;
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
        let events: run::EventSink = Arc::new(move |event| {
            let _ = sender.send(event);
        });
        let started = std::time::Instant::now();
        let mut spent = crate::pipeline::providers::prices::Spend::default();
        let running = on_file::run(&self.prepared, options, events);
        tokio::pin!(running);
        let outcome = loop {
            tokio::select! {
                result = &mut running => break Some(result),
                Some(event) = receiver.recv() => {
                    if let RunEvent::StepFinished { cost: Some(cost), .. } = &event {
                        spent.merge(cost);
                    }
                    if let Some(message) = progress_message(&event, started.elapsed()) {
                        progress.report_with_message(message, None).await;
                    }
                }
                _ = cancel.cancelled() => break None,
            }
        };
        let (message, result) = match outcome {
            None => ("Cancelled".to_string(), json!({ "outcome": "cancelled" })),
            Some(Err(error)) => {
                self.client.show_message(MessageType::ERROR, format!("{}: {error}", self.block.title)).await;
                ("Failed".to_string(), json!({ "runId": error.run_id, "outcome": "failed", "message": error.message }))
            }
            Some(Ok(outcome)) => self.present(outcome).await,
        };
        // Steps that finished just before the run did: their events wait here.
        while let Ok(event) = receiver.try_recv() {
            if let RunEvent::StepFinished { cost: Some(cost), .. } = &event {
                spent.merge(cost);
            }
        }
        // What the run cost, however it ended: the calls were made.
        let message = if spent.is_empty() { message } else { format!("{message} · cost {spent}") };
        progress.finish_with_message(message).await;
        result
    }

    /// Show what the run proposes; the progress message and the command's result.
    async fn present(&self, outcome: FileOutcome) -> (String, Value) {
        if !outcome.notes.is_empty() {
            let notes = outcome.notes.join("\n");
            self.client.show_message(MessageType::INFO, format!("{}: the answer also suggests:\n{notes}", self.block.title)).await;
        }
        let run_id = outcome.run_id.clone();
        match outcome.proposal {
            Proposal::Findings(findings) => {
                let count = findings.len();
                let stored = findings.into_iter().map(|a| PipelineFinding { pipeline: self.block.name.clone(), was_anchored: by_snippet(a.how), finding: a.finding });
                let mut all = self.state.pipeline_findings();
                let entry = all.entry(self.uri.clone()).or_default();
                entry.retain(|f| f.pipeline != self.block.name);
                entry.extend(stored);
                drop(all);
                if let Some(version) = self.state.current_version(&self.uri) {
                    diagnostics::schedule(self.state.clone(), self.client.clone(), self.uri.clone(), version);
                }
                let message = format!("{count} finding{}", if count == 1 { "" } else { "s" });
                (message.clone(), json!({ "runId": run_id, "outcome": "findings", "count": count, "message": message }))
            }
            Proposal::Prose(prose) => match self.show_prose(&prose).await {
                Ok(uri) => ("Opened".into(), json!({ "runId": run_id, "outcome": "shown", "uri": uri.as_str() })),
                Err(problem) => {
                    self.client.show_message(MessageType::ERROR, format!("{}: {problem}", self.block.title)).await;
                    ("Failed".into(), json!({ "runId": run_id, "outcome": "failed", "message": problem }))
                }
            },
            Proposal::Edit(ref edit) => match self.offer(edit, &run_id).await {
                Ok(true) => {
                    let summary = edit.summary().map(|s| format!(": {s}")).unwrap_or_default();
                    (format!("Applied{summary}"), json!({ "runId": run_id, "outcome": "applied", "message": edit.summary(), "notes": outcome.notes }))
                }
                // Declining is the user's choice, not an error.
                Ok(false) => {
                    on_file::forget_answer(&self.prepared, &outcome);
                    ("Declined".into(), json!({ "runId": run_id, "outcome": "declined" }))
                }
                Err(problem) => {
                    self.client.show_message(MessageType::ERROR, format!("{}: {problem}", self.block.title)).await;
                    ("Not applied".into(), json!({ "runId": run_id, "outcome": "refused", "message": problem }))
                }
            },
        }
    }

    /// Send a verified edit for the user to review; whether it was applied.
    async fn offer(&self, edit: &ProposedEdit, run_id: &str) -> Result<bool, String> {
        let workspace_edit = self.workspace_edit(edit)?;
        let response = self.client.apply_edit(workspace_edit).await.map_err(|e| format!("the editor did not answer the edit: {e}"))?;
        if response.applied {
            // Remembered for the document the edit changed (the test file, for generated tests).
            let edited = match self.block.writes_to {
                WritesTo::File => self.uri.clone(),
                WritesTo::TestFile => Uri::from_file_path(&edit.path).ok_or("the test file has no URI")?,
            };
            super::prompt_store::applied(&self.state, &edited, &self.uri, &self.block.name, run_id, &edit.before);
        } else {
            super::prompt_store::refused(&self.state, run_id);
        }
        Ok(response.applied)
    }

    /// The edit as the protocol carries it: minimal text edits, annotated
    /// with what the edit does when the client can show that.
    fn workspace_edit(&self, edit: &ProposedEdit) -> Result<WorkspaceEdit, String> {
        let encoding = self.state.encoding();
        let annotate = self.state.change_annotations();
        let annotation = "elexirion-pipeline".to_string();
        let adds_warnings = edit.verification.as_ref().is_some_and(|v| v.added_count() > 0);
        let label = if adds_warnings { format!("{} (adds warnings)", self.block.title) } else { self.block.title.clone() };
        let description = match edit.summary() {
            Some(summary) => format!("Proposed by the `{}` pipeline: {summary}", self.block.name),
            None => format!("Proposed by the `{}` pipeline", self.block.name),
        };
        let annotations = annotate.then(|| HashMap::from([(annotation.clone(), ChangeAnnotation { label, needs_confirmation: Some(true), description: Some(description) })]));
        let text_edit = |range: lsp::Range, new_text: String| -> OneOf<TextEdit, lsp::AnnotatedTextEdit> {
            let edit = TextEdit { range, new_text };
            if annotate {
                OneOf::Right(lsp::AnnotatedTextEdit { text_edit: edit, annotation_id: annotation.clone() })
            } else {
                OneOf::Left(edit)
            }
        };
        match self.block.writes_to {
            WritesTo::File => {
                let documents = self.state.documents();
                let document = documents.get(&self.uri).ok_or("the document was closed")?;
                if document.version() != self.version {
                    return Err("the file changed while the pipeline ran; nothing was applied (run it again)".into());
                }
                let rope = document.text().clone();
                drop(documents);
                let change = crate::finding::Edit::between(&edit.before, &edit.after);
                let range = convert::lsp_range(&rope, &change.range, encoding);
                Ok(WorkspaceEdit {
                    document_changes: Some(DocumentChanges::Edits(vec![TextDocumentEdit {
                        text_document: OptionalVersionedTextDocumentIdentifier { uri: self.uri.clone(), version: Some(self.version) },
                        edits: vec![text_edit(range, change.new_text)],
                    }])),
                    change_annotations: annotations,
                    ..Default::default()
                })
            }
            WritesTo::TestFile => {
                let target_uri = Uri::from_file_path(&edit.path).ok_or("the test file has no URI")?;
                let mut operations = Vec::new();
                if edit.creates {
                    let annotation_id = annotate.then(|| annotation.clone());
                    operations.push(DocumentChangeOperation::Op(ResourceOp::Create(CreateFile { uri: target_uri.clone(), options: None, annotation_id })));
                }
                let whole = convert::lsp_range(&ropey::Rope::from_str(&edit.before), &(0..edit.before.len()), encoding);
                // Made against the open buffer when there is one: its version guards it.
                let version = self.state.current_version(&target_uri);
                operations.push(DocumentChangeOperation::Edit(TextDocumentEdit {
                    text_document: OptionalVersionedTextDocumentIdentifier { uri: target_uri, version },
                    edits: vec![text_edit(whole, edit.after.clone())],
                }));
                Ok(WorkspaceEdit { document_changes: Some(DocumentChanges::Operations(operations)), change_annotations: annotations, ..Default::default() })
            }
        }
    }

    /// Prose opens as a Markdown document beside the code, kept under
    /// `.elexirion/explanations/` in the workspace.
    async fn show_prose(&self, prose: &str) -> Result<Uri, String> {
        let name = format!("{}.md", self.prepared.display_path.replace(['/', '\\'], "_"));
        let relative = Path::new(".elexirion/explanations").join(name);
        let path = resolve_inside(&self.prepared.root, &relative)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        let document = format!("# {}: {}\n\n{prose}\n", self.block.title, self.prepared.display_path);
        crate::check::write_atomically(&path, &document).map_err(|e| format!("cannot write {}: {e}", relative.display()))?;
        let uri = Uri::from_file_path(&path).ok_or("the explanation has no URI")?;
        let shown = self.client.show_document(lsp::ShowDocumentParams { uri: uri.clone(), external: Some(false), take_focus: Some(true), selection: None }).await;
        if !shown.is_ok_and(|shown| shown) {
            self.client.show_message(MessageType::INFO, format!("{}: written to {}", self.block.title, relative.display())).await;
        }
        Ok(uri)
    }
}

/// What the progress says while a run goes: the step, its model, the
/// tokens it used, and the time so far.
fn progress_message(event: &RunEvent, elapsed: Duration) -> Option<String> {
    let seconds = elapsed.as_secs();
    match event {
        RunEvent::StepStarted { step, .. } => Some(format!("{step}… ({seconds} s)")),
        RunEvent::StepFinished { step, provider, tokens, cost, .. } => {
            let via = provider.as_ref().map(|p| format!(" via {p}")).unwrap_or_default();
            let used = tokens.map(|(input, output)| format!(", {input} → {output} tokens")).unwrap_or_default();
            let paid = cost.as_ref().map(|c| format!(", {c}")).unwrap_or_default();
            Some(format!("{step} done{via}{used}{paid} ({seconds} s)"))
        }
        _ => None,
    }
}

/// Stop a run the user cancelled from its progress.
pub fn cancel(state: &State, token: &ProgressToken) {
    let name = match token {
        NumberOrString::String(s) => s.clone(),
        NumberOrString::Number(n) => n.to_string(),
    };
    if let Some(run) = state.runs().remove(&name) {
        run.cancel();
    }
}

/// Forget every pipeline finding (the clear command).
pub async fn clear(state: &Arc<State>, client: &Client) {
    let uris: Vec<Uri> = state.pipeline_findings().drain().map(|(uri, _)| uri).collect();
    for uri in uris {
        if let Some(version) = state.current_version(&uri) {
            diagnostics::schedule(state.clone(), client.clone(), uri, version);
        }
    }
}

/// Pipeline findings as diagnostics, re-anchored in the current text; those
/// whose quoted code is gone are dropped for good.
pub fn diagnostics_for(state: &State, uri: &Uri, text: &ropey::Rope, encoding: crate::document::PositionEncoding) -> Vec<lsp::Diagnostic> {
    let mut all = state.pipeline_findings();
    let Some(stored) = all.get_mut(uri) else { return Vec::new() };
    let source = text.to_string();
    let mut diagnostics = Vec::new();
    stored.retain(|item| {
        let anchored = outcome::anchor(vec![item.finding.clone()], &source).remove(0);
        // Placed by its snippet once: gone with it, not kept at its line.
        if item.was_anchored && !by_snippet(anchored.how) {
            return false;
        }
        let severity = match anchored.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
            Severity::Information => lsp::DiagnosticSeverity::INFORMATION,
            Severity::Hint => lsp::DiagnosticSeverity::HINT,
        };
        let rule = (!item.finding.rule.is_empty()).then(|| NumberOrString::String(item.finding.rule.clone()));
        diagnostics.push(lsp::Diagnostic {
            range: convert::lsp_range(text, &anchored.range, encoding),
            severity: Some(severity),
            code: rule,
            source: Some(format!("elexirion:{}", item.pipeline)),
            message: item.finding.message.clone(),
            data: item.finding.suggestion.as_ref().map(|s| json!({ "suggestion": s })),
            ..Default::default()
        });
        true
    });
    diagnostics
}
