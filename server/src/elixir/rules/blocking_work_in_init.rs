use super::{Context, Rule};
use crate::elixir::modules::{Function, ModuleDef};
use crate::elixir::syntax::{named_children, statements};
use crate::finding::{Applicability, Edit, Finding, Fix};

pub const RULE: Rule = Rule {
    code: "EXR014",
    name: "blocking-work-in-init",
    summary: "I/O in `init/1` that belongs in `handle_continue/2`",
    doc: r##"## Why is this bad?
`init/1` runs while the supervisor that starts the process waits: slow
I/O there (HTTP requests, database queries, file reads, shell commands)
holds up the start of the whole supervision tree, and a failure there
fails the application's boot. Return quickly with `{:continue, ...}` and
do the work in `handle_continue/2`, which runs right after, in the process
itself.

## Example
```elixir
def init(opts) do
  rates = HTTPoison.get!(opts[:url]).body
  {:ok, %{rates: rates}}
end
```

## Use instead
```elixir
def init(opts), do: {:ok, %{url: opts[:url], rates: nil}, {:continue, :load}}

def handle_continue(:load, state) do
  {:noreply, %{state | rates: HTTPoison.get!(state.url).body}}
end
```

## Fix safety
Unsafe: a failure of the moved work no longer fails `start_link` (the
process starts, then crashes), and the first calls wait behind the work.
State that others use as soon as `start_link` returns, such as a named ETS
table created in `init/1`, does not exist yet when they do.

The fix moves the whole body of `init/1` into `handle_continue(:init, arg)`
and returns `{:ok, arg, {:continue, :init}}`. Offered for a single-clause
`init/1` that ends in `{:ok, state}`, in a module without
`handle_continue/2`."##,
    fix: Some(Applicability::Unsafe),
    checks_tests: false,
    default: false,
    check,
};

/// Modules whose every function does I/O.
const IO_MODULES: &[&str] = &["HTTPoison", "Req", "Finch", "Tesla", ":httpc", "Mint.HTTP", ":gen_tcp", ":ssl"];

/// `Repo` functions that read the repository's own configuration or state,
/// not the database.
const REPO_WITHOUT_QUERY: &[&str] = &["config", "get_dynamic_repo", "put_dynamic_repo", "in_transaction?", "__adapter__"];

fn check(context: &Context, out: &mut Vec<Finding>) {
    for module in context.modules.iter().filter(|m| m.is_genserver()) {
        for init in module.clauses("init", 1) {
            let Some(body) = init.def.body else { continue };
            for &super::NamedCall { node: call, name } in context.calls_in_this_process(body) {
                let Some(target) = name.module else { continue };
                let blocking = IO_MODULES.contains(&target)
                    || ((target == "Repo" || target.ends_with(".Repo")) && !REPO_WITHOUT_QUERY.contains(&name.function))
                    || name.is(&["File"], &["read", "read!", "write", "write!", "stream!", "cp", "cp!", "cp_r", "ls", "ls!"])
                    || name.is(&["System"], &["cmd", "shell"]);
                if blocking {
                    let finding = RULE.finding_at(
                        call,
                        format!("`{target}.{}` in `init/1` blocks the supervisor starting this process; return `{{:continue, ...}}` and do it in `handle_continue/2`", name.function),
                    );
                    out.push(match move_to_continue(module, init, context) {
                        Some(fix) => finding.with_fix(fix),
                        None => finding,
                    });
                }
            }
        }
    }
}

/// Rewrite `def init(arg) do ...; {:ok, state} end` into an `init/1` that
/// continues, and a `handle_continue(:init, arg)` holding the old body.
fn move_to_continue(module: &ModuleDef, init: &Function, context: &Context) -> Option<Fix> {
    if module.clauses("init", 1).count() != 1 || module.defines("handle_continue", 2) {
        return None;
    }
    let body = init.def.body.filter(|b| b.kind() == "do_block")?;
    let argument = init.def.params.first().filter(|p| p.kind() == "identifier")?;
    let argument = context.text(*argument);
    let body_statements = statements(body);
    let last = *body_statements.last()?;
    let elements = named_children(last);
    if last.kind() != "tuple" || elements.len() != 2 || context.text(elements[0]) != ":ok" {
        return None;
    }
    let first = *body_statements.first()?;
    let def_start = init.def.node.start_byte();
    let line_start = context.source[..def_start].rfind('\n').map_or(0, |i| i + 1);
    let indent = &context.source[line_start..def_start];
    if !indent.chars().all(|c| c == ' ' || c == '\t') {
        return None;
    }
    let carried = if argument.starts_with('_') { "nil" } else { argument };
    let moved = &context.source[first.start_byte()..last.start_byte()];
    let state = context.text(elements[1]);
    let impl_line = if init.has_impl { format!("{indent}@impl true\n") } else { String::new() };
    let continue_clause = format!(
        "\n\n{impl_line}{indent}def handle_continue(:init, {argument}) do\n{indent}  {moved}{{:noreply, {state}}}\n{indent}end"
    );
    Some(Fix {
        title: "Move the work into `handle_continue/2`".to_string(),
        applicability: Applicability::Unsafe,
        edits: vec![
            Edit::replace(first.start_byte()..last.end_byte(), format!("{{:ok, {carried}, {{:continue, :init}}}}")),
            Edit::insert(init.def.node.end_byte(), continue_clause),
        ],
    })
}
