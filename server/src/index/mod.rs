//! The workspace index: the modules, public functions, remote calls,
//! supervision children and tests of every Elixir file in a workspace,
//! read with tree-sitter from disk and kept current from open buffers and
//! watched files. Plain data in, plain data out; it feeds AI context
//! ([`WorkspaceIndex::context_for`]) and, later, checks that span files.

mod children;
pub mod context;
mod extract;
pub mod file;

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;

pub use context::{ContextSection, Fit, ProjectContext};
pub use extract::{index_source, index_tree};
pub use file::{Child, ChildList, FileIndex, FunctionInfo, FunctionKind, ModuleInfo};

/// Directories that hold build output or dependencies, as `check` skips
/// them; a watched-file change there is not the user's code.
const SKIPPED_DIRS: &[&str] = &["_build", "deps", "node_modules", ".elixir_ls", ".lexical", ".expert"];

#[derive(Debug, Default)]
pub struct WorkspaceIndex {
    root: PathBuf,
    files: HashMap<PathBuf, FileIndex>,
    /// Module name to the files that define it (usually one).
    modules: HashMap<String, Vec<PathBuf>>,
}

/// A call `Mod.fun(...)` found in the workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    /// The innermost module around the call, if any.
    pub caller_module: Option<String>,
    /// The function (public or private) whose body holds the call.
    pub caller_function: Option<(String, usize)>,
    /// The called module, aliases resolved.
    pub module: String,
    pub function: String,
    pub arity: usize,
    /// The calling line, trimmed and shortened.
    pub code: String,
    /// Byte offset of the call in its file.
    pub offset: usize,
}

/// A module and the file that defines it.
#[derive(Clone, Copy, Debug)]
pub struct ModuleRef<'a> {
    pub file: &'a Path,
    pub module: &'a ModuleInfo,
}

/// A list of supervision children and the file that holds it.
#[derive(Clone, Copy, Debug)]
pub struct SupervisorRef<'a> {
    pub file: &'a Path,
    pub list: &'a ChildList,
}

/// Counts, for benchmarks and logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexStats {
    pub files: usize,
    pub modules: usize,
    pub public_functions: usize,
    pub calls: usize,
    pub child_lists: usize,
}

impl WorkspaceIndex {
    /// Index every `.ex`/`.exs` file under `root` in parallel, skipping what
    /// `elexirion check` skips (`.gitignore`d files, `_build`, `deps`).
    pub fn build(root: &Path) -> WorkspaceIndex {
        let root = &root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let paths = crate::check::collect_files(&[root.to_path_buf()]);
        let indexed: Vec<(PathBuf, FileIndex)> = paths
            .into_par_iter()
            .filter_map(|path| {
                let text = std::fs::read_to_string(&path).ok()?;
                Some((path, index_source(&text)))
            })
            .collect();
        let mut index = WorkspaceIndex { root: root.to_path_buf(), ..Default::default() };
        for (path, file) in indexed {
            index.insert(path, file);
        }
        index
    }

    /// An empty index for `root`, filled by [`WorkspaceIndex::update`].
    pub fn empty(root: &Path) -> WorkspaceIndex {
        WorkspaceIndex { root: root.canonicalize().unwrap_or_else(|_| root.to_path_buf()), ..Default::default() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Re-index one file from an open buffer or a watched-file change.
    /// Paths that are not Elixir source, or lie in build output or
    /// dependencies, are ignored.
    pub fn update(&mut self, path: &Path, text: &str) {
        let path = self.key(path);
        let is_elixir = crate::elixir::is_elixir_path(&path.to_string_lossy());
        if !is_elixir || self.is_skipped(&path) {
            return;
        }
        self.remove(&path);
        self.insert(path, index_source(text));
    }

    /// [`WorkspaceIndex::update`] from a tree already parsed (an open
    /// document's), without parsing again.
    pub fn update_parsed(&mut self, path: &Path, text: &str, tree: &tree_sitter::Tree) {
        let path = self.key(path);
        if !crate::elixir::is_elixir_path(&path.to_string_lossy()) || self.is_skipped(&path) {
            return;
        }
        self.remove(&path);
        self.insert(path, extract::index_tree(text, tree));
    }

    /// Forget a file (deleted, or renamed away).
    pub fn remove(&mut self, path: &Path) {
        let path = self.key(path);
        let Some(old) = self.files.remove(&path) else { return };
        for module in &old.modules {
            if let Some(files) = self.modules.get_mut(&module.name) {
                files.retain(|f| *f != path);
                if files.is_empty() {
                    self.modules.remove(&module.name);
                }
            }
        }
    }

    fn insert(&mut self, path: PathBuf, file: FileIndex) {
        for module in &file.modules {
            let files = self.modules.entry(module.name.clone()).or_default();
            if !files.contains(&path) {
                files.push(path.clone());
                files.sort();
            }
        }
        self.files.insert(path, file);
    }

    /// Relative paths are the workspace's.
    fn key(&self, path: &Path) -> PathBuf {
        let path = if path.is_relative() { self.root.join(path) } else { path.to_path_buf() };
        if path.starts_with(&self.root) {
            return path;
        }
        // The same file reached through a symlink (`/tmp` -> `/private/tmp`):
        // keyed by its real path, as the root is.
        path.canonicalize().unwrap_or(path)
    }

    fn is_skipped(&self, path: &Path) -> bool {
        let inside = path.strip_prefix(&self.root).unwrap_or(path);
        inside.components().any(|c| matches!(c, Component::Normal(name) if SKIPPED_DIRS.iter().any(|s| name == *s)))
    }

    /// The index entry of one file.
    pub fn file(&self, path: &Path) -> Option<&FileIndex> {
        self.files.get(&self.key(path))
    }

    /// Indexed files, in no particular order.
    pub fn files(&self) -> impl Iterator<Item = (&Path, &FileIndex)> {
        self.files.iter().map(|(path, file)| (path.as_path(), file))
    }

    /// The modules a file defines, nested ones included, in source order.
    pub fn modules_in(&self, path: &Path) -> &[ModuleInfo] {
        self.file(path).map_or(&[], |f| &f.modules)
    }

    /// Where `name` is defined (the first file by path, if several are).
    pub fn module(&self, name: &str) -> Option<ModuleRef<'_>> {
        let file = self.modules.get(name)?.first()?;
        let module = self.files.get(file)?.modules.iter().find(|m| m.name == name)?;
        Some(ModuleRef { file, module })
    }

    /// Every call to a function of `module`, by file and line.
    pub fn callers(&self, module: &str) -> Vec<Call> {
        let mut calls: Vec<Call> = self
            .files
            .iter()
            .flat_map(|(path, file)| {
                let id = file.called_modules.iter().position(|m| &**m == module);
                let calls = id.map(|id| file.calls.iter().filter(move |c| c.module as usize == id));
                calls.into_iter().flatten().map(move |c| call(path, file, c))
            })
            .collect();
        calls.sort_by(|a, b| (&a.file, a.offset).cmp(&(&b.file, b.offset)));
        calls
    }

    /// Every remote call a file makes, in source order.
    pub fn calls_from(&self, path: &Path) -> Vec<Call> {
        let path = self.key(path);
        let Some(file) = self.files.get(&path) else { return Vec::new() };
        file.calls.iter().map(|c| call(&path, file, c)).collect()
    }

    /// Every children list in the workspace, by file and line.
    pub fn supervisors(&self) -> Vec<SupervisorRef<'_>> {
        let mut lists: Vec<SupervisorRef> = self
            .files
            .iter()
            .flat_map(|(file, index)| index.supervisors.iter().map(move |list| SupervisorRef { file, list }))
            .collect();
        lists.sort_by(|a, b| (a.file, a.list.line).cmp(&(b.file, b.list.line)));
        lists
    }

