//! Elixir's own parser, asked about AI edits when Elixir is installed:
//! tree-sitter accepts some code the compiler rejects (text after a
//! heredoc's opening quotes, `//` outside a range, bidirectional controls),
//! and an edit must parse for the compiler, not only for the editor.
//! Analysis never needs it; `ELEXIRION_ELIXIR` names the executable
//! (default `elixir` on PATH), `off` turns this check off.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starting the BEAM takes about half a second; a parse never takes long.
const LIMIT: Duration = Duration::from_secs(30);

const SCRIPT: &str = r#"
code = IO.read(:stdio, :eof)
case Code.string_to_quoted(code, columns: true) do
  {:ok, _} -> IO.puts("ok")
  {:error, {location, message, token}} ->
    line = if is_list(location), do: location[:line], else: location
    text = case message do
      {prefix, suffix} -> prefix <> suffix
      message -> to_string(message)
    end
    IO.puts("error\tline #{line}: #{text}#{token}")
end
"#;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Parses,
    /// Elixir's message, with its line.
    Rejects(String),
    /// No Elixir here (or it did not answer): nothing was learned.
    Unavailable,
}

/// The last few texts asked about: an answer is checked before the repair
/// decision and again when it is read, the original on every run.
static RECENT: std::sync::Mutex<Vec<(u64, Verdict)>> = std::sync::Mutex::new(Vec::new());

pub fn parse(code: &str) -> Verdict {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    code.hash(&mut hasher);
    let key = hasher.finish();
    let known = RECENT.lock().ok().and_then(|recent| recent.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()));
    if let Some(verdict) = known {
        return verdict;
    }
    let verdict = ask_elixir(code);
    if verdict != Verdict::Unavailable {
        if let Ok(mut recent) = RECENT.lock() {
            if recent.len() >= 16 {
                recent.remove(0);
            }
            recent.push((key, verdict.clone()));
        }
    }
    verdict
}

fn ask_elixir(code: &str) -> Verdict {
    let executable = std::env::var("ELEXIRION_ELIXIR").unwrap_or_else(|_| "elixir".to_string());
    if executable == "off" {
        return Verdict::Unavailable;
    }
    let spawned = Command::new(&executable).arg("-e").arg(SCRIPT).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn();
    let Ok(mut child) = spawned else { return Verdict::Unavailable };
    if let Some(mut stdin) = child.stdin.take() {
        let code = code.to_string();
        // Written from a thread: a large file must not block on a full pipe.
        std::thread::spawn(move || {
            let _ = stdin.write_all(code.as_bytes());
        });
    }
    let deadline = Instant::now() + LIMIT;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Verdict::Unavailable;
            }
        }
    }
    let mut output = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut stdout, &mut output);
    }
    match output.trim_end().split_once('\t') {
        None if output.trim_end() == "ok" => Verdict::Parses,
        Some(("error", message)) => Verdict::Rejects(message.to_string()),
        _ => Verdict::Unavailable,
    }
}

/// Whether `after` breaks what Elixir could parse in `before`: the
/// compiler's message, if so.
pub fn breaks(before: &str, after: &str) -> Option<String> {
    let Verdict::Rejects(message) = parse(after) else { return None };
    (parse(before) == Verdict::Parses).then_some(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Elixir is installed where the tests run (scripts/test installs it).
    #[test]
    fn elixir_rejects_what_tree_sitter_lets_through() {
        assert_eq!(parse("defmodule A do\n  def f, do: 1\nend\n"), Verdict::Parses);
        let heredoc = "defmodule A do\n  @moduledoc \"\"\"Text on the opening line.\n  \"\"\"\nend\n";
        assert!(matches!(parse(heredoc), Verdict::Rejects(message) if message.starts_with("line 2: ")), "{:?}", parse(heredoc));
        assert!(breaks("defmodule A do\nend\n", heredoc).is_some());
        assert_eq!(breaks("defmodule A do\n  def f(\nend\n", heredoc), None, "it was broken before");
    }
}
