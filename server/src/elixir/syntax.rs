//! Small questions about tree-sitter-elixir nodes, asked by the rules.

use std::sync::OnceLock;

use tree_sitter::{Node, Tree};

pub fn text<'s>(node: Node, source: &'s str) -> &'s str {
    &source[node.byte_range()]
}

/// The name of a call: `GenServer.call(...)` is `(Some("GenServer"), "call")`,
/// `:gen_server.call(...)` is `(Some(":gen_server"), "call")`, `spawn(...)`
/// is `(None, "spawn")`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallName<'s> {
    pub module: Option<&'s str>,
    pub function: &'s str,
}

impl CallName<'_> {
    /// Whether this is `module.function` for one of `modules` (e.g. `["GenServer", ":gen_server"]`).
    pub fn is(&self, modules: &[&str], functions: &[&str]) -> bool {
        self.module.is_some_and(|m| modules.contains(&m)) && functions.contains(&self.function)
    }

    pub fn is_local(&self, functions: &[&str]) -> bool {
        self.module.is_none() && functions.contains(&self.function)
    }
}

pub fn call_name<'s>(call: Node, source: &'s str) -> Option<CallName<'s>> {
    if call.kind() != "call" {
        return None;
    }
    let target = call.child_by_field_name("target")?;
    match target.kind() {
        "identifier" => Some(CallName { module: None, function: text(target, source) }),
        "dot" => {
            let left = target.child_by_field_name("left")?;
            let right = target.child_by_field_name("right")?;
            let module = matches!(left.kind(), "alias" | "atom").then(|| text(left, source))?;
            Some(CallName { module: Some(module), function: text(right, source) })
        }
        _ => None,
    }
}

/// The argument nodes of a call as written (keywords count as one last argument).
pub fn written_arguments(call: Node) -> Vec<Node> {
    let mut cursor = call.walk();
    let arguments = call.children(&mut cursor).find(|c| c.kind() == "arguments");
    arguments.map(|a| named_children(a)).unwrap_or_default()
}

/// The arguments a call really receives: with `x |> f(a)`, `x` comes first.
pub fn arguments(call: Node) -> Vec<Node> {
    let mut arguments = written_arguments(call);
    if let Some(piped) = piped_into(call) {
        arguments.insert(0, piped);
    }
    arguments
}

/// The left side of `left |> call`, when `call` is the right side.
fn piped_into(call: Node) -> Option<Node> {
    let parent = call.parent()?;
    let is_pipe = parent.kind() == "binary_operator"
        && parent.child_by_field_name("operator").is_some_and(|o| o.kind() == "|>")
        && parent.child_by_field_name("right") == Some(call);
    is_pipe.then(|| parent.child_by_field_name("left")).flatten()
}

pub fn named_children(node: Node) -> Vec<Node> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).collect()
}

/// The `do ... end` block of a call, if it has one.
pub fn do_block(call: Node) -> Option<Node> {
    let mut cursor = call.walk();
    let found = call.children(&mut cursor).find(|c| c.kind() == "do_block");
    found
}

/// The value of `key:` in a `keywords` node (`do: value`).
pub fn keyword_value<'t>(keywords: Node<'t>, key: &str, source: &str) -> Option<Node<'t>> {
    named_children(keywords).into_iter().find_map(|pair| {
        let pair_key = pair.child_by_field_name("key")?;
        let name = text(pair_key, source).trim_end().trim_end_matches(':');
        (name == key).then(|| pair.child_by_field_name("value")).flatten()
    })
}

/// The expressions of a body: the statements of a `do` block (before any
/// `else`/`after`/`rescue`), or the single `do:` value.
pub fn statements(body: Node) -> Vec<Node> {
    match body.kind() {
        "do_block" | "body" => named_children(body)
            .into_iter()
            .filter(|c| !matches!(c.kind(), "else_block" | "after_block" | "rescue_block" | "catch_block" | "comment"))
            .collect(),
        _ => vec![body],
    }
}

/// A `def`/`defp`/`defmacro`/`defmacrop` clause.
#[derive(Clone, Debug)]
pub struct FunctionDef<'t> {
    pub node: Node<'t>,
    pub keyword: &'static str,
    pub name: String,
    /// The head: `name(params)` or bare `name`, without the guard.
    pub head: Node<'t>,
    pub params: Vec<Node<'t>>,
    pub guard: Option<Node<'t>>,
    /// A `do_block`, or the value of `do:`.
    pub body: Option<Node<'t>>,
}

impl FunctionDef<'_> {
    pub fn arity(&self) -> usize {
        self.params.len()
    }

    pub fn is_public(&self) -> bool {
        matches!(self.keyword, "def" | "defmacro")
    }

    pub fn body_statements(&self) -> Vec<Node<'_>> {
        self.body.map(statements).unwrap_or_default()
    }
}

pub fn function_def<'t>(call: Node<'t>, source: &str) -> Option<FunctionDef<'t>> {
    let keyword = match call_name(call, source)? {
        CallName { module: None, function: "def" } => "def",
        CallName { module: None, function: "defp" } => "defp",
        CallName { module: None, function: "defmacro" } => "defmacro",
        CallName { module: None, function: "defmacrop" } => "defmacrop",
        _ => return None,
    };
    let arguments = written_arguments(call);
    let first = *arguments.first()?;
    let (head, guard) = if first.kind() == "binary_operator"
        && first.child_by_field_name("operator").is_some_and(|o| o.kind() == "when")
    {
        (first.child_by_field_name("left")?, first.child_by_field_name("right"))
    } else {
        (first, None)
    };
    let (name, params) = match head.kind() {
        "identifier" => (text(head, source).to_string(), Vec::new()),
        "call" => {
            let name = call_name(head, source).filter(|n| n.module.is_none())?.function.to_string();
            (name, written_arguments(head))
        }
        _ => return None, // unquote(...) names and other macro tricks
    };
    let body = do_block(call).or_else(|| {
        arguments.iter().find(|a| a.kind() == "keywords").and_then(|k| keyword_value(*k, "do", source))
    });
    Some(FunctionDef { node: call, keyword, name, head, params, guard, body })
}

