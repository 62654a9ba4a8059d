//! The rules: one file each, listed in [`RULES`].
//!
//! A rule is a code, a kebab-case name, documentation (why it matters, a bad
//! and a good example), and a check: a pure function from the parsed file
//! to findings, each with an optional fix.

mod agent_whole_state;
mod blocking_sleep_in_callback;
mod blocking_work_in_init;
mod call_self_deadlock;
mod code_organization_by_process;
mod compile_time_app_config;
mod complex_else_in_with;
mod dynamic_atom_creation;
mod genserver_call_infinity;
mod handle_info_without_catch_all;
mod invalid_callback_return;
mod large_struct;
mod long_parameter_list;
mod missing_impl;
mod receive_in_callback;
mod runtime_atom_creation;
mod scattered_process_interface;
mod sending_unnecessary_data;
mod task_async_without_await;
mod terminate_without_trap_exit;
mod unsupervised_process;

use std::ops::Range;

use tree_sitter::{Node, Tree};

use super::modules::{self, Function, ModuleDef, GENSERVER_CALLBACKS};
use super::syntax::{contains, FunctionDef};
use super::settings::RuleSettings;
use crate::finding::{Applicability, Finding, Severity};

pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// Markdown: why it is a problem, an example, what to write instead.
    pub doc: &'static str,
    /// The kind of fix the rule offers, if any.
    pub fix: Option<Applicability>,
    /// Whether test files and scripts are checked too. Rules about design
    /// (supervision, interfaces, state) skip them: test doubles break those
    /// rules on purpose. Rules about bugs check them.
    pub checks_tests: bool,
    /// On unless turned off. Rules below the precision bar on held-out
    /// code are opt-in (`[rules] enable`): better silent than noisy.
    pub default: bool,
    pub check: fn(&Context, &mut Vec<Finding>),
}

impl Rule {
    pub fn finding(&self, range: Range<usize>, message: impl Into<String>) -> Finding {
        Finding {
            range,
            severity: Severity::Warning,
            code: self.code,
            name: self.name,
            message: message.into(),
            fix: None,
        }
    }

    pub fn finding_at(&self, node: Node, message: impl Into<String>) -> Finding {
        self.finding(node.byte_range(), message)
    }
}

/// Every rule, in code order.
pub const RULES: &[&Rule] = &[
    &unsupervised_process::RULE,
    &scattered_process_interface::RULE,
    &sending_unnecessary_data::RULE,
    &code_organization_by_process::RULE,
    &genserver_call_infinity::RULE,
    &call_self_deadlock::RULE,
    &blocking_sleep_in_callback::RULE,
    &receive_in_callback::RULE,
    &invalid_callback_return::RULE,
    &handle_info_without_catch_all::RULE,
    &missing_impl::RULE,
    &terminate_without_trap_exit::RULE,
    &task_async_without_await::RULE,
    &blocking_work_in_init::RULE,
    &agent_whole_state::RULE,
    &dynamic_atom_creation::RULE,
    &compile_time_app_config::RULE,
    &complex_else_in_with::RULE,
    &long_parameter_list::RULE,
    &large_struct::RULE,
    &runtime_atom_creation::RULE,
];

