use tree_sitter::Node;

use super::{Context, Rule};
use crate::elixir::syntax::{arguments, named_children, statements};
use crate::finding::Finding;

pub const RULE: Rule = Rule {
    code: "EXR015",
    name: "agent-whole-state",
    summary: "`Agent.get(agent, & &1)` copying the whole state out",
    doc: r##"## Why is this bad?
Everything a process sends is copied. Fetching the whole state of an Agent
to use one part of it copies all of it on every call, and moves the work
that belongs inside the Agent to every caller.

## Example
```elixir
users = Agent.get(agent, & &1)
Map.get(users, id)
```

## Use instead
```elixir
Agent.get(agent, &Map.get(&1, id))
```"##,
    fix: None,
    checks_tests: false,
    default: false,
    check,
};

fn check(context: &Context, out: &mut Vec<Finding>) {
    for call in context.calls_to(&["Agent"], &["get"]) {
        if let Some(function) = arguments(call).get(1).filter(|f| is_identity(**f, context)) {
            out.push(RULE.finding_at(
                *function,
                "this copies the Agent's whole state into the caller; pass a function that returns only what is needed",
            ));
        }
    }
}

/// `& &1`, `&(&1)` or `fn x -> x end`.
fn is_identity(function: Node, context: &Context) -> bool {
    let compact: String = context.text(function).split_whitespace().collect();
    if compact == "&&1" || compact == "&(&1)" {
        return true;
    }
    if function.kind() != "anonymous_function" {
        return false;
    }
    let clauses: Vec<Node> = named_children(function).into_iter().filter(|c| c.kind() == "stab_clause").collect();
    let [clause] = clauses.as_slice() else { return false };
    let params = clause.child_by_field_name("left").map(named_children).unwrap_or_default();
    let body = clause.child_by_field_name("right").map(statements).unwrap_or_default();
    match (params.as_slice(), body.as_slice()) {
        ([param], [result]) => param.kind() == "identifier" && context.text(*param) == context.text(*result),
        _ => false,
    }
}
