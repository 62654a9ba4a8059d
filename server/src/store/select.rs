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

/// The version to serve. `versions` are a step's stored versions, oldest
/// first, the pipeline's own (`manual`) one among them; `None` when there
/// are none. A [`superseded`] written prompt is never served.
pub fn choose<'a, V: Ranked>(mode: Mode, versions: &'a [V], rng: &mut impl Rng) -> Option<&'a V> {
    match mode {
        Mode::Traditional | Mode::Evaluation => manual(versions),
        Mode::Optimized => by_evidence(versions).or_else(|| manual(versions)),
        Mode::Hybrid => current(versions).map(|v| (sample(v, rng), v)).max_by(|a, b| a.0.total_cmp(&b.0)).map(|(_, v)| v),
    }
}

/// The pipeline's own prompt: its newest `manual` version, the one the
/// YAML holds now.
pub fn manual<V: Ranked>(versions: &[V]) -> Option<&V> {
    versions.iter().rev().find(|v| v.source() == "manual")
}

/// A written prompt the YAML no longer holds: a `manual` version with a
/// newer one after it. It is history: shown by `store report`, never
/// served nor counted as the written prompt. Its evidence does not carry
/// over: a changed prompt is a different prompt, and starts with its own.
pub fn superseded<V: Ranked>(version: &V, versions: &[V]) -> bool {
    version.source() == "manual" && manual(versions).is_some_and(|newest| newest.id() != version.id())
}

/// The versions that may be served: all but the [`superseded`] written prompts.
pub fn current<V: Ranked>(versions: &[V]) -> impl Iterator<Item = &V> {
    versions.iter().filter(|v| !superseded(*v, versions))
}

/// The best imported or learned version, the pipeline's own prompt left
/// out, ranked by [`rank`]: what the editor offers to write into the YAML
/// and `store show` prints. Optimized mode serves it only when it also
/// wins [`by_evidence`].
pub fn optimized<V: Ranked>(versions: &[V]) -> Option<&V> {
    versions.iter().filter(|v| v.source() != "manual").max_by(|a, b| rank(*a, *b))
}

/// The best version of all, the written one included, by [`rank`].
pub fn best<V: Ranked>(versions: &[V]) -> Option<&V> {
    current(versions).max_by(|a, b| rank(*a, *b))
}

/// Fewest pieces of evidence (verdicts, unusable answers, evaluated
/// examples) before a version's record is trusted.
pub const MIN_EVIDENCE: f64 = 5.0;

/// The z of a two-sided 95% interval.
const Z95: f64 = 1.959964;

/// What is known of a version's acceptance. Each verdict is a trial (an
/// accepted or edited result a success, a rejected one a failure), so is
/// each answer the pipeline could not use (a failure), and each example
/// an evaluation scored (its score, 0 to 1, counts as that much success).
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Evidence {
    pub successes: f64,
    pub trials: f64,
}

impl Evidence {
    pub fn of(record: &Record) -> Evidence {
        let evaluated = if record.score.is_some() { record.scored_examples as f64 } else { 0.0 };
        let score = record.score.unwrap_or(0.0).clamp(0.0, 1.0);
        Evidence {
            successes: record.successes() as f64 + score * evaluated,
            trials: (record.successes() + record.rejected + record.unusable) as f64 + evaluated,
        }
    }

    pub fn failures(&self) -> f64 {
        self.trials - self.successes
    }

    /// Enough to be trusted: [`MIN_EVIDENCE`] trials or more.
    pub fn enough(&self) -> bool {
        self.trials >= MIN_EVIDENCE
    }

    /// The observed acceptance rate, if there is any evidence.
    pub fn rate(&self) -> Option<f64> {
        (self.trials > 0.0).then(|| self.successes / self.trials)
    }

    /// The Wilson score interval of the acceptance rate at 95%: (0, 1)
    /// without evidence. It stays inside [0, 1] and is honest with few
    /// trials, where the plain rate is not (3 of 3 is not 100%).
    pub fn interval(&self) -> (f64, f64) {
        let n = self.trials;
        if n <= 0.0 {
            return (0.0, 1.0);
        }
        let p = (self.successes / n).clamp(0.0, 1.0);
        let z2 = Z95 * Z95;
        let center = p + z2 / (2.0 * n);
        let margin = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
        let denominator = 1.0 + z2 / n;
        (((center - margin) / denominator).max(0.0), ((center + margin) / denominator).min(1.0))
    }

    /// The acceptance the version can be counted on: the interval's lower bound.
    pub fn lower_bound(&self) -> f64 {
        self.interval().0
    }
}

