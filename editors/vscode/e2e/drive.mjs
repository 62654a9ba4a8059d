// Drives real VS Code (code-server, started by run.sh) in headless Chromium
// through playwright-core, as a user would: keys, clicks, and what the
// workbench shows. Each step waits for what it must see, saves a numbered
// screenshot, and fails with what was on screen instead.
//
// Environment (run.sh sets it): E2E_URL (code-server), E2E_WORKSPACE (the
// folder it opens), E2E_ARTIFACTS (screenshots and dumps), E2E_DEPS (where
// playwright-core is installed), CHROMIUM (default /usr/bin/chromium).
//
// Plays the model too: an OpenAI-compatible chat completions server on
// 127.0.0.1 (random port), which elexirion.toml in the workspace points the
// `claude*` steps at.

import * as fs from "node:fs";
import * as http from "node:http";
import { createRequire } from "node:module";
import * as path from "node:path";

const { chromium } = createRequire(path.join(process.env.E2E_DEPS, "package.json"))("playwright-core");

const url = process.env.E2E_URL;
const workspace = process.env.E2E_WORKSPACE;
const artifacts = process.env.E2E_ARTIFACTS;
const started = Date.now();
const log = (...parts) => console.log(`drive [${((Date.now() - started) / 1000).toFixed(1)} s]`, ...parts);
const fail = (message) => {
  throw new Error(message);
};

// ---------------------------------------------------------------- the model

/** The worker as the model fixes it: `@impl true` above every callback clause group without one. */
function addImpl(code) {
  const lines = code.split("\n");
  const out = [];
  let previous = "";
  const done = new Set();
  for (const line of lines) {
    const callback = /^(\s*)def (init|handle_call|handle_cast|handle_info|handle_continue|terminate|code_change)\b/.exec(line);
    if (callback && previous.trim() !== "@impl true" && !done.has(callback[2])) {
      out.push(`${callback[1]}@impl true`);
    }
    if (callback) {
      done.add(callback[2]);
    }
    out.push(line);
    if (line.trim() !== "") {
      previous = line;
    }
  }
  return out.join("\n");
}

const requests = [];

/** What the model says to a prompt (the last user message) of the fix pipeline. */
function answer(prompt) {
  if (prompt.includes("List the OTP and process anti-patterns")) {
    return JSON.stringify({
      issues: [{ problem: "GenServer callbacks without @impl true", where: "init/1, handle_call/3, handle_cast/2", fix: "add @impl true above each callback" }],
    });
  }
  if (prompt.includes("Rewrite the Elixir code")) {
    // The code is the prompt's last ```elixir block: the buffer as it is now
    // (the template puts a blank line after it, which a model would not echo).
    const blocks = [...prompt.matchAll(/```elixir\n([\s\S]*?)```/g)];
    const code = blocks.at(-1)?.[1];
    if (!code) {
      return "no code in the prompt";
    }
    return "```elixir\n" + addImpl(code.trimEnd() + "\n") + "```\n";
  }
  return `no scripted answer for: ${prompt.slice(0, 80)}`;
}

function startModel() {
  const server = http.createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const recorded = { method: request.method, path: request.url, authorization: request.headers.authorization ?? null, body: null };
      requests.push(recorded);
      try {
        recorded.body = JSON.parse(body);
      } catch {
        recorded.body = body;
      }
      if (request.method !== "POST" || request.url !== "/v1/chat/completions" || typeof recorded.body !== "object") {
        response.writeHead(404, { "content-type": "application/json" });
        response.end(JSON.stringify({ error: { message: `not served: ${request.method} ${request.url}` } }));
        return;
      }
      const messages = recorded.body.messages ?? [];
      const content = answer(String(messages.at(-1)?.content ?? ""));
      recorded.answer = content;
      const usage = { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 };
      const model = recorded.body.model ?? "e2e";
      if (recorded.body.stream) {
        response.writeHead(200, { "content-type": "text/event-stream" });
        const event = (data) => response.write(`data: ${JSON.stringify(data)}\n\n`);
        event({ id: "e2e", object: "chat.completion.chunk", model, choices: [{ index: 0, delta: { role: "assistant", content }, finish_reason: null }] });
        event({ id: "e2e", object: "chat.completion.chunk", model, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });
        event({ id: "e2e", object: "chat.completion.chunk", model, choices: [], usage });
        response.end("data: [DONE]\n\n");
      } else {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(
          JSON.stringify({ id: "e2e", object: "chat.completion", model, choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }], usage }),
        );
      }
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

