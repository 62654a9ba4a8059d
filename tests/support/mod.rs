//! Test harness: the real `elexirion` binary, spoken to over stdio JSON-RPC.

#![allow(dead_code)] // each test file uses part of it

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Long enough for a slow CI machine, short enough that a hang fails the test.
pub const TIMEOUT: Duration = Duration::from_secs(20);

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_elexirion")
}

pub struct LspClient {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    /// Messages received while waiting for something else.
    backlog: Vec<Value>,
    next_id: i64,
}

impl LspClient {
    pub fn start() -> Self {
        Self::spawn(Stdio::inherit())
    }

    /// Start the server with its debug log gathered, to ask what it did.
    pub fn start_with_log() -> (Self, std::sync::Arc<std::sync::Mutex<String>>) {
        let mut client = Self::spawn(Stdio::piped());
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let stderr = client.child.stderr.take().unwrap();
        let gathered = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                let mut log = gathered.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        (client, log)
    }

    fn spawn(stderr: Stdio) -> Self {
        let mut child = Command::new(binary())
            .arg("serve")
            .env("ELEXIRION_LOG", "debug")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start elexirion serve");
        let stdout = child.stdout.take().unwrap();
        let (sender, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Self { child, stdin, incoming, backlog: Vec::new(), next_id: 1 }
    }

    /// `initialize` + `initialized`, offering the given position encodings.
    pub fn initialize(&mut self, encodings: Option<&[&str]>) -> Value {
        let mut capabilities = json!({});
        if let Some(encodings) = encodings {
            capabilities["general"] = json!({ "positionEncodings": encodings });
        }
        let result = self.request("initialize", json!({ "processId": null, "capabilities": capabilities }));
        self.notify("initialized", json!({}));
        result
    }

    pub fn send(&mut self, message: &Value) {
        self.send_body(message.to_string().as_bytes());
    }

    /// One frame holding any bytes at all, valid JSON or not.
    pub fn send_body(&mut self, body: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        write!(stdin, "Content-Length: {}\r\n\r\n", body.len()).expect("write to server");
        stdin.write_all(body).expect("write to server");
        stdin.flush().expect("flush to server");
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Send a request and return its `result`, panicking on an error response.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_raw(method, params);
        if let Some(error) = response.get("error") {
            panic!("{method} failed: {error}");
        }
        response["result"].clone()
    }

    /// Send a request and return the whole response.
    pub fn request_raw(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        self.response_to(id)
    }

    /// Send a request without waiting for its answer; its id.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        id
    }

    /// The whole response to the request with this id.
    pub fn response_to(&mut self, id: i64) -> Value {
        self.wait_for(&format!("the response to request {id}"), |m| m["id"] == id && m.get("method").is_none())
    }

    /// The first message (already received or still to come) that matches.
    pub fn wait_for(&mut self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        if let Some(index) = self.backlog.iter().position(&matches) {
            return self.backlog.remove(index);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(left) {
                Ok(message) if matches(&message) => return message,
                Ok(message) => self.backlog.push(message),
                Err(RecvTimeoutError::Timeout) => panic!("timed out waiting for {what}; got {:#?}", self.backlog),
                Err(RecvTimeoutError::Disconnected) => panic!("server exited while waiting for {what}"),
            }
        }
    }

