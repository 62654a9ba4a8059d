//! Elexirion: a language server and linter for Elixir OTP code.
//!
//! The core (`document`, `elixir`, `finding`, `check`) is pure: text and
//! trees in, findings out. `lsp` and `cli` are thin layers over it.

pub mod cancellation;
pub mod check;
pub mod cli;
pub mod config;
pub mod document;
pub mod elixir;
pub mod finding;
pub mod index;
pub mod lsp;
pub mod pipeline;
pub mod store;
pub mod workspace;
