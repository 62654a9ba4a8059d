// The parts of the extension that need no VS Code: node's test runner.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";

import { isPipelinePath } from "../documents";
import { pipelineOf, runMessage } from "../outcome";
import { formatPrompt, stepAtLine } from "../prompt";
import { MAX_CRASHES, nextRestartDelay, WINDOW_MS } from "../restart";
import { bundledServerPath, describeResolution, resolveServer } from "../server";
import { CLIENT_ONLY, MAPPING, serverEnvironment, serverSettings } from "../settings";
import { runToJudge, verdictArgument, verdictMessage, verdictQuestion } from "../verdict";

const EXTENSION = "/home/me/.vscode/extensions/elexirion.elexirion-0.1.0-linux-x64";

/** An environment on Linux; `extension: null` for one without asAbsolutePath. */
const env = (executables: string[], extension: string | null = EXTENSION) => ({
  pathVariable: "/usr/bin:/opt/elexirion/bin",
  platform: "linux" as NodeJS.Platform,
  isExecutable: (file: string) => executables.includes(file),
  asAbsolutePath: extension === null ? undefined : (relative: string) => path.posix.join(extension, relative),
});

test("the configured path wins over the bundled binary and PATH when it is executable", () => {
  const all = ["/home/me/elexirion", `${EXTENSION}/server/elexirion`, "/usr/bin/elexirion"];
  assert.deepEqual(resolveServer("/home/me/elexirion", env(all)), { command: "/home/me/elexirion", source: "setting" });
  const missing = resolveServer("/nowhere/elexirion", env(all));
  assert.ok("error" in missing && missing.error.includes("/nowhere/elexirion"), "a wrong setting is reported, not replaced");
});

test("with no setting, the binary bundled in the extension comes before PATH", () => {
  const all = [`${EXTENSION}/server/elexirion`, "/usr/bin/elexirion"];
  assert.deepEqual(resolveServer("", env(all)), { command: `${EXTENSION}/server/elexirion`, source: "bundled" });
  assert.deepEqual(resolveServer(undefined, env(all)), { command: `${EXTENSION}/server/elexirion`, source: "bundled" });
  assert.deepEqual(resolveServer("  ", env(all)), { command: `${EXTENSION}/server/elexirion`, source: "bundled" });
});

test("otherwise the first elexirion on PATH, else a message saying what to do", () => {
  assert.deepEqual(resolveServer("", env(["/opt/elexirion/bin/elexirion"])), { command: "/opt/elexirion/bin/elexirion", source: "path" });
  assert.deepEqual(resolveServer("", env(["/opt/elexirion/bin/elexirion"], null)), { command: "/opt/elexirion/bin/elexirion", source: "path" });
  const none = resolveServer(undefined, env([]));
  assert.ok("error" in none && none.error.includes("cargo install --path server") && none.error.includes("elexirion.server.path"));
});

test("on Windows the binary is elexirion.exe, bundled and on PATH", () => {
  assert.equal(bundledServerPath("win32"), "server/elexirion.exe");
  assert.equal(bundledServerPath("linux"), "server/elexirion");
  assert.equal(bundledServerPath("darwin"), "server/elexirion");
  const extension = "C:\\Users\\me\\.vscode\\extensions\\elexirion-win32-x64";
  const windows = (executables: (f: string) => boolean) => ({
    pathVariable: "C:\\tools;C:\\bin",
    platform: "win32" as NodeJS.Platform,
    isExecutable: executables,
    asAbsolutePath: (relative: string) => path.win32.join(extension, relative),
  });
  assert.deepEqual(resolveServer("", windows((f) => f.endsWith("elexirion.exe"))), { command: `${extension}\\server\\elexirion.exe`, source: "bundled" });
  const onPath = resolveServer("", windows((f) => f.startsWith("C:\\tools") && f.endsWith("elexirion.exe")));
  assert.ok("command" in onPath && onPath.source === "path" && onPath.command.endsWith("elexirion.exe"));
  const noExe = resolveServer("", windows((f) => !f.endsWith(".exe")));
  assert.ok("error" in noExe, "on Windows only elexirion.exe is a server");
});

