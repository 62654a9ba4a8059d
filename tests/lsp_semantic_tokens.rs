//! Semantic tokens over stdio: the legend, the tokens of a small file in
//! each position encoding, multi-line tokens, and deltas after edits.

mod support;

use serde_json::{json, Value};
use support::LspClient;

const URI: &str = "file:///project/lib/shop/cart.ex";

const CART: &str = r#"defmodule Shop.Cart do
  @moduledoc "Carts."
  @limit 10

  # Adds an item.
  def add(cart, item) do
    {:ok, "Added #{item} to café 😀", cart}
  end
end
"#;

/// `(line, column, length, "type[.modifier...]")`: the tokens of CART in UTF-16.
const CART_TOKENS: &[(u32, u32, u32, &str)] = &[
    (0, 0, 9, "keyword"),
    (0, 10, 9, "namespace"),
    (0, 20, 2, "keyword"),
    (1, 2, 1, "decorator"),
    (1, 3, 9, "decorator"),
    (1, 13, 8, "comment.documentation"),
    (2, 2, 1, "decorator"),
    (2, 3, 5, "decorator"),
    (2, 9, 2, "number"),
    (4, 2, 15, "comment"),
    (5, 2, 3, "keyword"),
    (5, 6, 3, "function.declaration"),
    (5, 10, 4, "parameter.declaration"),
    (5, 16, 4, "parameter.declaration"),
    (5, 22, 2, "keyword"),
    (6, 5, 3, "enumMember"),
    (6, 10, 7, "string"),
    (6, 19, 4, "variable"),
    (6, 24, 12, "string"),
    (6, 38, 4, "variable"),
    (7, 2, 3, "keyword"),
    (8, 0, 3, "keyword"),
];

/// Start a server with these client capabilities; its semantic tokens legend.
fn start(capabilities: Value) -> (LspClient, Value) {
    let mut client = LspClient::start();
    let result = client.request("initialize", json!({ "processId": null, "capabilities": capabilities }));
    client.notify("initialized", json!({}));
    let legend = result["capabilities"]["semanticTokensProvider"]["legend"].clone();
    (client, legend)
}

fn full(client: &mut LspClient, uri: &str) -> Value {
    client.request("textDocument/semanticTokens/full", json!({ "textDocument": { "uri": uri } }))
}

/// The relative encoding read back as absolute `(line, column, length, "type.modifiers")`.
fn decode(data: &Value, legend: &Value) -> Vec<(u32, u32, u32, String)> {
    let numbers: Vec<u32> = data.as_array().unwrap().iter().map(|n| n.as_u64().unwrap() as u32).collect();
    assert_eq!(numbers.len() % 5, 0, "five numbers per token");
    let (mut line, mut column) = (0, 0);
    numbers
        .chunks(5)
        .map(|t| {
            line += t[0];
            column = if t[0] == 0 { column + t[1] } else { t[1] };
            let mut name = legend["tokenTypes"][t[3] as usize].as_str().unwrap().to_string();
            for (bit, modifier) in legend["tokenModifiers"].as_array().unwrap().iter().enumerate() {
                if t[4] & (1 << bit) != 0 {
                    name = format!("{name}.{}", modifier.as_str().unwrap());
                }
            }
            (line, column, t[2], name)
        })
        .collect()
}

fn table(rows: &[(u32, u32, u32, &str)]) -> Vec<(u32, u32, u32, String)> {
    rows.iter().map(|&(l, c, n, t)| (l, c, n, t.to_string())).collect()
}

/// `edits` (start and deleteCount in numbers, five per token) applied to `data`.
fn apply_delta(data: &Value, edits: &Value) -> Value {
    let mut numbers = data.as_array().unwrap().clone();
    let mut edits = edits.as_array().unwrap().clone();
    edits.sort_by_key(|e| std::cmp::Reverse(e["start"].as_u64().unwrap()));
    for edit in edits {
        let start = edit["start"].as_u64().unwrap() as usize;
        let deleted = edit["deleteCount"].as_u64().unwrap() as usize;
        let inserted = edit.get("data").and_then(Value::as_array).cloned().unwrap_or_default();
        numbers.splice(start..start + deleted, inserted);
    }
    Value::Array(numbers)
}

