//! Verdicts that teach the store what happened (issue 14): a verdict
//! judges one step's answer and says which run it judged, a judged run is
//! judged again only by its id, an edited result keeps the step's answer
//! format, the editor judges the run that edited the document, and a
//! cache hit is no new example. The real binary, a scripted model on
//! 127.0.0.1, a store on disk in a temporary workspace.

#[path = "support/http.rs"]
mod http;
mod support;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use elexirion::store::examples::{Example, Outcome, RunRecord, Verdict};
use elexirion::store::Store;
use serde_json::{json, Value};
use support::LspClient;

const PIPELINE: &str = "fix_otp_antipatterns";

use support::{REFUSAL, REPAIRED_SCRIPT, WORKER_DIAGNOSIS as DIAGNOSIS, WORKER_REWRITE as REWRITE};

const FIX_SCRIPT: &[(&str, &str)] = &[("List the OTP and process anti-patterns", DIAGNOSIS), ("Rewrite the Elixir code", REWRITE)];

/// The rewrite refuses, and again when asked to repair its answer.
const REFUSING_SCRIPT: &[(&str, &str)] = &[("Please answer again", REFUSAL), ("List the OTP and process anti-patterns", DIAGNOSIS), ("Rewrite the Elixir code", REFUSAL)];

fn workspace(model_url: &str) -> tempfile::TempDir {
    support::worker_workspace(model_url, "")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// `elexirion pipeline run` of the shipped fix pipeline on the worker.
async fn run_fix(dir: &Path, extra: &[&str]) -> Output {
    let pipeline = format!("{}/../pipelines/{PIPELINE}.yaml", env!("CARGO_MANIFEST_DIR"));
    let mut command = tokio::process::Command::new(support::binary());
    command.args(["pipeline", "run", &pipeline, "--file", "lib/app/worker.ex"]).args(extra).current_dir(dir);
    for variable in ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"] {
        command.env_remove(variable);
    }
    command.output().await.unwrap()
}

/// The run id a `pipeline run` printed.
fn run_id(stderr: &str) -> String {
    stderr.split("recorded as run ").nth(1).and_then(|rest| rest.split_whitespace().next()).unwrap_or_else(|| panic!("no run id: {stderr}")).to_string()
}

/// A fix run that must succeed; its run id.
async fn fix(dir: &Path, extra: &[&str]) -> String {
    let output = run_fix(dir, extra).await;
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    run_id(&stderr)
}

async fn store_command(dir: &Path, args: &[&str]) -> Output {
    tokio::process::Command::new(support::binary()).arg("store").args(args).current_dir(dir).output().await.unwrap()
}

/// A `store` command that must succeed; its stdout.
async fn store_ok(dir: &Path, args: &[&str]) -> String {
    let output = store_command(dir, args).await;
    assert!(output.status.success(), "store {args:?}: {}", text(&output.stderr));
    text(&output.stdout)
}

fn open_store(dir: &Path) -> Store {
    Store::open(&dir.join(".elexirion/store.db")).unwrap().store
}

fn examples(dir: &Path, step: &str) -> Vec<Example> {
    open_store(dir).examples(PIPELINE, step, false).unwrap()
}

fn verdicts(dir: &Path, step: &str) -> Vec<Option<Verdict>> {
    examples(dir, step).into_iter().map(|e| e.verdict).collect()
}

/// (accepted, edited, rejected) of a step's written prompt.
fn record(dir: &Path, step: &str) -> (u64, u64, u64) {
    let versions = open_store(dir).versions(PIPELINE, Some(step)).unwrap();
    let record = &versions[0].record;
    (record.accepted, record.edited, record.rejected)
}

