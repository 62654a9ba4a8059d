//! Supervision children: the list given to `Supervisor.start_link/2` or
//! `Supervisor.init/2` (written there, or bound to a variable before),
//! and `children = [...]` in Application and Supervisor modules.

use tree_sitter::Node;

use super::extract::{collapse, Walker};
use super::file::{Child, ChildList};
use crate::elixir::syntax::{self, text, written_arguments};

/// `name = value` inside a function, where value may hold a list.
pub(super) struct Binding<'t> {
    pub name: String,
    pub value: Node<'t>,
    /// The enclosing definition's node id.
    pub function: Option<usize>,
    pub module: Option<u32>,
}

/// `Supervisor.start_link(argument, opts)` or `Supervisor.init(argument, opts)`.
pub(super) struct SupervisorCall<'t> {
    pub argument: Node<'t>,
    pub function: Option<usize>,
    pub module: Option<u32>,
}

/// The longest child spec kept as written, in bytes.
const MAX_WRITTEN: usize = 100;
/// How deep the recursive helpers look: real specs are shallow, and
/// hostile input must not exhaust the stack.
const MAX_DEPTH: usize = 32;

pub(super) fn child_lists(walker: &Walker, bindings: &[Binding], calls: &[SupervisorCall]) -> Vec<ChildList> {
    let mut used = vec![false; bindings.len()];
    let mut found = Vec::new();
    for call in calls {
        let Some(module) = call.module else { continue };
        let value = if call.argument.kind() == "identifier" {
            let name = text(call.argument, walker.source);
            let bound = bindings.iter().enumerate().rev().find(|(_, b)| {
                b.name == name && b.function == call.function && b.value.start_byte() < call.argument.start_byte()
            });
            let Some((index, binding)) = bound else { continue };
            used[index] = true;
            binding.value
        } else {
            call.argument
        };
        found.extend(child_list(walker, module, value));
    }
    for (binding, _) in bindings.iter().zip(&used).filter(|(b, used)| !**used && b.name == "children") {
        let Some(module) = binding.module else { continue };
        let info = walker.module_info(module);
        if info.is_application() || info.is_supervisor() {
            found.extend(child_list(walker, module, binding.value));
        }
    }
    found.sort_by_key(|list| list.line);
    found
}

fn child_list(walker: &Walker, holder: u32, value: Node) -> Option<ChildList> {
    let lists = lists_in(value, walker.source, 0);
    let first = lists.first()?;
    let children = lists
        .iter()
        .flat_map(|list| syntax::named_children(*list))
        .filter(|c| c.kind() != "comment")
        .map(|c| child(walker, c))
        .collect();
    Some(ChildList {
        holder: walker.module_info(holder).name.clone(),
        line: first.start_position().row + 1,
        children,
    })
}

/// `[a]`, each side of `[a] ++ [b]`, each branch of `if c, do: [a], else: []`.
fn lists_in<'t>(node: Node<'t>, source: &str, depth: usize) -> Vec<Node<'t>> {
    if depth > MAX_DEPTH {
        return Vec::new();
    }
    match node.kind() {
        "list" => vec![node],
        "binary_operator" if node.child_by_field_name("operator").is_some_and(|o| o.kind() == "++") => {
            let sides = [node.child_by_field_name("left"), node.child_by_field_name("right")];
            sides.into_iter().flatten().flat_map(|side| lists_in(side, source, depth + 1)).collect()
        }
        "call" if syntax::call_name(node, source).is_some_and(|n| n.is_local(&["if", "unless", "case", "cond"])) => {
            let branches = syntax::return_expressions(node, source);
            branches.into_iter().filter(|b| *b != node).flat_map(|b| lists_in(b, source, depth + 1)).collect()
        }
        _ => Vec::new(),
    }
}

fn child(walker: &Walker, node: Node) -> Child {
    Child {
        written: collapse(text(node, walker.source), MAX_WRITTEN),
        module: started_module(walker, node, 0),
        name: name_option(walker, node),
        line: node.start_position().row + 1,
    }
}

/// `Mod`, `{Mod, arg}`, `Supervisor.child_spec(spec, opts)`, `Mod.child_spec(arg)`,
/// `worker(Mod, args)`, `%{start: {Mod, :start_link, args}}`.
fn started_module(walker: &Walker, node: Node, depth: usize) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    match node.kind() {
        "alias" | "dot" | "identifier" => walker.module_of(node),
        "tuple" => started_module(walker, *syntax::named_children(node).first()?, depth + 1),
        "call" => {
            let name = syntax::call_name(node, walker.source)?;
            let first = written_arguments(node).first().copied();
            match (name.module, name.function) {
                (Some("Supervisor"), "child_spec") => started_module(walker, first?, depth + 1),
                (Some(_), "child_spec") => {
                    let dot = node.child_by_field_name("target")?;
                    walker.module_of(dot.child_by_field_name("left")?)
                }
                (None, "worker" | "supervisor") => started_module(walker, first?, depth + 1),
                _ => None,
            }
        }
        "map" => started_module(walker, pair_value(node, "start", walker.source)?, depth + 1),
        _ => None,
    }
}

/// The `name:` option of a child spec, when it is a module name.
fn name_option(walker: &Walker, node: Node) -> Option<String> {
    let value = pair_value(node, "name", walker.source)?;
    walker.module_of(value)
}

/// The value of the first `key:` pair under `node`, looking no deeper than
/// the spec's own options.
fn pair_value<'t>(node: Node<'t>, key: &str, source: &str) -> Option<Node<'t>> {
    let mut found = None;
    syntax::walk(node, &mut |n| {
        if found.is_some() {
            return false;
        }
        if n.kind() == "pair" {
            let name = n.child_by_field_name("key").map(|k| text(k, source).trim_end().trim_end_matches(':'));
            if name == Some(key) {
                found = n.child_by_field_name("value");
            }
            return false;
        }
        !matches!(n.kind(), "call" | "anonymous_function")
    });
    found
}
