//! Runs and examples: every model call a pipeline makes is a run of one
//! prompt version; a run that answered leaves an example (the inputs the
//! step received and its output) for the user's verdict to judge later. A
//! verdict judges one step's example (by default the step whose answer was
//! the run's result), never the steps before it; a run that produced no
//! result is not judged. An answer the repair request replaced is not the
//! example: the repaired one is. A cache hit adds no example, it points at
//! the one whose answer it served again.

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde_json::{Map, Value};

use super::{error, Store};

/// One step's model call, as the runner saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// Groups the steps of one pipeline run; verdicts are given per invocation.
    pub invocation: String,
    pub pipeline: String,
    pub step: String,
    pub version: i64,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub latency_ms: f64,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub outcome: Outcome,
    /// The step's named inputs and its answer, when it answered.
    pub example: Option<(Map<String, Value>, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Answered,
    Cached,
    Failed(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Accepted,
    /// Accepted after the user changed the result.
    Edited,
    Rejected,
}

impl Verdict {
    pub fn parse(text: &str) -> Option<Verdict> {
        match text {
            "accepted" => Some(Verdict::Accepted),
            "edited" => Some(Verdict::Edited),
            "rejected" => Some(Verdict::Rejected),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Edited => "edited",
            Verdict::Rejected => "rejected",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    pub id: i64,
    pub step: String,
    pub version: i64,
    pub inputs: Map<String, Value>,
    pub output: String,
    pub verdict: Option<Verdict>,
    pub final_text: Option<String>,
}

impl Example {
    /// What the user ended up with: their edit, else the model's output.
    pub fn best_output(&self) -> &str {
        self.final_text.as_deref().unwrap_or(&self.output)
    }
}

impl Store {
    /// Record a run, its example and the version's counters in one transaction.
    pub fn record_run(&mut self, run: &RunRecord) -> Result<i64, String> {
        let transaction = self.connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(error)?;
        let (outcome, failure) = match &run.outcome {
            Outcome::Answered => ("ok", None),
            Outcome::Cached => ("cached", None),
            Outcome::Failed(message) => ("error", Some(message.as_str())),
        };
        let example = match &run.example {
            Some((inputs, output)) => Some((serde_json::to_string(inputs).map_err(|e| e.to_string())?, output)),
            None => None,
        };
        // A cache hit serves an answer the store already holds: it points
        // at that example instead of adding the same one again.
        let reused: Option<i64> = match (&run.outcome, &example) {
            (Outcome::Cached, Some((inputs, output))) => transaction
                .query_row(
                    "SELECT id FROM examples WHERE pipeline = ?1 AND step = ?2 AND inputs = ?3 AND output = ?4 ORDER BY id DESC LIMIT 1",
                    params![run.pipeline, run.step, inputs, output],
                    |row| row.get(0),
                )
                .optional()
                .map_err(error)?,
            _ => None,
        };
        transaction
            .execute(
                "INSERT INTO runs (invocation, pipeline, step, version, provider, model, latency_ms, input_tokens, output_tokens, outcome, error, reused_example)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![run.invocation, run.pipeline, run.step, run.version, run.provider, run.model, run.latency_ms, run.input_tokens, run.output_tokens, outcome, failure, reused],
            )
            .map_err(error)?;
        let id = transaction.last_insert_rowid();
        if let (Some((inputs, output)), None) = (&example, reused) {
            transaction
                .execute(
                    "INSERT INTO examples (run, pipeline, step, version, inputs, output) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![id, run.pipeline, run.step, run.version, inputs, output],
                )
                .map_err(error)?;
        }
        // A cached answer costs nothing: it counts as a run but not toward latency.
        let (answered_latency, failed) = match run.outcome {
            Outcome::Answered => (run.latency_ms, 0),
            Outcome::Cached => (0.0, 0),
            Outcome::Failed(_) => (0.0, 1),
        };
        let counted = if run.outcome == Outcome::Cached { 0 } else { 1 };
        transaction
            .execute(
                "UPDATE prompt_versions SET runs = runs + ?2, errors = errors + ?3, latency_ms = latency_ms + ?4,
                 input_tokens = input_tokens + ?5, output_tokens = output_tokens + ?6 WHERE id = ?1",
                params![run.version, counted, failed, answered_latency, run.input_tokens.unwrap_or(0), run.output_tokens.unwrap_or(0)],
            )
            .map_err(error)?;
        transaction.commit().map_err(error)?;
        Ok(id)
    }

    /// Whether any step of this run was recorded.
    pub fn has_invocation(&self, invocation: &str) -> Result<bool, String> {
        self.connection.query_row("SELECT EXISTS (SELECT 1 FROM runs WHERE invocation = ?1)", [invocation], |row| row.get(0)).map_err(error)
    }

    /// The last answer of a run could not be used (no code, no findings,
    /// an edit that fails its checks): it counts as a failure of the
    /// version that wrote it and never becomes an example to learn from.
    /// Whether there was such an answer.
    pub fn mark_unusable(&mut self, invocation: &str, why: &str) -> Result<bool, String> {
        let transaction = self.connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(error)?;
        let last: Option<(i64, i64)> = transaction
            .query_row("SELECT id, version FROM runs WHERE invocation = ?1 AND outcome != 'error' ORDER BY id DESC LIMIT 1", [invocation], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
            .map_err(error)?;
        let Some((run, version)) = last else { return Ok(false) };
        transaction.execute("UPDATE runs SET outcome = 'error', error = ?2, reused_example = NULL WHERE id = ?1", params![run, why]).map_err(error)?;
        transaction.execute("UPDATE prompt_versions SET errors = errors + 1 WHERE id = ?1", [version]).map_err(error)?;
        transaction.execute("DELETE FROM examples WHERE run = ?1", [run]).map_err(error)?;
        transaction.commit().map_err(error)?;
        Ok(true)
    }

    /// The last answer of a run could not be used and the repair request's
    /// answer became the result instead: that answer, not the first, is
    /// the example of the run's last call of `step` (what a verdict on the
    /// run judges and a learned demo teaches). A cache hit that served
    /// another run's example gets an example of its own. Whether there was
    /// an answer of `step` to replace.
    pub fn replace_last_answer(&mut self, invocation: &str, step: &str, answer: &str) -> Result<bool, String> {
        let transaction = self.connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(error)?;
        let last: Option<(i64, String, String, i64, Option<i64>)> = transaction
            .query_row(
                "SELECT id, pipeline, step, version, reused_example FROM runs WHERE invocation = ?1 AND outcome != 'error' ORDER BY id DESC LIMIT 1",
                [invocation],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)),
            )
            .optional()
            .map_err(error)?;
        let Some((run, pipeline, last_step, version, reused)) = last.filter(|last| last.2 == step) else { return Ok(false) };
        let replaced = transaction.execute("UPDATE examples SET output = ?2 WHERE run = ?1", params![run, answer]).map_err(error)?;
        if replaced == 0 {
            // The example the cache hit pointed at is another run's answer, left as it is.
            let inputs: Option<String> = match reused {
                Some(example) => transaction.query_row("SELECT inputs FROM examples WHERE id = ?1", [example], |row| row.get(0)).optional().map_err(error)?,
                None => None,
            };
            let Some(inputs) = inputs else { return Ok(false) };
            transaction
                .execute(
                    "INSERT INTO examples (run, pipeline, step, version, inputs, output) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![run, pipeline, last_step, version, inputs, answer],
                )
                .map_err(error)?;
            transaction.execute("UPDATE runs SET reused_example = NULL WHERE id = ?1", [run]).map_err(error)?;
        }
        transaction.commit().map_err(error)?;
        Ok(true)
    }

    /// Judge the step whose answer was the run's result (its last model
    /// call): the steps before it are not judged by it. How many examples
    /// were judged (0 or 1). See [`Store::judge`].
    pub fn set_verdict(&mut self, invocation: &str, verdict: Verdict, final_text: Option<&str>) -> Result<usize, String> {
        match self.judge(invocation, None, verdict, final_text) {
            Ok(_) => Ok(1),
            Err(VerdictError::NothingToJudge(_)) => Ok(0),
            Err(other) => Err(other.to_string()),
        }
    }

    /// Judge one step of a run: `step`, else the step whose answer was the
    /// run's result (its last model call; a run whose last call failed or
    /// gave an unusable answer produced no result and is not judged, its
    /// earlier steps only when named). `final_text` (for `edited`) is the
    /// user's result, stored in the shape of the step's own answer.
    /// Judging again moves the version's counts and says from what to what.
    pub fn judge(&mut self, invocation: &str, step: Option<&str>, verdict: Verdict, final_text: Option<&str>) -> Result<Judgment, VerdictError> {
        refuse_empty(final_text)?;
        let transaction = self.connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(VerdictError::store)?;
        let run = run_summary(&transaction, invocation).map_err(VerdictError::Store)?.ok_or_else(|| VerdictError::UnknownRun(invocation.to_string()))?;
        let example = match target(&transaction, invocation, step).map_err(VerdictError::Store)? {
            Target::Answer(example, judged_step) => (example, judged_step),
            Target::NoAnswer => {
                let step = step.unwrap_or_default();
                return Err(VerdictError::NothingToJudge(format!("{} has no answer of step `{step}` to judge", run.describe())));
            }
            Target::NoResult(why) => {
                let hint = format!("to judge a step before it on its own, name it: --run {invocation} --step NAME");
                return Err(VerdictError::NothingToJudge(format!("{} {why}; {hint}", run.describe())));
            }
        };
        let judgment = judge_example(&transaction, run, example, verdict, final_text)?;
        transaction.commit().map_err(VerdictError::store)?;
        Ok(judgment)
    }

    /// Judge the newest run of a pipeline whose result (or `step`, when
    /// given) nobody has judged yet: what "judge the last run" means, so
    /// that judging twice judges two runs, never the same one again. The
    /// choice and the verdict are one transaction, so two processes judging
    /// at once judge two runs. When the newest run produced no result, it
    /// is refused rather than passed over for an older one.
    pub fn judge_newest(&mut self, pipeline: &str, step: Option<&str>, verdict: Verdict, final_text: Option<&str>) -> Result<Judgment, VerdictError> {
        refuse_empty(final_text)?;
        let transaction = self.connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(VerdictError::store)?;
        let invocations: Vec<String> = {
            let mut statement = transaction.prepare_cached("SELECT invocation FROM runs WHERE pipeline = ?1 GROUP BY invocation ORDER BY max(id) DESC").map_err(VerdictError::store)?;
            let rows = statement.query_map([pipeline], |row| row.get(0)).map_err(VerdictError::store)?;
            rows.collect::<Result<_, _>>().map_err(VerdictError::store)?
        };
        let Some(newest) = invocations.first().cloned() else {
            return Err(VerdictError::NothingToJudge(format!("the store has no run of `{pipeline}`")));
        };
        let describe = |invocation: &str| -> Result<String, VerdictError> {
            Ok(run_summary(&transaction, invocation).map_err(VerdictError::Store)?.map(|r| r.describe()).unwrap_or_else(|| format!("run {invocation}")))
        };
        for (index, invocation) in invocations.iter().enumerate() {
            match target(&transaction, invocation, step).map_err(VerdictError::Store)? {
                Target::Answer(example, judged_step) => {
                    let judged: Option<String> = transaction.query_row("SELECT verdict FROM examples WHERE id = ?1", [example], |row| row.get(0)).map_err(VerdictError::store)?;
                    if judged.is_some() {
                        continue;
                    }
                    let run = run_summary(&transaction, invocation).map_err(VerdictError::Store)?.ok_or_else(|| VerdictError::UnknownRun(invocation.clone()))?;
                    let judgment = judge_example(&transaction, run, (example, judged_step), verdict, final_text)?;
                    transaction.commit().map_err(VerdictError::store)?;
                    return Ok(judgment);
                }
                Target::NoResult(why) if index == 0 => {
                    return Err(VerdictError::NothingToJudge(format!(
                        "the newest run of `{pipeline}` is {} and it {why}; to judge an older run, give its id (--run ID), or name a step of this one (--run {invocation} --step NAME)",
                        describe(invocation)?
                    )));
                }
                Target::NoResult(_) | Target::NoAnswer => {}
            }
        }
        let judged = match target(&transaction, &newest, step).map_err(VerdictError::Store)? {
            Target::Answer(example, step) => {
                let verdict: Option<String> = transaction.query_row("SELECT verdict FROM examples WHERE id = ?1", [example], |row| row.get(0)).map_err(VerdictError::store)?;
                verdict.map(|v| format!(": {step} {v}")).unwrap_or_default()
            }
            _ => String::new(),
        };
        let what = match step {
            Some(step) => format!("every run of `{pipeline}` with an answer of step `{step}` is judged already"),
            None => format!("every run of `{pipeline}` is judged already"),
        };
        Err(VerdictError::NothingToJudge(format!("{what} (the newest is {}{judged}); to judge one again, give its id: --run ID", describe(&newest)?)))
    }

    /// When a run started, of which pipeline, on what file.
    pub fn run(&self, invocation: &str) -> Result<Option<RunSummary>, String> {
        run_summary(&self.connection, invocation)
    }

    /// The verdict a run's result (or `step`) has, if any.
    pub fn verdict_of(&self, invocation: &str, step: Option<&str>) -> Result<Option<(String, Option<Verdict>)>, String> {
        let Target::Answer(example, step) = target(&self.connection, invocation, step)? else { return Ok(None) };
        let verdict: Option<String> = self.connection.query_row("SELECT verdict FROM examples WHERE id = ?1", [example], |row| row.get(0)).map_err(error)?;
        Ok(Some((step, verdict.as_deref().and_then(Verdict::parse))))
    }

    /// Note the file a run was on (workspace-relative), to name it later.
    pub fn set_run_file(&mut self, invocation: &str, file: &str) -> Result<(), String> {
        self.connection.execute("UPDATE runs SET file = ?2 WHERE invocation = ?1", params![invocation, file]).map(|_| ()).map_err(error)
    }

    /// Examples of a step, oldest first; `judged_only` leaves out those without a verdict.
    pub fn examples(&self, pipeline: &str, step: &str, judged_only: bool) -> Result<Vec<Example>, String> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT id, step, version, inputs, output, verdict, final_text FROM examples
                 WHERE pipeline = ?1 AND step = ?2 AND (?3 = 0 OR verdict IS NOT NULL) ORDER BY id",
            )
            .map_err(error)?;
        let rows = statement
            .query_map(params![pipeline, step, judged_only], |row| {
                let inputs: String = row.get(3)?;
                let verdict: Option<String> = row.get(5)?;
                Ok(Example {
                    id: row.get(0)?,
                    step: row.get(1)?,
                    version: row.get(2)?,
                    inputs: serde_json::from_str(&inputs).unwrap_or_default(),
                    output: row.get(4)?,
                    verdict: verdict.as_deref().and_then(Verdict::parse),
                    final_text: row.get(6)?,
                })
            })
            .map_err(error)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(error)
    }

    /// The newest invocation of a pipeline, judged or not (to judge one, see
    /// [`Store::judge_newest`]).
    pub fn last_invocation(&self, pipeline: &str) -> Result<Option<String>, String> {
        self.connection
            .query_row("SELECT invocation FROM runs WHERE pipeline = ?1 ORDER BY id DESC LIMIT 1", [pipeline], |row| row.get(0))
            .optional()
            .map_err(error)
    }
}