/// Depth-first walk over `node` and its descendants, skipping the inside of
/// any node for which `enter` says no.
pub fn walk<'t>(node: Node<'t>, enter: &mut dyn FnMut(Node<'t>) -> bool) {
    let mut cursor = node.walk();
    let mut descend = enter(node);
    loop {
        if descend && cursor.goto_first_child() {
            descend = enter(cursor.node());
            continue;
        }
        loop {
            if cursor.node() == node {
                return;
            }
            if cursor.goto_next_sibling() {
                descend = enter(cursor.node());
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
        }
    }
}

/// Every `call` node under `node`.
pub fn calls<'t>(node: Node<'t>) -> Vec<Node<'t>> {
    let mut found = Vec::new();
    walk(node, &mut |n| {
        if n.kind() == "call" {
            found.push(n);
        }
        true
    });
    found
}

/// Every `call` under `node` that runs in the same process: the bodies of
/// anonymous functions (which may run elsewhere, or later) are skipped.
pub fn calls_in_this_process<'t>(node: Node<'t>) -> Vec<Node<'t>> {
    let mut found = Vec::new();
    walk(node, &mut |n| {
        if n.kind() == "call" {
            found.push(n);
        }
        n.kind() != "anonymous_function"
    });
    found
}

/// The expressions a body can return: its last statement, or the last
/// statements of each branch of a `case`/`cond`/`if`/`with`/`receive` there.
pub fn return_expressions<'t>(body: Node<'t>, source: &str) -> Vec<Node<'t>> {
    let Some(last) = statements(body).last().copied() else { return Vec::new() };
    let branching = call_name(last, source)
        .is_some_and(|n| n.is_local(&["case", "cond", "if", "unless", "with", "receive", "try"]));
    if !branching {
        return vec![last];
    }
    let mut returns = Vec::new();
    if let Some(block) = do_block(last) {
        let stabs: Vec<Node> = named_children(block).into_iter().filter(|c| c.kind() == "stab_clause").collect();
        if stabs.is_empty() {
            returns.extend(return_expressions(block, source));
        }
        for stab in stabs {
            if let Some(body) = stab.child_by_field_name("right") {
                returns.extend(return_expressions(body, source));
            }
        }
        for branch in named_children(block).into_iter().filter(|c| c.kind() == "else_block") {
            returns.extend(return_expressions(branch, source));
        }
    } else if let Some(keywords) = written_arguments(last).into_iter().find(|a| a.kind() == "keywords") {
        for key in ["do", "else"] {
            returns.extend(keyword_value(keywords, key, source));
        }
    }
    returns
}

/// Whether `node` is inside a test file or a script, where processes are
/// started by hand and many rules do not apply.
pub fn is_test_or_script(path: Option<&str>) -> bool {
    path.is_some_and(|p| {
        p.ends_with(".exs") || p.split(['/', '\\']).any(|part| part == "test")
    })
}

/// The nodes the rules start from, found in one walk over the tree that
/// compares numeric kind ids rather than kind names. Rules then answer
/// "what contains this node" by comparing ranges: `Node::parent` has to
/// search down from the root every time, too slow to call per node.
pub struct NodesOfInterest<'t> {
    pub calls: Vec<Node<'t>>,
    pub comments: Vec<Node<'t>>,
    pub quoted_atoms: Vec<Node<'t>>,
    pub anonymous_functions: Vec<Node<'t>>,
}

struct KindIds {
    call: u16,
    comment: u16,
    quoted_atom: u16,
    anonymous_function: u16,
}

fn kind_ids() -> &'static KindIds {
    static IDS: OnceLock<KindIds> = OnceLock::new();
    IDS.get_or_init(|| {
        let language: tree_sitter::Language = tree_sitter_elixir::LANGUAGE.into();
        KindIds {
            call: language.id_for_node_kind("call", true),
            comment: language.id_for_node_kind("comment", true),
            quoted_atom: language.id_for_node_kind("quoted_atom", true),
            anonymous_function: language.id_for_node_kind("anonymous_function", true),
        }
    })
}

impl<'t> NodesOfInterest<'t> {
    pub fn collect(tree: &'t Tree) -> Self {
        let ids = kind_ids();
        let mut nodes = NodesOfInterest {
            calls: Vec::new(),
            comments: Vec::new(),
            quoted_atoms: Vec::new(),
            anonymous_functions: Vec::new(),
        };
        let mut cursor = tree.walk();
        loop {
            let node = cursor.node();
            let kind = node.kind_id();
            if kind == ids.call {
                nodes.calls.push(node);
            } else if kind == ids.comment {
                nodes.comments.push(node);
            } else if kind == ids.quoted_atom {
                nodes.quoted_atoms.push(node);
            } else if kind == ids.anonymous_function {
                nodes.anonymous_functions.push(node);
            }
            if cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    return nodes;
                }
            }
        }
    }
}

/// Whether `outer` contains `inner` (by byte range).
pub fn contains(outer: Node, inner: Node) -> bool {
    outer.start_byte() <= inner.start_byte() && inner.end_byte() <= outer.end_byte()
}
