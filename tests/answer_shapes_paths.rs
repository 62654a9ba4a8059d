//! The answer shapes of tests/answers, each given by a model on 127.0.0.1
//! and taken through both real paths: `elexirion pipeline run --file` and
//! the editor's `elexirion.runPipeline`. Both must reach the outcome the
//! shape expects, after every check (an answer that drops public API is
//! refused here, though it reads as an edit).

#[path = "support/http.rs"]
mod http;
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use http::{Reply, TestServer};
use serde_json::{json, Map, Value};
use support::LspClient;

const REWRITE: &str = "workflow:
  name: shape_rewrite
  editor:
    title: \"Shape rewrite\"
    kind: refactor
    inputs:
      code: \"{{editor.file}}\"
      path: \"{{editor.path}}\"
  steps:
    - name: rewrite
      type: claude
      prompt:
        - type: static
          content: \"SHAPE {{inputs.path}}\\n{{inputs.code}}\"
";

fn answers() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/answers")
}

struct Shape {
    name: String,
    expected: Map<String, Value>,
    /// Where the original goes in the workspace.
    file: String,
}

impl Shape {
    fn text(&self, key: &str) -> &str {
        self.expected.get(key).and_then(Value::as_str).unwrap_or_default()
    }

    fn strings(&self, key: &str) -> Vec<&str> {
        self.expected.get(key).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
    }

    /// "edit", "refused" or "findings", once every check has run.
    fn outcome(&self) -> &str {
        if self.expected.get("drops_public_api") == Some(&Value::Bool(true)) { "refused" } else { self.text("outcome") }
    }
}

fn shapes() -> Vec<Shape> {
    let mut names: Vec<String> = std::fs::read_dir(answers())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let expected: Map<String, Value> = serde_json::from_str(&std::fs::read_to_string(answers().join(format!("{name}.json"))).unwrap()).unwrap();
            let extension = Path::new(expected["original"].as_str().unwrap()).extension().unwrap().to_string_lossy().into_owned();
            let file = format!("lib/{name}.{extension}");
            Shape { name, expected, file }
        })
        .collect()
}

/// A model that answers each shape's file with that shape's answer, the
/// first time and when asked to repair it.
async fn model() -> TestServer {
    TestServer::start_with(|request| {
        let body = request.json();
        let conversation: String = body["messages"].as_array().unwrap().iter().filter_map(|m| m["content"].as_str()).collect::<Vec<_>>().join("\n");
        let name = conversation.split("SHAPE lib/").nth(1).and_then(|rest| rest.split('.').next()).unwrap_or("none").to_string();
        let answer = std::fs::read_to_string(answers().join(format!("{name}.md"))).unwrap_or_else(|_| format!("no shape {name}"));
        Reply::json(200, &json!({ "choices": [{ "message": { "content": answer }, "finish_reason": "stop" }] }))
    })
    .await
}

fn workspace(model_url: &str, shapes: &[Shape]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = format!("[providers]\nclaude = [\"openai\"]\nmax-retries = 0\n[providers.base-urls]\nopenai = \"{model_url}\"\n[store]\nenabled = false\n");
    std::fs::write(dir.path().join("elexirion.toml"), config).unwrap();
    std::fs::create_dir_all(dir.path().join("lib")).unwrap();
    std::fs::create_dir_all(dir.path().join("pipelines")).unwrap();
    std::fs::write(dir.path().join("pipelines/shape_rewrite.yaml"), REWRITE).unwrap();
    let review = REWRITE.replace("shape_rewrite", "shape_review").replace("Shape rewrite", "Shape review").replace("kind: refactor", "kind: analysis");
    std::fs::write(dir.path().join("pipelines/shape_review.yaml"), review).unwrap();
    for shape in shapes {
        std::fs::copy(answers().join(shape.text("original")), dir.path().join(&shape.file)).unwrap();
    }
    dir
}

fn pipeline_of(shape: &Shape) -> &'static str {
    if shape.text("kind") == "analysis" { "shape_review" } else { "shape_rewrite" }
}

/// What the command line did with a shape, or why that is not what it expects.
fn through_the_command_line(dir: &Path, shape: &Shape) -> Result<(), String> {
    let pipeline = format!("pipelines/{}.yaml", pipeline_of(shape));
    let output = std::process::Command::new(support::binary())
        .args(["pipeline", "run", &pipeline, "--file", &shape.file, "--json", "--write", "--no-cache"])
        .current_dir(dir)
        .env_remove("OPENAI_API_KEY")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    match shape.outcome() {
        "refused" => {
            let wanted = shape.text("problem");
            if output.status.code() != Some(1) || !stderr.contains(wanted) {
                return Err(format!("expected a refusal saying {wanted:?}, got {:?}: {stderr}", output.status.code()));
            }
            let original = std::fs::read_to_string(answers().join(shape.text("original"))).unwrap();
            if std::fs::read_to_string(dir.join(&shape.file)).unwrap() != original {
                return Err("the refused answer changed the file".into());
            }
            Ok(())
        }
        outcome => {
            if !output.status.success() {
                return Err(format!("expected {outcome}, failed: {stderr}"));
            }
            let document: Value = serde_json::from_slice(&output.stdout).map_err(|e| format!("not one JSON document: {e}"))?;
            if outcome == "findings" {
                let count = document["findings"].as_array().map_or(0, Vec::len) as u64;
                return check_eq("findings", shape.expected.get("findings").and_then(Value::as_u64), count);
            }
            check_eq("notes", shape.expected.get("notes").and_then(Value::as_u64).or(Some(0)), document["notes"].as_array().map_or(0, Vec::len) as u64)?;
            check_text(shape, &std::fs::read_to_string(dir.join(&shape.file)).unwrap())
        }
    }
}

