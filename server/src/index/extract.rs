//! One file's entry, read from its tree in a single walk that keeps track
//! of the module, function, `quote` and aliases in scope.

use std::collections::HashMap;

use tree_sitter::{Node, Tree};

use super::children::{self, Binding, SupervisorCall};
use super::file::{Definition, FileIndex, FunctionInfo, FunctionKind, ModuleInfo, RemoteCall};
use crate::elixir::parser::with_parser;
use crate::elixir::syntax::{self, text, written_arguments};
use crate::elixir::modules::attribute;

/// Parse `source` with this thread's parser and index it.
pub fn index_source(source: &str) -> FileIndex {
    let tree = with_parser(|parser| parser.parse_str(source, None));
    index_tree(source, &tree)
}

/// Index a file whose tree is already at hand (an open document's).
pub fn index_tree(source: &str, tree: &Tree) -> FileIndex {
    let mut walker = Walker::new(source);
    walker.walk(tree.root_node());
    walker.finish()
}

/// The longest calling line kept, in bytes.
const MAX_CODE: usize = 120;
/// The most `.` segments read in `__MODULE__.A.B...`.
const MAX_DOTS: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ScopeKind {
    /// Index into `FileIndex::modules`.
    Module(u32),
    /// Index into `FileIndex::definitions`, when the name could be read.
    Function(Option<u32>),
    Quote,
    /// A `do` block, clause or `fn`: where an `alias` stops applying.
    Block,
}

struct Scope {
    node: usize,
    kind: ScopeKind,
    end: usize,
}

/// `alias` written at `start`, in force until `end` (its block's end).
struct Alias {
    short: String,
    full: String,
    start: usize,
    end: usize,
}

pub(super) struct Walker<'t, 's> {
    pub(super) source: &'s str,
    file: FileIndex,
    scopes: Vec<Scope>,
    /// The nodes from the root down to the current one.
    path: Vec<Node<'t>>,
    /// Every alias of the file in source order, kept after its block
    /// ends so that children lists can be resolved after the walk.
    aliases: Vec<Alias>,
    definition_ids: HashMap<(u32, String, u32), u32>,
    called_module_ids: HashMap<Box<str>, u32>,
    bindings: Vec<Binding<'t>>,
    supervisor_calls: Vec<SupervisorCall<'t>>,
    /// The current `describe` block's name and node.
    describe: Option<(String, usize)>,
}

impl<'t, 's> Walker<'t, 's> {
    fn new(source: &'s str) -> Self {
        Walker {
            source,
            file: FileIndex::default(),
            scopes: Vec::new(),
            path: Vec::new(),
            aliases: Vec::new(),
            definition_ids: HashMap::new(),
            called_module_ids: HashMap::new(),
            bindings: Vec::new(),
            supervisor_calls: Vec::new(),
            describe: None,
        }
    }

    fn finish(mut self) -> FileIndex {
        let lists = children::child_lists(&self, &self.bindings, &self.supervisor_calls);
        self.file.supervisors = lists;
        self.file
    }

