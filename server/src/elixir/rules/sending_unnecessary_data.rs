use std::collections::HashSet;

use tree_sitter::Node;

use super::{Context, Rule};
use crate::elixir::syntax::{arguments, named_children, text, walk};
use crate::finding::Finding;

pub const RULE: Rule = Rule {
    code: "EXR003",
    name: "sending-unnecessary-data",
    summary: "Whole `conn`/`socket`/`state` values copied to another process to read a field",
    doc: r##"## Why is this bad?
Everything a process sends, or captures in a function it runs elsewhere,
is copied into the other process. A closure given to `spawn` or
`Task.async` that reads `conn.remote_ip` copies the whole `conn`: headers,
body, assigns and all. Extract the fields first, so only they are copied.
Sending a whole `conn` or `socket` as a message copies just as much.

## Example
```elixir
Task.start(fn -> log_visit(conn.remote_ip) end)
```

## Use instead
```elixir
remote_ip = conn.remote_ip
Task.start(fn -> log_visit(remote_ip) end)
```"##,
    fix: None,
    checks_tests: false,
    default: false,
    check,
};

/// Names that conventionally hold large values.
const LARGE_VALUES: &[&str] = &["conn", "socket", "state"];

fn check(context: &Context, out: &mut Vec<Finding>) {
    for &super::NamedCall { node: call, name } in &context.calls {
        let spawns = name.is_local(&["spawn", "spawn_link"])
            || name.is(&["Task"], &["async", "start", "start_link"])
            || name.is(&["Task.Supervisor"], &["async", "async_nolink", "start_child"]);
        if spawns {
            for closure in arguments(call).into_iter().filter(|a| a.kind() == "anonymous_function") {
                closure_field_reads(closure, context, out);
            }
        }
        let sends = name.is_local(&["send"]) || name.is(&["Process", "Kernel"], &["send"]) || name.is(&["GenServer"], &["cast"]);
        if sends {
            if let Some(message) = arguments(call).get(1) {
                whole_value_sent(*message, context, out);
            }
        }
    }
}

/// `conn.field` inside the closure, where `conn` comes from outside it.
fn closure_field_reads(closure: Node, context: &Context, out: &mut Vec<Finding>) {
    // Parameters of this closure or of any `fn` nested in it shadow outer names.
    let mut bound_inside = HashSet::new();
    walk(closure, &mut |node| {
        if let Some(params) = node.child_by_field_name("left").filter(|_| node.kind() == "stab_clause") {
            walk(params, &mut |n| {
                if n.kind() == "identifier" {
                    bound_inside.insert(text(n, context.source));
                }
                true
            });
        }
        true
    });
    let mut reported = HashSet::new();
    walk(closure, &mut |node| {
        let Some((variable, field)) = field_read(node, context) else { return true };
        if LARGE_VALUES.contains(&variable) && !bound_inside.contains(variable) && reported.insert(variable) {
            out.push(RULE.finding_at(
                node,
                format!("this closure copies the whole `{variable}` into the new process to read `{variable}.{field}`; bind `{field} = {variable}.{field}` before it"),
            ));
        }
        true
    });
}

/// `variable.field` (a call without parentheses on a lowercase variable).
fn field_read<'s>(node: Node, context: &Context<'s, '_>) -> Option<(&'s str, &'s str)> {
    if node.kind() != "call" || named_children(node).iter().any(|c| c.kind() == "arguments") {
        return None;
    }
    let target = node.child_by_field_name("target").filter(|t| t.kind() == "dot")?;
    let left = target.child_by_field_name("left").filter(|l| l.kind() == "identifier")?;
    let right = target.child_by_field_name("right")?;
    Some((context.text(left), context.text(right)))
}

/// `send(pid, conn)` or `send(pid, {:tag, socket})`.
fn whole_value_sent(message: Node, context: &Context, out: &mut Vec<Finding>) {
    let candidates = if message.kind() == "tuple" { named_children(message) } else { vec![message] };
    for value in candidates {
        let name = context.text(value);
        if value.kind() == "identifier" && matches!(name, "conn" | "socket") {
            out.push(RULE.finding_at(
                value,
                format!("this message copies the whole `{name}` into the receiving process; send only the fields it needs"),
            ));
        }
    }
}
