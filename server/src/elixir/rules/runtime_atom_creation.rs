use super::dynamic_atom_creation::atoms_made_at_runtime;
use super::{Context, Rule};
use crate::finding::{Applicability, Finding};

pub const RULE: Rule = Rule {
    code: "EXR021",
    name: "runtime-atom-creation",
    summary: "Atoms made at runtime from values the code does not bound, wherever they come from",
    doc: r##"## What it does
The wider net of `dynamic-atom-creation` (EXR016), off by default: every
`String.to_atom/1` (and its `List` and `:erlang` cousins), interpolated
atom and `Module.concat/1,2` that runs in a running system on a value the
code does not bound, when the value is not known to come from a client
(those are EXR016's). Turn it on with `[rules] enable =
["runtime-atom-creation"]` to review every such place once.

Left alone, because the set of atoms they make is fixed by the code or by
the operator, not by users:
- code that runs at compile time: macros, `quote` and `unquote`, module
  bodies and attributes, modules that define macros, Mix tasks;
- code that runs once at boot: an application's `start/2` and its private
  helpers, values read with `System.get_env` or `Application.get_env`,
  node names (`:"#{name}@#{host}"`), config files;
- values bounded by a guard (`when kind in ~w(a b)`) or taken from a
  fixed list (`for kind <- ~w(a b), do: String.to_atom(kind)`,
  `Enum.map(["a", "b"], &String.to_atom/1)`).

## Why is this bad?
Atoms are never garbage collected and the atom table has a fixed size
(about a million by default). A value that turns out to be unbounded, say a
name read from a file users upload or from another service, fills the
table over time and crashes the whole node. Most values this rule finds
are bounded in practice (module names, registered names, configuration):
on code it was not tuned on it was right too rarely to be on by default.

## Example
```elixir
def handler(name), do: Module.concat(MyApp.Handlers, name)
def column(field), do: String.to_atom(field)
```

## Use instead
```elixir
def handler(name), do: Module.safe_concat(MyApp.Handlers, name)
def column(field), do: String.to_existing_atom(field)
```

## Fix safety
Unsafe: the variants that only accept existing atoms
(`*_to_existing_atom`, `Module.safe_concat`) raise for atoms that do not
exist yet, where the code used to create them."##,
    fix: Some(Applicability::Unsafe),
    checks_tests: false,
    default: false,
    check,
};

fn check(context: &Context, out: &mut Vec<Finding>) {
    out.extend(atoms_made_at_runtime(context).into_iter().filter(|a| !a.from_client).map(|a| a.finding(&RULE)));
}
