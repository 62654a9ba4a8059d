use super::{Context, Rule};
use crate::elixir::syntax::{call_name, calls_in_this_process};
use crate::finding::Finding;

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
```"##,
    fix: None,
    checks_tests: false,
    check,
};

/// Modules whose every function does I/O.
const IO_MODULES: &[&str] = &["HTTPoison", "Req", "Finch", "Tesla", ":httpc", "Mint.HTTP", ":gen_tcp", ":ssl"];

fn check(context: &Context, out: &mut Vec<Finding>) {
    for module in context.modules.iter().filter(|m| m.is_genserver()) {
        for init in module.clauses("init", 1) {
            let Some(body) = init.def.body else { continue };
            for call in calls_in_this_process(body) {
                let Some(name) = call_name(call, context.source) else { continue };
                let Some(target) = name.module else { continue };
                let blocking = IO_MODULES.contains(&target)
                    || target == "Repo"
                    || target.ends_with(".Repo")
                    || name.is(&["File"], &["read", "read!", "write", "write!", "stream!", "cp", "cp!", "cp_r", "ls", "ls!"])
                    || name.is(&["System"], &["cmd", "shell"]);
                if blocking {
                    out.push(RULE.finding_at(
                        call,
                        format!("`{target}.{}` in `init/1` blocks the supervisor starting this process; return `{{:continue, ...}}` and do it in `handle_continue/2`", name.function),
                    ));
                }
            }
        }
    }
}
