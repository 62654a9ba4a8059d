//! Where the values of a function come from: what a client sent (an HTTP
//! request, a LiveView event, a channel message, JSON decoded at runtime),
//! or configuration the operator set.
//!
//! A lightweight, per-function taint: the sources are the parameters that
//! web callbacks receive and a few well-known expressions; a variable bound
//! (by `=`, `<-`, `case` or a clause head) from a value that holds such data
//! holds it too. Values that pass through other functions are not
//! followed: a rule using this reports less, never something made up.

use std::collections::HashSet;

use tree_sitter::Node;

use super::syntax::{call_name, named_children, text, walk, FunctionDef};

/// `conn` fields that hold what the client sent.
const CONN_FIELDS: &[&str] =
    &["params", "query_params", "body_params", "path_params", "req_headers", "cookies", "req_cookies", "query_string"];

/// Calls whose result is data from outside, whatever their argument.
fn is_source_call(call: Node, source: &str) -> bool {
    let Some(name) = call_name(call, source) else {
        // `conn.params`: a call on a variable named `conn`.
        let target = call.child_by_field_name("target").filter(|t| t.kind() == "dot");
        let left = target.and_then(|t| t.child_by_field_name("left"));
        let right = target.and_then(|t| t.child_by_field_name("right"));
        return left.is_some_and(|l| text(l, source) == "conn")
            && right.is_some_and(|r| CONN_FIELDS.contains(&text(r, source)));
    };
    name.is(&["Jason", "Poison", "JSON"], &["decode", "decode!"])
        || name.is(&["URI"], &["decode_query", "query_decoder"])
        || name.is(&["Plug.Conn"], &["get_req_header", "read_body"])
        || name.is_local(&["get_req_header", "read_body"])
}

/// The variables of a function that hold values from one kind of source.
pub struct ValuesFrom<'s> {
    variables: HashSet<&'s str>,
    source: &'s str,
    is_source: fn(Node, &str) -> bool,
}

impl<'s> ValuesFrom<'s> {
    /// The variables of `function` that hold what a client sent.
    pub fn client(function: &FunctionDef, source: &'s str) -> Self {
        Self::flowing_from(function, source, client_parameters(function, source), is_source_call)
    }

    /// The variables of `function` that hold configuration the operator
    /// set: values read with `System.get_env` or `Application.get_env` (and
    /// their `fetch` cousins), and variables bound from them.
    pub fn configuration(function: &FunctionDef, source: &'s str) -> Self {
        Self::flowing_from(function, source, Vec::new(), is_configuration_call)
    }

    fn flowing_from(
        function: &FunctionDef,
        source: &'s str,
        parameters: Vec<Node>,
        is_source: fn(Node, &str) -> bool,
    ) -> Self {
        let mut data = ValuesFrom { variables: HashSet::new(), source, is_source };
        for param in parameters {
            data.bind(param);
        }
        let Some(body) = function.body else { return data };
        let binders = binders(body, source);
        // Bindings can refer to later ones only through loops we do not
        // follow, so a few passes reach the fixpoint.
        loop {
            let before = data.variables.len();
            for (pattern, value) in &binders {
                if data.holds(*value) {
                    data.bind(*pattern);
                }
            }
            if data.variables.len() == before {
                return data;
            }
        }
    }

    /// Whether the value of `expression` may hold such a value.
    pub fn holds(&self, expression: Node) -> bool {
        let mut found = false;
        walk(expression, &mut |node| {
            if found {
                return false;
            }
            found = match node.kind() {
                "identifier" => self.variables.contains(text(node, self.source)),
                "call" => (self.is_source)(node, self.source),
                _ => false,
            };
            !found
        });
        found
    }

    fn bind(&mut self, pattern: Node) {
        let source = self.source;
        walk(pattern, &mut |node| {
            if node.kind() == "identifier" {
                let name = text(node, source);
                if !name.starts_with('_') {
                    self.variables.insert(name);
                }
            }
            // `^pinned` reads a variable, it binds none.
            !(node.kind() == "unary_operator" && node.child(0).is_some_and(|op| op.kind() == "^"))
        });
    }
}

fn is_configuration_call(call: Node, source: &str) -> bool {
    call_name(call, source).is_some_and(|n| {
        n.is(&["System"], &["get_env", "fetch_env", "fetch_env!"])
            || n.is(&["Application"], &["get_env", "fetch_env", "fetch_env!", "get_all_env"])
    })
}

