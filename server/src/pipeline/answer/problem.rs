//! Why a model's answer cannot be used, said twice: to the user (what was
//! wrong, what to do) and to the model (one sentence asking it to answer
//! again in the right form).

use std::fmt;

/// What the pipeline's answer was supposed to hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// The whole new file in one fenced block, or a unified diff.
    Rewrite,
    /// JSON with a `findings` list.
    Findings,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AnswerProblem {
    /// Prose only (an apology, an explanation), no code or JSON at all.
    NoCode { expected: Expected },
    /// The last fenced block never closes: the answer was cut off.
    Truncated { language: String, opened_at_line: usize },
    /// Two different blocks both look like the rewritten file; `one` and
    /// `other` are their first lines that differ.
    Ambiguous { one: String, other: String },
    /// Code came back, but no block defines the modules the file defines.
    ModulesMissing { modules: Vec<String> },
    /// A diff hunk matches nowhere in the current text.
    DiffDoesNotApply { hunk: String },
    /// A diff hunk without usable line numbers fits several places.
    DiffAmbiguous { hunk: String },
    /// The diff's file headers name `other`, not `this` file (the path
    /// being rewritten, when known).
    DiffChangesAnotherFile { other: String, this: Option<String> },
    /// The diff's file headers name two different files (path unknown).
    DiffChangesTwoFiles { one: String, other: String },
    /// The diff creates `file` from `/dev/null` (or deletes it).
    DiffCreatesOrDeletes { file: String, creates: bool, this: Option<String> },
    /// JSON came back, but nothing in it is a `findings` list.
    FindingsMissing { keys: Vec<String> },
    /// A finding is not in the expected shape (e.g. it has no `message`).
    FindingMalformed { index: usize, detail: String },
}

impl fmt::Display for AnswerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerProblem::NoCode { expected: Expected::Rewrite } => write!(
                f,
                "the answer holds no code block and no diff: a refactor pipeline must end in the whole new file in one ```elixir block, or in a unified diff; nothing was changed (run it again, or adjust the prompt)"
            ),
            AnswerProblem::NoCode { expected: Expected::Findings } => write!(
                f,
                "the answer holds no JSON findings: an analysis pipeline must end in JSON like {{\"findings\": [...]}}; run it again, or adjust the prompt"
            ),
            AnswerProblem::Truncated { language, opened_at_line } => write!(
                f,
                "the answer was cut off: its last code block (```{language}, opened at line {opened_at_line}) never closes; nothing was changed (run it again, or give the step a larger `max_output_tokens`)"
            ),
            AnswerProblem::Ambiguous { one, other } => write!(
                f,
                "the answer holds two different rewrites (one has `{one}` where another has `{other}`); nothing was changed, since either could be meant (run it again)"
            ),
            AnswerProblem::ModulesMissing { modules } => write!(
                f,
                "no code block in the answer defines {}, which the file defines; a partial snippet cannot replace the file, so nothing was changed (run it again, asking for the whole file)",
                quoted(modules)
            ),
            AnswerProblem::DiffDoesNotApply { hunk } => write!(
                f,
                "the answer's diff does not apply to the current text: {hunk} matches nowhere in the file; nothing was changed (run it again on the current file)"
            ),
            AnswerProblem::DiffAmbiguous { hunk } => write!(
                f,
                "the answer's diff is ambiguous: {hunk} fits more than one place in the file and no line number picks one; nothing was changed (run it again)"
            ),
            AnswerProblem::DiffChangesAnotherFile { other, this } => write!(
                f,
                "the diff also changes {other}; only {} can be changed here, so nothing was changed (run it again, asking for this file alone)",
                this.as_deref().unwrap_or("the file being rewritten")
            ),
            AnswerProblem::DiffChangesTwoFiles { one, other } => write!(
                f,
                "the diff changes two files ({one} and {other}); only the file being rewritten can be changed here, so nothing was changed (run it again, asking for this file alone)"
            ),
            AnswerProblem::DiffCreatesOrDeletes { file, creates, this } => write!(
                f,
                "the diff {} {file}; only {} can be changed here, so nothing was changed (run it again, asking for this file alone)",
                if *creates { "creates a new file" } else { "deletes" },
                this.as_deref().unwrap_or("the file being rewritten")
            ),
            AnswerProblem::FindingsMissing { keys } if keys.is_empty() => write!(
                f,
                "the answer's JSON holds no `findings` list; run it again, or adjust the prompt to ask for {{\"findings\": [...]}}"
            ),
            AnswerProblem::FindingsMissing { keys } => write!(
                f,
                "the answer's JSON holds no `findings` list (it has {}); run it again, or adjust the prompt to ask for {{\"findings\": [...]}}",
                quoted(keys)
            ),
            AnswerProblem::FindingMalformed { index, detail } => write!(
                f,
                "finding {} of the answer is not in the expected shape ({detail}); each finding needs at least a `message`",
                index + 1
            ),
        }
    }
}