    /// Depth-first, without recursion: deeply nested input must not
    /// overflow the stack.
    fn walk(&mut self, root: Node<'t>) {
        let mut cursor = root.walk();
        loop {
            let descend = self.enter(cursor.node());
            if descend && cursor.goto_first_child() {
                continue;
            }
            loop {
                self.leave(cursor.node());
                // Not `cursor.depth()`: it counts the cursor's stack each time.
                if self.path.is_empty() {
                    return;
                }
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return;
                }
            }
        }
    }

    fn enter(&mut self, node: Node<'t>) -> bool {
        self.path.push(node);
        if !node.is_named() {
            return false;
        }
        match node.kind() {
            "call" => self.enter_call(node),
            "binary_operator" => self.enter_binding(node),
            "unary_operator" => self.enter_attribute(node),
            "do_block" | "stab_clause" | "anonymous_function" => self.open(node, ScopeKind::Block),
            "comment" => return false,
            _ => {}
        }
        true
    }

    fn leave(&mut self, node: Node<'t>) {
        self.path.pop();
        if self.scopes.last().is_some_and(|s| s.node == node.id()) {
            self.scopes.pop();
        }
        if self.describe.as_ref().is_some_and(|(_, id)| *id == node.id()) {
            self.describe = None;
        }
    }

    fn open(&mut self, node: Node, kind: ScopeKind) {
        self.scopes.push(Scope { node: node.id(), kind, end: node.end_byte() });
    }

    /// Bring `short` in scope as `full` from `at` to the end of the current block.
    fn alias(&mut self, short: String, full: String, at: usize) {
        let end = self.scopes.last().map_or(self.source.len(), |s| s.end);
        self.aliases.push(Alias { short, full, start: at, end });
    }

    /// The innermost scope that is not a plain block.
    fn owner(&self) -> Option<ScopeKind> {
        self.scopes.iter().rev().map(|s| s.kind).find(|k| *k != ScopeKind::Block)
    }

    fn in_quote(&self) -> bool {
        self.scopes.iter().any(|s| s.kind == ScopeKind::Quote)
    }

    pub(super) fn current_module(&self) -> Option<u32> {
        self.scopes.iter().rev().find_map(|s| match s.kind {
            ScopeKind::Module(m) => Some(m),
            _ => None,
        })
    }

    /// The innermost module around `offset` (modules are kept in source
    /// order, outer before inner), also after the walk.
    pub(super) fn module_at(&self, offset: usize) -> Option<u32> {
        let modules = &self.file.modules;
        modules.iter().rposition(|m| m.range.contains(&offset)).map(|i| i as u32)
    }

    pub(super) fn module_info(&self, index: u32) -> &ModuleInfo {
        &self.file.modules[index as usize]
    }

    pub(super) fn current_function(&self) -> Option<u32> {
        self.scopes.iter().rev().find_map(|s| match s.kind {
            ScopeKind::Function(f) => f,
            _ => None,
        })
    }

    /// The definition node of the innermost function, for bindings.
    fn function_scope_node(&self) -> Option<usize> {
        self.scopes.iter().rev().find(|s| matches!(s.kind, ScopeKind::Function(_))).map(|s| s.node)
    }

    fn module_name(&self, index: u32) -> &str {
        &self.file.modules[index as usize].name
    }

    fn at_module_level(&self) -> bool {
        matches!(self.owner(), Some(ScopeKind::Module(_)))
    }

    fn enter_call(&mut self, call: Node<'t>) {
        let Some(target) = call.child_by_field_name("target") else { return };
        match target.kind() {
            "identifier" => self.enter_local_call(call, text(target, self.source)),
            "dot" => self.enter_remote_call(call, target),
            _ => {}
        }
    }

    fn enter_local_call(&mut self, call: Node<'t>, name: &str) {
        match name {
            "defmodule" | "defprotocol" | "defimpl"
                if !self.in_quote() && !matches!(self.owner(), Some(ScopeKind::Function(_))) =>
            {
                self.enter_module(call, name == "defimpl")
            }
            "def" | "defp" | "defmacro" | "defmacrop" | "defdelegate" | "defguard" | "defguardp"
                if self.at_module_level() =>
            {
                self.enter_definition(call, name)
            }
            "alias" if !self.in_quote() => self.add_aliases(call),
            "use" if self.at_module_level() => self.add_use(call),
            "quote" => self.open(call, ScopeKind::Quote),
            "test" | "describe" if self.at_module_level() => self.add_test(call, name),
            _ => {}
        }
    }

    fn enter_module(&mut self, call: Node<'t>, is_impl: bool) {
        let Some(written) = written_arguments(call).first().copied() else { return };
        let outer = self.current_module().map(|m| self.module_name(m).to_string());
        let name = match (written.kind(), &outer) {
            _ if is_impl => match self.impl_name(call, written, outer.as_deref()) {
                Some(name) => name,
                None => return,
            },
            ("alias", Some(outer)) => {
                let written = text(written, self.source);
                // Elixir aliases the first segment of a nested module's name.
                let first = written.split('.').next().unwrap_or(written);
                self.alias(first.to_string(), format!("{outer}.{first}"), call.start_byte());
                format!("{outer}.{written}")
            }
            ("alias", None) => text(written, self.source).to_string(),
            ("dot", _) => match self.module_of(written) {
                Some(name) => name,
                None => return,
            },
            _ => return, // `defmodule unquote(name)` and the like
        };
        let index = self.file.modules.len() as u32;
        self.file.modules.push(ModuleInfo {
            name,
            range: call.byte_range(),
            line: call.start_position().row + 1,
            functions: Vec::new(),
            uses: Vec::new(),
            behaviours: Vec::new(),
        });
        self.open(call, ScopeKind::Module(index));
    }

    /// `defimpl Proto, for: Type` defines `Proto.Type`; without `for:`,
    /// inside a module, `Proto.Module`.
    fn impl_name(&self, call: Node<'t>, protocol: Node<'t>, outer: Option<&str>) -> Option<String> {
        let protocol = self.module_of(protocol)?;
        let keywords = written_arguments(call).into_iter().find(|a| a.kind() == "keywords");
        let target = match keywords.and_then(|k| syntax::keyword_value(k, "for", self.source)) {
            Some(target) => self.module_of(target)?,
            None => outer?.to_string(),
        };
        Some(format!("{protocol}.{target}"))
    }

    fn enter_definition(&mut self, call: Node<'t>, keyword: &str) {
        let Some(module) = self.current_module() else { return };
        let head = written_arguments(call).first().and_then(|first| function_head(*first, self.source));
        let Some((name, params)) = head else {
            self.open(call, ScopeKind::Function(None)); // `def unquote(name)(...)`
            return;
        };
        let arity = params.len() as u32;
        let key = (module, name.to_string(), arity);
        let next = self.file.definitions.len() as u32;
        let definition = *self.definition_ids.entry(key).or_insert(next);
        if definition == next {
            self.file.definitions.push(Definition { name: name.into(), arity });
        }
        self.open(call, ScopeKind::Function(Some(definition)));
        let kind = match keyword {
            "def" => FunctionKind::Def,
            "defmacro" => FunctionKind::Macro,
            "defdelegate" => FunctionKind::Delegate,
            "defguard" => FunctionKind::Guard,
            _ => return, // private
        };
        let defaults = params.iter().filter(|p| is_default_argument(**p)).count();
        let signature = collapse(text(written_arguments(call)[0], self.source), MAX_CODE);
        let signature = signature.split(" when ").next().unwrap_or(&signature).to_string();
        let functions = &mut self.file.modules[module as usize].functions;
        for arity in params.len() - defaults..=params.len() {
            if let Some(existing) = functions.iter_mut().find(|f| f.name == name && f.arity == arity) {
                existing.range.end = existing.range.end.max(call.end_byte());
                continue;
            }
            functions.push(FunctionInfo {
                name: name.to_string(),
                arity,
                kind,
                line: call.start_position().row + 1,
                range: call.byte_range(),
                signature: signature.clone(),
            });
        }
    }

    /// `alias A.B`, `alias A.B, as: C`, `alias A.{B, C}`, `alias __MODULE__.B`.
    fn add_aliases(&mut self, call: Node<'t>) {
        let arguments = written_arguments(call);
        let Some(target) = arguments.first().copied() else { return };
        let as_name = arguments
            .iter()
            .find(|a| a.kind() == "keywords")
            .and_then(|k| syntax::keyword_value(*k, "as", self.source))
            .filter(|v| v.kind() == "alias")
            .map(|v| text(v, self.source).to_string());
        if target.kind() == "dot" {
            let right = target.child_by_field_name("right");
            if let Some(tuple) = right.filter(|r| r.kind() == "tuple") {
                let Some(base) = target.child_by_field_name("left").and_then(|l| self.module_of(l)) else { return };
                for item in syntax::named_children(tuple).into_iter().filter(|i| i.kind() == "alias") {
                    let item = text(item, self.source);
                    let short = item.rsplit('.').next().unwrap_or(item).to_string();
                    self.alias(short, format!("{base}.{item}"), call.start_byte());
                }
                return;
            }
        }
        let Some(full) = self.module_of(target) else { return };
        let short = as_name.unwrap_or_else(|| full.rsplit('.').next().unwrap_or(&full).to_string());
        self.alias(short, full, call.start_byte());
    }

    fn add_use(&mut self, call: Node<'t>) {
        let target = written_arguments(call).first().copied();
        if let (Some(module), Some(name)) = (self.current_module(), target.and_then(|t| self.module_of(t))) {
            self.file.modules[module as usize].uses.push(name);
        }
    }

    /// `@behaviour X`.
    fn enter_attribute(&mut self, node: Node<'t>) {
        let Some(("behaviour", Some(value))) = attribute(node, self.source) else { return };
        if !self.at_module_level() {
            return;
        }
        let name = self.module_of(value).or_else(|| (value.kind() == "atom").then(|| text(value, self.source).to_string()));
        if let (Some(module), Some(name)) = (self.current_module(), name) {
            self.file.modules[module as usize].behaviours.push(name);
        }
    }

    /// `test "name"` and `describe "name"` in a module that uses a `...Case`.
    fn add_test(&mut self, call: Node<'t>, keyword: &str) {
        let Some(module) = self.current_module() else { return };
        if !self.file.modules[module as usize].uses.iter().any(|u| u.ends_with("Case")) {
            return;
        }
        let Some(name) = written_arguments(call).first().filter(|a| a.kind() == "string").map(|s| text(*s, self.source))
        else {
            return;
        };
        let name = collapse(name.trim_matches('"'), MAX_CODE);
        if keyword == "describe" {
            self.describe = Some((name, call.id()));
            return;
        }
        let full = match &self.describe {
            Some((describe, _)) => format!("{describe} {name}"),
            None => name,
        };
        self.file.tests.push(full);
    }

    /// `name = [...]` (or `[...] ++ [...]`): a possible children list.
    fn enter_binding(&mut self, node: Node<'t>) {
        if node.child_by_field_name("operator").is_none_or(|o| o.kind() != "=") {
            return;
        }
        let (Some(left), Some(right)) = (node.child_by_field_name("left"), node.child_by_field_name("right")) else { return };
        if left.kind() != "identifier" || !matches!(right.kind(), "list" | "binary_operator" | "call") {
            return;
        }
        self.bindings.push(Binding {
            name: text(left, self.source).to_string(),
            value: right,
            function: self.function_scope_node(),
            module: self.current_module(),
        });
    }

    fn enter_remote_call(&mut self, call: Node<'t>, dot: Node<'t>) {
        let Some(left) = dot.child_by_field_name("left") else { return };
        let Some(right) = dot.child_by_field_name("right").filter(|r| r.kind() == "identifier") else { return };
        let Some(module) = self.module_of(left) else { return };
        let function = text(right, self.source);
        let arity = self.call_arity(call);
        if module == "Supervisor" && matches!(function, "start_link" | "init") && arity == 2 {
            let piped = self.piped_into(call);
            let first = piped.or_else(|| written_arguments(call).first().copied());
            if let Some(first) = first {
                self.supervisor_calls.push(SupervisorCall {
                    argument: first,
                    function: self.function_scope_node(),
                    module: self.current_module(),
                });
            }
        }
        let next = self.file.called_modules.len() as u32;
        let module_id = *self.called_module_ids.entry(module.as_str().into()).or_insert(next);
        if module_id == next {
            self.file.called_modules.push(module.into());
        }
        self.file.calls.push(RemoteCall {
            module: module_id,
            function: function.into(),
            arity,
            line: call.start_position().row as u32 + 1,
            offset: call.start_byte() as u32,
            caller_module: self.current_module(),
            caller: self.current_function(),
            code: line_at(self.source, call.start_byte()).into(),
        });
    }

    /// Arguments written, plus the piped one, plus a `do` block; for
    /// `&Mod.fun/2`, the arity written after the slash.
    fn call_arity(&self, call: Node<'t>) -> u32 {
        let parent = self.ancestor(1);
        let slash = parent.filter(|p| {
            p.kind() == "binary_operator"
                && p.child_by_field_name("operator").is_some_and(|o| o.kind() == "/")
                && p.child_by_field_name("left") == Some(call)
        });
        let captured = slash.is_some() && self.ancestor(2).is_some_and(|g| g.kind() == "unary_operator" && g.child(0).is_some_and(|o| o.kind() == "&"));
        if let Some(arity) = slash.filter(|_| captured).and_then(|s| s.child_by_field_name("right")) {
            if let Ok(arity) = text(arity, self.source).parse() {
                return arity;
            }
        }
        let written = written_arguments(call).len() as u32;
        let piped = self.piped_into(call).is_some() as u32;
        let block = syntax::do_block(call).is_some() as u32;
        written + piped + block
    }

    /// The left side of `left |> call`.
    fn piped_into(&self, call: Node<'t>) -> Option<Node<'t>> {
        let parent = self.ancestor(1)?;
        let is_pipe = parent.kind() == "binary_operator"
            && parent.child_by_field_name("operator").is_some_and(|o| o.kind() == "|>")
            && parent.child_by_field_name("right") == Some(call);
        is_pipe.then(|| parent.child_by_field_name("left")).flatten()
    }

    /// The current node's `n`th ancestor (1 is the parent).
    fn ancestor(&self, n: usize) -> Option<Node<'t>> {
        self.path.len().checked_sub(n + 1).map(|i| self.path[i])
    }

    /// The module a node names, aliases resolved: `Mod`, `__MODULE__`,
    /// `__MODULE__.Sub`.
    pub(super) fn module_of(&self, node: Node) -> Option<String> {
        self.module_of_within(node, 0)
    }

    fn module_of_within(&self, node: Node, depth: usize) -> Option<String> {
        if depth > MAX_DOTS {
            return None; // hostile input; no module name is that long
        }
        match node.kind() {
            "alias" => Some(self.resolve(text(node, self.source), node.start_byte())),
            "identifier" if text(node, self.source) == "__MODULE__" => {
                self.module_at(node.start_byte()).map(|m| self.module_name(m).to_string())
            }
            "dot" => {
                let left = self.module_of_within(node.child_by_field_name("left")?, depth + 1)?;
                let right = node.child_by_field_name("right").filter(|r| r.kind() == "alias")?;
                Some(format!("{left}.{}", text(right, self.source)))
            }
            _ => None,
        }
    }

    /// `Worker.Sup` with `alias App.Worker` in scope is `App.Worker.Sup`.
    fn resolve(&self, written: &str, at: usize) -> String {
        let written = written.strip_prefix("Elixir.").unwrap_or(written);
        let (first, rest) = match written.split_once('.') {
            Some((first, rest)) => (first, Some(rest)),
            None => (written, None),
        };
        let in_force = |a: &&Alias| a.short == first && a.start <= at && at < a.end;
        let Some(alias) = self.aliases.iter().rev().find(in_force) else {
            return written.to_string();
        };
        match rest {
            Some(rest) => format!("{}.{rest}", alias.full),
            None => alias.full.clone(),
        }
    }
}

