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
import { nextRestartDelay } from "./restart";
import { resolveServer } from "./server";
import { KEY_VARIABLES, serverEnvironment, serverSettings } from "./settings";

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

async function start(context: vscode.ExtensionContext): Promise<void> {
  const configuration = vscode.workspace.getConfiguration("elexirion");
  const resolved = resolveServer(configuration.get<string>("server.path"), {
    pathVariable: process.env.PATH,
    platform: process.platform,
    isExecutable,
  });
  if ("error" in resolved) {
    const choice = await vscode.window.showErrorMessage(resolved.error, "Open settings");
    if (choice) {
      await vscode.commands.executeCommand("workbench.action.openSettings", "elexirion.server.path");
    }
    return;
  }
  const env = serverEnvironment(process.env, await apiKeys(context), configuration.get<string>("log.level") ?? "info");
  const serverOptions: ServerOptions = { command: resolved.command, args: ["serve"], options: { env } };
  const clientOptions: LanguageClientOptions = {
    documentSelector: DOCUMENT_SELECTOR,
    outputChannel: output,
    initializationOptions: serverSettings(userSetting),
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
  if (picked) {
    await client.sendRequest(ExecuteCommandRequest.type, { command: picked.command.command, arguments: picked.command.arguments });
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
