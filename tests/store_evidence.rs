//! The learning loop's data, end to end (the real binary, a scripted model
//! on 127.0.0.1, a workspace in a temporary directory): optimized mode
//! chooses by evidence, evaluation asks anew and never scores a version on
//! its own demos, unusable answers count against their version, a DSPy
//! program that fits no step is refused, and runs say what they cost.

#[path = "support/http.rs"]
mod http;
mod support;

use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};

/// An analysis pipeline: its answer must be findings JSON.
const SCAN: &str = "workflow:
  name: scan
  editor:
    title: Scan
    kind: analysis
    scope: file
    languages: [elixir]
    inputs:
      name: \"{{editor.path}}\"
  steps:
    - name: findings
      type: claude
      prompt:
        - type: static
          content: \"List the issues for {{inputs.name}}\"
";

/// The written prompt gets findings; a prompt sent the way DSPy's
/// ChatAdapter sends it (a stored version) gets prose the editor cannot use.
static SCRIPT: &[(&str, &str)] = &[("[[ ## name ## ]]", "Nothing to report."), ("lib/bad.ex", "Nothing to report."), ("for ", "{\"findings\": []}")];

const NAMES: &[&str] = &["alpha", "beta", "gamma", "delta", "epsilon"];

fn workspace(server_url: &str, prices: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = format!("[providers]\nclaude = [\"openai\"]\nmax-retries = 0\n[providers.base-urls]\nopenai = \"{server_url}\"\n{prices}");
    std::fs::write(dir.path().join("elexirion.toml"), config).unwrap();
    std::fs::create_dir_all(dir.path().join("pipelines")).unwrap();
    std::fs::write(dir.path().join("pipelines/scan.yaml"), SCAN).unwrap();
    dir
}

async fn elexirion(dir: &Path, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(support::binary());
    command.args(args).current_dir(dir);
    for variable in ["ANTHROPIC_API_KEY", "GEMINI_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "GEMINI_BASE_URL", "OPENAI_BASE_URL"] {
        command.env_remove(variable);
    }
    command.output().await.unwrap()
}

