//! What an edit to Elixir code must pass before it is offered or written:
//! no new syntax error, the public API and every ExUnit test kept (unless
//! the pipeline says it may change them), and its effect on Elexirion's own
//! findings stated.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use tree_sitter::Node;

use crate::elixir::modules::module_def;
use crate::elixir::parser::with_parser;
use crate::elixir::syntax::{self, call_name, text};
use crate::elixir::{self as analysis, syntax_errors, AnalysisOptions};
use crate::finding::{Finding, Severity};

/// What an acceptable edit does to the file.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Verification {
    /// Warnings (by rule code) the edit removes, and those it adds.
    pub fixed: BTreeMap<String, usize>,
    pub added: BTreeMap<String, usize>,
}

impl Verification {
    pub fn fixed_count(&self) -> usize {
        self.fixed.values().sum()
    }

    pub fn added_count(&self) -> usize {
        self.added.values().sum()
    }

    /// "fixes 3 warnings (EXR005 ×2, EXR010), adds 0".
    pub fn summary(&self) -> String {
        let list = |counts: &BTreeMap<String, usize>| {
            let named: Vec<String> = counts.iter().map(|(code, n)| if *n > 1 { format!("{code} ×{n}") } else { code.clone() }).collect();
            if named.is_empty() { String::new() } else { format!(" ({})", named.join(", ")) }
        };
        let (fixed, added) = (self.fixed_count(), self.added_count());
        format!("fixes {fixed} warning{}{}, adds {added}{}", if fixed == 1 { "" } else { "s" }, list(&self.fixed), list(&self.added))
    }
}

/// Why an edit is not offered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    SyntaxErrors { before: usize, after: usize },
    /// Modules, public functions (`Mod.fun/2`) and tests the edit would remove.
    LostApi(Vec<String>),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::SyntaxErrors { before, after } => write!(f, "the proposed code has syntax errors ({after}, the file had {before}); nothing was changed"),
            Refusal::LostApi(lost) => write!(
                f,
                "the proposed code removes public API or tests: {}; nothing was changed (a pipeline that may change the API says `may_change_api: true` in its editor block)",
                lost.join(", ")
            ),
        }
    }
}

/// Check `after` against `before` (both whole Elixir files).
pub fn verify(before: &str, after: &str, options: &AnalysisOptions, may_change_api: bool) -> Result<Verification, Refusal> {
    let before_tree = with_parser(|p| p.parse_str(before, None));
    let after_tree = with_parser(|p| p.parse_revision(before, &before_tree, after));
    let errors = |source: &str, tree| syntax_errors::syntax_errors(source, tree).len();
    let (errors_before, errors_after) = (errors(before, &before_tree), errors(after, &after_tree));
    if errors_after > errors_before {
        return Err(Refusal::SyntaxErrors { before: errors_before, after: errors_after });
    }
    if !may_change_api {
        let kept = public_api_of(after, after_tree.root_node());
        let lost: Vec<String> = public_api_of(before, before_tree.root_node()).difference(&kept).cloned().collect();
        if !lost.is_empty() {
            return Err(Refusal::LostApi(lost));
        }
    }
    let warnings = |findings: Vec<Finding>| {
        let mut counts = BTreeMap::<String, usize>::new();
        for finding in findings.into_iter().filter(|f| f.severity != Severity::Error) {
            *counts.entry(finding.code.to_string()).or_default() += 1;
        }
        counts
    };
    let was = warnings(analysis::analyze(before, &before_tree, options));
    let now = warnings(analysis::analyze(after, &after_tree, options));
    let mut verification = Verification::default();
    for code in was.keys().chain(now.keys()).collect::<BTreeSet<_>>() {
        let (old, new) = (was.get(code).copied().unwrap_or(0), now.get(code).copied().unwrap_or(0));
        if old > new {
            verification.fixed.insert(code.clone(), old - new);
        } else if new > old {
            verification.added.insert(code.clone(), new - old);
        }
    }
    Ok(verification)
}

/// Every module (`App.Worker`) and public function (`App.Worker.fetch/1`)
/// a file defines; a function with default arguments counts at each arity.
pub fn public_api(source: &str) -> BTreeSet<String> {
    let tree = with_parser(|p| p.parse_str(source, None));
    public_api_of(source, tree.root_node())
}

fn public_api_of(source: &str, root: Node) -> BTreeSet<String> {
    let mut api = BTreeSet::new();
    for statement in syntax::named_children(root) {
        collect_module(statement, source, "", &mut api);
    }
    api
}

fn collect_module(node: Node, source: &str, prefix: &str, api: &mut BTreeSet<String>) {
    let Some(module) = module_def(node, source) else { return };
    let name = if prefix.is_empty() { module.name.clone() } else { format!("{prefix}.{}", module.name) };
    api.insert(name.clone());
    for function in module.functions.iter().filter(|f| f.def.is_public()) {
        let defaults = function.def.params.iter().filter(|p| is_default(**p)).count();
        let arity = function.def.arity();
        for arity in arity - defaults..=arity {
            api.insert(format!("{name}.{}/{arity}", function.def.name));
        }
    }
    for statement in &module.statements {
        if let Some((function, arity)) = delegated(*statement, source) {
            api.insert(format!("{name}.{function}/{arity}"));
        }
        collect_tests(*statement, source, &name, api);
        collect_module(*statement, source, &name, api);
    }
}

