//! A refactor answer read as the new text of the file: one block chosen by
//! what it defines, or a unified diff applied by its context; every other
//! block kept as a note; a cut-off or code-less answer refused by name.

use super::choice::{choose, first_difference, same_code, Candidate, Choice};
use super::diff;
use super::elixir_shape::{Base, Shape};
use super::fences::{self, Block};
use super::line_endings::{like, to_lf};
use super::problem::{AnswerProblem, Expected};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// The answer held the whole new file.
    WholeFile,
    /// The answer held a diff, applied to the original.
    Diff,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rewrite {
    /// The new text, in the original's line endings.
    pub text: String,
    pub form: Form,
    /// "the answer also suggests: ..." for every other block, its code kept.
    pub notes: Vec<String>,
}

/// [`read_rewrite_for`] without the file's path: a diff may name one file
/// (whichever it is), never two, and never create or delete one.
pub fn read_rewrite(answer: &str, original: &str) -> Result<Rewrite, AnswerProblem> {
    read_rewrite_for(answer, original, None)
}

/// The new text of the file at `path` (as the workspace names it) that a
/// refactor answer proposes for `original`. A diff whose file headers name
/// another file (or create or delete one) is refused as a whole: only this
/// file can be changed here, and half of a change is not the change.
pub fn read_rewrite_for(answer: &str, original: &str, path: Option<&str>) -> Result<Rewrite, AnswerProblem> {
    let answer = to_lf(answer);
    let base = to_lf(original);
    let fenced = fences::read(&answer);
    if let Some(cut) = fenced.unclosed {
        return Err(AnswerProblem::Truncated { language: cut.language, opened_at_line: cut.opened_at_line });
    }
    let diffs: Vec<String> = if fenced.blocks.is_empty() {
        diff::bare_diff(&answer).into_iter().collect()
    } else {
        fenced.blocks.iter().filter(|b| is_diff(b)).map(|b| b.code.clone()).collect()
    };
    only_this_file(&diffs, path)?;
    let parsed = Base::new(&base);
    let mut wanted = parsed.shape().modules;
    wanted.dedup();
    if fenced.blocks.is_empty() {
        return read_bare(&answer, &base, &wanted).map(|r| Rewrite { text: like(original, r.text), ..r });
    }
    let mut candidates = Vec::new();
    let mut refused_diff = None;
    for (index, block) in fenced.blocks.iter().enumerate() {
        if block.code.trim().is_empty() {
            continue;
        }
        if is_diff(block) {
            match diff::apply(&base, &block.code) {
                Ok(text) => candidates.push(Candidate { block: index, text, form: Form::Diff }),
                Err(refused) => refused_diff = refused_diff.or(Some(refused)),
            }
        } else if block.is_elixir() {
            candidates.push(Candidate { block: index, text: block.code.clone(), form: Form::WholeFile });
        }
    }
    let has_elixir = fenced.blocks.iter().any(|b| b.is_elixir() && !b.code.trim().is_empty());
    match choose(candidates, &parsed, &wanted) {
        Choice::One(chosen) => {
            let notes = fenced
                .blocks
                .iter()
                .enumerate()
                .filter(|(i, b)| *i != chosen.block && !same_code(&b.code, &chosen.text) && !same_code(&b.code, &base))
                .map(|(_, b)| note(b))
                .collect();
            Ok(Rewrite { text: like(original, chosen.text), form: chosen.form, notes })
        }
        Choice::Two(one, other) => {
            let (one, other) = first_difference(&one.text, &other.text);
            Err(AnswerProblem::Ambiguous { one, other })
        }
        Choice::Nothing => Err(match refused_diff {
            Some(refused) => diff_problem(refused),
            None if has_elixir && !wanted.is_empty() => AnswerProblem::ModulesMissing { modules: wanted },
            None => AnswerProblem::NoCode { expected: Expected::Rewrite },
        }),
    }
}

fn diff_problem(refused: diff::Refused) -> AnswerProblem {
    match refused {
        diff::Refused::Nowhere(hunk) => AnswerProblem::DiffDoesNotApply { hunk },
        diff::Refused::Ambiguous(hunk) => AnswerProblem::DiffAmbiguous { hunk },
    }
}