#[tokio::test]
async fn accepting_a_two_step_refactor_credits_only_the_rewrite() {
    let server = http::scripted_model(FIX_SCRIPT, Duration::ZERO).await;
    let dir = workspace(&server.url);
    let run = fix(dir.path(), &[]).await;

    let said = store_ok(dir.path(), &["verdict", "accepted", "--run", &run]).await;
    assert!(said.contains(&format!("run {run} of {PIPELINE}")) && said.contains("rewrite judged accepted"), "{said}");
    assert!(said.contains("not judged by this: diagnose"), "{said}");
    assert_eq!(verdicts(dir.path(), "rewrite"), [Some(Verdict::Accepted)]);
    assert_eq!(verdicts(dir.path(), "diagnose"), [None], "the diagnosis is not judged by the edit");
    assert_eq!((record(dir.path(), "rewrite"), record(dir.path(), "diagnose")), ((1, 0, 0), (0, 0, 0)));

    // The diagnosis judged on its own: a bad one does not touch the rewrite.
    let said = store_ok(dir.path(), &["verdict", "rejected", "--run", &run, "--step", "diagnose"]).await;
    assert!(said.contains("diagnose judged rejected"), "{said}");
    assert_eq!((verdicts(dir.path(), "rewrite"), verdicts(dir.path(), "diagnose")), (vec![Some(Verdict::Accepted)], vec![Some(Verdict::Rejected)]));
    assert_eq!((record(dir.path(), "rewrite"), record(dir.path(), "diagnose")), ((1, 0, 0), (0, 0, 1)));
}

#[tokio::test]
async fn an_edited_result_is_stored_as_the_step_answers_and_parses_as_one() {
    let server = http::scripted_model(FIX_SCRIPT, Duration::ZERO).await;
    let dir = workspace(&server.url);
    let run = fix(dir.path(), &[]).await;
    let final_text = support::WORKER.replace(":fetch, :infinity)", ":fetch, 5_000)");
    std::fs::write(dir.path().join("final.ex"), &final_text).unwrap();
    let said = store_ok(dir.path(), &["verdict", "edited", "--run", &run, "--final-file", "final.ex"]).await;
    assert!(said.contains("rewrite judged edited"), "{said}");

    let stored = examples(dir.path(), "rewrite").remove(0);
    assert!(stored.best_output().starts_with("```elixir\ndefmodule App.Worker do"), "fenced like the step's answer: {}", stored.best_output());
    let read = elexirion::pipeline::answer::read_rewrite(stored.best_output(), support::WORKER).unwrap();
    assert_eq!(read.text, final_text);

    // The demo a learned version makes of it is read back the same way.
    store_ok(dir.path(), &["learn", "--pipeline", PIPELINE]).await;
    let versions = open_store(dir.path()).versions(PIPELINE, Some("rewrite")).unwrap();
    let learned = versions.iter().find(|v| v.version.source == "learned").expect("a learned version of rewrite");
    let demo = learned.version.demos[0]["response"].as_str().unwrap();
    assert_eq!(elexirion::pipeline::answer::read_rewrite(demo, support::WORKER).unwrap().text, final_text);
}

#[tokio::test]
async fn judging_by_pipeline_takes_the_newest_unjudged_run_and_says_which() {
    let server = http::scripted_model(FIX_SCRIPT, Duration::ZERO).await;
    let dir = workspace(&server.url);
    let older = fix(dir.path(), &[]).await;
    let newer = fix(dir.path(), &["--no-cache"]).await;
    assert_ne!(older, newer);

    let first = store_ok(dir.path(), &["verdict", "accepted", "--pipeline", PIPELINE]).await;
    let second = store_ok(dir.path(), &["verdict", "rejected", "--pipeline", PIPELINE]).await;
    for (said, run) in [(&first, &newer), (&second, &older)] {
        assert!(said.contains(&format!("run {run} of {PIPELINE} (")) && said.contains(", on lib/app/worker.ex)"), "{said}");
    }
    assert!(first.contains("rewrite judged accepted") && second.contains("rewrite judged rejected"), "{first}{second}");
    assert_eq!(verdicts(dir.path(), "rewrite"), [Some(Verdict::Rejected), Some(Verdict::Accepted)]);

    let third = store_command(dir.path(), &["verdict", "accepted", "--pipeline", PIPELINE]).await;
    assert!(!third.status.success());
    assert!(text(&third.stderr).contains(&format!("every run of `{PIPELINE}` is judged already")), "{}", text(&third.stderr));
}

