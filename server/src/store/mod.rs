//! The optimization store: an SQLite database (default
//! `.elexirion/store.db`) of prompt versions per (pipeline, step) with
//! their record, the runs that used them, and examples the user judged.
//! Writes are transactions; several processes may share it (WAL, busy
//! timeout). Opening is in `open.rs`: a busy store is reported and left
//! alone, a damaged one moved aside and a fresh store started.

pub mod costs;
pub mod dspy;
pub mod examples;
pub mod learn;
mod open;
pub mod report;
pub mod select;
mod set_aside;

pub use open::{OpenError, BUSY_WAIT};

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

/// Schema changes, applied in order; `PRAGMA user_version` counts them.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE prompt_versions (
        id INTEGER PRIMARY KEY,
        pipeline TEXT NOT NULL,
        step TEXT NOT NULL,
        instructions TEXT NOT NULL,
        fields TEXT NOT NULL,
        demos TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('manual', 'dspy', 'learned')),
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        parent INTEGER REFERENCES prompt_versions(id),
        notes TEXT
    );
    CREATE INDEX prompt_versions_by_step ON prompt_versions (pipeline, step);",
    // Each version's record is kept as counters beside it, updated in the
    // same transaction as the run or verdict, so serving reads one row.
    "ALTER TABLE prompt_versions ADD COLUMN score REAL;
    ALTER TABLE prompt_versions ADD COLUMN runs INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE prompt_versions ADD COLUMN errors INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE prompt_versions ADD COLUMN accepted INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE prompt_versions ADD COLUMN edited INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE prompt_versions ADD COLUMN rejected INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE prompt_versions ADD COLUMN latency_ms REAL NOT NULL DEFAULT 0;
    ALTER TABLE prompt_versions ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE prompt_versions ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        invocation TEXT NOT NULL,
        pipeline TEXT NOT NULL,
        step TEXT NOT NULL,
        version INTEGER NOT NULL REFERENCES prompt_versions(id),
        provider TEXT,
        model TEXT,
        latency_ms REAL NOT NULL,
        input_tokens INTEGER,
        output_tokens INTEGER,
        outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'cached', 'error')),
        error TEXT,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE INDEX runs_by_invocation ON runs (invocation);
    CREATE TABLE examples (
        id INTEGER PRIMARY KEY,
        run INTEGER NOT NULL REFERENCES runs(id),
        pipeline TEXT NOT NULL,
        step TEXT NOT NULL,
        version INTEGER NOT NULL REFERENCES prompt_versions(id),
        inputs TEXT NOT NULL,
        output TEXT NOT NULL,
        verdict TEXT CHECK (verdict IN ('accepted', 'edited', 'rejected')),
        final_text TEXT,
        judged_at TEXT
    );
    CREATE INDEX examples_by_step ON examples (pipeline, step, verdict);
    CREATE INDEX examples_by_run ON examples (run);",
    // Verdicts that cannot go astray: the file a run was on, to say which
    // run a verdict judged; and, for a cache hit, the example whose answer
    // it served again (a cache hit is no new example; judging it judges
    // that one). No REFERENCES: that example may be deleted as unusable.
    "ALTER TABLE runs ADD COLUMN file TEXT;
    ALTER TABLE runs ADD COLUMN reused_example INTEGER;",
    // What a run cost (US dollars at the prices of its day; NULL: unknown,
    // never guessed) and the mode that served it, for `store report`; how
    // many examples the last evaluation score stands on, for the selection
    // rule (`select.rs`); runs by version, for counting unusable answers.
    "ALTER TABLE runs ADD COLUMN cost_usd REAL;
    ALTER TABLE runs ADD COLUMN mode TEXT;
    ALTER TABLE prompt_versions ADD COLUMN score_examples INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX runs_by_version ON runs (version, outcome);",
    // A repair, not a schema change: a response claiming absurd token
    // counts (over 10^9 for one call) overflowed a version's totals into
    // REAL, after which nothing could read the version. Such counts, and
    // their runs' costs, become unknown; the totals of the versions they
    // touched are summed again from their runs; a cost that is not a sane
    // number of dollars (Inf, over 10^8) becomes unknown.
    "UPDATE prompt_versions SET
        input_tokens = (SELECT coalesce(sum(r.input_tokens), 0) FROM runs r WHERE r.version = prompt_versions.id AND (r.input_tokens IS NULL OR (typeof(r.input_tokens) = 'integer' AND r.input_tokens BETWEEN 0 AND 1000000000)) AND (r.output_tokens IS NULL OR (typeof(r.output_tokens) = 'integer' AND r.output_tokens BETWEEN 0 AND 1000000000))),
        output_tokens = (SELECT coalesce(sum(r.output_tokens), 0) FROM runs r WHERE r.version = prompt_versions.id AND (r.input_tokens IS NULL OR (typeof(r.input_tokens) = 'integer' AND r.input_tokens BETWEEN 0 AND 1000000000)) AND (r.output_tokens IS NULL OR (typeof(r.output_tokens) = 'integer' AND r.output_tokens BETWEEN 0 AND 1000000000)))
     WHERE typeof(input_tokens) <> 'integer' OR typeof(output_tokens) <> 'integer' OR input_tokens < 0 OR output_tokens < 0
        OR id IN (SELECT version FROM runs WHERE NOT ((input_tokens IS NULL OR (typeof(input_tokens) = 'integer' AND input_tokens BETWEEN 0 AND 1000000000)) AND (output_tokens IS NULL OR (typeof(output_tokens) = 'integer' AND output_tokens BETWEEN 0 AND 1000000000))));
    UPDATE runs SET input_tokens = NULL, output_tokens = NULL, cost_usd = NULL WHERE NOT ((input_tokens IS NULL OR (typeof(input_tokens) = 'integer' AND input_tokens BETWEEN 0 AND 1000000000)) AND (output_tokens IS NULL OR (typeof(output_tokens) = 'integer' AND output_tokens BETWEEN 0 AND 1000000000)));
    UPDATE runs SET cost_usd = NULL WHERE cost_usd IS NOT NULL AND NOT (typeof(cost_usd) IN ('real', 'integer') AND cost_usd BETWEEN 0 AND 100000000);",
];

