use tree_sitter::Node;

use super::{Context, Rule};
use crate::elixir::value_sources::ValuesFrom;
use crate::elixir::syntax::{arguments, call_name, contains, keyword_value, named_children, written_arguments};
use crate::finding::{Applicability, Edit, Finding, Fix};

pub const RULE: Rule = Rule {
    code: "EXR016",
    name: "dynamic-atom-creation",
    summary: "Atoms made from what a client sent (`String.to_atom(params[\"x\"])`, `:\"x#{y}\"`, `Module.concat/2`) or from JSON decoded with `keys: :atoms`",
    doc: r##"## What it does
Finds atoms made at runtime from data a client sent: `String.to_atom/1`
and its `List` and `:erlang` cousins, interpolated atoms (`:"x#{y}"`) and
`Module.concat/1,2` applied to a controller action's `params`, a
LiveView's `mount`/`handle_params`/`handle_event` parameters, a channel's
`join`/`handle_in` payload, `conn.params` (and the other request fields),
request headers or decoded JSON, or to a variable bound from one of these.
JSON decoded with `keys: :atoms` (Jason, Poison) at runtime is reported
wherever its input comes from.

Conversions of other runtime values are left to the opt-in
`runtime-atom-creation` (EXR021): whether those values are bounded is
usually known only to the author, and on code the rule was not tuned on
most of them were (see `docs/precision.md`).

## Why is this bad?
Atoms are never garbage collected and the atom table has a fixed size
(about a million by default). Turning input into atoms at runtime lets
anyone who controls the input fill the table and crash the whole node.

## Example
```elixir
def index(conn, %{"sort" => sort}), do: render(conn, :index, items: list(String.to_atom(sort)))
def handle_event("tab", %{"name" => name}, socket), do: {:noreply, assign(socket, :tab, :"tab_#{name}")}
def decode(body), do: Jason.decode!(body, keys: :atoms)
```

## Use instead
```elixir
# Only atoms that already exist (raises on anything else):
def index(conn, %{"sort" => sort}), do: render(conn, :index, items: list(String.to_existing_atom(sort)))
def decode(body), do: Jason.decode!(body, keys: :atoms!)

# Or, better, an explicit mapping:
defp sort_field("name"), do: :name
defp sort_field("date"), do: :inserted_at
```

## Fix safety
Unsafe: the variants that only accept existing atoms
(`*_to_existing_atom`, `Module.safe_concat`, `keys: :atoms!`) raise for
atoms that do not exist yet, where the code used to create them."##,
    fix: Some(Applicability::Unsafe),
    checks_tests: false,
    default: false,
    check,
};

/// Atom-making functions and their `existing` counterparts.
const CONVERSIONS: &[(&str, &str, &str)] = &[
    ("String", "to_atom", "to_existing_atom"),
    ("List", "to_atom", "to_existing_atom"),
    (":erlang", "binary_to_atom", "binary_to_existing_atom"),
    (":erlang", "list_to_atom", "list_to_existing_atom"),
    ("Module", "concat", "safe_concat"),
];

/// Functions that walk a collection, taking it first (or piped).
const ENUM_MODULES: &[&str] = &["Enum", "Stream"];

fn check(context: &Context, out: &mut Vec<Finding>) {
    out.extend(atoms_made_at_runtime(context).into_iter().filter(|a| a.from_client).map(|a| a.finding(&RULE)));
}

/// A place that makes atoms at runtime from values the code does not bound.
pub(super) struct AtomMaker<'t> {
    node: Node<'t>,
    kind: MakerKind<'t>,
    /// Whether the values come from a client (see [`ValuesFrom`]); the
    /// others are reported by the opt-in `runtime-atom-creation`.
    pub from_client: bool,
}

enum MakerKind<'t> {
    Conversion { module: &'static str, function: &'static str, existing: &'static str },
    AtomKeys { keys: Node<'t>, function: String },
    Interpolated,
}

impl AtomMaker<'_> {
    pub(super) fn finding(&self, rule: &Rule) -> Finding {
        match &self.kind {
            MakerKind::Conversion { module, function, existing } => {
                let source = if self.from_client { "what a client sent" } else { "runtime data" };
                conversion_finding(rule, self.node, source, module, function, existing)
            }
            MakerKind::AtomKeys { keys, function } => {
                let finding = rule.finding_at(
                    self.node,
                    format!("`{function}` with `keys: :atoms` makes an atom of every new key in the input, and atoms are never freed; use `keys: :atoms!`"),
                );
                finding.with_fix(Fix {
                    title: "Use `keys: :atoms!`".to_string(),
                    applicability: Applicability::Unsafe,
                    edits: vec![Edit::replace(keys.byte_range(), ":atoms!")],
                })
            }
            MakerKind::Interpolated if self.from_client => rule.finding_at(
                self.node,
                "an interpolated atom creates a new atom for every distinct value a client sends, and atoms are never freed",
            ),
            MakerKind::Interpolated => rule.finding_at(
                self.node,
                "an interpolated atom creates a new atom for every distinct value, and atoms are never freed",
            ),
        }
    }
}

