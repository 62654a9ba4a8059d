//! From `workspace/executeCommand` to the `workspace/applyEdit` it causes,
//! for a refactor pipeline on a 1,000-line file: the real server over stdio,
//! an instant model on 127.0.0.1. Once the answers are cached the model
//! takes no time at all, so that figure is the server's own work.

#[path = "../../tests/support/http.rs"]
mod http;
#[path = "../../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn module(lines: usize) -> String {
    let mut text = String::from("defmodule Big do\n  use GenServer\n\n  def fetch(s), do: GenServer.call(s, :fetch, :infinity)\n\n");
    let mut n = 0;
    while text.lines().count() < lines - 1 {
        text.push_str(&format!("  def f{n}(x) when is_integer(x) do\n    x + {n}\n  end\n\n"));
        n += 1;
    }
    text.push_str("end\n");
    text
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let original = module(1_000);
    let fixed = original.replace(":fetch, :infinity)", ":fetch, 30_000)");
    let answer = format!("```elixir\n{fixed}```");
    let server = runtime.block_on(http::TestServer::start_with(move |request| {
        let prompt = request.json()["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string();
        let content = if prompt.contains("Rewrite") { answer.clone() } else { "{\"issues\": []}".to_string() };
        http::Reply::json(200, &json!({ "choices": [{ "message": { "content": content } }] }))
    }));

    let dir = tempfile::tempdir().unwrap();
    let config = format!("[providers]\nclaude = [\"openai\"]\n[providers.base-urls]\nopenai = \"{}\"\n", server.url);
    std::fs::write(dir.path().join("elexirion.toml"), config).unwrap();
    let uri = format!("file://{}/lib/big.ex", dir.path().display());
    let mut client = support::LspClient::start();
    let root = format!("file://{}", dir.path().display());
    client.request("initialize", json!({ "processId": null, "rootUri": root, "capabilities": { "window": { "workDoneProgress": true } } }));
    client.notify("initialized", json!({}));
    client.open(&uri, "elixir", 1, &original);
    client.diagnostics_for(&uri);

    let arguments = json!([{ "pipeline": "fix_otp_antipatterns", "uri": uri, "range": support::range([0, 0], [0, 0]) }]);
    let mut times = Vec::new();
    for _ in 0..21 {
        let started = Instant::now();
        client.request("workspace/executeCommand", json!({ "command": "elexirion.runPipeline", "arguments": arguments }));
        client.answer_request("window/workDoneProgress/create", Value::Null);
        let request = client.wait_for("applyEdit", |m| m["method"] == "workspace/applyEdit");
        times.push(started.elapsed());
        client.respond(&request, json!({ "applied": true }));
        client.wait_for("progress end", |m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end");
    }
    let first = times.remove(0);
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("refactor pipeline on a {}-line file, executeCommand -> applyEdit:", original.lines().count());
    println!("  first run (2 model requests to an instant local model): {:.2} ms", ms(first));
    println!("  answers cached (no model time):  median {:.2} ms  p95 {:.2} ms", ms(times[times.len() / 2]), ms(times[times.len() * 95 / 100]));
}
