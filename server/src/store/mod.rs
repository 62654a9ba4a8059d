//! The optimization store: an SQLite database (default
//! `.elexirion/store.db`) of prompt versions per (pipeline, step). Writes
//! are transactions; several processes may share it (WAL, busy timeout);
//! a corrupt file is moved aside and a fresh store started.

pub mod dspy;

use std::path::{Path, PathBuf};
use std::time::Duration;

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
];

/// A field of a prompt: DSPy's signature fields, named.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Field {
    pub name: String,
    pub prefix: String,
    pub description: String,
    /// Inputs come before outputs.
    pub output: bool,
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
}

pub struct Store {
    connection: Connection,
}

#[derive(Debug)]
pub struct Opened {
    pub store: Store,
    /// Set when the file was unreadable and was moved aside.
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
    /// Open (creating) the store at `path`. A file that is not a healthy
    /// SQLite database is renamed `*.corrupt-<time>` and replaced.
    pub fn open(path: &Path) -> Result<Opened, String> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        match Store::open_healthy(path) {
            Ok(store) => Ok(Opened { store, warning: None }),
            Err(problem) => {
                let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
                let aside = PathBuf::from(format!("{}.corrupt-{stamp}", path.display()));
                std::fs::rename(path, &aside).map_err(|e| format!("{}: unreadable ({problem}) and cannot be moved aside: {e}", path.display()))?;
                for suffix in ["-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
                let store = Store::open_healthy(path)?;
                let warning = format!("the store {} was unreadable ({problem}); it was moved to {} and a new one started", path.display(), aside.display());
                Ok(Opened { store, warning: Some(warning) })
            }
        }
    }

    fn open_healthy(path: &Path) -> Result<Store, String> {
        let connection = Connection::open(path).map_err(error)?;
        connection.busy_timeout(Duration::from_secs(10)).map_err(error)?;
        let check: String = connection.query_row("PRAGMA quick_check", [], |row| row.get(0)).map_err(error)?;
        if check != "ok" {
            return Err(check);
        }
        connection.pragma_update(None, "journal_mode", "WAL").map_err(error)?;
        connection.pragma_update(None, "foreign_keys", true).map_err(error)?;
        let mut store = Store { connection };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), String> {
        let transaction = self.connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(error)?;
        let applied: usize = transaction.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(error)?;
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
            transaction.execute_batch(migration).map_err(|e| format!("migration {}: {e}", index + 1))?;
            transaction.pragma_update(None, "user_version", index + 1).map_err(error)?;
        }
        transaction.commit().map_err(error)
    }

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

    /// Versions of a pipeline (one step or all), oldest first.
    pub fn versions(&self, pipeline: &str, step: Option<&str>) -> Result<Vec<PromptVersion>, String> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT id, pipeline, step, instructions, fields, demos, source, created_at, parent, notes FROM prompt_versions
                 WHERE pipeline = ?1 AND (?2 IS NULL OR step = ?2) ORDER BY id",
            )
            .map_err(error)?;
        let rows = statement
            .query_map(params![pipeline, step], |row| {
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
                })
            })
            .map_err(error)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(error)
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
