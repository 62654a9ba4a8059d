//! `elexirion check`: analyse Elixir files on disk, in parallel.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use ropey::Rope;

use crate::document::{position_at, PositionEncoding, TextPosition};
use crate::elixir::{self, parser::ElixirParser, AnalysisOptions};
use crate::elixir::settings::RuleSettings;
use crate::finding::{Finding, Severity};

/// Directories that hold build output or dependencies, never the user's code.
const SKIPPED_DIRS: &[&str] = &["_build", "deps", "node_modules", ".elixir_ls", ".lexical", ".expert"];

/// A finding located for people: 1-based lines and columns (in characters).
#[derive(Debug)]
pub struct Problem {
    pub finding: Finding,
    pub start: TextPosition,
    pub end: TextPosition,
    /// The start and end columns again, 1-based, in UTF-16 code units: what
    /// SARIF counts by default.
    pub utf16_columns: (u32, u32),
}

#[derive(Debug)]
pub struct CheckedFile {
    pub path: PathBuf,
    pub lines: usize,
    pub problems: Vec<Problem>,
    /// Set when the file could not be read as UTF-8 text.
    pub error: Option<String>,
}

#[derive(Debug)]
pub struct Report {
    pub files: Vec<CheckedFile>,
    pub elapsed: Duration,
}

impl Report {
    pub fn lines(&self) -> usize {
        self.files.iter().map(|f| f.lines).sum()
    }

    pub fn count(&self, severity: Severity) -> usize {
        let problems = self.files.iter().flat_map(|f| &f.problems);
        let unreadable = if severity == Severity::Error {
            self.files.iter().filter(|f| f.error.is_some()).count()
        } else {
            0
        };
        problems.filter(|p| p.finding.severity == severity).count() + unreadable
    }
}

/// Check every Elixir file under `paths`. Files named explicitly are checked
/// even when ignored; directories are walked honouring `.gitignore`.
pub fn check_paths(paths: &[PathBuf], settings: &RuleSettings) -> Report {
    let started = Instant::now();
    let files = collect_files(paths);
    let mut checked: Vec<CheckedFile> = files
        .par_iter()
        .map_init(ElixirParser::new, |parser, path| check_file(parser, path, settings))
        .collect();
    checked.sort_by(|a, b| a.path.cmp(&b.path));
    Report { files: checked, elapsed: started.elapsed() }
}

pub fn collect_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_file() {
            files.push(path.clone());
            continue;
        }
        let walk = ignore::WalkBuilder::new(path)
            .require_git(false)
            .filter_entry(|entry| {
                let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                !(is_dir && SKIPPED_DIRS.iter().any(|skip| entry.file_name() == *skip))
            })
            .build();
        for entry in walk.flatten() {
            let is_file = entry.file_type().is_some_and(|t| t.is_file());
            if is_file && elixir::is_elixir_path(&entry.path().to_string_lossy()) {
                files.push(entry.into_path());
            }
        }
    }
    files.sort();
    files.dedup();
    files
}

pub fn check_file(parser: &mut ElixirParser, path: &Path, settings: &RuleSettings) -> CheckedFile {
    let source = match std::fs::read(path).map(String::from_utf8) {
        Ok(Ok(source)) => source,
        Ok(Err(_)) => return unreadable(path, "not valid UTF-8".to_string()),
        Err(error) => return unreadable(path, error.to_string()),
    };
    let tree = parser.parse_str(&source, None);
    let options = AnalysisOptions { path: Some(path.to_string_lossy().into_owned()), rules: settings.clone(), workspace: None, ..Default::default() };
    let findings = elixir::analyze(&source, &tree, &options);
    let problems = locate(&source, findings);
    CheckedFile { path: path.to_path_buf(), lines: source.lines().count(), problems, error: None }
}

/// Findings with 1-based line and column (in characters) positions.
pub fn locate(source: &str, findings: Vec<Finding>) -> Vec<Problem> {
    if findings.is_empty() {
        return Vec::new(); // the common case: no rope to build
    }
    let rope = Rope::from_str(source);
    let utf16_column = |offset| position_at(&rope, offset, PositionEncoding::Utf16).character + 1;
    findings
        .into_iter()
        .map(|finding| Problem {
            start: human_position(&rope, finding.range.start),
            end: human_position(&rope, finding.range.end),
            utf16_columns: (utf16_column(finding.range.start), utf16_column(finding.range.end)),
            finding,
        })
        .collect()
}

/// Validate pipeline files, with `workspace` as the root for `file` prompts.
pub fn validate_pipelines(paths: &[PathBuf], workspace: &Path) -> Report {
    let started = Instant::now();
    let context = crate::pipeline::validate::ValidationContext { workspace: Some(workspace) };
    let files = paths
        .iter()
        .map(|path| match std::fs::read(path).map(String::from_utf8) {
            Ok(Ok(source)) => {
                let findings = crate::pipeline::validate::validate(&source, &context);
                CheckedFile { path: path.clone(), lines: source.lines().count(), problems: locate(&source, findings), error: None }
            }
            Ok(Err(_)) => unreadable(path, "not valid UTF-8".to_string()),
            Err(error) => unreadable(path, error.to_string()),
        })
        .collect();
    Report { files, elapsed: started.elapsed() }
}

/// What `check --fix` did to one file: the number of fixes applied, or why
/// the file was left alone.
pub struct FixOutcome {
    pub path: PathBuf,
    pub result: Result<usize, String>,
}

/// Apply safe fixes to every Elixir file under `paths`.
pub fn fix_paths(paths: &[PathBuf], settings: &RuleSettings) -> Vec<FixOutcome> {
    collect_files(paths)
        .par_iter()
        .map(|path| FixOutcome { path: path.clone(), result: fix_file(path, settings) })
        .collect()
}

fn fix_file(path: &Path, settings: &RuleSettings) -> Result<usize, String> {
    let source = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let options = AnalysisOptions { path: Some(path.to_string_lossy().into_owned()), rules: settings.clone(), workspace: None, ..Default::default() };
    let fixed = crate::elixir::fixes::fix_all(&source, &options)?;
    if fixed.applied > 0 {
        write_atomically(path, &fixed.text).map_err(|e| format!("cannot write: {e}"))?;
    }
    Ok(fixed.applied)
}

/// Write through a temporary file in the same directory, then rename: a
/// crash leaves either the old file or the new one, never half of each.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut temporary = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut temporary, text.as_bytes())?;
    if let Ok(metadata) = std::fs::metadata(path) {
        temporary.as_file().set_permissions(metadata.permissions())?;
    }
    temporary.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn unreadable(path: &Path, error: String) -> CheckedFile {
    CheckedFile { path: path.to_path_buf(), lines: 0, problems: Vec::new(), error: Some(error) }
}

fn human_position(rope: &Rope, offset: usize) -> TextPosition {
    let position = position_at(rope, offset, PositionEncoding::Utf32);
    TextPosition::new(position.line + 1, position.character + 1)
}