/// ExUnit tests count as API too: a rewrite never deletes a test.
fn collect_tests(node: Node, source: &str, prefix: &str, api: &mut BTreeSet<String>) {
    let Some(name) = call_name(node, source) else { return };
    let title = syntax::written_arguments(node).first().filter(|a| a.kind() == "string").map(|a| text(*a, source).to_string());
    match (name.function, title) {
        ("test", Some(title)) if name.module.is_none() => {
            api.insert(format!("{prefix} test {title}"));
        }
        ("describe", Some(title)) if name.module.is_none() => {
            let inner = format!("{prefix} {title}");
            for statement in syntax::do_block(node).map(syntax::statements).unwrap_or_default() {
                collect_tests(statement, source, &inner, api);
            }
        }
        _ => {}
    }
}

/// `a \\ 1`: a parameter with a default value.
fn is_default(param: Node) -> bool {
    param.kind() == "binary_operator" && param.child_by_field_name("operator").is_some_and(|o| o.kind() == "\\\\")
}

/// `defdelegate fun(a, b), to: M` as `("fun", 2)`.
fn delegated<'s>(call: Node, source: &'s str) -> Option<(&'s str, usize)> {
    if !call_name(call, source)?.is_local(&["defdelegate"]) {
        return None;
    }
    let head = *syntax::written_arguments(call).first()?;
    match head.kind() {
        "call" => Some((call_name(head, source)?.function, syntax::written_arguments(head).len())),
        "identifier" => Some((text(head, source), 0)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORKER: &str = "defmodule App.Worker do
  use GenServer

  def start_link(opts \\\\ []), do: GenServer.start_link(__MODULE__, opts)
  def fetch(server), do: GenServer.call(server, :fetch, :infinity)
  defp helper(x), do: x
  defmacro trace(x), do: x
  defdelegate size(map), to: Kernel, as: :map_size

  @impl true
  def init(state), do: {:ok, state}

  @impl true
  def handle_call(:fetch, _from, state), do: {:reply, state, state}

  defmodule State do
    defstruct [:n]
    def new, do: %__MODULE__{n: 0}
  end
end
";

    #[test]
    fn the_public_api_is_modules_and_public_functions_at_every_arity() {
        let api: Vec<String> = public_api(WORKER).into_iter().collect();
        assert_eq!(
            api,
            [
                "App.Worker", "App.Worker.State", "App.Worker.State.new/0", "App.Worker.fetch/1", "App.Worker.handle_call/3",
                "App.Worker.init/1", "App.Worker.size/1", "App.Worker.start_link/0", "App.Worker.start_link/1", "App.Worker.trace/1",
            ]
        );
    }

    #[test]
    fn an_edit_that_drops_a_public_function_is_refused_naming_it() {
        let after = WORKER.replace("  def fetch(server), do: GenServer.call(server, :fetch, :infinity)\n", "");
        let refusal = verify(WORKER, &after, &AnalysisOptions::default(), false).unwrap_err();
        assert_eq!(refusal, Refusal::LostApi(vec!["App.Worker.fetch/1".into()]));
        assert!(verify(WORKER, &after, &AnalysisOptions::default(), true).is_ok());
    }

    #[test]
    fn a_rewrite_of_a_test_file_keeps_every_test() {
        let before = "defmodule App.WorkerTest do\n  use ExUnit.Case\n\n  describe \"fetch/1\" do\n    test \"returns the state\" do\n      assert true\n    end\n  end\n\n  test \"starts\", do: assert(true)\nend\n";
        let added = before.replace("  test \"starts\"", "  test \"stops\", do: assert(true)\n  test \"starts\"");
        assert!(verify(before, &added, &AnalysisOptions::default(), false).is_ok());
        let dropped = before.replace("    test \"returns the state\" do\n      assert true\n    end\n", "");
        let refusal = verify(before, &dropped, &AnalysisOptions::default(), false).unwrap_err();
        assert_eq!(refusal, Refusal::LostApi(vec!["App.WorkerTest \"fetch/1\" test \"returns the state\"".into()]));
    }

    #[test]
    fn an_edit_that_breaks_the_syntax_is_refused() {
        let after = WORKER.replace("def init(state), do: {:ok, state}", "def init(state) do {:ok, state}");
        assert!(matches!(verify(WORKER, &after, &AnalysisOptions::default(), false), Err(Refusal::SyntaxErrors { .. })));
    }

    #[test]
    fn the_effect_on_our_own_findings_is_counted() {
        let after = WORKER.replace("GenServer.call(server, :fetch, :infinity)", "GenServer.call(server, :fetch)");
        let verification = verify(WORKER, &after, &AnalysisOptions::default(), false).unwrap();
        assert_eq!(verification.fixed_count(), 1, "{verification:?}");
        assert_eq!(verification.added_count(), 0);
        assert!(verification.summary().starts_with("fixes 1 warning ("), "{}", verification.summary());
    }
}
