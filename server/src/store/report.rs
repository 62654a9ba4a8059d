//! `store report`: what each prompt version and each execution mode of a
//! pipeline's steps has done (runs, acceptance with its 95% interval,
//! evaluation score, latency, tokens, cost) and what to do next, decided
//! by the rule optimized mode follows (`select::by_evidence`). Plain data:
//! the command line prints it as text or JSON, `html` draws it as a page.

pub mod html;
mod svg;

use rusqlite::params;
use serde::Serialize;

use super::select::{self, Evidence, MIN_EVIDENCE};
use super::{error, PromptVersion, Record, Store};

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub pipeline: String,
    /// The selection rule, in words.
    pub rule: String,
    pub steps: Vec<StepReport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StepReport {
    pub step: String,
    pub versions: Vec<VersionReport>,
    pub modes: Vec<ModeReport>,
    pub recommendation: Recommendation,
    /// Each version's acceptance after each verdict on the step, in order.
    pub acceptance_over_time: Vec<Series>,
}

#[derive(Clone, Debug, Serialize)]
pub struct VersionReport {
    pub id: i64,
    pub source: String,
    pub created_at: String,
    pub notes: Option<String>,
    pub demos: usize,
    pub figures: Figures,
    /// What the selection rule sees: verdicts, unusable answers and evaluated examples.
    pub evidence: Evidence,
    pub evidence_lower_bound: f64,
    pub enough_evidence: bool,
    /// A written prompt the YAML no longer holds (a newer `manual` version
    /// replaced it): history, shown but never served nor recommended. Its
    /// evidence does not carry over to the new wording.
    pub superseded: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct ModeReport {
    /// `traditional`, `optimized`, `hybrid`; `unrecorded` for runs made
    /// before the store kept the mode.
    pub mode: String,
    pub figures: Figures,
}

/// The same figures for a version or a mode.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Figures {
    pub runs: u64,
    /// Calls that failed (no answer).
    pub failed: u64,
    /// Answers the pipeline could not use.
    pub unusable: u64,
    pub accepted: u64,
    pub edited: u64,
    pub rejected: u64,
    /// Accepted or edited over judged, with unusable answers as failures.
    pub acceptance: Option<f64>,
    /// Wilson 95% interval of that rate.
    pub acceptance_interval: (f64, f64),
    /// Evaluation score, 0 to 1 (for a mode: its versions', weighted by runs).
    pub evaluation_score: Option<f64>,
    pub evaluated_examples: u64,
    pub mean_latency_ms: Option<f64>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Dollars, summed over the runs whose cost is known (see
    /// `cost_partial`); `None` when runs answered and no run's cost is
    /// known: never a $0 that means "unknown".
    pub cost_usd: Option<f64>,
    /// Runs whose cost is known (cache hits count: they cost nothing).
    pub cost_known_runs: u64,
    /// Answered runs whose cost is unknown (no price, no token counts).
    pub cost_unknown_runs: u64,
    /// `cost_usd` is the sum over some runs only: others' cost is unknown.
    pub cost_partial: bool,
    /// Dollars per accepted (or edited) result; `None` without one, or
    /// when some run's cost is unknown.
    pub cost_per_accepted: Option<f64>,
}

impl Figures {
    /// The cost figures from the known sum and the two run counts.
    fn costed(&mut self, known_usd: f64, known_runs: u64, unknown_runs: u64) {
        self.cost_known_runs = known_runs;
        self.cost_unknown_runs = unknown_runs;
        self.cost_usd = (known_runs > 0 || unknown_runs == 0).then_some(known_usd).filter(|usd| usd.is_finite());
        self.cost_partial = known_runs > 0 && unknown_runs > 0;
    }