/// Refuses diffs whose file headers change another file than `path` (or,
/// without a path, name two different files), or create or delete a file.
/// Headerless diffs name no file and are this file's.
fn only_this_file(diffs: &[String], path: Option<&str>) -> Result<(), AnswerProblem> {
    let this = path.map(str::to_string);
    let mut named: Option<String> = None;
    for (old, new) in diffs.iter().flat_map(|d| diff::files(d)) {
        for side in [&old, &new] {
            let diff::Side::Path(name) = side else { continue };
            let plain = diff::plain(name).to_string();
            match (path, &named) {
                (Some(path), _) if !diff::names_file(name, path) => {
                    return Err(AnswerProblem::DiffChangesAnotherFile { other: plain, this: this.clone() });
                }
                (None, Some(first)) if !diff::names_file(name, first) => {
                    return Err(AnswerProblem::DiffChangesTwoFiles { one: first.clone(), other: plain });
                }
                (None, None) if plain.split('/').any(|c| c == "..") => {
                    return Err(AnswerProblem::DiffChangesAnotherFile { other: plain, this: None });
                }
                (None, None) => named = Some(plain),
                _ => {}
            }
        }
        match (old, new) {
            (diff::Side::DevNull, diff::Side::Path(name)) => {
                return Err(AnswerProblem::DiffCreatesOrDeletes { file: diff::plain(&name).to_string(), creates: true, this: this.clone() });
            }
            (diff::Side::Path(name), diff::Side::DevNull) => {
                return Err(AnswerProblem::DiffCreatesOrDeletes { file: diff::plain(&name).to_string(), creates: false, this: this.clone() });
            }
            _ => {}
        }
    }
    Ok(())
}

fn is_diff(block: &Block) -> bool {
    matches!(block.language.as_str(), "diff" | "patch" | "udiff") || (block.language.is_empty() && diff::looks_like_diff(&block.code))
}

/// An answer without fences: a bare diff, or bare Elixir that defines the
/// file's modules (prose around it cut off at `defmodule` and `end`).
fn read_bare(answer: &str, base: &str, wanted: &[String]) -> Result<Rewrite, AnswerProblem> {
    if let Some(bare) = diff::bare_diff(answer) {
        let text = diff::apply(base, &bare).map_err(diff_problem)?;
        return Ok(Rewrite { text, form: Form::Diff, notes: Vec::new() });
    }
    let whole = format!("{}\n", answer.trim_start_matches('\n').trim_end());
    let plausible = |code: &str, clean: bool| {
        let shape = Shape::of(code);
        let defines = if wanted.is_empty() { !shape.modules.is_empty() } else { shape.defines_all(wanted) };
        defines && (!clean || shape.errors == 0)
    };
    let code = Some(whole).filter(|c| plausible(c, true)).or_else(|| modules_span(answer).filter(|c| plausible(c, false)));
    match code {
        Some(text) => Ok(Rewrite { text, form: Form::WholeFile, notes: Vec::new() }),
        None => Err(AnswerProblem::NoCode { expected: Expected::Rewrite }),
    }
}

/// From the first `defmodule` at the start of a line to the last `end`
/// there: the code in "Here it is: ... Hope this helps."
fn modules_span(answer: &str) -> Option<String> {
    let lines: Vec<&str> = answer.lines().collect();
    let start = lines.iter().position(|l| l.starts_with("defmodule "))?;
    let end = lines.iter().rposition(|l| l.trim_end() == "end").filter(|end| *end > start)?;
    Some(lines[start..=end].join("\n") + "\n")
}

