//! What the index keeps of one file: only what its queries read, never
//! the tree or the text (the calling line of each remote call excepted,
//! which is what a prompt shows of a caller).

use std::ops::Range;

/// One Elixir file's entry in the index.
#[derive(Clone, Debug, Default)]
pub struct FileIndex {
    pub modules: Vec<ModuleInfo>,
    /// Every function and macro defined in the file, public or not, once
    /// per name and arity: what a call's caller points to.
    pub(crate) definitions: Vec<Definition>,
    /// The modules this file calls, each once: calls point into it.
    pub(crate) called_modules: Vec<Box<str>>,
    pub(crate) calls: Vec<RemoteCall>,
    pub supervisors: Vec<ChildList>,
    /// ExUnit test names (`describe` name, a space, `test` name), for files
    /// whose module uses a `...Case`.
    pub tests: Vec<String>,
}

/// A `defmodule`, nested ones under their full name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleInfo {
    pub name: String,
    /// The byte range of the whole `defmodule ... end`.
    pub range: Range<usize>,
    /// 1-based line of `defmodule`.
    pub line: usize,
    /// Public functions and macros, once per name and arity, in source order.
    pub functions: Vec<FunctionInfo>,
    /// `use` targets, aliases resolved (`GenServer`, `ExUnit.Case`).
    pub uses: Vec<String>,
    /// `@behaviour` targets, aliases resolved.
    pub behaviours: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionKind {
    Def,
    Macro,
    Delegate,
    Guard,
}

impl FunctionKind {
    pub fn keyword(self) -> &'static str {
        match self {
            FunctionKind::Def => "def",
            FunctionKind::Macro => "defmacro",
            FunctionKind::Delegate => "defdelegate",
            FunctionKind::Guard => "defguard",
        }
    }
}

/// A public function or macro: `def f(a, b \\ 1)` is both `f/1` and `f/2`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionInfo {
    pub name: String,
    pub arity: usize,
    pub kind: FunctionKind,
    /// 1-based line of the first clause.
    pub line: usize,
    /// From the first clause's start to the last clause's end.
    pub range: Range<usize>,
    /// The first clause's head as written, e.g. `fetch(key, default \\ nil)`.
    pub signature: String,
}

/// Behaviours that make a module an OTP process or part of the tree.
const OTP_BEHAVIOURS: &[&str] =
    &["Application", "Supervisor", "DynamicSupervisor", "GenServer", "GenStateMachine", "Agent", "Task", "Registry"];

impl ModuleInfo {
    /// Whether the module `use`s `name` or declares it as `@behaviour`.
    pub fn uses(&self, name: &str) -> bool {
        self.uses.iter().chain(&self.behaviours).any(|u| u == name)
    }

    pub fn is_application(&self) -> bool {
        self.uses("Application") || self.uses(":application")
    }

    pub fn is_supervisor(&self) -> bool {
        self.uses("Supervisor") || self.uses(":supervisor")
    }

    /// The first OTP behaviour the module takes part in (`GenServer`, ...).
    pub fn otp_behaviour(&self) -> Option<&str> {
        self.uses.iter().chain(&self.behaviours).map(String::as_str).find(|u| OTP_BEHAVIOURS.contains(u))
    }

    pub fn function(&self, name: &str, arity: usize) -> Option<&FunctionInfo> {
        self.functions.iter().find(|f| f.name == name && f.arity == arity)
    }
}

/// A function clause group that can make calls, public or private.
#[derive(Clone, Debug)]
pub(crate) struct Definition {
    pub name: Box<str>,
    pub arity: u32,
}

/// `Mod.fun(...)` as found in a file; the module has its aliases resolved.
#[derive(Clone, Debug)]
pub(crate) struct RemoteCall {
    /// Index into `called_modules`.
    pub module: u32,
    pub function: Box<str>,
    pub arity: u32,
    /// 1-based.
    pub line: u32,
    pub offset: u32,
    /// Index into `modules`: the innermost module around the call.
    pub caller_module: Option<u32>,
    /// Index into `definitions`.
    pub caller: Option<u32>,
    /// The calling line, trimmed and shortened.
    pub code: Box<str>,
}

/// The children a supervisor starts, as one list in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildList {
    /// The module whose code holds the list (the `use Application` module
    /// for the application's top supervisor).
    pub holder: String,
    /// 1-based line of the list.
    pub line: usize,
    pub children: Vec<Child>,
}

/// One child as written, with the module it starts when that can be told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Child {
    /// The child spec's source, whitespace collapsed and shortened.
    pub written: String,
    /// `App.Worker` for `App.Worker`, `{App.Worker, arg}`,
    /// `Supervisor.child_spec({App.Worker, arg}, ...)` or a map's `start:`.
    pub module: Option<String>,
    /// The `name:` option, when it names a module (`App.DynSup`).
    pub name: Option<String>,
    pub line: usize,
}
