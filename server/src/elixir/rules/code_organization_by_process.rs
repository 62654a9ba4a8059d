use tree_sitter::Node;

use super::{genserver_callbacks, Context, Rule};
use crate::elixir::syntax::{named_children, walk};
use crate::finding::Finding;

pub const RULE: Rule = Rule {
    code: "EXR004",
    name: "code-organization-by-process",
    summary: "A GenServer whose callbacks never read or change their state",
    doc: r##"## Why is this bad?
A process is for state, concurrency or fault isolation. A GenServer whose
callbacks ignore their state only organizes code, and pays for it: every
call is serialized through one mailbox, copied twice, and can time out.
Plain functions in a module do the same work in the caller's process.

## Example
```elixir
defmodule Calculator do
  use GenServer

  def add(a, b), do: GenServer.call(__MODULE__, {:add, a, b})

  def init(_), do: {:ok, nil}
  def handle_call({:add, a, b}, _from, state), do: {:reply, a + b, state}
end
```

## Use instead
```elixir
defmodule Calculator do
  def add(a, b), do: a + b
end
```"##,
    fix: None,
    checks_tests: false,
    default: false,
    check,
};

fn check(context: &Context, out: &mut Vec<Finding>) {
    for module in context.modules.iter().filter(|m| m.is_genserver()) {
        let handlers: Vec<_> = genserver_callbacks(module)
            .filter(|f| matches!(f.def.name.as_str(), "handle_call" | "handle_cast" | "handle_info" | "handle_continue"))
            .collect();
        if !handlers.iter().any(|f| f.def.name == "handle_call") {
            continue;
        }
        let stateless = handlers.iter().all(|handler| {
            let Some(state) = handler.def.params.last() else { return false };
            match (state.kind(), handler.def.body) {
                ("identifier", _) if context.text(*state).starts_with('_') => true,
                ("identifier", Some(body)) => only_passed_through(context.text(*state), body, context),
                _ => false, // a pattern on the state reads it
            }
        });
        if stateless {
            let name = module.node.child_by_field_name("target").unwrap_or(module.node);
            out.push(RULE.finding_at(
                name,
                format!("`{}` never reads or changes its state: plain functions would do the same without a process", module.name),
            ));
        }
    }
}

/// Whether `state` appears in `body` only as the state slot of a
/// `{:reply, _, state}` / `{:noreply, state}` / `{:stop, _, ..., state}` tuple.
fn only_passed_through(state: &str, body: Node, context: &Context) -> bool {
    let mut passed_through = true;
    walk(body, &mut |node| {
        if node.kind() == "identifier" && context.text(node) == state && !in_state_slot(node, context) {
            passed_through = false;
        }
        passed_through
    });
    passed_through
}

fn in_state_slot(node: Node, context: &Context) -> bool {
    let Some(tuple) = node.parent().filter(|p| p.kind() == "tuple") else { return false };
    let elements = named_children(tuple);
    let tag = elements.first().map(|t| context.text(*t));
    elements.last() == Some(&node) && matches!(tag, Some(":reply" | ":noreply" | ":stop"))
}
