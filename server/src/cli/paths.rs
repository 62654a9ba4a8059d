//! Paths as CI tools want them: relative to the directory the check ran in
//! (the repository root in a workflow), with `/` separators.

use std::path::{Component, Path};

/// `path` relative to the current directory, `./` dropped, `/`-separated;
/// `None` when it lies elsewhere (an absolute path outside the directory).
pub fn relative(path: &Path) -> Option<String> {
    let path = match path.is_absolute() {
        true => path.strip_prefix(std::env::current_dir().ok()?).ok()?,
        false => path,
    };
    let parts: Vec<String> = path
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

/// What to call `path` for a person or a tool: relative when possible.
pub fn shown(path: &Path) -> String {
    relative(path).unwrap_or_else(|| path.to_string_lossy().replace('\\', "/"))
}
