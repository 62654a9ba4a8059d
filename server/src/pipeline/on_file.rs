//! Run a pipeline on a file: the one use case behind the editor's AI code
//! actions and `elexirion pipeline run --file`. It returns plain data (the
//! proposed edit with its verification, findings, notes, the run id); the
//! editor and the command line only render it. Every safety check lives
//! here, so no path can skip one.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::editor::{self, EditorBlock, EditorContext, Kind, WritesTo};
use super::outcome::{self, read_findings, read_rewrite, AnchoredFinding, AnswerProblem};
use super::run::{self, EventSink, RunOptions};
use super::elixir_oracle;
use super::verify::{self, Verification};
use crate::elixir::{self, AnalysisOptions};
use crate::index::WorkspaceIndex;
use crate::workspace::resolve_inside;

/// What to run, on what.
pub struct FileRequest {
    /// The pipeline's YAML source.
    pub pipeline: String,
    pub block: EditorBlock,
    /// The workspace root, as configured (resolved here).
    pub workspace: PathBuf,
    /// The file, absolute or relative to the workspace.
    pub path: PathBuf,
    /// The editor's text of the file; `None` reads it from disk.
    pub text: Option<String>,
    /// A byte range of the text the user selected.
    pub selection: Option<Range<usize>>,
    pub analysis: AnalysisOptions,
    /// Inputs given by hand (`--input`), laid under the editor's.
    pub inputs: HashMap<String, Value>,
    /// The editor's unsaved texts, by real path: what the user sees is
    /// what is read and what an edit is made against (a test file open
    /// with changes not yet saved).
    pub buffers: HashMap<PathBuf, String>,
}

/// A request checked and resolved, ready to run.
pub struct Prepared {
    pub block: EditorBlock,
    pub pipeline: String,
    /// The workspace and the file, symlinks and `..` resolved.
    pub root: PathBuf,
    pub real_path: PathBuf,
    /// The file's path inside the workspace, with `/`.
    pub display_path: String,
    pub original: String,
    pub selection: Option<Range<usize>>,
    pub inputs: HashMap<String, Value>,
    /// The file's ExUnit test file as the user has it (buffer, else disk),
    /// if there is one.
    pub test_file: Option<String>,
    analysis: AnalysisOptions,
}

/// What a finished run proposes.
#[derive(Debug)]
pub enum Proposal {
    Findings(Vec<AnchoredFinding>),
    Edit(ProposedEdit),
    /// Prose for the user to read (an explanation), as Markdown.
    Prose(String),
}

/// A change to one file, verified and not yet made.
#[derive(Debug)]
pub struct ProposedEdit {
    pub path: PathBuf,
    pub display_path: String,
    pub before: String,
    pub after: String,
    /// The file does not exist yet.
    pub creates: bool,
    /// For Elixir files: the effect on Elexirion's own findings.
    pub verification: Option<Verification>,
}

impl ProposedEdit {
    pub fn diff(&self) -> String {
        let (from, to) = (format!("a/{}", self.display_path), format!("b/{}", self.display_path));
        similar::TextDiff::from_lines(&self.before, &self.after).unified_diff().header(&from, &to).to_string()
    }

    /// "fixes 2 warnings (EXR005 ×2), adds 0", or nothing to say.
    pub fn summary(&self) -> Option<String> {
        self.verification.as_ref().map(Verification::summary)
    }
}

/// The outcome of a run on a file.
#[derive(Debug)]
pub struct FileOutcome {
    /// The run's id in the store, for a verdict.
    pub run_id: String,
    pub proposal: Proposal,
    /// What else the answer said, for the user ("the answer also suggests ...").
    pub notes: Vec<String>,
    /// The final answer as the model gave it.
    pub answer: String,
}

