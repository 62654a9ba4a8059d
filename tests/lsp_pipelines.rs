//! Pipeline files in the language server: validation as the user types.

mod support;

use serde_json::{json, Value};
use support::{range, LspClient};

const URI: &str = "file:///project/pipelines/review.yaml";

const PIPELINE: &str = "workflow:
  name: review
  steps:
    - name: analyze
      type: claude
      promt:
        - type: static
          content: \"Review {{inputs.code}}\"
    - name: summarize
      type: gemini
      prompt:
        - type: previous_response
          step: analyse
";

fn by_code(published: &Value) -> Vec<(String, i64, Value)> {
    published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["code"].as_str().unwrap().to_string(), d["severity"].as_i64().unwrap(), d["range"].clone()))
        .collect()
}

#[test]
fn a_pipeline_is_validated_on_open_and_after_each_change() {
    let mut client = LspClient::start();
    client.initialize(None);
    client.open(URI, "yaml", 1, PIPELINE);
    let published = client.diagnostics_for(URI);
    let found = by_code(&published);
    assert_eq!(
        found,
        [
            ("EXP003".to_string(), 1, range([3, 6], [3, 19])),  // claude step without prompt: error
            ("EXP004".to_string(), 2, range([5, 6], [5, 11])),  // `promt`: did you mean `prompt`?
            ("EXP009".to_string(), 1, range([12, 16], [12, 23])), // no step `analyse`
        ],
        "{published:#}"
    );
    let messages: Vec<&str> = published["diagnostics"].as_array().unwrap().iter().map(|d| d["message"].as_str().unwrap()).collect();
    assert!(messages[1].contains("did you mean `prompt`?"), "{messages:?}");
    assert!(messages[2].contains("earlier steps: analyze"), "{messages:?}");

    // The quick fix renames the key.
    let actions = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": URI }, "range": range([5, 6], [5, 11]), "context": { "diagnostics": [] } }),
    );
    assert_eq!(actions[0]["title"], "Rename to `prompt`");
    let edit = &actions[0]["edit"]["changes"][URI][0];
    assert_eq!(edit["newText"], "prompt");

    client.change(URI, 2, [5, 6], [5, 11], "prompt");
    client.change(URI, 3, [12, 16], [12, 23], "analyze");
    let mut published = client.diagnostics_for(URI);
    while published["version"] != 3 {
        published = client.diagnostics_for(URI);
    }
    assert_eq!(published["diagnostics"], json!([]), "{published:#}");
}

#[test]
fn half_typed_yaml_keeps_the_other_diagnostics() {
    let mut client = LspClient::start();
    client.initialize(None);
    let text = format!("{PIPELINE}    - name: third\n      type: claude\n      prompt: [\n");
    client.open(URI, "yaml", 1, &text);
    let codes: Vec<String> = by_code(&client.diagnostics_for(URI)).into_iter().map(|(c, _, _)| c).collect();
    assert!(codes.contains(&"EXP001".to_string()), "a YAML syntax error: {codes:?}");
    assert!(codes.contains(&"EXP004".to_string()), "the unknown key is still reported: {codes:?}");
    assert!(codes.contains(&"EXP009".to_string()), "the bad reference is still reported: {codes:?}");
}

#[test]
fn a_string_prompt_is_wrapped_by_its_quick_fix() {
    let mut client = LspClient::start();
    client.initialize(None);
    let text = "workflow:\n  name: x\n  steps:\n    - name: only\n      type: claude\n      prompt: \"Explain {{inputs.code}}\"\n";
    client.open(URI, "yaml", 1, text);
    let published = client.diagnostics_for(URI);
    assert_eq!(by_code(&published), [("EXP013".to_string(), 1, range([5, 14], [5, 39]))], "{published:#}");
    let actions = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": URI }, "range": range([5, 14], [5, 14]), "context": { "diagnostics": [] } }),
    );
    let edit = &actions[0]["edit"]["changes"][URI][0];
    assert_eq!(actions[0]["title"], "Wrap the text in a `static` prompt item");
    assert_eq!(edit["range"], range([5, 13], [5, 39]));
    assert_eq!(edit["newText"], "\n        - type: static\n          content: \"Explain {{inputs.code}}\"");
    client.change(URI, 2, [5, 13], [5, 39], edit["newText"].as_str().unwrap());
    let mut published = client.diagnostics_for(URI);
    while published["version"] != 2 {
        published = client.diagnostics_for(URI);
    }
    assert_eq!(published["diagnostics"], json!([]), "{published:#}");
}

#[test]
fn other_yaml_is_left_alone() {
    let mut client = LspClient::start();
    client.initialize(None);
    let ci = "file:///project/.github/workflows/ci.yml";
    client.open(ci, "yaml", 1, "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n");
    client.open(URI, "yaml", 1, PIPELINE);
    client.diagnostics_for(URI);
    let others = client.drain_for(std::time::Duration::from_millis(300));
    assert!(others.iter().all(|m| m["params"]["uri"] != ci || m["params"]["diagnostics"] == json!([])), "{others:#?}");
}

