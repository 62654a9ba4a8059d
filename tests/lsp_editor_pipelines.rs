//! AI pipelines from the editor, end to end: the real server over stdio, a
//! scripted model on 127.0.0.1, a workspace in a temporary directory.

#[path = "support/http.rs"]
mod http;
mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::LspClient;

async fn model(script: &'static [(&'static str, &'static str)], delay: Duration) -> http::TestServer {
    http::scripted_model(script, delay).await
}

struct Workspace {
    dir: tempfile::TempDir,
    uri: String,
}

fn new_workspace(model_url: &str) -> Workspace {
    let dir = tempfile::tempdir().unwrap();
    // support::WORKER's anti-pattern (a call with `:infinity`) is an opt-in rule's.
    let config = format!("[rules]\nenable = [\"genserver-call-infinity\"]\n[providers]\nclaude = [\"openai\"]\nmax-retries = 0\n[providers.base-urls]\nopenai = \"{model_url}\"\n");
    std::fs::write(dir.path().join("elexirion.toml"), config).unwrap();
    std::fs::create_dir_all(dir.path().join("lib/app")).unwrap();
    std::fs::write(dir.path().join("lib/app/worker.ex"), support::WORKER).unwrap();
    let uri = format!("file://{}/lib/app/worker.ex", dir.path().display());
    Workspace { dir, uri }
}

fn start(workspace: &Workspace, annotations: bool) -> LspClient {
    let mut client = LspClient::start();
    let mut capabilities = json!({ "window": { "workDoneProgress": true } });
    if annotations {
        capabilities["workspace"] = json!({ "workspaceEdit": { "documentChanges": true, "changeAnnotationSupport": { "groupsOnLabel": true } } });
    }
    let root = format!("file://{}", workspace.dir.path().display());
    client.request("initialize", json!({ "processId": null, "rootUri": root, "capabilities": capabilities }));
    client.notify("initialized", json!({}));
    client.open(&workspace.uri, "elixir", 1, support::WORKER);
    client.diagnostics_for(&workspace.uri);
    client
}

fn actions(client: &mut LspClient, uri: &str) -> Vec<Value> {
    let result = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": support::range([0, 0], [0, 0]), "context": { "diagnostics": [] } }),
    );
    result.as_array().unwrap().iter().filter(|a| a["command"]["command"] == "elexirion.runPipeline").cloned().collect()
}

/// Start the action's run; the id of the request that answers with its outcome.
fn run(client: &mut LspClient, action: &Value) -> i64 {
    let command = &action["command"];
    client.send_request("workspace/executeCommand", json!({ "command": command["command"], "arguments": command["arguments"] }))
}

fn action<'a>(all: &'a [Value], title: &str) -> &'a Value {
    all.iter().find(|a| a["title"] == title).unwrap_or_else(|| panic!("no action {title}: {all:#?}"))
}


/// Start the fix pipeline on `uri`; the server's progress request, answered.
fn start_fix(client: &mut LspClient, uri: &str) -> Value {
    let offered = actions(client, uri);
    run(client, action(&offered, "Fix OTP anti-patterns (AI)"));
    client.answer_request("window/workDoneProgress/create", Value::Null)
}

/// Run the fix pipeline on `uri` and answer its edit with `applied`: the
/// `applyEdit` request and the command's result.
fn fix_and_answer(client: &mut LspClient, uri: &str, applied: bool) -> (Value, Value) {
    let offered = actions(client, uri);
    let id = run(client, action(&offered, "Fix OTP anti-patterns (AI)"));
    client.answer_request("window/workDoneProgress/create", Value::Null);
    let request = client.wait_for("workspace/applyEdit", |m| m["method"] == "workspace/applyEdit");
    client.respond(&request, json!({ "applied": applied }));
    let result = client.response_to(id)["result"].clone();
    (request, result)
}

