use super::{Context, Rule};
use crate::elixir::syntax::arguments;
use crate::finding::Finding;

pub const RULE: Rule = Rule {
    code: "EXR005",
    name: "genserver-call-infinity",
    summary: "`GenServer.call/3` with an `:infinity` timeout",
    doc: r##"## Why is this bad?
A call with an `:infinity` timeout waits forever: if the server is stuck,
overloaded or waiting on the caller, the caller hangs with it and nothing
reports the problem. The default five-second timeout turns such a hang into
an exit that a supervisor can see and recover from.

## Example
```elixir
GenServer.call(server, {:import, rows}, :infinity)
```

## Use instead
```elixir
# A bound that fits the work, handled where it is exceeded.
GenServer.call(server, {:import, rows}, :timer.minutes(2))
```"##,
    fix: None,
    checks_tests: true,
    default: false,
    check,
};

fn check(context: &Context, out: &mut Vec<Finding>) {
    for call in context.calls_to(&["GenServer", ":gen_server"], &["call"]) {
        if let Some(timeout) = arguments(call).get(2).filter(|t| context.text(**t) == ":infinity") {
            out.push(RULE.finding_at(
                *timeout,
                "`GenServer.call` with an `:infinity` timeout waits forever if the server never replies; give it a bounded timeout",
            ));
        }
    }
}