test("the output channel says which server is used and where it is", () => {
  assert.equal(describeResolution({ command: "/x/server/elexirion", source: "bundled" }), "Using the elexirion server bundled with the extension: /x/server/elexirion");
  assert.match(describeResolution({ command: "/home/me/elexirion", source: "setting" }), /elexirion\.server\.path: \/home\/me\/elexirion$/);
  assert.match(describeResolution({ command: "/usr/bin/elexirion", source: "path" }), /PATH: \/usr\/bin\/elexirion$/);
});

test("only settings the user set are sent, under the server's names", () => {
  const set: Record<string, unknown> = { "rules.disable": ["missing-impl"], "providers.baseUrls": { openai: "http://localhost:11434/v1" }, "providers.maxRetries": 0 };
  assert.deepEqual(serverSettings((key) => set[key]), {
    rules: { disable: ["missing-impl"] },
    providers: { "base-urls": { openai: "http://localhost:11434/v1" }, "max-retries": 0 },
  });
  assert.deepEqual(serverSettings(() => undefined), {});
});

test("every contributed setting is either sent to the server or read by the extension", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, "../../package.json"), "utf8"));
  const contributed = Object.keys(manifest.contributes.configuration.properties).map((k) => k.replace(/^elexirion\./, ""));
  const handled = [...Object.keys(MAPPING), ...CLIENT_ONLY].sort();
  assert.deepEqual(contributed.sort(), handled);
});

test("API keys from secret storage and the log level reach the server's environment", () => {
  const result = serverEnvironment({ PATH: "/usr/bin", OPENAI_API_KEY: "from-shell" }, { ANTHROPIC_API_KEY: "sk-secret", GEMINI_API_KEY: undefined }, "debug");
  assert.equal(result.ANTHROPIC_API_KEY, "sk-secret");
  assert.equal(result.OPENAI_API_KEY, "from-shell");
  assert.equal(result.GEMINI_API_KEY, undefined);
  assert.equal(result.ELEXIRION_LOG, "debug");
});

test("restarts slow down and stop after too many crashes", () => {
  const now = 1_000_000;
  assert.equal(nextRestartDelay([now], now), 500);
  assert.equal(nextRestartDelay([now - 3000, now - 2000, now], now), 2000);
  assert.equal(nextRestartDelay(Array(MAX_CRASHES).fill(now), now), undefined);
  assert.equal(nextRestartDelay(Array(MAX_CRASHES).fill(now - WINDOW_MS - 1), now), 500, "old crashes are forgotten");
});

test("only pipeline YAML is sent to the server", () => {
  assert.ok(isPipelinePath("/w/pipelines/fix.yaml"));
  assert.ok(isPipelinePath("C:\\w\\pipelines\\fix.yml"));
  assert.ok(isPipelinePath("/w/review.pipeline.yaml"));
  assert.ok(!isPipelinePath("/w/.github/workflows/ci.yml"));
  assert.ok(!isPipelinePath("/w/pipelines/notes/readme.md"));
});

test("the step under the cursor of a pipeline file, and its pipeline", () => {
  const lines = ["workflow:", "  name: fix_otp", "  steps:", "    - name: diagnose", "      type: claude", "    - name: \"rewrite\"", "      prompt:"];
  assert.deepEqual(stepAtLine(lines, 4), { pipeline: "fix_otp", step: "diagnose" });
  assert.deepEqual(stepAtLine(lines, 6), { pipeline: "fix_otp", step: "rewrite" });
  assert.deepEqual(stepAtLine(lines, 1), { pipeline: "fix_otp", step: undefined });
});

