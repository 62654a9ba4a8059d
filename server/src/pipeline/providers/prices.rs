//! What a model call costs: tokens times the model's price. Prices are US
//! dollars per million tokens, keyed `provider/model`. The defaults below
//! are list prices per million tokens as published by the providers
//! (Anthropic, Google, OpenAI pricing pages), as known in late 2025; they
//! change, so `[providers.prices]` in `elexirion.toml` overrides any of
//! them and prices models not listed (a local model: `{ input = 0, output = 0 }`).
//! A model with no price, or a call whose tokens were not reported, has
//! an unknown cost: never a made-up number. So has a call whose reported
//! token counts are absurd (over [`MAX_TOKENS_PER_CALL`]): one broken
//! response must not make a cost, or a store's totals, meaningless.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Dollars per million input and output tokens.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    pub output: f64,
}

impl Price {
    /// The cost of one call, in dollars.
    pub fn cost(&self, input_tokens: u64, output_tokens: u64) -> f64 {
        (input_tokens as f64 * self.input + output_tokens as f64 * self.output) / 1_000_000.0
    }
}

/// The most a configured price may be, in dollars per million tokens:
/// well above any list price, low enough that no cost overflows.
pub const MAX_PRICE: f64 = 10_000.0;

/// Token counts above this, for one call, are not believed: no model
/// reads or writes a billion tokens in one request.
pub const MAX_TOKENS_PER_CALL: u64 = 1_000_000_000;

/// A call's reported (input, output) tokens, or `None` when either count
/// is absurd (over [`MAX_TOKENS_PER_CALL`]): unknown, like no count at all.
pub fn plausible_tokens(tokens: Option<(u64, u64)>) -> Option<(u64, u64)> {
    tokens.filter(|(input, output)| *input <= MAX_TOKENS_PER_CALL && *output <= MAX_TOKENS_PER_CALL)
}

/// Why a call's cost is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unknown {
    /// No configured or list price for the model.
    NoPrice,
    /// The model has a price, but the provider reported no (believable) token counts.
    NoTokens,
}

/// A call's cost in dollars, or why it is unknown.
pub type Cost = Result<f64, Unknown>;

/// What `price` makes of `tokens`: a finite cost, or why there is none.
pub fn cost_of(price: Option<Price>, tokens: Option<(u64, u64)>) -> Cost {
    let price = price.ok_or(Unknown::NoPrice)?;
    let (input, output) = plausible_tokens(tokens).ok_or(Unknown::NoTokens)?;
    Some(price.cost(input, output)).filter(|usd| usd.is_finite() && *usd >= 0.0).ok_or(Unknown::NoPrice)
}

const fn price(input: f64, output: f64) -> Price {
    Price { input, output }
}

/// List prices per million tokens as published by the provider (standard
/// tier, prompts under 200k tokens), late 2025. Only for requests sent to
/// the provider's own API: a local server's `gpt-4o-mini` is not billed
/// at OpenAI's price.
pub const LIST_PRICES: &[(&str, Price)] = &[
    ("anthropic/claude-opus-4-5", price(5.0, 25.0)),
    ("anthropic/claude-opus-4-1", price(15.0, 75.0)),
    ("anthropic/claude-opus-4-0", price(15.0, 75.0)),
    ("anthropic/claude-opus-4", price(15.0, 75.0)),
    ("anthropic/claude-sonnet-4-5", price(3.0, 15.0)),
    ("anthropic/claude-sonnet-4-0", price(3.0, 15.0)),
    ("anthropic/claude-sonnet-4", price(3.0, 15.0)),
    ("anthropic/claude-3-7-sonnet", price(3.0, 15.0)),
    ("anthropic/claude-haiku-4-5", price(1.0, 5.0)),
    ("anthropic/claude-3-5-haiku", price(0.8, 4.0)),
    ("anthropic/claude-3-haiku", price(0.25, 1.25)),
    ("gemini/gemini-2.5-pro", price(1.25, 10.0)),
    ("gemini/gemini-2.5-flash", price(0.30, 2.50)),
    ("gemini/gemini-2.5-flash-lite", price(0.10, 0.40)),
    ("gemini/gemini-2.0-flash", price(0.10, 0.40)),
    ("openai/gpt-5", price(1.25, 10.0)),
    ("openai/gpt-5-mini", price(0.25, 2.0)),
    ("openai/gpt-5-nano", price(0.05, 0.40)),
    ("openai/gpt-4.1", price(2.0, 8.0)),
    ("openai/gpt-4.1-mini", price(0.40, 1.60)),
    ("openai/gpt-4.1-nano", price(0.10, 0.40)),
    ("openai/gpt-4o", price(2.50, 10.0)),
    ("openai/gpt-4o-mini", price(0.15, 0.60)),
];