#[tokio::test]
async fn judging_a_judged_run_again_needs_its_id_and_says_what_changed() {
    let server = http::scripted_model(FIX_SCRIPT, Duration::ZERO).await;
    let dir = workspace(&server.url);
    let run = fix(dir.path(), &[]).await;
    store_ok(dir.path(), &["verdict", "rejected", "--pipeline", PIPELINE]).await;

    let by_name = store_command(dir.path(), &["verdict", "accepted", "--pipeline", PIPELINE]).await;
    let refusal = text(&by_name.stderr);
    assert!(!by_name.status.success() && refusal.contains(&format!("the newest is run {run}")) && refusal.contains("rewrite rejected") && refusal.contains("--run ID"), "{refusal}");
    assert_eq!(verdicts(dir.path(), "rewrite"), [Some(Verdict::Rejected)], "nothing changed");

    let said = store_ok(dir.path(), &["verdict", "accepted", "--run", &run]).await;
    assert!(said.contains("rewrite: rejected → accepted"), "{said}");
    assert_eq!(record(dir.path(), "rewrite"), (1, 0, 0), "the rejection is taken back, not kept beside");
    let said = store_ok(dir.path(), &["verdict", "accepted", "--run", &run]).await;
    assert!(said.contains("rewrite was accepted already; unchanged"), "{said}");
    assert_eq!(record(dir.path(), "rewrite"), (1, 0, 0));
}

#[tokio::test]
async fn a_cached_rerun_adds_no_example_and_no_run_to_the_record() {
    let server = http::scripted_model(FIX_SCRIPT, Duration::ZERO).await;
    let dir = workspace(&server.url);
    let first = fix(dir.path(), &[]).await;
    let cached = fix(dir.path(), &[]).await;
    assert_eq!(server.requests().len(), 2, "the second run was served from the cache");

    for step in ["diagnose", "rewrite"] {
        assert_eq!(examples(dir.path(), step).len(), 1, "{step}: one answer, one example");
        assert_eq!(open_store(dir.path()).versions(PIPELINE, Some(step)).unwrap()[0].record.runs, 1, "{step}: one model call");
    }
    let connection = rusqlite::Connection::open(dir.path().join(".elexirion/store.db")).unwrap();
    let hits: i64 = connection.query_row("SELECT count(*) FROM runs WHERE invocation = ?1 AND outcome = 'cached'", [&cached], |row| row.get(0)).unwrap();
    assert_eq!(hits, 2, "the cache hits are recorded as such");

    // Judging the cached run judges the answer it served, once.
    let said = store_ok(dir.path(), &["verdict", "accepted", "--run", &cached]).await;
    assert!(said.contains("rewrite judged accepted"), "{said}");
    let said = store_ok(dir.path(), &["verdict", "accepted", "--run", &first]).await;
    assert!(said.contains("rewrite was accepted already; unchanged"), "the same answer: {said}");
    assert_eq!(record(dir.path(), "rewrite"), (1, 0, 0));
}

#[tokio::test]
async fn a_repaired_answer_is_the_example_that_is_judged_and_exported() {
    let server = http::scripted_model(REPAIRED_SCRIPT, Duration::ZERO).await;
    let dir = workspace(&server.url);
    let run = fix(dir.path(), &["--no-cache"]).await;
    let asked = server.requests();
    assert_eq!(asked.len(), 3, "diagnose, rewrite, and the repair request");
    assert!(asked[2].body.contains("Please answer again"), "{}", asked[2].body);

    let stored = examples(dir.path(), "rewrite");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].output, REWRITE, "the answer that became the edit, not the refusal");
    store_ok(dir.path(), &["verdict", "accepted", "--run", &run]).await;
    let exported = store_ok(dir.path(), &["export-examples", "--pipeline", PIPELINE, "--step", "rewrite"]).await;
    assert!(exported.contains("GenServer.call(server, :fetch, 30_000)") && !exported.contains(REFUSAL), "{exported}");
    let learned = store_ok(dir.path(), &["learn", "--pipeline", PIPELINE]).await;
    assert!(learned.contains("rewrite: learned version"), "{learned}");
    let versions = open_store(dir.path()).versions(PIPELINE, Some("rewrite")).unwrap();
    let demo = &versions.iter().find(|v| v.version.source == "learned").unwrap().version.demos[0]["response"];
    assert_eq!(demo.as_str(), Some(REWRITE), "a learned demo teaches the code, not the refusal");
}

#[tokio::test]
async fn a_repaired_answer_is_what_the_cache_serves_next_time() {
    let server = http::scripted_model(REPAIRED_SCRIPT, Duration::ZERO).await;
    let dir = workspace(&server.url);
    fix(dir.path(), &[]).await;
    assert_eq!(server.requests().len(), 3, "diagnose, rewrite, and the repair request");
    let again = run_fix(dir.path(), &[]).await;
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(server.requests().len(), 3, "no new request, no second repair: {}", text(&again.stderr));
}