async fn succeeds(dir: &Path, args: &[&str]) -> Output {
    let output = elexirion(dir, args).await;
    assert!(output.status.success(), "elexirion {args:?}: {}", text(&output.stderr));
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// Five accepted runs of the written prompt, then a learned version that
/// takes three of them as demos.
async fn judged_and_learned(dir: &Path) {
    for name in NAMES {
        succeeds(dir, &["pipeline", "run", "pipelines/scan.yaml", "--input", &format!("name={name}")]).await;
        succeeds(dir, &["store", "verdict", "accepted", "--pipeline", "scan"]).await;
    }
    let learned = succeeds(dir, &["store", "learn", "--pipeline", "scan"]).await;
    assert!(text(&learned.stdout).contains("learned version 2 (3 demos from 5 accepted examples)"), "{}", text(&learned.stdout));
}

fn demo_names(dir: &Path) -> Vec<String> {
    let store = elexirion::store::Store::open(&dir.join(".elexirion/store.db")).unwrap().store;
    let learned = store.version(2).unwrap().unwrap();
    learned.version.demos.iter().map(|d| d["name"].as_str().unwrap().to_string()).collect()
}

async fn evaluate(dir: &Path) -> Value {
    let output = succeeds(dir, &["pipeline", "run", "pipelines/scan.yaml", "--mode", "evaluation", "--json"]).await;
    serde_json::from_str(&text(&output.stdout)).unwrap()
}

/// Issue 14: optimized mode served a learned version evaluation scored
/// below the written prompt, which users had accepted. Now it serves what
/// the evidence supports, the written prompt included.
#[tokio::test]
async fn optimized_mode_keeps_the_written_prompt_over_an_unproven_or_worse_version() {
    let server = http::scripted_model(SCRIPT, std::time::Duration::ZERO).await;
    let dir = workspace(&server.url, "");
    judged_and_learned(dir.path()).await;

    let before = succeeds(dir.path(), &["pipeline", "run", "pipelines/scan.yaml", "--input", "name=zeta", "--mode", "optimized"]).await;
    let stderr = text(&before.stderr);
    assert!(stderr.contains("findings: prompt version 1 (manual)"), "{stderr}");
    assert!(stderr.contains("optimized mode keeps the written prompt: version 2 (learned) has 0 of the 5 verdicts or evaluated examples it needs"), "{stderr}");

    // Evaluation: the written prompt scores 1.0 on 5 examples; the learned
    // version's 2 held-out answers cannot be used. Still the written prompt.
    evaluate(dir.path()).await;
    let after = succeeds(dir.path(), &["pipeline", "run", "pipelines/scan.yaml", "--input", "name=eta", "--mode", "optimized"]).await;
    assert!(text(&after.stderr).contains("findings: prompt version 1 (manual)"), "{}", text(&after.stderr));
    let report: Value = serde_json::from_str(&text(&succeeds(dir.path(), &["store", "report", "--pipeline", "scan", "--json"]).await.stdout)).unwrap();
    let recommendation = &report["steps"][0]["recommendation"];
    assert_eq!(recommendation["action"], "keep-testing-in-hybrid", "{recommendation:#}");
    assert!(recommendation["reason"].as_str().unwrap().contains("version 2 (learned) has 2 of the 5 trials"), "{recommendation:#}");
}

/// Evaluation reused cached answers and scored learned versions on their
/// own demos. Now every version answers anew, on held-out examples only.
#[tokio::test]
async fn evaluation_asks_the_model_anew_and_never_scores_a_version_on_its_own_demos() {
    let server = http::scripted_model(SCRIPT, std::time::Duration::ZERO).await;
    let dir = workspace(&server.url, "");
    judged_and_learned(dir.path()).await;
    let demos = demo_names(dir.path());
    assert_eq!(demos.len(), 3);

    let asked_before = server.requests().len();
    let scores = evaluate(dir.path()).await;
    let asked: Vec<Value> = server.requests()[asked_before..].iter().map(|r| r.json()).collect();
    assert_eq!(asked.len(), 5 + 2, "the written prompt on all 5 accepted examples (their answers are cached), the learned version on the 2 that are not its demos");
    let versions = scores[0]["scores"].as_array().unwrap();
    assert_eq!((versions[0]["version"].clone(), versions[0]["examples"].clone(), versions[0]["held_out_demos"].clone()), (json!(1), json!(5), json!(0)));
    assert_eq!(versions[0]["score"], 1.0);
    assert_eq!((versions[1]["version"].clone(), versions[1]["examples"].clone(), versions[1]["held_out_demos"].clone()), (json!(2), json!(2), json!(3)));
    let learned_inputs: Vec<String> = asked
        .iter()
        .filter_map(|body| body["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().strip_prefix("[[ ## name ## ]]\n").map(|rest| rest.lines().next().unwrap().to_string()))
        .collect();
    assert_eq!(learned_inputs.len(), 2);
    assert!(learned_inputs.iter().all(|name| !demos.contains(name)), "asked {learned_inputs:?}, demos {demos:?}");
}

/// An answer that could not be used did not count against its version.
/// Now it is a failure: in evaluation (score 0) and in the version's record.
#[tokio::test]
async fn unusable_answers_count_as_failures_of_their_version() {
    let server = http::scripted_model(SCRIPT, std::time::Duration::ZERO).await;
    let dir = workspace(&server.url, "");
    judged_and_learned(dir.path()).await;
    let scores = evaluate(dir.path()).await;
    let learned = &scores[0]["scores"][1];
    assert_eq!((learned["failures"].clone(), learned["score"].clone()), (json!(2), json!(0.0)), "{learned:#}");
    assert!(learned["problems"][0].as_str().unwrap().contains("finding"), "the editor's own reading refused it: {learned:#}");

    // A run on a file whose answer the editor cannot use.
    std::fs::create_dir_all(dir.path().join("lib")).unwrap();
    std::fs::write(dir.path().join("lib/bad.ex"), "defmodule Bad do\nend\n").unwrap();
    let refused = elexirion(dir.path(), &["pipeline", "run", "pipelines/scan.yaml", "--file", "lib/bad.ex"]).await;
    assert!(!refused.status.success());
    let report: Value = serde_json::from_str(&text(&succeeds(dir.path(), &["store", "report", "--pipeline", "scan", "--json"]).await.stdout)).unwrap();
    let written = &report["steps"][0]["versions"][0];
    assert_eq!(written["figures"]["unusable"], 1, "{written:#}");
    assert_eq!(written["figures"]["accepted"], 5);
    // 5 accepted, 1 unusable: 5 of 6 judged; the evidence adds the 5 evaluated examples.
    assert_eq!(written["evidence"], json!({ "successes": 10.0, "trials": 11.0 }), "{written:#}");
    let (rate, interval) = (written["figures"]["acceptance"].as_f64().unwrap(), &written["figures"]["acceptance_interval"]);
    assert!((rate - 5.0 / 6.0).abs() < 1e-9 && interval[0].as_f64().unwrap() < rate, "{written:#}");
}

fn program_with(predictors: &[&str]) -> String {
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/dspy/chain_of_thought_bootstrap.json")).unwrap()).unwrap();
    let mut program = serde_json::Map::new();
    for name in predictors {
        program.insert(name.to_string(), saved["gen.predict"].clone());
    }
    program.insert("metadata".into(), saved["metadata"].clone());
    Value::Object(program).to_string()
}

/// `import-dspy` without `--map` made a version for a step that does not
/// exist, silently. Now that is an error listing the pipeline's steps; a
/// predictor that fits no step while others do is left out with a warning.
#[tokio::test]
async fn a_dspy_program_that_fits_no_step_is_refused_with_the_steps_listed() {
    let dir = workspace("http://127.0.0.1:9", "");
    std::fs::write(dir.path().join("gen.json"), program_with(&["gen.predict"])).unwrap();
    let refused = elexirion(dir.path(), &["store", "import-dspy", "gen.json", "--pipeline", "scan"]).await;
    assert!(!refused.status.success());
    let error = text(&refused.stderr);
    assert!(error.contains("no predictor of the program names a step of pipeline `scan`: `gen.predict` (step `gen`); its steps: `findings`. Map them with --map PREDICTOR=STEP"), "{error}");
    let listed = succeeds(dir.path(), &["store", "versions", "--pipeline", "scan", "--json"]).await;
    assert_eq!(text(&listed.stdout).trim(), "[]", "nothing imported");

    let wrong_map = elexirion(dir.path(), &["store", "import-dspy", "gen.json", "--pipeline", "scan", "--map", "gen.predict=nope"]).await;
    assert!(text(&wrong_map.stderr).contains("pipeline `scan` has no model step `nope` (its steps: `findings`)"), "{}", text(&wrong_map.stderr));

    std::fs::write(dir.path().join("both.json"), program_with(&["findings.predict", "gen.predict"])).unwrap();
    let partly = succeeds(dir.path(), &["store", "import-dspy", "both.json", "--pipeline", "scan"]).await;
    assert_eq!(text(&partly.stdout), "imported scan / findings as version 1 (2 demos)\n");
    assert!(text(&partly.stderr).contains("warning: predictor `gen.predict` names no step of `scan` (`gen`; its steps: `findings`); not imported"), "{}", text(&partly.stderr));

    let mapped = succeeds(dir.path(), &["store", "import-dspy", "gen.json", "--pipeline", "scan", "--map", "gen.predict=findings"]).await;
    assert_eq!(text(&mapped.stdout), "imported scan / findings as version 2 (2 demos)\n");
}

/// Nothing said what a run cost. Now `pipeline run` prints it and the
/// store keeps it per run; a model without a price is "unknown", not 0.
#[tokio::test]
async fn a_run_says_what_it_cost_and_an_unpriced_model_is_unknown() {
    let server = http::scripted_model(SCRIPT, std::time::Duration::ZERO).await;
    // The scripted model reports 5 input and 7 output tokens per answer.
    let priced = workspace(&server.url, "[providers.prices]\n\"openai/gpt-4o-mini\" = { input = 1.0, output = 2.0 }\n");
    let run = succeeds(priced.path(), &["pipeline", "run", "pipelines/scan.yaml", "--input", "name=alpha"]).await;
    let stderr = text(&run.stderr);
    assert!(stderr.contains("done findings via openai in") && stderr.contains(", 5 -> 7 tokens, cost $0.00002"), "{stderr}");
    assert!(stderr.contains("cost: $0.00002\n"), "{stderr}");
    let again = succeeds(priced.path(), &["pipeline", "run", "pipelines/scan.yaml", "--input", "name=alpha"]).await;
    assert!(text(&again.stderr).contains("(cached), cost $0") && text(&again.stderr).contains("cost: $0\n"), "a cached answer costs nothing: {}", text(&again.stderr));
    let report: Value = serde_json::from_str(&text(&succeeds(priced.path(), &["store", "report", "--pipeline", "scan", "--json"]).await.stdout)).unwrap();
    let figures = &report["steps"][0]["versions"][0]["figures"];
    assert!((figures["cost_usd"].as_f64().unwrap() - 0.000019).abs() < 1e-12, "{figures:#}");
    assert_eq!(report["steps"][0]["modes"][0]["mode"], "traditional");

    // A local server's model has no list price: unknown, never a guess.
    let unpriced = workspace(&server.url, "");
    let run = succeeds(unpriced.path(), &["pipeline", "run", "pipelines/scan.yaml", "--input", "name=alpha"]).await;
    assert!(text(&run.stderr).contains("cost: unknown (no price for openai/gpt-4o-mini; set [providers.prices])"), "{}", text(&run.stderr));
    let report: Value = serde_json::from_str(&text(&succeeds(unpriced.path(), &["store", "report", "--pipeline", "scan", "--json"]).await.stdout)).unwrap();
    let figures = &report["steps"][0]["versions"][0]["figures"];
    assert_eq!((figures["cost_unknown_runs"].clone(), figures["cost_per_accepted"].clone()), (json!(1), Value::Null));
}

/// The written prompt earned 5 accepted verdicts, then the user reworded it
/// in the YAML. Optimized mode kept serving the old wording, silently, and
/// the report said there was nothing to compare it with. The YAML's prompt
/// is the written one: the old one is superseded history, and the new one
/// starts with its own evidence.
#[tokio::test]
async fn a_reworded_written_prompt_is_served_at_once_and_the_old_one_is_history() {
    let server = http::scripted_model(SCRIPT, std::time::Duration::ZERO).await;
    let dir = workspace(&server.url, "");
    for name in NAMES {
        succeeds(dir.path(), &["pipeline", "run", "pipelines/scan.yaml", "--input", &format!("name={name}")]).await;
        succeeds(dir.path(), &["store", "verdict", "accepted", "--pipeline", "scan"]).await;
    }
    let reworded = SCAN.replace("List the issues for", "List every issue for");
    std::fs::write(dir.path().join("pipelines/scan.yaml"), reworded).unwrap();
    let run = succeeds(dir.path(), &["pipeline", "run", "pipelines/scan.yaml", "--input", "name=zeta", "--mode", "optimized"]).await;
    let stderr = text(&run.stderr);
    assert!(stderr.contains("findings: prompt version 2 (manual)"), "the reworded prompt is served: {stderr}");
    assert!(server.requests().last().unwrap().body.contains("List every issue for zeta"));

    let report: Value = serde_json::from_str(&text(&succeeds(dir.path(), &["store", "report", "--pipeline", "scan", "--json"]).await.stdout)).unwrap();
    let step = &report["steps"][0];
    assert_eq!((step["versions"][0]["superseded"].clone(), step["versions"][1]["superseded"].clone()), (json!(true), json!(false)), "{step:#}");
    assert_eq!(step["versions"][0]["figures"]["accepted"], 5, "its history is shown");
    assert_eq!(step["versions"][1]["evidence"]["trials"], 0.0, "evidence does not carry over");
    let recommendation = &step["recommendation"];
    assert_eq!((recommendation["action"].clone(), recommendation["version"].clone()), (json!("gather-more-data"), json!(2)), "{recommendation:#}");
    let reason = recommendation["reason"].as_str().unwrap();
    assert!(!reason.contains("version 1 (manual): acceptance") && reason.contains("replaced version 1, which is superseded"), "{reason}");
}

/// The shipped fix pipeline on a worker module, with prices set.
fn fix_workspace(model_url: &str) -> tempfile::TempDir {
    support::worker_workspace(model_url, "[providers.prices]\n\"openai/gpt-4o-mini\" = { input = 1.0, output = 2.0 }\n")
}

/// A run whose rewrite was repaired made 3 model calls but printed and
/// stored the cost of 2. The repair request is a call like the others.
#[tokio::test]
async fn a_repair_request_is_costed_in_the_printed_total_and_the_stored_run() {
    let server = http::scripted_model(support::REPAIRED_SCRIPT, std::time::Duration::ZERO).await;
    let dir = fix_workspace(&server.url);
    let pipeline = format!("{}/../pipelines/fix_otp_antipatterns.yaml", env!("CARGO_MANIFEST_DIR"));
    let run = succeeds(dir.path(), &["pipeline", "run", &pipeline, "--file", "lib/app/worker.ex", "--no-cache"]).await;
    assert_eq!(server.requests().len(), 3, "diagnose, rewrite, repair");
    let stderr = text(&run.stderr);
    // Each call: 5 input tokens at $1/M and 7 output tokens at $2/M, $0.000019.
    assert!(stderr.contains("done rewrite (repair request) via openai in") && stderr.contains("cost: $0.00006\n"), "3 calls, $0.000057: {stderr}");
    let report: Value = serde_json::from_str(&text(&succeeds(dir.path(), &["store", "report", "--pipeline", "fix_otp_antipatterns", "--json"]).await.stdout)).unwrap();
    let rewrite = report["steps"].as_array().unwrap().iter().find(|s| s["step"] == "rewrite").unwrap();
    let figures = &rewrite["versions"][0]["figures"];
    assert!((figures["cost_usd"].as_f64().unwrap() - 0.000038).abs() < 1e-12, "the rewrite and its repair: {figures:#}");
    assert_eq!((figures["input_tokens"].clone(), figures["output_tokens"].clone()), (json!(10), json!(14)), "{figures:#}");
    assert_eq!(rewrite["modes"][0]["figures"]["input_tokens"], 10);
}

/// A provider whose answers count `tokens` (`None`: no `usage` at all).
async fn counting_model(tokens: Option<u64>) -> http::TestServer {
    http::TestServer::start_with(move |_| {
        let mut reply = json!({ "choices": [{ "message": { "content": "{\"findings\": []}" } }] });
        if let Some(tokens) = tokens {
            reply["usage"] = json!({ "prompt_tokens": tokens, "completion_tokens": tokens });
        }
        http::Reply::json(200, &reply)
    })
    .await
}

/// A server claiming 9223372036854775807 tokens twice overflowed the
/// store's totals: reports and version lists failed, and optimized runs
/// printed "nothing recorded". Absurd counts are now unknown on the way in.
#[tokio::test]
async fn absurd_token_counts_are_unknown_and_recording_goes_on() {
    let server = counting_model(Some(i64::MAX as u64)).await;
    let dir = workspace(&server.url, "[providers.prices]\n\"openai/gpt-4o-mini\" = { input = 1.0, output = 2.0 }\n");
    for name in ["alpha", "beta"] {
        let run = succeeds(dir.path(), &["pipeline", "run", "pipelines/scan.yaml", "--input", &format!("name={name}")]).await;
        let stderr = text(&run.stderr);
        assert!(stderr.contains("reported 9223372036854775807 input and 9223372036854775807 output tokens for one call; counts over 1000000000 are not believed"), "{stderr}");
        assert!(stderr.contains("cost: unknown (the provider reported no token counts for openai/gpt-4o-mini)") && !stderr.contains("inf") && !stderr.contains("NaN"), "{stderr}");
    }
    let optimized = succeeds(dir.path(), &["pipeline", "run", "pipelines/scan.yaml", "--input", "name=gamma", "--mode", "optimized"]).await;
    assert!(!text(&optimized.stderr).contains("nothing recorded"), "{}", text(&optimized.stderr));
    succeeds(dir.path(), &["store", "versions", "--pipeline", "scan"]).await;
    let report: Value = serde_json::from_str(&text(&succeeds(dir.path(), &["store", "report", "--pipeline", "scan", "--json"]).await.stdout)).unwrap();
    let figures = &report["steps"][0]["versions"][0]["figures"];
    assert_eq!((figures["runs"].clone(), figures["input_tokens"].clone(), figures["cost_usd"].clone(), figures["cost_unknown_runs"].clone()), (json!(3), json!(0), Value::Null, json!(3)), "{figures:#}");
}

/// "no price … set [providers.prices]" was said when the price was set and
/// only the token counts were missing.
#[tokio::test]
async fn a_priced_model_without_token_counts_says_the_counts_are_missing() {
    let server = counting_model(None).await;
    let dir = workspace(&server.url, "[providers.prices]\n\"openai/gpt-4o-mini\" = { input = 1.0, output = 2.0 }\n");
    let run = succeeds(dir.path(), &["pipeline", "run", "pipelines/scan.yaml", "--input", "name=alpha"]).await;
    let stderr = text(&run.stderr);
    assert!(stderr.contains("cost: unknown (the provider reported no token counts for openai/gpt-4o-mini)") && !stderr.contains("no price"), "{stderr}");
}

/// A price of 1e308 passed and made costs of $inf.
#[tokio::test]
async fn an_absurd_price_is_refused_naming_its_key() {
    let dir = workspace("http://127.0.0.1:9", "[providers.prices]\n\"openai/gpt-4o-mini\" = { input = 1e308, output = 2.0 }\n");
    let refused = elexirion(dir.path(), &["pipeline", "run", "pipelines/scan.yaml", "--input", "name=alpha"]).await;
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("`openai/gpt-4o-mini`: input must be dollars per million tokens, from 0 to 10000 (not 1e308)"), "{}", text(&refused.stderr));
}
