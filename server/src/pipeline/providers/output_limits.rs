//! How many tokens a model may write: the output budget sized from the
//! prompt, capped by the most each model can write in one answer (by
//! model-name prefix, as the providers document them):
//! - Anthropic: https://docs.anthropic.com/en/docs/about-claude/models/overview
//!   ("Max output"; Claude 3.7 Sonnet without the 128k beta header)
//! - Gemini: https://ai.google.dev/gemini-api/docs/models ("Output token limit")
//! - OpenAI: https://platform.openai.com/docs/models ("Max output tokens")
//!
//! The first matching prefix wins, so longer prefixes come first.

/// For a model no entry names (a local server, a new release).
pub const UNKNOWN: u32 = 8192;

const LIMITS: &[(&str, u32)] = &[
    ("claude-opus-4-5", 64_000),
    ("claude-opus-4", 32_000),
    ("claude-sonnet-4", 64_000),
    ("claude-haiku-4", 64_000),
    ("claude-3-7-sonnet", 64_000),
    ("claude-3-5", 8192),
    ("claude-3-", 4096),
    ("gemini-2.5", 65_536),
    ("gemini-2.0", 8192),
    ("gemini-1.5", 8192),
    ("gpt-4o", 16_384),
    ("gpt-4.1", 32_768),
    ("o1-mini", 65_536),
    ("o1", 100_000),
    ("o3", 100_000),
    ("o4-mini", 100_000),
];

/// The most tokens `model` can write in one answer.
pub fn output_limit(model: &str) -> u32 {
    LIMITS.iter().find(|(prefix, _)| model.starts_with(prefix)).map_or(UNKNOWN, |(_, limit)| *limit)
}

/// A step's output budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub max_tokens: u32,
    /// What an answer returning the prompt whole would need, when the
    /// model cannot write that much: the answer may be cut off.
    pub short_of: Option<u32>,
}

/// The budget for a prompt of `prompt_bytes`. A step whose prompt holds a
/// file to rewrite answers with about as many tokens as the prompt has
/// (3.5 bytes a token), plus a quarter and 1024 to spare. Never below
/// what the step `asked`; grown no further than the model's limit.
pub fn budget(asked: u32, model: &str, prompt_bytes: usize) -> Budget {
    let wanted = (prompt_bytes as f64 / 3.5 * 1.25).ceil() as u32 + 1024;
    let limit = output_limit(model);
    Budget { max_tokens: asked.max(wanted.min(limit)), short_of: (wanted > limit && wanted > asked).then_some(wanted) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_prefix_names_the_limit_and_unknown_models_get_the_default() {
        for (model, limit) in [
            ("claude-sonnet-4-5", 64_000),
            ("claude-opus-4-1", 32_000),
            ("claude-opus-4-5-20251101", 64_000),
            ("claude-3-5-haiku-latest", 8192),
            ("claude-3-haiku-20240307", 4096),
            ("gemini-2.5-flash", 65_536),
            ("gemini-2.0-flash", 8192),
            ("gpt-4o-mini", 16_384),
            ("gpt-4.1-nano", 32_768),
            ("o1-mini", 65_536),
            ("qwen2.5-coder:7b", UNKNOWN),
        ] {
            assert_eq!(output_limit(model), limit, "{model}");
        }
    }

    #[test]
    fn the_budget_grows_with_the_prompt_up_to_the_model_limit_and_never_below_the_step() {
        let small = budget(2048, "claude-sonnet-4-5", 1000);
        assert_eq!(small, Budget { max_tokens: 2048, short_of: None }, "a small prompt keeps the preset");
        // 250 lines of Elixir, about 10 kB: 3572 tokens + a quarter + 1024.
        assert_eq!(budget(2048, "claude-sonnet-4-5", 10_000), Budget { max_tokens: 4596, short_of: None });
        assert_eq!(budget(2048, "gpt-4o", 100_000), Budget { max_tokens: 16_384, short_of: Some(36_739) });
        assert_eq!(budget(20_000, "some-local-model", 100_000).max_tokens, 20_000, "the step's own limit is never lowered");
        assert_eq!(budget(40_000, "some-local-model", 100_000).short_of, None, "the step asked for enough");
    }
}
