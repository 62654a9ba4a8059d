use super::{Context, Rule};
use crate::elixir::fixes::add_module_line;
use crate::elixir::syntax::{call_name, written_arguments};
use crate::finding::{Applicability, Edit, Finding, Fix};

pub const RULE: Rule = Rule {
    code: "EXR010",
    name: "handle-info-without-catch-all",
    summary: "`handle_info/2` clauses but none that accepts any message",
    doc: r##"## Why is this bad?
Any process can send a GenServer a message: monitors, timers, late replies
from timed-out calls, stray `send`s. Defining `handle_info/2` replaces the
default clause that logs unexpected messages, so without a catch-all the
first unexpected message crashes the server with a `FunctionClauseError`.

## Example
```elixir
def handle_info(:tick, state), do: {:noreply, tick(state)}
```

## Use instead
```elixir
def handle_info(:tick, state), do: {:noreply, tick(state)}

def handle_info(message, state) do
  Logger.warning("#{inspect(__MODULE__)} received an unexpected message: #{inspect(message)}")
  {:noreply, state}
end
```

## Fix safety
Unsafe: a message that used to crash the server (an `{:EXIT, ...}` too,
when it traps exits) is logged and dropped instead, and the added
`require Logger` needs the `:logger` application.

The fix adds that catch-all clause after the last `handle_info/2` clause,
and `require Logger` after the module's `@moduledoc`, `use`, `alias`,
`require` and `import` lines when the module lacks it."##,
    fix: Some(Applicability::Unsafe),
    checks_tests: false,
    default: false,
    check,
};

fn check(context: &Context, out: &mut Vec<Finding>) {
    for module in context.modules.iter().filter(|m| m.is_genserver()) {
        let clauses: Vec<_> = module.clauses("handle_info", 2).collect();
        let (Some(first), Some(last)) = (clauses.first(), clauses.last()) else { continue };
        let catches_all = clauses.iter().any(|clause| {
            clause.def.guard.is_none() && clause.def.params.first().is_some_and(|p| p.kind() == "identifier")
        });
        if catches_all {
            continue;
        }
        let def_start = last.def.node.start_byte();
        let line_start = context.source[..def_start].rfind('\n').map_or(0, |i| i + 1);
        let indent = &context.source[line_start..def_start];
        let finding = RULE.finding_at(
            first.def.head,
            "no `handle_info/2` clause accepts any message, so an unexpected one crashes this server",
        );
        if !indent.chars().all(|c| c == ' ' || c == '\t') {
            out.push(finding);
            continue;
        }
        let mut edits = vec![Edit::insert(
            last.def.node.end_byte(),
            format!(
                "\n\n{indent}def handle_info(message, state) do\n{indent}  Logger.warning(\"#{{inspect(__MODULE__)}} received an unexpected message: #{{inspect(message)}}\")\n{indent}  {{:noreply, state}}\n{indent}end"
            ),
        )];
        // `require` is lexical: only one before the new clause counts.
        let requires_logger = module.statements.iter().take_while(|s| s.end_byte() <= def_start).any(|s| {
            call_name(*s, context.source).is_some_and(|n| n.is_local(&["require"]))
                && written_arguments(*s).first().is_some_and(|a| context.text(*a) == "Logger")
        });
        if !requires_logger {
            match add_module_line(module, context.source, "require Logger") {
                Some(edit) => edits.push(edit),
                None => {
                    out.push(finding);
                    continue;
                }
            }
        }
        out.push(finding.with_fix(Fix {
            title: "Add a catch-all `handle_info/2` that logs the message".to_string(),
            applicability: Applicability::Unsafe,
            edits,
        }));
    }
}