/// The price of `model` at `provider`: the configured one, else (for the
/// provider's own API only) the list price. A dated snapshot
/// (`claude-sonnet-4-5-20250929`, `gpt-4o-2024-08-06`) or `-latest` costs
/// what its model costs.
pub fn lookup(configured: &BTreeMap<String, Price>, provider: &str, model: &str, official_api: bool) -> Option<Price> {
    let key = format!("{provider}/{model}");
    if let Some(price) = configured.get(&key) {
        return Some(*price);
    }
    let listed = || LIST_PRICES.iter().map(|(k, p)| (*k, *p));
    let configured_keys = || configured.iter().map(|(k, p)| (k.as_str(), *p));
    let best = |entries: &mut dyn Iterator<Item = (&str, Price)>| entries.filter(|(k, _)| is_snapshot_of(&key, k)).max_by_key(|(k, _)| k.len()).map(|(_, p)| p);
    best(&mut configured_keys()).or_else(|| if official_api { best(&mut listed()) } else { None })
}

/// `key` names `base` itself or a dated snapshot of it.
fn is_snapshot_of(key: &str, base: &str) -> bool {
    if key == base {
        return true;
    }
    let Some(suffix) = key.strip_prefix(base).and_then(|rest| rest.strip_prefix('-')) else { return false };
    suffix == "latest" || (suffix.len() >= 3 && suffix.chars().all(|c| c.is_ascii_digit() || c == '-'))
}

/// Checks a configured price table: `provider/model` keys with a known
/// provider, prices from 0 to [`MAX_PRICE`] dollars per million tokens.
pub fn validate(prices: &BTreeMap<String, Price>, providers: &[&str]) -> Result<(), String> {
    for (key, price) in prices {
        let (provider, model) = key.split_once('/').ok_or_else(|| format!("[providers.prices] `{key}`: name a model as \"provider/model\", e.g. \"anthropic/claude-sonnet-4-5\""))?;
        if !providers.contains(&provider) {
            return Err(format!("[providers.prices] `{key}`: unknown provider `{provider}` (use {})", providers.join(", ")));
        }
        if model.trim().is_empty() {
            return Err(format!("[providers.prices] `{key}`: the model name is empty"));
        }
        for (side, value) in [("input", price.input), ("output", price.output)] {
            if !(0.0..=MAX_PRICE).contains(&value) {
                return Err(format!("[providers.prices] `{key}`: {side} must be dollars per million tokens, from 0 to {MAX_PRICE} (not {value:?})"));
            }
        }
    }
    Ok(())
}

/// What some model calls cost: the dollars known, and the calls whose
/// cost is unknown (no price, or no token counts), by model.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Spend {
    pub usd: f64,
    pub priced_calls: u32,
    pub unpriced_calls: u32,
    /// Calls without a known cost, by `provider/model`.
    pub unpriced: BTreeMap<String, u32>,
    /// Of those, the calls to a model with a price whose provider reported
    /// no token counts, by `provider/model`.
    pub no_tokens: BTreeMap<String, u32>,
}

impl Spend {
    /// One call, its cost or why that is unknown.
    pub fn add(&mut self, cost: Cost, provider: &str, model: &str) {
        match cost {
            Ok(usd) if usd.is_finite() && usd >= 0.0 => {
                self.usd += usd;
                self.priced_calls += 1;
            }
            unknown => {
                self.unpriced_calls += 1;
                let key = format!("{provider}/{model}");
                if unknown == Err(Unknown::NoTokens) {
                    *self.no_tokens.entry(key.clone()).or_default() += 1;
                }
                *self.unpriced.entry(key).or_default() += 1;
            }
        }
    }