/// `name(params)` or a bare `name`, guard stripped; `None` for
/// `unquote(name)(...)` and other heads built by macros.
fn function_head<'t, 's>(first: Node<'t>, source: &'s str) -> Option<(&'s str, Vec<Node<'t>>)> {
    let head = if first.kind() == "binary_operator" && first.child_by_field_name("operator").is_some_and(|o| o.kind() == "when") {
        first.child_by_field_name("left")?
    } else {
        first
    };
    match head.kind() {
        "identifier" => Some((text(head, source), Vec::new())),
        "call" => {
            let name = syntax::call_name(head, source).filter(|n| n.module.is_none())?.function;
            Some((name, written_arguments(head)))
        }
        _ => None,
    }
}

fn is_default_argument(param: Node) -> bool {
    param.kind() == "binary_operator" && param.child_by_field_name("operator").is_some_and(|o| o.kind() == "\\\\")
}

/// The line around `offset`, trimmed and shortened to `MAX_CODE` bytes.
fn line_at(source: &str, offset: usize) -> String {
    let start = source[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = source[offset..].find('\n').map_or(source.len(), |i| offset + i);
    shorten(source[start..end].trim(), MAX_CODE)
}

/// Whitespace runs become one space; then [`shorten`].
pub(super) fn collapse(text: &str, max: usize) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    shorten(&collapsed, max)
}

fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
