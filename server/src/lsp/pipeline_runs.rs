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

use super::code_actions::minimal_edit;
use super::state::State;
use super::{convert, diagnostics};
use crate::document::DocumentKind;
use crate::finding::Severity;
use crate::pipeline::editor::{self, EditorBlock, EditorContext, Kind, WritesTo};
use crate::pipeline::outcome::{self, ModelFinding};
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
                Kind::Analysis => CodeActionKind::from("source.elexirion"),
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
            let touches = anchored.anchored && anchored.range.start <= requested.end && requested.start <= anchored.range.end;
            touches.then(|| {
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

/// Start a pipeline run; it reports progress and finishes on its own.
pub async fn start(state: Arc<State>, client: Client, arguments: &[Value]) -> Result<(), String> {
    let argument = arguments.first().ok_or("expected {pipeline, uri, range}")?;
    let name = argument["pipeline"].as_str().ok_or("no pipeline named")?.to_string();
    let uri: Uri = argument["uri"].as_str().and_then(|u| u.parse().ok()).ok_or("no document named")?;
    let range: Option<lsp::Range> = serde_json::from_value(argument["range"].clone()).ok();
    let root = state.root();
    let globs = state.config().pipelines.matcher().ok();
    let (source, block) = pipelines(root.as_deref(), globs.as_ref()).into_iter().find(|(_, b)| b.name == name).ok_or(format!("no pipeline named `{name}`"))?;

    let snapshot = state.documents().get(&uri).map(|d| d.snapshot()).ok_or("the document is not open")?;
    let encoding = state.encoding();
    let text = snapshot.text.to_string();
    let selection = range.map(|r| convert::offset_range(&snapshot.text, r, encoding)).filter(|r| !r.is_empty());
    let path = uri.to_file_path().map(|p| p.into_owned()).unwrap_or_default();
    let relative = workspace_relative(root.as_deref(), &path);
    let findings = {
        let mut parsed = snapshot.clone();
        parsed.parse();
        diagnostics::findings(&parsed, &state.analysis_options(&uri))
    };
    let context = EditorContext {
        file: text.clone(),
        selection: selection.clone().map(|r| text[r].to_string()),
        language: "elixir".into(),
        path: relative.clone(),
        diagnostics: editor::diagnostics_text(&text, &findings),
    };
    let inputs = editor::inputs(&block, &context)?;
    let workspace = root.clone().unwrap_or_else(|| path.parent().map(Path::to_path_buf).unwrap_or_default());
    let (store, store_warning) = super::prompt_store::store(&state);
    let config = state.config();
    let options = RunOptions {
        cache_dir: Some(workspace.join(".elexirion/cache")),
        workspace: workspace.clone(),
        inputs,
        providers: config.providers,
        run_timeout: Duration::from_secs(600),
        store,
        mode: config.store.mode,
    };
    if let Some(warning) = store_warning {
        client.show_message(MessageType::WARNING, format!("Elexirion: {warning}")).await;
    }

    let token_name = format!("elexirion/run/{}", NEXT_RUN.fetch_add(1, Ordering::Relaxed));
    let token = ProgressToken::String(token_name.clone());
    let cancel = CancellationToken::new();
    state.runs().insert(token_name.clone(), cancel.clone());
    tokio::spawn(async move {
        // A client that cannot show progress still gets the result.
        let _ = client.create_work_done_progress(token.clone()).await;
        let progress = client.progress(token, block.title.clone()).with_cancel_button().begin().await;
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
        let events: run::EventSink = Arc::new(move |event| {
            let _ = sender.send(event);
        });
        let running = run::run_owned(source, options, events);
        tokio::pin!(running);
        let outcome = loop {
            tokio::select! {
                result = &mut running => break Some(result),
                Some(event) = receiver.recv() => {
                    if let RunEvent::StepStarted { step, .. } = event {
                        progress.report_with_message(format!("{step}…"), None).await;
                    }
                }
                _ = cancel.cancelled() => break None,
            }
        };
        state.runs().remove(&token_name);
        let message = match outcome {
            None => "Cancelled".to_string(),
            Some(Err(error)) => {
                client.show_message(MessageType::ERROR, format!("{}: {error}", block.title)).await;
                "Failed".to_string()
            }
            Some(Ok(result)) => {
                let answer = result.last().map(|o| o.text.clone()).unwrap_or_default();
                let done = Finished { state: &state, client: &client, block: &block, uri: &uri, version: snapshot.version, selection, workspace: &workspace, relative: &relative };
                match done.apply(&answer, &result.invocation).await {
                    Ok(message) => message,
                    Err(problem) => {
                        client.show_message(MessageType::ERROR, format!("{}: {problem}", block.title)).await;
                        "Not applied".to_string()
                    }
                }
            }
        };
        progress.finish_with_message(message).await;
    });
    Ok(())
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

struct Finished<'a> {
    state: &'a Arc<State>,
    client: &'a Client,
    block: &'a EditorBlock,
    uri: &'a Uri,
    version: i32,
    selection: Option<std::ops::Range<usize>>,
    workspace: &'a Path,
    relative: &'a str,
}

impl Finished<'_> {
    async fn apply(&self, answer: &str, invocation: &str) -> Result<String, String> {
        match self.block.kind {
            Kind::Analysis => {
                let findings = outcome::parse_findings(answer)?;
                let text = self.state.documents().get(self.uri).map(|d| d.text().to_string()).unwrap_or_default();
                let anchored = outcome::anchor(findings, &text);
                let count = anchored.len();
                let stored: Vec<PipelineFinding> = anchored
                    .into_iter()
                    .map(|a| PipelineFinding { pipeline: self.block.name.clone(), finding: a.finding, was_anchored: a.anchored })
                    .collect();
                let mut all = self.state.pipeline_findings();
                let entry = all.entry(self.uri.clone()).or_default();
                entry.retain(|f| f.pipeline != self.block.name);
                entry.extend(stored);
                drop(all);
                if let Some(version) = self.state.current_version(self.uri) {
                    diagnostics::schedule(self.state.clone(), self.client.clone(), self.uri.clone(), version);
                }
                Ok(format!("{count} finding{}", if count == 1 { "" } else { "s" }))
            }
            Kind::Refactor => {
                let edit = self.edit(answer)?;
                let before = self.state.documents().get(self.uri).map(|d| d.text().to_string()).unwrap_or_default();
                let response = self.client.apply_edit(edit).await.map_err(|e| format!("the editor did not apply the edit: {e}"))?;
                if response.applied {
                    super::prompt_store::applied(self.state, self.uri, invocation, &before);
                    Ok("Applied".into())
                } else {
                    super::prompt_store::refused(self.state, invocation);
                    Err(format!("the editor refused the edit: {}", response.failure_reason.unwrap_or_default()))
                }
            }
        }
    }

    /// The edit a refactor answer makes, or why it cannot be made.
    fn edit(&self, answer: &str) -> Result<WorkspaceEdit, String> {
        let documents = self.state.documents();
        let document = documents.get(self.uri).ok_or("the document was closed")?;
        if document.version() != self.version {
            return Err("the file changed while the pipeline ran; nothing was applied (run it again)".into());
        }
        let rope = document.text().clone();
        drop(documents);
        let current = rope.to_string();
        let encoding = self.state.encoding();
        let annotate = self.state.change_annotations();
        let annotation = "elexirion-pipeline".to_string();
        let annotations = annotate.then(|| {
            HashMap::from([(annotation.clone(), ChangeAnnotation {
                label: self.block.title.clone(),
                needs_confirmation: Some(true),
                description: Some(format!("Proposed by the `{}` pipeline", self.block.name)),
            })])
        });
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
                let path = self.uri.to_file_path().map(|p| p.into_owned()).unwrap_or_default();
                resolve_inside(self.workspace, &path)?;
                let scope = self.selection.clone().unwrap_or(0..current.len());
                let replacement = outcome::new_text(answer, &current[scope.clone()])?;
                let mut proposed = current.clone();
                proposed.replace_range(scope, &replacement);
                refuse_syntax_errors(&current, &proposed)?;
                let change = minimal_edit(&current, &proposed);
                if change.range.is_empty() && change.new_text.is_empty() {
                    return Err("the pipeline proposes no change".into());
                }
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
                let target = resolve_inside(self.workspace, Path::new(&editor::test_path(self.relative)))?;
                let existing = std::fs::read_to_string(&target).unwrap_or_default();
                let proposed = outcome::new_text(answer, &existing)?;
                refuse_syntax_errors(&existing, &proposed)?;
                let target_uri = Uri::from_file_path(&target).ok_or("the test file has no URI")?;
                let mut operations = Vec::new();
                if !target.exists() {
                    operations.push(DocumentChangeOperation::Op(ResourceOp::Create(CreateFile { uri: target_uri.clone(), options: None, annotation_id: annotate.then(|| annotation.clone()) })));
                }
                let end = convert::lsp_range(&ropey::Rope::from_str(&existing), &(0..existing.len()), encoding);
                operations.push(DocumentChangeOperation::Edit(TextDocumentEdit {
                    text_document: OptionalVersionedTextDocumentIdentifier { uri: target_uri, version: None },
                    edits: vec![text_edit(end, proposed)],
                }));
                Ok(WorkspaceEdit { document_changes: Some(DocumentChanges::Operations(operations)), change_annotations: annotations, ..Default::default() })
            }
        }
    }
}

/// A document's path in the workspace, symlinks and `..` resolved; as it
/// is when it lies outside.
fn workspace_relative(root: Option<&Path>, path: &Path) -> String {
    let inside = root.and_then(|root| Some((resolve_inside(root, Path::new("")).ok()?, resolve_inside(root, path).ok()?)));
    let relative = match &inside {
        Some((root, real)) => real.strip_prefix(root).unwrap_or(real),
        None => path,
    };
    relative.to_string_lossy().replace('\\', "/")
}

fn refuse_syntax_errors(before: &str, after: &str) -> Result<(), String> {
    if crate::elixir::syntax_errors::adds_errors(before, after) {
        return Err("the proposed code has syntax errors; nothing was applied".into());
    }
    Ok(())
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
        if item.was_anchored && !anchored.anchored {
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
