use std::collections::HashMap;

use super::{Context, Rule};
use crate::elixir::modules::ModuleDef;
use crate::elixir::syntax::{arguments, keyword_value, written_arguments};
use crate::finding::Finding;

pub const RULE: Rule = Rule {
    code: "EXR002",
    name: "scattered-process-interface",
    summary: "`GenServer.call/cast` or `Agent` calls aimed at another module's process",
    doc: r##"## Why is this bad?
When code all over the application sends `GenServer.call(MyApp.Cache,
{:get, key})` directly, the message format of `MyApp.Cache` becomes a
public contract spread across files: changing it means finding every
caller, and nothing checks them. Keep the interaction with a process in the
module that defines it, behind ordinary functions. Tests and scripts are
not checked.

## Example
```elixir
defmodule MyApp.Orders do
  def price(item), do: GenServer.call(MyApp.PriceCache, {:get, item})
end
```

## Use instead
```elixir
defmodule MyApp.PriceCache do
  def get(item), do: GenServer.call(__MODULE__, {:get, item})
end

defmodule MyApp.Orders do
  def price(item), do: MyApp.PriceCache.get(item)
end
```"##,
    fix: None,
    checks_tests: false,
    default: true,
    check,
};

const GENSERVER_FUNCTIONS: &[&str] = &["call", "cast"];
const AGENT_FUNCTIONS: &[&str] = &["get", "update", "get_and_update", "cast"];

fn check(context: &Context, out: &mut Vec<Finding>) {
    // Per module (by start): the names it registers, looked up once.
    let mut registered: HashMap<usize, Vec<&str>> = HashMap::new();
    for &super::NamedCall { node: call, name } in &context.calls {
        if !(name.is(&["GenServer"], GENSERVER_FUNCTIONS) || name.is(&["Agent"], AGENT_FUNCTIONS)) {
            continue;
        }
        let Some(server) = arguments(call).first().copied().filter(|s| s.kind() == "alias") else { continue };
        let target = context.text(server);
        let Some(module) = context.module_of(call) else { continue };
        if names_same_module(target, &module.name) {
            continue;
        }
        let names = registered.entry(module.node.start_byte()).or_insert_with(|| registered_names(context, module));
        if names.contains(&target) {
            continue;
        }
        out.push(RULE.finding_at(
            server,
            format!(
                "`{}.{}` to `{target}` from `{}` spreads `{target}`'s message format; call a function of `{target}` instead",
                name.module.unwrap_or_default(),
                name.function,
                module.name
            ),
        ));
    }
}

/// `Cache` names `MyApp.Cache` (through an alias) as far as we can tell.
fn names_same_module(target: &str, module: &str) -> bool {
    target == module || module.ends_with(&format!(".{target}"))
}

/// The names a module starts its own process under
/// (`GenServer.start_link(__MODULE__, arg, name: MyApp.GitHub)`): calls to
/// them from the module reach its own process.
fn registered_names<'s>(context: &Context<'s, '_>, module: &ModuleDef) -> Vec<&'s str> {
    context
        .calls_within(module.node)
        .filter(|c| c.name.is(&["GenServer", "Agent"], &["start_link", "start"]))
        .filter_map(|c| written_arguments(c.node).into_iter().find(|a| a.kind() == "keywords"))
        .filter_map(|options| keyword_value(options, "name", context.source))
        .filter(|name| name.kind() == "alias")
        .map(|name| context.text(name))
        .collect()
}