#[tokio::test]
async fn a_run_that_produced_no_result_is_not_judged_through_an_earlier_step() {
    let good = http::scripted_model(FIX_SCRIPT, Duration::ZERO).await;
    let refusing = http::scripted_model(REFUSING_SCRIPT, Duration::ZERO).await;
    let dir = workspace(&good.url);
    let older = fix(dir.path(), &[]).await;
    std::fs::write(dir.path().join("elexirion.toml"), std::fs::read_to_string(dir.path().join("elexirion.toml")).unwrap().replace(&good.url, &refusing.url)).unwrap();
    let failed = run_fix(dir.path(), &["--no-cache"]).await;
    let stderr = text(&failed.stderr);
    assert!(!failed.status.success(), "{stderr}");
    let failed = run_id(&stderr);
    assert!(stderr.contains(&format!("recorded as run {failed} (it produced no result to judge)")), "no invitation to a verdict that would be refused: {stderr}");
    assert_eq!(refusing.requests().len(), 3, "diagnose, rewrite, and the repair request");

    let by_name = store_command(dir.path(), &["verdict", "accepted", "--pipeline", PIPELINE]).await;
    let refusal = text(&by_name.stderr);
    assert!(!by_name.status.success(), "{}", text(&by_name.stdout));
    assert!(refusal.contains(&format!("the newest run of `{PIPELINE}` is run {failed}")) && refusal.contains("produced no result") && refusal.contains("`rewrite`"), "{refusal}");
    let by_id = store_command(dir.path(), &["verdict", "accepted", "--run", &failed]).await;
    let refusal = text(&by_id.stderr);
    assert!(!by_id.status.success() && refusal.contains(&format!("run {failed} of {PIPELINE}")) && refusal.contains("produced no result") && refusal.contains("--step NAME"), "{refusal}");
    assert_eq!((verdicts(dir.path(), "diagnose"), verdicts(dir.path(), "rewrite")), (vec![None, None], vec![None]), "nothing judged");
    assert_eq!(record(dir.path(), "diagnose"), (0, 0, 0));

    // A step of it named on its own is judged; the older run by its id.
    let said = store_ok(dir.path(), &["verdict", "rejected", "--run", &failed, "--step", "diagnose"]).await;
    assert!(said.contains(&format!("run {failed} of {PIPELINE}")) && said.contains("diagnose judged rejected"), "{said}");
    let said = store_ok(dir.path(), &["verdict", "accepted", "--run", &older]).await;
    assert!(said.contains("rewrite judged accepted"), "{said}");
    assert_eq!((record(dir.path(), "diagnose"), record(dir.path(), "rewrite")), ((0, 0, 1), (1, 0, 0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdicts_by_pipeline_at_once_judge_each_run_once() {
    const PAIRS: usize = 8;
    let server = http::scripted_model(FIX_SCRIPT, Duration::ZERO).await;
    let dir = workspace(&server.url);
    let first = fix(dir.path(), &[]).await;
    // More runs like it, recorded as the runner records them.
    {
        let mut store = open_store(dir.path());
        let steps: Vec<(String, i64, Example)> = ["diagnose", "rewrite"]
            .iter()
            .map(|step| (step.to_string(), store.versions(PIPELINE, Some(step)).unwrap()[0].id, store.examples(PIPELINE, step, false).unwrap().remove(0)))
            .collect();
        for copy in 1..2 * PAIRS {
            for (step, version, example) in &steps {
                let run = RunRecord {
                    invocation: format!("copy-{copy:02}"),
                    pipeline: PIPELINE.into(),
                    step: step.clone(),
                    version: *version,
                    provider: Some("openai".into()),
                    model: Some("gpt-4o-mini".into()),
                    latency_ms: 1.0,
                    input_tokens: Some(5),
                    output_tokens: Some(7),
                    outcome: Outcome::Answered,
                    example: Some((example.inputs.clone(), example.output.clone())),
                };
                store.record_run(&run).unwrap();
            }
        }
    }

    let verdicts_given: Vec<&str> = (0..2 * PAIRS).map(|i| if i % 2 == 0 { "accepted" } else { "rejected" }).collect();
    let path = dir.path();
    let commands = verdicts_given.iter().map(|verdict| async move { store_command(path, &["verdict", verdict, "--pipeline", PIPELINE]).await });
    let outputs = futures::future::join_all(commands).await;
    let mut judged = Vec::new();
    for (verdict, output) in verdicts_given.iter().zip(&outputs) {
        let said = text(&output.stdout);
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert!(said.contains(&format!("rewrite judged {verdict}")) && !said.contains('→') && !said.contains("unchanged"), "a run judged again without --run: {said}");
        judged.push(said.split("run ").nth(1).and_then(|r| r.split_whitespace().next()).unwrap().to_string());
    }
    judged.sort();
    judged.dedup();
    assert_eq!(judged.len(), 2 * PAIRS, "each command judged a run of its own");
    assert!(judged.contains(&first));
    assert!(verdicts(dir.path(), "rewrite").iter().all(Option::is_some), "every run judged");
    assert_eq!(record(dir.path(), "rewrite"), (PAIRS as u64, 0, PAIRS as u64), "each run counted once");
    let more = store_command(dir.path(), &["verdict", "accepted", "--pipeline", PIPELINE]).await;
    assert!(!more.status.success() && text(&more.stderr).contains("is judged already"), "{}", text(&more.stderr));
}

#[tokio::test]
async fn edited_needs_a_final_text_and_judging_it_again_with_another_says_so() {
    let server = http::scripted_model(FIX_SCRIPT, Duration::ZERO).await;
    let dir = workspace(&server.url);
    let run = fix(dir.path(), &[]).await;
    let first = support::WORKER.replace(":fetch, :infinity)", ":fetch, 5_000)");
    let second = support::WORKER.replace(":fetch, :infinity)", ":fetch, 10_000)");
    std::fs::write(dir.path().join("first.ex"), &first).unwrap();
    std::fs::write(dir.path().join("second.ex"), &second).unwrap();
    std::fs::write(dir.path().join("empty.ex"), "\n  \n").unwrap();

    let without = store_command(dir.path(), &["verdict", "edited", "--run", &run]).await;
    assert!(!without.status.success() && text(&without.stderr).contains("--final-file"), "{}", text(&without.stderr));
    let empty = store_command(dir.path(), &["verdict", "edited", "--run", &run, "--final-file", "empty.ex"]).await;
    assert!(!empty.status.success() && text(&empty.stderr).contains("the edited text is empty"), "{}", text(&empty.stderr));
    assert_eq!((verdicts(dir.path(), "rewrite"), record(dir.path(), "rewrite")), (vec![None], (0, 0, 0)), "nothing judged");

    let said = store_ok(dir.path(), &["verdict", "edited", "--run", &run, "--final-file", "first.ex"]).await;
    assert!(said.contains("rewrite judged edited"), "{said}");
    let said = store_ok(dir.path(), &["verdict", "edited", "--run", &run, "--final-file", "second.ex"]).await;
    assert!(said.contains("rewrite was edited already; final text replaced") && !said.contains("unchanged"), "{said}");
    let stored = examples(dir.path(), "rewrite").remove(0);
    assert_eq!(elexirion::pipeline::answer::read_rewrite(stored.best_output(), support::WORKER).unwrap().text, second);
    let said = store_ok(dir.path(), &["verdict", "edited", "--run", &run, "--final-file", "second.ex"]).await;
    assert!(said.contains("rewrite was edited already; unchanged"), "{said}");
    assert_eq!(record(dir.path(), "rewrite"), (0, 1, 0));
}

/// The editor side: generated tests edit the test file, so the verdict from
/// the module finds no AI edit of its own and says where the edit went;
/// from the test file it judges the test writer with the test file's text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn judging_from_the_module_after_generating_tests_judges_nothing_and_says_where_to() {
    static SCRIPT: &[(&str, &str)] = &[
        ("List the behaviours", "{\"cases\": [{\"function\": \"fetch/1\", \"case\": \"returns the state\", \"expect\": \"state\"}]}"),
        ("Write an ExUnit test module", "```elixir\ndefmodule App.WorkerTest do\n  use ExUnit.Case, async: true\n\n  test \"fetch/1 returns the state\" do\n    assert true\n  end\nend\n```"),
    ];
    let server = http::scripted_model(SCRIPT, Duration::ZERO).await;
    let dir = workspace(&server.url);
    let module_uri = format!("file://{}/lib/app/worker.ex", dir.path().display());
    let mut client = LspClient::start();
    let root = format!("file://{}", dir.path().display());
    client.request("initialize", json!({ "processId": null, "rootUri": root, "capabilities": { "window": { "workDoneProgress": true }, "workspace": { "workspaceEdit": { "documentChanges": true, "resourceOperations": ["create"] } } } }));
    client.notify("initialized", json!({}));
    client.open(&module_uri, "elixir", 1, support::WORKER);
    client.diagnostics_for(&module_uri);

    let offered = client.request("textDocument/codeAction", json!({ "textDocument": { "uri": module_uri }, "range": support::range([0, 0], [0, 0]), "context": { "diagnostics": [] } }));
    let action = offered.as_array().unwrap().iter().find(|a| a["title"] == "Generate ExUnit tests (AI)").unwrap().clone();
    let id = client.send_request("workspace/executeCommand", json!({ "command": action["command"]["command"], "arguments": action["command"]["arguments"] }));
    client.answer_request("window/workDoneProgress/create", Value::Null);
    let apply = client.wait_for("workspace/applyEdit", |m| m["method"] == "workspace/applyEdit");
    let operations = apply["params"]["edit"]["documentChanges"].as_array().unwrap().clone();
    let test_edit = operations.iter().find(|o| o.get("edits").is_some()).unwrap();
    let test_uri = test_edit["textDocument"]["uri"].as_str().unwrap().to_string();
    let generated = support::apply_lsp_edits("", test_edit["edits"].as_array().unwrap());
    client.respond(&apply, json!({ "applied": true }));
    let result = client.response_to(id)["result"].clone();
    assert_eq!(result["outcome"], "applied", "{result:#}");
    let run = result["runId"].as_str().unwrap().to_string();

    let execute = |client: &mut LspClient, command: &str, argument: Value| client.request_raw("workspace/executeCommand", json!({ "command": command, "arguments": [argument] }));
    let from_module = execute(&mut client, "elexirion.lastAiEdit", json!({ "uri": module_uri }))["result"].clone();
    assert_eq!(from_module["runId"], Value::Null, "{from_module:#}");
    let message = from_module["message"].as_str().unwrap();
    assert!(message.contains("no AI edit was applied to lib/app/worker.ex") && message.contains("the generate_tests run from it edited test/app/worker_test.exs"), "{message}");
    let refused = execute(&mut client, "elexirion.recordVerdict", json!({ "uri": module_uri, "verdict": "edited", "finalText": support::WORKER }));
    assert!(refused["error"]["message"].as_str().unwrap().contains("no AI edit was applied to lib/app/worker.ex"), "{refused:#}");

    // The test file, opened as the editor shows it and changed by the user.
    client.open(&test_uri, "elixir", 1, &generated);
    let from_tests = execute(&mut client, "elexirion.lastAiEdit", json!({ "uri": test_uri }))["result"].clone();
    assert_eq!((from_tests["runId"].as_str(), from_tests["step"].as_str(), from_tests["verdict"].as_str()), (Some(run.as_str()), Some("write"), Some("accepted")), "{from_tests:#}");
    let stale = execute(&mut client, "elexirion.recordVerdict", json!({ "uri": test_uri, "invocation": "another-run", "verdict": "rejected" }));
    assert!(stale["error"]["message"].as_str().unwrap().contains(&format!("the last AI edit of this document is run {run}")), "{stale:#}");
    client.change(&test_uri, 2, [4, 0], [4, 0], "    # checked by hand\n");
    let judged = execute(&mut client, "elexirion.recordVerdict", json!({ "uri": test_uri, "invocation": run, "verdict": "edited" }))["result"].clone();
    assert_eq!((judged["step"].as_str(), judged["previous"].as_str(), judged["verdict"].as_str()), (Some("write"), Some("accepted"), Some("edited")), "{judged:#}");
    assert!(judged["message"].as_str().unwrap().contains("write: accepted → edited"), "{judged:#}");

    let store = open_store(dir.path());
    let written = store.examples("generate_tests", "write", true).unwrap();
    let final_text = elexirion::pipeline::answer::read_rewrite(written[0].best_output(), &generated).unwrap().text;
    assert!(final_text.contains("# checked by hand") && final_text.starts_with("defmodule App.WorkerTest do"), "the test file's text, not the module's: {final_text}");
    assert_eq!(store.examples("generate_tests", "plan", false).unwrap()[0].verdict, None, "the plan is not judged by the edit");
}