/// The parameters through which a web callback receives client data:
/// a controller action's `params` (after `conn`), LiveView's `mount`,
/// `handle_params` and `handle_event`, and a channel's `join` and
/// `handle_in`.
fn client_parameters<'t>(function: &FunctionDef<'t>, source: &str) -> Vec<Node<'t>> {
    let params = &function.params;
    let last_is_socket = params.last().is_some_and(|p| names_variable(*p, source, "socket"));
    match (function.name.as_str(), params.len()) {
        ("handle_event" | "handle_in" | "join", 3) if last_is_socket => params[..2].to_vec(),
        ("mount" | "handle_params", 3) if last_is_socket => params[..1].to_vec(),
        (_, 2) if function.is_public() && names_variable(params[0], source, "conn") => params[1..].to_vec(),
        _ => Vec::new(),
    }
}

/// `socket`, `_socket`, `%Socket{} = socket`…
fn names_variable(param: Node, source: &str, name: &str) -> bool {
    let written = text(param, source);
    written.trim_start_matches('_') == name || written.ends_with(&format!("= {name}"))
}

/// `(pattern, value)` pairs that bind variables in `body`: matches,
/// generators and `case` clauses.
fn binders<'t>(body: Node<'t>, source: &str) -> Vec<(Node<'t>, Node<'t>)> {
    let mut pairs = Vec::new();
    walk(body, &mut |node| {
        match node.kind() {
            "binary_operator" => {
                let operator = node.child_by_field_name("operator").map(|o| o.kind());
                if let (Some("=" | "<-"), Some(left), Some(right)) =
                    (operator, node.child_by_field_name("left"), node.child_by_field_name("right"))
                {
                    pairs.push((left, right));
                }
            }
            "call" if call_name(node, source).is_some_and(|n| n.is_local(&["case"])) => {
                let subject = super::syntax::written_arguments(node).first().copied().or_else(|| piped(node));
                if let (Some(subject), Some(block)) = (subject, super::syntax::do_block(node)) {
                    for clause in named_children(block).into_iter().filter(|c| c.kind() == "stab_clause") {
                        if let Some(head) = clause.child_by_field_name("left") {
                            pairs.push((head, subject));
                        }
                    }
                }
            }
            _ => {}
        }
        true
    });
    pairs
}

/// `value |> case do ... end`.
fn piped(call: Node) -> Option<Node> {
    let parent = call.parent().filter(|p| p.kind() == "binary_operator")?;
    let is_pipe = parent.child_by_field_name("operator").is_some_and(|o| o.kind() == "|>");
    (is_pipe && parent.child_by_field_name("right") == Some(call)).then(|| parent.child_by_field_name("left")).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elixir::parser::ElixirParser;
    use crate::elixir::syntax::function_def;

    /// Whether the argument of the `String.to_atom` call in `code` holds request data.
    fn converts_request_data(code: &str) -> bool {
        let tree = ElixirParser::new().parse_str(code, None);
        let mut def = None;
        let mut argument = None;
        walk(tree.root_node(), &mut |node| {
            if def.is_none() {
                def = function_def(node, code);
            }
            if call_name(node, code).is_some_and(|n| n.is(&["String"], &["to_atom"])) {
                argument = super::super::syntax::arguments(node).first().copied();
            }
            true
        });
        ValuesFrom::client(&def.expect("a def"), code).holds(argument.expect("a conversion"))
    }

    #[test]
    fn client_data_reaches_conversions_through_bindings() {
        assert!(converts_request_data("def show(conn, %{\"sort\" => sort}), do: String.to_atom(sort)"));
        assert!(converts_request_data("def show(conn, params) do\n  field = params[\"f\"]\n  String.to_atom(field)\nend"));
        assert!(converts_request_data(
            "def handle_event(\"sort\", %{\"by\" => by}, socket) do\n  case by do\n    b -> b |> String.to_atom()\n  end\nend"
        ));
        assert!(converts_request_data("def call(conn, _opts) do\n  {:ok, v} = Jason.decode(conn.params[\"x\"])\n  String.to_atom(v)\nend"));
        assert!(converts_request_data("def f(body) do\n  with {:ok, %{\"k\" => k}} <- Jason.decode(body), do: String.to_atom(k)\nend"));
    }

    #[test]
    fn values_the_server_chose_are_not_client_data() {
        assert!(!converts_request_data("def f(name), do: String.to_atom(name)"));
        assert!(!converts_request_data("def show(conn, _params), do: String.to_atom(conn.assigns.kind)"));
        assert!(!converts_request_data("def handle_event(e, p, socket), do: String.to_atom(socket.assigns.tab)"));
        assert!(!converts_request_data("defp helper(conn, params), do: String.to_atom(params)"));
        assert!(!converts_request_data("def show(conn, params) do\n  x = ^params\n  String.to_atom(y)\nend"));
    }
}
