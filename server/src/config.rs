//! `elexirion.toml`, found at the workspace root (or above the current
//! directory for the command line). Every key is optional.
//!
//! ```toml
//! [rules]
//! disable = ["missing-impl", "EXR016"]   # by name or code
//! max-parameters = 6                     # long-parameter-list
//! struct-fields-limit = 32               # large-struct
//! max-else-clauses = 3                   # complex-else-in-with
//!
//! [pipelines]
//! globs = ["ai/**/*.yml"]                # more files to treat as pipelines
//!
//! [providers]
//! claude = ["anthropic", "openai"]       # providers for claude* steps, in fallback order
//! gemini = ["gemini", "openai"]          # providers for gemini* steps
//! timeout-seconds = 120                  # per model request
//! max-retries = 3
//! [providers.models]
//! openai = "llama3.1"                    # model per provider (steps may name their own)
//! [providers.base-urls]
//! openai = "http://localhost:11434/v1"   # overrides ANTHROPIC_/GEMINI_/OPENAI_BASE_URL
//! [providers.prices]                     # US dollars per million tokens, over the list prices
//! "anthropic/claude-sonnet-4-5" = { input = 3.0, output = 15.0 }
//! "openai/llama3.1" = { input = 0, output = 0 }
//!
//! [store]
//! path = ".elexirion/store.db"           # the optimization store, relative to the root
//! mode = "hybrid"                        # traditional | optimized | hybrid | evaluation;
//!                                        # overrides the pipelines' dspy_config/hybrid_config
//! enabled = true                         # false: no store, nothing recorded
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::elixir::rules;
use crate::elixir::settings::RuleSettings;

pub const FILE_NAME: &str = "elexirion.toml";

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub rules: RuleSettings,
    pub pipelines: PipelineSettings,
    pub providers: ProviderSettings,
    pub store: StoreSettings,
}

/// Where the optimization store lives and which prompts the runner serves.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    pub enabled: bool,
    /// Relative to the workspace root unless absolute.
    pub path: PathBuf,
    /// Set: every pipeline runs in this mode, whatever it declares.
    pub mode: Option<crate::store::select::Mode>,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings { enabled: true, path: PathBuf::from(".elexirion/store.db"), mode: None }
    }
}

impl StoreSettings {
    /// The store's file, inside the workspace: a configuration that came
    /// with a cloned repository must not make us write (or set aside) a
    /// file elsewhere.
    pub fn resolve(&self, root: &Path) -> Result<PathBuf, String> {
        crate::workspace::resolve_inside(root, &self.path).map_err(|refused| format!("the store path {refused}"))
    }
}

/// Which providers serve which steps, with which models, URLs and prices.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProviderSettings {
    /// Providers for `claude*` and `parallel_claude` steps, in fallback
    /// order: `anthropic`, `gemini`, `openai`. Default: `["anthropic"]`.
    pub claude: Vec<String>,
    /// Providers for `gemini*` steps. Default: `["gemini"]`.
    pub gemini: Vec<String>,
    pub models: std::collections::BTreeMap<String, String>,
    pub base_urls: std::collections::BTreeMap<String, String>,
    pub timeout_seconds: Option<u64>,
    pub max_retries: Option<u32>,
    /// Dollars per million tokens by `provider/model`, over the list
    /// prices of `pipeline::providers::prices`.
    pub prices: std::collections::BTreeMap<String, crate::pipeline::providers::prices::Price>,
}

pub const PROVIDER_NAMES: &[&str] = &["anthropic", "gemini", "openai"];

/// Which YAML files are pipelines, besides those in `pipelines/` directories,
/// named `*.pipeline.yaml`, or recognised by their content.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineSettings {
    /// Globs relative to the workspace root, e.g. `ai/**/*.yml`.
    pub globs: Vec<String>,
}

