use tree_sitter::Node;

use super::{Context, Rule};
use crate::elixir::syntax::{statements, walk};
use crate::finding::Finding;

pub const RULE: Rule = Rule {
    code: "EXR013",
    name: "task-async-without-await",
    summary: "`Task.async` whose task is never awaited, yielded or shut down",
    doc: r##"## Why is this bad?
`Task.async` links the task to the caller and sends the result back as a
message. If nobody awaits it, the reply (and a monitor `:DOWN` message)
sits in the caller's mailbox forever, and a crash in the task still takes
the caller down. Fire-and-forget work wants `Task.start` under a
`Task.Supervisor`; work whose result matters wants `Task.await`.

## Example
```elixir
def notify_all(users) do
  Task.async(fn -> Enum.each(users, &send_email/1) end)
  :ok
end
```

## Use instead
```elixir
def notify_all(users) do
  Task.Supervisor.start_child(MyApp.TaskSupervisor, fn -> Enum.each(users, &send_email/1) end)
  :ok
end
```"##,
    fix: None,
    checks_tests: true,
    default: false,
    check,
};

fn check(context: &Context, out: &mut Vec<Finding>) {
    for &super::NamedCall { node: call, name } in &context.calls {
        if !(name.is(&["Task"], &["async"]) || name.is(&["Task.Supervisor"], &["async"])) {
            continue;
        }
        let Some(function) = context.function_of(call) else { continue };
        let Some(body) = function.body else { continue };
        let body_statements = statements(body);
        let is_last = body_statements.last() == Some(&call);
        let lost = if body_statements.contains(&call) {
            !is_last // a bare statement whose value is dropped
        } else if let Some(variable) = bound_variable(call, context) {
            !used_after(variable, call, body, context)
        } else {
            false // passed somewhere: handed off
        };
        if lost {
            out.push(RULE.finding_at(
                call,
                format!(
                    "the task started here is never awaited in `{}/{}`: its reply stays in the mailbox and its crash takes this process down",
                    function.name,
                    function.arity()
                ),
            ));
        }
    }
}

/// `task = Task.async(...)` as a statement: the name bound.
fn bound_variable<'s>(call: Node, context: &Context<'s, '_>) -> Option<&'s str> {
    let parent = call.parent().filter(|p| p.kind() == "binary_operator")?;
    let is_match = parent.child_by_field_name("operator").is_some_and(|o| o.kind() == "=");
    let left = parent.child_by_field_name("left").filter(|l| l.kind() == "identifier")?;
    (is_match && parent.child_by_field_name("right") == Some(call)).then(|| context.text(left))
}

fn used_after(variable: &str, call: Node, body: Node, context: &Context) -> bool {
    let mut used = false;
    walk(body, &mut |node| {
        if node.start_byte() > call.end_byte() && node.kind() == "identifier" && context.text(node) == variable {
            used = true;
        }
        !used
    });
    used
}