/// The schema version a store is migrated to on opening.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// A field of a prompt: DSPy's signature fields, named.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Field {
    pub name: String,
    pub prefix: String,
    pub description: String,
    /// Inputs come before outputs.
    pub output: bool,
}

impl Field {
    /// A field known only by its name (no DSPy prefix or description).
    pub fn named(name: impl Into<String>, output: bool) -> Field {
        Field { name: name.into(), prefix: String::new(), description: String::new(), output }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewVersion {
    pub pipeline: String,
    pub step: String,
    pub instructions: String,
    pub fields: Vec<Field>,
    /// Each demo maps field names to values.
    pub demos: Vec<serde_json::Map<String, Value>>,
    pub source: String,
    pub parent: Option<i64>,
    pub notes: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PromptVersion {
    pub id: i64,
    pub created_at: String,
    pub version: NewVersion,
    pub record: Record,
}

/// A version without its prompt: enough to choose one.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub id: i64,
    pub source: String,
    pub record: Record,
}

/// What a version has done so far.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Record {
    pub runs: u64,
    pub errors: u64,
    pub accepted: u64,
    /// Accepted after the user changed the result.
    pub edited: u64,
    pub rejected: u64,
    /// Mean over the runs that reached a model.
    pub mean_latency_ms: f64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// The last evaluation score, 0 to 1.
    pub score: Option<f64>,
    /// How many examples that score was measured on.
    pub scored_examples: u64,
    /// Answers the pipeline could not use (no code, no findings, an edit
    /// that failed its checks): failures of this version, like rejections.
    pub unusable: u64,
}

impl Record {
    /// Outcomes judged by the user; an edited result counts as a success.
    pub fn successes(&self) -> u64 {
        self.accepted + self.edited
    }

