use super::{Context, Rule};

use crate::finding::{Applicability, Edit, Finding, Fix};

pub const RULE: Rule = Rule {
    code: "EXR016",
    name: "dynamic-atom-creation",
    summary: "Atoms made from runtime data (`String.to_atom/1`, `:\"x#{y}\"`)",
    doc: r##"## Why is this bad?
Atoms are never garbage collected and the atom table has a fixed size
(about a million by default). Turning input into atoms at runtime lets
anyone who controls the input fill the table and crash the whole node.
Code that runs at compile time is left alone (its input is code): macros,
`quote` blocks, and modules that define macros; so are Mix tasks
(developer tools, not servers).

## Example
```elixir
def parse_status(status), do: String.to_atom(status)
```

## Use instead
```elixir
# Only atoms that already exist (raises on anything else):
def parse_status(status), do: String.to_existing_atom(status)

# Or, better, an explicit mapping:
def parse_status("active"), do: :active
def parse_status("banned"), do: :banned
```

## Fix (unsafe)
Switches to the `*_to_existing_atom` variant, which raises
`ArgumentError` for atoms that do not exist yet."##,
    fix: Some(Applicability::Unsafe),
    checks_tests: false,
    check,
};

/// Atom-making functions and their `existing` counterparts.
const CONVERSIONS: &[(&str, &str, &str)] = &[
    ("String", "to_atom", "to_existing_atom"),
    ("List", "to_atom", "to_existing_atom"),
    (":erlang", "binary_to_atom", "binary_to_existing_atom"),
    (":erlang", "list_to_atom", "list_to_existing_atom"),
];

fn check(context: &Context, out: &mut Vec<Finding>) {
    let runs_at_runtime = |node| {
        let module = context.module_of(node);
        let in_mix_task = module.is_some_and(|m| m.uses("Mix.Task") || m.name.starts_with("Mix."));
        let writes_macros = module.is_some_and(|m| m.functions.iter().any(|f| f.def.keyword.starts_with("defmacro")));
        let function = context.function_of(node);
        // `def to_atom(...)` and friends define the conversion itself.
        let defines_conversion = function.is_some_and(|f| f.name.contains("atom"));
        !in_mix_task
            && !writes_macros
            && !defines_conversion
            && !context.in_quote(node)
            && function.is_some_and(|f| matches!(f.keyword, "def" | "defp"))
    };
    for &super::NamedCall { node: call, name } in &context.calls {
        let Some((module, function, existing)) =
            CONVERSIONS.iter().find(|(m, f, _)| name.module == Some(*m) && name.function == *f)
        else {
            continue;
        };
        if !runs_at_runtime(call) {
            continue;
        }
        let target = call.child_by_field_name("target").and_then(|t| t.child_by_field_name("right"));
        let mut finding = RULE.finding_at(
            call,
            format!("`{module}.{function}` creates atoms from runtime data, which are never freed; use `{module}.{existing}`"),
        );
        if let Some(target) = target {
            finding = finding.with_fix(Fix {
                title: format!("Use `{module}.{existing}`"),
                applicability: Applicability::Unsafe,
                edits: vec![Edit::replace(target.byte_range(), *existing)],
            });
        }
        out.push(finding);
    }
    for node in context.quoted_atoms.iter().copied() {
        if has_interpolation(node) && runs_at_runtime(node) {
            out.push(RULE.finding_at(
                node,
                "an interpolated atom creates a new atom for every distinct value, and atoms are never freed",
            ));
        }
    }
}

fn has_interpolation(node: tree_sitter::Node) -> bool {
    let mut cursor = node.walk();
    let found = node.children(&mut cursor).any(|c| c.kind() == "interpolation");
    found
}
