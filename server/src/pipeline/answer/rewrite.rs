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

pub fn read_rewrite(answer: &str, original: &str) -> Result<Rewrite, AnswerProblem> {
    let answer = to_lf(answer);
    let base = to_lf(original);
    let fenced = fences::read(&answer);
    if let Some(cut) = fenced.unclosed {
        return Err(AnswerProblem::Truncated { language: cut.language, opened_at_line: cut.opened_at_line });
    }
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
                Err(hunk) => refused_diff = refused_diff.or(Some(hunk)),
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
            Some(hunk) => AnswerProblem::DiffDoesNotApply { hunk },
            None if has_elixir && !wanted.is_empty() => AnswerProblem::ModulesMissing { modules: wanted },
            None => AnswerProblem::NoCode { expected: Expected::Rewrite },
        }),
    }
}

fn is_diff(block: &Block) -> bool {
    matches!(block.language.as_str(), "diff" | "patch" | "udiff") || (block.language.is_empty() && diff::looks_like_diff(&block.code))
}

/// An answer without fences: a bare diff, or bare Elixir that defines the
/// file's modules (prose around it cut off at `defmodule` and `end`).
fn read_bare(answer: &str, base: &str, wanted: &[String]) -> Result<Rewrite, AnswerProblem> {
    if let Some(bare) = diff::bare_diff(answer) {
        let text = diff::apply(base, &bare).map_err(|hunk| AnswerProblem::DiffDoesNotApply { hunk })?;
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
    fn bare_code_and_crlf_answers_are_read() {
        assert_eq!(read_rewrite(FIXED, FILE).unwrap().text, FIXED);
        assert_eq!(read_rewrite(&format!("Here:\n\n{FIXED}\nDone."), FILE).unwrap().text, FIXED);
        let crlf = FILE.replace('\n', "\r\n");
        assert_eq!(read_rewrite(&format!("```elixir\r\n{}```\r\n", FIXED.replace('\n', "\r\n")), &crlf).unwrap().text, FIXED.replace('\n', "\r\n"));
        assert_eq!(read_rewrite(&format!("```elixir\r\n{}```\r\n", FIXED.replace('\n', "\r\n")), FILE).unwrap().text, FIXED);
    }
}
