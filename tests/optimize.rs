//! `optimize/optimize_step.py` end to end, offline: examples recorded by
//! real runs are exported, compiled by DSPy (BootstrapFewShot with its
//! DummyLM), saved, imported, and the runner's next prompt holds the demos.
//! Needs a Python with DSPy: `ELEXIRION_PYTHON`, else `python3`
//! (`scripts/test` makes one from optimize/requirements.txt).

#[path = "support/http.rs"]
mod http;
mod support;

use std::path::Path;
use std::process::{Command, Output};

fn elexirion(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(support::binary()).args(args).current_dir(dir).output().unwrap();
    assert!(output.status.success(), "elexirion {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output
}

/// One claude step whose prompt names one input, `name`.
const PIPELINE: &str = include_str!("fixtures/pipelines/rename.yaml");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dspy_compiles_recorded_examples_into_demos_the_runner_sends() {
    static SCRIPT: &[(&str, &str)] = &[("for do_it", "send_invoice"), ("for calc", "total_price"), ("for x", "retries")];
    let server = http::scripted_model(SCRIPT, std::time::Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    let config = format!("[providers]\nclaude = [\"openai\"]\nmax-retries = 0\n[providers.base-urls]\nopenai = \"{}\"\n", server.url);
    std::fs::write(dir.path().join("elexirion.toml"), config).unwrap();
    std::fs::create_dir_all(dir.path().join("pipelines")).unwrap();
    std::fs::write(dir.path().join("pipelines/rename.yaml"), PIPELINE).unwrap();

    for (name, verdict) in [("do_it", "accepted"), ("calc", "accepted"), ("x", "rejected")] {
        let dir = dir.path().to_path_buf();
        let input = format!("name={name}");
        tokio::task::spawn_blocking(move || {
            elexirion(&dir, &["pipeline", "run", "pipelines/rename.yaml", "--input", &input]);
            elexirion(&dir, &["store", "verdict", verdict, "--pipeline", "rename"]);
        })
        .await
        .unwrap();
    }

    let python = std::env::var("ELEXIRION_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../optimize/optimize_step.py");
    let program = dir.path().join("program.json");
    let output = Command::new(&python)
        .arg(&script)
        .args(["--pipeline", "rename", "--step", "suggest", "--dummy-lm", "--max-demos", "2", "--output"])
        .arg(&program)
        .arg("--elexirion")
        .arg(support::binary())
        .current_dir(dir.path())
        .env("DSPY_CACHEDIR", dir.path().join("dspy-cache"))
        .output()
        .unwrap_or_else(|e| panic!("{python}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{python} optimize_step.py: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("(2 demos)") && stdout.contains("imported rename / suggest as version 2 (2 demos)"), "{stdout}");

    // What DSPy saved: our instructions (the pipeline's prompt, inputs named), the accepted results as demos.
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&program).unwrap()).unwrap();
    assert_eq!(saved["signature"]["instructions"], "Suggest a better name for `name`");
    let demos: Vec<(&str, &str)> = saved["demos"].as_array().unwrap().iter().map(|d| (d["name"].as_str().unwrap(), d["response"].as_str().unwrap())).collect();
    assert_eq!(demos.len(), 2);
    assert!(demos.contains(&("do_it", "send_invoice")) && demos.contains(&("calc", "total_price")), "{demos:?}");

    // Optimized mode serves it once it has evidence (here: an evaluation's score).
    elexirion::store::Store::open(&dir.path().join(".elexirion/store.db")).unwrap().store.set_score(2, 0.9, 10).unwrap();
    let dir_path = dir.path().to_path_buf();
    let optimized = tokio::task::spawn_blocking(move || elexirion(&dir_path, &["pipeline", "run", "pipelines/rename.yaml", "--input", "name=go", "--mode", "optimized"]))
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&optimized.stderr).contains("suggest: prompt version 2 (dspy)"));
    let sent = server.requests().last().unwrap().json();
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 6, "system, two demos, the input: {sent:#}");
    let users: Vec<&str> = messages.iter().filter(|m| m["role"] == "user").map(|m| m["content"].as_str().unwrap()).collect();
    assert!(users.contains(&"[[ ## name ## ]]\ndo_it") && users.contains(&"[[ ## name ## ]]\ncalc"), "{users:?}");
    assert!(users[2].starts_with("[[ ## name ## ]]\ngo\n\n"), "{users:?}");
}
