use tree_sitter::Node;

use super::{genserver_callbacks, Context, Rule};
use crate::elixir::syntax::{named_children, return_expressions};
use crate::finding::Finding;

pub const RULE: Rule = Rule {
    code: "EXR009",
    name: "invalid-callback-return",
    summary: "GenServer callbacks returning a tuple OTP rejects",
    doc: r##"## Why is this bad?
Each GenServer callback has a fixed set of valid returns. Anything else
crashes the server with a `bad return value` error at runtime, typically
on a path the tests did not take: `{:reply, ...}` from a cast, `{:noreply,
...}` from `init/1`, a tuple of the wrong size.

## Example
```elixir
def handle_cast({:put, key, value}, state) do
  {:reply, :ok, Map.put(state, key, value)}
end
```

## Use instead
```elixir
def handle_cast({:put, key, value}, state) do
  {:noreply, Map.put(state, key, value)}
end
```"##,
    fix: None,
    checks_tests: true,
    default: true,
    check,
};

/// Valid first elements and tuple sizes per callback.
fn valid_returns(callback: &str) -> Option<&'static [(&'static str, &'static [usize])]> {
    Some(match callback {
        // `{:error, reason}` is documented since OTP 26 (start_link returns it).
        "init" => &[(":ok", &[2, 3]), (":stop", &[2]), (":error", &[2])],
        "handle_call" => &[(":reply", &[3, 4]), (":noreply", &[2, 3]), (":stop", &[3, 4])],
        "handle_cast" | "handle_info" | "handle_continue" => &[(":noreply", &[2, 3]), (":stop", &[3])],
        _ => return None,
    })
}

fn check(context: &Context, out: &mut Vec<Finding>) {
    for module in context.modules.iter().filter(|m| m.is_genserver()) {
        for callback in genserver_callbacks(module) {
            let (Some(valid), Some(body)) = (valid_returns(&callback.def.name), callback.def.body) else { continue };
            for returned in return_expressions(body, context.source) {
                if let Some(problem) = problem(returned, valid, context) {
                    out.push(RULE.finding_at(
                        returned,
                        format!("`{}/{}` cannot return {problem}", callback.def.name, callback.def.arity()),
                    ));
                }
            }
        }
    }
}

/// What is wrong with a literal tuple returned from a callback, if anything.
fn problem(returned: Node, valid: &[(&str, &[usize])], context: &Context) -> Option<String> {
    if returned.kind() != "tuple" {
        return None;
    }
    let elements = named_children(returned);
    let tag = elements.first().filter(|e| e.kind() == "atom")?;
    let tag = context.text(*tag);
    let expected = valid.iter().map(|(t, _)| format!("`{{{t}, ...}}`")).collect::<Vec<_>>().join(", ");
    match valid.iter().find(|(t, _)| *t == tag) {
        None => Some(format!("`{{{tag}, ...}}`; valid returns are {expected}")),
        Some((_, sizes)) if !sizes.contains(&elements.len()) => {
            let sizes = sizes.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(" or ");
            Some(format!("a `{{{tag}, ...}}` of {} elements; it takes {sizes}", elements.len()))
        }
        Some(_) => None,
    }
}
