//! Rule diagnostics and their quick fixes in the language server, end to end.

mod support;

use serde_json::{json, Value};
use support::LspClient;

const URI: &str = "file:///project/lib/worker.ex";

const WORKER: &str = "defmodule Worker do
  use GenServer

  @impl true
  def init(state), do: {:ok, state}

  def handle_call(:get, _from, state), do: {:reply, state, state}

  @impl true
  def handle_cast(:sync, state) do
    Process.sleep(1_000)
    {:noreply, state}
  end
end
";

/// Apply LSP text edits (UTF-16 positions; the text here is ASCII) to `text`.
fn apply(text: &str, edits: &[Value]) -> String {
    let offset = |position: &Value| {
        let line = position["line"].as_u64().unwrap() as usize;
        let character = position["character"].as_u64().unwrap() as usize;
        text.split_inclusive('\n').take(line).map(str::len).sum::<usize>() + character
    };
    let mut edits: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| (offset(&e["range"]["start"]), offset(&e["range"]["end"]), e["newText"].as_str().unwrap()))
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (start, end, new_text) in edits {
        out.replace_range(start..end, new_text);
    }
    out
}

fn codes(published: &Value) -> Vec<String> {
    published["diagnostics"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap().to_string()).collect()
}

#[test]
fn a_quick_fix_is_offered_applied_and_the_diagnostic_goes() {
    let mut client = LspClient::start();
    let init = client.initialize(None);
    assert_eq!(init["capabilities"]["codeActionProvider"]["codeActionKinds"], json!(["quickfix", "source.fixAll.elexirion", "refactor.rewrite", "source.elexirion"]));
    client.open(URI, "elixir", 1, WORKER);

    let published = client.diagnostics_for(URI);
    assert_eq!(codes(&published), ["EXR011", "EXR007"], "{published:#}");
    let missing_impl = published["diagnostics"][0].clone();
    assert_eq!(missing_impl["range"], support::range([6, 6], [6, 37]));
    assert_eq!(missing_impl["severity"], 2);
    assert_eq!(missing_impl["data"]["name"], "missing-impl");
    assert!(missing_impl["codeDescription"]["href"].as_str().unwrap().ends_with("rules.md#exr011-missing-impl"));

    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": URI },
            "range": missing_impl["range"],
            "context": { "diagnostics": [missing_impl.clone()] },
        }),
    );
    // Besides the AI pipelines the editor can run, one quick fix.
    let quick_fixes: Vec<&Value> = actions.as_array().unwrap().iter().filter(|a| a["kind"] == "quickfix").collect();
    assert_eq!(quick_fixes.len(), 1, "{actions:#?}");
    let action = quick_fixes[0];
    assert_eq!(action["title"], "Add `@impl true`");
    assert_eq!(action["kind"], "quickfix");
    assert_eq!(action["isPreferred"], true);
    assert_eq!(action["diagnostics"][0], missing_impl);
    let edits = action["edit"]["changes"][URI].as_array().unwrap();
    let fixed = apply(WORKER, edits);
    assert!(fixed.contains("  @impl true\n  def handle_call(:get"), "{fixed}");

    // Apply it as the editor would: one incremental change per edit.
    for edit in edits {
        client.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": URI, "version": 2 }, "contentChanges": [{ "range": edit["range"], "text": edit["newText"] }] }),
        );
    }
    let published = client.diagnostics_for(URI);
    assert_eq!(published["version"], 2);
    assert_eq!(codes(&published), ["EXR007"], "{published:#}");
    assert!(client.shutdown().success());
}

#[test]
fn fix_all_applies_every_safe_fix_at_once() {
    let mut client = LspClient::start();
    client.initialize(None);
    let text = WORKER.replace("  @impl true\n", "");
    client.open(URI, "elixir", 1, &text);
    assert_eq!(codes(&client.diagnostics_for(URI)), ["EXR011", "EXR011", "EXR011", "EXR007"]);

    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": URI },
            "range": support::range([0, 0], [0, 0]),
            "context": { "diagnostics": [], "only": ["source.fixAll"] },
        }),
    );
    let actions = actions.as_array().unwrap();
    assert_eq!(actions.len(), 1, "{actions:#?}");
    assert_eq!(actions[0]["kind"], "source.fixAll.elexirion");
    let fixed = apply(&text, actions[0]["edit"]["changes"][URI].as_array().unwrap());
    assert_eq!(fixed.matches("@impl true").count(), 3, "{fixed}");
    assert_eq!(fixed.replace("  @impl true\n", ""), text);
}

const TICKER: &str = "defmodule Ticker do
  @moduledoc \"\"\"
  Ticks.
  \"\"\"
  use GenServer
  alias Ticker.Clock

  @impl true
  def init(state), do: {:ok, state}

  @impl true
  def handle_info(:tick, state), do: {:noreply, Clock.tick(state)}
end
";

