use super::{Context, Rule};
use crate::finding::Finding;

pub const RULE: Rule = Rule {
    code: "EXR007",
    name: "blocking-sleep-in-callback",
    summary: "`Process.sleep`/`:timer.sleep` inside GenServer callbacks",
    doc: r##"## Why is this bad?
A GenServer handles one message at a time. Sleeping in a callback blocks
every caller queued behind it (their calls time out) and the server cannot
answer system messages, so even a supervisor's shutdown waits.

Test files and scripts are not checked: test doubles sleep on purpose, to
stand for a slow server.

## Example
```elixir
def handle_info(:poll, state) do
  Process.sleep(1_000)
  {:noreply, poll(state)}
end
```

## Use instead
```elixir
def handle_info(:poll, state) do
  Process.send_after(self(), :poll, 1_000)
  {:noreply, poll(state)}
end
```"##,
    fix: None,
    checks_tests: false,
    default: true,
    check,
};

fn check(context: &Context, out: &mut Vec<Finding>) {
    for (_, callback, call) in context.genserver_callback_calls() {
        // In `terminate/2` the loop is over: waiting or draining there is cleanup.
        if call.name.is(&["Process", ":timer"], &["sleep"]) && callback.def.name != "terminate" && !before_halt(context, call.node) {
            out.push(RULE.finding_at(
                call.node,
                format!(
                    "sleeping in `{}/{}` blocks every message behind it; schedule the work with `Process.send_after/3`",
                    callback.def.name,
                    callback.def.arity()
                ),
            ));
        }
    }
}

/// `Process.sleep(200)` then `System.halt(0)`: a pause to let output flush
/// before the node stops, not a blocked server.
fn before_halt(context: &Context, sleep: tree_sitter::Node) -> bool {
    let next = sleep.next_named_sibling().and_then(|n| crate::elixir::syntax::call_name(n, context.source));
    next.is_some_and(|n| n.is(&["System", ":init", ":erlang"], &["halt", "stop"]))
}