/// Check the request and gather the pipeline's inputs. Refuses a file
/// outside the workspace (after resolving symlinks and `..`).
pub fn prepare(request: FileRequest, index: Option<&WorkspaceIndex>) -> Result<Prepared, String> {
    let FileRequest { pipeline, block, workspace, path, text, selection, analysis, mut inputs, buffers } = request;
    let root = resolve_inside(&workspace, Path::new(""))?;
    let real_path = resolve_inside(&root, &path)?;
    let original = match text {
        Some(text) => text,
        None => std::fs::read_to_string(&real_path).map_err(|e| format!("{}: {e}", path.display()))?,
    };
    let selection = selection.filter(|r| !r.is_empty() && r.end <= original.len() && original.is_char_boundary(r.start) && original.is_char_boundary(r.end));
    let display_path = real_path.strip_prefix(&root).unwrap_or(&real_path).to_string_lossy().replace('\\', "/");
    let is_elixir = elixir::is_elixir_path(&display_path);
    let analysis = AnalysisOptions { path: Some(display_path.clone()), workspace: Some(root.clone()), ..analysis };
    let diagnostics = if is_elixir {
        let tree = elixir::parser::with_parser(|p| p.parse_str(&original, None));
        let mut findings = elixir::analyze(&original, &tree, &analysis);
        // With a selection, the model sees only the selected code: only its findings.
        if let Some(range) = &selection {
            findings.retain(|f| range.start <= f.range.start && f.range.end <= range.end);
        }
        editor::diagnostics_text(&original, &findings)
    } else {
        String::new()
    };
    let test_file = resolve_inside(&root, Path::new(&editor::test_path(&display_path)))
        .ok()
        .and_then(|path| buffers.get(&path).cloned().or_else(|| std::fs::read_to_string(path).ok()));
    let project = index.map(|index| project_variables(index, &real_path, selection.clone())).unwrap_or_default();
    let context = EditorContext {
        file: original.clone(),
        selection: selection.clone().map(|r| original[r].to_string()),
        language: if is_elixir { "elixir".into() } else { "text".into() },
        path: display_path.clone(),
        diagnostics,
        test_file: test_file.clone().unwrap_or_default(),
        project,
    };
    for (name, value) in editor::inputs(&block, &context)? {
        inputs.insert(name, value);
    }
    Ok(Prepared { block, pipeline, root, real_path, display_path, original, selection, inputs, test_file, analysis })
}

/// What a prompt may spend on project context, in tokens (about 4 bytes each).
const PROJECT_CONTEXT_TOKENS: usize = 6_000;

/// `{{project.*}}` for the file, cut to the budget, most relevant first.
fn project_variables(index: &WorkspaceIndex, path: &Path, focus: Option<Range<usize>>) -> serde_json::Map<String, Value> {
    let context = index.context_for(path, focus, PROJECT_CONTEXT_TOKENS);
    context
        .sections
        .iter()
        .map(|section| (section.variable.trim_start_matches("project.").to_string(), Value::String(section.text.clone())))
        .collect()
}

/// Why a run on a file produced nothing to offer.
#[derive(Debug)]
pub struct FileRunError {
    /// The run's id, when the model answered (an unusable answer is judged too).
    pub run_id: Option<String>,
    pub message: String,
}

/// Why an answer gives nothing to offer: for the user, and for the model
/// (the one repair request).
struct Unusable {
    message: String,
    repair: String,
}

impl From<AnswerProblem> for Unusable {
    fn from(problem: AnswerProblem) -> Self {
        Unusable { message: problem.to_string(), repair: problem.repair_request() }
    }
}

impl std::fmt::Display for FileRunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Run the pipeline and read its answer into a proposal.
pub async fn run(prepared: &Prepared, mut options: RunOptions, events: EventSink) -> Result<FileOutcome, FileRunError> {
    options.inputs.extend(prepared.inputs.clone());
    options.workspace = prepared.root.clone();
    let store = options.store.clone();
    let usable = |answer: &str| read(prepared, answer).map(|_| ()).map_err(|unusable| unusable.repair);
    let result = run::run_checked(&prepared.pipeline, options, events, &usable).await.map_err(|e| FileRunError { run_id: None, message: e.to_string() })?;
    let answer = result.last().map(|o| o.text.clone()).unwrap_or_default();
    let concluded = conclude(prepared, &answer, result.invocation.clone());
    if let Some(store) = &store {
        // So that a verdict can say which run it judged: the one on this file.
        let noted = store.lock().map_err(|_| "the store's lock is poisoned".to_string()).and_then(|mut s| s.set_run_file(&result.invocation, &prepared.display_path));
        if let Err(problem) = noted {
            tracing::warn!("could not note the run's file in the store: {problem}");
        }
    }
    if concluded.is_err() {
        // Never served again from the cache: the next run asks anew.
        if let Some(dir) = cache_dir(&prepared.root) {
            run::cache::evict(&dir, &answer);
        }
    }
    if let (Err(error), Some(store)) = (&concluded, store) {
        // An answer that cannot be used is a failure of the prompt that asked for it.
        let marked = store.lock().map_err(|_| "the store's lock is poisoned".to_string()).and_then(|mut s| s.mark_unusable(&result.invocation, &error.message));
        if let Err(problem) = marked {
            tracing::warn!("could not record the unusable answer: {problem}");
        }
    }
    concluded
}