    pub fn merge(&mut self, other: &Spend) {
        self.usd += other.usd;
        self.priced_calls += other.priced_calls;
        self.unpriced_calls += other.unpriced_calls;
        for (model, calls) in &other.unpriced {
            *self.unpriced.entry(model.clone()).or_default() += calls;
        }
        for (model, calls) in &other.no_tokens {
            *self.no_tokens.entry(model.clone()).or_default() += calls;
        }
    }

    /// Why the unknown calls are unknown: "no price for a/b; set
    /// [providers.prices]", "the provider reported no token counts for c/d", or both.
    fn reasons(&self) -> String {
        let unpriced: Vec<&str> = self.unpriced.iter().filter(|(model, calls)| **calls > self.no_tokens.get(*model).copied().unwrap_or(0)).map(|(model, _)| model.as_str()).collect();
        let untold: Vec<&str> = self.no_tokens.iter().filter(|(_, calls)| **calls > 0).map(|(model, _)| model.as_str()).collect();
        let mut reasons = Vec::new();
        if !unpriced.is_empty() {
            reasons.push(format!("no price for {}; set [providers.prices]", unpriced.join(", ")));
        }
        if !untold.is_empty() {
            reasons.push(format!("the provider reported no token counts for {}", untold.join(", ")));
        }
        reasons.join("; ")
    }

    /// What was spent after `earlier`, a copy of this spend taken before.
    pub fn since(&self, earlier: &Spend) -> Spend {
        Spend {
            usd: self.usd - earlier.usd,
            priced_calls: self.priced_calls - earlier.priced_calls,
            unpriced_calls: self.unpriced_calls - earlier.unpriced_calls,
            unpriced: calls_since(&self.unpriced, &earlier.unpriced),
            no_tokens: calls_since(&self.no_tokens, &earlier.no_tokens),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.priced_calls == 0 && self.unpriced_calls == 0
    }

    /// The total when every call's cost is known.
    pub fn known(&self) -> Option<f64> {
        (self.unpriced_calls == 0).then_some(self.usd)
    }
}

impl std::fmt::Display for Spend {
    /// "$0.0042", "unknown (no price for openai/llama3.1; set
    /// [providers.prices])", or "$0.0042 and unknown for 1 call (...)".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let reasons = self.reasons();
        match (self.priced_calls, self.unpriced_calls) {
            (_, 0) => write!(f, "{}", dollars(self.usd)),
            (0, _) => write!(f, "unknown ({reasons})"),
            (_, unknown) => write!(f, "{} and unknown for {unknown} call{} ({reasons})", dollars(self.usd), if unknown == 1 { "" } else { "s" }),
        }
    }
}

/// Dollars with enough digits for a cheap call ("unknown" for a
/// number that is not one, which no cost should be).
pub fn dollars(usd: f64) -> String {
    if !usd.is_finite() {
        "unknown".into()
    } else if usd == 0.0 {
        "$0".into()
    } else if usd < 0.01 {
        format!("${usd:.5}")
    } else {
        format!("${usd:.4}")
    }
}

