//! `elexirion check`: analyse Elixir files on disk, in parallel.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use ropey::Rope;

use crate::document::{position_at, PositionEncoding, TextPosition};
use crate::elixir::{self, parser::ElixirParser};
use crate::finding::{Finding, Severity};

/// Directories that hold build output or dependencies, never the user's code.
const SKIPPED_DIRS: &[&str] = &["_build", "deps", "node_modules", ".elixir_ls", ".lexical", ".expert"];

/// A finding located for people: 1-based lines and columns (in characters).
#[derive(Debug)]
pub struct Problem {
    pub finding: Finding,
    pub start: TextPosition,
    pub end: TextPosition,
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
pub fn check_paths(paths: &[PathBuf]) -> Report {
    let started = Instant::now();
    let files = collect_files(paths);
    let mut checked: Vec<CheckedFile> = files
        .par_iter()
        .map_init(ElixirParser::new, |parser, path| check_file(parser, path))
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

pub fn check_file(parser: &mut ElixirParser, path: &Path) -> CheckedFile {
    let source = match std::fs::read(path).map(String::from_utf8) {
        Ok(Ok(source)) => source,
        Ok(Err(_)) => return unreadable(path, "not valid UTF-8".to_string()),
        Err(error) => return unreadable(path, error.to_string()),
    };
    let tree = parser.parse_str(&source, None);
    let findings = elixir::analyze(&source, &tree);
    let problems = if findings.is_empty() {
        Vec::new() // the common case: no rope to build
    } else {
        let rope = Rope::from_str(&source);
        findings
            .into_iter()
            .map(|finding| Problem {
                start: human_position(&rope, finding.range.start),
                end: human_position(&rope, finding.range.end),
                finding,
            })
            .collect()
    };
    CheckedFile { path: path.to_path_buf(), lines: source.lines().count(), problems, error: None }
}

fn unreadable(path: &Path, error: String) -> CheckedFile {
    CheckedFile { path: path.to_path_buf(), lines: 0, problems: Vec::new(), error: Some(error) }
}

fn human_position(rope: &Rope, offset: usize) -> TextPosition {
    let position = position_at(rope, offset, PositionEncoding::Utf32);
    TextPosition::new(position.line + 1, position.character + 1)
}