/// A pipeline run as a verdict names it: which one, when, on what.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    pub invocation: String,
    pub pipeline: String,
    /// When its first step was recorded (UTC).
    pub started_at: String,
    /// The file it ran on (workspace-relative), when it ran on one.
    pub file: Option<String>,
}

impl RunSummary {
    /// "run ID of PIPELINE (TIME, on FILE)".
    pub fn describe(&self) -> String {
        let on = self.file.as_deref().map(|f| format!(", on {f}")).unwrap_or_default();
        format!("run {} of {} ({}{on})", self.invocation, self.pipeline, self.started_at)
    }
}

/// What a verdict did.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgment {
    pub run: RunSummary,
    /// The step judged.
    pub step: String,
    /// Its verdict before this one.
    pub previous: Option<Verdict>,
    pub verdict: Verdict,
    /// Judged `edited` again with another final text, which replaced the one it had.
    pub text_replaced: bool,
    /// The run's other answered steps, which this verdict did not judge.
    pub other_steps: Vec<String>,
}

impl Judgment {
    /// "rewrite judged accepted", "rewrite: rejected → accepted",
    /// "rewrite was edited already; final text replaced".
    pub fn change(&self) -> String {
        match self.previous {
            None => format!("{} judged {}", self.step, self.verdict.name()),
            Some(previous) if previous == self.verdict && self.text_replaced => format!("{} was {} already; final text replaced", self.step, previous.name()),
            Some(previous) if previous == self.verdict => format!("{} was {} already; unchanged", self.step, previous.name()),
            Some(previous) => format!("{}: {} → {}", self.step, previous.name(), self.verdict.name()),
        }
    }
}