impl std::error::Error for AnswerProblem {}

impl AnswerProblem {
    /// One sentence to send back to the model so that it answers again in
    /// the form the pipeline reads.
    pub fn repair_request(&self) -> String {
        match self {
            AnswerProblem::NoCode { expected: Expected::Rewrite } | AnswerProblem::ModulesMissing { .. } =>
                "Please answer again with the whole new file in a single ```elixir fenced block (or a unified diff in a ```diff block), with no other code blocks.".into(),
            AnswerProblem::Truncated { .. } =>
                "Your answer was cut off; please answer again with only the complete new file in a single ```elixir fenced block and keep the explanation short.".into(),
            AnswerProblem::Ambiguous { .. } =>
                "Your answer held more than one version of the file; please answer again with exactly one ```elixir block holding the whole new file.".into(),
            AnswerProblem::DiffDoesNotApply { hunk } => format!(
                "Your diff's {hunk} does not match the current file; please answer again with the whole new file in a single ```elixir fenced block."
            ),
            AnswerProblem::DiffAmbiguous { hunk } => format!(
                "Your diff's {hunk} fits more than one place in the file; please answer again with the whole new file in a single ```elixir fenced block, or a diff whose `@@ -line,count +line,count @@` headers give the real line numbers."
            ),
            AnswerProblem::DiffChangesAnotherFile { .. } | AnswerProblem::DiffChangesTwoFiles { .. } | AnswerProblem::DiffCreatesOrDeletes { .. } =>
                "Your diff changed other files than the one being rewritten; please answer again with only this file's whole new text in a single ```elixir fenced block (or a diff of this file alone), and no changes to any other file.".into(),
            AnswerProblem::NoCode { expected: Expected::Findings } | AnswerProblem::FindingsMissing { .. } =>
                "Please answer again with only JSON of the form {\"findings\": [{\"rule\": ..., \"severity\": ..., \"message\": ..., \"line\": ..., \"snippet\": ...}]}.".into(),
            AnswerProblem::FindingMalformed { index, .. } => format!(
                "Finding {} was not in the expected shape; please answer again with JSON of the form {{\"findings\": [{{\"rule\": ..., \"severity\": ..., \"message\": ..., \"line\": ..., \"snippet\": ...}}]}}, every finding with a message.",
                index + 1
            ),
        }
    }
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_problem_says_what_was_wrong_and_asks_for_one_form() {
        let cut = AnswerProblem::Truncated { language: "elixir".into(), opened_at_line: 3 };
        assert!(cut.to_string().contains("cut off") && cut.to_string().contains("line 3"));
        let missing = AnswerProblem::ModulesMissing { modules: vec!["App.Worker".into()] };
        assert!(missing.to_string().contains("`App.Worker`"));
        assert!(AnswerProblem::NoCode { expected: Expected::Findings }.repair_request().contains("\"findings\""));
        assert!(missing.repair_request().contains("```elixir"));
    }
}
