//! Reading a model's final answer the way real models write it: prose
//! around the code, several blocks, no fence, a diff with wrong line
//! numbers, CRLF, JSON with comments and trailing commas, or an answer cut
//! off mid-block. Pure functions from text to text or findings: reading
//! never touches a file, and an answer that cannot be read is an
//! [`AnswerProblem`] that says why and how to ask again.

mod anchoring;
mod choice;
mod diff;
mod elixir_shape;
mod fences;
mod findings;
mod heredoc;
mod lenient_json;
mod line_endings;
mod problem;
mod rewrite;

pub use anchoring::{locate, Anchoring};
pub use findings::{read_findings, read_findings_counted, Findings};
pub use problem::{AnswerProblem, Expected};
pub use rewrite::{read_rewrite, read_rewrite_for, Form, Rewrite};
