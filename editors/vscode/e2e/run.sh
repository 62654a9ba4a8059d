#!/usr/bin/env bash
# The extension in real VS Code, end to end: code-server 4.100.3 (VS Code
# 1.100.3, the last line that runs on node 20) with nothing installed but the
# platform package editors/vscode/elexirion-linux-x64.vsix (its bundled server,
# no elexirion on PATH, no elexirion.server.path), driven by headless Debian
# Chromium through playwright-core (drive.mjs): the workspace opens, an Elixir
# file gets its diagnostics, a quick fix applies, a pipeline YAML completes a
# step type, and an AI code action answered by a loopback model is reviewed
# in the Refactor Preview and applied.
#
#   bash editors/vscode/e2e/run.sh      (scripts/test runs it after packaging the .vsix)
#
# Needs apt (chromium, ripgrep and the headers code-server's native modules
# build against are installed when missing), node 20 with its headers in
# /usr/include/node (node-gyp cannot download them offline) and the npm
# registry. Everything lives under target/vscode-e2e/:
#   deps/       code-server + playwright-core from package-lock.json, kept while
#               the lock file and this recipe are unchanged and they still start
#   run/        profile, extensions and workspace, made afresh each run
#   artifacts/  numbered screenshots per step (99-failure.png on failure), the
#               Problems and menus as text, the Elexirion output channel, the
#               model's requests, code-server's log
# Exits non-zero when any step fails, saying what was seen.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../../.."
root="$PWD"

e2e="$root/target/vscode-e2e"
deps="$e2e/deps"
run="$e2e/run"
artifacts="$e2e/artifacts"
vsix="$root/editors/vscode/elexirion-linux-x64.vsix"
# Bump when the install steps below change: the cached deps/ are then rebuilt.
recipe=1

started=$(date +%s)
phase_started=$started
phase() {
  local now
  now=$(date +%s)
  if [ -n "${phase_name:-}" ]; then
    echo "vscode-e2e: ${phase_name}: $((now - phase_started)) s"
  fi
  phase_name="$1"
  phase_started=$now
  [ -z "$1" ] || echo "vscode-e2e: ${1}..."
}

mkdir -p "$e2e"
# code-server writes its config.yaml (and may keep data) under these: not in $HOME.
export XDG_CONFIG_HOME="$e2e/xdg/config" XDG_DATA_HOME="$e2e/xdg/data"
# One run at a time on this checkout (deps/ and run/ are shared).
exec 9>"$e2e/lock"
flock -w 1800 9 || { echo "vscode-e2e: another run holds $e2e/lock" >&2; exit 1; }

