use super::{Context, Rule};
use tree_sitter::Node;

use crate::elixir::modules::{Function, ModuleDef};
use crate::elixir::syntax::{arguments, named_children, walk};
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
```

Left alone: a module that returns `{:stop, ...}` from a callback (that path
runs `terminate/2` without trapping exits), and a `terminate/2` that only
logs or ignores its state (a crash report: crashes run it anyway)."##,
    fix: None,
    checks_tests: true,
    default: false,
    check,
};

fn check(context: &Context, out: &mut Vec<Finding>) {
    for module in context.modules.iter().filter(|m| m.is_genserver()) {
        let Some(terminate) = module.clauses("terminate", 2).next() else { continue };
        let traps_exits = context.calls_within(module.node).any(|call| {
            call.name.is(&["Process", ":erlang"], &["flag", "process_flag"])
                && arguments(call.node).first().is_some_and(|flag| context.text(*flag) == ":trap_exit")
        });
        // Returning `{:stop, ...}` runs `terminate/2` without trapping exits,
        // and a `terminate/2` that only logs loses nothing when skipped.
        if !traps_exits && !stops_itself(context, module.node) && does_work(context, module) {
            out.push(RULE.finding_at(
                terminate.def.head,
                "`terminate/2` will not run when the supervisor shuts this process down: it never calls `Process.flag(:trap_exit, true)`",
            ));
        }
    }
}

/// Whether a callback of the module returns `{:stop, ...}`.
fn stops_itself(context: &Context, module: Node) -> bool {
    let mut found = false;
    walk(module, &mut |node| {
        found |= node.kind() == "tuple" && named_children(node).first().is_some_and(|t| context.text(*t) == ":stop");
        !found
    });
    found
}

/// Whether any clause of `terminate/2` reads its state and calls something
/// besides logging: one that ignores its state reports crashes (which run
/// `terminate/2` whether exits are trapped or not), it cleans nothing up.
fn does_work(context: &Context, module: &ModuleDef) -> bool {
    let reads_state = |clause: &Function| clause.def.params.get(1).is_some_and(|s| !context.text(*s).starts_with('_'));
    module.clauses("terminate", 2).filter(|c| reads_state(c)).any(|clause| {
        context.calls_within(clause.def.node).any(|call| {
            let logs = call.name.module.is_some_and(|m| matches!(m, "Logger" | "IO" | ":logger"))
                || call.name.is_local(&["require", "def", "defp", "if", "unless", "case", "cond"]);
            call.node != clause.def.head && !logs
        })
    })
}