pub fn find(code_or_name: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

/// A call and its name, resolved once for all rules.
#[derive(Clone, Copy, Debug)]
pub struct NamedCall<'a, 't> {
    pub node: Node<'t>,
    pub name: super::syntax::CallName<'a>,
}

/// What a rule sees of a file.
pub struct Context<'a, 't> {
    pub source: &'a str,
    pub tree: &'t Tree,
    pub modules: Vec<ModuleDef<'t>>,
    /// Every named `call` of the file, in order: most rules start from
    /// calls, and one walk serves them all.
    pub calls: Vec<NamedCall<'a, 't>>,
    /// Every comment (for suppressions) and quoted atom, from the same walk.
    pub comments: Vec<Node<'t>>,
    pub quoted_atoms: Vec<Node<'t>>,
    /// Every `fn`, function definition and `quote` block, in document order,
    /// to tell what encloses a node without walking up the tree.
    anonymous_functions: Vec<Node<'t>>,
    definitions: Vec<super::syntax::FunctionDef<'t>>,
    quotes: Vec<Node<'t>>,
    /// The file's path, when known (tests and scripts are treated apart).
    pub path: Option<&'a str>,
    pub settings: &'a RuleSettings,
}

impl<'a, 't> Context<'a, 't> {
    pub fn new(source: &'a str, tree: &'t Tree, path: Option<&'a str>, settings: &'a RuleSettings) -> Self {
        let nodes = super::syntax::NodesOfInterest::collect(tree);
        let calls: Vec<NamedCall> = nodes
            .calls
            .into_iter()
            .filter_map(|node| super::syntax::call_name(node, source).map(|name| NamedCall { node, name }))
            .collect();
        let modules = calls
            .iter()
            .filter(|c| c.name.is_local(&["defmodule"]))
            .filter_map(|c| modules::module_def(c.node, source))
            .collect();
        let definitions = calls
            .iter()
            .filter(|c| c.name.is_local(&["def", "defp", "defmacro", "defmacrop"]))
            .filter_map(|c| super::syntax::function_def(c.node, source))
            .collect();
        let quotes = calls.iter().filter(|c| c.name.is_local(&["quote"])).map(|c| c.node).collect();
        Self {
            source,
            tree,
            modules,
            calls,
            comments: nodes.comments,
            quoted_atoms: nodes.quoted_atoms,
            anonymous_functions: nodes.anonymous_functions,
            definitions,
            quotes,
            path,
            settings,
        }
    }

    /// Calls named `module.function` for any of the given modules and functions.
    pub fn calls_to<'c>(&'c self, modules: &'c [&str], functions: &'c [&str]) -> impl Iterator<Item = Node<'t>> + 'c {
        self.calls.iter().filter(move |call| call.name.is(modules, functions)).map(|call| call.node)
    }

    /// The calls inside `node`, in order (a binary search: calls are sorted).
    pub fn calls_within(&self, node: Node) -> impl Iterator<Item = &NamedCall<'a, 't>> {
        let first = self.calls.partition_point(|c| c.node.start_byte() < node.start_byte());
        let end = node.end_byte();
        self.calls[first..].iter().take_while(move |c| c.node.start_byte() < end).filter(move |c| c.node.end_byte() <= end)
    }

    /// The calls inside `node` that run in the same process: those inside an
    /// anonymous function (which may run elsewhere, or later) are left out.
    pub fn calls_in_this_process(&self, node: Node<'t>) -> impl Iterator<Item = &NamedCall<'a, 't>> {
        let closures: Vec<Node> = self
            .anonymous_functions
            .iter()
            .copied()
            .filter(|f| contains(node, *f) && *f != node)
            .collect();
        self.calls_within(node).filter(move |call| !closures.iter().any(|f| contains(*f, call.node)))
    }

    /// Every call made in this process by a GenServer callback: the callback
    /// (and its module) with each call.
    pub fn genserver_callback_calls(&self) -> Vec<(&ModuleDef<'t>, &Function<'t>, &NamedCall<'a, 't>)> {
        let mut found = Vec::new();
        for module in self.modules.iter().filter(|m| m.is_genserver()) {
            for callback in genserver_callbacks(module) {
                let Some(body) = callback.def.body else { continue };
                found.extend(self.calls_in_this_process(body).map(|call| (module, callback, call)));
            }
        }
        found
    }

    pub fn text(&self, node: Node) -> &'a str {
        super::syntax::text(node, self.source)
    }

    pub fn is_test_or_script(&self) -> bool {
        super::syntax::is_test_or_script(self.path)
    }

    /// The innermost module whose body holds `node`.
    pub fn module_of(&self, node: Node) -> Option<&ModuleDef<'t>> {
        self.modules
            .iter()
            .filter(|m| m.node.start_byte() <= node.start_byte() && node.end_byte() <= m.node.end_byte())
            .max_by_key(|m| m.node.start_byte())
    }

    /// The innermost function clause around `node`, including `def`s that
    /// macros write inside `quote` blocks.
    pub fn function_of(&self, node: Node<'t>) -> Option<&FunctionDef<'t>> {
        let candidates = self.definitions.partition_point(|d| d.node.start_byte() <= node.start_byte());
        self.definitions[..candidates].iter().rev().find(|d| contains(d.node, node) && d.node != node)
    }

    /// Whether `node` sits inside a `quote` block (code written by a macro).
    pub fn in_quote(&self, node: Node) -> bool {
        self.quotes.iter().any(|q| contains(*q, node))
    }
}

/// The GenServer callback clauses of a module (which must be a GenServer).
pub fn genserver_callbacks<'m, 't>(module: &'m ModuleDef<'t>) -> impl Iterator<Item = &'m Function<'t>> {
    module
        .functions
        .iter()
        .filter(|f| f.def.is_public() && GENSERVER_CALLBACKS.contains(&(f.def.name.as_str(), f.def.arity())))
}

/// Run every enabled rule over a parsed file.
pub fn check_all(context: &Context, findings: &mut Vec<Finding>, cancel: &crate::cancellation::Cancellation) {
    let in_test = context.is_test_or_script();
    for rule in RULES {
        if cancel.is_cancelled() {
            return;
        }
        if context.settings.is_enabled(rule) && (rule.checks_tests || !in_test) {
            (rule.check)(context, findings);
        }
    }
}