fn position(text: &str, needle: &str, shift: usize) -> Value {
    let at = text.find(needle).unwrap_or_else(|| panic!("{needle:?} not in text")) + shift;
    let line = text[..at].matches('\n').count();
    let character = text[..at].rsplit('\n').next().unwrap().encode_utf16().count();
    json!({ "line": line, "character": character })
}

#[test]
fn completion_inside_a_half_typed_step() {
    let mut client = LspClient::start();
    client.initialize(None);
    let text = "workflow:\n  name: w\n  steps:\n    - name: scan\n      type: gemini\n      prompt:\n        - type: static\n          content: hi\n    - name: fix\n      type: claude_robust\n      re";
    client.open(URI, "yaml", 1, text);
    client.diagnostics_for(URI);
    let end = json!({ "line": text.matches('\n').count(), "character": 8 });
    let result = client.request("textDocument/completion", json!({ "textDocument": { "uri": URI }, "position": end }));
    let items = result.as_array().unwrap();
    let retry = items.iter().find(|i| i["label"] == "retry_config").expect("retry_config offered for claude_robust");
    assert_eq!(retry["kind"], 10, "property");
    assert_eq!(retry["insertTextFormat"], 2, "snippet");
    assert_eq!(retry["textEdit"]["range"], range([10, 6], [10, 8]));
    assert!(retry["documentation"]["value"].as_str().unwrap().contains("Retries"), "{retry:#}");
    assert!(items.iter().all(|i| i["label"] != "token_budget" && i["label"] != "name"));

    // A step reference offers the earlier steps only.
    let more = format!("{text}\n      prompt:\n        - type: previous_response\n          step: ");
    client.change(URI, 2, [0, 0], [100, 0], &more);
    let end = json!({ "line": more.matches('\n').count(), "character": 16 });
    let result = client.request("textDocument/completion", json!({ "textDocument": { "uri": URI }, "position": end }));
    let labels: Vec<&str> = result.as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["scan"]);
}

#[test]
fn hover_definition_references_rename_and_outline() {
    let mut client = LspClient::start();
    client.initialize(None);
    let text = PIPELINE.replace("promt", "prompt").replace("step: analyse", "step: analyze");
    client.open(URI, "yaml", 1, &text);
    client.diagnostics_for(URI);
    let at_reference = position(&text, "step: analyze", 8);

    let hover = client.request("textDocument/hover", json!({ "textDocument": { "uri": URI }, "position": position(&text, "type: gemini", 8) }));
    assert!(hover["contents"]["value"].as_str().unwrap().contains("**`gemini`** step"), "{hover:#}");

    let definition = client.request("textDocument/definition", json!({ "textDocument": { "uri": URI }, "position": at_reference }));
    assert_eq!(definition["range"], range([3, 12], [3, 19]));

    let references = client.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": URI }, "position": at_reference, "context": { "includeDeclaration": true } }),
    );
    assert_eq!(references.as_array().unwrap().len(), 2);

    let edit = client.request("textDocument/rename", json!({ "textDocument": { "uri": URI }, "position": at_reference, "newName": "review" }));
    let edits = edit["changes"][URI].as_array().unwrap();
    assert_eq!(edits.len(), 2);
    assert!(edits.iter().all(|e| e["newText"] == "review"));
    let refused = client.request_raw("textDocument/rename", json!({ "textDocument": { "uri": URI }, "position": at_reference, "newName": "summarize" }));
    assert!(refused["error"]["message"].as_str().unwrap().contains("already named"), "{refused:#}");

    let outline = client.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": URI } }));
    assert_eq!(outline[0]["name"], "review");
    let steps: Vec<(&str, &str)> = outline[0]["children"].as_array().unwrap().iter().map(|s| (s["name"].as_str().unwrap(), s["detail"].as_str().unwrap())).collect();
    assert_eq!(steps, [("analyze", "claude"), ("summarize", "gemini")]);
}

#[test]
fn configured_globs_make_more_files_pipelines() {
    let dir = tempfile::tempdir().unwrap();
    let root = format!("file://{}", dir.path().display());
    let uri = format!("{root}/ai/flow.yml");
    let text = "name: flow\nsteps:\n  - name: a\n    type: claude\n";
    let start = |client: &mut LspClient| {
        client.request("initialize", json!({ "processId": null, "rootUri": root, "capabilities": {} }));
        client.notify("initialized", json!({}));
    };

    let mut plain = LspClient::start();
    start(&mut plain);
    plain.open(&uri, "yaml", 1, text);
    let quiet = plain.drain_for(std::time::Duration::from_millis(300));
    assert!(quiet.iter().all(|m| m["params"]["diagnostics"] == json!([]) || m["params"]["uri"] != uri.as_str()), "{quiet:#?}");

    std::fs::write(dir.path().join("elexirion.toml"), "[pipelines]\nglobs = [\"ai/*.yml\"]\n").unwrap();
    let mut configured = LspClient::start();
    start(&mut configured);
    configured.open(&uri, "yaml", 1, text);
    let codes: Vec<String> = by_code(&configured.diagnostics_for(&uri)).into_iter().map(|(c, _, _)| c).collect();
    assert_eq!(codes, ["EXP002"], "no workflow root");
}
