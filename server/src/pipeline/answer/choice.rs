//! Which code is the rewritten file: chosen by what it defines, never by
//! where it stands in the answer.
//!
//! - When the file defines modules, only code defining all of them can
//!   replace it (a `children = [...]` hint or an `iex>` session cannot).
//! - When it defines none (a new test file, a script), the code with the
//!   fewest syntax errors wins, then the largest.
//! - A copy of the file as it is ("before" / "after" answers) gives way to
//!   a real change.
//! - Fewer syntax errors win; two different candidates left equal are
//!   ambiguous, and the answer is refused rather than guessed.

use super::elixir_shape::{Base, Shape};
use super::rewrite::Form;

#[derive(Clone, Debug)]
pub struct Candidate {
    /// Index of the answer's block it came from.
    pub block: usize,
    pub text: String,
    pub form: Form,
}

#[derive(Debug)]
pub enum Choice {
    One(Candidate),
    Nothing,
    Two(Candidate, Candidate),
}

pub fn choose(candidates: Vec<Candidate>, base: &Base, wanted: &[String]) -> Choice {
    let original = base.text.as_str();
    let shaped: Vec<(Candidate, Shape)> = candidates.into_iter().map(|c| { let shape = base.shape_of(&c.text); (c, shape) }).collect();
    let mut eligible: Vec<(Candidate, Shape)> = shaped
        .into_iter()
        .filter(|(_, shape)| if wanted.is_empty() { true } else { shape.defines_all(wanted) })
        .collect();
    if eligible.iter().any(|(c, _)| !same_code(&c.text, original)) {
        eligible.retain(|(c, _)| !same_code(&c.text, original));
    }
    let Some(fewest) = eligible.iter().map(|(_, s)| s.errors).min() else { return Choice::Nothing };
    eligible.retain(|(_, s)| s.errors == fewest);
    if wanted.is_empty() {
        let largest = eligible.iter().map(|(c, _)| c.text.trim().len()).max().unwrap_or(0);
        eligible.retain(|(c, _)| c.text.trim().len() == largest);
    }
    let mut best = eligible.into_iter().map(|(c, _)| c);
    let first = best.next().expect("at least one candidate has the fewest errors");
    match best.find(|other| !same_code(&other.text, &first.text)) {
        Some(other) => Choice::Two(first, other),
        None => Choice::One(first),
    }
}

/// The same code, give or take trailing spaces and blank lines around it.
pub fn same_code(a: &str, b: &str) -> bool {
    fn lines(text: &str) -> impl Iterator<Item = &str> {
        text.trim_matches('\n').lines().map(str::trim_end)
    }
    lines(a).eq(lines(b))
}

/// The first line where two texts differ, from each side.
pub fn first_difference(a: &str, b: &str) -> (String, String) {
    let mut left = a.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut right = b.lines().map(str::trim).filter(|l| !l.is_empty());
    loop {
        match (left.next(), right.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (x, y) => return (x.unwrap_or("(end of file)").to_string(), y.unwrap_or("(end of file)").to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(block: usize, text: &str) -> Candidate {
        Candidate { block, text: text.to_string(), form: Form::WholeFile }
    }

    const ORIGINAL: &str = "defmodule A do\n  def f, do: 1\nend\n";

    #[test]
    fn the_file_is_the_code_that_defines_its_modules() {
        let wanted = vec!["A".to_string()];
        let hint = candidate(1, "children = [A]\n");
        let fixed = candidate(0, "defmodule A do\n  def f, do: 2\nend\n");
        assert!(matches!(choose(vec![hint.clone(), fixed.clone()], &Base::new(ORIGINAL), &wanted), Choice::One(c) if c.block == 0));
        let before = candidate(2, ORIGINAL);
        assert!(matches!(choose(vec![before, fixed.clone()], &Base::new(ORIGINAL), &wanted), Choice::One(c) if c.block == 0));
        let other = candidate(3, "defmodule A do\n  def f, do: 3\nend\n");
        assert!(matches!(choose(vec![fixed, other], &Base::new(ORIGINAL), &wanted), Choice::Two(..)));
        assert!(matches!(choose(vec![hint], &Base::new(ORIGINAL), &wanted), Choice::Nothing));
    }

    #[test]
    fn without_modules_the_cleanest_then_largest_code_wins() {
        let test = candidate(0, "defmodule ATest do\n  use ExUnit.Case\nend\n");
        let session = candidate(1, "iex> A.f()\n{:ok, #PID<0.1.0>}\n");
        assert!(matches!(choose(vec![session, test], &Base::new(""), &[]), Choice::One(c) if c.block == 0));
        assert_eq!(first_difference("a\nb\n", "a\nc\n"), ("b".to_string(), "c".to_string()));
    }
}