#[test]
fn an_unsafe_fix_is_offered_as_a_quick_fix_but_never_applied_by_fix_all() {
    let mut client = LspClient::start();
    let enable = json!({ "rules": { "enable": ["handle-info-without-catch-all"] } });
    client.request("initialize", json!({ "processId": null, "capabilities": {}, "initializationOptions": enable }));
    client.notify("initialized", json!({}));
    client.open(URI, "elixir", 1, TICKER);
    let published = client.diagnostics_for(URI);
    assert_eq!(codes(&published), ["EXR010"], "{published:#}");
    let catch_all = published["diagnostics"][0].clone();

    let actions = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": URI }, "range": catch_all["range"], "context": { "diagnostics": [catch_all.clone()], "only": ["quickfix"] } }),
    );
    let actions = actions.as_array().unwrap();
    assert_eq!(actions.len(), 1, "{actions:#?}");
    assert_eq!(actions[0]["title"], "Add a catch-all `handle_info/2` that logs the message");
    // Unsafe: offered, never preferred (so never applied without a look).
    assert_eq!(actions[0]["isPreferred"], false);
    let fixed = apply(TICKER, actions[0]["edit"]["changes"][URI].as_array().unwrap());
    assert!(fixed.contains("  use GenServer\n  alias Ticker.Clock\n  require Logger\n\n  @impl true"), "{fixed}");
    assert!(fixed.contains("  def handle_info(message, state) do\n    Logger.warning("), "{fixed}");

    let fix_all = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": URI }, "range": support::range([0, 0], [0, 0]), "context": { "diagnostics": [], "only": ["source.fixAll"] } }),
    );
    assert_eq!(fix_all, Value::Null, "fix-all applied an unsafe fix: {fix_all:#}");
    assert!(client.shutdown().success());
}

#[test]
fn no_actions_for_a_range_without_fixable_findings() {
    let mut client = LspClient::start();
    client.initialize(None);
    client.open(URI, "elixir", 1, WORKER);
    client.diagnostics_for(URI);
    let actions = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": URI }, "range": support::range([10, 4], [10, 10]), "context": { "diagnostics": [], "only": ["quickfix"] } }),
    );
    assert_eq!(actions, Value::Null);
}

#[test]
fn workspace_configuration_is_read_at_startup_and_a_broken_one_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("elexirion.toml"), "[rules]\ndisable = [\"blocking-sleep-in-callback\"]\n").unwrap();
    let root = format!("file://{}", dir.path().display());
    let uri = format!("{root}/lib/worker.ex");

    let mut client = LspClient::start();
    client.request("initialize", json!({ "processId": null, "rootUri": root, "capabilities": {} }));
    client.notify("initialized", json!({}));
    client.open(&uri, "elixir", 1, WORKER);
    assert_eq!(codes(&client.diagnostics_for(&uri)), ["EXR011"]);

    std::fs::write(dir.path().join("elexirion.toml"), "[rules\n").unwrap();
    let mut client = LspClient::start();
    client.request("initialize", json!({ "processId": null, "rootUri": root, "capabilities": {} }));
    client.notify("initialized", json!({}));
    let warning = client.wait_for("a warning", |m| m["method"] == "window/showMessage");
    assert_eq!(warning["params"]["type"], 2);
    assert!(warning["params"]["message"].as_str().unwrap().contains("elexirion.toml"), "{warning}");
    client.open(&uri, "elixir", 1, WORKER);
    assert_eq!(codes(&client.diagnostics_for(&uri)), ["EXR011", "EXR007"]);
}

#[test]
fn editor_settings_override_the_file_and_can_change_later() {
    let mut client = LspClient::start();
    client.request(
        "initialize",
        json!({ "processId": null, "capabilities": {}, "initializationOptions": { "rules": { "disable": ["blocking-sleep-in-callback"] } } }),
    );
    client.notify("initialized", json!({}));
    client.open(URI, "elixir", 1, WORKER);
    assert_eq!(codes(&client.diagnostics_for(URI)), ["EXR011"]);

    client.notify("workspace/didChangeConfiguration", json!({ "settings": { "elexirion": { "rules": { "disable": [] } } } }));
    assert_eq!(codes(&client.diagnostics_for(URI)), ["EXR011", "EXR007"]);

    client.notify("workspace/didChangeConfiguration", json!({ "settings": { "elexirion": { "rules": { "disable": ["no-such-rule"] } } } }));
    let warning = client.wait_for("a warning", |m| m["method"] == "window/showMessage");
    assert!(warning["params"]["message"].as_str().unwrap().contains("no-such-rule"), "{warning}");
}

#[test]
fn saving_the_configuration_file_reloads_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = format!("file://{}", dir.path().display());
    let uri = format!("{root}/lib/worker.ex");
    let toml = format!("{root}/elexirion.toml");
    let mut client = LspClient::start();
    client.request("initialize", json!({ "processId": null, "rootUri": root, "capabilities": {} }));
    client.notify("initialized", json!({}));
    client.open(&uri, "elixir", 1, WORKER);
    assert_eq!(codes(&client.diagnostics_for(&uri)), ["EXR011", "EXR007"]);

    std::fs::write(dir.path().join("elexirion.toml"), "[rules]\ndisable = [\"blocking-sleep-in-callback\"]\n").unwrap();
    client.notify("textDocument/didSave", json!({ "textDocument": { "uri": toml } }));
    assert_eq!(codes(&client.diagnostics_for(&uri)), ["EXR011"]);

    // A broken file is reported and the configuration in use stays.
    std::fs::write(dir.path().join("elexirion.toml"), "[rules\n").unwrap();
    client.notify("textDocument/didSave", json!({ "textDocument": { "uri": toml } }));
    let warning = client.wait_for("a warning", |m| m["method"] == "window/showMessage");
    assert!(warning["params"]["message"].as_str().unwrap().contains("previous configuration stays"), "{warning}");
    client.change(&uri, 2, [0, 0], [0, 0], "# edited\n");
    assert_eq!(codes(&client.diagnostics_for(&uri)), ["EXR011"]);
}