// ---------------------------------------------------------------- the page

let page;
let shotNumber = 0;

async function shot(name) {
  shotNumber += 1;
  const file = path.join(artifacts, `${String(shotNumber).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file });
  log("screenshot", path.basename(file));
}

function dump(name, text) {
  fs.writeFileSync(path.join(artifacts, name), text.endsWith("\n") ? text : `${text}\n`);
}

/** What the workbench shows now, for failure messages. */
async function seen() {
  return page
    .evaluate(() => {
      const text = (selector) => [...document.querySelectorAll(selector)].filter((e) => e.getClientRects().length > 0).map((e) => e.innerText.replace(/\s+/g, " ").trim()).filter((t) => t !== "").join(" | ");
      return [
        `tabs: ${text(".tabs-container .tab")}`,
        `status bar: ${text(".statusbar-item")}`,
        `notifications: ${text(".notification-toast")}`,
        `problems: ${text(".markers-panel .monaco-list-row")}`,
        `menus: ${text(".action-widget .monaco-list-row, .suggest-widget.visible .monaco-list-row, .quick-input-widget .monaco-list-row")}`,
      ].join("\n  ");
    })
    .catch((error) => `(the page could not be read: ${error.message})`);
}

/** Wait until `predicate(arg)` holds in the page; on timeout, say what was seen. */
async function until(what, predicate, arg, timeout = 30000) {
  try {
    return await page.waitForFunction(predicate, arg, { timeout, polling: 100 });
  } catch (error) {
    fail(`timed out after ${timeout / 1000} s waiting for ${what}\n  ${await seen()}`);
  }
}

/** Functions used inside the page (added to window once per load). */
function pageHelpers() {
  const visible = (element) => !!element && element.getClientRects().length > 0 && getComputedStyle(element).visibility !== "hidden";
  /** An editor's text, lines in order (Monaco positions them absolutely and writes spaces as U+00A0). */
  const editorText = (editor) => {
    if (!editor) return null;
    const lines = [...editor.querySelectorAll(".view-lines .view-line")].sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
    return lines.map((line) => line.textContent.replace(/\u00a0/g, " ")).join("\n");
  };
  window.e2e = {
    visible,
    editorText,
    /** The text of the active editor group's text editor. */
    activeText: () => {
      const editors = [...document.querySelectorAll(".part.editor .editor-group-container.active .editor-instance .monaco-editor")].filter(visible);
      return editorText(editors.find((e) => !e.closest(".monaco-diff-editor")) ?? null);
    },
    problems: () => [...document.querySelectorAll(".markers-panel .monaco-list-row")].map((row) => row.innerText.replace(/\u00a0/g, " ")),
    statusMode: () => document.querySelector('[id="status.editor.mode"]')?.innerText.trim() ?? "",
  };
}

async function openFile(name) {
  await page.keyboard.press("Control+P");
  await until("the Quick Open box", () => window.e2e.visible(document.querySelector(".quick-input-widget input")));
  await page.keyboard.type(name);
  await until(`${name} chosen in Quick Open`, (n) => (document.querySelector(".quick-input-list .monaco-list-row.focused")?.getAttribute("aria-label") ?? "").includes(n), name);
  await page.keyboard.press("Enter");
  await until(`the ${name} tab to be active`, (n) => document.querySelector(".tabs-container .tab.active")?.getAttribute("data-resource-name") === n, name);
  await until(`the text of ${name}`, () => (window.e2e.activeText() ?? "").trim() !== "");
}

async function goTo(line, column) {
  await page.keyboard.press("Control+G");
  await until("the Go to Line box", () => window.e2e.visible(document.querySelector(".quick-input-widget input")));
  await page.keyboard.type(`${line}:${column}`);
  await page.keyboard.press("Enter");
  await until("Go to Line to close", () => !window.e2e.visible(document.querySelector(".quick-input-widget")));
  await until(`the cursor at Ln ${line}, Col ${column}`, (want) => [...document.querySelectorAll(".statusbar-item")].some((e) => e.innerText.includes(want)), `Ln ${line}, Col ${column}`);
}

/** Open the Ctrl+. menu; its rows' text. */
async function codeActions(mustHave) {
  await page.keyboard.press("Control+.");
  await until(`"${mustHave}" in the Ctrl+. menu`, (t) => [...document.querySelectorAll(".action-widget .monaco-list-row")].some((r) => r.innerText.includes(t)), mustHave);
  return page.evaluate(() => [...document.querySelectorAll(".action-widget .monaco-list-row")].map((r) => r.innerText.replace(/\s+/g, " ").trim()));
}

/** Choose the Ctrl+. menu's row `title` with the keyboard (a pointer block covers the menu from clicks). */
async function chooseAction(title) {
  const focused = () => page.evaluate(() => document.querySelector(".action-widget .monaco-list-row.focused")?.getAttribute("aria-label") ?? "");
  for (let i = 0; i < 20 && (await focused()) !== title; i++) {
    await page.keyboard.press("ArrowDown");
  }
  if ((await focused()) !== title) {
    fail(`could not reach "${title}" in the Ctrl+. menu\n  ${await seen()}`);
  }
  await page.keyboard.press("Enter");
}

async function exr011() {
  return page.evaluate(() => window.e2e.problems().filter((p) => p.includes("EXR011")));
}

// ---------------------------------------------------------------- the steps

async function main() {
  const worker = fs.readFileSync(path.join(workspace, "lib/worker.ex"), "utf8");
  const lineOf = (text, needle) => text.split("\n").findIndex((l) => l.includes(needle)) + 1;
  const model = await startModel();
  const modelUrl = `http://127.0.0.1:${model.address().port}/v1`;
  fs.writeFileSync(
    path.join(workspace, "elexirion.toml"),
    `# The loopback model of the end-to-end test (drive.mjs).\n[providers]\nclaude = ["openai"]\ngemini = ["openai"]\nmax-retries = 0\ntimeout-seconds = 60\n[providers.models]\nopenai = "e2e-loopback"\n[providers.base-urls]\nopenai = "${modelUrl}"\n`,
  );
  log("loopback model at", modelUrl);

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    page = await context.newPage();
    await page.addInitScript(pageHelpers);
    page.on("pageerror", (error) => log("page error:", error.message));
    try {
      await steps(worker, lineOf);
    } catch (error) {
      await page.screenshot({ path: path.join(artifacts, "99-failure.png") }).catch(() => {});
      dump("99-failure.txt", `${error.stack ?? error}\n\n  ${await seen()}\n`);
      throw error;
    } finally {
      dump("model-requests.json", JSON.stringify(requests, null, 2));
    }
  } finally {
    await browser.close().catch(() => {});
    model.close();
  }
}