/// Every place of the file that makes atoms at runtime from values the code
/// does not bound, in document order of kind.
pub(super) fn atoms_made_at_runtime<'t>(context: &Context<'_, 't>) -> Vec<AtomMaker<'t>> {
    let mut makers = Vec::new();
    let from_client = |node: Node<'t>, values: &[Node<'t>]| {
        context.function_of(node).is_some_and(|f| {
            let data = ValuesFrom::client(f, context.source);
            values.iter().any(|v| data.holds(*v))
        })
    };
    for &super::NamedCall { node: call, name } in &context.calls {
        if let Some(&(module, function, existing)) =
            CONVERSIONS.iter().find(|(m, f, _)| name.module == Some(*m) && name.function == *f)
        {
            if runs_at_runtime(context, call) && !converts_bounded_values(context, call, module) {
                let values = converted_values(context, call);
                let kind = MakerKind::Conversion { module, function, existing };
                makers.push(AtomMaker { node: call, kind, from_client: from_client(call, &values) });
            }
        } else if name.is(&["Jason", "Poison"], &["decode", "decode!"]) && runs_at_runtime(context, call) {
            if let Some(keys) = atom_keys(context, call) {
                let function = call.child_by_field_name("target").map_or("decode", |t| context.text(t)).to_string();
                // Decoding with atom keys is meant for outside input: always reported.
                makers.push(AtomMaker { node: call, kind: MakerKind::AtomKeys { keys, function }, from_client: true });
            }
        }
    }
    for node in context.quoted_atoms.iter().copied() {
        if makes_unbounded_atoms(context, node) && runs_at_runtime(context, node) {
            let interpolated: Vec<Node> = named_children(node).into_iter().filter(|c| c.kind() == "interpolation").collect();
            makers.push(AtomMaker { node, kind: MakerKind::Interpolated, from_client: from_client(node, &interpolated) });
        }
    }
    makers
}

/// What a conversion turns into atoms: its arguments, or for a capture
/// (`Enum.map(list, &String.to_atom/1)`) the collection it is mapped over.
fn converted_values<'t>(context: &Context<'_, 't>, call: Node<'t>) -> Vec<Node<'t>> {
    let values = arguments(call);
    if !values.is_empty() {
        return values;
    }
    captured_over(context, call).into_iter().collect()
}

/// `:"event_#{kind}"` with a `kind` the code does not bound (node names aside).
fn makes_unbounded_atoms(context: &Context, atom: Node) -> bool {
    let interpolations: Vec<Node> = named_children(atom).into_iter().filter(|c| c.kind() == "interpolation").collect();
    let bounded = interpolations.iter().all(|i| i.named_child(0).is_some_and(|v| is_bounded(context, v)));
    !bounded && !is_node_name(atom, context.source)
}

fn conversion_finding(rule: &Rule, call: Node, source: &str, module: &str, function: &str, existing: &str) -> Finding {
    let finding = rule.finding_at(
        call,
        format!("`{module}.{function}` creates atoms from {source}, which are never freed; use `{module}.{existing}`"),
    );
    let Some(target) = call.child_by_field_name("target").and_then(|t| t.child_by_field_name("right")) else {
        return finding;
    };
    finding.with_fix(Fix {
        title: format!("Use `{module}.{existing}`"),
        applicability: Applicability::Unsafe,
        edits: vec![Edit::replace(target.byte_range(), existing)],
    })
}

/// The `:atoms` of `Jason.decode(body, keys: :atoms)`.
fn atom_keys<'t>(context: &Context<'_, 't>, call: Node<'t>) -> Option<Node<'t>> {
    let options = written_arguments(call).into_iter().rev().find_map(|a| match a.kind() {
        "keywords" => Some(a),
        "list" => named_children(a).into_iter().find(|c| c.kind() == "keywords"),
        _ => None,
    })?;
    keyword_value(options, "keys", context.source).filter(|k| context.text(*k) == ":atoms")
}

