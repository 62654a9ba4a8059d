//! Whether Elixir code read line by line is inside a heredoc (`"""` or
//! `'''`). A fence line inside a heredoc is documentation (ExDoc examples
//! in `@moduledoc`), not the end of the code block around it.

#[derive(Debug, Default)]
pub struct Heredoc {
    open: Option<&'static str>,
}

impl Heredoc {
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Take one line of code into account.
    pub fn feed(&mut self, line: &str) {
        let trimmed = line.trim();
        match self.open {
            // Elixir closes a heredoc with its delimiter first on a line.
            Some(delimiter) if trimmed.starts_with(delimiter) => self.open = None,
            Some(_) => {}
            // and opens one with the delimiter last on a line (`@doc """`, `~S'''`).
            None if !trimmed.starts_with('#') => {
                self.open = ["\"\"\"", "'''"].into_iter().find(|delimiter| trimmed.ends_with(delimiter));
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_after(lines: &[&str]) -> bool {
        let mut heredoc = Heredoc::default();
        lines.iter().for_each(|line| heredoc.feed(line));
        heredoc.is_open()
    }

    #[test]
    fn heredocs_open_at_a_line_end_and_close_at_a_line_start() {
        assert!(open_after(&["  @moduledoc \"\"\"", "  ```elixir"]));
        assert!(open_after(&["  @doc ~S'''"]));
        assert!(!open_after(&["  @doc \"\"\"", "  Docs.", "  \"\"\""]));
        assert!(!open_after(&["  # write docs with \"\"\""]));
        assert!(!open_after(&["  def f, do: :ok"]));
    }
}
