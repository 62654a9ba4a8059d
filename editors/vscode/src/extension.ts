// The Elexirion extension: starts `elexirion serve` for Elixir and pipeline
// YAML, passes settings and API keys, and adds the palette commands.

import * as fs from "fs";
import * as vscode from "vscode";
import {
  CloseAction,
  CloseHandlerResult,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
} from "vscode-languageclient/node";

import { DOCUMENT_SELECTOR } from "./documents";
import { pipelineOf, runMessage } from "./outcome";
import { formatPrompt, OptimizedPrompt, StepRef, stepAtLine } from "./prompt";
import { nextRestartDelay } from "./restart";
import { bundledServerPath, describeResolution, resolveServer } from "./server";
import { KEY_VARIABLES, serverEnvironment, serverSettings } from "./settings";
import { runToJudge, verdictArgument, verdictMessage, verdictQuestion } from "./verdict";

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;
const crashes: number[] = [];

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A bundled binary that lost its executable bit on the way (an unzip that drops modes) gets it back. */
function makeBundledExecutable(context: vscode.ExtensionContext): void {
  if (process.platform === "win32") {
    return;
  }
  const bundled = context.asAbsolutePath(bundledServerPath(process.platform));
  try {
    if (fs.statSync(bundled).isFile() && !isExecutable(bundled)) {
      fs.chmodSync(bundled, 0o755);
    }
  } catch {
    // No bundled binary (the universal package), or it cannot be changed: resolveServer goes on to PATH.
  }
}

/** Settings the user set (any scope), `undefined` for the rest. */
function userSetting(key: string): unknown {
  const inspected = vscode.workspace.getConfiguration("elexirion").inspect(key);
  return inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? inspected?.globalValue;
}

async function apiKeys(context: vscode.ExtensionContext): Promise<Record<string, string | undefined>> {
  const keys: Record<string, string | undefined> = {};
  for (const variable of KEY_VARIABLES) {
    keys[variable] = await context.secrets.get(variable);
  }
  return keys;
}