/// Run the fix pipeline on `uri`: it must be refused with a message saying
/// `reason`, and no edit may reach the editor.
fn expect_refusal(client: &mut LspClient, uri: &str, reason: &str) {
    let offered = actions(client, uri);
    run(client, action(&offered, "Fix OTP anti-patterns (AI)"));
    // Refused before the run (no progress) or after it (the progress is answered).
    let message = loop {
        let next = client.wait_for("an error message", |m| m["method"] == "window/showMessage" || m["method"] == "window/workDoneProgress/create");
        if next["method"] == "window/showMessage" {
            break next;
        }
        client.respond(&next, Value::Null);
    };
    assert!(message["params"]["message"].as_str().unwrap().contains(reason), "{message:#}");
    let others = client.drain_for(Duration::from_millis(300));
    assert!(others.iter().all(|m| m["method"] != "workspace/applyEdit"), "{others:#?}");
}

fn progress_end(client: &mut LspClient) -> String {
    let end = client.wait_for("the progress to end", |m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end");
    end["params"]["value"]["message"].as_str().unwrap_or_default().to_string()
}

const FIX_SCRIPT: &[(&str, &str)] = &[
    ("List the OTP and process anti-patterns", "{\"issues\": [{\"problem\": \"call with :infinity\", \"where\": \"fetch/1\", \"fix\": \"30 s timeout\"}]}"),
    ("Rewrite the Elixir code", "```elixir\ndefmodule App.Worker do\n  use GenServer\n\n  def fetch(server), do: GenServer.call(server, :fetch, 30_000)\n\n  @impl true\n  def init(state), do: {:ok, state}\n\n  @impl true\n  def handle_call(:fetch, _from, state), do: {:reply, state, state}\nend\n```"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelines_are_offered_as_code_actions_and_the_workspace_overrides_ours() {
    let server = model(FIX_SCRIPT, Duration::ZERO).await;
    let workspace = new_workspace(&server.url);
    let mut client = start(&workspace, false);
    let offered = actions(&mut client, &workspace.uri);
    let titles: Vec<&str> = offered.iter().map(|a| a["title"].as_str().unwrap()).collect();
    for title in ["Review OTP design (AI)", "Fix OTP anti-patterns (AI)", "Explain this code (AI)", "Generate ExUnit tests (AI)", "Add specs and docs (AI)"] {
        assert!(titles.contains(&title), "{titles:?}");
    }
    assert_eq!(action(&offered, "Fix OTP anti-patterns (AI)")["kind"], "refactor.rewrite");
    assert_eq!(server.requests().len(), 0, "offering runs nothing");

    std::fs::create_dir_all(workspace.dir.path().join("pipelines")).unwrap();
    let ours = include_str!("../pipelines/otp_review.yaml").replace("Review OTP design (AI)", "Team OTP review");
    std::fs::write(workspace.dir.path().join("pipelines/otp_review.yaml"), ours).unwrap();
    let titles: Vec<String> = actions(&mut client, &workspace.uri).iter().map(|a| a["title"].as_str().unwrap().to_string()).collect();
    assert!(titles.contains(&"Team OTP review".to_string()) && !titles.contains(&"Review OTP design (AI)".to_string()), "{titles:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refactor_arrives_as_an_apply_edit_that_gives_the_new_file() {
    let server = model(FIX_SCRIPT, Duration::ZERO).await;
    let workspace = new_workspace(&server.url);
    let mut client = start(&workspace, true);
    start_fix(&mut client, &workspace.uri);
    let request = client.wait_for("workspace/applyEdit", |m| m["method"] == "workspace/applyEdit");
    let edit = &request["params"]["edit"];
    let change = &edit["documentChanges"][0];
    assert_eq!(change["textDocument"]["version"], 1);
    assert_eq!(edit["changeAnnotations"]["elexirion-pipeline"]["needsConfirmation"], true);
    let edits = change["edits"].as_array().unwrap();
    assert_eq!(edits.len(), 1, "one minimal edit");
    assert_eq!(edits[0]["annotationId"], "elexirion-pipeline");
    assert_eq!(support::apply_lsp_edits(support::WORKER, edits), support::WORKER.replace(":fetch, :infinity)", ":fetch, 30_000)"));
    assert_eq!(edits[0]["range"]["start"]["line"], 3, "only the changed line: {edits:#?}");
    client.respond(&request, json!({ "applied": true }));
    assert!(progress_end(&mut client).starts_with("Applied"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analysis_publishes_anchored_diagnostics_that_follow_edits() {
    static SCRIPT: &[(&str, &str)] = &[(
        "Review the Elixir file",
        "Findings:\n```json\n{\"findings\": [{\"rule\": \"state-leak\", \"severity\": \"warning\", \"message\": \"the whole state goes to callers\", \"line\": 11, \"snippet\": \"{:reply, state, state}\", \"suggestion\": \"{:reply, Map.take(state, [:value]), state}\"}]}\n```",
    )];
    let server = model(SCRIPT, Duration::ZERO).await;
    let workspace = new_workspace(&server.url);
    let mut client = start(&workspace, false);
    let offered = actions(&mut client, &workspace.uri);
    run(&mut client, action(&offered, "Review OTP design (AI)"));
    client.answer_request("window/workDoneProgress/create", Value::Null);
    // The outcome says what the run cost: the loopback model has no price.
    assert_eq!(progress_end(&mut client), "1 finding · cost unknown (no price for openai/gpt-4o-mini; set [providers.prices])");
    let ai = |published: &Value| -> Vec<Value> {
        published["diagnostics"].as_array().unwrap().iter().filter(|d| d["source"] == "elexirion:otp_review").cloned().collect()
    };
    let mut published = client.diagnostics_for(&workspace.uri);
    while ai(&published).is_empty() {
        published = client.diagnostics_for(&workspace.uri);
    }
    let found = ai(&published);
    assert_eq!(found[0]["range"], support::range([9, 45], [9, 67]));
    assert_eq!(found[0]["code"], "state-leak");
    let rules: Vec<&str> = published["diagnostics"].as_array().unwrap().iter().filter_map(|d| d["code"].as_str()).collect();
    assert!(rules.contains(&"EXR005"), "rule diagnostics stay: {rules:?}");

    // Its suggestion is an exact replacement of the quoted code: a quick fix.
    let fixes = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": workspace.uri }, "range": found[0]["range"], "context": { "diagnostics": [], "only": ["quickfix"] } }),
    );
    assert_eq!(fixes[0]["title"], "Apply the suggestion of otp_review");
    let edit = &fixes[0]["edit"]["changes"][workspace.uri.as_str()][0];
    assert_eq!(edit["range"], found[0]["range"]);
    assert_eq!(edit["newText"], "{:reply, Map.take(state, [:value]), state}");

    // A line added above moves it down; deleting the code it quotes clears it.
    client.change(&workspace.uri, 2, [0, 0], [0, 0], "# a comment\n");
    let moved = ai(&client.diagnostics_for(&workspace.uri));
    assert_eq!(moved[0]["range"], support::range([10, 45], [10, 67]));
    client.change(&workspace.uri, 3, [10, 45], [10, 67], "{:reply, :ok, state}");
    assert!(ai(&client.diagnostics_for(&workspace.uri)).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_or_broken_answers_are_refused_with_a_message() {
    let server = model(FIX_SCRIPT, Duration::from_millis(700)).await;
    let workspace = new_workspace(&server.url);
    let mut client = start(&workspace, false);
    start_fix(&mut client, &workspace.uri);
    client.change(&workspace.uri, 2, [0, 0], [0, 0], "# edited meanwhile\n");
    let message = client.wait_for("an error message", |m| m["method"] == "window/showMessage");
    assert!(message["params"]["message"].as_str().unwrap().contains("the file changed while the pipeline ran"), "{message:#}");
    assert!(progress_end(&mut client).starts_with("Not applied · cost "));

    static BROKEN: &[(&str, &str)] = &[("List the OTP", "{\"issues\": []}"), ("Rewrite", "```elixir\ndefmodule App.Worker do\n  def fetch(s), do: GenServer.call(s, :fetch\nend\n```")];
    let server = model(BROKEN, Duration::ZERO).await;
    let workspace = new_workspace(&server.url);
    let mut client = start(&workspace, false);
    expect_refusal(&mut client, &workspace.uri, "has syntax errors");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_outside_the_workspace_are_refused() {
    let server = model(FIX_SCRIPT, Duration::ZERO).await;
    let workspace = new_workspace(&server.url);
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(elsewhere.path().join("worker.ex"), support::WORKER).unwrap();
    let outside = format!("file://{}/worker.ex", elsewhere.path().display());
    let mut client = start(&workspace, false);
    client.open(&outside, "elixir", 1, support::WORKER);
    client.diagnostics_for(&outside);
    expect_refusal(&mut client, &outside, "outside the workspace");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_from_the_progress_stops_the_run() {
    let server = model(FIX_SCRIPT, Duration::from_secs(20)).await;
    let workspace = new_workspace(&server.url);
    let mut client = start(&workspace, false);
    let create = start_fix(&mut client, &workspace.uri);
    let token = create["params"]["token"].clone();
    client.wait_for("the progress to begin", |m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "begin");
    let started = std::time::Instant::now();
    client.notify("window/workDoneProgress/cancel", json!({ "token": token }));
    assert_eq!(progress_end(&mut client), "Cancelled");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clear_command_removes_pipeline_diagnostics_only() {
    static SCRIPT: &[(&str, &str)] = &[("Review the Elixir file", "{\"findings\": [{\"rule\": \"r\", \"message\": \"m\", \"line\": 4, \"snippet\": \"def fetch\"}]}")];
    let server = model(SCRIPT, Duration::ZERO).await;
    let workspace = new_workspace(&server.url);
    let mut client = start(&workspace, false);
    let offered = actions(&mut client, &workspace.uri);
    run(&mut client, action(&offered, "Review OTP design (AI)"));
    client.answer_request("window/workDoneProgress/create", Value::Null);
    let sources = |published: &Value| -> Vec<String> {
        published["diagnostics"].as_array().unwrap().iter().map(|d| d["source"].as_str().unwrap().to_string()).collect()
    };
    let mut published = client.diagnostics_for(&workspace.uri);
    while !sources(&published).contains(&"elexirion:otp_review".to_string()) {
        published = client.diagnostics_for(&workspace.uri);
    }
    client.request("workspace/executeCommand", json!({ "command": "elexirion.clearPipelineDiagnostics", "arguments": [] }));
    let cleared = sources(&client.diagnostics_for(&workspace.uri));
    assert!(!cleared.is_empty() && cleared.iter().all(|s| s == "elexirion"), "{cleared:?}");
}

fn open_store(workspace: &Workspace) -> elexirion::store::Store {
    elexirion::store::Store::open(&workspace.dir.path().join(".elexirion/store.db")).unwrap().store
}

fn verdicts(workspace: &Workspace, step: &str) -> Vec<Option<elexirion::store::examples::Verdict>> {
    open_store(workspace).examples("fix_otp_antipatterns", step, false).unwrap().into_iter().map(|e| e.verdict).collect()
}

/// Wait until the store shows what the server recorded (it writes after replying).
fn eventually<T: PartialEq + std::fmt::Debug>(what: &str, expected: T, mut actual: impl FnMut() -> T) {
    for _ in 0..100 {
        if actual() == expected {
            return;
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    assert_eq!(actual(), expected, "{what}");
}

fn whole(text: &str) -> [[u32; 2]; 2] {
    [[0, 0], [text.lines().count() as u32, 0]]
}

/// The loop the store exists for: an applied refactor is an accepted
/// example, an undo rejects it, an explicit verdict judges again; learned
/// versions are then shown on hover, offered for the YAML, returned by
/// `elexirion/optimizedPrompt`, and sent by the next run in optimized mode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applied_edits_teach_the_store_and_the_next_run_uses_what_it_learned() {
    use elexirion::store::examples::Verdict;
    let server = model(FIX_SCRIPT, Duration::ZERO).await;
    let workspace = new_workspace(&server.url);
    let mut client = start(&workspace, false);
    start_fix(&mut client, &workspace.uri);
    let request = client.wait_for("workspace/applyEdit", |m| m["method"] == "workspace/applyEdit");
    let edit = &request["params"]["edit"];
    let edits = edit["changes"][&workspace.uri].as_array().or_else(|| edit["documentChanges"][0]["edits"].as_array());
    let fixed = support::apply_lsp_edits(support::WORKER, edits.unwrap_or_else(|| panic!("{edit:#}")));
    client.respond(&request, json!({ "applied": true }));
    assert!(progress_end(&mut client).starts_with("Applied"));
    eventually("the rewrite accepted", vec![Some(Verdict::Accepted)], || verdicts(&workspace, "rewrite"));
    assert_eq!(verdicts(&workspace, "diagnose"), [None], "the edit judges the step that wrote it, not the diagnosis before it");

    // The editor applies it, then the user undoes it: rejected.
    let [start, end] = whole(support::WORKER);
    client.change(&workspace.uri, 2, start, end, &fixed);
    let [start, end] = whole(&fixed);
    client.change(&workspace.uri, 3, start, end, support::WORKER);
    eventually("the undo rejects it", vec![Some(Verdict::Rejected)], || verdicts(&workspace, "rewrite"));

    // Then they say it was right after all, with their own final text.
    let invocation = open_store(&workspace).last_invocation("fix_otp_antipatterns").unwrap().unwrap();
    let without_text = client.request_raw(
        "workspace/executeCommand",
        json!({ "command": "elexirion.recordVerdict", "arguments": [{ "invocation": invocation, "verdict": "edited" }] }),
    );
    assert!(without_text["error"]["message"].as_str().is_some_and(|m| m.contains("needs the final text")), "{without_text:#}");
    let judged = client.request(
        "workspace/executeCommand",
        json!({ "command": "elexirion.recordVerdict", "arguments": [{ "invocation": invocation, "verdict": "edited", "finalText": "my final code" }] }),
    );
    assert_eq!((judged["judged"].clone(), judged["step"].clone(), judged["previous"].clone()), (json!(1), json!("rewrite"), json!("rejected")), "{judged:#}");
    let examples = open_store(&workspace).examples("fix_otp_antipatterns", "rewrite", true).unwrap();
    // Kept in the step's answer format: fenced as its answers are.
    assert_eq!((examples[0].verdict, examples[0].best_output()), (Some(Verdict::Edited), "```elixir\nmy final code\n```"));
    assert_eq!(examples[0].inputs.keys().collect::<Vec<_>>(), ["callers", "code", "issues"]);
    // The diagnosis, judged on its own.
    client.request(
        "workspace/executeCommand",
        json!({ "command": "elexirion.recordVerdict", "arguments": [{ "invocation": invocation, "step": "diagnose", "verdict": "accepted" }] }),
    );

    let learned = elexirion::store::learn::learn(&mut open_store(&workspace), "fix_otp_antipatterns", 3).unwrap();
    assert!(learned.iter().all(|(_, outcome)| matches!(outcome, Ok(elexirion::store::learn::Learned::New { demos: 1, .. }))), "{learned:?}");
    // Optimized mode serves a version once it has evidence: here, evaluation scores.
    for learned_version in [3, 4] {
        open_store(&workspace).set_score(learned_version, 0.9, 10).unwrap();
    }
    client.notify("workspace/didChangeConfiguration", json!({ "settings": { "elexirion": { "store": { "mode": "optimized" } } } }));

    // The pipeline file in the editor shows and offers the learned version.
    let yaml_uri = format!("file://{}/pipelines/fix_otp_antipatterns.yaml", workspace.dir.path().display());
    let yaml = include_str!("../pipelines/fix_otp_antipatterns.yaml");
    client.open(&yaml_uri, "yaml", 1, yaml);
    let line = yaml.lines().position(|l| l.contains("- name: diagnose")).unwrap() as u32;
    let hover = client.request("textDocument/hover", json!({ "textDocument": { "uri": yaml_uri }, "position": { "line": line, "character": 15 } }));
    let hover = hover["contents"]["value"].as_str().unwrap();
    assert!(hover.contains("**Prompt store** (optimized mode): version 3 (learned)"), "{hover}");
    let actions = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": yaml_uri }, "range": support::range([line + 3, 4], [line + 3, 4]), "context": { "diagnostics": [] } }),
    );
    let insert = actions.as_array().unwrap().iter().find(|a| a["title"].as_str().unwrap().starts_with("Use the optimized prompt for `diagnose` (version 3, learned)"));
    let insert = insert.unwrap_or_else(|| panic!("{actions:#}"));
    let rewritten = support::apply_lsp_edits(yaml, insert["edit"]["changes"][&yaml_uri].as_array().unwrap());
    assert!(rewritten.contains("      prompt:\n        - type: static\n          content: |\n            List the OTP and process anti-patterns"), "{rewritten}");
    assert!(rewritten.contains("{{inputs.known}}") && rewritten.contains("Example 1\n            [[ ## known ## ]]"), "{rewritten}");
    let findings = elexirion::pipeline::validate::validate(&rewritten, &Default::default());
    assert!(findings.iter().all(|f| f.severity != elexirion::finding::Severity::Error), "{findings:?}");
    let prompt = client.request("elexirion/optimizedPrompt", json!({ "pipeline": "fix_otp_antipatterns", "step": "rewrite" }));
    assert_eq!((prompt["version"].clone(), prompt["source"].clone(), prompt["demos"].clone()), (json!(4), json!("learned"), json!(1)));
    assert!(prompt["prompt"].as_str().unwrap().contains("[[ ## response ## ]]\n```elixir\nmy final code\n```"), "{prompt:#}");

    // The next run sends the learned version, demos as earlier turns.
    let before = server.requests().len();
    start_fix(&mut client, &workspace.uri);
    progress_end(&mut client);
    let sent = server.requests()[before].json();
    let messages = sent["messages"].as_array().unwrap();
    assert!(messages[0]["content"].as_str().unwrap().starts_with("Your input fields are:\n1. `known` (str)\n2. `supervision` (str)\n3. `callers` (str)\n4. `code` (str)"), "{sent:#}");
    assert_eq!(messages.len(), 4, "system, one demo (user, assistant), the input");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_whose_uri_climbs_out_with_dotdot_is_refused() {
    let server = model(FIX_SCRIPT, Duration::ZERO).await;
    let workspace = new_workspace(&server.url);
    let elsewhere = tempfile::tempdir().unwrap();
    assert_eq!(elsewhere.path().parent(), workspace.dir.path().parent(), "both in the temporary directory");
    std::fs::write(elsewhere.path().join("worker.ex"), support::WORKER).unwrap();
    let name = elsewhere.path().file_name().unwrap().to_string_lossy();
    let climbing = format!("file://{}/lib/../../{name}/worker.ex", workspace.dir.path().display());
    let mut client = start(&workspace, false);
    client.open(&climbing, "elixir", 1, support::WORKER);
    client.diagnostics_for(&climbing);
    expect_refusal(&mut client, &climbing, "outside the workspace");
    assert_eq!(std::fs::read_to_string(elsewhere.path().join("worker.ex")).unwrap(), support::WORKER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_tests_do_not_follow_a_symlinked_test_directory_out_of_the_workspace() {
    static SCRIPT: &[(&str, &str)] = &[
        ("List the behaviours", "{\"cases\": []}"),
        ("Write an ExUnit test module", "```elixir\ndefmodule App.WorkerTest do\n  use ExUnit.Case, async: true\nend\n```"),
    ];
    let server = model(SCRIPT, Duration::ZERO).await;
    let workspace = new_workspace(&server.url);
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), workspace.dir.path().join("test")).unwrap();
    let mut client = start(&workspace, false);
    let offered = actions(&mut client, &workspace.uri);
    run(&mut client, action(&offered, "Generate ExUnit tests (AI)"));
    client.answer_request("window/workDoneProgress/create", Value::Null);
    let message = client.wait_for("an error message", |m| m["method"] == "window/showMessage");
    assert!(message["params"]["message"].as_str().unwrap().contains("`test/app/worker_test.exs` is outside the workspace; refused"), "{message:#}");
    let others = client.drain_for(Duration::from_millis(300));
    assert!(others.iter().all(|m| m["method"] != "workspace/applyEdit"), "{others:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_answers_with_the_run_id_and_what_became_of_it() {
    let server = model(FIX_SCRIPT, Duration::ZERO).await;
    let workspace = new_workspace(&server.url);
    let mut client = start(&workspace, true);
    let (request, result) = fix_and_answer(&mut client, &workspace.uri, true);
    let annotation = &request["params"]["edit"]["changeAnnotations"]["elexirion-pipeline"];
    assert!(annotation["description"].as_str().unwrap().contains("fixes 1 warning (EXR005)"), "{annotation:#}");
    assert_eq!(result["outcome"], "applied", "{result:#}");
    assert!(result["runId"].as_str().is_some_and(|id| !id.is_empty()), "{result:#}");
    assert!(progress_end(&mut client).starts_with("Applied: fixes 1 warning"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declining_an_edit_is_the_users_choice_not_an_error() {
    let server = model(FIX_SCRIPT, Duration::ZERO).await;
    let workspace = new_workspace(&server.url);
    let mut client = start(&workspace, true);
    assert_eq!(fix_and_answer(&mut client, &workspace.uri, false).1["outcome"], "declined");
    assert!(progress_end(&mut client).starts_with("Declined · cost "));
    let others = client.drain_for(Duration::from_millis(200));
    assert!(others.iter().all(|m| m["method"] != "window/showMessage" || m["params"]["type"] != 1), "{others:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explanation_opens_as_a_markdown_document_not_a_diagnostic() {
    static SCRIPT: &[(&str, &str)] = &[("Explain the Elixir code", "`App.Worker` is a GenServer that keeps a value.\n\n- `fetch/1` waits forever for it.")];
    let server = model(SCRIPT, Duration::ZERO).await;
    let workspace = new_workspace(&server.url);
    let mut client = start(&workspace, false);
    let offered = actions(&mut client, &workspace.uri);
    let id = run(&mut client, action(&offered, "Explain this code (AI)"));
    client.answer_request("window/workDoneProgress/create", Value::Null);
    let shown = client.wait_for("window/showDocument", |m| m["method"] == "window/showDocument");
    client.respond(&shown, json!({ "success": true }));
    let uri = shown["params"]["uri"].as_str().unwrap().to_string();
    assert!(uri.ends_with(".md"), "{uri}");
    let result = client.response_to(id)["result"].clone();
    assert_eq!((result["outcome"].as_str(), result["uri"].as_str()), (Some("shown"), Some(uri.as_str())));
    let written = std::fs::read_to_string(uri.trim_start_matches("file://")).unwrap();
    assert!(written.contains("`fetch/1` waits forever"), "{written}");
    let others = client.drain_for(Duration::from_millis(300));
    let from_pipeline = others.iter().filter(|m| m["method"] == "textDocument/publishDiagnostics").flat_map(|m| m["params"]["diagnostics"].as_array().cloned().unwrap_or_default()).filter(|d| d["source"] == "elexirion:explain_module").count();
    assert_eq!(from_pipeline, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_again_asks_the_model_again_and_a_declined_answer_leaves_the_cache() {
    let server = model(FIX_SCRIPT, Duration::ZERO).await;
    let workspace = new_workspace(&server.url);
    let mut client = start(&workspace, true);
    let decline = |client: &mut LspClient| assert_eq!(fix_and_answer(client, &workspace.uri, false).1["outcome"], "declined");
    decline(&mut client);
    assert_eq!(server.requests().len(), 2, "diagnose and rewrite");
    let cached = |dir: &std::path::Path| std::fs::read_dir(dir.join(".elexirion/cache")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(cached(workspace.dir.path()), 1, "the declined rewrite was evicted; the diagnosis stays");
    decline(&mut client);
    assert_eq!(server.requests().len(), 4, "the same run again is a fresh question to the model");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_that_is_a_symlink_out_of_the_workspace_is_never_sent_to_the_model() {
    let server = model(FIX_SCRIPT, Duration::ZERO).await;
    let workspace = new_workspace(&server.url);
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.ex"), support::WORKER.replace("App.Worker", "Secret.Worker")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.ex"), workspace.dir.path().join("lib/linked.ex")).unwrap();
    let uri = format!("file://{}/lib/linked.ex", workspace.dir.path().display());
    let mut client = start(&workspace, false);
    client.open(&uri, "elixir", 1, &support::WORKER.replace("App.Worker", "Secret.Worker"));
    client.diagnostics_for(&uri);
    expect_refusal(&mut client, &uri, "outside the workspace");
    assert_eq!(server.requests().len(), 0, "nothing reached the model");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_project_context_follows_open_buffers_and_watched_files() {
    static SCRIPT: &[(&str, &str)] = &[("Review the Elixir file", "{\"findings\": []}")];
    let server = model(SCRIPT, Duration::ZERO).await;
    let workspace = new_workspace(&server.url);
    let mut client = start(&workspace, false);
    // A caller typed in an open buffer, never saved.
    let typed = format!("file://{}/lib/app/typed.ex", workspace.dir.path().display());
    client.open(&typed, "elixir", 1, "defmodule App.Typed do\n  def go(s), do: App.Worker.fetch(s)\nend\n");
    client.diagnostics_for(&typed);
    // A caller written to disk by another tool, reported by the client's watcher.
    let disk = workspace.dir.path().join("lib/app/on_disk.ex");
    std::fs::write(&disk, "defmodule App.OnDisk do\n  def go(s), do: App.Worker.fetch(s)\nend\n").unwrap();
    client.notify("workspace/didChangeWatchedFiles", json!({ "changes": [{ "uri": format!("file://{}", disk.display()), "type": 1 }] }));

    let offered = actions(&mut client, &workspace.uri);
    let id = run(&mut client, action(&offered, "Review OTP design (AI)"));
    client.answer_request("window/workDoneProgress/create", Value::Null);
    assert_eq!(client.response_to(id)["result"]["outcome"], "findings");
    let prompt = server.requests()[0].json()["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string();
    assert!(prompt.contains("App.Typed.go/1"), "the open buffer's caller: {prompt}");
    assert!(prompt.contains("App.OnDisk.go/1"), "the watched file's caller: {prompt}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_tests_are_made_against_the_open_test_buffer_and_keep_its_unsaved_tests() {
    static SCRIPT: &[(&str, &str)] = &[
        ("List the behaviours", "{\"cases\": []}"),
        ("Write an ExUnit test module", "```elixir\ndefmodule App.WorkerTest do\n  use ExUnit.Case\n\n  test \"on disk\" do\n    assert true\n  end\n\n  test \"new\" do\n    assert true\n  end\nend\n```"),
    ];
    let server = model(SCRIPT, Duration::ZERO).await;
    let workspace = new_workspace(&server.url);
    let on_disk = "defmodule App.WorkerTest do\n  use ExUnit.Case\n\n  test \"on disk\" do\n    assert true\n  end\nend\n";
    std::fs::create_dir_all(workspace.dir.path().join("test/app")).unwrap();
    std::fs::write(workspace.dir.path().join("test/app/worker_test.exs"), on_disk).unwrap();
    let mut client = start(&workspace, false);
    let test_uri = format!("file://{}/test/app/worker_test.exs", workspace.dir.path().display());
    let unsaved = on_disk.replace("end\nend\n", "end\n\n  test \"typed, not saved\" do\n    assert true\n  end\nend\n");
    client.open(&test_uri, "elixir", 3, &unsaved);
    client.diagnostics_for(&test_uri);
    let offered = actions(&mut client, &workspace.uri);
    let id = run(&mut client, action(&offered, "Generate ExUnit tests (AI)"));
    client.answer_request("window/workDoneProgress/create", Value::Null);
    let result = client.response_to(id)["result"].clone();
    assert!(result["message"].as_str().unwrap_or_default().contains("test \"typed, not saved\""), "the unsaved test would be lost: {result:#}");
    let prompt = server.requests().last().unwrap().json()["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string();
    assert!(prompt.contains("typed, not saved"), "the model saw the buffer: {prompt}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suggestion_that_breaks_the_code_or_its_api_is_not_offered() {
    static SCRIPT: &[(&str, &str)] = &[(
        "Review the Elixir file",
        "{\"findings\": [{\"rule\": \"unbalanced\", \"message\": \"m\", \"line\": 7, \"snippet\": \"def init(state), do: {:ok, state}\", \"suggestion\": \"def init(state), do: {:ok, state\"}, {\"rule\": \"private\", \"message\": \"m\", \"line\": 4, \"snippet\": \"def fetch(server)\", \"suggestion\": \"defp fetch(server)\"}]}",
    )];
    let server = model(SCRIPT, Duration::ZERO).await;
    let workspace = new_workspace(&server.url);
    let mut client = start(&workspace, false);
    let offered = actions(&mut client, &workspace.uri);
    let id = run(&mut client, action(&offered, "Review OTP design (AI)"));
    client.answer_request("window/workDoneProgress/create", Value::Null);
    assert_eq!(client.response_to(id)["result"]["count"], 2);
    for line in [3, 6] {
        let fixes = client.request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": workspace.uri }, "range": support::range([line, 2], [line, 20]), "context": { "diagnostics": [], "only": ["quickfix"] } }),
        );
        let titles: Vec<String> = fixes.as_array().cloned().unwrap_or_default().iter().filter_map(|f| f["title"].as_str().map(str::to_string)).collect();
        assert!(!titles.iter().any(|t| t == "Apply the suggestion of otp_review"), "line {line}: {titles:?}");
    }
}
