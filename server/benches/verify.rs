//! What checking an AI edit costs: reading the answer and verifying the
//! rewrite (syntax, public API, our own rules before and after) for a
//! 1,000-line file, the size the verification must stay under 20 ms for.
//! `cargo bench --bench verify` prints the figures.

use std::hint::black_box;

use elexirion::elixir::AnalysisOptions;
use elexirion::pipeline::answer::read_rewrite;
use elexirion::pipeline::verify::verify;

#[path = "support/timing.rs"]
mod timing;
use timing::ms;

/// A module of `functions` GenServer-style clauses: about 5 lines each.
fn module(functions: usize) -> String {
    let mut text = String::from("defmodule Bench.Big do\n  use GenServer\n\n  @impl true\n  def init(state), do: {:ok, state}\n\n");
    for n in 0..functions {
        text.push_str(&format!(
            "  def get_{n}(server), do: GenServer.call(server, {{:get, {n}}}, :infinity)\n\n  @impl true\n  def handle_call({{:get, {n}}}, _from, state), do: {{:reply, Map.get(state, {n}), state}}\n\n"
        ));
    }
    text.push_str("end\n");
    text
}

/// Time `work` and print its median and 95th percentile.
fn measure(label: &str, runs: usize, work: impl FnMut()) {
    let (median, p95) = timing::measure(0, runs, work);
    println!("{label}: median {}, p95 {} ({runs} runs)", ms(median), ms(p95));
}

fn main() {
    let before = module(200);
    let after = before.replacen(":infinity)", "5_000)", 1);
    let lines = before.lines().count();
    let answer = format!("Here is the fix:\n\n```elixir\n{after}```\n\nThe call now times out after 5 s.");
    println!("file: {lines} lines, {} KiB", before.len() / 1024);
    let options = AnalysisOptions::default();
    measure("read the answer (fences, structure)", 50, || {
        black_box(read_rewrite(black_box(&answer), &before).unwrap());
    });
    measure("verify the rewrite (syntax, public API, rules before/after)", 50, || {
        black_box(verify(black_box(&before), &after, &options, false).unwrap());
    });
    let verification = verify(&before, &after, &options, false).unwrap();
    println!("verification: {}", verification.summary());
}
