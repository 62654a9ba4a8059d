//! Input nobody should send, sent to the real binary: the server answers
//! and goes on, the command line reports and exits normally.

mod support;

use std::process::Command;

use serde_json::{json, Value};
use support::{binary, LspClient};

fn error_code(response: &Value) -> i64 {
    response["error"]["code"].as_i64().unwrap_or_else(|| panic!("not an error response: {response}"))
}

/// The next error response the client did not ask for (id null or echoed).
fn next_refusal(client: &mut LspClient) -> Value {
    client.wait_for("an error response", |m| m.get("error").is_some() && m.get("method").is_none())
}

#[test]
fn undecodable_messages_are_answered_and_the_server_goes_on() {
    let mut client = LspClient::start();
    client.initialize(None);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let cases: [(&str, &[u8], i64, Value); 8] = [
        ("a duplicate key", br#"{"jsonrpc":"2.0","method":"x","method":"x"}"#, -32600, Value::Null),
        ("a duplicate id", br#"{"jsonrpc":"2.0","id":1,"id":2,"method":"x"}"#, -32600, Value::from(2)),
        ("malformed JSON", b"{\"jsonrpc\": \"2.0\", \"id\": ", -32700, Value::Null),
        ("an empty object", b"{}", -32600, Value::Null),
        ("an object id", br#"{"jsonrpc":"2.0","id":{"a":1},"method":"textDocument/hover"}"#, -32600, Value::Null),
        ("a batch", b"[]", -32600, Value::Null),
        ("a body that is not UTF-8", b"{\"jsonrpc\":\"2.0\",\"method\":\"\xff\xfe\"}", -32700, Value::Null),
        ("100k-deep JSON", deep.as_bytes(), -32700, Value::Null),
    ];
    for (what, body, code, id) in cases {
        client.send_body(body);
        let refusal = next_refusal(&mut client);
        assert_eq!(error_code(&refusal), code, "{what}: {refusal}");
        assert_eq!(refusal["id"], id, "{what}: {refusal}");
        // Still serving: a real request is answered.
        let symbols = client.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": "file:///none.ex" } }));
        assert!(symbols.is_null() || symbols.is_array(), "{what}: {symbols}");
    }
    assert!(client.shutdown().success());
}

fn deep_flow_pipeline() -> String {
    format!("workflow:\n  name: deep\n  steps: {}\n", "[".repeat(5_000))
}

fn deep_block_pipeline() -> String {
    let mut text = String::from("workflow:\n  name: deep\n  steps:\n");
    for level in 0..300 {
        text.push_str(&format!("{}-\n", " ".repeat(4 + level * 2)));
    }
    text
}

#[test]
fn too_deep_pipelines_are_one_diagnostic_in_the_editor() {
    let mut client = LspClient::start();
    client.initialize(None);
    for (name, text) in [("flow", deep_flow_pipeline()), ("block", deep_block_pipeline())] {
        let uri = format!("file:///project/pipelines/{name}.yaml");
        client.open(&uri, "yaml", 1, &text);
        let published = client.diagnostics_for(&uri);
        let messages: Vec<&str> = published["diagnostics"].as_array().unwrap().iter().filter_map(|d| d["message"].as_str()).collect();
        assert_eq!(messages.len(), 1, "{name}: {messages:?}");
        assert!(messages[0].contains("nested deeper than"), "{name}: {messages:?}");
    }
    assert!(client.shutdown().success());
}

fn validate(text: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipeline.yaml");
    std::fs::write(&path, text).unwrap();
    let output = Command::new(binary()).args(["pipeline", "validate"]).arg(&path).output().unwrap();
    (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr))
}

#[test]
fn too_deep_pipelines_are_reported_by_validate() {
    for text in [deep_flow_pipeline(), deep_block_pipeline()] {
        let (code, output) = validate(&text);
        assert_eq!(code, Some(1), "{output}");
        assert!(output.contains("nested deeper than"), "{output}");
    }
}

#[test]
fn a_pipeline_longer_than_32768_lines_is_valid() {
    let mut text = String::from("workflow:\n  name: long\n  steps:\n");
    for i in 0..9_000 {
        text.push_str(&format!("    - name: step{i}\n      type: claude\n      prompt:\n        - type: static\n          content: \"Review\"\n"));
    }
    assert!(text.lines().count() > 40_000);
    let (code, output) = validate(&text);
    assert_eq!(code, Some(0), "{}", &output[..output.len().min(2_000)]);
}

#[test]
fn anchors_and_aliases_validate_as_pipeline_ex_reads_them() {
    let text = "workflow:
  name: anchored
  steps:
    - &review
      name: review
      type: claude
      prompt: &prompt
        - type: static
          content: \"Review the code\"
    - name: again
      type: gemini
      prompt: *prompt
";
    let (code, output) = validate(text);
    assert_eq!(code, Some(0), "{output}");
    // A whole step by alias is the same step twice: read as a step, so
    // its name is a duplicate, not a wrong type.
    let duplicated = format!("{text}    - *review\n");
    let (code, output) = validate(&duplicated);
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("EXP008") && !output.contains("EXP006"), "{output}");
}

/// 180 KB of `do` blocks never closed: slow for tree-sitter to recover from.
fn unclosed_blocks() -> String {
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 180_000 {
        text.push_str(&format!("defmodule M{i} do\n  def f{i}(x) do\n    case x do\n      {i} -> :ok\n"));
        i += 1;
    }
    text
}

#[test]
fn typing_into_a_slow_file_analyses_the_newest_version_not_every_one() {
    let (mut client, log) = LspClient::start_with_log();
    client.initialize(None);
    let uri = "file:///project/lib/unclosed.ex";
    let text = unclosed_blocks();
    let last_line = text.lines().count() as u32;
    client.open(uri, "elixir", 1, &text);
    for version in 2..=31 {
        client.change(uri, version, [last_line, 0], [last_line, 0], "x");
        std::thread::sleep(std::time::Duration::from_millis(40));
    }
    // Before, every version was analysed, all at once: the last one's
    // diagnostics came minutes later.
    let published = client.wait_for("diagnostics of the last version", |m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == 31
    });
    assert!(!published["params"]["diagnostics"].as_array().unwrap().is_empty());
    assert!(client.shutdown().success());
    // Each analysis was cancelled by the next version, or waited its turn
    // and found itself superseded: few ran to the end.
    let log = log.lock().unwrap();
    let done = log.matches("analysis done").count();
    assert!((1..=4).contains(&done), "{done} analyses ran to the end for 31 versions");
    assert!(log.contains("analysis cancelled"), "no analysis was cancelled");
}

