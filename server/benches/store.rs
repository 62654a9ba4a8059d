//! The optimization store: how fast a prompt is served with 10,000
//! examples and 100 versions, how big the file grows per 1,000 examples,
//! and how quickly hybrid mode settles on the better of two prompts.
//! `cargo bench --bench store` prints the figures.

use std::time::Instant;

use elexirion::pipeline::run::{chat_adapter, prompt_fields};
use elexirion::store::examples::{Outcome, RunRecord, Verdict};
use elexirion::store::select::{self, Mode};
use elexirion::store::{NewVersion, Store};
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

const TEMPLATE: &str = "Rewrite this module:\n{{editor.code}}";

fn code(i: usize) -> String {
    format!("defmodule App.Worker{i} do\n  use GenServer\n\n{}end\n", "  def handle_call(:get, _from, state), do: {:reply, state, state}\n".repeat(20))
}

fn record(version: i64, i: usize) -> RunRecord {
    let mut inputs = Map::new();
    inputs.insert("code".into(), Value::String(code(i)));
    RunRecord {
        invocation: format!("run-{i}"),
        pipeline: "fix".into(),
        step: "rewrite".into(),
        version,
        provider: Some("anthropic".into()),
        model: Some("claude-sonnet-4-5".into()),
        latency_ms: 1200.0,
        input_tokens: Some(900),
        output_tokens: Some(700),
        outcome: Outcome::Answered,
        example: Some((inputs, code(i + 1))),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut store = Store::open(&path).unwrap().store;
    let manual = store.manual_version("fix", "rewrite", TEMPLATE, &prompt_fields(TEMPLATE)).unwrap();
    let demo: Map<String, Value> = json!({ "code": code(0), "response": code(1) }).as_object().unwrap().clone();
    let versions: Vec<NewVersion> = (0..99)
        .map(|i| NewVersion {
            pipeline: "fix".into(),
            step: "rewrite".into(),
            instructions: format!("Rewrite the module (variant {i})."),
            fields: prompt_fields(TEMPLATE),
            demos: vec![demo.clone(); 3],
            source: "learned".into(),
            parent: Some(manual),
            notes: None,
        })
        .collect();
    let ids = [vec![manual], store.add_versions(&versions).unwrap()].concat();

    // 10,000 examples, all judged, spread over the versions; one file size per 1,000.
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let started = Instant::now();
    let mut sizes = Vec::new();
    for i in 0..10_000 {
        let version = ids[i % ids.len()];
        store.record_run(&record(version, i)).unwrap();
        let verdict = if rng.random::<f64>() < 0.6 { Verdict::Accepted } else { Verdict::Rejected };
        store.set_verdict(&format!("run-{i}"), verdict, None).unwrap();
        if (i + 1) % 1000 == 0 {
            sizes.push(file_size(&path));
        }
    }
    let writing = started.elapsed();
    let per_thousand = (sizes[9] - sizes[0]) as f64 / 9.0;
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    drop(connection);
    let checkpointed = file_size(&path);
    println!("store: 10,000 runs + examples + verdicts written in {:.1} s ({:.2} ms per run and verdict)", writing.as_secs_f64(), writing.as_secs_f64() * 1000.0 / 10_000.0);
    println!(
        "store: {:.1} MiB for 10,000 examples after a checkpoint ({:.0} KiB per 1,000; growth with the WAL {:.0} KiB per 1,000), each ~{} bytes of code in and ~{} out",
        checkpointed as f64 / 1048576.0,
        checkpointed as f64 / 10.0 / 1024.0,
        per_thousand / 1024.0,
        code(0).len(),
        code(1).len()
    );

    // Serving: what the runner does per model step (its manual version, the
    // step's versions, the mode's choice) plus rendering the chosen one.
    let mut inputs = Map::new();
    inputs.insert("code".into(), Value::String(code(3)));
    for mode in [Mode::Optimized, Mode::Hybrid] {
        let mut times = Vec::new();
        for _ in 0..2_000 {
            let t = Instant::now();
            let manual = store.manual_version("fix", "rewrite", TEMPLATE, &prompt_fields(TEMPLATE)).unwrap();
            let candidates = store.candidates("fix", "rewrite").unwrap();
            let chosen = select::choose(mode, &candidates, &mut rng).unwrap();
            let rendered = if chosen.id == manual { None } else { Some(chat_adapter::render(&store.version(chosen.id).unwrap().unwrap().version, &inputs).unwrap()) };
            std::hint::black_box(rendered);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "serve ({} mode, 100 versions with 3 demos each, 10,000 examples): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            mode.name(),
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times[times.len() - 1]
        );
    }
    drop(store);
    hybrid_convergence();
}

fn file_size(path: &std::path::Path) -> u64 {
    let wal = std::fs::metadata(format!("{}-wal", path.display())).map(|m| m.len()).unwrap_or(0);
    std::fs::metadata(path).unwrap().len() + wal
}

/// Two versions accepted 30% and 70% of the time; 20 seeds of 300 runs.
fn hybrid_convergence() {
    let rounds = 300;
    let seeds = 20;
    let mut to_better = vec![0usize; rounds];
    for seed in 0..seeds {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("store.db")).unwrap().store;
        let worse = store.manual_version("fix", "rewrite", TEMPLATE, &prompt_fields(TEMPLATE)).unwrap();
        let mut learned = store.version(worse).unwrap().unwrap().version;
        learned.source = "learned".into();
        let better = store.add_versions(&[learned]).unwrap()[0];
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for (round, count) in to_better.iter_mut().enumerate() {
            let candidates = store.candidates("fix", "rewrite").unwrap();
            let chosen = select::choose(Mode::Hybrid, &candidates, &mut rng).unwrap().id;
            store.record_run(&record(chosen, round)).unwrap();
            let rate = if chosen == better { 0.7 } else { 0.3 };
            let verdict = if rng.random::<f64>() < rate { Verdict::Accepted } else { Verdict::Rejected };
            store.set_verdict(&format!("run-{round}"), verdict, None).unwrap();
            *count += usize::from(chosen == better);
        }
    }
    let share = |from: usize, to: usize| to_better[from..to].iter().sum::<usize>() as f64 / ((to - from) * seeds as usize) as f64 * 100.0;
    let settled = (0..rounds - 20).find(|&r| share(r, r + 20) >= 90.0);
    println!(
        "hybrid (accept rates 0.3 vs 0.7, {seeds} seeds): better version served {:.0}% of runs 1-20, {:.0}% of 21-50, {:.0}% of 51-100, {:.0}% of 201-300; 90% share reached from run {}",
        share(0, 20),
        share(20, 50),
        share(50, 100),
        share(200, 300),
        settled.map_or("never".to_string(), |r| (r + 1).to_string())
    );
}
