use super::{Context, Rule};
use crate::elixir::modules::attribute;
use crate::finding::{Applicability, Edit, Finding, Fix};

pub const RULE: Rule = Rule {
    code: "EXR017",
    name: "compile-time-app-config",
    summary: "Module attributes set from `Application.get_env/fetch_env`",
    doc: r##"## Why is this bad?
A module attribute is evaluated once, when the module is compiled. Reading
application configuration there bakes the build machine's value into the
release: changing `config/runtime.exs` later has no effect, silently.

## Example
```elixir
@timeout Application.get_env(:my_app, :timeout, 5_000)
```

## Use instead
```elixir
# Read it at runtime:
defp timeout, do: Application.get_env(:my_app, :timeout, 5_000)

# Or say that it is compile-time, so Mix can tell when it goes stale:
@timeout Application.compile_env(:my_app, :timeout, 5_000)
```

## Fix (unsafe)
Replaces `get_env` with `compile_env` and `fetch_env!` with `compile_env!`,
which keep reading at compile time but let Mix detect a changed value.
Reading at runtime instead is a decision for a person."##,
    fix: Some(Applicability::Unsafe),
    checks_tests: false,
    check,
};

fn check(context: &Context, out: &mut Vec<Finding>) {
    for module in &context.modules {
        for statement in &module.statements {
            let Some((name, Some(value))) = attribute(*statement, context.source) else { continue };
            for &super::NamedCall { node: call, name: call_name } in context.calls_within(value) {
                if !call_name.is(&["Application"], &["get_env", "fetch_env", "fetch_env!"]) {
                    continue;
                }
                let mut finding = RULE.finding_at(
                    call,
                    format!(
                        "`@{name}` is computed at compile time, so `Application.{}` here ignores runtime configuration",
                        call_name.function
                    ),
                );
                let replacement = match call_name.function {
                    "get_env" => Some("compile_env"),
                    "fetch_env!" => Some("compile_env!"),
                    _ => None,
                };
                let target = call.child_by_field_name("target").and_then(|t| t.child_by_field_name("right"));
                if let (Some(replacement), Some(target)) = (replacement, target) {
                    finding = finding.with_fix(Fix {
                        title: format!("Use `Application.{replacement}`"),
                        applicability: Applicability::Unsafe,
                        edits: vec![Edit::replace(target.byte_range(), replacement)],
                    });
                }
                out.push(finding);
            }
        }
    }
}
