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