#[derive(Debug, PartialEq)]
pub enum VerdictError {
    UnknownRun(String),
    /// The run (or the step asked for) has no answer: it failed, or the store dropped it as unusable.
    NothingToJudge(String),
    /// `edited` with an empty final text.
    EmptyText,
    Store(String),
}

impl VerdictError {
    fn store(e: rusqlite::Error) -> VerdictError {
        VerdictError::Store(e.to_string())
    }
}

impl std::fmt::Display for VerdictError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerdictError::UnknownRun(id) => write!(f, "the store has no run {id}"),
            VerdictError::EmptyText => f.write_str("the edited text is empty; nothing was judged"),
            VerdictError::NothingToJudge(why) | VerdictError::Store(why) => f.write_str(why),
        }
    }
}

fn run_summary(connection: &rusqlite::Connection, invocation: &str) -> Result<Option<RunSummary>, String> {
    let row: (Option<String>, Option<String>, Option<String>) = connection
        .query_row("SELECT min(pipeline), min(created_at), max(file) FROM runs WHERE invocation = ?1", [invocation], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .map_err(error)?;
    Ok(match row {
        (Some(pipeline), Some(started_at), file) => Some(RunSummary { invocation: invocation.to_string(), pipeline, started_at, file }),
        _ => None,
    })
}

/// What a verdict on a run judges.
enum Target {
    /// The example and its step.
    Answer(i64, String),
    /// The step asked for left no answer.
    NoAnswer,
    /// The run's last model call failed or its answer was unusable, so the
    /// run produced no result: why, as "produced no result: ...".
    NoResult(String),
}

/// The example a verdict on a run judges: the last answered model call of
/// `step`; else the run's last model call, whose answer was its result.
/// A cache hit's answer is the example it served again.
fn target(connection: &rusqlite::Connection, invocation: &str, step: Option<&str>) -> Result<Target, String> {
    let last: Option<(Option<i64>, String, String, Option<String>)> = connection
        .query_row(
            "SELECT coalesce((SELECT e.id FROM examples e WHERE e.run = r.id), r.reused_example), r.step, r.outcome, r.error FROM runs r
             WHERE r.invocation = ?1 AND (?2 IS NULL OR (r.step = ?2 AND r.outcome != 'error')) ORDER BY r.id DESC LIMIT 1",
            params![invocation, step],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .optional()
        .map_err(error)?;
    Ok(match last {
        Some((_, step, outcome, why)) if outcome == "error" => {
            let why = why.map(|w| format!(" ({w})")).unwrap_or_default();
            Target::NoResult(format!("produced no result: its last step `{step}` failed or gave no usable answer{why}, so there is nothing of it to judge"))
        }
        Some((Some(example), step, _, _)) => Target::Answer(example, step),
        _ if step.is_none() => Target::NoResult("produced no result, so there is nothing of it to judge".into()),
        _ => Target::NoAnswer,
    })
}

/// Judge one example of `run` (in the caller's transaction).
fn judge_example(connection: &rusqlite::Connection, run: RunSummary, (example, judged_step): (i64, String), verdict: Verdict, final_text: Option<&str>) -> Result<Judgment, VerdictError> {
    let (version, previous, output, previous_text): (i64, Option<String>, String, Option<String>) = connection
        .query_row("SELECT version, verdict, output, final_text FROM examples WHERE id = ?1", [example], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))
        .map_err(VerdictError::store)?;
    let previous = previous.as_deref().and_then(Verdict::parse);
    if previous != Some(verdict) {
        if let Some(previous) = previous {
            let column = previous.name();
            connection.execute(&format!("UPDATE prompt_versions SET {column} = {column} - 1 WHERE id = ?1"), [version]).map_err(VerdictError::store)?;
        }
        let column = verdict.name();
        connection.execute(&format!("UPDATE prompt_versions SET {column} = {column} + 1 WHERE id = ?1"), [version]).map_err(VerdictError::store)?;
    }
    // Only an edited result keeps the user's text: accepted means the
    // answer as it was, and a rejected answer is what not to do.
    let final_text = final_text.map(|text| shaped_like_answer(&output, text));
    let text_replaced = previous == Some(Verdict::Edited) && verdict == Verdict::Edited && final_text.is_some() && final_text != previous_text;
    connection
        .execute(
            "UPDATE examples SET verdict = ?2, final_text = CASE WHEN ?2 = 'edited' THEN coalesce(?3, final_text) END,
             judged_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
            params![example, verdict.name(), final_text],
        )
        .map_err(VerdictError::store)?;
    let other_steps = answered_steps(connection, &run.invocation).map_err(VerdictError::Store)?.into_iter().filter(|s| *s != judged_step).collect();
    Ok(Judgment { run, step: judged_step, previous, verdict, text_replaced, other_steps })
}

/// An edited result with no text in it is no result.
fn refuse_empty(final_text: Option<&str>) -> Result<(), VerdictError> {
    match final_text {
        Some(text) if text.trim().is_empty() => Err(VerdictError::EmptyText),
        _ => Ok(()),
    }
}

/// The steps of a run that left an answer, in the order they ran.
fn answered_steps(connection: &rusqlite::Connection, invocation: &str) -> Result<Vec<String>, String> {
    let mut statement = connection
        .prepare_cached("SELECT step FROM runs WHERE invocation = ?1 AND outcome != 'error' GROUP BY step ORDER BY min(id)")
        .map_err(error)?;
    let rows = statement.query_map([invocation], |row| row.get(0)).map_err(error)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(error)
}

/// The user's final text in the shape of the step's own answer, so that a
/// demo made of it teaches the format the step's answers are read in:
/// fenced like the answer's code block when the answer had one (a diff's
/// fence becomes an `elixir` one: the text is the whole result), bare
/// otherwise. Text that opens with a fence is an answer already: kept as given.
pub fn shaped_like_answer(answer: &str, final_text: &str) -> String {
    let first_line = final_text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
    if !fence_openers(first_line).is_empty() {
        return final_text.to_string();
    }
    let openers = fence_openers(answer);
    let Some((marker, _)) = openers.first() else { return final_text.to_string() };
    let is_diff = |info: &str| matches!(info.split_whitespace().next(), Some("diff" | "patch" | "udiff"));
    let info = openers.iter().map(|(_, info)| info.as_str()).find(|info| !is_diff(info)).unwrap_or("elixir");
    // Longer than any run of the marker inside, so the text cannot close it.
    let inside = final_text.lines().map(|l| l.trim_start().chars().take_while(|c| c == marker).count()).max().unwrap_or(0);
    let fence = marker.to_string().repeat(inside.max(2) + 1);
    format!("{fence}{info}\n{}\n{fence}", final_text.trim_end_matches(['\n', '\r']))
}

/// The opening fences of a Markdown text (CommonMark: ``` or ~~~, at most
/// three spaces in), as (marker, info string).
fn fence_openers(text: &str) -> Vec<(char, String)> {
    let mut openers = Vec::new();
    let mut open: Option<(char, usize)> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let line = line.trim_start_matches(' ');
        let Some(marker) = line.chars().next().filter(|c| (*c == '`' || *c == '~') && indent <= 3) else { continue };
        let length = line.chars().take_while(|c| *c == marker).count();
        if length < 3 {
            continue;
        }
        let rest = line[length..].trim();
        match open {
            Some((open_marker, open_length)) if open_marker == marker && length >= open_length && rest.is_empty() => open = None,
            Some(_) => {}
            None if marker == '`' && rest.contains('`') => {}
            None => {
                open = Some((marker, length));
                openers.push((marker, rest.to_string()));
            }
        }
    }
    openers
}

