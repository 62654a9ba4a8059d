//! The modules of a file, as the rules need them: name, behaviours, and
//! function clauses with their `@impl` marks.

use tree_sitter::Node;

use super::syntax::{self, call_name, function_def, text, FunctionDef};

#[derive(Debug)]
pub struct ModuleDef<'t> {
    pub node: Node<'t>,
    pub name: String,
    /// Direct statements of the module body.
    pub statements: Vec<Node<'t>>,
    /// `use X` and `@behaviour X` targets, e.g. `GenServer`, `:gen_server`.
    pub behaviours: Vec<String>,
    pub functions: Vec<Function<'t>>,
}

#[derive(Debug)]
pub struct Function<'t> {
    pub def: FunctionDef<'t>,
    /// `@impl` stands right before this clause.
    pub has_impl: bool,
}

impl<'t> ModuleDef<'t> {
    pub fn uses(&self, behaviour: &str) -> bool {
        self.behaviours.iter().any(|b| b == behaviour)
    }

    pub fn is_genserver(&self) -> bool {
        self.uses("GenServer") || self.uses(":gen_server")
    }

    pub fn is_supervisor(&self) -> bool {
        self.uses("Supervisor") || self.uses(":supervisor") || self.uses("DynamicSupervisor")
    }

    pub fn is_application(&self) -> bool {
        self.uses("Application") || self.uses(":application")
    }

    /// Clauses of `name/arity`, in source order.
    pub fn clauses<'a>(&'a self, name: &'a str, arity: usize) -> impl Iterator<Item = &'a Function<'t>> + 'a {
        self.functions.iter().filter(move |f| f.def.name == name && f.def.arity() == arity)
    }

    pub fn defines(&self, name: &str, arity: usize) -> bool {
        self.clauses(name, arity).next().is_some()
    }
}

/// GenServer callbacks (name, arity).
pub const GENSERVER_CALLBACKS: &[(&str, usize)] = &[
    ("init", 1),
    ("handle_call", 3),
    ("handle_cast", 2),
    ("handle_info", 2),
    ("handle_continue", 2),
    ("terminate", 2),
    ("code_change", 3),
    ("format_status", 1),
    ("format_status", 2),
];

pub fn module_def<'t>(call: Node<'t>, source: &str) -> Option<ModuleDef<'t>> {
    if !call_name(call, source)?.is_local(&["defmodule"]) {
        return None;
    }
    let name = text(*syntax::written_arguments(call).first()?, source).to_string();
    let statements = syntax::do_block(call).map(syntax::statements).unwrap_or_default();
    let mut behaviours = Vec::new();
    let mut functions = Vec::new();
    let mut impl_pending = false;
    for statement in &statements {
        if let Some(def) = function_def(*statement, source) {
            functions.push(Function { def, has_impl: impl_pending });
            impl_pending = false;
            continue;
        }
        if let Some((attribute, value)) = attribute(*statement, source) {
            match attribute {
                "impl" => impl_pending = value.is_none_or(|v| text(v, source) != "false"),
                "behaviour" => behaviours.extend(value.map(|v| text(v, source).to_string())),
                _ => {}
            }
            continue;
        }
        let is_use = call_name(*statement, source).is_some_and(|n| n.is_local(&["use"]));
        if let Some(target) = syntax::written_arguments(*statement).first().filter(|_| is_use) {
            behaviours.push(text(*target, source).to_string());
        }
    }
    Some(ModuleDef { node: call, name, statements, behaviours, functions })
}

/// `@name value` as `("name", Some(value))`; `@name` alone as `("name", None)`.
pub fn attribute<'t, 's>(node: Node<'t>, source: &'s str) -> Option<(&'s str, Option<Node<'t>>)> {
    if node.kind() != "unary_operator" || node.child(0).is_none_or(|op| op.kind() != "@") {
        return None;
    }
    let operand = node.child_by_field_name("operand")?;
    match operand.kind() {
        "identifier" => Some((text(operand, source), None)),
        "call" => {
            let name = call_name(operand, source)?.function;
            Some((name, syntax::written_arguments(operand).first().copied()))
        }
        _ => None,
    }
}