    /// Posterior mean of the acceptance rate with a uniform prior.
    pub fn acceptance(&self) -> f64 {
        (self.successes() as f64 + 1.0) / ((self.successes() + self.rejected) as f64 + 2.0)
    }
}

// An unusable answer is a run that answered (only answers record a model)
// and was then marked `error` by `mark_unusable`; a failed call has no model.
const RECORD_COLUMNS: &str = "runs, errors, accepted, edited, rejected, latency_ms, input_tokens, output_tokens, score, score_examples,
    (SELECT count(*) FROM runs u WHERE u.version = prompt_versions.id AND u.outcome = 'error' AND u.model IS NOT NULL)";
const VERSION_COLUMNS: &str = "id, pipeline, step, instructions, fields, demos, source, created_at, parent, notes";

fn version_from_row(row: &rusqlite::Row) -> rusqlite::Result<PromptVersion> {
    let fields: String = row.get(4)?;
    let demos: String = row.get(5)?;
    Ok(PromptVersion {
        id: row.get(0)?,
        created_at: row.get(7)?,
        version: NewVersion {
            pipeline: row.get(1)?,
            step: row.get(2)?,
            instructions: row.get(3)?,
            fields: serde_json::from_str(&fields).unwrap_or_default(),
            demos: serde_json::from_str(&demos).unwrap_or_default(),
            source: row.get(6)?,
            parent: row.get(8)?,
            notes: row.get(9)?,
        },
        record: record_from_row(row, 10)?,
    })
}

/// The record columns (`RECORD_COLUMNS`) of a row, starting at `first`.
fn record_from_row(row: &rusqlite::Row, first: usize) -> rusqlite::Result<Record> {
    let runs = count(row, first)?;
    let errors = count(row, first + 1)?;
    let latency: f64 = row.get::<_, Option<f64>>(first + 5)?.filter(|l| l.is_finite()).unwrap_or(0.0);
    let answered = runs.saturating_sub(errors);
    Ok(Record {
        runs,
        errors,
        accepted: count(row, first + 2)?,
        edited: count(row, first + 3)?,
        rejected: count(row, first + 4)?,
        mean_latency_ms: if answered == 0 { 0.0 } else { latency / answered as f64 },
        input_tokens: count(row, first + 6)?,
        output_tokens: count(row, first + 7)?,
        score: row.get::<_, Option<f64>>(first + 8)?.filter(|s| s.is_finite()),
        scored_examples: count(row, first + 9)?,
        unusable: count(row, first + 10)?,
    })
}

/// A count read whatever SQLite made of it: an integer, a REAL (an
/// integer sum that overflowed), NULL. A negative, non-finite or absent
/// count reads as 0, a huge one as `u64::MAX`: one damaged row must not
/// make a whole store unreadable.
pub(crate) fn count(row: &rusqlite::Row, index: usize) -> rusqlite::Result<u64> {
    use rusqlite::types::ValueRef;
    Ok(match row.get_ref(index)? {
        ValueRef::Integer(n) => n.max(0) as u64,
        ValueRef::Real(x) if x.is_finite() && x > 0.0 => x as u64,
        ValueRef::Text(text) => std::str::from_utf8(text).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0),
        _ => 0,
    })
}

pub struct Store {
    connection: Connection,
}

#[derive(Debug)]
pub struct Opened {
    pub store: Store,
    /// Set when the file was damaged and was moved aside.
    pub warning: Option<String>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

fn error(e: rusqlite::Error) -> String {
    e.to_string()
}

impl Store {
    pub fn schema_version(&self) -> Result<usize, String> {
        self.connection.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(error)
    }

    /// Add versions in one transaction: all of them or none.
    pub fn add_versions(&mut self, versions: &[NewVersion]) -> Result<Vec<i64>, String> {
        let transaction = self.connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(error)?;
        let mut ids = Vec::new();
        for v in versions {
            let fields = serde_json::to_string(&v.fields).map_err(|e| e.to_string())?;
            let demos = serde_json::to_string(&v.demos).map_err(|e| e.to_string())?;
            transaction
                .execute(
                    "INSERT INTO prompt_versions (pipeline, step, instructions, fields, demos, source, parent, notes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![v.pipeline, v.step, v.instructions, fields, demos, v.source, v.parent, v.notes],
                )
                .map_err(error)?;
            ids.push(transaction.last_insert_rowid());
        }
        transaction.commit().map_err(error)?;
        Ok(ids)
    }

