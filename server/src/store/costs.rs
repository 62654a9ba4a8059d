//! What each run cost and which mode served it: written beside the run
//! `record_run` made, read back by `store report`.

use rusqlite::params;

use super::{error, Store};

impl Store {
    /// Set a recorded run's mode and cost (`None`: unknown, left NULL).
    pub fn annotate_run(&mut self, run: i64, mode: &str, cost_usd: Option<f64>) -> Result<(), String> {
        self.connection
            .execute("UPDATE runs SET mode = ?2, cost_usd = ?3 WHERE id = ?1", params![run, mode, cost_usd])
            .map(|_| ())
            .map_err(error)
    }
}
