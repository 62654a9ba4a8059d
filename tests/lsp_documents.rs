//! The language server's document handling, end to end over stdio.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::{range, LspClient};

const URI: &str = "file:///project/lib/demo.ex";

fn error_ranges(diagnostics: &Value) -> Vec<Value> {
    diagnostics["diagnostics"].as_array().unwrap().iter().map(|d| d["range"].clone()).collect()
}

#[test]
fn a_syntax_error_is_reported_at_the_unclosed_paren_and_cleared_when_fixed() {
    let mut client = LspClient::start();
    client.initialize(None);
    client.open(URI, "elixir", 1, "defmodule Demo do\n  def run(x) do\n    foo(x, 1\n  end\nend\n");

    let published = client.diagnostics_for(URI);
    assert_eq!(published["version"], 1);
    let diagnostic = &published["diagnostics"][0];
    assert_eq!(published["diagnostics"].as_array().unwrap().len(), 1, "{published:#}");
    assert_eq!(diagnostic["range"], range([2, 7], [2, 8]));
    assert_eq!(diagnostic["severity"], 1);
    assert_eq!(diagnostic["code"], "EXR000");
    assert_eq!(diagnostic["source"], "elexirion");
    assert_eq!(diagnostic["message"], "unclosed `(`: no matching `)`");

    client.change(URI, 2, [2, 12], [2, 12], ")");
    let published = client.diagnostics_for(URI);
    assert_eq!(published["version"], 2);
    assert_eq!(published["diagnostics"], json!([]));

    assert!(client.shutdown().success());
}

/// Columns of `prefix` counted the way `encoding` counts them.
fn column(prefix: &str, encoding: &str) -> u32 {
    (match encoding {
        "utf-8" => prefix.len(),
        "utf-16" => prefix.encode_utf16().count(),
        "utf-32" => prefix.chars().count(),
        other => panic!("unknown encoding {other}"),
    }) as u32
}

/// The error sits after multi-byte characters, and the fix is inserted
/// right between `y` and a comment full of them: one unit off either way
/// puts the `)` in the comment or before `y`, and the error stays.
fn multi_byte_round_trip(offered: Option<&[&str]>, expected: &str) {
    let mut client = LspClient::start();
    let result = client.initialize(offered);
    assert_eq!(result["capabilities"]["positionEncoding"], expected);
    assert_eq!(result["capabilities"]["textDocumentSync"]["change"], 2, "incremental sync");

    let line = "    s = \"é😀中\"; bar(s, y# 😀😀😀 note";
    let text = format!("defmodule Emoji do\n  def run(y) do\n{line}\n  end\nend\n");
    client.open(URI, "elixir", 1, &text);
    let paren = column("    s = \"é😀中\"; bar", expected);
    let published = client.diagnostics_for(URI);
    assert_eq!(error_ranges(&published), [range([2, paren], [2, paren + 1])], "{published:#}");

    let after_y = column("    s = \"é😀中\"; bar(s, y", expected);
    client.change(URI, 2, [2, after_y], [2, after_y], ")");
    let published = client.diagnostics_for(URI);
    assert_eq!(published["version"], 2);
    assert_eq!(published["diagnostics"], json!([]), "the `)` landed elsewhere: {published:#}");

    // Replace the emoji pair (two characters wide in every encoding's own units).
    let emoji_start = column("    s = \"é", expected);
    let emoji_end = column("    s = \"é😀", expected);
    client.change(URI, 3, [2, emoji_start], [2, emoji_end], "\"");
    let published = client.diagnostics_for(URI);
    assert_eq!(published["version"], 3);
    // `s = "é"中"; bar(s, y)`: as Elixir reports it, the string opened by
    // the quote after `中` is never closed.
    let stray = column("    s = \"é\"中", expected);
    assert_eq!(published["diagnostics"][0]["range"]["start"], json!({ "line": 2, "character": stray }), "{published:#}");
    assert!(client.shutdown().success());
}

#[test]
fn utf16_is_the_default_encoding() {
    multi_byte_round_trip(None, "utf-16");
    multi_byte_round_trip(Some(&["utf-16"]), "utf-16");
}

#[test]
fn utf8_is_chosen_when_offered() {
    multi_byte_round_trip(Some(&["utf-16", "utf-8"]), "utf-8");
}

