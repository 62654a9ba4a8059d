use super::{Context, Rule};
use crate::elixir::syntax::{call_name, named_children, written_arguments};
use crate::finding::Finding;

pub const RULE: Rule = Rule {
    code: "EXR020",
    name: "large-struct",
    summary: "`defstruct` with 32 fields or more",
    doc: r##"## Why is this bad?
The BEAM stores maps of up to 32 keys as a sorted key list shared by every
map of the same shape; from 32 keys on, each struct becomes a hash map
with its own keys, taking more memory and losing that sharing. A struct
that large also usually holds several concepts that want their own
structs. The limit is `struct-fields-limit` in `elexirion.toml`.

## Example
```elixir
defstruct [:id, :name, :email, ... 30 more fields ...]
```

## Use instead
```elixir
defstruct [:id, :name, :contact, :billing, :preferences]
# with %Contact{}, %Billing{} and %Preferences{} structs for the rest
```"##,
    fix: None,
    checks_tests: false,
    default: false,
    check,
};

fn check(context: &Context, out: &mut Vec<Finding>) {
    let limit = context.settings.struct_fields_limit;
    for module in &context.modules {
        for statement in &module.statements {
            if !call_name(*statement, context.source).is_some_and(|n| n.is_local(&["defstruct"])) {
                continue;
            }
            // Comments between fields are named children too: not fields.
            let items = |node| named_children(node).into_iter().filter(|c| c.kind() != "comment");
            let fields: usize = written_arguments(*statement)
                .into_iter()
                .map(|argument| match argument.kind() {
                    "list" => items(argument).map(|item| if item.kind() == "keywords" { items(item).count() } else { 1 }).sum(),
                    "keywords" => items(argument).count(),
                    _ => 0,
                })
                .sum();
            if fields >= limit {
                out.push(RULE.finding_at(
                    *statement,
                    format!("this struct has {fields} fields; from {limit} on, each instance is a hash map with its own keys"),
                ));
            }
        }
    }
}
