use super::{Context, Rule};
use crate::elixir::syntax::arguments;
use crate::finding::Finding;

pub const RULE: Rule = Rule {
    code: "EXR012",
    name: "terminate-without-trap-exit",
    summary: "`terminate/2` defined, but the process never traps exits",
    doc: r##"## Why is this bad?
When a supervisor shuts a child down it sends an exit signal. A process
that does not trap exits dies at once and its `terminate/2` never runs, so
the cleanup written there is skipped exactly when it matters: on shutdown.

## Example
```elixir
def init(path), do: {:ok, File.open!(path, [:write])}

def terminate(_reason, file), do: File.close(file)
```

## Use instead
```elixir
def init(path) do
  Process.flag(:trap_exit, true)
  {:ok, File.open!(path, [:write])}
end

def terminate(_reason, file), do: File.close(file)
```"##,
    fix: None,
    checks_tests: true,
    check,
};

fn check(context: &Context, out: &mut Vec<Finding>) {
    for module in context.modules.iter().filter(|m| m.is_genserver()) {
        let Some(terminate) = module.clauses("terminate", 2).next() else { continue };
        let traps_exits = context.calls_within(module.node).any(|call| {
            call.name.is(&["Process", ":erlang"], &["flag", "process_flag"])
                && arguments(call.node).first().is_some_and(|flag| context.text(*flag) == ":trap_exit")
        });
        if !traps_exits {
            out.push(RULE.finding_at(
                terminate.def.head,
                "`terminate/2` will not run when the supervisor shuts this process down: it never calls `Process.flag(:trap_exit, true)`",
            ));
        }
    }
}
