use super::{Context, Rule};
use crate::elixir::modules::{ModuleDef, GENSERVER_CALLBACKS};
use crate::finding::{Applicability, Edit, Finding, Fix};

pub const RULE: Rule = Rule {
    code: "EXR011",
    name: "missing-impl",
    summary: "GenServer, Supervisor or Application callbacks without `@impl true`",
    doc: r##"## Why is this bad?
`@impl true` tells the compiler a function implements a callback. Without
it, a typo (`handle_cal/3`) or a wrong arity compiles silently into a
function nobody calls, and readers cannot tell callbacks from helpers.

## Example
```elixir
use GenServer

def init(state), do: {:ok, state}
```

## Use instead
```elixir
use GenServer

@impl true
def init(state), do: {:ok, state}
```

## Fix safety
Safe: `@impl` is read only by the compiler and changes no compiled code; a
mismatch (no behaviour declares the function, or other callbacks of the
module still lack `@impl`) is a compiler warning, never an error.

The fix inserts `@impl true` before the first clause of the callback. As
`@impl` implies `@doc false`, a callback without `@doc` leaves the
generated documentation."##,
    fix: Some(Applicability::Safe),
    checks_tests: false,
    default: true,
    check,
};

const SUPERVISOR_CALLBACKS: &[(&str, usize)] = &[("init", 1)];
const APPLICATION_CALLBACKS: &[(&str, usize)] =
    &[("start", 2), ("stop", 1), ("prep_stop", 1), ("config_change", 3), ("start_phase", 3)];

fn callbacks(module: &ModuleDef) -> Vec<(&'static str, usize)> {
    let mut callbacks = Vec::new();
    if module.is_genserver() {
        callbacks.extend_from_slice(GENSERVER_CALLBACKS);
    }
    if module.is_supervisor() {
        callbacks.extend_from_slice(SUPERVISOR_CALLBACKS);
    }
    if module.is_application() {
        callbacks.extend_from_slice(APPLICATION_CALLBACKS);
    }
    callbacks.dedup();
    callbacks
}

fn check(context: &Context, out: &mut Vec<Finding>) {
    for module in &context.modules {
        for (name, arity) in callbacks(module) {
            let Some(first) = module.clauses(name, arity).next() else { continue };
            if first.has_impl || !first.def.is_public() {
                continue;
            }
            let def_start = first.def.node.start_byte();
            let line_start = context.source[..def_start].rfind('\n').map_or(0, |i| i + 1);
            let indent = &context.source[line_start..def_start];
            if !indent.chars().all(|c| c == ' ' || c == '\t') {
                continue; // not alone on its line: no clean place for the attribute
            }
            let finding = RULE.finding_at(first.def.head, format!("`{name}/{arity}` is a callback but has no `@impl true`"));
            out.push(finding.with_fix(Fix {
                title: "Add `@impl true`".to_string(),
                applicability: Applicability::Safe,
                edits: vec![Edit::insert(def_start, format!("@impl true\n{indent}"))],
            }));
        }
    }
}
