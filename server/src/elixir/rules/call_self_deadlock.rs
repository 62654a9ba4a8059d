use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use super::{Context, Rule};
use crate::elixir::modules::ModuleDef;
use crate::elixir::syntax::{arguments, CallName};
use crate::finding::Finding;

pub const RULE: Rule = Rule {
    code: "EXR006",
    name: "call-self-deadlock",
    summary: "A GenServer callback calling its own server synchronously",
    doc: r##"## Why is this bad?
A GenServer handles one message at a time. If a callback makes a
synchronous call to the same server (`GenServer.call(self(), ...)`,
`GenServer.call(__MODULE__, ...)`, or a public function of the module that
does so), the server waits for a reply only it could send: the call times
out after five seconds and crashes the server.

## Example
```elixir
def handle_cast(:refresh, state) do
  count = count()   # def count, do: GenServer.call(__MODULE__, :count)
  {:noreply, %{state | last: count}}
end
```

## Use instead
```elixir
def handle_cast(:refresh, state) do
  {:noreply, %{state | last: do_count(state)}}
end
```"##,
    fix: None,
    checks_tests: true,
    default: true,
    check,
};

fn check(context: &Context, out: &mut Vec<Finding>) {
    // Per module (by start): its public functions that call the server.
    let mut calling_self: HashMap<usize, HashSet<(&str, usize)>> = HashMap::new();
    for (module, callback, call) in context.genserver_callback_calls() {
        let names = calling_self.entry(module.node.start_byte()).or_insert_with(|| functions_calling_self(module, context));
        let name = call.name;
        let direct = is_self_call(call.node, name, module, context);
        let arity = arguments(call.node).len();
        let through = (name.module.is_none() || name.module.is_some_and(|m| m == "__MODULE__" || m == module.name))
            && names.contains(&(name.function, arity));
        if direct || through {
            let how = if direct { String::new() } else { format!(" (through `{}`)", name.function) };
            out.push(RULE.finding_at(
                call.node,
                format!(
                    "`{}/{}` calls its own server synchronously{how}: it waits for a reply only it could send, and deadlocks",
                    callback.def.name,
                    callback.def.arity()
                ),
            ));
        }
    }
}

/// `GenServer.call(self() | __MODULE__ | ThisModule, ...)`.
fn is_self_call(call: Node, name: CallName, module: &ModuleDef, context: &Context) -> bool {
    name.is(&["GenServer", ":gen_server"], &["call"])
        && arguments(call).first().is_some_and(|server| {
            let server = context.text(*server);
            server == "self()" || server == "__MODULE__" || server == module.name
        })
}

/// Public functions of the module whose body calls the server
/// synchronously, by name and arity (`enable/0` may call, `enable/1` not).
fn functions_calling_self<'s>(module: &ModuleDef, context: &Context<'s, '_>) -> HashSet<(&'s str, usize)> {
    let mut found = HashSet::new();
    for function in module.functions.iter().filter(|f| f.def.is_public()) {
        let Some(body) = function.def.body else { continue };
        if context.calls_in_this_process(body).any(|call| is_self_call(call.node, call.name, module, context)) {
            let head = &context.source[function.def.head.byte_range()];
            found.insert((head.split(['(', ' ']).next().unwrap_or(head), function.def.arity()));
        }
    }
    found
}
