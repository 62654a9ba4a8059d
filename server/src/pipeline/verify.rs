//! What an edit to Elixir code must pass before it is offered or written:
//! no new syntax error, the public API and every ExUnit test kept (unless
//! the pipeline says it may change them), and its effect on Elexirion's own
//! findings stated.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use tree_sitter::Node;

use crate::elixir::parser::with_parser;
use crate::elixir::syntax::{self, call_name, function_def, text};
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
    // One analysis of each text serves every check: its syntax errors
    // (EXR000) and its warnings. Suppression comments are looked through:
    // hiding a warning does not fix it.
    let options = AnalysisOptions { keep_suppressed: true, ..options.clone() };
    let found_before = analysis::analyze(before, &before_tree, &options);
    let found_after = analysis::analyze(after, &after_tree, &options);
    let errors = |found: &[Finding]| found.iter().filter(|f| f.code == syntax_errors::CODE).count();
    let (errors_before, errors_after) = (errors(&found_before), errors(&found_after));
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
    // Each warning is told apart by its rule and the code on its line, so
    // a warning moved elsewhere is one fixed and one added.
    let warnings = |source: &str, findings: Vec<Finding>| {
        let mut counts = BTreeMap::<(String, String), usize>::new();
        for finding in findings.into_iter().filter(|f| f.severity != Severity::Error) {
            let line_start = source[..finding.range.start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = source[finding.range.start..].find('\n').map_or(source.len(), |i| finding.range.start + i);
            let line = source[line_start..line_end].trim().to_string();
            *counts.entry((finding.code.to_string(), line)).or_default() += 1;
        }
        counts
    };
    let was = warnings(before, found_before);
    let now = warnings(after, found_after);
    let mut verification = Verification::default();
    for key in was.keys().chain(now.keys()).collect::<BTreeSet<_>>() {
        let (old, new) = (was.get(key).copied().unwrap_or(0), now.get(key).copied().unwrap_or(0));
        let code = key.0.clone();
        if old > new {
            *verification.fixed.entry(code).or_default() += old - new;
        } else if new > old {
            *verification.added.entry(code).or_default() += new - old;
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
    let mut setups = BTreeMap::<String, usize>::new();
    // Depth-first with an explicit stack (real code nests deeply); each
    // node carries the name of the module (and `describe`) it is in.
    let mut stack: Vec<(Node, String)> = vec![(root, String::new())];
    while let Some((node, scope)) = stack.pop() {
        let inner = match definition(node, source, &scope) {
            Some(Definition::Scope(name)) => {
                api.insert(name.clone());
                name
            }
            Some(Definition::Describe(name)) => name,
            Some(Definition::Api(keys)) => {
                api.extend(keys);
                scope.clone()
            }
            Some(Definition::Setup) => {
                let count = setups.entry(scope.clone()).or_default();
                *count += 1;
                api.insert(format!("{scope} setup #{count}"));
                scope.clone()
            }
            None => scope.clone(),
        };
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        stack.extend(children.into_iter().rev().map(|child| (child, inner.clone())));
    }
    api
}

/// What a node defines that a rewrite must keep.
enum Definition {
    /// A module, protocol or implementation: its name, the scope inside it.
    Scope(String),
    /// An ExUnit `describe`: the scope inside it, not itself kept.
    Describe(String),
    /// Public functions, macros, guards, delegations, tests, doctests.
    Api(Vec<String>),
    Setup,
}

fn definition(node: Node, source: &str, scope: &str) -> Option<Definition> {
    const DEFINING: &[&str] = &["defmodule", "defprotocol", "defimpl", "describe", "test", "property", "doctest", "setup", "setup_all", "defdelegate", "def", "defmacro", "defguard"];
    let name = call_name(node, source).filter(|n| n.is_local(DEFINING))?;
    // Asked of every call in the file: its arguments only once it defines something.
    let arguments = syntax::written_arguments(node);
    let first = arguments.first().copied();
    let joined = |inner: &str| if scope.is_empty() { inner.to_string() } else { format!("{scope}.{inner}") };
    let written = |n: Node| text(n, source).split_whitespace().collect::<Vec<_>>().join(" ");
    Some(match name.function {
        "defmodule" | "defprotocol" => Definition::Scope(joined(text(first?, source))),
        "defimpl" => Definition::Scope(joined(&format!("impl {}", arguments.iter().map(|a| written(*a)).collect::<Vec<_>>().join(", ")))),
        "describe" if first?.kind() == "string" => Definition::Describe(format!("{scope} {}", text(first?, source))),
        "test" | "property" if first?.kind() == "string" => Definition::Api(vec![format!("{scope} {} {}", name.function, text(first?, source))]),
        "doctest" => Definition::Api(vec![format!("{scope} doctest {}", written(first?))]),
        "setup" | "setup_all" => Definition::Setup,
        "defdelegate" => {
            let (function, arity) = delegated(node, source)?;
            Definition::Api(vec![format!("{scope}.{function}/{arity}")])
        }
        "def" | "defmacro" | "defguard" => Definition::Api(match function_def(node, source) {
            Some(def) if def.keyword == "def" || def.keyword == "defmacro" => {
                let defaults = def.params.iter().filter(|p| is_default(**p)).count();
                let arity = def.arity();
                (arity - defaults..=arity).map(|arity| format!("{scope}.{}/{arity}", def.name)).collect()
            }
            // Heads we do not model (operators, `unquote`, guards): kept as written.
            _ => vec![format!("{scope} {} {}", name.function, written(first?))],
        }),
        _ => return None,
    })
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
    fn a_moved_warning_is_one_fixed_and_one_added_and_hiding_one_fixes_nothing() {
        let moved = WORKER
            .replace("GenServer.call(server, :fetch, :infinity)", "GenServer.call(server, :fetch)")
            .replace("  defp helper(x), do: x", "  defp helper(x), do: GenServer.call(x, :helper, :infinity)");
        let verification = verify(WORKER, &moved, &every_rule(), false).unwrap();
        assert_eq!((verification.fixed_count(), verification.added_count()), (1, 1), "{verification:?}");
        let hidden = format!("# elexirion:disable-file\n{WORKER}");
        let verification = verify(WORKER, &hidden, &every_rule(), false).unwrap();
        assert_eq!((verification.fixed_count(), verification.added_count()), (0, 0), "{verification:?}");
    }

    #[test]
    fn guards_operators_protocols_and_conditional_defs_are_api_too() {
        let before = "defmodule Shapes do\n  defguard is_key(k) when is_atom(k)\n  def left ~> right, do: {left, right}\n  if Mix.env() == :test do\n    def debug(x), do: x\n  end\n  for name <- [:alpha, :beta], do: def(unquote(name)(), do: unquote(name))\nend\n\ndefprotocol Shapes.Shape do\n  def area(shape)\nend\n\ndefimpl String.Chars, for: Shapes do\n  def to_string(_), do: \"shapes\"\nend\n";
        for (removed, lost) in [
            ("  defguard is_key(k) when is_atom(k)\n", "is_key"),
            ("  def left ~> right, do: {left, right}\n", "~>"),
            ("    def debug(x), do: x\n", "debug/1"),
            ("  def area(shape)\n", "area/1"),
        ] {
            let refusal = verify(before, &before.replace(removed, ""), &AnalysisOptions::default(), false).unwrap_err();
            assert!(matches!(&refusal, Refusal::LostApi(names) if names.iter().any(|n| n.contains(lost))), "{removed}: {refusal:?}");
        }
        let without_impl = before.split("defimpl").next().unwrap().to_string();
        assert!(matches!(verify(before, &without_impl, &AnalysisOptions::default(), false), Err(Refusal::LostApi(_))));
    }

    #[test]
    fn doctests_properties_setups_and_generated_tests_are_kept() {
        let before = "defmodule App.WorkerTest do\n  use ExUnit.Case\n  doctest App.Worker\n\n  setup do\n    :ok\n  end\n\n  for k <- [:x, :y] do\n    test \"roundtrip #{k}\" do\n      assert true\n    end\n  end\n\n  property \"anything\" do\n    assert true\n  end\nend\n";
        for removed in ["  doctest App.Worker\n", "  setup do\n    :ok\n  end\n", "    test \"roundtrip #{k}\" do\n      assert true\n    end\n", "  property \"anything\" do\n    assert true\n  end\n"] {
            assert!(matches!(verify(before, &before.replace(removed, ""), &AnalysisOptions::default(), false), Err(Refusal::LostApi(_))), "{removed}");
        }
    }

    #[test]
    fn the_effect_on_our_own_findings_is_counted() {
        let after = WORKER.replace("GenServer.call(server, :fetch, :infinity)", "GenServer.call(server, :fetch)");
        let verification = verify(WORKER, &after, &every_rule(), false).unwrap();
        assert_eq!(verification.fixed_count(), 1, "{verification:?}");
        assert_eq!(verification.added_count(), 0);
        assert!(verification.summary().starts_with("fixes 1 warning ("), "{}", verification.summary());
    }

    /// `genserver-call-infinity`, which these tests move around, is opt-in.
    fn every_rule() -> AnalysisOptions {
        let rules = crate::elixir::settings::RuleSettings { enable: vec!["all".into()], ..Default::default() };
        AnalysisOptions { rules, ..Default::default() }
    }
}
