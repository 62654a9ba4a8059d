//! What each run cost and which mode served it: written beside the run
//! `record_run` made, read back by `store report`.

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::{error, Store};

impl Store {
    /// Set a recorded run's mode and cost (`None`: unknown, left NULL; so
    /// is a cost that is not a finite number of dollars).
    pub fn annotate_run(&mut self, run: i64, mode: &str, cost_usd: Option<f64>) -> Result<(), String> {
        let cost_usd = cost_usd.filter(|usd| usd.is_finite() && *usd >= 0.0);
        self.connection
            .execute("UPDATE runs SET mode = ?2, cost_usd = ?3 WHERE id = ?1", params![run, mode, cost_usd])
            .map(|_| ())
            .map_err(error)
    }

    /// Add one more model call (a repair request) to the newest recorded
    /// run of `step` in `invocation`: its tokens to the run's and its
    /// version's counts, its cost to the run's. The run's cost stays known
    /// only if both are. Nothing happens when the run was not recorded.
    pub fn add_call_to_run(&mut self, invocation: &str, step: &str, tokens: Option<(u64, u64)>, cost_usd: Option<f64>) -> Result<(), String> {
        let tokens = crate::pipeline::providers::prices::plausible_tokens(tokens);
        let cost_usd = cost_usd.filter(|usd| usd.is_finite() && *usd >= 0.0);
        let transaction = self.connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(error)?;
        let run: Option<(i64, i64)> = transaction
            .query_row("SELECT id, version FROM runs WHERE invocation = ?1 AND step = ?2 ORDER BY id DESC LIMIT 1", params![invocation, step], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
            .map_err(error)?;
        let Some((run, version)) = run else { return Ok(()) };
        let (input, output) = match tokens {
            Some((input, output)) => (Some(input as i64), Some(output as i64)),
            None => (None, None),
        };
        transaction
            .execute(
                "UPDATE runs SET input_tokens = CASE WHEN ?2 IS NULL THEN input_tokens ELSE coalesce(input_tokens, 0) + ?2 END,
                    output_tokens = CASE WHEN ?3 IS NULL THEN output_tokens ELSE coalesce(output_tokens, 0) + ?3 END,
                    cost_usd = CASE WHEN cost_usd IS NULL OR ?4 IS NULL THEN NULL ELSE cost_usd + ?4 END
                 WHERE id = ?1",
                params![run, input, output, cost_usd],
            )
            .map_err(error)?;
        transaction
            .execute(
                "UPDATE prompt_versions SET input_tokens = input_tokens + ?2, output_tokens = output_tokens + ?3 WHERE id = ?1",
                params![version, input.unwrap_or(0), output.unwrap_or(0)],
            )
            .map_err(error)?;
        transaction.commit().map_err(error)
    }
}