#[test]
fn utf32_is_chosen_when_offered_without_utf8() {
    multi_byte_round_trip(Some(&["utf-32", "utf-16"]), "utf-32");
}

#[test]
fn a_burst_of_edits_publishes_only_in_version_order_and_ends_on_the_last() {
    let mut client = LspClient::start();
    client.initialize(None);
    client.open(URI, "elixir", 1, "defmodule Burst do\n  # \n  def run, do: :ok\nend\n");
    assert_eq!(client.diagnostics_for(URI)["version"], 1);

    for version in 2..=30 {
        let column = (version - 2) as u32 + 4;
        client.change(URI, version, [1, column], [1, column], "x");
    }
    client.change(URI, 31, [2, 14], [2, 14], "[");

    let versions: Vec<i64> = client
        .drain_for(Duration::from_millis(1500))
        .iter()
        .filter(|m| m["method"] == "textDocument/publishDiagnostics")
        .map(|m| m["params"]["version"].as_i64().unwrap())
        .collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "out of order: {versions:?}");
    assert_eq!(versions.last(), Some(&31), "{versions:?}");
    assert!(versions.len() < 10, "debounce should merge the burst: {versions:?}");
}

#[test]
fn the_last_published_diagnostics_match_the_final_text() {
    let mut client = LspClient::start();
    client.initialize(None);
    client.open(URI, "elixir", 1, "defmodule Last do\nend\n");
    client.diagnostics_for(URI);
    client.change(URI, 2, [0, 17], [0, 17], "\n  def f(x), do: [x");
    client.change(URI, 3, [1, 19], [1, 19], "]");
    let mut published = client.diagnostics_for(URI);
    while published["version"] != 3 {
        published = client.diagnostics_for(URI);
    }
    assert_eq!(published["diagnostics"], json!([]));
}

#[test]
fn nonsense_from_the_client_is_survived() {
    let mut client = LspClient::start();
    client.initialize(None);
    // A change to a document that was never opened.
    client.change("file:///nowhere.ex", 2, [0, 0], [0, 0], "x");
    client.open(URI, "elixir", 1, "defmodule Odd do\nend\n");
    client.diagnostics_for(URI);
    // Positions far past the end are clamped to it.
    client.change(URI, 2, [99, 99], [120, 0], "\ndefmodule Tail do\nend\n");
    assert_eq!(client.diagnostics_for(URI)["diagnostics"], json!([]));
    // A change whose version goes backwards is ignored.
    client.change(URI, 1, [0, 0], [0, 0], "(((");
    client.change(URI, 3, [0, 0], [0, 0], "# ok\n");
    assert_eq!(client.diagnostics_for(URI)["diagnostics"], json!([]));
    // A request the server does not know gets an error, not a crash.
    let response = client.request_raw("elexirion/noSuchMethod", json!({}));
    assert_eq!(response["error"]["code"], -32601);
    client.send(&json!({ "jsonrpc": "2.0", "id": 99, "method": "textDocument/hover", "params": "garbage" }));
    assert!(client.shutdown().success());
}

#[test]
fn closing_a_document_clears_its_diagnostics() {
    let mut client = LspClient::start();
    client.initialize(None);
    client.open(URI, "elixir", 1, "defmodule Closing do\n  x = [\nend\n");
    assert_eq!(client.diagnostics_for(URI)["diagnostics"].as_array().unwrap().len(), 1);
    client.notify("textDocument/didClose", json!({ "textDocument": { "uri": URI } }));
    let published = client.diagnostics_for(URI);
    assert_eq!(published["diagnostics"], json!([]));
    assert!(published.get("version").is_none_or(Value::is_null));
}

#[test]
fn files_that_are_not_elixir_get_no_elixir_diagnostics() {
    let mut client = LspClient::start();
    client.initialize(None);
    client.open("file:///project/notes.md", "markdown", 1, "defmodule (((");
    client.open(URI, "elixir", 1, "defmodule Fine do\nend\n");
    assert_eq!(client.diagnostics_for(URI)["diagnostics"], json!([]));
    let other = client.drain_for(Duration::from_millis(300));
    assert!(
        other.iter().all(|m| m["params"]["uri"] != "file:///project/notes.md" || m["params"]["diagnostics"] == json!([])),
        "{other:#?}"
    );
}
