//! `elexirion pipeline run` end to end: the real binary, a scripted model
//! server on 127.0.0.1, files in a temporary workspace.

#[path = "support/http.rs"]
mod http;
mod support;

use std::path::Path;
use std::process::Output;

use http::{Reply, TestServer};
use serde_json::{json, Value};

async fn echo_server(scripted: &'static [(&'static str, &'static str)]) -> TestServer {
    http::scripted_model(scripted, std::time::Duration::ZERO).await
}

fn workspace(server_url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    // support::WORKER's anti-pattern (a call with `:infinity`) is an opt-in rule's.
    let config = format!("[rules]\nenable = [\"genserver-call-infinity\"]\n[providers]\nclaude = [\"openai\"]\ngemini = [\"openai\"]\nmax-retries = 0\n[providers.base-urls]\nopenai = \"{server_url}\"\n");
    std::fs::write(dir.path().join("elexirion.toml"), config).unwrap();
    dir
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

async fn run(dir: &Path, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(support::binary());
    command.args(["pipeline", "run"]).args(args).current_dir(dir);
    for variable in ["ANTHROPIC_API_KEY", "GEMINI_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "GEMINI_BASE_URL", "OPENAI_BASE_URL"] {
        command.env_remove(variable);
    }
    command.output().await.unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

const REVIEW: &str = "workflow:
  name: review
  steps:
    - name: scan
      type: claude
      prompt:
        - type: static
          content: \"SCAN {{inputs.module}}\"
    - name: fix
      type: claude_smart
      preset: analysis
      prompt:
        - type: static
          content: \"Fix the first issue:\"
        - type: previous_response
          step: scan
          extract: issues.0.rule
";

#[tokio::test]
async fn previous_response_with_extract_then_a_cache_hit() {
    let server = echo_server(&[("SCAN", "Found:\n```json\n{\"issues\": [{\"rule\": \"genserver-call-infinity\"}]}\n```")]).await;
    let dir = workspace(&server.url);
    write(dir.path(), "pipelines/review.yaml", REVIEW);

    let first = run(dir.path(), &["pipelines/review.yaml", "--input", "module=Worker"]).await;
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(text(&first.stdout), "echo: Fix the first issue:\n\ngenserver-call-infinity\n");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].json()["messages"][0]["content"], "SCAN Worker");
    assert_eq!(requests[1].json()["temperature"], 0.0, "the analysis preset");
    assert!(text(&first.stderr).contains("done scan via openai"), "{}", text(&first.stderr));

    let second = run(dir.path(), &["pipelines/review.yaml", "--input", "module=Worker", "--json"]).await;
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert_eq!(server.requests().len(), 2, "the second run is served from the cache");
    assert!(text(&second.stderr).contains("(cached)"), "{}", text(&second.stderr));
    let report: Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(report["steps"]["scan"]["json"]["issues"][0]["rule"], "genserver-call-infinity");

    let changed = run(dir.path(), &["pipelines/review.yaml", "--input", "module=Other"]).await;
    assert!(changed.status.success());
    // Only `scan`'s prompt changed; `fix` gets the same prompt, so the cache serves it.
    assert_eq!(server.requests().len(), 3, "new input, one new request");
    run(dir.path(), &["pipelines/review.yaml", "--input", "module=Other", "--no-cache"]).await;
    assert_eq!(server.requests().len(), 5, "--no-cache asks again");
}