/// The selection rule, used by optimized mode and by `store report`:
///
/// among the versions with at least [`MIN_EVIDENCE`] pieces of evidence
/// (see [`Evidence`]), the one whose acceptance has the highest 95% Wilson
/// lower bound; ties go to more evidence, then to the written prompt,
/// then to the newest. `None` when no version has that much evidence: the
/// written prompt stays until another version has proven itself, so a
/// version with too little evidence is never preferred to one with more.
/// A [`superseded`] written prompt takes no part, whatever its record.
pub fn by_evidence<V: Ranked>(versions: &[V]) -> Option<&V> {
    current(versions).filter(|v| Evidence::of(v.record()).enough()).max_by(|a, b| rank(*a, *b))
}

/// [`by_evidence`]'s order, for all versions: enough evidence first, then
/// the lower bound, more evidence, the written prompt, the newest.
pub fn rank<V: Ranked>(a: &V, b: &V) -> std::cmp::Ordering {
    let (x, y) = (Evidence::of(a.record()), Evidence::of(b.record()));
    x.enough()
        .cmp(&y.enough())
        .then(x.lower_bound().total_cmp(&y.lower_bound()))
        .then(x.trials.total_cmp(&y.trials))
        .then((a.source() == "manual").cmp(&(b.source() == "manual")))
        .then(a.id().cmp(&b.id()))
}

/// Thompson sampling: a draw from Beta(1 + successes, 1 + failures) of
/// the version's [`Evidence`]. A version without any draws from the
/// uniform prior, so it is tried now and then however good the others are.
fn sample<V: Ranked>(version: &V, rng: &mut impl Rng) -> f64 {
    let evidence = Evidence::of(version.record());
    Beta::new(1.0 + evidence.successes, 1.0 + evidence.failures().max(0.0)).map(|d| d.sample(rng)).unwrap_or(0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(id: i64, source: &str, accepted: u64, rejected: u64, score: Option<(f64, u64)>) -> Candidate {
        let record = Record { accepted, rejected, score: score.map(|s| s.0), scored_examples: score.map_or(0, |s| s.1), ..Record::default() };
        Candidate { id, source: source.into(), record }
    }

    #[test]
    fn the_wilson_interval_is_wide_with_little_evidence() {
        let few = Evidence { successes: 3.0, trials: 3.0 }.interval();
        let many = Evidence { successes: 90.0, trials: 100.0 }.interval();
        assert!((few.0 - 0.438).abs() < 0.01 && few.1 == 1.0, "{few:?}");
        assert!((many.0 - 0.826).abs() < 0.01 && (many.1 - 0.945).abs() < 0.01, "{many:?}");
        assert_eq!(Evidence::default().interval(), (0.0, 1.0));
    }

    #[test]
    fn a_version_without_enough_evidence_never_replaces_the_written_prompt() {
        // Issue 14's case: the written prompt, accepted 3 times and scored
        // 0.99 on 4 examples, against a learned version scored 0.69 on 2.
        let versions = [version(1, "manual", 3, 0, Some((0.99, 4))), version(2, "learned", 0, 0, Some((0.69, 2)))];
        assert_eq!(by_evidence(&versions).unwrap().id, 1);
        let untested = [version(1, "manual", 0, 0, None), version(2, "dspy", 0, 0, None)];
        assert!(by_evidence(&untested).is_none(), "nothing is proven: the written prompt stays");
        let proven = [version(1, "manual", 2, 3, None), version(2, "learned", 9, 1, None)];
        assert_eq!(by_evidence(&proven).unwrap().id, 2);
    }

    /// The written prompt v2 earned 5 accepted verdicts, then its wording
    /// changed in the YAML (manual v3, no trials): optimized mode kept
    /// serving v2. The YAML's prompt is the written one now; v2 is history.
    #[test]
    fn a_superseded_written_prompt_is_never_served_nor_counts_as_the_written_one() {
        let versions = [version(2, "manual", 5, 0, None), version(3, "manual", 0, 0, None)];
        assert!(superseded(&versions[0], &versions) && !superseded(&versions[1], &versions));
        assert!(by_evidence(&versions).is_none(), "v2's evidence does not carry over to v3");
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
        for mode in [Mode::Traditional, Mode::Optimized, Mode::Hybrid, Mode::Evaluation] {
            assert_eq!(choose(mode, &versions, &mut rng).unwrap().id, 3, "{mode:?}");
        }
        assert_eq!(best(&versions).unwrap().id, 3);
        let with_learned = [version(2, "manual", 5, 0, None), version(3, "learned", 9, 1, None), version(4, "manual", 0, 0, None)];
        assert_eq!(by_evidence(&with_learned).unwrap().id, 3, "a learned version keeps its own evidence");
    }
}
