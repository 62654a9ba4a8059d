//! Which rules run, and their thresholds (the `[rules]` table of
//! `elexirion.toml`).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleSettings {
    /// Rules turned off, by code (`EXR005`) or name (`missing-impl`).
    pub disable: Vec<String>,
    /// `long-parameter-list`: most parameters a function may take.
    pub max_parameters: usize,
    /// `large-struct`: fields at which a struct counts as large.
    pub struct_fields_limit: usize,
    /// `complex-else-in-with`: most `else` clauses a `with` may have.
    pub max_else_clauses: usize,
}

impl Default for RuleSettings {
    fn default() -> Self {
        Self { disable: Vec::new(), max_parameters: 6, struct_fields_limit: 32, max_else_clauses: 3 }
    }
}

impl RuleSettings {
    pub fn is_enabled(&self, code: &str, name: &str) -> bool {
        !self.disable.iter().any(|d| d.eq_ignore_ascii_case(code) || d == name)
    }
}