/// Calls per model made after `earlier`, a copy of `now` taken before.
fn calls_since(now: &BTreeMap<String, u32>, earlier: &BTreeMap<String, u32>) -> BTreeMap<String, u32> {
    now.iter()
        .map(|(model, calls)| (model.clone(), calls - earlier.get(model).copied().unwrap_or(0)))
        .filter(|(_, calls)| *calls > 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_cost_what_their_model_costs_and_local_models_nothing_made_up() {
        let none = BTreeMap::new();
        assert_eq!(lookup(&none, "anthropic", "claude-sonnet-4-5-20250929", true), Some(price(3.0, 15.0)));
        assert_eq!(lookup(&none, "openai", "gpt-4o-mini-2024-07-18", true), Some(price(0.15, 0.60)), "not gpt-4o's price");
        assert_eq!(lookup(&none, "openai", "gpt-4o-mini", false), None, "a local server is not billed at list price");
        assert_eq!(lookup(&none, "openai", "llama3.1", true), None);
        assert_eq!(lookup(&none, "anthropic", "claude-sonnet-4-7", true), None, "an unknown model is not priced as another");
        let configured = BTreeMap::from([("openai/llama3.1".to_string(), price(0.0, 0.0))]);
        assert_eq!(lookup(&configured, "openai", "llama3.1", false), Some(price(0.0, 0.0)));
        assert!((price(3.0, 15.0).cost(1000, 100) - 0.0045).abs() < 1e-12);
    }

    #[test]
    fn a_spend_says_what_it_does_not_know() {
        let mut spend = Spend::default();
        spend.add(Ok(0.0045), "anthropic", "claude-sonnet-4-5");
        assert_eq!(spend.to_string(), "$0.00450");
        spend.add(Err(Unknown::NoPrice), "openai", "llama3.1");
        assert_eq!(spend.to_string(), "$0.00450 and unknown for 1 call (no price for openai/llama3.1; set [providers.prices])");
        assert_eq!(spend.known(), None);
    }

    /// "no price … set [providers.prices]" was said when a price was set
    /// and only the token counts were missing.
    #[test]
    fn a_call_without_token_counts_says_so_not_that_the_price_is_missing() {
        let sonnet = lookup(&BTreeMap::new(), "anthropic", "claude-sonnet-4-5", true);
        let mut spend = Spend::default();
        spend.add(cost_of(sonnet, None), "anthropic", "claude-sonnet-4-5");
        assert_eq!(spend.to_string(), "unknown (the provider reported no token counts for anthropic/claude-sonnet-4-5)");
        spend.add(cost_of(None, Some((5, 7))), "openai", "llama3.1");
        assert_eq!(spend.to_string(), "unknown (no price for openai/llama3.1; set [providers.prices]; the provider reported no token counts for anthropic/claude-sonnet-4-5)");
        let later = {
            let mut later = spend.clone();
            later.add(cost_of(sonnet, None), "anthropic", "claude-sonnet-4-5");
            later
        };
        assert_eq!(later.since(&spend).to_string(), "unknown (the provider reported no token counts for anthropic/claude-sonnet-4-5)");
    }

    /// A response claiming 9223372036854775807 tokens, or a price of 1e308,
    /// made costs of $inf and $NaN. Absurd counts are unknown, and no cost
    /// that is not a finite number is counted.
    #[test]
    fn absurd_token_counts_and_non_finite_costs_are_unknown() {
        let sonnet = Some(price(3.0, 15.0));
        assert_eq!(cost_of(sonnet, Some((i64::MAX as u64, 7))), Err(Unknown::NoTokens));
        assert_eq!(plausible_tokens(Some((MAX_TOKENS_PER_CALL, 1))), Some((MAX_TOKENS_PER_CALL, 1)));
        assert_eq!(cost_of(Some(price(f64::MAX, 0.0)), Some((1000, 0))), Err(Unknown::NoPrice));
        let mut spend = Spend::default();
        spend.add(Ok(f64::INFINITY), "openai", "gpt-4o");
        spend.add(Ok(f64::NAN), "openai", "gpt-4o");
        assert_eq!((spend.priced_calls, spend.unpriced_calls, spend.usd), (0, 2, 0.0));
        assert_eq!(dollars(f64::INFINITY), "unknown");
        let absurd = BTreeMap::from([("openai/gpt-4o".to_string(), price(1e308, 1.0))]);
        let error = validate(&absurd, &["openai"]).unwrap_err();
        assert!(error.contains("`openai/gpt-4o`: input must be dollars per million tokens, from 0 to 10000 (not 1e308)"), "{error}");
        assert!(validate(&BTreeMap::from([("openai/gpt-4o".to_string(), price(10_000.0, 0.0))]), &["openai"]).is_ok());
    }
}
