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
}