impl PipelineSettings {
    /// The globs as one matcher; a broken glob is a configuration error.
    pub fn matcher(&self) -> Result<globset::GlobSet, String> {
        let mut builder = globset::GlobSetBuilder::new();
        for glob in &self.globs {
            builder.add(globset::Glob::new(glob).map_err(|e| format!("[pipelines] globs: {e}"))?);
        }
        builder.build().map_err(|e| format!("[pipelines] globs: {e}"))
    }
}

impl Config {
    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Some(unknown) = config.rules.disable.iter().find(|r| rules::find(r).is_none()) {
            return Err(format!("[rules] disable: no rule is named `{unknown}` (see `elexirion rules`)"));
        }
        if let Some(unknown) = config.rules.enable.iter().find(|r| *r != "all" && rules::find(r).is_none()) {
            return Err(format!("[rules] enable: no rule is named `{unknown}` (see `elexirion rules`)"));
        }
        config.pipelines.matcher()?;
        let providers = &config.providers;
        let named = providers.claude.iter().chain(&providers.gemini).chain(providers.models.keys()).chain(providers.base_urls.keys());
        if let Some(unknown) = named.into_iter().find(|p| !PROVIDER_NAMES.contains(&p.as_str())) {
            return Err(format!("[providers]: unknown provider `{unknown}` (use anthropic, gemini or openai)"));
        }
        crate::pipeline::providers::prices::validate(&providers.prices, PROVIDER_NAMES)?;
        Ok(config)
    }

    /// Load `dir/elexirion.toml`; `Ok(None)` when there is none.
    pub fn load_from_dir(dir: &Path) -> Result<Option<(PathBuf, Config)>, String> {
        let path = dir.join(FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse(&text).map(|c| Some((path.clone(), c))).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// This configuration with editor settings laid over it: the same keys
    /// as the file (`{"rules": {"disable": [...]}, "providers": {...}}`),
    /// each one given replacing the file's.
    pub fn with_overrides(&self, overrides: &serde_json::Value) -> Result<Config, String> {
        fn merge(base: &mut serde_json::Value, over: &serde_json::Value) {
            match (base, over) {
                (serde_json::Value::Object(base), serde_json::Value::Object(over)) => {
                    for (key, value) in over {
                        merge(base.entry(key.clone()).or_insert(serde_json::Value::Null), value);
                    }
                }
                (_, serde_json::Value::Null) => {}
                (base, over) => *base = over.clone(),
            }
        }
        let mut merged = serde_json::to_value(self).map_err(|e| e.to_string())?;
        merge(&mut merged, overrides);
        let config: Config = serde_json::from_value(merged).map_err(|e| format!("editor settings: {e}"))?;
        // The same checks as for the file.
        let text = toml::to_string(&config).map_err(|e| e.to_string())?;
        Config::parse(&text)
    }

    /// The nearest `elexirion.toml` in `start` or a directory above it.
    pub fn discover(start: &Path) -> Result<Option<(PathBuf, Config)>, String> {
        for dir in start.ancestors() {
            if let Some(found) = Config::load_from_dir(dir)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_parses() {
        let config = Config::parse(
            "[rules]\ndisable = [\"missing-impl\", \"EXR016\"]\nmax-parameters = 4\nstruct-fields-limit = 20\nmax-else-clauses = 2\n",
        )
        .unwrap();
        assert_eq!(config.rules.disable, ["missing-impl", "EXR016"]);
        assert_eq!((config.rules.max_parameters, config.rules.struct_fields_limit, config.rules.max_else_clauses), (4, 20, 2));
        let rule = |code| rules::find(code).unwrap();
        assert!(!config.rules.is_enabled(rule("EXR011")), "disabled by name");
        assert!(!config.rules.is_enabled(rule("EXR016")), "disabled by code");
        assert!(config.rules.is_enabled(rule("EXR007")), "on by default");
        assert!(!config.rules.is_enabled(rule("EXR005")), "opt-in");
    }

    #[test]
    fn opt_in_rules_are_enabled_by_name_code_or_all() {
        let rule = |code| rules::find(code).unwrap();
        let config = Config::parse("[rules]\nenable = [\"genserver-call-infinity\", \"EXR019\"]\n").unwrap();
        assert!(config.rules.is_enabled(rule("EXR005")) && config.rules.is_enabled(rule("EXR019")));
        assert!(!config.rules.is_enabled(rule("EXR020")));
        let all = Config::parse("[rules]\nenable = [\"all\"]\ndisable = [\"EXR020\"]\n").unwrap();
        assert!(all.rules.is_enabled(rule("EXR021")) && !all.rules.is_enabled(rule("EXR020")), "disable wins");
        assert!(Config::parse("[rules]\nenable = [\"no-such-rule\"]\n").unwrap_err().contains("enable: no rule"));
    }

    #[test]
    fn pipeline_globs_are_checked() {
        let config = Config::parse("[pipelines]\nglobs = [\"ai/**/*.yml\"]\n").unwrap();
        assert!(config.pipelines.matcher().unwrap().is_match("ai/review/fix.yml"));
        assert!(Config::parse("[pipelines]\nglobs = [\"ai/[\"]\n").unwrap_err().contains("[pipelines] globs"));
    }

    #[test]
    fn editor_settings_override_the_file() {
        let file = Config::parse("[rules]\ndisable = [\"missing-impl\"]\nmax-parameters = 4\n").unwrap();
        let merged = file.with_overrides(&serde_json::json!({ "rules": { "disable": ["EXR005"] }, "providers": { "claude": ["openai"] } })).unwrap();
        assert_eq!(merged.rules.disable, ["EXR005"]);
        assert_eq!(merged.rules.max_parameters, 4, "keys not given keep the file's value");
        assert_eq!(merged.providers.claude, ["openai"]);
        assert!(file.with_overrides(&serde_json::json!({ "rules": { "disable": ["nope"] } })).is_err());
    }

    #[test]
    fn prices_override_by_provider_and_model_and_mistakes_are_named() {
        let config = Config::parse("[providers.prices]\n\"anthropic/claude-sonnet-4-5\" = { input = 2.5, output = 12 }\n\"openai/llama3.1\" = { input = 0, output = 0 }\n").unwrap();
        assert_eq!(config.providers.prices["anthropic/claude-sonnet-4-5"].output, 12.0);
        let error = |text: &str| Config::parse(&format!("[providers.prices]\n{text}\n")).unwrap_err();
        assert!(error("\"claude-sonnet-4-5\" = { input = 3, output = 15 }").contains("\"provider/model\""));
        assert!(error("\"mistral/large\" = { input = 3, output = 15 }").contains("unknown provider `mistral`"));
        assert!(error("\"openai/gpt-4o\" = { input = -1, output = 15 }").contains("input must be dollars per million tokens"));
        // 1e308 passed and printed $inf: a price is 0 to 10,000 dollars per million tokens.
        let absurd = error("\"openai/gpt-4o\" = { input = 1, output = 1e308 }");
        assert!(absurd.contains("`openai/gpt-4o`: output must be dollars per million tokens, from 0 to 10000 (not 1e308)"), "{absurd}");
        assert!(error("\"openai/gpt-4o\" = { input = nan, output = 1 }").contains("input must be"));
        assert!(Config::parse("[providers.prices]\n\"openai/gpt-4o\" = { input = 10000, output = 0 }\n").is_ok());
        assert!(error("\"openai/gpt-4o\" = { input = 1, outptu = 15 }").contains("outptu"));
        assert!(error("\"openai/gpt-4o\" = { input = 1 }").contains("output"));
    }

    #[test]
    fn mistakes_are_named() {
        assert!(Config::parse("[rules]\nmax-params = 4\n").unwrap_err().contains("max-params"));
        assert!(Config::parse("[rules]\ndisable = [\"no-such-rule\"]\n").unwrap_err().contains("no-such-rule"));
        assert!(Config::parse("[rules\n").is_err());
    }
}
