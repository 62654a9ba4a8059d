//! How the benches time things: the median and 95th percentile of repeated
//! calls, printed in milliseconds. Included by each bench with `#[path]`.

use std::time::{Duration, Instant};

/// Median and 95th percentile of `runs` timed calls, after `warm_up`
/// untimed ones (caches, allocators, the parser's first use).
pub fn measure(warm_up: usize, runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    for _ in 0..warm_up {
        f();
    }
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[runs / 2], times[(runs * 95 / 100).min(runs - 1)])
}

pub fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}