/** Show what became of a pipeline run (the runPipeline command's result). */
function showRunResult(args: unknown[] | undefined, result: unknown): void {
  const shown = runMessage(pipelineOf(args), result);
  if (shown?.severity === "error") {
    void vscode.window.showErrorMessage(shown.text);
  } else if (shown) {
    void vscode.window.showInformationMessage(shown.text);
  }
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const configuration = vscode.workspace.getConfiguration("elexirion");
  makeBundledExecutable(context);
  const resolved = resolveServer(configuration.get<string>("server.path"), {
    pathVariable: process.env.PATH,
    platform: process.platform,
    isExecutable,
    asAbsolutePath: (relative) => context.asAbsolutePath(relative),
  });
  if ("error" in resolved) {
    output.appendLine(resolved.error);
    const choice = await vscode.window.showErrorMessage(resolved.error, "Open settings");
    if (choice) {
      await vscode.commands.executeCommand("workbench.action.openSettings", "elexirion.server.path");
    }
    return;
  }
  output.appendLine(describeResolution(resolved));
  const env = serverEnvironment(process.env, await apiKeys(context), configuration.get<string>("log.level") ?? "info");
  const serverOptions: ServerOptions = { command: resolved.command, args: ["serve"], options: { env } };
  const clientOptions: LanguageClientOptions = {
    documentSelector: DOCUMENT_SELECTOR,
    outputChannel: output,
    initializationOptions: serverSettings(userSetting),
    // Runs started from a code action answer when they are over: say how they ended.
    middleware: {
      executeCommand: async (command, args, next) => {
        const result = await next(command, args);
        if (command === "elexirion.runPipeline") {
          showRunResult(args, result);
        }
        return result;
      },
    },
    errorHandler: {
      error: () => ({ action: ErrorAction.Continue }),
      closed: async (): Promise<CloseHandlerResult> => {
        crashes.push(Date.now());
        const delay = nextRestartDelay(crashes, Date.now());
        if (delay === undefined) {
          return { action: CloseAction.DoNotRestart, message: "The Elexirion server crashed repeatedly; run \"Elexirion: Restart server\" after fixing the cause (see its output)." };
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
        return { action: CloseAction.Restart, handled: true };
      },
    },
  };
  client = new LanguageClient("elexirion", "Elexirion", serverOptions, clientOptions);
  await client.start();
}

async function restart(context: vscode.ExtensionContext): Promise<void> {
  if (client) {
    await client.stop();
    client = undefined;
  }
  crashes.length = 0;
  await start(context);
}

/** Pick one of the pipelines the server offers here, and run it. */
async function runPipeline(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !client) {
    void vscode.window.showWarningMessage("Open an Elixir file with the Elexirion server running first.");
    return;
  }
  const actions = await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
    "vscode.executeCodeActionProvider",
    editor.document.uri,
    editor.selection,
  );
  const pipelines = (actions ?? [])
    .map((action) => ("command" in action && typeof action.command === "object" ? action.command : undefined))
    .filter((command): command is vscode.Command => command?.command === "elexirion.runPipeline");
  if (pipelines.length === 0) {
    void vscode.window.showInformationMessage("No Elexirion pipeline applies here.");
    return;
  }
  const picked = await vscode.window.showQuickPick(
    pipelines.map((command) => ({ label: command.title, command })),
    { placeHolder: "Run a pipeline" },
  );
  if (!picked) {
    return;
  }
  // The answer comes when the run is over; an edit is reviewed in the
  // Refactor Preview meanwhile, and declining it is not an error.
  try {
    const result: unknown = await client.sendRequest(ExecuteCommandRequest.type, { command: picked.command.command, arguments: picked.command.arguments });
    showRunResult(picked.command.arguments, result);
  } catch (error) {
    void vscode.window.showErrorMessage(`Elexirion: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The step under the cursor of a pipeline file, else asked for. */
async function chooseStep(): Promise<StepRef | undefined> {
  const editor = vscode.window.activeTextEditor;
  const found = editor ? stepAtLine(editor.document.getText().split(/\r?\n/), editor.selection.active.line) : {};
  const pipeline = found.pipeline && found.step ? found.pipeline : await vscode.window.showInputBox({ prompt: "Pipeline (its workflow name)", value: found.pipeline });
  if (!pipeline) {
    return undefined;
  }
  const step = found.pipeline && found.step ? found.step : await vscode.window.showInputBox({ prompt: `Step of ${pipeline}` });
  return step ? { pipeline, step } : undefined;
}

async function showOptimizedPrompt(): Promise<void> {
  if (!client) {
    void vscode.window.showWarningMessage("The Elexirion server is not running.");
    return;
  }
  const ref = await chooseStep();
  if (!ref) {
    return;
  }
  try {
    const answer = await client.sendRequest<OptimizedPrompt | null>("elexirion/optimizedPrompt", ref);
    const document = await vscode.workspace.openTextDocument({ language: "markdown", content: formatPrompt(ref, answer) });
    await vscode.window.showTextDocument(document, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  } catch (error) {
    void vscode.window.showErrorMessage(`Elexirion: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Tell the store how the last AI edit of this file turned out: the run that edited it, by its id. */
async function judgeLastEdit(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !client) {
    return;
  }
  const uri = editor.document.uri.toString();
  try {
    const last = runToJudge(await client.sendRequest(ExecuteCommandRequest.type, { command: "elexirion.lastAiEdit", arguments: [{ uri }] }));
    if ("none" in last) {
      void vscode.window.showInformationMessage(last.none);
      return;
    }
    const picked = await vscode.window.showQuickPick(
      [
        { label: "accepted" as const, description: "The edit was right as it was." },
        { label: "edited" as const, description: "Right after my changes: keep this file's text as the final result." },
        { label: "rejected" as const, description: "The edit was wrong." },
      ],
      { placeHolder: verdictQuestion(last.run) },
    );
    if (!picked) {
      return;
    }
    const argument = verdictArgument(last.run, uri, picked.label, editor.document.getText());
    const result = await client.sendRequest(ExecuteCommandRequest.type, { command: "elexirion.recordVerdict", arguments: [argument] });
    void vscode.window.showInformationMessage(verdictMessage(result));
  } catch (error) {
    void vscode.window.showErrorMessage(`Elexirion: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function setApiKey(context: vscode.ExtensionContext): Promise<void> {
  const variable = await vscode.window.showQuickPick(KEY_VARIABLES, { placeHolder: "Which provider's key?" });
  if (!variable) {
    return;
  }
  const value = await vscode.window.showInputBox({ prompt: `${variable} (kept in VS Code's secret storage)`, password: true, ignoreFocusOut: true });
  if (value === undefined) {
    return;
  }
  if (value === "") {
    await context.secrets.delete(variable);
  } else {
    await context.secrets.store(variable, value);
  }
  await restart(context);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("Elexirion");
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand("elexirion.runPipelineOnFile", runPipeline),
    vscode.commands.registerCommand("elexirion.restartServer", () => restart(context)),
    vscode.commands.registerCommand("elexirion.showOutput", () => output.show()),
    vscode.commands.registerCommand("elexirion.setApiKey", () => setApiKey(context)),
    vscode.commands.registerCommand("elexirion.showOptimizedPrompt", showOptimizedPrompt),
    vscode.commands.registerCommand("elexirion.judgeLastEdit", judgeLastEdit),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!event.affectsConfiguration("elexirion")) {
        return;
      }
      if (event.affectsConfiguration("elexirion.server.path") || event.affectsConfiguration("elexirion.log.level")) {
        await restart(context);
      } else if (client) {
        await client.sendNotification("workspace/didChangeConfiguration", { settings: { elexirion: serverSettings(userSetting) } });
      }
    }),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
