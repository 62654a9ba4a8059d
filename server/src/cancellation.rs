//! A flag that long work checks between steps, so that a result nobody
//! will read (the document changed since) stops costing time and memory.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Clones share the flag; the default is never cancelled.
#[derive(Clone, Debug, Default)]
pub struct Cancellation(Arc<AtomicBool>);

impl Cancellation {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