async function steps(worker, lineOf) {
  // 1. The workbench opens the workspace folder.
  await page.goto(`${url}/?folder=${encodeURIComponent(workspace)}`, { waitUntil: "domcontentloaded" });
  await until("the workbench", () => !!document.querySelector(".monaco-workbench"), null, 90000);
  await until(
    "lib/ and pipelines/ in the Explorer",
    () => {
      const rows = [...document.querySelectorAll(".explorer-folders-view .monaco-list-row")].map((r) => r.innerText.trim());
      return rows.includes("lib") && rows.includes("pipelines");
    },
    null,
    60000,
  );
  const folder = path.basename(workspace);
  const explorer = await page.evaluate(() => document.querySelector(".explorer-viewlet")?.innerText ?? "");
  if (!explorer.toLowerCase().includes(folder.toLowerCase())) {
    fail(`the Explorer does not show the folder ${folder}: ${explorer}`);
  }
  log("1. the workbench shows the workspace");
  await shot("workbench");

  // 2. An Elixir file: language mode Elixir (the extension's own), elexirion's diagnostics.
  await page.click(".part.editor");
  await openFile("worker.ex");
  await until('the language mode "Elixir"', () => window.e2e.statusMode() === "Elixir", null, 15000);
  await page.keyboard.press("Control+Shift+M");
  await until(
    "three EXR011 problems (init/1, handle_call/3, handle_cast/2)",
    () => {
      const found = window.e2e.problems().filter((p) => p.includes("EXR011"));
      return found.length === 3 && ["init/1", "handle_call/3", "handle_cast/2"].every((f) => found.some((p) => p.includes(f)));
    },
    null,
    60000,
  );
  dump("problems.txt", (await page.evaluate(() => window.e2e.problems())).join("\n"));
  log("2. Elixir mode; problems:", (await exr011()).map((p) => p.replace(/\s+/g, " ")).join(" / "));
  await shot("elixir-diagnostics");

  // 3. The quick fix on init/1: `@impl true` added, one EXR011 fewer.
  const initLine = lineOf(worker, "def init(");
  await page.click(".part.editor .editor-group-container.active .monaco-editor .view-lines");
  await goTo(initLine, 7);
  const fixTitle = "Add `@impl true`";
  const menu = await codeActions(fixTitle);
  dump("quickfix-menu.txt", menu.join("\n"));
  await shot("quickfix-menu");
  await chooseAction(fixTitle);
  await until(
    "`@impl true` above def init",
    () => /\n  @impl true\n  def init\(/.test(window.e2e.activeText() ?? ""),
    null,
    15000,
  );
  await until(
    "two EXR011 problems left, none for init/1",
    () => {
      const found = window.e2e.problems().filter((p) => p.includes("EXR011"));
      return found.length === 2 && !found.some((p) => p.includes("init/1"));
    },
    null,
    30000,
  );
  dump("problems-after-quickfix.txt", (await page.evaluate(() => window.e2e.problems())).join("\n"));
  log("3. quick fix applied; EXR011 left:", (await exr011()).length);
  await shot("quickfix-applied");

  // 4. Completion in a pipeline file (pipelines/*.yaml): step types.
  await openFile("draft.yaml");
  await until('the language mode "YAML"', () => window.e2e.statusMode() === "YAML", null, 15000);
  const draft = await page.evaluate(() => window.e2e.activeText());
  const typeLine = lineOf(draft, "type:");
  await goTo(typeLine, draft.split("\n")[typeLine - 1].length + 1);
  await page.keyboard.press("Control+Space");
  await until("the suggestions", () => document.querySelectorAll(".suggest-widget.visible .monaco-list-row").length > 0, null, 20000);
  const labels = new Set();
  const visibleLabels = () =>
    page.evaluate(() => [...document.querySelectorAll(".suggest-widget.visible .monaco-list-row .label-name")].map((e) => e.innerText.trim()));
  for (const label of await visibleLabels()) labels.add(label);
  log("4. suggested:", [...labels].join(", "));
  if (!labels.has("claude")) {
    fail(`"claude" is not among the suggestions: ${[...labels].join(", ")}`);
  }
  await shot("pipeline-completion");
  // The list shows a dozen rows: walk it to gemini, collecting the rest.
  const target = "gemini";
  let focused = "";
  for (let i = 0; i < 80 && focused !== target; i++) {
    await page.keyboard.press("ArrowDown");
    focused = await page.evaluate(() => document.querySelector(".suggest-widget.visible .monaco-list-row.focused .label-name")?.innerText.trim() ?? "");
    for (const label of await visibleLabels()) labels.add(label);
  }
  dump("pipeline-completion.txt", [...labels].join("\n"));
  if (focused !== target) {
    fail(`"${target}" is not among the suggestions: ${[...labels].join(", ")}`);
  }
  await page.keyboard.press("Enter");
  await until(
    `"type: ${target}" in the pipeline file`,
    (want) => (window.e2e.activeText() ?? "").split("\n").some((l) => l.trimEnd() === want),
    `      type: ${target}`,
    10000,
  );
  log(`4. completed "type: ${target}"; suggested ${labels.size} items`);
  await shot("pipeline-completion-accepted");

  // 5. The AI code action, answered by the loopback model, reviewed in the Refactor Preview.
  await openFile("worker.ex");
  const before = await page.evaluate(() => window.e2e.activeText());
  await goTo(1, 1);
  const aiTitle = "Fix OTP anti-patterns (AI)";
  dump("ai-actions-menu.txt", (await codeActions(aiTitle)).join("\n"));
  await shot("ai-actions-menu");
  await chooseAction(aiTitle);
  await until("the Refactor Preview with worker.ex", () => window.e2e.visible(document.querySelector(".bulk-edit-panel")) && document.querySelector(".bulk-edit-panel").innerText.includes("worker.ex"), null, 90000);
  if (requests.length === 0) {
    fail("the Refactor Preview opened, but the loopback model got no request");
  }
  dump("refactor-preview.txt", await page.evaluate(() => document.querySelector(".bulk-edit-panel").innerText));
  // The file's change opens as a diff, before (the buffer) and after. A
  // change that needs confirmation starts unchecked: the diff shows it once
  // checked, and only checked changes are applied.
  const fileRow = page.locator(".bulk-edit-panel .monaco-list-row", { hasText: "worker.ex" });
  await fileRow.locator(".label-name").click();
  await until("the Refactor Preview diff editor", () => [...document.querySelectorAll(".part.editor .monaco-diff-editor")].some(window.e2e.visible), null, 20000);
  await fileRow.locator("input.edit-checkbox").check();
  const impls = (text) => text.split("\n").filter((l) => l.trim() === "@impl true").length;
  const sides = await until(
    "the checked change in the Refactor Preview diff (`@impl true` on all three callbacks)",
    () => {
      const diff = [...document.querySelectorAll(".part.editor .monaco-diff-editor")].find(window.e2e.visible);
      const original = window.e2e.editorText(diff?.querySelector(".editor.original .monaco-editor"));
      const modified = window.e2e.editorText(diff?.querySelector(".editor.modified .monaco-editor"));
      return original && modified && modified.split("@impl true").length - 1 === 3 ? { original, modified } : false;
    },
    null,
    20000,
  ).then((handle) => handle.jsonValue());
  dump("refactor-preview-diff.txt", `--- before\n${sides.original}\n+++ after\n${sides.modified}\n`);
  if (impls(sides.original) !== 1 || impls(sides.modified) !== 3) {
    fail(`the diff should go from 1 to 3 \`@impl true\`, it goes from ${impls(sides.original)} to ${impls(sides.modified)}:\n${sides.modified}`);
  }
  log("5. the Refactor Preview diff adds @impl true to handle_call/3 and handle_cast/2");
  await shot("refactor-preview-diff");

  await page.locator(".bulk-edit-panel .buttons .monaco-button", { hasText: "Apply" }).click();
  await until(
    'the notification that the pipeline applied its edit',
    () => [...document.querySelectorAll(".notification-toast")].some((t) => /Elexirion: fix_otp_antipatterns applied/.test(t.innerText)),
    null,
    20000,
  );
  const notice = await page.evaluate(() => [...document.querySelectorAll(".notification-toast")].map((t) => t.innerText).find((t) => t.includes("applied")));
  await openFile("worker.ex");
  await until(
    "worker.ex with @impl true above init/1, handle_call/3 and handle_cast/2",
    (expected) => window.e2e.activeText() === expected,
    addImpl(before),
    15000,
  );
  await until("no EXR011 problem left", () => !window.e2e.problems().some((p) => p.includes("EXR011")), null, 30000);
  dump("problems-after-ai-edit.txt", (await page.evaluate(() => window.e2e.problems())).join("\n"));
  const asked = requests.filter((r) => r.path === "/v1/chat/completions");
  if (asked.length < 1 || asked.some((r) => r.authorization !== "Bearer e2e-placeholder-not-a-key")) {
    fail(`the loopback model should have been asked (with the placeholder key): ${JSON.stringify(requests.map((r) => [r.method, r.path, r.authorization]))}`);
  }
  log(`5. applied after review (${asked.length} model requests); ${notice.replace(/\s+/g, " ")}`);
  await shot("ai-edit-applied");
}

main().then(
  () => {
    log("PASSED");
    process.exit(0);
  },
  (error) => {
    log("FAILED:", error.message);
    process.exit(1);
  },
);