fn check_eq(key: &str, expected: Option<u64>, actual: u64) -> Result<(), String> {
    if expected != Some(actual) { Err(format!("{key}: expected {expected:?}, got {actual}")) } else { Ok(()) }
}

fn check_text(shape: &Shape, text: &str) -> Result<(), String> {
    if let Some(missing) = shape.strings("contains").into_iter().find(|s| !text.contains(s)) {
        return Err(format!("the new file lacks {missing:?}"));
    }
    if let Some(present) = shape.strings("not_contains").into_iter().find(|s| text.contains(s)) {
        return Err(format!("the new file still holds {present:?}"));
    }
    Ok(())
}


/// What the editor path did with a shape, or why that is not what it expects.
fn through_the_editor(client: &mut LspClient, dir: &Path, shape: &Shape) -> Result<(), String> {
    let uri = format!("file://{}/{}", dir.display(), shape.file);
    let original = std::fs::read_to_string(dir.join(&shape.file)).unwrap();
    client.open(&uri, "elixir", 1, &original);
    let arguments = json!([{ "pipeline": pipeline_of(shape), "uri": uri, "range": support::range([0, 0], [0, 0]) }]);
    let id = client.send_request("workspace/executeCommand", json!({ "command": "elexirion.runPipeline", "arguments": arguments }));
    let mut edited = None;
    let result = loop {
        let message = client.wait_for("the run's requests or its answer", |m| {
            m["id"] == id && m.get("method").is_none() || m["method"] == "workspace/applyEdit" || m["method"] == "window/workDoneProgress/create"
        });
        match message["method"].as_str() {
            Some("workspace/applyEdit") => {
                let edits = message["params"]["edit"]["documentChanges"][0]["edits"].as_array().cloned().unwrap_or_default();
                edited = Some(support::apply_lsp_edits(&original, &edits));
                client.respond(&message, json!({ "applied": true }));
            }
            Some(_) => client.respond(&message, Value::Null),
            None => break message["result"].clone(),
        }
    };
    let outcome = result["outcome"].as_str().unwrap_or_default();
    match shape.outcome() {
        "refused" => {
            let wanted = shape.text("problem");
            let said = result["message"].as_str().unwrap_or_default();
            if !matches!(outcome, "refused" | "failed") || !said.contains(wanted) || edited.is_some() {
                return Err(format!("expected a refusal saying {wanted:?}, got {result}"));
            }
            Ok(())
        }
        "findings" => check_eq("findings", shape.expected.get("findings").and_then(Value::as_u64), result["count"].as_u64().unwrap_or(0)),
        _ => match edited {
            Some(text) if outcome == "applied" => {
                let notes = result["notes"].as_array().map_or(0, Vec::len) as u64;
                check_eq("notes", shape.expected.get("notes").and_then(Value::as_u64).or(Some(0)), notes)?;
                check_text(shape, &text)
            }
            _ => Err(format!("expected an edit, got {result}")),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shape_reaches_its_outcome_through_the_command_line_and_the_editor() {
    let shapes = shapes();
    assert!(shapes.len() >= 25, "{} shapes", shapes.len());
    let server = model().await;

    let cli = workspace(&server.url, &shapes);
    let mut failures: Vec<String> = shapes.iter().filter_map(|s| through_the_command_line(cli.path(), s).err().map(|e| format!("command line, {}: {e}", s.name))).collect();

    let editor = workspace(&server.url, &shapes);
    let mut client = LspClient::start();
    let root = format!("file://{}", editor.path().display());
    let capabilities = json!({ "window": { "workDoneProgress": true }, "workspace": { "workspaceEdit": { "documentChanges": true } } });
    client.request("initialize", json!({ "processId": null, "rootUri": root, "capabilities": capabilities }));
    client.notify("initialized", json!({}));
    for shape in &shapes {
        if let Err(e) = through_the_editor(&mut client, editor.path(), shape) {
            failures.push(format!("editor, {}: {e}", shape.name));
        }
    }
    let _ = client.drain_for(Duration::from_millis(50));
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
