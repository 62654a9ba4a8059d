//! The workspace is a wall: every path a pipeline reads or writes, from
//! the command line or the editor, is resolved here (symlinks and `..`
//! followed) and refused when it really lands outside the workspace.

use std::path::{Component, Path, PathBuf};

/// Where `path` (relative to `root`, or absolute) really is, once symlinks
/// and `..` are resolved, or why it may not be used. A path that does not
/// exist yet is resolved through its nearest existing ancestor, so a file
/// about to be created is judged by where it would go.
pub fn resolve_inside(root: &Path, path: &Path) -> Result<PathBuf, Refused> {
    let refused = |reason| Refused { path: path.to_path_buf(), reason };
    let wall = root.canonicalize().map_err(|e| refused(Reason::Unresolvable(format!("the workspace {}: {e}", root.display()))))?;
    let real = resolve(&wall.join(path)).map_err(|e| refused(Reason::Unresolvable(e.to_string())))?;
    if !real.starts_with(&wall) {
        return Err(refused(Reason::Outside));
    }
    Ok(real)
}

/// A path the workspace wall stopped, as its user wrote it.
#[derive(Clone, Debug, PartialEq)]
pub struct Refused {
    pub path: PathBuf,
    pub reason: Reason,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Reason {
    /// It lands outside the workspace (through `..`, a symlink, or being absolute).
    Outside,
    /// A dangling or looping symlink, or an unreadable directory, on the way.
    Unresolvable(String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.reason {
            Reason::Outside => write!(f, "`{}` is outside the workspace; refused", self.path.display()),
            Reason::Unresolvable(error) => write!(f, "`{}` cannot be resolved ({error}); refused", self.path.display()),
        }
    }
}

impl From<Refused> for String {
    fn from(refused: Refused) -> String {
        refused.to_string()
    }
}

/// `path` (absolute) with every symlink and `..` resolved, even if its
/// last parts do not exist yet: walked one part at a time, so a `..` after
/// a missing directory still meets the symlinks that come after it.
fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    let mut real = PathBuf::new();
    for component in path.components() {
        match component {
            // `real` has no symlinks in it, so its parent is where `..` goes.
            Component::ParentDir => {
                real.pop();
            }
            Component::CurDir => {}
            part => {
                real.push(part);
                // A dangling or looping symlink fails here, so nothing is created through it.
                if real.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) {
                    real = real.canonicalize()?;
                }
            }
        }
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn paths_inside_resolve_and_paths_outside_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        std::fs::create_dir_all(root.join("lib")).unwrap();
        std::fs::create_dir_all(dir.path().join("outside")).unwrap();
        symlink(dir.path().join("outside"), root.join("out")).unwrap();
        symlink(dir.path().join("gone"), root.join("dangling")).unwrap();
        let wall = root.canonicalize().unwrap();

        assert_eq!(resolve_inside(&root, Path::new("lib/a.ex")), Ok(wall.join("lib/a.ex")));
        assert_eq!(resolve_inside(&root, Path::new("new/dir/../b.ex")), Ok(wall.join("new/b.ex")));
        assert_eq!(resolve_inside(&root, &root.join("lib/../lib/a.ex")), Ok(wall.join("lib/a.ex")));
        for outside in ["../x.ex", "lib/../../x.ex", "out/x.ex", "out/new/x.ex", "new/../../x.ex", "new/../out/x.ex", "/etc/passwd"] {
            let refused = resolve_inside(&root, Path::new(outside)).unwrap_err();
            assert_eq!(refused.to_string(), format!("`{outside}` is outside the workspace; refused"));
        }
        let dangling = resolve_inside(&root, Path::new("dangling/x.ex")).unwrap_err();
        assert!(matches!(dangling.reason, Reason::Unresolvable(_)), "{dangling}");
    }
}