/// Read a final answer into a proposal, verified.
pub fn conclude(prepared: &Prepared, answer: &str, run_id: String) -> Result<FileOutcome, FileRunError> {
    match read(prepared, answer) {
        Ok((proposal, notes)) => Ok(FileOutcome { run_id, proposal, notes, answer: answer.to_string() }),
        Err(unusable) => Err(FileRunError { run_id: Some(run_id), message: unusable.message }),
    }
}

/// The proposal an answer makes and the notes beside it.
fn read(prepared: &Prepared, answer: &str) -> Result<(Proposal, Vec<String>), Unusable> {
    match prepared.block.kind {
        Kind::Analysis => {
            let findings = read_findings(answer)?;
            Ok((Proposal::Findings(outcome::anchor(findings, &prepared.original)), Vec::new()))
        }
        Kind::Explanation => match answer.trim() {
            "" => Err(Unusable { message: "the answer is empty".into(), repair: "Please answer again with the explanation, in Markdown.".into() }),
            prose => Ok((Proposal::Prose(prose.to_string()), Vec::new())),
        },
        Kind::Refactor => {
            let (edit, notes) = propose_edit(prepared, answer)?;
            Ok((Proposal::Edit(edit), notes))
        }
    }
}

fn propose_edit(prepared: &Prepared, answer: &str) -> Result<(ProposedEdit, Vec<String>), Unusable> {
    let (path, display_path, before) = match prepared.block.writes_to {
        WritesTo::File => (prepared.real_path.clone(), prepared.display_path.clone(), prepared.original.clone()),
        WritesTo::TestFile => {
            let test = editor::test_path(&prepared.display_path);
            let real = resolve_inside(&prepared.root, Path::new(&test)).map_err(|refused| Unusable { message: refused.to_string(), repair: String::new() })?;
            (real, test, prepared.test_file.clone().unwrap_or_default())
        }
    };
    let scope = match (&prepared.selection, prepared.block.writes_to) {
        (Some(range), WritesTo::File) => range.clone(),
        _ => 0..before.len(),
    };
    let rewrite = read_rewrite(answer, &before[scope.clone()])?;
    let mut after = before.clone();
    after.replace_range(scope, &rewrite.text);
    if after == before {
        let repair = "Your answer left the code as it was; please answer again with the changed file in a single ```elixir block.".to_string();
        return Err(Unusable { message: "the pipeline proposes no change".into(), repair });
    }
    let refused = |refusal: String| Unusable {
        repair: format!("Your rewrite could not be used: {refusal}. Please answer again with the whole corrected file in a single ```elixir block."),
        message: refusal,
    };
    let verification = if elixir::is_elixir_path(&display_path) {
        let analysis = AnalysisOptions { path: Some(display_path.clone()), ..prepared.analysis.clone() };
        let checked = verify::verify(&before, &after, &analysis, prepared.block.may_change_api).map_err(|refusal| refused(refusal.to_string()))?;
        // tree-sitter is lenient where the compiler is not: ask Elixir too, when it is here.
        if let Some(message) = elixir_oracle::breaks(&before, &after) {
            return Err(refused(format!("Elixir's parser rejects the proposed code ({message}); nothing was changed")));
        }
        Some(checked)
    } else {
        None
    };
    let creates = !path.exists() && !(prepared.block.writes_to == WritesTo::TestFile && prepared.test_file.is_some());
    Ok((ProposedEdit { creates, path, display_path, before, after, verification }, rewrite.notes))
}

/// The user rejected the answer: the next run must not be served it from
/// the cache.
pub fn forget_answer(prepared: &Prepared, outcome: &FileOutcome) {
    let Some(dir) = cache_dir(&prepared.root) else { return };
    let evicted = run::cache::evict(&dir, &outcome.answer);
    tracing::debug!(evicted, "rejected answer evicted from the cache");
}

/// Where a workspace caches model answers.
pub const CACHE_DIR: &str = ".elexirion/cache";

/// The workspace's cache folder, if it stays inside the workspace (a
/// symlinked `.elexirion` pointing elsewhere turns the cache off).
pub fn cache_dir(root: &Path) -> Option<PathBuf> {
    match resolve_inside(root, Path::new(CACHE_DIR)) {
        Ok(dir) => Some(dir),
        Err(refused) => {
            tracing::warn!("answers are not cached: the cache folder {refused}");
            None
        }
    }
}

/// Write a verified edit to disk, atomically (the command line's `--write`).
pub fn write(edit: &ProposedEdit) -> Result<(), String> {
    if let Some(parent) = edit.path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    crate::check::write_atomically(&edit.path, &edit.after).map_err(|e| format!("cannot write {}: {e}", edit.display_path))
}