fn note(block: &Block) -> String {
    let first = block.code.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let summary: String = if first.chars().count() > 60 { first.chars().take(59).chain(['…']).collect() } else { first.to_string() };
    format!("the answer also suggests: {summary}\n```{}\n{}```", block.language, block.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "defmodule W do\n  def a, do: GenServer.call(W, :a, :infinity)\nend\n";
    const FIXED: &str = "defmodule W do\n  def a, do: GenServer.call(W, :a)\nend\n";

    #[test]
    fn the_block_that_defines_the_module_is_the_file_and_the_rest_are_notes() {
        let answer = format!("Fixed:\n```elixir\n{FIXED}```\nAlso add:\n```elixir\nchildren = [W]\n```\n```bash\nmix test\n```\n");
        let rewrite = read_rewrite(&answer, FILE).unwrap();
        assert_eq!((rewrite.text.as_str(), rewrite.form), (FIXED, Form::WholeFile));
        assert_eq!(rewrite.notes.len(), 2);
        assert!(rewrite.notes[0].starts_with("the answer also suggests: children = [W]\n```elixir\n"));
    }

    #[test]
    fn refusals_say_what_went_wrong() {
        assert!(matches!(read_rewrite("```elixir\ndefmodule W do\n", FILE), Err(AnswerProblem::Truncated { opened_at_line: 1, .. })));
        assert!(matches!(read_rewrite("Sorry, I can't.", FILE), Err(AnswerProblem::NoCode { .. })));
        assert!(matches!(read_rewrite("```elixir\ndef a, do: 1\n```", FILE), Err(AnswerProblem::ModulesMissing { .. })));
        let two = format!("```elixir\n{FIXED}```\nor\n```elixir\n{}```", FIXED.replace(":a)", ":a, 5_000)"));
        assert!(matches!(read_rewrite(&two, FILE), Err(AnswerProblem::Ambiguous { .. })));
    }

    #[test]
    fn a_diff_that_changes_another_file_is_refused_whole() {
        let evil = "--- /dev/null\n+++ b/../../outside/evil.ex\n@@ -0,0 +1,3 @@\n+defmodule Evil do\n+  def run, do: :ok\n+end\n";
        let ours = "--- a/lib/worker.ex\n+++ b/lib/worker.ex\n@@ -2,1 +2,1 @@\n-  def a, do: GenServer.call(W, :a, :infinity)\n+  def a, do: GenServer.call(W, :a)\n";
        let other = "--- a/lib/other.ex\n+++ b/lib/other.ex\n@@ -1,1 +1,1 @@\n-defmodule W do\n+defmodule Other do\n";
        let both = format!("```diff\n{evil}{ours}```\n");
        let problem = read_rewrite_for(&both, FILE, Some("lib/worker.ex")).unwrap_err();
        assert!(problem.to_string().contains("the diff also changes ../../outside/evil.ex; only lib/worker.ex can be changed here"), "{problem}");
        assert!(matches!(read_rewrite(&both, FILE), Err(AnswerProblem::DiffChangesAnotherFile { this: None, .. })));
        let two = format!("```diff\n{other}{ours}```\n");
        assert!(read_rewrite_for(&two, FILE, Some("lib/worker.ex")).unwrap_err().to_string().contains("the diff also changes lib/other.ex"));
        assert!(matches!(read_rewrite(&two, FILE), Err(AnswerProblem::DiffChangesTwoFiles { .. })));
        let separate = format!("```diff\n{ours}```\nand\n```diff\n{other}```\n");
        assert!(matches!(read_rewrite(&separate, FILE), Err(AnswerProblem::DiffChangesTwoFiles { .. })), "across blocks too");
        let new_file = "--- /dev/null\n+++ b/lib/helper.ex\n@@ -0,0 +1 @@\n+defmodule Helper do end\n";
        assert!(read_rewrite(&format!("```diff\n{new_file}```"), FILE).unwrap_err().to_string().contains("creates a new file lib/helper.ex"));
        assert!(read_rewrite(&format!("{other}\nDone."), FILE).is_ok(), "a bare diff of one file, no path to check it against");
        assert!(read_rewrite_for(&format!("{other}\nDone."), FILE, Some("lib/worker.ex")).is_err(), "a bare diff is checked too");
        for path in ["lib/worker.ex", "/home/me/app/lib/worker.ex"] {
            assert_eq!(read_rewrite_for(&format!("```diff\n{ours}```"), FILE, Some(path)).unwrap().text, FIXED);
        }
        let headerless = "```diff\n@@ -2 +2 @@\n-  def a, do: GenServer.call(W, :a, :infinity)\n+  def a, do: GenServer.call(W, :a)\n```";
        assert_eq!(read_rewrite_for(headerless, FILE, Some("lib/worker.ex")).unwrap().text, FIXED);
    }

    #[test]
    fn bare_code_and_crlf_answers_are_read() {
        assert_eq!(read_rewrite(FIXED, FILE).unwrap().text, FIXED);
        assert_eq!(read_rewrite(&format!("Here:\n\n{FIXED}\nDone."), FILE).unwrap().text, FIXED);
        let crlf = FILE.replace('\n', "\r\n");
        assert_eq!(read_rewrite(&format!("```elixir\r\n{}```\r\n", FIXED.replace('\n', "\r\n")), &crlf).unwrap().text, FIXED.replace('\n', "\r\n"));
        assert_eq!(read_rewrite(&format!("```elixir\r\n{}```\r\n", FIXED.replace('\n', "\r\n")), FILE).unwrap().text, FIXED);
    }
}
