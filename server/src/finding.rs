//! What an analysis reports, in plain data: byte ranges, never protocol types.

use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Information,
    Hint,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "info",
            Severity::Hint => "hint",
        }
    }
}

/// One problem found in a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Byte range in the document's text.
    pub range: Range<usize>,
    pub severity: Severity,
    /// Stable code, e.g. `EXR000`.
    pub code: &'static str,
    /// Kebab-case name, e.g. `syntax-error`.
    pub name: &'static str,
    pub message: String,
    pub fix: Option<Fix>,
}

impl Finding {
    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }
}

/// Whether a fix may be applied without a person looking at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Applicability {
    /// Keeps behaviour: applied by "fix all" and `check --fix`.
    Safe,
    /// May change behaviour: offered only on request.
    Unsafe,
}

impl Applicability {
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
        }
    }
}

/// Replace `range` (bytes) with `new_text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub new_text: String,
}

impl Edit {
    pub fn insert(at: usize, text: impl Into<String>) -> Self {
        Edit { range: at..at, new_text: text.into() }
    }

    pub fn replace(range: Range<usize>, text: impl Into<String>) -> Self {
        Edit { range, new_text: text.into() }
    }

    /// The one edit that turns `old` into `new`: what lies between their
    /// common start and common end (on character boundaries).
    pub fn between(old: &str, new: &str) -> Self {
        let mut prefix = old.bytes().zip(new.bytes()).take_while(|(a, b)| a == b).count();
        while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
            prefix -= 1;
        }
        let max_suffix = old.len().min(new.len()) - prefix;
        let mut suffix = old.bytes().rev().zip(new.bytes().rev()).take(max_suffix).take_while(|(a, b)| a == b).count();
        while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
            suffix -= 1;
        }
        Edit::replace(prefix..old.len() - suffix, &new[prefix..new.len() - suffix])
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub applicability: Applicability,
    /// Non-overlapping edits, all against the same text.
    pub edits: Vec<Edit>,
}

/// Apply `edits` (non-overlapping) to `text`.
pub fn apply_edits(text: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for edit in sorted {
        out.push_str(&text[at..edit.range.start]);
        out.push_str(&edit.new_text);
        at = edit.range.end;
    }
    out.push_str(&text[at..]);
    out
}
