//! Which prompt version a step runs with, by execution mode.

use rand::Rng;
use rand_distr::{Beta, Distribution};

use super::{Candidate, PromptVersion, Record};

/// Execution modes, named as pipeline_ex's DSPy design names them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The prompt written in the pipeline.
    #[default]
    Traditional,
    /// The best stored version; the pipeline's prompt when there is none.
    Optimized,
    /// A bandit among the versions, learning from accepted and rejected results.
    Hybrid,
    /// Versions scored side by side on stored examples instead of a run.
    Evaluation,
}

impl Mode {
    pub const NAMES: &'static [&'static str] = &["traditional", "optimized", "hybrid", "evaluation"];

    /// A mode by name; `dspy_optimized` is pipeline_ex's spelling of `optimized`.
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "traditional" => Some(Mode::Traditional),
            "optimized" | "dspy_optimized" => Some(Mode::Optimized),
            "hybrid" => Some(Mode::Hybrid),
            "evaluation" => Some(Mode::Evaluation),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        Mode::NAMES[self as usize]
    }
}

/// What choosing needs of a version: full versions and the light
/// [`Candidate`]s (no instructions or demos to read) both have it.
pub trait Ranked {
    fn id(&self) -> i64;
    fn source(&self) -> &str;
    fn record(&self) -> &Record;
}

impl Ranked for PromptVersion {
    fn id(&self) -> i64 {
        self.id
    }
    fn source(&self) -> &str {
        &self.version.source
    }
    fn record(&self) -> &Record {
        &self.record
    }
}

impl Ranked for Candidate {
    fn id(&self) -> i64 {
        self.id
    }
    fn source(&self) -> &str {
        &self.source
    }
    fn record(&self) -> &Record {
        &self.record
    }
}

/// The version to serve. `versions` are a step's stored versions, the
/// pipeline's own (`manual`) one among them; `None` when there are none.
pub fn choose<'a, V: Ranked>(mode: Mode, versions: &'a [V], rng: &mut impl Rng) -> Option<&'a V> {
    match mode {
        Mode::Traditional | Mode::Evaluation => manual(versions),
        Mode::Optimized => optimized(versions),
        Mode::Hybrid => versions.iter().map(|v| (sample(v, rng), v)).max_by(|a, b| a.0.total_cmp(&b.0)).map(|(_, v)| v),
    }
}

/// The pipeline's own prompt: its newest `manual` version.
pub fn manual<V: Ranked>(versions: &[V]) -> Option<&V> {
    versions.iter().rev().find(|v| v.source() == "manual")
}

/// The best optimized (imported or learned) version, the pipeline's own
/// prompt left out: optimized mode runs it, the editor shows it.
pub fn optimized<V: Ranked>(versions: &[V]) -> Option<&V> {
    versions.iter().filter(|v| v.source() != "manual").max_by(|a, b| rank(*a, *b))
}

/// The most accepted version of all.
pub fn best<V: Ranked>(versions: &[V]) -> Option<&V> {
    versions.iter().max_by(|a, b| rank(*a, *b))
}

/// By acceptance; on a tie the better evaluation score, then the newest,
/// so a freshly imported or learned version is tried first.
fn rank<V: Ranked>(a: &V, b: &V) -> std::cmp::Ordering {
    let (x, y) = (a.record(), b.record());
    x.acceptance().total_cmp(&y.acceptance()).then(x.score.unwrap_or(0.0).total_cmp(&y.score.unwrap_or(0.0))).then(a.id().cmp(&b.id()))
}

/// Thompson sampling: a draw from Beta(1 + successes, 1 + rejections).
/// A version without outcomes draws from the uniform prior, so it is
/// tried now and then however good the others are.
fn sample<V: Ranked>(version: &V, rng: &mut impl Rng) -> f64 {
    let record = version.record();
    let alpha = 1.0 + record.successes() as f64;
    let beta = 1.0 + record.rejected as f64;
    Beta::new(alpha, beta).map(|d| d.sample(rng)).unwrap_or(0.5)
}