#[tokio::test]
async fn parallel_claude_runs_every_task() {
    let server = echo_server(&[]).await;
    let dir = workspace(&server.url);
    write(dir.path(), "p.yaml", "workflow:
  name: parallel
  steps:
    - name: reviews
      type: parallel_claude
      parallel_tasks:
        - id: security
          prompt:
            - type: static
              content: security review
        - id: style
          prompt:
            - type: static
              content: style review
        - id: otp
          prompt:
            - type: static
              content: otp review
");
    let output = run(dir.path(), &["p.yaml", "--json"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["steps"]["reviews"]["json"], json!({ "security": "echo: security review", "style": "echo: style review", "otp": "echo: otp review" }));
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn for_loop_over_files_reads_each_one() {
    let server = echo_server(&[]).await;
    let dir = workspace(&server.url);
    write(dir.path(), "lib/a.ex", "defmodule A do\nend\n");
    write(dir.path(), "lib/b.ex", "defmodule B do\nend\n");
    write(dir.path(), "lib/skip.txt", "not elixir");
    write(dir.path(), "p.yaml", "workflow:
  name: each
  steps:
    - name: per_file
      type: for_loop
      iterator: file
      data_source: \"glob:lib/*.ex\"
      steps:
        - name: explain
          type: claude
          claude_options:
            allowed_tools: [Read]
          prompt:
            - type: static
              content: \"Explain {{loop.file}}:\"
            - type: file
              path: \"{{loop.file}}\"
");
    let output = run(dir.path(), &["p.yaml", "--json"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let prompts: Vec<String> = server.requests().iter().map(|r| r.json()["messages"][0]["content"].as_str().unwrap().to_string()).collect();
    assert_eq!(prompts, ["Explain lib/a.ex:\n\ndefmodule A do\nend\n", "Explain lib/b.ex:\n\ndefmodule B do\nend\n"]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["steps"]["per_file"]["json"].as_array().unwrap().len(), 2);
    assert!(text(&output.stderr).contains("`claude_options.allowed_tools` is an agent option; Elexirion makes a plain model call and ignores it"), "{}", text(&output.stderr));
}

#[tokio::test]
async fn unsupported_steps_and_files_outside_the_workspace_are_refused_before_any_request() {
    let server = echo_server(&[]).await;
    let dir = workspace(&server.url);
    write(dir.path(), "p.yaml", "workflow:\n  name: x\n  steps:\n    - name: a\n      type: claude\n      prompt:\n        - type: static\n          content: hi\n    - name: move\n      type: file_ops\n      operation: copy\n");
    let output = run(dir.path(), &["p.yaml"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("step `move` failed: Elexirion does not run `file_ops` steps"), "{}", text(&output.stderr));
    assert_eq!(server.requests().len(), 0);

    write(dir.path(), "q.yaml", "workflow:\n  name: x\n  steps:\n    - name: a\n      type: claude\n      prompt:\n        - type: file\n          path: \"{{inputs.path}}\"\n");
    let output = run(dir.path(), &["q.yaml", "--input", "path=../secret"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("`../secret` is outside the workspace; refused"), "{}", text(&output.stderr));
    assert_eq!(server.requests().len(), 0);
}

#[tokio::test]
async fn a_failing_provider_falls_back_and_errors_name_step_and_provider() {
    let failing = TestServer::start(vec![Reply::raw(503, "overloaded")]).await;
    let server = echo_server(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[providers]\nclaude = [\"anthropic\", \"openai\"]\nmax-retries = 0\n[providers.base-urls]\nanthropic = \"{}\"\nopenai = \"{}\"\n",
        failing.url, server.url
    );
    std::fs::write(dir.path().join("elexirion.toml"), config).unwrap();
    write(dir.path(), "p.yaml", "workflow:\n  name: x\n  steps:\n    - name: only\n      type: claude\n      prompt:\n        - type: static\n          content: hello\n");
    let mut command = tokio::process::Command::new(support::binary());
    command.args(["pipeline", "run", "p.yaml", "--no-cache"]).current_dir(dir.path()).env("ANTHROPIC_API_KEY", "test-key");
    let output = command.output().await.unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "echo: hello\n");
    assert!(text(&output.stderr).contains("anthropic failed (HTTP 503: overloaded); trying the next provider"), "{}", text(&output.stderr));
    assert!(!text(&output.stderr).contains("test-key"));

    let rejecting = TestServer::start(vec![Reply::json(400, &json!({ "error": { "message": "model not found" } }))]).await;
    let dir = workspace(&rejecting.url);
    write(dir.path(), "p.yaml", "workflow:\n  name: x\n  steps:\n    - name: only\n      type: claude\n      prompt:\n        - type: static\n          content: hello\n");
    let output = run(dir.path(), &["p.yaml"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("step `only` failed (openai): HTTP 400: model not found"), "{}", text(&output.stderr));
}

#[tokio::test]
async fn variables_conditions_and_a_bounded_while_loop_run_without_a_model() {
    let server = echo_server(&[]).await;
    let dir = workspace(&server.url);
    write(dir.path(), "p.yaml", "workflow:
  name: counting
  variables:
    count: 0
  steps:
    - name: loop
      type: while_loop
      condition: \"state.count < 3\"
      max_iterations: 10
      steps:
        - name: bump
          type: set_variable
          variables:
            count: \"{{state.count + 1}}\"
    - name: never
      type: claude
      condition: \"state.count > 5\"
      prompt:
        - type: static
          content: unreachable
    - name: report
      type: set_variable
      variables:
        summary: \"counted to {{state.count}}\"
");
    let output = run(dir.path(), &["p.yaml", "--json"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["steps"]["loop"]["json"], json!({ "iterations": 3 }));
    assert_eq!(report["steps"]["report"]["json"], json!({ "summary": "counted to 3" }));
    assert!(text(&output.stderr).contains("skipped never"), "{}", text(&output.stderr));
    assert_eq!(server.requests().len(), 0);

    // A loop whose condition never turns false stops at its bound.
    write(dir.path(), "q.yaml", "workflow:\n  name: bounded\n  steps:\n    - name: loop\n      type: while_loop\n      condition: \"true\"\n      max_iterations: 4\n      steps:\n        - name: noop\n          type: set_variable\n          variables:\n            x: 1\n");
    let output = run(dir.path(), &["q.yaml", "--json"]).await;
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["steps"]["loop"]["json"], json!({ "iterations": 4 }));
}

#[tokio::test]
async fn gemini_instructor_answers_must_match_their_schema_and_extract_finds_json() {
    let server = echo_server(&[("GOOD", "```json\n{\"score\": 8, \"summary\": \"fine\"}\n```"), ("BAD", "{\"score\": \"high\"}")]).await;
    let dir = workspace(&server.url);
    let pipeline = |trigger: &str| format!("workflow:
  name: typed
  steps:
    - name: rate
      type: gemini_instructor
      schema:
        type: object
        required: [score]
        properties:
          score: {{type: integer}}
      prompt:
        - type: static
          content: \"{trigger}\"
    - name: pick
      type: claude_extract
      extraction_config:
        format: json
      prompt:
        - type: static
          content: \"GOOD again\"
");
    write(dir.path(), "good.yaml", &pipeline("GOOD"));
    let output = run(dir.path(), &["good.yaml", "--json"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["steps"]["rate"]["json"], json!({ "score": 8, "summary": "fine" }));
    assert_eq!(report["steps"]["pick"]["json"]["summary"], "fine");

    write(dir.path(), "bad.yaml", &pipeline("BAD"));
    let output = run(dir.path(), &["bad.yaml"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("step `rate` failed: the answer does not match its schema"), "{}", text(&output.stderr));
}

#[tokio::test]
async fn slow_models_hit_the_step_and_run_limits_instead_of_hanging() {
    let slow = TestServer::start(vec![Reply::json(200, &json!({ "choices": [{ "message": { "content": "late" } }] })).delayed(std::time::Duration::from_secs(10))]).await;
    let dir = workspace(&slow.url);
    write(dir.path(), "step.yaml", "workflow:\n  name: x\n  steps:\n    - name: slow\n      type: claude\n      claude_options:\n        timeout_ms: 300\n      prompt:\n        - type: static\n          content: hi\n");
    let started = std::time::Instant::now();
    let output = run(dir.path(), &["step.yaml", "--no-cache"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("step `slow` failed: no answer within the step's limit of 0.3 s"), "{}", text(&output.stderr));

    write(dir.path(), "run.yaml", "workflow:\n  name: x\n  steps:\n    - name: slow\n      type: claude\n      prompt:\n        - type: static\n          content: hi\n");
    let output = run(dir.path(), &["run.yaml", "--no-cache", "--timeout", "1"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("the run took longer than 1 s"), "{}", text(&output.stderr));
    assert!(started.elapsed() < std::time::Duration::from_secs(8), "{:?}", started.elapsed());
}

/// Dropping a run (what cancelling does) closes its request at once.
#[tokio::test]
async fn cancelling_a_run_closes_the_request_in_flight() {
    use tokio::io::AsyncReadExt;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let closed = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buffer = [0u8; 4096];
        let started = std::time::Instant::now();
        // Never answer; wait for the client to hang up.
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            }
        }
    });
    let mut providers = elexirion::config::ProviderSettings::default();
    providers.claude = vec!["openai".into()];
    providers.base_urls.insert("openai".into(), url);
    let options = elexirion::pipeline::run::RunOptions {
        fresh: false,
        workspace: std::env::temp_dir(),
        inputs: Default::default(),
        cache_dir: None,
        providers,
        run_timeout: std::time::Duration::from_secs(60),
        store: None,
        mode: None,
    };
    let source = "workflow:\n  name: x\n  steps:\n    - name: wait\n      type: claude\n      prompt:\n        - type: static\n          content: hi\n";
    let events: elexirion::pipeline::run::EventSink = std::sync::Arc::new(|_| {});
    let cancelled = tokio::time::timeout(std::time::Duration::from_millis(300), elexirion::pipeline::run::run(source, options, events)).await;
    assert!(cancelled.is_err(), "the run was still waiting");
    let open_for = tokio::time::timeout(std::time::Duration::from_secs(5), closed).await.expect("the connection was closed").unwrap();
    assert!(open_for < std::time::Duration::from_secs(2), "{open_for:?}");
}

fn shipped(name: &str) -> String {
    format!("{}/../pipelines/{name}.yaml", env!("CARGO_MANIFEST_DIR"))
}

const FIXED: &str = "defmodule App.Worker do
  use GenServer

  def fetch(server), do: GenServer.call(server, :fetch, 30_000)

  @impl true
  def init(state), do: {:ok, state}

  @impl true
  def handle_call(:fetch, _from, state), do: {:reply, state, state}
end
";

#[tokio::test]
async fn the_shipped_refactor_pipeline_prints_a_diff_and_writes_it() {
    static SCRIPT: &[(&str, &str)] = &[
        ("List the OTP and process anti-patterns", "{\"issues\": [{\"problem\": \"call with :infinity\", \"where\": \"fetch/1\", \"fix\": \"bounded timeout\"}]}"),
        ("Rewrite the Elixir code", "Here is the fix:\n```elixir\ndefmodule App.Worker do\n  use GenServer\n\n  def fetch(server), do: GenServer.call(server, :fetch, 30_000)\n\n  @impl true\n  def init(state), do: {:ok, state}\n\n  @impl true\n  def handle_call(:fetch, _from, state), do: {:reply, state, state}\nend\n```"),
    ];
    let server = echo_server(SCRIPT).await;
    let dir = workspace(&server.url);
    write(dir.path(), "lib/app/worker.ex", support::WORKER);

    let output = run(dir.path(), &[&shipped("fix_otp_antipatterns"), "--file", "lib/app/worker.ex"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let diff = text(&output.stdout);
    assert!(diff.contains("-  def fetch(server), do: GenServer.call(server, :fetch, :infinity)"), "{diff}");
    assert!(diff.contains("+  def fetch(server), do: GenServer.call(server, :fetch, 30_000)"), "{diff}");
    let diagnose = server.requests()[0].json()["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string();
    assert!(diagnose.contains("EXR005 genserver-call-infinity"), "the linter's findings reach the prompt: {diagnose}");
    assert!(diagnose.contains("defmodule App.Worker do"), "{diagnose}");
    assert_eq!(std::fs::read_to_string(dir.path().join("lib/app/worker.ex")).unwrap(), support::WORKER, "no --write, no change");

    let output = run(dir.path(), &[&shipped("fix_otp_antipatterns"), "--file", "lib/app/worker.ex", "--write"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(std::fs::read_to_string(dir.path().join("lib/app/worker.ex")).unwrap(), FIXED);
}

#[tokio::test]
async fn a_broken_rewrite_is_refused_and_the_file_is_untouched() {
    static SCRIPT: &[(&str, &str)] = &[
        ("List the OTP", "{\"issues\": []}"),
        ("Rewrite the Elixir code", "```elixir\ndefmodule App.Worker do\n  def fetch(server), do: GenServer.call(server, :fetch\nend\n```"),
    ];
    let server = echo_server(SCRIPT).await;
    let dir = workspace(&server.url);
    write(dir.path(), "lib/app/worker.ex", support::WORKER);
    let output = run(dir.path(), &[&shipped("fix_otp_antipatterns"), "--file", "lib/app/worker.ex", "--write"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("has syntax errors (") && text(&output.stderr).contains("nothing was changed"), "{}", text(&output.stderr));
    assert_eq!(std::fs::read_to_string(dir.path().join("lib/app/worker.ex")).unwrap(), support::WORKER);

    static PROSE: &[(&str, &str)] = &[("List the OTP", "{\"issues\": []}"), ("Rewrite", "I cannot help with that.")];
    let server = echo_server(PROSE).await;
    let dir = workspace(&server.url);
    write(dir.path(), "lib/app/worker.ex", support::WORKER);
    let output = run(dir.path(), &[&shipped("fix_otp_antipatterns"), "--file", "lib/app/worker.ex", "--write"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("the answer holds no code block and no diff"), "{}", text(&output.stderr));
}

#[tokio::test]
async fn the_shipped_review_pipeline_prints_anchored_findings() {
    static SCRIPT: &[(&str, &str)] = &[(
        "Review the Elixir file",
        "{\"findings\": [{\"rule\": \"unbounded-state\", \"severity\": \"warning\", \"message\": \"the state is returned to every caller\", \"line\": 11, \"snippet\": \"{:reply, state, state}\"}, {\"rule\": \"ghost\", \"message\": \"quotes nothing real\", \"line\": 2, \"snippet\": \"Enum.ghost()\"}]}",
    )];
    let server = echo_server(SCRIPT).await;
    let dir = workspace(&server.url);
    write(dir.path(), "lib/app/worker.ex", support::WORKER);
    let output = run(dir.path(), &[&shipped("otp_review"), "--file", "lib/app/worker.ex"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let lines: Vec<String> = text(&output.stdout).lines().map(str::to_string).collect();
    assert_eq!(lines[0], "lib/app/worker.ex:10:46: warning unbounded-state the state is returned to every caller");
    assert_eq!(lines[1], "lib/app/worker.ex:2:3: warning ghost quotes nothing real (the code it quotes is not in the file; placed at its line)");
    assert_eq!(lines[2], "2 findings from otp_review.");
}

#[tokio::test]
async fn generated_tests_go_to_the_matching_test_file() {
    static SCRIPT: &[(&str, &str)] = &[
        ("List the behaviours", "{\"cases\": [{\"function\": \"fetch/1\", \"case\": \"returns the state\", \"expect\": \"state\"}]}"),
        ("Write an ExUnit test module", "```elixir\ndefmodule App.WorkerTest do\n  use ExUnit.Case, async: true\n\n  test \"fetch/1 returns the state\" do\n    server = start_supervised!({App.Worker, %{a: 1}})\n    assert App.Worker.fetch(server) == %{a: 1}\n  end\nend\n```"),
    ];
    let server = echo_server(SCRIPT).await;
    let dir = workspace(&server.url);
    write(dir.path(), "lib/app/worker.ex", support::WORKER);
    let output = run(dir.path(), &[&shipped("generate_tests"), "--file", "lib/app/worker.ex", "--write"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let written = std::fs::read_to_string(dir.path().join("test/app/worker_test.exs")).unwrap();
    assert!(written.starts_with("defmodule App.WorkerTest do\n  use ExUnit.Case, async: true"), "{written}");
    assert!(text(&output.stdout).contains("+++ b/test/app/worker_test.exs"), "{}", text(&output.stdout));
}

async fn store(dir: &Path, args: &[&str]) -> Output {
    let output = tokio::process::Command::new(support::binary()).arg("store").args(args).current_dir(dir).output().await.unwrap();
    assert!(output.status.success(), "store {args:?}: {}", text(&output.stderr));
    output
}

/// One claude step whose prompt names one input, `name`.
const RENAME: &str = include_str!("fixtures/pipelines/rename.yaml");

/// Runs are recorded; an accepted one becomes a demo of a learned version,
/// which optimized mode then sends the way DSPy's ChatAdapter would.
#[tokio::test]
async fn accepted_results_become_the_demos_optimized_mode_sends() {
    let server = echo_server(&[]).await;
    let dir = workspace(&server.url);
    write(dir.path(), "pipelines/rename.yaml", RENAME);

    let first = run(dir.path(), &["pipelines/rename.yaml", "--input", "name=do_it"]).await;
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(text(&first.stderr).contains("recorded as run"), "{}", text(&first.stderr));
    let rejected = run(dir.path(), &["pipelines/rename.yaml", "--input", "name=x"]).await;
    assert!(rejected.status.success());
    store(dir.path(), &["verdict", "rejected", "--pipeline", "rename"]).await;
    let invocation = text(&first.stderr).split("recorded as run ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    std::fs::write(dir.path().join("final.txt"), "send_invoice").unwrap();
    store(dir.path(), &["verdict", "edited", "--invocation", &invocation, "--final-file", "final.txt"]).await;

    let exported = store(dir.path(), &["export-examples", "--pipeline", "rename", "--step", "suggest"]).await;
    let rows: Vec<Value> = text(&exported.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows, [
        json!({ "name": "do_it", "response": "send_invoice", "verdict": "edited" }),
        json!({ "name": "x", "response": "echo: Suggest a better name for x", "verdict": "rejected" }),
    ]);
    let learned = store(dir.path(), &["learn", "--pipeline", "rename"]).await;
    assert!(text(&learned.stdout).contains("learned version 2 (1 demos from 1 accepted examples)"), "{}", text(&learned.stdout));

    // Untested, it does not replace the written prompt in optimized mode...
    let unproven = run(dir.path(), &["pipelines/rename.yaml", "--input", "name=handle", "--mode", "optimized"]).await;
    assert!(text(&unproven.stderr).contains("suggest: prompt version 1 (manual)"), "{}", text(&unproven.stderr));
    // ...until it has the evidence: here an evaluation's score on 10 examples.
    elexirion::store::Store::open(&dir.path().join(".elexirion/store.db")).unwrap().store.set_score(2, 0.9, 10).unwrap();
    let optimized = run(dir.path(), &["pipelines/rename.yaml", "--input", "name=handle", "--mode", "optimized"]).await;
    assert!(optimized.status.success(), "{}", text(&optimized.stderr));
    assert!(text(&optimized.stderr).contains("suggest: prompt version 2 (learned)"), "{}", text(&optimized.stderr));
    let sent = server.requests().last().unwrap().json();
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4, "system, the demo's user and assistant turns, the input: {sent:#}");
    let system = messages[0]["content"].as_str().unwrap();
    assert!(system.starts_with("Your input fields are:\n1. `name` (str)\nYour output fields are:\n1. `response` (str)"), "{system}");
    assert!(system.ends_with("In adhering to this structure, your objective is: \n        Suggest a better name for `name`"), "{system}");
    assert_eq!(messages[1]["content"], "[[ ## name ## ]]\ndo_it");
    assert_eq!(messages[2]["content"], "[[ ## response ## ]]\nsend_invoice\n\n[[ ## completed ## ]]");
    assert!(messages[3]["content"].as_str().unwrap().starts_with("[[ ## name ## ]]\nhandle\n\nRespond with the corresponding output fields"));

    let versions = store(dir.path(), &["versions", "--pipeline", "rename", "--json"]).await;
    let versions: Value = serde_json::from_str(&text(&versions.stdout)).unwrap();
    assert_eq!(versions[0]["record"]["runs"], 3);
    assert_eq!((versions[0]["record"]["edited"].clone(), versions[0]["record"]["rejected"].clone()), (json!(1), json!(1)));
    assert_eq!(versions[1]["record"]["runs"], 1);
    assert_eq!(versions[1]["parent"], 1);

    // Evaluation: the written prompt answers the accepted example; the echo
    // model's answer is scored against "send_invoice" (token F1: 0). The
    // learned version is not scored on it: it is its demo.
    let evaluation = run(dir.path(), &["pipelines/rename.yaml", "--mode", "evaluation"]).await;
    assert!(evaluation.status.success(), "{}", text(&evaluation.stderr));
    let report = text(&evaluation.stdout);
    assert!(report.contains("suggest (token_f1):") && report.contains("version    1 manual   0.000 on 1 examples\n"), "{report}");
    assert!(report.contains("version    2 learned    -   on 0 examples, 1 of its demos left out"), "{report}");
}

#[tokio::test]
async fn a_broken_store_file_does_not_stop_a_run() {
    let server = echo_server(&[]).await;
    let dir = workspace(&server.url);
    write(dir.path(), "pipelines/rename.yaml", RENAME);
    write(dir.path(), ".elexirion/store.db", "garbage, not SQLite ......................................................");
    let output = run(dir.path(), &["pipelines/rename.yaml", "--input", "name=f"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("was unreadable") && text(&output.stderr).contains("moved to"), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "echo: Suggest a better name for f\n");
}

// The workspace is a wall: symlinks and `..` are resolved before any read
// or write, and what lands outside the workspace is refused.

/// A temporary directory holding a workspace (`nest/ws`, with the model's
/// configuration) and, beside it, `outside/` with a secret in it.
struct Fenced {
    dir: tempfile::TempDir,
}

impl Fenced {
    fn new(server_url: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = format!("[providers]\nclaude = [\"openai\"]\ngemini = [\"openai\"]\nmax-retries = 0\n[providers.base-urls]\nopenai = \"{server_url}\"\n");
        write(dir.path(), "nest/ws/elexirion.toml", &config);
        write(dir.path(), "outside/secret.ex", "SECRET = 42\n");
        write(dir.path(), "outside/dir/notes.md", "SECRET NOTES\n");
        Self { dir }
    }

    fn ws(&self) -> std::path::PathBuf {
        self.dir.path().join("nest/ws")
    }

    fn outside(&self) -> std::path::PathBuf {
        self.dir.path().join("outside")
    }
}

const GENERATED: &[(&str, &str)] = &[
    ("List the behaviours", "{\"cases\": []}"),
    ("Write an ExUnit test module", "```elixir\ndefmodule App.WorkerTest do\n  use ExUnit.Case, async: true\nend\n```"),
];

fn file_item_pipeline(path: &str) -> String {
    format!("workflow:\n  name: read\n  steps:\n    - name: a\n      type: claude\n      prompt:\n        - type: file\n          path: \"{path}\"\n")
}

#[tokio::test]
async fn file_items_that_are_symlinks_out_of_the_workspace_are_refused_and_validate_reports_them() {
    let server = echo_server(&[]).await;
    let fenced = Fenced::new(&server.url);
    let ws = fenced.ws();
    std::fs::create_dir_all(ws.join("lib")).unwrap();
    std::os::unix::fs::symlink(fenced.outside().join("secret.ex"), ws.join("lib/secret.ex")).unwrap();
    std::os::unix::fs::symlink(fenced.outside().join("dir"), ws.join("docs")).unwrap();
    for path in ["lib/secret.ex", "docs/notes.md"] {
        write(&ws, "p.yaml", &file_item_pipeline(path));
        let output = run(&ws, &["p.yaml"]).await;
        assert_eq!(output.status.code(), Some(1), "{path}: {}", text(&output.stderr));
        assert!(text(&output.stderr).contains(&format!("`{path}` is outside the workspace; refused")), "{}", text(&output.stderr));
        assert_eq!(server.requests().len(), 0, "{path} reached the model");

        let validated = std::process::Command::new(support::binary()).args(["pipeline", "validate", "p.yaml"]).current_dir(&ws).output().unwrap();
        let report = text(&validated.stdout);
        assert!(report.contains(&format!("EXP012 `{path}` is outside the workspace")), "{report}");
    }

    // A symlink that stays inside is an ordinary file.
    write(&ws, "lib/real.ex", "defmodule Real do\nend\n");
    std::os::unix::fs::symlink(ws.join("lib/real.ex"), ws.join("lib/alias.ex")).unwrap();
    write(&ws, "p.yaml", &file_item_pipeline("lib/alias.ex"));
    let output = run(&ws, &["p.yaml"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "echo: defmodule Real do\nend\n");
}

#[tokio::test]
async fn generated_tests_do_not_follow_a_symlinked_test_directory_out_of_the_workspace() {
    let server = echo_server(GENERATED).await;
    let fenced = Fenced::new(&server.url);
    let ws = fenced.ws();
    write(&ws, "lib/app/worker.ex", support::WORKER);
    std::fs::create_dir_all(fenced.outside().join("tests")).unwrap();
    std::os::unix::fs::symlink(fenced.outside().join("tests"), ws.join("test")).unwrap();
    let output = run(&ws, &[&shipped("generate_tests"), "--file", "lib/app/worker.ex", "--write"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("`test/app/worker_test.exs` is outside the workspace; refused"), "{}", text(&output.stderr));
    assert_eq!(std::fs::read_dir(fenced.outside().join("tests")).unwrap().count(), 0, "nothing was written outside");
}

#[tokio::test]
async fn relative_paths_resolve_against_the_workspace_not_the_current_directory() {
    let server = echo_server(GENERATED).await;
    let fenced = Fenced::new(&server.url);
    let ws = fenced.ws();
    write(&ws, "lib/app/worker.ex", support::WORKER);
    let elsewhere = fenced.dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let output = run(&elsewhere, &[&shipped("generate_tests"), "--workspace", ws.to_str().unwrap(), "--file", "lib/app/worker.ex", "--write"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(ws.join("test/app/worker_test.exs").is_file(), "the test goes to the workspace");
    assert!(!elsewhere.join("test").exists(), "nothing is written under the current directory");

    std::fs::remove_file(ws.join("test/app/worker_test.exs")).unwrap();
    let absolute = ws.join("lib/app/worker.ex");
    let output = run(&elsewhere, &[&shipped("generate_tests"), "--workspace", ws.to_str().unwrap(), "--file", absolute.to_str().unwrap(), "--write"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("+++ b/test/app/worker_test.exs"), "{}", text(&output.stdout));
    assert!(ws.join("test/app/worker_test.exs").is_file(), "an absolute path is named from the workspace");
    assert!(!elsewhere.join("test").exists(), "nothing is written under the current directory");
}

#[tokio::test]
async fn a_file_outside_the_workspace_gets_no_generated_test() {
    let server = echo_server(GENERATED).await;
    let fenced = Fenced::new(&server.url);
    let ws = fenced.ws();
    write(&fenced.outside(), "x.ex", support::WORKER);
    let output = run(&ws, &[&shipped("generate_tests"), "--file", "../../outside/x.ex", "--write"]).await;
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("`../../outside/x.ex` is outside the workspace; refused"), "{}", text(&output.stderr));
    assert!(!fenced.dir.path().join("nest/outside").exists(), "no test was written beside the workspace");
    assert_eq!(server.requests().len(), 0);
}

/// The last message a request to an OpenAI-compatible server sends.
fn last_prompt(request: &http::Recorded) -> String {
    request.json()["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_rewrite_cut_at_the_output_limit_says_so_and_is_not_cached() {
    let server = TestServer::start_with(|request| {
        let (content, reason) = if last_prompt(request).contains("List the OTP") {
            ("{\"issues\": []}", "stop")
        } else {
            ("```elixir\ndefmodule App.Worker do\n  use GenServer\n", "length")
        };
        Reply::json(200, &json!({ "choices": [{ "message": { "content": content }, "finish_reason": reason }] }))
    })
    .await;
    let dir = workspace(&server.url);
    write(dir.path(), "lib/app/worker.ex", support::WORKER);
    for attempt in ["first", "second"] {
        let output = run(dir.path(), &[&shipped("fix_otp_antipatterns"), "--file", "lib/app/worker.ex", "--write"]).await;
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{attempt}: {stderr}");
        assert!(stderr.contains("step `rewrite` failed (openai): the answer was cut off at the output limit of"), "{attempt}: {stderr}");
        assert_eq!(std::fs::read_to_string(dir.path().join("lib/app/worker.ex")).unwrap(), support::WORKER, "{attempt}");
    }
    let rewrites = server.requests().iter().filter(|r| last_prompt(r).contains("Rewrite the Elixir code")).count();
    assert_eq!(rewrites, 2, "the cut answer was not cached: the second run asked again");
    assert_eq!(server.requests().len(), 3, "the complete diagnosis was cached");
    let versions = store(dir.path(), &["versions", "--pipeline", "fix_otp_antipatterns", "--step", "rewrite", "--json"]).await;
    let versions: Value = serde_json::from_str(&text(&versions.stdout)).unwrap();
    assert_eq!(versions[0]["record"]["errors"], 2, "both cut runs are recorded as failures: {versions:#}");
}

/// One step with the `production` preset (2048 tokens) whose prompt is the file.
const REWRITE_INPUT: &str = "workflow:
  name: rewrite_input
  steps:
    - name: rewrite
      type: claude_smart
      preset: production
      prompt:
        - type: static
          content: \"Rewrite this: {{inputs.code}}\"
";

#[tokio::test]
async fn a_large_input_raises_max_tokens_above_the_preset_up_to_the_model_limit() {
    let server = echo_server(&[]).await;
    let dir = workspace(&server.url);
    write(dir.path(), "p.yaml", REWRITE_INPUT);
    let sent_max_tokens = |index: usize| server.requests()[index].json()["max_tokens"].as_u64().unwrap();
    let line = "  def handle_call(:fetch, _from, state), do: {:reply, state, state}\n";

    for (index, (lines, expected)) in [(3, "the preset"), (150, "the estimate"), (3000, "the model limit")].into_iter().enumerate() {
        write(dir.path(), "code.ex", &line.repeat(lines));
        let output = run(dir.path(), &["p.yaml", "--input-file", "code=code.ex", "--no-cache"]).await;
        let stderr = text(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        let prompt = last_prompt(&server.requests()[index]);
        let estimate = (prompt.len() as f64 / 3.5 * 1.25).ceil() as u64 + 1024;
        let wanted = match expected {
            "the preset" => 2048,
            "the estimate" => estimate,
            _ => 16_384, // gpt-4o-mini, the default model of an OpenAI-compatible provider
        };
        assert_eq!(sent_max_tokens(index), wanted, "{lines} lines: {expected} (estimate {estimate})");
        let warned = stderr.contains("too large to come back whole");
        assert_eq!(warned, expected == "the model limit", "{lines} lines: {stderr}");
    }
}

#[tokio::test]
async fn json_with_file_prints_the_whole_outcome_as_one_document() {
    static SCRIPT: &[(&str, &str)] = &[
        ("List the OTP and process anti-patterns", "{\"issues\": []}"),
        ("Rewrite the Elixir code", "```elixir\ndefmodule App.Worker do\n  use GenServer\n\n  def fetch(server), do: GenServer.call(server, :fetch, 30_000)\n\n  @impl true\n  def init(state), do: {:ok, state}\n\n  @impl true\n  def handle_call(:fetch, _from, state), do: {:reply, state, state}\nend\n```"),
    ];
    let server = echo_server(SCRIPT).await;
    let dir = workspace(&server.url);
    write(dir.path(), "lib/app/worker.ex", support::WORKER);
    let output = run(dir.path(), &[&shipped("fix_otp_antipatterns"), "--file", "lib/app/worker.ex", "--json"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(document["file"], "lib/app/worker.ex");
    assert!(document["run_id"].as_str().is_some_and(|id| !id.is_empty()), "{document:#}");
    let edit = &document["edit"];
    assert!(edit["diff"].as_str().unwrap().contains("+  def fetch(server), do: GenServer.call(server, :fetch, 30_000)"), "{document:#}");
    assert_eq!(edit["verification"]["fixed"]["EXR005"], 1, "{document:#}");
    assert_eq!(edit["written"], false);
}

#[tokio::test]
async fn a_rewrite_that_drops_a_public_function_is_refused_naming_it() {
    static SCRIPT: &[(&str, &str)] = &[
        ("List the OTP and process anti-patterns", "{\"issues\": []}"),
        ("Rewrite the Elixir code", "```elixir\ndefmodule App.Worker do\n  use GenServer\n\n  @impl true\n  def init(state), do: {:ok, state}\n\n  @impl true\n  def handle_call(:fetch, _from, state), do: {:reply, state, state}\nend\n```"),
    ];
    let server = echo_server(SCRIPT).await;
    let dir = workspace(&server.url);
    write(dir.path(), "lib/app/worker.ex", support::WORKER);
    let output = run(dir.path(), &[&shipped("fix_otp_antipatterns"), "--file", "lib/app/worker.ex", "--write"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("removes public API or tests: App.Worker.fetch/1"), "{}", text(&output.stderr));
    assert_eq!(std::fs::read_to_string(dir.path().join("lib/app/worker.ex")).unwrap(), support::WORKER);
}

#[tokio::test]
async fn generated_tests_never_delete_a_hand_written_test() {
    static SCRIPT: &[(&str, &str)] = &[
        ("List the behaviours", "{\"cases\": []}"),
        ("Write an ExUnit test module", "```elixir\ndefmodule App.WorkerTest do\n  use ExUnit.Case, async: true\n\n  test \"fetch/1 returns the state\" do\n    assert true\n  end\nend\n```"),
    ];
    let server = echo_server(SCRIPT).await;
    let dir = workspace(&server.url);
    write(dir.path(), "lib/app/worker.ex", support::WORKER);
    let existing = "defmodule App.WorkerTest do\n  use ExUnit.Case\n\n  test \"hand-written: init keeps the state\" do\n    assert {:ok, 1} = App.Worker.init(1)\n  end\nend\n";
    write(dir.path(), "test/app/worker_test.exs", existing);
    let output = run(dir.path(), &[&shipped("generate_tests"), "--file", "lib/app/worker.ex", "--write"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    assert!(text(&output.stderr).contains("test \"hand-written: init keeps the state\""), "{}", text(&output.stderr));
    assert_eq!(std::fs::read_to_string(dir.path().join("test/app/worker_test.exs")).unwrap(), existing);
}

#[tokio::test]
async fn the_cache_and_the_store_stay_inside_the_workspace() {
    static SCRIPT: &[(&str, &str)] = &[("SCAN", "{\"issues\": []}")];
    let server = echo_server(SCRIPT).await;
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("victim.txt"), "not a database").unwrap();
    let pipeline = "workflow:\n  name: scan\n  steps:\n    - name: scan\n      type: claude\n      prompt:\n        - type: static\n          content: \"SCAN\"\n";

    // A symlinked `.elexirion` would carry the cache and the store out.
    let dir = workspace(&server.url);
    write(dir.path(), "scan.yaml", pipeline);
    std::os::unix::fs::symlink(outside.path(), dir.path().join(".elexirion")).unwrap();
    let output = run(dir.path(), &["scan.yaml"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("outside the workspace"), "{}", text(&output.stderr));

    // A cloned repository's configuration naming a file outside as the store.
    let dir = workspace(&server.url);
    write(dir.path(), "scan.yaml", pipeline);
    let config = std::fs::read_to_string(dir.path().join("elexirion.toml")).unwrap();
    let victim = outside.path().join("victim.txt");
    std::fs::write(dir.path().join("elexirion.toml"), format!("{config}[store]\npath = \"{}\"\n", victim.display())).unwrap();
    let output = run(dir.path(), &["scan.yaml"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));

    let left: Vec<String> = std::fs::read_dir(outside.path()).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(left, ["victim.txt"], "nothing written or moved outside the workspace");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "not a database");
}

#[tokio::test]
async fn an_unusable_answer_gets_one_repair_request_saying_what_was_wrong() {
    static SCRIPT: &[(&str, &str)] = &[
        ("List the OTP and process anti-patterns", "{\"issues\": []}"),
        ("Please answer again with the whole new file", "```elixir\ndefmodule App.Worker do\n  use GenServer\n\n  def fetch(server), do: GenServer.call(server, :fetch, 30_000)\n\n  @impl true\n  def init(state), do: {:ok, state}\n\n  @impl true\n  def handle_call(:fetch, _from, state), do: {:reply, state, state}\nend\n```"),
        ("Rewrite the Elixir code", "I'm sorry, I can't rewrite this module without more context."),
    ];
    let server = echo_server(SCRIPT).await;
    let dir = workspace(&server.url);
    write(dir.path(), "lib/app/worker.ex", support::WORKER);
    let output = run(dir.path(), &[&shipped("fix_otp_antipatterns"), "--file", "lib/app/worker.ex", "--write"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("asking openai once more"), "{}", text(&output.stderr));
    let repair = server.requests().last().unwrap().json();
    let messages = repair["messages"].as_array().unwrap();
    assert!(messages[messages.len() - 2]["content"].as_str().unwrap().contains("I'm sorry"), "the repair continues the conversation: {repair:#}");
    assert_eq!(std::fs::read_to_string(dir.path().join("lib/app/worker.ex")).unwrap(), FIXED);
}

#[tokio::test]
async fn the_model_sees_the_supervision_tree_the_callers_and_the_existing_tests() {
    static SCRIPT: &[(&str, &str)] = &[
        ("List the OTP and process anti-patterns", "{\"issues\": []}"),
        ("Rewrite the Elixir code", "```elixir\ndefmodule App.Worker do\n  use GenServer\n\n  def fetch(server), do: GenServer.call(server, :fetch, 30_000)\n\n  @impl true\n  def init(state), do: {:ok, state}\n\n  @impl true\n  def handle_call(:fetch, _from, state), do: {:reply, state, state}\nend\n```"),
        ("Write an ExUnit test module", "```elixir\ndefmodule App.WorkerTest do\n  use ExUnit.Case\n\n  test \"hand-written: init keeps the state\" do\n    assert {:ok, 1} = App.Worker.init(1)\n  end\n\n  test \"fetch/1 returns the state\" do\n    assert true\n  end\nend\n```"),
        ("List the behaviours", "{\"cases\": []}"),
    ];
    let server = echo_server(SCRIPT).await;
    let dir = workspace(&server.url);
    write(dir.path(), "lib/app/worker.ex", support::WORKER);
    write(dir.path(), "lib/app/application.ex", "defmodule App.Application do\n  use Application\n\n  def start(_type, _args) do\n    children = [App.Repo, {App.Worker, %{}}]\n    Supervisor.start_link(children, strategy: :one_for_one)\n  end\nend\n");
    write(dir.path(), "lib/app/client.ex", "defmodule App.Client do\n  def value(server), do: App.Worker.fetch(server)\nend\n");
    let existing = "defmodule App.WorkerTest do\n  use ExUnit.Case\n\n  test \"hand-written: init keeps the state\" do\n    assert {:ok, 1} = App.Worker.init(1)\n  end\nend\n";
    write(dir.path(), "test/app/worker_test.exs", existing);

    let output = run(dir.path(), &[&shipped("fix_otp_antipatterns"), "--file", "lib/app/worker.ex"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let diagnose = last_prompt(&server.requests()[0]);
    assert!(diagnose.contains("App.Application") && diagnose.contains("App.Repo"), "the supervision tree: {diagnose}");
    assert!(diagnose.contains("App.Client") && diagnose.contains("App.Worker.fetch(server)"), "the callers: {diagnose}");

    let output = run(dir.path(), &[&shipped("generate_tests"), "--file", "lib/app/worker.ex", "--write"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let write_tests = last_prompt(server.requests().last().unwrap());
    assert!(write_tests.contains("hand-written: init keeps the state"), "the existing tests: {write_tests}");
    let written = std::fs::read_to_string(dir.path().join("test/app/worker_test.exs")).unwrap();
    assert!(written.contains("hand-written: init keeps the state") && written.contains("fetch/1 returns the state"), "{written}");
}

#[tokio::test]
async fn an_answer_that_cannot_be_used_counts_against_its_prompt_and_teaches_nothing() {
    static SCRIPT: &[(&str, &str)] = &[
        ("List the OTP and process anti-patterns", "{\"issues\": []}"),
        ("Rewrite the Elixir code", "I'm sorry, I can't help with that."),
        ("Please answer again", "Still no code, sorry."),
    ];
    let server = echo_server(SCRIPT).await;
    let dir = workspace(&server.url);
    write(dir.path(), "lib/app/worker.ex", support::WORKER);
    let output = run(dir.path(), &[&shipped("fix_otp_antipatterns"), "--file", "lib/app/worker.ex"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("holds no code block"), "{}", text(&output.stderr));
    let store = elexirion::store::Store::open(&dir.path().join(".elexirion/store.db")).unwrap().store;
    let rewrite = store.versions("fix_otp_antipatterns", Some("rewrite")).unwrap();
    assert_eq!((rewrite[0].record.runs, rewrite[0].record.errors), (1, 1), "{:?}", rewrite[0].record);
    assert!(store.examples("fix_otp_antipatterns", "rewrite", false).unwrap().is_empty(), "an unusable answer is no example");
    assert_eq!(store.examples("fix_otp_antipatterns", "diagnose", false).unwrap().len(), 1, "the usable diagnosis is one");
}

#[tokio::test]
async fn code_elixir_rejects_is_refused_never_cached_and_json_says_why() {
    // Python's floor division: tree-sitter reads it, the compiler does not.
    static SCRIPT: &[(&str, &str)] = &[
        ("List the OTP and process anti-patterns", "{\"issues\": []}"),
        ("Rewrite the Elixir code", "```elixir\ndefmodule App.Worker do\n  @half_minute 60_000 // 2\n  use GenServer\n\n  def fetch(server), do: GenServer.call(server, :fetch, 30_000)\n\n  @impl true\n  def init(state), do: {:ok, state}\n\n  @impl true\n  def handle_call(:fetch, _from, state), do: {:reply, state, state}\nend\n```"),
    ];
    let server = echo_server(SCRIPT).await;
    let dir = workspace(&server.url);
    write(dir.path(), "lib/app/worker.ex", support::WORKER);
    let output = run(dir.path(), &[&shipped("fix_otp_antipatterns"), "--file", "lib/app/worker.ex", "--write", "--json"]).await;
    assert_eq!(output.status.code(), Some(1));
    let document: Value = serde_json::from_slice(&output.stdout).expect("a JSON document on refusal too");
    assert!(document["error"].as_str().unwrap().contains("Elixir's parser rejects the proposed code (line 2"), "{document:#}");
    assert_eq!(std::fs::read_to_string(dir.path().join("lib/app/worker.ex")).unwrap(), support::WORKER);
    let asked = server.requests().len();
    let _ = run(dir.path(), &[&shipped("fix_otp_antipatterns"), "--file", "lib/app/worker.ex"]).await;
    let rewrites = |requests: &[http::Recorded]| requests.iter().filter(|r| last_prompt(r).contains("Rewrite the Elixir code")).count();
    assert!(rewrites(&server.requests()[asked..]) >= 1, "the refused answer was not served from the cache");
}
