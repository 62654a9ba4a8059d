use super::{Context, Rule};
use crate::finding::Finding;

pub const RULE: Rule = Rule {
    code: "EXR001",
    name: "unsupervised-process",
    summary: "Processes started outside a supervision tree",
    doc: r##"## Why is this bad?
A process started with `GenServer.start_link`, `Agent.start`, `Task.start`
or `spawn` from ordinary application code has no supervisor: nothing
restarts it when it crashes, nothing stops it when the application shuts
down, and nobody can find it in the supervision tree. Starting processes is
the job of an Application's `start/2`, a Supervisor's `init/1`, and the
`start_link`/`child_spec` functions a supervisor calls. Tests and scripts
(`.exs` files) are not checked.

## Example
```elixir
def handle_event(event) do
  {:ok, _pid} = GenServer.start_link(EventWorker, event)
  :ok
end
```

## Use instead
```elixir
def handle_event(event) do
  {:ok, _pid} = DynamicSupervisor.start_child(MyApp.EventSupervisor, {EventWorker, event})
  :ok
end

# Fire-and-forget work goes under a Task.Supervisor:
Task.Supervisor.start_child(MyApp.TaskSupervisor, fn -> notify(event) end)
```"##,
    fix: None,
    checks_tests: false,
    default: false,
    check,
};

/// Functions a supervisor calls to start a process, where starting one is
/// right, and wrappers that define a spawning primitive themselves.
const STARTERS: &[&str] =
    &["start_link", "start", "child_spec", "start_child", "init", "open", "spawn", "spawn_link", "spawn_monitor", "async"];

/// A function that waits for, monitors or links to what it starts owns that
/// process's lifetime: it is not orphaned.
fn manages_lifecycle(function: &crate::elixir::syntax::FunctionDef, context: &Context) -> bool {
    let Some(body) = function.body else { return false };
    context.calls_within(body).any(|call| {
        let n = call.name;
        n.is_local(&["receive"]) || n.is(&["Process"], &["monitor", "link", "exit"]) || n.is(&["Task"], &["await", "yield"])
    })
}

fn check(context: &Context, out: &mut Vec<Finding>) {
    for &super::NamedCall { node: call, name } in &context.calls {
        let what = if name.is(&["GenServer", "Agent"], &["start", "start_link"]) {
            format!("`{}.{}`", name.module.unwrap_or_default(), name.function)
        } else if name.is(&["Task"], &["start"]) {
            "`Task.start`".to_string()
        } else if name.is_local(&["spawn", "spawn_link"]) || name.is(&["Kernel", "Process"], &["spawn", "spawn_link"]) {
            format!("`{}`", name.function)
        } else {
            continue;
        };
        let Some(function) = context.function_of(call) else { continue };
        let module = context.module_of(call);
        let in_supervision = STARTERS.contains(&function.name.as_str())
            || module.is_some_and(|m| m.uses("Mix.Task") || m.name.starts_with("Mix.") || m.is_supervisor());
        if in_supervision || manages_lifecycle(function, context) {
            continue;
        }
        out.push(RULE.finding_at(
            call,
            format!(
                "{what} in `{}/{}` starts a process no supervisor knows of; start it under a (Dynamic)Supervisor or Task.Supervisor",
                function.name,
                function.arity()
            ),
        ));
    }
}