    /// Versions of a pipeline (one step or all), oldest first, with their record.
    pub fn versions(&self, pipeline: &str, step: Option<&str>) -> Result<Vec<PromptVersion>, String> {
        let mut statement = self
            .connection
            .prepare_cached(&format!("SELECT {VERSION_COLUMNS}, {RECORD_COLUMNS} FROM prompt_versions WHERE pipeline = ?1 AND (?2 IS NULL OR step = ?2) ORDER BY id"))
            .map_err(error)?;
        let rows = statement.query_map(params![pipeline, step], version_from_row).map_err(error)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(error)
    }

    /// A step's versions without their prompts, oldest first: what serving
    /// reads on every model call, so it stays cheap with many large versions.
    pub fn candidates(&self, pipeline: &str, step: &str) -> Result<Vec<Candidate>, String> {
        let mut statement = self
            .connection
            .prepare_cached(&format!("SELECT id, source, {RECORD_COLUMNS} FROM prompt_versions WHERE pipeline = ?1 AND step = ?2 ORDER BY id"))
            .map_err(error)?;
        let rows = statement
            .query_map(params![pipeline, step], |row| Ok(Candidate { id: row.get(0)?, source: row.get(1)?, record: record_from_row(row, 2)? }))
            .map_err(error)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(error)
    }

    /// The steps of a pipeline that have versions, by name.
    pub fn steps(&self, pipeline: &str) -> Result<Vec<String>, String> {
        let mut statement = self.connection.prepare_cached("SELECT DISTINCT step FROM prompt_versions WHERE pipeline = ?1 ORDER BY step").map_err(error)?;
        let rows = statement.query_map([pipeline], |row| row.get(0)).map_err(error)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(error)
    }

    pub fn version(&self, id: i64) -> Result<Option<PromptVersion>, String> {
        self.connection
            .query_row(&format!("SELECT {VERSION_COLUMNS}, {RECORD_COLUMNS} FROM prompt_versions WHERE id = ?1"), [id], version_from_row)
            .optional()
            .map_err(error)
    }

    /// The `manual` version holding a pipeline's own prompt for a step:
    /// the newest one if its template is unchanged, else a new one whose
    /// parent is the previous.
    pub fn manual_version(&mut self, pipeline: &str, step: &str, template: &str, fields: &[Field]) -> Result<i64, String> {
        let transaction = self.connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(error)?;
        let newest: Option<(i64, String)> = transaction
            .query_row(
                "SELECT id, instructions FROM prompt_versions WHERE pipeline = ?1 AND step = ?2 AND source = 'manual' ORDER BY id DESC LIMIT 1",
                params![pipeline, step],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(error)?;
        if let Some((id, instructions)) = &newest {
            if instructions == template {
                return Ok(*id);
            }
        }
        let fields = serde_json::to_string(fields).map_err(|e| e.to_string())?;
        transaction
            .execute(
                "INSERT INTO prompt_versions (pipeline, step, instructions, fields, demos, source, parent, notes) VALUES (?1, ?2, ?3, ?4, '[]', 'manual', ?5, 'the prompt written in the pipeline')",
                params![pipeline, step, template, fields, newest.map(|(id, _)| id)],
            )
            .map_err(error)?;
        let id = transaction.last_insert_rowid();
        transaction.commit().map_err(error)?;
        Ok(id)
    }

    /// A version's evaluation score, measured on `examples` examples.
    pub fn set_score(&mut self, version: i64, score: f64, examples: usize) -> Result<(), String> {
        self.connection
            .execute("UPDATE prompt_versions SET score = ?2, score_examples = ?3 WHERE id = ?1", params![version, score, examples as i64])
            .map(|_| ())
            .map_err(error)
    }

    /// The newest version of a step, if any.
    pub fn latest(&self, pipeline: &str, step: &str) -> Result<Option<i64>, String> {
        self.connection
            .query_row("SELECT max(id) FROM prompt_versions WHERE pipeline = ?1 AND step = ?2", params![pipeline, step], |row| row.get(0))
            .optional()
            .map(Option::flatten)
            .map_err(error)
    }
}