# ---------------------------------------------------------------- system packages
phase "system packages"
packages=(chromium ripgrep build-essential python3 pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  as_root=""
  if [ "$(id -u)" != 0 ]; then as_root="sudo"; fi
  echo "vscode-e2e: apt-get install ${missing[*]}"
  $as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
fi
if [ "$(node -p 'process.versions.node.split(".")[0]')" != 20 ]; then
  echo "vscode-e2e: code-server 4.100.3 needs node 20, this is $(node --version)" >&2
  exit 1
fi
if [ ! -f /usr/include/node/node_version.h ]; then
  echo "vscode-e2e: no node headers in /usr/include/node (node-gyp builds code-server's native modules against them)" >&2
  exit 1
fi

# ---------------------------------------------------------------- code-server + playwright-core
export npm_config_nodedir=/usr        # node-gyp: the installed headers, never a download
export npm_config_yes=true            # node-pty's install script runs `npx node-gyp`
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
cs="$deps/node_modules/.bin/code-server"
vscode_dir="$deps/node_modules/code-server/lib/vscode"
stamp="recipe $recipe, lock $(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"

deps_work() {
  mkdir -p "$e2e/check/user" "$e2e/check/extensions"
  [ "$(cat "$deps/.installed" 2>/dev/null)" = "$stamp" ] &&
    [[ "$("$cs" --version 2>/dev/null)" == "4.100.3 "* ]] &&
    # loads VS Code's server and its modules, which --version does not
    "$cs" --user-data-dir "$e2e/check/user" --extensions-dir "$e2e/check/extensions" --list-extensions >/dev/null 2>&1 &&
    (cd "$deps" && node -e 'require("playwright-core")') 2>/dev/null
}

install_deps() {
  rm -rf "$deps"
  mkdir -p "$deps"
  cp "$here/package.json" "$here/package-lock.json" "$deps/"
  cd "$deps"
  # Without install scripts: code-server's postinstall downloads ripgrep from GitHub.
  npm ci --ignore-scripts
  npm rebuild --foreground-scripts argon2   # no prebuilt offline: node-gyp builds it
  # code-server's postinstall.sh, by hand.
  cd "$vscode_dir"
  # `npm install`, not `npm ci`: its npm-shrinkwrap.json misses tslib, so npm
  # ci refuses it; the shrinkwrap still pins everything else.
  npm install --omit=dev --ignore-scripts
  npm rebuild --foreground-scripts kerberos @parcel/watcher node-pty @vscode/spdlog \
    @vscode/deviceid native-watchdog @vscode/windows-process-tree @vscode/windows-registry
  mkdir -p node_modules/@vscode/ripgrep/bin   # Debian's rg instead of the download
  cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
  ln -sfn node_modules node_modules.asar
  (cd bin/remote-cli && ln -sfn code-linux.sh code-server)
  (cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
  (cd extensions && npm ci --omit=dev)
  cd "$root"
  "$cs" --version
  echo "$stamp" > "$deps/.installed"
}

phase "code-server and playwright-core"
if deps_work; then
  echo "vscode-e2e: reusing $deps"
else
  echo "vscode-e2e: installing into $deps (log: $e2e/install.log)"
  # In the background so that `set -e` holds inside (it is off in an `if`).
  install_deps > "$e2e/install.log" 2>&1 &
  if ! wait $!; then
    tail -n 40 "$e2e/install.log" >&2
    echo "vscode-e2e: the install failed; the whole log is $e2e/install.log" >&2
    exit 1
  fi
  deps_work || { echo "vscode-e2e: code-server or playwright-core does not start after the install" >&2; exit 1; }
fi

# ---------------------------------------------------------------- profile, workspace, the .vsix
phase "fresh profile and workspace, the .vsix installed"
if [ ! -f "$vsix" ]; then
  echo "vscode-e2e: no $vsix; make it with" >&2
  echo "  (cd editors/vscode && node scripts/package-platform.mjs linux-x64 ../../target/release/elexirion)" >&2
  exit 1
fi
rm -rf "$run" "$artifacts"
mkdir -p "$run/user/User" "$run/extensions" "$run/workspace/lib" "$run/workspace/pipelines" "$artifacts"
ws="$run/workspace"

cat > "$ws/lib/worker.ex" <<'EOF'
defmodule Shop.Worker do
  use GenServer

  def start_link(opts) do
    GenServer.start_link(__MODULE__, opts, name: __MODULE__)
  end

  def get, do: GenServer.call(__MODULE__, :get)

  def put(value), do: GenServer.cast(__MODULE__, {:put, value})

  def init(opts) do
    {:ok, Keyword.get(opts, :value)}
  end

  def handle_call(:get, _from, state) do
    {:reply, state, state}
  end

  def handle_cast({:put, value}, _state) do
    {:noreply, value}
  end
end
EOF
# A pipeline being written: in pipelines/, so both the extension
# (documents.ts) and the server treat this YAML file as a pipeline.
printf 'workflow:\n  name: draft\n  steps:\n    - name: first\n      type: \n' > "$ws/pipelines/draft.yaml"

cat > "$run/user/User/settings.json" <<'EOF'
{
  "elexirion.log.level": "debug",
  "security.workspace.trust.enabled": false,
  "workbench.startupEditor": "none",
  "files.autoSave": "off",
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "workbench.enableExperiments": false,
  "workbench.tips.enabled": false,
  "workbench.colorTheme": "Default Light Modern",
  "chat.commandCenter.enabled": false,
  "git.openRepositoryInParentFolders": "never",
  "editor.wordBasedSuggestions": "off"
}
EOF

# No elexirion on PATH: the server that runs must be the one in the .vsix.
clean_path=""
IFS=: read -r -a path_dirs <<< "$PATH"
for dir in "${path_dirs[@]}"; do
  if [ -n "$dir" ] && [ ! -e "$dir/elexirion" ]; then clean_path="${clean_path:+$clean_path:}$dir"; fi
done

code_server() {
  env PATH="$clean_path" "$cs" --user-data-dir "$run/user" --extensions-dir "$run/extensions" "$@"
}
code_server --install-extension "$vsix" > "$run/install-extension.log" 2>&1 || { cat "$run/install-extension.log" >&2; exit 1; }
installed=$(code_server --list-extensions --show-versions 2>/dev/null)
echo "vscode-e2e: installed extensions: $installed"
if [ "$(echo "$installed" | wc -l)" != 1 ] || [[ "$installed" != elexirion.elexirion@* ]]; then
  echo "vscode-e2e: expected the Elexirion extension alone, got: $installed" >&2
  exit 1
fi
bundled=$(ls -d "$run"/extensions/elexirion.elexirion-*/server/elexirion 2>/dev/null | head -n 1)
[ -x "$bundled" ] || { echo "vscode-e2e: the installed extension has no executable server/elexirion" >&2; exit 1; }

# ---------------------------------------------------------------- code-server
phase "code-server started"
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
# Its own process group (setsid), so the trap ends it and every child it started.
# Only the loopback model: no real key or provider URL reaches the server.
setsid env -u ANTHROPIC_API_KEY -u GEMINI_API_KEY -u ANTHROPIC_BASE_URL -u GEMINI_BASE_URL -u OPENAI_BASE_URL \
  PATH="$clean_path" OPENAI_API_KEY=e2e-placeholder-not-a-key \
  "$cs" --bind-addr "127.0.0.1:$port" --auth none --disable-telemetry --disable-update-check \
  --disable-workspace-trust \
  --user-data-dir "$run/user" --extensions-dir "$run/extensions" "$ws" > "$run/code-server.log" 2>&1 9>&- &
cs_pid=$!
stop_code_server() {
  kill -TERM -- "-$cs_pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 -- "-$cs_pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$cs_pid" 2>/dev/null || true
}
trap stop_code_server EXIT
for _ in $(seq 120); do
  if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; then break; fi
  kill -0 "$cs_pid" 2>/dev/null || { cat "$run/code-server.log" >&2; echo "vscode-e2e: code-server exited" >&2; exit 1; }
  sleep 0.5
done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$run/code-server.log" >&2; echo "vscode-e2e: code-server did not answer on 127.0.0.1:$port" >&2; exit 1; }

# ---------------------------------------------------------------- the driver
phase "browser steps (drive.mjs)"
rc=0
E2E_URL="http://127.0.0.1:$port" E2E_WORKSPACE="$ws" E2E_ARTIFACTS="$artifacts" E2E_DEPS="$deps" \
  node "$here/drive.mjs" || rc=$?

phase ""
stop_code_server
cp "$run/code-server.log" "$artifacts/code-server.log"
output_log=$(ls -t "$run"/user/logs/*/exthost*/output_logging_*/*Elexirion.log 2>/dev/null | head -n 1 || true)
[ -z "$output_log" ] || cp "$output_log" "$artifacts/elexirion-output.log"
# The extension says which server it started: it must be the bundled one.
if [ "$rc" = 0 ] && ! grep -qF "Using the elexirion server bundled with the extension: $run/extensions/" "$artifacts/elexirion-output.log" 2>/dev/null; then
  echo "vscode-e2e: the Elexirion output does not say it ran the bundled server:" >&2
  head -n 3 "$artifacts/elexirion-output.log" >&2 2>/dev/null || echo "  (no Elexirion output log)" >&2
  rc=1
fi
echo "vscode-e2e: artifacts in ${artifacts#"$root/"}:"
ls "$artifacts" | sed 's/^/  /'
if [ "$rc" != 0 ]; then
  echo "vscode-e2e: FAILED (see ${artifacts#"$root/"}/99-failure.png and the log above) after $(($(date +%s) - started)) s" >&2
  exit "$rc"
fi
echo "vscode-e2e: passed in $(($(date +%s) - started)) s"