#[test]
fn the_capability_is_advertised_with_its_legend() {
    let (client, legend) = start(json!({}));
    let types: Vec<&str> = legend["tokenTypes"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    for standard in ["namespace", "function", "macro", "keyword", "variable", "parameter", "string", "number", "comment", "operator", "enumMember", "decorator"] {
        assert!(types.contains(&standard), "{standard} missing from {types:?}");
    }
    assert_eq!(legend["tokenModifiers"], json!(["declaration", "documentation"]));
    drop(client);
    let mut client = LspClient::start();
    let result = client.initialize(None);
    assert_eq!(result["capabilities"]["semanticTokensProvider"]["full"], json!({ "delta": true }));
}

#[test]
fn a_small_module_gets_the_expected_tokens_in_utf16() {
    let (mut client, legend) = start(json!({}));
    client.open(URI, "elixir", 1, CART);
    let result = full(&mut client, URI);
    assert!(result["resultId"].is_string(), "{result}");
    assert_eq!(decode(&result["data"], &legend), table(CART_TOKENS));
    assert!(client.shutdown().success());
}

#[test]
fn columns_after_multi_byte_characters_follow_the_negotiated_encoding() {
    let (mut client, legend) = start(json!({ "general": { "positionEncodings": ["utf-8", "utf-16"] } }));
    client.open(URI, "elixir", 1, CART);
    let tokens = decode(&full(&mut client, URI)["data"], &legend);
    // ` to café 😀"` is 12 UTF-16 units but 15 bytes; `cart` moves with it.
    let line_6: Vec<_> = tokens.into_iter().filter(|t| t.0 == 6).collect();
    assert_eq!(
        line_6,
        table(&[(6, 5, 3, "enumMember"), (6, 10, 7, "string"), (6, 19, 4, "variable"), (6, 24, 15, "string"), (6, 41, 4, "variable")])
    );
}

#[test]
fn a_heredoc_is_split_per_line_unless_the_client_takes_multiline_tokens() {
    let text = "@doc \"\"\"\nÉtat 😀\n\n\"\"\"\ndef f, do: 1\n";
    let (mut client, legend) = start(json!({}));
    client.open(URI, "elixir", 1, text);
    let tokens = decode(&full(&mut client, URI)["data"], &legend);
    let docs: Vec<_> = tokens.into_iter().filter(|t| t.3 == "comment.documentation").collect();
    assert_eq!(docs, table(&[(0, 5, 3, "comment.documentation"), (1, 0, 7, "comment.documentation"), (3, 0, 3, "comment.documentation")]));

    let capabilities = json!({ "textDocument": { "semanticTokens": { "multilineTokenSupport": true, "requests": { "full": { "delta": true } }, "tokenTypes": [], "tokenModifiers": [], "formats": ["relative"] } } });
    let (mut client, legend) = start(capabilities);
    client.open(URI, "elixir", 1, text);
    let tokens = decode(&full(&mut client, URI)["data"], &legend);
    let docs: Vec<_> = tokens.into_iter().filter(|t| t.3 == "comment.documentation").collect();
    // `"""` + `\n` + `État 😀` (7 units) + `\n` + `\n` + `"""`.
    assert_eq!(docs, table(&[(0, 5, 16, "comment.documentation")]));
}

#[test]
fn a_delta_after_an_edit_turns_the_previous_tokens_into_a_fresh_full_result() {
    let (mut client, _) = start(json!({}));
    client.open(URI, "elixir", 1, CART);
    let first = full(&mut client, URI);

    // A new line inside the function, then a renamed parameter.
    client.change(URI, 2, [6, 0], [6, 0], "    Logger.info(\"adding #{inspect(item)}\")\n");
    let delta = client.request(
        "textDocument/semanticTokens/full/delta",
        json!({ "textDocument": { "uri": URI }, "previousResultId": first["resultId"] }),
    );
    let edits = &delta["edits"];
    assert!(edits.is_array(), "a delta, not a full result: {delta}");
    assert_ne!(delta["resultId"], first["resultId"]);
    let patched = apply_delta(&first["data"], edits);
    let fresh = full(&mut client, URI);
    assert_eq!(patched, fresh["data"]);
    let edited: usize = edits.as_array().unwrap().iter().map(|e| e.get("data").and_then(Value::as_array).map_or(0, Vec::len)).sum();
    assert!(edited < fresh["data"].as_array().unwrap().len() / 2, "the delta resends most tokens: {delta}");

    client.change(URI, 3, [5, 10], [5, 14], "basket");
    let delta = client.request(
        "textDocument/semanticTokens/full/delta",
        json!({ "textDocument": { "uri": URI }, "previousResultId": fresh["resultId"] }),
    );
    let patched = apply_delta(&fresh["data"], &delta["edits"]);
    assert_eq!(patched, full(&mut client, URI)["data"]);
    assert!(client.shutdown().success());
}

#[test]
fn an_unknown_previous_result_gets_every_token_and_other_documents_none() {
    let (mut client, legend) = start(json!({}));
    client.open(URI, "elixir", 1, CART);
    let result = client.request(
        "textDocument/semanticTokens/full/delta",
        json!({ "textDocument": { "uri": URI }, "previousResultId": "no such result" }),
    );
    assert_eq!(decode(&result["data"], &legend), table(CART_TOKENS));

    client.open("file:///project/notes.txt", "plaintext", 1, "defmodule A do end\n");
    assert_eq!(full(&mut client, "file:///project/notes.txt"), Value::Null);
    assert_eq!(full(&mut client, "file:///project/not_open.ex"), Value::Null);
}
