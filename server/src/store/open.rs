//! Opening the store. Busy is not corrupt: a store another process holds
//! is waited for, then reported busy and left alone. Only a file SQLite
//! itself finds damaged is set aside and replaced; any other failure
//! (permissions, I/O, a full disk, a schema the migrations do not fit) is
//! an error that moves nothing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, TransactionBehavior};

use super::{set_aside, Opened, Store, MIGRATIONS};

/// How long an open waits for another process's lock. Our write
/// transactions last milliseconds, so this is only reached when a store is
/// held by something stuck, and an editor action should not hang longer.
pub const BUSY_WAIT: Duration = Duration::from_secs(10);

/// Between attempts when SQLite reports a lock without waiting for it
/// (`SQLITE_LOCKED`, or a busy it has no handler for).
const RETRY_PAUSE: Duration = Duration::from_millis(50);

#[derive(Debug)]
pub enum OpenError {
    /// Another process held the store for the whole wait; it is untouched.
    Busy(PathBuf),
    /// The store cannot be used; it is untouched.
    Failed(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Busy(path) => write!(f, "the store {} is busy (locked by another process)", path.display()),
            OpenError::Failed(problem) => f.write_str(problem),
        }
    }
}

impl std::error::Error for OpenError {}

impl From<OpenError> for String {
    fn from(error: OpenError) -> String {
        error.to_string()
    }
}

/// Why one attempt to open failed.
enum Problem {
    Busy,
    Corrupt(String),
    Failed(String),
}

impl From<rusqlite::Error> for Problem {
    fn from(e: rusqlite::Error) -> Problem {
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Problem::Busy,
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => Problem::Corrupt(e.to_string()),
            _ => Problem::Failed(e.to_string()),
        }
    }
}

impl Store {
    /// Open (creating) the store at `path`, waiting up to `BUSY_WAIT` for
    /// another process's lock. A file SQLite finds damaged is moved to
    /// `*.corrupt-<time>` (with its `-wal`/`-shm`) and replaced.
    pub fn open(path: &Path) -> Result<Opened, OpenError> {
        Store::open_waiting(path, BUSY_WAIT)
    }

    /// `open`, waiting at most `busy_wait` for another process's lock.
    pub fn open_waiting(path: &Path, busy_wait: Duration) -> Result<Opened, OpenError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| OpenError::Failed(format!("{}: {e}", parent.display())))?;
        }
        match open_within(path, busy_wait) {
            Ok(store) => return Ok(Opened { store, warning: None }),
            Err(Problem::Busy) => return Err(refused(path, Problem::Busy)),
            // Damaged, or an I/O error from racing another process that is
            // setting the file aside right now: decided again under the lock.
            Err(_) => {}
        }
        // Several processes may find the same damaged file. One at a time
        // looks again under a lock: the first sets it aside and starts a new
        // store; the others find that new store healthy and open it.
        let lock_path = PathBuf::from(format!("{}.lock", path.display()));
        let lock = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(|e| OpenError::Failed(format!("{}: {e}", lock_path.display())))?;
        lock.lock().map_err(|e| OpenError::Failed(format!("{}: {e}", lock_path.display())))?;
        let damage = match open_within(path, busy_wait) {
            Ok(store) => return Ok(Opened { store, warning: None }),
            Err(Problem::Corrupt(damage)) => damage,
            Err(problem) => return Err(refused(path, problem)),
        };
        let aside = set_aside::move_aside(path)
            .map_err(|e| OpenError::Failed(format!("{}: damaged ({damage}) and cannot be moved aside: {e}", path.display())))?;
        let store = open_within(path, busy_wait).map_err(|problem| refused(path, problem))?;
        let warning = format!("the store {} was unreadable ({damage}); it was moved to {} and a new one started", path.display(), aside.display());
        Ok(Opened { store, warning: Some(warning) })
    }

    fn open_healthy(path: &Path, busy_wait: Duration) -> Result<Store, Problem> {
        let connection = Connection::open(path)?;
        connection.busy_timeout(busy_wait)?;
        let check: String = connection.query_row("PRAGMA quick_check", [], |row| row.get(0))?;
        if check != "ok" {
            return Err(Problem::Corrupt(check));
        }
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "foreign_keys", true)?;
        let mut store = Store { connection };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), Problem> {
        // Most opens find the store current; reading that takes no write
        // lock, so a store another process is writing opens at once.
        let applied: usize = self.connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if applied >= MIGRATIONS.len() {
            return Ok(());
        }
        let transaction = self.connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Again under the lock: another process may have migrated meanwhile.
        let applied: usize = transaction.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
            transaction.execute_batch(migration).map_err(|e| match Problem::from(e) {
                Problem::Failed(problem) => Problem::Failed(format!("migration {}: {problem}", index + 1)),
                other => other,
            })?;
            transaction.pragma_update(None, "user_version", index + 1)?;
        }
        Ok(transaction.commit()?)
    }
}

/// Open, trying again while the store is busy until `busy_wait` has passed.
/// SQLite's busy handler does most of the waiting; the loop covers the
/// locks it reports at once.
fn open_within(path: &Path, busy_wait: Duration) -> Result<Store, Problem> {
    let deadline = Instant::now() + busy_wait;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match Store::open_healthy(path, remaining) {
            Err(Problem::Busy) if !remaining.is_zero() => std::thread::sleep(RETRY_PAUSE.min(remaining)),
            result => return result,
        }
    }
}

fn refused(path: &Path, problem: Problem) -> OpenError {
    match problem {
        Problem::Busy => OpenError::Busy(path.to_path_buf()),
        // Damaged again right after a fresh start: not something moving fixes.
        Problem::Corrupt(problem) | Problem::Failed(problem) => OpenError::Failed(format!("{}: {problem}", path.display())),
    }
}
