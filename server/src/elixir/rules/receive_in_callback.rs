use super::{Context, Rule};
use crate::finding::Finding;

pub const RULE: Rule = Rule {
    code: "EXR008",
    name: "receive-in-callback",
    summary: "A `receive` block inside a GenServer callback",
    doc: r##"## Why is this bad?
The GenServer owns its mailbox. A `receive` inside a callback takes
messages meant for the server's own loop (calls, casts, system messages),
and while it waits the server answers nothing.

## Example
```elixir
def handle_call(:fetch, _from, state) do
  send(state.worker, {:fetch, self()})
  receive do
    {:result, value} -> {:reply, value, state}
  end
end
```

## Use instead
```elixir
def handle_call(:fetch, from, state) do
  send(state.worker, {:fetch, self()})
  {:noreply, %{state | waiting: from}}
end

def handle_info({:result, value}, state) do
  GenServer.reply(state.waiting, value)
  {:noreply, %{state | waiting: nil}}
end
```"##,
    fix: None,
    checks_tests: true,
    default: false,
    check,
};

fn check(context: &Context, out: &mut Vec<Finding>) {
    for (_, callback, call) in context.genserver_callback_calls() {
        // In `terminate/2` the loop is over: waiting or draining there is cleanup.
        if call.name.is_local(&["receive"]) && callback.def.name != "terminate" {
            let keyword = call.node.child_by_field_name("target").unwrap_or(call.node);
            out.push(RULE.finding_at(
                keyword,
                format!(
                    "`receive` in `{}/{}` steals messages from the GenServer's own mailbox; handle them in `handle_info/2`",
                    callback.def.name,
                    callback.def.arity()
                ),
            ));
        }
    }
}
