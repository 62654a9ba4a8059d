use tree_sitter::Node;

use super::{Context, Rule};
use crate::elixir::modules::{attribute, ModuleDef};
use crate::finding::{Applicability, Edit, Finding, Fix};

pub const RULE: Rule = Rule {
    code: "EXR017",
    name: "compile-time-app-config",
    summary: "Application config read at compile time, in a module attribute or body (`Application.get_env/fetch_env/get_all_env`)",
    doc: r##"## What it does
Finds `Application.get_env`, `fetch_env`, `fetch_env!` and `get_all_env`
called in a module attribute or elsewhere in a module body, outside any
function.

## Why is this bad?
A module attribute, like the rest of a module body, is evaluated once,
when the module is compiled. Reading application configuration there
bakes the build machine's value into the release: changing
`config/runtime.exs` later has no effect, silently.

## Example
```elixir
@timeout Application.get_env(:my_app, :timeout, 5_000)
@config Application.get_all_env(:my_app)
```

## Use instead
```elixir
# Read it at runtime:
defp timeout, do: Application.get_env(:my_app, :timeout, 5_000)
defp config, do: Application.get_all_env(:my_app)

# Or say that it is compile-time, so Mix can tell when it goes stale:
@timeout Application.compile_env(:my_app, :timeout, 5_000)
```

## Fix safety
Unsafe: replacing `get_env` with `compile_env` and `fetch_env!` with
`compile_env!` keeps reading at compile time, but Mix then refuses to boot
a release whose runtime value differs from the compiled one, where it used
to start with the stale value. Reading at runtime instead is a decision
for a person; `get_all_env` has no compile-time counterpart."##,
    fix: Some(Applicability::Unsafe),
    checks_tests: false,
    default: true,
    check,
};

const READS: &[&str] = &["get_env", "fetch_env", "fetch_env!", "get_all_env"];

fn check(context: &Context, out: &mut Vec<Finding>) {
    for module in &context.modules {
        for statement in &module.statements {
            let place = match attribute(*statement, context.source) {
                Some((_, None)) => continue,
                Some((name, Some(_))) => format!("`@{name}` is computed at compile time"),
                // `plug Tesla.Middleware.BaseUrl, Application.get_env(...)`:
                // a macro may quote its arguments into a function, to run later.
                None if passes_to_a_macro(*statement, context) => continue,
                None => "the module body runs at compile time".to_string(),
            };
            for call in compile_time_reads(context, module, *statement) {
                out.push(finding(call, &place, context));
            }
        }
    }
}

/// A module-body call such as `plug X, opts` or `field :x, default: ...`:
/// whether its arguments run at compile time is the macro's business.
/// Control flow and `use` evaluate theirs while the module compiles.
fn passes_to_a_macro(statement: Node, context: &Context) -> bool {
    let name = crate::elixir::syntax::call_name(statement, context.source);
    name.is_some_and(|n| n.module.is_none() && !n.is_local(&["if", "unless", "case", "cond", "for", "with", "use"]))
}

/// The configuration reads of a module-body statement that run while the
/// module compiles: not those in function bodies, `quote` blocks or nested
/// modules (checked on their own).
fn compile_time_reads<'t>(context: &Context<'_, 't>, module: &ModuleDef<'t>, statement: Node<'t>) -> Vec<Node<'t>> {
    context
        .calls_within(statement)
        .filter(|c| c.name.is(&["Application"], READS))
        .map(|c| c.node)
        .filter(|call| !in_definition(context, *call) && !context.in_quote(*call))
        .filter(|call| context.module_of(*call).is_some_and(|m| m.node == module.node))
        .collect()
}

/// Inside a `def` (or `defmacro`), even one whose name is `unquote(...)`.
fn in_definition(context: &Context, call: Node) -> bool {
    let definitions = context.calls.iter().filter(|c| c.name.is_local(&["def", "defp", "defmacro", "defmacrop"]));
    definitions.into_iter().any(|d| crate::elixir::syntax::contains(d.node, call))
}

fn finding(call: Node, place: &str, context: &Context) -> Finding {
    let function = call.child_by_field_name("target").and_then(|t| t.child_by_field_name("right"));
    let name = function.map(|f| context.text(f)).unwrap_or_default();
    let finding = RULE.finding_at(call, format!("{place}, so `Application.{name}` here ignores runtime configuration"));
    let replacement = match name {
        "get_env" => "compile_env",
        "fetch_env!" => "compile_env!",
        _ => return finding,
    };
    let Some(function) = function else { return finding };
    finding.with_fix(Fix {
        title: format!("Use `Application.{replacement}`"),
        applicability: Applicability::Unsafe,
        edits: vec![Edit::replace(function.byte_range(), replacement)],
    })
}
