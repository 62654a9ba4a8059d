use std::collections::HashSet;

use super::{Context, Rule};
use crate::finding::Finding;

pub const RULE: Rule = Rule {
    code: "EXR019",
    name: "long-parameter-list",
    summary: "Public functions with more parameters than the limit (default 6)",
    doc: r##"## Why is this bad?
A long parameter list is hard to call correctly (which argument was the
fourth?) and usually means several values travel together and want a name:
a map, a struct or a keyword list of options. The limit is `max-parameters`
in `elexirion.toml`. Only public functions are checked: private recursive
helpers that carry accumulators are a normal Elixir idiom, and callbacks
(`@impl`) take the arity their behaviour dictates.

## Example
```elixir
def create_user(name, email, age, country, locale, plan, referrer) do
```

## Use instead
```elixir
def create_user(%UserParams{} = params) do
```"##,
    fix: None,
    checks_tests: false,
    default: false,
    check,
};

fn check(context: &Context, out: &mut Vec<Finding>) {
    let limit = context.settings.max_parameters;
    for module in &context.modules {
        let mut seen = HashSet::new();
        for function in &module.functions {
            let def = &function.def;
            // A callback's arity is the behaviour's decision, not the author's
            // (`@impl` sits on the first clause only).
            let is_callback = module.clauses(&def.name, def.arity()).any(|c| c.has_impl);
            if !def.is_public() || is_callback || !seen.insert((def.name.as_str(), def.arity())) || def.arity() <= limit {
                continue;
            }
            out.push(RULE.finding_at(
                def.head,
                format!("`{}/{}` takes {} parameters (limit {limit}); group related ones into a struct or map", def.name, def.arity(), def.arity()),
            ));
        }
    }
}