    /// The children lists that start `module`, with the child's position.
    pub fn supervisors_of(&self, module: &str) -> Vec<(SupervisorRef<'_>, usize)> {
        self.supervisors()
            .into_iter()
            .flat_map(|s| {
                let positions = s.list.children.iter().enumerate();
                let starting = positions.filter(|(_, c)| c.module.as_deref() == Some(module) || c.name.as_deref() == Some(module));
                starting.map(move |(i, _)| (s, i)).collect::<Vec<_>>()
            })
            .collect()
    }

    /// The test file of a source file: `lib/a/b.ex` is tested by
    /// `test/a/b_test.exs` (also under an umbrella's `apps/x/`), or else by
    /// the file defining the module's test module `A.BTest`.
    pub fn test_file_for(&self, path: &Path) -> Option<PathBuf> {
        let path = self.key(path);
        if let Some(candidate) = conventional_test_path(&path) {
            if self.files.contains_key(&candidate) || candidate.is_file() {
                return Some(candidate);
            }
        }
        let modules = self.files.get(&path)?.modules.iter();
        modules.filter_map(|m| self.module(&format!("{}Test", m.name))).map(|m| m.file.to_path_buf()).find(|f| *f != path)
    }

    pub fn stats(&self) -> IndexStats {
        let mut stats = IndexStats { files: self.files.len(), ..Default::default() };
        for file in self.files.values() {
            stats.modules += file.modules.len();
            stats.public_functions += file.modules.iter().map(|m| m.functions.len()).sum::<usize>();
            stats.calls += file.calls.len();
            stats.child_lists += file.supervisors.len();
        }
        stats
    }

    /// `path` relative to the workspace root, for display.
    pub fn relative<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.root).unwrap_or(path)
    }
}

fn call(path: &Path, file: &FileIndex, call: &file::RemoteCall) -> Call {
    let caller_module = call.caller_module.map(|m| file.modules[m as usize].name.clone());
    let caller_function = call.caller.map(|d| {
        let definition = &file.definitions[d as usize];
        (definition.name.to_string(), definition.arity as usize)
    });
    Call {
        file: path.to_path_buf(),
        line: call.line as usize,
        caller_module,
        caller_function,
        module: file.called_modules[call.module as usize].to_string(),
        function: call.function.to_string(),
        arity: call.arity as usize,
        code: call.code.to_string(),
        offset: call.offset as usize,
    }
}

/// `.../lib/a/b.ex` to `.../test/a/b_test.exs`, at the last `lib`.
fn conventional_test_path(path: &Path) -> Option<PathBuf> {
    let components: Vec<Component> = path.components().collect();
    let lib = components.iter().rposition(|c| c.as_os_str() == "lib")?;
    let stem = path.file_stem()?.to_str()?;
    if path.extension()? != "ex" {
        return None;
    }
    let mut test: PathBuf = components[..lib].iter().collect();
    test.push("test");
    for component in &components[lib + 1..components.len() - 1] {
        test.push(component);
    }
    test.push(format!("{stem}_test.exs"));
    Some(test)
}

#[cfg(test)]
mod tests;