/// Whether `node` runs in a running system rather than at compile time or
/// once at boot.
fn runs_at_runtime(context: &Context, node: Node) -> bool {
    let Some(function) = context.function_of(node).filter(|f| matches!(f.keyword, "def" | "defp")) else {
        return false; // module bodies, attributes, macros
    };
    // `def to_atom(...)` and friends define the conversion itself.
    if function.name.contains("atom") || context.in_quote(node) {
        return false;
    }
    if let Some(module) = context.module_of(node) {
        let in_mix_task = module.uses("Mix.Task") || module.name.starts_with("Mix.");
        let writes_macros = module.functions.iter().any(|f| f.def.keyword.starts_with("defmacro"));
        let boots_application =
            module.is_application() && ((function.name == "start" && function.arity() == 2) || function.keyword == "defp");
        if in_mix_task || writes_macros || boots_application {
            return false;
        }
    }
    // `def f(unquote(x)), do: unquote(:"#{x}")` runs `unquote` at compile time.
    !context.calls.iter().any(|c| c.name.is_local(&["unquote", "unquote_splicing"]) && contains(c.node, node))
}

/// Whether every value `call` turns into an atom is fixed by the code or
/// the configuration. `&String.to_atom/1` takes its values from the
/// collection it is mapped over.
fn converts_bounded_values(context: &Context, call: Node, module: &str) -> bool {
    let values = arguments(call);
    let Some(first) = values.first() else {
        return captured_over_fixed_list(context, call);
    };
    if module == "Module" {
        let parts = if first.kind() == "list" { named_children(*first) } else { values };
        return parts.iter().all(|p| is_bounded(context, *p));
    }
    is_node_name(*first, context.source) || is_bounded(context, *first)
}

/// `Enum.map(~w(a b), &String.to_atom/1)`.
fn captured_over_fixed_list(context: &Context, call: Node) -> bool {
    captured_over(context, call).is_some_and(|collection| is_fixed_list(context, collection))
}

/// The collection `&Module.function/1` is mapped over, as in
/// `Enum.map(collection, &String.to_atom/1)` or `collection |> Enum.map(&...)`.
fn captured_over<'t>(context: &Context<'_, 't>, call: Node<'t>) -> Option<Node<'t>> {
    let capture = call.parent().filter(|p| operator(*p) == Some("/")).and_then(|p| p.parent());
    let capture = capture.filter(|c| c.kind() == "unary_operator")?;
    let enum_call = capture.parent().filter(|a| a.kind() == "arguments").and_then(|a| a.parent())?;
    enum_collection(context, enum_call)
}

/// `Enum.map(["a", "b"], ...)` or `~w(a b) |> Enum.map(...)`.
fn iterates_fixed_list(context: &Context, call: Node) -> bool {
    enum_collection(context, call).is_some_and(|collection| is_fixed_list(context, collection))
}

/// The collection an `Enum`/`Stream` function walks: its first argument.
fn enum_collection<'t>(context: &Context<'_, 't>, call: Node<'t>) -> Option<Node<'t>> {
    let is_enum = call_name(call, context.source).is_some_and(|n| n.module.is_some_and(|m| ENUM_MODULES.contains(&m)));
    is_enum.then(|| arguments(call).first().copied()).flatten()
}

/// A value that cannot grow the atom table without bound: a constant, a
/// configuration read, or a variable bounded by a guard or a fixed list.
fn is_bounded(context: &Context, value: Node) -> bool {
    match value.kind() {
        "identifier" => {
            context.text(value) == "__MODULE__" || is_bounded_variable(context, value) || holds_configuration(context, value)
        }
        "string" | "charlist" | "atom" | "alias" | "integer" => !has_interpolation(value),
        "unary_operator" => value.child(0).is_some_and(|op| op.kind() == "@"),
        "binary_operator" => {
            matches!(operator(value), Some("<>" | "||"))
                && [value.child_by_field_name("left"), value.child_by_field_name("right")]
                    .into_iter()
                    .all(|side| side.is_some_and(|s| is_bounded(context, s)))
        }
        "call" => call_name(value, context.source).is_some_and(|n| {
            n.is(&["System"], &["get_env", "fetch_env", "fetch_env!"])
                || n.is(&["Application"], &["get_env", "fetch_env", "fetch_env!", "compile_env", "compile_env!"])
        }),
        _ => false,
    }
}

/// `if level = System.get_env("LOG_LEVEL"), do: String.to_atom(level)`: the
/// operator sets the value, as with a direct `System.get_env` argument.
fn holds_configuration(context: &Context, variable: Node) -> bool {
    context.function_of(variable).is_some_and(|f| ValuesFrom::configuration(f, context.source).holds(variable))
}