test("an optimized prompt is shown with its record; none is said plainly", () => {
  const ref = { pipeline: "fix", step: "rewrite" };
  const shown = formatPrompt(ref, {
    version: 4,
    source: "learned",
    demos: 2,
    notes: "2 of 5 accepted examples as demos",
    record: { runs: 7, accepted: 3, edited: 1, rejected: 2, mean_latency_ms: 812.4 },
    prompt: "--- system ---\nYour input fields are:\n```elixir\n```",
  });
  assert.ok(shown.startsWith("# fix / rewrite: version 4 (learned)"), shown);
  assert.ok(shown.includes("2 demos · 7 runs · 4 accepted · 2 rejected · mean latency 812 ms"), shown);
  assert.equal(shown.match(/^```/gm)?.length, 2, "fences inside the prompt cannot close the block");
  assert.ok(formatPrompt(ref, null).includes("no optimized prompt"));
});

test("execution mode and store path are sent to the server", () => {
  const given: Record<string, unknown> = { "store.mode": "hybrid", "store.path": "var/store.db" };
  assert.deepEqual(serverSettings((key) => given[key]), { store: { mode: "hybrid", path: "var/store.db" } });
});

test("a run's result becomes a message: information when it went as the user chose, an error when it could not", () => {
  const fix = pipelineOf([{ pipeline: "fix_otp_antipatterns", uri: "file:///w/lib/a.ex" }]);
  assert.deepEqual(runMessage(fix, { runId: "r1", outcome: "applied", message: "fixes 1 warning (EXR005), adds 0", notes: [] }), {
    severity: "information",
    text: "Elexirion: fix_otp_antipatterns applied: fixes 1 warning (EXR005), adds 0",
  });
  assert.deepEqual(runMessage(fix, { runId: "r2", outcome: "declined" }), { severity: "information", text: "Elexirion: fix_otp_antipatterns declined; nothing changed" });
  assert.deepEqual(runMessage("otp_review", { outcome: "findings", count: 2, message: "2 findings" }), { severity: "information", text: "Elexirion: otp_review 2 findings, shown as diagnostics" });
  assert.deepEqual(runMessage("explain_module", { outcome: "shown", uri: "file:///w/.elexirion/explanations/lib_a.ex.md" }), {
    severity: "information",
    text: "Elexirion: explain_module opened: /w/.elexirion/explanations/lib_a.ex.md",
  });
  assert.deepEqual(runMessage(fix, { outcome: "refused", message: "the file changed while the pipeline ran" }), {
    severity: "error",
    text: "Elexirion: fix_otp_antipatterns not applied: the file changed while the pipeline ran",
  });
  assert.deepEqual(runMessage(fix, { outcome: "failed", message: "openai: 500" }), { severity: "error", text: "Elexirion: fix_otp_antipatterns failed: openai: 500" });
});

test("a run's notes follow its message; a cancelled run or an unknown answer shows nothing", () => {
  const applied = runMessage("fix_otp_antipatterns", { outcome: "applied", message: null, notes: ["add a supervisor", "test the timeout"] });
  assert.equal(applied?.text, "Elexirion: fix_otp_antipatterns applied\nThe answer also suggests:\n- add a supervisor\n- test the timeout");
  assert.equal(runMessage("fix_otp_antipatterns", { outcome: "cancelled" }), undefined);
  assert.equal(runMessage("fix_otp_antipatterns", { outcome: "toString" }), undefined);
  assert.equal(runMessage("fix_otp_antipatterns", null), undefined);
  assert.equal(pipelineOf([]), undefined);
});

test("judging the last AI edit names the run that edited this document, by its id", () => {
  const answer = { runId: "18f-ab", pipeline: "generate_tests", step: "write", verdict: "accepted", file: "test/app/worker_test.exs" };
  const last = runToJudge(answer);
  assert.ok("run" in last);
  assert.equal(verdictQuestion(last.run), "How did the generate_tests edit of test/app/worker_test.exs turn out? Run 18f-ab (step write), now accepted");
  const uri = "file:///w/test/app/worker_test.exs";
  assert.deepEqual(verdictArgument(last.run, uri, "rejected", "ignored"), { invocation: "18f-ab", uri, verdict: "rejected" });
  assert.deepEqual(verdictArgument(last.run, uri, "edited", "the test file"), { invocation: "18f-ab", uri, verdict: "edited", finalText: "the test file" });
  assert.equal(verdictMessage({ message: "run 18f-ab of generate_tests (…): write: accepted → edited" }), "Elexirion: run 18f-ab of generate_tests (…): write: accepted → edited");
});

test("a document no AI edit changed is said to have none, nothing is guessed", () => {
  const message = "no AI edit was applied to lib/app/worker.ex in this session, so there is nothing of it to judge; the generate_tests run from it edited test/app/worker_test.exs: judge it from there";
  assert.deepEqual(runToJudge({ runId: null, message }), { none: `Elexirion: ${message}` });
  const fallback = runToJudge(null);
  assert.ok("none" in fallback && fallback.none.includes("no AI edit was applied to this file"));
});