/// A JSON value of any shape, from a seeded generator.
fn random_value(rng: &mut impl rand::Rng, depth: u32) -> Value {
    match rng.random_range(0..if depth > 3 { 5 } else { 8 }) {
        0 => Value::Null,
        1 => Value::from(rng.random::<bool>()),
        2 => Value::from(rng.random_range(-5i64..100_000)),
        3 => Value::from(["", "file:///x.ex", "file:///p/pipelines/a.yaml", "é😀", "..", "elixir", "yaml"][rng.random_range(0..7)]),
        4 => Value::from(rng.random::<f64>() * 1e12),
        5 => Value::Array((0..rng.random_range(0..4)).map(|_| random_value(rng, depth + 1)).collect()),
        _ => {
            let keys = ["textDocument", "uri", "text", "version", "position", "line", "character", "range", "start", "end", "contentChanges", "context", "command", "arguments", "languageId", "settings", "changes", "diagnostics", "only"];
            Value::Object((0..rng.random_range(0..5)).map(|_| (keys[rng.random_range(0..keys.len())].to_string(), random_value(rng, depth + 1))).collect())
        }
    }
}

#[test]
fn random_params_for_every_method_never_stop_the_server() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(13);
    let mut client = LspClient::start();
    client.initialize(None);
    let requests = ["textDocument/hover", "textDocument/completion", "textDocument/definition", "textDocument/references", "textDocument/rename", "textDocument/prepareRename", "textDocument/documentSymbol", "textDocument/codeAction", "workspace/executeCommand", "elexirion/optimizedPrompt", "textDocument/formatting"];
    let notifications = ["textDocument/didOpen", "textDocument/didChange", "textDocument/didClose", "textDocument/didSave", "workspace/didChangeConfiguration", "workspace/didChangeWatchedFiles", "window/workDoneProgress/cancel", "$/cancelRequest"];
    for _ in 0..300 {
        let params = random_value(&mut rng, 0);
        if rng.random::<bool>() {
            let method = requests[rng.random_range(0..requests.len())];
            let response = client.request_raw(method, params.clone());
            assert!(response.get("result").is_some() || response.get("error").is_some(), "{method} {params}: {response}");
        } else {
            client.notify(notifications[rng.random_range(0..notifications.len())], params);
        }
    }
    assert!(client.shutdown().success());
}