/// A variable that a guard (`when x in ...`), a generator (`for x <- ~w(a b)`)
/// or a function mapped over a fixed list (`Enum.map(~w(a b), fn x -> ... end)`)
/// restricts to a few values.
fn is_bounded_variable(context: &Context, variable: Node) -> bool {
    let name = context.text(variable);
    let mut node = variable;
    while let Some(parent) = node.parent() {
        node = parent;
        let bounded = match node.kind() {
            "stab_clause" => {
                let head = node.child_by_field_name("left");
                let guard = head.filter(|h| operator(*h) == Some("when")).and_then(|h| h.child_by_field_name("right"));
                guard.is_some_and(|g| guard_bounds(context, g, name))
                    || (binds(context, head, name) && in_function_over_fixed_list(context, node))
            }
            "call" => match call_name(node, context.source) {
                Some(n) if n.is_local(&["def", "defp"]) => {
                    let head = written_arguments(node).first().copied().filter(|h| operator(*h) == Some("when"));
                    head.and_then(|h| h.child_by_field_name("right")).is_some_and(|g| guard_bounds(context, g, name))
                }
                Some(n) if n.is_local(&["for"]) => written_arguments(node).iter().any(|g| {
                    operator(*g) == Some("<-")
                        && g.child_by_field_name("left").is_some_and(|l| context.text(l) == name)
                        && g.child_by_field_name("right").is_some_and(|r| is_fixed_list(context, r))
                }),
                _ => false,
            },
            _ => false,
        };
        if bounded {
            return true;
        }
    }
    false
}

/// Whether the guard holds `name in ...` (Elixir only allows a list or a
/// range known at compile time there), alone or joined by `and`.
fn guard_bounds(context: &Context, guard: Node, name: &str) -> bool {
    match operator(guard) {
        Some("in") => guard.child_by_field_name("left").is_some_and(|l| context.text(l) == name),
        Some("and" | "when") => [guard.child_by_field_name("left"), guard.child_by_field_name("right")]
            .into_iter()
            .flatten()
            .any(|side| guard_bounds(context, side, name)),
        _ => false,
    }
}

/// Whether the head of a clause (`x` or `x when ...`) is just the variable `name`.
fn binds(context: &Context, head: Option<Node>, name: &str) -> bool {
    let parameters = head.map(|h| if operator(h) == Some("when") { h.child_by_field_name("left") } else { Some(h) });
    let parameters = parameters.flatten().map(named_children).unwrap_or_default();
    matches!(parameters.as_slice(), [p] if context.text(*p) == name)
}

/// Whether the clause belongs to `fn` passed to `Enum.map(fixed list, ...)`.
fn in_function_over_fixed_list(context: &Context, clause: Node) -> bool {
    let function = clause.parent().filter(|f| f.kind() == "anonymous_function");
    let enum_call = function.and_then(|f| f.parent()).filter(|a| a.kind() == "arguments").and_then(|a| a.parent());
    enum_call.is_some_and(|e| iterates_fixed_list(context, e))
}

/// A list of constants, a word sigil without interpolation, or a module
/// attribute (set at compile time).
fn is_fixed_list(context: &Context, node: Node) -> bool {
    match node.kind() {
        "list" => named_children(node).iter().all(|item| {
            matches!(item.kind(), "string" | "charlist" | "atom" | "alias") && !has_interpolation(*item)
        }),
        "sigil" => {
            let name = named_children(node).into_iter().find(|c| c.kind() == "sigil_name");
            name.is_some_and(|n| matches!(context.text(n), "w" | "W")) && !has_interpolation(node)
        }
        "unary_operator" => node.child(0).is_some_and(|op| op.kind() == "@"),
        _ => false,
    }
}

/// `:"#{name}@#{host}"` and `"#{name}@" <> host`: node names, made once per
/// node of the cluster.
fn is_node_name(node: Node, source: &str) -> bool {
    match node.kind() {
        "quoted_atom" | "string" | "charlist" => {
            has_interpolation(node)
                && named_children(node).iter().any(|c| c.kind() == "quoted_content" && source[c.byte_range()].contains('@'))
        }
        "binary_operator" if operator(node) == Some("<>") => {
            let parts = [node.child_by_field_name("left"), node.child_by_field_name("right")];
            parts.into_iter().flatten().any(|p| p.kind() == "string" && source[p.byte_range()].contains('@'))
                || parts.into_iter().flatten().any(|p| is_node_name(p, source))
        }
        _ => false,
    }
}

fn operator<'t>(node: Node<'t>) -> Option<&'t str> {
    (node.kind() == "binary_operator").then(|| node.child_by_field_name("operator").map(|o| o.kind())).flatten()
}

fn has_interpolation(node: Node) -> bool {
    let mut cursor = node.walk();
    let found = node.children(&mut cursor).any(|c| c.kind() == "interpolation");
    found
}