/// Judged examples as JSONL rows a DSPy script loads as a trainset:
/// the inputs by name, the output under `output_field`, and the verdict
/// (`dspy.Example(**row).with_inputs(*input_names)`). Rejected examples
/// are kept so a metric can learn what not to do.
pub fn to_jsonl(examples: &[Example], output_field: &str) -> String {
    let mut out = String::new();
    for example in examples.iter().filter(|e| e.verdict.is_some()) {
        let mut row = example.inputs.clone();
        row.insert(output_field.to_string(), Value::String(example.best_output().to_string()));
        row.insert("verdict".into(), Value::String(example.verdict.map(Verdict::name).unwrap_or_default().into()));
        out.push_str(&Value::Object(row).to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::shaped_like_answer;

    #[test]
    fn a_final_text_takes_the_shape_of_the_answer_it_replaces() {
        let code = "defmodule A do\nend\n";
        assert_eq!(shaped_like_answer("Sure:\n```elixir\ndefmodule A do\nend\n```\nDone.", code), "```elixir\ndefmodule A do\nend\n```");
        assert_eq!(shaped_like_answer("~~~ex\nx\n~~~", code), "~~~ex\ndefmodule A do\nend\n~~~");
        assert_eq!(shaped_like_answer("defmodule A do\nend", code), code, "a bare answer, a bare result");
        assert_eq!(shaped_like_answer("```diff\n-a\n+b\n```", code), "```elixir\ndefmodule A do\nend\n```", "a whole text is no diff");
        assert_eq!(shaped_like_answer("```elixir\nx\n```", "```elixir\nmine\n```"), "```elixir\nmine\n```", "already fenced: as given");
    }

    #[test]
    fn a_fence_inside_the_text_cannot_close_the_one_around_it() {
        let doc = "@doc \"\"\"\n```\niex> A.f()\n```\n\"\"\"\n";
        let shaped = shaped_like_answer("```elixir\nx\n```", doc);
        assert!(shaped.starts_with("````elixir\n") && shaped.ends_with("\n````"), "{shaped}");
    }
}