    fn judged(&mut self) {
        let evidence = Evidence { successes: (self.accepted + self.edited) as f64, trials: (self.accepted + self.edited + self.rejected + self.unusable) as f64 };
        self.acceptance = evidence.rate();
        self.acceptance_interval = evidence.interval();
        let successes = self.accepted + self.edited;
        self.cost_per_accepted = match self.cost_usd {
            Some(usd) if successes > 0 && self.cost_unknown_runs == 0 => Some(usd / successes as f64),
            _ => None,
        };
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    UseOptimized,
    KeepWritten,
    KeepTestingInHybrid,
    GatherMoreData,
}

impl Action {
    pub fn title(&self) -> &'static str {
        match self {
            Action::UseOptimized => "use the optimized prompt",
            Action::KeepWritten => "keep the written prompt",
            Action::KeepTestingInHybrid => "keep testing in hybrid mode",
            Action::GatherMoreData => "gather more data",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Recommendation {
    pub action: Action,
    /// The version it names (the one to use, or the one to keep testing).
    pub version: Option<i64>,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Series {
    pub version: i64,
    /// (the verdict's position among the step's verdicts, from 1; the
    /// version's acceptance rate after it).
    pub points: Vec<(u32, f64)>,
}

/// The rule, as the report states it.
pub fn rule_text() -> String {
    format!(
        "Each verdict is a trial (accepted or edited: success; rejected: failure), so is each answer the pipeline could not use (failure) and each evaluated example (its score counts as that much success). A version needs {MIN_EVIDENCE} trials before its record counts; among those that have them, the one with the highest 95% Wilson lower bound on its acceptance is served in optimized mode (ties: more evidence, then the written prompt, then the newest). With none, the written prompt stays."
    )
}

impl Store {
    /// The report of every step of `pipeline` that has versions.
    pub fn report(&self, pipeline: &str) -> Result<Report, String> {
        let steps = self.steps(pipeline)?;
        if steps.is_empty() {
            return Err(format!("the store knows no step of pipeline `{pipeline}` (run it first)"));
        }
        let steps = steps.iter().map(|step| self.step_report(pipeline, step)).collect::<Result<_, _>>()?;
        Ok(Report { pipeline: pipeline.to_string(), rule: rule_text(), steps })
    }

    fn step_report(&self, pipeline: &str, step: &str) -> Result<StepReport, String> {
        let versions = self.versions(pipeline, Some(step))?;
        let mut rows = Vec::new();
        for version in &versions {
            let (cost_usd, known, unknown) = self.version_cost(version.id)?;
            let mut figures = figures_of(&version.record);
            figures.costed(cost_usd, known, unknown);
            figures.judged();
            let evidence = Evidence::of(&version.record);
            rows.push(VersionReport {
                id: version.id,
                source: version.version.source.clone(),
                created_at: version.created_at.clone(),
                notes: version.version.notes.clone(),
                demos: version.version.demos.len(),
                figures,
                evidence,
                evidence_lower_bound: evidence.lower_bound(),
                enough_evidence: evidence.enough(),
                superseded: select::superseded(version, &versions),
            });
        }
        Ok(StepReport {
            step: step.to_string(),
            modes: self.mode_reports(pipeline, step, &versions)?,
            recommendation: recommend(&versions),
            acceptance_over_time: self.acceptance_over_time(pipeline, step)?,
            versions: rows,
        })
    }

    /// Dollars spent by a version's runs whose cost is known, how many
    /// those are, and how many answered runs have no known cost.
    fn version_cost(&self, version: i64) -> Result<(f64, u64, u64), String> {
        self.connection
            .query_row(
                &format!("SELECT total(cost_usd) FILTER (WHERE {KNOWN_COST}), count(*) FILTER (WHERE {KNOWN_COST}), count(*) FILTER (WHERE NOT {KNOWN_COST} AND model IS NOT NULL) FROM runs WHERE version = ?1"),
                [version],
                |row| Ok((row.get(0)?, super::count(row, 1)?, super::count(row, 2)?)),
            )
            .map_err(error)
    }

    fn mode_reports(&self, pipeline: &str, step: &str, versions: &[PromptVersion]) -> Result<Vec<ModeReport>, String> {
        let mut statement = self
            .connection
            .prepare_cached(
                &"SELECT coalesce(r.mode, 'unrecorded'), r.version, count(*),
                    count(*) FILTER (WHERE r.outcome = 'error' AND r.model IS NULL),
                    count(*) FILTER (WHERE r.outcome = 'error' AND r.model IS NOT NULL),
                    sum(r.latency_ms) FILTER (WHERE r.outcome = 'ok'), count(*) FILTER (WHERE r.outcome = 'ok'),
                    total(r.input_tokens), total(r.output_tokens),
                    total(r.cost_usd) FILTER (WHERE {KNOWN_COST}), count(*) FILTER (WHERE {KNOWN_COST}), count(*) FILTER (WHERE NOT {KNOWN_COST} AND r.model IS NOT NULL),
                    (SELECT count(*) FROM examples e JOIN runs x ON x.id = e.run WHERE x.version = r.version AND coalesce(x.mode, 'unrecorded') = coalesce(r.mode, 'unrecorded') AND x.pipeline = r.pipeline AND x.step = r.step AND e.verdict = 'accepted'),
                    (SELECT count(*) FROM examples e JOIN runs x ON x.id = e.run WHERE x.version = r.version AND coalesce(x.mode, 'unrecorded') = coalesce(r.mode, 'unrecorded') AND x.pipeline = r.pipeline AND x.step = r.step AND e.verdict = 'edited'),
                    (SELECT count(*) FROM examples e JOIN runs x ON x.id = e.run WHERE x.version = r.version AND coalesce(x.mode, 'unrecorded') = coalesce(r.mode, 'unrecorded') AND x.pipeline = r.pipeline AND x.step = r.step AND e.verdict = 'rejected')
                 FROM runs r WHERE r.pipeline = ?1 AND r.step = ?2
                 GROUP BY coalesce(r.mode, 'unrecorded'), r.version ORDER BY 1, 2"
                .replace("{KNOWN_COST}", &KNOWN_COST.replace("cost_usd", "r.cost_usd")),
            )
            .map_err(error)?;
        struct Part {
            mode: String,
            version: i64,
            runs: u64,
            failed: u64,
            unusable: u64,
            latency: Option<f64>,
            answered: u64,
            tokens: (u64, u64),
            cost: (f64, u64, u64),
            verdicts: (u64, u64, u64),
        }
        let parts: Vec<Part> = statement
            .query_map(params![pipeline, step], |row| {
                Ok(Part {
                    mode: row.get(0)?,
                    version: row.get(1)?,
                    runs: super::count(row, 2)?,
                    failed: super::count(row, 3)?,
                    unusable: super::count(row, 4)?,
                    latency: row.get::<_, Option<f64>>(5)?.filter(|l| l.is_finite()),
                    answered: super::count(row, 6)?,
                    tokens: (tokens(row, 7)?, tokens(row, 8)?),
                    cost: (row.get(9)?, super::count(row, 10)?, super::count(row, 11)?),
                    verdicts: (super::count(row, 12)?, super::count(row, 13)?, super::count(row, 14)?),
                })
            })
            .map_err(error)?
            .collect::<Result<_, _>>()
            .map_err(error)?;
        let mut modes: Vec<ModeReport> = Vec::new();
        let mut latency: Vec<(f64, u64)> = Vec::new();
        let mut scored: Vec<(f64, u64)> = Vec::new();
        let mut costs: Vec<(f64, u64, u64)> = Vec::new();
        for part in parts {
            if modes.last().is_none_or(|m| m.mode != part.mode) {
                modes.push(ModeReport { mode: part.mode.clone(), figures: Figures::default() });
                latency.push((0.0, 0));
                scored.push((0.0, 0));
                costs.push((0.0, 0, 0));
            }
            let (Some(mode), Some(time), Some(score), Some(cost)) = (modes.last_mut(), latency.last_mut(), scored.last_mut(), costs.last_mut()) else { continue };
            let f = &mut mode.figures;
            f.runs += part.runs;
            f.failed += part.failed;
            f.unusable += part.unusable;
            f.input_tokens = f.input_tokens.saturating_add(part.tokens.0);
            f.output_tokens = f.output_tokens.saturating_add(part.tokens.1);
            *cost = (cost.0 + part.cost.0, cost.1 + part.cost.1, cost.2 + part.cost.2);
            f.accepted += part.verdicts.0;
            f.edited += part.verdicts.1;
            f.rejected += part.verdicts.2;
            *time = (time.0 + part.latency.unwrap_or(0.0), time.1 + part.answered);
            let record = versions.iter().find(|v| v.id == part.version).map(|v| &v.record);
            if let Some(version_score) = record.and_then(|r| r.score) {
                *score = (score.0 + version_score * part.runs as f64, score.1 + part.runs);
                f.evaluated_examples += record.map_or(0, |r| r.scored_examples);
            }
        }
        for (((mode, time), score), cost) in modes.iter_mut().zip(latency).zip(scored).zip(costs) {
            mode.figures.mean_latency_ms = (time.1 > 0).then(|| time.0 / time.1 as f64);
            mode.figures.evaluation_score = (score.1 > 0).then(|| score.0 / score.1 as f64);
            mode.figures.costed(cost.0, cost.1, cost.2);
            mode.figures.judged();
        }
        Ok(modes)
    }

    fn acceptance_over_time(&self, pipeline: &str, step: &str) -> Result<Vec<Series>, String> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT version, verdict FROM examples WHERE pipeline = ?1 AND step = ?2 AND verdict IS NOT NULL ORDER BY judged_at, id")
            .map_err(error)?;
        let verdicts: Vec<(i64, String)> = statement
            .query_map(params![pipeline, step], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(error)?
            .collect::<Result<_, _>>()
            .map_err(error)?;
        let mut series: Vec<(Series, u32, u32)> = Vec::new();
        for (index, (version, verdict)) in verdicts.iter().enumerate() {
            let position = series.iter().position(|(s, _, _)| s.version == *version).unwrap_or_else(|| {
                series.push((Series { version: *version, points: Vec::new() }, 0, 0));
                series.len() - 1
            });
            let (line, successes, judged) = &mut series[position];
            *judged += 1;
            if verdict != "rejected" {
                *successes += 1;
            }
            line.points.push((index as u32 + 1, *successes as f64 / *judged as f64));
        }
        let mut series: Vec<Series> = series.into_iter().map(|(s, _, _)| s).collect();
        series.sort_by_key(|s| s.version);
        Ok(series)
    }
}

/// A run whose cost is known: a sane number of dollars (a store written
/// before costs were checked may hold Inf).
const KNOWN_COST: &str = "(cost_usd IS NOT NULL AND cost_usd BETWEEN 0 AND 100000000)";

/// A token sum read as SQLite's `total()` gives it (a float, which no
/// overflow makes fail), as a count.
fn tokens(row: &rusqlite::Row, index: usize) -> rusqlite::Result<u64> {
    let total: f64 = row.get(index)?;
    Ok(if total.is_finite() && total > 0.0 { total as u64 } else { 0 })
}

fn figures_of(record: &Record) -> Figures {
    let answered = record.runs.saturating_sub(record.errors);
    Figures {
        runs: record.runs,
        failed: record.errors.saturating_sub(record.unusable),
        unusable: record.unusable,
        accepted: record.accepted,
        edited: record.edited,
        rejected: record.rejected,
        evaluation_score: record.score,
        evaluated_examples: if record.score.is_some() { record.scored_examples } else { 0 },
        mean_latency_ms: (answered > 0 && record.mean_latency_ms > 0.0).then_some(record.mean_latency_ms),
        input_tokens: record.input_tokens,
        output_tokens: record.output_tokens,
        ..Figures::default()
    }
}

/// What to do with a step, by the rule optimized mode follows; a written
/// prompt the YAML replaced is said to be history.
pub fn recommend(versions: &[PromptVersion]) -> Recommendation {
    let mut recommendation = recommend_current(versions);
    let replaced = versions.iter().rfind(|v| select::superseded(*v, versions));
    if let (Some(written), Some(old)) = (select::manual(versions), replaced) {
        recommendation.reason.push_str(&format!(
            " The written prompt changed: version {} holds the pipeline's wording now and replaced version {}, which is superseded history and never served (its {:.0} trials stay with it; a changed prompt starts with its own evidence).",
            written.id,
            old.id,
            Evidence::of(&old.record).trials
        ));
    }
    recommendation
}

fn recommend_current(versions: &[PromptVersion]) -> Recommendation {
    let describe = |v: &PromptVersion| {
        let e = Evidence::of(&v.record);
        format!("version {} ({}): acceptance at least {:.0}% (95% lower bound) from {:.0} trials", v.id, v.version.source, e.lower_bound() * 100.0, e.trials)
    };
    let written = select::manual(versions);
    let chosen = select::by_evidence(versions);
    let others: Vec<&PromptVersion> = versions.iter().filter(|v| v.version.source != "manual").collect();
    match chosen {
        Some(best) if best.version.source != "manual" => {
            let against = match written {
                Some(w) if Evidence::of(&w.record).enough() => format!("; the written prompt, {}", describe(w)),
                Some(w) => format!("; the written prompt has {:.0} of the {MIN_EVIDENCE} trials it needs to count", Evidence::of(&w.record).trials),
                None => String::new(),
            };
            Recommendation { action: Action::UseOptimized, version: Some(best.id), reason: format!("{}{against}. Optimized mode serves it.", describe(best)) }
        }
        _ => {
            let proven_others: Vec<&&PromptVersion> = others.iter().filter(|v| Evidence::of(&v.record).enough()).collect();
            let untested = others.iter().filter(|v| !Evidence::of(&v.record).enough()).max_by(|a, b| select::rank(**a, **b));
            match (chosen, proven_others.first(), untested) {
                (Some(best), Some(rival), _) => Recommendation {
                    action: Action::KeepWritten,
                    version: Some(best.id),
                    reason: format!("the written prompt, {}, does at least as well as the best other, {}.", describe(best), describe(rival)),
                },
                (_, _, Some(candidate)) => Recommendation {
                    action: Action::KeepTestingInHybrid,
                    version: Some(candidate.id),
                    reason: format!(
                        "version {} ({}) has {:.0} of the {MIN_EVIDENCE} trials it needs before it can replace the written prompt; hybrid mode tries it and records its verdicts (or score it with `pipeline run --mode evaluation`).",
                        candidate.id,
                        candidate.version.source,
                        Evidence::of(&candidate.record).trials
                    ),
                },
                (Some(best), None, None) => Recommendation {
                    action: Action::GatherMoreData,
                    version: Some(best.id),
                    reason: format!("{}, and there is no other version to compare it with: judge more results, then `store learn` or import a DSPy program.", describe(best)),
                },
                (None, _, None) => Recommendation {
                    action: Action::GatherMoreData,
                    version: written.map(|w| w.id),
                    reason: format!(
                        "no version has the {MIN_EVIDENCE} trials (verdicts or evaluated examples) its record needs to count, and there is no other version to test: judge more results, then `store learn` or import a DSPy program."
                    ),
                },
            }
        }
    }
}

/// The report as text for a terminal.
pub fn text(report: &Report) -> String {
    let mut out = format!("pipeline {}\n", report.pipeline);
    for step in &report.steps {
        out.push_str(&format!("\n{} — recommendation: {}", step.step, step.recommendation.action.title()));
        if let Some(version) = step.recommendation.version {
            out.push_str(&format!(" (version {version})"));
        }
        out.push_str(&format!("\n  {}\n", step.recommendation.reason));
        out.push_str(&format!("  {:<24} {:>5} {:>20} {:>12} {:>9} {:>13} {:>18} {:>10}\n", "version / mode", "runs", "acceptance (95%)", "eval", "latency", "tokens in/out", "cost", "per accept"));
        let label = |v: &VersionReport| if v.superseded { format!("{} {} (superseded)", v.id, v.source) } else { format!("{} {}", v.id, v.source) };
        let rows = step.versions.iter().map(|v| (label(v), &v.figures)).chain(step.modes.iter().map(|m| (format!("mode {}", m.mode), &m.figures)));
        for (label, f) in rows {
            out.push_str(&format!(
                "  {:<24} {:>5} {:>20} {:>12} {:>9} {:>13} {:>18} {:>10}\n",
                label,
                f.runs,
                acceptance_text(f),
                evaluation_text(f).unwrap_or_else(|| "-".into()),
                f.mean_latency_ms.map(|l| format!("{l:.0} ms")).unwrap_or_else(|| "-".into()),
                format!("{}/{}", f.input_tokens, f.output_tokens),
                cost_text(f),
                f.cost_per_accepted.map(crate::pipeline::providers::prices::dollars).unwrap_or_else(|| "-".into()),
            ));
        }
    }
    out.push_str(&format!("\nrule: {}\n", report.rule));
    out
}

/// "67% [45–84%] of 12", or "-" without verdicts.
pub fn acceptance_text(f: &Figures) -> String {
    match f.acceptance {
        Some(rate) => {
            let judged = f.accepted + f.edited + f.rejected + f.unusable;
            format!("{:.0}% [{:.0}–{:.0}%] of {judged}", rate * 100.0, f.acceptance_interval.0 * 100.0, f.acceptance_interval.1 * 100.0)
        }
        None => "-".into(),
    }
}

/// "0.74 on 12": the evaluation score and on how many examples it was computed.
pub fn evaluation_text(f: &Figures) -> Option<String> {
    f.evaluation_score.map(|s| format!("{s:.2} on {}", f.evaluated_examples))
}

/// "$0.0123"; "unknown" when no run's cost is known; "$0.0123 (partial)"
/// when that is the sum over some runs only, others' cost unknown.
pub fn cost_text(f: &Figures) -> String {
    match f.cost_usd {
        None => "unknown".into(),
        Some(usd) if f.cost_partial => format!("{} (partial)", crate::pipeline::providers::prices::dollars(usd)),
        Some(usd) => crate::pipeline::providers::prices::dollars(usd),
    }
}