    /// Answer a request the server sent us.
    pub fn respond(&mut self, request: &Value, result: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "id": request["id"].clone(), "result": result }));
    }

    /// The next request from the server with this method, answered with `result`.
    pub fn answer_request(&mut self, method: &str, result: Value) -> Value {
        let request = self.wait_for(method, |m| m["method"] == method && m.get("id").is_some());
        self.respond(&request, result);
        request
    }

    /// The next `publishDiagnostics` for `uri`.
    pub fn diagnostics_for(&mut self, uri: &str) -> Value {
        let message = self.wait_for(&format!("diagnostics for {uri}"), |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        message["params"].clone()
    }

    /// Every message that arrives within `window`, without waiting further.
    pub fn drain_for(&mut self, window: Duration) -> Vec<Value> {
        let deadline = Instant::now() + window;
        let mut drained = std::mem::take(&mut self.backlog);
        while let Ok(message) = self.incoming.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            drained.push(message);
        }
        drained
    }

    pub fn open(&mut self, uri: &str, language_id: &str, version: i32, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": language_id, "version": version, "text": text } }),
        );
    }

    /// One incremental edit: replace `start..end` (each `[line, character]`) with `text`.
    pub fn change(&mut self, uri: &str, version: i32, start: [u32; 2], end: [u32; 2], text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri, "version": version },
                "contentChanges": [{
                    "range": { "start": { "line": start[0], "character": start[1] },
                               "end": { "line": end[0], "character": end[1] } },
                    "text": text,
                }],
            }),
        );
    }

    /// `shutdown` then `exit`; the exit status of the server.
    pub fn shutdown(mut self) -> ExitStatus {
        assert_eq!(self.request("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        drop(self.stdin.take());
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for server") {
                return status;
            }
            assert!(Instant::now() < deadline, "server did not exit after `exit`");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for LspClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// A GenServer with one anti-pattern (a call with `:infinity`), used by the
/// pipeline tests of the command line and of the editor.
pub const WORKER: &str = "defmodule App.Worker do
  use GenServer

  def fetch(server), do: GenServer.call(server, :fetch, :infinity)

  @impl true
  def init(state), do: {:ok, state}

  @impl true
  def handle_call(:fetch, _from, state), do: {:reply, state, state}
end
";

/// The shipped fix pipeline's model answers about [`WORKER`]: the `diagnose`
/// step's issues and the `rewrite` step's fixed module, fenced.
pub const WORKER_DIAGNOSIS: &str = "{\"issues\": [{\"problem\": \"call with :infinity\", \"where\": \"fetch/1\", \"fix\": \"30 s timeout\"}]}";
pub const WORKER_REWRITE: &str = "Here it is:\n\n```elixir\ndefmodule App.Worker do\n  use GenServer\n\n  def fetch(server), do: GenServer.call(server, :fetch, 30_000)\n\n  @impl true\n  def init(state), do: {:ok, state}\n\n  @impl true\n  def handle_call(:fetch, _from, state), do: {:reply, state, state}\nend\n```";
pub const REFUSAL: &str = "I cannot help with that.";

/// The rewrite refuses; the repair request ("Please answer again ...") gets the code.
pub const REPAIRED_SCRIPT: &[(&str, &str)] =
    &[("Please answer again", WORKER_REWRITE), ("List the OTP and process anti-patterns", WORKER_DIAGNOSIS), ("Rewrite the Elixir code", REFUSAL)];

/// A workspace with [`WORKER`] at `lib/app/worker.ex` and an `elexirion.toml`
/// sending `claude` steps to the OpenAI-compatible model at `model_url`,
/// followed by `extra_config`.
pub fn worker_workspace(model_url: &str, extra_config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = format!("[providers]\nclaude = [\"openai\"]\nmax-retries = 0\n[providers.base-urls]\nopenai = \"{model_url}\"\n{extra_config}");
    std::fs::write(dir.path().join("elexirion.toml"), config).unwrap();
    std::fs::create_dir_all(dir.path().join("lib/app")).unwrap();
    std::fs::write(dir.path().join("lib/app/worker.ex"), WORKER).unwrap();
    dir
}

/// A `[line, character]` range as it appears in JSON.
pub fn range(start: [u32; 2], end: [u32; 2]) -> Value {
    json!({ "start": { "line": start[0], "character": start[1] }, "end": { "line": end[0], "character": end[1] } })
}

/// Apply LSP text edits (positions counted in bytes: the tests' texts are ASCII).
pub fn apply_lsp_edits(text: &str, edits: &[Value]) -> String {
    let offset = |p: &Value| text.split_inclusive('\n').take(p["line"].as_u64().unwrap() as usize).map(str::len).sum::<usize>() + p["character"].as_u64().unwrap() as usize;
    let mut out = text.to_string();
    let mut sorted: Vec<&Value> = edits.iter().collect();
    sorted.sort_by_key(|e| std::cmp::Reverse(offset(&e["range"]["start"])));
    for edit in sorted {
        out.replace_range(offset(&edit["range"]["start"])..offset(&edit["range"]["end"]), edit["newText"].as_str().unwrap());
    }
    out
}
