//! Runs and examples: every model call a pipeline makes is a run of one
//! prompt version; a run that answered leaves an example (the inputs the
//! step received and its output) for the user's verdict to judge later.

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
        transaction
            .execute(
                "INSERT INTO runs (invocation, pipeline, step, version, provider, model, latency_ms, input_tokens, output_tokens, outcome, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![run.invocation, run.pipeline, run.step, run.version, run.provider, run.model, run.latency_ms, run.input_tokens, run.output_tokens, outcome, failure],
            )
            .map_err(error)?;
        let id = transaction.last_insert_rowid();
        if let Some((inputs, output)) = &run.example {
            let inputs = serde_json::to_string(inputs).map_err(|e| e.to_string())?;
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
        transaction.execute("UPDATE runs SET outcome = 'error', error = ?2 WHERE id = ?1", params![run, why]).map_err(error)?;
        transaction.execute("UPDATE prompt_versions SET errors = errors + 1 WHERE id = ?1", [version]).map_err(error)?;
        transaction.execute("DELETE FROM examples WHERE run = ?1", [run]).map_err(error)?;
        transaction.commit().map_err(error)?;
        Ok(true)
    }

    /// Judge every example of one pipeline run. `final_text` is the user's
    /// edited result and belongs to the run's last step. Judging again
    /// (an accepted edit later undone) moves the counts. Returns how many
    /// examples were judged.
    pub fn set_verdict(&mut self, invocation: &str, verdict: Verdict, final_text: Option<&str>) -> Result<usize, String> {
        let transaction = self.connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(error)?;
        let judged: Vec<(i64, i64, Option<String>)> = {
            let mut statement = transaction
                .prepare("SELECT e.id, e.version, e.verdict FROM examples e JOIN runs r ON r.id = e.run WHERE r.invocation = ?1 ORDER BY e.id")
                .map_err(error)?;
            let rows = statement.query_map([invocation], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?))).map_err(error)?;
            rows.collect::<Result<_, _>>().map_err(error)?
        };
        let last = judged.last().map(|(id, _, _)| *id);
        for (example, version, previous) in &judged {
            if let Some(previous) = previous.as_deref() {
                transaction.execute(&format!("UPDATE prompt_versions SET {previous} = {previous} - 1 WHERE id = ?1"), [version]).map_err(error)?;
            }
            transaction.execute(&format!("UPDATE prompt_versions SET {0} = {0} + 1 WHERE id = ?1", verdict.name()), [version]).map_err(error)?;
            let text = if Some(*example) == last { final_text } else { None };
            transaction
                .execute(
                    "UPDATE examples SET verdict = ?2, final_text = coalesce(?3, final_text), judged_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
                    params![example, verdict.name(), text],
                )
                .map_err(error)?;
        }
        transaction.commit().map_err(error)?;
        Ok(judged.len())
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

    /// The newest invocation of a pipeline, for judging "the last run".
    pub fn last_invocation(&self, pipeline: &str) -> Result<Option<String>, String> {
        self.connection
            .query_row("SELECT invocation FROM runs WHERE pipeline = ?1 ORDER BY id DESC LIMIT 1", [pipeline], |row| row.get(0))
            .optional()
            .map_err(error)
    }
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
