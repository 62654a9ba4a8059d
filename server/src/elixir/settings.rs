//! Which rules run, and their thresholds (the `[rules]` table of
//! `elexirion.toml`).

use serde::{Deserialize, Serialize};

use super::rules::Rule;

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleSettings {
    /// Rules turned off, by code (`EXR005`) or name (`missing-impl`).
    pub disable: Vec<String>,
    /// Opt-in rules turned on, by code or name; `"all"` turns on every rule.
    /// Opt-in rules are those that fell short of the precision bar on code
    /// they were not tuned on (see `docs/precision.md`).
    pub enable: Vec<String>,
    /// `long-parameter-list`: most parameters a function may take.
    pub max_parameters: usize,
    /// `large-struct`: fields at which a struct counts as large.
    pub struct_fields_limit: usize,
    /// `complex-else-in-with`: most `else` clauses a `with` may have.
    pub max_else_clauses: usize,
}

impl Default for RuleSettings {
    fn default() -> Self {
        Self { disable: Vec::new(), enable: Vec::new(), max_parameters: 6, struct_fields_limit: 32, max_else_clauses: 3 }
    }
}

impl RuleSettings {
    /// Whether `rule` runs: not disabled, and on by default or enabled.
    pub fn is_enabled(&self, rule: &Rule) -> bool {
        let names = |list: &[String]| list.iter().any(|r| r.eq_ignore_ascii_case(rule.code) || r == rule.name);
        !names(&self.disable) && (rule.default || names(&self.enable) || self.enable.iter().any(|r| r == "all"))
    }
}
